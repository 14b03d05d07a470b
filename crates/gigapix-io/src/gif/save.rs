//! The GIF saver: rows are gathered one frame at a time (a palette needs
//! every pixel of its frame); each complete frame is quantised (or, with
//! no more colours than the palette holds, indexed exactly), LZW-encoded
//! by the `gif` crate and written, and its buffer reused for the next.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use gif::{DisposalMethod, Encoder, Frame, Repeat};
use gigapix_core::desc::Args;
use gigapix_core::{BandWriter, Error, ErrorKind, Header, Metadata, Result};
use quantette::deps::palette::Srgb;
use quantette::dither::FloydSteinberg;
use quantette::kmeans::KmeansOptions;
use quantette::{ImageRef, PaletteBuf, PaletteSize, Pipeline, QuantizeMethod};

use crate::save::{Dest, OutFile, RowCheck, Temp, create_out, persist};

/// Buffer of the output file.
const OUT_BUFFER: usize = 256 << 10;

/// Frames of at least this many pixels are quantised on several threads.
const PARALLEL_PIXELS: usize = 1 << 18;

/// The default `effort`: k-means (see [`Settings::method`]).
pub(crate) const DEFAULT_EFFORT: u8 = 7;

/// Delay of a frame when the image has no `delay` (milliseconds).
const DEFAULT_DELAY_MS: u32 = 100;

/// The saver's settings, from the options (checked by the format table)
/// and the image.
#[derive(Clone, Debug)]
struct Settings {
    /// Floyd-Steinberg error diffusion, 0 (none) to 1.
    dither: f32,
    effort: u8,
    /// Colours of a palette: `2^bitdepth`.
    colours: usize,
    interlace: bool,
    width: u16,
    /// Height of a frame.
    page_height: u16,
    pages: u32,
    bands: usize,
    /// Delay of each frame, centiseconds.
    delays: Vec<u16>,
    /// The NETSCAPE block: `None` for a single play.
    repeat: Option<Repeat>,
}

fn settings(name: &str, header: &Header, metadata: &Metadata, args: &Args) -> Result<Settings> {
    let invalid = |msg: String| Error::new(ErrorKind::InvalidArgument, format!("{name}: {msg}"));
    if !(1..=4).contains(&header.bands) {
        return Err(invalid(format!(
            "GIF holds 1 to 4 bands (grey, grey+alpha, RGB, RGBA), not {}: extract bands first",
            header.bands
        )));
    }
    if header.width == 0 || header.height == 0 {
        return Err(invalid(format!("cannot save an image of {header}")));
    }
    // The strip is an animation when `page-height` divides it (libvips
    // ignores a `page-height` that does not).
    let page_height = metadata
        .field("page-height")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|&p| p > 0 && p < header.height && header.height.is_multiple_of(p))
        .unwrap_or(header.height);
    let pages = header.height / page_height;
    if header.width > u32::from(u16::MAX) || page_height > u32::from(u16::MAX) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: GIF frames are at most 65535x65535 pixels, not {}x{page_height}",
                header.width
            ),
        ));
    }
    let dither = args.opt_float("dither")?.unwrap_or(1.0).clamp(0.0, 1.0) as f32;
    let effort = args
        .opt_int("effort")?
        .map_or(DEFAULT_EFFORT, |e| e.clamp(1, 10) as u8);
    let bits = args.opt_int("bitdepth")?.unwrap_or(8).clamp(1, 8) as u32;
    let interlace = args.bool("interlace")?;
    // `delay`: milliseconds per frame, comma-separated (as the loaders
    // give it); a list of another length, or none, gives every frame the
    // first value or 100 ms.
    let listed: Vec<u32> = metadata
        .field("delay")
        .map(|d| d.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_default();
    let delays = (0..pages as usize)
        .map(|i| {
            let ms = if listed.len() == pages as usize {
                listed[i]
            } else {
                listed.first().copied().unwrap_or(DEFAULT_DELAY_MS)
            };
            u16::try_from(ms.saturating_add(5) / 10).unwrap_or(u16::MAX)
        })
        .collect();
    // `loop`: the number of plays, 0 for forever (libvips' convention);
    // forever by default for an animation.
    let plays = metadata
        .field("loop")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(if pages > 1 { 0 } else { 1 });
    let repeat = match plays {
        0 => Some(Repeat::Infinite),
        1 => None,
        n => Some(Repeat::Finite(u16::try_from(n - 1).unwrap_or(u16::MAX))),
    };
    Ok(Settings {
        dither,
        effort,
        colours: 1 << bits,
        interlace,
        width: header.width as u16,
        page_height: page_height as u16,
        pages,
        bands: header.bands as usize,
        delays,
        repeat,
    })
}

/// Bytes the writer holds: one frame of input, its RGB copy and indices,
/// the quantiser's working copy (Oklab, 12 bytes a pixel, or its samples),
/// the LZW output and the output buffer.
pub(crate) fn encoder_bytes(header: &Header, _args: &Args) -> Result<u64> {
    // `page-height` is metadata, unknown here: a frame is the whole image
    // at most.
    let pixels = u64::from(header.width) * u64::from(header.height);
    Ok(pixels * (header.bands as u64 + 3 + 1 + 12 + 1) + OUT_BUFFER as u64)
}

/// Quantises and encodes frames of RGB(A) rows into `W`.
struct FrameEncoder<W: Write> {
    encoder: Option<Encoder<W>>,
    settings: Settings,
    name: String,
    /// Rows of the current frame.
    frame: Vec<u8>,
    /// Frames written.
    written: u32,
}

/// The engine's error for an encoding error.
fn encoding_error(name: &str, e: gif::EncodingError) -> Error {
    match e {
        gif::EncodingError::Io(e) => Error::io(name, e),
        e => Error::new(ErrorKind::InvalidArgument, format!("{name}: GIF: {e}")),
    }
}

impl<W: Write> FrameEncoder<W> {
    fn new(out: W, name: &str, settings: Settings) -> Result<FrameEncoder<W>> {
        let mut encoder = Encoder::new(out, settings.width, settings.page_height, &[])
            .map_err(|e| encoding_error(name, e))?;
        if let Some(repeat) = settings.repeat {
            encoder
                .set_repeat(repeat)
                .map_err(|e| encoding_error(name, e))?;
        }
        let frame_bytes =
            usize::from(settings.width) * usize::from(settings.page_height) * settings.bands;
        let mut frame = Vec::new();
        frame.try_reserve_exact(frame_bytes).map_err(|_| {
            Error::new(
                ErrorKind::Limit,
                format!("{name}: cannot hold a frame of {frame_bytes} bytes"),
            )
        })?;
        Ok(FrameEncoder {
            encoder: Some(encoder),
            settings,
            name: name.to_string(),
            frame,
            written: 0,
        })
    }

    /// Takes packed rows (in order), encoding each frame as it completes.
    fn push(&mut self, mut data: &[u8]) -> Result<()> {
        let frame_bytes = usize::from(self.settings.width)
            * usize::from(self.settings.page_height)
            * self.settings.bands;
        while !data.is_empty() {
            let take = (frame_bytes - self.frame.len()).min(data.len());
            self.frame.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.frame.len() == frame_bytes {
                self.encode_frame()?;
                self.frame.clear();
            }
        }
        Ok(())
    }

    fn encode_frame(&mut self) -> Result<()> {
        let s = &self.settings;
        let (indexed, palette, transparent) = index_frame(&self.frame, s);
        let (w, h) = (usize::from(s.width), usize::from(s.page_height));
        let buffer = if s.interlace {
            let mut out = Vec::with_capacity(indexed.len());
            for y in super::load::interlaced_rows(h as u32) {
                out.extend_from_slice(&indexed[y as usize * w..(y as usize + 1) * w]);
            }
            out
        } else {
            indexed
        };
        let frame = Frame {
            delay: s.delays[self.written as usize],
            // Every frame covers the screen: with transparency, each is
            // cleared before the next so that its transparent pixels stay
            // transparent (libnsgif clears a frame with a transparent
            // index to transparent).
            dispose: if transparent.is_some() && s.pages > 1 {
                DisposalMethod::Background
            } else {
                DisposalMethod::Any
            },
            transparent,
            width: s.width,
            height: s.page_height,
            interlaced: s.interlace,
            palette: Some(palette),
            buffer: buffer.into(),
            ..Frame::default()
        };
        let encoder = self.encoder.as_mut().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{}: an earlier write failed", self.name),
            )
        })?;
        if let Err(e) = encoder.write_frame(&frame) {
            self.encoder = None;
            return Err(encoding_error(&self.name, e));
        }
        self.written += 1;
        Ok(())
    }

    /// Writes the trailer; returns the output.
    fn finish(mut self) -> Result<W> {
        if self.written != self.settings.pages {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{}: {} of {} frames written",
                    self.name, self.written, self.settings.pages
                ),
            ));
        }
        let encoder = self.encoder.take().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{}: an earlier write failed; nothing saved", self.name),
            )
        })?;
        encoder
            .into_inner()
            .map_err(|e| encoding_error(&self.name, e))
    }
}

/// The colour indices of a frame of `s.bands` bands, its palette (RGB
/// triples) and its transparent index. Pixels with alpha below 128 take
/// the transparent index (the last of the palette); when the opaque
/// pixels have no more colours than the palette holds they are indexed
/// exactly, else quantised by quantette (Wu's method for `effort` up to
/// 4, k-means refined from it above, more samples with more effort), in
/// Oklab, and mapped with Floyd-Steinberg dithering of strength `dither`.
fn index_frame(frame: &[u8], s: &Settings) -> (Vec<u8>, Vec<u8>, Option<u8>) {
    let bands = s.bands;
    let has_alpha = bands == 2 || bands == 4;
    let pixels = frame.len() / bands;
    let opaque = |px: &[u8]| !has_alpha || px[bands - 1] >= 128;
    let rgb_of = |px: &[u8]| -> [u8; 3] {
        if bands < 3 {
            [px[0]; 3]
        } else {
            [px[0], px[1], px[2]]
        }
    };
    // With alpha, one entry is the transparent index (kept even when no
    // pixel is transparent, so that every frame of an animation can be
    // cleared to transparent).
    let room = if has_alpha { s.colours - 1 } else { s.colours };
    if let Some((palette, indices)) = exact(frame, bands, room, opaque, rgb_of) {
        let mut table: Vec<u8> = palette.iter().flatten().copied().collect();
        let transparent = has_alpha.then(|| {
            let t = palette.len() as u8;
            table.extend_from_slice(&[0, 0, 0]);
            t
        });
        let mut indices = indices;
        if let Some(t) = transparent {
            for (i, px) in indices.iter_mut().zip(frame.chunks_exact(bands)) {
                if !opaque(px) {
                    *i = t;
                }
            }
        }
        return (indices, table, transparent);
    }
    let rgb: Vec<Srgb<u8>> = frame
        .chunks_exact(bands)
        .map(|px| {
            let [r, g, b] = rgb_of(px);
            Srgb::new(r, g, b)
        })
        .collect();
    let size = PaletteSize::try_from(room as u16).unwrap_or(PaletteSize::MAX);
    let method: QuantizeMethod = if s.effort <= 4 {
        QuantizeMethod::Wu
    } else {
        // quantette's default samples (512x512) at effort 7.
        let samples = (512 * 512 / 7) * u32::from(s.effort);
        KmeansOptions::new().max_samples(samples).into()
    };
    let parallel = pixels >= PARALLEL_PIXELS;
    let base = Pipeline::new()
        .palette_size(size)
        .quantize_method(method)
        .parallel(parallel);
    // The palette, of the opaque pixels only.
    let opaque_colours: Vec<Srgb<u8>>;
    let sample: &[Srgb<u8>] = if has_alpha {
        opaque_colours = rgb
            .iter()
            .zip(frame.chunks_exact(bands))
            .filter(|(_, px)| opaque(px))
            .map(|(c, _)| *c)
            .collect();
        &opaque_colours
    } else {
        &rgb
    };
    let palette: Vec<Srgb<u8>> = base
        .clone()
        .ditherer(None)
        .input_slice(sample)
        .ok()
        .map(|p| p.output_srgb8_palette().into_vec())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| vec![Srgb::new(0, 0, 0)]);
    let Ok(custom) = PaletteBuf::try_from(palette.clone()) else {
        unreachable!("a palette of 1 to 256 colours")
    };
    let ditherer = if s.dither > 0.0 {
        FloydSteinberg::with_error_diffusion(s.dither)
    } else {
        None
    };
    let image = ImageRef::new(u32::from(s.width), u32::from(s.page_height), &rgb[..])
        .expect("the frame's size");
    let mapped = Pipeline::new()
        .palette_size(size)
        .quantize_method(custom)
        .ditherer(ditherer)
        .parallel(parallel)
        .input_image(image)
        .output_srgb8_indexed_image();
    let (colours, mut indices) = mapped.into_parts();
    let mut table: Vec<u8> = colours
        .iter()
        .flat_map(|c| [c.red, c.green, c.blue])
        .collect();
    let transparent = has_alpha.then(|| {
        let t = colours.len() as u8;
        table.extend_from_slice(&[0, 0, 0]);
        for (i, px) in indices.iter_mut().zip(frame.chunks_exact(bands)) {
            if !opaque(px) {
                *i = t;
            }
        }
        t
    });
    (indices, table, transparent)
}

/// The exact palette and indices of a frame whose opaque pixels have at
/// most `room` colours (transparent pixels get index 0 here), or `None`.
fn exact(
    frame: &[u8],
    bands: usize,
    room: usize,
    opaque: impl Fn(&[u8]) -> bool,
    rgb_of: impl Fn(&[u8]) -> [u8; 3],
) -> Option<(Vec<[u8; 3]>, Vec<u8>)> {
    let mut palette: Vec<[u8; 3]> = Vec::new();
    let mut lookup: HashMap<[u8; 3], u8> = HashMap::new();
    let mut indices = Vec::with_capacity(frame.len() / bands);
    let mut last: Option<([u8; 3], u8)> = None;
    for px in frame.chunks_exact(bands) {
        if !opaque(px) {
            indices.push(0);
            continue;
        }
        let c = rgb_of(px);
        let i = match last {
            Some((lc, li)) if lc == c => li,
            _ => match lookup.get(&c) {
                Some(&i) => i,
                None => {
                    if palette.len() == room {
                        return None;
                    }
                    let i = palette.len() as u8;
                    palette.push(c);
                    lookup.insert(c, i);
                    i
                }
            },
        };
        last = Some((c, i));
        indices.push(i);
    }
    if palette.is_empty() {
        palette.push([0, 0, 0]);
    }
    Some((palette, indices))
}

/// Encodes a whole image of `header` (packed rows) into a new `Vec`: the
/// same encoder and settings as [`writer`], so the same bytes as the file
/// it would save.
pub(crate) fn encode_to_vec(
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
    data: &[u8],
) -> Result<Vec<u8>> {
    let settings = settings(name, header, metadata, args)?;
    if data.len() as u64 != header.image_bytes() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{name}: {} bytes for an image of {header}", data.len()),
        ));
    }
    let mut enc = FrameEncoder::new(Vec::new(), name, settings)?;
    enc.push(data)?;
    enc.finish()
}

/// A [`BandWriter`] encoding GIF into a temporary file.
struct GifWriter {
    encoder: Option<FrameEncoder<BufWriter<OutFile>>>,
    temp: Option<Temp>,
    target: PathBuf,
    name: String,
    rows: RowCheck,
}

/// A writer saving `header` as GIF at `path`: an animation when
/// `metadata` has a `page-height` dividing the height, with its `delay`
/// and `loop`.
pub(crate) fn writer(
    path: &Dest,
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
) -> Result<Box<dyn BandWriter>> {
    let settings = settings(name, header, metadata, args)?;
    let (file, temp) = create_out(path, name)?;
    let encoder = FrameEncoder::new(BufWriter::with_capacity(OUT_BUFFER, file), name, settings)?;
    Ok(Box::new(GifWriter {
        encoder: Some(encoder),
        temp: Some(temp),
        target: path.to_path_buf(),
        name: name.to_string(),
        rows: RowCheck::new(header.height, header.row_bytes()),
    }))
}

impl BandWriter for GifWriter {
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        self.rows.accept(&self.name, y, rows, data)?;
        let encoder = self.encoder.as_mut().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{}: written after an error or finish", self.name),
            )
        })?;
        let result = encoder.push(data);
        if result.is_err() {
            self.encoder = None;
        }
        result
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.rows.complete(&self.name)?;
        let encoder = self.encoder.take().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{}: an earlier write failed; nothing saved", self.name),
            )
        })?;
        let out = encoder.finish()?;
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&self.name, e.into_error()))?;
        drop(file);
        let temp = self.temp.take().expect("finished once");
        persist(temp, &self.target, &self.name)
    }
}
