//! Images in memory and streams: pixels from a caller's buffer
//! ([`from_memory`]), files decoded from bytes or readers ([`decode`],
//! [`open_reader`]) and saves into writers ([`writer_to`],
//! [`writer_to_seekable`]).
//!
//! Memory is shared, never copied, where the engine's bytes are the
//! buffer's: [`from_memory`], and [`decode`] of a raw `.gpx` or 8-bit
//! PPM/PGM, serve regions as views of the caller's buffer, which the image
//! keeps alive (it holds the owner) for as long as it, or any region of
//! it, exists. PNG, JPEG, TIFF, WebP and GIF decode from the bytes
//! themselves, which the image holds in place of a file: the input is not
//! written to a temporary file. (An Adam7 PNG too large to keep its
//! decoded passes in memory spills them to an unnamed temporary file, from
//! bytes as from a file.) A TIFF of uncompressed strips one after the
//! other serves its regions as views of the bytes, as it does of a file's
//! memory map.

use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::sync::Arc;

use gigapix_core::{
    BandFormat, BandWriter, Error, ErrorKind, Header, Image, Metadata, Result, SharedPixels,
};

use crate::input::{Input, Shared};
use crate::save::{Dest, Stream};
use crate::scan::Scan;
use crate::source::{Encoding, Layout};
use crate::{FileFormat, OpenOptions, SaveOptions, formats};

/// Owner of the bytes behind an image in memory: any `AsRef<[u8]>`
/// (`Vec<u8>`, `Arc<[u8]>`, `Box<[u8]>`, `&'static [u8]`, ...).
struct Owner<T>(T);

impl<T: AsRef<[u8]> + Send + Sync + 'static> SharedPixels for Owner<T> {
    fn bytes(&self) -> &[u8] {
        self.0.as_ref()
    }
}

/// An image over `data`, packed rows of `width × height` pixels of `bands`
/// samples of `format` in native byte order, without a copy: every region
/// is a view of `data`, which the image owns (share it with an `Arc` to
/// keep a handle).
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`] if `data` is not exactly `width ×
/// height × bands × size` bytes long, if a dimension is zero, or if
/// `data` is not aligned to the sample size.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use gigapix_core::{BandFormat, Ctx, Rect};
///
/// let pixels: Arc<[u8]> = (0..12u8).collect::<Vec<_>>().into();
/// let image = gigapix_io::from_memory(pixels.clone(), 4, 3, 1, BandFormat::U8)?;
/// let region = Ctx::standalone().region(&image, Rect::new(1, 1, 2, 2))?;
/// assert!(region.is_view());
/// assert_eq!(region.row::<u8>(1), &[5, 6]);
/// # Ok::<(), gigapix_core::Error>(())
/// ```
pub fn from_memory<T: AsRef<[u8]> + Send + Sync + 'static>(
    data: T,
    width: u32,
    height: u32,
    bands: u32,
    format: BandFormat,
) -> Result<Image> {
    let name = "memory";
    let header = Header::new(width, height, bands, format);
    let need = u128::from(width) * u128::from(height) * u128::from(bands) * format.size() as u128;
    let len = data.as_ref().len();
    if width == 0 || height == 0 || bands == 0 {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: image has zero size ({width}x{height}, {bands} bands)"),
        ));
    }
    if len as u128 != need {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: buffer of {len} bytes does not hold {width}x{height} pixels of {bands} {format} bands ({need} bytes)"
            ),
        ));
    }
    let layout = Layout {
        format: FileFormat::Raw,
        variant: "memory",
        header,
        data_offset: 0,
        encoding: Encoding::Native,
        maxval: None,
    };
    let pixels: Arc<dyn SharedPixels> = Arc::new(Owner(data));
    crate::source::memory(
        &layout,
        pixels,
        need as u64,
        "memload",
        name,
        Default::default(),
    )
}

/// Decodes an image file held in memory (`bytes` owned or shared: a
/// `Vec<u8>`, an `Arc<[u8]>`, ...), the format found from its first bytes
/// as [`open`](crate::open) does, with the load options of `options` (as
/// in brackets after a file name).
///
/// Raw `.gpx` and PPM/PGM images are views of `bytes` (8-bit and raw with
/// no copy, 16-bit PPM byte-swapped per region). PNG, JPEG, TIFF, WebP and
/// GIF decode from `bytes`, read in place of a file (no temporary file is
/// written); a TIFF of contiguous uncompressed strips is a view of `bytes`
/// as of a mapped file.
///
/// # Errors
///
/// As [`open`](crate::open): a damaged or unknown file is an
/// [`ErrorKind::Format`] error.
///
/// # Example
///
/// ```
/// use gigapix_core::{Ctx, Rect};
///
/// let pgm = b"P5\n2 2\n255\n\x01\x02\x03\x04".to_vec();
/// let image = gigapix_io::decode(pgm, &gigapix_io::OpenOptions::default())?;
/// let region = Ctx::standalone().region(&image, Rect::new(0, 1, 2, 1))?;
/// assert_eq!(region.row::<u8>(1), &[3, 4]);
/// # Ok::<(), gigapix_core::Error>(())
/// ```
pub fn decode<T: AsRef<[u8]> + Send + Sync + 'static>(
    bytes: T,
    options: &OpenOptions,
) -> Result<Image> {
    decode_named(Arc::new(Owner(bytes)), "buffer", options)
}

/// Reads an image from `reader` as [`decode`] does (the whole input, at
/// most `options.limits.max_alloc` bytes, is read into memory first).
pub fn open_reader<R: Read + Seek + Send + 'static>(
    reader: R,
    options: &OpenOptions,
) -> Result<Image> {
    let name = "reader";
    let bytes = crate::source::read_whole(reader, name, "an image", &options.limits)?;
    decode_named(bytes.0, name, options)
}

/// Reads a whole non-seekable input (a pipe) and decodes it as
/// [`decode`] does: at most `options.limits.max_alloc` bytes.
pub fn read_stream<R: Read>(reader: R, name: &str, options: &OpenOptions) -> Result<Image> {
    let max = options.limits.max_alloc;
    let mut bytes = Vec::new();
    reader
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(name, e))?;
    if bytes.len() as u64 > max {
        return Err(Error::new(
            ErrorKind::Limit,
            format!("{name}: input is over the loader's limit (max_alloc {max})"),
        ));
    }
    decode_named(Arc::new(Owner(bytes)), name, options)
}

fn decode_named(pixels: Arc<dyn SharedPixels>, name: &str, options: &OpenOptions) -> Result<Image> {
    let bytes = pixels.bytes();
    if bytes.is_empty() {
        return Err(Error::format(format!("{name}: input is empty")));
    }
    let desc = formats::identify(bytes).filter(|d| d.load);
    let Some(format) = desc.and_then(|d| d.format) else {
        let shown = &bytes[..bytes.len().min(8)];
        return Err(crate::unknown(name, formats::identify(bytes), shown));
    };
    let (options, args) = crate::load_args(name, format, options, &options.params)?;
    match format {
        FileFormat::Pnm | FileFormat::Raw => {
            let mut scan = Scan::new(bytes, name);
            let layout = crate::sniff(&mut scan)?;
            let end = layout.validate(name, &options.limits, Some(bytes.len() as u64))?;
            let loader = layout.format.loader_name();
            crate::source::memory(
                &layout,
                pixels.clone(),
                end,
                loader,
                name,
                Default::default(),
            )
        }
        FileFormat::Webp => crate::webp::open_bytes(Shared(pixels), name, &options, &args),
        FileFormat::Gif => crate::gif::open_bytes(Shared(pixels), name, &options, &args),
        FileFormat::Tiff => crate::tiff::open(&Input::bytes(pixels), name, &options, &args),
        FileFormat::Png => crate::png::open(&Input::bytes(pixels), name, &options, &args),
        _ => crate::jpeg::open(&Input::bytes(pixels), name, &options, &args),
    }
}

/// The made-up name of a stream written as `suffix` (`.jpg[Q=85]`):
/// `<writer>.jpg[Q=85]`, whose extension picks the format.
fn stream_name(suffix: &str) -> Result<PathBuf> {
    let suffix = suffix.trim();
    if !suffix.starts_with('.') {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "`{suffix}`: a stream's format is a suffix such as `.png` or `.jpg[Q=85]`, starting with a dot"
            ),
        ));
    }
    Ok(PathBuf::from(format!("<writer>{suffix}")))
}

fn stream_writer(
    stream: Stream,
    suffix: &str,
    header: &Header,
    metadata: &Metadata,
    options: &SaveOptions,
) -> Result<Box<dyn BandWriter>> {
    let path = stream_name(suffix)?;
    let (target, name, format, args) = crate::save_target(&path, header, options)?;
    let plain = matches!(stream, Stream::Plain(_));
    match format {
        FileFormat::DeepZoom => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("{name}: a tile pyramid is many files; it cannot go to a stream"),
            ));
        }
        FileFormat::Tiff if plain => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{name}: TIFF is written with seeks; the output cannot seek (save to a file, or use a seekable writer)"
                ),
            ));
        }
        _ => {}
    }
    crate::writer_dest(
        &Dest::stream(target, stream),
        name,
        format,
        args,
        header,
        metadata,
    )
}

/// A [`BandWriter`] encoding an image of `header` into `out`, in the
/// format of `suffix` (`.png`, `.jpg[Q=85]`: the extension and bracket
/// options of a file name, merged over `options`), byte for byte what
/// [`writer`](crate::writer) would put in the file. One-pass formats
/// only (PNG, JPEG, PPM/PGM, raw, WebP, GIF); TIFF needs
/// [`writer_to_seekable`]. An error from `out` ends the save with that
/// error; what reached `out` before stays there.
pub fn writer_to<W: Write + Send + 'static>(
    out: W,
    suffix: &str,
    header: &Header,
    metadata: &Metadata,
    options: &SaveOptions,
) -> Result<Box<dyn BandWriter>> {
    stream_writer(
        Stream::Plain(Box::new(out)),
        suffix,
        header,
        metadata,
        options,
    )
}

/// [`writer_to`] into a writer that can seek: every format, TIFF too.
pub fn writer_to_seekable<W: Write + Seek + Send + 'static>(
    out: W,
    suffix: &str,
    header: &Header,
    metadata: &Metadata,
    options: &SaveOptions,
) -> Result<Box<dyn BandWriter>> {
    stream_writer(
        Stream::Seekable(Box::new(out)),
        suffix,
        header,
        metadata,
        options,
    )
}
