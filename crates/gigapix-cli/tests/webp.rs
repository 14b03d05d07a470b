//! WebP from the command line: damaged files are one-line errors with
//! exit status 1 and no output file, `thumbnail` shrinks WebP on load, and
//! `dzsave --suffix .webp` writes WebP tiles. Pixels are checked against
//! libvips in `crates/gigapix-io/tests/webp.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gigapix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(args)
        .output()
        .expect("run gigapix")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../gigapix-io/tests/fixtures/webp")
        .join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn damaged_webp_is_one_line_and_exit_1() {
    let d = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("lossy.webp")).unwrap();
    let anim = std::fs::read(fixture("anim.webp")).unwrap();
    let mut cases = vec![
        Vec::new(),
        good[..12].to_vec(),
        good[..good.len() - 100].to_vec(),
        anim[..anim.len() / 2].to_vec(),
    ];
    let mut flipped = good.clone();
    flipped[33] ^= 0xa5;
    cases.push(flipped);
    let mut lying = good.clone();
    lying[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    cases.push(lying);
    for (i, bytes) in cases.iter().enumerate() {
        let bad = d.path().join(format!("bad{i}.webp"));
        std::fs::write(&bad, bytes).unwrap();
        let out = d.path().join(format!("out{i}.png"));
        let o = gigapix(&["copy", s(&bad), s(&out)]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "case {i}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "case {i}: {err}");
        assert!(!out.exists(), "case {i}: output left behind");
    }
}

#[test]
fn thumbnail_and_copy_to_webp() {
    let d = tempfile::tempdir().unwrap();
    let tn = d.path().join("tn.webp");
    let o = gigapix(&["thumbnail", s(&fixture("lossy.webp")), s(&tn), "40"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let h = gigapix(&["header", s(&tn)]);
    let text = String::from_utf8_lossy(&h.stdout);
    assert!(text.contains("webp") && text.contains("40"), "{text}");
    let q = d.path().join("q.webp");
    let target = format!("{}[Q=80]", s(&q));
    let o = gigapix(&["copy", s(&fixture("photo.png")), &target]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(&q).unwrap().starts_with(b"RIFF"));
}

#[test]
fn dzsave_writes_webp_tiles() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("t.dzi");
    let o = gigapix(&[
        "dzsave",
        s(&fixture("photo.png")),
        s(&out),
        "--tile-size",
        "128",
        "--suffix",
        ".webp[Q=70]",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let tile = d.path().join("t_files/0/0_0.webp");
    assert!(std::fs::read(&tile).unwrap().starts_with(b"RIFF"));
    let o = gigapix(&["header", s(&tile)]);
    assert!(o.status.success());
}
