//! Writing an operation of your own: a per-pixel threshold, implemented
//! against the same `Operation` contract as the built-in operations and run
//! by the same engine, on every core.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example custom_operation
//! cargo run --release -p gigapix-examples --example custom_operation -- out.pgm
//! ```
//!
//! The threshold turns a 4000x4000 zone plate into black and white, counts
//! the white pixels through the statistics sink and saves the result as a
//! PGM (in the system's temporary directory unless a path is given). Its
//! per-thread state counts the regions each worker computed and adds them
//! up when the worker drops it, which is the engine's "stop" step. Last,
//! the threshold is applied to a `u32` image, which its header step
//! refuses: the error travels with the image until it is checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use gigapix::core::Inputs;
use gigapix::{BandFormat, DemandHint, Error, Header, Image, Operation, Rect, Region, Result};
use gigapix_examples::output_path;

// ANCHOR: operation
/// `255` where the input is at least `level`, else `0`, for `u8` images of
/// any band count.
struct Threshold {
    level: u8,
    /// Per-thread states started, over all runs.
    starts: Arc<AtomicU64>,
    /// Regions computed, added up as each per-thread state is dropped.
    regions: Arc<AtomicU64>,
}

/// The per-thread state: made by `start`, used by one thread at a time,
/// dropped when the thread is done with the run (the "stop" step). States
/// implement `Default` (operations with nothing to set up keep the default
/// `start`); this one is made by `start`.
#[derive(Default)]
struct Counter {
    regions: u64,
    total: Arc<AtomicU64>,
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.total.fetch_add(self.regions, Ordering::Relaxed);
    }
}

impl Operation for Threshold {
    type State = Counter;

    fn name(&self) -> &'static str {
        "threshold"
    }

    /// Called once, when the node is built: the output header, or the
    /// error the image will carry.
    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let input = inputs[0];
        if input.format != BandFormat::U8 {
            return Err(Error::invalid(
                "threshold",
                format!("needs a u8 image, not {}", input.format),
            ));
        }
        Ok(input)
    }

    /// A point operation: any tile shape suits it (the default).
    fn demand(&self) -> DemandHint {
        DemandHint::Any
    }

    /// Output pixel (x, y) needs input pixel (x, y) (the default).
    fn need(&self, out: Rect, _input: usize, _inputs: &[Header]) -> Rect {
        out
    }

    fn start(&self) -> Result<Counter> {
        self.starts.fetch_add(1, Ordering::Relaxed);
        Ok(Counter {
            regions: 0,
            total: self.regions.clone(),
        })
    }

    fn generate(&self, state: &mut Counter, out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let input = inputs.get(0, inputs.need(out, 0))?;
        // A pooled buffer from this thread's pool: write every pixel.
        let mut output = inputs.alloc(out);
        for y in out.y..out.bottom() {
            let src = input.row::<u8>(y);
            for (d, &s) in output.row_mut::<u8>(y).iter_mut().zip(src) {
                *d = if s >= self.level { 255 } else { 0 };
            }
        }
        state.regions += 1;
        Ok(output)
    }
}
// ANCHOR_END: operation

/// The counters of a [`Threshold`] node, read after a run.
struct Counters {
    starts: Arc<AtomicU64>,
    regions: Arc<AtomicU64>,
}

// ANCHOR: build
/// `image` thresholded at `level`, as a new lazy node of the graph.
fn threshold(image: &Image, level: u8) -> (Image, Counters) {
    let op = Threshold {
        level,
        starts: Arc::default(),
        regions: Arc::default(),
    };
    let counters = Counters {
        starts: op.starts.clone(),
        regions: op.regions.clone(),
    };
    let node = gigapix::core::Image::new(op, vec![image.node().clone()]);
    (Image::from(node), counters)
}
// ANCHOR_END: build

fn main() -> Result<()> {
    let output = output_path(std::env::args().nth(1), "gigapix-threshold.pgm");

    // ANCHOR: use
    let (binary, counters) = threshold(&Image::zone(4000, 4000), 128);
    let white = binary.avg()? / 255.0;
    binary.save(&output)?;
    // ANCHOR_END: use
    println!(
        "threshold of a 4000x4000 zone plate at 128: {:.2}% white, saved to {}",
        white * 100.0,
        output.display()
    );
    println!(
        "two runs (statistics, save): {} per-thread states started, {} regions computed",
        counters.starts.load(Ordering::Relaxed),
        counters.regions.load(Ordering::Relaxed)
    );
    assert!((0.4..0.6).contains(&white), "a zone plate is half bright");

    // ANCHOR: invalid
    // Building never fails; the error is kept in the node and reported by
    // `check` or by any sink, before a pixel is computed.
    let (wrong, _) = threshold(&Image::xyz(100, 100), 128);
    let err = wrong.check().expect_err("xyz is u32");
    println!("threshold of a u32 image: {err}");
    // ANCHOR_END: invalid
    assert_eq!(err.operation(), Some("threshold"));
    Ok(())
}
