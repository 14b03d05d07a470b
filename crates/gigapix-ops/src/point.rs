//! Point operations: each output pixel depends only on the same pixel of the
//! input.
//!
//! Chains of point operations are fused: [`linear`], [`invert`] and [`cast`]
//! build a [`PointChain`] node, and a builder applied to a `PointChain`
//! builds a new chain from the inner chain's input with one more
//! [`Stage`], so `cast(&invert(&linear(&x, ..)), ..)` is one node computed
//! in one pass. Each stage converts to its output format exactly as the
//! operation alone would ([`Sample::from_f64`]: integers round half away
//! from zero and clamp), so fused and unfused results are bit-identical.
//!
//! For `u8` and `u16` inputs a chain is computed once per node into a
//! lookup table from every input value to the final output value (one table
//! per band when a stage has per-band coefficients), and rows are mapped
//! through it; `u8` to `u8` with one table for every band runs the vector
//! kernel [`gigapix_simd::lut::map_u8`]. For `u32` and `f32` inputs the stages run row by row on an
//! `f64` scratch row.

use std::sync::OnceLock;

use crate::arith::{ArithOp, BoolOp, Math2Op, MathOp, RelOp, RoundOp};
use crate::catalogue::prelude::*;

mod num;
pub(crate) use num::branch_const;

use gigapix_core::{
    BandFormat, Error, Header, Image, Inputs, Operation, Rect, Region, Result, Sample,
    dispatch_format,
};

/// Options of [`linear_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinearOptions {
    /// The output band format; `None` (the default) keeps the input's.
    pub format: Option<BandFormat>,
}

impl LinearOptions {
    /// Sets the output band format.
    pub fn format(mut self, format: BandFormat) -> LinearOptions {
        self.format = Some(format);
        self
    }
}

/// `a·x + b` for every band element `x`, in `f64`, converted back to the
/// input's format ([`Sample::from_f64`]: rounded half away from zero and
/// clamped for integer formats).
///
/// `a` and `b` each have one element (used for every band) or one per band;
/// any other length makes the image invalid.
///
/// ```
/// use gigapix_core::{Ctx, Rect};
/// let image = gigapix_ops::linear(&gigapix_ops::xyz(8, 8), &[2.0], &[0.5, -1.0]);
/// let region = Ctx::standalone().region(&image, Rect::new(3, 5, 1, 1))?;
/// assert_eq!(region.row::<u32>(5), &[7, 9]); // 6.5 rounds to 7; 10 - 1
/// # Ok::<(), gigapix_core::Error>(())
/// ```
pub fn linear(img: &Image, a: &[f64], b: &[f64]) -> Image {
    linear_with(img, a, b, &LinearOptions::default())
}

/// [`linear`] with options, such as the output format.
///
/// ```
/// use gigapix_core::BandFormat;
/// use gigapix_ops::{LinearOptions, linear_with, noise};
/// let image = linear_with(&noise(4, 4, 1, 0), &[1.0 / 255.0], &[0.0], &LinearOptions::default().format(BandFormat::F32));
/// assert_eq!(image.format(), BandFormat::F32);
/// ```
pub fn linear_with(img: &Image, a: &[f64], b: &[f64], options: &LinearOptions) -> Image {
    push_stage(
        img,
        Stage::Linear {
            a: a.to_vec(),
            b: b.to_vec(),
            format: options.format,
        },
    )
}

/// The photographic negative: `255 − x` for `u8`, `65535 − x` for `u16`,
/// `u32::MAX − x` for `u32`, and `−x` for `f32`.
pub fn invert(img: &Image) -> Image {
    push_stage(img, Stage::Invert)
}

/// The image converted to `format`: each value `x` becomes
/// `from_f64(x.to_f64())`, so integer targets round half away from zero and
/// clamp. A cast to the image's own format returns the image itself.
pub fn cast(img: &Image, format: BandFormat) -> Image {
    if img.format() == format {
        return img.clone();
    }
    push_stage(img, Stage::Cast(format))
}

/// Appends `stage` to `img`: fused into `img`'s chain when `img` is a valid
/// [`PointChain`], else as a new one-stage chain.
pub(crate) fn push_stage(img: &Image, stage: Stage) -> Image {
    if img.check().is_ok()
        && let Some(chain) = img.operation().as_any().downcast_ref::<PointChain>()
    {
        let input = &img.inputs()[0];
        let mut stages = chain.stages.clone();
        stages.push(stage);
        return Image::new(PointChain::new(stages, input.header()), vec![input.clone()]);
    }
    unfused(img, stage)
}

/// `stage` as a node of its own on `img`, never fused with `img` (for
/// testing fusion).
#[doc(hidden)]
pub fn unfused(img: &Image, stage: Stage) -> Image {
    Image::new(
        PointChain::new(vec![stage], img.header()),
        vec![img.clone()],
    )
}

/// One step of a [`PointChain`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Stage {
    /// `a·x + b` per band (see [`linear`]).
    Linear {
        /// Multipliers: one for all bands, or one per band.
        a: Vec<f64>,
        /// Offsets: one for all bands, or one per band.
        b: Vec<f64>,
        /// Output format; `None` keeps the stage's input format.
        format: Option<BandFormat>,
    },
    /// See [`invert`].
    Invert,
    /// See [`cast`].
    Cast(BandFormat),
    /// `add`, `subtract`, `multiply` or `divide` with constants: libvips'
    /// `linear` (`x + c` is `linear(1, c)`, `x / c` is `linear(1 / c, 0)`),
    /// whose result is `f32` (`f64` for `f64` input), computed in `f32` when
    /// every band has the same constant, as libvips does.
    Arith {
        /// Which operation.
        op: ArithOp,
        /// One constant for every band, or one per band.
        c: Vec<f64>,
    },
    /// `remainder` with constants (truncated to integers, as libvips).
    Remainder(Vec<f64>),
    /// A comparison with constants: `u8` 0/255.
    Relational {
        /// Which comparison.
        op: RelOp,
        /// One constant for every band, or one per band.
        c: Vec<f64>,
    },
    /// A bitwise operation with constants (truncated to integers).
    Boolean {
        /// Which operation.
        op: BoolOp,
        /// One constant for every band, or one per band.
        c: Vec<f64>,
    },
    /// `pow`, `wop` or `atan2` with constants.
    Math2 {
        /// Which function.
        op: Math2Op,
        /// One constant for every band, or one per band.
        c: Vec<f64>,
    },
    /// Absolute value, format kept.
    Abs,
    /// −1, 0 or 1 as `i8`.
    Sign,
    /// Rounding of float formats (integer formats are kept as they are).
    Round(RoundOp),
    /// A function of one value, in degrees where angles are involved.
    Math(MathOp),
    /// Bitwise not: `x ^ -1` (libvips' `eorimage_const(-1)`).
    Not,
    /// Values clamped to `min..=max`, format kept.
    Clamp {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
    },
    /// `ifthenelse` on this condition with constant branches.
    IfThenElse {
        /// Values where the condition is true.
        in1: Vec<f64>,
        /// Values where the condition is false.
        in2: Vec<f64>,
        /// Blend by `condition / 255` instead of selecting.
        blend: bool,
    },
}

impl Stage {
    /// The name of the operation this stage comes from.
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Linear { .. } => "linear",
            Stage::Invert => "invert",
            Stage::Cast(_) => "cast",
            Stage::Arith { op, .. } => op.name(),
            Stage::Remainder(_) => "remainder",
            Stage::Relational { op, .. } => op.name(),
            Stage::Boolean { op, .. } => op.name(),
            Stage::Math2 { .. } => "math2",
            Stage::Abs => "abs",
            Stage::Sign => "sign",
            Stage::Round(r) => r.name(),
            Stage::Math(_) => "math",
            Stage::Not => "not",
            Stage::Clamp { .. } => "clamp",
            Stage::IfThenElse { .. } => "ifthenelse",
        }
    }

    /// The stage's output format for input format `input`.
    pub fn output_format(&self, input: BandFormat) -> BandFormat {
        let float = if input == BandFormat::F64 {
            BandFormat::F64
        } else {
            BandFormat::F32
        };
        match self {
            Stage::Linear { format, .. } => format.unwrap_or(input),
            Stage::Invert => input,
            Stage::Cast(f) => *f,
            Stage::Arith { .. } | Stage::Math2 { .. } | Stage::Math(_) => float,
            Stage::Relational { .. } => BandFormat::U8,
            Stage::Boolean { .. } | Stage::Not if input.is_float() => BandFormat::I32,
            Stage::Sign => BandFormat::I8,
            _ => input,
        }
    }

    /// The constant vectors of the stage, with their names.
    fn constants(&self) -> Vec<(&'static str, &[f64])> {
        match self {
            Stage::Linear { a, b, .. } => vec![("a", a), ("b", b)],
            Stage::Arith { c, .. }
            | Stage::Relational { c, .. }
            | Stage::Boolean { c, .. }
            | Stage::Math2 { c, .. }
            | Stage::Remainder(c) => vec![("c", c)],
            Stage::IfThenElse { in1, in2, .. } => vec![("in1", in1), ("in2", in2)],
            _ => vec![],
        }
    }

    /// `true` if some constant differs between bands.
    fn per_band(&self) -> bool {
        self.constants().iter().any(|(_, v)| v.len() > 1)
    }

    fn check(&self, bands: u32) -> Result<()> {
        for (name, v) in self.constants() {
            if v.is_empty() || (v.len() != 1 && v.len() != bands as usize) {
                return Err(Error::invalid(
                    self.name(),
                    format!(
                        "`{name}` has {} values; it needs 1 or one per band ({bands})",
                        v.len()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Applies the stage to `buf`, `bands` interleaved values per pixel, every
    /// value representable in `input`; afterwards every value is
    /// representable in the stage's output format.
    fn apply(&self, input: BandFormat, bands: usize, buf: &mut [f64]) {
        match self {
            Stage::Linear { a, b, format } => {
                dispatch_format!(format.unwrap_or(input), T => linear_kernel::<T>(buf, bands, a, b))
            }
            Stage::Invert => {
                // libvips: max − x for unsigned formats, −x for signed and
                // float ones (clamped: −(−128) is 127 in i8).
                if input.is_signed() {
                    dispatch_format!(input, T => buf.iter_mut().for_each(|v| *v = T::from_f64(-*v).to_f64()));
                } else {
                    let max = input.max_value();
                    buf.iter_mut().for_each(|v| *v = max - *v);
                }
            }
            Stage::Cast(format) => {
                dispatch_format!(*format, T => buf.iter_mut().for_each(|v| *v = T::from_f64(*v).to_f64()))
            }
            _ => num::apply(self, input, bands, buf),
        }
    }
}

/// `a·x + b` converted to `T` (and back to `f64`, exactly).
fn linear_kernel<T: Sample>(buf: &mut [f64], bands: usize, a: &[f64], b: &[f64]) {
    if let ([a], [b]) = (a, b) {
        for v in buf.iter_mut() {
            *v = T::from_f64(a * *v + b).to_f64();
        }
        return;
    }
    let at = |k: usize| if a.len() == 1 { a[0] } else { a[k] };
    let bt = |k: usize| if b.len() == 1 { b[0] } else { b[k] };
    for px in buf.chunks_exact_mut(bands) {
        for (k, v) in px.iter_mut().enumerate() {
            *v = T::from_f64(at(k) * *v + bt(k)).to_f64();
        }
    }
}

/// Runs every stage over `buf` (`bands` interleaved values per pixel, each
/// representable in format `input`); afterwards every value is
/// representable in the last stage's output format. For nodes that run
/// fused constant stages after a computation of their own (the two-image
/// node can), bit-identical to a [`PointChain`] of the same stages.
pub fn run_stages(stages: &[Stage], mut input: BandFormat, bands: usize, buf: &mut [f64]) {
    for stage in stages {
        stage.apply(input, bands, buf);
        input = stage.output_format(input);
    }
}

/// A lookup table from every value of a `u8` or `u16` input to the output
/// value, band-major: entry `band · n + value` where `n` is 256 or 65536.
#[derive(Debug)]
enum Table {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    F32(Vec<f32>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    F64(Vec<f64>),
}

/// Typed access to a [`Table`].
trait TableOf: Sample {
    fn wrap(values: Vec<Self>) -> Table;
    fn of(table: &Table) -> &[Self];
}

macro_rules! table_of {
    ($t:ty, $v:ident) => {
        impl TableOf for $t {
            fn wrap(values: Vec<Self>) -> Table {
                Table::$v(values)
            }
            fn of(table: &Table) -> &[Self] {
                match table {
                    Table::$v(v) => v,
                    _ => unreachable!("table built for the chain's output format"),
                }
            }
        }
    };
}
table_of!(u8, U8);
table_of!(u16, U16);
table_of!(u32, U32);
table_of!(f32, F32);
table_of!(i8, I8);
table_of!(i16, I16);
table_of!(i32, I32);
table_of!(f64, F64);

#[derive(Debug)]
struct Lut {
    table: Table,
    /// Entries per band: 256 or 65536.
    len: usize,
    /// `true` if one table serves every band.
    shared: bool,
    /// The SIMD level of the `u8` kernel.
    level: gigapix_simd::Level,
}

/// A fused chain of point operations: one node, one pass. Built by
/// [`linear`], [`linear_with`], [`invert`] and [`cast`]; recognise it with
/// `image.operation().as_any().downcast_ref::<PointChain>()`.
///
/// Its [`name`](Operation::name) is the name of its last stage.
#[derive(Debug)]
pub struct PointChain {
    stages: Vec<Stage>,
    input: Header,
    output: BandFormat,
    lut: OnceLock<Option<Lut>>,
}

impl PointChain {
    fn new(stages: Vec<Stage>, input: &Header) -> PointChain {
        let output = stages.iter().fold(input.format, |f, s| s.output_format(f));
        PointChain {
            stages,
            input: *input,
            output,
            lut: OnceLock::new(),
        }
    }

    /// The stages, first applied first.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// The lookup table for `u8` and `u16` inputs, `None` for the others.
    fn build_lut(&self) -> Option<Lut> {
        let len = match self.input.format {
            BandFormat::U8 => 256,
            BandFormat::U16 => 65536,
            _ => return None,
        };
        let per_band = self.stages.iter().any(Stage::per_band);
        let bands = if per_band {
            self.input.bands as usize
        } else {
            1
        };
        // Pixel v holds value v in every band.
        let mut buf = vec![0f64; len * bands];
        for (v, px) in buf.chunks_exact_mut(bands).enumerate() {
            px.fill(v as f64);
        }
        run_stages(&self.stages, self.input.format, bands, &mut buf);
        let table = dispatch_format!(self.output, T => {
            let mut t = Vec::with_capacity(len * bands);
            for band in 0..bands {
                t.extend(buf.iter().skip(band).step_by(bands).map(|&v| T::from_f64(v)));
            }
            T::wrap(t)
        });
        Some(Lut {
            table,
            len,
            shared: !per_band,
            level: gigapix_simd::level(),
        })
    }
}

impl Operation for PointChain {
    /// Scratch row for the `f64` path.
    type State = Vec<f64>;

    fn name(&self) -> &'static str {
        self.stages.last().map_or("point", Stage::name)
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        let mut format = h.format;
        for stage in &self.stages {
            stage.check(h.bands)?;
            format = stage.output_format(format);
        }
        Ok(h.with_format(format))
    }

    fn start(&self) -> Result<Vec<f64>> {
        Ok(Vec::new())
    }

    fn generate(
        &self,
        scratch: &mut Vec<f64>,
        out: Rect,
        inputs: &mut Inputs<'_>,
    ) -> Result<Region> {
        let src = inputs.get(0, out)?;
        let mut dst = inputs.alloc(out);
        let bands = self.input.bands as usize;
        match self.lut.get_or_init(|| self.build_lut()) {
            Some(lut) => dispatch_format!(self.output, O => match self.input.format {
                BandFormat::U8 => map_rows::<u8, O>(lut, bands, &src, &mut dst),
                BandFormat::U16 => map_rows::<u16, O>(lut, bands, &src, &mut dst),
                _ => unreachable!("tables are built for u8 and u16 inputs"),
            }),
            None => {
                scratch.resize(out.width as usize * bands, 0.0);
                for y in out.y..out.bottom() {
                    dispatch_format!(self.input.format, I => {
                        for (d, s) in scratch.iter_mut().zip(src.row::<I>(y)) {
                            *d = s.to_f64();
                        }
                    });
                    run_stages(&self.stages, self.input.format, bands, scratch);
                    dispatch_format!(self.output, O => {
                        for (d, s) in dst.row_mut::<O>(y).iter_mut().zip(scratch.iter()) {
                            *d = O::from_f64(*s);
                        }
                    });
                }
            }
        }
        Ok(dst)
    }
}

/// Maps every row of `src` through `lut` into `dst`.
fn map_rows<I: Sample + Into<usize>, O: TableOf>(
    lut: &Lut,
    bands: usize,
    src: &Region,
    dst: &mut Region,
) {
    let table = O::of(&lut.table);
    let rect = src.rect();
    if let (true, Table::U8(t), BandFormat::U8) = (lut.shared, &lut.table, I::FORMAT) {
        // u8 to u8 through one table: the vector kernel.
        let t: &[u8; 256] = t[..256].try_into().expect("a u8 table has 256 entries");
        for y in rect.y..rect.bottom() {
            gigapix_simd::lut::map_u8(lut.level, t, src.row_bytes(y), dst.row_bytes_mut(y));
        }
        return;
    }
    if lut.shared {
        let table = &table[..lut.len];
        for y in rect.y..rect.bottom() {
            for (d, s) in dst.row_mut::<O>(y).iter_mut().zip(src.row::<I>(y)) {
                *d = table[(*s).into()];
            }
        }
    } else {
        let tables: Vec<&[O]> = table.chunks_exact(lut.len).collect();
        for y in rect.y..rect.bottom() {
            let (d, s) = (dst.row_mut::<O>(y), src.row::<I>(y));
            for (dp, sp) in d.chunks_exact_mut(bands).zip(s.chunks_exact(bands)) {
                for ((d, s), t) in dp.iter_mut().zip(sp).zip(&tables) {
                    *d = t[(*s).into()];
                }
            }
        }
    }
}

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&LINEAR, &INVERT, &CAST];

/// [`linear`] in the catalogue.
pub static LINEAR: OpDesc = OpDesc::new(
    "linear",
    Category::Arithmetic,
    "a·x + b per band, keeping the format unless told",
    &[
        ArgDesc::required("a", ArgType::Numbers, "Multipliers: one for every band, or one per band."),
        ArgDesc::required("b", ArgType::Numbers, "Offsets: one for every band, or one per band."),
        ArgDesc::unset("format", ArgType::Format, "Output band format (default: the input's)."),
    ],
    |input, a| {
        let mut o = LinearOptions::default();
        if let Some(f) = a.opt_format("format")? {
            o = o.format(f);
        }
        Ok(linear_with(input_of(input)?, &a.numbers("a")?, &a.numbers("b")?, &o))
    },
)
.doc("Computed in f64 and converted back to the output format (integers round half away from zero and clamp). Unlike libvips' `linear`, whose result is float, the format is kept unless `format` says otherwise; the arithmetic operations with constants (`add 10`, `multiply 1.2`) follow libvips and give floats. Chains of point operations fuse into one pass through a lookup table for 8- and 16-bit images.")
.example("1.1 5");

/// [`invert`] in the catalogue.
pub static INVERT: OpDesc = OpDesc::new(
    "invert",
    Category::Arithmetic,
    "Photographic negative: max − x for unsigned formats, −x for signed and float ones",
    &[],
    |input, _| Ok(invert(input_of(input)?)),
);

/// [`cast`] in the catalogue.
pub static CAST: OpDesc = OpDesc::new(
    "cast",
    Category::Conversion,
    "Converts to another band format, rounding and clamping",
    &[ArgDesc::required("format", ArgType::Format, "The new band format.")],
    |input, a| Ok(cast(input_of(input)?, a.format("format")?)),
)
.doc("Values are not rescaled (see `cast_scaled` for 8 ↔ 16 bit): integers round half away from zero and clamp to the new range.")
.example("u16");
