//! Opening a TIFF: the directory of the chosen page (`page=N`, default 0)
//! is read (module `ifd`) and checked (sample layout, compression,
//! limits, and unless `fail_on=none` that every chunk lies inside the
//! file), and becomes a [`TiffSource`]. The source is random access
//! whatever [`AccessMode`](crate::AccessMode) asks for.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use gigapix_core::desc::Args;
use gigapix_core::{Error, ErrorKind, Header, Image, Metadata, Result};

use super::codec::{Codec, compression_name};
use super::ifd::{self, Chunks, Samples, TiffDecoder, tiff_error, unsupported};
use super::source::{Info, PosReader, TiffSource};
use crate::{FailOn, OpenOptions};

/// Opens a TIFF file: reads and checks the directory of page `page`.
pub(crate) fn open(path: &Path, name: &str, options: &OpenOptions, args: &Args) -> Result<Image> {
    let page = usize::try_from(args.int("page")?).unwrap_or(usize::MAX);
    let file = File::open(path).map_err(|e| Error::io(name, e))?;
    let len = file.metadata().map_err(|e| Error::io(name, e))?.len();
    let file = Arc::new(file);
    let (bigtiff, big_endian) = byte_order(&file, len, name)?;
    let (mut dec, pages) = seek_page(&file, len, name, page)?;

    let samples = Samples::read(&mut dec, name)?;
    let codec = choose_codec(&samples, name)?;
    let header = Header::new(samples.width, samples.height, samples.bands, samples.format);
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
        page,
        pages,
        bigtiff,
    };
    let metadata = metadata(&mut dec, &samples, &chunks, &page_info);
    drop(dec);

    Ok(TiffSource::image(Info {
        name: name.to_string(),
        file,
        len,
        page,
        header,
        tiled: chunks.tiled,
        chunk_w: chunks.width,
        chunk_h: chunks.height,
        across: chunks.across,
        offsets: chunks.offsets,
        counts: chunks.counts,
        codec,
        big_endian,
        predictor: samples.predictor == 2,
        planar: samples.planar,
        palette: samples.palette,
        fail_on: options.fail_on,
        metadata: Arc::new(metadata),
    }))
}

/// Reads the first bytes: whether the file is a BigTIFF, and whether its
/// samples are big-endian (`MM`).
fn byte_order(file: &Arc<File>, len: u64, name: &str) -> Result<(bool, bool)> {
    let mut magic = [0u8; 4];
    PosReader::new(file.clone(), 0, len)
        .read_exact(&mut magic)
        .map_err(|_| Error::format(format!("{name}: file is truncated (TIFF header)")))?;
    let bigtiff = magic[2..] == [43, 0] || magic[2..] == [0, 43];
    Ok((bigtiff, magic[..2] == *b"MM"))
}

/// A decoder positioned on page `page`, and the number of pages.
fn seek_page(file: &Arc<File>, len: u64, name: &str, page: usize) -> Result<(TiffDecoder, usize)> {
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

/// Who decodes the chunks, or why nobody can.
fn choose_codec(samples: &Samples, name: &str) -> Result<Codec> {
    let predictor = samples.predictor;
    let codec = Codec::choose(samples.compression, predictor, samples.photometric);
    if (samples.planar || samples.palette.is_some()) && codec == Codec::Crate {
        return Err(unsupported(
            name,
            format!(
                "{} are supported with no compression, lzw or deflate and the horizontal predictor, \
                 not with compression {} and predictor {predictor}",
                if samples.planar {
                    "separate colour planes (PlanarConfiguration 2)"
                } else {
                    "palette images"
                },
                compression_name(samples.compression)
            ),
        ));
    }
    if !matches!(predictor, 1..=3) {
        return Err(unsupported(
            name,
            format!("TIFF predictor {predictor} is not supported"),
        ));
    }
    Ok(codec)
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
    if samples.planar {
        metadata.set_field("planar", "separate");
    }
    if let Some(p) = &samples.palette {
        metadata.set_field("palette", format!("{}-bit", p.bits));
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
