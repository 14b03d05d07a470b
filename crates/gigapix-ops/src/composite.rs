//! Alpha: premultiplying, unpremultiplying, Porter-Duff `over` compositing
//! and flattening against a background.
//!
//! The last band of an image is its alpha. Full opacity is the format's
//! maximum for integers (255, 65535, `u32::MAX`) and 1.0 for `f32`.
//!
//! Unlike libvips, whose `premultiply` and `unpremultiply` output `float`,
//! these keep the input's format, rounding integer results to nearest. For
//! `u8` that costs precision where alpha is small: a premultiplied value
//! holds `round(c·a/255)`, so unpremultiplying it again gives back `c`
//! only to within `255 / (2a)` levels (exact for `a = 255`, ±1 for
//! `a ≥ 128`). Cast to `u16` or `f32` first when that matters. `u8`
//! premultiply, unpremultiply and `over` run the SIMD kernels of
//! [`gigapix_simd::pixel`].

use gigapix_core::{
    BandFormat, Error, Header, Image, Inputs, Operation, Rect, Region, Result, Sample,
    dispatch_format,
};
use gigapix_simd::{Level, pixel as kernels};

use crate::colour::cast_scaled;

/// `image` with its colour bands multiplied by alpha (`c·a / max`), alpha
/// kept; the format is kept (see the [module docs](self) on precision). An
/// image with fewer than two bands is invalid.
///
/// ```
/// use gigapix_ops::composite::premultiply;
/// let image = premultiply(&gigapix_ops::noise(8, 8, 4, 1));
/// assert_eq!(image.bands(), 4);
/// ```
pub fn premultiply(image: &Image) -> Image {
    Image::new(
        AlphaOp {
            premultiply: true,
            level: gigapix_simd::level(),
        },
        vec![image.clone()],
    )
}

/// `image` with its colour bands divided by alpha (`c·max / a`, clamped to
/// the format's range for integers; 0 where alpha is 0), alpha kept. The
/// inverse of [`premultiply`]. An image with fewer than two bands is
/// invalid.
pub fn unpremultiply(image: &Image) -> Image {
    Image::new(
        AlphaOp {
            premultiply: false,
            level: gigapix_simd::level(),
        },
        vec![image.clone()],
    )
}

/// `overlay` composited over `base` with Porter-Duff `over`, the overlay's
/// top-left corner at `(x, y)` of the base (it may lie partly or wholly
/// outside). The result has the base's size, bands and format; an overlay
/// of another format is first converted with [`cast_scaled`] (values
/// scaled between the formats' ranges, so opaque stays opaque).
///
/// Both images are unpremultiplied. Either both have alpha (same band
/// count), or the base has none (the overlay has one band more) and is
/// taken as opaque. Any other band counts, or a position beyond ±2⁴⁰, make
/// the image invalid. Integer results are rounded (libvips 8.18 truncates:
/// results may differ from it by one level).
///
/// ```
/// use gigapix_ops::composite::composite;
/// let out = composite(&gigapix_ops::noise(64, 64, 3, 1), &gigapix_ops::noise(10, 10, 4, 2), -3, 60);
/// assert_eq!((out.width(), out.height(), out.bands()), (64, 64, 3));
/// ```
pub fn composite(base: &Image, overlay: &Image, x: i64, y: i64) -> Image {
    let overlay = cast_scaled(overlay, base.header().format);
    Image::new(
        Composite {
            x,
            y,
            level: gigapix_simd::level(),
        },
        vec![base.clone(), overlay],
    )
}

/// `image` without its alpha band, composited over the flat colour
/// `background` (one value for every colour band, or one per colour band):
/// `c·a/max + bg·(1 − a/max)`, as libvips' `flatten`. Integer results are
/// rounded. Fewer than two bands, or a background of the wrong length,
/// make the image invalid.
///
/// ```
/// use gigapix_ops::composite::flatten;
/// let out = flatten(&gigapix_ops::noise(8, 8, 4, 1), &[255.0]);
/// assert_eq!(out.bands(), 3);
/// ```
pub fn flatten(image: &Image, background: &[f64]) -> Image {
    Image::new(
        Flatten {
            background: background.to_vec(),
        },
        vec![image.clone()],
    )
}

fn need_alpha(name: &'static str, h: &Header) -> Result<()> {
    if h.bands < 2 {
        return Err(Error::invalid(
            name,
            format!("the image has {} band, and needs alpha and colour", h.bands),
        ));
    }
    Ok(())
}

/// The operation of [`premultiply`] and [`unpremultiply`].
#[derive(Debug)]
pub struct AlphaOp {
    premultiply: bool,
    level: Level,
}

impl Operation for AlphaOp {
    type State = ();

    fn name(&self) -> &'static str {
        if self.premultiply {
            "premultiply"
        } else {
            "unpremultiply"
        }
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        need_alpha(Operation::name(self), &inputs[0])?;
        Ok(inputs[0])
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let src = inputs.get(0, out)?;
        let h = *inputs.output_header();
        let bands = h.bands as usize;
        let mut dst = inputs.alloc(out);
        for y in out.y..out.bottom() {
            if h.format == BandFormat::U8 {
                let (s, d) = (src.row::<u8>(y), dst.row_mut::<u8>(y));
                if self.premultiply {
                    kernels::premultiply_u8(self.level, s, d, bands);
                } else {
                    kernels::unpremultiply_u8(self.level, s, d, bands);
                }
                continue;
            }
            dispatch_format!(h.format, T => {
                alpha_row::<T>(src.row::<T>(y), dst.row_mut::<T>(y), bands, self.premultiply)
            });
        }
        Ok(dst)
    }
}

/// Premultiplies or unpremultiplies a row in `f64` (formats without a
/// kernel).
fn alpha_row<T: Sample>(src: &[T], dst: &mut [T], bands: usize, premultiply: bool) {
    let max = T::FORMAT.max_value();
    for (s, d) in src.chunks_exact(bands).zip(dst.chunks_exact_mut(bands)) {
        let a = s[bands - 1].to_f64();
        for (dv, sv) in d[..bands - 1].iter_mut().zip(&s[..bands - 1]) {
            let c = sv.to_f64();
            *dv = T::from_f64(if premultiply {
                c * a / max
            } else if a == 0.0 {
                0.0
            } else {
                c * max / a
            });
        }
        d[bands - 1] = s[bands - 1];
    }
}

/// The operation of [`composite`].
#[derive(Debug)]
pub struct Composite {
    x: i64,
    y: i64,
    level: Level,
}

/// Largest offset [`composite`] accepts.
const MAX_OFFSET: u64 = 1 << 40;

impl Operation for Composite {
    type State = ();

    fn name(&self) -> &'static str {
        "composite"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let (b, o) = (inputs[0], inputs[1]);
        if self.x.unsigned_abs() > MAX_OFFSET || self.y.unsigned_abs() > MAX_OFFSET {
            return Err(Error::invalid(
                "composite",
                format!(
                    "position ({}, {}) is too far out (the limit is ±2^40)",
                    self.x, self.y
                ),
            ));
        }
        let ok = (o.bands == b.bands && b.bands >= 2) || o.bands == b.bands + 1;
        if !ok {
            return Err(Error::invalid(
                "composite",
                format!(
                    "a {}-band overlay cannot go over a {}-band base (the overlay needs \
                     alpha: as many bands as a base with alpha, or one more)",
                    o.bands, b.bands
                ),
            ));
        }
        Ok(b)
    }

    fn need(&self, out: Rect, index: usize, inputs: &[Header]) -> Rect {
        if index == 0 {
            return out;
        }
        out.translate(-self.x, -self.y).intersect(&inputs[1].rect())
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let base = inputs.get(0, out)?;
        let ov_rect = inputs.need(out, 1);
        if ov_rect.is_empty() {
            return Ok(base);
        }
        let ov = inputs.get(1, ov_rect)?;
        let h = *inputs.output_header();
        let bands = h.bands as usize;
        let with_alpha = inputs.header(1).bands == h.bands;
        let mut dst = inputs.alloc(out);
        let part = ov_rect.translate(self.x, self.y);
        let (c0, c1) = ((part.x - out.x) as usize, (part.right() - out.x) as usize);
        for y in out.y..out.bottom() {
            dst.row_bytes_mut(y).copy_from_slice(base.row_bytes(y));
            if y < part.y || y >= part.bottom() {
                continue;
            }
            let oy = y - self.y;
            if h.format == BandFormat::U8 && with_alpha {
                let b = &base.row::<u8>(y)[c0 * bands..c1 * bands];
                let d = &mut dst.row_mut::<u8>(y)[c0 * bands..c1 * bands];
                kernels::over_u8(self.level, b, ov.row::<u8>(oy), d, bands);
                continue;
            }
            dispatch_format!(h.format, T => {
                let b = &base.row::<T>(y)[c0 * bands..c1 * bands];
                let d = &mut dst.row_mut::<T>(y)[c0 * bands..c1 * bands];
                over_row::<T>(b, ov.row::<T>(oy), d, bands, with_alpha)
            });
        }
        Ok(dst)
    }
}

/// `over` on a row in `f64`. `bands` is the base's; the overlay has one band
/// more when the base has no alpha.
fn over_row<T: Sample>(base: &[T], ov: &[T], dst: &mut [T], bands: usize, with_alpha: bool) {
    let max = T::FORMAT.max_value();
    let ob = if with_alpha { bands } else { bands + 1 };
    for ((b, o), d) in base
        .chunks_exact(bands)
        .zip(ov.chunks_exact(ob))
        .zip(dst.chunks_exact_mut(bands))
    {
        let a_s = o[ob - 1].to_f64() / max;
        if with_alpha {
            let a_b = b[bands - 1].to_f64() / max;
            let wb = a_b * (1.0 - a_s);
            let a_o = a_s + wb;
            for k in 0..bands - 1 {
                d[k] = T::from_f64(if a_o == 0.0 {
                    0.0
                } else {
                    (o[k].to_f64() * a_s + b[k].to_f64() * wb) / a_o
                });
            }
            d[bands - 1] = T::from_f64(a_o * max);
        } else {
            for k in 0..bands {
                d[k] = T::from_f64(o[k].to_f64() * a_s + b[k].to_f64() * (1.0 - a_s));
            }
        }
    }
}

/// The operation of [`flatten`].
#[derive(Debug)]
pub struct Flatten {
    background: Vec<f64>,
}

impl Operation for Flatten {
    type State = ();

    fn name(&self) -> &'static str {
        "flatten"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        need_alpha("flatten", &h)?;
        let n = self.background.len();
        if n != 1 && n != h.bands as usize - 1 {
            return Err(Error::invalid(
                "flatten",
                format!("background has {n} values for {} colour bands", h.bands - 1),
            ));
        }
        Ok(h.with_bands(h.bands - 1))
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let src = inputs.get(0, out)?;
        let h = *inputs.output_header();
        let bands = h.bands as usize;
        let bg: Vec<f64> = (0..bands)
            .map(|k| self.background[k.min(self.background.len() - 1)])
            .collect();
        let mut dst = inputs.alloc(out);
        for y in out.y..out.bottom() {
            dispatch_format!(h.format, T => {
                flatten_row::<T>(src.row::<T>(y), dst.row_mut::<T>(y), &bg)
            });
        }
        Ok(dst)
    }
}

fn flatten_row<T: Sample>(src: &[T], dst: &mut [T], bg: &[f64]) {
    let bands = bg.len();
    let max = T::FORMAT.max_value();
    for (s, d) in src.chunks_exact(bands + 1).zip(dst.chunks_exact_mut(bands)) {
        let a = s[bands].to_f64() / max;
        for k in 0..bands {
            d[k] = T::from_f64(s[k].to_f64() * a + bg[k] * (1.0 - a));
        }
    }
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&PREMULTIPLY, &UNPREMULTIPLY, &COMPOSITE, &FLATTEN];

/// [`premultiply`] in the catalogue.
pub static PREMULTIPLY: OpDesc = OpDesc::new(
    "premultiply",
    Category::Composite,
    "Multiplies the colour bands by alpha (the last band)",
    &[],
    |input, _| Ok(premultiply(input_of(input)?)),
)
.doc("The format is kept (libvips goes to float); a u8 round trip through unpremultiply is within one level for alpha ≥ 128.");

/// [`unpremultiply`] in the catalogue.
pub static UNPREMULTIPLY: OpDesc = OpDesc::new(
    "unpremultiply",
    Category::Composite,
    "Divides the colour bands by alpha (the last band)",
    &[],
    |input, _| Ok(unpremultiply(input_of(input)?)),
);

/// [`composite`] in the catalogue.
pub static COMPOSITE: OpDesc = OpDesc::new(
    "composite",
    Category::Composite,
    "An overlay placed at (x, y) over the image (Porter-Duff over)",
    &[
        ArgDesc::required("overlay", ArgType::Image, "The image on top, with alpha."),
        ArgDesc::required(
            "x",
            ArgType::int(-(u32::MAX as i64), u32::MAX as i64),
            "Left of the overlay.",
        ),
        ArgDesc::required(
            "y",
            ArgType::int(-(u32::MAX as i64), u32::MAX as i64),
            "Top of the overlay.",
        ),
    ],
    |input, a| {
        Ok(composite(
            input_of(input)?,
            &a.image("overlay")?,
            a.int("x")?,
            a.int("y")?,
        ))
    },
)
.doc("Rounds where libvips truncates.")
.aliases(&["composite2"])
.example("noise:32x24x4:5 10 10");

/// [`flatten`] in the catalogue.
pub static FLATTEN: OpDesc = OpDesc::new(
    "flatten",
    Category::Composite,
    "Drops the alpha band, blending against a background",
    &[ArgDesc::optional(
        "background",
        ArgType::Numbers,
        "0",
        "The background: one value, or one per colour band.",
    )],
    |input, a| Ok(flatten(input_of(input)?, &a.numbers("background")?)),
)
.example("background=255");
