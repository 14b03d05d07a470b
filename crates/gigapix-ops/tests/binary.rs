//! The two-image node (`binary`, `ifthenelse`) against whole-image f64
//! references written from libvips 8.18's C loops, at every format with
//! itself and mixed pairs; band broadcasting; errors; the engine property.

mod common;

use std::sync::Arc;

use common::{ViewSource, encode, engine_property, pixels};
use gigapix_core::{BandFormat, ErrorKind, Header, Image};
use gigapix_ops::binary::{BinaryOp, binary, ifthenelse};

use BandFormat::*;

const W: usize = 13;
const H: usize = 9;

const OPS: [BinaryOp; 19] = [
    BinaryOp::Add,
    BinaryOp::Subtract,
    BinaryOp::Multiply,
    BinaryOp::Divide,
    BinaryOp::Remainder,
    BinaryOp::Pow,
    BinaryOp::Wop,
    BinaryOp::Atan2,
    BinaryOp::Equal,
    BinaryOp::NotEqual,
    BinaryOp::Less,
    BinaryOp::LessEq,
    BinaryOp::More,
    BinaryOp::MoreEq,
    BinaryOp::And,
    BinaryOp::Or,
    BinaryOp::Eor,
    BinaryOp::Lshift,
    BinaryOp::Rshift,
];

fn values(f: BandFormat, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = common::Rng::new(seed);
    let (lo, hi) = match f {
        F32 | F64 => (-300.0, 300.0),
        _ => (f.min_value(), f.max_value()),
    };
    (0..n)
        .map(|i| match i % 5 {
            0 => [0.0, 1.0, 2.0, lo, hi, (-1.0f64).max(lo), 3.0, 2.5][(i / 5) % 8],
            1 => rng.range(-5, 5).clamp(lo as i64, hi as i64) as f64,
            _ => {
                let t = rng.below(1_000_001) as f64 / 1_000_000.0;
                let v = lo + t * (hi - lo);
                match f {
                    F32 => v as f32 as f64,
                    F64 => v,
                    _ => v.round().clamp(lo, hi),
                }
            }
        })
        .map(|v| if f.is_integer() { v.trunc() } else { v })
        .collect()
}

fn image(f: BandFormat, bands: usize, vals: &[f64]) -> Image {
    let header = Header::new(W as u32, H as u32, bands as u32, f);
    Image::new(
        ViewSource {
            header,
            data: Arc::new(encode(vals, f)),
        },
        vec![],
    )
}

/// libvips' common format (vips_format_common), written out as a table.
fn common_format(a: BandFormat, b: BandFormat) -> BandFormat {
    if a == F64 || b == F64 {
        return F64;
    }
    if a == F32 || b == F32 {
        return F32;
    }
    let rank = |f: BandFormat| match f {
        U8 => (false, 1),
        U16 => (false, 2),
        U32 => (false, 4),
        I8 => (true, 1),
        I16 => (true, 2),
        _ => (true, 4),
    };
    let (sa, za) = rank(a);
    let (sb, zb) = rank(b);
    if sa == sb {
        return if za >= zb { a } else { b };
    }
    let (zu, zs) = if sa { (zb, za) } else { (za, zb) };
    if zu == 1 && zs <= 2 {
        I16
    } else if zu == 1 || zu >= 2 {
        I32
    } else {
        unreachable!()
    }
}

fn out_format(op: BinaryOp, c: BandFormat) -> BandFormat {
    use BinaryOp::*;
    let table: [BandFormat; 8] = match op {
        // U8, I8, U16, I16, U32, I32, F32, F64
        Add | Multiply => [U16, I16, U32, I32, U32, I32, F32, F64],
        Subtract => [I16, I16, I32, I32, I32, I32, F32, F64],
        Divide | Pow | Wop | Atan2 => [F32, F32, F32, F32, F32, F32, F32, F64],
        Remainder => [U8, I8, U16, I16, U32, I32, F32, F64],
        And | Or | Eor | Lshift | Rshift => [U8, I8, U16, I16, U32, I32, I32, I32],
        _ => [U8; 8],
    };
    table[BandFormat::ALL.iter().position(|&f| f == c).unwrap()]
}

/// C conversion of an integer to `f` (modular).
fn c_int(v: i128, f: BandFormat) -> f64 {
    let (bits, signed) = match f {
        U8 => (8, false),
        I8 => (8, true),
        U16 => (16, false),
        I16 => (16, true),
        U32 => (32, false),
        I32 => (32, true),
        _ => return v as f64,
    };
    let m = 1i128 << bits;
    let mut r = v.rem_euclid(m);
    if signed && r >= m / 2 {
        r -= m;
    }
    r as f64
}

fn reference(op: BinaryOp, x: f64, y: f64, c: BandFormat, o: BandFormat) -> f64 {
    use BinaryOp::*;
    let q = |v: f64| if o == F32 { v as f32 as f64 } else { v };
    let (x, y) = if c == F32 {
        (x as f32 as f64, y as f32 as f64)
    } else {
        (x, y)
    };
    let int = c.is_integer();
    let b = |t: bool| if t { 255.0 } else { 0.0 };
    match op {
        Add | Subtract | Multiply if int => {
            let (a, bb) = (x as i128, y as i128);
            c_int(
                match op {
                    Add => a + bb,
                    Subtract => a - bb,
                    _ => a * bb,
                },
                o,
            )
        }
        Add => q(x + y),
        Subtract => q(x - y),
        Multiply => q(x * y),
        Divide => {
            if y == 0.0 {
                0.0
            } else {
                q(x / y)
            }
        }
        Remainder if int => {
            if y == 0.0 {
                c_int(-1, o)
            } else {
                // C: truncating division, the remainder has the dividend's sign.
                let (a, bb) = (x as i128, y as i128);
                c_int(a - bb * (a / bb), o)
            }
        }
        Remainder => {
            if y == 0.0 {
                -1.0
            } else {
                q(x - y * (x / y).floor())
            }
        }
        // libvips: 0 to any power (0⁰ included) is 0.
        Pow | Wop => {
            let (base, e) = if op == Pow { (x, y) } else { (y, x) };
            if base == 0.0 { 0.0 } else { q(base.powf(e)) }
        }
        Atan2 => {
            let d = x.atan2(y) * 180.0 / std::f64::consts::PI;
            q(if d < 0.0 { d + 360.0 } else { d })
        }
        Equal => b(x == y),
        NotEqual => b(x != y),
        Less => b(x < y),
        LessEq => b(x <= y),
        More => b(x > y),
        MoreEq => b(x >= y),
        _ => {
            let (a, bb) = (x as i64, y as i64); // truncation toward zero
            let a = if int { a } else { a as i32 as i64 };
            let bb = if int { bb } else { bb as i32 as i64 };
            let sh = (bb & 31) as u32;
            let v: i128 = match op {
                And => (a & bb) as i128,
                Or => (a | bb) as i128,
                Eor => (a ^ bb) as i128,
                Lshift if o == U32 => ((a as u64 as u32 as u64) << sh) as u32 as i128,
                Rshift if o == U32 => ((a as u32) >> sh) as i128,
                Lshift => (((a as i32 as i64) << sh) as i32) as i128,
                _ => ((a as i32) >> sh) as i128,
            };
            c_int(v, o)
        }
    }
}

fn close(got: f64, want: f64, f: BandFormat) -> bool {
    if got.is_nan() || want.is_nan() {
        return got.is_nan() && want.is_nan();
    }
    if f.is_integer() || got == want {
        return got == want;
    }
    (got - want).abs() <= 1e-6 * want.abs().max(1e-30)
}

fn check_pair(op: BinaryOp, fa: BandFormat, fb: BandFormat, ba: usize, bb: usize, seed: u64) {
    let va = values(fa, W * H * ba, seed);
    let vb = values(fb, W * H * bb, seed ^ 0x55);
    let out = binary(op, &image(fa, ba, &va), &image(fb, bb, &vb));
    let c = common_format(fa, fb);
    let o = out_format(op, c);
    let bands = ba.max(bb);
    assert_eq!(out.format(), o, "{op:?} {fa:?} {fb:?}");
    assert_eq!(out.bands() as usize, bands);
    let got = pixels(&out);
    for i in 0..W * H {
        for k in 0..bands {
            let x = va[i * ba + if ba == 1 { 0 } else { k }];
            let y = vb[i * bb + if bb == 1 { 0 } else { k }];
            let want = reference(op, x, y, c, o);
            let g = got[i * bands + k];
            assert!(
                close(g, want, o),
                "{op:?} {fa:?} {fb:?}: {x} {y} -> {g}, want {want}"
            );
        }
    }
}

#[test]
fn every_op_every_format_with_itself() {
    for (s, op) in OPS.iter().enumerate() {
        for f in BandFormat::ALL {
            check_pair(*op, f, f, 3, 3, s as u64 * 31 + 1);
        }
    }
}

#[test]
fn every_op_mixed_pairs() {
    let pairs = [
        (U8, I8),
        (U8, U16),
        (I8, U16),
        (U16, I16),
        (U8, I32),
        (U32, I8),
        (U8, F32),
        (I16, F64),
        (F32, F64),
        (I32, U32),
    ];
    for (s, op) in OPS.iter().enumerate() {
        for (a, b) in pairs {
            check_pair(*op, a, b, 2, 2, s as u64 + 7);
            check_pair(*op, b, a, 2, 2, s as u64 + 9);
        }
    }
}

#[test]
fn band_broadcasting() {
    for op in [
        BinaryOp::Add,
        BinaryOp::Less,
        BinaryOp::Divide,
        BinaryOp::Lshift,
    ] {
        check_pair(op, U8, U8, 1, 3, 3);
        check_pair(op, I16, U8, 4, 1, 4);
        check_pair(op, F32, I8, 1, 1, 5);
    }
}

#[test]
fn errors() {
    let a = image(U8, 3, &values(U8, W * H * 3, 1));
    let b = image(U8, 2, &values(U8, W * H * 2, 1));
    let e = binary(BinaryOp::Add, &a, &b).check().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let small = Image::new(
        ViewSource {
            header: Header::new(3, 3, 3, U8),
            data: Arc::new(vec![0; 27]),
        },
        vec![],
    );
    let e = binary(BinaryOp::Subtract, &a, &small).check().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = ifthenelse(&a, &small, &a, false).check().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = ifthenelse(&b, &a, &a, true).check().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

fn check_ite(
    fc: BandFormat,
    f1: BandFormat,
    f2: BandFormat,
    bc: usize,
    b1: usize,
    b2: usize,
    blend: bool,
) {
    let vc = values(fc, W * H * bc, 11);
    let v1 = values(f1, W * H * b1, 12);
    let v2 = values(f2, W * H * b2, 13);
    let out = ifthenelse(
        &image(fc, bc, &vc),
        &image(f1, b1, &v1),
        &image(f2, b2, &v2),
        blend,
    );
    let cf = common_format(f1, f2);
    assert_eq!(out.format(), cf);
    let bands = bc.max(b1).max(b2);
    assert_eq!(out.bands() as usize, bands);
    let got = pixels(&out);
    let pick = |v: &[f64], n: usize, i: usize, k: usize| v[i * n + if n == 1 { 0 } else { k }];
    for i in 0..W * H {
        for k in 0..bands {
            // libvips casts the condition to u8 (truncating, clamping).
            let c = pick(&vc, bc, i, k);
            let c = if c.is_nan() {
                0.0
            } else {
                c.trunc().clamp(0.0, 255.0)
            };
            let mut x = pick(&v1, b1, i, k);
            let mut y = pick(&v2, b2, i, k);
            if cf == F32 {
                x = x as f32 as f64;
                y = y as f32 as f64;
            }
            let want = if blend {
                let r = (c * x + (255.0 - c) * y) / 255.0;
                if cf.is_integer() {
                    r.round()
                } else if cf == F32 {
                    r as f32 as f64
                } else {
                    r
                }
            } else if c != 0.0 {
                x
            } else {
                y
            };
            let g = got[i * bands + k];
            assert!(
                close(g, want, cf),
                "{fc:?} {f1:?} {f2:?} {blend}: {g} want {want}"
            );
        }
    }
}

#[test]
fn ifthenelse_formats_and_bands() {
    for blend in [false, true] {
        for f in BandFormat::ALL {
            check_ite(U8, f, f, 3, 3, 3, blend);
            check_ite(f, U8, U8, 1, 3, 3, blend);
        }
        check_ite(U8, U8, I8, 1, 3, 1, blend);
        check_ite(I16, U16, F32, 3, 1, 1, blend);
        check_ite(F32, I32, U8, 1, 2, 2, blend);
    }
}

#[test]
fn engine_property_binary_and_ifthenelse() {
    let a = image(U8, 3, &values(U8, W * H * 3, 21));
    let b = image(U8, 1, &values(U8, W * H, 22));
    let f = image(F32, 3, &values(F32, W * H * 3, 23));
    for op in OPS {
        engine_property(&binary(op, &a, &b));
        engine_property(&binary(op, &f, &a));
    }
    let cond = binary(BinaryOp::More, &a, &b);
    engine_property(&ifthenelse(&cond, &a, &f, false));
    engine_property(&ifthenelse(&cond, &a, &b, true));
}
