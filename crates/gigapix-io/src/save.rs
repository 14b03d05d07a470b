//! Atomic file writers: bands go into a temporary file in the target's
//! directory, which becomes the target by `finish`, and disappears if the
//! writer is dropped instead. The user's old file is never touched until
//! the new one is complete.
//!
//! On Linux the temporary file is unnamed (`O_TMPFILE`): it has no name
//! until the save is complete, so even a process killed by `SIGKILL`
//! leaves nothing behind. It is then linked in as the target when there is
//! none, or linked under a hidden name and renamed over the target (a
//! window of two system calls). Where the filesystem refuses `O_TMPFILE`,
//! or elsewhere, the temporary file is a hidden named `.NAME.XXXXXX.tmp`,
//! removed when the save fails or is dropped. The environment variable
//! `GIGAPIX_NO_O_TMPFILE=1` forces named temporary files (a testing knob).
//!
//! The destination of a save is a [`Dest`]: a path (the atomic temporary
//! file above) or a caller's writer ([`Dest::stream`]). Every saver gets
//! its output from [`create_out`] and ends with [`persist`], so the same
//! code writes files and streams: for a stream, [`OutFile`] forwards to the
//! writer, `persist` flushes it, and an unfinished save just stops writing
//! (whatever reached the writer stays there; no file is made).
//!
//! Every named temporary file is listed while it exists, so that a process
//! about to exit abruptly (a second Ctrl-C) can remove them all with
//! [`abandon_saves`].

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use gigapix_core::{BandWriter, Error, ErrorKind, Header, Result};
use tempfile::TempPath;

/// Buffer of the output file. Bands at least this large bypass it.
const OUT_BUFFER: usize = 256 << 10;

/// Largest chunk converted at a time when samples need a byte swap.
const SCRATCH: usize = 1 << 20;

/// A writer that can also seek: the output of savers that go back (TIFF).
pub(crate) trait WriteSeek: Write + Seek + Send {}

impl<T: Write + Seek + Send> WriteSeek for T {}

/// A caller's writer, shared by the saver's [`OutFile`] and its [`Temp`]
/// (which flushes it in [`persist`]).
pub(crate) enum Stream {
    /// Written front to back only.
    Plain(Box<dyn Write + Send>),
    /// Can seek too.
    Seekable(Box<dyn WriteSeek>),
}

type SharedStream = Arc<Mutex<Stream>>;

fn lock(stream: &SharedStream) -> MutexGuard<'_, Stream> {
    stream.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where a save goes: a path, or a caller's writer. Derefs to the path,
/// which names the output in errors and carries the extension that
/// chose the format (for a writer, a made-up name such as `<writer>.png`).
#[derive(Clone)]
pub(crate) struct Dest {
    path: PathBuf,
    stream: Option<SharedStream>,
}

impl Dest {
    /// The file at `path`, written atomically.
    pub(crate) fn path(path: PathBuf) -> Dest {
        Dest { path, stream: None }
    }

    /// The writer `stream`, named `name` in errors.
    pub(crate) fn stream(name: PathBuf, stream: Stream) -> Dest {
        Dest {
            path: name,
            stream: Some(Arc::new(Mutex::new(stream))),
        }
    }
}

impl std::ops::Deref for Dest {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

/// The output a saver writes into: its temporary file, or the caller's
/// writer.
pub(crate) enum OutFile {
    /// The temporary file of a save to a path.
    File(File),
    /// A caller's writer.
    Stream(SharedStream),
}

fn not_seekable() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "the output writer cannot seek (use a seekable writer)",
    )
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            OutFile::File(f) => f.write(buf),
            OutFile::Stream(s) => match &mut *lock(s) {
                Stream::Plain(w) => w.write(buf),
                Stream::Seekable(w) => w.write(buf),
            },
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            OutFile::File(f) => f.write_all(buf),
            OutFile::Stream(s) => match &mut *lock(s) {
                Stream::Plain(w) => w.write_all(buf),
                Stream::Seekable(w) => w.write_all(buf),
            },
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            OutFile::File(f) => f.flush(),
            OutFile::Stream(s) => match &mut *lock(s) {
                Stream::Plain(w) => w.flush(),
                Stream::Seekable(w) => w.flush(),
            },
        }
    }
}

impl Seek for OutFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            OutFile::File(f) => f.seek(pos),
            OutFile::Stream(s) => match &mut *lock(s) {
                Stream::Plain(_) => Err(not_seekable()),
                Stream::Seekable(w) => w.seek(pos),
            },
        }
    }
}

/// The output of a save to `dest`: a temporary file for a path (see
/// [`create_temp`]), the writer itself for a stream.
pub(crate) fn create_out(dest: &Dest, name: &str) -> Result<(OutFile, Temp)> {
    match &dest.stream {
        Some(stream) => Ok((
            OutFile::Stream(stream.clone()),
            Temp {
                dir: PathBuf::new(),
                kind: TempKind::Stream(stream.clone()),
            },
        )),
        None => {
            let (file, temp) = create_temp(&dest.path, name)?;
            Ok((OutFile::File(file), temp))
        }
    }
}

/// A [`BandWriter`] into a temporary file that becomes `target` on
/// [`finish`](BandWriter::finish).
pub(crate) struct FileWriter {
    /// `None` once finished (or while dropping).
    out: Option<BufWriter<OutFile>>,
    temp: Option<Temp>,
    target: PathBuf,
    name: String,
    rows: RowCheck,
    /// 16-bit samples are written big-endian.
    swap16: bool,
    scratch: Vec<u8>,
}

/// The named temporary files of this process's unfinished saves.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes the temporary file of every unfinished save of this process and
/// makes every save that would create, rename or remove one from now on
/// wait for ever: for a process about to exit at once (a second interrupt
/// while the first is being cleaned up), so that it leaves no temporary
/// file behind. The users' files are untouched: a save either renamed its
/// complete file onto its target already, or never will.
pub fn abandon_saves() {
    let mut live = live();
    for path in live.drain(..) {
        let _ = std::fs::remove_file(path);
    }
    // Never unlocked: nothing may name a new temporary file any more.
    std::mem::forget(live);
}

/// The temporary file that becomes the target: made by [`create_temp`],
/// turned into the target by [`persist`], gone when dropped.
pub(crate) struct Temp {
    /// The target's directory (where an unnamed file gets its name).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    dir: PathBuf,
    kind: TempKind,
}

enum TempKind {
    /// An `O_TMPFILE` inode with no name: this second handle keeps it
    /// alive (the writer's own may be closed before [`persist`]), and
    /// closing it frees the file.
    #[cfg(target_os = "linux")]
    Unnamed(File),
    /// A hidden named file, listed in [`LIVE`]; `None` once persisted or
    /// removed.
    Named(Option<TempPath>),
    /// A caller's writer: nothing to remove, flushed by [`persist`].
    Stream(SharedStream),
}

impl Temp {
    /// Takes a named temporary file into the list (the caller holds it).
    fn named(dir: &Path, path: TempPath, live: &mut Vec<PathBuf>) -> Temp {
        live.push(path.to_path_buf());
        Temp {
            dir: dir.to_path_buf(),
            kind: TempKind::Named(Some(path)),
        }
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if let TempKind::Named(path) = &mut self.kind
            && let Some(path) = path.take()
        {
            let mut live = live();
            unlist(&mut live, &path);
            // Removes the file.
            drop(path);
        }
    }
}

fn unlist(live: &mut Vec<PathBuf>, path: &Path) {
    if let Some(i) = live.iter().position(|p| p == path) {
        live.swap_remove(i);
    }
}

/// The prefix of the hidden temporary names for `target`: `.NAME.` (then
/// six random characters and `.tmp`).
fn hidden_prefix(target: &Path, name: &str) -> Result<std::ffi::OsString> {
    let file_name = target.file_name().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: the output path does not name a file"),
        )
    })?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(file_name);
    prefix.push(".");
    Ok(prefix)
}

/// Creates the temporary file that will become `target`, in the target's
/// directory, with the permissions a plain create would give (or those of
/// the file being replaced). Every codec's writer saves through this and
/// [`persist`]: dropping the [`Temp`] removes the file.
pub(crate) fn create_temp(target: &Path, name: &str) -> Result<(File, Temp)> {
    let prefix = hidden_prefix(target, name)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let existing = std::fs::metadata(target).ok();
    if existing.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: is a directory"),
        ));
    }
    let cannot = |e| {
        Error::io(
            format_args!(
                "{name}: cannot create a temporary file in {}",
                dir.display()
            ),
            e,
        )
    };
    // Like a plain create (0666 less the umask), or the mode of the file
    // being replaced; tempfile's default is 0600.
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        existing
            .filter(|m| m.is_file())
            .map_or(0o666, |m| m.permissions().mode() & 0o777)
    };
    #[cfg(target_os = "linux")]
    if let Some(file) = unnamed::create(dir, mode).map_err(cannot)? {
        let keep = file.try_clone().map_err(cannot)?;
        let temp = Temp {
            dir: dir.to_path_buf(),
            kind: TempKind::Unnamed(keep),
        };
        return Ok((file, temp));
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    // Listed under the lock it is created under: no moment where it
    // exists unlisted.
    let mut live = live();
    let (file, path) = builder.tempfile_in(dir).map_err(cannot)?.into_parts();
    Ok((file, Temp::named(dir, path, &mut live)))
}

/// Makes a finished temporary file the target, replacing any file there
/// in one rename.
pub(crate) fn persist(mut temp: Temp, target: &Path, name: &str) -> Result<()> {
    match &mut temp.kind {
        TempKind::Stream(stream) => {
            let flushed = match &mut *lock(stream) {
                Stream::Plain(w) => w.flush(),
                Stream::Seekable(w) => w.flush(),
            };
            flushed.map_err(|e| Error::io(name, e))
        }
        #[cfg(target_os = "linux")]
        TempKind::Unnamed(file) => {
            if unnamed::link(file, target).map_err(|e| Error::io(name, e))? {
                return Ok(());
            }
            // A file is there: name ours with a hidden name, then rename it
            // over, all under the lock so that `abandon_saves` finds the
            // hidden name either absent or gone.
            let prefix = hidden_prefix(target, name)?;
            let _live = live();
            let linked = tempfile::Builder::new()
                .prefix(&prefix)
                .suffix(".tmp")
                .make_in(&temp.dir, |path| {
                    match unnamed::link(file, path) {
                        Ok(true) => Ok(()),
                        // tempfile tries another name.
                        Ok(false) => Err(std::io::ErrorKind::AlreadyExists.into()),
                        Err(e) => Err(e),
                    }
                })
                .map_err(|e| Error::io(name, e))?
                .into_temp_path();
            // On failure the returned path is dropped, removing the name.
            linked.persist(target).map_err(|e| Error::io(name, e.error))
        }
        TempKind::Named(path) => {
            let path = path.take().expect("persisted once");
            let mut live = live();
            unlist(&mut live, &path);
            path.persist(target).map_err(|e| Error::io(name, e.error))
        }
    }
}

/// `O_TMPFILE` files, through `rustix` (no `unsafe`).
#[cfg(target_os = "linux")]
mod unnamed {
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;
    use std::path::Path;

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use rustix::io::Errno;

    /// An unnamed file in `dir` with permissions `mode` (less the umask),
    /// or `None` where it cannot be made: a filesystem without
    /// `O_TMPFILE` (`EOPNOTSUPP`), a kernel without it (`EISDIR`,
    /// `EINVAL`), no `/proc` to link it in later, or
    /// `GIGAPIX_NO_O_TMPFILE` set.
    pub(super) fn create(dir: &Path, mode: u32) -> io::Result<Option<File>> {
        if std::env::var_os("GIGAPIX_NO_O_TMPFILE").is_some_and(|v| !v.is_empty() && v != "0")
            || !Path::new("/proc/self/fd").is_dir()
        {
            return Ok(None);
        }
        let flags = OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC;
        match rustix::fs::open(dir, flags, Mode::from_raw_mode(mode)) {
            Ok(fd) => Ok(Some(File::from(fd))),
            Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Gives the unnamed `file` the name `path`: `Ok(false)` if something
    /// has that name already.
    pub(super) fn link(file: &File, path: &Path) -> io::Result<bool> {
        let fd_path = format!("/proc/self/fd/{}", file.as_raw_fd());
        match rustix::fs::linkat(CWD, fd_path.as_str(), CWD, path, AtFlags::SYMLINK_FOLLOW) {
            Ok(()) => Ok(true),
            Err(Errno::EXIST) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// What every writer checks of the bands it is handed: top to bottom, each
/// row once, inside the image, exactly `row_bytes` per row; and at the end,
/// that every row came.
#[derive(Debug)]
pub(crate) struct RowCheck {
    height: u32,
    row_bytes: usize,
    next: u32,
}

impl RowCheck {
    pub(crate) fn new(height: u32, row_bytes: usize) -> RowCheck {
        RowCheck {
            height,
            row_bytes,
            next: 0,
        }
    }

    /// Accepts the band of `rows` rows at `y` (and counts it), or says why
    /// not.
    pub(crate) fn accept(&mut self, name: &str, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        if data.len() as u128 != u128::from(rows) * self.row_bytes as u128 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{name}: band of {rows} rows has {} bytes, expected {} per row",
                    data.len(),
                    self.row_bytes
                ),
            ));
        }
        self.accept_rows(name, y, rows)
    }

    /// [`accept`](Self::accept) of a band whose pixels an encoder took.
    pub(crate) fn accept_rows(&mut self, name: &str, y: u32, rows: u32) -> Result<()> {
        let invalid =
            |msg: String| Error::new(ErrorKind::InvalidArgument, format!("{name}: {msg}"));
        if y != self.next {
            return Err(invalid(format!(
                "band at row {y} written out of order (expected row {})",
                self.next
            )));
        }
        let end = u64::from(y) + u64::from(rows);
        if end > u64::from(self.height) {
            return Err(invalid(format!(
                "band of rows {y}..{end} runs past the height {}",
                self.height
            )));
        }
        self.next = y + rows;
        Ok(())
    }

    /// `Ok` once every row has been accepted.
    pub(crate) fn complete(&self, name: &str) -> Result<()> {
        if self.next != self.height {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{name}: only {} of {} rows were written; nothing saved",
                    self.next, self.height
                ),
            ));
        }
        Ok(())
    }
}

impl FileWriter {
    /// Creates the temporary file for `target` in the target's directory and
    /// writes `prefix` (the file header) into it.
    pub(crate) fn create(
        target: &Dest,
        header: &Header,
        prefix: &[u8],
        swap16: bool,
    ) -> Result<FileWriter> {
        let name = target.display().to_string();
        let row_bytes =
            u128::from(header.width) * u128::from(header.bands) * header.format.size() as u128;
        if header.width == 0
            || header.height == 0
            || header.bands == 0
            || row_bytes > isize::MAX as u128
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{name}: cannot save an image of {header}"),
            ));
        }
        let (file, temp) = create_out(target, &name)?;
        let mut out = BufWriter::with_capacity(OUT_BUFFER, file);
        out.write_all(prefix).map_err(|e| Error::io(&name, e))?;
        Ok(FileWriter {
            out: Some(out),
            temp: Some(temp),
            target: target.to_path_buf(),
            name,
            rows: RowCheck::new(header.height, row_bytes as usize),
            swap16,
            scratch: Vec::new(),
        })
    }
}

impl BandWriter for FileWriter {
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        self.rows.accept(&self.name, y, rows, data)?;
        let out = self.out.as_mut().expect("not finished");
        if self.swap16 {
            let chunk = SCRATCH.min(data.len());
            self.scratch.resize(chunk, 0);
            for src in data.chunks(chunk.max(2)) {
                let dst = &mut self.scratch[..src.len()];
                crate::source::swap_be16(src, dst);
                out.write_all(dst).map_err(|e| Error::io(&self.name, e))?;
            }
        } else {
            out.write_all(data).map_err(|e| Error::io(&self.name, e))?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.rows.complete(&self.name)?;
        let out = self.out.take().expect("finished once");
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&self.name, e.into_error()))?;
        drop(file);
        let temp = self.temp.take().expect("finished once");
        persist(temp, &self.target, &self.name)
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        // Unfinished: close without flushing the buffer (the file is about
        // to go), then `temp` removes it.
        if let Some(out) = self.out.take() {
            drop(out.into_parts());
        }
    }
}
