//! The input adapter of zune-jpeg: a buffered file reader that seeks
//! within its buffer.

use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom};

/// Input buffer of the decoder.
const READ_BUFFER: usize = 256 << 10;

/// A buffered file reader for zune-jpeg, which seeks back a little all the
/// time (peeking at markers, checkpoints): `BufReader` throws its buffer
/// away on every seek, this one moves within it.
pub(super) struct FileInput {
    file: File,
    buf: Box<[u8]>,
    /// File offset of `buf[0]`.
    start: u64,
    /// Read position in `buf`.
    pos: usize,
    /// Valid bytes in `buf`.
    len: usize,
}

impl FileInput {
    pub(super) fn new(file: File) -> FileInput {
        FileInput {
            file,
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
            self.len = self.file.read(&mut self.buf)?;
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
                let t = self.file.seek(SeekFrom::Start(t))?;
                (self.start, self.pos, self.len) = (t, 0, 0);
                Ok(t)
            }
            None => {
                let t = self.file.seek(to)?;
                (self.start, self.pos, self.len) = (t, 0, 0);
                Ok(t)
            }
        }
    }

    fn stream_position(&mut self) -> std::io::Result<u64> {
        Ok(self.start + self.pos as u64)
    }
}
