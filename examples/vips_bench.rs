//! vips-bench: the benchmark libvips is known by, as a Rust program.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example vips_bench -- IN.tif OUT.tif
//! cargo run --release -p gigapix-examples --example vips_bench
//! ```
//!
//! Crop 100 pixels off every edge, shrink to 90 % with a linear (triangle)
//! kernel widened by the factor, sharpen with the 3x3 mask
//! `-1 -1 -1 / -1 16 -1 / -1 -1 -1` (scale 8), and save — the same
//! pipeline as `vips-bench`'s `vips.py` and as
//!
//! ```text
//! gigapix pipe IN OUT -- crop 100 100 W-200 H-200 : reduce 1.1111111111 kernel=linear : conv sharpen.mat
//! ```
//!
//! Without arguments the input is 5000x5000 RGB noise (nothing to read) and
//! the output `vips_bench.tif` in the temporary directory. The report gives
//! the wall time, the engine's peak pixel memory and the process's peak
//! resident memory.

use std::process::ExitCode;

use gigapix::{Image, Kernel, Matrix, RunOptions};
use gigapix_examples::{megabytes, output_path, peak_rss_text};

// ANCHOR: pipeline
/// The vips-bench pipeline on `input`.
fn vips_bench(input: &Image) -> gigapix::Result<Image> {
    let (w, h) = (input.width(), input.height());
    if w <= 200 || h <= 200 {
        return Err(gigapix::Error::new(
            gigapix::ErrorKind::InvalidArgument,
            format!("vips-bench needs an image larger than 200x200, not {w}x{h}"),
        ));
    }
    let mask = Matrix::new(
        3,
        3,
        vec![-1.0, -1.0, -1.0, -1.0, 16.0, -1.0, -1.0, -1.0, -1.0],
    )?
    .with_scale(8.0);
    Ok(input
        .crop(100, 100, w - 200, h - 200)
        .reduce_with(1.0 / 0.9, 1.0 / 0.9, Kernel::Linear)
        .conv(&mask))
}
// ANCHOR_END: pipeline

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let input = args.next();
    let output = output_path(args.next(), "vips_bench.tif");
    let image = match &input {
        Some(path) => match Image::open(path) {
            Ok(image) => image,
            Err(e) => {
                eprintln!("vips_bench: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => Image::noise(5000, 5000, 3, 1),
    };
    let result = vips_bench(&image).and_then(|out| out.run(RunOptions::new()).save(&output));
    match result {
        Ok(report) => {
            println!(
                "vips-bench: {} -> {} in {:.2} s, peak pixel memory {}, {}",
                input.as_deref().unwrap_or("noise 5000x5000x3"),
                output.display(),
                report.elapsed.as_secs_f64(),
                megabytes(report.peak_pixel_bytes),
                peak_rss_text()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vips_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
