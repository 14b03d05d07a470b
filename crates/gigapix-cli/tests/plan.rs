//! `--plan` and `--memory`.

use std::process::{Command, Output};

fn gigapix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(args)
        .output()
        .expect("gigapix runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn plan_prints_without_computing() {
    // 3 TB of pixels: computing would not finish.
    let out = gigapix(&[
        "--plan",
        "--threads",
        "2",
        "pipe",
        "noise:1000000x1000000x3",
        "-",
        "--",
        "gaussblur",
        "10",
        ":",
        "invert",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for want in [
        "output: 1000000x1000000 3 bands u8",
        "geometry: tiles 1000000x",
        "2 threads",
        "gaussblur 1000000x1000000",
        "noise 1000000x1000000",
        "estimated peak memory",
        "region buffers",
        "process baseline",
    ] {
        assert!(s.contains(want), "`{want}` missing from:\n{s}");
    }
}

#[test]
fn plan_of_a_save_counts_the_encoder_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jpg");
    let out_str = out_path.to_str().unwrap();
    let out = gigapix(&["--plan", "copy", "zone:4000x3000", out_str]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("ordered: threads + 2 bands"), "{s}");
    assert!(!s.contains("codec                0.0 MB"), "{s}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn memory_budget_refuses_or_fits() {
    let out = gigapix(&[
        "--memory",
        "1M",
        "pipe",
        "noise:20000x20000x3",
        "-",
        "--",
        "gaussblur",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(e.contains("over the memory budget of 1.0 MB"), "{e}");
    assert!(e.contains("the smallest plan"), "{e}");
    // A budget that fits: the run goes ahead (in shorter strips).
    let out = gigapix(&[
        "--memory",
        "40M",
        "--plan",
        "pipe",
        "noise:20000x2000x3",
        "-",
        "--",
        "gaussblur",
        "10",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("budget: 40.0 MB (fits)"));
    let out = gigapix(&[
        "--memory",
        "40M",
        "pipe",
        "noise:20000x2000x3",
        "-",
        "--",
        "gaussblur",
        "10",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Sizes: units, and nonsense refused as a usage error.
    let out = gigapix(&[
        "--memory",
        "lots",
        "pipe",
        "black:10x10x1",
        "-",
        "--",
        "invert",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown unit `lots`"));
    let out = gigapix(&[
        "--memory",
        "1.5GiB",
        "--plan",
        "pipe",
        "black:10x10x1",
        "-",
        "--",
        "invert",
    ]);
    assert!(
        text(&out.stdout).contains("budget: 1610.6 MB"),
        "{}",
        text(&out.stdout)
    );
}
