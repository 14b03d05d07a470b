//! Atomic file writers: bands go into a temporary file next to the target,
//! renamed onto it by `finish`, removed if the writer is dropped instead.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use gigapix_core::{BandWriter, Error, ErrorKind, Header, Result};
use tempfile::TempPath;

/// Buffer of the output file. Bands at least this large bypass it.
const OUT_BUFFER: usize = 256 << 10;

/// Largest chunk converted at a time when samples need a byte swap.
const SCRATCH: usize = 1 << 20;

/// A [`BandWriter`] into a temporary file that becomes `target` on
/// [`finish`](BandWriter::finish).
pub(crate) struct FileWriter {
    /// `None` once finished (or while dropping).
    out: Option<BufWriter<File>>,
    temp: Option<TempPath>,
    target: PathBuf,
    name: String,
    rows: RowCheck,
    /// 16-bit samples are written big-endian.
    swap16: bool,
    scratch: Vec<u8>,
}

/// Creates the temporary file that will become `target`, in the target's
/// directory, with the permissions a plain create would give (or those of
/// the file being replaced). Every codec's writer saves through this and
/// [`persist`]: dropping the [`TempPath`] removes the file.
pub(crate) fn create_temp(target: &Path, name: &str) -> Result<(File, TempPath)> {
    let file_name = target.file_name().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: the output path does not name a file"),
        )
    })?;
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
    let mut prefix_name = std::ffi::OsString::from(".");
    prefix_name.push(file_name);
    prefix_name.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix_name).suffix(".tmp");
    #[cfg(unix)]
    {
        // Like a plain create (0666 less the umask), or the mode of the
        // file being replaced; tempfile's default is 0600.
        use std::os::unix::fs::PermissionsExt;
        let mode = existing
            .filter(|m| m.is_file())
            .map_or(0o666, |m| m.permissions().mode() & 0o777);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let temp = builder.tempfile_in(dir).map_err(|e| {
        Error::io(
            format_args!(
                "{name}: cannot create a temporary file in {}",
                dir.display()
            ),
            e,
        )
    })?;
    Ok(temp.into_parts())
}

/// Renames a finished temporary file onto `target`.
pub(crate) fn persist(temp: TempPath, target: &Path, name: &str) -> Result<()> {
    temp.persist(target).map_err(|e| Error::io(name, e.error))
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
        if data.len() as u128 != u128::from(rows) * self.row_bytes as u128 {
            return Err(invalid(format!(
                "band of {rows} rows has {} bytes, expected {} per row",
                data.len(),
                self.row_bytes
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
        target: &Path,
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
        let (file, temp) = create_temp(target, &name)?;
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
