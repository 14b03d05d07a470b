//! PNG, JPEG and TIFF decoded from bytes in memory ([`decode`],
//! [`open_reader`], [`read_stream`]) give exactly the pixels and header of
//! the same file opened from disk, with the same options; damaged bytes
//! give errors naming the buffer; limits apply as for files. (That no
//! temporary file is written is checked by `memdecode_notemp.rs`.)

mod common;

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use gigapix_core::{BandFormat, Ctx, ErrorKind, Header, Image, Limits, Metadata, Rect};
use gigapix_io::{
    FailOn, OpenOptions, SaveOptions, decode, open, open_reader, read_stream, writer,
};

use common::{pattern, read_strips};

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

/// The files of fixture directory `dir` ending in `ext`, sorted.
fn fixture_files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// Header, metadata and every pixel (read top to bottom in strips of 16
/// rows, as a sequential source needs), or the kind of error reading them.
fn contents(image: &Image) -> (Header, Metadata, Result<Vec<u8>, ErrorKind>) {
    let pixels = read_strips(image, 16).map_err(|e| e.kind());
    (*image.header(), image.metadata().clone(), pixels)
}

/// Opening `path` and decoding its bytes (by [`decode`], [`open_reader`]
/// and [`read_stream`]) with `options` agree: both fail with the same
/// kind of error, or give the same header, metadata and pixels. Returns
/// whether the file opened.
fn same(path: &Path, options: &OpenOptions) -> bool {
    let what = format!("{} {:?}", path.display(), options.params);
    let bytes = std::fs::read(path).unwrap();
    let from_file = open(path, options);
    let from_bytes = decode(bytes.clone(), options);
    let (file_image, bytes_image) = match (from_file, from_bytes) {
        (Ok(f), Ok(b)) => (f, b),
        (Err(f), Err(b)) => {
            assert_eq!(f.kind(), b.kind(), "{what}: {f} / {b}");
            assert!(b.message().starts_with("buffer: "), "{what}: {b}");
            return false;
        }
        (f, b) => panic!("{what}: file {:?}, bytes {:?}", f.err(), b.err()),
    };
    // Pixels read from the file may fail (damaged data): so must the bytes'.
    let want = contents(&file_image);
    assert_eq!(contents(&bytes_image), want, "{what}: decode");
    // (Readers and pipes are read whole first, within `max_alloc`.)
    if bytes.len() as u64 <= options.limits.max_alloc {
        let reader = open_reader(Cursor::new(bytes.clone()), options).unwrap();
        assert_eq!(contents(&reader), want, "{what}: open_reader");
        let stream = read_stream(&bytes[..], "stdin", options).unwrap();
        assert_eq!(contents(&stream), want, "{what}: read_stream");
    }
    true
}

/// Every region of `image` read at once (random access).
fn whole(image: &Image) -> Vec<u8> {
    common::read_all(image).unwrap()
}

/// Saves `data` of `header` to `path` with `options`.
fn save(path: &Path, header: &Header, data: &[u8], options: &SaveOptions) {
    let mut w = writer(path, header, &Metadata::default(), options).unwrap();
    w.write_band(0, header.height, data).unwrap();
    w.finish().unwrap();
}

/// A PNG chunk.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// An Adam7 interlaced 8-bit RGB PNG of `w` x `h` pixels `rgb`, each pass
/// row unfiltered.
fn interlaced_png(w: u32, h: u32, rgb: &[u8]) -> Vec<u8> {
    let passes = [
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ];
    let mut raw = Vec::new();
    for (x0, y0, dx, dy) in passes {
        if x0 >= w || y0 >= h {
            continue;
        }
        for y in (y0..h).step_by(dy) {
            raw.push(0);
            for x in (x0..w).step_by(dx) {
                let at = (y * w + x) as usize * 3;
                raw.extend_from_slice(&rgb[at..at + 3]);
            }
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = [w.to_be_bytes(), h.to_be_bytes()].concat();
    ihdr.extend_from_slice(&[8, 2, 0, 0, 1]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &z.finish().unwrap());
    chunk(&mut png, b"IEND", &[]);
    png
}

/// A palette PNG (4 bits an index, with `tRNS`) by the `png` crate.
fn palette_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Four);
    enc.set_palette(
        (0..16u8)
            .flat_map(|i| [i * 16, 255 - i * 16, i * 7])
            .collect::<Vec<_>>(),
    );
    enc.set_trns(vec![0u8, 128, 255]);
    let mut writer = enc.write_header().unwrap();
    let row = w.div_ceil(2) as usize;
    writer
        .write_image_data(&pattern(row * h as usize, 9))
        .unwrap();
    writer.finish().unwrap();
    out
}

#[test]
fn png_from_bytes_is_png_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = fixture_files("png", "png");
    let cases = [
        ("rgb8.png", Header::new(37, 29, 3, BandFormat::U8)),
        ("grey16.png", Header::new(23, 41, 1, BandFormat::U16)),
        ("ga16.png", Header::new(17, 12, 2, BandFormat::U16)),
        ("rgba8.png", Header::new(40, 3, 4, BandFormat::U8)),
    ];
    for (i, (file, header)) in cases.iter().enumerate() {
        let path = dir.path().join(file);
        let data = pattern(header.image_bytes() as usize, i as u32);
        save(&path, header, &data, &SaveOptions::default());
        files.push(path);
    }
    let path = dir.path().join("palette.png");
    std::fs::write(&path, palette_png(21, 13)).unwrap();
    files.push(path);
    let path = dir.path().join("interlaced.png");
    std::fs::write(&path, interlaced_png(19, 23, &pattern(19 * 23 * 3, 4))).unwrap();
    files.push(path);
    let mut opened = 0;
    for path in &files {
        for fail_on in [FailOn::Error, FailOn::None] {
            let options = OpenOptions::new().fail_on(fail_on);
            opened += usize::from(same(path, &options));
        }
    }
    assert!(opened >= 2 * 6, "{opened} of {} opened", files.len());

    // The decoded pixels are the file's, from an independent decoder too.
    let bytes = std::fs::read(dir.path().join("interlaced.png")).unwrap();
    let image = decode(bytes, &OpenOptions::default()).unwrap();
    assert_eq!(image.metadata().field("interlaced"), Some("adam7"));
    assert_eq!(read_strips(&image, 5).unwrap(), pattern(19 * 23 * 3, 4));
}

#[test]
fn jpeg_from_bytes_is_jpeg_from_the_file() {
    let mut files = fixture_files("jpeg", "jpg");
    files.extend(fixture_files("jpeg-edge", "jpg"));
    let mut opened = 0;
    for path in &files {
        for shrink in ["1", "2", "4", "8"] {
            opened += usize::from(same(path, &OpenOptions::new().set("shrink", shrink)));
        }
        let lenient = OpenOptions::new().fail_on(FailOn::None);
        same(path, &lenient.set("shrink", 8));
    }
    // Without the `mozjpeg` feature shrink-on-load is refused, from bytes
    // as from files.
    let shrinks = if cfg!(feature = "mozjpeg") { 4 } else { 1 };
    assert_eq!(opened, shrinks * files.len());

    // The `jpeg-edge` files against Pillow's decodes, from bytes.
    for path in fixture_files("jpeg-edge", "jpg") {
        let reference = path.with_extension("pil.ppm");
        let want = whole(&open(&reference, &OpenOptions::default()).unwrap());
        let bytes = std::fs::read(&path).unwrap();
        let image = decode(bytes, &OpenOptions::default()).unwrap();
        let got = read_strips(&image, 8).unwrap();
        let worst = got.iter().zip(&want).map(|(a, b)| a.abs_diff(*b)).max();
        assert!(worst <= Some(2), "{}: {worst:?}", path.display());
    }
}

#[test]
fn tiff_from_bytes_is_tiff_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = fixture_files("tiff", "tif");
    let rgb = Header::new(45, 37, 3, BandFormat::U8);
    let grey16 = Header::new(30, 20, 1, BandFormat::U16);
    let cases = [
        (
            "strips.tif",
            rgb,
            SaveOptions::new().set("rows_per_strip", 8),
        ),
        (
            "tiles.tif",
            rgb,
            SaveOptions::new()
                .set("tile", true)
                .set("tile_width", 16)
                .set("tile_height", 16),
        ),
        (
            "lzw.tif",
            grey16,
            SaveOptions::new().set("compression", "lzw"),
        ),
        (
            "deflate-tiles.tif",
            rgb,
            SaveOptions::new()
                .set("compression", "deflate")
                .set("tile", true),
        ),
        (
            "jpeg.tif",
            rgb,
            SaveOptions::new().set("compression", "jpeg"),
        ),
        ("grey16.tif", grey16, SaveOptions::new()),
        (
            "pyramid.tif",
            rgb,
            SaveOptions::new()
                .set("pyramid", true)
                .set("tile_width", 16)
                .set("tile_height", 16),
        ),
    ];
    for (i, (file, header, options)) in cases.iter().enumerate() {
        let path = dir.path().join(file);
        let data = pattern(header.image_bytes() as usize, 10 + i as u32);
        save(&path, header, &data, options);
        files.push(path);
    }
    // Two pages.
    let pages = dir.path().join("pages.tif");
    {
        use tiff::encoder::{TiffEncoder, colortype};
        let file = std::fs::File::create(&pages).unwrap();
        let mut enc = TiffEncoder::new(std::io::BufWriter::new(file)).unwrap();
        enc.write_image::<colortype::Gray8>(20, 10, &pattern(200, 1))
            .unwrap();
        let wide: Vec<u16> = pattern(7 * 9 * 2, 2)
            .chunks_exact(2)
            .map(|c| u16::from_ne_bytes([c[0], c[1]]))
            .collect();
        enc.write_image::<colortype::Gray16>(7, 9, &wide).unwrap();
    }
    files.push(pages.clone());
    let mut opened = 0;
    for path in &files {
        for fail_on in [FailOn::Error, FailOn::None] {
            let options = OpenOptions::new().fail_on(fail_on);
            opened += usize::from(same(path, &options));
        }
    }
    assert!(
        opened >= 2 * cases.len(),
        "{opened} of {} opened",
        files.len()
    );
    for page in 0..3 {
        same(&pages, &OpenOptions::new().set("page", page));
    }
    let pyramid = dir.path().join("pyramid.tif");
    for level in 0..4 {
        same(&pyramid, &OpenOptions::new().set("level", level));
    }
    let second = decode(
        std::fs::read(&pages).unwrap(),
        &OpenOptions::new().set("page", 1),
    )
    .unwrap();
    assert_eq!(*second.header(), Header::new(7, 9, 1, BandFormat::U16));
    let err = decode(
        std::fs::read(&pages).unwrap(),
        &OpenOptions::new().set("page", 2),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.message().starts_with("buffer: "), "{err}");
}

/// Uncompressed contiguous strips are views of the caller's bytes, as of
/// the file's map; compressed ones are decoded (a region inside a chunk
/// may view the decoded chunk), from bytes as from the file.
#[test]
fn tiff_strips_from_bytes_are_views() {
    let dir = tempfile::tempdir().unwrap();
    let header = Header::new(64, 48, 3, BandFormat::U8);
    let data = pattern(header.image_bytes() as usize, 5);
    for (file, options, view) in [
        ("plain.tif", SaveOptions::new(), true),
        (
            "lzw.tif",
            SaveOptions::new().set("compression", "lzw"),
            false,
        ),
    ] {
        let path = dir.path().join(file);
        save(&path, &header, &data, &options);
        let bytes: std::sync::Arc<[u8]> = std::fs::read(&path).unwrap().into();
        let r = Rect::new(3, 5, 40, 30);
        let from_file = open(&path, &OpenOptions::default()).unwrap();
        let from_bytes = decode(bytes.clone(), &OpenOptions::default()).unwrap();
        let file_region = Ctx::standalone().region(&from_file, r).unwrap();
        let region = Ctx::standalone().region(&from_bytes, r).unwrap();
        assert_eq!(region.is_view(), file_region.is_view(), "{file}");
        if view {
            assert!(file_region.is_view(), "{file}");
        }
        for y in r.y..r.bottom() {
            let at = (y as usize * 64 + 3) * 3;
            assert_eq!(
                region.row_bytes(y),
                &data[at..at + 40 * 3],
                "{file} row {y}"
            );
        }
        // Views of the caller's buffer exactly when the file's are of its
        // map.
        let inside = bytes.as_ptr_range();
        assert_eq!(
            inside.contains(&region.row_bytes(r.y).as_ptr()),
            view,
            "{file}"
        );
        assert_eq!(whole(&from_bytes), data, "{file}");
    }
}

/// Cut, damaged and garbage bytes give errors that name the buffer (at
/// decode or when pixels are read), never a panic.
#[test]
fn damaged_bytes_give_errors() {
    let dir = tempfile::tempdir().unwrap();
    let header = Header::new(33, 31, 3, BandFormat::U8);
    let data = pattern(header.image_bytes() as usize, 8);
    let mut files = Vec::new();
    for (file, options) in [
        ("a.png", SaveOptions::new()),
        ("a.tif", SaveOptions::new()),
        (
            "a-lzw.tif",
            SaveOptions::new()
                .set("compression", "lzw")
                .set("tile", true),
        ),
        ("a.jpg", SaveOptions::new()),
    ] {
        let path = dir.path().join(file);
        save(&path, &header, &data, &options);
        files.push(std::fs::read(&path).unwrap());
    }
    files.push(std::fs::read(fixtures("jpeg").join("progressive.jpg")).unwrap());
    files.push(interlaced_png(19, 23, &pattern(19 * 23 * 3, 4)));
    for good in &files {
        for fail_on in [FailOn::Error, FailOn::None] {
            let options = OpenOptions::new().fail_on(fail_on);
            for shrink in ["1", "8"] {
                let options = if good[0] == 0xFF {
                    options.clone().set("shrink", shrink)
                } else {
                    options.clone()
                };
                let mut cuts: Vec<usize> = (1..16).map(|i| good.len() * i / 16).collect();
                cuts.extend([1, 2, 4, 8, 9, good.len() - 2, good.len() - 1]);
                let mut damaged: Vec<Vec<u8>> = cuts.iter().map(|&c| good[..c].to_vec()).collect();
                for at in [good.len() / 3, good.len() / 2, good.len() * 3 / 4] {
                    let mut bad = good.clone();
                    bad[at..].copy_from_slice(&pattern(good.len() - at, at as u32));
                    damaged.push(bad);
                }
                // The magic bytes, then garbage.
                let mut garbage = good[..8].to_vec();
                garbage.extend(pattern(4000, 3));
                damaged.push(garbage);
                for bytes in damaged {
                    let len = bytes.len();
                    match decode(bytes, &options) {
                        Err(e) => assert!(e.message().starts_with("buffer: "), "{len}: {e}"),
                        Ok(image) => {
                            let h = *image.header();
                            let read = Ctx::standalone().region(&image, h.rect());
                            if let Err(e) = read {
                                assert!(e.message().contains("buffer"), "{len}: {e}");
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `OpenOptions.limits` refuse images from bytes as from files.
#[test]
fn limits_apply_to_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let header = Header::new(40, 30, 3, BandFormat::U8);
    let data = pattern(header.image_bytes() as usize, 2);
    let mut limits = Limits::default();
    limits.max_pixels = 1000;
    let strict = OpenOptions::new().limits(limits);
    let mut small = Limits::default();
    small.max_alloc = 1000;
    let little_memory = OpenOptions::new().limits(small);
    let mut files: Vec<PathBuf> = ["a.png", "a.tif", "a.jpg"]
        .iter()
        .map(|file| {
            let path = dir.path().join(file);
            save(&path, &header, &data, &SaveOptions::new());
            path
        })
        .collect();
    files.push(fixtures("jpeg").join("progressive.jpg"));
    for path in &files {
        let file = path.display();
        let bytes = std::fs::read(path).unwrap();
        let err = decode(bytes.clone(), &strict).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit, "{file}: {err}");
        assert!(err.message().starts_with("buffer: "), "{file}: {err}");
        let file_err = open(path, &strict).unwrap_err();
        assert_eq!(file_err.kind(), ErrorKind::Limit, "{file}: {file_err}");
        assert!(decode(bytes, &OpenOptions::default()).is_ok(), "{file}");
        same(path, &little_memory);
    }
}

/// WebP and GIF (decoded from the caller's bytes, not a copy) agree with
/// their files too.
#[test]
fn webp_and_gif_from_bytes_are_from_the_file() {
    let mut files = fixture_files("webp", "webp");
    files.extend(fixture_files("gif", "gif"));
    let opened: usize = files
        .iter()
        .map(|path| usize::from(same(path, &OpenOptions::new())))
        .sum();
    assert!(opened >= 4, "{opened} of {} opened", files.len());
}
