//! Damaged and unsupported inputs: each a clean `Err`, never a panic.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{pattern, read_strips};
use gigapix_core::{BandFormat, ErrorKind, Header, Limits};
use gigapix_io::{AccessMode, OpenOptions, describe, open};

const MODES: [AccessMode; 2] = [AccessMode::Random, AccessMode::Sequential];

fn open_kind(path: &Path, access: AccessMode) -> Result<(), ErrorKind> {
    open(path, &OpenOptions::default().access(access))
        .map(|_| ())
        .map_err(|e| {
            assert!(
                e.message().contains(&*path.display().to_string()),
                "message names the file: {e}"
            );
            e.kind()
        })
}

fn valid_files() -> Vec<(&'static str, Vec<u8>)> {
    let mut ppm = b"P6 # comment\n4 3\n255\n".to_vec();
    ppm.extend(pattern(36, 1));
    let mut pgm16 = b"P5\n3 2\n# late comment\n4095\n".to_vec();
    pgm16.extend(pattern(12, 2));
    let mut gpx = gigapix_io::raw::header_bytes(&Header::new(2, 3, 2, BandFormat::F32)).to_vec();
    gpx.extend(std::iter::repeat_n(0x3f, 48));
    vec![("ppm", ppm), ("pgm16", pgm16), ("gpx", gpx)]
}

#[test]
fn every_prefix_of_a_valid_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in valid_files() {
        let path = dir.path().join(name);
        for len in 0..bytes.len() {
            std::fs::write(&path, &bytes[..len]).unwrap();
            for access in MODES {
                assert_eq!(
                    open_kind(&path, access),
                    Err(ErrorKind::Format),
                    "{name} cut at {len}"
                );
            }
            assert!(describe(&path).is_err());
        }
        std::fs::write(&path, &bytes).unwrap();
        for access in MODES {
            let image = open(&path, &OpenOptions::default().access(access)).unwrap();
            read_strips(&image, 1).unwrap();
        }
    }
}

#[test]
fn flipped_header_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in valid_files() {
        let path = dir.path().join(name);
        // Every header byte and the first pixel byte.
        std::fs::write(&path, &bytes).unwrap();
        let header_len = describe(&path).unwrap().data_offset as usize;
        for i in 0..=header_len {
            for mask in [0x01, 0x10, 0x20, 0x80, 0xff] {
                let mut damaged = bytes.clone();
                damaged[i] ^= mask;
                std::fs::write(&path, &damaged).unwrap();
                for access in MODES {
                    // Opening may succeed (a comment byte changed, a smaller
                    // size); reading what opened must then work too.
                    if let Ok(image) = open(&path, &OpenOptions::default().access(access)) {
                        let read = read_strips(&image, 2);
                        assert!(read.is_ok(), "{name} byte {i} ^ {mask:#x}: {read:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.ppm");
    std::fs::write(&path, b"").unwrap();
    for access in MODES {
        assert_eq!(open_kind(&path, access), Err(ErrorKind::Format));
    }
    let e = open(&path, &OpenOptions::default()).unwrap_err();
    assert!(e.message().contains("empty"), "{e}");
}

#[test]
fn huge_dimensions_with_tiny_data_fail_fast() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.ppm");
    let mut bytes = b"P6\n1000000 1000000\n255\n".to_vec();
    bytes.extend(pattern(100, 3));
    std::fs::write(&path, &bytes).unwrap();
    let start = Instant::now();
    for access in MODES {
        let e = open(&path, &OpenOptions::default().access(access)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format);
        assert_eq!(
            e.message(),
            format!(
                "{}: file is truncated: 100 bytes of pixel data, the header (1000000x1000000 RGB u8) needs 3000000000000",
                path.display()
            )
        );
    }
    assert!(start.elapsed() < Duration::from_secs(1));

    // The same in the raw format, and a header whose byte count overflows
    // 64 bits (2^31-1 wide, 2^32-1 bands of 4 bytes).
    let path = dir.path().join("big.gpx");
    let mut bytes =
        gigapix_io::raw::header_bytes(&Header::new(1_000_000, 1_000_000, 3, BandFormat::U8))
            .to_vec();
    bytes.extend(pattern(100, 4));
    std::fs::write(&path, &bytes).unwrap();
    for access in MODES {
        assert_eq!(open_kind(&path, access), Err(ErrorKind::Format));
    }
    let mut bytes =
        gigapix_io::raw::header_bytes(&Header::new(i32::MAX as u32, 1, u32::MAX, BandFormat::F32))
            .to_vec();
    bytes.extend(pattern(100, 5));
    std::fs::write(&path, &bytes).unwrap();
    for access in MODES {
        // Refused by the header limits (too many bands to address).
        assert_eq!(open_kind(&path, access), Err(ErrorKind::Limit));
    }
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn limits_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.pgm");
    std::fs::write(&path, b"P5 2000000 2000000 255\n").unwrap();
    assert_eq!(open_kind(&path, AccessMode::Random), Err(ErrorKind::Limit));

    let path = dir.path().join("small.pgm");
    let mut bytes = b"P5 4 3 255\n".to_vec();
    bytes.extend(pattern(12, 6));
    std::fs::write(&path, &bytes).unwrap();
    let options = OpenOptions::default().limits(Limits::default().max_pixels(11));
    assert_eq!(open(&path, &options).unwrap_err().kind(), ErrorKind::Limit);
    let options = OpenOptions::default().limits(Limits::default().max_pixels(12));
    assert!(open(&path, &options).is_ok());
}

#[test]
fn bad_headers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad");
    let cases: &[(&[u8], ErrorKind, &str)] = &[
        (b"P5 2 2 0\n\0\0\0\0", ErrorKind::Format, "maxval 0"),
        (
            b"P5 2 2 65536\n\0\0\0\0\0\0\0\0",
            ErrorKind::Format,
            "maxval 65536",
        ),
        (b"P5 2 2 99999999999\n", ErrorKind::Format, "too large"),
        (b"P5 0 2 255\n", ErrorKind::Format, "zero size"),
        (b"P5 2 0 255\n", ErrorKind::Format, "zero size"),
        (b"P5 -2 2 255\n\0\0\0\0", ErrorKind::Format, "width"),
        (b"P5 2 2 255#x\n\0\0\0\0", ErrorKind::Format, "maxval"),
        (
            b"P52 2 255\n\0\0\0\0",
            ErrorKind::Format,
            "after the magic number",
        ),
        (
            b"P5 2x2 255\n\0\0\0\0",
            ErrorKind::Format,
            "after the width",
        ),
        (
            b"P3\n2 1\n255\n0 0 0 255 255 255\n",
            ErrorKind::Unsupported,
            "P3 (ASCII PPM)",
        ),
        (b"P2\n2 1\n255\n0 255\n", ErrorKind::Unsupported, "P2"),
        (b"P1\n2 1\n0 1\n", ErrorKind::Unsupported, "P1"),
        (b"P4\n8 1\n\xff", ErrorKind::Unsupported, "P4"),
        (b"P7\nWIDTH 1\n", ErrorKind::Unsupported, "P7"),
        (b"P9\n", ErrorKind::Format, "unknown file format"),
        (b"\x89PNG\r\n\x1a\n", ErrorKind::Format, "PNG"),
        (b"hello world", ErrorKind::Format, "68 65 6c 6c 6f 20 77 6f"),
        (b"X", ErrorKind::Format, "unknown file format"),
        (b"GIGAPIX2", ErrorKind::Format, "unknown file format"),
        (b"GIGA", ErrorKind::Format, "unknown file format"),
    ];
    for &(bytes, kind, needle) in cases {
        std::fs::write(&path, bytes).unwrap();
        for access in MODES {
            let e = open(&path, &OpenOptions::default().access(access)).unwrap_err();
            assert_eq!(e.kind(), kind, "{:?}: {e}", String::from_utf8_lossy(bytes));
            assert!(
                e.message().contains(needle),
                "{:?}: {e}",
                String::from_utf8_lossy(bytes)
            );
            assert!(e.message().starts_with(&*path.display().to_string()), "{e}");
        }
    }

    // Raw header fields.
    let good = gigapix_io::raw::header_bytes(&Header::new(1, 1, 1, BandFormat::U8));
    let edits: [(usize, u8, &str); 4] = [
        (20, 8, "band format code 8"),
        (21, 200, "interpretation code 200"),
        (40, 1, "reserved byte 40"),
        (16, 0, ""),
    ];
    for (at, value, needle) in edits {
        let mut bytes = good.to_vec();
        bytes[at] = value;
        bytes.push(0);
        std::fs::write(&path, &bytes).unwrap();
        let e = open(&path, &OpenOptions::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format, "{e}");
        assert!(e.message().contains(needle), "{e}");
    }
}

#[test]
fn missing_file_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path().join("nope.ppm"), &OpenOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.message().contains("nope.ppm"));
    assert!(open(dir.path(), &OpenOptions::default()).is_err());
}

#[test]
fn overlong_comment_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.pgm");
    let mut bytes = b"P5 #".to_vec();
    bytes.resize(2 << 20, b'x');
    std::fs::write(&path, &bytes).unwrap();
    let e = open(&path, &OpenOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert!(e.message().contains("longer than"), "{e}");
}
