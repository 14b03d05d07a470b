//! Tells the crate whether MozJPEG's SIMD was built: mozjpeg-sys builds it
//! on x86 only when `nasm` runs (and is not a 0.x version), on ARM with the
//! C compiler's assembler. The same test here sets `GIGAPIX_MOZJPEG_SIMD`
//! for `env!` (`1` or `0`).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-changed=build.rs");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let mozjpeg = std::env::var_os("CARGO_FEATURE_MOZJPEG").is_some();
    let simd = mozjpeg
        && match arch.as_str() {
            "x86_64" | "x86" => Command::new("nasm").arg("-v").output().is_ok_and(|out| {
                out.status.success()
                    && !String::from_utf8_lossy(&out.stdout).contains("NASM version 0.")
            }),
            "aarch64" | "arm" => true,
            _ => false,
        };
    println!(
        "cargo:rustc-env=GIGAPIX_MOZJPEG_SIMD={}",
        if simd { 1 } else { 0 }
    );
}
