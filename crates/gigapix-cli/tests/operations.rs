//! The issue-4 operations from the command line: `gigapix OPERATION IN OUT
//! ARGS`, `pipe` chains, and `thumbnail` with one or many inputs.

use std::path::Path;
use std::process::{Command, Output};

fn gigapix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(args)
        .output()
        .expect("run gigapix")
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Width and height from `gigapix header`.
fn size(path: &Path) -> (u32, u32) {
    let o = gigapix(&["header", path.to_str().unwrap()]);
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    let field = |k: &str| -> u32 {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap_or_else(|| panic!("no {k} in {text}"))
            .trim()
            .parse()
            .unwrap()
    };
    (field("width:"), field("height:"))
}

#[test]
fn operation_as_a_command_equals_the_pipe_form() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.ppm");
    let b = d.path().join("b.ppm");
    ok(&gigapix(&[
        "gaussblur",
        "noise:64x40x3:2",
        a.to_str().unwrap(),
        "2.5",
    ]));
    ok(&gigapix(&[
        "pipe",
        "noise:64x40x3:2",
        b.to_str().unwrap(),
        "--",
        "gaussblur",
        "2.5",
    ]));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn every_operation_runs_from_the_command_line() {
    let d = tempfile::tempdir().unwrap();
    let mat = d.path().join("sharpen.mat");
    std::fs::write(&mat, "3 3 8 0\n-1 -1 -1\n-1 16 -1\n-1 -1 -1\n").unwrap();
    let out = d.path().join("o.tif");
    let o = out.to_str().unwrap();
    let m = mat.to_str().unwrap();
    let cases: &[(&[&str], (u32, u32))] = &[
        (&["shrink", "noise:64x40x3", o, "2"], (32, 20)),
        (&["shrink", "noise:64x40x3", o, "4", "2"], (16, 20)),
        (
            &["reduce", "noise:64x40x3", o, "2", "kernel=mitchell"],
            (32, 20),
        ),
        (
            &[
                "resize",
                "noise:64x40x3",
                o,
                "0.5",
                "kernel=lanczos2",
                "gap=0",
            ],
            (32, 20),
        ),
        (&["resize", "noise:64x40x3", o, "1.5"], (96, 60)),
        (
            &["rotate", "noise:64x40x3", o, "90", "interpolate=nearest"],
            (40, 64),
        ),
        (
            &["affine", "noise:64x40x3", o, "2", "0", "0", "2"],
            (128, 80),
        ),
        (&["conv", "noise:64x40x3", o, m], (64, 40)),
        (
            &[
                "conv",
                "noise:64x40x3",
                o,
                "1 2 1; 2 4 2; 1 2 1",
                "scale=16",
            ],
            (64, 40),
        ),
        (
            &["convsep", "noise:64x40x3", o, "1 4 6 4 1", "scale=16"],
            (64, 40),
        ),
        (&["sobel", "noise:64x40x1", o], (64, 40)),
        (&["gaussblur", "noise:64x40x3", o, "1.5"], (64, 40)),
        (&["boxblur", "noise:64x40x3", o, "5", "3"], (64, 40)),
        (
            &["sharpen", "noise:64x40x3", o, "sigma=1", "amount=1.5"],
            (64, 40),
        ),
        (&["erode", "noise:64x40x3", o, "3"], (64, 40)),
        (&["dilate", "noise:64x40x3", o, "3", "5"], (64, 40)),
        (&["premultiply", "noise:64x40x4", o], (64, 40)),
        (&["unpremultiply", "noise:64x40x4", o], (64, 40)),
        (
            &["flatten", "noise:64x40x4", o, "background=255,255,255"],
            (64, 40),
        ),
        (
            &[
                "composite",
                "noise:64x40x4",
                o,
                "noise:20x10x4:3",
                "5",
                "-3",
            ],
            (64, 40),
        ),
        (&["colourspace", "noise:64x40x3", o, "grey"], (64, 40)),
        (&["colourspace", "noise:64x40x3", o, "scrgb"], (64, 40)),
        (&["cast_scaled", "noise:64x40x3", o, "u16"], (64, 40)),
        (&["colourspace", "noise:64x40x3", o, "grey16"], (64, 40)),
        (
            &["colourspace", "noise:64x40x3", o, "scrgb", "format=f32"],
            (64, 40),
        ),
    ];
    for (args, want) in cases {
        let _ = std::fs::remove_file(&out);
        ok(&gigapix(args));
        assert_eq!(size(&out), *want, "{args:?}");
    }
}

#[test]
fn bad_operation_arguments_are_usage_errors() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("o.ppm");
    let o = out.to_str().unwrap();
    for args in [
        &["gaussblur", "noise:8x8", o][..],
        &["resize", "noise:8x8", o, "0.5", "kernel=bogus"],
        &["rotate", "noise:8x8", o, "30", "interpolate=bogus"],
        &["conv", "noise:8x8", o, "1 2; 3"],
        &["frobnicate", "noise:8x8", o],
    ] {
        let r = gigapix(args);
        assert_eq!(
            r.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(!out.exists());
    }
}

#[test]
fn thumbnail_fits_the_box_crops_and_takes_many_inputs() {
    let d = tempfile::tempdir().unwrap();
    let jpg = d.path().join("photo.jpg");
    let png = d.path().join("flat.png");
    ok(&gigapix(&[
        "copy",
        "noise:800x600x3:1",
        jpg.to_str().unwrap(),
    ]));
    ok(&gigapix(&[
        "copy",
        "noise:300x500x4:2",
        png.to_str().unwrap(),
    ]));
    let tn = d.path().join("tn.jpg");
    let spec = format!("{}[Q=75]", tn.display());
    ok(&gigapix(&[
        "thumbnail",
        jpg.to_str().unwrap(),
        &spec,
        "256",
    ]));
    assert_eq!(size(&tn), (256, 192));
    ok(&gigapix(&[
        "thumbnail",
        jpg.to_str().unwrap(),
        tn.to_str().unwrap(),
        "100",
        "--height",
        "100",
        "--crop",
    ]));
    assert_eq!(size(&tn), (100, 100));
    // Portrait with alpha into a 64x64 box: 38x64.
    let tp = d.path().join("tp.png");
    ok(&gigapix(&[
        "thumbnail",
        png.to_str().unwrap(),
        tp.to_str().unwrap(),
        "64",
    ]));
    assert_eq!(size(&tp), (38, 64));
    // Several inputs, one output each beside its input.
    ok(&gigapix(&[
        "--threads",
        "2",
        "thumbnail",
        "-s",
        "50",
        "-o",
        "small_%s.png",
        jpg.to_str().unwrap(),
        png.to_str().unwrap(),
    ]));
    assert_eq!(size(&d.path().join("small_photo.png")), (50, 38));
    assert_eq!(size(&d.path().join("small_flat.png")), (30, 50));
    // A missing input fails that one image, exit 1, the rest are made.
    let missing = d.path().join("missing.jpg");
    let r = gigapix(&[
        "thumbnail",
        "-s",
        "20",
        "-o",
        "x_%s.png",
        missing.to_str().unwrap(),
        jpg.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(d.path().join("x_photo.png").exists());
    assert!(!d.path().join("x_missing.png").exists());
}
