//! Memory bounds: peak pixel memory and peak resident memory of a pipeline
//! do not grow with the image's height. One test in this binary, so the
//! process's peak RSS (VmHWM) belongs to it alone.

use gigapix::core::Discard;
use gigapix::{Direction, Image, RunOptions};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn pipeline(height: u32) -> Image {
    Image::noise(20_000, height, 3, 9)
        .linear(1.1, 5.0)
        .invert()
        .crop(7, 7, 19_900, height - 14)
        .flip(Direction::Horizontal)
}

#[test]
fn memory_does_not_grow_with_height() {
    let opts = || RunOptions::new().threads(2);
    let short = pipeline(1_000)
        .run(opts())
        .write_to(Box::new(Discard))
        .unwrap();
    // 20000 x 6000 x 3 = 360 MB of pixels.
    let tall = pipeline(6_000)
        .run(opts())
        .write_to(Box::new(Discard))
        .unwrap();
    let nul = pipeline(6_000).run(opts()).discard().unwrap();
    assert_eq!(
        tall.peak_pixel_bytes, short.peak_pixel_bytes,
        "{tall} vs {short}"
    );
    assert!(tall.peak_pixel_bytes < 16_000_000, "{tall}");
    assert!(nul.peak_pixel_bytes < 16_000_000, "{nul}");
    if let Some(kib) = peak_rss_kib() {
        assert!(kib < 64 * 1024, "peak RSS {kib} KiB for a 360 MB image");
    }
}
