//! The seams between the engine's sinks and the code they feed:
//! [`BandWriter`] (encoders, fed whole rows top to bottom), with its
//! optional [`BandEncoder`] (encoding on the workers, in parallel), and
//! [`Reducer`] (statistics, fed regions in any order, one accumulator per
//! thread).

use std::sync::Arc;

use crate::{Error, ErrorKind, Region, Result};

/// Receives an image as bands of full rows, top to bottom, each band once:
/// what a file encoder implements. The ordered sink calls it from one
/// writer thread while workers compute the bands that follow.
pub trait BandWriter: Send {
    /// Writes `rows` full rows packed in `data` (`rows × header.row_bytes()`
    /// bytes), the band starting at row `y`.
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()>;

    /// Called once after the last band: flush, and make the result visible
    /// (for files: rename the temporary into place). If it is never called
    /// (an error stopped the run), dropping the writer must discard the
    /// partial output.
    fn finish(self: Box<Self>) -> Result<()>;

    /// Memory estimate: bytes the encoder holds while bands of `band_rows`
    /// rows arrive (its strip buffers, compressor state, output buffer).
    /// The planner adds it to a run's estimate; 0 by default.
    fn buffer_bytes(&self, _band_rows: u32) -> u64 {
        0
    }

    /// The band height this writer encodes best, if it has one: the
    /// planner takes it for a run of full-width bands whose tile the
    /// caller did not fix. `None` by default.
    fn band_rows(&self) -> Option<u32> {
        None
    }

    /// An encoder the workers run on each band of `band_rows` rows (the
    /// last may be shorter) as soon as they have computed it, in parallel
    /// and straight from the computed region when its rows are packed;
    /// the writer thread then gets the encoded bytes, in order, through
    /// [`write_encoded`](Self::write_encoded) instead of
    /// [`write_band`](Self::write_band). `None` (the default) when the
    /// writer does not take bands of that height this way.
    fn band_encoder(&mut self, _band_rows: u32) -> Option<Arc<dyn BandEncoder>> {
        None
    }

    /// Writes what the [`band_encoder`](Self::band_encoder) made of the
    /// band of `rows` rows at row `y`. Only called when `band_encoder`
    /// gave an encoder.
    fn write_encoded(&mut self, y: u32, _rows: u32, _encoded: &[u8]) -> Result<()> {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("band at row {y}: this writer takes no encoded bands"),
        ))
    }
}

/// Encodes bands of an image on the workers of a pass, any number of bands
/// at once (see [`BandWriter::band_encoder`]).
pub trait BandEncoder: Send + Sync {
    /// Encodes the band of `rows` full rows at row `y`, packed in `data`
    /// (`rows × header.row_bytes()` bytes).
    fn encode(&self, y: u32, rows: u32, data: &[u8]) -> Result<Vec<u8>>;
}

/// An accumulator for the reduce sink: each worker thread gets its own
/// (made by the sink's factory), feeds it every region it computes, and the
/// sink merges them all at the end.
pub trait Reducer: Send + Sized {
    /// Adds one computed region. Regions never overlap, arrive in any
    /// order, and together cover the image exactly once.
    fn add(&mut self, region: &Region) -> Result<()>;

    /// Folds another thread's accumulator into this one.
    fn merge(&mut self, other: Self);
}

/// A [`BandWriter`] that keeps nothing (the null sink's writer: it makes a
/// run pull every pixel, for measuring).
#[derive(Debug, Default)]
pub struct Discard;

impl BandWriter for Discard {
    fn write_band(&mut self, _: u32, _: u32, _: &[u8]) -> Result<()> {
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}
