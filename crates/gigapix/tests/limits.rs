//! `Limits` on every node, process-wide and raisable, and
//! `Limits::max_alloc` on the loaders' buffers.
//!
//! One test function changes the process-wide limits, so this file keeps
//! every test that depends on them in that one function, in order (tests of
//! one binary run in parallel).

use gigapix::{AccessMode, BandFormat, ErrorKind, Extend, Image, Limits, OpenOptions};

#[test]
fn every_node_is_checked_against_the_process_wide_limits() {
    assert_eq!(Limits::default(), Limits::DEFAULT);
    loaders_keep_their_buffers_within_max_alloc();
    let small = Image::noise(100, 100, 3, 1);

    // Beyond 10^7 per side: refused when built, named with its operation.
    let huge = small.embed(0, 0, 1_000_000_000, 1_000_000_000, Extend::Black);
    let e = huge.check().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
    assert_eq!(e.operation(), Some("embed"), "{e}");
    // And every image built on it carries the same error.
    let e2 = huge.invert().check().unwrap_err();
    assert_eq!(e2.operation(), Some("embed"), "{e2}");

    // 10^14 pixels: within 10^7 per side, beyond 2^40 in all.
    let e = small.resize(100_000.0).check().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
    assert_eq!(e.operation(), Some("resize"), "{e}");

    // The gigapixel example's size is fine.
    Image::black(50_000, 50_000, 3).check().unwrap();
    Image::black(10_000_000, 1, 1).check().unwrap();
    assert_eq!(
        Image::black(10_000_001, 1, 1).check().unwrap_err().kind(),
        ErrorKind::Limit
    );

    // Raised for the whole process: the same steps build (nothing is
    // computed), and lowered limits refuse small images.
    Limits::set_default(Limits::none());
    let huge = small.embed(0, 0, 1_000_000_000, 1_000_000_000, Extend::Black);
    huge.check().unwrap();
    assert_eq!(huge.width(), 1_000_000_000);
    small.resize(100_000.0).check().unwrap();
    Limits::set_default(Limits::DEFAULT.max_pixels(99));
    assert_eq!(
        Image::black(10, 10, 1).check().unwrap_err().kind(),
        ErrorKind::Limit
    );
    Limits::set_default(Limits::DEFAULT);
    Image::black(10, 10, 1).check().unwrap();
}

/// Saves a 64x64 RGB image as `name` in `dir` and returns its path.
fn saved(dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    Image::noise(64, 64, 3, 3)
        .cast(BandFormat::U8)
        .save(&path)
        .unwrap();
    path
}

/// Run by the test above, before it changes the process-wide limits.
fn loaders_keep_their_buffers_within_max_alloc() {
    let dir = tempfile::tempdir().unwrap();
    let tight = |bytes| OpenOptions::new().limits(Limits::DEFAULT.max_alloc(bytes));
    // A TIFF strip of 64 rows of 192 bytes (the saver's strips of this
    // small image hold it whole: 12288 bytes).
    let tif = saved(&dir, "a.tif");
    Image::open_with(&tif, &tight(1 << 20))
        .unwrap()
        .check()
        .unwrap();
    let e = Image::open_with(&tif, &tight(1000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
    assert!(e.to_string().contains("max_alloc"), "{e}");

    // A streamed PPM: 16 rows of 192 bytes must fit.
    let ppm = saved(&dir, "a.ppm");
    let seq = |bytes| tight(bytes).access(AccessMode::Sequential);
    Image::open_with(&ppm, &seq(16 * 192))
        .unwrap()
        .check()
        .unwrap();
    let e = Image::open_with(&ppm, &seq(16 * 192 - 1)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
    assert!(e.to_string().contains("max_alloc"), "{e}");

    // A PNG's rows.
    let png = saved(&dir, "a.png");
    Image::open_with(&png, &tight(1 << 20))
        .unwrap()
        .check()
        .unwrap();
    let e = Image::open_with(&png, &tight(100)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
}
