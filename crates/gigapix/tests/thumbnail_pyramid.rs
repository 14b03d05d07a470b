//! `thumbnail` of a pyramidal TIFF opens the smallest level still at least
//! the output size (libvips' rule), seen through the result's `level`
//! metadata, and gives about the pixels a thumbnail of the full-size
//! level gives. The fixture is libvips 8.18's deflate page pyramid of
//! gigapix-io's `tests/fixtures/pyramid/` (500x300, levels halving to
//! 62x37).

use std::path::PathBuf;

use gigapix::{Image, ThumbnailOptions};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../gigapix-io/tests/fixtures/pyramid")
        .join(name)
}

#[test]
fn thumbnail_reads_the_smallest_level_big_enough() {
    let path = fixture("vips-deflate-pyramid.tif");
    for (width, level, size) in [
        (500, "0", (500, 300)),
        (300, "0", (300, 180)),
        (250, "1", (250, 150)),
        (200, "1", (200, 120)),
        (125, "2", (125, 75)),
        (100, "2", (100, 60)),
        (40, "3", (40, 24)),
    ] {
        let thumb = Image::thumbnail(&path, width, &ThumbnailOptions::new()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), size, "{width}");
        assert_eq!(thumb.metadata().field("level"), Some(level), "{width}");
        // The same box from level 0 only (`page=0`'s pixels through the
        // `level=0` option, which the thumbnail then keeps).
        let full = Image::thumbnail(
            format!("{}[level=0]", path.display()),
            width,
            &ThumbnailOptions::new(),
        )
        .unwrap();
        assert_eq!(full.metadata().field("level"), Some("0"));
        let (a, b) = (thumb.to_vec().unwrap(), full.to_vec().unwrap());
        let mad = a
            .iter()
            .zip(&b)
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum::<f64>()
            / a.len() as f64;
        // libvips' level is a 2x2 box average, the full-size path a
        // Lanczos resize: close, not equal at the checkerboard's edges.
        // libvips 8.18's own thumbnail against its thumbnail_image of
        // page 0 differs as much: MAD 0.78 at 200, 1.12 at 100, 7.48 at
        // 40 (ours 0.76, 1.17, 6.66).
        assert!(mad < 8.0, "{width}: MAD {mad}");
    }
}
