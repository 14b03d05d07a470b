//! TIFF and BigTIFF: a random-access loader ([`load`]; the `tiff` crate
//! reads the directories, the chunks are decoded here) and a streaming
//! writer of our own ([`save`]). Both
//! handle every band format: unsigned and signed 8, 16 and 32-bit
//! integers and 32 and 64-bit IEEE floats (SampleFormat 1, 2 and 3).
//!
//! Loading decodes only the strips or tiles a region touches, with a small
//! shared cache of decoded chunks so that neighbouring regions do not
//! decode the same chunk twice: `load` opens a page, reading its directory
//! through `ifd`, and the operation serving regions is in `source`; the
//! chunk codecs of both directions are in `codec`. Saving writes strips or tiles as the bands
//! arrive (uncompressed, LZW or deflate, with the horizontal predictor),
//! and the image file directory last.

use std::path::Path;

use gigapix_core::{BandWriter, Header, Image, Metadata, Result};

use crate::OpenOptions;
use gigapix_core::desc::Args;

mod codec;
mod ifd;
mod levels;
mod load;
mod save;
mod source;
mod ycbcr;

/// Largest chunk (strip or tile) written, in bytes (reading is bounded by
/// `Limits::max_alloc`).
const MAX_CHUNK: u64 = 256 << 20;

/// Opens a TIFF file, reading its header only.
pub(crate) fn open(path: &Path, name: &str, options: &OpenOptions, args: &Args) -> Result<Image> {
    load::open(path, name, options, args)
}

/// A writer saving `header` as TIFF, with the ICC profile of `metadata`.
pub(crate) fn writer(
    path: &Path,
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
) -> Result<Box<dyn BandWriter>> {
    save::writer(path, name, header, metadata, args)
}
