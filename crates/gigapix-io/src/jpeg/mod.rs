//! JPEG loader and saver.
//!
//! # Loading
//!
//! [`open`] reads the headers only (zune-jpeg's `decode_headers` plus a
//! small marker scan of our own for the Adobe APP14 segment and the first
//! scan header) and returns a sequential source ([`Access::Sequential`](gigapix_core::Access::Sequential)):
//! every run decodes the file top to bottom, one iMCU row (8 or 16 rows)
//! at a time, through zune-jpeg's raw iMCU-row API, on a decoder thread of
//! its own that runs a couple of iMCU rows ahead of the reader, so entropy
//! decoding overlaps upsampling and colour conversion. Those two are ours
//! (see `convert.rs`): libjpeg's "fancy" triangle upsampling for h2v1,
//! h1v2 and h2v2, replication for other integer factors, and libjpeg's
//! fixed-point JFIF (full-range BT.601) YCbCr→RGB, bit-exact with its
//! tables. `OpenOptions::access` makes no difference: JPEG is always
//! sequential (the planner adds a cache where a graph reads out of order).
//!
//! * Greyscale gives 1 band, YCbCr and Adobe RGB 3 bands (sRGB).
//! * CMYK and YCCK (4 components) give 4 bands of CMYK in the usual sense
//!   (0 = no ink), with interpretation `Multiband` (gigapix has no CMYK
//!   interpretation): files with an Adobe APP14 marker store CMYK inverted,
//!   and are inverted back, as libvips does.
//! * Baseline, single-scan files stream with memory bounded by the width.
//!   Progressive and multi-scan files need every DCT coefficient before the
//!   first row can be produced; they are accepted only when that buffer
//!   (estimated at twice the coefficients' 2 bytes per sample, padded to
//!   whole blocks) stays within `Limits::max_alloc` (4 GiB by default), and rejected
//!   with an `ErrorKind::Limit` error otherwise.
//! * Not supported: arithmetic coding, lossless and 12-bit JPEG, DNL
//!   heights; they fail at open with `ErrorKind::Unsupported`.
//! * Damaged and truncated files fail with an `ErrorKind::Format` error
//!   naming the file, at open for damaged headers, else when the damage is
//!   read. With `fail_on=error` (the default) zune-jpeg runs in strict
//!   mode (corrupt entropy data is an error), and data that ends early
//!   with an EOI (which zune-jpeg would pad with flat blocks) is detected
//!   by the input standing still. With `fail_on=none` the decoder is
//!   lenient (corrupt data and an early EOI give flat blocks), and a file
//!   cut short keeps the rows decoded before the cut, the rest zeros, with
//!   a warning in the run's report.
//! * `shrink=2`, `4` or `8` (with the default `mozjpeg` feature) decodes
//!   at that fraction of the size in the DCT domain: see `scaled.rs`.
//! * Metadata: the EXIF block (APP1 `Exif`) goes to `Metadata::exif`, its
//!   orientation tag (0x0112) to `Metadata::orientation`, the ICC profile
//!   (APP2 `ICC_PROFILE`, all chunks joined) to `Metadata::icc`.
//!
//! # Saving
//!
//! See [`writer`]. Baseline JPEG, `u8` only. By default the image is cut
//! into strips of whole iMCU rows encoded on a pool of threads and joined
//! with restart markers (`parallel.rs`): grey and RGB by our own encoder
//! (`encode.rs`, libjpeg-turbo's bitstream with `gigapix_simd::jpeg`'s
//! kernels, so files match libvips' at the same `Q`), CMYK by
//! jpeg-encoder. With `optimize` (optimised Huffman tables, which need
//! statistics of the whole image) a single jpeg-encoder runs on a thread
//! of its own, fed the bands through a bounded channel (`save.rs`), and
//! buffers every DCT block.
//! The ICC profile and EXIF block of the image's metadata are written as
//! APP2 and APP1 segments (see `save.rs`), unless `strip`.

mod convert;
#[cfg(feature = "mozjpeg")]
mod eighth;
mod encode;
mod input;
mod load;
mod markers;
mod parallel;
pub(crate) use parallel::Slices;
mod save;
#[cfg(feature = "mozjpeg")]
mod scaled;
mod tile;

use gigapix_core::Error;

pub(crate) use load::open;
pub(crate) use save::{encode_to_vec, sampling, writer};
pub(crate) use tile::{TileColour, TileScratch, decode_chunk};

/// Whether MozJPEG's SIMD was built (see `build.rs`: x86 needs `nasm` at
/// build time).
const MOZJPEG_SIMD: bool =
    cfg!(feature = "mozjpeg") && env!("GIGAPIX_MOZJPEG_SIMD").as_bytes()[0] == b'1';

/// The JPEG encoder and decoder paths of this build and the SIMD levels
/// they run at on this CPU, one line (for `gigapix --version`).
pub fn codec_paths() -> String {
    let level = gigapix_simd::level();
    let levels: Vec<&str> = gigapix_simd::levels().iter().map(|l| l.name()).collect();
    let mozjpeg = if !cfg!(feature = "mozjpeg") {
        "not built (no shrink-on-load)"
    } else if MOZJPEG_SIMD {
        "gigapix at 1/8, 1/4, 1/2 (baseline grey, 4:4:4, 4:2:0), else mozjpeg with SIMD"
    } else {
        "gigapix at 1/8, 1/4, 1/2 (baseline grey, 4:4:4, 4:2:0), else mozjpeg C without SIMD (no nasm at build time)"
    };
    format!(
        "jpeg encode: gigapix ({}; CPU levels {}), CMYK and optimize: jpeg-encoder; \
         jpeg decode: zune-jpeg, shrink-on-load: {mozjpeg}",
        level.name(),
        levels.join(", ")
    )
}

/// A [`ErrorKind::Format`](gigapix_core::ErrorKind::Format) error about
/// file `name`.
fn bad(name: &str, what: impl std::fmt::Display) -> Error {
    Error::format(format!("{name}: {what}"))
}
