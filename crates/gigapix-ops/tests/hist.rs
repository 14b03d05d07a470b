//! Histograms, lookup tables and percent, against whole-image f64
//! references written here, plus the engine property.

mod common;

use std::sync::Arc;

use common::{decode, encode, engine_property, mem, pixels};
use gigapix_core::sequential::{RowReader, SequentialSource};
use gigapix_core::{BandFormat, Header, Image, Result};
use gigapix_ops::hist::{hist_cum, hist_equal, hist_find, hist_local, hist_norm, maplut, percent};

const ALL: [BandFormat; 8] = BandFormat::ALL;

struct Replay {
    data: Arc<Vec<u8>>,
    pos: usize,
}

impl RowReader for Replay {
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
        let end = self.pos + buf.len();
        buf.copy_from_slice(&self.data[self.pos..end]);
        self.pos = end;
        Ok(())
    }
}

fn sequential(w: u32, h: u32, bands: u32, f: BandFormat, vals: &[f64]) -> Image {
    let data = Arc::new(encode(vals, f));
    Image::new(
        SequentialSource::new(
            "replay",
            Header::new(w, h, bands, f),
            Box::new(move || {
                Ok(Replay {
                    data: data.clone(),
                    pos: 0,
                })
            }),
        ),
        vec![],
    )
}

/// Deterministic values in `lo..=hi` (integers).
fn values(n: usize, lo: i64, hi: i64, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (lo + (s % (hi - lo + 1) as u64) as i64) as f64
        })
        .collect()
}

/// Reference histogram: `hist[b][v]`.
fn ref_hist(vals: &[f64], bands: usize, band: Option<usize>, bins: usize) -> Vec<Vec<f64>> {
    let sel: Vec<usize> = band.map_or((0..bands).collect(), |b| vec![b]);
    let mut h = vec![vec![0.0; bins]; sel.len()];
    for px in vals.chunks(bands) {
        for (k, &b) in sel.iter().enumerate() {
            h[k][px[b] as usize] += 1.0;
        }
    }
    h
}

/// Interleaves per-band rows to the image sample order.
fn interleave(h: &[Vec<f64>]) -> Vec<f64> {
    let mut out = vec![];
    for x in 0..h[0].len() {
        for b in h {
            out.push(b[x]);
        }
    }
    out
}

fn ref_cum(h: &[Vec<f64>]) -> Vec<Vec<f64>> {
    h.iter()
        .map(|b| {
            let mut s = 0.0;
            b.iter()
                .map(|v| {
                    s += v;
                    s
                })
                .collect()
        })
        .collect()
}

fn ref_norm(h: &[Vec<f64>]) -> Vec<Vec<f64>> {
    h.iter()
        .map(|b| {
            let max = b.iter().cloned().fold(f64::MIN, f64::max);
            let new_max = (b.len() - 1) as f64;
            b.iter()
                .map(|v| {
                    if max == 0.0 {
                        0.0
                    } else {
                        (v * new_max / max).trunc()
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn hist_find_u8_u16_exact() {
    for (f, hi, bins) in [(BandFormat::U8, 255, 256), (BandFormat::U16, 65535, 65536)] {
        for bands in [1usize, 3] {
            let v = values(37 * 23 * bands, 0, hi, 3 + bands as u64);
            let img = mem(37, 23, bands as u32, f, &v);
            let h = hist_find(&img, None);
            assert_eq!((h.width(), h.height(), h.bands()), (bins, 1, bands as u32));
            assert_eq!(h.format(), BandFormat::U32);
            assert_eq!(
                pixels(&h),
                interleave(&ref_hist(&v, bands, None, bins as usize))
            );
            let hb = hist_find(&img, Some(bands as u32 - 1));
            assert_eq!(
                pixels(&hb),
                interleave(&ref_hist(&v, bands, Some(bands - 1), bins as usize))
            );
            engine_property(&h);
        }
    }
    for f in ALL {
        if !matches!(f, BandFormat::U8 | BandFormat::U16) {
            assert!(
                hist_find(&mem(2, 2, 1, f, &[0.0; 4]), None)
                    .check()
                    .is_err()
            );
        }
    }
    assert!(
        hist_find(&mem(2, 2, 1, BandFormat::U8, &[0.0; 4]), Some(1))
            .check()
            .is_err()
    );
}

#[test]
fn hist_find_on_sequential_source() {
    let v = values(41 * 300 * 2, 0, 255, 9);
    let img = sequential(41, 300, 2, BandFormat::U8, &v);
    let h = hist_find(&img, None);
    assert_eq!(pixels(&h), interleave(&ref_hist(&v, 2, None, 256)));
    // The source read twice: by hist_find and by maplut.
    let eq = hist_equal(&sequential(41, 300, 2, BandFormat::U8, &v), None);
    let want = ref_equal(&v, 2, None, 256);
    assert_eq!(pixels(&eq), want);
}

#[test]
fn hist_cum_and_norm_every_format() {
    for f in ALL {
        let (lo, hi) = if f.is_signed() { (-50, 100) } else { (0, 100) };
        let v = values(40 * 2, lo, hi, 5);
        let img = mem(40, 1, 2, f, &v);
        let per_band: Vec<Vec<f64>> = (0..2)
            .map(|b| v.iter().skip(b).step_by(2).cloned().collect())
            .collect();
        let c = hist_cum(&img);
        let cf = if f.is_float() {
            BandFormat::F64
        } else if f.is_signed() {
            BandFormat::I32
        } else {
            BandFormat::U32
        };
        assert_eq!(c.format(), cf, "{f}");
        assert_eq!(pixels(&c), interleave(&ref_cum(&per_band)), "{f}");
        engine_property(&c);
        if !f.is_signed() {
            let n = hist_norm(&img);
            assert_eq!(n.format(), BandFormat::U8);
            assert_eq!(pixels(&n), interleave(&ref_norm(&per_band)), "{f}");
            engine_property(&n);
        }
    }
    // A one-column histogram is summed down the column.
    let col = mem(1, 4, 1, BandFormat::U8, &[1., 2., 3., 4.]);
    assert_eq!(pixels(&hist_cum(&col)), [1., 3., 6., 10.]);
    // libvips: a 3x2 hist_norm scales to 5 (pixels - 1), truncating.
    let two = mem(3, 2, 1, BandFormat::U8, &[1., 2., 3., 4., 5., 6.]);
    assert_eq!(pixels(&hist_norm(&two)), [0., 1., 2., 3., 4., 5.]);
    // 65536 columns: u16.
    let h = hist_find(
        &mem(4, 4, 1, BandFormat::U16, &values(16, 0, 65535, 1)),
        None,
    );
    assert_eq!(hist_norm(&hist_cum(&h)).format(), BandFormat::U16);
}

/// The equalised image: maplut(hist_norm(hist_cum(hist_find))).
fn ref_equal(v: &[f64], bands: usize, band: Option<usize>, bins: usize) -> Vec<f64> {
    let lut = ref_norm(&ref_cum(&ref_hist(v, bands, band, bins)));
    v.iter()
        .enumerate()
        .map(|(i, &x)| lut[if lut.len() == 1 { 0 } else { i % bands }][x as usize])
        .collect()
}

#[test]
fn hist_equal_matches_reference() {
    for (f, hi, bins) in [(BandFormat::U8, 255, 256), (BandFormat::U16, 65535, 65536)] {
        let v = values(29 * 17 * 3, 0, hi / 3, 11);
        let img = mem(29, 17, 3, f, &v);
        let e = hist_equal(&img, None);
        assert_eq!(e.format(), f);
        assert_eq!(pixels(&e), ref_equal(&v, 3, None, bins));
        let e1 = hist_equal(&img, Some(2));
        assert_eq!(pixels(&e1), ref_equal(&v, 3, Some(2), bins));
        engine_property(&e);
        engine_property(&e1);
    }
    // libvips 8.18 on [0,0,0,1,1,2,7,7,7,7]: 76 76 76 127 127 153 255 ...
    let img = mem(
        10,
        1,
        1,
        BandFormat::U8,
        &[0., 0., 0., 1., 1., 2., 7., 7., 7., 7.],
    );
    assert_eq!(
        pixels(&hist_equal(&img, None)),
        [76., 76., 76., 127., 127., 153., 255., 255., 255., 255.]
    );
}

#[test]
fn maplut_every_format() {
    for f in ALL {
        let (lo, hi) = if f.is_signed() { (-20, 300) } else { (0, 300) };
        let v: Vec<f64> = values(13 * 11 * 3, lo, hi, 2)
            .into_iter()
            .map(|x| common::quantise(x + 0.25, f))
            .collect();
        let img = mem(13, 11, 3, f, &v);
        // A shared f32 LUT of 256 entries, and a 3-band u16 one of 100.
        let lut1: Vec<f64> = (0..256).map(|i| i as f64 * 0.5 - 7.0).collect();
        let lut3: Vec<f64> = (0..300).map(|i| (i * 7 + (i % 3) * 1000) as f64).collect();
        let l1 = mem(256, 1, 1, BandFormat::F32, &lut1);
        let l3 = mem(100, 1, 3, BandFormat::U16, &lut3);
        let idx = |x: f64, w: usize| (x.max(0.0) as usize).min(w - 1);
        let m1 = maplut(&img, &l1);
        assert_eq!(m1.format(), BandFormat::F32);
        let want1: Vec<f64> = v.iter().map(|&x| lut1[idx(x, 256)]).collect();
        assert_eq!(pixels(&m1), want1, "{f}");
        let m3 = maplut(&img, &l3);
        let want3: Vec<f64> = v
            .iter()
            .enumerate()
            .map(|(i, &x)| lut3[idx(x, 100) * 3 + i % 3])
            .collect();
        assert_eq!(pixels(&m3), want3, "{f}");
        engine_property(&m1);
        engine_property(&m3);
    }
    // One band through a 3-band LUT: 3 bands.
    let one = mem(5, 1, 1, BandFormat::U8, &[0., 1., 2., 3., 4.]);
    let l = mem(2, 1, 3, BandFormat::U8, &[10., 20., 30., 11., 21., 31.]);
    let m = maplut(&one, &l);
    assert_eq!(m.bands(), 3);
    assert_eq!(
        pixels(&m),
        [
            10., 20., 30., 11., 21., 31., 11., 21., 31., 11., 21., 31., 11., 21., 31.
        ]
    );
    assert!(
        maplut(&mem(2, 1, 2, BandFormat::U8, &[0.; 4]), &l)
            .check()
            .is_err()
    );
}

/// Direct per-pixel reference of hist_local: mirrored window.
fn ref_local(
    v: &[f64],
    w: usize,
    h: usize,
    bands: usize,
    ww: usize,
    wh: usize,
    slope: u64,
) -> Vec<f64> {
    let mirror = |i: i64, n: usize| -> usize {
        let n = n as i64;
        let p = i.rem_euclid(2 * n);
        (if p < n { p } else { 2 * n - 1 - p }) as usize
    };
    let mut out = vec![0.0; v.len()];
    for y in 0..h {
        for x in 0..w {
            for b in 0..bands {
                let mut hist = [0u64; 256];
                for dy in 0..wh {
                    for dx in 0..ww {
                        let sx = mirror(x as i64 + dx as i64 - (ww / 2) as i64, w);
                        let sy = mirror(y as i64 + dy as i64 - (wh / 2) as i64, h);
                        hist[v[(sy * w + sx) * bands + b] as usize] += 1;
                    }
                }
                let t = v[(y * w + x) * bands + b] as usize;
                let sum = if slope == 0 {
                    hist[..=t].iter().sum::<u64>()
                } else {
                    let over: u64 = hist.iter().map(|&c| c.saturating_sub(slope)).sum();
                    hist[..=t].iter().map(|&c| c.min(slope)).sum::<u64>()
                        + (t as u64 + 1) * over / 256
                };
                out[(y * w + x) * bands + b] = ((255 * sum) / (ww * wh) as u64).min(255) as f64;
            }
        }
    }
    out
}

#[test]
fn hist_local_matches_window_reference() {
    for (ww, wh, slope) in [(3, 3, 0), (2, 2, 0), (5, 4, 0), (7, 3, 2), (4, 6, 1)] {
        let v = values(23 * 19 * 2, 0, 40, ww as u64 * 31 + wh as u64);
        let img = mem(23, 19, 2, BandFormat::U8, &v);
        let l = hist_local(&img, ww, wh, slope);
        assert_eq!((l.width(), l.height(), l.bands()), (23, 19, 2));
        assert_eq!(
            pixels(&l),
            ref_local(&v, 23, 19, 2, ww as usize, wh as usize, slope as u64),
            "{ww}x{wh} slope {slope}"
        );
        engine_property(&l);
    }
    // Windows larger than the image (mirrored more than once).
    let v = values(5 * 4, 0, 255, 8);
    let small = mem(5, 4, 1, BandFormat::U8, &v);
    for (ww, wh) in [(9, 9), (12, 3)] {
        let l = hist_local(&small, ww, wh, 0);
        assert_eq!(
            pixels(&l),
            ref_local(&v, 5, 4, 1, ww as usize, wh as usize, 0)
        );
        engine_property(&l);
    }
    // libvips 8.18 values.
    let img = mem(
        4,
        3,
        1,
        BandFormat::U8,
        &[0., 5., 9., 200., 3., 3., 3., 100., 250., 1., 2., 3.],
    );
    assert_eq!(
        pixels(&hist_local(&img, 3, 3, 0)),
        [
            113., 198., 170., 255., 170., 170., 141., 198., 255., 56., 113., 198.
        ]
    );
    assert_eq!(
        pixels(&hist_local(&img, 3, 3, 1)),
        [
            28., 85., 85., 198., 85., 113., 85., 141., 226., 28., 56., 56.
        ]
    );
    assert!(
        hist_local(&mem(2, 2, 1, BandFormat::U16, &[0.; 4]), 3, 3, 0)
            .check()
            .is_err()
    );
}

/// libvips' `percent`: per band, the first bin whose cumulative count,
/// normalised to 0..width−1 and truncated, exceeds p % of the width; the
/// mean over the bands, truncated.
fn ref_percent(v: &[f64], bands: usize, width: usize, p: f64) -> f64 {
    let n = (v.len() / bands) as f64;
    let mut sum = 0.0;
    for b in 0..bands {
        let mut hist = vec![0.0; width];
        for px in v.chunks(bands) {
            hist[px[b] as usize] += 1.0;
        }
        let mut cum = 0.0;
        let mut at = width;
        for (x, c) in hist.iter().enumerate() {
            cum += c;
            if (cum * (width - 1) as f64 / n).floor() > p / 100.0 * width as f64 {
                at = x;
                break;
            }
        }
        sum += at as f64;
    }
    (sum / bands as f64).trunc()
}

#[test]
fn percent_matches_reference() {
    let img = mem(
        10,
        1,
        1,
        BandFormat::U8,
        &[0., 0., 0., 1., 1., 2., 7., 7., 7., 7.],
    );
    // libvips 8.18: 2, 0, 256, 7.
    for (p, want) in [(50.0, 2.0), (0.0, 0.0), (100.0, 256.0), (95.0, 7.0)] {
        assert_eq!(pixels(&percent(&img, p)), [want], "{p}");
    }
    for (f, hi) in [(BandFormat::U8, 255), (BandFormat::U16, 5000)] {
        let v = values(31 * 7 * 2, 0, hi, 4);
        let img = mem(31, 7, 2, f, &v);
        let width = if f == BandFormat::U8 {
            256
        } else {
            v.iter().cloned().fold(0.0, f64::max) as usize + 1
        };
        for p in [1.0, 10.0, 50.0, 99.5] {
            let pi = percent(&img, p);
            assert_eq!(pixels(&pi), [ref_percent(&v, 2, width, p)], "{f} {p}");
            engine_property(&pi);
        }
    }
    assert!(
        percent(&mem(2, 2, 1, BandFormat::F32, &[0.; 4]), 5.0)
            .check()
            .is_err()
    );
    let _ = decode;
}
