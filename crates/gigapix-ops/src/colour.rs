//! Colour spaces: sRGB, linear-light scRGB and greyscale, and casts with
//! value scaling between band formats.
//!
//! [`colourspace`] is the one entry point. It reads the image's
//! [`Interpretation`] ([`Interpretation::Multiband`] is read as the band
//! count suggests: 1 or 2 bands grey, 3 or 4 sRGB) and converts between:
//!
//! - [`Interpretation::Srgb`] ↔ [`Interpretation::Scrgb`]: the sRGB transfer
//!   function (IEC 61966-2-1) on each colour band.
//! - sRGB or scRGB → [`Interpretation::Grey`]: luminance with the Rec. 709
//!   weights (0.2126, 0.7152, 0.0722) taken in linear light, then encoded
//!   with the sRGB curve. This is what libvips 8.18's `colourspace("b-w")`
//!   does (checked: sRGB (255, 0, 0) gives 127, (0, 255, 0) gives 220,
//!   (200, 100, 50) gives 128 in both); we match it within one level.
//! - Grey → sRGB (the grey value replicated) or scRGB (replicated and
//!   linearised).
//!
//! The band format is kept: sample values are scaled to the format's range
//! (0..1 for `f32`), so an integer scRGB image uses the whole range of its
//! format, as [`Interpretation::Scrgb`] says. `u8` scRGB loses the shadows:
//! cast to `u16` or `f32` with [`cast_scaled`] first when precision
//! matters. Bands after the colour bands (alpha) are carried through
//! unchanged. `u8` and `u16` convert through lookup tables built in `f64`;
//! `u32` and `f32` use the exact formula (for `f32`, sign-symmetric and
//! unclamped, so out-of-gamut values survive).

use std::sync::Arc;

use gigapix_core::{
    BandFormat, Error, ErrorKind, Header, Image, Inputs, Interpretation, Operation, Rect, Region,
    Result, Sample, dispatch_format,
};

use crate::point::{LinearOptions, linear_with};

/// `image` converted to the `target` interpretation (see the
/// [module docs](self) for what converts to what). The same interpretation
/// gives the image back; unsupported pairs, or too few bands for the
/// source's interpretation, make the image invalid.
///
/// ```
/// use gigapix_core::Interpretation;
/// use gigapix_ops::colour::colourspace;
/// let grey = colourspace(&gigapix_ops::noise(8, 8, 4, 1), Interpretation::Grey);
/// assert_eq!(grey.bands(), 2); // luminance and the alpha carried through
/// ```
pub fn colourspace(image: &Image, target: Interpretation) -> Image {
    let h = image.header();
    let source = match h.interpretation {
        // Unlabelled bands: read them as their count suggests.
        Interpretation::Multiband => Interpretation::guess(h.bands),
        i => i,
    };
    if source == target && source == h.interpretation {
        return image.clone();
    }
    let mode = match (source, target) {
        _ if source == target => Mode::Relabel,
        (Interpretation::Srgb, Interpretation::Scrgb) => Mode::Map(Curve::Linearise),
        (Interpretation::Scrgb, Interpretation::Srgb) => Mode::Map(Curve::Encode),
        (Interpretation::Srgb, Interpretation::Grey) => Mode::ToGrey { linear: false },
        (Interpretation::Scrgb, Interpretation::Grey) => Mode::ToGrey { linear: true },
        (Interpretation::Grey, Interpretation::Srgb) => Mode::FromGrey(Curve::Identity),
        (Interpretation::Grey, Interpretation::Scrgb) => Mode::FromGrey(Curve::Linearise),
        _ => Mode::Unsupported,
    };
    let tables = Arc::new(Tables::new(&mode, h.format));
    Image::new(
        Colour {
            mode,
            source,
            target,
            tables,
        },
        vec![image.clone()],
    )
}

/// `image` converted to `format` with its values scaled from the input
/// format's range to the output's (`0..=max` for integers, `0..1` for
/// `f32`): `u8 → u16` is `v × 257` (exact, 255 → 65535) and `u16 → u8` is
/// `round(v / 257)`, so a round trip is lossless.
///
/// libvips' `cast` does not scale, and its `colourspace` to and from
/// `rgb16` shifts by 8 bits (`v << 8`, `v >> 8`): 200 becomes 51200 there
/// and 51400 here, and going down the results differ by at most one level.
/// We scale by the exact ratio so that white stays white.
pub fn cast_scaled(image: &Image, format: BandFormat) -> Image {
    let from = image.format();
    if from == format {
        return image.clone();
    }
    let scale = format.max_value() / from.max_value();
    linear_with(
        image,
        &[scale],
        &[0.0],
        &LinearOptions::default().format(format),
    )
}

/// sRGB-encoded value (0..1) to linear light.
pub fn srgb_to_linear(v: f64) -> f64 {
    let a = v.abs();
    let l = if a <= 0.04045 {
        a / 12.92
    } else {
        ((a + 0.055) / 1.055).powf(2.4)
    };
    l.copysign(v)
}

/// Linear-light value (0..1) to sRGB encoding.
pub fn linear_to_srgb(l: f64) -> f64 {
    let a = l.abs();
    let v = if a <= 0.003_130_8 {
        a * 12.92
    } else {
        1.055 * a.powf(1.0 / 2.4) - 0.055
    };
    v.copysign(l)
}

/// Rec. 709 luminance weights.
const WEIGHTS: [f64; 3] = [0.2126, 0.7152, 0.0722];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Curve {
    Identity,
    Linearise,
    Encode,
}

impl Curve {
    fn apply(self, v: f64) -> f64 {
        match self {
            Curve::Identity => v,
            Curve::Linearise => srgb_to_linear(v),
            Curve::Encode => linear_to_srgb(v),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Same number of colour bands, a curve on each.
    Map(Curve),
    /// Three colour bands to one; `linear` if they already are.
    ToGrey {
        linear: bool,
    },
    /// One colour band replicated to three through a curve.
    FromGrey(Curve),
    /// Already in the target space, only labelled `Multiband`.
    Relabel,
    Unsupported,
}

impl Mode {
    /// Colour bands in and out.
    fn colour_bands(self) -> (u32, u32) {
        match self {
            Mode::Map(_) => (3, 3),
            Mode::ToGrey { .. } => (3, 1),
            Mode::FromGrey(_) => (1, 3),
            Mode::Relabel | Mode::Unsupported => (0, 0),
        }
    }
}

/// Lookup tables for `u8` and `u16` inputs.
#[derive(Debug, Default)]
struct Tables {
    /// Every input value to the output value of a `Map`/`FromGrey` curve.
    curve: Vec<u32>,
    /// Every input value to linear light (0..1), for `ToGrey` from sRGB.
    linear: Vec<f64>,
    /// Luminance quantised to 1/65535 to a `u8` output value.
    encode_u8: Vec<u8>,
    /// `u8` only: `curve` as bytes.
    curve_u8: Vec<u8>,
    /// `u8` only: `linear` in 16-bit fixed point (0..=65535).
    linear_u16: Vec<u32>,
}

impl Tables {
    fn new(mode: &Mode, format: BandFormat) -> Tables {
        let mut t = Tables::default();
        let max = format.max_value();
        let n = match format {
            BandFormat::U8 => 256,
            BandFormat::U16 => 65536,
            _ => return t,
        };
        match *mode {
            Mode::Map(c) | Mode::FromGrey(c) => {
                t.curve = (0..n)
                    .map(|v| (c.apply(v as f64 / max) * max).round().clamp(0.0, max) as u32)
                    .collect();
                if format == BandFormat::U8 {
                    t.curve_u8 = t.curve.iter().map(|&v| v as u8).collect();
                }
            }
            Mode::ToGrey { linear } => {
                t.linear = (0..n)
                    .map(|v| {
                        let v = v as f64 / max;
                        if linear { v } else { srgb_to_linear(v) }
                    })
                    .collect();
                if format == BandFormat::U8 {
                    t.linear_u16 = t
                        .linear
                        .iter()
                        .map(|&l| (l * 65535.0).round() as u32)
                        .collect();
                    t.encode_u8 = (0..=65535)
                        .map(|i| (linear_to_srgb(i as f64 / 65535.0) * 255.0).round() as u8)
                        .collect();
                }
            }
            Mode::Relabel | Mode::Unsupported => {}
        }
        t
    }
}

/// The operation of [`colourspace`].
#[derive(Debug)]
pub struct Colour {
    mode: Mode,
    source: Interpretation,
    target: Interpretation,
    tables: Arc<Tables>,
}

impl Operation for Colour {
    type State = ();

    fn name(&self) -> &'static str {
        "colourspace"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        if self.mode == Mode::Unsupported {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "cannot convert {} to {} (supported: srgb, scrgb, grey)",
                    self.source, self.target
                ),
            ));
        }
        let (cin, cout) = self.mode.colour_bands();
        if h.bands < cin {
            return Err(Error::invalid(
                "colourspace",
                format!(
                    "a {} image needs {cin} colour bands, this one has {}",
                    self.source, h.bands
                ),
            ));
        }
        let mut out = h.with_bands(h.bands - cin + cout);
        out.interpretation = self.target;
        Ok(out)
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let src = inputs.get(0, out)?;
        let ib = inputs.header(0).bands as usize;
        let ob = inputs.output_header().bands as usize;
        let format = inputs.output_header().format;
        let mut dst = inputs.alloc(out);
        for y in out.y..out.bottom() {
            if format == BandFormat::U8 {
                self.row_u8(src.row::<u8>(y), dst.row_mut::<u8>(y), ib, ob);
                continue;
            }
            dispatch_format!(format, T => {
                self.row::<T>(src.row::<T>(y), dst.row_mut::<T>(y), ib, ob)
            });
        }
        Ok(dst)
    }
}

/// Rec. 709 weights in 15-bit fixed point, summing to exactly 32768.
const WEIGHTS_FIXED: [u32; 3] = [6966, 23436, 2366];

impl Colour {
    /// The `u8` rows: table lookups and fixed-point luminance.
    fn row_u8(&self, src: &[u8], dst: &mut [u8], ib: usize, ob: usize) {
        let (cin, cout) = self.mode.colour_bands();
        let (cin, cout) = (cin as usize, cout as usize);
        let t = &*self.tables;
        for (s, d) in src.chunks_exact(ib).zip(dst.chunks_exact_mut(ob)) {
            match self.mode {
                Mode::Map(_) => {
                    let lut = &t.curve_u8[..256];
                    d[0] = lut[s[0] as usize];
                    d[1] = lut[s[1] as usize];
                    d[2] = lut[s[2] as usize];
                }
                Mode::FromGrey(_) => d[..3].fill(t.curve_u8[s[0] as usize]),
                Mode::ToGrey { .. } => {
                    let lin = &t.linear_u16[..256];
                    let y = WEIGHTS_FIXED[0] * lin[s[0] as usize]
                        + WEIGHTS_FIXED[1] * lin[s[1] as usize]
                        + WEIGHTS_FIXED[2] * lin[s[2] as usize];
                    d[0] = t.encode_u8[((y + (1 << 14)) >> 15) as usize];
                }
                Mode::Relabel => {}
                Mode::Unsupported => unreachable!("refused by header"),
            }
            d[cout..].copy_from_slice(&s[cin..]);
        }
    }

    fn row<T: Sample>(&self, src: &[T], dst: &mut [T], ib: usize, ob: usize) {
        let (cin, cout) = self.mode.colour_bands();
        let (cin, cout) = (cin as usize, cout as usize);
        let max = T::FORMAT.max_value();
        let t = &*self.tables;
        let lut = !t.curve.is_empty() || !t.linear.is_empty();
        for (s, d) in src.chunks_exact(ib).zip(dst.chunks_exact_mut(ob)) {
            match self.mode {
                Mode::Map(c) => {
                    for k in 0..3 {
                        d[k] = if lut {
                            T::from_f64(t.curve[s[k].to_f64() as usize] as f64)
                        } else {
                            T::from_f64(c.apply(s[k].to_f64() / max) * max)
                        };
                    }
                }
                Mode::FromGrey(c) => {
                    let v = if lut {
                        T::from_f64(t.curve[s[0].to_f64() as usize] as f64)
                    } else {
                        T::from_f64(c.apply(s[0].to_f64() / max) * max)
                    };
                    d[..3].fill(v);
                }
                Mode::ToGrey { linear } => {
                    let lin = |v: T| {
                        if lut {
                            t.linear[v.to_f64() as usize]
                        } else if linear {
                            v.to_f64() / max
                        } else {
                            srgb_to_linear(v.to_f64() / max)
                        }
                    };
                    let y =
                        WEIGHTS[0] * lin(s[0]) + WEIGHTS[1] * lin(s[1]) + WEIGHTS[2] * lin(s[2]);
                    d[0] = if !t.encode_u8.is_empty() {
                        let i = (y * 65535.0 + 0.5).clamp(0.0, 65535.0) as usize;
                        T::from_f64(t.encode_u8[i] as f64)
                    } else {
                        T::from_f64(linear_to_srgb(y) * max)
                    };
                }
                Mode::Relabel => {}
                Mode::Unsupported => unreachable!("refused by header"),
            }
            d[cout..].copy_from_slice(&s[cin..]);
        }
    }
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&COLOURSPACE, &CAST_SCALED];

/// [`colourspace`] in the catalogue.
pub static COLOURSPACE: OpDesc = OpDesc::new(
    "colourspace",
    Category::Colour,
    "Converts between sRGB, scRGB (linear light) and grey",
    &[
        ArgDesc::required(
            "space",
            ArgType::Enum(&["srgb", "scrgb", "grey", "rgb16", "grey16", "b-w"]),
            "The target space; rgb16 and grey16 are sRGB and grey in 16 bits (libvips' names), b-w is grey.",
        ),
        ArgDesc::unset("format", ArgType::Format, "Also rescale to this band format (u8, u16 or f32)."),
    ],
    |input, a| {
        let (target, depth) = match a.choice("space")? {
            "srgb" => (Interpretation::Srgb, None),
            "rgb16" => (Interpretation::Srgb, Some(BandFormat::U16)),
            "scrgb" => (Interpretation::Scrgb, None),
            "grey16" => (Interpretation::Grey, Some(BandFormat::U16)),
            _ => (Interpretation::Grey, None),
        };
        let out = colourspace(input_of(input)?, target);
        Ok(match a.opt_format("format")?.or(depth) {
            Some(f) => cast_scaled(&out, f),
            None => out,
        })
    },
)
.doc("Grey is Rec.709 luminance computed in linear light, as libvips' b-w; scRGB is linear-light sRGB primaries (0..1 for float). An alpha band is carried through.")
.aliases(&["colorspace"])
.example("grey");

/// [`cast_scaled`] in the catalogue.
pub static CAST_SCALED: OpDesc = OpDesc::new(
    "cast_scaled",
    Category::Conversion,
    "Converts the band format, rescaling values to the new range (8 ↔ 16 bit)",
    &[ArgDesc::required(
        "format",
        ArgType::Format,
        "The new band format (u8, u16, u32 or f32).",
    )],
    |input, a| Ok(cast_scaled(input_of(input)?, a.format("format")?)),
)
.doc("u8 → u16 multiplies by 257, u16 → u8 divides by 257 and rounds, float is 0..1.")
.example("u16");
