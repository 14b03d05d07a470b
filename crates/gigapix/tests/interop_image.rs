//! `Image::from_image_buffer` / `from_dynamic_image` / `to_image_buffer` /
//! `to_dynamic_image` (feature `image`): zero copy where promised, pixels
//! checked against the same formula computed here in `f64`.
#![cfg(feature = "image")]

use gigapix::core::Ctx;
use gigapix::image::{DynamicImage, ImageBuffer, Luma, LumaA, Pixel, Rgb, Rgba};
use gigapix::{BandFormat, ErrorKind, Image, Interpretation, Rect, Sample};

const W: u32 = 19;
const H: u32 = 11;

/// Sample `c` of pixel `(x, y)`, in range for every format (0..1 floats).
fn value<T: Sample>(x: u32, y: u32, c: u32) -> T {
    let v = f64::from((x * 5 + y * 13 + c * 29) % 97);
    match T::FORMAT {
        BandFormat::F32 | BandFormat::F64 => T::from_f64(v / 96.0),
        BandFormat::U16 => T::from_f64(v * 600.0),
        _ => T::from_f64(v),
    }
}

fn buffer<P>() -> ImageBuffer<P, Vec<P::Subpixel>>
where
    P: Pixel,
    P::Subpixel: Sample,
{
    let n = usize::from(P::CHANNEL_COUNT);
    let mut raw = Vec::new();
    for y in 0..H {
        for x in 0..W {
            for c in 0..n as u32 {
                raw.push(value::<P::Subpixel>(x, y, c));
            }
        }
    }
    ImageBuffer::from_raw(W, H, raw).unwrap()
}

/// The engine's `invert` for `T`: `max - v` for unsigned integers, `-v`
/// for signed ones and floats.
fn invert_ref<T: Sample>(v: T) -> T {
    if T::MIN.to_f64() < 0.0 {
        T::from_f64(-v.to_f64())
    } else {
        T::from_f64(T::MAX.to_f64() - v.to_f64())
    }
}

/// A region over the whole image (checked to be a view) and the address of
/// its first sample.
fn whole_view(image: &Image) -> *const u8 {
    let region = Ctx::standalone()
        .region(image.node(), Rect::new(0, 0, W.into(), H.into()))
        .unwrap();
    assert!(region.is_view());
    region.row_bytes(0).as_ptr()
}

/// Both directions for pixel type `P`: zero copy in, `invert` through the
/// engine, back into a buffer. Returns the inverted buffer expected.
fn round_trip<P>(interpretation: Interpretation) -> ImageBuffer<P, Vec<P::Subpixel>>
where
    P: Pixel,
    P::Subpixel: Sample,
{
    let name = P::COLOR_MODEL;
    let b = buffer::<P>();
    let ptr = b.as_raw().as_ptr().cast::<u8>();
    let image = Image::from_image_buffer(b).unwrap();
    let h = image.header();
    assert_eq!(
        (h.width, h.height, h.bands, h.format, h.interpretation),
        (
            W,
            H,
            u32::from(P::CHANNEL_COUNT),
            <P::Subpixel as Sample>::FORMAT,
            interpretation
        ),
        "{name}"
    );
    assert_eq!(whole_view(&image), ptr, "{name}: zero copy");

    let back = image.to_image_buffer::<P>().unwrap();
    assert_eq!(back.dimensions(), (W, H));
    assert_eq!(back.as_raw(), buffer::<P>().as_raw(), "{name}");
    let inverted = image.invert().to_image_buffer::<P>().unwrap();
    let mut want = buffer::<P>();
    for p in want.pixels_mut() {
        p.apply(invert_ref);
    }
    assert_eq!(inverted.as_raw(), want.as_raw(), "{name}");
    want
}

/// [`round_trip`], then the same through a `DynamicImage` of the variant
/// `is_variant` recognises.
fn dynamic_round_trip<P>(interpretation: Interpretation, is_variant: fn(&DynamicImage) -> bool)
where
    P: Pixel,
    P::Subpixel: Sample,
    DynamicImage: From<ImageBuffer<P, Vec<P::Subpixel>>>,
{
    let name = P::COLOR_MODEL;
    let want = round_trip::<P>(interpretation);
    let d = DynamicImage::from(buffer::<P>());
    assert!(is_variant(&d), "{name}");
    let ptr = d.as_bytes().as_ptr();
    let image = Image::from_dynamic_image(d).unwrap();
    assert_eq!(image.header().interpretation, interpretation, "{name}");
    assert_eq!(whole_view(&image), ptr, "{name}: zero copy");
    let back = image.invert().to_dynamic_image().unwrap();
    assert!(is_variant(&back), "{name}: {:?}", back.color());
    assert_eq!(back, DynamicImage::from(want), "{name}");
}

#[test]
fn every_dynamic_image_variant_round_trips() {
    use DynamicImage as D;
    use Interpretation::{Grey, Srgb};
    dynamic_round_trip::<Luma<u8>>(Grey, |d| matches!(d, D::ImageLuma8(_)));
    dynamic_round_trip::<LumaA<u8>>(Grey, |d| matches!(d, D::ImageLumaA8(_)));
    dynamic_round_trip::<Rgb<u8>>(Srgb, |d| matches!(d, D::ImageRgb8(_)));
    dynamic_round_trip::<Rgba<u8>>(Srgb, |d| matches!(d, D::ImageRgba8(_)));
    dynamic_round_trip::<Luma<u16>>(Grey, |d| matches!(d, D::ImageLuma16(_)));
    dynamic_round_trip::<LumaA<u16>>(Grey, |d| matches!(d, D::ImageLumaA16(_)));
    dynamic_round_trip::<Rgb<u16>>(Srgb, |d| matches!(d, D::ImageRgb16(_)));
    dynamic_round_trip::<Rgba<u16>>(Srgb, |d| matches!(d, D::ImageRgba16(_)));
    dynamic_round_trip::<Rgb<f32>>(Srgb, |d| matches!(d, D::ImageRgb32F(_)));
    dynamic_round_trip::<Rgba<f32>>(Srgb, |d| matches!(d, D::ImageRgba32F(_)));
}

#[test]
fn other_subpixel_types_work_as_image_buffers() {
    use Interpretation::{Grey, Srgb};
    round_trip::<Luma<f32>>(Grey);
    round_trip::<LumaA<i8>>(Grey);
    round_trip::<Rgb<i16>>(Srgb);
    round_trip::<Luma<u32>>(Grey);
    round_trip::<Rgb<i32>>(Srgb);
    round_trip::<Rgba<f64>>(Srgb);
}

#[test]
fn a_buffer_longer_than_its_pixels_is_still_read_right() {
    // `ImageBuffer::from_raw` accepts a longer vector; only its first
    // width × height × channels samples are pixels.
    let mut raw: Vec<u8> = buffer::<Rgb<u8>>().into_raw();
    raw.extend([1, 2, 3, 4, 5]);
    let b: ImageBuffer<Rgb<u8>, Vec<u8>> = ImageBuffer::from_raw(W, H, raw).unwrap();
    let image = Image::from_image_buffer(b).unwrap();
    assert_eq!(
        image.to_image_buffer::<Rgb<u8>>().unwrap().as_raw(),
        buffer::<Rgb<u8>>().as_raw()
    );
}

#[test]
fn the_engine_computes_what_image_rs_would() {
    // A colour conversion checked against image-rs' own: grey to RGB
    // replicates the value in both.
    let grey = buffer::<Luma<u8>>();
    let image = Image::from_image_buffer(grey.clone()).unwrap();
    let ours = image
        .colourspace(Interpretation::Srgb)
        .to_dynamic_image()
        .unwrap();
    let theirs = DynamicImage::ImageLuma8(grey).to_rgb8();
    assert_eq!(ours.as_rgb8().unwrap(), &theirs);
    // u8 to u16 scaling: v × 257 in both.
    let rgb = buffer::<Rgb<u8>>();
    let ours = Image::from_image_buffer(rgb.clone())
        .unwrap()
        .cast_scaled(BandFormat::U16)
        .to_dynamic_image()
        .unwrap();
    assert_eq!(
        ours,
        DynamicImage::ImageRgb16(DynamicImage::ImageRgb8(rgb).to_rgb16())
    );
}

#[test]
fn what_image_rs_cannot_hold_is_a_clear_error() {
    for (image, words) in [
        (Image::black(4, 4, 5), "5 bands"),
        (Image::black(4, 4, 1).cast(BandFormat::F32), "1 band of f32"),
        (
            Image::black(4, 4, 3).cast(BandFormat::I16),
            "3 bands of i16",
        ),
        (Image::black(4, 4, 3).cast(BandFormat::F64), "f64"),
        (Image::xyz(4, 4), "u32"),
    ] {
        let e = image.to_dynamic_image().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(e.to_string().contains(words), "{e}");
    }

    // The wrong pixel type for `to_image_buffer`.
    let image = Image::black(4, 4, 3);
    let e = image.to_image_buffer::<Rgba<u8>>().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("3 bands"), "{e}");
    let e = image.to_image_buffer::<Rgb<u16>>().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("cast"), "{e}");

    // A colour space image-rs does not have.
    let lab = Image::black(4, 4, 3).colourspace(Interpretation::Lab);
    let e = lab.to_image_buffer::<Rgb<f32>>().unwrap_err();
    assert!(e.to_string().contains("colourspace"), "{e}");
    assert!(lab.to_dynamic_image().is_err());

    // An empty buffer.
    let empty: ImageBuffer<Rgb<u8>, Vec<u8>> = ImageBuffer::new(0, 5);
    assert_eq!(
        Image::from_image_buffer(empty).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

/// The book's example (book/src/streams.md includes it).
#[test]
fn book_example() -> gigapix::Result<()> {
    // ANCHOR: image
    use gigapix::image::{DynamicImage, Rgb, RgbImage};
    use gigapix::{BandFormat, Image};

    // The buffer's vector is moved into the image, no copy; Luma is grey,
    // Rgb sRGB, and LumaA / Rgba carry alpha.
    let buffer = RgbImage::from_fn(640, 480, |x, y| Rgb([x as u8, y as u8, 128]));
    let image = Image::from_image_buffer(buffer)?;

    // Back out as a typed buffer, or as the DynamicImage variant that fits.
    let flipped: RgbImage = image.flip(gigapix::Direction::Vertical).to_image_buffer()?;
    let deep = image.cast_scaled(BandFormat::U16).to_dynamic_image()?;
    assert!(matches!(deep, DynamicImage::ImageRgb16(_)));

    // Any DynamicImage goes in the same way.
    let again = Image::from_dynamic_image(DynamicImage::ImageRgb8(flipped))?;
    assert_eq!(again.bands(), 3);
    // ANCHOR_END: image
    assert_eq!(
        again.to_image_buffer::<Rgb<u8>>()?.get_pixel(3, 0),
        &Rgb([3, 223, 128])
    );
    Ok(())
}
