//! The JPEG headers zune-jpeg does not tell us about: a scan of the
//! markers from SOI to the first SOS, for the frame type (SOF), the sample
//! precision, the component counts of the frame and of the first scan, and
//! the Adobe APP14 transform.

use std::io::{BufRead, Seek};

use gigapix_core::{Error, Result};

use super::bad;

/// What the headers say, beyond zune-jpeg's view.
#[derive(Debug, Default)]
pub(super) struct Markers {
    /// Adobe APP14 transform, if the segment is present.
    pub(super) adobe: Option<u8>,
    /// SOF marker (0xC0..=0xCF).
    pub(super) sof: u8,
    /// Sample precision.
    pub(super) precision: u8,
    /// Components of the frame and of the first scan.
    pub(super) frame_components: u8,
    pub(super) scan_components: u8,
}

/// Scans the markers from SOI to the first SOS.
pub(super) fn scan_markers<R: BufRead + Seek>(r: &mut R, name: &str) -> Result<Markers> {
    let truncated = || bad(name, "file is truncated: it ends inside the JPEG headers");
    let read = |r: &mut R, buf: &mut [u8]| -> Result<()> {
        r.read_exact(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                truncated()
            } else {
                Error::io(name, e)
            }
        })
    };
    let mut m = Markers::default();
    let mut two = [0u8; 2];
    read(r, &mut two)?;
    if two != [0xFF, 0xD8] {
        return Err(bad(name, "not a JPEG file (no SOI marker)"));
    }
    loop {
        // Find 0xFF, skip fill bytes.
        let mut b = [0u8; 1];
        read(r, &mut b)?;
        if b[0] != 0xFF {
            return Err(bad(
                name,
                format_args!("damaged JPEG: expected a marker, found byte {:#04x}", b[0]),
            ));
        }
        let mut marker = 0xFF;
        while marker == 0xFF {
            read(r, &mut b)?;
            marker = b[0];
        }
        match marker {
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 | 0xD9 | 0x00 => {
                return Err(bad(
                    name,
                    format_args!("damaged JPEG: unexpected marker {marker:#04x} in the headers"),
                ));
            }
            _ => {}
        }
        read(r, &mut two)?;
        let len = usize::from(u16::from_be_bytes(two));
        if len < 2 {
            return Err(bad(name, "damaged JPEG: segment length below 2"));
        }
        let body_len = len - 2;
        match marker {
            0xDA => {
                read(r, &mut b)?;
                m.scan_components = b[0];
                return Ok(m);
            }
            0xEE | 0xC0..=0xCF if marker != 0xC4 && marker != 0xC8 && marker != 0xCC => {
                let mut body = vec![0u8; body_len];
                read(r, &mut body)?;
                if marker == 0xEE {
                    if body.len() >= 12 && body.starts_with(b"Adobe") {
                        m.adobe = Some(body[11]);
                    }
                } else {
                    if body.len() < 6 {
                        return Err(bad(name, "damaged JPEG: short SOF segment"));
                    }
                    m.sof = marker;
                    m.precision = body[0];
                    m.frame_components = body[5];
                }
            }
            _ => {
                r.seek_relative(body_len as i64)
                    .map_err(|e| Error::io(name, e))?;
            }
        }
    }
}
