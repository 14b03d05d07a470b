//! `Image::from_array` / `to_array` / `write_into_array` (feature
//! `ndarray`): zero copy where promised, pixels checked against the same
//! formula computed here in `f64`.
#![cfg(feature = "ndarray")]

use gigapix::core::Ctx;
use gigapix::ndarray::{Array2, Array3, ArrayView3, ShapeBuilder, s};
use gigapix::{BandFormat, Direction, ErrorKind, Image, Interpretation, Rect, RunOptions, Sample};

/// A value for sample `(y, x, b)` that fits every format, negative ones
/// for signed formats.
fn value<T: Sample>(y: usize, x: usize, b: usize) -> T {
    let v = ((y * 7 + x * 3 + b * 11) % 100) as f64;
    let signed = T::MIN.to_f64() < 0.0;
    let v = if signed { v - 50.0 } else { v };
    let frac = if matches!(T::FORMAT, BandFormat::F32 | BandFormat::F64) {
        0.25
    } else {
        0.0
    };
    T::from_f64(v + frac)
}

fn formula<T: Sample>(shape: (usize, usize, usize)) -> Array3<T> {
    Array3::from_shape_fn(shape, |(y, x, b)| value::<T>(y, x, b))
}

/// `linear(2, 1)` as the engine defines it for `T`: computed in `f64`,
/// rounded and clamped for integers.
fn linear_ref<T: Sample>(v: T) -> T {
    T::from_f64(2.0 * v.to_f64() + 1.0)
}

/// Every direction for element type `T`: zero copy in, a computation
/// through the engine, into a new array and into a view.
fn round_trip<T: Sample>() {
    let shape = (13, 17, 3);
    let a = formula::<T>(shape);
    let ptr = a.as_ptr();
    let image = Image::from_array(a).unwrap();
    assert_eq!(
        (image.width(), image.height(), image.bands(), image.format()),
        (17, 13, 3, T::FORMAT)
    );
    assert_eq!(image.header().interpretation, Interpretation::Srgb);

    // Zero copy: a region is a view of the array's own buffer.
    let region = Ctx::standalone()
        .region(image.node(), Rect::new(0, 0, 17, 13))
        .unwrap();
    assert!(region.is_view(), "{:?}", T::FORMAT);
    assert_eq!(region.row::<T>(0).as_ptr(), ptr, "{:?}", T::FORMAT);
    drop(region);

    // Straight back: the same samples.
    let back = image.to_array::<T>().unwrap();
    assert_eq!(back, formula::<T>(shape), "{:?}", T::FORMAT);
    assert!(back.is_standard_layout());

    // Through an operation, compared with the formula in f64.
    let out = image.linear(2.0, 1.0).to_array::<T>().unwrap();
    let want = formula::<T>(shape).mapv(linear_ref);
    assert_eq!(out, want, "{:?}", T::FORMAT);

    // Into an existing array, and into a standard-layout view of one.
    let mut into = Array3::<T>::default(shape);
    image.linear(2.0, 1.0).write_into_array(&mut into).unwrap();
    assert_eq!(into, want);
    let mut big = Array3::<T>::default((20, 17, 3));
    let mut rows = big.slice_mut(s![4..17, .., ..]);
    image.write_into_array(&mut rows).unwrap();
    assert_eq!(big.slice(s![4..17, .., ..]), formula::<T>(shape));
    assert!(
        big.slice(s![..4, .., ..])
            .iter()
            .all(|&v| v == T::default())
    );

    // From a view: one copy, same pixels.
    let a = formula::<T>(shape);
    let copied = Image::from_array_view(a.view()).unwrap();
    assert_eq!(copied.to_array::<T>().unwrap(), a);
}

#[test]
fn every_element_type_round_trips() {
    round_trip::<u8>();
    round_trip::<i8>();
    round_trip::<u16>();
    round_trip::<i16>();
    round_trip::<u32>();
    round_trip::<i32>();
    round_trip::<f32>();
    round_trip::<f64>();
}

#[test]
fn invert_matches_the_formula() {
    let a = formula::<u8>((30, 40, 1));
    let image = Image::from_array(a.clone()).unwrap();
    assert_eq!(image.header().interpretation, Interpretation::Grey);
    let out = image.invert().to_array::<u8>().unwrap();
    assert_eq!(out, a.mapv(|v| 255 - v));
    // Two bands: grey plus alpha.
    let image = Image::from_array(formula::<u8>((5, 6, 2))).unwrap();
    assert_eq!(image.header().interpretation, Interpretation::Grey);
}

#[test]
fn two_dimensional_arrays() {
    let a = Array2::from_shape_fn((9, 11), |(y, x)| (y * 1000 + x) as u16);
    let want = a.clone();
    let ptr = a.as_ptr();
    let image = Image::from_array2(a).unwrap();
    assert_eq!((image.width(), image.height(), image.bands()), (11, 9, 1));
    let region = Ctx::standalone()
        .region(image.node(), Rect::new(0, 0, 11, 9))
        .unwrap();
    assert!(region.is_view());
    assert_eq!(region.row::<u16>(0).as_ptr(), ptr);
    assert_eq!(image.to_array2::<u16>().unwrap(), want);
    let e = Image::black(4, 4, 3).to_array2::<u8>().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("3 bands"), "{e}");
}

#[test]
fn an_offset_standard_array_is_still_zero_copy() {
    // Slicing rows off the top of an owned array leaves it standard but
    // starting past its buffer's first element.
    let mut a = formula::<u16>((20, 8, 2));
    a.slice_collapse(s![5.., .., ..]);
    assert!(a.is_standard_layout());
    let ptr = a.as_ptr();
    let want = a.clone();
    let image = Image::from_array(a).unwrap();
    assert_eq!(image.height(), 15);
    let region = Ctx::standalone()
        .region(image.node(), Rect::new(0, 0, 8, 15))
        .unwrap();
    assert!(region.is_view());
    assert_eq!(region.row::<u16>(0).as_ptr(), ptr);
    assert_eq!(image.to_array::<u16>().unwrap(), want);
}

#[test]
fn other_layouts_give_the_right_pixels() {
    let shape = (12, 10, 3);
    let want = formula::<f32>(shape);

    // Fortran order (column-major).
    let mut f = Array3::<f32>::zeros(shape.f());
    f.assign(&want);
    assert!(!f.is_standard_layout());
    let image = Image::from_array(f).unwrap();
    assert_eq!(image.to_array::<f32>().unwrap(), want);

    // Transposed: a (width, height, bands) array with its first two axes
    // swapped.
    let t = Array3::from_shape_fn((10, 12, 3), |(x, y, b)| value::<f32>(y, x, b));
    let t = t.permuted_axes([1, 0, 2]);
    assert!(!t.is_standard_layout());
    assert_eq!(
        Image::from_array(t.clone())
            .unwrap()
            .to_array::<f32>()
            .unwrap(),
        want
    );
    assert_eq!(
        Image::from_array_view(t.view())
            .unwrap()
            .to_array::<f32>()
            .unwrap(),
        want
    );

    // Sliced with steps, and reversed.
    let big = formula::<i16>((30, 25, 4));
    let stepped = big.slice(s![1..;2, ..;-3, ..;2]);
    let (h, w, b) = stepped.dim();
    let reference = Array3::from_shape_fn((h, w, b), |(y, x, c)| {
        value::<i16>(1 + 2 * y, 24 - 3 * x, 2 * c)
    });
    assert_eq!(stepped, reference);
    let image = Image::from_array_view(stepped).unwrap();
    assert_eq!((image.width(), image.height(), image.bands()), (9, 15, 2));
    assert_eq!(image.to_array::<i16>().unwrap(), reference);
    let image = Image::from_array(stepped.to_owned()).unwrap();
    assert_eq!(image.to_array::<i16>().unwrap(), reference);
}

#[test]
fn wrong_types_shapes_and_layouts_are_clear_errors() {
    let image = Image::black(6, 4, 3);

    // Element type.
    let e = image.to_array::<f32>().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("cast"), "{e}");
    let mut a = Array3::<u16>::zeros((4, 6, 3));
    let e = image.write_into_array(&mut a).unwrap_err();
    assert!(e.to_string().contains("cast"), "{e}");

    // Shape.
    for shape in [(6, 4, 3), (4, 6, 1), (4, 7, 3)] {
        let mut a = Array3::<u8>::zeros(shape);
        let e = image.write_into_array(&mut a).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("shape"), "{e}");
    }

    // Layout: a view with a step, and a transposed array.
    let mut big = Array3::<u8>::zeros((8, 6, 3));
    let mut stepped = big.slice_mut(s![..;2, .., ..]);
    let e = image.write_into_array(&mut stepped).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("standard"), "{e}");
    let mut t = Array3::<u8>::zeros((6, 4, 3)).permuted_axes([1, 0, 2]);
    let e = image.write_into_array(&mut t).unwrap_err();
    assert!(e.to_string().contains("standard"), "{e}");

    // Empty arrays.
    let e = Image::from_array(Array3::<u8>::zeros((0, 4, 3))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let empty: ArrayView3<'_, u8> = ArrayView3::from_shape((3, 0, 1), &[]).unwrap();
    assert!(Image::from_array_view(empty).is_err());

    // An invalid image reports its own error.
    let bad = Image::black(4, 4, 1).crop(2, 2, 10, 10);
    assert!(bad.to_array::<u8>().is_err());
    let mut a = Array3::<u8>::zeros((10, 10, 1));
    assert!(bad.write_into_array(&mut a).is_err());
}

#[test]
fn the_image_keeps_the_array_alive() {
    let image = Image::from_array(formula::<u8>((16, 16, 3))).unwrap();
    let cropped = image.crop(4, 4, 8, 8);
    drop(image);
    let got = cropped.to_array::<u8>().unwrap();
    let want = Array3::from_shape_fn((8, 8, 3), |(y, x, b)| value::<u8>(y + 4, x + 4, b));
    assert_eq!(got, want);
}

#[test]
fn many_tiles_on_many_threads_land_in_the_right_place() {
    // Big enough for many tiles, odd sizes so tiles do not divide it; the
    // engine's threads write straight into the array.
    let shape = (701, 533, 3);
    let image = Image::from_array(formula::<u16>(shape)).unwrap();
    let options = || RunOptions::new().threads(4).tile(64, 32);
    let want = formula::<u16>(shape).mapv(linear_ref);
    let got = image
        .linear(2.0, 1.0)
        .to_array_with::<u16>(options())
        .unwrap();
    assert_eq!(got, want);
    let mut into = Array3::<u16>::zeros(shape);
    image
        .linear(2.0, 1.0)
        .write_into_array_with(&mut into, options())
        .unwrap();
    assert_eq!(into, want);
    // A flip reads the array backwards: pixel (x, y) is (w - 1 - x, y).
    let flipped = image
        .flip(Direction::Horizontal)
        .to_array_with::<u16>(options())
        .unwrap();
    let want = Array3::from_shape_fn(shape, |(y, x, b)| value::<u16>(y, 532 - x, b));
    assert_eq!(flipped, want);
}

/// The book's example (book/src/streams.md includes it).
#[test]
fn book_example() -> gigapix::Result<()> {
    // ANCHOR: ndarray
    use gigapix::ndarray::{Array3, s};
    use gigapix::{BandFormat, Image};

    // Shape (height, width, bands), standard layout: the image takes the
    // array's buffer, no copy.
    let a = Array3::from_shape_fn((480, 640, 3), |(y, x, b)| {
        ((x ^ y) as u8).wrapping_add(b as u8)
    });
    let image = Image::from_array(a)?;

    // Computed into a new array (the engine writes into its buffer) ...
    let small = image.resize(0.5).to_array::<u8>()?;
    assert_eq!(small.dim(), (240, 320, 3));

    // ... or into a standard-layout view of an existing one, in place.
    let mut canvas = Array3::<f32>::zeros((600, 640, 3));
    let mut band = canvas.slice_mut(s![60..540, .., ..]);
    image
        .cast_scaled(BandFormat::F32)
        .write_into_array(&mut band)?;

    // A transposed or stepped array is copied once into standard layout.
    let transposed = Image::from_array(small.permuted_axes([1, 0, 2]))?;
    assert_eq!((transposed.width(), transposed.height()), (240, 320));
    // ANCHOR_END: ndarray
    assert_eq!(canvas[[59, 0, 0]], 0.0);
    // Pixel (5, 0), band 1: (5 ^ 0) + 1 = 6, scaled to 0..1.
    assert_eq!(canvas[[60, 5, 1]], 6.0 / 255.0);
    Ok(())
}
