//! The arithmetic of the constant and unary point stages, on `f64` values
//! that each hold a sample of a known format, reproducing what libvips'
//! C loops compute (C's integer promotions, truncating conversions,
//! wrapping stores, `f32` arithmetic where libvips uses `float`).

use gigapix_core::BandFormat;

use super::Stage;
use crate::arith::{ArithOp, BoolOp, Math2Op, MathOp, RelOp, RoundOp};

/// `v` stored into an integer format as C stores a wider integer: two's
/// complement wrap-around. Floats convert.
pub(crate) fn wrap(f: BandFormat, v: i64) -> f64 {
    match f {
        BandFormat::U8 => v as u8 as f64,
        BandFormat::I8 => v as i8 as f64,
        BandFormat::U16 => v as u16 as f64,
        BandFormat::I16 => v as i16 as f64,
        BandFormat::U32 => v as u32 as f64,
        BandFormat::I32 => v as i32 as f64,
        BandFormat::F32 => v as f32 as f64,
        BandFormat::F64 => v as f64,
    }
}

/// A double stored into format `f` as C does after a clip: integers
/// truncate toward zero (saturating here where C is undefined), floats
/// round to the format.
pub(crate) fn store(f: BandFormat, v: f64) -> f64 {
    match f {
        BandFormat::F32 => v as f32 as f64,
        BandFormat::F64 => v,
        _ if v.is_nan() => 0.0,
        _ => v.trunc().clamp(f.min_value(), f.max_value()) + 0.0,
    }
}

/// libvips' `vips_cast` from a double to `f`: clip to the range, then
/// truncate (NaN gives 0).
pub(crate) fn vips_cast(f: BandFormat, v: f64) -> f64 {
    store(f, v)
}

/// C's `(int) v` on x86-64: truncation, `i32::MIN` when out of range or NaN.
fn c_int(v: f64) -> i32 {
    if v.is_nan() || v >= 2147483648.0 || v <= -2147483649.0 {
        i32::MIN
    } else {
        v as i32
    }
}

/// The constant of band `k`.
#[inline(always)]
fn at(c: &[f64], k: usize) -> f64 {
    if c.len() == 1 { c[0] } else { c[k] }
}

/// Applies `f(value, constant of its band)` to every value.
fn per_band(buf: &mut [f64], bands: usize, c: &[f64], f: impl Fn(f64, f64) -> f64) {
    if let [c] = c {
        for v in buf.iter_mut() {
            *v = f(*v, *c);
        }
        return;
    }
    for px in buf.chunks_exact_mut(bands) {
        for (k, v) in px.iter_mut().enumerate() {
            *v = f(*v, at(c, k));
        }
    }
}

/// libvips' `linear(a, b)` with its float output: single constants in
/// `f32` arithmetic, per-band ones in `f64` on the `f32` value.
fn linear_float(input: BandFormat, bands: usize, buf: &mut [f64], a: &[f64], b: &[f64]) {
    let single = a.iter().all(|&v| v == a[0]) && b.iter().all(|&v| v == b[0]);
    if input == BandFormat::F64 {
        per_band_ab(buf, bands, a, b, |x, a, b| a * x + b);
    } else if single {
        let (a, b) = (a[0] as f32, b[0] as f32);
        for v in buf.iter_mut() {
            *v = (a * (*v as f32) + b) as f64;
        }
    } else {
        per_band_ab(buf, bands, a, b, |x, a, b| {
            (a * (x as f32 as f64) + b) as f32 as f64
        });
    }
}

fn per_band_ab(
    buf: &mut [f64],
    bands: usize,
    a: &[f64],
    b: &[f64],
    f: impl Fn(f64, f64, f64) -> f64,
) {
    for px in buf.chunks_exact_mut(bands) {
        for (k, v) in px.iter_mut().enumerate() {
            *v = f(*v, at(a, k), at(b, k));
        }
    }
}

/// libvips' `POW` (with its special cases for 0, −1 and 0.5).
pub(crate) fn vips_pow(left: f64, right: f64) -> f64 {
    if left == 0.0 {
        0.0
    } else if right == -1.0 {
        1.0 / left
    } else if right == 0.5 {
        left.sqrt()
    } else {
        left.powf(right)
    }
}

/// libvips' `ATAN2`: degrees in `0..360`.
pub(crate) fn vips_atan2(left: f64, right: f64) -> f64 {
    let y = (left.atan2(right) / (2.0 * std::f64::consts::PI)) * 360.0;
    if y < 0.0 { y + 360.0 } else { y }
}

/// One of the `math2` functions of `x` (the image) and `c`.
pub(crate) fn math2(op: Math2Op, x: f64, c: f64) -> f64 {
    match op {
        Math2Op::Pow => vips_pow(x, c),
        Math2Op::Wop => vips_pow(c, x),
        Math2Op::Atan2 => vips_atan2(x, c),
    }
}

/// One of the `math` functions, in double, degrees for angles.
pub(crate) fn math(op: MathOp, x: f64) -> f64 {
    let rad = |d: f64| (d / 360.0) * 2.0 * std::f64::consts::PI;
    let deg = |r: f64| (r / (2.0 * std::f64::consts::PI)) * 360.0;
    match op {
        MathOp::Sin => rad(x).sin(),
        MathOp::Cos => rad(x).cos(),
        MathOp::Tan => rad(x).tan(),
        MathOp::Asin => deg(x.asin()),
        MathOp::Acos => deg(x.acos()),
        MathOp::Atan => deg(x.atan()),
        MathOp::Sinh => x.sinh(),
        MathOp::Cosh => x.cosh(),
        MathOp::Tanh => x.tanh(),
        MathOp::Asinh => x.asinh(),
        MathOp::Acosh => x.acosh(),
        MathOp::Atanh => x.atanh(),
        MathOp::Log => {
            if x == 0.0 {
                0.0
            } else {
                x.ln()
            }
        }
        MathOp::Log10 => {
            if x == 0.0 {
                0.0
            } else {
                x.log10()
            }
        }
        MathOp::Exp => x.exp(),
        MathOp::Exp10 => 10f64.powf(x),
    }
}

/// libvips' `remainder_const` of a sample of format `f` by the integer
/// constant `c` (already truncated): C's `%` for integers (sign of the
/// dividend), `x − c·floor(x / c)` for floats, −1 (stored) where `c` is 0.
pub(crate) fn remainder(f: BandFormat, x: f64, c: i64) -> f64 {
    if c == 0 {
        return wrap(f, -1);
    }
    match f {
        BandFormat::F32 | BandFormat::F64 => {
            let c = c as f64;
            store(f, x - c * (x / c).floor())
        }
        BandFormat::U32 => wrap(f, (x as u32 % (c as i32 as u32)) as i64),
        _ => wrap(f, (x as i64) % c),
    }
}

/// A comparison: 255 or 0.
#[inline(always)]
pub(crate) fn relational(op: RelOp, x: f64, c: f64) -> f64 {
    let t = match op {
        RelOp::Equal => x == c,
        RelOp::NotEqual => x != c,
        RelOp::Less => x < c,
        RelOp::LessEq => x <= c,
        RelOp::More => x > c,
        RelOp::MoreEq => x >= c,
    };
    if t { 255.0 } else { 0.0 }
}

/// libvips 8.18's `boolean_const`: `x OP c` on C ints (floats truncated
/// with `(int)`, out of range and NaN giving `INT_MIN`; shifts of signed
/// values arithmetic, counts taken modulo 32 as x86 does), stored in the
/// format (`i32` for float input).
fn boolean_const(op: BoolOp, f: BandFormat, x: f64, c: i32) -> f64 {
    if f == BandFormat::U32 {
        let (p, c) = (x as u32, c as u32);
        let r = match op {
            BoolOp::And => p & c,
            BoolOp::Or => p | c,
            BoolOp::Eor => p ^ c,
            BoolOp::Lshift => p.wrapping_shl(c),
            BoolOp::Rshift => p.wrapping_shr(c),
        };
        return r as f64;
    }
    let p = if f.is_float() { c_int(x) } else { x as i32 };
    let r = match op {
        BoolOp::And => p & c,
        BoolOp::Or => p | c,
        BoolOp::Eor => p ^ c,
        BoolOp::Lshift => p.wrapping_shl(c as u32),
        BoolOp::Rshift => p.wrapping_shr(c as u32),
    };
    if f.is_float() {
        r as f64
    } else {
        wrap(f, r as i64)
    }
}

/// The value of a constant branch of `ifthenelse` in format `f`: pyvips
/// makes it an image with `black + c` (an `f32`), cast to `f`.
pub(crate) fn branch_const(f: BandFormat, c: f64) -> f64 {
    vips_cast(f, c as f32 as f64)
}

/// libvips' `ifthenelse` of one element: the condition cast to `u8`
/// selects, or with `blend` weighs `a` by `v / 255`.
#[inline(always)]
pub(crate) fn select(f: BandFormat, blend: bool, cond: f64, a: f64, b: f64) -> f64 {
    let v = vips_cast(BandFormat::U8, cond);
    if !blend {
        return if v != 0.0 { a } else { b };
    }
    if v == 255.0 {
        return a;
    }
    if v == 0.0 {
        return b;
    }
    if f.is_float() {
        let w = v / 255.0;
        store(f, w * a + (1.0 - w) * b)
    } else {
        let v = v as i64;
        wrap(f, (v * a as i64 + (255 - v) * b as i64 + 128) / 255)
    }
}

/// Applies one of the arithmetic stages.
pub(super) fn apply(stage: &Stage, input: BandFormat, bands: usize, buf: &mut [f64]) {
    let out = stage.output_format(input);
    match stage {
        Stage::Arith { op, c } => {
            let (a, b): (Vec<f64>, Vec<f64>) = match op {
                ArithOp::Add => (vec![1.0], c.clone()),
                ArithOp::Subtract => (vec![1.0], c.iter().map(|v| -v).collect()),
                ArithOp::Multiply => (c.clone(), vec![0.0]),
                // x / 0 gives 0, as libvips' divide of images does.
                ArithOp::Divide => (
                    c.iter()
                        .map(|&v| if v == 0.0 { 0.0 } else { 1.0 / v })
                        .collect(),
                    vec![0.0],
                ),
            };
            linear_float(input, bands, buf, &a, &b);
        }
        Stage::Remainder(c) => {
            let ci: Vec<f64> = c.iter().map(|&v| c_int(v) as f64).collect();
            per_band(buf, bands, &ci, |x, c| remainder(input, x, c as i64));
        }
        Stage::Relational { op, c } => {
            // libvips compares integers with an integer constant in C,
            // where a u32 sample against a negative int compares unsigned.
            let is_int = c.iter().all(|&v| c_int(v) as f64 == v);
            if input == BandFormat::U32 && is_int {
                let cu: Vec<f64> = c.iter().map(|&v| c_int(v) as u32 as f64).collect();
                per_band(buf, bands, &cu, |x, c| relational(*op, x, c));
            } else {
                per_band(buf, bands, c, |x, c| relational(*op, x, c));
            }
        }
        Stage::Boolean { op, c } => {
            per_band(buf, bands, c, |x, c| boolean_const(*op, input, x, c_int(c)));
        }
        Stage::Not => {
            for v in buf.iter_mut() {
                *v = boolean_const(BoolOp::Eor, input, *v, -1);
            }
        }
        Stage::Math2 { op, c } => {
            per_band(buf, bands, c, |x, c| match op {
                // libvips stores the angle, then adds 360 to the stored value.
                Math2Op::Atan2 => {
                    let y = store(out, ((x.atan2(c)) / (2.0 * std::f64::consts::PI)) * 360.0);
                    if y < 0.0 { store(out, y + 360.0) } else { y }
                }
                _ => store(out, math2(*op, x, c)),
            });
        }
        Stage::Math(op) => {
            for v in buf.iter_mut() {
                *v = store(out, math(*op, *v));
            }
        }
        Stage::Abs => {
            if input.is_float() {
                buf.iter_mut().for_each(|v| *v = v.abs());
            } else if input.is_signed() {
                buf.iter_mut()
                    .for_each(|v| *v = wrap(input, (*v as i64).abs()));
            }
        }
        Stage::Sign => {
            for v in buf.iter_mut() {
                *v = if *v > 0.0 {
                    1.0
                } else if *v == 0.0 {
                    0.0
                } else {
                    -1.0
                };
            }
        }
        Stage::Round(r) => {
            if input.is_float() {
                let f: fn(f64) -> f64 = match r {
                    RoundOp::Rint => f64::round_ties_even,
                    RoundOp::Floor => f64::floor,
                    RoundOp::Ceil => f64::ceil,
                };
                buf.iter_mut().for_each(|v| *v = f(*v));
            }
        }
        Stage::Clamp { min, max } => {
            for v in buf.iter_mut() {
                // VIPS_CLIP(min, v, max) = MAX(min, MIN(max, v)).
                let m = if *max < *v { *max } else { *v };
                let m = if *min > m { *min } else { m };
                *v = store(input, m);
            }
        }
        Stage::IfThenElse { in1, in2, blend } => {
            let a: Vec<f64> = in1.iter().map(|&c| branch_const(input, c)).collect();
            let b: Vec<f64> = in2.iter().map(|&c| branch_const(input, c)).collect();
            for px in buf.chunks_exact_mut(bands) {
                for (k, v) in px.iter_mut().enumerate() {
                    // vips_cast of u32 to u8 goes through a C int: values
                    // from 2^31 up turn negative and clip to 0.
                    let cond = if input == BandFormat::U32 && *v >= 2147483648.0 {
                        0.0
                    } else {
                        *v
                    };
                    *v = select(input, *blend, cond, at(&a, k), at(&b, k));
                }
            }
        }
        Stage::Linear { .. } | Stage::Invert | Stage::Cast(_) => {
            unreachable!("applied by Stage::apply")
        }
    }
}
