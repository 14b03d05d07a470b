//! Timings of the JPEG codec (ignored by default; run with
//! `cargo test --release -p gigapix-io --test jpeg_perf -- --ignored --nocapture`).

use std::time::Instant;

use gigapix_core::{BandFormat, Ctx, Header, Metadata, Rect};
use gigapix_io::{OpenOptions, SaveOptions, open, writer};
use jpeg_encoder::{ColorType, Encoder};
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// Rows of a photo-like test image: gradients, texture and noise.
fn photo_rows(w: usize, y0: usize, rows: usize, out: &mut Vec<u8>) {
    out.clear();
    let mut s = (y0 as u32).wrapping_mul(2654435761) | 1;
    for y in y0..y0 + rows {
        for x in 0..w {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let n = (s & 15) as i32 - 8;
            let t = (((x / 3) ^ (y / 5)) & 31) as i32;
            let r = (x * 255 / w) as i32 + n + t;
            let g = (y % 512) as i32 / 2 + n;
            let b = 128 + ((x as f32 / 40.0).sin() * 60.0) as i32 + t - n;
            out.extend([
                r.clamp(0, 255) as u8,
                g.clamp(0, 255) as u8,
                b.clamp(0, 255) as u8,
            ]);
        }
    }
}

#[test]
#[ignore]
fn decode_timings() {
    let dir = std::env::temp_dir().join("gigapix-jpeg-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let (w, h) = (8000usize, 6000usize);
    let path = dir.join("in-8000x6000.jpg");
    if !path.exists() {
        let mut rgb = Vec::with_capacity(w * h * 3);
        let mut band = Vec::new();
        for y in (0..h).step_by(100) {
            photo_rows(w, y, 100, &mut band);
            rgb.extend_from_slice(&band);
        }
        let mut out = Vec::new();
        Encoder::new(&mut out, 85)
            .encode(&rgb, w as u16, h as u16, ColorType::Rgb)
            .unwrap();
        std::fs::write(&path, out).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    println!("input: {} bytes", bytes.len());

    for _ in 0..2 {
        let t = Instant::now();
        let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
        let mut d = JpegDecoder::new_with_options(ZCursor::new(&bytes), options);
        let pixels = d.decode().unwrap();
        println!(
            "zune-jpeg whole decode: {:?} ({} bytes)",
            t.elapsed(),
            pixels.len()
        );

        let t = Instant::now();
        let image = open(&path, &OpenOptions::default()).unwrap();
        let mut ctx = Ctx::standalone();
        let mut sum = 0u64;
        for y in (0..h).step_by(64) {
            let rows = 64.min(h - y);
            let r = ctx
                .region(&image, Rect::new(0, y as i64, w as i64, rows as i64))
                .unwrap();
            sum += u64::from(r.row_bytes(y as i64)[0]);
        }
        println!(
            "gigapix jpegload (64-row strips): {:?} ({sum})",
            t.elapsed()
        );
    }
}

#[test]
#[ignore]
fn encode_timings() {
    let dir = std::env::temp_dir().join("gigapix-jpeg-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let (w, h) = (10000u32, 10000u32);
    let header = Header::new(w, h, 3, BandFormat::U8);
    let mut bands = Vec::new();
    for y in (0..h as usize).step_by(64) {
        let mut b = Vec::new();
        photo_rows(w as usize, y, 64.min(h as usize - y), &mut b);
        bands.push(b);
    }
    let out_path = dir.join("out-10000.jpg");
    let t = Instant::now();
    let mut out = writer(
        &out_path,
        &header,
        &Metadata::default(),
        &SaveOptions::new().set("Q", 85),
    )
    .unwrap();
    for (i, b) in bands.iter().enumerate() {
        let y = i as u32 * 64;
        out.write_band(y, 64.min(h - y), b).unwrap();
    }
    out.finish().unwrap();
    println!(
        "gigapix jpegsave 10000x10000 Q85: {:?}, {} bytes",
        t.elapsed(),
        std::fs::metadata(&out_path).unwrap().len()
    );
}
