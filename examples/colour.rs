//! Colour management: an sRGB image is turned into Display P3 numbers (the
//! file carries the P3 profile), a thumbnail of that file comes back in
//! sRGB by default, and the round trip is measured; the same image is
//! also taken to CIELab to read its lightness.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example colour [OUT_DIR]
//! ```

use std::process::ExitCode;

use gigapix::icc::{IccOptions, Intent, Profile};
use gigapix::{BandFormat, Image, ThumbnailOptions};
use gigapix_examples::output_path;

fn run() -> gigapix::Result<()> {
    let dir = output_path(std::env::args().nth(1), "");
    std::fs::create_dir_all(&dir)
        .map_err(|e| gigapix::Error::io(format_args!("{}", dir.display()), e))?;
    // Saturated ramps: x in red, y in green, their mean in blue.
    let xy = Image::xyz(1024, 768).cast(BandFormat::F32);
    let red = xy.extract_band(0, 1).linear(255.0 / 1023.0, 0.0);
    let green = xy.extract_band(1, 1).linear(255.0 / 767.0, 0.0);
    let blue = red.add(&green).linear(0.5, 0.0);
    let srgb = Image::bandjoin(&red, &[green, blue]).cast(BandFormat::U8);

    // ANCHOR: transform
    // sRGB numbers (no profile: 3 bands read as sRGB) to Display P3; the
    // result carries the P3 profile, and the PNG saver embeds it.
    let p3 = srgb.icc_transform(&Profile::named("p3")?, &IccOptions::default())?;
    let p3_path = dir.join("gigapix-p3.png");
    p3.save(&p3_path)?;
    // ANCHOR_END: transform

    // ANCHOR: thumbnail
    // A thumbnail of an image with a non-sRGB profile is in sRGB by
    // default (libvips needs `export_profile="srgb"` for that).
    let mut options = ThumbnailOptions::new();
    options.intent = Intent::Relative;
    let thumb = Image::thumbnail(&p3_path, 1024, &options)?;
    // ANCHOR_END: thumbnail

    // The thumbnail is full size here, so it can be compared with the
    // sRGB original: the round trip through 8-bit P3 numbers is exact to
    // a fraction of a level on average, with up to 10 levels where a
    // channel is near zero beside a bright one (libvips gives the same).
    let diff = thumb.subtract(&srgb).abs();
    let (max, mean) = (diff.max()?, diff.avg()?);

    // ANCHOR: lab
    // To CIELab (f32, L 0..100, D50) through the embedded profile.
    let lab = p3.icc_import(&IccOptions::default())?;
    let lightness = lab.extract_band(0, 1).avg()?;
    // ANCHOR_END: lab

    println!(
        "{}: P3 {}x{}; thumbnail back in sRGB differs by at most {max} levels (mean {mean:.3}); \
         mean L* {lightness:.1}",
        dir.display(),
        p3.width(),
        p3.height(),
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("colour: {e}");
            ExitCode::FAILURE
        }
    }
}
