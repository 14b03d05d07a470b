//! Resampling: integer box [`shrink`], separable convolution [`reduce`] by
//! any factor, and [`resize`] / [`resize_to`] built on them.
//!
//! # Conventions (those of libvips 8.18 and Pillow)
//!
//! - Output sample `x` has its centre at input coordinate
//!   `(x + 0.5)·f − e/2`, where `f` is the shrink factor (input size over
//!   output size) and `e = out·f − in` the input pixels invented (or
//!   dropped) by rounding the output size, so the error is shared evenly by
//!   both edges. Input pixel `i` has its centre at `i + 0.5`.
//! - When shrinking, the kernel is widened by `f` (a true low-pass filter:
//!   every input pixel contributes); when enlarging it is not.
//! - Taps outside the image read the nearest edge pixel (libvips' `embed`
//!   with `extend=copy`); they are folded onto the edge pixel's
//!   coefficient, so the operation never reads outside its input and
//!   [`need`](gigapix_core::Operation::need) is exactly the taps touched.
//! - Coefficients are normalised to sum to one. For `u8` they are 14-bit
//!   fixed point (signed 16-bit, summing exactly to `1 << 14`, 32-bit
//!   accumulation, SIMD kernels of [`gigapix_simd::resample`]); `u16` and
//!   `f32` use `f32` arithmetic and `u32` uses `f64`.
//! - One node computes both passes: per output row, the vertical pass
//!   (along x, the SIMD-friendly direction) into a one-row scratch buffer
//!   over the input columns the row needs, then the horizontal pass from
//!   it. Integer formats round the intermediate row to the format, as
//!   libvips' `reducev`→`reduceh` and Pillow do. With many vertical taps
//!   (`u8`), the vertical pass runs over the whole strip in column blocks
//!   whose input rows stay in L2, then the horizontal pass row by row.
//! - `need` is exactly the input rows and columns the taps of the requested
//!   outputs touch, so the planner sizes strips from the true margins and
//!   neighbouring strips overlap only by the taps they share.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use gigapix_core::{
    BandFormat, DemandHint, Error, Header, Image, Inputs, Operation, Rect, Region, Result, Sample,
};
use gigapix_simd::Level;
use gigapix_simd::resample::{Taps, WEIGHT_ONE, horizontal_u8, vertical_u8};

/// An interpolation kernel for [`reduce`] and [`resize`], named as in
/// libvips.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// The nearest input pixel (one tap, never widened).
    Nearest,
    /// Linear interpolation (a triangle filter, support 1).
    Linear,
    /// Catmull-Rom cubic (`a = −0.5`, support 2).
    Cubic,
    /// Mitchell-Netravali cubic (`B = C = 1/3`, support 2).
    Mitchell,
    /// Lanczos, two lobes.
    Lanczos2,
    /// Lanczos, three lobes (the default).
    #[default]
    Lanczos3,
}

impl Kernel {
    /// Every kernel.
    pub const ALL: [Kernel; 6] = [
        Kernel::Nearest,
        Kernel::Linear,
        Kernel::Cubic,
        Kernel::Mitchell,
        Kernel::Lanczos2,
        Kernel::Lanczos3,
    ];

    /// Parses a libvips kernel name (`nearest`, `linear`, `cubic`,
    /// `mitchell`, `lanczos2`, `lanczos3`; case-insensitive).
    pub fn from_name(name: &str) -> Option<Kernel> {
        let name = name.trim().to_ascii_lowercase();
        Kernel::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The libvips name of the kernel.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Nearest => "nearest",
            Kernel::Linear => "linear",
            Kernel::Cubic => "cubic",
            Kernel::Mitchell => "mitchell",
            Kernel::Lanczos2 => "lanczos2",
            Kernel::Lanczos3 => "lanczos3",
        }
    }

    /// Half-width of the kernel at scale 1, in pixels.
    pub fn support(self) -> f64 {
        match self {
            Kernel::Nearest => 0.5,
            Kernel::Linear => 1.0,
            Kernel::Cubic | Kernel::Mitchell | Kernel::Lanczos2 => 2.0,
            Kernel::Lanczos3 => 3.0,
        }
    }

    /// The kernel's value at distance `x` (in pixels at scale 1).
    pub fn eval(self, x: f64) -> f64 {
        let x = x.abs();
        match self {
            Kernel::Nearest => {
                if x < 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Kernel::Linear => (1.0 - x).max(0.0),
            Kernel::Cubic => cubic(x, 0.0, 0.5),
            Kernel::Mitchell => cubic(x, 1.0 / 3.0, 1.0 / 3.0),
            Kernel::Lanczos2 => lanczos(x, 2.0),
            Kernel::Lanczos3 => lanczos(x, 3.0),
        }
    }
}

/// The Mitchell-Netravali family at `x >= 0`.
fn cubic(x: f64, b: f64, c: f64) -> f64 {
    if x < 1.0 {
        ((12.0 - 9.0 * b - 6.0 * c) * x * x * x
            + (-18.0 + 12.0 * b + 6.0 * c) * x * x
            + (6.0 - 2.0 * b))
            / 6.0
    } else if x < 2.0 {
        ((-b - 6.0 * c) * x * x * x
            + (6.0 * b + 30.0 * c) * x * x
            + (-12.0 * b - 48.0 * c) * x
            + (8.0 * b + 24.0 * c))
            / 6.0
    } else {
        0.0
    }
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let p = std::f64::consts::PI * x;
        p.sin() / p
    }
}

fn lanczos(x: f64, a: f64) -> f64 {
    if x < a { sinc(x) * sinc(x / a) } else { 0.0 }
}

impl FromStr for Kernel {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Kernel, String> {
        Kernel::from_name(s).ok_or_else(|| {
            format!(
                "unknown kernel `{s}` (expected nearest, linear, cubic, mitchell, lanczos2 or lanczos3)"
            )
        })
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Options of [`resize`] and [`resize_to`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ResizeOptions {
    /// The interpolation kernel (default [`Kernel::Lanczos3`]).
    pub kernel: Kernel,
    /// Vertical scale, if different from the horizontal one
    /// ([`resize`] only).
    pub vscale: Option<f64>,
    /// libvips' `gap`: when shrinking by more than `gap`, a box [`shrink`]
    /// by `floor(1 / scale / gap)` runs first and [`reduce`] does the rest.
    /// Below 1 (e.g. 0) the whole resize is one exact convolution. Default
    /// 2.
    pub gap: f64,
}

impl Default for ResizeOptions {
    fn default() -> ResizeOptions {
        ResizeOptions {
            kernel: Kernel::Lanczos3,
            vscale: None,
            gap: 2.0,
        }
    }
}

impl ResizeOptions {
    /// Sets the kernel.
    pub fn kernel(mut self, kernel: Kernel) -> ResizeOptions {
        self.kernel = kernel;
        self
    }

    /// Sets a vertical scale different from the horizontal one.
    pub fn vscale(mut self, vscale: f64) -> ResizeOptions {
        self.vscale = Some(vscale);
        self
    }

    /// Sets libvips' `gap`.
    pub fn gap(mut self, gap: f64) -> ResizeOptions {
        self.gap = gap;
        self
    }
}

/// Box average over `xshrink`×`yshrink` blocks: output size
/// `floor(width / xshrink)`×`floor(height / yshrink)` (trailing input
/// pixels that do not fill a block are dropped, as libvips' `shrinkh` and
/// `shrinkv` do). Integer formats round to nearest.
///
/// Factors must be at least 1 and at most the image size.
///
/// ```
/// let small = gigapix_ops::resample::shrink(&gigapix_ops::black(100, 51, 3), 4, 2);
/// assert_eq!((small.width(), small.height()), (25, 25));
/// ```
pub fn shrink(image: &Image, xshrink: u32, yshrink: u32) -> Image {
    Image::new(Shrink { xshrink, yshrink }, vec![image.clone()])
}

/// Resamples `image` down by `hshrink` horizontally and `vshrink`
/// vertically (each finite and at least 1) with a separable convolution by
/// `kernel`, widened by the factor (libvips' `reduce`). The output is
/// `round(width / hshrink)`×`round(height / vshrink)`.
///
/// ```
/// use gigapix_ops::resample::{Kernel, reduce};
/// let out = reduce(&gigapix_ops::black(1000, 500, 3), 1.5, 2.5, Kernel::Lanczos3);
/// assert_eq!((out.width(), out.height()), (667, 200));
/// ```
pub fn reduce(image: &Image, hshrink: f64, vshrink: f64, kernel: Kernel) -> Image {
    let bad = |f: f64| !(f.is_finite() && f >= 1.0);
    if bad(hshrink) || bad(vshrink) {
        return invalid(
            image,
            "reduce",
            format!("shrink factors must be finite and at least 1, not {hshrink} and {vshrink}"),
        );
    }
    let h = image.header();
    let ow = round_size(h.width as f64 / hshrink);
    let oh = round_size(h.height as f64 / vshrink);
    resample(image, "reduce", ow, oh, hshrink, vshrink, kernel)
}

/// Resizes `image` by `scale` (below 1 shrinks, above 1 enlarges; the
/// vertical scale is `options.vscale`, or `scale`): output size
/// `round(width·scale)`×`round(height·vscale)`, like libvips' `resize`.
///
/// With `options.gap >= 1`, shrinking by more than `gap` first runs a box
/// [`shrink`] by `floor(1 / scale / gap)`, then a [`reduce`] by what
/// remains; otherwise one convolution does everything. Enlarging uses the
/// same separable convolution with the kernel at its natural width.
///
/// ```
/// use gigapix_ops::resample::{ResizeOptions, resize};
/// let out = resize(&gigapix_ops::black(1000, 800, 3), 0.125, &ResizeOptions::default());
/// assert_eq!((out.width(), out.height()), (125, 100));
/// ```
pub fn resize(image: &Image, scale: f64, options: &ResizeOptions) -> Image {
    let vscale = options.vscale.unwrap_or(scale);
    let bad = |s: f64| !(s.is_finite() && s > 0.0);
    if bad(scale) || bad(vscale) {
        return invalid(
            image,
            "resize",
            format!("scales must be finite and positive, not {scale} and {vscale}"),
        );
    }
    let h = image.header();
    let w = round_size(h.width as f64 * scale);
    let ht = round_size(h.height as f64 * vscale);
    resize_impl(image, w, ht, scale, vscale, options)
}

/// Resizes `image` to exactly `width`×`height` (each at least 1), as
/// [`resize`] with the scales that give that size.
///
/// ```
/// use gigapix_ops::resample::{ResizeOptions, resize_to};
/// let out = resize_to(&gigapix_ops::black(640, 480, 1), 100, 300, &ResizeOptions::default());
/// assert_eq!((out.width(), out.height()), (100, 300));
/// ```
pub fn resize_to(image: &Image, width: u32, height: u32, options: &ResizeOptions) -> Image {
    if width == 0 || height == 0 {
        return invalid(
            image,
            "resize",
            format!("the target size {width}x{height} is empty"),
        );
    }
    let h = image.header();
    let scale = width as f64 / h.width as f64;
    let vscale = height as f64 / h.height as f64;
    resize_impl(image, width, height, scale, vscale, options)
}

fn resize_impl(
    image: &Image,
    width: u32,
    height: u32,
    scale: f64,
    vscale: f64,
    options: &ResizeOptions,
) -> Image {
    let int_shrink = |s: f64| -> u32 {
        if options.gap < 1.0 || s >= 1.0 || options.kernel == Kernel::Nearest {
            1
        } else {
            (1.0 / (s * options.gap)).floor().max(1.0) as u32
        }
    };
    let h = image.header();
    // Never box-shrink below the target size.
    let xs = int_shrink(scale).min((h.width / width).max(1));
    let ys = int_shrink(vscale).min((h.height / height).max(1));
    let shrunk = if xs > 1 || ys > 1 {
        shrink(image, xs, ys)
    } else {
        image.clone()
    };
    // libvips reduces by what remains of 1 / scale (not by the ratio of the
    // sizes), the rounding of the sizes shared by both edges.
    // Enlarging uses the ratio of the sizes (as Pillow does).
    let s = shrunk.header();
    let factor = |scale: f64, shrink: u32, from: u32, to: u32| {
        if scale < 1.0 {
            1.0 / (scale * shrink as f64)
        } else {
            from as f64 / to as f64
        }
    };
    let hf = factor(scale, xs, s.width, width);
    let vf = factor(vscale, ys, s.height, height);
    resample(&shrunk, "resize", width, height, hf, vf, options.kernel)
}

/// `round(v)`, at least 1 (libvips' `VIPS_ROUND_UINT`).
fn round_size(v: f64) -> u32 {
    (v + 0.5).floor().clamp(1.0, u32::MAX as f64) as u32
}

/// An image carrying an argument error of `op`.
fn invalid(image: &Image, op: &'static str, message: String) -> Image {
    crate::conv::invalid(image, op, Error::invalid(op, message))
}

// ---- tap tables ----

/// The taps of one axis.
#[derive(Debug)]
struct Axis {
    /// `true` when output = input along this axis (the pass is skipped).
    identity: bool,
    /// Fixed-point taps (also holding `start` and `count`).
    taps: Taps,
    /// Float coefficients, `taps.stride` per output.
    weights: Vec<f64>,
}

impl Axis {
    /// The input range (half-open) outputs `lo..hi` read.
    fn need(&self, lo: i64, hi: i64) -> (i64, i64) {
        if self.identity {
            return (lo, hi);
        }
        let mut a = i64::MAX;
        let mut b = i64::MIN;
        for j in lo as usize..hi as usize {
            let s = self.taps.start(j) as i64;
            a = a.min(s);
            b = b.max(s + self.taps.count(j) as i64);
        }
        (a, b)
    }
}

/// Builds the taps mapping `in_size` to `out_size` samples with shrink
/// factor `factor` (input pixels per output pixel).
fn axis(in_size: u32, out_size: u32, factor: f64, kernel: Kernel) -> Axis {
    if out_size == in_size && factor == 1.0 {
        return Axis {
            identity: true,
            taps: Taps::default(),
            weights: Vec::new(),
        };
    }
    // Beyond a few times the input size a wider kernel only moves weight
    // onto the edge pixels; the cap keeps the tap loops bounded for absurd
    // factors (an output of one pixel then averages the image).
    let factor = factor.min(2.0 * in_size as f64 + 2.0);
    let last = in_size as i64 - 1;
    let extra = out_size as f64 * factor - in_size as f64;
    let fscale = factor.max(1.0);
    let support = kernel.support() * fscale;
    let mut rows: Vec<(u32, Vec<f64>)> = Vec::with_capacity(out_size as usize);
    for x in 0..out_size {
        let centre = (x as f64 + 0.5) * factor - extra / 2.0;
        if kernel == Kernel::Nearest {
            let i = (centre.floor() as i64).clamp(0, last);
            rows.push((i as u32, vec![1.0]));
            continue;
        }
        let lo = (centre - support + 0.5).floor() as i64;
        let hi = ((centre + support + 0.5).floor() as i64).max(lo + 1);
        let first = lo.clamp(0, last);
        let end = (hi - 1).clamp(0, last);
        let mut w = vec![0.0; (end - first + 1) as usize];
        for j in lo..hi {
            let k = kernel.eval((j as f64 + 0.5 - centre) / fscale);
            w[(j.clamp(0, last) - first) as usize] += k;
        }
        // Trim zero taps at both ends.
        let a = w.iter().position(|&v| v != 0.0).unwrap_or(0);
        let b = w.iter().rposition(|&v| v != 0.0).map_or(w.len(), |p| p + 1);
        let mut w = w[a..b.max(a + 1)].to_vec();
        let sum: f64 = w.iter().sum();
        if sum.abs() < 1e-9 {
            // Cannot happen with these kernels; fall back to nearest.
            let i = (centre.floor() as i64).clamp(0, last);
            rows.push((i as u32, vec![1.0]));
            continue;
        }
        w.iter_mut().for_each(|v| *v /= sum);
        rows.push(((first + a as i64) as u32, w));
    }
    // Trimming zeros (a cubic centred on a pixel has one tap) can move a
    // span left of its predecessor's; pad with zero taps so that starts and
    // ends never decrease, as the kernels require.
    let mut min_start = u32::MAX;
    let starts: Vec<u32> = rows
        .iter()
        .rev()
        .map(|r| {
            min_start = min_start.min(r.0);
            min_start
        })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let mut max_end = 0;
    for (r, s) in rows.iter_mut().zip(starts) {
        let end = r.0 + r.1.len() as u32;
        max_end = max_end.max(end);
        let mut w = vec![0.0; (r.0 - s) as usize];
        w.extend_from_slice(&r.1);
        w.resize((max_end - s) as usize, 0.0);
        *r = (s, w);
    }
    let max = rows.iter().map(|r| r.1.len()).max().unwrap_or(1);
    let stride = max.div_ceil(4) * 4;
    let mut weights = Vec::with_capacity(stride * rows.len());
    let mut fixed = Vec::with_capacity(stride * rows.len());
    let (mut start, mut count) = (Vec::new(), Vec::new());
    for (s, w) in rows {
        start.push(s);
        count.push(w.len() as u32);
        fixed.extend(quantise(&w));
        fixed.extend(std::iter::repeat_n(0, stride - w.len()));
        weights.extend_from_slice(&w);
        weights.extend(std::iter::repeat_n(0.0, stride - w.len()));
    }
    let taps = Taps::new(start, count, fixed, stride)
        .expect("tap spans move right monotonically with the output");
    Axis {
        identity: false,
        taps,
        weights,
    }
}

/// Fixed-point coefficients summing exactly to [`WEIGHT_ONE`]: each rounded,
/// the rounding error given to the largest.
fn quantise(w: &[f64]) -> Vec<i16> {
    let one = WEIGHT_ONE as f64;
    let mut q: Vec<i32> = w.iter().map(|&v| (v * one).round() as i32).collect();
    let err = WEIGHT_ONE - q.iter().sum::<i32>();
    let big = (0..w.len())
        .max_by(|&a, &b| w[a].abs().total_cmp(&w[b].abs()))
        .unwrap_or(0);
    q[big] += err;
    q.iter()
        .map(|&v| v.clamp(i16::MIN as i32, i16::MAX as i32) as i16)
        .collect()
}

// ---- the separable convolution ----

fn resample(
    image: &Image,
    name: &'static str,
    width: u32,
    height: u32,
    hfactor: f64,
    vfactor: f64,
    kernel: Kernel,
) -> Image {
    let h = image.header();
    if image.check().is_err() {
        // Keep the input's error; no tables for a placeholder header.
        return Image::new(
            Resample {
                name,
                h: Arc::new(axis(1, 1, 1.0, kernel)),
                v: Arc::new(axis(1, 1, 1.0, kernel)),
                size: (1, 1),
                level: gigapix_simd::level(),
            },
            vec![image.clone()],
        );
    }
    if (h.width, h.height) == (width, height) && hfactor == 1.0 && vfactor == 1.0 {
        // Nothing to do along either axis.
        return image.clone();
    }
    // The limits before the tables, which grow with the output's size.
    if let Err(e) = gigapix_core::Limits::default().check(&h.with_size(width, height)) {
        return Image::from_error(name, e, vec![image.clone()]);
    }
    Image::new(
        Resample {
            name,
            h: Arc::new(axis(h.width, width, hfactor, kernel)),
            v: Arc::new(axis(h.height, height, vfactor, kernel)),
            size: (width, height),
            level: gigapix_simd::level(),
        },
        vec![image.clone()],
    )
}

/// The operation of [`reduce`] and of the convolution step of [`resize`].
#[derive(Debug)]
pub struct Resample {
    name: &'static str,
    h: Arc<Axis>,
    v: Arc<Axis>,
    size: (u32, u32),
    level: Level,
}

/// Bytes of input rows the blocked vertical pass keeps in cache.
const BLOCK_BYTES: usize = 256 << 10;

/// Per-thread scratch rows of [`Resample`].
#[derive(Debug, Default)]
pub struct Scratch {
    u8: Vec<u8>,
    f32: Vec<f32>,
    f64: Vec<f64>,
}

impl Operation for Resample {
    type State = Scratch;

    fn name(&self) -> &'static str {
        self.name
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        Ok(inputs[0].with_size(self.size.0, self.size.1))
    }

    fn demand(&self) -> DemandHint {
        DemandHint::FatStrip
    }

    fn need(&self, out: Rect, _: usize, _inputs: &[Header]) -> Rect {
        let (x0, x1) = self.h.need(out.x, out.right());
        let (y0, y1) = self.v.need(out.y, out.bottom());
        Rect::new(x0, y0, x1 - x0, y1 - y0)
    }

    fn start(&self) -> Result<Scratch> {
        Ok(Scratch::default())
    }

    fn scratch_bytes(&self, out: Rect, inputs: &[Header]) -> u64 {
        // One input-wide row of the vertical pass; for u8 with many
        // vertical taps, the whole strip of them (the blocked pass).
        let h = inputs[0];
        let need = self.need(out, 0, inputs);
        let row = need.width as u64 * h.bands as u64;
        match h.format {
            BandFormat::U8 => {
                let blocked = !self.v.identity && self.v.taps.stride() > 8 && out.height > 1;
                if blocked {
                    row * out.height as u64
                } else {
                    row
                }
            }
            BandFormat::U32 | BandFormat::I32 | BandFormat::F64 => row * 8,
            _ => row * 4,
        }
    }

    fn generate(
        &self,
        scratch: &mut Scratch,
        out: Rect,
        inputs: &mut Inputs<'_>,
    ) -> Result<Region> {
        let need = inputs.need(out, 0);
        let src = inputs.get(0, need)?;
        let mut dst = inputs.alloc(out);
        let bands = inputs.output_header().bands as usize;
        match inputs.output_header().format {
            BandFormat::U8 => self.run_u8(&mut scratch.u8, &src, &mut dst, need, out, bands),
            BandFormat::U16 => {
                self.run_float::<u16, f32>(&mut scratch.f32, &src, &mut dst, need, out, bands)
            }
            BandFormat::F32 => {
                self.run_float::<f32, f32>(&mut scratch.f32, &src, &mut dst, need, out, bands)
            }
            BandFormat::I8 => {
                self.run_float::<i8, f32>(&mut scratch.f32, &src, &mut dst, need, out, bands)
            }
            BandFormat::I16 => {
                self.run_float::<i16, f32>(&mut scratch.f32, &src, &mut dst, need, out, bands)
            }
            BandFormat::U32 => {
                self.run_float::<u32, f64>(&mut scratch.f64, &src, &mut dst, need, out, bands)
            }
            BandFormat::I32 => {
                self.run_float::<i32, f64>(&mut scratch.f64, &src, &mut dst, need, out, bands)
            }
            BandFormat::F64 => {
                self.run_float::<f64, f64>(&mut scratch.f64, &src, &mut dst, need, out, bands)
            }
        }
        Ok(dst)
    }
}

impl Resample {
    fn run_u8(
        &self,
        mid: &mut Vec<u8>,
        src: &Region,
        dst: &mut Region,
        need: Rect,
        out: Rect,
        bands: usize,
    ) {
        let row_len = need.width as usize * bands;
        let height = out.height as usize;
        // Many vertical taps: the input rows of a strip do not fit the
        // cache, and each is read by several output rows. Run the vertical
        // pass in column blocks whose input rows stay in L2, for the whole
        // strip, into a strip-sized buffer; then the horizontal pass row by
        // row. Integer arithmetic, so the result is the same either way.
        let blocked = !self.v.identity && self.v.taps.stride() > 8 && height > 1;
        let block = if blocked {
            ((BLOCK_BYTES / need.height.max(1) as usize) & !31).max(256)
        } else {
            row_len
        };
        mid.resize(if blocked { row_len * height } else { row_len }, 0);
        let mut rows: Vec<&[u8]> = Vec::new();
        if blocked {
            for x0 in (0..row_len).step_by(block) {
                let x1 = (x0 + block).min(row_len);
                for (i, oy) in (out.y..out.bottom()).enumerate() {
                    let j = oy as usize;
                    let s = self.v.taps.start(j) as i64;
                    rows.clear();
                    rows.extend(
                        (s..s + self.v.taps.count(j) as i64).map(|y| &src.row::<u8>(y)[x0..x1]),
                    );
                    let m = &mut mid[i * row_len + x0..i * row_len + x1];
                    vertical_u8(self.level, &rows, self.v.taps.weights_of(j), m);
                }
            }
        }
        for (i, oy) in (out.y..out.bottom()).enumerate() {
            let line: &[u8] = if self.v.identity {
                src.row::<u8>(oy)
            } else if blocked {
                &mid[i * row_len..(i + 1) * row_len]
            } else {
                let j = oy as usize;
                let s = self.v.taps.start(j) as i64;
                rows.clear();
                rows.extend((s..s + self.v.taps.count(j) as i64).map(|y| src.row::<u8>(y)));
                vertical_u8(self.level, &rows, self.v.taps.weights_of(j), mid);
                mid
            };
            let o = dst.row_mut::<u8>(oy);
            if self.h.identity {
                o.copy_from_slice(line);
            } else {
                horizontal_u8(
                    self.level,
                    &self.h.taps,
                    out.x as usize,
                    line,
                    need.x as usize,
                    bands,
                    o,
                );
            }
        }
    }

    fn run_float<T: Sample, F: Float>(
        &self,
        mid: &mut Vec<F>,
        src: &Region,
        dst: &mut Region,
        need: Rect,
        out: Rect,
        bands: usize,
    ) {
        let row_len = need.width as usize * bands;
        mid.resize(row_len, F::default());
        let st = self.v.taps.stride();
        for oy in out.y..out.bottom() {
            if self.v.identity {
                for (m, &s) in mid.iter_mut().zip(src.row::<T>(oy)) {
                    *m = F::of(s.to_f64());
                }
            } else {
                let j = oy as usize;
                let s = self.v.taps.start(j) as i64;
                let n = self.v.taps.count(j) as usize;
                let w = &self.v.weights[j * st..j * st + n];
                for (k, &wk) in w.iter().enumerate() {
                    let wk = F::of(wk);
                    let row = src.row::<T>(s + k as i64);
                    if k == 0 {
                        for (m, &v) in mid.iter_mut().zip(row) {
                            *m = F::of(v.to_f64()) * wk;
                        }
                    } else {
                        for (m, &v) in mid.iter_mut().zip(row) {
                            *m = *m + F::of(v.to_f64()) * wk;
                        }
                    }
                }
                if T::FORMAT.is_integer() {
                    // Round the intermediate like a two-pass integer
                    // pipeline.
                    for m in mid.iter_mut() {
                        *m = F::of(T::from_f64(m.to()).to_f64());
                    }
                }
            }
            let o = dst.row_mut::<T>(oy);
            if self.h.identity {
                for (d, &m) in o.iter_mut().zip(mid.iter()) {
                    *d = T::from_f64(m.to());
                }
                continue;
            }
            let sh = self.h.taps.stride();
            for (i, px) in o.chunks_exact_mut(bands).enumerate() {
                let j = out.x as usize + i;
                let s = (self.h.taps.start(j) as usize - need.x as usize) * bands;
                let n = self.h.taps.count(j) as usize;
                let w = &self.h.weights[j * sh..j * sh + n];
                for (b, d) in px.iter_mut().enumerate() {
                    let mut acc = F::default();
                    for (k, &wk) in w.iter().enumerate() {
                        acc = acc + mid[s + k * bands + b] * F::of(wk);
                    }
                    *d = T::from_f64(acc.to());
                }
            }
        }
    }
}

/// The accumulator type of the float paths (`f32` or `f64`).
trait Float: Copy + Default + std::ops::Add<Output = Self> + std::ops::Mul<Output = Self> {
    fn of(v: f64) -> Self;
    fn to(self) -> f64;
}

impl Float for f32 {
    #[inline(always)]
    fn of(v: f64) -> f32 {
        v as f32
    }
    #[inline(always)]
    fn to(self) -> f64 {
        self as f64
    }
}

impl Float for f64 {
    #[inline(always)]
    fn of(v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn to(self) -> f64 {
        self
    }
}

// ---- box shrink ----

/// The operation of [`shrink`].
#[derive(Debug)]
pub struct Shrink {
    xshrink: u32,
    yshrink: u32,
}

impl Operation for Shrink {
    /// Column sums of one output row.
    type State = Vec<f64>;

    fn name(&self) -> &'static str {
        "shrink"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        if self.xshrink == 0
            || self.yshrink == 0
            || self.xshrink > h.width
            || self.yshrink > h.height
        {
            return Err(Error::invalid(
                "shrink",
                format!(
                    "factors {}x{} must be at least 1 and at most the image size {}x{}",
                    self.xshrink, self.yshrink, h.width, h.height
                ),
            ));
        }
        Ok(h.with_size(h.width / self.xshrink, h.height / self.yshrink))
    }

    fn demand(&self) -> DemandHint {
        DemandHint::FatStrip
    }

    fn need(&self, out: Rect, _: usize, _inputs: &[Header]) -> Rect {
        let (xs, ys) = (self.xshrink as i64, self.yshrink as i64);
        Rect::new(out.x * xs, out.y * ys, out.width * xs, out.height * ys)
    }

    fn start(&self) -> Result<Vec<f64>> {
        Ok(Vec::new())
    }

    fn generate(&self, acc: &mut Vec<f64>, out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let need = inputs.need(out, 0);
        let src = inputs.get(0, need)?;
        let mut dst = inputs.alloc(out);
        let bands = inputs.output_header().bands as usize;
        gigapix_core::dispatch_format!(inputs.output_header().format, T => {
            self.run::<T>(acc, &src, &mut dst, out, bands)
        });
        Ok(dst)
    }
}

impl Shrink {
    fn run<T: Sample>(
        &self,
        acc: &mut Vec<f64>,
        src: &Region,
        dst: &mut Region,
        out: Rect,
        bands: usize,
    ) {
        let (xs, ys) = (self.xshrink as usize, self.yshrink as usize);
        let n = (xs * ys) as f64;
        let len = out.width as usize * xs * bands;
        acc.resize(len, 0.0);
        for oy in out.y..out.bottom() {
            acc.fill(0.0);
            let y0 = oy * ys as i64;
            for y in y0..y0 + ys as i64 {
                for (a, &v) in acc.iter_mut().zip(src.row::<T>(y)) {
                    *a += v.to_f64();
                }
            }
            let o = dst.row_mut::<T>(oy);
            for (i, px) in o.chunks_exact_mut(bands).enumerate() {
                for (b, d) in px.iter_mut().enumerate() {
                    let mut s = 0.0;
                    for k in 0..xs {
                        s += acc[(i * xs + k) * bands + b];
                    }
                    *d = T::from_f64(s / n);
                }
            }
        }
    }
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&SHRINK, &REDUCE, &RESIZE, &RESIZE_TO];

const KERNELS: &[&str] = &[
    "nearest", "linear", "cubic", "mitchell", "lanczos2", "lanczos3",
];
const KERNEL: ArgDesc = ArgDesc::optional(
    "kernel",
    ArgType::Enum(KERNELS),
    "lanczos3",
    "The interpolation kernel.",
);

const GAP: ArgDesc = ArgDesc::optional(
    "gap",
    ArgType::float(0.0, 1e6),
    "2",
    "Box pre-shrink beyond this factor (libvips' gap); 0 for one exact convolution.",
);

fn kernel(a: &gigapix_core::desc::Args) -> Result<Kernel> {
    let k = a.choice("kernel")?;
    Kernel::from_name(k).ok_or_else(|| Error::invalid("resize", format!("unknown kernel `{k}`")))
}

/// [`shrink`] in the catalogue.
pub static SHRINK: OpDesc = OpDesc::new(
    "shrink",
    Category::Resample,
    "Integer box shrink: each output pixel is the mean of a block",
    &[
        ArgDesc::required("hshrink", ArgType::int(1, 1_000_000), "Horizontal factor."),
        ArgDesc::unset("vshrink", ArgType::int(1, 1_000_000), "Vertical factor (default: the horizontal one)."),
    ],
    |input, a| {
        let h = a.u32("hshrink")?;
        let v = a.opt_int("vshrink")?.map_or(h, |v| v as u32);
        Ok(shrink(input_of(input)?, h, v))
    },
)
.doc("Output size floor(width / hshrink) × floor(height / vshrink); pixels that do not fill a block are dropped, as libvips' shrinkh and shrinkv do.")
.example("2");

/// [`reduce`] in the catalogue.
pub static REDUCE: OpDesc = OpDesc::new(
    "reduce",
    Category::Resample,
    "Downsamples by any factors ≥ 1 with a separable kernel widened by the factor",
    &[
        ArgDesc::required("hshrink", ArgType::float(1.0, 1_000_000.0), "Horizontal factor."),
        ArgDesc::unset("vshrink", ArgType::float(1.0, 1_000_000.0), "Vertical factor (default: the horizontal one)."),
        KERNEL,
    ],
    |input, a| {
        let h = a.float("hshrink")?;
        let v = a.opt_float("vshrink")?.unwrap_or(h);
        Ok(reduce(input_of(input)?, h, v, kernel(a)?))
    },
)
.doc("Antialiased, with libvips 8.18's centre convention; one node does both passes, vertical first.")
.example("1.5 kernel=linear");

/// [`resize`] in the catalogue.
pub static RESIZE: OpDesc = OpDesc::new(
    "resize",
    Category::Resample,
    "Resizes by a scale (below 1 shrinks), as libvips' resize",
    &[
        ArgDesc::required("scale", ArgType::float(1e-6, 1e6), "The horizontal scale."),
        ArgDesc::unset(
            "vscale",
            ArgType::float(1e-6, 1e6),
            "The vertical scale (default: the horizontal one).",
        ),
        KERNEL,
        GAP,
    ],
    |input, a| {
        let mut o = ResizeOptions::default()
            .kernel(kernel(a)?)
            .gap(a.float("gap")?);
        if let Some(v) = a.opt_float("vscale")? {
            o = o.vscale(v);
        }
        Ok(resize(input_of(input)?, a.float("scale")?, &o))
    },
)
.example("0.5");

/// [`resize_to`] in the catalogue.
pub static RESIZE_TO: OpDesc = OpDesc::new(
    "resize_to",
    Category::Resample,
    "Resizes to exactly width × height",
    &[
        ArgDesc::required("width", ArgType::int(1, 10_000_000), "Output width."),
        ArgDesc::required("height", ArgType::int(1, 10_000_000), "Output height."),
        KERNEL,
        GAP,
    ],
    |input, a| {
        let o = ResizeOptions::default()
            .kernel(kernel(a)?)
            .gap(a.float("gap")?);
        Ok(resize_to(
            input_of(input)?,
            a.u32("width")?,
            a.u32("height")?,
            &o,
        ))
    },
)
.example("40 30");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kernel::ALL {
            assert_eq!(Kernel::from_name(k.name()), Some(k));
            assert_eq!(k.name().parse::<Kernel>(), Ok(k));
        }
        assert_eq!(Kernel::from_name("bogus"), None);
        assert_eq!(Kernel::default(), Kernel::Lanczos3);
    }

    #[test]
    fn tables_are_normalised_and_inside() {
        for k in Kernel::ALL {
            for &(i, o, f) in &[
                (100u32, 13u32, 100.0 / 13.0),
                (10, 37, 10.0 / 37.0),
                (9, 8, 1.125),
            ] {
                let a = axis(i, o, f, k);
                for j in 0..o as usize {
                    let w = a.taps.weights_of(j);
                    assert_eq!(w.iter().map(|&v| v as i32).sum::<i32>(), WEIGHT_ONE);
                    assert!(a.taps.start(j) + a.taps.count(j) <= i);
                }
            }
        }
    }
}
