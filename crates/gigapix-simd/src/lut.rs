//! Lookup-table kernels: every `u8` sample mapped through a 256-entry
//! `u8` table (the fused point chains of `gigapix-ops` on 8-bit images).
//!
//! * AVX2 holds the table as sixteen 16-entry slices and looks every byte
//!   up in all of them with `vpshufb` (which uses the low four bits), then
//!   picks the slice the high four bits name with a tree of fifteen
//!   `vpblendvb` (bits 4, 5, 6 and 7 in turn): 32 samples a step.
//! * AVX-512 (VBMI) holds the whole table in four registers and looks 64
//!   samples up with two `vpermi2b` (the low 128 and the high 128 entries,
//!   seven index bits each) and one masked blend on bit 7.
//!
//! Both give exactly the table's bytes, as the scalar reference does.

use crate::{Level, dispatch};

/// `dst[i] = table[src[i]]` for every sample.
///
/// Panics if the slices differ in length.
///
/// ```
/// use gigapix_simd::{level, lut::map_u8};
/// let table: [u8; 256] = std::array::from_fn(|v| 255 - v as u8);
/// let src = [0u8, 1, 200, 255];
/// let mut dst = [0u8; 4];
/// map_u8(level(), &table, &src, &mut dst);
/// assert_eq!(dst, [255, 254, 55, 0]);
/// ```
pub fn map_u8(level: Level, table: &[u8; 256], src: &[u8], dst: &mut [u8]) {
    assert_eq!(src.len(), dst.len(), "rows must have the same length");
    let done = dispatch!(
        level,
        Avx512 => avx512::map_u8(table, src, dst),
        Avx2 => avx2::map_u8(table, src, dst),
        _ => 0,
    );
    scalar(table, &src[done..], &mut dst[done..]);
}

/// The scalar reference of [`map_u8`].
fn scalar(table: &[u8; 256], src: &[u8], dst: &mut [u8]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = table[s as usize];
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// 32 lookups: `slices` are the table's sixteen 16-entry slices, each
    /// broadcast to both 128-bit lanes.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn look32(slices: &[__m256i; 16], x: __m256i) -> __m256i {
        let low = _mm256_and_si256(x, _mm256_set1_epi8(0x0F));
        let mut level: [__m256i; 16] = [_mm256_setzero_si256(); 16];
        for (l, s) in level.iter_mut().zip(slices) {
            *l = _mm256_shuffle_epi8(*s, low);
        }
        // vpblendvb picks by bit 7 of each mask byte; shifting the 16-bit
        // words left moves bit 4 (then 5, 6) of every byte there.
        let m4 = _mm256_slli_epi16::<3>(x);
        let m5 = _mm256_slli_epi16::<2>(x);
        let m6 = _mm256_slli_epi16::<1>(x);
        let mut half = [_mm256_setzero_si256(); 8];
        for (k, h) in half.iter_mut().enumerate() {
            *h = _mm256_blendv_epi8(level[2 * k], level[2 * k + 1], m4);
        }
        let mut quarter = [_mm256_setzero_si256(); 4];
        for (k, q) in quarter.iter_mut().enumerate() {
            *q = _mm256_blendv_epi8(half[2 * k], half[2 * k + 1], m5);
        }
        let lo = _mm256_blendv_epi8(quarter[0], quarter[1], m6);
        let hi = _mm256_blendv_epi8(quarter[2], quarter[3], m6);
        _mm256_blendv_epi8(lo, hi, x)
    }

    /// Maps the longest prefix of whole 32-sample steps; returns its
    /// length.
    ///
    /// # Safety
    /// The CPU must support AVX2; `src` and `dst` have equal lengths.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn map_u8(table: &[u8; 256], src: &[u8], dst: &mut [u8]) -> usize {
        let mut slices = [_mm256_setzero_si256(); 16];
        for (k, s) in slices.iter_mut().enumerate() {
            // SAFETY: `16 * k + 16 <= 256`: 16 bytes inside the table.
            *s = _mm256_broadcastsi128_si256(unsafe {
                _mm_loadu_si128(table.as_ptr().add(16 * k) as *const __m128i)
            });
        }
        let n = src.len() / 32 * 32;
        let mut i = 0;
        while i < n {
            // SAFETY: `i + 32 <= n <= len` of both slices; unaligned.
            unsafe {
                let x = _mm256_loadu_si256(src.as_ptr().add(i) as *const __m256i);
                _mm256_storeu_si256(dst.as_mut_ptr().add(i) as *mut __m256i, look32(&slices, x));
            }
            i += 32;
        }
        n
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// Maps the longest prefix of whole 64-sample steps; returns its
    /// length.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, BW and VBMI; `src` and `dst` have
    /// equal lengths.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(super) unsafe fn map_u8(table: &[u8; 256], src: &[u8], dst: &mut [u8]) -> usize {
        // SAFETY: four 64-byte loads at offsets 0, 64, 128 and 192 of the
        // 256-byte table; unaligned.
        let [t0, t1, t2, t3] = std::array::from_fn(|k| unsafe {
            _mm512_loadu_si512(table.as_ptr().add(64 * k) as *const __m512i)
        });
        let n = src.len() / 64 * 64;
        let mut i = 0;
        while i < n {
            // SAFETY: `i + 64 <= n <= len` of both slices; unaligned.
            unsafe {
                let x = _mm512_loadu_si512(src.as_ptr().add(i) as *const __m512i);
                // Seven index bits: bit 6 picks t0/t1 (or t2/t3).
                let lo = _mm512_permutex2var_epi8(t0, x, t1);
                let hi = _mm512_permutex2var_epi8(t2, x, t3);
                let top = _mm512_movepi8_mask(x);
                let v = _mm512_mask_blend_epi8(top, lo, hi);
                _mm512_storeu_si512(dst.as_mut_ptr().add(i) as *mut __m512i, v);
            }
            i += 64;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels;
    use crate::testdata::bytes;

    #[test]
    fn every_level_matches_scalar() {
        // Every input value, in every position of a vector, and a random
        // table plus a few structured ones.
        let every: Vec<u8> = (0..=255u8).cycle().take(256 * 3 + 17).collect();
        let rand: [u8; 256] = bytes(256, 42).try_into().unwrap();
        let tables = [
            rand,
            std::array::from_fn(|v| 255 - v as u8),
            std::array::from_fn(|v| v as u8),
            std::array::from_fn(|v| (v as u8).rotate_left(3) ^ 0x5A),
        ];
        for n in [0, 1, 31, 32, 33, 63, 64, 65, 127, 1000] {
            let src = bytes(n, n as u64 + 1);
            for table in &tables {
                let mut want = vec![0u8; n];
                scalar(table, &src, &mut want);
                for level in levels() {
                    let mut got = vec![7u8; n];
                    map_u8(level, table, &src, &mut got);
                    assert_eq!(got, want, "{level:?} {n}");
                    let mut got = vec![7u8; every.len()];
                    map_u8(level, table, &every, &mut got);
                    let want: Vec<u8> = every.iter().map(|&v| table[v as usize]).collect();
                    assert_eq!(got, want, "{level:?} every value");
                }
            }
        }
    }
}
