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

use crate::input::Input;
use crate::save::Dest;

use gigapix_core::{BandWriter, Header, Image, Metadata, Result};

use crate::OpenOptions;
use gigapix_core::desc::Args;

mod codec;
mod ifd;
mod levels;
mod load;
mod pyrsave;
mod save;
mod source;
mod ycbcr;

/// Largest chunk (strip or tile) written, in bytes (reading is bounded by
/// `Limits::max_alloc`).
const MAX_CHUNK: u64 = 256 << 20;

/// Opens a TIFF file (on disk or in memory), reading its header only.
pub(crate) fn open(input: &Input, name: &str, options: &OpenOptions, args: &Args) -> Result<Image> {
    load::open(input, name, options, args)
}

/// A writer saving `header` as TIFF, with the ICC profile of `metadata`.
pub(crate) fn writer(
    path: &Dest,
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
) -> Result<Box<dyn BandWriter>> {
    if pyrsave::wanted(args)? {
        return pyrsave::writer(path, name, header, metadata, args);
    }
    if args.opt_int("Q")?.is_some() {
        return Err(gigapix_core::Error::new(
            gigapix_core::ErrorKind::InvalidArgument,
            format!("{name}: option `Q` is for compression=jpeg"),
        ));
    }
    save::writer(path, name, header, metadata, args)
}

/// The memory estimate of the pyramid / JPEG writer, when `args` choose it.
pub(crate) fn pyramid_buffer_bytes(header: &Header, args: &Args) -> Result<Option<u64>> {
    if pyrsave::wanted(args)? {
        pyrsave::buffer_bytes(header, args).map(Some)
    } else {
        Ok(None)
    }
}
