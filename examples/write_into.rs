//! The memory sink: computing an image straight into a buffer of your own.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example write_into
//! ```
//!
//! First a whole 640x480 `u16` image (three times each pixel's `x`, plus
//! one) goes into a `Vec<u8>` the caller allocated: packed rows, native
//! byte order, no intermediate copy of the image. Then a 256x256 window of
//! a ten-gigapixel zone plate goes into a small buffer: only the window's
//! pixels are computed, because regions are pulled on demand. Last, a
//! buffer of the wrong size is refused before anything runs. Nothing is
//! written to disk.

use gigapix::{BandFormat, ErrorKind, Image, RunOptions};

fn main() -> gigapix::Result<()> {
    // ANCHOR: write_into
    // Band 0 of `xyz` is each pixel's x coordinate (u32).
    let image = Image::xyz(640, 480)
        .extract_band(0, 1)
        .cast(BandFormat::U16)
        .linear(3.0, 1.0);
    // Exactly width × height × bands × 2 bytes.
    let mut buffer = vec![0u8; image.header().image_bytes() as usize];
    let report = image.run(RunOptions::new()).write_into(&mut buffer)?;
    // ANCHOR_END: write_into
    println!(
        "computed {} into a buffer of {} bytes: {report}",
        image.header(),
        buffer.len()
    );

    // Pixel (x, y) is the u16 at byte offset (y × width + x) × 2.
    let pixel = |x: usize, y: usize| {
        let at = (y * 640 + x) * 2;
        u16::from_ne_bytes([buffer[at], buffer[at + 1]])
    };
    for (x, y) in [(0, 0), (1, 0), (639, 479)] {
        println!("pixel ({x}, {y}) = {}", pixel(x, y));
        assert_eq!(pixel(x, y), 3 * x as u16 + 1);
    }

    // ANCHOR: window
    // A 100000x100000 zone plate is 10 gigapixels; the crop asks it for
    // the 65536 pixels of the window only.
    let window = Image::zone(100_000, 100_000).crop(50_000, 50_000, 256, 256);
    let mut tile = [0u8; 256 * 256];
    let report = window.run(RunOptions::new()).write_into(&mut tile)?;
    // ANCHOR_END: window
    println!(
        "computed a 256x256 window of a 100000x100000 zone plate: {report}; centre value {}",
        tile[0]
    );
    assert_eq!(report.pixels, 256 * 256);

    // The buffer must fit exactly: a wrong size is refused before any work.
    let err = image
        .write_into(&mut buffer[..10])
        .expect_err("a 10-byte buffer is too small");
    println!("a 10-byte buffer: {err}");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    Ok(())
}
