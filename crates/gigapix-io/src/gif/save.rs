//! The GIF saver (in progress).
use std::path::Path;

use gigapix_core::desc::Args;
use gigapix_core::{BandWriter, Error, ErrorKind, Header, Metadata, Result};

pub(crate) fn encoder_bytes(header: &Header, _args: &Args) -> Result<u64> {
    Ok(header.image_bytes())
}

pub(crate) fn encode_to_vec(
    name: &str,
    _header: &Header,
    _metadata: &Metadata,
    _args: &Args,
    _data: &[u8],
) -> Result<Vec<u8>> {
    Err(Error::new(
        ErrorKind::Unsupported,
        format!("{name}: GIF save"),
    ))
}

pub(crate) fn writer(
    _path: &Path,
    name: &str,
    _header: &Header,
    _metadata: &Metadata,
    _args: &Args,
) -> Result<Box<dyn BandWriter>> {
    Err(Error::new(
        ErrorKind::Unsupported,
        format!("{name}: GIF save"),
    ))
}
