//! Kernel benchmarks, one core, at every SIMD level this CPU has: the `u8`
//! lookup table of fused point chains, the noise generator and the
//! horizontal flip of 3-byte pixels.
//!
//! `cargo bench -p gigapix-benches --bench kernels` (criterion; reports in
//! `target/criterion`). Throughput is in pixels (3 samples) per second, on
//! rows of 4000 RGB pixels that stay in cache.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gigapix_simd::{flip, levels, lut, noise};

/// Pixels per row.
const W: usize = 4000;
/// Bands per pixel.
const BANDS: usize = 3;
/// Rows per iteration.
const ROWS: usize = 16;

fn kernels(c: &mut Criterion) {
    let n = W * BANDS;
    let src: Vec<u8> = (0..n).map(|i| (i * 31 + i / 7) as u8).collect();
    let mut dst = vec![0u8; n];
    // The table of `linear 1.1 5 : invert`.
    let table: [u8; 256] =
        std::array::from_fn(|v| 255 - (1.1 * v as f64 + 5.0).round().clamp(0.0, 255.0) as u8);

    let mut g = c.benchmark_group("kernel_lut_u8");
    g.throughput(Throughput::Elements((W * ROWS) as u64));
    for level in levels() {
        g.bench_function(BenchmarkId::from_parameter(level.name()), |b| {
            b.iter(|| {
                for _ in 0..ROWS {
                    lut::map_u8(level, &table, &src, &mut dst);
                }
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("kernel_noise_u8");
    g.throughput(Throughput::Elements((W * ROWS) as u64));
    for level in levels() {
        g.bench_function(BenchmarkId::from_parameter(level.name()), |b| {
            b.iter(|| {
                for y in 0..ROWS {
                    noise::fill_u8(level, &mut dst, BANDS, y as u64 * W as u64);
                }
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("kernel_flip_rgb");
    g.throughput(Throughput::Elements((W * ROWS) as u64));
    for level in levels() {
        g.bench_function(BenchmarkId::from_parameter(level.name()), |b| {
            b.iter(|| {
                for _ in 0..ROWS {
                    flip::reverse_pixels(level, &src, &mut dst, BANDS);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
