//! The JPEG writer's options and checks, and its single-stream form:
//! jpeg-encoder on a thread of its own, fed by the sink's bands through a
//! bounded channel. That form serves `optimize` (optimised Huffman tables
//! need the whole image's statistics, so jpeg-encoder buffers every block
//! anyway); everything else goes to the parallel writer of `parallel.rs`.
//!
//! jpeg-encoder pulls rows (`ImageBuffer::fill_buffers`) while the sink
//! pushes bands, so the encoder runs on a dedicated thread and pulls the
//! bands [`JpegWriter::write_band`] sends over a `sync_channel` of
//! [`QUEUE`] bands: memory stays bounded by a few bands plus the
//! encoder's own iMCU row. The sink's thread converts each band to planar
//! YCbCr (or inverted CMYK) before sending it, so colour conversion and
//! DCT/entropy coding run in parallel; spent buffers come back on a
//! second channel to be reused.
//!
//! Dropping the writer unfinished closes the channel: the encoder's next
//! write fails, its thread ends, and the temporary file is removed.
//!
//! Metadata goes in APPn segments after jpeg-encoder's own (JFIF APP0,
//! Adobe APP14): the EXIF block as APP1 `Exif\0\0`, its orientation tag
//! made to agree with the image's (`crate::exif::for_save`), then the ICC
//! profile as APP2 `ICC_PROFILE` chunks ([`app_segments`]).

use std::cell::{Cell, RefCell};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use gigapix_core::{BandWriter, Error, ErrorKind, Header, Interpretation, Metadata, Result};
use jpeg_encoder::{ChromaSubsamplingMethod, Encoder, ImageBuffer, JpegColorType, SamplingFactor};

use super::convert;
use crate::formats::opt_bool;
use crate::save::{Dest, OutFile, RowCheck, Temp, create_out, persist};
use gigapix_core::desc::Args;

/// Bands queued between the sink and the encoder.
const QUEUE: usize = 2;

/// Buffer of the output file.
const OUT_BUFFER: usize = 256 << 10;

/// Largest payload of an APPn segment (its length field counts itself).
const MAX_APP_PAYLOAD: usize = 65533;

/// The signature of an APP2 ICC profile chunk (followed by the chunk's
/// sequence number and the chunk count).
const ICC_SIGNATURE: &[u8] = b"ICC_PROFILE\0";

/// Largest piece of an ICC profile in one APP2 segment: 65519 bytes.
const ICC_CHUNK: usize = MAX_APP_PAYLOAD - ICC_SIGNATURE.len() - 2;

/// The APPn segments carrying `metadata`, as (n, payload): the EXIF block
/// as APP1 (left out if it does not fit one segment), then the ICC profile
/// as APP2 chunks of at most [`ICC_CHUNK`] bytes numbered from 1 (left
/// out if it needs more than 255).
pub(super) fn app_segments(metadata: &Metadata) -> Vec<(u8, Vec<u8>)> {
    let mut segments = Vec::new();
    if let Some(exif) = crate::exif::for_save(metadata)
        && crate::exif::SIGNATURE.len() + exif.len() <= MAX_APP_PAYLOAD
    {
        let mut payload = Vec::with_capacity(crate::exif::SIGNATURE.len() + exif.len());
        payload.extend_from_slice(crate::exif::SIGNATURE);
        payload.extend_from_slice(&exif);
        segments.push((1, payload));
    }
    if let Some(icc) = metadata.icc.as_deref().filter(|i| !i.is_empty())
        && let Ok(count) = u8::try_from(icc.len().div_ceil(ICC_CHUNK))
    {
        for (i, chunk) in icc.chunks(ICC_CHUNK).enumerate() {
            let mut payload = Vec::with_capacity(ICC_SIGNATURE.len() + 2 + chunk.len());
            payload.extend_from_slice(ICC_SIGNATURE);
            payload.push(i as u8 + 1);
            payload.push(count);
            payload.extend_from_slice(chunk);
            segments.push((2, payload));
        }
    }
    segments
}

/// Inserts `segments` (as from [`app_segments`]) into `head`, the headers
/// of a JPEG from its SOI on, after the APPn segments that follow the SOI:
/// where jpeg-encoder puts the segments it is given.
pub(super) fn insert_app_segments(head: &mut Vec<u8>, segments: &[(u8, Vec<u8>)]) {
    if segments.is_empty() {
        return;
    }
    let mut at = 2;
    while let (Some(0xFF), Some(0xE0..=0xEF)) = (head.get(at), head.get(at + 1)) {
        let Some(len) = head.get(at + 2..at + 4) else {
            break;
        };
        at += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
    }
    let at = at.min(head.len());
    let mut bytes = Vec::new();
    for (n, payload) in segments {
        bytes.extend_from_slice(&[0xFF, 0xE0 + n]);
        bytes.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        bytes.extend_from_slice(payload);
    }
    head.splice(at..at, bytes);
}

/// Chroma subsampling of a colour JPEG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subsample {
    Auto,
    S444,
    S422,
    S420,
}

impl Subsample {
    /// The setting of `subsample` (`auto`, `444`, `422`, `420`) or
    /// libvips' `subsample_mode` (`auto`, `on`, `off`), as the format
    /// table spells them.
    fn from_name(s: &str) -> Subsample {
        match s {
            "444" | "off" => Subsample::S444,
            "422" => Subsample::S422,
            "420" | "on" => Subsample::S420,
            _ => Subsample::Auto,
        }
    }
}

/// A band on its way to the encoder: `rows` rows, planar (all rows of
/// component 0, then component 1, ...).
struct Band {
    rows: u32,
    data: Vec<u8>,
}

/// The encoder settings of a JPEG of `header` saved with `args` (see
/// [`writer`]), or why it cannot be saved.
pub(super) fn config(name: &str, header: &Header, args: &Args) -> Result<Config> {
    // The table's descriptors checked the values; `crate::writer` checked
    // the band format (u8).
    let quality = args.opt_int("Q")?.map_or(75, |q| q.clamp(1, 100) as u8);
    let subsample = args
        .opt_choice("subsample")?
        .or(args.opt_choice("subsample_mode")?)
        .map_or(Subsample::Auto, Subsample::from_name);
    let optimize = opt_bool(args, "optimize")?.or(opt_bool(args, "optimize_coding")?);
    let optimize = optimize.unwrap_or(false);
    let invalid = |msg: String| Error::new(ErrorKind::InvalidArgument, format!("{name}: {msg}"));
    let color = match (header.bands, header.interpretation) {
        (1, _) => JpegColorType::Luma,
        (3, _) => JpegColorType::Ycbcr,
        (4, Interpretation::Srgb) => {
            return Err(invalid(
                "4 sRGB bands are RGBA, and JPEG has no alpha: drop the alpha band first \
                 (4 bands of another interpretation are saved as CMYK)"
                    .to_string(),
            ));
        }
        (4, _) => JpegColorType::Cmyk,
        (b, _) => {
            return Err(invalid(format!(
                "JPEG holds 1 (grey), 3 (RGB) or 4 (CMYK) bands, not {b}"
            )));
        }
    };
    if header.width == 0
        || header.height == 0
        || header.width > u32::from(u16::MAX)
        || header.height > u32::from(u16::MAX)
    {
        return Err(invalid(format!(
            "JPEG sides are 1 to 65535 pixels, this image is {}x{}",
            header.width, header.height
        )));
    }
    let sampling = match (color, subsample) {
        (JpegColorType::Ycbcr, Subsample::Auto) if quality < 90 => SamplingFactor::F_2_2,
        (JpegColorType::Ycbcr, Subsample::S420) => SamplingFactor::F_2_2,
        (JpegColorType::Ycbcr, Subsample::S422) => SamplingFactor::F_2_1,
        _ => SamplingFactor::F_1_1,
    };
    let config = Config {
        width: header.width as u16,
        height: header.height as u16,
        color,
        quality,
        sampling,
        optimize,
    };
    Ok(config)
}

/// The chroma subsampling (horizontal, vertical) a JPEG of `header` saved
/// with `args` has: (1, 1) for grey and 4:4:4.
pub(crate) fn sampling(name: &str, header: &Header, args: &Args) -> Result<(u16, u16)> {
    let config = config(name, header, args)?;
    Ok(match (config.color, config.sampling) {
        (JpegColorType::Ycbcr, SamplingFactor::F_2_2) => (2, 2),
        (JpegColorType::Ycbcr, SamplingFactor::F_2_1) => (2, 1),
        _ => (1, 1),
    })
}

/// Encodes a whole image of `header` (packed rows) on this thread into a
/// new `Vec`, with the same bytes [`writer`] would save to a file with the
/// same `metadata` and `args`.
pub(crate) fn encode_to_vec(
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
    data: &[u8],
) -> Result<Vec<u8>> {
    let config = config(name, header, args)?;
    let segments = app_segments(metadata);
    if !config.optimize {
        return super::parallel::encode_serial(name, config, segments, data);
    }
    let row_bytes = header.row_bytes();
    if data.len() != row_bytes * header.height as usize {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: {} bytes for an image of {header}", data.len()),
        ));
    }
    let mut planar = Vec::new();
    to_planar(
        data,
        header.width as usize,
        header.bands as usize,
        &mut planar,
    );
    let mut out = Vec::with_capacity(data.len() / 6 + 1024);
    let mut encoder = config.encoder(&mut out);
    for (n, payload) in segments {
        encoder
            .add_app_segment(n, payload)
            .map_err(|e| Error::new(ErrorKind::Io, format!("{name}: {e}")))?;
    }
    encoder
        .encode_image(Whole {
            config: &config,
            planar: &planar,
        })
        .map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("{name}: cannot encode the JPEG: {e}"),
            )
        })?;
    Ok(out)
}

/// A whole image in planar form, as jpeg-encoder pulls it.
struct Whole<'a> {
    config: &'a Config,
    planar: &'a [u8],
}

impl ImageBuffer for Whole<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        self.config.color
    }

    fn width(&self) -> u16 {
        self.config.width
    }

    fn height(&self) -> u16 {
        self.config.height
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let w = usize::from(self.config.width);
        let rows = usize::from(self.config.height);
        let y = usize::from(y);
        for (c, b) in buffers
            .iter_mut()
            .take(self.config.components())
            .enumerate()
        {
            let start = (c * rows + y) * w;
            b.extend_from_slice(&self.planar[start..start + w]);
        }
    }
}

/// A [`BandWriter`] saving JPEG.
///
/// Options: `Q` (1 to 100, default 75), `subsample` (`auto`, `444`, `422`,
/// `420`; `auto`, the default, is 4:2:0 below Q 90 and 4:4:4 from Q 90, as
/// libvips does; colour images only), `optimize` (optimised Huffman
/// tables: smaller files, but jpeg-encoder then keeps every DCT block of
/// the image in memory, about 2 bytes a sample; `optimize_coding` is the
/// same).
///
/// `u8` images only: 1 band gives a greyscale JPEG, 3 bands YCbCr (from
/// RGB), 4 bands CMYK (written inverted with an Adobe marker, as Photoshop
/// and libvips do), unless the 4 bands are sRGB, taken as RGBA: drop the
/// alpha first. Sides up to 65535. The EXIF block and ICC profile of
/// `metadata` are written as described by [`app_segments`].
pub(crate) fn writer(
    path: &Dest,
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
) -> Result<Box<dyn BandWriter>> {
    let config = config(name, header, args)?;
    let optimize = config.optimize;
    let segments = app_segments(metadata);
    if !optimize {
        return super::parallel::writer(path, name, config, segments);
    }
    let (file, temp) = create_out(path, name)?;
    let (tx, rx) = mpsc::sync_channel::<Band>(QUEUE);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    let handle = std::thread::Builder::new()
        .name("jpeg-encoder".to_string())
        .spawn(move || encode(file, config, segments, rx, free_tx))
        .map_err(|e| Error::io(format_args!("{name}: cannot start the encoder thread"), e))?;
    Ok(Box::new(JpegWriter {
        tx: Some(tx),
        free: free_rx,
        handle: Some(handle),
        temp: Some(temp),
        target: path.to_path_buf(),
        name: name.to_string(),
        width: header.width as usize,
        bands: header.bands as usize,
        rows: RowCheck::new(header.height, header.row_bytes()),
    }))
}

/// Converts `data`, packed rows of `width` pixels of `bands` bands, to
/// what jpeg-encoder's components take, planar in `buf` (all rows of
/// component 0, then component 1, ...): grey as is, RGB to YCbCr, CMYK
/// inverted (the Adobe convention).
pub(super) fn to_planar(data: &[u8], width: usize, bands: usize, buf: &mut Vec<u8>) {
    buf.clear();
    buf.resize(data.len(), 0);
    let row_bytes = width * bands;
    let plane = data.len() / bands;
    match bands {
        1 => buf.copy_from_slice(data),
        3 => {
            let (y_plane, rest) = buf.split_at_mut(plane);
            let (cb_plane, cr_plane) = rest.split_at_mut(plane);
            for (i, src) in data.chunks_exact(row_bytes).enumerate() {
                let r = i * width..(i + 1) * width;
                convert::rgb_to_ycc(
                    src,
                    &mut y_plane[r.clone()],
                    &mut cb_plane[r.clone()],
                    &mut cr_plane[r],
                );
            }
        }
        _ => {
            for (i, px) in data.chunks_exact(4).enumerate() {
                for (c, &v) in px.iter().enumerate() {
                    buf[c * plane + i] = 255 - v;
                }
            }
        }
    }
}

/// Encoder settings.
#[derive(Clone, Copy)]
pub(super) struct Config {
    pub(super) width: u16,
    pub(super) height: u16,
    pub(super) color: JpegColorType,
    pub(super) quality: u8,
    pub(super) sampling: SamplingFactor,
    pub(super) optimize: bool,
}

impl Config {
    /// Components per pixel.
    pub(super) fn components(&self) -> usize {
        match self.color {
            JpegColorType::Luma => 1,
            JpegColorType::Ycbcr => 3,
            _ => 4,
        }
    }

    /// An encoder with these settings.
    pub(super) fn encoder<W: jpeg_encoder::JfifWrite>(&self, out: W) -> Encoder<W> {
        let mut encoder = Encoder::new(out, self.quality);
        encoder.set_sampling_factor(self.sampling);
        encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
        encoder.set_optimized_huffman_tables(self.optimize);
        encoder
    }
}

/// The writer half: converts bands and sends them to the encoder thread.
struct JpegWriter {
    /// `None` once closed.
    tx: Option<SyncSender<Band>>,
    /// Buffers the encoder is done with.
    free: Receiver<Vec<u8>>,
    handle: Option<JoinHandle<std::result::Result<(), String>>>,
    temp: Option<Temp>,
    target: PathBuf,
    name: String,
    width: usize,
    bands: usize,
    rows: RowCheck,
}

impl JpegWriter {
    /// Closes the channel and waits for the encoder: its result.
    fn join(&mut self) -> Result<()> {
        self.tx = None;
        let Some(handle) = self.handle.take() else {
            return Ok(());
        };
        match handle.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(msg)) => Err(Error::new(
                ErrorKind::Io,
                format!("{}: cannot write the JPEG: {msg}", self.name),
            )),
            Err(_) => Err(Error::new(
                ErrorKind::Panic,
                format!("{}: the JPEG encoder panicked", self.name),
            )),
        }
    }
}

impl BandWriter for JpegWriter {
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        self.rows.accept(&self.name, y, rows, data)?;
        if rows == 0 {
            return Ok(());
        }
        let mut buf = self.free.try_recv().unwrap_or_default();
        to_planar(data, self.width, self.bands, &mut buf);
        let sent = self
            .tx
            .as_ref()
            .map(|tx| tx.send(Band { rows, data: buf }).is_ok());
        if sent != Some(true) {
            // The encoder stopped: report why.
            self.join()?;
            return Err(Error::new(
                ErrorKind::Io,
                format!("{}: the JPEG encoder stopped early", self.name),
            ));
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.rows.complete(&self.name)?;
        self.join()?;
        let temp = self.temp.take().expect("finished once");
        persist(temp, &self.target, &self.name)
    }
}

impl Drop for JpegWriter {
    fn drop(&mut self) {
        // Unfinished: closing the channel makes the encoder fail at its
        // next write; wait for it so the file is closed before `temp`
        // removes it.
        let _ = self.join();
    }
}

/// The output file: fails every write once the bands stopped coming, so
/// that jpeg-encoder gives up at once.
struct Output {
    out: BufWriter<OutFile>,
    aborted: Rc<Cell<bool>>,
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.aborted.get() {
            return Err(std::io::Error::other("save cancelled"));
        }
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.aborted.get() {
            return Err(std::io::Error::other("save cancelled"));
        }
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The pull side: serves jpeg-encoder's row requests from the bands.
struct Feed {
    rx: Receiver<Band>,
    free: Sender<Vec<u8>>,
    width: u16,
    height: u16,
    color: JpegColorType,
    components: usize,
    state: RefCell<FeedState>,
    aborted: Rc<Cell<bool>>,
}

struct FeedState {
    band: Band,
    /// First row of `band`.
    y0: u32,
}

impl ImageBuffer for Feed {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        self.color
    }

    fn width(&self) -> u16 {
        self.width
    }

    fn height(&self) -> u16 {
        self.height
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let w = usize::from(self.width);
        let y = u32::from(y);
        let mut state = self.state.borrow_mut();
        while !self.aborted.get() && y >= state.y0 + state.band.rows {
            match self.rx.recv() {
                Ok(band) => {
                    let y0 = state.y0 + state.band.rows;
                    let old = std::mem::replace(&mut state.band, band);
                    state.y0 = y0;
                    let _ = self.free.send(old.data);
                }
                Err(_) => self.aborted.set(true),
            }
        }
        if self.aborted.get() || y < state.y0 {
            // No more data: feed zeros; the next write fails.
            self.aborted.set(true);
            for b in buffers.iter_mut().take(self.components) {
                b.resize(b.len() + w, 0);
            }
            return;
        }
        let rows = state.band.rows as usize;
        let r = (y - state.y0) as usize;
        for (c, b) in buffers.iter_mut().take(self.components).enumerate() {
            let start = (c * rows + r) * w;
            b.extend_from_slice(&state.band.data[start..start + w]);
        }
    }
}

/// The encoder thread.
fn encode(
    file: OutFile,
    config: Config,
    segments: Vec<(u8, Vec<u8>)>,
    rx: Receiver<Band>,
    free: Sender<Vec<u8>>,
) -> std::result::Result<(), String> {
    let aborted = Rc::new(Cell::new(false));
    let mut output = Output {
        out: BufWriter::with_capacity(OUT_BUFFER, file),
        aborted: aborted.clone(),
    };
    let mut encoder = config.encoder(&mut output);
    for (n, payload) in segments {
        encoder
            .add_app_segment(n, payload)
            .map_err(|e| e.to_string())?;
    }
    let components = config.components();
    let feed = Feed {
        rx,
        free,
        width: config.width,
        height: config.height,
        color: config.color,
        components,
        state: RefCell::new(FeedState {
            band: Band {
                rows: 0,
                data: Vec::new(),
            },
            y0: 0,
        }),
        aborted: aborted.clone(),
    };
    let result = encoder.encode_image(feed);
    if aborted.get() {
        return Err("save cancelled".to_string());
    }
    result.map_err(|e| e.to_string())?;
    output.flush().map_err(|e| e.to_string())
}
