//! Counter-based noise: rows of `u8` samples from the SplitMix64 generator,
//! whose `n`-th output is a pure function of `state + n·GOLDEN`, so any
//! stretch of the stream can be computed alone, many outputs at once.
//!
//! A pixel of `bands` ≤ 8 samples takes the first `bands` bytes
//! (little-endian) of one output; wider pixels take `⌈bands/8⌉` outputs,
//! eight bytes each and the rest of the last. The AVX2 path computes four
//! outputs a step (64-bit multiplies made of three 32-bit ones), the
//! AVX-512 path eight (`vpmullq`), and `vpshufb`/`vpermb` gather the
//! samples (`vpermi2b` from sixteen outputs for pixels of up to four
//! bands); the bytes are those of the scalar reference.

use crate::{Level, dispatch};

/// The SplitMix64 increment: output `n` (from 0) of a generator whose
/// state starts at `s` is `mix(s + (n + 1)·GOLDEN)`.
pub const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

const M1: u64 = 0xBF58_476D_1CE4_E5B9;
const M2: u64 = 0x94D0_49BB_1331_11EB;

/// The SplitMix64 output function.
#[inline(always)]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(M1);
    z = (z ^ (z >> 27)).wrapping_mul(M2);
    z ^ (z >> 31)
}

/// Fills `row` with pixels of `bands` samples from the SplitMix64 stream
/// whose state is `state` just before the row's first output: pixel `i`
/// (`bands` ≤ 8) is the first `bands` bytes of `mix(state + (i + 1)·GOLDEN)`;
/// wider pixels use `⌈bands/8⌉` consecutive outputs each. A trailing
/// partial pixel is left as it is.
///
/// Panics if `bands` is 0.
///
/// ```
/// use gigapix_simd::{level, noise::{GOLDEN, fill_u8, mix}};
/// let mut row = [0u8; 6];
/// fill_u8(level(), &mut row, 3, 7);
/// assert_eq!(row[3..], mix(7u64.wrapping_add(GOLDEN.wrapping_mul(2))).to_le_bytes()[..3]);
/// ```
pub fn fill_u8(level: Level, row: &mut [u8], bands: usize, state: u64) {
    assert!(bands > 0, "a pixel has at least one band");
    if bands > 8 {
        return wide(row, bands, state);
    }
    let done = dispatch!(
        level,
        Avx512 => avx512::fill(row, bands, state),
        Avx2 => avx2::fill(row, bands, state),
        _ => 0,
    );
    // `done` is whole pixels: continue the stream after them.
    let state = state.wrapping_add(((done / bands) as u64).wrapping_mul(GOLDEN));
    narrow(&mut row[done..], bands, state);
}

/// The scalar reference for `bands` ≤ 8 (one loop per band count, so
/// the copies have a constant size).
fn narrow(row: &mut [u8], bands: usize, state: u64) {
    match bands {
        1 => narrow_n::<1>(row, state),
        2 => narrow_n::<2>(row, state),
        3 => narrow_n::<3>(row, state),
        4 => narrow_n::<4>(row, state),
        5 => narrow_n::<5>(row, state),
        6 => narrow_n::<6>(row, state),
        7 => narrow_n::<7>(row, state),
        _ => narrow_n::<8>(row, state),
    }
}

fn narrow_n<const N: usize>(row: &mut [u8], mut state: u64) {
    let (pixels, _) = row.as_chunks_mut::<N>();
    for px in pixels {
        state = state.wrapping_add(GOLDEN);
        px.copy_from_slice(&mix(state).to_le_bytes()[..N]);
    }
}

/// Pixels of more than eight bands, `⌈bands/8⌉` outputs each.
fn wide(row: &mut [u8], bands: usize, mut state: u64) {
    for px in row.chunks_exact_mut(bands) {
        for part in px.chunks_mut(8) {
            state = state.wrapping_add(GOLDEN);
            part.copy_from_slice(&mix(state).to_le_bytes()[..part.len()]);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{GOLDEN, M1, M2};
    use std::arch::x86_64::*;

    /// `a · m` modulo 2⁶⁴ in every 64-bit lane; `m_lo` and `m_hi` hold the
    /// low and high 32 bits of `m` in the low half of every lane.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn mul64(a: __m256i, m_lo: __m256i, m_hi: __m256i) -> __m256i {
        let ll = _mm256_mul_epu32(a, m_lo);
        let cross = _mm256_add_epi64(
            _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), m_lo),
            _mm256_mul_epu32(a, m_hi),
        );
        _mm256_add_epi64(ll, _mm256_slli_epi64::<32>(cross))
    }

    /// Whole pixels of `bands` (1 to 8) samples, four a step; returns the
    /// bytes done.
    ///
    /// # Safety
    /// The CPU must support AVX2; `1 <= bands <= 8`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fill(row: &mut [u8], bands: usize, state: u64) -> usize {
        let m1 = (
            _mm256_set1_epi64x(M1 as u32 as i64),
            _mm256_set1_epi64x((M1 >> 32) as i64),
        );
        let m2 = (
            _mm256_set1_epi64x(M2 as u32 as i64),
            _mm256_set1_epi64x((M2 >> 32) as i64),
        );
        // Within each 128-bit lane: the first `bands` bytes of both
        // outputs, side by side (index 0x80 clears the rest).
        let mut pick = [0x80u8; 16];
        for (j, p) in pick.iter_mut().enumerate().take(2 * bands) {
            *p = ((j / bands) * 8 + j % bands) as u8;
        }
        // SAFETY: 16 bytes of a 16-byte array.
        let pick = _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(pick.as_ptr().cast()) });
        let g = |k: u64| state.wrapping_add(k.wrapping_mul(GOLDEN)) as i64;
        let mut s = _mm256_set_epi64x(g(4), g(3), g(2), g(1));
        let step = _mm256_set1_epi64x(GOLDEN.wrapping_mul(4) as i64);
        let half = 2 * bands;
        // Whole pixels only: a trailing partial pixel is not written.
        let len = row.len() / bands * bands;
        let mut i = 0;
        // Each step stores 16 bytes at `i` and at `i + half`; the bytes
        // past the step's pixels are rewritten by the next step or by the
        // scalar tail.
        while i + half + 16 <= len {
            let mut z = s;
            z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64::<30>(z)), m1.0, m1.1);
            z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64::<27>(z)), m2.0, m2.1);
            z = _mm256_xor_si256(z, _mm256_srli_epi64::<31>(z));
            let v = _mm256_shuffle_epi8(z, pick);
            // SAFETY: `i + half + 16 <= len`: both 16-byte stores are in
            // the row; unaligned.
            unsafe {
                let p = row.as_mut_ptr().add(i);
                _mm_storeu_si128(p.cast(), _mm256_castsi256_si128(v));
                _mm_storeu_si128(p.add(half).cast(), _mm256_extracti128_si256::<1>(v));
            }
            s = _mm256_add_epi64(s, step);
            i += 2 * half;
        }
        i
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{GOLDEN, M1, M2};
    use std::arch::x86_64::*;

    /// Eight SplitMix64 outputs from eight states.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq")]
    fn mix8(mut z: __m512i) -> __m512i {
        z = _mm512_mullo_epi64(
            _mm512_xor_si512(z, _mm512_srli_epi64::<30>(z)),
            _mm512_set1_epi64(M1 as i64),
        );
        z = _mm512_mullo_epi64(
            _mm512_xor_si512(z, _mm512_srli_epi64::<27>(z)),
            _mm512_set1_epi64(M2 as i64),
        );
        _mm512_xor_si512(z, _mm512_srli_epi64::<31>(z))
    }

    /// The byte gather of a step of `n` outputs: byte `j` of the step is
    /// byte `j % bands` of output `j / bands` (`j < n·bands <= 64`).
    fn pick(bands: usize, n: usize) -> [u8; 64] {
        let mut pick = [0u8; 64];
        for (j, p) in pick.iter_mut().enumerate().take(n * bands) {
            *p = ((j / bands) * 8 + j % bands) as u8;
        }
        pick
    }

    /// The mask of the first `n` bytes, `n <= 64`.
    fn first(n: usize) -> __mmask64 {
        if n == 64 { !0 } else { (1u64 << n) - 1 }
    }

    /// Whole pixels of `bands` (1 to 8) samples, sixteen a step (two
    /// vectors of outputs gathered by one `vpermi2b`) for up to four
    /// bands, else eight; returns the bytes done.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, BW, DQ and VBMI; `1 <= bands <= 8`.
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vbmi")]
    pub(super) unsafe fn fill(row: &mut [u8], bands: usize, state: u64) -> usize {
        let g = |k: u64| state.wrapping_add(k.wrapping_mul(GOLDEN)) as i64;
        let mut s = _mm512_set_epi64(g(8), g(7), g(6), g(5), g(4), g(3), g(2), g(1));
        let eight = _mm512_set1_epi64(GOLDEN.wrapping_mul(8) as i64);
        let len = row.len();
        let mut i = 0;
        if bands <= 4 {
            // SAFETY: 64 bytes of a 64-byte array.
            let pick = unsafe { _mm512_loadu_si512(pick(bands, 16).as_ptr().cast()) };
            let out = 16 * bands;
            let mask = first(out);
            while i + out <= len {
                let t = _mm512_add_epi64(s, eight);
                let v = _mm512_permutex2var_epi8(mix8(s), pick, mix8(t));
                // SAFETY: the mask writes `out` bytes from `i`, and
                // `i + out <= len`; unaligned.
                unsafe { _mm512_mask_storeu_epi8(row.as_mut_ptr().add(i).cast(), mask, v) };
                s = _mm512_add_epi64(t, eight);
                i += out;
            }
        }
        // SAFETY: 64 bytes of a 64-byte array.
        let pick = unsafe { _mm512_loadu_si512(pick(bands, 8).as_ptr().cast()) };
        let out = 8 * bands;
        let mask = first(out);
        while i + out <= len {
            let v = _mm512_permutexvar_epi8(pick, mix8(s));
            // SAFETY: the mask writes `out` bytes from `i`, and
            // `i + out <= len`; unaligned.
            unsafe { _mm512_mask_storeu_epi8(row.as_mut_ptr().add(i).cast(), mask, v) };
            s = _mm512_add_epi64(s, eight);
            i += out;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels;

    #[test]
    fn mix_is_splitmix64() {
        // The first outputs of SplitMix64 seeded with 1234567 (the
        // reference sequence of Vigna's splitmix64.c).
        let mut s = 1234567u64;
        let mut next = || {
            s = s.wrapping_add(GOLDEN);
            mix(s)
        };
        assert_eq!(next(), 6457827717110365317);
        assert_eq!(next(), 3203168211198807973);
        assert_eq!(next(), 9817491932198370423);
    }

    #[test]
    fn samples_are_uniform_bytes() {
        // 3·2²⁰ samples of 3-band pixels: the mean and the variance of the
        // discrete uniform distribution on 0..=255 (127.5 and
        // (256² − 1)/12), within about 7 standard errors, and every value
        // about equally often (chi-square with 255 degrees of freedom far
        // below its 1e-6 tail, about 370).
        let n = 3 << 20;
        let mut row = vec![0u8; n];
        fill_u8(crate::level(), &mut row, 3, 99);
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 127.5).abs() < 0.3, "mean {mean}");
        assert!((var - 65535.0 / 12.0).abs() < 30.0, "variance {var}");
        let mut counts = [0f64; 256];
        row.iter().for_each(|&v| counts[v as usize] += 1.0);
        let e = n as f64 / 256.0;
        let chi2: f64 = counts.iter().map(|c| (c - e).powi(2) / e).sum();
        assert!(chi2 < 370.0, "chi-square {chi2}");
    }

    #[test]
    fn every_level_matches_scalar() {
        for bands in 1..=11 {
            for pixels in [0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 24, 25, 33, 100] {
                for extra in [0, 1] {
                    let n = pixels * bands + extra.min(bands - 1);
                    let state = 0xDEAD_BEEF_u64.wrapping_mul(pixels as u64 + 1);
                    let mut want = vec![0xA5u8; n];
                    if bands > 8 {
                        wide(&mut want, bands, state);
                    } else {
                        narrow(&mut want, bands, state);
                    }
                    // The reference itself: pixel p, sample b.
                    for p in 0..pixels {
                        for b in 0..bands {
                            let k = (p * bands.div_ceil(8) + b / 8) as u64 + 1;
                            let h = mix(state.wrapping_add(k.wrapping_mul(GOLDEN)));
                            assert_eq!(want[p * bands + b], h.to_le_bytes()[b % 8]);
                        }
                    }
                    for level in levels() {
                        let mut got = vec![0xA5u8; n];
                        fill_u8(level, &mut got, bands, state);
                        assert_eq!(got, want, "{level:?} bands {bands} pixels {pixels}");
                    }
                }
            }
        }
    }
}
