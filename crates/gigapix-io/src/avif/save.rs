//! The AVIF saver: rows gathered whole, converted to YCbCr planes and
//! encoded by ravif in `finish`.

use std::io::Write;
use std::path::{Path, PathBuf};

use gigapix_core::desc::{ArgDesc, ArgType, Args};
use gigapix_core::{BandFormat, BandWriter, Error, ErrorKind, Header, Limits, Metadata, Result};
use ravif::{BitDepth, Encoder, MatrixCoefficients, PixelRange};

use crate::save::{RowCheck, create_temp, persist};

/// The saver's options (in the format table).
pub(crate) const SAVE_OPTIONS: &[ArgDesc] = &[
    ArgDesc::optional(
        "Q",
        ArgType::int(1, 100),
        "50",
        "Quality (colour and alpha).",
    ),
    ArgDesc::optional(
        "effort",
        ArgType::int(0, 9),
        "4",
        "CPU effort, 0 (fast) to 9 (small), libvips' scale: rav1e speed 9 - effort, at least 1.",
    ),
    ArgDesc::unset(
        "speed",
        ArgType::int(1, 10),
        "rav1e's speed, 1 (slow, small) to 10 (fast); overrides effort.",
    ),
    ArgDesc::optional(
        "lossless",
        ArgType::Bool,
        "false",
        "Refused when true: rav1e has no lossless mode (Q=100 is the closest).",
    ),
    ArgDesc::unset(
        "bitdepth",
        ArgType::Enum(&["8", "10"]),
        "Bits per sample in the file; 8 for u8 images, 10 for u16 by default.",
    ),
    ArgDesc::optional(
        "subsample_mode",
        ArgType::Enum(&["auto", "on", "off"]),
        "auto",
        "Chroma subsampling: ravif writes 4:4:4 only, so auto and off are 4:4:4 and on is refused.",
    ),
    crate::formats::STRIP,
];

/// Bytes a pixel the encoder holds besides the gathered image (rav1e's
/// source, reconstructed and reference planes, 16-bit, with alpha): the
/// figure checked against `max_alloc`.
pub(crate) const BYTES_PER_PIXEL: u64 = 32;

/// AV1's largest frame side.
const MAX_SIDE: u32 = 65536;

/// What the options ask for.
#[derive(Clone, Copy, Debug)]
struct Settings {
    quality: f32,
    speed: u8,
    ten_bit: bool,
}

fn bad(name: &str, msg: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, format!("{name}: {msg}"))
}

/// The settings from the options (checked by the format table) for an
/// image of `header`.
fn settings(name: &str, header: &Header, args: &Args) -> Result<Settings> {
    let quality = args.opt_int("Q")?.unwrap_or(50).clamp(1, 100) as f32;
    let speed = match args.opt_int("speed")? {
        Some(s) => s.clamp(1, 10) as u8,
        None => (9 - args.opt_int("effort")?.unwrap_or(4).clamp(0, 9)).max(1) as u8,
    };
    let lossless = args.bool("lossless")?;
    let ten_bit = match args.opt_choice("bitdepth")? {
        Some("10") => true,
        Some(_) => false,
        None => header.format == BandFormat::U16,
    };
    if args.opt_choice("subsample_mode")? == Some("on") {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{name}: subsample_mode=on (4:2:0) is not supported: the AVIF encoder (ravif) \
                 writes 4:4:4 only; use auto or off"
            ),
        ));
    }
    if lossless {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{name}: lossless AVIF is not supported: the encoder (rav1e) has no lossless \
                 mode; use Q=100 (near-lossless) or save PNG or lossless WebP"
            ),
        ));
    }
    Ok(Settings {
        quality,
        speed,
        ten_bit,
    })
}

/// Checks what an AVIF file can hold and what the encoder would need.
fn check(name: &str, header: &Header) -> Result<()> {
    if !(1..=4).contains(&header.bands) {
        return Err(bad(
            name,
            format!(
                "AVIF holds 1 to 4 bands (grey, grey+alpha, RGB, RGBA), not {}: extract bands \
                 first",
                header.bands
            ),
        ));
    }
    if !matches!(header.format, BandFormat::U8 | BandFormat::U16) {
        return Err(bad(
            name,
            format!(
                "AVIF holds u8 or u16 images, not {}: cast first",
                header.format
            ),
        ));
    }
    if header.width > MAX_SIDE || header.height > MAX_SIDE {
        return Err(bad(
            name,
            format!(
                "AVIF images are at most {MAX_SIDE}x{MAX_SIDE} pixels, not {}x{}: resize, or \
                 save as dzsave tiles",
                header.width, header.height
            ),
        ));
    }
    let need = encoder_bytes(header);
    let max = Limits::default().max_alloc;
    if need > max {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "{name}: AVIF is encoded whole, and a {}x{} image needs about {} MiB, over the \
                 memory limit of {} MiB (max_alloc): save as dzsave .avif tiles or another \
                 format, or raise the limit",
                header.width,
                header.height,
                need >> 20,
                max >> 20
            ),
        ));
    }
    Ok(())
}

/// Bytes the saver holds for an image of `header`: the image and the
/// encoder's planes.
pub(crate) fn encoder_bytes(header: &Header) -> u64 {
    let pixels = u64::from(header.width) * u64::from(header.height);
    header
        .image_bytes()
        .saturating_add(pixels.saturating_mul(BYTES_PER_PIXEL))
}

/// Leaves out an sRGB profile (the file says sRGB already) and refuses
/// any other: ravif cannot write ICC profiles.
fn check_icc(name: &str, metadata: &Metadata) -> Result<()> {
    let Some(icc) = metadata.icc.as_deref().filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    // The description tag of sRGB profiles names them (ASCII or UTF-16).
    let ascii = icc.windows(4).any(|w| w == b"sRGB");
    let utf16 = icc.windows(8).any(|w| w == b"\0s\0R\0G\0B");
    if ascii || utf16 {
        return Ok(());
    }
    Err(bad(
        name,
        "the image has a non-sRGB ICC profile and the AVIF encoder (ravif) cannot embed one: \
         convert to sRGB first (icc_transform), or save with [strip] to drop it"
            .into(),
    ))
}

/// Samples of one pixel as fractions of the full scale.
fn sample(format: BandFormat, p: &[u8], i: usize) -> f32 {
    match format {
        BandFormat::U16 => f32::from(u16::from_ne_bytes([p[2 * i], p[2 * i + 1]])) / 65535.0,
        _ => f32::from(p[i]) / 255.0,
    }
}

const KR: f32 = 0.299;
const KB: f32 = 0.114;
const KG: f32 = 1.0 - KR - KB;

/// Full-range BT.601 YCbCr of one pixel at `max` (255 or 1023).
fn ycbcr(format: BandFormat, bands: u32, p: &[u8], max: f32) -> [u16; 3] {
    let mid = (max * 0.5).round();
    let q = |v: f32| v.round().clamp(0.0, max) as u16;
    if bands <= 2 {
        return [q(sample(format, p, 0) * max), mid as u16, mid as u16];
    }
    let (r, g, b) = (
        sample(format, p, 0) * max,
        sample(format, p, 1) * max,
        sample(format, p, 2) * max,
    );
    let y = KR * r + KG * g + KB * b;
    let cb = (b - y) * (0.5 / (1.0 - KB)) + mid;
    let cr = (r - y) * (0.5 / (1.0 - KR)) + mid;
    [q(y), q(cb), q(cr)]
}

/// Encodes the packed rows `data` of `header` into an AVIF file.
fn encode(
    name: &str,
    header: &Header,
    metadata: &Metadata,
    s: Settings,
    data: &[u8],
) -> Result<Vec<u8>> {
    let (w, h) = (header.width as usize, header.height as usize);
    let bands = header.bands;
    let format = header.format;
    let px = header.bands as usize * format.size();
    let has_alpha = bands == 2 || bands == 4;
    let alpha_index = bands as usize - 1;
    let mut enc = Encoder::new()
        .with_quality(s.quality)
        .with_alpha_quality(s.quality)
        .with_speed(s.speed)
        .with_bit_depth(if s.ten_bit {
            BitDepth::Ten
        } else {
            BitDepth::Eight
        })
        .with_num_threads(None);
    let exif = crate::exif::for_save(metadata);
    if let Some(exif) = exif.as_deref() {
        enc = enc.with_exif(exif.to_vec());
    }
    let run = || {
        if s.ten_bit {
            let planes = data
                .chunks_exact(px)
                .map(move |p| ycbcr(format, bands, p, 1023.0));
            let alpha = data
                .chunks_exact(px)
                .map(move |p| (sample(format, p, alpha_index) * 1023.0).round() as u16);
            enc.encode_raw_planes_10_bit(
                w,
                h,
                planes,
                has_alpha.then_some(alpha),
                PixelRange::Full,
                MatrixCoefficients::BT601,
            )
        } else {
            let alpha = data
                .chunks_exact(px)
                .map(move |p| (sample(format, p, alpha_index) * 255.0).round() as u8);
            let planes = data.chunks_exact(px).map(move |p| {
                let [y, u, v] = ycbcr(format, bands, p, 255.0);
                [y as u8, u as u8, v as u8]
            });
            enc.encode_raw_planes_8_bit(
                w,
                h,
                planes,
                has_alpha.then_some(alpha),
                PixelRange::Full,
                MatrixCoefficients::BT601,
            )
        }
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(encoded)) => Ok(encoded.avif_file),
        Ok(Err(e)) => Err(Error::new(
            ErrorKind::Format,
            format!("{name}: AVIF encoding failed: {e}"),
        )),
        Err(_) => Err(Error::new(
            ErrorKind::Panic,
            format!("{name}: the AVIF encoder (rav1e) panicked"),
        )),
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
    let s = settings(name, header, args)?;
    check(name, header)?;
    check_icc(name, metadata)?;
    if data.len() as u64 != header.image_bytes() {
        return Err(bad(
            name,
            format!("{} bytes for an image of {header}", data.len()),
        ));
    }
    encode(name, header, metadata, s, data)
}

/// A [`BandWriter`] saving AVIF.
struct AvifWriter {
    data: Vec<u8>,
    failed: bool,
    settings: Settings,
    header: Header,
    metadata: Metadata,
    target: PathBuf,
    name: String,
    rows: RowCheck,
}

/// A writer saving `header` as AVIF at `path`, with the EXIF block of
/// `metadata`; everything is checked before the file system is touched.
pub(crate) fn writer(
    path: &Path,
    name: &str,
    header: &Header,
    metadata: &Metadata,
    args: &Args,
) -> Result<Box<dyn BandWriter>> {
    let settings = settings(name, header, args)?;
    check(name, header)?;
    check_icc(name, metadata)?;
    let mut data = Vec::new();
    data.try_reserve_exact(header.image_bytes() as usize)
        .map_err(|_| {
            Error::new(
                ErrorKind::Limit,
                format!(
                    "{name}: cannot allocate {} bytes for the image",
                    header.image_bytes()
                ),
            )
        })?;
    Ok(Box::new(AvifWriter {
        data,
        failed: false,
        settings,
        header: *header,
        metadata: metadata.clone(),
        target: path.to_path_buf(),
        name: name.to_string(),
        rows: RowCheck::new(header.height, header.row_bytes()),
    }))
}

impl BandWriter for AvifWriter {
    fn write_band(&mut self, y: u32, rows: u32, data: &[u8]) -> Result<()> {
        if let Err(e) = self.rows.accept(&self.name, y, rows, data) {
            self.failed = true;
            return Err(e);
        }
        self.data.extend_from_slice(data);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let this = *self;
        this.rows.complete(&this.name)?;
        if this.failed {
            return Err(bad(
                &this.name,
                "an earlier write failed; nothing saved".into(),
            ));
        }
        let bytes = encode(
            &this.name,
            &this.header,
            &this.metadata,
            this.settings,
            &this.data,
        )?;
        drop(this.data);
        let (mut file, temp) = create_temp(&this.target, &this.name)?;
        file.write_all(&bytes)
            .map_err(|e| Error::io(&this.name, e))?;
        drop(file);
        persist(temp, &this.target, &this.name)
    }
}
