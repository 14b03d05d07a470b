//! The worker pool of one pass: threads, first-error capture, progress.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use gigapix_core::memory::MemoryTracker;
use gigapix_core::{Ctx, Error, Image, Rect, Result, StopFlags, catch_panic};
use parking_lot::Mutex;

use crate::options::{Order, Progress, ProgressFn};

/// State shared by every thread of a run.
pub(crate) struct Shared {
    pub(crate) flags: StopFlags,
    pub(crate) tracker: MemoryTracker,
    error: Mutex<Option<Error>>,
    done: AtomicU64,
    total: u64,
    progress: Option<ProgressFn>,
}

impl Shared {
    pub(crate) fn new(flags: StopFlags, total: u64, progress: Option<ProgressFn>) -> Shared {
        Shared {
            flags,
            tracker: MemoryTracker::new(),
            error: Mutex::new(None),
            done: AtomicU64::new(0),
            total,
            progress,
        }
    }

    /// Records the first error and stops every worker. Errors that are only
    /// the echo of an earlier one arrive after it and are dropped.
    pub(crate) fn fail(&self, e: Error) {
        let mut slot = self.error.lock();
        if slot.is_none() {
            *slot = Some(e);
        }
        drop(slot);
        self.flags.fail();
    }

    pub(crate) fn take_error(&self) -> Option<Error> {
        self.error.lock().take()
    }

    pub(crate) fn add_done(&self, pixels: u64) {
        self.done.fetch_add(pixels, Ordering::Relaxed);
    }

    pub(crate) fn report_progress(&self) {
        if let Some(p) = &self.progress {
            p(Progress {
                done: self.done.load(Ordering::Relaxed),
                total: self.total,
            });
        }
    }

    /// Runs `f` on the calling thread, capturing its error or panic into
    /// the run (which stops it).
    pub(crate) fn capture<T>(&self, f: impl FnOnce() -> Result<T>) -> Option<T> {
        catch_panic(f).map_err(|e| self.fail(e)).ok()
    }

    /// Runs `body` as one worker of a pass: a fresh per-thread context,
    /// errors and panics captured into the run.
    pub(crate) fn participate<T>(&self, body: impl FnOnce(&mut Ctx) -> Result<T>) -> Option<T> {
        let mut ctx = Ctx::new(self.tracker.clone(), self.flags.clone());
        self.capture(|| body(&mut ctx))
    }

    /// Runs `threads` workers (and `extra`, if given, on one more thread)
    /// inside a scope, reporting progress from the calling thread until all
    /// have finished. Returns each worker's result.
    pub(crate) fn run<T: Send>(
        &self,
        threads: usize,
        worker: impl Fn(&mut Ctx) -> Result<T> + Sync,
        extra: Option<Box<dyn FnOnce() + Send + '_>>,
    ) -> Vec<Option<T>> {
        let (tx, rx) = crossbeam_channel::unbounded::<()>();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let tx = tx.clone();
                    let worker = &worker;
                    std::thread::Builder::new()
                        .name(format!("gigapix-worker-{i}"))
                        .spawn_scoped(s, move || {
                            let _done = Done(tx);
                            self.participate(worker)
                        })
                        .expect("spawn worker thread")
                })
                .collect();
            let writer = extra.map(|extra| {
                let tx = tx.clone();
                std::thread::Builder::new()
                    .name("gigapix-writer".into())
                    .spawn_scoped(s, move || {
                        let _done = Done(tx);
                        extra();
                    })
                    .expect("spawn writer thread")
            });
            drop(tx);
            loop {
                match rx.recv_timeout(Duration::from_millis(100)) {
                    Ok(()) => {}
                    Err(RecvTimeoutError::Timeout) => self.report_progress(),
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            // Joined one by one rather than left to the scope, which only
            // waits for the closures to return: a joined thread is gone
            // from the process when the run returns.
            if let Some(w) = writer {
                let _ = w.join();
            }
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(None))
                .collect()
        })
    }
}

/// Signals, when dropped (even by a panic), that a thread has finished.
struct Done(crossbeam_channel::Sender<()>);

impl Drop for Done {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// Indices `0..n` in the hand-out order `order`.
pub(crate) fn ordered_indices(n: usize, order: Order) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    match order {
        Order::Forward => {}
        Order::Reverse => v.reverse(),
        Order::Shuffle(seed) => {
            let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
            for i in (1..n).rev() {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let j = ((state >> 33) % (i as u64 + 1)) as usize;
                v.swap(i, j);
            }
        }
    }
    v
}

/// Tiles of a band `y..y + rows` of `image`, `tile_w` wide, left to right.
pub(crate) fn band_tiles(
    image: &Image,
    y: i64,
    rows: i64,
    tile_w: u32,
) -> impl Iterator<Item = Rect> {
    let w = image.width() as i64;
    (0..w)
        .step_by(tile_w as usize)
        .map(move |x| Rect::new(x, y, (tile_w as i64).min(w - x), rows))
}

/// Computes the band `y..y + rows` of `image` into `dst` (packed full rows).
pub(crate) fn compute_band(
    shared: &Shared,
    ctx: &mut Ctx,
    image: &Image,
    y: i64,
    rows: i64,
    tile_w: u32,
    dst: &mut [u8],
) -> Result<()> {
    let px = image.header().pixel_bytes();
    let stride = image.header().row_bytes();
    for r in band_tiles(image, y, rows, tile_w) {
        let region = ctx.region(image, r)?;
        region.copy_to(&mut dst[r.x as usize * px..], stride);
        shared.add_done(r.area());
    }
    Ok(())
}

/// Bounds how far ahead of the slowest worker the others may run: work item
/// `pos` (in hand-out order) may start only once every item before
/// `pos - window` has finished. This keeps every worker's requests within
/// a fixed span of rows, which the read-ahead ring of a sequential source
/// and the residency window of a memory map are sized for. The lowest
/// unfinished item never waits, so the gate cannot deadlock.
pub(crate) struct Gate {
    window: usize,
    state: Mutex<GateState>,
    turn: parking_lot::Condvar,
}

struct GateState {
    lowest: usize,
    finished: std::collections::BTreeSet<usize>,
}

impl Gate {
    pub(crate) fn new(window: usize) -> Gate {
        Gate {
            window: window.max(1),
            state: Mutex::new(GateState {
                lowest: 0,
                finished: Default::default(),
            }),
            turn: parking_lot::Condvar::new(),
        }
    }

    /// Waits until item `pos` may start (or the run stops).
    pub(crate) fn wait_turn(&self, pos: usize, flags: &StopFlags) -> Result<()> {
        let mut s = self.state.lock();
        while pos >= s.lowest + self.window {
            flags.check()?;
            self.turn.wait_for(&mut s, Duration::from_millis(20));
        }
        Ok(())
    }

    /// Marks item `pos` finished.
    pub(crate) fn finish(&self, pos: usize) {
        let mut s = self.state.lock();
        s.finished.insert(pos);
        loop {
            let lowest = s.lowest;
            if !s.finished.remove(&lowest) {
                break;
            }
            s.lowest += 1;
        }
        drop(s);
        self.turn.notify_all();
    }
}
