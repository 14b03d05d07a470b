//! Where the PNG, JPEG and TIFF loaders read a file from: a path on disk
//! ([`Input::Path`]) or a whole file held in memory ([`Input::Bytes`], the
//! bytes given to [`decode`](crate::decode), shared, never copied).
//!
//! A file is opened once ([`Held`]); every run, worker thread or re-read
//! then gets a reader of its own over it: a fresh handle to the file, or a
//! [`Cursor`] over the shared bytes.

use std::fs::File;
use std::io::{self, BufRead, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gigapix_core::{Error, Result, SharedPixels};

/// A file to load: on disk, or in memory.
#[derive(Clone)]
pub(crate) enum Input {
    /// A file on disk, opened (maybe several times) by the loader.
    Path(PathBuf),
    /// The bytes of a whole file, shared with the caller.
    Bytes(Shared),
}

impl Input {
    /// A file on disk.
    pub(crate) fn path(path: &Path) -> Input {
        Input::Path(path.to_path_buf())
    }

    /// A file held in memory.
    pub(crate) fn bytes(bytes: Arc<dyn SharedPixels>) -> Input {
        Input::Bytes(Shared(bytes))
    }

    /// Opens the input once, for readers to share.
    pub(crate) fn open(&self, name: &str) -> Result<Held> {
        match self {
            Input::Path(path) => {
                let file = File::open(path).map_err(|e| Error::io(name, e))?;
                Ok(Held::File(Arc::new(file)))
            }
            Input::Bytes(bytes) => Ok(Held::Bytes(bytes.clone())),
        }
    }

    /// A reader of the input from its start: `file` wraps a newly opened
    /// handle to the file; bytes are read through a [`Cursor`].
    #[cfg(feature = "mozjpeg")]
    pub(crate) fn reader<F>(&self, name: &str, file: impl FnOnce(File) -> F) -> Result<Reader<F>> {
        match self {
            Input::Path(path) => {
                let f = File::open(path).map_err(|e| Error::io(name, e))?;
                Ok(Reader::File(file(f)))
            }
            Input::Bytes(bytes) => Ok(Reader::Bytes(bytes.cursor())),
        }
    }
}

/// Bytes in memory, shared: `AsRef<[u8]>` for a [`Cursor`].
#[derive(Clone)]
pub(crate) struct Shared(pub(crate) Arc<dyn SharedPixels>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        self.0.bytes()
    }
}

impl Shared {
    /// A reader of the bytes from their start.
    pub(crate) fn cursor(&self) -> Cursor<Shared> {
        Cursor::new(self.clone())
    }
}

/// An opened input, shared by the readers of every run and thread.
#[derive(Clone)]
pub(crate) enum Held {
    /// An open file.
    File(Arc<File>),
    /// Bytes in memory.
    Bytes(Shared),
}

impl Held {
    /// The length of the file, in bytes.
    pub(crate) fn len(&self, name: &str) -> Result<u64> {
        match self {
            Held::File(file) => Ok(file.metadata().map_err(|e| Error::io(name, e))?.len()),
            Held::Bytes(bytes) => Ok(bytes.as_ref().len() as u64),
        }
    }

    /// Reads at offset `pos` without moving any position (a positional
    /// read of the file, `pread`), so any number of threads can read at
    /// once.
    pub(crate) fn read_at(&self, buf: &mut [u8], pos: u64) -> io::Result<usize> {
        match self {
            #[cfg(unix)]
            Held::File(file) => std::os::unix::fs::FileExt::read_at(&**file, buf, pos),
            #[cfg(windows)]
            Held::File(file) => std::os::windows::fs::FileExt::seek_read(&**file, buf, pos),
            Held::Bytes(bytes) => {
                let data = bytes.as_ref();
                let start = usize::try_from(pos).unwrap_or(usize::MAX).min(data.len());
                let n = buf.len().min(data.len() - start);
                buf[..n].copy_from_slice(&data[start..start + n]);
                Ok(n)
            }
        }
    }

    /// A reader from the start of the input: `file` wraps a new handle to
    /// the open file (sharing its position, as [`File::try_clone`] does),
    /// rewound; bytes are read through a [`Cursor`].
    pub(crate) fn reader<F>(&self, name: &str, file: impl FnOnce(File) -> F) -> Result<Reader<F>> {
        match self {
            Held::File(f) => {
                let mut f = f.try_clone().map_err(|e| Error::io(name, e))?;
                f.seek(SeekFrom::Start(0)).map_err(|e| Error::io(name, e))?;
                Ok(Reader::File(file(f)))
            }
            Held::Bytes(bytes) => Ok(Reader::Bytes(bytes.cursor())),
        }
    }
}

/// A reader of a file (through the loader's own buffered reader `F`) or
/// of bytes in memory.
pub(crate) enum Reader<F> {
    /// The file, read through `F`.
    File(F),
    /// Bytes in memory.
    Bytes(Cursor<Shared>),
}

impl<F: Read> Read for Reader<F> {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Reader::File(f) => f.read(out),
            Reader::Bytes(c) => c.read(out),
        }
    }

    #[inline]
    fn read_exact(&mut self, out: &mut [u8]) -> io::Result<()> {
        match self {
            Reader::File(f) => f.read_exact(out),
            Reader::Bytes(c) => c.read_exact(out),
        }
    }
}

impl<F: BufRead> BufRead for Reader<F> {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Reader::File(f) => f.fill_buf(),
            Reader::Bytes(c) => c.fill_buf(),
        }
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        match self {
            Reader::File(f) => f.consume(n),
            Reader::Bytes(c) => c.consume(n),
        }
    }
}

impl<F: Seek> Seek for Reader<F> {
    #[inline]
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Reader::File(f) => f.seek(to),
            Reader::Bytes(c) => c.seek(to),
        }
    }

    #[inline]
    fn stream_position(&mut self) -> io::Result<u64> {
        match self {
            Reader::File(f) => f.stream_position(),
            Reader::Bytes(c) => c.stream_position(),
        }
    }
}
