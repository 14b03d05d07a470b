//! Geometry: cropping, embedding in a larger canvas, flips and rotations by
//! multiples of 90°.
//!
//! These operations move pixels without looking at their values, so their
//! kernels work on pixels as bytes, whatever the band format.

use std::fmt;
use std::str::FromStr;

use gigapix_core::{
    DemandHint, Error, Header, Image, Inputs, Operation, Rect, Region, Result, Sample,
    dispatch_format,
};
use gigapix_simd::flip::reverse_pixels;

use crate::pixel::{column_to_row, fill_row, gather_row, reverse_row, with_pixel_size};

/// The `width`×`height` area of `img` whose top-left corner is
/// `(left, top)`. An empty area or one reaching outside the image makes the
/// image invalid.
///
/// Zero-copy: a region of the crop is the input's region, moved.
///
/// ```
/// let image = gigapix_ops::crop(&gigapix_ops::black(100, 100, 1), 10, 10, 50, 20);
/// assert_eq!((image.width(), image.height()), (50, 20));
/// assert!(gigapix_ops::crop(&image, 40, 0, 20, 20).check().is_err());
/// ```
pub fn crop(img: &Image, left: u32, top: u32, width: u32, height: u32) -> Image {
    Image::new(
        Crop {
            left,
            top,
            width,
            height,
        },
        vec![img.clone()],
    )
}

/// `img` placed with its top-left corner at `(x, y)` of a `width`×`height`
/// canvas, the rest of the canvas filled as `extend` says. `x` and `y` may
/// be negative; they must lie within ±2⁴⁰.
///
/// Where a requested region lies wholly inside the input, it is the input's
/// region, moved (zero-copy).
///
/// ```
/// use gigapix_ops::{Extend, embed, noise};
/// let framed = embed(&noise(100, 100, 3, 7), 10, 10, 120, 120, Extend::White);
/// assert_eq!((framed.width(), framed.height()), (120, 120));
/// ```
pub fn embed(img: &Image, x: i64, y: i64, width: u32, height: u32, extend: Extend) -> Image {
    let op = Embed {
        x,
        y,
        width,
        height,
        extend,
        fill: fill_pixel(img.header(), extend),
    };
    Image::new(op, vec![img.clone()])
}

/// `img` mirrored left-right ([`Direction::Horizontal`]) or top-bottom
/// ([`Direction::Vertical`]).
pub fn flip(img: &Image, direction: Direction) -> Image {
    Image::new(Flip { direction }, vec![img.clone()])
}

/// `img` rotated clockwise by `angle`.
///
/// ```
/// let image = gigapix_ops::rot(&gigapix_ops::black(30, 20, 1), gigapix_ops::Angle::D90);
/// assert_eq!((image.width(), image.height()), (20, 30));
/// ```
pub fn rot(img: &Image, angle: Angle) -> Image {
    Image::new(Rot { angle }, vec![img.clone()])
}

/// An axis to [`flip`] across.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Left becomes right.
    Horizontal,
    /// Top becomes bottom.
    Vertical,
}

/// A clockwise rotation for [`rot`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Angle {
    /// A quarter turn clockwise.
    D90,
    /// A half turn.
    D180,
    /// Three quarter turns clockwise (a quarter turn anticlockwise).
    D270,
}

/// How [`embed`] fills the canvas outside the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extend {
    /// Zeros.
    Black,
    /// The format's white: the maximum of integer formats, 1.0 for `f32`.
    White,
    /// The nearest edge pixel, repeated.
    Copy,
    /// The image tiled in every direction.
    Repeat,
    /// The image tiled with every other copy mirrored, so that edges meet
    /// their reflection (edge pixels appear twice).
    Mirror,
}

impl FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Direction, String> {
        match s.to_ascii_lowercase().as_str() {
            "horizontal" | "h" => Ok(Direction::Horizontal),
            "vertical" | "v" => Ok(Direction::Vertical),
            _ => Err(format!(
                "unknown direction `{s}` (expected horizontal, h, vertical or v)"
            )),
        }
    }
}

impl FromStr for Angle {
    type Err = String;
    fn from_str(s: &str) -> Result<Angle, String> {
        match s.to_ascii_lowercase().as_str() {
            "90" | "d90" => Ok(Angle::D90),
            "180" | "d180" => Ok(Angle::D180),
            "270" | "d270" => Ok(Angle::D270),
            _ => Err(format!(
                "unknown angle `{s}` (expected 90, 180, 270, d90, d180 or d270)"
            )),
        }
    }
}

impl FromStr for Extend {
    type Err = String;
    fn from_str(s: &str) -> Result<Extend, String> {
        match s.to_ascii_lowercase().as_str() {
            "black" => Ok(Extend::Black),
            "white" => Ok(Extend::White),
            "copy" | "extend" => Ok(Extend::Copy),
            "repeat" => Ok(Extend::Repeat),
            "mirror" => Ok(Extend::Mirror),
            _ => Err(format!(
                "unknown extend mode `{s}` (expected black, white, copy, extend, repeat or mirror)"
            )),
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Horizontal => "horizontal",
            Direction::Vertical => "vertical",
        })
    }
}

impl fmt::Display for Angle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Angle::D90 => "90",
            Angle::D180 => "180",
            Angle::D270 => "270",
        })
    }
}

impl fmt::Display for Extend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Extend::Black => "black",
            Extend::White => "white",
            Extend::Copy => "copy",
            Extend::Repeat => "repeat",
            Extend::Mirror => "mirror",
        })
    }
}

/// The operation of [`crop`].
#[derive(Debug)]
pub struct Crop {
    left: u32,
    top: u32,
    width: u32,
    height: u32,
}

impl Operation for Crop {
    type State = ();

    fn name(&self) -> &'static str {
        "crop"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        let area = Rect::new(
            self.left as i64,
            self.top as i64,
            self.width as i64,
            self.height as i64,
        );
        if area.is_empty() {
            return Err(Error::invalid("crop", format!("the area {area} is empty")));
        }
        if !h.rect().contains(&area) {
            return Err(Error::invalid(
                "crop",
                format!(
                    "the area {area} reaches outside the {}x{} image",
                    h.width, h.height
                ),
            ));
        }
        Ok(h.with_size(self.width, self.height))
    }

    fn need(&self, out: Rect, _: usize, _inputs: &[Header]) -> Rect {
        out.translate(self.left as i64, self.top as i64)
    }

    fn region_bytes(&self, _: Rect, _: &[Header], _: &Header) -> u64 {
        // A view of the input's region.
        0
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        Ok(inputs.get(0, inputs.need(out, 0))?.moved_to(out.x, out.y))
    }
}

/// The canvas pixel [`embed`] fills with for `extend` (empty when the fill
/// comes from the image).
fn fill_pixel(h: &Header, extend: Extend) -> Vec<u8> {
    let sample: Vec<u8> = match extend {
        Extend::Black => vec![0; h.format.size()],
        Extend::White => dispatch_format!(h.format, T => {
            bytemuck::bytes_of(&T::from_f64(h.format.max_value())).to_vec()
        }),
        _ => return Vec::new(),
    };
    sample.repeat(h.bands as usize)
}

/// The operation of [`embed`].
#[derive(Debug)]
pub struct Embed {
    x: i64,
    y: i64,
    width: u32,
    height: u32,
    extend: Extend,
    /// One pixel of canvas for `Black` and `White`.
    fill: Vec<u8>,
}

/// Where canvas coordinate `c` (relative to the image's origin) reads the
/// image along an axis of `size` pixels; `None` for the fill colour.
fn map_coord(c: i64, size: i64, extend: Extend) -> Option<i64> {
    if (0..size).contains(&c) {
        return Some(c);
    }
    match extend {
        Extend::Black | Extend::White => None,
        Extend::Copy => Some(c.clamp(0, size - 1)),
        Extend::Repeat => Some(c.rem_euclid(size)),
        Extend::Mirror => {
            let m = c.rem_euclid(2 * size);
            Some(if m < size { m } else { 2 * size - 1 - m })
        }
    }
}

/// The image coordinates, as a half-open range, that canvas coordinates
/// `lo..hi` (relative to the image's origin, `lo < hi`) read along an axis of
/// `size` pixels. Empty when they read none.
fn axis_need(lo: i64, hi: i64, size: i64, extend: Extend) -> (i64, i64) {
    if lo >= 0 && hi <= size {
        return (lo, hi);
    }
    match extend {
        Extend::Black | Extend::White => (lo.max(0), hi.min(size)),
        Extend::Copy => (lo.clamp(0, size - 1), (hi - 1).clamp(0, size - 1) + 1),
        Extend::Repeat => {
            let (a, b) = (lo.rem_euclid(size), (hi - 1).rem_euclid(size));
            if hi - lo >= size || a > b {
                (0, size)
            } else {
                (a, b + 1)
            }
        }
        Extend::Mirror => {
            let period = 2 * size;
            if hi - lo >= period {
                return (0, size);
            }
            // Fold a range of the unfolded period 0..2·size onto the image.
            let fold = |a: i64, b: i64| {
                if b < size {
                    (a, b + 1)
                } else if a >= size {
                    (period - 1 - b, period - a)
                } else {
                    (a.min(period - 1 - b), size)
                }
            };
            let (a, b) = (lo.rem_euclid(period), (hi - 1).rem_euclid(period));
            if a <= b {
                fold(a, b)
            } else {
                let (p, q) = (fold(a, period - 1), fold(0, b));
                (p.0.min(q.0), p.1.max(q.1))
            }
        }
    }
}

impl Embed {
    /// `true` if the fill comes from the image's own pixels.
    fn copies(&self) -> bool {
        matches!(self.extend, Extend::Copy | Extend::Repeat | Extend::Mirror)
    }
}

/// Largest offset [`embed`] accepts.
const MAX_OFFSET: u64 = 1 << 40;

impl Operation for Embed {
    /// The column map of the last region: the input column (relative to the
    /// fetched input region) each output column reads.
    type State = Vec<u32>;

    fn name(&self) -> &'static str {
        "embed"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        if self.x.unsigned_abs() > MAX_OFFSET || self.y.unsigned_abs() > MAX_OFFSET {
            return Err(Error::invalid(
                "embed",
                format!(
                    "position ({}, {}) is too far out (the limit is ±2^40)",
                    self.x, self.y
                ),
            ));
        }
        if self.width == 0 || self.height == 0 {
            return Err(Error::invalid(
                "embed",
                format!("the canvas {}x{} is empty", self.width, self.height),
            ));
        }
        Ok(inputs[0].with_size(self.width, self.height))
    }

    fn need(&self, out: Rect, _: usize, inputs: &[Header]) -> Rect {
        let (w, h) = (inputs[0].width as i64, inputs[0].height as i64);
        let (x0, x1) = axis_need(out.x - self.x, out.right() - self.x, w, self.extend);
        let (y0, y1) = axis_need(out.y - self.y, out.bottom() - self.y, h, self.extend);
        if x1 <= x0 || y1 <= y0 {
            return Rect::default();
        }
        Rect::new(x0, y0, x1 - x0, y1 - y0)
    }

    fn keeps_row_order(&self) -> bool {
        matches!(self.extend, Extend::Black | Extend::White | Extend::Copy)
    }

    fn start(&self) -> Result<Vec<u32>> {
        Ok(Vec::new())
    }

    fn generate(&self, xmap: &mut Vec<u32>, out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let input = inputs.header(0);
        let (w, h) = (input.width as i64, input.height as i64);
        let local = out.translate(-self.x, -self.y);
        if Rect::of_size(w, h).contains(&local) {
            return Ok(inputs.get(0, local)?.moved_to(out.x, out.y));
        }
        let need = inputs.need(out, 0);
        let src = if need.is_empty() {
            None
        } else {
            Some(inputs.get(0, need)?)
        };
        let pb = inputs.output_header().pixel_bytes();
        let mut dst = inputs.alloc(out);

        // Output columns c0..c1 read the image directly; the others are
        // canvas.
        let c0 = self.x.clamp(out.x, out.right());
        let c1 = (self.x + w).clamp(c0, out.right());
        let (left, right) = ((c0 - out.x) as usize, (c1 - out.x) as usize);
        if self.copies() {
            xmap.clear();
            xmap.extend((out.x..out.right()).map(|ox| {
                let ix = map_coord(ox - self.x, w, self.extend)
                    .expect("copying extends map every column");
                (ix - need.x) as u32
            }));
        }
        for oy in out.y..out.bottom() {
            let row = dst.row_bytes_mut(oy);
            let src_row = match (map_coord(oy - self.y, h, self.extend), &src) {
                (Some(iy), Some(src)) => src.row_bytes(iy),
                _ => {
                    with_pixel_size!(pb, fill_row(row, &self.fill, pb));
                    continue;
                }
            };
            let (head, rest) = row.split_at_mut(left * pb);
            let (middle, tail) = rest.split_at_mut((right - left) * pb);
            if right > left {
                let s = (c0 - self.x - need.x) as usize * pb;
                middle.copy_from_slice(&src_row[s..s + middle.len()]);
            }
            if self.copies() {
                with_pixel_size!(pb, gather_row(head, src_row, &xmap[..left], pb));
                with_pixel_size!(pb, gather_row(tail, src_row, &xmap[right..], pb));
            } else {
                with_pixel_size!(pb, fill_row(head, &self.fill, pb));
                with_pixel_size!(pb, fill_row(tail, &self.fill, pb));
            }
        }
        Ok(dst)
    }
}

/// The operation of [`flip`].
#[derive(Debug)]
pub struct Flip {
    direction: Direction,
}

impl Operation for Flip {
    type State = ();

    fn name(&self) -> &'static str {
        "flip"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        Ok(inputs[0])
    }

    fn need(&self, out: Rect, _: usize, inputs: &[Header]) -> Rect {
        let (w, h) = (inputs[0].width as i64, inputs[0].height as i64);
        match self.direction {
            Direction::Horizontal => Rect::new(w - out.right(), out.y, out.width, out.height),
            Direction::Vertical => Rect::new(out.x, h - out.bottom(), out.width, out.height),
        }
    }

    fn keeps_row_order(&self) -> bool {
        self.direction == Direction::Horizontal
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = inputs.header(0).height as i64;
        let src = inputs.get(0, inputs.need(out, 0))?;
        let pb = inputs.output_header().pixel_bytes();
        let mut dst = inputs.alloc(out);
        let level = gigapix_simd::level();
        for y in out.y..out.bottom() {
            match self.direction {
                Direction::Horizontal => {
                    reverse_pixels(level, src.row_bytes(y), dst.row_bytes_mut(y), pb)
                }
                Direction::Vertical => dst
                    .row_bytes_mut(y)
                    .copy_from_slice(src.row_bytes(h - 1 - y)),
            }
        }
        Ok(dst)
    }
}

/// The operation of [`rot`].
#[derive(Debug)]
pub struct Rot {
    angle: Angle,
}

impl Operation for Rot {
    type State = ();

    fn name(&self) -> &'static str {
        "rot"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        Ok(match self.angle {
            Angle::D180 => h,
            Angle::D90 | Angle::D270 => h.with_size(h.height, h.width),
        })
    }

    fn demand(&self) -> DemandHint {
        match self.angle {
            Angle::D180 => DemandHint::Any,
            Angle::D90 | Angle::D270 => DemandHint::SmallTile,
        }
    }

    fn need(&self, out: Rect, _: usize, inputs: &[Header]) -> Rect {
        let (w, h) = (inputs[0].width as i64, inputs[0].height as i64);
        match self.angle {
            // Output (x, y) reads input (y, h − 1 − x).
            Angle::D90 => Rect::new(out.y, h - out.right(), out.height, out.width),
            // Output (x, y) reads input (w − 1 − x, h − 1 − y).
            Angle::D180 => Rect::new(w - out.right(), h - out.bottom(), out.width, out.height),
            // Output (x, y) reads input (w − 1 − y, x).
            Angle::D270 => Rect::new(w - out.bottom(), out.x, out.height, out.width),
        }
    }

    fn keeps_row_order(&self) -> bool {
        false
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = inputs.header(0).height as i64;
        let need = inputs.need(out, 0);
        let src = inputs.get(0, need)?;
        let pb = inputs.output_header().pixel_bytes();
        let mut dst = inputs.alloc(out);
        if self.angle == Angle::D180 {
            for y in out.y..out.bottom() {
                let s = src.row_bytes(h - 1 - y);
                with_pixel_size!(pb, reverse_row(dst.row_bytes_mut(y), s, pb));
            }
            return Ok(dst);
        }
        // Each output row is an input column: rows[i] is input row need.y + i.
        let rows: Vec<&[u8]> = (need.y..need.bottom()).map(|y| src.row_bytes(y)).collect();
        for y in out.y..out.bottom() {
            let (column, reverse) = match self.angle {
                Angle::D90 => (y - out.y, true),
                _ => (out.bottom() - 1 - y, false),
            };
            let offset = column as usize * pb;
            with_pixel_size!(
                pb,
                column_to_row(dst.row_bytes_mut(y), &rows, offset, reverse, pb)
            );
        }
        Ok(dst)
    }
}

/// `img` turned upright as its EXIF orientation (1 to 8, in
/// [`Metadata::orientation`](gigapix_core::Metadata)) says, with the
/// orientation of the result set to 1. An image with no orientation, or
/// orientation 1, comes back as it is.
///
/// | orientation | stored as | correction |
/// |---|---|---|
/// | 2 | mirrored | flip horizontal |
/// | 3 | upside down | rot 180 |
/// | 4 | mirrored, upside down | flip vertical |
/// | 5 | transposed | rot 90, flip horizontal |
/// | 6 | turned left | rot 90 |
/// | 7 | transversed | rot 270, flip horizontal |
/// | 8 | turned right | rot 270 |
pub fn autorotate(img: &Image) -> Image {
    let upright = match img.metadata().orientation {
        2 => flip(img, Direction::Horizontal),
        3 => rot(img, Angle::D180),
        4 => flip(img, Direction::Vertical),
        5 => flip(&rot(img, Angle::D90), Direction::Horizontal),
        6 => rot(img, Angle::D90),
        7 => flip(&rot(img, Angle::D270), Direction::Horizontal),
        8 => rot(img, Angle::D270),
        _ => return img.clone(),
    };
    Image::new(Upright, vec![upright])
}

/// Passes its input through with orientation 1 (the end of [`autorotate`]).
#[derive(Debug)]
struct Upright;

impl Operation for Upright {
    type State = ();

    fn name(&self) -> &'static str {
        "autorotate"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        Ok(inputs[0])
    }

    fn metadata(
        &self,
        inputs: &[std::sync::Arc<gigapix_core::Metadata>],
    ) -> std::sync::Arc<gigapix_core::Metadata> {
        let mut m = (*inputs[0]).clone();
        m.orientation = 1;
        std::sync::Arc::new(m)
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        inputs.get(0, out)
    }
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[&CROP, &EMBED, &FLIP, &ROT, &AUTOROTATE];

const EXTENDS: &[&str] = &["black", "white", "copy", "repeat", "mirror"];

/// [`crop`] in the catalogue.
pub static CROP: OpDesc = OpDesc::new(
    "crop",
    Category::Geometry,
    "The area width × height at (left, top); a view, no copy",
    &[
        ArgDesc::required("left", ArgType::int(0, u32::MAX as i64), "Left edge."),
        ArgDesc::required("top", ArgType::int(0, u32::MAX as i64), "Top edge."),
        ArgDesc::required("width", ArgType::int(1, u32::MAX as i64), "Width of the area."),
        ArgDesc::required("height", ArgType::int(1, u32::MAX as i64), "Height of the area."),
    ],
    |input, a| {
        Ok(crop(input_of(input)?, a.u32("left")?, a.u32("top")?, a.u32("width")?, a.u32("height")?))
    },
)
.doc("The area must lie inside the image. Regions of the crop are views of the input's regions where the input can lend them.")
.aliases(&["extract_area"])
.example("4 4 32 24");

/// [`embed`] in the catalogue.
pub static EMBED: OpDesc = OpDesc::new(
    "embed",
    Category::Geometry,
    "Places the image at (x, y) in a width × height canvas",
    &[
        ArgDesc::required("x", ArgType::int(-(u32::MAX as i64), u32::MAX as i64), "Left of the image in the canvas."),
        ArgDesc::required("y", ArgType::int(-(u32::MAX as i64), u32::MAX as i64), "Top of the image in the canvas."),
        ArgDesc::required("width", ArgType::int(1, u32::MAX as i64), "Canvas width."),
        ArgDesc::required("height", ArgType::int(1, u32::MAX as i64), "Canvas height."),
        ArgDesc::optional("extend", ArgType::Enum(EXTENDS), "black", "How to fill the rest: black, white (the format's maximum), copy the edge, repeat or mirror the image."),
    ],
    |input, a| {
        let extend: Extend = a.choice("extend")?.parse().map_err(|e: String| Error::invalid("embed", e))?;
        Ok(embed(input_of(input)?, a.int("x")?, a.int("y")?, a.u32("width")?, a.u32("height")?, extend))
    },
)
.example("8 8 80 64 extend=mirror");

/// [`flip`] in the catalogue.
pub static FLIP: OpDesc = OpDesc::new(
    "flip",
    Category::Geometry,
    "Mirrors left-right or top-bottom",
    &[ArgDesc::required("direction", ArgType::Enum(&["horizontal", "vertical"]), "horizontal mirrors left-right, vertical top-bottom.")],
    |input, a| {
        let d: Direction = a.choice("direction")?.parse().map_err(|e: String| Error::invalid("flip", e))?;
        Ok(flip(input_of(input)?, d))
    },
)
.doc("A vertical flip reads its input bottom to top: over a sequential source the planner inserts a cache.")
.example("horizontal");

/// [`rot`] in the catalogue.
pub static ROT: OpDesc = OpDesc::new(
    "rot",
    Category::Geometry,
    "Rotates clockwise by a multiple of 90°",
    &[ArgDesc::required(
        "angle",
        ArgType::Enum(&["90", "180", "270", "d90", "d180", "d270"]),
        "The angle in degrees (libvips' d90, d180, d270 are accepted).",
    )],
    |input, a| {
        let angle: Angle = a
            .choice("angle")?
            .parse()
            .map_err(|e: String| Error::invalid("rot", e))?;
        Ok(rot(input_of(input)?, angle))
    },
)
.example("90");

/// [`autorotate`] in the catalogue.
pub static AUTOROTATE: OpDesc = OpDesc::new(
    "autorotate",
    Category::Geometry,
    "Turns the image upright as its EXIF orientation says",
    &[],
    |input, _| Ok(autorotate(input_of(input)?)),
)
.doc("The result has orientation 1; images without an orientation pass through.");
