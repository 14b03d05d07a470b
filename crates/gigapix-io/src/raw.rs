//! The raw format of gigapix (extension `.gpx`): a fixed header and the
//! pixels exactly as the engine holds them, so a file can be viewed in
//! place through a memory map, with no decoding, for every band format.
//!
//! # Layout
//!
//! | offset | size | field                                                      |
//! |-------:|-----:|------------------------------------------------------------|
//! | 0      | 8    | magic, the ASCII bytes `GIGAPIX1`                          |
//! | 8      | 4    | width, `u32` little-endian, at least 1                     |
//! | 12     | 4    | height, `u32` little-endian, at least 1                    |
//! | 16     | 4    | bands, `u32` little-endian, at least 1                     |
//! | 20     | 1    | band format code ([`BandFormat::code`]: u8 0, u16 1, u32 2, f32 3, i8 4, i16 5, i32 6, f64 7) |
//! | 21     | 1    | interpretation code ([`Interpretation::code`])             |
//! | 22     | 42   | reserved, all zero (a reader rejects anything else)        |
//! | 64     | ...  | pixels                                                     |
//!
//! The pixels follow the header with no gap: `height` rows top to bottom,
//! each `width` pixels left to right, each pixel `bands` band elements,
//! each element in little-endian byte order (`f32` and `f64` as IEEE 754
//! binary32 and binary64, signed integers in two's complement).
//! Rows are packed: row `y` starts at byte `64 + y × width × bands ×
//! size`. Because the header is 64 bytes long, every element is aligned
//! to its size in a page-aligned map. Bytes after the last row are ignored.
//!
//! # Big-endian hosts
//!
//! Files are always little-endian. On a big-endian host only `u8` files
//! are read and written; any other band format is an
//! [`Unsupported`](gigapix_core::ErrorKind::Unsupported) error.

use std::io::BufRead;

use gigapix_core::{BandFormat, Error, ErrorKind, Header, Interpretation, Result};

use crate::FileFormat;
use crate::scan::Scan;
use crate::source::{Encoding, Layout};

/// The 8 bytes a raw file starts with.
pub const MAGIC: [u8; 8] = *b"GIGAPIX1";

/// Length of the header; the pixels start at this offset.
pub const HEADER_LEN: usize = 64;

/// The 64-byte header of a raw file holding `header`.
pub fn header_bytes(header: &Header) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&header.width.to_le_bytes());
    h[12..16].copy_from_slice(&header.height.to_le_bytes());
    h[16..20].copy_from_slice(&header.bands.to_le_bytes());
    h[20] = header.format.code();
    h[21] = header.interpretation.code();
    h
}

/// `Err` if this host cannot hold `format` in the file's byte order.
pub(crate) fn check_host(name: &str, format: BandFormat) -> Result<()> {
    if cfg!(target_endian = "big") && format != BandFormat::U8 {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{name}: raw files of {format} are not supported on big-endian hosts (only u8 is)"
            ),
        ));
    }
    Ok(())
}

/// Parses the rest of a raw header whose 8 magic bytes were just read.
pub(crate) fn parse<R: BufRead>(scan: &mut Scan<'_, R>) -> Result<Layout> {
    let name = scan.name();
    let mut rest = [0u8; HEADER_LEN - MAGIC.len()];
    if !scan.fill(&mut rest)? {
        return Err(Error::format(format!(
            "{name}: raw header is truncated (the file ends at byte {}, the header is {HEADER_LEN} bytes)",
            scan.pos()
        )));
    }
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..].copy_from_slice(&rest);
    let u32_at = |o: usize| u32::from_le_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]);
    let bad = |msg: String| Error::format(format!("{name}: bad raw header: {msg}"));
    let format = BandFormat::from_code(h[20])
        .ok_or_else(|| bad(format!("unknown band format code {}", h[20])))?;
    let interpretation = Interpretation::from_code(h[21])
        .ok_or_else(|| bad(format!("unknown interpretation code {}", h[21])))?;
    if let Some(i) = h[22..].iter().position(|&b| b != 0) {
        return Err(bad(format!(
            "reserved byte {} is {:#04x}, not zero",
            22 + i,
            h[22 + i]
        )));
    }
    check_host(name, format)?;
    let header = Header {
        width: u32_at(8),
        height: u32_at(12),
        bands: u32_at(16),
        format,
        interpretation,
    };
    Ok(Layout {
        format: FileFormat::Raw,
        variant: "gpx",
        header,
        data_offset: HEADER_LEN as u64,
        encoding: Encoding::Native,
        maxval: None,
    })
}
