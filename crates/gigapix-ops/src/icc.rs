//! ICC colour management: `icc_transform`, `icc_import` and `icc_export`
//! (libvips' operations of the same names), over the `moxcms` engine.
//!
//! A transform is built once when the operation is made (a bad or absent
//! profile is an error then, never at render time) and shared by every
//! worker; each worker keeps its own scratch rows. `u8`, `u16` and `f32`
//! images are transformed in their own format (`f32` on 0..1 as
//! everywhere in gigapix); bands after the profile's colour bands (alpha)
//! are carried through unchanged.
//!
//! Profiles are named by [`Profile::named`]: `srgb`, `p3` (Display P3),
//! `adobe-rgb` (built from the Adobe RGB (1998) primaries and its
//! 563/256 gamma: a compatible profile, not Adobe's file), `prophoto`,
//! `grey`/`gray` (a grey profile with the sRGB curve), or a file path.
//!
//! The connection spaces of `icc_import`/`icc_export` are libvips':
//! CIELab `f32` (L 0..100, D50 white) or CIE XYZ `f32` (D50, Y 0..100).
//!
//! `black_point_compensation` is accepted where it changes nothing (both
//! profiles have a zero black point, as every RGB matrix profile has) and
//! refused as unsupported otherwise: moxcms has no black point
//! compensation, and wrong pixels with no error would be worse.

use std::sync::Arc;

use gigapix_core::{
    BandFormat, Error, ErrorKind, Header, Image, Inputs, Interpretation, Metadata, Operation, Rect,
    Region, Result,
};
use moxcms::{
    CmsError, ColorPrimaries, ColorProfile, DataColorSpace, Layout, RenderingIntent, ToneReprCurve,
    TransformExecutor, TransformOptions, Xyzd,
};

use crate::colour::{cast_scaled, lab_f, lab_finv};

/// The largest profile file accepted (the largest real profiles, CMYK
/// press profiles with big tables, are a few MB).
pub const MAX_PROFILE_BYTES: u64 = 64 << 20;

/// Rendering intents (ICC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Intent {
    /// Perceptual.
    Perceptual,
    /// Media-relative colorimetric (libvips' default).
    #[default]
    Relative,
    /// Saturation.
    Saturation,
    /// ICC-absolute colorimetric.
    Absolute,
}

impl Intent {
    /// The intent called `name` (`perceptual`, `relative`, `saturation`,
    /// `absolute`).
    pub fn parse(name: &str) -> Result<Intent> {
        Ok(match name {
            "perceptual" => Intent::Perceptual,
            "relative" => Intent::Relative,
            "saturation" => Intent::Saturation,
            "absolute" => Intent::Absolute,
            _ => {
                return Err(Error::invalid(
                    "icc",
                    format!("unknown intent `{name}` (perceptual, relative, saturation, absolute)"),
                ));
            }
        })
    }

    fn cms(self) -> RenderingIntent {
        match self {
            Intent::Perceptual => RenderingIntent::Perceptual,
            Intent::Relative => RenderingIntent::RelativeColorimetric,
            Intent::Saturation => RenderingIntent::Saturation,
            Intent::Absolute => RenderingIntent::AbsoluteColorimetric,
        }
    }
}

/// A parsed ICC profile and the bytes an image carries for it.
#[derive(Clone, Debug)]
pub struct Profile {
    cms: Arc<ColorProfile>,
    bytes: Option<Arc<[u8]>>,
}

fn cms_error(what: &str, e: CmsError) -> Error {
    Error::new(ErrorKind::Format, format!("{what}: {e}"))
}

fn srgb_curve() -> ToneReprCurve {
    ToneReprCurve::Parametric(vec![2.4, 1. / 1.055, 0.055 / 1.055, 1. / 12.92, 0.04045])
}

impl Profile {
    /// A built-in profile (`srgb`, `p3`, `adobe-rgb`, `prophoto`,
    /// `grey`/`gray`) or, for any other name, the profile file at that
    /// path.
    pub fn named(name: &str) -> Result<Profile> {
        let mut p = ColorProfile::new_srgb();
        match name {
            "srgb" | "sRGB" => {}
            "p3" | "display-p3" => {
                p.update_rgb_colorimetry(moxcms::white_point_d65(), ColorPrimaries::SMPTE_432);
                p.red_trc = Some(srgb_curve());
                p.green_trc = Some(srgb_curve());
                p.blue_trc = Some(srgb_curve());
                p.description = None;
            }
            "adobe-rgb" | "adobergb" => {
                p.update_rgb_colorimetry(moxcms::white_point_d65(), ColorPrimaries::ADOBE_RGB);
                let g = ToneReprCurve::Parametric(vec![563.0 / 256.0]);
                p.red_trc = Some(g.clone());
                p.green_trc = Some(g.clone());
                p.blue_trc = Some(g);
                p.description = None;
            }
            "prophoto" => p = ColorProfile::new_pro_photo_rgb(),
            "grey" | "gray" => {
                p = ColorProfile::new_gray_with_gamma(2.2);
                p.gray_trc = Some(srgb_curve());
            }
            path => {
                let meta = std::fs::metadata(path).map_err(|e| {
                    Error::new(
                        ErrorKind::Format,
                        format!(
                            "profile `{path}`: {e} (built-in names: srgb, p3, adobe-rgb, prophoto, grey)"
                        ),
                    )
                })?;
                if meta.len() > MAX_PROFILE_BYTES {
                    return Err(Error::new(
                        ErrorKind::Format,
                        format!("profile `{path}`: {} bytes is too large", meta.len()),
                    ));
                }
                let bytes = std::fs::read(path)
                    .map_err(|e| Error::new(ErrorKind::Format, format!("profile `{path}`: {e}")))?;
                return Profile::from_bytes(&bytes)
                    .map_err(|e| Error::new(ErrorKind::Format, format!("`{path}`: {e}")));
            }
        }
        // A fixed creation date: the same profile gives the same bytes (and
        // so the same files) on every run.
        p.creation_date_time = moxcms::ColorDateTime {
            year: 2026,
            month: 1,
            day_of_the_month: 1,
            hours: 0,
            minutes: 0,
            seconds: 0,
        };
        let bytes = p.encode().ok().map(Arc::from);
        Ok(Profile {
            cms: Arc::new(p),
            bytes,
        })
    }

    /// A profile from its bytes (an embedded profile).
    pub fn from_bytes(bytes: &[u8]) -> Result<Profile> {
        // moxcms checks every offset and size it reads; a panic inside it
        // would still be a bug there, caught so that it is an error here.
        let parsed = std::panic::catch_unwind(|| ColorProfile::new_from_slice(bytes))
            .map_err(|_| Error::new(ErrorKind::Format, "ICC profile: malformed"))?;
        let p = parsed.map_err(|e| cms_error("ICC profile", e))?;
        colour_bands(&p)?;
        Ok(Profile {
            cms: Arc::new(p),
            bytes: Some(Arc::from(bytes)),
        })
    }

    /// The number of colour bands its device space has (1, 3 or 4).
    pub fn bands(&self) -> u32 {
        colour_bands(&self.cms).unwrap_or(0)
    }

    /// The bytes an image carries for it (built-in profiles are encoded).
    pub fn bytes(&self) -> Option<&Arc<[u8]>> {
        self.bytes.as_ref()
    }

    /// `true` for a profile of the sRGB colour space (the built-in one,
    /// or a file whose primaries and white match sRGB's with an sRGB-like
    /// curve): the ones a thumbnail need not convert.
    pub fn is_srgb(&self) -> bool {
        let p = &*self.cms;
        if p.color_space != DataColorSpace::Rgb || !p.is_matrix_shaper() {
            return false;
        }
        let s = ColorProfile::new_srgb();
        let near = |a: Xyzd, b: Xyzd| {
            (a.x - b.x).abs() < 2e-3 && (a.y - b.y).abs() < 2e-3 && (a.z - b.z).abs() < 2e-3
        };
        if !(near(p.red_colorant, s.red_colorant)
            && near(p.green_colorant, s.green_colorant)
            && near(p.blue_colorant, s.blue_colorant))
        {
            return false;
        }
        // The curve at mid grey: sRGB's gives 0.2140.
        let Ok(t) =
            p.create_transform_f32(Layout::Rgb, &s, Layout::Rgb, TransformOptions::default())
        else {
            return false;
        };
        let mut out = [0f32; 3];
        t.transform(&[0.5, 0.5, 0.5], &mut out).is_ok() && (out[1] - 0.5).abs() < 0.004
    }

    fn black_is_zero(&self) -> bool {
        self.cms.color_space != DataColorSpace::Cmyk
    }
}

fn colour_bands(p: &ColorProfile) -> Result<u32> {
    match p.color_space {
        DataColorSpace::Gray => Ok(1),
        DataColorSpace::Rgb => Ok(3),
        DataColorSpace::Cmyk => Ok(4),
        other => Err(Error::new(
            ErrorKind::Unsupported,
            format!("ICC profile of the {other:?} colour space (supported: grey, RGB, CMYK)"),
        )),
    }
}

/// The D50 XYZ connection space as an RGB matrix profile: colorants the
/// unit axes and linear curves, so "RGB" values are PCS XYZ.
fn pcs_xyz() -> ColorProfile {
    let mut p = ColorProfile::new_srgb();
    p.cicp = None;
    p.description = None;
    p.red_colorant = Xyzd::new(1.0, 0.0, 0.0);
    p.green_colorant = Xyzd::new(0.0, 1.0, 0.0);
    p.blue_colorant = Xyzd::new(0.0, 0.0, 1.0);
    let lin = ToneReprCurve::Parametric(vec![1.0]);
    p.red_trc = Some(lin.clone());
    p.green_trc = Some(lin.clone());
    p.blue_trc = Some(lin);
    p
}

/// The connection spaces of [`icc_import`] and [`icc_export`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pcs {
    /// CIELab, L 0..100, D50 white.
    #[default]
    Lab,
    /// CIE XYZ, D50, Y 0..100.
    Xyz,
}

/// Options of [`icc_transform`], [`icc_import`] and [`icc_export`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct IccOptions {
    /// The rendering intent (default relative colorimetric, as libvips).
    pub intent: Intent,
    /// Black point compensation (see the [module docs](self)).
    pub black_point_compensation: bool,
    /// Use the image's embedded profile in preference to `input_profile`
    /// (default `true`; libvips' `embedded` is the same switch).
    pub embedded: bool,
    /// The input profile when the image has none (or when `embedded` is
    /// off); with neither, sRGB (or grey, or an error for 4 bands).
    pub input_profile: Option<Profile>,
    /// The output depth: 8 or 16 bits (default: the input's format).
    pub depth: Option<u8>,
    /// The connection space of `icc_import`/`icc_export`.
    pub pcs: Pcs,
}

impl Default for IccOptions {
    fn default() -> IccOptions {
        IccOptions {
            intent: Intent::Relative,
            black_point_compensation: false,
            embedded: true,
            input_profile: None,
            depth: None,
            pcs: Pcs::Lab,
        }
    }
}

/// The input profile of `image` under `options`.
fn input_profile(image: &Image, options: &IccOptions) -> Result<Profile> {
    // Parsed only when it is the one used.
    let embedded = || image.metadata().icc.as_deref().map(Profile::from_bytes);
    if options.embedded
        && let Some(p) = embedded()
    {
        return p.map_err(|e| {
            Error::new(
                e.kind(),
                format!("the image's embedded profile: {}", e.message()),
            )
        });
    }
    if let Some(p) = &options.input_profile {
        return Ok(p.clone());
    }
    if let Some(p) = embedded() {
        return p;
    }
    match image.bands() {
        1 | 2 => Profile::named("grey"),
        3 => Profile::named("srgb"),
        4 if image.header().interpretation == Interpretation::Srgb => Profile::named("srgb"),
        b => Err(Error::invalid(
            "icc",
            format!("a {b}-band image with no embedded profile needs input_profile"),
        )),
    }
}

/// `image` transformed from its embedded profile (or `input_profile`) to
/// `output`; the result carries `output`'s bytes as its profile.
pub fn icc_transform(image: &Image, output: &Profile, options: &IccOptions) -> Result<Image> {
    let input = input_profile(image, options)?;
    let out = build(image, &input, output, End::Device, End::Device, options)?;
    Ok(with_depth(out, options.depth))
}

/// `image` from its profile to the connection space (Lab or XYZ `f32`).
pub fn icc_import(image: &Image, options: &IccOptions) -> Result<Image> {
    let input = input_profile(image, options)?;
    let xyz = Profile {
        cms: Arc::new(pcs_xyz()),
        bytes: None,
    };
    let image = to_f32(image)?;
    build(
        &image,
        &input,
        &xyz,
        End::Device,
        End::Pcs(options.pcs),
        options,
    )
}

/// A Lab (or, with `pcs`, XYZ) `f32` image to `output`'s device space,
/// in `depth` bits (default 8).
pub fn icc_export(image: &Image, output: &Profile, options: &IccOptions) -> Result<Image> {
    let xyz = Profile {
        cms: Arc::new(pcs_xyz()),
        bytes: None,
    };
    let f = to_f32(image)?;
    let out = build(
        &f,
        &xyz,
        output,
        End::Pcs(options.pcs),
        End::Device,
        options,
    )?;
    Ok(with_depth(out, Some(options.depth.unwrap_or(8))))
}

fn to_f32(image: &Image) -> Result<Image> {
    match image.format() {
        BandFormat::U8 | BandFormat::U16 => Ok(cast_scaled(image, BandFormat::F32)),
        BandFormat::F32 => Ok(image.clone()),
        f => Err(Error::new(
            ErrorKind::Unsupported,
            format!("icc: {f} images (supported: u8, u16, f32)"),
        )),
    }
}

fn with_depth(image: Image, depth: Option<u8>) -> Image {
    match depth {
        Some(16) => cast_scaled(&image, BandFormat::U16),
        Some(_) => cast_scaled(&image, BandFormat::U8),
        None => image,
    }
}

/// What one side of the transform holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// The profile's device values.
    Device,
    /// libvips-scaled Lab or XYZ, over the [`pcs_xyz`] profile.
    Pcs(Pcs),
}

type Exec<T> = Arc<dyn TransformExecutor<T> + Send + Sync>;

#[derive(Clone)]
enum Transform {
    U8(Exec<u8>),
    /// `u8` samples through a 16-bit transform: moxcms' 8-bit CMYK tables
    /// are coarse (mean ΔE76 0.5 against lcms2, 0.1 at 16 bits).
    U8Via16(Exec<u16>),
    U16(Exec<u16>),
    F32(Exec<f32>),
}

impl std::fmt::Debug for Transform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transform::U8(_) => "Transform::U8",
            Transform::U8Via16(_) => "Transform::U8Via16",
            Transform::U16(_) => "Transform::U16",
            Transform::F32(_) => "Transform::F32",
        })
    }
}

fn layout(bands: u32) -> Layout {
    match bands {
        1 => Layout::Gray,
        3 => Layout::Rgb,
        _ => Layout::Rgba,
    }
}

fn build(
    image: &Image,
    input: &Profile,
    output: &Profile,
    from: End,
    to: End,
    options: &IccOptions,
) -> Result<Image> {
    if options.black_point_compensation && !(input.black_is_zero() && output.black_is_zero()) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "icc: black point compensation with a CMYK profile (the moxcms engine has none)",
        ));
    }
    let cin = colour_bands(&input.cms)?;
    let cout = colour_bands(&output.cms)?;
    if image.bands() < cin {
        return Err(Error::invalid(
            "icc",
            format!(
                "the input profile has {cin} colour bands, the image only {}",
                image.bands()
            ),
        ));
    }
    let opts = TransformOptions {
        rendering_intent: options.intent.cms(),
        ..TransformOptions::default()
    };
    let (src, dst) = (&*input.cms, &*output.cms);
    let (li, lo) = (layout(cin), layout(cout));
    let what = "icc: cannot build the transform";
    let transform = match image.format() {
        BandFormat::U8 if cin == 4 => Transform::U8Via16(
            src.create_transform_16bit(li, dst, lo, opts)
                .map_err(|e| cms_error(what, e))?,
        ),
        BandFormat::U8 => Transform::U8(
            src.create_transform_8bit(li, dst, lo, opts)
                .map_err(|e| cms_error(what, e))?,
        ),
        BandFormat::U16 => Transform::U16(
            src.create_transform_16bit(li, dst, lo, opts)
                .map_err(|e| cms_error(what, e))?,
        ),
        BandFormat::F32 => Transform::F32(
            src.create_transform_f32(li, dst, lo, opts)
                .map_err(|e| cms_error(what, e))?,
        ),
        f => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("icc: {f} images (supported: u8, u16, f32)"),
            ));
        }
    };
    let interpretation = match (to, cout) {
        (End::Pcs(Pcs::Lab), _) => Interpretation::Lab,
        (End::Pcs(Pcs::Xyz), _) => Interpretation::Xyz,
        (_, 1) => Interpretation::Grey,
        (_, 3) => Interpretation::Srgb,
        _ => Interpretation::Cmyk,
    };
    let icc = match to {
        End::Device => output.bytes.clone(),
        End::Pcs(_) => None,
    };
    Ok(Image::new(
        IccOp {
            transform,
            cin,
            cout,
            from,
            to,
            interpretation,
            icc,
        },
        vec![image.clone()],
    ))
}

/// The operation of [`icc_transform`], [`icc_import`] and [`icc_export`].
#[derive(Debug)]
pub struct IccOp {
    transform: Transform,
    cin: u32,
    cout: u32,
    from: End,
    to: End,
    interpretation: Interpretation,
    icc: Option<Arc<[u8]>>,
}

/// Per-worker scratch rows.
#[derive(Default)]
pub struct Scratch {
    s8: Vec<u8>,
    d8: Vec<u8>,
    s16: Vec<u16>,
    d16: Vec<u16>,
    w16: Vec<u16>,
    o16: Vec<u16>,
    sf: Vec<f32>,
    df: Vec<f32>,
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scratch")
    }
}

/// D50 white, as libvips' `VIPS_D50_X0` etc. (Y = 100).
const D50: [f64; 3] = [96.422, 100.0, 82.521];

/// PCS XYZ (0..1 scale, D50 white ≈ (0.9642, 1, 0.8249)) to libvips'
/// space.
fn from_pcs(v: &mut [f32], pcs: Pcs) {
    let xyz = [v[0] as f64, v[1] as f64, v[2] as f64];
    match pcs {
        Pcs::Xyz => {
            for k in 0..3 {
                v[k] = (xyz[k] * 100.0) as f32;
            }
        }
        Pcs::Lab => {
            let f: Vec<f64> = (0..3).map(|k| lab_f(xyz[k] * 100.0 / D50[k])).collect();
            v[0] = (116.0 * f[1] - 16.0) as f32;
            v[1] = (500.0 * (f[0] - f[1])) as f32;
            v[2] = (200.0 * (f[1] - f[2])) as f32;
        }
    }
}

fn to_pcs(v: &mut [f32], pcs: Pcs) {
    match pcs {
        Pcs::Xyz => {
            for x in v.iter_mut().take(3) {
                *x /= 100.0;
            }
        }
        Pcs::Lab => {
            let (l, a, b) = (v[0] as f64, v[1] as f64, v[2] as f64);
            let fy = (l + 16.0) / 116.0;
            let f = [fy + a / 500.0, fy, fy - b / 200.0];
            for k in 0..3 {
                v[k] = (lab_finv(f[k]) * D50[k] / 100.0) as f32;
            }
        }
    }
}

fn run<T: Copy + Default>(
    exec: &Exec<T>,
    src: &[T],
    dst: &mut [T],
    (ib, ob, cin, cout): (usize, usize, usize, usize),
    (s, d): (&mut Vec<T>, &mut Vec<T>),
    pre: impl Fn(&mut [T]),
    post: impl Fn(&mut [T]),
) -> Result<()> {
    let n = src.len() / ib;
    s.clear();
    if ib == cin {
        s.extend_from_slice(src);
    } else {
        for p in src.chunks_exact(ib) {
            s.extend_from_slice(&p[..cin]);
        }
    }
    for p in s.chunks_exact_mut(cin) {
        pre(p);
    }
    d.clear();
    d.resize(n * cout, T::default());
    exec.transform(s, d)
        .map_err(|e| cms_error("icc transform", e))?;
    for ((o, c), i) in dst
        .chunks_exact_mut(ob)
        .zip(d.chunks_exact_mut(cout))
        .zip(src.chunks_exact(ib))
    {
        post(c);
        o[..cout].copy_from_slice(c);
        o[cout..].copy_from_slice(&i[cin..]);
    }
    Ok(())
}

impl Operation for IccOp {
    type State = Scratch;

    fn name(&self) -> &'static str {
        "icc_transform"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        if h.bands < self.cin {
            return Err(Error::invalid("icc_transform", "too few bands"));
        }
        let mut out = h.with_bands(h.bands - self.cin + self.cout);
        out.interpretation = self.interpretation;
        Ok(out)
    }

    fn metadata(&self, inputs: &[Arc<Metadata>]) -> Arc<Metadata> {
        let mut m = (*inputs[0]).clone();
        m.icc = self.icc.clone();
        Arc::new(m)
    }

    fn generate(
        &self,
        scratch: &mut Scratch,
        out: Rect,
        inputs: &mut Inputs<'_>,
    ) -> Result<Region> {
        let src = inputs.get(0, out)?;
        let ib = inputs.header(0).bands as usize;
        let ob = inputs.output_header().bands as usize;
        let shape = (ib, ob, self.cin as usize, self.cout as usize);
        let mut dst = inputs.alloc(out);
        // Only colour bands and device values both sides: straight from the
        // input rows to the output rows, no scratch.
        let direct = ib == self.cin as usize && ob == self.cout as usize;
        for y in out.y..out.bottom() {
            match &self.transform {
                Transform::U8(t) if direct => t
                    .transform(src.row::<u8>(y), dst.row_mut::<u8>(y))
                    .map_err(|e| cms_error("icc transform", e))?,
                Transform::U16(t) if direct => t
                    .transform(src.row::<u16>(y), dst.row_mut::<u16>(y))
                    .map_err(|e| cms_error("icc transform", e))?,
                Transform::U8(t) => run(
                    t,
                    src.row::<u8>(y),
                    dst.row_mut::<u8>(y),
                    shape,
                    (&mut scratch.s8, &mut scratch.d8),
                    |_| {},
                    |_| {},
                )?,
                Transform::U8Via16(t) => {
                    let row = src.row::<u8>(y);
                    let mut wide = std::mem::take(&mut scratch.w16);
                    wide.clear();
                    wide.extend(row.iter().map(|&v| u16::from(v) * 257));
                    let mut out16 = std::mem::take(&mut scratch.o16);
                    out16.clear();
                    out16.resize(row.len() / ib * ob, 0);
                    run(
                        t,
                        &wide,
                        &mut out16,
                        shape,
                        (&mut scratch.s16, &mut scratch.d16),
                        |_| {},
                        |_| {},
                    )?;
                    for (d, &v) in dst.row_mut::<u8>(y).iter_mut().zip(&out16) {
                        *d = ((u32::from(v) * 255 + 32767) / 65535) as u8;
                    }
                    scratch.w16 = wide;
                    scratch.o16 = out16;
                }
                Transform::U16(t) => run(
                    t,
                    src.row::<u16>(y),
                    dst.row_mut::<u16>(y),
                    shape,
                    (&mut scratch.s16, &mut scratch.d16),
                    |_| {},
                    |_| {},
                )?,
                Transform::F32(t) => run(
                    t,
                    src.row::<f32>(y),
                    dst.row_mut::<f32>(y),
                    shape,
                    (&mut scratch.sf, &mut scratch.df),
                    |p| {
                        if let End::Pcs(pcs) = self.from {
                            to_pcs(p, pcs)
                        }
                    },
                    |p| {
                        if let End::Pcs(pcs) = self.to {
                            from_pcs(p, pcs)
                        }
                    },
                )?,
            }
        }
        Ok(dst)
    }
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&ICC_TRANSFORM, &ICC_IMPORT, &ICC_EXPORT];

const INTENT: ArgDesc = ArgDesc::optional(
    "intent",
    ArgType::Enum(&["relative", "perceptual", "saturation", "absolute"]),
    "relative",
    "The rendering intent.",
);
const BPC: ArgDesc = ArgDesc::optional(
    "black_point_compensation",
    ArgType::Bool,
    "false",
    "Black point compensation (refused with CMYK profiles: the engine has none).",
);
const EMBEDDED: ArgDesc = ArgDesc::optional(
    "embedded",
    ArgType::Bool,
    "true",
    "Use the image's embedded profile when it has one, else input_profile.",
);
const INPUT_PROFILE: ArgDesc = ArgDesc::unset(
    "input_profile",
    ArgType::Text,
    "The input profile when the image has none: srgb, p3, adobe-rgb, prophoto, grey or a file.",
);
const PCS: ArgDesc = ArgDesc::optional(
    "pcs",
    ArgType::Enum(&["lab", "xyz"]),
    "lab",
    "The connection space: CIELab (L 0..100) or XYZ (Y 0..100), D50, f32.",
);

fn options(a: &Args, depth: bool) -> Result<IccOptions> {
    let mut o = IccOptions {
        intent: Intent::parse(a.choice("intent")?)?,
        black_point_compensation: a.bool("black_point_compensation")?,
        ..IccOptions::default()
    };
    if a.get("embedded").is_some() {
        o.embedded = a.bool("embedded")?;
    }
    if let Some(p) = a.opt_text("input_profile")? {
        o.input_profile = Some(Profile::named(p)?);
    }
    if a.get("pcs").is_some() {
        o.pcs = match a.choice("pcs")? {
            "xyz" => Pcs::Xyz,
            _ => Pcs::Lab,
        };
    }
    if depth {
        o.depth = a.opt_int("depth")?.map(|d| if d > 8 { 16 } else { 8 });
    }
    Ok(o)
}

/// [`icc_transform`] in the catalogue.
pub static ICC_TRANSFORM: OpDesc = OpDesc::new(
    "icc_transform",
    Category::Colour,
    "Transforms from the embedded (or given) ICC profile to another",
    &[
        ArgDesc::required(
            "output_profile",
            ArgType::Text,
            "The output profile: srgb, p3, adobe-rgb, prophoto, grey or a file.",
        ),
        INTENT,
        BPC,
        EMBEDDED,
        INPUT_PROFILE,
        ArgDesc::unset("depth", ArgType::int(8, 16), "Output bits: 8 or 16 (default: the input's)."),
    ],
    |input, a| {
        let out = Profile::named(a.text("output_profile")?)?;
        icc_transform(input_of(input)?, &out, &options(a, true)?)
    },
)
.doc("Works on u8, u16 and f32 (0..1) images in their own format; 4-band CMYK input needs a CMYK profile (embedded or given). Bands after the colour bands are carried through. The result carries the output profile.")
.example("srgb input_profile=p3");

/// [`icc_import`] in the catalogue.
pub static ICC_IMPORT: OpDesc = OpDesc::new(
    "icc_import",
    Category::Colour,
    "Converts from the embedded (or given) ICC profile to Lab or XYZ f32",
    &[INTENT, BPC, EMBEDDED, INPUT_PROFILE, PCS],
    |input, a| icc_import(input_of(input)?, &options(a, false)?),
)
.doc("Lab is L 0..100 with a D50 white, as libvips' icc_import; XYZ is D50 with Y 0..100.")
.example("input_profile=srgb");

/// [`icc_export`] in the catalogue.
pub static ICC_EXPORT: OpDesc = OpDesc::new(
    "icc_export",
    Category::Colour,
    "Converts from Lab or XYZ f32 to an ICC profile's device space",
    &[
        ArgDesc::optional(
            "output_profile",
            ArgType::Text,
            "srgb",
            "The output profile: srgb, p3, adobe-rgb, prophoto, grey or a file.",
        ),
        INTENT,
        BPC,
        PCS,
        ArgDesc::optional("depth", ArgType::int(8, 16), "8", "Output bits: 8 or 16."),
    ],
    |input, a| {
        let out = Profile::named(a.text("output_profile")?)?;
        icc_export(input_of(input)?, &out, &options(a, true)?)
    },
)
.doc("The input is read as libvips' Lab (L 0..100, D50) or, with pcs=xyz, XYZ (Y 0..100).")
.example("srgb");
