//! `smartcrop`: a crop placed where the image is interesting, found as
//! libvips' `smartcrop` finds it.

use gigapix_core::{BandFormat, Error, Header, Image, Inputs, Operation, Rect, Region, Result};

use super::{Once, failed, has_alpha, row_f64, strip_rows};
use crate::catalogue::prelude::*;
use crate::geometry::crop;
use crate::resample::{ResizeOptions, resize};

/// How [`smartcrop`] chooses the area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Interesting {
    /// The top-left corner.
    None,
    /// The centre.
    Centre,
    /// Repeatedly cut the slice of lower entropy off each end of the longer
    /// overhang (libvips' `entropy`).
    Entropy,
    /// Centred on the peak of a blurred map of edges, skin tones and
    /// saturated colours of a 32 × 32 shrink of the image (libvips'
    /// `attention`).
    #[default]
    Attention,
    /// The top-left corner (libvips' `low`).
    Low,
    /// The bottom-right corner.
    High,
}

impl Interesting {
    /// The catalogue's names, in order.
    pub(crate) const NAMES: &'static [&'static str] =
        &["none", "centre", "entropy", "attention", "low", "high"];

    fn from_name(name: &str) -> Option<Interesting> {
        Some(match name.to_ascii_lowercase().as_str() {
            "none" => Interesting::None,
            "centre" | "center" => Interesting::Centre,
            "entropy" => Interesting::Entropy,
            "attention" => Interesting::Attention,
            "low" => Interesting::Low,
            "high" => Interesting::High,
            _ => return None,
        })
    }
}

/// Options of [`smartcrop`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmartcropOptions {
    /// The strategy (default [`Interesting::Attention`]).
    pub interesting: Interesting,
    /// The image's alpha is premultiplied already (otherwise an image with
    /// alpha is premultiplied before it is searched, so that what is
    /// transparent does not count).
    pub premultiplied: bool,
}

impl SmartcropOptions {
    /// Sets [`interesting`](SmartcropOptions::interesting).
    pub fn interesting(mut self, interesting: Interesting) -> SmartcropOptions {
        self.interesting = interesting;
        self
    }

    /// Sets [`premultiplied`](SmartcropOptions::premultiplied).
    pub fn premultiplied(mut self, premultiplied: bool) -> SmartcropOptions {
        self.premultiplied = premultiplied;
        self
    }
}

/// The `width` × `height` area of `img` that `options.interesting` finds
/// most interesting (libvips' `smartcrop`; the area must fit in the
/// image). The crop itself is a view of the input (no copy).
///
/// `Entropy` and `Attention` need the whole image first: the node works
/// the position out the first time any region of it is asked for, pulling
/// what it needs through the graph in strips (for `attention`, the image
/// shrunk to about 32 × 32 with [`resize`]; for `entropy`, slices of the
/// full image), and keeps it. The steps are libvips' to the letter, in
/// the same `f32` arithmetic, so crops land where libvips' do; they can
/// still differ by a step of the search (about width / 32 pixels for
/// `attention`, a slice for `entropy`) where this crate's `resize` differs
/// from libvips' by a level, or where two candidates score alike.
///
/// Colour: bands 0 to 2 are taken as sRGB (a one- or two-band image as
/// grey), `u16` images as 16-bit sRGB, other formats cast to `u8` first
/// as libvips does.
///
/// ```
/// use gigapix_ops::assembly::{SmartcropOptions, smartcrop};
/// let out = smartcrop(&gigapix_ops::noise(200, 100, 3, 1), 50, 50, &SmartcropOptions::default());
/// assert_eq!((out.width(), out.height()), (50, 50));
/// ```
pub fn smartcrop(img: &Image, width: u32, height: u32, options: &SmartcropOptions) -> Image {
    let name = "smartcrop";
    let h = *img.header();
    if img.check().is_err() {
        return img.clone();
    }
    if width == 0 || height == 0 || width > h.width || height > h.height {
        return failed(
            name,
            Error::invalid(
                name,
                format!(
                    "the area {width}x{height} is empty or larger than the {}x{} image",
                    h.width, h.height
                ),
            ),
            std::slice::from_ref(img),
        );
    }
    let (sw, sh) = (h.width - width, h.height - height);
    let strategy = match options.interesting {
        Interesting::None | Interesting::Low => return crop(img, 0, 0, width, height),
        Interesting::Centre => return crop(img, sw / 2, sh / 2, width, height),
        Interesting::High => return crop(img, sw, sh, width, height),
        Interesting::Entropy => Strategy::Entropy,
        Interesting::Attention => Strategy::Attention,
    };
    let searched = if has_alpha(&h) && !options.premultiplied {
        crate::composite::premultiply(img)
    } else {
        img.clone()
    };
    let searched = match strategy {
        Strategy::Entropy => searched,
        Strategy::Attention => {
            let (hscale, vscale) = (32.0 / h.width as f64, 32.0 / h.height as f64);
            resize(&searched, hscale, &ResizeOptions::default().vscale(vscale))
        }
    };
    // One input when the searched image is the image itself (entropy
    // without alpha), so the planner caches a sequential source once.
    let (inputs, searched_input) = if searched.same_node(img) {
        (vec![img.clone()], 0)
    } else {
        (vec![img.clone(), searched], 1)
    };
    Image::new(
        SmartCrop {
            width,
            height,
            strategy,
            searched: searched_input,
            position: Once::default(),
        },
        inputs,
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strategy {
    Entropy,
    Attention,
}

/// Rows of the shrunk image `attention` pulls at a time.
const SMALL_STRIP: i64 = 4;

/// The operation of [`smartcrop`] for `entropy` and `attention`. Input 0
/// is cropped, input `searched` (1, or 0 when it is the image itself)
/// searched (the shrunk image for `attention`).
///
/// Its [`need`](Operation::need) of the searched input is the first strip
/// it pulls, whatever the output rectangle: the planner sees no halo and
/// no scale (tile geometry is undistorted) and no reach over the whole
/// height (read-aheads are not sized to hold it). It reports
/// [`keeps_row_order`](Operation::keeps_row_order) `false`, which is true:
/// a sequential source below is read to the end by the search before the
/// crop reads it again, so the planner caches it. Until the position is
/// known, the need of the cropped input assumes a centred crop (with one
/// input, only the crop is reported: the cache is there anyway).
#[derive(Debug)]
struct SmartCrop {
    width: u32,
    height: u32,
    strategy: Strategy,
    /// The index of the searched input.
    searched: usize,
    position: Once<(i64, i64)>,
}

impl Operation for SmartCrop {
    type State = ();

    fn name(&self) -> &'static str {
        "smartcrop"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        Ok(inputs[0].with_size(self.width, self.height))
    }

    fn need(&self, out: Rect, index: usize, inputs: &[Header]) -> Rect {
        let full = inputs[0];
        let (x, y) = self.position.peek().unwrap_or((
            full.width.saturating_sub(self.width) as i64 / 2,
            full.height.saturating_sub(self.height) as i64 / 2,
        ));
        let crop = out.translate(x, y);
        if index == 0 {
            return crop;
        }
        let h = inputs[index];
        let rows = match self.strategy {
            Strategy::Attention => SMALL_STRIP,
            Strategy::Entropy => strip_rows(&h),
        };
        Rect::new(0, 0, h.width as i64, rows.min(h.height as i64))
    }

    fn keeps_row_order(&self) -> bool {
        false
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let (x, y) = self.position.get(|| match self.strategy {
            Strategy::Attention => self.attention(inputs),
            Strategy::Entropy => self.entropy(inputs),
        })?;
        Ok(inputs.get(0, out.translate(x, y))?.moved_to(out.x, out.y))
    }
}

// ---- attention ----

/// libvips' sRGB → linear table (`vips_v2Y_8` / `vips_v2Y_16`), in `f32`.
fn srgb_to_linear(v: u32, range: u32) -> f32 {
    let f = v as f32 / (range - 1) as f32;
    if f <= 0.04045 {
        f / 12.92
    } else {
        ((f + 0.055) / (1.0 + 0.055)).powf(2.4)
    }
}

/// libvips' `vips_cast` of a sample to `u8` (clip, truncate).
fn cast_u8(v: f64) -> u32 {
    v.clamp(0.0, 255.0) as u32
}

/// Entries of libvips' `XYZ2Lab` cube-root table.
const QUANT: usize = 100_000;

/// Entry `i` of libvips' `cbrt_table` (`f(i / 100000)` in `f32`, the
/// linear segment below 0.008856).
fn cbrt_entry(i: usize) -> f32 {
    let y = (i as f64 / QUANT as f64) as f32;
    if y < 0.008856 {
        7.787 * y + 16.0 / 116.0
    } else {
        y.cbrt()
    }
}

/// libvips' interpolated table lookup of `XYZ2Lab` for `v / white`.
fn lab_cbrt(v: f32, white: f64) -> f32 {
    // C: `QUANT_ELEMENTS * X` in float, the division in double.
    let n = ((QUANT as f32 * v) as f64 / white) as f32;
    let i = (n as i32).clamp(0, QUANT as i32 - 2) as usize;
    let f = n - i as f32;
    let (a, b) = (cbrt_entry(i), cbrt_entry(i + 1));
    a + f * (b - a)
}

/// `sqrt(a² + b² + c²)` as libvips' smartcrop computes it: squares and
/// their sum in `f32`, the root in `f64`.
fn pythagoras(v: [f32; 3]) -> f32 {
    let s = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    (s as f64).powf(0.5) as f32
}

/// A separable pass of `mask` (integer coefficients, `scale`) along rows
/// (`horizontal`) or columns of a `w` × `h` `f32` image, edges copied:
/// libvips' `convi` on a float image.
fn conv_pass(
    src: &[f32],
    w: usize,
    h: usize,
    mask: &[f64],
    scale: f64,
    horizontal: bool,
) -> Vec<f32> {
    let r = (mask.len() / 2) as i64;
    let mut out = vec![0f32; w * h];
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            let mut sum = 0f64;
            for (k, &c) in mask.iter().enumerate() {
                if c == 0.0 {
                    continue;
                }
                let o = k as i64 - r;
                let (sx, sy) = if horizontal {
                    ((x + o).clamp(0, w as i64 - 1), y)
                } else {
                    (x, (y + o).clamp(0, h as i64 - 1))
                };
                sum += c * src[sy as usize * w + sx as usize] as f64;
            }
            out[y as usize * w + x as usize] = (sum / scale) as f32;
        }
    }
    out
}

impl SmartCrop {
    /// libvips' `vips_smartcrop_attention`, on the shrunk image.
    fn attention(&self, inputs: &mut Inputs<'_>) -> Result<(i64, i64)> {
        let full = *inputs.header(0);
        let small = *inputs.header(self.searched);
        let (w, h) = (small.width as usize, small.height as usize);
        let bands = small.bands as usize;
        // sRGB → scRGB → XYZ, per pixel.
        let mut xyz = vec![[0f32; 3]; w * h];
        let mut row = Vec::new();
        let mut y0 = 0;
        while y0 < h as i64 {
            let strip = Rect::new(0, y0, w as i64, SMALL_STRIP.min(h as i64 - y0));
            let region = inputs.get(self.searched, strip)?;
            for y in strip.y..strip.bottom() {
                row_f64(&region, y, &mut row);
                for x in 0..w {
                    let px = &row[x * bands..(x + 1) * bands];
                    let rgb = |b: usize| px[if bands >= 3 { b } else { 0 }];
                    let lin = |b: usize| match small.format {
                        BandFormat::U16 => srgb_to_linear(rgb(b) as u32, 65536),
                        _ => srgb_to_linear(cast_u8(rgb(b)), 256),
                    };
                    let (r, g, b) = (
                        (lin(0) as f64 * 100.0) as f32,
                        (lin(1) as f64 * 100.0) as f32,
                        (lin(2) as f64 * 100.0) as f32,
                    );
                    xyz[y as usize * w + x] = [
                        0.4124 * r + 0.3576 * g + 0.1805 * b,
                        0.2126 * r + 0.7152 * g + 0.0722 * b,
                        0.0193 * r + 0.1192 * g + 0.9505 * b,
                    ];
                }
            }
            y0 += SMALL_STRIP;
        }
        // Edges: |5 · laplacian(Y)|, edges copied.
        let luma: Vec<f32> = xyz.iter().map(|p| p[1]).collect();
        let at = |x: i64, y: i64| {
            luma[y.clamp(0, h as i64 - 1) as usize * w + x.clamp(0, w as i64 - 1) as usize] as f64
        };
        let mut sum = vec![0f32; w * h];
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                let i = y as usize * w + x as usize;
                let lap =
                    -at(x, y - 1) - at(x - 1, y) + 4.0 * at(x, y) - at(x + 1, y) - at(x, y + 1);
                let edges = ((5.0 * lap as f32 as f64) as f32).abs();
                let p = xyz[i];
                let bright = p[1] as f64 > 5.0;
                // Skin: closeness of the colour's direction to smartcrop.js'.
                let mag = pythagoras(p);
                let unit = p.map(|v| if mag == 0.0 { 0.0 } else { v / mag });
                let skin_vector = [-0.78, -0.57, -0.44];
                let d = [0, 1, 2].map(|b| (unit[b] as f64 + skin_vector[b]) as f32);
                let skin = (-100.0 * pythagoras(d) as f64 + 100.0) as f32;
                // Saturation: Lab's a*.
                let (cx, cy) = (lab_cbrt(p[0], 95.047), lab_cbrt(p[1], 100.0));
                let a = 500.0 * (cx - cy);
                let (skin, a) = if bright { (skin, a) } else { (0.0, 0.0) };
                sum[i] = edges + skin + a;
            }
        }
        // Blur over about a tenth of the crop's size.
        let (hscale, vscale) = (32.0 / full.width as f64, 32.0 / full.height as f64);
        let sigma =
            ((self.width as f64 * hscale).powi(2) + (self.height as f64 * vscale).powi(2)).sqrt();
        let sigma = (sigma / 10.0).max(1.0);
        let mask = crate::blur::gaussmat(sigma, 0.2)?;
        let blurred = conv_pass(&sum, w, h, &mask.coefficients, mask.scale, true);
        let blurred = conv_pass(&blurred, w, h, &mask.coefficients, mask.scale, false);
        // The first maximum in raster order.
        let mut best = 0;
        for (i, &v) in blurred.iter().enumerate() {
            if v > blurred[best] {
                best = i;
            }
        }
        let (xp, yp) = ((best % w) as f64, (best / w) as f64);
        let (ax, ay) = ((xp / hscale) as i64, (yp / vscale) as i64);
        let left = (ax - self.width as i64 / 2).clamp(0, (full.width - self.width) as i64);
        let top = (ay - self.height as i64 / 2).clamp(0, (full.height - self.height) as i64);
        Ok((left, top))
    }

    // ---- entropy ----

    /// libvips' `vips_smartcrop_entropy`, on the searched input.
    fn entropy(&self, inputs: &mut Inputs<'_>) -> Result<(i64, i64)> {
        let index = self.searched;
        let h = *inputs.header(index);
        let (tw, th) = (self.width as i64, self.height as i64);
        let (mut left, mut top) = (0i64, 0i64);
        let (mut width, mut height) = (h.width as i64, h.height as i64);
        let max_slice = ((width - tw) as f64 / 8.0)
            .ceil()
            .max(((height - th) as f64 / 8.0).ceil()) as i64;
        let mut score = |r: Rect| entropy_of(inputs, index, r);
        while width > tw || height > th {
            let sw = (width - tw).min(max_slice);
            let sh = (height - th).min(max_slice);
            if sw > 0 {
                let l = score(Rect::new(left, top, sw, height))?;
                let r = score(Rect::new(left + width - sw, top, sw, height))?;
                width -= sw;
                if l < r {
                    left += sw;
                }
            }
            if sh > 0 {
                let t = score(Rect::new(left, top, width, sh))?;
                let b = score(Rect::new(left, top + height - sh, width, sh))?;
                height -= sh;
                if t < b {
                    top += sh;
                }
            }
        }
        Ok((left, top))
    }
}

/// The entropy of the histograms of area `r` of input `index` (libvips'
/// `hist_find` then `hist_entropy`: one histogram per band, all bins of
/// all bands normalised together; `u8` and `i8` images in 256 bins,
/// others in 65536, values cast as libvips casts them), pulled in
/// strips.
fn entropy_of(inputs: &mut Inputs<'_>, index: usize, r: Rect) -> Result<f64> {
    let h = *inputs.header(index);
    let small = matches!(h.format, BandFormat::U8 | BandFormat::I8);
    let top = if small { 255.0 } else { 65535.0 };
    let size = if small { 256 } else { 65536 };
    let bands = h.bands as usize;
    // One histogram per band, side by side.
    let mut bins = vec![0u64; size * bands];
    let rows = strip_rows(&h.with_size(r.width as u32, h.height));
    let mut row = Vec::new();
    let mut y = r.y;
    while y < r.bottom() {
        let strip = Rect::new(r.x, y, r.width, rows.min(r.bottom() - y));
        let region = inputs.get(index, strip)?;
        for yy in strip.y..strip.bottom() {
            row_f64(&region, yy, &mut row);
            for px in row.chunks_exact(bands) {
                for (b, &v) in px.iter().enumerate() {
                    bins[b * size + v.clamp(0.0, top) as usize] += 1;
                }
            }
        }
        y += rows;
    }
    let total: u64 = bins.iter().sum();
    let mut e = 0.0;
    for &c in &bins {
        if c > 0 {
            let p = c as f64 / total as f64;
            e -= p * p.log2();
        }
    }
    Ok(e)
}

// ---- catalogue ----

/// [`smartcrop`] in the catalogue.
pub static SMARTCROP: OpDesc = OpDesc::new(
    "smartcrop",
    Category::Assembly,
    "Crops to width × height where the image is most interesting",
    &[
        ArgDesc::required("width", ArgType::int(1, i32::MAX as i64), "Width of the area (at most the image's)."),
        ArgDesc::required("height", ArgType::int(1, i32::MAX as i64), "Height of the area (at most the image's)."),
        ArgDesc::optional("interesting", ArgType::Enum(Interesting::NAMES), "attention", "How to choose: attention (edges, skin tones and saturation of a 32x32 shrink), entropy (cut the duller end until it fits), centre, none or low (top left), high (bottom right)."),
        ArgDesc::optional("premultiplied", ArgType::Bool, "false", "The alpha is premultiplied already (else an image with alpha is premultiplied before it is searched)."),
    ],
    |input, a| {
        let i = a.choice("interesting")?;
        let i = Interesting::from_name(i).ok_or_else(|| Error::invalid("smartcrop", format!("unknown strategy `{i}`")))?;
        let o = SmartcropOptions::default().interesting(i).premultiplied(a.bool("premultiplied")?);
        Ok(smartcrop(input_of(input)?, a.u32("width")?, a.u32("height")?, &o))
    },
)
.doc("libvips' `smartcrop`, its steps reproduced in the same f32 arithmetic (shrink to about 32x32, XYZ, edges, skin and a* maps, a gaussian blur, the first maximum). Crops land where libvips' do, up to a step of the search (about width/32 pixels for attention, a slice for entropy) where this crate's resize differs from libvips' by a level or two candidates score alike. The position is worked out once, the first time a region is asked for, by pulling the shrunk image (or slices, for entropy) in strips; the crop is a view of the input.")
.example("32 24");
