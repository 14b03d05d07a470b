//! JPEG loader and saver.
//!
//! # Loading
//!
//! [`open`] reads the headers only (zune-jpeg's `decode_headers` plus a
//! small marker scan of our own for the Adobe APP14 segment and the first
//! scan header) and returns a sequential source ([`Access::Sequential`]):
//! every run decodes the file top to bottom, one iMCU row (8 or 16 rows)
//! at a time, through zune-jpeg's raw iMCU-row API, on a decoder thread of
//! its own that runs a couple of iMCU rows ahead of the reader, so entropy
//! decoding overlaps upsampling and colour conversion. Those two are ours
//! (see `convert.rs`): libjpeg's "fancy" triangle upsampling for h2v1,
//! h1v2 and h2v2, replication for other integer factors, and libjpeg's
//! fixed-point JFIF (full-range BT.601) YCbCr→RGB, bit-exact with its
//! tables. `OpenOptions::access` makes no difference: JPEG is always
//! sequential (the planner adds a cache where a graph reads out of order).
//!
//! * Greyscale gives 1 band, YCbCr and Adobe RGB 3 bands (sRGB).
//! * CMYK and YCCK (4 components) give 4 bands of CMYK in the usual sense
//!   (0 = no ink), with interpretation `Multiband` (gigapix has no CMYK
//!   interpretation): files with an Adobe APP14 marker store CMYK inverted,
//!   and are inverted back, as libvips does.
//! * Baseline, single-scan files stream with memory bounded by the width.
//!   Progressive and multi-scan files need every DCT coefficient before the
//!   first row can be produced; they are accepted only when that buffer
//!   (estimated at twice the coefficients' 2 bytes per sample, padded to
//!   whole blocks) stays within [`MAX_COEFFICIENT_BYTES`], and rejected
//!   with an `ErrorKind::Limit` error otherwise.
//! * Not supported: arithmetic coding, lossless and 12-bit JPEG, DNL
//!   heights; they fail at open with `ErrorKind::Unsupported`.
//! * Damaged and truncated files fail with an `ErrorKind::Format` error
//!   naming the file, at open for damaged headers, else when the damage is
//!   read. With `fail_on=error` (the default) zune-jpeg runs in strict
//!   mode (corrupt entropy data is an error), and data that ends early
//!   with an EOI (which zune-jpeg would pad with flat blocks) is detected
//!   by the input standing still. With `fail_on=none` the decoder is
//!   lenient (corrupt data and an early EOI give flat blocks), and a file
//!   cut short keeps the rows decoded before the cut, the rest zeros, with
//!   a warning in the run's report.
//! * `shrink=2`, `4` or `8` (with the default `mozjpeg` feature) decodes
//!   at that fraction of the size in the DCT domain: see `scaled.rs`.
//! * Metadata: the EXIF block (APP1 `Exif`) goes to `Metadata::exif`, its
//!   orientation tag (0x0112) to `Metadata::orientation`, the ICC profile
//!   (APP2 `ICC_PROFILE`, all chunks joined) to `Metadata::icc`.
//!
//! # Saving
//!
//! See [`writer`]. Baseline JPEG through jpeg-encoder, `u8` only. By
//! default the image is cut into strips of whole iMCU rows encoded on a
//! pool of threads and joined with restart markers (`parallel.rs`); with
//! `optimize` (optimised Huffman tables, which need statistics of the whole
//! image) a single jpeg-encoder runs on a thread of its own, fed the bands
//! through a bounded channel (`save.rs`), and buffers every DCT block.
//! The ICC profile and EXIF block of the image's metadata are written as
//! APP2 and APP1 segments (see `save.rs`), unless `strip`.

mod convert;
mod parallel;
mod save;
#[cfg(feature = "mozjpeg")]
mod scaled;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use gigapix_core::sequential::{ReaderFactory, RowReader, SequentialSource};
use gigapix_core::{
    Access, BandFormat, DemandHint, Error, ErrorKind, Header, Image, Inputs, Interpretation,
    Metadata, Operation, PlanInfo, Rect, Region, Result,
};
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::{JpegDecoder, PlaneInfo, RawImcuRowStatus};

use crate::params::Params;
use crate::source::{Lenient, Warnings};
use crate::{FailOn, OpenOptions};

pub(crate) use save::{exif_for_save, writer};

/// Largest coefficient buffer a progressive or multi-scan JPEG may need
/// (4 GiB): larger ones are an `ErrorKind::Limit` error at open.
pub(crate) const MAX_COEFFICIENT_BYTES: u64 = 4 << 30;

/// Input buffer of the decoder.
const READ_BUFFER: usize = 256 << 10;

/// What the components hold, and how they become bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Grey,
    YCbCr,
    Rgb,
    /// CMYK, stored inverted when `invert` (Adobe).
    Cmyk {
        invert: bool,
    },
    Ycck,
}

/// What the headers say, beyond zune-jpeg's view.
#[derive(Debug, Default)]
struct Markers {
    /// Adobe APP14 transform, if the segment is present.
    adobe: Option<u8>,
    /// SOF marker (0xC0..=0xCF).
    sof: u8,
    /// Sample precision.
    precision: u8,
    /// Components of the frame and of the first scan.
    frame_components: u8,
    scan_components: u8,
}

fn bad(name: &str, what: impl std::fmt::Display) -> Error {
    Error::format(format!("{name}: {what}"))
}

fn decode_error(name: &str, e: &zune_jpeg::errors::DecodeErrors) -> Error {
    if e.is_recoverable_eof() {
        bad(name, "file is truncated: it ends inside the JPEG data")
    } else {
        bad(name, format_args!("damaged JPEG: {e}"))
    }
}

/// Scans the markers from SOI to the first SOS.
fn scan_markers<R: BufRead + Seek>(r: &mut R, name: &str) -> Result<Markers> {
    let truncated = || bad(name, "file is truncated: it ends inside the JPEG headers");
    let read = |r: &mut R, buf: &mut [u8]| -> Result<()> {
        r.read_exact(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                truncated()
            } else {
                Error::io(name, e)
            }
        })
    };
    let mut m = Markers::default();
    let mut two = [0u8; 2];
    read(r, &mut two)?;
    if two != [0xFF, 0xD8] {
        return Err(bad(name, "not a JPEG file (no SOI marker)"));
    }
    loop {
        // Find 0xFF, skip fill bytes.
        let mut b = [0u8; 1];
        read(r, &mut b)?;
        if b[0] != 0xFF {
            return Err(bad(
                name,
                format_args!("damaged JPEG: expected a marker, found byte {:#04x}", b[0]),
            ));
        }
        let mut marker = 0xFF;
        while marker == 0xFF {
            read(r, &mut b)?;
            marker = b[0];
        }
        match marker {
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 | 0xD9 | 0x00 => {
                return Err(bad(
                    name,
                    format_args!("damaged JPEG: unexpected marker {marker:#04x} in the headers"),
                ));
            }
            _ => {}
        }
        read(r, &mut two)?;
        let len = usize::from(u16::from_be_bytes(two));
        if len < 2 {
            return Err(bad(name, "damaged JPEG: segment length below 2"));
        }
        let body_len = len - 2;
        match marker {
            0xDA => {
                read(r, &mut b)?;
                m.scan_components = b[0];
                return Ok(m);
            }
            0xEE | 0xC0..=0xCF if marker != 0xC4 && marker != 0xC8 && marker != 0xCC => {
                let mut body = vec![0u8; body_len];
                read(r, &mut body)?;
                if marker == 0xEE {
                    if body.len() >= 12 && body.starts_with(b"Adobe") {
                        m.adobe = Some(body[11]);
                    }
                } else {
                    if body.len() < 6 {
                        return Err(bad(name, "damaged JPEG: short SOF segment"));
                    }
                    m.sof = marker;
                    m.precision = body[0];
                    m.frame_components = body[5];
                }
            }
            _ => {
                r.seek_relative(body_len as i64)
                    .map_err(|e| Error::io(name, e))?;
            }
        }
    }
}

/// A buffered file reader for zune-jpeg, which seeks back a little all the
/// time (peeking at markers, checkpoints): `BufReader` throws its buffer
/// away on every seek, this one moves within it.
struct FileInput {
    file: File,
    buf: Box<[u8]>,
    /// File offset of `buf[0]`.
    start: u64,
    /// Read position in `buf`.
    pos: usize,
    /// Valid bytes in `buf`.
    len: usize,
}

impl FileInput {
    fn new(file: File) -> FileInput {
        FileInput {
            file,
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            start: 0,
            pos: 0,
            len: 0,
        }
    }
}

impl Read for FileInput {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for FileInput {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos >= self.len {
            self.start += self.len as u64;
            self.pos = 0;
            self.len = 0;
            self.len = self.file.read(&mut self.buf)?;
        }
        Ok(&self.buf[self.pos..self.len])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.len);
    }
}

impl Seek for FileInput {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let here = self.start + self.pos as u64;
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => here.checked_add_signed(d),
            SeekFrom::End(_) => None,
        };
        match target {
            Some(t) if t >= self.start && t <= self.start + self.len as u64 => {
                self.pos = (t - self.start) as usize;
                Ok(t)
            }
            Some(t) => {
                let t = self.file.seek(SeekFrom::Start(t))?;
                (self.start, self.pos, self.len) = (t, 0, 0);
                Ok(t)
            }
            None => {
                let t = self.file.seek(to)?;
                (self.start, self.pos, self.len) = (t, 0, 0);
                Ok(t)
            }
        }
    }

    fn stream_position(&mut self) -> std::io::Result<u64> {
        Ok(self.start + self.pos as u64)
    }
}

/// The decoder options of every decoder of the loader.
fn decoder_options(fail_on: FailOn) -> DecoderOptions {
    DecoderOptions::default()
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX))
        .set_strict_mode(fail_on == FailOn::Error)
}

/// Opens `path` and decodes its headers.
fn new_decoder(path: &Path, name: &str, fail_on: FailOn) -> Result<JpegDecoder<FileInput>> {
    let file = File::open(path).map_err(|e| Error::io(name, e))?;
    let mut decoder = JpegDecoder::new_with_options(FileInput::new(file), decoder_options(fail_on));
    decoder
        .decode_headers()
        .map_err(|e| decode_error(name, &e))?;
    Ok(decoder)
}

/// The orientation tag (0x0112) of IFD0 of a TIFF-structured EXIF block;
/// 0 when absent or invalid.
pub(crate) fn exif_orientation(exif: &[u8]) -> u16 {
    let be = match exif.get(0..2) {
        Some(b"MM") => true,
        Some(b"II") => false,
        _ => return 0,
    };
    let u16_at = |o: usize| {
        exif.get(o..o.checked_add(2)?).map(|b| {
            if be {
                u16::from_be_bytes([b[0], b[1]])
            } else {
                u16::from_le_bytes([b[0], b[1]])
            }
        })
    };
    let u32_at = |o: usize| {
        exif.get(o..o.checked_add(4)?).map(|b| {
            let b = [b[0], b[1], b[2], b[3]];
            if be {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        })
    };
    if u16_at(2) != Some(42) {
        return 0;
    }
    let Some(ifd) = u32_at(4) else { return 0 };
    let ifd = ifd as usize;
    let Some(count) = u16_at(ifd) else { return 0 };
    for i in 0..usize::from(count) {
        let entry = ifd + 2 + 12 * i;
        if u16_at(entry) == Some(0x0112) {
            return match (u16_at(entry + 2), u16_at(entry + 8)) {
                (Some(3), Some(v @ 1..=8)) => v,
                _ => 0,
            };
        }
    }
    0
}

/// Opens a JPEG file, reading its headers only.
pub(crate) fn open(
    path: &Path,
    name: &str,
    options: &OpenOptions,
    params: &mut Params,
) -> Result<Image> {
    let shrink = params.take::<u32>("shrink")?.unwrap_or(1);
    params.finish(&format!("{name}: jpeg load"), &["shrink"])?;
    if !matches!(shrink, 1 | 2 | 4 | 8) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: jpeg load: shrink must be 1, 2, 4 or 8, not {shrink}"),
        ));
    }
    if shrink > 1 && !cfg!(feature = "mozjpeg") {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!("{name}: jpeg load: shrink-on-load needs gigapix-io's `mozjpeg` feature"),
        ));
    }
    let file = File::open(path).map_err(|e| Error::io(name, e))?;
    if file.metadata().map_err(|e| Error::io(name, e))?.len() == 0 {
        return Err(bad(name, "file is empty"));
    }
    let markers = scan_markers(&mut BufReader::new(file), name)?;
    let unsupported = |what: &str| {
        Error::new(
            ErrorKind::Unsupported,
            format!("{name}: {what} JPEG is not supported"),
        )
    };
    match markers.sof {
        0xC3 | 0xC7 | 0xCB | 0xCF => return Err(unsupported("lossless")),
        0xC9..=0xCF => return Err(unsupported("arithmetic-coded")),
        0xC5 | 0xC6 => return Err(unsupported("hierarchical")),
        _ => {}
    }
    if markers.precision != 8 {
        return Err(unsupported(&format!("{}-bit", markers.precision)));
    }
    let mut decoder = new_decoder(path, name, options.fail_on)?;
    let (width, height) = decoder
        .dimensions()
        .ok_or_else(|| bad(name, "damaged JPEG: no frame header"))?;
    if width == 0 || height == 0 {
        return Err(unsupported("zero-height (DNL)"));
    }
    let kind = match decoder.input_colorspace() {
        Some(ColorSpace::Luma) => Kind::Grey,
        Some(ColorSpace::YCbCr) => Kind::YCbCr,
        Some(ColorSpace::RGB) => Kind::Rgb,
        Some(ColorSpace::CMYK) => Kind::Cmyk {
            invert: markers.adobe.is_some(),
        },
        Some(ColorSpace::YCCK) => Kind::Ycck,
        other => {
            return Err(unsupported(&format!(
                "{} component ({other:?})",
                markers.frame_components
            )));
        }
    };
    let bands: u32 = match kind {
        Kind::Grey => 1,
        Kind::YCbCr | Kind::Rgb => 3,
        Kind::Cmyk { .. } | Kind::Ycck => 4,
    };
    #[cfg(feature = "mozjpeg")]
    let (width, height) = scaled::scaled_size(width, height, shrink as usize);
    let mut header = Header::new(width as u32, height as u32, bands, BandFormat::U8);
    if bands == 4 {
        header.interpretation = Interpretation::Multiband;
    }
    options
        .limits
        .check(&header)
        .map_err(|e| Error::new(e.kind(), format!("{name}: {}", e.message())))?;
    let layout = {
        let raw = decoder.raw_output();
        let n = raw.num_components().unwrap_or(0);
        let layout = raw
            .layout()
            .ok_or_else(|| bad(name, "damaged JPEG: bad component layout"))?;
        layout[..n].to_vec()
    };
    if layout.len() != bands as usize {
        return Err(bad(
            name,
            format_args!(
                "damaged JPEG: {} components for a {kind:?} image",
                layout.len()
            ),
        ));
    }
    let h_max = layout.iter().map(|p| p.horizontal_sampling_factor).max();
    let v_max = layout.iter().map(|p| p.vertical_sampling_factor).max();
    let (h_max, v_max) = (h_max.unwrap_or(1), v_max.unwrap_or(1));
    for p in &layout {
        let (h, v) = (p.horizontal_sampling_factor, p.vertical_sampling_factor);
        if h == 0 || v == 0 || h_max % h != 0 || v_max % v != 0 {
            return Err(unsupported(&format!(
                "fractional sampling factors ({h}x{v} of {h_max}x{v_max})"
            )));
        }
    }
    let progressive = matches!(markers.sof, 0xC2 | 0xC6 | 0xCA | 0xCE);
    let buffered = progressive || markers.scan_components != markers.frame_components;
    if buffered {
        // zune-jpeg keeps the coefficients (2 bytes a sample, whole MCUs)
        // and about as much again while rendering.
        let mcu_cols = width.div_ceil(8 * h_max) as u64;
        let mcu_rows = height.div_ceil(8 * v_max) as u64;
        let blocks: u64 = layout
            .iter()
            .map(|p| (p.horizontal_sampling_factor * p.vertical_sampling_factor) as u64)
            .sum::<u64>()
            * mcu_cols
            * mcu_rows;
        let bytes = blocks * 64 * 2 * 2;
        if bytes > MAX_COEFFICIENT_BYTES {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "{name}: this {} JPEG ({width}x{height}) needs about {} MiB of DCT \
                     coefficients in memory, more than the limit of {} MiB",
                    if progressive {
                        "progressive"
                    } else {
                        "multi-scan"
                    },
                    bytes >> 20,
                    MAX_COEFFICIENT_BYTES >> 20
                ),
            ));
        }
    }

    let mut metadata = Metadata::new();
    if let Some(exif) = decoder.exif() {
        metadata.orientation = exif_orientation(exif);
        metadata.exif = Some(Arc::from(exif.as_slice()));
    }
    if let Some(icc) = decoder.icc_profile() {
        metadata.icc = Some(Arc::from(icc));
    }
    metadata.set_field(
        "jpeg-mode",
        if progressive {
            "progressive"
        } else if buffered {
            "multi-scan"
        } else {
            "baseline"
        },
    );
    metadata.set_field(
        "jpeg-colorspace",
        match kind {
            Kind::Grey => "grey",
            Kind::YCbCr => "ycbcr",
            Kind::Rgb => "rgb",
            Kind::Cmyk { .. } => "cmyk",
            Kind::Ycck => "ycck",
        },
    );
    if layout.len() >= 3 {
        let chroma = &layout[1];
        let sub = match (
            h_max / chroma.horizontal_sampling_factor,
            v_max / chroma.vertical_sampling_factor,
        ) {
            (1, 1) => "4:4:4".to_string(),
            (2, 1) => "4:2:2".to_string(),
            (2, 2) => "4:2:0".to_string(),
            (1, 2) => "4:4:0".to_string(),
            (h, v) => format!("{h}x{v}"),
        };
        metadata.set_field("jpeg-subsample", sub);
    }
    if shrink > 1 {
        metadata.set_field("jpeg-shrink", shrink.to_string());
    }
    drop(decoder);

    let name_arc: Arc<str> = Arc::from(name);
    #[cfg(feature = "mozjpeg")]
    if shrink > 1 {
        if options.fail_on == FailOn::Error {
            scaled::check_eoi(path, name)?;
        }
        let path_buf = path.to_path_buf();
        let open = move || {
            scaled::ScaledRows::new(
                path_buf.clone(),
                name_arc.clone(),
                kind,
                shrink as usize,
                width,
                bands as usize,
            )
        };
        return Ok(source(header, metadata, options.fail_on, open));
    }
    let path_buf = path.to_path_buf();
    let fail_on = options.fail_on;
    let open = move || {
        let decoder = new_decoder(&path_buf, &name_arc, fail_on)?;
        if decoder.dimensions() != Some((width, height)) {
            return Err(bad(&name_arc, "the file changed since it was opened"));
        }
        let check_stalls = fail_on == FailOn::Error && !buffered;
        JpegRows::new(
            decoder,
            name_arc.clone(),
            kind,
            &layout,
            width,
            height,
            check_stalls,
        )
    };
    Ok(source(header, metadata, fail_on, open))
}

/// The loader's node over readers made by `open`: with `fail_on=none`,
/// each wrapped so that an error becomes a warning and zero rows.
fn source<R: RowReader>(
    header: Header,
    metadata: Metadata,
    fail_on: FailOn,
    open: impl Fn() -> Result<R> + Send + Sync + 'static,
) -> Image {
    let warnings = Warnings::default();
    let shared = warnings.clone();
    let row_bytes = header.row_bytes();
    let open: ReaderFactory<Lenient<R>> = Box::new(move || {
        Ok(Lenient {
            inner: open()?,
            row_bytes,
            lenient: fail_on == FailOn::None,
            warnings: shared.clone(),
            failed: false,
        })
    });
    Image::new(
        JpegSource {
            inner: SequentialSource::new("jpegload", header, open),
            metadata: Arc::new(metadata),
            warnings,
        },
        vec![],
    )
}

/// The loader's node: a [`SequentialSource`] over [`JpegRows`] that also
/// carries the file's metadata.
struct JpegSource<R: RowReader> {
    inner: SequentialSource<R>,
    metadata: Arc<Metadata>,
    /// Raised by the reader with `fail_on=none`.
    warnings: Warnings,
}

impl<R: RowReader> Operation for JpegSource<R> {
    type State = ();

    fn name(&self) -> &'static str {
        "jpegload"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        self.inner.header(inputs)
    }

    fn metadata(&self, _: &[Arc<Metadata>]) -> Arc<Metadata> {
        self.metadata.clone()
    }

    fn demand(&self) -> DemandHint {
        DemandHint::ThinStrip
    }

    fn access(&self) -> Access {
        Access::Sequential
    }

    fn configure(&self, plan: &PlanInfo) {
        self.inner.configure(plan);
    }

    fn start(&self) -> Result<()> {
        self.inner.start()
    }

    fn generate(&self, state: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let region = self.inner.generate(state, out, inputs);
        crate::source::report(&self.warnings, inputs);
        region
    }
}

/// iMCU rows of a component kept at once: the previous, the current and
/// the next (the triangle filter reaches one row up and down).
const RING: usize = 3;

/// One component: its geometry and a ring of decoded iMCU rows.
struct Component {
    /// Upsampling factors to the full image.
    hs: usize,
    vs: usize,
    /// Logical size of the component.
    width: usize,
    height: usize,
    /// Bytes per row in the ring.
    stride: usize,
    /// Component rows per iMCU row.
    rows_per_imcu: usize,
    /// `RING` iMCU rows: component row `r` is in slot
    /// `(r / rows_per_imcu) % RING`.
    slots: Vec<Vec<u8>>,
}

impl Component {
    fn row(&self, r: usize) -> &[u8] {
        let slot = &self.slots[(r / self.rows_per_imcu) % RING];
        let start = (r % self.rows_per_imcu) * self.stride;
        &slot[start..start + self.width]
    }

    /// The component rows output row `y` reads: `(near, far)`, equal
    /// when there is no vertical filter.
    fn rows_for(&self, y: usize) -> (usize, usize) {
        let near = (y / self.vs).min(self.height - 1);
        if self.vs != 2 {
            return (near, near);
        }
        let far = if y.is_multiple_of(2) {
            near.saturating_sub(1)
        } else {
            (near + 1).min(self.height - 1)
        };
        (near, far)
    }
}

/// What the decoder thread sends: an iMCU row (one buffer per component),
/// `None` at the end of the image, or why decoding failed.
type Decoded = Result<Option<Vec<Vec<u8>>>>;

/// iMCU rows the decoder thread may run ahead.
const AHEAD: usize = 2;

/// Decodes a JPEG top to bottom for [`SequentialSource`]: zune-jpeg runs
/// on a thread of its own, a few iMCU rows ahead, while the reader
/// upsamples and converts colours, so entropy decoding and conversion
/// overlap.
struct JpegRows {
    /// Decoded iMCU rows, and the buffers going back for reuse.
    rows: Receiver<Decoded>,
    free: Sender<Vec<Vec<u8>>>,
    name: Arc<str>,
    kind: Kind,
    width: usize,
    height: usize,
    comps: Vec<Component>,
    /// iMCU rows received so far.
    decoded: usize,
    /// The decoder reported the end of the image.
    complete: bool,
    /// Next output row.
    next: usize,
    /// Upsampled rows, one per component (unused for full-size ones).
    up: Vec<Vec<u8>>,
    /// Column sums of the h2v2 filter.
    sums: Vec<u16>,
    /// Declared last, so dropped after `rows` and `free`: by then the
    /// decoder thread's channels are closed, it stops at its next row, and
    /// dropping this joins it (no thread outlives its reader).
    _decoder: DecoderThread,
}

/// Joins the decoder thread when dropped.
struct DecoderThread(Option<std::thread::JoinHandle<()>>);

impl Drop for DecoderThread {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            let _ = handle.join();
        }
    }
}

/// The decoder thread's side: zune-jpeg's raw iMCU-row pull.
struct RawRows {
    decoder: JpegDecoder<FileInput>,
    name: Arc<str>,
    strides: Vec<usize>,
    /// Bytes of one iMCU row per component.
    sizes: Vec<usize>,
    /// Output rows per iMCU row.
    imcu_height: usize,
    decoded: usize,
    /// iMCU rows the input may stand still for before the data is taken
    /// to have ended early; 0 to never check (buffered files, where all
    /// input is read before the first row, and `fail_on=none`).
    stall_limit: usize,
    /// Input position after the last iMCU row, and how many rows since
    /// it last moved.
    last_pos: u64,
    stalled: usize,
}

impl RawRows {
    /// Decodes the next iMCU row into `bufs`: `false` at the end.
    fn next(&mut self, bufs: &mut [Vec<u8>]) -> Result<bool> {
        let mut planes: Vec<&mut [u8]> = bufs.iter_mut().map(Vec::as_mut_slice).collect();
        let status = self
            .decoder
            .raw_output()
            .decode_next_imcu_row(&mut planes, &self.strides)
            .map_err(|e| decode_error(&self.name, &e))?;
        match status {
            RawImcuRowStatus::RowReady { .. } => {
                self.decoded += 1;
                if self.stall_limit > 0 {
                    let pos = self.decoder.inner_reader().position().unwrap_or(0);
                    if pos == self.last_pos {
                        self.stalled += 1;
                        if self.stalled >= self.stall_limit {
                            return Err(bad(
                                &self.name,
                                format_args!(
                                    "damaged JPEG: the image data ends early, near row {}",
                                    (self.decoded - self.stalled) * self.imcu_height
                                ),
                            ));
                        }
                    } else {
                        self.last_pos = pos;
                        self.stalled = 0;
                    }
                }
                Ok(true)
            }
            RawImcuRowStatus::NeedMoreInput => Err(bad(
                &self.name,
                "file is truncated: it ends inside the JPEG data",
            )),
            _ => Ok(false),
        }
    }

    /// The thread: decodes until the end, an error, or the reader is gone.
    fn run(mut self, tx: SyncSender<Decoded>, free: Receiver<Vec<Vec<u8>>>) {
        loop {
            let mut bufs = free
                .try_recv()
                .unwrap_or_else(|_| self.sizes.iter().map(|&n| vec![0; n]).collect());
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.next(&mut bufs)))
                    .unwrap_or_else(|_| {
                        Err(Error::new(
                            ErrorKind::Panic,
                            format!("{}: the JPEG decoder panicked", self.name),
                        ))
                    });
            let (msg, last) = match result {
                Ok(true) => (Ok(Some(bufs)), false),
                Ok(false) => (Ok(None), true),
                Err(e) => (Err(e), true),
            };
            if tx.send(msg).is_err() || last {
                return;
            }
        }
    }
}

impl JpegRows {
    fn new(
        decoder: JpegDecoder<FileInput>,
        name: Arc<str>,
        kind: Kind,
        layout: &[PlaneInfo],
        width: usize,
        height: usize,
        check_stalls: bool,
    ) -> Result<JpegRows> {
        let h_max = layout.iter().map(|p| p.horizontal_sampling_factor).max();
        let v_max = layout.iter().map(|p| p.vertical_sampling_factor).max();
        let (h_max, v_max) = (h_max.unwrap_or(1), v_max.unwrap_or(1));
        let mut comps = Vec::with_capacity(layout.len());
        let mut up = Vec::with_capacity(layout.len());
        let mut widest = 0;
        for p in layout {
            let hs = h_max / p.horizontal_sampling_factor;
            let vs = v_max / p.vertical_sampling_factor;
            let rows_per_imcu = p.vertical_sampling_factor * 8;
            let stride = p.stride;
            comps.push(Component {
                hs,
                vs,
                width: p.width,
                height: p.height,
                stride,
                rows_per_imcu,
                slots: vec![vec![0; rows_per_imcu * stride]; RING],
            });
            up.push(if hs == 1 && vs == 1 {
                Vec::new()
            } else {
                vec![0; p.width * hs]
            });
            widest = widest.max(p.width);
        }
        let strides = comps.iter().map(|c| c.stride).collect();
        // zune-jpeg pads an image whose data ends early (an EOI inside the
        // scan) with flat blocks instead of failing. Every block takes at
        // least 2 bits, and the decoder reads ahead a few bytes: an input
        // position that stands still for enough rows to need 512 bytes
        // means the data ended.
        let blocks: usize = comps
            .iter()
            .map(|c| c.width.div_ceil(8) * (c.rows_per_imcu / 8))
            .sum();
        let stall_limit = if check_stalls {
            (4096 / (2 * blocks.max(1))).max(16)
        } else {
            0
        };
        let raw = RawRows {
            decoder,
            name: name.clone(),
            strides,
            sizes: comps.iter().map(|c| c.rows_per_imcu * c.stride).collect(),
            imcu_height: v_max * 8,
            decoded: 0,
            stall_limit,
            last_pos: 0,
            stalled: 0,
        };
        let (tx, rows) = mpsc::sync_channel(AHEAD);
        let (free, free_rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("jpeg-decoder".to_string())
            .spawn(move || raw.run(tx, free_rx))
            .map_err(|e| Error::io(format_args!("{name}: cannot start the decoder thread"), e))?;
        Ok(JpegRows {
            rows,
            free,
            name,
            kind,
            width,
            height,
            comps,
            decoded: 0,
            complete: false,
            next: 0,
            up,
            sums: vec![0; widest],
            _decoder: DecoderThread(Some(handle)),
        })
    }

    /// Takes the next iMCU row from the decoder thread into the ring.
    fn decode_imcu(&mut self) -> Result<()> {
        match self.rows.recv() {
            Ok(Ok(Some(mut bufs))) => {
                let slot = self.decoded % RING;
                for (c, b) in self.comps.iter_mut().zip(bufs.iter_mut()) {
                    std::mem::swap(&mut c.slots[slot], b);
                }
                let _ = self.free.send(bufs);
                self.decoded += 1;
                Ok(())
            }
            Ok(Ok(None)) => {
                self.complete = true;
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(bad(&self.name, "the JPEG decoder stopped")),
        }
    }

    /// Makes sure every component row output row `y` reads is decoded.
    fn ensure(&mut self, y: usize) -> Result<()> {
        loop {
            let missing = self.comps.iter().any(|c| {
                let (a, b) = c.rows_for(y);
                a.max(b) >= self.decoded * c.rows_per_imcu
            });
            if !missing {
                return Ok(());
            }
            if self.complete {
                return Err(bad(
                    &self.name,
                    format_args!("damaged JPEG: the image data ends at row {y}"),
                ));
            }
            self.decode_imcu()?;
        }
    }

    /// Computes output row `y` into `out` (`width * bands` bytes).
    fn emit(&mut self, y: usize, out: &mut [u8]) {
        let JpegRows {
            comps, up, sums, ..
        } = self;
        for (c, buf) in comps.iter().zip(up.iter_mut()) {
            if c.hs == 1 && c.vs == 1 {
                continue;
            }
            let (near, far) = c.rows_for(y);
            let n = c.width;
            match (c.hs, c.vs) {
                (2, 1) => convert::h2v1_fancy(c.row(near), buf),
                (2, 2) => {
                    convert::column_sums(c.row(near), c.row(far), &mut sums[..n]);
                    convert::h2v2_fancy(&sums[..n], buf);
                }
                (1, 2) => {
                    let bias = if y.is_multiple_of(2) { 1 } else { 2 };
                    convert::h1v2_fancy(c.row(near), c.row(far), bias, buf);
                }
                (hs, _) => convert::replicate(c.row(near), hs, buf),
            }
        }
        let row = |i: usize| -> &[u8] {
            let c = &comps[i];
            if c.hs == 1 && c.vs == 1 {
                c.row(y.min(c.height - 1))
            } else {
                &up[i]
            }
        };
        match self.kind {
            Kind::Grey => out.copy_from_slice(&row(0)[..out.len()]),
            Kind::YCbCr => convert::ycc_to_rgb(row(0), row(1), row(2), out),
            Kind::Rgb => convert::interleave3(row(0), row(1), row(2), out),
            Kind::Cmyk { invert } => {
                convert::interleave4([row(0), row(1), row(2), row(3)], invert, out)
            }
            Kind::Ycck => convert::ycck_to_cmyk(row(0), row(1), row(2), row(3), out),
        }
    }
}

impl RowReader for JpegRows {
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
        let row_bytes = self.width * self.comps.len();
        for out in buf.chunks_exact_mut(row_bytes) {
            let y = self.next;
            if y >= self.height {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("{}: read past the last row", self.name),
                ));
            }
            self.ensure(y)?;
            self.emit(y, out);
            self.next += 1;
        }
        Ok(())
    }
}
