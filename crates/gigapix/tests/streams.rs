//! Memory and streams: `from_memory`, `decode`, `open_reader`, `save_to`,
//! `save_to_seekable`, `to_buffer`. The reference for every stream is the
//! file `save` writes of the same image (bytes identical) and the pixels
//! `open` reads from it.

use std::io::{self, Cursor, Write};
use std::sync::Arc;

use gigapix::core::{Ctx, Rect};
use gigapix::{BandFormat, Image};

/// A test image: RGB u8 noise and a zone plate.
fn rgb() -> Image {
    Image::noise(61, 37, 3, 7)
}

const SUFFIXES: [&str; 7] = [
    ".png",
    ".jpg[Q=85]",
    ".ppm",
    ".gpx",
    ".webp",
    ".gif",
    ".tif[compression=lzw]",
];

#[test]
fn to_buffer_and_save_to_match_save_for_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let image = rgb();
    for suffix in SUFFIXES {
        let path = dir.path().join(format!("out{suffix}"));
        image.save(&path).unwrap();
        let file = std::fs::read(
            dir.path()
                .join(format!("out{}", suffix.split('[').next().unwrap())),
        )
        .unwrap();
        let buffer = image.to_buffer(suffix).unwrap();
        assert_eq!(buffer, file, "to_buffer({suffix})");
        let mut seek = Cursor::new(Vec::new());
        image.save_to_seekable(&mut seek, suffix).unwrap();
        assert_eq!(seek.into_inner(), file, "save_to_seekable({suffix})");
        if suffix.starts_with(".tif") {
            let err = image.save_to(Vec::new(), suffix).unwrap_err();
            assert!(err.to_string().contains("cannot seek"), "{err}");
            continue;
        }
        let mut plain = Vec::new();
        image.save_to(&mut plain, suffix).unwrap();
        assert_eq!(plain, file, "save_to({suffix})");
        // Through an OS pipe, read on another thread.
        let (mut rd, wr) = io::pipe().unwrap();
        let reader = std::thread::spawn(move || {
            let mut v = Vec::new();
            io::Read::read_to_end(&mut rd, &mut v).unwrap();
            v
        });
        image.save_to(wr, suffix).unwrap();
        assert_eq!(reader.join().unwrap(), file, "save_to(pipe, {suffix})");
    }
}

#[test]
fn decode_and_open_reader_match_open_for_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let image = rgb();
    for suffix in SUFFIXES {
        let ext = suffix.split('[').next().unwrap();
        let path = dir.path().join(format!("in{ext}"));
        image.save_with_suffix(&path, suffix);
        let bytes = std::fs::read(&path).unwrap();
        let want = Image::open(&path).unwrap().to_vec().unwrap();
        let decoded = Image::decode(bytes.clone()).unwrap().to_vec().unwrap();
        assert_eq!(decoded, want, "decode({ext})");
        let shared: Arc<[u8]> = bytes.clone().into();
        let read = Image::open_reader(Cursor::new(shared))
            .unwrap()
            .to_vec()
            .unwrap();
        assert_eq!(read, want, "open_reader({ext})");
    }
}

trait SaveSuffix {
    fn save_with_suffix(&self, path: &std::path::Path, suffix: &str);
}

impl SaveSuffix for Image {
    fn save_with_suffix(&self, path: &std::path::Path, suffix: &str) {
        let opts = suffix.find('[').map(|i| &suffix[i..]).unwrap_or("");
        let target = format!("{}{opts}", path.display());
        self.save(target).unwrap();
    }
}

#[test]
fn decode_with_load_options() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jpg");
    Image::noise(64, 64, 3, 1).save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let options = gigapix::OpenOptions::default().set("shrink", 2);
    let want = Image::open(format!("{}[shrink=2]", path.display())).unwrap();
    let got = Image::decode_with(bytes, &options).unwrap();
    assert_eq!(got.width(), 32);
    assert_eq!(got.to_vec().unwrap(), want.to_vec().unwrap());
}

#[test]
fn from_memory_is_zero_copy_and_keeps_the_buffer_alive() {
    let data: Arc<[u8]> = (0..40 * 30 * 3)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<_>>()
        .into();
    let image = Image::from_memory(data.clone(), 40, 30, 3, BandFormat::U8).unwrap();
    assert_eq!(Arc::strong_count(&data), 2);
    let region = Ctx::standalone()
        .region(image.node(), Rect::new(5, 7, 10, 4))
        .unwrap();
    assert!(region.is_view());
    let want = &data[(7 * 40 + 5) * 3..];
    assert_eq!(
        region.row::<u8>(7).as_ptr(),
        want.as_ptr(),
        "a view of the caller's bytes"
    );
    assert_eq!(region.row::<u8>(7), &want[..30]);
    // The pixels round trip exactly.
    assert_eq!(image.to_vec().unwrap(), &data[..]);
    // The region keeps the buffer alive after the image is gone.
    drop(image);
    assert!(Arc::strong_count(&data) >= 2);
    drop(region);
    assert_eq!(Arc::strong_count(&data), 1);
    // u16 and f32 from a Vec.
    let v: Vec<u16> = (0..6 * 4).map(|i| i * 1000).collect();
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_ne_bytes()).collect();
    let image = Image::from_memory(bytes.clone(), 6, 4, 1, BandFormat::U16).unwrap();
    assert_eq!(image.to_vec().unwrap(), bytes);
    assert_eq!(image.max().unwrap(), 23000.0);
}

#[test]
fn from_memory_checks_the_size() {
    let err = Image::from_memory(vec![0u8; 10], 2, 2, 3, BandFormat::U8).unwrap_err();
    assert!(
        err.to_string().contains("10 bytes") && err.to_string().contains("12 bytes"),
        "{err}"
    );
    let err = Image::from_memory(vec![0u8; 0], 0, 2, 3, BandFormat::U8).unwrap_err();
    assert!(err.to_string().contains("zero size"), "{err}");
}

/// Fails after `left` bytes.
struct Failing {
    left: usize,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_writer_stops_the_run_with_its_error() {
    let image = Image::noise(800, 600, 3, 3);
    for suffix in [".png", ".jpg", ".ppm", ".gpx", ".gif", ".webp"] {
        let err = image.save_to(Failing { left: 1000 }, suffix).unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{suffix}: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn damaged_bytes_are_a_clear_error() {
    let err = Image::decode(b"not an image at all".to_vec()).unwrap_err();
    assert!(err.to_string().contains("unknown file format"), "{err}");
    let mut png = Image::black(20, 20, 3).to_buffer(".png").unwrap();
    png.truncate(40);
    assert!(Image::decode(png).and_then(|i| i.to_vec()).is_err());
    let err = Image::decode(b"P5\n4 4\n255\n\x01".to_vec()).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}
