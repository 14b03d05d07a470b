//! Decoding one JPEG-compressed TIFF strip or tile (TIFF compression 7)
//! from memory: the file's JPEGTables (quantisation and Huffman tables,
//! SOI to EOI) and the chunk's own stream (SOI to EOI) are joined into one
//! datastream, as libtiff does (the tables without their EOI, the chunk
//! without its SOI), decoded by zune-jpeg into whole component planes,
//! and upsampled and converted by the same code as the JPEG loader
//! (`convert.rs`: libjpeg-turbo's fancy upsampling and fixed-point
//! YCbCr→RGB), so a tile decodes as libjpeg-turbo decodes it.
//!
//! The colour space is the TIFF's (PhotometricInterpretation), not the
//! JPEG's markers: YCbCr chunks are converted to RGB, RGB chunks (Adobe
//! transform 0, libtiff's `JPEGCOLORMODE` RGB) are interleaved as they
//! are, grey chunks copied. The JPEG's sampling factors rule the
//! upsampling; for YCbCr they must agree with the TIFF's YCbCrSubSampling.

use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::load::{Component, Kind, emit_row};

/// What a TIFF says a JPEG chunk holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TileColour {
    /// One component, grey.
    Grey,
    /// Y, Cb, Cr, converted to RGB; chroma subsampled by the TIFF's
    /// YCbCrSubSampling (horizontal, vertical).
    YCbCr(u8, u8),
    /// R, G, B stored without a colour transform.
    Rgb,
}

impl TileColour {
    /// Bands of the decoded pixels.
    pub(crate) fn bands(self) -> usize {
        match self {
            TileColour::Grey => 1,
            _ => 3,
        }
    }
}

/// Joins the JPEGTables `tables` (a whole SOI..EOI stream, possibly
/// empty) and a chunk's stream `chunk` into `out`.
fn join(tables: &[u8], chunk: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let tables = tables.strip_suffix(&[0xFF, 0xD9]).unwrap_or(tables);
    if tables.len() > 2 && tables.starts_with(&[0xFF, 0xD8]) {
        out.extend_from_slice(tables);
        out.extend_from_slice(chunk.strip_prefix(&[0xFF, 0xD8]).unwrap_or(chunk));
    } else {
        out.extend_from_slice(chunk);
    }
}

/// Scratch space of [`decode_chunk`], kept by each worker thread.
#[derive(Default)]
pub(crate) struct TileScratch {
    stream: Vec<u8>,
}

/// Decodes the JPEG chunk `chunk` (with the file's `tables`) holding
/// `colour` into `out`: `rows` rows of `width` pixels, packed. The JPEG
/// may be larger than that (edge tiles are whole tiles): it is cropped;
/// smaller is an error. `strict` makes corrupt entropy data an error
/// (else zune-jpeg's lenient mode fills what it cannot decode). Errors
/// are messages to be prefixed with the file and chunk.
pub(crate) fn decode_chunk(
    tables: &[u8],
    chunk: &[u8],
    colour: TileColour,
    size: (usize, usize),
    out: &mut [u8],
    strict: bool,
    scratch: &mut TileScratch,
) -> Result<(), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode(tables, chunk, colour, size, out, strict, scratch)
    }))
    .unwrap_or_else(|_| Err("the JPEG decoder panicked".into()))
}

fn decode(
    tables: &[u8],
    chunk: &[u8],
    colour: TileColour,
    (width, rows): (usize, usize),
    out: &mut [u8],
    strict: bool,
    scratch: &mut TileScratch,
) -> Result<(), String> {
    let bands = colour.bands();
    debug_assert_eq!(out.len(), width * rows * bands);
    if chunk.len() < 4 || !chunk.starts_with(&[0xFF, 0xD8]) {
        return Err("not a JPEG stream (no SOI marker)".into());
    }
    join(tables, chunk, &mut scratch.stream);
    let options = DecoderOptions::default()
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX))
        .set_strict_mode(strict);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(&scratch.stream[..]), options);
    decoder.decode_headers().map_err(|e| jpeg_error(&e))?;
    let (w, h) = decoder
        .info()
        .map(|i| (usize::from(i.width), usize::from(i.height)))
        .ok_or("damaged JPEG: no frame header")?;
    if w < width || h < rows {
        return Err(format!(
            "the JPEG is {w}x{h}, smaller than the {width}x{rows} it must cover"
        ));
    }
    let mut raw = decoder.raw_output();
    let n = raw.num_components().unwrap_or(0);
    if n != bands {
        return Err(format!(
            "the JPEG has {n} component{}, the TIFF's colour needs {bands}",
            if n == 1 { "" } else { "s" }
        ));
    }
    let layout = raw.layout().ok_or("damaged JPEG: bad component layout")?;
    let layout = &layout[..n];
    let h_max = layout.iter().map(|p| p.horizontal_sampling_factor).max();
    let v_max = layout.iter().map(|p| p.vertical_sampling_factor).max();
    let (h_max, v_max) = (h_max.unwrap_or(1), v_max.unwrap_or(1));
    for p in layout {
        let (ph, pv) = (p.horizontal_sampling_factor, p.vertical_sampling_factor);
        if ph == 0 || pv == 0 || h_max % ph != 0 || v_max % pv != 0 {
            return Err(format!(
                "fractional JPEG sampling factors ({ph}x{pv} of {h_max}x{v_max}) are not supported"
            ));
        }
    }
    if let TileColour::YCbCr(sh, sv) = colour {
        let luma = (
            layout[0].horizontal_sampling_factor,
            layout[0].vertical_sampling_factor,
        );
        let chroma_ok = layout[1..].iter().all(|p| {
            p.horizontal_sampling_factor * usize::from(sh) == luma.0
                && p.vertical_sampling_factor * usize::from(sv) == luma.1
        });
        if !chroma_ok {
            return Err(format!(
                "the JPEG's sampling factors ({}) disagree with YCbCrSubSampling {sh}x{sv}",
                layout
                    .iter()
                    .map(|p| format!(
                        "{}x{}",
                        p.horizontal_sampling_factor, p.vertical_sampling_factor
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let mut planes: Vec<Vec<u8>> = layout.iter().map(|p| vec![0; p.byte_size]).collect();
    {
        let mut slices: Vec<&mut [u8]> = planes.iter_mut().map(Vec::as_mut_slice).collect();
        raw.decode_into_planes(&mut slices)
            .map_err(|e| jpeg_error(&e))?;
    }
    drop(raw);
    let comps: Vec<Component> = layout
        .iter()
        .zip(planes)
        .map(|(p, plane)| Component::whole(p, h_max, v_max, plane))
        .collect();
    let mut up: Vec<Vec<u8>> = comps
        .iter()
        .zip(layout)
        .map(|(c, p)| match c.factors() {
            (1, 1) => Vec::new(),
            (hs, _) => vec![0; p.width * hs],
        })
        .collect();
    let widest = layout.iter().map(|p| p.width).max().unwrap_or(0);
    let mut sums = vec![0u16; widest];
    let kind = match colour {
        TileColour::Grey => Kind::Grey,
        TileColour::YCbCr(..) => Kind::YCbCr,
        TileColour::Rgb => Kind::Rgb,
    };
    let row_bytes = width * bands;
    for (y, dst) in out.chunks_exact_mut(row_bytes).enumerate() {
        emit_row(&comps, &mut up, &mut sums, kind, y, dst);
    }
    Ok(())
}

/// The message of a zune-jpeg error.
fn jpeg_error(e: &zune_jpeg::errors::DecodeErrors) -> String {
    if e.is_recoverable_eof() {
        "the JPEG data is truncated".into()
    } else {
        format!("damaged JPEG: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_tables_and_chunk() {
        let tables = [0xFF, 0xD8, 0xFF, 0xDB, 1, 2, 0xFF, 0xD9];
        let chunk = [0xFF, 0xD8, 0xFF, 0xC0, 3, 0xFF, 0xD9];
        let mut out = Vec::new();
        join(&tables, &chunk, &mut out);
        assert_eq!(
            out,
            [0xFF, 0xD8, 0xFF, 0xDB, 1, 2, 0xFF, 0xC0, 3, 0xFF, 0xD9]
        );
        join(&[], &chunk, &mut out);
        assert_eq!(out, chunk);
    }

    #[test]
    fn garbage_is_an_error() {
        let mut s = TileScratch::default();
        let mut out = vec![0; 8 * 8 * 3];
        for data in [
            &[1u8, 2, 3][..],
            &[0xFF, 0xD8, 0xFF, 0xC0, 0, 0, 1, 2, 3][..],
        ] {
            assert!(
                decode_chunk(&[], data, TileColour::Rgb, (8, 8), &mut out, true, &mut s).is_err()
            );
        }
    }
}
