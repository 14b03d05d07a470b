//! Row kernels of the JPEG codec: chroma upsampling and colour conversion,
//! written as plain loops over whole rows so that the compiler vectorises
//! them.
//!
//! The arithmetic is libjpeg's: "fancy" (triangle) upsampling for h2v1,
//! h1v2 and h2v2 with libjpeg's rounding biases, sample replication for
//! any other integer factor (and, as libjpeg-turbo, for h2v1 and h2v2
//! components at most 2 samples wide), and the fixed-point JFIF
//! (full-range BT.601) YCbCr→RGB conversion of `jdcolor.c` (16 fractional
//! bits).

/// `FIX(1.40200)`: Cr to R.
const CR_R: i32 = 91881;
/// `FIX(1.77200)`: Cb to B.
const CB_B: i32 = 116130;
/// `FIX(0.71414)`: Cr to G (subtracted).
const CR_G: i32 = 46802;
/// `FIX(0.34414)`: Cb to G (subtracted).
const CB_G: i32 = 22554;
/// `ONE_HALF` at 16 fractional bits.
const HALF: i32 = 1 << 15;

/// Pixels converted per inner block: small fixed-size arrays the compiler
/// keeps in vector registers.
const CHUNK: usize = 16;

#[inline(always)]
fn clamp_u8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// R, G and B of one pixel, exactly as libjpeg's table-driven conversion.
#[cfg(test)]
fn ycc_reference(y: u8, cb: u8, cr: u8) -> (u8, u8, u8) {
    let y = i32::from(y);
    let cb = i32::from(cb) - 128;
    let cr = i32::from(cr) - 128;
    let r = y + ((CR_R * cr + HALF) >> 16);
    let g = y + ((-CB_G * cb - CR_G * cr + HALF) >> 16);
    let b = y + ((CB_B * cb + HALF) >> 16);
    (clamp_u8(r), clamp_u8(g), clamp_u8(b))
}

/// The same as `ycc_reference`, rewritten so every product is of two
/// 16-bit values (which SSE2 multiplies 8 at a time): each coefficient
/// above 32767 is split into a multiple of 65536, which shifts out
/// exactly, and a 16-bit rest.
#[inline(always)]
fn ycc(y: u8, cb: u8, cr: u8) -> (u8, u8, u8) {
    let y = i32::from(y);
    let cb = i32::from(i16::from(cb) - 128);
    let cr = i32::from(i16::from(cr) - 128);
    // 91881 = 65536 + 26345; 116130 = 131072 - 14942; -46802 = -65536 + 18734.
    let r = y + cr + ((cr * (CR_R - 65536) + HALF) >> 16);
    let b = y + 2 * cb + ((cb * (CB_B - 131072) + HALF) >> 16);
    let g = y - cr + ((cb * -CB_G + cr * (65536 - CR_G) + HALF) >> 16);
    (clamp_u8(r), clamp_u8(g), clamp_u8(b))
}

/// Converts rows of Y, Cb and Cr (each at least `out.len() / 3` samples)
/// to packed RGB.
pub(crate) fn ycc_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    let n = out.len() / 3;
    let (y, cb, cr) = (&y[..n], &cb[..n], &cr[..n]);
    let mut outs = out.chunks_exact_mut(3 * CHUNK);
    let mut ys = y.chunks_exact(CHUNK);
    let mut cbs = cb.chunks_exact(CHUNK);
    let mut crs = cr.chunks_exact(CHUNK);
    for (((o, y), cb), cr) in (&mut outs).zip(&mut ys).zip(&mut cbs).zip(&mut crs) {
        let mut r = [0u8; CHUNK];
        let mut g = [0u8; CHUNK];
        let mut b = [0u8; CHUNK];
        for i in 0..CHUNK {
            (r[i], g[i], b[i]) = ycc(y[i], cb[i], cr[i]);
        }
        for i in 0..CHUNK {
            o[3 * i] = r[i];
            o[3 * i + 1] = g[i];
            o[3 * i + 2] = b[i];
        }
    }
    let o = outs.into_remainder();
    for (((o, &y), &cb), &cr) in o
        .chunks_exact_mut(3)
        .zip(ys.remainder())
        .zip(cbs.remainder())
        .zip(crs.remainder())
    {
        (o[0], o[1], o[2]) = ycc(y, cb, cr);
    }
}

/// Converts rows of Adobe YCCK to CMYK in the usual sense (0 = no ink):
/// libjpeg's YCCK→CMYK gives inverted CMYK (`255 - R`, `255 - G`,
/// `255 - B`, K as stored), which Adobe files carry; undoing the inversion
/// leaves R, G, B and `255 - K`.
pub(crate) fn ycck_to_cmyk(y: &[u8], cb: &[u8], cr: &[u8], k: &[u8], out: &mut [u8]) {
    let n = out.len() / 4;
    for ((((o, &y), &cb), &cr), &k) in out
        .chunks_exact_mut(4)
        .zip(&y[..n])
        .zip(&cb[..n])
        .zip(&cr[..n])
        .zip(&k[..n])
    {
        (o[0], o[1], o[2]) = ycc(y, cb, cr);
        o[3] = 255 - k;
    }
}

/// Interleaves three planes (RGB stored as is).
pub(crate) fn interleave3(a: &[u8], b: &[u8], c: &[u8], out: &mut [u8]) {
    let n = out.len() / 3;
    for (((o, &a), &b), &c) in out
        .chunks_exact_mut(3)
        .zip(&a[..n])
        .zip(&b[..n])
        .zip(&c[..n])
    {
        o[0] = a;
        o[1] = b;
        o[2] = c;
    }
}

/// Interleaves four planes, inverting every sample when `invert` (Adobe
/// CMYK is stored inverted).
pub(crate) fn interleave4(planes: [&[u8]; 4], invert: bool, out: &mut [u8]) {
    let n = out.len() / 4;
    let x = if invert { 255 } else { 0 };
    let [a, b, c, d] = planes;
    for ((((o, &a), &b), &c), &d) in out
        .chunks_exact_mut(4)
        .zip(&a[..n])
        .zip(&b[..n])
        .zip(&c[..n])
        .zip(&d[..n])
    {
        o[0] = a ^ x;
        o[1] = b ^ x;
        o[2] = c ^ x;
        o[3] = d ^ x;
    }
}

/// libjpeg's `h2v1_fancy_upsample`: each output pair is 3/4 of its own
/// sample and 1/4 of the nearer neighbour. `out` holds `2 * inp.len()`.
pub(crate) fn h2v1_fancy(inp: &[u8], out: &mut [u8]) {
    let n = inp.len();
    let out = &mut out[..2 * n];
    if n == 1 {
        out[0] = inp[0];
        out[1] = inp[0];
        return;
    }
    out[0] = inp[0];
    out[1] = ((u16::from(inp[0]) * 3 + u16::from(inp[1]) + 2) >> 2) as u8;
    for (o, w) in out[2..2 * n - 2].chunks_exact_mut(2).zip(inp.windows(3)) {
        let c = u16::from(w[1]) * 3;
        o[0] = ((c + u16::from(w[0]) + 1) >> 2) as u8;
        o[1] = ((c + u16::from(w[2]) + 2) >> 2) as u8;
    }
    out[2 * n - 2] = ((u16::from(inp[n - 1]) * 3 + u16::from(inp[n - 2]) + 1) >> 2) as u8;
    out[2 * n - 1] = inp[n - 1];
}

/// Vertical part of the triangle filter: `3 * near + far` per sample.
pub(crate) fn column_sums(near: &[u8], far: &[u8], sums: &mut [u16]) {
    for ((s, &a), &b) in sums.iter_mut().zip(near).zip(far) {
        *s = u16::from(a) * 3 + u16::from(b);
    }
}

/// libjpeg's `h2v2_fancy_upsample` for one output row, from the column
/// sums `3 * near + far` of its input rows. `out` holds `2 * sums.len()`.
pub(crate) fn h2v2_fancy(sums: &[u16], out: &mut [u8]) {
    let n = sums.len();
    let out = &mut out[..2 * n];
    if n == 1 {
        let v = ((sums[0] * 4 + 8) >> 4) as u8;
        out[0] = v;
        out[1] = ((sums[0] * 4 + 7) >> 4) as u8;
        return;
    }
    out[0] = ((sums[0] * 4 + 8) >> 4) as u8;
    out[1] = ((sums[0] * 3 + sums[1] + 7) >> 4) as u8;
    for (o, w) in out[2..2 * n - 2].chunks_exact_mut(2).zip(sums.windows(3)) {
        let c = w[1] * 3;
        o[0] = ((c + w[0] + 8) >> 4) as u8;
        o[1] = ((c + w[2] + 7) >> 4) as u8;
    }
    out[2 * n - 2] = ((sums[n - 1] * 3 + sums[n - 2] + 8) >> 4) as u8;
    out[2 * n - 1] = ((sums[n - 1] * 4 + 7) >> 4) as u8;
}

/// libjpeg-turbo's `h1v2_fancy_upsample` for one output row: `bias` is 1
/// for the upper and 2 for the lower row of a pair.
pub(crate) fn h1v2_fancy(near: &[u8], far: &[u8], bias: u16, out: &mut [u8]) {
    for ((o, &a), &b) in out.iter_mut().zip(near).zip(far) {
        *o = ((u16::from(a) * 3 + u16::from(b) + bias) >> 2) as u8;
    }
}

/// Replicates each sample `factor` times (libjpeg's `int_upsample`,
/// horizontally; rows are replicated by the caller).
pub(crate) fn replicate(inp: &[u8], factor: usize, out: &mut [u8]) {
    for (o, &v) in out.chunks_exact_mut(factor).zip(inp) {
        o.fill(v);
    }
}

/// Y, Cb and Cr of one pixel as jpeg-encoder (and libjpeg) compute them:
/// `Y = (19595 R + 38470 G + 7471 B + 0x7FFF) >> 16`, and so on. Written
/// with every multiplier within 16 bits (38470 G = 65536 G - 27066 G,
/// 32768 B = B << 15), which SSE2 multiplies 8 at a time.
#[inline(always)]
fn rgb_ycc(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let (r, g, b) = (
        i32::from(i16::from(r)),
        i32::from(i16::from(g)),
        i32::from(i16::from(b)),
    );
    let y = 19595 * r - 27066 * g + 7471 * b + (g << 16);
    let cb = -11059 * r - 21709 * g + (b << 15) + (128 << 16);
    let cr = -27439 * g - 5329 * b + (r << 15) + (128 << 16);
    (
        ((y + 0x7FFF) >> 16) as u8,
        ((cb + 0x7FFF) >> 16).clamp(0, 255) as u8,
        ((cr + 0x7FFF) >> 16).clamp(0, 255) as u8,
    )
}

/// RGB to YCbCr for one row of packed RGB into three planes.
pub(crate) fn rgb_to_ycc(rgb: &[u8], y: &mut [u8], cb: &mut [u8], cr: &mut [u8]) {
    for (((p, y), cb), cr) in rgb
        .chunks_exact(3)
        .zip(y.iter_mut())
        .zip(cb.iter_mut())
        .zip(cr.iter_mut())
    {
        (*y, *cb, *cr) = rgb_ycc(p[0], p[1], p[2]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_colours_survive() {
        let n = 37;
        let mut out = vec![0u8; 3 * n];
        ycc_to_rgb(&[128; 37], &[128; 37], &[128; 37], &mut out);
        assert!(out.iter().all(|&v| v == 128));
        let mut up = vec![0u8; 2 * n];
        h2v1_fancy(&[77; 37], &mut up);
        assert!(up.iter().all(|&v| v == 77));
        let mut sums = vec![0u16; n];
        column_sums(&[200; 37], &[200; 37], &mut sums);
        h2v2_fancy(&sums, &mut up);
        assert!(up.iter().all(|&v| v == 200));
    }

    #[test]
    fn split_coefficients_are_exact() {
        for cb in 0..=255u8 {
            for cr in 0..=255u8 {
                for y in [0u8, 1, 77, 128, 200, 254, 255] {
                    assert_eq!(ycc(y, cb, cr), ycc_reference(y, cb, cr), "{y} {cb} {cr}");
                }
            }
        }
    }

    #[test]
    fn rgb_to_ycc_matches_jpeg_encoder() {
        let rgb: Vec<u8> = (0..3 * 1000u32).map(|i| (i * 7919 % 256) as u8).collect();
        let (mut y, mut cb, mut cr) = (vec![0; 1000], vec![0; 1000], vec![0; 1000]);
        rgb_to_ycc(&rgb, &mut y, &mut cb, &mut cr);
        for (i, p) in rgb.chunks_exact(3).enumerate() {
            let want = jpeg_encoder::rgb_to_ycbcr(p[0], p[1], p[2]);
            assert_eq!((y[i], cb[i], cr[i]), want, "{p:?}");
        }
    }

    #[test]
    #[ignore]
    fn bench_rgb_to_ycc() {
        let n = 8000;
        let rgb: Vec<u8> = (0..3 * n as u32).map(|i| (i * 7919 % 256) as u8).collect();
        let (mut y, mut cb, mut cr) = (vec![0; n], vec![0; n], vec![0; n]);
        let t = std::time::Instant::now();
        for _ in 0..6000 {
            rgb_to_ycc(std::hint::black_box(&rgb), &mut y, &mut cb, &mut cr);
        }
        println!("rgb_to_ycc: {:?}", t.elapsed());
        let mut out = vec![0; 3 * n];
        let t = std::time::Instant::now();
        for _ in 0..6000 {
            ycc_to_rgb(std::hint::black_box(&y), &cb, &cr, &mut out);
        }
        println!("ycc_to_rgb: {:?}", t.elapsed());
    }

    #[test]
    fn rgb_round_trip_is_close() {
        let rgb: Vec<u8> = (0..300u32).map(|i| (i * 37 % 256) as u8).collect();
        let (mut y, mut cb, mut cr) = (vec![0; 100], vec![0; 100], vec![0; 100]);
        rgb_to_ycc(&rgb, &mut y, &mut cb, &mut cr);
        let mut back = vec![0; 300];
        ycc_to_rgb(&y, &cb, &cr, &mut back);
        for (a, b) in rgb.iter().zip(&back) {
            assert!((i32::from(*a) - i32::from(*b)).abs() <= 2, "{a} {b}");
        }
    }
}
