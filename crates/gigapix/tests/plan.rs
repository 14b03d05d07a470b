//! `Image::plan`: the estimate of the pixel memory the engine tracks, for
//! real operations, against what a run measures; and plans of images far
//! too large to compute.

use gigapix::core::Discard;
use gigapix::{BASELINE_BYTES, Image, Kernel, Matrix, RunOptions};

/// `(estimate, measured)` of the tracked pixel memory plus the baseline,
/// for an ordered run (the saving path) on `threads` workers.
fn compare(image: &Image, threads: usize) -> (f64, f64) {
    let opts = RunOptions::new().threads(threads);
    let plan = image.plan_save("unused.tif", &opts).unwrap();
    let report = image.run(opts).write_to(Box::new(Discard)).unwrap();
    assert_eq!(plan.tile, report.tile);
    assert_eq!(plan.threads, report.threads);
    (
        (plan.tracked_pixel_bytes() + BASELINE_BYTES) as f64,
        (report.peak_pixel_bytes + BASELINE_BYTES) as f64,
    )
}

#[test]
fn estimates_are_within_a_quarter_of_the_tracked_peak() {
    let src = || Image::noise(3000, 2000, 3, 7);
    let sharpen = Matrix::new(3, 3, vec![-1., -1., -1., -1., 16., -1., -1., -1., -1.])
        .unwrap()
        .with_scale(8.0);
    let cases = [
        ("gaussblur 10", src().gaussblur(10.0)),
        ("gaussblur 1.5", src().gaussblur(1.5)),
        ("resize 0.8", src().resize(0.8)),
        ("resize 0.125", src().resize(0.125)),
        (
            "vips-bench",
            src()
                .crop(100, 100, 2800, 1800)
                .reduce_with(1.0 / 0.9, 1.0 / 0.9, Kernel::Linear)
                .conv(&sharpen),
        ),
        ("linear invert", src().linear(1.1, 5.0).invert()),
    ];
    for (name, image) in cases {
        for threads in [1, 2] {
            let (est, got) = compare(&image, threads);
            let r = est / got;
            assert!(
                (0.75..=1.25).contains(&r),
                "{name}, {threads} threads: estimate {est:.0}, measured {got:.0}, ratio {r:.2}"
            );
        }
    }
}

#[test]
fn a_plan_of_a_terapixel_pipeline_returns_at_once() {
    let image = Image::noise(1_000_000, 1_000_000, 3, 1)
        .gaussblur(10.0)
        .resize(0.5);
    let plan = image.plan(&RunOptions::new().threads(2)).unwrap();
    assert_eq!(plan.output.width, 500_000);
    let names: Vec<&str> = plan.nodes.iter().map(|n| n.name).collect();
    assert_eq!(names[0], "resize");
    assert!(names.contains(&"noise"), "{names:?}");
    assert!(plan.scratch_bytes > 0, "{plan}");
    // Far too much for a budget of 10 MB: refused with the estimate.
    let err = image
        .plan(&RunOptions::new().threads(2).memory_budget(10_000_000))
        .unwrap_err();
    assert!(err.to_string().contains("over the memory budget"), "{err}");
}
