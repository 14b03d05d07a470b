//! Fuzzes the PNG loader: `cargo fuzz run png` (nightly), from `fuzz/`.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::decode(data, "input.png"));
