//! Access planning: a source that can only be read top to bottom, and the
//! cache the planner puts in front of it when a graph reads it out of
//! order.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example sequential_source
//! ```
//!
//! The source stands for a streaming decoder: a `RowReader` that produces
//! rows of a 4000x3000 image strictly top to bottom (row `y` holds the
//! value `y mod 256`), wrapped in the engine's `SequentialSource`. Three
//! runs on the null sink follow: a point operation, which reads rows in
//! order and needs no cache; a vertical flip, which reads the last rows
//! first, so the planner fills a cache in memory before the main pass; and
//! the same flip with the in-memory limit set to zero, so the cache goes to
//! an unnamed, memory-mapped temporary file. Nothing is written to disk
//! except that temporary file, which disappears with the run.

use gigapix::core::sequential::{RowReader, SequentialSource};
use gigapix::{BandFormat, Direction, Header, Image, Result, RunOptions};

// ANCHOR: reader
/// Rows of one `u8` band, top to bottom only: row `y` is all `y mod 256`.
struct Stripes {
    width: usize,
    next_row: u32,
}

impl RowReader for Stripes {
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
        for row in buf.chunks_exact_mut(self.width) {
            row.fill(self.next_row as u8);
            self.next_row += 1;
        }
        Ok(())
    }
}

/// A lazy image over a fresh `Stripes` reader per run.
fn stripes(width: u32, height: u32) -> Image {
    let header = Header::new(width, height, 1, BandFormat::U8);
    let open = move || {
        Ok(Stripes {
            width: width as usize,
            next_row: 0,
        })
    };
    let source = SequentialSource::new("stripes", header, Box::new(open));
    Image::from(gigapix::core::Image::new(source, vec![]))
}
// ANCHOR_END: reader

fn main() -> Result<()> {
    let image = stripes(4000, 3000);

    // ANCHOR: plan
    // In order: the source is read once, top to bottom, no cache.
    let in_order = image.linear(2.0, 1.0).run(RunOptions::new()).discard()?;
    assert_eq!(in_order.caches, 0);

    // A vertical flip asks for the last rows first: the planner inserts a
    // cache, filled top to bottom before the main pass (12 MB: in memory).
    let flipped = image.flip(Direction::Vertical);
    let cached = flipped.run(RunOptions::new()).discard()?;
    assert_eq!(cached.caches, 1);

    // Over the in-memory limit (100 MB by default; 0 here) the cache goes
    // to an unnamed temporary file, memory-mapped for the main pass.
    let options = RunOptions::new().memory_cache_limit(0);
    let mapped = flipped.run(options).discard()?;
    // ANCHOR_END: plan

    println!("linear (rows in order):     {in_order}");
    println!("flip vertical, cache in RAM: {cached}");
    println!("flip vertical, cache file:   {mapped}");

    // Row 0 of the flip is row 2999 of the source: 2999 mod 256 = 183.
    let top = flipped.crop(0, 0, 4, 1).to_vec()?;
    println!("first pixels of the flipped image: {top:?}");
    assert_eq!(top, [183; 4]);
    Ok(())
}
