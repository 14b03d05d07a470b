//! Opening a TIFF: the directory of the chosen page (`page=N`, default 0),
//! or of one of its levels (`level=N`) or, for an Aperio slide, of an
//! associated image (`associated=label`), found by module `levels`,
//! is read (module `ifd`) and checked (sample layout, compression,
//! limits, and unless `fail_on=none` that every chunk lies inside the
//! file), and becomes a [`TiffSource`]. The source is random access
//! whatever [`AccessMode`](crate::AccessMode) asks for.
//!
//! # Tags that change the pixels
//!
//! Every tag that changes how stored samples become pixels is either
//! honoured or makes the open fail with an error naming the tag and its
//! value; none is silently ignored:
//!
//! | tag | |
//! | --- | --- |
//! | Compression (259) | 1 none, 5 LZW, 7 JPEG (8-bit grey, RGB and YCbCr, baseline or progressive, decoded per chunk by the JPEG loader's code), 8 / 32946 deflate, 32773 PackBits honoured; 6 old-style JPEG refused (convert with `tiffcp -c jpeg`); 2, 3, 4 CCITT RLE, group 3 and group 4 refused, naming `tiffcp -c none` (no CCITT decoder is built in: the `fax` crate, 0.2.7, is the candidate, not yet checked against other encoders' files); others (LZMA, zstd, WebP, ...) refused |
//! | PhotometricInterpretation (262) | 0 WhiteIsZero (first band inverted: unsigned max - v, float 1 - v; refused for signed), 1 BlackIsZero, 2 RGB (JPEG chunks: no colour transform, as libtiff's RGB `JPEGCOLORMODE`), 3 palette (expanded to RGB), 5 separated with InkSet 1 (CMYK: 4 bands and any extra samples, interpretation `cmyk`, samples as stored, as libvips) honoured; 6 YCbCr with JPEG compression (converted to RGB by libjpeg-turbo's fixed-point formula; the TIFF's colour space rules, not the JPEG's markers); 6 YCbCr otherwise (8-bit, 3 samples: the data units unpacked and converted to RGB as libtiff's RGBA interface does, bit for bit), 8 CIELab 8-bit (L 0..255, a and b signed: to `f32` Lab, L 0..100, interpretation `lab`) and float (kept, interpretation `lab`) honoured; 4 mask, 5 with other inks, 8 CIELab 16-bit, 9 ICCLab, 10 ITULab, LogL/LogLuv, CFA, LinearRaw refused |
//! | SamplesPerPixel (277) | any, at least the colour samples of the photometric interpretation (one for palettes) |
//! | BitsPerSample (258) | 8, 16, 32, 64 honoured; 1, 2, 4 for palettes and for one-sample grey (spread to 0..255 as libvips does); other depths, and different depths per sample, refused |
//! | SampleFormat (339) | 1 unsigned, 2 signed integer, 3 IEEE float (32 and 64 bits) honoured; others, and different formats per sample, refused |
//! | PlanarConfiguration (284) | 1 contiguous, 2 separate planes honoured; others refused |
//! | Predictor (317) | 1 none, 2 horizontal (any sample size), 3 floating point (float samples) honoured; others refused |
//! | FillOrder (266) | 1 and 2 honoured (2: the bits of every byte of the stored strip or tile are reversed before decompression, as libtiff does); others refused |
//! | ExtraSamples (338) | 0 unspecified and 2 unassociated alpha kept as they are; 1 associated alpha un-premultiplied as libvips 8.18 does, bit for bit for u8, u16 and RGB floats (libvips divides grey floats with a maximum alpha of 255, here 1 for every float image; refused for other formats and for extra samples but the first); a list longer than the extra samples, or other values, refused |
//! | ColorMap (320) | honoured for palettes (the high byte of each 16-bit entry); too short a map is an error |
//! | ImageWidth / ImageLength, RowsPerStrip, TileWidth / TileLength, StripOffsets / TileOffsets, StripByteCounts / TileByteCounts | honoured; missing, zero or too few are errors, chunks past the file end are errors unless `fail_on=none` |
//! | Orientation (274) | kept as metadata (`orientation`), as libvips does: pixels stay in stored order and `autorot` turns them, as for JPEG EXIF |
//! | YCbCrSubSampling (530), YCbCrPositioning (531), YCbCrCoefficients (529), ReferenceBlackWhite (532) | with JPEG compression the JPEG's own sampling factors rule the upsampling (libjpeg-turbo's "fancy" filter), and must agree with YCbCrSubSampling (default 2x2) or the chunk fails; coefficients and reference levels are those of JFIF, as libjpeg assumes (libtiff too). Without JPEG: 1x1, 2x1, 2x2, 4x1, 4x2, 4x4 data units (TIFF 6.0 section 21), every pixel of a unit taking its chroma, the file's YCbCrCoefficients and ReferenceBlackWhite in libtiff's 16-bit fixed-point conversion; YCbCrPositioning does not change the pixels (libtiff ignores it too) |
//! | JPEGTables (347) | with JPEG compression: the tables stream (without its EOI) and each chunk's stream (without its SOI) form one JPEG datastream, as libtiff joins them; absent, every chunk carries its own tables |
//! | InkSet (332), InkNames, DotRange | InkSet 1 (CMYK, the default) honoured, 2 refused; InkNames and DotRange describe the inks, not applied (as libvips) |
//! | T4Options / T6Options | only with CCITT compression, which is refused |
//! | SubIFDs (330) | followed for levels only (`level=N`, see [`levels`](super::levels)): pages stay the main chain of directories, each decoded as its own tags say (libvips does the same) |
//! | XResolution / YResolution / ResolutionUnit (282, 283, 296) | kept as metadata (`xres`, `yres` in pixels per millimetre, `resolution-unit` `inch`, `cm` or `none`), as libvips does |
//! | ImageDescription (270) | read to find Aperio SVS slides (their properties become metadata) |
//! | TransferFunction (301), WhitePoint, PrimaryChromaticities, GrayResponseCurve, SMinSampleValue / SMaxSampleValue, Threshholding | describe colour or ranges, not the stored values: not applied (as libvips), like the ICC profile, which is kept as metadata |

use std::io::Read;
use std::sync::Arc;

use gigapix_core::desc::Args;
use gigapix_core::{BandFormat, Error, ErrorKind, Header, Image, Metadata, Result};

use super::codec::{Codec, compression_name};
use super::ifd::{self, Chunks, Samples, TiffDecoder, tiff_error, unsupported};
use super::levels::{self, Choice};
use super::source::{Info, PosReader, TiffSource};
use crate::input::{Held, Input};
use crate::{FailOn, OpenOptions};

/// Opens a TIFF file (on disk or in memory): reads and checks the
/// directory of page `page`.
pub(crate) fn open(input: &Input, name: &str, options: &OpenOptions, args: &Args) -> Result<Image> {
    let page = usize::try_from(args.int("page")?).unwrap_or(usize::MAX);
    let level = args
        .opt_int("level")?
        .map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let associated = args.opt_choice("associated")?;
    let choice = match (level, associated) {
        (Some(_), Some(a)) => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{name}: level and associated={a} cannot both be given (an associated image has no levels)"
                ),
            ));
        }
        (_, Some(a)) => Choice::Associated(a),
        (l, None) => Choice::Level(l.unwrap_or(0)),
    };
    let file = input.open(name)?;
    let len = file.len(name)?;
    let (bigtiff, big_endian, first) = byte_order(&file, len, name)?;
    let (mut dec, pages) = seek_page(&file, len, name, page)?;
    // Only directories are read: the levels' sizes, and the chosen one.
    let pyramid = levels::scan(&mut dec, name, first, page)?;
    let target = pyramid.select(name, &choice)?;
    let opened_page = target.page;
    if !matches!(choice, Choice::Level(0)) {
        dec = levels::decoder_at(&file, len, name, target.ifd, bigtiff, big_endian)?;
    }

    let samples = Samples::read(&mut dec, name)?;
    let codec = choose_codec(&samples, name)?;
    let mut header = Header::new(samples.width, samples.height, samples.bands, samples.format);
    if let Some(interpretation) = samples.interpretation {
        header.interpretation = interpretation;
    }
    options
        .limits
        .check(&header)
        .map_err(|e| Error::new(e.kind(), format!("{name}: {}", e.message())))?;
    let chunks = Chunks::read(
        &mut dec,
        name,
        &header,
        samples.planar,
        options.limits.max_alloc,
    )?;
    // A truncated file fails here, before any pixel is asked for, unless
    // damaged files are to be read as far as they go.
    if options.fail_on != FailOn::None
        && let Some((i, start, end)) = chunks.first_outside(len)
    {
        return Err(Error::format(format!(
            "{name}: file is truncated: {} {i} lies at bytes {start}..{end}, past the end of the file ({len} bytes)",
            if chunks.tiled { "tile" } else { "strip" },
        )));
    }
    let page_info = PageInfo {
        page: opened_page,
        pages,
        bigtiff,
    };
    let mut metadata = metadata(&mut dec, &samples, &chunks, &page_info);
    pyramid.set_fields(&mut metadata, &choice);
    drop(dec);

    Ok(TiffSource::image(Info {
        name: name.to_string(),
        file,
        len,
        header,
        tiled: chunks.tiled,
        chunk_w: chunks.width,
        chunk_h: chunks.height,
        across: chunks.across,
        offsets: chunks.offsets,
        counts: chunks.counts,
        codec,
        big_endian,
        predictor: samples.predictor,
        reversed_bits: samples.reversed_bits,
        white_is_zero: samples.white_is_zero,
        associated_alpha: samples.associated_alpha,
        planar: samples.planar,
        palette: samples.palette,
        jpeg: samples.jpeg,
        ycbcr: samples.ycbcr,
        lab8: samples.lab8,
        fail_on: options.fail_on,
        metadata: Arc::new(metadata),
    }))
}

/// Reads the header: whether the file is a BigTIFF, whether its samples
/// are big-endian (`MM`), and where its first directory is.
fn byte_order(file: &Held, len: u64, name: &str) -> Result<(bool, bool, u64)> {
    let mut magic = [0u8; 16];
    let mut reader = PosReader::new(file.clone(), 0, len);
    reader
        .read_exact(&mut magic[..8])
        .map_err(|_| Error::format(format!("{name}: file is truncated (TIFF header)")))?;
    let bigtiff = magic[2..4] == [43, 0] || magic[2..4] == [0, 43];
    let big_endian = magic[..2] == *b"MM";
    let first = if bigtiff {
        reader
            .read_exact(&mut magic[8..])
            .map_err(|_| Error::format(format!("{name}: file is truncated (TIFF header)")))?;
        let b: [u8; 8] = magic[8..16].try_into().unwrap_or_default();
        if big_endian {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        }
    } else {
        let b: [u8; 4] = magic[4..8].try_into().unwrap_or_default();
        u64::from(if big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    Ok((bigtiff, big_endian, first))
}

/// A decoder positioned on page `page`, and the number of pages.
fn seek_page(file: &Held, len: u64, name: &str, page: usize) -> Result<(TiffDecoder, usize)> {
    let mut dec = ifd::decoder(file, len, name, 0)?;
    let pages = ifd::count_pages(&mut dec);
    if page >= pages {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: page {page} does not exist (the file has {pages} page{})",
                if pages == 1 { "" } else { "s" }
            ),
        ));
    }
    dec.seek_to_image(page).map_err(|e| tiff_error(name, e))?;
    Ok((dec, pages))
}

/// The codec of the chunks, once the sample layout is known to be one
/// that can be decoded.
fn choose_codec(samples: &Samples, name: &str) -> Result<Codec> {
    if let Some(alpha) = samples.associated_alpha
        && !matches!(
            samples.format,
            BandFormat::U8 | BandFormat::U16 | BandFormat::F32 | BandFormat::F64
        )
    {
        return Err(unsupported(
            name,
            format!(
                "TIFF ExtraSamples 1 (associated alpha, band {alpha}) is supported for u8, u16, f32 and f64 samples, not {}",
                samples.format
            ),
        ));
    }
    Ok(Codec::choose(samples.compression))
}

/// Where the page is in the file.
struct PageInfo {
    page: usize,
    pages: usize,
    bigtiff: bool,
}

/// The metadata of the page: its ICC profile and orientation, and fields
/// describing how it is stored.
fn metadata(dec: &mut TiffDecoder, samples: &Samples, chunks: &Chunks, at: &PageInfo) -> Metadata {
    let mut metadata = Metadata::new();
    if let Some(icc) = ifd::icc_profile(dec) {
        metadata.icc = Some(icc.into());
    }
    let orientation = ifd::orientation(dec);
    if orientation != 0 {
        metadata.orientation = orientation;
    }
    metadata.set_field("compression", compression_name(samples.compression));
    if chunks.tiled {
        metadata.set_field("tile", format!("{}x{}", chunks.width, chunks.height));
    } else {
        metadata.set_field("rows-per-strip", chunks.height);
    }
    metadata.set_field("pages", at.pages);
    if at.page != 0 {
        metadata.set_field("page", at.page);
    }
    metadata.set_field("bigtiff", at.bigtiff);
    levels::set_resolution(dec, &mut metadata);
    if samples.planar {
        metadata.set_field("planar", "separate");
    }
    match &samples.palette {
        Some(p) if p.bands == 3 => metadata.set_field("palette", format!("{}-bit", p.bits)),
        Some(p) => metadata.set_field("bits-per-sample", p.bits),
        None => {}
    }
    if samples.reversed_bits {
        metadata.set_field("fill-order", "lsb-to-msb");
    }
    if samples.associated_alpha.is_some() {
        metadata.set_field("alpha", "associated");
    }
    metadata.set_field(
        "predictor",
        match samples.predictor {
            1 => "none".to_string(),
            2 => "horizontal".to_string(),
            3 => "float".to_string(),
            p => format!("code {p}"),
        },
    );
    metadata
}
