//! Blurs: [`gaussblur`], [`boxblur`] and the unsharp mask [`sharpen`].
//!
//! # Gaussian blur
//!
//! For `sigma` below [`BOX_SIGMA`] (see [`GaussOptions::box_sigma`]), and
//! always for `u32` and `f32` images,
//! [`gaussblur`] is libvips' `gaussblur` with `precision=integer`: the
//! separable mask [`gaussmat`] (`rint(20·exp(−x²/2σ²))` while
//! `exp(−x²/2σ²) ≥ min_ampl`, scale = the sum) applied by
//! [`convsep`] (rows, rounded to the input format,
//! then columns), edge pixels copied outwards. Its cost grows with `sigma`.
//!
//! From [`BOX_SIGMA`] up, for `u8` and `u16` images, it is three passes of
//! an extended box filter along y then three along x (Gwosdek et al. 2011,
//! the design of Pillow-SIMD's `GaussianBlur`), each of real radius
//! `r + a` chosen so that the three passes have exactly the variance
//! `sigma²`: a close approximation of the true gaussian of standard
//! deviation `sigma` (not truncated at `min_ampl`), whose cost does not
//! depend on `sigma`. Each pass copies its own edge pixels outwards and
//! rounds its result, like Pillow: `u8` images stay `u8` between passes
//! (running sums in `u16`, 16 samples per AVX2 instruction, for box radii
//! up to 63, i.e. `sigma` up to about 60; like Pillow-SIMD, whose output
//! it matches within one level), larger radii and `u16` images use 16-bit
//! fixed point (8 fractional bits for `u8`) with `i32` sums. All sums are
//! exact integers, so results do not depend on the tiling.
//!
//! # Box blur and sharpen
//!
//! [`boxblur`] is the mean over a `width`×`height` box centred on each
//! pixel (even sizes weigh the two end rows or columns by one half), by
//! running sums for `u8` and `u16` and by direct sums for the other formats.
//! [`sharpen`] is Pillow's `UnsharpMask`.

use gigapix_core::{
    BandFormat, DemandHint, Error, ErrorKind, Header, Image, Inputs, Operation, Rect, Region,
    Result, Sample, dispatch_format,
};
use gigapix_simd::Level;
use gigapix_simd::blur::{
    BoxWeights, U8_MAX_RADIUS, accumulate, accumulate_u8, box_v_step, box_v_step_u8,
};

use gigapix_core::desc::{ArgDesc, ArgType};

use crate::catalogue::{Category, OpDesc, input_of};
use crate::conv::{Matrix, convsep, invalid};

/// The `sigma` from which [`gaussblur`] switches from the exact libvips
/// mask to three extended box passes (for `u8` and `u16` images), by
/// default. Below it the exact mask (at most 9 taps) is cheaper than the
/// boxes; from it up the cost is constant, so a blur of any larger sigma
/// costs about what sigma 2.5 does (measured on a 10000×10000 RGB `u8`
/// image: sigma 3 and 30 within 1.2x of each other). Exact libvips results
/// at sigma 3 to 6 are one [`GaussOptions::box_sigma`] away.
pub const BOX_SIGMA: f64 = 2.5;

/// Options of [`gaussblur_with`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct GaussOptions {
    /// Where the exact mask stops: the smallest amplitude, relative to the
    /// centre, a coefficient may have (libvips' `min_ampl`, default 0.2).
    pub min_ampl: f64,
    /// The `sigma` from which `u8` and `u16` images use the extended box
    /// passes instead of the exact mask (default [`BOX_SIGMA`]; infinity
    /// keeps the exact mask, 0 always uses boxes).
    pub box_sigma: f64,
}

impl Default for GaussOptions {
    fn default() -> GaussOptions {
        GaussOptions {
            min_ampl: 0.2,
            box_sigma: BOX_SIGMA,
        }
    }
}

impl GaussOptions {
    /// Sets `min_ampl`.
    pub fn min_ampl(mut self, min_ampl: f64) -> GaussOptions {
        self.min_ampl = min_ampl;
        self
    }

    /// Sets `box_sigma`.
    pub fn box_sigma(mut self, box_sigma: f64) -> GaussOptions {
        self.box_sigma = box_sigma;
        self
    }
}

/// libvips' separable integer gaussian mask (`gaussmat` with
/// `separable` and `precision=integer`): one row of
/// `rint(20·exp(−x²/(2σ²)))` for `|x|` up to the last offset whose
/// `exp(−x²/(2σ²))` is at least `min_ampl`, scale = the sum of the row.
///
/// ```
/// let m = gigapix_ops::blur::gaussmat(3.0, 0.2)?;
/// assert_eq!(m.coefficients, [5., 8., 12., 16., 19., 20., 19., 16., 12., 8., 5.]);
/// assert_eq!(m.scale, 140.0);
/// # Ok::<(), gigapix_core::Error>(())
/// ```
pub fn gaussmat(sigma: f64, min_ampl: f64) -> Result<Matrix> {
    if !(sigma.is_finite() && sigma > 0.0) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("sigma {sigma} must be positive and finite"),
        ));
    }
    if !(min_ampl.is_finite() && min_ampl > 0.0 && min_ampl <= 1.0) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("min_ampl {min_ampl} must lie in (0, 1]"),
        ));
    }
    let sig2 = 2.0 * sigma * sigma;
    let max_x = 5000;
    let mut x = 0;
    while x < max_x {
        if (-((x * x) as f64) / sig2).exp() < min_ampl {
            break;
        }
        x += 1;
    }
    if x >= max_x {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("sigma {sigma} makes a mask too large"),
        ));
    }
    let width = 2 * (x - 1).max(0) + 1;
    let coefficients: Vec<f64> = (0..width)
        .map(|i| {
            let xo = (i - width / 2) as f64;
            (20.0 * (-(xo * xo) / sig2).exp()).round_ties_even()
        })
        .collect();
    let sum: f64 = coefficients.iter().sum();
    let m = Matrix::new(width as u32, 1, coefficients)?;
    Ok(m.with_scale(if sum == 0.0 { 1.0 } else { sum }))
}

/// A gaussian blur of standard deviation `sigma` (see the
/// [module](self) documentation for exactly what is computed). The output
/// has the input's size and format. A `sigma` that is not positive and
/// finite makes the image invalid.
pub fn gaussblur(image: &Image, sigma: f64) -> Image {
    gaussblur_with(image, sigma, &GaussOptions::default())
}

/// [`gaussblur`] with options.
pub fn gaussblur_with(image: &Image, sigma: f64, options: &GaussOptions) -> Image {
    let mask = match gaussmat(sigma, options.min_ampl) {
        Ok(m) => m,
        Err(e) => return invalid(image, "gaussblur", e),
    };
    let boxed = matches!(image.format(), BandFormat::U8 | BandFormat::U16);
    if boxed && sigma >= options.box_sigma {
        let w = BoxWeights::extended(box_radius(sigma, 3));
        return box_node(image, "gaussblur", vec![w; 3], vec![w; 3]);
    }
    convsep(image, &mask)
}

/// The real radius of each of `passes` extended boxes whose cascade has
/// variance `sigma²` (Gwosdek et al.; the formula of Pillow's
/// `_gaussian_blur_radius`).
fn box_radius(sigma: f64, passes: u32) -> f64 {
    let sigma2 = sigma * sigma / passes as f64;
    let l_big = (12.0 * sigma2 + 1.0).sqrt();
    let l = ((l_big - 1.0) / 2.0).floor();
    let a =
        (2.0 * l + 1.0) * (l * (l + 1.0) - 3.0 * sigma2) / (6.0 * (sigma2 - (l + 1.0) * (l + 1.0)));
    l + a
}

/// The mean over a `width`×`height` box centred on each pixel, edge
/// pixels copied outwards (even sizes weigh the two end columns or rows by
/// one half, so the box stays centred). Zero sizes make the image invalid.
pub fn boxblur(image: &Image, width: u32, height: u32) -> Image {
    if width == 0 || height == 0 || width > 100_000 || height > 100_000 {
        return invalid(
            image,
            "boxblur",
            Error::new(
                ErrorKind::InvalidArgument,
                format!("the box {width}x{height} is empty or too large"),
            ),
        );
    }
    let wx = BoxWeights::extended((width as f64 - 1.0) / 2.0);
    let wy = BoxWeights::extended((height as f64 - 1.0) / 2.0);
    if matches!(image.format(), BandFormat::U8 | BandFormat::U16) {
        return box_node(image, "boxblur", vec![wy], vec![wx]);
    }
    // Direct sums for u32 and f32: a row pass then a column pass.
    let line = |w: BoxWeights| {
        let r = w.radius;
        let mut c = vec![1.0; 2 * r + 1];
        if w.k2 != 0.0 {
            c.insert(0, 0.5);
            c.push(0.5);
        }
        let sum: f64 = c.iter().sum();
        let n = c.len() as u32;
        Matrix::new(n, 1, c).expect("valid").with_scale(sum)
    };
    let (mx, my) = (line(wx), line(wy));
    let across = crate::conv::conv(image, &mx);
    let my = Matrix {
        width: 1,
        height: my.width,
        ..my
    };
    crate::conv::conv(&across, &my)
}

/// Options of [`sharpen`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SharpenOptions {
    /// Standard deviation of the blur (Pillow's `radius`).
    pub sigma: f64,
    /// How much of the difference to add (Pillow's `percent` / 100).
    pub amount: f64,
    /// Differences smaller than this (in sample levels) are left alone.
    pub threshold: f64,
}

impl Default for SharpenOptions {
    /// Pillow's `UnsharpMask()` defaults: radius 2, 150 %, threshold 3.
    fn default() -> SharpenOptions {
        SharpenOptions {
            sigma: 2.0,
            amount: 1.5,
            threshold: 3.0,
        }
    }
}

impl SharpenOptions {
    /// Sets `sigma`.
    pub fn sigma(mut self, sigma: f64) -> SharpenOptions {
        self.sigma = sigma;
        self
    }

    /// Sets `amount`.
    pub fn amount(mut self, amount: f64) -> SharpenOptions {
        self.amount = amount;
        self
    }

    /// Sets `threshold`.
    pub fn threshold(mut self, threshold: f64) -> SharpenOptions {
        self.threshold = threshold;
        self
    }
}

/// An unsharp mask with Pillow's `UnsharpMask(radius=sigma,
/// percent=amount·100, threshold)` semantics, per band: with `b` the
/// [`gaussblur`] of the image by `sigma` and `d = in − b`, each sample
/// becomes `in + amount·d` (rounded and clamped for integer formats) where
/// `|d| ≥ threshold`, and stays `in` elsewhere.
///
/// Non-finite or negative arguments make the image invalid.
pub fn sharpen(image: &Image, options: &SharpenOptions) -> Image {
    let o = *options;
    let ok = o.sigma.is_finite()
        && o.sigma > 0.0
        && o.amount.is_finite()
        && o.threshold.is_finite()
        && o.threshold >= 0.0;
    if !ok {
        return invalid(
            image,
            "sharpen",
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "sigma {} must be positive, amount {} finite and threshold {} non-negative",
                    o.sigma, o.amount, o.threshold
                ),
            ),
        );
    }
    let blurred = gaussblur(image, o.sigma);
    Image::new(
        Sharpen {
            amount: o.amount,
            threshold: o.threshold,
        },
        vec![image.clone(), blurred],
    )
}

/// Sample conversions for [`Sharpen`], without library calls.
trait Sharp: Sample {
    fn to_f32(self) -> f32;
    /// Rounded half up and clamped for integers (NaN to 0).
    fn rounded(v: f32) -> Self;
}

macro_rules! sharp_int {
    ($t:ty) => {
        impl Sharp for $t {
            fn to_f32(self) -> f32 {
                self as f32
            }
            fn rounded(v: f32) -> $t {
                // `as` saturates and maps NaN to 0; truncating v + 0.5
                // rounds non-negative values half up.
                (v as f64 + 0.5) as $t
            }
        }
    };
}
sharp_int!(u8);
sharp_int!(u16);
sharp_int!(u32);

macro_rules! sharp_signed {
    ($t:ty) => {
        impl Sharp for $t {
            fn to_f32(self) -> f32 {
                self as f32
            }
            fn rounded(v: f32) -> $t {
                // Half up, as for the unsigned types; `as` saturates.
                (v as f64 + 0.5).floor() as $t
            }
        }
    };
}
sharp_signed!(i8);
sharp_signed!(i16);
sharp_signed!(i32);

impl Sharp for f64 {
    fn to_f32(self) -> f32 {
        self as f32
    }
    fn rounded(v: f32) -> f64 {
        v as f64
    }
}

impl Sharp for f32 {
    fn to_f32(self) -> f32 {
        self
    }
    fn rounded(v: f32) -> f32 {
        v
    }
}

/// The operation of [`sharpen`]: combines an image and its blur.
#[derive(Debug)]
pub struct Sharpen {
    amount: f64,
    threshold: f64,
}

impl Operation for Sharpen {
    type State = ();

    fn name(&self) -> &'static str {
        "sharpen"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        Ok(inputs[0])
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let a = inputs.get(0, out)?;
        let b = inputs.get(1, out)?;
        let mut dst = inputs.alloc(out);
        let (amount, threshold) = (self.amount as f32, self.threshold as f32);
        dispatch_format!(a.format(), T => {
            for y in out.y..out.bottom() {
                let (ra, rb) = (a.row::<T>(y), b.row::<T>(y));
                for ((o, &x), &bl) in dst.row_mut::<T>(y).iter_mut().zip(ra).zip(rb) {
                    let xf = x.to_f32();
                    let d = xf - bl.to_f32();
                    *o = if d.abs() >= threshold {
                        T::rounded(xf + amount * d)
                    } else {
                        x
                    };
                }
            }
        });
        Ok(dst)
    }
}

fn box_node(image: &Image, name: &'static str, vy: Vec<BoxWeights>, vx: Vec<BoxWeights>) -> Image {
    Image::new(
        BoxBlur {
            name,
            vy,
            vx,
            level: gigapix_simd::level(),
        },
        vec![image.clone()],
    )
}

/// The operation of box-based [`gaussblur`] and [`boxblur`] for `u8` and
/// `u16` images: cascades of extended boxes along y, then along x.
#[derive(Debug)]
pub struct BoxBlur {
    name: &'static str,
    vy: Vec<BoxWeights>,
    vx: Vec<BoxWeights>,
    level: Level,
}

/// A sample type the box cascade runs on: `u16` (fixed point, `i32`
/// sums) or `u8` (`u16` sums, radii up to [`U8_MAX_RADIUS`]).
trait Lane: Copy + Default + Send + 'static {
    type Acc: Copy + Default + Send + 'static;
    fn accumulate(level: Level, acc: &mut [Self::Acc], row: &[Self]);
    #[allow(clippy::too_many_arguments)]
    fn step(
        level: Level,
        acc: &mut [Self::Acc],
        first: &[Self],
        last: &[Self],
        leaving: &[Self],
        w: BoxWeights,
        out: &mut [Self],
    );
}

impl Lane for u16 {
    type Acc = i32;
    fn accumulate(level: Level, acc: &mut [i32], row: &[u16]) {
        accumulate(level, acc, row)
    }
    fn step(
        level: Level,
        acc: &mut [i32],
        first: &[u16],
        last: &[u16],
        leaving: &[u16],
        w: BoxWeights,
        out: &mut [u16],
    ) {
        box_v_step(level, acc, first, last, leaving, w, out)
    }
}

impl Lane for u8 {
    type Acc = u16;
    fn accumulate(level: Level, acc: &mut [u16], row: &[u8]) {
        accumulate_u8(level, acc, row)
    }
    fn step(
        level: Level,
        acc: &mut [u16],
        first: &[u8],
        last: &[u8],
        leaving: &[u8],
        w: BoxWeights,
        out: &mut [u8],
    ) {
        box_v_step_u8(level, acc, first, last, leaving, w, out)
    }
}

/// Buffers of one lane type.
#[derive(Debug, Default)]
struct Bufs<T: Lane> {
    a: Vec<T>,
    b: Vec<T>,
    t1: Vec<T>,
    t2: Vec<T>,
    acc: Vec<T::Acc>,
    next: Vec<T>,
}

/// Per-thread buffers of [`BoxBlur`].
#[derive(Debug, Default)]
pub struct BoxState {
    wide: Bufs<u16>,
    narrow: Bufs<u8>,
}

fn reach(passes: &[BoxWeights]) -> i64 {
    passes.iter().map(|w| w.radius as i64 + 1).sum()
}

/// The range `lo..hi` grown by `m` on both sides, clipped to `0..size`.
fn grown(lo: i64, hi: i64, m: i64, size: i64) -> (i64, i64) {
    ((lo - m).max(0), (hi + m).min(size))
}

/// Samples per slab: the cascade runs on vertical slabs of this many
/// samples so that the rows of a slab stay in the L2 cache across passes.
const SLAB: usize = 2048;

/// Runs the cascade `passes` along "rows" of `rl` samples: `first(i)`
/// is input row `plo + i` (rows `plo..phi` of an axis of `size`); leaves
/// in `st.a` the rows `want_lo..want_hi` (buffers only grow: `st.a` may be
/// longer). Each pass reads its input clamped into `0..size` (edge rows
/// copied outwards). Works slab by slab.
#[allow(clippy::too_many_arguments)]
fn cascade<'s, T: Lane>(
    level: Level,
    passes: &[BoxWeights],
    first: &dyn Fn(usize) -> &'s [T],
    st: &mut Bufs<T>,
    rl: usize,
    (plo, phi): (i64, i64),
    (want_lo, want_hi): (i64, i64),
    size: i64,
) {
    let Bufs {
        a, b, t1, t2, acc, ..
    } = st;
    grow(b, rl * (want_hi - want_lo) as usize);
    let slab = SLAB.min(rl);
    for c0 in (0..rl).step_by(slab) {
        let sw = slab.min(rl - c0);
        let (mut clo, mut chi) = (plo, phi);
        let mut left = reach(passes);
        for (k, w) in passes.iter().enumerate() {
            left -= w.radius as i64 + 1;
            let (lo, hi) = grown(want_lo, want_hi, left, size);
            let rad = w.radius as i64;
            let last = k + 1 == passes.len();
            if !last {
                grow(t2, sw * (hi - lo) as usize);
            }
            // Output rows: the result (stride rl, at c0) or slab scratch.
            let (dst, dstride, doff): (&mut [T], usize, usize) =
                if last { (b, rl, c0) } else { (t2, sw, 0) };
            acc.clear();
            acc.resize(sw, T::Acc::default());
            let src: &[T] = t1;
            let row = |y: i64| -> &[T] {
                let i = (y.clamp(0, size - 1) - clo) as usize;
                if k == 0 {
                    &first(i)[c0..c0 + sw]
                } else {
                    &src[i * sw..(i + 1) * sw]
                }
            };
            for d in -rad..=rad {
                T::accumulate(level, acc, row(lo + d));
            }
            for (i, y) in (lo..hi).enumerate() {
                T::step(
                    level,
                    acc,
                    row(y - rad - 1),
                    row(y + rad + 1),
                    row(y - rad),
                    *w,
                    &mut dst[i * dstride + doff..i * dstride + doff + sw],
                );
            }
            if !last {
                std::mem::swap(t1, t2);
            }
            (clo, chi) = (lo, hi);
        }
        debug_assert_eq!((clo, chi), (want_lo, want_hi));
    }
    std::mem::swap(a, b);
}

/// Grows `v` to at least `n` elements (never shrinks, so buffers swapped
/// between uses are not refilled).
fn grow<T: Copy + Default>(v: &mut Vec<T>, n: usize) {
    if v.len() < n {
        v.resize(n, T::default());
    }
}

/// [`gigapix_simd::blur::transpose`] into a resized `dst`.
fn transpose<T: Copy + Default>(
    level: Level,
    src: &[T],
    (rows, cols, bands): (usize, usize, usize),
    dst: &mut Vec<T>,
) {
    grow(dst, rows * cols * bands);
    gigapix_simd::blur::transpose(level, src, rows, cols, bands, dst);
}

impl BoxBlur {
    /// `true` if the `u8` kernels can run every pass.
    fn narrow(&self, format: BandFormat) -> bool {
        format == BandFormat::U8
            && self
                .vx
                .iter()
                .chain(&self.vy)
                .all(|w| w.radius <= U8_MAX_RADIUS)
    }

    /// The cascades on a strip whose row `i` (of `r`) is `first(i)`, of an
    /// input of `size` (width, height), ending with the output rows, row
    /// major, in `st.next`.
    fn cascades<'s, T: Lane>(
        &self,
        st: &mut Bufs<T>,
        first: &dyn Fn(usize) -> &'s [T],
        out: Rect,
        r: Rect,
        size: (i64, i64),
        bands: usize,
    ) {
        let (w_img, h_img) = size;
        let rl = r.width as usize * bands;
        let (ow, rows) = (out.width as usize, out.height as usize);
        let ys = ((r.y, r.bottom()), (out.y, out.bottom()));
        cascade(self.level, &self.vy, first, st, rl, ys.0, ys.1, h_img);
        let mut t = std::mem::take(&mut st.next);
        transpose(self.level, &st.a, (rows, r.width as usize, bands), &mut t);
        let cl = rows * bands;
        let xs = ((r.x, r.right()), (out.x, out.right()));
        {
            let t = &t;
            let first = |i: usize| &t[i * cl..(i + 1) * cl];
            cascade(self.level, &self.vx, &first, st, cl, xs.0, xs.1, w_img);
        }
        transpose(self.level, &st.a, (ow, rows, bands), &mut t);
        st.next = t;
    }

    /// The cascades on an input of `size` (width, height).
    fn run(&self, st: &mut BoxState, out: Rect, size: (i64, i64), src: &Region, dst: &mut Region) {
        let bands = src.bands() as usize;
        let r = src.rect();
        let rl = r.width as usize * bands;
        let n = out.width as usize * bands;
        if self.narrow(src.format()) {
            let st = &mut st.narrow;
            let first = |i: usize| src.row::<u8>(r.y + i as i64);
            self.cascades(st, &first, out, r, size, bands);
            for (i, y) in (out.y..out.bottom()).enumerate() {
                dst.row_mut::<u8>(y)
                    .copy_from_slice(&st.next[i * n..(i + 1) * n]);
            }
            return;
        }
        let st = &mut st.wide;
        if src.format() == BandFormat::U8 {
            // 8.8 fixed point.
            let mut conv = std::mem::take(&mut st.b);
            grow(&mut conv, rl * r.height as usize);
            for (i, y) in (r.y..r.bottom()).enumerate() {
                let d = &mut conv[i * rl..(i + 1) * rl];
                for (d, &s) in d.iter_mut().zip(src.row::<u8>(y)) {
                    *d = (s as u16) << 8;
                }
            }
            {
                let conv = &conv;
                let first = |i: usize| &conv[i * rl..(i + 1) * rl];
                self.cascades(st, &first, out, r, size, bands);
            }
            st.t1 = conv;
        } else {
            let first = |i: usize| src.row::<u16>(r.y + i as i64);
            self.cascades(st, &first, out, r, size, bands);
        }
        for (i, y) in (out.y..out.bottom()).enumerate() {
            let s = &st.next[i * n..(i + 1) * n];
            match dst.format() {
                BandFormat::U8 => {
                    for (d, &s) in dst.row_mut::<u8>(y).iter_mut().zip(s) {
                        *d = ((s as u32 + 128) >> 8).min(255) as u8;
                    }
                }
                _ => dst.row_mut::<u16>(y).copy_from_slice(s),
            }
        }
    }
}

impl Operation for BoxBlur {
    type State = BoxState;

    fn name(&self) -> &'static str {
        self.name
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        if !matches!(h.format, BandFormat::U8 | BandFormat::U16) {
            return Err(Error::invalid(self.name, "box filters need u8 or u16"));
        }
        Ok(h)
    }

    fn demand(&self) -> DemandHint {
        DemandHint::FatStrip
    }

    fn need(&self, out: Rect, _: usize, inputs: &[Header]) -> Rect {
        let (w, h) = (inputs[0].width as i64, inputs[0].height as i64);
        let (x0, x1) = grown(out.x, out.right(), reach(&self.vx), w);
        let (y0, y1) = grown(out.y, out.bottom(), reach(&self.vy), h);
        Rect::new(x0, y0, x1 - x0, y1 - y0)
    }

    fn start(&self) -> Result<BoxState> {
        Ok(BoxState::default())
    }

    fn scratch_bytes(&self, out: Rect, inputs: &[Header]) -> u64 {
        // The buffers `cascades` grows (see `Bufs`): the strip after the
        // vertical cascade and its two transposes (a, b, next: input width
        // x output rows each), the slab scratch of the horizontal cascade
        // (t1, t2: up to SLAB samples x input width), and on the u16 path
        // of a u8 image the input converted to 8.8 fixed point.
        let r = self.need(out, 0, inputs);
        let bands = inputs[0].bands as u64;
        let (lane, convert) = if self.narrow(inputs[0].format) {
            (1, 0)
        } else if inputs[0].format == BandFormat::U8 {
            (2, r.area() * bands)
        } else {
            (2, 0)
        };
        let strip = r.width as u64 * bands * out.height as u64;
        let slab = (SLAB as u64).min(out.height as u64 * bands) * r.width as u64;
        lane * (3 * strip + 2 * slab + convert)
    }

    fn generate(&self, st: &mut BoxState, out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = inputs.header(0);
        let size = (h.width as i64, h.height as i64);
        let src = inputs.get(0, inputs.need(out, 0))?;
        let mut dst = inputs.alloc(out);
        self.run(st, out, size, &src, &mut dst);
        Ok(dst)
    }
}

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&GAUSSBLUR, &BOXBLUR, &SHARPEN];

/// [`gaussblur`] in the catalogue.
pub static GAUSSBLUR: OpDesc = OpDesc::new(
    "gaussblur",
    Category::Convolution,
    "Gaussian blur of standard deviation sigma",
    &[
        ArgDesc::required("sigma", ArgType::float(0.01, 1000.0), "Standard deviation of the gaussian, in pixels."),
        ArgDesc::optional("min_ampl", ArgType::float(0.001, 1.0), "0.2", "Smallest mask coefficient, relative to the centre (libvips' min_ampl)."),
        ArgDesc::optional("box_sigma", ArgType::float(0.0, f64::INFINITY), "2.5", "From this sigma up, u8 and u16 images use three extended box passes (constant cost); inf keeps libvips' exact mask."),
    ],
    |input, a| {
        let o = GaussOptions::default().min_ampl(a.float("min_ampl")?).box_sigma(a.float("box_sigma")?);
        Ok(gaussblur_with(input_of(input)?, a.float("sigma")?, &o))
    },
)
.doc("Below `box_sigma` (and always for 32-bit and float images) this is libvips' `gaussblur` with `precision=integer`, bit for bit: the separable mask `rint(20·exp(−x²/2σ²))` down to `min_ampl`. From `box_sigma` up, u8 and u16 images take three extended box passes per axis whose variance is exactly σ² (Pillow-SIMD's design), so the cost does not grow with sigma. Edges copy the edge pixels outwards; the format is kept.")
.example("10");

/// [`boxblur`] in the catalogue.
pub static BOXBLUR: OpDesc = OpDesc::new(
    "boxblur",
    Category::Convolution,
    "Mean over a centred width × height box",
    &[
        ArgDesc::required("width", ArgType::int(1, 100_000), "Box width in pixels."),
        ArgDesc::unset("height", ArgType::int(1, 100_000), "Box height in pixels (default: the width)."),
    ],
    |input, a| {
        let w = a.u32("width")?;
        let h = a.opt_int("height")?.map_or(w, |h| h as u32);
        Ok(boxblur(input_of(input)?, w, h))
    },
)
.doc("Even sizes weigh the two end rows or columns by one half, so the box stays centred. Running sums for u8 and u16, direct sums for the other formats; edge pixels are copied outwards.")
.example("5");

/// [`sharpen`] in the catalogue.
pub static SHARPEN: OpDesc = OpDesc::new(
    "sharpen",
    Category::Convolution,
    "Unsharp mask (Pillow's UnsharpMask)",
    &[
        ArgDesc::optional("sigma", ArgType::float(0.01, 1000.0), "2", "Blur radius (standard deviation) of the mask."),
        ArgDesc::optional("amount", ArgType::float(0.0, 100.0), "1.5", "How much of the difference to add back (1.5 is Pillow's 150 %)."),
        ArgDesc::optional("threshold", ArgType::float(0.0, f64::INFINITY), "3", "Differences below this are left alone."),
    ],
    |input, a| {
        let o = SharpenOptions::default()
            .sigma(a.float("sigma")?)
            .amount(a.float("amount")?)
            .threshold(a.float("threshold")?);
        Ok(sharpen(input_of(input)?, &o))
    },
)
.doc("out = x + amount·(x − blur(x)) where |x − blur(x)| ≥ threshold, rounded and clamped to the format; x elsewhere.")
.example("amount=2");
