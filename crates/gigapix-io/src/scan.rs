//! A byte-at-a-time reader for file headers, counting its position.

use std::io::{BufRead, ErrorKind as IoKind};

use gigapix_core::{Error, Result};

/// Reads a header byte by byte from a buffered reader, keeping the offset of
/// the next byte (the data offset, once the header is parsed).
pub(crate) struct Scan<'a, R: BufRead> {
    reader: R,
    pos: u64,
    name: &'a str,
}

impl<'a, R: BufRead> Scan<'a, R> {
    pub(crate) fn new(reader: R, name: &'a str) -> Self {
        Scan {
            reader,
            pos: 0,
            name,
        }
    }

    /// Offset of the next byte.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// The file's name, for messages.
    pub(crate) fn name(&self) -> &'a str {
        self.name
    }

    /// The underlying reader, positioned just after the last byte read.
    pub(crate) fn into_inner(self) -> R {
        self.reader
    }

    /// The next byte, or `None` at the end of the file.
    pub(crate) fn byte(&mut self) -> Result<Option<u8>> {
        loop {
            match self.reader.fill_buf() {
                Ok(buf) => {
                    let Some(&b) = buf.first() else {
                        return Ok(None);
                    };
                    self.reader.consume(1);
                    self.pos += 1;
                    return Ok(Some(b));
                }
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => return Err(Error::io(self.name, e)),
            }
        }
    }

    /// Fills `buf` completely; `Ok(false)` if the file ended first (what
    /// was read is then in the front of `buf`, the count in the result of
    /// [`pos`](Scan::pos)).
    pub(crate) fn fill(&mut self, buf: &mut [u8]) -> Result<bool> {
        for slot in buf.iter_mut() {
            match self.byte()? {
                Some(b) => *slot = b,
                None => return Ok(false),
            }
        }
        Ok(true)
    }
}
