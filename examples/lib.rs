//! Helpers shared by the examples of gigapix.
//!
//! The examples themselves are the other `.rs` files of this directory, one
//! program each, and need no input files:
//!
//! | example | shows |
//! |---|---|
//! | `gigapixel` | a 2.5-gigapixel pipeline pulled by the null sink, with its report |
//! | `open_crop_save` | `Image::open(..)?.crop(..).flip(..).linear(..).save(..)?` |
//! | `write_into` | computing into a buffer of your own |
//! | `statistics` | statistics and histograms of a chain |
//! | `custom_operation` | implementing `gigapix::Operation` |
//! | `cancel_and_progress` | progress callbacks and cancelling a run |
//! | `sequential_source` | a top-to-bottom source and the planner's caches |
//! | `formats` | TIFF, PNG and JPEG with options, metadata and `fail_on` |
//! | `vips_bench` | the vips-bench pipeline: crop, reduce, 3x3 sharpen, save |
//! | `thumbnail` | resampling and thumbnails of a synthetic photo |
//!
//! Run one with `cargo run --release -p gigapix-examples --example NAME`.

use std::path::PathBuf;

/// The Rust code of the README, compiled and run as a doctest by
/// `cargo test --doc --workspace`.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The path given on the command line, or `name` in the system's temporary
/// directory.
pub fn output_path(arg: Option<String>, name: &str) -> PathBuf {
    arg.map_or_else(|| std::env::temp_dir().join(name), PathBuf::from)
}

/// The peak resident set size of this process in bytes: `VmHWM` in
/// `/proc/self/status`. `None` where the system does not report it
/// (anything but Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// `bytes` in megabytes (10^6 bytes, as [`gigapix::RunReport`] prints
/// them), for example `"12.3 MB"`.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The peak resident set size as text: megabytes, or `"n/a"`.
pub fn peak_rss_text() -> String {
    peak_rss_bytes().map_or_else(|| "n/a".to_string(), megabytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn megabytes_are_decimal() {
        assert_eq!(megabytes(12_345_678), "12.3 MB");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn peak_rss_is_reported_on_linux() {
        let rss = peak_rss_bytes().expect("VmHWM in /proc/self/status");
        assert!(rss > 0);
    }
}
