//! Random graphs of operations, built together with their reference: a
//! graph is a source and a list of [`Step`]s, each applied to both the lazy
//! image and its [`RefImg`].

use gigapix_core::{BandFormat, Image};
use gigapix_ops::*;
use proptest::prelude::*;

use super::RefImg;

/// One step of a random graph: an operation kind and raw numbers its
/// arguments are derived from (so every step is valid whatever the image).
#[derive(Clone, Debug)]
pub struct Step {
    pub kind: u8,
    pub p: [u32; 6],
    pub f: [f64; 2],
}

/// Number of step kinds [`apply`] knows.
pub const KINDS: u8 = 11;

/// Any step.
pub fn step() -> impl Strategy<Value = Step> {
    (0u8..KINDS, any::<[u32; 6]>(), [-1.0f64..1.0, -1.0f64..1.0]).prop_map(|(kind, p, f)| Step {
        kind,
        p,
        f,
    })
}

/// A step whose operation reads its input rows out of order: a vertical
/// flip, a rotation, or an embed that repeats or mirrors (with a canvas and
/// position that make it actually wrap around).
pub fn out_of_order_step() -> impl Strategy<Value = Step> {
    (0u8..6, any::<[u32; 6]>()).prop_map(|(which, mut p)| {
        let kind = match which {
            0 => {
                p[5] |= 1; // vertical
                8
            }
            1..=3 => {
                p[5] = (which - 1) as u32; // 90, 180, 270
                9
            }
            _ => {
                p[4] = 3 + (which as u32 - 4); // repeat, mirror
                7
            }
        };
        Step {
            kind,
            p,
            f: [0.5, 0.25],
        }
    })
}

pub const EXTENDS: [Extend; 5] = [
    Extend::Black,
    Extend::White,
    Extend::Copy,
    Extend::Repeat,
    Extend::Mirror,
];
pub const ANGLES: [Angle; 3] = [Angle::D90, Angle::D180, Angle::D270];

/// A generator and its reference: noise (`kind` 0), xyz (1), zone (2) or
/// black (3).
pub fn source(kind: u8, w: u32, h: u32, bands: u32, seed: u64) -> (Image, RefImg) {
    let (wu, hu) = (w as usize, h as usize);
    match kind {
        0 => (
            noise(w, h, bands, seed),
            super::noise(wu, hu, bands as usize, seed),
        ),
        1 => (xyz(w, h), super::xyz(wu, hu)),
        2 => (zone(w, h), super::zone(wu, hu)),
        _ => (black(w, h, bands), super::black(wu, hu, bands as usize)),
    }
}

/// Applies `s` to both the image and its reference.
/// Applies `s` to both the image and its reference.
pub fn apply(s: &Step, img: &Image, r: &RefImg) -> (Image, RefImg) {
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
                super::linear(r, &a, &b, format),
            )
        }
        2 => (invert(img), super::invert(r)),
        3 => {
            let f = BandFormat::ALL[p0 as usize % BandFormat::ALL.len()];
            (cast(img, f), super::cast(r, f))
        }
        4 => {
            let band = p0 % bands;
            let n = 1 + p1 % (bands - band);
            (
                extract_band(img, band, n),
                super::extract_band(r, band as usize, n as usize),
            )
        }
        5 if bands <= 4 => {
            // With a point-processed copy of itself, or with noise.
            let other = if p0 % 2 == 0 {
                (invert(img), super::invert(r))
            } else {
                let n = noise(w, h, 1 + p1 % 3, p2 as u64);
                let rn = super::noise(r.w, r.h, n.bands() as usize, p2 as u64);
                (cast(&n, r.format), super::cast(&rn, r.format))
            };
            (
                bandjoin(&[img.clone(), other.0]),
                super::bandjoin(&[r, &other.1]),
            )
        }
        6 => {
            let (left, top) = (p0 % w, p1 % h);
            let (cw, ch) = (1 + p2 % (w - left), 1 + p3 % (h - top));
            (
                crop(img, left, top, cw, ch),
                super::crop(r, left as usize, top as usize, cw as usize, ch as usize),
            )
        }
        7 => {
            let x = (p0 % (2 * w + 7)) as i64 - w as i64 - 3;
            let y = (p1 % (2 * h + 7)) as i64 - h as i64 - 3;
            let (cw, ch) = (1 + p2 % 30, 1 + p3 % 30);
            let e = EXTENDS[p4 as usize % 5];
            (
                embed(img, x, y, cw, ch, e),
                super::embed(r, x, y, cw as usize, ch as usize, e),
            )
        }
        8 => {
            let d = if p5 % 2 == 0 {
                Direction::Horizontal
            } else {
                Direction::Vertical
            };
            (flip(img, d), super::flip(r, d))
        }
        9 => {
            let a = ANGLES[p5 as usize % 3];
            (rot(img, a), super::rot(r, a))
        }
        10 if bands <= 4 => {
            // A DAG: two different branches of the same image, joined.
            let a = branch(p0, p2, p3, s.f, img, r);
            let b = branch(p1, p4, p5, s.f, img, r);
            (bandjoin(&[a.0, b.0]), super::bandjoin(&[&a.1, &b.1]))
        }
        _ => (img.clone(), r.clone()),
    }
}

/// A same-size, same-format transform of `img` for one branch of a DAG.
fn branch(which: u32, q0: u32, q1: u32, f: [f64; 2], img: &Image, r: &RefImg) -> (Image, RefImg) {
    let (w, h) = (r.w as u32, r.h as u32);
    match which % 8 {
        0 => (img.clone(), r.clone()),
        1 => (invert(img), super::invert(r)),
        2 => (
            flip(img, Direction::Horizontal),
            super::flip(r, Direction::Horizontal),
        ),
        3 => (
            flip(img, Direction::Vertical),
            super::flip(r, Direction::Vertical),
        ),
        4 => (rot(img, Angle::D180), super::rot(r, Angle::D180)),
        5 => {
            let e = EXTENDS[(q0 / 64) as usize % 5];
            let dx = (q0 % (2 * w + 1)) as i64 - w as i64;
            let dy = (q1 % (2 * h + 1)) as i64 - h as i64;
            (
                embed(img, dx, dy, w, h, e),
                super::embed(r, dx, dy, w as usize, h as usize, e),
            )
        }
        6 => {
            // There and back again, through small square tiles.
            let (a, b) = if q0.is_multiple_of(2) {
                (Angle::D90, Angle::D270)
            } else {
                (Angle::D270, Angle::D90)
            };
            (rot(&rot(img, a), b), super::rot(&super::rot(r, a), b))
        }
        _ => {
            let (a, b) = (f[0] * 2.0, f[1] * 100.0 + q0 as f64 % 7.0);
            (linear(img, &[a], &[b]), super::linear(r, &[a], &[b], None))
        }
    }
}
