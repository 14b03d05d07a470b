//! [`image`] buffers: [`ImageBuffer`] of any pixel type whose subpixel is a
//! [`Sample`], and [`DynamicImage`].

use image::{DynamicImage, ImageBuffer, Luma, LumaA, Pixel, Rgb, Rgba};

use gigapix_core::{BandFormat, Error, ErrorKind, Interpretation, Result, Sample};

use super::{compute_vec, from_samples};
use crate::{Image, RunOptions};

/// A clear error unless `image` can be seen as `channels` channels of the
/// image crate's colour model `model` (`Y`, `YA`, `RGB`, `RGBA`).
fn check_layout(caller: &str, image: &Image, channels: u32, model: &str) -> Result<()> {
    let h = image.header();
    if h.bands != channels {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{caller}: the image has {} band{}, the pixel type {model} has {channels}",
                h.bands,
                if h.bands == 1 { "" } else { "s" }
            ),
        ));
    }
    match h.interpretation {
        Interpretation::Grey | Interpretation::Srgb | Interpretation::Multiband => Ok(()),
        other => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{caller}: the image is {other}, and the image crate holds grey or sRGB pixels; convert it first with `colourspace(Interpretation::{})`",
                if channels <= 2 { "Grey" } else { "Srgb" }
            ),
        )),
    }
}

impl Image {
    /// An image over an [`ImageBuffer`], moving its vector in with no
    /// copy: the image's regions are views of it. The pixel type gives the
    /// bands (`Luma` 1, `LumaA` 2, `Rgb` 3, `Rgba` 4; the interpretation is
    /// grey or sRGB, the last band of `LumaA` and `Rgba` alpha) and its
    /// subpixel the [`BandFormat`]. Values are kept as they are: `f32`
    /// pixels are 0..1 in both crates.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::InvalidArgument`] error if the buffer has no pixels.
    ///
    /// # Example
    ///
    /// ```
    /// use gigapix::{BandFormat, Image, Interpretation};
    /// use image::{Rgb, RgbImage};
    ///
    /// let buffer = RgbImage::from_fn(40, 30, |x, y| Rgb([x as u8 * 6, y as u8 * 8, 0]));
    /// let image = Image::from_image_buffer(buffer)?;
    /// assert_eq!((image.width(), image.height(), image.bands()), (40, 30, 3));
    /// assert_eq!(image.header().interpretation, Interpretation::Srgb);
    ///
    /// let back = image.invert().to_image_buffer::<Rgb<u8>>()?;
    /// assert_eq!(back.get_pixel(39, 29), &Rgb([255 - 39 * 6, 255 - 29 * 8, 255]));
    /// # Ok::<(), gigapix::Error>(())
    /// ```
    pub fn from_image_buffer<P>(buffer: ImageBuffer<P, Vec<P::Subpixel>>) -> Result<Image>
    where
        P: Pixel,
        P::Subpixel: Sample,
    {
        let (w, h) = (buffer.width() as usize, buffer.height() as usize);
        let bands = usize::from(P::CHANNEL_COUNT);
        from_samples("from_image_buffer", buffer.into_raw(), 0, (w, h, bands))
    }

    /// An image over a [`DynamicImage`], as
    /// [`from_image_buffer`](Image::from_image_buffer) (no copy): `Luma8`,
    /// `LumaA8`, `Rgb8`, `Rgba8` give `u8` grey or sRGB images of 1 to 4
    /// bands, the 16-bit variants `u16` ones, `Rgb32F` and `Rgba32F` `f32`
    /// sRGB ones (values 0..1, as gigapix's `f32` sRGB).
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::InvalidArgument`] error for an empty image, and an
    /// [`ErrorKind::Unsupported`] one for a variant added to the image crate
    /// after 0.25.
    pub fn from_dynamic_image(image: DynamicImage) -> Result<Image> {
        match image {
            DynamicImage::ImageLuma8(b) => Image::from_image_buffer(b),
            DynamicImage::ImageLumaA8(b) => Image::from_image_buffer(b),
            DynamicImage::ImageRgb8(b) => Image::from_image_buffer(b),
            DynamicImage::ImageRgba8(b) => Image::from_image_buffer(b),
            DynamicImage::ImageLuma16(b) => Image::from_image_buffer(b),
            DynamicImage::ImageLumaA16(b) => Image::from_image_buffer(b),
            DynamicImage::ImageRgb16(b) => Image::from_image_buffer(b),
            DynamicImage::ImageRgba16(b) => Image::from_image_buffer(b),
            DynamicImage::ImageRgb32F(b) => Image::from_image_buffer(b),
            DynamicImage::ImageRgba32F(b) => Image::from_image_buffer(b),
            other => Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "from_dynamic_image: the colour type {:?} is not supported",
                    other.color()
                ),
            )),
        }
    }

    /// Computes the image into a new [`ImageBuffer`] of pixel type `P`.
    /// The engine writes straight into the buffer's vector: no copy after
    /// that.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::InvalidArgument`] error, before any pixel is
    /// computed, if the image's band count is not `P`'s channel count, its
    /// band format not `P`'s subpixel type (convert with
    /// [`cast`](Image::cast) or [`cast_scaled`](Image::cast_scaled)), or
    /// its interpretation neither grey, sRGB nor multiband (convert with
    /// [`colourspace`](Image::colourspace)). Any error of the image or its
    /// run.
    pub fn to_image_buffer<P>(&self) -> Result<ImageBuffer<P, Vec<P::Subpixel>>>
    where
        P: Pixel,
        P::Subpixel: Sample,
    {
        self.to_image_buffer_with(RunOptions::default())
    }

    /// [`to_image_buffer`](Image::to_image_buffer) with run options
    /// (threads, progress, cancellation).
    pub fn to_image_buffer_with<P>(
        &self,
        options: RunOptions,
    ) -> Result<ImageBuffer<P, Vec<P::Subpixel>>>
    where
        P: Pixel,
        P::Subpixel: Sample,
    {
        let caller = "to_image_buffer";
        self.check()?;
        check_layout(caller, self, u32::from(P::CHANNEL_COUNT), P::COLOR_MODEL)?;
        let v = compute_vec::<P::Subpixel>(self, options, caller, "pixel type")?;
        ImageBuffer::from_raw(self.width(), self.height(), v).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{caller}: the buffer does not fit {}", self.header()),
            )
        })
    }

    /// Computes the image into a new [`DynamicImage`], the variant chosen
    /// from the bands and format: 1 to 4 bands of `u8` give `Luma8`,
    /// `LumaA8`, `Rgb8` or `Rgba8`; of `u16` the 16-bit variants; 3 or 4
    /// bands of `f32` `Rgb32F` or `Rgba32F`.
    ///
    /// # Errors
    ///
    /// An [`ErrorKind::Unsupported`] error, before any pixel is computed,
    /// for what a `DynamicImage` cannot hold: other band counts (5 bands,
    /// or 1 or 2 of `f32`) and other formats (`i8`, `i16`, `u32`, `i32`,
    /// `f64`); convert first with [`cast`](Image::cast),
    /// [`cast_scaled`](Image::cast_scaled),
    /// [`extract_band`](Image::extract_band) or
    /// [`bandjoin`](Image::bandjoin). Also the errors of
    /// [`to_image_buffer`](Image::to_image_buffer).
    ///
    /// # Example
    ///
    /// ```
    /// use gigapix::{BandFormat, Image};
    /// use image::DynamicImage;
    ///
    /// let image = Image::black(8, 4, 2).cast_scaled(BandFormat::U16);
    /// assert!(matches!(image.to_dynamic_image()?, DynamicImage::ImageLumaA16(_)));
    /// assert!(Image::black(8, 4, 5).to_dynamic_image().is_err());
    /// # Ok::<(), gigapix::Error>(())
    /// ```
    pub fn to_dynamic_image(&self) -> Result<DynamicImage> {
        self.to_dynamic_image_with(RunOptions::default())
    }

    /// [`to_dynamic_image`](Image::to_dynamic_image) with run options.
    pub fn to_dynamic_image_with(&self, options: RunOptions) -> Result<DynamicImage> {
        self.check()?;
        let o = options;
        Ok(match (self.bands(), self.format()) {
            (1, BandFormat::U8) => self.to_image_buffer_with::<Luma<u8>>(o)?.into(),
            (2, BandFormat::U8) => self.to_image_buffer_with::<LumaA<u8>>(o)?.into(),
            (3, BandFormat::U8) => self.to_image_buffer_with::<Rgb<u8>>(o)?.into(),
            (4, BandFormat::U8) => self.to_image_buffer_with::<Rgba<u8>>(o)?.into(),
            (1, BandFormat::U16) => self.to_image_buffer_with::<Luma<u16>>(o)?.into(),
            (2, BandFormat::U16) => self.to_image_buffer_with::<LumaA<u16>>(o)?.into(),
            (3, BandFormat::U16) => self.to_image_buffer_with::<Rgb<u16>>(o)?.into(),
            (4, BandFormat::U16) => self.to_image_buffer_with::<Rgba<u16>>(o)?.into(),
            (3, BandFormat::F32) => self.to_image_buffer_with::<Rgb<f32>>(o)?.into(),
            (4, BandFormat::F32) => self.to_image_buffer_with::<Rgba<f32>>(o)?.into(),
            (bands, format) => {
                let hint = match (bands, format) {
                    (1..=4, BandFormat::F32) => {
                        "bandjoin to 3 or 4 bands, or cast_scaled to u8 or u16"
                    }
                    (1..=4, _) => "cast_scaled to u8, u16 or (3 or 4 bands) f32",
                    _ => "extract_band or bandjoin to 1 to 4 bands",
                };
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "to_dynamic_image: a DynamicImage cannot hold {bands} band{} of {format}; {hint} first",
                        if bands == 1 { "" } else { "s" }
                    ),
                ));
            }
        })
    }
}
