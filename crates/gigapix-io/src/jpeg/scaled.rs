//! Shrink-on-load: JPEG decoded at 1/2, 1/4 or 1/8 of its size in the DCT
//! domain by libjpeg-turbo's scaled inverse DCTs (through the `mozjpeg`
//! crate, which builds MozJPEG, a libjpeg-turbo fork, from source; its SIMD
//! needs `nasm` at build time and is left out, with a build warning,
//! without it). The commonest cases, 1/8, 1/4 and 1/2 of a baseline grey,
//! 4:4:4 or 4:2:0 file, are our own decoder's (`eighth.rs`): the same
//! bytes, from a faster entropy decoder (at 1/8, `thumbnail x8k6k.jpg`
//! 0.15 s against 0.19 s through MozJPEG's C code).
//!
//! No pure-Rust JPEG decoder offers DCT scaling: decoding at full size and
//! shrinking afterwards costs the whole inverse DCT, upsampling and colour
//! conversion of every pixel, where a 1/8 decode only needs the DC
//! coefficient of each block. Measured on the bench's 8000x6000 baseline
//! JPEG (release, one core, nasm SIMD): full decode 0.21 s, 1/2 0.13 s,
//! 1/4 0.11 s, 1/8 0.10 s — entropy decoding is what is left.
//!
//! libjpeg is not `Send`, so the decoder lives on a thread of its own that
//! sends bands of rows through a bounded channel; dropping the reader
//! closes the channel and joins the thread. Its fatal errors unwind and are
//! caught on that thread. libjpeg conceals damaged entropy data (it warns
//! and fills flat blocks, and the crate silences warnings), so with
//! `fail_on=error` a file whose data does not end with an EOI marker is
//! refused at open instead.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use gigapix_core::sequential::RowReader;
use gigapix_core::{Error, ErrorKind, Result};

use mozjpeg::ColorSpaceExt;

use super::load::{DecoderThread, Kind};
use super::{bad, eighth};
use crate::input::{Input, Reader};

/// Rows per band sent by the decoder thread.
const BAND_ROWS: usize = 16;

/// Decoded rows the decoder thread may run ahead of the reader, in bytes
/// (at least two bands): a shrunk image is small, and a decoder that
/// waits for the pipeline between its requests leaves a core idle.
const AHEAD_BYTES: usize = 2 << 20;

/// Bands in flight between the decoder thread and the reader of rows of
/// `row_bytes`.
fn bands_ahead(row_bytes: usize) -> usize {
    (AHEAD_BYTES / (BAND_ROWS * row_bytes).max(1)).max(2)
}

/// Memory of the rows of `row_bytes` bytes the decoder thread may send
/// ahead, with the band being filled and the band being read.
pub(super) fn ahead_bytes(row_bytes: usize) -> u64 {
    ((bands_ahead(row_bytes) + 2) * BAND_ROWS * row_bytes) as u64
}

/// Largest file on disk that our decoder ([`eighth`]) decodes (from memory, read whole);
/// larger ones stream through libjpeg. Files in memory are decoded there
/// whatever their size.
const OURS_MAX_FILE: u64 = 256 << 20;

/// The output size of a `1/shrink` decode of a `width` x `height` JPEG, as
/// libjpeg computes it (rounding up).
pub(super) fn scaled_size(width: usize, height: usize, shrink: usize) -> (usize, usize) {
    (width.div_ceil(shrink), height.div_ceil(shrink))
}

/// `Err` unless the last two bytes of the file are an EOI marker.
pub(super) fn check_eoi(input: &Input, name: &str) -> Result<()> {
    let mut tail = [0u8; 2];
    match input {
        Input::Path(path) => {
            let mut file = File::open(path).map_err(|e| Error::io(name, e))?;
            file.seek(SeekFrom::End(-2))
                .and_then(|_| file.read_exact(&mut tail))
                .map_err(|e| Error::io(name, e))?;
        }
        Input::Bytes(bytes) => {
            let data = bytes.as_ref();
            if let Some(last) = data.len().checked_sub(2) {
                tail.copy_from_slice(&data[last..]);
            }
        }
    }
    if tail != [0xFF, 0xD9] {
        return Err(bad(
            name,
            "file is truncated: the JPEG data does not end with an EOI marker",
        ));
    }
    Ok(())
}

type Band = Result<Vec<u8>>;

/// Rows of a scaled decode, for the sequential source.
pub(super) struct ScaledRows {
    bands: Receiver<Band>,
    free: Sender<Vec<u8>>,
    name: Arc<str>,
    row_bytes: usize,
    /// The band being read and the next row in it.
    band: Vec<u8>,
    at: usize,
    /// Declared last: joined once the channels are closed.
    _decoder: DecoderThread,
}

impl ScaledRows {
    /// Starts decoding `input` at `1/shrink` scale into `bands`-band rows
    /// of `width` pixels.
    pub(super) fn new(
        input: Input,
        name: Arc<str>,
        kind: Kind,
        shrink: usize,
        width: usize,
        bands: usize,
    ) -> Result<ScaledRows> {
        let (tx, rx) = mpsc::sync_channel::<Band>(bands_ahead(width * bands));
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let row_bytes = width * bands;
        let thread_name = name.clone();
        let handle = std::thread::Builder::new()
            .name("jpeg-scaled".to_string())
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    decode(&input, &thread_name, kind, shrink, row_bytes, &tx, &free_rx)
                }));
                let error = match result {
                    Ok(Ok(())) => return,
                    Ok(Err(e)) => e,
                    Err(payload) => {
                        let msg = payload
                            .downcast_ref::<String>()
                            .map(String::as_str)
                            .or_else(|| payload.downcast_ref::<&str>().copied())
                            .unwrap_or("the decoder failed");
                        bad(&thread_name, format_args!("damaged JPEG: {msg}"))
                    }
                };
                let _ = tx.send(Err(error));
            })
            .map_err(|e| Error::io(format_args!("{name}: cannot start the decoder thread"), e))?;
        Ok(ScaledRows {
            bands: rx,
            free: free_tx,
            name,
            row_bytes,
            band: Vec::new(),
            at: 0,
            _decoder: DecoderThread(Some(handle)),
        })
    }
}

/// `true` if the decoder reads a file of `len` bytes whole into memory:
/// our decoder (`eighth.rs`, at 1/8, 1/4 and 1/2) of grey and YCbCr files up
/// to [`OURS_MAX_FILE`] (bytes in memory it reads where they are).
pub(super) fn ours_reads_whole(len: u64, kind: Kind, shrink: usize) -> bool {
    ours_takes(kind, shrink) && len <= OURS_MAX_FILE
}

/// `true` if our decoder may take this colour kind at this shrink (it
/// still refuses, in `Frame::parse`, what it cannot decode).
fn ours_takes(kind: Kind, shrink: usize) -> bool {
    eighth::SHRINKS.contains(&shrink) && matches!(kind, Kind::Grey | Kind::YCbCr)
}

/// The decoder thread: decodes the whole file in bands of rows, until the
/// end or until the reader is gone.
fn decode(
    input: &Input,
    name: &str,
    kind: Kind,
    shrink: usize,
    row_bytes: usize,
    tx: &SyncSender<Band>,
    free: &Receiver<Vec<u8>>,
) -> Result<()> {
    let io = |e: std::io::Error| bad(name, format_args!("damaged JPEG: {e}"));
    let mut reader = input.reader(name, |f| BufReader::with_capacity(256 << 10, f))?;
    if ours_takes(kind, shrink) {
        let mut read = Vec::new();
        let data: Option<&[u8]> = match &mut reader {
            Reader::File(file) => {
                let file = file.get_mut();
                if file
                    .metadata()
                    .is_ok_and(|m| ours_reads_whole(m.len(), kind, shrink))
                {
                    file.read_to_end(&mut read)
                        .map_err(|e| Error::io(name, e))?;
                    file.seek(SeekFrom::Start(0))
                        .map_err(|e| Error::io(name, e))?;
                    Some(&read)
                } else {
                    None
                }
            }
            Reader::Bytes(bytes) => Some(bytes.get_ref().as_ref()),
        };
        if let Some(data) = data
            && let Some(frame) = eighth::Frame::parse(data, kind == Kind::Grey)
        {
            let bands = if kind == Kind::Grey { 1 } else { 3 };
            if frame.size(shrink).0 * bands != row_bytes {
                return Err(bad(name, "the file changed since it was opened"));
            }
            let mut band = Vec::new();
            let mut open = true;
            frame.decode(data, shrink, |rows| {
                band.extend_from_slice(rows);
                if band.len() >= BAND_ROWS * row_bytes {
                    let next = free.try_recv().map(|mut b| {
                        b.clear();
                        b
                    });
                    open = tx
                        .send(Ok(std::mem::replace(&mut band, next.unwrap_or_default())))
                        .is_ok();
                }
                open
            });
            if open && !band.is_empty() {
                let _ = tx.send(Ok(band));
            }
            return Ok(());
        }
    }
    let mut decoder = mozjpeg::Decompress::builder()
        .from_reader(reader)
        .map_err(io)?;
    decoder.scale((8 / shrink) as u8);
    let space = match kind {
        Kind::Grey => mozjpeg::ColorSpace::JCS_GRAYSCALE,
        Kind::YCbCr | Kind::Rgb => mozjpeg::ColorSpace::JCS_RGB,
        Kind::Cmyk { .. } | Kind::Ycck => mozjpeg::ColorSpace::JCS_CMYK,
    };
    let invert = match kind {
        Kind::Cmyk { invert } => invert,
        Kind::Ycck => true,
        _ => false,
    };
    let mut started = decoder.to_colorspace(space).map_err(io)?;
    if started.width() * space.num_components() != row_bytes {
        return Err(bad(name, "the file changed since it was opened"));
    }
    let mut left = started.height();
    while left > 0 {
        let rows = left.min(BAND_ROWS);
        let mut band = free.try_recv().unwrap_or_default();
        band.resize(rows * row_bytes, 0);
        started.read_scanlines_into::<u8>(&mut band).map_err(io)?;
        if invert {
            band.iter_mut().for_each(|v| *v = 255 - *v);
        }
        left -= rows;
        if tx.send(Ok(band)).is_err() {
            return Ok(());
        }
    }
    // The rest of the file (after the last row) is not needed.
    drop(started);
    Ok(())
}

impl RowReader for ScaledRows {
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
        for out in buf.chunks_exact_mut(self.row_bytes) {
            if self.at == self.band.len() {
                let next = self.bands.recv().map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!("{}: read past the last row", self.name),
                    )
                })??;
                let old = std::mem::replace(&mut self.band, next);
                let _ = self.free.send(old);
                self.at = 0;
            }
            out.copy_from_slice(&self.band[self.at..self.at + self.row_bytes]);
            self.at += self.row_bytes;
        }
        Ok(())
    }
}
