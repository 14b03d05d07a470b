//! TIFF: round trips through our writer and loader, files from the `tiff`
//! crate's own encoder, damaged files and options.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use gigapix_core::{BandFormat, Ctx, ErrorKind, Header, Image, Metadata, Rect};
use gigapix_io::{FailOn, OpenOptions, SaveOptions, open, writer};

/// A small deterministic generator (64-bit LCG).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Pixels of `header`: a smooth ramp on the top half (compressible, so
/// predictors matter), noise below.
fn pixels(h: &Header, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(h.image_bytes() as usize);
    let samples_per_row = (h.width * h.bands) as u64;
    for y in 0..u64::from(h.height) {
        for i in 0..samples_per_row {
            let v = if y < u64::from(h.height) / 2 {
                y * 3 + i
            } else {
                rng.next()
            };
            match h.format {
                BandFormat::U8 => out.push(v as u8),
                BandFormat::U16 => out.extend_from_slice(&((v * 257) as u16).to_ne_bytes()),
                BandFormat::U32 => out.extend_from_slice(&((v * 65537) as u32).to_ne_bytes()),
                BandFormat::F32 => {
                    out.extend_from_slice(&((v % 100_000) as f32 / 7.0).to_ne_bytes())
                }
                // Signed: negative values too (the ramp wraps around).
                BandFormat::I8 => out.push(v as u8),
                BandFormat::I16 => out.extend_from_slice(&((v * 257) as u16 as i16).to_ne_bytes()),
                BandFormat::I32 => {
                    out.extend_from_slice(&((v * 65537 * 4099) as u32 as i32).to_ne_bytes())
                }
                BandFormat::F64 => {
                    let f = (v % 100_000) as f64 / 7.0 - 5000.0;
                    out.extend_from_slice(&f.to_ne_bytes())
                }
            }
        }
    }
    out
}

/// Saves `data` through our writer with `opts`, in bands of varied heights.
fn save(path: &Path, h: &Header, data: &[u8], opts: &[(&str, &str)]) -> gigapix_core::Result<()> {
    let mut o = SaveOptions::new();
    for (k, v) in opts {
        o = o.set(k, v);
    }
    let mut w = writer(path, h, &Metadata::default(), &o)?;
    let row = h.row_bytes();
    let mut y = 0u32;
    let mut step = 1;
    while y < h.height {
        let rows = step.min(h.height - y);
        let start = y as usize * row;
        w.write_band(y, rows, &data[start..start + rows as usize * row])?;
        y += rows;
        step = step % 9 + 2;
    }
    w.finish()
}

/// Checks that region `rect` of `image` holds the bytes of `data`.
fn check_rect(image: &Image, data: &[u8], rect: Rect, what: &str) {
    let h = image.header();
    let px = h.pixel_bytes();
    let region = Ctx::standalone()
        .region(image, rect)
        .unwrap_or_else(|e| panic!("{what}: region {rect}: {e}"));
    for y in rect.y..rect.bottom() {
        let s = y as usize * h.row_bytes() + rect.x as usize * px;
        assert_eq!(
            region.row_bytes(y),
            &data[s..s + rect.width as usize * px],
            "{what}: row {y} of {rect}"
        );
    }
}

/// Checks the whole image and random rectangles.
fn check_image(image: &Image, data: &[u8], seed: u64, what: &str) {
    let h = *image.header();
    check_rect(image, data, h.rect(), what);
    let mut rng = Rng(seed);
    for _ in 0..12 {
        let x = rng.below(u64::from(h.width)) as i64;
        let y = rng.below(u64::from(h.height)) as i64;
        let w = 1 + rng.below(h.width as u64 - x as u64) as i64;
        let hh = 1 + rng.below(h.height as u64 - y as u64) as i64;
        check_rect(image, data, Rect::new(x, y, w, hh), what);
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Round trip of one header with one set of options.
fn round_trip(dir: &Path, h: Header, opts: &[(&str, &str)], seed: u64) -> PathBuf {
    let what = format!("{h} {opts:?}");
    let path = dir.join(format!("rt{seed}.tif"));
    let data = pixels(&h, seed);
    save(&path, &h, &data, opts).unwrap_or_else(|e| panic!("{what}: save: {e}"));
    let image = open(&path, &OpenOptions::default()).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(image.header().width, h.width, "{what}");
    assert_eq!(image.header().height, h.height, "{what}");
    assert_eq!(image.header().bands, h.bands, "{what}");
    assert_eq!(image.header().format, h.format, "{what}");
    check_image(&image, &data, seed, &what);
    path
}

#[test]
fn round_trips_every_layout_format_and_compression() {
    let dir = tmp();
    let mut seed = 1;
    for bands in 1..=5 {
        for format in BandFormat::ALL {
            for compression in ["none", "lzw", "deflate"] {
                let predictors: &[&str] = match (compression, format) {
                    ("none", _) => &["none"],
                    _ if format.is_float() => &["none"],
                    _ => &["none", "horizontal"],
                };
                for &predictor in predictors {
                    for layout in [
                        vec![],
                        vec![("rows-per-strip", "5")],
                        vec![
                            ("tile", "true"),
                            ("tile-width", "16"),
                            ("tile-height", "16"),
                        ],
                    ] {
                        let h = Header::new(37, 23, bands, format);
                        let mut opts = vec![("compression", compression), ("predictor", predictor)];
                        opts.extend(layout);
                        round_trip(dir.path(), h, &opts, seed);
                        seed += 1;
                    }
                }
            }
        }
    }
}

#[test]
fn default_predictor_for_lzw_is_horizontal() {
    let dir = tmp();
    let h = Header::new(64, 40, 3, BandFormat::U16);
    let path = round_trip(dir.path(), h, &[("compression", "lzw")], 7);
    let image = open(&path, &OpenOptions::default()).unwrap();
    let m = image.metadata();
    assert_eq!(m.field("compression"), Some("lzw"));
    assert_eq!(m.field("predictor"), Some("horizontal"));
    assert_eq!(m.field("pages"), Some("1"));
    assert_eq!(m.field("bigtiff"), Some("false"));
    assert!(m.field("rows-per-strip").is_some());
}

#[test]
fn tiles_of_odd_images_and_metadata() {
    let dir = tmp();
    for (w, hh, tw, th) in [
        (37, 23, 16, 16),
        (300, 17, 64, 32),
        (16, 16, 16, 16),
        (1, 1, 16, 16),
    ] {
        let h = Header::new(w, hh, 3, BandFormat::U8);
        let tw = tw.to_string();
        let th = th.to_string();
        let opts = [
            ("tile", "true"),
            ("tile-width", tw.as_str()),
            ("tile-height", th.as_str()),
            ("compression", "deflate"),
            ("level", "9"),
        ];
        let path = round_trip(dir.path(), h, &opts, u64::from(w + hh));
        let image = open(&path, &OpenOptions::default()).unwrap();
        assert_eq!(
            image.metadata().field("tile"),
            Some(format!("{tw}x{th}").as_str())
        );
        assert_eq!(image.metadata().field("compression"), Some("deflate"));
    }
}

#[test]
fn bigtiff_forced() {
    let dir = tmp();
    for layout in [vec![], vec![("tile", "true")]] {
        for compression in ["none", "lzw"] {
            let h = Header::new(300, 270, 4, BandFormat::U8);
            let mut opts = vec![("bigtiff", "true"), ("compression", compression)];
            opts.extend(layout.clone());
            let path = round_trip(dir.path(), h, &opts, 99);
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(&bytes[2..4], &43u16.to_ne_bytes());
            let image = open(&path, &OpenOptions::default()).unwrap();
            assert_eq!(image.metadata().field("bigtiff"), Some("true"));
        }
    }
}

#[test]
fn larger_image_strip_regions() {
    // Regions spanning many strips, and inside one strip (views).
    let dir = tmp();
    let h = Header::new(1000, 700, 3, BandFormat::U8);
    let path = round_trip(dir.path(), h, &[("rows-per-strip", "16")], 5);
    let data = pixels(&h, 5);
    let image = open(&path, &OpenOptions::default()).unwrap();
    for rect in [
        Rect::new(0, 0, 1000, 64),
        Rect::new(0, 16, 1000, 16),
        Rect::new(10, 17, 20, 3),
        Rect::new(0, 690, 1000, 10),
    ] {
        check_rect(&image, &data, rect, "strips");
    }
}

/// Writes `data` with the `tiff` crate's encoder.
fn crate_encode(path: &Path, w: u32, h: u32, data: &[u8], how: &str) {
    use tiff::encoder::{Compression, DeflateLevel, TiffEncoder, colortype};
    let file = BufWriter::new(File::create(path).unwrap());
    let compression = match how {
        "lzw" => Compression::Lzw,
        "deflate" => Compression::Deflate(DeflateLevel::Balanced),
        "packbits" => Compression::Packbits,
        _ => Compression::Uncompressed,
    };
    let mut enc = TiffEncoder::new(file)
        .unwrap()
        .with_compression(compression);
    if how == "strips" {
        let mut img = enc.new_image::<colortype::RGB8>(w, h).unwrap();
        img.rows_per_strip(7).unwrap();
        let row = w as usize * 3;
        let mut y = 0;
        while img.next_strip_sample_count() > 0 {
            let n = img.next_strip_sample_count() as usize;
            img.write_strip(&data[y..y + n]).unwrap();
            y += n;
            assert!(y <= row * h as usize);
        }
        img.finish().unwrap();
    } else {
        enc.write_image::<colortype::RGB8>(w, h, data).unwrap();
    }
}

#[test]
fn files_from_the_tiff_crate() {
    let dir = tmp();
    let h = Header::new(123, 45, 3, BandFormat::U8);
    let data = pixels(&h, 11);
    for how in ["strips", "none", "lzw", "deflate", "packbits"] {
        let path = dir.path().join(format!("{how}.tif"));
        crate_encode(&path, h.width, h.height, &data, how);
        let image = open(&path, &OpenOptions::default()).unwrap();
        assert_eq!(*image.header(), h, "{how}");
        check_image(&image, &data, 3, how);
    }
}

#[test]
fn pages_of_a_multi_page_file() {
    use tiff::encoder::{TiffEncoder, colortype};
    let dir = tmp();
    let path = dir.path().join("pages.tif");
    let a = Header::new(20, 10, 1, BandFormat::U8);
    let b = Header::new(7, 9, 1, BandFormat::U16);
    let da = pixels(&a, 1);
    let db = pixels(&b, 2);
    {
        let mut enc = TiffEncoder::new(BufWriter::new(File::create(&path).unwrap())).unwrap();
        enc.write_image::<colortype::Gray8>(20, 10, &da).unwrap();
        let samples: Vec<u16> = db
            .chunks_exact(2)
            .map(|c| u16::from_ne_bytes([c[0], c[1]]))
            .collect();
        enc.write_image::<colortype::Gray16>(7, 9, &samples)
            .unwrap();
    }
    let first = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(*first.header(), a);
    assert_eq!(first.metadata().field("pages"), Some("2"));
    check_image(&first, &da, 1, "page 0");
    let second = open(&path, &OpenOptions::new().set("page", 1)).unwrap();
    assert_eq!(*second.header(), b);
    check_image(&second, &db, 1, "page 1");
    let bracket = open(format!("{}[page=1]", path.display()), &OpenOptions::new()).unwrap();
    assert_eq!(*bracket.header(), b);
    let err = open(&path, &OpenOptions::new().set("page", 2)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[test]
fn unknown_and_bad_options_are_errors() {
    let dir = tmp();
    let path = dir.path().join("o.tif");
    let h = Header::new(8, 8, 1, BandFormat::U8);
    for opts in [
        vec![("bogus", "1")],
        vec![("compression", "webp")],
        vec![("compression", "jpeg"), ("predictor", "horizontal")],
        vec![("predictor", "float")],
        vec![
            ("compression", "lzw"),
            ("predictor", "horizontal"),
            ("level", "0"),
        ],
        vec![("predictor", "horizontal")],
        vec![("tile", "true"), ("tile-width", "17")],
        vec![("rows-per-strip", "0")],
    ] {
        let mut o = SaveOptions::new();
        for (k, v) in &opts {
            o = o.set(k, v);
        }
        let err = writer(&path, &h, &Metadata::default(), &o)
            .err()
            .unwrap_or_else(|| panic!("{opts:?}"));
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{opts:?}: {err}");
    }
    let f = Header::new(8, 8, 1, BandFormat::F32);
    let o = SaveOptions::new()
        .set("compression", "lzw")
        .set("predictor", "horizontal");
    assert!(writer(&path, &f, &Metadata::default(), &o).is_err());
    assert!(!path.exists());
    save(&path, &h, &pixels(&h, 1), &[]).unwrap();
    let err = open(&path, &OpenOptions::new().set("bogus", 1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[test]
fn unfinished_save_leaves_nothing() {
    let dir = tmp();
    let path = dir.path().join("u.tif");
    let h = Header::new(8, 8, 1, BandFormat::U8);
    let mut w = writer(&path, &h, &Metadata::default(), &SaveOptions::new()).unwrap();
    w.write_band(0, 2, &[0; 16]).unwrap();
    assert!(w.write_band(5, 1, &[0; 8]).is_err());
    drop(w);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let mut w = writer(&path, &h, &Metadata::default(), &SaveOptions::new()).unwrap();
    w.write_band(0, 2, &[0; 16]).unwrap();
    assert!(w.finish().is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Opens `path` and reads every pixel; `Err` at any step.
fn read_all(path: &Path, options: &OpenOptions) -> gigapix_core::Result<()> {
    let image = open(path, options)?;
    let h = *image.header();
    let mut ctx = Ctx::standalone();
    // In bands, then one small region, as sinks do.
    let mut y = 0;
    while y < h.height {
        let rows = 13.min(h.height - y);
        ctx.region(
            &image,
            Rect::new(0, i64::from(y), i64::from(h.width), i64::from(rows)),
        )?;
        y += rows;
    }
    ctx.region(&image, Rect::new(0, 0, 1, 1))?;
    Ok(())
}

fn damaged_sources(dir: &Path) -> Vec<PathBuf> {
    let h = Header::new(61, 47, 3, BandFormat::U8);
    let data = pixels(&h, 8);
    let mut out = Vec::new();
    for (i, opts) in [
        vec![],
        vec![("compression", "lzw")],
        vec![
            ("compression", "deflate"),
            ("tile", "true"),
            ("tile-width", "16"),
            ("tile-height", "16"),
        ],
        vec![
            ("compression", "lzw"),
            ("bigtiff", "true"),
            ("rows-per-strip", "4"),
        ],
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.join(format!("good{i}.tif"));
        save(&path, &h, &data, &opts).unwrap();
        out.push(path);
    }
    out
}

#[test]
fn truncated_files_fail_cleanly() {
    let dir = tmp();
    for good in damaged_sources(dir.path()) {
        let bytes = std::fs::read(&good).unwrap();
        let cut = dir.path().join("cut.tif");
        let mut n = 1;
        while n < bytes.len() {
            std::fs::write(&cut, &bytes[..n]).unwrap();
            assert!(
                read_all(&cut, &OpenOptions::default()).is_err(),
                "{}: truncated at {n} of {} bytes read fine",
                good.display(),
                bytes.len()
            );
            // Never a panic with fail_on=none either.
            let _ = read_all(&cut, &OpenOptions::new().fail_on(FailOn::None));
            n += 1 + n / 7;
        }
    }
}

#[test]
fn fail_on_none_reads_a_truncated_file() {
    let dir = tmp();
    for good in damaged_sources(dir.path()) {
        let bytes = std::fs::read(&good).unwrap();
        // Cut in the middle of the pixel data (the directory is at the end,
        // so move it: cut the pixels, keep the directory by zeroing a
        // stretch of data instead of shortening).
        let mut broken = bytes.clone();
        let mid = bytes.len() / 2;
        for b in &mut broken[mid..mid + 200] {
            *b = 0xff;
        }
        let path = dir.path().join("broken.tif");
        std::fs::write(&path, &broken).unwrap();
        // Uncompressed data just reads different pixels; compressed data
        // fails to decode. Either way fail_on=none reads the whole image.
        read_all(&path, &OpenOptions::new().fail_on(FailOn::None)).unwrap();
    }
    // A file whose last strips lie past its end: an error at open by
    // default, zeros (and warnings) with fail_on=none.
    let (w, h, rps) = (40u32, 30u32, 4u32);
    let data = pixels(&Header::new(w, h, 1, BandFormat::U8), 4);
    let bytes = hand_made_tiff(w, h, rps, &data);
    let path = dir.path().join("short.tif");
    std::fs::write(&path, &bytes).unwrap();
    read_all(&path, &OpenOptions::default()).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 300]).unwrap();
    let err = read_all(&path, &OpenOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format, "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
    let image = open(&path, &OpenOptions::new().fail_on(FailOn::None)).unwrap();
    let flags = gigapix_core::StopFlags::default();
    let mut ctx = Ctx::new(gigapix_core::memory::MemoryTracker::new(), flags.clone());
    let region = ctx.region(&image, image.header().rect()).unwrap();
    assert_eq!(region.row_bytes(0), &data[..w as usize]);
    assert_eq!(region.row_bytes(29), &[0; 40]);
    let warnings = flags.warnings();
    assert!(!warnings.is_empty());
    assert!(
        warnings.iter().all(|w| w.contains("filled with zeros")),
        "{warnings:?}"
    );
    // A chunk partly covered goes through the cache: zeros there too.
    let region = ctx.region(&image, Rect::new(3, 27, 5, 2)).unwrap();
    assert_eq!(region.row_bytes(28), &[0; 5]);
}

/// A little-endian grey 8-bit uncompressed TIFF with its directory first,
/// then the strips.
fn hand_made_tiff(w: u32, h: u32, rps: u32, data: &[u8]) -> Vec<u8> {
    let strips = h.div_ceil(rps);
    let entries: u16 = 8;
    let ifd_len = 2 + 12 * u32::from(entries) + 4;
    let offsets_at = 8 + ifd_len;
    let counts_at = offsets_at + 4 * strips;
    let data_at = counts_at + 4 * strips;
    let mut f = Vec::new();
    f.extend_from_slice(b"II*\0");
    f.extend_from_slice(&8u32.to_le_bytes());
    f.extend_from_slice(&entries.to_le_bytes());
    let mut entry = |tag: u16, typ: u16, count: u32, value: u32| {
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&typ.to_le_bytes());
        f.extend_from_slice(&count.to_le_bytes());
        f.extend_from_slice(&value.to_le_bytes());
    };
    entry(256, 4, 1, w);
    entry(257, 4, 1, h);
    entry(258, 3, 1, 8);
    entry(259, 3, 1, 1);
    entry(262, 3, 1, 1);
    entry(273, 4, strips, offsets_at);
    entry(278, 4, 1, rps);
    entry(279, 4, strips, counts_at);
    f.extend_from_slice(&0u32.to_le_bytes());
    for s in 0..strips {
        let at = u64::from(data_at) + u64::from(s) * u64::from(rps) * u64::from(w);
        f.extend_from_slice(&(at.min(u64::from(u32::MAX)) as u32).to_le_bytes());
    }
    for s in 0..strips {
        let rows = rps.min(h - s * rps);
        let count = u64::from(rows) * u64::from(w);
        f.extend_from_slice(&(count.min(u64::from(u32::MAX)) as u32).to_le_bytes());
    }
    f.extend_from_slice(data);
    f
}

#[test]
fn flipped_bytes_never_panic() {
    let dir = tmp();
    let mut rng = Rng(42);
    for good in damaged_sources(dir.path()) {
        let bytes = std::fs::read(&good).unwrap();
        let path = dir.path().join("flip.tif");
        for _ in 0..150 {
            let mut b = bytes.clone();
            for _ in 0..1 + rng.below(4) {
                // Mostly the header and the directory (at the end).
                let i = if rng.below(2) == 0 {
                    rng.below(16) as usize
                } else {
                    b.len() - 1 - rng.below(400.min(b.len() as u64)) as usize
                };
                b[i] ^= 1 << rng.below(8);
            }
            std::fs::write(&path, &b).unwrap();
            let _ = read_all(&path, &OpenOptions::default());
            let _ = read_all(&path, &OpenOptions::new().fail_on(FailOn::None));
        }
    }
}

#[test]
fn limits_are_checked_at_open() {
    let dir = tmp();
    let h = Header::new(100, 100, 1, BandFormat::U8);
    let path = dir.path().join("l.tif");
    save(&path, &h, &pixels(&h, 1), &[]).unwrap();
    let small = gigapix_core::Limits::default().max_pixels(9999);
    let err = open(&path, &OpenOptions::new().limits(small)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
}

#[test]
fn other_tools_read_our_files() {
    // Only where libvips is installed.
    let Ok(out) = std::process::Command::new("vips").arg("--version").output() else {
        return;
    };
    if !out.status.success() {
        return;
    }
    let dir = tmp();
    let cases = [
        (Header::new(123, 77, 3, BandFormat::U8), vec![]),
        (
            Header::new(123, 77, 3, BandFormat::U8),
            vec![("compression", "lzw")],
        ),
        (
            Header::new(123, 77, 3, BandFormat::U8),
            vec![
                ("compression", "deflate"),
                ("tile", "true"),
                ("tile-width", "32"),
                ("tile-height", "32"),
            ],
        ),
        (
            Header::new(123, 77, 4, BandFormat::U8),
            vec![
                ("compression", "lzw"),
                ("bigtiff", "true"),
                ("tile", "true"),
            ],
        ),
        (
            Header::new(50, 40, 3, BandFormat::U16),
            vec![("compression", "lzw")],
        ),
        (
            Header::new(50, 40, 2, BandFormat::U16),
            vec![("compression", "deflate")],
        ),
        (
            Header::new(50, 40, 5, BandFormat::F32),
            vec![("compression", "deflate")],
        ),
        (
            Header::new(50, 40, 1, BandFormat::U32),
            vec![("compression", "lzw")],
        ),
        // Signed and double samples (SampleFormat 2 and 3).
        (
            Header::new(50, 40, 1, BandFormat::I16),
            vec![("compression", "deflate")],
        ),
        (
            Header::new(50, 40, 3, BandFormat::I8),
            vec![("compression", "lzw")],
        ),
        (
            Header::new(50, 40, 1, BandFormat::I32),
            vec![("compression", "deflate"), ("tile", "true")],
        ),
        // Not f64: libvips 8.14 reads no 64-bit float TIFF ("samples out
        // of range"), not even its own.
    ];
    for (h, opts) in cases {
        let data = pixels(&h, 3);
        let samples: Vec<f64> = match h.format {
            BandFormat::U8 => data.iter().map(|&v| f64::from(v)).collect(),
            BandFormat::U16 => data
                .chunks_exact(2)
                .map(|c| f64::from(u16::from_ne_bytes([c[0], c[1]])))
                .collect(),
            BandFormat::U32 => data
                .chunks_exact(4)
                .map(|c| f64::from(u32::from_ne_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
            BandFormat::F32 => data
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_ne_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
            BandFormat::I8 => data.iter().map(|&v| f64::from(v as i8)).collect(),
            BandFormat::I16 => data
                .chunks_exact(2)
                .map(|c| f64::from(i16::from_ne_bytes([c[0], c[1]])))
                .collect(),
            BandFormat::I32 => data
                .chunks_exact(4)
                .map(|c| f64::from(i32::from_ne_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
            BandFormat::F64 => data
                .chunks_exact(8)
                .map(|c| f64::from_ne_bytes(c.try_into().unwrap()))
                .collect(),
        };
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        let path = dir.path().join("v.tif");
        save(&path, &h, &data, &opts).unwrap();
        let out = std::process::Command::new("vips")
            .arg("avg")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{opts:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let avg: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert!(
            (avg - mean).abs() < 1e-6,
            "{opts:?}: vips avg {avg}, expected {mean}"
        );
    }
}

#[test]
fn threads_share_the_chunk_cache() {
    // Many threads asking for overlapping regions of the same big strips
    // and tiles at once: every answer right.
    let dir = tmp();
    for opts in [
        vec![("rows-per-strip", "64"), ("compression", "lzw")],
        vec![
            ("tile", "true"),
            ("tile-width", "64"),
            ("tile-height", "64"),
        ],
    ] {
        let h = Header::new(300, 260, 2, BandFormat::U16);
        let data = pixels(&h, 77);
        let path = dir.path().join("mt.tif");
        save(&path, &h, &data, &opts).unwrap();
        let image = open(&path, &OpenOptions::default()).unwrap();
        std::thread::scope(|s| {
            for t in 0..6u64 {
                let (image, data) = (&image, &data);
                s.spawn(move || check_image(image, data, t, "threads"));
            }
        });
    }
}

#[test]
fn huge_claims_fail_without_huge_allocations() {
    let dir = tmp();
    let path = dir.path().join("claims.tif");
    // One strip of 100000x100000 pixels: a chunk over the limit.
    std::fs::write(&path, hand_made_tiff(100_000, 100_000, 100_000, &[0; 64])).unwrap();
    let err = open(&path, &OpenOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
    // A million strips of one row in a file of a few bytes: the offsets
    // cannot be read.
    let mut bytes = hand_made_tiff(1_000_000, 1_000_000, 1, &[]);
    bytes.truncate(200);
    std::fs::write(&path, &bytes).unwrap();
    assert!(open(&path, &OpenOptions::default()).is_err());
    assert!(read_all(&path, &OpenOptions::new().fail_on(FailOn::None)).is_err());
    // Beyond the pixel limits.
    std::fs::write(&path, hand_made_tiff(2_000_000, 2_000_000, 1, &[])).unwrap();
    let err = open(&path, &OpenOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit, "{err}");
}
