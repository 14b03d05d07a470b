//! ICC transforms and thumbnails against libvips 8.18 (lcms2): the
//! fixtures and the reference results in `tests/fixtures/icc` were made by
//! pyvips 8.18 and ImageMagick (see its README). Colours are compared as
//! CIELab (D65, f64 reference formulas): mean ΔE76 at most 1, max at most 3.

use std::path::PathBuf;

use gigapix::icc::{IccOptions, Profile, icc_transform};
use gigapix::{BandFormat, Image};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/icc")
        .join(name)
}

fn srgb_to_lab(rgb: [f64; 3]) -> [f64; 3] {
    let lin = |v: f64| {
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (lin(rgb[0]), lin(rgb[1]), lin(rgb[2]));
    let x = 0.4124 * r + 0.3576 * g + 0.1805 * b;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = 0.0193 * r + 0.1192 * g + 0.9505 * b;
    let f = |t: f64| {
        if t > 216.0 / 24389.0 {
            t.cbrt()
        } else {
            (24389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x / 0.95047), f(y), f(z / 1.08883));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// The pixels of a 3-band sRGB image as 0..1 triples.
fn rgb(image: &Image) -> Vec<[f64; 3]> {
    assert_eq!(image.bands(), 3, "3 bands");
    let bytes = image.to_vec().unwrap();
    let v: Vec<f64> = match image.format() {
        BandFormat::U8 => bytes.iter().map(|&b| b as f64 / 255.0).collect(),
        BandFormat::U16 => bytes
            .chunks_exact(2)
            .map(|c| u16::from_ne_bytes([c[0], c[1]]) as f64 / 65535.0)
            .collect(),
        f => panic!("format {f}"),
    };
    v.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect()
}

/// (mean, max) ΔE76 between two sRGB images.
fn delta_e(a: &Image, b: &Image) -> (f64, f64) {
    assert_eq!((a.width(), a.height()), (b.width(), b.height()));
    let (pa, pb) = (rgb(a), rgb(b));
    let mut sum = 0.0;
    let mut max = 0.0f64;
    for (p, q) in pa.iter().zip(&pb) {
        let (l, m) = (srgb_to_lab(*p), srgb_to_lab(*q));
        let d = ((l[0] - m[0]).powi(2) + (l[1] - m[1]).powi(2) + (l[2] - m[2]).powi(2)).sqrt();
        sum += d;
        max = max.max(d);
    }
    (sum / pa.len() as f64, max)
}

const FIXTURES: &[&str] = &[
    "adobe-rgb.jpg",
    "p3.png",
    "prophoto16.tif",
    "cmyk-adobe.jpg",
    "cmyk-im.jpg",
];

fn stem(name: &str) -> &str {
    name.rsplit_once('.').unwrap().0
}

#[test]
fn icc_transform_to_srgb_matches_libvips() {
    let srgb = Profile::named("srgb").unwrap();
    for name in FIXTURES {
        let input = Image::open(fixture(name)).unwrap();
        assert!(input.metadata().icc.is_some(), "{name} has a profile");
        let ours = Image::from(icc_transform(input.node(), &srgb, &IccOptions::default()).unwrap());
        let reference = Image::open(fixture(&format!("ref-{}-srgb.png", stem(name)))).unwrap();
        assert_eq!(
            ours.format(),
            reference.format(),
            "{name}: depth kept as libvips"
        );
        let (mean, max) = delta_e(&ours, &reference);
        println!("{name}: icc_transform ΔE76 mean {mean:.3} max {max:.3}");
        assert!(mean <= 1.0 && max <= 3.0, "{name}: mean {mean} max {max}");
        assert_eq!(ours.metadata().icc.as_deref(), srgb.bytes().map(|b| &b[..]));
    }
}

#[test]
fn thumbnail_to_srgb_matches_libvips() {
    let srgb = Profile::named("srgb").unwrap();
    for name in FIXTURES {
        let reference = Image::open(fixture(&format!("ref-{}-thumb32.png", stem(name)))).unwrap();
        for options in [
            gigapix::ThumbnailOptions::new().export_profile("srgb"),
            gigapix::ThumbnailOptions::new(),
        ] {
            let ours = Image::thumbnail(fixture(name), 32, &options).unwrap();
            assert_eq!(ours.format(), BandFormat::U8, "{name}");
            let (mean, max) = delta_e(&ours, &reference);
            println!("{name}: thumbnail ΔE76 mean {mean:.3} max {max:.3}");
            assert!(mean <= 1.0 && max <= 3.0, "{name}: mean {mean} max {max}");
            assert_eq!(ours.metadata().icc.as_deref(), srgb.bytes().map(|b| &b[..]));
        }
    }
}

#[test]
fn bad_profiles_are_errors() {
    let image = Image::open(fixture("p3.png")).unwrap();
    let good = image.metadata().icc.clone().unwrap();
    // Every truncation of a real profile, and a few flipped bytes: an
    // error or a working transform, never a panic.
    for len in (0..good.len()).step_by(7) {
        let _ = Profile::from_bytes(&good[..len]);
    }
    for i in (0..good.len()).step_by(3) {
        let mut bad = good.to_vec();
        bad[i] ^= 0xa5;
        if let Ok(p) = Profile::from_bytes(&bad) {
            let srgb = Profile::named("srgb").unwrap();
            let mut o = IccOptions::default();
            o.input_profile = Some(p);
            o.embedded = false;
            if let Ok(t) = icc_transform(image.node(), &srgb, &o) {
                let _ = Image::from(t).to_vec();
            }
        }
    }
    assert!(Profile::from_bytes(&good[..100]).is_err());
    // Built-in profiles encode the same bytes every time.
    let again = || Profile::named("p3").unwrap().bytes().cloned().unwrap();
    let first = again();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(first, again());
    let e = Profile::named("/nonexistent/profile.icc").unwrap_err();
    assert!(e.to_string().contains("/nonexistent/profile.icc"), "{e}");
    // A 3-band profile for a 1-band image.
    let grey = Image::black(4, 4, 1);
    let mut o = IccOptions::default();
    o.input_profile = Some(Profile::named("p3").unwrap());
    assert!(icc_transform(grey.node(), &Profile::named("srgb").unwrap(), &o).is_err());
}

#[test]
fn import_export_round_trip_and_white() {
    // sRGB white imports to Lab (100, 0, 0) (D50, relative), and Lab
    // exports back to the same sRGB values.
    use gigapix::icc::{icc_export, icc_import};
    let input = Image::open(fixture("p3.png")).unwrap();
    let lab = Image::from(icc_import(input.node(), &IccOptions::default()).unwrap());
    assert_eq!(lab.format(), BandFormat::F32);
    let white = Image::from(
        icc_import(
            Image::black(1, 1, 3).invert().node(),
            &IccOptions::default(),
        )
        .unwrap(),
    );
    let w: Vec<f32> = white
        .to_vec()
        .unwrap()
        .chunks_exact(4)
        .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    assert!(
        (w[0] - 100.0).abs() < 0.1 && w[1].abs() < 0.2 && w[2].abs() < 0.2,
        "{w:?}"
    );
    let p3 = Profile::from_bytes(input.metadata().icc.as_deref().unwrap()).unwrap();
    let back = Image::from(icc_export(lab.node(), &p3, &IccOptions::default()).unwrap());
    let (a, b) = (input.to_vec().unwrap(), back.to_vec().unwrap());
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (*x as i32 - *y as i32).abs())
        .max()
        .unwrap();
    assert!(worst <= 1, "round trip off by {worst}");
}
