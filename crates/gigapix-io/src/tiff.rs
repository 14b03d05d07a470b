//! TIFF loader and saver (in progress: every call fails with
//! `ErrorKind::Unsupported` until the codec lands).

use std::path::Path;

use gigapix_core::{BandWriter, Error, ErrorKind, Header, Image, Result};

use crate::OpenOptions;
use crate::params::Params;

fn not_yet(name: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("{name}: TIFF is not supported yet"),
    )
}

/// Opens a TIFF file, reading its header only.
pub(crate) fn open(
    _path: &Path,
    name: &str,
    _options: &OpenOptions,
    _params: &mut Params,
) -> Result<Image> {
    Err(not_yet(name))
}

/// A writer saving `header` as TIFF.
pub(crate) fn writer(
    _path: &Path,
    name: &str,
    _header: &Header,
    _params: &mut Params,
) -> Result<Box<dyn BandWriter>> {
    Err(not_yet(name))
}
