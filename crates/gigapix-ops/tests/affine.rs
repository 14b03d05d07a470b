//! `affine`, `rotate` and the `tilecache` in front of them: a whole-image
//! `f64` reference of inverse mapping and interpolation written here, known
//! sizes and values measured with libvips 8.18, exact equality with `rot`,
//! the tile cache's contract (each tile computed once, bounded memory,
//! errors passed on), and the engine property under 1 to 4 threads.

mod common;

use common::{bytes_of, close, decode, encode, engine_property, pixels};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gigapix_core::sequential::{RowReader, SequentialSource};
use gigapix_core::{
    BandFormat, Error, Header, Image, Inputs, Interpretation, Operation, Rect, Region, Result,
};
use gigapix_exec::{Order, RunOptions, write_into};
use gigapix_ops::tilecache::{TileCacheOptions, tilecache};
use gigapix_ops::{AffineOptions, Angle, Interpolate, affine, rot, rotate};

// ---- helpers ----

/// An in-memory source that counts the pixels it computes, and can fail.
struct Mem {
    header: Header,
    bytes: Vec<u8>,
    computed: Arc<AtomicUsize>,
    fail: bool,
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
        if self.fail {
            return Err(Error::invalid("mem", "asked to fail"));
        }
        self.computed
            .fetch_add(out.area() as usize, Ordering::Relaxed);
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

struct Src {
    image: Image,
    values: Vec<f64>,
    w: usize,
    h: usize,
    bands: usize,
    computed: Arc<AtomicUsize>,
}

/// A smooth image with some noise, values over the format's range.
fn source(w: usize, h: usize, bands: usize, format: BandFormat, seed: u64) -> Src {
    let max = format.max_value();
    let mut s = seed | 1;
    let mut values = Vec::new();
    for y in 0..h {
        for x in 0..w {
            for b in 0..bands {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let smooth = ((x * (3 + b) + y * 5) % 64) as f64 / 63.0;
                let u = if (x + y).is_multiple_of(5) {
                    (s >> 11) as f64 / (1u64 << 53) as f64
                } else {
                    smooth
                };
                let v = u * max;
                values.push(if format == BandFormat::F32 {
                    v as f32 as f64
                } else {
                    v.floor()
                });
            }
        }
    }
    let computed = Arc::new(AtomicUsize::new(0));
    let image = Image::new(
        Mem {
            header: Header::new(w as u32, h as u32, bands as u32, format),
            bytes: encode(&values, format),
            computed: computed.clone(),
            fail: false,
        },
        vec![],
    );
    Src {
        image,
        values,
        w,
        h,
        bands,
        computed,
    }
}

// ---- the reference ----

fn cubic(t: f64) -> [f64; 4] {
    // Catmull-Rom (a = -0.5) for taps -1, 0, 1, 2.
    let k = |x: f64| {
        let x = x.abs();
        if x <= 1.0 {
            1.5 * x * x * x - 2.5 * x * x + 1.0
        } else if x < 2.0 {
            -0.5 * x * x * x + 2.5 * x * x - 4.0 * x + 2.0
        } else {
            0.0
        }
    };
    [k(t + 1.0), k(t), k(1.0 - t), k(2.0 - t)]
}

/// The whole output of an affine, written from the documented conventions:
/// `X = a(x + idx) + b(y + idy) + odx`, pixel (i, j) of the output is the
/// point (i + left, j + top), mapped back and interpolated; the input is
/// extended with the background.
fn affine_ref(
    src: &Src,
    format: BandFormat,
    m: [f64; 4],
    o: &AffineOptions,
    area: (i64, i64, usize, usize),
) -> Vec<f64> {
    let det = m[0] * m[3] - m[1] * m[2];
    let inv = [m[3] / det, -m[1] / det, -m[2] / det, m[0] / det];
    let bg: Vec<f64> = (0..src.bands)
        .map(|b| {
            let v = o.background[b.min(o.background.len() - 1)];
            if format == BandFormat::F32 {
                v as f32 as f64
            } else {
                v.round().clamp(0.0, format.max_value())
            }
        })
        .collect();
    let px = |x: i64, y: i64, b: usize| {
        if x < 0 || y < 0 || x >= src.w as i64 || y >= src.h as i64 {
            bg[b]
        } else {
            src.values[(y as usize * src.w + x as usize) * src.bands + b]
        }
    };
    let mut out = Vec::new();
    for j in 0..area.3 as i64 {
        for i in 0..area.2 as i64 {
            let xx = (i + area.0) as f64 - o.odx;
            let yy = (j + area.1) as f64 - o.ody;
            let x = inv[0] * xx + inv[1] * yy - o.idx;
            let y = inv[2] * xx + inv[3] * yy - o.idy;
            let (fx, fy) = (x.floor(), y.floor());
            let (ix, iy, tx, ty) = (fx as i64, fy as i64, x - fx, y - fy);
            for b in 0..src.bands {
                out.push(match o.interpolate {
                    Interpolate::Nearest => px(ix, iy, b),
                    Interpolate::Bilinear => {
                        let top = px(ix, iy, b) * (1.0 - tx) + px(ix + 1, iy, b) * tx;
                        let bottom = px(ix, iy + 1, b) * (1.0 - tx) + px(ix + 1, iy + 1, b) * tx;
                        top * (1.0 - ty) + bottom * ty
                    }
                    Interpolate::Bicubic => {
                        let (wx, wy) = (cubic(tx), cubic(ty));
                        let mut s = 0.0;
                        for (dy, wy) in (-1..=2).zip(wy) {
                            for (dx, wx) in (-1..=2).zip(wx) {
                                s += wx * wy * px(ix + dx, iy + dy, b);
                            }
                        }
                        s
                    }
                });
            }
        }
    }
    out
}

/// libvips 8.18's default output area, computed independently.
fn bbox(m: [f64; 4], w: f64, h: f64) -> (i64, i64, usize, usize) {
    let pts = [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)];
    let xs: Vec<f64> = pts.iter().map(|&(x, y)| m[0] * x + m[1] * y).collect();
    let ys: Vec<f64> = pts.iter().map(|&(x, y)| m[2] * x + m[3] * y).collect();
    let lo = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);
    let hi = |v: &[f64]| v.iter().cloned().fold(f64::MIN, f64::max);
    (
        (lo(&xs) + 0.5).floor() as i64,
        (lo(&ys) + 0.5).floor() as i64,
        (hi(&xs) - lo(&xs) + 0.5).floor() as usize,
        (hi(&ys) - lo(&ys) + 0.5).floor() as usize,
    )
}

const FORMATS: [BandFormat; 3] = [BandFormat::U8, BandFormat::U16, BandFormat::F32];
const INTERPOLATORS: [Interpolate; 3] = [
    Interpolate::Nearest,
    Interpolate::Bilinear,
    Interpolate::Bicubic,
];

#[test]
fn affine_matches_reference() {
    let r = 30f64.to_radians();
    let matrices = [
        [r.cos(), -r.sin(), r.sin(), r.cos()],
        [2.0, 0.0, 0.0, 2.0],
        [0.7, 0.0, 0.0, 0.55],
        [1.5, 0.3, -0.2, 0.8],
        [-1.0, 0.2, 0.1, 1.1],
    ];
    for format in FORMATS {
        for bands in [1usize, 3, 4] {
            let src = source(23, 17, bands, format, 3 + bands as u64);
            for (mi, m) in matrices.iter().enumerate() {
                for interpolate in INTERPOLATORS {
                    let mut o = AffineOptions::default().interpolate(interpolate);
                    if mi == 3 {
                        o.background = (0..bands).map(|b| 0.25 * (b + 1) as f64).collect();
                        if format != BandFormat::F32 {
                            for v in &mut o.background {
                                *v *= format.max_value();
                            }
                        }
                        o.idx = 0.3;
                        o.ody = -1.7;
                    }
                    if mi == 4 {
                        o.output = Some((-30, 5, 31, 12));
                        o.odx = 2.25;
                    }
                    let out = affine(&src.image, *m, &o);
                    let area = match o.output {
                        Some((l, t, w, h)) => (l, t, w as usize, h as usize),
                        None => bbox(*m, src.w as f64, src.h as f64),
                    };
                    assert_eq!(
                        (out.width() as usize, out.height() as usize),
                        (area.2, area.3)
                    );
                    let want = affine_ref(&src, format, *m, &o, area);
                    let what = format!("{format} {bands} bands {m:?} {interpolate:?}");
                    close(&pixels(&out), &want, format, 1.0, &what);
                }
            }
        }
    }
}

#[test]
fn affine_engine_property() {
    for format in FORMATS {
        let src = source(31, 22, 3, format, 9);
        for interpolate in INTERPOLATORS {
            let o = AffineOptions::default()
                .interpolate(interpolate)
                .background(vec![7.0]);
            engine_property(&rotate(&src.image, 33.0, &o));
            engine_property(&affine(&src.image, [1.3, 0.4, -0.2, 0.9], &o));
        }
    }
}

#[test]
fn sizes_and_values_match_libvips() {
    // rotate(30): output sizes and offsets measured with libvips 8.18.
    for (w, h, ow, oh) in [(7, 5, 9, 8), (10, 10, 14, 14), (100, 37, 105, 82)] {
        let img = gigapix_ops::black(w, h, 1);
        let out = rotate(&img, 30.0, &AffineOptions::default());
        assert_eq!((out.width(), out.height()), (ow, oh), "{w}x{h}");
    }
    for (m, w, h, ow, oh) in [
        ([1.5, 0.0, 0.0, 1.5], 7, 5, 11, 8),
        ([0.5, 0.0, 0.0, 0.5], 5, 3, 3, 2),
        ([1.0, 0.5, 0.0, 1.0], 5, 3, 7, 3),
    ] {
        let out = affine(&gigapix_ops::black(w, h, 1), m, &AffineOptions::default());
        assert_eq!((out.width(), out.height()), (ow, oh), "{m:?}");
    }
    // A 2x bilinear upscale of a 4x4 image with two lit pixels, as libvips
    // 8.18 computes it (integer coordinates map, the edge fades to black).
    let mut v = vec![0.0; 16];
    v[4 + 2] = 200.0;
    v[2 * 4 + 1] = 100.0;
    let src = Image::new(
        Mem {
            header: Header::new(4, 4, 1, BandFormat::U8),
            bytes: encode(&v, BandFormat::U8),
            computed: Arc::default(),
            fail: false,
        },
        vec![],
    );
    let out = affine(&src, [2.0, 0.0, 0.0, 2.0], &AffineOptions::default());
    #[rustfmt::skip]
    let vips = [
        0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 50, 100, 50, 0, 0,
        0, 0, 0, 100, 200, 100, 0, 0,
        0, 25, 50, 75, 100, 50, 0, 0,
        0, 50, 100, 50, 0, 0, 0, 0,
        0, 25, 50, 25, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(pixels(&out), vips.map(|v| v as f64));
    // A constant image upscaled: the last row and column fade into the
    // background, as in libvips (200, then 100, and 50 in the corner).
    let flat = Image::new(
        Mem {
            header: Header::new(4, 4, 1, BandFormat::U8),
            bytes: vec![200; 16],
            computed: Arc::default(),
            fail: false,
        },
        vec![],
    );
    let out = pixels(&affine(
        &flat,
        [2.0, 0.0, 0.0, 2.0],
        &AffineOptions::default(),
    ));
    assert_eq!(out[6], 200.0);
    assert_eq!(out[7], 100.0);
    assert_eq!(out[63], 50.0);
}

#[test]
fn right_angles_equal_rot() {
    for format in FORMATS {
        let src = source(13, 7, 3, format, 5);
        for interpolate in INTERPOLATORS {
            let o = AffineOptions::default().interpolate(interpolate);
            for (deg, angle) in [
                (90.0, Angle::D90),
                (180.0, Angle::D180),
                (-90.0, Angle::D270),
            ] {
                let want = pixels(&rot(&src.image, angle));
                assert_eq!(pixels(&rotate(&src.image, deg, &o)), want, "{deg}");
            }
            assert_eq!(pixels(&rotate(&src.image, 360.0, &o)), src.values);
        }
        // The general path: with exact right-angle matrices and the output
        // area placed on the pixels, nearest is `rot` exactly.
        let (w, h) = (src.w as i64, src.h as i64);
        let nearest = |m: [f64; 4], area: (i64, i64, u32, u32)| {
            let o = AffineOptions::default()
                .interpolate(Interpolate::Nearest)
                .output_area(area);
            pixels(&affine(&src.image, m, &o))
        };
        assert_eq!(
            nearest([0.0, -1.0, 1.0, 0.0], (1 - h, 0, h as u32, w as u32)),
            pixels(&rot(&src.image, Angle::D90))
        );
        assert_eq!(
            nearest([-1.0, 0.0, 0.0, -1.0], (1 - w, 1 - h, w as u32, h as u32)),
            pixels(&rot(&src.image, Angle::D180))
        );
        assert_eq!(
            nearest([0.0, 1.0, -1.0, 0.0], (0, 1 - w, h as u32, w as u32)),
            pixels(&rot(&src.image, Angle::D270))
        );
    }
}

#[test]
fn invalid_arguments() {
    let img = gigapix_ops::black(10, 10, 3);
    let o = AffineOptions::default();
    assert!(affine(&img, [1.0, 2.0, 2.0, 4.0], &o).check().is_err());
    assert!(affine(&img, [f64::NAN, 0.0, 0.0, 1.0], &o).check().is_err());
    let bad_bg = AffineOptions::default().background(vec![1.0, 2.0]);
    assert!(affine(&img, [1.0, 0.0, 0.0, 1.0], &bad_bg).check().is_err());
    let empty = AffineOptions::default().output_area((0, 0, 0, 5));
    assert!(rotate(&img, 10.0, &empty).check().is_err());
    let nan = AffineOptions::default().offsets(0.0, 0.0, f64::INFINITY, 0.0);
    assert!(rotate(&img, 10.0, &nan).check().is_err());
    assert_eq!(
        Interpolate::from_name("Bicubic"),
        Some(Interpolate::Bicubic)
    );
    assert_eq!(
        Interpolate::from_name("nearest"),
        Some(Interpolate::Nearest)
    );
    assert_eq!(Interpolate::from_name("lanczos"), None);
    // An output area wholly outside the transformed image: background.
    let far = AffineOptions::default()
        .output_area((1000, 1000, 3, 2))
        .background(vec![9.0]);
    assert_eq!(pixels(&rotate(&img, 10.0, &far)), vec![9.0; 18]);
    // A tiny scale maps output pixels far beyond the input (past 2^40):
    // background, no overflow.
    for interpolate in INTERPOLATORS {
        let tiny = AffineOptions::default()
            .interpolate(interpolate)
            .output_area((-2, -2, 5, 5))
            .background(vec![3.0]);
        let out = pixels(&affine(&img, [1e-15, 0.0, 0.0, 1e-15], &tiny));
        assert_eq!(
            out.iter().filter(|&&v| v == 3.0).count(),
            24 * 3,
            "{interpolate:?}"
        );
    }
}

// ---- the tile cache ----

#[test]
fn tilecache_passes_pixels_and_computes_tiles_once() {
    for format in [BandFormat::U8, BandFormat::U16, BandFormat::F32] {
        let src = source(70, 45, 3, format, 1);
        let opts = TileCacheOptions {
            tile_width: 16,
            tile_height: 8,
            max_bytes: 1 << 30,
        };
        let cached = tilecache(&src.image, &opts);
        assert_eq!(cached.header(), src.image.header());
        for run in [
            RunOptions::new().threads(4).tile(1, 1),
            RunOptions::new()
                .threads(4)
                .tile(5, 3)
                .order(Order::Shuffle(3)),
            RunOptions::new()
                .threads(2)
                .tile(33, 29)
                .order(Order::Reverse),
        ] {
            assert_eq!(decode(&bytes_of(&cached, &run), format), src.values);
        }
        // A fresh cache: every source pixel computed exactly once, even
        // with four threads asking for overlapping tiles in any order.
        let src = source(70, 45, 3, format, 1);
        let cached = tilecache(&src.image, &opts);
        let out = rotate(&cached, 21.0, &AffineOptions::default());
        bytes_of(
            &out,
            &RunOptions::new()
                .threads(4)
                .tile(9, 7)
                .order(Order::Shuffle(5)),
        );
        assert_eq!(src.computed.load(Ordering::Relaxed), 70 * 45);
        // Each run starts with an empty cache: a second run
        // computes every tile again, once.
        bytes_of(&out, &RunOptions::new().threads(3).order(Order::Reverse));
        assert_eq!(src.computed.load(Ordering::Relaxed), 2 * 70 * 45);
    }
}

#[test]
fn tilecache_with_a_small_budget_stays_correct() {
    let src = source(64, 50, 4, BandFormat::U8, 2);
    let opts = TileCacheOptions {
        tile_width: 8,
        tile_height: 8,
        max_bytes: 3 * 8 * 8 * 4,
    };
    let cached = tilecache(&src.image, &opts);
    for threads in 1..=4 {
        let run = RunOptions::new()
            .threads(threads)
            .tile(11, 13)
            .order(Order::Shuffle(threads as u64));
        assert_eq!(decode(&bytes_of(&cached, &run), BandFormat::U8), src.values);
    }
    // Evicted tiles are recomputed: more than the image, less than 1 GB.
    let n = src.computed.load(Ordering::Relaxed);
    assert!(n > 64 * 50, "{n}");
    let o = AffineOptions::default();
    engine_property(&rotate(&cached, -12.5, &o));
}

#[test]
fn tilecache_passes_errors_on_and_rejects_empty_tiles() {
    let failing = Image::new(
        Mem {
            header: Header::new(40, 40, 1, BandFormat::U8),
            bytes: vec![0; 1600],
            computed: Arc::default(),
            fail: true,
        },
        vec![],
    );
    let cached = tilecache(&failing, &TileCacheOptions::default());
    for threads in 1..=4 {
        let mut buf = vec![0u8; 1600];
        let run = RunOptions::new().threads(threads).tile(7, 7);
        assert!(write_into(&cached, &mut buf, &run).is_err());
    }
    let bad = TileCacheOptions {
        tile_width: 0,
        ..TileCacheOptions::default()
    };
    assert!(tilecache(&failing, &bad).check().is_err());
    let img = gigapix_ops::black(4, 4, 1);
    let grey = tilecache(&img, &TileCacheOptions::default());
    assert_eq!(grey.interpretation(), Interpretation::Grey);
}

// ---- over a sequential source ----

/// Replays packed image bytes row by row.
struct Replay {
    data: Arc<Vec<u8>>,
    pos: usize,
}

impl RowReader for Replay {
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
        let end = self.pos + buf.len();
        buf.copy_from_slice(&self.data[self.pos..end]);
        self.pos = end;
        Ok(())
    }
}

#[test]
fn rotate_over_a_sequential_source() {
    let src = source(90, 70, 3, BandFormat::U8, 4);
    let data = Arc::new(encode(&src.values, BandFormat::U8));
    let seq = Image::new(
        SequentialSource::new(
            "replay",
            *src.image.header(),
            Box::new(move || {
                Ok(Replay {
                    data: data.clone(),
                    pos: 0,
                })
            }),
        ),
        vec![],
    );
    for interpolate in INTERPOLATORS {
        let o = AffineOptions::default().interpolate(interpolate);
        let want = bytes_of(&rotate(&src.image, 37.0, &o), &RunOptions::new().threads(1));
        for threads in 1..=4 {
            let run = RunOptions::new().threads(threads);
            assert_eq!(bytes_of(&rotate(&seq, 37.0, &o), &run), want, "{threads}");
            let run = RunOptions::new()
                .threads(threads)
                .tile(8, 8)
                .memory_cache_limit(0)
                .order(Order::Shuffle(threads as u64));
            assert_eq!(bytes_of(&rotate(&seq, 37.0, &o), &run), want, "{threads}");
        }
    }
}
