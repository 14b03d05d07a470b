//! A small safe wrapper of libwebp 1.6 (through `libwebp-sys`, which
//! builds libwebp's C sources with the C compiler) for the WebP loader and
//! saver of `gigapix-io`: the only place of gigapix that calls libwebp,
//! and so the only `unsafe` code of the WebP path. Every call into C is a
//! small block with a `// SAFETY:` comment; the types here own what libwebp
//! allocates and free it on drop.
//!
//! * [`features`] and [`Container`]: what a file holds (size, alpha,
//!   animation, its frames, the `ICCP`/`EXIF`/`XMP ` chunks), read with
//!   libwebp's demuxer, which checks the RIFF structure.
//! * [`decode`]: a still image into a caller's RGB or RGBA buffer, at full
//!   size or scaled by libwebp's rescaler (shrink-on-load), with libwebp's
//!   decoding thread.
//! * [`AnimDecoder`]: the frames of an animation composited on the canvas
//!   as the format says (disposal, alpha blending), as RGBA.
//! * [`Picture`], [`encode`]: a picture filled band by band as rows
//!   arrive (converted to YUV 4:2:0 per pair of rows for lossy output, so
//!   the encoder holds 1.5 bytes per pixel rather than the RGB image), then
//!   encoded with a [`Settings`].
//! * [`AnimEncoder`]: an animation from whole RGBA frames.
//! * [`add_chunks`]: the ICC profile, EXIF and XMP chunks added to a
//!   finished file by libwebp's muxer.
//!
//! # Why libwebp and not `image-webp`
//!
//! Measured on a 1024x768 crop of a photo (instruction counts by
//! `valgrind --tool=callgrind`, both optimised): decoding a lossy file
//! (cwebp -q 80) took 54.6 M instructions with libwebp against 250 M with
//! image-webp 0.2.4 (same pixels); a lossless file 115 M against 239 M.
//! image-webp encodes lossless only: its file was 1 054 806 bytes where
//! libwebp (and libvips 8.18, which uses libwebp) wrote 899 228 (17 %
//! larger, against the 3 %), and it has no lossy encoder at all,
//! so `Q`, `near_lossless`, `smart_subsample`, `preset` and `alpha_q`
//! could not be honoured.
#![deny(missing_docs)]

use std::ffi::{CStr, c_int};
use std::fmt;
use std::marker::PhantomData;
use std::ptr;

use libwebp_sys as sys;

/// The largest width or height of a WebP image (16383).
pub const MAX_DIMENSION: u32 = sys::WEBP_MAX_DIMENSION;

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The data is not a valid WebP file (damaged, truncated).
    Format,
    /// A feature this wrapper or libwebp does not handle.
    Unsupported,
    /// Bad arguments (sizes, settings).
    Invalid,
    /// libwebp could not allocate.
    Memory,
}

/// An error of libwebp or of this wrapper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, one line.
    pub fn message(&self) -> &str {
        &self.message
    }

    fn status(status: sys::VP8StatusCode) -> Error {
        use sys::VP8StatusCode::*;
        match status {
            VP8_STATUS_OUT_OF_MEMORY => Error::new(ErrorKind::Memory, "out of memory"),
            VP8_STATUS_INVALID_PARAM => {
                Error::new(ErrorKind::Invalid, "invalid decoding parameter")
            }
            VP8_STATUS_UNSUPPORTED_FEATURE => {
                Error::new(ErrorKind::Unsupported, "unsupported WebP feature")
            }
            VP8_STATUS_NOT_ENOUGH_DATA => Error::new(ErrorKind::Format, "WebP file is truncated"),
            _ => Error::new(ErrorKind::Format, "damaged WebP bitstream"),
        }
    }

    fn encoding(code: sys::WebPEncodingError) -> Error {
        use sys::WebPEncodingError::*;
        let (kind, what) = match code {
            VP8_ENC_ERROR_OUT_OF_MEMORY | VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY => {
                (ErrorKind::Memory, "out of memory")
            }
            VP8_ENC_ERROR_BAD_DIMENSION => (ErrorKind::Invalid, "bad picture size"),
            VP8_ENC_ERROR_INVALID_CONFIGURATION => (ErrorKind::Invalid, "invalid settings"),
            VP8_ENC_ERROR_PARTITION0_OVERFLOW | VP8_ENC_ERROR_PARTITION_OVERFLOW => (
                ErrorKind::Invalid,
                "a partition is over its 512 KiB limit (try a lower Q)",
            ),
            VP8_ENC_ERROR_FILE_TOO_BIG => (ErrorKind::Invalid, "file would be over 4 GiB"),
            _ => (ErrorKind::Invalid, "encoding failed"),
        };
        Error::new(kind, format!("WebP encoder: {what}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// A result of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Converts a size to a C int, refusing what does not fit.
fn cint(n: usize, what: &str) -> Result<c_int> {
    c_int::try_from(n).map_err(|_| Error::new(ErrorKind::Invalid, format!("{what} is too large")))
}

/// What the bitstream of a still image (or the first frame) says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Features {
    /// Width (the canvas width of an animation).
    pub width: u32,
    /// Height.
    pub height: u32,
    /// The image has an alpha channel.
    pub has_alpha: bool,
    /// The file is an animation.
    pub animated: bool,
    /// The bitstream is lossless (VP8L) rather than lossy (VP8); `None`
    /// for animations (whose frames may mix both).
    pub lossless: Option<bool>,
}

/// Reads the features of a WebP file from its first bytes.
pub fn features(data: &[u8]) -> Result<Features> {
    // SAFETY: an all-zero WebPBitstreamFeatures is a valid value (ints).
    let mut f: sys::WebPBitstreamFeatures = unsafe { std::mem::zeroed() };
    // SAFETY: `data` is valid for `data.len()` bytes, `f` is writable.
    let status = unsafe { sys::WebPGetFeatures(data.as_ptr(), data.len(), &mut f) };
    if status != sys::VP8StatusCode::VP8_STATUS_OK {
        return Err(Error::status(status));
    }
    Ok(Features {
        width: f.width as u32,
        height: f.height as u32,
        has_alpha: f.has_alpha != 0,
        animated: f.has_animation != 0,
        lossless: match f.format {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        },
    })
}

/// One frame of a file as the container describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameInfo {
    /// Position and size on the canvas.
    pub x: u32,
    /// See `x`.
    pub y: u32,
    /// Width of the frame.
    pub width: u32,
    /// Height of the frame.
    pub height: u32,
    /// Display time in milliseconds.
    pub duration: u32,
    /// The frame has alpha.
    pub has_alpha: bool,
}

/// A parsed WebP container (simple or extended), borrowing the file's
/// bytes: canvas, frames, loop count and metadata chunks.
pub struct Container<'a> {
    demux: *mut sys::WebPDemuxer,
    _data: PhantomData<&'a [u8]>,
}

// SAFETY: the demuxer is only read after parsing (libwebp's getters do not
// mutate it) and points only into the borrowed bytes, which are immutable.
unsafe impl Send for Container<'_> {}

impl<'a> Container<'a> {
    /// Parses the whole container; a truncated or damaged RIFF structure
    /// is an error.
    pub fn parse(data: &'a [u8]) -> Result<Container<'a>> {
        let wd = sys::WebPData {
            bytes: data.as_ptr(),
            size: data.len(),
        };
        let mut state = sys::WebPDemuxState::WEBP_DEMUX_PARSING_HEADER;
        // SAFETY: `wd` describes `data`, which outlives the demuxer
        // (lifetime 'a); allow_partial = 0 refuses incomplete files.
        let demux = unsafe {
            sys::WebPDemuxInternal(&wd, 0, &mut state, sys::WEBP_DEMUX_ABI_VERSION as c_int)
        };
        if demux.is_null() {
            let what = if state == sys::WebPDemuxState::WEBP_DEMUX_PARSE_ERROR {
                "damaged WebP container"
            } else {
                "WebP file is truncated"
            };
            return Err(Error::new(ErrorKind::Format, what));
        }
        Ok(Container {
            demux,
            _data: PhantomData,
        })
    }

    fn get(&self, feature: sys::WebPFormatFeature) -> u32 {
        // SAFETY: `self.demux` is a live demuxer.
        unsafe { sys::WebPDemuxGetI(self.demux, feature) }
    }

    /// Canvas width.
    pub fn width(&self) -> u32 {
        self.get(sys::WebPFormatFeature::WEBP_FF_CANVAS_WIDTH)
    }

    /// Canvas height.
    pub fn height(&self) -> u32 {
        self.get(sys::WebPFormatFeature::WEBP_FF_CANVAS_HEIGHT)
    }

    /// Number of frames (1 for a still image).
    pub fn frame_count(&self) -> u32 {
        self.get(sys::WebPFormatFeature::WEBP_FF_FRAME_COUNT)
    }

    /// Loop count of an animation (0: for ever).
    pub fn loop_count(&self) -> u32 {
        self.get(sys::WebPFormatFeature::WEBP_FF_LOOP_COUNT)
    }

    /// `true` if the file is an animation (VP8X animation flag).
    pub fn animated(&self) -> bool {
        self.get(sys::WebPFormatFeature::WEBP_FF_FORMAT_FLAGS) & 0x02 != 0
    }

    /// The frames, in order.
    pub fn frames(&self) -> Vec<FrameInfo> {
        let mut out = Vec::new();
        // SAFETY: an all-zero iterator is what libwebp expects to fill.
        let mut it: sys::WebPIterator = unsafe { std::mem::zeroed() };
        // SAFETY: live demuxer; frame 1 is the first; the iterator is
        // released below.
        if unsafe { sys::WebPDemuxGetFrame(self.demux, 1, &mut it) } != 0 {
            loop {
                out.push(FrameInfo {
                    x: it.x_offset as u32,
                    y: it.y_offset as u32,
                    width: it.width as u32,
                    height: it.height as u32,
                    duration: it.duration.max(0) as u32,
                    has_alpha: it.has_alpha != 0,
                });
                // SAFETY: the iterator came from WebPDemuxGetFrame.
                if unsafe { sys::WebPDemuxNextFrame(&mut it) } == 0 {
                    break;
                }
            }
            // SAFETY: as above.
            unsafe { sys::WebPDemuxReleaseIterator(&mut it) };
        }
        out
    }

    /// The first chunk `fourcc` (`b"ICCP"`, `b"EXIF"`, `b"XMP "`), if any.
    pub fn chunk(&self, fourcc: &[u8; 4]) -> Option<&'a [u8]> {
        let name = [fourcc[0], fourcc[1], fourcc[2], fourcc[3], 0];
        // SAFETY: zeroed iterator to be filled.
        let mut it: sys::WebPChunkIterator = unsafe { std::mem::zeroed() };
        // SAFETY: live demuxer, NUL-terminated four-character code.
        let found =
            unsafe { sys::WebPDemuxGetChunk(self.demux, name.as_ptr().cast(), 1, &mut it) } != 0;
        let out = if found && !it.chunk.bytes.is_null() {
            // SAFETY: the chunk points into the borrowed file ('a), with
            // the length the demuxer checked against the file.
            Some(unsafe { std::slice::from_raw_parts(it.chunk.bytes, it.chunk.size) })
        } else {
            None
        };
        // SAFETY: the iterator came from WebPDemuxGetChunk.
        unsafe { sys::WebPDemuxReleaseChunkIterator(&mut it) };
        out
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        // SAFETY: created by WebPDemuxInternal, deleted once.
        unsafe { sys::WebPDemuxDelete(self.demux) };
    }
}

/// How [`decode`] decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// RGBA output (else RGB).
    pub alpha: bool,
    /// Output size: the image's own for a plain decode, smaller for
    /// libwebp's rescaler.
    pub width: u32,
    /// See `width`.
    pub height: u32,
    /// Use libwebp's second decoding thread (lossy files).
    pub threads: bool,
}

impl DecodeOptions {
    /// Options for an output of `width` x `height`, RGBA if `alpha`.
    pub fn new(width: u32, height: u32, alpha: bool) -> DecodeOptions {
        DecodeOptions {
            alpha,
            width,
            height,
            threads: true,
        }
    }
}

/// Decodes a still WebP file into `out` (rows `stride` bytes apart, 3 or
/// 4 bytes a pixel), rescaled by libwebp when the options' size differs
/// from the image's.
pub fn decode(data: &[u8], options: &DecodeOptions, out: &mut [u8], stride: usize) -> Result<()> {
    let px = if options.alpha { 4 } else { 3 };
    let (w, h) = (options.width as usize, options.height as usize);
    if w == 0 || h == 0 || stride < w * px || out.len() < stride * (h - 1) + w * px {
        return Err(Error::new(ErrorKind::Invalid, "output buffer too small"));
    }
    // SAFETY: zeroed, then initialised by libwebp.
    let mut config: sys::WebPDecoderConfig = unsafe { std::mem::zeroed() };
    // SAFETY: `config` is writable.
    if !unsafe { sys::WebPInitDecoderConfig(&mut config) } {
        return Err(Error::new(ErrorKind::Invalid, "libwebp version mismatch"));
    }
    let f = features(data)?;
    if f.animated {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "an animation is decoded frame by frame",
        ));
    }
    if (options.width, options.height) != (f.width, f.height) {
        config.options.use_scaling = 1;
        config.options.scaled_width = cint(w, "width")?;
        config.options.scaled_height = cint(h, "height")?;
    }
    config.options.use_threads = c_int::from(options.threads);
    config.output.colorspace = if options.alpha {
        sys::WEBP_CSP_MODE::MODE_RGBA
    } else {
        sys::WEBP_CSP_MODE::MODE_RGB
    };
    config.output.is_external_memory = 1;
    config.output.width = cint(w, "width")?;
    config.output.height = cint(h, "height")?;
    config.output.u.RGBA = sys::WebPRGBABuffer {
        rgba: out.as_mut_ptr(),
        stride: cint(stride, "stride")?,
        size: out.len(),
    };
    // SAFETY: `data` is valid for its length; the output buffer is `out`,
    // checked above to hold `h` rows of `stride` bytes (libwebp checks it
    // again against `size`), and outlives the call.
    let status = unsafe { sys::WebPDecode(data.as_ptr(), data.len(), &mut config) };
    // SAFETY: external memory: frees nothing of ours, only private state.
    unsafe { sys::WebPFreeDecBuffer(&mut config.output) };
    if status != sys::VP8StatusCode::VP8_STATUS_OK {
        return Err(Error::status(status));
    }
    Ok(())
}

/// The frames of an animation, composited on the canvas (RGBA, not
/// premultiplied) by libwebp's animation decoder: each frame disposed and
/// blended as the file says, the canvas starting transparent.
pub struct AnimDecoder<'a> {
    dec: *mut sys::WebPAnimDecoder,
    width: u32,
    height: u32,
    frames: u32,
    _data: PhantomData<&'a [u8]>,
}

// SAFETY: the decoder is used through `&mut self` only and points into the
// borrowed immutable bytes.
unsafe impl Send for AnimDecoder<'_> {}

impl<'a> AnimDecoder<'a> {
    /// A decoder over the whole file `data`.
    pub fn new(data: &'a [u8]) -> Result<AnimDecoder<'a>> {
        // SAFETY: zeroed, then initialised by libwebp.
        let mut opts: sys::WebPAnimDecoderOptions = unsafe { std::mem::zeroed() };
        // SAFETY: `opts` is writable.
        if unsafe { sys::WebPAnimDecoderOptionsInit(&mut opts) } == 0 {
            return Err(Error::new(ErrorKind::Invalid, "libwebp version mismatch"));
        }
        opts.color_mode = sys::WEBP_CSP_MODE::MODE_RGBA;
        opts.use_threads = 1;
        let wd = sys::WebPData {
            bytes: data.as_ptr(),
            size: data.len(),
        };
        // SAFETY: `wd` describes `data`, which outlives the decoder ('a).
        let dec = unsafe { sys::WebPAnimDecoderNew(&wd, &opts) };
        if dec.is_null() {
            return Err(Error::new(ErrorKind::Format, "damaged WebP animation"));
        }
        // SAFETY: zeroed info to be filled by a live decoder.
        let mut info: sys::WebPAnimInfo = unsafe { std::mem::zeroed() };
        // SAFETY: live decoder, writable info.
        if unsafe { sys::WebPAnimDecoderGetInfo(dec, &mut info) } == 0 {
            // SAFETY: created above, deleted once.
            unsafe { sys::WebPAnimDecoderDelete(dec) };
            return Err(Error::new(ErrorKind::Format, "damaged WebP animation"));
        }
        Ok(AnimDecoder {
            dec,
            width: info.canvas_width,
            height: info.canvas_height,
            frames: info.frame_count,
            _data: PhantomData,
        })
    }

    /// Canvas size.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Number of frames.
    pub fn frame_count(&self) -> u32 {
        self.frames
    }

    /// The next composited canvas (`width × height × 4` bytes, valid until
    /// the next call) and its end time in milliseconds, or `None` after
    /// the last frame.
    pub fn next_frame(&mut self) -> Result<Option<(&[u8], i32)>> {
        // SAFETY: live decoder.
        if unsafe { sys::WebPAnimDecoderHasMoreFrames(self.dec) } == 0 {
            return Ok(None);
        }
        let mut buf: *mut u8 = ptr::null_mut();
        let mut ts: c_int = 0;
        // SAFETY: live decoder; out-parameters are writable.
        if unsafe { sys::WebPAnimDecoderGetNext(self.dec, &mut buf, &mut ts) } == 0 || buf.is_null()
        {
            return Err(Error::new(
                ErrorKind::Format,
                "damaged WebP animation frame",
            ));
        }
        let len = self.width as usize * self.height as usize * 4;
        // SAFETY: libwebp's canvas holds width*height RGBA pixels and stays
        // valid until the next GetNext or Delete, which need `&mut self`.
        Ok(Some((unsafe { std::slice::from_raw_parts(buf, len) }, ts)))
    }
}

impl Drop for AnimDecoder<'_> {
    fn drop(&mut self) {
        // SAFETY: created by WebPAnimDecoderNew, deleted once.
        unsafe { sys::WebPAnimDecoderDelete(self.dec) };
    }
}

/// libwebp's presets of the lossy encoder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Preset {
    /// The default.
    #[default]
    Default,
    /// Digital pictures, portraits, indoor shots.
    Picture,
    /// Outdoor photographs.
    Photo,
    /// Drawings with high-contrast details.
    Drawing,
    /// Small colourful images.
    Icon,
    /// Text-like images.
    Text,
}

/// Encoder settings, with libvips' meanings.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Settings {
    /// The lossy preset.
    pub preset: Preset,
    /// Quality 0 to 100 (lossless: the effort of the compression).
    pub quality: f32,
    /// Lossless (VP8L) output.
    pub lossless: bool,
    /// Effort 0 (fast) to 6 (small).
    pub method: u8,
    /// Quality of the alpha plane of lossy output, 0 to 100.
    pub alpha_quality: u8,
    /// Near-lossless preprocessing at this level (0 to 100, 100 is off);
    /// implies lossless.
    pub near_lossless: Option<u8>,
    /// Sharp ("smart") RGB to YUV conversion of lossy output.
    pub sharp_yuv: bool,
    /// Keep the RGB values of transparent pixels.
    pub exact: bool,
    /// libwebp's multi-threading of the encoder.
    pub threads: bool,
}

impl Default for Settings {
    /// libvips' defaults: lossy, Q 75, effort 4, alpha quality 100.
    fn default() -> Settings {
        Settings {
            preset: Preset::Default,
            quality: 75.0,
            lossless: false,
            method: 4,
            alpha_quality: 100,
            near_lossless: None,
            sharp_yuv: false,
            exact: false,
            threads: true,
        }
    }
}

impl Settings {
    /// `true` if the output is lossless (VP8L).
    pub fn is_lossless(&self) -> bool {
        self.lossless || self.near_lossless.is_some()
    }

    /// The libwebp configuration, as libvips' `webpsave` builds it.
    fn config(&self) -> Result<sys::WebPConfig> {
        let preset = match self.preset {
            Preset::Default => sys::WebPPreset::WEBP_PRESET_DEFAULT,
            Preset::Picture => sys::WebPPreset::WEBP_PRESET_PICTURE,
            Preset::Photo => sys::WebPPreset::WEBP_PRESET_PHOTO,
            Preset::Drawing => sys::WebPPreset::WEBP_PRESET_DRAWING,
            Preset::Icon => sys::WebPPreset::WEBP_PRESET_ICON,
            Preset::Text => sys::WebPPreset::WEBP_PRESET_TEXT,
        };
        let bad = || Error::new(ErrorKind::Invalid, "WebP encoder: invalid settings");
        let mut c = sys::WebPConfig::new_with_preset(preset, self.quality.clamp(0.0, 100.0))
            .map_err(|_| bad())?;
        c.lossless = c_int::from(self.is_lossless());
        c.alpha_quality = c_int::from(self.alpha_quality.min(100));
        c.method = c_int::from(self.method.min(6));
        if let Some(level) = self.near_lossless {
            c.near_lossless = c_int::from(level.min(100));
        }
        c.use_sharp_yuv = c_int::from(self.sharp_yuv);
        c.exact = c_int::from(self.exact);
        c.thread_level = c_int::from(self.threads);
        // SAFETY: `c` is an initialised configuration.
        if unsafe { sys::WebPValidateConfig(&c) } == 0 {
            return Err(bad());
        }
        Ok(c)
    }
}

/// A picture to encode, filled top to bottom by [`push_rows`]: ARGB for
/// lossless output and sharp YUV (libwebp converts at encode time), else
/// YUV 4:2:0 (with an alpha plane for 2 and 4-band input) converted by
/// libwebp's own RGB to YUV code one pair of rows at a time, giving the
/// same planes as converting the whole image at once.
///
/// [`push_rows`]: Picture::push_rows
pub struct Picture {
    pic: Box<sys::WebPPicture>,
    bands: u32,
    /// The next row to fill.
    next: u32,
    /// A row waiting for its pair (YUV pictures), as RGB or RGBA.
    carry: Vec<u8>,
    /// Grey input widened to RGB(A).
    scratch: Vec<u8>,
    /// Some pixel is not opaque.
    transparent: bool,
}

// SAFETY: the picture owns its planes (libwebp's allocation); it has no
// thread affinity and is used through `&mut self`.
unsafe impl Send for Picture {}

impl Picture {
    /// A picture of `width` x `height` for input of `bands` bands (1 grey,
    /// 2 grey+alpha, 3 RGB, 4 RGBA) encoded with `settings`.
    pub fn new(width: u32, height: u32, bands: u32, settings: &Settings) -> Result<Picture> {
        if !(1..=4).contains(&bands) {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!("WebP holds 1 to 4 bands, not {bands}"),
            ));
        }
        if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!(
                    "WebP images are at most {MAX_DIMENSION}x{MAX_DIMENSION}, not {width}x{height}"
                ),
            ));
        }
        let mut pic = Box::new(
            sys::WebPPicture::new()
                .map_err(|_| Error::new(ErrorKind::Invalid, "libwebp version mismatch"))?,
        );
        pic.width = width as c_int;
        pic.height = height as c_int;
        pic.use_argb = c_int::from(settings.is_lossless() || settings.sharp_yuv);
        pic.colorspace = if bands.is_multiple_of(2) {
            sys::WebPEncCSP::WEBP_YUV420A
        } else {
            sys::WebPEncCSP::WEBP_YUV420
        };
        // SAFETY: an initialised picture with its size and kind set.
        if unsafe { sys::WebPPictureAlloc(&mut *pic) } == 0 {
            return Err(Error::new(
                ErrorKind::Memory,
                format!("WebP encoder: cannot allocate a {width}x{height} picture"),
            ));
        }
        Ok(Picture {
            pic,
            bands,
            next: 0,
            carry: Vec::new(),
            scratch: Vec::new(),
            transparent: false,
        })
    }

    /// Bytes the picture holds (its planes).
    pub fn bytes(width: u32, height: u32, bands: u32, settings: &Settings) -> u64 {
        let (w, h) = (u64::from(width), u64::from(height));
        if settings.is_lossless() || settings.sharp_yuv {
            4 * w * h
        } else {
            let uv = w.div_ceil(2) * h.div_ceil(2);
            w * h + 2 * uv + if bands.is_multiple_of(2) { w * h } else { 0 }
        }
    }

    fn width(&self) -> usize {
        self.pic.width as usize
    }

    /// Appends the next rows: `data` holds whole rows of `width × bands`
    /// bytes.
    pub fn push_rows(&mut self, data: &[u8]) -> Result<()> {
        let row = self.width() * self.bands as usize;
        if data.is_empty() || !data.len().is_multiple_of(row) {
            return Err(Error::new(ErrorKind::Invalid, "rows of the wrong length"));
        }
        let rows = (data.len() / row) as u32;
        if self.next + rows + u32::from(!self.carry.is_empty()) > self.pic.height as u32 {
            return Err(Error::new(ErrorKind::Invalid, "more rows than the picture"));
        }
        // Widen grey to RGB(A) a piece at a time.
        if self.bands < 3 {
            let out_bands = self.bands as usize + 2;
            let rows_per = (1usize << 20).div_ceil(row).max(1);
            for piece in data.chunks(rows_per * row) {
                let mut wide = std::mem::take(&mut self.scratch);
                wide.clear();
                wide.reserve(piece.len() / self.bands as usize * out_bands);
                for px in piece.chunks_exact(self.bands as usize) {
                    wide.extend_from_slice(&[px[0], px[0], px[0]]);
                    if out_bands == 4 {
                        wide.push(px[1]);
                    }
                }
                let r = self.push_rgb(&wide, out_bands);
                self.scratch = wide;
                r?;
            }
            Ok(())
        } else {
            self.push_rgb(data, self.bands as usize)
        }
    }

    /// [`push_rows`](Picture::push_rows) of RGB or RGBA rows.
    fn push_rgb(&mut self, data: &[u8], bands: usize) -> Result<()> {
        let row = self.width() * bands;
        if self.pic.use_argb != 0 {
            let n = data.len() / row;
            self.put_argb(self.next, data, bands);
            self.next += n as u32;
            return Ok(());
        }
        let mut data = data;
        if !self.carry.is_empty() {
            let mut pair = std::mem::take(&mut self.carry);
            pair.extend_from_slice(&data[..row]);
            let r = self.put_yuv(self.next, &pair, bands);
            pair.clear();
            self.carry = pair;
            r?;
            self.next += 2;
            data = &data[row..];
        }
        let n = data.len() / row;
        let even = n & !1;
        if even > 0 {
            self.put_yuv(self.next, &data[..even * row], bands)?;
            self.next += even as u32;
        }
        if n % 2 == 1 {
            let last = &data[even * row..];
            if self.next + 1 == self.pic.height as u32 {
                self.put_yuv(self.next, last, bands)?;
                self.next += 1;
            } else {
                self.carry.extend_from_slice(last);
            }
        }
        Ok(())
    }

    /// Packs RGB(A) rows into the ARGB plane from row `y`.
    fn put_argb(&mut self, y: u32, data: &[u8], bands: usize) {
        let w = self.width();
        let stride = self.pic.argb_stride as usize;
        let rows = data.len() / (w * bands);
        // SAFETY: the ARGB plane holds `height` rows of `argb_stride`
        // pixels; push_rows checked that rows y..y+rows exist.
        let plane = unsafe {
            std::slice::from_raw_parts_mut(self.pic.argb.add(y as usize * stride), rows * stride)
        };
        for (dst, src) in plane
            .chunks_exact_mut(stride)
            .zip(data.chunks_exact(w * bands))
        {
            for (d, p) in dst[..w].iter_mut().zip(src.chunks_exact(bands)) {
                let a = if bands == 4 { p[3] } else { 255 };
                self.transparent |= a != 255;
                *d = u32::from(a) << 24
                    | u32::from(p[0]) << 16
                    | u32::from(p[1]) << 8
                    | u32::from(p[2]);
            }
        }
    }

    /// Converts RGB(A) rows (an even number, or the image's last rows) to
    /// YUV with libwebp's import, into the planes from row `y` (even).
    fn put_yuv(&mut self, y: u32, data: &[u8], bands: usize) -> Result<()> {
        let w = self.width();
        let rows = data.len() / (w * bands);
        let mut tmp = sys::WebPPicture::new()
            .map_err(|_| Error::new(ErrorKind::Invalid, "libwebp version mismatch"))?;
        tmp.width = w as c_int;
        tmp.height = rows as c_int;
        tmp.use_argb = 0;
        let stride = (w * bands) as c_int;
        // SAFETY: `data` holds `rows` rows of `stride` bytes; the import
        // allocates the temporary picture's planes, freed below.
        let ok = unsafe {
            if bands == 4 {
                sys::WebPPictureImportRGBA(&mut tmp, data.as_ptr(), stride)
            } else {
                sys::WebPPictureImportRGB(&mut tmp, data.as_ptr(), stride)
            }
        };
        if ok == 0 {
            // SAFETY: frees whatever the import allocated.
            unsafe { sys::WebPPictureFree(&mut tmp) };
            return Err(Error::new(ErrorKind::Memory, "WebP encoder: out of memory"));
        }
        let pic = &mut *self.pic;
        let uv_w = w.div_ceil(2);
        let uv_rows = rows.div_ceil(2);
        let (y0, uv0) = (y as usize, y as usize / 2);
        let tmp_alpha = tmp.colorspace as u32 & 4 != 0 && !tmp.a.is_null();
        self.transparent |= tmp_alpha;
        // SAFETY: both pictures' planes hold their `height` rows of their
        // strides (luma and alpha `w` wide, chroma `uv_w`); the
        // destination rows y0..y0+rows (chroma uv0..uv0+uv_rows) exist
        // since push_rows checked the row count; the pictures are distinct
        // allocations.
        unsafe {
            for r in 0..rows {
                ptr::copy_nonoverlapping(
                    tmp.y.add(r * tmp.y_stride as usize),
                    pic.y.add((y0 + r) * pic.y_stride as usize),
                    w,
                );
            }
            for r in 0..uv_rows {
                ptr::copy_nonoverlapping(
                    tmp.u.add(r * tmp.uv_stride as usize),
                    pic.u.add((uv0 + r) * pic.uv_stride as usize),
                    uv_w,
                );
                ptr::copy_nonoverlapping(
                    tmp.v.add(r * tmp.uv_stride as usize),
                    pic.v.add((uv0 + r) * pic.uv_stride as usize),
                    uv_w,
                );
            }
            if !pic.a.is_null() {
                for r in 0..rows {
                    let dst = pic.a.add((y0 + r) * pic.a_stride as usize);
                    if tmp_alpha {
                        ptr::copy_nonoverlapping(tmp.a.add(r * tmp.a_stride as usize), dst, w);
                    } else {
                        ptr::write_bytes(dst, 255, w);
                    }
                }
            }
            sys::WebPPictureFree(&mut tmp);
        }
        Ok(())
    }

    /// `true` once every row was pushed.
    pub fn is_complete(&self) -> bool {
        self.next == self.pic.height as u32 && self.carry.is_empty()
    }

    /// Some pixel pushed so far is not opaque.
    pub fn has_transparency(&self) -> bool {
        self.transparent
    }
}

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: allocated by WebPPictureAlloc, freed once.
        unsafe { sys::WebPPictureFree(&mut *self.pic) };
    }
}

/// Copies libwebp's memory writer's bytes into a `Vec` and frees them.
fn take_writer(w: &mut sys::WebPMemoryWriter) -> Vec<u8> {
    let out = if w.mem.is_null() {
        Vec::new()
    } else {
        // SAFETY: the writer's buffer holds `size` bytes.
        unsafe { std::slice::from_raw_parts(w.mem, w.size) }.to_vec()
    };
    // SAFETY: frees the writer's buffer once.
    unsafe { sys::WebPMemoryWriterClear(w) };
    out
}

/// Copies a `WebPData` libwebp allocated into a `Vec` and frees it.
fn take_data(d: &mut sys::WebPData) -> Vec<u8> {
    let out = if d.bytes.is_null() {
        Vec::new()
    } else {
        // SAFETY: libwebp's data holds `size` bytes.
        unsafe { std::slice::from_raw_parts(d.bytes, d.size) }.to_vec()
    };
    // SAFETY: frees libwebp's allocation once.
    unsafe { sys::WebPDataClear(d) };
    out
}

/// Encodes a complete picture into a WebP file (no metadata chunks).
pub fn encode(settings: &Settings, picture: &mut Picture) -> Result<Vec<u8>> {
    if !picture.is_complete() {
        return Err(Error::new(
            ErrorKind::Invalid,
            "the picture is not complete",
        ));
    }
    let config = settings.config()?;
    let pic = &mut *picture.pic;
    if pic.use_argb == 0 && !picture.transparent {
        // No transparent pixel: no alpha plane, as libwebp's own import of
        // opaque RGBA gives.
        pic.colorspace = sys::WebPEncCSP::WEBP_YUV420;
    }
    // SAFETY: zeroed, then initialised by libwebp.
    let mut writer: sys::WebPMemoryWriter = unsafe { std::mem::zeroed() };
    // SAFETY: writable writer.
    unsafe { sys::WebPMemoryWriterInit(&mut writer) };
    pic.writer = Some(sys::WebPMemoryWrite);
    pic.custom_ptr = (&mut writer as *mut sys::WebPMemoryWriter).cast();
    // SAFETY: a valid configuration and a complete picture whose writer
    // appends to `writer`, alive for the call.
    let ok = unsafe { sys::WebPEncode(&config, pic) };
    pic.writer = None;
    pic.custom_ptr = ptr::null_mut();
    let code = pic.error_code;
    let out = take_writer(&mut writer);
    if ok == 0 {
        return Err(Error::encoding(code));
    }
    Ok(out)
}

/// Adds metadata chunks (`ICCP`, `EXIF`, `XMP `; empty ones are left out)
/// to a finished WebP file with libwebp's muxer, which also writes the
/// `VP8X` header that announces them.
pub fn add_chunks(webp: Vec<u8>, chunks: &[(&[u8; 4], &[u8])]) -> Result<Vec<u8>> {
    let chunks: Vec<_> = chunks.iter().filter(|(_, d)| !d.is_empty()).collect();
    if chunks.is_empty() {
        return Ok(webp);
    }
    let wd = sys::WebPData {
        bytes: webp.as_ptr(),
        size: webp.len(),
    };
    let mux_error = || Error::new(ErrorKind::Invalid, "WebP muxer: cannot add metadata");
    // SAFETY: `wd` describes `webp`, alive until the mux is deleted below;
    // copy_data = 0 makes the mux point into it.
    let mux = unsafe { sys::WebPMuxCreateInternal(&wd, 0, sys::WEBP_MUX_ABI_VERSION as c_int) };
    if mux.is_null() {
        return Err(mux_error());
    }
    let mut result = Ok(());
    for (fourcc, data) in chunks {
        let name = [fourcc[0], fourcc[1], fourcc[2], fourcc[3], 0];
        let cd = sys::WebPData {
            bytes: data.as_ptr(),
            size: data.len(),
        };
        // SAFETY: live mux; copy_data = 1 copies the chunk.
        let e = unsafe { sys::WebPMuxSetChunk(mux, name.as_ptr().cast(), &cd, 1) };
        if e != sys::WebPMuxError::WEBP_MUX_OK {
            result = Err(mux_error());
            break;
        }
    }
    let mut out = sys::WebPData::default();
    if result.is_ok() {
        // SAFETY: live mux; `out` receives a new allocation.
        let e = unsafe { sys::WebPMuxAssemble(mux, &mut out) };
        if e != sys::WebPMuxError::WEBP_MUX_OK {
            result = Err(mux_error());
        }
    }
    // SAFETY: created above, deleted once (before `webp` is dropped).
    unsafe { sys::WebPMuxDelete(mux) };
    let bytes = take_data(&mut out);
    result.map(|()| bytes)
}

/// An animation encoder (libwebp's `WebPAnimEncoder`), fed whole RGB(A)
/// frames in order.
pub struct AnimEncoder {
    enc: *mut sys::WebPAnimEncoder,
    width: u32,
    height: u32,
    settings: Settings,
    config: sys::WebPConfig,
    /// Time of the next frame, in milliseconds.
    time: i64,
}

// SAFETY: the encoder is used through `&mut self` only.
unsafe impl Send for AnimEncoder {}

impl AnimEncoder {
    /// An animation of `width` x `height` frames, looping `loop_count`
    /// times (0: for ever), with key frames off (libvips' default) and
    /// every frame encoded with `settings`.
    pub fn new(width: u32, height: u32, loop_count: u32, settings: &Settings) -> Result<Self> {
        if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!(
                    "WebP images are at most {MAX_DIMENSION}x{MAX_DIMENSION}, not {width}x{height}"
                ),
            ));
        }
        let config = settings.config()?;
        // SAFETY: zeroed, then initialised by libwebp.
        let mut opts: sys::WebPAnimEncoderOptions = unsafe { std::mem::zeroed() };
        // SAFETY: writable options.
        if unsafe {
            sys::WebPAnimEncoderOptionsInitInternal(&mut opts, sys::WEBP_MUX_ABI_VERSION as c_int)
        } == 0
        {
            return Err(Error::new(ErrorKind::Invalid, "libwebp version mismatch"));
        }
        opts.anim_params.loop_count = c_int::try_from(loop_count).unwrap_or(0);
        opts.kmin = c_int::MAX - 1;
        opts.kmax = c_int::MAX;
        opts.allow_mixed = 0;
        opts.minimize_size = 0;
        // SAFETY: valid size and options.
        let enc = unsafe {
            sys::WebPAnimEncoderNewInternal(
                width as c_int,
                height as c_int,
                &opts,
                sys::WEBP_MUX_ABI_VERSION as c_int,
            )
        };
        if enc.is_null() {
            return Err(Error::new(
                ErrorKind::Memory,
                "WebP animation encoder: out of memory",
            ));
        }
        Ok(AnimEncoder {
            enc,
            width,
            height,
            settings: *settings,
            config,
            time: 0,
        })
    }

    fn error(&self) -> Error {
        // SAFETY: live encoder; the message is a NUL-terminated string
        // owned by it.
        let msg = unsafe {
            let p = sys::WebPAnimEncoderGetError(self.enc);
            if p.is_null() {
                String::new()
            } else {
                CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        Error::new(ErrorKind::Invalid, format!("WebP animation encoder: {msg}"))
    }

    /// Adds a frame of `bands` bands (1 to 4) shown for `duration_ms`.
    pub fn add(&mut self, data: &[u8], bands: u32, duration_ms: u32) -> Result<()> {
        let mut settings = self.settings;
        // The frame goes in as ARGB, which the animation encoder wants.
        settings.lossless = true;
        let mut pic = Picture::new(self.width, self.height, bands, &settings)?;
        pic.push_rows(data)?;
        let ts = c_int::try_from(self.time)
            .map_err(|_| Error::new(ErrorKind::Invalid, "animation too long"))?;
        // SAFETY: live encoder, a complete ARGB picture (copied by the
        // encoder), a valid configuration.
        let ok = unsafe { sys::WebPAnimEncoderAdd(self.enc, &mut *pic.pic, ts, &self.config) };
        if ok == 0 {
            return Err(self.error());
        }
        self.time += i64::from(duration_ms.max(1));
        Ok(())
    }

    /// Ends the animation and returns the file (no metadata chunks).
    pub fn finish(self) -> Result<Vec<u8>> {
        let ts = c_int::try_from(self.time)
            .map_err(|_| Error::new(ErrorKind::Invalid, "animation too long"))?;
        // SAFETY: live encoder; a null frame marks the end time.
        if unsafe { sys::WebPAnimEncoderAdd(self.enc, ptr::null_mut(), ts, ptr::null()) } == 0 {
            return Err(self.error());
        }
        let mut out = sys::WebPData::default();
        // SAFETY: live encoder; `out` receives a new allocation.
        if unsafe { sys::WebPAnimEncoderAssemble(self.enc, &mut out) } == 0 {
            return Err(self.error());
        }
        Ok(take_data(&mut out))
    }
}

impl Drop for AnimEncoder {
    fn drop(&mut self) {
        // SAFETY: created by WebPAnimEncoderNewInternal, deleted once.
        unsafe { sys::WebPAnimEncoderDelete(self.enc) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: u32, h: u32, bands: u32) -> Vec<u8> {
        (0..w * h * bands)
            .map(|i| ((i * 7 + (i / (w * bands)) * 13) % 251) as u8)
            .collect()
    }

    /// Lossless round trip, pushed in odd bands.
    #[test]
    fn lossless_round_trip() {
        let (w, h) = (37, 29);
        for bands in [3, 4] {
            let px = image(w, h, bands);
            let s = Settings {
                lossless: true,
                exact: true,
                ..Settings::default()
            };
            let mut pic = Picture::new(w, h, bands, &s).unwrap();
            for rows in px.chunks((w * bands * 5) as usize) {
                pic.push_rows(rows).unwrap();
            }
            let file = encode(&s, &mut pic).unwrap();
            let f = features(&file).unwrap();
            assert_eq!((f.width, f.height, f.lossless), (w, h, Some(true)));
            let mut out = vec![0u8; px.len()];
            decode(
                &file,
                &DecodeOptions::new(w, h, bands == 4),
                &mut out,
                (w * bands) as usize,
            )
            .unwrap();
            assert_eq!(out, px);
        }
    }

    /// YUV filled in bands of odd heights equals YUV filled at once.
    #[test]
    fn banded_yuv_is_whole_yuv() {
        let (w, h) = (45, 31);
        for bands in [1, 3, 4] {
            let px = image(w, h, bands);
            let s = Settings::default();
            let mut whole = Picture::new(w, h, bands, &s).unwrap();
            whole.push_rows(&px).unwrap();
            let mut banded = Picture::new(w, h, bands, &s).unwrap();
            for rows in px.chunks((w * bands * 3) as usize) {
                banded.push_rows(rows).unwrap();
            }
            let a = encode(&s, &mut whole).unwrap();
            let b = encode(&s, &mut banded).unwrap();
            assert_eq!(a, b, "{bands} bands");
        }
    }

    #[test]
    fn damaged_input_is_an_error() {
        assert!(features(b"RIFF\0\0\0\0WEBPVP8 ").is_err());
        assert!(Container::parse(b"RIFF").is_err());
        let mut out = vec![0u8; 12];
        assert!(
            decode(
                b"RIFF....WEBPVP8 ",
                &DecodeOptions::new(2, 2, false),
                &mut out,
                6
            )
            .is_err()
        );
    }

    #[test]
    fn too_large_is_refused() {
        assert!(Picture::new(16384, 4, 3, &Settings::default()).is_err());
    }
}
