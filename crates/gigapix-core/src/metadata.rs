//! What an image carries besides its pixels: orientation, colour profile,
//! EXIF, and facts about the file it came from.

use std::sync::Arc;

/// Metadata of an image. Sources fill it from their file; operations pass
/// their first input's on unchanged unless they override
/// [`Operation::metadata`](crate::Operation::metadata) (as `autorotate`
/// does). Savers write back what their format can hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metadata {
    /// EXIF orientation, 1 to 8 (1: as stored); 0 when unknown.
    pub orientation: u16,
    /// An ICC colour profile.
    pub icc: Option<Arc<[u8]>>,
    /// The EXIF block (TIFF-structured, without the `Exif\0\0` prefix).
    pub exif: Option<Arc<[u8]>>,
    /// Facts about the source file for `gigapix header`: `("compression",
    /// "lzw")`, `("tile", "256x256")`, `("pages", "3")`, ...
    pub fields: Vec<(String, String)>,
}

impl Metadata {
    /// No metadata.
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// The value of field `key`, if set.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets field `key` (replacing an earlier value).
    pub fn set_field(&mut self, key: &str, value: impl ToString) {
        self.fields.retain(|(k, _)| k != key);
        self.fields.push((key.to_string(), value.to_string()));
    }
}
