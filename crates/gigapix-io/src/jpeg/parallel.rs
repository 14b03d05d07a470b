//! Parallel baseline JPEG encoding with restart markers.
//!
//! The image is cut into strips of whole iMCU rows. Each strip is encoded
//! on a pool of threads: grey and RGB by our own encoder (`encode.rs`,
//! libjpeg-turbo's bitstream: standard tables, the same for every strip)
//! into a bare entropy-coded segment, CMYK by jpeg-encoder as a JPEG of its
//! own (standard Huffman tables, the same quantisation tables for every
//! strip) whose entropy-coded data is cut out. The segments are joined in
//! order with `RSTn` markers between them, under headers with the full
//! height and a DRI segment of one strip's MCU count (ours, or the first
//! jpeg-encoder strip's patched). A decoder restarts its DC prediction and
//! bit reader at each marker, exactly where each strip's own encoder
//! started from zero and padded its last byte, so the result is one valid
//! baseline JPEG.
//!
//! Memory stays bounded: at most two strips per thread are in flight, and
//! finished strips are written out in order as soon as they are complete.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use gigapix_core::{BandEncoder, BandWriter, Error, ErrorKind, Result};
use jpeg_encoder::{ImageBuffer, JpegColorType, SamplingFactor};

use super::encode::{Sampling, StripEncoder};
use super::save::{Config, insert_app_segments, to_planar};
use crate::save::{Dest, OutFile, RowCheck, Temp, create_out, persist};

/// Output buffer.
const OUT_BUFFER: usize = 256 << 10;

/// Rough size of a strip's pixels: strips are as many iMCU rows as fit.
const STRIP_BYTES: usize = 2 << 20;

/// A strip to encode: its index and packed rows.
struct Job {
    index: usize,
    rows: u32,
    data: Vec<u8>,
}

/// An encoded strip: the index, and the strip or why encoding failed.
type Done = (usize, std::result::Result<Encoded, String>);

/// A strip in planar form, as jpeg-encoder pulls it.
struct Strip<'a> {
    config: &'a Config,
    rows: u16,
    planar: &'a [u8],
}

impl ImageBuffer for Strip<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        self.config.color
    }

    fn width(&self) -> u16 {
        self.config.width
    }

    fn height(&self) -> u16 {
        self.rows
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let w = usize::from(self.config.width);
        let rows = usize::from(self.rows);
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

/// An encoded strip: a complete JPEG (jpeg-encoder), or only
/// its entropy-coded data (ours, whose headers [`StripEncoder::headers`]
/// writes).
enum Encoded {
    Whole(Vec<u8>),
    Scan(Vec<u8>),
}

/// The encoder of a worker: ours for grey and RGB, else jpeg-encoder.
enum WorkerEncoder {
    Ours(Box<StripEncoder>),
    Other { planar: Vec<u8> },
}

/// Our strip encoder's sampling for `config`, `None` for CMYK.
fn our_sampling(config: &Config) -> Option<Sampling> {
    match config.color {
        JpegColorType::Luma => Some(Sampling::Grey),
        JpegColorType::Ycbcr => Some(match config.sampling {
            SamplingFactor::F_2_2 => Sampling::Ycc { h: 2, v: 2 },
            SamplingFactor::F_2_1 => Sampling::Ycc { h: 2, v: 1 },
            _ => Sampling::Ycc { h: 1, v: 1 },
        }),
        _ => None,
    }
}

/// Our strip encoder for `config`, if it takes its colour type.
fn our_encoder(config: &Config) -> Option<StripEncoder> {
    our_sampling(config).map(|s| {
        StripEncoder::new(
            gigapix_simd::level(),
            usize::from(config.width),
            s,
            config.quality,
        )
    })
}

/// Encodes one strip: grey and RGB by our encoder (libjpeg-turbo's
/// bitstream, see `encode.rs`), CMYK by jpeg-encoder.
fn encode_strip(
    config: &Config,
    rows: u32,
    data: &[u8],
    encoder: &mut WorkerEncoder,
) -> std::result::Result<Encoded, String> {
    let planar = match encoder {
        WorkerEncoder::Ours(enc) => {
            let mut out = Vec::with_capacity(data.len() / 8);
            enc.encode(rows as usize, data, &mut out);
            return Ok(Encoded::Scan(out));
        }
        WorkerEncoder::Other { planar } => planar,
    };
    to_planar(data, usize::from(config.width), config.components(), planar);
    let mut out = Vec::with_capacity(data.len() / 8);
    let encoder = config.encoder(&mut out);
    encoder
        .encode_image(Strip {
            config,
            rows: rows as u16,
            planar,
        })
        .map_err(|e| e.to_string())?;
    Ok(Encoded::Whole(out))
}

/// Where the entropy-coded data of a one-scan JPEG starts (just past
/// the SOS segment), and where its SOS marker is.
fn split_scan(jpeg: &[u8]) -> Option<(usize, usize)> {
    let mut i = 2;
    loop {
        if *jpeg.get(i)? != 0xFF {
            return None;
        }
        let marker = *jpeg.get(i + 1)?;
        let len = usize::from(u16::from_be_bytes([*jpeg.get(i + 2)?, *jpeg.get(i + 3)?]));
        if marker == 0xDA {
            return Some((i, i + 2 + len));
        }
        i += 2 + len;
    }
}

/// The headers of the whole image from the first strip's JPEG: the SOF
/// height patched, a DRI segment before the SOS.
fn whole_headers(first: &[u8], height: u16, interval: u16) -> Option<Vec<u8>> {
    let (sos, data) = split_scan(first)?;
    let mut head = first[..sos].to_vec();
    // Find SOF0 and patch its height (precision, then height).
    let mut i = 2;
    while i + 4 <= head.len() {
        let marker = head[i + 1];
        let len = usize::from(u16::from_be_bytes([head[i + 2], head[i + 3]]));
        if marker == 0xC0 || marker == 0xC1 {
            head.get_mut(i + 5..i + 7)?
                .copy_from_slice(&height.to_be_bytes());
            break;
        }
        i += 2 + len;
    }
    head.extend([0xFF, 0xDD, 0, 4]);
    head.extend(interval.to_be_bytes());
    head.extend_from_slice(&first[sos..data]);
    Some(head)
}

/// The entropy-coded data of a strip's JPEG (without the EOI).
fn scan_data(jpeg: &[u8]) -> Option<&[u8]> {
    let (_, data) = split_scan(jpeg)?;
    let end = jpeg.len().checked_sub(2)?;
    (jpeg.get(end..)? == [0xFF, 0xD9]).then(|| &jpeg[data..end])
}

/// Rows per strip and the restart interval (MCUs per strip) for
/// `config`: strips of whole iMCU rows, about [`STRIP_BYTES`] each, with
/// at most 65535 MCUs between restart markers.
fn geometry(config: &Config) -> (usize, u16) {
    let v = config.sampling as u8;
    let (h_max, v_max) = (usize::from((v >> 4) & 7), usize::from(v & 0xF));
    let (h_max, v_max) = if config.color == JpegColorType::Luma {
        (1, 1)
    } else {
        (h_max.max(1), v_max.max(1))
    };
    let width = usize::from(config.width);
    let bands = config.components();
    let imcu_rows = 8 * v_max;
    let mcus_per_row = width.div_ceil(8 * h_max);
    let by_size = (STRIP_BYTES / (width * bands * imcu_rows)).max(1);
    let by_interval = (usize::from(u16::MAX) / mcus_per_row).max(1);
    let imcus = by_size.min(by_interval);
    (imcus * imcu_rows, (imcus * mcus_per_row) as u16)
}

/// Why [`append_strip`] failed.
enum Appended {
    Io(std::io::Error),
    /// The encoder's stream was not as expected.
    Bad,
}

/// Writes strip number `index` of the image to `out`: the headers (with
/// `segments`, taken) before the first, an `RSTn` marker before the
/// others, then its entropy-coded data.
fn append_strip(
    out: &mut impl Write,
    config: &Config,
    interval: u16,
    index: usize,
    strip: &Encoded,
    segments: &mut Vec<(u8, Vec<u8>)>,
) -> std::result::Result<(), Appended> {
    let headers = match (index, strip) {
        (0, Encoded::Whole(jpeg)) => {
            Some(whole_headers(jpeg, config.height, interval).ok_or(Appended::Bad)?)
        }
        (0, Encoded::Scan(_)) => Some(
            our_encoder(config)
                .ok_or(Appended::Bad)?
                .headers(config.height, interval),
        ),
        _ => None,
    };
    let data = match strip {
        Encoded::Whole(jpeg) => scan_data(jpeg).ok_or(Appended::Bad)?,
        Encoded::Scan(data) => data,
    };
    if let Some(mut h) = headers {
        insert_app_segments(&mut h, &std::mem::take(segments));
        out.write_all(&h).map_err(Appended::Io)?;
    } else {
        out.write_all(&[0xFF, 0xD0 + ((index - 1) % 8) as u8])
            .map_err(Appended::Io)?;
    }
    out.write_all(data).map_err(Appended::Io)
}

/// Encodes a whole image (packed rows) on this thread into a new `Vec`:
/// the same strips, encoders and assembly as the parallel writer, so the
/// same bytes as a file saved with the same settings.
pub(super) fn encode_serial(
    name: &str,
    config: Config,
    mut segments: Vec<(u8, Vec<u8>)>,
    data: &[u8],
) -> Result<Vec<u8>> {
    let (strip_rows, interval) = geometry(&config);
    let row_bytes = usize::from(config.width) * config.components();
    let height = usize::from(config.height);
    if data.len() != row_bytes * height {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: {} bytes for a {}x{} image of {} bands",
                data.len(),
                config.width,
                config.height,
                config.components()
            ),
        ));
    }
    let mut encoder = match our_encoder(&config) {
        Some(e) => WorkerEncoder::Ours(Box::new(e)),
        None => WorkerEncoder::Other { planar: Vec::new() },
    };
    let mut out = Vec::with_capacity(data.len() / 6 + 1024);
    for (index, rows) in data.chunks(strip_rows * row_bytes).enumerate() {
        let n = (rows.len() / row_bytes) as u32;
        let strip = encode_strip(&config, n, rows, &mut encoder).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("{name}: cannot encode the JPEG: {e}"),
            )
        })?;
        append_strip(&mut out, &config, interval, index, &strip, &mut segments).map_err(|_| {
            Error::new(
                ErrorKind::Io,
                format!("{name}: the JPEG encoder wrote an unexpected stream"),
            )
        })?;
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

/// Makes the parallel writer; `segments` (APPn number, payload) go into
/// the headers.
pub(super) fn writer(
    path: &Dest,
    name: &str,
    config: Config,
    segments: Vec<(u8, Vec<u8>)>,
) -> Result<Box<dyn BandWriter>> {
    let (strip_rows, interval) = geometry(&config);

    // No more encoder threads than strips (a thumbnail has one).
    let strips = usize::from(config.height).div_ceil(strip_rows.max(1));
    let threads = gigapix_core::default_threads().min(strips.max(1));
    let (file, temp) = create_out(path, name)?;
    let (job_tx, job_rx) = mpsc::channel::<Job>();
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let mut workers = Vec::with_capacity(threads);
    for _ in 0..threads {
        let rx = job_rx.clone();
        let tx = done_tx.clone();
        let spawned = std::thread::Builder::new()
            .name("jpeg-encoder".to_string())
            .spawn(move || worker(config, &rx, &tx));
        match spawned {
            Ok(h) => workers.push(h),
            Err(e) => {
                if workers.is_empty() {
                    return Err(Error::io(
                        format_args!("{name}: cannot start an encoder thread"),
                        e,
                    ));
                }
                break;
            }
        }
    }
    let max_in_flight = 2 * workers.len();
    Ok(Box::new(ParallelWriter {
        config,
        segments,
        jobs: Some(job_tx),
        done: done_rx,
        workers,
        out: Some(BufWriter::with_capacity(OUT_BUFFER, file)),
        temp: Some(temp),
        target: path.to_path_buf(),
        name: name.to_string(),
        strip_rows: strip_rows as u32,
        interval,
        strip: Vec::new(),
        strip_fill: 0,
        sent: 0,
        written: 0,
        pending: BTreeMap::new(),
        max_in_flight,
        rows: RowCheck::new(
            u32::from(config.height),
            usize::from(config.width) * config.components(),
        ),
    }))
}

fn worker(config: Config, jobs: &Mutex<Receiver<Job>>, done: &Sender<Done>) {
    let mut encoder = match our_encoder(&config) {
        Some(e) => WorkerEncoder::Ours(Box::new(e)),
        None => WorkerEncoder::Other { planar: Vec::new() },
    };
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // A panic must still answer, or `finish` would wait forever.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            encode_strip(&config, job.rows, &job.data, &mut encoder)
        }))
        .unwrap_or_else(|_| Err("the encoder panicked".to_string()));
        if done.send((job.index, result)).is_err() {
            return;
        }
    }
}

/// Our encoder run by the pass's workers on bands of whole strips: each
/// strip is encoded on its own and followed by the `RSTn` marker of the
/// next, so the bands joined in order are the bytes the strip threads make.
struct StripBands {
    config: Config,
    strip_rows: usize,
}

impl BandEncoder for StripBands {
    fn encode(&self, y: u32, rows: u32, data: &[u8]) -> Result<Vec<u8>> {
        let row_bytes = usize::from(self.config.width) * self.config.components();
        let strip_bytes = self.strip_rows * row_bytes;
        if data.len() != rows as usize * row_bytes || !(y as usize).is_multiple_of(self.strip_rows)
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("JPEG band of {rows} rows at row {y}: not whole strips of packed rows"),
            ));
        }
        let first = y as usize / self.strip_rows;
        let last = usize::from(self.config.height).div_ceil(self.strip_rows);
        Ok(with_encoder(&self.config, |enc| {
            let mut out = Vec::with_capacity(data.len() / 8 + 64);
            for (k, strip) in data.chunks(strip_bytes).enumerate() {
                enc.encode(strip.len() / row_bytes, strip, &mut out);
                let index = first + k + 1;
                if index < last {
                    out.extend_from_slice(&[0xFF, 0xD0 + ((index - 1) % 8) as u8]);
                }
            }
            out
        }))
    }
}

/// A [`BandWriter`] encoding strips in parallel.
struct ParallelWriter {
    config: Config,
    /// APPn segments (number, payload) for the headers.
    segments: Vec<(u8, Vec<u8>)>,
    /// `None` once closed.
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
    /// `None` once finished.
    out: Option<BufWriter<OutFile>>,
    temp: Option<Temp>,
    target: PathBuf,
    name: String,
    strip_rows: u32,
    interval: u16,
    /// The strip being filled, packed rows.
    strip: Vec<u8>,
    strip_fill: u32,
    /// Strips sent to the workers, and written out.
    sent: usize,
    written: usize,
    /// Encoded strips waiting for the ones before them.
    pending: BTreeMap<usize, Encoded>,
    max_in_flight: usize,
    rows: RowCheck,
}

impl ParallelWriter {
    fn row_bytes(&self) -> usize {
        usize::from(self.config.width) * self.config.components()
    }

    fn fail(&self, what: impl std::fmt::Display) -> Error {
        Error::new(
            ErrorKind::Io,
            format!("{}: cannot write the JPEG: {what}", self.name),
        )
    }

    /// Sends the current strip to the workers.
    fn send_strip(&mut self) -> Result<()> {
        while self.sent - self.written >= self.max_in_flight {
            self.receive_one()?;
        }
        let data = std::mem::take(&mut self.strip);
        let job = Job {
            index: self.sent,
            rows: self.strip_fill,
            data,
        };
        self.strip_fill = 0;
        let ok = self.jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok());
        if !ok {
            return Err(self.fail("the encoder threads stopped"));
        }
        self.sent += 1;
        Ok(())
    }

    /// Waits for one encoded strip, and writes out what is in order.
    fn receive_one(&mut self) -> Result<()> {
        let (index, result) = self
            .done
            .recv()
            .map_err(|_| self.fail("the encoder threads stopped"))?;
        let strip = result.map_err(|e| self.fail(e))?;
        self.pending.insert(index, strip);
        while let Some(strip) = self.pending.remove(&self.written) {
            self.write_strip(&strip)?;
            self.written += 1;
        }
        Ok(())
    }

    fn write_strip(&mut self, strip: &Encoded) -> Result<()> {
        let out = self.out.as_mut().expect("not finished");
        let index = self.written;
        append_strip(
            out,
            &self.config,
            self.interval,
            index,
            strip,
            &mut self.segments,
        )
        .map_err(|e| match e {
            Appended::Io(e) => Error::io(&self.name, e),
            Appended::Bad => Error::new(
                ErrorKind::Io,
                format!("{}: the JPEG encoder wrote an unexpected stream", self.name),
            ),
        })
    }

    /// Stops the workers and waits for them.
    fn stop(&mut self) {
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl BandWriter for ParallelWriter {
    fn band_rows(&self) -> Option<u32> {
        // An image of one strip is encoded at the end either way; bands of
        // the planner's height let what feeds it run as rows arrive.
        let strips = self.strip_rows < u32::from(self.config.height);
        our_sampling(&self.config)
            .filter(|_| strips)
            .map(|_| self.strip_rows)
    }

    fn band_encoder(&mut self, band_rows: u32) -> Option<Arc<dyn BandEncoder>> {
        let whole =
            band_rows.is_multiple_of(self.strip_rows) || band_rows >= u32::from(self.config.height);
        if our_sampling(&self.config).is_none() || !whole || self.sent > 0 {
            return None;
        }
        // The workers encode; the strip threads are not needed.
        self.stop();
        Some(Arc::new(StripBands {
            config: self.config,
            strip_rows: self.strip_rows as usize,
        }))
    }

    fn write_encoded(&mut self, y: u32, rows: u32, encoded: &[u8]) -> Result<()> {
        self.rows.accept_rows(&self.name, y, rows)?;
        let out = self.out.as_mut().expect("not finished");
        if y == 0 {
            let mut h = our_encoder(&self.config)
                .expect("banded only with our encoder")
                .headers(self.config.height, self.interval);
            insert_app_segments(&mut h, &std::mem::take(&mut self.segments));
            out.write_all(&h).map_err(|e| Error::io(&self.name, e))?;
        }
        out.write_all(encoded).map_err(|e| Error::io(&self.name, e))
    }

    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        self.rows.accept(&self.name, y, rows, data)?;
        let last = y + rows == u32::from(self.config.height);
        let row_bytes = self.row_bytes();
        let mut rest = data;
        while !rest.is_empty() {
            if self.strip.is_empty() {
                self.strip
                    .reserve_exact(self.strip_rows as usize * row_bytes);
            }
            let take = ((self.strip_rows - self.strip_fill) as usize).min(rest.len() / row_bytes);
            self.strip.extend_from_slice(&rest[..take * row_bytes]);
            rest = &rest[take * row_bytes..];
            self.strip_fill += take as u32;
            if self.strip_fill == self.strip_rows || (last && rest.is_empty()) {
                self.send_strip()?;
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.rows.complete(&self.name)?;
        while self.written < self.sent {
            self.receive_one()?;
        }
        self.stop();
        let mut out = self.out.take().expect("finished once");
        let name = self.name.clone();
        out.write_all(&[0xFF, 0xD9])
            .map_err(|e| Error::io(&name, e))?;
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&name, e.into_error()))?;
        drop(file);
        let temp = self.temp.take().expect("finished once");
        persist(temp, &self.target, &self.name)
    }
}

impl Drop for ParallelWriter {
    fn drop(&mut self) {
        // Unfinished: stop the workers; `temp` removes the file.
        self.stop();
        if let Some(out) = self.out.take() {
            drop(out.into_parts());
        }
    }
}

/// Encodes a tile in horizontal slices of one iMCU row each (8 or 16
/// rows), each slice on its own (any thread, any order), then joins them
/// with restart markers under the tile's headers: a valid baseline JPEG
/// whose writer never holds more than a slice of pixels per tile, so a
/// row of tiles can be encoded as its rows arrive. Grey and RGB only (our
/// encoder).
pub(crate) struct Slices {
    config: Config,
    rows: u32,
    interval: u16,
}

/// A slice encoder and the settings it was made for (width, quality,
/// sampling).
type CachedEncoder = Option<((u16, u8, u8), StripEncoder)>;

thread_local! {
    /// The strip encoder of this thread (for slices of tiles and bands of
    /// images), with the settings it was made for (width, quality,
    /// sampling).
    static SLICE_ENCODER: std::cell::RefCell<CachedEncoder> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with this thread's encoder for `config` (grey or RGB, which
/// the caller checked), made anew only when the settings change.
fn with_encoder<T>(config: &Config, f: impl FnOnce(&mut StripEncoder) -> T) -> T {
    let key = (config.width, config.quality, config.sampling as u8);
    SLICE_ENCODER.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.as_ref().is_none_or(|(k, _)| *k != key) {
            let enc = our_encoder(config).expect("grey or RGB");
            *cell = Some((key, enc));
        }
        let (_, enc) = cell.as_mut().expect("just set");
        f(enc)
    })
}

impl Slices {
    /// Slices of JPEG tiles of `header` (the tile's size), saved with the
    /// JPEG saver's `args`.
    pub(crate) fn new(
        name: &str,
        header: &gigapix_core::Header,
        args: &gigapix_core::desc::Args,
    ) -> Result<Slices> {
        let config = super::save::config(name, header, args)?;
        if config.optimize || our_sampling(&config).is_none() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{name}: JPEG tiles in slices are grey or RGB, without optimize"),
            ));
        }
        let v = config.sampling as u8;
        let (h_max, v_max) = if config.color == JpegColorType::Luma {
            (1, 1)
        } else {
            (
                usize::from((v >> 4) & 7).max(1),
                usize::from(v & 0xF).max(1),
            )
        };
        let mcus = usize::from(config.width).div_ceil(8 * h_max);
        Ok(Slices {
            config,
            rows: (8 * v_max) as u32,
            interval: mcus as u16,
        })
    }

    /// Rows per slice.
    pub(crate) fn rows(&self) -> u32 {
        self.rows
    }

    /// The entropy-coded data of one slice (`rows()` packed rows).
    pub(crate) fn encode(&self, data: &[u8]) -> Vec<u8> {
        with_encoder(&self.config, |enc| {
            let mut out = Vec::with_capacity(data.len() / 8 + 64);
            enc.encode(self.rows as usize, data, &mut out);
            out
        })
    }

    /// The tile's JPEG from its slices, in order.
    pub(crate) fn assemble(&self, slices: &[Vec<u8>]) -> Vec<u8> {
        let mut out = our_encoder(&self.config)
            .expect("checked by new")
            .headers(self.config.height, self.interval);
        out.reserve(slices.iter().map(|s| s.len() + 2).sum::<usize>() + 2);
        for (i, s) in slices.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(&[0xFF, 0xD0 + ((i - 1) % 8) as u8]);
            }
            out.extend_from_slice(s);
        }
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }
}
