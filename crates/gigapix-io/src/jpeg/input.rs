//! The input adapter of zune-jpeg: a buffered file reader that seeks
//! within its buffer.

use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom};

use gigapix_core::{Error, Result};

use crate::input::{Input, Shared};

/// Input buffer of the decoder.
const READ_BUFFER: usize = 256 << 10;

/// A buffered file reader for zune-jpeg, which seeks back a little all the
/// time (peeking at markers, checkpoints): `BufReader` throws its buffer
/// away on every seek, this one moves within it.
///
/// A file in memory is read the same way, its bytes copied into the buffer
/// 256 KiB at a time: zune-jpeg reads byte by byte, and this keeps each of
/// those reads as cheap as from a file.
pub(super) struct FileInput {
    src: Src,
    buf: Box<[u8]>,
    /// File offset of `buf[0]`.
    start: u64,
    /// Read position in `buf`.
    pos: usize,
    /// Valid bytes in `buf`.
    len: usize,
}

/// What [`FileInput`] reads.
enum Src {
    File(File),
    /// Bytes in memory, and the offset of the next refill.
    Bytes(Shared, u64),
}

impl Src {
    /// Reads at the current position, as [`Read::read`].
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Src::File(file) => file.read(out),
            Src::Bytes(bytes, at) => {
                let data = bytes.as_ref();
                let start = usize::try_from(*at).unwrap_or(usize::MAX).min(data.len());
                let n = out.len().min(data.len() - start);
                out[..n].copy_from_slice(&data[start..start + n]);
                *at += n as u64;
                Ok(n)
            }
        }
    }

    /// Moves the position, as [`Seek::seek`].
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        match self {
            Src::File(file) => file.seek(to),
            Src::Bytes(bytes, at) => {
                let target = match to {
                    SeekFrom::Start(n) => Some(n),
                    SeekFrom::End(d) => (bytes.as_ref().len() as u64).checked_add_signed(d),
                    SeekFrom::Current(d) => at.checked_add_signed(d),
                };
                *at = target.ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "seek before the start of the data",
                    )
                })?;
                Ok(*at)
            }
        }
    }
}

impl FileInput {
    pub(super) fn new(file: File) -> FileInput {
        FileInput::with(Src::File(file))
    }

    /// A reader of `input` from its start (the file opened anew).
    pub(super) fn open(input: &Input, name: &str) -> Result<FileInput> {
        Ok(match input {
            Input::Path(path) => FileInput::new(File::open(path).map_err(|e| Error::io(name, e))?),
            Input::Bytes(bytes) => FileInput::with(Src::Bytes(bytes.clone(), 0)),
        })
    }

    fn with(src: Src) -> FileInput {
        FileInput {
            src,
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            start: 0,
            pos: 0,
            len: 0,
        }
    }
}

impl Read for FileInput {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for FileInput {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos >= self.len {
            self.start += self.len as u64;
            self.pos = 0;
            self.len = 0;
            self.len = self.src.read(&mut self.buf)?;
        }
        Ok(&self.buf[self.pos..self.len])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.len);
    }
}

impl Seek for FileInput {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let here = self.start + self.pos as u64;
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => here.checked_add_signed(d),
            SeekFrom::End(_) => None,
        };
        match target {
            Some(t) if t >= self.start && t <= self.start + self.len as u64 => {
                self.pos = (t - self.start) as usize;
                Ok(t)
            }
            Some(t) => {
                let t = self.src.seek(SeekFrom::Start(t))?;
                (self.start, self.pos, self.len) = (t, 0, 0);
                Ok(t)
            }
            None => {
                let t = self.src.seek(to)?;
                (self.start, self.pos, self.len) = (t, 0, 0);
                Ok(t)
            }
        }
    }

    fn stream_position(&mut self) -> std::io::Result<u64> {
        Ok(self.start + self.pos as u64)
    }
}
