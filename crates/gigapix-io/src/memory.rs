//! Memory estimates of the encoders, for the planner's memory plan.
//!
//! Each figure is the buffers the format's writer keeps while bands
//! arrive, from its own constants (restated here; keep them in step):
//!
//! - every writer: a 256 KiB output buffer;
//! - DeepZoom (`dzsave`): see `dz::encoder_bytes` (the shrinker's rows,
//!   a tile row and its overlap per level, two tiles per thread in
//!   flight);
//! - PPM/raw: that, and a 1 MiB byte-swap scratch for 16-bit samples;
//! - TIFF: the rows of one strip (or row of tiles) waiting to complete
//!   (strips of about 256 KiB unless `rows_per_strip` says otherwise); when
//!   compressed, up to `4 × threads` queued chunks and their compressed
//!   copies, plus a zlib/LZW state per thread;
//! - PNG: the filter's rows (the previous row and one candidate per filter,
//!   six for the adaptive choice), a 256 KiB `IDAT` chunk, a 1 MiB
//!   16-bit scratch and the deflate state (about 300 KiB at zlib's default
//!   memory level);
//! - JPEG (the parallel strip encoder): strips of about 2 MiB of pixels
//!   (whole iMCU rows), at most `2 × threads` in flight, each converted to
//!   planar in its worker and encoded into an output of about an eighth of
//!   its size; the strip being assembled; the encoder state of each
//!   thread. With `optimize` the encoder keeps every DCT block of the
//!   image (2 bytes a sample).
//! - WebP: libwebp encodes whole pictures, so the writer holds the
//!   picture: YUV 4:2:0 for lossy output (1.5 bytes a pixel, 2.5 with
//!   alpha), ARGB for lossless, near-lossless and `smart_subsample` (4
//!   bytes a pixel); then, while encoding, libwebp's own state (lossy:
//!   about a quarter of the picture for the tokens and statistics;
//!   lossless: about three times the ARGB picture for its transforms,
//!   hash chains and backward references) and the file being assembled
//!   (bounded here by half the RGB image). An animation holds less: one
//!   frame of rows and the animation encoder's canvases and candidates
//!   (about six ARGB frames); the figure is the still image's, as the
//!   frame height is in the image's metadata, not its header.

use gigapix_core::desc::Args;
use gigapix_core::{Header, Result};

use crate::FileFormat;

const OUT_BUFFER: u64 = 256 << 10;
const SWAP_SCRATCH: u64 = 1 << 20;
const TIFF_STRIP: u64 = 256 << 10;
const PNG_CHUNK: u64 = 256 << 10;
const DEFLATE_STATE: u64 = 300 << 10;
const JPEG_STRIP: u64 = 2 << 20;
/// Per-thread state of a JPEG encoder (Huffman and quantisation tables,
/// one iMCU row of blocks): a few hundred kilobytes.
const JPEG_STATE: u64 = 512 << 10;

/// Bytes the writer of `format` for an image of `header` with options
/// `args` holds while bands of `band_rows` rows arrive.
pub(crate) fn encoder_bytes(
    format: FileFormat,
    header: &Header,
    args: &Args,
    _band_rows: u32,
) -> Result<u64> {
    let row = header.row_bytes() as u64;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let swap = if header.format.size() > 1 {
        SWAP_SCRATCH
    } else {
        0
    };
    Ok(match format {
        FileFormat::Pnm | FileFormat::Raw => OUT_BUFFER + swap,
        FileFormat::DeepZoom => crate::dz::encoder_bytes(header, args)?,
        FileFormat::Tiff if let Some(b) = crate::tiff::pyramid_buffer_bytes(header, args)? => b,
        FileFormat::Tiff => {
            let rows = match args.opt_int("rows_per_strip")? {
                Some(r) => r.clamp(1, i64::from(header.height)) as u64,
                None => (TIFF_STRIP / row.max(1)).clamp(1, header.height as u64),
            };
            let strip = rows * row;
            let compressed = args.choice("compression")? != "none";
            if compressed {
                OUT_BUFFER + strip + 8 * threads * strip + threads * DEFLATE_STATE
            } else {
                OUT_BUFFER + strip
            }
        }
        FileFormat::Webp => webp_bytes(header, args)?,
        FileFormat::Gif => crate::gif::encoder_bytes(header, args)?,
        FileFormat::Avif => crate::avif::encoder_bytes(header),
        FileFormat::Png => OUT_BUFFER + 7 * (row + 1) + PNG_CHUNK + swap + DEFLATE_STATE,
        FileFormat::Jpeg => {
            let optimize = args.bool("optimize").unwrap_or(false)
                || args.bool("optimize_coding").unwrap_or(false);
            if optimize {
                OUT_BUFFER + 2 * header.image_bytes() + JPEG_STATE
            } else {
                // Whole rows of 16 (4:2:0) up to about 2 MiB, no more
                // than the image.
                let height = u64::from(header.height).next_multiple_of(16);
                let rows = ((JPEG_STRIP / (16 * row).max(1)).max(1) * 16).min(height);
                let strips = height.div_ceil(rows);
                let strip = rows * row;
                if header.bands == 4 {
                    // CMYK: strips copied to jpeg-encoder's threads, at
                    // most two per thread in flight, each converted to
                    // planar form there.
                    let in_flight = (2 * threads).min(strips) * strip;
                    let per_worker = threads.min(strips) * (strip + strip / 8 + JPEG_STATE);
                    OUT_BUFFER + strip + in_flight + per_worker
                } else {
                    // Grey and RGB: the pass's own workers encode the
                    // sink's bands in place (the sink's buffers are
                    // counted apart); each holds its encoded strip.
                    OUT_BUFFER + threads.min(strips) * (strip / 8 + JPEG_STATE)
                }
            }
        }
    })
}

/// The WebP writer's figure (see the module docs).
fn webp_bytes(header: &Header, args: &Args) -> Result<u64> {
    let settings = crate::webp::settings(args)?;
    let (w, h) = (u64::from(header.width), u64::from(header.height));
    let rgb = w * h * 3;
    let picture =
        gigapix_webp::Picture::bytes(header.width, header.height, header.bands, &settings);
    let state = if settings.is_lossless() {
        3 * 4 * w * h
    } else {
        picture / 4
    };
    Ok(picture + state + rgb / 2)
}
