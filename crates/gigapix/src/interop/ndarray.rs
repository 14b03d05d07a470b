//! [`ndarray`] arrays: shape `(height, width, bands)`, band-interleaved,
//! the element type giving the band format.

use ndarray::{Array2, Array3, ArrayBase, ArrayView3, Axis, DataMut, Ix3};

use gigapix_core::{Error, ErrorKind, Result, Sample};

use super::{check_format, compute_into, compute_vec, from_samples};
use crate::{Image, RunOptions};

/// Image from an array in standard layout (no copy), else its elements
/// copied once in logical order.
fn from_owned<T: Sample>(caller: &str, a: Array3<T>) -> Result<Image> {
    let shape = a.dim();
    let (h, w, b) = shape;
    if a.is_standard_layout() {
        let (data, offset) = a.into_raw_vec_and_offset();
        return from_samples(caller, data, offset.unwrap_or(0), (w, h, b));
    }
    from_samples(caller, a.iter().copied().collect(), 0, (w, h, b))
}

impl Image {
    /// An image over an array of shape `(height, width, bands)`: element
    /// `[[y, x, b]]` is band `b` of pixel `(x, y)`, and the element type
    /// gives the [`BandFormat`](crate::BandFormat). The interpretation is
    /// guessed from the band count (1 or 2 grey, 3 or 4 sRGB, the last band
    /// alpha).
    ///
    /// No copy when the array is in standard (C-contiguous, row-major)
    /// layout, as arrays made by `Array3::zeros` or `from_shape_vec` are:
    /// the image takes the array's buffer and its regions are views of it.
    /// An array in another layout (transposed, sliced with a step, Fortran
    /// order) is copied once into standard layout.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::InvalidArgument`] error if an axis is empty or
    /// longer than `u32::MAX`.
    ///
    /// # Example
    ///
    /// ```
    /// use gigapix::{BandFormat, Image};
    /// use ndarray::Array3;
    ///
    /// // A 40x30 RGB gradient, red growing to the right.
    /// let a = Array3::from_shape_fn((30, 40, 3), |(y, x, b)| [x * 6, y * 8, 0][b] as u8);
    /// let image = Image::from_array(a)?;
    /// assert_eq!((image.width(), image.height(), image.bands()), (40, 30, 3));
    /// assert_eq!(image.format(), BandFormat::U8);
    ///
    /// let back = image.invert().to_array::<u8>()?;
    /// assert_eq!(back[[29, 39, 0]], 255 - 39 * 6);
    /// # Ok::<(), gigapix::Error>(())
    /// ```
    pub fn from_array<T: Sample>(a: Array3<T>) -> Result<Image> {
        from_owned("from_array", a)
    }

    /// An image over a 2-D array of shape `(height, width)`: one band, as
    /// [`from_array`](Image::from_array) (no copy in standard layout).
    pub fn from_array2<T: Sample>(a: Array2<T>) -> Result<Image> {
        from_owned("from_array2", a.insert_axis(Axis(2)))
    }

    /// An image from a borrowed array of shape `(height, width, bands)`,
    /// as [`from_array`](Image::from_array). A view owns nothing the image
    /// could keep, so its elements are copied once (in any layout).
    pub fn from_array_view<T: Sample>(a: ArrayView3<'_, T>) -> Result<Image> {
        let (h, w, b) = a.dim();
        let data = match a.as_slice() {
            Some(s) => s.to_vec(),
            None => a.iter().copied().collect(),
        };
        from_samples("from_array_view", data, 0, (w, h, b))
    }

    /// Computes the image into a new array of shape `(height, width,
    /// bands)` in standard layout. The engine writes straight into the
    /// array's buffer: no copy after that.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::InvalidArgument`] error if `T` is not the image's
    /// band format: convert first with [`cast`](Image::cast) (values kept,
    /// clamped) or [`cast_scaled`](Image::cast_scaled) (values scaled to
    /// the new range). Any error of the image or its run.
    pub fn to_array<T: Sample>(&self) -> Result<Array3<T>> {
        self.to_array_with(RunOptions::default())
    }

    /// [`to_array`](Image::to_array) with run options (threads, progress,
    /// cancellation).
    pub fn to_array_with<T: Sample>(&self, options: RunOptions) -> Result<Array3<T>> {
        let caller = "to_array";
        let v = compute_vec::<T>(self, options, caller, "array")?;
        let h = self.header();
        let shape = (h.height as usize, h.width as usize, h.bands as usize);
        Array3::from_shape_vec(shape, v).map_err(|e| shape_error(caller, e))
    }

    /// Computes a one-band image into a new array of shape `(height,
    /// width)`, as [`to_array`](Image::to_array).
    ///
    /// # Errors
    ///
    /// As [`to_array`](Image::to_array), and an
    /// [`ErrorKind::InvalidArgument`] error if the image has more than one
    /// band ([`extract_band`](Image::extract_band) picks one).
    pub fn to_array2<T: Sample>(&self) -> Result<Array2<T>> {
        self.check()?;
        if self.bands() != 1 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "to_array2: the image has {} bands, a 2-D array holds one (use `to_array`, or `extract_band` first)",
                    self.bands()
                ),
            ));
        }
        Ok(self.to_array::<T>()?.remove_axis(Axis(2)))
    }

    /// Computes the image into `a` in place: an array or a mutable view of
    /// shape `(height, width, bands)` in standard layout, element type the
    /// image's band format.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::InvalidArgument`] error, before any pixel is
    /// computed, if the shape or element type differs from the image's, or
    /// if `a` is not in standard (C-contiguous) layout (a transposed view,
    /// or one sliced with a step: write into a standard array and
    /// [`assign`](ndarray::ArrayBase::assign) it). Any error of the image
    /// or its run; the contents of `a` are then unspecified.
    ///
    /// # Example
    ///
    /// ```
    /// use gigapix::Image;
    /// use ndarray::{Array3, s};
    ///
    /// // Fill the left half of a bigger array.
    /// let mut a = Array3::<u8>::zeros((16, 32, 1));
    /// let mut left = a.slice_mut(s![.., ..16, ..]);
    /// assert!(Image::black(16, 16, 1).invert().write_into_array(&mut left).is_err()); // rows are not contiguous
    /// let mut top = a.slice_mut(s![..8, .., ..]);
    /// Image::black(32, 8, 1).invert().write_into_array(&mut top)?;
    /// assert_eq!((a[[7, 31, 0]], a[[8, 0, 0]]), (255, 0));
    /// # Ok::<(), gigapix::Error>(())
    /// ```
    pub fn write_into_array<T: Sample, S: DataMut<Elem = T>>(
        &self,
        a: &mut ArrayBase<S, Ix3>,
    ) -> Result<()> {
        self.write_into_array_with(a, RunOptions::default())
    }

    /// [`write_into_array`](Image::write_into_array) with run options.
    pub fn write_into_array_with<T: Sample, S: DataMut<Elem = T>>(
        &self,
        a: &mut ArrayBase<S, Ix3>,
        options: RunOptions,
    ) -> Result<()> {
        let caller = "write_into_array";
        self.check()?;
        check_format::<T>(caller, self.format(), "array")?;
        let h = self.header();
        let want = (h.height as usize, h.width as usize, h.bands as usize);
        if a.dim() != want {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{caller}: the array's shape is {:?}, the image ({h}) needs (height, width, bands) = {want:?}",
                    a.dim()
                ),
            ));
        }
        let Some(out) = a.as_slice_mut() else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{caller}: the array is not in standard (C-contiguous) layout (strides {:?}); write into a standard array and assign it",
                    a.strides()
                ),
            ));
        };
        compute_into(self, options, out)
    }
}

fn shape_error(caller: &str, e: ndarray::ShapeError) -> Error {
    Error::new(ErrorKind::InvalidArgument, format!("{caller}: {e}"))
}
