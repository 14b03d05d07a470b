//! Alpha kernels on `u8` pixels whose last band is alpha: premultiply,
//! unpremultiply and Porter-Duff `over`.
//!
//! Every kernel takes the number of bands per pixel; the AVX2 paths handle
//! four-band pixels (RGBA) and everything else (other band counts, the
//! tails of rows, lower levels) runs the scalar reference. The vector paths
//! compute exactly what the scalar code computes (the same integer
//! arithmetic, or the same `f32` operations on integers that `f32` holds
//! exactly), so every level gives the same bytes.
//!
//! - [`premultiply_u8`]: `c' = round(c·a / 255)`, alpha kept.
//! - [`unpremultiply_u8`]: `c' = min(255, round(c · (255 / a)))` in `f32`,
//!   `0` where `a = 0`, alpha kept.
//! - [`over_u8`]: `overlay` over `base`, both unpremultiplied with alpha:
//!   `a_o = a_s + a_b (1 − a_s)`, `c_o = (c_s a_s + c_b a_b (1 − a_s)) / a_o`,
//!   computed in `f32` on exact integer products, dividing through one
//!   reciprocal per pixel.

use crate::{Level, dispatch};

/// `round(x / 255)` for `x` in `0..=65025`, exactly.
#[inline(always)]
fn div255(x: u32) -> u32 {
    let t = x + 128;
    (t + (t >> 8)) >> 8
}

/// Premultiplies one pixel (scalar reference).
#[inline(always)]
fn premultiply_px(src: &[u8], dst: &mut [u8]) {
    let n = src.len();
    let a = src[n - 1] as u32;
    for (d, &c) in dst[..n - 1].iter_mut().zip(&src[..n - 1]) {
        *d = div255(c as u32 * a) as u8;
    }
    dst[n - 1] = a as u8;
}

/// Unpremultiplies one pixel (scalar reference).
#[inline(always)]
fn unpremultiply_px(src: &[u8], dst: &mut [u8]) {
    let n = src.len();
    let a = src[n - 1];
    if a == 0 {
        dst[..n - 1].fill(0);
    } else {
        let f = 255.0f32 / a as f32;
        for (d, &c) in dst[..n - 1].iter_mut().zip(&src[..n - 1]) {
            let v = c as f32 * f + 0.5;
            *d = if v >= 255.0 { 255 } else { v as u8 };
        }
    }
    dst[n - 1] = a;
}

/// `overlay` over `base`, one pixel (scalar reference).
#[inline(always)]
fn over_px(base: &[u8], overlay: &[u8], dst: &mut [u8]) {
    let n = base.len();
    let a_s = overlay[n - 1] as u32;
    let a_b = base[n - 1] as u32;
    // Weights scaled by 255²; all products below stay under 2²⁴, so `f32`
    // holds them exactly.
    let ws = (a_s * 255) as f32;
    let wb = (a_b * (255 - a_s)) as f32;
    let den = ws + wb;
    if den == 0.0 {
        dst.fill(0);
        return;
    }
    // One reciprocal per pixel (the vector path computes the same).
    let inv = 1.0 / den;
    for i in 0..n - 1 {
        let num = overlay[i] as f32 * ws + base[i] as f32 * wb;
        let v = num * inv + 0.5;
        dst[i] = v as u8;
    }
    dst[n - 1] = (den * (1.0 / 255.0) + 0.5) as u8;
}

/// Scalar premultiply of whole pixels of `bands` bands.
fn premultiply_scalar(src: &[u8], dst: &mut [u8], bands: usize) {
    for (s, d) in src.chunks_exact(bands).zip(dst.chunks_exact_mut(bands)) {
        premultiply_px(s, d);
    }
}

/// Scalar unpremultiply of whole pixels of `bands` bands.
fn unpremultiply_scalar(src: &[u8], dst: &mut [u8], bands: usize) {
    for (s, d) in src.chunks_exact(bands).zip(dst.chunks_exact_mut(bands)) {
        unpremultiply_px(s, d);
    }
}

/// Scalar `over` of whole pixels of `bands` bands.
fn over_scalar(base: &[u8], overlay: &[u8], dst: &mut [u8], bands: usize) {
    for ((b, o), d) in base
        .chunks_exact(bands)
        .zip(overlay.chunks_exact(bands))
        .zip(dst.chunks_exact_mut(bands))
    {
        over_px(b, o, d);
    }
}

fn check(len: usize, dst: usize, bands: usize) {
    assert!(bands >= 2, "alpha kernels need at least two bands");
    assert!(
        len.is_multiple_of(bands) && dst == len,
        "rows must hold whole pixels and have equal lengths"
    );
}

/// Premultiplies a row of `u8` pixels of `bands` bands (alpha last):
/// `dst = round(src · alpha / 255)` for the colour bands, alpha copied.
///
/// Panics if `bands < 2` or the rows do not hold the same whole pixels.
pub fn premultiply_u8(level: Level, src: &[u8], dst: &mut [u8], bands: usize) {
    check(src.len(), dst.len(), bands);
    let done = if bands == 4 {
        dispatch!(level, Avx2 => avx2::premultiply4(src, dst), _ => 0)
    } else {
        0
    };
    premultiply_scalar(&src[done..], &mut dst[done..], bands);
}

/// Unpremultiplies a row of `u8` pixels of `bands` bands (alpha last):
/// `dst = min(255, round(src · (255 / alpha)))` (in `f32`) for the colour
/// bands, `0` where alpha is `0`, alpha copied.
///
/// Panics like [`premultiply_u8`].
pub fn unpremultiply_u8(level: Level, src: &[u8], dst: &mut [u8], bands: usize) {
    check(src.len(), dst.len(), bands);
    let done = if bands == 4 {
        dispatch!(level, Avx2 => avx2::unpremultiply4(src, dst), _ => 0)
    } else {
        0
    };
    unpremultiply_scalar(&src[done..], &mut dst[done..], bands);
}

/// Porter-Duff `overlay` over `base`, rows of unpremultiplied `u8` pixels of
/// `bands` bands with alpha last; the result, unpremultiplied, goes to
/// `dst` (all zeros where both alphas are zero).
///
/// Panics like [`premultiply_u8`], or if `overlay` has another length.
pub fn over_u8(level: Level, base: &[u8], overlay: &[u8], dst: &mut [u8], bands: usize) {
    check(base.len(), dst.len(), bands);
    assert_eq!(base.len(), overlay.len(), "rows must have equal lengths");
    let done = if bands == 4 {
        dispatch!(level, Avx2 => avx2::over4(base, overlay, dst), _ => 0)
    } else {
        0
    };
    over_scalar(&base[done..], &overlay[done..], &mut dst[done..], bands);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Premultiplies 8 RGBA pixels at a time; returns the bytes done.
    ///
    /// # Safety
    /// The CPU must support AVX2 and `dst.len() >= src.len()`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn premultiply4(src: &[u8], dst: &mut [u8]) -> usize {
        let n = src.len() / 32 * 32;
        let alpha = _mm256_setr_epi8(
            6, 7, 6, 7, 6, 7, 6, 7, 14, 15, 14, 15, 14, 15, 14, 15, 6, 7, 6, 7, 6, 7, 6, 7, 14, 15,
            14, 15, 14, 15, 14, 15,
        );
        let r128 = _mm256_set1_epi16(128);
        let mut i = 0;
        while i < n {
            // SAFETY: `i + 32 <= n <= src.len() <= dst.len()`; unaligned
            // loads and stores.
            unsafe {
                let v = _mm256_loadu_si256(src.as_ptr().add(i) as *const __m256i);
                let lo = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(v));
                let hi = _mm256_cvtepu8_epi16(_mm256_extracti128_si256::<1>(v));
                let packed =
                    _mm256_packus_epi16(premul16(lo, alpha, r128), premul16(hi, alpha, r128));
                let out = _mm256_permute4x64_epi64::<0b11_01_10_00>(packed);
                _mm256_storeu_si256(dst.as_mut_ptr().add(i) as *mut __m256i, out);
            }
            i += 32;
        }
        n
    }

    /// Premultiplies 4 RGBA pixels widened to 16-bit lanes.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn premul16(x: __m256i, alpha: __m256i, r128: __m256i) -> __m256i {
        let a = _mm256_shuffle_epi8(x, alpha);
        let t = _mm256_add_epi16(_mm256_mullo_epi16(x, a), r128);
        let t = _mm256_srli_epi16::<8>(_mm256_add_epi16(t, _mm256_srli_epi16::<8>(t)));
        _mm256_blend_epi16::<0b1000_1000>(t, x)
    }

    /// Widens 2 RGBA pixels (8 bytes at `p`) to 8 `f32` lanes.
    ///
    /// # Safety
    /// AVX2, and 8 readable bytes at `p`.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn load2(p: *const u8) -> __m256 {
        // SAFETY: the caller guarantees 8 readable bytes.
        let v = unsafe { _mm_loadl_epi64(p as *const __m128i) };
        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v))
    }

    /// Truncates 8 `f32` lanes (already in 0..=255.x) to bytes and stores
    /// them at `p`.
    ///
    /// # Safety
    /// AVX2, and 8 writable bytes at `p`.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn store2(p: *mut u8, v: __m256) {
        let i = _mm256_cvttps_epi32(v);
        let w = _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256::<1>(i));
        let b = _mm_packus_epi16(w, w);
        // SAFETY: the caller guarantees 8 writable bytes.
        unsafe { _mm_storel_epi64(p as *mut __m128i, b) };
    }

    /// Unpremultiplies 2 RGBA pixels at a time; returns the bytes done.
    ///
    /// # Safety
    /// The CPU must support AVX2 and `dst.len() >= src.len()`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn unpremultiply4(src: &[u8], dst: &mut [u8]) -> usize {
        let n = src.len() / 8 * 8;
        let idx = _mm256_setr_epi32(3, 3, 3, 3, 7, 7, 7, 7);
        let is_alpha = _mm256_castsi256_ps(_mm256_setr_epi32(0, 0, 0, -1, 0, 0, 0, -1));
        let c255 = _mm256_set1_ps(255.0);
        let half = _mm256_set1_ps(0.5);
        let zero = _mm256_setzero_ps();
        let mut i = 0;
        while i < n {
            // SAFETY: `i + 8 <= n <= src.len() <= dst.len()`.
            unsafe {
                let v = load2(src.as_ptr().add(i));
                let a = _mm256_permutevar8x32_ps(v, idx);
                let f = _mm256_div_ps(c255, a);
                let r = _mm256_min_ps(_mm256_add_ps(_mm256_mul_ps(v, f), half), c255);
                // a == 0 gives inf or NaN: zero those lanes.
                let r = _mm256_blendv_ps(r, zero, _mm256_cmp_ps::<_CMP_EQ_OQ>(a, zero));
                let r = _mm256_blendv_ps(r, v, is_alpha);
                store2(dst.as_mut_ptr().add(i), r);
            }
            i += 8;
        }
        n
    }

    /// `overlay` over `base`, 2 RGBA pixels at a time, with shortcuts for
    /// blocks of 8 pixels whose overlay is all opaque (the overlay) or all
    /// transparent over a base with no zero alpha (the base), which give
    /// the bytes the arithmetic would; returns the bytes done.
    ///
    /// # Safety
    /// The CPU must support AVX2 and `overlay` and `dst` at least as long as
    /// `base`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn over4(base: &[u8], overlay: &[u8], dst: &mut [u8]) -> usize {
        let n = base.len() / 8 * 8;
        let blocks = base.len() / 32 * 32;
        let ones = _mm256_set1_epi8(-1);
        let zeros = _mm256_setzero_si256();
        // Bit 4k + 3 of a byte mask: the alpha bytes.
        const ALPHAS: u32 = 0x8888_8888;
        let mut i = 0;
        while i < blocks {
            // SAFETY: `i + 32 <= blocks <= base.len()`, and `overlay` and
            // `dst` are at least as long.
            unsafe {
                let sv = _mm256_loadu_si256(overlay.as_ptr().add(i) as *const __m256i);
                let opaque = _mm256_movemask_epi8(_mm256_cmpeq_epi8(sv, ones)) as u32 & ALPHAS;
                if opaque == ALPHAS {
                    _mm256_storeu_si256(dst.as_mut_ptr().add(i) as *mut __m256i, sv);
                    i += 32;
                    continue;
                }
                let clear = _mm256_movemask_epi8(_mm256_cmpeq_epi8(sv, zeros)) as u32 & ALPHAS;
                if clear == ALPHAS {
                    let bv = _mm256_loadu_si256(base.as_ptr().add(i) as *const __m256i);
                    let empty = _mm256_movemask_epi8(_mm256_cmpeq_epi8(bv, zeros)) as u32 & ALPHAS;
                    if empty == 0 {
                        _mm256_storeu_si256(dst.as_mut_ptr().add(i) as *mut __m256i, bv);
                        i += 32;
                        continue;
                    }
                }
                over8(base, overlay, dst, i);
            }
            i += 32;
        }
        while i < n {
            // SAFETY: `i + 8 <= n <= base.len()`.
            unsafe { over2(base, overlay, dst, i) };
            i += 8;
        }
        n
    }

    /// The alphas of the 8 RGBA pixels in `v`, as `f32` lanes.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn alphas8(v: __m256i) -> __m256 {
        let pick = _mm256_setr_epi8(
            3, 7, 11, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 3, 7, 11, 15, -1, -1, -1,
            -1, -1, -1, -1, -1, -1, -1, -1, -1,
        );
        let a = _mm256_shuffle_epi8(v, pick);
        let a = _mm256_permutevar8x32_epi32(a, _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
        _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm256_castsi256_si128(a)))
    }

    /// `over` on the 8 RGBA pixels at byte `i`: the arithmetic of [`over2`],
    /// with the per-pixel terms (weights, reciprocal, alpha) computed once
    /// for the 8 pixels.
    ///
    /// # Safety
    /// AVX2, and 32 bytes from `i` in each slice.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn over8(base: &[u8], overlay: &[u8], dst: &mut [u8], i: usize) {
        let is_alpha = _mm256_castsi256_ps(_mm256_setr_epi32(0, 0, 0, -1, 0, 0, 0, -1));
        let c255 = _mm256_set1_ps(255.0);
        let half = _mm256_set1_ps(0.5);
        let zero = _mm256_setzero_ps();
        // SAFETY: the caller guarantees 32 bytes from `i` in each slice.
        unsafe {
            let bv = _mm256_loadu_si256(base.as_ptr().add(i) as *const __m256i);
            let sv = _mm256_loadu_si256(overlay.as_ptr().add(i) as *const __m256i);
            let a_b = alphas8(bv);
            let a_s = alphas8(sv);
            let ws8 = _mm256_mul_ps(a_s, c255);
            let wb8 = _mm256_mul_ps(a_b, _mm256_sub_ps(c255, a_s));
            let den8 = _mm256_add_ps(ws8, wb8);
            let inv8 = _mm256_div_ps(_mm256_set1_ps(1.0), den8);
            let alpha8 = _mm256_add_ps(_mm256_mul_ps(den8, _mm256_set1_ps(1.0 / 255.0)), half);
            let zero8 = _mm256_cmp_ps::<_CMP_EQ_OQ>(den8, zero);
            for k in 0..4 {
                let idx = _mm256_setr_epi32(
                    2 * k,
                    2 * k,
                    2 * k,
                    2 * k,
                    2 * k + 1,
                    2 * k + 1,
                    2 * k + 1,
                    2 * k + 1,
                );
                let spread = |v: __m256| _mm256_permutevar8x32_ps(v, idx);
                let at = i + 8 * k as usize;
                let b = load2(base.as_ptr().add(at));
                let s = load2(overlay.as_ptr().add(at));
                let num =
                    _mm256_add_ps(_mm256_mul_ps(s, spread(ws8)), _mm256_mul_ps(b, spread(wb8)));
                let c = _mm256_add_ps(_mm256_mul_ps(num, spread(inv8)), half);
                let r = _mm256_blendv_ps(c, spread(alpha8), is_alpha);
                let r = _mm256_blendv_ps(r, zero, spread(zero8));
                store2(dst.as_mut_ptr().add(at), r);
            }
        }
    }

    /// `over` on the 2 RGBA pixels at byte `i`.
    ///
    /// # Safety
    /// AVX2, and 8 bytes from `i` in each slice.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn over2(base: &[u8], overlay: &[u8], dst: &mut [u8], i: usize) {
        let idx = _mm256_setr_epi32(3, 3, 3, 3, 7, 7, 7, 7);
        let is_alpha = _mm256_castsi256_ps(_mm256_setr_epi32(0, 0, 0, -1, 0, 0, 0, -1));
        let c255 = _mm256_set1_ps(255.0);
        let inv255 = _mm256_set1_ps(1.0 / 255.0);
        let half = _mm256_set1_ps(0.5);
        let zero = _mm256_setzero_ps();
        // SAFETY: the caller guarantees 8 bytes from `i` in each slice.
        unsafe {
            let b = load2(base.as_ptr().add(i));
            let s = load2(overlay.as_ptr().add(i));
            let a_b = _mm256_permutevar8x32_ps(b, idx);
            let a_s = _mm256_permutevar8x32_ps(s, idx);
            let ws = _mm256_mul_ps(a_s, c255);
            let wb = _mm256_mul_ps(a_b, _mm256_sub_ps(c255, a_s));
            let den = _mm256_add_ps(ws, wb);
            let num = _mm256_add_ps(_mm256_mul_ps(s, ws), _mm256_mul_ps(b, wb));
            let inv = _mm256_div_ps(_mm256_set1_ps(1.0), den);
            let c = _mm256_add_ps(_mm256_mul_ps(num, inv), half);
            let a = _mm256_add_ps(_mm256_mul_ps(den, inv255), half);
            let r = _mm256_blendv_ps(c, a, is_alpha);
            let r = _mm256_blendv_ps(r, zero, _mm256_cmp_ps::<_CMP_EQ_OQ>(den, zero));
            store2(dst.as_mut_ptr().add(i), r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels;
    use crate::testdata::bytes;

    #[test]
    fn known_values() {
        let mut d = [0u8; 4];
        premultiply_u8(Level::SCALAR, &[200, 100, 50, 128], &mut d, 4);
        assert_eq!(d, [100, 50, 25, 128]);
        unpremultiply_u8(Level::SCALAR, &[100, 50, 25, 128], &mut d, 4);
        assert_eq!(d, [199, 100, 50, 128]);
        unpremultiply_u8(Level::SCALAR, &[9, 9, 9, 0], &mut d, 4);
        assert_eq!(d, [0, 0, 0, 0]);
        over_u8(
            Level::SCALAR,
            &[200, 100, 50, 128],
            &[10, 20, 30, 100],
            &mut d,
            4,
        );
        // libvips 8.18 composite2 gives [93, 55, 38, 177] (truncating).
        assert_eq!(d, [93, 55, 39, 178]);
        over_u8(Level::SCALAR, &[1, 2, 3, 0], &[4, 5, 6, 0], &mut d, 4);
        assert_eq!(d, [0, 0, 0, 0]);
        over_u8(Level::SCALAR, &[1, 2, 3, 77], &[4, 5, 6, 255], &mut d, 4);
        assert_eq!(d, [4, 5, 6, 255]);
    }

    #[test]
    fn premultiply_is_exact_rounding() {
        for c in 0..=255u32 {
            for a in 0..=255u32 {
                let want = ((c * a) as f64 / 255.0).round() as u32;
                assert_eq!(div255(c * a), want, "{c} {a}");
            }
        }
    }

    #[test]
    fn levels_match_scalar() {
        for bands in [2usize, 3, 4, 5] {
            for pixels in [0usize, 1, 2, 3, 7, 8, 9, 15, 33, 64, 101] {
                let n = pixels * bands;
                let a = bytes(n, 1 + pixels as u64 * 31 + bands as u64);
                let b = bytes(n, 7 + pixels as u64 * 17 + bands as u64);
                let mut want = vec![0u8; n];
                let mut got = vec![0u8; n];
                premultiply_u8(Level::SCALAR, &a, &mut want, bands);
                for &l in &levels() {
                    premultiply_u8(l, &a, &mut got, bands);
                    assert_eq!(got, want, "premultiply {l:?} {bands} {pixels}");
                }
                unpremultiply_u8(Level::SCALAR, &a, &mut want, bands);
                for &l in &levels() {
                    unpremultiply_u8(l, &a, &mut got, bands);
                    assert_eq!(got, want, "unpremultiply {l:?} {bands} {pixels}");
                }
                over_u8(Level::SCALAR, &a, &b, &mut want, bands);
                for &l in &levels() {
                    over_u8(l, &a, &b, &mut got, bands);
                    assert_eq!(got, want, "over {l:?} {bands} {pixels}");
                }
            }
        }
    }

    #[test]
    fn over_shortcuts_match_scalar() {
        // Runs of opaque and transparent overlay pixels, bases with and
        // without zero alphas, at odd offsets.
        let px = 203;
        let mut base = bytes(px * 4, 21);
        let mut ov = bytes(px * 4, 22);
        for p in 0..px {
            ov[p * 4 + 3] = match (p / 16) % 3 {
                0 => 255,
                1 => 0,
                _ => ov[p * 4 + 3],
            };
            if (p / 48) % 2 == 0 && base[p * 4 + 3] == 0 {
                base[p * 4 + 3] = 1;
            }
        }
        for start in [0usize, 1, 5] {
            let (b, o) = (&base[start * 4..], &ov[start * 4..]);
            let mut want = vec![0u8; b.len()];
            let mut got = vec![0u8; b.len()];
            over_u8(Level::SCALAR, b, o, &mut want, 4);
            for &l in &levels() {
                over_u8(l, b, o, &mut got, 4);
                assert_eq!(got, want, "{l:?} from {start}");
            }
        }
    }

    #[test]
    fn scalar_within_one_of_f64() {
        let a = bytes(4 * 4096, 99);
        let b = bytes(4 * 4096, 5);
        let mut got = vec![0u8; a.len()];
        unpremultiply_u8(Level::SCALAR, &a, &mut got, 4);
        for (s, g) in a.chunks(4).zip(got.chunks(4)) {
            for i in 0..3 {
                let want = if s[3] == 0 {
                    0.0
                } else {
                    (s[i] as f64 * 255.0 / s[3] as f64).min(255.0)
                };
                assert!((g[i] as f64 - want).abs() <= 0.5 + 1e-3, "{s:?} {g:?}");
            }
        }
        over_u8(Level::SCALAR, &a, &b, &mut got, 4);
        for ((p, q), g) in a.chunks(4).zip(b.chunks(4)).zip(got.chunks(4)) {
            let (ab, as_) = (p[3] as f64 / 255.0, q[3] as f64 / 255.0);
            let ao = as_ + ab * (1.0 - as_);
            assert!((g[3] as f64 - ao * 255.0).abs() <= 0.5 + 1e-3);
            for i in 0..3 {
                let want = if ao == 0.0 {
                    0.0
                } else {
                    (q[i] as f64 * as_ + p[i] as f64 * ab * (1.0 - as_)) / ao
                };
                assert!(
                    (g[i] as f64 - want).abs() <= 0.5 + 1e-3,
                    "{p:?} {q:?} {g:?}"
                );
            }
        }
    }

    /// Throughput of each kernel at each level, one core (run with
    /// `cargo test --release -p gigapix-simd -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn throughput() {
        let px = 4096;
        let a = bytes(px * 4, 3);
        let b = bytes(px * 4, 4);
        let mut d = vec![0u8; px * 4];
        let reps = 4000;
        for &l in &levels() {
            let time = |f: &mut dyn FnMut()| {
                let t = std::time::Instant::now();
                for _ in 0..reps {
                    f();
                }
                (px * reps) as f64 / t.elapsed().as_secs_f64() / 1e6
            };
            let p = time(&mut || premultiply_u8(l, &a, &mut d, 4));
            let u = time(&mut || unpremultiply_u8(l, &a, &mut d, 4));
            let o = time(&mut || over_u8(l, &a, &b, &mut d, 4));
            // A logo: runs of clear and opaque pixels, over an opaque base.
            let mut logo = b.clone();
            for (i, p) in logo.chunks_mut(4).enumerate() {
                p[3] = if (i / 64) % 2 == 0 { 0 } else { 255 };
            }
            let mut opaque = a.clone();
            for p in opaque.chunks_mut(4) {
                p[3] = 255;
            }
            let ol = time(&mut || over_u8(l, &opaque, &logo, &mut d, 4));
            println!(
                "{l:?}: premultiply {p:.0} Mpx/s, unpremultiply {u:.0} Mpx/s, over {o:.0} Mpx/s \
                 (random alpha), {ol:.0} Mpx/s (logo)"
            );
        }
    }
}
