//! The little of EXIF the codecs need: the orientation tag (0x0112) of the
//! first directory of a TIFF-structured EXIF block, read when loading and
//! made to agree with the pixels when saving. The block itself is carried
//! as it is ([`Metadata::exif`]); JPEG keeps it in an APP1 segment after
//! [`SIGNATURE`], PNG in an `eXIf` chunk.

use std::borrow::Cow;

use gigapix_core::Metadata;

/// The signature before the EXIF block of a JPEG APP1 segment (some
/// writers put it in PNG's `eXIf` too).
pub(crate) const SIGNATURE: &[u8] = b"Exif\0\0";

/// The tag number of the orientation.
const ORIENTATION: u16 = 0x0112;

/// The TIFF type SHORT.
const SHORT: u16 = 3;

/// A TIFF-structured block in its byte order.
#[derive(Clone, Copy)]
struct Block<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl<'a> Block<'a> {
    /// The block, if it starts with a TIFF header (`II` or `MM`, 42).
    fn new(bytes: &'a [u8]) -> Option<Block<'a>> {
        let big_endian = match bytes.get(0..2)? {
            b"MM" => true,
            b"II" => false,
            _ => return None,
        };
        let block = Block { bytes, big_endian };
        (block.u16_at(2)? == 42).then_some(block)
    }

    fn u16_at(self, at: usize) -> Option<u16> {
        let b = self.bytes.get(at..at.checked_add(2)?)?;
        let b = [b[0], b[1]];
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32_at(self, at: usize) -> Option<u32> {
        let b = self.bytes.get(at..at.checked_add(4)?)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// The offset of the first orientation entry of the first directory,
    /// if its type is SHORT and its value is there.
    fn orientation_entry(self) -> Option<usize> {
        let ifd = usize::try_from(self.u32_at(4)?).ok()?;
        let count = self.u16_at(ifd)?;
        for i in 0..usize::from(count) {
            let entry = ifd.checked_add(2 + 12 * i)?;
            if self.u16_at(entry)? == ORIENTATION {
                self.u16_at(entry + 8)?;
                return (self.u16_at(entry + 2)? == SHORT).then_some(entry);
            }
        }
        None
    }
}

/// The orientation tag (0x0112) of IFD0 of a TIFF-structured EXIF block;
/// 0 when absent or invalid (not 1 to 8).
pub(crate) fn orientation(exif: &[u8]) -> u16 {
    Block::new(exif)
        .and_then(|b| b.u16_at(b.orientation_entry()? + 8))
        .filter(|v| (1..=8).contains(v))
        .unwrap_or(0)
}

/// Sets the value of the orientation tag (0x0112, a SHORT) of the first
/// directory of a TIFF-structured EXIF block, in the block's byte order.
/// `false` (and `exif` unchanged) if the block has no such tag.
fn set_orientation(exif: &mut [u8], orientation: u16) -> bool {
    let Some(block) = Block::new(exif) else {
        return false;
    };
    let Some(entry) = block.orientation_entry() else {
        return false;
    };
    let bytes = if block.big_endian {
        orientation.to_be_bytes()
    } else {
        orientation.to_le_bytes()
    };
    exif[entry + 8..entry + 10].copy_from_slice(&bytes);
    true
}

/// The EXIF block without the [`SIGNATURE`] some writers put before it.
pub(crate) fn strip_signature(data: &[u8]) -> &[u8] {
    data.strip_prefix(SIGNATURE).unwrap_or(data)
}

/// The EXIF block of `metadata` as it should be saved, or `None` if there
/// is none. When [`Metadata::orientation`] is 1 to 8 and the block's
/// orientation tag (0x0112 in its first directory) says otherwise, a copy
/// with the tag's value replaced is returned, so that the file agrees
/// with the pixels (after `autorotate`, orientation 1). A block without
/// the tag is kept as it is.
pub(crate) fn for_save(metadata: &Metadata) -> Option<Cow<'_, [u8]>> {
    let exif = metadata.exif.as_deref().filter(|e| !e.is_empty())?;
    let want = metadata.orientation;
    if !(1..=8).contains(&want) || orientation(exif) == want {
        return Some(Cow::Borrowed(exif));
    }
    let mut copy = exif.to_vec();
    Some(if set_orientation(&mut copy, want) {
        Cow::Owned(copy)
    } else {
        Cow::Borrowed(exif)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block with one directory holding `entries` (tag, type, value).
    fn block(big_endian: bool, entries: &[(u16, u16, u16)]) -> Vec<u8> {
        let u16b = |v: u16| {
            if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut b = if big_endian {
            b"MM".to_vec()
        } else {
            b"II".to_vec()
        };
        b.extend_from_slice(&u16b(42));
        b.extend_from_slice(&if big_endian {
            8u32.to_be_bytes()
        } else {
            8u32.to_le_bytes()
        });
        b.extend_from_slice(&u16b(entries.len() as u16));
        for &(tag, ty, value) in entries {
            b.extend_from_slice(&u16b(tag));
            b.extend_from_slice(&u16b(ty));
            b.extend_from_slice(&[0, 0, 0, 0]);
            b.extend_from_slice(&u16b(value));
            b.extend_from_slice(&[0, 0]);
        }
        b
    }

    #[test]
    fn reads_and_sets_the_orientation() {
        for be in [false, true] {
            let mut b = block(be, &[(0x010F, 2, 0), (ORIENTATION, SHORT, 6)]);
            assert_eq!(orientation(&b), 6);
            assert!(set_orientation(&mut b, 1));
            assert_eq!(orientation(&b), 1);
            let mut long = block(be, &[(ORIENTATION, 4, 6)]);
            assert_eq!(orientation(&long), 0);
            assert!(!set_orientation(&mut long, 1));
            assert_eq!(orientation(&block(be, &[(ORIENTATION, SHORT, 9)])), 0);
            assert_eq!(orientation(&block(be, &[])), 0);
        }
        assert_eq!(orientation(b"nonsense"), 0);
        assert_eq!(orientation(&[]), 0);
        let mut cut = block(false, &[(ORIENTATION, SHORT, 3)]);
        cut.truncate(cut.len() - 4);
        assert_eq!(orientation(&cut), 0);
        assert!(!set_orientation(&mut cut, 1));
    }
}
