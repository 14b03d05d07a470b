//! The TIFF source: a random-access operation decoding strips or tiles on
//! demand, with a cache of decoded chunks shared by every thread.
//!
//! Chunks (uncompressed, LZW, deflate or PackBits, with or without a
//! predictor, either byte order and fill order, bands interleaved or in
//! separate planes) are read with positional reads of the shared file
//! handle (or copied from the file's bytes in memory), so threads never
//! disturb each other. Chunks that a region only partly
//! covers go into a small cache shared by every thread (a thread needing a
//! chunk another is decoding waits for it); a region inside one chunk is a
//! zero-copy view of it, and uncompressed strips wholly inside a region
//! are read straight into it.

use std::collections::VecDeque;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex, OnceLock};

use gigapix_core::{
    BandFormat, DemandHint, Error, ErrorKind, Header, Image, Inputs, Metadata, Operation, PlanInfo,
    Rect, Region, Result, SharedPixels,
};

use super::codec::{
    Codec, deflate_decode, fp_unpredict, lzw_decode, packbits_decode, reverse_bits, swap_samples,
    unpredict,
};
use super::ifd::JpegChunks;
use super::ycbcr::YCbCr;
use crate::input::Held;
use crate::jpeg::{TileScratch, decode_chunk};
use crate::source::{self, Encoding, Layout};
use crate::{FailOn, FileFormat};

/// Bytes of decoded chunks the shared cache keeps at least (more for wide
/// images: two rows of chunks). Strips are read in order, so a few chunks
/// per thread suffice; operations that revisit areas (rotations) have a
/// tile cache of their own. 48 MiB here was a third of vips-bench's RSS.
const CACHE_BYTES: usize = 16 << 20;

/// Most chunks the shared cache keeps at least (more for wide images).
const CACHE_ENTRIES: usize = 64;

/// A reader over a shared file (or its bytes in memory) with its own
/// position: reads are positional (`pread`), so any number of threads can
/// read the same handle.
pub(super) struct PosReader {
    file: Held,
    pos: u64,
    len: u64,
}

impl PosReader {
    /// A reader of `file` (`len` bytes long) at offset `pos`.
    pub(super) fn new(file: Held, pos: u64, len: u64) -> PosReader {
        PosReader { file, pos, len }
    }
}

impl Read for PosReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for PosReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "seek before the file start")
        })?;
        Ok(self.pos)
    }
}

/// What every thread needs to know about the file and its page.
pub(super) struct Info {
    pub(super) name: String,
    /// The file, or its bytes in memory.
    pub(super) file: Held,
    pub(super) len: u64,
    pub(super) header: Header,
    /// Strips (full width, `chunk_h` rows) or tiles.
    pub(super) tiled: bool,
    pub(super) chunk_w: u32,
    pub(super) chunk_h: u32,
    /// Chunks per row of chunks.
    pub(super) across: u32,
    /// File offset and byte count of every chunk.
    pub(super) offsets: Vec<u64>,
    pub(super) counts: Vec<u64>,
    /// How chunks are compressed.
    pub(super) codec: Codec,
    /// The file's samples are big-endian.
    pub(super) big_endian: bool,
    /// The predictor: 1 none, 2 horizontal, 3 floating point.
    pub(super) predictor: u16,
    /// FillOrder 2: the bits of every stored byte are reversed.
    pub(super) reversed_bits: bool,
    /// WhiteIsZero: the first band is inverted (not for palettes, which
    /// are inverted already).
    pub(super) white_is_zero: bool,
    /// The band of associated alpha the colour bands are divided by.
    pub(super) associated_alpha: Option<usize>,
    /// Bands are stored in separate planes (chunks), one after another.
    pub(super) planar: bool,
    /// Pixels are indices into this palette, expanded to RGB.
    pub(super) palette: Option<Palette>,
    /// JPEG chunks: the tables and the colour space.
    pub(super) jpeg: Option<JpegChunks>,
    /// YCbCr data units, unpacked and converted to RGB.
    pub(super) ycbcr: Option<YCbCr>,
    /// 8-bit CIELab, converted to `F32` Lab.
    pub(super) lab8: bool,
    pub(super) fail_on: FailOn,
    pub(super) metadata: Arc<Metadata>,
}

/// The colours of a palette image, or the levels of a grey image of
/// fewer than 8 bits a sample, which are expanded to 8-bit bands.
pub(super) struct Palette {
    /// Bits per index: 1, 2, 4 or 8.
    pub(super) bits: u8,
    /// Bands of each colour: 3 (RGB) or 1 (grey).
    pub(super) bands: usize,
    /// The colours, `2^bits` of them, `bands` bytes each.
    pub(super) colours: Vec<u8>,
}

impl Palette {
    /// The levels of `bits`-bit grey (1, 2 or 4 bits), spread over 0 to
    /// 255 as libvips does (1-bit 0 and 255, 4-bit `v * 17`), inverted
    /// for WhiteIsZero.
    pub(super) fn grey(bits: u8, white_is_zero: bool) -> Palette {
        let max = (1u32 << bits) - 1;
        let colours = (0..=max)
            .map(|v| {
                let v = if white_is_zero { max - v } else { v };
                (v * 255 / max) as u8
            })
            .collect();
        Palette {
            bits,
            bands: 1,
            colours,
        }
    }
}

impl Info {
    /// Whether chunks are stored exactly as the image's pixels:
    /// uncompressed, no predictor, no bit reversal, nothing to invert or
    /// divide, not a palette, bands interleaved.
    fn stored_as_is(&self) -> bool {
        let info = self;
        info.codec == Codec::None
            && info.predictor == 1
            && !info.reversed_bits
            && !info.white_is_zero
            && info.associated_alpha.is_none()
            && !info.planar
            && info.palette.is_none()
            && info.ycbcr.is_none()
            && !info.lab8
    }

    /// Bytes between rows of a decoded chunk: tiles keep their padding.
    fn stride(&self) -> usize {
        self.chunk_w as usize * self.header.pixel_bytes()
    }

    /// Rows stored in chunk `(_, cy)`: tiles are always whole, the last
    /// strip may be shorter.
    fn stored_rows(&self, cy: u32) -> u32 {
        if self.tiled {
            self.chunk_h
        } else {
            self.chunk_h.min(self.header.height - cy * self.chunk_h)
        }
    }

    /// The rectangle chunk `(cx, cy)` covers in the image (clipped at the
    /// right and bottom edges, as the decoder delivers it).
    fn chunk_rect(&self, cx: u32, cy: u32) -> Rect {
        let x = i64::from(cx) * i64::from(self.chunk_w);
        let y = i64::from(cy) * i64::from(self.chunk_h);
        let w = i64::from(self.chunk_w).min(i64::from(self.header.width) - x);
        let h = i64::from(self.chunk_h).min(i64::from(self.header.height) - y);
        Rect::new(x, y, w, h)
    }
}

/// A decoded chunk, rows [`Info::stride`] bytes apart, shared by the
/// cache and the regions viewing it.
type Chunk = Arc<Vec<u8>>;

/// A cache slot: filled once by the first thread that needs the chunk;
/// threads needing it meanwhile wait instead of decoding it again.
type Slot = Arc<OnceLock<Result<Chunk>>>;

/// Buffers of evicted chunks kept for reuse.
const SPARE_BUFFERS: usize = 4;

/// The last few decoded chunks, least recently used first.
#[derive(Default)]
struct Cache {
    /// Chunk index, slot, bytes charged.
    entries: VecDeque<(u32, Slot, usize)>,
    bytes: usize,
    /// Buffers of evicted chunks no region uses any more.
    spare: Vec<Vec<u8>>,
    /// Most bytes kept.
    budget: usize,
    /// Most chunks kept.
    max_entries: usize,
}

impl Cache {
    /// The slot of chunk `index`, made (empty) if missing, charged
    /// `bytes`.
    fn slot(&mut self, index: u32, bytes: usize) -> Slot {
        if let Some(i) = self.entries.iter().position(|(k, ..)| *k == index) {
            let entry = self.entries.remove(i).expect("found");
            let slot = entry.1.clone();
            self.entries.push_back(entry);
            return slot;
        }
        let slot = Slot::default();
        self.bytes += bytes;
        self.entries.push_back((index, slot.clone(), bytes));
        while self.entries.len() > 1
            && (self.bytes > self.budget || self.entries.len() > self.max_entries)
        {
            if let Some((_, old, charged)) = self.entries.pop_front() {
                self.bytes -= charged;
                self.recycle(old);
            }
        }
        slot
    }

    /// A filled slot, if chunk `index` is cached.
    fn get(&mut self, index: u32) -> Option<Chunk> {
        let (_, slot, _) = self.entries.iter().find(|(k, ..)| *k == index)?;
        slot.get()?.as_ref().ok().cloned()
    }

    /// Forgets chunk `index` (its decoding failed).
    fn remove(&mut self, index: u32) {
        if let Some(i) = self.entries.iter().position(|(k, ..)| *k == index) {
            let (_, _, charged) = self.entries.remove(i).expect("found");
            self.bytes -= charged;
        }
    }

    /// Keeps the buffer of an evicted slot if nothing else holds it.
    fn recycle(&mut self, slot: Slot) {
        if self.spare.len() < SPARE_BUFFERS
            && let Ok(cell) = Arc::try_unwrap(slot)
            && let Some(Ok(chunk)) = cell.into_inner()
            && let Ok(buf) = Arc::try_unwrap(chunk)
        {
            self.spare.push(buf);
        }
    }

    /// A spare buffer, or a new one.
    fn buffer(&mut self) -> Vec<u8> {
        self.spare.pop().unwrap_or_default()
    }
}

/// The loader operation.
pub(super) struct TiffSource {
    info: Info,
    cache: Mutex<Cache>,
}

impl TiffSource {
    /// The source image of a page described by `info`.
    pub(super) fn image(info: Info) -> Image {
        if let Some(image) = mapped_strips(&info) {
            return image;
        }
        let chunk_bytes = info.stride() as u64 * u64::from(info.chunk_h);
        let across = info.across;
        Image::new(
            TiffSource {
                info,
                cache: Mutex::new(Cache {
                    // Two rows of chunks: regions in a band of the image
                    // never decode a chunk twice, however wide the image.
                    budget: CACHE_BYTES
                        .max((2 * u64::from(across) * chunk_bytes).min(isize::MAX as u64) as usize),
                    max_entries: CACHE_ENTRIES.max(2 * across as usize + 8),
                    ..Cache::default()
                }),
            },
            vec![],
        )
    }
}

/// The image of uncompressed strips that follow each other in the file
/// with nothing between them, as a memory-mapped raw layout: its regions
/// are views of the map, without a read or a copy (the `x10k.tif` that
/// libvips writes is such a file). A file in memory is served the same
/// way, regions viewing its bytes. `None` for any other layout, or if the
/// map fails (or the bytes in memory are not aligned to the samples): the
/// chunk reader then serves the file.
fn mapped_strips(info: &Info) -> Option<Image> {
    let h = &info.header;
    let encoding = match (
        h.format.size(),
        info.big_endian == cfg!(target_endian = "big"),
    ) {
        (1, _) | (_, true) => Encoding::Native,
        (2, false) => Encoding::U16Be,
        _ => return None,
    };
    if info.tiled || info.chunk_w != h.width || !info.stored_as_is() || info.offsets.is_empty() {
        return None;
    }
    let row = h.row_bytes() as u64;
    let strip = row * u64::from(info.chunk_h);
    let start = info.offsets[0];
    let contiguous = info
        .offsets
        .iter()
        .zip(&info.counts)
        .enumerate()
        .all(|(i, (&o, &c))| {
            let rows = u64::from(info.stored_rows(i as u32));
            o == start + i as u64 * strip && c >= rows * row
        });
    if !contiguous || (encoding == Encoding::U16Be && cfg!(target_endian = "big")) {
        return None;
    }
    let layout = Layout {
        format: FileFormat::Tiff,
        variant: "tiff",
        header: *h,
        data_offset: start,
        encoding,
        maxval: None,
    };
    let end = start.checked_add(row * u64::from(h.height))?;
    if end > info.len || end > isize::MAX as u64 {
        return None;
    }
    let image = match &info.file {
        Held::File(file) => source::mapped(&layout, file, end, &info.name, info.metadata.clone()),
        Held::Bytes(bytes) => source::memory(
            &layout,
            bytes.0.clone(),
            end,
            FileFormat::Tiff.loader_name(),
            &info.name,
            info.metadata.clone(),
        ),
    };
    image.ok()
}

/// Per-thread scratch space.
#[derive(Default)]
pub(super) struct Worker {
    scratch: Vec<u8>,
    compressed: Vec<u8>,
    /// A chunk wholly inside the request being decoded.
    whole: Vec<u8>,
    /// One plane of a chunk with separate planes.
    plane: Vec<u8>,
    /// The JPEG decoder's scratch space.
    jpeg: TileScratch,
}

impl TiffSource {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decodes chunk `index` (`(cx, cy)`) into `buf` (resized to fit), rows
    /// [`Info::stride`] apart. A decoding error fails, or with
    /// `fail_on=none` gives zeros and a warning.
    fn decode(
        &self,
        worker: &mut Worker,
        (cx, cy): (u32, u32),
        buf: &mut Vec<u8>,
        inputs: &Inputs<'_>,
    ) -> Result<()> {
        let info = &self.info;
        let index = cy * info.across + cx;
        let stride = info.stride();
        let rows = info.stored_rows(cy) as usize;
        // Every byte is overwritten: only new space needs zeroing.
        buf.truncate(stride * rows);
        buf.resize(stride * rows, 0);
        let result = self.decode_here(worker, index, buf);
        if result.is_ok() {
            self.finish(buf);
        }
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                if info.fail_on == FailOn::None && e.kind() != ErrorKind::Io {
                    buf.fill(0);
                    inputs.warn(format!(
                        "{}; {} {index} filled with zeros",
                        e.message(),
                        if info.tiled { "tile" } else { "strip" }
                    ));
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    /// What is left once samples are in native order and interleaved:
    /// WhiteIsZero inverted, associated alpha divided out.
    fn finish(&self, buf: &mut [u8]) {
        let info = &self.info;
        let h = &info.header;
        if info.white_is_zero && info.palette.is_none() {
            invert_first_band(buf, h.bands as usize, h.format);
        }
        if let Some(alpha) = info.associated_alpha {
            unpremultiply(buf, h.bands as usize, alpha, h.format);
        }
    }

    /// Reads and decodes a chunk: uncompressed, LZW, deflate or PackBits,
    /// with or without a predictor.
    fn decode_here(&self, worker: &mut Worker, index: u32, buf: &mut [u8]) -> Result<()> {
        let info = &self.info;
        if let Some(palette) = &info.palette {
            // Indices, packed `bits` to a byte, rows starting on bytes.
            let bits = usize::from(palette.bits);
            let width = info.chunk_w as usize;
            let packed_row = (width * bits).div_ceil(8);
            let rows = buf.len() / info.stride();
            let mut plane = std::mem::take(&mut worker.plane);
            plane.resize(packed_row * rows, 0);
            let result = self.decode_plane(worker, index, &mut plane, 1);
            if result.is_ok() {
                let per_byte = 8 / bits;
                let mask = ((1u16 << bits) - 1) as u8;
                let pb = palette.bands;
                for (dst, src) in buf
                    .chunks_exact_mut(width * pb)
                    .zip(plane.chunks_exact(packed_row))
                {
                    for (x, px) in dst.chunks_exact_mut(pb).enumerate() {
                        let byte = src[x / per_byte];
                        let shift = 8 - bits * (x % per_byte + 1);
                        let i = if bits == 8 {
                            byte
                        } else {
                            (byte >> shift) & mask
                        };
                        let at = usize::from(i) * pb;
                        px.copy_from_slice(&palette.colours[at..at + pb]);
                    }
                }
            }
            worker.plane = plane;
            return result;
        }
        if info.lab8 {
            let mut plane = std::mem::take(&mut worker.plane);
            plane.resize(buf.len() / 4, 0);
            let result = self.decode_plane(worker, index, &mut plane, 3);
            if result.is_ok() {
                lab8_to_lab(&plane, buf);
            }
            worker.plane = plane;
            return result;
        }
        if let Some(ycbcr) = &info.ycbcr {
            let width = info.chunk_w as usize;
            let rows = buf.len() / info.stride();
            let mut plane = std::mem::take(&mut worker.plane);
            plane.resize(ycbcr.packed_len(width, rows), 0);
            let result = self.decode_plane(worker, index, &mut plane, 1);
            if result.is_ok() {
                ycbcr.unpack(&plane, width, buf);
            }
            worker.plane = plane;
            return result;
        }
        if !info.planar {
            return self.decode_plane(worker, index, buf, info.header.bands as usize);
        }
        // Separate planes: one chunk per band, interleaved here.
        let bands = info.header.bands as usize;
        let size = info.header.format.size();
        let plane_chunks = info.offsets.len() as u32 / info.header.bands;
        let mut plane = std::mem::take(&mut worker.plane);
        plane.resize(buf.len() / bands, 0);
        let mut result = Ok(());
        for b in 0..bands {
            result = self.decode_plane(worker, index + b as u32 * plane_chunks, &mut plane, 1);
            if result.is_err() {
                break;
            }
            for (dst, src) in buf
                .chunks_exact_mut(bands * size)
                .zip(plane.chunks_exact(size))
            {
                dst[b * size..(b + 1) * size].copy_from_slice(src);
            }
        }
        worker.plane = plane;
        result
    }

    /// Reads and decodes chunk `index` holding `bands` samples a pixel.
    fn decode_plane(
        &self,
        worker: &mut Worker,
        index: u32,
        buf: &mut [u8],
        bands: usize,
    ) -> Result<()> {
        let info = &self.info;
        let name = &info.name;
        let kind = if info.tiled { "tile" } else { "strip" };
        let (offset, count) = (info.offsets[index as usize], info.counts[index as usize]);
        let end = offset.saturating_add(count);
        if end > info.len {
            return Err(Error::format(format!(
                "{name}: file is truncated: {kind} {index} lies at bytes {offset}..{end}, past the end of the file ({} bytes)",
                info.len
            )));
        }
        // A count can only be trusted so far: compressed data larger than
        // twice the decoded chunk (plus slack) is not plausible.
        let plausible = 2 * buf.len() as u64 + 4096;
        let mut reader = PosReader::new(info.file.clone(), offset, info.len);
        let io_err = |e: io::Error| Error::io(format_args!("{name}: {kind} {index}"), e);
        if info.codec == Codec::None {
            if count < buf.len() as u64 {
                return Err(Error::format(format!(
                    "{name}: {kind} {index} holds {count} bytes, {} are needed",
                    buf.len()
                )));
            }
            reader.read_exact(buf).map_err(io_err)?;
            if info.reversed_bits {
                reverse_bits(buf);
            }
        } else {
            let count = count.min(plausible) as usize;
            worker.compressed.clear();
            worker.compressed.resize(count, 0);
            reader.read_exact(&mut worker.compressed).map_err(io_err)?;
            if info.reversed_bits {
                reverse_bits(&mut worker.compressed);
            }
            if let (Codec::Jpeg, Some(jpeg)) = (info.codec, &info.jpeg) {
                // Whole pixels, colour converted: nothing more to undo.
                let size = (info.chunk_w as usize, buf.len() / info.stride());
                let strict = info.fail_on == FailOn::Error;
                return decode_chunk(
                    &jpeg.tables,
                    &worker.compressed,
                    jpeg.colour,
                    size,
                    buf,
                    strict,
                    &mut worker.jpeg,
                )
                .map_err(|m| Error::format(format!("{name}: {kind} {index}: {m}")));
            }
            let done = match info.codec {
                Codec::Lzw => lzw_decode(&worker.compressed, buf),
                Codec::PackBits => packbits_decode(&worker.compressed, buf),
                _ => deflate_decode(&worker.compressed, buf),
            };
            done.map_err(|m| Error::format(format!("{name}: {kind} {index}: {m}")))?;
        }
        if info.palette.is_some() || info.ycbcr.is_some() || info.lab8 {
            // Bytes, no predictor: as stored.
            return Ok(());
        }
        let size = info.header.format.size();
        let row = info.chunk_w as usize * bands * size;
        if info.predictor == 3 {
            // The byte planes give native order whatever the file's.
            fp_unpredict(buf, row, bands, size, &mut worker.scratch);
            return Ok(());
        }
        if info.big_endian != cfg!(target_endian = "big") {
            swap_samples(buf, size);
        }
        if info.predictor == 2 {
            unpredict(buf, row, bands, size);
        }
        Ok(())
    }

    /// Reads uncompressed strip `cy` straight into the rows of `region`
    /// (which covers `out`, the strip's full width and all its rows).
    fn read_strip_into(
        &self,
        region: &mut Region,
        out: Rect,
        cy: u32,
        inputs: &Inputs<'_>,
    ) -> Result<()> {
        let info = &self.info;
        let name = &info.name;
        let index = cy as usize;
        let rect = info.chunk_rect(0, cy);
        let row_len = info.stride();
        let need = row_len as u64 * rect.height as u64;
        let (offset, count) = (info.offsets[index], info.counts[index]);
        let result = if offset.saturating_add(need) > info.len {
            Err(Error::format(format!(
                "{name}: file is truncated: strip {index} lies at bytes {offset}..{}, past the end of the file ({} bytes)",
                offset.saturating_add(need),
                info.len
            )))
        } else if count < need {
            Err(Error::format(format!(
                "{name}: strip {index} holds {count} bytes, {need} are needed"
            )))
        } else {
            let mut reader = PosReader::new(info.file.clone(), offset, info.len);
            let swap = info.big_endian != cfg!(target_endian = "big");
            let size = info.header.format.size();
            let dst_x = (rect.x - out.x) as usize * info.header.pixel_bytes();
            (rect.y..rect.bottom()).try_for_each(|y| {
                let row = &mut region.row_bytes_mut(y)[dst_x..dst_x + row_len];
                reader
                    .read_exact(row)
                    .map_err(|e| Error::io(format_args!("{name}: strip {index}"), e))?;
                if swap {
                    swap_samples(row, size);
                }
                Ok(())
            })
        };
        match result {
            Err(e) if info.fail_on == FailOn::None && e.kind() != ErrorKind::Io => {
                for y in rect.y..rect.bottom() {
                    region.row_bytes_mut(y)[..row_len].fill(0);
                }
                inputs.warn(format!("{}; strip {index} filled with zeros", e.message()));
                Ok(())
            }
            other => other,
        }
    }

    /// Chunk `(cx, cy)` through the cache.
    fn cached(&self, worker: &mut Worker, at: (u32, u32), inputs: &Inputs<'_>) -> Result<Chunk> {
        let info = &self.info;
        let index = at.1 * info.across + at.0;
        let bytes = info.stride() * info.stored_rows(at.1) as usize;
        let slot = self.lock().slot(index, bytes);
        let result = slot.get_or_init(|| {
            let mut buf = self.lock().buffer();
            self.decode(worker, at, &mut buf, inputs)?;
            Ok(Arc::new(buf))
        });
        match result {
            Ok(chunk) => Ok(chunk.clone()),
            Err(e) => {
                self.lock().remove(index);
                Err(e.clone())
            }
        }
    }
}

/// Converts 8-bit CIELab (L 0..255 for 0..100, a and b signed bytes)
/// to `F32` Lab: L * 100 / 255, a and b as they are (TIFF 6.0 section
/// 23).
fn lab8_to_lab(stored: &[u8], out: &mut [u8]) {
    for (px, o) in stored.chunks_exact(3).zip(out.chunks_exact_mut(12)) {
        let l = f32::from(px[0]) * (100.0 / 255.0);
        let a = f32::from(px[1] as i8);
        let b = f32::from(px[2] as i8);
        o[..4].copy_from_slice(&l.to_ne_bytes());
        o[4..8].copy_from_slice(&a.to_ne_bytes());
        o[8..].copy_from_slice(&b.to_ne_bytes());
    }
}

/// Inverts the first of every `bands` samples of `format` (WhiteIsZero):
/// unsigned integers become their maximum less the value, floats 1 less
/// the value (as libvips and the `tiff` crate do). Signed samples are
/// refused when the file is opened.
fn invert_first_band(buf: &mut [u8], bands: usize, format: BandFormat) {
    let size = format.size();
    for s in buf.chunks_exact_mut(bands * size) {
        let s = &mut s[..size];
        match format {
            BandFormat::F32 => {
                let v = f32::from_ne_bytes(s.try_into().expect("4 bytes"));
                s.copy_from_slice(&(1.0 - v).to_ne_bytes());
            }
            BandFormat::F64 => {
                let v = f64::from_ne_bytes(s.try_into().expect("8 bytes"));
                s.copy_from_slice(&(1.0 - v).to_ne_bytes());
            }
            // The maximum less the value of an unsigned integer is its
            // complement, in either byte order.
            _ => s.iter_mut().for_each(|b| *b = !*b),
        }
    }
}

/// Divides the colour bands of associated (premultiplied) alpha by band
/// `alpha`, giving unassociated alpha exactly as libvips 8.18's loader
/// does (its `vips_unpremultiply`): where alpha is below 0.01 the colours
/// become 0; elsewhere they are multiplied by `max / alpha` in f32 (max
/// 255 for u8, 65535 for u16, 1 for floats), truncated towards zero and
/// clipped to 0..max for integers. Bands after the alpha one are left
/// alone. Other formats are refused when the file is opened.
fn unpremultiply(buf: &mut [u8], bands: usize, alpha: usize, format: BandFormat) {
    // `$t` samples, computed in `$f` (`max / alpha` in f32 as libvips
    // does; f64 samples in f64), `$clip` turning a quotient into a sample.
    macro_rules! divide {
        ($t:ty, $f:ty, $max:expr, $clip:expr) => {{
            const N: usize = std::mem::size_of::<$t>();
            for px in buf.chunks_exact_mut(bands * N) {
                let load = |px: &[u8], i: usize| {
                    <$t>::from_ne_bytes(px[N * i..N * i + N].try_into().expect("sample"))
                };
                let a = load(px, alpha) as $f;
                let f = $max / a;
                for b in 0..alpha {
                    let v: $t = if a < 0.01 {
                        <$t>::default()
                    } else {
                        $clip(load(px, b) as $f * f)
                    };
                    px[N * b..N * b + N].copy_from_slice(&v.to_ne_bytes());
                }
            }
        }};
    }
    match format {
        BandFormat::U8 => divide!(u8, f32, 255.0, |q: f32| q.min(255.0) as u8),
        BandFormat::U16 => divide!(u16, f32, 65535.0, |q: f32| q.min(65535.0) as u16),
        BandFormat::F32 => divide!(f32, f32, 1.0, |q: f32| q),
        BandFormat::F64 => divide!(f64, f64, 1.0, |q: f64| q),
        _ => {}
    }
}

/// Copies the part `inter` of a decoded chunk covering `chunk` (rows
/// `stride` bytes apart) into `region`, which covers `out`.
fn copy_into(
    region: &mut Region,
    out: Rect,
    data: &[u8],
    stride: usize,
    chunk: Rect,
    inter: Rect,
    px: usize,
) {
    let len = inter.width as usize * px;
    let src_x = (inter.x - chunk.x) as usize * px;
    let dst_x = (inter.x - out.x) as usize * px;
    for y in inter.y..inter.bottom() {
        let s = (y - chunk.y) as usize * stride + src_x;
        region.row_bytes_mut(y)[dst_x..dst_x + len].copy_from_slice(&data[s..s + len]);
    }
}

impl Operation for TiffSource {
    type State = Worker;

    fn name(&self) -> &'static str {
        "tiffload"
    }

    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.info.header)
    }

    fn metadata(&self, _: &[Arc<Metadata>]) -> Arc<Metadata> {
        self.info.metadata.clone()
    }

    fn demand(&self) -> DemandHint {
        if self.info.tiled {
            DemandHint::Any
        } else {
            DemandHint::ThinStrip
        }
    }

    fn start(&self) -> Result<Worker> {
        Ok(Worker::default())
    }

    fn shared_bytes(&self, _: &PlanInfo, output: &Header) -> u64 {
        // The shared chunk cache fills up to its budget over a run whose
        // requests cut through chunks, plus the chunk being decoded (the
        // spare buffers of evicted chunks are reused for new ones).
        let cache = self.lock();
        let chunk = self.info.stride() as u64 * u64::from(self.info.chunk_h);
        let kept = (cache.budget as u64).min(cache.max_entries as u64 * chunk);
        (kept + chunk).min(output.image_bytes() + chunk)
    }

    fn scratch_bytes(&self, _: Rect, _: &[Header]) -> u64 {
        // A decoded chunk (`whole`) and, compressed, its bytes.
        let chunk = self.info.stride() as u64 * u64::from(self.info.chunk_h);
        if self.info.codec == Codec::None {
            0
        } else {
            2 * chunk
        }
    }

    fn generate(&self, worker: &mut Worker, out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let info = &self.info;
        let h = &info.header;
        if out.is_empty() {
            return Ok(inputs.alloc(out));
        }
        let px = h.pixel_bytes();
        let (cw, ch) = (i64::from(info.chunk_w), i64::from(info.chunk_h));
        let (cx0, cx1) = ((out.x / cw) as u32, ((out.right() - 1) / cw) as u32);
        let (cy0, cy1) = ((out.y / ch) as u32, ((out.bottom() - 1) / ch) as u32);

        let stride = info.stride();
        // Inside one chunk: a view of the cached chunk, no copy.
        if cx0 == cx1 && cy0 == cy1 {
            let rect = info.chunk_rect(cx0, cy0);
            let chunk = self.cached(worker, (cx0, cy0), inputs)?;
            let offset = (out.y - rect.y) as usize * stride + (out.x - rect.x) as usize * px;
            let shared: Arc<dyn SharedPixels> = chunk.clone();
            if let Ok(region) = Region::view(shared, offset, stride, out, h.bands, h.format) {
                return Ok(region);
            }
            let mut region = inputs.alloc(out);
            copy_into(&mut region, out, &chunk, stride, rect, out, px);
            return Ok(region);
        }

        let mut region = inputs.alloc(out);
        for cy in cy0..=cy1 {
            for cx in cx0..=cx1 {
                let index = cy * info.across + cx;
                let rect = info.chunk_rect(cx, cy);
                let inter = out.intersect(&rect);
                let hit = self.lock().get(index);
                if let Some(chunk) = hit {
                    copy_into(&mut region, out, &chunk, stride, rect, inter, px);
                } else if inter == rect && !info.tiled && info.stored_as_is() {
                    // An uncompressed strip wholly inside the request:
                    // straight from the file into the region.
                    self.read_strip_into(&mut region, out, cy, inputs)?;
                } else if inter == rect {
                    // Wholly inside the request: nobody else needs it.
                    let mut buf = std::mem::take(&mut worker.whole);
                    let done = self.decode(worker, (cx, cy), &mut buf, inputs);
                    if done.is_ok() {
                        copy_into(&mut region, out, &buf, stride, rect, inter, px);
                    }
                    worker.whole = buf;
                    done?;
                } else {
                    let chunk = self.cached(worker, (cx, cy), inputs)?;
                    copy_into(&mut region, out, &chunk, stride, rect, inter, px);
                }
            }
            inputs.check_stop()?;
        }
        Ok(region)
    }
}
