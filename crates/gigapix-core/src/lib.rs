//! Vocabulary of the gigapix engine: the lazy [`Image`] node, the
//! [`Operation`] contract, [`Region`]s and their buffers, [`Header`],
//! [`Rect`] and the one [`Error`] type.
//!
//! Most users want the `gigapix` facade crate. This crate is for writing
//! operations, sinks and codecs.
//!
//! # Example: an operation of your own
//!
//! ```
//! use gigapix_core::{Ctx, Header, Image, Inputs, Operation, Rect, Region, Result};
//! use gigapix_core::{BandFormat, Interpretation};
//!
//! /// A source whose pixel value is `x + y` (wrapping at 256).
//! struct Diagonal(Header);
//!
//! impl Operation for Diagonal {
//!     type State = ();
//!     fn name(&self) -> &'static str { "diagonal" }
//!     fn header(&self, _: &[Header]) -> Result<Header> { Ok(self.0) }
//!     fn start(&self) -> Result<()> { Ok(()) }
//!     fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
//!         let mut region = inputs.alloc(out);
//!         for y in out.y..out.bottom() {
//!             for (i, v) in region.row_mut::<u8>(y).iter_mut().enumerate() {
//!                 *v = (out.x + i as i64 + y) as u8;
//!             }
//!         }
//!         Ok(region)
//!     }
//! }
//!
//! let image = Image::new(Diagonal(Header::new(100, 100, 1, BandFormat::U8)), vec![]);
//! assert_eq!(image.header().interpretation, Interpretation::Grey);
//! // Sinks normally do this, on many threads; here one region by hand.
//! let region = Ctx::standalone().region(&image, Rect::new(10, 20, 4, 1))?;
//! assert_eq!(region.row::<u8>(20), &[30, 31, 32, 33]);
//! # Ok::<(), gigapix_core::Error>(())
//! ```
#![deny(missing_docs)]

pub mod desc;
mod error;
mod eval;
mod format;
mod header;
mod image;
pub mod mapped;
pub mod memory;
mod metadata;
mod operation;
mod rect;
mod region;
pub mod sequential;
mod sink;
mod threads;

pub use error::{Error, ErrorKind, Result};
pub use eval::{CancelToken, Ctx, Inputs, StopFlags, catch_panic};
pub use format::{BandFormat, Interpretation, Sample};
pub use header::{Header, Limits};
pub use image::Image;
pub use metadata::Metadata;
pub use operation::{Access, DemandHint, DynOperation, Operation, PlanInfo};
pub use rect::Rect;
pub use region::{Region, SharedPixels};
pub use sink::{BandEncoder, BandWriter, Discard, Reducer};
pub use threads::default_threads;
