//! Engine benchmarks: point-operation fusion, thread scaling and sinks.
//!
//! `cargo bench -p gigapix-benches` (criterion; reports in
//! `target/criterion`). Figures are throughput in pixels per second.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gigapix::{Direction, Image, RunOptions};
use gigapix_ops::point::{Stage, unfused};

const W: u32 = 4000;
const H: u32 = 2000;

fn fusion(c: &mut Criterion) {
    let mut g = c.benchmark_group("point_chain_u8");
    g.throughput(Throughput::Elements((W * H) as u64));
    g.sample_size(20);
    let src = Image::noise(W, H, 3, 1);
    let fused = src.linear(1.1, 5.0).invert();
    // The same chain as two separate nodes (no fusion).
    let linear = Stage::Linear {
        a: vec![1.1],
        b: vec![5.0],
        format: None,
    };
    let two = Image::from(unfused(&unfused(src.node(), linear), Stage::Invert));
    let opts = RunOptions::new().threads(1);
    g.bench_function("source_only", |b| {
        b.iter(|| src.run(opts.clone()).discard().unwrap())
    });
    g.bench_function("fused", |b| {
        b.iter(|| fused.run(opts.clone()).discard().unwrap())
    });
    g.bench_function("unfused", |b| {
        b.iter(|| two.run(opts.clone()).discard().unwrap())
    });
    g.finish();
}

fn threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline_threads");
    g.throughput(Throughput::Elements((W * H) as u64));
    g.sample_size(20);
    let img = Image::noise(W, H, 3, 1)
        .linear(1.1, 5.0)
        .invert()
        .flip(Direction::Horizontal);
    for n in [1, 2] {
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| img.run(RunOptions::new().threads(n)).discard().unwrap())
        });
    }
    g.finish();
}

fn sinks(c: &mut Criterion) {
    let mut g = c.benchmark_group("sinks");
    g.throughput(Throughput::Elements((W * H) as u64));
    g.sample_size(20);
    let img = Image::noise(W, H, 3, 1).invert();
    let mut buf = vec![0u8; img.header().image_bytes() as usize];
    g.bench_function("write_into", |b| {
        b.iter(|| img.run(RunOptions::new()).write_into(&mut buf).unwrap())
    });
    g.bench_function("ordered_discard", |b| {
        b.iter(|| {
            img.run(RunOptions::new())
                .write_to(Box::new(gigapix_core::Discard))
                .unwrap()
        })
    });
    g.bench_function("stats", |b| {
        b.iter(|| img.run(RunOptions::new()).stats().unwrap())
    });
    g.finish();
}

criterion_group!(benches, fusion, threads, sinks);
criterion_main!(benches);
