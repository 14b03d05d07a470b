//! Files built byte by byte in the tests, independently of the writers.

mod common;

use common::{read_all, read_strips};
use gigapix_core::{BandFormat, Ctx, Header, Interpretation, Rect};
use gigapix_io::{AccessMode, OpenOptions, open};

fn file(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ref.img");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

fn both_modes(path: &std::path::Path) -> Vec<gigapix_core::Image> {
    [AccessMode::Random, AccessMode::Sequential]
        .into_iter()
        .map(|a| open(path, &OpenOptions::default().access(a)).unwrap())
        .collect()
}

#[test]
fn ppm_with_comments() {
    let mut bytes =
        b"P6 # made by hand\n# a second comment line\n3\t2 #width and height\r\n255\n".to_vec();
    let pixels: Vec<u8> = (0..18).map(|i| i * 10 + 1).collect();
    bytes.extend_from_slice(&pixels);
    let (_dir, path) = file(&bytes);
    for image in both_modes(&path) {
        assert_eq!(*image.header(), Header::new(3, 2, 3, BandFormat::U8));
        assert_eq!(image.interpretation(), Interpretation::Srgb);
        assert_eq!(read_strips(&image, 1).unwrap(), pixels);
    }
    let image = open(&path, &OpenOptions::default()).unwrap();
    let region = Ctx::standalone()
        .region(&image, Rect::new(1, 1, 2, 1))
        .unwrap();
    assert!(region.is_view());
    assert_eq!(region.row::<u8>(1), &[121, 131, 141, 151, 161, 171]);
}

#[test]
fn comment_right_after_a_number_and_cr_after_maxval() {
    // The byte after the maxval is CR; the first pixel is LF (10), which
    // must be read as a pixel, not as more whitespace.
    let (_dir, path) = file(b"P5\n2#w\n2 255\r\n\x07\x08\x09");
    for image in both_modes(&path) {
        assert_eq!(*image.header(), Header::new(2, 2, 1, BandFormat::U8));
        assert_eq!(image.interpretation(), Interpretation::Grey);
        assert_eq!(read_all(&image).unwrap(), [10, 7, 8, 9]);
    }
}

#[test]
fn sixteen_bit_samples_are_big_endian_and_not_rescaled() {
    let (_dir, path) =
        file(b"P5\n2 2\n1000\n\x01\x02\x03\xe8\x00\x00\x00\x01trailing bytes are ignored");
    for image in both_modes(&path) {
        assert_eq!(*image.header(), Header::new(2, 2, 1, BandFormat::U16));
        let region = Ctx::standalone()
            .region(&image, Rect::new(0, 0, 2, 2))
            .unwrap();
        assert_eq!(region.row::<u16>(0), &[258, 1000]);
        assert_eq!(region.row::<u16>(1), &[0, 1]);
    }
    // RGB, odd data offset, a region starting mid-row.
    let (_dir, path) = file(b"P6 2 1 65535 \x00\x01\x00\x02\x00\x03\xff\xfe\x80\x00\x12\x34");
    let image = open(&path, &OpenOptions::default()).unwrap();
    let region = Ctx::standalone()
        .region(&image, Rect::new(1, 0, 1, 1))
        .unwrap();
    assert_eq!(region.row::<u16>(0), &[0xfffe, 0x8000, 0x1234]);
}

#[test]
fn small_maxval_keeps_values() {
    let (_dir, path) = file(b"P5 3 1 1\n\x00\x01\x01");
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(image.format(), BandFormat::U8);
    assert_eq!(read_all(&image).unwrap(), [0, 1, 1]);
}

#[test]
fn raw_layout() {
    let mut bytes = b"GIGAPIX1".to_vec();
    bytes.extend_from_slice(&2u32.to_le_bytes()); // width
    bytes.extend_from_slice(&1u32.to_le_bytes()); // height
    bytes.extend_from_slice(&2u32.to_le_bytes()); // bands
    bytes.push(1); // u16
    bytes.push(0); // multiband
    bytes.resize(64, 0);
    for v in [1u16, 0x0203, 0xfffe, 7] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let (_dir, path) = file(&bytes);
    for image in both_modes(&path) {
        let h = *image.header();
        assert_eq!(
            (h.width, h.height, h.bands, h.format),
            (2, 1, 2, BandFormat::U16)
        );
        assert_eq!(h.interpretation, Interpretation::Multiband);
        let region = Ctx::standalone().region(&image, h.rect()).unwrap();
        assert_eq!(region.row::<u16>(0), &[1, 0x0203, 0xfffe, 7]);
    }

    // f32, viewed in place.
    let header = Header::new(3, 1, 1, BandFormat::F32);
    let mut bytes = gigapix_io::raw::header_bytes(&header).to_vec();
    assert_eq!(&bytes[..8], b"GIGAPIX1");
    assert_eq!((bytes[20], bytes[21]), (3, 1));
    for v in [1.5f32, -0.25, 1e30] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let (_dir, path) = file(&bytes);
    let image = open(&path, &OpenOptions::default()).unwrap();
    let region = Ctx::standalone().region(&image, header.rect()).unwrap();
    assert!(region.is_view());
    assert_eq!(region.row::<f32>(0), &[1.5, -0.25, 1e30]);
}
