//! The pieces every pyramid writer shares (the pyramidal TIFF writer, and
//! the deep-zoom writers of `dzsave`): the level sizes, the [`Shrinker`]
//! that builds every lower level by 2x2 averages as the bands of the full
//! image arrive, the [`TileCutter`] that cuts one level's rows into tiles,
//! and the [`EncodePool`] that encodes tiles on worker threads with a
//! bounded queue.
//!
//! One pass over the input: the sink hands bands of level 0 top to bottom;
//! each level keeps one pending row (the first of a pair) and emits a row
//! of the next level as soon as the pair is complete, so memory is two
//! rows per level whatever the height, and no level is ever recomputed from
//! the full image.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use gigapix_core::{BandFormat, Error, ErrorKind, Header, Result};

/// Level sizes: level 0 is `width` x `height`, each next level
/// `ceil(w/2)` x `ceil(h/2)`, until `stop(w, h)` is true for the last one
/// pushed (it is included). Also stops at 1x1 (the halving cannot go on).
pub(crate) fn level_sizes(
    width: u32,
    height: u32,
    stop: impl Fn(u32, u32) -> bool,
) -> Vec<(u32, u32)> {
    let mut sizes = vec![(width, height)];
    let (mut w, mut h) = (width, height);
    while !stop(w, h) && (w > 1 || h > 1) {
        w = w.div_ceil(2);
        h = h.div_ceil(2);
        sizes.push((w, h));
    }
    sizes
}

/// Receives the full-width rows of every level as they are completed, top
/// to bottom within each level (level 0 is the image itself).
pub(crate) trait LevelSink {
    /// `rows` rows of level `level` starting at row `y`, packed.
    fn rows(&mut self, level: usize, y: u32, rows: u32, data: &[u8]) -> Result<()>;
}

/// One sample type, read from and written to native-endian bytes.
trait Sample: Copy {
    const SIZE: usize;
    fn load(b: &[u8]) -> Self;
    fn to_f64(self) -> f64;
    /// The sample nearest `v`: integers rounded half up (`floor(v + 0.5)`)
    /// and clamped to the type's range, floats cast.
    fn from_f64(v: f64) -> Self;
    fn store(self, b: &mut [u8]);
}

macro_rules! sample {
    ($t:ty, $int:expr) => {
        impl Sample for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            #[inline(always)]
            fn load(b: &[u8]) -> Self {
                <$t>::from_ne_bytes(b[..Self::SIZE].try_into().expect("sample size"))
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                // `as` saturates at the type's range.
                if $int {
                    (v + 0.5).floor() as $t
                } else {
                    v as $t
                }
            }
            #[inline(always)]
            fn store(self, b: &mut [u8]) {
                b[..Self::SIZE].copy_from_slice(&self.to_ne_bytes());
            }
        }
    };
}
sample!(u8, true);
sample!(i8, true);
sample!(u16, true);
sample!(i16, true);
sample!(u32, true);
sample!(i32, true);
sample!(f32, false);
sample!(f64, false);

/// What the chain of means is carried in: `f64`, or `u32` fixed point for
/// `u8` images (see [`FX`]).
trait Mean: Copy + Default + std::ops::Add<Output = Self> {
    /// The mean of a sum of four.
    fn of4(self) -> Self;
    /// The mean of a sum of two.
    fn of2(self) -> Self;
}

impl Mean for f64 {
    #[inline(always)]
    fn of4(self) -> f64 {
        self * 0.25
    }
    #[inline(always)]
    fn of2(self) -> f64 {
        self * 0.5
    }
}

impl Mean for u32 {
    /// Rounded to the nearest unit (2^-16 of a level).
    #[inline(always)]
    fn of4(self) -> u32 {
        (self + 2) >> 2
    }
    #[inline(always)]
    fn of2(self) -> u32 {
        (self + 1) >> 1
    }
}

/// The 2x2 means of rows `a` and `b` (`b` `None` for an odd last row) of
/// a level `in_w` pixels wide, over the pixels that exist (4, 2 or 1);
/// `load(row, i)` reads sample `i` of a row.
#[inline(always)]
fn shrink_into<R: ?Sized, M: Mean>(
    a: &R,
    b: Option<&R>,
    in_w: usize,
    bands: usize,
    load: impl Fn(&R, usize) -> M,
    out: &mut [M],
) {
    let pairs = in_w / 2;
    match b {
        Some(b) => {
            for x in 0..pairs {
                let i = 2 * x * bands;
                for c in 0..bands {
                    let s = (load(a, i + c) + load(b, i + c))
                        + (load(a, i + bands + c) + load(b, i + bands + c));
                    out[x * bands + c] = s.of4();
                }
            }
            if in_w % 2 == 1 {
                let i = 2 * pairs * bands;
                for c in 0..bands {
                    out[pairs * bands + c] = (load(a, i + c) + load(b, i + c)).of2();
                }
            }
        }
        None => {
            for x in 0..pairs {
                let i = 2 * x * bands;
                for c in 0..bands {
                    out[x * bands + c] = (load(a, i + c) + load(a, i + bands + c)).of2();
                }
            }
            if in_w % 2 == 1 {
                let i = 2 * pairs * bands;
                for c in 0..bands {
                    out[pairs * bands + c] = load(a, i + c);
                }
            }
        }
    }
}

/// [`shrink_into`] for rows of `T` samples and `B` bands known at compile
/// time, so that the compiler unrolls and vectorises the loops (the u8
/// image and the means, with 1 to 4 bands: the common cases).
#[inline(always)]
fn shrink_fixed<const B: usize, T: Copy, M: Mean>(
    a: &[T],
    b: Option<&[T]>,
    in_w: usize,
    f: impl Fn(T) -> M + Copy,
    out: &mut [M],
) {
    let pairs = in_w / 2;
    let body = &mut out[..pairs * B];
    match b {
        Some(b) => {
            // Vertical sums first (contiguous, vectorised), then the
            // horizontal pairs of whole pixels.
            for ((o, pa), pb) in body
                .chunks_exact_mut(B)
                .zip(a.chunks_exact(2 * B))
                .zip(b.chunks_exact(2 * B))
            {
                let mut v = [M::default(); 8];
                for i in 0..2 * B {
                    v[i] = f(pa[i]) + f(pb[i]);
                }
                for c in 0..B {
                    o[c] = (v[c] + v[B + c]).of4();
                }
            }
        }
        None => {
            for (o, pa) in body.chunks_exact_mut(B).zip(a.chunks_exact(2 * B)) {
                for c in 0..B {
                    o[c] = (f(pa[c]) + f(pa[B + c])).of2();
                }
            }
        }
    }
    if in_w % 2 == 1 {
        let i = 2 * pairs * B;
        for c in 0..B {
            out[pairs * B + c] = match b {
                Some(b) => (f(a[i + c]) + f(b[i + c])).of2(),
                None => f(a[i + c]),
            };
        }
    }
}

/// The 2x2 means of rows of `T`, through [`shrink_fixed`] for 1 to 4
/// bands.
fn shrink_slices<T: Copy, M: Mean>(
    a: &[T],
    b: Option<&[T]>,
    in_w: usize,
    bands: usize,
    f: impl Fn(T) -> M + Copy,
    out: &mut [M],
) {
    match bands {
        1 => shrink_fixed::<1, T, M>(a, b, in_w, f, out),
        2 => shrink_fixed::<2, T, M>(a, b, in_w, f, out),
        3 => shrink_fixed::<3, T, M>(a, b, in_w, f, out),
        4 => shrink_fixed::<4, T, M>(a, b, in_w, f, out),
        _ => shrink_into(a, b, in_w, bands, |r: &[T], i| f(r[i]), out),
    }
}

/// Level 1 from two rows of the image (native samples of `format`).
fn shrink_native(
    format: BandFormat,
    a: &[u8],
    b: Option<&[u8]>,
    in_w: usize,
    bands: usize,
    out: &mut [f64],
) {
    fn generic<S: Sample>(a: &[u8], b: Option<&[u8]>, w: usize, bands: usize, out: &mut [f64]) {
        let load = |r: &[u8], i: usize| S::load(&r[i * S::SIZE..]).to_f64();
        shrink_into(a, b, w, bands, load, out);
    }
    match format {
        BandFormat::U8 => shrink_slices(a, b, in_w, bands, f64::from, out),
        BandFormat::I8 => generic::<i8>(a, b, in_w, bands, out),
        BandFormat::U16 => generic::<u16>(a, b, in_w, bands, out),
        BandFormat::I16 => generic::<i16>(a, b, in_w, bands, out),
        BandFormat::U32 => generic::<u32>(a, b, in_w, bands, out),
        BandFormat::I32 => generic::<i32>(a, b, in_w, bands, out),
        BandFormat::F32 => generic::<f32>(a, b, in_w, bands, out),
        BandFormat::F64 => generic::<f64>(a, b, in_w, bands, out),
    }
}

/// The samples of `format` nearest the means `v`, into `out`.
fn to_native(format: BandFormat, v: &[f64], out: &mut [u8]) {
    fn generic<S: Sample>(v: &[f64], out: &mut [u8]) {
        for (o, &x) in out.chunks_exact_mut(S::SIZE).zip(v) {
            S::from_f64(x).store(o);
        }
    }
    match format {
        BandFormat::U8 => {
            for (o, &x) in out.iter_mut().zip(v) {
                // Means of u8 are in 0..=255: `as` truncates, the floor
                // (through i32, which vectorises).
                *o = (x + 0.5) as i32 as u8;
            }
        }
        BandFormat::I8 => generic::<i8>(v, out),
        BandFormat::U16 => generic::<u16>(v, out),
        BandFormat::I16 => generic::<i16>(v, out),
        BandFormat::U32 => generic::<u32>(v, out),
        BandFormat::I32 => generic::<i32>(v, out),
        BandFormat::F32 => generic::<f32>(v, out),
        BandFormat::F64 => generic::<f64>(v, out),
    }
}

/// Fractional bits of the u8 fast path: the means of a `u8` image are
/// carried as `u32` with 16 fractional bits instead of `f64` (the sums of
/// four stay below 2^26). The first 8 levels are exact (their means are
/// multiples of 4^-8); deeper ones are rounded to 2^-16 of a level, far
/// below the half level of the output rounding, and the integer chain
/// runs about four times faster than the f64 one in the writer's thread.
const FX: u32 = 16;

/// A u8 sample as a fixed-point mean.
#[inline(always)]
fn u8_fx(v: u8) -> u32 {
    u32::from(v) << FX
}

/// The u8 samples nearest the fixed-point means `v`.
fn fx_to_u8(v: &[u32], out: &mut [u8]) {
    for (o, &x) in out.iter_mut().zip(v) {
        *o = ((x + (1 << (FX - 1))) >> FX).min(255) as u8;
    }
}

/// The state of one level (1..) being built from the level above.
struct Level {
    /// Width of the level above (the input of this one).
    in_w: u32,
    in_h: u32,
    /// Rows of the level above seen so far.
    in_seen: u32,
    /// The first row of a pair, waiting for the second: native samples
    /// for level 1 (its input is the image), the unrounded means below.
    pending_raw: Vec<u8>,
    pending: Vec<f64>,
    /// The u8 fast path's `pending` and `out` (see [`FX`]).
    pending_fx: Vec<u32>,
    out_fx: Vec<u32>,
    has_pending: bool,
    /// The output row: the unrounded means, and the samples emitted.
    out: Vec<f64>,
    out_raw: Vec<u8>,
    /// Rows of this level emitted so far.
    emitted: u32,
}

/// Builds levels 1.. from the bands of level 0 by 2x2 averages as the
/// bands arrive (any band height, top to bottom). Memory: two rows per
/// level (plus the band). Odd edges: the last column / row of an odd-sized
/// level averages the pixels that exist (2 or 1).
///
/// Each level is the 2x2 mean of the level above *before rounding*: the
/// chain of means is carried in f64 from level to level (for `u8` images
/// in 16-bit fixed point, see [`FX`]), and only the rows handed to the
/// sink are rounded. Integers round half up
/// (`floor(mean + 0.5)`, clamped; so also for negative means); floats are
/// the mean. Every level is thus the f64 chain of 2x2 means of the full
/// image, rounded once: within half a level of it, however deep (rounding
/// every level, as libvips does, drifts by up to half a level per level).
/// Every band format.
pub(crate) struct Shrinker {
    format: BandFormat,
    bands: usize,
    px: usize,
    width: u32,
    height: u32,
    /// Rows of level 0 received.
    seen: u32,
    levels: Vec<Level>,
}

impl Shrinker {
    /// A shrinker of the image `header` into `levels` levels (level 0, the
    /// image, included: `levels` 1 builds nothing).
    pub(crate) fn new(header: &Header, levels: usize) -> Result<Shrinker> {
        let px = header.pixel_bytes();
        if header.width == 0 || header.height == 0 || header.bands == 0 || levels == 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("pyramid: cannot make {levels} levels of an image of {header}"),
            ));
        }
        let sizes = level_sizes(header.width, header.height, |_, _| false);
        if levels > sizes.len() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "pyramid: an image of {}x{} has at most {} levels, not {levels}",
                    header.width,
                    header.height,
                    sizes.len()
                ),
            ));
        }
        let bands = header.bands as usize;
        let fx = header.format == BandFormat::U8;
        let levels = (1..levels)
            .map(|l| {
                let (in_w, in_h) = sizes[l - 1];
                let in_w_us = in_w as usize;
                let out_w = sizes[l].0 as usize;
                Level {
                    in_w,
                    in_h,
                    in_seen: 0,
                    pending_raw: if l == 1 {
                        vec![0; in_w_us * px]
                    } else {
                        Vec::new()
                    },
                    pending: if l == 1 || fx {
                        Vec::new()
                    } else {
                        vec![0.0; in_w_us * bands]
                    },
                    pending_fx: if l > 1 && fx {
                        vec![0; in_w_us * bands]
                    } else {
                        Vec::new()
                    },
                    out_fx: if fx {
                        vec![0; out_w * bands]
                    } else {
                        Vec::new()
                    },
                    has_pending: false,
                    out: if fx {
                        Vec::new()
                    } else {
                        vec![0.0; out_w * bands]
                    },
                    out_raw: vec![0; out_w * px],
                    emitted: 0,
                }
            })
            .collect();
        Ok(Shrinker {
            format: header.format,
            bands,
            px,
            width: header.width,
            height: header.height,
            seen: 0,
            levels,
        })
    }

    /// Bytes held: the rows of every level.
    pub(crate) fn buffer_bytes(&self) -> u64 {
        self.levels
            .iter()
            .map(|l| {
                (l.pending_raw.len()
                    + l.out_raw.len()
                    + 8 * (l.pending.len() + l.out.len())
                    + 4 * (l.pending_fx.len() + l.out_fx.len())) as u64
            })
            .sum()
    }

    /// Hands the band (`rows` rows from `y`, packed) to `sink` as level 0,
    /// then every row of the lower levels it completes.
    pub(crate) fn push(
        &mut self,
        y: u32,
        rows: u32,
        data: &[u8],
        sink: &mut dyn LevelSink,
    ) -> Result<()> {
        let row_bytes = self.width as usize * self.px;
        if y != self.seen
            || u64::from(y) + u64::from(rows) > u64::from(self.height)
            || data.len() as u64 != u64::from(rows) * row_bytes as u64
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "pyramid: band of {rows} rows at {y} ({} bytes) does not follow row {} of \
                     an image {} rows high with {row_bytes} bytes per row",
                    data.len(),
                    self.seen,
                    self.height
                ),
            ));
        }
        if rows == 0 {
            return Ok(());
        }
        sink.rows(0, y, rows, data)?;
        self.seen += rows;
        if self.levels.is_empty() {
            return Ok(());
        }
        let (format, bands) = (self.format, self.bands);
        for row in data.chunks_exact(row_bytes) {
            let level = &mut self.levels[0];
            level.in_seen += 1;
            if !level.has_pending {
                level.pending_raw.copy_from_slice(row);
                level.has_pending = true;
                if level.in_seen == level.in_h {
                    self.flush_level(0, sink)?;
                }
                continue;
            }
            level.has_pending = false;
            let w = level.in_w as usize;
            if format == BandFormat::U8 {
                let out = &mut level.out_fx;
                shrink_slices(&level.pending_raw, Some(row), w, bands, u8_fx, out);
            } else {
                let out = &mut level.out;
                shrink_native(format, &level.pending_raw, Some(row), w, bands, out);
            }
            self.emit(0, sink)?;
        }
        Ok(())
    }

    /// Gives one row of means of level `index` (the output of level state
    /// `index - 1`: `row`, or `row_fx` on the u8 fast path) to level state
    /// `index`, cascading.
    fn feed(
        &mut self,
        index: usize,
        row: &[f64],
        row_fx: &[u32],
        sink: &mut dyn LevelSink,
    ) -> Result<()> {
        let bands = self.bands;
        let Some(level) = self.levels.get_mut(index) else {
            return Ok(());
        };
        level.in_seen += 1;
        if !level.has_pending {
            level.pending.copy_from_slice(row);
            level.pending_fx.copy_from_slice(row_fx);
            level.has_pending = true;
            if level.in_seen == level.in_h {
                // The odd last row: complete at once.
                return self.flush_level(index, sink);
            }
            return Ok(());
        }
        level.has_pending = false;
        let w = level.in_w as usize;
        if self.format == BandFormat::U8 {
            shrink_slices(
                &level.pending_fx,
                Some(row_fx),
                w,
                bands,
                |v| v,
                &mut level.out_fx,
            );
        } else {
            let load = |r: &[f64], i: usize| r[i];
            shrink_into(
                &level.pending[..],
                Some(row),
                w,
                bands,
                load,
                &mut level.out,
            );
        }
        self.emit(index, sink)
    }

    /// Emits the odd pending row of `levels[index]`, if any.
    fn flush_level(&mut self, index: usize, sink: &mut dyn LevelSink) -> Result<()> {
        let (format, bands) = (self.format, self.bands);
        let level = &mut self.levels[index];
        if !level.has_pending {
            return Ok(());
        }
        level.has_pending = false;
        let w = level.in_w as usize;
        match (index, format) {
            (0, BandFormat::U8) => {
                shrink_slices(&level.pending_raw, None, w, bands, u8_fx, &mut level.out_fx)
            }
            (0, _) => shrink_native(format, &level.pending_raw, None, w, bands, &mut level.out),
            (_, BandFormat::U8) => {
                shrink_slices(&level.pending_fx, None, w, bands, |v| v, &mut level.out_fx)
            }
            _ => shrink_slices(&level.pending, None, w, bands, |v| v, &mut level.out),
        }
        self.emit(index, sink)
    }

    /// Hands the output row of `levels[index]` to the sink (as level
    /// `index + 1`, rounded) and its means to the level below.
    fn emit(&mut self, index: usize, sink: &mut dyn LevelSink) -> Result<()> {
        let format = self.format;
        let level = &mut self.levels[index];
        let y = level.emitted;
        level.emitted += 1;
        if format == BandFormat::U8 {
            fx_to_u8(&level.out_fx, &mut level.out_raw);
        } else {
            to_native(format, &level.out, &mut level.out_raw);
        }
        sink.rows(index + 1, y, 1, &level.out_raw)?;
        if index + 1 == self.levels.len() {
            return Ok(());
        }
        // Moved out while the levels below use `self`.
        let out = std::mem::take(&mut self.levels[index].out);
        let out_fx = std::mem::take(&mut self.levels[index].out_fx);
        let result = self.feed(index + 1, &out, &out_fx, sink);
        self.levels[index].out = out;
        self.levels[index].out_fx = out_fx;
        result
    }

    /// After the last band: checks every row came. (Odd last rows are
    /// emitted as soon as they arrive, so nothing else is pending.)
    pub(crate) fn finish(&mut self, sink: &mut dyn LevelSink) -> Result<()> {
        if self.seen != self.height {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "pyramid: only {} of {} rows were given",
                    self.seen, self.height
                ),
            ));
        }
        for i in 0..self.levels.len() {
            self.flush_level(i, sink)?;
        }
        Ok(())
    }
}

/// How the edge tiles of a [`TileCutter`] are padded to the full tile size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pad {
    /// The level's last column and row repeated (what JPEG tiles want:
    /// no sharp edge to code, no chroma bleeding of black into the edge).
    Replicate,
    /// Zeros.
    Zero,
}

/// A tile cut by a [`TileCutter`]: column and row in the level's tile
/// grid, its size and its packed pixels.
pub(crate) struct Tile {
    /// Column in the tile grid.
    pub col: u32,
    /// Row in the tile grid.
    pub row: u32,
    /// Width of `data` (the full tile size when padded).
    pub width: u32,
    /// Height of `data`.
    pub height: u32,
    /// Packed pixels, `width * height * bytes_per_pixel` bytes.
    pub data: Vec<u8>,
}

/// Cuts one level's rows into tiles of `tile` pixels with `overlap`
/// pixels on each inner side (DeepZoom: tile (c, r) covers x from
/// `c*tile - overlap` to `(c+1)*tile + overlap`, clipped to the level;
/// TIFF: overlap 0). Edge tiles are either cropped to the level (`pad:
/// None`, DeepZoom) or padded to the full tile size, `tile + 2*overlap`
/// (`pad: Some(..)`, see [`Pad`]: the padding is on the right and at the
/// bottom). Holds only the rows tiles still need (`tile + 2*overlap` rows
/// at most).
pub(crate) struct TileCutter {
    level_w: u32,
    level_h: u32,
    px: usize,
    tile_w: u32,
    tile_h: u32,
    overlap: u32,
    pad: Option<Pad>,
    /// Rows held, from `buf_y`.
    buf: Vec<u8>,
    buf_y: u32,
    buf_rows: u32,
    /// The next row expected.
    next_y: u32,
    /// The next tile row to emit.
    tile_row: u32,
    cols: u32,
    tile_rows: u32,
}

impl TileCutter {
    /// A cutter of a level of `level_w` x `level_h` pixels of
    /// `bytes_per_pixel` bytes into `tile`-pixel tiles.
    pub(crate) fn new(
        level_w: u32,
        level_h: u32,
        bytes_per_pixel: usize,
        tile: u32,
        overlap: u32,
        pad: Option<Pad>,
    ) -> TileCutter {
        TileCutter::with_size(
            level_w,
            level_h,
            bytes_per_pixel,
            (tile, tile),
            overlap,
            pad,
        )
    }

    /// A cutter into tiles of `tile_w` x `tile_h` pixels (TIFF tiles and
    /// strips: a strip is a tile as wide as the level).
    pub(crate) fn with_size(
        level_w: u32,
        level_h: u32,
        bytes_per_pixel: usize,
        (tile_w, tile_h): (u32, u32),
        overlap: u32,
        pad: Option<Pad>,
    ) -> TileCutter {
        let (tile_w, tile_h) = (tile_w.max(1), tile_h.max(1));
        TileCutter {
            level_w,
            level_h,
            px: bytes_per_pixel,
            tile_w,
            tile_h,
            overlap,
            pad,
            buf: Vec::new(),
            buf_y: 0,
            buf_rows: 0,
            next_y: 0,
            tile_row: 0,
            cols: level_w.div_ceil(tile_w),
            tile_rows: level_h.div_ceil(tile_h),
        }
    }

    /// Columns and rows of the tile grid.
    pub(crate) fn grid(&self) -> (u32, u32) {
        (self.cols, self.tile_rows)
    }

    /// The pixels `[a, b)` tile `i` covers along a side of `len` pixels
    /// cut in tiles of `tile` (clipped to the level).
    fn span_of(&self, i: u32, tile: u32, len: u32) -> (u32, u32) {
        let a = (u64::from(i) * u64::from(tile)).saturating_sub(u64::from(self.overlap));
        let b =
            ((u64::from(i) + 1) * u64::from(tile) + u64::from(self.overlap)).min(u64::from(len));
        (a as u32, b as u32)
    }

    /// The rows `[y0, y1)` tile row `r` covers.
    fn span(&self, r: u32, len: u32) -> (u32, u32) {
        self.span_of(r, self.tile_h, len)
    }

    /// Bytes held now.
    pub(crate) fn buffer_bytes(&self) -> u64 {
        self.buf.capacity() as u64
    }

    /// Adds `rows` rows from `y` (packed, in order); calls `emit` for
    /// every tile completed, left to right, top to bottom.
    pub(crate) fn rows(
        &mut self,
        y: u32,
        rows: u32,
        data: &[u8],
        emit: &mut dyn FnMut(Tile) -> Result<()>,
    ) -> Result<()> {
        let row_bytes = self.level_w as usize * self.px;
        if y != self.next_y
            || u64::from(y) + u64::from(rows) > u64::from(self.level_h)
            || data.len() as u64 != u64::from(rows) * row_bytes as u64
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "tiles: {rows} rows at {y} ({} bytes) do not follow row {} of a level of \
                     {}x{}",
                    data.len(),
                    self.next_y,
                    self.level_w,
                    self.level_h
                ),
            ));
        }
        let mut rest = data;
        let mut y = y;
        while !rest.is_empty() {
            // Take rows up to the end of the current tile row.
            let (_, need_end) = self.span(self.tile_row, self.level_h);
            let take = (need_end.saturating_sub(y) as usize)
                .min(rest.len() / row_bytes)
                .max(1);
            let (now, later) = rest.split_at(take * row_bytes);
            if self.buf_rows == 0 {
                self.buf_y = y;
            }
            self.buf.extend_from_slice(now);
            self.buf_rows += take as u32;
            y += take as u32;
            self.next_y = y;
            rest = later;
            self.emit_ready(emit)?;
        }
        Ok(())
    }

    /// Emits every tile row whose rows are all held, then drops the rows
    /// no later tile row needs.
    fn emit_ready(&mut self, emit: &mut dyn FnMut(Tile) -> Result<()>) -> Result<()> {
        let row_bytes = self.level_w as usize * self.px;
        while self.tile_row < self.tile_rows {
            let (y0, y1) = self.span(self.tile_row, self.level_h);
            if self.buf_y + self.buf_rows < y1 {
                break;
            }
            for c in 0..self.cols {
                let tile = self.cut(c, self.tile_row, y0, y1);
                emit(tile)?;
            }
            self.tile_row += 1;
            // Rows before the next tile row's first are no longer needed.
            let keep_from = if self.tile_row < self.tile_rows {
                self.span(self.tile_row, self.level_h).0
            } else {
                self.level_h
            };
            let drop_rows = keep_from.saturating_sub(self.buf_y).min(self.buf_rows);
            if drop_rows > 0 {
                self.buf.drain(..drop_rows as usize * row_bytes);
                self.buf_y += drop_rows;
                self.buf_rows -= drop_rows;
            }
        }
        Ok(())
    }

    /// The tile at column `c` of the tile row covering rows `[y0, y1)`.
    fn cut(&self, c: u32, r: u32, y0: u32, y1: u32) -> Tile {
        let (x0, x1) = self.span_of(c, self.tile_w, self.level_w);
        let px = self.px;
        let row_bytes = self.level_w as usize * px;
        let (w, h) = match self.pad {
            Some(_) => (
                self.tile_w + 2 * self.overlap,
                self.tile_h + 2 * self.overlap,
            ),
            None => (x1 - x0, y1 - y0),
        };
        let (vw, vh) = ((x1 - x0) as usize, (y1 - y0) as usize);
        let tile_row = w as usize * px;
        let mut data = vec![0u8; tile_row * h as usize];
        for ty in 0..vh {
            let src = (y0 - self.buf_y) as usize + ty;
            let s = src * row_bytes + x0 as usize * px;
            let d = ty * tile_row;
            data[d..d + vw * px].copy_from_slice(&self.buf[s..s + vw * px]);
            if self.pad == Some(Pad::Replicate) && vw > 0 {
                let (valid, tail) = data[d..d + tile_row].split_at_mut(vw * px);
                let last = &valid[(vw - 1) * px..];
                for p in tail.chunks_exact_mut(px) {
                    p.copy_from_slice(last);
                }
            }
        }
        if self.pad == Some(Pad::Replicate) && vh > 0 && vh < h as usize {
            let last = (vh - 1) * tile_row;
            let (valid, tail) = data.split_at_mut(vh * tile_row);
            let last = &valid[last..];
            for row in tail.chunks_exact_mut(tile_row) {
                row.copy_from_slice(last);
            }
        }
        Tile {
            col: c,
            row: r,
            width: w,
            height: h,
            data,
        }
    }
}

/// A job of an [`EncodePool`].
type Job<T> = Box<dyn FnOnce() -> Result<T> + Send>;

/// Encodes tiles (or anything) on worker threads of its own (independent
/// of gigapix-exec: `threads` given, or `available_parallelism`), with a
/// bounded queue: at most two jobs per thread are in flight, so memory is
/// bounded. Results come back on the caller's thread in any order, through
/// the `drain` callback of [`submit`](EncodePool::submit) and
/// [`finish`](EncodePool::finish); the first error (of a job or of
/// `drain`) stops everything and is returned.
pub(crate) struct EncodePool<T: Send + 'static> {
    jobs: Option<Sender<Job<T>>>,
    done: Receiver<Result<T>>,
    workers: Vec<JoinHandle<()>>,
    in_flight: usize,
    max_in_flight: usize,
    /// Results received while waiting, not yet drained (none in practice:
    /// results are drained as they come).
    ready: VecDeque<T>,
    failed: Option<Error>,
}

impl<T: Send + 'static> EncodePool<T> {
    /// A pool of `threads` workers (0: the machine's available
    /// parallelism), named `name` in thread lists.
    pub(crate) fn new(threads: usize, name: &str) -> Result<EncodePool<T>> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let (job_tx, job_rx) = mpsc::channel::<Job<T>>();
        let (done_tx, done_rx) = mpsc::channel::<Result<T>>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut workers = Vec::with_capacity(threads);
        for _ in 0..threads {
            let rx = job_rx.clone();
            let tx = done_tx.clone();
            let spawned = std::thread::Builder::new()
                .name(name.to_string())
                .spawn(move || worker(&rx, &tx));
            match spawned {
                Ok(h) => workers.push(h),
                Err(e) if workers.is_empty() => {
                    return Err(Error::io(
                        format_args!("{name}: cannot start an encoder thread"),
                        e,
                    ));
                }
                Err(_) => break,
            }
        }
        let max_in_flight = 2 * workers.len();
        Ok(EncodePool {
            jobs: Some(job_tx),
            done: done_rx,
            workers,
            in_flight: 0,
            max_in_flight,
            ready: VecDeque::new(),
            failed: None,
        })
    }

    /// Most jobs in flight at once.
    #[cfg(test)]
    fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    fn check(&self) -> Result<()> {
        match &self.failed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Waits for one result and hands it to `drain`.
    fn receive_one(&mut self, drain: &mut dyn FnMut(T) -> Result<()>) -> Result<()> {
        let result = match self.ready.pop_front() {
            Some(t) => Ok(t),
            None => {
                let r = self.done.recv().map_err(|_| {
                    Error::new(ErrorKind::Io, "encoder: the worker threads stopped")
                })?;
                self.in_flight -= 1;
                r
            }
        };
        let result = result.and_then(&mut *drain);
        if let Err(e) = &result {
            self.failed = Some(e.clone());
            self.stop();
        }
        result
    }

    /// Queues `job`, first waiting (and draining results) while the queue
    /// is full; also drains any result already there.
    pub(crate) fn submit(
        &mut self,
        job: impl FnOnce() -> Result<T> + Send + 'static,
        drain: &mut dyn FnMut(T) -> Result<()>,
    ) -> Result<()> {
        self.check()?;
        while self.in_flight >= self.max_in_flight {
            self.receive_one(drain)?;
        }
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|tx| tx.send(Box::new(job)).is_ok());
        if !sent {
            return Err(Error::new(
                ErrorKind::Io,
                "encoder: the worker threads stopped",
            ));
        }
        self.in_flight += 1;
        // Results already done: drain them without waiting.
        while let Ok(r) = self.done.try_recv() {
            self.in_flight -= 1;
            let r = r.and_then(&mut *drain);
            if let Err(e) = &r {
                self.failed = Some(e.clone());
                self.stop();
                return r;
            }
        }
        Ok(())
    }

    /// Waits for every job queued, draining the results, and stops the
    /// workers.
    pub(crate) fn finish(&mut self, drain: &mut dyn FnMut(T) -> Result<()>) -> Result<()> {
        self.check()?;
        while self.in_flight > 0 {
            self.receive_one(drain)?;
        }
        self.stop();
        Ok(())
    }

    /// Stops the workers and waits for them (jobs queued are dropped).
    fn stop(&mut self) {
        self.jobs = None;
        // Unblock workers waiting to send by emptying the results.
        while self.done.try_recv().is_ok() {}
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl<T: Send + 'static> Drop for EncodePool<T> {
    fn drop(&mut self) {
        self.stop();
    }
}

fn worker<T: Send>(jobs: &Mutex<Receiver<Job<T>>>, done: &Sender<Result<T>>) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // A panic must still answer, or `finish` would wait for ever.
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).unwrap_or_else(|_| {
                Err(Error::new(
                    ErrorKind::Panic,
                    "encoder: a tile encoder panicked",
                ))
            });
        if done.send(result).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic samples of every format, spread over the format's
    /// range (with negatives for signed formats).
    fn image(header: &Header, seed: u64) -> Vec<u8> {
        let n = header.width as usize * header.height as usize * header.bands as usize;
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut out = Vec::with_capacity(n * header.format.size());
        for _ in 0..n {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (s >> 33) as u32;
            match header.format {
                BandFormat::U8 => out.push(r as u8),
                BandFormat::I8 => out.extend((r as i8).to_ne_bytes()),
                BandFormat::U16 => out.extend((r as u16).to_ne_bytes()),
                BandFormat::I16 => out.extend((r as i16).to_ne_bytes()),
                BandFormat::U32 => out.extend((r.wrapping_mul(2_654_435_761)).to_ne_bytes()),
                BandFormat::I32 => out.extend((r.wrapping_mul(2_654_435_761) as i32).to_ne_bytes()),
                BandFormat::F32 => out.extend(((r as f32 / 1e4) - 1e5).to_ne_bytes()),
                BandFormat::F64 => out.extend(((f64::from(r) / 1e4) - 1e5).to_ne_bytes()),
            }
        }
        out
    }

    /// The whole-image f64 reference: level `l+1` is the 2x2 mean of level
    /// `l` over the pixels that exist, never rounded.
    fn reference(header: &Header, data: &[u8], levels: usize) -> Vec<(u32, u32, Vec<f64>)> {
        let b = header.bands as usize;
        let mut cur = header.format.samples_to_f64(data);
        let (mut w, mut h) = (header.width as usize, header.height as usize);
        let mut out = vec![(w as u32, h as u32, cur.clone())];
        for _ in 1..levels {
            let (nw, nh) = (w.div_ceil(2), h.div_ceil(2));
            let mut next = vec![0f64; nw * nh * b];
            for y in 0..nh {
                for x in 0..nw {
                    for c in 0..b {
                        let mut sum = 0.0;
                        let mut n = 0.0;
                        for yy in 2 * y..(2 * y + 2).min(h) {
                            for xx in 2 * x..(2 * x + 2).min(w) {
                                sum += cur[(yy * w + xx) * b + c];
                                n += 1.0;
                            }
                        }
                        next[(y * nw + x) * b + c] = sum / n;
                    }
                }
            }
            cur = next;
            w = nw;
            h = nh;
            out.push((w as u32, h as u32, cur.clone()));
        }
        out
    }

    /// Collects every level's rows, checking their order.
    struct Collect {
        levels: Vec<(u32, Vec<u8>)>,
    }

    impl LevelSink for Collect {
        fn rows(&mut self, level: usize, y: u32, rows: u32, data: &[u8]) -> Result<()> {
            let (next, buf) = &mut self.levels[level];
            assert_eq!(*next, y, "level {level}: rows in order");
            *next += rows;
            buf.extend_from_slice(data);
            Ok(())
        }
    }

    fn run(header: &Header, data: &[u8], levels: usize, band: u32) -> Vec<Vec<u8>> {
        let mut shrinker = Shrinker::new(header, levels).unwrap();
        let mut sink = Collect {
            levels: vec![(0, Vec::new()); levels],
        };
        let row = header.row_bytes();
        let mut y = 0;
        while y < header.height {
            let n = band.min(header.height - y);
            let d = &data[y as usize * row..(y + n) as usize * row];
            shrinker.push(y, n, d, &mut sink).unwrap();
            y += n;
        }
        shrinker.finish(&mut sink).unwrap();
        let sizes = level_sizes(header.width, header.height, |_, _| false);
        for (l, (rows, _)) in sink.levels.iter().enumerate() {
            assert_eq!(*rows, sizes[l].1, "level {l} complete");
        }
        sink.levels.into_iter().map(|(_, d)| d).collect()
    }

    /// Rough cost of the shrinker on a 10000-pixel-wide RGB u8 image
    /// (`cargo test --release -p gigapix-io --lib shrinker_cost --
    /// --ignored --nocapture`).
    #[test]
    #[ignore = "timing"]
    fn shrinker_cost() {
        struct Null;
        impl LevelSink for Null {
            fn rows(&mut self, _: usize, _: u32, _: u32, _: &[u8]) -> Result<()> {
                Ok(())
            }
        }
        let header = Header::new(10000, 2048, 3, BandFormat::U8);
        let data = image(&header.with_size(10000, 64), 3);
        // This thread's CPU time (the machine is shared).
        let cpu = || -> f64 {
            let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        let mut s = Shrinker::new(&header, 7).unwrap();
        let t = cpu();
        for y in (0..2048).step_by(64) {
            s.push(y, 64, &data, &mut Null).unwrap();
        }
        s.finish(&mut Null).unwrap();
        let ns = (cpu() - t) / 2.048e7;
        eprintln!("shrinker: {ns:.2} ns per input pixel");
    }

    #[test]
    fn level_sizes_halve_up_to_the_stop() {
        assert_eq!(
            level_sizes(1000, 601, |w, h| w <= 256 && h <= 256),
            vec![(1000, 601), (500, 301), (250, 151)]
        );
        assert_eq!(
            level_sizes(5, 3, |_, _| false),
            vec![(5, 3), (3, 2), (2, 1), (1, 1)]
        );
        assert_eq!(level_sizes(1, 1, |_, _| false), vec![(1, 1)]);
        assert_eq!(level_sizes(7, 7, |w, h| w * h < 100), vec![(7, 7)]);
    }

    #[test]
    fn levels_equal_the_whole_image_reference_for_every_format() {
        for format in BandFormat::ALL {
            for &(w, h, bands) in &[(37, 23, 3), (16, 16, 1), (1, 9, 2), (9, 1, 4), (64, 33, 3)] {
                let header = Header::new(w, h, bands, format);
                let data = image(&header, u64::from(w * h + bands));
                let n = level_sizes(w, h, |_, _| false).len();
                let want = reference(&header, &data, n);
                for band in [1, 2, 3, 7, 16, h] {
                    let got = run(&header, &data, n, band);
                    for (l, bytes) in got.iter().enumerate() {
                        let got = format.samples_to_f64(bytes);
                        let (lw, lh, ref want) = want[l];
                        assert_eq!(got.len(), (lw * lh * bands) as usize);
                        for (i, (g, r)) in got.iter().zip(want).enumerate() {
                            let ok = if format.is_integer() {
                                // Rounded half up once, clamped.
                                let want = (r + 0.5)
                                    .floor()
                                    .clamp(format.min_value(), format.max_value());
                                *g == want
                            } else if format == BandFormat::F32 {
                                (g - r).abs() <= r.abs() * 1e-6 + 1e-3
                            } else {
                                (g - r).abs() <= r.abs() * 1e-12
                            };
                            assert!(
                                ok,
                                "{format:?} {w}x{h}x{bands} band {band} level {l} sample {i}: \
                                 {g} vs {r}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn bad_bands_are_errors() {
        let header = Header::new(4, 4, 1, BandFormat::U8);
        let mut s = Shrinker::new(&header, 3).unwrap();
        let mut sink = Collect {
            levels: vec![(0, Vec::new()); 3],
        };
        assert!(s.push(1, 1, &[0; 4], &mut sink).is_err());
        assert!(s.push(0, 1, &[0; 3], &mut sink).is_err());
        assert!(s.push(0, 5, &[0; 20], &mut sink).is_err());
        s.push(0, 2, &[0; 8], &mut sink).unwrap();
        assert!(s.finish(&mut sink).is_err());
        assert!(Shrinker::new(&header, 4).is_err());
        assert!(Shrinker::new(&header, 0).is_err());
        // Memory: two rows per built level (level 1: a row of the image,
        // a row of means and its samples; level 2: two rows of means and
        // the samples), the means of u8 in 4-byte fixed point.
        assert_eq!(s.buffer_bytes(), (4 + 2 * 4 + 2) + (2 * 4 + 4 + 1));
    }

    /// The reference tile: cut from the whole level.
    fn reference_tile(
        level: &[u8],
        (w, h): (u32, u32),
        px: usize,
        tile: u32,
        overlap: u32,
        pad: Option<Pad>,
        (c, r): (u32, u32),
    ) -> (u32, u32, Vec<u8>) {
        let clip = |i: u32, len: u32| {
            let a = (i64::from(i) * i64::from(tile) - i64::from(overlap)).max(0);
            let b = ((i64::from(i) + 1) * i64::from(tile) + i64::from(overlap)).min(i64::from(len));
            (a as u32, b as u32)
        };
        let (x0, x1) = clip(c, w);
        let (y0, y1) = clip(r, h);
        let (tw, th) = if pad.is_some() {
            (tile + 2 * overlap, tile + 2 * overlap)
        } else {
            (x1 - x0, y1 - y0)
        };
        let mut out = Vec::new();
        for ty in 0..th {
            for tx in 0..tw {
                let (sx, sy) = (x0 + tx, y0 + ty);
                let inside = sx < x1 && sy < y1;
                let (sx, sy) = match pad {
                    Some(Pad::Replicate) => (sx.min(x1 - 1), sy.min(y1 - 1)),
                    _ => (sx, sy),
                };
                if inside || pad == Some(Pad::Replicate) {
                    let i = (sy as usize * w as usize + sx as usize) * px;
                    out.extend_from_slice(&level[i..i + px]);
                } else {
                    out.extend(std::iter::repeat_n(0, px));
                }
            }
        }
        (tw, th, out)
    }

    #[test]
    fn tiles_equal_cuts_of_the_whole_level() {
        let px = 3;
        for &(w, h) in &[(100u32, 77u32), (16, 16), (1, 1), (255, 3), (3, 300)] {
            let level: Vec<u8> = (0..w as usize * h as usize * px)
                .map(|i| (i * 7 % 251) as u8)
                .collect();
            for &(tile, overlap) in &[(16u32, 0u32), (16, 1), (254, 1), (10, 3), (7, 0)] {
                for pad in [None, Some(Pad::Zero), Some(Pad::Replicate)] {
                    for band in [1u32, 5, 64, h] {
                        let mut cutter = TileCutter::new(w, h, px, tile, overlap, pad);
                        let (cols, rows) = cutter.grid();
                        let mut seen = Vec::new();
                        let mut max_held = 0;
                        let mut y = 0;
                        while y < h {
                            let n = band.min(h - y);
                            let d = &level[(y * w) as usize * px..((y + n) * w) as usize * px];
                            cutter
                                .rows(y, n, d, &mut |t: Tile| {
                                    let want = reference_tile(
                                        &level,
                                        (w, h),
                                        px,
                                        tile,
                                        overlap,
                                        pad,
                                        (t.col, t.row),
                                    );
                                    assert_eq!((t.width, t.height), (want.0, want.1));
                                    assert!(t.data == want.2, "tile {} {}", t.col, t.row);
                                    seen.push((t.row, t.col));
                                    Ok(())
                                })
                                .unwrap();
                            max_held = max_held.max(cutter.buf_rows);
                            y += n;
                        }
                        let all: Vec<_> = (0..rows)
                            .flat_map(|r| (0..cols).map(move |c| (r, c)))
                            .collect();
                        assert_eq!(seen, all, "{w}x{h} tile {tile} overlap {overlap}");
                        assert!(
                            max_held <= tile + 2 * overlap,
                            // (rows held, at most one tile row and its overlaps)
                            "{w}x{h} tile {tile}: held {max_held} rows"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn cutter_rejects_rows_out_of_order() {
        let mut c = TileCutter::new(4, 4, 1, 2, 0, None);
        let mut emit = |_t: Tile| Ok(());
        assert!(c.rows(1, 1, &[0; 4], &mut emit).is_err());
        assert!(c.rows(0, 1, &[0; 5], &mut emit).is_err());
        assert!(c.rows(0, 5, &[0; 20], &mut emit).is_err());
    }

    #[test]
    fn pool_returns_every_result_and_stops_at_the_first_error() {
        let mut pool = EncodePool::<u64>::new(3, "test-pool").unwrap();
        assert_eq!(pool.max_in_flight(), 6);
        let mut got = Vec::new();
        for i in 0..100u64 {
            pool.submit(move || Ok(i * i), &mut |v| {
                got.push(v);
                Ok(())
            })
            .unwrap();
        }
        pool.finish(&mut |v| {
            got.push(v);
            Ok(())
        })
        .unwrap();
        got.sort_unstable();
        assert_eq!(got, (0..100u64).map(|i| i * i).collect::<Vec<_>>());

        let mut pool = EncodePool::<u64>::new(2, "test-pool").unwrap();
        let mut failed = None;
        for i in 0..50u64 {
            let r = pool.submit(
                move || {
                    if i == 10 {
                        Err(Error::new(ErrorKind::Io, "tile 10 failed"))
                    } else {
                        Ok(i)
                    }
                },
                &mut |_| Ok(()),
            );
            if let Err(e) = r {
                failed = Some(e);
                break;
            }
        }
        let e = failed
            .or_else(|| pool.finish(&mut |_| Ok(())).err())
            .expect("the error comes back");
        assert!(e.message().contains("tile 10 failed"), "{e}");
        assert!(pool.submit(|| Ok(1), &mut |_| Ok(())).is_err());

        // A panicking job is an error, not a hang.
        let mut pool = EncodePool::<u64>::new(1, "test-pool").unwrap();
        pool.submit(|| panic!("boom"), &mut |_| Ok(()))
            .unwrap_or(());
        assert!(pool.finish(&mut |_| Ok(())).is_err());
    }
}
