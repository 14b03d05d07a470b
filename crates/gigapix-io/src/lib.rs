//! File loaders and savers of gigapix: TIFF (strips, tiles, BigTIFF;
//! none/LZW/deflate; every band format), PNG, JPEG, binary PPM/PGM and the
//! raw format of gigapix (`.gpx`, see [`raw`]), memory-mapped and
//! streaming.
//!
//! Every format is described once, in the table [`FORMATS`] (module
//! [`formats`]): its magic bytes, extensions, access, whether it loads and
//! saves, the band formats it saves and its load and save options as typed
//! [`ArgDesc`](gigapix_core::desc::ArgDesc)s. Format detection, the choice
//! of saver by extension, the checks of options, the errors listing
//! formats and options, and the rendered tables ([`formats_markdown`],
//! [`formats_text`]) all come from it.
//!
//! | format | reading | writing |
//! |---|---|---|
//! | TIFF | random access per strip or tile, with a shared cache of decoded chunks | our own streaming writer: strips or tiles, LZW/deflate + predictor, BigTIFF when needed |
//! | PNG | sequential, row by row (Adam7: decoded whole, spilled to a temporary file when large) | streaming, compression 0-9, filters |
//! | JPEG | sequential by iMCU rows (zune-jpeg's raw API; our upsampling and colour conversion); progressive holds all coefficients; `shrink=2/4/8` decodes in the DCT domain (MozJPEG) | strips encoded in parallel (our own libjpeg-turbo-identical encoder with AVX2/AVX-512 kernels; CMYK by jpeg-encoder) and joined with restart markers |
//! | AVIF | refused with a clear error: no pure-Rust AVIF decoder builds here (see the `avif` module's source docs) | whole image buffered (not streamable, checked against `max_alloc`), encoded in one pass by ravif/rav1e on rayon's threads: Q, effort, 8/10-bit, alpha, EXIF; lossy and 4:4:4 only |
//! | PPM/PGM, `.gpx` | memory-mapped zero-copy views, or sequential | streaming |
//! | DeepZoom (`.dzi`, `.zip`, `.szi`) | no | `dzsave`: DeepZoom, Zoomify, Google Maps, IIIF 2/3 tile pyramids in one pass (every level from the one above as rows arrive, tiles encoded on worker threads), in a directory tree moved into place at the end or a streamed zip (ZIP64 when needed) |
//!
//! Options go in brackets after the file name (`out.tif[compression=lzw,tile]`,
//! `out.jpg[Q=85]`, `in.tif[page=2]`) or through [`OpenOptions::set`] and
//! [`SaveOptions::set`]; unknown options and bad values are errors naming
//! the option, its type and its range.
//!
//! Band formats: TIFF reads and writes unsigned and signed 8, 16 and
//! 32-bit integers and 32 and 64-bit floats (SampleFormat 1, 2 and 3), and
//! `.gpx` holds every format. PNG and PPM/PGM save `u8` and `u16`, JPEG
//! `u8`; other formats are refused before any file is made, with an error
//! naming the nearest format the file holds (`i8` → `u8`; `i16`, `i32`,
//! `u32`, `f32`, `f64` → `u16`, or `u8` for JPEG): cast first. Nothing is
//! converted silently (see [`formats`]).
//!
//! * [`open`] detects the format from the file's first bytes (never from
//!   its name), reads and checks the header, and returns a lazy source
//!   [`Image`]. By default the file is memory-mapped and read in any order;
//!   8-bit PPM/PGM and every raw file are served as zero-copy views of the
//!   map. [`AccessMode::Sequential`] reads through a buffer instead, top to
//!   bottom, which is also what pipes always use.
//! * [`writer`] picks a format from the output's extension and returns the
//!   [`BandWriter`] a sink feeds. Saves are atomic: the pixels go into a
//!   temporary file in the same directory, renamed onto the target only
//!   when the last row is written.
//! * [`describe`] reports the format and header of a file without reading
//!   pixels.
//!
//! Every header is checked when the file is opened: sizes, [`Limits`], and
//! that the file is long enough for every pixel the header promises, so a
//! damaged file fails at once with a clear error rather than half way
//! through a run. Inputs must not be truncated by another process while
//! they are open (a memory map cannot protect against that).
//!
//! # Example
//!
//! ```
//! use gigapix_core::{BandFormat, Ctx, Header, Metadata, Rect};
//! use gigapix_io::{open, writer, OpenOptions, SaveOptions};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("ramp.pgm");
//!
//! // Save a 4x3 grey ramp: rows go to the writer top to bottom.
//! let header = Header::new(4, 3, 1, BandFormat::U8);
//! let mut out = writer(&path, &header, &Metadata::default(), &SaveOptions::default())?;
//! out.write_band(0, 2, &[0, 1, 2, 3, 10, 11, 12, 13])?;
//! out.write_band(2, 1, &[20, 21, 22, 23])?;
//! out.finish()?;
//!
//! // Open it again and compute a region on this thread.
//! let image = open(&path, &OpenOptions::default())?;
//! assert_eq!(*image.header(), header);
//! let region = Ctx::standalone().region(&image, Rect::new(1, 1, 2, 2))?;
//! assert!(region.is_view()); // zero copy, straight from the memory map
//! assert_eq!(region.row::<u8>(1), &[11, 12]);
//! assert_eq!(region.row::<u8>(2), &[21, 22]);
//! # Ok::<(), gigapix_core::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use formats::Prefix;
pub use formats::{FORMATS, FormatDesc, Magic, formats_markdown, formats_text, identify};
use gigapix_core::desc::Args;
use gigapix_core::{
    BandEncoder, BandFormat, BandWriter, Error, ErrorKind, Header, Image, Limits, Metadata, Result,
};
pub use jpeg::codec_paths as jpeg_codec_paths;
pub use params::Params;
pub use save::abandon_saves;
pub use stream::{decode, from_memory, open_reader, read_stream, writer_to, writer_to_seekable};

mod avif;
mod dz;
mod exif;
pub mod formats;
mod gif;
mod input;
mod jpeg;
mod memory;
pub mod params;
mod png;
mod pnm;
mod pyramid;
pub mod raw;
mod save;
mod scan;
mod source;
mod stream;
mod tiff;
mod tile;
pub mod viewer;
mod warn;
mod webp;

use input::Input;
use scan::Scan;
use source::Layout;

/// The file formats gigapix reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileFormat {
    /// Binary PGM (`P5`, one grey band) and PPM (`P6`, three RGB bands),
    /// 8 or 16 bits per sample.
    Pnm,
    /// The raw format of gigapix, `.gpx` (see [`raw`]): any band count and
    /// band format.
    Raw,
    /// TIFF and BigTIFF.
    Tiff,
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP (lossy, lossless, animated), through libwebp.
    Webp,
    /// GIF, still or animated.
    Gif,
    /// AVIF, written only (through ravif); files are recognised and
    /// refused by the loaders.
    Avif,
    /// Deep-zoom tile pyramids (DeepZoom `.dzi`, Zoomify, Google Maps,
    /// IIIF) in a directory or a zip (`.zip`, `.szi`): written only, by
    /// `dzsave` (see the `DeepZoom` entry of [`FORMATS`]).
    DeepZoom,
}

impl FileFormat {
    /// Every format gigapix reads and writes ([`FileFormat::DeepZoom`],
    /// written only, is not among them).
    pub const ALL: [FileFormat; 7] = [
        FileFormat::Pnm,
        FileFormat::Raw,
        FileFormat::Tiff,
        FileFormat::Png,
        FileFormat::Jpeg,
        FileFormat::Webp,
        FileFormat::Gif,
    ];

    /// Short name, as in error messages (`pnm load`): `pnm`, `gpx`,
    /// `tiff`, `png`, `jpeg`, `webp` or `dz`. The name in docs is
    /// [`desc().name`](FormatDesc::name).
    pub const fn name(self) -> &'static str {
        match self {
            FileFormat::Pnm => "pnm",
            FileFormat::Raw => "gpx",
            FileFormat::Tiff => "tiff",
            FileFormat::Png => "png",
            FileFormat::Jpeg => "jpeg",
            FileFormat::Webp => "webp",
            FileFormat::Gif => "gif",
            FileFormat::Avif => "avif",
            FileFormat::DeepZoom => "dz",
        }
    }

    /// File extensions that select this format (lower case, no dot), from
    /// [`FORMATS`].
    pub fn extensions(self) -> &'static [&'static str] {
        self.desc().extensions
    }

    /// The name of the loader operation (as seen in errors).
    pub(crate) const fn loader_name(self) -> &'static str {
        match self {
            FileFormat::Pnm => "ppmload",
            FileFormat::Raw => "gpxload",
            FileFormat::Tiff => "tiffload",
            FileFormat::Png => "pngload",
            FileFormat::Jpeg => "jpegload",
            FileFormat::Webp => "webpload",
            FileFormat::Gif => "gifload",
            FileFormat::Avif => "avifload",
            FileFormat::DeepZoom => "dzload",
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The format [`writer`] would save `path` as, from its extension (case
/// insensitive) and the extensions of [`FORMATS`]: `.tif`/`.tiff` give
/// [`FileFormat::Tiff`], `.ppm`, `.pgm`, `.pnm` give [`FileFormat::Pnm`],
/// `.gpx` gives [`FileFormat::Raw`], and so on; anything else (including
/// the extensions of formats gigapix does not write, such as `.gif`)
/// `None`.
pub fn format_for_path(path: impl AsRef<Path>) -> Option<FileFormat> {
    let ext = path.as_ref().extension()?.to_str()?;
    formats::by_extension(ext)?.format.filter(|f| f.desc().save)
}

/// How [`open`] reads pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AccessMode {
    /// Memory-map the file and serve any region in any order, without
    /// copying where the file's bytes are the engine's. The default. Pipes
    /// and other non-regular files are read sequentially regardless.
    #[default]
    Random,
    /// Read through a buffer, rows top to bottom only (no memory map): for
    /// a single pass over a file, or where maps are unwelcome. A graph
    /// that needs rows out of order gets a cache from the planner.
    Sequential,
}

/// What a loader does with a damaged file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailOn {
    /// Keep what could be decoded, fill the rest, and report a warning in
    /// the run's report (`RunReport::warnings`).
    None,
    /// A truncated or corrupt file is an error (the default).
    #[default]
    Error,
}

impl std::str::FromStr for FailOn {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<FailOn, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(FailOn::None),
            "error" | "truncated" | "warning" => Ok(FailOn::Error),
            _ => Err(format!("expected none or error, got `{s}`")),
        }
    }
}

/// Options of [`open`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenOptions {
    /// How pixels are read; [`AccessMode::Random`] by default.
    pub access: AccessMode,
    /// Largest image accepted; [`Limits::default`] by default.
    pub limits: Limits,
    /// What to do with a damaged file; [`FailOn::Error`] by default.
    pub fail_on: FailOn,
    /// Format-specific options (`page`, ...), also given in
    /// brackets after the file name: `in.tif[page=2]`.
    pub params: Params,
}

impl OpenOptions {
    /// The defaults: random access, default limits.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Sets [`access`](OpenOptions::access).
    pub fn access(mut self, access: AccessMode) -> OpenOptions {
        self.access = access;
        self
    }

    /// Sets [`limits`](OpenOptions::limits).
    pub fn limits(mut self, limits: Limits) -> OpenOptions {
        self.limits = limits;
        self
    }

    /// Sets [`fail_on`](OpenOptions::fail_on).
    pub fn fail_on(mut self, fail_on: FailOn) -> OpenOptions {
        self.fail_on = fail_on;
        self
    }

    /// Sets a format-specific option.
    pub fn set(mut self, key: &str, value: impl ToString) -> OpenOptions {
        self.params = self.params.set(key, value);
        self
    }
}

/// Options of [`writer`]: format-specific, as `key=value` pairs (the same
/// as in brackets after the file name: `out.tif[compression=lzw,tile]`,
/// `out.jpg[Q=85]`). Unknown keys are an error when the writer is made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SaveOptions {
    /// The options.
    pub params: Params,
}

impl SaveOptions {
    /// No options.
    pub fn new() -> SaveOptions {
        SaveOptions::default()
    }

    /// Sets an option.
    pub fn set(mut self, key: &str, value: impl ToString) -> SaveOptions {
        self.params = self.params.set(key, value);
        self
    }
}

/// Splits `name[options]`, merging the bracket options over `params`.
fn with_brackets(path: &Path, params: &Params) -> Result<(std::path::PathBuf, Params)> {
    let text = path.to_string_lossy();
    let (file, extra) = params::split_path(&text)?;
    let mut merged = params.clone();
    for (k, v) in extra.pairs() {
        merged = merged.set(k, v);
    }
    Ok((file, merged))
}

/// What [`describe`] finds in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileInfo {
    /// The format family.
    pub format: FileFormat,
    /// The exact variant: `pgm` (P5), `ppm` (P6) or `gpx`.
    pub variant: &'static str,
    /// Size, bands, band format and interpretation.
    pub header: Header,
    /// Offset of the first pixel in the file.
    pub data_offset: u64,
    /// The maxval of a PPM/PGM (samples are kept as stored, not rescaled).
    pub maxval: Option<u32>,
    /// Length of the file, if it is a regular file.
    pub file_len: Option<u64>,
}

impl fmt::Display for FileInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variant, self.header)?;
        if let Some(m) = self.maxval {
            write!(f, ", maxval {m}")?;
        }
        Ok(())
    }
}

/// An opened input: its header parsed, the reader just past it.
struct Opened {
    layout: Layout,
    reader: BufReader<File>,
    /// Length, for a regular file.
    file_len: Option<u64>,
    end: u64,
}

/// Opens `path`, detects its format from the first bytes and validates the
/// header against `limits`.
fn open_header(path: &Path, name: &str, limits: &Limits) -> Result<Opened> {
    let file = File::open(path).map_err(|e| Error::io(name, e))?;
    let meta = file.metadata().map_err(|e| Error::io(name, e))?;
    if meta.is_dir() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: is a directory"),
        ));
    }
    let file_len = meta.is_file().then_some(meta.len());
    if file_len == Some(0) {
        return Err(Error::format(format!("{name}: file is empty")));
    }
    let mut scan = Scan::new(BufReader::new(file), name);
    let layout = sniff(&mut scan)?;
    let end = layout.validate(name, limits, file_len)?;
    Ok(Opened {
        layout,
        reader: scan.into_inner(),
        file_len,
        end,
    })
}

/// Reads the magic bytes, a byte at a time (a pipe cannot be read
/// twice), until they match a pattern of [`FORMATS`] or cannot, and
/// parses the matching header.
fn sniff<R: std::io::BufRead>(scan: &mut Scan<'_, R>) -> Result<Layout> {
    let name = scan.name();
    let mut head = vec![0u8; formats::magic_len()];
    let mut n = 0;
    let found = loop {
        match formats::identify_prefix(&head[..n]) {
            Prefix::Match(desc) => break Some(desc),
            Prefix::Unknown => break None,
            Prefix::More if n < head.len() && scan.fill(&mut head[n..n + 1])? => n += 1,
            Prefix::More if n == 0 => {
                return Err(Error::format(format!("{name}: file is empty")));
            }
            Prefix::More => break None,
        }
    };
    match found.and_then(|d| d.format.filter(|_| d.load).map(|f| (d, f))) {
        Some((_, FileFormat::Pnm)) => pnm::parse(scan, head[1]),
        Some((_, FileFormat::Raw)) => raw::parse(scan),
        Some((desc, _)) => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{name}: {} is read from regular files only, not pipes; save it to a file first",
                desc.name
            ),
        )),
        None => {
            // Say what the file starts with: its first 8 bytes, or fewer.
            let shown = 8.min(head.len());
            if found.is_none() && n < shown {
                let _ = scan.fill(&mut head[n..shown]);
            }
            let n = (scan.pos() as usize).clamp(n, shown.max(n));
            Err(unknown(name, found, &head[..n]))
        }
    }
}

/// The error for a file gigapix does not read: one of [`FORMATS`] it
/// refuses (`known`), or one it does not know, starting with `first`.
fn unknown(name: &str, known: Option<&FormatDesc>, first: &[u8]) -> Error {
    match known {
        // The other netpbm variants: the PPM parser names the one it is.
        Some(_) if first.len() >= 2 && first[0] == b'P' => pnm::unsupported_kind(name, first[1]),
        Some(desc) if desc.format == Some(FileFormat::Avif) => Error::new(
            ErrorKind::Unsupported,
            format!("{name}: {}", avif::READ_REFUSAL),
        ),
        Some(desc) => formats::refused(name, desc, true),
        None => {
            let hex: Vec<String> = first.iter().map(|b| format!("{b:02x}")).collect();
            Error::format(format!(
                "{name}: unknown file format (starts with bytes {}); gigapix reads {}",
                hex.join(" "),
                formats::supported_names(true)
            ))
        }
    }
}

/// Opens an image file as a lazy source.
///
/// The format is detected from the first bytes, by the magic bytes of
/// [`FORMATS`] (TIFF, PNG, JPEG, binary PGM/PPM, `GIGAPIX1` of [`raw`]);
/// the name of the file plays no part. Only the header is read. It is
/// checked at once: a zero size, a size beyond `options.limits`, or a file
/// shorter than its pixels is an error here, before any pixel is asked
/// for. PPM/PGM samples are kept as stored: maxval 1 to 255 gives `u8`,
/// 256 to 65535 gives `u16`, with no rescaling. The options (in
/// `options.params` and in brackets after the name) are checked against
/// the format's [`load_options`](FormatDesc::load_options).
///
/// With [`AccessMode::Random`] (the default) PPM/PGM and raw files are
/// memory-mapped; their regions of 8-bit PPM/PGM and of raw files are
/// zero-copy views of the map. With [`AccessMode::Sequential`], and for
/// any file that is not a regular file (a pipe), pixels are read through a
/// buffer top to bottom. TIFF is always random access, PNG and JPEG
/// always sequential, and those three need a regular file.
///
/// # Errors
///
/// [`ErrorKind::Io`] if the file cannot be read, [`ErrorKind::Format`] if
/// it is not a valid image (unknown format, damaged or truncated header,
/// truncated pixels), [`ErrorKind::Unsupported`] for formats and variants
/// not read (GIF, ASCII netpbm, ...), [`ErrorKind::InvalidArgument`] for
/// unknown or bad options, [`ErrorKind::Limit`] for images over the
/// limits.
pub fn open(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Image> {
    let (path, params) = with_brackets(path.as_ref(), &options.params)?;
    let path = path.as_path();
    let name = path.display().to_string();
    if let Some(format) = sniff_codec(path) {
        let (options, args) = load_args(&name, format, options, &params)?;
        return match format {
            FileFormat::Tiff => tiff::open(&Input::path(path), &name, &options, &args),
            FileFormat::Png => png::open(&Input::path(path), &name, &options, &args),
            FileFormat::Webp => webp::open(path, &name, &options, &args),
            FileFormat::Gif => gif::open(path, &name, &options, &args),
            _ => jpeg::open(&Input::path(path), &name, &options, &args),
        };
    }
    let Opened {
        layout,
        reader,
        file_len,
        end,
    } = open_header(path, &name, &options.limits)?;
    load_args(&name, layout.format, options, &params)?;
    let seekable = file_len.is_some();
    if seekable && options.access == AccessMode::Random {
        source::mapped(&layout, reader.get_ref(), end, &name, Default::default())
    } else {
        source::streaming(&layout, reader, seekable, &name, &options.limits)
    }
}

/// Checks and parses the load options of `format`, and applies
/// `fail_on` to `options`.
fn load_args(
    name: &str,
    format: FileFormat,
    options: &OpenOptions,
    params: &Params,
) -> Result<(OpenOptions, Args)> {
    let owner = format!("{name}: {format} load");
    let args = formats::parse_options(&owner, format.desc().load_options, params)?;
    let mut options = options.clone();
    if let Some(f) = args.opt_choice("fail_on")? {
        options.fail_on = f
            .parse()
            .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("{owner}: {e}")))?;
    }
    Ok((options, args))
}

/// The format of a regular file whose first bytes match a format of
/// [`FORMATS`] that is read from regular files only (TIFF, PNG, JPEG).
/// `None` for anything else (including unreadable files, which the
/// PPM/raw path reports, and anything but a regular file: reading a
/// pipe's first bytes here would take them from the PPM parser).
fn sniff_codec(path: &Path) -> Option<FileFormat> {
    use std::io::Read;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let mut file = File::open(path).ok()?;
    let mut head = vec![0u8; formats::magic_len()];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    formats::identify(&head[..got])
        .filter(|d| d.load && !d.pipes)
        .and_then(|d| d.format)
}

/// The format and header of an image file, read and checked like [`open`]
/// with default options, without reading pixels.
pub fn describe(path: impl AsRef<Path>) -> Result<FileInfo> {
    let path = path.as_ref();
    let name = path.display().to_string();
    if let Some(format) = sniff_codec(path) {
        let image = open(path, &OpenOptions::default())?;
        return Ok(FileInfo {
            format,
            variant: format.name(),
            header: *image.header(),
            data_offset: 0,
            maxval: None,
            file_len: std::fs::metadata(path).ok().map(|m| m.len()),
        });
    }
    let Opened {
        layout, file_len, ..
    } = open_header(path, &name, &Limits::default())?;
    Ok(FileInfo {
        format: layout.format,
        variant: layout.variant,
        header: layout.header,
        data_offset: layout.data_offset,
        maxval: layout.maxval,
        file_len,
    })
}

/// The target, format and parsed options of a save to `path`.
fn save_target(
    path: &Path,
    header: &Header,
    options: &SaveOptions,
) -> Result<(std::path::PathBuf, String, FileFormat, Args)> {
    let (target, params) = with_brackets(path, &options.params)?;
    let path = target.as_path();
    let name = path.display().to_string();
    let ext = path.extension().map(|e| e.to_string_lossy());
    let desc = match ext.as_deref().and_then(formats::by_extension) {
        Some(desc) if desc.save => desc,
        Some(desc) => return Err(formats::refused(&name, desc, false)),
        None => {
            let ext = ext.map(|e| format!(" `.{e}`")).unwrap_or_default();
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{name}: cannot save as{ext}: gigapix saves {}",
                    formats::save_extensions()
                ),
            ));
        }
    };
    let format = desc.format.expect("savers have a format");
    let args = formats::parse_options(
        &format!("{name}: {format} save"),
        desc.save_options,
        &params,
    )?;
    desc.check_save_format(&name, header.format)?;
    Ok((target, name, format, args))
}

/// Memory estimate of the encoder [`writer`] would make for `path`: the
/// bytes it holds while bands of `band_rows` rows arrive (see the figures
/// of each format in the source of `gigapix_io::memory`). Checks the path
/// and options as `writer` does, without touching the file system.
pub fn encoder_bytes(
    path: &Path,
    header: &Header,
    options: &SaveOptions,
    band_rows: u32,
) -> Result<u64> {
    let (_, _, format, args) = save_target(path, header, options)?;
    memory::encoder_bytes(format, header, &args, band_rows)
}

/// A writer that answers [`BandWriter::buffer_bytes`] with the estimate of
/// its format.
struct Estimated {
    inner: Box<dyn BandWriter>,
    format: FileFormat,
    header: Header,
    args: Args,
}

impl BandWriter for Estimated {
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        self.inner.write_band(y, rows, data)
    }
    fn finish(self: Box<Self>) -> Result<()> {
        self.inner.finish()
    }
    fn buffer_bytes(&self, band_rows: u32) -> u64 {
        memory::encoder_bytes(self.format, &self.header, &self.args, band_rows).unwrap_or(0)
    }
    fn band_rows(&self) -> Option<u32> {
        self.inner.band_rows()
    }
    fn band_encoder(&mut self, band_rows: u32) -> Option<Arc<dyn BandEncoder>> {
        self.inner.band_encoder(band_rows)
    }
    fn write_encoded(&mut self, y: u32, rows: u32, encoded: &[u8]) -> Result<()> {
        self.inner.write_encoded(y, rows, encoded)
    }
}

/// A [`BandWriter`] saving an image of `header` to `path`, in the format
/// named by its extension (see [`format_for_path`]), with what `metadata`
/// holds that the format can carry.
///
/// * PPM/PGM (`.ppm`, `.pgm`, `.pnm`): 1 band is written as P5, 3 bands
///   as P6 (whatever the extension), `u8` with maxval 255 and `u16` with
///   maxval 65535 (big-endian). Other band counts or formats are an
///   [`ErrorKind::InvalidArgument`] error: extract bands or cast first.
///   No metadata.
/// * Raw (`.gpx`): any header. No metadata.
/// * JPEG: the ICC profile ([`Metadata::icc`]) as APP2 `ICC_PROFILE`
///   segments (chunks of at most 65519 bytes, numbered; a profile that
///   needs more than 255 chunks is left out) and the EXIF block
///   ([`Metadata::exif`]) as an APP1 `Exif` segment (left out when it
///   does not fit one segment, 65527 bytes). When
///   [`Metadata::orientation`] is 1 to 8 and differs from the orientation
///   tag (0x0112) of the block's first directory, the saved copy of the
///   block carries the image's orientation (after `autorotate`, 1), so
///   viewers do not rotate the pixels a second time.
/// * PNG: the ICC profile as `iCCP`, the EXIF block as `eXIf` (its
///   orientation patched as for JPEG).
/// * TIFF: every band format (SampleFormat 1, 2 or 3); the ICC profile as
///   tag 34675 (InterColorProfile); EXIF is not written.
///
/// The options are those of the format's
/// [`save_options`](FormatDesc::save_options) in [`FORMATS`]; an unknown
/// one, or a value outside its type or range, is an
/// [`ErrorKind::InvalidArgument`] error naming it. A band format the
/// format does not hold ([`FormatDesc::save_formats`]) is an
/// [`ErrorKind::InvalidArgument`] error naming the nearest one it does. An
/// extension of a format gigapix recognises but does not write (`.gif`)
/// is an [`ErrorKind::Unsupported`] error saying so. The option `strip`
/// (`out.jpg[strip]`, any format) writes no metadata at all.
///
/// Everything is checked before the file system is touched. The writer
/// writes into a temporary file in the target's directory and
/// [`finish`](BandWriter::finish) renames it onto `path`, after checking
/// that every row was written. Dropping the writer without finishing
/// removes the temporary file: a failed save leaves no output and any
/// previous file at `path` untouched. The data is not `fsync`ed.
pub fn writer(
    path: &Path,
    header: &Header,
    metadata: &Metadata,
    options: &SaveOptions,
) -> Result<Box<dyn BandWriter>> {
    let (target, name, format, args) = save_target(path, header, options)?;
    writer_dest(
        &save::Dest::path(target),
        name,
        format,
        args,
        header,
        metadata,
    )
}

/// The writer of `format` into `dest` (a path or a stream), the options
/// parsed.
fn writer_dest(
    path: &save::Dest,
    name: String,
    format: FileFormat,
    args: Args,
    header: &Header,
    metadata: &Metadata,
) -> Result<Box<dyn BandWriter>> {
    let stripped = Metadata::default();
    let metadata = if args.bool("strip")? {
        &stripped
    } else {
        metadata
    };
    let inner: Box<dyn BandWriter> = match format {
        FileFormat::Tiff => tiff::writer(path, &name, header, metadata, &args)?,
        FileFormat::Png => png::writer(path, &name, header, metadata, &args)?,
        FileFormat::Gif => gif::writer(path, &name, header, metadata, &args)?,
        FileFormat::Jpeg => jpeg::writer(path, &name, header, metadata, &args)?,
        FileFormat::Webp => webp::writer(path, &name, header, metadata, &args)?,
        FileFormat::Avif => avif::writer(path, &name, header, metadata, &args)?,
        FileFormat::DeepZoom => dz::writer(path, &name, header, &args)?,
        FileFormat::Pnm => {
            pnm::check_savable(&name, header)?;
            let swap16 = header.format == BandFormat::U16;
            Box::new(save::FileWriter::create(
                path,
                header,
                &pnm::header_bytes(header),
                swap16,
            )?)
        }
        FileFormat::Raw => {
            raw::check_host(&name, header.format)?;
            Box::new(save::FileWriter::create(
                path,
                header,
                &raw::header_bytes(header),
                false,
            )?)
        }
    };
    Ok(Box::new(Estimated {
        inner,
        format,
        header: *header,
        args,
    }))
}
