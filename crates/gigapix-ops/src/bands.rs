//! Band operations: taking bands apart and putting them together.

use gigapix_core::{
    BandFormat, Error, Header, Image, Inputs, Operation, Rect, Region, Result, Sample,
    dispatch_format,
};

use crate::pixel::px_size;

/// Calls `$f::<T, N>(args...)` with `N` = `$n` for small band counts (so
/// per-pixel copies have a constant length) and `N` = 0, meaning "use the
/// runtime count", for the others.
macro_rules! with_band_count {
    ($n:expr, $f:ident::<$t:ty>($($arg:expr),* $(,)?)) => {
        match $n {
            1 => $f::<$t, 1>($($arg),*),
            2 => $f::<$t, 2>($($arg),*),
            3 => $f::<$t, 3>($($arg),*),
            4 => $f::<$t, 4>($($arg),*),
            _ => $f::<$t, 0>($($arg),*),
        }
    };
}

/// Bands `band .. band + n` of `img`. An empty or out-of-range band range
/// makes the image invalid.
///
/// ```
/// let y = gigapix_ops::extract_band(&gigapix_ops::xyz(4, 4), 1, 1);
/// assert_eq!(y.bands(), 1);
/// assert!(gigapix_ops::extract_band(&y, 1, 1).check().is_err());
/// ```
pub fn extract_band(img: &Image, band: u32, n: u32) -> Image {
    Image::new(ExtractBand { band, n }, vec![img.clone()])
}

/// The bands of `images`, one after the other. Every image must have the
/// same width, height and band format (nothing is cast for you), and there
/// must be at least one.
///
/// ```
/// use gigapix_ops::{bandjoin, noise, xyz};
/// assert_eq!(bandjoin(&[noise(8, 8, 3, 1), noise(8, 8, 1, 2)]).bands(), 4);
/// // Different formats: cast first.
/// assert!(bandjoin(&[noise(8, 8, 3, 1), xyz(8, 8)]).check().is_err());
/// ```
pub fn bandjoin(images: &[Image]) -> Image {
    Image::new(Bandjoin, images.to_vec())
}

/// The operation of [`extract_band`].
#[derive(Debug)]
pub struct ExtractBand {
    band: u32,
    n: u32,
}

impl Operation for ExtractBand {
    type State = ();

    fn name(&self) -> &'static str {
        "extract_band"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        let end = self.band as u64 + self.n as u64;
        if self.n == 0 || end > h.bands as u64 {
            return Err(Error::invalid(
                "extract_band",
                format!(
                    "bands {}..{end} are out of range for an image of {} bands",
                    self.band, h.bands
                ),
            ));
        }
        // All bands: the same header (`with_bands` would guess the
        // interpretation again).
        Ok(if self.n == h.bands {
            h
        } else {
            h.with_bands(self.n)
        })
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = *inputs.header(0);
        let src = inputs.get(0, out)?;
        if self.n == h.bands {
            return Ok(src);
        }
        let mut dst = inputs.alloc(out);
        let (band, n, bands) = (self.band as usize, self.n as usize, h.bands as usize);
        dispatch_format!(h.format, T => with_band_count!(n, extract_kernel::<T>(&src, &mut dst, band, n, bands)));
        Ok(dst)
    }
}

/// Copies bands `band .. band + n` of each pixel of `src` to `dst`.
fn extract_kernel<T: Sample, const N: usize>(
    src: &Region,
    dst: &mut Region,
    band: usize,
    n: usize,
    bands: usize,
) {
    let n = px_size::<N>(n);
    let rect = src.rect();
    for y in rect.y..rect.bottom() {
        let (d, s) = (dst.row_mut::<T>(y), src.row::<T>(y));
        for (dp, sp) in d.chunks_exact_mut(n).zip(s.chunks_exact(bands)) {
            dp.copy_from_slice(&sp[band..band + n]);
        }
    }
}

/// The operation of [`bandjoin`].
#[derive(Debug)]
pub struct Bandjoin;

impl Operation for Bandjoin {
    type State = ();

    fn name(&self) -> &'static str {
        "bandjoin"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let Some(first) = inputs.first() else {
            return Err(Error::invalid("bandjoin", "needs at least one image"));
        };
        let mut bands = 0u64;
        for (i, h) in inputs.iter().enumerate() {
            if (h.width, h.height) != (first.width, first.height) {
                return Err(Error::invalid(
                    "bandjoin",
                    format!(
                        "image {i} is {}x{}, image 0 is {}x{}: all images must have the same size",
                        h.width, h.height, first.width, first.height
                    ),
                ));
            }
            if h.format != first.format {
                return Err(Error::invalid(
                    "bandjoin",
                    format!(
                        "image {i} is {}, image 0 is {}: all images must have the same format (cast first)",
                        h.format, first.format
                    ),
                ));
            }
            bands += h.bands as u64;
        }
        let bands =
            u32::try_from(bands).map_err(|_| Error::invalid("bandjoin", "too many bands"))?;
        Ok(if bands == first.bands {
            *first
        } else {
            first.with_bands(bands)
        })
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        if inputs.len() == 1 {
            return inputs.get(0, out);
        }
        let total = inputs.output_header().bands as usize;
        let format = inputs.output_header().format;
        let mut dst = inputs.alloc(out);
        let mut offset = 0;
        for i in 0..inputs.len() {
            let bands = inputs.header(i).bands as usize;
            let src = inputs.get(i, out)?;
            dispatch_format!(format, T => with_band_count!(bands, join_kernel::<T>(&src, &mut dst, offset, bands, total)));
            offset += bands;
        }
        Ok(dst)
    }
}

/// Copies the `bands` bands of `src` to bands `offset ..` of `dst`.
fn join_kernel<T: Sample, const N: usize>(
    src: &Region,
    dst: &mut Region,
    offset: usize,
    bands: usize,
    total: usize,
) {
    let n = px_size::<N>(bands);
    let rect = src.rect();
    for y in rect.y..rect.bottom() {
        let (d, s) = (dst.row_mut::<T>(y), src.row::<T>(y));
        for (dp, sp) in d.chunks_exact_mut(total).zip(s.chunks_exact(n)) {
            dp[offset..offset + n].copy_from_slice(sp);
        }
    }
}

use crate::catalogue::prelude::*;

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[
    &EXTRACT_BAND,
    &BANDJOIN,
    &BANDJOIN_CONST,
    &BANDMEAN,
    &BANDBOOL,
    &BANDFOLD,
    &BANDUNFOLD,
];

/// [`extract_band`] in the catalogue.
pub static EXTRACT_BAND: OpDesc = OpDesc::new(
    "extract_band",
    Category::Bands,
    "Bands band .. band + n of the image",
    &[
        ArgDesc::required("band", ArgType::int(0, 1023), "The first band, from 0."),
        ArgDesc::optional("n", ArgType::int(1, 1024), "1", "How many bands."),
    ],
    |input, a| Ok(extract_band(input_of(input)?, a.u32("band")?, a.u32("n")?)),
)
.example("1 n=2");

/// [`bandjoin`] in the catalogue.
pub static BANDJOIN: OpDesc = OpDesc::new(
    "bandjoin",
    Category::Bands,
    "The input's bands followed by those of the other images",
    &[ArgDesc::required(
        "images",
        ArgType::Images,
        "The images to append, of the same size.",
    )],
    |input, a| {
        let mut all = vec![input_of(input)?.clone()];
        all.extend(a.images("images")?);
        let common = all
            .iter()
            .fold(all[0].format(), |f, i| BandFormat::common(f, i.format()));
        let all: Vec<Image> = all.iter().map(|i| crate::point::cast(i, common)).collect();
        Ok(bandjoin(&all))
    },
)
.doc("Formats are brought to their common format (libvips' rule) before joining.")
.example("noise:64x48x1:3");

/// `img` with constant bands appended, one per value of `values`, in
/// `img`'s format (constants are truncated towards zero and clamped for
/// integer formats, as libvips casts them).
///
/// ```
/// let a = gigapix_ops::bands::bandjoin_const(&gigapix_ops::noise(4, 4, 3, 1), &[255.0]);
/// assert_eq!(a.bands(), 4);
/// ```
pub fn bandjoin_const(img: &Image, values: &[f64]) -> Image {
    Image::new(
        BandjoinConst {
            values: values.to_vec(),
        },
        vec![img.clone()],
    )
}

/// The operation of [`bandjoin_const`].
#[derive(Debug)]
pub struct BandjoinConst {
    values: Vec<f64>,
}

impl Operation for BandjoinConst {
    type State = ();

    fn name(&self) -> &'static str {
        "bandjoin_const"
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        if self.values.is_empty() {
            return Err(Error::invalid("bandjoin_const", "needs at least one value"));
        }
        Ok(inputs[0].with_bands(inputs[0].bands + self.values.len() as u32))
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = *inputs.header(0);
        let src = inputs.get(0, out)?;
        let mut dst = inputs.alloc(out);
        let (ib, ob) = (h.bands as usize, inputs.output_header().bands as usize);
        let s = h.format.size();
        let consts: Vec<f64> = self
            .values
            .iter()
            .map(|&v| if h.format.is_integer() { v.trunc() } else { v })
            .collect();
        let mut cbytes = vec![0u8; consts.len() * s];
        dispatch_format!(h.format, T => {
            for (c, v) in cbytes.chunks_exact_mut(s).zip(&consts) {
                c.copy_from_slice(bytemuck::bytes_of(&T::from_f64(*v)));
            }
        });
        for y in out.y..out.bottom() {
            let (d, sr) = (dst.row_bytes_mut(y), src.row_bytes(y));
            for (dp, sp) in d.chunks_exact_mut(ob * s).zip(sr.chunks_exact(ib * s)) {
                dp[..ib * s].copy_from_slice(sp);
                dp[ib * s..].copy_from_slice(&cbytes);
            }
        }
        Ok(dst)
    }
}

/// What [`bandbool`] combines the bands with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandBool {
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise exclusive or.
    Eor,
}

/// The mean of the bands of each pixel, as one band of `img`'s format
/// (integers rounded half away from zero).
pub fn bandmean(img: &Image) -> Image {
    Image::new(Reduce1 { kind: None }, vec![img.clone()])
}

/// The bands of each pixel of an integer image combined bitwise into one
/// band of the same format.
pub fn bandbool(img: &Image, op: BandBool) -> Image {
    Image::new(Reduce1 { kind: Some(op) }, vec![img.clone()])
}

/// The operation of [`bandmean`] (`kind` none) and [`bandbool`].
#[derive(Debug)]
pub struct Reduce1 {
    kind: Option<BandBool>,
}

impl Operation for Reduce1 {
    type State = ();

    fn name(&self) -> &'static str {
        if self.kind.is_some() {
            "bandbool"
        } else {
            "bandmean"
        }
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        if self.kind.is_some() && !h.format.is_integer() {
            return Err(Error::invalid(
                "bandbool",
                format!("needs an integer image, not {}", h.format),
            ));
        }
        Ok(h.with_bands(1))
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = *inputs.header(0);
        let src = inputs.get(0, out)?;
        if h.bands == 1 {
            return Ok(src);
        }
        let mut dst = inputs.alloc(out);
        let bands = h.bands as usize;
        let kind = self.kind;
        dispatch_format!(h.format, T => {
            for y in out.y..out.bottom() {
                let (d, s) = (dst.row_mut::<T>(y), src.row::<T>(y));
                for (dp, sp) in d.iter_mut().zip(s.chunks_exact(bands)) {
                    *dp = match kind {
                        None => T::from_f64(sp.iter().map(|v| v.to_f64()).sum::<f64>() / bands as f64),
                        Some(op) => {
                            // Integer formats only (checked in `header`):
                            // exact in i64.
                            let mut acc = sp[0].to_f64() as i64;
                            for v in &sp[1..] {
                                let v = v.to_f64() as i64;
                                acc = match op {
                                    BandBool::And => acc & v,
                                    BandBool::Or => acc | v,
                                    BandBool::Eor => acc ^ v,
                                };
                            }
                            T::from_f64(acc as f64)
                        }
                    };
                }
            }
        });
        Ok(dst)
    }
}

/// Folds each run of `factor` columns into the bands of one pixel:
/// `width / factor` columns of `bands × factor` bands (`factor` defaults to
/// the width, giving one column). The width must be a multiple of `factor`.
pub fn bandfold(img: &Image, factor: Option<u32>) -> Image {
    Image::new(
        Fold {
            factor,
            unfold: false,
        },
        vec![img.clone()],
    )
}

/// Unfolds the bands of each pixel into `factor` columns: `width × factor`
/// columns of `bands / factor` bands (`factor` defaults to the band count).
/// The band count must be a multiple of `factor`.
pub fn bandunfold(img: &Image, factor: Option<u32>) -> Image {
    Image::new(
        Fold {
            factor,
            unfold: true,
        },
        vec![img.clone()],
    )
}

/// The operation of [`bandfold`] and [`bandunfold`]. The row bytes are the
/// same either way: only the rectangle is rescaled in x.
#[derive(Debug)]
pub struct Fold {
    factor: Option<u32>,
    unfold: bool,
}

impl Fold {
    fn factor(&self, h: &Header) -> u32 {
        self.factor
            .unwrap_or(if self.unfold { h.bands } else { h.width })
            .max(1)
    }
}

impl Operation for Fold {
    type State = ();

    fn name(&self) -> &'static str {
        if self.unfold {
            "bandunfold"
        } else {
            "bandfold"
        }
    }

    fn header(&self, inputs: &[Header]) -> Result<Header> {
        let h = inputs[0];
        let f = self.factor(&h);
        if self.unfold {
            if !h.bands.is_multiple_of(f) {
                return Err(Error::invalid(
                    "bandunfold",
                    format!("{} bands are not a multiple of {f}", h.bands),
                ));
            }
            let w = h.width as u64 * f as u64;
            let w = u32::try_from(w).map_err(|_| Error::invalid("bandunfold", "too wide"))?;
            Ok(h.with_bands(h.bands / f).with_size(w, h.height))
        } else {
            if !h.width.is_multiple_of(f) {
                return Err(Error::invalid(
                    "bandfold",
                    format!("width {} is not a multiple of {f}", h.width),
                ));
            }
            Ok(h.with_bands(h.bands * f).with_size(h.width / f, h.height))
        }
    }

    fn need(&self, out: Rect, _: usize, inputs: &[Header]) -> Rect {
        let f = self.factor(&inputs[0]) as i64;
        if self.unfold {
            let x0 = out.x.div_euclid(f);
            let x1 = (out.right() + f - 1).div_euclid(f);
            Rect::new(x0, out.y, x1 - x0, out.height)
        } else {
            Rect::new(out.x * f, out.y, out.width * f, out.height)
        }
    }

    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let need = inputs.need(out, 0);
        let src = inputs.get(0, need)?;
        let mut dst = inputs.alloc(out);
        let ob = inputs.output_header().pixel_bytes();
        // Byte offset of the output's left edge within the input's row.
        let skip = (out.x * ob as i64 - need.x * inputs.header(0).pixel_bytes() as i64) as usize;
        for y in out.y..out.bottom() {
            let d = dst.row_bytes_mut(y);
            let n = d.len();
            d.copy_from_slice(&src.row_bytes(y)[skip..skip + n]);
        }
        Ok(dst)
    }
}

/// [`bandjoin_const`] in the catalogue.
pub static BANDJOIN_CONST: OpDesc = OpDesc::new(
    "bandjoin_const",
    Category::Bands,
    "The image with constant bands appended",
    &[ArgDesc::required(
        "c",
        ArgType::Numbers,
        "One value per new band, in the image's format (truncated for integers).",
    )],
    |input, a| Ok(bandjoin_const(input_of(input)?, &a.numbers("c")?)),
)
.example("255");

/// [`bandmean`] in the catalogue.
pub static BANDMEAN: OpDesc = OpDesc::new(
    "bandmean",
    Category::Bands,
    "The mean of the bands, as one band",
    &[],
    |input, _| Ok(bandmean(input_of(input)?)),
)
.doc("The format is kept; integers are rounded half away from zero.");

/// [`bandbool`] in the catalogue.
pub static BANDBOOL: OpDesc = OpDesc::new(
    "bandbool",
    Category::Bands,
    "The bands combined bitwise into one (integer images)",
    &[ArgDesc::required(
        "boolean",
        ArgType::Enum(&["and", "or", "eor"]),
        "The operation.",
    )],
    |input, a| {
        let op = match a.choice("boolean")? {
            "and" => BandBool::And,
            "or" => BandBool::Or,
            _ => BandBool::Eor,
        };
        Ok(bandbool(input_of(input)?, op))
    },
)
.example("eor");

/// [`bandfold`] in the catalogue.
pub static BANDFOLD: OpDesc = OpDesc::new(
    "bandfold",
    Category::Bands,
    "Folds runs of columns into bands",
    &[ArgDesc::unset(
        "factor",
        ArgType::int(1, 1 << 20),
        "Columns per output pixel (default: the width).",
    )],
    |input, a| {
        Ok(bandfold(
            input_of(input)?,
            a.opt_int("factor")?.map(|f| f as u32),
        ))
    },
)
.example("factor=4");

/// [`bandunfold`] in the catalogue.
pub static BANDUNFOLD: OpDesc = OpDesc::new(
    "bandunfold",
    Category::Bands,
    "Unfolds bands into runs of columns",
    &[ArgDesc::unset(
        "factor",
        ArgType::int(1, 1 << 20),
        "Columns per input pixel (default: the band count).",
    )],
    |input, a| {
        Ok(bandunfold(
            input_of(input)?,
            a.opt_int("factor")?.map(|f| f as u32),
        ))
    },
)
.example("factor=3");

/// Options of [`bandfold`] and [`bandunfold`] (facade `_with` methods).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct FoldOptions {
    /// The fold factor (default: the width for `bandfold`, the band count
    /// for `bandunfold`).
    pub factor: Option<u32>,
}

impl FoldOptions {
    /// Sets [`factor`](FoldOptions::factor).
    pub fn factor(mut self, factor: u32) -> FoldOptions {
        self.factor = Some(factor);
        self
    }
}
