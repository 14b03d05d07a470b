//! The `gigapix` command end to end: exit codes, atomic saves, bad input,
//! and `stats` of a chain against a scalar reference.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gigapix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(args)
        .output()
        .expect("run gigapix")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A P6 file whose pixels are a simple function of position, made here
/// byte by byte (independent of the engine).
fn write_ppm(path: &Path, w: usize, h: usize) -> Vec<u8> {
    let mut pixels = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            pixels.extend_from_slice(&[(x * 3 + y) as u8, (x ^ y) as u8, (x * y / 7) as u8]);
        }
    }
    let mut file = format!("P6\n# made by the cli test\n{w} {h}\n255\n").into_bytes();
    file.extend_from_slice(&pixels);
    std::fs::write(path, file).unwrap();
    pixels
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn p(d: &tempfile::TempDir, name: &str) -> PathBuf {
    d.path().join(name)
}

#[test]
fn pipe_matches_reference_flip_and_invert() {
    let d = dir();
    let (w, h) = (37, 23);
    let src = write_ppm(&p(&d, "in.ppm"), w, h);
    let out = p(&d, "out.ppm");
    let o = gigapix(&[
        "--threads",
        "2",
        "pipe",
        p(&d, "in.ppm").to_str().unwrap(),
        out.to_str().unwrap(),
        "--",
        "flip",
        "vertical",
        ":",
        "invert",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&out).unwrap();
    let header = format!("P6\n{w} {h}\n255\n").into_bytes();
    assert_eq!(&bytes[..header.len()], &header[..]);
    let row = w * 3;
    let want: Vec<u8> = (0..h)
        .rev()
        .flat_map(|y| src[y * row..(y + 1) * row].iter().map(|v| 255 - v))
        .collect();
    assert_eq!(&bytes[header.len()..], &want[..]);
}

#[test]
fn stats_of_a_chain_equals_scalar_reference() {
    let d = dir();
    let (w, h) = (61, 45);
    let src = write_ppm(&p(&d, "in.ppm"), w, h);
    let o = gigapix(&[
        "stats",
        p(&d, "in.ppm").to_str().unwrap(),
        "--",
        "linear",
        "1.5",
        "-20",
        ":",
        "invert",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    for band in 0..3 {
        let vals: Vec<f64> = src
            .iter()
            .skip(band)
            .step_by(3)
            .map(|&v| 255.0 - (1.5 * v as f64 - 20.0).round().clamp(0.0, 255.0))
            .collect();
        let n = vals.len() as f64;
        let mean = vals.iter().sum::<f64>() / n;
        let sd = (vals.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt();
        let min = vals.iter().cloned().fold(f64::MAX, f64::min);
        let max = vals.iter().cloned().fold(f64::MIN, f64::max);
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&band.to_string()))
            .unwrap();
        let f: Vec<f64> = line
            .split_whitespace()
            .skip(1)
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!((f[0], f[1]), (min, max), "band {band}: {line}");
        assert!(
            (f[2] - mean).abs() < 1e-5,
            "band {band}: {line} vs mean {mean}"
        );
        assert!((f[3] - sd).abs() < 1e-5, "band {band}: {line} vs sd {sd}");
    }
}

#[test]
fn generators_and_null_sink() {
    let o = gigapix(&[
        "--stats",
        "pipe",
        "noise:300x200x3:7",
        "-",
        "--",
        "linear",
        "1.1",
        "5",
        ":",
        "invert",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("Mpx/s"), "{}", stderr(&o));
    assert!(stderr(&o).contains("peak pixel memory"), "{}", stderr(&o));
    let o = gigapix(&["stats", "noise:100x100x3", "--", "invert"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // No operations at all.
    let o = gigapix(&["stats", "zone:64x64"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("255"));
    let o = gigapix(&["header", "zone:640x480"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("width: 640"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["pipe", "noise:10x10x3", "-", "--", "frobnicate"][..],
        &["pipe", "noise:10x10x3", "-", "--", "crop", "1", "2"][..],
        &["pipe", "noise:10x10x3", "-", "--", "flip", "sideways"][..],
        &["pipe", "noise:10x10x3", "-", "--", "invert", "bogus=1"][..],
        &["pipe", "noise:10xAx3", "-", "--", "invert"][..],
        &["nonsense"][..],
        &["--threads", "0", "copy", "noise:4x4x1", "-"][..],
    ] {
        let o = gigapix(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn runtime_errors_exit_1_with_one_line() {
    let d = dir();
    // Crop outside the image: named with the operation.
    let o = gigapix(&[
        "pipe",
        "noise:10x10x3",
        "-",
        "--",
        "crop",
        "5",
        "5",
        "10",
        "10",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("crop"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    // A header claiming a terapixel with 100 bytes of data.
    let bomb = p(&d, "bomb.ppm");
    let mut bytes = b"P6\n1000000 1000000\n255\n".to_vec();
    bytes.extend_from_slice(&[7u8; 100]);
    std::fs::write(&bomb, bytes).unwrap();
    let t = std::time::Instant::now();
    let o = gigapix(&[
        "copy",
        bomb.to_str().unwrap(),
        p(&d, "out.ppm").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("truncated") || stderr(&o).contains("limit"),
        "{}",
        stderr(&o)
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
    assert!(!p(&d, "out.ppm").exists());
    // Missing file.
    let o = gigapix(&["header", p(&d, "missing.ppm").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn failed_copy_leaves_no_file_and_keeps_an_existing_one() {
    let d = dir();
    let out = p(&d, "out.ppm");
    // Four bands cannot be written as PPM: fails before any pixel, no file.
    let o = gigapix(&["copy", "noise:20x20x4", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!out.exists());
    // An existing OUT survives a failing run untouched.
    std::fs::write(&out, b"precious").unwrap();
    let o = gigapix(&["copy", "noise:20x20x4", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    // Only the target remains in the directory: no temporaries left.
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
}

#[test]
fn damaged_files_fail_unless_fail_on_none() {
    for ext in ["png", "jpg"] {
        damaged_file_fails_unless_fail_on_none(ext);
    }
}

fn damaged_file_fails_unless_fail_on_none(ext: &str) {
    let d = dir();
    let png = p(&d, &format!("in.{ext}"));
    let o = gigapix(&["copy", "noise:64x64x3:4", png.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&png).unwrap();
    std::fs::write(&png, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let out = p(&d, "out.ppm");
    let o = gigapix(&["copy", png.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(!out.exists());
    let lenient = format!("{}[fail_on=none]", png.display());
    let o = gigapix(&["copy", &lenient, out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning"), "{}", stderr(&o));
    assert!(out.exists());
}

#[test]
fn dzsave_takes_the_descriptor_options_and_copy_chooses_by_extension() {
    let d = dir();
    let input = p(&d, "in.ppm");
    write_ppm(&input, 300, 200);
    let input = input.to_str().unwrap();
    // --name value, --flag and name=value, as the descriptor names them.
    let out = p(&d, "g.dzi");
    let o = gigapix(&[
        "dzsave",
        input,
        out.to_str().unwrap(),
        "--layout",
        "google",
        "--tile-size",
        "128",
        "--centre",
        "skip_blanks=-1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // 300x200 down to one tile of 128: 3 levels, a 512 canvas at the top,
    // the image at (106, 156): row 3 of tiles (y 384..512) holds none of it.
    assert!(p(&d, "g/2/2/3.jpg").exists());
    assert!(!p(&d, "g/2/3/3.jpg").exists());
    assert!(p(&d, "g/0/0/0.jpg").exists());
    assert!(p(&d, "g/blank.png").exists());
    // copy: .dzi is a directory tree, .zip one file.
    let o = gigapix(&["copy", input, p(&d, "c.dzi").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(p(&d, "c.dzi").is_file() && p(&d, "c_files/9/1_0.jpeg").is_file());
    let o = gigapix(&["copy", input, p(&d, "c.zip").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read(p(&d, "c.zip"))
            .unwrap()
            .starts_with(b"PK\x03\x04")
    );
    // Help from the descriptor; unknown options are errors naming them.
    let o = gigapix(&["dzsave", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    for opt in [
        "layout",
        "tile_size",
        "overlap",
        "suffix",
        "skip_blanks",
        "container",
    ] {
        assert!(help.contains(opt), "{opt} in {help}");
    }
    let o = gigapix(&[
        "dzsave",
        input,
        p(&d, "x.dzi").to_str().unwrap(),
        "--bogus",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("unknown option `bogus`"),
        "{}",
        stderr(&o)
    );
    assert!(!p(&d, "x.dzi").exists() && !p(&d, "x_files").exists());
}
