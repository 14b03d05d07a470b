//! The GIF loader: the file's frames listed at open (their compressed
//! data skipped), then one reader per run that decodes frame after frame
//! onto a screen-sized RGBA canvas, composited as libvips 8.18 (libnsgif)
//! does, and serves the canvas of each selected frame as the next page of
//! a tall strip.

use std::io::{Cursor, Read, Seek};
use std::path::Path;
use std::sync::Arc;

use gif::{ColorOutput, DecodeOptions, Decoder, DecodingError, DisposalMethod, MemoryLimit};
use gigapix_core::desc::Args;
use gigapix_core::sequential::{ReaderFactory, RowReader};
use gigapix_core::{BandFormat, DemandHint, Error, ErrorKind, Header, Image, Metadata, Result};

// The whole file, shared by the runs (and with the caller when it came
// from memory).
use crate::input::Shared as Bytes;
use crate::warn::{WarnedSource, Warnings};
use crate::{FailOn, OpenOptions};

/// Most frames a file may have (libvips has no such bound; this one keeps
/// the frame list small whatever the file claims).
pub(crate) const MAX_FRAMES: usize = 100_000;

/// What the open found of one frame.
#[derive(Clone, Copy, Debug)]
struct FrameInfo {
    delay_ms: u32,
}

/// What the open found of the file.
struct Scanned {
    /// The canvas (the logical screen, grown to the first frame if that
    /// is larger, as libnsgif does).
    width: u32,
    height: u32,
    frames: Vec<FrameInfo>,
    /// Any frame has a transparent index: the image gets an alpha band.
    transparent: bool,
    /// Any frame has a local colour table.
    local_palettes: bool,
    interlaced: bool,
    /// Bits of the largest colour table.
    bits: u8,
    /// The number of plays (libvips' `loop`: 0 forever).
    plays: u32,
    /// The background colour, opaque: the global table's entry for the
    /// background index (its first entry when the index is past its end,
    /// black without a global table), as libnsgif takes it.
    background: [u8; 4],
    /// The scan stopped at damage after the frames listed (with
    /// `fail_on=none`).
    damage: Option<Error>,
}

/// The engine's error for a decoding error of file `name`.
fn decode_error(name: &str, e: DecodingError) -> Error {
    match e {
        DecodingError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::format(format!("{name}: GIF file is truncated"))
        }
        DecodingError::Io(e) => Error::io(name, e),
        e => {
            let text = e.to_string();
            if text.contains("unexpected EOF") || text.contains("truncated") {
                Error::format(format!("{name}: GIF file is truncated"))
            } else {
                Error::format(format!("{name}: damaged GIF: {text}"))
            }
        }
    }
}

/// Prefixes a core error with the file name.
fn named(name: &str, e: Error) -> Error {
    Error::new(e.kind(), format!("{name}: {}", e.message()))
}

/// Decoder options: indexed output, allocations bounded by `max_alloc`.
fn decode_options(max_alloc: u64, skip: bool) -> DecodeOptions {
    let mut o = DecodeOptions::new();
    o.set_color_output(ColorOutput::Indexed);
    let limit = std::num::NonZeroU64::new(max_alloc.max(1)).expect("non-zero");
    o.set_memory_limit(MemoryLimit::Bytes(limit));
    o.skip_frame_decoding(skip);
    o
}

/// Opens a GIF file (see [`open_read`]).
pub(crate) fn open(path: &Path, name: &str, options: &OpenOptions, args: &Args) -> Result<Image> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(name, e))?;
    open_read(file, name, options, args)
}

/// Opens a GIF from `reader`: the whole file is read into memory (at most
/// [`Limits::max_alloc`](gigapix_core::Limits::max_alloc) bytes; each run
/// decodes from that copy), its frames are listed and checked, and the
/// image is a sequential source of the frames `page` to `page + n - 1`
/// stacked as a tall strip.
pub(crate) fn open_read<R: Read + Seek + Send + 'static>(
    reader: R,
    name: &str,
    options: &OpenOptions,
    args: &Args,
) -> Result<Image> {
    let bytes = crate::source::read_whole(reader, name, "a GIF", &options.limits)?;
    open_bytes(bytes, name, options, args)
}

/// Lists the frames of the GIF in `bytes`, decoding none.
fn scan(
    bytes: &Bytes,
    name: &str,
    limits: &gigapix_core::Limits,
    fail_on: FailOn,
) -> Result<(Scanned, Metadata)> {
    if bytes.as_ref().is_empty() {
        return Err(Error::format(format!("{name}: file is empty")));
    }
    let mut dec = decode_options(limits.max_alloc, true)
        .read_info(Cursor::new(bytes.clone()))
        .map_err(|e| decode_error(name, e))?;
    let (screen_w, screen_h) = (u32::from(dec.width()), u32::from(dec.height()));
    let global = dec.global_palette().map(<[u8]>::to_vec);
    let bg = dec.bg_color();
    let mut scanned = Scanned {
        width: screen_w,
        height: screen_h,
        frames: Vec::new(),
        transparent: false,
        local_palettes: false,
        interlaced: false,
        bits: global.as_ref().map_or(0, |p| palette_bits(p.len() / 3)),
        plays: 1,
        background: global
            .as_deref()
            .and_then(|g| {
                g.get(3 * bg.unwrap_or(0)..3 * bg.unwrap_or(0) + 3)
                    .or(g.get(..3))
            })
            .map_or([0, 0, 0, 255], |c| [c[0], c[1], c[2], 255]),
        damage: None,
    };
    loop {
        let frame = match dec.read_next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let e = decode_error(name, e);
                if fail_on == FailOn::None && !scanned.frames.is_empty() {
                    scanned.damage = Some(e);
                    break;
                }
                return Err(e);
            }
        };
        if scanned.frames.len() == MAX_FRAMES {
            return Err(Error::new(
                ErrorKind::Limit,
                format!("{name}: more than {MAX_FRAMES} frames"),
            ));
        }
        if scanned.frames.is_empty() {
            // libnsgif lets the first frame grow the canvas.
            scanned.width = scanned
                .width
                .max(u32::from(frame.left) + u32::from(frame.width));
            scanned.height = scanned
                .height
                .max(u32::from(frame.top) + u32::from(frame.height));
        }
        scanned.transparent |= frame.transparent.is_some();
        scanned.interlaced |= frame.interlaced;
        if let Some(p) = &frame.palette {
            scanned.local_palettes = true;
            scanned.bits = scanned.bits.max(palette_bits(p.len() / 3));
        }
        scanned.frames.push(FrameInfo {
            delay_ms: delay_ms(frame),
        });
    }
    if scanned.frames.is_empty() {
        return Err(Error::format(format!("{name}: GIF has no frames")));
    }
    scanned.plays = match dec.repeat() {
        gif::Repeat::Infinite => 0,
        // The NETSCAPE count is of repeats; libvips' `loop` of plays.
        gif::Repeat::Finite(0) => 1,
        gif::Repeat::Finite(n) => u32::from(n) + 1,
    };
    let mut metadata = Metadata::new();
    metadata.set_field("n-pages", scanned.frames.len());
    metadata.set_field("loop", scanned.plays);
    let delays: Vec<String> = scanned
        .frames
        .iter()
        .map(|f| f.delay_ms.to_string())
        .collect();
    metadata.set_field("delay", delays.join(","));
    metadata.set_field("bits-per-sample", scanned.bits);
    metadata.set_field("palette", "true");
    if scanned.interlaced {
        metadata.set_field("interlaced", "true");
    }
    if let Some(global) = &global {
        if let Some(rgb) = bg.and_then(|i| global.get(3 * i..3 * i + 3)) {
            metadata.set_field("background", format!("{},{},{}", rgb[0], rgb[1], rgb[2]));
        }
        if !scanned.local_palettes {
            // libvips' `gif-palette`: each colour as the 32-bit word of its
            // RGBA bytes in memory order (little-endian), signed.
            let words: Vec<String> = global
                .chunks_exact(3)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], 255]).to_string())
                .collect();
            metadata.set_field("gif-palette", words.join(","));
        }
    }
    if let Some(icc) = dec.icc_profile().filter(|p| !p.is_empty()) {
        metadata.icc = Some(Arc::from(icc));
    }
    Ok((scanned, metadata))
}

/// Bits of a colour table of `n` entries (1 to 8).
fn palette_bits(n: usize) -> u8 {
    let mut bits = 1;
    while (1usize << bits) < n && bits < 8 {
        bits += 1;
    }
    bits
}

/// A frame's delay in milliseconds, as libvips reports it: 100 when the
/// frame has no graphic control extension (the `gif` crate gives such a
/// frame its defaults: no delay, disposal "keep", no transparency; a
/// control block with exactly those values is taken for none).
fn delay_ms(frame: &gif::Frame<'_>) -> u32 {
    let no_control = frame.delay == 0
        && frame.dispose == DisposalMethod::Keep
        && frame.transparent.is_none()
        && !frame.needs_user_input;
    if no_control {
        100
    } else {
        u32::from(frame.delay) * 10
    }
}

/// Opens the GIF in `bytes`.
pub(crate) fn open_bytes(
    bytes: Bytes,
    name: &str,
    options: &OpenOptions,
    args: &Args,
) -> Result<Image> {
    let (scanned, mut metadata) = scan(&bytes, name, &options.limits, options.fail_on)?;
    let count = scanned.frames.len();
    let page = args.opt_int("page")?.unwrap_or(0);
    let n = args.opt_int("n")?.unwrap_or(1);
    let page = usize::try_from(page).unwrap_or(usize::MAX);
    let n = if n == -1 {
        count.saturating_sub(page)
    } else {
        usize::try_from(n).unwrap_or(0)
    };
    if n == 0 || page >= count || n > count - page {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{name}: frames {page} to {} asked for, the file has {count} (page 0 to {})",
                page.saturating_add(n).saturating_sub(1),
                count - 1
            ),
        ));
    }
    if scanned.width == 0 || scanned.height == 0 {
        return Err(Error::format(format!(
            "{name}: GIF of {}x{} pixels",
            scanned.width, scanned.height
        )));
    }
    let bands = if scanned.transparent { 4 } else { 3 };
    let strip = u64::from(scanned.height) * n as u64;
    let too_tall = || {
        Error::new(
            ErrorKind::Limit,
            format!(
                "{name}: {n} frames of {}x{} make a strip too tall",
                scanned.width, scanned.height
            ),
        )
    };
    let header = Header::new(
        scanned.width,
        u32::try_from(strip).map_err(|_| too_tall())?,
        bands,
        BandFormat::U8,
    );
    options.limits.check(&header).map_err(|e| named(name, e))?;
    let canvas_bytes = u64::from(scanned.width) * u64::from(scanned.height) * 4;
    if 2 * canvas_bytes > options.limits.max_alloc {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "{name}: a canvas of {}x{} is over the loader's limit (max_alloc {})",
                scanned.width, scanned.height, options.limits.max_alloc
            ),
        ));
    }
    if n > 1 {
        metadata.set_field("page-height", scanned.height);
    }
    let warnings = Warnings::default();
    if let Some(e) = &scanned.damage {
        warnings.rows_lost(e);
    }
    let name: Arc<str> = Arc::from(name);
    let fail_on = options.fail_on;
    let max_alloc = options.limits.max_alloc;
    let (width, height) = (scanned.width, scanned.height);
    let background = scanned.background;
    let decoded = scanned.frames.len();
    let open: ReaderFactory<GifRows> = {
        let warnings = warnings.clone();
        Box::new(move || {
            let decoder = decode_options(max_alloc, false)
                .read_info(Cursor::new(bytes.clone()))
                .map_err(|e| decode_error(&name, e))?;
            Ok(GifRows {
                decoder,
                background,
                name: name.clone(),
                width,
                height,
                bands,
                canvas: vec![0; width as usize * height as usize * 4],
                saved: Vec::new(),
                line: Vec::new(),
                dispose: None,
                next_frame: 0,
                first: page,
                frames: decoded,
                row: 0,
                fail_on,
                stop_at: None,
                warnings: warnings.clone(),
            })
        })
    };
    Ok(WarnedSource::image(
        "gifload",
        header,
        metadata,
        warnings,
        DemandHint::Any,
        // The canvas, a saved copy for "restore to previous", a line.
        2 * canvas_bytes + u64::from(width),
        open,
    ))
}

/// A frame's rectangle on the canvas, clipped to it.
#[derive(Clone, Copy, Debug)]
struct Area {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

/// Decodes the frames of one run onto the canvas.
struct GifRows {
    decoder: Decoder<Cursor<Bytes>>,
    name: Arc<str>,
    width: u32,
    height: u32,
    bands: u32,
    /// The screen as composited so far, RGBA.
    canvas: Vec<u8>,
    /// The canvas under the last frame before it was drawn, for its
    /// disposal "restore to previous".
    saved: Vec<u8>,
    /// One line of colour indices.
    line: Vec<u8>,
    /// The disposal the last frame drawn asks for before the next, its
    /// area, and whether it had a transparent index.
    dispose: Option<(DisposalMethod, Area, bool)>,
    /// What disposal "background" paints (without transparency).
    background: [u8; 4],
    /// Frames decoded so far.
    next_frame: usize,
    /// The first frame served.
    first: usize,
    /// Frames the open listed.
    frames: usize,
    /// Rows served so far.
    row: u64,
    fail_on: FailOn,
    /// Decoding failed (with `FailOn::None`): rows from here are zeros.
    stop_at: Option<u64>,
    warnings: Warnings,
}

/// The order in which an interlaced frame of `h` rows stores them.
pub(super) fn interlaced_rows(h: u32) -> impl Iterator<Item = u32> {
    [(0, 8), (4, 8), (2, 4), (1, 2)]
        .into_iter()
        .flat_map(move |(start, step)| (start..h).step_by(step))
}

impl GifRows {
    /// Applies the pending disposal, then decodes the next frame onto the
    /// canvas.
    fn decode_frame(&mut self) -> Result<()> {
        let canvas_w = self.width as usize;
        if let Some((method, a, had_transparency)) = self.dispose.take() {
            match method {
                DisposalMethod::Background => {
                    // As libnsgif: a frame with a transparent index is
                    // cleared to transparent black, one without to the
                    // (opaque) background colour.
                    let fill = if had_transparency {
                        [0; 4]
                    } else {
                        self.background
                    };
                    for y in a.y..a.y + a.h {
                        let start = (y as usize * canvas_w + a.x as usize) * 4;
                        for px in self.canvas[start..start + a.w as usize * 4].chunks_exact_mut(4) {
                            px.copy_from_slice(&fill);
                        }
                    }
                }
                DisposalMethod::Previous => {
                    let row = a.w as usize * 4;
                    for (i, y) in (a.y..a.y + a.h).enumerate() {
                        let start = (y as usize * canvas_w + a.x as usize) * 4;
                        self.canvas[start..start + row]
                            .copy_from_slice(&self.saved[i * row..(i + 1) * row]);
                    }
                }
                _ => {}
            }
        }
        let name = self.name.clone();
        let frame = self
            .decoder
            .next_frame_info()
            .map_err(|e| decode_error(&name, e))?
            .ok_or_else(|| {
                Error::format(format!("{name}: the file changed since it was opened"))
            })?;
        let (left, top) = (u32::from(frame.left), u32::from(frame.top));
        let (fw, fh) = (u32::from(frame.width), u32::from(frame.height));
        let area = Area {
            x: left.min(self.width),
            y: top.min(self.height),
            w: (left + fw).min(self.width).saturating_sub(left),
            h: (top + fh).min(self.height).saturating_sub(top),
        };
        let transparent = frame.transparent.map(usize::from);
        let interlaced = frame.interlaced;
        let dispose = frame.dispose;
        // Colours by index: those of the table, opaque black beyond it.
        let mut colours = [[0u8, 0, 0, 255]; 256];
        let table = match &frame.palette {
            Some(p) => p.as_slice(),
            None => self.decoder.global_palette().unwrap_or_default(),
        };
        for (c, rgb) in colours.iter_mut().zip(table.chunks_exact(3)) {
            c[..3].copy_from_slice(rgb);
        }
        if dispose == DisposalMethod::Previous {
            let row = area.w as usize * 4;
            self.saved.resize(row * area.h as usize, 0);
            for (i, y) in (area.y..area.y + area.h).enumerate() {
                let start = (y as usize * canvas_w + area.x as usize) * 4;
                self.saved[i * row..(i + 1) * row]
                    .copy_from_slice(&self.canvas[start..start + row]);
            }
        }
        self.line.resize(fw as usize, 0);
        let rows: Box<dyn Iterator<Item = u32>> = if interlaced {
            Box::new(interlaced_rows(fh))
        } else {
            Box::new(0..fh)
        };
        let mut result = Ok(());
        for fy in rows {
            if fw == 0 {
                break;
            }
            match self.decoder.fill_buffer(&mut self.line) {
                Ok(true) => {}
                Ok(false) => {
                    result = Err(Error::format(format!(
                        "{name}: the data of frame {} ends early",
                        self.next_frame
                    )));
                    break;
                }
                Err(e) => {
                    result = Err(decode_error(&name, e));
                    break;
                }
            }
            let y = top + fy;
            if y >= self.height || area.w == 0 {
                continue;
            }
            let start = (y as usize * canvas_w + area.x as usize) * 4;
            let out = &mut self.canvas[start..start + area.w as usize * 4];
            for (px, &i) in out.chunks_exact_mut(4).zip(&self.line) {
                if Some(usize::from(i)) != transparent {
                    px.copy_from_slice(&colours[usize::from(i)]);
                }
            }
        }
        self.next_frame += 1;
        self.dispose = Some((dispose, area, transparent.is_some()));
        result
    }

    /// Serves canvas row `y` of the current page into `out`.
    fn put_row(&self, y: usize, out: &mut [u8]) {
        let canvas_w = self.width as usize;
        let src = &self.canvas[y * canvas_w * 4..(y + 1) * canvas_w * 4];
        if self.bands == 4 {
            out.copy_from_slice(src);
        } else {
            for (d, s) in out.chunks_exact_mut(3).zip(src.chunks_exact(4)) {
                d.copy_from_slice(&s[..3]);
            }
        }
    }
}

impl RowReader for GifRows {
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
        let row_bytes = self.width as usize * self.bands as usize;
        let height = u64::from(self.height);
        for out in buf.chunks_exact_mut(row_bytes) {
            if self.stop_at.is_some_and(|stop| self.row >= stop) {
                out.fill(0);
                self.row += 1;
                continue;
            }
            let y = (self.row % height) as usize;
            if y == 0 {
                let page = self.first + (self.row / height) as usize;
                if page >= self.frames {
                    return Err(Error::format(format!(
                        "{}: read past the last frame",
                        self.name
                    )));
                }
                while self.stop_at.is_none() && self.next_frame <= page {
                    if let Err(e) = self.decode_frame() {
                        if self.fail_on == FailOn::Error {
                            return Err(e);
                        }
                        // Keep what was drawn of this page; zeros after.
                        self.warnings.rows_lost(&e);
                        self.stop_at = Some(self.row + height);
                    }
                }
            }
            self.put_row(y, out);
            self.row += 1;
        }
        Ok(())
    }
}
