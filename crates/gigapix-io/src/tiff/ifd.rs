//! Reading image file directories through the `tiff` crate's decoder: the
//! pages of a file, the sample layout of a page ([`Samples`]), where its
//! chunks are ([`Chunks`]), and the tags that become metadata.

use std::io::{self, BufReader};
use std::sync::Arc;

use gigapix_core::{BandFormat, Error, ErrorKind, Header, Interpretation, Result};
use tiff::TiffError;
use tiff::decoder::{ChunkType, Decoder, Limits as TiffLimits};
use tiff::tags::Tag;

use super::codec::compression_name;
use super::levels::DirReader;
use super::source::{Palette, PosReader};
use super::ycbcr::YCbCr;
use crate::input::Held;
use crate::jpeg::TileColour;

/// Largest tag value (an array of strip offsets, an ICC profile, ...) the
/// decoder reads: 2 million BigTIFF chunk offsets. The `tiff` crate holds
/// a value as one 32-byte `Value` per element, so this also bounds that
/// list (512 MiB for a tag of bytes).
const MAX_TAG_VALUE: usize = 16 << 20;

/// Bytes of one element of a tag value as the `tiff` crate holds it.
const VALUE_BYTES: usize = std::mem::size_of::<tiff::decoder::ifd::Value>();

/// The InkSet tag (332), which the `tiff` crate does not name.
const INK_SET: u16 = 332;

/// Most pages counted; a longer chain of directories is reported as is.
const MAX_PAGES: usize = 100_000;

/// Buffer of each decoder's file reader.
const READ_BUFFER: usize = 64 << 10;

/// The `tiff` crate's decoder over a shared file.
pub(super) type TiffDecoder = Decoder<BufReader<DirReader>>;

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
pub(super) fn decoder(file: &Held, len: u64, name: &str, page: usize) -> Result<TiffDecoder> {
    let reader = DirReader::new(PosReader::new(file.clone(), 0, len));
    let mut dec = decoder_from(reader, len, name)?;
    if page != 0 {
        dec.seek_to_image(page).map_err(|e| tiff_error(name, e))?;
    }
    Ok(dec)
}

/// A decoder over `reader` (of a file of `len` bytes), on its first
/// directory.
pub(super) fn decoder_from(reader: DirReader, len: u64, name: &str) -> Result<TiffDecoder> {
    let mut limits = TiffLimits::default();
    // Chunks are decoded here, not by the crate; what its limits bound is
    // the tag values it reads. A value is stored in the file, so it is
    // never longer than the file, and the crate holds a list as one
    // `Value` per element: a few hundred damaged bytes must not make it
    // reserve a list for a count of millions.
    let value_bytes = MAX_TAG_VALUE.min(usize::try_from(len).unwrap_or(usize::MAX));
    let max_alloc = gigapix_core::Limits::default().max_alloc_usize();
    limits.ifd_value_size = value_bytes;
    limits.decoding_buffer_size = max_alloc.min(value_bytes.saturating_mul(VALUE_BYTES));
    limits.intermediate_buffer_size = limits.decoding_buffer_size;
    Decoder::new(BufReader::with_capacity(READ_BUFFER, reader))
        .map_err(|e| tiff_error(name, e))
        .map(|dec| dec.with_limits(limits))
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
    /// PhotometricInterpretation 0: samples are inverted (the first band
    /// only, for grey with extra samples).
    pub(super) white_is_zero: bool,
    /// The band holding associated (premultiplied) alpha, to divide the
    /// colour bands by.
    pub(super) associated_alpha: Option<usize>,
    /// FillOrder 2: the bits of every stored byte are in reverse order.
    pub(super) reversed_bits: bool,
    /// JPEG compression (7): the tables and what the chunks hold.
    pub(super) jpeg: Option<JpegChunks>,
    /// The interpretation of the bands, when not the one their count
    /// suggests (CMYK).
    pub(super) interpretation: Option<Interpretation>,
    /// YCbCr samples not JPEG-compressed: data units to unpack and
    /// convert to RGB.
    pub(super) ycbcr: Option<YCbCr>,
    /// 8-bit CIELab (L unsigned, a and b signed), given as `F32` Lab.
    pub(super) lab8: bool,
}

/// How JPEG-compressed chunks (TIFF compression 7) decode.
pub(super) struct JpegChunks {
    /// The JPEGTables (347) stream, empty when absent (every chunk then
    /// carries its own tables).
    pub(super) tables: Arc<[u8]>,
    /// The colour space the TIFF says the chunks hold.
    pub(super) colour: TileColour,
}

impl Samples {
    /// Reads the sample layout of the decoder's current page.
    pub(super) fn read(dec: &mut TiffDecoder, name: &str) -> Result<Samples> {
        let err = |e| tiff_error(name, e);
        let compression: u16 = dec
            .find_tag_unsigned(Tag::Compression)
            .map_err(err)?
            .unwrap_or(1);
        if matches!(compression, 2..=4) {
            return Err(unsupported(
                name,
                format!(
                    "CCITT bilevel compression ({}, compression {compression}) is not supported: \
                     convert with `tiffcp -c none` (1-bit samples are read)",
                    compression_name(compression)
                ),
            ));
        }
        if compression == 6 {
            return Err(unsupported(
                name,
                "old-style JPEG (compression 6) is not supported: convert with `tiffcp -c jpeg`"
                    .to_string(),
            ));
        }
        if !matches!(compression, 1 | 5 | 7 | 8 | 32946 | 32773) {
            return Err(unsupported(
                name,
                format!(
                    "TIFF compression {} is not supported (none, lzw, deflate, packbits and jpeg are)",
                    compression_name(compression)
                ),
            ));
        }
        let (width, height) = dec.dimensions().map_err(err)?;
        let photometric: u16 = dec
            .find_tag_unsigned(Tag::PhotometricInterpretation)
            .map_err(err)?
            .unwrap_or(1);
        let bits: Vec<u16> = dec
            .find_tag_unsigned_vec(Tag::BitsPerSample)
            .map_err(err)?
            .unwrap_or_else(|| vec![1]);
        let samples: u16 = dec
            .find_tag_unsigned(Tag::SamplesPerPixel)
            .map_err(err)?
            .unwrap_or(1);
        let bits = same_for_all(name, "BitsPerSample", &bits, samples)?;
        let sample_formats: Vec<u16> = dec
            .find_tag_unsigned_vec(Tag::SampleFormat)
            .map_err(err)?
            .unwrap_or_else(|| vec![1]);
        let sample_format = same_for_all(name, "SampleFormat", &sample_formats, samples)?;
        let extra: Vec<u16> = dec
            .find_tag_unsigned_vec(Tag::ExtraSamples)
            .map_err(err)?
            .unwrap_or_default();
        let jpeg = compression == 7;
        let colour_samples: u16 = match photometric {
            0 | 1 | 3 => 1,
            2 => 3,
            5 => {
                // InkSet 1 is CMYK (the default); 2 is other inks.
                let inkset: u16 = dec
                    .find_tag_unsigned(Tag::from_u16_exhaustive(INK_SET))
                    .map_err(err)?
                    .unwrap_or(1);
                if inkset != 1 || samples < 4 {
                    return Err(unsupported(
                        name,
                        format!(
                            "TIFF separated images (PhotometricInterpretation 5) of InkSet {inkset} \
                             with {samples} samples per pixel are not supported (CMYK, InkSet 1 with \
                             4 samples and maybe extra ones, is)"
                        ),
                    ));
                }
                4
            }
            6 | 8 => 3,
            p => {
                return Err(unsupported(
                    name,
                    format!(
                        "TIFF PhotometricInterpretation {p} ({}) is not supported{} \
                         (0 WhiteIsZero, 1 BlackIsZero, 2 RGB, 3 palette, 5 CMYK, 6 YCbCr and 8 CIELab are)",
                        photometric_name(p),
                        if jpeg { " with JPEG compression" } else { "" }
                    ),
                ));
            }
        };
        if samples < colour_samples || (photometric == 3 && samples != 1) {
            return Err(unsupported(
                name,
                format!(
                    "TIFF PhotometricInterpretation {photometric} ({}) with {samples} samples per pixel is not supported",
                    photometric_name(photometric)
                ),
            ));
        }
        // ExtraSamples describes the samples after the colour ones: 0
        // unspecified, 1 associated (premultiplied) alpha, 2 unassociated
        // alpha. Only the first may be associated alpha (it is then
        // un-premultiplied); a list longer than the samples is damage.
        if extra.len() > usize::from(samples - colour_samples) || extra.iter().any(|&e| e > 2) {
            return Err(unsupported(
                name,
                format!(
                    "TIFF ExtraSamples {extra:?} does not fit {samples} samples per pixel of \
                     PhotometricInterpretation {photometric} (values 0, 1 and 2 for the samples after the colour ones)"
                ),
            ));
        }
        if extra.iter().skip(1).any(|&e| e == 1) {
            return Err(unsupported(
                name,
                format!(
                    "TIFF ExtraSamples {extra:?}: associated alpha is supported as the first extra sample only"
                ),
            ));
        }
        let associated_alpha = (extra.first() == Some(&1)).then_some(usize::from(colour_samples));
        let fill_order: u16 = dec
            .find_tag_unsigned(Tag::FillOrder)
            .map_err(err)?
            .unwrap_or(1);
        if !matches!(fill_order, 1 | 2) {
            return Err(unsupported(
                name,
                format!("TIFF FillOrder {fill_order} is not supported (1 and 2 are)"),
            ));
        }
        let (bands, bits, palette) = match (photometric, bits) {
            (3, b @ (1 | 2 | 4 | 8)) => (3, 8, Some(read_palette(dec, name, b as u8)?)),
            (3, b) => {
                return Err(unsupported(
                    name,
                    format!(
                        "TIFF palette images of BitsPerSample {b} are not supported (1, 2, 4 and 8 are)"
                    ),
                ));
            }
            (0 | 1, b @ (1 | 2 | 4)) if samples == 1 && sample_format == 1 => {
                (1, 8, Some(Palette::grey(b as u8, photometric == 0)))
            }
            (p, b @ (1 | 2 | 4)) => {
                return Err(unsupported(
                    name,
                    format!(
                        "TIFF {b}-bit samples are read for one-sample grey and palette images only, \
                         not for PhotometricInterpretation {p} ({}) with {samples} samples per pixel",
                        photometric_name(p)
                    ),
                ));
            }
            (_, b) if b <= 64 => (u32::from(samples), b as u8, None),
            (_, b) => {
                return Err(unsupported(
                    name,
                    format!("TIFF BitsPerSample {b} is not supported"),
                ));
            }
        };
        // 8-bit CIELab stores a and b signed whatever SampleFormat says;
        // it becomes f32 Lab. Float CIELab is Lab as it is.
        let lab8 = photometric == 8 && bits == 8;
        let format = if lab8 {
            if samples != 3 || planar_tag(dec, name)? != 1 || predictor_tag(dec, name)? != 1 {
                return Err(unsupported(
                    name,
                    format!(
                        "TIFF 8-bit CIELab with {samples} samples per pixel, separate planes or a predictor is not supported (3 interleaved samples, no predictor are)"
                    ),
                ));
            }
            BandFormat::F32
        } else {
            band_format(name, bits, sample_format)?
        };
        if photometric == 8 && !lab8 && !format.is_float() {
            return Err(unsupported(
                name,
                format!(
                    "TIFF CIELab with {bits}-bit samples is not supported (8-bit and float are)"
                ),
            ));
        }
        if photometric == 0 && palette.is_none() && format.is_signed() && !format.is_float() {
            return Err(unsupported(
                name,
                format!(
                    "TIFF WhiteIsZero (PhotometricInterpretation 0) with {format} samples is not supported"
                ),
            ));
        }
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
                format!(
                    "TIFF Predictor {predictor} with {}-bit samples is not supported",
                    palette.as_ref().map_or(8, |p| p.bits)
                ),
            ));
        }
        if !matches!(predictor, 1..=3) || (predictor == 3 && !format.is_float()) {
            return Err(unsupported(
                name,
                format!("TIFF Predictor {predictor} with {format} samples is not supported"),
            ));
        }
        if !matches!(planar, 1 | 2) {
            return Err(unsupported(
                name,
                format!("TIFF PlanarConfiguration {planar} is not supported (1 and 2 are)"),
            ));
        }
        let ycbcr = if photometric == 6 && !jpeg {
            Some(read_ycbcr(
                dec,
                name,
                &JpegLayout {
                    samples,
                    format,
                    planar,
                    predictor,
                    extra: extra.len(),
                },
            )?)
        } else {
            None
        };
        let jpeg = if jpeg {
            Some(read_jpeg(
                dec,
                name,
                photometric,
                &JpegLayout {
                    samples,
                    format,
                    planar,
                    predictor,
                    extra: extra.len(),
                },
            )?)
        } else {
            None
        };
        Ok(Samples {
            compression,
            width,
            height,
            bands,
            format,
            palette,
            planar: planar == 2 && bands > 1,
            predictor,
            white_is_zero: photometric == 0,
            associated_alpha,
            reversed_bits: fill_order == 2,
            jpeg,
            interpretation: match photometric {
                5 => Some(Interpretation::Cmyk),
                8 => Some(Interpretation::Lab),
                _ => None,
            },
            ycbcr,
            lab8,
        })
    }
}

/// The sample layout of a JPEG-compressed page, as the directory states
/// it.
struct JpegLayout {
    samples: u16,
    format: BandFormat,
    planar: u16,
    predictor: u16,
    extra: usize,
}

/// PlanarConfiguration (284), 1 when absent.
fn planar_tag(dec: &mut TiffDecoder, name: &str) -> Result<u16> {
    Ok(dec
        .find_tag_unsigned(Tag::PlanarConfiguration)
        .map_err(|e| tiff_error(name, e))?
        .unwrap_or(1))
}

/// Predictor (317), 1 when absent.
fn predictor_tag(dec: &mut TiffDecoder, name: &str) -> Result<u16> {
    Ok(dec
        .find_tag_unsigned(Tag::Predictor)
        .map_err(|e| tiff_error(name, e))?
        .unwrap_or(1))
}

/// YCbCrSubSampling (530), checked: 1, 2 or 4 across, at most as many
/// down; 2x2 when absent.
fn subsampling(dec: &mut TiffDecoder, name: &str) -> Result<(u16, u16)> {
    let sub: Vec<u16> = dec
        .find_tag_unsigned_vec(Tag::ChromaSubsampling)
        .map_err(|e| tiff_error(name, e))?
        .unwrap_or_else(|| vec![2, 2]);
    match sub[..] {
        [h @ (1 | 2 | 4), v @ (1 | 2 | 4)] if v <= h => Ok((h, v)),
        _ => Err(unsupported(
            name,
            format!(
                "TIFF YCbCrSubSampling {sub:?} is not supported (1, 2 or 4 across, at most as many down)"
            ),
        )),
    }
}

/// The values of a tag of rationals (or other numbers), if present and
/// of `n` values.
fn numbers(dec: &mut TiffDecoder, tag: u16, n: usize) -> Option<Vec<f32>> {
    use tiff::decoder::ifd::Value;
    let value = dec.find_tag(Tag::from_u16_exhaustive(tag)).ok()??;
    let list = match value {
        Value::List(list) => list,
        one => vec![one],
    };
    let out: Option<Vec<f32>> = list
        .into_iter()
        .map(|v| match v {
            Value::Rational(a, b) if b != 0 => Some(a as f32 / b as f32),
            Value::SRational(a, b) if b != 0 => Some(a as f32 / b as f32),
            Value::Float(f) => Some(f),
            Value::Double(f) => Some(f as f32),
            Value::Short(s) => Some(f32::from(s)),
            Value::Unsigned(u) => Some(u as f32),
            _ => None,
        })
        .collect();
    out.filter(|v| v.len() == n && v.iter().all(|x| x.is_finite()))
}

/// Checks a YCbCr page that is not JPEG-compressed and reads how its
/// samples become RGB: 8-bit, 3 samples, interleaved, no predictor;
/// YCbCrCoefficients (529, default 0.299, 0.587, 0.114) and
/// ReferenceBlackWhite (532, default 0 255 128 255 128 255).
fn read_ycbcr(dec: &mut TiffDecoder, name: &str, layout: &JpegLayout) -> Result<YCbCr> {
    if layout.format != BandFormat::U8
        || layout.samples != 3
        || layout.planar != 1
        || layout.predictor != 1
    {
        return Err(unsupported(
            name,
            format!(
                "TIFF YCbCr with {} samples, {} per pixel, PlanarConfiguration {} and Predictor {} is not supported \
                 (8-bit, 3 samples, contiguous, no predictor are)",
                layout.format, layout.samples, layout.planar, layout.predictor
            ),
        ));
    }
    let (h, v) = subsampling(dec, name)?;
    let luma = numbers(dec, 529, 3).unwrap_or_else(|| vec![0.299, 0.587, 0.114]);
    let reference =
        numbers(dec, 532, 6).unwrap_or_else(|| vec![0.0, 255.0, 128.0, 255.0, 128.0, 255.0]);
    Ok(YCbCr::new(
        usize::from(h),
        usize::from(v),
        [luma[0], luma[1], luma[2]],
        [
            reference[0],
            reference[1],
            reference[2],
            reference[3],
            reference[4],
            reference[5],
        ],
    ))
}

/// Checks a JPEG-compressed page (compression 7) and reads its tables:
/// 8-bit grey (PhotometricInterpretation 1, or 0 inverted after decoding), RGB (2) or
/// YCbCr (6, chroma subsampled as YCbCrSubSampling says, checked against
/// every chunk's sampling factors), interleaved, no predictor.
fn read_jpeg(
    dec: &mut TiffDecoder,
    name: &str,
    photometric: u16,
    layout: &JpegLayout,
) -> Result<JpegChunks> {
    let err = |e| tiff_error(name, e);
    let colour = match (photometric, layout.samples) {
        (0 | 1, 1) => TileColour::Grey,
        (2, 3) => TileColour::Rgb,
        (6, 3) => {
            let (h, v) = subsampling(dec, name)?;
            TileColour::YCbCr(h as u8, v as u8)
        }
        (p, n) => {
            return Err(unsupported(
                name,
                format!(
                    "JPEG-compressed TIFF with PhotometricInterpretation {p} ({}) and {n} samples per pixel is not supported \
                     (1-sample grey, 3-sample RGB and YCbCr are)",
                    photometric_name(p)
                ),
            ));
        }
    };
    if layout.format != BandFormat::U8 || layout.extra != 0 {
        return Err(unsupported(
            name,
            format!(
                "JPEG-compressed TIFF with {} samples{} is not supported (8-bit, no extra samples)",
                layout.format,
                if layout.extra != 0 {
                    " and extra samples"
                } else {
                    ""
                }
            ),
        ));
    }
    if layout.planar != 1 || layout.predictor != 1 {
        return Err(unsupported(
            name,
            format!(
                "JPEG-compressed TIFF with PlanarConfiguration {} and Predictor {} is not supported (1 and 1 are)",
                layout.planar, layout.predictor
            ),
        ));
    }
    let tables = match dec.find_tag(Tag::JPEGTables).map_err(err)? {
        Some(value) => value.into_u8_vec().map_err(err)?,
        None => Vec::new(),
    };
    Ok(JpegChunks {
        tables: tables.into(),
        colour,
    })
}

/// An [`ErrorKind::Unsupported`] error about file `name`.
pub(super) fn unsupported(name: &str, msg: String) -> Error {
    Error::new(ErrorKind::Unsupported, format!("{name}: {msg}"))
}

/// The one value of a per-sample tag (BitsPerSample, SampleFormat):
/// files giving each sample its own must give them all the same.
fn same_for_all(name: &str, tag: &str, values: &[u16], samples: u16) -> Result<u16> {
    match values {
        [] => Err(Error::format(format!("{name}: bad TIFF: an empty {tag}"))),
        [first, ..] if values.iter().all(|v| v == first) => Ok(*first),
        _ => Err(unsupported(
            name,
            format!(
                "TIFF {tag} {values:?} is not supported: the {samples} samples of a pixel must all have the same"
            ),
        )),
    }
}

/// The name of a PhotometricInterpretation code.
fn photometric_name(code: u16) -> &'static str {
    match code {
        0 => "WhiteIsZero",
        1 => "BlackIsZero",
        2 => "RGB",
        3 => "palette",
        4 => "transparency mask",
        5 => "separated (CMYK)",
        6 => "YCbCr",
        8 => "CIELab",
        9 => "ICCLab",
        10 => "ITULab",
        32803 => "colour filter array",
        32844 => "LogL",
        32845 => "LogLuv",
        34892 => "LinearRaw",
        _ => "unknown",
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
        .flat_map(|i| [map[i], map[n + i], map[2 * n + i]].map(|v| (v >> 8) as u8))
        .collect();
    Ok(Palette {
        bits,
        bands: 3,
        colours,
    })
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
