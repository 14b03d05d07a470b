//! Resampling and thumbnails: a synthetic 6000x4000 photo is written as a
//! JPEG, then turned into a 256-pixel thumbnail (shrunk on load), a
//! Lanczos3 half-size copy and a blurred, sharpened variant.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example thumbnail [OUT_DIR]
//! ```

use std::process::ExitCode;

use gigapix::{Image, Kernel, ResizeOptions, ThumbnailOptions};
use gigapix_examples::output_path;

fn run() -> gigapix::Result<()> {
    let dir = output_path(std::env::args().nth(1), "");
    std::fs::create_dir_all(&dir)
        .map_err(|e| gigapix::Error::io(format_args!("{}", dir.display()), e))?;
    let photo = dir.join("gigapix-photo.jpg");
    // Rings over a gradient, in three bands: something to resample.
    let zone = Image::zone(6000, 4000);
    let ramp = Image::xyz(6000, 4000)
        .extract_band(0, 1)
        .linear(255.0 / 6000.0, 0.0)
        .cast(gigapix::BandFormat::U8);
    Image::bandjoin(&zone, &[ramp, zone.invert()]).save(&photo)?;

    // ANCHOR: thumbnail
    // 256 pixels wide: the JPEG is decoded at 1/8 scale, then reduced.
    let thumb = Image::thumbnail(&photo, 256, &ThumbnailOptions::new())?;
    thumb.save(dir.join("gigapix-thumb.jpg"))?;
    // ANCHOR_END: thumbnail

    // ANCHOR: resize
    let half =
        Image::open(&photo)?.resize_with(0.5, &ResizeOptions::default().kernel(Kernel::Mitchell));
    let soft = half.gaussblur(2.0).sharpen();
    soft.save(dir.join("gigapix-half.png"))?;
    // ANCHOR_END: resize
    println!(
        "thumbnail {}x{}, half size {}x{}, in {}",
        thumb.width(),
        thumb.height(),
        half.width(),
        half.height(),
        dir.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("thumbnail: {e}");
            ExitCode::FAILURE
        }
    }
}
