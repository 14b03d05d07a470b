//! Image arithmetic with libvips' semantics: differences, masks,
//! `ifthenelse`, histogram equalisation and a grid of tiles.
//!
//! ```sh
//! cargo run --release -p gigapix-examples --example arithmetic
//! ```

use gigapix::{ArrayjoinOptions, Image};

fn main() -> Result<(), gigapix::Error> {
    let a = Image::noise(1000, 800, 3, 1);
    let b = a.gaussblur(3.0);

    // ANCHOR: arithmetic
    // pyvips: ((a - b).abs() > 10): where the blur changed a pixel by more
    // than 10 levels, as a 0/255 u8 mask.
    let changed = (&a - &b).abs().more(10.0);
    assert_eq!(changed.format(), gigapix::BandFormat::U8);
    println!("changed: {:.1} % of the samples", changed.avg()? / 2.55);

    // A u8 minus a constant is a float, as in pyvips; a chain of constant
    // operations on a u8 image runs as one lookup table.
    let threshold = (&(&a - 10.0) * 1.2).more(128.0).ifthenelse(255.0, 0.0);
    println!("threshold: mean {:.2}", threshold.avg()?);

    // Keep the original where the mask is set, the blur elsewhere.
    let mixed = changed.ifthenelse(&a, &b);
    println!("mixed: mean {:.2}", mixed.avg()?);
    // ANCHOR_END: arithmetic

    // Histogram equalisation and a 4×4 grid of tiles (stitching).
    let equalised = b.hist_equal();
    let tiles: Vec<Image> = (0..16)
        .map(|i| equalised.crop((i % 4) * 250, (i / 4) * 200, 250, 200))
        .collect();
    let grid = Image::arrayjoin(&tiles, &ArrayjoinOptions::default().across(4));
    assert_eq!((grid.width(), grid.height()), (1000, 800));
    println!(
        "grid equals the image: {}",
        (&grid - &equalised).abs().max()? == 0.0
    );
    Ok(())
}
