//! Write through the BandWriter, open again, compare every pixel.

mod common;

use common::{pattern, read_all, read_strips, save};
use gigapix_core::{BandFormat, Ctx, Header, Interpretation, Rect};
use gigapix_io::{AccessMode, FileFormat, OpenOptions, describe, format_for_path, open};

fn roundtrip(name: &str, header: Header, expect_view: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let mut data = pattern(
        header.image_bytes() as usize,
        header.width ^ header.bands << 8,
    );
    if header.format == BandFormat::F32 {
        // Keep floats finite so byte equality means value equality.
        for c in data.chunks_exact_mut(4) {
            c[3] &= 0x3f;
        }
    }
    save(&path, &header, &data, 3).unwrap();

    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(*image.header(), header, "{name}");
    assert_eq!(read_all(&image).unwrap(), data, "{name}: random access");

    // A region inside the image, away from the origin.
    let r = Rect::new(1, 2, header.width as i64 - 2, 3);
    let region = Ctx::standalone().region(&image, r).unwrap();
    assert_eq!(region.is_view(), expect_view, "{name}");
    let row = header.row_bytes();
    let px = header.pixel_bytes();
    for y in r.y..r.bottom() {
        let s = y as usize * row + px;
        assert_eq!(
            region.row_bytes(y),
            &data[s..s + (r.width as usize) * px],
            "{name} row {y}"
        );
    }

    let seq = open(
        &path,
        &OpenOptions::default().access(AccessMode::Sequential),
    )
    .unwrap();
    assert_eq!(*seq.header(), header);
    assert_eq!(read_strips(&seq, 4).unwrap(), data, "{name}: sequential");
}

#[test]
fn ppm_and_pgm_8_and_16_bit() {
    for (bands, ext) in [(1, "pgm"), (3, "ppm"), (1, "pnm"), (3, "PPM")] {
        for format in [BandFormat::U8, BandFormat::U16] {
            let header = Header::new(7, 9, bands, format);
            let name = format!("t{bands}{format}.{ext}");
            roundtrip(&name, header, format == BandFormat::U8);
        }
    }
}

#[test]
fn raw_every_format_and_band_count() {
    for format in BandFormat::ALL {
        for bands in 1..=5 {
            let mut header = Header::new(6, 8, bands, format);
            if bands == 2 {
                header.interpretation = Interpretation::Multiband;
            }
            roundtrip(&format!("t{bands}{format}.gpx"), header, true);
        }
    }
    // Interpretation survives.
    let header = Header {
        interpretation: Interpretation::Histogram,
        ..Header::new(5, 6, 1, BandFormat::U32)
    };
    roundtrip("hist.gpx", header, true);
}

#[test]
fn describe_reports_format_and_header() {
    let dir = tempfile::tempdir().unwrap();
    let ppm = dir.path().join("a.ppm");
    let header = Header::new(4, 3, 3, BandFormat::U16);
    save(&ppm, &header, &pattern(header.image_bytes() as usize, 1), 8).unwrap();
    let info = describe(&ppm).unwrap();
    assert_eq!(info.format, FileFormat::Pnm);
    assert_eq!(info.variant, "ppm");
    assert_eq!(info.header, header);
    assert_eq!(info.maxval, Some(65535));
    assert_eq!(info.data_offset, b"P6\n4 3\n65535\n".len() as u64);
    assert_eq!(info.file_len, Some(info.data_offset + header.image_bytes()));
    assert_eq!(info.to_string(), "ppm: 4x3 3 bands u16 srgb, maxval 65535");

    // The format comes from the bytes, not the name.
    let disguised = dir.path().join("b.ppm");
    let header = Header::new(2, 2, 2, BandFormat::F32);
    std::fs::write(&disguised, {
        let mut v = gigapix_io::raw::header_bytes(&header).to_vec();
        v.extend(std::iter::repeat_n(0, 32));
        v
    })
    .unwrap();
    let info = describe(&disguised).unwrap();
    assert_eq!(
        (info.format, info.variant, info.header),
        (FileFormat::Raw, "gpx", header)
    );
    assert_eq!(
        *open(&disguised, &OpenOptions::default()).unwrap().header(),
        header
    );
}

#[test]
fn format_from_extension() {
    assert_eq!(format_for_path("a/b.ppm"), Some(FileFormat::Pnm));
    assert_eq!(format_for_path("b.PGM"), Some(FileFormat::Pnm));
    assert_eq!(format_for_path("b.pnm"), Some(FileFormat::Pnm));
    assert_eq!(format_for_path("b.gpx"), Some(FileFormat::Raw));
    assert_eq!(format_for_path("b.png"), Some(FileFormat::Png));
    assert_eq!(format_for_path("b.TIF"), Some(FileFormat::Tiff));
    assert_eq!(format_for_path("b.bmp"), None);
    assert_eq!(format_for_path("ppm"), None);
}
