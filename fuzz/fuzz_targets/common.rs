//! Shared by every target: write the input to a file, open it with small
//! limits, in both access modes, and pull every pixel. Any outcome but a
//! panic, a hang or an abort is fine.

use std::io::Write;

use gigapix_core::{Ctx, Limits, Rect};
use gigapix_io::{AccessMode, OpenOptions, open};

/// Decodes `data` as a file named `name` (the extension matters only for
/// savers; loaders sniff the bytes).
pub fn decode(data: &[u8], name: &str) {
    decode_with(data, name, &[]);
}

/// [`decode`] with load options (`key`, `value`) as well.
#[allow(dead_code)] // only some targets use it
pub fn decode_with(data: &[u8], name: &str, set: &[(&str, &str)]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join(name);
    let Ok(mut f) = std::fs::File::create(&path) else {
        return;
    };
    if f.write_all(data).is_err() {
        return;
    }
    drop(f);
    // Small limits, process-wide too (loaders size some buffers by the
    // process-wide `max_alloc`): a 4 GiB chunk is within the default
    // limits but beyond libFuzzer's memory limit.
    let limits = Limits::DEFAULT.max_pixels(1 << 22).max_alloc(256 << 20);
    Limits::set_default(limits);
    for access in [AccessMode::Random, AccessMode::Sequential] {
        let mut options = OpenOptions::new().access(access).limits(limits);
        for (key, value) in set {
            options = options.set(key, value);
        }
        let Ok(image) = open(&path, &options) else {
            continue;
        };
        let mut ctx = Ctx::standalone();
        let (w, h) = (image.width() as i64, image.height() as i64);
        let mut y = 0;
        while y < h {
            let rows = 16.min(h - y);
            if ctx.region(&image, Rect::new(0, y, w, rows)).is_err() {
                break;
            }
            y += rows;
        }
    }
}
