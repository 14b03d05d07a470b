//! The sinks: ordered (to an encoder), memory, reduce and null.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use gigapix_core::mapped::MappedFile;
use gigapix_core::memory::{BufferPool, PixelBuf};
use gigapix_core::{BandWriter, Error, ErrorKind, Image, Rect, Reducer, Region, Result, StopFlags};
use parking_lot::Mutex;

use crate::estimate::{SinkKind, fit};
use crate::options::{Order, RunOptions, RunReport};
use crate::pass::{Gate, Shared, band_tiles, compute_band, ordered_indices};
use crate::plan::{CacheStore, Plan, as_cache, geometry};

/// Plans `image`, fills the caches the plan needs, then runs `main` as the
/// main pass and builds the report.
fn execute(
    image: &Image,
    opts: &RunOptions,
    (sink, codec): (SinkKind, &dyn Fn(u32) -> u64),
    main: impl FnOnce(&Shared, &Plan) -> Result<()>,
) -> Result<RunReport> {
    let start = Instant::now();
    let mut opts = opts.clone();
    if sink == SinkKind::Ordered {
        opts.order = Order::Forward;
    }
    let (plan, _, limit) = fit(image, &opts, sink, codec)?;
    let total =
        plan.root.header().pixels() + plan.caches.iter().map(|c| c.header().pixels()).sum::<u64>();
    let shared = Shared::new(
        StopFlags::new(opts.cancel.clone()),
        total,
        opts.progress.clone(),
    );
    for cache in &plan.caches {
        fill_cache(&shared, cache, plan.threads, limit)?;
    }
    Plan::configure(&plan.root, plan.threads, plan.tile);
    main(&shared, &plan)?;
    if let Some(e) = shared.take_error() {
        return Err(e);
    }
    shared.report_progress();
    Ok(RunReport {
        elapsed: start.elapsed(),
        threads: plan.threads,
        pixels: plan.root.header().pixels(),
        tile: plan.tile,
        peak_pixel_bytes: shared.tracker.peak(),
        pixel_allocations: shared.tracker.allocations(),
        caches: plan.caches.len(),
        warnings: shared.flags.warnings(),
    })
}

/// Fills one cache the planner inserted: its input computed top to bottom
/// into memory, or into an unnamed temporary file mapped afterwards.
fn fill_cache(shared: &Shared, cache_node: &Image, threads: usize, limit: u64) -> Result<()> {
    let cache = as_cache(cache_node).expect("plan lists only caches");
    if cache.is_filled() {
        return Ok(());
    }
    let input = &cache_node.inputs()[0];
    let tile = geometry(input);
    Plan::configure(input, threads, tile);
    let bytes = input.header().image_bytes();
    let store = if bytes <= limit {
        let pool = BufferPool::new(shared.tracker.clone());
        let mut w = MemoryWriter {
            buf: pool.get(bytes as usize),
            row_bytes: input.header().row_bytes(),
        };
        ordered_pass(shared, input, threads, tile, &mut w)?;
        CacheStore::Memory(Arc::new(w.buf))
    } else {
        let file = tempfile::tempfile().map_err(|e| Error::io("temporary cache file", e))?;
        let mut w = FileWriter(std::io::BufWriter::with_capacity(1 << 20, file));
        ordered_pass(shared, input, threads, tile, &mut w)?;
        let file =
            w.0.into_inner()
                .map_err(|e| Error::io("temporary cache file", e.into_error()))?;
        CacheStore::Mapped(MappedFile::open(&file, bytes, "temporary cache file")?)
    };
    cache.fill(store);
    Ok(())
}

struct MemoryWriter {
    buf: PixelBuf,
    row_bytes: usize,
}

impl BandWriter for MemoryWriter {
    fn write_band(&mut self, y: u32, _rows: u32, data: &[u8]) -> Result<()> {
        let at = y as usize * self.row_bytes;
        self.buf.as_bytes_mut()[at..at + data.len()].copy_from_slice(data);
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

struct FileWriter(std::io::BufWriter<std::fs::File>);

impl BandWriter for FileWriter {
    fn write_band(&mut self, _y: u32, _rows: u32, data: &[u8]) -> Result<()> {
        self.0
            .write_all(data)
            .map_err(|e| Error::io("temporary cache file", e))
    }
    fn finish(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

/// The ordered pass: workers compute full-width bands ahead, a writer thread
/// hands them to `writer` strictly top to bottom. At most `threads + 2`
/// band buffers exist; a worker takes a free buffer *before* it takes a
/// band number, so the lowest unwritten band always has a buffer and the
/// pass cannot deadlock. When the writer has a [`BandEncoder`] for bands
/// of this height, the workers also encode each band, straight from its
/// region when it is one packed region (no copy at all), and the writer
/// thread only writes the bytes out; the buffer slots still bound how far
/// ahead the workers run.
fn ordered_pass(
    shared: &Shared,
    image: &Image,
    threads: usize,
    tile: (u32, u32),
    writer: &mut dyn BandWriter,
) -> Result<()> {
    let h = image.header();
    let band_h = tile.1 as i64;
    let bands = (h.height as usize).div_ceil(band_h as usize);
    let threads = threads.min(bands).max(1);
    let band_bytes = band_h as usize * h.row_bytes();
    let encoder = writer.band_encoder(tile.1);
    let pool = BufferPool::new(shared.tracker.clone());
    let (free_tx, free_rx) = crossbeam_channel::bounded::<Option<PixelBuf>>(threads + 2);
    for _ in 0..threads + 2 {
        free_tx.send(None).expect("channel has room");
    }
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<(usize, Band)>();
    let next = AtomicUsize::new(0);
    let height = h.height as i64;
    let write_behind = move || {
        let mut pending = BTreeMap::new();
        let mut want = 0usize;
        while want < bands {
            // Workers hold the senders; if they stop on an error the flags
            // say so, and the writer leaves too.
            let (i, band) = match done_rx.recv_timeout(std::time::Duration::from_millis(20)) {
                Ok(item) => item,
                Err(_) if shared.flags.check().is_err() => return,
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
            };
            pending.insert(i, band);
            while let Some(band) = pending.remove(&want) {
                let y = want as i64 * band_h;
                let rows = band_h.min(height - y);
                let len = rows as usize * image.header().row_bytes();
                let (y, rows) = (y as u32, rows as u32);
                let (r, buf) = match band {
                    Band::Pixels(buf) => (
                        shared.capture(|| writer.write_band(y, rows, &buf.as_bytes()[..len])),
                        Some(buf),
                    ),
                    Band::Encoded(bytes, buf) => (
                        shared.capture(|| writer.write_encoded(y, rows, &bytes)),
                        buf,
                    ),
                };
                if r.is_none() {
                    return;
                }
                want += 1;
                // Workers may all have left; then the buffer is not needed.
                let _ = free_tx.send(buf);
            }
        }
    };
    shared.run(
        threads,
        |ctx| {
            let done_tx = done_tx.clone();
            loop {
                shared.flags.check()?;
                let Ok(buf) = free_rx.recv() else {
                    return Ok(());
                };
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bands {
                    return Ok(());
                }
                let y = i as i64 * band_h;
                let rows = band_h.min(height - y);
                let band = match &encoder {
                    Some(encoder) => {
                        let mut buf = buf;
                        let bytes = if tile.0 >= h.width {
                            // One region makes the band: encode its rows
                            // where they are if they are packed.
                            let r = Rect::new(0, y, i64::from(h.width), rows);
                            let region = ctx.region(image, r)?;
                            shared.add_done(r.area());
                            match region.packed_bytes() {
                                Some(bytes) => encoder.encode(y as u32, rows as u32, bytes)?,
                                None => {
                                    let b = buf.get_or_insert_with(|| pool.get(band_bytes));
                                    region.copy_to(b.as_bytes_mut(), h.row_bytes());
                                    let len = rows as usize * h.row_bytes();
                                    encoder.encode(y as u32, rows as u32, &b.as_bytes()[..len])?
                                }
                            }
                        } else {
                            let b = buf.get_or_insert_with(|| pool.get(band_bytes));
                            compute_band(shared, ctx, image, y, rows, tile.0, b.as_bytes_mut())?;
                            let len = rows as usize * h.row_bytes();
                            encoder.encode(y as u32, rows as u32, &b.as_bytes()[..len])?
                        };
                        Band::Encoded(bytes, buf)
                    }
                    None => {
                        let mut buf = buf.unwrap_or_else(|| pool.get(band_bytes));
                        compute_band(shared, ctx, image, y, rows, tile.0, buf.as_bytes_mut())?;
                        Band::Pixels(buf)
                    }
                };
                if done_tx.send((i, band)).is_err() {
                    return Ok(());
                }
            }
        },
        Some(Box::new(write_behind)),
    );
    match shared.take_error() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A finished band of the ordered pass: its pixels, or what the writer's
/// band encoder made of them (with the buffer slot it held, if it needed
/// one).
enum Band {
    Pixels(PixelBuf),
    Encoded(Vec<u8>, Option<PixelBuf>),
}

/// Computes `image` and hands it to `writer` as bands of full rows, top to
/// bottom, while workers compute ahead (write-behind on its own thread). On
/// success `writer.finish()` is called; on error the writer is dropped
/// unfinished, which discards its output.
pub fn write(image: &Image, writer: Box<dyn BandWriter>, opts: &RunOptions) -> Result<RunReport> {
    // The plan asks the encoder for its buffers before the main pass
    // borrows it.
    // A writer's own band height, for full-width bands the caller left to
    // the planner.
    let mut opts = opts.clone();
    if opts.tile.is_none()
        && let Some(rows) = writer.band_rows()
        && geometry(image).0 >= image.width()
    {
        opts.tile = Some((image.width(), rows.clamp(1, image.height().max(1))));
    }
    let writer = Mutex::new(writer);
    let codec = |rows: u32| writer.lock().buffer_bytes(rows);
    let report = execute(image, &opts, (SinkKind::Ordered, &codec), |shared, plan| {
        let mut w = writer.lock();
        ordered_pass(shared, &plan.root, plan.threads, plan.tile, w.as_mut())
    })?;
    writer.into_inner().finish()?;
    Ok(report)
}

/// Computes `image` straight into `buffer` (packed rows, native byte
/// order): one copy per region, no intermediate whole-image buffer.
/// `buffer` must be exactly `image.header().image_bytes()` long.
pub fn write_into(image: &Image, buffer: &mut [u8], opts: &RunOptions) -> Result<RunReport> {
    let h = *image.header();
    if buffer.len() as u64 != h.image_bytes() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "buffer has {} bytes, the image ({h}) needs {}",
                buffer.len(),
                h.image_bytes()
            ),
        ));
    }
    let order = opts.order;
    execute(image, opts, (SinkKind::Memory, &|_| 0), |shared, plan| {
        let band_h = plan.tile.1 as usize;
        let mut chunks: Vec<Option<(usize, &mut [u8])>> = buffer
            .chunks_mut(band_h * h.row_bytes())
            .enumerate()
            .map(Some)
            .collect();
        let order = ordered_indices(chunks.len(), order);
        let queue: Vec<_> = order
            .into_iter()
            .map(|i| chunks[i].take().expect("each band once"))
            .collect();
        let queue = Mutex::new(queue.into_iter().enumerate());
        let threads = plan.threads.min(chunks.len()).max(1);
        let gate = Gate::new(threads + 2);
        shared.run(
            threads,
            |ctx| {
                loop {
                    shared.flags.check()?;
                    let Some((pos, (i, dst))) = queue.lock().next() else {
                        return Ok(());
                    };
                    gate.wait_turn(pos, &shared.flags)?;
                    let y = (i * band_h) as i64;
                    let rows = (dst.len() / h.row_bytes()) as i64;
                    compute_band(shared, ctx, &plan.root, y, rows, plan.tile.0, dst)?;
                    gate.finish(pos);
                }
            },
            None,
        );
        Ok(())
    })
}

/// Computes every tile of `image` and feeds it to a per-thread accumulator
/// made by `make`; the accumulators are merged at the end.
pub fn reduce<R: Reducer>(
    image: &Image,
    make: impl Fn() -> R + Sync,
    opts: &RunOptions,
) -> Result<(R, RunReport)> {
    let mut result = None;
    let report = execute(image, opts, (SinkKind::Reduce, &|_| 0), |shared, plan| {
        let (tw, th) = plan.tile;
        let tiles: Vec<Rect> = (0..image.height() as i64)
            .step_by(th as usize)
            .flat_map(|y| {
                band_tiles(
                    &plan.root,
                    y,
                    (th as i64).min(image.height() as i64 - y),
                    tw,
                )
            })
            .collect();
        let order = ordered_indices(tiles.len(), opts.order);
        let next = AtomicUsize::new(0);
        let threads = plan.threads.min(tiles.len()).max(1);
        let per_row = (image.width() as usize).div_ceil(tw as usize);
        let gate = Gate::new((threads + 2) * per_row);
        let parts = shared.run(
            threads,
            |ctx| {
                let mut acc = make();
                loop {
                    shared.flags.check()?;
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&t) = order.get(i) else {
                        return Ok(acc);
                    };
                    gate.wait_turn(i, &shared.flags)?;
                    let region: Region = ctx.region(&plan.root, tiles[t])?;
                    acc.add(&region)?;
                    shared.add_done(tiles[t].area());
                    gate.finish(i);
                }
            },
            None,
        );
        let mut merged: Option<R> = None;
        for part in parts.into_iter().flatten() {
            match &mut merged {
                None => merged = Some(part),
                Some(m) => m.merge(part),
            }
        }
        result = merged;
        Ok(())
    })?;
    let acc = result
        .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "reduce produced no result"))?;
    Ok((acc, report))
}

/// Pulls every pixel of `image` and discards it (for measuring).
pub fn discard(image: &Image, opts: &RunOptions) -> Result<RunReport> {
    struct Nothing;
    impl Reducer for Nothing {
        fn add(&mut self, _: &Region) -> Result<()> {
            Ok(())
        }
        fn merge(&mut self, _: Nothing) {}
    }
    reduce(image, || Nothing, opts).map(|(_, report)| report)
}
