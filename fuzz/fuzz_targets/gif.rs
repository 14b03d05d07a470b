//! Fuzzes the GIF loader (first frame, frame ranges, all frames): `cargo
//! fuzz run gif` (nightly, or RUSTC_BOOTSTRAP=1), from `fuzz/`.
#![no_main]

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The first byte picks the load options, the rest is the file.
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    match pick % 4 {
        0 => common::decode(file, "input.gif"),
        1 => common::decode_with(file, "input.gif", &[("n", "-1")]),
        2 => common::decode_with(file, "input.gif", &[("page", "1")]),
        _ => common::decode_with(file, "input.gif", &[("page", "1"), ("n", "2")]),
    }
});
