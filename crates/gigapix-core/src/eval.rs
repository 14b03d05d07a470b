//! Evaluating regions of a graph on one thread.

use std::any::Any;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::memory::{BufferPool, MemoryTracker};
use crate::{BandFormat, Error, ErrorKind, Header, Image, Rect, Region, Result};

/// Cancels a run from any thread. Cheap to clone; clones share the flag.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Asks every run holding this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// `true` once [`cancel`](CancelToken::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The flags every worker of a run checks: the user's cancel token, and the
/// run's own stop flag, raised by the first error. They also collect the
/// run's warnings (a damaged file read with `fail_on=none`).
#[derive(Clone, Debug, Default)]
pub struct StopFlags {
    cancel: CancelToken,
    failed: Arc<AtomicBool>,
    warnings: Arc<parking_lot::Mutex<Vec<String>>>,
}

impl StopFlags {
    /// Flags watching `cancel`.
    pub fn new(cancel: CancelToken) -> StopFlags {
        StopFlags {
            cancel,
            failed: Arc::default(),
            warnings: Arc::default(),
        }
    }

    /// Raises the stop flag (an error happened somewhere).
    pub fn fail(&self) {
        self.failed.store(true, Ordering::Relaxed);
    }

    /// Records a warning for the run's report (each distinct text once).
    pub fn warn(&self, message: String) {
        let mut w = self.warnings.lock();
        if !w.contains(&message) {
            w.push(message);
        }
    }

    /// The warnings recorded so far.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().clone()
    }

    /// `Err` if the run must stop: cancelled, or failed elsewhere.
    pub fn check(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            Err(Error::new(ErrorKind::Cancelled, "run cancelled"))
        } else if self.failed.load(Ordering::Relaxed) {
            Err(Error::new(
                ErrorKind::Cancelled,
                "run stopped by an error elsewhere",
            ))
        } else {
            Ok(())
        }
    }
}

/// Per-thread evaluation context: the per-node states of one worker, its
/// buffer pool and the run's stop flags.
///
/// A sink makes one per worker and calls [`region`](Ctx::region) for each
/// tile; operations see it through [`Inputs`].
pub struct Ctx {
    states: HashMap<u64, Box<dyn Any + Send>>,
    pool: BufferPool,
    flags: StopFlags,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("states", &self.states.len())
            .finish()
    }
}

impl Ctx {
    /// A context whose buffers are counted by `tracker`.
    pub fn new(tracker: MemoryTracker, flags: StopFlags) -> Ctx {
        Ctx {
            states: HashMap::new(),
            pool: BufferPool::new(tracker),
            flags,
        }
    }

    /// A context for one-off use on the calling thread (tests, tools).
    pub fn standalone() -> Ctx {
        Ctx::new(MemoryTracker::new(), StopFlags::default())
    }

    /// This worker's buffer pool.
    pub fn pool(&self) -> &BufferPool {
        &self.pool
    }

    /// Computes `rect` of `image`. Errors are named with the operation and
    /// region that failed; a panic in an operation becomes an
    /// [`ErrorKind::Panic`] error.
    pub fn region(&mut self, image: &Image, rect: Rect) -> Result<Region> {
        self.flags.check()?;
        image.check()?;
        // Checked once here, so no operation has to: every request, from a
        // sink or from another operation, lies inside the image.
        if !image.header().rect().contains(&rect) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "request {rect} lies outside the {}x{} image",
                    image.width(),
                    image.height()
                ),
            )
            .with_operation(image.name()));
        }
        let op = image.operation();
        let name = op.name();
        let id = image.id();
        let mut state = match self.states.remove(&id) {
            Some(s) => s,
            None => guard(name, rect, || op.start_dyn())?,
        };
        let result = {
            let mut inputs = Inputs { ctx: self, image };
            guard(name, rect, || {
                op.generate_dyn(&mut *state, rect, &mut inputs)
            })
        };
        self.states.insert(id, state);
        let region = result.map_err(|e| e.with_operation(name).with_rect(rect))?;
        let h = image.header();
        if region.rect() != rect || region.bands() != h.bands || region.format() != h.format {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "returned region {} ({} bands {}) for request {rect} ({} bands {})",
                    region.rect(),
                    region.bands(),
                    region.format(),
                    h.bands,
                    h.format
                ),
            )
            .with_operation(name));
        }
        Ok(region)
    }
}

fn guard<T>(name: &'static str, rect: Rect, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_panic(f).map_err(|e| e.with_operation(name).with_rect(rect))
}

/// Runs `f`, turning a panic into an [`ErrorKind::Panic`] error carrying
/// the panic's message. For sinks and writers that call code they do not
/// trust.
pub fn catch_panic<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::new(ErrorKind::Panic, format!("panicked: {msg}")))
    })
}

/// What [`Operation::generate`](crate::Operation::generate) sees: its
/// node's inputs and an allocator for its output.
pub struct Inputs<'a> {
    ctx: &'a mut Ctx,
    image: &'a Image,
}

impl Inputs<'_> {
    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.image.inputs().len()
    }

    /// `true` for a source (no inputs).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Header of input `index`.
    pub fn header(&self, index: usize) -> &Header {
        self.image.inputs()[index].header()
    }

    /// Headers of every input.
    pub fn headers(&self) -> &[Header] {
        self.image.input_headers()
    }

    /// The node's own [`Operation::need`](crate::Operation::need) for input
    /// `index`.
    pub fn need(&self, out: Rect, index: usize) -> Rect {
        self.image.need(out, index)
    }

    /// Header of the node being computed.
    pub fn output_header(&self) -> &Header {
        self.image.header()
    }

    /// Computes `rect` of input `index`. `rect` must lie inside that input.
    pub fn get(&mut self, index: usize, rect: Rect) -> Result<Region> {
        let input = &self.image.inputs()[index];
        self.ctx.region(input, rect)
    }

    /// A pooled output buffer for `rect` with the node's bands and format.
    /// Its contents are unspecified: write every pixel.
    pub fn alloc(&self, rect: Rect) -> Region {
        let h = self.image.header();
        self.alloc_as(rect, h.bands, h.format)
    }

    /// A pooled buffer for `rect` with any bands and format (scratch space).
    pub fn alloc_as(&self, rect: Rect, bands: u32, format: BandFormat) -> Region {
        let bytes = rect.area() as usize * bands as usize * format.size();
        Region::owned(self.ctx.pool.get(bytes), rect, bands, format)
            .expect("buffer sized for the region")
    }

    /// Records a warning in the run's report: something was wrong but the
    /// run goes on (a truncated file read with `fail_on=none`).
    pub fn warn(&self, message: impl Into<String>) {
        self.ctx.flags.warn(message.into());
    }

    /// `Err` if the run is being stopped; long generate steps may poll it.
    pub fn check_stop(&self) -> Result<()> {
        self.ctx.flags.check()
    }
}
