//! Histograms, lookup tables and whole-image reductions.
//!
//! A reduction (`hist_find`, `hist_cum`, `hist_norm`, `percent`) is a node whose small output is computed once,
//! the first time any region of it is asked for: the node pulls its whole
//! input in full-width strips, top to bottom (so a sequential source below
//! it is read in order, once), keeps the result (or the error) and serves
//! every region request from it. The pull is single-threaded (other
//! threads asking meanwhile wait). Its `need` is the input's first strip
//! whatever the output rectangle (see `first_strip`).

use std::sync::{Arc, Mutex};

use gigapix_core::{
    BandFormat, Error, ErrorKind, Header, Image, Inputs, Interpretation, Operation, Rect, Region,
    Result, Sample, dispatch_format,
};

use crate::geometry::{Extend, embed};

/// Rows per strip when a reduction pulls its input: about 256 KiB.
fn strip_rows(h: &Header) -> i64 {
    (262_144 / h.row_bytes().max(1)).clamp(1, 64) as i64
}

/// The first strip a reduction reads of an input of header `h`: what its
/// `need` reports for any output rectangle. The planner then sees a node
/// that reads from row 0 again when asked (true: the first request reads
/// everything from row 0), so it caches a sequential source another branch
/// also reads (`maplut(x, hist_find(x))`); the need does not grow with the
/// output, so there is no halo and no scale to distort tile sizes.
fn first_strip(h: &Header) -> Rect {
    Rect::new(0, 0, h.width as i64, strip_rows(h).min(h.height as i64))
}

/// Calls `f` on each full-width strip of input `index`, top to bottom, with
/// the strip's samples as `f64` (row-major, all bands).
pub(crate) fn for_each_strip(
    inputs: &mut Inputs<'_>,
    index: usize,
    mut f: impl FnMut(&Region) -> Result<()>,
) -> Result<()> {
    let h = *inputs.header(index);
    let rows = strip_rows(&h);
    let mut y = 0i64;
    while y < h.height as i64 {
        let n = rows.min(h.height as i64 - y);
        inputs.check_stop()?;
        let r = inputs.get(index, Rect::new(0, y, h.width as i64, n))?;
        f(&r)?;
        y += n;
    }
    Ok(())
}

/// A cached result: the output image's samples, or the error.
type Cached = std::result::Result<Arc<Vec<u8>>, (ErrorKind, String)>;

/// What a [`Reduction`] computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    HistFind(Option<u32>),
    HistCum,
    HistNorm,
    Percent(f64),
}

/// A whole-image reduction node (see the module docs).
#[derive(Debug)]
pub struct Reduction {
    kind: Kind,
    /// The result, computed by the first region request.
    cache: Mutex<Option<Cached>>,
}

pub(crate) fn reduction(kind: Kind, img: &Image) -> Image {
    Image::new(
        Reduction {
            kind,
            cache: Mutex::new(None),
        },
        vec![img.clone()],
    )
}

fn op_name(kind: Kind) -> &'static str {
    match kind {
        Kind::HistFind(_) => "hist_find",
        Kind::HistCum => "hist_cum",
        Kind::HistNorm => "hist_norm",
        Kind::Percent(_) => "percent",
    }
}

/// The output format of `hist_norm` for a histogram of `h`.
fn norm_format(h: &Header) -> BandFormat {
    let new_max = h.pixels().saturating_sub(1);
    if new_max <= 255 {
        BandFormat::U8
    } else if new_max <= 65535 {
        BandFormat::U16
    } else {
        BandFormat::U32
    }
}

impl Operation for Reduction {
    type State = ();

    fn name(&self) -> &'static str {
        op_name(self.kind)
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        let name = op_name(self.kind);
        let value = Header::new(1, 1, 1, BandFormat::F64);
        Ok(match self.kind {
            Kind::HistFind(band) => {
                let bins = match h.format {
                    BandFormat::U8 => 256,
                    BandFormat::U16 => 65536,
                    f => {
                        return Err(Error::invalid(
                            name,
                            format!("needs a u8 or u16 image, not {f} (cast first)"),
                        ));
                    }
                };
                let bands = match band {
                    None => h.bands,
                    Some(b) if b < h.bands => 1,
                    Some(b) => {
                        return Err(Error::invalid(
                            name,
                            format!("band {b} is out of range for {} bands", h.bands),
                        ));
                    }
                };
                Header {
                    interpretation: Interpretation::Histogram,
                    ..Header::new(bins, 1, bands, BandFormat::U32)
                }
            }
            Kind::HistCum => {
                let f = if h.format.is_integer() {
                    if h.format.is_signed() {
                        BandFormat::I32
                    } else {
                        BandFormat::U32
                    }
                } else {
                    BandFormat::F64
                };
                Header {
                    interpretation: Interpretation::Histogram,
                    ..h.with_format(f)
                }
            }
            Kind::HistNorm => Header {
                interpretation: Interpretation::Histogram,
                ..h.with_format(norm_format(&h))
            },
            Kind::Percent(_) => match h.format {
                BandFormat::U8 | BandFormat::U16 => value,
                f => {
                    return Err(Error::invalid(
                        name,
                        format!("needs a u8 or u16 image, not {f}"),
                    ));
                }
            },
        })
    }

    /// Forgets a kept error (a cancelled or failed run), so the next run
    /// computes again; a kept result stays.
    fn configure(&self, _: &gigapix_core::PlanInfo) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(*cache, Some(Err(_))) {
            *cache = None;
        }
    }

    /// The input's first strip, whatever `out` (see the module docs).
    fn need(&self, _: Rect, _: usize, inputs: &[Header]) -> Rect {
        first_strip(&inputs[0])
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let data = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.is_none() {
                *cache = Some(
                    self.compute(inputs)
                        .map(Arc::new)
                        .map_err(|e| (e.kind(), e.message().to_string())),
                );
            }
            match cache.as_ref().expect("filled above") {
                Ok(d) => d.clone(),
                Err((kind, msg)) => {
                    return Err(Error::new(*kind, msg.clone()).with_operation(op_name(self.kind)));
                }
            }
        };
        let oh = *inputs.output_header();
        let px = oh.pixel_bytes();
        let mut dst = inputs.alloc(out);
        for y in out.y..out.bottom() {
            let start = (y as usize * oh.width as usize + out.x as usize) * px;
            let row = dst.row_bytes_mut(y);
            let n = row.len();
            row.copy_from_slice(&data[start..start + n]);
        }
        Ok(dst)
    }
}

/// Encodes `values` as samples of `format`.
fn encode(values: &[f64], format: BandFormat) -> Vec<u8> {
    let mut out = vec![0u8; values.len() * format.size()];
    dispatch_format!(format, T => {
        let s = format.size();
        for (chunk, v) in out.chunks_exact_mut(s).zip(values) {
            chunk.copy_from_slice(bytemuck_bytes(&T::from_f64(*v)));
        }
    });
    out
}

fn bytemuck_bytes<T: Sample>(v: &T) -> &[u8] {
    bytemuck::bytes_of(v)
}

/// The histogram of a u8/u16 region source: counts per band, `bins` wide.
fn find_hist(
    inputs: &mut Inputs<'_>,
    band: Option<u32>,
    bins: usize,
) -> Result<(Vec<Vec<u64>>, usize)> {
    let h = *inputs.header(0);
    let bands = h.bands as usize;
    let sel: Vec<usize> = match band {
        Some(b) => vec![b as usize],
        None => (0..bands).collect(),
    };
    let mut hist = vec![vec![0u64; bins]; sel.len()];
    let mut max_v = 0usize;
    for_each_strip(inputs, 0, |r| {
        let rect = r.rect();
        for y in rect.y..rect.bottom() {
            dispatch_format!(h.format, T => {
                let row = r.row::<T>(y);
                for px in row.chunks_exact(bands) {
                    for (k, &b) in sel.iter().enumerate() {
                        let v = px[b].to_f64() as usize;
                        hist[k][v] += 1;
                        max_v = max_v.max(v);
                    }
                }
            });
        }
        Ok(())
    })?;
    Ok((hist, max_v))
}

impl Reduction {
    fn compute(&self, inputs: &mut Inputs<'_>) -> Result<Vec<u8>> {
        let h = *inputs.header(0);
        let oh = *inputs.output_header();
        let bands = h.bands as usize;
        match self.kind {
            Kind::HistFind(band) => {
                let (hist, _) = find_hist(inputs, band, oh.width as usize)?;
                let mut v = Vec::with_capacity(oh.width as usize * hist.len());
                for x in 0..oh.width as usize {
                    for b in &hist {
                        v.push(b[x] as f64);
                    }
                }
                Ok(encode(&v, oh.format))
            }
            Kind::HistCum | Kind::HistNorm => {
                let mut all = Vec::with_capacity(h.pixels() as usize * bands);
                for_each_strip(inputs, 0, |r| {
                    let rect = r.rect();
                    for y in rect.y..rect.bottom() {
                        all.extend(h.format.samples_to_f64(r.row_bytes(y)));
                    }
                    Ok(())
                })?;
                if self.kind == Kind::HistCum {
                    // A one-column histogram is summed down the column.
                    let w = if h.width == 1 {
                        h.height as usize
                    } else {
                        h.width as usize
                    };
                    for row in all.chunks_exact_mut(w * bands) {
                        for x in 1..w {
                            for b in 0..bands {
                                row[x * bands + b] += row[(x - 1) * bands + b];
                            }
                        }
                    }
                } else {
                    let new_max = h.pixels().saturating_sub(1) as f64;
                    for b in 0..bands {
                        let max = all
                            .iter()
                            .skip(b)
                            .step_by(bands)
                            .fold(f64::MIN, |m, &v| m.max(v));
                        let scale = if max != 0.0 { new_max / max } else { 0.0 };
                        for v in all.iter_mut().skip(b).step_by(bands) {
                            // libvips' cast truncates.
                            *v = (*v * scale).trunc();
                        }
                    }
                }
                Ok(encode(&all, oh.format))
            }
            Kind::Percent(p) => {
                let bins = if h.format == BandFormat::U8 {
                    256
                } else {
                    65536
                };
                let (hist, max_v) = find_hist(inputs, None, bins)?;
                let width = if h.format == BandFormat::U8 {
                    256
                } else {
                    max_v + 1
                };
                // libvips' rule: the cumulative histogram normalised to
                // 0..width−1 (truncated), the first bin above p % of the
                // width, averaged over the bands and truncated.
                let total = h.pixels() as f64;
                let threshold = p / 100.0 * width as f64;
                let mut sum = 0.0;
                for b in &hist {
                    let mut cum = 0u64;
                    let mut at = width;
                    for (x, &c) in b.iter().enumerate().take(width) {
                        cum += c;
                        if (cum as f64 * (width - 1) as f64 / total).floor() > threshold {
                            at = x;
                            break;
                        }
                    }
                    sum += at as f64;
                }
                Ok(encode(
                    &[(sum / hist.len() as f64).trunc()],
                    BandFormat::F64,
                ))
            }
        }
    }
}

/// The histogram of a u8 or u16 image: one row of 256 (u8) or 65536 (u16)
/// u32 counts, one band per input band, or a single band for `band`.
/// Computed once, single-threaded, by pulling the image top to bottom.
///
/// libvips 8.18 sizes a u16 histogram (and a u8 one made with `band`) to
/// the largest value + 1; here the width is fixed when the graph is built,
/// so it is always 256 or 65536 (the extra columns are zero). This changes
/// `hist_norm`/`hist_equal` of u16 images: libvips scales to the image's
/// largest value, here to 65535.
///
/// ```
/// let h = gigapix_ops::hist::hist_find(&gigapix_ops::noise(8, 8, 3, 1), None);
/// assert_eq!((h.width(), h.bands()), (256, 3));
/// ```
pub fn hist_find(img: &Image, band: Option<u32>) -> Image {
    reduction(Kind::HistFind(band), img)
}

/// The cumulative histogram: u32 for unsigned integer input, i32 for
/// signed, f64 for floats (as libvips). A one-row histogram is summed along
/// the row, a one-column one down the column. libvips refuses images with
/// more than one row and column; here each row is summed on its own.
pub fn hist_cum(hist: &Image) -> Image {
    reduction(Kind::HistCum, hist)
}

/// Scales each band of a histogram so its maximum is the number of
/// histogram pixels − 1 (255 for a 256-column histogram), truncated, as u8,
/// u16 or u32 (the smallest format holding the new maximum), as libvips.
pub fn hist_norm(hist: &Image) -> Image {
    reduction(Kind::HistNorm, hist)
}

/// The threshold below which `percent` % of the pixels of a u8/u16 image
/// lie: a 1x1 f64 image (the mean over bands of the per-band thresholds,
/// as libvips).
pub fn percent(img: &Image, percent: f64) -> Image {
    reduction(Kind::Percent(percent), img)
}

/// Maps every pixel of `img` through the lookup table `lut`: a one-row
/// image of any width and bands; the output has the LUT's format. A
/// one-band LUT maps every band; a LUT of n bands maps a one-band image to
/// n bands, or each band of an n-band image through its own band. Indices
/// are the pixel values truncated to integers, clamped to the LUT's
/// columns (libvips clamps too).
pub fn maplut(img: &Image, lut: &Image) -> Image {
    Image::new(
        Maplut {
            cache: Mutex::new(None),
        },
        vec![img.clone(), lut.clone()],
    )
}

/// The operation of [`maplut`].
#[derive(Debug)]
pub struct Maplut {
    cache: Mutex<Option<Cached>>,
}

impl Operation for Maplut {
    type State = ();

    fn name(&self) -> &'static str {
        "maplut"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let (h, l) = (inputs[0], inputs[1]);
        if l.height != 1 {
            return Err(Error::invalid(
                "maplut",
                format!("the LUT must be one row high, not {}", l.height),
            ));
        }
        let bands = if l.bands == 1 || l.bands == h.bands {
            h.bands
        } else if h.bands == 1 {
            l.bands
        } else {
            return Err(Error::invalid(
                "maplut",
                format!(
                    "a LUT of {} bands does not fit an image of {} bands",
                    l.bands, h.bands
                ),
            ));
        };
        let mut out = h.with_bands(bands).with_format(l.format);
        if out.interpretation == Interpretation::Histogram {
            out.interpretation = Interpretation::guess(bands);
        }
        Ok(out)
    }

    /// Forgets a kept error (a cancelled or failed run), so the next run
    /// computes again; a kept result stays.
    fn configure(&self, _: &gigapix_core::PlanInfo) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(*cache, Some(Err(_))) {
            *cache = None;
        }
    }

    fn need(&self, out: Rect, index: usize, inputs: &[Header]) -> Rect {
        // The LUT is read whole by the node itself, once.
        if index == 0 {
            out
        } else {
            first_strip(&inputs[1])
        }
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let lut = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.is_none() {
                let l = *inputs.header(1);
                *cache = Some(
                    inputs
                        .get(1, l.rect())
                        .map(|r| Arc::new(r.row_bytes(0).to_vec()))
                        .map_err(|e| (e.kind(), e.message().to_string())),
                );
            }
            match cache.as_ref().expect("filled above") {
                Ok(d) => d.clone(),
                Err((k, m)) => return Err(Error::new(*k, m.clone()).with_operation("maplut")),
            }
        };
        let (h, l) = (*inputs.header(0), *inputs.header(1));
        let ob = inputs.output_header().bands as usize;
        let src = inputs.get(0, out)?;
        let mut dst = inputs.alloc(out);
        let (ib, lb, lw) = (h.bands as usize, l.bands as usize, l.width as usize);
        let s = l.format.size();
        let idx = |v: f64| -> usize {
            if v.is_nan() || v <= 0.0 {
                0
            } else {
                (v as usize).min(lw - 1)
            }
        };
        dispatch_format!(h.format, T => {
            for y in out.y..out.bottom() {
                let inv = src.row::<T>(y);
                let row = dst.row_bytes_mut(y);
                for (x, px) in inv.chunks_exact(ib).enumerate() {
                    for b in 0..ob {
                        let (v, lband) = if ib == 1 {
                            (px[0], b)
                        } else {
                            (px[b], if lb == 1 { 0 } else { b })
                        };
                        let at = (idx(v.to_f64()) * lb + lband) * s;
                        let o = (x * ob + b) * s;
                        row[o..o + s].copy_from_slice(&lut[at..at + s]);
                    }
                }
            }
        });
        Ok(dst)
    }
}

/// Histogram equalisation, as libvips: `maplut(img, hist_norm(hist_cum(
/// hist_find(img, band))))`. u8 or u16 input.
pub fn hist_equal(img: &Image, band: Option<u32>) -> Image {
    maplut(img, &hist_norm(&hist_cum(&hist_find(img, band))))
}

/// Local histogram equalisation (CLAHE when `max_slope` > 0), as libvips'
/// `hist_local`: each u8 output pixel is 255 × (pixels of its `width` ×
/// `height` window, mirrored at the edges, not above it) / window area,
/// truncated. With `max_slope` > 0 each histogram bin is clipped at
/// `max_slope` and the excess spread evenly over the 256 bins.
pub fn hist_local(img: &Image, width: u32, height: u32, max_slope: u32) -> Image {
    let h = img.header();
    let (w, ht) = (width.max(1), height.max(1));
    let padded = embed(
        img,
        (w / 2) as i64,
        (ht / 2) as i64,
        h.width + w - 1,
        h.height + ht - 1,
        Extend::Mirror,
    );
    Image::new(
        HistLocal {
            width: w,
            height: ht,
            max_slope,
        },
        vec![padded],
    )
}

/// The operation of [`hist_local`], on the mirrored input.
#[derive(Debug)]
pub struct HistLocal {
    width: u32,
    height: u32,
    max_slope: u32,
}

impl Operation for HistLocal {
    type State = ();

    fn name(&self) -> &'static str {
        "hist_local"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        if h.format != BandFormat::U8 {
            return Err(Error::invalid(
                "hist_local",
                format!("needs a u8 image, not {}", h.format),
            ));
        }
        Ok(h.with_size(h.width + 1 - self.width, h.height + 1 - self.height))
    }

    fn demand(&self) -> gigapix_core::DemandHint {
        gigapix_core::DemandHint::FatStrip
    }

    fn need(&self, out: Rect, _: usize, _: &[Header]) -> Rect {
        Rect::new(
            out.x,
            out.y,
            out.width + self.width as i64 - 1,
            out.height + self.height as i64 - 1,
        )
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let bands = inputs.header(0).bands as usize;
        let need = self.need(out, 0, &[]);
        let src = inputs.get(0, need)?;
        let mut dst = inputs.alloc(out);
        let (ww, wh) = (self.width as usize, self.height as usize);
        let area = (ww * wh) as u64;
        let limit = self.max_slope as u64;
        let mut hist = vec![[0u32; 256]; bands];
        for y in out.y..out.bottom() {
            for hb in hist.iter_mut() {
                hb.fill(0);
            }
            // The window's rows, looked up once per output row.
            let rows: Vec<&[u8]> = (0..wh as i64).map(|wy| src.row::<u8>(y + wy)).collect();
            // The first window of the row.
            for row in &rows {
                for px in row[..ww * bands].chunks_exact(bands) {
                    for (b, &v) in px.iter().enumerate() {
                        hist[b][v as usize] += 1;
                    }
                }
            }
            let centre_dy = (self.height / 2) as usize;
            let centre_dx = (self.width / 2) as usize;
            let crow = rows[centre_dy];
            let orow = dst.row_mut::<u8>(y);
            for x in 0..out.width as usize {
                if x > 0 {
                    // Slide right: drop column x - 1, add column x + ww - 1.
                    let (drop, add) = ((x - 1) * bands, (x + ww - 1) * bands);
                    for row in &rows {
                        for (b, hb) in hist.iter_mut().enumerate() {
                            hb[row[drop + b] as usize] -= 1;
                            hb[row[add + b] as usize] += 1;
                        }
                    }
                }
                for b in 0..bands {
                    let target = crow[(x + centre_dx) * bands + b] as usize;
                    let hb = &hist[b];
                    let sum: u64 = if limit == 0 {
                        hb[..=target].iter().map(|&c| c as u64).sum()
                    } else {
                        let mut over = 0u64;
                        let mut sum = 0u64;
                        for (i, &c) in hb.iter().enumerate() {
                            let c = c as u64;
                            if c > limit {
                                over += c - limit;
                            }
                            if i <= target {
                                sum += c.min(limit);
                            }
                        }
                        sum + (target as u64 + 1) * over / 256
                    };
                    orow[x * bands + b] = (255 * sum / area).min(255) as u8;
                }
            }
        }
        Ok(dst)
    }
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[
    &HIST_FIND,
    &HIST_CUM,
    &HIST_NORM,
    &HIST_EQUAL,
    &HIST_LOCAL,
    &MAPLUT,
    &PERCENT,
];

fn opt_band(a: &gigapix_core::desc::Args) -> Result<Option<u32>> {
    Ok(a.opt_int("band")?.map(|b| b as u32))
}

/// [`hist_find`] in the catalogue.
pub static HIST_FIND: OpDesc = OpDesc::new(
    "hist_find",
    Category::Histogram,
    "The histogram of a u8 or u16 image",
    &[ArgDesc::unset(
        "band",
        ArgType::int(0, 1023),
        "Count only this band (default: every band).",
    )],
    |input, a| Ok(hist_find(input_of(input)?, opt_band(a)?)),
)
.doc("One row of 256 (u8) or 65536 (u16) u32 counts. Computed once, single-threaded.")
.example("band=0");

/// [`hist_cum`] in the catalogue.
pub static HIST_CUM: OpDesc = OpDesc::new(
    "hist_cum",
    Category::Histogram,
    "The cumulative histogram",
    &[],
    |input, _| Ok(hist_cum(input_of(input)?)),
)
.doc("Sums along each row; u32 for unsigned input, i32 for signed, f64 for floats.");

/// [`hist_norm`] in the catalogue.
pub static HIST_NORM: OpDesc = OpDesc::new(
    "hist_norm",
    Category::Histogram,
    "A histogram scaled so its maximum is its number of pixels − 1",
    &[],
    |input, _| Ok(hist_norm(input_of(input)?)),
)
.doc("Per band, truncated, as u8/u16/u32 (the smallest that holds the new maximum).");

/// [`hist_equal`] in the catalogue.
pub static HIST_EQUAL: OpDesc = OpDesc::new(
    "hist_equal",
    Category::Histogram,
    "Histogram equalisation of a u8 or u16 image",
    &[ArgDesc::unset(
        "band",
        ArgType::int(0, 1023),
        "Equalise with this band's histogram (default: each band its own).",
    )],
    |input, a| Ok(hist_equal(input_of(input)?, opt_band(a)?)),
)
.example("band=1");

/// [`hist_local`] in the catalogue.
pub static HIST_LOCAL: OpDesc = OpDesc::new(
    "hist_local",
    Category::Histogram,
    "Local histogram equalisation (CLAHE) of a u8 image",
    &[
        ArgDesc::required("width", ArgType::int(1, 1024), "Window width."),
        ArgDesc::required("height", ArgType::int(1, 1024), "Window height."),
        ArgDesc::optional(
            "max_slope",
            ArgType::int(0, 100),
            "0",
            "Clip limit per histogram bin (0: plain local equalisation).",
        ),
    ],
    |input, a| {
        Ok(hist_local(
            input_of(input)?,
            a.u32("width")?,
            a.u32("height")?,
            a.u32("max_slope")?,
        ))
    },
)
.example("9 7 max_slope=3");

/// [`maplut`] in the catalogue.
pub static MAPLUT: OpDesc = OpDesc::new(
    "maplut",
    Category::Histogram,
    "Maps pixels through a lookup table",
    &[ArgDesc::required(
        "lut",
        ArgType::Image,
        "The table: one row, any width and bands; the output takes its format.",
    )],
    |input, a| Ok(maplut(input_of(input)?, &a.image("lut")?)),
)
.doc("Indices are the pixel values truncated, clamped to the table's columns.")
.example("noise:256x1x3:5");

/// [`percent`] in the catalogue.
pub static PERCENT: OpDesc = OpDesc::new(
    "percent",
    Category::Measure,
    "The value below which percent % of the pixels lie",
    &[ArgDesc::required(
        "percent",
        ArgType::float(0.0, 100.0),
        "The percentage of pixels.",
    )],
    |input, a| Ok(percent(input_of(input)?, a.float("percent")?)),
)
.values()
.example("50");

/// Options of [`hist_find`] and [`hist_equal`] (facade `_with` methods).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct HistOptions {
    /// Use only this band (default: every band).
    pub band: Option<u32>,
}

impl HistOptions {
    /// Sets [`band`](HistOptions::band).
    pub fn band(mut self, band: u32) -> HistOptions {
        self.band = Some(band);
        self
    }
}

/// Options of [`hist_local`] (facade `hist_local_with`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct HistLocalOptions {
    /// Clip limit per bin, 0 (the default) for none.
    pub max_slope: u32,
}

impl HistLocalOptions {
    /// Sets [`max_slope`](HistLocalOptions::max_slope).
    pub fn max_slope(mut self, max_slope: u32) -> HistLocalOptions {
        self.max_slope = max_slope;
        self
    }
}
