//! Baseline JPEG encoding kernels, bit-exact with libjpeg-turbo's
//! defaults: RGB→YCbCr colour conversion, chroma downsampling, the
//! accurate integer forward DCT followed by quantisation, and the zigzag
//! reordering with a bitmap of the nonzero coefficients for the Huffman
//! coder.
//!
//! - [`rgb_to_ycc`]: libjpeg's fixed-point JFIF conversion (`jccolor.c`):
//!   16-bit fractions, `Y = (0.29900 R + 0.58700 G + 0.11400 B + ½) >> 16`,
//!   `Cb = (-0.16874 R - 0.33126 G + 0.5 B + 128 + ½ - ε) >> 16`, and the
//!   same for `Cr`, every coefficient rounded to 16 bits as libjpeg's
//!   `FIX`.
//! - [`downsample_h2v2`] and [`downsample_h2v1`]: `jcsample.c`'s box
//!   averages with the alternating bias (1, 2 for 2x2; 0, 1 for 2x1).
//! - [`fdct_quantize`]: `jfdctint.c`'s islow DCT (13-bit constants, two
//!   extra bits after the first pass) on 8x8 blocks of samples, then
//!   libjpeg-turbo's quantisation by reciprocals ([`Divisors`]), which
//!   rounds half away from zero.
//! - [`zigzag`]: a block in zigzag order and the 64-bit mask of its
//!   nonzero coefficients.
//!
//! Every kernel has a scalar reference; the AVX2 (and for [`zigzag`]
//! AVX-512) paths compute the same integer arithmetic, so every level
//! gives the same values (tested below).

use crate::{Level, dispatch};

/// `FIX(x)` of `jccolor.c`: `x` in 16-bit fixed point, rounded.
const fn fix16(x: f64) -> i32 {
    (x * 65536.0 + 0.5) as i32
}

const Y_R: i32 = fix16(0.29900);
const Y_G: i32 = fix16(0.58700);
const Y_B: i32 = fix16(0.11400);
const CB_R: i32 = fix16(0.16874);
const CB_G: i32 = fix16(0.33126);
const CR_G: i32 = fix16(0.41869);
const CR_B: i32 = fix16(0.08131);
/// `0.5` in 16-bit fixed point, the coefficient of B in Cb and R in Cr.
const HALF: i32 = 1 << 15;
/// `CBCR_OFFSET + ONE_HALF - 1`, added to Cb and Cr.
const CBCR_ROUND: i32 = (128 << 16) + HALF - 1;

/// One pixel RGB→YCbCr (scalar reference, `jccolor.c`).
#[inline(always)]
fn ycc(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let y = (Y_R * r + Y_G * g + Y_B * b + HALF) >> 16;
    let cb = (-CB_R * r - CB_G * g + HALF * b + CBCR_ROUND) >> 16;
    let cr = (HALF * r - CR_G * g - CR_B * b + CBCR_ROUND) >> 16;
    (y as u8, cb as u8, cr as u8)
}

fn rgb_to_ycc_scalar(rgb: &[u8], y: &mut [u8], cb: &mut [u8], cr: &mut [u8]) {
    for (((p, y), cb), cr) in rgb
        .chunks_exact(3)
        .zip(y.iter_mut())
        .zip(cb.iter_mut())
        .zip(cr.iter_mut())
    {
        (*y, *cb, *cr) = ycc(p[0], p[1], p[2]);
    }
}

/// Converts packed RGB pixels to planar Y, Cb and Cr exactly as libjpeg's
/// `rgb_ycc_convert`.
///
/// Panics unless `rgb` holds whole pixels and each output holds at least
/// as many samples as `rgb` has pixels.
pub fn rgb_to_ycc(level: Level, rgb: &[u8], y: &mut [u8], cb: &mut [u8], cr: &mut [u8]) {
    assert!(rgb.len().is_multiple_of(3), "rgb must hold whole pixels");
    let n = rgb.len() / 3;
    assert!(
        y.len() >= n && cb.len() >= n && cr.len() >= n,
        "outputs too short"
    );
    let (y, cb, cr) = (&mut y[..n], &mut cb[..n], &mut cr[..n]);
    let done = dispatch!(level, Avx2 => avx2::rgb_to_ycc(rgb, y, cb, cr), _ => 0);
    rgb_to_ycc_scalar(
        &rgb[3 * done..],
        &mut y[done..],
        &mut cb[done..],
        &mut cr[done..],
    );
}

fn downsample_h2v2_scalar(row0: &[u8], row1: &[u8], out: &mut [u8]) {
    for (i, o) in out.iter_mut().enumerate() {
        let s = u16::from(row0[2 * i])
            + u16::from(row0[2 * i + 1])
            + u16::from(row1[2 * i])
            + u16::from(row1[2 * i + 1]);
        // Bias 1 at even output columns, 2 at odd ones.
        *o = ((s + 1 + (i as u16 & 1)) >> 2) as u8;
    }
}

/// 2x2 box downsampling of two rows as libjpeg's `h2v2_downsample`:
/// `out[i] = (sum of the 4 samples + bias) >> 2`, the bias 1 at even `i`
/// and 2 at odd `i`.
///
/// Panics if either row is shorter than `2 * out.len()`.
pub fn downsample_h2v2(level: Level, row0: &[u8], row1: &[u8], out: &mut [u8]) {
    let n = out.len();
    assert!(
        row0.len() >= 2 * n && row1.len() >= 2 * n,
        "input rows too short"
    );
    let done = dispatch!(level, Avx2 => avx2::downsample_h2v2(row0, row1, out), _ => 0);
    downsample_h2v2_scalar(&row0[2 * done..], &row1[2 * done..], &mut out[done..]);
}

fn downsample_h2v1_scalar(row: &[u8], out: &mut [u8]) {
    for (i, o) in out.iter_mut().enumerate() {
        let s = u16::from(row[2 * i]) + u16::from(row[2 * i + 1]);
        *o = ((s + (i as u16 & 1)) >> 1) as u8;
    }
}

/// 2x1 downsampling of a row as libjpeg's `h2v1_downsample`:
/// `out[i] = (row[2i] + row[2i+1] + bias) >> 1`, the bias 0 at even `i`
/// and 1 at odd `i`.
///
/// Panics if `row` is shorter than `2 * out.len()`.
pub fn downsample_h2v1(level: Level, row: &[u8], out: &mut [u8]) {
    let n = out.len();
    assert!(row.len() >= 2 * n, "input row too short");
    let done = dispatch!(level, Avx2 => avx2::downsample_h2v1(row, out), _ => 0);
    downsample_h2v1_scalar(&row[2 * done..], &mut out[done..]);
}

/// Quantisation by reciprocals as libjpeg-turbo's `compute_reciprocal`,
/// for the 64 divisors of a block (natural order, each `8 × q`, the DCT
/// being scaled by 8): `|c| + corr` times `recip` keeps the high 16 bits,
/// times `scale` the high 16 bits again, and the sign of `c` is put back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divisors {
    recip: [u16; 64],
    corr: [u16; 64],
    scale: [u16; 64],
}

impl Divisors {
    /// The divisors of quantisation table `quant` (natural order, values
    /// 1 to 255 for baseline; larger ones up to 4095 work too).
    ///
    /// Panics if a value is 0 or above 4095.
    pub fn new(quant: &[u16; 64]) -> Divisors {
        let mut d = Divisors {
            recip: [0; 64],
            corr: [0; 64],
            scale: [0; 64],
        };
        for (i, &q) in quant.iter().enumerate() {
            assert!((1..=4095).contains(&q), "quantisation values are 1..=4095");
            let divisor = u32::from(q) << 3;
            let b = 31 - divisor.leading_zeros(); // floor(log2)
            let mut r = 16 + b;
            let mut fq = (1u32 << r) / divisor;
            let fr = (1u32 << r) % divisor;
            let mut c = divisor / 2;
            if fr == 0 {
                // A power of two: fq is one bit too wide for 16 bits.
                fq >>= 1;
                r -= 1;
            } else if fr <= divisor / 2 {
                c += 1;
            } else {
                fq += 1;
            }
            d.recip[i] = fq as u16;
            d.corr[i] = c as u16;
            d.scale[i] = (1u32 << (32 - r)) as u16;
        }
        d
    }

    /// Quantises one coefficient at position `i` (scalar reference).
    #[inline(always)]
    fn quantize(&self, i: usize, x: i16) -> i16 {
        let t = u32::from(x.unsigned_abs());
        let p = (((t + u32::from(self.corr[i])) & 0xFFFF) * u32::from(self.recip[i])) >> 16;
        let q = ((p * u32::from(self.scale[i])) >> 16) as i16;
        if x < 0 { -q } else { q }
    }
}

// jfdctint.c's constants: FIX(x) with 13 fractional bits.
const F_0_298: i32 = 2446;
const F_0_390: i32 = 3196;
const F_0_541: i32 = 4433;
const F_0_765: i32 = 6270;
const F_0_899: i32 = 7373;
const F_1_175: i32 = 9633;
const F_1_501: i32 = 12299;
const F_1_847: i32 = 15137;
const F_1_961: i32 = 16069;
const F_2_053: i32 = 16819;
const F_2_562: i32 = 20995;
const F_3_072: i32 = 25172;
const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

#[inline(always)]
fn descale(x: i32, n: u32) -> i32 {
    (x + (1 << (n - 1))) >> n
}

/// `jpeg_fdct_islow` on one block (scalar reference): rows first, then
/// columns, in place.
fn fdct_islow(data: &mut [i32; 64]) {
    for pass in 0..2 {
        let (step, stride, shift) = if pass == 0 {
            (8, 1, CONST_BITS - PASS1_BITS)
        } else {
            (1, 8, CONST_BITS + PASS1_BITS)
        };
        for k in 0..8 {
            let base = k * step;
            let at = |j: usize| base + j * stride;
            let d = |j: usize| data[at(j)];
            let tmp0 = d(0) + d(7);
            let tmp7 = d(0) - d(7);
            let tmp1 = d(1) + d(6);
            let tmp6 = d(1) - d(6);
            let tmp2 = d(2) + d(5);
            let tmp5 = d(2) - d(5);
            let tmp3 = d(3) + d(4);
            let tmp4 = d(3) - d(4);
            let tmp10 = tmp0 + tmp3;
            let tmp13 = tmp0 - tmp3;
            let tmp11 = tmp1 + tmp2;
            let tmp12 = tmp1 - tmp2;
            let (o0, o4) = if pass == 0 {
                ((tmp10 + tmp11) << PASS1_BITS, (tmp10 - tmp11) << PASS1_BITS)
            } else {
                (
                    descale(tmp10 + tmp11, PASS1_BITS),
                    descale(tmp10 - tmp11, PASS1_BITS),
                )
            };
            let z1 = (tmp12 + tmp13) * F_0_541;
            let o2 = descale(z1 + tmp13 * F_0_765, shift);
            let o6 = descale(z1 - tmp12 * F_1_847, shift);
            let z1 = tmp4 + tmp7;
            let z2 = tmp5 + tmp6;
            let z3 = tmp4 + tmp6;
            let z4 = tmp5 + tmp7;
            let z5 = (z3 + z4) * F_1_175;
            let t4 = tmp4 * F_0_298;
            let t5 = tmp5 * F_2_053;
            let t6 = tmp6 * F_3_072;
            let t7 = tmp7 * F_1_501;
            let z1 = -z1 * F_0_899;
            let z2 = -z2 * F_2_562;
            let z3 = -z3 * F_1_961 + z5;
            let z4 = -z4 * F_0_390 + z5;
            let o7 = descale(t4 + z1 + z3, shift);
            let o5 = descale(t5 + z2 + z4, shift);
            let o3 = descale(t6 + z2 + z3, shift);
            let o1 = descale(t7 + z1 + z4, shift);
            for (j, o) in [o0, o1, o2, o3, o4, o5, o6, o7].into_iter().enumerate() {
                data[at(j)] = o;
            }
        }
    }
}

fn fdct_quantize_scalar(plane: &[u8], stride: usize, div: &Divisors, out: &mut [[i16; 64]]) {
    for (b, block) in out.iter_mut().enumerate() {
        let mut data = [0i32; 64];
        for r in 0..8 {
            let row = &plane[r * stride + 8 * b..][..8];
            for (c, &v) in row.iter().enumerate() {
                data[r * 8 + c] = i32::from(v) - 128;
            }
        }
        fdct_islow(&mut data);
        for (i, (o, &x)) in block.iter_mut().zip(&data).enumerate() {
            *o = div.quantize(i, x as i16);
        }
    }
}

/// Forward DCT (libjpeg's islow) and quantisation of `out.len()` blocks
/// side by side: block `b` is the 8x8 samples at column `8 b` of the 8
/// rows `plane[r * stride..]`, `r < 8`. Coefficients are in natural
/// order.
///
/// Panics if `plane` is too short for 8 rows of `8 * out.len()` samples.
pub fn fdct_quantize(
    level: Level,
    plane: &[u8],
    stride: usize,
    div: &Divisors,
    out: &mut [[i16; 64]],
) {
    let width = 8 * out.len();
    if out.is_empty() {
        return;
    }
    assert!(
        stride >= width && plane.len() >= 7 * stride + width,
        "plane too short for the blocks"
    );
    let done = dispatch!(level, Avx2 => avx2::fdct_quantize(plane, stride, div, out), _ => 0);
    fdct_quantize_scalar(&plane[8 * done..], stride, div, &mut out[done..]);
}

/// The zigzag order: position `k` of the coded sequence is coefficient
/// `ZIGZAG[k]` of the natural (row-major) block.
pub const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

fn zigzag_scalar(block: &[i16; 64], out: &mut [i16; 64]) -> u64 {
    let mut mask = 0u64;
    for (k, o) in out.iter_mut().enumerate() {
        *o = block[usize::from(ZIGZAG[k])];
        mask |= u64::from(*o != 0) << k;
    }
    mask
}

/// Reorders `block` (natural order) into `out` in zigzag order and
/// returns the mask whose bit `k` is set when `out[k] != 0`.
pub fn zigzag(level: Level, block: &[i16; 64], out: &mut [i16; 64]) -> u64 {
    dispatch!(level,
        Avx512 => avx512::zigzag(block, out),
        Avx2 => avx2::zigzag(block, out),
        _ => zigzag_scalar(block, out))
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;
    use std::arch::x86_64::*;

    /// RGB→YCbCr of 16 pixels a step; returns the pixels done.
    ///
    /// # Safety
    /// The CPU must support AVX2; the outputs hold `rgb.len() / 3` samples.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn rgb_to_ycc(
        rgb: &[u8],
        y: &mut [u8],
        cb: &mut [u8],
        cr: &mut [u8],
    ) -> usize {
        // Words (r, g), (b, g), (g, b) and dwords r, b of 4 pixels of a
        // 128-bit lane (12 bytes).
        let rg = _mm256_broadcastsi128_si256(_mm_setr_epi8(
            0, -1, 1, -1, 3, -1, 4, -1, 6, -1, 7, -1, 9, -1, 10, -1,
        ));
        let bg = _mm256_broadcastsi128_si256(_mm_setr_epi8(
            2, -1, 1, -1, 5, -1, 4, -1, 8, -1, 7, -1, 11, -1, 10, -1,
        ));
        let gb = _mm256_broadcastsi128_si256(_mm_setr_epi8(
            1, -1, 2, -1, 4, -1, 5, -1, 7, -1, 8, -1, 10, -1, 11, -1,
        ));
        let r32 = _mm256_broadcastsi128_si256(_mm_setr_epi8(
            0, -1, -1, -1, 3, -1, -1, -1, 6, -1, -1, -1, 9, -1, -1, -1,
        ));
        let b32 = _mm256_broadcastsi128_si256(_mm_setr_epi8(
            2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1,
        ));
        // Y = R·Y_R + G·(Y_G - ¼) + B·Y_B + G·¼: every factor fits i16.
        let y_rg = pair(Y_R, Y_G - (1 << 14));
        let y_bg = pair(Y_B, 1 << 14);
        let cb_rg = pair(-CB_R, -CB_G);
        let cr_gb = pair(-CR_G, -CR_B);
        let half = _mm256_set1_epi32(HALF);
        let round = _mm256_set1_epi32(CBCR_ROUND);
        let n = y.len();
        let mut i = 0;
        // Loads read 52 bytes from pixel i.
        while i + 16 <= n && 3 * i + 52 <= rgb.len() {
            // SAFETY: the loads end at `3 i + 52 <= rgb.len()`, the
            // stores at `i + 16 <= n`, every output's length.
            unsafe {
                let p = rgb.as_ptr().add(3 * i);
                // Lanes: pixels 0-3 | 8-11 and 4-7 | 12-15.
                let a = _mm256_loadu2_m128i(p.add(24) as *const __m128i, p as *const __m128i);
                let b =
                    _mm256_loadu2_m128i(p.add(36) as *const __m128i, p.add(12) as *const __m128i);
                let conv = |v: __m256i| {
                    let vrg = _mm256_shuffle_epi8(v, rg);
                    let vbg = _mm256_shuffle_epi8(v, bg);
                    let vgb = _mm256_shuffle_epi8(v, gb);
                    let vr = _mm256_slli_epi32::<15>(_mm256_shuffle_epi8(v, r32));
                    let vb = _mm256_slli_epi32::<15>(_mm256_shuffle_epi8(v, b32));
                    let yy = _mm256_add_epi32(
                        _mm256_add_epi32(
                            _mm256_madd_epi16(vrg, y_rg),
                            _mm256_madd_epi16(vbg, y_bg),
                        ),
                        half,
                    );
                    let cbv = _mm256_add_epi32(
                        _mm256_add_epi32(_mm256_madd_epi16(vrg, cb_rg), vb),
                        round,
                    );
                    let crv = _mm256_add_epi32(
                        _mm256_add_epi32(_mm256_madd_epi16(vgb, cr_gb), vr),
                        round,
                    );
                    (
                        _mm256_srli_epi32::<16>(yy),
                        _mm256_srli_epi32::<16>(cbv),
                        _mm256_srli_epi32::<16>(crv),
                    )
                };
                let (ya, cba, cra) = conv(a);
                let (yb, cbb, crb) = conv(b);
                store16(y.as_mut_ptr().add(i), ya, yb);
                store16(cb.as_mut_ptr().add(i), cba, cbb);
                store16(cr.as_mut_ptr().add(i), cra, crb);
            }
            i += 16;
        }
        i
    }

    /// The dword pair `(lo, hi)` of i16 factors, for `madd`.
    #[target_feature(enable = "avx2")]
    fn pair(lo: i32, hi: i32) -> __m256i {
        _mm256_set1_epi32((lo & 0xFFFF) | (hi << 16))
    }

    /// Packs two registers of 8 dwords (pixels 0-3 | 8-11, 4-7 | 12-15)
    /// into 16 bytes in order and stores them.
    ///
    /// # Safety
    /// `dst` is valid for 16 bytes of writes.
    #[target_feature(enable = "avx2")]
    unsafe fn store16(dst: *mut u8, a: __m256i, b: __m256i) {
        let w = _mm256_packus_epi32(a, b);
        let bytes = _mm256_packus_epi16(w, w);
        let bytes = _mm256_permute4x64_epi64::<0b1000>(bytes);
        // SAFETY: the caller's promise.
        unsafe { _mm_storeu_si128(dst as *mut __m128i, _mm256_castsi256_si128(bytes)) };
    }

    /// 2x2 downsampling of 16 outputs a step; returns the outputs done.
    ///
    /// # Safety
    /// The CPU must support AVX2; both rows hold `2 * out.len()` bytes.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn downsample_h2v2(row0: &[u8], row1: &[u8], out: &mut [u8]) -> usize {
        let ones = _mm256_set1_epi8(1);
        let bias = _mm256_set1_epi32(0x0002_0001);
        let n = out.len() / 16 * 16;
        let mut i = 0;
        while i < n {
            // SAFETY: `2 i + 32 <= 2 n <= row lengths`, `i + 16 <= out.len()`.
            unsafe {
                let a = _mm256_loadu_si256(row0.as_ptr().add(2 * i) as *const __m256i);
                let b = _mm256_loadu_si256(row1.as_ptr().add(2 * i) as *const __m256i);
                let s =
                    _mm256_add_epi16(_mm256_maddubs_epi16(a, ones), _mm256_maddubs_epi16(b, ones));
                let s = _mm256_srli_epi16::<2>(_mm256_add_epi16(s, bias));
                let bytes = _mm256_permute4x64_epi64::<0b1000>(_mm256_packus_epi16(s, s));
                _mm_storeu_si128(
                    out.as_mut_ptr().add(i) as *mut __m128i,
                    _mm256_castsi256_si128(bytes),
                );
            }
            i += 16;
        }
        n
    }

    /// 2x1 downsampling of 16 outputs a step; returns the outputs done.
    ///
    /// # Safety
    /// The CPU must support AVX2; `row` holds `2 * out.len()` bytes.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn downsample_h2v1(row: &[u8], out: &mut [u8]) -> usize {
        let ones = _mm256_set1_epi8(1);
        let bias = _mm256_set1_epi32(0x0001_0000);
        let n = out.len() / 16 * 16;
        let mut i = 0;
        while i < n {
            // SAFETY: `2 i + 32 <= 2 n <= row.len()`, `i + 16 <= out.len()`.
            unsafe {
                let a = _mm256_loadu_si256(row.as_ptr().add(2 * i) as *const __m256i);
                let s = _mm256_add_epi16(_mm256_maddubs_epi16(a, ones), bias);
                let s = _mm256_srli_epi16::<1>(s);
                let bytes = _mm256_permute4x64_epi64::<0b1000>(_mm256_packus_epi16(s, s));
                _mm_storeu_si128(
                    out.as_mut_ptr().add(i) as *mut __m128i,
                    _mm256_castsi256_si128(bytes),
                );
            }
            i += 16;
        }
        n
    }

    /// Transposes the 8x8 words of each 128-bit lane of `r`.
    #[target_feature(enable = "avx2")]
    fn transpose(r: &mut [__m256i; 8]) {
        let t0 = _mm256_unpacklo_epi16(r[0], r[1]);
        let t1 = _mm256_unpackhi_epi16(r[0], r[1]);
        let t2 = _mm256_unpacklo_epi16(r[2], r[3]);
        let t3 = _mm256_unpackhi_epi16(r[2], r[3]);
        let t4 = _mm256_unpacklo_epi16(r[4], r[5]);
        let t5 = _mm256_unpackhi_epi16(r[4], r[5]);
        let t6 = _mm256_unpacklo_epi16(r[6], r[7]);
        let t7 = _mm256_unpackhi_epi16(r[6], r[7]);
        let u0 = _mm256_unpacklo_epi32(t0, t2);
        let u1 = _mm256_unpackhi_epi32(t0, t2);
        let u2 = _mm256_unpacklo_epi32(t1, t3);
        let u3 = _mm256_unpackhi_epi32(t1, t3);
        let u4 = _mm256_unpacklo_epi32(t4, t6);
        let u5 = _mm256_unpackhi_epi32(t4, t6);
        let u6 = _mm256_unpacklo_epi32(t5, t7);
        let u7 = _mm256_unpackhi_epi32(t5, t7);
        r[0] = _mm256_unpacklo_epi64(u0, u4);
        r[1] = _mm256_unpackhi_epi64(u0, u4);
        r[2] = _mm256_unpacklo_epi64(u1, u5);
        r[3] = _mm256_unpackhi_epi64(u1, u5);
        r[4] = _mm256_unpacklo_epi64(u2, u6);
        r[5] = _mm256_unpackhi_epi64(u2, u6);
        r[6] = _mm256_unpacklo_epi64(u3, u7);
        r[7] = _mm256_unpackhi_epi64(u3, u7);
    }

    /// `madd` of the interleaved words of `a` and `b` by `(fa, fb)`,
    /// descaled by `N` and packed back to words.
    #[target_feature(enable = "avx2")]
    fn mul2<const N: i32>(a: __m256i, b: __m256i, fa: i32, fb: i32) -> __m256i {
        let (lo, hi) = (_mm256_unpacklo_epi16(a, b), _mm256_unpackhi_epi16(a, b));
        let f = pair(fa, fb);
        let r = _mm256_set1_epi32(1 << (N - 1));
        let lo = _mm256_srai_epi32::<N>(_mm256_add_epi32(_mm256_madd_epi16(lo, f), r));
        let hi = _mm256_srai_epi32::<N>(_mm256_add_epi32(_mm256_madd_epi16(hi, f), r));
        _mm256_packs_epi32(lo, hi)
    }

    /// Sum of two `madd`s of interleaved word pairs, descaled by `N`, packed.
    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments)]
    fn mul4<const N: i32>(
        a: __m256i,
        b: __m256i,
        fa: i32,
        fb: i32,
        c: __m256i,
        d: __m256i,
        fc: i32,
        fd: i32,
    ) -> __m256i {
        let f1 = pair(fa, fb);
        let f2 = pair(fc, fd);
        let r = _mm256_set1_epi32(1 << (N - 1));
        let lo = _mm256_add_epi32(
            _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), f1),
            _mm256_madd_epi16(_mm256_unpacklo_epi16(c, d), f2),
        );
        let hi = _mm256_add_epi32(
            _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), f1),
            _mm256_madd_epi16(_mm256_unpackhi_epi16(c, d), f2),
        );
        let lo = _mm256_srai_epi32::<N>(_mm256_add_epi32(lo, r));
        let hi = _mm256_srai_epi32::<N>(_mm256_add_epi32(hi, r));
        _mm256_packs_epi32(lo, hi)
    }

    /// One 1-D islow DCT pass across the 8 registers (16 lanes each);
    /// `N` is the descale of the multiplied outputs, `FIRST` the pass.
    #[target_feature(enable = "avx2")]
    fn dct_pass<const N: i32, const FIRST: bool>(d: &mut [__m256i; 8]) {
        let tmp0 = _mm256_add_epi16(d[0], d[7]);
        let tmp7 = _mm256_sub_epi16(d[0], d[7]);
        let tmp1 = _mm256_add_epi16(d[1], d[6]);
        let tmp6 = _mm256_sub_epi16(d[1], d[6]);
        let tmp2 = _mm256_add_epi16(d[2], d[5]);
        let tmp5 = _mm256_sub_epi16(d[2], d[5]);
        let tmp3 = _mm256_add_epi16(d[3], d[4]);
        let tmp4 = _mm256_sub_epi16(d[3], d[4]);
        let tmp10 = _mm256_add_epi16(tmp0, tmp3);
        let tmp13 = _mm256_sub_epi16(tmp0, tmp3);
        let tmp11 = _mm256_add_epi16(tmp1, tmp2);
        let tmp12 = _mm256_sub_epi16(tmp1, tmp2);
        if FIRST {
            d[0] = _mm256_slli_epi16::<2>(_mm256_add_epi16(tmp10, tmp11));
            d[4] = _mm256_slli_epi16::<2>(_mm256_sub_epi16(tmp10, tmp11));
        } else {
            let two = _mm256_set1_epi16(2);
            d[0] = _mm256_srai_epi16::<2>(_mm256_add_epi16(_mm256_add_epi16(tmp10, tmp11), two));
            d[4] = _mm256_srai_epi16::<2>(_mm256_add_epi16(_mm256_sub_epi16(tmp10, tmp11), two));
        }
        d[2] = mul2::<N>(tmp13, tmp12, F_0_541 + F_0_765, F_0_541);
        d[6] = mul2::<N>(tmp13, tmp12, F_0_541, F_0_541 - F_1_847);
        let z3 = _mm256_add_epi16(tmp4, tmp6);
        let z4 = _mm256_add_epi16(tmp5, tmp7);
        // out7 = tmp4·(0.298 - 0.899) + tmp7·(-0.899) + z3·(1.175 - 1.961) + z4·1.175
        d[7] = mul4::<N>(
            tmp4,
            tmp7,
            F_0_298 - F_0_899,
            -F_0_899,
            z3,
            z4,
            F_1_175 - F_1_961,
            F_1_175,
        );
        // out1 = tmp4·(-0.899) + tmp7·(1.501 - 0.899) + z3·1.175 + z4·(1.175 - 0.390)
        d[1] = mul4::<N>(
            tmp4,
            tmp7,
            -F_0_899,
            F_1_501 - F_0_899,
            z3,
            z4,
            F_1_175,
            F_1_175 - F_0_390,
        );
        // out5 = tmp5·(2.053 - 2.562) + tmp6·(-2.562) + z3·1.175 + z4·(1.175 - 0.390)
        d[5] = mul4::<N>(
            tmp5,
            tmp6,
            F_2_053 - F_2_562,
            -F_2_562,
            z3,
            z4,
            F_1_175,
            F_1_175 - F_0_390,
        );
        // out3 = tmp5·(-2.562) + tmp6·(3.072 - 2.562) + z3·(1.175 - 1.961) + z4·1.175
        d[3] = mul4::<N>(
            tmp5,
            tmp6,
            -F_2_562,
            F_3_072 - F_2_562,
            z3,
            z4,
            F_1_175 - F_1_961,
            F_1_175,
        );
    }

    /// DCT and quantisation of two blocks a step; returns the blocks done.
    ///
    /// # Safety
    /// The CPU must support AVX2; `plane` holds 8 rows of `stride` bytes
    /// (the last at least `8 * out.len()`) from its start.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fdct_quantize(
        plane: &[u8],
        stride: usize,
        div: &Divisors,
        out: &mut [[i16; 64]],
    ) -> usize {
        let n = out.len() / 2 * 2;
        let c128 = _mm256_set1_epi16(128);
        let mut b = 0;
        while b < n {
            let mut r = [_mm256_setzero_si256(); 8];
            for (j, reg) in r.iter_mut().enumerate() {
                // SAFETY: row `j` of blocks `b, b + 1` is 16 bytes at
                // `j stride + 8 b`, within `plane` (caller's promise).
                let v = unsafe {
                    _mm_loadu_si128(plane.as_ptr().add(j * stride + 8 * b) as *const __m128i)
                };
                *reg = _mm256_sub_epi16(_mm256_cvtepu8_epi16(v), c128);
            }
            transpose(&mut r);
            dct_pass::<11, true>(&mut r);
            transpose(&mut r);
            dct_pass::<15, false>(&mut r);
            let (first, second) = out[b..b + 2].split_at_mut(1);
            for (v, &x) in r.iter().enumerate() {
                // SAFETY: each table holds 64 words; row `v` is 8 of them.
                let (recip, corr, scale) = unsafe {
                    (
                        _mm256_broadcastsi128_si256(_mm_loadu_si128(
                            div.recip.as_ptr().add(8 * v) as *const __m128i
                        )),
                        _mm256_broadcastsi128_si256(_mm_loadu_si128(
                            div.corr.as_ptr().add(8 * v) as *const __m128i
                        )),
                        _mm256_broadcastsi128_si256(_mm_loadu_si128(
                            div.scale.as_ptr().add(8 * v) as *const __m128i
                        )),
                    )
                };
                let t = _mm256_add_epi16(_mm256_abs_epi16(x), corr);
                let t = _mm256_mulhi_epu16(_mm256_mulhi_epu16(t, recip), scale);
                let q = _mm256_sign_epi16(t, x);
                // SAFETY: row `v` of each block is 8 words at `8 v`.
                unsafe {
                    _mm_storeu_si128(
                        first[0].as_mut_ptr().add(8 * v) as *mut __m128i,
                        _mm256_castsi256_si128(q),
                    );
                    _mm_storeu_si128(
                        second[0].as_mut_ptr().add(8 * v) as *mut __m128i,
                        _mm256_extracti128_si256::<1>(q),
                    );
                }
            }
            b += 2;
        }
        n
    }

    /// Zigzag by a scalar gather, the nonzero mask by vector compares.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn zigzag(block: &[i16; 64], out: &mut [i16; 64]) -> u64 {
        for (o, &z) in out.iter_mut().zip(ZIGZAG.iter()) {
            *o = block[usize::from(z)];
        }
        let zero = _mm256_setzero_si256();
        let mut mask = 0u64;
        for half in 0..2 {
            // SAFETY: `out` holds 64 words: two halves of two registers.
            let (a, b) = unsafe {
                (
                    _mm256_loadu_si256(out.as_ptr().add(32 * half) as *const __m256i),
                    _mm256_loadu_si256(out.as_ptr().add(32 * half + 16) as *const __m256i),
                )
            };
            let z = _mm256_packs_epi16(_mm256_cmpeq_epi16(a, zero), _mm256_cmpeq_epi16(b, zero));
            let z = _mm256_permute4x64_epi64::<0b11_01_10_00>(z);
            let zeros = _mm256_movemask_epi8(z) as u32;
            mask |= u64::from(!zeros) << (32 * half);
        }
        mask
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::ZIGZAG;
    use std::arch::x86_64::*;

    /// [`ZIGZAG`] as words, the permute indices.
    static ZIGZAG16: [i16; 64] = {
        let mut z = [0i16; 64];
        let mut i = 0;
        while i < 64 {
            z[i] = ZIGZAG[i] as i16;
            i += 1;
        }
        z
    };

    /// Zigzag by two-register word permutes, the mask by tests.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F and BW.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn zigzag(block: &[i16; 64], out: &mut [i16; 64]) -> u64 {
        let idx = &ZIGZAG16;
        // SAFETY: `block`, `out` and `idx` hold 64 words: two registers.
        unsafe {
            let lo = _mm512_loadu_si512(block.as_ptr() as *const __m512i);
            let hi = _mm512_loadu_si512(block.as_ptr().add(32) as *const __m512i);
            let i0 = _mm512_loadu_si512(idx.as_ptr() as *const __m512i);
            let i1 = _mm512_loadu_si512(idx.as_ptr().add(32) as *const __m512i);
            let a = _mm512_permutex2var_epi16(lo, i0, hi);
            let b = _mm512_permutex2var_epi16(lo, i1, hi);
            _mm512_storeu_si512(out.as_mut_ptr() as *mut __m512i, a);
            _mm512_storeu_si512(out.as_mut_ptr().add(32) as *mut __m512i, b);
            let ma = _mm512_test_epi16_mask(a, a);
            let mb = _mm512_test_epi16_mask(b, b);
            u64::from(ma) | (u64::from(mb) << 32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels;
    use crate::testdata::bytes;

    #[test]
    fn colour_constants_are_libjpegs() {
        assert_eq!((Y_R, Y_G, Y_B), (19595, 38470, 7471));
        assert_eq!((CB_R, CB_G, CR_G, CR_B), (11059, 21709, 27439, 5329));
        // Grey stays grey, the extremes stay in range.
        for v in 0..=255u8 {
            assert_eq!(ycc(v, v, v), (v, 128, 128));
        }
        assert_eq!(ycc(255, 0, 0), (76, 85, 255));
        assert_eq!(ycc(0, 0, 255), (29, 255, 107));
    }

    #[test]
    fn rgb_to_ycc_levels_match_scalar() {
        for n in [0usize, 1, 15, 16, 17, 31, 33, 100, 1001] {
            let rgb = bytes(3 * n, n as u64 + 7);
            let mut want = (vec![0; n], vec![0; n], vec![0; n]);
            rgb_to_ycc_scalar(&rgb, &mut want.0, &mut want.1, &mut want.2);
            for level in levels() {
                let mut got = (vec![0; n], vec![0; n], vec![0; n]);
                rgb_to_ycc(level, &rgb, &mut got.0, &mut got.1, &mut got.2);
                assert_eq!(got, want, "{level:?} n={n}");
            }
        }
    }

    #[test]
    fn downsampling_levels_match_scalar() {
        for n in [0usize, 1, 15, 16, 17, 40, 333] {
            let a = bytes(2 * n, 3 + n as u64);
            let b = bytes(2 * n, 5 + n as u64);
            let mut want = vec![0; n];
            downsample_h2v2_scalar(&a, &b, &mut want);
            let mut want1 = vec![0; n];
            downsample_h2v1_scalar(&a, &mut want1);
            for level in levels() {
                let mut got = vec![0; n];
                downsample_h2v2(level, &a, &b, &mut got);
                assert_eq!(got, want, "{level:?} n={n}");
                downsample_h2v1(level, &a, &mut got);
                assert_eq!(got, want1, "{level:?} n={n}");
            }
        }
        let mut o = [0u8; 2];
        downsample_h2v2(Level::SCALAR, &[1, 2, 3, 4], &[5, 6, 7, 8], &mut o);
        // (1+2+5+6+1)>>2 = 3, (3+4+7+8+2)>>2 = 6
        assert_eq!(o, [3, 6]);
        downsample_h2v1(Level::SCALAR, &[1, 2, 3, 4], &mut o);
        assert_eq!(o, [1, 4]);
    }

    #[test]
    fn reciprocal_quantisation_rounds_half_away_from_zero() {
        // libjpeg's reference: (|x| + d/2) / d with the sign restored.
        for q in 1..=255u16 {
            let d = Divisors::new(&[q; 64]);
            let div = i32::from(q) * 8;
            for x in -16384..=16384i32 {
                let want = (x.abs() + div / 2) / div * x.signum();
                assert_eq!(i32::from(d.quantize(0, x as i16)), want, "q={q} x={x}");
            }
        }
    }

    #[test]
    fn flat_block_is_dc_only() {
        let plane = [200u8; 64];
        let div = Divisors::new(&[1; 64]);
        let mut out = [[0i16; 64]; 1];
        fdct_quantize(Level::SCALAR, &plane, 8, &div, &mut out);
        // DC = 8 · (200 - 128): the DCT's 64 · 72 scaled by 8, divided by 8.
        assert_eq!(out[0][0], 576);
        assert!(out[0][1..].iter().all(|&c| c == 0));
    }

    #[test]
    fn dct_is_close_to_the_float_dct() {
        let src = bytes(64, 99);
        let mut data = [0i32; 64];
        for (d, &s) in data.iter_mut().zip(&src) {
            *d = i32::from(s) - 128;
        }
        let mut got = data;
        fdct_islow(&mut got);
        for v in 0..8 {
            for u in 0..8 {
                let c = |k: usize| if k == 0 { 1.0 / 2f64.sqrt() } else { 1.0 };
                let mut s = 0.0;
                for y in 0..8 {
                    for x in 0..8 {
                        s += f64::from(data[y * 8 + x])
                            * ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos()
                            * ((2 * y + 1) as f64 * v as f64 * std::f64::consts::PI / 16.0).cos();
                    }
                }
                // islow is scaled by 8 relative to the orthonormal DCT.
                let want = 2.0 * c(u) * c(v) * s;
                let g = f64::from(got[v * 8 + u]);
                assert!((g - want).abs() <= 2.0, "{u},{v}: {g} vs {want}");
            }
        }
    }

    #[test]
    fn fdct_quantize_levels_match_scalar() {
        for blocks in [1usize, 2, 3, 8, 9] {
            for (seed, q) in [(1u64, 1u16), (2, 16), (3, 57), (4, 255)] {
                let stride = 8 * blocks + 5;
                let mut plane = bytes(8 * stride, seed * 31 + blocks as u64);
                if seed == 4 {
                    // Extremes: all 0 and all 255 blocks.
                    plane[..stride * 4].fill(0);
                    plane[stride * 4..].fill(255);
                }
                let mut table = [0u16; 64];
                for (i, t) in table.iter_mut().enumerate() {
                    *t = (q + i as u16 * 3).clamp(1, 255);
                }
                let div = Divisors::new(&table);
                let mut want = vec![[0i16; 64]; blocks];
                fdct_quantize_scalar(&plane, stride, &div, &mut want);
                for level in levels() {
                    let mut got = vec![[0i16; 64]; blocks];
                    fdct_quantize(level, &plane, stride, &div, &mut got);
                    assert_eq!(got, want, "{level:?} blocks={blocks} q={q}");
                }
            }
        }
        // Every extreme block: all 0, all 255, and a checkerboard.
        let div = Divisors::new(&[1; 64]);
        for pattern in 0..4u8 {
            let plane: Vec<u8> = (0..128usize)
                .map(|i| match pattern {
                    0 => 0,
                    1 => 255,
                    2 => {
                        if (i % 16 + i / 16) % 2 == 0 {
                            0
                        } else {
                            255
                        }
                    }
                    _ => {
                        if (i % 16) < 4 {
                            255
                        } else {
                            0
                        }
                    }
                })
                .collect();
            let mut want = vec![[0i16; 64]; 2];
            fdct_quantize_scalar(&plane, 16, &div, &mut want);
            for level in levels() {
                let mut got = vec![[0i16; 64]; 2];
                fdct_quantize(level, &plane, 16, &div, &mut got);
                assert_eq!(got, want, "{level:?} pattern {pattern}");
            }
        }
    }

    #[test]
    fn zigzag_levels_match_scalar() {
        for seed in 0..50u64 {
            let raw = bytes(64, seed + 1);
            let mut block = [0i16; 64];
            for (b, &r) in block.iter_mut().zip(&raw) {
                // Mostly zeros, some negatives.
                *b = if r % 3 == 0 { i16::from(r) - 128 } else { 0 };
            }
            let mut want = [0i16; 64];
            let wm = zigzag_scalar(&block, &mut want);
            assert_eq!(
                wm.count_ones() as usize,
                block.iter().filter(|&&c| c != 0).count()
            );
            for level in levels() {
                let mut got = [0i16; 64];
                let gm = zigzag(level, &block, &mut got);
                assert_eq!((got, gm), (want, wm), "{level:?}");
            }
        }
        let mut natural = [0i16; 64];
        for (i, n) in natural.iter_mut().enumerate() {
            *n = i as i16;
        }
        let mut z = [0i16; 64];
        zigzag(Level::SCALAR, &natural, &mut z);
        assert_eq!(&z[..10], &[0, 1, 8, 16, 9, 2, 3, 10, 17, 24]);
    }
}
