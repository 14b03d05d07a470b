//! Blur and rank kernels whose cost does not grow with the window:
//! extended box filters by running sums on 16-bit fixed-point samples,
//! and pairwise minimum / maximum for van-Herk-style doubling.
//!
//! The box kernels work on `u16` samples (an operation maps `u8` images to
//! 8.8 fixed point, `u16` images as is) with exact `i32` running sums, so
//! a result depends only on the input samples, never on where a running
//! sum started: results are identical for any tiling. The scaling step
//! uses `f32` arithmetic in a fixed order without fused multiply-adds, so
//! every level gives identical results.
//!
//! An *extended box* of radius `r + a` (`0 <= a < 1`) weighs the `2r + 1`
//! central samples by 1 and the two next ones by `a`, over a total of
//! `2r + 1 + 2a` (Gwosdek et al., "Theoretical foundations of Gaussian
//! convolution by extended box filtering", 2011); three passes
//! approximate a gaussian of variance `3·((2r+1)³ − (2r+1) + 6a(r+1)²) /
//! (12 (2r+1+2a))`.

use crate::Level;
use crate::dispatch;

/// The weights of an extended box: `k1` for the central samples, `k2` for
/// the two end ones, both already divided by the box's total weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoxWeights {
    /// Integer radius `r`: `2r + 1` central samples.
    pub radius: usize,
    /// Weight of each central sample.
    pub k1: f32,
    /// Weight of each of the two end samples (0 for a plain box).
    pub k2: f32,
    /// `k1`, `k2` in fixed point for the `u8` kernels, and the shift.
    fixed: (i32, i32, i32),
}

impl BoxWeights {
    /// An extended box of real radius `radius` (≥ 0): integer part `r`,
    /// fractional part `a` on the end samples.
    pub fn extended(radius: f64) -> BoxWeights {
        let radius = radius.max(0.0);
        let r = radius.floor();
        let a = radius - r;
        let total = 2.0 * r + 1.0 + 2.0 * a;
        let (k1, k2) = ((1.0 / total) as f32, (a / total) as f32);
        BoxWeights {
            radius: r as usize,
            k1,
            k2,
            fixed: fixed(k1, k2),
        }
    }

    /// How far the box reaches on each side (the end samples included).
    pub fn reach(&self) -> usize {
        if self.k2 != 0.0 {
            self.radius + 1
        } else {
            self.radius
        }
    }
}

#[inline(always)]
fn scale(acc: i32, ends: i32, w: BoxWeights) -> u16 {
    (acc as f32 * w.k1 + ends as f32 * w.k2 + 0.5) as u16
}

/// One step of a vertical running box over rows of `u16` samples:
/// `out[i] = scale(acc[i], first[i] + last[i])`, then
/// `acc[i] += last[i] − leaving[i]`.
///
/// With `acc` the sum of the `2r + 1` central rows of output row `y`,
/// `first` is row `y − r − 1`, `last` row `y + r + 1` and `leaving` row
/// `y − r`; afterwards `acc` holds the central sum of row `y + 1`.
///
/// Panics if the slices differ in length.
pub fn box_v_step(
    level: Level,
    acc: &mut [i32],
    first: &[u16],
    last: &[u16],
    leaving: &[u16],
    w: BoxWeights,
    out: &mut [u16],
) {
    let n = out.len();
    assert!(acc.len() == n && first.len() == n && last.len() == n && leaving.len() == n);
    dispatch!(level, Avx2 => box_v_step_avx2(acc, first, last, leaving, w, out), _ => box_v_step_scalar(acc, first, last, leaving, w, out))
}

#[inline(always)]
fn box_v_step_scalar(
    acc: &mut [i32],
    first: &[u16],
    last: &[u16],
    leaving: &[u16],
    w: BoxWeights,
    out: &mut [u16],
) {
    for i in 0..out.len() {
        let (f, l) = (first[i] as i32, last[i] as i32);
        out[i] = scale(acc[i], f + l, w);
        acc[i] += l - leaving[i] as i32;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn box_v_step_avx2(
    acc: &mut [i32],
    first: &[u16],
    last: &[u16],
    leaving: &[u16],
    w: BoxWeights,
    out: &mut [u16],
) {
    use std::arch::x86_64::*;
    let n = out.len();
    let (k1, k2, half) = (
        _mm256_set1_ps(w.k1),
        _mm256_set1_ps(w.k2),
        _mm256_set1_ps(0.5),
    );
    let load16 = |p: &[u16]| {
        // SAFETY: the caller passes slices of at least 8 samples.
        _mm256_cvtepu16_epi32(unsafe { _mm_loadu_si128(p.as_ptr().cast()) })
    };
    let mut i = 0;
    while i + 8 <= n {
        let f = load16(&first[i..i + 8]);
        let l = load16(&last[i..i + 8]);
        let v = load16(&leaving[i..i + 8]);
        let a_slot = &mut acc[i..i + 8];
        // SAFETY: `a_slot` is exactly 8 `i32`s.
        let a = unsafe { _mm256_loadu_si256(a_slot.as_ptr().cast()) };
        let ends = _mm256_add_epi32(f, l);
        // Same operations, in the same order, as `scale`.
        let x = _mm256_add_ps(
            _mm256_add_ps(
                _mm256_mul_ps(_mm256_cvtepi32_ps(a), k1),
                _mm256_mul_ps(_mm256_cvtepi32_ps(ends), k2),
            ),
            half,
        );
        // Truncation, then unsigned saturation: `as u16` for values >= 0.
        let q = _mm256_cvttps_epi32(x);
        let p = _mm256_packus_epi32(q, q);
        let p = _mm256_permute4x64_epi64::<0b1000>(p);
        let a = _mm256_add_epi32(a, _mm256_sub_epi32(l, v));
        // SAFETY: `a_slot` is exactly 8 `i32`s.
        unsafe { _mm256_storeu_si256(a_slot.as_mut_ptr().cast(), a) };
        let o = &mut out[i..i + 8];
        // SAFETY: `o` is exactly 8 `u16`s (16 bytes).
        unsafe { _mm_storeu_si128(o.as_mut_ptr().cast(), _mm256_castsi256_si128(p)) };
        i += 8;
    }
    box_v_step_scalar(
        &mut acc[i..],
        &first[i..],
        &last[i..],
        &leaving[i..],
        w,
        &mut out[i..],
    );
}

/// The largest radius [`box_v_step_u8`] takes: `255·(2r + 1)` must fit an
/// `i16`.
pub const U8_MAX_RADIUS: usize = 63;

/// The fixed-point weights `k1`, `k2` for the `u8` kernels, and their
/// shift: the largest `s` with `round(k1·2ˢ)` fitting an `i16`.
fn fixed(k1: f32, k2: f32) -> (i32, i32, i32) {
    let mut s = 1;
    while s < 30 && (k1 as f64 * (1u64 << (s + 1)) as f64).round() <= 32767.0 {
        s += 1;
    }
    let q = |k: f32| (k as f64 * (1u64 << s) as f64).round() as i32;
    (q(k1), q(k2), s)
}

/// [`box_v_step`] on `u8` samples with `u16` running sums and fixed-point
/// weights (`(acc·k1 + ends·k2 + 2ˢ⁻¹) >> s`, clamped, with `k1·2ˢ` as
/// large as an `i16` holds), for
/// radii up to [`U8_MAX_RADIUS`]. All integer, so every level gives the
/// same bytes.
///
/// Panics if the slices differ in length or the radius is too large.
pub fn box_v_step_u8(
    level: Level,
    acc: &mut [u16],
    first: &[u8],
    last: &[u8],
    leaving: &[u8],
    w: BoxWeights,
    out: &mut [u8],
) {
    let n = out.len();
    assert!(acc.len() == n && first.len() == n && last.len() == n && leaving.len() == n);
    assert!(w.radius <= U8_MAX_RADIUS);
    let q = w.fixed;
    dispatch!(level, Avx512 => box_v_step_u8_avx512(acc, first, last, leaving, q, out), Avx2 => box_v_step_u8_avx2(acc, first, last, leaving, q, out), _ => box_v_step_u8_scalar(acc, first, last, leaving, q, out))
}

fn box_v_step_u8_scalar(
    acc: &mut [u16],
    first: &[u8],
    last: &[u8],
    leaving: &[u8],
    (k1, k2, s): (i32, i32, i32),
    out: &mut [u8],
) {
    for i in 0..out.len() {
        let (f, l) = (first[i] as i32, last[i] as i32);
        let v = (acc[i] as i32 * k1 + (f + l) * k2 + (1 << (s - 1))) >> s;
        out[i] = v.clamp(0, 255) as u8;
        acc[i] = acc[i]
            .wrapping_add(last[i] as u16)
            .wrapping_sub(leaving[i] as u16);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn box_v_step_u8_avx2(
    acc: &mut [u16],
    first: &[u8],
    last: &[u8],
    leaving: &[u8],
    (k1, k2, s): (i32, i32, i32),
    out: &mut [u8],
) {
    use std::arch::x86_64::*;
    let n = out.len();
    // (k1, k2) pairs for madd: acc·k1 + ends·k2 per 32-bit lane.
    let k = _mm256_set1_epi32((k1 & 0xffff) | (k2 << 16));
    let round = _mm256_set1_epi32(1 << (s - 1));
    let shift = _mm_cvtsi32_si128(s);
    let load8 = |p: &[u8]| {
        // SAFETY: the caller passes slices of at least 16 bytes.
        _mm256_cvtepu8_epi16(unsafe { _mm_loadu_si128(p.as_ptr().cast()) })
    };
    let mut i = 0;
    while i + 16 <= n {
        let f = load8(&first[i..i + 16]);
        let l = load8(&last[i..i + 16]);
        let v = load8(&leaving[i..i + 16]);
        let a_slot = &mut acc[i..i + 16];
        // SAFETY: `a_slot` is exactly 16 `u16`s (32 bytes).
        let a = unsafe { _mm256_loadu_si256(a_slot.as_ptr().cast()) };
        let ends = _mm256_add_epi16(f, l);
        // acc <= 255·127 < 2¹⁵ and ends <= 510: both fit i16 for madd.
        let lo = _mm256_madd_epi16(_mm256_unpacklo_epi16(a, ends), k);
        let hi = _mm256_madd_epi16(_mm256_unpackhi_epi16(a, ends), k);
        let lo = _mm256_sra_epi32(_mm256_add_epi32(lo, round), shift);
        let hi = _mm256_sra_epi32(_mm256_add_epi32(hi, round), shift);
        // unpack/pack within lanes cancel out: order is preserved.
        let w16 = _mm256_packs_epi32(lo, hi);
        let b = _mm256_packus_epi16(w16, w16);
        let b = _mm256_permute4x64_epi64::<0b1000>(b);
        let a = _mm256_sub_epi16(_mm256_add_epi16(a, l), v);
        // SAFETY: `a_slot` is exactly 16 `u16`s.
        unsafe { _mm256_storeu_si256(a_slot.as_mut_ptr().cast(), a) };
        let o = &mut out[i..i + 16];
        // SAFETY: `o` is exactly 16 bytes.
        unsafe { _mm_storeu_si128(o.as_mut_ptr().cast(), _mm256_castsi256_si128(b)) };
        i += 16;
    }
    if i == n {
        return;
    }
    box_v_step_u8_scalar(
        &mut acc[i..],
        &first[i..],
        &last[i..],
        &leaving[i..],
        (k1, k2, s),
        &mut out[i..],
    );
}

/// [`box_v_step_u8_avx2`] on 32 samples per step (the rest at AVX2).
/// It pays on the short rows of the horizontal passes (a transposed block
/// of 32 RGB rows: 96 samples, about 0.10 ns a sample against 0.15 at
/// AVX2, measured roughly on this project's AMD EPYC); on long rows both
/// run at about 0.10 ns a sample.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn box_v_step_u8_avx512(
    acc: &mut [u16],
    first: &[u8],
    last: &[u8],
    leaving: &[u8],
    (k1, k2, s): (i32, i32, i32),
    out: &mut [u8],
) {
    use std::arch::x86_64::*;
    let n = out.len();
    let k = _mm512_set1_epi32((k1 & 0xffff) | (k2 << 16));
    let round = _mm512_set1_epi32(1 << (s - 1));
    let shift = _mm_cvtsi32_si128(s);
    let zero = _mm512_setzero_si512();
    let load = |p: &[u8]| {
        // SAFETY: the caller passes slices of at least 32 bytes.
        _mm512_cvtepu8_epi16(unsafe { _mm256_loadu_si256(p.as_ptr().cast()) })
    };
    let mut i = 0;
    while i + 32 <= n {
        let f = load(&first[i..i + 32]);
        let l = load(&last[i..i + 32]);
        let v = load(&leaving[i..i + 32]);
        let a_slot = &mut acc[i..i + 32];
        // SAFETY: `a_slot` is exactly 32 `u16`s (64 bytes).
        let a = unsafe { _mm512_loadu_si512(a_slot.as_ptr().cast()) };
        let ends = _mm512_add_epi16(f, l);
        // As at AVX2: acc and ends fit i16 for madd.
        let lo = _mm512_madd_epi16(_mm512_unpacklo_epi16(a, ends), k);
        let hi = _mm512_madd_epi16(_mm512_unpackhi_epi16(a, ends), k);
        let lo = _mm512_sra_epi32(_mm512_add_epi32(lo, round), shift);
        let hi = _mm512_sra_epi32(_mm512_add_epi32(hi, round), shift);
        // unpack/pack within 128-bit lanes cancel out: order is preserved.
        let w16 = _mm512_max_epi16(_mm512_packs_epi32(lo, hi), zero);
        let b = _mm512_cvtusepi16_epi8(w16);
        let a = _mm512_sub_epi16(_mm512_add_epi16(a, l), v);
        // SAFETY: `a_slot` is exactly 32 `u16`s.
        unsafe { _mm512_storeu_si512(a_slot.as_mut_ptr().cast(), a) };
        let o = &mut out[i..i + 32];
        // SAFETY: `o` is exactly 32 bytes.
        unsafe { _mm256_storeu_si256(o.as_mut_ptr().cast(), b) };
        i += 32;
    }
    if i == n {
        return;
    }
    box_v_step_u8_avx2(
        &mut acc[i..],
        &first[i..],
        &last[i..],
        &leaving[i..],
        (k1, k2, s),
        &mut out[i..],
    );
}

/// `acc[i] += row[i]` for `u8` rows and `u16` sums.
pub fn accumulate_u8(level: Level, acc: &mut [u16], row: &[u8]) {
    assert_eq!(acc.len(), row.len());
    dispatch!(level, Avx2 => accumulate_u8_avx2(acc, row), _ => accumulate_u8_scalar(acc, row))
}

#[inline(always)]
fn accumulate_u8_scalar(acc: &mut [u16], row: &[u8]) {
    for (a, &r) in acc.iter_mut().zip(row) {
        *a = a.wrapping_add(r as u16);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn accumulate_u8_avx2(acc: &mut [u16], row: &[u8]) {
    accumulate_u8_scalar(acc, row)
}

/// `acc[i] += row[i]` (to start a vertical running sum).
pub fn accumulate(level: Level, acc: &mut [i32], row: &[u16]) {
    assert_eq!(acc.len(), row.len());
    dispatch!(level, Avx2 => accumulate_avx2(acc, row), _ => accumulate_scalar(acc, row))
}

#[inline(always)]
fn accumulate_scalar(acc: &mut [i32], row: &[u16]) {
    for (a, &r) in acc.iter_mut().zip(row) {
        *a += r as i32;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn accumulate_avx2(acc: &mut [i32], row: &[u16]) {
    accumulate_scalar(acc, row)
}

/// Transposes `rows`×`cols` pixels of `bands` samples from `src` (row
/// major) into `dst` (column major: `cols` runs of `rows` pixels), in
/// blocks of 16 columns.
///
/// At [`Isa::Avx2`](crate::Isa::Avx2), 3-byte pixels (`u8` RGB) move in 8×8 blocks in
/// registers. Panics if `src` or `dst` is shorter than `rows·cols·bands`.
pub fn transpose<T: Copy>(
    level: Level,
    src: &[T],
    rows: usize,
    cols: usize,
    bands: usize,
    dst: &mut [T],
) {
    let n = rows * cols * bands;
    assert!(src.len() >= n && dst.len() >= n);
    match bands {
        1 => transpose_px::<T, 1>(level, src, rows, cols, dst),
        2 => transpose_px::<T, 2>(level, src, rows, cols, dst),
        3 => transpose_px::<T, 3>(level, src, rows, cols, dst),
        4 => transpose_px::<T, 4>(level, src, rows, cols, dst),
        _ => {
            for y in 0..rows {
                for x in 0..cols {
                    let (d, s) = ((x * rows + y) * bands, (y * cols + x) * bands);
                    dst[d..d + bands].copy_from_slice(&src[s..s + bands]);
                }
            }
        }
    }
}

fn transpose_px<T: Copy, const B: usize>(
    level: Level,
    src: &[T],
    rows: usize,
    cols: usize,
    dst: &mut [T],
) {
    let px = B * std::mem::size_of::<T>();
    if px == 3 {
        // The slices hold rows·cols pixels of 3 bytes (checked by
        // `transpose`), which is all the AVX2 kernel needs.
        return dispatch!(
            level,
            Avx2 => transpose_3byte_avx2(src.as_ptr().cast(), dst.as_mut_ptr().cast(), rows, cols),
            _ => transpose_wide::<u32>(src, rows, cols, dst, px),
        );
    }
    if px == 6 {
        return transpose_wide::<u64>(src, rows, cols, dst, px);
    }
    transpose_exact::<T, B>(src, rows, cols, dst)
}

/// [`transpose_exact`] for pixels of `px` bytes (3 or 6) moved as one wider
/// word `W`: each read may take bytes of the next pixel (never past the
/// end), each write may clobber the first bytes of the next pixel of its
/// column run, which is always written later (the last row of the run is
/// written narrowly).
fn transpose_wide<W: Copy>(
    src: &[impl Copy],
    rows: usize,
    cols: usize,
    dst: &mut [impl Copy],
    px: usize,
) {
    const TILE: usize = 16;
    let total = rows * cols;
    let (sp, dp) = (src.as_ptr().cast::<u8>(), dst.as_mut_ptr().cast::<u8>());
    // Blocks of TILE source columns, all rows: the TILE output runs fill
    // sequentially and the source lines are reused from L1.
    for x0 in (0..cols).step_by(TILE) {
        let x1 = (x0 + TILE).min(cols);
        for y in 0..rows {
            for x in x0..x1 {
                {
                    let (p, q) = (y * cols + x, x * rows + y);
                    // SAFETY: p and q are below `total`, and both slices
                    // hold `total` pixels of `px` bytes (checked by
                    // `transpose`). A wide read or write of
                    // size_of::<W>() < 2·px bytes at a pixel other than
                    // the last stays inside its slice; the extra bytes
                    // written belong to pixel q + 1 of the same column
                    // run (y + 1 < rows), which the next row's iteration
                    // writes.
                    unsafe {
                        if p + 1 < total && y + 1 < rows {
                            let w = sp.add(p * px).cast::<W>().read_unaligned();
                            dp.add(q * px).cast::<W>().write_unaligned(w);
                        } else {
                            std::ptr::copy_nonoverlapping(sp.add(p * px), dp.add(q * px), px);
                        }
                    }
                }
            }
        }
    }
}

/// Transposes `rows`×`cols` pixels of 3 bytes from `src` to `dst` with
/// 8×8 blocks in registers (pixels widened to 32 bits, a 32-bit 8×8
/// transpose, narrowed back); edges pixel by pixel.
///
/// # Safety
///
/// AVX2 must be available; `src` and `dst` must each point to
/// `rows·cols·3` valid bytes, not overlapping.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_3byte_avx2(src: *const u8, dst: *mut u8, rows: usize, cols: usize) {
    use std::arch::x86_64::*;
    let len = rows * cols * 3;
    let widen = _mm256_setr_epi8(
        0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8,
        -1, 9, 10, 11, -1,
    );
    let narrow = _mm256_setr_epi8(
        0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1, 0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13,
        14, -1, -1, -1, -1,
    );
    let spread = _mm256_setr_epi32(0, 1, 2, 3, 3, 4, 5, 6);
    let gather = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
    let one = |y: usize, x: usize| {
        // SAFETY: callers pass y < rows and x < cols: both pixels lie
        // inside their `rows·cols·3`-byte buffers.
        unsafe {
            std::ptr::copy_nonoverlapping(
                src.add((y * cols + x) * 3),
                dst.add((x * rows + y) * 3),
                3,
            )
        }
    };
    let (rb, cb) = (rows / 8 * 8, cols / 8 * 8);
    for y0 in (0..rb).step_by(8) {
        for x0 in (0..cb).step_by(8) {
            // 32-byte loads read 8 bytes past the 8 pixels of each row.
            if ((y0 + 7) * cols + x0) * 3 + 32 > len {
                for y in y0..y0 + 8 {
                    for x in x0..x0 + 8 {
                        one(y, x);
                    }
                }
                continue;
            }
            let mut r = [_mm256_setzero_si256(); 8];
            for (k, v) in r.iter_mut().enumerate() {
                // SAFETY: checked above: the 32 bytes lie inside `src`.
                let raw = unsafe { _mm256_loadu_si256(src.add(((y0 + k) * cols + x0) * 3).cast()) };
                *v = _mm256_shuffle_epi8(_mm256_permutevar8x32_epi32(raw, spread), widen);
            }
            let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
            let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
            let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
            let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
            let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
            let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
            let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
            let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
            let u0 = _mm256_unpacklo_epi64(t0, t2);
            let u1 = _mm256_unpackhi_epi64(t0, t2);
            let u2 = _mm256_unpacklo_epi64(t1, t3);
            let u3 = _mm256_unpackhi_epi64(t1, t3);
            let u4 = _mm256_unpacklo_epi64(t4, t6);
            let u5 = _mm256_unpackhi_epi64(t4, t6);
            let u6 = _mm256_unpacklo_epi64(t5, t7);
            let u7 = _mm256_unpackhi_epi64(t5, t7);
            let c = [
                _mm256_permute2x128_si256::<0x20>(u0, u4),
                _mm256_permute2x128_si256::<0x20>(u1, u5),
                _mm256_permute2x128_si256::<0x20>(u2, u6),
                _mm256_permute2x128_si256::<0x20>(u3, u7),
                _mm256_permute2x128_si256::<0x31>(u0, u4),
                _mm256_permute2x128_si256::<0x31>(u1, u5),
                _mm256_permute2x128_si256::<0x31>(u2, u6),
                _mm256_permute2x128_si256::<0x31>(u3, u7),
            ];
            for (k, v) in c.iter().enumerate() {
                let b = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(*v, narrow), gather);
                let at = ((x0 + k) * rows + y0) * 3;
                // SAFETY: the 24 bytes of pixels (x0+k, y0..y0+8) lie
                // inside `dst` (x0 + k < cols, y0 + 8 <= rows).
                unsafe {
                    _mm_storeu_si128(dst.add(at).cast(), _mm256_castsi256_si128(b));
                    _mm_storel_epi64(dst.add(at + 16).cast(), _mm256_extracti128_si256::<1>(b));
                }
            }
        }
        for y in y0..y0 + 8 {
            for x in cb..cols {
                one(y, x);
            }
        }
    }
    for y in rb..rows {
        for x in 0..cols {
            one(y, x);
        }
    }
}

fn transpose_exact<T: Copy, const B: usize>(src: &[T], rows: usize, cols: usize, dst: &mut [T]) {
    const TILE: usize = 16;
    let (sp, dp) = (
        src.as_ptr().cast::<[T; B]>(),
        dst.as_mut_ptr().cast::<[T; B]>(),
    );
    for x0 in (0..cols).step_by(TILE) {
        let x1 = (x0 + TILE).min(cols);
        for y in 0..rows {
            for x in x0..x1 {
                {
                    // SAFETY: y < rows and x < cols, so both pixel indices
                    // are below rows·cols, and the caller checked that both
                    // slices hold rows·cols pixels of B samples; the reads
                    // and writes are unaligned-safe.
                    unsafe {
                        let px = sp.add(y * cols + x).read_unaligned();
                        dp.add(x * rows + y).write_unaligned(px);
                    }
                }
            }
        }
    }
}

/// A sample type for [`pairwise`].
pub trait RankSample: Copy + PartialOrd + Send + Sync + 'static {}
impl RankSample for u8 {}
impl RankSample for u16 {}
impl RankSample for u32 {}
impl RankSample for f32 {}
impl RankSample for i8 {}
impl RankSample for i16 {}
impl RankSample for i32 {}
impl RankSample for f64 {}

/// `out[i] = min(a[i], b[i])` (or `max` when `max` is set), for every `i`
/// of `out`. For `f32`, a NaN in `b` is passed on and one in `a` is not.
///
/// Panics if `a` or `b` is shorter than `out`.
pub fn pairwise<T: RankSample>(level: Level, a: &[T], b: &[T], max: bool, out: &mut [T]) {
    let n = out.len();
    let (a, b) = (&a[..n], &b[..n]);
    if max {
        dispatch!(level, Avx2 => max_avx2(a, b, out), _ => max_scalar(a, b, out))
    } else {
        dispatch!(level, Avx2 => min_avx2(a, b, out), _ => min_scalar(a, b, out))
    }
}

#[inline(always)]
fn min_scalar<T: RankSample>(a: &[T], b: &[T], out: &mut [T]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = if x < y { x } else { y };
    }
}

#[inline(always)]
fn max_scalar<T: RankSample>(a: &[T], b: &[T], out: &mut [T]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = if x > y { x } else { y };
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn min_avx2<T: RankSample>(a: &[T], b: &[T], out: &mut [T]) {
    min_scalar(a, b, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn max_avx2<T: RankSample>(a: &[T], b: &[T], out: &mut [T]) {
    max_scalar(a, b, out)
}

/// `out[i] = min(src[i], src[i + shift])` (or `max`) for every `i` of
/// `out`: one doubling step of a running minimum.
///
/// Panics if `out.len() + shift` exceeds `src.len()`.
pub fn pairwise_shift<T: RankSample>(
    level: Level,
    src: &[T],
    shift: usize,
    max: bool,
    out: &mut [T],
) {
    let n = out.len();
    assert!(n + shift <= src.len());
    pairwise(level, &src[..n], &src[shift..shift + n], max, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn box_v_levels_match_scalar() {
        let mut rng = Rng(5);
        for &n in &[1usize, 15, 16, 17, 31, 32, 33, 64, 100] {
            let rows: Vec<Vec<u16>> = (0..3)
                .map(|_| (0..n).map(|_| rng.next() as u16).collect())
                .collect();
            let acc0: Vec<i32> = (0..n).map(|_| (rng.next() % 200_000) as i32).collect();
            let w = BoxWeights::extended(2.4);
            let mut want_acc = acc0.clone();
            let mut want = vec![0u16; n];
            box_v_step(
                Level::SCALAR,
                &mut want_acc,
                &rows[0],
                &rows[1],
                &rows[2],
                w,
                &mut want,
            );
            accumulate(Level::SCALAR, &mut want_acc, &rows[0]);
            for l in levels() {
                let mut acc = acc0.clone();
                let mut got = vec![0u16; n];
                box_v_step(l, &mut acc, &rows[0], &rows[1], &rows[2], w, &mut got);
                accumulate(l, &mut acc, &rows[0]);
                assert_eq!((acc, got), (want_acc.clone(), want.clone()));
            }
        }
    }

    #[test]
    fn box_v_u8_levels_match_scalar_and_reference() {
        let mut rng = Rng(17);
        for &n in &[1usize, 15, 16, 17, 31, 32, 33, 64, 100] {
            for radius in [0.0, 1.6, 9.47, 63.9] {
                let w = BoxWeights::extended(radius);
                let rows: Vec<Vec<u8>> = (0..3)
                    .map(|_| (0..n).map(|_| rng.next() as u8).collect())
                    .collect();
                let cap = 255 * (2 * w.radius as u64 + 1);
                let acc0: Vec<u16> = (0..n).map(|_| (rng.next() % (cap + 1)) as u16).collect();
                let mut want_acc = acc0.clone();
                let mut want = vec![0u8; n];
                box_v_step_u8(
                    Level::SCALAR,
                    &mut want_acc,
                    &rows[0],
                    &rows[1],
                    &rows[2],
                    w,
                    &mut want,
                );
                for i in 0..n {
                    let real = acc0[i] as f64 * w.k1 as f64
                        + (rows[0][i] as f64 + rows[1][i] as f64) * w.k2 as f64;
                    assert!(
                        (want[i] as f64 - real.min(255.0)).abs() <= 0.51 + real * 1e-3,
                        "{radius} {} {real} {}",
                        want[i],
                        acc0[i]
                    );
                    let next = acc0[i] as i64 + rows[1][i] as i64 - rows[2][i] as i64;
                    assert_eq!(want_acc[i] as i64, next.rem_euclid(65536));
                }
                accumulate_u8(Level::SCALAR, &mut want_acc, &rows[0]);
                for l in levels() {
                    let mut acc = acc0.clone();
                    let mut got = vec![0u8; n];
                    box_v_step_u8(l, &mut acc, &rows[0], &rows[1], &rows[2], w, &mut got);
                    accumulate_u8(l, &mut acc, &rows[0]);
                    assert_eq!((acc, got), (want_acc.clone(), want.clone()), "{l:?}");
                }
            }
        }
    }

    fn transpose_case<T: Copy + Default + PartialEq + std::fmt::Debug>(mk: impl Fn(usize) -> T) {
        for bands in 1..=5 {
            for (rows, cols) in [
                (1, 1),
                (1, 7),
                (5, 1),
                (3, 17),
                (8, 8),
                (17, 9),
                (20, 33),
                (33, 35),
            ] {
                let n = rows * cols * bands;
                let src: Vec<T> = (0..n).map(&mk).collect();
                for l in levels() {
                    let mut t = vec![T::default(); n];
                    transpose(l, &src, rows, cols, bands, &mut t);
                    for y in 0..rows {
                        for x in 0..cols {
                            for c in 0..bands {
                                let (d, s) =
                                    ((x * rows + y) * bands + c, (y * cols + x) * bands + c);
                                assert_eq!(t[d], src[s], "{l:?} {rows}x{cols}x{bands}");
                            }
                        }
                    }
                    let mut back = vec![T::default(); n];
                    transpose(l, &t, cols, rows, bands, &mut back);
                    assert_eq!(back, src, "{l:?}");
                }
            }
        }
    }

    #[test]
    fn transpose_round_trips() {
        transpose_case(|i| (i * 7 + 3) as u8);
        transpose_case(|i| (i * 7 + 3) as u16);
        transpose_case(|i| i as f32);
    }

    #[test]
    fn pairwise_levels_match_scalar() {
        let mut rng = Rng(11);
        for &n in &[1usize, 31, 32, 33, 97] {
            let a8: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            let b8: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            let af: Vec<f32> = (0..n).map(|_| rng.next() as u16 as f32 / 3.0).collect();
            let bf: Vec<f32> = (0..n).map(|_| rng.next() as u16 as f32 / 3.0).collect();
            for max in [false, true] {
                let mut w8 = vec![0u8; n];
                pairwise(Level::SCALAR, &a8, &b8, max, &mut w8);
                for i in 0..n {
                    assert_eq!(
                        w8[i],
                        if max {
                            a8[i].max(b8[i])
                        } else {
                            a8[i].min(b8[i])
                        }
                    );
                }
                let mut wf = vec![0f32; n];
                pairwise(Level::SCALAR, &af, &bf, max, &mut wf);
                for l in levels() {
                    let mut g8 = vec![0u8; n];
                    pairwise(l, &a8, &b8, max, &mut g8);
                    assert_eq!(g8, w8);
                    let mut gf = vec![0f32; n];
                    pairwise(l, &af, &bf, max, &mut gf);
                    assert_eq!(gf, wf);
                }
                let mut e = a8.clone();
                e.extend_from_slice(&b8);
                let mut d = vec![0u8; n];
                pairwise_shift(Level::SCALAR, &e, n, max, &mut d);
                for i in 0..n {
                    let (x, y) = (e[i], e[i + n]);
                    assert_eq!(d[i], if max { x.max(y) } else { x.min(y) });
                }
            }
        }
    }
}
