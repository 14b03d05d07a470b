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
        let caches: Vec<Image> = root
            .nodes()
            .into_iter()
            .filter(|n| as_cache(n).is_some())
            .collect();
        let tile = opts.tile.unwrap_or_else(|| geometry(&root));
        let tile = (tile.0.min(root.width()), tile.1.min(root.height()));
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
        // Workers run at most `threads + 2` strips apart (the sinks' gates
        // and band buffers), and each request reaches its margin above and
        // below.
        let info = PlanInfo::new(threads, tile.1, tile.1 + 2 * margins(image).1);
        for node in image.nodes() {
            node.operation().configure(&info);
        }
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
    let (mx, my) = margins(image);
    match hint {
        DemandHint::SmallTile => {
            let edge = |m: u32| SMALL_TILE.max(4 * m).min(4 * SMALL_TILE);
            (edge(mx), edge(my))
        }
        _ => {
            // Full-width strips of about STRIP_BYTES, 8 to 128 rows, and at
            // least a few strips per thread on small images.
            let rows = (STRIP_BYTES / h.row_bytes().max(1)).clamp(8, 128) as u32;
            let rows = if hint == DemandHint::FatStrip {
                rows.max(16)
            } else {
                rows
            };
            let rows = rows.max((4 * my).min(512));
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
            let need = img.operation().need(r, i);
            let m = walk(input, need, base, memo);
            worst = (worst.0.max(m.0), worst.1.max(m.1));
        }
        memo.insert(img.id(), worst);
        worst
    }
    let h = image.header();
    let probe = Rect::new(h.width as i64 / 2, h.height as i64 / 2, 64, 64).intersect(&h.rect());
    let (x, y) = walk(
        image,
        probe,
        (probe.width, probe.height),
        &mut HashMap::new(),
    );
    (x.min(u32::MAX as i64) as u32, y.min(u32::MAX as i64) as u32)
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
    if inputs
        .iter()
        .zip(image.inputs())
        .all(|(a, b)| a.same_node(b))
    {
        image.clone()
    } else {
        image.with_inputs(inputs)
    }
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

    fn start(&self) -> Result<()> {
        Ok(())
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
