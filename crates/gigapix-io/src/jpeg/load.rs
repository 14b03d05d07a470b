//! Opening a JPEG (headers, checks, metadata) and decoding it top to
//! bottom: zune-jpeg's raw iMCU-row pull on a decoder thread of its own,
//! our upsampling and colour conversion on the reader's.

use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use gigapix_core::desc::Args;
use gigapix_core::sequential::{ReaderFactory, RowReader};
use gigapix_core::{
    BandFormat, DemandHint, Error, ErrorKind, Header, Image, Interpretation, Metadata, Result,
};
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::{JpegDecoder, PlaneInfo, RawImcuRowStatus};

use super::input::FileInput;
use super::markers::{Markers, scan_markers};
#[cfg(feature = "mozjpeg")]
use super::scaled;
use super::{bad, convert};
use crate::input::Input;
use crate::warn::{Lenient, WarnedSource, Warnings};
use crate::{FailOn, OpenOptions};

/// What the components hold, and how they become bands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Grey,
    YCbCr,
    Rgb,
    /// CMYK, stored inverted when `invert` (Adobe).
    Cmyk {
        invert: bool,
    },
    Ycck,
}

fn decode_error(name: &str, e: &zune_jpeg::errors::DecodeErrors) -> Error {
    if e.is_recoverable_eof() {
        bad(name, "file is truncated: it ends inside the JPEG data")
    } else {
        bad(name, format_args!("damaged JPEG: {e}"))
    }
}

/// The decoder options of every decoder of the loader.
fn decoder_options(fail_on: FailOn) -> DecoderOptions {
    DecoderOptions::default()
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX))
        .set_strict_mode(fail_on == FailOn::Error)
}

/// Opens `input` and decodes its headers.
fn new_decoder(input: &Input, name: &str, fail_on: FailOn) -> Result<JpegDecoder<FileInput>> {
    let reader = FileInput::open(input, name)?;
    let mut decoder = JpegDecoder::new_with_options(reader, decoder_options(fail_on));
    decoder
        .decode_headers()
        .map_err(|e| decode_error(name, &e))?;
    Ok(decoder)
}

impl Kind {
    /// The image's bands.
    fn bands(self) -> u32 {
        match self {
            Kind::Grey => 1,
            Kind::YCbCr | Kind::Rgb => 3,
            Kind::Cmyk { .. } | Kind::Ycck => 4,
        }
    }

    /// The name of the file's colour space (metadata `jpeg-colorspace`).
    fn name(self) -> &'static str {
        match self {
            Kind::Grey => "grey",
            Kind::YCbCr => "ycbcr",
            Kind::Rgb => "rgb",
            Kind::Cmyk { .. } => "cmyk",
            Kind::Ycck => "ycck",
        }
    }
}

/// An [`ErrorKind::Unsupported`] error: "`what` JPEG is not supported".
fn unsupported(name: &str, what: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("{name}: {what} JPEG is not supported"),
    )
}

/// The components and their sampling factors.
struct Components {
    planes: Vec<PlaneInfo>,
    /// The largest sampling factors (of the iMCU).
    h_max: usize,
    v_max: usize,
}

impl Components {
    /// The chroma subsampling of a colour image (`4:2:0`), from the second
    /// component's factors.
    fn subsampling(&self) -> Option<String> {
        let chroma = self.planes.get(1).filter(|_| self.planes.len() >= 3)?;
        Some(
            match (
                self.h_max / chroma.horizontal_sampling_factor,
                self.v_max / chroma.vertical_sampling_factor,
            ) {
                (1, 1) => "4:4:4".to_string(),
                (2, 1) => "4:2:2".to_string(),
                (2, 2) => "4:2:0".to_string(),
                (1, 2) => "4:4:0".to_string(),
                (h, v) => format!("{h}x{v}"),
            },
        )
    }
}

/// How the scans are laid out.
#[derive(Clone, Copy)]
struct Mode {
    progressive: bool,
    /// Every coefficient is needed before the first row (progressive or
    /// multi-scan).
    buffered: bool,
}

impl Mode {
    fn name(self) -> &'static str {
        if self.progressive {
            "progressive"
        } else if self.buffered {
            "multi-scan"
        } else {
            "baseline"
        }
    }
}

/// Opens a JPEG file (on disk or in memory), reading its headers only.
pub(crate) fn open(input: &Input, name: &str, options: &OpenOptions, args: &Args) -> Result<Image> {
    // 1, 2, 4 or 8: the table's descriptor checked it.
    let shrink: u32 = args
        .opt_choice("shrink")?
        .unwrap_or("1")
        .parse()
        .unwrap_or(1);
    if shrink > 1 && !cfg!(feature = "mozjpeg") {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!("{name}: jpeg load: shrink-on-load needs gigapix-io's `mozjpeg` feature"),
        ));
    }
    let markers = read_markers(input, name)?;
    let mut decoder = new_decoder(input, name, options.fail_on)?;
    let (width, height) = decoder
        .dimensions()
        .ok_or_else(|| bad(name, "damaged JPEG: no frame header"))?;
    if width == 0 || height == 0 {
        return Err(unsupported(name, "zero-height (DNL)"));
    }
    let kind = colour_kind(&decoder, &markers, name)?;
    #[cfg(feature = "mozjpeg")]
    let (width, height) = scaled::scaled_size(width, height, shrink as usize);
    let mut header = Header::new(width as u32, height as u32, kind.bands(), BandFormat::U8);
    if kind.bands() == 4 {
        header.interpretation = Interpretation::Multiband;
    }
    options
        .limits
        .check(&header)
        .map_err(|e| Error::new(e.kind(), format!("{name}: {}", e.message())))?;
    let components = components(&mut decoder, kind, name)?;
    let progressive = matches!(markers.sof, 0xC2 | 0xC6 | 0xCA | 0xCE);
    let mode = Mode {
        progressive,
        buffered: progressive || markers.scan_components != markers.frame_components,
    };
    if mode.buffered {
        check_coefficients(
            &components,
            mode,
            (width, height),
            name,
            options.limits.max_alloc,
        )?;
    }
    let metadata = metadata(&decoder, kind, &components, mode, shrink);
    let decoder_bytes = decoder_bytes(&components, mode, (width, height), shrink);
    drop(decoder);

    let name_arc: Arc<str> = Arc::from(name);
    #[cfg(feature = "mozjpeg")]
    if shrink > 1 {
        if options.fail_on == FailOn::Error {
            scaled::check_eoi(input, name)?;
        }
        // Our 1/8, 1/4 and 1/2 decoder reads a file whole (bytes in memory are the
        // caller's already).
        let len = match &input {
            Input::Path(path) => std::fs::metadata(path).map_or(0, |m| m.len()),
            Input::Bytes(_) => 0,
        };
        let (out_w, _) = scaled::scaled_size(width, height, shrink as usize);
        let decoder_bytes = decoder_bytes
            + scaled::ahead_bytes(out_w * kind.bands() as usize)
            + if len > 0 && scaled::ours_reads_whole(len, kind, shrink as usize) {
                len
            } else {
                0
            };
        let input = input.clone();
        let open = move || {
            scaled::ScaledRows::new(
                input.clone(),
                name_arc.clone(),
                kind,
                shrink as usize,
                width,
                kind.bands() as usize,
            )
        };
        return Ok(source(
            header,
            metadata,
            options.fail_on,
            decoder_bytes,
            open,
        ));
    }
    let input = input.clone();
    let fail_on = options.fail_on;
    let open = move || {
        let decoder = new_decoder(&input, &name_arc, fail_on)?;
        if decoder.dimensions() != Some((width, height)) {
            return Err(bad(&name_arc, "the file changed since it was opened"));
        }
        let check_stalls = fail_on == FailOn::Error && !mode.buffered;
        JpegRows::new(
            decoder,
            name_arc.clone(),
            kind,
            &components.planes,
            width,
            height,
            check_stalls,
        )
    };
    Ok(source(header, metadata, fail_on, decoder_bytes, open))
}

/// Memory estimate of a decoder of this image: the iMCU rows of
/// [`JpegRows`] (a ring of `RING`, `AHEAD` in flight, one being decoded,
/// one recycled) and about as much again inside zune-jpeg (its
/// coefficients and output of an MCU row); for a buffered (progressive)
/// image every DCT coefficient twice, as [`check_coefficients`] counts;
/// shrunk on load, the scaled decoder's rows, `shrink²` smaller, and one
/// full-size iMCU row of coefficients; plus the
/// decoder thread's stack and arena.
fn decoder_bytes(c: &Components, mode: Mode, (width, height): (usize, usize), shrink: u32) -> u64 {
    let (mcu_cols, mcu_rows, per_mcu) = mcu_grid(c, width, height);
    // One iMCU row of every component, one byte a sample.
    let imcu = per_mcu * mcu_cols * 64;
    let thread = 256 << 10;
    let rows = 2 * (RING + AHEAD + 2) as u64 * imcu;
    if shrink > 1 {
        // libjpeg entropy-decodes one full-size iMCU row of coefficients
        // (2 bytes a sample); ours hands batches of them from its entropy
        // thread to the pixel thread (`eighth::coefficient_bytes`), and
        // has a thread more.
        #[cfg(feature = "mozjpeg")]
        let coefficients = (2 * imcu).max(super::eighth::coefficient_bytes(2 * imcu));
        #[cfg(not(feature = "mozjpeg"))]
        let coefficients = 2 * imcu;
        return rows / u64::from(shrink * shrink) + coefficients + 2 * thread;
    }
    let coefficients = if mode.buffered {
        per_mcu * mcu_cols * mcu_rows * 64 * 2 * 2
    } else {
        0
    };
    rows + coefficients + thread
}

/// The MCU columns and rows of a `width` x `height` frame, and the 8x8
/// blocks of one MCU (all components).
fn mcu_grid(c: &Components, width: usize, height: usize) -> (u64, u64, u64) {
    let per_mcu = c
        .planes
        .iter()
        .map(|p| (p.horizontal_sampling_factor * p.vertical_sampling_factor) as u64)
        .sum();
    (
        width.div_ceil(8 * c.h_max) as u64,
        height.div_ceil(8 * c.v_max) as u64,
        per_mcu,
    )
}

/// Scans the markers of the file, and refuses the frame types and
/// precisions not decoded.
fn read_markers(input: &Input, name: &str) -> Result<Markers> {
    let markers = match input {
        Input::Path(path) => {
            let file = File::open(path).map_err(|e| Error::io(name, e))?;
            if file.metadata().map_err(|e| Error::io(name, e))?.len() == 0 {
                return Err(bad(name, "file is empty"));
            }
            scan_markers(&mut BufReader::new(file), name)?
        }
        Input::Bytes(bytes) => {
            if bytes.as_ref().is_empty() {
                return Err(bad(name, "file is empty"));
            }
            scan_markers(&mut bytes.cursor(), name)?
        }
    };
    match markers.sof {
        0xC3 | 0xC7 | 0xCB | 0xCF => return Err(unsupported(name, "lossless")),
        0xC9..=0xCF => return Err(unsupported(name, "arithmetic-coded")),
        0xC5 | 0xC6 => return Err(unsupported(name, "hierarchical")),
        _ => {}
    }
    if markers.precision != 8 {
        return Err(unsupported(name, &format!("{}-bit", markers.precision)));
    }
    Ok(markers)
}

/// What the components hold.
fn colour_kind(decoder: &JpegDecoder<FileInput>, markers: &Markers, name: &str) -> Result<Kind> {
    Ok(match decoder.input_colorspace() {
        Some(ColorSpace::Luma) => Kind::Grey,
        Some(ColorSpace::YCbCr) => Kind::YCbCr,
        Some(ColorSpace::RGB) => Kind::Rgb,
        Some(ColorSpace::CMYK) => Kind::Cmyk {
            invert: markers.adobe.is_some(),
        },
        Some(ColorSpace::YCCK) => Kind::Ycck,
        other => {
            return Err(unsupported(
                name,
                &format!("{} component ({other:?})", markers.frame_components),
            ));
        }
    })
}

/// The component layout, checked: one component per band, integer
/// sampling ratios.
fn components(decoder: &mut JpegDecoder<FileInput>, kind: Kind, name: &str) -> Result<Components> {
    let planes = {
        let raw = decoder.raw_output();
        let n = raw.num_components().unwrap_or(0);
        let layout = raw
            .layout()
            .ok_or_else(|| bad(name, "damaged JPEG: bad component layout"))?;
        layout[..n].to_vec()
    };
    if planes.len() != kind.bands() as usize {
        return Err(bad(
            name,
            format_args!(
                "damaged JPEG: {} components for a {kind:?} image",
                planes.len()
            ),
        ));
    }
    let h_max = planes.iter().map(|p| p.horizontal_sampling_factor).max();
    let v_max = planes.iter().map(|p| p.vertical_sampling_factor).max();
    let (h_max, v_max) = (h_max.unwrap_or(1), v_max.unwrap_or(1));
    for p in &planes {
        let (h, v) = (p.horizontal_sampling_factor, p.vertical_sampling_factor);
        if h == 0 || v == 0 || h_max % h != 0 || v_max % v != 0 {
            return Err(unsupported(
                name,
                &format!("fractional sampling factors ({h}x{v} of {h_max}x{v_max})"),
            ));
        }
    }
    Ok(Components {
        planes,
        h_max,
        v_max,
    })
}

/// Refuses a progressive or multi-scan image whose DCT coefficients would
/// take more than `max_alloc` bytes ([`Limits::max_alloc`]).
///
/// [`Limits::max_alloc`]: gigapix_core::Limits::max_alloc
fn check_coefficients(
    c: &Components,
    mode: Mode,
    (width, height): (usize, usize),
    name: &str,
    max_alloc: u64,
) -> Result<()> {
    // zune-jpeg keeps the coefficients (2 bytes a sample, whole MCUs) and
    // about as much again while rendering.
    let (mcu_cols, mcu_rows, per_mcu) = mcu_grid(c, width, height);
    let bytes = per_mcu * mcu_cols * mcu_rows * 64 * 2 * 2;
    if bytes > max_alloc {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "{name}: this {} JPEG ({width}x{height}) needs about {} MiB of DCT \
                 coefficients in memory, more than the limit of {} MiB",
                mode.name(),
                bytes >> 20,
                max_alloc >> 20
            ),
        ));
    }
    Ok(())
}

/// The EXIF block and its orientation, the ICC profile, and fields
/// describing how the file is coded.
fn metadata(
    decoder: &JpegDecoder<FileInput>,
    kind: Kind,
    components: &Components,
    mode: Mode,
    shrink: u32,
) -> Metadata {
    let mut metadata = Metadata::new();
    if let Some(exif) = decoder.exif() {
        metadata.orientation = crate::exif::orientation(exif);
        metadata.exif = Some(Arc::from(exif.as_slice()));
    }
    if let Some(icc) = decoder.icc_profile() {
        metadata.icc = Some(Arc::from(icc));
    }
    metadata.set_field("jpeg-mode", mode.name());
    metadata.set_field("jpeg-colorspace", kind.name());
    if let Some(sub) = components.subsampling() {
        metadata.set_field("jpeg-subsample", sub);
    }
    if shrink > 1 {
        metadata.set_field("jpeg-shrink", shrink.to_string());
    }
    metadata
}

/// The loader's node over readers made by `open`: with `fail_on=none`,
/// each wrapped so that an error becomes a warning and zero rows.
fn source<R: RowReader>(
    header: Header,
    metadata: Metadata,
    fail_on: FailOn,
    decoder_bytes: u64,
    open: impl Fn() -> Result<R> + Send + Sync + 'static,
) -> Image {
    let warnings = Warnings::default();
    let shared = warnings.clone();
    let row_bytes = header.row_bytes();
    let open: ReaderFactory<Lenient<R>> = Box::new(move || {
        Ok(Lenient::new(
            open()?,
            row_bytes,
            fail_on == FailOn::None,
            shared.clone(),
        ))
    });
    WarnedSource::image(
        "jpegload",
        header,
        metadata,
        warnings,
        DemandHint::ThinStrip,
        decoder_bytes,
        open,
    )
}

/// iMCU rows of a component kept at once: the previous, the current and
/// the next (the triangle filter reaches one row up and down).
const RING: usize = 3;

/// One component: its geometry and a ring of decoded iMCU rows.
pub(super) struct Component {
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
    /// A component whose every row is decoded: `plane` holds the
    /// component as zune-jpeg's whole-image raw output lays it out
    /// (`info.stride` bytes a row), in an image whose largest sampling
    /// factors are `h_max` by `v_max`.
    pub(super) fn whole(info: &PlaneInfo, h_max: usize, v_max: usize, plane: Vec<u8>) -> Component {
        Component {
            hs: h_max / info.horizontal_sampling_factor.max(1),
            vs: v_max / info.vertical_sampling_factor.max(1),
            width: info.width,
            height: info.height,
            stride: info.stride,
            // One slot holds every row: row `r` is in slot 0.
            rows_per_imcu: info.allocated_height.max(info.height).max(1),
            slots: vec![plane, Vec::new(), Vec::new()],
        }
    }

    /// The upsampling factors to the full image.
    pub(super) fn factors(&self) -> (usize, usize) {
        (self.hs, self.vs)
    }

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

/// Decodes a JPEG top to bottom for [`SequentialSource`](gigapix_core::sequential::SequentialSource): zune-jpeg runs
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
pub(super) struct DecoderThread(pub(super) Option<std::thread::JoinHandle<()>>);

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
        emit_row(comps, up, sums, self.kind, y, out);
    }
}

/// Computes output row `y` of components `comps` (whose rows `y` reads
/// are decoded) into `out` (`width * bands` bytes, `width` at most the
/// image's): upsampling into `up` (one row per subsampled component),
/// then colour conversion or interleaving.
pub(super) fn emit_row(
    comps: &[Component],
    up: &mut [Vec<u8>],
    sums: &mut [u16],
    kind: Kind,
    y: usize,
    out: &mut [u8],
) {
    for (c, buf) in comps.iter().zip(up.iter_mut()) {
        if c.hs == 1 && c.vs == 1 {
            continue;
        }
        let (near, far) = c.rows_for(y);
        let n = c.width;
        // libjpeg-turbo's `jinit_upsampler` filters 2x horizontally
        // only when the component is wider than 2 samples; narrower
        // ones (images up to 4 pixels wide) are replicated, both ways
        // for h2v2. (h1v2 is always filtered.)
        let fancy = c.hs != 2 || n > 2;
        match (c.hs, c.vs) {
            (2, 1) if fancy => convert::h2v1_fancy(c.row(near), buf),
            (2, 2) if fancy => {
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
    match kind {
        Kind::Grey => out.copy_from_slice(&row(0)[..out.len()]),
        Kind::YCbCr => convert::ycc_to_rgb(row(0), row(1), row(2), out),
        Kind::Rgb => convert::interleave3(row(0), row(1), row(2), out),
        Kind::Cmyk { invert } => {
            convert::interleave4([row(0), row(1), row(2), row(3)], invert, out)
        }
        Kind::Ycck => convert::ycck_to_cmyk(row(0), row(1), row(2), row(3), out),
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
