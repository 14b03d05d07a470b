//! The TIFF variants real files use (issue 9, item 1), each read from a
//! fixture written by another encoder (libvips 8.14, libtiff's `tiffcp`,
//! ImageMagick 6.9, Pillow 13) in `tests/fixtures/tiff9/`, against
//! libvips 8.18's decode of the same file (`*.vips818.png`, written by
//! pyvips 8.18): see that directory's README for how each was made.
//!
//! JPEG chunks go through zune-jpeg's IDCT where libvips uses
//! libjpeg-turbo's, so the comparison is within a level: the mean
//! absolute difference and the largest difference measured are stated
//! per fixture, and asserted with a little room.

use std::path::PathBuf;

use gigapix_core::{BandFormat, Ctx, ErrorKind, Image, Interpretation, Rect, StopFlags};
use gigapix_io::{FailOn, OpenOptions, open};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tiff9")
        .join(name)
}

fn load(name: &str) -> Image {
    open(fixture(name), &OpenOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The mean and largest absolute difference of `a` and `b` over `rect`.
fn differences(ctx: &mut Ctx, a: &Image, b: &Image, rect: Rect) -> (f64, u8) {
    let ra = ctx.region(a, rect).unwrap();
    let rb = ctx.region(b, rect).unwrap();
    let (mut sum, mut max, mut n) = (0u64, 0u8, 0u64);
    for y in rect.y..rect.bottom() {
        for (p, q) in ra.row_bytes(y).iter().zip(rb.row_bytes(y)) {
            let d = p.abs_diff(*q);
            sum += u64::from(d);
            max = max.max(d);
            n += 1;
        }
    }
    (sum as f64 / n as f64, max)
}

/// JPEG-compressed TIFFs (compression 7): YCbCr 2x2 and 1x1, RGB and
/// grey, strips and tiles (edge tiles cropped), JPEGTables shared.
/// `(file, MAD measured, largest difference measured)` against libvips
/// 8.18 (libjpeg-turbo).
#[test]
fn jpeg_compressed_files_match_libvips() {
    let cases = [
        // libvips 8.14, 64x64 tiles, YCbCr 2x2, Q 80.
        ("vips814-jpeg-tiled64", 0.0112, 2),
        // libvips 8.14, grey 64x64 tiles.
        ("vips814-jpeg-grey-tiled64", 0.0007, 1),
        // libvips 8.14 at Q 95: RGB, no subsampling, one strip of 128 rows.
        ("vips814-jpeg-q95-strips", 0.0007, 1),
        // tiffcp -c jpeg:r: RGB, strips of 16 rows.
        ("tiffcp-jpeg-rgb-strips", 0.0067, 1),
        // tiffcp -c jpeg: YCbCr 2x2, strips of 16 rows.
        ("tiffcp-jpeg-ycbcr-strips", 0.0102, 2),
        // tiffcp -c jpeg, 64x48 tiles.
        ("tiffcp-jpeg-ycbcr-tiled", 0.0104, 2),
        // ImageMagick -compress JPEG: RGB, one strip.
        ("im-jpeg", 0.0067, 1),
        // Pillow compression="jpeg": RGB, grey, and YCbCr 1x1.
        ("pillow-jpeg", 0.0067, 1),
        ("pillow-jpeg-grey", 0.0003, 1),
        ("pillow-ycbcr-jpeg", 0.0042, 2),
        // Pillow's JPEGs in a TIFF assembled by `make_pillow_chunks.py`,
        // no JPEGTables: progressive 64x64 tiles (4:2:0), and baseline
        // 4:2:2 strips of 32 rows (YCbCrSubSampling 2x1).
        ("pillow-chunks-progressive", 0.0098, 2),
        ("pillow-chunks-422-strips", 0.0068, 2),
    ];
    let mut ctx = Ctx::standalone();
    for (name, mad, max) in cases {
        let ours = load(&format!("{name}.tif"));
        let reference = load(&format!("{name}.vips818.png"));
        assert_eq!(ours.header(), reference.header(), "{name}");
        assert_eq!(ours.metadata().field("compression"), Some("jpeg"), "{name}");
        let (got_mad, got_max) = differences(&mut ctx, &ours, &reference, ours.header().rect());
        eprintln!("{name}: MAD {got_mad:.4}, max {got_max} (measured {mad}, {max})");
        assert!(
            got_mad <= mad * 1.5 + 0.001 && got_max <= max,
            "{name}: MAD {got_mad:.4}, max {got_max}"
        );
        // Random access: rectangles inside one chunk, across chunk edges
        // and at the right and bottom edges decode as the whole image.
        let whole = ctx.region(&ours, ours.header().rect()).unwrap();
        let px = ours.header().pixel_bytes();
        for rect in [
            Rect::new(0, 0, 1, 1),
            Rect::new(60, 40, 10, 20),
            Rect::new(140, 90, 10, 10),
            Rect::new(3, 47, 147, 3),
        ] {
            let part = ctx.region(&ours, rect).unwrap();
            for y in rect.y..rect.bottom() {
                let x0 = rect.x as usize * px;
                let x1 = rect.right() as usize * px;
                assert_eq!(
                    part.row_bytes(y),
                    &whole.row_bytes(y)[x0..x1],
                    "{name}: {rect} row {y}"
                );
            }
        }
    }
}

/// Reads the whole of `image` as packed native-order samples.
fn all_bytes(image: &Image) -> Vec<u8> {
    let rect = image.header().rect();
    let region = Ctx::standalone().region(image, rect).unwrap();
    (rect.y..rect.bottom())
        .flat_map(|y| region.row_bytes(y).to_vec())
        .collect()
}

/// CMYK (PhotometricInterpretation 5, InkSet 1), 8 and 16-bit, with an
/// extra alpha sample: kept as CMYK bands with interpretation CMYK, as
/// libvips does, equal to libvips 8.18's decode sample for sample.
#[test]
fn cmyk_is_kept_as_cmyk() {
    for (name, bands, format) in [
        ("im-cmyk8-zip", 4, BandFormat::U8),
        ("im-cmyk16-lzw", 4, BandFormat::U16),
        ("vips818-cmyk8-alpha-tiled", 5, BandFormat::U8),
    ] {
        let image = load(&format!("{name}.tif"));
        let h = image.header();
        assert_eq!(
            (h.width, h.height, h.bands, h.format),
            (67, 43, bands, format),
            "{name}"
        );
        assert_eq!(h.interpretation, Interpretation::Cmyk, "{name}");
        let reference = std::fs::read(fixture(&format!("{name}.vips818.raw"))).unwrap();
        assert!(
            all_bytes(&image) == reference,
            "{name}: differs from libvips"
        );
    }
}

/// YCbCr without JPEG compression: subsampling 1x1 (uncompressed and
/// LZW, by Pillow), 2x1, 2x2 (deflate, strips and tiles), 4x2 and 4x4
/// (TIFF 6.0 data units), converted to RGB exactly as libtiff's RGBA
/// interface converts them (which libvips 8.18 uses for these).
#[test]
fn ycbcr_data_units_match_libtiff() {
    for (name, width) in [
        ("pillow-ycbcr-none", 67),
        ("pillow-ycbcr-lzw", 67),
        ("ycbcr21-none", 67),
        ("ycbcr22-deflate", 67),
        ("ycbcr22-tiled", 67),
        ("ycbcr42-none", 67),
        ("ycbcr44-none", 64),
    ] {
        let image = load(&format!("{name}.tif"));
        let h = image.header();
        assert_eq!(
            (h.width, h.height, h.bands, h.format),
            (width, 43, 3, BandFormat::U8),
            "{name}"
        );
        assert_eq!(h.interpretation, Interpretation::Srgb, "{name}");
        let reference = std::fs::read(fixture(&format!("{name}.tiff2rgba.raw"))).unwrap();
        assert!(
            all_bytes(&image) == reference,
            "{name}: differs from libtiff"
        );
        // A rectangle across chunk and data-unit edges.
        let rect = Rect::new(5, 7, 50, 30);
        let part = Ctx::standalone().region(&image, rect).unwrap();
        for y in rect.y..rect.bottom() {
            let at = (y as usize * width as usize + 5) * 3;
            assert_eq!(
                part.row_bytes(y),
                &reference[at..at + 150],
                "{name}: row {y}"
            );
        }
    }
}

/// The f32 samples of a raw native-order file or buffer.
fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_ne_bytes(c.try_into().unwrap()))
        .collect()
}

/// CIELab: 8-bit (L 0..255, a and b signed) becomes the engine's f32 Lab
/// (L 0..100); float CIELab is kept as it is. Against libvips: a and b
/// exactly; L is libvips' 10-bit LabQ `4 v * 100 / 1023` where TIFF says
/// `v * 100 / 255` (at most 0.29 apart; 0.217 measured), so each L must
/// be the same code `v` both ways.
#[test]
fn cielab_becomes_lab() {
    for (name, reference) in [
        ("im-lab8", "im-lab8.vips814.raw"),
        ("pillow-lab8", "pillow-lab8.vips814.raw"),
        ("vips818-lab8", "vips818-lab8.vips814.raw"),
        ("vips818-labf32", "vips818-labf32.vips818.raw"),
    ] {
        let image = load(&format!("{name}.tif"));
        let h = image.header();
        assert_eq!(
            (h.width, h.height, h.bands, h.format),
            (67, 43, 3, BandFormat::F32),
            "{name}"
        );
        assert_eq!(h.interpretation, Interpretation::Lab, "{name}");
        let ours = floats(&all_bytes(&image));
        let theirs = floats(&std::fs::read(fixture(reference)).unwrap());
        assert_eq!(ours.len(), theirs.len(), "{name}");
        let float = name.ends_with("f32");
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            if i % 3 != 0 || float {
                assert_eq!(a, b, "{name}: sample {i}");
            } else {
                let (v, w) = (a * 255.0 / 100.0, b * 1023.0 / 400.0);
                assert!(
                    (v - v.round()).abs() < 1e-3 && (v - w).abs() < 1e-3,
                    "{name}: L {a} {b}"
                );
            }
        }
    }
}

/// The chunk offsets and byte counts of a little-endian classic TIFF,
/// and where in the file each offset and each count is stored.
type ChunkTable = (Vec<u64>, Vec<u64>, Vec<usize>, Vec<usize>);

/// Reads the chunk table of `bytes` (a minimal parser of little-endian
/// classic TIFF).
fn chunk_table(bytes: &[u8]) -> ChunkTable {
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
    assert_eq!(&bytes[..2], b"II");
    let ifd = u32_at(4) as usize;
    let n = u16_at(ifd) as usize;
    let (mut offsets, mut counts) = (vec![], vec![]);
    let (mut offset_entries, mut count_entries) = (vec![], vec![]);
    for e in 0..n {
        let at = ifd + 2 + 12 * e;
        let (tag, typ, count) = (u16_at(at), u16_at(at + 2), u32_at(at + 4) as usize);
        let size = if typ == 3 { 2 } else { 4 };
        let values = if count * size <= 4 {
            at + 8
        } else {
            u32_at(at + 8) as usize
        };
        let read = |k: usize| {
            if size == 2 {
                u64::from(u16_at(values + 2 * k))
            } else {
                u64::from(u32_at(values + 4 * k))
            }
        };
        match tag {
            273 | 324 => {
                offsets = (0..count).map(read).collect();
                offset_entries = (0..count).map(|k| values + size * k).collect();
            }
            279 | 325 => {
                counts = (0..count).map(read).collect();
                count_entries = (0..count).map(|k| values + size * k).collect();
            }
            _ => {}
        }
    }
    (offsets, counts, offset_entries, count_entries)
}

/// Damaged JPEG tiles: garbage, cut short, and an offset pointing
/// elsewhere in the file. Each is a one-line error naming the file and
/// the tile, or with `fail_on=none` a warning and a tile of zeros; the
/// other tiles decode as before.
#[test]
fn damaged_jpeg_tiles() {
    let bytes = std::fs::read(fixture("vips814-jpeg-tiled64.tif")).unwrap();
    let good = load("vips814-jpeg-tiled64.tif");
    let (offsets, counts, entries, count_entries) = chunk_table(&bytes);
    assert_eq!(offsets.len(), 6);
    let dir = tempfile::tempdir().unwrap();
    let tile = 4usize; // (1, 1): rows 64..100, columns 64..128.
    let (at, len) = (offsets[tile] as usize, counts[tile] as usize);
    let mut garbage = bytes.clone();
    for (i, b) in garbage[at + 2..at + len].iter_mut().enumerate() {
        *b = (i * 151 % 251) as u8;
    }
    let mut cut = bytes.clone();
    // The tile's stream stops half way (its byte count with it).
    let count_entry = count_entries[tile];
    cut[count_entry..count_entry + 4].copy_from_slice(&((len / 2) as u32).to_le_bytes());
    let mut lying = bytes.clone();
    // Tile 4 points into the middle of tile 0 instead.
    let wrong = offsets[0] as u32 + 7;
    lying[entries[tile]..entries[tile] + 4].copy_from_slice(&wrong.to_le_bytes());
    let mut ctx = Ctx::standalone();
    for (what, data) in [("garbage", garbage), ("cut", cut), ("lying", lying)] {
        let path = dir.path().join(format!("{what}.tif"));
        std::fs::write(&path, &data).unwrap();
        let image = open(&path, &OpenOptions::default()).unwrap();
        let err = ctx.region(&image, image.header().rect()).expect_err(what);
        let msg = err.to_string();
        assert_eq!(err.kind(), ErrorKind::Format, "{what}: {msg}");
        assert!(msg.contains(&format!("{what}.tif")), "{what}: {msg}");
        assert!(msg.contains("tile 4"), "{what}: {msg}");
        assert!(!msg.contains('\n'), "{what}: {msg}");
        // The other tiles still decode.
        let rect = Rect::new(64, 0, 86, 64);
        let a = ctx.region(&image, rect).unwrap();
        let b = ctx.region(&good, rect).unwrap();
        for y in 0..64 {
            assert_eq!(a.row_bytes(y), b.row_bytes(y), "{what}: row {y}");
        }

        let image = open(&path, &OpenOptions::new().fail_on(FailOn::None)).unwrap();
        let flags = StopFlags::default();
        let mut lenient = Ctx::new(gigapix_core::memory::MemoryTracker::new(), flags.clone());
        let region = lenient.region(&image, image.header().rect()).unwrap();
        let warnings = flags.warnings();
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("tile 4") && w.contains("filled with zeros")),
            "{what}: {warnings:?}"
        );
        if what != "cut" {
            // A cut tile decodes leniently as far as it goes.
            for y in 64..100 {
                assert!(
                    region.row_bytes(y)[64 * 3..128 * 3].iter().all(|&v| v == 0),
                    "{what}: row {y}"
                );
            }
        }
        let b = ctx.region(&good, Rect::new(0, 0, 150, 64)).unwrap();
        for y in 0..64 {
            assert_eq!(region.row_bytes(y), b.row_bytes(y), "{what}: row {y}");
        }
    }
}

/// Where the entry of tag `tag` is in the first directory of a
/// little-endian classic TIFF.
fn tag_entry(bytes: &[u8], tag: u16) -> Option<usize> {
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let ifd = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    (0..u16_at(ifd) as usize)
        .map(|e| ifd + 2 + 12 * e)
        .find(|&at| u16_at(at) == tag)
}

/// A YCbCrSubSampling that disagrees with the JPEG's sampling factors
/// fails the chunk, saying so.
#[test]
fn subsampling_must_agree() {
    let mut bytes = std::fs::read(fixture("pillow-chunks-422-strips.tif")).unwrap();
    let at = tag_entry(&bytes, 530).expect("YCbCrSubSampling");
    bytes[at + 8..at + 12].copy_from_slice(&[1, 0, 1, 0]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub.tif");
    std::fs::write(&path, &bytes).unwrap();
    let image = open(&path, &OpenOptions::default()).unwrap();
    let err = Ctx::standalone()
        .region(&image, Rect::new(0, 0, 10, 10))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("sub.tif")
            && msg.contains("strip 0")
            && msg.contains("disagree with YCbCrSubSampling 1x1"),
        "{msg}"
    );
}

/// Old-style JPEG (compression 6) is refused, naming the fix.
#[test]
fn old_style_jpeg_is_refused() {
    let mut bytes = std::fs::read(fixture("tiffcp-jpeg-rgb-strips.tif")).unwrap();
    let entry = tag_entry(&bytes, 259).expect("a Compression tag");
    bytes[entry + 8..entry + 10].copy_from_slice(&6u16.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ojpeg.tif");
    std::fs::write(&path, &bytes).unwrap();
    let err = open(&path, &OpenOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("ojpeg.tif") && msg.contains("old-style JPEG (compression 6)"),
        "{msg}"
    );
    assert!(msg.contains("tiffcp -c jpeg"), "{msg}");
}

/// Variants not decoded are refused at open with an error naming the
/// file, the variant and what to do: CCITT group 3 and 4 (no decoder
/// built in) and low bit depths with several samples.
#[test]
fn refused_variants_say_why() {
    for (name, words) in [
        (
            "im-g4.tif",
            "CCITT bilevel compression (ccitt-fax4, compression 4)",
        ),
        (
            "im-g3.tif",
            "CCITT bilevel compression (ccitt-fax3, compression 3)",
        ),
        (
            "im-rgb4.tif",
            "4-bit samples are read for one-sample grey and palette images only",
        ),
    ] {
        let err = open(fixture(name), &OpenOptions::default()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{name}: {err}");
        let msg = err.to_string();
        assert!(msg.contains(name) && msg.contains(words), "{name}: {msg}");
        if name.contains("-g") {
            assert!(msg.contains("tiffcp -c none"), "{msg}");
        }
    }
}
