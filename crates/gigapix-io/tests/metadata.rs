//! Metadata written by the savers: the ICC profile and EXIF block of the
//! `Metadata` given to `writer` come back identical when the file is
//! opened again (JPEG, PNG; TIFF's ICC tag is also read with the `tiff`
//! crate, and its orientation tag by ours), the EXIF orientation is
//! made to agree with the image's, and `strip` writes none of it.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{pattern, read_strips};
use gigapix_core::{BandFormat, Header, Interpretation, Metadata, Result};
use gigapix_io::{OpenOptions, SaveOptions, open, writer};

/// A TIFF-structured EXIF block with a Make tag and an orientation tag
/// of `orientation`, in big-endian (`MM`) or little-endian (`II`) order;
/// and the offset of the orientation's value.
fn exif_block(big_endian: bool, orientation: u16) -> (Vec<u8>, usize) {
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut b = Vec::new();
    b.extend_from_slice(if big_endian { b"MM" } else { b"II" });
    b.extend(u16b(42));
    b.extend(u32b(8));
    b.extend(u16b(2)); // two entries
    // Make: ASCII, 8 bytes, at offset 38.
    b.extend(u16b(0x010F));
    b.extend(u16b(2));
    b.extend(u32b(8));
    b.extend(u32b(38));
    // Orientation: SHORT, 1, inline.
    b.extend(u16b(0x0112));
    b.extend(u16b(3));
    b.extend(u32b(1));
    let value_at = b.len();
    b.extend(u16b(orientation));
    b.extend([0, 0]);
    b.extend(u32b(0)); // no next IFD
    assert_eq!(b.len(), 38);
    b.extend_from_slice(b"gigapix\0");
    (b, value_at)
}

/// A fake ICC profile of `len` bytes.
fn icc_profile(len: usize) -> Vec<u8> {
    let mut p = pattern(len, len as u32);
    if len >= 4 {
        p[..4].copy_from_slice(&(len as u32).to_be_bytes());
    }
    p
}

/// Metadata with these fields.
fn meta(icc: Option<&[u8]>, exif: Option<&[u8]>, orientation: u16) -> Metadata {
    let mut m = Metadata::new();
    m.icc = icc.map(Arc::from);
    m.exif = exif.map(Arc::from);
    m.orientation = orientation;
    m
}

/// Saves `data` (packed rows of `header`) with `metadata`, in bands of 7
/// rows.
fn save(
    path: &Path,
    header: &Header,
    data: &[u8],
    metadata: &Metadata,
    options: &SaveOptions,
) -> Result<()> {
    let mut w = writer(path, header, metadata, options)?;
    let row = header.row_bytes();
    let mut y = 0;
    while y < header.height {
        let rows = 7.min(header.height - y);
        w.write_band(y, rows, &data[y as usize * row..(y + rows) as usize * row])?;
        y += rows;
    }
    w.finish()
}

/// Opens `path` and decodes every pixel (so a damaged file fails here);
/// its metadata.
fn reopen(path: &Path) -> Metadata {
    let image = open(path, &OpenOptions::default()).unwrap();
    read_strips(&image, 16).unwrap();
    image.metadata().clone()
}

/// The APPn markers of a JPEG's headers, in order, up to the first
/// non-APP segment.
fn app_markers(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xD8]);
    let mut i = 2;
    let mut out = Vec::new();
    while bytes[i] == 0xFF && (0xE0..=0xEF).contains(&bytes[i + 1]) {
        out.push(bytes[i + 1]);
        i += 2 + usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
    }
    out
}

fn rgb(w: u32, h: u32) -> (Header, Vec<u8>) {
    let header = Header::new(w, h, 3, BandFormat::U8);
    (header, pattern(header.image_bytes() as usize, w ^ h))
}

#[test]
fn jpeg_writes_icc_and_exif() {
    let dir = tempfile::tempdir().unwrap();
    let (exif, _) = exif_block(false, 6);
    for (bands, interpretation) in [
        (3, Interpretation::Srgb),
        (1, Interpretation::Grey),
        (4, Interpretation::Multiband),
    ] {
        let mut header = Header::new(40, 100, bands, BandFormat::U8);
        header.interpretation = interpretation;
        let data = pattern(header.image_bytes() as usize, bands);
        // One chunk, and a profile needing three.
        for icc_len in [300, 150_000] {
            let icc = icc_profile(icc_len);
            let m = meta(Some(&icc), Some(&exif), 6);
            for optimize in [false, true] {
                let path = dir
                    .path()
                    .join(format!("m{bands}-{icc_len}-{optimize}.jpg"));
                let opts = SaveOptions::new().set("optimize", optimize);
                save(&path, &header, &data, &m, &opts).unwrap();
                let back = reopen(&path);
                assert_eq!(back.icc.as_deref(), Some(&icc[..]), "{path:?}");
                assert_eq!(back.exif.as_deref(), Some(&exif[..]), "{path:?}");
                assert_eq!(back.orientation, 6);
                // JFIF first, then (Adobe for CMYK,) EXIF, then ICC.
                let chunks = icc_len.div_ceil(65519);
                let mut expect = vec![0xE0];
                if bands == 4 {
                    expect.push(0xEE);
                }
                expect.push(0xE1);
                expect.extend(std::iter::repeat_n(0xE2, chunks));
                assert_eq!(app_markers(&path), expect, "{path:?}");
            }
        }
    }
}

#[test]
fn jpeg_leaves_out_what_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let (header, data) = rgb(16, 16);
    let path = dir.path().join("big.jpg");
    // An EXIF block over one segment (65527 bytes) is left out, the ICC
    // profile is kept; a profile over 255 chunks is left out.
    let mut exif = exif_block(true, 1).0;
    exif.resize(65528, 0);
    let icc = icc_profile(1000);
    save(
        &path,
        &header,
        &data,
        &meta(Some(&icc), Some(&exif), 1),
        &SaveOptions::new(),
    )
    .unwrap();
    let back = reopen(&path);
    assert_eq!(back.exif, None);
    assert_eq!(back.icc.as_deref(), Some(&icc[..]));
    // The largest EXIF block that fits is written.
    exif.truncate(65527);
    let huge = icc_profile(255 * 65519 + 1);
    save(
        &path,
        &header,
        &data,
        &meta(Some(&huge), Some(&exif), 1),
        &SaveOptions::new(),
    )
    .unwrap();
    let back = reopen(&path);
    assert_eq!(back.exif.as_deref(), Some(&exif[..]));
    assert_eq!(back.icc, None);
}

#[test]
fn jpeg_orientation_is_patched_to_the_images() {
    let dir = tempfile::tempdir().unwrap();
    let (header, data) = rgb(24, 24);
    for big_endian in [false, true] {
        let (exif, at) = exif_block(big_endian, 6);
        for optimize in [false, true] {
            let opts = SaveOptions::new().set("optimize", optimize);
            // After autorotate the image's orientation is 1: so is the file's.
            let path = dir.path().join(format!("o-{big_endian}-{optimize}.jpg"));
            save(&path, &header, &data, &meta(None, Some(&exif), 1), &opts).unwrap();
            let back = reopen(&path);
            assert_eq!(back.orientation, 1, "{path:?}");
            let mut expect = exif.clone();
            let one = if big_endian { [0, 1] } else { [1, 0] };
            expect[at..at + 2].copy_from_slice(&one);
            assert_eq!(back.exif.as_deref(), Some(&expect[..]));
            // Any other orientation, likewise.
            save(&path, &header, &data, &meta(None, Some(&exif), 8), &opts).unwrap();
            assert_eq!(reopen(&path).orientation, 8);
            // Unknown (0): the block is kept as it is.
            save(&path, &header, &data, &meta(None, Some(&exif), 0), &opts).unwrap();
            let back = reopen(&path);
            assert_eq!(back.orientation, 6);
            assert_eq!(back.exif.as_deref(), Some(&exif[..]));
        }
    }
    // A block without the tag (or not TIFF-structured) is kept as it is.
    let (mut exif, _) = exif_block(false, 6);
    exif[8] = 1; // one entry: Make only
    let path = dir.path().join("no-tag.jpg");
    save(
        &path,
        &header,
        &data,
        &meta(None, Some(&exif), 3),
        &SaveOptions::new(),
    )
    .unwrap();
    let back = reopen(&path);
    assert_eq!(back.exif.as_deref(), Some(&exif[..]));
    assert_eq!(back.orientation, 0);
}

#[test]
fn jpeg_metadata_survives_load_and_save() {
    // A JPEG made by jpeg-encoder with EXIF and an ICC profile, opened,
    // and saved with the metadata its loader found.
    let dir = tempfile::tempdir().unwrap();
    let (exif, _) = exif_block(true, 6);
    let icc = icc_profile(70_000);
    let (header, data) = rgb(33, 21);
    let src = dir.path().join("src.jpg");
    let mut encoder = jpeg_encoder::Encoder::new_file(&src, 90).unwrap();
    encoder.add_exif_metadata(&exif).unwrap();
    encoder.add_icc_profile(&icc).unwrap();
    encoder
        .encode(&data, 33, 21, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let image = open(&src, &OpenOptions::default()).unwrap();
    assert_eq!(image.metadata().orientation, 6);
    let pixels = read_strips(&image, 16).unwrap();
    let out = dir.path().join("out.jpg");
    save(
        &out,
        &header,
        &pixels,
        image.metadata(),
        &SaveOptions::new(),
    )
    .unwrap();
    let back = reopen(&out);
    assert_eq!(back.exif.as_deref(), Some(&exif[..]));
    assert_eq!(back.icc.as_deref(), Some(&icc[..]));
    assert_eq!(back.orientation, 6);
}

#[test]
fn png_writes_icc_and_exif() {
    let dir = tempfile::tempdir().unwrap();
    let icc = icc_profile(5000);
    for format in [BandFormat::U8, BandFormat::U16] {
        for big_endian in [false, true] {
            let (exif, at) = exif_block(big_endian, 6);
            let header = Header::new(20, 30, 4, format);
            let data = pattern(header.image_bytes() as usize, 3);
            let path = dir.path().join(format!("m-{format}-{big_endian}.png"));
            save(
                &path,
                &header,
                &data,
                &meta(Some(&icc), Some(&exif), 6),
                &SaveOptions::new(),
            )
            .unwrap();
            let back = reopen(&path);
            assert_eq!(back.icc.as_deref(), Some(&icc[..]));
            assert_eq!(back.exif.as_deref(), Some(&exif[..]));
            assert_eq!(back.orientation, 6, "read from eXIf");
            // The orientation is patched as for JPEG.
            save(
                &path,
                &header,
                &data,
                &meta(Some(&icc), Some(&exif), 1),
                &SaveOptions::new(),
            )
            .unwrap();
            let back = reopen(&path);
            let mut expect = exif.clone();
            let one = if big_endian { [0, 1] } else { [1, 0] };
            expect[at..at + 2].copy_from_slice(&one);
            assert_eq!(back.exif.as_deref(), Some(&expect[..]));
            assert_eq!(back.icc.as_deref(), Some(&icc[..]));
        }
    }
}

/// The ICC profile tag of a TIFF file, read with the `tiff` crate.
fn tiff_icc(path: &Path) -> Option<Vec<u8>> {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut decoder = tiff::decoder::Decoder::new(file).unwrap();
    decoder
        .find_tag(tiff::tags::Tag::IccProfile)
        .unwrap()
        .map(|v| v.into_u8_vec().unwrap())
}

#[test]
fn tiff_writes_icc() {
    let dir = tempfile::tempdir().unwrap();
    let (exif, _) = exif_block(false, 6);
    let (header, data) = rgb(50, 40);
    // Inline (up to 4 or 8 bytes) and stored apart.
    for icc_len in [1, 3, 4, 8, 9, 70_000] {
        let icc = icc_profile(icc_len);
        for opts in [
            SaveOptions::new(),
            SaveOptions::new()
                .set("compression", "lzw")
                .set("tile", true),
            SaveOptions::new().set("bigtiff", true),
        ] {
            let path = dir.path().join("m.tif");
            let m = meta(Some(&icc), Some(&exif), 6);
            save(&path, &header, &data, &m, &opts).unwrap();
            assert_eq!(tiff_icc(&path).as_deref(), Some(&icc[..]), "{opts:?}");
            // Our loader reads the pixels and the profile.
            let image = open(&path, &OpenOptions::default()).unwrap();
            assert_eq!(read_strips(&image, 16).unwrap(), data);
            assert_eq!(image.metadata().icc.as_deref(), Some(&icc[..]), "{opts:?}");
            // The orientation goes to tag 274 and comes back.
            assert_eq!(image.metadata().orientation, 6, "{opts:?}");
        }
    }
}

#[test]
fn strip_writes_no_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let (exif, _) = exif_block(false, 6);
    let icc = icc_profile(2000);
    let m = meta(Some(&icc), Some(&exif), 6);
    let (header, data) = rgb(20, 20);
    for ext in ["jpg", "png", "tif", "ppm"] {
        for optimize in [false, true] {
            let path = dir.path().join(format!("s.{ext}"));
            let mut opts = SaveOptions::new().set("strip", true);
            if ext == "jpg" {
                opts = opts.set("optimize", optimize);
            }
            save(&path, &header, &data, &m, &opts).unwrap();
            let back = reopen(&path);
            assert_eq!(back.icc, None, "{ext}");
            assert_eq!(back.exif, None, "{ext}");
            assert_eq!(back.orientation, 0, "{ext}");
            if ext == "tif" {
                assert_eq!(tiff_icc(&path), None);
            }
            if ext == "jpg" {
                assert_eq!(app_markers(&path), [0xE0]);
            }
            // `strip=false` keeps it.
            save(
                &path,
                &header,
                &data,
                &m,
                &SaveOptions::new().set("strip", false),
            )
            .unwrap();
            let kept = reopen(&path);
            if ext == "jpg" || ext == "png" {
                assert_eq!(kept.icc.as_deref(), Some(&icc[..]));
                assert_eq!(kept.exif.as_deref(), Some(&exif[..]));
            }
            if ext == "tif" {
                assert_eq!(tiff_icc(&path).as_deref(), Some(&icc[..]));
            }
            // In brackets after the name too.
            let bracket = dir.path().join(format!("s.{ext}[strip]"));
            save(&bracket, &header, &data, &m, &SaveOptions::new()).unwrap();
            let back = reopen(&path);
            assert_eq!((back.icc, back.exif), (None, None), "{ext}");
            if ext == "tif" {
                assert_eq!(tiff_icc(&path), None);
            }
        }
    }
}

#[test]
fn no_metadata_no_segments() {
    let dir = tempfile::tempdir().unwrap();
    let (header, data) = rgb(20, 20);
    for optimize in [false, true] {
        let path = dir.path().join("plain.jpg");
        // Empty blocks count as none.
        let m = meta(Some(&[]), Some(&[]), 1);
        let opts = SaveOptions::new().set("optimize", optimize);
        save(&path, &header, &data, &m, &opts).unwrap();
        assert_eq!(app_markers(&path), [0xE0]);
        let back = reopen(&path);
        assert_eq!((back.icc, back.exif), (None, None));
    }
}
