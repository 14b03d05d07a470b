//! A DeepZoom pyramid of a generated 100 000 x 100 000 image, in one pass
//! and a bounded amount of memory, written into a zip by default.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example deepzoom
//! cargo run --release -p gigapix-examples --example deepzoom -- /tmp/big.zip 20000 20000 3
//! cargo run --release -p gigapix-examples --example deepzoom -- /tmp/big.dzi
//! ```
//!
//! Arguments: the output (`.zip`, `.szi` or `.dzi`; default
//! `deepzoom.zip` in the temporary directory), the width and height
//! (default 100 000 each) and the bands (1 or 3, default 1). The image is
//! a smooth gradient built from `xyz` (see `gradient`), cast to `u8`. Every level of the pyramid is made from the
//! rows of the one above as they arrive; JPEG tiles (Q 75, 254 pixels with
//! an overlap of 1, libvips' defaults) are encoded on worker threads.
//!
//! The run has a memory budget of 80 MiB (`DEEPZOOM_MEMORY=N` for N MiB):
//! the planner fits the engine's strips around the writer's estimate.
//!
//! Printed: wall time, the tiles the zip holds beside the count the
//! DeepZoom specification gives for the size, and the peak RSS. The
//! memory is a tile row and its overlap per level (levels halving: about
//! `2 * 256 * width * bands` bytes) plus the shrinker's rows.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use gigapix::{BandFormat, Image, RunOptions};
use gigapix_examples::{output_path, peak_rss_text};

const USAGE: &str = "usage: deepzoom [OUT.zip|OUT.dzi] [WIDTH HEIGHT] [BANDS]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let out = output_path(args.first().cloned(), "deepzoom.zip");
    let num = |i: usize, default: u32| -> Option<u32> {
        args.get(i).map_or(Some(default), |s| s.parse().ok())
    };
    let (Some(width), Some(height), Some(bands)) = (num(1, 100_000), num(2, 100_000), num(3, 1))
    else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if !(bands == 1 || bands == 3) || width == 0 || height == 0 {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    match run(&out, width, height, bands) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deepzoom: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The generated image: smooth gradients, so the tiles are small
/// (`x / 400`; in RGB also `y / 400` and `x / 800 + 64`), cast to `u8`.
fn gradient(width: u32, height: u32, bands: u32) -> Image {
    let xy = Image::xyz(width, height);
    let x = xy.extract_band(0, 1).linear(1.0 / 400.0, 0.0);
    if bands == 3 {
        let y = xy.extract_band(1, 1).linear(1.0 / 400.0, 0.0);
        let z = x.linear(0.5, 64.0);
        x.bandjoin(&[y, z]).cast(BandFormat::U8)
    } else {
        x.cast(BandFormat::U8)
    }
}

fn run(out: &Path, width: u32, height: u32, bands: u32) -> gigapix::Result<()> {
    let image = gradient(width, height, bands);
    image.check()?;
    println!("image:  {}", image.header());
    println!("output: {}", out.display());
    let start = Instant::now();
    // A memory budget for the whole run: the planner fits the engine's
    // strips around the pyramid writer's estimate (see `--plan`).
    let budget = std::env::var("DEEPZOOM_MEMORY")
        .ok()
        .and_then(|m| m.parse::<u64>().ok())
        .unwrap_or(80);
    image
        .run(RunOptions::new().memory_budget(budget << 20))
        .save(out)?;
    let wall = start.elapsed().as_secs_f64();
    println!("wall time:  {wall:.1} s");
    // The DeepZoom specification's tile count: levels down to 1x1, tiles
    // of 254 per level.
    let max = f64::from(width.max(height)).log2().ceil() as u32;
    let spec: u64 = (0..=max)
        .map(|l| {
            let s = 1u64 << (max - l);
            let (w, h) = (u64::from(width).div_ceil(s), u64::from(height).div_ceil(s));
            w.div_ceil(254) * h.div_ceil(254)
        })
        .sum();
    if let Some(n) = zip_entries(out) {
        // The entries are the tiles and the .dzi.
        println!(
            "tiles:      {} in the zip (the specification: {spec})",
            n - 1
        );
    } else {
        println!("tiles:      {spec} (the specification's count)");
    }
    println!("peak RSS:   {}", peak_rss_text());
    Ok(())
}

/// The number of entries of a zip, from its end records (ZIP64 when the
/// 16-bit count is saturated); `None` if `path` is not a zip.
fn zip_entries(path: &Path) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let tail_len = len.min(22 + 20 + 56);
    f.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = vec![0u8; tail_len as usize];
    f.read_exact(&mut tail).ok()?;
    let eocd = tail.len().checked_sub(22)?;
    if &tail[eocd..eocd + 4] != b"PK\x05\x06" {
        return None;
    }
    let n16 = u16::from_le_bytes([tail[eocd + 10], tail[eocd + 11]]);
    if n16 != 0xFFFF {
        return Some(u64::from(n16));
    }
    let z64 = eocd.checked_sub(20 + 56)?;
    if &tail[z64..z64 + 4] != b"PK\x06\x06" {
        return None;
    }
    Some(u64::from_le_bytes(
        tail[z64 + 32..z64 + 40].try_into().ok()?,
    ))
}
