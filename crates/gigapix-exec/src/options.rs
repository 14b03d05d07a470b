//! Options and reports of a run.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use gigapix_core::CancelToken;

/// How far a run has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Pixels computed so far (caches filled before the main pass count).
    pub done: u64,
    /// Pixels the run will compute in all.
    pub total: u64,
}

impl Progress {
    /// Percentage done, 0 to 100.
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            self.done as f64 * 100.0 / self.total as f64
        }
    }
}

/// A callback receiving [`Progress`] from the run's coordinating thread,
/// about ten times a second and once at the end.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// The order in which a sink hands out regions. Output never depends on
/// it; it exists so tests can prove that.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Order {
    /// Top to bottom, left to right.
    #[default]
    Forward,
    /// Bottom to top, right to left.
    Reverse,
    /// A seeded pseudo-random permutation.
    Shuffle(u64),
}

/// Options of one run. `Default` gives: threads from `GIGAPIX_CONCURRENCY`
/// or the available parallelism, geometry from the graph, no cancellation,
/// no progress callback, in-memory caches up to 100 MB.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct RunOptions {
    /// Worker threads; `None` for the default.
    pub threads: Option<usize>,
    /// Forced tile size `(width, height)`; `None` to derive it from the
    /// graph's demand hints.
    pub tile: Option<(u32, u32)>,
    /// Cancels the run from another thread.
    pub cancel: CancelToken,
    /// Receives progress.
    pub progress: Option<ProgressFn>,
    /// Region hand-out order (a testing knob).
    pub order: Order,
    /// Caches the planner inserts are kept in memory up to this many bytes,
    /// beyond it in a memory-mapped temporary file. `None`: 100 MB.
    pub memory_cache_limit: Option<u64>,
    /// Peak memory the run must fit in (bytes, process RSS as estimated by
    /// the memory plan): the planner shrinks strips, uses fewer threads
    /// and puts caches on disk until the estimate fits, or refuses the run
    /// before any work. `None`: no budget.
    pub memory_budget: Option<u64>,
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("threads", &self.threads)
            .field("tile", &self.tile)
            .field("order", &self.order)
            .field("memory_cache_limit", &self.memory_cache_limit)
            .field("memory_budget", &self.memory_budget)
            .finish_non_exhaustive()
    }
}

impl RunOptions {
    /// Default options.
    pub fn new() -> RunOptions {
        RunOptions::default()
    }

    /// Sets the number of worker threads (at least 1).
    pub fn threads(mut self, n: usize) -> RunOptions {
        self.threads = Some(n.max(1));
        self
    }

    /// Forces the tile size.
    pub fn tile(mut self, width: u32, height: u32) -> RunOptions {
        self.tile = Some((width.max(1), height.max(1)));
        self
    }

    /// Sets the cancellation token.
    pub fn cancel(mut self, token: CancelToken) -> RunOptions {
        self.cancel = token;
        self
    }

    /// Sets the progress callback.
    pub fn progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> RunOptions {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Sets the region hand-out order.
    pub fn order(mut self, order: Order) -> RunOptions {
        self.order = order;
        self
    }

    /// Sets the in-memory cache limit in bytes.
    pub fn memory_cache_limit(mut self, bytes: u64) -> RunOptions {
        self.memory_cache_limit = Some(bytes);
        self
    }

    /// Sets the memory budget in bytes (see
    /// [`memory_budget`](RunOptions::memory_budget)).
    pub fn memory_budget(mut self, bytes: u64) -> RunOptions {
        self.memory_budget = Some(bytes);
        self
    }

    pub(crate) fn thread_count(&self) -> usize {
        self.threads.unwrap_or_else(default_threads)
    }
}

pub use gigapix_core::default_threads;

/// What a finished run measured.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunReport {
    /// Wall time.
    pub elapsed: Duration,
    /// Worker threads used.
    pub threads: usize,
    /// Pixels of the output.
    pub pixels: u64,
    /// Tile size used for the output `(width, height)`.
    pub tile: (u32, u32),
    /// High-water mark of pixel memory: region buffers, sink buffers and
    /// in-memory caches.
    pub peak_pixel_bytes: u64,
    /// Pixel buffers allocated (not recycled) during the run; it does not
    /// grow with the image's height.
    pub pixel_allocations: u64,
    /// Caches the planner inserted (in front of out-of-order reads of
    /// sequential sources).
    pub caches: usize,
    /// Warnings raised during the run (each once): damage in a file read
    /// with `fail_on=none`, for instance.
    pub warnings: Vec<String>,
}

impl RunReport {
    /// Output megapixels per second of wall time.
    pub fn megapixels_per_second(&self) -> f64 {
        self.pixels as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.3} s, {:.1} Mpx/s, {} thread{}, tiles {}x{}, peak pixel memory {:.1} MB",
            self.elapsed.as_secs_f64(),
            self.megapixels_per_second(),
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.tile.0,
            self.tile.1,
            self.peak_pixel_bytes as f64 / 1e6
        )?;
        if self.caches > 0 {
            write!(
                f,
                ", {} cache{}",
                self.caches,
                if self.caches == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}
