//! Element-wise arithmetic kernels on rows of samples: the common cases of
//! the point family (two-image add, subtract and multiply of `u8`, `u16`
//! and `f32`; comparisons of `u8` and `f32`; `ifthenelse` selection of
//! `u8`).
//!
//! Every kernel works on whole rows, all slices of the same length (it
//! panics otherwise), and follows libvips' promotion: `u8 + u8` and
//! `u8 × u8` give `u16`, `u8 − u8` gives `i16`; `u16 + u16` and
//! `u16 × u16` give `u32`, `u16 − u16` gives `i32`; `f32` stays `f32`
//! (one IEEE operation, no fused multiply-add). None of these can overflow,
//! so the AVX2 paths and the scalar references give the same bits.
//! Comparisons give `255` for true and `0` for false; with a NaN every
//! comparison is false except [`Cmp::NotEqual`].

use crate::{Level, dispatch};

/// A comparison of two samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `a == b`.
    Equal,
    /// `a != b` (true when either is NaN).
    NotEqual,
    /// `a < b`.
    Less,
    /// `a <= b`.
    LessEq,
    /// `a > b`.
    More,
    /// `a >= b`.
    MoreEq,
}

impl Cmp {
    /// The comparison on two values (the scalar reference).
    #[inline(always)]
    pub fn test<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Equal => a == b,
            Cmp::NotEqual => a != b,
            Cmp::Less => a < b,
            Cmp::LessEq => a <= b,
            Cmp::More => a > b,
            Cmp::MoreEq => a >= b,
        }
    }
}

fn same_len(n: usize, others: &[usize]) {
    assert!(
        others.iter().all(|&m| m == n),
        "rows must have the same length"
    );
}

macro_rules! binary_kernel {
    ($(#[$doc:meta])* $name:ident, $in:ty, $out:ty, $op:expr, $avx:ident) => {
        $(#[$doc])*
        ///
        /// Panics if the slices differ in length.
        pub fn $name(level: Level, a: &[$in], b: &[$in], out: &mut [$out]) {
            same_len(a.len(), &[b.len(), out.len()]);
            let done = dispatch!(level, Avx2 => avx2::$avx(a, b, out), _ => 0);
            let f = $op;
            for ((o, &x), &y) in out[done..].iter_mut().zip(&a[done..]).zip(&b[done..]) {
                *o = f(x, y);
            }
        }
    };
}

binary_kernel!(
    /// `out = a + b`, `u8` in, `u16` out.
    add_u8, u8, u16, |x: u8, y: u8| x as u16 + y as u16, add_u8
);
binary_kernel!(
    /// `out = a − b`, `u8` in, `i16` out.
    sub_u8, u8, i16, |x: u8, y: u8| x as i16 - y as i16, sub_u8
);
binary_kernel!(
    /// `out = a × b`, `u8` in, `u16` out.
    mul_u8, u8, u16, |x: u8, y: u8| x as u16 * y as u16, mul_u8
);
binary_kernel!(
    /// `out = a + b`, `u16` in, `u32` out.
    add_u16, u16, u32, |x: u16, y: u16| x as u32 + y as u32, add_u16
);
binary_kernel!(
    /// `out = a − b`, `u16` in, `i32` out.
    sub_u16, u16, i32, |x: u16, y: u16| x as i32 - y as i32, sub_u16
);
binary_kernel!(
    /// `out = a × b`, `u16` in, `u32` out.
    mul_u16, u16, u32, |x: u16, y: u16| x as u32 * y as u32, mul_u16
);
binary_kernel!(
    /// `out = a + b` in `f32`.
    add_f32, f32, f32, |x: f32, y: f32| x + y, add_f32
);
binary_kernel!(
    /// `out = a − b` in `f32`.
    sub_f32, f32, f32, |x: f32, y: f32| x - y, sub_f32
);
binary_kernel!(
    /// `out = a × b` in `f32`.
    mul_f32, f32, f32, |x: f32, y: f32| x * y, mul_f32
);

/// `out = 255` where `op(a, b)` holds, else `0`, on `u8` samples.
///
/// Panics if the slices differ in length.
pub fn cmp_u8(level: Level, op: Cmp, a: &[u8], b: &[u8], out: &mut [u8]) {
    same_len(a.len(), &[b.len(), out.len()]);
    let done = dispatch!(level, Avx2 => avx2::cmp_u8(op, a, b, out), _ => 0);
    for ((o, &x), &y) in out[done..].iter_mut().zip(&a[done..]).zip(&b[done..]) {
        *o = if op.test(x, y) { 255 } else { 0 };
    }
}

/// `out = 255` where `op(a, b)` holds, else `0`, on `f32` samples.
///
/// Panics if the slices differ in length.
pub fn cmp_f32(level: Level, op: Cmp, a: &[f32], b: &[f32], out: &mut [u8]) {
    same_len(a.len(), &[b.len(), out.len()]);
    let done = dispatch!(level, Avx2 => avx2::cmp_f32(op, a, b, out), _ => 0);
    for ((o, &x), &y) in out[done..].iter_mut().zip(&a[done..]).zip(&b[done..]) {
        *o = if op.test(x, y) { 255 } else { 0 };
    }
}

/// `out = a` where `cond` is non-zero, else `b`, element by element, on
/// `u8` samples (libvips' `ifthenelse` on a `u8` condition with as many
/// bands as the branches).
///
/// Panics if the slices differ in length.
pub fn select_u8(level: Level, cond: &[u8], a: &[u8], b: &[u8], out: &mut [u8]) {
    same_len(cond.len(), &[a.len(), b.len(), out.len()]);
    let done = dispatch!(level, Avx2 => avx2::select_u8(cond, a, b, out), _ => 0);
    for (((o, &c), &x), &y) in out[done..]
        .iter_mut()
        .zip(&cond[done..])
        .zip(&a[done..])
        .zip(&b[done..])
    {
        *o = if c != 0 { x } else { y };
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::Cmp;
    use std::arch::x86_64::*;

    /// Widening `u8` kernels: 16 samples a step; returns the samples done.
    macro_rules! widen_u8 {
        ($name:ident, $out:ty, $op:ident) => {
            /// # Safety
            /// The CPU must support AVX2 and the slices have equal lengths.
            #[target_feature(enable = "avx2")]
            pub(super) unsafe fn $name(a: &[u8], b: &[u8], out: &mut [$out]) -> usize {
                let n = a.len() / 16 * 16;
                let mut i = 0;
                while i < n {
                    // SAFETY: `i + 16 <= n <= len` for every slice;
                    // unaligned loads and stores of 16 bytes in, 16 `u16`
                    // or `i16` (32 bytes) out.
                    unsafe {
                        let x = _mm256_cvtepu8_epi16(_mm_loadu_si128(
                            a.as_ptr().add(i) as *const __m128i
                        ));
                        let y = _mm256_cvtepu8_epi16(_mm_loadu_si128(
                            b.as_ptr().add(i) as *const __m128i
                        ));
                        _mm256_storeu_si256(out.as_mut_ptr().add(i) as *mut __m256i, $op(x, y));
                    }
                    i += 16;
                }
                n
            }
        };
    }
    widen_u8!(add_u8, u16, _mm256_add_epi16);
    widen_u8!(sub_u8, i16, _mm256_sub_epi16);
    widen_u8!(mul_u8, u16, _mm256_mullo_epi16);

    /// Widening `u16` kernels: 8 samples a step; returns the samples done.
    macro_rules! widen_u16 {
        ($name:ident, $out:ty, $op:ident) => {
            /// # Safety
            /// The CPU must support AVX2 and the slices have equal lengths.
            #[target_feature(enable = "avx2")]
            pub(super) unsafe fn $name(a: &[u16], b: &[u16], out: &mut [$out]) -> usize {
                let n = a.len() / 8 * 8;
                let mut i = 0;
                while i < n {
                    // SAFETY: `i + 8 <= n <= len` for every slice; 16
                    // bytes in, 32 bytes out, unaligned.
                    unsafe {
                        let x = _mm256_cvtepu16_epi32(_mm_loadu_si128(
                            a.as_ptr().add(i) as *const __m128i
                        ));
                        let y = _mm256_cvtepu16_epi32(_mm_loadu_si128(
                            b.as_ptr().add(i) as *const __m128i
                        ));
                        _mm256_storeu_si256(out.as_mut_ptr().add(i) as *mut __m256i, $op(x, y));
                    }
                    i += 8;
                }
                n
            }
        };
    }
    widen_u16!(add_u16, u32, _mm256_add_epi32);
    widen_u16!(sub_u16, i32, _mm256_sub_epi32);
    widen_u16!(mul_u16, u32, _mm256_mullo_epi32);

    /// `f32` kernels: 8 samples a step; returns the samples done.
    macro_rules! float {
        ($name:ident, $op:ident) => {
            /// # Safety
            /// The CPU must support AVX2 and the slices have equal lengths.
            #[target_feature(enable = "avx2")]
            pub(super) unsafe fn $name(a: &[f32], b: &[f32], out: &mut [f32]) -> usize {
                let n = a.len() / 8 * 8;
                let mut i = 0;
                while i < n {
                    // SAFETY: `i + 8 <= n <= len` for every slice;
                    // unaligned.
                    unsafe {
                        let x = _mm256_loadu_ps(a.as_ptr().add(i));
                        let y = _mm256_loadu_ps(b.as_ptr().add(i));
                        _mm256_storeu_ps(out.as_mut_ptr().add(i), $op(x, y));
                    }
                    i += 8;
                }
                n
            }
        };
    }
    float!(add_f32, _mm256_add_ps);
    float!(sub_f32, _mm256_sub_ps);
    float!(mul_f32, _mm256_mul_ps);

    /// 32 `u8` comparisons: all ones where `op(x, y)` holds.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn cmp32(op: Cmp, x: __m256i, y: __m256i) -> __m256i {
        let ones = _mm256_set1_epi8(-1);
        match op {
            Cmp::Equal => _mm256_cmpeq_epi8(x, y),
            Cmp::NotEqual => _mm256_xor_si256(_mm256_cmpeq_epi8(x, y), ones),
            // x <= y  <=>  max(x, y) == y (unsigned).
            Cmp::LessEq => _mm256_cmpeq_epi8(_mm256_max_epu8(x, y), y),
            Cmp::More => _mm256_xor_si256(_mm256_cmpeq_epi8(_mm256_max_epu8(x, y), y), ones),
            // x >= y  <=>  max(x, y) == x.
            Cmp::MoreEq => _mm256_cmpeq_epi8(_mm256_max_epu8(x, y), x),
            Cmp::Less => _mm256_xor_si256(_mm256_cmpeq_epi8(_mm256_max_epu8(x, y), x), ones),
        }
    }

    /// # Safety
    /// The CPU must support AVX2 and the slices have equal lengths.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn cmp_u8(op: Cmp, a: &[u8], b: &[u8], out: &mut [u8]) -> usize {
        let n = a.len() / 32 * 32;
        let mut i = 0;
        while i < n {
            // SAFETY: `i + 32 <= n <= len` for every slice; unaligned.
            unsafe {
                let x = _mm256_loadu_si256(a.as_ptr().add(i) as *const __m256i);
                let y = _mm256_loadu_si256(b.as_ptr().add(i) as *const __m256i);
                _mm256_storeu_si256(out.as_mut_ptr().add(i) as *mut __m256i, cmp32(op, x, y));
            }
            i += 32;
        }
        n
    }

    /// 8 `f32` comparisons: all ones (as `i32` lanes) where `op(x, y)`
    /// holds; ordered predicates except `NotEqual` (unordered, as `!=`).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn cmp8(op: Cmp, x: __m256, y: __m256) -> __m256i {
        _mm256_castps_si256(match op {
            Cmp::Equal => _mm256_cmp_ps::<_CMP_EQ_OQ>(x, y),
            Cmp::NotEqual => _mm256_cmp_ps::<_CMP_NEQ_UQ>(x, y),
            Cmp::Less => _mm256_cmp_ps::<_CMP_LT_OQ>(x, y),
            Cmp::LessEq => _mm256_cmp_ps::<_CMP_LE_OQ>(x, y),
            Cmp::More => _mm256_cmp_ps::<_CMP_GT_OQ>(x, y),
            Cmp::MoreEq => _mm256_cmp_ps::<_CMP_GE_OQ>(x, y),
        })
    }

    /// # Safety
    /// The CPU must support AVX2 and the slices have equal lengths.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn cmp_f32(op: Cmp, a: &[f32], b: &[f32], out: &mut [u8]) -> usize {
        let n = a.len() / 32 * 32;
        // Undoes the lane interleaving of the two packs below.
        let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        let mut i = 0;
        while i < n {
            // SAFETY: `i + 32 <= n <= len` for every slice; unaligned
            // loads of 4 × 8 floats, one store of 32 bytes.
            unsafe {
                let pa = a.as_ptr().add(i);
                let pb = b.as_ptr().add(i);
                let m0 = cmp8(op, _mm256_loadu_ps(pa), _mm256_loadu_ps(pb));
                let m1 = cmp8(op, _mm256_loadu_ps(pa.add(8)), _mm256_loadu_ps(pb.add(8)));
                let m2 = cmp8(op, _mm256_loadu_ps(pa.add(16)), _mm256_loadu_ps(pb.add(16)));
                let m3 = cmp8(op, _mm256_loadu_ps(pa.add(24)), _mm256_loadu_ps(pb.add(24)));
                // -1/0 lanes pack (saturating) to -1/0 bytes, that is 255/0.
                let w01 = _mm256_packs_epi32(m0, m1);
                let w23 = _mm256_packs_epi32(m2, m3);
                let bytes = _mm256_packs_epi16(w01, w23);
                let fixed = _mm256_permutevar8x32_epi32(bytes, order);
                _mm256_storeu_si256(out.as_mut_ptr().add(i) as *mut __m256i, fixed);
            }
            i += 32;
        }
        n
    }

    /// # Safety
    /// The CPU must support AVX2 and the slices have equal lengths.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn select_u8(cond: &[u8], a: &[u8], b: &[u8], out: &mut [u8]) -> usize {
        let n = cond.len() / 32 * 32;
        let zero = _mm256_setzero_si256();
        let mut i = 0;
        while i < n {
            // SAFETY: `i + 32 <= n <= len` for every slice; unaligned.
            unsafe {
                let c = _mm256_loadu_si256(cond.as_ptr().add(i) as *const __m256i);
                let x = _mm256_loadu_si256(a.as_ptr().add(i) as *const __m256i);
                let y = _mm256_loadu_si256(b.as_ptr().add(i) as *const __m256i);
                // Where the condition is zero take `y`, else `x`.
                let is_zero = _mm256_cmpeq_epi8(c, zero);
                let r = _mm256_blendv_epi8(x, y, is_zero);
                _mm256_storeu_si256(out.as_mut_ptr().add(i) as *mut __m256i, r);
            }
            i += 32;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels;
    use crate::testdata::bytes;

    fn words(n: usize, seed: u64) -> Vec<u16> {
        let a = bytes(2 * n, seed);
        a.chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    }

    fn floats(n: usize, seed: u64) -> Vec<f32> {
        let a = bytes(n, seed);
        a.iter()
            .enumerate()
            .map(|(i, &v)| match v % 23 {
                0 => f32::NAN,
                1 => -0.0,
                2 => f32::INFINITY,
                3 => 1.0,
                _ => (v as f32 - 100.0) * 1.37 + i as f32 * 0.01,
            })
            .collect()
    }

    const CMPS: [Cmp; 6] = [
        Cmp::Equal,
        Cmp::NotEqual,
        Cmp::Less,
        Cmp::LessEq,
        Cmp::More,
        Cmp::MoreEq,
    ];

    /// Odd lengths, around the vector widths.
    const LENS: [usize; 9] = [0, 1, 7, 15, 17, 31, 33, 67, 1001];

    #[test]
    fn integer_kernels_match_scalar_at_every_level() {
        for &n in &LENS {
            let (a, b) = (bytes(n, 1 + n as u64), bytes(n, 99 + n as u64));
            let (c, d) = (words(n, 5 + n as u64), words(n, 7 + n as u64));
            for level in levels() {
                let mut w = vec![0u16; n];
                let mut s = vec![0i16; n];
                let (mut w0, mut s0) = (w.clone(), s.clone());
                add_u8(level, &a, &b, &mut w);
                add_u8(Level::SCALAR, &a, &b, &mut w0);
                assert_eq!(w, w0, "add_u8 {level:?} {n}");
                mul_u8(level, &a, &b, &mut w);
                mul_u8(Level::SCALAR, &a, &b, &mut w0);
                assert_eq!(w, w0, "mul_u8 {level:?} {n}");
                sub_u8(level, &a, &b, &mut s);
                sub_u8(Level::SCALAR, &a, &b, &mut s0);
                assert_eq!(s, s0, "sub_u8 {level:?} {n}");
                let mut u = vec![0u32; n];
                let mut i = vec![0i32; n];
                let (mut u0, mut i0) = (u.clone(), i.clone());
                add_u16(level, &c, &d, &mut u);
                add_u16(Level::SCALAR, &c, &d, &mut u0);
                assert_eq!(u, u0, "add_u16 {level:?} {n}");
                mul_u16(level, &c, &d, &mut u);
                mul_u16(Level::SCALAR, &c, &d, &mut u0);
                assert_eq!(u, u0, "mul_u16 {level:?} {n}");
                sub_u16(level, &c, &d, &mut i);
                sub_u16(Level::SCALAR, &c, &d, &mut i0);
                assert_eq!(i, i0, "sub_u16 {level:?} {n}");
                for op in CMPS {
                    let mut m = vec![7u8; n];
                    let mut m0 = vec![9u8; n];
                    cmp_u8(level, op, &a, &b, &mut m);
                    cmp_u8(Level::SCALAR, op, &a, &b, &mut m0);
                    assert_eq!(m, m0, "cmp_u8 {op:?} {level:?} {n}");
                    // Equal inputs too.
                    cmp_u8(level, op, &a, &a, &mut m);
                    cmp_u8(Level::SCALAR, op, &a, &a, &mut m0);
                    assert_eq!(m, m0, "cmp_u8 {op:?} {level:?} {n} (equal)");
                }
                let cond = bytes(n, 3 + n as u64);
                let mut o = vec![1u8; n];
                let mut o0 = vec![2u8; n];
                select_u8(level, &cond, &a, &b, &mut o);
                select_u8(Level::SCALAR, &cond, &a, &b, &mut o0);
                assert_eq!(o, o0, "select_u8 {level:?} {n}");
            }
        }
    }

    #[test]
    fn float_kernels_match_scalar_at_every_level() {
        for &n in &LENS {
            let (a, b) = (floats(n, 11 + n as u64), floats(n, 13 + n as u64));
            for level in levels() {
                type K = fn(Level, &[f32], &[f32], &mut [f32]);
                for (name, k) in [("add", add_f32 as K), ("sub", sub_f32), ("mul", mul_f32)] {
                    let mut o = vec![0f32; n];
                    let mut o0 = vec![0f32; n];
                    k(level, &a, &b, &mut o);
                    k(Level::SCALAR, &a, &b, &mut o0);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    // NaN payloads may differ; compare NaN-ness, else bits.
                    for (x, y) in o.iter().zip(&o0) {
                        assert!(x.is_nan() == y.is_nan(), "{name} {level:?} {n}");
                    }
                    let clean = |v: &[f32]| {
                        v.iter()
                            .map(|x| if x.is_nan() { 0.0 } else { *x })
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(bits(&clean(&o)), bits(&clean(&o0)), "{name} {level:?} {n}");
                }
                for op in CMPS {
                    let mut m = vec![7u8; n];
                    let mut m0 = vec![9u8; n];
                    cmp_f32(level, op, &a, &b, &mut m);
                    cmp_f32(Level::SCALAR, op, &a, &b, &mut m0);
                    assert_eq!(m, m0, "cmp_f32 {op:?} {level:?} {n}");
                    cmp_f32(level, op, &a, &a, &mut m);
                    cmp_f32(Level::SCALAR, op, &a, &a, &mut m0);
                    assert_eq!(m, m0, "cmp_f32 {op:?} {level:?} {n} (equal)");
                }
            }
        }
    }

    #[test]
    fn known_values() {
        let mut w = [0u16; 2];
        add_u8(Level::SCALAR, &[255, 1], &[255, 2], &mut w);
        assert_eq!(w, [510, 3]);
        let mut s = [0i16; 2];
        sub_u8(Level::SCALAR, &[0, 9], &[255, 2], &mut s);
        assert_eq!(s, [-255, 7]);
        let mut m = [0u8; 3];
        cmp_f32(
            Level::SCALAR,
            Cmp::NotEqual,
            &[f32::NAN, 1.0, 2.0],
            &[f32::NAN, 1.0, 3.0],
            &mut m,
        );
        assert_eq!(m, [255, 0, 255]);
        cmp_f32(
            Level::SCALAR,
            Cmp::MoreEq,
            &[f32::NAN, 1.0, 2.0],
            &[0.0, 1.0, 3.0],
            &mut m,
        );
        assert_eq!(m, [0, 255, 0]);
    }
}
