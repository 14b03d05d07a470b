//! `dzsave`: deep-zoom tile pyramids (DeepZoom, Zoomify, Google Maps,
//! IIIF 2 and 3) in a directory tree or a zip, in one pass over the image.
//!
//! The bands of the image go through the shared [`Shrinker`] (every lower
//! level by 2x2 averages as the rows arrive: memory two rows per level),
//! each level's rows through a [`TileCutter`] (at most a tile row and its
//! overlap held per level), and each tile to the [`EncodePool`] (encoded
//! by [`TileFormat`], and in a directory also written to its file, on
//! worker threads; a zip is appended to on the caller's thread, in one
//! forward stream). No level is ever recomputed from the full image.
//!
//! Containers: `fs` writes the whole tree under a hidden temporary
//! directory in the target's directory and moves it into place at the
//! end (an old pyramid of the same name is moved aside, then removed), so
//! a failed or interrupted run leaves no half pyramid. `zip` writes one
//! stream through the crate's atomic temporary files (see `save.rs`):
//! tiles stored, descriptors deflated, ZIP64 when needed. `.szi` is a zip
//! of the `dz` layout under a `NAME/` folder with `scan-properties.xml`.
//!
//! Layouts, their names and descriptor files: see [`layout`].

use std::collections::HashSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gigapix_core::desc::{ArgDesc, ArgType, Args};
use gigapix_core::{BandFormat, BandWriter, Error, ErrorKind, Header, Result};

use crate::pyramid::{EncodePool, LevelSink, Shrinker, Tile, TileCutter};
use crate::save::{RowCheck, Temp};
use crate::tile::TileFormat;

pub(crate) mod layout;
mod zip;

use layout::{Depth, Geometry, Layout};

/// The options of `dzsave` (the save options of the DeepZoom entry of
/// the format table, `gigapix dzsave --help`).
pub(crate) const OPTIONS: &[ArgDesc] = &[
    ArgDesc::unset(
        "layout",
        ArgType::Enum(&["dz", "zoomify", "google", "iiif", "iiif3"]),
        "The directory layout: dz (DeepZoom, the default), zoomify, google (Google Maps \
         z/y/x), iiif (IIIF Image API 2.1) or iiif3 (3.0).",
    ),
    ArgDesc::unset(
        "container",
        ArgType::Enum(&["fs", "zip"]),
        "fs (a directory tree) or zip; by default zip for `.zip` and `.szi`, else fs.",
    ),
    ArgDesc::unset(
        "suffix",
        ArgType::Text,
        "Tile format and its options, as a file extension: `.jpg[Q=85]`, `.png`, any format \
         gigapix writes but TIFF; `.jpeg` (Q 75) for dz, `.jpg` for the others.",
    ),
    ArgDesc::unset(
        "tile_size",
        ArgType::int(1, 8192),
        "Tile size in pixels: 254 for dz, 256 for zoomify and google, 512 for iiif.",
    ),
    ArgDesc::unset(
        "overlap",
        ArgType::int(0, 8192),
        "Pixels each dz tile overlaps its neighbours by: 1 for dz, 0 (the only value \
         supported) for the others.",
    ),
    ArgDesc::unset(
        "depth",
        ArgType::Enum(&["onepixel", "onetile", "one"]),
        "How deep the pyramid goes: down to 1x1 (onepixel, the default for dz), to the \
         first level within one tile (onetile, the others' default), or the full image \
         only (one).",
    ),
    ArgDesc::optional(
        "centre",
        ArgType::Bool,
        "false",
        "google: centre the image on the tile canvas (else at the top left).",
    ),
    ArgDesc::unset(
        "background",
        ArgType::Numbers,
        "Background of the google canvas and blank.png, and what skip_blanks compares \
         with: one value, or one per band; 255 by default.",
    ),
    ArgDesc::unset(
        "skip_blanks",
        ArgType::int(-1, 65535),
        "Skip tiles whose every sample is within this of the background; -1 writes every \
         tile. 5 for google, -1 for the others.",
    ),
    ArgDesc::optional(
        "id",
        ArgType::Text,
        "https://example.com/iiif",
        "iiif, iiif3: the base URI of the image in info.json (`ID/NAME`).",
    ),
    ArgDesc::optional(
        "viewer",
        ArgType::Bool,
        "false",
        "Also write an index.html viewer beside the pyramid.",
    ),
    ArgDesc::optional(
        "strip",
        ArgType::Bool,
        "false",
        "Accepted for symmetry: tiles never carry metadata.",
    ),
];

/// The options, resolved with their per-layout defaults.
struct Settings {
    layout: Layout,
    zip: bool,
    szi: bool,
    /// The suffix as given, and its extension as given (for names).
    suffix: String,
    ext: String,
    tile: u32,
    overlap: u32,
    depth: Depth,
    centre: bool,
    background: Vec<f64>,
    skip_blanks: i64,
    id: String,
    viewer: bool,
}

fn invalid(name: &str, msg: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidArgument, format!("{name}: dzsave: {msg}"))
}

impl Settings {
    fn parse(target: &Path, name: &str, args: &Args) -> Result<Settings> {
        let ext = target
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let layout = Layout::parse(args.opt_choice("layout")?.unwrap_or("dz"));
        let zip = match args.opt_choice("container")? {
            Some(c) => c == "zip",
            None => ext == "zip" || ext == "szi",
        };
        let szi = zip && ext == "szi";
        let suffix = args
            .opt_text("suffix")?
            .unwrap_or(layout.default_suffix())
            .to_string();
        let body = suffix.trim().trim_start_matches('.');
        let tile_ext = body.split('[').next().unwrap_or(body).to_string();
        let tile = match args.opt_int("tile_size")? {
            Some(t) => t as u32,
            None => layout.default_tile_size(),
        };
        let overlap = match args.opt_int("overlap")? {
            Some(o) => o as u32,
            None => layout.default_overlap(),
        };
        if layout != Layout::Dz && overlap != 0 {
            return Err(invalid(
                name,
                "overlap is supported by the dz layout only (the others need 0)",
            ));
        }
        if 2 * overlap >= tile {
            return Err(invalid(
                name,
                format!("overlap {overlap} is too large for tiles of {tile}"),
            ));
        }
        let depth = Depth::parse(
            args.opt_choice("depth")?
                .unwrap_or(if layout == Layout::Dz {
                    "onepixel"
                } else {
                    "onetile"
                }),
        );
        let background = args.opt_numbers("background")?.unwrap_or(vec![255.0]);
        let skip_blanks = args
            .opt_int("skip_blanks")?
            .unwrap_or(if layout == Layout::Google { 5 } else { -1 });
        let viewer = args.bool("viewer")?;
        Ok(Settings {
            layout,
            zip,
            szi,
            suffix,
            ext: tile_ext,
            tile,
            overlap,
            depth,
            centre: args.bool("centre")?,
            background,
            skip_blanks,
            id: args.text("id")?.to_string(),
            viewer,
        })
    }
}

/// The background as one native-endian pixel of `header`'s format.
fn background_pixel(name: &str, header: &Header, bg: &[f64]) -> Result<Vec<u8>> {
    let bands = header.bands as usize;
    let values: Vec<f64> = match bg.len() {
        1 => vec![bg[0]; bands],
        n if n == bands => bg.to_vec(),
        n => {
            return Err(invalid(
                name,
                format!("background has {n} values for an image of {bands} bands"),
            ));
        }
    };
    let mut out = Vec::with_capacity(header.pixel_bytes());
    for v in values {
        match header.format {
            BandFormat::U8 => out.push(v.round().clamp(0.0, 255.0) as u8),
            BandFormat::I8 => out.extend((v.round().clamp(-128.0, 127.0) as i8).to_ne_bytes()),
            BandFormat::U16 => out.extend((v.round().clamp(0.0, 65535.0) as u16).to_ne_bytes()),
            BandFormat::I16 => {
                out.extend((v.round().clamp(-32768.0, 32767.0) as i16).to_ne_bytes())
            }
            BandFormat::U32 => {
                out.extend((v.round().clamp(0.0, u32::MAX as f64) as u32).to_ne_bytes())
            }
            BandFormat::I32 => {
                out.extend((v.round().clamp(i32::MIN as f64, i32::MAX as f64) as i32).to_ne_bytes())
            }
            BandFormat::F32 => out.extend((v as f32).to_ne_bytes()),
            BandFormat::F64 => out.extend(v.to_ne_bytes()),
        }
    }
    Ok(out)
}

/// `true` if every sample of `data` is within `threshold` of `ink`'s
/// (8 and 16-bit samples compared as numbers, others byte by byte as
/// libvips does).
fn is_blank(data: &[u8], ink: &[u8], format: BandFormat, threshold: i64) -> bool {
    let t = threshold;
    match format {
        BandFormat::U16 => {
            let ink: Vec<i64> = ink
                .chunks_exact(2)
                .map(|c| i64::from(u16::from_ne_bytes([c[0], c[1]])))
                .collect();
            data.chunks_exact(ink.len() * 2).all(|px| {
                px.chunks_exact(2)
                    .zip(&ink)
                    .all(|(c, &i)| (i64::from(u16::from_ne_bytes([c[0], c[1]])) - i).abs() <= t)
            })
        }
        _ => data.chunks_exact(ink.len()).all(|px| {
            px.iter()
                .zip(ink)
                .all(|(&p, &i)| (i64::from(p) - i64::from(i)).abs() <= t)
        }),
    }
}

/// Where the pyramid goes.
enum Container {
    /// A directory tree under `tmp` (a hidden directory in `dir`), moved
    /// into `dir` at the end.
    Fs {
        tmp: tempfile::TempDir,
        dir: PathBuf,
        made: HashSet<PathBuf>,
    },
    /// A zip archive into a temporary file that becomes `target`.
    Zip {
        zip: Option<zip::ZipWriter<BufWriter<File>>>,
        temp: Option<Temp>,
        target: PathBuf,
    },
}

impl Container {
    /// The full path of `rel` in the temporary tree, its directory made.
    fn fs_path(&mut self, name: &str, rel: &str) -> Result<Option<PathBuf>> {
        let Container::Fs { tmp, made, .. } = self else {
            return Ok(None);
        };
        let path = tmp.path().join(rel);
        if let Some(parent) = path.parent()
            && !made.contains(parent)
        {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(name, e))?;
            made.insert(parent.to_path_buf());
        }
        Ok(Some(path))
    }

    /// Writes a small file (a descriptor) at once.
    fn put(&mut self, name: &str, rel: &str, data: &[u8], deflate: bool) -> Result<()> {
        if let Some(path) = self.fs_path(name, rel)? {
            return std::fs::write(&path, data).map_err(|e| Error::io(name, e));
        }
        if let Container::Zip { zip: Some(z), .. } = self {
            z.add(rel, data, deflate).map_err(|e| Error::io(name, e))?;
        }
        Ok(())
    }
}

/// What a tile job gives back.
enum Done {
    /// Skipped as blank.
    Skipped,
    /// Written to its file (fs).
    Written,
    /// Encoded, for the zip: its name and bytes.
    Bytes(String, Vec<u8>),
}

/// The state the levels' rows go to.
struct Levels {
    name: Arc<str>,
    geometry: Geometry,
    cutters: Vec<TileCutter>,
    format: Arc<TileFormat>,
    /// The extension tiles are named with, as the suffix spells it.
    ext: String,
    header: Header,
    /// Prefix of tile names in the container: `NAME_files/` or `NAME/`
    /// (and `NAME/` again before it in an `.szi`).
    root: String,
    ink: Arc<Vec<u8>>,
    skip_blanks: i64,
    pool: EncodePool<Done>,
    out: Container,
    written: u64,
}

fn drain_into(out: &mut Container, written: &mut u64, name: &str, done: Done) -> Result<()> {
    match done {
        Done::Skipped => {}
        Done::Written => *written += 1,
        Done::Bytes(path, bytes) => {
            if let Container::Zip { zip: Some(z), .. } = out {
                z.add(&path, &bytes, false)
                    .map_err(|e| Error::io(name, e))?;
            }
            *written += 1;
        }
    }
    Ok(())
}

impl LevelSink for Levels {
    fn rows(&mut self, level: usize, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        let Levels {
            name,
            geometry,
            cutters,
            format,
            ext,
            header,
            root,
            ink,
            skip_blanks,
            pool,
            out,
            written,
        } = self;
        let mut emit = |tile: Tile| -> Result<()> {
            if !geometry.has_tile(level, tile.col, tile.row) {
                return Ok(());
            }
            let rel = format!(
                "{root}{}",
                geometry.tile_path(level, tile.col, tile.row, ext)
            );
            let path = out.fs_path(name, &rel)?;
            let mut th = *header;
            th.width = tile.width;
            th.height = tile.height;
            let (format, ink, skip, name2) =
                (format.clone(), ink.clone(), *skip_blanks, name.clone());
            let job = move || -> Result<Done> {
                if skip >= 0 && is_blank(&tile.data, &ink, th.format, skip) {
                    return Ok(Done::Skipped);
                }
                let bytes = format.encode(&th, &tile.data)?;
                match path {
                    Some(p) => {
                        std::fs::write(&p, &bytes).map_err(|e| Error::io(&*name2, e))?;
                        Ok(Done::Written)
                    }
                    None => Ok(Done::Bytes(rel, bytes)),
                }
            };
            let name3 = name.clone();
            pool.submit(job, &mut |d| drain_into(out, written, &name3, d))
        };
        cutters[level].rows(y, rows, data, &mut emit)
    }
}

/// The `dzsave` writer.
struct DzWriter {
    name: Arc<str>,
    check: RowCheck,
    settings: Settings,
    shrinker: Shrinker,
    levels: Levels,
    /// The image's header (the canvas differs in google).
    image: Header,
    /// The background pixel, for the google canvas.
    bg: Vec<u8>,
    /// Canvas rows pushed so far.
    canvas_y: u32,
    /// Names of the finished pyramid: where it goes, the stem.
    stem: String,
}

/// A [`BandWriter`] writing the pyramid of an image of `header` to
/// `target` (`out.dzi`, `out.zip`, `out.szi`), with the parsed `args`.
pub(crate) fn writer(
    target: &Path,
    name: &str,
    header: &Header,
    args: &Args,
) -> Result<Box<dyn BandWriter>> {
    let s = Settings::parse(target, name, args)?;
    let format = TileFormat::parse("dzsave", &s.suffix, header)?;
    let geometry = Geometry::new(
        s.layout,
        header.width,
        header.height,
        s.tile,
        s.overlap,
        s.depth,
        s.centre,
    )
    .ok_or_else(|| invalid(name, "the google canvas of this image is too large"))?;
    let bg = background_pixel(name, header, &s.background)?;
    let file_name = target
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .ok_or_else(|| invalid(name, "the output path does not name a file"))?;
    let stem = match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => file_name.clone(),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut root = if s.layout == Layout::Dz {
        format!("{stem}_files/")
    } else {
        format!("{stem}/")
    };
    if s.szi {
        root = format!("{stem}/{root}");
    }
    let out = if s.zip {
        let zip_target = if target
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip") || e.eq_ignore_ascii_case("szi"))
        {
            target.to_path_buf()
        } else {
            dir.join(format!("{stem}.zip"))
        };
        let (file, temp) = crate::save::create_temp(&zip_target, name)?;
        Container::Zip {
            zip: Some(zip::ZipWriter::new(BufWriter::with_capacity(
                256 << 10,
                file,
            ))),
            temp: Some(temp),
            target: zip_target,
        }
    } else {
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{stem}."))
            .suffix(".tmp")
            .tempdir_in(&dir)
            .map_err(|e| {
                Error::io(
                    format_args!(
                        "{name}: cannot create a temporary directory in {}",
                        dir.display()
                    ),
                    e,
                )
            })?;
        Container::Fs {
            tmp,
            dir,
            made: HashSet::new(),
        }
    };
    let canvas = Header {
        width: geometry.canvas_w,
        height: geometry.canvas_h,
        ..*header
    };
    let shrinker = Shrinker::new(&canvas, geometry.levels.len())?;
    let px = header.pixel_bytes();
    let cutters = geometry
        .levels
        .iter()
        .map(|l| TileCutter::new(l.width, l.height, px, s.tile, s.overlap, None))
        .collect();
    let name: Arc<str> = Arc::from(name);
    let pool = EncodePool::new(0, "dzsave")?;
    Ok(Box::new(DzWriter {
        check: RowCheck::new(header.height, header.row_bytes()),
        levels: Levels {
            name: name.clone(),
            geometry,
            cutters,
            format: Arc::new(format),
            ext: s.ext.clone(),
            header: *header,
            root,
            ink: Arc::new(bg.clone()),
            skip_blanks: s.skip_blanks,
            pool,
            out,
            written: 0,
        },
        name,
        settings: s,
        shrinker,
        image: *header,
        bg,
        canvas_y: 0,
        stem,
    }))
}

/// The viewer page for a pyramid ([`crate::viewer::index_html`]), to be
/// written as `index.html` at the container's top: `descriptor` is the
/// descriptor's path from there (for `google` the tile root), `width` ×
/// `height` the image's size (for `google` the canvas's).
fn viewer_html(
    layout: Layout,
    descriptor: &str,
    (width, height): (u32, u32),
    (tile, overlap): (u32, u32),
    ext: &str,
) -> String {
    use crate::viewer;
    let layout = match layout {
        Layout::Dz => viewer::Layout::DeepZoom,
        Layout::Zoomify => viewer::Layout::Zoomify,
        Layout::Google => viewer::Layout::Google,
        Layout::Iiif => viewer::Layout::Iiif,
        Layout::Iiif3 => viewer::Layout::Iiif3,
    };
    let title = descriptor.trim_end_matches('/').to_string();
    viewer::index_html(
        &viewer::Pyramid::new(layout, descriptor)
            .size(u64::from(width), u64::from(height))
            .tiles(tile, overlap)
            .suffix(format!(".{}", ext.trim_start_matches('.')))
            .title(title),
    )
}

impl DzWriter {
    /// Pushes `rows` background rows of the canvas.
    fn push_background(&mut self, rows: u32) -> Result<()> {
        let row: Vec<u8> = self.bg.repeat(self.levels.geometry.canvas_w as usize);
        let mut left = rows;
        while left > 0 {
            let n = left.min(16);
            let band = row.repeat(n as usize);
            self.shrinker
                .push(self.canvas_y, n, &band, &mut self.levels)?;
            self.canvas_y += n;
            left -= n;
        }
        Ok(())
    }
}

impl BandWriter for DzWriter {
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        self.check.accept(&self.name, y, rows, data)?;
        let g = &self.levels.geometry;
        if g.canvas_w == self.image.width && g.canvas_h == self.image.height {
            self.shrinker.push(y, rows, data, &mut self.levels)?;
            self.canvas_y += rows;
            return Ok(());
        }
        // google: the image on its canvas.
        let area = g.levels[0].area;
        let (cw, left) = (g.canvas_w as usize, area.left as usize);
        if y == 0 {
            self.push_background(area.top as u32)?;
        }
        let px = self.image.pixel_bytes();
        let row_bytes = self.image.row_bytes();
        let mut band = Vec::with_capacity(cw * px * rows as usize);
        for r in data.chunks_exact(row_bytes) {
            band.extend(self.bg.repeat(left));
            band.extend_from_slice(r);
            band.extend(self.bg.repeat(cw - left - self.image.width as usize));
        }
        self.shrinker
            .push(self.canvas_y, rows, &band, &mut self.levels)?;
        self.canvas_y += rows;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.check.complete(&self.name)?;
        let rest = self.levels.geometry.canvas_h - self.canvas_y;
        if rest > 0 {
            self.push_background(rest)?;
        }
        self.shrinker.finish(&mut self.levels)?;
        let name = self.name.clone();
        let Levels {
            pool, out, written, ..
        } = &mut self.levels;
        pool.finish(&mut |d| drain_into(out, written, &name, d))?;
        self.write_descriptors()?;
        self.commit()
    }

    fn buffer_bytes(&self, _band_rows: u32) -> u64 {
        self.shrinker.buffer_bytes()
            + self
                .levels
                .cutters
                .iter()
                .map(TileCutter::buffer_bytes)
                .sum::<u64>()
    }
}

impl DzWriter {
    fn write_descriptors(&mut self) -> Result<()> {
        let s = &self.settings;
        let g = &self.levels.geometry;
        let stem = &self.stem;
        let name = self.name.clone();
        let top = if s.szi {
            format!("{stem}/")
        } else {
            String::new()
        };
        let root = &self.levels.root;
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        match s.layout {
            Layout::Dz => files.push((
                format!("{top}{stem}.dzi"),
                layout::dzi(g, &s.ext).into_bytes(),
            )),
            Layout::Zoomify => files.push((
                format!("{root}ImageProperties.xml"),
                layout::image_properties(g, self.levels.written).into_bytes(),
            )),
            Layout::Iiif | Layout::Iiif3 => files.push((
                format!("{root}info.json"),
                layout::info_json(g, &s.id, stem, &s.ext).into_bytes(),
            )),
            Layout::Google => {
                let n = s.background.len() as u32;
                let h = Header::new(s.tile, s.tile, n, BandFormat::U8);
                let px = background_pixel(&name, &h, &s.background)?;
                let png = TileFormat::parse("dzsave", ".png", &h)?;
                let data = px.repeat((s.tile * s.tile) as usize);
                files.push((format!("{root}blank.png"), png.encode(&h, &data)?));
            }
        }
        if s.szi {
            files.push((
                format!("{top}scan-properties.xml"),
                layout::scan_properties(g).into_bytes(),
            ));
        }
        if s.viewer {
            let (descriptor, size) = match s.layout {
                Layout::Dz => (format!("{top}{stem}.dzi"), (g.width, g.height)),
                Layout::Zoomify => (format!("{root}ImageProperties.xml"), (g.width, g.height)),
                Layout::Iiif | Layout::Iiif3 => (format!("{root}info.json"), (g.width, g.height)),
                Layout::Google => (root.to_string(), (g.canvas_w, g.canvas_h)),
            };
            let html = viewer_html(s.layout, &descriptor, size, (s.tile, s.overlap), &s.ext);
            files.push(("index.html".to_string(), html.into_bytes()));
        }
        for (rel, data) in files {
            let deflate = !rel.ends_with(".png");
            self.levels.out.put(&name, &rel, &data, deflate)?;
        }
        Ok(())
    }

    /// Moves the finished pyramid into place.
    fn commit(&mut self) -> Result<()> {
        let name = self.name.clone();
        match &mut self.levels.out {
            Container::Zip { zip, temp, target } => {
                let z = zip.take().expect("finished once");
                let buf = z.finish().map_err(|e| Error::io(&*name, e))?;
                let file = buf
                    .into_inner()
                    .map_err(|e| Error::io(&*name, e.into_error()))?;
                drop(file);
                let temp = temp.take().expect("finished once");
                crate::save::persist(temp, target, &name)
            }
            Container::Fs { tmp, dir, .. } => {
                // The directories first, the descriptor (`.dzi`) last: a
                // viewer never finds a descriptor without its tiles.
                let mut entries: Vec<(bool, std::ffi::OsString)> = std::fs::read_dir(tmp.path())
                    .map_err(|e| Error::io(&*name, e))?
                    .map(|e| {
                        let e = e.map_err(|e| Error::io(&*name, e))?;
                        let is_dir = e.file_type().map_err(|e| Error::io(&*name, e))?.is_dir();
                        Ok((!is_dir, e.file_name()))
                    })
                    .collect::<Result<_>>()?;
                entries.sort();
                for (i, (_, entry)) in entries.iter().enumerate() {
                    let from = tmp.path().join(entry);
                    let to = dir.join(entry);
                    if std::fs::symlink_metadata(&to).is_ok_and(|m| m.is_dir()) {
                        // Aside into the temporary directory: removed with it.
                        let aside = tmp.path().join(format!(".old.{i}"));
                        std::fs::rename(&to, &aside).map_err(|e| {
                            Error::io(
                                format_args!("{name}: cannot move {} aside", to.display()),
                                e,
                            )
                        })?;
                    }
                    std::fs::rename(&from, &to).map_err(|e| {
                        Error::io(format_args!("{name}: cannot move into {}", to.display()), e)
                    })?;
                }
                Ok(())
            }
        }
    }
}

/// Memory estimate of the `dzsave` writer for an image of `header`: the
/// shrinker's rows (two rows of f64 per level and the rounded row), the
/// tile rows each level's cutter holds (`tile + 2*overlap` rows of the
/// level, levels halving), up to two tiles per thread in flight with
/// their encoded copies, and the zip's output buffer.
pub(crate) fn encoder_bytes(header: &Header, args: &Args) -> Result<u64> {
    let layout = Layout::parse(args.opt_choice("layout")?.unwrap_or("dz"));
    let tile = args
        .opt_int("tile_size")?
        .map_or(layout.default_tile_size(), |t| t as u32) as u64;
    let overlap = args
        .opt_int("overlap")?
        .map_or(layout.default_overlap(), |o| o as u32) as u64;
    let row = header.row_bytes() as u64;
    let samples = u64::from(header.width) * u64::from(header.bands);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    // Levels halve: the sums over levels are at most twice level 0's.
    let shrinker = 2 * (2 * 8 * samples + row);
    let cutters = 2 * (tile + 2 * overlap) * row;
    let tile_bytes = (tile + 2 * overlap).pow(2) * header.pixel_bytes() as u64;
    let pool = 2 * threads * (tile_bytes + tile_bytes / 2);
    Ok(shrinker + cutters + pool + (256 << 10))
}
