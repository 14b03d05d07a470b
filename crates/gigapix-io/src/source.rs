//! The loaders' operations: a memory-mapped random-access source and a
//! streaming reader for [`SequentialSource`].

use std::fs::File;
use std::io::{BufReader, ErrorKind as IoKind, Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

use gigapix_core::mapped::MappedFile;
use gigapix_core::sequential::{ReaderFactory, RowReader, SequentialSource};
use gigapix_core::{
    Error, ErrorKind, Header, Image, Inputs, Limits, Metadata, Operation, PlanInfo, Rect, Region,
    Result, SharedPixels,
};

use crate::FileFormat;
use crate::input::Shared;

/// How the file's samples map to the engine's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Byte for byte (u8 anywhere; any format in native little-endian).
    Native,
    /// 16-bit samples stored big-endian.
    U16Be,
}

/// What a header parser found: where the pixels are and how they are laid
/// out. Not yet validated.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub(crate) format: FileFormat,
    /// Short name of the exact variant: `pgm`, `ppm` or `gpx`.
    pub(crate) variant: &'static str,
    pub(crate) header: Header,
    pub(crate) data_offset: u64,
    pub(crate) encoding: Encoding,
    pub(crate) maxval: Option<u32>,
}

/// Fewest rows the read-ahead ring of a sequential source holds: a stream
/// is refused at open when that many rows exceed `Limits::max_alloc` (the
/// ring is allocated before any pixel is read, so a pipe must not be able
/// to claim gigantic rows in its header).
const MIN_RING_ROWS: u64 = 16;

impl Layout {
    /// The header in words, as in error messages: `640x480 RGB u8`.
    pub(crate) fn shape(&self) -> String {
        let h = &self.header;
        match (self.format, h.bands) {
            (FileFormat::Pnm, 1) => format!("{}x{} grey {}", h.width, h.height, h.format),
            (FileFormat::Pnm, _) => format!("{}x{} RGB {}", h.width, h.height, h.format),
            (_, b) => {
                format!(
                    "{}x{} {b} band{} {}",
                    h.width,
                    h.height,
                    if b == 1 { "" } else { "s" },
                    h.format
                )
            }
        }
    }

    /// Validates the layout: non-zero size, `limits`, sizes that fit this
    /// host, and, when the file's length is known, that it holds every
    /// pixel. Returns the offset just past the last pixel.
    pub(crate) fn validate(
        &self,
        name: &str,
        limits: &Limits,
        file_len: Option<u64>,
    ) -> Result<u64> {
        let h = &self.header;
        if h.width == 0 || h.height == 0 || h.bands == 0 {
            return Err(Error::format(format!(
                "{name}: image has zero size ({}x{}, {} bands)",
                h.width, h.height, h.bands
            )));
        }
        limits
            .check(h)
            .map_err(|e| Error::new(e.kind(), format!("{name}: {}", e.message())))?;
        // Computed wide: a header can claim sizes that overflow 64 bits.
        let row = u128::from(h.width) * u128::from(h.bands) * h.format.size() as u128;
        let bytes = row * u128::from(h.height);
        let end = u128::from(self.data_offset) + bytes;
        if let Some(len) = file_len
            && u128::from(len) < end
        {
            return Err(Error::format(format!(
                "{name}: file is truncated: {} bytes of pixel data, the header ({}) needs {bytes}",
                len.saturating_sub(self.data_offset),
                self.shape()
            )));
        }
        if end > isize::MAX as u128 {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "{name}: image of {bytes} bytes ({}) is too large for this host",
                    self.shape()
                ),
            ));
        }
        Ok(end as u64)
    }
}

/// Converts 16-bit samples between big-endian and native order (the same
/// permutation both ways). `src` and `dst` have the same length.
pub(crate) fn swap_be16(src: &[u8], dst: &mut [u8]) {
    if cfg!(target_endian = "big") {
        dst.copy_from_slice(src);
        return;
    }
    for (d, s) in dst.chunks_exact_mut(2).zip(src.chunks_exact(2)) {
        d[0] = s[1];
        d[1] = s[0];
    }
}

/// In-place form of [`swap_be16`].
pub(crate) fn swap_be16_in_place(buf: &mut [u8]) {
    if cfg!(target_endian = "big") {
        return;
    }
    for p in buf.chunks_exact_mut(2) {
        p.swap(0, 1);
    }
}

/// A random-access source over a memory-mapped file: zero-copy views when
/// the file's bytes are the engine's, a byte swap otherwise.
///
/// The same source serves images in memory ([`memory`]): `pixels` is then
/// the caller's buffer and `map` is `None` (nothing to release).
struct MappedSource {
    name: &'static str,
    header: Header,
    /// The bytes every region views.
    pixels: Arc<dyn SharedPixels>,
    /// The memory map behind `pixels`, for its residency window.
    map: Option<Arc<MappedFile>>,
    data_offset: usize,
    row_bytes: usize,
    encoding: Encoding,
    metadata: Arc<Metadata>,
}

impl Operation for MappedSource {
    type State = ();

    fn name(&self) -> &'static str {
        self.name
    }

    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.header)
    }

    fn metadata(&self, _: &[Arc<Metadata>]) -> Arc<Metadata> {
        self.metadata.clone()
    }

    fn start(&self) -> Result<()> {
        Ok(())
    }

    fn region_bytes(&self, out: Rect, _: &[Header], output: &Header) -> u64 {
        match self.encoding {
            // A view of the map.
            Encoding::Native => 0,
            Encoding::U16Be => out.area() * output.pixel_bytes() as u64,
        }
    }

    fn shared_bytes(&self, info: &PlanInfo, _: &Header) -> u64 {
        match &self.map {
            // The map's resident window (its most recently used chunks).
            Some(map) => {
                let r = info.request;
                let request = r.height.max(1) as u64 * self.row_bytes as u64;
                let window = gigapix_core::mapped::resident_bytes(request, info.threads);
                (map.len() as u64).min(window)
            }
            // The caller's buffer is held already, whatever the run does.
            None => 0,
        }
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = &self.header;
        if out.is_empty() {
            return Ok(inputs.alloc(out));
        }
        let px = h.pixel_bytes();
        let first = self.data_offset + out.y as usize * self.row_bytes + out.x as usize * px;
        let len = out.width as usize * px;
        let end = first + (out.height as usize - 1) * self.row_bytes + len;
        if let Some(map) = &self.map {
            map.touch(first, end);
        }
        match self.encoding {
            Encoding::Native => Region::view(
                self.pixels.clone(),
                first,
                self.row_bytes,
                out,
                h.bands,
                h.format,
            ),
            Encoding::U16Be => {
                let mut region = inputs.alloc(out);
                let bytes = self.pixels.bytes();
                for (i, y) in (out.y..out.bottom()).enumerate() {
                    let s = first + i * self.row_bytes;
                    swap_be16(&bytes[s..s + len], region.row_bytes_mut(y));
                }
                Ok(region)
            }
        }
    }
}

/// Builds the memory-mapped source of a validated layout.
/// (`metadata` is what the loader read of the file's other fields.)
pub(crate) fn mapped(
    layout: &Layout,
    file: &File,
    end: u64,
    name: &str,
    metadata: Arc<Metadata>,
) -> Result<Image> {
    let map = MappedFile::open(file, end, name)?;
    let header = layout.header;
    let source = MappedSource {
        name: layout.format.loader_name(),
        header,
        pixels: map.clone(),
        map: Some(map),
        // Both fit: `validate` bounded `end` by `isize::MAX`.
        data_offset: layout.data_offset as usize,
        row_bytes: header.row_bytes(),
        encoding: layout.encoding,
        metadata,
    };
    Ok(Image::new(source, vec![]))
}

/// Builds the source of a validated layout over bytes in memory (a
/// decoded buffer or the caller's pixels): zero-copy views of `pixels`,
/// as for a memory map. `end` is where the layout's last pixel ends; the
/// buffer must reach it. (`metadata` as for [`mapped`].)
pub(crate) fn memory(
    layout: &Layout,
    pixels: Arc<dyn SharedPixels>,
    end: u64,
    loader: &'static str,
    name: &str,
    metadata: Arc<Metadata>,
) -> Result<Image> {
    let header = layout.header;
    let len = pixels.bytes().len() as u64;
    if len < end {
        return Err(Error::format(format!(
            "{name}: buffer is truncated: {len} bytes, the header ({}) needs {end}",
            layout.shape()
        )));
    }
    let size = header.format.size();
    let start = pixels.bytes().as_ptr() as usize + layout.data_offset as usize;
    if layout.encoding == Encoding::Native && !start.is_multiple_of(size) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: the pixels start at an address not aligned to {size} bytes, as {} samples must be for a zero-copy view",
                header.format
            ),
        ));
    }
    let source = MappedSource {
        name: loader,
        header,
        pixels,
        map: None,
        data_offset: layout.data_offset as usize,
        row_bytes: header.row_bytes(),
        encoding: layout.encoding,
        metadata,
    };
    Ok(Image::new(source, vec![]))
}

/// Reads rows from a buffered file or pipe, converting 16-bit samples.
pub(crate) struct StreamRows {
    reader: BufReader<File>,
    encoding: Encoding,
    name: Arc<str>,
}

impl RowReader for StreamRows {
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
        match self.reader.read_exact(buf) {
            Ok(()) => {}
            Err(e) if e.kind() == IoKind::UnexpectedEof => {
                return Err(Error::format(format!(
                    "{}: file is truncated: it ends before the last row",
                    self.name
                )));
            }
            Err(e) => return Err(Error::io(&self.name, e)),
        }
        if self.encoding == Encoding::U16Be {
            swap_be16_in_place(buf);
        }
        Ok(())
    }
}

/// Buffer of a streaming reader; requests larger than this bypass it.
const STREAM_BUFFER: usize = 256 << 10;

/// Builds the sequential source of a validated layout.
///
/// For a regular file (`seekable`), every run reads from a fresh handle to
/// the same open file, from the data offset. For a pipe, `reader` is
/// positioned at the first pixel and serves a single run.
pub(crate) fn streaming(
    layout: &Layout,
    reader: BufReader<File>,
    seekable: bool,
    name: &str,
    limits: &Limits,
) -> Result<Image> {
    let header = layout.header;
    let max_alloc = limits.max_alloc;
    if header.row_bytes() as u64 * MIN_RING_ROWS > max_alloc {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "{name}: rows of {} bytes ({}) are too long to stream ({MIN_RING_ROWS} of them exceed max_alloc, {max_alloc}); \
                 open the file with random access instead",
                header.row_bytes(),
                layout.shape()
            ),
        ));
    }
    let encoding = layout.encoding;
    let name: Arc<str> = Arc::from(name);
    let open: ReaderFactory<StreamRows> = if seekable {
        let file = reader.into_inner();
        let offset = layout.data_offset;
        Box::new(move || {
            let mut f = file.try_clone().map_err(|e| Error::io(&name, e))?;
            f.seek(SeekFrom::Start(offset))
                .map_err(|e| Error::io(&name, e))?;
            Ok(StreamRows {
                reader: BufReader::with_capacity(STREAM_BUFFER, f),
                encoding,
                name: name.clone(),
            })
        })
    } else {
        let once = Mutex::new(Some(reader));
        Box::new(move || {
            let reader = once
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Unsupported,
                        format!("{name}: a pipe can be read only once"),
                    )
                })?;
            Ok(StreamRows {
                reader,
                encoding,
                name: name.clone(),
            })
        })
    };
    Ok(Image::new(
        SequentialSource::new(layout.format.loader_name(), header, open),
        vec![],
    ))
}

/// The whole of `reader` in memory, for decoders that need the complete
/// file (GIF, WebP), shared: at most `limits.max_alloc` bytes, a
/// [`ErrorKind::Limit`] error naming `what` (`a GIF`) beyond that, or when
/// the memory cannot be reserved.
pub(crate) fn read_whole<R: Read + Seek>(
    mut reader: R,
    name: &str,
    what: &str,
    limits: &Limits,
) -> Result<Shared> {
    let len = reader
        .seek(SeekFrom::End(0))
        .and_then(|len| reader.seek(SeekFrom::Start(0)).map(|_| len))
        .map_err(|e| Error::io(name, e))?;
    let max_alloc = limits.max_alloc;
    if len > max_alloc {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "{name}: {what} of {len} bytes is over the loader's limit (max_alloc {max_alloc})"
            ),
        ));
    }
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(len as usize)
        .map_err(|_| Error::new(ErrorKind::Limit, format!("{name}: cannot hold {len} bytes")))?;
    reader
        .take(len)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(name, e))?;
    Ok(Shared(Arc::new(bytes)))
}
