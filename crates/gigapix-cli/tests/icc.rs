//! ICC operations and thumbnail options from the command line: results
//! carry the output profile, and bad profiles are one-line errors with
//! exit status 1. Pixel accuracy against libvips is checked in
//! `crates/gigapix/tests/icc.rs`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn gigapix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(args)
        .output()
        .expect("run gigapix")
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../gigapix/tests/fixtures/icc")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn fails_in_one_line(o: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(needle), "{err}");
}

#[test]
fn icc_transform_and_thumbnail_from_the_command_line() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("o.png");
    let out = out.to_str().unwrap();
    let o = gigapix(&["icc_transform", &fixture("cmyk-adobe.jpg"), out, "p3"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let header = gigapix(&["header", out]);
    let text = String::from_utf8_lossy(&header.stdout);
    assert!(text.contains("bands:") && text.contains('3'), "{text}");
    let tn = d.path().join("t.jpg");
    let o = gigapix(&[
        "thumbnail",
        &fixture("adobe-rgb.jpg"),
        tn.to_str().unwrap(),
        "16",
        "--export-profile",
        "srgb",
        "--intent",
        "perceptual",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let truncated = d.path().join("short.icc");
    std::fs::write(&truncated, [0u8; 100]).unwrap();
    let input = fixture("p3.png");
    fails_in_one_line(
        &gigapix(&["icc_transform", &input, out, truncated.to_str().unwrap()]),
        "ICC profile",
    );
    fails_in_one_line(
        &gigapix(&["icc_transform", &input, out, "/nonexistent.icc"]),
        "/nonexistent.icc",
    );
    fails_in_one_line(
        &gigapix(&[
            "icc_transform",
            &fixture("cmyk-im.jpg"),
            out,
            "srgb",
            "black_point_compensation=true",
        ]),
        "black point compensation",
    );
    fails_in_one_line(
        &gigapix(&["thumbnail", &input, out, "16", "--intent", "sideways"]),
        "intent",
    );
}
