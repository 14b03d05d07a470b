//! Single-threaded Lanczos3 downscale of an in-memory RGB u8 image,
//! 4928x3279 -> 852x567: gigapix (`resize_to` with `gap = 0`, one
//! exact separable convolution, run through the engine on one thread into a
//! buffer) beside `fast_image_resize` (its `Resizer`, convolution with
//! Lanczos3, one thread). Throughput is source pixels per second.
//!
//! `cargo bench -p gigapix-benches --bench resize`
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fast_image_resize as fir;
use gigapix::{Image, RunOptions};
use gigapix_core::{BandFormat, Header, Inputs, Operation, Rect, Region, Result, SharedPixels};
use gigapix_ops::resample::{Kernel, ResizeOptions, resize_to};

const W: u32 = 4928;
const H: u32 = 3279;
const OW: u32 = 852;
const OH: u32 = 567;

/// A smooth, non-trivial test picture: gradients, rings and a fine
/// pseudo-random texture.
fn picture() -> Vec<u8> {
    let mut v = Vec::with_capacity((W * H * 3) as usize);
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for y in 0..H {
        for x in 0..W {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let (fx, fy) = (x as f64 / W as f64, y as f64 / H as f64);
            let r = ((fx - 0.5).hypot(fy - 0.5) * 60.0).sin() * 80.0 + 128.0;
            let t = (s & 31) as f64;
            v.push((r + t - 16.0).clamp(0.0, 255.0) as u8);
            v.push((fx * 255.0 * 0.8 + t) as u8);
            v.push((fy * 200.0 + (s >> 8 & 15) as f64) as u8);
        }
    }
    v
}

/// An in-memory source: regions are zero-copy views of the buffer.
struct Memory(Arc<Vec<u8>>);

impl Operation for Memory {
    type State = ();
    fn name(&self) -> &'static str {
        "memory"
    }
    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(Header::new(W, H, 3, BandFormat::U8))
    }
    fn generate(&self, _: &mut (), out: Rect, _: &mut Inputs<'_>) -> Result<Region> {
        let stride = W as usize * 3;
        let data: Arc<dyn SharedPixels> = self.0.clone();
        let offset = out.y as usize * stride + out.x as usize * 3;
        Region::view(data, offset, stride, out, 3, BandFormat::U8)
    }
}

fn resize(c: &mut Criterion) {
    let pixels = Arc::new(picture());
    let mut g = c.benchmark_group("resize_lanczos3_4928x3279_to_852x567_rgb8");
    g.throughput(Throughput::Elements((W * H) as u64));
    g.sample_size(20);

    let src = gigapix_core::Image::new(Memory(pixels.clone()), vec![]);
    let opts = ResizeOptions::default().kernel(Kernel::Lanczos3).gap(0.0);
    let ours = Image::from(resize_to(&src, OW, OH, &opts));
    let mut buf = vec![0u8; (OW * OH * 3) as usize];
    let run = RunOptions::new().threads(1);
    g.bench_function("gigapix_1thread", |b| {
        b.iter(|| ours.run(run.clone()).write_into(&mut buf).unwrap())
    });

    let fsrc = fir::images::Image::from_vec_u8(W, H, pixels.to_vec(), fir::PixelType::U8x3)
        .expect("source");
    let mut fdst = fir::images::Image::new(OW, OH, fir::PixelType::U8x3);
    let mut resizer = fir::Resizer::new();
    let fopts = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3));
    g.bench_function("fast_image_resize", |b| {
        b.iter(|| resizer.resize(&fsrc, &mut fdst, &fopts).unwrap())
    });
    g.finish();

    // How far apart the two results are (mean absolute difference).
    ours.run(run).write_into(&mut buf).unwrap();
    let mad = buf
        .iter()
        .zip(fdst.buffer())
        .map(|(&a, &b)| (a as i32 - b as i32).unsigned_abs() as u64)
        .sum::<u64>() as f64
        / buf.len() as f64;
    eprintln!("gigapix vs fast_image_resize: mean absolute difference {mad:.3} levels");
}

criterion_group!(benches, resize);
criterion_main!(benches);
