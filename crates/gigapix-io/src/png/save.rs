//! The PNG saver: bands are filtered and deflated as they arrive, through
//! `png::StreamWriter`, into a temporary file renamed on `finish`. The
//! image's ICC profile goes in an `iCCP` chunk and its EXIF block in an
//! `eXIf` chunk (orientation patched to the image's, see
//! `exif::for_save`), both before the image data.

use std::borrow::Cow;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use gigapix_core::{BandFormat, BandWriter, Error, ErrorKind, Header, Metadata, Result};
use png::{BitDepth, ColorType, DeflateCompression, Encoder, Filter, Info, StreamWriter};

use crate::save::{Dest, OutFile, RowCheck, Temp, create_out, persist};
use gigapix_core::desc::Args;

/// The compression level used when none is given: zlib level 5 with the
/// adaptive filter. On natural-looking 4000x4000 RGB test images (smooth
/// gradients, zone plate, noise of various strengths) it gave files 3.6 to
/// 4.6 % larger than level 6 with the adaptive filter (what libvips writes
/// by default) in 2.3 to 3 times less time. Level 3 is twice as fast again
/// but up to 5.1 % larger (7 % on noise-free synthetic content); `fdeflate`
/// (level 1) is 20 to 35 times faster than level 6 but 35 to 80 % larger.
pub(crate) const DEFAULT_COMPRESSION: u8 = 5;

/// Size of the `IDAT` chunks written.
const CHUNK: usize = 256 << 10;

/// Buffer of the output file.
const OUT_BUFFER: usize = 256 << 10;

/// Largest piece of a 16-bit band converted to big-endian at a time.
const SCRATCH: usize = 1 << 20;

/// The deflate setting of `compression=level`: 0 stores, 1 is the very
/// fast `fdeflate`, 2 to 9 are zlib levels.
fn deflate(level: u8) -> DeflateCompression {
    match level {
        0 => DeflateCompression::NoCompression,
        1 => DeflateCompression::FdeflateUltraFast,
        n => DeflateCompression::Level(n),
    }
}

/// The filter named `name` (one of the names of the table's `filter`).
fn filter(name: &str) -> Filter {
    match name {
        "none" => Filter::NoFilter,
        "sub" => Filter::Sub,
        "up" => Filter::Up,
        "avg" => Filter::Avg,
        "paeth" => Filter::Paeth,
        _ => Filter::Adaptive,
    }
}

/// The output file, shared between the encoder (which owns a handle) and
/// the saver (which flushes and renames it once the encoder is gone): the
/// encoder's final writes happen in `Drop`, where errors are lost, so they
/// are recorded here.
#[derive(Clone)]
struct Output(Arc<Mutex<OutputState>>);

struct OutputState {
    file: Option<Out>,
    error: Option<io::Error>,
}

/// Where the encoder's bytes go: the file, or memory (see
/// [`encode_to_vec`]).
enum Out {
    File(BufWriter<OutFile>),
    Vec(Vec<u8>),
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::File(f) => f.write(buf),
            Out::Vec(v) => v.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Out::File(f) => f.write_all(buf),
            Out::Vec(v) => v.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Output {
    fn state(&self) -> std::sync::MutexGuard<'_, OutputState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut state = self.state();
        let Some(file) = state.file.as_mut() else {
            return Err(io::Error::other("output closed"));
        };
        match file.write(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                state.error.get_or_insert(e);
                Err(copy)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        // The saver flushes once, at the end.
        Ok(())
    }
}

/// A [`BandWriter`] encoding PNG.
struct PngWriter {
    /// `None` once finished.
    stream: Option<StreamWriter<'static, Output>>,
    output: Output,
    temp: Option<Temp>,
    target: PathBuf,
    name: String,
    header: Header,
    rows: RowCheck,
    scratch: Vec<u8>,
}

/// The encoder's settings from `args` (checked by the format table), or
/// why `header` cannot be saved as PNG.
struct Settings {
    level: u8,
    filter: Filter,
    depth: BitDepth,
    color: ColorType,
}

fn settings(name: &str, header: &Header, args: &Args) -> Result<Settings> {
    let invalid = |msg: String| Error::new(ErrorKind::InvalidArgument, format!("{name}: {msg}"));
    // The table's descriptors checked the values.
    let level = args
        .opt_int("compression")?
        .map_or(DEFAULT_COMPRESSION, |l| l.clamp(0, 9) as u8);
    let filter = filter(args.opt_choice("filter")?.unwrap_or("adaptive"));
    if args.bool("interlace")? {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!("{name}: interlaced PNG cannot be written"),
        ));
    }
    // `crate::writer` checked the band format against the table: u8 or
    // u16.
    let depth = if header.format == BandFormat::U16 {
        BitDepth::Sixteen
    } else {
        BitDepth::Eight
    };
    let color = match header.bands {
        1 => ColorType::Grayscale,
        2 => ColorType::GrayscaleAlpha,
        3 => ColorType::Rgb,
        4 => ColorType::Rgba,
        b => {
            return Err(invalid(format!(
                "PNG holds 1 to 4 bands (grey, grey+alpha, RGB, RGBA), not {b}: extract bands first"
            )));
        }
    };
    if header.width == 0 || header.height == 0 {
        return Err(invalid(format!("cannot save an image of {header}")));
    }
    Ok(Settings {
        level,
        filter,
        depth,
        color,
    })
}

/// The PNG stream into `output`, its header and metadata chunks written.
fn start(
    name: &str,
    output: &Output,
    header: &Header,
    metadata: &Metadata,
    settings: &Settings,
) -> Result<StreamWriter<'static, Output>> {
    let mut info = Info::with_size(header.width, header.height);
    info.icc_profile = metadata
        .icc
        .as_deref()
        .filter(|icc| !icc.is_empty())
        .map(|icc| Cow::Owned(icc.to_vec()));
    info.exif_metadata = crate::exif::for_save(metadata).map(|exif| Cow::Owned(exif.into_owned()));
    let mut encoder =
        Encoder::with_info(output.clone(), info).map_err(|e| encoding_error(name, output, e))?;
    encoder.set_color(settings.color);
    encoder.set_depth(settings.depth);
    encoder.set_deflate_compression(deflate(settings.level));
    encoder.set_filter(settings.filter);
    encoder
        .write_header()
        .and_then(|w| w.into_stream_writer_with_size(CHUNK))
        .map_err(|e| encoding_error(name, output, e))
}

/// Writes `data` (packed rows of `header`) into the stream, 16-bit samples
/// big-endian through `scratch`.
fn put(
    stream: &mut StreamWriter<'static, Output>,
    header: &Header,
    data: &[u8],
    scratch: &mut Vec<u8>,
) -> io::Result<()> {
    if header.format == BandFormat::U16 {
        let chunk = SCRATCH.min(data.len()).max(2);
        scratch.resize(chunk, 0);
        data.chunks(chunk).try_for_each(|src| {
            let dst = &mut scratch[..src.len()];
            crate::source::swap_be16(src, dst);
            stream.write_all(dst)
        })
    } else {
        stream.write_all(data)
    }
}

/// Encodes a whole image of `header` (packed rows) on this thread into a
/// new `Vec`: the same encoder, settings and chunks as [`writer`], so the
/// same bytes as the file it would save.
pub(crate) fn encode_to_vec(
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
    data: &[u8],
) -> Result<Vec<u8>> {
    let settings = settings(name, header, args)?;
    if data.len() != header.row_bytes() * header.height as usize {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: {} bytes for an image of {header}", data.len()),
        ));
    }
    let output = Output(Arc::new(Mutex::new(OutputState {
        file: Some(Out::Vec(Vec::with_capacity(data.len() / 2 + 1024))),
        error: None,
    })));
    let mut stream = start(name, &output, header, metadata, &settings)?;
    let mut scratch = Vec::new();
    put(&mut stream, header, data, &mut scratch).map_err(|e| Error::io(name, e))?;
    stream
        .finish()
        .map_err(|e| encoding_error(name, &output, e))?;
    let mut state = output.state();
    if let Some(e) = state.error.take() {
        return Err(Error::io(name, e));
    }
    match state.file.take() {
        Some(Out::Vec(v)) => Ok(v),
        _ => Err(Error::new(
            ErrorKind::Io,
            format!("{name}: PNG output lost"),
        )),
    }
}

/// A writer saving `header` as PNG at `path`, with the ICC profile
/// (`iCCP`) and EXIF block (`eXIf`) of `metadata`.
pub(crate) fn writer(
    path: &Dest,
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
) -> Result<Box<dyn BandWriter>> {
    let settings = settings(name, header, args)?;
    let (file, temp) = create_out(path, name)?;
    let output = Output(Arc::new(Mutex::new(OutputState {
        file: Some(Out::File(BufWriter::with_capacity(OUT_BUFFER, file))),
        error: None,
    })));
    let stream = start(name, &output, header, metadata, &settings)?;
    Ok(Box::new(PngWriter {
        stream: Some(stream),
        output: output.clone(),
        temp: Some(temp),
        target: path.to_path_buf(),
        name: name.to_string(),
        header: *header,
        rows: RowCheck::new(header.height, header.row_bytes()),
        scratch: Vec::new(),
    }))
}

/// The engine's error for an encoding error, preferring the I/O error the
/// output recorded.
fn encoding_error(name: &str, output: &Output, e: png::EncodingError) -> Error {
    if let Some(io) = output.state().error.take() {
        return Error::io(name, io);
    }
    match e {
        png::EncodingError::IoError(e) => Error::io(name, e),
        e => Error::new(ErrorKind::InvalidArgument, format!("{name}: {e}")),
    }
}

impl PngWriter {
    fn io_error(&self, e: io::Error) -> Error {
        match self.output.state().error.take() {
            Some(io) => Error::io(&self.name, io),
            None => Error::io(&self.name, e),
        }
    }
}

impl BandWriter for PngWriter {
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        self.rows.accept(&self.name, y, rows, data)?;
        let Some(stream) = self.stream.as_mut() else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{}: written after finish", self.name),
            ));
        };
        let result = put(stream, &self.header, data, &mut self.scratch);
        if let Err(e) = result {
            // The stream is unusable: drop it now (its final writes go to a
            // file that is about to be removed).
            self.stream = None;
            return Err(self.io_error(e));
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.rows.complete(&self.name)?;
        let stream = self.stream.take().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{}: an earlier write failed; nothing saved", self.name),
            )
        })?;
        // Finishing the stream ends the image data; dropping the encoder it
        // owned writes IEND.
        stream
            .finish()
            .map_err(|e| encoding_error(&self.name, &self.output, e))?;
        let out = {
            let mut state = self.output.state();
            if let Some(e) = state.error.take() {
                return Err(Error::io(&self.name, e));
            }
            state.file.take().expect("finished once")
        };
        let Out::File(out) = out else {
            return Err(Error::new(
                ErrorKind::Io,
                format!("{}: PNG output lost", self.name),
            ));
        };
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&self.name, e.into_error()))?;
        drop(file);
        let temp = self.temp.take().expect("finished once");
        persist(temp, &self.target, &self.name)
    }
}

impl Drop for PngWriter {
    fn drop(&mut self) {
        // Unfinished: close the file without flushing its buffer; `temp`
        // then removes it.
        self.stream = None;
        if let Some(Out::File(out)) = self.output.state().file.take() {
            drop(out.into_parts());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The format table documents the default this saver uses.
    #[test]
    fn table_default_is_the_default_compression() {
        let desc = crate::FileFormat::Png.desc();
        let d = desc.save_options.iter().find(|d| d.name == "compression");
        assert_eq!(
            d.and_then(|d| d.default),
            Some(DEFAULT_COMPRESSION.to_string().as_str())
        );
    }
}
