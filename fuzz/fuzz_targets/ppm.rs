//! Fuzzes the PPM loader: `cargo fuzz run ppm` (nightly), from `fuzz/`.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::decode(data, "input.ppm"));
