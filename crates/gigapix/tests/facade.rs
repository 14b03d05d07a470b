//! The facade end to end: atomic saves under failure, sinks agreeing with
//! each other, invalid steps reported with the operation's name.

use gigapix::core::{Inputs, Operation};
use gigapix::{BandFormat, Direction, ErrorKind, Header, Image, Rect, Region, Result, RunOptions};

/// Passes its input through but fails on the band containing row 300.
struct FailAt300;

impl Operation for FailAt300 {
    type State = ();
    fn name(&self) -> &'static str {
        "fail_at_300"
    }
    fn header(&self, i: &[Header]) -> Result<Header> {
        Ok(i[0])
    }
    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        if out.y <= 300 && out.bottom() > 300 {
            return Err(gigapix::Error::format("injected"));
        }
        inputs.get(0, out)
    }
}

#[test]
fn failed_save_mid_run_leaves_nothing_and_keeps_existing_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ppm");
    let bad = Image::from(gigapix::core::Image::new(
        FailAt300,
        vec![Image::noise(64, 1000, 3, 1).node().clone()],
    ));
    let e = bad.save(&out).unwrap_err();
    assert_eq!(e.operation(), Some("fail_at_300"));
    assert!(!out.exists());
    std::fs::write(&out, b"keep me").unwrap();
    assert!(bad.run(RunOptions::new().threads(2)).save(&out).is_err());
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary left behind"
    );
}

#[test]
fn save_open_round_trip_and_sinks_agree() {
    let dir = tempfile::tempdir().unwrap();
    let img = Image::noise(123, 77, 3, 5)
        .flip(Direction::Horizontal)
        .linear(0.5, 10.0);
    let path = dir.path().join("a.ppm");
    img.save(&path).unwrap();
    let back = Image::open(&path).unwrap();
    assert_eq!(back.header(), img.header());
    let a = img.to_vec().unwrap();
    assert_eq!(back.to_vec().unwrap(), a);
    // Statistics agree with the pixels.
    let s = back.stats().unwrap();
    let band0: Vec<f64> = a.iter().step_by(3).map(|&v| v as f64).collect();
    let mean = band0.iter().sum::<f64>() / band0.len() as f64;
    assert!((s.bands[0].mean - mean).abs() < 1e-9);
    assert_eq!(back.min().unwrap(), a.iter().copied().min().unwrap() as f64);
    let hist = back.hist().unwrap();
    assert_eq!(hist.bands[1].iter().sum::<u64>(), 123 * 77);
}

#[test]
fn invalid_steps_name_their_operation() {
    let img = Image::black(10, 10, 3);
    let e = img.crop(5, 5, 10, 10).invert().check().unwrap_err();
    assert_eq!(e.operation(), Some("crop"));
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = img
        .bandjoin(&[Image::black(11, 10, 1)])
        .stats()
        .unwrap_err();
    assert_eq!(e.operation(), Some("bandjoin"));
    let e = img.extract_band(3, 1).to_vec().unwrap_err();
    assert_eq!(e.operation(), Some("extract_band"));
    assert_eq!(
        Image::black(4, 4, 1)
            .cast(BandFormat::F32)
            .hist()
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
}

/// A 300x200 RGB TIFF whose orientation tag says "rotate 90° clockwise to
/// view" (6), and a JPEG of the same pixels.
fn oriented_files(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let tif = dir.join("o6.tif");
    let jpg = dir.join("plain.jpg");
    let img = Image::zone(300, 200).bandjoin(&[Image::zone(300, 200), Image::zone(300, 200)]);
    let pixels = img.to_vec().unwrap();
    let mut meta = gigapix::Metadata::new();
    meta.orientation = 6;
    let mut w =
        gigapix_io::writer(&tif, img.header(), &meta, &gigapix::SaveOptions::new()).unwrap();
    w.write_band(0, 200, &pixels).unwrap();
    w.finish().unwrap();
    img.save(&jpg).unwrap();
    (tif, jpg)
}

#[test]
fn thumbnail_fits_the_upright_image_in_the_box() {
    use gigapix::ThumbnailOptions;
    let dir = tempfile::tempdir().unwrap();
    let (tif, jpg) = oriented_files(dir.path());
    // Upright, the TIFF is 200x300: 43x64 in a 64 box.
    let t = Image::thumbnail(&tif, 64, &ThumbnailOptions::new()).unwrap();
    assert_eq!((t.width(), t.height()), (43, 64));
    assert_eq!(t.metadata().orientation, 1);
    let t = Image::thumbnail(&tif, 64, &ThumbnailOptions::new().no_rotate(true)).unwrap();
    assert_eq!((t.width(), t.height()), (64, 43));
    // A box of another shape, and crop to fill it exactly.
    let t = Image::thumbnail(&jpg, 100, &ThumbnailOptions::new().height(20)).unwrap();
    assert_eq!((t.width(), t.height()), (30, 20));
    let t = Image::thumbnail(&jpg, 100, &ThumbnailOptions::new().height(20).crop(true)).unwrap();
    assert_eq!((t.width(), t.height()), (100, 20));
    // Shrink-on-load (300 / 16 >= 16: a 1/8 decode) gives the same size
    // and nearly the same pixels as resizing the full decode.
    let small = Image::thumbnail(&jpg, 16, &ThumbnailOptions::new()).unwrap();
    let full = Image::open(&jpg).unwrap().resize_to(16, 11);
    assert_eq!((small.width(), small.height()), (16, 11));
    let (a, b) = (small.to_vec().unwrap(), full.to_vec().unwrap());
    let mad = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| f64::from(x.abs_diff(y)))
        .sum::<f64>()
        / a.len() as f64;
    assert!(mad < 8.0, "mean abs diff {mad}");
}

/// A JPEG save is the same bytes however the run is cut: bands encoded on
/// the workers (straight from packed regions, or from bands assembled from
/// narrower tiles) or, for band heights that are not whole strips, by the
/// writer's own strip threads; and the same as writing the rows to the
/// writer by hand.
#[test]
fn jpeg_bytes_do_not_depend_on_tiles_or_threads() {
    let dir = tempfile::tempdir().unwrap();
    for (w, h, bands, q, subsample) in [
        (1001u32, 777u32, 3u32, 85, "auto"),
        (640, 301, 3, 90, "444"),
        (515, 300, 3, 80, "422"),
        (333, 555, 1, 75, "auto"),
    ] {
        let image = Image::noise(w, h, bands, 3)
            .gaussblur(1.5)
            .linear(1.0, 0.0)
            .cast(BandFormat::U8);
        let mut pixels = vec![0u8; image.header().image_bytes() as usize];
        image.write_into(&mut pixels).unwrap();
        let by_hand = dir.path().join("hand.jpg");
        let save_opts = gigapix_io::SaveOptions::new()
            .set("Q", q)
            .set("subsample", subsample);
        let mut writer =
            gigapix_io::writer(&by_hand, image.header(), &Default::default(), &save_opts).unwrap();
        let row = (w * bands) as usize;
        for (i, rows) in pixels.chunks(row * 50).enumerate() {
            writer
                .write_band(i as u32 * 50, (rows.len() / row) as u32, rows)
                .unwrap();
        }
        writer.finish().unwrap();
        let want = std::fs::read(&by_hand).unwrap();
        let runs = [
            RunOptions::new(),
            RunOptions::new().threads(1),
            RunOptions::new().threads(3).tile(w, 7),
            RunOptions::new().threads(2).tile(w / 3 + 1, 64),
            RunOptions::new().threads(2).tile(w, 128),
        ];
        for (k, run) in runs.into_iter().enumerate() {
            let path = dir.path().join(format!("run{k}.jpg"));
            image.run(run).save_with(&path, &save_opts).unwrap();
            let got = std::fs::read(&path).unwrap();
            assert!(
                got == want,
                "{w}x{h}x{bands} Q{q} {subsample} run {k}: bytes differ"
            );
        }
    }
}
