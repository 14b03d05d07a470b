//! Planning a run: access patterns, caches and tile geometry.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use gigapix_core::mapped::MappedFile;
use gigapix_core::{
    Access, DemandHint, Error, ErrorKind, Header, Image, Inputs, Operation, PlanInfo, Rect, Region,
    Result, SharedPixels,
};

use crate::options::{Order, RunOptions};

/// Full-width strips aim at about this many bytes of output.
const STRIP_BYTES: usize = 1 << 20;
/// Edge of square tiles for `DemandHint::SmallTile`.
const SMALL_TILE: u32 = 128;

/// A graph ready to run: caches inserted where a sequential source would be
/// read out of order, and the tile geometry chosen.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The graph to pull from (the input graph, or a rewrite of it).
    pub(crate) root: Image,
    /// Caches to fill before the main pass, inputs before users.
    pub(crate) caches: Vec<Image>,
    /// Output tile width and height.
    pub(crate) tile: (u32, u32),
    pub(crate) threads: usize,
}

impl Plan {
    pub(crate) fn new(image: &Image, opts: &RunOptions) -> Result<Plan> {
        image.check()?;
        let root_ordered = opts.order == Order::Forward;
        let mut memo = HashMap::new();
        let root = insert_caches(image, root_ordered, &mut memo);
        let tile = opts.tile.unwrap_or_else(|| geometry(&root));
        let tile = (tile.0.min(root.width()), tile.1.min(root.height()));
        let root = cache_skewed_sources(root, tile);
        let caches: Vec<Image> = root
            .nodes()
            .into_iter()
            .filter(|n| as_cache(n).is_some())
            .collect();
        let threads = opts.thread_count();
        Ok(Plan {
            root,
            caches,
            tile,
            threads,
        })
    }

    /// Tells every operation of `image`'s graph the geometry of a pass.
    pub(crate) fn configure(image: &Image, threads: usize, tile: (u32, u32)) {
        let info = Plan::info(image, threads, tile);
        for node in image.nodes() {
            node.operation().configure(&info);
        }
    }

    /// The geometry of a pass as the operations are told it.
    pub(crate) fn info(image: &Image, threads: usize, tile: (u32, u32)) -> PlanInfo {
        // Workers run at most `threads + 2` strips apart (the sinks' gates
        // and band buffers), and each request reaches its margin above and
        // below.
        // Branches reading one source a few rows apart add their lag.
        let lag = sequential_reach(image, tile)
            .into_values()
            .map(|r| r.lag)
            .max()
            .unwrap_or(0);
        let skew = tile.1 as i64 + 2 * margins(image).1 as i64 + lag;
        PlanInfo::new(threads, tile.1, skew.min(u32::MAX as i64) as u32)
    }
}

/// Tile size for `image` from the most restrictive demand hint in its graph
/// and the margins its area operations accumulate.
pub(crate) fn geometry(image: &Image) -> (u32, u32) {
    let hint = image
        .nodes()
        .iter()
        .map(|n| n.operation().demand())
        .max()
        .unwrap_or(DemandHint::Any);
    let h = image.header();
    // Grow tiles until the halo costs at most about a quarter more work:
    // (tile + margin) / tile <= 1.25 per axis.
    let (mx, my, scale) = halo(image);
    match hint {
        DemandHint::SmallTile => {
            let edge = |m: u32| SMALL_TILE.max(4 * m).min(4 * SMALL_TILE);
            (edge(mx), edge(my))
        }
        _ => {
            // Full-width strips of about STRIP_BYTES, 8 to 128 rows, and at
            // least a few strips per thread on small images.
            // A node reading `scale` input pixels per output pixel (a
            // reduce) counts that much: strips of a reduce by 8 are 64
            // times thinner than its input's would be.
            let row_bytes = (h.row_bytes() as f64 * scale.max(1.0)).min(usize::MAX as f64) as usize;
            let rows = (STRIP_BYTES / row_bytes.max(1)).clamp(8, 128) as u32;
            let rows = if hint == DemandHint::FatStrip {
                rows.max(16)
            } else {
                rows
            };
            // Taller strips amortise a large halo, up to 96 rows and
            // about 6 MiB. The box blurs stream their passes through
            // per-thread rings, so what a taller strip saves is only the
            // re-read margin, while the sink holds several strips: on a
            // 10000-pixel RGB row, 96 rows against the 209 of before took
            // gaussblur sigma 10 from 69 to 50 MB peak RSS at the same
            // speed, and sigma 30 still costs within 1.2x of sigma 3.
            let cap = (6 * STRIP_BYTES / row_bytes.max(1)).clamp(8, 96) as u32;
            let rows = rows.max((4 * my).min(cap));
            let few = h.height.div_ceil(16).max(1);
            (h.width, rows.min(few))
        }
    }
}

/// The largest extra width and height any source of `image`'s graph is
/// asked for beyond a tile of the output (the accumulated halo of area
/// operations), measured on a 64x64 probe in the middle of the image.
pub(crate) fn margins(image: &Image) -> (u32, u32) {
    fn walk(
        img: &Image,
        r: Rect,
        base: (i64, i64),
        memo: &mut HashMap<u64, (i64, i64)>,
    ) -> (i64, i64) {
        let extra = ((r.width - base.0).max(0), (r.height - base.1).max(0));
        if let Some(&m) = memo.get(&img.id())
            && m.0 >= extra.0
            && m.1 >= extra.1
        {
            return m;
        }
        let mut worst = extra;
        for (i, input) in img.inputs().iter().enumerate() {
            let need = img.need(r, i);
            let m = walk(input, need, base, memo);
            worst = (worst.0.max(m.0), worst.1.max(m.1));
        }
        memo.insert(img.id(), worst);
        worst
    }
    let probe = probe(image);
    let (x, y) = walk(
        image,
        probe,
        (probe.width, probe.height),
        &mut HashMap::new(),
    );
    (x.min(u32::MAX as i64) as u32, y.min(u32::MAX as i64) as u32)
}

/// The halo of `image`'s graph in output pixels (width, height): how much
/// larger than a tile the area its sources are asked for is, once scaling
/// is taken out; and the largest area scale of any node (input pixels per
/// output pixel, 64 for a reduce by 8). A reduce by 8 asks for 8 rows per
/// output row plus its taps: only the taps (over 8) are halo, and only
/// halo makes tiles grow, while the scale makes them shrink.
///
/// Measured from the needs of two probes, `s` and `2s` pixels square, at
/// the same corner: for a need of `k·size + m` (scale `k`, margin `m`),
/// `2·need(s) − need(2s) = m` and `need(2s) − need(s) = k·s`.
pub(crate) fn halo(image: &Image) -> (u32, u32, f64) {
    type Seen = HashMap<u64, (Rect, Rect)>;
    fn walk(
        img: &Image,
        (r1, r2, s): (Rect, Rect, i64),
        out: &mut (f64, f64, f64),
        seen: &mut Seen,
    ) {
        if seen.get(&img.id()) == Some(&(r1, r2)) {
            return;
        }
        seen.insert(img.id(), (r1, r2));
        // (halo, scale) along one axis.
        let axis = |a: i64, b: i64| {
            let (m, k) = (2 * a - b, b - a);
            let scale = k as f64 / s as f64;
            if k > 0 && m > 0 {
                (m as f64 / scale, scale)
            } else {
                (0.0, scale.max(0.0))
            }
        };
        let (hx, kx) = axis(r1.width, r2.width);
        let (hy, ky) = axis(r1.height, r2.height);
        *out = (out.0.max(hx), out.1.max(hy), out.2.max(kx * ky));
        for (i, input) in img.inputs().iter().enumerate() {
            // Operations are only asked about areas inside their output:
            // clip (which only happens for images of a few pixels).
            let inside = input.header().rect();
            let (n1, n2) = (img.need(r1, i), img.need(r2, i));
            walk(
                input,
                (n1.intersect(&inside), n2.intersect(&inside), s),
                out,
                seen,
            );
        }
    }
    let h = image.header();
    let s = 64.min(h.width / 2).min(h.height / 2).max(1) as i64;
    let (x, y) = (
        (h.width as i64 / 2 - s).max(0),
        (h.height as i64 / 2 - s).max(0),
    );
    let mut out = (0.0, 0.0, 1.0);
    let whole = h.rect();
    let probes = (
        Rect::new(x, y, s, s).intersect(&whole),
        Rect::new(x, y, 2 * s, 2 * s).intersect(&whole),
        s,
    );
    walk(image, probes, &mut out, &mut HashMap::new());
    let cap = |v: f64| v.ceil().min(f64::from(u32::MAX)) as u32;
    (cap(out.0), cap(out.1), out.2)
}

/// The 64x64 probe in the middle of an image that margins and reach are
/// measured with.
fn probe(image: &Image) -> Rect {
    let h = image.header();
    Rect::new(h.width as i64 / 2, h.height as i64 / 2, 64, 64).intersect(&h.rect())
}

/// How one sequential source is reached from a graph's output.
#[derive(Clone, Debug)]
struct Reach {
    source: Image,
    /// The most rows by which a strip of output reaches back behind the
    /// furthest row already read from the source (by earlier strips, or by
    /// another path of the same strip).
    lag: i64,
}

/// For every sequential source of `image`'s graph (not behind a cache),
/// how far back behind its read position the strips of output reach, taken
/// top to bottom as the sinks hand them out. Each path through the graph
/// may be monotone on its own while their union is not (two crops of one
/// source at different heights, joined).
fn sequential_reach(image: &Image, tile: (u32, u32)) -> HashMap<u64, Reach> {
    type Seen = std::collections::HashSet<(u64, Rect)>;
    /// Rows reached per source: (top, bottom, tallest single request).
    type Rows = HashMap<u64, (Image, i64, i64, i64)>;
    fn walk(img: &Image, r: Rect, seen: &mut Seen, out: &mut Rows) {
        if as_cache(img).is_some() || r.is_empty() || !seen.insert((img.id(), r)) {
            return;
        }
        if img.inputs().is_empty() {
            if img.operation().access() == Access::Sequential {
                let e = out
                    .entry(img.id())
                    .or_insert((img.clone(), r.y, r.bottom(), 0));
                e.1 = e.1.min(r.y);
                e.2 = e.2.max(r.bottom());
                e.3 = e.3.max(r.height);
            }
            return;
        }
        for (i, input) in img.inputs().iter().enumerate() {
            let need = img.need(r, i).intersect(&input.header().rect());
            walk(input, need, seen, out);
        }
    }
    let mut memo = HashMap::new();
    if !reads_sequential(image, &mut memo) {
        return HashMap::new();
    }
    let h = image.header();
    let th = tile.1.max(1) as i64;
    // Per source: the reach so far and the furthest row read.
    let mut result: HashMap<u64, (Reach, i64)> = HashMap::new();
    for y in (0..h.height as i64).step_by(th as usize) {
        let strip = Rect::new(0, y, h.width as i64, th).intersect(&h.rect());
        let mut rows = Rows::new();
        walk(image, strip, &mut Seen::new(), &mut rows);
        for (id, (source, top, bottom, tallest)) in rows {
            let (reach, read) = result.entry(id).or_insert((Reach { source, lag: 0 }, 0));
            let lag = (*read - top).max(bottom - top - tallest);
            reach.lag = reach.lag.max(lag);
            *read = (*read).max(bottom);
        }
    }
    result
        .into_iter()
        .map(|(id, (reach, _))| (id, reach))
        .collect()
}

/// A sequential source's read-ahead ring may grow by this much to absorb
/// reads behind its read position; beyond it the source is cached.
const RING_LAG_BYTES: i64 = 16 << 20;

/// Sequential sources read so far behind their read position that a ring
/// deep enough would pass [`RING_LAG_BYTES`] (lags within two strips and
/// the margins are always absorbed by the ring).
fn skewed_sources(image: &Image, tile: (u32, u32)) -> Vec<Image> {
    let benign = 2 * (tile.1 as i64 + margins(image).1 as i64);
    sequential_reach(image, tile)
        .into_values()
        .filter(|r| r.lag > benign && r.lag * r.source.header().row_bytes() as i64 > RING_LAG_BYTES)
        .map(|r| r.source)
        .collect()
}

/// Branches that read one sequential source rows apart (a DAG such as two
/// crops of it at different heights, joined) would outrun the source's
/// read-ahead: such a source is cached whole. Checked for the main pass
/// (tile `tile`) and for the pass filling each cache.
fn cache_skewed_sources(mut root: Image, tile: (u32, u32)) -> Image {
    loop {
        let mut passes = vec![(root.clone(), tile)];
        for node in root.nodes().into_iter().filter(|n| as_cache(n).is_some()) {
            let input = node.inputs()[0].clone();
            let t = geometry(&input);
            passes.push((input, t));
        }
        let Some(source) = passes
            .iter()
            .find_map(|(p, t)| skewed_sources(p, *t).into_iter().next())
        else {
            return root;
        };
        // Reuse a cache of this source if the graph has one already.
        let cached = root
            .nodes()
            .into_iter()
            .find(|n| as_cache(n).is_some() && n.inputs()[0].same_node(&source))
            .unwrap_or_else(|| Image::new(Cache::default(), vec![source.clone()]));
        root = replace(&root, &source, &cached, &mut HashMap::new());
    }
}

/// `image` with every use of `old` replaced by `new`, except as the input
/// of a cache.
fn replace(image: &Image, old: &Image, new: &Image, memo: &mut HashMap<u64, Image>) -> Image {
    if image.same_node(old) {
        return new.clone();
    }
    if as_cache(image).is_some() && image.inputs()[0].same_node(old) {
        return image.clone();
    }
    if let Some(done) = memo.get(&image.id()) {
        return done.clone();
    }
    let inputs: Vec<Image> = image
        .inputs()
        .iter()
        .map(|i| replace(i, old, new, memo))
        .collect();
    let out = image.with_inputs(inputs);
    memo.insert(image.id(), out.clone());
    out
}

/// `true` if a sequential source is reachable from `image`.
fn reads_sequential(image: &Image, memo: &mut HashMap<u64, bool>) -> bool {
    if let Some(&b) = memo.get(&image.id()) {
        return b;
    }
    let b = if as_cache(image).is_some() {
        false
    } else if image.inputs().is_empty() {
        image.operation().access() == Access::Sequential
    } else {
        image.inputs().iter().any(|i| reads_sequential(i, memo))
    };
    memo.insert(image.id(), b);
    b
}

/// Rewrites `image` so that every sequential source is read top to bottom:
/// where a consumer reads its input out of order (`ordered == false`) and
/// that input reaches a sequential source, a cache goes in between. The
/// cache is filled top to bottom before the main pass.
fn insert_caches(image: &Image, ordered: bool, memo: &mut HashMap<u64, bool>) -> Image {
    if !reads_sequential(image, memo) {
        return image.clone();
    }
    if !ordered {
        return Image::new(Cache::default(), vec![insert_caches(image, true, memo)]);
    }
    if image.inputs().is_empty() {
        return image.clone();
    }
    let child_ordered = image.operation().keeps_row_order();
    let inputs: Vec<Image> = image
        .inputs()
        .iter()
        .map(|i| insert_caches(i, child_ordered, memo))
        .collect();
    image.with_inputs(inputs)
}

/// A whole image held in memory or in a memory-mapped temporary file, filled
/// before the main pass; random access afterwards.
#[derive(Default)]
pub(crate) struct Cache {
    store: OnceLock<CacheStore>,
}

/// Where a cache keeps its pixels.
pub(crate) enum CacheStore {
    /// In memory.
    Memory(Arc<dyn SharedPixels>),
    /// In an unnamed temporary file (removed when the last handle closes).
    Mapped(Arc<MappedFile>),
}

pub(crate) fn as_cache(image: &Image) -> Option<&Cache> {
    image.operation().as_any().downcast_ref::<Cache>()
}

impl Cache {
    pub(crate) fn is_filled(&self) -> bool {
        self.store.get().is_some()
    }

    pub(crate) fn fill(&self, store: CacheStore) {
        let _ = self.store.set(store);
    }
}

impl Operation for Cache {
    type State = ();

    fn name(&self) -> &'static str {
        "cache"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        Ok(inputs[0])
    }

    fn region_bytes(&self, _: Rect, _: &[Header], _: &Header) -> u64 {
        // A view of the stored image.
        0
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = *inputs.output_header();
        let stride = h.row_bytes();
        let offset = out.y as usize * stride + out.x as usize * h.pixel_bytes();
        let pixels: Arc<dyn SharedPixels> = match self.store.get() {
            None => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "cache read before it was filled",
                ));
            }
            Some(CacheStore::Memory(p)) => p.clone(),
            Some(CacheStore::Mapped(map)) => {
                map.touch(offset, offset + out.height as usize * stride);
                map.clone()
            }
        };
        Region::view(pixels, offset, stride, out, h.bands, h.format)
    }
}
