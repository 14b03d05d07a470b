//! The JPEG loader and saver, checked against zune-jpeg's own whole-image
//! decoder (an independent upsampler and colour converter) on files made
//! by jpeg-encoder.

mod common;

use std::path::Path;

use common::read_strips;
use gigapix_core::{BandFormat, ErrorKind, Header, Interpretation, Metadata};
use gigapix_io::{OpenOptions, SaveOptions, open, writer};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// A smooth colour image with some detail, packed RGB.
fn scene(w: usize, h: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let fx = x as f64 / w.max(2) as f64;
            let fy = y as f64 / h.max(2) as f64;
            let r = 255.0 * fx;
            let g = 255.0 * fy;
            let b = 128.0 + 100.0 * (x as f64 / 9.0).sin() * (y as f64 / 7.0).cos();
            v.extend([r as u8, g as u8, b as u8]);
        }
    }
    v
}

fn grey_of(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .map(|p| ((u32::from(p[0]) * 3 + u32::from(p[1]) * 5 + u32::from(p[2]) * 2) / 10) as u8)
        .collect()
}

struct Make {
    quality: u8,
    sampling: SamplingFactor,
    restart: Option<u16>,
    progressive: bool,
}

impl Default for Make {
    fn default() -> Make {
        Make {
            quality: 85,
            sampling: SamplingFactor::F_2_2,
            restart: None,
            progressive: false,
        }
    }
}

/// Encodes with jpeg-encoder directly.
fn make_jpeg(data: &[u8], w: u16, h: u16, color: ColorType, m: &Make) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, m.quality);
    enc.set_sampling_factor(m.sampling);
    if let Some(r) = m.restart {
        enc.set_restart_interval(r);
    }
    enc.set_progressive(m.progressive);
    enc.encode(data, w, h, color).unwrap();
    out
}

/// zune-jpeg's whole-image decode: RGB for colour, grey for grey.
fn reference(bytes: &[u8], colorspace: ColorSpace) -> Vec<u8> {
    let options = DecoderOptions::default().jpeg_set_out_colorspace(colorspace);
    let mut d = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    d.decode().unwrap()
}

/// Our loader, read in strips top to bottom.
fn load(dir: &Path, file: &str, bytes: &[u8]) -> (Header, Vec<u8>) {
    let path = dir.join(file);
    std::fs::write(&path, bytes).unwrap();
    let image = open(&path, &OpenOptions::default()).unwrap();
    let header = *image.header();
    (header, read_strips(&image, 16).unwrap())
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    sum as f64 / a.len() as f64
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

#[test]
fn colour_matches_zune_whole_image_decode() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("444", SamplingFactor::F_1_1, None, false),
        ("420", SamplingFactor::F_2_2, None, false),
        ("422", SamplingFactor::F_2_1, None, false),
        ("440", SamplingFactor::F_1_2, None, false),
        ("420-restart", SamplingFactor::F_2_2, Some(3), false),
        ("444-restart", SamplingFactor::F_1_1, Some(1), false),
        ("420-progressive", SamplingFactor::F_2_2, None, true),
        ("444-progressive", SamplingFactor::F_1_1, None, true),
        // Sampling factors of 4: jpeg-encoder writes one scan per
        // component (a multi-scan, buffered file); replicated chroma.
        ("411", SamplingFactor::F_4_1, None, false),
        ("421", SamplingFactor::F_2_4, None, false),
    ];
    for (w, h) in [(203usize, 157usize), (64, 48), (1, 9), (17, 1), (3, 5)] {
        let rgb = scene(w, h);
        for (label, sampling, restart, progressive) in cases {
            let m = Make {
                sampling,
                restart,
                progressive,
                ..Make::default()
            };
            let bytes = make_jpeg(&rgb, w as u16, h as u16, ColorType::Rgb, &m);
            let want = reference(&bytes, ColorSpace::RGB);
            let (header, got) = load(dir.path(), &format!("{label}-{w}x{h}.jpg"), &bytes);
            assert_eq!(
                header,
                Header::new(w as u32, h as u32, 3, BandFormat::U8),
                "{label}"
            );
            // Chroma at most 2 samples wide is replicated, as
            // libjpeg-turbo does, where zune-jpeg filters it: such files
            // are checked against libjpeg-turbo in `realworld.rs`.
            let narrow = w <= 4 && (label.starts_with("420") || label == "422");
            let d = mean_abs_diff(&got, &want);
            println!("{label} {w}x{h}: mean abs diff vs zune-jpeg {d:.4}");
            assert!(narrow || d <= 1.0, "{label} {w}x{h}: mean abs diff {d}");
            // And the decode is close to the original.
            if w >= 16 && h >= 16 {
                let p = psnr(&got, &rgb);
                assert!(p > 25.0, "{label} {w}x{h}: PSNR {p}");
            }
        }
    }
}

#[test]
fn grey_matches_zune() {
    let dir = tempfile::tempdir().unwrap();
    for (w, h) in [(203usize, 157usize), (8, 8), (1, 1)] {
        let grey = grey_of(&scene(w, h));
        for progressive in [false, true] {
            let m = Make {
                progressive,
                ..Make::default()
            };
            let bytes = make_jpeg(&grey, w as u16, h as u16, ColorType::Luma, &m);
            let want = reference(&bytes, ColorSpace::Luma);
            let (header, got) = load(dir.path(), "grey.jpg", &bytes);
            assert_eq!(header, Header::new(w as u32, h as u32, 1, BandFormat::U8));
            let d = mean_abs_diff(&got, &want);
            println!("grey {w}x{h} progressive={progressive}: mean abs diff {d:.4}");
            assert!(d <= 1.0, "{d}");
        }
    }
}

#[test]
fn flat_colour_decodes_flat() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (40usize, 24usize);
    let colour = [200u8, 100, 50];
    let rgb: Vec<u8> = colour.iter().copied().cycle().take(w * h * 3).collect();
    let bytes = make_jpeg(&rgb, w as u16, h as u16, ColorType::Rgb, &Make::default());
    let (_, got) = load(dir.path(), "flat.jpg", &bytes);
    for p in got.chunks_exact(3) {
        for (a, b) in p.iter().zip(colour) {
            assert!(a.abs_diff(b) <= 2, "{p:?} vs {colour:?}");
        }
    }
}

#[test]
fn cmyk_from_jpeg_encoder() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (33usize, 21usize);
    let smooth: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            [(x * 6) as u8, (y * 10) as u8, 128, ((x + y) * 3) as u8]
        })
        .collect();
    for (label, color) in [("cmyk", ColorType::Cmyk), ("ycck", ColorType::CmykAsYcck)] {
        let bytes = make_jpeg(&smooth, w as u16, h as u16, color, &Make::default());
        let (header, got) = load(dir.path(), "cmyk.jpg", &bytes);
        assert_eq!(header.bands, 4);
        assert_eq!(header.interpretation, Interpretation::Multiband);
        // jpeg-encoder stores CMYK inverted under an Adobe marker (and
        // YCCK with K inverted), the Adobe convention: we undo it, so the
        // input comes back.
        let d = mean_abs_diff(&got, &smooth);
        println!("{label}: mean abs diff vs the input {d:.3}");
        assert!(d < 3.0, "{label}: {d}");
    }
}

#[test]
fn round_trip_through_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (301u32, 211u32);
    let rgb = scene(w as usize, h as usize);
    for (q, sub, min_psnr) in [
        (90, "auto", 35.0),
        (90, "420", 33.0),
        (75, "auto", 30.0),
        (95, "422", 35.0),
    ] {
        let path = dir.path().join(format!("rt-{q}-{sub}.jpg"));
        let header = Header::new(w, h, 3, BandFormat::U8);
        let opts = SaveOptions::new().set("Q", q).set("subsample", sub);
        let mut out = writer(&path, &header, &Metadata::default(), &opts).unwrap();
        let row = header.row_bytes();
        let mut y = 0;
        while y < h {
            let rows = 37.min(h - y);
            out.write_band(y, rows, &rgb[y as usize * row..(y + rows) as usize * row])
                .unwrap();
            y += rows;
        }
        out.finish().unwrap();
        let image = open(&path, &OpenOptions::default()).unwrap();
        let got = read_strips(&image, 32).unwrap();
        let p = psnr(&got, &rgb);
        println!(
            "Q={q} subsample={sub}: PSNR {p:.2} dB, {} bytes, {:?}",
            std::fs::metadata(&path).unwrap().len(),
            image.metadata().field("jpeg-subsample")
        );
        assert!(p > min_psnr, "Q={q} {sub}: PSNR {p}");
        let bytes = std::fs::read(&path).unwrap();
        let d = mean_abs_diff(&got, &reference(&bytes, ColorSpace::RGB));
        assert!(d <= 1.0, "{d}");
    }
}

#[test]
fn writer_grey_cmyk_and_optimize() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (97u32, 45u32);
    let grey = grey_of(&scene(w as usize, h as usize));
    let path = dir.path().join("g.jpg");
    let header = Header::new(w, h, 1, BandFormat::U8);
    for optimize in [false, true] {
        let opts = SaveOptions::new().set("Q", 95).set("optimize", optimize);
        let mut out = writer(&path, &header, &Metadata::default(), &opts).unwrap();
        out.write_band(0, h, &grey).unwrap();
        out.finish().unwrap();
        let image = open(&path, &OpenOptions::default()).unwrap();
        assert_eq!(*image.header(), header);
        let p = psnr(&read_strips(&image, 8).unwrap(), &grey);
        assert!(p > 38.0, "{p}");
    }
    // CMYK: inverted on save, inverted back on load.
    let mut header = Header::new(w, h, 4, BandFormat::U8);
    header.interpretation = Interpretation::Multiband;
    let cmyk: Vec<u8> = grey.iter().flat_map(|&g| [g, 255 - g, g / 2, 30]).collect();
    let path = dir.path().join("c.jpg");
    let mut out = writer(
        &path,
        &header,
        &Metadata::default(),
        &SaveOptions::new().set("Q", 95),
    )
    .unwrap();
    out.write_band(0, h, &cmyk).unwrap();
    out.finish().unwrap();
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(*image.header(), header);
    let p = psnr(&read_strips(&image, 8).unwrap(), &cmyk);
    assert!(p > 35.0, "{p}");
}

#[test]
fn writer_rejects_bad_input_before_creating_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.jpg");
    let bad = [
        (Header::new(8, 8, 3, BandFormat::U16), SaveOptions::new()),
        (Header::new(8, 8, 2, BandFormat::U8), SaveOptions::new()),
        (Header::new(8, 8, 4, BandFormat::U8), SaveOptions::new()),
        (Header::new(70000, 8, 1, BandFormat::U8), SaveOptions::new()),
        (
            Header::new(8, 8, 3, BandFormat::U8),
            SaveOptions::new().set("bogus", 1),
        ),
        (
            Header::new(8, 8, 3, BandFormat::U8),
            SaveOptions::new().set("Q", 0),
        ),
        (
            Header::new(8, 8, 3, BandFormat::U8),
            SaveOptions::new().set("subsample", "411"),
        ),
    ];
    for (header, opts) in bad {
        let e = writer(&path, &header, &Metadata::default(), &opts)
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }
    assert!(common::entries(dir.path()).is_empty());
    let e = writer(
        &dir.path().join("y.jpg[bogus]"),
        &Header::new(8, 8, 3, BandFormat::U8),
        &Metadata::default(),
        &SaveOptions::new(),
    )
    .err()
    .unwrap();
    assert!(e.message().contains("bogus"), "{e}");
}

#[test]
fn unfinished_save_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.jpg");
    let header = Header::new(64, 64, 3, BandFormat::U8);
    let rgb = scene(64, 64);
    let mut out = writer(&path, &header, &Metadata::default(), &SaveOptions::new()).unwrap();
    out.write_band(0, 16, &rgb[..16 * 64 * 3]).unwrap();
    drop(out);
    assert!(common::entries(dir.path()).is_empty());
    // The same with the single-stream (optimize) writer.
    let opts = SaveOptions::new().set("optimize", true);
    let mut out = writer(&path, &header, &Metadata::default(), &opts).unwrap();
    out.write_band(0, 16, &rgb[..16 * 64 * 3]).unwrap();
    drop(out);
    assert!(common::entries(dir.path()).is_empty());
    // Finishing early is an error, and also leaves nothing.
    let mut out = writer(&path, &header, &Metadata::default(), &SaveOptions::new()).unwrap();
    out.write_band(0, 16, &rgb[..16 * 64 * 3]).unwrap();
    assert!(out.finish().is_err());
    assert!(common::entries(dir.path()).is_empty());
}

type U16Bytes = fn(u16) -> [u8; 2];
type U32Bytes = fn(u32) -> [u8; 4];

/// Inserts an APP1 Exif segment with `orientation` after the SOI.
fn with_exif(jpeg: &[u8], orientation: u16, big_endian: bool) -> Vec<u8> {
    let mut tiff = Vec::new();
    let (u16b, u32b): (U16Bytes, U32Bytes) = if big_endian {
        tiff.extend(b"MM");
        (u16::to_be_bytes, u32::to_be_bytes)
    } else {
        tiff.extend(b"II");
        (u16::to_le_bytes, u32::to_le_bytes)
    };
    tiff.extend(u16b(42));
    tiff.extend(u32b(8));
    tiff.extend(u16b(2)); // two entries
    tiff.extend(u16b(0x010F)); // Make, ASCII, 4 bytes inline
    tiff.extend(u16b(2));
    tiff.extend(u32b(4));
    tiff.extend(b"abc\0");
    tiff.extend(u16b(0x0112));
    tiff.extend(u16b(3));
    tiff.extend(u32b(1));
    tiff.extend(u16b(orientation));
    tiff.extend([0, 0]);
    tiff.extend(u32b(0));
    let mut seg = b"Exif\0\0".to_vec();
    seg.extend(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((seg.len() + 2) as u16).to_be_bytes());
    out.extend(&seg);
    out.extend(&jpeg[2..]);
    out
}

#[test]
fn exif_orientation_and_icc() {
    let dir = tempfile::tempdir().unwrap();
    let rgb = scene(16, 16);
    let plain = make_jpeg(&rgb, 16, 16, ColorType::Rgb, &Make::default());
    for (o, be) in [(6u16, false), (3, true), (8, false)] {
        let path = dir.path().join("o.jpg");
        std::fs::write(&path, with_exif(&plain, o, be)).unwrap();
        let image = open(&path, &OpenOptions::default()).unwrap();
        assert_eq!(image.metadata().orientation, o);
        let exif = image.metadata().exif.clone().unwrap();
        assert!(exif.starts_with(if be { b"MM" } else { b"II" }));
        assert_eq!(read_strips(&image, 16).unwrap().len(), 16 * 16 * 3);
    }
    // No EXIF: orientation unknown.
    let path = dir.path().join("plain.jpg");
    std::fs::write(&path, &plain).unwrap();
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(image.metadata().orientation, 0);
    assert!(image.metadata().exif.is_none() && image.metadata().icc.is_none());
    assert_eq!(image.metadata().field("jpeg-mode"), Some("baseline"));
    // A multi-chunk ICC profile comes back whole.
    let icc: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
    let mut bytes = Vec::new();
    let mut enc = Encoder::new(&mut bytes, 80);
    enc.add_icc_profile(&icc).unwrap();
    enc.encode(&rgb, 16, 16, ColorType::Rgb).unwrap();
    let path = dir.path().join("icc.jpg");
    std::fs::write(&path, &bytes).unwrap();
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(image.metadata().icc.as_deref(), Some(icc.as_slice()));
}

#[test]
fn unknown_load_option_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jpg");
    std::fs::write(
        &path,
        make_jpeg(&scene(8, 8), 8, 8, ColorType::Rgb, &Make::default()),
    )
    .unwrap();
    let e = open(&path, &OpenOptions::default().set("bogus", 1))
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("bogus"), "{e}");
}

/// Opens and decodes `bytes` entirely: never a panic.
fn try_decode(dir: &Path, bytes: &[u8]) -> Result<(), gigapix_core::Error> {
    let path = dir.join("damaged.jpg");
    std::fs::write(&path, bytes).unwrap();
    let image = open(&path, &OpenOptions::default())?;
    read_strips(&image, 16).map(|_| ())
}

#[test]
fn damaged_files_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let rgb = scene(70, 50);
    for progressive in [false, true] {
        let m = Make {
            progressive,
            restart: Some(2),
            ..Make::default()
        };
        let good = make_jpeg(&rgb, 70, 50, ColorType::Rgb, &m);
        try_decode(dir.path(), &good).unwrap();
        // Truncated anywhere before the end of the entropy data.
        let mut cuts: Vec<usize> = (0..good.len() - 2).step_by(7).collect();
        cuts.extend([1, 2, 3, 4, good.len() - 3]);
        for cut in cuts {
            let e = try_decode(dir.path(), &good[..cut]).err();
            let e = e.unwrap_or_else(|| panic!("cut at {cut} of {} decoded", good.len()));
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::Format | ErrorKind::Unsupported | ErrorKind::Io
                ),
                "cut at {cut}: {e}"
            );
        }
        // Flipped bytes: an error or some pixels, never a panic.
        for at in (2..good.len()).step_by(5) {
            let mut bad = good.clone();
            bad[at] ^= 0x5A;
            if let Err(e) = try_decode(dir.path(), &bad) {
                assert_ne!(e.kind(), ErrorKind::Panic, "flip at {at}: {e}");
            }
        }
    }
    // The data ends early with an EOI: zune-jpeg would pad with flat
    // blocks; we fail (and with fail_on=none keep the padded image).
    let good = make_jpeg(&scene(64, 2000), 64, 2000, ColorType::Rgb, &Make::default());
    let mut early = good[..good.len() / 3].to_vec();
    early.extend([0xFF, 0xD9]);
    let e = try_decode(dir.path(), &early).unwrap_err();
    println!("early EOI: {e}");
    assert_eq!(e.kind(), ErrorKind::Format);
    let path = dir.path().join("early.jpg");
    std::fs::write(&path, &early).unwrap();
    let lenient = OpenOptions::default().fail_on(gigapix_io::FailOn::None);
    let image = open(&path, &lenient).unwrap();
    assert_eq!(read_strips(&image, 16).unwrap().len(), 64 * 2000 * 3);
    // Empty and near-empty files.
    for bytes in [
        &[][..],
        &[0xFF, 0xD8, 0xFF][..],
        &[0xFF, 0xD8, 0xFF, 0xD9][..],
    ] {
        assert!(try_decode(dir.path(), bytes).is_err());
    }
}

#[test]
fn many_strips_join_into_one_valid_jpeg() {
    // Large enough for the writer to cut several strips joined by restart
    // markers; zune-jpeg (strict) must read the result like we do.
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (2000u32, 1000u32, 3u32, 85u8, "auto"),
        (1999, 777, 3, 95, "auto"),
        (3001, 803, 3, 80, "422"),
        (3000, 1603, 1, 85, "auto"),
        (1000, 1100, 4, 90, "auto"),
    ];
    for (w, h, bands, q, sub) in cases {
        let rgb = scene(w as usize, h as usize);
        let data: Vec<u8> = match bands {
            1 => grey_of(&rgb),
            3 => rgb,
            _ => rgb
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], p[0] / 2])
                .collect(),
        };
        let mut header = Header::new(w, h, bands, BandFormat::U8);
        if bands == 4 {
            header.interpretation = Interpretation::Multiband;
        }
        let path = dir.path().join(format!("big-{w}x{h}x{bands}.jpg"));
        let opts = SaveOptions::new().set("Q", q).set("subsample", sub);
        let mut out = writer(&path, &header, &Metadata::default(), &opts).unwrap();
        let row = header.row_bytes();
        let mut y = 0;
        while y < h {
            let rows = 100.min(h - y);
            out.write_band(y, rows, &data[y as usize * row..(y + rows) as usize * row])
                .unwrap();
            y += rows;
        }
        out.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let restarts = bytes
            .windows(2)
            .filter(|p| p[0] == 0xFF && (0xD0..=0xD7).contains(&p[1]))
            .count();
        let image = open(&path, &OpenOptions::default()).unwrap();
        assert_eq!(*image.header(), header);
        let got = read_strips(&image, 64).unwrap();
        let p = psnr(&got, &data);
        let options = DecoderOptions::default()
            .set_strict_mode(true)
            .jpeg_set_out_colorspace(match bands {
                1 => ColorSpace::Luma,
                3 => ColorSpace::RGB,
                _ => ColorSpace::CMYK,
            });
        let mut d = JpegDecoder::new_with_options(ZCursor::new(&bytes), options);
        let want = d.decode().unwrap();
        let diff = if bands == 4 {
            // zune-jpeg leaves Adobe CMYK inverted.
            let inv: Vec<u8> = want.iter().map(|v| 255 - v).collect();
            mean_abs_diff(&got, &inv)
        } else {
            mean_abs_diff(&got, &want)
        };
        println!(
            "{w}x{h}x{bands} Q{q} {sub}: {restarts} restart markers, PSNR {p:.2} dB, \
             mean abs diff vs zune-jpeg {diff:.4}"
        );
        assert!(restarts >= 1, "{restarts}");
        assert!(p > 30.0, "{p}");
        assert!(diff <= 1.0, "{diff}");
    }
}

/// Sets the size in the SOF segment of `jpeg`.
fn patch_size(jpeg: &mut [u8], w: u16, h: u16) {
    let sof = jpeg
        .windows(2)
        .position(|p| p[0] == 0xFF && matches!(p[1], 0xC0 | 0xC2))
        .unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
}

#[test]
fn huge_headers_open_lazily_or_hit_the_coefficient_limit() {
    let dir = tempfile::tempdir().unwrap();
    let rgb = scene(16, 16);
    // Baseline: only the header is read at open; the missing data is an
    // error when the rows are read.
    let mut baseline = make_jpeg(&rgb, 16, 16, ColorType::Rgb, &Make::default());
    patch_size(&mut baseline, 65535, 65535);
    let path = dir.path().join("huge.jpg");
    std::fs::write(&path, &baseline).unwrap();
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!((image.width(), image.height()), (65535, 65535));
    let t = std::time::Instant::now();
    let e = read_strips(&image, 16).unwrap_err();
    println!("huge baseline, reading: {e} ({:?})", t.elapsed());
    assert_eq!(e.kind(), ErrorKind::Format);
    // Progressive: every coefficient would be held, far over the cap.
    let m = Make {
        progressive: true,
        ..Make::default()
    };
    let mut progressive = make_jpeg(&rgb, 16, 16, ColorType::Rgb, &m);
    patch_size(&mut progressive, 65535, 65535);
    std::fs::write(&path, &progressive).unwrap();
    let e = open(&path, &OpenOptions::default()).err().unwrap();
    println!("huge progressive, opening: {e}");
    assert_eq!(e.kind(), ErrorKind::Limit);
    // The image limits apply too.
    let limits = gigapix_core::Limits::default().max_pixels(1000);
    std::fs::write(&path, &baseline).unwrap();
    let e = open(&path, &OpenOptions::default().limits(limits))
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Limit);
}

#[test]
fn flat_narrow_tall_images_are_not_taken_for_damaged() {
    let dir = tempfile::tempdir().unwrap();
    for (w, h, optimize) in [(8u32, 6000u32, true), (8, 6000, false), (1, 3000, true)] {
        let header = Header::new(w, h, 1, BandFormat::U8);
        let path = dir.path().join("flat.jpg");
        let opts = SaveOptions::new().set("optimize", optimize);
        let mut out = writer(&path, &header, &Metadata::default(), &opts).unwrap();
        out.write_band(0, h, &vec![77u8; (w * h) as usize]).unwrap();
        out.finish().unwrap();
        let image = open(&path, &OpenOptions::default()).unwrap();
        let got = read_strips(&image, 64).unwrap();
        assert!(got.iter().all(|&v| v.abs_diff(77) <= 1));
    }
}

/// `data` (packed rows of `w` x `h` pixels, `bands` bands) averaged over
/// `n` x `n` boxes, partial boxes at the edges included: what a DCT-scaled
/// decode approximates.
#[cfg(feature = "mozjpeg")]
fn box_shrink(data: &[u8], w: usize, h: usize, bands: usize, n: usize) -> Vec<u8> {
    let (ow, oh) = (w.div_ceil(n), h.div_ceil(n));
    let mut out = Vec::with_capacity(ow * oh * bands);
    for oy in 0..oh {
        for ox in 0..ow {
            for b in 0..bands {
                let (mut sum, mut count) = (0u32, 0u32);
                for y in oy * n..((oy + 1) * n).min(h) {
                    for x in ox * n..((ox + 1) * n).min(w) {
                        sum += u32::from(data[(y * w + x) * bands + b]);
                        count += 1;
                    }
                }
                out.push(((sum + count / 2) / count) as u8);
            }
        }
    }
    out
}

#[cfg(feature = "mozjpeg")]
#[test]
fn shrink_on_load_matches_a_box_shrunk_full_decode() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (203usize, 150usize);
    let rgb = scene(w, h);
    let cases = [
        (
            "rgb420.jpg",
            make_jpeg(&rgb, w as u16, h as u16, ColorType::Rgb, &Make::default()),
            3,
        ),
        (
            "rgb444.jpg",
            make_jpeg(
                &rgb,
                w as u16,
                h as u16,
                ColorType::Rgb,
                &Make {
                    sampling: SamplingFactor::F_1_1,
                    progressive: true,
                    ..Make::default()
                },
            ),
            3,
        ),
        (
            "grey.jpg",
            make_jpeg(
                &grey_of(&rgb),
                w as u16,
                h as u16,
                ColorType::Luma,
                &Make::default(),
            ),
            1,
        ),
    ];
    for (file, bytes, bands) in cases {
        let (_, full) = load(dir.path(), file, &bytes);
        for shrink in [2usize, 4, 8] {
            let path = dir.path().join(file);
            let image = open(&path, &OpenOptions::default().set("shrink", shrink)).unwrap();
            let (ow, oh) = (w.div_ceil(shrink), h.div_ceil(shrink));
            assert_eq!((image.width() as usize, image.height() as usize), (ow, oh));
            assert_eq!(
                image.metadata().field("jpeg-shrink"),
                Some(shrink.to_string().as_str())
            );
            let got = read_strips(&image, 7).unwrap();
            let want = box_shrink(&full, w, h, bands, shrink);
            let mad = mean_abs_diff(&got, &want);
            assert!(mad < 2.0, "{file} shrink {shrink}: mean abs diff {mad}");
        }
    }
}

#[test]
fn shrink_must_be_a_power_of_two_up_to_8() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jpg");
    std::fs::write(
        &path,
        make_jpeg(&scene(16, 16), 16, 16, ColorType::Rgb, &Make::default()),
    )
    .unwrap();
    let e = open(&path, &OpenOptions::default().set("shrink", 3))
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("shrink"), "{e}");
}

#[cfg(feature = "mozjpeg")]
#[test]
fn shrink_on_load_refuses_truncated_files_unless_fail_on_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.jpg");
    let bytes = make_jpeg(&scene(64, 64), 64, 64, ColorType::Rgb, &Make::default());
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let e = open(&path, &OpenOptions::default().set("shrink", 2))
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert!(e.message().contains("truncated"), "{e}");
    let image = open(
        &path,
        &OpenOptions::default()
            .set("shrink", 2)
            .set("fail_on", "none"),
    )
    .unwrap();
    read_strips(&image, 8).unwrap();
}
