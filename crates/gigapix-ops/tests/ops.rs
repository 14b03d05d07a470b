//! Every operation against the reference implementation, tile by tile;
//! fusion; errors; zero-copy; `need`; statistics.

mod common;

use common::{Rng, assert_matches, to_ref};
use gigapix_core::{BandFormat, Ctx, DemandHint, ErrorKind, Image, Rect, Reducer};
use gigapix_ops::point::{PointChain, Stage, unfused};
use gigapix_ops::*;

const FORMATS: [BandFormat; 8] = BandFormat::ALL;

/// Small test inputs of every format: noise through a linear to spread the
/// values over the format's range.
fn inputs() -> Vec<(Image, common::RefImg)> {
    let mut v = Vec::new();
    for (w, h, bands, seed) in [(13, 9, 1, 1), (7, 11, 3, 2), (5, 4, 4, 3), (9, 6, 2, 4)] {
        let n = noise(w, h, bands, seed);
        let r = common::noise(w as usize, h as usize, bands as usize, seed);
        v.push((n.clone(), r.clone()));
        let u16 = linear_with(
            &n,
            &[257.0],
            &[3.0],
            &LinearOptions::default().format(BandFormat::U16),
        );
        v.push((
            u16,
            common::linear(&r, &[257.0], &[3.0], Some(BandFormat::U16)),
        ));
        let u32 = linear_with(
            &n,
            &[16843009.0],
            &[0.0],
            &LinearOptions::default().format(BandFormat::U32),
        );
        v.push((
            u32,
            common::linear(&r, &[16843009.0], &[0.0], Some(BandFormat::U32)),
        ));
        let f32 = linear_with(
            &n,
            &[0.1],
            &[-12.3],
            &LinearOptions::default().format(BandFormat::F32),
        );
        v.push((
            f32,
            common::linear(&r, &[0.1], &[-12.3], Some(BandFormat::F32)),
        ));
    }
    v.push((xyz(10, 7), common::xyz(10, 7)));
    v.push((zone(12, 9), common::zone(12, 9)));
    v
}

#[test]
fn sources_match_reference() {
    let mut rng = Rng::new(1);
    for _ in 0..3 {
        assert_matches(&black(9, 5, 2), &common::black(9, 5, 2), &mut rng);
        assert_matches(&xyz(17, 6), &common::xyz(17, 6), &mut rng);
        assert_matches(&zone(31, 20), &common::zone(31, 20), &mut rng);
        assert_matches(&zone(16, 16), &common::zone(16, 16), &mut rng);
        for bands in [1, 2, 3, 4, 5, 7, 8, 9, 12, 17] {
            let (w, h, seed) = (11, 6, 0xdead_beef + bands as u64);
            assert_matches(
                &noise(w, h, bands, seed),
                &common::noise(w as usize, h as usize, bands as usize, seed),
                &mut rng,
            );
        }
    }
    assert_eq!(
        xyz(3, 3).interpretation(),
        gigapix_core::Interpretation::Coordinates
    );
}

#[test]
fn noise_is_uniform_and_seeded() {
    let image = noise(256, 64, 3, 5);
    let values = common::region_values(
        &Ctx::standalone()
            .region(&image, image.header().rect())
            .unwrap(),
    );
    let mut counts = [0u32; 256];
    for v in &values {
        counts[*v as usize] += 1;
    }
    // 192 expected per value; a crude uniformity check.
    assert!(
        counts.iter().all(|&c| (120..270).contains(&c)),
        "{counts:?}"
    );
    let other = to_ref(&noise(256, 64, 3, 6));
    assert_ne!(other.data, values);
}

#[test]
fn point_ops_match_reference() {
    let mut rng = Rng::new(2);
    for (img, r) in inputs() {
        let bands = r.bands;
        assert_matches(&invert(&img), &common::invert(&r), &mut rng);
        for f in FORMATS {
            assert_matches(&cast(&img, f), &common::cast(&r, f), &mut rng);
        }
        let a: Vec<f64> = (0..bands).map(|k| 0.5 - k as f64 * 0.75).collect();
        let b: Vec<f64> = (0..bands).map(|k| 100.5 * k as f64 - 20.0).collect();
        assert_matches(
            &linear(&img, &a, &b),
            &common::linear(&r, &a, &b, None),
            &mut rng,
        );
        assert_matches(
            &linear(&img, &[1.5], &b),
            &common::linear(&r, &[1.5], &b, None),
            &mut rng,
        );
        assert_matches(
            &linear(&img, &[-1.0], &[0.5]),
            &common::linear(&r, &[-1.0], &[0.5], None),
            &mut rng,
        );
        for f in FORMATS {
            let opts = LinearOptions::default().format(f);
            assert_matches(
                &linear_with(&img, &a, &[2.5], &opts),
                &common::linear(&r, &a, &[2.5], Some(f)),
                &mut rng,
            );
        }
    }
}

#[test]
fn rounding_is_half_away_from_zero_and_clamped() {
    let x = extract_band(&xyz(8, 1), 0, 1); // 0..8, u32
    let half = linear(&x, &[0.5], &[0.0]);
    assert_eq!(to_ref(&half).data, [0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0]);
    let u8 = linear_with(
        &x,
        &[100.0],
        &[-150.0],
        &LinearOptions::default().format(BandFormat::U8),
    );
    assert_eq!(
        to_ref(&u8).data,
        [0.0, 0.0, 50.0, 150.0, 250.0, 255.0, 255.0, 255.0]
    );
    let f = cast(&x, BandFormat::F32);
    assert_eq!(to_ref(&invert(&f)).data[..3], [-0.0, -1.0, -2.0]);
    assert_eq!(
        to_ref(&invert(&cast(&x, BandFormat::U16))).data[..2],
        [65535.0, 65534.0]
    );
}

/// Random point stages, valid for `bands` bands.
fn random_stage(rng: &mut Rng, bands: usize) -> Stage {
    let format = |rng: &mut Rng| FORMATS[rng.below(4) as usize];
    let coef = |rng: &mut Rng, scale: f64| (rng.range(-1000, 1000) as f64 / 1000.0) * scale;
    match rng.below(3) {
        0 => {
            let n = if rng.below(2) == 0 { 1 } else { bands };
            let a = (0..n).map(|_| coef(rng, 3.0)).collect();
            let b = (0..n).map(|_| coef(rng, 300.0)).collect();
            let f = if rng.below(2) == 0 {
                None
            } else {
                Some(format(rng))
            };
            let opts = match f {
                Some(f) => LinearOptions::default().format(f),
                None => LinearOptions::default(),
            };
            Stage::Linear {
                a,
                b,
                format: opts.format,
            }
        }
        1 => Stage::Invert,
        _ => Stage::Cast(format(rng)),
    }
}

fn apply(img: &Image, stage: &Stage) -> Image {
    match stage {
        Stage::Linear { a, b, format } => {
            let opts = match format {
                Some(f) => LinearOptions::default().format(*f),
                None => LinearOptions::default(),
            };
            linear_with(img, a, b, &opts)
        }
        Stage::Invert => invert(img),
        Stage::Cast(f) => cast(img, *f),
        _ => unreachable!(),
    }
}

#[test]
fn fused_chains_equal_unfused_bit_for_bit() {
    let mut rng = Rng::new(3);
    for case in 0..60 {
        let (src, _) = inputs().swap_remove(case % 18);
        // Start from a fresh node that is not a chain itself.
        let src = crop(&src, 0, 0, src.width(), src.height());
        let bands = src.bands() as usize;
        let stages: Vec<Stage> = (0..rng.range(1, 6))
            .map(|_| random_stage(&mut rng, bands))
            .collect();
        let mut fused = src.clone();
        let mut separate = src.clone();
        for s in &stages {
            fused = apply(&fused, s);
            separate = unfused(&separate, s.clone());
        }
        let chain = fused.operation().as_any().downcast_ref::<PointChain>();
        if let Some(chain) = chain {
            assert!(fused.inputs()[0].same_node(&src), "fused onto the source");
            // Casts to the current format are skipped.
            assert!(chain.stages().len() <= stages.len());
        }
        assert_eq!(fused.header(), separate.header());
        assert_eq!(
            to_ref(&fused)
                .data
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>(),
            to_ref(&separate)
                .data
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>(),
            "{stages:?}"
        );
    }
}

#[test]
fn fusion_builds_one_node_and_leaves_the_inner_one_alone() {
    let src = noise(20, 10, 3, 1);
    let a = linear(&src, &[2.0], &[1.0]);
    let b = invert(&a);
    let c = cast(&b, BandFormat::F32);
    let chain = c.operation().as_any().downcast_ref::<PointChain>().unwrap();
    assert_eq!(chain.stages().len(), 3);
    assert!(c.inputs()[0].same_node(&src));
    assert_eq!(c.name(), "cast");
    let inner = a.operation().as_any().downcast_ref::<PointChain>().unwrap();
    assert_eq!(inner.stages().len(), 1);
    assert_eq!(a.format(), BandFormat::U8);
    // An invalid chain is not fused into (its error keeps its name).
    let bad = linear(&src, &[1.0, 2.0], &[0.0]);
    let worse = invert(&bad);
    assert_eq!(worse.check().unwrap_err().operation(), Some("linear"));
    assert!(cast(&src, BandFormat::U8).same_node(&src));
}

#[test]
fn band_ops_match_reference() {
    let mut rng = Rng::new(4);
    for (img, r) in inputs() {
        for band in 0..r.bands {
            for n in 1..=r.bands - band {
                assert_matches(
                    &extract_band(&img, band as u32, n as u32),
                    &common::extract_band(&r, band, n),
                    &mut rng,
                );
            }
        }
        let inv = invert(&img);
        let ri = common::invert(&r);
        assert_matches(&bandjoin(std::slice::from_ref(&img)), &r, &mut rng);
        assert_matches(
            &bandjoin(&[img.clone(), inv.clone()]),
            &common::bandjoin(&[&r, &ri]),
            &mut rng,
        );
        let one = extract_band(&img, 0, 1);
        let r1 = common::extract_band(&r, 0, 1);
        assert_matches(
            &bandjoin(&[one.clone(), img.clone(), one.clone()]),
            &common::bandjoin(&[&r1, &r, &r1]),
            &mut rng,
        );
    }
}

#[test]
fn geometry_matches_reference() {
    let mut rng = Rng::new(5);
    for (img, r) in inputs() {
        let (w, h) = (r.w as u32, r.h as u32);
        for _ in 0..4 {
            let left = rng.below(w as u64) as u32;
            let top = rng.below(h as u64) as u32;
            let cw = rng.range(1, (w - left) as i64) as u32;
            let ch = rng.range(1, (h - top) as i64) as u32;
            assert_matches(
                &crop(&img, left, top, cw, ch),
                &common::crop(&r, left as usize, top as usize, cw as usize, ch as usize),
                &mut rng,
            );
        }
        for d in [Direction::Horizontal, Direction::Vertical] {
            assert_matches(&flip(&img, d), &common::flip(&r, d), &mut rng);
        }
        for a in [Angle::D90, Angle::D180, Angle::D270] {
            assert_matches(&rot(&img, a), &common::rot(&r, a), &mut rng);
        }
        for e in [
            Extend::Black,
            Extend::White,
            Extend::Copy,
            Extend::Repeat,
            Extend::Mirror,
        ] {
            for _ in 0..4 {
                let x = rng.range(-3 * w as i64, 3 * w as i64);
                let y = rng.range(-3 * h as i64, 3 * h as i64);
                let cw = rng.range(1, 4 * w as i64) as u32;
                let ch = rng.range(1, 4 * h as i64) as u32;
                assert_matches(
                    &embed(&img, x, y, cw, ch, e),
                    &common::embed(&r, x, y, cw as usize, ch as usize, e),
                    &mut rng,
                );
            }
            // Centred in a canvas, so some tiles are wholly inside.
            assert_matches(
                &embed(&img, 5, 3, w + 9, h + 7, e),
                &common::embed(&r, 5, 3, w as usize + 9, h as usize + 7, e),
                &mut rng,
            );
        }
    }
}

#[test]
fn rotations_compose() {
    let src = noise(7, 5, 2, 9);
    let four = rot(
        &rot(&rot(&rot(&src, Angle::D90), Angle::D90), Angle::D90),
        Angle::D90,
    );
    assert_eq!(to_ref(&four), to_ref(&src));
    assert_eq!(
        to_ref(&rot(&rot(&src, Angle::D90), Angle::D270)),
        to_ref(&src)
    );
    assert_eq!(
        to_ref(&flip(
            &flip(&src, Direction::Vertical),
            Direction::Horizontal
        )),
        to_ref(&rot(&src, Angle::D180))
    );
    // Clockwise: the top-left pixel goes to the top-right corner.
    let r = to_ref(&rot(&src, Angle::D90));
    let s = to_ref(&src);
    assert_eq!(r.get(4, 0, 1), s.get(0, 0, 1));
}

/// For each tile of the output, the rectangles the operation requested of
/// its input are exactly the rectangle its `need` reports.
fn assert_need_exact(build: impl Fn(&Image) -> Image, src: &Image, rng: &mut Rng) {
    let (spied, log) = common::spy(src);
    let image = build(&spied);
    image.check().unwrap();
    let mut ctx = Ctx::standalone();
    for tile in common::random_tiles(image.width() as usize, image.height() as usize, rng) {
        log.lock().unwrap().clear();
        ctx.region(&image, tile).unwrap();
        let need = image.need(tile, 0);
        let asked = log.lock().unwrap().clone();
        let union = asked.iter().fold(Rect::default(), |u, r| u.union(r));
        if need.is_empty() {
            assert!(
                asked.is_empty(),
                "{image:?} tile {tile}: need is empty but asked {asked:?}"
            );
        } else {
            assert_eq!(union, need, "{image:?} tile {tile}: asked {asked:?}");
        }
        assert!(
            src.header().rect().contains(&need) || need.is_empty(),
            "{image:?}: need {need} outside input"
        );
    }
}

#[test]
fn need_is_exactly_what_is_read() {
    let mut rng = Rng::new(6);
    let src = noise(11, 8, 2, 3);
    for _ in 0..5 {
        assert_need_exact(|i| crop(i, 2, 3, 7, 4), &src, &mut rng);
        assert_need_exact(invert, &src, &mut rng);
        assert_need_exact(|i| extract_band(i, 1, 1), &src, &mut rng);
        for d in [Direction::Horizontal, Direction::Vertical] {
            assert_need_exact(|i| flip(i, d), &src, &mut rng);
        }
        for a in [Angle::D90, Angle::D180, Angle::D270] {
            assert_need_exact(|i| rot(i, a), &src, &mut rng);
        }
        for e in [
            Extend::Black,
            Extend::White,
            Extend::Copy,
            Extend::Repeat,
            Extend::Mirror,
        ] {
            let (x, y) = (rng.range(-30, 30), rng.range(-30, 30));
            let (w, h) = (rng.range(1, 40) as u32, rng.range(1, 40) as u32);
            assert_need_exact(|i| embed(i, x, y, w, h, e), &src, &mut rng);
        }
    }
}

#[test]
fn embed_need_is_clipped_and_folded() {
    let src = noise(10, 10, 1, 0);
    let need = |e, x, y, r| embed(&src, x, y, 100, 100, e).need(r, 0);
    // Black: the part of the request over the image.
    assert_eq!(
        need(Extend::Black, 5, 5, Rect::new(0, 0, 8, 8)),
        Rect::new(0, 0, 3, 3)
    );
    assert!(need(Extend::Black, 5, 5, Rect::new(50, 50, 8, 8)).is_empty());
    // Copy: the nearest edge.
    assert_eq!(
        need(Extend::Copy, 5, 5, Rect::new(50, 0, 8, 8)),
        Rect::new(9, 0, 1, 3)
    );
    // Repeat: wraps; Mirror: folds.
    assert_eq!(
        need(Extend::Repeat, 0, 0, Rect::new(12, 0, 3, 1)),
        Rect::new(2, 0, 3, 1)
    );
    assert_eq!(
        need(Extend::Repeat, 0, 0, Rect::new(8, 0, 4, 1)),
        Rect::new(0, 0, 10, 1)
    );
    assert_eq!(
        need(Extend::Mirror, 0, 0, Rect::new(8, 0, 4, 1)),
        Rect::new(8, 0, 2, 1)
    );
    assert_eq!(
        need(Extend::Mirror, 0, 0, Rect::new(12, 0, 3, 1)),
        Rect::new(5, 0, 3, 1)
    );
}

#[test]
fn operation_properties() {
    let src = noise(8, 6, 1, 0);
    let props = |i: &Image| (i.operation().keeps_row_order(), i.operation().demand());
    assert_eq!(
        props(&flip(&src, Direction::Horizontal)),
        (true, DemandHint::Any)
    );
    assert_eq!(
        props(&flip(&src, Direction::Vertical)),
        (false, DemandHint::Any)
    );
    assert_eq!(
        props(&rot(&src, Angle::D90)),
        (false, DemandHint::SmallTile)
    );
    assert_eq!(
        props(&rot(&src, Angle::D270)),
        (false, DemandHint::SmallTile)
    );
    assert!(!props(&rot(&src, Angle::D180)).0);
    for (e, keeps) in [
        (Extend::Black, true),
        (Extend::White, true),
        (Extend::Copy, true),
        (Extend::Repeat, false),
        (Extend::Mirror, false),
    ] {
        assert_eq!(
            props(&embed(&src, 1, 1, 20, 20, e)),
            (keeps, DemandHint::Any)
        );
    }
    assert_eq!(props(&invert(&src)), (true, DemandHint::Any));
    assert_eq!(props(&crop(&src, 1, 1, 2, 2)), (true, DemandHint::Any));
}

#[test]
fn crop_and_embed_are_zero_copy_over_views() {
    let src = common::view_source(20, 10, 3);
    let mut ctx = Ctx::standalone();
    let c = crop(&src, 3, 2, 10, 6);
    let region = ctx.region(&c, Rect::new(1, 1, 5, 4)).unwrap();
    assert!(region.is_view());
    assert_eq!(
        region.row_bytes(1)[..3],
        to_ref(&src).data[(3 * 20 + 4) * 3..][..3]
            .iter()
            .map(|v| *v as u8)
            .collect::<Vec<_>>()[..]
    );
    let e = embed(&c, 4, 4, 30, 30, Extend::Mirror);
    assert!(ctx.region(&e, Rect::new(5, 5, 8, 5)).unwrap().is_view());
    assert!(!ctx.region(&e, Rect::new(0, 0, 8, 5)).unwrap().is_view());
    assert!(
        ctx.region(&extract_band(&src, 0, 3), Rect::new(0, 0, 4, 4))
            .unwrap()
            .is_view()
    );
    assert!(
        ctx.region(&bandjoin(std::slice::from_ref(&src)), Rect::new(0, 0, 4, 4))
            .unwrap()
            .is_view()
    );
}

#[test]
fn invalid_arguments_name_the_operation() {
    let src = noise(10, 8, 3, 0);
    let cases = [
        (crop(&src, 5, 0, 6, 2), "crop"),
        (crop(&src, 0, 7, 1, 2), "crop"),
        (crop(&src, 10, 0, 1, 1), "crop"),
        (crop(&src, 0, 0, 0, 1), "crop"),
        (crop(&src, u32::MAX, 0, 2, 1), "crop"),
        (bandjoin(&[src.clone(), noise(10, 9, 3, 0)]), "bandjoin"),
        (bandjoin(&[src.clone(), xyz(10, 8)]), "bandjoin"),
        (bandjoin(&[]), "bandjoin"),
        (extract_band(&src, 3, 1), "extract_band"),
        (extract_band(&src, 1, 3), "extract_band"),
        (extract_band(&src, 0, 0), "extract_band"),
        (extract_band(&src, u32::MAX, 2), "extract_band"),
        (linear(&src, &[1.0, 2.0], &[0.0]), "linear"),
        (linear(&src, &[1.0], &[]), "linear"),
        (linear(&invert(&src), &[1.0], &[0.0; 4]), "linear"),
        (embed(&src, 0, 0, 0, 5, Extend::Black), "embed"),
        (embed(&src, i64::MIN, 0, 5, 5, Extend::Black), "embed"),
        (black(0, 5, 1), "black"),
        (noise(5, 5, 0, 1), "noise"),
    ];
    for (image, name) in cases {
        let err = image.check().expect_err(name);
        assert_eq!(err.operation(), Some(name), "{err}");
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.to_string().starts_with(&format!("{name}: ")), "{err}");
        // Later steps carry the same error, and running reports it.
        let later = flip(&image, Direction::Vertical);
        assert_eq!(later.check().unwrap_err().operation(), Some(name));
        assert!(
            Ctx::standalone()
                .region(&later, Rect::new(0, 0, 1, 1))
                .is_err()
        );
    }
}

#[test]
fn enums_parse() {
    assert_eq!("h".parse::<Direction>(), Ok(Direction::Horizontal));
    assert_eq!("Vertical".parse::<Direction>(), Ok(Direction::Vertical));
    assert_eq!("90".parse::<Angle>(), Ok(Angle::D90));
    assert_eq!("d270".parse::<Angle>(), Ok(Angle::D270));
    assert_eq!("180".parse::<Angle>(), Ok(Angle::D180));
    assert_eq!("extend".parse::<Extend>(), Ok(Extend::Copy));
    for e in [
        Extend::Black,
        Extend::White,
        Extend::Copy,
        Extend::Repeat,
        Extend::Mirror,
    ] {
        assert_eq!(e.to_string().parse::<Extend>(), Ok(e));
    }
    for a in [Angle::D90, Angle::D180, Angle::D270] {
        assert_eq!(a.to_string().parse::<Angle>(), Ok(a));
    }
    let err = "sideways".parse::<Direction>().unwrap_err();
    assert!(
        err.contains("horizontal") && err.contains("vertical"),
        "{err}"
    );
    let err = "45".parse::<Angle>().unwrap_err();
    assert!(err.contains("90") && err.contains("270"), "{err}");
    let err = "wrap".parse::<Extend>().unwrap_err();
    assert!(
        ["black", "white", "copy", "repeat", "mirror"]
            .iter()
            .all(|v| err.contains(v)),
        "{err}"
    );
}

// ---- statistics ----

/// Feeds random tiles of `image` to `threads` reducers in random order and
/// merges them in random order.
fn reduce<R: Reducer>(image: &Image, threads: usize, make: impl Fn() -> R, rng: &mut Rng) -> R {
    let mut accs: Vec<R> = (0..threads).map(|_| make()).collect();
    let mut ctx = Ctx::standalone();
    for tile in common::random_tiles(image.width() as usize, image.height() as usize, rng) {
        let region = ctx.region(image, tile).unwrap();
        let t = rng.below(threads as u64) as usize;
        accs[t].add(&region).unwrap();
    }
    rng.shuffle(&mut accs);
    let mut first = accs.pop().unwrap();
    for a in accs {
        first.merge(a);
    }
    first
}

/// Reference statistics of `values` (two-pass standard deviation).
fn ref_stats(values: &[f64]) -> (f64, f64, f64, f64, f64, f64) {
    let n = values.len() as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = values.iter().sum();
    let sum_sq: f64 = values.iter().map(|v| v * v).sum();
    let mean = sum / n;
    let sd = if values.len() > 1 {
        (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (min, max, sum, sum_sq, mean, sd)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn stats_match_reference_whatever_the_tiling() {
    let mut rng = Rng::new(7);
    for (img, r) in inputs() {
        let bands = r.bands;
        let stats = reduce(&img, 3, || StatsReducer::new(bands as u32), &mut rng).finish();
        assert_eq!(stats.bands.len(), bands);
        let mut all = Vec::new();
        for b in 0..bands {
            let values: Vec<f64> = r.data.iter().skip(b).step_by(bands).copied().collect();
            all.extend_from_slice(&values);
            let (min, max, sum, sum_sq, mean, sd) = ref_stats(&values);
            let s = &stats.bands[b];
            assert_eq!((s.min, s.max, s.count), (min, max, values.len() as u64));
            if r.format.is_integer() {
                // Integer sums are exact (these are below 2^53).
                let exact: u128 = values.iter().map(|v| *v as u128).sum();
                let exact_sq: u128 = values.iter().map(|v| (*v as u128) * (*v as u128)).sum();
                assert_eq!(s.sum, exact as f64);
                assert_eq!(s.sum_sq, exact_sq as f64);
                assert_eq!(s.mean, exact as f64 / values.len() as f64);
            } else {
                assert!(close(s.sum, sum, 1e-12) && close(s.sum_sq, sum_sq, 1e-12));
            }
            assert!(close(s.mean, mean, 1e-12), "{} vs {mean}", s.mean);
            assert!(
                close(s.stddev, sd, 1e-9),
                "{:?}: {} vs {sd}",
                r.format,
                s.stddev
            );
        }
        let (min, max, _, _, mean, sd) = ref_stats(&all);
        let o = stats.overall();
        assert_eq!((o.min, o.max, o.count), (min, max, all.len() as u64));
        assert!(close(o.mean, mean, 1e-12) && close(o.stddev, sd, 1e-9));
        // Another tiling, order and thread count: identical for integers.
        let again = reduce(&img, 2, || StatsReducer::new(bands as u32), &mut rng).finish();
        if r.format.is_integer() {
            assert_eq!(again, stats);
        } else {
            assert!(close(again.bands[0].sum, stats.bands[0].sum, 1e-12));
        }
    }
}

#[test]
fn stats_of_large_integers_are_exact() {
    // u32 values near the top: sums of squares far beyond 2^64.
    let image = linear(&xyz(300, 200), &[1.0], &[4294967295.0 - 400.0]);
    let s = reduce(&image, 4, || StatsReducer::new(2), &mut Rng::new(8)).finish();
    let base = 4294967295u128 - 400;
    let exact: u128 = (0..300u128).map(|x| (base + x) * 200).sum();
    assert_eq!(s.bands[0].sum, exact as f64);
    assert_eq!(s.bands[0].max, 4294967295.0 - 101.0);
    // stddev of 0..300, each 200 times.
    let n = 60000.0;
    let var = (0..300)
        .map(|x| (x as f64 - 149.5).powi(2) * 200.0)
        .sum::<f64>()
        / (n - 1.0);
    assert!(
        close(s.bands[0].stddev, var.sqrt(), 1e-9),
        "{} vs {}",
        s.bands[0].stddev,
        var.sqrt()
    );
}

#[test]
fn stats_edge_cases() {
    let one = black(1, 1, 1);
    let s = reduce(&one, 1, || StatsReducer::new(1), &mut Rng::new(0)).finish();
    assert_eq!(
        (s.bands[0].mean, s.bands[0].stddev, s.bands[0].count),
        (0.0, 0.0, 1)
    );
    let empty = StatsReducer::new(2).finish();
    assert_eq!(empty.bands.len(), 2);
    assert!(empty.bands[0].mean.is_nan() && empty.bands[0].count == 0);
    let mut wrong = StatsReducer::new(2);
    let region = Ctx::standalone()
        .region(&one, Rect::new(0, 0, 1, 1))
        .unwrap();
    assert!(wrong.add(&region).is_err());
}

#[test]
fn histograms_match_reference() {
    let mut rng = Rng::new(9);
    for (img, r) in inputs() {
        let bands = r.bands as u32;
        if !matches!(r.format, BandFormat::U8 | BandFormat::U16) {
            let err = HistReducer::new(bands, r.format).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unsupported);
            assert!(err.to_string().contains("cast first"), "{err}");
            continue;
        }
        let hist = reduce(
            &img,
            3,
            || HistReducer::new(bands, r.format).unwrap(),
            &mut rng,
        )
        .finish();
        let bins = if r.format == BandFormat::U8 {
            256
        } else {
            65536
        };
        assert_eq!(hist.bands.len(), r.bands);
        for b in 0..r.bands {
            let mut want = vec![0u64; bins];
            for v in r.data.iter().skip(b).step_by(r.bands) {
                want[*v as usize] += 1;
            }
            assert_eq!(hist.bands[b], want);
        }
    }
    let mut h = HistReducer::new(1, BandFormat::U8).unwrap();
    let region = Ctx::standalone()
        .region(&xyz(2, 2), Rect::new(0, 0, 1, 1))
        .unwrap();
    assert!(h.add(&region).is_err());
}

#[test]
fn threads_share_nodes() {
    // Several workers, each with its own context, pull tiles of the same
    // graph at once (the lookup table is built lazily by whichever is
    // first).
    let src = noise(64, 48, 3, 11);
    let r = common::noise(64, 48, 3, 11);
    let a = [1.5, -0.5, 2.0];
    let image = rot(
        &invert(&linear_with(
            &src,
            &a,
            &[7.0],
            &LinearOptions::default().format(BandFormat::U16),
        )),
        Angle::D270,
    );
    let reference = common::rot(
        &common::invert(&common::linear(&r, &a, &[7.0], Some(BandFormat::U16))),
        Angle::D270,
    );
    std::thread::scope(|s| {
        for t in 0..4 {
            let (image, reference) = (&image, &reference);
            s.spawn(move || assert_matches(image, reference, &mut Rng::new(100 + t)));
        }
    });
}
