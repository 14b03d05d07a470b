//! Convolution kernels: weighted sums of shifted rows in `f32`, and the
//! conversions between band formats and `f32` rows around them.
//!
//! A 2-D convolution of one output row is a [`weighted_sum`] of slices:
//! one slice per non-zero mask element, each a row of the (edge-padded)
//! input shifted by the element's column times the band count. The same
//! kernel serves horizontal passes (slices of one row), vertical passes
//! (one slice per input row) and full 2-D masks, for any band count.
//!
//! Every kernel has a plain scalar reference (`Level::SCALAR`); the AVX2
//! level runs a blocked form of the same arithmetic, in the same order
//! and without fused multiply-adds, compiled with AVX2 enabled, so its
//! results are bit-identical to the reference.

use crate::{Level, dispatch};

/// Block of samples the blocked kernels keep in registers.
const BLOCK: usize = 32;

/// `out[i] = Σₖ coeffs[k] · srcs[k][i]` for every `i` of `out`, summed in
/// the order of `srcs` (`acc = acc + c·s`, starting from 0).
///
/// Panics if `srcs` and `coeffs` differ in length or a source is shorter
/// than `out`.
pub fn weighted_sum(level: Level, srcs: &[&[f32]], coeffs: &[f32], out: &mut [f32]) {
    assert_eq!(srcs.len(), coeffs.len(), "one coefficient per source");
    let n = out.len();
    assert!(
        srcs.iter().all(|s| s.len() >= n),
        "sources cover the output"
    );
    dispatch!(level, Avx2 => weighted_sum_avx2(srcs, coeffs, out), _ => weighted_sum_scalar(srcs, coeffs, out))
}

fn weighted_sum_scalar(srcs: &[&[f32]], coeffs: &[f32], out: &mut [f32]) {
    for (i, o) in out.iter_mut().enumerate() {
        let mut acc = 0f32;
        for (s, &c) in srcs.iter().zip(coeffs) {
            acc += c * s[i];
        }
        *o = acc;
    }
}

#[inline(always)]
fn weighted_sum_blocked(srcs: &[&[f32]], coeffs: &[f32], out: &mut [f32]) {
    let n = out.len();
    let mut base = 0;
    while base + BLOCK <= n {
        let mut acc = [0f32; BLOCK];
        for (s, &c) in srcs.iter().zip(coeffs) {
            let s: &[f32; BLOCK] = s[base..base + BLOCK].try_into().expect("block");
            for i in 0..BLOCK {
                acc[i] += c * s[i];
            }
        }
        out[base..base + BLOCK].copy_from_slice(&acc);
        base += BLOCK;
    }
    if base < n {
        let tail: Vec<&[f32]> = srcs.iter().map(|s| &s[base..n]).collect();
        weighted_sum_scalar(&tail, coeffs, &mut out[base..]);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn weighted_sum_avx2(srcs: &[&[f32]], coeffs: &[f32], out: &mut [f32]) {
    weighted_sum_blocked(srcs, coeffs, out)
}

/// How [`weighted_sum_u8`] turns an exact `i32` sum into a `u8`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Finish {
    /// libvips' 8-bit fixed point: `clamp(((sum + 128) >> 8) + offset)`.
    Shift8 {
        /// Added after the shift.
        offset: i32,
    },
    /// `u8::from_scaled(sum as f32, div, offset)`: what [`weighted_sum`]
    /// then [`store_scaled`] give for the same integer coefficients.
    Div {
        /// The mask's scale.
        div: f32,
        /// The mask's offset.
        offset: f32,
    },
}

/// A `u8` convolution row with integer coefficients `q` (for libvips'
/// fixed point, `q[k] = rint(coefficient·256 / scale)`): the sum
/// `Σₖ q[k]·srcs[k][i]` exactly in `i32` (pairs of taps per AVX2 `madd`),
/// then [`Finish`]ed.
///
/// Panics if `srcs` and `q` differ in length or a source is shorter
/// than `out`.
pub fn weighted_sum_u8(level: Level, srcs: &[&[u8]], q: &[i16], finish: Finish, out: &mut [u8]) {
    assert_eq!(srcs.len(), q.len(), "one coefficient per source");
    let n = out.len();
    assert!(
        srcs.iter().all(|s| s.len() >= n),
        "sources cover the output"
    );
    dispatch!(level, Avx2 => weighted_sum_u8_avx2(srcs, q, finish, out), _ => weighted_sum_u8_scalar(srcs, q, finish, out))
}

fn weighted_sum_u8_scalar(srcs: &[&[u8]], q: &[i16], finish: Finish, out: &mut [u8]) {
    for (i, o) in out.iter_mut().enumerate() {
        let mut acc = 0i32;
        for (s, &c) in srcs.iter().zip(q) {
            acc = acc.wrapping_add(c as i32 * s[i] as i32);
        }
        *o = match finish {
            Finish::Shift8 { offset } => {
                ((acc.wrapping_add(128) >> 8).wrapping_add(offset)).clamp(0, 255) as u8
            }
            Finish::Div { div, offset } => u8::from_scaled(acc as f32, div, offset),
        };
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn weighted_sum_u8_avx2(srcs: &[&[u8]], q: &[i16], finish: Finish, out: &mut [u8]) {
    use std::arch::x86_64::*;
    let n = out.len();
    let (shift, offset, div, foffset) = match finish {
        Finish::Shift8 { offset } => (true, offset, 1.0, 0.0),
        Finish::Div { div, offset } => (false, 0, div, offset),
    };
    let round = _mm256_set1_epi32(128);
    let off = _mm256_set1_epi32(offset);
    let (vd, vo, half) = (
        _mm256_set1_ps(div),
        _mm256_set1_ps(foffset),
        _mm256_set1_ps(0.5),
    );
    let (zero, top) = (_mm256_setzero_ps(), _mm256_set1_ps(255.0));
    // The same operations as `u8::from_scaled`.
    let scaled = |v: __m256i| {
        let x = _mm256_add_ps(
            _mm256_add_ps(_mm256_div_ps(_mm256_cvtepi32_ps(v), vd), vo),
            half,
        );
        _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(x, zero), top))
    };
    let load = |s: &[u8], i: usize| {
        let p = &s[i..i + 16];
        // SAFETY: `p` is exactly 16 bytes.
        _mm256_cvtepu8_epi16(unsafe { _mm_loadu_si128(p.as_ptr().cast()) })
    };
    let pairs = srcs.len() / 2;
    let mut i = 0;
    while i + 16 <= n {
        let (mut lo, mut hi) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        for k in 0..pairs {
            let (a, b) = (load(srcs[2 * k], i), load(srcs[2 * k + 1], i));
            let c = _mm256_set1_epi32((q[2 * k] as u16 as i32) | ((q[2 * k + 1] as i32) << 16));
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), c));
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), c));
        }
        if srcs.len() % 2 == 1 {
            let a = load(srcs[srcs.len() - 1], i);
            let z = _mm256_setzero_si256();
            let c = _mm256_set1_epi32(q[srcs.len() - 1] as u16 as i32);
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, z), c));
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, z), c));
        }
        // The unpacks split each 128-bit lane: lo holds samples 0-3 and
        // 8-11, hi 4-7 and 12-15; packs_epi32 puts them back in order.
        let (lo, hi) = if shift {
            (
                _mm256_add_epi32(_mm256_srai_epi32::<8>(_mm256_add_epi32(lo, round)), off),
                _mm256_add_epi32(_mm256_srai_epi32::<8>(_mm256_add_epi32(hi, round)), off),
            )
        } else {
            (scaled(lo), scaled(hi))
        };
        let w = _mm256_packs_epi32(lo, hi);
        let b = _mm256_permute4x64_epi64::<0b1000>(_mm256_packus_epi16(w, w));
        let o = &mut out[i..i + 16];
        // SAFETY: `o` is exactly 16 bytes.
        unsafe { _mm_storeu_si128(o.as_mut_ptr().cast(), _mm256_castsi256_si128(b)) };
        i += 16;
    }
    let tail: Vec<&[u8]> = srcs.iter().map(|s| &s[i..n]).collect();
    weighted_sum_u8_scalar(&tail, q, finish, &mut out[i..]);
}

/// A band element type the conversion kernels handle.
pub trait ConvSample: Copy + Send + Sync + 'static {
    /// Converts to `f32` (exact for `u8` and `u16`).
    fn to_f32(self) -> f32;
    /// `v / div + offset`, rounded (`floor(x + 0.5)`) and clamped for integer
    /// types, as is for `f32`.
    fn from_scaled(v: f32, div: f32, offset: f32) -> Self;
    /// [`store_scaled`] for this type (specialised where it pays).
    fn store(level: Level, src: &[f32], div: f32, offset: f32, dst: &mut [Self])
    where
        Self: Sized,
    {
        dispatch!(level, Avx2 => store_avx2(src, div, offset, dst), _ => store_scalar(src, div, offset, dst))
    }
}

impl ConvSample for u8 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn from_scaled(v: f32, div: f32, offset: f32) -> u8 {
        // `as` maps NaN to 0; adding 0.5 then truncating rounds
        // non-negative values half up, and negatives end at 0 anyway.
        (v / div + offset + 0.5).clamp(0.0, 255.0) as u8
    }
    fn store(level: Level, src: &[f32], div: f32, offset: f32, dst: &mut [u8]) {
        dispatch!(level, Avx2 => store_u8_avx2(src, div, offset, dst), _ => store_scalar(src, div, offset, dst))
    }
}

impl ConvSample for u16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn from_scaled(v: f32, div: f32, offset: f32) -> u16 {
        (v / div + offset + 0.5).clamp(0.0, 65535.0) as u16
    }
}

impl ConvSample for u32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn from_scaled(v: f32, div: f32, offset: f32) -> u32 {
        let x = (v / div + offset) as f64 + 0.5;
        x.clamp(0.0, 4294967295.0) as u32
    }
}

macro_rules! conv_signed {
    ($t:ty) => {
        impl ConvSample for $t {
            #[inline(always)]
            fn to_f32(self) -> f32 {
                self as f32
            }
            #[inline(always)]
            fn from_scaled(v: f32, div: f32, offset: f32) -> $t {
                // Rounded half away from zero; `as` saturates and maps NaN
                // to 0.
                ((v / div + offset) as f64).round() as $t
            }
        }
    };
}
conv_signed!(i8);
conv_signed!(i16);
conv_signed!(i32);

impl ConvSample for f64 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn from_scaled(v: f32, div: f32, offset: f32) -> f64 {
        (v / div + offset) as f64
    }
}

impl ConvSample for f32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from_scaled(v: f32, div: f32, offset: f32) -> f32 {
        v / div + offset
    }
}

/// Converts `src` to `f32` into `dst`, with edge padding: `dst` receives
/// `left` copies of the first pixel of `src`, then `src`, then copies of its
/// last pixel until `dst` is full. Pixels have `bands` samples.
///
/// Panics if `src` is empty or not whole pixels, or `dst` is too short for
/// `left` pixels and `src`.
pub fn load_padded<T: ConvSample>(
    level: Level,
    src: &[T],
    bands: usize,
    left: usize,
    dst: &mut [f32],
) {
    assert!(bands > 0 && !src.is_empty() && src.len().is_multiple_of(bands));
    assert!(dst.len() >= left * bands + src.len() && dst.len().is_multiple_of(bands));
    let (head, rest) = dst.split_at_mut(left * bands);
    let (mid, tail) = rest.split_at_mut(src.len());
    for px in head.chunks_exact_mut(bands) {
        for (d, s) in px.iter_mut().zip(&src[..bands]) {
            *d = s.to_f32();
        }
    }
    for px in tail.chunks_exact_mut(bands) {
        for (d, s) in px.iter_mut().zip(&src[src.len() - bands..]) {
            *d = s.to_f32();
        }
    }
    dispatch!(level, Avx2 => to_f32_avx2(src, mid), _ => to_f32_scalar(src, mid))
}

fn to_f32_scalar<T: ConvSample>(src: &[T], dst: &mut [f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = s.to_f32();
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn to_f32_avx2<T: ConvSample>(src: &[T], dst: &mut [f32]) {
    to_f32_scalar(src, dst)
}

/// Writes `dst[i] = T::from_scaled(src[i], div, offset)`: the sums of a
/// convolution divided by the mask's scale, offset, rounded and clamped
/// to `T`'s range.
///
/// Panics if `src` is shorter than `dst`.
pub fn store_scaled<T: ConvSample>(
    level: Level,
    src: &[f32],
    div: f32,
    offset: f32,
    dst: &mut [T],
) {
    assert!(src.len() >= dst.len());
    T::store(level, src, div, offset, dst)
}

fn store_scalar<T: ConvSample>(src: &[f32], div: f32, offset: f32, dst: &mut [T]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = T::from_scaled(s, div, offset);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn store_avx2<T: ConvSample>(src: &[f32], div: f32, offset: f32, dst: &mut [T]) {
    store_scalar(src, div, offset, dst)
}

/// [`store_scaled`] for `u8` with AVX2 intrinsics: the same operations as
/// [`u8::from_scaled`](ConvSample::from_scaled), 32 samples at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn store_u8_avx2(src: &[f32], div: f32, offset: f32, dst: &mut [u8]) {
    use std::arch::x86_64::*;
    let n = dst.len();
    let src = &src[..n];
    let (vd, vo, half) = (
        _mm256_set1_ps(div),
        _mm256_set1_ps(offset),
        _mm256_set1_ps(0.5),
    );
    let (zero, top) = (_mm256_setzero_ps(), _mm256_set1_ps(255.0));
    let conv = |p: &[f32]| {
        // SAFETY: `p` holds at least 8 floats (the caller slices 8).
        let v = unsafe { _mm256_loadu_ps(p.as_ptr()) };
        let x = _mm256_add_ps(_mm256_add_ps(_mm256_div_ps(v, vd), vo), half);
        // max_ps returns its second operand (0) for NaN, like f32::max.
        let x = _mm256_min_ps(_mm256_max_ps(x, zero), top);
        _mm256_cvttps_epi32(x)
    };
    let mut i = 0;
    while i + 32 <= n {
        let a = conv(&src[i..i + 8]);
        let b = conv(&src[i + 8..i + 16]);
        let c = conv(&src[i + 16..i + 24]);
        let d = conv(&src[i + 24..i + 32]);
        let ab = _mm256_packus_epi32(a, b);
        let cd = _mm256_packus_epi32(c, d);
        let abcd = _mm256_packus_epi16(ab, cd);
        // The packs worked within 128-bit lanes: dwords come out as
        // a0 b0 c0 d0 a1 b1 c1 d1 (each 4 bytes); put them in order.
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        let r = _mm256_permutevar8x32_epi32(abcd, order);
        let out = &mut dst[i..i + 32];
        // SAFETY: `out` is exactly 32 bytes.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), r) };
        i += 32;
    }
    store_scalar(&src[i..], div, offset, &mut dst[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels;

    /// A small deterministic generator (xorshift).
    pub(crate) struct Rng(u64);
    impl Rng {
        pub(crate) fn new(seed: u64) -> Rng {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        pub(crate) fn f32(&mut self) -> f32 {
            (self.next() % 1_000_000) as f32 / 1000.0 - 300.0
        }
    }

    #[test]
    fn weighted_sum_levels_match_scalar() {
        let mut rng = Rng::new(3);
        for &n in &[1usize, 7, 31, 32, 33, 95, 200] {
            for taps in [1usize, 3, 9, 25] {
                let data: Vec<Vec<f32>> = (0..taps)
                    .map(|_| (0..n + 5).map(|_| rng.f32()).collect())
                    .collect();
                let srcs: Vec<&[f32]> = data.iter().map(|d| &d[..]).collect();
                let coeffs: Vec<f32> = (0..taps).map(|_| rng.f32() / 100.0).collect();
                let mut want = vec![0f32; n];
                weighted_sum(Level::SCALAR, &srcs, &coeffs, &mut want);
                for i in 0..n {
                    let r: f64 = (0..taps)
                        .map(|k| coeffs[k] as f64 * data[k][i] as f64)
                        .sum();
                    assert!((r - want[i] as f64).abs() <= 1e-3 * (1.0 + r.abs()));
                }
                for l in levels() {
                    let mut got = vec![0f32; n];
                    weighted_sum(l, &srcs, &coeffs, &mut got);
                    assert_eq!(
                        got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                        want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                        "{l:?} n={n} taps={taps}"
                    );
                }
            }
        }
    }

    fn round_trip<T: ConvSample + PartialEq + std::fmt::Debug>(mk: impl Fn(u64) -> T) {
        let mut rng = Rng::new(9);
        for &n in &[1usize, 5, 33, 101] {
            for bands in [1usize, 3, 4] {
                let src: Vec<T> = (0..n * bands).map(|_| mk(rng.next())).collect();
                let left = 2;
                let len = (n + 4) * bands;
                let mut want = vec![0f32; len];
                load_padded(Level::SCALAR, &src, bands, left, &mut want);
                assert_eq!(want[0..bands], want[bands..2 * bands]);
                assert_eq!(want[len - bands..], want[len - 2 * bands..len - bands]);
                let scaled: Vec<f32> = want.iter().map(|v| v * 3.0 - 7.5).collect();
                let mut sw = vec![T::from_scaled(0.0, 1.0, 0.0); len];
                store_scaled(Level::SCALAR, &scaled, 3.0, 2.5, &mut sw);
                for l in levels() {
                    let mut got = vec![0f32; len];
                    load_padded(l, &src, bands, left, &mut got);
                    assert_eq!(got, want);
                    let mut sg = vec![T::from_scaled(0.0, 1.0, 0.0); len];
                    store_scaled(l, &scaled, 3.0, 2.5, &mut sg);
                    assert_eq!(sg, sw);
                }
            }
        }
    }

    #[test]
    fn conversions_levels_match_scalar() {
        round_trip(|r| r as u8);
        round_trip(|r| r as u16);
        round_trip(|r| (r % 100_000) as u32);
        round_trip(|r| (r % 10_000) as f32 / 7.0);
    }

    #[test]
    fn weighted_sum_u8_matches_reference_and_levels() {
        let mut rng = Rng::new(21);
        for &n in &[1usize, 15, 16, 17, 64, 101] {
            for taps in [1usize, 2, 3, 9, 11, 25] {
                let data: Vec<Vec<u8>> = (0..taps)
                    .map(|_| (0..n + 3).map(|_| rng.next() as u8).collect())
                    .collect();
                let srcs: Vec<&[u8]> = data.iter().map(|d| &d[..]).collect();
                let q: Vec<i16> = (0..taps)
                    .map(|_| (rng.next() % 3001) as i16 - 1000)
                    .collect();
                let offset = (rng.next() % 21) as i32 - 10;
                let finish = Finish::Shift8 { offset };
                let mut want = vec![0u8; n];
                weighted_sum_u8(Level::SCALAR, &srcs, &q, finish, &mut want);
                for i in 0..n {
                    let sum: i64 = (0..taps).map(|k| q[k] as i64 * data[k][i] as i64).sum();
                    let v =
                        ((sum as f64 / 256.0 + 0.5).floor() as i64 + offset as i64).clamp(0, 255);
                    assert_eq!(want[i] as i64, v);
                }
                for l in levels() {
                    let mut got = vec![0u8; n];
                    weighted_sum_u8(l, &srcs, &q, finish, &mut got);
                    assert_eq!(got, want, "{l:?} n={n} taps={taps}");
                }
                // The division finish equals the f32 path.
                let finish = Finish::Div {
                    div: 7.0,
                    offset: offset as f32,
                };
                let mut want = vec![0u8; n];
                weighted_sum_u8(Level::SCALAR, &srcs, &q, finish, &mut want);
                let fdata: Vec<Vec<f32>> = data
                    .iter()
                    .map(|d| d.iter().map(|&v| v as f32).collect())
                    .collect();
                let fsrcs: Vec<&[f32]> = fdata.iter().map(|d| &d[..]).collect();
                let fc: Vec<f32> = q.iter().map(|&c| c as f32).collect();
                let mut sums = vec![0f32; n];
                weighted_sum(Level::SCALAR, &fsrcs, &fc, &mut sums);
                let mut via_f32 = vec![0u8; n];
                store_scaled(Level::SCALAR, &sums, 7.0, offset as f32, &mut via_f32);
                assert_eq!(want, via_f32);
                for l in levels() {
                    let mut got = vec![0u8; n];
                    weighted_sum_u8(l, &srcs, &q, finish, &mut got);
                    assert_eq!(got, want, "div {l:?} n={n} taps={taps}");
                }
            }
        }
    }

    #[test]
    fn store_rounds_and_clamps() {
        let src = [-3.0f32, 0.49, 0.5, 1.5, 254.4, 254.5, 300.0, f32::NAN];
        let mut out = [0u8; 8];
        store_scaled(Level::SCALAR, &src, 1.0, 0.0, &mut out);
        assert_eq!(out, [0, 0, 1, 2, 254, 255, 255, 0]);
    }
}
