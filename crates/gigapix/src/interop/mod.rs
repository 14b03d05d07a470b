//! Conversions to and from other crates' image and array types, each
//! behind a cargo feature: `ndarray` ([`ndarray`](https://docs.rs/ndarray)
//! 0.16 arrays) and `image` ([`image`](https://docs.rs/image) 0.25 buffers).
//!
//! Both directions move or fill the other crate's buffer directly:
//!
//! - into gigapix, an owned buffer in the right layout becomes the image's
//!   pixels with no copy (its regions are views of it), held until the
//!   last image and region using it is gone;
//! - out of gigapix, the engine computes straight into the new array's or
//!   buffer's memory: one write per sample, no intermediate vector.

use gigapix_core::{BandFormat, Error, ErrorKind, Result, Sample};

use crate::{Image, RunOptions};

#[cfg(feature = "image")]
mod image;
#[cfg(feature = "ndarray")]
mod ndarray;

/// The pixels of a moved-in vector (`len` elements from `start`), viewed as
/// bytes by the images made from it.
struct Samples<T> {
    data: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Sample> AsRef<[u8]> for Samples<T> {
    fn as_ref(&self) -> &[u8] {
        bytemuck::cast_slice(&self.data[self.start..self.start + self.len])
    }
}

/// `n` as a `u32` image dimension, or an error naming `what`.
fn dimension(caller: &str, what: &str, n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{caller}: {what} {n} is larger than an image can be ({})",
                u32::MAX
            ),
        )
    })
}

/// An image over `len` samples of `data` from `start` (the element type
/// gives the band format), with no copy. `data[start..start + len]` must
/// hold exactly `width × height × bands` samples.
fn from_samples<T: Sample>(
    caller: &str,
    data: Vec<T>,
    start: usize,
    (width, height, bands): (usize, usize, usize),
) -> Result<Image> {
    let width = dimension(caller, "width", width)?;
    let height = dimension(caller, "height", height)?;
    let bands = dimension(caller, "band count", bands)?;
    let len = (width as usize)
        .checked_mul(height as usize)
        .and_then(|n| n.checked_mul(bands as usize))
        .filter(|&n| start.checked_add(n).is_some_and(|end| end <= data.len()))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{caller}: {} samples from {start} do not hold {width}x{height} pixels of {bands} bands",
                    data.len()
                ),
            )
        })?;
    Image::from_memory(
        Samples { data, start, len },
        width,
        height,
        bands,
        T::FORMAT,
    )
    .map_err(|e| Error::new(e.kind(), format!("{caller}: {e}")))
}

/// A clear error unless `T` is the image's band format.
fn check_format<T: Sample>(caller: &str, format: BandFormat, target: &str) -> Result<()> {
    if T::FORMAT == format {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::InvalidArgument,
        format!(
            "{caller}: the image's band format is {format}, not {} (the {target}'s element type); convert it first with `cast(BandFormat::{:?})` (values kept) or `cast_scaled(BandFormat::{:?})` (values scaled to the new range)",
            T::FORMAT,
            T::FORMAT,
            T::FORMAT,
        ),
    ))
}

/// A vector of `n` default samples, or a [`ErrorKind::Limit`] error if the
/// memory cannot be had (instead of aborting the process).
fn alloc<T: Sample>(caller: &str, n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::new(
            ErrorKind::Limit,
            format!(
                "{caller}: cannot allocate {n} samples of {} ({} bytes)",
                T::FORMAT,
                n as u128 * T::FORMAT.size() as u128
            ),
        )
    })?;
    v.resize(n, T::default());
    Ok(v)
}

/// Runs `image` with `options` into `out`, which holds exactly the image's
/// samples in packed rows (band-interleaved, native byte order).
fn compute_into<T: Sample>(image: &Image, options: RunOptions, out: &mut [T]) -> Result<()> {
    image
        .run(options)
        .write_into(bytemuck::cast_slice_mut(out))
        .map(drop)
}

/// The image's samples in a new vector, with no copy after the engine's
/// own write: `caller` and `target` name the request in errors.
fn compute_vec<T: Sample>(
    image: &Image,
    options: RunOptions,
    caller: &str,
    target: &str,
) -> Result<Vec<T>> {
    image.check()?;
    check_format::<T>(caller, image.format(), target)?;
    let h = image.header();
    let n = usize::try_from(h.pixels() * u64::from(h.bands)).map_err(|_| {
        Error::new(
            ErrorKind::Limit,
            format!("{caller}: the image ({h}) does not fit in memory"),
        )
    })?;
    let mut v = alloc::<T>(caller, n)?;
    compute_into(image, options, &mut v)?;
    Ok(v)
}
