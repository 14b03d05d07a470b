//! Decoding PNG, JPEG and TIFF from memory writes no temporary file: with
//! the temporary directory pointed at one that does not exist (so that a
//! temporary file could not be made), every format still decodes, with
//! the pixels of the same file opened from disk. (A test binary of its
//! own: the temporary directory is process-wide.)

use std::io::Cursor;
use std::path::Path;

use gigapix_core::{Ctx, Image};
use gigapix_io::{OpenOptions, decode, open, open_reader, read_stream};

/// Every pixel of `image`, read top to bottom in strips of 8 rows.
fn pixels(image: &Image) -> Vec<u8> {
    let h = *image.header();
    let mut ctx = Ctx::standalone();
    let mut out = Vec::new();
    for y in (0..h.height).step_by(8) {
        let rows = 8.min(h.height - y);
        let rect = gigapix_core::Rect::new(0, y.into(), h.width.into(), rows.into());
        let region = ctx.region(image, rect).unwrap();
        for yy in y..y + rows {
            out.extend_from_slice(region.row_bytes(yy.into()));
        }
    }
    out
}

#[test]
fn no_temporary_file_is_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let missing = root.join("no such directory (memdecode_notemp)");
    assert!(!missing.exists());
    tempfile::env::override_temp_dir(&missing).unwrap();
    // Spooling would fail now.
    assert!(tempfile::NamedTempFile::new().is_err());

    let cases = [
        ("png/apng-ok.png", OpenOptions::new()),
        ("png/trns1-grey2.png", OpenOptions::new()),
        ("jpeg/b420.jpg", OpenOptions::new()),
        ("jpeg/progressive.jpg", OpenOptions::new()),
        ("jpeg/b420.jpg", OpenOptions::new().set("shrink", 2)),
        ("jpeg/b444.jpg", OpenOptions::new().set("shrink", 4)),
        ("jpeg/b420.jpg", OpenOptions::new().set("shrink", 8)),
        ("jpeg/cmyk.jpg", OpenOptions::new().set("shrink", 8)),
        ("tiff/fo2-rgb8-none.tif", OpenOptions::new()),
        ("tiff/fo2-rgb8-zip-tiled.tif", OpenOptions::new()),
        ("tiff/be-rgb16-lzw-pred.tif", OpenOptions::new()),
    ];
    for (file, options) in cases {
        if !cfg!(feature = "mozjpeg") && !options.params.is_empty() {
            continue;
        }
        let path = root.join(file);
        let want = pixels(&open(&path, &options).unwrap());
        let bytes = std::fs::read(&path).unwrap();
        let decoded = decode(bytes.clone(), &options).unwrap();
        assert_eq!(pixels(&decoded), want, "{file}: decode");
        let read = open_reader(Cursor::new(bytes.clone()), &options).unwrap();
        assert_eq!(pixels(&read), want, "{file}: open_reader");
        let piped = read_stream(&bytes[..], "stdin", &options).unwrap();
        assert_eq!(pixels(&piped), want, "{file}: read_stream");
    }
    assert!(!missing.exists());
}
