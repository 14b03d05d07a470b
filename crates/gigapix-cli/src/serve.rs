//! `gigapix serve DIR_OR_ZIP [--port N] [--host H] [--log FILE]`: serves a
//! deep-zoom pyramid (a directory, a `.zip`/`.szi`, or a descriptor file
//! whose directory is served) and its viewer page over HTTP/1.1.
//!
//! A small server of our own on std's `TcpListener`, one thread per
//! connection (at most [`MAX_CONNECTIONS`]; more get a 503): a local tile
//! server needs GET and HEAD of whole files, which is less code than a
//! crate's API and keeps the CLI's dependencies as they are. Keep-alive is
//! supported (browsers fetch tiles over six connections), request bodies
//! are refused.
//!
//! Paths are percent-decoded and split on `/`; `..` is refused (400), and
//! every file's real path must lie inside the root's (404 otherwise), so
//! neither `..`, absolute paths nor symlinks reach out of it. Directories
//! are not listed. `/` is the pyramid's own `index.html` or, when it has
//! none, a viewer page made for the descriptor found in the root or one
//! directory down. Zip entries (stored or deflated) are served from the
//! central directory, read once (ZIP64 too).
//!
//! The first line on stdout is `serving http://HOST:PORT/` (`--port 0`
//! picks a free port); one access-log line per request goes to stderr or
//! `--log FILE`. SIGINT/SIGTERM stop it (exit 130/143).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gigapix::CancelToken;
use gigapix_io::viewer::{Layout, Pyramid, index_html};

/// Connections served at once; more are answered 503.
pub(crate) const MAX_CONNECTIONS: usize = 64;
/// Longest request head (request line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// A keep-alive connection idle this long is closed.
const IDLE: Duration = Duration::from_secs(10);

/// The options of `gigapix serve`.
pub(crate) struct Options {
    pub(crate) source: PathBuf,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) log: Option<PathBuf>,
}

/// Where the files come from.
enum Store {
    /// A directory (its canonical path).
    Dir(PathBuf),
    /// The entries of a zip file.
    Zip(ZipStore),
}

struct Site {
    store: Store,
    /// The page served at `/` when the store has no `index.html`.
    index: Option<String>,
    log: Mutex<Box<dyn Write + Send>>,
}

/// Runs the server until `cancel` is set (by SIGINT or SIGTERM).
pub(crate) fn serve(opts: &Options, cancel: &CancelToken) -> Result<(), String> {
    let site = Arc::new(open_site(opts)?);
    let listener = TcpListener::bind((opts.host.as_str(), opts.port))
        .map_err(|e| format!("serve: cannot listen on {}:{}: {e}", opts.host, opts.port))?;
    let addr = listener.local_addr().map_err(|e| format!("serve: {e}"))?;
    {
        let mut out = std::io::stdout().lock();
        let host = if addr.is_ipv6() {
            format!("[{}]", addr.ip())
        } else {
            addr.ip().to_string()
        };
        let _ = writeln!(out, "serving http://{host}:{}/", addr.port());
        let _ = out.flush();
    }
    if site.index.is_none() && !site.has("index.html") {
        eprintln!(
            "gigapix: warning: serve: no index.html and no pyramid descriptor (.dzi, info.json, ImageProperties.xml, 0/0/0.*) in {}: `/` is a 404",
            opts.source.display()
        );
    }
    // Non-blocking accepts, polled, so a signal is noticed within 50 ms.
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("serve: {e}"))?;
    let active = Arc::new(AtomicUsize::new(0));
    while !cancel.is_cancelled() {
        match listener.accept() {
            Ok((stream, peer)) => {
                let _ = stream.set_nonblocking(false);
                if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    active.fetch_sub(1, Ordering::SeqCst);
                    let mut stream = stream;
                    let _ = stream.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                }
                let (site, count) = (site.clone(), active.clone());
                let spawned = std::thread::Builder::new()
                    .name("gigapix-serve".into())
                    .spawn(move || {
                        connection(&site, stream, &peer.to_string());
                        count.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    active.fetch_sub(1, Ordering::SeqCst);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Out of descriptors and the like: wait and go on.
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    Err("serve: stopped".into())
}

fn open_site(opts: &Options) -> Result<Site, String> {
    let src = &opts.source;
    let meta = std::fs::metadata(src).map_err(|e| format!("serve: {}: {e}", src.display()))?;
    let (store, descriptor) = if meta.is_dir() {
        let root = src
            .canonicalize()
            .map_err(|e| format!("serve: {}: {e}", src.display()))?;
        (Store::Dir(root), None)
    } else if is_zip(src) {
        (Store::Zip(ZipStore::open(src)?), None)
    } else {
        // A descriptor: serve its directory, with a viewer for it.
        let root = src
            .canonicalize()
            .map_err(|e| format!("serve: {}: {e}", src.display()))?;
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = root.parent().unwrap_or(Path::new("/")).to_path_buf();
        (Store::Dir(dir), Some(name))
    };
    let log: Box<dyn Write + Send> = match &opts.log {
        Some(path) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("serve: --log {}: {e}", path.display()))?,
        ),
        None => Box::new(std::io::stderr()),
    };
    let mut site = Site {
        store,
        index: None,
        log: Mutex::new(log),
    };
    site.index = match descriptor {
        Some(name) => pyramid_for(&site, &name).map(|p| index_html(&p)),
        None if site.has("index.html") => None,
        None => find_pyramid(&site).map(|p| index_html(&p)),
    };
    Ok(site)
}

fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06")
}

impl Site {
    /// The names of the files in the root and one directory down, where
    /// descriptors are looked for. A root of many directories (an IIIF
    /// tree has one per tile region) is not walked: in each of its
    /// directories only `D/D.dzi`, `D/info.json` and
    /// `D/ImageProperties.xml` are looked for.
    fn names(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.store {
            Store::Zip(z) => {
                out.extend(
                    z.entries
                        .keys()
                        .filter(|k| k.matches('/').count() <= 1)
                        .cloned(),
                );
            }
            Store::Dir(root) => {
                let list = |dir: &Path| -> Vec<(String, bool)> {
                    std::fs::read_dir(dir)
                        .map(|rd| {
                            rd.filter_map(Result::ok)
                                .map(|e| {
                                    let dir = e.file_type().is_ok_and(|t| t.is_dir());
                                    (e.file_name().to_string_lossy().into_owned(), dir)
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let top = list(root);
                let walk = top.len() <= 256;
                for (name, is_dir) in top {
                    if is_dir && walk {
                        for (sub, _) in list(&root.join(&name)) {
                            out.push(format!("{name}/{sub}"));
                        }
                    } else if is_dir {
                        for probe in [
                            format!("{name}.dzi"),
                            "info.json".into(),
                            "ImageProperties.xml".into(),
                        ] {
                            let path = format!("{name}/{probe}");
                            if self.has(&path) {
                                out.push(path);
                            }
                        }
                    }
                    out.push(name);
                }
            }
        }
        out.sort();
        out
    }

    fn has(&self, name: &str) -> bool {
        match &self.store {
            Store::Zip(z) => z.entries.contains_key(name),
            Store::Dir(root) => root.join(name).is_file(),
        }
    }

    fn read_small(&self, name: &str) -> Option<Vec<u8>> {
        match &self.store {
            Store::Zip(z) => {
                let e = z.entries.get(name)?;
                if e.size > 1 << 20 {
                    return None;
                }
                let mut out = Vec::new();
                z.copy(e, &mut out).ok()?;
                Some(out)
            }
            Store::Dir(root) => {
                let path = root.join(name);
                (std::fs::metadata(&path).ok()?.len() <= 1 << 20)
                    .then(|| std::fs::read(path).ok())
                    .flatten()
            }
        }
    }
}

/// The pyramid whose descriptor is `name` (a path in the store).
fn pyramid_for(site: &Site, name: &str) -> Option<Pyramid> {
    let file = name.rsplit('/').next().unwrap_or(name);
    if file.ends_with(".dzi") {
        return Some(Pyramid::new(Layout::DeepZoom, name));
    }
    if file == "ImageProperties.xml" {
        return Some(Pyramid::new(Layout::Zoomify, name));
    }
    if file == "info.json" {
        let text = site.read_small(name)?;
        let text = String::from_utf8_lossy(&text);
        let layout = if text.contains("iiif.io/api/image/3") {
            Layout::Iiif3
        } else {
            Layout::Iiif
        };
        return Some(Pyramid::new(layout, name));
    }
    None
}

/// The first descriptor in the root or one directory down (DeepZoom,
/// IIIF, Zoomify), else a Google tree (`0/0/0.EXT`).
fn find_pyramid(site: &Site) -> Option<Pyramid> {
    let names = site.names();
    // Fewest slashes first: the root's own descriptor wins.
    let mut by_depth: Vec<&String> = names.iter().collect();
    by_depth.sort_by_key(|n| n.matches('/').count());
    for n in &by_depth {
        if let Some(p) = pyramid_for(site, n) {
            return Some(p);
        }
    }
    google(site, "").or_else(|| {
        names
            .iter()
            .filter(|n| !n.contains('/'))
            .find_map(|n| google(site, &format!("{n}/")))
    })
}

/// A Google tree under `prefix`. Its size is not recorded: the deepest
/// level's grid of tiles (the largest row and column numbers found, 256
/// pixels each) stands for it, which the real image fills but for the
/// last partial tile; every coarser level's grid follows from it.
fn google(site: &Site, prefix: &str) -> Option<Pyramid> {
    let ext = [".jpg", ".jpeg", ".png", ".webp", ".avif"]
        .into_iter()
        .find(|e| site.has(&format!("{prefix}0/0/0{e}")))?;
    let mut z = 0u32;
    while z < 30 && site.has(&format!("{prefix}{}/0/0{ext}", z + 1)) {
        z += 1;
    }
    let (mut rows, mut cols) = (1u64, 1u64);
    for (row, col) in site.grid(&format!("{prefix}{z}/"), ext) {
        rows = rows.max(row + 1);
        cols = cols.max(col + 1);
    }
    let root = prefix.trim_end_matches('/');
    Some(
        Pyramid::new(Layout::Google, root)
            .size(cols * 256, rows * 256)
            .tiles(256, 0)
            .suffix(ext)
            .title(if root.is_empty() { "pyramid" } else { root }),
    )
}

impl Site {
    /// The (row, column) of every `LEVEL/ROW/COL.EXT` under `level`.
    fn grid(&self, level: &str, ext: &str) -> Vec<(u64, u64)> {
        let parse = |rel: &str| -> Option<(u64, u64)> {
            let (row, file) = rel.split_once('/')?;
            let col = file.strip_suffix(ext)?;
            Some((row.parse().ok()?, col.parse().ok()?))
        };
        match &self.store {
            Store::Zip(z) => z
                .entries
                .keys()
                .filter_map(|k| parse(k.strip_prefix(level)?))
                .collect(),
            Store::Dir(root) => {
                let names = |dir: &Path| -> Vec<String> {
                    std::fs::read_dir(dir)
                        .map(|rd| {
                            rd.filter_map(Result::ok)
                                .map(|e| e.file_name().to_string_lossy().into_owned())
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let dir = root.join(level);
                let mut out = Vec::new();
                for row in names(&dir) {
                    for file in names(&dir.join(&row)) {
                        out.extend(parse(&format!("{row}/{file}")));
                    }
                }
                out
            }
        }
    }
}

// ---- HTTP ----

struct Request {
    method: String,
    target: String,
    version: String,
    close: bool,
}

enum Head {
    Request(Request),
    /// The peer closed or went idle.
    Gone,
    /// A malformed request: status and reason; the connection closes.
    Bad(u16, &'static str),
}

fn read_head(reader: &mut BufReader<TcpStream>) -> Head {
    let mut lines = Vec::new();
    let mut total = 0usize;
    loop {
        let mut line = Vec::new();
        let limit = (MAX_HEAD - total + 1) as u64;
        match reader.by_ref().take(limit).read_until(b'\n', &mut line) {
            Ok(0) => {
                return if lines.is_empty() {
                    Head::Gone
                } else {
                    Head::Bad(400, "incomplete request")
                };
            }
            Ok(n) => total += n,
            Err(_) => return Head::Gone,
        }
        if total > MAX_HEAD || !line.ends_with(b"\n") {
            return Head::Bad(431, "request head too large");
        }
        while line.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
            line.pop();
        }
        if line.is_empty() {
            if lines.is_empty() {
                continue; // blank lines before a request are allowed
            }
            break;
        }
        let Ok(text) = String::from_utf8(line) else {
            return Head::Bad(400, "request head is not UTF-8");
        };
        lines.push(text);
    }
    let mut parts = lines[0].split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Head::Bad(400, "malformed request line");
    };
    if !version.starts_with("HTTP/1.") {
        return Head::Bad(505, "only HTTP/1.x");
    }
    let mut close = version == "HTTP/1.0";
    for h in &lines[1..] {
        let Some((name, value)) = h.split_once(':') else {
            return Head::Bad(400, "malformed header");
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    close = true;
                } else if v.contains("keep-alive") {
                    close = false;
                }
            }
            "content-length" if value != "0" => {
                return Head::Bad(413, "request bodies are refused");
            }
            "transfer-encoding" => return Head::Bad(413, "request bodies are refused"),
            _ => {}
        }
    }
    Head::Request(Request {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        close,
    })
}

fn connection(site: &Site, stream: TcpStream, peer: &str) {
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, write_half);
    loop {
        let start = Instant::now();
        let req = match read_head(&mut reader) {
            Head::Request(r) => r,
            Head::Gone => return,
            Head::Bad(status, why) => {
                let _ = respond_text(&mut out, status, why, false, true);
                let _ = out.flush();
                site.log_line(peer, "-", status, 0, start);
                return;
            }
        };
        let head_only = req.method == "HEAD";
        let (status, bytes) = match req.method.as_str() {
            "GET" | "HEAD" => answer(site, &req, &mut out, head_only),
            _ => {
                let r = respond(
                    &mut out,
                    405,
                    "text/plain; charset=utf-8",
                    b"only GET and HEAD\n",
                    &[("Allow", "GET, HEAD")],
                    false,
                    req.close,
                );
                (405, r.unwrap_or(0))
            }
        };
        let ok = out.flush().is_ok();
        site.log_line(
            peer,
            &format!("{} {} {}", req.method, req.target, req.version),
            status,
            bytes,
            start,
        );
        if req.close || !ok {
            return;
        }
    }
}

impl Site {
    fn log_line(&self, peer: &str, request: &str, status: u16, bytes: u64, start: Instant) {
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(log, "{peer} \"{request}\" {status} {bytes} {ms:.1}ms");
        let _ = log.flush();
    }
}

/// Serves one GET or HEAD; returns the status and the body bytes sent.
fn answer(site: &Site, req: &Request, out: &mut impl Write, head_only: bool) -> (u16, u64) {
    let close = req.close;
    let path = match request_path(&req.target) {
        Ok(p) => p,
        Err((status, why)) => {
            return (
                status,
                respond_text(out, status, why, head_only, close).unwrap_or(0),
            );
        }
    };
    if (path.is_empty() || path == "index.html")
        && let Some(page) = &site.index
    {
        let r = respond(
            out,
            200,
            "text/html; charset=utf-8",
            page.as_bytes(),
            &[("Cache-Control", "no-cache")],
            head_only,
            close,
        );
        return (200, r.unwrap_or(0));
    }
    let name = if path.is_empty() {
        "index.html".to_string()
    } else {
        path
    };
    let ctype = content_type(&name);
    let not_found = |out: &mut dyn Write| {
        (
            404,
            respond_text(out, 404, "not found", head_only, close).unwrap_or(0),
        )
    };
    match &site.store {
        Store::Dir(root) => {
            let Some((file, len)) = open_inside(root, &name) else {
                return not_found(out);
            };
            let sent = send_head(out, 200, ctype, len, &[], close)
                .and_then(|()| {
                    if head_only {
                        Ok(0)
                    } else {
                        std::io::copy(&mut file.take(len), out)
                    }
                })
                .unwrap_or(0);
            (200, sent)
        }
        Store::Zip(z) => {
            let Some(entry) = z.entries.get(&name) else {
                return not_found(out);
            };
            let sent = send_head(out, 200, ctype, entry.size, &[], close)
                .and_then(|()| if head_only { Ok(0) } else { z.copy(entry, out) })
                .unwrap_or(0);
            (200, sent)
        }
    }
}

/// The request target's path, percent-decoded, without its leading `/`,
/// query or fragment; `..`, backslashes and NULs are refused.
fn request_path(target: &str) -> Result<String, (u16, &'static str)> {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let Some(path) = path.strip_prefix('/') else {
        return Err((400, "the request target must be an absolute path"));
    };
    let bytes = path.as_bytes();
    let mut raw = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(b) = hex else {
                return Err((400, "bad percent escape"));
            };
            raw.push(b);
            i += 3;
        } else {
            raw.push(bytes[i]);
            i += 1;
        }
    }
    let Ok(decoded) = String::from_utf8(raw) else {
        return Err((400, "path is not UTF-8"));
    };
    if decoded.contains(['\0', '\\']) {
        return Err((400, "bad character in path"));
    }
    let mut parts = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err((400, "`..` in path")),
            s => parts.push(s),
        }
    }
    Ok(parts.join("/"))
}

/// Opens `name` under `root` if it is a regular file whose real path
/// (symlinks resolved) is inside `root` (itself canonical).
fn open_inside(root: &Path, name: &str) -> Option<(File, u64)> {
    let mut path = root.to_path_buf();
    for seg in name.split('/') {
        let comp = Path::new(seg);
        if !matches!(comp.components().next(), Some(Component::Normal(_)))
            || comp.components().count() != 1
        {
            return None;
        }
        path.push(seg);
    }
    let real = path.canonicalize().ok()?;
    if !real.starts_with(root) {
        return None;
    }
    let file = File::open(&real).ok()?;
    let meta = file.metadata().ok()?;
    meta.is_file().then_some((file, meta.len()))
}

fn content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "xml" | "dzi" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "gif" => "image/gif",
        "jxl" => "image/jxl",
        "svg" => "image/svg+xml",
        "tif" | "tiff" => "image/tiff",
        "zip" | "szi" => "application/zip",
        _ => "application/octet-stream",
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

fn send_head(
    out: &mut (impl Write + ?Sized),
    status: u16,
    ctype: &str,
    len: u64,
    extra: &[(&str, &str)],
    close: bool,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nServer: gigapix\r\nContent-Type: {ctype}\r\nContent-Length: {len}\r\n\
         X-Content-Type-Options: nosniff\r\nAccess-Control-Allow-Origin: *\r\n",
        reason(status)
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(if close {
        "Connection: close\r\n\r\n"
    } else {
        "Connection: keep-alive\r\n\r\n"
    });
    out.write_all(head.as_bytes())
}

fn respond(
    out: &mut (impl Write + ?Sized),
    status: u16,
    ctype: &str,
    body: &[u8],
    extra: &[(&str, &str)],
    head_only: bool,
    close: bool,
) -> std::io::Result<u64> {
    send_head(out, status, ctype, body.len() as u64, extra, close)?;
    if head_only {
        return Ok(0);
    }
    out.write_all(body)?;
    Ok(body.len() as u64)
}

fn respond_text(
    out: &mut (impl Write + ?Sized),
    status: u16,
    why: &str,
    head_only: bool,
    close: bool,
) -> std::io::Result<u64> {
    let body = format!("{status} {}: {why}\n", reason(status));
    respond(
        out,
        status,
        "text/plain; charset=utf-8",
        body.as_bytes(),
        &[],
        head_only,
        close,
    )
}

// ---- zip ----

#[derive(Clone, Copy)]
struct ZipEntry {
    /// Offset of the entry's data (after its local header).
    data: u64,
    /// Stored (compressed) size.
    stored: u64,
    /// Uncompressed size.
    size: u64,
    /// 0 stored, 8 deflate.
    method: u16,
}

struct ZipStore {
    file: Mutex<File>,
    entries: HashMap<String, ZipEntry>,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn le64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

impl ZipStore {
    fn open(path: &Path) -> Result<ZipStore, String> {
        let bad = |why: &str| format!("serve: {}: not a readable zip: {why}", path.display());
        let mut file = File::open(path).map_err(|e| format!("serve: {}: {e}", path.display()))?;
        let len = file.metadata().map_err(|e| bad(&e.to_string()))?.len();
        let read_at = |file: &mut File, at: u64, n: usize| -> Result<Vec<u8>, String> {
            if at.checked_add(n as u64).is_none_or(|end| end > len) {
                return Err(bad("a record lies beyond the end of the file"));
            }
            let mut buf = vec![0u8; n];
            file.seek(SeekFrom::Start(at))
                .and_then(|_| file.read_exact(&mut buf))
                .map_err(|e| bad(&e.to_string()))?;
            Ok(buf)
        };
        // The end of central directory record: in the last 64 KiB + 22.
        let tail_len = len.min(22 + 65535) as usize;
        let tail = read_at(&mut file, len - tail_len as u64, tail_len)?;
        let eocd = (0..tail_len.saturating_sub(21))
            .rev()
            .find(|&i| le32(&tail, i) == 0x0605_4b50)
            .ok_or_else(|| bad("no end of central directory record"))?;
        let eocd_pos = len - tail_len as u64 + eocd as u64;
        let r = &tail[eocd..];
        let mut count = u64::from(le16(r, 10));
        let mut cd_size = u64::from(le32(r, 12));
        let mut cd_at = u64::from(le32(r, 16));
        if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_at == 0xFFFF_FFFF {
            // ZIP64: the locator sits just before the record.
            let loc_at = eocd_pos
                .checked_sub(20)
                .ok_or_else(|| bad("no ZIP64 locator"))?;
            let loc = read_at(&mut file, loc_at, 20)?;
            if le32(&loc, 0) != 0x0706_4b50 {
                return Err(bad("no ZIP64 locator"));
            }
            let z = read_at(&mut file, le64(&loc, 8), 56)?;
            if le32(&z, 0) != 0x0606_4b50 {
                return Err(bad("bad ZIP64 end of central directory"));
            }
            count = le64(&z, 32);
            cd_size = le64(&z, 40);
            cd_at = le64(&z, 48);
        }
        // Every central record takes at least 46 bytes.
        if cd_size > len || count > cd_size / 46 + 1 {
            return Err(bad("the central directory does not fit in the file"));
        }
        let cd = read_at(&mut file, cd_at, cd_size as usize)?;
        let mut entries = HashMap::with_capacity(count as usize);
        let mut at = 0usize;
        for _ in 0..count {
            if at + 46 > cd.len() || le32(&cd, at) != 0x0201_4b50 {
                return Err(bad("damaged central directory"));
            }
            let flags = le16(&cd, at + 8);
            let method = le16(&cd, at + 10);
            let mut stored = u64::from(le32(&cd, at + 20));
            let mut size = u64::from(le32(&cd, at + 24));
            let (n, m, k) = (
                usize::from(le16(&cd, at + 28)),
                usize::from(le16(&cd, at + 30)),
                usize::from(le16(&cd, at + 32)),
            );
            let mut local = u64::from(le32(&cd, at + 42));
            let end = at + 46 + n + m + k;
            if end > cd.len() {
                return Err(bad("damaged central directory"));
            }
            let name = String::from_utf8_lossy(&cd[at + 46..at + 46 + n]).into_owned();
            // ZIP64 extra field: the 0xFFFFFFFF values, in order.
            let mut extra = &cd[at + 46 + n..at + 46 + n + m];
            while extra.len() >= 4 {
                let (id, sz) = (le16(extra, 0), usize::from(le16(extra, 2)));
                let body = &extra[4..extra.len().min(4 + sz)];
                if id == 1 {
                    let mut p = 0;
                    for v in [&mut size, &mut stored, &mut local] {
                        if *v == 0xFFFF_FFFF && p + 8 <= body.len() {
                            *v = le64(body, p);
                            p += 8;
                        }
                    }
                }
                extra = &extra[extra.len().min(4 + sz)..];
            }
            at = end;
            if name.ends_with('/') || flags & 1 != 0 || !(method == 0 || method == 8) {
                continue; // directories, encrypted or unknown methods: not served
            }
            let lh = read_at(&mut file, local, 30)?;
            if le32(&lh, 0) != 0x0403_4b50 {
                return Err(bad("a local header is not where the directory says"));
            }
            let data = local + 30 + u64::from(le16(&lh, 26)) + u64::from(le16(&lh, 28));
            if data.checked_add(stored).is_none_or(|e| e > len) {
                return Err(bad("an entry lies beyond the end of the file"));
            }
            let name = name.trim_start_matches('/').to_string();
            entries.insert(
                name,
                ZipEntry {
                    data,
                    stored,
                    size,
                    method,
                },
            );
        }
        Ok(ZipStore {
            file: Mutex::new(file),
            entries,
        })
    }

    /// Copies the entry's bytes (inflated if needed) to `out`.
    fn copy(&self, e: &ZipEntry, out: &mut (impl Write + ?Sized)) -> std::io::Result<u64> {
        let reader = ZipReader {
            store: self,
            at: e.data,
            left: e.stored,
        };
        if e.method == 8 {
            let mut inflated = flate2::read::DeflateDecoder::new(reader).take(e.size);
            std::io::copy(&mut inflated, out)
        } else {
            std::io::copy(&mut { reader }, out)
        }
    }
}

/// Reads a range of the zip, taking the file's lock for each chunk.
struct ZipReader<'a> {
    store: &'a ZipStore,
    at: u64,
    left: u64,
}

impl Read for ZipReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left).min(256 * 1024) as usize;
        if n == 0 {
            return Ok(0);
        }
        let mut file = self.store.file.lock().unwrap_or_else(|e| e.into_inner());
        file.seek(SeekFrom::Start(self.at))?;
        let got = file.read(&mut buf[..n])?;
        if got == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.at += got as u64;
        self.left -= got as u64;
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_decoded_and_contained() {
        assert_eq!(request_path("/a/b%20c.jpg?x=1#f").unwrap(), "a/b c.jpg");
        assert_eq!(request_path("/").unwrap(), "");
        assert_eq!(request_path("//a/./b").unwrap(), "a/b");
        assert_eq!(request_path("/a/../b").unwrap_err().0, 400);
        assert_eq!(request_path("/a/%2e%2e/b").unwrap_err().0, 400);
        assert_eq!(request_path("/a%5cb").unwrap_err().0, 400);
        assert_eq!(request_path("/a%00").unwrap_err().0, 400);
        assert_eq!(request_path("/%zz").unwrap_err().0, 400);
        assert_eq!(request_path("http://x/a").unwrap_err().0, 400);
        assert_eq!(request_path("a").unwrap_err().0, 400);
    }

    #[test]
    fn types() {
        assert_eq!(content_type("a/out.dzi"), "application/xml");
        assert_eq!(content_type("x/0/0.JPEG"), "image/jpeg");
        assert_eq!(content_type("info.json"), "application/json");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
