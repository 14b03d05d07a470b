//! Fuzzes the TIFF loader: `cargo fuzz run tiff` (nightly), from `fuzz/`.
//! Each input is opened as its first page, as its level 1 (pyramids: page
//! chains, SubIFDs, Aperio slides) and as a slide's associated thumbnail.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::decode(data, "input.tif");
    common::decode_with(data, "input.tif", &[("level", "1")]);
    common::decode_with(data, "input.tif", &[("associated", "thumbnail")]);
});
