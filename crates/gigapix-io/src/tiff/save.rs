//! The TIFF writer: strips or tiles written as the bands arrive, the image
//! file directory (IFD) at the end of the file, its offset patched into the
//! header last.
//!
//! The file is written in the host's byte order (`II` on little-endian
//! hosts), so samples go out as they come. Memory is bounded by the width:
//! at most one strip, or one row of tiles, is buffered, plus a batch of
//! chunks being compressed (four per core, compressed in parallel on
//! scoped threads, written in order) and the chunk offset table (16 bytes
//! per chunk).
//!
//! Every band format is written, its SampleFormat tag 1 (unsigned), 2
//! (signed) or 3 (float); the horizontal predictor applies to the integer
//! formats, signed or not (the floating-point predictor is not written).
//!
//! Options (their types, ranges and defaults are the TIFF entry of
//! `crate::formats::FORMATS`, which checked them): `compression=
//! none|lzw|deflate` (default none; `jpeg`, `pyramid` and `subifd` go to
//! `pyrsave.rs`), `predictor=none|horizontal`
//! (horizontal by default for lzw and deflate on integer samples),
//! `level=1..9` (deflate, default 6), `tile` with `tile_width` and
//! `tile_height` (multiples of 16, default 256; either size alone also
//! selects tiles), `rows_per_strip` (default: strips of about 256 KiB),
//! `bigtiff` (default: only when the file could pass 4 GiB). The ICC profile of the image's metadata is
//! written as tag 34675 (InterColorProfile, `UNDEFINED`), its orientation
//! as tag 274; the EXIF block is not written (it would need an EXIF
//! sub-directory of its own); `strip` (taken by `crate::writer`) leaves
//! the profile out.

use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;

use gigapix_core::{BandWriter, Error, ErrorKind, Header, Metadata, Result};

use super::MAX_CHUNK;
use super::codec::{Compression, compress, predict};
use super::ifd::sample_format_code;
use crate::formats::opt_bool;
use crate::save::{Dest, OutFile, RowCheck, Temp, create_out, persist};
use gigapix_core::desc::Args;

/// Size strips aim at when `rows_per_strip` is not given.
const STRIP_BYTES: usize = 256 << 10;

/// Buffer of the output file.
const OUT_BUFFER: usize = 256 << 10;

/// Builds the writer after checking every option.
pub(crate) fn writer(
    path: &Dest,
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
) -> Result<Box<dyn BandWriter>> {
    let invalid = |msg: String| Error::new(ErrorKind::InvalidArgument, format!("{name}: {msg}"));
    // Ranges and values are checked by the format table's descriptors.
    let opt_u32 = |key: &str| -> Result<Option<u32>> {
        Ok(args
            .opt_int(key)?
            .map(|v| v.clamp(0, i64::from(u32::MAX)) as u32))
    };
    let compression = args.choice("compression")?;
    let predictor = args.opt_choice("predictor")?;
    let level = opt_u32("level")?.unwrap_or(6);
    let tile_flag = args.bool("tile")?;
    let tile_width = opt_u32("tile_width")?;
    let tile_height = opt_u32("tile_height")?;
    let rows_per_strip = opt_u32("rows_per_strip")?;
    let bigtiff = opt_bool(args, "bigtiff")?;

    let row_bytes =
        u128::from(header.width) * u128::from(header.bands) * header.format.size() as u128;
    if header.width == 0
        || header.height == 0
        || header.bands == 0
        || header.bands > u32::from(u16::MAX)
        || row_bytes > isize::MAX as u128
    {
        return Err(invalid(format!("cannot save an image of {header} as TIFF")));
    }
    let row_bytes = row_bytes as usize;

    let compression = match compression {
        "lzw" => Compression::Lzw,
        "deflate" => Compression::Deflate(level),
        _ => Compression::None,
    };
    let predictor = match predictor {
        None => compression != Compression::None && header.format.is_integer(),
        Some("horizontal") => {
            if compression == Compression::None {
                return Err(invalid(
                    "option `predictor`: the horizontal predictor needs compression=lzw or deflate"
                        .into(),
                ));
            }
            if !header.format.is_integer() {
                return Err(invalid(
                    "option `predictor`: the horizontal predictor is for integer samples; \
                     the floating-point predictor is not supported"
                        .into(),
                ));
            }
            true
        }
        Some(_) => false,
    };

    let px = header.pixel_bytes() as u64;
    let tiled = tile_flag || tile_width.is_some() || tile_height.is_some();
    let layout = if tiled {
        let (tw, th) = tile_size(tile_width, tile_height, px).map_err(invalid)?;
        Layout::Tiles { tw, th }
    } else {
        let rps = match rows_per_strip {
            Some(n) => n.min(header.height),
            None => ((STRIP_BYTES / row_bytes.max(1)).max(1) as u32).min(header.height),
        };
        if u64::from(rps) * row_bytes as u64 > MAX_CHUNK.max(row_bytes as u64) {
            return Err(invalid(format!(
                "strips of {rps} rows are larger than {MAX_CHUNK} bytes"
            )));
        }
        Layout::Strips { rps }
    };
    let chunks = layout.chunks(header);

    let big = bigtiff.unwrap_or_else(|| may_pass_4gib(header, layout, compression));

    let (file, temp) = create_out(path, name)?;
    let mut out = BufWriter::with_capacity(OUT_BUFFER, file);
    let first = file_header(big);
    out.write_all(&first).map_err(|e| Error::io(name, e))?;
    Ok(Box::new(TiffWriter {
        out: Some(out),
        temp: Some(temp),
        target: path.to_path_buf(),
        name: name.to_string(),
        header: *header,
        icc: metadata.icc.clone().filter(|icc| !icc.is_empty()),
        orientation: metadata.orientation,
        row_bytes,
        big,
        layout,
        compression,
        predictor,
        pos: first.len() as u64,
        rows: RowCheck::new(header.height, row_bytes),
        pending: Vec::new(),
        pending_rows: 0,
        offsets: Vec::with_capacity(chunks.min(1 << 20) as usize),
        counts: Vec::with_capacity(chunks.min(1 << 20) as usize),
        jobs: Vec::new(),
        spare: Vec::new(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    }))
}

/// A directory entry's value: TIFF type, count, bytes in file order.
pub(super) type Value = (u16, u64, Vec<u8>);

/// The tile size of the options (256 by default), checked: positive
/// multiples of 16 whose tile of `px`-byte pixels is at most
/// [`MAX_CHUNK`]. The error is the message, without the file's name.
pub(super) fn tile_size(
    tile_width: Option<u32>,
    tile_height: Option<u32>,
    px: u64,
) -> std::result::Result<(u32, u32), String> {
    let tw = tile_width.unwrap_or(256);
    let th = tile_height.unwrap_or(256);
    for (what, v) in [("tile_width", tw), ("tile_height", th)] {
        if v == 0 || v % 16 != 0 {
            return Err(format!(
                "option `{what}`: tile sizes must be positive multiples of 16, got {v}"
            ));
        }
    }
    if u64::from(tw) * u64::from(th) * px > MAX_CHUNK {
        return Err(format!(
            "tiles of {tw}x{th} pixels are larger than {MAX_CHUNK} bytes"
        ));
    }
    Ok((tw, th))
}

/// `true` if a TIFF of `header` saved so could pass 4 GiB, so it must be a
/// BigTIFF. Compressed data can be larger than the raw pixels (LZW by
/// half at worst), and tiles are padded to whole tiles.
fn may_pass_4gib(header: &Header, layout: Layout, compression: Compression) -> bool {
    let px = header.pixel_bytes() as u128;
    let raw = match layout {
        Layout::Tiles { tw, th } => {
            u128::from(header.width.div_ceil(tw))
                * u128::from(tw)
                * u128::from(header.height.div_ceil(th))
                * u128::from(th)
                * px
        }
        Layout::Strips { .. } => u128::from(header.image_bytes()),
    };
    let estimate = match compression {
        Compression::None => raw,
        Compression::Deflate(_) => raw + raw / 64,
        Compression::Lzw => raw + raw / 2,
    } + u128::from(layout.chunks(header)) * 16
        + (1 << 20);
    estimate >= u128::from(u32::MAX)
}

/// Strips or tiles.
#[derive(Clone, Copy, Debug)]
enum Layout {
    Strips { rps: u32 },
    Tiles { tw: u32, th: u32 },
}

impl Layout {
    /// Rows buffered before chunks are written.
    fn band_rows(self) -> u32 {
        match self {
            Layout::Strips { rps } => rps,
            Layout::Tiles { th, .. } => th,
        }
    }

    /// Number of chunks of an image.
    fn chunks(self, h: &Header) -> u64 {
        match self {
            Layout::Strips { rps } => u64::from(h.height.div_ceil(rps)),
            Layout::Tiles { tw, th } => {
                u64::from(h.width.div_ceil(tw)) * u64::from(h.height.div_ceil(th))
            }
        }
    }
}

/// The [`BandWriter`] of a TIFF file.
struct TiffWriter {
    /// `None` once finished.
    out: Option<BufWriter<OutFile>>,
    temp: Option<Temp>,
    target: PathBuf,
    name: String,
    header: Header,
    /// The ICC profile to write, if any.
    icc: Option<Arc<[u8]>>,
    /// Orientation tag (274) to write, when 2 to 8.
    orientation: u16,
    row_bytes: usize,
    big: bool,
    layout: Layout,
    compression: Compression,
    predictor: bool,
    /// Bytes written so far.
    pos: u64,
    rows: RowCheck,
    /// Rows waiting for their strip or row of tiles to complete.
    pending: Vec<u8>,
    pending_rows: u32,
    offsets: Vec<u64>,
    counts: Vec<u64>,
    /// Chunks waiting to be compressed (in parallel) and written, in
    /// file order.
    jobs: Vec<Vec<u8>>,
    /// Buffers for jobs.
    spare: Vec<Vec<u8>>,
    /// Threads compressing a batch of jobs.
    threads: usize,
}

impl TiffWriter {
    fn io(&self, e: std::io::Error) -> Error {
        Error::io(&self.name, e)
    }

    /// Writes `bytes` as the next chunk, recording where it went.
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        let len = bytes.len() as u64;
        if !self.big && self.pos + len > u64::from(u32::MAX) {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "{}: the file passes 4 GiB, more than a classic TIFF can address; save with `bigtiff`",
                    self.name
                ),
            ));
        }
        let out = self.out.as_mut().expect("not finished");
        out.write_all(bytes).map_err(|e| Error::io(&self.name, e))?;
        self.offsets.push(self.pos);
        self.counts.push(len);
        self.pos += len;
        Ok(())
    }

    /// A buffer for a job, of `len` bytes (contents unspecified).
    fn job_buffer(&mut self, len: usize) -> Vec<u8> {
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.resize(len, 0);
        buf
    }

    /// Queues a chunk for compression, running the predictor over it;
    /// compresses and writes the queue once it is long enough.
    fn queue(&mut self, mut job: Vec<u8>, row_len: usize) -> Result<()> {
        if self.predictor {
            predict(
                &mut job,
                row_len,
                self.header.bands as usize,
                self.header.format.size(),
            );
        }
        self.jobs.push(job);
        if self.jobs.len() >= 4 * self.threads {
            self.flush_jobs()?;
        }
        Ok(())
    }

    /// Compresses the queued chunks on up to `threads` threads, then
    /// writes them in order.
    fn flush_jobs(&mut self) -> Result<()> {
        if self.jobs.is_empty() {
            return Ok(());
        }
        let jobs = std::mem::take(&mut self.jobs);
        let compression = self.compression;
        let threads = self.threads.min(jobs.len()).max(1);
        let per = jobs.len().div_ceil(threads);
        let packed: Vec<std::io::Result<Vec<u8>>> = if threads == 1 {
            jobs.iter().map(|j| compress(compression, j)).collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = jobs
                    .chunks(per)
                    .map(|group| {
                        scope.spawn(move || {
                            group
                                .iter()
                                .map(|j| compress(compression, j))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| {
                        h.join().unwrap_or_else(|_| {
                            vec![Err(std::io::Error::other("compression thread panicked"))]
                        })
                    })
                    .collect()
            })
        };
        self.spare.extend(jobs);
        self.spare.truncate(4 * self.threads);
        for bytes in packed {
            let bytes = bytes.map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("{}: compression failed: {e}", self.name),
                )
            })?;
            self.put(&bytes)?;
        }
        Ok(())
    }

    /// Writes the chunks of `rows` full image rows in `data` (a whole
    /// strip, or a whole row of tiles; fewer rows at the bottom).
    fn write_rows(&mut self, data: &[u8], rows: u32) -> Result<()> {
        match self.layout {
            Layout::Strips { .. } => {
                if self.compression == Compression::None {
                    self.put(data)
                } else {
                    let mut job = self.job_buffer(data.len());
                    job.copy_from_slice(data);
                    self.queue(job, self.row_bytes)
                }
            }
            Layout::Tiles { tw, th } => {
                let px = self.header.pixel_bytes();
                let tile_row = tw as usize * px;
                for x0 in (0..self.header.width).step_by(tw as usize) {
                    let w = tw.min(self.header.width - x0) as usize * px;
                    let start = x0 as usize * px;
                    let mut job = self.job_buffer(tile_row * th as usize);
                    // Tiles are always whole: pad with zeros.
                    job.fill(0);
                    for r in 0..rows as usize {
                        let src = &data[r * self.row_bytes + start..][..w];
                        job[r * tile_row..r * tile_row + w].copy_from_slice(src);
                    }
                    if self.compression == Compression::None {
                        self.put(&job)?;
                        self.spare.push(job);
                    } else {
                        self.queue(job, tile_row)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Writes the IFD and patches its offset into the header.
    fn write_directory(&mut self) -> Result<()> {
        let h = self.header;
        let bands = h.bands as usize;
        let big = self.big;
        let short = |v: &[u16]| -> Value {
            (
                3,
                v.len() as u64,
                v.iter().flat_map(|x| x.to_ne_bytes()).collect(),
            )
        };
        let long = |v: u32| -> Value { (4, 1, v.to_ne_bytes().to_vec()) };
        let offsets = |v: &[u64]| -> Value {
            if big {
                (
                    16,
                    v.len() as u64,
                    v.iter().flat_map(|x| x.to_ne_bytes()).collect(),
                )
            } else {
                (
                    4,
                    v.len() as u64,
                    v.iter().flat_map(|&x| (x as u32).to_ne_bytes()).collect(),
                )
            }
        };
        let bits = (h.format.size() * 8) as u16;
        let sample_format = sample_format_code(h.format);
        let photometric = if (3..=4).contains(&bands) { 2 } else { 1 };
        let extra: Vec<u16> = match bands {
            1 | 3 => vec![],
            2 | 4 => vec![2],
            n => vec![0; n - 1],
        };
        let mut entries: Vec<(u16, Value)> = vec![
            (256, long(h.width)),
            (257, long(h.height)),
            (258, short(&vec![bits; bands])),
            (259, short(&[self.compression.code()])),
            (262, short(&[photometric])),
            (277, short(&[bands as u16])),
            (284, short(&[1])),
            (339, short(&vec![sample_format; bands])),
        ];
        if !extra.is_empty() {
            entries.push((338, short(&extra)));
        }
        if self.predictor {
            entries.push((317, short(&[2])));
        }
        if (2..=8).contains(&self.orientation) {
            entries.push((274, short(&[self.orientation])));
        }
        if let Some(icc) = &self.icc {
            // InterColorProfile, UNDEFINED.
            entries.push((34675, (7, icc.len() as u64, icc.to_vec())));
        }
        match self.layout {
            Layout::Strips { rps } => {
                entries.push((273, offsets(&self.offsets)));
                entries.push((278, long(rps)));
                entries.push((279, offsets(&self.counts)));
            }
            Layout::Tiles { tw, th } => {
                entries.push((322, long(tw)));
                entries.push((323, long(th)));
                entries.push((324, offsets(&self.offsets)));
                entries.push((325, offsets(&self.counts)));
            }
        }
        let (ifd, ifd_pos, end) = directory_bytes(&mut entries, self.pos, big, 0, &self.name)?;
        let put_offset = |buf: &mut Vec<u8>, v: u64| {
            if big {
                buf.extend_from_slice(&v.to_ne_bytes());
            } else {
                buf.extend_from_slice(&(v as u32).to_ne_bytes());
            }
        };
        let extra_pos = end;
        let name = self.name.clone();
        let io = |e| Error::io(&name, e);
        let out = self.out.as_mut().expect("not finished");
        out.write_all(&ifd).map_err(io)?;
        out.seek(SeekFrom::Start(if big { 8 } else { 4 }))
            .map_err(io)?;
        let mut first = Vec::new();
        put_offset(&mut first, ifd_pos);
        out.write_all(&first).map_err(io)?;
        self.pos = extra_pos;
        Ok(())
    }
}

/// The bytes of an image file directory of `entries` (sorted here) to be
/// written at `pos`: padding to a word boundary, the directory with `next`
/// as the offset of the next one, then the values that do not fit in
/// their entries. Returns the bytes, the directory's offset and the
/// offset just past the bytes.
pub(super) fn directory_bytes(
    entries: &mut [(u16, Value)],
    pos: u64,
    big: bool,
    next: u64,
    name: &str,
) -> Result<(Vec<u8>, u64, u64)> {
    entries.sort_by_key(|e| e.0);
    // Word-align the directory.
    let align = if big { 8 } else { 2 };
    let pad = (align - pos % align) % align;
    let ifd_pos = pos + pad;
    let (inline, entry_len, head, tail) = if big { (8, 20, 8, 8) } else { (4, 12, 2, 4) };
    let mut extra_pos = ifd_pos + head + entry_len * entries.len() as u64 + tail;
    let mut ifd = Vec::with_capacity(4096);
    ifd.resize(pad as usize, 0);
    let mut blobs: Vec<u8> = Vec::new();
    let put_offset = |buf: &mut Vec<u8>, v: u64| {
        if big {
            buf.extend_from_slice(&v.to_ne_bytes());
        } else {
            buf.extend_from_slice(&(v as u32).to_ne_bytes());
        }
    };
    if big {
        ifd.extend_from_slice(&(entries.len() as u64).to_ne_bytes());
    } else {
        ifd.extend_from_slice(&(entries.len() as u16).to_ne_bytes());
    }
    for (tag, (typ, count, data)) in entries.iter() {
        ifd.extend_from_slice(&tag.to_ne_bytes());
        ifd.extend_from_slice(&typ.to_ne_bytes());
        put_offset(&mut ifd, *count);
        if data.len() <= inline {
            let mut v = data.clone();
            v.resize(inline, 0);
            ifd.extend_from_slice(&v);
        } else {
            put_offset(&mut ifd, extra_pos);
            blobs.extend_from_slice(data);
            extra_pos += data.len() as u64;
            if blobs.len() % 2 == 1 {
                blobs.push(0);
                extra_pos += 1;
            }
        }
    }
    put_offset(&mut ifd, next);
    if !big && extra_pos > u64::from(u32::MAX) {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "{name}: the file passes 4 GiB, more than a classic TIFF can address; save with `bigtiff`"
            ),
        ));
    }
    ifd.extend_from_slice(&blobs);
    Ok((ifd, ifd_pos, extra_pos))
}

/// The first bytes of a TIFF (classic or BigTIFF) in the host's byte
/// order, the first directory's offset 0 (patched at the end).
pub(super) fn file_header(big: bool) -> Vec<u8> {
    let mut first = Vec::with_capacity(16);
    first.extend_from_slice(if cfg!(target_endian = "little") {
        b"II"
    } else {
        b"MM"
    });
    if big {
        first.extend_from_slice(&43u16.to_ne_bytes());
        first.extend_from_slice(&8u16.to_ne_bytes());
        first.extend_from_slice(&0u16.to_ne_bytes());
        first.extend_from_slice(&0u64.to_ne_bytes());
    } else {
        first.extend_from_slice(&42u16.to_ne_bytes());
        first.extend_from_slice(&0u32.to_ne_bytes());
    }
    first
}

impl BandWriter for TiffWriter {
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        self.rows.accept(&self.name, y, rows, data)?;
        let group = self.layout.band_rows();
        let mut rest = data;
        let mut row = y;
        while !rest.is_empty() {
            // Rows still wanted by the current strip or row of tiles.
            let group_end = (row / group + 1) * group;
            let group_end = group_end.min(self.header.height);
            let take = (group_end - row).min((rest.len() / self.row_bytes) as u32);
            let (now, later) = rest.split_at(take as usize * self.row_bytes);
            let complete = row + take == group_end;
            if self.pending_rows == 0 && complete {
                // A whole group in the band: no buffering.
                self.write_rows(now, take)?;
            } else {
                self.pending.extend_from_slice(now);
                self.pending_rows += take;
                if complete {
                    let pending = std::mem::take(&mut self.pending);
                    let result = self.write_rows(&pending, self.pending_rows);
                    self.pending = pending;
                    self.pending.clear();
                    self.pending_rows = 0;
                    result?;
                }
            }
            row += take;
            rest = later;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.rows.complete(&self.name)?;
        self.flush_jobs()?;
        self.write_directory()?;
        let out = self.out.take().expect("finished once");
        let file = out.into_inner().map_err(|e| self.io(e.into_error()))?;
        drop(file);
        let temp = self.temp.take().expect("finished once");
        persist(temp, &self.target, &self.name)
    }
}

impl Drop for TiffWriter {
    fn drop(&mut self) {
        // Unfinished: close without flushing (the file is about to go),
        // then `temp` removes it.
        if let Some(out) = self.out.take() {
            drop(out.into_parts());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gigapix_core::BandFormat;

    #[test]
    fn bigtiff_when_the_file_may_pass_4_gib() {
        let strips = Layout::Strips { rps: 16 };
        let tiles = Layout::Tiles { tw: 256, th: 256 };
        let h = Header::new(30000, 30000, 3, BandFormat::U8); // 2.7 GB
        assert!(!may_pass_4gib(&h, strips, Compression::None));
        assert!(!may_pass_4gib(&h, tiles, Compression::Deflate(6)));
        assert!(!may_pass_4gib(&h, strips, Compression::Lzw)); // 4.05 GB
        let h = Header::new(32000, 32000, 3, BandFormat::U8); // 3.07 GB
        assert!(!may_pass_4gib(&h, strips, Compression::None));
        assert!(may_pass_4gib(&h, strips, Compression::Lzw)); // 4.6 GB
        let h = Header::new(40000, 40000, 3, BandFormat::U8); // 4.8 GB
        assert!(may_pass_4gib(&h, strips, Compression::None));
        let h = Header::new(37000, 37000, 3, BandFormat::U8); // 4.107 GB
        assert!(!may_pass_4gib(&h, strips, Compression::None));
        let h = Header::new(37900, 37900, 3, BandFormat::U8); // 4.309 GB
        assert!(may_pass_4gib(&h, strips, Compression::None));
    }
}
