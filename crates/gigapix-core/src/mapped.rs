//! Memory-mapped files as zero-copy pixel storage, with bounded residency.
//!
//! Pages of a file map that a process has touched count as its resident
//! memory: a full scan of a 1.2 GB map leaves 1.2 GB of RSS. [`MappedFile`]
//! remembers which chunks of the file were used most recently and releases
//! the others with `madvise(MADV_DONTNEED)`, so a pass over a file of any
//! size keeps a few tens of megabytes resident. For a read-only shared file
//! map this loses nothing: a released page is read back from the page cache
//! if it is touched again.

use std::fs::File;
use std::sync::Arc;

use memmap2::{Mmap, UncheckedAdvice};
use parking_lot::Mutex;

use crate::region::SharedPixels;
use crate::{Error, ErrorKind, Result};

/// Bytes per residency chunk (a multiple of every page size in use).
const CHUNK: usize = 2 << 20;
/// Chunks kept resident before the least recently used is released.
const RESIDENT_CHUNKS: usize = 8;
/// Bytes of a map a pass keeps resident when its requests are small.
pub const RESIDENT_BYTES: u64 = (CHUNK * RESIDENT_CHUNKS) as u64;

/// Chunks kept resident for requests spanning at most `span` chunks each,
/// made by `threads` workers: every worker's request and one more stay
/// mapped. A chunk released while a region still reads it would be
/// faulted back in and then stay resident (nothing releases it again), so
/// the window must hold every request in flight.
fn window_chunks(span: usize, threads: usize) -> usize {
    RESIDENT_CHUNKS.max((threads.max(1) + 1) * span)
}

/// Bytes of a map a pass keeps resident at most when `threads` workers
/// each read `request` bytes at a time (for memory estimates).
pub fn resident_bytes(request: u64, threads: usize) -> u64 {
    // A request of `request` bytes touches at most this many chunks.
    let span = (request as usize).div_ceil(CHUNK) + 1;
    (window_chunks(span, threads) * CHUNK) as u64
}

/// A read-only memory map of a whole file, shared by every region that views
/// it.
pub struct MappedFile {
    map: Mmap,
    /// Recently used chunks, most recent last, and the largest request
    /// seen (chunks).
    recent: Mutex<(Vec<usize>, usize)>,
    /// Worker threads that may read at once.
    threads: usize,
}

impl std::fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedFile")
            .field("len", &self.map.len())
            .finish()
    }
}

impl MappedFile {
    /// Maps `file` read-only. Fails, before mapping, if the file is shorter
    /// than `min_len` bytes, so a file that lies about its size is an error
    /// here and never a SIGBUS later.
    pub fn open(file: &File, min_len: u64, name: &str) -> Result<Arc<MappedFile>> {
        let len = file.metadata().map_err(|e| Error::io(name, e))?.len();
        if len < min_len {
            return Err(Error::new(
                ErrorKind::Format,
                format!("{name}: file is truncated: {len} bytes, the header needs {min_len}"),
            ));
        }
        if len == 0 {
            return Err(Error::new(
                ErrorKind::Format,
                format!("{name}: file is empty"),
            ));
        }
        // SAFETY: the map is read-only (PROT_READ, MAP_SHARED). The one
        // hazard is another process truncating the file while it is mapped
        // (SIGBUS on access); the length was checked above, and the docs of
        // the loaders state that inputs must not be truncated during a run,
        // as every mmap-based reader (libvips included) requires.
        let map = unsafe { Mmap::map(file) }.map_err(|e| Error::io(name, e))?;
        Ok(Arc::new(MappedFile {
            map,
            recent: Mutex::new((Vec::new(), 1)),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }))
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// `true` if the map is empty (never, for a successfully opened file).
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Notes that `start..end` is about to be read: its chunks become most
    /// recently used, and chunks beyond the residency budget are released.
    pub fn touch(&self, start: usize, end: usize) {
        if end <= start {
            return;
        }
        let first = start / CHUNK;
        let last = (end - 1) / CHUNK;
        let mut guard = self.recent.lock();
        let (recent, span) = &mut *guard;
        *span = (*span).max(last - first + 1);
        for c in first..=last {
            if let Some(i) = recent.iter().position(|&r| r == c) {
                recent.remove(i);
            }
            recent.push(c);
        }
        let keep = window_chunks(*span, self.threads);
        while recent.len() > keep {
            let c = recent.remove(0);
            let off = c * CHUNK;
            let len = CHUNK.min(self.map.len() - off);
            // SAFETY: the map is a read-only shared file map, so
            // MADV_DONTNEED only drops the page-table entries: later reads
            // of the range fault the same bytes back in from the page cache.
            // No region ever observes different data. `off` is a multiple of
            // CHUNK and so page aligned, and `off + len` is within the map.
            // A failure only means the pages stay resident, so it is ignored.
            let _ = unsafe {
                self.map
                    .unchecked_advise_range(UncheckedAdvice::DontNeed, off, len)
            };
        }
    }
}

impl SharedPixels for MappedFile {
    fn bytes(&self) -> &[u8] {
        &self.map
    }
}
