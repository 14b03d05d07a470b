//! Sources: images whose pixels are computed from their coordinates alone,
//! so any region can be made in any order on any thread
//! ([`Access::Random`](gigapix_core::Access::Random)), and a pixel never
//! depends on the tiling.

use std::f64::consts::PI;

use gigapix_simd::noise::{GOLDEN, fill_u8};

use gigapix_core::{
    BandFormat, Header, Image, Inputs, Interpretation, Operation, Rect, Region, Result, Sample,
};

/// A `width`×`height` image of `bands` `u8` bands, all zero.
///
/// ```
/// let image = gigapix_ops::black(10, 5, 3);
/// assert_eq!((image.width(), image.height(), image.bands()), (10, 5, 3));
/// ```
pub fn black(width: u32, height: u32, bands: u32) -> Image {
    Image::new(
        Black {
            header: Header::new(width, height, bands, BandFormat::U8),
        },
        vec![],
    )
}

/// A `width`×`height` image of two `u32` bands holding each pixel's `x`
/// and `y` ([`Interpretation::Coordinates`]).
pub fn xyz(width: u32, height: u32) -> Image {
    let header = Header {
        interpretation: Interpretation::Coordinates,
        ..Header::new(width, height, 2, BandFormat::U32)
    };
    Image::new(Xyz { header }, vec![])
}

/// A `width`×`height` image of `bands` `u8` bands of uniform noise in
/// `0..=255`, reproducible from `seed`.
///
/// The value is a pure function of `(seed, x, y, band)`: band `b` of pixel
/// `(x, y)` is byte `b % 8` (little-endian) of output number
/// `(y·width + x)·⌈bands/8⌉ + ⌊b/8⌋` (counting from 0) of the SplitMix64
/// generator whose state starts at `seed`. So one 64-bit hash serves up to
/// eight bands, and the whole image is one SplitMix64 stream in raster
/// order.
pub fn noise(width: u32, height: u32, bands: u32, seed: u64) -> Image {
    Image::new(
        Noise {
            header: Header::new(width, height, bands, BandFormat::U8),
            seed,
        },
        vec![],
    )
}

/// A `width`×`height` one-band `u8` zone plate: the pixel at `(x, y)` is
/// `round(127.5 + 127.5·cos(π·(dx² + dy²) / width))` computed in `f64`, with
/// `dx = x − ⌊width/2⌋` and `dy = y − ⌊height/2⌋`, rounded half away from
/// zero.
pub fn zone(width: u32, height: u32) -> Image {
    Image::new(
        Zone {
            header: Header::new(width, height, 1, BandFormat::U8),
        },
        vec![],
    )
}

/// The operation of [`black`].
#[derive(Debug)]
pub struct Black {
    header: Header,
}

impl Operation for Black {
    type State = ();

    fn name(&self) -> &'static str {
        "black"
    }

    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.header)
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let mut region = inputs.alloc(out);
        for y in out.y..out.bottom() {
            region.row_bytes_mut(y).fill(0);
        }
        Ok(region)
    }
}

/// The operation of [`xyz`].
#[derive(Debug)]
pub struct Xyz {
    header: Header,
}

impl Operation for Xyz {
    type State = ();

    fn name(&self) -> &'static str {
        "xyz"
    }

    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.header)
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let mut region = inputs.alloc(out);
        for y in out.y..out.bottom() {
            let (pixels, _) = region.row_mut::<u32>(y).as_chunks_mut::<2>();
            for (px, x) in pixels.iter_mut().zip(out.x..) {
                *px = [x as u32, y as u32];
            }
        }
        Ok(region)
    }
}

/// The operation of [`noise`].
#[derive(Debug)]
pub struct Noise {
    header: Header,
    seed: u64,
}

impl Operation for Noise {
    type State = ();

    fn name(&self) -> &'static str {
        "noise"
    }

    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.header)
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let mut region = inputs.alloc(out);
        let bands = self.header.bands as usize;
        let per_pixel = bands.div_ceil(8) as u64;
        let width = self.header.width as u64;
        let level = gigapix_simd::level();
        for y in out.y..out.bottom() {
            // Output number n comes from state seed + (n + 1)·GOLDEN; the
            // kernels add GOLDEN before each output.
            let first = (y as u64 * width + out.x as u64).wrapping_mul(per_pixel);
            let state = self.seed.wrapping_add(first.wrapping_mul(GOLDEN));
            fill_u8(level, region.row_mut::<u8>(y), bands, state);
        }
        Ok(region)
    }
}

/// The operation of [`zone`].
#[derive(Debug)]
pub struct Zone {
    header: Header,
}

impl Operation for Zone {
    type State = ();

    fn name(&self) -> &'static str {
        "zone"
    }

    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.header)
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let mut region = inputs.alloc(out);
        let width = self.header.width as f64;
        let cx = (self.header.width / 2) as f64;
        let cy = (self.header.height / 2) as f64;
        for y in out.y..out.bottom() {
            let dy = y as f64 - cy;
            let dy2 = dy * dy;
            for (v, x) in region.row_mut::<u8>(y).iter_mut().zip(out.x..) {
                let dx = x as f64 - cx;
                *v = u8::from_f64(127.5 + 127.5 * (PI * (dx * dx + dy2) / width).cos());
            }
        }
        Ok(region)
    }
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&BLACK, &XYZ, &NOISE, &ZONE];

const SIZE: ArgType = ArgType::int(1, 10_000_000);
const WIDTH: ArgDesc = ArgDesc::required("width", SIZE, "Width in pixels.");
const HEIGHT: ArgDesc = ArgDesc::required("height", SIZE, "Height in pixels.");
const BANDS: ArgDesc = ArgDesc::optional("bands", ArgType::int(1, 1024), "1", "Bands per pixel.");

/// [`black`] in the catalogue.
pub static BLACK: OpDesc = OpDesc::new(
    "black",
    Category::Create,
    "An all-zero u8 image",
    &[WIDTH, HEIGHT, BANDS],
    |_, a| Ok(black(a.u32("width")?, a.u32("height")?, a.u32("bands")?)),
)
.generator()
.example("64 48 bands=3");

/// [`xyz`] in the catalogue.
pub static XYZ: OpDesc = OpDesc::new(
    "xyz",
    Category::Create,
    "A two-band u32 image holding each pixel's x and y",
    &[WIDTH, HEIGHT],
    |_, a| Ok(xyz(a.u32("width")?, a.u32("height")?)),
)
.generator()
.example("64 48");

/// [`noise`] in the catalogue.
pub static NOISE: OpDesc = OpDesc::new(
    "noise",
    Category::Create,
    "Uniform u8 noise, the same for the same seed whatever the tiling",
    &[
        WIDTH,
        HEIGHT,
        BANDS,
        ArgDesc::optional("seed", ArgType::int(0, i64::MAX), "0", "Seed of the generator."),
    ],
    |_, a| {
        let seed = a.int("seed")? as u64;
        Ok(noise(a.u32("width")?, a.u32("height")?, a.u32("bands")?, seed))
    },
)
.doc("Each sample comes from a SplitMix64 stream indexed by the pixel's position, so any region can be computed alone and every tiling gives the same image.")
.generator()
.example("64 48 bands=3 seed=7");

/// [`zone`] in the catalogue.
pub static ZONE: OpDesc = OpDesc::new(
    "zone",
    Category::Create,
    "A one-band u8 zone plate: concentric rings of rising frequency",
    &[WIDTH, HEIGHT],
    |_, a| Ok(zone(a.u32("width")?, a.u32("height")?)),
)
.generator()
.example("64 48");
