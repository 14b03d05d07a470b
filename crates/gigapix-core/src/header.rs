//! The eager part of an image: its size and pixel layout.

use std::fmt;

use crate::{BandFormat, Interpretation, Rect};

/// Width, height, bands, band format and interpretation of an image, known as
/// soon as the image's node is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Number of bands (channels) per pixel.
    pub bands: u32,
    /// Numeric type of each band element.
    pub format: BandFormat,
    /// How the bands are meant to be seen.
    pub interpretation: Interpretation,
}

impl Header {
    /// A header with the interpretation guessed from the band count.
    pub const fn new(width: u32, height: u32, bands: u32, format: BandFormat) -> Header {
        Header {
            width,
            height,
            bands,
            format,
            interpretation: Interpretation::guess(bands),
        }
    }

    /// The same header with another size.
    pub const fn with_size(self, width: u32, height: u32) -> Header {
        Header {
            width,
            height,
            ..self
        }
    }

    /// The same header with another band format.
    pub const fn with_format(self, format: BandFormat) -> Header {
        Header { format, ..self }
    }

    /// The same header with another band count; the interpretation is kept
    /// when it still makes sense, else guessed again.
    pub const fn with_bands(self, bands: u32) -> Header {
        if bands == self.bands {
            return self;
        }
        let interpretation = match (self.interpretation, bands) {
            (Interpretation::Multiband, _) | (Interpretation::Histogram, _) => self.interpretation,
            (Interpretation::Scrgb, 3 | 4) => self.interpretation,
            _ => Interpretation::guess(bands),
        };
        Header {
            bands,
            interpretation,
            ..self
        }
    }

    /// The whole image as a rectangle.
    pub const fn rect(&self) -> Rect {
        Rect::of_size(self.width as i64, self.height as i64)
    }

    /// Bytes per pixel (all bands).
    pub const fn pixel_bytes(&self) -> usize {
        self.bands as usize * self.format.size()
    }

    /// Bytes per full row.
    pub const fn row_bytes(&self) -> usize {
        self.width as usize * self.pixel_bytes()
    }

    /// Number of pixels.
    pub const fn pixels(&self) -> u64 {
        self.width as u64 * self.height as u64
    }

    /// Bytes of the whole image, as `u64` (it cannot overflow for any header
    /// that passed [`Limits::check`]).
    pub const fn image_bytes(&self) -> u64 {
        self.pixels() * self.pixel_bytes() as u64
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}x{} {} band{} {} {}",
            self.width,
            self.height,
            self.bands,
            if self.bands == 1 { "" } else { "s" },
            self.format,
            self.interpretation
        )
    }
}

/// Guards against decompression bombs and runaway graphs: checked when a
/// file is opened and when any node is built.
///
/// Every node of every graph is checked against the process-wide limits,
/// [`Limits::default`]: they start as [`Limits::DEFAULT`] and
/// [`Limits::set_default`] changes them for the whole process. A node
/// larger than they allow is an invalid image carrying an
/// [`ErrorKind::Limit`](crate::ErrorKind::Limit) error named with its
/// operation, so `embed` to 10^9 x 10^9 or a 10^14-pixel `resize` fails
/// when it is built, not after hours. Loaders also check the file's header
/// against the limits of their open options (these default to the
/// process-wide ones; stricter ones help with untrusted files), and keep
/// each buffer they allocate for one file within
/// [`max_alloc`](Limits::max_alloc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest number of pixels an image may have.
    pub max_pixels: u64,
    /// Largest width or height.
    pub max_dimension: u32,
    /// Largest buffer a loader allocates for one file: a TIFF strip or
    /// tile, the rows a streamed file decodes at a time, the coefficients
    /// of a progressive JPEG.
    pub max_alloc: u64,
}

/// Most bands an image may have.
const MAX_BANDS: u32 = 1 << 16;

/// The process-wide limits (see [`Limits::default`]).
static PROCESS: std::sync::RwLock<Limits> = std::sync::RwLock::new(Limits::DEFAULT);

impl Default for Limits {
    /// The process-wide limits: [`Limits::DEFAULT`] unless
    /// [`Limits::set_default`] changed them.
    fn default() -> Limits {
        *PROCESS.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl Limits {
    /// The built-in limits: 10 000 000 pixels per side (libvips' limit),
    /// 2^40 pixels in all (a million by a million: forty times a
    /// 50000x50000 gigapixel image, still computable in strips, while a
    /// runaway `resize` or `embed` of 10^14 pixels is refused) and 4 GiB
    /// for one buffer of a loader (the coefficients of a progressive JPEG
    /// of about 1.4 gigapixels; TIFF chunks and streamed rows are far
    /// smaller in practice).
    pub const DEFAULT: Limits = Limits {
        max_pixels: 1 << 40,
        max_dimension: 10_000_000,
        max_alloc: 4 << 30,
    };

    /// No limit beyond what the types can hold.
    pub fn none() -> Limits {
        Limits {
            max_pixels: u64::MAX,
            max_dimension: i32::MAX as u32,
            max_alloc: u64::MAX,
        }
    }

    /// Makes `limits` the process-wide limits, returned by
    /// [`Limits::default`] and checked when any node is built from now on
    /// (nodes already built keep their verdict).
    pub fn set_default(limits: Limits) {
        *PROCESS.write().unwrap_or_else(|e| e.into_inner()) = limits;
    }

    /// Sets [`max_pixels`](Limits::max_pixels).
    pub fn max_pixels(mut self, n: u64) -> Limits {
        self.max_pixels = n;
        self
    }

    /// Sets [`max_dimension`](Limits::max_dimension).
    pub fn max_dimension(mut self, n: u32) -> Limits {
        self.max_dimension = n;
        self
    }

    /// Sets [`max_alloc`](Limits::max_alloc).
    pub fn max_alloc(mut self, bytes: u64) -> Limits {
        self.max_alloc = bytes;
        self
    }

    /// [`max_alloc`](Limits::max_alloc) as a `usize` (saturated).
    pub fn max_alloc_usize(&self) -> usize {
        usize::try_from(self.max_alloc).unwrap_or(usize::MAX)
    }

    /// Checks a header against the limits.
    pub fn check(&self, h: &Header) -> crate::Result<()> {
        if h.width == 0 || h.height == 0 || h.bands == 0 {
            return Err(crate::Error::new(
                crate::ErrorKind::Format,
                format!(
                    "image has zero size ({}x{}, {} bands)",
                    h.width, h.height, h.bands
                ),
            ));
        }
        if h.width > self.max_dimension || h.height > self.max_dimension {
            return Err(crate::Error::new(
                crate::ErrorKind::Limit,
                format!(
                    "image is {}x{}, larger than the limit of {} per side",
                    h.width, h.height, self.max_dimension
                ),
            ));
        }
        // Sizes are computed in u64/usize elsewhere: refuse headers whose
        // byte counts would not fit, whatever the limits say.
        let row = h.width as u128 * h.bands as u128 * h.format.size() as u128;
        if h.bands > MAX_BANDS
            || row > isize::MAX as u128
            || row * h.height as u128 > u64::MAX as u128
        {
            return Err(crate::Error::new(
                crate::ErrorKind::Limit,
                format!(
                    "image of {}x{} with {} bands is too large to address",
                    h.width, h.height, h.bands
                ),
            ));
        }
        if h.pixels() > self.max_pixels {
            return Err(crate::Error::new(
                crate::ErrorKind::Limit,
                format!(
                    "image has {} pixels, more than the limit of {}",
                    h.pixels(),
                    self.max_pixels
                ),
            ));
        }
        Ok(())
    }
}
