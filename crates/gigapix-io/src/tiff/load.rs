//! The TIFF loader: a random-access source decoding strips or tiles on
//! demand.
//!
//! `open` reads the directory of the chosen page (`page=N`, default 0) and
//! checks it: sample layout, compression, limits, and (unless
//! `fail_on=none`) that every chunk lies inside the file. Regions then
//! decode only the chunks they touch. Uncompressed, LZW and deflate chunks
//! (with or without the horizontal predictor, either byte order, bands
//! interleaved or in separate planes) are read here with positional reads
//! of the shared file handle, so threads never disturb each other; other
//! variants (PackBits, the floating-point predictor, WhiteIsZero) go
//! through a `tiff` crate decoder each worker thread keeps. Chunks that a
//! region only partly covers go into a small cache shared by every thread
//! (a thread needing a chunk another is decoding waits for it); a region
//! inside one chunk is a zero-copy view of it, and uncompressed strips
//! wholly inside a region are read straight into it. The source is random
//! access whatever [`AccessMode`](crate::AccessMode) asks for.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use gigapix_core::{
    BandFormat, DemandHint, Error, ErrorKind, Header, Image, Inputs, Metadata, Operation, Rect,
    Region, Result, SharedPixels,
};
use tiff::decoder::{ChunkType, Decoder, Limits as TiffLimits};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError};

use crate::params::Params;
use crate::{FailOn, OpenOptions};

/// Largest decoded chunk (strip or tile) accepted, in bytes.
const MAX_CHUNK: u64 = 256 << 20;

/// Largest tag value (an array of strip offsets, ...) the decoder reads.
const MAX_TAG_VALUE: usize = 64 << 20;

/// Most pages counted; a longer chain of directories is reported as is.
const MAX_PAGES: usize = 100_000;

/// Bytes of decoded chunks the shared cache keeps at least (more for wide
/// images: two rows of chunks). Strips are read in order, so a few chunks
/// per thread suffice; operations that revisit areas (rotations) have a
/// tile cache of their own. 48 MiB here was a third of vips-bench's RSS.
const CACHE_BYTES: usize = 16 << 20;

/// Most chunks the shared cache keeps at least (more for wide images).
const CACHE_ENTRIES: usize = 64;

/// Buffer of each worker's file reader.
const READ_BUFFER: usize = 64 << 10;

/// A reader over a shared file with its own position: reads are positional
/// (`pread`), so any number of threads can read the same handle.
struct PosReader {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl Read for PosReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
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

type TiffDecoder = Decoder<BufReader<PosReader>>;

/// Turns a `tiff` crate error into ours, naming the file.
fn tiff_error(name: &str, e: TiffError) -> Error {
    match e {
        TiffError::UnsupportedError(u) => Error::new(
            ErrorKind::Unsupported,
            format!("{name}: unsupported TIFF: {u}"),
        ),
        TiffError::LimitsExceeded => Error::new(
            ErrorKind::Limit,
            format!("{name}: TIFF decoder limits exceeded"),
        ),
        TiffError::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            Error::format(format!("{name}: file is truncated ({io})"))
        }
        TiffError::IoError(io)
            if matches!(
                io.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::Other
            ) =>
        {
            Error::format(format!("{name}: damaged TIFF data: {io}"))
        }
        TiffError::IoError(io) => Error::io(name, io),
        other => Error::format(format!("{name}: bad TIFF: {other}")),
    }
}

/// A decoder over `file`, positioned on directory `page`.
fn decoder(file: &Arc<File>, len: u64, name: &str, page: usize) -> Result<TiffDecoder> {
    let reader = PosReader {
        file: file.clone(),
        pos: 0,
        len,
    };
    let mut limits = TiffLimits::default();
    limits.decoding_buffer_size = MAX_CHUNK as usize;
    limits.intermediate_buffer_size = MAX_CHUNK as usize;
    limits.ifd_value_size = MAX_TAG_VALUE;
    let mut dec = Decoder::new(BufReader::with_capacity(READ_BUFFER, reader))
        .map_err(|e| tiff_error(name, e))?
        .with_limits(limits);
    if page != 0 {
        dec.seek_to_image(page).map_err(|e| tiff_error(name, e))?;
    }
    Ok(dec)
}

/// The name of a TIFF compression code.
fn compression_name(code: u16) -> String {
    match code {
        1 => "none".into(),
        2 => "ccitt-rle".into(),
        3 => "ccitt-fax3".into(),
        4 => "ccitt-fax4".into(),
        5 => "lzw".into(),
        6 | 7 => "jpeg".into(),
        8 | 32946 => "deflate".into(),
        32773 => "packbits".into(),
        34887 => "lerc".into(),
        34925 => "lzma".into(),
        50000 => "zstd".into(),
        50001 => "webp".into(),
        c => format!("code {c}"),
    }
}

/// What every thread needs to know about the file and its page.
struct Info {
    name: String,
    file: Arc<File>,
    len: u64,
    page: usize,
    header: Header,
    /// Strips (full width, `chunk_h` rows) or tiles.
    tiled: bool,
    chunk_w: u32,
    chunk_h: u32,
    /// Chunks per row of chunks.
    across: u32,
    /// File offset and byte count of every chunk.
    offsets: Vec<u64>,
    counts: Vec<u64>,
    /// How chunks are decoded: by us, or through the `tiff` crate.
    codec: Codec,
    /// The file's samples are big-endian.
    big_endian: bool,
    /// The horizontal predictor was applied.
    predictor: bool,
    /// Bands are stored in separate planes (chunks), one after another.
    planar: bool,
    /// Pixels are indices into this palette, expanded to RGB.
    palette: Option<Palette>,
    fail_on: FailOn,
    metadata: Arc<Metadata>,
}

/// The colours of a palette image.
struct Palette {
    /// Bits per index: 1, 2, 4 or 8.
    bits: u8,
    /// The colours, `2^bits` of them.
    colours: Vec<[u8; 3]>,
}

/// Who decodes the chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Codec {
    /// Uncompressed: read as is.
    None,
    /// LZW, decoded here with weezl.
    Lzw,
    /// Deflate, decoded here with flate2.
    Deflate,
    /// The `tiff` crate's decoder (PackBits, the floating-point predictor,
    /// WhiteIsZero).
    Crate,
}

impl Info {
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

/// Opens a TIFF file: reads and checks the directory of page `page`.
pub(crate) fn open(
    path: &Path,
    name: &str,
    options: &OpenOptions,
    params: &mut Params,
) -> Result<Image> {
    let page: usize = params.take("page")?.unwrap_or(0);
    let file = File::open(path).map_err(|e| Error::io(name, e))?;
    let len = file.metadata().map_err(|e| Error::io(name, e))?.len();
    let file = Arc::new(file);
    let mut magic = [0u8; 4];
    PosReader {
        file: file.clone(),
        pos: 0,
        len,
    }
    .read_exact(&mut magic)
    .map_err(|_| Error::format(format!("{name}: file is truncated (TIFF header)")))?;
    let bigtiff = magic[2..] == [43, 0] || magic[2..] == [0, 43];
    let big_endian = magic[..2] == *b"MM";

    // Count the pages, then position on the one asked for.
    let mut dec = decoder(&file, len, name, 0)?;
    let mut pages = 1;
    while dec.more_images() && pages < MAX_PAGES {
        if dec.next_image().is_err() {
            break;
        }
        pages += 1;
    }
    if page >= pages {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: page {page} does not exist (the file has {pages} page{})",
                if pages == 1 { "" } else { "s" }
            ),
        ));
    }
    dec.seek_to_image(page).map_err(|e| tiff_error(name, e))?;
    let err = |e| tiff_error(name, e);
    let unsupported = |msg: String| Error::new(ErrorKind::Unsupported, format!("{name}: {msg}"));

    let compression: u16 = dec
        .find_tag_unsigned(Tag::Compression)
        .map_err(err)?
        .unwrap_or(1);
    if !matches!(compression, 1 | 5 | 8 | 32946 | 32773) {
        return Err(unsupported(format!(
            "TIFF compression {} is not supported (none, lzw, deflate and packbits are)",
            compression_name(compression)
        )));
    }
    let (width, height) = dec.dimensions().map_err(err)?;
    let photometric: u16 = dec
        .find_tag_unsigned(Tag::PhotometricInterpretation)
        .map_err(err)?
        .unwrap_or(1);
    // The `tiff` crate does not describe palette images: read their bits
    // per sample here.
    let color = if photometric == 3 {
        let bits: Vec<u8> = dec
            .find_tag_unsigned_vec(Tag::BitsPerSample)
            .map_err(err)?
            .unwrap_or_else(|| vec![1]);
        let samples: u16 = dec
            .find_tag_unsigned(Tag::SamplesPerPixel)
            .map_err(err)?
            .unwrap_or(1);
        match (bits.as_slice(), samples) {
            (&[b], 1) => ColorType::Palette(b),
            _ => {
                return Err(unsupported(format!(
                    "palette images of {samples} samples of {bits:?} bits are not supported"
                )));
            }
        }
    } else {
        dec.colortype().map_err(err)?
    };
    let mut palette = None;
    let (bands, bits) = match color {
        ColorType::Palette(b @ (1 | 2 | 4 | 8)) => {
            // Expanded to 8-bit RGB: the colour map holds 2^bits red
            // values, then green, then blue, 16 bits each (their high
            // bytes are kept, as libvips does).
            let map: Vec<u16> = dec.get_tag_u16_vec(Tag::ColorMap).map_err(err)?;
            let n = 1usize << b;
            if map.len() < 3 * n {
                return Err(Error::format(format!(
                    "{name}: bad TIFF: a colour map of {} entries for {b}-bit indices",
                    map.len()
                )));
            }
            let colours: Vec<[u8; 3]> = (0..n)
                .map(|i| [map[i], map[n + i], map[2 * n + i]].map(|v| (v >> 8) as u8))
                .collect();
            palette = Some(Palette { bits: b, colours });
            (3, 8)
        }
        ColorType::Gray(b) => (1, b),
        ColorType::GrayA(b) => (2, b),
        ColorType::RGB(b) => (3, b),
        ColorType::RGBA(b) => (4, b),
        ColorType::Multiband {
            bit_depth,
            num_samples,
        } => (u32::from(num_samples), bit_depth),
        other => {
            return Err(unsupported(format!(
                "TIFF colour type {other:?} is not supported (grey, RGB, with or without alpha, and multiband are)"
            )));
        }
    };
    let sample_format: u16 = dec
        .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)
        .map_err(err)?
        .and_then(|v| v.first().copied())
        .unwrap_or(1);
    let format = match (bits, sample_format) {
        (8, 1) => BandFormat::U8,
        (16, 1) => BandFormat::U16,
        (32, 1) => BandFormat::U32,
        (32, 3) => BandFormat::F32,
        _ => {
            let kind = match sample_format {
                1 => "unsigned integer",
                2 => "signed integer",
                3 => "float",
                _ => "unknown-format",
            };
            return Err(unsupported(format!(
                "{bits}-bit {kind} samples are not supported (8, 16 and 32-bit unsigned, 32-bit float are)"
            )));
        }
    };
    let planar: u16 = dec
        .find_tag_unsigned(Tag::PlanarConfiguration)
        .map_err(err)?
        .unwrap_or(1);
    let planar = planar == 2 && bands > 1;
    let predictor: u16 = dec
        .find_tag_unsigned(Tag::Predictor)
        .map_err(err)?
        .unwrap_or(1);
    if palette.is_some() && predictor != 1 {
        return Err(unsupported(
            "palette images with a predictor are not supported".into(),
        ));
    }
    let codec = match (compression, predictor, photometric) {
        (_, 3, _) | (_, _, 0) | (32773, ..) => Codec::Crate,
        (1, ..) => Codec::None,
        (5, ..) => Codec::Lzw,
        _ => Codec::Deflate,
    };
    if (planar || palette.is_some()) && codec == Codec::Crate {
        return Err(unsupported(format!(
            "{} are supported with no compression, lzw or deflate and the horizontal predictor, \
             not with compression {} and predictor {predictor}",
            if planar {
                "separate colour planes (PlanarConfiguration 2)"
            } else {
                "palette images"
            },
            compression_name(compression)
        )));
    }
    if !matches!(predictor, 1..=3) {
        return Err(unsupported(format!(
            "TIFF predictor {predictor} is not supported"
        )));
    }

    let header = Header::new(width, height, bands, format);
    options
        .limits
        .check(&header)
        .map_err(|e| Error::new(e.kind(), format!("{name}: {}", e.message())))?;

    let tiled = dec.get_chunk_type() == ChunkType::Tile;
    let (chunk_w, chunk_h) = if tiled {
        let tw: u32 = dec.get_tag_unsigned(Tag::TileWidth).map_err(err)?;
        let th: u32 = dec.get_tag_unsigned(Tag::TileLength).map_err(err)?;
        (tw, th)
    } else {
        let rps: u32 = dec
            .find_tag_unsigned(Tag::RowsPerStrip)
            .map_err(err)?
            .unwrap_or(u32::MAX);
        (width, rps.min(height))
    };
    if chunk_w == 0 || chunk_h == 0 {
        return Err(Error::format(format!(
            "{name}: bad TIFF: {}x{} {}",
            chunk_w,
            chunk_h,
            if tiled { "tiles" } else { "strips" }
        )));
    }
    let chunk_bytes = u64::from(chunk_w) * u64::from(chunk_h) * header.pixel_bytes() as u64;
    if chunk_bytes > MAX_CHUNK {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "{name}: TIFF {} of {chunk_w}x{chunk_h} pixels ({chunk_bytes} bytes) are larger than the limit of {MAX_CHUNK} bytes",
                if tiled { "tiles" } else { "strips" }
            ),
        ));
    }
    let across = width.div_ceil(chunk_w);
    let down = height.div_ceil(chunk_h);
    // With separate planes, every band has its own set of chunks.
    let chunks = u64::from(across) * u64::from(down) * if planar { u64::from(bands) } else { 1 };
    let (offsets_tag, counts_tag) = if tiled {
        (Tag::TileOffsets, Tag::TileByteCounts)
    } else {
        (Tag::StripOffsets, Tag::StripByteCounts)
    };
    let mut offsets = dec.get_tag_u64_vec(offsets_tag).map_err(err)?;
    let mut counts = dec.get_tag_u64_vec(counts_tag).map_err(err)?;
    if (offsets.len() as u64) < chunks || (counts.len() as u64) < chunks {
        return Err(Error::format(format!(
            "{name}: bad TIFF: {} chunk offsets and {} byte counts for {chunks} {}",
            offsets.len(),
            counts.len(),
            if tiled { "tiles" } else { "strips" }
        )));
    }
    // A truncated file fails here, before any pixel is asked for, unless
    // damaged files are to be read as far as they go.
    if options.fail_on != FailOn::None
        && let Some(i) = (0..chunks as usize).find(|&i| {
            offsets[i]
                .checked_add(counts[i])
                .is_none_or(|end| end > len)
        })
    {
        return Err(Error::format(format!(
            "{name}: file is truncated: {} {i} lies at bytes {}..{}, past the end of the file ({len} bytes)",
            if tiled { "tile" } else { "strip" },
            offsets[i],
            offsets[i].saturating_add(counts[i])
        )));
    }

    offsets.truncate(chunks as usize);
    counts.truncate(chunks as usize);

    let mut metadata = Metadata::new();
    // The ICC profile (tag 34675), if any; a damaged one is left out rather
    // than failing the open (it describes colour, not the pixels' layout).
    if let Ok(Some(value)) = dec.find_tag(Tag::IccProfile)
        && let Ok(icc) = value.into_u8_vec()
        && !icc.is_empty()
    {
        metadata.icc = Some(icc.into());
    }
    // Orientation (tag 274), as EXIF defines it; other values are ignored.
    if let Ok(Some(value)) = dec.find_tag(Tag::Orientation)
        && let Ok(v @ 1..=8) = value.into_u16()
    {
        metadata.orientation = v;
    }
    metadata.set_field("compression", compression_name(compression));
    if tiled {
        metadata.set_field("tile", format!("{chunk_w}x{chunk_h}"));
    } else {
        metadata.set_field("rows-per-strip", chunk_h);
    }
    metadata.set_field("pages", pages);
    if page != 0 {
        metadata.set_field("page", page);
    }
    metadata.set_field("bigtiff", bigtiff);
    if planar {
        metadata.set_field("planar", "separate");
    }
    if let Some(p) = &palette {
        metadata.set_field("palette", format!("{}-bit", p.bits));
    }
    metadata.set_field(
        "predictor",
        match predictor {
            1 => "none".to_string(),
            2 => "horizontal".to_string(),
            3 => "float".to_string(),
            p => format!("code {p}"),
        },
    );

    let info = Info {
        name: name.to_string(),
        file,
        len,
        page,
        header,
        tiled,
        chunk_w,
        chunk_h,
        across,
        offsets,
        counts,
        codec,
        big_endian,
        predictor: predictor == 2,
        planar,
        palette,
        fail_on: options.fail_on,
        metadata: Arc::new(metadata),
    };
    Ok(Image::new(
        TiffSource {
            info,
            cache: Mutex::new(Cache {
                // Two rows of chunks: regions in a band of the image never
                // decode a chunk twice, however wide the image.
                budget: CACHE_BYTES
                    .max((2 * u64::from(across) * chunk_bytes).min(isize::MAX as u64) as usize),
                max_entries: CACHE_ENTRIES.max(2 * across as usize + 8),
                ..Cache::default()
            }),
        },
        vec![],
    ))
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
struct TiffSource {
    info: Info,
    cache: Mutex<Cache>,
}

/// Per-thread state: a `tiff` decoder (opened on first use, for the
/// chunks we do not decode ourselves) and scratch space.
struct Worker {
    decoder: Option<TiffDecoder>,
    scratch: Vec<u8>,
    compressed: Vec<u8>,
    /// A chunk wholly inside the request being decoded.
    whole: Vec<u8>,
    /// One plane of a chunk with separate planes.
    plane: Vec<u8>,
}

/// Undoes the horizontal predictor on rows of `row_len` bytes holding
/// native-order samples of `format`, `bands` per pixel.
fn unpredict(data: &mut [u8], row_len: usize, bands: usize, format: BandFormat) {
    for row in data.chunks_exact_mut(row_len) {
        match format {
            BandFormat::U8 => {
                for i in bands..row.len() {
                    row[i] = row[i].wrapping_add(row[i - bands]);
                }
            }
            BandFormat::U16 => {
                let step = bands * 2;
                for i in (step..row.len()).step_by(2) {
                    let a = u16::from_ne_bytes([row[i], row[i + 1]]);
                    let b = u16::from_ne_bytes([row[i - step], row[i - step + 1]]);
                    row[i..i + 2].copy_from_slice(&a.wrapping_add(b).to_ne_bytes());
                }
            }
            BandFormat::U32 | BandFormat::F32 => {
                let step = bands * 4;
                for i in (step..row.len()).step_by(4) {
                    let a = u32::from_ne_bytes([row[i], row[i + 1], row[i + 2], row[i + 3]]);
                    let b = u32::from_ne_bytes([
                        row[i - step],
                        row[i - step + 1],
                        row[i - step + 2],
                        row[i - step + 3],
                    ]);
                    row[i..i + 4].copy_from_slice(&a.wrapping_add(b).to_ne_bytes());
                }
            }
        }
    }
}

/// Reverses the bytes of every `size`-byte sample.
fn swap_samples(data: &mut [u8], size: usize) {
    if size > 1 {
        for s in data.chunks_exact_mut(size) {
            s.reverse();
        }
    }
}

/// Decodes LZW `src` into `dst`, filling it exactly. Data past what `dst`
/// holds is ignored (some writers add junk after the end code).
fn lzw_decode(src: &[u8], dst: &mut [u8]) -> std::result::Result<(), String> {
    let mut dec = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
    let (mut inp, mut got) = (src, 0);
    while got < dst.len() {
        let r = dec.decode_bytes(inp, &mut dst[got..]);
        inp = &inp[r.consumed_in..];
        got += r.consumed_out;
        match r.status {
            Ok(weezl::LzwStatus::Ok) => {}
            Ok(weezl::LzwStatus::Done | weezl::LzwStatus::NoProgress) => {
                if got < dst.len() {
                    return Err(format!("LZW data ends after {got} of {} bytes", dst.len()));
                }
            }
            Err(e) => return Err(format!("bad LZW data: {e}")),
        }
    }
    Ok(())
}

/// Decodes zlib `src` into `dst`, filling it exactly.
fn deflate_decode(src: &[u8], dst: &mut [u8]) -> std::result::Result<(), String> {
    let mut dec = flate2::read::ZlibDecoder::new(src);
    dec.read_exact(dst).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => format!("deflate data ends before {} bytes", dst.len()),
        _ => format!("bad deflate data: {e}"),
    })
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
        let rect = info.chunk_rect(cx, cy);
        let stride = info.stride();
        let rows = info.stored_rows(cy) as usize;
        // Every byte is overwritten: only new space needs zeroing.
        buf.truncate(stride * rows);
        buf.resize(stride * rows, 0);
        let result = match info.codec {
            Codec::Crate => self.decode_with_crate(worker, index, rect, buf),
            _ => self.decode_here(worker, index, buf),
        };
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

    /// Reads and decodes a chunk ourselves: uncompressed, LZW or deflate,
    /// with or without the horizontal predictor.
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
                for (dst, src) in buf
                    .chunks_exact_mut(width * 3)
                    .zip(plane.chunks_exact(packed_row))
                {
                    for (x, px) in dst.chunks_exact_mut(3).enumerate() {
                        let byte = src[x / per_byte];
                        let shift = 8 - bits * (x % per_byte + 1);
                        let i = if bits == 8 {
                            byte
                        } else {
                            (byte >> shift) & mask
                        };
                        px.copy_from_slice(&palette.colours[usize::from(i)]);
                    }
                }
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
        let mut reader = PosReader {
            file: info.file.clone(),
            pos: offset,
            len: info.len,
        };
        let io_err = |e: io::Error| Error::io(format_args!("{name}: {kind} {index}"), e);
        if info.codec == Codec::None {
            if count < buf.len() as u64 {
                return Err(Error::format(format!(
                    "{name}: {kind} {index} holds {count} bytes, {} are needed",
                    buf.len()
                )));
            }
            reader.read_exact(buf).map_err(io_err)?;
        } else {
            let count = count.min(plausible) as usize;
            worker.compressed.clear();
            worker.compressed.resize(count, 0);
            reader.read_exact(&mut worker.compressed).map_err(io_err)?;
            let done = if info.codec == Codec::Lzw {
                lzw_decode(&worker.compressed, buf)
            } else {
                deflate_decode(&worker.compressed, buf)
            };
            done.map_err(|m| Error::format(format!("{name}: {kind} {index}: {m}")))?;
        }
        let format = info.header.format;
        if info.big_endian != cfg!(target_endian = "big") {
            swap_samples(buf, format.size());
        }
        if info.predictor {
            let row = info.chunk_w as usize * bands * format.size();
            unpredict(buf, row, bands, format);
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
            let mut reader = PosReader {
                file: info.file.clone(),
                pos: offset,
                len: info.len,
            };
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

    /// Decodes a chunk through the `tiff` crate, padding tiles back to
    /// their full width.
    fn decode_with_crate(
        &self,
        worker: &mut Worker,
        index: u32,
        rect: Rect,
        buf: &mut [u8],
    ) -> Result<()> {
        let info = &self.info;
        let px = info.header.pixel_bytes();
        let row = rect.width as usize * px;
        let mut tmp = std::mem::take(&mut worker.scratch);
        tmp.clear();
        tmp.resize(row * rect.height as usize, 0);
        let result = match worker.decoder.as_mut() {
            Some(dec) => Ok(dec),
            None => decoder(&info.file, info.len, &info.name, info.page)
                .map(|d| worker.decoder.insert(d)),
        }
        .and_then(|dec| {
            dec.read_chunk_bytes(index, &mut tmp)
                .map_err(|e| tiff_error(&info.name, e))
        });
        if result.is_err() {
            // The decoder may be left anywhere: start afresh next time.
            worker.decoder = None;
        } else {
            let stride = info.stride();
            for (dst, src) in buf.chunks_mut(stride).zip(tmp.chunks_exact(row)) {
                dst[..row].copy_from_slice(src);
            }
        }
        worker.scratch = tmp;
        result
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
        Ok(Worker {
            decoder: None,
            scratch: Vec::new(),
            compressed: Vec::new(),
            whole: Vec::new(),
            plane: Vec::new(),
        })
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
                } else if inter == rect
                    && info.codec == Codec::None
                    && !info.tiled
                    && !info.planar
                    && info.palette.is_none()
                {
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
