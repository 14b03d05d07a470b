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
}

impl Default for ThumbnailOptions {
    fn default() -> ThumbnailOptions {
        ThumbnailOptions {
            height: None,
            crop: false,
            no_rotate: false,
            kernel: crate::Kernel::Lanczos3,
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
    let height = options.height.unwrap_or(width);
    if width == 0 || height == 0 {
        return Err(crate::Error::new(
            crate::ErrorKind::InvalidArgument,
            format!("thumbnail: the box must be at least 1x1, not {width}x{height}"),
        ));
    }
    let probe = Image::open(path)?;
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
        Some(n) => Image::open_with(path, &OpenOptions::default().set("level", n))?,
        None => probe,
    };
    let mut image = match jpeg_shrink(factor) {
        n if n > 1 && is_jpeg => {
            match Image::open_with(path, &OpenOptions::default().set("shrink", n)) {
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
    Ok(image)
}
