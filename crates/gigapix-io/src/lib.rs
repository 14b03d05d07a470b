//! File loaders and savers of gigapix: TIFF (strips, tiles, BigTIFF;
//! none/LZW/deflate), PNG, JPEG, binary PPM/PGM and the raw format of
//! gigapix (`.gpx`, see [`raw`]), memory-mapped and streaming.
//!
//! | format | reading | writing |
//! |---|---|---|
//! | TIFF | random access per strip or tile, with a shared cache of decoded chunks | our own streaming writer: strips or tiles, LZW/deflate + predictor, BigTIFF when needed |
//! | PNG | sequential, row by row (Adam7: decoded whole, spilled to a temporary file when large) | streaming, compression 0-9, filters |
//! | JPEG | sequential by iMCU rows (zune-jpeg's raw API; our upsampling and colour conversion); progressive holds all coefficients; `shrink=2/4/8` decodes in the DCT domain (MozJPEG) | strips encoded in parallel (MozJPEG, or jpeg-encoder) and joined with restart markers |
//! | PPM/PGM, `.gpx` | memory-mapped zero-copy views, or sequential | streaming |
//!
//! Options go in brackets after the file name (`out.tif[compression=lzw,tile]`,
//! `out.jpg[Q=85]`, `in.tif[page=2]`) or through [`OpenOptions::set`] and
//! [`SaveOptions::set`]; unknown options are errors.
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

use gigapix_core::{
    BandFormat, BandWriter, Error, ErrorKind, Header, Image, Limits, Metadata, Result,
};
pub use params::Params;

mod jpeg;
pub mod params;
mod png;
mod pnm;
pub mod raw;
mod save;
mod scan;
mod source;
mod tiff;

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
}

impl FileFormat {
    /// Every format.
    pub const ALL: [FileFormat; 5] = [
        FileFormat::Pnm,
        FileFormat::Raw,
        FileFormat::Tiff,
        FileFormat::Png,
        FileFormat::Jpeg,
    ];

    /// Short name: `pnm` or `gpx`.
    pub const fn name(self) -> &'static str {
        match self {
            FileFormat::Pnm => "pnm",
            FileFormat::Raw => "gpx",
            FileFormat::Tiff => "tiff",
            FileFormat::Png => "png",
            FileFormat::Jpeg => "jpeg",
        }
    }

    /// Output file extensions that select this format (lower case, no dot).
    pub const fn extensions(self) -> &'static [&'static str] {
        match self {
            FileFormat::Pnm => &["ppm", "pgm", "pnm"],
            FileFormat::Raw => &["gpx"],
            FileFormat::Tiff => &["tif", "tiff"],
            FileFormat::Png => &["png"],
            FileFormat::Jpeg => &["jpg", "jpeg", "jpe"],
        }
    }

    /// The name of the loader operation (as seen in errors).
    pub(crate) const fn loader_name(self) -> &'static str {
        match self {
            FileFormat::Pnm => "ppmload",
            FileFormat::Raw => "gpxload",
            FileFormat::Tiff => "tiffload",
            FileFormat::Png => "pngload",
            FileFormat::Jpeg => "jpegload",
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The format [`writer`] would save `path` as, from its extension (case
/// insensitive): `.ppm`, `.pgm`, `.pnm` give [`FileFormat::Pnm`], `.gpx`
/// gives [`FileFormat::Raw`]; anything else `None`.
pub fn format_for_path(path: impl AsRef<Path>) -> Option<FileFormat> {
    let ext = path.as_ref().extension()?.to_str()?.to_ascii_lowercase();
    FileFormat::ALL
        .into_iter()
        .find(|f| f.extensions().contains(&ext.as_str()))
}

/// The supported output extensions, for messages: `.ppm, .pgm, .pnm, .gpx`.
fn supported_extensions() -> String {
    let all: Vec<String> = FileFormat::ALL
        .iter()
        .flat_map(|f| f.extensions())
        .map(|e| format!(".{e}"))
        .collect();
    all.join(", ")
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

/// Reads the magic bytes and parses the matching header.
fn sniff(scan: &mut Scan<'_, BufReader<File>>) -> Result<Layout> {
    let name = scan.name();
    let mut magic = [0u8; 8];
    let complete = scan.fill(&mut magic[..2])?;
    match (complete, magic[0], magic[1]) {
        (false, ..) if scan.pos() == 0 => Err(Error::format(format!("{name}: file is empty"))),
        (true, b'P', k @ (b'5' | b'6')) => pnm::parse(scan, k),
        (true, b'P', k @ (b'1'..=b'4' | b'7' | b'F' | b'f')) => Err(pnm::unsupported_kind(name, k)),
        (true, b'G', b'I') => {
            if scan.fill(&mut magic[2..])? && magic == raw::MAGIC {
                raw::parse(scan)
            } else {
                Err(unknown(name, &magic[..scan.pos() as usize]))
            }
        }
        _ => {
            let n = scan.pos() as usize;
            let _ = scan.fill(&mut magic[n..]);
            Err(unknown(name, &magic[..scan.pos() as usize]))
        }
    }
}

/// The error for a file in no format we know, naming well-known formats.
/// PNG, JPEG and TIFF only land here when they do not come from a regular
/// file (their loaders need to seek).
fn unknown(name: &str, first: &[u8]) -> Error {
    const READ: &str = "gigapix reads TIFF, PNG, JPEG, binary PPM/PGM (P5, P6) and .gpx";
    const KNOWN: [(&[u8], &str, bool); 8] = [
        (b"\x89PNG", "PNG", true),
        (b"\xff\xd8\xff", "JPEG", true),
        (b"II*\0", "TIFF", true),
        (b"MM\0*", "TIFF", true),
        (b"II+\0", "TIFF", true),
        (b"MM\0+", "TIFF", true),
        (b"GIF8", "GIF", false),
        (b"BM", "BMP", false),
    ];
    if let Some((_, what, from_files)) = KNOWN.iter().find(|(m, _, _)| first.starts_with(m)) {
        let msg = if *from_files {
            format!(
                "{name}: {what} is read from regular files only, not pipes; save it to a file first"
            )
        } else {
            format!("{name}: {what} files are not supported; {READ}")
        };
        return Error::new(ErrorKind::Unsupported, msg);
    }
    let hex: Vec<String> = first.iter().map(|b| format!("{b:02x}")).collect();
    Error::format(format!(
        "{name}: unknown file format (starts with bytes {}); gigapix reads TIFF, PNG, JPEG, binary PPM/PGM (P5, P6) and .gpx",
        hex.join(" ")
    ))
}

/// Opens an image file as a lazy source.
///
/// The format is detected from the first bytes: `P5`/`P6` (binary PGM/PPM)
/// or `GIGAPIX1` ([`raw`]); the name of the file plays no part. Only the
/// header is read. It is checked at once: a zero size, a size beyond
/// `options.limits`, or a file shorter than its pixels is an error here,
/// before any pixel is asked for. PPM/PGM samples are kept as stored:
/// maxval 1 to 255 gives `u8`, 256 to 65535 gives `u16`, with no rescaling.
///
/// With [`AccessMode::Random`] (the default) the file is memory-mapped;
/// regions of 8-bit PPM/PGM and of raw files are zero-copy views of the
/// map. With [`AccessMode::Sequential`], and for any file that is not a
/// regular file (a pipe), pixels are read through a buffer top to bottom.
///
/// # Errors
///
/// [`ErrorKind::Io`] if the file cannot be read, [`ErrorKind::Format`] if
/// it is not a valid image (unknown format, damaged or truncated header,
/// truncated pixels), [`ErrorKind::Unsupported`] for formats and variants
/// not read (ASCII netpbm, PNG, ...), [`ErrorKind::Limit`] for images over
/// the limits.
pub fn open(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Image> {
    let (path, mut params) = with_brackets(path.as_ref(), &options.params)?;
    let path = path.as_path();
    let name = path.display().to_string();
    let mut options = options.clone();
    if let Some(f) = params.take::<FailOn>("fail_on")? {
        options.fail_on = f;
    }
    let options = &options;
    let codec = match sniff_codec(path, &name)? {
        Some(FileFormat::Tiff) => Some(tiff::open(path, &name, options, &mut params)),
        Some(FileFormat::Png) => Some(png::open(path, &name, options, &mut params)),
        Some(FileFormat::Jpeg) => Some(jpeg::open(path, &name, options, &mut params)),
        _ => None,
    };
    if let Some(image) = codec {
        let image = image?;
        params.finish(&format!("{name}: load"), &[])?;
        return Ok(image);
    }
    params.finish(&format!("{name}: load"), &[])?;
    let Opened {
        layout,
        reader,
        file_len,
        end,
    } = open_header(path, &name, &options.limits)?;
    let seekable = file_len.is_some();
    if seekable && options.access == AccessMode::Random {
        source::mapped(&layout, reader.get_ref(), end, &name)
    } else {
        source::streaming(&layout, reader, seekable, &name)
    }
}

/// The codec formats recognised by their first bytes, before the PPM/raw
/// parser takes over: TIFF (`II*\0`, `MM\0*`, BigTIFF `II+\0`, `MM\0+`),
/// PNG and JPEG. `None` for anything else (including unreadable files,
/// which the PPM/raw path reports, and anything but a regular file: reading
/// a pipe's first bytes here would take them from the PPM parser).
fn sniff_codec(path: &Path, _name: &str) -> Result<Option<FileFormat>> {
    use std::io::Read;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Ok(None);
    }
    let Ok(mut file) = File::open(path) else {
        return Ok(None);
    };
    let mut magic = [0u8; 8];
    let mut got = 0;
    while got < magic.len() {
        match file.read(&mut magic[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    let m = &magic[..got];
    Ok(
        if m.starts_with(b"II*\0")
            || m.starts_with(b"MM\0*")
            || m.starts_with(b"II+\0")
            || m.starts_with(b"MM\0+")
        {
            Some(FileFormat::Tiff)
        } else if m.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileFormat::Png)
        } else if m.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileFormat::Jpeg)
        } else {
            None
        },
    )
}

/// The format and header of an image file, read and checked like [`open`]
/// with default options, without reading pixels.
pub fn describe(path: impl AsRef<Path>) -> Result<FileInfo> {
    let path = path.as_ref();
    let name = path.display().to_string();
    if let Some(format) = sniff_codec(path, &name)? {
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
/// * TIFF: the ICC profile as tag 34675 (InterColorProfile); EXIF is not
///   written.
///
/// The option `strip` (`out.jpg[strip]`, any format) writes no metadata
/// at all.
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
    let (path, mut params) = with_brackets(path, &options.params)?;
    let path = path.as_path();
    let name = path.display().to_string();
    let Some(format) = format_for_path(path) else {
        let ext = path
            .extension()
            .map(|e| format!(" `.{}`", e.to_string_lossy()))
            .unwrap_or_default();
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{name}: cannot save as{ext}: supported extensions are {}",
                supported_extensions()
            ),
        ));
    };
    let stripped = Metadata::default();
    let metadata = if params.flag("strip")?.unwrap_or(false) {
        &stripped
    } else {
        metadata
    };
    let writer = match format {
        FileFormat::Tiff => return tiff::writer(path, &name, header, metadata, &mut params),
        FileFormat::Png => return png::writer(path, &name, header, metadata, &mut params),
        FileFormat::Jpeg => return jpeg::writer(path, &name, header, metadata, &mut params),
        FileFormat::Pnm => {
            params.finish(&format!("{name}: ppm save"), &[])?;
            pnm::check_savable(&name, header)?;
            let swap16 = header.format == BandFormat::U16;
            save::FileWriter::create(path, header, &pnm::header_bytes(header), swap16)?
        }
        FileFormat::Raw => {
            params.finish(&format!("{name}: gpx save"), &[])?;
            raw::check_host(&name, header.format)?;
            save::FileWriter::create(path, header, &raw::header_bytes(header), false)?
        }
    };
    Ok(Box::new(writer))
}
