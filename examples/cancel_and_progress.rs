//! Progress callbacks, and cancelling a run from another thread.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example cancel_and_progress
//! ```
//!
//! A 40-gigapixel pipeline, minutes of work, is started on the null sink
//! with a progress callback and a cancel token. Another thread cancels it
//! after 200 ms; the run stops within a few regions, every worker thread
//! has finished when it returns, and the error it returns has the kind
//! `ErrorKind::Cancelled`. Nothing is written to disk.

use std::time::{Duration, Instant};

use gigapix::{CancelToken, ErrorKind, Image, RunOptions};

fn main() -> gigapix::Result<()> {
    let start = Instant::now();
    // ANCHOR: cancel
    let image = Image::noise(200_000, 200_000, 3, 1)
        .linear(0.5, 64.0)
        .invert();

    let token = CancelToken::new();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            token.cancel();
        })
    };

    let options = RunOptions::new()
        .cancel(token)
        .progress(|p| eprintln!("progress: {:.3}% ({} pixels)", p.percent(), p.done));
    let result = image.run(options).discard();
    canceller.join().expect("the canceller does not panic");

    match result {
        Err(e) if e.kind() == ErrorKind::Cancelled => println!("stopped: {e}"),
        Err(e) => return Err(e),
        Ok(report) => println!("finished before the cancel: {report}"),
    }
    // ANCHOR_END: cancel
    println!(
        "the run returned {:.0} ms after it started (cancelled at 200 ms)",
        start.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
