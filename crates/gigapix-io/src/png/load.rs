//! The PNG loader: a [`RowReader`] over `png::Reader`, served through a
//! [`SequentialSource`](gigapix_core::sequential::SequentialSource) (a
//! [`WarnedSource`]); Adam7 files through a store of decoded passes.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use gigapix_core::desc::Args;
use gigapix_core::sequential::{ReaderFactory, RowReader};
use gigapix_core::{BandFormat, DemandHint, Error, ErrorKind, Header, Image, Metadata, Result};
use png::{BitDepth, ColorType, Decoder, DecodingError, Transformations};

use crate::input::{Held, Input as Source, Reader};
use crate::warn::{WarnedSource, Warnings};
use crate::{FailOn, OpenOptions};

/// Largest decoded Adam7 image (bytes) held in memory; larger ones are
/// decoded into an unnamed temporary file.
pub(crate) const ADAM7_IN_MEMORY: u64 = 256 << 20;

/// Buffer of the file reader under the decoder.
const READ_BUFFER: usize = 256 << 10;

/// The engine's error for a decoding error of file `name`.
fn decode_error(name: &str, e: DecodingError) -> Error {
    match e {
        DecodingError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Error::format(format!("{name}: PNG file is truncated"))
        }
        DecodingError::IoError(e) => Error::io(name, e),
        DecodingError::Format(e) => Error::format(format!("{name}: damaged PNG: {e}")),
        DecodingError::LimitsExceeded => Error::new(
            ErrorKind::Limit,
            format!("{name}: PNG needs more memory than the decoder allows"),
        ),
        e => Error::format(format!("{name}: {e}")),
    }
}

/// Prefixes a core error with the file name.
fn named(name: &str, e: Error) -> Error {
    Error::new(e.kind(), format!("{name}: {}", e.message()))
}

/// A decoder over a fresh handle to `file` (or over its bytes in memory),
/// at its start, set to expand palettes, `tRNS` and low bit depths,
/// allocating (row buffers, `iCCP` and text chunks) at most the
/// process-wide [`Limits::max_alloc`].
///
/// [`Limits::max_alloc`]: gigapix_core::Limits::max_alloc
fn decoder(file: &Held, name: &str) -> Result<Decoder<Input>> {
    let reader = file.reader(name, |f| BufReader::with_capacity(READ_BUFFER, f))?;
    let mut decoder = Decoder::new_with_limits(
        SkipApng::new(reader),
        png::Limits {
            bytes: gigapix_core::Limits::default().max_alloc_usize(),
        },
    );
    decoder.set_transformations(Transformations::EXPAND);
    Ok(decoder)
}

/// What the `png` decoder reads: the file without its APNG chunks.
type Input = SkipApng<Reader<BufReader<File>>>;

/// A PNG byte stream with its animation chunks (`acTL`, `fcTL`, `fdAT`)
/// left out, so that only the default image (the `IDAT` chunks) is
/// decoded, as libvips and Pillow show an APNG file. Animation chunks in
/// an order the `png` crate refuses (an `fcTL` before `acTL`, an `acTL`
/// after `IDAT`, sequence numbers out of order, two `acTL`, ...) are so no
/// reason to refuse the image. Every other byte passes as it is (after
/// `IEND`, everything), so damage is reported as before.
pub(crate) struct SkipApng<R> {
    inner: R,
    /// Signature bytes still to pass.
    signature: usize,
    /// The header (length, type) of the chunk being passed, and how much
    /// of it has been.
    header: [u8; 8],
    header_at: usize,
    header_len: usize,
    /// Bytes of the current chunk (data and CRC) still to pass.
    pass: u64,
    /// `IEND` was passed: the rest goes through untouched.
    ended: bool,
}

impl<R: io::BufRead> SkipApng<R> {
    fn new(inner: R) -> SkipApng<R> {
        SkipApng {
            inner,
            signature: 8,
            header: [0; 8],
            header_at: 0,
            header_len: 0,
            pass: 0,
            ended: false,
        }
    }

    /// Reads chunk headers, skipping APNG chunks whole, until the next
    /// chunk to pass (or the end of the input).
    fn next_chunk(&mut self) -> io::Result<()> {
        loop {
            let mut got = 0;
            while got < 8 {
                let n = self.inner.read(&mut self.header[got..])?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            let (header_at, header_len) = (0, got);
            if got < 8 {
                // A truncated header: passed as it is, for the decoder to
                // report.
                (self.header_at, self.header_len) = (header_at, header_len);
                return Ok(());
            }
            let len = u64::from(u32::from_be_bytes(self.header[..4].try_into().expect("4")));
            let kind = &self.header[4..8];
            if matches!(kind, b"acTL" | b"fcTL" | b"fdAT") {
                let mut skip = len + 4;
                while skip > 0 {
                    let buf = self.inner.fill_buf()?;
                    if buf.is_empty() {
                        return Ok(());
                    }
                    let n = buf.len().min(skip as usize);
                    self.inner.consume(n);
                    skip -= n as u64;
                }
                continue;
            }
            self.ended = kind == b"IEND";
            (self.header_at, self.header_len) = (header_at, header_len);
            self.pass = len + 4;
            return Ok(());
        }
    }
}

impl<R: io::BufRead> io::BufRead for SkipApng<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.header_at < self.header_len {
            return Ok(&self.header[self.header_at..self.header_len]);
        }
        if self.signature == 0 && self.pass == 0 && !self.ended {
            self.next_chunk()?;
            if self.header_at < self.header_len {
                return Ok(&self.header[self.header_at..self.header_len]);
            }
        }
        let limit = if self.signature > 0 {
            self.signature as u64
        } else if self.ended && self.pass == 0 {
            u64::MAX
        } else {
            self.pass
        };
        let buf = self.inner.fill_buf()?;
        Ok(&buf[..buf.len().min(usize::try_from(limit).unwrap_or(usize::MAX))])
    }

    fn consume(&mut self, n: usize) {
        if self.header_at < self.header_len {
            self.header_at += n;
            return;
        }
        self.inner.consume(n);
        if self.signature > 0 {
            self.signature -= n;
        } else if self.pass > 0 {
            self.pass -= n as u64;
        }
    }
}

impl<R: io::BufRead> Read for SkipApng<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = io::BufRead::fill_buf(self)?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        io::BufRead::consume(self, n);
        Ok(n)
    }
}

impl<R> Seek for SkipApng<R> {
    /// The `png` decoder never seeks; a filtered stream cannot.
    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a PNG stream without its APNG chunks cannot seek",
        ))
    }
}

/// The engine's band format for a `png` output bit depth.
fn band_format(depth: BitDepth) -> BandFormat {
    if depth == BitDepth::Sixteen {
        BandFormat::U16
    } else {
        BandFormat::U8
    }
}

/// Opens a PNG file (on disk or in memory), reading its header and the
/// chunks before the pixels.
pub(crate) fn open(
    input: &Source,
    name: &str,
    options: &OpenOptions,
    _args: &Args,
) -> Result<Image> {
    let file = input.open(name)?;
    let mut dec = decoder(&file, name)?;
    // The limits first, on IHDR alone: before the decoder sizes buffers.
    let ihdr = dec.read_header_info().map_err(|e| decode_error(name, e))?;
    let claimed = Header::new(
        ihdr.width,
        ihdr.height,
        ihdr.color_type.samples() as u32,
        band_format(ihdr.bit_depth),
    );
    options.limits.check(&claimed).map_err(|e| named(name, e))?;
    let reader = dec.read_info().map_err(|e| decode_error(name, e))?;
    let info = reader.info();
    let (color, depth) = reader.output_color_type();
    let bands = match color {
        ColorType::Grayscale => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
        ColorType::Indexed => {
            return Err(Error::format(format!(
                "{name}: palette image without a usable palette"
            )));
        }
    };
    let header = Header::new(info.width, info.height, bands, band_format(depth));
    options.limits.check(&header).map_err(|e| named(name, e))?;
    let max_alloc = options.limits.max_alloc;
    if header.row_bytes() as u64 > max_alloc {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "{name}: rows of {} bytes ({header}) are too long to stream (max_alloc is {max_alloc})",
                header.row_bytes()
            ),
        ));
    }
    let mut metadata = Metadata::new();
    metadata.icc = info.icc_profile.as_deref().map(Arc::from);
    metadata.exif = info
        .exif_metadata
        .as_deref()
        .map(crate::exif::strip_signature)
        .map(Arc::from);
    if let Some(exif) = &metadata.exif {
        metadata.orientation = crate::exif::orientation(exif);
    }
    metadata.set_field("bit-depth", info.bit_depth as u8);
    if info.color_type == ColorType::Indexed {
        metadata.set_field("palette", "true");
    }
    let trns_grey = masked_trns_grey(info);
    let interlaced = info.interlaced;
    if interlaced {
        metadata.set_field("interlaced", "adam7");
    }
    drop(reader);

    let warnings = Warnings::default();
    let name: Arc<str> = Arc::from(name);
    let fail_on = options.fail_on;
    let open: ReaderFactory<PngRows> = {
        let warnings = warnings.clone();
        Box::new(move || {
            let mut dec = decoder(&file, &name)?;
            dec.set_ignore_text_chunk(true);
            let reader = dec.read_info().map_err(|e| decode_error(&name, e))?;
            let (w, h) = reader.info().size();
            if (w, h) != (header.width, header.height) || reader.info().interlaced != interlaced {
                return Err(Error::format(format!(
                    "{name}: the file changed since it was opened"
                )));
            }
            Ok(PngRows {
                reader,
                rows_read: 0,
                name: name.clone(),
                header,
                adam7: interlaced.then(|| Adam7::new(&header)),
                fail_on,
                failed: false,
                warnings: warnings.clone(),
                trns_grey,
            })
        })
    };
    Ok(WarnedSource::image(
        "pngload",
        header,
        metadata,
        warnings,
        DemandHint::Any,
        // The read buffer, the inflater's window and state, and the
        // previous and current rows of the unfiltering.
        READ_BUFFER as u64 + (64 << 10) + 2 * (header.row_bytes() as u64 + 1),
        open,
    ))
}

/// Reads the rows of one run.
struct PngRows {
    reader: png::Reader<Input>,
    /// Rows decoded so far (non-interlaced files).
    rows_read: u32,
    name: Arc<str>,
    header: Header,
    /// For interlaced files: the decoded passes.
    adam7: Option<Adam7>,
    fail_on: FailOn,
    /// A row could not be decoded (with `FailOn::None`): the rest is zeros.
    failed: bool,
    warnings: Warnings,
    /// The expanded grey level that a `tRNS` grey value outside the bit
    /// depth names once masked (see [`masked_trns_grey`]).
    trns_grey: Option<u8>,
}

/// For grey of 1, 2 or 4 bits whose `tRNS` grey value does not fit the
/// bit depth: the 8-bit level its low bits name. libvips 8.18 keeps only
/// the low `depth` bits of the value (so 2 on a 1-bit image makes black
/// transparent), as libpng's expansion does (8-bit values are cut to
/// their low byte, by the `png` crate too); the
/// `png` crate compares the whole value, which matches no pixel, and
/// leaves every pixel opaque: such rows get their alpha from this level.
fn masked_trns_grey(info: &png::Info<'_>) -> Option<u8> {
    let depth = info.bit_depth as u8;
    if info.color_type != ColorType::Grayscale || depth >= 8 {
        return None;
    }
    let max = (1u8 << depth) - 1;
    let trns = *info.trns.as_deref()?.first()?;
    (trns > max).then(|| (trns & max) * (255 / max))
}

impl PngRows {
    /// Fills `buf` with rows, counting the complete ones in `filled`.
    fn fill(&mut self, buf: &mut [u8], filled: &mut usize) -> Result<()> {
        let row_bytes = self.header.row_bytes();
        if let Some(adam7) = &mut self.adam7 {
            if adam7.store.is_none() {
                let keep_partial = self.fail_on == FailOn::None;
                let mut err = adam7.decode(&mut self.reader, &self.name, keep_partial)?;
                if err.is_none() {
                    err = self.end().err();
                }
                if let Some(e) = err {
                    if self.fail_on == FailOn::Error {
                        return Err(e);
                    }
                    self.warn(&e);
                }
            }
            let adam7 = self.adam7.as_mut().expect("interlaced");
            for row in buf.chunks_exact_mut(row_bytes) {
                adam7.next_row(row, &self.name)?;
                *filled += 1;
            }
            return Ok(());
        }
        for row in buf.chunks_exact_mut(row_bytes) {
            match self.reader.read_row(row) {
                Ok(Some(_)) => {
                    *filled += 1;
                    self.rows_read += 1;
                    if self.rows_read == self.header.height {
                        self.end()?;
                    }
                }
                Ok(None) => {
                    return Err(Error::format(format!(
                        "{}: the image data ends early",
                        self.name
                    )));
                }
                Err(e) => return Err(decode_error(&self.name, e)),
            }
        }
        Ok(())
    }

    /// Reads the rest of the file after the last row, checking the last
    /// checksums (zlib's and the chunks' CRC) and that the file ends.
    fn end(&mut self) -> Result<()> {
        self.reader
            .finish()
            .map_err(|e| decode_error(&self.name, e))
    }

    fn warn(&self, e: &Error) {
        self.warnings.rows_lost(e);
    }
}

impl RowReader for PngRows {
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
        let mut filled = 0;
        if !self.failed
            && let Err(e) = self.fill(buf, &mut filled)
        {
            if self.fail_on == FailOn::Error {
                return Err(e);
            }
            self.warn(&e);
            self.failed = true;
        }
        let (good, rest) = buf.split_at_mut(filled * self.header.row_bytes());
        rest.fill(0);
        if let Some(level) = self.trns_grey {
            // Grey and alpha, 8 bits each, alpha 255 from the decoder.
            for px in good.chunks_exact_mut(2) {
                if px[0] == level {
                    px[1] = 0;
                }
            }
        }
        if self.header.format == BandFormat::U16 {
            crate::source::swap_be16_in_place(good);
        }
        Ok(())
    }
}

/// The Adam7 passes: first column, first row, column step, row step.
const PASSES: [(u32, u32, u32, u32); 7] = [
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
];

/// Where the decoded passes of an interlaced image are kept.
enum Store {
    Memory(Vec<u8>),
    Disk(File),
}

/// The passes being written.
enum StoreWriter {
    Memory(Vec<u8>),
    Disk(BufWriter<File>),
}

/// An interlaced image: its passes decoded whole into a [`Store`], one
/// after the other, then assembled row by row.
struct Adam7 {
    store: Option<Store>,
    /// Largest store kept in memory ([`ADAM7_IN_MEMORY`]).
    memory_limit: u64,
    /// Pixels per row of each pass.
    widths: [u32; 7],
    /// Rows of each pass.
    lines: [u32; 7],
    /// Byte offset of each pass in the store; `offsets[7]` is the total.
    offsets: [u64; 8],
    pixel_bytes: usize,
    height: u32,
    /// The next row to assemble.
    next_y: u32,
    /// A pass row read from disk.
    scratch: Vec<u8>,
}

impl Adam7 {
    fn new(header: &Header) -> Adam7 {
        let (w, h) = (header.width, header.height);
        let px = header.pixel_bytes();
        let mut widths = [0; 7];
        let mut lines = [0; 7];
        let mut offsets = [0u64; 8];
        for (p, &(x0, y0, dx, dy)) in PASSES.iter().enumerate() {
            widths[p] = w.saturating_sub(x0).div_ceil(dx);
            lines[p] = h.saturating_sub(y0).div_ceil(dy);
            offsets[p + 1] = offsets[p] + u64::from(widths[p]) * u64::from(lines[p]) * px as u64;
        }
        Adam7 {
            store: None,
            memory_limit: ADAM7_IN_MEMORY,
            widths,
            lines,
            offsets,
            pixel_bytes: px,
            height: h,
            next_y: 0,
            scratch: Vec::new(),
        }
    }

    /// Decodes every pass into the store. An error creating or writing the
    /// store is returned as `Err`; a decoding error as `Ok(Some(..))`, with
    /// the undecoded part of the store left zero if `keep_partial` (else
    /// there is no store).
    fn decode(
        &mut self,
        reader: &mut png::Reader<Input>,
        name: &str,
        keep_partial: bool,
    ) -> Result<Option<Error>> {
        let total = self.offsets[7];
        let disk_error = |e| Error::io(format_args!("{name}: temporary file"), e);
        let mut memory = Vec::new();
        let mut out =
            if total <= self.memory_limit && memory.try_reserve_exact(total as usize).is_ok() {
                StoreWriter::Memory(memory)
            } else {
                let file = tempfile::tempfile().map_err(disk_error)?;
                StoreWriter::Disk(BufWriter::with_capacity(READ_BUFFER, file))
            };
        // Pass 7 rows are full rows.
        let mut line = vec![0u8; self.widths[6] as usize * self.pixel_bytes];
        let mut error = None;
        'passes: for p in 0..7 {
            if self.widths[p] == 0 {
                continue;
            }
            let n = self.widths[p] as usize * self.pixel_bytes;
            for _ in 0..self.lines[p] {
                match reader.read_row(&mut line) {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        error = Some(Error::format(format!("{name}: the image data ends early")));
                        break 'passes;
                    }
                    Err(e) => {
                        error = Some(decode_error(name, e));
                        break 'passes;
                    }
                }
                match &mut out {
                    StoreWriter::Memory(v) => v.extend_from_slice(&line[..n]),
                    StoreWriter::Disk(f) => f.write_all(&line[..n]).map_err(disk_error)?,
                }
            }
        }
        if error.is_some() && !keep_partial {
            return Ok(error);
        }
        self.store = Some(match out {
            StoreWriter::Memory(mut v) => {
                v.resize(total as usize, 0);
                Store::Memory(v)
            }
            StoreWriter::Disk(f) => {
                let file = f.into_inner().map_err(|e| disk_error(e.into_error()))?;
                // Extends a short store with zeros.
                file.set_len(total).map_err(disk_error)?;
                Store::Disk(file)
            }
        });
        Ok(error)
    }

    /// Assembles the next row into `out` from the stored passes.
    fn next_row(&mut self, out: &mut [u8], name: &str) -> Result<()> {
        let y = self.next_y;
        if y >= self.height {
            return Err(Error::format(format!("{name}: read past the last row")));
        }
        let px = self.pixel_bytes;
        let (widths, offsets) = (self.widths, self.offsets);
        let scratch = &mut self.scratch;
        let store = self.store.as_mut().expect("decoded first");
        for (p, &(x0, y0, dx, dy)) in PASSES.iter().enumerate() {
            if y < y0 || !(y - y0).is_multiple_of(dy) || widths[p] == 0 {
                continue;
            }
            let n = widths[p] as usize * px;
            let offset = offsets[p] + u64::from((y - y0) / dy) * n as u64;
            let src: &[u8] = match store {
                Store::Memory(v) => &v[offset as usize..offset as usize + n],
                Store::Disk(f) => {
                    scratch.resize(n, 0);
                    f.seek(SeekFrom::Start(offset))
                        .and_then(|_| f.read_exact(scratch))
                        .map_err(|e| Error::io(format_args!("{name}: temporary file"), e))?;
                    scratch
                }
            };
            if dx == 1 {
                out.copy_from_slice(src);
            } else {
                let step = dx as usize * px;
                let first = x0 as usize * px;
                for (dst, pix) in out[first..].chunks_mut(step).zip(src.chunks_exact(px)) {
                    dst[..px].copy_from_slice(pix);
                }
            }
        }
        self.next_y += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The disk store assembles the same rows as the memory store.
    #[test]
    fn adam7_store_on_disk() {
        let header = Header::new(13, 11, 2, BandFormat::U8);
        let mut a = Adam7::new(&header);
        assert_eq!(a.offsets[7], 13 * 11 * 2);
        // Pass p holds pixel values (x, y) at its positions.
        let mut bytes = Vec::new();
        for (p, &(x0, y0, dx, dy)) in PASSES.iter().enumerate() {
            for l in 0..a.lines[p] {
                for k in 0..a.widths[p] {
                    bytes.push((x0 + k * dx) as u8);
                    bytes.push((y0 + l * dy) as u8);
                }
            }
        }
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        for store in [Store::Memory(bytes.clone()), Store::Disk(file)] {
            a.store = Some(store);
            a.next_y = 0;
            let mut row = vec![0u8; 26];
            for y in 0..11 {
                a.next_row(&mut row, "t").unwrap();
                let want: Vec<u8> = (0..13).flat_map(|x| [x as u8, y as u8]).collect();
                assert_eq!(row, want, "row {y}");
            }
            assert!(a.next_row(&mut row, "t").is_err());
        }
    }

    /// A PNG chunk.
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }

    /// Decoding through the disk store (forced by a zero memory limit),
    /// whole and cut short.
    #[test]
    fn adam7_decodes_through_disk() {
        let (w, h) = (11u32, 7u32);
        let grey: Vec<u8> = (0..w * h).map(|i| (i * 37 % 256) as u8).collect();
        let mut raw = Vec::new();
        for (x0, y0, dx, dy) in PASSES {
            if x0 >= w || y0 >= h {
                continue;
            }
            for y in (y0..h).step_by(dy as usize) {
                raw.push(0);
                for x in (x0..w).step_by(dx as usize) {
                    raw.push(grey[(y * w + x) as usize]);
                }
            }
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&raw).unwrap();
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let ihdr: Vec<u8> = [w.to_be_bytes(), h.to_be_bytes()]
            .concat()
            .into_iter()
            .chain([8, 0, 0, 0, 1])
            .collect();
        chunk(&mut png, b"IHDR", &ihdr);
        chunk(&mut png, b"IDAT", &z.finish().unwrap());
        chunk(&mut png, b"IEND", &[]);
        let header = Header::new(w, h, 1, BandFormat::U8);
        for cut in [png.len(), png.len() - 30] {
            let mut file = tempfile::tempfile().unwrap();
            file.write_all(&png[..cut]).unwrap();
            let file = Held::File(Arc::new(file));
            let mut reader = decoder(&file, "t").unwrap().read_info().unwrap();
            let mut a = Adam7::new(&header);
            a.memory_limit = 0;
            let error = a.decode(&mut reader, "t", true).unwrap();
            assert!(matches!(a.store, Some(Store::Disk(_))));
            assert_eq!(error.is_some(), cut < png.len());
            let mut row = vec![0u8; w as usize];
            for y in 0..h as usize {
                a.next_row(&mut row, "t").unwrap();
                if error.is_none() {
                    assert_eq!(row, grey[y * w as usize..][..w as usize], "row {y}");
                }
            }
        }
    }
}
