//! The assembly operations against independent whole-image references
//! (plain loops over `RefImg`s, written from libvips' documentation and
//! behaviour), at every band format, signed ones included; the engine
//! property on each; zero-copy views and the tiles an `arrayjoin` region
//! asks for; sequential sources; and crop positions pinned to libvips
//! 8.18's.

mod common;

use std::sync::{Arc, Mutex};

use common::{RefImg, Rng, assert_matches, engine_property, quantise, to_ref};
use gigapix_core::sequential::{RowReader, SequentialSource};
use gigapix_core::{BandFormat, Ctx, Error, ErrorKind, Header, Image, Rect, Result};
use gigapix_exec::{RunOptions, write_into};
use gigapix_ops::assembly::{
    Align, ArrayjoinOptions, Compass, FindTrimOptions, GravityOptions, InsertOptions, Interesting,
    JoinOptions, SmartcropOptions, SubsampleOptions, arrayjoin, find_trim, getpoint, gravity,
    insert, join, replicate, smartcrop, subsample, zoom,
};
use gigapix_ops::resample::{ResizeOptions, resize};
use gigapix_ops::{Direction, Extend};

use BandFormat::*;

// ---- sources ----

/// `r` as an image (zero-copy views of its samples).
fn image_of(r: &RefImg) -> Image {
    common::mem(r.w as u32, r.h as u32, r.bands as u32, r.format, &r.data)
}

/// Replays packed bytes row by row (a streaming decoder).
struct Replay {
    data: Arc<Vec<u8>>,
    pos: usize,
}

impl RowReader for Replay {
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
        let end = self.pos + buf.len();
        let src = self.data.get(self.pos..end).ok_or_else(|| {
            Error::new(ErrorKind::InvalidArgument, "read past the end".to_string())
        })?;
        buf.copy_from_slice(src);
        self.pos = end;
        Ok(())
    }
}

/// `r` as a sequential source: rows top to bottom, each once per run.
fn sequential(r: &RefImg) -> Image {
    let header = Header::new(r.w as u32, r.h as u32, r.bands as u32, r.format);
    let data = Arc::new(common::encode(&r.data, r.format));
    Image::new(
        SequentialSource::new(
            "replay",
            header,
            Box::new(move || {
                Ok(Replay {
                    data: data.clone(),
                    pos: 0,
                })
            }),
        ),
        vec![],
    )
}

/// Pseudo-random values over the whole range of `format` (floats: multiples
/// of 1/64 in ±1500, exact in `f32`).
fn sample(w: usize, h: usize, bands: usize, format: BandFormat, seed: u64) -> RefImg {
    let mut rng = Rng::new(seed);
    let mut r = RefImg::new(w, h, bands, format);
    for v in r.data.iter_mut() {
        *v = if format.is_float() {
            rng.range(-96_000, 96_000) as f64 / 64.0
        } else {
            rng.range(format.min_value() as i64, format.max_value() as i64) as f64
        };
    }
    r
}

/// Checks `image` against `want` value for value (random tiles and order),
/// then the engine property.
fn check(image: &Image, want: &RefImg, seed: u64) {
    assert_matches(image, want, &mut Rng::new(seed));
    engine_property(image);
}

// ---- references ----

/// libvips' ink: each value rounded to `f32`, then cast (integers clipped
/// and truncated).
fn ink_ref(format: BandFormat, bands: usize, bg: &[f64]) -> Vec<f64> {
    (0..bands)
        .map(|b| {
            let v = bg[if bg.len() == 1 { 0 } else { b }] as f32 as f64;
            if format.is_float() {
                quantise(v, format)
            } else {
                v.clamp(format.min_value(), format.max_value()).trunc()
            }
        })
        .collect()
}

/// Images cast to their common format and one-band ones copied into
/// `bands` bands.
fn alike_ref(imgs: &[&RefImg], min_bands: usize) -> Vec<RefImg> {
    let format = imgs
        .iter()
        .map(|i| i.format)
        .reduce(BandFormat::common)
        .unwrap();
    let bands = imgs.iter().map(|i| i.bands).max().unwrap().max(min_bands);
    imgs.iter()
        .map(|i| {
            RefImg::from_fn(i.w, i.h, bands, format, |x, y, b| {
                quantise(i.get(x, y, if i.bands == 1 { 0 } else { b }), format)
            })
        })
        .collect()
}

/// The value at `(x, y)` of `img` placed with its origin at `(ox, oy)`, if
/// it covers that point.
fn at(img: &RefImg, ox: i64, oy: i64, x: i64, y: i64, b: usize) -> Option<f64> {
    let (u, v) = (x - ox, y - oy);
    (u >= 0 && v >= 0 && u < img.w as i64 && v < img.h as i64)
        .then(|| img.get(u as usize, v as usize, b))
}

/// `sub` over `main` at `(x, y)`, on the area `area` of main's coordinates.
fn paint_ref(main: &RefImg, sub: &RefImg, x: i64, y: i64, area: Rect, bg: &[f64]) -> RefImg {
    let v = alike_ref(&[main, sub], 1);
    let (m, s) = (&v[0], &v[1]);
    let ink = ink_ref(m.format, m.bands, bg);
    RefImg::from_fn(
        area.width as usize,
        area.height as usize,
        m.bands,
        m.format,
        |px, py, b| {
            let (gx, gy) = (px as i64 + area.x, py as i64 + area.y);
            at(s, x, y, gx, gy, b)
                .or_else(|| at(m, 0, 0, gx, gy, b))
                .unwrap_or(ink[b])
        },
    )
}

fn insert_ref(main: &RefImg, sub: &RefImg, x: i64, y: i64, expand: bool, bg: &[f64]) -> RefImg {
    let m = Rect::of_size(main.w as i64, main.h as i64);
    let area = if expand {
        m.union(&Rect::new(x, y, sub.w as i64, sub.h as i64))
    } else {
        m
    };
    paint_ref(main, sub, x, y, area, bg)
}

/// libvips' `join`: the second image at the end of the first, `shim`
/// apart, aligned; without `expand`, cut to the smaller extent across,
/// starting where the first image starts.
fn join_ref(a: &RefImg, b: &RefImg, horizontal: bool, o: &JoinOptions) -> RefImg {
    let (w1, h1, w2, h2) = (a.w as i64, a.h as i64, b.w as i64, b.h as i64);
    let off = |outer: i64, inner: i64| match o.align {
        Align::Low => 0,
        // libvips: each size halved on its own.
        Align::Centre => outer / 2 - inner / 2,
        Align::High => outer - inner,
    };
    let shim = o.shim as i64;
    let (x, y) = if horizontal {
        (w1 + shim, off(h1, h2))
    } else {
        (off(w1, w2), h1 + shim)
    };
    let union = Rect::of_size(w1, h1).union(&Rect::new(x, y, w2, h2));
    let area = match (o.expand, horizontal) {
        (true, _) => union,
        (false, true) => Rect::new(union.x, 0, union.width, h1.min(h2)),
        (false, false) => Rect::new(0, union.y, w1.min(w2), union.height),
    };
    paint_ref(a, b, x, y, area, &o.background)
}

/// libvips' `arrayjoin`: every image embedded in its cell, cells in rows.
fn arrayjoin_ref(imgs: &[&RefImg], o: &ArrayjoinOptions) -> RefImg {
    let v = alike_ref(imgs, o.background.len());
    let n = v.len();
    let hs = o
        .hspacing
        .unwrap_or(v.iter().map(|i| i.w as u32).max().unwrap()) as usize;
    let vs = o
        .vspacing
        .unwrap_or(v.iter().map(|i| i.h as u32).max().unwrap()) as usize;
    let across = o.across.unwrap_or(n as u32) as usize;
    let down = n.div_ceil(across);
    let shim = o.shim as usize;
    let (w, h) = (
        hs * across + shim * (across - 1),
        vs * down + shim * (down - 1),
    );
    let ink = ink_ref(v[0].format, v[0].bands, &o.background);
    let mut out = RefImg::from_fn(w, h, v[0].bands, v[0].format, |_, _, b| ink[b]);
    let off = |a: Align, outer: usize, inner: usize| -> i64 {
        let (outer, inner) = (outer as i64, inner as i64);
        match a {
            Align::Low => 0,
            Align::Centre => (outer - inner) / 2,
            Align::High => outer - inner,
        }
    };
    for (i, img) in v.iter().enumerate() {
        let (cx, cy) = ((i % across) * (hs + shim), (i / across) * (vs + shim));
        let cw = if i == n - 1 {
            w - cx
        } else if i % across != across - 1 {
            hs + shim
        } else {
            hs
        };
        let ch = if i / across != down - 1 {
            vs + shim
        } else {
            vs
        };
        let (ox, oy) = (
            cx as i64 + off(o.halign, hs, img.w),
            cy as i64 + off(o.valign, vs, img.h),
        );
        for y in cy..cy + ch {
            for x in cx..cx + cw {
                for (b, &ink) in ink.iter().enumerate() {
                    let val = at(img, ox, oy, x as i64, y as i64, b).unwrap_or(ink);
                    out.set(x, y, b, val);
                }
            }
        }
    }
    out
}

fn offsets(d: Compass, w: usize, h: usize, iw: usize, ih: usize) -> (i64, i64) {
    let (cx, cy) = ((w as i64 - iw as i64) / 2, (h as i64 - ih as i64) / 2);
    let (r, b) = (w as i64 - iw as i64, h as i64 - ih as i64);
    match d {
        Compass::Centre => (cx, cy),
        Compass::North => (cx, 0),
        Compass::East => (r, cy),
        Compass::South => (cx, b),
        Compass::West => (0, cy),
        Compass::NorthEast => (r, 0),
        Compass::SouthEast => (r, b),
        Compass::SouthWest => (0, b),
        Compass::NorthWest => (0, 0),
    }
}

/// What a `gravity` canvas is filled with, for the reference.
#[derive(Clone, Debug)]
enum Fill {
    Extend(Extend),
    Background(Vec<f64>),
}

fn gravity_ref(img: &RefImg, d: Compass, w: usize, h: usize, fill: &Fill) -> RefImg {
    let (x, y) = offsets(d, w, h, img.w, img.h);
    let flat = |ink: Vec<f64>| {
        RefImg::from_fn(w, h, img.bands, img.format, |px, py, b| {
            at(img, x, y, px as i64, py as i64, b).unwrap_or(ink[b])
        })
    };
    match fill {
        Fill::Extend(Extend::White) => {
            // libvips paints every byte 0xFF; floats get 255.
            let white = match img.format {
                U8 | U16 | U32 => img.format.max_value(),
                I8 | I16 | I32 => -1.0,
                _ => 255.0,
            };
            flat(vec![white; img.bands])
        }
        Fill::Extend(e) => common::embed(img, x, y, w, h, *e),
        Fill::Background(bg) => flat(ink_ref(img.format, img.bands, bg)),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// libvips' `find_trim` on an image without alpha, in `f64`.
fn find_trim_ref(img: &RefImg, threshold: f64, bg: &[f64], line_art: bool) -> [f64; 4] {
    let (w, h) = (img.w as i64, img.h as i64);
    let (mut l, mut t, mut r, mut b) = (w, h, -1, -1);
    for y in 0..h {
        for x in 0..w {
            let hit = (0..img.bands).any(|band| {
                let v = if line_art {
                    img.get(x as usize, y as usize, band)
                } else {
                    let mut win = Vec::new();
                    for dy in -1..=1 {
                        for dx in -1..=1 {
                            let (sx, sy) = ((x + dx).clamp(0, w - 1), (y + dy).clamp(0, h - 1));
                            win.push(img.get(sx as usize, sy as usize, band));
                        }
                    }
                    median(win)
                };
                let bgs: Vec<f64> = if bg.len() == 1 {
                    vec![bg[0]]
                } else if img.bands == 1 {
                    bg.to_vec()
                } else {
                    vec![bg[band]]
                };
                bgs.iter().any(|&g| (v - g).abs() > threshold)
            });
            if hit {
                (l, t, r, b) = (l.min(x), t.min(y), r.max(x), b.max(y));
            }
        }
    }
    if r < 0 {
        return [w as f64, h as f64, 0.0, 0.0];
    }
    [l as f64, t as f64, (r - l + 1) as f64, (b - t + 1) as f64]
}

/// The values of a 1×1 measurement image.
fn values(image: &Image) -> Vec<f64> {
    to_ref(image).data
}

/// The format paired with `f` in two-image tests: every combination of
/// signedness and size gets a turn over the loop.
fn partner(i: usize) -> BandFormat {
    BandFormat::ALL[(i * 3 + 1) % 8]
}

// ---- insert ----

#[test]
fn insert_matches_reference_at_every_format() {
    for (i, &f) in BandFormat::ALL.iter().enumerate() {
        let g = partner(i);
        let main = sample(23, 17, 3, f, i as u64);
        let sub = sample(9, 7, 1, g, 100 + i as u64);
        for (x, y, expand) in [
            (4, 5, false),
            (-3, 12, false),
            (18, -2, true),
            (-5, -4, true),
            (30, 20, true),
        ] {
            let bg = [3.7, -1.5, 300.6];
            let o = InsertOptions::default().expand(expand).background(bg);
            let img = insert(&image_of(&main), &image_of(&sub), x, y, &o);
            assert_eq!(img.format(), BandFormat::common(f, g));
            check(&img, &insert_ref(&main, &sub, x, y, expand, &bg), i as u64);
        }
    }
}

#[test]
fn insert_regions_inside_one_image_are_views() {
    let main = image_of(&sample(40, 30, 3, U8, 1));
    let sub = image_of(&sample(10, 10, 3, U8, 2));
    let img = insert(&main, &sub, 20, 5, &InsertOptions::default());
    let mut ctx = Ctx::standalone();
    // Inside sub; inside main clear of sub; across both.
    assert!(ctx.region(&img, Rect::new(22, 6, 5, 5)).unwrap().is_view());
    assert!(ctx.region(&img, Rect::new(0, 0, 15, 30)).unwrap().is_view());
    assert!(
        !ctx.region(&img, Rect::new(15, 0, 10, 10))
            .unwrap()
            .is_view()
    );
}

#[test]
fn insert_rejects_band_mismatches_and_bad_backgrounds() {
    let a = image_of(&sample(8, 8, 3, U8, 1));
    let b = image_of(&sample(4, 4, 2, U8, 2));
    assert!(
        insert(&a, &b, 0, 0, &InsertOptions::default())
            .check()
            .is_err()
    );
    let c = image_of(&sample(4, 4, 1, U8, 2));
    let o = InsertOptions::default().background([1.0, 2.0]);
    assert!(insert(&a, &c, 0, 0, &o).check().is_err());
    // A one-band result takes the first of several values, as libvips.
    let one = image_of(&sample(8, 8, 1, U8, 3));
    let o = InsertOptions::default().expand(true).background([7.0, 9.0]);
    let img = insert(&one, &c, 6, 6, &o);
    assert_eq!(to_ref(&img).get(9, 0, 0), 7.0);
}

// ---- join ----

#[test]
fn join_matches_reference_at_every_format() {
    for (i, &f) in BandFormat::ALL.iter().enumerate() {
        let g = partner(i);
        let a = sample(13, 11, 2, f, i as u64);
        let b = sample(7, 16, 2, g, 50 + i as u64);
        for (k, horizontal) in [true, false].into_iter().enumerate() {
            for align in [Align::Low, Align::Centre, Align::High] {
                for expand in [false, true] {
                    let o = JoinOptions::default()
                        .expand(expand)
                        .shim(k as u32 * 3)
                        .background([-7.25, 1e10])
                        .align(align);
                    let d = if horizontal {
                        Direction::Horizontal
                    } else {
                        Direction::Vertical
                    };
                    let img = join(&image_of(&a), &image_of(&b), d, &o);
                    let want = join_ref(&a, &b, horizontal, &o);
                    assert_matches(&img, &want, &mut Rng::new(i as u64));
                }
            }
        }
        let o = JoinOptions::default().shim(2).align(Align::Centre);
        engine_property(&join(&image_of(&a), &image_of(&b), Direction::Vertical, &o));
    }
}

// ---- arrayjoin ----

/// 16 tiles of assorted sizes (one of them one-band) of `format`.
fn tiles(format: BandFormat, seed: u64) -> Vec<RefImg> {
    let mut rng = Rng::new(seed);
    (0..16)
        .map(|i| {
            let (w, h) = (rng.range(9, 21) as usize, rng.range(7, 15) as usize);
            sample(w, h, if i == 5 { 1 } else { 3 }, format, seed * 100 + i)
        })
        .collect()
}

#[test]
fn arrayjoin_of_4x4_tiles_matches_reference_at_every_format() {
    for (i, &f) in BandFormat::ALL.iter().enumerate() {
        let t = tiles(f, i as u64 + 1);
        let refs: Vec<&RefImg> = t.iter().collect();
        let images: Vec<Image> = t.iter().map(image_of).collect();
        let options = [
            ArrayjoinOptions::default().across(4),
            ArrayjoinOptions::default()
                .across(4)
                .shim(3)
                .halign(Align::Centre)
                .valign(Align::High)
                .background([10.0, -3.7, 300.6]),
            ArrayjoinOptions::default()
                .across(4)
                .hspacing(12)
                .vspacing(9)
                .halign(Align::High)
                .valign(Align::Centre)
                .shim(1),
        ];
        for o in &options {
            let img = arrayjoin(&images, o);
            let want = arrayjoin_ref(&refs, o);
            check(&img, &want, i as u64);
        }
    }
}

#[test]
fn arrayjoin_layouts_and_formats() {
    // All in one row by default; a last row that is not full; mixed
    // formats (u8 and i16 give i16; with f32, f32).
    let t: Vec<RefImg> = (0..7)
        .map(|i| sample(6 + i, 5 + (i % 3), 2, [U8, I16, U8, F32][i % 4], i as u64))
        .collect();
    let refs: Vec<&RefImg> = t.iter().collect();
    let images: Vec<Image> = t.iter().map(image_of).collect();
    for o in [
        ArrayjoinOptions::default(),
        ArrayjoinOptions::default().across(3).shim(2),
        ArrayjoinOptions::default()
            .across(5)
            .halign(Align::Centre)
            .background([4.0]),
    ] {
        let img = arrayjoin(&images, &o);
        assert_eq!(img.format(), F32);
        check(&img, &arrayjoin_ref(&refs, &o), 3);
    }
    // Bands: a 2-band tile cannot join 3-band ones; a 3-value background
    // makes one-band tiles three-band.
    let a = image_of(&sample(4, 4, 2, U8, 1));
    let b = image_of(&sample(4, 4, 3, U8, 2));
    assert!(
        arrayjoin(&[a.clone(), b], &ArrayjoinOptions::default())
            .check()
            .is_err()
    );
    let g = image_of(&sample(4, 4, 1, U8, 3));
    let o = ArrayjoinOptions::default().background([1.0, 2.0, 3.0]);
    assert_eq!(arrayjoin(&[g.clone(), g], &o).bands(), 3);
    assert!(
        arrayjoin(&[], &ArrayjoinOptions::default())
            .check()
            .is_err()
    );
}

/// Every tile behind a spy: which tiles each region asks for.
#[test]
fn arrayjoin_regions_ask_only_the_tiles_they_overlap() {
    let t: Vec<RefImg> = (0..16).map(|i| sample(10, 8, 3, U8, i)).collect();
    let spied: Vec<(Image, Arc<Mutex<Vec<Rect>>>)> =
        t.iter().map(|r| common::spy(&image_of(r))).collect();
    let images: Vec<Image> = spied.iter().map(|(i, _)| i.clone()).collect();
    let img = arrayjoin(&images, &ArrayjoinOptions::default().across(4).shim(2));
    let asked = |rect: Rect| -> Vec<usize> {
        for (_, log) in &spied {
            log.lock().unwrap().clear();
        }
        let region = Ctx::standalone().region(&img, rect).unwrap();
        assert_eq!(region.rect(), rect);
        spied
            .iter()
            .enumerate()
            .filter(|(_, (_, log))| !log.lock().unwrap().is_empty())
            .map(|(i, _)| i)
            .collect()
    };
    // Cells are 12x10 (10x8 tiles plus a shim of 2).
    assert_eq!(asked(Rect::new(14, 11, 5, 5)), [5]);
    assert_eq!(asked(Rect::new(14, 11, 16, 15)), [5, 6, 9, 10]);
    // In the shim between tiles 5 and 6: no tile at all.
    assert_eq!(asked(Rect::new(22, 12, 2, 3)), Vec::<usize>::new());
    // A region inside a tile is the tile's own view.
    assert!(
        Ctx::standalone()
            .region(&img, Rect::new(14, 11, 5, 5))
            .unwrap()
            .is_view()
    );
    assert!(
        !Ctx::standalone()
            .region(&img, Rect::new(14, 11, 12, 5))
            .unwrap()
            .is_view()
    );
}

#[test]
fn arrayjoin_of_many_tiles() {
    // 2500 tiles: building and computing cost what the regions touch.
    let t: Vec<RefImg> = (0..2500).map(|i| sample(4, 3, 1, U8, i)).collect();
    let refs: Vec<&RefImg> = t.iter().collect();
    let images: Vec<Image> = t.iter().map(image_of).collect();
    let o = ArrayjoinOptions::default().across(50).shim(1);
    let img = arrayjoin(&images, &o);
    assert_eq!((img.width(), img.height()), (249, 199));
    let want = arrayjoin_ref(&refs, &o);
    let got = common::bytes_of(&img, &RunOptions::new().threads(4));
    assert_eq!(got, common::encode(&want.data, U8));
}

// ---- replicate, zoom, subsample ----

#[test]
fn replicate_zoom_and_subsample_match_reference_at_every_format() {
    for (i, &f) in BandFormat::ALL.iter().enumerate() {
        let r = sample(7, 5, 2, f, i as u64);
        let img = image_of(&r);
        let (a, d) = (3, 4);
        let want = RefImg::from_fn(r.w * a, r.h * d, r.bands, f, |x, y, b| {
            r.get(x % r.w, y % r.h, b)
        });
        check(&replicate(&img, a as u32, d as u32), &want, 1);
        let (xf, yf) = (3, 2);
        let want = RefImg::from_fn(r.w * xf, r.h * yf, r.bands, f, |x, y, b| {
            r.get(x / xf, y / yf, b)
        });
        check(&zoom(&img, xf as u32, yf as u32), &want, 2);
        let big = sample(61, 47, 2, f, 10 + i as u64);
        for (xf, yf, point) in [(2, 3, false), (1, 4, false), (3, 1, true), (12, 5, false)] {
            let want = RefImg::from_fn(big.w / xf, big.h / yf, 2, f, |x, y, b| {
                big.get(x * xf, y * yf, b)
            });
            let o = SubsampleOptions::default().point(point);
            check(
                &subsample(&image_of(&big), xf as u32, yf as u32, &o),
                &want,
                3,
            );
        }
    }
}

#[test]
fn replicate_zoom_and_subsample_edges() {
    let img = image_of(&sample(7, 5, 1, U8, 1));
    // Inside one copy: the input's view.
    let rep = replicate(&img, 3, 3);
    assert!(
        Ctx::standalone()
            .region(&rep, Rect::new(8, 6, 5, 3))
            .unwrap()
            .is_view()
    );
    assert!(
        !Ctx::standalone()
            .region(&rep, Rect::new(6, 4, 3, 3))
            .unwrap()
            .is_view()
    );
    // Factors of 1 are the image itself.
    assert!(zoom(&img, 1, 1).same_node(&img));
    assert!(subsample(&img, 1, 1, &SubsampleOptions::default()).same_node(&img));
    assert!(
        subsample(&img, 8, 1, &SubsampleOptions::default())
            .check()
            .is_err()
    );
    assert!(zoom(&img, 1 << 30, 1).check().is_err());
    assert!(replicate(&img, 0, 1).check().is_err());
}

// ---- gravity ----

const COMPASS: [Compass; 9] = [
    Compass::Centre,
    Compass::North,
    Compass::East,
    Compass::South,
    Compass::West,
    Compass::NorthEast,
    Compass::SouthEast,
    Compass::SouthWest,
    Compass::NorthWest,
];

#[test]
fn gravity_matches_reference_at_every_format() {
    let fills = [
        Fill::Extend(Extend::Black),
        Fill::Extend(Extend::White),
        Fill::Extend(Extend::Copy),
        Fill::Extend(Extend::Repeat),
        Fill::Extend(Extend::Mirror),
        Fill::Background(vec![-2.6, 70000.0, 12.5]),
    ];
    for (i, &f) in BandFormat::ALL.iter().enumerate() {
        let r = sample(9, 6, 3, f, i as u64);
        for (k, fill) in fills.iter().enumerate() {
            let d = COMPASS[(i + k) % 9];
            for (w, h) in [(16, 11), (5, 9), (9, 6)] {
                let o = match fill {
                    Fill::Extend(e) => GravityOptions::default().extend(*e),
                    Fill::Background(bg) => GravityOptions::default().background(bg.clone()),
                };
                let img = gravity(&image_of(&r), d, w as u32, h as u32, &o);
                check(&img, &gravity_ref(&r, d, w, h, fill), k as u64);
            }
        }
    }
}

#[test]
fn gravity_every_direction_and_defaults() {
    let r = sample(6, 5, 1, I16, 4);
    for d in COMPASS {
        for (w, h) in [(11, 8), (4, 3), (7, 5)] {
            let img = gravity(&image_of(&r), d, w, h, &GravityOptions::default());
            let want = gravity_ref(&r, d, w as usize, h as usize, &Fill::Extend(Extend::Black));
            assert_matches(&img, &want, &mut Rng::new(1));
        }
    }
    // A background set without an extend is used; an explicit extend wins.
    let o = GravityOptions::default().background([9.0]);
    let img = gravity(&image_of(&r), Compass::Centre, 10, 10, &o);
    assert_eq!(to_ref(&img).get(0, 0, 0), 9.0);
    let img = gravity(
        &image_of(&r),
        Compass::Centre,
        10,
        10,
        &o.clone().extend(Extend::Black),
    );
    assert_eq!(to_ref(&img).get(0, 0, 0), 0.0);
    // The same size and position is the image itself; a bad background
    // is an error.
    let same = image_of(&r);
    assert!(gravity(&same, Compass::NorthWest, 6, 5, &GravityOptions::default()).same_node(&same));
    let o = GravityOptions::default().background([1.0, 2.0]);
    let rgb = image_of(&sample(6, 5, 3, I16, 4));
    assert!(gravity(&rgb, Compass::Centre, 9, 9, &o).check().is_err());
    // A one-band image takes the first of several values, as libvips.
    let img = gravity(&same, Compass::Centre, 9, 9, &o);
    assert_eq!(to_ref(&img).get(0, 0, 0), 1.0);
    assert!(
        gravity(&same, Compass::Centre, 0, 9, &GravityOptions::default())
            .check()
            .is_err()
    );
}

// ---- getpoint ----

#[test]
fn getpoint_at_every_format() {
    for (i, &f) in BandFormat::ALL.iter().enumerate() {
        let r = sample(9, 7, 3, f, i as u64);
        for (x, y) in [(0, 0), (8, 6), (3, 5)] {
            let p = getpoint(&image_of(&r), x, y);
            assert_eq!(
                (p.width(), p.height(), p.bands(), p.format()),
                (1, 1, 3, F64)
            );
            let want: Vec<f64> = (0..3).map(|b| r.get(x as usize, y as usize, b)).collect();
            assert_eq!(values(&p), want, "{f} ({x}, {y})");
            engine_property(&p);
        }
        assert!(getpoint(&image_of(&r), 9, 0).check().is_err());
        assert!(getpoint(&image_of(&r), 0, 7).check().is_err());
    }
}

// ---- find_trim ----

/// An image of `bg` with a block of content, values near the background
/// (noise within the threshold), and isolated outliers the median
/// removes.
fn trim_scene(format: BandFormat, bands: usize, bg: f64, step: f64, seed: u64) -> RefImg {
    let mut rng = Rng::new(seed);
    let (w, h) = (31, 23);
    let mut r = RefImg::new(w, h, bands, format);
    for y in 0..h {
        for x in 0..w {
            for b in 0..bands {
                let noise = rng.range(-4, 4) as f64 * step / 10.0;
                let content = (7..19).contains(&x) && (5..16).contains(&y);
                let v = if content {
                    bg + (rng.range(3, 9) as f64) * step * if b == 1 { -1.0 } else { 1.0 }
                } else {
                    bg + noise
                };
                r.set(x, y, b, quantise(v, format));
            }
        }
    }
    // Isolated outliers outside the block.
    for (x, y) in [(2, 2), (28, 20), (25, 3)] {
        r.set(x, y, 0, quantise(bg + 20.0 * step, format));
    }
    r
}

#[test]
fn find_trim_matches_reference_at_every_format() {
    let backgrounds = [
        (U8, 200.0, 10.0),
        (I8, -50.0, 10.0),
        (U16, 40000.0, 10.0),
        (I16, -2000.0, 10.0),
        (U32, 100_000.0, 10.0),
        (I32, -100_000.0, 10.0),
        (F32, 0.5, 0.01),
        (F64, -3.25, 0.01),
    ];
    for (i, &(f, bg, step)) in backgrounds.iter().enumerate() {
        let threshold = step;
        let r = trim_scene(f, 3, bg, step, i as u64);
        for line_art in [false, true] {
            let o = FindTrimOptions::default()
                .threshold(threshold)
                .background([bg])
                .line_art(line_art);
            let t = find_trim(&image_of(&r), &o);
            assert_eq!((t.bands(), t.format()), (4, U32));
            let want = find_trim_ref(&r, threshold, &[bg], line_art);
            assert_eq!(values(&t), want, "{f} line_art {line_art}");
            if line_art {
                assert_eq!(want, [2.0, 2.0, 27.0, 19.0], "outliers count in line art");
            } else {
                assert_eq!(want, [7.0, 5.0, 12.0, 11.0], "the median removes outliers");
            }
            engine_property(&t);
        }
        // All background: width and height 0, left and top the size.
        let flat = RefImg::from_fn(12, 9, 1, f, |_, _, _| bg);
        let o = FindTrimOptions::default()
            .threshold(threshold)
            .background([bg]);
        assert_eq!(
            values(&find_trim(&image_of(&flat), &o)),
            [12.0, 9.0, 0.0, 0.0]
        );
    }
}

#[test]
fn find_trim_backgrounds_and_alpha() {
    // The default background is 255: a black image is all content.
    let black = RefImg::new(10, 6, 3, U8);
    let t = find_trim(&image_of(&black), &FindTrimOptions::default());
    assert_eq!(values(&t), [0.0, 0.0, 10.0, 6.0]);
    // One value per band.
    let mut r = RefImg::from_fn(10, 8, 3, U8, |_, _, b| [10.0, 20.0, 30.0][b]);
    for y in 2..5 {
        for x in 3..7 {
            r.set(x, y, 2, 90.0);
        }
    }
    let o = FindTrimOptions::default().background([10.0, 20.0, 30.0]);
    assert_eq!(values(&find_trim(&image_of(&r), &o)), [3.0, 2.0, 4.0, 3.0]);
    // A one-band image against several values: content where it differs
    // from any of them.
    let g = RefImg::from_fn(8, 8, 1, U8, |x, _, _| if x < 4 { 0.0 } else { 100.0 });
    let o = FindTrimOptions::default().background([0.0, 100.0]);
    let want = find_trim_ref(&g, 10.0, &[0.0, 100.0], false);
    assert_eq!(values(&find_trim(&image_of(&g), &o)), want);
    // Alpha is flattened against the background first: transparent
    // content does not count.
    let rgba = RefImg::from_fn(12, 10, 4, U8, |x, y, b| {
        match (b, (3..9).contains(&x), y < 5) {
            (3, true, _) => 255.0,
            (3, false, _) => 0.0,
            (_, true, top) => {
                if top {
                    0.0
                } else {
                    255.0
                }
            }
            _ => 17.0,
        }
    });
    let t = find_trim(&image_of(&rgba), &FindTrimOptions::default());
    assert_eq!(values(&t), [3.0, 0.0, 6.0, 5.0]);
    // Errors: a background of the wrong length; an image too small for
    // the median (fine in line art), as libvips.
    let o = FindTrimOptions::default().background([1.0, 2.0]);
    assert!(find_trim(&image_of(&r), &o).check().is_err());
    let tiny = image_of(&RefImg::new(2, 5, 1, U8));
    assert!(
        find_trim(&tiny, &FindTrimOptions::default())
            .check()
            .is_err()
    );
    let o = FindTrimOptions::default().line_art(true);
    assert_eq!(values(&find_trim(&tiny, &o)), [0.0, 0.0, 2.0, 5.0]);
}

// ---- smartcrop ----

/// libvips' attention search in plain `f64`, on `small` (the image shrunk
/// to about 32×32) of a `w`×`h` image, for a `cw`×`ch` crop.
fn attention_ref(small: &RefImg, w: usize, h: usize, cw: usize, ch: usize) -> (i64, i64) {
    let (sw, sh) = (small.w, small.h);
    let lin = |v: f64| {
        let f = if small.format == U16 {
            v / 65535.0
        } else {
            v.clamp(0.0, 255.0).trunc() / 255.0
        };
        if f <= 0.04045 {
            f / 12.92
        } else {
            ((f + 0.055) / 1.055).powf(2.4)
        }
    };
    let xyz: Vec<[f64; 3]> = (0..sw * sh)
        .map(|i| {
            let band = |b: usize| small.get(i % sw, i / sw, if small.bands >= 3 { b } else { 0 });
            let (r, g, b) = (
                100.0 * lin(band(0)),
                100.0 * lin(band(1)),
                100.0 * lin(band(2)),
            );
            [
                0.4124 * r + 0.3576 * g + 0.1805 * b,
                0.2126 * r + 0.7152 * g + 0.0722 * b,
                0.0193 * r + 0.1192 * g + 0.9505 * b,
            ]
        })
        .collect();
    let luma = |x: i64, y: i64| {
        xyz[(y.clamp(0, sh as i64 - 1) as usize) * sw + x.clamp(0, sw as i64 - 1) as usize][1]
    };
    let lab_f = |t: f64| {
        if t < 0.008856 {
            7.787 * t + 16.0 / 116.0
        } else {
            t.cbrt()
        }
    };
    let norm = |v: [f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let mut score = vec![0.0; sw * sh];
    for y in 0..sh as i64 {
        for x in 0..sw as i64 {
            let i = y as usize * sw + x as usize;
            let lap = 4.0 * luma(x, y)
                - luma(x - 1, y)
                - luma(x + 1, y)
                - luma(x, y - 1)
                - luma(x, y + 1);
            let p = xyz[i];
            let m = norm(p);
            let u = if m == 0.0 { [0.0; 3] } else { p.map(|v| v / m) };
            let skin = 100.0 - 100.0 * norm([u[0] - 0.78, u[1] - 0.57, u[2] - 0.44]);
            let a = 500.0 * (lab_f(p[0] / 95.047) - lab_f(p[1] / 100.0));
            let bright = p[1] > 5.0;
            score[i] = (5.0 * lap).abs() + if bright { skin + a } else { 0.0 };
        }
    }
    let (hs, vs) = (32.0 / w as f64, 32.0 / h as f64);
    let sigma = (((cw as f64 * hs).powi(2) + (ch as f64 * vs).powi(2)).sqrt() / 10.0).max(1.0);
    let sig2 = 2.0 * sigma * sigma;
    let mut n = 0i64;
    while (-((n * n) as f64) / sig2).exp() >= 0.2 {
        n += 1;
    }
    let r = (n - 1).max(0);
    let mask: Vec<f64> = (-r..=r)
        .map(|o| (20.0 * (-((o * o) as f64) / sig2).exp()).round_ties_even())
        .collect();
    let total: f64 = mask.iter().sum();
    let pass = |src: &[f64], horizontal: bool| -> Vec<f64> {
        let mut out = vec![0.0; sw * sh];
        for y in 0..sh as i64 {
            for x in 0..sw as i64 {
                let mut s = 0.0;
                for (k, c) in mask.iter().enumerate() {
                    let o = k as i64 - r;
                    let (sx, sy) = if horizontal {
                        ((x + o).clamp(0, sw as i64 - 1), y)
                    } else {
                        (x, (y + o).clamp(0, sh as i64 - 1))
                    };
                    s += c * src[sy as usize * sw + sx as usize];
                }
                out[y as usize * sw + x as usize] = s / total;
            }
        }
        out
    };
    let blurred = pass(&pass(&score, true), false);
    let best = (0..blurred.len()).fold(0, |b, i| if blurred[i] > blurred[b] { i } else { b });
    let (ax, ay) = (
        ((best % sw) as f64 / hs) as i64,
        ((best / sw) as f64 / vs) as i64,
    );
    (
        (ax - cw as i64 / 2).clamp(0, (w - cw) as i64),
        (ay - ch as i64 / 2).clamp(0, (h - ch) as i64),
    )
}

/// libvips' entropy search in plain `f64`: per-band histograms (`u8` and
/// `i8` in 256 bins, others cast to 0..65535).
fn entropy_ref(img: &RefImg, cw: usize, ch: usize) -> (i64, i64) {
    let entropy = |l: usize, t: usize, w: usize, h: usize| {
        // Summed in (band, value) order.
        let mut counts = std::collections::BTreeMap::new();
        let top = if matches!(img.format, U8 | I8) {
            255.0
        } else {
            65535.0
        };
        for y in t..t + h {
            for x in l..l + w {
                for b in 0..img.bands {
                    *counts
                        .entry((b, img.get(x, y, b).clamp(0.0, top).trunc() as i64))
                        .or_insert(0u64) += 1;
                }
            }
        }
        let n = (w * h * img.bands) as f64;
        -counts
            .values()
            .map(|&c| {
                let p = c as f64 / n;
                p * p.log2()
            })
            .sum::<f64>()
    };
    let (mut l, mut t, mut w, mut h) = (0, 0, img.w, img.h);
    let slice = (((w - cw) as f64 / 8.0).ceil()).max(((h - ch) as f64 / 8.0).ceil()) as usize;
    while w > cw || h > ch {
        let (sw, sh) = ((w - cw).min(slice), (h - ch).min(slice));
        if sw > 0 {
            let (a, b) = (entropy(l, t, sw, h), entropy(l + w - sw, t, sw, h));
            w -= sw;
            if a < b {
                l += sw;
            }
        }
        if sh > 0 {
            let (a, b) = (entropy(l, t, w, sh), entropy(l, t + h - sh, w, sh));
            h -= sh;
            if a < b {
                t += sh;
            }
        }
    }
    (l as i64, t as i64)
}

/// A test scene: a smooth background, a skin-toned disc and a patch of
/// fine texture, at positions set by `variant`.
fn scene(w: usize, h: usize, variant: usize) -> RefImg {
    let (dx, dy) = [(0.7, 0.3), (0.25, 0.7), (0.5, 0.5), (0.85, 0.8)][variant % 4];
    let (tx, ty) = [(0.2, 0.7), (0.75, 0.2), (0.1, 0.1), (0.3, 0.35)][variant % 4];
    let (cx, cy, rad) = (dx * w as f64, dy * h as f64, 0.12 * w.min(h) as f64);
    RefImg::from_fn(w, h, 3, U8, |x, y, b| {
        let (xf, yf) = (x as f64, y as f64);
        if (xf - cx).hypot(yf - cy) < rad {
            return [224.0, 172.0, 138.0][b] + ((x * 7 + y * 13) % 9) as f64;
        }
        let (u, v) = (xf / w as f64 - tx, yf / h as f64 - ty);
        if (0.0..0.15).contains(&u) && (0.0..0.15).contains(&v) {
            return if (x / 2 + y / 2) % 2 == 0 { 250.0 } else { 5.0 };
        }
        [
            40.0 + 60.0 * xf / w as f64,
            60.0 + 50.0 * yf / h as f64,
            90.0,
        ][b]
            .round()
    })
}

/// The left and top of a crop `out` of `img`, found by matching pixels
/// (the first position that matches).
fn crop_position(img: &RefImg, out: &RefImg) -> (i64, i64) {
    let matches = |l: usize, t: usize| {
        (0..out.h).all(|y| {
            (0..out.w).all(|x| (0..out.bands).all(|b| img.get(l + x, t + y, b) == out.get(x, y, b)))
        })
    };
    for t in 0..=img.h - out.h {
        for l in 0..=img.w - out.w {
            if matches(l, t) {
                return (l as i64, t as i64);
            }
        }
    }
    panic!("not a crop of the image");
}

#[test]
fn smartcrop_fixed_strategies_at_every_format() {
    for (i, &f) in BandFormat::ALL.iter().enumerate() {
        let r = sample(17, 12, 2, f, i as u64);
        for (s, (l, t)) in [
            (Interesting::None, (0, 0)),
            (Interesting::Low, (0, 0)),
            (Interesting::Centre, (5, 2)),
            (Interesting::High, (11, 5)),
        ] {
            let o = SmartcropOptions::default().interesting(s);
            let img = smartcrop(&image_of(&r), 6, 7, &o);
            check(&img, &common::crop(&r, l, t, 6, 7), 1);
        }
        let o = SmartcropOptions::default();
        assert!(smartcrop(&image_of(&r), 18, 7, &o).check().is_err());
        assert!(smartcrop(&image_of(&r), 6, 0, &o).check().is_err());
    }
}

#[test]
fn smartcrop_attention_matches_reference() {
    for (variant, (w, h), (cw, ch)) in [
        (0, (200, 150), (60, 60)),
        (1, (120, 160), (50, 40)),
        (2, (64, 48), (32, 24)),
        (3, (300, 100), (100, 100)),
        (1, (20, 25), (10, 10)),
    ] {
        let r = scene(w, h, variant);
        let img = image_of(&r);
        let out = smartcrop(&img, cw, ch, &SmartcropOptions::default());
        let got = crop_position(&r, &to_ref(&out));
        let small = to_ref(&resize(
            &img,
            32.0 / w as f64,
            &ResizeOptions::default().vscale(32.0 / h as f64),
        ));
        let want = attention_ref(&small, w, h, cw as usize, ch as usize);
        // One step of the 32x32 search at most (f32 versus f64).
        let (sx, sy) = ((w as i64 + 31) / 32, (h as i64 + 31) / 32);
        assert!(
            (got.0 - want.0).abs() <= sx && (got.1 - want.1).abs() <= sy,
            "variant {variant} {w}x{h}: got {got:?}, want {want:?}"
        );
        engine_property(&out);
    }
}

#[test]
fn smartcrop_attention_at_every_format() {
    // Other formats are cast as libvips casts them: u16 is 16-bit sRGB,
    // the rest clipped to 0..255.
    let base = scene(96, 64, 0);
    for (i, &f) in BandFormat::ALL.iter().enumerate() {
        let r = if f == U16 {
            base.map(U16, |v, _| v * 257.0)
        } else {
            base.map(f, |v, _| v)
        };
        let img = image_of(&r);
        let out = smartcrop(&img, 40, 30, &SmartcropOptions::default());
        let got = crop_position(&r, &to_ref(&out));
        let small = to_ref(&resize(
            &img,
            32.0 / 96.0,
            &ResizeOptions::default().vscale(0.5),
        ));
        let want = attention_ref(&small, 96, 64, 40, 30);
        assert!(
            (got.0 - want.0).abs() <= 3 && (got.1 - want.1).abs() <= 2,
            "{f} ({i}): got {got:?}, want {want:?}"
        );
    }
    // Grey, and alpha (transparent content is premultiplied away).
    let grey = base.map(U8, |v, _| v).clone();
    let grey = RefImg::from_fn(96, 64, 1, U8, |x, y, _| grey.get(x, y, 1));
    let out = smartcrop(&image_of(&grey), 40, 30, &SmartcropOptions::default());
    let small = to_ref(&resize(
        &image_of(&grey),
        32.0 / 96.0,
        &ResizeOptions::default().vscale(0.5),
    ));
    let want = attention_ref(&small, 96, 64, 40, 30);
    let got = crop_position(&grey, &to_ref(&out));
    assert!(
        (got.0 - want.0).abs() <= 3 && (got.1 - want.1).abs() <= 2,
        "{got:?} {want:?}"
    );
}

#[test]
fn smartcrop_entropy_matches_reference_at_every_format() {
    for (i, &f) in BandFormat::ALL.iter().enumerate() {
        let base = scene(80, 60, i);
        // Spread over the format's range, signed ones into negatives.
        let r = base.map(f, |v, b| match f {
            U8 => v,
            I8 => v - 128.0 + b as f64,
            U16 => v * 250.0,
            I16 => v * 200.0 - 20000.0,
            U32 | I32 => v * 251.0 - 9000.0,
            _ => v / 3.0 - 20.0,
        });
        for (cw, ch) in [(30, 40), (80, 20), (79, 59)] {
            let o = SmartcropOptions::default().interesting(Interesting::Entropy);
            let out = smartcrop(&image_of(&r), cw, ch, &o);
            let (l, t) = entropy_ref(&r, cw as usize, ch as usize);
            check(
                &out,
                &common::crop(&r, l as usize, t as usize, cw as usize, ch as usize),
                2,
            );
        }
    }
}

/// Crop positions libvips 8.18.3 gives for the scenes (pyvips
/// `smartcrop`, on the same pixels): ours must be within one step of the
/// search of them.
/// A scene variant, its size, the crop's size, the strategy and libvips'
/// left and top.
type Pinned = (usize, (usize, usize), (u32, u32), Interesting, (i64, i64));

#[test]
fn smartcrop_lands_where_libvips_does() {
    let cases: &[Pinned] = &[
        (0, (200, 150), (60, 60), Interesting::Attention, (107, 2)),
        (0, (200, 150), (60, 60), Interesting::Entropy, (104, 18)),
        (1, (120, 160), (50, 40), Interesting::Attention, (12, 90)),
        (1, (120, 160), (50, 40), Interesting::Entropy, (15, 90)),
        (2, (64, 48), (32, 24), Interesting::Attention, (0, 0)),
        (2, (64, 48), (32, 24), Interesting::Entropy, (8, 8)),
        (3, (300, 100), (100, 100), Interesting::Attention, (200, 0)),
        (3, (300, 100), (100, 100), Interesting::Entropy, (175, 0)),
        (1, (20, 25), (10, 10), Interesting::Attention, (10, 2)),
        (1, (20, 25), (10, 10), Interesting::Entropy, (4, 10)),
        (2, (640, 480), (200, 300), Interesting::Attention, (220, 75)),
        (2, (640, 480), (200, 300), Interesting::Entropy, (165, 15)),
        (0, (333, 257), (100, 80), Interesting::Attention, (178, 8)),
        (0, (333, 257), (100, 80), Interesting::Entropy, (173, 30)),
        (3, (96, 64), (40, 30), Interesting::Attention, (56, 34)),
        (3, (96, 64), (40, 30), Interesting::Entropy, (49, 27)),
    ];
    for &(variant, (w, h), (cw, ch), s, want) in cases {
        let r = scene(w, h, variant);
        let o = SmartcropOptions::default().interesting(s);
        let out = smartcrop(&image_of(&r), cw, ch, &o);
        let got = crop_position(&r, &to_ref(&out));
        let (sx, sy) = match s {
            Interesting::Attention => ((w as i64 + 31) / 32, (h as i64 + 31) / 32),
            _ => (0, 0),
        };
        assert!(
            (got.0 - want.0).abs() <= sx && (got.1 - want.1).abs() <= sy,
            "variant {variant} {w}x{h} {s:?}: got {got:?}, libvips {want:?}"
        );
    }
}

/// The scene of variant `i` spread over the range of `format` (`u16` as
/// 16-bit sRGB, libvips' RGB16).
fn format_scene(i: usize, format: BandFormat) -> RefImg {
    let base = scene(80, 60, i);
    base.map(format, |v, b| match format {
        U8 => v,
        I8 => v - 128.0 + b as f64,
        U16 => v * 257.0,
        I16 => v * 200.0 - 20000.0,
        U32 | I32 => v * 251.0 - 9000.0,
        _ => v / 3.0 - 20.0,
    })
}

/// The same at every format (libvips casts all but `u16` to `u8` for
/// attention; entropy bins `u8`/`i8` in 256, the rest in 65536), and with
/// alpha (premultiplied before the search).
#[test]
fn smartcrop_lands_where_libvips_does_at_every_format_and_with_alpha() {
    let want = [
        ((40, 0), (35, 13)),
        ((5, 20), (14, 13)),
        ((25, 10), (15, 6)),
        ((12, 4), (49, 20)),
        ((0, 0), (35, 13)),
        ((0, 19), (14, 13)),
        ((25, 10), (28, 13)),
        ((12, 6), (43, 20)),
    ];
    for (i, &f) in BandFormat::ALL.iter().enumerate() {
        let r = format_scene(i, f);
        for (s, want) in [
            (Interesting::Attention, want[i].0),
            (Interesting::Entropy, want[i].1),
        ] {
            let o = SmartcropOptions::default().interesting(s);
            let out = smartcrop(&image_of(&r), 30, 40, &o);
            let got = crop_position(&r, &to_ref(&out));
            let tol = if s == Interesting::Attention {
                (3, 2)
            } else {
                (0, 0)
            };
            assert!(
                (got.0 - want.0).abs() <= tol.0 && (got.1 - want.1).abs() <= tol.1,
                "{f} {s:?}: got {got:?}, libvips {want:?}"
            );
        }
    }
    let base = scene(90, 70, 2);
    let rgba = RefImg::from_fn(90, 70, 4, U8, |x, y, b| match b {
        3 if x > 45 => 255.0,
        3 => 0.0,
        _ => base.get(x, y, b),
    });
    for (s, want) in [
        (Interesting::Attention, (32, 20)),
        (Interesting::Entropy, (48, 16)),
    ] {
        let o = SmartcropOptions::default().interesting(s);
        let out = smartcrop(&image_of(&rgba), 30, 30, &o);
        assert_eq!(crop_position(&rgba, &to_ref(&out)), want, "{s:?}");
    }
}

// ---- sequential sources ----

#[test]
fn over_a_sequential_source() {
    let r = scene(120, 90, 1);
    for threads in [1, 3] {
        let opts = RunOptions::new().threads(threads);
        let run = |img: &Image| common::bytes_of(img, &opts);
        for s in [Interesting::Attention, Interesting::Entropy] {
            let o = SmartcropOptions::default().interesting(s);
            let want = run(&smartcrop(&image_of(&r), 50, 40, &o));
            let img = smartcrop(&sequential(&r), 50, 40, &o);
            assert_eq!(run(&img), want, "{s:?}");
            // The search reads the source to the end before the crop reads
            // it again: the planner caches it (once, for entropy).
            let mut buf = vec![0u8; img.header().image_bytes() as usize];
            let report = write_into(&img, &mut buf, &opts).unwrap();
            match s {
                Interesting::Entropy => assert_eq!(report.caches, 1),
                _ => assert!(report.caches >= 1),
            }
        }
        let o = FindTrimOptions::default()
            .background([40.0, 60.0, 90.0])
            .threshold(40.0);
        let want = run(&find_trim(&image_of(&r), &o));
        assert_eq!(run(&find_trim(&sequential(&r), &o)), want);
        // Tiles that are crops of one sequential source, joined.
        let s = sequential(&r);
        let parts: Vec<Image> = (0..4)
            .map(|i| gigapix_ops::crop(&s, (i % 2) * 60, (i / 2) * 45, 60, 45))
            .collect();
        let joined = arrayjoin(&parts, &ArrayjoinOptions::default().across(2));
        assert_eq!(run(&joined), common::encode(&r.data, U8));
    }
}

#[test]
fn facade_style_values() {
    // The measurement images print their samples: a 1x1 image.
    let r = sample(5, 5, 2, I16, 9);
    let mut buf = vec![0u8; 16];
    write_into(&getpoint(&image_of(&r), 2, 3), &mut buf, &RunOptions::new()).unwrap();
    assert_eq!(common::decode(&buf, F64), [r.get(2, 3, 0), r.get(2, 3, 1)]);
}
