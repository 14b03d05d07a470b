//! Files as other programs write them, with the quirks that used to give
//! wrong pixels: each is read against the decode of another program
//! (libvips 8.18 through pyvips, Pillow, libtiff), committed beside it.
//! How every fixture was made is in `tests/fixtures/*/README.md`.
//!
//! * TIFF FillOrder 2 (bits of every byte reversed, by libtiff's `tiffcp
//!   -f lsb2msb`) with every compression and bit depth;
//! * TIFF associated alpha (ExtraSamples 1), un-premultiplied as libvips
//!   8.18 does;
//! * TIFF tags that change the decoding and are not supported: refused;
//! * JPEG: 4:2:0 and 4:2:2 files a few pixels wide, upsampled as
//!   libjpeg-turbo does;
//! * PNG: a `tRNS` grey value outside a low bit depth, masked as libpng
//!   does; APNG files whose animation chunks are out of order, shown as
//!   their default image as libvips and Pillow do.

use std::path::PathBuf;

use gigapix_core::{BandFormat, Ctx, ErrorKind, Image, Rect};
use gigapix_io::{OpenOptions, open};

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn load(path: &str) -> Image {
    open(fixture(path), &OpenOptions::default()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every byte of `image`, rows one after another (native order).
fn bytes_of(image: &Image, rect: Rect) -> Vec<u8> {
    let mut ctx = Ctx::standalone();
    let region = ctx.region(image, rect).unwrap();
    (rect.y..rect.bottom())
        .flat_map(|y| region.row_bytes(y).to_vec())
        .collect()
}

/// Asserts that `image` has the pixels of `reference` over the whole
/// image and a few rectangles crossing strip and tile edges.
fn same_pixels(name: &str, image: &Image, reference: &Image) {
    assert_eq!(image.header(), reference.header(), "{name}");
    let full = image.header().rect();
    for rect in [
        full,
        Rect::new(0, 0, 1, 1),
        Rect::new(15, 4, 3, 15),
        Rect::new(full.width - 7, full.height - 3, 7, 3),
        Rect::new(0, full.height / 2, full.width, 3),
    ] {
        assert_eq!(
            bytes_of(image, rect),
            bytes_of(reference, rect),
            "{name}: {rect}"
        );
    }
}

/// Asserts that `image` holds the samples of a raw little-endian dump
/// (libvips `rawsave`) of `format`.
fn same_as_raw(name: &str, image: &Image, raw: &str, format: BandFormat) {
    assert_eq!(image.header().format, format, "{name}");
    let mut want = std::fs::read(fixture(raw)).unwrap();
    if cfg!(target_endian = "big") {
        for s in want.chunks_exact_mut(format.size()) {
            s.reverse();
        }
    }
    let got = bytes_of(image, image.header().rect());
    assert_eq!(got.len(), want.len(), "{name}");
    if got != want {
        let size = format.size();
        let at = got
            .chunks_exact(size)
            .zip(want.chunks_exact(size))
            .position(|(a, b)| a != b)
            .unwrap();
        panic!("{name}: sample {at} differs from {raw}");
    }
}

#[test]
fn tiff_fill_order_2() {
    let rgb8 = load("tiff/ref-rgb8.ppm");
    let rgb16 = load("tiff/ref-rgb16.ppm");
    let palette4 = load("tiff/ref-palette4.ppm");
    for (name, reference) in [
        ("fo2-rgb8-none.tif", &rgb8),
        ("fo2-rgb8-packbits.tif", &rgb8),
        ("fo2-rgb8-zip-tiled.tif", &rgb8),
        ("fo2-planar-rgb8-packbits.tif", &rgb8),
        ("fo2-rgb16-lzw-pred.tif", &rgb16),
        ("fo2-palette4-lzw.tif", &palette4),
    ] {
        let image = load(&format!("tiff/{name}"));
        assert_eq!(
            image.metadata().field("fill-order"),
            Some("lsb-to-msb"),
            "{name}"
        );
        same_pixels(name, &image, reference);
    }
    // Grey of 1, 2 and 4 bits (expanded to 8 as libvips does), one
    // WhiteIsZero, against libvips 8.18's decode.
    for (name, reference) in [
        ("fo2-bw1-packbits.tif", "fo2-bw1-packbits.vips818.pgm"),
        ("fo2-bw1-none.tif", "fo2-bw1-packbits.vips818.pgm"),
        ("fo2-bw1w.tif", "fo2-bw1w.vips818.pgm"),
        ("fo2-grey2-zip.tif", "fo2-grey2-zip.vips818.pgm"),
        ("fo2-grey4-lzw.tif", "fo2-grey4-lzw.vips818.pgm"),
    ] {
        let image = load(&format!("tiff/{name}"));
        same_pixels(name, &image, &load(&format!("tiff/{reference}")));
    }
    let image = load("tiff/fo2-f32-zip-fpred.tif");
    assert_eq!(image.metadata().field("predictor"), Some("float"));
    same_as_raw(
        "fo2-f32-zip-fpred.tif",
        &image,
        "tiff/fo2-f32.vips818.raw",
        BandFormat::F32,
    );
}

#[test]
fn tiff_white_is_zero_as_libvips_does() {
    // Decoded here since the chunks no longer go through the `tiff` crate.
    for (name, format) in [
        ("miniswhite8-lzw", BandFormat::U8),
        ("miniswhite16-zip", BandFormat::U16),
    ] {
        let image = load(&format!("tiff/{name}.tif"));
        same_as_raw(name, &image, &format!("tiff/{name}.vips818.raw"), format);
    }
}

#[test]
fn tiff_associated_alpha_is_unpremultiplied_as_libvips_does() {
    for (name, format) in [
        ("assoc-rgba8", BandFormat::U8),
        ("assoc-rgba16-deflate", BandFormat::U16),
        ("assoc-rgbaf32", BandFormat::F32),
    ] {
        let image = load(&format!("tiff/{name}.tif"));
        assert_eq!(image.metadata().field("alpha"), Some("associated"));
        same_as_raw(name, &image, &format!("tiff/{name}.vips818.raw"), format);
    }
    // Every colour value under every alpha (colour x, alpha y).
    let image = load("tiff/assoc-ramp8.tif");
    same_pixels(
        "assoc-ramp8.tif",
        &image,
        &load("tiff/assoc-ramp8.vips818.png"),
    );
}

/// A little-endian TIFF of one 2x2 uncompressed strip of 8-bit samples,
/// `bands` a pixel, with `extra` tags (tag, type, count, value) added.
fn tiny_tiff(bands: u16, extra: &[(u16, u16, u32, u32)]) -> Vec<u8> {
    let data_len = 4 * u32::from(bands);
    let mut tags: Vec<(u16, u16, u32, u32)> = vec![
        (256, 3, 1, 2),
        (257, 3, 1, 2),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, if bands >= 3 { 2 } else { 1 }),
        (273, 4, 1, 0), // patched below
        (277, 3, 1, u32::from(bands)),
        (278, 3, 1, 2),
        (279, 4, 1, data_len),
    ];
    for e in extra {
        tags.retain(|t| t.0 != e.0);
        tags.push(*e);
    }
    tags.sort_by_key(|t| t.0);
    let ifd_len = 2 + 12 * tags.len() as u32 + 4;
    let data_at = 8 + ifd_len;
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(tags.len() as u16).to_le_bytes());
    for (tag, ty, count, value) in tags {
        let value = if tag == 273 { data_at } else { value };
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        if ty == 3 && count == 1 {
            out.extend_from_slice(&(value as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend((0..data_len).map(|i| i as u8 * 10));
    out
}

#[test]
fn tiff_tags_that_are_not_honoured_are_refused() {
    let dir = std::env::temp_dir().join(format!("gigapix-realworld-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The plain file opens, with the pixels written.
    let path = dir.join("plain.tif");
    std::fs::write(&path, tiny_tiff(3, &[])).unwrap();
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(
        bytes_of(&image, image.header().rect()),
        (0..12).map(|i| i * 10).collect::<Vec<u8>>()
    );
    for (what, bands, tags, needle) in [
        // CMYK, YCbCr and CIELab are read since issue 9 (see
        // `tiff_variants.rs`); what they do not cover is refused.
        (
            "separated, other inks",
            4,
            vec![(262, 3, 1, 5), (332, 3, 1, 2)],
            "InkSet 2",
        ),
        (
            "YCbCr with a predictor",
            3,
            vec![(262, 3, 1, 6), (317, 3, 1, 2)],
            "Predictor 2",
        ),
        (
            "ICCLab",
            3,
            vec![(262, 3, 1, 9)],
            "PhotometricInterpretation 9",
        ),
        (
            "mask",
            1,
            vec![(262, 3, 1, 4)],
            "PhotometricInterpretation 4",
        ),
        ("fill order 3", 3, vec![(266, 3, 1, 3)], "FillOrder 3"),
        ("planar 3", 3, vec![(284, 3, 1, 3)], "planar configuration"),
        ("predictor 4", 3, vec![(317, 3, 1, 4)], "predictor “4”"),
        (
            "float predictor on u8",
            3,
            vec![(317, 3, 1, 3)],
            "Predictor 3",
        ),
        ("extra samples 3", 4, vec![(338, 3, 1, 3)], "ExtraSamples"),
        (
            "extra samples for samples not there",
            3,
            vec![(338, 3, 1, 2)],
            "ExtraSamples",
        ),
        ("old-style jpeg", 3, vec![(259, 3, 1, 6)], "old-style JPEG"),
        ("ccitt", 1, vec![(259, 3, 1, 4)], "ccitt"),
        (
            "associated alpha on signed samples",
            2,
            vec![(338, 3, 1, 1), (339, 3, 1, 2)],
            "associated alpha",
        ),
        (
            "WhiteIsZero signed",
            1,
            vec![(262, 3, 1, 0), (339, 3, 1, 2)],
            "WhiteIsZero",
        ),
        ("12-bit", 1, vec![(258, 3, 1, 12)], "12-bit"),
    ] {
        let path = dir.join("bad.tif");
        std::fs::write(&path, tiny_tiff(bands, &tags)).unwrap();
        match open(&path, &OpenOptions::default()) {
            Ok(image) => panic!("{what}: opened as {}", image.header()),
            Err(e) => {
                // The `tiff` crate refuses a few values itself, as damage.
                assert!(
                    matches!(e.kind(), ErrorKind::Unsupported | ErrorKind::Format),
                    "{what}: {e}"
                );
                assert!(
                    e.message().to_lowercase().contains(&needle.to_lowercase()),
                    "{what}: {e}"
                );
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn png_trns_grey_outside_the_bit_depth_is_masked_as_libpng_does() {
    // libvips 8.18 (like libpng's expansion) keeps the low `depth` bits of a
    // tRNS grey value: 2 on a 1-bit image names black, 3 names white, 5
    // on a 2-bit image names 1 (85 once spread).
    for name in ["trns1-grey2", "trns1-grey3", "trns2-grey5"] {
        let image = load(&format!("png/{name}.png"));
        assert_eq!(image.header().bands, 2, "{name}");
        same_as_raw(
            name,
            &image,
            &format!("png/{name}.vips818.raw"),
            BandFormat::U8,
        );
    }
}

#[test]
fn apng_with_chunks_out_of_order_shows_the_default_image() {
    let want = std::fs::read(fixture("png/apng-default.raw")).unwrap();
    for name in [
        "apng-ok",
        "apng-fctl-before-actl",
        "apng-actl-after-idat",
        "apng-default-not-frame",
        "apng-bad-sequence",
        "apng-fdat-without-fctl",
        "apng-two-actl",
        "apng-frames-0",
        "apng-frames-short",
        "apng-fctl-after-idat-only",
    ] {
        let image = match open(fixture(&format!("png/{name}.png")), &OpenOptions::default()) {
            Ok(image) => image,
            Err(e) => panic!("{name}: {e}"),
        };
        let mut ctx = Ctx::standalone();
        let got = ctx.region(&image, image.header().rect());
        let got = match got {
            Ok(r) => (0..4)
                .flat_map(|y| r.row_bytes(y).to_vec())
                .collect::<Vec<u8>>(),
            Err(e) => panic!("{name}: {e}"),
        };
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn apng_by_pillow_shows_its_first_frame() {
    let image = load("png/pillow-apng.png");
    assert_eq!(image.header().width, 14);
    same_as_raw(
        "pillow-apng.png",
        &image,
        "png/pillow-apng-default.raw",
        BandFormat::U8,
    );
}

/// Small 4:2:0 and 4:2:2 JPEG files by Pillow 11 (libjpeg-turbo), read
/// against Pillow's decode. libjpeg-turbo replicates chroma that is at
/// most 2 samples wide instead of filtering it (images up to 4 pixels
/// wide), which gigapix used to filter: up to 30 levels apart on these.
/// What is left is zune-jpeg's IDCT, at most 2 levels from libjpeg-turbo's.
#[test]
fn jpeg_small_subsampled_images_match_libjpeg_turbo() {
    for size in [
        "1x1", "2x5", "3x3", "4x4", "5x3", "6x2", "9x7", "17x18", "64x48",
    ] {
        for sub in ["420", "422"] {
            let name = format!("r{size}-{sub}");
            let image = load(&format!("jpeg-edge/{name}.jpg"));
            let reference = load(&format!("jpeg-edge/{name}.pil.ppm"));
            assert_eq!(image.header(), reference.header(), "{name}");
            let rect = image.header().rect();
            let (a, b) = (bytes_of(&image, rect), bytes_of(&reference, rect));
            let diffs: Vec<u8> = a.iter().zip(&b).map(|(x, y)| x.abs_diff(*y)).collect();
            let worst = *diffs.iter().max().unwrap();
            let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
            assert!(worst <= 2, "{name}: {worst} levels from libjpeg-turbo");
            assert!(
                mean < 0.25,
                "{name}: {mean} levels from libjpeg-turbo on average"
            );
        }
    }
}
