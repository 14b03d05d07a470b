//! Damaged inputs of every format through `gigapix copy`: truncated at many
//! offsets, flipped bytes, zero length, lying dimensions. Each run ends
//! within a time bound with exit 0 (the damage was harmless, e.g. a flipped
//! pixel byte) or exit 1 with a one-line error and no file at OUT — never a
//! panic (exit 101), a signal or a hang.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `gigapix copy IN OUT`; returns the exit code, or panics on a
/// crash or a hang.
fn copy(input: &Path, out: &Path) -> i32 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .arg("copy")
        .arg(input)
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gigapix");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            let code = status
                .code()
                .unwrap_or_else(|| panic!("{}: killed by a signal: {err}", input.display()));
            match code {
                0 => assert!(out.exists(), "{}: exit 0 without output", input.display()),
                1 => {
                    assert_eq!(err.lines().count(), 1, "{}: {err}", input.display());
                    assert!(err.starts_with("gigapix: error: "), "{err}");
                    assert!(!out.exists(), "{}: output left behind", input.display());
                }
                c => panic!("{}: exit {c}: {err}", input.display()),
            }
            return code;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("{}: still running after 20 s", input.display());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Deterministic positions in `0..len`.
fn positions(len: usize, count: usize, seed: u64) -> Vec<usize> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..count)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % len as u64) as usize
        })
        .collect()
}

fn check_format(dir: &Path, ext: &str, source: &str, out_ext: &str) {
    let good = dir.join(format!("good.{ext}"));
    let spec = format!("{}{source}", good.display());
    let o = Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(["copy", "noise:67x45x3:7"])
        .arg(&spec)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&good).unwrap();
    let bad = dir.join(format!("bad.{ext}"));
    let out = dir.join(format!("out.{out_ext}"));
    let run = |data: &[u8]| {
        std::fs::write(&bad, data).unwrap();
        let _ = std::fs::remove_file(&out);
        copy(&bad, &out)
    };
    // Zero length and every truncation: errors.
    assert_eq!(run(&[]), 1, "{ext}: zero-length");
    let mut cuts = positions(bytes.len(), 24, 1);
    cuts.extend([1, 2, 8, 16, 64, bytes.len() / 2, bytes.len() - 1]);
    for cut in cuts {
        // Trailing bytes after a PNG's IEND or a JPEG's last data can be
        // cut without harm; everything before must fail.
        let code = run(&bytes[..cut]);
        let tail_ok = match ext {
            "png" => cut >= bytes.len() - 12,
            _ => false,
        };
        assert!(
            code == 1 || tail_ok,
            "{ext}: cut at {cut} of {} gave exit {code}",
            bytes.len()
        );
    }
    // Flipped bytes anywhere: either a clean error or a decodable file.
    for (i, at) in positions(bytes.len(), 40, 2).into_iter().enumerate() {
        let mut data = bytes.clone();
        data[at] ^= [0xFF, 0x80, 0x01, 0x10][i % 4];
        run(&data);
    }
    // Runs of garbage over the headers.
    for at in [0, 4, 8, 12, 16, 24, 33] {
        let mut data = bytes.clone();
        for b in data.iter_mut().skip(at).take(8) {
            *b = 0xFF;
        }
        run(&data);
    }
}

#[test]
fn damaged_tiff_strips_lzw() {
    check_format(
        tempfile::tempdir().unwrap().path(),
        "tif",
        "[compression=lzw]",
        "ppm",
    );
}

#[test]
fn damaged_tiff_tiles_deflate() {
    check_format(
        tempfile::tempdir().unwrap().path(),
        "tif",
        "[compression=deflate,tile,tile-width=16,tile-height=16]",
        "png",
    );
}

#[test]
fn damaged_tiff_uncompressed() {
    check_format(tempfile::tempdir().unwrap().path(), "tif", "", "jpg");
}

#[test]
fn damaged_png() {
    check_format(tempfile::tempdir().unwrap().path(), "png", "", "tif");
}

#[test]
fn damaged_jpeg() {
    check_format(tempfile::tempdir().unwrap().path(), "jpg", "[Q=90]", "png");
}

#[test]
fn damaged_ppm() {
    check_format(tempfile::tempdir().unwrap().path(), "ppm", "", "tif");
}

/// Dimensions far beyond the data: a fast, clear error.
#[test]
fn lying_dimensions() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.tif");
    let o = Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(["copy", "noise:64x48x3:1"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(o.status.success());
    // Our TIFF writer puts ImageWidth (256) as a LONG in the first IFD;
    // find the entry and make the image 1,000,000 wide.
    let mut bytes = std::fs::read(&good).unwrap();
    let ifd = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let n = u16::from_le_bytes(bytes[ifd..ifd + 2].try_into().unwrap()) as usize;
    let mut patched = false;
    for e in 0..n {
        let at = ifd + 2 + e * 12;
        let tag = u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap());
        let kind = u16::from_le_bytes(bytes[at + 2..at + 4].try_into().unwrap());
        if tag == 256 || tag == 257 {
            match kind {
                3 => bytes[at + 8..at + 10].copy_from_slice(&60000u16.to_le_bytes()),
                _ => bytes[at + 8..at + 12].copy_from_slice(&1_000_000u32.to_le_bytes()),
            }
            patched = true;
        }
    }
    assert!(patched);
    let bad = dir.path().join("bad.tif");
    std::fs::write(&bad, &bytes).unwrap();
    assert_eq!(copy(&bad, &dir.path().join("o.ppm")), 1);

    // A PNG whose IHDR claims 100000x100000 (CRC fixed up).
    let png = dir.path().join("good.png");
    let o = Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(["copy", "noise:64x48x3:1"])
        .arg(&png)
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut bytes = std::fs::read(&png).unwrap();
    bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    let bad = dir.path().join("bad.png");
    std::fs::write(&bad, &bytes).unwrap();
    assert_eq!(copy(&bad, &dir.path().join("o.tif")), 1);
}

/// CRC-32 (ISO 3309), bit by bit.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
