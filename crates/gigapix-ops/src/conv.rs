//! Convolution with a [`Matrix`]: [`conv`], the separable [`convsep`] and
//! the [`sobel`] edge detector.
//!
//! Semantics follow libvips `conv` with `precision=integer` (or float
//! masks): each output sample is `Σ mask·in / scale + offset` over the
//! mask placed with its centre, element `(width/2, height/2)`, on the
//! output pixel; pixels outside the image read the nearest edge pixel
//! (libvips embeds its input with `extend=copy`), so the output has the
//! input's size. The output keeps the input's band format: integer
//! formats are rounded (`floor(v + 0.5)`) and clamped, `f32` is stored as
//! is. Every band is filtered on its own.
//!
//! For `u8` images and integer masks (coefficients and offset), the sum is
//! computed like libvips 8.18 does it where we could reproduce it: in
//! 8-bit fixed point, each coefficient turned into `q = rint(c·256 /
//! scale)` (for masks summing to their scale, a total below 256 is made
//! up on the centre element), the result `((Σ q·in + 128) >> 8) + offset`,
//! clamped. This is exact when `256 / scale` is an integer (vips-bench's
//! mask), and gives libvips' bytes for it and for `gaussblur` up to
//! sigma 3. Other integer masks on `u8` images (such as gaussians of sigma
//! above 3, whose fixed-point total exceeds 257) sum exactly in `i32` and
//! divide by the scale in `f32` (within a level or two of libvips); float
//! masks and other formats sum in `f32` and divide the same way. Both run on the AVX2 kernels of
//! [`gigapix_simd::conv`] where the CPU has them.

use std::path::Path;

use gigapix_core::{
    BandFormat, DemandHint, Error, ErrorKind, Header, Image, Inputs, Operation, Rect, Region,
    Result, Sample, dispatch_format,
};
use gigapix_simd::Level;
use gigapix_simd::conv::{
    ConvSample, Finish, load_padded, store_scaled, weighted_sum, weighted_sum_u8,
};

/// A convolution mask: `width`×`height` coefficients in row-major order,
/// with the `scale` the weighted sum is divided by and the `offset` added
/// after (the libvips matrix model).
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Divisor of the weighted sum (non-zero).
    pub scale: f64,
    /// Added after dividing.
    pub offset: f64,
    /// `width·height` coefficients, row after row.
    pub coefficients: Vec<f64>,
}

impl Matrix {
    /// A mask of `width`×`height` `coefficients` (row-major), scale 1 and
    /// offset 0. Fails if a size is zero, the count does not match or a
    /// coefficient is not finite.
    pub fn new(width: u32, height: u32, coefficients: Vec<f64>) -> Result<Matrix> {
        let m = Matrix {
            width,
            height,
            scale: 1.0,
            offset: 0.0,
            coefficients,
        };
        m.validate()?;
        Ok(m)
    }

    /// The same mask with another scale.
    pub fn with_scale(mut self, scale: f64) -> Matrix {
        self.scale = scale;
        self
    }

    /// The same mask with another offset.
    pub fn with_offset(mut self, offset: f64) -> Matrix {
        self.offset = offset;
        self
    }

    /// `Ok` if the mask is usable: non-empty, `width·height` finite
    /// coefficients, a finite non-zero scale and a finite offset.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::new(ErrorKind::InvalidArgument, m));
        if self.width == 0 || self.height == 0 {
            return bad(format!("the mask {}x{} is empty", self.width, self.height));
        }
        if self.width > 100_000 || self.height > 100_000 {
            return bad(format!(
                "the mask {}x{} is too large",
                self.width, self.height
            ));
        }
        if self.coefficients.len() != self.width as usize * self.height as usize {
            return bad(format!(
                "a {}x{} mask needs {} coefficients, not {}",
                self.width,
                self.height,
                self.width as usize * self.height as usize,
                self.coefficients.len()
            ));
        }
        if let Some(c) = self.coefficients.iter().find(|c| !c.is_finite()) {
            return bad(format!("the coefficient {c} is not finite"));
        }
        if !self.scale.is_finite() || self.scale == 0.0 {
            return bad(format!(
                "the scale {} must be finite and non-zero",
                self.scale
            ));
        }
        if !self.offset.is_finite() {
            return bad(format!("the offset {} is not finite", self.offset));
        }
        Ok(())
    }

    /// Parses the libvips matrix file format: a first line
    /// `width height [scale [offset]]`, then `height` lines of `width`
    /// numbers, separated by spaces or tabs. Blank lines and text after a
    /// `#` are ignored. Errors name the line.
    ///
    /// ```
    /// let m = gigapix_ops::conv::Matrix::parse("3 3 8\n-1 -1 -1\n-1 16 -1\n-1 -1 -1\n")?;
    /// assert_eq!((m.width, m.height, m.scale, m.offset), (3, 3, 8.0, 0.0));
    /// assert!(m.is_integer());
    /// # Ok::<(), gigapix_core::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Matrix> {
        let bad = |line: usize, m: String| {
            Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("matrix line {line}: {m}"),
            ))
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").trim()))
            .filter(|(_, l)| !l.is_empty());
        let Some((hl, header)) = lines.next() else {
            return bad(
                1,
                "empty matrix (expected `width height [scale [offset]]`)".into(),
            );
        };
        let fields: Vec<&str> = header.split_whitespace().collect();
        if !(2..=4).contains(&fields.len()) {
            return bad(
                hl,
                format!(
                    "expected `width height [scale [offset]]`, found {} fields",
                    fields.len()
                ),
            );
        }
        let size = |s: &str, what: &str| -> Result<u32> {
            // libvips writes sizes as integers; accept `3.0` too.
            match s.parse::<f64>() {
                Ok(v) if v >= 1.0 && v.fract() == 0.0 && v <= 100_000.0 => Ok(v as u32),
                _ => Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("matrix line {hl}: bad {what} `{s}` (expected a positive integer)"),
                )),
            }
        };
        let width = size(fields[0], "width")?;
        let height = size(fields[1], "height")?;
        let num = |line: usize, s: &str| -> Result<f64> {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidArgument,
                        format!("matrix line {line}: `{s}` is not a number"),
                    )
                })
        };
        let scale = match fields.get(2) {
            Some(s) => num(hl, s)?,
            None => 1.0,
        };
        let offset = match fields.get(3) {
            Some(s) => num(hl, s)?,
            None => 0.0,
        };
        if scale == 0.0 {
            return bad(hl, "the scale must not be zero".into());
        }
        let mut coefficients = Vec::with_capacity(width as usize * height as usize);
        for row in 0..height {
            let Some((ln, l)) = lines.next() else {
                return bad(
                    hl + row as usize + 1,
                    format!("expected {height} rows of coefficients, found {row}"),
                );
            };
            let before = coefficients.len();
            for f in l.split_whitespace() {
                coefficients.push(num(ln, f)?);
            }
            let n = coefficients.len() - before;
            if n != width as usize {
                return bad(ln, format!("expected {width} coefficients, found {n}"));
            }
        }
        if let Some((ln, _)) = lines.next() {
            return bad(ln, format!("unexpected text after the {height} rows"));
        }
        Matrix::new(width, height, coefficients).map(|m| m.with_scale(scale).with_offset(offset))
    }

    /// Reads and [`parse`](Matrix::parse)s a matrix file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Matrix> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))?;
        Matrix::parse(&text).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{}: {}", path.display(), e.message()),
            )
        })
    }

    /// A mask from a command-line word: a libvips matrix file if `spec`
    /// names a file, else rows inline separated by `;`, values by spaces or
    /// commas (`"-1 -1 -1; -1 16 -1; -1 -1 -1"`), with scale 1 and offset 0.
    pub fn from_spec(spec: &str) -> Result<Matrix> {
        if Path::new(spec).is_file() {
            return Matrix::from_file(spec);
        }
        let bad = || {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "`{spec}` is neither a matrix file nor rows of equal length separated by `;`"
                ),
            )
        };
        let rows: Vec<Vec<f64>> = spec
            .split(';')
            .map(|r| {
                r.split([' ', ',', '\t'])
                    .filter(|v| !v.is_empty())
                    .map(|v| v.parse::<f64>().map_err(|_| bad()))
                    .collect()
            })
            .collect::<Result<_>>()?;
        let w = rows.first().map_or(0, Vec::len);
        if w == 0 || rows.iter().any(|r| r.len() != w) {
            return Err(bad());
        }
        Matrix::new(w as u32, rows.len() as u32, rows.concat())
    }

    /// `true` if every coefficient, the scale and the offset are integers
    /// (the case libvips computes in integer arithmetic).
    pub fn is_integer(&self) -> bool {
        self.coefficients
            .iter()
            .chain([&self.scale, &self.offset])
            .all(|v| v.fract() == 0.0)
    }

    /// The coefficient at column `x`, row `y`.
    pub fn at(&self, x: u32, y: u32) -> f64 {
        self.coefficients[(y * self.width + x) as usize]
    }

    /// The mask turned into a column (`rot90` of a row mask): same
    /// coefficients, `width` and `height` swapped. Only meaningful for a
    /// single row or column.
    fn transposed_line(&self) -> Matrix {
        Matrix {
            width: self.height,
            height: self.width,
            ..self.clone()
        }
    }
}

/// `image` convolved with `mask`, libvips `conv` semantics (see the
/// [module](self) documentation): same size and format as `image`, each
/// sample `Σ mask·in / scale + offset` with edge pixels copied outwards,
/// integer formats rounded and clamped.
///
/// An invalid mask makes the image invalid.
///
/// ```
/// use gigapix_core::{Ctx, Rect};
/// use gigapix_ops::conv::{Matrix, conv};
/// let sharpen = Matrix::new(3, 3, vec![-1., -1., -1., -1., 16., -1., -1., -1., -1.])?.with_scale(8.0);
/// let out = conv(&gigapix_ops::black(20, 10, 3), &sharpen);
/// assert_eq!((out.width(), out.height(), out.bands()), (20, 10, 3));
/// let region = Ctx::standalone().region(&out, Rect::new(0, 0, 2, 1))?;
/// assert_eq!(region.row::<u8>(0), &[0; 6]);
/// # Ok::<(), gigapix_core::Error>(())
/// ```
pub fn conv(image: &Image, mask: &Matrix) -> Image {
    if let Err(e) = mask.validate() {
        return invalid(image, "conv", e);
    }
    let taps = taps_of(mask);
    build(image, "conv", mask, vec![taps], Combine::Single)
}

/// `image` convolved with a separable mask: `mask` (one row or one
/// column) is applied along x, the result stored in the input's format
/// (rounded and clamped, like libvips), then the same mask along y. Each
/// pass divides by `mask.scale` (so the total scale is its square, as in
/// libvips `convsep`); `mask.offset` is added once, after the second pass.
pub fn convsep(image: &Image, mask: &Matrix) -> Image {
    if let Err(e) = mask.validate() {
        return invalid(image, "convsep", e);
    }
    if mask.width != 1 && mask.height != 1 {
        return invalid(
            image,
            "convsep",
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "the mask {}x{} is not a single row or column",
                    mask.width, mask.height
                ),
            ),
        );
    }
    let row = if mask.height == 1 {
        mask.clone()
    } else {
        mask.transposed_line()
    };
    let h = row.clone().with_offset(0.0);
    let v = row.transposed_line();
    let across = build(image, "convsep", &h, vec![taps_of(&h)], Combine::Single);
    build(&across, "convsep", &v, vec![taps_of(&v)], Combine::Single)
}

/// The Sobel edge detector: `|Gx| + |Gy|`, where `Gx` and `Gy` are the
/// image convolved with the 3×3 masks `[-1 0 1; -2 0 2; -1 0 1]` and
/// `[-1 -2 -1; 0 0 0; 1 2 1]` (edge pixels copied outwards), per band,
/// rounded and clamped to the input's format (`f32` stays `f32`).
///
/// libvips `sobel` gives `u8` output for every input format and, for
/// `u8` images, values that are even and saturate at 254 (it works at half
/// resolution); ours is the exact `|Gx| + |Gy|`, within 2 levels of it
/// where it does not saturate.
pub fn sobel(image: &Image) -> Image {
    let gx = Matrix::new(3, 3, vec![-1., 0., 1., -2., 0., 2., -1., 0., 1.]).expect("valid");
    let gy = Matrix::new(3, 3, vec![-1., -2., -1., 0., 0., 0., 1., 2., 1.]).expect("valid");
    let taps = vec![taps_of(&gx), taps_of(&gy)];
    build(image, "sobel", &gx, taps, Combine::AbsSum)
}

/// A node that carries `error` (named `name` unless it names an operation
/// already) instead of an image, with its kind and cause kept.
pub(crate) fn invalid(image: &Image, name: &'static str, error: Error) -> Image {
    Image::from_error(name, error, vec![image.clone()])
}

/// libvips' 8-bit fixed-point form of an integer mask, as measured on
/// libvips 8.18: `q = rint(c·256 / scale)`; for a mask summing to its
/// scale, a total below 256 is made up on the centre element, and a total
/// above 257 is not used (`None`: the exact path is closer to libvips
/// there). Masks not summing to their scale need exact coefficients.
pub(crate) fn fixed_point(mask: &Matrix) -> Option<Vec<i16>> {
    let q: Vec<f64> = mask
        .coefficients
        .iter()
        .map(|c| (c * 256.0 / mask.scale).round_ties_even())
        .collect();
    if q.iter().any(|q| q.abs() > 32767.0) {
        return None;
    }
    let mut q: Vec<i16> = q.into_iter().map(|q| q as i16).collect();
    let total: i64 = q.iter().map(|&v| v as i64).sum();
    let sum: f64 = mask.coefficients.iter().sum();
    if sum == mask.scale {
        let centre = (mask.height / 2 * mask.width + mask.width / 2) as usize;
        if total < 256 {
            q[centre] = q[centre].checked_add((256 - total) as i16)?;
        } else if total > 257 {
            return None;
        }
        Some(q)
    } else if mask
        .coefficients
        .iter()
        .all(|c| (c * 256.0 / mask.scale).fract() == 0.0)
    {
        Some(q)
    } else {
        None
    }
}

/// The non-zero elements of a mask: (row, column, coefficient).
type Taps = Vec<(u32, u32, f32)>;

fn taps_of(mask: &Matrix) -> Taps {
    let mut taps = Vec::new();
    for y in 0..mask.height {
        for x in 0..mask.width {
            let c = mask.at(x, y);
            if c != 0.0 {
                taps.push((y, x, c as f32));
            }
        }
    }
    taps
}

/// How several masks' sums become one sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Combine {
    /// One mask.
    Single,
    /// `|a| + |b|` of two masks.
    AbsSum,
}

fn build(
    image: &Image,
    name: &'static str,
    mask: &Matrix,
    taps: Vec<Taps>,
    combine: Combine,
) -> Image {
    let format = image.header().format;
    // u8 images and integer masks: libvips' 8-bit fixed point where it
    // applies, else exact integer sums divided by the scale.
    let integer = format == BandFormat::U8
        && combine == Combine::Single
        && mask
            .coefficients
            .iter()
            .all(|c| c.fract() == 0.0 && c.abs() <= 32767.0);
    let pick = |q: &[i16]| -> Vec<i16> {
        taps[0]
            .iter()
            .map(|&(y, x, _)| q[(y * mask.width + x) as usize])
            .collect()
    };
    let fixed = if !integer {
        None
    } else if let Some(q) = fixed_point(mask).filter(|_| mask.offset.fract() == 0.0) {
        Some((
            pick(&q),
            Finish::Shift8 {
                offset: mask.offset.clamp(-65536.0, 65536.0) as i32,
            },
        ))
    } else {
        let q: Vec<i16> = mask.coefficients.iter().map(|&c| c as i16).collect();
        Some((
            pick(&q),
            Finish::Div {
                div: mask.scale as f32,
                offset: mask.offset as f32,
            },
        ))
    };
    Image::new(
        Conv {
            name,
            fixed,
            width: mask.width,
            height: mask.height,
            taps,
            combine,
            div: mask.scale as f32,
            offset: mask.offset as f32,
            level: gigapix_simd::level(),
        },
        vec![image.clone()],
    )
}

/// The operation of [`conv`], [`convsep`] (one node per pass) and
/// [`sobel`].
#[derive(Debug)]
pub struct Conv {
    name: &'static str,
    /// For `u8` images and integer masks: the coefficients in libvips'
    /// 8-bit fixed point, and the offset.
    fixed: Option<(Vec<i16>, Finish)>,
    width: u32,
    height: u32,
    taps: Vec<Taps>,
    combine: Combine,
    div: f32,
    offset: f32,
    level: Level,
}

/// Per-thread scratch of [`Conv`].
#[derive(Debug, Default)]
pub struct ConvState {
    rows8: Vec<u8>,
    rows: Vec<f32>,
    sums: Vec<f32>,
    sums2: Vec<f32>,
}

impl Conv {
    fn centre(&self) -> (i64, i64) {
        ((self.width / 2) as i64, (self.height / 2) as i64)
    }

    /// The fixed-point path for `u8` images and integer masks, on an input
    /// `height` rows high.
    fn run_u8(
        &self,
        (q, finish): (&[i16], Finish),
        st: &mut ConvState,
        out: Rect,
        height: i64,
        src: &Region,
        dst: &mut Region,
    ) {
        let bands = src.bands() as usize;
        let (cx, cy) = self.centre();
        let r = src.rect();
        let row_len = (out.width + self.width as i64 - 1) as usize * bands;
        let left = (r.x - (out.x - cx)) as usize * bands;
        st.rows8.resize(row_len * r.height as usize, 0);
        for (i, y) in (r.y..r.bottom()).enumerate() {
            let d = &mut st.rows8[i * row_len..(i + 1) * row_len];
            let s = src.row::<u8>(y);
            let (head, rest) = d.split_at_mut(left);
            let (mid, tail) = rest.split_at_mut(s.len());
            mid.copy_from_slice(s);
            for px in head.chunks_exact_mut(bands) {
                px.copy_from_slice(&s[..bands]);
            }
            for px in tail.chunks_exact_mut(bands) {
                px.copy_from_slice(&s[s.len() - bands..]);
            }
        }
        let n = out.width as usize * bands;
        let rows = &st.rows8;
        let row_at = |yy: i64| {
            let yy = (yy.clamp(0, height - 1) - r.y) as usize;
            &rows[yy * row_len..(yy + 1) * row_len]
        };
        let mut srcs: Vec<&[u8]> = Vec::with_capacity(q.len());
        for y in out.y..out.bottom() {
            srcs.clear();
            for &(ty, tx, _) in &self.taps[0] {
                let at = tx as usize * bands;
                srcs.push(&row_at(y - cy + ty as i64)[at..at + n]);
            }
            weighted_sum_u8(self.level, &srcs, q, finish, dst.row_mut::<u8>(y));
        }
    }

    /// The float path, on an input `height` rows high.
    fn run<T: Sample + ConvSample>(
        &self,
        st: &mut ConvState,
        out: Rect,
        height: i64,
        src: &Region,
        dst: &mut Region,
    ) {
        let bands = src.bands() as usize;
        let (cx, cy) = self.centre();
        let r = src.rect();
        let pw = (out.width + self.width as i64 - 1) as usize; // padded pixels per row
        let row_len = pw * bands;
        let left = (r.x - (out.x - cx)) as usize;
        st.rows.resize(row_len * r.height as usize, 0.0);
        for (i, y) in (r.y..r.bottom()).enumerate() {
            let dst_row = &mut st.rows[i * row_len..(i + 1) * row_len];
            load_padded(self.level, src.row::<T>(y), bands, left, dst_row);
        }
        let n = out.width as usize * bands;
        st.sums.resize(n, 0.0);
        st.sums2.resize(n, 0.0);
        let rows = &st.rows;
        let row_at = |yy: i64| {
            let yy = yy.clamp(0, height - 1) - r.y;
            &rows[yy as usize * row_len..(yy as usize + 1) * row_len]
        };
        let mut srcs: Vec<&[f32]> = Vec::new();
        let mut coeffs: Vec<f32> = Vec::new();
        for y in out.y..out.bottom() {
            for (k, taps) in self.taps.iter().enumerate() {
                srcs.clear();
                coeffs.clear();
                for &(ty, tx, c) in taps {
                    let row = row_at(y - cy + ty as i64);
                    let at = tx as usize * bands;
                    srcs.push(&row[at..at + n]);
                    coeffs.push(c);
                }
                let sums = if k == 0 { &mut st.sums } else { &mut st.sums2 };
                if srcs.is_empty() {
                    sums.fill(0.0);
                } else {
                    weighted_sum(self.level, &srcs, &coeffs, sums);
                }
            }
            if self.combine == Combine::AbsSum {
                for (a, b) in st.sums.iter_mut().zip(&st.sums2) {
                    *a = a.abs() + b.abs();
                }
            }
            store_scaled(
                self.level,
                &st.sums,
                self.div,
                self.offset,
                dst.row_mut::<T>(y),
            );
        }
    }
}

impl Operation for Conv {
    type State = ConvState;

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
        let (cx, cy) = self.centre();
        let grown = out.expand(
            cx,
            cy,
            self.width as i64 - 1 - cx,
            self.height as i64 - 1 - cy,
        );
        grown.intersect(&inputs[0].rect())
    }

    fn start(&self) -> Result<ConvState> {
        Ok(ConvState::default())
    }

    fn scratch_bytes(&self, out: Rect, inputs: &[Header]) -> u64 {
        // The input rows, widened by the mask and edge-extended: bytes on
        // the fixed-point path, f32 (and two f32 rows of sums) otherwise.
        let need = self.need(out, 0, inputs);
        let bands = inputs[0].bands as u64;
        let row = (out.width as u64 + self.width as u64 - 1) * bands;
        match self.fixed {
            Some(_) => row * need.height as u64,
            None => 4 * row * need.height as u64 + 8 * out.width as u64 * bands,
        }
    }

    fn generate(&self, st: &mut ConvState, out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let height = inputs.header(0).height as i64;
        let src = inputs.get(0, inputs.need(out, 0))?;
        let mut dst = inputs.alloc(out);
        if let Some((q, finish)) = &self.fixed {
            self.run_u8((q, *finish), st, out, height, &src, &mut dst);
        } else {
            dispatch_format!(src.format(), T => self.run::<T>(st, out, height, &src, &mut dst));
        }
        Ok(dst)
    }
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&CONV, &CONVSEP, &SOBEL];

const MASK_ARGS: &[ArgDesc] = &[
    ArgDesc::required(
        "mask",
        ArgType::Matrix,
        "A libvips matrix file, or rows inline separated by `;`.",
    ),
    ArgDesc::unset(
        "scale",
        ArgType::float(-1e12, 1e12),
        "Divide the sum by this (default: the matrix's own, 1 inline).",
    ),
    ArgDesc::unset(
        "offset",
        ArgType::float(-1e12, 1e12),
        "Add this after dividing (default: the matrix's own, 0 inline).",
    ),
];

fn mask_of(op: &'static str, a: &gigapix_core::desc::Args) -> Result<Matrix> {
    let mut m = Matrix::from_spec(a.text("mask")?).map_err(|e| e.with_operation(op))?;
    if let Some(s) = a.opt_float("scale")? {
        m = m.with_scale(s);
    }
    if let Some(o) = a.opt_float("offset")? {
        m = m.with_offset(o);
    }
    m.validate().map_err(|e| e.with_operation(op))?;
    Ok(m)
}

/// [`conv`] in the catalogue.
pub static CONV: OpDesc = OpDesc::new(
    "conv",
    Category::Convolution,
    "Convolution with a mask (libvips semantics: sum / scale + offset)",
    MASK_ARGS,
    |input, a| Ok(conv(input_of(input)?, &mask_of("conv", a)?)),
)
.doc("For u8 images and integer masks it reproduces libvips 8.18's 8-bit fixed point exactly. Edge pixels are copied outwards; the format is kept, rounded and clamped.")
.example("\"-1 -1 -1; -1 16 -1; -1 -1 -1\" scale=8");

/// [`convsep`] in the catalogue.
pub static CONVSEP: OpDesc = OpDesc::new(
    "convsep",
    Category::Convolution,
    "Separable convolution: a one-row mask horizontally, then vertically",
    MASK_ARGS,
    |input, a| Ok(convsep(input_of(input)?, &mask_of("convsep", a)?)),
)
.example("\"1 2 1\" scale=4");

/// [`sobel`] in the catalogue.
pub static SOBEL: OpDesc = OpDesc::new(
    "sobel",
    Category::Convolution,
    "Sobel edge detection: |Gx| + |Gy|",
    &[],
    |input, _| Ok(sobel(input_of(input)?)),
)
.doc("Keeps the input's format, where libvips 8.18 always writes u8.");
