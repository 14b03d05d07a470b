//! Memory and streams: pixels of our own wrapped without a copy, encoded
//! into a buffer, decoded back from it.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example streams
//! ```

use std::process::ExitCode;

fn run() -> gigapix::Result<()> {
    // ANCHOR: memory
    use gigapix::{BandFormat, Image};
    use std::sync::Arc;

    // A horizontal ramp, 640x480 RGB, in a buffer the image shares.
    let data: Arc<[u8]> = (0..640 * 480 * 3)
        .map(|i| ((i / 3) % 640 * 255 / 639) as u8)
        .collect();
    let image = Image::from_memory(data.clone(), 640, 480, 3, BandFormat::U8)?;
    // Encoded into memory, and decoded back from it.
    let png = image.resize(0.5).to_buffer(".png")?;
    let back = Image::decode(png)?;
    // ANCHOR_END: memory
    println!(
        "{}x{} from {} shared bytes; the PNG decodes to {}x{}",
        image.width(),
        image.height(),
        data.len(),
        back.width(),
        back.height()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("streams: {e}");
            ExitCode::FAILURE
        }
    }
}
