//! Standard input and output, and the null sink.
//!
//! - IN `-` (or `-[options]`, load options as after a file name) is
//!   standard input. It is read whole into memory first, at most the
//!   loader's single-allocation limit (`Limits::max_alloc`, 4 GiB by
//!   default), and only one input of a command may be `-`.
//! - OUT `.EXT` or `.EXT[options]` alone (`.png`, `.jpg[Q=85]`: a dot, then
//!   letters and digits) is standard output in that format, refused when
//!   standard output is a terminal; `./.jpg` is a path (and `.name.jpg`
//!   too: one extension after the dot, nothing else, makes a suffix).
//!   TIFF is written with seeks: straight into standard output when that
//!   is a regular file (a `>` redirect), else encoded in memory first (at
//!   most `--memory`, or 4 GiB) and then written. Tile pyramids, which are
//!   many files, are refused.
//! - OUT `null:` is the null sink: every pixel is computed and discarded.
//!   `-` as OUT means the same (its older name, still accepted).

use std::io::{self, IsTerminal, Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use gigapix::{Image, Limits, OpenOptions, Run, RunReport};

use crate::Failure;
use crate::pipeline::UsageError;

/// The name of the null sink as OUT.
pub(crate) const NULL_SINK: &str = "null:";

/// Where an OUT word sends the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// Compute and discard (`null:`, or `-`).
    Null,
    /// Standard output, in the format of this suffix (`.png[compression=9]`).
    Stdout(&'a str),
    /// A file (or directory tree) at this path, with its options.
    Path(&'a str),
}

/// What an OUT word means: `null:` or `-`, a bare suffix, or a path.
pub(crate) fn target(output: &str) -> Target<'_> {
    if output == NULL_SINK || output == "-" {
        return Target::Null;
    }
    let name = match output.strip_suffix(']').and_then(|s| s.find('[')) {
        Some(i) => &output[..i],
        None => output,
    };
    match name.strip_prefix('.') {
        Some(ext) if !ext.is_empty() && ext.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Target::Stdout(output)
        }
        _ => Target::Path(output),
    }
}

/// Whether an IN word is standard input: `-`, or `-[options]`.
pub(crate) fn is_stdin(spec: &str) -> bool {
    spec == "-" || (spec.starts_with("-[") && spec.ends_with(']'))
}

/// Set once standard input has been taken by an input.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Claims standard input for one input: a second `-` is a usage error.
fn claim() -> Result<(), Failure> {
    if TAKEN.swap(true, Ordering::SeqCst) {
        return Err(UsageError(
            "only one input can be standard input (`-`): it is read once".into(),
        )
        .into());
    }
    Ok(())
}

/// The load options in the brackets of `-[options]`.
fn options_of(spec: &str) -> Result<OpenOptions, Failure> {
    let (_, params) = gigapix_io::params::split_path(spec)?;
    let mut options = OpenOptions::new();
    options.params = params;
    Ok(options)
}

/// Opens standard input as an image, read whole (the loader's limit).
pub(crate) fn open(spec: &str) -> Result<Image, Failure> {
    let options = options_of(spec)?;
    claim()?;
    let stdin = io::stdin().lock();
    Ok(Image::from(gigapix_io::read_stream(
        stdin, "stdin", &options,
    )?))
}

/// The bytes of standard input, read whole (at most the loader's
/// single-allocation limit), for the commands that need the file itself
/// (`thumbnail`, `header`). `-[options]` is refused where `allow_options`
/// is false.
pub(crate) fn read_all(spec: &str, allow_options: bool) -> Result<Vec<u8>, Failure> {
    if !allow_options && spec != "-" {
        return Err(UsageError(format!(
            "`{spec}`: this command takes no load options on `-`"
        ))
        .into());
    }
    claim()?;
    let max = Limits::default().max_alloc;
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::Runtime(format!("stdin: {e}")))?;
    if bytes.len() as u64 > max {
        return Err(Failure::Runtime(format!(
            "stdin: input is over the loader's limit (max_alloc {max})"
        )));
    }
    if bytes.is_empty() {
        return Err(Failure::Runtime("stdin: input is empty".into()));
    }
    Ok(bytes)
}

/// The made-up path whose extension and brackets are `suffix`'s, for the
/// planner (`stdout.jpg[Q=85]`).
pub(crate) fn plan_path(suffix: &str) -> String {
    format!("stdout{suffix}")
}

/// Keeps the first error of the writer it wraps, to report it as
/// standard output's (the engine's own message names a made-up file).
struct Recorder<W> {
    inner: W,
    error: Option<io::Error>,
}

impl<W> Recorder<W> {
    fn new(inner: W) -> Recorder<W> {
        Recorder { inner, error: None }
    }

    fn keep<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &r
            && self.error.is_none()
        {
            self.error = Some(io::Error::new(e.kind(), e.to_string()));
        }
        r
    }

    /// The run's result, with a writer error told as standard output's.
    fn result(self, r: gigapix::Result<RunReport>) -> Result<RunReport, Failure> {
        match (r, self.error) {
            (Ok(report), None) => Ok(report),
            (_, Some(e)) => Err(Failure::Runtime(format!("writing to standard output: {e}"))),
            (Err(e), None) => Err(e.into()),
        }
    }
}

impl<W: Write> Write for Recorder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        self.keep(r)
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.keep(r)
    }
}

impl<W: Seek> Seek for Recorder<W> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let r = self.inner.seek(pos);
        self.keep(r)
    }
}

/// An in-memory file of at most `cap` bytes, for TIFF into a pipe.
struct Capped {
    buf: io::Cursor<Vec<u8>>,
    cap: u64,
    over: bool,
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.position().saturating_add(data.len() as u64) > self.cap {
            self.over = true;
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "the in-memory TIFF is over its limit",
            ));
        }
        self.buf.write(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Capped {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.buf.seek(pos)
    }
}

/// Standard output as a file, with whether TIFF may seek in it: a regular
/// file at offset 0, not opened for appending.
#[cfg(unix)]
fn stdout_file() -> io::Result<(std::fs::File, bool)> {
    use std::os::fd::AsFd;
    let fd = io::stdout().as_fd().try_clone_to_owned()?;
    let append = rustix::fs::fcntl_getfl(&fd)
        .map(|f| f.contains(rustix::fs::OFlags::APPEND))
        .unwrap_or(true);
    let mut file = std::fs::File::from(fd);
    let regular = file.metadata().is_ok_and(|m| m.is_file());
    let at_start = regular && file.stream_position().is_ok_and(|p| p == 0);
    Ok((file, regular && at_start && !append))
}

/// Writes the run's image to standard output in the format of `suffix`.
pub(crate) fn save(run: &Run<'_>, suffix: &str, budget: Option<u64>) -> Result<RunReport, Failure> {
    if io::stdout().is_terminal() {
        return Err(Failure::Runtime(format!(
            "refusing to write image data to a terminal (`{suffix}` is standard output: redirect it, or give OUT as a path)"
        )));
    }
    let ext = match suffix.find('[') {
        Some(i) => &suffix[..i],
        None => suffix,
    };
    let format = gigapix_io::format_for_path(plan_path(ext));
    if format == Some(gigapix::FileFormat::DeepZoom) {
        return Err(Failure::Runtime(format!(
            "`{suffix}`: a tile pyramid is many files; it cannot go to standard output (give a path)"
        )));
    }
    #[cfg(unix)]
    let (file, seekable) =
        stdout_file().map_err(|e| Failure::Runtime(format!("standard output: {e}")))?;
    if format != Some(gigapix::FileFormat::Tiff) {
        #[cfg(unix)]
        let out = io::BufWriter::with_capacity(1 << 16, file);
        #[cfg(not(unix))]
        let out = io::BufWriter::with_capacity(1 << 16, io::stdout());
        let mut out = Recorder::new(out);
        let r = run.save_to(&mut out, suffix);
        return out.result(r);
    }
    #[cfg(unix)]
    if seekable {
        let mut out = Recorder::new(io::BufWriter::with_capacity(1 << 16, file));
        let r = run.save_to_seekable(&mut out, suffix);
        return out.result(r);
    }
    // TIFF into a pipe: encoded in memory, then written.
    let cap = budget.unwrap_or(Limits::default().max_alloc);
    let mut buffer = Capped {
        buf: io::Cursor::new(Vec::new()),
        cap,
        over: false,
    };
    let r = run.save_to_seekable(&mut buffer, suffix);
    if buffer.over {
        return Err(Failure::Runtime(format!(
            "`{suffix}`: TIFF is written with seeks, so into a pipe it is made in memory first, and this one is over {cap} bytes (`--memory` sets the limit): redirect standard output to a file, or give OUT as a path"
        )));
    }
    let report = r?;
    let mut out = Recorder::new(io::stdout().lock());
    let written = out
        .write_all(buffer.buf.get_ref())
        .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(report),
        Err(e) => Err(Failure::Runtime(format!("writing to standard output: {e}"))),
    }
}

/// Standard input copied into a temporary file, for `header`, which
/// describes a file: the file (removed when dropped) and the image read
/// from it with the load options of `-[options]`, named `stdin`.
pub(crate) fn spool(spec: &str) -> Result<(tempfile::TempPath, Image), Failure> {
    let options = options_of(spec)?;
    let bytes = read_all(spec, true)?;
    let fail =
        |e: io::Error| Failure::Runtime(format!("stdin: spooling into a temporary file: {e}"));
    let mut file = tempfile::NamedTempFile::new().map_err(fail)?;
    file.write_all(&bytes).map_err(fail)?;
    file.flush().map_err(fail)?;
    drop(bytes);
    let path = file.into_temp_path();
    let reader = std::fs::File::open(&path).map_err(fail)?;
    let image = gigapix_io::read_stream(reader, "stdin", &options)?;
    Ok((path, Image::from(image)))
}
