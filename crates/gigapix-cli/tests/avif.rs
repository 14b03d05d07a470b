//! AVIF from the command line: `copy` saves AVIF with options, refuses bad
//! ones and AVIF input with one-line errors, exit status 1 and no output
//! file; `dzsave --suffix .avif` writes AVIF tiles. Pixels are checked
//! against libvips and Pillow in `crates/gigapix-io/tests/avif.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gigapix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(args)
        .output()
        .expect("run gigapix")
}

fn photo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../gigapix-io/tests/fixtures/webp/photo.png")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn is_avif(p: &Path) -> bool {
    std::fs::read(p).is_ok_and(|b| b.len() > 12 && &b[4..12] == b"ftypavif")
}

#[test]
fn copy_to_avif_and_refusals() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("a.avif");
    let target = format!("{}[Q=60,effort=2]", s(&out));
    let o = gigapix(&["copy", s(&photo()), &target]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(is_avif(&out));
    // Reading AVIF is refused in one line.
    let png = d.path().join("back.png");
    let o = gigapix(&["copy", s(&out), s(&png)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("AVIF reading is not supported"), "{err}");
    assert!(!png.exists());
    // Bad options: one line, exit 1, nothing written.
    for opt in [
        "[Q=0]",
        "[subsample_mode=on]",
        "[bitdepth=12]",
        "[effort=x]",
    ] {
        let bad = d.path().join("bad.avif");
        let o = gigapix(&["copy", s(&photo()), &format!("{}{opt}", s(&bad))]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{opt}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{opt}: {err}");
        assert!(!bad.exists(), "{opt}: output left behind");
    }
}

#[test]
fn dzsave_writes_avif_tiles() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("t.dzi");
    let o = gigapix(&[
        "dzsave",
        s(&photo()),
        s(&out),
        "--tile-size",
        "128",
        "--suffix",
        ".avif[Q=60]",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(is_avif(&d.path().join("t_files/0/0_0.avif")));
    assert!(is_avif(&d.path().join("t_files/8/1_1.avif")));
}
