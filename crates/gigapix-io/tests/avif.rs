//! AVIF save: files read back by libvips (pyvips) and by Pillow, with the
//! PSNR against the source; 8 and 10 bits, alpha, Q=100; bad options
//! and huge images refused before anything is written; AVIF files
//! refused by the loader.
//!
//! The read-backs need `$GIGAPIX_PYTHON` with pyvips (libvips built with
//! libheif's AV1 decoder) or Pillow (with AVIF); each part skips with a
//! message when its module is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use gigapix_core::{BandFormat, ErrorKind, Header, Metadata};
use gigapix_io::{OpenOptions, SaveOptions, open, writer};

/// Saves `data` (packed rows of `header`) at `path` with the options
/// `opts`, in bands of 7 rows.
fn save_with(
    path: &Path,
    header: &Header,
    metadata: &Metadata,
    opts: &[(&str, &str)],
    data: &[u8],
) -> gigapix_core::Result<()> {
    let mut o = SaveOptions::default();
    for (k, v) in opts {
        o = o.set(k, v);
    }
    let mut w = writer(path, header, metadata, &o)?;
    let row = header.row_bytes();
    let mut y = 0;
    while y < header.height {
        let rows = 7.min(header.height - y);
        w.write_band(y, rows, &data[y as usize * row..(y + rows) as usize * row])?;
        y += rows;
    }
    w.finish()
}

/// A photo-like test image: smooth gradients, a few edges and mild
/// deterministic noise, `bands` bands, samples 0 to `max`.
fn photo(w: u32, h: u32, bands: u32, max: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity((w * h * bands) as usize);
    let mut seed = 0x2545_f491_u32;
    for y in 0..h {
        for x in 0..w {
            for b in 0..bands {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let noise = f64::from(seed % 16) / 255.0;
                let (fx, fy) = (f64::from(x) / f64::from(w), f64::from(y) / f64::from(h));
                let v = if b == 3 || (bands == 2 && b == 1) {
                    // Alpha: a soft disc, opaque in the middle.
                    let d = ((fx - 0.5).powi(2) + (fy - 0.5).powi(2)).sqrt();
                    (1.0 - (d - 0.3) * 5.0).clamp(0.0, 1.0)
                } else {
                    let base = 0.5 + 0.4 * ((fx * 6.0 + f64::from(b)).sin() * (fy * 4.0).cos());
                    let edge = if (x / 16 + y / 16) % 5 == 0 { 0.2 } else { 0.0 };
                    (base + edge + noise - 0.1).clamp(0.0, 1.0)
                };
                out.push((v * max).round());
            }
        }
    }
    out
}

fn to_u8(v: &[f64]) -> Vec<u8> {
    v.iter().map(|&x| x as u8).collect()
}

fn to_u16(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|&x| (x as u16).to_ne_bytes()).collect()
}

/// PSNR in dB of `got` against `want` (same length), full scale `max`.
fn psnr(want: &[f64], got: &[f64], max: f64) -> f64 {
    assert_eq!(want.len(), got.len());
    let mse = want
        .iter()
        .zip(got)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / want.len() as f64;
    if mse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (max * max / mse).log10()
}

/// Band `b` of `n`-band interleaved samples.
fn band(v: &[f64], n: usize, b: usize) -> Vec<f64> {
    v.iter().skip(b).step_by(n).copied().collect()
}

/// `$GIGAPIX_PYTHON`, or `None` with a message.
fn python() -> Option<String> {
    let p = std::env::var("GIGAPIX_PYTHON").ok();
    if p.is_none() {
        eprintln!("skipped: GIGAPIX_PYTHON is not set");
    }
    p
}

/// Decodes `path` with libvips (`vips`) or Pillow (`pil`): bands, bits
/// and the samples as f64, or `None` (with a message) when that module
/// is missing or cannot read AVIF.
const READ_BACK: &str = r#"
import sys
which, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    if which == "vips":
        import pyvips
        im = pyvips.Image.new_from_file(path, access="sequential")
        bits = 16 if im.format == "ushort" else 8
        data = im.write_to_memory()
        bands = im.bands
    else:
        from PIL import Image
        im = Image.open(path)
        im.load()
        bits = 8
        data = im.tobytes()
        bands = len(im.getbands())
except ImportError as e:
    print("missing", e)
    sys.exit(0)
open(out, "wb").write(data)
print("ok", bands, bits)
"#;

struct Decoded {
    bands: usize,
    bits: u32,
    samples: Vec<f64>,
}

fn read_back(which: &str, path: &Path) -> Option<Decoded> {
    let python = python()?;
    let out = path.with_extension(format!("{which}.raw"));
    let o = Command::new(&python)
        .args(["-c", READ_BACK, which])
        .arg(path)
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    if !o.status.success() {
        // Pillow without AVIF support says it cannot identify the file.
        let err = String::from_utf8_lossy(&o.stderr);
        if which == "pil" && err.contains("cannot identify") {
            eprintln!("skipped: this Pillow does not read AVIF");
            return None;
        }
        panic!("{which} failed to read {}: {err}", path.display());
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.first() == Some(&"missing") {
        eprintln!("skipped: {python}: {text}");
        return None;
    }
    let bands: usize = words[1].parse().unwrap();
    let bits: u32 = words[2].parse().unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let samples = if bits == 16 {
        bytes
            .chunks_exact(2)
            .map(|c| f64::from(u16::from_ne_bytes([c[0], c[1]])))
            .collect()
    } else {
        bytes.iter().map(|&b| f64::from(b)).collect()
    };
    Some(Decoded {
        bands,
        bits,
        samples,
    })
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn rgb8_reads_back_in_libvips_and_pillow() {
    let dir = tmp();
    let path = dir.path().join("a.avif");
    let (w, h) = (96, 64);
    let src = photo(w, h, 3, 255.0);
    let header = Header::new(w, h, 3, BandFormat::U8);
    save_with(&path, &header, &Metadata::default(), &[], &to_u8(&src)).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[4..12], b"ftypavif");
    for which in ["vips", "pil"] {
        let Some(d) = read_back(which, &path) else {
            continue;
        };
        assert_eq!((d.bands, d.bits), (3, 8), "{which}");
        let p = psnr(&src, &d.samples, 255.0);
        eprintln!("{which}: Q50 RGB PSNR {p:.2} dB, {} bytes", bytes.len());
        assert!(p > 30.0, "{which}: PSNR {p}");
    }
    // Q 90 is closer.
    let hi = dir.path().join("hi.avif");
    save_with(
        &hi,
        &header,
        &Metadata::default(),
        &[("Q", "90")],
        &to_u8(&src),
    )
    .unwrap();
    if let Some(d) = read_back("vips", &hi) {
        let p = psnr(&src, &d.samples, 255.0);
        eprintln!("vips: Q90 RGB PSNR {p:.2} dB");
        assert!(p > 36.0, "PSNR {p}");
        assert!(std::fs::metadata(&hi).unwrap().len() > bytes.len() as u64);
    }
}

#[test]
fn alpha_is_kept() {
    let dir = tmp();
    for bands in [2u32, 4] {
        let path = dir.path().join(format!("a{bands}.avif"));
        let (w, h) = (64, 48);
        let src = photo(w, h, bands, 255.0);
        let header = Header::new(w, h, bands, BandFormat::U8);
        save_with(
            &path,
            &header,
            &Metadata::default(),
            &[("Q", "80")],
            &to_u8(&src),
        )
        .unwrap();
        for which in ["vips", "pil"] {
            let Some(d) = read_back(which, &path) else {
                continue;
            };
            // Grey+alpha comes back as grey+alpha or RGBA.
            assert!(
                d.bands == bands as usize || d.bands == 4,
                "{which}: {} bands",
                d.bands
            );
            let n = d.bands;
            let alpha_src = band(&src, bands as usize, bands as usize - 1);
            let alpha_got = band(&d.samples, n, n - 1);
            let pa = psnr(&alpha_src, &alpha_got, 255.0);
            let pc = psnr(
                &band(&src, bands as usize, 0),
                &band(&d.samples, n, 0),
                255.0,
            );
            eprintln!("{which}: {bands} bands, alpha PSNR {pa:.2}, band 0 PSNR {pc:.2}");
            assert!(pa > 35.0 && pc > 30.0, "{which}: {pa} {pc}");
        }
    }
}

#[test]
fn ten_bit_from_u16() {
    let dir = tmp();
    let path = dir.path().join("ten.avif");
    let (w, h) = (80, 60);
    let src = photo(w, h, 3, 65535.0);
    let header = Header::new(w, h, 3, BandFormat::U16);
    save_with(
        &path,
        &header,
        &Metadata::default(),
        &[("Q", "80")],
        &to_u16(&src),
    )
    .unwrap();
    if let Some(d) = read_back("vips", &path) {
        assert_eq!((d.bands, d.bits), (3, 16));
        let p = psnr(&src, &d.samples, 65535.0);
        eprintln!("vips: 10-bit Q80 PSNR {p:.2} dB");
        assert!(p > 33.0, "PSNR {p}");
    }
    // bitdepth=8 from u16 reads back as 8 bits.
    let eight = dir.path().join("eight.avif");
    save_with(
        &eight,
        &header,
        &Metadata::default(),
        &[("bitdepth", "8"), ("Q", "80")],
        &to_u16(&src),
    )
    .unwrap();
    if let Some(d) = read_back("vips", &eight) {
        assert_eq!(d.bits, 8);
        let scaled: Vec<f64> = src.iter().map(|v| (v / 257.0).round()).collect();
        let p = psnr(&scaled, &d.samples, 255.0);
        assert!(p > 33.0, "PSNR {p}");
    }
}

/// rav1e has no lossless mode: Q=100 is the closest, and is close.
#[test]
fn q100_is_near_lossless() {
    let dir = tmp();
    let path = dir.path().join("q100.avif");
    let (w, h) = (40, 30);
    let src = photo(w, h, 3, 255.0);
    let header = Header::new(w, h, 3, BandFormat::U8);
    save_with(
        &path,
        &header,
        &Metadata::default(),
        &[("Q", "100")],
        &to_u8(&src),
    )
    .unwrap();
    if let Some(d) = read_back("vips", &path) {
        let max = src
            .iter()
            .zip(&d.samples)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let p = psnr(&src, &d.samples, 255.0);
        eprintln!("vips: Q100 PSNR {p:.2} dB, largest difference {max}");
        assert!(p > 45.0 && max <= 8.0, "PSNR {p}, max {max}");
    }
}

fn refused(header: &Header, opts: &[(&str, &str)], metadata: &Metadata) -> gigapix_core::Error {
    let dir = tmp();
    let path = dir.path().join("x.avif");
    let data = vec![0u8; header.image_bytes().min(1 << 20) as usize];
    let e = if header.image_bytes() <= 1 << 20 {
        save_with(&path, header, metadata, opts, &data).unwrap_err()
    } else {
        let mut o = SaveOptions::default();
        for (k, v) in opts {
            o = o.set(k, v);
        }
        writer(&path, header, metadata, &o).err().unwrap()
    };
    assert!(!path.exists(), "a refused save left {}", path.display());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    e
}

#[test]
fn bad_options_and_images_are_refused() {
    let m = Metadata::default();
    let rgb8 = Header::new(16, 16, 3, BandFormat::U8);
    let e = refused(&rgb8, &[("subsample_mode", "on")], &m);
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.to_string().contains("4:4:4"), "{e}");
    for (k, v) in [
        ("Q", "0"),
        ("Q", "101"),
        ("effort", "10"),
        ("speed", "0"),
        ("bitdepth", "12"),
    ] {
        let e = refused(&rgb8, &[(k, v)], &m);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{k}={v}: {e}");
        assert!(e.to_string().contains(k), "{e}");
    }
    let e = refused(&rgb8, &[("lossless", "true")], &m);
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.to_string().contains("lossless"), "{e}");
    let e = refused(&Header::new(16, 16, 5, BandFormat::U8), &[], &m);
    assert!(e.to_string().contains("1 to 4 bands"), "{e}");
    let e = refused(&Header::new(16, 16, 3, BandFormat::F32), &[], &m);
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    // A non-sRGB profile cannot be carried.
    let mut p3 = Metadata::default();
    p3.icc = Some(b"\0\0\x02\x00appl Display P3 profile".to_vec().into());
    let e = refused(&rgb8, &[], &p3);
    assert!(e.to_string().contains("ICC"), "{e}");
}

#[test]
fn huge_images_are_refused_before_writing() {
    let m = Metadata::default();
    let e = refused(&Header::new(60000, 60000, 3, BandFormat::U8), &[], &m);
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
    assert!(e.to_string().contains("max_alloc"), "{e}");
    let e = refused(&Header::new(70000, 8, 3, BandFormat::U8), &[], &m);
    assert!(e.to_string().contains("65536"), "{e}");
}

#[test]
fn srgb_profile_is_left_out() {
    let dir = tmp();
    let path = dir.path().join("m.avif");
    let header = Header::new(32, 24, 3, BandFormat::U8);
    let mut m = Metadata::default();
    m.icc = Some(b"\0\0\x02\x00lcms sRGB built-in".to_vec().into());
    save_with(&path, &header, &m, &[], &to_u8(&photo(32, 24, 3, 255.0))).unwrap();
    assert!(path.exists());
}

#[test]
fn avif_files_are_refused_by_the_loader() {
    let dir = tmp();
    let path = dir.path().join("r.avif");
    let header = Header::new(16, 16, 3, BandFormat::U8);
    save_with(
        &path,
        &header,
        &Metadata::default(),
        &[],
        &vec![128u8; 16 * 16 * 3],
    )
    .unwrap();
    let e = open(&path, &OpenOptions::default()).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(
        e.to_string().contains("AVIF reading is not supported"),
        "{e}"
    );
    // Whatever the name.
    let other: PathBuf = dir.path().join("r.png");
    std::fs::copy(&path, &other).unwrap();
    let e = open(&other, &OpenOptions::default()).err().unwrap();
    assert!(
        e.to_string().contains("AVIF reading is not supported"),
        "{e}"
    );
}
