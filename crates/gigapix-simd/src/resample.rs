//! Kernels: separable resampling of 8-bit samples with fixed-point
//! coefficients.
//!
//! Both passes use signed 16-bit coefficients with [`WEIGHT_BITS`]
//! fractional bits (the weights of one output sample sum to exactly
//! `1 << WEIGHT_BITS`), multiply 8-bit samples widened to 16 bits and
//! accumulate in 32 bits, then round to nearest and clamp to `0..=255`.
//! Every level computes exactly the same integers, so results never depend
//! on the level or on where an output lies in a row.
//!
//! - [`vertical_u8`]: one output row from `n` input rows. The AVX2 path runs
//!   along x, 32 samples at a time, over pairs of taps with `pmaddwd` (the
//!   bytes of two rows interleaved, times a broadcast coefficient pair) in
//!   four 8-lane accumulators, prefetching each row a few lines ahead (the
//!   rows are more streams than the hardware prefetcher follows; this
//!   doubled the speed of large reductions).
//! - [`horizontal_u8`]: one output row from one input row, per output pixel
//!   for 1 to 4 bands. The AVX2 path takes four taps at once: 16 input bytes
//!   broadcast to both halves, a byte shuffle that pairs taps `(k, k+1)` of
//!   each band as 16-bit lanes in the low half and `(k+2, k+3)` in the high
//!   half, then `pmaddwd` with the matching coefficient pairs (kept
//!   pre-broadcast in [`Taps`]). Every output runs the same number of
//!   groups (zero-padded), two outputs share one reduction and store, and
//!   only the last few outputs of a row, whose 16-byte loads would pass the
//!   end of the source, take the scalar path.

use crate::{Level, dispatch};

/// Fractional bits of the fixed-point coefficients.
pub const WEIGHT_BITS: u32 = 14;
/// The fixed-point one: the weights of one output sample sum to this.
pub const WEIGHT_ONE: i32 = 1 << WEIGHT_BITS;
const ROUND: i32 = 1 << (WEIGHT_BITS - 1);

#[inline(always)]
fn clamp_u8(acc: i32) -> u8 {
    ((acc + ROUND) >> WEIGHT_BITS).clamp(0, 255) as u8
}

/// Per-output tap tables of a horizontal pass.
///
/// Output pixel `j` reads input pixels `start[j] .. start[j] + count[j]`
/// with coefficients `weights[j * stride ..][..count[j]]`; the rest of each
/// `stride`-long run of weights is zero, and `stride` is a multiple of 4.
/// Both the first and the last tap of consecutive outputs never move left
/// (checked by [`Taps::new`]), so the input a run of outputs reads is the
/// span from the first output's first tap to the last output's last.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Taps {
    start: Vec<u32>,
    count: Vec<u32>,
    weights: Vec<i16>,
    stride: usize,
    /// The weights as the AVX2 kernel multiplies them: per output and group
    /// of 4 taps, the pair (w0, w1) four times then (w2, w3) four times,
    /// each pair one i32.
    wide: Vec<i32>,
}

impl Taps {
    /// Tables from per-output `start`, `count` and zero-padded `weights`
    /// (`stride` per output). `None` unless `stride` is a non-zero multiple
    /// of 4, the lengths agree, every count is in `1..=stride`, and starts
    /// and ends (`start + count`) never decrease.
    pub fn new(start: Vec<u32>, count: Vec<u32>, weights: Vec<i16>, stride: usize) -> Option<Taps> {
        let ok = stride > 0
            && stride.is_multiple_of(4)
            && start.len() == count.len()
            && weights.len() == start.len() * stride
            && count.iter().all(|&c| c >= 1 && c as usize <= stride)
            && start
                .iter()
                .all(|&s| s.checked_add(stride as u32).is_some())
            && (1..start.len()).all(|j| {
                start[j] >= start[j - 1] && start[j] + count[j] >= start[j - 1] + count[j - 1]
            });
        if !ok {
            return None;
        }
        let pair = |a: i16, b: i16| (a as u16 as u32 | ((b as u16 as u32) << 16)) as i32;
        let wide = weights
            .chunks_exact(4)
            .flat_map(|q| {
                let (lo, hi) = (pair(q[0], q[1]), pair(q[2], q[3]));
                [lo, lo, lo, lo, hi, hi, hi, hi]
            })
            .collect();
        Some(Taps {
            start,
            count,
            weights,
            stride,
            wide,
        })
    }

    /// Number of output pixels.
    pub fn len(&self) -> usize {
        self.start.len()
    }

    /// `true` if there are no output pixels.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }

    /// The first input pixel output `j` reads.
    pub fn start(&self, j: usize) -> u32 {
        self.start[j]
    }

    /// The number of input pixels output `j` reads.
    pub fn count(&self, j: usize) -> u32 {
        self.count[j]
    }

    /// Coefficients per output in the weight table (a multiple of 4).
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The coefficients of output pixel `j` (exactly `count(j)` of them).
    pub fn weights_of(&self, j: usize) -> &[i16] {
        &self.weights[j * self.stride..j * self.stride + self.count[j] as usize]
    }
}

/// One output row of a vertical pass: `out[i] = Σₖ weights[k]·rows[k][i]`,
/// rounded and clamped to 8 bits. Every row must be at least `out.len()`
/// long, and there must be as many rows as weights (at least one).
pub fn vertical_u8(level: Level, rows: &[&[u8]], weights: &[i16], out: &mut [u8]) {
    assert_eq!(rows.len(), weights.len(), "one weight per row");
    assert!(!rows.is_empty(), "at least one tap");
    assert!(rows.iter().all(|r| r.len() >= out.len()), "rows too short");
    // The lengths the AVX2 kernel relies on were asserted above.
    dispatch!(
        level,
        Avx2 => avx2::vertical_u8(rows, weights, out),
        _ => vertical_u8_scalar(rows, weights, out, 0),
    )
}

fn vertical_u8_scalar(rows: &[&[u8]], weights: &[i16], out: &mut [u8], from: usize) {
    for (i, o) in out.iter_mut().enumerate().skip(from) {
        let mut acc = 0i32;
        for (r, &w) in rows.iter().zip(weights) {
            acc += r[i] as i32 * w as i32;
        }
        *o = clamp_u8(acc);
    }
}

/// One output row of a horizontal pass over `bands`-band pixels.
///
/// `src` holds input pixels from `src_x0` on (pixel `p` of the input row at
/// `src[(p - src_x0) * bands ..]`); `out` receives output pixels
/// `first .. first + out.len() / bands` of `taps`. Every tap they read must
/// lie within `src`.
pub fn horizontal_u8(
    level: Level,
    taps: &Taps,
    first: usize,
    src: &[u8],
    src_x0: usize,
    bands: usize,
    out: &mut [u8],
) {
    assert!(bands > 0 && out.len().is_multiple_of(bands), "whole pixels");
    let n = out.len() / bands;
    if n == 0 {
        return;
    }
    assert!(first + n <= taps.len(), "outputs beyond the tap table");
    // Starts and ends never decrease (Taps::new), so two checks cover all.
    let last = first + n - 1;
    assert!(
        taps.start[first] as usize >= src_x0
            && (taps.start[last] + taps.count[last]) as usize - src_x0 <= src.len() / bands,
        "taps outside the source row"
    );
    // Every tap of the outputs lies in `src` (asserted above, with the
    // monotonic starts and ends `Taps::new` guarantees), and the AVX2
    // kernel checks its 16-byte loads against `src.len()`.
    if bands <= 4 {
        return dispatch!(
            level,
            Avx2 => avx2::horizontal_u8(taps, first, src, src_x0, bands, out),
            _ => horizontal_u8_scalar(taps, first, src, src_x0, bands, out, 0),
        );
    }
    horizontal_u8_scalar(taps, first, src, src_x0, bands, out, 0);
}

fn horizontal_u8_scalar(
    taps: &Taps,
    first: usize,
    src: &[u8],
    src_x0: usize,
    bands: usize,
    out: &mut [u8],
    from: usize,
) {
    let n = out.len() / bands;
    for o in from..n {
        let j = first + o;
        horizontal_one(
            taps,
            j,
            src,
            src_x0,
            bands,
            &mut out[o * bands..(o + 1) * bands],
        );
    }
}

#[inline(always)]
fn horizontal_one(taps: &Taps, j: usize, src: &[u8], src_x0: usize, bands: usize, px: &mut [u8]) {
    let s = (taps.start[j] as usize - src_x0) * bands;
    let w = taps.weights_of(j);
    for (b, o) in px.iter_mut().enumerate() {
        let mut acc = 0i32;
        for (k, &wk) in w.iter().enumerate() {
            acc += src[s + k * bands + b] as i32 * wk as i32;
        }
        *o = clamp_u8(acc);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{ROUND, Taps, WEIGHT_BITS};
    use std::arch::x86_64::*;

    /// How far ahead of the loads the vertical pass prefetches (bytes).
    const PREFETCH: usize = 256;

    /// # Safety
    /// The CPU must support AVX2; `rows` and `weights` have the same
    /// non-zero length and every row is at least `out.len()` long.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn vertical_u8(rows: &[&[u8]], weights: &[i16], out: &mut [u8]) {
        let n = out.len();
        // Tap pairs: two row pointers and the coefficient pair broadcast (an
        // odd last tap pairs with itself at weight 0).
        let mut pairs: Vec<(*const u8, *const u8, __m256i)> =
            Vec::with_capacity(rows.len() / 2 + 1);
        for k in (0..rows.len()).step_by(2) {
            let (w1, r1) = if k + 1 < rows.len() {
                (weights[k + 1], rows[k + 1])
            } else {
                (0, rows[k])
            };
            let pair = (weights[k] as u16 as u32 | ((w1 as u16 as u32) << 16)) as i32;
            pairs.push((rows[k].as_ptr(), r1.as_ptr(), _mm256_set1_epi32(pair)));
        }
        let zero = _mm256_setzero_si256();
        let round = _mm256_set1_epi32(ROUND);
        let mut i = 0;
        while i + 32 <= n {
            let mut a0 = round;
            let mut a1 = round;
            let mut a2 = round;
            let mut a3 = round;
            for &(p0, p1, wv) in &pairs {
                // Many rows are read in lockstep, more streams than the
                // hardware prefetcher follows: fetch a few lines ahead.
                // Prefetching never faults, and the addresses are only
                // computed (wrapping), never dereferenced.
                _mm_prefetch::<_MM_HINT_T0>(p0.wrapping_add(i + PREFETCH) as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(p1.wrapping_add(i + PREFETCH) as *const i8);
                // SAFETY: i + 32 <= out.len() <= each row's length, and the
                // pointers are the rows' starts.
                let (x, y) = unsafe {
                    (
                        _mm256_loadu_si256(p0.add(i) as *const __m256i),
                        _mm256_loadu_si256(p1.add(i) as *const __m256i),
                    )
                };
                let lo = _mm256_unpacklo_epi8(x, y);
                let hi = _mm256_unpackhi_epi8(x, y);
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_unpacklo_epi8(lo, zero), wv));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_unpackhi_epi8(lo, zero), wv));
                a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_unpacklo_epi8(hi, zero), wv));
                a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_unpackhi_epi8(hi, zero), wv));
            }
            let s0 = _mm256_srai_epi32::<{ WEIGHT_BITS as i32 }>(a0);
            let s1 = _mm256_srai_epi32::<{ WEIGHT_BITS as i32 }>(a1);
            let s2 = _mm256_srai_epi32::<{ WEIGHT_BITS as i32 }>(a2);
            let s3 = _mm256_srai_epi32::<{ WEIGHT_BITS as i32 }>(a3);
            // Unpacks and packs both work within 128-bit lanes, so the
            // bytes come back in order.
            let p = _mm256_packus_epi16(_mm256_packs_epi32(s0, s1), _mm256_packs_epi32(s2, s3));
            // SAFETY: i + 32 <= out.len().
            unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(i) as *mut __m256i, p) };
            i += 32;
        }
        super::vertical_u8_scalar(rows, weights, out, i);
    }

    /// # Safety
    /// The CPU must support AVX2; `1 <= bands <= 4`; `taps` covers outputs
    /// `first .. first + out.len() / bands`, and every tap they read lies
    /// in `src` (pixel `p` at byte `(p - src_x0) * bands`).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn horizontal_u8(
        taps: &Taps,
        first: usize,
        src: &[u8],
        src_x0: usize,
        bands: usize,
        out: &mut [u8],
    ) {
        // Low half: taps k, k+1 of each band as 16-bit pairs; high half:
        // taps k+2, k+3. Bands beyond `bands` read zeros.
        let mut mask = [-1i8; 32];
        for half in 0..2 {
            for b in 0..bands.min(4) {
                let t = 2 * half;
                mask[half * 16 + 4 * b] = (t * bands + b) as i8;
                mask[half * 16 + 4 * b + 2] = ((t + 1) * bands + b) as i8;
            }
        }
        // SAFETY: `mask` is 32 bytes.
        let shuffle = unsafe { _mm256_loadu_si256(mask.as_ptr() as *const __m256i) };
        let n = out.len() / bands;
        // Every output runs all the groups of the stride (zero weights pad
        // them), so the loop count never varies.
        let groups = taps.stride / 4;
        let group_bytes = 4 * bands;
        let reach = (groups - 1) * group_bytes + 16;
        // Starts never decrease, so the outputs whose 16-byte loads stay in
        // `src` are a prefix; the 4-byte store of the last pixel may need
        // the scalar path too.
        let starts = &taps.start[first..first + n];
        let mut fast =
            starts.partition_point(|&st| (st as usize - src_x0) * bands + reach <= src.len());
        while fast > 0 && (fast - 1) * bands + 4 > out.len() {
            fast -= 1;
        }
        let sp = src.as_ptr();
        let op = out.as_mut_ptr();
        // SAFETY: `wide` holds 8 i32 per group, `stride / 4` groups per
        // output (built by Taps::new); outputs first..first + n exist.
        let wbase = unsafe { taps.wide.as_ptr().add(first * groups * 8) };
        // One output's sums, both halves added in the caller.
        let one = |o: usize| -> __m256i {
            let s = (starts[o] as usize - src_x0) * bands;
            let mut acc = _mm256_setzero_si256();
            for g in 0..groups {
                // SAFETY: o < fast, so s + g·group_bytes + 16 <= s + reach
                // <= src.len(); group g's 8 i32 lie in output o's run.
                let (px, wv) = unsafe {
                    (
                        _mm256_broadcastsi128_si256(_mm_loadu_si128(
                            sp.add(s + g * group_bytes) as *const __m128i
                        )),
                        _mm256_loadu_si256(wbase.add((o * groups + g) * 8) as *const __m256i),
                    )
                };
                let px = _mm256_shuffle_epi8(px, shuffle);
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(px, wv));
            }
            acc
        };
        let round = _mm256_set1_epi32(ROUND);
        let mut o = 0;
        // Two outputs at a time: their halves summed and packed together.
        while o + 2 <= fast {
            let (a, b) = (one(o), one(o + 1));
            let t = _mm256_add_epi32(
                _mm256_permute2x128_si256::<0x20>(a, b),
                _mm256_permute2x128_si256::<0x31>(a, b),
            );
            let v = _mm256_srai_epi32::<{ WEIGHT_BITS as i32 }>(_mm256_add_epi32(t, round));
            let v = _mm256_packs_epi32(v, v);
            let v = _mm256_packus_epi16(v, v);
            // SAFETY: o + 1 < fast, so (o + 1)·bands + 4 <= out.len(); the
            // second store rewrites the first one's extra bytes.
            unsafe {
                _mm_storeu_si32(op.add(o * bands), _mm256_castsi256_si128(v));
                _mm_storeu_si32(op.add((o + 1) * bands), _mm256_extracti128_si256::<1>(v));
            }
            o += 2;
        }
        while o < fast {
            let a = one(o);
            let t = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256::<1>(a));
            let v = _mm_srai_epi32::<{ WEIGHT_BITS as i32 }>(_mm_add_epi32(
                t,
                _mm256_castsi256_si128(round),
            ));
            let v = _mm_packus_epi16(_mm_packs_epi32(v, v), v);
            // SAFETY: o < fast, so o·bands + 4 <= out.len().
            unsafe { _mm_storeu_si32(op.add(o * bands), v) };
            o += 1;
        }
        super::horizontal_u8_scalar(taps, first, src, src_x0, bands, out, fast);
    }
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

    /// Random weights summing to WEIGHT_ONE, some negative.
    fn weights(rng: &mut Rng, n: usize) -> Vec<i16> {
        let mut w: Vec<i16> = (0..n).map(|_| (rng.next() % 12000) as i16 - 2000).collect();
        let s: i32 = w.iter().map(|&v| v as i32).sum();
        w[0] = (w[0] as i32 + WEIGHT_ONE - s).clamp(-32768, 32767) as i16;
        w
    }

    #[test]
    fn vertical_levels_agree() {
        let mut rng = Rng(0x1234_5678_9abc);
        for &width in &[1usize, 7, 31, 32, 33, 65, 100, 257] {
            for taps in 1..=9 {
                let rows: Vec<Vec<u8>> = (0..taps)
                    .map(|_| (0..width + 3).map(|_| rng.next() as u8).collect())
                    .collect();
                let refs: Vec<&[u8]> = rows.iter().map(|r| r.as_slice()).collect();
                let w = weights(&mut rng, taps);
                let mut want = vec![0u8; width];
                vertical_u8(Level::SCALAR, &refs, &w, &mut want);
                for &l in &levels() {
                    let mut got = vec![0u8; width];
                    vertical_u8(l, &refs, &w, &mut got);
                    assert_eq!(got, want, "level {l:?} width {width} taps {taps}");
                }
            }
        }
    }

    #[test]
    fn vertical_known_values() {
        let a = [10u8; 40];
        let b = [20u8; 40];
        let mut out = [0u8; 40];
        for &l in &levels() {
            vertical_u8(l, &[&a, &b], &[8192, 8192], &mut out);
            assert!(out.iter().all(|&v| v == 15));
            // Overshoot clamps.
            vertical_u8(l, &[&a, &b], &[-16384, 32767], &mut out);
            assert!(out.iter().all(|&v| v == 30));
        }
    }

    fn random_taps(rng: &mut Rng, in_w: usize, n_out: usize, max: usize) -> Taps {
        let stride = max.div_ceil(4) * 4;
        let (mut start, mut count, mut ws) = (Vec::new(), Vec::new(), Vec::new());
        // Random monotonic spans: ends and starts never move left.
        let (mut s0, mut e0) = (0usize, 1usize);
        for _ in 0..n_out {
            let e = (e0 + (rng.next() as usize) % 3).min(in_w);
            let lo = e.saturating_sub(max).max(s0);
            let s = (lo + (rng.next() as usize) % (e - lo)).min(e - 1);
            start.push(s as u32);
            count.push((e - s) as u32);
            let mut w = weights(rng, e - s);
            w.resize(stride, 0);
            ws.extend(w);
            (s0, e0) = (s, e);
        }
        Taps::new(start, count, ws, stride).expect("valid taps")
    }

    #[test]
    fn horizontal_levels_agree() {
        let mut rng = Rng(0xfeed_beef_1234);
        for bands in 1..=5 {
            for &in_w in &[1usize, 3, 8, 17, 40, 101] {
                for &max in &[1usize, 2, 3, 5, 8, 13] {
                    let n_out = 1 + (rng.next() as usize) % 37;
                    let taps = random_taps(&mut rng, in_w, n_out, max);
                    let src: Vec<u8> = (0..in_w * bands).map(|_| rng.next() as u8).collect();
                    let first = (rng.next() as usize) % n_out;
                    let mut want = vec![0u8; (n_out - first) * bands];
                    horizontal_u8(Level::SCALAR, &taps, first, &src, 0, bands, &mut want);
                    for &l in &levels() {
                        let mut got = vec![0u8; want.len()];
                        horizontal_u8(l, &taps, first, &src, 0, bands, &mut got);
                        assert_eq!(got, want, "level {l:?} bands {bands} in_w {in_w} max {max}");
                    }
                    // An offset source window gives the same answer.
                    let x0 = taps.start(first) as usize;
                    let mut got = vec![0u8; want.len()];
                    horizontal_u8(
                        Level::SCALAR,
                        &taps,
                        first,
                        &src[x0 * bands..],
                        x0,
                        bands,
                        &mut got,
                    );
                    assert_eq!(got, want);
                }
            }
        }
    }

    #[test]
    fn horizontal_known_values() {
        // Two RGB pixels averaged.
        let taps = Taps::new(
            vec![0, 1],
            vec![2, 1],
            vec![8192, 8192, 0, 0, 16384, 0, 0, 0],
            4,
        )
        .unwrap();
        assert!(Taps::new(vec![1, 0], vec![1, 1], vec![0; 8], 4).is_none());
        let src = [10u8, 20, 30, 20, 40, 60];
        for &l in &levels() {
            let mut out = [0u8; 6];
            horizontal_u8(l, &taps, 0, &src, 0, 3, &mut out);
            assert_eq!(out, [15, 30, 45, 20, 40, 60]);
        }
    }
}
