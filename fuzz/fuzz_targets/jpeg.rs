//! Fuzzes the JPEG loader: `cargo fuzz run jpeg` (nightly), from `fuzz/`.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::decode(data, "input.jpg"));
