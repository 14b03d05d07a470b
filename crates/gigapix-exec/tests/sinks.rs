//! The sinks against a reference, for every thread count, tile size and
//! order; planning of caches in front of sequential sources.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::*;
use gigapix_core::{BandWriter, Image, Reducer, Region, Result};
use gigapix_exec::{Order, RunOptions, discard, reduce, write, write_into};
use parking_lot::Mutex;

fn flipped(bytes: &[u8], w: u32, h: u32, bands: u32) -> Vec<u8> {
    let row = (w * bands) as usize;
    (0..h as usize)
        .rev()
        .flat_map(|y| bytes[y * row..(y + 1) * row].to_vec())
        .collect()
}

/// Collects bands, checking they arrive in order and once.
struct Collect(Arc<Mutex<Vec<u8>>>, u32);

impl BandWriter for Collect {
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        assert_eq!(y, self.1, "bands arrive top to bottom");
        self.1 += rows;
        self.0.lock().extend_from_slice(data);
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

fn all_options() -> Vec<RunOptions> {
    let mut v = Vec::new();
    for threads in [1, 2, 3] {
        for tile in [None, Some((7, 5)), Some((64, 1)), Some((1000, 1000))] {
            for order in [Order::Forward, Order::Reverse, Order::Shuffle(9)] {
                let mut o = RunOptions::new().threads(threads).order(order);
                if let Some((w, h)) = tile {
                    o = o.tile(w, h);
                }
                v.push(o);
            }
        }
    }
    v
}

#[test]
fn memory_and_ordered_sinks_match_reference() {
    let (w, h, b) = (53, 41, 3);
    let want = pattern_bytes(w, h, b);
    for opts in all_options() {
        let mut got = vec![0; want.len()];
        write_into(&pattern(w, h, b), &mut got, &opts).unwrap();
        assert_eq!(got, want, "{opts:?}");
        let sink = Arc::new(Mutex::new(Vec::new()));
        write(&pattern(w, h, b), Box::new(Collect(sink.clone(), 0)), &opts).unwrap();
        assert_eq!(*sink.lock(), want, "{opts:?}");
    }
}

struct Sum(u64, u64);
impl Reducer for Sum {
    fn add(&mut self, r: &Region) -> Result<()> {
        for y in r.rect().y..r.rect().bottom() {
            self.0 += r.row::<u8>(y).iter().map(|&v| v as u64).sum::<u64>();
        }
        self.1 += r.rect().area();
        Ok(())
    }
    fn merge(&mut self, o: Sum) {
        self.0 += o.0;
        self.1 += o.1;
    }
}

#[test]
fn reduce_sees_every_pixel_once() {
    let (w, h, b) = (100, 77, 2);
    let want: u64 = pattern_bytes(w, h, b).iter().map(|&v| v as u64).sum();
    for opts in all_options() {
        let (s, report) = reduce(&pattern(w, h, b), || Sum(0, 0), &opts).unwrap();
        assert_eq!((s.0, s.1), (want, (w * h) as u64), "{opts:?}");
        assert_eq!(report.pixels, (w * h) as u64);
    }
}

#[test]
fn sequential_source_gets_a_cache_before_a_flip() {
    let (w, h, b) = (37, 300, 3);
    let want = flipped(&pattern_bytes(w, h, b), w, h, b);
    for limit in [u64::MAX, 0] {
        for threads in [1, 2] {
            let img = Image::new(FlipV, vec![sequential_pattern(w, h, b)]);
            let opts = RunOptions::new().threads(threads).memory_cache_limit(limit);
            let mut got = vec![0; want.len()];
            let report = write_into(&img, &mut got, &opts).unwrap();
            assert_eq!(report.caches, 1);
            assert_eq!(got, want);
            // The ordered sink too, and a second run of the same graph.
            let sink = Arc::new(Mutex::new(Vec::new()));
            write(&img, Box::new(Collect(sink.clone(), 0)), &opts).unwrap();
            assert_eq!(*sink.lock(), want);
        }
    }
}

#[test]
fn sequential_source_read_in_order_needs_no_cache() {
    let (w, h, b) = (37, 300, 1);
    let want = pattern_bytes(w, h, b);
    for threads in [1, 2, 4] {
        let mut got = vec![0; want.len()];
        let report = write_into(
            &sequential_pattern(w, h, b),
            &mut got,
            &RunOptions::new().threads(threads),
        )
        .unwrap();
        assert_eq!(report.caches, 0);
        assert_eq!(got, want);
        // Any other order is planned, not an error.
        let opts = RunOptions::new().threads(threads).order(Order::Shuffle(3));
        write_into(&sequential_pattern(w, h, b), &mut got, &opts).unwrap();
        assert_eq!(got, want);
    }
}

#[test]
fn progress_reaches_total_and_memory_is_reported() {
    let seen = Arc::new(AtomicU64::new(0));
    let s = seen.clone();
    let opts = RunOptions::new().threads(2).progress(move |p| {
        assert!(p.done <= p.total);
        s.store(p.done, Ordering::Relaxed);
    });
    let report = discard(&pattern(300, 200, 3), &opts).unwrap();
    assert_eq!(seen.load(Ordering::Relaxed), 300 * 200);
    assert!(report.peak_pixel_bytes > 0);
}

#[test]
fn peak_memory_does_not_depend_on_height() {
    let peak = |h| {
        let opts = RunOptions::new().threads(2);
        let w = write(&pattern(2000, h, 3), Box::new(gigapix_core::Discard), &opts).unwrap();
        let d = discard(&pattern(2000, h, 3), &opts).unwrap();
        w.peak_pixel_bytes.max(d.peak_pixel_bytes)
    };
    let small = peak(10_000);
    let tall = peak(200_000);
    assert!(tall <= small, "peak {tall} for a tall image vs {small}");
    assert!(tall < 16 << 20, "peak {tall}");
}

#[test]
fn area_operations_get_margins_and_taller_strips() {
    let (w, h, b) = (45, 260, 2);
    let want = vsum3_ref(&pattern_bytes(w, h, b), (w * b) as usize, h as usize);
    let stacked = |src: Image| (0..12).fold(src, |img, _| Image::new(VSum3, vec![img]));
    let mut want12 = pattern_bytes(w, h, b);
    for _ in 0..12 {
        want12 = vsum3_ref(&want12, (w * b) as usize, h as usize);
    }
    for opts in all_options() {
        let mut got = vec![0; want.len()];
        write_into(&Image::new(VSum3, vec![pattern(w, h, b)]), &mut got, &opts).unwrap();
        assert_eq!(got, want, "{opts:?}");
        // Twelve in a row over a sequential source: the read-ahead covers
        // the accumulated margin, and no cache is needed in forward order.
        let report = write_into(&stacked(sequential_pattern(w, h, b)), &mut got, &opts).unwrap();
        assert_eq!(got, want12, "{opts:?}");
        if opts.order == Order::Forward {
            assert_eq!(report.caches, 0);
        }
    }
    // A 12-row margin on each side makes strips at least 4 x 24 rows high.
    let report = discard(&stacked(pattern(2000, 5000, 3)), &RunOptions::new()).unwrap();
    assert!(report.tile.1 >= 96, "{report}");
}
