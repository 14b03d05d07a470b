//! Operations between two images of the same size, pixel by pixel:
//! arithmetic, relational and boolean, and `ifthenelse` with image
//! branches.
//!
//! One node reads both inputs' regions for the output rectangle (no
//! intermediate images) and computes row by row. Inputs are read as `f64`
//! (exact for every format), brought to libvips' common format, computed
//! with libvips' rules (C integer wrapping, `x / 0 = 0`, `x % 0 = -1`,
//! `atan2` in degrees 0..360) and written in the output format.

use gigapix_core::{
    BandFormat, Error, Header, Image, Inputs, Operation, Rect, Region, Result, Sample,
    dispatch_format,
};

/// An operation between two images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a − b`.
    Subtract,
    /// `a · b`.
    Multiply,
    /// `a / b` (0 where `b` is 0, as libvips).
    Divide,
    /// `a % b` (C sign convention for integers, `a − b·floor(a/b)` for
    /// floats, −1 where `b` is 0, as libvips).
    Remainder,
    /// `a` to the power `b`.
    Pow,
    /// `b` to the power `a` (libvips' wop).
    Wop,
    /// `atan2(a, b)` in degrees.
    Atan2,
    /// `a == b` (0/255).
    Equal,
    /// `a != b` (0/255).
    NotEqual,
    /// `a < b` (0/255).
    Less,
    /// `a <= b` (0/255).
    LessEq,
    /// `a > b` (0/255).
    More,
    /// `a >= b` (0/255).
    MoreEq,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise exclusive or.
    Eor,
    /// `a << b`.
    Lshift,
    /// `a >> b`.
    Rshift,
}

impl BinaryOp {
    /// The operation's name in errors.
    pub fn name(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "add",
            Subtract => "subtract",
            Multiply => "multiply",
            Divide => "divide",
            Remainder => "remainder",
            Pow | Wop | Atan2 => "math2",
            Equal | NotEqual | Less | LessEq | More | MoreEq => "relational",
            And | Or | Eor | Lshift | Rshift => "boolean",
        }
    }

    /// The output format for inputs already in the common format `f`
    /// (libvips' `bformat` tables).
    pub fn out_format(self, f: BandFormat) -> BandFormat {
        use BandFormat::*;
        use BinaryOp::*;
        match self {
            Add | Multiply => match f {
                U8 => U16,
                I8 => I16,
                U16 => U32,
                I16 => I32,
                other => other,
            },
            Subtract => match f {
                U8 | I8 => I16,
                U16 | I16 | U32 | I32 => I32,
                other => other,
            },
            Divide | Pow | Wop | Atan2 => match f {
                F64 => F64,
                _ => F32,
            },
            Remainder => f,
            Equal | NotEqual | Less | LessEq | More | MoreEq => U8,
            And | Or | Eor | Lshift | Rshift => match f {
                F32 | F64 => I32,
                other => other,
            },
        }
    }
}

fn invalid(name: &'static str, message: String, inputs: Vec<Image>) -> Image {
    Image::from_error(name, Error::invalid(name, message), inputs)
}

/// Checks sizes and bands of images combined pixel by pixel; returns the
/// output band count.
fn alike(name: &'static str, headers: &[Header]) -> std::result::Result<u32, String> {
    let first = headers[0];
    let mut bands = 1;
    for h in headers {
        if h.width != first.width || h.height != first.height {
            return Err(format!(
                "images differ in size: {}x{} and {}x{}",
                first.width, first.height, h.width, h.height
            ));
        }
        if h.bands != 1 {
            if bands != 1 && bands != h.bands {
                return Err(format!(
                    "{name}: band counts {bands} and {} differ and neither is 1",
                    h.bands
                ));
            }
            bands = h.bands;
        }
    }
    Ok(bands)
}

/// Wraps an integer result to the output format as C's conversion does
/// (two's complement truncation); returns the value as `f64`.
#[inline(always)]
fn wrap(v: i64, f: BandFormat) -> f64 {
    match f {
        BandFormat::U8 => v as u8 as f64,
        BandFormat::I8 => v as i8 as f64,
        BandFormat::U16 => v as u16 as f64,
        BandFormat::I16 => v as i16 as f64,
        BandFormat::U32 => v as u32 as f64,
        BandFormat::I32 => v as i32 as f64,
        _ => v as f64,
    }
}

/// Brings a sample to the common format `f`: exact for integer targets
/// (libvips' casts between them are value-preserving for the common
/// format), rounded to `f32` for an `f32` target.
#[inline(always)]
fn to_common(v: f64, f: BandFormat) -> f64 {
    match f {
        BandFormat::F32 => v as f32 as f64,
        _ => v,
    }
}

/// One element of `op` on values already in the common format `cf`,
/// producing a value exactly representable in `of`.
#[inline(always)]
fn apply(op: BinaryOp, x: f64, y: f64, cf: BandFormat, of: BandFormat) -> f64 {
    use BinaryOp::*;
    let int = cf.is_integer();
    let fl32 = |v: f64| {
        if of == BandFormat::F32 {
            v as f32 as f64
        } else {
            v
        }
    };
    match op {
        Add if int => wrap((x as i64).wrapping_add(y as i64), of),
        Subtract if int => wrap((x as i64).wrapping_sub(y as i64), of),
        Multiply if int => wrap((x as i64).wrapping_mul(y as i64), of),
        Add => fl32(x + y),
        Subtract => fl32(x - y),
        Multiply => fl32(x * y),
        Divide => {
            if y == 0.0 {
                0.0
            } else {
                fl32(x / y)
            }
        }
        Remainder if int => {
            let (a, b) = (x as i64, y as i64);
            if b == 0 {
                wrap(-1, of)
            } else {
                wrap(a.wrapping_rem(b), of)
            }
        }
        Remainder => {
            if y == 0.0 {
                -1.0
            } else {
                fl32(x - y * (x / y).floor())
            }
        }
        Pow => fl32(pow(x, y)),
        Wop => fl32(pow(y, x)),
        Atan2 => {
            let mut deg = x.atan2(y).to_degrees();
            if deg < 0.0 {
                deg += 360.0;
            }
            fl32(deg)
        }
        Equal => mask(x == y),
        NotEqual => mask(x != y),
        Less => mask(x < y),
        LessEq => mask(x <= y),
        More => mask(x > y),
        MoreEq => mask(x >= y),
        And | Or | Eor | Lshift | Rshift => {
            // Floats are truncated to int first, as libvips' boolean does.
            let (a, b) = if int {
                (x as i64, y as i64)
            } else {
                (x as i32 as i64, y as i32 as i64)
            };
            let v = match op {
                And => a & b,
                Or => a | b,
                Eor => a ^ b,
                Lshift if of == BandFormat::U32 => (a as u32).wrapping_shl(b as u32) as i64,
                Rshift if of == BandFormat::U32 => (a as u32).wrapping_shr(b as u32) as i64,
                // Narrower types are promoted to C int.
                Lshift => (a as i32).wrapping_shl(b as u32) as i64,
                _ => (a as i32).wrapping_shr(b as u32) as i64,
            };
            wrap(v, of)
        }
    }
}

#[inline(always)]
fn mask(b: bool) -> f64 {
    if b { 255.0 } else { 0.0 }
}

/// libvips' pow: 0 where the base is 0 and the exponent negative.
#[inline(always)]
/// libvips' `POW`: 0 to any power is 0 (0⁰ included).
fn pow(x: f64, y: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x.powf(y) }
}

/// Reads row `y` of `r` as `f64`, broadcast to `bands` per pixel.
fn read_row(r: &Region, y: i64, bands: usize, out: &mut Vec<f64>) {
    out.clear();
    let rb = r.bands() as usize;
    dispatch_format!(r.format(), T => {
        let row: &[T] = r.row::<T>(y);
        if rb == bands {
            out.extend(row.iter().map(|v| v.to_f64()));
        } else {
            for v in row {
                let v = v.to_f64();
                out.extend(std::iter::repeat_n(v, bands));
            }
        }
    })
}

fn write_row(r: &mut Region, y: i64, vals: &[f64]) {
    dispatch_format!(r.format(), T => {
        let row: &mut [T] = r.row_mut::<T>(y);
        for (o, &v) in row.iter_mut().zip(vals) {
            *o = T::from_f64(v);
        }
    })
}

struct Binary {
    op: BinaryOp,
}

impl Operation for Binary {
    type State = ();

    fn name(&self) -> &'static str {
        self.op.name()
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let name = self.op.name();
        let bands = alike(name, inputs).map_err(|m| Error::invalid(name, m))?;
        let cf = BandFormat::common(inputs[0].format, inputs[1].format);
        let base = if inputs[0].bands == bands {
            inputs[0]
        } else {
            inputs[1]
        };
        Ok(base.with_bands(bands).with_format(self.op.out_format(cf)))
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let a = inputs.get(0, out)?;
        let b = inputs.get(1, out)?;
        let mut o = inputs.alloc(out);
        let bands = o.bands() as usize;
        let of = o.format();
        let cf = BandFormat::common(a.format(), b.format());
        if a.bands() == b.bands() && a.format() == b.format() && kernel(self.op, &a, &b, &mut o) {
            return Ok(o);
        }
        let (mut ra, mut rb) = (Vec::new(), Vec::new());
        for y in out.y..out.y + out.height {
            read_row(&a, y, bands, &mut ra);
            read_row(&b, y, bands, &mut rb);
            for (x, &v) in ra.iter_mut().zip(rb.iter()) {
                *x = apply(self.op, to_common(*x, cf), to_common(v, cf), cf, of);
            }
            write_row(&mut o, y, &ra);
        }
        Ok(o)
    }
}

/// The SIMD kernels of `gigapix_simd::arith` for the common cases (same
/// format and bands: u8, u16 and f32 add, subtract and multiply; u8 and f32
/// comparisons), bit-identical to the f64 path (f32 sums and products of
/// f32 values rounded once from f64 are correctly rounded). `false` if
/// there is none for this case.
fn kernel(op: BinaryOp, a: &Region, b: &Region, o: &mut Region) -> bool {
    use BinaryOp::*;
    use gigapix_simd::arith as k;
    let level = gigapix_simd::level();
    let cmp = match op {
        Equal => Some(k::Cmp::Equal),
        NotEqual => Some(k::Cmp::NotEqual),
        Less => Some(k::Cmp::Less),
        LessEq => Some(k::Cmp::LessEq),
        More => Some(k::Cmp::More),
        MoreEq => Some(k::Cmp::MoreEq),
        _ => None,
    };
    let r = o.rect();
    macro_rules! rows {
        ($in:ty, $out:ty, $f:expr) => {{
            for y in r.y..r.bottom() {
                $f(a.row::<$in>(y), b.row::<$in>(y), o.row_mut::<$out>(y));
            }
            true
        }};
    }
    match (a.format(), op, cmp) {
        (BandFormat::U8, Add, _) => rows!(u8, u16, |x, y, z| k::add_u8(level, x, y, z)),
        (BandFormat::U8, Subtract, _) => rows!(u8, i16, |x, y, z| k::sub_u8(level, x, y, z)),
        (BandFormat::U8, Multiply, _) => rows!(u8, u16, |x, y, z| k::mul_u8(level, x, y, z)),
        (BandFormat::U16, Add, _) => rows!(u16, u32, |x, y, z| k::add_u16(level, x, y, z)),
        (BandFormat::U16, Subtract, _) => rows!(u16, i32, |x, y, z| k::sub_u16(level, x, y, z)),
        (BandFormat::U16, Multiply, _) => rows!(u16, u32, |x, y, z| k::mul_u16(level, x, y, z)),
        (BandFormat::F32, Add, _) => rows!(f32, f32, |x, y, z| k::add_f32(level, x, y, z)),
        (BandFormat::F32, Subtract, _) => rows!(f32, f32, |x, y, z| k::sub_f32(level, x, y, z)),
        (BandFormat::F32, Multiply, _) => rows!(f32, f32, |x, y, z| k::mul_f32(level, x, y, z)),
        (BandFormat::U8, _, Some(c)) => rows!(u8, u8, |x, y, z| k::cmp_u8(level, c, x, y, z)),
        (BandFormat::F32, _, Some(c)) => rows!(f32, u8, |x, y, z| k::cmp_f32(level, c, x, y, z)),
        _ => false,
    }
}

/// `op` between `a` and `b`, pixel by pixel, with libvips' format and band
/// rules.
pub fn binary(op: BinaryOp, a: &Image, b: &Image) -> Image {
    let inputs = vec![a.clone(), b.clone()];
    if let Err(m) = alike(op.name(), &[*a.header(), *b.header()]) {
        return invalid(op.name(), m, inputs);
    }
    Image::new(Binary { op }, inputs)
}

struct IfThenElse {
    blend: bool,
}

impl Operation for IfThenElse {
    type State = ();

    fn name(&self) -> &'static str {
        "ifthenelse"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let bands = alike("ifthenelse", inputs).map_err(|m| Error::invalid("ifthenelse", m))?;
        let cf = BandFormat::common(inputs[1].format, inputs[2].format);
        let base = if inputs[1].bands == bands {
            inputs[1]
        } else {
            inputs[2]
        };
        Ok(base.with_bands(bands).with_format(cf))
    }

    fn metadata(
        &self,
        inputs: &[std::sync::Arc<gigapix_core::Metadata>],
    ) -> std::sync::Arc<gigapix_core::Metadata> {
        inputs.get(1).cloned().unwrap_or_default()
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let c = inputs.get(0, out)?;
        let a = inputs.get(1, out)?;
        let b = inputs.get(2, out)?;
        let mut o = inputs.alloc(out);
        let bands = o.bands() as usize;
        let cf = o.format();
        // The common case: u8 condition and branches of the output's bands,
        // no blend: the AVX2 select kernel.
        if !self.blend
            && [c.format(), a.format(), b.format(), cf]
                .iter()
                .all(|f| *f == BandFormat::U8)
            && [c.bands(), a.bands(), b.bands()]
                .iter()
                .all(|&n| n as usize == bands)
        {
            let level = gigapix_simd::level();
            for y in out.y..out.bottom() {
                gigapix_simd::arith::select_u8(
                    level,
                    c.row::<u8>(y),
                    a.row::<u8>(y),
                    b.row::<u8>(y),
                    o.row_mut::<u8>(y),
                );
            }
            return Ok(o);
        }
        let (mut rc, mut ra, mut rb) = (Vec::new(), Vec::new(), Vec::new());
        for y in out.y..out.y + out.height {
            read_row(&c, y, bands, &mut rc);
            read_row(&a, y, bands, &mut ra);
            read_row(&b, y, bands, &mut rb);
            for ((c, x), &v) in rc.iter_mut().zip(ra.iter()).zip(rb.iter()) {
                // libvips casts a non-u8 condition to u8 (truncating,
                // clamping) first.
                let cond = u8_cast(*c);
                let (x, v) = (to_common(*x, cf), to_common(v, cf));
                *c = if self.blend {
                    let r = (cond * x + (255.0 - cond) * v) / 255.0;
                    if cf == BandFormat::F32 {
                        r as f32 as f64
                    } else {
                        r
                    }
                } else if cond != 0.0 {
                    x
                } else {
                    v
                };
            }
            write_row(&mut o, y, &rc);
        }
        Ok(o)
    }
}

/// libvips' cast of a condition sample to u8: truncation toward zero,
/// clamped to 0..255 (NaN 0).
#[inline(always)]
fn u8_cast(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.trunc().clamp(0.0, 255.0)
    }
}

/// Where `cond` is non-zero, `in1`, else `in2` (per band; `blend` mixes by
/// `cond / 255`), with libvips' format and band rules. As libvips, a
/// condition not in u8 is first cast to u8 (truncated and clamped).
pub fn ifthenelse(cond: &Image, in1: &Image, in2: &Image, blend: bool) -> Image {
    let inputs = vec![cond.clone(), in1.clone(), in2.clone()];
    if let Err(m) = alike(
        "ifthenelse",
        &[*cond.header(), *in1.header(), *in2.header()],
    ) {
        return invalid("ifthenelse", m, inputs);
    }
    Image::new(IfThenElse { blend }, inputs)
}
