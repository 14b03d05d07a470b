//! Band operations (bandjoin_const, bandmean, bandbool, bandfold,
//! bandunfold) against f64 references, at every format, plus the engine
//! property.

mod common;

use common::{engine_property, mem, pixels, quantise};
use gigapix_core::BandFormat;
use gigapix_ops::bands::{BandBool, bandbool, bandfold, bandjoin_const, bandmean, bandunfold};

const ALL: [BandFormat; 8] = BandFormat::ALL;

/// Deterministic values in `lo..=hi` (integers).
fn values(n: usize, lo: i64, hi: i64, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (lo + (s % (hi - lo + 1) as u64) as i64) as f64
        })
        .collect()
}

/// Values spread over most of `f`'s range, quantised to `f`.
fn input(f: BandFormat, n: usize, seed: u64) -> Vec<f64> {
    let (lo, hi): (i64, i64) = match f {
        BandFormat::U8 => (0, 255),
        BandFormat::I8 => (-128, 127),
        BandFormat::U16 => (0, 65535),
        BandFormat::I16 => (-32768, 32767),
        BandFormat::U32 => (0, 4_000_000_000),
        BandFormat::I32 => (-2_000_000_000, 2_000_000_000),
        _ => (-1000, 1000),
    };
    values(n, lo, hi, seed)
        .into_iter()
        .map(|v| quantise(if f.is_float() { v * 0.37 } else { v }, f))
        .collect()
}

const W: usize = 12;
const H: usize = 7;

#[test]
fn bandjoin_const_every_format() {
    for f in ALL {
        let v = input(f, W * H * 2, 1);
        let img = mem(W as u32, H as u32, 2, f, &v);
        let c = [3.7, -2.2, 300.0];
        let out = bandjoin_const(&img, &c);
        assert_eq!((out.bands(), out.format()), (5, f));
        let cq: Vec<f64> = c
            .iter()
            .map(|&x| quantise(if f.is_integer() { x.trunc() } else { x }, f))
            .collect();
        let want: Vec<f64> = v
            .chunks(2)
            .flat_map(|p| p.iter().chain(&cq).cloned().collect::<Vec<_>>())
            .collect();
        assert_eq!(pixels(&out), want, "{f}");
        engine_property(&out);
    }
}

#[test]
fn bandmean_every_format() {
    for f in ALL {
        for bands in [1usize, 2, 3, 5] {
            let v = input(f, W * H * bands, bands as u64);
            let img = mem(W as u32, H as u32, bands as u32, f, &v);
            let out = bandmean(&img);
            assert_eq!((out.bands(), out.format()), (1, f));
            let want: Vec<f64> = v
                .chunks(bands)
                .map(|p| quantise(p.iter().sum::<f64>() / bands as f64, f))
                .collect();
            let got = pixels(&out);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                    "{f} {bands}: {g} vs {w}"
                );
            }
            engine_property(&out);
        }
    }
    // libvips: i8 (-1 + -2) / 2 = -2, u8 (1 + 2) / 2 = 2.
    let i = mem(1, 1, 2, BandFormat::I8, &[-1.0, -2.0]);
    assert_eq!(pixels(&bandmean(&i)), [-2.0]);
    let u = mem(1, 1, 2, BandFormat::U8, &[1.0, 2.0]);
    assert_eq!(pixels(&bandmean(&u)), [2.0]);
}

#[test]
fn bandbool_integer_formats() {
    for f in ALL {
        let v = input(f, W * H * 3, 4);
        let img = mem(W as u32, H as u32, 3, f, &v);
        for op in [BandBool::And, BandBool::Or, BandBool::Eor] {
            let out = bandbool(&img, op);
            if f.is_float() {
                assert!(out.check().is_err());
                continue;
            }
            assert_eq!((out.bands(), out.format()), (1, f));
            let want: Vec<f64> = v
                .chunks(3)
                .map(|p| {
                    let p: Vec<i64> = p.iter().map(|&x| x as i64).collect();
                    let r = match op {
                        BandBool::And => p[0] & p[1] & p[2],
                        BandBool::Or => p[0] | p[1] | p[2],
                        BandBool::Eor => p[0] ^ p[1] ^ p[2],
                    };
                    r as f64
                })
                .collect();
            assert_eq!(pixels(&out), want, "{f} {op:?}");
            engine_property(&out);
        }
    }
}

#[test]
fn bandfold_unfold_every_format() {
    for f in ALL {
        let v = input(f, W * H * 2, 7);
        let img = mem(W as u32, H as u32, 2, f, &v);
        for factor in [None, Some(1), Some(3), Some(4)] {
            let fo = bandfold(&img, factor);
            let k = factor.unwrap_or(W as u32) as usize;
            assert_eq!((fo.width() as usize, fo.bands() as usize), (W / k, 2 * k));
            // Output (x, y, j*2 + b) = input (x*k + j, y, b).
            let mut want = vec![];
            for y in 0..H {
                for x in 0..W / k {
                    for j in 0..k {
                        for b in 0..2 {
                            want.push(v[(y * W + x * k + j) * 2 + b]);
                        }
                    }
                }
            }
            assert_eq!(pixels(&fo), want, "{f} {factor:?}");
            engine_property(&fo);
            let back = bandunfold(&fo, Some(k as u32));
            assert_eq!((back.width() as usize, back.bands()), (W, 2));
            assert_eq!(pixels(&back), v, "{f} {factor:?}");
            engine_property(&back);
        }
        let u = bandunfold(&img, None);
        assert_eq!((u.width() as usize, u.bands()), (2 * W, 1));
        assert_eq!(pixels(&u), v);
        engine_property(&u);
        assert!(bandfold(&img, Some(5)).check().is_err());
        assert!(bandunfold(&img, Some(3)).check().is_err());
    }
}
