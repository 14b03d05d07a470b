//! Random graphs of operations over small sources: every result equals the
//! reference implementation, bit for bit, whatever the tiling.

mod common;

use common::{RefImg, Rng, assert_matches};
use gigapix_core::{BandFormat, Image};
use gigapix_ops::*;
use proptest::prelude::*;

/// One step of a random graph: an operation kind and raw numbers its
/// arguments are derived from (so every step is valid whatever the image).
#[derive(Clone, Debug)]
struct Step {
    kind: u8,
    p: [u32; 6],
    f: [f64; 2],
}

fn step() -> impl Strategy<Value = Step> {
    (0u8..10, any::<[u32; 6]>(), [-1.0f64..1.0, -1.0f64..1.0]).prop_map(|(kind, p, f)| Step {
        kind,
        p,
        f,
    })
}

const EXTENDS: [Extend; 5] = [
    Extend::Black,
    Extend::White,
    Extend::Copy,
    Extend::Repeat,
    Extend::Mirror,
];
const ANGLES: [Angle; 3] = [Angle::D90, Angle::D180, Angle::D270];

fn source(kind: u8, w: u32, h: u32, bands: u32, seed: u64) -> (Image, RefImg) {
    let (wu, hu) = (w as usize, h as usize);
    match kind {
        0 => (
            noise(w, h, bands, seed),
            common::noise(wu, hu, bands as usize, seed),
        ),
        1 => (xyz(w, h), common::xyz(wu, hu)),
        2 => (zone(w, h), common::zone(wu, hu)),
        _ => (black(w, h, bands), common::black(wu, hu, bands as usize)),
    }
}

/// Applies `s` to both the image and its reference.
fn apply(s: &Step, img: &Image, r: &RefImg) -> (Image, RefImg) {
    let [p0, p1, p2, p3, p4, p5] = s.p;
    let (w, h, bands) = (r.w as u32, r.h as u32, r.bands as u32);
    match s.kind {
        0 | 1 => {
            let n = if p0 % 2 == 0 { 1 } else { r.bands };
            let a: Vec<f64> = (0..n).map(|k| s.f[0] * 3.0 + k as f64 * 0.37).collect();
            let b: Vec<f64> = (0..n).map(|k| s.f[1] * 300.0 - k as f64 * 11.5).collect();
            let format = [
                None,
                Some(BandFormat::U8),
                Some(BandFormat::U16),
                Some(BandFormat::U32),
                Some(BandFormat::F32),
            ][p1 as usize % 5];
            let opts = match format {
                Some(f) => LinearOptions::default().format(f),
                None => LinearOptions::default(),
            };
            (
                linear_with(img, &a, &b, &opts),
                common::linear(r, &a, &b, format),
            )
        }
        2 => (invert(img), common::invert(r)),
        3 => {
            let f = BandFormat::ALL[p0 as usize % 4];
            (cast(img, f), common::cast(r, f))
        }
        4 => {
            let band = p0 % bands;
            let n = 1 + p1 % (bands - band);
            (
                extract_band(img, band, n),
                common::extract_band(r, band as usize, n as usize),
            )
        }
        5 if bands <= 4 => {
            // With a point-processed copy of itself, or with noise.
            let other = if p0 % 2 == 0 {
                (invert(img), common::invert(r))
            } else {
                let n = noise(w, h, 1 + p1 % 3, p2 as u64);
                let rn = common::noise(r.w, r.h, n.bands() as usize, p2 as u64);
                (cast(&n, r.format), common::cast(&rn, r.format))
            };
            (
                bandjoin(&[img.clone(), other.0]),
                common::bandjoin(&[r, &other.1]),
            )
        }
        6 => {
            let (left, top) = (p0 % w, p1 % h);
            let (cw, ch) = (1 + p2 % (w - left), 1 + p3 % (h - top));
            (
                crop(img, left, top, cw, ch),
                common::crop(r, left as usize, top as usize, cw as usize, ch as usize),
            )
        }
        7 => {
            let x = (p0 % (2 * w + 7)) as i64 - w as i64 - 3;
            let y = (p1 % (2 * h + 7)) as i64 - h as i64 - 3;
            let (cw, ch) = (1 + p2 % 30, 1 + p3 % 30);
            let e = EXTENDS[p4 as usize % 5];
            (
                embed(img, x, y, cw, ch, e),
                common::embed(r, x, y, cw as usize, ch as usize, e),
            )
        }
        8 => {
            let d = if p5 % 2 == 0 {
                Direction::Horizontal
            } else {
                Direction::Vertical
            };
            (flip(img, d), common::flip(r, d))
        }
        9 => {
            let a = ANGLES[p5 as usize % 3];
            (rot(img, a), common::rot(r, a))
        }
        _ => (img.clone(), r.clone()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs_match_reference(
        kind in 0u8..4,
        w in 1u32..20,
        h in 1u32..20,
        bands in 1u32..5,
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 0..7),
        tiling in any::<u64>(),
    ) {
        let (mut img, mut r) = source(kind, w, h, bands, seed);
        for s in &steps {
            (img, r) = apply(s, &img, &r);
        }
        // Two random tilings and request orders: tile invariance and
        // equality with the reference.
        let mut rng = Rng::new(tiling);
        assert_matches(&img, &r, &mut rng);
        assert_matches(&img, &r, &mut rng);
    }
}
