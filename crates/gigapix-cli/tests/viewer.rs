//! `gigapix serve` and the viewer page.
//!
//! * `browser_zooms_in_twice`: headless Chromium opens the served viewer of
//!   a DeepZoom pyramid (gigapix's DeepZoom saver's, or while there is
//!   none one the test makes with gigapix's shrink, crop and PNG saver) of
//!   a 3200×2400 image of 400-pixel colour blocks,
//!   two real wheel events (DevTools protocol `Input.dispatchMouseEvent`,
//!   over a WebSocket client of this file) zoom in 2× each about the
//!   pointer; the server's access log must show the tiles of the two
//!   deeper levels, only the visible ones, and the screenshot
//!   (`Page.captureScreenshot`, decoded by gigapix) must show each
//!   block's colour where the view's geometry, computed here, puts it; a
//!   real drag then pans the view by its length.
//!   Skipped with a message when Chromium is not installed (or set
//!   `GIGAPIX_CHROMIUM=/path/to/chrome`).
//! * `browser_shows_iiif_zoomify_and_google`: the other layouts as
//!   `gigapix dzsave` writes them, and libvips' `vips dzsave` when present.
//! * The server tests need no browser: paths outside the root (`..`,
//!   encoded `..`, symlinks out), 404, HEAD, content types, keep-alive, and
//!   a zip written by libvips (fixture).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_gigapix");

// ---- the test image ----

const W: u32 = 3200;
const H: u32 = 2400;
const BLOCK: u32 = 400;

/// The colour of block (bx, by): each channel 0, 128 or 255, neighbours
/// always different.
fn block_colour(bx: u32, by: u32) -> [u8; 3] {
    let i = (bx * 3 + by * 5) % 27;
    let level = |d: u32| [0u8, 128, 255][d as usize];
    [level(i % 3), level(i / 3 % 3), level(i / 9)]
}

fn write_blocks_ppm(path: &Path) {
    let mut data = format!("P6\n{W} {H}\n255\n").into_bytes();
    for y in 0..H {
        for x in 0..W {
            data.extend_from_slice(&block_colour(x / BLOCK, y / BLOCK));
        }
    }
    std::fs::write(path, data).unwrap();
}

/// A DeepZoom pyramid `DIR/out.dzi` (254-pixel tiles, overlap 1, JPEG) and
/// its viewer page `DIR/index.html`, by gigapix's DeepZoom saver.
fn make_pyramid(dir: &Path) {
    let input = dir.join("in.ppm");
    write_blocks_ppm(&input);
    let out = Command::new(BIN)
        .arg("dzsave")
        .arg(&input)
        .arg(dir.join("out.dzi"))
        .args(["--viewer", "true"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gigapix dzsave in.ppm out.dzi --viewer true: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("out.dzi").is_file() && dir.join("index.html").is_file());
}

// ---- processes ----

/// Kills the child when dropped (also when a test fails).
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `gigapix serve`: its address and access log.
struct Server {
    _child: Reaper,
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

fn start_server(source: &Path) -> Server {
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg(source)
        .args(["--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let child = Reaper(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let first = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("gigapix serve printed no address within 20 s");
    let port = first
        .trim()
        .strip_prefix("serving http://127.0.0.1:")
        .and_then(|p| p.strip_suffix('/'))
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("unexpected first line from gigapix serve: {first:?}"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    Server {
        _child: child,
        port,
        log,
    }
}

impl Server {
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

// ---- a minimal HTTP client ----

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` (a raw request head) and reads one reply; for HEAD the
/// body is not read.
fn exchange(stream: &mut TcpStream, request: &str, head: bool) -> Reply {
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().unwrap())
        .expect("every reply has a Content-Length");
    let mut body = vec![0u8; if head { 0 } else { len }];
    reader.read_exact(&mut body).unwrap();
    assert!(
        reader.buffer().is_empty(),
        "bytes beyond the reply's Content-Length"
    );
    Reply {
        status,
        headers,
        body,
    }
}

fn get(port: u16, path: &str) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    exchange(
        &mut s,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
        false,
    )
}

// ---- a minimal WebSocket client and the DevTools protocol ----

struct Ws {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Ws {
    fn connect(url: &str) -> Ws {
        let rest = url.strip_prefix("ws://").expect("a ws:// URL");
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let stream = TcpStream::connect(host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut ws = Ws {
            reader: BufReader::new(stream.try_clone().unwrap()),
            stream,
        };
        write!(
            ws.stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut status = String::new();
        ws.reader.read_line(&mut status).unwrap();
        assert!(
            status.contains(" 101 "),
            "DevTools refused the WebSocket: {status:?}"
        );
        loop {
            let mut h = String::new();
            ws.reader.read_line(&mut h).unwrap();
            if h.trim().is_empty() {
                break;
            }
        }
        ws
    }

    fn send_frame(&mut self, opcode: u8, payload: &[u8]) {
        let mut frame = vec![0x80 | opcode];
        let n = payload.len();
        if n < 126 {
            frame.push(0x80 | n as u8);
        } else if n < 65536 {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
        let mask = [0x5a, 0x13, 0xc7, 0x2e];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).unwrap();
    }

    /// The next text message (fragments joined; pings answered).
    fn recv(&mut self) -> String {
        let mut message = Vec::new();
        loop {
            let mut h = [0u8; 2];
            self.reader
                .read_exact(&mut h)
                .expect("no message from Chromium within 30 s");
            let (fin, opcode) = (h[0] & 0x80 != 0, h[0] & 0x0f);
            let mut len = u64::from(h[1] & 0x7f);
            if len == 126 {
                let mut b = [0u8; 2];
                self.reader.read_exact(&mut b).unwrap();
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.reader.read_exact(&mut b).unwrap();
                len = u64::from_be_bytes(b);
            }
            let mut mask = [0u8; 4];
            if h[1] & 0x80 != 0 {
                self.reader.read_exact(&mut mask).unwrap();
            }
            let mut payload = vec![0u8; len as usize];
            self.reader.read_exact(&mut payload).unwrap();
            if h[1] & 0x80 != 0 {
                for (i, b) in payload.iter_mut().enumerate() {
                    *b ^= mask[i % 4];
                }
            }
            match opcode {
                0..=2 => message.extend_from_slice(&payload),
                8 => panic!("Chromium closed the DevTools connection"),
                9 => self.send_frame(10, &payload),
                _ => {}
            }
            if fin && matches!(opcode, 0..=2) {
                return String::from_utf8(message).unwrap();
            }
        }
    }
}

struct Cdp {
    ws: Ws,
    next: u64,
    events: Vec<Value>,
}

impl Cdp {
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let text = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send_frame(1, text.as_bytes());
        loop {
            let msg: Value = serde_json::from_str(&self.ws.recv()).unwrap();
            if msg["id"].as_u64() == Some(id) {
                if let Some(err) = msg.get("error") {
                    panic!("DevTools {method} failed: {err}");
                }
                return msg["result"].clone();
            }
            if msg.get("method").is_some() {
                self.events.push(msg);
            }
        }
    }

    fn wait_event(&mut self, name: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.events.iter().position(|e| e["method"] == name) {
                self.events.remove(i);
                return;
            }
            assert!(Instant::now() < deadline, "no {name} within {timeout:?}");
            let msg: Value = serde_json::from_str(&self.ws.recv()).unwrap();
            if msg.get("method").is_some() {
                self.events.push(msg);
            }
        }
    }

    /// Evaluates a JavaScript expression (awaiting a promise) and returns
    /// its value; a thrown error fails the test with its message.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "awaitPromise": true, "returnByValue": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!(
                "page script failed: {}",
                e["exception"]["description"]
                    .as_str()
                    .unwrap_or(&e.to_string())
            );
        }
        r["result"]["value"].clone()
    }

    /// The viewer's state once `cond` (an expression of `s`, the state)
    /// holds and every visible tile of its level has loaded.
    fn ready_state(&mut self, cond: &str) -> Value {
        self.eval(&format!(
            "new Promise((ok, fail) => {{
               const t0 = Date.now();
               (function poll() {{
                 const s = window.viewer && viewer.state;
                 const err = document.documentElement.dataset.error;
                 if (err) return fail(new Error('viewer: ' + err));
                 if (s && s.ready && ({cond})) return ok(s);
                 if (Date.now() - t0 > 15000)
                   return fail(new Error('viewer not ready after 15 s: ' +
                     document.getElementById('status').textContent + ' ' + JSON.stringify(s)));
                 setTimeout(poll, 10);
               }})();
             }})"
        ))
    }

    fn drag(&mut self, from: (f64, f64), to: (f64, f64)) {
        let mouse = |kind: &str, (x, y): (f64, f64), buttons: u32| json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1});
        self.call("Input.dispatchMouseEvent", mouse("mouseMoved", from, 0));
        self.call("Input.dispatchMouseEvent", mouse("mousePressed", from, 1));
        for i in 1..=5 {
            let t = f64::from(i) / 5.0;
            let at = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
            self.call("Input.dispatchMouseEvent", mouse("mouseMoved", at, 1));
        }
        self.call("Input.dispatchMouseEvent", mouse("mouseReleased", to, 0));
    }

    /// A left click (`count` 2: the second click of a double-click).
    fn click(&mut self, x: f64, y: f64, count: u32) {
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": count}),
            );
        }
    }

    fn key(&mut self, key: &str, code: &str, key_code: u32) {
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyDown", "key": key, "code": code, "text": key,
                   "windowsVirtualKeyCode": key_code}),
        );
        self.call(
            "Input.dispatchKeyEvent",
            json!({"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": key_code}),
        );
    }

    fn wheel(&mut self, x: f64, y: f64, delta_y: f64) {
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": "mouseMoved", "x": x, "y": y}),
        );
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": "mouseWheel", "x": x, "y": y, "deltaX": 0, "deltaY": delta_y}),
        );
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64"),
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=' && c != b'\n').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c) << (18 - 6 * i);
        }
        out.extend_from_slice(&acc.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// `GIGAPIX_CHROMIUM`, else Debian's browser binary (not its shell
/// wrapper, so that killing the child ends the browser), else the first
/// Chromium or Chrome in `PATH`.
fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GIGAPIX_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let debian = Path::new("/usr/lib/chromium/chromium");
    if debian.is_file() {
        return Some(debian.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome", "chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Starts headless Chromium on about:blank; returns it and its DevTools
/// port, or why it did not start (with the end of what it printed).
///
/// The port is read from the `DevToolsActivePort` file Chromium writes
/// into its profile once it listens; its standard error goes to a file
/// beside it, so nothing depends on how Chromium words or encodes its
/// messages, and a pipe it fills can never stall it.
fn start_chromium(exe: &Path, profile: &Path) -> Result<(Reaper, u16), String> {
    let log_path = profile.join("chromium-stderr.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(exe)
        .args([
            "--headless=new",
            "--disable-gpu",
            // Needed as root (CI containers); harmless for a test page.
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--disable-crash-reporter",
            "--disable-breakpad",
            "--hide-scrollbars",
            "--mute-audio",
            "--force-device-scale-factor=1",
            "--window-size=800,600",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let mut child = Reaper(child);
    let started = Instant::now();
    let why = loop {
        let port = std::fs::read_to_string(profile.join("DevToolsActivePort"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u16>().ok()));
        if let Some(port) = port {
            return Ok((child, port));
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            break format!("it exited ({status}) before listening");
        }
        if started.elapsed() > Duration::from_secs(60) {
            break "it did not listen for DevTools within 60 s".to_string();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let printed = std::fs::read(&log_path).unwrap_or_default();
    let printed = String::from_utf8_lossy(&printed);
    let lines: Vec<&str> = printed.lines().filter(|l| !l.contains("dbus")).collect();
    Err(format!(
        "{} did not start: {why}; the last lines it printed:\n{}",
        exe.display(),
        lines[lines.len().saturating_sub(20)..].join("\n")
    ))
}

/// The tile paths of `level` requested so far, from the access log.
fn tiles_of(log: &[String], level: u32) -> Vec<String> {
    let prefix = format!("\"GET /out_files/{level}/");
    let mut out: Vec<String> = log
        .iter()
        .filter(|l| l.contains(&prefix) && l.contains(" 200 "))
        .map(|l| l.split(' ').nth(2).unwrap_or("").to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Waits up to two seconds for the log to satisfy `f` (log lines follow
/// the responses by a moment).
fn log_until(server: &Server, f: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let log = server.log();
        if f(&log) || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Headless Chromium with one page of 800×600 CSS pixels (device scale 1)
/// and its DevTools connection, page events on; `None`, with a message,
/// when the Chromium found cannot start here (a machine whose sandbox
/// keeps it from running) unless `GIGAPIX_REQUIRE_BROWSER` is set, in
/// which case that is a failure. Everything after the start is checked.
fn open_browser(chromium: &Path, test: &str) -> Option<((Reaper, tempfile::TempDir), Cdp)> {
    let profile = tempfile::tempdir().unwrap();
    let (browser, devtools) = match start_chromium(chromium, profile.path()) {
        Ok(started) => started,
        Err(why) if std::env::var_os("GIGAPIX_REQUIRE_BROWSER").is_none() => {
            eprintln!("skipping {test}: {why}\n(set GIGAPIX_REQUIRE_BROWSER=1 to fail instead)");
            return None;
        }
        Err(why) => panic!("{why}"),
    };
    // The page target Chromium opened.
    let list = get(devtools, "/json/list");
    let targets: Value = serde_json::from_slice(&list.body).unwrap_or_else(|e| {
        panic!(
            "DevTools /json/list: {e}: {:?}",
            String::from_utf8_lossy(&list.body)
        )
    });
    let page = targets
        .as_array()
        .and_then(|t| t.iter().find(|t| t["type"] == "page"))
        .expect("Chromium has no page target");
    let mut cdp = Cdp {
        ws: Ws::connect(page["webSocketDebuggerUrl"].as_str().unwrap()),
        next: 0,
        events: Vec::new(),
    };
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 800, "height": 600, "deviceScaleFactor": 1, "mobile": false}),
    );
    cdp.call("Page.enable", json!({}));
    Some(((browser, profile), cdp))
}

/// Takes a screenshot and checks, on a 16-pixel grid, that every point
/// at least 8 image pixels and 4 screen pixels from a block edge shows
/// its block's colour (within 24 levels: JPEG tiles) for the view `zoom`
/// (CSS pixels per image pixel) centred on image point (cx, cy). Returns
/// the number of points checked.
fn check_screenshot(cdp: &mut Cdp, dir: &Path, zoom: f64, cx: f64, cy: f64) -> usize {
    let (vw, vh) = (800.0, 600.0);
    let shot = cdp.call("Page.captureScreenshot", json!({"format": "png"}));
    let png = base64_decode(shot["data"].as_str().unwrap());
    let shot_path = dir.join("shot.png");
    std::fs::write(&shot_path, &png).unwrap();
    let image = gigapix::Image::open(&shot_path).unwrap();
    assert_eq!(
        (image.width(), image.height()),
        (800, 600),
        "screenshot size"
    );
    assert_eq!(image.format(), gigapix::BandFormat::U8);
    let bands = image.bands() as usize;
    let pixels = image.to_vec().unwrap();
    let margin = f64::max(8.0, 4.0 / zoom);
    let (mut checked, mut wrong) = (0, Vec::new());
    for sy in (4..600).step_by(16) {
        for sx in (4..800).step_by(16) {
            // Not the toolbar (top left) nor the status line (bottom).
            if (sx < 120 && sy < 48) || sy > 570 {
                continue;
            }
            let ix = cx + (f64::from(sx) + 0.5 - vw / 2.0) / zoom;
            let iy = cy + (f64::from(sy) + 0.5 - vh / 2.0) / zoom;
            let edge = |v: f64| {
                let r = v.rem_euclid(f64::from(BLOCK));
                r.min(f64::from(BLOCK) - r)
            };
            if ix < margin
                || iy < margin
                || ix >= f64::from(W) - margin
                || iy >= f64::from(H) - margin
            {
                continue;
            }
            if edge(ix) < margin || edge(iy) < margin {
                continue;
            }
            let want = block_colour(ix as u32 / BLOCK, iy as u32 / BLOCK);
            let at = (sy as usize * 800 + sx as usize) * bands;
            let got = &pixels[at..at + 3];
            checked += 1;
            if got
                .iter()
                .zip(want)
                .any(|(&g, w)| (i32::from(g) - i32::from(w)).abs() > 24)
            {
                wrong.push((sx, sy, got.to_vec(), want));
            }
        }
    }
    assert!(checked > 500, "only {checked} points checked");
    assert!(
        wrong.is_empty(),
        "{} of {checked} screenshot points have the wrong colour (x, y, got, want): {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
    checked
}

#[test]
fn browser_zooms_in_twice() {
    let Some(chromium) = find_chromium() else {
        eprintln!(
            "skipping browser_zooms_in_twice: no chromium in PATH (apt-get install chromium)"
        );
        return;
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    make_pyramid(dir.path());
    eprintln!(
        "pyramid made by gigapix dzsave in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let server = start_server(dir.path());
    let Some((_browser, mut cdp)) = open_browser(&chromium, "browser_zooms_in_twice") else {
        return;
    };
    let (vw, vh) = (800.0, 600.0);
    cdp.call(
        "Page.navigate",
        json!({"url": format!("http://127.0.0.1:{}/", server.port)}),
    );
    cdp.wait_event("Page.loadEventFired", Duration::from_secs(20));

    // The whole image fits: 0.25 screen pixels per image pixel, level 10
    // (800×600, 4×3 tiles) of the 13 DeepZoom levels (0..=12).
    let s0 = cdp.ready_state("true");
    let fit = f64::min(vw / f64::from(W), vh / f64::from(H));
    assert!((s0["zoom"].as_f64().unwrap() - fit).abs() < 1e-9, "{s0}");
    let log = log_until(&server, |l| tiles_of(l, 10).len() == 12);
    assert_eq!(tiles_of(&log, 10).len(), 12, "level 10 tiles: {log:#?}");
    assert!(tiles_of(&log, 11).is_empty() && tiles_of(&log, 12).is_empty());

    // Two wheel notches of 200 pixels, each doubling the zoom about the
    // pointer: the image point under the pointer stays under it.
    let (mut zoom, mut cx, mut cy) = (fit, f64::from(W) / 2.0, f64::from(H) / 2.0);
    for (step, (px, py)) in [(300.0, 200.0), (500.0, 380.0)].into_iter().enumerate() {
        cdp.wheel(px, py, -200.0);
        let (ix, iy) = (cx + (px - vw / 2.0) / zoom, cy + (py - vh / 2.0) / zoom);
        zoom *= 2.0;
        (cx, cy) = (ix - (px - vw / 2.0) / zoom, iy - (py - vh / 2.0) / zoom);
        let s = cdp.ready_state(&format!("s.zoom > {}", zoom * 0.75));
        let close = |k: &str, v: f64| (s[k].as_f64().unwrap() - v).abs() < 1e-6;
        assert!(
            close("zoom", zoom) && close("x", cx) && close("y", cy),
            "after wheel {}: expected zoom {zoom} centre ({cx}, {cy}), the page says {s}",
            step + 1
        );
        let level = 11 + step as u32;
        let log = log_until(&server, |l| !tiles_of(l, level).is_empty());
        let tiles = tiles_of(&log, level);
        // Only the visible tiles: the view spans 800×600 level pixels at
        // most, so at most 5×4 of the level's tiles (13×10 at level 12).
        assert!(
            !tiles.is_empty() && tiles.len() <= 20,
            "level {level} tiles requested: {tiles:?}"
        );
        if step == 0 {
            assert!(tiles_of(&log, 12).is_empty(), "level 12 too early");
        }
    }

    // A drag of the left button 100 pixels left and 50 up pans the view
    // by as much (in five steps of pointer moves).
    cdp.drag((400.0, 300.0), (300.0, 250.0));
    (cx, cy) = (cx + 100.0 / zoom, cy + 50.0 / zoom);
    let s = cdp.ready_state(&format!(
        "Math.abs(s.x - {cx}) < 1e-6 && Math.abs(s.y - {cy}) < 1e-6"
    ));
    assert!((s["zoom"].as_f64().unwrap() - zoom).abs() < 1e-9, "{s}");

    // The `-` key halves the zoom about the centre, the `+` button
    // doubles it back, and a double-click doubles it about the pointer.
    cdp.key("-", "Minus", 189);
    let s = cdp.ready_state(&format!("s.zoom < {}", zoom * 0.75));
    let close = |s: &Value, k: &str, v: f64| (s[k].as_f64().unwrap() - v).abs() < 1e-6;
    assert!(
        close(&s, "zoom", zoom / 2.0) && close(&s, "x", cx) && close(&s, "y", cy),
        "{s}"
    );
    cdp.click(24.0, 24.0, 1);
    let s = cdp.ready_state(&format!("s.zoom > {}", zoom * 0.75));
    assert!(
        close(&s, "zoom", zoom) && close(&s, "x", cx) && close(&s, "y", cy),
        "{s}"
    );
    let (px, py) = (200.0, 150.0);
    cdp.click(px, py, 1);
    cdp.click(px, py, 2);
    let (ix, iy) = (cx + (px - vw / 2.0) / zoom, cy + (py - vh / 2.0) / zoom);
    zoom *= 2.0;
    (cx, cy) = (ix - (px - vw / 2.0) / zoom, iy - (py - vh / 2.0) / zoom);
    let s = cdp.ready_state(&format!("s.zoom > {}", zoom * 0.75));
    assert!(
        close(&s, "zoom", zoom) && close(&s, "x", cx) && close(&s, "y", cy),
        "{s}"
    );

    // The screenshot shows each block where the geometry puts it.
    let checked = check_screenshot(&mut cdp, dir.path(), zoom, cx, cy);
    // Nothing was asked for that the pyramid lacks (no level below 8).
    let log = server.log();
    assert!(
        log.iter().all(|l| !l.contains("\" 404 ")),
        "requests for missing files: {log:#?}"
    );
    eprintln!(
        "browser test: {checked} points match; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// ---- the server without a browser ----

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn request(port: u16, method: &str, target: &str) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    exchange(
        &mut s,
        &format!("{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        method == "HEAD",
    )
}

#[cfg(unix)]
#[test]
fn server_stays_inside_its_root() {
    let top = tempfile::tempdir().unwrap();
    let root = top.path().join("root");
    let outside = top.path().join("outside");
    std::fs::create_dir_all(root.join("out_files/0")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let dzi = "<?xml version=\"1.0\"?><Image TileSize=\"254\" Overlap=\"1\" Format=\"jpg\" \
               xmlns=\"http://schemas.microsoft.com/deepzoom/2008\"><Size Width=\"1\" Height=\"1\"/></Image>";
    std::fs::write(root.join("out.dzi"), dzi).unwrap();
    let tile: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(root.join("out_files/0/0_0.jpg"), &tile).unwrap();
    std::fs::write(outside.join("secret.txt"), "SECRET").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("out_files/link.jpg"))
        .unwrap();
    std::os::unix::fs::symlink(&outside, root.join("outdir")).unwrap();
    std::os::unix::fs::symlink(root.join("out.dzi"), root.join("same.dzi")).unwrap();
    let server = start_server(&root);
    let port = server.port;

    // The viewer made for the descriptor found.
    let page = request(port, "GET", "/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let text = String::from_utf8(page.body).unwrap();
    assert!(text.contains(r#""layout":"dz","descriptor":"out.dzi""#));

    let d = request(port, "GET", "/out.dzi");
    assert_eq!(
        (d.status, d.header("content-type")),
        (200, Some("application/xml"))
    );
    assert_eq!(d.body, dzi.as_bytes());
    let t = request(port, "GET", "/out_files/0/0_0.jpg?cache=1");
    assert_eq!(
        (t.status, t.header("content-type")),
        (200, Some("image/jpeg"))
    );
    assert_eq!(t.body, tile);
    assert_eq!(request(port, "GET", "/same.dzi").body, dzi.as_bytes());
    assert_eq!(request(port, "GET", "/out%2Edzi").body, dzi.as_bytes());

    // HEAD then GET on one kept-alive connection: the HEAD reply has the
    // length and no body.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let h = exchange(
        &mut s,
        "HEAD /out_files/0/0_0.jpg HTTP/1.1\r\nHost: x\r\n\r\n",
        true,
    );
    assert_eq!(h.status, 200);
    assert_eq!(h.header("content-length"), Some("5000"));
    let g = exchange(&mut s, "GET /out.dzi HTTP/1.1\r\nHost: x\r\n\r\n", false);
    assert_eq!((g.status, g.body.as_slice()), (200, dzi.as_bytes()));

    for (target, status) in [
        ("/missing.jpg", 404),
        ("/out_files", 404),
        ("/out_files/", 404),
        ("/../outside/secret.txt", 400),
        ("/out_files/../../outside/secret.txt", 400),
        ("/%2e%2e/outside/secret.txt", 400),
        ("/out_files/..%2F..%2Foutside%2Fsecret.txt", 400),
        ("/..\\outside\\secret.txt", 400),
        ("/out_files/link.jpg", 404),
        ("/outdir/secret.txt", 404),
        (&format!("/{}", outside.join("secret.txt").display()), 404),
        (&format!("{}", outside.join("secret.txt").display()), 404),
        ("http://x/out.dzi", 400),
        ("/out.dzi%00", 400),
    ] {
        let r = request(port, "GET", target);
        assert_eq!(r.status, status, "GET {target}");
        assert!(
            !String::from_utf8_lossy(&r.body).contains("SECRET"),
            "GET {target} leaked"
        );
    }
    assert_eq!(request(port, "POST", "/out.dzi").status, 405);
    assert_eq!(request(port, "DELETE", "/out.dzi").status, 405);

    // One access-log line per request, with the status.
    let log = log_until(&server, |l| l.iter().any(|l| l.contains("DELETE")));
    assert!(
        log.iter()
            .any(|l| l.contains("\"GET /out_files/link.jpg HTTP/1.1\" 404")),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("\"HEAD /out_files/0/0_0.jpg HTTP/1.1\" 200 0")),
        "{log:#?}"
    );
}

#[test]
fn server_logs_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.png"), b"x").unwrap();
    let log = dir.path().join("access.log");
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg(dir.path())
        .args(["--port", "0", "--host", "127.0.0.1", "--log"])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _child = Reaper(child);
    let port: u16 = first
        .trim()
        .strip_prefix("serving http://127.0.0.1:")
        .and_then(|p| p.strip_suffix('/'))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{first:?}"));
    let r = request(port, "GET", "/a.png");
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("image/png"))
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("\"GET /a.png HTTP/1.1\" 200 1 ") {
            break;
        }
        assert!(Instant::now() < deadline, "log: {text:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn server_prefers_the_pyramids_own_page() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<p>own page</p>").unwrap();
    std::fs::write(dir.path().join("x.dzi"), "<Image/>").unwrap();
    let server = start_server(dir.path());
    let r = request(server.port, "GET", "/");
    assert_eq!(r.body, b"<p>own page</p>");
    // A descriptor given by name gets a viewer of its own.
    let server = start_server(&dir.path().join("x.dzi"));
    let r = request(server.port, "GET", "/");
    assert!(
        String::from_utf8(r.body)
            .unwrap()
            .contains(r#""descriptor":"x.dzi""#)
    );
}

#[test]
fn server_reads_a_libvips_zip() {
    let server = start_server(&fixture("pyramid.zip"));
    let page = request(server.port, "GET", "/");
    assert_eq!(page.status, 200);
    assert!(
        String::from_utf8(page.body)
            .unwrap()
            .contains(r#""descriptor":"pyramid/pyramid.dzi""#)
    );
    let d = request(server.port, "GET", "/pyramid/pyramid.dzi");
    assert_eq!(d.status, 200);
    let text = String::from_utf8(d.body).unwrap();
    assert!(text.contains(r#"Width="300""#) && text.contains(r#"TileSize="254""#));
    // The right-hand tile of the top level: 300 - 254 + 1 = 47 wide, grey
    // 128 (JPEG), decoded by gigapix.
    let t = request(server.port, "GET", "/pyramid/pyramid_files/9/1_0.jpeg");
    assert_eq!(
        (t.status, t.header("content-type")),
        (200, Some("image/jpeg"))
    );
    assert_eq!(t.body.len(), 763, "the entry's length in the zip");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jpg");
    std::fs::write(&path, &t.body).unwrap();
    let tile = gigapix::Image::open(&path).unwrap();
    assert_eq!((tile.width(), tile.height()), (47, 200));
    assert!(tile.to_vec().unwrap().iter().all(|&v| v.abs_diff(128) <= 2));
    assert_eq!(
        request(server.port, "GET", "/pyramid/pyramid_files/9/2_0.jpeg").status,
        404
    );
    let h = request(server.port, "HEAD", "/pyramid/pyramid_files/9/1_0.jpeg");
    assert_eq!(h.header("content-length"), Some("763"));
}

#[test]
fn server_inflates_deflated_zip_entries() {
    let server = start_server(&fixture("deflated.zip"));
    let r = request(server.port, "GET", "/notes/readme.txt");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        "gigapix serve inflates deflated entries.\n"
            .repeat(40)
            .as_bytes()
    );
    assert_eq!(
        request(server.port, "GET", "/stored.txt").body,
        b"stored entry\n"
    );
    assert_eq!(request(server.port, "GET", "/notes").status, 404);
}

/// The other layouts, as gigapix's dzsave writes them and (when `vips` is
/// installed) as libvips' does: IIIF 2 and 3, Zoomify and Google, each
/// shown whole and at full resolution (`viewer.zoomTo`, the fragment), and
/// checked on a screenshot. Skipped without Chromium.
#[test]
fn browser_shows_iiif_zoomify_and_google() {
    let Some(chromium) = find_chromium() else {
        eprintln!("skipping browser_shows_iiif_zoomify_and_google: no chromium in PATH");
        return;
    };
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ppm");
    write_blocks_ppm(&input);
    let Some((_browser, mut cdp)) =
        open_browser(&chromium, "browser_shows_iiif_zoomify_and_google")
    else {
        return;
    };
    let have_vips = Command::new("vips").arg("--version").output().is_ok();
    if !have_vips {
        eprintln!(
            "browser_shows_iiif_zoomify_and_google: no libvips `vips`, gigapix's pyramids only"
        );
    }
    let makers: &[&str] = if have_vips {
        &["gigapix", "vips"]
    } else {
        &["gigapix"]
    };
    for (maker, layout) in makers
        .iter()
        .flat_map(|m| ["iiif", "iiif3", "zoomify", "google"].map(|l| (*m, l)))
    {
        // DIR/p/ and, from gigapix, its page DIR/index.html; libvips'
        // pyramids get the page serve makes.
        let root = dir.path().join(format!("{maker}-{layout}"));
        std::fs::create_dir(&root).unwrap();
        let made = if maker == "gigapix" {
            Command::new(BIN)
                .arg("dzsave")
                .arg(&input)
                .arg(root.join("p.dzi"))
                .args(["--layout", layout, "--viewer", "true"])
                .output()
        } else {
            Command::new("vips")
                .arg("dzsave")
                .arg(&input)
                .arg(root.join("p"))
                .args(["--layout", layout])
                .output()
        }
        .unwrap();
        assert!(
            made.status.success()
                && root.join("p").is_dir()
                && (maker == "vips" || root.join("index.html").is_file()),
            "{maker} dzsave --layout {layout}: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        let layout_name = format!("{maker} {layout}");
        let server = start_server(&root);
        cdp.call(
            "Page.navigate",
            json!({"url": format!("http://127.0.0.1:{}/", server.port)}),
        );
        cdp.wait_event("Page.loadEventFired", Duration::from_secs(20));
        let s = cdp.ready_state("true");
        let get = |s: &Value, k: &str| s[k].as_f64().unwrap();
        // Google pyramids record no size: gigapix's page knows its
        // canvas (256 × 2^4 square); serve's page for libvips' tree takes
        // the deepest level's whole tiles.
        let (w, h) = if layout == "google" && maker == "gigapix" {
            (4096.0, 4096.0)
        } else if layout == "google" {
            (
                256.0 * (f64::from(W) / 256.0).ceil(),
                256.0 * (f64::from(H) / 256.0).ceil(),
            )
        } else {
            (f64::from(W), f64::from(H))
        };
        assert_eq!(
            (get(&s, "width"), get(&s, "height")),
            (w, h),
            "{layout_name}: {s}"
        );
        check_screenshot(
            &mut cdp,
            dir.path(),
            get(&s, "zoom"),
            get(&s, "x"),
            get(&s, "y"),
        );
        // Through the API for IIIF, through the fragment for the others.
        if layout.starts_with("iiif") {
            cdp.eval("viewer.zoomTo(1, 1500, 1080)");
        } else {
            cdp.eval("location.hash = '#zoom=1&x=1500&y=1080'");
        }
        let s = cdp.ready_state("s.zoom === 1");
        assert_eq!(
            get(&s, "level"),
            get(&s, "levels") - 1.0,
            "{layout_name}: {s}"
        );
        check_screenshot(&mut cdp, dir.path(), 1.0, 1500.0, 1080.0);
        // Google trees may leave out blank tiles (gigapix's skip_blanks
        // default): the page then shows blank.png, which must be there.
        let log = server.log();
        assert!(
            log.iter()
                .all(|l| !l.contains("\" 404 ") || (layout == "google" && !l.contains("blank.png"))),
            "{layout_name}: the viewer asked for missing files: {log:#?}"
        );
    }
    eprintln!("other layouts: {:.1} s", started.elapsed().as_secs_f64());
}

/// Ctrl-C (SIGINT) stops the server at once with status 130; SIGTERM with
/// 143. Bad sources are one-line errors.
#[cfg(unix)]
#[test]
fn server_stops_on_signals_and_refuses_bad_sources() {
    use rustix::process::{Pid, Signal, kill_process};
    let dir = tempfile::tempdir().unwrap();
    for (signal, code) in [(Signal::INT, 130), (Signal::TERM, 143)] {
        let mut server = start_server(dir.path());
        assert_eq!(request(server.port, "GET", "/").status, 404);
        let child = &mut server._child.0;
        kill_process(Pid::from_child(child), signal).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "serve still running 5 s after {signal:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(code), "after {signal:?}");
    }
    let missing = dir.path().join("missing");
    let bad_zip = dir.path().join("bad.zip");
    std::fs::write(&bad_zip, b"PK\x03\x04 truncated").unwrap();
    for (source, message) in [(&missing, "missing"), (&bad_zip, "not a readable zip")] {
        let out = Command::new(BIN)
            .arg("serve")
            .arg(source)
            .args(["--port", "0"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(message) && err.lines().count() == 1, "{err}");
    }
}

#[test]
fn server_reads_zip64_records() {
    let server = start_server(&fixture("zip64.zip"));
    let r = request(server.port, "GET", "/tiles/a.txt");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, b"zip64 entry\n".as_slice())
    );
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(request(server.port, "GET", "/tiles/").status, 404);
}
