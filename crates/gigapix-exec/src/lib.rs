//! The gigapix scheduler: it plans a graph, runs a pool of region workers
//! over it and feeds the results to a sink.
//!
//! - [`write()`]: the ordered sink. Full-width bands go to a
//!   [`BandWriter`](gigapix_core::BandWriter) top to bottom, written by
//!   their own thread while workers compute ahead, with a bounded number of
//!   band buffers.
//! - [`write_into`]: the memory sink, straight into a caller's buffer.
//! - [`reduce`]: per-thread [`Reducer`](gigapix_core::Reducer)s merged at the
//!   end (statistics, histograms).
//! - [`discard`]: the null sink, which pulls every pixel and keeps nothing.
//!
//! Each run is planned first: a sequential source that would be read out of
//! order (a vertical flip of a streaming decoder) gets a cache in front of
//! the out-of-order reader, in memory below [`RunOptions::memory_cache_limit`]
//! and in a memory-mapped temporary file above it. Tile geometry comes from
//! the most restrictive [`DemandHint`](gigapix_core::DemandHint) in the
//! graph. The first error in any worker stops the run and is returned,
//! named with its operation and region; a panic becomes an error; every
//! thread has finished when a sink returns.
//!
//! ```
//! use gigapix_core::{BandFormat, Header, Image, Inputs, Operation, Rect, Region, Result};
//! use gigapix_exec::{RunOptions, write_into};
//!
//! /// Every pixel is its row number.
//! struct Rows;
//! impl Operation for Rows {
//!     type State = ();
//!     fn name(&self) -> &'static str { "rows" }
//!     fn header(&self, _: &[Header]) -> Result<Header> { Ok(Header::new(64, 200, 1, BandFormat::U8)) }
//!     fn start(&self) -> Result<()> { Ok(()) }
//!     fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
//!         let mut r = inputs.alloc(out);
//!         for y in out.y..out.bottom() {
//!             r.row_mut::<u8>(y).fill(y as u8);
//!         }
//!         Ok(r)
//!     }
//! }
//!
//! let image = Image::new(Rows, vec![]);
//! let mut pixels = vec![0u8; 64 * 200];
//! let report = write_into(&image, &mut pixels, &RunOptions::new().threads(2))?;
//! assert_eq!(pixels[64 * 150], 150);
//! assert_eq!(report.pixels, 64 * 200);
//! # Ok::<(), gigapix_core::Error>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod estimate;
mod options;
mod pass;
mod plan;
mod sinks;

pub use estimate::{
    BASELINE_BYTES, CacheEstimate, CacheLocation, NodeEstimate, PlanReport, SinkKind, THREAD_BYTES,
    plan,
};
pub use options::{Order, Progress, ProgressFn, RunOptions, RunReport, default_threads};
pub use sinks::{discard, reduce, write, write_into};
