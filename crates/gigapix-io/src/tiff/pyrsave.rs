//! The one-pass tiled TIFF writer of pyramids and JPEG tiles:
//! `out.tif[tile,pyramid,compression=jpeg,Q=85]`, `subifd`, and any
//! TIFF with `compression=jpeg` (tiles or strips).
//!
//! Bands of the full image arrive top to bottom; the
//! [`Shrinker`] makes every lower level by 2x2
//! means as rows complete; each level's [`TileCutter`] cuts its rows into
//! tiles (strips are tiles as wide as the image); tiles of every level are
//! encoded (JPEG, or predictor and deflate/LZW) on an
//! [`EncodePool`] and written as the results come, in any order, their
//! offsets recorded per level. The directories go at the end of the file,
//! the last level's first, so that each one knows the offset of the next:
//! a page pyramid chains level 0 to 1 to 2..., reduced levels marked
//! NewSubfileType 1; with `subifd` (libvips' layout) the reduced levels are
//! SubIFDs of page 0 (tag 330). Memory: two rows per level in the
//! shrinker, up to one tile row per level in the cutters (JPEG: one slice
//! of 8 or 16 rows per level, see below), and two tiles per thread in the
//! pool, whatever the height.
//!
//! JPEG tiles are cut and encoded in slices of one iMCU row (16 rows at
//! 4:2:0, else 8), each slice an independent job, and a tile's slices are
//! joined with restart markers (DRI of one iMCU row) under the tile's
//! headers once they are all encoded ([`crate::jpeg::Slices`]): so only
//! the compressed slices of a row of tiles wait, not its pixels (a row of
//! 256-pixel tiles of a 100 000-pixel-wide RGB image is 77 MB of pixels,
//! and there is one per level).
//!
//! Levels: level 0 is the image, each next level `ceil(w/2)` x
//! `ceil(h/2)` (libvips floors, dropping an odd last column or row; the
//! means here cover it), down to the first level that fits in one tile
//! (`w <= tile_width && h <= tile_height`, libvips' rule).
//!
//! JPEG tiles: every tile is a complete baseline JPEG stream (its own
//! tables, no JPEGTables tag), encoded by the JPEG saver's encoder (in
//! slices, as above; strips are encoded whole) with its options (`Q`, and its subsampling rule: 4:2:0 below Q 90, else 4:4:4).
//! Colour tiles are marked Photometric YCbCr with YCbCrSubSampling (2, 2)
//! or (1, 1): the streams hold YCbCr, and libtiff only converts JPEG data
//! to RGB for YCbCr photometric (for RGB photometric it would hand back
//! the YCbCr samples). Complete streams need no JPEGTables: libtiff and
//! libvips decode each tile on its own when the tag is absent, and
//! OpenSlide hands libjpeg the tile with the tables it holds. Edge tiles
//! are padded by repeating the last column and row (no black edge to code,
//! no chroma bleeding); other compressions pad with zeros as the strip
//! writer does.
//!
//! Resolution: the metadata fields `xres` and `yres` (pixels per mm) and
//! `resolution-unit` (`cm`, `inch` or `none`; libvips' convention) become
//! XResolution, YResolution and ResolutionUnit, halved at every level.

use std::collections::HashMap;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;

use gigapix_core::desc::Args;
use gigapix_core::{BandFormat, BandWriter, Error, ErrorKind, Header, Metadata, Result};

use super::MAX_CHUNK;
use super::codec::{Compression, compress, predict};
use super::ifd::sample_format_code;
use super::save::{Value, directory_bytes, file_header, tile_size};
use crate::formats::opt_bool;
use crate::pyramid::{EncodePool, LevelSink, Pad, Shrinker, Tile, TileCutter, level_sizes};
use crate::save::{Dest, OutFile, RowCheck, Temp, create_out, persist};

/// Buffer of the output file.
const OUT_BUFFER: usize = 256 << 10;

/// Size JPEG strips aim at when `rows_per_strip` is not given.
const STRIP_BYTES: usize = 256 << 10;

/// How tiles are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Codec {
    Plain(Compression),
    Jpeg,
}

/// `true` if these options need this writer: `compression=jpeg`,
/// `pyramid` or `subifd`.
pub(super) fn wanted(args: &Args) -> Result<bool> {
    Ok(args.choice("compression")? == "jpeg"
        || opt_bool(args, "pyramid")?.unwrap_or(false)
        || opt_bool(args, "subifd")?.unwrap_or(false))
}

/// The layout of every level: the level sizes and the chunk size.
#[derive(Clone, Debug)]
struct Plan {
    sizes: Vec<(u32, u32)>,
    /// Tile width and height; for strips, the image width and the rows
    /// per strip.
    chunk: (u32, u32),
    tiled: bool,
    subifd: bool,
}

impl Plan {
    fn chunks(&self, level: usize) -> u64 {
        let (w, h) = self.sizes[level];
        u64::from(w.div_ceil(self.chunk.0)) * u64::from(h.div_ceil(self.chunk.1))
    }
}

/// The parsed options.
struct Settings {
    plan: Plan,
    codec: Codec,
    predictor: bool,
    big: bool,
    /// The JPEG saver's options, for JPEG tiles.
    jpeg_args: Option<Args>,
    /// YCbCrSubSampling of JPEG colour tiles.
    ycbcr: Option<(u16, u16)>,
}

fn settings(name: &str, header: &Header, args: &Args) -> Result<Settings> {
    let invalid = |msg: String| Error::new(ErrorKind::InvalidArgument, format!("{name}: {msg}"));
    let opt_u32 = |key: &str| -> Result<Option<u32>> {
        Ok(args
            .opt_int(key)?
            .map(|v| v.clamp(0, i64::from(u32::MAX)) as u32))
    };
    let subifd = opt_bool(args, "subifd")?.unwrap_or(false);
    let pyramid = opt_bool(args, "pyramid")?.unwrap_or(false) || subifd;
    let tile_width = opt_u32("tile_width")?;
    let tile_height = opt_u32("tile_height")?;
    let tiled = pyramid || args.bool("tile")? || tile_width.is_some() || tile_height.is_some();
    let level = opt_u32("level")?.unwrap_or(6);
    let codec = match args.choice("compression")? {
        "jpeg" => Codec::Jpeg,
        "lzw" => Codec::Plain(Compression::Lzw),
        "deflate" => Codec::Plain(Compression::Deflate(level)),
        _ => Codec::Plain(Compression::None),
    };
    if header.width == 0 || header.height == 0 || header.bands == 0 || header.bands > 65535 {
        return Err(invalid(format!("cannot save an image of {header} as TIFF")));
    }
    let row_bytes = header.row_bytes();
    let (mut jpeg_args, mut ycbcr) = (None, None);
    if codec == Codec::Jpeg {
        if header.format != BandFormat::U8 || !matches!(header.bands, 1 | 3) {
            return Err(invalid(format!(
                "compression=jpeg holds 1 (grey) or 3 (RGB) bands of u8, not {} bands of {}: \
                 cast or extract bands first, or use deflate",
                header.bands, header.format
            )));
        }
        let mut params = crate::Params::new();
        if let Some(q) = args.opt_int("Q")? {
            params = params.set("Q", q);
        }
        let jargs = crate::formats::parse_options(
            &format!("{name}: jpeg tiles"),
            crate::FileFormat::Jpeg.desc().save_options,
            &params,
        )?;
        if header.bands == 3 {
            let probe = Header::new(16, 16, 3, BandFormat::U8);
            ycbcr = Some(crate::jpeg::sampling(name, &probe, &jargs)?);
        }
        jpeg_args = Some(jargs);
    } else if args.opt_int("Q")?.is_some() {
        return Err(invalid("option `Q` is for compression=jpeg".into()));
    }
    let predictor = match (args.opt_choice("predictor")?, codec) {
        (None, Codec::Plain(c)) => c != Compression::None && header.format.is_integer(),
        (Some("horizontal"), Codec::Plain(c)) if c != Compression::None => {
            if !header.format.is_integer() {
                return Err(invalid(
                    "option `predictor`: the horizontal predictor is for integer samples".into(),
                ));
            }
            true
        }
        (Some("horizontal"), _) => {
            return Err(invalid(
                "option `predictor`: the horizontal predictor needs compression=lzw or deflate"
                    .into(),
            ));
        }
        _ => false,
    };
    let px = header.pixel_bytes() as u64;
    let chunk = if tiled {
        let (tw, th) = tile_size(tile_width, tile_height, px).map_err(invalid)?;
        if codec == Codec::Jpeg && (tw > 65535 || th > 65535) {
            return Err(invalid("JPEG tiles are at most 65535 pixels a side".into()));
        }
        (tw, th)
    } else {
        // JPEG strips: whole iMCU rows (16).
        let rps = match opt_u32("rows_per_strip")? {
            Some(n) if n % 16 != 0 && n < header.height => {
                return Err(invalid(format!(
                    "option `rows_per_strip`: JPEG strips are multiples of 16 rows, got {n}"
                )));
            }
            Some(n) => n.min(header.height),
            None => {
                ((((STRIP_BYTES / row_bytes.max(1)) / 16).max(1) * 16) as u32).min(header.height)
            }
        };
        if header.width > 65535 || rps > 65535 {
            return Err(invalid(
                "JPEG strips are at most 65535 pixels wide and high: use `tile`".into(),
            ));
        }
        if u64::from(rps) * row_bytes as u64 > MAX_CHUNK {
            return Err(invalid(format!(
                "strips of {rps} rows are larger than {MAX_CHUNK} bytes"
            )));
        }
        (header.width, rps)
    };
    let sizes = if pyramid {
        level_sizes(header.width, header.height, |w, h| {
            w <= chunk.0 && h <= chunk.1
        })
    } else {
        vec![(header.width, header.height)]
    };
    let plan = Plan {
        sizes,
        chunk,
        tiled,
        subifd,
    };
    let big = match opt_bool(args, "bigtiff")? {
        Some(b) => b,
        None => may_pass_4gib(header, &plan, codec),
    };
    Ok(Settings {
        plan,
        codec,
        predictor,
        big,
        jpeg_args,
        ycbcr,
    })
}

/// `true` if the file could pass 4 GiB: tiles padded to whole tiles, LZW
/// half again larger at worst, JPEG of noise at high quality as large as
/// the pixels, plus the offset tables.
fn may_pass_4gib(header: &Header, plan: &Plan, codec: Codec) -> bool {
    let px = header.pixel_bytes() as u128;
    let (cw, ch) = plan.chunk;
    let mut raw = 0u128;
    let mut chunks = 0u128;
    for (l, &(w, h)) in plan.sizes.iter().enumerate() {
        raw += if plan.tiled {
            u128::from(w.div_ceil(cw))
                * u128::from(cw)
                * u128::from(h.div_ceil(ch))
                * u128::from(ch)
        } else {
            u128::from(w) * u128::from(h)
        } * px;
        chunks += u128::from(plan.chunks(l));
    }
    let estimate = match codec {
        Codec::Plain(Compression::None) => raw,
        Codec::Plain(Compression::Deflate(_)) => raw + raw / 64,
        Codec::Plain(Compression::Lzw) | Codec::Jpeg => raw + raw / 2,
    } + chunks * 16
        + (1 << 20);
    estimate >= u128::from(u32::MAX)
}

/// Bytes the writer holds (the memory estimate of `gigapix_io::memory`).
pub(crate) fn buffer_bytes(header: &Header, args: &Args) -> Result<u64> {
    let s = settings("tiff", header, args)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let px = header.pixel_bytes() as u64;
    let (cw, ch) = s.plan.chunk;
    let chunk = u64::from(cw) * u64::from(ch) * px;
    // Shrinker: a row of the image, and per level two rows of f64 means
    // and a row of samples.
    let mut bytes = OUT_BUFFER as u64 + u64::from(header.width) * px;
    let jpeg_tiles = s.codec == Codec::Jpeg && s.plan.tiled;
    for &(w, _) in &s.plan.sizes {
        bytes += u64::from(w) * (px + 2 * 8 * u64::from(header.bands));
        // A cutter holds up to a tile row, or a slice of 16 rows and the
        // compressed slices of a row of tiles (an eighth, roughly).
        bytes += if jpeg_tiles {
            u64::from(w) * (16 + u64::from(ch) / 8) * px
        } else {
            u64::from(w) * u64::from(ch) * px
        };
    }
    // Two jobs per thread in flight, and their encoded copies, plus a
    // compressor's state per thread.
    bytes += 2 * threads * (chunk + chunk / 2) + threads * (300 << 10);
    Ok(bytes)
}

/// Builds the writer after checking every option.
pub(super) fn writer(
    path: &Dest,
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
) -> Result<Box<dyn BandWriter>> {
    let s = settings(name, header, args)?;
    let resolution = resolution(name, metadata)?;
    let levels = s.plan.sizes.len();
    let shrinker = Shrinker::new(header, levels)?;
    let px = header.pixel_bytes();
    let pad = if s.plan.tiled {
        Some(if s.codec == Codec::Jpeg {
            Pad::Replicate
        } else {
            Pad::Zero
        })
    } else {
        None
    };
    // JPEG tiles are cut and encoded in slices of one iMCU row, joined
    // when a tile's slices are all done: a row of tiles is never held
    // whole (at 100 000 pixels wide, a row of 256-pixel tiles is 77 MB).
    let slices = match (&s.jpeg_args, s.plan.tiled) {
        (Some(jargs), true) => {
            let (tw, th) = s.plan.chunk;
            let tile = Header {
                width: tw,
                height: th,
                ..*header
            };
            Some(Arc::new(crate::jpeg::Slices::new(name, &tile, jargs)?))
        }
        _ => None,
    };
    let cutters = s
        .plan
        .sizes
        .iter()
        .map(|&(w, h)| {
            let chunk = match &slices {
                Some(sl) => (s.plan.chunk.0, sl.rows()),
                None if s.plan.tiled => s.plan.chunk,
                None => (w, s.plan.chunk.1),
            };
            TileCutter::with_size(w, h, px, chunk, 0, pad)
        })
        .collect();
    let encoder = Arc::new(Encoder {
        name: name.to_string(),
        header: *header,
        codec: s.codec,
        predictor: s.predictor,
        jpeg_args: s.jpeg_args.clone(),
        slices: slices.clone(),
    });
    let pool = EncodePool::new(0, "tiff-encoder")?;
    let (file, temp) = create_out(path, name)?;
    let mut out = BufWriter::with_capacity(OUT_BUFFER, file);
    let first = file_header(s.big);
    out.write_all(&first).map_err(|e| Error::io(name, e))?;
    let output = Output {
        out: Some(out),
        pos: first.len() as u64,
        big: s.big,
        name: name.to_string(),
        offsets: (0..levels)
            .map(|l| vec![0; s.plan.chunks(l).min(1 << 24) as usize])
            .collect(),
        counts: (0..levels)
            .map(|l| vec![0; s.plan.chunks(l).min(1 << 24) as usize])
            .collect(),
        slices: slices.clone(),
        parts: HashMap::new(),
    };
    Ok(Box::new(PyramidWriter {
        temp: Some(temp),
        target: path.to_path_buf(),
        name: name.to_string(),
        header: *header,
        rows: RowCheck::new(header.height, header.row_bytes()),
        shrinker,
        state: State {
            cutters,
            pool,
            output,
            encoder,
            sizes: s.plan.sizes.clone(),
            tile_h: s.plan.chunk.1,
            batch: Vec::new(),
            batch_bytes: 0,
        },
        settings: s,
        icc: metadata.icc.clone().filter(|icc| !icc.is_empty()),
        orientation: metadata.orientation,
        resolution,
    }))
}

/// XResolution, YResolution (pixels per unit) and ResolutionUnit from the
/// metadata fields `xres`, `yres` (pixels per mm) and `resolution-unit`.
fn resolution(name: &str, metadata: &Metadata) -> Result<Option<(f64, f64, u16)>> {
    let num = |key: &str| -> Result<Option<f64>> {
        match metadata.field(key) {
            None => Ok(None),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 => Ok(Some(x)),
                _ => Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("{name}: metadata field `{key}` is `{v}`, not a positive number"),
                )),
            },
        }
    };
    let (x, y) = match (num("xres")?, num("yres")?) {
        (None, None) => return Ok(None),
        (Some(x), None) => (x, x),
        (None, Some(y)) => (y, y),
        (Some(x), Some(y)) => (x, y),
    };
    Ok(Some(
        match metadata.field("resolution-unit").map(str::trim) {
            Some("inch") => (x * 25.4, y * 25.4, 2),
            Some("none") => (x, y, 1),
            Some("cm") | None => (x * 10.0, y * 10.0, 3),
            Some(other) => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "{name}: metadata field `resolution-unit` is `{other}`, not cm, inch or none"
                    ),
                ));
            }
        },
    ))
}

/// A RATIONAL near `v`.
fn rational(v: f64) -> [u32; 2] {
    let den = if v >= 400_000.0 { 1 } else { 10_000 };
    let num = (v * f64::from(den)).round().clamp(0.0, f64::from(u32::MAX));
    [num as u32, den]
}

/// Encodes tiles on the pool's threads.
struct Encoder {
    name: String,
    header: Header,
    codec: Codec,
    predictor: bool,
    jpeg_args: Option<Args>,
    slices: Option<Arc<crate::jpeg::Slices>>,
}

impl Encoder {
    fn encode(&self, mut tile: Tile) -> Result<Vec<u8>> {
        let h = self.header;
        if let Some(slices) = &self.slices {
            return Ok(slices.encode(&tile.data));
        }
        match self.codec {
            Codec::Jpeg => {
                let th = Header {
                    width: tile.width,
                    height: tile.height,
                    ..h
                };
                let args = self.jpeg_args.as_ref().expect("JPEG options");
                crate::jpeg::encode_to_vec(&self.name, &th, &Metadata::default(), args, &tile.data)
            }
            Codec::Plain(Compression::None) => Ok(tile.data),
            Codec::Plain(c) => {
                if self.predictor {
                    let row = tile.width as usize * h.pixel_bytes();
                    predict(&mut tile.data, row, h.bands as usize, h.format.size());
                }
                compress(c, &tile.data).map_err(|e| {
                    Error::new(
                        ErrorKind::Io,
                        format!("{}: compression failed: {e}", self.name),
                    )
                })
            }
        }
    }
}

/// An encoded tile, or slice `part.0` of the `part.1` slices of a tile.
struct Done {
    level: usize,
    index: usize,
    part: Option<(usize, usize)>,
    bytes: Vec<u8>,
}

/// The file being written and where every tile went.
struct Output {
    /// `None` once finished.
    out: Option<BufWriter<OutFile>>,
    pos: u64,
    big: bool,
    name: String,
    offsets: Vec<Vec<u64>>,
    counts: Vec<Vec<u64>>,
    slices: Option<Arc<crate::jpeg::Slices>>,
    /// The slices of tiles not complete yet, by (level, tile).
    parts: HashMap<(usize, usize), Vec<Option<Vec<u8>>>>,
}

impl Output {
    fn put(&mut self, done: Done) -> Result<()> {
        let Some((part, parts)) = done.part else {
            return self.write_tile(done);
        };
        let key = (done.level, done.index);
        let slots = self.parts.entry(key).or_insert_with(|| vec![None; parts]);
        slots[part] = Some(done.bytes);
        if slots.iter().any(Option::is_none) {
            return Ok(());
        }
        let slots = self.parts.remove(&key).unwrap_or_default();
        let slices: Vec<Vec<u8>> = slots.into_iter().flatten().collect();
        let bytes = match &self.slices {
            Some(s) => s.assemble(&slices),
            None => slices.concat(),
        };
        self.write_tile(Done {
            level: done.level,
            index: done.index,
            part: None,
            bytes,
        })
    }

    fn write_tile(&mut self, done: Done) -> Result<()> {
        let len = done.bytes.len() as u64;
        if !self.big && self.pos + len > u64::from(u32::MAX) {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "{}: the file passes 4 GiB, more than a classic TIFF can address; save with \
                     `bigtiff`",
                    self.name
                ),
            ));
        }
        let out = self.out.as_mut().expect("not finished");
        out.write_all(&done.bytes)
            .map_err(|e| Error::io(&self.name, e))?;
        let (Some(o), Some(c)) = (
            self.offsets[done.level].get_mut(done.index),
            self.counts[done.level].get_mut(done.index),
        ) else {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("{}: too many tiles", self.name),
            ));
        };
        *o = self.pos;
        *c = len;
        self.pos += len;
        Ok(())
    }
}

/// What the shrinker feeds: the cutters, the pool and the file.
struct State {
    cutters: Vec<TileCutter>,
    pool: EncodePool<Vec<Done>>,
    output: Output,
    encoder: Arc<Encoder>,
    sizes: Vec<(u32, u32)>,
    tile_h: u32,
    /// Tiles (or slices) waiting to go to the pool as one job, and their
    /// bytes.
    batch: Vec<Pending>,
    batch_bytes: usize,
}

/// A tile or slice for a batch: level, tile index, part, pixels.
type Pending = (usize, usize, Option<(usize, usize)>, Tile);

/// Pixels per pool job: tiles and slices go in batches of about this
/// much, so that small slices do not cost a channel round trip each.
const BATCH_BYTES: usize = 256 << 10;

/// Sends the batch to the pool as one job.
fn submit_batch(
    pool: &mut EncodePool<Vec<Done>>,
    output: &mut Output,
    encoder: &Arc<Encoder>,
    batch: &mut Vec<Pending>,
    batch_bytes: &mut usize,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let jobs = std::mem::take(batch);
    *batch_bytes = 0;
    let encoder = encoder.clone();
    pool.submit(
        move || {
            jobs.into_iter()
                .map(|(level, index, part, tile)| {
                    Ok(Done {
                        level,
                        index,
                        part,
                        bytes: encoder.encode(tile)?,
                    })
                })
                .collect()
        },
        &mut |done| done.into_iter().try_for_each(|d| output.put(d)),
    )
}

impl LevelSink for State {
    fn rows(&mut self, level: usize, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        let State {
            cutters,
            pool,
            output,
            encoder,
            sizes,
            tile_h,
            batch,
            batch_bytes,
        } = self;
        let cutter = &mut cutters[level];
        let (cols, chunk_rows) = cutter.grid();
        let cols = cols as usize;
        let slice_rows = encoder.slices.as_ref().map(|s| s.rows());
        let mut submit = |row: u32, col: u32, tile: Tile| -> Result<()> {
            let (index, part) = match slice_rows {
                Some(sr) => {
                    let k = (*tile_h / sr) as usize;
                    let r = row as usize;
                    ((r / k) * cols + col as usize, Some((r % k, k)))
                }
                None => (row as usize * cols + col as usize, None),
            };
            *batch_bytes += tile.data.len();
            batch.push((level, index, part, tile));
            if *batch_bytes >= BATCH_BYTES {
                submit_batch(pool, output, encoder, batch, batch_bytes)?;
            }
            Ok(())
        };
        let level_h = sizes[level].1;
        cutter.rows(y, rows, data, &mut |tile: Tile| {
            let (row, col) = (tile.row, tile.col);
            let last = row + 1 == chunk_rows;
            let bottom = match (last, slice_rows) {
                (true, Some(sr)) => {
                    // The slices below the level, to the tile's bottom:
                    // its last row repeated.
                    let k = *tile_h / sr;
                    let end = (row / k + 1) * k;
                    let rb = tile.data.len() / tile.height as usize;
                    let last_row = tile.data[tile.data.len() - rb..].to_vec();
                    Some((end, rb, last_row, tile.width, tile.height))
                }
                _ => None,
            };
            submit(row, col, tile)?;
            if let Some((end, _rb, last_row, w, h)) = bottom {
                debug_assert!(level_h <= end * h);
                for r in row + 1..end {
                    let data = last_row.repeat(h as usize);
                    submit(
                        r,
                        col,
                        Tile {
                            col,
                            row: r,
                            width: w,
                            height: h,
                            data,
                        },
                    )?;
                }
            }
            Ok(())
        })
    }
}

/// The [`BandWriter`].
struct PyramidWriter {
    temp: Option<Temp>,
    target: PathBuf,
    name: String,
    header: Header,
    rows: RowCheck,
    shrinker: Shrinker,
    state: State,
    settings: Settings,
    icc: Option<Arc<[u8]>>,
    orientation: u16,
    resolution: Option<(f64, f64, u16)>,
}

impl PyramidWriter {
    /// The directory entries of `level`; `subifds` the offsets of the
    /// reduced levels' directories for page 0 of a SubIFD pyramid.
    fn entries(&self, level: usize, subifds: &[u64]) -> Vec<(u16, Value)> {
        let h = self.header;
        let s = &self.settings;
        let big = s.big;
        let bands = h.bands as usize;
        let (w, ht) = s.plan.sizes[level];
        let short = |v: &[u16]| -> Value {
            (
                3,
                v.len() as u64,
                v.iter().flat_map(|x| x.to_ne_bytes()).collect(),
            )
        };
        let long = |v: u32| -> Value { (4, 1, v.to_ne_bytes().to_vec()) };
        let offsets = |typ_small: u16, typ_big: u16, v: &[u64]| -> Value {
            if big {
                (
                    typ_big,
                    v.len() as u64,
                    v.iter().flat_map(|x| x.to_ne_bytes()).collect(),
                )
            } else {
                (
                    typ_small,
                    v.len() as u64,
                    v.iter().flat_map(|&x| (x as u32).to_ne_bytes()).collect(),
                )
            }
        };
        let bits = (h.format.size() * 8) as u16;
        let photometric = match (s.codec, bands) {
            (Codec::Jpeg, 3) => 6,
            (_, 3..=4) => 2,
            _ => 1,
        };
        let compression = match s.codec {
            Codec::Jpeg => 7,
            Codec::Plain(c) => c.code(),
        };
        let extra: Vec<u16> = match bands {
            1 | 3 => vec![],
            2 | 4 => vec![2],
            n => vec![0; n - 1],
        };
        let mut entries: Vec<(u16, Value)> = vec![
            (256, long(w)),
            (257, long(ht)),
            (258, short(&vec![bits; bands])),
            (259, short(&[compression])),
            (262, short(&[photometric])),
            (277, short(&[bands as u16])),
            (284, short(&[1])),
            (339, short(&vec![sample_format_code(h.format); bands])),
        ];
        if level > 0 {
            entries.push((254, long(1)));
        }
        if !extra.is_empty() {
            entries.push((338, short(&extra)));
        }
        if s.predictor {
            entries.push((317, short(&[2])));
        }
        if let Some((sh, sv)) = s.ycbcr {
            entries.push((530, short(&[sh, sv])));
        }
        if (2..=8).contains(&self.orientation) {
            entries.push((274, short(&[self.orientation])));
        }
        if let Some(icc) = &self.icc {
            entries.push((34675, (7, icc.len() as u64, icc.to_vec())));
        }
        if let Some((x, y, unit)) = self.resolution {
            let scale = f64::from(1u32 << level.min(31));
            let rat = |v: f64| -> Value {
                (
                    5,
                    1,
                    rational(v / scale)
                        .iter()
                        .flat_map(|x| x.to_ne_bytes())
                        .collect(),
                )
            };
            entries.push((282, rat(x)));
            entries.push((283, rat(y)));
            entries.push((296, short(&[unit])));
        }
        if !subifds.is_empty() {
            // SubIFDs: IFD (13) or IFD8 (18).
            entries.push((330, offsets(13, 18, subifds)));
        }
        let out = &self.state.output;
        let (cw, ch) = s.plan.chunk;
        if s.plan.tiled {
            entries.push((322, long(cw)));
            entries.push((323, long(ch)));
            entries.push((324, offsets(4, 16, &out.offsets[level])));
            entries.push((325, offsets(4, 16, &out.counts[level])));
        } else {
            entries.push((273, offsets(4, 16, &out.offsets[level])));
            entries.push((278, long(ch)));
            entries.push((279, offsets(4, 16, &out.counts[level])));
        }
        entries
    }

    /// Writes every directory (the last level's first) and patches the
    /// first one's offset into the header.
    fn write_directories(&mut self) -> Result<()> {
        let levels = self.settings.plan.sizes.len();
        let big = self.settings.big;
        let subifd = self.settings.plan.subifd;
        let mut next = 0u64;
        let mut subs = Vec::new();
        for level in (0..levels).rev() {
            let mut entries = if level == 0 && subifd {
                subs.reverse();
                self.entries(0, &subs)
            } else {
                self.entries(level, &[])
            };
            let link = if subifd { 0 } else { next };
            let pos = self.state.output.pos;
            let (bytes, ifd_pos, end) = directory_bytes(&mut entries, pos, big, link, &self.name)?;
            let out = self.state.output.out.as_mut().expect("not finished");
            out.write_all(&bytes)
                .map_err(|e| Error::io(&self.name, e))?;
            self.state.output.pos = end;
            next = ifd_pos;
            if level > 0 {
                subs.push(ifd_pos);
            }
        }
        let out = self.state.output.out.as_mut().expect("not finished");
        let io = |e| Error::io(&self.name, e);
        out.seek(SeekFrom::Start(if big { 8 } else { 4 }))
            .map_err(io)?;
        if big {
            out.write_all(&next.to_ne_bytes()).map_err(io)?;
        } else {
            out.write_all(&(next as u32).to_ne_bytes()).map_err(io)?;
        }
        Ok(())
    }
}

impl BandWriter for PyramidWriter {
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        self.rows.accept(&self.name, y, rows, data)?;
        self.shrinker.push(y, rows, data, &mut self.state)
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.rows.complete(&self.name)?;
        self.shrinker.finish(&mut self.state)?;
        let State {
            pool,
            output,
            encoder,
            batch,
            batch_bytes,
            ..
        } = &mut self.state;
        submit_batch(pool, output, encoder, batch, batch_bytes)?;
        pool.finish(&mut |done| done.into_iter().try_for_each(|d| output.put(d)))?;
        self.write_directories()?;
        let out = self.state.output.out.take().expect("finished once");
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&self.name, e.into_error()))?;
        drop(file);
        let temp = self.temp.take().expect("finished once");
        persist(temp, &self.target, &self.name)
    }

    fn buffer_bytes(&self, _band_rows: u32) -> u64 {
        self.shrinker.buffer_bytes()
    }
}

impl Drop for PyramidWriter {
    fn drop(&mut self) {
        // Unfinished: close without flushing (the file is about to go),
        // then `temp` removes it.
        if let Some(out) = self.state.output.out.take() {
            drop(out.into_parts());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rationals() {
        assert_eq!(rational(2.5), [25_000, 10_000]);
        assert_eq!(rational(1e6), [1_000_000, 1]);
    }
}
