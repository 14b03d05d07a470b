//! Image operations of gigapix: generators, point, band, geometry and
//! statistics operations.
//!
//! Every builder is infallible and returns a lazy [`Image`](gigapix_core::Image);
//! an invalid argument gives an image that carries the error, named with the
//! operation (see [`Image::check`](gigapix_core::Image::check)).
//!
//! - [`create`]: sources computed from pixel coordinates alone —
//!   [`black`], [`xyz`], [`noise`], [`zone`].
//! - [`point`]: per-pixel arithmetic — [`linear`], [`linear_with`],
//!   [`invert`], [`cast`]. Chains of them fuse into one
//!   [`PointChain`](point::PointChain) node that runs in a single pass
//!   (through a lookup table for `u8` and `u16` inputs).
//! - [`bands`]: [`extract_band`], [`bandjoin`].
//! - [`geometry`]: [`crop`] (zero-copy), [`embed`], [`flip`], [`rot`].
//! - [`resample`]: [`shrink`] (box), [`reduce`] (separable convolution by
//!   any factor, antialiased), [`resize`] and [`resize_to`].
//! - [`composite`](mod@composite): [`premultiply`], [`unpremultiply`], [`composite`](composite()),
//!   [`flatten`]; [`colour`]: [`colourspace`], [`cast_scaled`];
//!   [`affine`](mod@affine): [`affine`](affine()), [`rotate`] (through a [`tilecache`]).
//! - [`conv`](mod@conv): [`conv`](conv()), [`convsep`], [`sobel`] with a [`Matrix`];
//!   [`blur`]: [`gaussblur`], [`boxblur`], [`sharpen`]; [`morph`]: [`erode`],
//!   [`dilate`].
//! - [`stats`]: [`Reducer`](gigapix_core::Reducer)s for the engine's reduce
//!   sink — [`StatsReducer`] (min, max, mean, standard deviation) and
//!   [`HistReducer`] (histograms).
//!
//! # Example
//!
//! ```
//! use gigapix_core::{BandFormat, Ctx, Rect};
//! use gigapix_ops::{Angle, crop, invert, linear, noise, rot, xyz};
//!
//! // x and y coordinates, scaled and inverted: fused into one pass.
//! let coords = xyz(64, 32);
//! let scaled = invert(&linear(&coords, &[2.0], &[1.0]));
//! assert_eq!(scaled.format(), BandFormat::U32);
//!
//! // A rotated crop of three-band noise.
//! let tile = rot(&crop(&noise(100, 100, 3, 42), 10, 20, 30, 5), Angle::D90);
//! assert_eq!((tile.width(), tile.height(), tile.bands()), (5, 30, 3));
//!
//! // Sinks normally pull regions on many threads; here one region by hand.
//! let region = Ctx::standalone().region(&scaled, Rect::new(3, 4, 2, 1))?;
//! assert_eq!(region.row::<u32>(4), &[u32::MAX - 7, u32::MAX - 9, u32::MAX - 9, u32::MAX - 9]);
//! # Ok::<(), gigapix_core::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod pixel;

pub mod affine;
pub mod arith;
pub mod assembly;
pub mod bands;
pub mod binary;
pub mod blur;
pub mod catalogue;
pub mod colour;
pub mod composite;
pub mod conv;
pub mod create;
pub mod geometry;
pub mod hist;
pub mod icc;
pub mod morph;
pub mod point;
pub mod resample;
pub mod stats;
pub mod tilecache;

pub use affine::{AffineOptions, Interpolate, affine, rotate};
pub use bands::{bandjoin, extract_band};
pub use blur::{GaussOptions, SharpenOptions, boxblur, gaussblur, gaussblur_with, sharpen};
pub use colour::{cast_scaled, colourspace};
pub use composite::{composite, flatten, premultiply, unpremultiply};
pub use conv::{Matrix, conv, convsep, sobel};
pub use create::{black, noise, xyz, zone};
pub use geometry::{Angle, Direction, Extend, autorotate, crop, embed, flip, rot};
pub use morph::{dilate, erode};
pub use point::{LinearOptions, cast, invert, linear, linear_with};
pub use resample::{Kernel, ResizeOptions, reduce, resize, resize_to, shrink};
pub use stats::{BandStats, HistReducer, Histogram, Stats, StatsReducer};
