//! The gigapixel job: 2.5 gigapixels of synthetic RGB noise through a
//! five-step pipeline, every pixel computed, in a few megabytes of memory.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example gigapixel
//! cargo run --release -p gigapix-examples --example gigapixel -- 20000 10000 --threads 2
//! GIGAPIX_CONCURRENCY=1 cargo run --release -p gigapix-examples --example gigapixel
//! ```
//!
//! The pipeline is `noise` 50000x50000x3 → `linear 1.1 5` → `invert` →
//! `crop 7 7 49900 49900` → `flip horizontal` → the null sink, which pulls
//! every pixel and keeps none. The optional `WIDTH HEIGHT` change the size
//! of the noise (the crop always drops 7 pixels at the top and left, 93 at
//! the bottom and right); `--threads N`, or the environment variable
//! `GIGAPIX_CONCURRENCY`, sets the number of worker threads (default: the
//! available cores).
//!
//! Progress goes to stderr, at most once a second. The report goes to
//! stdout: megapixels, wall time, throughput, threads, tile size, the
//! engine's peak pixel memory and the process's peak resident memory.
//! No file is read or written.

use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use gigapix::{Direction, Image, Progress, RunOptions};
use gigapix_examples::{megabytes, peak_rss_text};

const USAGE: &str = "usage: gigapixel [WIDTH HEIGHT] [--threads N]";

/// The command line.
struct Args {
    width: u32,
    height: u32,
    threads: Option<usize>,
}

impl Args {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut sizes = Vec::new();
        let mut threads = None;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--threads" | "-j" => {
                    let n = args.next().ok_or("--threads needs a number")?;
                    threads = Some(positive(&n, "--threads")?);
                }
                _ => match arg.strip_prefix("--threads=") {
                    Some(n) => threads = Some(positive(n, "--threads")?),
                    None => sizes.push(positive(&arg, "the size")?),
                },
            }
        }
        let (width, height) = match sizes[..] {
            [] => (50_000, 50_000),
            [w, h] => (w, h),
            _ => return Err("give both WIDTH and HEIGHT, or neither".into()),
        };
        let side = |n: usize| u32::try_from(n).ok().filter(|&n| n > 100);
        match (side(width), side(height)) {
            (Some(width), Some(height)) => Ok(Args {
                width,
                height,
                threads,
            }),
            _ => Err(format!(
                "WIDTH and HEIGHT must be above 100 and below 2^32, not {width}x{height}"
            )),
        }
    }
}

fn positive(s: &str, what: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{what}: `{s}` is not a positive number"))
}

fn main() -> ExitCode {
    if std::env::args().any(|a| a == "-h" || a == "--help") {
        println!("The gigapixel pipeline on synthetic noise.\n{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("gigapixel: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gigapixel: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> gigapix::Result<()> {
    let (width, height) = (args.width, args.height);

    // ANCHOR: pipeline
    // Building the graph computes headers only: no pixel exists yet.
    let image = Image::noise(width, height, 3, 42)
        .linear(1.1, 5.0)
        .invert()
        .crop(7, 7, width - 100, height - 100)
        .flip(Direction::Horizontal);
    // ANCHOR_END: pipeline
    image.check()?;

    println!(
        "pipeline: noise {width}x{height}x3 -> linear 1.1 5 -> invert -> crop 7 7 {} {} \
         -> flip horizontal -> null sink",
        width - 100,
        height - 100
    );
    println!("output:   {}", image.header());

    // ANCHOR: run
    let mut options = RunOptions::new().progress(progress_to_stderr());
    if let Some(n) = args.threads {
        // Otherwise GIGAPIX_CONCURRENCY, or every available core.
        options = options.threads(n);
    }
    // The null sink: every pixel is computed, none is kept.
    let report = image.run(options).discard()?;
    // ANCHOR_END: run

    println!("megapixels:        {:.1}", report.pixels as f64 / 1e6);
    println!("wall time:         {:.3} s", report.elapsed.as_secs_f64());
    println!(
        "throughput:        {:.1} Mpx/s",
        report.megapixels_per_second()
    );
    println!("threads:           {}", report.threads);
    println!("tile:              {}x{}", report.tile.0, report.tile.1);
    println!("peak pixel memory: {}", megabytes(report.peak_pixel_bytes));
    println!("peak RSS:          {}", peak_rss_text());
    Ok(())
}

// ANCHOR: progress
/// A progress callback printing the percentage done to stderr, at most once
/// a second, and 100% once at the end. The engine calls it from the thread
/// that started the run, about ten times a second.
fn progress_to_stderr() -> impl Fn(Progress) + Send + Sync + 'static {
    // When we last printed, and whether 100% has been printed.
    let state = Mutex::new((None::<Instant>, false));
    move |p: Progress| {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        let (last, finished) = &mut *state;
        let complete = p.done >= p.total;
        let due = last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if (due || complete) && !*finished {
            eprintln!("progress: {:5.1}%", p.percent());
            *last = Some(Instant::now());
            *finished = complete;
        }
    }
}
// ANCHOR_END: progress
