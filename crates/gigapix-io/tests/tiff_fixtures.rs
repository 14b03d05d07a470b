//! TIFF files written by other tools (ImageMagick 6 and libvips 8), in
//! `tests/fixtures/tiff/`, read against PPM references of the same pixels.
//!
//! * `be-*`: big-endian (`MM`) files by ImageMagick: 16-bit RGB with LZW
//!   and the horizontal predictor, 16-bit deflate tiles of 16x16, 8-bit
//!   PackBits strips of 5 rows.
//! * `vips-*`: libvips: 8-bit LZW + predictor in 16x16 tiles, 16-bit
//!   deflate + predictor strips, and JPEG tiles (not supported).
//! * `planar-*`: ImageMagick, bands in separate planes: uncompressed,
//!   16-bit big-endian LZW + predictor strips of 7 rows, 8-bit deflate
//!   16x16 tiles, and PackBits (not supported with separate planes).
//! * `palette*`: ImageMagick palette images, expanded to RGB: 8-bit LZW,
//!   4-bit strips of 5 rows, 1-bit deflate 16x16 tiles (references
//!   `ref-palette*.ppm`, made by libvips), and 4-bit PackBits (not
//!   supported).
//! * `ref-rgb8.ppm`, `ref-rgb16.ppm`: the pixels, 37x23.

use std::path::PathBuf;

use gigapix_core::{Ctx, ErrorKind, Image, Rect};
use gigapix_io::{OpenOptions, open};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tiff")
        .join(name)
}

fn load(name: &str) -> Image {
    open(fixture(name), &OpenOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Compares `image` with `reference` over the whole image and a few
/// rectangles crossing strip and tile edges.
fn same_pixels(name: &str, image: &Image, reference: &Image) {
    assert_eq!(image.header(), reference.header(), "{name}");
    let mut ctx = Ctx::standalone();
    for rect in [
        image.header().rect(),
        Rect::new(0, 0, 1, 1),
        Rect::new(15, 4, 3, 15),
        Rect::new(30, 20, 7, 3),
        Rect::new(0, 10, 37, 3),
    ] {
        let a = ctx.region(image, rect).unwrap();
        let b = ctx.region(reference, rect).unwrap();
        for y in rect.y..rect.bottom() {
            assert_eq!(a.row_bytes(y), b.row_bytes(y), "{name}: row {y} of {rect}");
        }
    }
}

#[test]
fn files_from_other_tools() {
    let rgb8 = load("ref-rgb8.ppm");
    let rgb16 = load("ref-rgb16.ppm");
    for (name, reference, compression) in [
        ("be-rgb16-lzw-pred.tif", &rgb16, "lzw"),
        ("be-rgb16-zip-tiled.tif", &rgb16, "deflate"),
        ("be-rgb8-packbits.tif", &rgb8, "packbits"),
        ("vips-rgb8-lzw-pred-tiled.tif", &rgb8, "lzw"),
        ("vips-rgb16-deflate-pred.tif", &rgb16, "deflate"),
        ("planar-rgb8.tif", &rgb8, "none"),
        ("planar-rgb16-lzw-pred.tif", &rgb16, "lzw"),
        ("planar-rgb8-zip-tiled.tif", &rgb8, "deflate"),
    ] {
        let image = load(name);
        assert_eq!(
            image.metadata().field("compression"),
            Some(compression),
            "{name}"
        );
        same_pixels(name, &image, reference);
        if name.starts_with("planar") {
            assert_eq!(image.metadata().field("planar"), Some("separate"));
        }
    }
    for (name, reference) in [
        ("palette8-lzw.tif", "ref-palette8.ppm"),
        ("palette4.tif", "ref-palette4.ppm"),
        ("palette1-tiled.tif", "ref-palette1.ppm"),
    ] {
        same_pixels(name, &load(name), &load(reference));
    }
    assert_eq!(
        load("be-rgb16-zip-tiled.tif").metadata().field("tile"),
        Some("16x16")
    );
}

#[test]
fn unsupported_variants_are_clear_errors() {
    for name in [
        "vips-jpeg-tiled.tif",
        "planar-rgb8-packbits.tif",
        "palette4-packbits.tif",
    ] {
        match open(fixture(name), &OpenOptions::default()) {
            Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported, "{name}: {e}"),
            Ok(image) => panic!("{name}: opened as {}", image.header()),
        }
    }
}
