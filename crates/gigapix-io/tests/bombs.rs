//! Small damaged files must not make a loader allocate much: the largest
//! single allocation while opening and reading each is bounded.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use gigapix_core::{Ctx, Rect};
use gigapix_io::{AccessMode, OpenOptions, open};

/// The system allocator, remembering the largest request.
struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// only addition is an atomic maximum of the requested size.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as it is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

/// Opens `path` in both access modes, and decodes its bytes, and pulls
/// every row; any error is fine, a panic is not.
fn decode(path: &Path) {
    for access in [AccessMode::Random, AccessMode::Sequential] {
        let Ok(image) = open(path, &OpenOptions::default().access(access)) else {
            continue;
        };
        rows(&image);
    }
    let bytes = std::fs::read(path).unwrap();
    if let Ok(image) = gigapix_io::decode(bytes, &OpenOptions::default()) {
        rows(&image);
    }
}

/// Pulls every row of `image`, until an error.
fn rows(image: &gigapix_core::Image) {
    let mut ctx = Ctx::standalone();
    let (w, h) = (image.width() as i64, image.height() as i64);
    for y in 0..h {
        if ctx.region(image, Rect::new(0, y, w, 1)).is_err() {
            break;
        }
    }
}

#[test]
fn a_tag_count_of_millions_in_a_small_file_allocates_little() {
    // Found by the `tiff` fuzz target: 298 bytes whose Orientation tag
    // claims 33 million values, which the `tiff` crate once reserved as a
    // 2 GiB list before reading any. A value cannot be longer than the file.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiff/fuzz-huge-tag-count.tif");
    decode(&path);
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(largest < 64 << 20, "largest allocation {largest} bytes");
}
