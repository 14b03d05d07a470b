//! Colour spaces: sRGB, linear-light scRGB, greyscale, and (by formula,
//! with no profile) CIE XYZ, CIELab, LCh, HSV and naive CMYK; and casts with
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
    let formula = [
        Interpretation::Lab,
        Interpretation::Lch,
        Interpretation::Xyz,
        Interpretation::Hsv,
        Interpretation::Cmyk,
    ];
    if source != target
        && (formula.contains(&source) || formula.contains(&target))
        && formula_bands(source).is_some()
        && formula_bands(target).is_some()
    {
        let format = if absolute(target) {
            BandFormat::F32
        } else if absolute(source) {
            BandFormat::U8
        } else {
            h.format
        };
        return Image::new(
            Formula {
                source,
                target,
                format,
            },
            vec![image.clone()],
        );
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
                    "cannot convert {} to {} (supported: srgb, scrgb, grey, lab, lch, xyz, hsv, cmyk)",
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

/// The spaces of the formula conversions (no profile): sRGB, scRGB, grey,
/// CIE XYZ (D65, Y 0..100), CIELab and LCh (D65, L 0..100, h in degrees),
/// HSV (libvips': H scaled to the format's range, so 0..255 for `u8`)
/// and naive CMYK (K = 1 − max(R, G, B), no ink limit).
fn formula_bands(space: Interpretation) -> Option<u32> {
    match space {
        Interpretation::Grey => Some(1),
        Interpretation::Cmyk => Some(4),
        Interpretation::Srgb
        | Interpretation::Scrgb
        | Interpretation::Hsv
        | Interpretation::Lab
        | Interpretation::Lch
        | Interpretation::Xyz => Some(3),
        _ => None,
    }
}

/// Spaces whose values are absolute numbers (kept in `f32`), not scaled to
/// the format's range.
fn absolute(space: Interpretation) -> bool {
    matches!(
        space,
        Interpretation::Lab | Interpretation::Lch | Interpretation::Xyz
    )
}

/// D65 white, libvips' `VIPS_D65_X0` etc.
pub const D65: [f64; 3] = [95.047, 100.0, 108.883];

/// Linear sRGB (Rec. 709 primaries) to XYZ (Y 0..1): libvips' 4-digit
/// matrix (its `scRGB2XYZ`), so results match it.
const RGB_TO_XYZ: [[f64; 3]; 3] = [
    [0.4124, 0.3576, 0.1805],
    [0.2126, 0.7152, 0.0722],
    [0.0193, 0.1192, 0.9505],
];

fn mul(m: &[[f64; 3]; 3], v: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2])
}

fn invert3(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let c =
        |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    [
        [
            c(1, 1, 2, 2) / det,
            -c(0, 1, 2, 2) / det,
            c(0, 1, 1, 2) / det,
        ],
        [
            -c(1, 0, 2, 2) / det,
            c(0, 0, 2, 2) / det,
            -c(0, 0, 1, 2) / det,
        ],
        [
            c(1, 0, 2, 1) / det,
            -c(0, 0, 2, 1) / det,
            c(0, 0, 1, 1) / det,
        ],
    ]
}

/// CIE's f(t) of XYZ → Lab (with its linear part near black).
pub(crate) fn lab_f(t: f64) -> f64 {
    if t > 216.0 / 24389.0 {
        t.cbrt()
    } else {
        (24389.0 / 27.0 * t + 16.0) / 116.0
    }
}

/// The inverse of [`lab_f`].
pub(crate) fn lab_finv(f: f64) -> f64 {
    let t = f * f * f;
    if t > 216.0 / 24389.0 {
        t
    } else {
        (116.0 * f - 16.0) / (24389.0 / 27.0)
    }
}

fn hsv_to_rgb(h: f64, s: f64, v: f64) -> [f64; 3] {
    let h6 = (h.rem_euclid(1.0)) * 6.0;
    let i = h6.floor();
    let f = h6 - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match i as u32 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

fn rgb_to_hsv(c: [f64; 3]) -> [f64; 3] {
    let max = c[0].max(c[1]).max(c[2]);
    let min = c[0].min(c[1]).min(c[2]);
    let d = max - min;
    let h = if d <= 0.0 {
        0.0
    } else if max == c[0] {
        ((c[1] - c[2]) / d).rem_euclid(6.0)
    } else if max == c[1] {
        (c[2] - c[0]) / d + 2.0
    } else {
        (c[0] - c[1]) / d + 4.0
    };
    let s = if max > 0.0 { d / max } else { 0.0 };
    [h / 6.0, s, max]
}

/// One pixel's colour values (`v`: scaled to 0..1 for relative spaces,
/// as is for absolute ones) to XYZ (Y 0..1, D65).
pub fn formula_to_xyz(space: Interpretation, v: &[f64]) -> [f64; 3] {
    let lin = |c: [f64; 3]| c.map(srgb_to_linear);
    match space {
        Interpretation::Srgb => mul(&RGB_TO_XYZ, lin([v[0], v[1], v[2]])),
        Interpretation::Scrgb => mul(&RGB_TO_XYZ, [v[0], v[1], v[2]]),
        Interpretation::Grey => {
            let y = srgb_to_linear(v[0]);
            [D65[0] / 100.0 * y, y, D65[2] / 100.0 * y]
        }
        Interpretation::Hsv => mul(&RGB_TO_XYZ, lin(hsv_to_rgb(v[0], v[1], v[2]))),
        Interpretation::Cmyk => {
            let k = 1.0 - v[3];
            mul(&RGB_TO_XYZ, lin([0, 1, 2].map(|i| (1.0 - v[i]) * k)))
        }
        Interpretation::Xyz => [v[0] / 100.0, v[1] / 100.0, v[2] / 100.0],
        Interpretation::Lab | Interpretation::Lch => {
            let (l, a, b) = if space == Interpretation::Lch {
                let h = v[2].to_radians();
                (v[0], v[1] * h.cos(), v[1] * h.sin())
            } else {
                (v[0], v[1], v[2])
            };
            let fy = (l + 16.0) / 116.0;
            let f = [fy + a / 500.0, fy, fy - b / 200.0];
            [0, 1, 2].map(|k| lab_finv(f[k]) * D65[k] / 100.0)
        }
        _ => [0.0; 3],
    }
}

/// XYZ (Y 0..1, D65) to one pixel's values in `space` (see
/// [`formula_to_xyz`]); `out` holds 1, 3 or 4 values.
pub fn formula_from_xyz(space: Interpretation, xyz: [f64; 3], out: &mut [f64]) {
    let rgb = || mul(&invert3(&RGB_TO_XYZ), xyz);
    let enc = |c: [f64; 3]| c.map(|x| linear_to_srgb(x.clamp(0.0, 1.0)));
    match space {
        Interpretation::Srgb => out[..3].copy_from_slice(&enc(rgb())),
        Interpretation::Scrgb => out[..3].copy_from_slice(&rgb()),
        Interpretation::Grey => out[0] = linear_to_srgb(xyz[1].clamp(0.0, 1.0)),
        Interpretation::Hsv => out[..3].copy_from_slice(&rgb_to_hsv(enc(rgb()))),
        Interpretation::Cmyk => {
            let c = enc(rgb());
            let k = 1.0 - c[0].max(c[1]).max(c[2]);
            for i in 0..3 {
                out[i] = if k < 1.0 {
                    (1.0 - c[i] - k) / (1.0 - k)
                } else {
                    0.0
                };
            }
            out[3] = k;
        }
        Interpretation::Xyz => {
            for k in 0..3 {
                out[k] = xyz[k] * 100.0;
            }
        }
        Interpretation::Lab | Interpretation::Lch => {
            let f = [0, 1, 2].map(|k| lab_f(xyz[k] * 100.0 / D65[k]));
            let (l, a, b) = (
                116.0 * f[1] - 16.0,
                500.0 * (f[0] - f[1]),
                200.0 * (f[1] - f[2]),
            );
            if space == Interpretation::Lch {
                out[0] = l;
                out[1] = a.hypot(b);
                out[2] = b.atan2(a).to_degrees().rem_euclid(360.0);
            } else {
                out[..3].copy_from_slice(&[l, a, b]);
            }
        }
        _ => {}
    }
}

/// The operation of [`colourspace`] between formula spaces.
#[derive(Debug)]
pub struct Formula {
    source: Interpretation,
    target: Interpretation,
    format: BandFormat,
}

impl Operation for Formula {
    type State = ();

    fn name(&self) -> &'static str {
        "colourspace"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        let (cin, cout) = (
            formula_bands(self.source).unwrap_or(3),
            formula_bands(self.target).unwrap_or(3),
        );
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
        out.format = self.format;
        out.interpretation = self.target;
        Ok(out)
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let src = inputs.get(0, out)?;
        let ib = inputs.header(0).bands as usize;
        let ob = inputs.output_header().bands as usize;
        let in_format = inputs.header(0).format;
        let mut dst = inputs.alloc(out);
        let cin = formula_bands(self.source).unwrap_or(3) as usize;
        let cout = formula_bands(self.target).unwrap_or(3) as usize;
        let in_scale = if absolute(self.source) {
            1.0
        } else {
            in_format.max_value()
        };
        let out_scale = if absolute(self.target) {
            1.0
        } else {
            self.format.max_value()
        };
        let mut vin = vec![0f64; ib];
        let mut vout = vec![0f64; ob];
        for y in out.y..out.bottom() {
            dispatch_format!(in_format, S => {
                let row = src.row::<S>(y);
                dispatch_format!(self.format, T => {
                    let drow = dst.row_mut::<T>(y);
                    for (s, d) in row.chunks_exact(ib).zip(drow.chunks_exact_mut(ob)) {
                        for (k, x) in s.iter().enumerate() {
                            vin[k] = x.to_f64() / if k < cin { in_scale } else { 1.0 };
                        }
                        let xyz = formula_to_xyz(self.source, &vin[..cin]);
                        formula_from_xyz(self.target, xyz, &mut vout[..cout]);
                        for k in 0..cout {
                            d[k] = T::from_f64(vout[k] * out_scale);
                        }
                        for k in cin..ib {
                            d[k - cin + cout] = T::from_f64(s[k].to_f64());
                        }
                    }
                });
            });
        }
        Ok(dst)
    }
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&COLOURSPACE, &CAST_SCALED];

/// [`colourspace`] in the catalogue.
pub static COLOURSPACE: OpDesc = OpDesc::new(
    "colourspace",
    Category::Colour,
    "Converts between sRGB, scRGB (linear light), grey, Lab, LCh, XYZ, HSV and CMYK",
    &[
        ArgDesc::required(
            "space",
            ArgType::Enum(&["srgb", "scrgb", "grey", "rgb16", "grey16", "b-w", "lab", "lch", "xyz", "hsv", "cmyk"]),
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
            "lab" => (Interpretation::Lab, None),
            "lch" => (Interpretation::Lch, None),
            "xyz" => (Interpretation::Xyz, None),
            "hsv" => (Interpretation::Hsv, None),
            "cmyk" => (Interpretation::Cmyk, None),
            _ => (Interpretation::Grey, None),
        };
        let out = colourspace(input_of(input)?, target);
        Ok(match a.opt_format("format")?.or(depth) {
            Some(f) => cast_scaled(&out, f),
            None => out,
        })
    },
)
.doc("Grey is Rec.709 luminance computed in linear light, as libvips' b-w; scRGB is linear-light sRGB primaries (0..1 for float). Lab, LCh and XYZ are f32 with libvips' D65 white (L and Y 0..100, h in degrees); HSV keeps the format (H scaled like S and V); CMYK is naive (no profile: K = 1 - max(R,G,B)), use icc_transform for real inks. An alpha band is carried through.")
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Published values: sRGB primaries in CIELab (D65) and XYZ.
    #[test]
    fn formulas_match_published_values() {
        let xyz = formula_to_xyz(Interpretation::Srgb, &[1.0, 0.0, 0.0]);
        let mut lab = [0.0; 3];
        formula_from_xyz(Interpretation::Lab, xyz, &mut lab);
        let want = [53.24, 80.09, 67.20];
        for k in 0..3 {
            assert!((lab[k] - want[k]).abs() < 0.05, "{lab:?}");
        }
        // libvips 8.18's colourspace of sRGB (200, 100, 50): lab
        // (53.626, 36.311, 45.378), lch (53.626, 58.118, 51.334), xyz
        // (28.952, 21.624, 5.666), hsv (14, 191, 200).
        let c = formula_to_xyz(
            Interpretation::Srgb,
            &[200.0 / 255.0, 100.0 / 255.0, 50.0 / 255.0],
        );
        for (space, want, scale) in [
            (Interpretation::Lab, [53.626, 36.311, 45.378], 1.0),
            (Interpretation::Lch, [53.626, 58.118, 51.334], 1.0),
            (Interpretation::Xyz, [28.952, 21.624, 5.666], 1.0),
            (Interpretation::Hsv, [14.0, 191.0, 200.0], 255.0),
        ] {
            let mut v = [0.0; 3];
            formula_from_xyz(space, c, &mut v);
            for k in 0..3 {
                let got = if scale > 1.0 {
                    (v[k] * scale).round()
                } else {
                    v[k]
                };
                assert!((got - want[k]).abs() < 0.002, "{space}: {v:?}");
            }
        }
        let mut lch = [0.0; 3];
        formula_from_xyz(Interpretation::Lch, xyz, &mut lch);
        assert!(
            (lch[1] - 104.55).abs() < 0.05 && (lch[2] - 40.0).abs() < 0.05,
            "{lch:?}"
        );
        let white = formula_to_xyz(Interpretation::Srgb, &[1.0, 1.0, 1.0]);
        let mut x = [0.0; 3];
        formula_from_xyz(Interpretation::Xyz, white, &mut x);
        for k in 0..3 {
            // libvips' 4-digit matrix: white is (95.05, 100, 108.9).
            assert!((x[k] - D65[k]).abs() < 0.02, "{x:?}");
        }
        let mut hsv = [0.0; 3];
        formula_from_xyz(
            Interpretation::Hsv,
            formula_to_xyz(Interpretation::Srgb, &[0.0, 1.0, 0.0]),
            &mut hsv,
        );
        assert!((hsv[0] - 1.0 / 3.0).abs() < 1e-6 && (hsv[1] - 1.0).abs() < 1e-6);
        let mut cmyk = [0.0; 4];
        formula_from_xyz(
            Interpretation::Cmyk,
            formula_to_xyz(Interpretation::Srgb, &[1.0, 0.5, 0.0]),
            &mut cmyk,
        );
        let want = [0.0, 0.5, 1.0, 0.0];
        for k in 0..4 {
            assert!((cmyk[k] - want[k]).abs() < 1e-6, "{cmyk:?}");
        }
    }

    /// Every space round-trips through every other for a grid of sRGB
    /// colours, and the operation agrees with the formulas.
    #[test]
    fn round_trips() {
        let spaces = [
            Interpretation::Srgb,
            Interpretation::Scrgb,
            Interpretation::Lab,
            Interpretation::Lch,
            Interpretation::Xyz,
            Interpretation::Hsv,
            Interpretation::Cmyk,
        ];
        for r in 0..5 {
            for g in 0..5 {
                for b in 0..5 {
                    let c = [r as f64 / 4.0, g as f64 / 4.0, b as f64 / 4.0];
                    let xyz = formula_to_xyz(Interpretation::Srgb, &c);
                    for s in spaces {
                        let mut v = [0.0; 4];
                        formula_from_xyz(s, xyz, &mut v);
                        let back = formula_to_xyz(s, &v);
                        let mut rgb = [0.0; 3];
                        formula_from_xyz(Interpretation::Srgb, back, &mut rgb);
                        for k in 0..3 {
                            assert!(
                                (rgb[k] - c[k]).abs() < 1e-9,
                                "{s}: {c:?} -> {v:?} -> {rgb:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn operation_u8_to_lab_and_back() {
        let image = crate::noise(16, 8, 3, 7);
        let lab = colourspace(&image, Interpretation::Lab);
        assert_eq!(lab.header().format, BandFormat::F32);
        let back = colourspace(&lab, Interpretation::Srgb);
        assert_eq!(back.header().format, BandFormat::U8);
        let pixels = |i: &Image| {
            let mut v = vec![0u8; i.header().image_bytes() as usize];
            gigapix_exec::write_into(i, &mut v, &gigapix_exec::RunOptions::default()).unwrap();
            v
        };
        let (a, b) = (pixels(&image), pixels(&back));
        assert!(a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= 1));
        let hsv = colourspace(&image, Interpretation::Hsv);
        assert_eq!(hsv.header().format, BandFormat::U8);
        let cmyk = colourspace(&image, Interpretation::Cmyk);
        assert_eq!(cmyk.bands(), 4);
    }
}
