//! Point operations against literal values and formats printed by pyvips
//! 8.18 (libvips 8.18) on tiny images: an oracle independent of the f64
//! references of `arith.rs`. Each case is `input values → libvips output`.

mod common;

use std::sync::Arc;

use common::{ViewSource, encode, engine_property, pixels};
use gigapix_core::desc::Operand;
use gigapix_core::{BandFormat, Header, Image};
use gigapix_ops::arith::*;

use BandFormat::*;

/// A one-band `1 × n` image of `f` holding `vals`.
fn row(f: BandFormat, vals: &[f64]) -> Image {
    let header = Header::new(vals.len() as u32, 1, 1, f);
    Image::new(
        ViewSource {
            header,
            data: Arc::new(encode(vals, f)),
        },
        vec![],
    )
}

fn k(v: &[f64]) -> Operand {
    Operand::Const(v.to_vec())
}

/// `got` has format `f` and equals `want` (NaN equals NaN; f32 values are
/// compared after rounding `want` to f32, as pyvips printed them).
#[track_caller]
fn expect(img: &Image, f: BandFormat, want: &[f64], what: &str) {
    img.check().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(img.format(), f, "{what}: format");
    let got = pixels(img);
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let w = if f == F32 { w as f32 as f64 } else { w };
        let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= 1e-6 * w.abs();
        assert!(ok, "{what}: sample {i}: got {g}, libvips {w}");
    }
}

/// `true` once the two-image node of `binary.rs` is written.
fn landed() -> bool {
    let a = row(U8, &[1.0]);
    add(&a, &Operand::Image(a.clone())).check().is_ok()
}

#[test]
fn formats_with_constants_and_unary_match_pyvips() {
    // Columns of pyvips 8.18: x + 1, x % 2, x & 1, ~x, x.math('sin'),
    // x ** 2, x.rint(), x.clamp(), x == 1, x.sign(), x.abs().
    let table = [
        (U8, F32, U8, U8, U8, F32, F32, U8, U8),
        (I8, F32, I8, I8, I8, F32, F32, I8, I8),
        (U16, F32, U16, U16, U16, F32, F32, U16, U16),
        (I16, F32, I16, I16, I16, F32, F32, I16, I16),
        (U32, F32, U32, U32, U32, F32, F32, U32, U32),
        (I32, F32, I32, I32, I32, F32, F32, I32, I32),
        (F32, F32, F32, I32, I32, F32, F32, F32, F32),
        (F64, F64, F64, I32, I32, F64, F64, F64, F64),
    ];
    for (f, plus, rem, and, not_f, sin, pow, rint, clampf) in table {
        let x = row(f, &[3.0, 3.0]);
        assert_eq!(add(&x, &k(&[1.0])).format(), plus, "{f:?} + 1");
        assert_eq!(remainder(&x, &k(&[2.0])).format(), rem, "{f:?} % 2");
        assert_eq!(
            boolean(BoolOp::And, &x, &k(&[1.0])).format(),
            and,
            "{f:?} & 1"
        );
        assert_eq!(not(&x).format(), not_f, "~{f:?}");
        assert_eq!(math(&x, MathOp::Sin).format(), sin, "{f:?} sin");
        assert_eq!(
            math2(Math2Op::Pow, &x, &k(&[2.0])).format(),
            pow,
            "{f:?} ** 2"
        );
        assert_eq!(round(&x, RoundOp::Rint).format(), rint, "{f:?} rint");
        assert_eq!(clamp(&x).format(), clampf, "{f:?} clamp");
        assert_eq!(
            relational(RelOp::Equal, &x, &k(&[1.0])).format(),
            U8,
            "{f:?} == 1"
        );
        assert_eq!(sign(&x).format(), I8, "{f:?} sign");
        assert_eq!(abs(&x).format(), f, "{f:?} abs");
    }
}

#[test]
fn image_image_formats_match_pyvips() {
    if !landed() {
        eprintln!("binary.rs not written yet: skipped");
        return;
    }
    // pyvips 8.18: x + x, x - x, x * x, x / x, x % x, x & x.
    let table = [
        (U8, U16, I16, U16, F32, U8, U8),
        (I8, I16, I16, I16, F32, I8, I8),
        (U16, U32, I32, U32, F32, U16, U16),
        (I16, I32, I32, I32, F32, I16, I16),
        (U32, U32, I32, U32, F32, U32, U32),
        (I32, I32, I32, I32, F32, I32, I32),
        (F32, F32, F32, F32, F32, F32, I32),
        (F64, F64, F64, F64, F64, F64, I32),
    ];
    for (f, a, s, m, d, r, b) in table {
        let x = row(f, &[3.0, 3.0]);
        let o = Operand::Image(x.clone());
        assert_eq!(add(&x, &o).format(), a, "{f:?} + img");
        assert_eq!(subtract(&x, &o).format(), s, "{f:?} - img");
        assert_eq!(multiply(&x, &o).format(), m, "{f:?} * img");
        assert_eq!(divide(&x, &o).format(), d, "{f:?} / img");
        assert_eq!(remainder(&x, &o).format(), r, "{f:?} % img");
        assert_eq!(boolean(BoolOp::And, &x, &o).format(), b, "{f:?} & img");
    }
}

#[test]
fn image_image_values_match_pyvips() {
    if !landed() {
        eprintln!("binary.rs not written yet: skipped");
        return;
    }
    let x = row(U8, &[0.0, 1.0, 2.0, 250.0]);
    let o = Operand::Image(x.clone());
    // x / x with x = 0 is 0; x % x with x = 0 is -1 stored (255).
    expect(&divide(&x, &o), F32, &[0.0, 1.0, 1.0, 1.0], "u8 / u8");
    expect(&remainder(&x, &o), U8, &[255.0, 0.0, 0.0, 0.0], "u8 % u8");
    let c = row(U8, &[0.0, 1.0, 128.0, 255.0]);
    let a = row(U8, &[10.0, 20.0, 30.0, 40.0]);
    let b = row(U8, &[200.0, 100.0, 50.0, 0.0]);
    let t = ifthenelse(&c, &Operand::Image(a.clone()), &Operand::Image(b.clone()));
    expect(&t, U8, &[200.0, 20.0, 30.0, 40.0], "ifthenelse images");
    engine_property(&t);
}

#[test]
fn constant_values_match_pyvips() {
    let u = row(U8, &[0.0, 1.0, 2.0, 250.0]);
    expect(&remainder(&u, &k(&[0.0])), U8, &[255.0; 4], "u8 % 0");
    expect(&not(&u), U8, &[255.0, 254.0, 253.0, 5.0], "~u8");
    expect(&sign(&u), I8, &[0.0, 1.0, 1.0, 1.0], "u8 sign");
    expect(&clamp(&u), U8, &[0.0, 1.0, 1.0, 1.0], "u8 clamp");
    expect(
        &math2(Math2Op::Pow, &u, &k(&[-1.0])),
        F32,
        &[0.0, 1.0, 0.5, 0.004000000189989805],
        "u8 ** -1",
    );

    let y = row(F32, &[-7.5, -0.5, 0.5, 2.5]);
    expect(
        &round(&y, RoundOp::Rint),
        F32,
        &[-8.0, -0.0, 0.0, 2.0],
        "f32 rint",
    );
    expect(
        &remainder(&y, &k(&[2.0])),
        F32,
        &[0.5, 1.5, 0.5, 0.5],
        "f32 % 2",
    );
    expect(
        &boolean(BoolOp::And, &y, &k(&[3.0])),
        I32,
        &[1.0, 0.0, 0.0, 2.0],
        "f32 & 3",
    );

    let i = row(I8, &[-128.0, -1.0, 0.0, 5.0]);
    expect(&abs(&i), I8, &[-128.0, 1.0, 0.0, 5.0], "i8 abs");
    expect(
        &remainder(&i, &k(&[3.0])),
        I8,
        &[-2.0, -1.0, 0.0, 2.0],
        "i8 % 3",
    );
    expect(
        &boolean(BoolOp::Rshift, &i, &k(&[1.0])),
        I8,
        &[-64.0, -1.0, 0.0, 2.0],
        "i8 >> 1",
    );
    expect(
        &subtract(&i, &k(&[10.0])),
        F32,
        &[-138.0, -11.0, -10.0, -5.0],
        "i8 - 10",
    );

    // Constants are truncated to integers for remainder.
    let y5 = row(F32, &[-7.5, -0.5, 0.5, 2.5, 7.0]);
    expect(
        &remainder(&y5, &k(&[2.5])),
        F32,
        &[0.5, 1.5, 0.5, 0.5, 1.0],
        "f32 % 2.5",
    );
    expect(
        &relational(RelOp::More, &y5, &k(&[2.5])),
        U8,
        &[0.0, 0.0, 0.0, 0.0, 255.0],
        "f32 > 2.5",
    );
    expect(&sign(&y5), I8, &[-1.0, -1.0, 1.0, 1.0, 1.0], "f32 sign");
    expect(
        &clamp_with(&y5, &ClampOptions::default().min(-1.5).max(2.7)),
        F32,
        &[-1.5, -0.5, 0.5, 2.5, 2.7],
        "f32 clamp",
    );

    let cu = row(
        U8,
        &[
            0.0, 1.0, 2.0, 64.0, 127.0, 128.0, 129.0, 200.0, 254.0, 255.0,
        ],
    );
    expect(
        &remainder(&cu, &k(&[2.7])),
        U8,
        &[0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0],
        "u8 % 2.7",
    );
    expect(
        &clamp_with(&cu, &ClampOptions::default().min(1.5).max(100.7)),
        U8,
        &[
            1.0, 1.0, 2.0, 64.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0,
        ],
        "u8 clamp 1.5 100.7",
    );
    let ln = |v: f64| if v == 0.0 { 0.0 } else { v.ln() };
    let want: Vec<f64> = [
        0.0, 1.0, 2.0, 64.0, 127.0, 128.0, 129.0, 200.0, 254.0, 255.0,
    ]
    .iter()
    .map(|&v| ln(v))
    .collect();
    expect(&math(&cu, MathOp::Log), F32, &want, "u8 log");

    let u4 = row(U8, &[0.0, 1.0, 200.0, 255.0]);
    expect(
        &math(&u4, MathOp::Asin),
        F32,
        &[0.0, 90.0, f64::NAN, f64::NAN],
        "u8 asin",
    );
    expect(
        &math(&u4, MathOp::Exp10),
        F32,
        &[1.0, 10.0, f64::INFINITY, f64::INFINITY],
        "u8 exp10",
    );
    expect(
        &boolean(BoolOp::Lshift, &u4, &k(&[1.0])),
        U8,
        &[0.0, 2.0, 144.0, 254.0],
        "u8 << 1",
    );

    let f4 = row(F32, &[-1.0, 0.0, 1.0, 2.0]);
    expect(
        &math2(Math2Op::Atan2, &f4, &k(&[1.0])),
        F32,
        &[315.0, 0.0, 45.0, 63.4349479675293],
        "f32 atan2 1",
    );
    expect(
        &math2(Math2Op::Wop, &f4, &k(&[2.0])),
        F32,
        &[0.5, 1.0, 2.0, 4.0],
        "f32 wop 2",
    );
    expect(
        &math2(Math2Op::Pow, &f4, &k(&[0.5])),
        F32,
        &[f64::NAN, 0.0, 1.0, std::f64::consts::SQRT_2],
        "f32 pow 0.5",
    );
}

#[test]
fn nan_matches_pyvips() {
    let n = row(F32, &[f64::NAN]);
    expect(&sign(&n), I8, &[-1.0], "sign NaN");
    expect(
        &relational(RelOp::More, &n, &k(&[0.0])),
        U8,
        &[0.0],
        "NaN > 0",
    );
    expect(
        &relational(RelOp::NotEqual, &n, &k(&[0.0])),
        U8,
        &[255.0],
        "NaN != 0",
    );
    expect(&round(&n, RoundOp::Rint), F32, &[f64::NAN], "rint NaN");
    expect(
        &boolean(BoolOp::And, &n, &k(&[1.0])),
        I32,
        &[0.0],
        "NaN & 1",
    );
    expect(&abs(&n), F32, &[f64::NAN], "abs NaN");
    expect(
        &ifthenelse(&n, &k(&[7.0]), &k(&[3.0])),
        F32,
        &[3.0],
        "NaN ? 7 : 3",
    );
}

#[test]
fn ifthenelse_constants_match_pyvips() {
    // The condition is cast to u8 (clipped, truncated) before the test.
    let c = row(I16, &[-5.0, 0.0, 1.0, 300.0, 77.0]);
    expect(
        &ifthenelse(&c, &k(&[7.0]), &k(&[3.0])),
        I16,
        &[3.0, 3.0, 7.0, 7.0, 7.0],
        "i16 cond",
    );
    expect(
        &ifthenelse(&c, &k(&[7.9]), &k(&[-3.7])),
        I16,
        &[-3.0, -3.0, 7.0, 7.0, 7.0],
        "i16 cond, fractional branches",
    );
    let cf = row(F32, &[-0.5, 0.5, 1.5, 0.0]);
    expect(
        &ifthenelse(&cf, &k(&[7.0]), &k(&[3.0])),
        F32,
        &[3.0, 3.0, 7.0, 3.0],
        "f32 cond",
    );
    expect(
        &ifthenelse(&cf, &k(&[7.9]), &k(&[-3.7])),
        F32,
        &[
            -3.700000047683716,
            -3.700000047683716,
            7.900000095367432,
            -3.700000047683716,
        ],
        "f32 cond, fractional branches",
    );
    let cu = row(
        U8,
        &[
            0.0, 1.0, 2.0, 64.0, 127.0, 128.0, 129.0, 200.0, 254.0, 255.0,
        ],
    );
    expect(
        &ifthenelse(&cu, &k(&[2.5]), &k(&[0.0])),
        U8,
        &[0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0],
        "u8 cond 2.5 0",
    );
    let blend = IfThenElseOptions::default().blend(true);
    let cases: [(f64, f64, [f64; 10]); 3] = [
        (
            200.0,
            10.0,
            [
                10.0, 11.0, 11.0, 58.0, 105.0, 105.0, 106.0, 159.0, 199.0, 200.0,
            ],
        ),
        (
            0.0,
            255.0,
            [
                255.0, 254.0, 253.0, 191.0, 128.0, 127.0, 126.0, 55.0, 1.0, 0.0,
            ],
        ),
        (1.0, 0.0, [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
    ];
    for (a, b, want) in cases {
        let t = ifthenelse_with(&cu, &k(&[a]), &k(&[b]), &blend);
        expect(&t, U8, &want, &format!("u8 blend {a} {b}"));
        engine_property(&t);
    }
}

/// A `1 × n` image of `f` whose pixels are `px` (all of the same bands).
fn pixels_row(f: BandFormat, px: &[&[f64]]) -> Image {
    let bands = px[0].len() as u32;
    let flat: Vec<f64> = px.iter().flat_map(|p| p.iter().copied()).collect();
    let header = Header::new(px.len() as u32, 1, bands, f);
    Image::new(
        ViewSource {
            header,
            data: Arc::new(encode(&flat, f)),
        },
        vec![],
    )
}

#[test]
fn bands_and_per_band_constants_match_pyvips() {
    let x = row(U8, &[0.0, 100.0, 200.0]);
    // A one-band image with three constants gives three bands.
    let s = add(&x, &k(&[1.0, 2.0, 3.0]));
    assert_eq!(s.bands(), 3);
    expect(
        &s,
        F32,
        &[1.0, 2.0, 3.0, 101.0, 102.0, 103.0, 201.0, 202.0, 203.0],
        "u8 + [1,2,3]",
    );
    expect(
        &relational(RelOp::More, &x, &k(&[50.0, 150.0, 250.0])),
        U8,
        &[0.0, 0.0, 0.0, 255.0, 0.0, 0.0, 255.0, 255.0, 0.0],
        "u8 > [50,150,250]",
    );
    expect(
        &ifthenelse(&x, &k(&[1.0, 2.0, 3.0]), &k(&[7.0, 8.0, 9.0])),
        U8,
        &[7.0, 8.0, 9.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0],
        "1-band cond, 3 constants",
    );
    // A three-band condition is tested per band; branch constants are cast
    // (clipped, truncated) to the condition's format.
    let x3 = pixels_row(
        U8,
        &[&[0.0, 0.0, 7.0], &[100.0, 50.0, 7.0], &[200.0, 100.0, 7.0]],
    );
    expect(
        &ifthenelse(&x3, &k(&[255.0]), &k(&[0.0])),
        U8,
        &[0.0, 0.0, 255.0, 255.0, 255.0, 255.0, 255.0, 255.0, 255.0],
        "3-band cond",
    );
    expect(
        &ifthenelse(&x3, &k(&[300.0, -5.0, 2.5]), &k(&[0.0])),
        U8,
        &[0.0, 0.0, 2.0, 255.0, 0.0, 2.0, 255.0, 0.0, 2.0],
        "branch constants clipped",
    );
    let u = row(U16, &[0.0, 1000.0, 65535.0]);
    expect(
        &subtract(&u, &k(&[10.0, 20.0])),
        F32,
        &[-10.0, -20.0, 990.0, 980.0, 65525.0, 65515.0],
        "u16 - [10,20]",
    );
    expect(
        &remainder(&u, &k(&[7.0, 1000.0])),
        U16,
        &[0.0, 0.0, 6.0, 0.0, 1.0, 535.0],
        "u16 % [7,1000]",
    );
    expect(
        &relational(RelOp::Less, &u, &k(&[1000.0, 70000.0])),
        U8,
        &[255.0, 255.0, 0.0, 255.0, 0.0, 255.0],
        "u16 < [1000,70000]",
    );
}

#[test]
fn the_mask_chain_matches_pyvips_on_every_u8_value() {
    // pyvips: (((x - 10) * 1.2) > 128).ifthenelse(255, 0) is 255 from 117.
    let vals: Vec<f64> = (0..256).map(f64::from).collect();
    let x = row(U8, &vals);
    let m = subtract(&x, &k(&[10.0]));
    let m = multiply(&m, &k(&[1.2]));
    let m = relational(RelOp::More, &m, &k(&[128.0]));
    let m = ifthenelse(&m, &k(&[255.0]), &k(&[0.0]));
    let want: Vec<f64> = (0..256)
        .map(|v| if v >= 117 { 255.0 } else { 0.0 })
        .collect();
    expect(&m, U8, &want, "mask chain");
    assert!(
        m.inputs()[0].same_node(&x),
        "the chain is one node on the source"
    );
    engine_property(&m);
}
