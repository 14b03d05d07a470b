//! Measures the PNG saver's compression levels and the loader's speed on a
//! natural-looking 4000x4000 RGB image. Ignored by default; run with
//!
//! ```text
//! cargo test --release -p gigapix-io --test png_bench -- --ignored --nocapture
//! ```
//!
//! Level 6 with the adaptive filter stands in for libvips' default
//! `pngsave` (zlib level 6, libpng's adaptive filter choice).

use std::path::Path;
use std::time::Instant;

use gigapix_core::{BandFormat, Header, Metadata};
use gigapix_io::{OpenOptions, SaveOptions, open, writer};

/// Smooth gradients and waves, sensor-like noise of `noise` levels peak
/// to peak, a zone plate in one quarter and, if `texture`, a strongly
/// textured band at the bottom.
fn natural(w: usize, h: usize, noise: f32, texture: bool) -> Vec<u8> {
    let mut v = vec![0u8; w * h * 3];
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    for y in 0..h {
        for x in 0..w {
            let fx = x as f32 / w as f32;
            let fy = y as f32 / h as f32;
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let n = ((s >> 40) & 0xFF) as f32 / 255.0;
            let noise = (n - 0.5) * noise;
            let mut r = 90.0 + 100.0 * fx + 30.0 * (fy * 7.0).sin();
            let mut g = 60.0 + 120.0 * fy + 25.0 * (fx * 5.0 + fy * 3.0).cos();
            let mut b = 140.0 - 80.0 * fx * fy + 20.0 * (fx * 11.0).sin();
            if x > w / 2 && y < h / 2 {
                let dx = (x as f32 - 0.75 * w as f32) / w as f32;
                let dy = (y as f32 - 0.25 * h as f32) / h as f32;
                let z = 60.0 * ((dx * dx + dy * dy) * 2000.0).cos();
                r += z;
                g += z;
                b += z;
            }
            let tex = if texture && y > 3 * h / 4 {
                (n - 0.5) * 40.0
            } else {
                0.0
            };
            let p = (y * w + x) * 3;
            v[p] = (r + noise + tex).clamp(0.0, 255.0) as u8;
            v[p + 1] = (g + noise * 0.8 + tex).clamp(0.0, 255.0) as u8;
            v[p + 2] = (b + noise * 1.2 + tex).clamp(0.0, 255.0) as u8;
        }
    }
    v
}

/// Saves in bands of 64 rows; returns (seconds, bytes).
fn save(path: &Path, header: &Header, data: &[u8], options: &SaveOptions) -> (f64, u64) {
    let t = Instant::now();
    let mut w = writer(path, header, &Metadata::default(), options).unwrap();
    let row = header.row_bytes();
    for (i, band) in data.chunks(row * 64).enumerate() {
        w.write_band(i as u32 * 64, (band.len() / row) as u32, band)
            .unwrap();
    }
    w.finish().unwrap();
    (
        t.elapsed().as_secs_f64(),
        std::fs::metadata(path).unwrap().len(),
    )
}

#[test]
#[ignore]
fn compression_levels_and_load_speed() {
    let dir = tempfile::tempdir().unwrap();
    let header = Header::new(4000, 4000, 3, BandFormat::U8);
    let path = dir.path().join("bench.png");
    for (noise, texture) in [(6.0, true), (6.0, false), (2.0, false), (0.0, false)] {
        println!("image: noise {noise}, textured band {texture}");
        let data = natural(4000, 4000, noise, texture);
        let (_, reference) = save(
            &path,
            &header,
            &data,
            &SaveOptions::new().set("compression", 6),
        );
        for level in ["default", "1", "2", "3", "5", "6"] {
            let options = if level == "default" {
                SaveOptions::new()
            } else {
                SaveOptions::new().set("compression", level)
            };
            let (secs, bytes) = save(&path, &header, &data, &options);
            println!(
                "  compression {level:8} {bytes:>10} bytes ({:+5.1} %)  {secs:.3} s",
                (bytes as f64 / reference as f64 - 1.0) * 100.0
            );
        }
    }
    let t = Instant::now();
    let image = open(&path, &OpenOptions::default()).unwrap();
    let mut ctx = gigapix_core::Ctx::standalone();
    for y in (0..4000).step_by(64) {
        let rows = 64.min(4000 - y);
        ctx.region(&image, gigapix_core::Rect::new(0, y, 4000, rows))
            .unwrap();
    }
    println!("load (level 6 file): {:.3} s", t.elapsed().as_secs_f64());
}
