//! JPEG files written by Pillow (libjpeg-turbo) and decoded by it, in
//! `tests/fixtures/jpeg/` (made by `make.py` there): our decode must be
//! within 1 level mean absolute difference of libjpeg-turbo's.

use std::path::PathBuf;

use gigapix_core::{Ctx, Image};
use gigapix_io::{OpenOptions, open};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/jpeg")
        .join(name)
}

fn pixels(image: &Image) -> Vec<u8> {
    let region = Ctx::standalone()
        .region(image, image.header().rect())
        .unwrap();
    let r = region.rect();
    (r.y..r.bottom())
        .flat_map(|y| region.row_bytes(y).to_vec())
        .collect()
}

#[test]
fn decodes_match_libjpeg_turbo() {
    for (jpg, reference) in [
        ("b444.jpg", "b444.ppm"),
        ("b420.jpg", "b420.ppm"),
        ("b422.jpg", "b422.ppm"),
        ("grey.jpg", "grey.pgm"),
        ("progressive.jpg", "progressive.ppm"),
        ("restart.jpg", "restart.ppm"),
        ("cmyk.jpg", "cmyk.gpx"),
    ] {
        let ours =
            open(fixture(jpg), &OpenOptions::default()).unwrap_or_else(|e| panic!("{jpg}: {e}"));
        let theirs = open(fixture(reference), &OpenOptions::default()).unwrap();
        let (h, r) = (ours.header(), theirs.header());
        assert_eq!(
            (h.width, h.height, h.bands),
            (r.width, r.height, r.bands),
            "{jpg}"
        );
        let (a, b) = (pixels(&ours), pixels(&theirs));
        let mad = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| (x as f64 - y as f64).abs())
            .sum::<f64>()
            / a.len() as f64;
        let max = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| x.abs_diff(y))
            .max()
            .unwrap();
        eprintln!("{jpg}: mean abs diff {mad:.3}, max {max}");
        assert!(mad <= 1.0, "{jpg}: mean abs diff {mad:.3} (max {max})");
    }
}
