//! Pyramids: which directories of a TIFF are the resolution levels of a
//! page, and the associated images and slide properties of Aperio SVS
//! files. Only directories are read here (their tag entries and a few
//! small values), never pixels or chunk tables.
//!
//! # What counts as a level
//!
//! Level 0 is the page opened (`page=N`, default 0). The levels after it
//! are, in this order of preference:
//!
//! * **Aperio SVS** (page 0's ImageDescription starts with `Aperio`, as
//!   OpenSlide detects it): every *tiled* main directory, in file order,
//!   narrower than the level before it and of the same samples as page 0
//!   (levels of an SVS are usually 4x apart, not 2x). The stripped
//!   directories are associated images: the second page is `thumbnail`,
//!   and the others are `label` or `macro` when a line of their
//!   ImageDescription starts with that word (as OpenSlide reads them).
//! * **SubIFD pyramid** (libvips `--subifd`, OME-TIFF): the directories
//!   the page's SubIFDs tag (330) points to, in the tag's order, as long
//!   as each one *halves* the one before.
//! * **Page pyramid** (libvips `--pyramid`, ImageMagick `ptif:`): the
//!   main directories following the page, as long as each one halves the
//!   one before.
//!
//! A directory *halves* the one before when it has the same samples
//! (SamplesPerPixel, BitsPerSample, SampleFormat and
//! PhotometricInterpretation), its width is the floor or the ceiling of
//! half the previous width, its height likewise, and it is smaller in at
//! least one dimension. Strips or tiles, compression and tile size do not
//! matter. A directory that cannot be read ends the levels; the open of a
//! level past it names the damage.

use std::collections::HashSet;
use std::io::{self, Read, Seek, SeekFrom};

use gigapix_core::{Error, ErrorKind, Metadata, Result};
use tiff::decoder::ifd::Value;
use tiff::tags::{IfdPointer, Tag};

use super::ifd::{TiffDecoder, tiff_error};
use super::source::PosReader;
use crate::input::Held;

/// Most main directories read when looking for levels.
const MAX_DIRECTORIES: usize = 10_000;

/// A reader of the file that shows the header pointing at another first
/// directory: the `tiff` crate's decoder then takes that directory (a
/// SubIFD, say) as its first image, with every tag reader it has.
pub(super) struct DirReader {
    inner: PosReader,
    /// Where the header's first-directory offset is, and its bytes as
    /// shown.
    patch: Option<(u64, Vec<u8>)>,
}

impl DirReader {
    /// A reader of the file as it is.
    pub(super) fn new(inner: PosReader) -> DirReader {
        DirReader { inner, patch: None }
    }

    /// A reader of the file whose header points at the directory at
    /// `ifd`.
    pub(super) fn at(inner: PosReader, ifd: u64, bigtiff: bool, big_endian: bool) -> DirReader {
        let bytes = match (bigtiff, big_endian) {
            (true, true) => ifd.to_be_bytes().to_vec(),
            (true, false) => ifd.to_le_bytes().to_vec(),
            // A classic TIFF's offsets are 32-bit: a directory further
            // away does not exist in it.
            (false, true) => u32::try_from(ifd)
                .unwrap_or(u32::MAX)
                .to_be_bytes()
                .to_vec(),
            (false, false) => u32::try_from(ifd)
                .unwrap_or(u32::MAX)
                .to_le_bytes()
                .to_vec(),
        };
        let start = if bigtiff { 8 } else { 4 };
        DirReader {
            inner,
            patch: Some((start, bytes)),
        }
    }
}

impl Read for DirReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let pos = self.inner.stream_position()?;
        let n = self.inner.read(buf)?;
        if let Some((start, bytes)) = &self.patch {
            let end = start + bytes.len() as u64;
            let read_end = pos + n as u64;
            for at in pos.max(*start)..read_end.min(end) {
                buf[(at - pos) as usize] = bytes[(at - start) as usize];
            }
        }
        Ok(n)
    }
}

impl Seek for DirReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.inner.seek(to)
    }
}

/// What a directory holds, as far as levels are concerned.
#[derive(Clone, Debug)]
struct Dir {
    ifd: u64,
    width: u32,
    height: u32,
    /// SamplesPerPixel, BitsPerSample, SampleFormat, Photometric.
    samples: (u64, u64, u64, u64),
    tiled: bool,
    description: Option<String>,
    subifds: Vec<u64>,
    next: Option<u64>,
}

/// Reads the directory at `ifd` (its entries and the few values above).
fn read_dir(dec: &mut TiffDecoder, name: &str, ifd: u64) -> Result<Dir> {
    let err = |e| tiff_error(name, e);
    let dir = dec.read_directory(IfdPointer(ifd)).map_err(err)?;
    let mut tags = dec.read_directory_tags(&dir);
    let mut unsigned = |tag: Tag, default: u64| -> Result<u64> {
        Ok(tags.find_tag_unsigned(tag).map_err(err)?.unwrap_or(default))
    };
    let width = unsigned(Tag::ImageWidth, 0)?;
    let height = unsigned(Tag::ImageLength, 0)?;
    let spp = unsigned(Tag::SamplesPerPixel, 1)?;
    let photometric = unsigned(Tag::PhotometricInterpretation, u64::MAX)?;
    let tiled = unsigned(Tag::TileWidth, 0)? != 0;
    // Per-sample tags: the first sample's value (the page's open checks
    // that all agree).
    let mut first = |tag: Tag, default: u64| -> Result<u64> {
        Ok(tags
            .find_tag_unsigned_vec::<u64>(tag)
            .map_err(err)?
            .and_then(|v| v.first().copied())
            .unwrap_or(default))
    };
    let bits = first(Tag::BitsPerSample, 1)?;
    let format = first(Tag::SampleFormat, 1)?;
    let description = match tags.find_tag(Tag::ImageDescription) {
        Ok(Some(v)) => v.into_string().ok(),
        _ => None,
    };
    let subifds = match tags.find_tag(Tag::SubIfd) {
        Ok(Some(v)) => v
            .into_ifd_vec()
            .map_err(err)?
            .into_iter()
            .map(|p| p.0)
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => return Err(err(e)),
    };
    let dim = |v: u64| u32::try_from(v).unwrap_or(0);
    Ok(Dir {
        ifd,
        width: dim(width),
        height: dim(height),
        samples: (spp, bits, format, photometric),
        tiled,
        description,
        subifds,
        next: dir.next().map(|p| p.0),
    })
}

/// `next` halves `prev` (see the module docs).
fn halves(prev: &Dir, next: &Dir) -> bool {
    let half = |a: u32, b: u32| b == a / 2 || b == a.div_ceil(2);
    prev.samples == next.samples
        && next.width > 0
        && next.height > 0
        && half(prev.width, next.width)
        && half(prev.height, next.height)
        && (next.width < prev.width || next.height < prev.height)
}

/// How the levels of a page are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// One level: no pyramid.
    Single,
    /// Following main directories.
    Pages,
    /// SubIFDs of the page.
    SubIfds,
    /// An Aperio SVS slide.
    Aperio,
}

/// One level or associated image: where its directory is.
#[derive(Clone, Debug)]
pub(super) struct Level {
    /// The directory's offset.
    pub(super) ifd: u64,
    /// The main directory it is, or for SubIFDs the page they belong to.
    pub(super) page: usize,
    pub(super) width: u32,
    pub(super) height: u32,
}

/// The levels of a page, and for SVS slides the associated images and
/// slide properties.
#[derive(Debug)]
pub(super) struct Pyramid {
    pub(super) kind: Kind,
    /// Level 0 first.
    pub(super) levels: Vec<Level>,
    /// SVS associated images by name (`thumbnail`, `label`, `macro`).
    pub(super) associated: Vec<(&'static str, Level)>,
    /// SVS properties, `key = value` from the description.
    pub(super) properties: Vec<(String, String)>,
    /// Why the levels end early, if a directory could not be read.
    pub(super) damage: Option<String>,
}

/// Finds the levels of main directory `page`, the first main directory
/// being at `first`. `dec` is any decoder of the file (its current image
/// is not changed).
pub(super) fn scan(dec: &mut TiffDecoder, name: &str, first: u64, page: usize) -> Result<Pyramid> {
    // Walk the main chain to the page.
    let mut seen = HashSet::new();
    let mut ptr = first;
    let mut dir = read_dir(dec, name, ptr)?;
    seen.insert(ptr);
    for _ in 0..page {
        ptr = dir
            .next
            .ok_or_else(|| Error::format(format!("{name}: bad TIFF: page {page} is missing")))?;
        if !seen.insert(ptr) {
            return Err(Error::format(format!(
                "{name}: bad TIFF: the directories loop"
            )));
        }
        dir = read_dir(dec, name, ptr)?;
    }
    let base = dir;
    let level_of = |d: &Dir, page: usize| Level {
        ifd: d.ifd,
        page,
        width: d.width,
        height: d.height,
    };
    let mut pyramid = Pyramid {
        kind: Kind::Single,
        levels: vec![level_of(&base, page)],
        associated: Vec::new(),
        properties: Vec::new(),
        damage: None,
    };
    let aperio = page == 0
        && base.tiled
        && base
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("Aperio"));
    if aperio {
        pyramid.kind = Kind::Aperio;
        pyramid.properties = aperio_properties(base.description.as_deref().unwrap_or(""));
        let mut prev = base.clone();
        let mut next = base.next;
        let mut index = 0;
        while let Some(p) = next {
            index += 1;
            if index >= MAX_DIRECTORIES || !seen.insert(p) {
                break;
            }
            let d = match read_dir(dec, name, p) {
                Ok(d) => d,
                Err(e) => {
                    pyramid.damage = Some(format!("page {index}: {}", e.message()));
                    break;
                }
            };
            next = d.next;
            if d.tiled {
                if d.samples == base.samples && d.width < prev.width && d.width > 0 {
                    pyramid.levels.push(level_of(&d, index));
                    prev = d;
                }
            } else if let Some(which) = associated_name(&d, index)
                && !pyramid.associated.iter().any(|(n, _)| *n == which)
            {
                pyramid.associated.push((which, level_of(&d, index)));
            }
        }
        return Ok(pyramid);
    }
    if !base.subifds.is_empty() {
        let mut prev = base.clone();
        for (i, &p) in base.subifds.iter().enumerate() {
            let d = match read_dir(dec, name, p) {
                Ok(d) => d,
                Err(e) => {
                    pyramid.damage = Some(format!("SubIFD {i}: {}", e.message()));
                    break;
                }
            };
            if !halves(&prev, &d) {
                break;
            }
            pyramid.levels.push(level_of(&d, page));
            prev = d;
        }
        if pyramid.levels.len() > 1 || pyramid.damage.is_some() {
            pyramid.kind = Kind::SubIfds;
            return Ok(pyramid);
        }
    }
    let mut prev = base;
    let mut index = page;
    while let Some(p) = prev.next {
        index += 1;
        if index >= MAX_DIRECTORIES || !seen.insert(p) {
            break;
        }
        let d = match read_dir(dec, name, p) {
            Ok(d) => d,
            Err(e) => {
                pyramid.damage = Some(format!("page {index}: {}", e.message()));
                break;
            }
        };
        if !halves(&prev, &d) {
            break;
        }
        pyramid.levels.push(level_of(&d, index));
        prev = d;
    }
    if pyramid.levels.len() > 1 {
        pyramid.kind = Kind::Pages;
    }
    Ok(pyramid)
}

/// The associated image a stripped SVS directory is, if any: the second
/// page is the thumbnail; others are named by a line of their
/// description starting with `label` or `macro`.
fn associated_name(d: &Dir, index: usize) -> Option<&'static str> {
    if index == 1 {
        return Some("thumbnail");
    }
    let description = d.description.as_deref()?;
    description
        .lines()
        .find_map(|line| match line.split_whitespace().next() {
            Some("label") => Some("label"),
            Some("macro") => Some("macro"),
            _ => None,
        })
}

/// The `key = value` properties of an Aperio ImageDescription: the parts
/// after the first `|`-separated one.
fn aperio_properties(description: &str) -> Vec<(String, String)> {
    description
        .split('|')
        .skip(1)
        .filter_map(|part| {
            let (k, v) = part.split_once('=')?;
            let (k, v) = (k.trim(), v.trim());
            (!k.is_empty()).then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// What the open asked for.
pub(super) enum Choice<'a> {
    /// Level `n` (0 is the page itself).
    Level(usize),
    /// An SVS associated image.
    Associated(&'a str),
}

impl Pyramid {
    /// The directory to open for `choice`.
    pub(super) fn select(&self, name: &str, choice: &Choice<'_>) -> Result<&Level> {
        match *choice {
            Choice::Level(n) => self.levels.get(n).ok_or_else(|| {
                let count = self.levels.len();
                let damage = self
                    .damage
                    .as_ref()
                    .map(|d| format!("; the levels end at a damaged directory ({d})"))
                    .unwrap_or_default();
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "{name}: level {n} does not exist (the file has {count} level{}: {}){damage}",
                        if count == 1 { "" } else { "s" },
                        self.sizes()
                    ),
                )
            }),
            Choice::Associated(which) => {
                if self.kind != Kind::Aperio {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "{name}: associated={which}: associated images are those of Aperio SVS slides, and this file is not one"
                        ),
                    ));
                }
                self.associated
                    .iter()
                    .find(|(n, _)| *n == which)
                    .map(|(_, l)| l)
                    .ok_or_else(|| {
                        let have: Vec<&str> = self.associated.iter().map(|(n, _)| *n).collect();
                        Error::new(
                            ErrorKind::InvalidArgument,
                            format!(
                                "{name}: the slide has no associated image `{which}` (it has: {})",
                                if have.is_empty() {
                                    "none".to_string()
                                } else {
                                    have.join(", ")
                                }
                            ),
                        )
                    })
            }
        }
    }

    /// `500x300,250x150,...`: every level's size.
    pub(super) fn sizes(&self) -> String {
        self.levels
            .iter()
            .map(|l| format!("{}x{}", l.width, l.height))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Sets the pyramid's fields on the metadata of the image opened for
    /// `choice`: `levels`, `level`, `level-sizes` and `pyramid` when there
    /// is more than one level or the file is a slide; for slides also the
    /// associated images' names, `aperio.KEY` for every property,
    /// `mpp-x`/`mpp-y` (from `MPP`) and `objective-power` (from `AppMag`).
    pub(super) fn set_fields(&self, metadata: &mut Metadata, choice: &Choice<'_>) {
        if self.levels.len() > 1 || self.kind == Kind::Aperio {
            metadata.set_field("levels", self.levels.len());
            metadata.set_field("level-sizes", self.sizes());
            metadata.set_field(
                "pyramid",
                match self.kind {
                    Kind::Single => "none",
                    Kind::Pages => "pages",
                    Kind::SubIfds => "subifd",
                    Kind::Aperio => "aperio",
                },
            );
            match choice {
                Choice::Level(n) => {
                    metadata.set_field("level", n);
                    if self.kind == Kind::SubIfds && *n > 0 {
                        metadata.set_field("subifd", n - 1);
                    }
                }
                Choice::Associated(which) => metadata.set_field("associated", which),
            }
        }
        if self.kind != Kind::Aperio {
            return;
        }
        metadata.set_field("slide-format", "aperio");
        if !self.associated.is_empty() {
            let names: Vec<&str> = self.associated.iter().map(|(n, _)| *n).collect();
            metadata.set_field("associated-images", names.join(","));
        }
        for (k, v) in &self.properties {
            metadata.set_field(&format!("aperio.{k}"), v);
        }
        let number = |key: &str| {
            self.properties
                .iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        if let Some(mpp) = number("MPP") {
            metadata.set_field("mpp-x", mpp);
            metadata.set_field("mpp-y", mpp);
        }
        if let Some(mag) = number("AppMag") {
            metadata.set_field("objective-power", mag);
        }
    }
}

/// A decoder whose first image is the directory at `ifd` (a level or an
/// associated image).
pub(super) fn decoder_at(
    file: &Held,
    len: u64,
    name: &str,
    ifd: u64,
    bigtiff: bool,
    big_endian: bool,
) -> Result<TiffDecoder> {
    let reader = DirReader::at(
        PosReader::new(file.clone(), 0, len),
        ifd,
        bigtiff,
        big_endian,
    );
    super::ifd::decoder_from(reader, len, name)
}

/// XResolution, YResolution and ResolutionUnit of the decoder's page as
/// libvips reports them: `xres` and `yres` in pixels per millimetre
/// (converted from inches or centimetres, to single precision as
/// libvips keeps them), and `resolution-unit` `inch`,
/// `cm` or `none` (then the values are as stored). Nothing is set
/// without an XResolution.
pub(super) fn set_resolution(dec: &mut TiffDecoder, metadata: &mut Metadata) {
    let value = |dec: &mut TiffDecoder, tag| -> Option<f64> {
        let v = match dec.find_tag(tag).ok()?? {
            Value::Rational(n, d) => f64::from(n) / f64::from(d),
            Value::Float(f) => f64::from(f),
            Value::Double(f) => f,
            Value::Short(s) => f64::from(s),
            Value::Unsigned(u) => f64::from(u),
            _ => return None,
        };
        (v.is_finite() && v > 0.0).then_some(v)
    };
    let Some(x) = value(dec, Tag::XResolution) else {
        return;
    };
    let y = value(dec, Tag::YResolution).unwrap_or(x);
    let unit: u16 = dec
        .find_tag_unsigned(Tag::ResolutionUnit)
        .ok()
        .flatten()
        .unwrap_or(2);
    let (scale, unit) = match unit {
        1 => (1.0, "none"),
        3 => (10.0, "cm"),
        _ => (25.4, "inch"),
    };
    // libtiff gives the values as floats and libvips keeps the result as
    // one: 25.4 pixels per inch stored as 13316915/524288 is 1 per mm.
    metadata.set_field("xres", (x / scale) as f32);
    metadata.set_field("yres", (y / scale) as f32);
    metadata.set_field("resolution-unit", unit);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(width: u32, height: u32) -> Dir {
        Dir {
            ifd: 0,
            width,
            height,
            samples: (3, 8, 1, 2),
            tiled: true,
            description: None,
            subifds: Vec::new(),
            next: None,
        }
    }

    #[test]
    fn halving_is_floor_or_ceiling() {
        assert!(halves(&dir(500, 300), &dir(250, 150)));
        assert!(halves(&dir(125, 75), &dir(62, 37)));
        assert!(halves(&dir(125, 75), &dir(63, 38)));
        assert!(halves(&dir(1, 75), &dir(1, 38)));
        assert!(!halves(&dir(1, 1), &dir(1, 1)));
        assert!(!halves(&dir(500, 300), &dir(125, 75)));
        assert!(!halves(&dir(500, 300), &dir(250, 300)));
        let mut grey = dir(250, 150);
        grey.samples.0 = 1;
        assert!(!halves(&dir(500, 300), &grey));
    }

    #[test]
    fn aperio_description() {
        let p = aperio_properties(
            "Aperio Image Library v10.0.50\r\n46000x32914 [0,100 46000x32814] (240x240) JPEG/RGB Q=30|AppMag = 20|MPP = 0.4990|Title = a = b",
        );
        assert_eq!(
            p,
            [
                ("AppMag".to_string(), "20".to_string()),
                ("MPP".to_string(), "0.4990".to_string()),
                ("Title".to_string(), "a = b".to_string()),
            ]
        );
    }
}
