//! The memory plan: a run's peak memory estimated before any pixel is
//! computed, and the search for a plan that fits a memory budget.
//!
//! The model, per pass (the main pass, and one per cache the planner
//! inserts), with the pass's tile geometry and `T` worker threads:
//!
//! - **region buffers**: every worker computes one tile at a time, and its
//!   buffer pool keeps the output buffer of every node for that tile for
//!   reuse (recycled, not freed). The graph is walked from a tile in the
//!   middle of the output, each node asked for the rectangle its consumer
//!   `need`s; each node's [`region_bytes`](gigapix_core::Operation::region_bytes)
//!   (0 for views) is summed, times `T`.
//! - **scratch**: each node's per-thread working memory for that request
//!   ([`scratch_bytes`](gigapix_core::Operation::scratch_bytes)), times `T`.
//! - **shared**: memory a node holds once per run
//!   ([`shared_bytes`](gigapix_core::Operation::shared_bytes)): read-ahead
//!   rings, mapped residency windows, decoders.
//! - **sink**: the ordered sink keeps `T + 2` band buffers; the memory sink
//!   writes into the caller's buffer (counted: it is resident).
//! - **codec**: the encoder's buffers
//!   ([`BandWriter::buffer_bytes`](gigapix_core::BandWriter::buffer_bytes)).
//! - **caches**: a cache in memory holds its whole image from its fill on;
//!   one on disk keeps at most the mapped file's residency window resident.
//! - **baseline**: the process without pixels (code, libc, thread stacks),
//!   measured as the peak RSS of a trivial run.
//!
//! The estimate is the largest total over the passes.

use std::collections::HashMap;
use std::fmt;

use gigapix_core::{Error, ErrorKind, Header, Image, Rect, Result};

use crate::options::{Order, RunOptions};
use crate::plan::{Plan, as_cache, geometry};

/// Peak RSS of a trivial run (`pipe black:1x1x1 - -- invert`) of the
/// release binary: code, libc, allocator arenas, the main thread.
pub const BASELINE_BYTES: u64 = 4608 << 10;
/// Per worker thread beyond the baseline: its stack's touched pages and its
/// allocator arena's bookkeeping.
pub const THREAD_BYTES: u64 = 128 << 10;
/// Resident window of a memory-mapped cache file (as `MappedFile` keeps:
/// 12 chunks of 4 MiB).
const MAPPED_RESIDENT_BYTES: u64 = gigapix_core::mapped::RESIDENT_BYTES;
/// Buffer of the writer filling a cache on disk.
const CACHE_FILE_BUFFER: u64 = 1 << 20;

/// What consumes the run's output: it decides the sink's buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SinkKind {
    /// The ordered sink feeding an encoder (`T + 2` band buffers).
    Ordered,
    /// Straight into a caller's buffer of the whole image.
    Memory,
    /// Per-thread reducers (statistics) or the null sink: nothing kept.
    Reduce,
}

/// Where a cache keeps its pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheLocation {
    /// In memory, the whole image.
    Memory,
    /// In a memory-mapped temporary file.
    Disk,
}

/// One cache the planner inserts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheEstimate {
    /// The operation whose output is cached.
    pub input: &'static str,
    /// Header of the cached image.
    pub header: Header,
    /// Bytes of the whole cached image.
    pub bytes: u64,
    /// Where it lives.
    pub location: CacheLocation,
    /// Bytes of it resident during the main pass.
    pub resident: u64,
    /// Tile geometry of the pass that fills it.
    pub tile: (u32, u32),
}

/// One node of the main pass's graph.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeEstimate {
    /// Operation name.
    pub name: &'static str,
    /// Distance from the output (0 for the output node).
    pub depth: usize,
    /// Output header.
    pub header: Header,
    /// The rectangle asked of it for one tile of the output in the middle
    /// of the image (the largest, when several consumers ask).
    pub request: Rect,
    /// Region-buffer bytes per worker thread.
    pub region_bytes: u64,
    /// Scratch bytes per worker thread.
    pub scratch_bytes: u64,
    /// Bytes held once per run.
    pub shared_bytes: u64,
}

/// The plan of a run and its estimated peak memory, made without computing
/// a pixel ([`plan`](crate::plan())).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanReport {
    /// Worker threads.
    pub threads: usize,
    /// Output tile size `(width, height)`.
    pub tile: (u32, u32),
    /// Header of the output.
    pub output: Header,
    /// The nodes of the main pass, output first (depth first).
    pub nodes: Vec<NodeEstimate>,
    /// The caches the planner inserts, in fill order.
    pub caches: Vec<CacheEstimate>,
    /// The sink.
    pub sink_kind: SinkKind,
    /// Per-thread region buffers, times the threads.
    pub region_bytes: u64,
    /// Per-thread scratch, times the threads.
    pub scratch_bytes: u64,
    /// Memory held once per run by nodes (read-ahead rings, mapped
    /// windows, decoders).
    pub shared_bytes: u64,
    /// Resident cache bytes.
    pub cache_bytes: u64,
    /// The sink's band buffers (or the caller's buffer).
    pub sink_bytes: u64,
    /// The encoder's buffers.
    pub codec_bytes: u64,
    /// The process without pixels: [`BASELINE_BYTES`] plus
    /// [`THREAD_BYTES`] per worker.
    pub baseline_bytes: u64,
    /// The largest total of a cache-filling pass, if above the main pass's
    /// (it is then the estimate).
    pub fill_peak_bytes: Option<u64>,
    /// The budget the plan was fitted into, if any.
    pub budget: Option<u64>,
}

impl PlanReport {
    /// Estimated peak memory of the main pass, in bytes.
    pub fn main_pass_bytes(&self) -> u64 {
        self.region_bytes
            + self.scratch_bytes
            + self.shared_bytes
            + self.cache_bytes
            + self.sink_bytes
            + self.codec_bytes
            + self.baseline_bytes
    }

    /// Estimated peak memory of the run (process RSS), in bytes.
    pub fn estimated_peak_bytes(&self) -> u64 {
        self.main_pass_bytes()
            .max(self.fill_peak_bytes.unwrap_or(0))
    }

    /// Estimated peak of the pixel memory the engine tracks (what
    /// `RunReport::peak_pixel_bytes` measures): region buffers, the sink's
    /// band buffers and in-memory caches.
    pub fn tracked_pixel_bytes(&self) -> u64 {
        let sink = if self.sink_kind == SinkKind::Memory {
            0
        } else {
            self.sink_bytes
        };
        let caches: u64 = self
            .caches
            .iter()
            .filter(|c| c.location == CacheLocation::Memory)
            .map(|c| c.bytes)
            .sum();
        self.region_bytes + sink + caches
    }
}

fn mb(b: u64) -> String {
    format!("{:.1} MB", b as f64 / 1e6)
}

impl fmt::Display for PlanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "output: {}", self.output)?;
        writeln!(
            f,
            "geometry: tiles {}x{}, {} thread{}",
            self.tile.0,
            self.tile.1,
            self.threads,
            if self.threads == 1 { "" } else { "s" }
        )?;
        writeln!(
            f,
            "nodes (per tile: request, region buffer and scratch per thread; shared once):"
        )?;
        for n in &self.nodes {
            let mut extra = String::new();
            if n.scratch_bytes > 0 {
                extra += &format!(", scratch {}", mb(n.scratch_bytes));
            }
            if n.shared_bytes > 0 {
                extra += &format!(", shared {}", mb(n.shared_bytes));
            }
            writeln!(
                f,
                "  {:indent$}{} {}x{}: request {}x{}, region {}{}",
                "",
                n.name,
                n.header.width,
                n.header.height,
                n.request.width,
                n.request.height,
                mb(n.region_bytes),
                extra,
                indent = 2 * n.depth
            )?;
        }
        if self.caches.is_empty() {
            writeln!(f, "caches: none")?;
        } else {
            writeln!(f, "caches:")?;
            for c in &self.caches {
                writeln!(
                    f,
                    "  cache of {} ({}): {}, {}, {} resident, filled in tiles {}x{}",
                    c.input,
                    c.header,
                    mb(c.bytes),
                    match c.location {
                        CacheLocation::Memory => "in memory",
                        CacheLocation::Disk => "on disk (mapped temporary file)",
                    },
                    mb(c.resident),
                    c.tile.0,
                    c.tile.1
                )?;
            }
        }
        writeln!(
            f,
            "estimated peak memory: {}",
            mb(self.estimated_peak_bytes())
        )?;
        let t = self.threads as u64;
        writeln!(
            f,
            "  region buffers   {:>10}  ({} per thread x {t})",
            mb(self.region_bytes),
            mb(self.region_bytes / t.max(1))
        )?;
        writeln!(f, "  node scratch     {:>10}", mb(self.scratch_bytes))?;
        writeln!(f, "  shared by nodes  {:>10}", mb(self.shared_bytes))?;
        writeln!(f, "  caches           {:>10}", mb(self.cache_bytes))?;
        writeln!(
            f,
            "  sink buffers     {:>10}  ({})",
            mb(self.sink_bytes),
            match self.sink_kind {
                SinkKind::Ordered => "ordered: threads + 2 bands",
                SinkKind::Memory => "the caller's buffer",
                SinkKind::Reduce => "none",
            }
        )?;
        writeln!(f, "  codec            {:>10}", mb(self.codec_bytes))?;
        writeln!(f, "  process baseline {:>10}", mb(self.baseline_bytes))?;
        if let Some(p) = self.fill_peak_bytes {
            writeln!(f, "  (peak while filling a cache: {})", mb(p))?;
        }
        if let Some(b) = self.budget {
            writeln!(f, "budget: {} (fits)", mb(b))?;
        }
        Ok(())
    }
}

/// One pass's totals.
struct Pass {
    nodes: Vec<NodeEstimate>,
    region: u64,
    scratch: u64,
    shared: u64,
    sink: u64,
    threads: usize,
}

/// A tile in the middle of the image, aligned to the grid of `tile`.
fn middle_tile(h: &Header, tile: (u32, u32)) -> Rect {
    let (tw, th) = (tile.0.max(1) as i64, tile.1.max(1) as i64);
    let y = (h.height as i64 / 2) / th * th;
    let x = (h.width as i64 / 2) / tw * tw;
    Rect::new(x, y, tw, th).intersect(&h.rect())
}

/// Walks the pass over `image` (tiles `tile`, `threads` workers, sink
/// `sink`).
fn pass(image: &Image, tile: (u32, u32), threads: usize, sink: SinkKind) -> Pass {
    fn walk(
        img: &Image,
        r: Rect,
        depth: usize,
        out: &mut Vec<NodeEstimate>,
        at: &mut HashMap<u64, usize>,
    ) {
        if r.is_empty() {
            return;
        }
        let op = img.operation();
        let ins = img.input_headers();
        let region = op.region_bytes(r, ins, img.header());
        let scratch = op.scratch_bytes(r, ins);
        // A node reached along several paths computes each request.
        match at.get(&img.id()) {
            Some(&i) => {
                let n = &mut out[i];
                n.region_bytes += region;
                n.scratch_bytes += scratch;
                if r.area() > n.request.area() {
                    n.request = r;
                }
            }
            None => {
                at.insert(img.id(), out.len());
                out.push(NodeEstimate {
                    name: img.name(),
                    depth,
                    header: *img.header(),
                    request: r,
                    region_bytes: region,
                    scratch_bytes: scratch,
                    shared_bytes: 0,
                });
            }
        }
        if as_cache(img).is_some() {
            return;
        }
        for (i, input) in img.inputs().iter().enumerate() {
            let need = img.need(r, i).intersect(&input.header().rect());
            walk(input, need, depth + 1, out, at);
        }
    }
    let h = image.header();
    let tiles = (h.width as u64).div_ceil(tile.0.max(1) as u64)
        * (h.height as u64).div_ceil(tile.1.max(1) as u64);
    let threads = (threads as u64).min(tiles).max(1) as usize;
    let mut nodes = Vec::new();
    let mut at = HashMap::new();
    walk(image, middle_tile(h, tile), 0, &mut nodes, &mut at);
    let info = Plan::info(image, threads, tile);
    for n in image.nodes() {
        if let Some(&i) = at.get(&n.id()) {
            let info = info.with_request(nodes[i].request);
            nodes[i].shared_bytes = n.operation().shared_bytes(&info, n.header());
        }
    }
    let t = threads as u64;
    let region = nodes.iter().map(|n| n.region_bytes).sum::<u64>() * t;
    let scratch = nodes.iter().map(|n| n.scratch_bytes).sum::<u64>() * t;
    let shared = nodes.iter().map(|n| n.shared_bytes).sum::<u64>();
    let band = tile.1 as u64 * h.row_bytes() as u64;
    let sink = match sink {
        SinkKind::Ordered => (t + 2) * band,
        SinkKind::Memory => h.image_bytes(),
        SinkKind::Reduce => 0,
    };
    Pass {
        nodes,
        region,
        scratch,
        shared,
        sink,
        threads,
    }
}

/// The memory plan of `plan`.
pub(crate) fn estimate(
    plan: &Plan,
    sink: SinkKind,
    codec: &dyn Fn(u32) -> u64,
    cache_limit: u64,
) -> PlanReport {
    let baseline = |threads: usize| BASELINE_BYTES + THREAD_BYTES * threads as u64;
    // Cache fills, in order: each sees the caches filled before it.
    let mut caches = Vec::new();
    let mut resident = 0u64;
    let mut fill_peak = 0u64;
    for c in &plan.caches {
        let input = &c.inputs()[0];
        let tile = geometry(input);
        let p = pass(input, tile, plan.threads, SinkKind::Ordered);
        let bytes = input.header().image_bytes();
        let (location, store, after) = if bytes <= cache_limit {
            (CacheLocation::Memory, bytes, bytes)
        } else {
            let window = bytes.min(MAPPED_RESIDENT_BYTES);
            (CacheLocation::Disk, CACHE_FILE_BUFFER, window)
        };
        let total =
            p.region + p.scratch + p.shared + p.sink + resident + store + baseline(p.threads);
        fill_peak = fill_peak.max(total);
        resident += after;
        caches.push(CacheEstimate {
            input: input.name(),
            header: *input.header(),
            bytes,
            location,
            resident: after,
            tile,
        });
    }
    let p = pass(&plan.root, plan.tile, plan.threads, sink);
    let codec_bytes = if sink == SinkKind::Ordered {
        codec(plan.tile.1)
    } else {
        0
    };
    let mut report = PlanReport {
        threads: p.threads,
        tile: plan.tile,
        output: *plan.root.header(),
        nodes: p.nodes,
        caches,
        sink_kind: sink,
        region_bytes: p.region,
        scratch_bytes: p.scratch,
        shared_bytes: p.shared,
        cache_bytes: resident,
        sink_bytes: p.sink,
        codec_bytes,
        baseline_bytes: baseline(p.threads),
        fill_peak_bytes: None,
        budget: None,
    };
    if fill_peak > report.main_pass_bytes() {
        report.fill_peak_bytes = Some(fill_peak);
    }
    report
}

/// The default in-memory cache limit.
pub(crate) const DEFAULT_CACHE_LIMIT: u64 = 100_000_000;

/// Plans `image` under `opts`: with a memory budget, the first plan that
/// fits, trying in turn caches on disk, shorter strips (down to 8 rows,
/// halving) and fewer threads; an error naming the estimate and what the
/// smallest plan would need if none does.
pub(crate) fn fit(
    image: &Image,
    opts: &RunOptions,
    sink: SinkKind,
    codec: &dyn Fn(u32) -> u64,
) -> Result<(Plan, PlanReport, u64)> {
    let limit = opts.memory_cache_limit.unwrap_or(DEFAULT_CACHE_LIMIT);
    let plan = Plan::new(image, opts)?;
    let first = estimate(&plan, sink, codec, limit);
    let Some(budget) = opts.memory_budget else {
        return Ok((plan, first, limit));
    };
    let fits = |r: &PlanReport| r.estimated_peak_bytes() <= budget;
    if fits(&first) {
        let mut r = first;
        r.budget = Some(budget);
        return Ok((plan, r, limit));
    }
    let limit = if plan.caches.is_empty() { limit } else { 0 };
    let mut smallest: Option<PlanReport> = None;
    for threads in (1..=plan.threads).rev() {
        let mut height = plan.tile.1;
        loop {
            let o = RunOptions {
                threads: Some(threads),
                tile: Some((plan.tile.0, height)),
                memory_cache_limit: Some(limit),
                ..opts.clone()
            };
            let candidate = Plan::new(image, &o)?;
            let mut r = estimate(&candidate, sink, codec, limit);
            if fits(&r) {
                r.budget = Some(budget);
                return Ok((candidate, r, limit));
            }
            if smallest
                .as_ref()
                .is_none_or(|s| r.estimated_peak_bytes() < s.estimated_peak_bytes())
            {
                smallest = Some(r);
            }
            if height <= 8 {
                break;
            }
            height = (height / 2).max(8);
        }
    }
    let smallest = smallest.expect("at least one candidate");
    Err(Error::new(
        ErrorKind::Limit,
        format!(
            "the run needs an estimated {} (tiles {}x{}, {} threads), over the memory budget of {}; \
             the smallest plan ({} thread{}, tiles {}x{}{}) needs {}",
            mb(first.estimated_peak_bytes()),
            first.tile.0,
            first.tile.1,
            first.threads,
            mb(budget),
            smallest.threads,
            if smallest.threads == 1 { "" } else { "s" },
            smallest.tile.0,
            smallest.tile.1,
            if smallest.caches.is_empty() {
                ""
            } else {
                ", caches on disk"
            },
            mb(smallest.estimated_peak_bytes()),
        ),
    ))
}

/// The plan of a run of `image` under `opts` into a sink of kind `sink`
/// whose encoder holds `codec(band_rows)` bytes, with its estimated peak
/// memory, computing no pixel. With
/// [`RunOptions::memory_budget`], the plan is the one the run would use, or
/// an error if none fits.
pub fn plan(
    image: &Image,
    opts: &RunOptions,
    sink: SinkKind,
    codec: &dyn Fn(u32) -> u64,
) -> Result<PlanReport> {
    let mut opts = opts.clone();
    if sink == SinkKind::Ordered {
        opts.order = Order::Forward;
    }
    fit(image, &opts, sink, codec).map(|(_, r, _)| r)
}
