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
    fn start(&self) -> Result<()> {
        Ok(())
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
