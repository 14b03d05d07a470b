//! TIFF and BigTIFF: a random-access loader over the `tiff` crate's chunk
//! decoder ([`load`]) and a streaming writer of our own ([`save`]).
//!
//! Loading decodes only the strips or tiles a region touches, with a small
//! shared cache of decoded chunks so that neighbouring regions do not
//! decode the same chunk twice. Saving writes strips or tiles as the bands
//! arrive (uncompressed, LZW or deflate, with the horizontal predictor),
//! and the image file directory last.

use std::path::Path;

use gigapix_core::{BandWriter, Header, Image, Metadata, Result};

use crate::OpenOptions;
use crate::params::Params;

mod load;
mod save;

/// Opens a TIFF file, reading its header only.
pub(crate) fn open(
    path: &Path,
    name: &str,
    options: &OpenOptions,
    params: &mut Params,
) -> Result<Image> {
    load::open(path, name, options, params)
}

/// A writer saving `header` as TIFF, with the ICC profile of `metadata`.
pub(crate) fn writer(
    path: &Path,
    name: &str,
    header: &Header,
    metadata: &Metadata,
    params: &mut Params,
) -> Result<Box<dyn BandWriter>> {
    save::writer(path, name, header, metadata, params)
}
