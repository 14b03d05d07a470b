//! The everyday chain: open a file, crop, mirror, brighten, save.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example open_crop_save
//! cargo run --release -p gigapix-examples --example open_crop_save -- in.ppm out.ppm
//! ```
//!
//! So that it needs no input, the example first writes a 3000x2000 RGB PPM
//! made from generators (a zone plate, noise and the inverted zone plate as
//! its three bands). It then opens that file, crops a 2400x1600 area,
//! mirrors it left to right, applies `1.2·x − 20` and saves the result as
//! a second PPM. Finally it reads one pixel of each file back to show the
//! arithmetic. Both files go to the system's temporary directory unless
//! their paths are given as arguments (`GENERATED OUTPUT`).

use std::time::Instant;

use gigapix::{Direction, Image};
use gigapix_examples::output_path;

fn main() -> gigapix::Result<()> {
    let mut args = std::env::args().skip(1);
    let input = output_path(args.next(), "gigapix-generated.ppm");
    let output = output_path(args.next(), "gigapix-open-crop-save.ppm");

    // ANCHOR: generate
    // Three one-band u8 images joined into RGB: saved as a binary PPM (P6).
    let zone = Image::zone(3000, 2000);
    let rgb = zone.bandjoin(&[Image::noise(3000, 2000, 1, 7), zone.invert()]);
    rgb.save(&input)?;
    // ANCHOR_END: generate
    println!("wrote {} ({})", input.display(), rgb.header());

    let start = Instant::now();
    // ANCHOR: open_crop_save
    // `open` reads the header only; `save` pulls the pixels through the
    // chain on every core, strip by strip, into a temporary file that is
    // renamed onto `output` once complete.
    Image::open(&input)?
        .crop(300, 200, 2400, 1600)
        .flip(Direction::Horizontal)
        .linear(1.2, -20.0)
        .save(&output)?;
    // ANCHOR_END: open_crop_save
    println!(
        "wrote {} ({}) in {:.1} ms",
        output.display(),
        Image::open(&output)?.header(),
        start.elapsed().as_secs_f64() * 1e3
    );

    // The output's top-left pixel is the input's pixel (300 + 2399, 200),
    // mirrored there by the flip, then brightened.
    let before = Image::open(&input)?.crop(300 + 2399, 200, 1, 1).to_vec()?;
    let after = Image::open(&output)?.crop(0, 0, 1, 1).to_vec()?;
    let expected: Vec<u8> = before
        .iter()
        .map(|&v| (1.2 * f64::from(v) - 20.0).round().clamp(0.0, 255.0) as u8)
        .collect();
    println!("input pixel (2699, 200) = {before:?} -> output pixel (0, 0) = {after:?}");
    assert_eq!(after, expected, "1.2·x − 20, rounded and clamped");
    Ok(())
}
