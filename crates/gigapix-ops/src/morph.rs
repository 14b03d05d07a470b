//! Morphology with rectangles: [`erode`] (minimum filter) and [`dilate`]
//! (maximum filter).
//!
//! The window is `width`×`height` pixels with the output pixel at its
//! element `(width/2, height/2)` (libvips' mask centre), edge pixels
//! copied outwards, every band on its own. The filter is separable and each
//! pass uses doubling (the minimum of runs of 2, 4, 8… samples, then of two
//! overlapping runs), so its cost grows with the logarithm of the size
//! only; every step is an element-wise minimum or maximum of shifted rows,
//! vectorised by [`gigapix_simd::blur::pairwise`].

use gigapix_core::{
    DemandHint, Error, ErrorKind, Header, Image, Inputs, Operation, Rect, Region, Result, Sample,
    dispatch_format,
};
use gigapix_simd::Level;
use gigapix_simd::blur::{RankSample, pairwise, pairwise_shift};

use crate::conv::invalid;

/// The minimum over a `width`×`height` rectangle around each pixel (see
/// the [module](self) documentation). Zero sizes make the image invalid.
///
/// ```
/// use gigapix_core::{Ctx, Rect};
/// let out = gigapix_ops::morph::erode(&gigapix_ops::xyz(10, 10), 3, 3);
/// let region = Ctx::standalone().region(&out, Rect::new(0, 5, 4, 1))?;
/// assert_eq!(region.row::<u32>(5), &[0, 4, 0, 4, 1, 4, 2, 4]);
/// # Ok::<(), gigapix_core::Error>(())
/// ```
pub fn erode(image: &Image, width: u32, height: u32) -> Image {
    morph(image, "erode", width, height, false)
}

/// The maximum over a `width`×`height` rectangle around each pixel (see
/// the [module](self) documentation). Zero sizes make the image invalid.
pub fn dilate(image: &Image, width: u32, height: u32) -> Image {
    morph(image, "dilate", width, height, true)
}

fn morph(image: &Image, name: &'static str, width: u32, height: u32, max: bool) -> Image {
    if width == 0 || height == 0 || width > 100_000 || height > 100_000 {
        return invalid(
            image,
            name,
            Error::new(
                ErrorKind::InvalidArgument,
                format!("the window {width}x{height} is empty or too large"),
            ),
        );
    }
    Image::new(
        Morph {
            name,
            width,
            height,
            max,
            level: gigapix_simd::level(),
        },
        vec![image.clone()],
    )
}

/// The operation of [`erode`] and [`dilate`].
#[derive(Debug)]
pub struct Morph {
    name: &'static str,
    width: u32,
    height: u32,
    max: bool,
    level: Level,
}

/// Runs of length `n` by doubling, in place over `a` (with `b` as scratch),
/// along a flat buffer where neighbours are `step` samples apart. Returns
/// the power of two reached (`2^k <= n`); `a[i]` then holds the extreme of
/// `2^k` samples from `i`, for every `i` whose run lies in the buffer.
fn doubling<T: RankSample>(
    level: Level,
    a: &mut Vec<T>,
    b: &mut Vec<T>,
    n: usize,
    step: usize,
    max: bool,
) -> usize {
    let mut run = 1;
    while run * 2 <= n {
        let shift = run * step;
        let len = a.len() - shift;
        b.resize(a.len(), a[0]);
        pairwise_shift(level, a, shift, max, &mut b[..len]);
        b[len..].copy_from_slice(&a[len..]);
        std::mem::swap(a, b);
        run *= 2;
    }
    run
}

impl Morph {
    /// The window on an input of `size` (width, height).
    fn run<T: Sample + RankSample>(
        &self,
        out: Rect,
        size: (i64, i64),
        src: &Region,
        dst: &mut Region,
    ) {
        let bands = src.bands() as usize;
        let r = src.rect();
        let (w, h) = (self.width as i64, self.height as i64);
        let (cx, cy) = (w / 2, h / 2);
        let pw = (out.width + w - 1) as usize; // padded pixels per row
        let ph = (out.height + h - 1) as usize;
        let rl = pw * bands;
        // The padded window: rows and columns clamped into the image.
        let mut a: Vec<T> = Vec::with_capacity(rl * ph);
        for yy in out.y - cy..out.y - cy + ph as i64 {
            let row = src.row::<T>(yy.clamp(0, size.1 - 1));
            for xx in out.x - cx..out.x - cx + pw as i64 {
                let x = (xx.clamp(0, size.0 - 1) - r.x) as usize * bands;
                a.extend_from_slice(&row[x..x + bands]);
            }
        }
        let mut b: Vec<T> = Vec::new();
        // Along y: whole rows at a time.
        let run = doubling(self.level, &mut a, &mut b, h as usize, rl, self.max);
        let rows = out.height as usize;
        let mut v: Vec<T> = vec![a[0]; rows * rl];
        let off = (h as usize - run) * rl;
        pairwise(
            self.level,
            &a[..rows * rl],
            &a[off..off + rows * rl],
            self.max,
            &mut v,
        );
        // Along x.
        let run = doubling(self.level, &mut v, &mut b, w as usize, bands, self.max);
        let off = (w as usize - run) * bands;
        let n = out.width as usize * bands;
        for (i, y) in (out.y..out.bottom()).enumerate() {
            let row = &v[i * rl..(i + 1) * rl];
            pairwise(
                self.level,
                &row[..n],
                &row[off..off + n],
                self.max,
                dst.row_mut::<T>(y),
            );
        }
    }
}

impl Operation for Morph {
    type State = ();

    fn name(&self) -> &'static str {
        self.name
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        Ok(inputs[0])
    }

    fn demand(&self) -> DemandHint {
        if self.height > 1 {
            DemandHint::FatStrip
        } else {
            DemandHint::ThinStrip
        }
    }

    fn need(&self, out: Rect, _: usize, inputs: &[Header]) -> Rect {
        let (w, h) = (self.width as i64, self.height as i64);
        let (cx, cy) = (w / 2, h / 2);
        out.expand(cx, cy, w - 1 - cx, h - 1 - cy)
            .intersect(&inputs[0].rect())
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = inputs.header(0);
        let size = (h.width as i64, h.height as i64);
        let src = inputs.get(0, inputs.need(out, 0))?;
        let mut dst = inputs.alloc(out);
        dispatch_format!(src.format(), T => self.run::<T>(out, size, &src, &mut dst));
        Ok(dst)
    }
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&ERODE, &DILATE];

const RECT: &[ArgDesc] = &[
    ArgDesc::required("width", ArgType::int(1, 100_000), "Width of the rectangle."),
    ArgDesc::unset(
        "height",
        ArgType::int(1, 100_000),
        "Height of the rectangle (default: the width).",
    ),
];

fn rect(a: &gigapix_core::desc::Args) -> Result<(u32, u32)> {
    let w = a.u32("width")?;
    Ok((w, a.opt_int("height")?.map_or(w, |h| h as u32)))
}

/// [`erode`] in the catalogue.
pub static ERODE: OpDesc = OpDesc::new(
    "erode",
    Category::Morphology,
    "Minimum over a centred width × height rectangle",
    RECT,
    |input, a| {
        let (w, h) = rect(a)?;
        Ok(erode(input_of(input)?, w, h))
    },
)
.doc("By repeated doubling, so the cost grows with the logarithm of the size; edge pixels are copied outwards.")
.example("3");

/// [`dilate`] in the catalogue.
pub static DILATE: OpDesc = OpDesc::new(
    "dilate",
    Category::Morphology,
    "Maximum over a centred width × height rectangle",
    RECT,
    |input, a| {
        let (w, h) = rect(a)?;
        Ok(dilate(input_of(input)?, w, h))
    },
)
.doc("By repeated doubling, so the cost grows with the logarithm of the size; edge pixels are copied outwards.")
.example("3 height=5");
