//! `replicate`, `zoom`, `subsample` and `gravity`.

use gigapix_core::{Error, Header, Image, Inputs, Operation, Rect, Region, Result};

use super::{Compass, Layout, Piece, failed, ink, libvips_white};
use crate::catalogue::prelude::*;
use crate::geometry::{Extend, embed};
use crate::pixel::{gather_row, with_pixel_size};

/// The output size `w`·`a` × `h`·`b`, checked against libvips' limit
/// (`INT_MAX / 2`).
fn scaled(name: &'static str, h: &Header, a: u32, b: u32) -> Result<(u32, u32)> {
    let (w, ht) = (h.width as u64 * a as u64, h.height as u64 * b as u64);
    if a == 0 || b == 0 || w > (i32::MAX / 2) as u64 || ht > (i32::MAX / 2) as u64 {
        return Err(Error::invalid(
            name,
            format!(
                "factors {a}x{b} on a {}x{} image are zero or too large",
                h.width, h.height
            ),
        ));
    }
    Ok((w as u32, ht as u32))
}

/// The input coordinates, half-open, that output coordinates `lo..hi` of
/// an image repeated every `size` pixels read.
fn repeat_span(lo: i64, hi: i64, size: i64) -> (i64, i64) {
    let (a, b) = (lo.rem_euclid(size), (hi - 1).rem_euclid(size));
    if hi - lo >= size || a > b {
        (0, size)
    } else {
        (a, b + 1)
    }
}

/// `img` repeated `across` times to the right and `down` times down
/// (libvips' `replicate`). A region inside one copy is the input's own
/// (zero-copy).
///
/// ```
/// let out = gigapix_ops::assembly::replicate(&gigapix_ops::black(10, 20, 1), 3, 2);
/// assert_eq!((out.width(), out.height()), (30, 40));
/// ```
pub fn replicate(img: &Image, across: u32, down: u32) -> Image {
    Image::new(Replicate { across, down }, vec![img.clone()])
}

/// The operation of [`replicate`].
#[derive(Debug)]
struct Replicate {
    across: u32,
    down: u32,
}

impl Operation for Replicate {
    type State = ();

    fn name(&self) -> &'static str {
        "replicate"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        let (w, ht) = scaled("replicate", &h, self.across, self.down)?;
        Ok(h.with_size(w, ht))
    }

    fn need(&self, out: Rect, _: usize, inputs: &[Header]) -> Rect {
        let (w, h) = (inputs[0].width as i64, inputs[0].height as i64);
        let (x0, x1) = repeat_span(out.x, out.right(), w);
        let (y0, y1) = repeat_span(out.y, out.bottom(), h);
        Rect::new(x0, y0, x1 - x0, y1 - y0)
    }

    fn keeps_row_order(&self) -> bool {
        self.down == 1
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let ih = *inputs.header(0);
        let (w, h) = (ih.width as i64, ih.height as i64);
        let (tx, ty) = (out.x / w, out.y / h);
        if (out.right() - 1) / w == tx && (out.bottom() - 1) / h == ty {
            let src = inputs.get(0, out.translate(-tx * w, -ty * h))?;
            return Ok(src.moved_to(out.x, out.y));
        }
        let need = inputs.need(out, 0);
        let src = inputs.get(0, need)?;
        let pb = ih.pixel_bytes();
        let mut dst = inputs.alloc(out);
        for y in out.y..out.bottom() {
            let s = src.row_bytes(y.rem_euclid(h));
            let d = dst.row_bytes_mut(y);
            let mut x = out.x;
            while x < out.right() {
                let sx = x.rem_euclid(w);
                let n = (w - sx).min(out.right() - x);
                let (a, b) = (
                    ((x - out.x) * pb as i64) as usize,
                    ((sx - need.x) * pb as i64) as usize,
                );
                let len = n as usize * pb;
                d[a..a + len].copy_from_slice(&s[b..b + len]);
                x += n;
            }
        }
        Ok(dst)
    }
}

/// `img` enlarged by whole factors, each pixel becoming an `xfac` ×
/// `yfac` block (libvips' `zoom`). Factors of 1 give the image itself.
///
/// ```
/// let out = gigapix_ops::assembly::zoom(&gigapix_ops::black(10, 20, 1), 3, 2);
/// assert_eq!((out.width(), out.height()), (30, 40));
/// ```
pub fn zoom(img: &Image, xfac: u32, yfac: u32) -> Image {
    if xfac == 1 && yfac == 1 {
        return img.clone();
    }
    Image::new(Zoom { xfac, yfac }, vec![img.clone()])
}

/// The operation of [`zoom`].
#[derive(Debug)]
struct Zoom {
    xfac: u32,
    yfac: u32,
}

impl Operation for Zoom {
    /// The column map of the last region, and one output row.
    type State = (Vec<u32>, Vec<u8>);

    fn name(&self) -> &'static str {
        "zoom"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        let (w, ht) = scaled("zoom", &h, self.xfac, self.yfac)?;
        Ok(h.with_size(w, ht))
    }

    fn need(&self, out: Rect, _: usize, _: &[Header]) -> Rect {
        let (xf, yf) = (self.xfac as i64, self.yfac as i64);
        let (x0, y0) = (out.x / xf, out.y / yf);
        let (x1, y1) = ((out.right() + xf - 1) / xf, (out.bottom() + yf - 1) / yf);
        Rect::new(x0, y0, x1 - x0, y1 - y0)
    }

    fn generate(
        &self,
        (map, row): &mut (Vec<u32>, Vec<u8>),
        out: Rect,
        inputs: &mut Inputs<'_>,
    ) -> Result<Region> {
        let need = inputs.need(out, 0);
        let src = inputs.get(0, need)?;
        let pb = inputs.output_header().pixel_bytes();
        let (xf, yf) = (self.xfac as i64, self.yfac as i64);
        map.clear();
        map.extend((out.x..out.right()).map(|x| (x / xf - need.x) as u32));
        row.resize(out.width as usize * pb, 0);
        let mut dst = inputs.alloc(out);
        let mut made = None;
        for y in out.y..out.bottom() {
            let sy = y / yf;
            if made != Some(sy) {
                with_pixel_size!(pb, gather_row(row, src.row_bytes(sy), map, pb));
                made = Some(sy);
            }
            dst.row_bytes_mut(y).copy_from_slice(row);
        }
        Ok(dst)
    }
}

/// Options of [`subsample`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubsampleOptions {
    /// Fetch every sampled pixel on its own instead of whole input rows
    /// (libvips' `point`; also what factors above 10 do). The result is
    /// the same: this only changes what is asked of the input, which pays
    /// when its pixels are expensive and far apart.
    pub point: bool,
}

impl SubsampleOptions {
    /// Sets [`point`](SubsampleOptions::point).
    pub fn point(mut self, point: bool) -> SubsampleOptions {
        self.point = point;
        self
    }
}

/// Every `xfac`-th pixel of every `yfac`-th row, starting with the first
/// (point sampling, libvips' `subsample`): output ⌊width/xfac⌋ ×
/// ⌊height/yfac⌋, which must not be empty. Factors of 1 give the image
/// itself.
///
/// ```
/// use gigapix_ops::assembly::{SubsampleOptions, subsample};
/// let out = subsample(&gigapix_ops::black(100, 51, 1), 3, 5, &SubsampleOptions::default());
/// assert_eq!((out.width(), out.height()), (33, 10));
/// ```
pub fn subsample(img: &Image, xfac: u32, yfac: u32, options: &SubsampleOptions) -> Image {
    if xfac == 1 && yfac == 1 {
        return img.clone();
    }
    Image::new(
        Subsample {
            xfac,
            yfac,
            point: options.point || xfac > 10,
        },
        vec![img.clone()],
    )
}

/// The operation of [`subsample`].
#[derive(Debug)]
struct Subsample {
    xfac: u32,
    yfac: u32,
    /// Fetch pixel by pixel.
    point: bool,
}

impl Operation for Subsample {
    type State = ();

    fn name(&self) -> &'static str {
        "subsample"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        let (w, ht) = (h.width / self.xfac.max(1), h.height / self.yfac.max(1));
        if self.xfac == 0 || self.yfac == 0 || w == 0 || ht == 0 {
            return Err(Error::invalid(
                "subsample",
                format!(
                    "factors {}x{} shrink the {}x{} image to nothing",
                    self.xfac, self.yfac, h.width, h.height
                ),
            ));
        }
        Ok(h.with_size(w, ht))
    }

    fn need(&self, out: Rect, _: usize, _: &[Header]) -> Rect {
        let (xf, yf) = (self.xfac as i64, self.yfac as i64);
        Rect::new(
            out.x * xf,
            out.y * yf,
            (out.width - 1) * xf + 1,
            (out.height - 1) * yf + 1,
        )
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let pb = inputs.output_header().pixel_bytes();
        let (xf, yf) = (self.xfac as i64, self.yfac as i64);
        let mut dst = inputs.alloc(out);
        // Whole area at once when rows are contiguous, else row by row
        // (libvips' line mode), or pixel by pixel (its point mode).
        let whole = if !self.point && yf == 1 {
            Some(inputs.get(0, inputs.need(out, 0))?)
        } else {
            None
        };
        for y in out.y..out.bottom() {
            let sy = y * yf;
            if self.point {
                for x in out.x..out.right() {
                    let p = inputs.get(0, Rect::new(x * xf, sy, 1, 1))?;
                    let o = ((x - out.x) as usize) * pb;
                    dst.row_bytes_mut(y)[o..o + pb].copy_from_slice(p.row_bytes(sy));
                }
                continue;
            }
            let line;
            let src = match &whole {
                Some(r) => r,
                None => {
                    line = inputs.get(0, Rect::new(out.x * xf, sy, (out.width - 1) * xf + 1, 1))?;
                    &line
                }
            };
            let s = src.row_bytes(sy);
            let x0 = src.rect().x;
            let d = dst.row_bytes_mut(y);
            for (i, px) in d.chunks_exact_mut(pb).enumerate() {
                let sx = ((out.x + i as i64) * xf - x0) as usize * pb;
                px.copy_from_slice(&s[sx..sx + pb]);
            }
        }
        Ok(dst)
    }
}

/// Options of [`gravity`].
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct GravityOptions {
    /// How new pixels are made (libvips' `extend`): black, white, or the
    /// image's pixels ([`Extend::Copy`], [`Extend::Repeat`],
    /// [`Extend::Mirror`]). Unset: `background` if that is set, else
    /// black.
    pub extend: Option<Extend>,
    /// A flat colour for new pixels (libvips' `extend=background`): one
    /// value for every band or one per band.
    pub background: Option<Vec<f64>>,
}

impl GravityOptions {
    /// Sets [`extend`](GravityOptions::extend).
    pub fn extend(mut self, extend: Extend) -> GravityOptions {
        self.extend = Some(extend);
        self
    }

    /// Sets [`background`](GravityOptions::background).
    pub fn background(mut self, background: impl Into<Vec<f64>>) -> GravityOptions {
        self.background = Some(background.into());
        self
    }
}

/// `img` placed in a `width` × `height` canvas at the point of the
/// compass `direction` (libvips' `gravity`: centred positions are
/// `(width − w) / 2` rounded towards zero; a canvas smaller than the image
/// cuts it). New pixels are made as `options` say, as libvips makes them:
/// `Extend::White` is libvips' white (every byte 0xFF in integer images,
/// so −1 in signed ones; 255.0 in float images, 1.0 in scRGB ones), not
/// [`embed`]'s format maximum.
///
/// ```
/// use gigapix_ops::assembly::{Compass, GravityOptions, gravity};
/// let out = gravity(&gigapix_ops::noise(10, 10, 3, 1), Compass::SouthEast, 16, 12,
///     &GravityOptions::default().background([255.0, 0.0, 0.0]));
/// assert_eq!((out.width(), out.height()), (16, 12));
/// ```
pub fn gravity(
    img: &Image,
    direction: Compass,
    width: u32,
    height: u32,
    options: &GravityOptions,
) -> Image {
    let name = "gravity";
    let h = *img.header();
    if img.check().is_err() {
        return img.clone();
    }
    if width == 0 || height == 0 || width > i32::MAX as u32 || height > i32::MAX as u32 {
        return failed(
            name,
            Error::invalid(
                name,
                format!("the canvas {width}x{height} is empty or too large"),
            ),
            std::slice::from_ref(img),
        );
    }
    let (ha, va) = direction.aligns();
    let x = ha.offset(width as i64, h.width as i64);
    let y = va.offset(height as i64, h.height as i64);
    if (x, y, width, height) == (0, 0, h.width, h.height) {
        return img.clone();
    }
    let ink = match (options.extend, &options.background) {
        (Some(e @ (Extend::Copy | Extend::Repeat | Extend::Mirror)), _) => {
            return embed(img, x, y, width, height, e);
        }
        (Some(Extend::White), _) => Ok(libvips_white(&h)),
        (Some(Extend::Black), _) | (None, None) => Ok(vec![0; h.pixel_bytes()]),
        (None, Some(bg)) => ink(name, &h, bg),
    };
    let ink = match ink {
        Ok(i) => i,
        Err(e) => return failed(name, e, std::slice::from_ref(img)),
    };
    Image::new(
        Layout {
            name,
            width,
            height,
            interpretation: None,
            ink,
            pieces: vec![Piece {
                placed: Rect::new(x, y, h.width as i64, h.height as i64),
                clip: Rect::of_size(width as i64, height as i64),
            }],
            grid: None,
        },
        vec![img.clone()],
    )
}

// ---- catalogue ----

const FACTOR: ArgType = ArgType::int(1, i32::MAX as i64);

/// [`replicate`] in the catalogue.
pub static REPLICATE: OpDesc = OpDesc::new(
    "replicate",
    Category::Assembly,
    "Repeats the image across and down",
    &[
        ArgDesc::required("across", ArgType::int(1, 1_000_000), "Copies side by side."),
        ArgDesc::required(
            "down",
            ArgType::int(1, 1_000_000),
            "Copies one above the other.",
        ),
    ],
    |input, a| {
        Ok(replicate(
            input_of(input)?,
            a.u32("across")?,
            a.u32("down")?,
        ))
    },
)
.doc("libvips' `replicate`. A region inside one copy is a view of the input's region (no copy).")
.example("2 3");

/// [`gravity`] in the catalogue.
pub static GRAVITY: OpDesc = OpDesc::new(
    "gravity",
    Category::Assembly,
    "Places the image in a width × height canvas at a point of the compass",
    &[
        ArgDesc::required("direction", ArgType::Enum(super::Compass::NAMES), "Where the image goes: centre, or a side or corner of the canvas."),
        ArgDesc::required("width", ArgType::int(1, i32::MAX as i64), "Canvas width (a smaller canvas cuts the image)."),
        ArgDesc::required("height", ArgType::int(1, i32::MAX as i64), "Canvas height."),
        ArgDesc::unset("extend", ArgType::Enum(&["black", "white", "copy", "repeat", "mirror", "background"]), "How to make new pixels (default: background if it is given, else black). white is libvips' white: every byte 0xFF for integers (−1 in signed formats), 255 for floats."),
        ArgDesc::unset("background", ArgType::Numbers, "Colour of new pixels for extend=background: one value for every band or one per band (default 0)."),
    ],
    |input, a| {
        let d = a.choice("direction")?;
        let d = super::Compass::from_name(d).ok_or_else(|| Error::invalid("gravity", format!("unknown direction `{d}`")))?;
        let mut o = GravityOptions::default();
        match a.opt_choice("extend")? {
            Some("background") => o = o.background(a.opt_numbers("background")?.unwrap_or_else(|| vec![0.0])),
            Some(e) => {
                o = o.extend(e.parse().map_err(|e: String| Error::invalid("gravity", e))?);
                if let Some(bg) = a.opt_numbers("background")? {
                    o = o.background(bg);
                }
            }
            None => {
                if let Some(bg) = a.opt_numbers("background")? {
                    o = o.background(bg);
                }
            }
        }
        Ok(gravity(input_of(input)?, d, a.u32("width")?, a.u32("height")?, &o))
    },
)
.doc("libvips' `gravity`: an embed at a position computed from the direction (centred offsets rounded towards zero). Black, white and background canvases show the image's own regions where a region lies inside it (no copy).")
.example("north-east 80 64 background=255,0,0");

/// [`zoom`] in the catalogue.
pub static ZOOM: OpDesc = OpDesc::new(
    "zoom",
    Category::Assembly,
    "Enlarges by whole factors, repeating each pixel",
    &[
        ArgDesc::required("xfac", FACTOR, "Horizontal factor."),
        ArgDesc::required("yfac", FACTOR, "Vertical factor."),
    ],
    |input, a| Ok(zoom(input_of(input)?, a.u32("xfac")?, a.u32("yfac")?)),
)
.doc("libvips' `zoom`: each pixel becomes an xfac × yfac block; the output may be at most 2³⁰ pixels wide and high.")
.example("2 3");

/// [`subsample`] in the catalogue.
pub static SUBSAMPLE: OpDesc = OpDesc::new(
    "subsample",
    Category::Assembly,
    "Keeps every xfac-th pixel of every yfac-th row",
    &[
        ArgDesc::required("xfac", FACTOR, "Horizontal factor."),
        ArgDesc::required("yfac", FACTOR, "Vertical factor."),
        ArgDesc::optional("point", ArgType::Bool, "false", "Fetch each kept pixel on its own (also done for xfac above 10); same result, cheaper when input pixels are expensive and far apart."),
    ],
    |input, a| {
        let o = SubsampleOptions::default().point(a.bool("point")?);
        Ok(subsample(input_of(input)?, a.u32("xfac")?, a.u32("yfac")?, &o))
    },
)
.doc("libvips' `subsample`: point sampling from the first pixel; the output is ⌊width/xfac⌋ × ⌊height/yfac⌋ and must not be empty.")
.example("2 3");
