//! `autorotate` against the reference for every EXIF orientation.

mod common;

use std::sync::Arc;

use common::{Rng, assert_matches, flip, rot};
use gigapix_core::{Header, Image, Inputs, Metadata, Operation, Rect, Region, Result};
use gigapix_ops::{Angle, Direction, autorotate, noise};

/// Passes its input through with a given orientation in its metadata, as a
/// JPEG loader would report it.
struct Oriented(u16);

impl Operation for Oriented {
    type State = ();
    fn name(&self) -> &'static str {
        "oriented"
    }
    fn header(&self, inputs: &[Header]) -> Result<Header> {
        Ok(inputs[0])
    }
    fn metadata(&self, _: &[Arc<Metadata>]) -> Arc<Metadata> {
        let mut m = Metadata::new();
        m.orientation = self.0;
        Arc::new(m)
    }
    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        inputs.get(0, out)
    }
}

#[test]
fn every_orientation_comes_out_upright() {
    let mut rng = Rng::new(7);
    let r = common::noise(23, 17, 3, 5);
    for orientation in 0..=8u16 {
        let img = Image::new(Oriented(orientation), vec![noise(23, 17, 3, 5)]);
        let want = match orientation {
            2 => flip(&r, Direction::Horizontal),
            3 => rot(&r, Angle::D180),
            4 => flip(&r, Direction::Vertical),
            5 => flip(&rot(&r, Angle::D90), Direction::Horizontal),
            6 => rot(&r, Angle::D90),
            7 => flip(&rot(&r, Angle::D270), Direction::Horizontal),
            8 => rot(&r, Angle::D270),
            _ => r.clone(),
        };
        let up = autorotate(&img);
        assert_matches(&up, &want, &mut rng);
        if orientation >= 2 {
            assert_eq!(up.metadata().orientation, 1, "orientation {orientation}");
        }
    }
}

/// Orientation 5 is a transpose and 7 a transverse, written out pixel by
/// pixel (independent of the rot/flip composition above).
#[test]
fn transpose_and_transverse_by_hand() {
    let (w, h) = (5usize, 3usize);
    let src = noise(w as u32, h as u32, 1, 2);
    let px = common::to_ref(&src);
    let at = |x: usize, y: usize| px.data[y * w + x];
    for (orientation, f) in [
        (
            5u16,
            Box::new(|x: usize, y: usize| at(y, x)) as Box<dyn Fn(usize, usize) -> f64>,
        ),
        (7, Box::new(|x: usize, y: usize| at(w - 1 - y, h - 1 - x))),
    ] {
        let up = common::to_ref(&autorotate(&Image::new(
            Oriented(orientation),
            vec![src.clone()],
        )));
        assert_eq!((up.w, up.h), (h, w));
        for y in 0..w {
            for x in 0..h {
                assert_eq!(
                    up.data[y * h + x],
                    f(x, y),
                    "orientation {orientation} at {x},{y}"
                );
            }
        }
    }
}
