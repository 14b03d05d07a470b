//! Alpha, compositing and colour: `premultiply`, `unpremultiply`,
//! `composite`, `flatten`, `colourspace` and `cast_scaled`, each against an
//! independent per-pixel `f64` reference written here, known values from
//! libvips 8.18, invalid arguments, and the engine property (bit-identical
//! output for every tile size, thread count and request order).

mod common;

use common::{encode, engine_property, pixels};
use gigapix_core::{
    BandFormat, Header, Image, Inputs, Interpretation, Operation, Rect, Region, Result,
};
use gigapix_ops::{cast_scaled, colourspace, composite, flatten, premultiply, unpremultiply};

// ---- helpers ----

/// An in-memory source holding `f64` values stored as `format`.
struct Mem {
    header: Header,
    bytes: Vec<u8>,
}

impl Operation for Mem {
    type State = ();
    fn name(&self) -> &'static str {
        "mem"
    }
    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.header)
    }
    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let mut r = inputs.alloc(out);
        let pb = self.header.pixel_bytes();
        let stride = self.header.row_bytes();
        for y in out.y..out.bottom() {
            let s = y as usize * stride + out.x as usize * pb;
            r.row_bytes_mut(y)
                .copy_from_slice(&self.bytes[s..s + out.width as usize * pb]);
        }
        Ok(r)
    }
}

fn image(w: u32, h: u32, values: &[f64], format: BandFormat, interp: Interpretation) -> Image {
    let bands = values.len() as u32 / (w * h);
    let mut header = Header::new(w, h, bands, format);
    header.interpretation = interp;
    Image::new(
        Mem {
            header,
            bytes: encode(values, format),
        },
        vec![],
    )
}

/// Random values over the format's range (with plenty of 0 and max, the
/// alpha extremes).
fn values(n: usize, format: BandFormat, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let max = format.max_value();
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            match s % 9 {
                0 => 0.0,
                1 => max,
                _ if format == BandFormat::F32 => u,
                _ => (u * max).floor(),
            }
        })
        .collect()
}

/// [`common::close`] within one level.
fn close(got: &[f64], want: &[f64], format: BandFormat, what: &str) {
    common::close(got, want, format, 1.0, what);
}

const FORMATS: [BandFormat; 4] = [
    BandFormat::U8,
    BandFormat::U16,
    BandFormat::U32,
    BandFormat::F32,
];

// ---- premultiply, unpremultiply ----

#[test]
fn premultiply_and_unpremultiply_match_reference() {
    let (w, h) = (37u32, 11u32);
    for format in FORMATS {
        let max = format.max_value();
        for bands in [2usize, 4, 5] {
            let v = values(w as usize * h as usize * bands, format, bands as u64);
            let img = image(w, h, &v, format, Interpretation::Multiband);
            let pre = premultiply(&img);
            let un = unpremultiply(&img);
            assert_eq!(pre.format(), format);
            let mut want_pre = Vec::new();
            let mut want_un = Vec::new();
            for p in v.chunks(bands) {
                let a = p[bands - 1];
                for &c in &p[..bands - 1] {
                    want_pre.push(c * a / max);
                    want_un.push(if a == 0.0 {
                        0.0
                    } else if format == BandFormat::F32 {
                        c * max / a
                    } else {
                        (c * max / a).min(max)
                    });
                }
                want_pre.push(a);
                want_un.push(a);
            }
            let what = format!("{format} {bands} bands");
            close(
                &pixels(&pre),
                &want_pre,
                format,
                &format!("premultiply {what}"),
            );
            close(
                &pixels(&un),
                &want_un,
                format,
                &format!("unpremultiply {what}"),
            );
            engine_property(&pre);
            engine_property(&un);
        }
    }
}

#[test]
fn premultiply_known_values_and_round_trip() {
    let img = image(
        2,
        1,
        &[200.0, 100.0, 50.0, 128.0, 9.0, 8.0, 7.0, 255.0],
        BandFormat::U8,
        Interpretation::Srgb,
    );
    // libvips: 100.39, 50.19, 25.09 (as float).
    assert_eq!(
        pixels(&premultiply(&img)),
        [100.0, 50.0, 25.0, 128.0, 9.0, 8.0, 7.0, 255.0]
    );
    // Opaque pixels and alpha ≥ 128 survive a round trip within one level.
    let back = pixels(&unpremultiply(&premultiply(&img)));
    close(
        &back,
        &[200.0, 100.0, 50.0, 128.0, 9.0, 8.0, 7.0, 255.0],
        BandFormat::U8,
        "round trip",
    );
}

#[test]
fn alpha_ops_need_two_bands() {
    let grey = image(2, 2, &[1.0; 4], BandFormat::U8, Interpretation::Grey);
    assert!(premultiply(&grey).check().is_err());
    assert!(unpremultiply(&grey).check().is_err());
    assert!(flatten(&grey, &[0.0]).check().is_err());
}

// ---- composite ----

/// Reference `over` of whole images: `overlay` at (x, y) over `base`.
#[allow(clippy::too_many_arguments)]
fn over_ref(
    base: &[f64],
    bw: usize,
    bh: usize,
    bb: usize,
    ov: &[f64],
    ow: usize,
    oh: usize,
    ob: usize,
    x: i64,
    y: i64,
    max: f64,
) -> Vec<f64> {
    let mut out = base.to_vec();
    for j in 0..bh {
        for i in 0..bw {
            let (oi, oj) = (i as i64 - x, j as i64 - y);
            if oi < 0 || oj < 0 || oi >= ow as i64 || oj >= oh as i64 {
                continue;
            }
            let o = &ov[(oj as usize * ow + oi as usize) * ob..][..ob];
            let b = &base[(j * bw + i) * bb..][..bb];
            let d = &mut out[(j * bw + i) * bb..][..bb];
            let a_s = o[ob - 1] / max;
            if ob == bb {
                let a_b = b[bb - 1] / max;
                let a_o = a_s + a_b * (1.0 - a_s);
                for k in 0..bb - 1 {
                    d[k] = if a_o == 0.0 {
                        0.0
                    } else {
                        (o[k] * a_s + b[k] * a_b * (1.0 - a_s)) / a_o
                    };
                }
                d[bb - 1] = a_o * max;
            } else {
                for k in 0..bb {
                    d[k] = o[k] * a_s + b[k] * (1.0 - a_s);
                }
            }
        }
    }
    out
}

#[test]
fn composite_matches_reference() {
    let (bw, bh, ow, oh) = (29usize, 17usize, 13usize, 9usize);
    for format in FORMATS {
        for (bb, ob) in [(4usize, 4usize), (3, 4), (2, 2), (1, 2)] {
            for (x, y) in [(3i64, 2i64), (-5, -4), (20, 12), (0, 0), (100, 3), (-13, 0)] {
                let bv = values(bw * bh * bb, format, 11 + bb as u64);
                let ov = values(ow * oh * ob, format, (5 + ob as u64).wrapping_add(x as u64));
                let base = image(bw as u32, bh as u32, &bv, format, Interpretation::Multiband);
                let overlay = image(ow as u32, oh as u32, &ov, format, Interpretation::Multiband);
                let out = composite(&base, &overlay, x, y);
                assert_eq!(out.header(), base.header());
                let want = over_ref(&bv, bw, bh, bb, &ov, ow, oh, ob, x, y, format.max_value());
                let what = format!("composite {format} {bb}/{ob} at ({x}, {y})");
                close(&pixels(&out), &want, format, &what);
                if (x, y) == (3, 2) || (x, y) == (-5, -4) {
                    engine_property(&out);
                }
            }
        }
    }
}

#[test]
fn composite_casts_the_overlay_and_checks_bands() {
    let base = image(4, 4, &[10.0; 64], BandFormat::U8, Interpretation::Srgb);
    // An f32 overlay, opaque white-ish, cast to u8 (values 0.5 round to 1).
    let ov = image(2, 2, &[0.5; 16], BandFormat::F32, Interpretation::Srgb);
    let out = composite(&base, &ov, 1, 1);
    assert_eq!(out.format(), BandFormat::U8);
    assert!(out.check().is_ok());
    // Known value from libvips 8.18 composite2 (which truncates to 93, 55,
    // 38, 177): within one level.
    let b = image(
        1,
        1,
        &[200.0, 100.0, 50.0, 128.0],
        BandFormat::U8,
        Interpretation::Srgb,
    );
    let o = image(
        1,
        1,
        &[10.0, 20.0, 30.0, 100.0],
        BandFormat::U8,
        Interpretation::Srgb,
    );
    close(
        &pixels(&composite(&b, &o, 0, 0)),
        &[93.0, 55.0, 38.0, 177.0],
        BandFormat::U8,
        "libvips composite2",
    );
    let three = image(2, 2, &[1.0; 12], BandFormat::U8, Interpretation::Srgb);
    assert!(composite(&base, &three, 0, 0).check().is_err());
    assert!(composite(&base, &ov, 1 << 41, 0).check().is_err());
}

// ---- flatten ----

#[test]
fn flatten_matches_reference() {
    let (w, h) = (23usize, 7usize);
    for format in FORMATS {
        let max = format.max_value();
        for bands in [2usize, 4] {
            for bg in [
                vec![0.0],
                vec![max],
                (1..bands).map(|k| k as f64 * 0.2 * max).collect(),
            ] {
                let v = values(w * h * bands, format, 3);
                let img = image(w as u32, h as u32, &v, format, Interpretation::Multiband);
                let out = flatten(&img, &bg);
                assert_eq!(out.bands() as usize, bands - 1);
                let mut want = Vec::new();
                for p in v.chunks(bands) {
                    let a = p[bands - 1] / max;
                    for k in 0..bands - 1 {
                        let g = bg[k.min(bg.len() - 1)];
                        want.push(p[k] * a + g * (1.0 - a));
                    }
                }
                close(
                    &pixels(&out),
                    &want,
                    format,
                    &format!("flatten {format} {bands} {bg:?}"),
                );
            }
        }
    }
    let img = image(
        3,
        3,
        &values(36, BandFormat::U8, 1),
        BandFormat::U8,
        Interpretation::Srgb,
    );
    // libvips 8.18: flatten((200, 100, 50, 128), white) = (227, 177, 152).
    let px = image(
        1,
        1,
        &[200.0, 100.0, 50.0, 128.0],
        BandFormat::U8,
        Interpretation::Srgb,
    );
    assert_eq!(pixels(&flatten(&px, &[255.0])), [227.0, 177.0, 152.0]);
    engine_property(&flatten(&img, &[30.0, 60.0, 90.0]));
    assert!(flatten(&img, &[1.0, 2.0]).check().is_err());
}

// ---- colourspace ----

fn to_linear(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn to_srgb(l: f64) -> f64 {
    if l <= 0.0031308 {
        l * 12.92
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    }
}

/// Reference conversion of one pixel's colour bands.
fn colour_ref(from: Interpretation, to: Interpretation, c: &[f64], max: f64) -> Vec<f64> {
    use Interpretation as I;
    let n: Vec<f64> = c.iter().map(|v| v / max).collect();
    let out: Vec<f64> = match (from, to) {
        (I::Srgb, I::Scrgb) => n.iter().map(|&v| to_linear(v)).collect(),
        (I::Scrgb, I::Srgb) => n.iter().map(|&v| to_srgb(v)).collect(),
        (I::Srgb, I::Grey) => vec![to_srgb(
            0.2126 * to_linear(n[0]) + 0.7152 * to_linear(n[1]) + 0.0722 * to_linear(n[2]),
        )],
        (I::Scrgb, I::Grey) => vec![to_srgb(0.2126 * n[0] + 0.7152 * n[1] + 0.0722 * n[2])],
        (I::Grey, I::Srgb) => vec![n[0]; 3],
        (I::Grey, I::Scrgb) => vec![to_linear(n[0]); 3],
        _ => unreachable!(),
    };
    out.iter().map(|v| v * max).collect()
}

#[test]
fn colourspace_matches_reference() {
    use Interpretation as I;
    let pairs = [
        (I::Srgb, I::Scrgb),
        (I::Scrgb, I::Srgb),
        (I::Srgb, I::Grey),
        (I::Scrgb, I::Grey),
        (I::Grey, I::Srgb),
        (I::Grey, I::Scrgb),
    ];
    let (w, h) = (19usize, 13usize);
    for format in FORMATS {
        let max = format.max_value();
        for (from, to) in pairs {
            let colour = if from == I::Grey { 1 } else { 3 };
            for extra in [0usize, 1] {
                let bands = colour + extra;
                let v = values(w * h * bands, format, (bands * 7) as u64);
                let img = image(w as u32, h as u32, &v, format, from);
                let out = colourspace(&img, to);
                assert_eq!(out.interpretation(), to);
                assert_eq!(out.format(), format);
                let mut want = Vec::new();
                for p in v.chunks(bands) {
                    want.extend(colour_ref(from, to, &p[..colour], max));
                    want.extend(&p[colour..]);
                }
                let what = format!("colourspace {from} -> {to} {format} +{extra}");
                close(&pixels(&out), &want, format, &what);
                if format != BandFormat::U32 && extra == 1 {
                    engine_property(&out);
                }
            }
        }
    }
}

#[test]
fn colourspace_known_values_from_libvips() {
    // libvips 8.18 colourspace("b-w") of these sRGB u8 pixels.
    let cases = [
        ([200.0, 100.0, 50.0], 128.0),
        ([255.0, 0.0, 0.0], 127.0),
        ([0.0, 255.0, 0.0], 220.0),
        ([0.0, 0.0, 255.0], 76.0),
        ([128.0, 128.0, 128.0], 128.0),
        ([10.0, 200.0, 30.0], 173.0),
    ];
    for (rgb, grey) in cases {
        let img = image(1, 1, &rgb, BandFormat::U8, Interpretation::Srgb);
        let got = pixels(&colourspace(&img, Interpretation::Grey))[0];
        assert!(
            (got - grey).abs() <= 1.0,
            "{rgb:?}: {got} vs libvips {grey}"
        );
    }
    // libvips scRGB of (200, 100, 50): 0.57758, 0.12744, 0.03190.
    let img = image(
        1,
        1,
        &[200.0, 100.0, 50.0],
        BandFormat::U8,
        Interpretation::Srgb,
    );
    let f = colourspace(&cast_scaled(&img, BandFormat::F32), Interpretation::Scrgb);
    close(
        &pixels(&f),
        &[0.577_580_5, 0.127_437_7, 0.031_896_03],
        BandFormat::F32,
        "scrgb",
    );
    // And back, to u8.
    let back = cast_scaled(&colourspace(&f, Interpretation::Srgb), BandFormat::U8);
    assert_eq!(pixels(&back), [200.0, 100.0, 50.0]);
}

#[test]
fn colourspace_identity_and_errors() {
    let img = image(2, 2, &[1.0; 12], BandFormat::U8, Interpretation::Srgb);
    assert!(colourspace(&img, Interpretation::Srgb).same_node(&img));
    assert!(
        colourspace(&img, Interpretation::Histogram)
            .check()
            .is_err()
    );
    let multi = image(2, 2, &[1.0; 20], BandFormat::U8, Interpretation::Multiband);
    assert!(colourspace(&multi, Interpretation::Grey).check().is_err());
    // Unlabelled 3 bands are read as sRGB.
    let rgb = image(
        1,
        1,
        &[255.0, 0.0, 0.0],
        BandFormat::U8,
        Interpretation::Multiband,
    );
    assert_eq!(pixels(&colourspace(&rgb, Interpretation::Grey)), [127.0]);
    let same = colourspace(&rgb, Interpretation::Srgb);
    assert_eq!(same.interpretation(), Interpretation::Srgb);
    assert_eq!(pixels(&same), [255.0, 0.0, 0.0]);
    // An sRGB-labelled image with too few bands.
    let two = image(2, 2, &[1.0; 8], BandFormat::U8, Interpretation::Srgb);
    assert!(colourspace(&two, Interpretation::Grey).check().is_err());
}

// ---- cast_scaled ----

#[test]
fn cast_scaled_scales_ranges() {
    let img = image(
        4,
        1,
        &[0.0, 1.0, 200.0, 255.0],
        BandFormat::U8,
        Interpretation::Grey,
    );
    let w = cast_scaled(&img, BandFormat::U16);
    assert_eq!(pixels(&w), [0.0, 257.0, 51400.0, 65535.0]);
    assert_eq!(
        pixels(&cast_scaled(&w, BandFormat::U8)),
        [0.0, 1.0, 200.0, 255.0]
    );
    let f = cast_scaled(&img, BandFormat::F32);
    close(
        &pixels(&f),
        &[0.0, 1.0 / 255.0, 200.0 / 255.0, 1.0],
        BandFormat::F32,
        "to f32",
    );
    assert_eq!(
        pixels(&cast_scaled(&f, BandFormat::U8)),
        [0.0, 1.0, 200.0, 255.0]
    );
    // u16 → u8 rounds v / 257: 128 → 0, 129 → 1, 65279 → 254.
    let s = image(
        3,
        1,
        &[128.0, 129.0, 65279.0],
        BandFormat::U16,
        Interpretation::Grey,
    );
    assert_eq!(pixels(&cast_scaled(&s, BandFormat::U8)), [0.0, 1.0, 254.0]);
    assert!(cast_scaled(&img, BandFormat::U8).same_node(&img));
}
