//! conv, convsep, sobel, gaussblur, boxblur, sharpen, erode and dilate:
//! against independent whole-image `f64` references written here from the
//! documentation, known values, argument checking, and the engine
//! property (bit-identical output for every tile size, thread count and
//! request order).

mod common;

use common::{RefImg, to_ref};
use gigapix_core::{BandFormat, Header, Image, Inputs, Operation, Rect, Region, Result};
use gigapix_exec::{Order, RunOptions, write_into};
use gigapix_ops::blur::{BOX_SIGMA, gaussmat};
use gigapix_ops::conv::Matrix;
use gigapix_ops::{
    GaussOptions, LinearOptions, SharpenOptions, boxblur, conv, convsep, dilate, erode, gaussblur,
    gaussblur_with, linear_with, noise, sharpen, sobel,
};

// ---- sources and comparison ----

/// Noise of `format`: u8 noise, scaled to u16 (·257) or f32 (/255 − 0.2).
fn source(w: u32, h: u32, bands: u32, format: BandFormat, seed: u64) -> Image {
    let n = noise(w, h, bands, seed);
    match format {
        BandFormat::U8 => n,
        BandFormat::U16 => linear_with(
            &n,
            &[257.0],
            &[0.0],
            &LinearOptions::default().format(format),
        ),
        BandFormat::U32 => linear_with(
            &n,
            &[1000.0],
            &[5.0],
            &LinearOptions::default().format(format),
        ),
        BandFormat::F32 => linear_with(
            &n,
            &[1.0 / 255.0],
            &[-0.2],
            &LinearOptions::default().format(format),
        ),
        _ => unreachable!("format not used here"),
    }
}

/// Clamped read: edge pixels copied outwards.
fn at(img: &RefImg, x: i64, y: i64, b: usize) -> f64 {
    let x = x.clamp(0, img.w as i64 - 1) as usize;
    let y = y.clamp(0, img.h as i64 - 1) as usize;
    img.get(x, y, b)
}

/// The documented output conversion: `floor(v + 0.5)` clamped for integer
/// formats, `f32` as is.
fn store(v: f64, format: BandFormat) -> f64 {
    match format {
        BandFormat::F32 => v,
        f => (v + 0.5).floor().clamp(0.0, f.max_value()),
    }
}

/// Compares within ±1 level (integers; `tol_int` levels) or 1e-4 relative
/// (f32).
fn assert_close(got: &RefImg, want: &RefImg, tol_int: f64, what: &str) {
    assert_eq!(
        (got.w, got.h, got.bands),
        (want.w, want.h, want.bands),
        "{what}"
    );
    for (i, (g, w)) in got.data.iter().zip(&want.data).enumerate() {
        let ok = match got.format {
            BandFormat::F32 => (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
            _ => (g - w).abs() <= tol_int,
        };
        assert!(ok, "{what}: sample {i} is {g}, want {w}");
    }
}

fn mean_abs_diff(a: &RefImg, b: &RefImg) -> f64 {
    a.data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| (x - y).abs())
        .sum::<f64>()
        / a.data.len() as f64
}

/// A one-band `u8` image from bytes (a test source).
struct Data(Header, Vec<u8>);

impl Operation for Data {
    type State = ();
    fn name(&self) -> &'static str {
        "data"
    }
    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.0)
    }
    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let mut r = inputs.alloc(out);
        let w = self.0.width as usize;
        for y in out.y..out.bottom() {
            let s = y as usize * w;
            r.row_mut::<u8>(y)
                .copy_from_slice(&self.1[s + out.x as usize..s + out.right() as usize]);
        }
        Ok(r)
    }
}

fn data(w: u32, h: u32, bytes: Vec<u8>) -> Image {
    Image::new(Data(Header::new(w, h, 1, BandFormat::U8), bytes), vec![])
}

// ---- references ----

fn ref_conv(img: &RefImg, m: &Matrix, format: BandFormat) -> RefImg {
    let (cx, cy) = ((m.width / 2) as i64, (m.height / 2) as i64);
    let integer = m.coefficients.iter().all(|c| c.fract() == 0.0) && m.offset.fract() == 0.0;
    if format == BandFormat::U8 && img.format == BandFormat::U8 && integer {
        // libvips' 8-bit fixed point, as documented.
        let mut q: Vec<f64> = m
            .coefficients
            .iter()
            .map(|c| (c * 256.0 / m.scale).round_ties_even())
            .collect();
        let total: f64 = q.iter().sum();
        let normalised = m.coefficients.iter().sum::<f64>() == m.scale;
        let exact_q = m
            .coefficients
            .iter()
            .all(|c| (c * 256.0 / m.scale).fract() == 0.0);
        let usable = if normalised { total <= 257.0 } else { exact_q };
        if normalised && total < 256.0 {
            q[(m.height / 2 * m.width + m.width / 2) as usize] += 256.0 - total;
        }
        if usable {
            return RefImg::from_fn(img.w, img.h, img.bands, format, |x, y, b| {
                let mut s = 0.0;
                for j in 0..m.height as i64 {
                    for i in 0..m.width as i64 {
                        let c = q[(j * m.width as i64 + i) as usize];
                        s += c * at(img, x as i64 + i - cx, y as i64 + j - cy, b);
                    }
                }
                ((s / 256.0 + 0.5).floor() + m.offset).clamp(0.0, 255.0)
            });
        }
    }
    RefImg::from_fn(img.w, img.h, img.bands, format, |x, y, b| {
        let mut s = 0.0;
        for j in 0..m.height as i64 {
            for i in 0..m.width as i64 {
                s += m.at(i as u32, j as u32) * at(img, x as i64 + i - cx, y as i64 + j - cy, b);
            }
        }
        store(s / m.scale + m.offset, format)
    })
}

fn transpose_mask(m: &Matrix) -> Matrix {
    Matrix {
        width: m.height,
        height: m.width,
        ..m.clone()
    }
}

/// libvips convsep: the row mask, stored in the input format, then the
/// column mask; offset once, at the end.
fn ref_convsep(img: &RefImg, m: &Matrix) -> RefImg {
    let row = if m.height == 1 {
        m.clone()
    } else {
        transpose_mask(m)
    };
    let across = ref_conv(img, &row.clone().with_offset(0.0), img.format);
    ref_conv(&across, &transpose_mask(&row), img.format)
}

/// Three extended boxes per axis, y first, each pass clamping its own
/// input, in real arithmetic (the documented definition of the box path).
fn ref_box_passes(img: &RefImg, ry: &[f64], rx: &[f64]) -> RefImg {
    let pass = |src: &RefImg, radius: f64, vertical: bool| {
        let r = radius.floor();
        let a = radius - r;
        let total = 2.0 * r + 1.0 + 2.0 * a;
        let ri = r as i64;
        RefImg::from_fn(src.w, src.h, src.bands, BandFormat::F32, |x, y, b| {
            let get = |d: i64| {
                if vertical {
                    at(src, x as i64, y as i64 + d, b)
                } else {
                    at(src, x as i64 + d, y as i64, b)
                }
            };
            let centre: f64 = (-ri..=ri).map(get).sum();
            (centre + a * (get(-ri - 1) + get(ri + 1))) / total
        })
    };
    let mut cur = img.clone();
    for &r in ry {
        cur = pass(&cur, r, true);
    }
    for &r in rx {
        cur = pass(&cur, r, false);
    }
    RefImg {
        format: img.format,
        ..cur
    }
    .map(img.format, |v, _| store(v, img.format))
}

/// Pillow's radius for `passes` extended boxes of total variance sigma².
fn box_radius(sigma: f64, passes: f64) -> f64 {
    let s2 = sigma * sigma / passes;
    let l = (((12.0 * s2 + 1.0).sqrt() - 1.0) / 2.0).floor();
    let a = (2.0 * l + 1.0) * (l * (l + 1.0) - 3.0 * s2) / (6.0 * (s2 - (l + 1.0) * (l + 1.0)));
    l + a
}

/// A true gaussian (not truncated at 0.2) with clamped edges.
fn ref_true_gauss(img: &RefImg, sigma: f64) -> RefImg {
    let r = (4.0 * sigma).ceil() as i64;
    let k: Vec<f64> = (-r..=r)
        .map(|d| (-((d * d) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = k.iter().sum();
    let m = Matrix::new(k.len() as u32, 1, k).unwrap().with_scale(sum);
    let across = ref_conv(img, &m, BandFormat::F32);
    let down = ref_conv(
        &RefImg {
            format: BandFormat::F32,
            ..across
        },
        &transpose_mask(&m),
        BandFormat::F32,
    );
    down.map(img.format, |v, _| store(v, img.format))
}

fn ref_rank(img: &RefImg, w: i64, h: i64, max: bool) -> RefImg {
    let (cx, cy) = (w / 2, h / 2);
    RefImg::from_fn(img.w, img.h, img.bands, img.format, |x, y, b| {
        let mut best = at(img, x as i64 - cx, y as i64 - cy, b);
        for j in 0..h {
            for i in 0..w {
                let v = at(img, x as i64 + i - cx, y as i64 + j - cy, b);
                best = if max { best.max(v) } else { best.min(v) };
            }
        }
        best
    })
}

const FORMATS: [BandFormat; 4] = [
    BandFormat::U8,
    BandFormat::U16,
    BandFormat::U32,
    BandFormat::F32,
];

fn sharpen_mask() -> Matrix {
    Matrix::new(3, 3, vec![-1., -1., -1., -1., 16., -1., -1., -1., -1.])
        .unwrap()
        .with_scale(8.0)
}

// ---- conv ----

#[test]
fn conv_matches_reference_for_every_format_and_band_count() {
    let float_mask = Matrix::new(
        4,
        3,
        vec![
            0.5, -1.25, 2.0, 0.1, 1.0, 3.0, -0.7, 0.2, 0.0, 1.5, 0.3, -2.0,
        ],
    )
    .unwrap()
    .with_scale(2.5)
    .with_offset(7.0);
    for format in FORMATS {
        for bands in [1, 3, 4] {
            let img = source(23, 17, bands, format, 5 + bands as u64);
            let r = to_ref(&img);
            for m in [sharpen_mask(), float_mask.clone()] {
                let got = to_ref(&conv(&img, &m));
                assert_eq!(got.format, format);
                // u32 sums exceed f32's exact integers: allow relative error.
                let tol = if format == BandFormat::U32 {
                    2e-6 * 255_000.0 * 30.0
                } else {
                    1.0
                };
                assert_close(
                    &got,
                    &ref_conv(&r, &m, format),
                    tol,
                    &format!("conv {format} {bands}"),
                );
            }
        }
    }
}

#[test]
fn conv_integer_mask_on_u8_is_exact() {
    let img = source(40, 9, 3, BandFormat::U8, 1);
    let got = to_ref(&conv(&img, &sharpen_mask()));
    let want = ref_conv(&to_ref(&img), &sharpen_mask(), BandFormat::U8);
    assert_eq!(got, want);
}

#[test]
fn conv_known_values() {
    // A constant image is left alone by a mask summing to its scale.
    let flat = linear_with(
        &noise(9, 7, 2, 3),
        &[0.0],
        &[77.0],
        &LinearOptions::default(),
    );
    assert!(
        to_ref(&conv(&flat, &sharpen_mask()))
            .data
            .iter()
            .all(|&v| v == 77.0)
    );
    // The identity mask, and a shift by one pixel with edge copy.
    let img = source(11, 6, 1, BandFormat::U8, 9);
    let id = Matrix::new(3, 3, vec![0., 0., 0., 0., 1., 0., 0., 0., 0.]).unwrap();
    assert_eq!(to_ref(&conv(&img, &id)), to_ref(&img));
    let shift = Matrix::new(3, 1, vec![0., 0., 1.]).unwrap();
    let r = to_ref(&img);
    let got = to_ref(&conv(&img, &shift));
    for y in 0..6 {
        for x in 0..11 {
            assert_eq!(got.get(x, y, 0), r.get((x + 1).min(10), y, 0));
        }
    }
}

#[test]
fn convsep_matches_libvips_two_pass_reference() {
    let m = gaussmat(1.5, 0.2).unwrap();
    let col = transpose_mask(&m).with_offset(3.0);
    for format in FORMATS {
        let img = source(31, 19, 3, format, 2);
        let r = to_ref(&img);
        let tol = if format == BandFormat::U32 { 30.0 } else { 1.0 };
        assert_close(
            &to_ref(&convsep(&img, &m)),
            &ref_convsep(&r, &m),
            tol,
            "convsep",
        );
        assert_close(
            &to_ref(&convsep(&img, &col)),
            &ref_convsep(&r, &col),
            tol,
            "convsep col",
        );
    }
}

#[test]
fn sobel_matches_reference() {
    let gx = Matrix::new(3, 3, vec![-1., 0., 1., -2., 0., 2., -1., 0., 1.]).unwrap();
    let gy = Matrix::new(3, 3, vec![-1., -2., -1., 0., 0., 0., 1., 2., 1.]).unwrap();
    for format in [BandFormat::U8, BandFormat::U16, BandFormat::F32] {
        let img = source(19, 13, 2, format, 4);
        let r = to_ref(&img);
        let a = ref_conv(&r, &gx, BandFormat::F32);
        let b = ref_conv(&r, &gy, BandFormat::F32);
        let mut want = a.clone();
        for (w, (x, y)) in want.data.iter_mut().zip(a.data.iter().zip(&b.data)) {
            *w = store(x.abs() + y.abs(), format);
        }
        want.format = format;
        assert_close(&to_ref(&sobel(&img)), &want, 1.0, "sobel");
    }
    // A step of height 10 gives |Gx| = 40 along it.
    let step = linear_with(
        &gigapix_ops::xyz(8, 4),
        &[0.0, 0.0],
        &[0.0, 0.0],
        &LinearOptions::default(),
    );
    let _ = step;
}

// ---- matrix files ----

#[test]
fn matrix_parse_and_errors() {
    let m = Matrix::parse("2 3 4.5 -1\n1 2\n 3\t4 # comment\n\n5 6\n").unwrap();
    assert_eq!((m.width, m.height, m.scale, m.offset), (2, 3, 4.5, -1.0));
    assert_eq!(m.coefficients, [1., 2., 3., 4., 5., 6.]);
    assert!(!m.is_integer());
    assert!(Matrix::parse("1 1\n7\n").unwrap().is_integer());
    for (text, line) in [
        ("", "line 1"),
        ("3\n", "line 1"),
        ("2 2 0\n1 1\n1 1\n", "line 1"),
        ("2 x\n", "line 1"),
        ("2 2\n1 1\n1\n", "line 3"),
        ("2 2\n1 1\n1 z\n", "line 3"),
        ("2 2\n1 1\n", "line 3"),
        ("1 1\n1\n2\n", "line 3"),
    ] {
        let e = Matrix::parse(text).unwrap_err();
        assert!(e.message().contains(line), "{text:?}: {e}");
    }
    let dir = std::env::temp_dir().join(format!("gigapix-conv-{}.mat", std::process::id()));
    std::fs::write(&dir, "3 1 4\n1 2 1\n").unwrap();
    let f = Matrix::from_file(&dir).unwrap();
    std::fs::remove_file(&dir).unwrap();
    assert_eq!((f.width, f.height, f.scale), (3, 1, 4.0));
    assert!(Matrix::from_file("/nonexistent/x.mat").is_err());
    assert!(Matrix::new(2, 2, vec![1.0; 3]).is_err());
    assert!(Matrix::new(0, 2, vec![]).is_err());
}

#[test]
fn invalid_arguments_make_invalid_images() {
    let img = noise(10, 10, 1, 1);
    let bad_scale = Matrix::new(1, 1, vec![1.0]).unwrap().with_scale(0.0);
    let square = Matrix::new(2, 2, vec![1.0; 4]).unwrap();
    for bad in [
        conv(&img, &bad_scale),
        convsep(&img, &square),
        gaussblur(&img, 0.0),
        gaussblur(&img, f64::NAN),
        boxblur(&img, 0, 3),
        erode(&img, 3, 0),
        dilate(&img, 0, 0),
        sharpen(&img, &SharpenOptions::default().sigma(-1.0)),
    ] {
        assert!(bad.check().is_err(), "{bad:?}");
    }
}

// ---- blurs ----

#[test]
fn gaussmat_matches_libvips() {
    // Values printed by libvips 8.18 `gaussmat(sigma, 0.2, separable, integer)`.
    let m = gaussmat(3.0, 0.2).unwrap();
    assert_eq!(
        m.coefficients,
        [5., 8., 12., 16., 19., 20., 19., 16., 12., 8., 5.]
    );
    assert_eq!(m.scale, 140.0);
    let m = gaussmat(10.0, 0.2).unwrap();
    assert_eq!((m.width, m.scale), (35, 466.0));
}

#[test]
fn gaussblur_known_values_from_libvips() {
    // (x·37 + y·91 + x·y·13) mod 256 on 9×4, blurred by libvips 8.18
    // `gaussblur` (integer precision, its 8-bit fixed point).
    let bytes: Vec<u8> = (0..4u32)
        .flat_map(|y| (0..9u32).map(move |x| ((x * 37 + y * 91 + x * y * 13) % 256) as u8))
        .collect();
    let img = data(9, 4, bytes);
    // The exact libvips mask at any sigma (by default sigma 3 takes the
    // extended box passes).
    let exact = GaussOptions::default().box_sigma(f64::INFINITY);
    let got = |s: f64| -> Vec<u8> {
        to_ref(&gaussblur_with(&img, s, &exact))
            .data
            .iter()
            .map(|&v| v as u8)
            .collect()
    };
    assert_eq!(
        got(1.5),
        [
            59, 80, 102, 124, 143, 145, 133, 115, 101, 89, 108, 123, 136, 142, 141, 134, 130, 128,
            101, 123, 137, 146, 145, 140, 133, 134, 136, 90, 121, 142, 152, 150, 140, 131, 129,
            128
        ]
    );
    assert_eq!(
        got(3.0),
        [
            70, 87, 100, 111, 119, 122, 121, 116, 110, 78, 93, 106, 116, 124, 127, 126, 122, 117,
            83, 98, 110, 120, 127, 130, 130, 127, 123, 85, 101, 113, 123, 130, 133, 132, 129, 125
        ]
    );
}

#[test]
fn gaussblur_small_sigma_is_libvips_convsep() {
    for format in FORMATS {
        let img = source(29, 21, 3, format, 6);
        let r = to_ref(&img);
        let m = gaussmat(2.0, 0.2).unwrap();
        let tol = if format == BandFormat::U32 { 30.0 } else { 1.0 };
        assert_close(
            &to_ref(&gaussblur(&img, 2.0)),
            &ref_convsep(&r, &m),
            tol,
            "gaussblur 2",
        );
    }
}

#[test]
fn gaussblur_large_sigma_is_three_extended_boxes() {
    let sigma = BOX_SIGMA + 1.3;
    for format in [BandFormat::U8, BandFormat::U16] {
        for bands in [1, 3] {
            let img = source(100, 80, bands, format, 8);
            let r = to_ref(&img);
            let got = to_ref(&gaussblur(&img, sigma));
            let rad = box_radius(sigma, 3.0);
            let want = ref_box_passes(&r, &[rad; 3], &[rad; 3]);
            assert_close(&got, &want, 1.0, "gaussblur boxes");
            // And close to a true gaussian away from the edges (where each
            // pass copying its own edge differs from copying the input's).
            let inner = |i: &RefImg| common::crop(i, 25, 25, 50, 30);
            let mad = mean_abs_diff(&inner(&got), &inner(&ref_true_gauss(&r, sigma)));
            let level = if format == BandFormat::U8 { 1.0 } else { 257.0 };
            assert!(mad < 0.5 * level, "{format}: MAD {mad} vs a true gaussian");
        }
    }
    // The switch point is an option.
    let img = source(40, 30, 3, BandFormat::U8, 8);
    let r = to_ref(&img);
    let boxes = gaussblur_with(&img, 2.0, &GaussOptions::default().box_sigma(0.0));
    let rad = box_radius(2.0, 3.0);
    assert_close(
        &to_ref(&boxes),
        &ref_box_passes(&r, &[rad; 3], &[rad; 3]),
        1.0,
        "box 2",
    );
    let exact = gaussblur_with(
        &img,
        sigma,
        &GaussOptions::default().box_sigma(f64::INFINITY),
    );
    let m = gaussmat(sigma, 0.2).unwrap();
    assert_close(&to_ref(&exact), &ref_convsep(&r, &m), 1.0, "exact");
    // f32 keeps the exact mask at any sigma.
    let img = source(40, 30, 1, BandFormat::F32, 8);
    let m = gaussmat(sigma, 0.2).unwrap();
    assert_close(
        &to_ref(&gaussblur(&img, sigma)),
        &ref_convsep(&to_ref(&img), &m),
        1.0,
        "f32",
    );
}

/// The box blurs keep per-thread running sums from one strip to the next
/// when a thread is asked for the strip right below its last one: such
/// runs (one thread, forward) must give the bits of runs that never go on
/// (reverse order, several threads, tiles narrower than the image), for
/// the `u8` kernels, the 8.8 fixed point of large radii and `u16`, and
/// match the f64 reference of the passes.
#[test]
fn box_strips_going_on_match_fresh_strips_and_reference() {
    for (format, sigma) in [
        (BandFormat::U8, 6.0),
        (BandFormat::U8, 70.0),
        (BandFormat::U16, 6.0),
    ] {
        let img = source(37, 260, 3, format, 31);
        let out = gaussblur(&img, sigma);
        let run = |threads, order, tw, th| {
            let opts = RunOptions::new().threads(threads).order(order).tile(tw, th);
            bytes(&out, &opts)
        };
        let going_on = run(1, Order::Forward, 37, 9);
        for (threads, order, tw, th) in [
            (1, Order::Reverse, 37, 9),
            (3, Order::Shuffle(5), 37, 5),
            (1, Order::Forward, 20, 9),
            (2, Order::Forward, 37, 64),
        ] {
            assert!(
                run(threads, order, tw, th) == going_on,
                "{format} sigma {sigma}: {threads} threads, tile {tw}x{th}, {order:?}"
            );
        }
        let rad = box_radius(sigma, 3.0);
        let want = ref_box_passes(&to_ref(&img), &[rad; 3], &[rad; 3]);
        assert_close(
            &to_ref(&out),
            &want,
            1.0,
            &format!("{format} sigma {sigma}"),
        );
    }
}

/// The box blurs' per-thread scratch (running sums, rings, block
/// buffers) is pooled pixel memory: the run's peak counts it, and it is
/// allocated once per thread, not once per strip.
#[test]
fn box_blur_scratch_is_counted_and_recycled() {
    let (w, th) = (2000u32, 64u32);
    let report = |img: &Image| {
        let mut buf = vec![0u8; img.header().image_bytes() as usize];
        let opts = RunOptions::new().threads(1).tile(w, th);
        write_into(img, &mut buf, &opts).expect("run")
    };
    let img = source(w, 6 * th, 3, BandFormat::U8, 4);
    let plain = report(&linear_with(
        &img,
        &[1.0],
        &[0.0],
        &LinearOptions::default(),
    ));
    let blur = report(&gaussblur(&img, 10.0));
    // Two rings of 2r + 3 rows of the (margin-wide) input for r = 9, at
    // least.
    let rings = 2 * 21 * (w as u64 * 3);
    assert!(
        blur.peak_pixel_bytes >= plain.peak_pixel_bytes + rings,
        "blur peak {} vs plain {} + rings {rings}",
        blur.peak_pixel_bytes,
        plain.peak_pixel_bytes
    );
    let tall = report(&gaussblur(&source(w, 24 * th, 3, BandFormat::U8, 4), 10.0));
    assert_eq!(tall.pixel_allocations, blur.pixel_allocations);
}

#[test]
fn boxblur_is_the_mean_over_the_box() {
    for format in FORMATS {
        for (w, h) in [(3, 3), (1, 5), (4, 1), (6, 7)] {
            let img = source(25, 18, 3, format, 10);
            let r = to_ref(&img);
            let (fx, fy) = ((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0);
            let want = ref_box_passes(&r, &[fy], &[fx]);
            // Two roundings (u8 fixed point, or a u32/f32 intermediate).
            let tol = match format {
                BandFormat::U32 => 100.0,
                BandFormat::U16 => 2.0,
                _ => 1.0,
            };
            assert_close(
                &to_ref(&boxblur(&img, w, h)),
                &want,
                tol,
                &format!("box {w}x{h} {format}"),
            );
        }
    }
}

#[test]
fn sharpen_is_an_unsharp_mask() {
    let o = SharpenOptions::default()
        .sigma(1.5)
        .amount(0.8)
        .threshold(4.0);
    for format in [BandFormat::U8, BandFormat::F32] {
        let img = source(30, 20, 3, format, 12);
        let o = if format == BandFormat::F32 {
            o.threshold(0.01)
        } else {
            o
        };
        let r = to_ref(&img);
        let b = to_ref(&gaussblur(&img, o.sigma));
        let mut want = r.clone();
        for (w, (&x, &bl)) in want.data.iter_mut().zip(r.data.iter().zip(&b.data)) {
            let d = x - bl;
            if d.abs() >= o.threshold {
                *w = common::quantise(x + o.amount * d, format);
            }
        }
        assert_close(&to_ref(&sharpen(&img, &o)), &want, 1.0, "sharpen");
    }
}

// ---- morphology ----

#[test]
fn erode_and_dilate_match_reference() {
    for format in FORMATS {
        for (w, h) in [(1, 1), (3, 3), (2, 5), (7, 4), (13, 1)] {
            let img = source(22, 15, 3, format, 14);
            let r = to_ref(&img);
            assert_eq!(
                to_ref(&erode(&img, w, h)),
                ref_rank(&r, w as i64, h as i64, false)
            );
            assert_eq!(
                to_ref(&dilate(&img, w, h)),
                ref_rank(&r, w as i64, h as i64, true)
            );
        }
    }
}

// ---- engine property ----

fn bytes(image: &Image, opts: &RunOptions) -> Vec<u8> {
    let mut buf = vec![0u8; image.header().image_bytes() as usize];
    write_into(image, &mut buf, opts).expect("run");
    buf
}

#[test]
fn output_is_identical_for_every_tiling_thread_count_and_order() {
    type Build = Box<dyn Fn(&Image) -> Image>;
    let ops: Vec<(&str, Build)> = vec![
        ("conv", Box::new(|i| conv(i, &sharpen_mask()))),
        (
            "convsep",
            Box::new(|i| convsep(i, &gaussmat(1.2, 0.2).unwrap())),
        ),
        ("sobel", Box::new(sobel)),
        ("gauss small", Box::new(|i| gaussblur(i, 1.7))),
        ("gauss large", Box::new(|i| gaussblur(i, BOX_SIGMA + 0.5))),
        ("gauss 9", Box::new(|i| gaussblur(i, 9.0))),
        ("gauss wide", Box::new(|i| gaussblur(i, 70.0))),
        ("boxblur", Box::new(|i| boxblur(i, 4, 5))),
        (
            "sharpen",
            Box::new(|i| sharpen(i, &SharpenOptions::default())),
        ),
        ("erode", Box::new(|i| erode(i, 5, 3))),
        ("dilate", Box::new(|i| dilate(i, 2, 6))),
    ];
    let mut rng = common::Rng::new(99);
    for format in [BandFormat::U8, BandFormat::U16, BandFormat::F32] {
        let img = source(53, 41, 3, format, 21);
        for (name, op) in &ops {
            let out = op(&img);
            let want = bytes(&out, &RunOptions::new().threads(1));
            for threads in 1..=4 {
                for _ in 0..2 {
                    let tw = 1 + rng.below(60) as u32;
                    let th = 1 + rng.below(45) as u32;
                    let order = match rng.below(3) {
                        0 => Order::Forward,
                        1 => Order::Reverse,
                        _ => Order::Shuffle(rng.below(1000)),
                    };
                    let opts = RunOptions::new().threads(threads).order(order).tile(tw, th);
                    assert!(
                        bytes(&out, &opts) == want,
                        "{name} {format}: {threads} threads, tile {tw}x{th}, {order:?}"
                    );
                }
            }
        }
    }
}
