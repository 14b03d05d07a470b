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
pub static OPS: &[&OpDesc] = &[&EXTRACT_BAND, &BANDJOIN];

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
