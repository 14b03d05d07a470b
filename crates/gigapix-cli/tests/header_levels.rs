//! `gigapix header` of a pyramid prints each level's size, and of a level
//! or an SVS associated image its own size; a level that does not exist
//! is a one-line error. The files are libvips 8.18's and the synthetic
//! SVS of gigapix-io's `tests/fixtures/pyramid/` (see its README).

use std::process::Command;

fn fixture(name: &str) -> String {
    format!(
        "{}/../gigapix-io/tests/fixtures/pyramid/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn header(arg: &str) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(["header", arg])
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn header_prints_the_levels() {
    let (ok, out, err) = header(&fixture("vips-jpeg-subifd.tif"));
    assert!(ok, "{err}");
    for line in [
        "width: 500",
        "levels: 4",
        "level 0: 500x300",
        "level 1: 250x150",
        "level 2: 125x75",
        "level 3: 62x37",
        "pyramid: subifd",
        "resolution-unit: inch",
    ] {
        assert!(out.lines().any(|l| l == line), "{line} missing in\n{out}");
    }
    let (ok, out, err) = header(&format!("{}[level=2]", fixture("vips-jpeg-pyramid.tif")));
    assert!(ok, "{err}");
    assert!(out.contains("width: 125\nheight: 75\n"), "{out}");
    assert!(out.lines().any(|l| l == "level: 2"), "{out}");

    let (ok, out, err) = header(&format!(
        "{}[associated=macro]",
        fixture("aperio-synthetic.svs")
    ));
    assert!(ok, "{err}");
    assert!(out.contains("width: 60\nheight: 20\n"), "{out}");
    assert!(out.lines().any(|l| l == "mpp-x: 0.499"), "{out}");

    let (ok, _, err) = header(&format!("{}[level=7]", fixture("im-jpeg-ptif.tif")));
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("level 7 does not exist"), "{err}");
}
