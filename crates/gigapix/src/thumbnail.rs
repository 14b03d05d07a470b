//! `thumbnail`: open, shrink on load where the format can, turn upright,
//! and resize into a box, in one lazy pipeline (libvips' `thumbnail`).

use std::path::Path;

use gigapix_core::Interpretation;

use crate::{Image, OpenOptions, Result};

/// Options of [`Image::thumbnail`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ThumbnailOptions {
    /// Height of the box to fit in (default: the width, a square box).
    pub height: Option<u32>,
    /// Fill the box and cut the overflow from the middle, instead of
    /// fitting inside it.
    pub crop: bool,
    /// Keep the stored orientation instead of turning the image upright
    /// as its EXIF orientation says.
    pub no_rotate: bool,
    /// The resampling kernel (default Lanczos3).
    pub kernel: crate::Kernel,
    /// The profile to read the image with when it embeds none (libvips'
    /// `import_profile`): a built-in name (`srgb`, `p3`, `adobe-rgb`,
    /// `prophoto`, `grey`) or a file.
    pub import_profile: Option<String>,
    /// Transform the thumbnail to this profile (libvips'
    /// `export_profile`). Without it, an image whose profile is not sRGB
    /// (CMYK included) is transformed to sRGB. A transformed thumbnail is
    /// 8-bit and carries the output profile. (libvips 8.18 without
    /// `export_profile` converts only CMYK and leaves, say, an Adobe RGB
    /// image as it is, profile kept.)
    pub export_profile: Option<String>,
    /// The rendering intent of those transforms (default relative).
    pub intent: crate::icc::Intent,
}

impl Default for ThumbnailOptions {
    fn default() -> ThumbnailOptions {
        ThumbnailOptions {
            height: None,
            crop: false,
            no_rotate: false,
            kernel: crate::Kernel::Lanczos3,
            import_profile: None,
            export_profile: None,
            intent: crate::icc::Intent::Relative,
        }
    }
}

impl ThumbnailOptions {
    /// Default options.
    pub fn new() -> ThumbnailOptions {
        ThumbnailOptions::default()
    }

    /// The box's height.
    pub fn height(mut self, height: u32) -> ThumbnailOptions {
        self.height = Some(height);
        self
    }

    /// Fill the box and crop the centre.
    pub fn crop(mut self, crop: bool) -> ThumbnailOptions {
        self.crop = crop;
        self
    }

    /// Do not autorotate.
    pub fn no_rotate(mut self, no_rotate: bool) -> ThumbnailOptions {
        self.no_rotate = no_rotate;
        self
    }

    /// The resampling kernel.
    pub fn kernel(mut self, kernel: crate::Kernel) -> ThumbnailOptions {
        self.kernel = kernel;
        self
    }

    /// The fallback input profile.
    pub fn import_profile(mut self, profile: impl Into<String>) -> ThumbnailOptions {
        self.import_profile = Some(profile.into());
        self
    }

    /// The output profile.
    pub fn export_profile(mut self, profile: impl Into<String>) -> ThumbnailOptions {
        self.export_profile = Some(profile.into());
        self
    }

    /// The rendering intent.
    pub fn intent(mut self, intent: crate::icc::Intent) -> ThumbnailOptions {
        self.intent = intent;
        self
    }
}

/// The colour management of a thumbnail, after the resize (as libvips
/// does it, on the few output pixels).
///
/// The input profile is the embedded one, else `import_profile`. With an
/// `export_profile`, the thumbnail is transformed to it from that profile
/// (sRGB when there is neither). Without one, an image whose input profile
/// is not sRGB, CMYK included, is transformed to sRGB. A transformed
/// thumbnail is 8-bit and carries the output profile, as libvips'
/// `thumbnail --export-profile` gives. One difference: libvips 8.18
/// without `export_profile` leaves an RGB image with, say, an Adobe RGB
/// profile as it is (profile kept, pixels not converted), and converts
/// only CMYK; we convert both, as a browser showing the thumbnail
/// untagged would otherwise show wrong colours.
fn colour(image: Image, options: &ThumbnailOptions) -> Result<Image> {
    use crate::icc::{IccOptions, Profile};
    let embedded = image.metadata().icc.is_some();
    let import = match (&options.import_profile, embedded) {
        (Some(name), false) => Some(Profile::named(name)?),
        _ => None,
    };
    let mut icc = IccOptions::default();
    icc.intent = options.intent;
    icc.depth = Some(8);
    let output = match &options.export_profile {
        Some(name) => {
            icc.input_profile = import;
            Profile::named(name)?
        }
        None => {
            let input = match (image.metadata().icc.as_deref(), import) {
                (Some(bytes), _) => Profile::from_bytes(bytes)?,
                (None, Some(p)) => p,
                (None, None) => return Ok(image),
            };
            if input.is_srgb() {
                return Ok(image);
            }
            // The profile just parsed is the one to transform from.
            icc.input_profile = Some(input);
            icc.embedded = false;
            Profile::named("srgb")?
        }
    };
    Ok(Image::from(crate::icc::icc_transform(
        image.node(),
        &output,
        &icc,
    )?))
}

/// The JPEG shrink-on-load factor for a total shrink of `factor`: libvips'
/// rule, which leaves at least 2x to the resampling kernel since the DCT
/// shrink is a box filter.
fn jpeg_shrink(factor: f64) -> u32 {
    if factor >= 16.0 {
        8
    } else if factor >= 8.0 {
        4
    } else if factor >= 4.0 {
        2
    } else {
        1
    }
}

/// The WebP shrink-on-load factor for a total shrink of `factor`: the
/// whole part, as libvips 8.18 shrinks WebP in libwebp's rescaler (an
/// area average) nearly to the final size and leaves the resampling
/// kernel less than 2x.
fn webp_shrink(factor: f64) -> u32 {
    if factor >= 2.0 {
        factor.floor() as u32
    } else {
        1
    }
}

/// The output size and the shrink factor for an input of `w` x `h` into a
/// `bw` x `bh` box.
fn fit(w: u32, h: u32, bw: u32, bh: u32, crop: bool) -> (u32, u32, f64) {
    let (hs, vs) = (f64::from(w) / f64::from(bw), f64::from(h) / f64::from(bh));
    // Fit: the larger shrink; crop (fill): the smaller.
    let s = if crop { hs.min(vs) } else { hs.max(vs) };
    let ow = ((f64::from(w) / s).round() as u32).max(1);
    let oh = ((f64::from(h) / s).round() as u32).max(1);
    (ow, oh, s)
}

/// The level of a pyramid (metadata `level-sizes`, opened at level 0) to
/// read for a result of `size` (in stored orientation): the smallest one
/// at least that size in both dimensions, if not level 0.
fn pyramid_level(probe: &Image, size: (u32, u32)) -> Option<usize> {
    let metadata = probe.metadata();
    if metadata.field("level") != Some("0") {
        return None;
    }
    let sizes = metadata.field("level-sizes")?;
    let mut best = None;
    for (n, s) in sizes.split(',').enumerate() {
        let (w, h) = s.split_once('x')?;
        let (w, h): (u32, u32) = (w.parse().ok()?, h.parse().ok()?);
        if w >= size.0 && h >= size.1 {
            best = Some(n);
        }
    }
    best.filter(|&n| n > 0)
}

pub(crate) fn thumbnail(path: &Path, width: u32, options: &ThumbnailOptions) -> Result<Image> {
    thumbnail_from(&|o: &OpenOptions| Image::open_with(path, o), width, options)
}

/// The thumbnail of an image opened by `open` with the load options
/// given (a file's path, or bytes in memory: the same shrink-on-load).
pub(crate) fn thumbnail_from(
    open: &dyn Fn(&OpenOptions) -> Result<Image>,
    width: u32,
    options: &ThumbnailOptions,
) -> Result<Image> {
    let height = options.height.unwrap_or(width);
    if width == 0 || height == 0 {
        return Err(crate::Error::new(
            crate::ErrorKind::InvalidArgument,
            format!("thumbnail: the box must be at least 1x1, not {width}x{height}"),
        ));
    }
    let probe = open(&OpenOptions::default())?;
    let orientation = probe.metadata().orientation;
    let rotate = !options.no_rotate && orientation > 1;
    // The upright size, and the size of the result, from the file's full
    // size (a shrink-on-load does not change the result's size).
    let (w, h) = if rotate && (5..=8).contains(&orientation) {
        (probe.height(), probe.width())
    } else {
        (probe.width(), probe.height())
    };
    let (ow, oh, factor) = fit(w, h, width, height, options.crop);
    // The JPEG loader records its mode (baseline, progressive) for every file.
    let is_jpeg = probe.metadata().field("jpeg-mode").is_some();
    // The WebP loader says `lossy` or `lossless` for still images (an
    // animation cannot be shrunk on load).
    let is_webp_still = matches!(
        probe.metadata().field("webp-format"),
        Some("lossy" | "lossless")
    );
    // Without gigapix-io's `mozjpeg` feature the shrink is refused as
    // unsupported: then decode at full size.
    // A pyramid: open the smallest level still at least the output size
    // (libvips' rule for TIFF pyramids and slides); the resize does the
    // rest.
    let stored = if rotate && (5..=8).contains(&orientation) {
        (oh, ow)
    } else {
        (ow, oh)
    };
    let probe = match pyramid_level(&probe, stored) {
        Some(n) => open(&OpenOptions::default().set("level", n))?,
        None => probe,
    };
    let shrink = if is_webp_still {
        webp_shrink(factor)
    } else {
        jpeg_shrink(factor)
    };
    let mut image = match shrink {
        n if n > 1 && (is_jpeg || is_webp_still) => {
            match open(&OpenOptions::default().set("shrink", n)) {
                Err(e) if e.kind() == crate::ErrorKind::Unsupported => probe,
                other => other?,
            }
        }
        _ => probe,
    };
    if rotate {
        image = image.autorotate();
    }
    let alpha = matches!(
        (image.bands(), image.header().interpretation),
        (2, Interpretation::Grey) | (4, Interpretation::Srgb) | (4, Interpretation::Scrgb)
    );
    if alpha {
        image = image.premultiply();
    }
    let resize = crate::ResizeOptions::default().kernel(options.kernel);
    image = image.resize_to_with(ow, oh, &resize);
    if alpha {
        image = image.unpremultiply();
    }
    if options.crop && (ow > width || oh > height) {
        let (cw, ch) = (ow.min(width), oh.min(height));
        image = image.crop((ow - cw) / 2, (oh - ch) / 2, cw, ch);
    }
    colour(image, options)
}
