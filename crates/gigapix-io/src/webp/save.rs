//! The WebP saver. libwebp encodes whole pictures only, so the rows are
//! gathered as they arrive into the encoder's own picture: YUV 4:2:0
//! (converted by libwebp's import, per pair of rows, while the pipeline
//! computes the next bands) for lossy output, ARGB for lossless output
//! and `smart_subsample`. `finish` encodes it, adds the metadata chunks and
//! writes the file through a temporary file renamed onto the target. An
//! image with `page-height` (a tall strip of frames) is saved as an
//! animation, one frame at a time into libwebp's animation encoder.

use std::io::Write;

use gigapix_core::desc::Args;
use gigapix_core::{BandWriter, Error, ErrorKind, Header, Metadata, Result};
use gigapix_webp as webp;

use super::load::{MAX_FRAMES, webp_error};
use crate::save::{Dest, RowCheck, create_out, persist};

/// The encoder settings from the options (checked by the format table).
pub(crate) fn settings(args: &Args) -> Result<webp::Settings> {
    let mut s = webp::Settings::default();
    let q = args.opt_int("Q")?.unwrap_or(75).clamp(0, 100);
    s.quality = q as f32;
    s.lossless = args.bool("lossless")?;
    let effort = match (args.opt_int("effort")?, args.opt_int("method")?) {
        (Some(e), _) | (None, Some(e)) => e,
        (None, None) => 4,
    };
    s.method = effort.clamp(0, 6) as u8;
    s.alpha_quality = args.opt_int("alpha_q")?.unwrap_or(100).clamp(0, 100) as u8;
    if args.bool("near_lossless")? {
        // libvips' meaning: the level of the preprocessing is Q; without
        // `lossless` the effort of the lossless coder is then libvips'
        // default quality, 75 (what libvips 8.18 writes, byte for byte).
        s.near_lossless = Some(q as u8);
        if !s.lossless {
            s.quality = 75.0;
        }
    }
    s.sharp_yuv = args.bool("smart_subsample")?;
    s.exact = args.bool("exact")?;
    s.preset = match args.opt_choice("preset")?.unwrap_or("default") {
        "picture" => webp::Preset::Picture,
        "photo" => webp::Preset::Photo,
        "drawing" => webp::Preset::Drawing,
        "icon" => webp::Preset::Icon,
        "text" => webp::Preset::Text,
        _ => webp::Preset::Default,
    };
    Ok(s)
}

/// The frame height of an animation to save: the image's `page-height`
/// when it splits the image into two frames or more.
fn page_height(name: &str, header: &Header, metadata: &Metadata) -> Result<Option<u32>> {
    let Some(text) = metadata.field("page-height") else {
        return Ok(None);
    };
    let ph: u32 = text.trim().parse().map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: page-height `{text}` is not a number"),
        )
    })?;
    if ph == 0 || ph >= header.height {
        return Ok(None);
    }
    if !header.height.is_multiple_of(ph) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: page-height {ph} does not divide the image's height {}",
                header.height
            ),
        ));
    }
    if header.height / ph > MAX_FRAMES {
        return Err(Error::new(
            ErrorKind::Limit,
            format!("{name}: more than {MAX_FRAMES} frames"),
        ));
    }
    Ok(Some(ph))
}

/// The delays of `frames` frames from metadata `delay` (a comma list of
/// milliseconds; the last repeats), 100 ms by default (libvips').
fn delays(metadata: &Metadata, frames: u32) -> Vec<u32> {
    let list: Vec<u32> = metadata
        .field("delay")
        .map(|d| {
            d.split([',', ' '])
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default();
    (0..frames as usize)
        .map(|i| list.get(i).or(list.last()).copied().unwrap_or(100))
        .collect()
}

/// Checks what a WebP file can hold.
fn check(name: &str, header: &Header, frame_height: u32) -> Result<()> {
    if !(1..=4).contains(&header.bands) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: WebP holds 1 to 4 bands (grey, grey+alpha, RGB, RGBA), not {}: \
                 extract bands first",
                header.bands
            ),
        ));
    }
    let max = webp::MAX_DIMENSION;
    if header.width > max || frame_height > max {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: WebP images are at most {max}x{max} pixels, not {}x{frame_height}: \
                 resize or save as another format",
                header.width
            ),
        ));
    }
    Ok(())
}

/// The metadata chunks of a file: the ICC profile, the EXIF block (its
/// orientation patched to the image's) and XMP (metadata field `xmp`).
fn chunks(webp_file: Vec<u8>, metadata: &Metadata) -> webp::Result<Vec<u8>> {
    let icc = metadata.icc.as_deref().unwrap_or(&[]);
    let exif = crate::exif::for_save(metadata);
    let exif = exif.as_deref().unwrap_or(&[]);
    let xmp = metadata.field("xmp").unwrap_or("").as_bytes();
    webp::add_chunks(
        webp_file,
        &[(b"ICCP", icc), (b"EXIF", exif), (b"XMP ", xmp)],
    )
}

/// What the writer feeds.
enum Encoder {
    Still(webp::Picture),
    Animation {
        enc: webp::AnimEncoder,
        frame: Vec<u8>,
        frame_bytes: usize,
        delays: Vec<u32>,
        done: usize,
    },
}

/// A [`BandWriter`] saving WebP.
struct WebpWriter {
    encoder: Option<Encoder>,
    settings: webp::Settings,
    metadata: Metadata,
    target: Dest,
    name: String,
    rows: RowCheck,
    bands: u32,
}

impl Encoder {
    fn new(name: &str, header: &Header, metadata: &Metadata, s: &webp::Settings) -> Result<Self> {
        let ph = page_height(name, header, metadata)?;
        check(name, header, ph.unwrap_or(header.height))?;
        let err = |e| webp_error(name, e);
        Ok(match ph {
            None => Encoder::Still(
                webp::Picture::new(header.width, header.height, header.bands, s).map_err(err)?,
            ),
            Some(ph) => {
                let frames = header.height / ph;
                let loops = metadata
                    .field("loop")
                    .and_then(|l| l.trim().parse().ok())
                    .unwrap_or(0);
                Encoder::Animation {
                    enc: webp::AnimEncoder::new(header.width, ph, loops, s).map_err(err)?,
                    frame: Vec::new(),
                    frame_bytes: header.row_bytes() * ph as usize,
                    delays: delays(metadata, frames),
                    done: 0,
                }
            }
        })
    }

    /// Takes the next rows (whole rows, in order).
    fn push(&mut self, name: &str, bands: u32, mut data: &[u8]) -> Result<()> {
        let err = |e| webp_error(name, e);
        match self {
            Encoder::Still(pic) => pic.push_rows(data).map_err(err),
            Encoder::Animation {
                enc,
                frame,
                frame_bytes,
                delays,
                done,
            } => {
                while !data.is_empty() {
                    let n = (*frame_bytes - frame.len()).min(data.len());
                    frame.extend_from_slice(&data[..n]);
                    data = &data[n..];
                    if frame.len() == *frame_bytes {
                        enc.add(frame, bands, delays[*done]).map_err(err)?;
                        *done += 1;
                        frame.clear();
                    }
                }
                Ok(())
            }
        }
    }

    /// The finished file, with its metadata chunks.
    fn finish(self, name: &str, s: &webp::Settings, metadata: &Metadata) -> Result<Vec<u8>> {
        let err = |e| webp_error(name, e);
        let file = match self {
            Encoder::Still(mut pic) => webp::encode(s, &mut pic).map_err(err)?,
            Encoder::Animation { enc, .. } => enc.finish().map_err(err)?,
        };
        chunks(file, metadata).map_err(err)
    }
}

/// Encodes a whole image of `header` (packed rows) into a new `Vec`: the
/// same settings and bytes as [`writer`] would save.
pub(crate) fn encode_to_vec(
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
    data: &[u8],
) -> Result<Vec<u8>> {
    let s = settings(args)?;
    if data.len() as u64 != header.image_bytes() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: {} bytes for an image of {header}", data.len()),
        ));
    }
    let mut encoder = Encoder::new(name, header, metadata, &s)?;
    encoder.push(name, header.bands, data)?;
    encoder.finish(name, &s, metadata)
}

/// A writer saving `header` as WebP at `path`, with the ICC profile,
/// EXIF and XMP of `metadata`.
pub(crate) fn writer(
    path: &Dest,
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
) -> Result<Box<dyn BandWriter>> {
    let s = settings(args)?;
    let encoder = Encoder::new(name, header, metadata, &s)?;
    Ok(Box::new(WebpWriter {
        encoder: Some(encoder),
        settings: s,
        metadata: metadata.clone(),
        target: path.clone(),
        name: name.to_string(),
        rows: RowCheck::new(header.height, header.row_bytes()),
        bands: header.bands,
    }))
}

impl BandWriter for WebpWriter {
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        self.rows.accept(&self.name, y, rows, data)?;
        let bands = self.bands;
        let Some(encoder) = self.encoder.as_mut() else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{}: an earlier write failed; nothing saved", self.name),
            ));
        };
        if let Err(e) = encoder.push(&self.name, bands, data) {
            self.encoder = None;
            return Err(e);
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.rows.complete(&self.name)?;
        let encoder = self.encoder.take().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{}: an earlier write failed; nothing saved", self.name),
            )
        })?;
        let bytes = encoder.finish(&self.name, &self.settings, &self.metadata)?;
        let (mut file, temp) = create_out(&self.target, &self.name)?;
        file.write_all(&bytes)
            .map_err(|e| Error::io(&self.name, e))?;
        drop(file);
        persist(temp, &self.target, &self.name)
    }
}
