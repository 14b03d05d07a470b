//! The two seams between the engine's sinks and the code they feed:
//! [`BandWriter`] (encoders, fed whole rows top to bottom) and [`Reducer`]
//! (statistics, fed regions in any order, one accumulator per thread).

use crate::{Region, Result};

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
