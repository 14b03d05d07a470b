//! The memory plan: made without computing a pixel, budgets fitted or
//! refused before any work, and the estimate of the tracked pixel memory
//! against what the engine measures.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::*;
use gigapix_core::{
    BandFormat, Discard, ErrorKind, Header, Image, Inputs, Operation, Rect, Region, Result,
};
use gigapix_exec::{BASELINE_BYTES, CacheLocation, RunOptions, SinkKind, discard, plan, write};

/// A source of zeros counting the pixels it computes.
struct Counting {
    header: Header,
    computed: Arc<AtomicU64>,
}

impl Operation for Counting {
    type State = ();
    fn name(&self) -> &'static str {
        "counting"
    }
    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.header)
    }
    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        self.computed.fetch_add(out.area(), Ordering::Relaxed);
        let mut r = inputs.alloc(out);
        for y in out.y..out.bottom() {
            r.row_mut::<u8>(y).fill(0);
        }
        Ok(r)
    }
}

fn counting(w: u32, h: u32) -> (Image, Arc<AtomicU64>) {
    let computed = Arc::new(AtomicU64::new(0));
    let op = Counting {
        header: Header::new(w, h, 3, BandFormat::U8),
        computed: computed.clone(),
    };
    (Image::new(op, vec![]), computed)
}

fn no_codec(_: u32) -> u64 {
    0
}

#[test]
fn a_plan_computes_no_pixel() {
    // 3 TB of output: only a plan can return at once.
    let (src, computed) = counting(1_000_000, 1_000_000);
    let image = Image::new(VSum3, vec![Image::new(FlipV, vec![src])]);
    let opts = RunOptions::new().threads(3);
    let p = plan(&image, &opts, SinkKind::Ordered, &|rows| 1000 * rows as u64).unwrap();
    assert_eq!(computed.load(Ordering::Relaxed), 0);
    assert_eq!(p.threads, 3);
    assert_eq!(p.tile.0, 1_000_000);
    assert_eq!(p.output.width, 1_000_000);
    // Output first, then its inputs.
    let names: Vec<&str> = p.nodes.iter().map(|n| n.name).collect();
    assert_eq!(names, ["vsum3", "flipv", "counting"]);
    assert_eq!(p.nodes[0].depth, 0);
    assert_eq!(p.nodes[2].depth, 2);
    // The sum reads a row above and below each strip.
    assert_eq!(p.nodes[1].request.height, p.tile.1 as i64 + 2);
    // Region buffers: each node's request, three bytes a pixel, per thread.
    let per_thread: u64 = p.nodes.iter().map(|n| n.request.area() * 3).sum();
    assert_eq!(p.region_bytes, 3 * per_thread);
    let band = p.tile.1 as u64 * 3_000_000;
    assert_eq!(p.sink_bytes, 5 * band);
    assert_eq!(p.codec_bytes, 1000 * p.tile.1 as u64);
    assert!(p.estimated_peak_bytes() > BASELINE_BYTES + p.region_bytes);
    let text = p.to_string();
    assert!(text.contains("estimated peak memory"), "{text}");
    assert!(text.contains("vsum3 1000000x1000000"), "{text}");
}

#[test]
fn caches_are_planned_where_they_live() {
    // A flip of a sequential source needs a cache: 300 KB in memory under
    // the default limit, on disk above a limit of 1000 bytes.
    let image = Image::new(FlipV, vec![sequential_pattern(500, 200, 3)]);
    let p = plan(
        &image,
        &RunOptions::new().threads(2),
        SinkKind::Reduce,
        &no_codec,
    )
    .unwrap();
    assert_eq!(p.caches.len(), 1);
    assert_eq!(p.caches[0].location, CacheLocation::Memory);
    assert_eq!(p.caches[0].bytes, 300_000);
    assert_eq!(p.cache_bytes, 300_000);
    let opts = RunOptions::new().threads(2).memory_cache_limit(1000);
    let p = plan(&image, &opts, SinkKind::Reduce, &no_codec).unwrap();
    assert_eq!(p.caches[0].location, CacheLocation::Disk);
    assert!(p.to_string().contains("on disk"));
}

#[test]
fn a_budget_too_small_is_refused_before_any_work() {
    let (src, computed) = counting(4000, 3000);
    let image = Image::new(VSum3, vec![src]);
    let opts = RunOptions::new().threads(2).memory_budget(1_000_000);
    let err = discard(&image, &opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    let msg = err.to_string();
    assert!(msg.contains("over the memory budget of 1.0 MB"), "{msg}");
    assert!(
        msg.contains("the smallest plan (1 thread, tiles 4000x8)"),
        "{msg}"
    );
    let err = write(&image, Box::new(Discard), &opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert_eq!(computed.load(Ordering::Relaxed), 0);
    // The plan gives the same answer.
    assert!(plan(&image, &opts, SinkKind::Reduce, &no_codec).is_err());
}

#[test]
fn a_budget_shrinks_the_plan_until_it_fits() {
    let (src, computed) = counting(4000, 3000);
    let image = Image::new(VSum3, vec![src]);
    let free = plan(
        &image,
        &RunOptions::new().threads(2),
        SinkKind::Ordered,
        &no_codec,
    )
    .unwrap();
    let budget = free.estimated_peak_bytes() - 1;
    let opts = RunOptions::new().threads(2).memory_budget(budget);
    let fitted = plan(&image, &opts, SinkKind::Ordered, &no_codec).unwrap();
    assert!(fitted.estimated_peak_bytes() <= budget);
    assert_eq!(fitted.budget, Some(budget));
    // Shorter strips first, threads kept.
    assert_eq!(fitted.threads, 2);
    assert!(fitted.tile.1 < free.tile.1, "{fitted}");
    assert_eq!(computed.load(Ordering::Relaxed), 0);
    let report = write(&image, Box::new(Discard), &opts).unwrap();
    assert_eq!(report.tile, fitted.tile);
    assert!(computed.load(Ordering::Relaxed) >= 4000 * 3000);
    let (est, got) = (
        (fitted.tracked_pixel_bytes() + BASELINE_BYTES) as f64,
        (report.peak_pixel_bytes + BASELINE_BYTES) as f64,
    );
    assert!((0.75..=1.25).contains(&(est / got)), "{report}\n{fitted}");
}

/// `estimate / measured` of the tracked pixel memory plus the baseline.
fn ratio(image: &Image, threads: usize, ordered: bool) -> f64 {
    let opts = RunOptions::new().threads(threads);
    let (kind, report) = if ordered {
        (
            SinkKind::Ordered,
            write(image, Box::new(Discard), &opts).unwrap(),
        )
    } else {
        (SinkKind::Reduce, discard(image, &opts).unwrap())
    };
    let p = plan(image, &opts, kind, &no_codec).unwrap();
    assert_eq!(p.tile, report.tile);
    let est = (p.tracked_pixel_bytes() + BASELINE_BYTES) as f64;
    est / (report.peak_pixel_bytes + BASELINE_BYTES) as f64
}

#[test]
fn the_estimate_is_within_a_quarter_of_the_tracked_peak() {
    for threads in [1, 2, 4] {
        for ordered in [false, true] {
            let flip = Image::new(FlipV, vec![pattern(3000, 2000, 3)]);
            let sum = Image::new(VSum3, vec![Image::new(VSum3, vec![pattern(5000, 3000, 1)])]);
            let cached = Image::new(FlipV, vec![sequential_pattern(2000, 1500, 3)]);
            for (name, image) in [("flip", flip), ("vsum3 x2", sum), ("cached flip", cached)] {
                let r = ratio(&image, threads, ordered);
                assert!(
                    (0.75..=1.25).contains(&r),
                    "{name}, {threads} threads, ordered {ordered}: ratio {r:.2}"
                );
            }
        }
    }
}
