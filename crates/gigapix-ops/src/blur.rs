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
//! The passes of an axis are streamed, not materialised: each keeps a
//! running sum and a ring of the `2r + 3` rows the next pass reads, and
//! produces a row when the next pass asks for it. The vertical passes run
//! on slabs of a row (their rings stay in the L2 cache), a block of output
//! rows at a time, reading their input in chunks as they go down; the
//! block is transposed and the horizontal passes run on it the same way.
//! A worker asked for the strip right below its previous one goes on with
//! its vertical sums instead of recomputing the strip's margin: exact
//! integer sums make that the same bits as a fresh start. All of this
//! scratch lives in pooled buffers, counted in the run's pixel memory.
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
trait Lane: Sample {
    type Acc: Sample;
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

/// A scratch buffer from the run's buffer pool, so that the memory
/// tracker behind `--stats` counts it; kept in the per-thread state
/// across requests and grown when a request needs more.
#[derive(Debug, Default)]
struct Scratch(Option<Region>);

impl Scratch {
    /// Makes room for `n` samples of `T` (contents unspecified).
    fn ensure<T: Sample>(&mut self, inputs: &Inputs<'_>, n: usize) {
        let fits = matches!(&self.0, Some(r) if r.format() == T::FORMAT
            && r.rect().width as usize >= n);
        if !fits {
            // Drop the old buffer first so the pool can recycle it.
            self.0 = None;
            let rect = Rect::new(0, 0, n.max(1) as i64, 1);
            self.0 = Some(inputs.alloc_as(rect, 1, T::FORMAT));
        }
    }

    fn get_mut<T: Sample>(&mut self) -> &mut [T] {
        self.0.as_mut().expect("scratch sized").row_mut::<T>(0)
    }
}

/// Where a running box stands: its weights, the next row it produces and
/// whether its sum must be started afresh at that row.
#[derive(Clone, Copy, Debug)]
struct Cursor {
    w: BoxWeights,
    next: i64,
    fresh: bool,
}

/// One box pass streamed over "rows" of `len` samples: its running sum
/// and a ring of its last `rows` output rows (row `y` in slot `y % rows`),
/// which is all the next pass reads. The last pass of a cascade writes
/// to its caller instead (`rows` = 0).
#[derive(Debug)]
struct Stage {
    at: Cursor,
    len: usize,
    rows: usize,
    acc: Scratch,
    ring: Scratch,
}

/// A [`Stage`]'s buffers borrowed as slices for a stretch of work.
struct View<'b, T: Lane> {
    at: &'b mut Cursor,
    len: usize,
    rows: usize,
    acc: &'b mut [T::Acc],
    ring: &'b mut [T],
}

impl<T: Lane> View<'_, T> {
    /// Row `y` of this pass's output (it must still be in the ring).
    fn row(&self, y: i64) -> &[T] {
        let s = (y as usize % self.rows) * self.len;
        &self.ring[s..s + self.len]
    }
}

/// Views of `stages`.
fn views<T: Lane>(stages: &mut [Stage]) -> Vec<View<'_, T>> {
    stages
        .iter_mut()
        .map(|s| {
            let Stage {
                at,
                len,
                rows,
                acc,
                ring,
            } = s;
            View {
                at,
                len: *len,
                rows: *rows,
                acc: &mut acc.get_mut::<T::Acc>()[..*len],
                ring: if *rows > 0 {
                    &mut ring.get_mut::<T>()[..*rows * *len]
                } else {
                    &mut []
                },
            }
        })
        .collect()
}

/// Sets up `stages` for the cascade `passes` over rows of `len` samples
/// whose output starts at row `lo` of an axis of `size`: pass `k` starts
/// where the passes after it first reach. Keeps the buffers.
fn restart(stages: &mut [Stage], passes: &[BoxWeights], lo: i64, size: i64) {
    let mut left = reach(passes);
    for (s, w) in stages.iter_mut().zip(passes) {
        left -= w.radius as i64 + 1;
        s.at = Cursor {
            w: *w,
            next: (lo - left).max(0).min(size - 1),
            fresh: true,
        };
    }
}

/// Fresh stages for `passes` over rows of `len` samples, with their
/// buffers; each ring holds what the next pass reads (`2r + 3` rows).
fn stages<T: Lane>(inputs: &Inputs<'_>, passes: &[BoxWeights], len: usize) -> Vec<Stage> {
    passes
        .iter()
        .enumerate()
        .map(|(k, w)| {
            let rows = passes.get(k + 1).map_or(0, |n| 2 * n.radius + 3);
            let mut s = Stage {
                at: Cursor {
                    w: *w,
                    next: 0,
                    fresh: true,
                },
                len,
                rows,
                acc: Scratch::default(),
                ring: Scratch::default(),
            };
            s.acc.ensure::<T::Acc>(inputs, len);
            if rows > 0 {
                s.ring.ensure::<T>(inputs, rows * len);
            }
            s
        })
        .collect()
}

/// Produces row `at.next` of a pass into `out`, first making the pass
/// before it (the last of `before`, or `src` for the first pass) produce
/// what it reads. Rows outside `0..size` read the edge row.
fn produce<'s, T: Lane>(
    level: Level,
    at: &mut Cursor,
    acc: &mut [T::Acc],
    before: &mut [View<'_, T>],
    src: &dyn Fn(i64) -> &'s [T],
    size: i64,
    out: &mut [T],
) {
    let y = at.next;
    let r = at.w.radius as i64;
    advance(level, before, src, size, (y + r + 1).min(size - 1));
    let prev = before.last();
    let input = |v: i64| -> &[T] {
        let v = v.clamp(0, size - 1);
        match prev {
            Some(s) => s.row(v),
            None => src(v),
        }
    };
    if at.fresh {
        acc.fill(T::Acc::default());
        for d in -r..=r {
            T::accumulate(level, acc, input(y + d));
        }
        at.fresh = false;
    }
    T::step(
        level,
        acc,
        input(y - r - 1),
        input(y + r + 1),
        input(y - r),
        at.w,
        out,
    );
    at.next += 1;
}

/// Makes the last of `stages` produce its rows up to `t` into its ring.
fn advance<'s, T: Lane>(
    level: Level,
    stages: &mut [View<'_, T>],
    src: &dyn Fn(i64) -> &'s [T],
    size: i64,
    t: i64,
) {
    let Some((last, before)) = stages.split_last_mut() else {
        return;
    };
    while last.at.next <= t {
        let s = (last.at.next as usize % last.rows) * last.len;
        let out = &mut last.ring[s..s + last.len];
        produce(level, last.at, last.acc, before, src, size, out);
    }
}

/// Produces rows `y0..y1` of the last pass of `stages` (which must be
/// at `y0`), row `y` at `(y − y0)·stride + off` of `out`.
#[allow(clippy::too_many_arguments)]
fn emit<'s, T: Lane>(
    level: Level,
    stages: &mut [Stage],
    src: &dyn Fn(i64) -> &'s [T],
    size: i64,
    (y0, y1): (i64, i64),
    out: &mut [T],
    stride: usize,
    off: usize,
) {
    let mut v = views::<T>(stages);
    let (last, before) = v.split_last_mut().expect("a pass");
    debug_assert_eq!(last.at.next, y0);
    let len = last.len;
    for y in y0..y1 {
        let o = (y - y0) as usize * stride + off;
        produce(
            level,
            last.at,
            last.acc,
            before,
            src,
            size,
            &mut out[o..o + len],
        );
    }
}

/// Output rows per block: the vertical passes produce this many rows,
/// which the horizontal passes then run on (transposed) together.
const BLOCK: usize = 32;

/// Input rows per request: the vertical passes read their input in
/// chunks of this many rows as they go down a strip, so only the rows
/// they still read are held.
const CHUNK: i64 = 64;

/// Samples per slab: the vertical passes run on slabs of this many
/// samples of a row so that their rings stay in the L2 cache.
const SLAB: usize = 2048;

/// The per-thread state of [`BoxBlur`] for one lane type: the vertical
/// passes of each slab (kept from one request to the next, so that a
/// thread asked for the strip right below its last one goes on from where
/// it stopped instead of recomputing the margin: all sums are exact
/// integers, so this gives the bits a fresh start does), the horizontal
/// passes and the block buffers.
#[derive(Debug, Default)]
struct Lanes {
    slabs: Vec<Vec<Stage>>,
    /// The columns (`x`, `width`) of the input the slabs run on and the
    /// next output row they give, if they can go on.
    cont: Option<(i64, i64, i64)>,
    horiz: Vec<Stage>,
    horiz_len: usize,
    block: Scratch,
    t: Scratch,
    t2: Scratch,
}

/// Per-thread state of [`BoxBlur`].
#[derive(Debug, Default)]
pub struct BoxState {
    wide: Lanes,
    narrow: Lanes,
}

fn reach(passes: &[BoxWeights]) -> i64 {
    passes.iter().map(|w| w.radius as i64 + 1).sum()
}

/// The range `lo..hi` grown by `m` on both sides, clipped to `0..size`.
fn grown(lo: i64, hi: i64, m: i64, size: i64) -> (i64, i64) {
    ((lo - m).max(0), (hi + m).min(size))
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

    /// The first input row the request of `out` reads, given what `st`
    /// can go on from.
    fn first_row(&self, st: &Lanes, out: Rect, need: Rect) -> i64 {
        match (st.cont, st.slabs.first()) {
            (Some((x, w, y)), Some(s)) if (x, w, y) == (need.x, need.width, out.y) => {
                (s[0].at.next - s[0].at.w.radius as i64 - 1).max(0)
            }
            _ => need.y,
        }
    }

    /// The cascades for `out`, reading input rows `top..` of columns
    /// `cols` (x, width) in chunks of [`CHUNK`] rows, each made ready by
    /// `prep` (a format conversion, or nothing); of an input of `size`
    /// (width, height); `put(y, row)` takes each output row.
    #[allow(clippy::too_many_arguments)]
    fn cascades<T: Lane>(
        &self,
        st: &mut Lanes,
        inputs: &mut Inputs<'_>,
        prep: &dyn Fn(Region, &Inputs<'_>) -> Region,
        out: Rect,
        (cols, top): ((i64, i64), i64),
        size: (i64, i64),
        bands: usize,
        put: &mut dyn FnMut(i64, &[T]),
    ) -> Result<()> {
        let level = self.level;
        let (w_img, h_img) = size;
        let rw = cols.1 as usize;
        let rl = rw * bands;
        let ow = out.width as usize;
        // Vertical stages per slab; go on from the last request if it
        // ended right above this one on the same columns.
        let key = (cols.0, cols.1, out.y);
        // Taken: a request that fails half way leaves nothing to go on from.
        let go_on = st.cont.take() == Some(key);
        let layout_ok = st.slabs.first().is_some_and(|s| s[0].len == SLAB.min(rl))
            && st.slabs.iter().map(|s| s[0].len).sum::<usize>() == rl;
        if !layout_ok {
            st.slabs = (0..rl)
                .step_by(SLAB)
                .map(|c0| stages::<T>(inputs, &self.vy, SLAB.min(rl - c0)))
                .collect();
        }
        if !go_on || !layout_ok {
            for s in &mut st.slabs {
                restart(s, &self.vy, out.y, h_img);
            }
        }
        let cl_max = BLOCK * bands;
        if st.horiz_len != cl_max {
            st.horiz = stages::<T>(inputs, &self.vx, cl_max);
            st.horiz_len = cl_max;
        }
        st.block.ensure::<T>(inputs, BLOCK * rl);
        st.t.ensure::<T>(inputs, BLOCK * rl);
        st.t2.ensure::<T>(inputs, BLOCK * ow * bands);
        let reach_y = reach(&self.vy);
        let r1 = self.vy[0].radius as i64;
        let mut chunks: Vec<Region> = Vec::new();
        let mut fetched = top;
        let mut y0 = out.y;
        while y0 < out.bottom() {
            let y1 = (y0 + BLOCK as i64).min(out.bottom());
            let rows = (y1 - y0) as usize;
            // Input rows this block reads: from what the first pass reads
            // next to what the last row of the last pass reaches.
            let newest = (y1 - 1 + reach_y).min(h_img - 1);
            let oldest = (st.slabs[0][0].at.next - r1 - 1).max(0);
            chunks.retain(|c| c.rect().bottom() > oldest);
            while fetched <= newest {
                let end = (fetched + CHUNK).min(h_img);
                let rect = Rect::new(cols.0, fetched, cols.1, end - fetched);
                let region = inputs.get(0, rect)?;
                chunks.push(prep(region, inputs));
                fetched = end;
            }
            let src = |y: i64| -> &[T] {
                let c = chunks
                    .iter()
                    .find(|c| y < c.rect().bottom())
                    .expect("row fetched");
                c.row::<T>(y)
            };
            let block = st.block.get_mut::<T>();
            let mut c0 = 0;
            for s in &mut st.slabs {
                let sw = s[0].len;
                let slab = |y: i64| &src(y)[c0..c0 + sw];
                emit(level, s, &slab, h_img, (y0, y1), block, rl, c0);
                c0 += sw;
            }
            // Columns become rows of `rows·bands` samples.
            let t = st.t.get_mut::<T>();
            gigapix_simd::blur::transpose(level, block, rows, rw, bands, t);
            let cl = rows * bands;
            for h in &mut st.horiz {
                h.len = cl;
            }
            restart(&mut st.horiz, &self.vx, out.x, w_img);
            let t: &[T] = t;
            let col = |x: i64| {
                let i = (x - cols.0) as usize * cl;
                &t[i..i + cl]
            };
            let t2 = st.t2.get_mut::<T>();
            emit(
                level,
                &mut st.horiz,
                &col,
                w_img,
                (out.x, out.right()),
                t2,
                cl,
                0,
            );
            let block = st.block.get_mut::<T>();
            gigapix_simd::blur::transpose(level, t2, ow, rows, bands, block);
            let n = ow * bands;
            for (i, y) in (y0..y1).enumerate() {
                put(y, &block[i * n..(i + 1) * n]);
            }
            y0 = y1;
        }
        st.cont = Some((cols.0, cols.1, out.bottom()));
        Ok(())
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

    fn scratch_bytes(&self, out: Rect, inputs: &[Header]) -> u64 {
        // What `cascades` keeps per thread, all from the run's pool: for
        // each pass of an axis its running sums and the ring of the
        // `2r + 3` rows the next pass reads, over the input row (vertical)
        // or a block's column (horizontal); the block and its two
        // transposes; and on the u16 path of a u8 image the input chunks
        // in reach, widened to 8.8 fixed point.
        let h = inputs[0];
        let need = self.need(out, 0, inputs);
        let bands = h.bands as u64;
        let narrow = self.narrow(h.format);
        let (lane, acc) = if narrow { (1, 2) } else { (2, 4) };
        let rings = |passes: &[BoxWeights], len: u64| -> u64 {
            (0..passes.len())
                .map(|k| {
                    let rows = passes.get(k + 1).map_or(0, |n| 2 * n.radius as u64 + 3);
                    len * (acc + rows * lane)
                })
                .sum()
        };
        let row = need.width as u64 * bands;
        let block = BLOCK as u64;
        let blocks = lane * block * (2 * row + out.width as u64 * bands);
        let widened = if !narrow && h.format == BandFormat::U8 {
            let span = (reach(&self.vy) + self.vy[0].radius as i64 + 1) as u64 + block;
            (span.div_ceil(CHUNK as u64) + 1) * CHUNK as u64 * row * 2
        } else {
            0
        };
        rings(&self.vy, row) + rings(&self.vx, block * bands) + blocks + widened
    }

    fn generate(&self, st: &mut BoxState, out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = *inputs.header(0);
        let size = (h.width as i64, h.height as i64);
        let bands = h.bands as usize;
        let need = inputs.need(out, 0);
        let narrow = self.narrow(h.format);
        let lanes = if narrow { &mut st.narrow } else { &mut st.wide };
        let top = self.first_row(lanes, out, need);
        let cols = ((need.x, need.width), top);
        let mut dst = inputs.alloc(out);
        let same = |r: Region, _: &Inputs<'_>| r;
        if narrow {
            let mut put = |y: i64, row: &[u8]| dst.row_mut::<u8>(y).copy_from_slice(row);
            self.cascades(lanes, inputs, &same, out, cols, size, bands, &mut put)?;
        } else if h.format == BandFormat::U8 {
            // 8.8 fixed point.
            let widen = |r: Region, inputs: &Inputs<'_>| {
                let mut w = inputs.alloc_as(r.rect(), h.bands, BandFormat::U16);
                for y in r.rect().y..r.rect().bottom() {
                    for (d, &s) in w.row_mut::<u16>(y).iter_mut().zip(r.row::<u8>(y)) {
                        *d = (s as u16) << 8;
                    }
                }
                w
            };
            let mut put = |y: i64, row: &[u16]| {
                for (d, &s) in dst.row_mut::<u8>(y).iter_mut().zip(row) {
                    *d = ((s as u32 + 128) >> 8).min(255) as u8;
                }
            };
            self.cascades(lanes, inputs, &widen, out, cols, size, bands, &mut put)?;
        } else {
            let mut put = |y: i64, row: &[u16]| dst.row_mut::<u16>(y).copy_from_slice(row);
            self.cascades(lanes, inputs, &same, out, cols, size, bands, &mut put)?;
        }
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
