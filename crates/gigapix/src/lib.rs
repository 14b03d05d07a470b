//! **gigapix** processes images of any size, gigapixels included, in a few
//! megabytes of memory.
//!
//! An [`Image`] is a lazy node of an operation graph: opening a file reads
//! its header only, and every operation returns a new image whose size,
//! bands and format are known at once. No pixel is computed until a sink
//! asks for it ([`Image::save`], [`Image::write_into`], [`Image::stats`]);
//! the sink then pulls small regions through the graph on all cores, so
//! memory depends on the image's width, never on its height.
//!
//! ```
//! use gigapix::{Direction, Image};
//!
//! // A 4000x3000 RGB noise image, cropped, mirrored and brightened.
//! let image = Image::noise(4000, 3000, 3, 42)
//!     .crop(100, 100, 3800, 2800)
//!     .flip(Direction::Horizontal)
//!     .linear(1.2, -10.0);
//! assert_eq!((image.width(), image.height(), image.bands()), (3800, 2800, 3));
//!
//! // Nothing has been computed yet; statistics pull every pixel.
//! let stats = image.stats()?;
//! assert!(stats.bands[0].mean > 100.0 && stats.bands[0].mean < 160.0);
//!
//! // Or straight into a buffer of ours.
//! let mut pixels = vec![0u8; image.header().image_bytes() as usize];
//! image.write_into(&mut pixels)?;
//! # Ok::<(), gigapix::Error>(())
//! ```
//!
//! Saving is atomic (a temporary file beside the target, renamed on
//! success), and every run can be tuned with [`RunOptions`] through
//! [`Image::run`]:
//!
//! ```no_run
//! use gigapix::{Image, RunOptions};
//! let report = Image::open("in.ppm")?
//!     .invert()
//!     .run(RunOptions::new().threads(4))
//!     .save("out.ppm")?;
//! println!("{report}");
//! # Ok::<(), gigapix::Error>(())
//! ```
//!
//! # Interop
//!
//! Two cargo features convert to and from the usual Rust image containers,
//! with no copy on the way in when the container's buffer can be kept, and
//! the engine computing straight into the new buffer on the way out:
//!
//! - `ndarray`: `Image::from_array` (shape `(height, width, bands)`),
//!   `from_array2`, `from_array_view`, `to_array`, `to_array2` and
//!   `write_into_array` (in place, into a standard-layout view);
//! - `image`: `Image::from_image_buffer`, `from_dynamic_image`,
//!   `to_image_buffer::<P>()` and `to_dynamic_image`.
//!
//! The element type is the band format: convert with [`Image::cast`] or
//! [`Image::cast_scaled`] before asking for another. Both crates are
//! re-exported (`gigapix::ndarray`, `gigapix::image`) so versions match.
//!
//! ```
//! # #[cfg(all(feature = "ndarray", feature = "image"))]
//! # {
//! use gigapix::{Image, image::RgbImage, ndarray::Array3};
//!
//! // An array of shape (height, width, bands) becomes an image, no copy.
//! let a = Array3::from_shape_fn((300, 400, 3), |(y, x, b)| ((x + y + b) % 256) as u8);
//! let image = Image::from_array(a)?;
//!
//! // Lazy operations, then computed straight into an image-rs buffer.
//! let rgb: RgbImage = image.resize(0.5).invert().to_image_buffer()?;
//! assert_eq!(rgb.dimensions(), (200, 150));
//!
//! // And back: the buffer's vector is moved in, no copy.
//! let again = Image::from_image_buffer(rgb)?;
//! let array = again.cast(gigapix::BandFormat::F32).to_array::<f32>()?;
//! assert_eq!(array.dim(), (150, 200, 3));
//! # }
//! # Ok::<(), gigapix::Error>(())
//! ```
//!
//! The conversion tests: `cargo test -p gigapix --features ndarray,image`
//! from the workspace root, or `cargo test --features ndarray,image` in
//! `crates/gigapix`.
//!
//! The crates behind the facade: `gigapix-core` (the node, regions and the
//! [`Operation`] contract, for writing operations of your own),
//! `gigapix-exec` (planner, worker pool, sinks), `gigapix-ops` (the
//! operations) and `gigapix-io` (loaders and savers). The book in `book/`
//! explains how they fit together.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::path::Path;

pub use arith::{
    BoolOp, ClampOptions, IfThenElseOptions, IntoOperand, Math2Op, MathOp, Operand, RelOp, RoundOp,
};
pub use gigapix_core::desc;
pub use gigapix_core::{
    BandFormat, CancelToken, DemandHint, Error, ErrorKind, Header, Interpretation, Limits,
    Metadata, Operation, Rect, Region, Result, Sample,
};
pub use gigapix_exec::{
    BASELINE_BYTES, CacheEstimate, CacheLocation, NodeEstimate, Order, PlanReport, Progress,
    RunOptions, RunReport, SinkKind, THREAD_BYTES, default_threads,
};
pub use gigapix_io::{
    AccessMode, FailOn, FileFormat, FileInfo, OpenOptions, Params, SaveOptions, abandon_saves,
    describe, formats_markdown, formats_text,
};
pub use gigapix_ops::affine::{AffineOptions, Interpolate};
pub use gigapix_ops::assembly::{
    Align, ArrayjoinOptions, Compass, FindTrimOptions, GravityOptions, InsertOptions, Interesting,
    JoinOptions, SmartcropOptions, SubsampleOptions,
};
pub use gigapix_ops::blur::{GaussOptions, SharpenOptions};
pub use gigapix_ops::catalogue;
pub use gigapix_ops::conv::Matrix;
pub use gigapix_ops::geometry::{Angle, Direction, Extend};
pub use gigapix_ops::icc;
pub use gigapix_ops::point::LinearOptions;
pub use gigapix_ops::resample::{Kernel, ResizeOptions};
pub use gigapix_ops::stats::{BandStats, Histogram, Stats};
pub use gigapix_ops::{
    bands::{BandBool, FoldOptions},
    hist::{HistLocalOptions, HistOptions},
};
pub use thumbnail::ThumbnailOptions;

/// The `image` crate (0.25) that [`Image::from_dynamic_image`] and
/// [`Image::to_image_buffer`] speak, re-exported so the versions match
/// (feature `image`).
#[cfg(feature = "image")]
pub use ::image;
/// The `ndarray` crate (0.16) that [`Image::from_array`] and
/// [`Image::to_array`] speak, re-exported so the versions match (feature
/// `ndarray`).
#[cfg(feature = "ndarray")]
pub use ::ndarray;

mod arith;
mod assembly;
mod hist;
#[cfg(any(feature = "ndarray", feature = "image"))]
mod interop;
mod plan;
mod stream;
mod thumbnail;

/// The building blocks, for operations and sinks of your own.
pub mod core {
    pub use gigapix_core::*;
}

/// A lazy, immutable image. Cheap to clone.
///
/// Operations never fail when called: an invalid step (a crop outside the
/// image, a band mismatch) gives an image that carries the error, named
/// with the operation; [`check`](Image::check) reports it, and so does any
/// sink before it computes a pixel.
#[derive(Clone, Debug)]
pub struct Image(gigapix_core::Image);

impl From<gigapix_core::Image> for Image {
    fn from(node: gigapix_core::Image) -> Image {
        Image(node)
    }
}

impl Image {
    /// Opens a file, reading its header only. The format comes from the
    /// file's first bytes, not its name. See [`open_with`](Image::open_with).
    pub fn open(path: impl AsRef<Path>) -> Result<Image> {
        Image::open_with(path, &OpenOptions::default())
    }

    /// Opens a file with options (access mode, limits).
    pub fn open_with(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Image> {
        gigapix_io::open(path.as_ref(), options).map(Image)
    }

    /// A black (all zero) `u8` image.
    pub fn black(width: u32, height: u32, bands: u32) -> Image {
        Image(gigapix_ops::create::black(width, height, bands))
    }

    /// A two-band `u32` image whose pixels hold their own coordinates.
    pub fn xyz(width: u32, height: u32) -> Image {
        Image(gigapix_ops::create::xyz(width, height))
    }

    /// Uniform `u8` noise, the same for the same `seed` whatever the tiling.
    pub fn noise(width: u32, height: u32, bands: u32, seed: u64) -> Image {
        Image(gigapix_ops::create::noise(width, height, bands, seed))
    }

    /// A one-band `u8` zone plate (concentric rings of rising frequency).
    pub fn zone(width: u32, height: u32) -> Image {
        Image(gigapix_ops::create::zone(width, height))
    }

    /// The graph node behind this image, for operations of your own.
    pub fn node(&self) -> &gigapix_core::Image {
        &self.0
    }

    /// Width, height, bands, format and interpretation.
    pub fn header(&self) -> &Header {
        self.0.header()
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.0.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.0.height()
    }

    /// Bands per pixel.
    pub fn bands(&self) -> u32 {
        self.0.bands()
    }

    /// Band format.
    pub fn format(&self) -> BandFormat {
        self.0.format()
    }

    /// Orientation, colour profile, EXIF and facts about the source file.
    pub fn metadata(&self) -> &Metadata {
        self.0.metadata()
    }

    /// `Ok` if every step that built this image was valid.
    pub fn check(&self) -> Result<()> {
        self.0.check()
    }

    /// `a·x + b` on every band; the result keeps the format (rounded,
    /// clamped). See [`linear_with`](Image::linear_with).
    pub fn linear(&self, a: f64, b: f64) -> Image {
        self.linear_with(&[a], &[b], &LinearOptions::default())
    }

    /// `a[i]·x + b[i]` per band `i` (one value means every band), with
    /// options such as the output format.
    pub fn linear_with(&self, a: &[f64], b: &[f64], options: &LinearOptions) -> Image {
        Image(gigapix_ops::point::linear_with(&self.0, a, b, options))
    }

    /// Photographic negative: `max - x` for unsigned formats, `-x` for signed and float ones.
    pub fn invert(&self) -> Image {
        Image(gigapix_ops::point::invert(&self.0))
    }

    /// Converts to another band format, rounding and clamping.
    pub fn cast(&self, format: BandFormat) -> Image {
        Image(gigapix_ops::point::cast(&self.0, format))
    }

    /// Bands `band .. band + n`.
    pub fn extract_band(&self, band: u32, n: u32) -> Image {
        Image(gigapix_ops::bands::extract_band(&self.0, band, n))
    }

    /// This image's bands followed by those of `others` (same size and
    /// format).
    pub fn bandjoin(&self, others: &[Image]) -> Image {
        let all: Vec<gigapix_core::Image> = std::iter::once(&self.0)
            .chain(others.iter().map(|i| &i.0))
            .cloned()
            .collect();
        Image(gigapix_ops::bands::bandjoin(&all))
    }

    /// The area `width × height` at `(left, top)`; no pixel is copied where
    /// the input can be viewed in place.
    pub fn crop(&self, left: u32, top: u32, width: u32, height: u32) -> Image {
        Image(gigapix_ops::geometry::crop(
            &self.0, left, top, width, height,
        ))
    }

    /// Places the image at `(x, y)` in a `width × height` canvas, filling
    /// the rest as `extend` says.
    pub fn embed(&self, x: i64, y: i64, width: u32, height: u32, extend: Extend) -> Image {
        Image(gigapix_ops::geometry::embed(
            &self.0, x, y, width, height, extend,
        ))
    }

    /// Mirrors left-right or top-bottom.
    pub fn flip(&self, direction: Direction) -> Image {
        Image(gigapix_ops::geometry::flip(&self.0, direction))
    }

    /// Rotates clockwise by a multiple of 90°.
    pub fn rot(&self, angle: Angle) -> Image {
        Image(gigapix_ops::geometry::rot(&self.0, angle))
    }

    /// Turned upright as its EXIF orientation says (orientation 1 after).
    pub fn autorotate(&self) -> Image {
        Image(gigapix_ops::geometry::autorotate(&self.0))
    }

    /// A thumbnail of the file at `path` that fits in a `width` square
    /// box (or `width` x [`height`](ThumbnailOptions::height)): the file is
    /// opened lazily, shrunk on load where the format can (JPEG at 1/2,
    /// 1/4 or 1/8, leaving at least 2x to the resampling kernel), turned
    /// upright, premultiplied when it has alpha, and resized with Lanczos3
    /// (libvips' `thumbnail`).
    pub fn thumbnail(
        path: impl AsRef<Path>,
        width: u32,
        options: &ThumbnailOptions,
    ) -> Result<Image> {
        thumbnail::thumbnail(path.as_ref(), width, options)
    }

    /// [`thumbnail`](Image::thumbnail) of an image file held in memory,
    /// with the same shrink-on-load (JPEG, WebP): the bytes are shared by
    /// every decode, never copied.
    ///
    /// # Example
    ///
    /// ```
    /// use gigapix::{Image, ThumbnailOptions};
    ///
    /// let jpeg = Image::noise(640, 480, 3, 1).to_buffer(".jpg")?;
    /// let tn = Image::thumbnail_buffer(jpeg, 64, &ThumbnailOptions::new())?;
    /// assert_eq!((tn.width(), tn.height()), (64, 48));
    /// # Ok::<(), gigapix::Error>(())
    /// ```
    pub fn thumbnail_buffer<T: AsRef<[u8]> + Send + Sync + 'static>(
        bytes: T,
        width: u32,
        options: &ThumbnailOptions,
    ) -> Result<Image> {
        let shared = std::sync::Arc::new(bytes);
        let open = |o: &OpenOptions| Image::decode_with(Shared(std::sync::Arc::clone(&shared)), o);
        thumbnail::thumbnail_from(&open, width, options)
    }

    /// Integer box shrink: each output pixel is the mean of an `xshrink` x
    /// `yshrink` block.
    pub fn shrink(&self, xshrink: u32, yshrink: u32) -> Image {
        Image(gigapix_ops::resample::shrink(&self.0, xshrink, yshrink))
    }

    /// Downsamples by `shrink` in both directions with Lanczos3 (see
    /// [`reduce_with`](Image::reduce_with)).
    pub fn reduce(&self, shrink: f64) -> Image {
        self.reduce_with(shrink, shrink, Kernel::Lanczos3)
    }

    /// Downsamples by any factors of at least 1 with a separable
    /// convolution of `kernel`, widened by the factor (antialiased).
    pub fn reduce_with(&self, hshrink: f64, vshrink: f64, kernel: Kernel) -> Image {
        Image(gigapix_ops::resample::reduce(
            &self.0, hshrink, vshrink, kernel,
        ))
    }

    /// Resizes by `scale` (below 1 shrinks), as libvips' `resize`: a box
    /// pre-shrink for large factors (`gap`), then a kernel reduce, or an
    /// upsize.
    pub fn resize(&self, scale: f64) -> Image {
        self.resize_with(scale, &ResizeOptions::default())
    }

    /// [`resize`](Image::resize) with options: kernel, vertical scale,
    /// libvips' `gap`.
    pub fn resize_with(&self, scale: f64, options: &ResizeOptions) -> Image {
        Image(gigapix_ops::resample::resize(&self.0, scale, options))
    }

    /// Resizes to exactly `width` x `height`.
    pub fn resize_to(&self, width: u32, height: u32) -> Image {
        self.resize_to_with(width, height, &ResizeOptions::default())
    }

    /// [`resize_to`](Image::resize_to) with options.
    pub fn resize_to_with(&self, width: u32, height: u32, options: &ResizeOptions) -> Image {
        Image(gigapix_ops::resample::resize_to(
            &self.0, width, height, options,
        ))
    }

    /// Transforms by the 2x2 matrix `[a, b, c, d]` (output = matrix ·
    /// input), interpolating as `options` says.
    pub fn affine(&self, matrix: [f64; 4]) -> Image {
        self.affine_with(matrix, &AffineOptions::default())
    }

    /// [`affine`](Image::affine) with options: interpolator, background,
    /// output area, offsets.
    pub fn affine_with(&self, matrix: [f64; 4], options: &AffineOptions) -> Image {
        Image(gigapix_ops::affine::affine(&self.0, matrix, options))
    }

    /// Rotates clockwise by any angle in degrees; the output is the
    /// bounding box of the rotated image.
    pub fn rotate(&self, angle_degrees: f64) -> Image {
        self.rotate_with(angle_degrees, &AffineOptions::default())
    }

    /// [`rotate`](Image::rotate) with options.
    pub fn rotate_with(&self, angle_degrees: f64, options: &AffineOptions) -> Image {
        Image(gigapix_ops::affine::rotate(&self.0, angle_degrees, options))
    }

    /// Convolution with `mask` (libvips semantics: sum / scale + offset).
    pub fn conv(&self, mask: &Matrix) -> Image {
        Image(gigapix_ops::conv::conv(&self.0, mask))
    }

    /// Separable convolution: the one-row `mask` horizontally, then
    /// vertically.
    pub fn convsep(&self, mask: &Matrix) -> Image {
        Image(gigapix_ops::conv::convsep(&self.0, mask))
    }

    /// Sobel edge detection (gradient magnitude).
    pub fn sobel(&self) -> Image {
        Image(gigapix_ops::conv::sobel(&self.0))
    }

    /// Gaussian blur of standard deviation `sigma`.
    pub fn gaussblur(&self, sigma: f64) -> Image {
        Image(gigapix_ops::blur::gaussblur(&self.0, sigma))
    }

    /// Gaussian blur with options.
    pub fn gaussblur_with(&self, sigma: f64, options: &GaussOptions) -> Image {
        Image(gigapix_ops::blur::gaussblur_with(&self.0, sigma, options))
    }

    /// Mean over a centred `width` x `height` box.
    pub fn boxblur(&self, width: u32, height: u32) -> Image {
        Image(gigapix_ops::blur::boxblur(&self.0, width, height))
    }

    /// Unsharp mask with Pillow's defaults (radius 2, 150 %, threshold 3).
    pub fn sharpen(&self) -> Image {
        self.sharpen_with(&SharpenOptions::default())
    }

    /// Unsharp mask with options.
    pub fn sharpen_with(&self, options: &SharpenOptions) -> Image {
        Image(gigapix_ops::blur::sharpen(&self.0, options))
    }

    /// Minimum over a centred `width` x `height` rectangle.
    pub fn erode(&self, width: u32, height: u32) -> Image {
        Image(gigapix_ops::morph::erode(&self.0, width, height))
    }

    /// Maximum over a centred `width` x `height` rectangle.
    pub fn dilate(&self, width: u32, height: u32) -> Image {
        Image(gigapix_ops::morph::dilate(&self.0, width, height))
    }

    /// Multiplies the colour bands by alpha (the last band).
    pub fn premultiply(&self) -> Image {
        Image(gigapix_ops::composite::premultiply(&self.0))
    }

    /// Divides the colour bands by alpha (the last band).
    pub fn unpremultiply(&self) -> Image {
        Image(gigapix_ops::composite::unpremultiply(&self.0))
    }

    /// `overlay` placed at `(x, y)` over this image (Porter-Duff over).
    pub fn composite(&self, overlay: &Image, x: i64, y: i64) -> Image {
        Image(gigapix_ops::composite::composite(&self.0, &overlay.0, x, y))
    }

    /// Drops the alpha band, blending against `background`.
    pub fn flatten(&self, background: &[f64]) -> Image {
        Image(gigapix_ops::composite::flatten(&self.0, background))
    }

    /// Converts to another colour space: sRGB, scRGB (linear light),
    /// grey, Lab, LCh, XYZ, HSV or naive CMYK (no profile: use
    /// [`icc_transform`](Image::icc_transform) for inks).
    pub fn colourspace(&self, target: Interpretation) -> Image {
        Image(gigapix_ops::colour::colourspace(&self.0, target))
    }

    /// Transforms from the embedded profile (or `options.input_profile`,
    /// or sRGB/grey) to `output`; the result carries `output`. See
    /// [`icc`] for the profiles and what is refused.
    ///
    /// # Errors
    ///
    /// A damaged or unusable profile, or an image the profile does not
    /// fit (a CMYK profile on 3 bands).
    pub fn icc_transform(&self, output: &icc::Profile, options: &icc::IccOptions) -> Result<Image> {
        icc::icc_transform(&self.0, output, options).map(Image)
    }

    /// From the embedded (or given) profile to the connection space:
    /// CIELab or XYZ `f32`, D50 (see [`icc::icc_import`]).
    ///
    /// # Errors
    ///
    /// As [`icc_transform`](Image::icc_transform).
    pub fn icc_import(&self, options: &icc::IccOptions) -> Result<Image> {
        icc::icc_import(&self.0, options).map(Image)
    }

    /// From CIELab or XYZ `f32` (D50) to `output`'s device space (see
    /// [`icc::icc_export`]).
    ///
    /// # Errors
    ///
    /// As [`icc_transform`](Image::icc_transform).
    pub fn icc_export(&self, output: &icc::Profile, options: &icc::IccOptions) -> Result<Image> {
        icc::icc_export(&self.0, output, options).map(Image)
    }

    /// Converts the band format, scaling values to the new range (8 <->
    /// 16 bit).
    pub fn cast_scaled(&self, format: BandFormat) -> Image {
        Image(gigapix_ops::colour::cast_scaled(&self.0, format))
    }

    /// A run of this image with `options` (threads, cancellation,
    /// progress), to end in one of [`Run`]'s sinks.
    pub fn run(&self, options: RunOptions) -> Run<'_> {
        Run {
            image: self,
            options,
        }
    }

    /// Saves to `path`, the format chosen by its extension. Atomic: on
    /// failure nothing is left at `path` and an existing file is untouched.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.run(RunOptions::default()).save(path).map(drop)
    }

    /// An image over pixels in memory, without a copy: packed rows of
    /// `width × height` pixels of `bands` samples of `format`, native byte
    /// order. `data` is any owner of bytes (`Vec<u8>`, `Arc<[u8]>`,
    /// `Box<[u8]>`, ...): the image holds it, and every region is a view
    /// of it. See [`gigapix_io::from_memory`].
    ///
    /// # Errors
    ///
    /// If `data` is not exactly `width × height × bands × size` bytes, a
    /// dimension is zero, or `data` is misaligned for `format`.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use gigapix::{BandFormat, Image};
    ///
    /// let data: Arc<[u8]> = vec![7u8; 64 * 32 * 3].into();
    /// let image = Image::from_memory(data.clone(), 64, 32, 3, BandFormat::U8)?;
    /// assert_eq!(Arc::strong_count(&data), 2); // the image holds it
    /// assert_eq!(image.avg()?, 7.0);
    /// # Ok::<(), gigapix::Error>(())
    /// ```
    pub fn from_memory<T: AsRef<[u8]> + Send + Sync + 'static>(
        data: T,
        width: u32,
        height: u32,
        bands: u32,
        format: BandFormat,
    ) -> Result<Image> {
        gigapix_io::from_memory(data, width, height, bands, format).map(Image)
    }

    /// Decodes an image file held in memory, the format found from its
    /// first bytes (see [`gigapix_io::decode`]).
    ///
    /// # Example
    ///
    /// ```
    /// use gigapix::Image;
    ///
    /// let bytes = Image::zone(64, 64).cast(gigapix::BandFormat::U8).to_buffer(".png")?;
    /// let image = Image::decode(bytes)?;
    /// assert_eq!((image.width(), image.bands()), (64, 1));
    /// # Ok::<(), gigapix::Error>(())
    /// ```
    pub fn decode<T: AsRef<[u8]> + Send + Sync + 'static>(bytes: T) -> Result<Image> {
        Self::decode_with(bytes, &OpenOptions::default())
    }

    /// [`decode`](Image::decode) with load options (`page`, `shrink`, ...,
    /// as in brackets after a file name).
    pub fn decode_with<T: AsRef<[u8]> + Send + Sync + 'static>(
        bytes: T,
        options: &OpenOptions,
    ) -> Result<Image> {
        gigapix_io::decode(bytes, options).map(Image)
    }

    /// Reads an image from `reader` (see [`gigapix_io::open_reader`]).
    ///
    /// # Example
    ///
    /// ```
    /// use gigapix::Image;
    ///
    /// let bytes = Image::black(8, 8, 3).to_buffer(".ppm")?;
    /// let image = Image::open_reader(std::io::Cursor::new(bytes))?;
    /// assert_eq!(image.bands(), 3);
    /// # Ok::<(), gigapix::Error>(())
    /// ```
    pub fn open_reader<R: std::io::Read + std::io::Seek + Send + 'static>(
        reader: R,
    ) -> Result<Image> {
        gigapix_io::open_reader(reader, &OpenOptions::default()).map(Image)
    }

    /// Saves into `writer` in the format of `suffix` (`.png`,
    /// `.jpg[Q=85]`: an extension and options, as a path's), the same
    /// bytes [`save`](Image::save) would write. One-pass formats (PNG,
    /// JPEG, PPM/PGM, raw, WebP, GIF); TIFF needs
    /// [`save_to_seekable`](Image::save_to_seekable). An error from
    /// `writer` stops the run and is returned.
    ///
    /// # Example
    ///
    /// ```
    /// use gigapix::Image;
    ///
    /// let mut out = Vec::new();
    /// Image::black(16, 16, 3).save_to(&mut out, ".jpg[Q=85]")?;
    /// assert_eq!(&out[..2], &[0xff, 0xd8]);
    /// # Ok::<(), gigapix::Error>(())
    /// ```
    pub fn save_to<W: std::io::Write + Send>(&self, writer: W, suffix: &str) -> Result<()> {
        self.run(RunOptions::default())
            .save_to(writer, suffix)
            .map(drop)
    }

    /// [`save_to`](Image::save_to) a writer that can seek: every format,
    /// TIFF too.
    pub fn save_to_seekable<W: std::io::Write + std::io::Seek + Send>(
        &self,
        writer: W,
        suffix: &str,
    ) -> Result<()> {
        self.run(RunOptions::default())
            .save_to_seekable(writer, suffix)
            .map(drop)
    }

    /// The image encoded in the format of `suffix` (`.png`,
    /// `.tif[compression=lzw]`, any format but tile pyramids), in memory.
    ///
    /// # Example
    ///
    /// ```
    /// use gigapix::Image;
    ///
    /// let png = Image::black(4, 4, 1).to_buffer(".png")?;
    /// assert_eq!(&png[1..4], b"PNG");
    /// # Ok::<(), gigapix::Error>(())
    /// ```
    pub fn to_buffer(&self, suffix: &str) -> Result<Vec<u8>> {
        let mut out = std::io::Cursor::new(Vec::new());
        self.save_to_seekable(&mut out, suffix)?;
        Ok(out.into_inner())
    }

    /// Computes the image into `buffer` (packed rows, native byte order),
    /// which must be exactly [`Header::image_bytes`] long.
    pub fn write_into(&self, buffer: &mut [u8]) -> Result<()> {
        self.run(RunOptions::default()).write_into(buffer).map(drop)
    }

    /// The whole image as packed bytes.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        self.run(RunOptions::default()).to_vec().map(|(v, _)| v)
    }

    /// Minimum, maximum, mean and standard deviation per band.
    pub fn stats(&self) -> Result<Stats> {
        self.run(RunOptions::default()).stats().map(|(s, _)| s)
    }

    /// The smallest value over all bands.
    pub fn min(&self) -> Result<f64> {
        Ok(self.stats()?.overall().min)
    }

    /// The largest value over all bands.
    pub fn max(&self) -> Result<f64> {
        Ok(self.stats()?.overall().max)
    }

    /// The mean over all bands.
    pub fn avg(&self) -> Result<f64> {
        Ok(self.stats()?.overall().mean)
    }

    /// Histogram per band (`u8` and `u16` images).
    pub fn hist(&self) -> Result<Histogram> {
        self.run(RunOptions::default()).hist().map(|(h, _)| h)
    }
}

/// An image about to be computed with particular [`RunOptions`]; made by
/// [`Image::run`]. Every sink returns the run's [`RunReport`] (time,
/// threads, peak pixel memory).
#[derive(Debug)]
pub struct Run<'a> {
    image: &'a Image,
    options: RunOptions,
}

impl Run<'_> {
    /// Saves to `path` (format from the extension), atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<RunReport> {
        self.save_with(path, &SaveOptions::default())
    }

    /// Saves with format options (see [`gigapix_io::writer`]), writing the
    /// image's metadata (ICC profile, EXIF) where the format holds it; the
    /// option `strip` leaves it out.
    pub fn save_with(&self, path: impl AsRef<Path>, options: &SaveOptions) -> Result<RunReport> {
        let node = &self.image.0;
        node.check()?;
        self.write_to(gigapix_io::writer(
            path.as_ref(),
            node.header(),
            node.metadata(),
            options,
        )?)
    }

    /// Saves into `writer`; see [`Image::save_to`].
    pub fn save_to<W: std::io::Write + Send>(&self, writer: W, suffix: &str) -> Result<RunReport> {
        self.stream_save(stream::Target::Plain(Box::new(writer)), suffix)
    }

    /// Saves into a seekable `writer`; see [`Image::save_to_seekable`].
    pub fn save_to_seekable<W: std::io::Write + std::io::Seek + Send>(
        &self,
        writer: W,
        suffix: &str,
    ) -> Result<RunReport> {
        self.stream_save(stream::Target::Seekable(Box::new(writer)), suffix)
    }

    fn stream_save(&self, target: stream::Target<'_>, suffix: &str) -> Result<RunReport> {
        let node = &self.image.0;
        node.check()?;
        stream::run(target, suffix, |out, seekable| {
            let make = if seekable {
                gigapix_io::writer_to_seekable
            } else {
                gigapix_io::writer_to
            };
            let writer = make(
                out,
                suffix,
                node.header(),
                node.metadata(),
                &SaveOptions::default(),
            )?;
            self.write_to(writer)
        })
    }

    /// Hands the image to an encoder of your own, as bands of full rows
    /// top to bottom (the ordered sink, with write-behind on its own
    /// thread). `writer.finish()` is called on success; on failure the
    /// writer is dropped unfinished.
    pub fn write_to(&self, writer: Box<dyn gigapix_core::BandWriter>) -> Result<RunReport> {
        gigapix_exec::write(&self.image.0, writer, &self.options)
    }

    /// Computes into `buffer`; see [`Image::write_into`].
    pub fn write_into(&self, buffer: &mut [u8]) -> Result<RunReport> {
        gigapix_exec::write_into(&self.image.0, buffer, &self.options)
    }

    /// Computes into a new vector.
    pub fn to_vec(&self) -> Result<(Vec<u8>, RunReport)> {
        self.image.check()?;
        let mut v = vec![0u8; self.image.header().image_bytes() as usize];
        let report = self.write_into(&mut v)?;
        Ok((v, report))
    }

    /// Statistics per band.
    pub fn stats(&self) -> Result<(Stats, RunReport)> {
        let bands = self.image.bands();
        let (r, report) = gigapix_exec::reduce(
            &self.image.0,
            || gigapix_ops::stats::StatsReducer::new(bands),
            &self.options,
        )?;
        Ok((r.finish(), report))
    }

    /// Histogram per band.
    pub fn hist(&self) -> Result<(Histogram, RunReport)> {
        let h = *self.image.header();
        // Check the format once, before any thread starts.
        gigapix_ops::stats::HistReducer::new(h.bands, h.format)?;
        let make = || {
            gigapix_ops::stats::HistReducer::new(h.bands, h.format).expect("format checked above")
        };
        let (r, report) = gigapix_exec::reduce(&self.image.0, make, &self.options)?;
        Ok((r.finish(), report))
    }

    /// Computes every pixel and keeps none (the null sink, for measuring).
    pub fn discard(&self) -> Result<RunReport> {
        gigapix_exec::discard(&self.image.0, &self.options)
    }
}

/// Bytes shared between the decodes of one
/// [`thumbnail_buffer`](Image::thumbnail_buffer).
struct Shared<T>(std::sync::Arc<T>);

impl<T: AsRef<[u8]>> AsRef<[u8]> for Shared<T> {
    fn as_ref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}
