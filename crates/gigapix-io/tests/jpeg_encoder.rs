//! The JPEG saver's own encoder end to end: a multi-strip save (restart
//! markers between strips) decodes, by zune-jpeg in strict mode, to exactly
//! the pixels of MozJPEG's whole-image encode with libjpeg-turbo's settings
//! (`JCP_FASTEST`: what libvips uses) at the same quality and subsampling,
//! and the files differ in size by little more than the markers.
#![cfg(feature = "mozjpeg")]

use gigapix_core::{BandFormat, Header, Metadata};
use gigapix_io::{SaveOptions, writer};
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// A photo-like image: gradients, texture, noise and hard edges.
fn photo(w: usize, h: usize, bands: usize) -> Vec<u8> {
    let mut s = 0x9E37_79B9u32;
    let mut v = Vec::with_capacity(w * h * bands);
    for y in 0..h {
        for x in 0..w {
            for c in 0..bands {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                let fx = x as f64 / 37.0;
                let fy = y as f64 / 23.0;
                let smooth = 128.0 + 90.0 * (fx + c as f64).sin() * (fy - c as f64).cos();
                let edge = if (x / 50 + y / 40) % 7 == 0 {
                    60.0
                } else {
                    0.0
                };
                let noise = f64::from(s >> 27) - 16.0;
                v.push((smooth + edge + noise).clamp(0.0, 255.0) as u8);
            }
        }
    }
    v
}

fn mozjpeg(data: &[u8], w: usize, h: usize, bands: usize, q: u8, samp: (u8, u8)) -> Vec<u8> {
    use mozjpeg::{ColorSpace, Compress};
    let mut c = Compress::new(if bands == 1 {
        ColorSpace::JCS_GRAYSCALE
    } else {
        ColorSpace::JCS_RGB
    });
    c.set_fastest_defaults();
    c.set_size(w, h);
    c.set_quality(f32::from(q));
    if bands == 3 {
        c.set_chroma_sampling_pixel_sizes(samp, samp);
    }
    let mut started = c.start_compress(Vec::new()).unwrap();
    started.write_scanlines(data).unwrap();
    started.finish().unwrap()
}

fn decode(bytes: &[u8], bands: usize) -> Vec<u8> {
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .jpeg_set_out_colorspace(if bands == 1 {
            ColorSpace::Luma
        } else {
            ColorSpace::RGB
        });
    JpegDecoder::new_with_options(ZCursor::new(bytes), options)
        .decode()
        .unwrap()
}

#[test]
fn multi_strip_saves_decode_to_mozjpegs_pixels() {
    let dir = tempfile::tempdir().unwrap();
    // (width, height, bands, Q, subsample, MozJPEG pixel sizes)
    let cases = [
        (1203usize, 1501usize, 3usize, 85u8, "auto", (2u8, 2u8)),
        (1203, 1501, 3, 95, "auto", (1, 1)),
        (999, 1333, 3, 50, "422", (2, 1)),
        (2001, 1999, 1, 75, "auto", (1, 1)),
    ];
    for (w, h, bands, q, sub, samp) in cases {
        let data = photo(w, h, bands);
        let header = Header::new(w as u32, h as u32, bands as u32, BandFormat::U8);
        let path = dir.path().join(format!("e2e-{w}-{q}-{sub}.jpg"));
        let opts = SaveOptions::new().set("Q", q).set("subsample", sub);
        let mut out = writer(&path, &header, &Metadata::default(), &opts).unwrap();
        let row = w * bands;
        let mut y = 0;
        while y < h {
            let rows = 64.min(h - y);
            out.write_band(y as u32, rows as u32, &data[y * row..(y + rows) * row])
                .unwrap();
            y += rows;
        }
        out.finish().unwrap();
        let ours = std::fs::read(&path).unwrap();
        let restarts = ours
            .windows(2)
            .filter(|p| p[0] == 0xFF && (0xD0..=0xD7).contains(&p[1]))
            .count();
        let theirs = mozjpeg(&data, w, h, bands, q, samp);
        let ratio = ours.len() as f64 / theirs.len() as f64;
        println!(
            "{w}x{h}x{bands} Q{q} {sub}: {} bytes, MozJPEG {} ({ratio:.5}), {restarts} restarts",
            ours.len(),
            theirs.len()
        );
        assert!(restarts >= 1, "{restarts} restart markers");
        assert!((ratio - 1.0).abs() < 0.001, "size ratio {ratio}");
        assert!(
            decode(&ours, bands) == decode(&theirs, bands),
            "pixels differ"
        );
    }
}
