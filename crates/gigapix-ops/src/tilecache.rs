//! A bounded, thread-safe cache of tiles of its input, for operations that
//! read overlapping input areas for neighbouring output regions (rotations,
//! affine transforms).
//!
//! The input is cut into a grid of `tile_width`×`tile_height` tiles. A
//! request copies out of the tiles it covers (or, when it lies inside one
//! tile, views that tile without copying). Each tile is computed once,
//! outside the cache's lock, by the first thread that wants it; others
//! wanting the same tile wait for it (a per-tile "in progress" slot), and
//! a thread never waits while it holds such a slot, so threads cannot
//! deadlock on each other. When the tiles held pass `max_bytes`, the least
//! recently used ones are dropped (a tile still being read by a request
//! stays alive until that request is done, so the bound can be passed by
//! the tiles in use at that moment).
//!
//! Each run starts with an empty cache ([`Operation::configure`] clears
//! it), and its tiles stay until the next run or until the image is
//! dropped: at most `max_bytes` between runs. (Clearing when the last
//! worker's state is dropped would be earlier, but a worker can finish
//! before another has started on a small image, and the late one would
//! compute every tile again.) The cache's buffers are not counted by the
//! run's memory tracker.
//!
//! A failed tile is not cached: its slot is freed and the error returned,
//! so a waiting thread retries it (and sees the error itself).

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use gigapix_core::memory::PixelBuf;
use gigapix_core::{
    DemandHint, Error, Header, Image, Inputs, Operation, PlanInfo, Rect, Region, Result,
    SharedPixels,
};

/// Options of [`tilecache`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TileCacheOptions {
    /// Tile width in pixels (default 128).
    pub tile_width: u32,
    /// Tile height in pixels (default 128).
    pub tile_height: u32,
    /// Most bytes of tiles kept (default 64 MiB).
    pub max_bytes: usize,
}

impl Default for TileCacheOptions {
    fn default() -> TileCacheOptions {
        TileCacheOptions {
            tile_width: 128,
            tile_height: 128,
            max_bytes: 64 << 20,
        }
    }
}

/// `image` behind a tile cache (see the [module docs](self)): the same
/// pixels, each tile of the input computed once while it stays in the
/// cache. A zero tile size makes the image invalid.
///
/// ```
/// use gigapix_ops::tilecache::{TileCacheOptions, tilecache};
/// let cached = tilecache(&gigapix_ops::noise(300, 200, 3, 1), &TileCacheOptions::default());
/// assert_eq!((cached.width(), cached.height()), (300, 200));
/// ```
pub fn tilecache(image: &Image, options: &TileCacheOptions) -> Image {
    Image::new(
        TileCache {
            input: Rect::of_size(image.width() as i64, image.height() as i64),
            options: options.clone(),
            shared: Arc::new(Shared::default()),
        },
        vec![image.clone()],
    )
}

/// A cached tile: packed rows of the tile's (image-clipped) rectangle.
struct Tile {
    rect: Rect,
    bytes: Arc<PixelBuf>,
    last_used: u64,
}

enum Slot {
    /// A thread is computing the tile.
    Pending,
    /// The tile's pixels.
    Ready(Tile),
}

#[derive(Default)]
struct State {
    tiles: HashMap<(i64, i64), Slot>,
    clock: u64,
    bytes: usize,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    ready: Condvar,
}

/// The operation of [`tilecache`].
pub struct TileCache {
    /// The input's rectangle.
    input: Rect,
    options: TileCacheOptions,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileCache")
            .field("options", &self.options)
            .finish()
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // A panic while holding the lock leaves consistent data (every update
    // is a single map operation), so poisoning is ignored.
    shared.state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Frees a pending slot if its computation does not finish (error or
/// panic), and wakes the waiters so one of them retries.
struct PendingGuard<'a> {
    shared: &'a Shared,
    key: (i64, i64),
    armed: bool,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut st = lock(self.shared);
            if matches!(st.tiles.get(&self.key), Some(Slot::Pending)) {
                st.tiles.remove(&self.key);
            }
            drop(st);
            self.shared.ready.notify_all();
        }
    }
}

impl TileCache {
    fn tile_rect(&self, key: (i64, i64), image: Rect) -> Rect {
        let (tw, th) = (
            self.options.tile_width as i64,
            self.options.tile_height as i64,
        );
        Rect::new(key.0 * tw, key.1 * th, tw, th).intersect(&image)
    }

    /// Drops least recently used ready tiles until the budget holds.
    fn evict(&self, st: &mut State) {
        while st.bytes > self.options.max_bytes {
            let oldest = st
                .tiles
                .iter()
                .filter_map(|(k, s)| match s {
                    Slot::Ready(t) => Some((t.last_used, *k)),
                    Slot::Pending => None,
                })
                .min();
            let Some((_, key)) = oldest else { break };
            if let Some(Slot::Ready(t)) = st.tiles.remove(&key) {
                st.bytes -= t.bytes.len();
            }
        }
    }
}

impl Operation for TileCache {
    type State = ();

    fn name(&self) -> &'static str {
        "tilecache"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        if self.options.tile_width == 0 || self.options.tile_height == 0 {
            return Err(Error::invalid(
                "tilecache",
                format!(
                    "the tile size {}x{} is empty",
                    self.options.tile_width, self.options.tile_height
                ),
            ));
        }
        Ok(inputs[0])
    }

    fn need(&self, out: Rect, _: usize, _inputs: &[Header]) -> Rect {
        let (tw, th) = (
            self.options.tile_width as i64,
            self.options.tile_height as i64,
        );
        let x0 = out.x.div_euclid(tw) * tw;
        let y0 = out.y.div_euclid(th) * th;
        let x1 = (out.right() + tw - 1).div_euclid(tw) * tw;
        let y1 = (out.bottom() + th - 1).div_euclid(th) * th;
        Rect::new(x0, y0, x1 - x0, y1 - y0).intersect(&self.input)
    }

    fn demand(&self) -> DemandHint {
        DemandHint::Any
    }

    fn keeps_row_order(&self) -> bool {
        // Requests come in whatever order the consumer (a rotation) makes
        // them; the planner must cache a sequential source behind us.
        false
    }

    fn configure(&self, _: &PlanInfo) {
        // Ready tiles only: a pending slot belongs to a run of the same
        // image still going on in another thread, and its owner fills it.
        let mut st = lock(&self.shared);
        st.tiles.retain(|_, slot| matches!(slot, Slot::Pending));
        st.bytes = 0;
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = *inputs.header(0);
        let image = h.rect();
        let pb = h.pixel_bytes();
        let (tw, th) = (
            self.options.tile_width as i64,
            self.options.tile_height as i64,
        );
        let mut wanted = Vec::new();
        for ty in out.y.div_euclid(th)..=(out.bottom() - 1).div_euclid(th) {
            for tx in out.x.div_euclid(tw)..=(out.right() - 1).div_euclid(tw) {
                wanted.push((tx, ty));
            }
        }
        let mut got: Vec<Option<(Rect, Arc<PixelBuf>)>> = vec![None; wanted.len()];
        let shared = &*self.shared;
        loop {
            let mut st = lock(shared);
            let mut claim = None;
            let mut waiting = false;
            for (i, key) in wanted.iter().enumerate() {
                if got[i].is_some() {
                    continue;
                }
                st.clock += 1;
                let clock = st.clock;
                match st.tiles.get_mut(key) {
                    Some(Slot::Ready(t)) => {
                        t.last_used = clock;
                        got[i] = Some((t.rect, t.bytes.clone()));
                    }
                    Some(Slot::Pending) => waiting = true,
                    None => {
                        if claim.is_none() {
                            claim = Some(i);
                        }
                    }
                }
            }
            if let Some(i) = claim {
                let key = wanted[i];
                st.tiles.insert(key, Slot::Pending);
                drop(st);
                let mut guard = PendingGuard {
                    shared,
                    key,
                    armed: true,
                };
                let rect = self.tile_rect(key, image);
                let region = inputs.get(0, rect)?;
                // 8-byte aligned, so views of it suit every format.
                let mut bytes = PixelBuf::unpooled(rect.area() as usize * pb);
                region.copy_to(bytes.as_bytes_mut(), rect.width as usize * pb);
                drop(region);
                let bytes = Arc::new(bytes);
                let mut st = lock(shared);
                st.clock += 1;
                let last_used = st.clock;
                st.bytes += bytes.len();
                st.tiles.insert(
                    key,
                    Slot::Ready(Tile {
                        rect,
                        bytes: bytes.clone(),
                        last_used,
                    }),
                );
                self.evict(&mut st);
                guard.armed = false;
                drop(st);
                shared.ready.notify_all();
                got[i] = Some((rect, bytes));
                continue;
            }
            if !waiting {
                break;
            }
            // Only tiles other threads are computing remain: wait for one.
            drop(shared.ready.wait(st).unwrap_or_else(|p| p.into_inner()));
            inputs.check_stop()?;
        }

        let tiles: Vec<(Rect, Arc<PixelBuf>)> = got.into_iter().flatten().collect();
        if let [(rect, bytes)] = tiles.as_slice() {
            // Inside one tile: a view, no copy.
            let stride = rect.width as usize * pb;
            let offset = (out.y - rect.y) as usize * stride + (out.x - rect.x) as usize * pb;
            let data: Arc<dyn SharedPixels> = bytes.clone();
            return Region::view(data, offset, stride, out, h.bands, h.format);
        }
        let mut dst = inputs.alloc(out);
        for (rect, bytes) in &tiles {
            let part = rect.intersect(&out);
            if part.is_empty() {
                continue;
            }
            let stride = rect.width as usize * pb;
            let len = part.width as usize * pb;
            let sx = (part.x - rect.x) as usize * pb;
            let dx = (part.x - out.x) as usize * pb;
            for y in part.y..part.bottom() {
                let s = (y - rect.y) as usize * stride + sx;
                dst.row_bytes_mut(y)[dx..dx + len].copy_from_slice(&bytes.as_bytes()[s..s + len]);
            }
        }
        Ok(dst)
    }
}
