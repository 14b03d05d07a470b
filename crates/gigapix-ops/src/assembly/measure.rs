//! The measurements `getpoint` and `find_trim`.

use gigapix_core::{
    BandFormat, Error, Header, Image, Inputs, Interpretation, Operation, Rect, Region, Result,
};

use super::{Once, failed, has_alpha, max_alpha, row_f64, strip_rows};
use crate::catalogue::prelude::*;

/// The values of pixel `(x, y)` of `img` as a 1 × 1 `f64` image with
/// `img`'s bands (libvips' `getpoint`). A point outside the image makes
/// the image invalid.
///
/// ```
/// use gigapix_core::{Ctx, Rect};
/// let p = gigapix_ops::assembly::getpoint(&gigapix_ops::xyz(10, 10), 3, 7);
/// let r = Ctx::standalone().region(&p, Rect::new(0, 0, 1, 1))?;
/// assert_eq!(r.row::<f64>(0), &[3.0, 7.0]);
/// # Ok::<(), gigapix_core::Error>(())
/// ```
pub fn getpoint(img: &Image, x: u32, y: u32) -> Image {
    Image::new(GetPoint { x, y }, vec![img.clone()])
}

/// A 1 × 1 image of `bands` bands of `format`, for values.
fn values_header(bands: u32, format: BandFormat) -> Header {
    Header {
        interpretation: Interpretation::Multiband,
        ..Header::new(1, 1, bands, format)
    }
}

/// The operation of [`getpoint`].
#[derive(Debug)]
struct GetPoint {
    x: u32,
    y: u32,
}

impl Operation for GetPoint {
    type State = ();

    fn name(&self) -> &'static str {
        "getpoint"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        if self.x >= h.width || self.y >= h.height {
            return Err(Error::invalid(
                "getpoint",
                format!(
                    "the point ({}, {}) lies outside the {}x{} image",
                    self.x, self.y, h.width, h.height
                ),
            ));
        }
        Ok(values_header(h.bands, BandFormat::F64))
    }

    fn need(&self, _out: Rect, _: usize, _: &[Header]) -> Rect {
        Rect::new(self.x as i64, self.y as i64, 1, 1)
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let src = inputs.get(0, inputs.need(out, 0))?;
        let mut values = Vec::new();
        row_f64(&src, self.y as i64, &mut values);
        let mut dst = inputs.alloc(out);
        dst.row_mut::<f64>(0).copy_from_slice(&values);
        Ok(dst)
    }
}

/// Options of [`find_trim`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FindTrimOptions {
    /// How far from the background a value must be to count as content
    /// (default 10).
    pub threshold: f64,
    /// The background: one value for every band or one per band (default:
    /// libvips' white, 255; 65535 for `u16` images, 1 for scRGB ones).
    pub background: Option<Vec<f64>>,
    /// Skip the 3 × 3 median that filters out noise first (for synthetic
    /// images).
    pub line_art: bool,
}

impl Default for FindTrimOptions {
    fn default() -> FindTrimOptions {
        FindTrimOptions {
            threshold: 10.0,
            background: None,
            line_art: false,
        }
    }
}

impl FindTrimOptions {
    /// Sets [`threshold`](FindTrimOptions::threshold).
    pub fn threshold(mut self, threshold: f64) -> FindTrimOptions {
        self.threshold = threshold;
        self
    }

    /// Sets [`background`](FindTrimOptions::background).
    pub fn background(mut self, background: impl Into<Vec<f64>>) -> FindTrimOptions {
        self.background = Some(background.into());
        self
    }

    /// Sets [`line_art`](FindTrimOptions::line_art).
    pub fn line_art(mut self, line_art: bool) -> FindTrimOptions {
        self.line_art = line_art;
        self
    }
}

/// The bounding box of what is not background in `img` (libvips'
/// `find_trim`), as a 1 × 1 four-band `u32` image: left, top, width,
/// height. An image that is all background gives width and height 0 (and
/// left, top its width and height, as libvips).
///
/// As libvips: alpha is flattened out against the background, a 3 × 3
/// median filters noise (edges copied; unless `line_art`; the image must
/// then be at least 3 × 3), then a pixel
/// counts when any band differs from the background by more than
/// `threshold` (differences in `f32`, as libvips' `linear` makes them).
///
/// The node reads its whole input once, the first time its pixel is
/// asked for, in full-width strips of a few rows top to bottom (two rows
/// more for the median), on the calling thread, and keeps the result. Its
/// [`need`](Operation::need) is the first strip whatever the output
/// rectangle, so the planner sees no halo, no scale and no reach over the
/// whole height.
///
/// ```
/// use gigapix_core::{Ctx, Rect};
/// use gigapix_ops::assembly::{FindTrimOptions, find_trim, insert, InsertOptions};
/// let img = insert(&gigapix_ops::black(40, 30, 1), &gigapix_ops::linear(&gigapix_ops::black(5, 4, 1), &[1.0], &[200.0]),
///     10, 20, &InsertOptions::default());
/// let t = find_trim(&img, &FindTrimOptions::default().background([0.0]));
/// let r = Ctx::standalone().region(&t, Rect::new(0, 0, 1, 1))?;
/// assert_eq!(r.row::<u32>(0), &[10, 20, 5, 4]);
/// # Ok::<(), gigapix_core::Error>(())
/// ```
pub fn find_trim(img: &Image, options: &FindTrimOptions) -> Image {
    let name = "find_trim";
    let h = *img.header();
    if img.check().is_err() {
        return img.clone();
    }
    let background = options
        .background
        .clone()
        .unwrap_or_else(|| vec![max_alpha(&h)]);
    let input = if has_alpha(&h) {
        crate::composite::flatten(img, &background)
    } else {
        img.clone()
    };
    let bands = input.bands() as usize;
    let n = background.len();
    if n == 0 || (n != 1 && n != bands && bands != 1) {
        return failed(
            name,
            Error::invalid(
                name,
                format!(
                    "the background has {n} values for an image of {bands} bands (give 1 or {bands})"
                ),
            ),
            std::slice::from_ref(img),
        );
    }
    if !options.line_art && (h.width < 3 || h.height < 3) {
        return failed(
            name,
            Error::invalid(
                name,
                format!(
                    "the {}x{} image is smaller than the 3x3 median (set line_art)",
                    h.width, h.height
                ),
            ),
            std::slice::from_ref(img),
        );
    }
    if options.threshold.is_nan() || options.threshold < 0.0 {
        return failed(
            name,
            Error::invalid(
                name,
                format!("threshold {} must be at least 0", options.threshold),
            ),
            std::slice::from_ref(img),
        );
    }
    Image::new(
        FindTrim {
            threshold: options.threshold,
            background,
            line_art: options.line_art,
            result: Once::default(),
        },
        vec![input],
    )
}

/// The operation of [`find_trim`].
#[derive(Debug)]
struct FindTrim {
    threshold: f64,
    background: Vec<f64>,
    line_art: bool,
    result: Once<[u32; 4]>,
}

impl FindTrim {
    /// The margin of rows the median reads above and below.
    fn margin(&self) -> i64 {
        if self.line_art { 0 } else { 1 }
    }

    /// The backgrounds band `k` of the classes of a pixel compares with:
    /// `(band, background)` pairs (a one-band image against several
    /// values: one pair per value).
    fn targets(&self, bands: usize) -> Vec<(usize, f64)> {
        match self.background.len() {
            1 => (0..bands).map(|b| (b, self.background[0])).collect(),
            _ if bands == 1 => self.background.iter().map(|&bg| (0, bg)).collect(),
            _ => (0..bands).map(|b| (b, self.background[b])).collect(),
        }
    }

    /// Where value `v` lies from `bg`, in libvips' arithmetic (`linear`
    /// to `f32`, `f64` kept; the comparison in `f64`): 1 more than the
    /// threshold above, −1 below, else 0.
    fn class(&self, v: f64, bg: f64, format: BandFormat) -> i8 {
        let d = if format == BandFormat::F64 {
            v - bg
        } else {
            ((v as f32 as f64) + -bg) as f32 as f64
        };
        if d > self.threshold {
            1
        } else if -d > self.threshold {
            -1
        } else {
            0
        }
    }

    /// The median of a 3 × 3 window differs from the background by more
    /// than the threshold exactly when at least 5 of its 9 values lie
    /// beyond it on the same side (the difference is monotone in the
    /// value, `f32` rounding included), so each value is classified once
    /// and the window counts classes: the same answer as libvips' median
    /// then threshold, without sorting.
    fn compute(&self, inputs: &mut Inputs<'_>) -> Result<[u32; 4]> {
        let h = *inputs.header(0);
        let (w, ht) = (h.width as i64, h.height as i64);
        let wu = w as usize;
        let bands = h.bands as usize;
        let targets = self.targets(bands);
        let k = targets.len();
        let rows = strip_rows(&h);
        let m = self.margin();
        let mut columns = vec![false; wu];
        let (mut first_row, mut last_row) = (None, None);
        let mut values = Vec::new();
        // Classes of the fetched rows: `[x * k + t]`.
        let mut classes: Vec<Vec<i8>> = Vec::new();
        let mut sums = vec![(0u8, 0u8); wu * k];
        let mut y0 = 0;
        while y0 < ht {
            let y1 = (y0 + rows).min(ht);
            let (a, b) = ((y0 - m).max(0), (y1 + m).min(ht));
            let region = inputs.get(0, Rect::new(0, a, w, b - a))?;
            classes.resize_with((b - a) as usize, Vec::new);
            for (i, y) in (a..b).enumerate() {
                row_f64(&region, y, &mut values);
                let c = &mut classes[i];
                c.clear();
                for px in values.chunks_exact(bands) {
                    c.extend(
                        targets
                            .iter()
                            .map(|&(band, bg)| self.class(px[band], bg, h.format)),
                    );
                }
            }
            // Edges copied: rows outside the image are its first or last.
            let line = |y: i64| &classes[(y.clamp(a, b - 1) - a) as usize];
            for y in y0..y1 {
                let (up, mid, down) = (line(y - 1), line(y), line(y + 1));
                if !self.line_art {
                    // Per column and target: how many of the three rows lie
                    // above, and below.
                    for (i, s) in sums.iter_mut().enumerate() {
                        let count = |c: i8| {
                            [up[i], mid[i], down[i]].iter().filter(|&&v| v == c).count() as u8
                        };
                        *s = (count(1), count(-1));
                    }
                }
                let mut any = false;
                for (x, column) in columns.iter_mut().enumerate() {
                    let hit = if self.line_art {
                        mid[x * k..(x + 1) * k].iter().any(|&c| c != 0)
                    } else {
                        let (l, r) = (x.saturating_sub(1), (x + 1).min(wu - 1));
                        (0..k).any(|t| {
                            let (a, b, c) = (sums[l * k + t], sums[x * k + t], sums[r * k + t]);
                            a.0 + b.0 + c.0 >= 5 || a.1 + b.1 + c.1 >= 5
                        })
                    };
                    if hit {
                        *column = true;
                        any = true;
                    }
                }
                if any {
                    first_row.get_or_insert(y);
                    last_row = Some(y);
                }
            }
            y0 = y1;
        }
        let left = columns.iter().position(|&c| c).unwrap_or(wu) as i64;
        let right = columns.iter().rev().position(|&c| c).unwrap_or(wu) as i64;
        let top = first_row.unwrap_or(ht);
        let bottom = last_row.map_or(ht, |l| ht - 1 - l);
        Ok([
            left as u32,
            top as u32,
            (w - right - left).max(0) as u32,
            (ht - bottom - top).max(0) as u32,
        ])
    }
}

impl Operation for FindTrim {
    type State = ();

    fn name(&self) -> &'static str {
        "find_trim"
    }

    fn header(&self, _inputs: &[Header]) -> Result<Header> {
        Ok(values_header(4, BandFormat::U32))
    }

    fn need(&self, _out: Rect, _: usize, inputs: &[Header]) -> Rect {
        // See `find_trim`'s docs.
        let h = inputs[0];
        let rows = (strip_rows(&h) + self.margin()).min(h.height as i64);
        Rect::new(0, 0, h.width as i64, rows)
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let v = self.result.get(|| self.compute(inputs))?;
        let mut dst = inputs.alloc(out);
        dst.row_mut::<u32>(0).copy_from_slice(&v);
        Ok(dst)
    }
}

// ---- catalogue ----

/// [`getpoint`] in the catalogue.
pub static GETPOINT: OpDesc = OpDesc::new(
    "getpoint",
    Category::Measure,
    "The values of the pixel at (x, y)",
    &[
        ArgDesc::required("x", ArgType::int(0, i32::MAX as i64), "Column."),
        ArgDesc::required("y", ArgType::int(0, i32::MAX as i64), "Row."),
    ],
    |input, a| Ok(getpoint(input_of(input)?, a.u32("x")?, a.u32("y")?)),
)
.doc("libvips' `getpoint`: one value per band, as f64 (a 1x1 image whose samples are printed).")
.values()
.example("3 4");

/// [`find_trim`] in the catalogue.
pub static FIND_TRIM: OpDesc = OpDesc::new(
    "find_trim",
    Category::Measure,
    "The bounding box of what is not background: left, top, width, height",
    &[
        ArgDesc::optional("threshold", ArgType::float(0.0, f64::INFINITY), "10", "How far from the background a value must be to count."),
        ArgDesc::unset("background", ArgType::Numbers, "The background: one value for every band or one per band (default 255, 65535 for u16 images, 1 for scRGB, as libvips)."),
        ArgDesc::optional("line_art", ArgType::Bool, "false", "Skip the 3x3 median that filters noise (for synthetic images)."),
    ],
    |input, a| {
        let mut o = FindTrimOptions::default()
            .threshold(a.float("threshold")?)
            .line_art(a.bool("line_art")?);
        if let Some(bg) = a.opt_numbers("background")? {
            o = o.background(bg);
        }
        Ok(find_trim(input_of(input)?, &o))
    },
)
.doc("libvips' `find_trim`: alpha flattened against the background, a 3x3 median (edges copied) unless line_art, then the first and last rows and columns where any band differs from the background by more than threshold. All background gives width and height 0. The whole image is read once, in strips top to bottom.")
.values()
.example("threshold=20 background=0");
