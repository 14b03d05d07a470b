//! Reading image file directories through the `tiff` crate's decoder: the
//! pages of a file, the sample layout of a page ([`Samples`]), where its
//! chunks are ([`Chunks`]), and the tags that become metadata.

use std::fs::File;
use std::io::{self, BufReader};
use std::sync::Arc;

use gigapix_core::{BandFormat, Error, ErrorKind, Header, Result};
use tiff::decoder::{ChunkType, Decoder, Limits as TiffLimits};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError};

use super::codec::compression_name;
use super::source::{Palette, PosReader};

/// Largest tag value (an array of strip offsets, ...) the decoder reads.
const MAX_TAG_VALUE: usize = 64 << 20;

/// Most pages counted; a longer chain of directories is reported as is.
const MAX_PAGES: usize = 100_000;

/// Buffer of each decoder's file reader.
const READ_BUFFER: usize = 64 << 10;

/// The `tiff` crate's decoder over a shared file.
pub(super) type TiffDecoder = Decoder<BufReader<PosReader>>;

/// Turns a `tiff` crate error into ours, naming the file.
pub(super) fn tiff_error(name: &str, e: TiffError) -> Error {
    match e {
        TiffError::UnsupportedError(u) => Error::new(
            ErrorKind::Unsupported,
            format!("{name}: unsupported TIFF: {u}"),
        ),
        TiffError::LimitsExceeded => Error::new(
            ErrorKind::Limit,
            format!("{name}: TIFF decoder limits exceeded"),
        ),
        TiffError::IoError(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            Error::format(format!("{name}: file is truncated ({io})"))
        }
        TiffError::IoError(io)
            if matches!(
                io.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::Other
            ) =>
        {
            Error::format(format!("{name}: damaged TIFF data: {io}"))
        }
        TiffError::IoError(io) => Error::io(name, io),
        other => Error::format(format!("{name}: bad TIFF: {other}")),
    }
}

/// A decoder over `file`, positioned on directory `page`.
pub(super) fn decoder(file: &Arc<File>, len: u64, name: &str, page: usize) -> Result<TiffDecoder> {
    let reader = PosReader::new(file.clone(), 0, len);
    let mut limits = TiffLimits::default();
    let max_alloc = gigapix_core::Limits::default().max_alloc_usize();
    limits.decoding_buffer_size = max_alloc;
    limits.intermediate_buffer_size = max_alloc;
    limits.ifd_value_size = MAX_TAG_VALUE;
    let mut dec = Decoder::new(BufReader::with_capacity(READ_BUFFER, reader))
        .map_err(|e| tiff_error(name, e))?
        .with_limits(limits);
    if page != 0 {
        dec.seek_to_image(page).map_err(|e| tiff_error(name, e))?;
    }
    Ok(dec)
}

/// Counts the pages from the decoder's current one on (the first, for a
/// new decoder), stopping at [`MAX_PAGES`] or at a directory that cannot
/// be read.
pub(super) fn count_pages(dec: &mut TiffDecoder) -> usize {
    let mut pages = 1;
    while dec.more_images() && pages < MAX_PAGES {
        if dec.next_image().is_err() {
            break;
        }
        pages += 1;
    }
    pages
}

/// How a page stores its samples, read from its directory and checked:
/// what cannot become a gigapix image is an error here.
pub(super) struct Samples {
    /// The TIFF compression code (none, LZW, deflate or PackBits).
    pub(super) compression: u16,
    /// PhotometricInterpretation (0 WhiteIsZero, 1 BlackIsZero, 2 RGB, 3
    /// palette, ...).
    pub(super) photometric: u16,
    pub(super) width: u32,
    pub(super) height: u32,
    /// Bands of the image (3 for palette images, expanded to RGB).
    pub(super) bands: u32,
    pub(super) format: BandFormat,
    /// The palette of a palette image.
    pub(super) palette: Option<Palette>,
    /// Bands are stored in separate planes.
    pub(super) planar: bool,
    /// The predictor code (1 none, 2 horizontal, 3 floating point).
    pub(super) predictor: u16,
}

impl Samples {
    /// Reads the sample layout of the decoder's current page.
    pub(super) fn read(dec: &mut TiffDecoder, name: &str) -> Result<Samples> {
        let err = |e| tiff_error(name, e);
        let compression: u16 = dec
            .find_tag_unsigned(Tag::Compression)
            .map_err(err)?
            .unwrap_or(1);
        if !matches!(compression, 1 | 5 | 8 | 32946 | 32773) {
            return Err(unsupported(
                name,
                format!(
                    "TIFF compression {} is not supported (none, lzw, deflate and packbits are)",
                    compression_name(compression)
                ),
            ));
        }
        let (width, height) = dec.dimensions().map_err(err)?;
        let photometric: u16 = dec
            .find_tag_unsigned(Tag::PhotometricInterpretation)
            .map_err(err)?
            .unwrap_or(1);
        let color = color_type(dec, name, photometric)?;
        let (bands, bits, palette) = match color {
            ColorType::Palette(b @ (1 | 2 | 4 | 8)) => (3, 8, Some(read_palette(dec, name, b)?)),
            ColorType::Gray(b) => (1, b, None),
            ColorType::GrayA(b) => (2, b, None),
            ColorType::RGB(b) => (3, b, None),
            ColorType::RGBA(b) => (4, b, None),
            ColorType::Multiband {
                bit_depth,
                num_samples,
            } => (u32::from(num_samples), bit_depth, None),
            other => {
                return Err(unsupported(
                    name,
                    format!(
                        "TIFF colour type {other:?} is not supported (grey, RGB, with or without alpha, and multiband are)"
                    ),
                ));
            }
        };
        let sample_format: u16 = dec
            .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)
            .map_err(err)?
            .and_then(|v| v.first().copied())
            .unwrap_or(1);
        let format = band_format(name, bits, sample_format)?;
        let planar: u16 = dec
            .find_tag_unsigned(Tag::PlanarConfiguration)
            .map_err(err)?
            .unwrap_or(1);
        let predictor: u16 = dec
            .find_tag_unsigned(Tag::Predictor)
            .map_err(err)?
            .unwrap_or(1);
        if palette.is_some() && predictor != 1 {
            return Err(unsupported(
                name,
                "palette images with a predictor are not supported".into(),
            ));
        }
        Ok(Samples {
            compression,
            photometric,
            width,
            height,
            bands,
            format,
            palette,
            planar: planar == 2 && bands > 1,
            predictor,
        })
    }
}

/// An [`ErrorKind::Unsupported`] error about file `name`.
pub(super) fn unsupported(name: &str, msg: String) -> Error {
    Error::new(ErrorKind::Unsupported, format!("{name}: {msg}"))
}

/// The colour type of the current page. The `tiff` crate does not
/// describe palette images: their bits per sample are read here.
fn color_type(dec: &mut TiffDecoder, name: &str, photometric: u16) -> Result<ColorType> {
    let err = |e| tiff_error(name, e);
    if photometric != 3 {
        return dec.colortype().map_err(err);
    }
    let bits: Vec<u8> = dec
        .find_tag_unsigned_vec(Tag::BitsPerSample)
        .map_err(err)?
        .unwrap_or_else(|| vec![1]);
    let samples: u16 = dec
        .find_tag_unsigned(Tag::SamplesPerPixel)
        .map_err(err)?
        .unwrap_or(1);
    match (bits.as_slice(), samples) {
        (&[b], 1) => Ok(ColorType::Palette(b)),
        _ => Err(unsupported(
            name,
            format!("palette images of {samples} samples of {bits:?} bits are not supported"),
        )),
    }
}

/// The colour map of a palette image of `bits`-bit indices, as 8-bit RGB:
/// the map holds 2^bits red values, then green, then blue, 16 bits each
/// (their high bytes are kept, as libvips does).
fn read_palette(dec: &mut TiffDecoder, name: &str, bits: u8) -> Result<Palette> {
    let map: Vec<u16> = dec
        .get_tag_u16_vec(Tag::ColorMap)
        .map_err(|e| tiff_error(name, e))?;
    let n = 1usize << bits;
    if map.len() < 3 * n {
        return Err(Error::format(format!(
            "{name}: bad TIFF: a colour map of {} entries for {bits}-bit indices",
            map.len()
        )));
    }
    let colours = (0..n)
        .map(|i| [map[i], map[n + i], map[2 * n + i]].map(|v| (v >> 8) as u8))
        .collect();
    Ok(Palette { bits, colours })
}

/// The band format of samples of `bits` bits of TIFF SampleFormat
/// `sample_format` (1 unsigned integer, 2 signed integer, 3 IEEE float).
pub(super) fn band_format(name: &str, bits: u8, sample_format: u16) -> Result<BandFormat> {
    Ok(match (bits, sample_format) {
        (8, 1) => BandFormat::U8,
        (16, 1) => BandFormat::U16,
        (32, 1) => BandFormat::U32,
        (8, 2) => BandFormat::I8,
        (16, 2) => BandFormat::I16,
        (32, 2) => BandFormat::I32,
        (32, 3) => BandFormat::F32,
        (64, 3) => BandFormat::F64,
        _ => {
            let kind = match sample_format {
                1 => "unsigned integer",
                2 => "signed integer",
                3 => "float",
                _ => "unknown-format",
            };
            return Err(unsupported(
                name,
                format!(
                    "{bits}-bit {kind} samples are not supported (8, 16 and 32-bit integers, \
                     signed or not, and 32 and 64-bit floats are)"
                ),
            ));
        }
    })
}

/// The TIFF SampleFormat code of `format`: the inverse of [`band_format`].
pub(super) fn sample_format_code(format: BandFormat) -> u16 {
    if format.is_float() {
        3
    } else if format.is_signed() {
        2
    } else {
        1
    }
}

/// Where a page's chunks (strips or tiles) are.
pub(super) struct Chunks {
    /// Tiles, or strips (full width, `height` rows).
    pub(super) tiled: bool,
    pub(super) width: u32,
    pub(super) height: u32,
    /// Chunks per row of chunks.
    pub(super) across: u32,
    /// File offset and byte count of every chunk, exactly as many as the
    /// image has.
    pub(super) offsets: Vec<u64>,
    pub(super) counts: Vec<u64>,
}

impl Chunks {
    /// What the strips or tiles of the current page are, checked against
    /// `max_alloc` ([`Limits::max_alloc`](gigapix_core::Limits::max_alloc)) and against the number of chunks an image of `header`
    /// (stored in separate planes if `planar`) has.
    pub(super) fn read(
        dec: &mut TiffDecoder,
        name: &str,
        header: &Header,
        planar: bool,
        max_alloc: u64,
    ) -> Result<Chunks> {
        let err = |e| tiff_error(name, e);
        let tiled = dec.get_chunk_type() == ChunkType::Tile;
        let what = if tiled { "tiles" } else { "strips" };
        let (width, height) = if tiled {
            let tw: u32 = dec.get_tag_unsigned(Tag::TileWidth).map_err(err)?;
            let th: u32 = dec.get_tag_unsigned(Tag::TileLength).map_err(err)?;
            (tw, th)
        } else {
            let rps: u32 = dec
                .find_tag_unsigned(Tag::RowsPerStrip)
                .map_err(err)?
                .unwrap_or(u32::MAX);
            (header.width, rps.min(header.height))
        };
        if width == 0 || height == 0 {
            return Err(Error::format(format!(
                "{name}: bad TIFF: {width}x{height} {what}"
            )));
        }
        let chunk_bytes = u64::from(width) * u64::from(height) * header.pixel_bytes() as u64;
        if chunk_bytes > max_alloc {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "{name}: TIFF {what} of {width}x{height} pixels ({chunk_bytes} bytes) are larger than max_alloc ({max_alloc} bytes)"
                ),
            ));
        }
        let across = header.width.div_ceil(width);
        let down = header.height.div_ceil(height);
        // With separate planes, every band has its own set of chunks.
        let planes = if planar { u64::from(header.bands) } else { 1 };
        let chunks = u64::from(across) * u64::from(down) * planes;
        let (offsets_tag, counts_tag) = if tiled {
            (Tag::TileOffsets, Tag::TileByteCounts)
        } else {
            (Tag::StripOffsets, Tag::StripByteCounts)
        };
        let mut offsets = dec.get_tag_u64_vec(offsets_tag).map_err(err)?;
        let mut counts = dec.get_tag_u64_vec(counts_tag).map_err(err)?;
        if (offsets.len() as u64) < chunks || (counts.len() as u64) < chunks {
            return Err(Error::format(format!(
                "{name}: bad TIFF: {} chunk offsets and {} byte counts for {chunks} {what}",
                offsets.len(),
                counts.len(),
            )));
        }
        offsets.truncate(chunks as usize);
        counts.truncate(chunks as usize);
        Ok(Chunks {
            tiled,
            width,
            height,
            across,
            offsets,
            counts,
        })
    }

    /// The first chunk that does not lie wholly inside a file of `len`
    /// bytes, as (index, start, end).
    pub(super) fn first_outside(&self, len: u64) -> Option<(usize, u64, u64)> {
        self.offsets
            .iter()
            .zip(&self.counts)
            .enumerate()
            .find(|(_, (o, c))| o.checked_add(**c).is_none_or(|end| end > len))
            .map(|(i, (&o, &c))| (i, o, o.saturating_add(c)))
    }
}

/// The ICC profile (tag 34675) of the current page, if any; a damaged one
/// is left out rather than failing the open (it describes colour, not the
/// pixels' layout).
pub(super) fn icc_profile(dec: &mut TiffDecoder) -> Option<Vec<u8>> {
    let value = dec.find_tag(Tag::IccProfile).ok()??;
    value.into_u8_vec().ok().filter(|icc| !icc.is_empty())
}

/// The orientation (tag 274) of the current page, as EXIF defines it: 1
/// to 8, or 0 when absent or another value.
pub(super) fn orientation(dec: &mut TiffDecoder) -> u16 {
    match dec.find_tag(Tag::Orientation) {
        Ok(Some(value)) => value.into_u16().ok().filter(|v| (1..=8).contains(v)),
        _ => None,
    }
    .unwrap_or(0)
}
