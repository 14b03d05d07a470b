//! Fuzzes the JPEG loader: `cargo fuzz run jpeg` (nightly), from `fuzz/`.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::decode(data, "input.jpg");
    // Shrink-on-load goes through MozJPEG; lenient, so damaged data is
    // decoded rather than refused at open.
    let shrink = ["2", "4", "8"][data.len() % 3];
    common::decode_with(data, "input.jpg", &[("shrink", shrink), ("fail_on", "none")]);
});
