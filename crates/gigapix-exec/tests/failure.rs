//! Errors, panics and cancellation stop every sink promptly, with no thread
//! left behind. One test per binary file, so the thread census is exact.

mod common;

use std::time::{Duration, Instant};

use common::*;
use gigapix_core::{CancelToken, Discard, ErrorKind, Reducer, Region, Result};
use gigapix_exec::{RunOptions, discard, reduce, write, write_into};

struct Nothing;
impl Reducer for Nothing {
    fn add(&mut self, _: &Region) -> Result<()> {
        Ok(())
    }
    fn merge(&mut self, _: Nothing) {}
}

type Run<'a> = Box<dyn Fn() -> gigapix_core::Result<()> + 'a>;

fn worker_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
                .filter(|c| c.starts_with("gigapix-"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn errors_panics_and_cancel_stop_every_sink() {
    let (w, h) = (500, 4000);
    let slow = Duration::from_millis(2);
    for panic in [false, true] {
        let img = trap(pattern(w, h, 3), (10, 100), panic, slow);
        let opts = RunOptions::new().threads(2);
        let runs: Vec<(&str, Run<'_>)> = vec![
            (
                "write",
                Box::new(|| write(&img, Box::new(Discard), &opts).map(drop)),
            ),
            (
                "write_into",
                Box::new(|| write_into(&img, &mut vec![0; (w * h * 3) as usize], &opts).map(drop)),
            ),
            (
                "reduce",
                Box::new(|| reduce(&img, || Nothing, &opts).map(drop)),
            ),
            ("discard", Box::new(|| discard(&img, &opts).map(drop))),
        ];
        for (name, run) in runs {
            let t = Instant::now();
            let e = run().expect_err(name);
            assert!(
                t.elapsed() < Duration::from_secs(1),
                "{name} took {:?}",
                t.elapsed()
            );
            assert_eq!(e.operation(), Some("trap"), "{name}: {e}");
            assert!(e.rect().is_some(), "{name}: {e}");
            let kind = if panic {
                ErrorKind::Panic
            } else {
                ErrorKind::Format
            };
            assert_eq!(e.kind(), kind, "{name}: {e}");
            assert_eq!(worker_threads(), 0, "{name} left threads running");
        }
    }

    // Cancellation from another thread, mid-run.
    let img = trap(
        pattern(w, 40 * h, 3),
        (-1, -1),
        false,
        Duration::from_millis(10),
    );
    let token = CancelToken::new();
    let t2 = token.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        t2.cancel();
    });
    let t = Instant::now();
    let e = write(
        &img,
        Box::new(Discard),
        &RunOptions::new().threads(2).cancel(token),
    )
    .unwrap_err();
    canceller.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(t.elapsed() < Duration::from_secs(1));
    assert_eq!(worker_threads(), 0);
}
