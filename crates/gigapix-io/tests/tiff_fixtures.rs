//! TIFF files written by other tools (ImageMagick 6 and libvips 8), in
//! `tests/fixtures/tiff/`, read against PPM references of the same pixels.
//!
//! * `be-*`: big-endian (`MM`) files by ImageMagick: 16-bit RGB with LZW
//!   and the horizontal predictor, 16-bit deflate tiles of 16x16, 8-bit
//!   PackBits strips of 5 rows.
//! * `vips-*`: libvips: 8-bit LZW + predictor in 16x16 tiles, 16-bit
//!   deflate + predictor strips, and JPEG tiles.
//! * `planar-*`: ImageMagick, bands in separate planes: uncompressed,
//!   16-bit big-endian LZW + predictor strips of 7 rows, 8-bit deflate
//!   16x16 tiles, and PackBits.
//! * `palette*`: ImageMagick palette images, expanded to RGB: 8-bit LZW,
//!   4-bit strips of 5 rows, 1-bit deflate 16x16 tiles (references
//!   `ref-palette*.ppm`, made by libvips), and 4-bit PackBits.
//! * `ref-rgb8.ppm`, `ref-rgb16.ppm`: the pixels, 37x23.
//! * `tifffile-*` (Python's tifffile, see `make_signed.py`) and
//!   `vips-f64-*`: signed 8, 16 and 32-bit and 64-bit float samples, one
//!   big-endian, in strips, tiles and separate planes, with the horizontal
//!   and floating-point predictors; their pixels are formulas repeated
//!   here.

use std::path::PathBuf;

use gigapix_core::{BandFormat, Ctx, Image, Rect};
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
        ("planar-rgb8-packbits.tif", &rgb8, "packbits"),
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
        ("palette4-packbits.tif", "ref-palette4.ppm"),
    ] {
        same_pixels(name, &load(name), &load(reference));
    }
    assert_eq!(
        load("be-rgb16-zip-tiled.tif").metadata().field("tile"),
        Some("16x16")
    );
}

/// The JPEG tiles libvips writes decode (issue 9; `tests/tiff_variants.rs`
/// compares JPEG TIFFs with libvips' decode, within a level): these
/// pixels are noise, which JPEG at Q 75 keeps only roughly (a mean
/// difference of 11.6 from the original pixels measured).
#[test]
fn jpeg_tiles_decode() {
    let image = load("vips-jpeg-tiled.tif");
    let reference = load("ref-rgb8.ppm");
    assert_eq!(image.header(), reference.header());
    assert_eq!(image.metadata().field("compression"), Some("jpeg"));
    let mut ctx = Ctx::standalone();
    let rect = image.header().rect();
    let a = ctx.region(&image, rect).unwrap();
    let b = ctx.region(&reference, rect).unwrap();
    let (mut sum, mut n) = (0u64, 0u64);
    for y in rect.y..rect.bottom() {
        for (p, q) in a.row_bytes(y).iter().zip(b.row_bytes(y)) {
            sum += u64::from(p.abs_diff(*q));
            n += 1;
        }
    }
    let mad = sum as f64 / n as f64;
    assert!(mad < 13.0, "MAD {mad}");
}

/// Pixel `(x, y)` of band `b` of a `tifffile-*` or `vips-f64-*` fixture,
/// as the script that made it computes it.
fn formula(name: &str, x: i64, y: i64, b: i64) -> f64 {
    match name {
        "tifffile-i16-be-deflate-pred.tif" => {
            ((x * 1777 - y * 2999 + x * y * 7).rem_euclid(65536) - 32768) as f64
        }
        "tifffile-i32-deflate-tiled.tif" => {
            ((x * 123456789 - y * 987654321).rem_euclid(1 << 32) - (1 << 31)) as f64
        }
        "tifffile-i8-planar.tif" => ((x * 11 - y * 13 + b * 50).rem_euclid(256) - 128) as f64,
        "tifffile-f64-deflate-tiled.tif" => x as f64 / 7.0 - y as f64 * 0.5 + b as f64 * 1000.25,
        "vips-f64-deflate-fpred-tiled.tif" => {
            0.25 * x as f64 - 0.5 * y as f64 + if b == 1 { 1000.125 } else { 0.0 }
        }
        _ => unreachable!("{name}"),
    }
}

/// The native bytes of `v` as a sample of `format`.
fn sample_bytes(format: BandFormat, v: f64) -> Vec<u8> {
    match format {
        BandFormat::I8 => (v as i8).to_ne_bytes().to_vec(),
        BandFormat::I16 => (v as i16).to_ne_bytes().to_vec(),
        BandFormat::I32 => (v as i32).to_ne_bytes().to_vec(),
        BandFormat::F64 => v.to_ne_bytes().to_vec(),
        f => unreachable!("{f}"),
    }
}

#[test]
fn signed_and_double_files_from_other_tools() {
    for (name, format, bands, compression, predictor) in [
        (
            "tifffile-i16-be-deflate-pred.tif",
            BandFormat::I16,
            1,
            "deflate",
            "horizontal",
        ),
        (
            "tifffile-i32-deflate-tiled.tif",
            BandFormat::I32,
            1,
            "deflate",
            "horizontal",
        ),
        ("tifffile-i8-planar.tif", BandFormat::I8, 2, "none", "none"),
        (
            "tifffile-f64-deflate-tiled.tif",
            BandFormat::F64,
            3,
            "deflate",
            "none",
        ),
        (
            "vips-f64-deflate-fpred-tiled.tif",
            BandFormat::F64,
            2,
            "deflate",
            "float",
        ),
    ] {
        let image = load(name);
        let h = *image.header();
        assert_eq!(
            (h.width, h.height, h.bands, h.format),
            (37, 23, bands, format),
            "{name}"
        );
        let m = image.metadata();
        assert_eq!(m.field("compression"), Some(compression), "{name}");
        assert_eq!(m.field("predictor"), Some(predictor), "{name}");
        let mut ctx = Ctx::standalone();
        for rect in [h.rect(), Rect::new(15, 4, 3, 15), Rect::new(30, 20, 7, 3)] {
            let region = ctx
                .region(&image, rect)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            for y in rect.y..rect.bottom() {
                let want: Vec<u8> = (rect.x..rect.right())
                    .flat_map(|x| (0..i64::from(bands)).map(move |b| (x, b)))
                    .flat_map(|(x, b)| sample_bytes(format, formula(name, x, y, b)))
                    .collect();
                assert_eq!(region.row_bytes(y), &want[..], "{name}: row {y} of {rect}");
            }
        }
    }
}
