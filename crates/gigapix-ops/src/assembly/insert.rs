//! `insert`, `join` and `arrayjoin`: images placed on a canvas.

use gigapix_core::{Error, Image, Rect, Result};

use super::{Align, Grid, Layout, Piece, alike, failed, ink};
use crate::catalogue::prelude::*;
use crate::geometry::Direction;

/// Options of [`insert`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct InsertOptions {
    /// Make the output the union of both images instead of the main
    /// image's area (default `false`).
    pub expand: bool,
    /// The colour of the new pixels an `expand` makes: one value for every
    /// band or one per band (default 0).
    pub background: Vec<f64>,
}

impl Default for InsertOptions {
    fn default() -> InsertOptions {
        InsertOptions {
            expand: false,
            background: vec![0.0],
        }
    }
}

impl InsertOptions {
    /// Sets [`expand`](InsertOptions::expand).
    pub fn expand(mut self, expand: bool) -> InsertOptions {
        self.expand = expand;
        self
    }

    /// Sets [`background`](InsertOptions::background).
    pub fn background(mut self, background: impl Into<Vec<f64>>) -> InsertOptions {
        self.background = background.into();
        self
    }
}

/// Largest position or spacing an assembly accepts.
const MAX_COORD: i64 = i32::MAX as i64;

/// The checked output size of an area.
fn size_of(name: &'static str, r: Rect) -> Result<(u32, u32)> {
    if r.width > MAX_COORD || r.height > MAX_COORD || r.is_empty() {
        return Err(Error::invalid(
            name,
            format!("the output would be {}x{}", r.width, r.height),
        ));
    }
    Ok((r.width as u32, r.height as u32))
}

/// `sub` painted over `main` with its top-left corner at `(x, y)` of
/// `main` (libvips' `insert`). The output is `main`'s area, or with
/// `expand` the union of both, the new pixels `background`. Both images
/// are first brought to their common format and bands (see the
/// [module](super) docs).
///
/// Regions inside `sub`, or inside `main` and clear of `sub`, are the
/// input's own (zero-copy).
///
/// ```
/// use gigapix_ops::assembly::{InsertOptions, insert};
/// let out = insert(&gigapix_ops::black(100, 80, 3), &gigapix_ops::noise(20, 20, 1, 7), 90, -5,
///     &InsertOptions::default().expand(true));
/// assert_eq!((out.width(), out.height(), out.bands()), (110, 85, 3));
/// ```
pub fn insert(main: &Image, sub: &Image, x: i64, y: i64, options: &InsertOptions) -> Image {
    let inputs = [main.clone(), sub.clone()];
    let (a, b) = (main.header(), sub.header());
    let rmain = Rect::of_size(a.width as i64, a.height as i64);
    let rsub = Rect::new(x, y, b.width as i64, b.height as i64);
    let out = if options.expand {
        rmain.union(&rsub)
    } else {
        rmain
    };
    layout(
        "insert",
        &inputs,
        out,
        vec![rmain, rsub],
        &options.background,
    )
}

/// The [`Layout`] of `images` placed at `placed` (output coordinates
/// before moving `out` to the origin), each visible everywhere, on a
/// canvas `out`.
fn layout(
    name: &'static str,
    images: &[Image],
    out: Rect,
    placed: Vec<Rect>,
    background: &[f64],
) -> Image {
    let build = || -> Result<Image> {
        if placed
            .iter()
            .any(|r| r.x.abs() > MAX_COORD || r.y.abs() > MAX_COORD)
        {
            return Err(Error::invalid(name, "a position is too far out"));
        }
        let (w, h) = size_of(name, out)?;
        let (ready, interpretation) = alike(name, images, 1)?;
        let mut header = *ready[0].header();
        header.width = w;
        header.height = h;
        let ink = ink(name, &header, background)?;
        let whole = Rect::of_size(w as i64, h as i64);
        let pieces = placed
            .iter()
            .map(|r| Piece {
                placed: r.translate(-out.x, -out.y),
                clip: whole,
            })
            .collect();
        Ok(Image::new(
            Layout {
                name,
                width: w,
                height: h,
                interpretation,
                ink,
                pieces,
                grid: None,
            },
            ready,
        ))
    };
    build().unwrap_or_else(|e| failed(name, e, images))
}

/// Options of [`join`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct JoinOptions {
    /// Keep all of both images instead of cropping to their overlap
    /// across the join (default `false`).
    pub expand: bool,
    /// Pixels of background between the images (default 0).
    pub shim: u32,
    /// The colour of the new pixels (default 0).
    pub background: Vec<f64>,
    /// How the second image lines up with the first across the join
    /// (default [`Align::Low`]).
    pub align: Align,
}

impl Default for JoinOptions {
    fn default() -> JoinOptions {
        JoinOptions {
            expand: false,
            shim: 0,
            background: vec![0.0],
            align: Align::Low,
        }
    }
}

impl JoinOptions {
    /// Sets [`expand`](JoinOptions::expand).
    pub fn expand(mut self, expand: bool) -> JoinOptions {
        self.expand = expand;
        self
    }

    /// Sets [`shim`](JoinOptions::shim).
    pub fn shim(mut self, shim: u32) -> JoinOptions {
        self.shim = shim;
        self
    }

    /// Sets [`background`](JoinOptions::background).
    pub fn background(mut self, background: impl Into<Vec<f64>>) -> JoinOptions {
        self.background = background.into();
        self
    }

    /// Sets [`align`](JoinOptions::align).
    pub fn align(mut self, align: Align) -> JoinOptions {
        self.align = align;
        self
    }
}

/// `in2` placed to the right of `in1` ([`Direction::Horizontal`]) or
/// below it ([`Direction::Vertical`]), `shim` pixels apart, as libvips'
/// `join` (centring offsets are `h1 / 2 − h2 / 2`, each size halved on its
/// own): an [`insert`] with `expand`, then, without `expand`, a crop to
/// the smaller image's extent across the join, from the top (left) of
/// `in1`, or of `in2` when it sticks out before `in1` (libvips'
/// geometry, kept exactly: a shorter `in2` centred on a taller `in1` is
/// cut to the first rows of `in1`).
///
/// ```
/// use gigapix_ops::{Direction, assembly::{JoinOptions, join}};
/// let out = join(&gigapix_ops::black(10, 8, 1), &gigapix_ops::black(5, 6, 1),
///     Direction::Horizontal, &JoinOptions::default().shim(2));
/// assert_eq!((out.width(), out.height()), (17, 6));
/// ```
pub fn join(in1: &Image, in2: &Image, direction: Direction, options: &JoinOptions) -> Image {
    let (a, b) = (in1.header(), in2.header());
    let (w1, h1, w2, h2) = (
        a.width as i64,
        a.height as i64,
        b.width as i64,
        b.height as i64,
    );
    let shim = options.shim as i64;
    // libvips halves each size on its own: `h1 / 2 − h2 / 2`.
    let across = |a: i64, b: i64| match options.align {
        Align::Low => 0,
        Align::Centre => a / 2 - b / 2,
        Align::High => a - b,
    };
    let (x, y) = match direction {
        Direction::Horizontal => (w1 + shim, across(h1, h2)),
        Direction::Vertical => (across(w1, w2), h1 + shim),
    };
    let r1 = Rect::of_size(w1, h1);
    let r2 = Rect::new(x, y, w2, h2);
    let union = r1.union(&r2);
    let out = if options.expand {
        union
    } else {
        // libvips' crop of the expanded insert, in the same coordinates.
        match direction {
            Direction::Horizontal => {
                let top = (y.max(0) - y) + union.y;
                Rect::new(union.x, top, union.width, h1.min(h2))
            }
            Direction::Vertical => {
                let left = (x.max(0) - x) + union.x;
                Rect::new(left, union.y, w1.min(w2), union.height)
            }
        }
    };
    layout(
        "join",
        &[in1.clone(), in2.clone()],
        out,
        vec![r1, r2],
        &options.background,
    )
}

/// Options of [`arrayjoin`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ArrayjoinOptions {
    /// Images per row of the grid (default: all in one row).
    pub across: Option<u32>,
    /// Pixels of background between the cells (default 0).
    pub shim: u32,
    /// The colour of the new pixels (default 0).
    pub background: Vec<f64>,
    /// Where an image sits across its cell (default [`Align::Low`]).
    pub halign: Align,
    /// Where an image sits down its cell (default [`Align::Low`]).
    pub valign: Align,
    /// Cell width (default: the widest image); wider images are cut.
    pub hspacing: Option<u32>,
    /// Cell height (default: the tallest image); taller images are cut.
    pub vspacing: Option<u32>,
}

impl Default for ArrayjoinOptions {
    fn default() -> ArrayjoinOptions {
        ArrayjoinOptions {
            across: None,
            shim: 0,
            background: vec![0.0],
            halign: Align::Low,
            valign: Align::Low,
            hspacing: None,
            vspacing: None,
        }
    }
}

impl ArrayjoinOptions {
    /// Sets [`across`](ArrayjoinOptions::across).
    pub fn across(mut self, across: u32) -> ArrayjoinOptions {
        self.across = Some(across);
        self
    }

    /// Sets [`shim`](ArrayjoinOptions::shim).
    pub fn shim(mut self, shim: u32) -> ArrayjoinOptions {
        self.shim = shim;
        self
    }

    /// Sets [`background`](ArrayjoinOptions::background).
    pub fn background(mut self, background: impl Into<Vec<f64>>) -> ArrayjoinOptions {
        self.background = background.into();
        self
    }

    /// Sets [`halign`](ArrayjoinOptions::halign).
    pub fn halign(mut self, halign: Align) -> ArrayjoinOptions {
        self.halign = halign;
        self
    }

    /// Sets [`valign`](ArrayjoinOptions::valign).
    pub fn valign(mut self, valign: Align) -> ArrayjoinOptions {
        self.valign = valign;
        self
    }

    /// Sets [`hspacing`](ArrayjoinOptions::hspacing).
    pub fn hspacing(mut self, hspacing: u32) -> ArrayjoinOptions {
        self.hspacing = Some(hspacing);
        self
    }

    /// Sets [`vspacing`](ArrayjoinOptions::vspacing).
    pub fn vspacing(mut self, vspacing: u32) -> ArrayjoinOptions {
        self.vspacing = Some(vspacing);
        self
    }
}

/// `images` laid out in a grid, left to right and top to bottom, `across`
/// per row (libvips' `arrayjoin`): each in an `hspacing` × `vspacing`
/// cell, aligned in it as `halign` and `valign` say and cut to it, cells
/// `shim` apart; the last image's cell stretches to the right edge. The
/// images are first brought to a common format and bands (the background's
/// length counts as a band count too).
///
/// Made for stitching many tiles: a region asks only the tiles it
/// overlaps (found from the grid, whatever the number of tiles), and a
/// region inside one tile is that tile's own region (zero-copy).
///
/// ```
/// use gigapix_ops::assembly::{ArrayjoinOptions, arrayjoin};
/// let tiles: Vec<_> = (0..6).map(|i| gigapix_ops::noise(30, 20, 3, i)).collect();
/// let out = arrayjoin(&tiles, &ArrayjoinOptions::default().across(3).shim(2));
/// assert_eq!((out.width(), out.height()), (94, 42));
/// ```
pub fn arrayjoin(images: &[Image], options: &ArrayjoinOptions) -> Image {
    let name = "arrayjoin";
    if images.is_empty() {
        return Image::from_error(name, Error::invalid(name, "no image to join"), vec![]);
    }
    arrayjoin_impl(images, options).unwrap_or_else(|e| failed(name, e, images))
}

fn arrayjoin_impl(images: &[Image], o: &ArrayjoinOptions) -> Result<Image> {
    let name = "arrayjoin";
    let n = images.len() as i64;
    let (ready, interpretation) = alike(name, images, o.background.len().max(1) as u32)?;
    let widest = ready.iter().map(|i| i.width()).max().unwrap_or(1);
    let tallest = ready.iter().map(|i| i.height()).max().unwrap_or(1);
    let hs = o.hspacing.unwrap_or(widest) as i64;
    let vs = o.vspacing.unwrap_or(tallest) as i64;
    let across = o.across.unwrap_or(n as u32) as i64;
    let shim = o.shim as i64;
    if hs < 1 || vs < 1 || across < 1 {
        return Err(Error::invalid(
            name,
            "across, hspacing and vspacing must be at least 1",
        ));
    }
    let down = (n + across - 1) / across;
    let (w, h) = (
        hs * across + shim * (across - 1),
        vs * down + shim * (down - 1),
    );
    let (w, h) = size_of(name, Rect::of_size(w, h))?;
    let mut pieces = Vec::with_capacity(images.len());
    for (i, img) in ready.iter().enumerate() {
        let (cx, cy) = (i as i64 % across, i as i64 / across);
        let mut cell = Rect::new(cx * (hs + shim), cy * (vs + shim), hs, vs);
        if cx != across - 1 {
            cell.width += shim;
        }
        if cy != down - 1 {
            cell.height += shim;
        }
        if i as i64 == n - 1 {
            cell.width = w as i64 - cell.x;
        }
        let (iw, ih) = (img.width() as i64, img.height() as i64);
        let placed = Rect::new(
            cell.x + o.halign.offset(hs, iw),
            cell.y + o.valign.offset(vs, ih),
            iw,
            ih,
        );
        pieces.push(Piece { placed, clip: cell });
    }
    let mut header = *ready[0].header();
    header.width = w;
    header.height = h;
    let ink = ink(name, &header, &o.background)?;
    Ok(Image::new(
        Layout {
            name,
            width: w,
            height: h,
            interpretation,
            ink,
            pieces,
            grid: Some(Grid {
                cell: (hs + shim, vs + shim),
                across,
            }),
        },
        ready,
    ))
}

// ---- catalogue ----

const COORD: ArgType = ArgType::int(-MAX_COORD, MAX_COORD);
const BACKGROUND: ArgDesc = ArgDesc::optional(
    "background",
    ArgType::Numbers,
    "0",
    "Colour of new pixels: one value for every band or one per band (rounded to f32, then clipped and truncated to the format, as libvips).",
);

fn align_arg(a: &gigapix_core::desc::Args, name: &'static str) -> Result<Align> {
    let v = a.choice(name)?;
    Align::from_name(v).ok_or_else(|| Error::invalid("join", format!("unknown alignment `{v}`")))
}

/// [`insert`] in the catalogue.
pub static INSERT: OpDesc = OpDesc::new(
    "insert",
    Category::Assembly,
    "Paints sub over the image with its top-left corner at (x, y)",
    &[
        ArgDesc::required("sub", ArgType::Image, "The image to paint on top."),
        ArgDesc::required("x", COORD, "Left edge of sub in the image (may be negative)."),
        ArgDesc::required("y", COORD, "Top edge of sub in the image (may be negative)."),
        ArgDesc::optional("expand", ArgType::Bool, "false", "Make the output the union of both images, not just the main image's area."),
        BACKGROUND,
    ],
    |input, a| {
        let o = InsertOptions::default()
            .expand(a.bool("expand")?)
            .background(a.numbers("background")?);
        Ok(insert(input_of(input)?, &a.image("sub")?, a.int("x")?, a.int("y")?, &o))
    },
)
.doc("libvips' `insert`. Both images are cast to their common format (libvips' table: u8 and i8 give i16, anything with f64 gives f64, ...) and a one-band image is copied into every band of the other. Regions inside sub, or inside the main image clear of sub, are views of the input's regions (no copy).")
.example("noise:32x24x3:1 40 30 expand=true background=255,0,0");

/// [`join`] in the catalogue.
pub static JOIN: OpDesc = OpDesc::new(
    "join",
    Category::Assembly,
    "Places in2 to the right of or below the image",
    &[
        ArgDesc::required("in2", ArgType::Image, "The second image."),
        ArgDesc::required("direction", ArgType::Enum(&["horizontal", "vertical"]), "horizontal puts in2 to the right, vertical below."),
        ArgDesc::optional("expand", ArgType::Bool, "false", "Keep all of both images; otherwise the output is cut to the smaller one across the join."),
        ArgDesc::optional("shim", ArgType::int(0, 1_000_000), "0", "Pixels of background between the images."),
        BACKGROUND,
        ArgDesc::optional("align", ArgType::Enum(Align::NAMES), "low", "How in2 lines up across the join: low (top or left), centre or high."),
    ],
    |input, a| {
        let d: Direction = a.choice("direction")?.parse().map_err(|e: String| Error::invalid("join", e))?;
        let o = JoinOptions::default()
            .expand(a.bool("expand")?)
            .shim(a.u32("shim")?)
            .background(a.numbers("background")?)
            .align(align_arg(a, "align")?);
        Ok(join(input_of(input)?, &a.image("in2")?, d, &o))
    },
)
.doc("libvips' `join`: an `insert` with `expand`, then (without `expand`) a crop to the smaller image's extent across the join. Formats and bands are made common as for `insert`.")
.example("noise:40x30x3:2 horizontal shim=4 align=centre expand=true");

/// [`arrayjoin`] in the catalogue.
pub static ARRAYJOIN: OpDesc = OpDesc::new(
    "arrayjoin",
    Category::Assembly,
    "Lays the image and images out in a grid (stitching tiles)",
    &[
        ArgDesc::required("images", ArgType::Images, "The other tiles, in order after the input: left to right, top to bottom."),
        ArgDesc::unset("across", ArgType::int(1, 1_000_000), "Tiles per row (default: all in one row)."),
        ArgDesc::optional("shim", ArgType::int(0, 1_000_000), "0", "Pixels of background between cells."),
        BACKGROUND,
        ArgDesc::optional("halign", ArgType::Enum(Align::NAMES), "low", "Where a tile sits across its cell: low (left), centre or high."),
        ArgDesc::optional("valign", ArgType::Enum(Align::NAMES), "low", "Where a tile sits down its cell: low (top), centre or high."),
        ArgDesc::unset("hspacing", ArgType::int(1, 1_000_000), "Cell width (default: the widest tile); wider tiles are cut."),
        ArgDesc::unset("vspacing", ArgType::int(1, 1_000_000), "Cell height (default: the tallest tile); taller tiles are cut."),
    ],
    |input, a| {
        let mut images = vec![input_of(input)?.clone()];
        images.extend(a.images("images")?);
        let mut o = ArrayjoinOptions::default()
            .shim(a.u32("shim")?)
            .background(a.numbers("background")?)
            .halign(align_arg(a, "halign")?)
            .valign(align_arg(a, "valign")?);
        if let Some(v) = a.opt_int("across")? {
            o = o.across(v as u32);
        }
        if let Some(v) = a.opt_int("hspacing")? {
            o = o.hspacing(v as u32);
        }
        if let Some(v) = a.opt_int("vspacing")? {
            o = o.vspacing(v as u32);
        }
        Ok(arrayjoin(&images, &o))
    },
)
.doc("libvips' `arrayjoin`. The last tile's cell stretches to the right edge. Formats and bands are made common (the background's length counts as a band count). A region asks only the tiles it overlaps, found from the grid, so thousands of tiles cost nothing extra; a region inside one tile is a view of the tile's region (no copy).")
.example("noise:64x48x3:2 noise:50x40x3:3 noise:64x48x1:4 across=2 shim=2 halign=centre");
