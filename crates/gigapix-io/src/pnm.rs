//! Binary PPM (`P6`) and PGM (`P5`): header parsing and writing.
//!
//! The header is `P5` or `P6`, then width, height and maxval as decimal
//! numbers separated by whitespace (space, tab, CR, LF, VT, FF) and
//! comments (`#` to the end of the line), then exactly one whitespace byte,
//! then the raster: rows top to bottom, samples of one byte (maxval up to
//! 255) or two bytes big-endian (maxval 256 to 65535).

use std::io::BufRead;

use gigapix_core::{BandFormat, Error, ErrorKind, Header, Result};

use crate::FileFormat;
use crate::scan::Scan;
use crate::source::{Encoding, Layout};

/// Longest header accepted (comments included): a file whose header runs
/// on beyond this is not a sensible PPM.
const MAX_HEADER: u64 = 1 << 20;

/// `true` for the whitespace bytes of the netpbm formats.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// A byte for a message: itself if printable, else its hex code.
fn show(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

fn bad(name: &str, msg: impl std::fmt::Display) -> Error {
    Error::format(format!("{name}: bad PPM/PGM header: {msg}"))
}

/// The next header byte; the end of the file or an overlong header is an
/// error.
fn next<R: BufRead>(scan: &mut Scan<'_, R>) -> Result<u8> {
    if scan.pos() >= MAX_HEADER {
        return Err(bad(
            scan.name(),
            format!("header is longer than {MAX_HEADER} bytes"),
        ));
    }
    match scan.byte()? {
        Some(b) => Ok(b),
        None => Err(Error::format(format!(
            "{}: PPM/PGM header is truncated (the file ends at byte {})",
            scan.name(),
            scan.pos()
        ))),
    }
}

/// Skips a comment whose `#` was just read: everything up to and including
/// the next CR or LF.
fn skip_comment<R: BufRead>(scan: &mut Scan<'_, R>) -> Result<()> {
    loop {
        if matches!(next(scan)?, b'\n' | b'\r') {
            return Ok(());
        }
    }
}

/// Where a number's digits stop, the byte that stopped them.
enum Stop {
    /// Whitespace or a comment (already skipped).
    Separator,
    /// One whitespace byte (the maxval's terminator).
    Space,
}

/// Reads a decimal number after skipping whitespace and comments. Returns
/// the value and checks the byte after its digits against `stop`.
fn number<R: BufRead>(scan: &mut Scan<'_, R>, what: &str, stop: Stop) -> Result<u32> {
    let mut b = next(scan)?;
    loop {
        if is_space(b) {
            b = next(scan)?;
        } else if b == b'#' {
            skip_comment(scan)?;
            b = next(scan)?;
        } else {
            break;
        }
    }
    if !b.is_ascii_digit() {
        return Err(bad(
            scan.name(),
            format!(
                "expected the {what} (a decimal number) at byte {}, found {}",
                scan.pos() - 1,
                show(b)
            ),
        ));
    }
    let mut value: u32 = 0;
    loop {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(b - b'0')))
            .ok_or_else(|| {
                bad(
                    scan.name(),
                    format!("the {what} is too large (more than {})", u32::MAX),
                )
            })?;
        b = next(scan)?;
        if !b.is_ascii_digit() {
            break;
        }
    }
    match stop {
        Stop::Separator if is_space(b) => Ok(value),
        Stop::Separator if b == b'#' => {
            skip_comment(scan)?;
            Ok(value)
        }
        Stop::Space if is_space(b) => Ok(value),
        _ => Err(bad(
            scan.name(),
            format!(
                "unexpected {} after the {what} at byte {}",
                show(b),
                scan.pos() - 1
            ),
        )),
    }
}

/// Parses the rest of a PNM header whose two magic bytes (`P` and `kind`,
/// `b'5'` or `b'6'`) were just read.
pub(crate) fn parse<R: BufRead>(scan: &mut Scan<'_, R>, kind: u8) -> Result<Layout> {
    let (bands, variant) = match kind {
        b'5' => (1, "pgm"),
        b'6' => (3, "ppm"),
        _ => return Err(unsupported_kind(scan.name(), kind)),
    };
    match next(scan)? {
        b'#' => skip_comment(scan)?,
        b if is_space(b) => {}
        b => {
            return Err(bad(
                scan.name(),
                format!(
                    "expected whitespace after the magic number P{}, found {}",
                    kind as char,
                    show(b)
                ),
            ));
        }
    }
    let width = number(scan, "width", Stop::Separator)?;
    let height = number(scan, "height", Stop::Separator)?;
    let maxval = number(scan, "maxval", Stop::Space)?;
    let format = match maxval {
        1..=255 => BandFormat::U8,
        256..=65535 => BandFormat::U16,
        _ => {
            return Err(bad(
                scan.name(),
                format!("maxval {maxval} is out of range (it must be 1 to 65535)"),
            ));
        }
    };
    Ok(Layout {
        format: FileFormat::Pnm,
        variant,
        header: Header::new(width, height, bands, format),
        data_offset: scan.pos(),
        encoding: if format == BandFormat::U16 {
            Encoding::U16Be
        } else {
            Encoding::Native
        },
        maxval: Some(maxval),
    })
}

/// The error for a netpbm variant we do not read (`P1`–`P4`, `P7`, ...).
pub(crate) fn unsupported_kind(name: &str, kind: u8) -> Error {
    let what = match kind {
        b'1' => "P1 (ASCII PBM)",
        b'2' => "P2 (ASCII PGM)",
        b'3' => "P3 (ASCII PPM)",
        b'4' => "P4 (binary PBM, 1 bit per pixel)",
        b'7' => "P7 (PAM)",
        b'F' | b'f' => "PFM (float)",
        _ => "an unknown netpbm variant",
    };
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "{name}: {what} files are not supported; only binary P5 (PGM) and P6 (PPM) are read"
        ),
    )
}

/// The header text of a PPM/PGM for `header` (1 or 3 bands, u8 or u16,
/// checked by the caller).
pub(crate) fn header_bytes(header: &Header) -> Vec<u8> {
    let magic = if header.bands == 1 { "P5" } else { "P6" };
    let maxval = if header.format == BandFormat::U8 {
        255
    } else {
        65535
    };
    format!("{magic}\n{} {}\n{maxval}\n", header.width, header.height).into_bytes()
}

/// Checks that a PPM/PGM can hold the bands of `header` (its band format,
/// u8 or u16, is checked against the format table by `crate::writer`).
pub(crate) fn check_savable(name: &str, header: &Header) -> Result<()> {
    if header.bands == 1 || header.bands == 3 {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::InvalidArgument,
        format!(
            "{name}: PPM/PGM holds 1 band (PGM) or 3 bands (PPM), but the image has {} band{}: \
             extract 1 or 3 bands first (or save as .gpx, which holds anything)",
            header.bands,
            if header.bands == 1 { "" } else { "s" },
        ),
    ))
}
