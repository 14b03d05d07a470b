//! Reading and writing files: TIFF, PNG and JPEG, with their options.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example formats
//! ```
//!
//! The example needs no input. It builds a 1024x768 RGB image from
//! generators and saves it three times in the system's temporary
//! directory: as a tiled TIFF with LZW compression (options in brackets
//! after the file name), as a PNG (no options) and as a JPEG of quality 85
//! (options through [`gigapix::SaveOptions`]). It reopens each file and
//! prints what [`gigapix::describe`] finds, the header and the metadata
//! fields the loader reports. Finally it cuts a copy of the PNG short and
//! reads it twice: by default the damage is an error; with `fail_on=none`
//! the missing rows are zeros and the run's report carries a warning.

use gigapix::{FailOn, Image, OpenOptions, RunOptions, SaveOptions};

fn main() -> gigapix::Result<()> {
    let dir = std::env::temp_dir();
    let tif = dir.join("gigapix-formats.tif");
    let png = dir.join("gigapix-formats.png");
    let jpg = dir.join("gigapix-formats.jpg");
    let cut = dir.join("gigapix-formats-truncated.png");

    let zone = Image::zone(1024, 768);
    let rgb = zone.bandjoin(&[Image::noise(1024, 768, 1, 7), zone.invert()]);

    // ANCHOR: save
    // Options in brackets after the file name, as libvips writes them: LZW
    // with the horizontal predictor (on by default when compressing
    // integers), in 256x256 tiles. The brackets are not part of the name.
    rgb.save(format!("{}[compression=lzw,tile]", tif.display()))?;

    // No options: PNG at compression 5 with adaptive filtering.
    rgb.save(&png)?;

    // The same kind of options as a struct; `run(..).save_with` also
    // returns the run's report.
    let options = SaveOptions::new().set("Q", 85).set("subsample", "420");
    let report = rgb.run(RunOptions::default()).save_with(&jpg, &options)?;
    // ANCHOR_END: save
    println!(
        "JPEG encoded in {:.1} ms",
        report.elapsed.as_secs_f64() * 1e3
    );

    // ANCHOR: reopen
    for path in [&tif, &png, &jpg] {
        // `describe` sniffs the first bytes and checks the header; `open`
        // does the same and returns a lazy image: no pixel is decoded yet.
        let info = gigapix::describe(path)?;
        let image = Image::open(path)?;
        let fields: Vec<String> = image
            .metadata()
            .fields
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        println!(
            "{:>5} {:>8} bytes  {}  [{}]",
            info.format.name(),
            info.file_len.unwrap_or(0),
            image.header(),
            fields.join(", ")
        );
    }
    // ANCHOR_END: reopen

    // The first rows of the lossless files come back exactly.
    let top = rgb.crop(0, 0, 1024, 16).to_vec()?;
    assert_eq!(Image::open(&tif)?.crop(0, 0, 1024, 16).to_vec()?, top);
    assert_eq!(Image::open(&png)?.crop(0, 0, 1024, 16).to_vec()?, top);

    // A copy of the PNG cut short in the middle of its pixel data.
    let bytes = std::fs::read(&png).map_err(|e| gigapix::Error::io("read png", e))?;
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 5])
        .map_err(|e| gigapix::Error::io("write truncated png", e))?;

    // ANCHOR: fail_on
    // By default a damaged file is an error: the header is fine, so `open`
    // succeeds, and the run fails when it reaches the missing data.
    let strict = Image::open(&cut)?.run(RunOptions::default()).discard();
    println!("default:      {}", strict.unwrap_err());

    // With fail_on=none (or `[fail_on=none]` after the name) the rows that
    // cannot be decoded are zeros and the run's report says so.
    let lenient = Image::open_with(&cut, &OpenOptions::new().fail_on(FailOn::None))?;
    let report = lenient.run(RunOptions::default()).discard()?;
    for warning in &report.warnings {
        println!("fail_on=none: warning: {warning}");
    }
    // ANCHOR_END: fail_on
    assert!(!report.warnings.is_empty(), "a truncated PNG is reported");
    Ok(())
}
