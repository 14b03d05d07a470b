//! Savers: atomic, checked before anything is created.

mod common;

use common::{entries, pattern, save};
use gigapix_core::{BandFormat, ErrorKind, Header, Metadata};
use gigapix_io::{SaveOptions, writer};

/// The error of a `writer` call that must fail (`BandWriter` is not `Debug`).
fn writer_err(path: &std::path::Path, header: &Header) -> gigapix_core::Error {
    match writer(path, header, &Metadata::default(), &SaveOptions::default()) {
        Ok(_) => panic!("{}: writer should have failed", path.display()),
        Err(e) => e,
    }
}

#[test]
fn dropping_without_finish_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.ppm");
    let header = Header::new(4, 4, 3, BandFormat::U8);
    let mut w = writer(
        &path,
        &header,
        &Metadata::default(),
        &SaveOptions::default(),
    )
    .unwrap();
    w.write_band(0, 2, &pattern(24, 1)).unwrap();
    // While writing: nothing with O_TMPFILE (Linux; the CLI's SIGKILL test
    // checks that), else one hidden temporary file.
    let during = entries(dir.path());
    assert!(
        during.len() <= 1
            && during
                .iter()
                .all(|n| n.starts_with(".out.ppm.") && n.ends_with(".tmp")),
        "{during:?}"
    );
    assert!(!path.exists());
    drop(w);
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn failed_save_leaves_an_existing_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.gpx");
    std::fs::write(&path, b"precious").unwrap();
    let header = Header::new(4, 4, 2, BandFormat::U16);

    // Dropped half way.
    let mut w = writer(
        &path,
        &header,
        &Metadata::default(),
        &SaveOptions::default(),
    )
    .unwrap();
    w.write_band(0, 1, &pattern(16, 2)).unwrap();
    drop(w);
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");

    // Finished too early.
    let mut w = writer(
        &path,
        &header,
        &Metadata::default(),
        &SaveOptions::default(),
    )
    .unwrap();
    w.write_band(0, 3, &pattern(48, 3)).unwrap();
    let e = w.finish().unwrap_err();
    assert!(e.message().contains("3 of 4 rows"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");

    // Bands out of order or of the wrong size.
    let mut w = writer(
        &path,
        &header,
        &Metadata::default(),
        &SaveOptions::default(),
    )
    .unwrap();
    assert_eq!(
        w.write_band(1, 1, &pattern(16, 4)).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        w.write_band(0, 1, &pattern(15, 4)).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        w.write_band(0, 5, &pattern(80, 4)).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    drop(w);
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    assert_eq!(entries(dir.path()), ["keep.gpx"]);

    // A successful save replaces it.
    let data = pattern(64, 5);
    save(&path, &header, &data, 4).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[64..], &data[..]);
    assert_eq!(entries(dir.path()), ["keep.gpx"]);
}

#[test]
fn unsupported_outputs_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let rgb = Header::new(2, 2, 3, BandFormat::U8);
    for name in ["out.bmp", "out", "out.ppm.bak", "out.BMP"] {
        let e = writer_err(&dir.path().join(name), &rgb);
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(
            e.message()
                .contains("PPM/PGM (.ppm, .pgm, .pnm), gpx (.gpx)"),
            "{e}"
        );
    }
    // Formats gigapix knows but does not write are named.
    let e = writer_err(&dir.path().join("out.bmp"), &rgb);
    assert!(e.message().contains("BMP is not supported"), "{e}");
    for header in [
        Header::new(2, 2, 4, BandFormat::U8),
        Header::new(2, 2, 2, BandFormat::U16),
        Header::new(2, 2, 3, BandFormat::F32),
        Header::new(2, 2, 1, BandFormat::U32),
    ] {
        let e = writer_err(&dir.path().join("out.ppm"), &header);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.message().contains("first"), "{e}");
    }
    let e = writer_err(dir.path(), &rgb);
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    std::fs::create_dir(dir.path().join("sub.ppm")).unwrap();
    assert!(
        writer(
            &dir.path().join("sub.ppm"),
            &rgb,
            &Metadata::default(),
            &SaveOptions::default()
        )
        .is_err()
    );
    let missing = dir.path().join("no/such/dir/out.ppm");
    assert_eq!(writer_err(&missing, &rgb).kind(), ErrorKind::Io);
    assert_eq!(entries(dir.path()), ["sub.ppm"]);
}

#[test]
fn ppm_bytes_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.pgm");
    let header = Header::new(2, 1, 1, BandFormat::U16);
    let mut w = writer(
        &path,
        &header,
        &Metadata::default(),
        &SaveOptions::default(),
    )
    .unwrap();
    let samples: Vec<u8> = [0x0102u16, 0xfffe]
        .iter()
        .flat_map(|v| v.to_ne_bytes())
        .collect();
    w.write_band(0, 1, &samples).unwrap();
    w.finish().unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"P5\n2 1\n65535\n\x01\x02\xff\xfe"
    );

    let path = dir.path().join("c.ppm");
    save(
        &path,
        &Header::new(1, 2, 3, BandFormat::U8),
        &[1, 2, 3, 4, 5, 6],
        1,
    )
    .unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"P6\n1 2\n255\n\x01\x02\x03\x04\x05\x06"
    );
}

#[cfg(unix)]
#[test]
fn new_files_get_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    std::fs::write(&plain, b"x").unwrap();
    let path = dir.path().join("p.pgm");
    save(&path, &Header::new(1, 1, 1, BandFormat::U8), &[7], 1).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), mode(&plain));
}
