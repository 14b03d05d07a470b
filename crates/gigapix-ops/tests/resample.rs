//! `shrink`, `reduce`, `resize` and `resize_to` against an independent
//! whole-image `f64` reference written from the documented conventions
//! (pixel centres, kernel widened when shrinking, edges extended by copy,
//! integer formats rounded between the vertical and the horizontal pass),
//! known values, and the engine property: bit-identical output for every
//! tile size, thread count and request order.

use gigapix_core::{BandFormat, Image};
use gigapix_exec::{Order, RunOptions, write_into};
use gigapix_ops::resample::{Kernel, ResizeOptions, reduce, resize, resize_to, shrink};
use gigapix_ops::{cast, linear, noise};
use proptest::prelude::*;

// ---- sources and reading back ----

/// Noise in the given format: u8 as is, u16 ×257, u32 ×16843009, f32 /255.
fn source(w: u32, h: u32, bands: u32, seed: u64, format: BandFormat) -> Image {
    let n = noise(w, h, bands, seed);
    let f = cast(&n, BandFormat::F32);
    match format {
        BandFormat::U8 => n,
        BandFormat::U16 => cast(&linear(&f, &[257.0], &[0.0]), BandFormat::U16),
        BandFormat::U32 => cast(&linear(&f, &[16843009.0], &[0.0]), BandFormat::U32),
        BandFormat::F32 => linear(&f, &[1.0 / 255.0], &[0.0]),
        _ => unreachable!("format not used here"),
    }
}

/// The whole image as `f64`s, through the engine with default options.
fn pixels(image: &Image, opts: &RunOptions) -> Vec<f64> {
    let mut buf = vec![0u8; image.header().image_bytes() as usize];
    write_into(image, &mut buf, opts).expect("run");
    decode(&buf, image.format())
}

fn decode(buf: &[u8], format: BandFormat) -> Vec<f64> {
    match format {
        BandFormat::U8 => buf.iter().map(|&v| v as f64).collect(),
        BandFormat::U16 => buf
            .chunks_exact(2)
            .map(|c| u16::from_ne_bytes([c[0], c[1]]) as f64)
            .collect(),
        BandFormat::U32 => buf
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
        BandFormat::F32 => buf
            .chunks_exact(4)
            .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
        _ => unreachable!("format not used here"),
    }
}

// ---- the reference ----

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
    }
}

/// Kernel value and support, written out per kernel.
fn kernel(k: Kernel, x: f64) -> f64 {
    let x = x.abs();
    match k {
        Kernel::Nearest => unreachable!("nearest has no taps"),
        Kernel::Linear => (1.0 - x).max(0.0),
        // Catmull-Rom.
        Kernel::Cubic if x < 1.0 => 1.5 * x * x * x - 2.5 * x * x + 1.0,
        Kernel::Cubic if x < 2.0 => -0.5 * x * x * x + 2.5 * x * x - 4.0 * x + 2.0,
        // Mitchell, B = C = 1/3.
        Kernel::Mitchell if x < 1.0 => 7.0 / 6.0 * x * x * x - 2.0 * x * x + 8.0 / 9.0,
        Kernel::Mitchell if x < 2.0 => {
            -7.0 / 18.0 * x * x * x + 2.0 * x * x - 10.0 / 3.0 * x + 16.0 / 9.0
        }
        Kernel::Cubic | Kernel::Mitchell => 0.0,
        Kernel::Lanczos2 if x < 2.0 => sinc(x) * sinc(x / 2.0),
        Kernel::Lanczos3 if x < 3.0 => sinc(x) * sinc(x / 3.0),
        Kernel::Lanczos2 | Kernel::Lanczos3 => 0.0,
    }
}

/// For each output sample, (input index, weight) pairs.
fn ref_axis(n_in: usize, n_out: usize, f: f64, k: Kernel) -> Vec<Vec<(usize, f64)>> {
    let extra = n_out as f64 * f - n_in as f64;
    let scale = f.max(1.0);
    (0..n_out)
        .map(|o| {
            let centre = (o as f64 + 0.5) * f - extra / 2.0;
            let clamp = |j: i64| j.clamp(0, n_in as i64 - 1) as usize;
            if k == Kernel::Nearest {
                return vec![(clamp(centre.floor() as i64), 1.0)];
            }
            let reach = (3.0 * scale).ceil() as i64 + 2;
            let c = centre.floor() as i64;
            let mut taps: Vec<(usize, f64)> = (c - reach..=c + reach)
                .map(|j| (clamp(j), kernel(k, (j as f64 + 0.5 - centre) / scale)))
                .filter(|t| t.1 != 0.0)
                .collect();
            let sum: f64 = taps.iter().map(|t| t.1).sum();
            taps.iter_mut().for_each(|t| t.1 /= sum);
            taps
        })
        .collect()
}

fn quantise(v: f64, format: BandFormat) -> f64 {
    match format {
        BandFormat::F32 => v as f32 as f64,
        f => v.round().clamp(0.0, f.max_value()),
    }
}

/// Vertical pass, then horizontal, on `[h][w][bands]` data.
#[allow(clippy::too_many_arguments)]
fn ref_resample(
    data: &[f64],
    (w, h, bands): (usize, usize, usize),
    (ow, oh): (usize, usize),
    (hf, vf): (f64, f64),
    k: Kernel,
    format: BandFormat,
) -> Vec<f64> {
    let vt = if oh == h && vf == 1.0 {
        (0..h).map(|y| vec![(y, 1.0)]).collect()
    } else {
        ref_axis(h, oh, vf, k)
    };
    let ht = if ow == w && hf == 1.0 {
        (0..w).map(|x| vec![(x, 1.0)]).collect()
    } else {
        ref_axis(w, ow, hf, k)
    };
    let mut mid = vec![0.0; oh * w * bands];
    for (y, taps) in vt.iter().enumerate() {
        for i in 0..w * bands {
            let v: f64 = taps
                .iter()
                .map(|&(j, wt)| data[j * w * bands + i] * wt)
                .sum();
            mid[y * w * bands + i] = if format.is_integer() {
                quantise(v, format)
            } else {
                v
            };
        }
    }
    let mut out = vec![0.0; oh * ow * bands];
    for y in 0..oh {
        for (x, taps) in ht.iter().enumerate() {
            for b in 0..bands {
                let v: f64 = taps
                    .iter()
                    .map(|&(j, wt)| mid[(y * w + j) * bands + b] * wt)
                    .sum();
                out[(y * ow + x) * bands + b] = quantise(v, format);
            }
        }
    }
    out
}

fn ref_shrink(
    data: &[f64],
    (w, _h, bands): (usize, usize, usize),
    (xs, ys): (usize, usize),
    (ow, oh): (usize, usize),
    format: BandFormat,
) -> Vec<f64> {
    let mut out = Vec::with_capacity(ow * oh * bands);
    for y in 0..oh {
        for x in 0..ow {
            for b in 0..bands {
                let mut s = 0.0;
                for dy in 0..ys {
                    for dx in 0..xs {
                        s += data[((y * ys + dy) * w + x * xs + dx) * bands + b];
                    }
                }
                out.push(quantise(s / (xs * ys) as f64, format));
            }
        }
    }
    out
}

fn assert_close(got: &[f64], want: &[f64], format: BandFormat, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    // Integer formats: within one level, except where an intermediate value
    // lies within the fixed-point error of a rounding tie and the two
    // passes' one-level errors add up (a few samples in ten thousand).
    let mut off_by_two = 0;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let d = (g - w).abs();
        let ok = match format {
            BandFormat::F32 => d <= 1e-4 * w.abs().max(1.0),
            _ if d > 1.0 && d <= 2.0 => {
                off_by_two += 1;
                true
            }
            _ => d <= 1.0,
        };
        assert!(ok, "{what}: sample {i}: got {g}, want {w}");
    }
    assert!(
        off_by_two * 1000 <= got.len().max(1000),
        "{what}: {off_by_two} samples off by 2"
    );
}

// ---- tests against the reference ----

const FORMATS: [BandFormat; 4] = [
    BandFormat::U8,
    BandFormat::U16,
    BandFormat::U32,
    BandFormat::F32,
];

fn check_reduce(w: u32, h: u32, bands: u32, hs: f64, vs: f64, k: Kernel, format: BandFormat) {
    let src = source(w, h, bands, 7 + w as u64, format);
    let data = pixels(&src, &RunOptions::new().threads(1));
    let out = reduce(&src, hs, vs, k);
    out.check().expect("valid");
    let (ow, oh) = (out.width() as usize, out.height() as usize);
    assert_eq!(ow, ((w as f64 / hs) + 0.5).floor() as usize);
    assert_eq!(oh, ((h as f64 / vs) + 0.5).floor() as usize);
    let want = ref_resample(
        &data,
        (w as usize, h as usize, bands as usize),
        (ow, oh),
        (hs, vs),
        k,
        format,
    );
    let got = pixels(&out, &RunOptions::new().threads(2));
    assert_close(
        &got,
        &want,
        format,
        &format!("reduce {w}x{h}x{bands} {format} by {hs}x{vs} {k}"),
    );
}

#[test]
fn reduce_matches_reference() {
    for format in FORMATS {
        for k in Kernel::ALL {
            check_reduce(37, 23, 3, 1.0 / 0.9, 1.0 / 0.9, k, format);
            check_reduce(41, 30, 1, 3.3, 2.0, k, format);
        }
        check_reduce(50, 9, 4, 7.9, 1.0, Kernel::Lanczos3, format);
        check_reduce(13, 40, 2, 1.0, 2.5, Kernel::Mitchell, format);
        check_reduce(17, 17, 5, 17.0, 8.0, Kernel::Cubic, format);
    }
    // Wide enough for the column-blocked vertical pass to use several
    // blocks.
    for format in [BandFormat::U8, BandFormat::F32] {
        check_reduce(4000, 40, 3, 1.5, 3.5, Kernel::Lanczos3, format);
    }
}

#[test]
fn resize_matches_reference() {
    for format in [BandFormat::U8, BandFormat::F32] {
        let src = source(45, 31, 3, 99, format);
        let data = pixels(&src, &RunOptions::new().threads(1));
        let dims = (45, 31, 3);
        for &(scale, gap) in &[(0.125, 0.0), (0.8, 0.0), (0.3, 2.0), (2.5, 0.0)] {
            let opts = ResizeOptions::default().kernel(Kernel::Lanczos3).gap(gap);
            let out = resize(&src, scale, &opts);
            let (ow, oh) = (out.width() as usize, out.height() as usize);
            assert_eq!(ow, (45.0 * scale + 0.5_f64).floor() as usize);
            assert_eq!(oh, (31.0 * scale + 0.5_f64).floor() as usize);
            // libvips: a box shrink by floor(1 / scale / gap), then a reduce
            // by the rest of 1 / scale (the size ratio when enlarging).
            let s = if gap >= 1.0 && scale < 1.0 {
                (1.0 / scale / gap).floor() as usize
            } else {
                1
            };
            let (data, (w, h, b)) = if s > 1 {
                let (sw, sh) = (45 / s, 31 / s);
                (
                    ref_shrink(&data, dims, (s, s), (sw, sh), format),
                    (sw, sh, 3),
                )
            } else {
                (data.clone(), dims)
            };
            let f = |n: usize, o: usize| {
                if scale < 1.0 {
                    1.0 / scale / s as f64
                } else {
                    n as f64 / o as f64
                }
            };
            let want = ref_resample(
                &data,
                (w, h, b),
                (ow, oh),
                (f(w, ow), f(h, oh)),
                Kernel::Lanczos3,
                format,
            );
            let got = pixels(&out, &RunOptions::new().threads(3));
            assert_close(&got, &want, format, &format!("resize {scale} gap {gap}"));
        }
    }
}

#[test]
fn shrink_matches_reference() {
    for format in FORMATS {
        for &(xs, ys) in &[(1, 1), (2, 2), (3, 1), (1, 4), (5, 3)] {
            let src = source(23, 17, 3, 5, format);
            let data = pixels(&src, &RunOptions::new().threads(1));
            let out = shrink(&src, xs, ys);
            let (ow, oh) = ((23 / xs) as usize, (17 / ys) as usize);
            assert_eq!((out.width() as usize, out.height() as usize), (ow, oh));
            let want = ref_shrink(
                &data,
                (23, 17, 3),
                (xs as usize, ys as usize),
                (ow, oh),
                format,
            );
            // Box averages are exact: integer formats to the level.
            let got = pixels(&out, &RunOptions::new().threads(2));
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-4 * w.abs().max(1.0), "shrink {xs}x{ys}");
            }
        }
    }
}

// ---- known values ----

#[test]
fn constants_stay_constant() {
    let grey = cast(
        &linear(&gigapix_ops::black(61, 47, 3), &[1.0], &[93.0]),
        BandFormat::U8,
    );
    for k in Kernel::ALL {
        for img in [
            reduce(&grey, 2.7, 1.3, k),
            resize(&grey, 1.7, &ResizeOptions::default().kernel(k)),
            resize_to(&grey, 10, 90, &ResizeOptions::default()),
        ] {
            assert!(
                pixels(&img, &RunOptions::new()).iter().all(|&v| v == 93.0),
                "{k}"
            );
        }
    }
}

#[test]
fn linear_reduce_by_two_averages_pairs() {
    // A horizontal ramp 0, 10, 20, ...: linear reduce by 2 puts each output
    // centre between two inputs, weights 1/4 3/4 3/4 1/4 → the pair mean.
    let ramp = cast(
        &linear(&gigapix_ops::xyz(16, 2), &[10.0, 0.0], &[0.0, 0.0]),
        BandFormat::U8,
    );
    let ramp = gigapix_ops::extract_band(&ramp, 0, 1);
    let out = reduce(&ramp, 2.0, 1.0, Kernel::Linear);
    let got = pixels(&out, &RunOptions::new());
    // Edges see the copy extension: (0 + 0 + 3·10 + 20) / 8 = 6.25 and
    // (130 + 3·140 + 3·150 + 150) / 8 = 143.75.
    let row = [6.0, 25.0, 45.0, 65.0, 85.0, 105.0, 125.0, 144.0];
    assert_eq!(got, [row, row].concat());
}

#[test]
fn shrink_known_values() {
    let img = cast(&gigapix_ops::xyz(4, 2), BandFormat::U8);
    let out = shrink(&img, 2, 2);
    // xyz band 0 is x, band 1 is y: means of 2x2 blocks.
    // 0.5 and 2.5 round half away from zero.
    assert_eq!(pixels(&out, &RunOptions::new()), vec![1.0, 1.0, 3.0, 1.0]);
}

#[test]
fn invalid_arguments_give_invalid_images() {
    let img = noise(10, 10, 3, 1);
    assert!(reduce(&img, 0.5, 1.0, Kernel::Linear).check().is_err());
    assert!(reduce(&img, f64::NAN, 1.0, Kernel::Linear).check().is_err());
    assert!(shrink(&img, 0, 1).check().is_err());
    assert!(shrink(&img, 11, 1).check().is_err());
    assert!(
        resize(&img, 0.0, &ResizeOptions::default())
            .check()
            .is_err()
    );
    assert!(
        resize_to(&img, 0, 5, &ResizeOptions::default())
            .check()
            .is_err()
    );
    assert!(resize(&img, 0.5, &ResizeOptions::default()).check().is_ok());
    // Absurd factors give one pixel, quickly.
    let dot = reduce(&img, 1e300, 1e300, Kernel::Lanczos3);
    assert_eq!((dot.width(), dot.height()), (1, 1));
    assert_eq!(pixels(&dot, &RunOptions::new()).len(), 3);
}

// ---- the engine property ----

fn runs() -> Vec<RunOptions> {
    let mut v = Vec::new();
    for threads in 1..=4 {
        for &(tw, th) in &[(1, 1), (7, 3), (13, 64), (1000, 5), (1000, 1000)] {
            for order in [
                Order::Forward,
                Order::Reverse,
                Order::Shuffle(threads as u64),
            ] {
                v.push(RunOptions::new().threads(threads).tile(tw, th).order(order));
            }
        }
        v.push(RunOptions::new().threads(threads));
    }
    v
}

fn check_engine(image: &Image) {
    let want = pixels(image, &RunOptions::new().threads(1));
    let mut want_bytes = vec![0u8; image.header().image_bytes() as usize];
    write_into(image, &mut want_bytes, &RunOptions::new().threads(1)).unwrap();
    for opts in runs() {
        let mut buf = vec![0xa5u8; want_bytes.len()];
        write_into(image, &mut buf, &opts).unwrap();
        assert!(buf == want_bytes, "{image:?} {opts:?}");
    }
    assert_eq!(want.len(), want_bytes.len() / image.format().size());
}

#[test]
fn engine_bit_identical_fixed() {
    for format in FORMATS {
        let src = source(67, 45, 3, 3, format);
        check_engine(&reduce(&src, 1.0 / 0.9, 1.0 / 0.9, Kernel::Linear));
        check_engine(&resize(&src, 0.3, &ResizeOptions::default().gap(2.0)));
    }
}

#[test]
fn engine_bit_identical_wide() {
    // Wide rows and many vertical taps: the column-blocked vertical pass
    // runs several blocks, over strips of every height.
    let img = reduce(
        &source(4000, 60, 3, 4, BandFormat::U8),
        1.5,
        3.0,
        Kernel::Lanczos3,
    );
    let mut want = vec![0u8; img.header().image_bytes() as usize];
    write_into(
        &img,
        &mut want,
        &RunOptions::new().threads(1).tile(2667, 20),
    )
    .unwrap();
    for threads in 1..=4 {
        for (tw, th) in [(2667, 1), (2667, 3), (2667, 7), (333, 11), (2667, 20)] {
            for order in [Order::Forward, Order::Reverse] {
                let opts = RunOptions::new().threads(threads).tile(tw, th).order(order);
                let mut buf = vec![0xa5u8; want.len()];
                write_into(&img, &mut buf, &opts).unwrap();
                assert!(buf == want, "{opts:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn engine_bit_identical(
        w in 1u32..60, h in 1u32..50, bands in 1u32..5, seed in any::<u64>(),
        scale in 0.05f64..3.0, k in 0usize..6, f in 0usize..4, gap in 0usize..2,
    ) {
        let src = source(w, h, bands, seed, FORMATS[f]);
        let opts = ResizeOptions::default().kernel(Kernel::ALL[k]).vscale(scale * 0.7).gap(gap as f64 * 2.0);
        check_engine(&resize(&src, scale, &opts));
    }
}
