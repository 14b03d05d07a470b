//! The one table of file formats: what gigapix knows of each, read and
//! written, and of a few it recognises but does not read (BMP, the
//! other netpbm variants), so that errors can say "BMP is not
//! supported" rather than "unknown file format".
//!
//! Everything about formats comes from [`FORMATS`]: detecting a file's
//! format from its first bytes ([`identify`]; both the codec path and the
//! streaming PPM/raw path of [`open`](crate::open)), choosing the saver
//! from the extension ([`format_for_path`](crate::format_for_path)), the
//! checks of bracket options (`out.jpg[Q=85]`, against the typed
//! [`ArgDesc`]s of the format: unknown names and bad values are errors
//! naming the option, its type and its range), the band formats a saver
//! takes, error messages listing the formats, and the documentation:
//! [`formats_markdown`] (the README's table) and [`formats_text`]
//! (`gigapix list formats`).
//!
//! ```
//! use gigapix_core::BandFormat;
//! use gigapix_io::{FileFormat, identify};
//!
//! let png = identify(b"\x89PNG\r\n\x1a\n").unwrap();
//! assert_eq!(png.format, Some(FileFormat::Png));
//! assert_eq!(png.save_formats, &[BandFormat::U8, BandFormat::U16]);
//! assert!(identify(b"GIF89a").unwrap().load);
//! assert!(!identify(b"BM").unwrap().load);
//!
//! let jpeg = FileFormat::Jpeg.desc();
//! let q = jpeg.save_options.iter().find(|d| d.name == "Q").unwrap();
//! assert_eq!(q.describe_type(), "int, 1 to 100");
//! assert!(gigapix_io::formats_markdown().contains("| JPEG | .jpg .jpeg .jpe |"));
//! ```
//!
//! # Band formats on save
//!
//! TIFF and `.gpx` hold every band format (`u8`, `i8`, `u16`, `i16`,
//! `u32`, `i32`, `f32`, `f64`). PNG and PPM/PGM hold `u8` and `u16`, JPEG
//! `u8` only. An image in a format the file type does not hold is refused,
//! before any file is made, with an error naming the nearest format the
//! file does hold (`i8` → `u8`; `i16`, `i32`, `u32`, `f32`, `f64` → `u16`
//! where 16 bits exist, else `u8`): cast the image first. Nothing is
//! converted silently, because every conversion here loses something
//! (negative values, range or precision), and which loss is right depends
//! on what the samples mean: `cast` clamps, `scale` stretches.

use std::fmt::{self, Write as _};

use gigapix_core::desc::{ArgDesc, ArgType, Args, help_lines};
use gigapix_core::{Access, BandFormat, Error, ErrorKind, Result};

use crate::FileFormat;
use crate::params::Params;

/// A magic byte pattern: every `(offset, bytes)` part must be found at
/// its offset from the start of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Magic(pub &'static [(usize, &'static [u8])]);

impl Magic {
    /// Bytes of the file the pattern looks at.
    pub fn len(&self) -> usize {
        self.0.iter().map(|(o, b)| o + b.len()).max().unwrap_or(0)
    }

    /// `true` for a pattern of no bytes (none in the table).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` if `head`, the first bytes of a file, matches every part.
    pub fn matches(&self, head: &[u8]) -> bool {
        self.0
            .iter()
            .all(|(o, b)| head.get(*o..o + b.len()) == Some(*b))
    }

    /// `true` if a file starting with `head` could still match, given
    /// more bytes.
    fn could_match(&self, head: &[u8]) -> bool {
        self.0.iter().all(|(o, b)| {
            let known = head.len().saturating_sub(*o).min(b.len());
            head.get(*o..o + known).is_none_or(|h| h == &b[..known])
        })
    }
}

impl fmt::Display for Magic {
    /// `II*\x00`, `RIFF`, `WEBP` at 8.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (offset, bytes)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" + ")?;
            }
            for &b in *bytes {
                if b.is_ascii_graphic() && b != b'\\' && b != b'`' {
                    f.write_char(b as char)?;
                } else {
                    write!(f, "\\x{b:02x}")?;
                }
            }
            if *offset > 0 {
                write!(f, " at {offset}")?;
            }
        }
        Ok(())
    }
}

/// One file format: how it is recognised, what gigapix does with it, and
/// its options. See [`FORMATS`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct FormatDesc {
    /// Its name in messages and docs: `TIFF`, `PPM/PGM`.
    pub name: &'static str,
    /// The format, for those gigapix reads and writes; `None` for formats
    /// known only to be refused.
    pub format: Option<FileFormat>,
    /// One line about it.
    pub summary: &'static str,
    /// The patterns its files start with (any one of them).
    pub magic: &'static [Magic],
    /// File extensions, lower case and without the dot; the first is the
    /// usual one.
    pub extensions: &'static [&'static str],
    /// How the loader reads pixels: any region in any order, or top to
    /// bottom only (the planner adds a cache where a graph needs more).
    /// `None` when it cannot be loaded.
    pub access: Option<Access>,
    /// `true` if it can be read from a pipe (others need a regular file).
    pub pipes: bool,
    /// `true` if gigapix reads it.
    pub load: bool,
    /// `true` if gigapix writes it.
    pub save: bool,
    /// The band formats the saver takes (others are refused: cast first).
    pub save_formats: &'static [BandFormat],
    /// The band counts the saver takes, in words.
    pub save_bands: &'static str,
    /// Options of the loader (`in.tif[page=2]`, [`OpenOptions::set`](crate::OpenOptions::set)).
    pub load_options: &'static [ArgDesc],
    /// Options of the saver (`out.jpg[Q=85]`, [`SaveOptions::set`](crate::SaveOptions::set)).
    pub save_options: &'static [ArgDesc],
}

/// Every loader's `fail_on`.
pub(crate) const FAIL_ON: ArgDesc = ArgDesc::unset(
    "fail_on",
    ArgType::Enum(&["none", "error", "truncated", "warning"]),
    "What a damaged or truncated file does: `error` (the default, or the open options' \
     `fail_on`) fails; `none` keeps what decodes, fills the rest with zeros and warns. \
     `truncated` and `warning` are `error`.",
);

/// Every saver's `strip`.
pub(crate) const STRIP: ArgDesc = ArgDesc::optional(
    "strip",
    ArgType::Bool,
    "false",
    "Write no metadata (ICC profile, EXIF, orientation).",
);

const ALL_FORMATS: &[BandFormat] = &BandFormat::ALL;
const U8_U16: &[BandFormat] = &[BandFormat::U8, BandFormat::U16];

/// A format known only to be refused.
const fn unsupported(
    name: &'static str,
    summary: &'static str,
    magic: &'static [Magic],
    extensions: &'static [&'static str],
) -> FormatDesc {
    FormatDesc {
        name,
        format: None,
        summary,
        magic,
        extensions,
        access: None,
        pipes: false,
        load: false,
        save: false,
        save_formats: &[],
        save_bands: "",
        load_options: &[],
        save_options: &[],
    }
}

/// Every format gigapix knows: those it reads and writes first, then those
/// it recognises and refuses.
pub static FORMATS: &[FormatDesc] = &[
    FormatDesc {
        name: "TIFF",
        format: Some(FileFormat::Tiff),
        summary: "Strips or tiles, BigTIFF too; uncompressed, LZW, deflate, PackBits or JPEG \
                  (JPEG read and written; not CCITT or old-style JPEG); every band format; grey, \
                  RGB, palette, CMYK, YCbCr and CIELab read; random access per strip or tile; \
                  pyramids read as levels and written in one pass (pages or SubIFDs).",
        magic: &[
            Magic(&[(0, b"II*\0")]),
            Magic(&[(0, b"MM\0*")]),
            Magic(&[(0, b"II+\0")]),
            Magic(&[(0, b"MM\0+")]),
        ],
        extensions: &["tif", "tiff", "svs"],
        access: Some(Access::Random),
        pipes: false,
        load: true,
        save: true,
        save_formats: ALL_FORMATS,
        save_bands: "1 to 65535",
        load_options: &[
            ArgDesc::optional(
                "page",
                ArgType::int(0, i64::MAX),
                "0",
                "The page (image file directory) to read, from 0.",
            ),
            ArgDesc::unset(
                "level",
                ArgType::int(0, i64::MAX),
                "The pyramid level of the page to read, from 0 (full size): the following \
                 pages halving in size (page pyramids), the page's SubIFDs (subifd \
                 pyramids), or an Aperio slide's tiled pages. Metadata `levels` and \
                 `level-sizes` list them.",
            ),
            ArgDesc::unset(
                "associated",
                ArgType::Enum(&["thumbnail", "label", "macro"]),
                "An associated image of an Aperio SVS slide instead of a level.",
            ),
            FAIL_ON,
        ],
        save_options: &[
            ArgDesc::optional(
                "compression",
                ArgType::Enum(&["none", "lzw", "deflate", "jpeg"]),
                "none",
                "How strips or tiles are compressed; jpeg: each tile or strip a baseline JPEG \
                 (u8, 1 or 3 bands; YCbCr, subsampled 4:2:0 below Q 90).",
            ),
            ArgDesc::unset(
                "Q",
                ArgType::int(1, 100),
                "JPEG quality, with compression=jpeg (75 by default).",
            ),
            ArgDesc::unset(
                "pyramid",
                ArgType::Bool,
                "Write a pyramid: the image, then levels halved by 2x2 averages down to the one \
                 that fits in a tile, as following pages (NewSubfileType 1), made in one pass; \
                 implies `tile`.",
            ),
            ArgDesc::unset(
                "subifd",
                ArgType::Bool,
                "Write the pyramid's reduced levels as SubIFDs of page 0 (libvips' layout); \
                 implies `pyramid`.",
            ),
            ArgDesc::unset(
                "predictor",
                ArgType::Enum(&["none", "horizontal"]),
                "The horizontal predictor (integer samples, with lzw or deflate); the default \
                 is horizontal when it applies.",
            ),
            ArgDesc::optional("level", ArgType::int(1, 9), "6", "The deflate level."),
            ArgDesc::optional(
                "tile",
                ArgType::Bool,
                "false",
                "Tiles rather than strips (also chosen by tile_width or tile_height).",
            ),
            ArgDesc::unset(
                "tile_width",
                ArgType::int(16, u32::MAX as i64),
                "Tile width, a multiple of 16; 256 by default.",
            ),
            ArgDesc::unset(
                "tile_height",
                ArgType::int(16, u32::MAX as i64),
                "Tile height, a multiple of 16; 256 by default.",
            ),
            ArgDesc::unset(
                "rows_per_strip",
                ArgType::int(1, u32::MAX as i64),
                "Rows per strip; by default strips of about 256 KiB.",
            ),
            ArgDesc::unset(
                "bigtiff",
                ArgType::Bool,
                "Write a BigTIFF; by default only when the file could pass 4 GiB.",
            ),
            STRIP,
        ],
    },
    FormatDesc {
        name: "PNG",
        format: Some(FileFormat::Png),
        summary: "Grey, RGB, with or without alpha, palette, 1 to 16 bits; read row by row \
                  (Adam7 decoded whole), written streaming.",
        magic: &[Magic(&[(0, b"\x89PNG\r\n\x1a\n")])],
        extensions: &["png"],
        access: Some(Access::Sequential),
        pipes: false,
        load: true,
        save: true,
        save_formats: U8_U16,
        save_bands: "1 to 4 (grey, grey+alpha, RGB, RGBA)",
        load_options: &[FAIL_ON],
        save_options: &[
            ArgDesc::optional(
                "compression",
                ArgType::int(0, 9),
                "5",
                "0 stores, 1 is the very fast fdeflate, 2 to 9 are zlib levels.",
            ),
            ArgDesc::optional(
                "filter",
                ArgType::Enum(&["none", "sub", "up", "avg", "paeth", "adaptive"]),
                "adaptive",
                "The row filter.",
            ),
            ArgDesc::optional(
                "interlace",
                ArgType::Bool,
                "false",
                "Adam7 interlacing: not supported (an error when true).",
            ),
            STRIP,
        ],
    },
    FormatDesc {
        name: "JPEG",
        format: Some(FileFormat::Jpeg),
        summary: "Baseline and progressive, grey, YCbCr, RGB, CMYK; decoded by iMCU rows, \
                  shrink-on-load; strips encoded in parallel.",
        magic: &[Magic(&[(0, b"\xff\xd8\xff")])],
        extensions: &["jpg", "jpeg", "jpe"],
        access: Some(Access::Sequential),
        pipes: false,
        load: true,
        save: true,
        save_formats: &[BandFormat::U8],
        save_bands: "1, 3 or 4 (grey, RGB, CMYK)",
        load_options: &[
            ArgDesc::optional(
                "shrink",
                ArgType::Enum(&["1", "2", "4", "8"]),
                "1",
                "Decode at 1/shrink of the size, in the DCT domain (needs the mozjpeg feature).",
            ),
            FAIL_ON,
        ],
        save_options: &[
            ArgDesc::optional("Q", ArgType::int(1, 100), "75", "Quality."),
            ArgDesc::unset(
                "subsample",
                ArgType::Enum(&["auto", "444", "422", "420"]),
                "Chroma subsampling; auto (the default) is 4:2:0 below Q 90, else 4:4:4.",
            ),
            ArgDesc::unset(
                "subsample_mode",
                ArgType::Enum(&["auto", "on", "off"]),
                "libvips' name: on is 420, off is 444.",
            ),
            ArgDesc::unset(
                "optimize",
                ArgType::Bool,
                "Optimised Huffman tables: smaller files, but every DCT block is kept in \
                 memory; false by default.",
            ),
            ArgDesc::unset(
                "optimize_coding",
                ArgType::Bool,
                "libvips' name of optimize.",
            ),
            STRIP,
        ],
    },
    FormatDesc {
        name: "WebP",
        format: Some(FileFormat::Webp),
        summary: "Lossy and lossless, alpha, animations (first frame, or `n` frames as a tall \
                  strip), ICC/EXIF/XMP; decoded whole by libwebp, shrink-on-load; encoded from \
                  rows gathered as YUV or ARGB, animations frame by frame.",
        magic: &[Magic(&[(0, b"RIFF"), (8, b"WEBP")])],
        extensions: &["webp"],
        access: Some(Access::Random),
        pipes: false,
        load: true,
        save: true,
        save_formats: &[BandFormat::U8],
        save_bands: "1 to 4 (grey and grey+alpha saved as RGB, RGBA); at most 16383x16383",
        load_options: &[
            ArgDesc::optional(
                "page",
                ArgType::int(0, i64::MAX),
                "0",
                "The first frame to read, from 0.",
            ),
            ArgDesc::optional(
                "n",
                ArgType::int(-1, i64::MAX),
                "1",
                "Frames to read, stacked as a tall strip (metadata page-height); -1: all from page.",
            ),
            ArgDesc::optional(
                "shrink",
                ArgType::int(1, 1024),
                "1",
                "Decode at 1/shrink of the size through libwebp's rescaler (still images).",
            ),
        ],
        save_options: &[
            ArgDesc::optional(
                "Q",
                ArgType::int(0, 100),
                "75",
                "Quality (lossy; near_lossless: its level).",
            ),
            ArgDesc::optional("lossless", ArgType::Bool, "false", "Lossless compression."),
            ArgDesc::unset(
                "effort",
                ArgType::int(0, 6),
                "CPU effort, 0 (fast) to 6 (small); 4 by default.",
            ),
            ArgDesc::unset("method", ArgType::int(0, 6), "libwebp's name of effort."),
            ArgDesc::optional(
                "alpha_q",
                ArgType::int(0, 100),
                "100",
                "Quality of the alpha plane (lossy).",
            ),
            ArgDesc::optional(
                "near_lossless",
                ArgType::Bool,
                "false",
                "Near-lossless preprocessing at level Q (implies lossless).",
            ),
            ArgDesc::optional(
                "smart_subsample",
                ArgType::Bool,
                "false",
                "Sharp RGB to YUV conversion (lossy; holds the image as ARGB).",
            ),
            ArgDesc::optional(
                "preset",
                ArgType::Enum(&["default", "picture", "photo", "drawing", "icon", "text"]),
                "default",
                "libwebp's lossy preset.",
            ),
            ArgDesc::optional(
                "exact",
                ArgType::Bool,
                "false",
                "Keep the RGB values of transparent pixels.",
            ),
            STRIP,
        ],
    },
    FormatDesc {
        name: "PPM/PGM",
        format: Some(FileFormat::Pnm),
        summary: "Binary PGM (P5, grey) and PPM (P6, RGB), 8 or 16 bits; memory-mapped \
                  zero-copy views, or streamed.",
        magic: &[Magic(&[(0, b"P5")]), Magic(&[(0, b"P6")])],
        extensions: &["ppm", "pgm", "pnm"],
        access: Some(Access::Random),
        pipes: true,
        load: true,
        save: true,
        save_formats: U8_U16,
        save_bands: "1 (PGM) or 3 (PPM)",
        load_options: &[FAIL_ON],
        save_options: &[STRIP],
    },
    FormatDesc {
        name: "gpx",
        format: Some(FileFormat::Raw),
        summary: "The raw format of gigapix: a 64-byte header and the pixels as the engine \
                  holds them, any bands and band format; memory-mapped zero-copy views.",
        magic: &[Magic(&[(0, &crate::raw::MAGIC)])],
        extensions: &["gpx"],
        access: Some(Access::Random),
        pipes: true,
        load: true,
        save: true,
        save_formats: ALL_FORMATS,
        save_bands: "any",
        load_options: &[FAIL_ON],
        save_options: &[STRIP],
    },
    FormatDesc {
        name: "DeepZoom",
        format: Some(FileFormat::DeepZoom),
        summary: "Deep-zoom tile pyramids, written by `dzsave` in one pass: DeepZoom (.dzi), \
                  Zoomify, Google Maps, IIIF 2 and 3; a directory tree, or a zip (.zip; .szi \
                  with its properties), ZIP64 when needed.",
        magic: &[],
        extensions: &["dzi", "szi", "zip"],
        access: None,
        pipes: false,
        load: false,
        save: true,
        save_formats: ALL_FORMATS,
        save_bands: "those of the tile format (JPEG 1, 3 or 4; PNG 1 to 4)",
        load_options: &[],
        save_options: crate::dz::OPTIONS,
    },
    FormatDesc {
        name: "GIF",
        format: Some(FileFormat::Gif),
        summary: "Still and animated, palette of up to 256 colours, transparent index; frames \
                  composited as libvips does (disposal, transparency) and read as a tall strip; \
                  written with a quantised palette per frame (quantette: Wu or k-means, \
                  Floyd-Steinberg dithering), animated from a strip with page-height.",
        magic: &[Magic(&[(0, b"GIF87a")]), Magic(&[(0, b"GIF89a")])],
        extensions: &["gif"],
        access: Some(Access::Sequential),
        pipes: false,
        load: true,
        save: true,
        save_formats: &[BandFormat::U8],
        save_bands: "1 to 4 (grey, grey+alpha, RGB, RGBA)",
        load_options: crate::gif::LOAD_OPTIONS,
        save_options: crate::gif::SAVE_OPTIONS,
    },
    FormatDesc {
        name: "AVIF",
        format: Some(FileFormat::Avif),
        summary: "Written only, by ravif (rav1e): 8 or 10 bits, alpha, EXIF; lossy, 4:4:4 \
                  chroma; encoded whole in one pass (not streamable), within max_alloc. \
                  Reading is refused: no pure-Rust decoder builds here.",
        magic: &[Magic(&[(4, b"ftypavif")]), Magic(&[(4, b"ftypavis")])],
        extensions: &["avif"],
        access: None,
        pipes: false,
        load: false,
        save: true,
        save_formats: U8_U16,
        save_bands: "1 to 4 (grey, grey+alpha, RGB, RGBA); at most 65536x65536",
        load_options: &[],
        save_options: crate::avif::SAVE_OPTIONS,
    },
    unsupported(
        "BMP",
        "Not supported: convert to PNG or TIFF first.",
        &[Magic(&[(0, b"BM")])],
        &["bmp"],
    ),
    unsupported(
        "netpbm (other variants)",
        "Not supported: ASCII PBM/PGM/PPM (P1 to P3), binary PBM (P4), PAM (P7) and PFM; \
         binary PGM and PPM are.",
        &[
            Magic(&[(0, b"P1")]),
            Magic(&[(0, b"P2")]),
            Magic(&[(0, b"P3")]),
            Magic(&[(0, b"P4")]),
            Magic(&[(0, b"P7")]),
            Magic(&[(0, b"PF")]),
            Magic(&[(0, b"Pf")]),
        ],
        &["pbm", "pam", "pfm"],
    ),
];

/// Bytes [`identify`] needs to tell every format apart.
pub(crate) fn magic_len() -> usize {
    FORMATS
        .iter()
        .flat_map(|f| f.magic)
        .map(Magic::len)
        .max()
        .unwrap_or(0)
}

/// The format whose magic bytes `head` (the first bytes of a file)
/// starts with, if any; `head` should hold at least the 12 bytes the
/// longest pattern looks at.
pub fn identify(head: &[u8]) -> Option<&'static FormatDesc> {
    FORMATS
        .iter()
        .find(|f| f.magic.iter().any(|m| m.matches(head)))
}

/// What the first bytes of a file read so far say.
pub(crate) enum Prefix {
    /// This format's pattern matches.
    Match(&'static FormatDesc),
    /// No pattern matches yet, but one could with more bytes.
    More,
    /// No pattern can match.
    Unknown,
}

/// Matches the first bytes read so far, for readers that cannot read
/// ahead (pipes): read a byte more while this says [`Prefix::More`].
pub(crate) fn identify_prefix(head: &[u8]) -> Prefix {
    if let Some(f) = FORMATS.iter().find(|f| {
        f.magic
            .iter()
            .any(|m| m.len() <= head.len() && m.matches(head))
    }) {
        return Prefix::Match(f);
    }
    let more = FORMATS
        .iter()
        .flat_map(|f| f.magic)
        .any(|m| m.len() > head.len() && m.could_match(head));
    if more { Prefix::More } else { Prefix::Unknown }
}

/// The format of files named `*.ext` (case insensitive), if any.
pub fn by_extension(ext: &str) -> Option<&'static FormatDesc> {
    FORMATS
        .iter()
        .find(|f| f.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

impl FileFormat {
    /// This format's entry in [`FORMATS`].
    pub fn desc(self) -> &'static FormatDesc {
        FORMATS
            .iter()
            .find(|f| f.format == Some(self))
            .expect("every FileFormat is in FORMATS")
    }
}

/// `TIFF, PNG, JPEG, PPM/PGM and gpx`: the formats that can `load` (or
/// save, if not `load`).
pub(crate) fn supported_names(load: bool) -> String {
    let names: Vec<&str> = FORMATS
        .iter()
        .filter(|f| if load { f.load } else { f.save })
        .map(|f| f.name)
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// `TIFF (.tif, .tiff), PNG (.png), ...`: the savers and their
/// extensions.
pub(crate) fn save_extensions() -> String {
    let all: Vec<String> = FORMATS
        .iter()
        .filter(|f| f.save)
        .map(|f| {
            let exts: Vec<String> = f.extensions.iter().map(|e| format!(".{e}")).collect();
            format!("{} ({})", f.name, exts.join(", "))
        })
        .collect();
    all.join(", ")
}

/// The error for a file in a format gigapix recognises but cannot `load`
/// (or save).
pub(crate) fn refused(name: &str, desc: &FormatDesc, load: bool) -> Error {
    let verb = if load { "reads" } else { "saves" };
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "{name}: {} is not supported; gigapix {verb} {}",
            desc.name,
            if load {
                supported_names(true)
            } else {
                save_extensions()
            }
        ),
    )
}

/// Checks `params` against `descs`, the options of `owner` (`x.jpg: jpeg
/// save`), and parses them: unknown names and bad values are
/// [`ErrorKind::InvalidArgument`] errors naming the option, its type and
/// its range. Defaults fill what is not given.
pub(crate) fn parse_options(
    owner: &str,
    descs: &'static [ArgDesc],
    params: &Params,
) -> Result<Args> {
    let named: Vec<(&str, &str)> = params.pairs().collect();
    if let Some((key, _)) = named
        .iter()
        .find(|(k, _)| !descs.iter().any(|d| same(d.name, k)))
    {
        let known = if descs.is_empty() {
            "it takes none".to_string()
        } else {
            let all: Vec<String> = descs
                .iter()
                .map(|d| format!("{} ({})", d.name, d.describe_type()))
                .collect();
            format!("it takes {}", all.join(", "))
        };
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{owner}: unknown option `{key}`; {known}"),
        ));
    }
    let no_images = |s: &str| -> Result<gigapix_core::Image> {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("`{s}`: file options take no images"),
        ))
    };
    Args::parse(owner, descs, &[], &named, &no_images)
}

/// A bool option, `None` when not given (for options without a default).
pub(crate) fn opt_bool(args: &Args, name: &str) -> Result<Option<bool>> {
    match args.get(name) {
        None => Ok(None),
        Some(_) => args.bool(name).map(Some),
    }
}

/// Option names compare case-insensitively, `-` and `_` alike.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| {
            x.eq_ignore_ascii_case(&y) || (matches!(x, b'-' | b'_') && matches!(y, b'-' | b'_'))
        })
}

/// The format among `allowed` nearest to `format`, to suggest a cast: the
/// same size if there is one, else the largest smaller one, else the
/// smallest.
fn nearest(format: BandFormat, allowed: &[BandFormat]) -> Option<BandFormat> {
    let size = format.size();
    let same = allowed.iter().find(|f| f.size() == size);
    let smaller = allowed
        .iter()
        .filter(|f| f.size() < size)
        .max_by_key(|f| f.size());
    same.or(smaller)
        .or_else(|| allowed.iter().min_by_key(|f| f.size()))
        .copied()
}

impl FormatDesc {
    /// `Ok` if the saver takes samples of `format`; otherwise an
    /// [`ErrorKind::InvalidArgument`] error naming the nearest format it
    /// does take.
    pub fn check_save_format(&self, name: &str, format: BandFormat) -> Result<()> {
        if self.save_formats.contains(&format) {
            return Ok(());
        }
        let held: Vec<&str> = self.save_formats.iter().map(|f| f.name()).collect();
        let advice = match nearest(format, self.save_formats) {
            Some(n) => format!("cast the image first (to {n}, say)"),
            None => "it saves nothing".to_string(),
        };
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: {} holds {} samples, not {format}: {advice}",
                self.name,
                held.join(" or ")
            ),
        ))
    }

    /// What it does, in a word: `load, save`, `refused`.
    fn abilities(&self) -> &'static str {
        match (self.load, self.save) {
            (true, true) => "load, save",
            (true, false) => "load",
            (false, true) => "save",
            (false, false) => "not supported",
        }
    }

    fn access_name(&self) -> &'static str {
        match self.access {
            Some(Access::Random) => "random",
            Some(Access::Sequential) => "sequential",
            _ => "",
        }
    }

    fn magic_list(&self, code: bool) -> String {
        let all: Vec<String> = self
            .magic
            .iter()
            .map(|m| {
                if code {
                    format!("`{m}`")
                } else {
                    m.to_string()
                }
            })
            .collect();
        all.join(", ")
    }

    fn extension_list(&self) -> String {
        let all: Vec<String> = self.extensions.iter().map(|e| format!(".{e}")).collect();
        all.join(" ")
    }

    fn save_format_list(&self) -> String {
        let all: Vec<&str> = self.save_formats.iter().map(|f| f.name()).collect();
        all.join(", ")
    }
}

/// The table as markdown, for the README and the book: one table of the
/// formats, then a table of options per format.
pub fn formats_markdown() -> String {
    let mut s = String::new();
    s.push_str(
        "| format | extensions | magic bytes | support | access | saves band formats | saves bands |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for f in FORMATS {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {}{} | {} | {} |",
            f.name,
            f.extension_list(),
            f.magic_list(true),
            f.abilities(),
            f.access_name(),
            if f.load && !f.pipes {
                " (regular files only)"
            } else {
                ""
            },
            f.save_format_list(),
            f.save_bands,
        );
    }
    s.push_str(
        "\nOther band formats are refused on save, with an error naming the nearest format \
         the file holds: cast first.\n",
    );
    for f in FORMATS.iter().filter(|f| f.load || f.save) {
        let _ = write!(s, "\n### {}\n\n{}\n", f.name, f.summary);
        for (what, descs) in [("load", f.load_options), ("save", f.save_options)] {
            if descs.is_empty() {
                continue;
            }
            let _ = write!(
                s,
                "\n| {what} option | type | default | description |\n|---|---|---|---|\n"
            );
            for d in descs {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} | {} |",
                    d.name,
                    d.describe_type().replace('|', "\\|"),
                    d.default.unwrap_or(""),
                    d.doc.replace('|', "\\|"),
                );
            }
        }
    }
    s
}

/// The table as plain text, for `gigapix list formats`: one block per
/// format with its extensions, magic bytes, support and options.
pub fn formats_text() -> String {
    let mut s = String::new();
    for f in FORMATS {
        let _ = writeln!(s, "{}: {}", f.name, f.summary);
        let _ = writeln!(s, "  extensions: {}", f.extension_list());
        let _ = writeln!(s, "  magic: {}", f.magic_list(false));
        if f.load {
            let _ = writeln!(
                s,
                "  load: {} access{}",
                f.access_name(),
                if f.pipes {
                    ", pipes too"
                } else {
                    ", regular files only"
                }
            );
        }
        if f.save {
            let _ = writeln!(
                s,
                "  save: {} samples, {} band(s)",
                f.save_format_list(),
                f.save_bands
            );
        }
        if !f.load && !f.save {
            s.push_str("  not supported\n");
        }
        for (what, descs) in [("load", f.load_options), ("save", f.save_options)] {
            if !descs.is_empty() {
                let _ = writeln!(s, "  {what} options:");
                for line in help_lines(descs).lines() {
                    let _ = writeln!(s, "  {line}");
                }
            }
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for f in FileFormat::ALL {
            let d = f.desc();
            assert!(d.load && d.save, "{}", d.name);
            assert!(d.access.is_some());
            assert!(!d.save_formats.is_empty());
            for m in d.magic {
                // Every part of the pattern at its offset.
                let mut head = vec![0u8; m.len() + 12];
                for (at, bytes) in m.0 {
                    head[*at..at + bytes.len()].copy_from_slice(bytes);
                }
                assert_eq!(identify(&head).map(|x| x.name), Some(d.name));
            }
        }
        // No extension or magic belongs to two formats.
        for (i, a) in FORMATS.iter().enumerate() {
            for b in &FORMATS[i + 1..] {
                for e in a.extensions {
                    assert!(!b.extensions.contains(e), "{e}");
                }
                for m in a.magic {
                    assert!(!b.magic.contains(m), "{m}");
                }
            }
        }
        assert_eq!(magic_len(), 12);
    }

    #[test]
    fn identifies_prefixes() {
        assert!(matches!(identify_prefix(b""), Prefix::More));
        assert!(matches!(identify_prefix(b"P"), Prefix::More));
        assert!(matches!(identify_prefix(b"P5"), Prefix::Match(f) if f.name == "PPM/PGM"));
        // Short prefixes may still be AVIF (its magic is at byte 4).
        assert!(matches!(identify_prefix(b"P9"), Prefix::More));
        assert!(matches!(identify_prefix(b"P9xxxxxxxxxx"), Prefix::Unknown));
        assert!(matches!(identify_prefix(b"GIGAPIX"), Prefix::More));
        assert!(matches!(identify_prefix(b"GIGAPIX2"), Prefix::Unknown));
        assert!(matches!(identify_prefix(b"RIFF\0\0\0\0WEB"), Prefix::More));
        assert!(
            matches!(identify_prefix(b"RIFF\0\0\0\0WEBP"), Prefix::Match(f) if f.name == "WebP")
        );
        assert!(matches!(
            identify_prefix(b"RIFF\0\0\0\0WAVE"),
            Prefix::Unknown
        ));
        assert_eq!(identify(b"GIF89a....").map(|f| f.name), Some("GIF"));
        assert_eq!(by_extension("JPG").map(|f| f.name), Some("JPEG"));
        assert_eq!(
            Magic(&[(0, b"RIFF"), (8, b"WEBP")]).to_string(),
            "RIFF + WEBP at 8"
        );
        assert_eq!(Magic(&[(0, b"II*\0")]).to_string(), "II*\\x00");
    }

    #[test]
    fn options_are_checked_against_the_descriptors() {
        let jpeg = FileFormat::Jpeg.desc();
        let parse = |k: &str, v: &str| {
            parse_options(
                "x.jpg: jpeg save",
                jpeg.save_options,
                &Params::new().set(k, v),
            )
        };
        let args = parse("q", "90").unwrap();
        assert_eq!(args.int("Q").unwrap(), 90);
        assert!(!args.bool("strip").unwrap());
        let e = parse("Q", "101").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("`Q` (int, 1 to 100)"), "{e}");
        let e = parse("bogus", "1").unwrap_err();
        assert!(e.message().contains("unknown option `bogus`"), "{e}");
        assert!(
            e.message().contains("subsample (enum, auto|444|422|420)"),
            "{e}"
        );
        let e = parse("subsample", "411").unwrap_err();
        assert!(e.message().contains("auto|444|422|420"), "{e}");
    }

    #[test]
    fn save_formats_suggest_the_nearest() {
        let png = FileFormat::Png.desc();
        assert!(png.check_save_format("x", BandFormat::U16).is_ok());
        for (f, want) in [
            (BandFormat::I8, "to u8"),
            (BandFormat::I16, "to u16"),
            (BandFormat::I32, "to u16"),
            (BandFormat::F64, "to u16"),
        ] {
            let e = png.check_save_format("x.png", f).unwrap_err();
            assert!(e.message().contains(want), "{e}");
            assert!(e.message().contains("PNG holds u8 or u16 samples"), "{e}");
        }
        let e = FileFormat::Jpeg
            .desc()
            .check_save_format("x", BandFormat::F32)
            .unwrap_err();
        assert!(e.message().contains("to u8"), "{e}");
    }

    #[test]
    fn renders() {
        let md = formats_markdown();
        assert!(md.contains("| TIFF | .tif .tiff .svs |"), "{md}");
        assert!(md.contains("| BMP | .bmp | `BM` | not supported |"), "{md}");
        assert!(
            md.contains("| `Q` | int, 1 to 100 | 75 | Quality. |"),
            "{md}"
        );
        let text = formats_text();
        assert!(text.contains("JPEG: "), "{text}");
        assert!(text.contains("shrink"), "{text}");
    }
}
