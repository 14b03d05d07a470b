//! Statistics of a chain: per-band minimum, maximum, mean and standard
//! deviation, histograms, and the `min`/`max`/`avg` shortcuts.
//!
//! ```text
//! cargo run --release -p gigapix-examples --example statistics
//! ```
//!
//! The chain is a 4000x3000 RGB image (a zone plate, noise, and the zone
//! plate darkened by `linear 0.5 0`) that is never stored anywhere: the
//! reduce sink computes it region by region on every thread, each thread
//! feeding its own accumulator, merged at the end. Integer images are
//! summed exactly, so the results do not depend on the tiling or the
//! number of threads, which the example checks by running again on one
//! thread. Nothing is written to disk.

use gigapix::{Image, RunOptions};

fn main() -> gigapix::Result<()> {
    // ANCHOR: stats
    let zone = Image::zone(4000, 3000);
    let image = zone.bandjoin(&[Image::noise(4000, 3000, 1, 3), zone.linear(0.5, 0.0)]);

    let (stats, report) = image.run(RunOptions::new()).stats()?;
    for (band, s) in stats.bands.iter().enumerate() {
        println!(
            "band {band}: min {:3} max {:3} mean {:7.3} stddev {:6.3}",
            s.min, s.max, s.mean, s.stddev
        );
    }
    // ANCHOR_END: stats
    println!("statistics of {}: {report}", image.header());

    // ANCHOR: hist
    // One histogram per band: 256 bins for u8 images, 65536 for u16.
    let hist = image.hist()?;
    let noise = &hist.bands[1];
    let (fullest, count) = noise
        .iter()
        .enumerate()
        .max_by_key(|&(_, n)| *n)
        .expect("256 bins");
    println!(
        "noise band: value {fullest} is the most frequent ({count} of {} pixels)",
        image.header().pixels()
    );
    // ANCHOR_END: hist
    assert_eq!(noise.iter().sum::<u64>(), image.header().pixels());
    assert_eq!(
        hist.bands[2][129..].iter().sum::<u64>(),
        0,
        "0.5·255 rounds to 128"
    );

    // ANCHOR: shortcuts
    // Each is one run of the reduce sink over all bands together.
    let (min, max, avg) = (image.min()?, image.max()?, image.avg()?);
    println!("all bands: min {min}, max {max}, mean {avg:.3}");
    // ANCHOR_END: shortcuts

    // Exact integer sums: one thread and the default agree to the bit.
    let (single, _) = image.run(RunOptions::new().threads(1)).stats()?;
    assert_eq!(single, stats);
    println!("one thread gives the same statistics, to the bit");
    Ok(())
}
