//! Assembly: putting images together and taking them apart, as libvips
//! 8.18 does — [`insert`], [`join`], [`arrayjoin`], [`replicate`],
//! [`gravity`], [`zoom`], [`subsample`], [`smartcrop`] — and the
//! measurements [`getpoint`] and [`find_trim`].
//!
//! Operations that put several images together ([`insert`], [`join`],
//! [`arrayjoin`]) first bring them to a common band format
//! ([`BandFormat::common`], libvips' `vips_format_common`, by a cast) and
//! a common band count (a one-band image is copied into every band; any
//! other mismatch is an error). Every one of them, and [`gravity`] with a
//! flat background, is one layout node: a canvas of one colour (the
//! *ink*) with rectangles of its inputs painted on it. A region of a
//! layout that lies inside one visible input is that input's region,
//! moved (zero-copy); others are painted. An [`arrayjoin`] of many tiles
//! finds the tiles a region overlaps from the grid, so it never looks at
//! the others.
//!
//! Backgrounds become an ink as libvips makes it: each value is first
//! rounded to `f32`, then cast to the output format (integers clipped to
//! the format's range and truncated towards zero: `3.7` paints 3 in a `u8`
//! image, `-1.5` paints -1 in an `i8` one).
//!
//! [`smartcrop`] and [`find_trim`] need their whole input before they can
//! give a pixel: each computes what it needs once, the first time any
//! region of it is asked for, by pulling its input through the graph in
//! strips top to bottom (memory stays bounded by a strip), and keeps the
//! result in the node for every later request and run.

use std::sync::{Mutex, PoisonError};

use gigapix_core::{
    BandFormat, Error, Header, Image, Inputs, Interpretation, Operation, Rect, Region, Result,
    Sample, dispatch_format,
};

use crate::pixel::{fill_row, with_pixel_size};

mod insert;
mod measure;
mod smartcrop;
mod tile;

pub use insert::{
    ARRAYJOIN, ArrayjoinOptions, INSERT, InsertOptions, JOIN, JoinOptions, arrayjoin, insert, join,
};
pub use measure::{FIND_TRIM, FindTrimOptions, GETPOINT, find_trim, getpoint};
pub use smartcrop::{Interesting, SMARTCROP, SmartcropOptions, smartcrop};
pub use tile::{
    GRAVITY, GravityOptions, REPLICATE, SUBSAMPLE, SubsampleOptions, ZOOM, gravity, replicate,
    subsample, zoom,
};

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&crate::catalogue::OpDesc] = &[
    &INSERT, &JOIN, &ARRAYJOIN, &REPLICATE, &GRAVITY, &ZOOM, &SUBSAMPLE, &SMARTCROP, &GETPOINT,
    &FIND_TRIM,
];

/// Where images line up along an edge ([`join`], [`arrayjoin`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Align {
    /// On the low coordinate edge: left or top.
    #[default]
    Low,
    /// Centred: `(outer − inner) / 2` rounded towards zero, as libvips
    /// (`join` halves each size on its own, `outer / 2 − inner / 2`, as
    /// libvips' `join` does).
    Centre,
    /// On the high coordinate edge: right or bottom.
    High,
}

impl Align {
    /// The catalogue's names, in order.
    pub(crate) const NAMES: &'static [&'static str] = &["low", "centre", "high"];

    /// The alignment called `name` (one of [`NAMES`](Align::NAMES);
    /// `center` is accepted).
    pub(crate) fn from_name(name: &str) -> Option<Align> {
        match name.to_ascii_lowercase().as_str() {
            "low" => Some(Align::Low),
            "centre" | "center" => Some(Align::Centre),
            "high" => Some(Align::High),
            _ => None,
        }
    }

    /// The offset of something of size `inner` in a space of size `outer`
    /// (C division: towards zero, so it may be negative).
    pub(crate) fn offset(self, outer: i64, inner: i64) -> i64 {
        match self {
            Align::Low => 0,
            Align::Centre => (outer - inner) / 2,
            Align::High => outer - inner,
        }
    }
}

/// A point of the compass, for [`gravity`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Compass {
    /// In the middle.
    #[default]
    Centre,
    /// Top, centred across.
    North,
    /// Right, centred down.
    East,
    /// Bottom, centred across.
    South,
    /// Left, centred down.
    West,
    /// Top right.
    NorthEast,
    /// Bottom right.
    SouthEast,
    /// Bottom left.
    SouthWest,
    /// Top left.
    NorthWest,
}

impl Compass {
    /// The catalogue's names, in order.
    pub(crate) const NAMES: &'static [&'static str] = &[
        "centre",
        "north",
        "east",
        "south",
        "west",
        "north-east",
        "south-east",
        "south-west",
        "north-west",
    ];

    /// The direction called `name` (`center` and `_` for `-` accepted).
    pub(crate) fn from_name(name: &str) -> Option<Compass> {
        Some(match name.to_ascii_lowercase().replace('_', "-").as_str() {
            "centre" | "center" => Compass::Centre,
            "north" => Compass::North,
            "east" => Compass::East,
            "south" => Compass::South,
            "west" => Compass::West,
            "north-east" => Compass::NorthEast,
            "south-east" => Compass::SouthEast,
            "south-west" => Compass::SouthWest,
            "north-west" => Compass::NorthWest,
            _ => return None,
        })
    }

    /// Horizontal and vertical alignment.
    pub(crate) fn aligns(self) -> (Align, Align) {
        use Align::*;
        match self {
            Compass::Centre => (Centre, Centre),
            Compass::North => (Centre, Low),
            Compass::East => (High, Centre),
            Compass::South => (Centre, High),
            Compass::West => (Low, Centre),
            Compass::NorthEast => (High, Low),
            Compass::SouthEast => (High, High),
            Compass::SouthWest => (Low, High),
            Compass::NorthWest => (Low, Low),
        }
    }
}

/// One pixel of `h`'s bands and format made from `background` as libvips'
/// `vips__vector_to_ink` makes it: one value for every band or one per
/// band (a one-band image takes the first of several); each value rounded
/// to `f32`, then cast (integers clipped, truncated towards zero).
pub(crate) fn ink(name: &'static str, h: &Header, background: &[f64]) -> Result<Vec<u8>> {
    let bands = h.bands as usize;
    let values: Vec<f64> = match background.len() {
        0 => return Err(Error::invalid(name, "the background has no value")),
        1 => vec![background[0]; bands],
        n if n == bands => background.to_vec(),
        _ if bands == 1 => vec![background[0]],
        n => {
            return Err(Error::invalid(
                name,
                format!(
                    "the background has {n} values for an image of {bands} bands (give 1 or {bands})"
                ),
            ));
        }
    };
    let mut out = Vec::with_capacity(h.pixel_bytes());
    for v in values {
        push_cast(&mut out, h.format, v as f32 as f64);
    }
    Ok(out)
}

/// Appends `v` as a sample of `format`, cast as libvips' `vips_cast`
/// does: integers clipped to the range, then truncated towards zero.
fn push_cast(out: &mut Vec<u8>, format: BandFormat, v: f64) {
    dispatch_format!(format, T => {
        let s = if format.is_float() {
            T::from_f64(v)
        } else {
            T::from_f64(v.clamp(T::MIN.to_f64(), T::MAX.to_f64()).trunc())
        };
        out.extend_from_slice(bytemuck::bytes_of(&s));
    })
}

/// libvips' white for `extend=white` in `embed` and `gravity`: every byte
/// `(int) max_alpha` for integer formats (0xFF: the maximum of unsigned
/// formats, −1 for signed ones; 0x01 for scRGB), `max_alpha` (255, 1 for
/// scRGB) for floats.
pub(crate) fn libvips_white(h: &Header) -> Vec<u8> {
    let scrgb = h.interpretation == Interpretation::Scrgb;
    let mut out = Vec::with_capacity(h.pixel_bytes());
    if h.format.is_integer() {
        out.resize(h.pixel_bytes(), if scrgb { 1 } else { 0xff });
    } else {
        for _ in 0..h.bands {
            push_cast(&mut out, h.format, if scrgb { 1.0 } else { 255.0 });
        }
    }
    out
}

/// libvips' `vips_interpretation_max_alpha` for our headers: 1 for scRGB,
/// 65535 for `u16` images (libvips' 16-bit interpretations), else 255.
pub(crate) fn max_alpha(h: &Header) -> f64 {
    match (h.interpretation, h.format) {
        (Interpretation::Scrgb, _) => 1.0,
        (_, BandFormat::U16) => 65535.0,
        _ => 255.0,
    }
}

/// libvips' `vips_image_hasalpha`: more bands than the interpretation
/// has colours (grey 1, sRGB and scRGB 3; never for other
/// interpretations).
pub(crate) fn has_alpha(h: &Header) -> bool {
    match h.interpretation {
        Interpretation::Grey => h.bands > 1,
        Interpretation::Srgb | Interpretation::Scrgb => h.bands > 3,
        _ => false,
    }
}

/// `images` brought to one band format and band count as libvips'
/// `formatalike` and `bandalike` do: the common format of all
/// ([`BandFormat::common`]) by a cast, and the largest band count (at
/// least `min_bands`) by copying one-band images into every band (another
/// count is an error). Also the interpretation of the output: that of
/// the last image with the most bands.
pub(crate) fn alike(
    name: &'static str,
    images: &[Image],
    min_bands: u32,
) -> Result<(Vec<Image>, Option<Interpretation>)> {
    for i in images {
        i.check()?;
    }
    let format = images
        .iter()
        .map(Image::format)
        .reduce(BandFormat::common)
        .ok_or_else(|| Error::invalid(name, "no image"))?;
    let mut bands = min_bands;
    let mut interpretation = None;
    for i in images {
        if i.bands() >= bands {
            bands = i.bands();
            interpretation = Some(i.interpretation());
        }
    }
    let mut out = Vec::with_capacity(images.len());
    for i in images {
        let mut i = crate::point::cast(i, format);
        if i.bands() != bands {
            if i.bands() != 1 {
                return Err(Error::invalid(
                    name,
                    format!(
                        "an image has {} bands: each must have 1 or {bands}",
                        i.bands()
                    ),
                ));
            }
            i = crate::bands::bandjoin(&vec![i; bands as usize]);
        }
        out.push(i);
    }
    Ok((out, interpretation))
}

/// An invalid image for `name` carrying `error`, built on `inputs`.
#[track_caller]
pub(crate) fn failed(name: &'static str, error: Error, inputs: &[Image]) -> Image {
    Image::from_error(name, error, inputs.to_vec())
}

// ---- the layout node ----

/// Where one input of a [`Layout`] goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    /// The whole input, placed in output coordinates.
    pub(crate) placed: Rect,
    /// The part of the output where it may show (its cell, or everywhere).
    pub(crate) clip: Rect,
}

impl Piece {
    /// The part of `out` this piece paints.
    fn visible(&self, out: Rect) -> Rect {
        out.intersect(&self.clip).intersect(&self.placed)
    }
}

/// A regular grid of cells, piece `i` in cell `(i % across, i / across)`,
/// cells past the last piece belonging to the last piece: lets an
/// [`arrayjoin`] find the pieces a region overlaps without looking at
/// the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grid {
    /// Cell width and height (spacing plus shim).
    pub(crate) cell: (i64, i64),
    /// Cells per row.
    pub(crate) across: i64,
}

/// A canvas of one colour with rectangles of its inputs painted on it in
/// order (later ones on top): the node of [`insert`], [`join`],
/// [`arrayjoin`] and [`gravity`] with a flat background. Input `i` is
/// painted as `pieces[i]` says. The inputs share bands and format.
#[derive(Debug)]
pub(crate) struct Layout {
    pub(crate) name: &'static str,
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// The output's interpretation (`None`: the first input's).
    pub(crate) interpretation: Option<Interpretation>,
    /// One pixel of canvas.
    pub(crate) ink: Vec<u8>,
    pub(crate) pieces: Vec<Piece>,
    /// For many pieces on a grid, whose visible parts do not overlap.
    pub(crate) grid: Option<Grid>,
}

impl Layout {
    /// The pieces that may show in `out`, in painting order.
    fn candidates(&self, out: Rect) -> Vec<usize> {
        let n = self.pieces.len();
        let Some(g) = self.grid else {
            return (0..n).collect();
        };
        let (cw, ch) = g.cell;
        let (x0, x1) = (out.x / cw, (out.right() - 1) / cw);
        let (y0, y1) = (out.y / ch, (out.bottom() - 1) / ch);
        let mut v = Vec::with_capacity(((x1 - x0 + 1) * (y1 - y0 + 1)) as usize);
        for cy in y0..=y1 {
            for cx in x0..=x1.min(g.across - 1) {
                let i = ((cx + cy * g.across) as usize).min(n - 1);
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    }
}

impl Operation for Layout {
    type State = ();

    fn name(&self) -> &'static str {
        self.name
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let first = inputs[0];
        if let Some(h) = inputs
            .iter()
            .find(|h| (h.bands, h.format) != (first.bands, first.format))
        {
            return Err(Error::invalid(
                self.name,
                format!(
                    "inputs differ: {} bands {} and {} bands {}",
                    first.bands, first.format, h.bands, h.format
                ),
            ));
        }
        let mut h = first.with_size(self.width, self.height);
        if let Some(i) = self.interpretation {
            h.interpretation = i;
        }
        Ok(h)
    }

    fn need(&self, out: Rect, index: usize, _inputs: &[Header]) -> Rect {
        let p = &self.pieces[index];
        let v = p.visible(out);
        if v.is_empty() {
            return Rect::default();
        }
        v.translate(-p.placed.x, -p.placed.y)
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let candidates = self.candidates(out);
        // The topmost piece showing in `out`: when it covers `out`, nothing
        // below shows and the region is the input's own (zero-copy).
        for &i in candidates.iter().rev() {
            let p = &self.pieces[i];
            let v = p.visible(out);
            if v.is_empty() {
                continue;
            }
            if v == out {
                let src = inputs.get(i, out.translate(-p.placed.x, -p.placed.y))?;
                return Ok(src.moved_to(out.x, out.y));
            }
            break;
        }
        let pb = inputs.output_header().pixel_bytes();
        let mut dst = inputs.alloc(out);
        let painted: u64 = candidates
            .iter()
            .map(|&i| self.pieces[i].visible(out).area())
            .sum();
        // Pieces of a grid never overlap; others may, so paint the canvas
        // unless one piece covers everything.
        let covered = if self.grid.is_some() {
            painted == out.area()
        } else {
            candidates
                .iter()
                .any(|&i| self.pieces[i].visible(out) == out)
        };
        if !covered {
            for y in out.y..out.bottom() {
                with_pixel_size!(pb, fill_row(dst.row_bytes_mut(y), &self.ink, pb));
            }
        }
        for &i in &candidates {
            let p = &self.pieces[i];
            let v = p.visible(out);
            if v.is_empty() {
                continue;
            }
            let src = inputs.get(i, v.translate(-p.placed.x, -p.placed.y))?;
            paste(&mut dst, &src, v, (p.placed.x, p.placed.y));
        }
        Ok(dst)
    }
}

/// Copies `src` (in input coordinates, its origin at `origin` of the
/// output) into `area` of `dst`.
pub(crate) fn paste(dst: &mut Region, src: &Region, area: Rect, origin: (i64, i64)) {
    let pb = dst.pixel_bytes();
    let x0 = (area.x - dst.rect().x) as usize * pb;
    let len = area.width as usize * pb;
    let sx = (area.x - origin.0 - src.rect().x) as usize * pb;
    for y in area.y..area.bottom() {
        let s = &src.row_bytes(y - origin.1)[sx..sx + len];
        dst.row_bytes_mut(y)[x0..x0 + len].copy_from_slice(s);
    }
}

// ---- computing once ----

/// A value a node computes once, the first time it is asked for, while
/// other threads asking meanwhile wait. Errors are not kept: a failed or
/// cancelled run leaves it to be computed again by the next.
#[derive(Debug, Default)]
pub(crate) struct Once<T: Copy> {
    slot: Mutex<Option<T>>,
}

impl<T: Copy> Once<T> {
    /// The value, computed by `f` if it is not known yet.
    pub(crate) fn get(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        // A panic while computing leaves `None`: computed again next time.
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = *slot {
            return Ok(v);
        }
        let v = f()?;
        *slot = Some(v);
        Ok(v)
    }

    /// The value if it is known and nobody is computing it right now.
    pub(crate) fn peek(&self) -> Option<T> {
        self.slot.try_lock().ok().and_then(|s| *s)
    }
}

/// Rows of the full-width strips a node that needs its whole input pulls:
/// about 1 MiB, 1 to 16 rows (sequential sources keep at least 16 rows of
/// read-ahead).
pub(crate) fn strip_rows(h: &Header) -> i64 {
    ((1usize << 20) / h.row_bytes().max(1)).clamp(1, 16) as i64
}

/// The samples of row `y` of `region` as `f64`, into `out`.
pub(crate) fn row_f64(region: &Region, y: i64, out: &mut Vec<f64>) {
    out.clear();
    dispatch_format!(region.format(), T => {
        out.extend(region.row::<T>(y).iter().map(|v| v.to_f64()));
    });
}
