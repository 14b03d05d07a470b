//! Fuzzes the WebP loader (still, animated, shrink-on-load): `cargo fuzz
//! run webp` (nightly), from `fuzz/`.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The first byte picks the load options, the rest is the file.
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    match pick % 4 {
        0 => common::decode(file, "input.webp"),
        1 => common::decode_with(file, "input.webp", &[("n", "-1")]),
        2 => common::decode_with(file, "input.webp", &[("shrink", "3")]),
        _ => common::decode_with(file, "input.webp", &[("page", "1"), ("n", "2")]),
    }
});
