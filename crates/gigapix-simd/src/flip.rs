//! Row reversal by whole pixels (the horizontal flip), for pixels of any
//! byte size; the vector paths take pixels of up to 16 bytes (AVX2) or 32
//! bytes (AVX-512).
//!
//! AVX2 reverses the pixels of 16 bytes at a time with one `vpshufb`
//! (five 3-byte pixels, four 4-byte ones, …), AVX-512 those of 64 bytes
//! with one `vpermb` between a masked load and a masked store.

use crate::{Level, dispatch};

/// `dst` = the pixels of `src`, `pb` bytes each, in reverse order.
///
/// Panics if the slices differ in length, `pb` is 0 or the length is not
/// a multiple of `pb`.
///
/// ```
/// use gigapix_simd::{flip::reverse_pixels, level};
/// let src = [1u8, 2, 3, 4, 5, 6, 7, 8, 9];
/// let mut dst = [0u8; 9];
/// reverse_pixels(level(), &src, &mut dst, 3);
/// assert_eq!(dst, [7, 8, 9, 4, 5, 6, 1, 2, 3]);
/// ```
pub fn reverse_pixels(level: Level, src: &[u8], dst: &mut [u8], pb: usize) {
    assert_eq!(src.len(), dst.len(), "rows must have the same length");
    assert!(
        pb > 0 && src.len().is_multiple_of(pb),
        "rows must hold whole pixels"
    );
    let done = dispatch!(
        level,
        Avx512 => avx512::reverse(src, dst, pb),
        Avx2 => avx2::reverse(src, dst, pb),
        _ => 0,
    );
    // `done` bytes of whole pixels at the start of dst: the same bytes at
    // the end of src.
    let rest = src.len() - done;
    scalar(&src[..rest], &mut dst[done..], pb);
}

/// The scalar reference (one loop per common pixel size, so the copies
/// have a constant size).
fn scalar(src: &[u8], dst: &mut [u8], pb: usize) {
    match pb {
        1 => scalar_n::<1>(src, dst),
        2 => scalar_n::<2>(src, dst),
        3 => scalar_n::<3>(src, dst),
        4 => scalar_n::<4>(src, dst),
        6 => scalar_n::<6>(src, dst),
        8 => scalar_n::<8>(src, dst),
        12 => scalar_n::<12>(src, dst),
        16 => scalar_n::<16>(src, dst),
        _ => {
            for (d, s) in dst.chunks_exact_mut(pb).zip(src.chunks_exact(pb).rev()) {
                d.copy_from_slice(s);
            }
        }
    }
}

fn scalar_n<const N: usize>(src: &[u8], dst: &mut [u8]) {
    let (d, _) = dst.as_chunks_mut::<N>();
    let (s, _) = src.as_chunks::<N>();
    for (d, s) in d.iter_mut().zip(s.iter().rev()) {
        *d = *s;
    }
}

/// The permutation of a step of `W` bytes that reverses the `p = W / pb`
/// pixels of a group `bytes = p·pb` long starting at input byte `at`:
/// output byte `j < bytes` is input byte `at + (p − 1 − j / pb)·pb + j % pb`.
/// `at` is a function of `bytes`.
#[cfg(target_arch = "x86_64")]
fn pattern<const W: usize>(pb: usize, at: fn(usize) -> usize) -> ([u8; W], usize) {
    let p = W / pb;
    let bytes = p * pb;
    let mut idx = [0u8; W];
    for (j, v) in idx.iter_mut().enumerate().take(bytes) {
        *v = (at(bytes) + (p - 1 - j / pb) * pb + j % pb) as u8;
    }
    (idx, bytes)
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Reverses a prefix of `dst` (whole pixels); returns its length.
    ///
    /// # Safety
    /// The CPU must support AVX2; equal lengths, multiples of `pb > 0`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn reverse(src: &[u8], dst: &mut [u8], pb: usize) -> usize {
        if pb > 16 {
            return 0;
        }
        let (idx, bytes) = super::pattern::<16>(pb, |bytes| 16 - bytes);
        // SAFETY: 16 bytes of a 16-byte array.
        let idx = unsafe { _mm_loadu_si128(idx.as_ptr().cast()) };
        let len = src.len();
        let mut i = 0;
        // Step at dst `i`: the group ends at src `len − i`; the 16-byte
        // load ends there, so it starts at `len − i − 16 >= 0`, and the
        // 16-byte store at `i` stays in dst (`i + 16 <= len`); its bytes
        // past the group are rewritten by the next step or the tail.
        while i + 16 <= len {
            // SAFETY: `0 <= len − i − 16` and `i + 16 <= len`, as above.
            unsafe {
                let v = _mm_loadu_si128(src.as_ptr().add(len - i - 16).cast());
                _mm_storeu_si128(dst.as_mut_ptr().add(i).cast(), _mm_shuffle_epi8(v, idx));
            }
            i += bytes;
        }
        i
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// Reverses a prefix of `dst` (whole pixels); returns its length.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, BW and VBMI; equal lengths,
    /// multiples of `pb > 0`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(super) unsafe fn reverse(src: &[u8], dst: &mut [u8], pb: usize) -> usize {
        if pb > 32 {
            return 0;
        }
        // The group sits at the bottom of the 64 bytes: a masked load of
        // its bytes only.
        let (idx, bytes) = super::pattern::<64>(pb, |_| 0);
        // SAFETY: 64 bytes of a 64-byte array.
        let idx = unsafe { _mm512_loadu_si512(idx.as_ptr().cast()) };
        let store: __mmask64 = if bytes == 64 { !0 } else { (1u64 << bytes) - 1 };
        let len = src.len();
        let mut i = 0;
        while i + bytes <= len {
            // SAFETY: `i + bytes <= len`: the masked load reads
            // src[len − i − bytes .. len − i] and the masked store writes
            // dst[i .. i + bytes] (masked-off bytes are not accessed).
            unsafe {
                let p = src.as_ptr().add(len - i - bytes);
                let v = _mm512_maskz_loadu_epi8(store, p.cast());
                let r = _mm512_permutexvar_epi8(idx, v);
                _mm512_mask_storeu_epi8(dst.as_mut_ptr().add(i).cast(), store, r);
            }
            i += bytes;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels;

    #[test]
    fn every_level_matches_scalar() {
        for pb in [1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 17, 24, 32, 33] {
            for pixels in [0, 1, 2, 4, 5, 6, 15, 16, 17, 21, 22, 43, 100] {
                let n = pixels * pb;
                let src: Vec<u8> = (0..n).map(|i| (i * 7 + i / 251) as u8).collect();
                let mut want = vec![0u8; n];
                scalar(&src, &mut want, pb);
                // The reference itself: pixel k of dst is pixel
                // pixels − 1 − k of src.
                for k in 0..pixels {
                    let s = (pixels - 1 - k) * pb;
                    assert_eq!(want[k * pb..(k + 1) * pb], src[s..s + pb]);
                }
                for level in levels() {
                    let mut got = vec![0xEEu8; n];
                    reverse_pixels(level, &src, &mut got, pb);
                    assert_eq!(got, want, "{level:?} pb {pb} pixels {pixels}");
                }
            }
        }
    }
}
