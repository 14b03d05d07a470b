//! Pixel-memory accounting and per-thread buffer recycling.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Counts the pixel memory a run holds: region buffers (in use or pooled),
/// sink buffers and in-memory caches. Cheap to clone; clones share counts.
#[derive(Clone, Debug, Default)]
pub struct MemoryTracker(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    current: AtomicU64,
    peak: AtomicU64,
    allocations: AtomicU64,
}

impl MemoryTracker {
    /// A tracker at zero.
    pub fn new() -> MemoryTracker {
        MemoryTracker::default()
    }

    /// Records `bytes` more in use, in one new allocation.
    pub fn add(&self, bytes: u64) {
        self.0.allocations.fetch_add(1, Ordering::Relaxed);
        let now = self.0.current.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.0.peak.fetch_max(now, Ordering::Relaxed);
    }

    /// Records `bytes` released.
    pub fn sub(&self, bytes: u64) {
        self.0.current.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Bytes in use now.
    pub fn current(&self) -> u64 {
        self.0.current.load(Ordering::Relaxed)
    }

    /// The high-water mark.
    pub fn peak(&self) -> u64 {
        self.0.peak.load(Ordering::Relaxed)
    }

    /// Allocations recorded so far. A run whose count does not grow with
    /// the image's size recycles its buffers in the steady state.
    pub fn allocations(&self) -> u64 {
        self.0.allocations.load(Ordering::Relaxed)
    }
}

/// How many idle buffers a pool keeps for reuse.
const MAX_IDLE: usize = 6;

#[derive(Debug)]
struct PoolInner {
    idle: Mutex<Vec<Vec<u64>>>,
    tracker: MemoryTracker,
}

/// A recycler of pixel buffers, one per worker thread, so that the steady
/// state of a run allocates nothing. Buffers dropped on any thread go back
/// to the pool they came from.
#[derive(Clone, Debug)]
pub struct BufferPool(Arc<PoolInner>);

impl BufferPool {
    /// A pool whose allocations are counted by `tracker`.
    pub fn new(tracker: MemoryTracker) -> BufferPool {
        BufferPool(Arc::new(PoolInner {
            idle: Mutex::new(Vec::new()),
            tracker,
        }))
    }

    /// The tracker this pool reports to.
    pub fn tracker(&self) -> &MemoryTracker {
        &self.0.tracker
    }

    /// A buffer of at least `bytes` bytes, 8-byte aligned. Its contents are
    /// unspecified (a recycled buffer keeps old pixels): write before reading.
    pub fn get(&self, bytes: usize) -> PixelBuf {
        let words = bytes.div_ceil(8);
        let mut idle = self.0.idle.lock();
        // Best fit among the idle buffers.
        let best = idle
            .iter()
            .enumerate()
            .filter(|(_, b)| b.len() >= words)
            .min_by_key(|(_, b)| b.len())
            .map(|(i, _)| i);
        let data = match best {
            Some(i) => idle.swap_remove(i),
            None => {
                // Nothing fits: drop the smallest idle buffer so the pool
                // does not grow without bound, then allocate.
                if idle.len() >= MAX_IDLE / 2 {
                    let smallest = idle
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, b)| b.len())
                        .map(|(i, _)| i);
                    if let Some(i) = smallest {
                        let b = idle.swap_remove(i);
                        self.0.tracker.sub(b.len() as u64 * 8);
                    }
                }
                drop(idle);
                self.0.tracker.add(words as u64 * 8);
                vec![0u64; words]
            }
        };
        PixelBuf {
            data,
            bytes,
            pool: Some(self.0.clone()),
        }
    }
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut *self.idle.lock());
        self.tracker
            .sub(idle.iter().map(|b| b.len() as u64 * 8).sum());
    }
}

/// An owned, 8-byte-aligned byte buffer, returned to its pool on drop.
#[derive(Debug)]
pub struct PixelBuf {
    data: Vec<u64>,
    bytes: usize,
    pool: Option<Arc<PoolInner>>,
}

impl PixelBuf {
    /// A zeroed buffer outside any pool (not recycled; counted nowhere).
    pub fn unpooled(bytes: usize) -> PixelBuf {
        PixelBuf {
            data: vec![0u64; bytes.div_ceil(8)],
            bytes,
            pool: None,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes
    }

    /// `true` if the buffer holds no byte.
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.data)[..self.bytes]
    }

    /// The bytes, mutable.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.data)[..self.bytes]
    }
}

impl Drop for PixelBuf {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let data = std::mem::take(&mut self.data);
            let mut idle = pool.idle.lock();
            if idle.len() < MAX_IDLE {
                idle.push(data);
            } else {
                drop(idle);
                pool.tracker.sub(data.len() as u64 * 8);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_recycles_and_tracks() {
        let t = MemoryTracker::new();
        let pool = BufferPool::new(t.clone());
        let a = pool.get(1000);
        assert_eq!(t.current(), 1000);
        drop(a);
        // Kept idle, still counted, and reused without a new allocation.
        let b = pool.get(800);
        assert_eq!(t.current(), 1000);
        assert_eq!(b.len(), 800);
        drop(b);
        drop(pool);
        assert_eq!(t.current(), 0);
        assert_eq!(t.peak(), 1000);
    }
}
