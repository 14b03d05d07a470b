//! Images larger than the limits are refused when their node is built:
//! the command fails at once with one line naming the operation, instead
//! of running for ever.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs gigapix, failing the test if it has not exited within `limit`.
fn gigapix_within(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gigapix");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gigapix {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// Asserts a failure (exit 1) within a few seconds, with one line on
/// stderr that names `op` and the limit, and nothing on stdout.
fn refused(args: &[&str], op: &str, what: &str) {
    let o = gigapix_within(args, Duration::from_secs(20));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert!(o.stdout.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("gigapix: error: "), "{err}");
    assert!(err.contains(op), "{err} does not name {op}");
    assert!(err.contains(what), "{err} does not say {what}");
}

#[test]
fn embed_to_a_billion_per_side_is_refused_at_once() {
    refused(
        &[
            "pipe",
            "noise:100x100x3",
            "-",
            "--",
            "embed",
            "0",
            "0",
            "1000000000",
            "1000000000",
        ],
        "embed",
        "limit of 10000000 per side",
    );
}

#[test]
fn resize_to_1e14_pixels_is_refused_at_once() {
    refused(
        &["pipe", "noise:100x100x3", "-", "--", "resize", "100000"],
        "resize",
        &format!("more than the limit of {}", 1u64 << 40),
    );
}

#[test]
fn a_generator_beyond_the_limits_is_refused_too() {
    // 2 * 10^12 pixels (the generator's arguments allow up to 10^7 a
    // side).
    refused(
        &["copy", "black:10000000x200000x1", "-"],
        "black",
        "more than the limit",
    );
}

#[test]
fn large_images_within_the_limits_still_build() {
    // 9 999 999 per side and 10^12 pixels are allowed: only the header is
    // looked at here.
    let o = gigapix_within(
        &["header", "black:9999999x100000x1"],
        Duration::from_secs(20),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("width: 9999999"), "{out}");
    assert!(out.contains("height: 100000"), "{out}");
}
