//! libjpeg's inverse DCTs for scaled decoding, with its exact integer
//! results: the reduced `jpeg_idct_2x2` and `jpeg_idct_4x4` (jidctred.c)
//! and `jpeg_idct_islow` (jidctint.c), as libjpeg-turbo's C code computes
//! them (64-bit intermediates, a 32-bit work array, its output range
//! limit). Blocks are quantised coefficients in natural order with their
//! quantisation table.
//!
//! The AVX2 paths compute in 32 bits. That is exact: in pass 1 when every
//! dequantised coefficient is at most 2^13 in magnitude (no sum of pass 1
//! then reaches 2^31; real JPEG data stays below 2^11, larger values come
//! from damaged data and take the scalar path); in pass 2 always, because
//! only the low 10 bits of each result, once descaled by at most 20 bits,
//! are kept, and wrapping arithmetic keeps the low 32 bits exact.
//!
//! ```
//! use gigapix_simd::{idct, level};
//!
//! // A flat block: DC 10 with quantiser 16 is 160 / 8 = 20 above mid-grey.
//! let (mut block, mut q) = ([0i16; 64], [1u16; 64]);
//! block[0] = 10;
//! q[0] = 16;
//! let mut out = [0u8; 2 * 2];
//! idct::idct_2x2(level(), &block, &q, &mut out, 2);
//! assert_eq!(out, [148; 4]);
//! assert_eq!(idct::flat(10 * 16), 148);
//! ```

use crate::{Level, dispatch};

/// Largest dequantised coefficient magnitude the 32-bit paths take.
#[cfg(target_arch = "x86_64")]
const EXACT_32: i32 = 1 << 13;

/// libjpeg's output range limit (`IDCT_range_limit` indexed with
/// `RANGE_MASK`): the low 10 bits of `x` as a signed value, plus 128,
/// clamped to a sample.
#[inline(always)]
pub fn range_limit(x: i64) -> u8 {
    let v = ((x as i32) << 22) >> 22;
    (v + 128).clamp(0, 255) as u8
}

/// `DESCALE`: `x / 2^n`, rounded.
#[inline(always)]
fn descale(x: i64, n: u32) -> i64 {
    (x + (1 << (n - 1))) >> n
}

/// Pass-1 and final shifts of the reduced inverse DCTs (jidctred.c).
const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

/// libjpeg's `jpeg_idct_2x2` (jidctred.c): the 2x2 output pixels of a
/// block into `out` (rows `stride` apart). It reads the coefficients of
/// rows and columns 0, 1, 3, 5 and 7.
fn idct_2x2_scalar(block: &[i16; 64], q: &[u16; 64], out: &mut [u8], stride: usize) {
    const FIX_0_720959822: i64 = 5906;
    const FIX_0_850430095: i64 = 6967;
    const FIX_1_272758580: i64 = 10426;
    const FIX_3_624509785: i64 = 29692;
    let deq = |i: usize| i64::from(i32::from(block[i]).wrapping_mul(i32::from(q[i])));
    // The odd part of a 1-D 8-to-2 step from terms 1, 3, 5, 7.
    let odd = |t1: i64, t3: i64, t5: i64, t7: i64| {
        t7 * -FIX_0_720959822 + t5 * FIX_0_850430095 + t3 * -FIX_1_272758580 + t1 * FIX_3_624509785
    };
    // Pass 1: columns 0, 1, 3, 5, 7 into two rows of a work array.
    let mut ws = [[0i32; 8]; 2];
    for col in [0usize, 1, 3, 5, 7] {
        if block[8 + col] == 0
            && block[24 + col] == 0
            && block[40 + col] == 0
            && block[56 + col] == 0
        {
            let dc = (deq(col) as i32).wrapping_shl(PASS1_BITS);
            ws[0][col] = dc;
            ws[1][col] = dc;
            continue;
        }
        let tmp10 = deq(col) << (CONST_BITS + 2);
        let tmp0 = odd(deq(8 + col), deq(24 + col), deq(40 + col), deq(56 + col));
        ws[0][col] = descale(tmp10 + tmp0, CONST_BITS - PASS1_BITS + 2) as i32;
        ws[1][col] = descale(tmp10 - tmp0, CONST_BITS - PASS1_BITS + 2) as i32;
    }
    // Pass 2: the two rows (the shortcut for zero AC terms gives the same).
    for (r, w) in ws.iter().enumerate() {
        let w = w.map(i64::from);
        let tmp10 = w[0] << (CONST_BITS + 2);
        let tmp0 = odd(w[1], w[3], w[5], w[7]);
        let n = CONST_BITS + PASS1_BITS + 3 + 2;
        out[r * stride] = range_limit(descale(tmp10 + tmp0, n));
        out[r * stride + 1] = range_limit(descale(tmp10 - tmp0, n));
    }
}

/// libjpeg's `jpeg_idct_4x4` (jidctred.c): the 4x4 output pixels of a
/// block into `out` (rows `stride` apart). It reads every coefficient
/// but those of row and column 4.
fn idct_4x4_scalar(block: &[i16; 64], q: &[u16; 64], out: &mut [u8], stride: usize) {
    const FIX_0_211164243: i64 = 1730;
    const FIX_0_509795579: i64 = 4176;
    const FIX_0_601344887: i64 = 4926;
    const FIX_0_765366865: i64 = 6270;
    const FIX_0_899976223: i64 = 7373;
    const FIX_1_061594337: i64 = 8697;
    const FIX_1_451774981: i64 = 11893;
    const FIX_1_847759065: i64 = 15137;
    const FIX_2_172734803: i64 = 17799;
    const FIX_2_562915447: i64 = 20995;
    let deq = |i: usize| i64::from(i32::from(block[i]).wrapping_mul(i32::from(q[i])));
    // A 1-D 8-to-4 step from terms 0, 2, 6 (even) and 1, 3, 5, 7 (odd):
    // the four outputs before descaling.
    let step = |t: [i64; 8]| {
        let tmp0 = t[0] << (CONST_BITS + 1);
        let tmp2 = t[2] * FIX_1_847759065 + t[6] * -FIX_0_765366865;
        let (tmp10, tmp12) = (tmp0 + tmp2, tmp0 - tmp2);
        let (z1, z2, z3, z4) = (t[7], t[5], t[3], t[1]);
        let odd0 = z1 * -FIX_0_211164243
            + z2 * FIX_1_451774981
            + z3 * -FIX_2_172734803
            + z4 * FIX_1_061594337;
        let odd2 = z1 * -FIX_0_509795579
            + z2 * -FIX_0_601344887
            + z3 * FIX_0_899976223
            + z4 * FIX_2_562915447;
        [tmp10 + odd2, tmp12 + odd0, tmp12 - odd0, tmp10 - odd2]
    };
    // Pass 1: the columns but 4, into four rows of a work array.
    let mut ws = [[0i32; 8]; 4];
    for col in [0usize, 1, 2, 3, 5, 6, 7] {
        if [1, 2, 3, 5, 6, 7].iter().all(|r| block[8 * r + col] == 0) {
            let dc = (deq(col) as i32).wrapping_shl(PASS1_BITS);
            for w in &mut ws {
                w[col] = dc;
            }
            continue;
        }
        let t = std::array::from_fn(|r| if r == 4 { 0 } else { deq(8 * r + col) });
        for (w, v) in ws.iter_mut().zip(step(t)) {
            w[col] = descale(v, CONST_BITS - PASS1_BITS + 1) as i32;
        }
    }
    // Pass 2: the four rows (the shortcut for zero AC terms gives the
    // same).
    for (r, w) in ws.iter().enumerate() {
        let mut t = w.map(i64::from);
        t[4] = 0;
        let row = &mut out[r * stride..r * stride + 4];
        for (o, v) in row.iter_mut().zip(step(t)) {
            *o = range_limit(descale(v, CONST_BITS + PASS1_BITS + 3 + 1));
        }
    }
}

/// libjpeg's `jpeg_idct_islow` (jidctint.c): the 8x8 output pixels of a
/// block into `out` (rows `stride` apart).
fn idct_8x8_scalar(block: &[i16; 64], q: &[u16; 64], out: &mut [u8], stride: usize) {
    const FIX_0_298631336: i64 = 2446;
    const FIX_0_390180644: i64 = 3196;
    const FIX_0_541196100: i64 = 4433;
    const FIX_0_765366865: i64 = 6270;
    const FIX_0_899976223: i64 = 7373;
    const FIX_1_175875602: i64 = 9633;
    const FIX_1_501321110: i64 = 12299;
    const FIX_1_847759065: i64 = 15137;
    const FIX_1_961570560: i64 = 16069;
    const FIX_2_053119869: i64 = 16819;
    const FIX_2_562915447: i64 = 20995;
    const FIX_3_072711026: i64 = 25172;
    let deq = |i: usize| i64::from(i32::from(block[i]).wrapping_mul(i32::from(q[i])));
    // A 1-D 8-point step (Loeffler, Ligtenberg and Moschytz, with 12
    // multiplications): the eight outputs before descaling.
    let step = |t: [i64; 8]| {
        // Even part: terms 0, 2, 4, 6.
        let rot = (t[2] + t[6]) * FIX_0_541196100;
        let e2 = rot + t[6] * -FIX_1_847759065;
        let e3 = rot + t[2] * FIX_0_765366865;
        let e0 = (t[0] + t[4]) << CONST_BITS;
        let e1 = (t[0] - t[4]) << CONST_BITS;
        let (tmp10, tmp13, tmp11, tmp12) = (e0 + e3, e0 - e3, e1 + e2, e1 - e2);
        // Odd part: terms 7, 5, 3, 1.
        let (o0, o1, o2, o3) = (t[7], t[5], t[3], t[1]);
        let z5 = (o0 + o2 + o1 + o3) * FIX_1_175875602;
        let z1 = (o0 + o3) * -FIX_0_899976223;
        let z2 = (o1 + o2) * -FIX_2_562915447;
        let z3 = (o0 + o2) * -FIX_1_961570560 + z5;
        let z4 = (o1 + o3) * -FIX_0_390180644 + z5;
        let p0 = o0 * FIX_0_298631336 + z1 + z3;
        let p1 = o1 * FIX_2_053119869 + z2 + z4;
        let p2 = o2 * FIX_3_072711026 + z2 + z3;
        let p3 = o3 * FIX_1_501321110 + z1 + z4;
        [
            tmp10 + p3,
            tmp11 + p2,
            tmp12 + p1,
            tmp13 + p0,
            tmp13 - p0,
            tmp12 - p1,
            tmp11 - p2,
            tmp10 - p3,
        ]
    };
    // Pass 1: the columns into a work array.
    let mut ws = [[0i32; 8]; 8];
    for col in 0..8 {
        if (1..8).all(|r| block[8 * r + col] == 0) {
            let dc = (deq(col) as i32).wrapping_shl(PASS1_BITS);
            for w in &mut ws {
                w[col] = dc;
            }
            continue;
        }
        let t = std::array::from_fn(|r| deq(8 * r + col));
        for (w, v) in ws.iter_mut().zip(step(t)) {
            w[col] = descale(v, CONST_BITS - PASS1_BITS) as i32;
        }
    }
    // Pass 2: the rows (the shortcut for zero AC terms gives the same).
    for (r, w) in ws.iter().enumerate() {
        let row = &mut out[r * stride..r * stride + 8];
        for (o, v) in row.iter_mut().zip(step(w.map(i64::from))) {
            *o = range_limit(descale(v, CONST_BITS + PASS1_BITS + 3));
        }
    }
}

/// Checks that `out` holds `n` rows of `n` pixels, `stride` apart.
fn check(out: &[u8], stride: usize, n: usize) {
    assert!(
        stride >= n && out.len() >= (n - 1) * stride + n,
        "output too short for a {n}x{n} block"
    );
}

/// The value of every pixel `jpeg_idct_2x2`, `jpeg_idct_4x4` and
/// `jpeg_idct_islow` give for a block whose only coefficient is the DC,
/// dequantised to `deq`: pass 1's shortcut for a column of zero AC terms
/// (`deq << PASS1_BITS`), then pass 2's `x << k` descaled by `k + 5`,
/// which is `x` descaled by 5.
pub fn flat(deq: i32) -> u8 {
    range_limit(descale(
        i64::from(deq.wrapping_shl(PASS1_BITS)),
        PASS1_BITS + 3,
    ))
}

/// `jpeg_idct_2x2`: the 2x2 pixels of `block` into `out` (rows `stride`
/// apart). It reads the coefficients of rows and columns 0, 1, 3, 5, 7.
///
/// Panics if `out` is too short.
#[inline]
pub fn idct_2x2(level: Level, block: &[i16; 64], q: &[u16; 64], out: &mut [u8], stride: usize) {
    check(out, stride, 2);
    let done = dispatch!(level, Avx2 => avx2::idct_2x2(block, q, out, stride), _ => false);
    if !done {
        idct_2x2_scalar(block, q, out, stride);
    }
}

/// `jpeg_idct_4x4`: the 4x4 pixels of `block` into `out` (rows `stride`
/// apart). It reads every coefficient but those of row and column 4.
///
/// Panics if `out` is too short.
#[inline]
pub fn idct_4x4(level: Level, block: &[i16; 64], q: &[u16; 64], out: &mut [u8], stride: usize) {
    check(out, stride, 4);
    let done = dispatch!(level, Avx2 => avx2::idct_4x4(block, q, out, stride), _ => false);
    if !done {
        idct_4x4_scalar(block, q, out, stride);
    }
}

/// `jpeg_idct_islow`: the 8x8 pixels of `block` into `out` (rows
/// `stride` apart).
///
/// Panics if `out` is too short.
#[inline]
pub fn idct_8x8(level: Level, block: &[i16; 64], q: &[u16; 64], out: &mut [u8], stride: usize) {
    check(out, stride, 8);
    let _ = level;
    idct_8x8_scalar(block, q, out, stride);
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::EXACT_32;
    use std::arch::x86_64::*;

    /// Row `r` of `block`, dequantised by `q`, as 8 lanes of 32 bits.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn row(block: &[i16; 64], q: &[u16; 64], r: usize) -> __m256i {
        let (b, q) = (&block[8 * r..8 * r + 8], &q[8 * r..8 * r + 8]);
        // SAFETY: both slices hold 8 16-bit values: 16 bytes, read
        // unaligned.
        let (b, q) = unsafe {
            (
                _mm_loadu_si128(b.as_ptr().cast()),
                _mm_loadu_si128(q.as_ptr().cast()),
            )
        };
        _mm256_mullo_epi32(_mm256_cvtepi16_epi32(b), _mm256_cvtepu16_epi32(q))
    }

    /// `true` if no lane of `rows` exceeds [`EXACT_32`] in magnitude.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn exact(rows: &[__m256i]) -> bool {
        let mut m = _mm256_setzero_si256();
        for &r in rows {
            m = _mm256_max_epi32(m, _mm256_abs_epi32(r));
        }
        _mm256_movemask_epi8(_mm256_cmpgt_epi32(m, _mm256_set1_epi32(EXACT_32))) == 0
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn mul(a: __m256i, c: i32) -> __m256i {
        _mm256_mullo_epi32(a, _mm256_set1_epi32(c))
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn mul4(a: __m128i, c: i32) -> __m128i {
        _mm_mullo_epi32(a, _mm_set1_epi32(c))
    }

    /// libjpeg's range limit of 32-bit lanes: the low 10 bits as a signed
    /// value, plus 128 (the caller's saturating packs clamp).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn limit4(x: __m128i) -> __m128i {
        _mm_add_epi32(
            _mm_srai_epi32::<22>(_mm_slli_epi32::<22>(x)),
            _mm_set1_epi32(128),
        )
    }

    /// [`super::idct_2x2`] in 32 bits: pass 1 on eight columns at once,
    /// pass 2 on the two rows. `false`, with nothing written, if a
    /// coefficient is too large for 32 bits to be exact.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) fn idct_2x2(
        block: &[i16; 64],
        q: &[u16; 64],
        out: &mut [u8],
        stride: usize,
    ) -> bool {
        let d = [0, 1, 3, 5, 7].map(|r| row(block, q, r));
        if !exact(&d) {
            return false;
        }
        let tmp10 = _mm256_slli_epi32::<15>(d[0]);
        let tmp0 = _mm256_add_epi32(
            _mm256_add_epi32(mul(d[4], -5906), mul(d[3], 6967)),
            _mm256_add_epi32(mul(d[2], -10426), mul(d[1], 29692)),
        );
        let round = _mm256_set1_epi32(1 << 12);
        let mut ws = [[0i32; 8]; 2];
        for (w, v) in ws
            .iter_mut()
            .zip([_mm256_add_epi32(tmp10, tmp0), _mm256_sub_epi32(tmp10, tmp0)])
        {
            let v = _mm256_srai_epi32::<13>(_mm256_add_epi32(v, round));
            // SAFETY: `w` is 8 `i32`s: 32 bytes, written unaligned.
            unsafe { _mm256_storeu_si256(w.as_mut_ptr().cast(), v) };
        }
        let limit = |x: i32| ((x.wrapping_shl(22) >> 22) + 128).clamp(0, 255) as u8;
        for (r, w) in ws.iter().enumerate() {
            let tmp10 = w[0].wrapping_shl(15);
            let tmp0 = w[7]
                .wrapping_mul(-5906)
                .wrapping_add(w[5].wrapping_mul(6967))
                .wrapping_add(w[3].wrapping_mul(-10426))
                .wrapping_add(w[1].wrapping_mul(29692));
            let round = 1 << 19;
            out[r * stride] = limit(tmp10.wrapping_add(tmp0).wrapping_add(round) >> 20);
            out[r * stride + 1] = limit(tmp10.wrapping_sub(tmp0).wrapping_add(round) >> 20);
        }
        true
    }

    /// Transposes four rows of four 32-bit lanes.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn transpose4(a: [__m128i; 4]) -> [__m128i; 4] {
        let t0 = _mm_unpacklo_epi32(a[0], a[1]);
        let t1 = _mm_unpacklo_epi32(a[2], a[3]);
        let t2 = _mm_unpackhi_epi32(a[0], a[1]);
        let t3 = _mm_unpackhi_epi32(a[2], a[3]);
        [
            _mm_unpacklo_epi64(t0, t1),
            _mm_unpackhi_epi64(t0, t1),
            _mm_unpacklo_epi64(t2, t3),
            _mm_unpackhi_epi64(t2, t3),
        ]
    }

    /// [`super::idct_4x4`] in 32 bits: pass 1 on eight columns at once,
    /// then pass 2 on the four rows at once (transposed). `false`, with
    /// nothing written, if a coefficient is too large for 32 bits to be
    /// exact.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) fn idct_4x4(
        block: &[i16; 64],
        q: &[u16; 64],
        out: &mut [u8],
        stride: usize,
    ) -> bool {
        let d = [0, 1, 2, 3, 5, 6, 7].map(|r| row(block, q, r));
        if !exact(&d) {
            return false;
        }
        let [d0, d1, d2, d3, d5, d6, d7] = d;
        // Pass 1, lanes = columns (column 4's lane is computed but unused).
        let tmp0 = _mm256_slli_epi32::<14>(d0);
        let tmp2 = _mm256_add_epi32(mul(d2, 15137), mul(d6, -6270));
        let (tmp10, tmp12) = (_mm256_add_epi32(tmp0, tmp2), _mm256_sub_epi32(tmp0, tmp2));
        let odd0 = _mm256_add_epi32(
            _mm256_add_epi32(mul(d7, -1730), mul(d5, 11893)),
            _mm256_add_epi32(mul(d3, -17799), mul(d1, 8697)),
        );
        let odd2 = _mm256_add_epi32(
            _mm256_add_epi32(mul(d7, -4176), mul(d5, -4926)),
            _mm256_add_epi32(mul(d3, 7373), mul(d1, 20995)),
        );
        let round = _mm256_set1_epi32(1 << 11);
        let ws = [
            _mm256_add_epi32(tmp10, odd2),
            _mm256_add_epi32(tmp12, odd0),
            _mm256_sub_epi32(tmp12, odd0),
            _mm256_sub_epi32(tmp10, odd2),
        ]
        .map(|v| _mm256_srai_epi32::<12>(_mm256_add_epi32(v, round)));
        // Columns 0-3 and 4-7, each as four lanes of rows 0-3.
        let lo = transpose4(ws.map(|v| _mm256_castsi256_si128(v)));
        let hi = transpose4(ws.map(|v| _mm256_extracti128_si256::<1>(v)));
        let (c0, c1, c2, c3, c5, c6, c7) = (lo[0], lo[1], lo[2], lo[3], hi[1], hi[2], hi[3]);
        // Pass 2, lanes = rows; wrapping (see the module docs).
        let tmp0 = _mm_slli_epi32::<14>(c0);
        let tmp2 = _mm_add_epi32(mul4(c2, 15137), mul4(c6, -6270));
        let (tmp10, tmp12) = (_mm_add_epi32(tmp0, tmp2), _mm_sub_epi32(tmp0, tmp2));
        let odd0 = _mm_add_epi32(
            _mm_add_epi32(mul4(c7, -1730), mul4(c5, 11893)),
            _mm_add_epi32(mul4(c3, -17799), mul4(c1, 8697)),
        );
        let odd2 = _mm_add_epi32(
            _mm_add_epi32(mul4(c7, -4176), mul4(c5, -4926)),
            _mm_add_epi32(mul4(c3, 7373), mul4(c1, 20995)),
        );
        let round = _mm_set1_epi32(1 << 18);
        // Output columns 0-3, each as lanes of rows 0-3.
        let [o0, o1, o2, o3] = [
            _mm_add_epi32(tmp10, odd2),
            _mm_add_epi32(tmp12, odd0),
            _mm_sub_epi32(tmp12, odd0),
            _mm_sub_epi32(tmp10, odd2),
        ]
        .map(|v| limit4(_mm_srai_epi32::<19>(_mm_add_epi32(v, round))));
        // Bytes column by column, then row by row.
        let bytes = _mm_packus_epi16(_mm_packs_epi32(o0, o1), _mm_packs_epi32(o2, o3));
        let rows = _mm_shuffle_epi8(
            bytes,
            _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15),
        );
        let mut px = [0u8; 16];
        // SAFETY: `px` is 16 bytes, written unaligned.
        unsafe { _mm_storeu_si128(px.as_mut_ptr().cast(), rows) };
        for r in 0..4 {
            out[r * stride..r * stride + 4].copy_from_slice(&px[4 * r..4 * r + 4]);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels;

    /// Blocks of real sizes (sparse, as decoded data is), full blocks,
    /// and values beyond the 32-bit paths' bound, with 8- and 16-bit
    /// quantisers: every level gives the scalar bytes.
    #[test]
    fn levels_give_the_scalar_bytes() {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        const EXACT: i32 = 1 << 13;
        // Blocks the 32-bit paths took.
        let mut fast = [0usize; 2];
        for case in 0..6000 {
            let (mut block, mut q) = ([0i16; 64], [0u16; 64]);
            let (dense, big) = (case % 3 == 0, case % 10 == 1);
            for (i, (b, qi)) in block.iter_mut().zip(&mut q).enumerate() {
                let r = next();
                *qi = if big {
                    (r >> 40) as u16
                } else {
                    1 + (r >> 56) as u16
                };
                if i == 0 || dense || r % 5 == 0 {
                    // Mostly within the 32-bit paths' bound, some at it.
                    let range: i64 = if big {
                        32768
                    } else {
                        (i64::from(EXACT) / i64::from(*qi)).max(1) + 1
                    };
                    *b = (((r >> 8) % (2 * range) as u64) as i64 - range) as i16;
                }
            }
            for level in levels() {
                for (n, f) in [
                    (
                        2,
                        idct_2x2 as fn(Level, &[i16; 64], &[u16; 64], &mut [u8], usize),
                    ),
                    (4, idct_4x4),
                    (8, idct_8x8),
                ] {
                    let stride = n + 3;
                    let (mut want, mut got) = (vec![7u8; n * stride], vec![7u8; n * stride]);
                    match n {
                        2 => idct_2x2_scalar(&block, &q, &mut want, stride),
                        4 => idct_4x4_scalar(&block, &q, &mut want, stride),
                        _ => idct_8x8_scalar(&block, &q, &mut want, stride),
                    }
                    f(level, &block, &q, &mut got, stride);
                    assert_eq!(got, want, "case {case} {n}x{n} {level:?}");
                }
            }
            #[cfg(target_arch = "x86_64")]
            if crate::detected().has(crate::Isa::Avx2) {
                let mut out = [0u8; 16];
                // SAFETY: the CPU was checked for AVX2 just above.
                unsafe {
                    fast[0] += usize::from(avx2::idct_2x2(&block, &q, &mut out, 4));
                    fast[1] += usize::from(avx2::idct_4x4(&block, &q, &mut out, 4));
                }
            }
            if block[1..].iter().all(|&c| c == 0) {
                let deq = i32::from(block[0]) * i32::from(q[0]);
                let mut want = [0u8; 4];
                idct_2x2_scalar(&block, &q, &mut want, 2);
                assert_eq!([flat(deq); 4], want, "case {case}");
            }
        }
        #[cfg(target_arch = "x86_64")]
        if crate::detected().has(crate::Isa::Avx2) {
            assert!(fast.iter().all(|&n| n > 1000), "32-bit paths took {fast:?}");
        }
    }
}
