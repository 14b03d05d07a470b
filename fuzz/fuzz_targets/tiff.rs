//! Fuzzes the TIFF loader: `cargo fuzz run tiff` (nightly), from `fuzz/`.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::decode(data, "input.tif"));
