//! YCbCr samples that are not JPEG-compressed (PhotometricInterpretation
//! 6 with no compression, LZW, deflate or PackBits): the TIFF 6.0 data
//! units of subsampled chroma unpacked, and converted to RGB as libtiff's
//! RGBA interface does (which libvips reads these through): the file's
//! YCbCrCoefficients and ReferenceBlackWhite make the tables of a 16-bit
//! fixed-point conversion, every pixel of a data unit takes the unit's
//! chroma as it is (no interpolation).

/// Fraction bits of the fixed-point conversion.
const SHIFT: u32 = 16;

/// `x` in fixed point, rounded.
fn fix(x: f32) -> i32 {
    (x * (1i64 << SHIFT) as f32 + 0.5) as i32
}

/// A code `c` on the scale from `black` to `white` mapped to `range`
/// steps, computed in f32 as libtiff does.
fn code_to_value(c: i32, black: f32, white: f32, range: f32) -> f32 {
    let span = if white - black != 0.0 {
        white - black
    } else {
        1.0
    };
    (c - black as i32) as f32 * range / span
}

/// How the samples of a YCbCr page are stored and become RGB.
pub(super) struct YCbCr {
    /// Chroma subsampling, horizontal and vertical (1, 2 or 4).
    pub(super) h: usize,
    pub(super) v: usize,
    y_tab: Box<[i32; 256]>,
    cr_r: Box<[i32; 256]>,
    cb_b: Box<[i32; 256]>,
    cr_g: Box<[i32; 256]>,
    cb_g: Box<[i32; 256]>,
}

impl YCbCr {
    /// The conversion for subsampling `h` x `v`, luma coefficients
    /// `(red, green, blue)` and reference black and white levels
    /// `[Y black, Y white, Cb black, Cb white, Cr black, Cr white]`.
    pub(super) fn new(h: usize, v: usize, luma: [f32; 3], reference: [f32; 6]) -> YCbCr {
        let [red, green, blue] = luma;
        let green = if green == 0.0 { 1.0 } else { green };
        let f1 = 2.0 - 2.0 * red;
        let d1 = fix(f1.clamp(0.0, 2.0));
        let f2 = red * f1 / green;
        let d2 = -fix(f2.clamp(0.0, 2.0));
        let f3 = 2.0 - 2.0 * blue;
        let d3 = fix(f3.clamp(0.0, 2.0));
        let f4 = blue * f3 / green;
        let d4 = -fix(f4.clamp(0.0, 2.0));
        let half = 1i32 << (SHIFT - 1);
        let lim = 128.0 * 32.0;
        let mut t = YCbCr {
            h,
            v,
            y_tab: Box::new([0; 256]),
            cr_r: Box::new([0; 256]),
            cb_b: Box::new([0; 256]),
            cr_g: Box::new([0; 256]),
            cb_g: Box::new([0; 256]),
        };
        for i in 0..256 {
            let x = i as i32 - 128;
            let cr = code_to_value(x, reference[4] - 128.0, reference[5] - 128.0, 127.0)
                .clamp(-lim, lim) as i32;
            let cb = code_to_value(x, reference[2] - 128.0, reference[3] - 128.0, 127.0)
                .clamp(-lim, lim) as i32;
            // Wrapping as libtiff's 32-bit arithmetic would for absurd
            // reference levels (the clamps keep ordinary ones far off).
            t.cr_r[i] = d1.wrapping_mul(cr).wrapping_add(half) >> SHIFT;
            t.cb_b[i] = d3.wrapping_mul(cb).wrapping_add(half) >> SHIFT;
            t.cr_g[i] = d2.wrapping_mul(cr);
            t.cb_g[i] = d4.wrapping_mul(cb).wrapping_add(half);
            t.y_tab[i] =
                code_to_value(x + 128, reference[0], reference[1], 255.0).clamp(-lim, lim) as i32;
        }
        t
    }

    /// One pixel.
    #[inline]
    fn rgb(&self, y: u8, cb: u8, cr: u8) -> [u8; 3] {
        let (y, cb, cr) = (usize::from(y), usize::from(cb), usize::from(cr));
        let i = self.y_tab[y];
        let g = (self.cb_g[cb].wrapping_add(self.cr_g[cr])) >> SHIFT;
        [
            i.saturating_add(self.cr_r[cr]).clamp(0, 255) as u8,
            i.saturating_add(g).clamp(0, 255) as u8,
            i.saturating_add(self.cb_b[cb]).clamp(0, 255) as u8,
        ]
    }

    /// Bytes of a chunk of `width` x `rows` pixels stored as data units
    /// (the width and rows rounded up to whole units).
    pub(super) fn packed_len(&self, width: usize, rows: usize) -> usize {
        width.div_ceil(self.h) * rows.div_ceil(self.v) * (self.h * self.v + 2)
    }

    /// Converts the data units `packed` of a chunk of `width` pixels
    /// across to RGB rows in `out` (`width * 3` bytes a row; its length
    /// gives the rows).
    pub(super) fn unpack(&self, packed: &[u8], width: usize, out: &mut [u8]) {
        let (h, v) = (self.h, self.v);
        let unit = h * v + 2;
        let row_bytes = width * 3;
        let rows = out.len() / row_bytes;
        let across = width.div_ceil(h);
        for (by, units) in packed
            .chunks_exact(across * unit)
            .take(rows.div_ceil(v))
            .enumerate()
        {
            for (bx, u) in units.chunks_exact(unit).enumerate() {
                let (cb, cr) = (u[h * v], u[h * v + 1]);
                for j in 0..v {
                    let y = by * v + j;
                    if y >= rows {
                        break;
                    }
                    let row = &mut out[y * row_bytes..(y + 1) * row_bytes];
                    for i in 0..h {
                        let x = bx * h + i;
                        if x >= width {
                            break;
                        }
                        row[3 * x..3 * x + 3].copy_from_slice(&self.rgb(u[j * h + i], cb, cr));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default coefficients and levels: the JFIF formulas, R = Y +
    /// 1.402 (Cr - 128) and so on, within rounding.
    #[test]
    fn default_tables_follow_the_formulas() {
        let t = YCbCr::new(
            2,
            2,
            [0.299, 0.587, 0.114],
            [0.0, 255.0, 128.0, 255.0, 128.0, 255.0],
        );
        for (y, cb, cr) in [
            (0u8, 128u8, 128u8),
            (100, 90, 200),
            (255, 0, 255),
            (30, 250, 10),
        ] {
            let (yf, cbf, crf) = (f64::from(y), f64::from(cb) - 128.0, f64::from(cr) - 128.0);
            let want = [
                yf + 1.402 * crf,
                yf - 0.344136 * cbf - 0.714136 * crf,
                yf + 1.772 * cbf,
            ];
            let got = t.rgb(y, cb, cr);
            for (g, w) in got.iter().zip(want) {
                assert!(
                    (f64::from(*g) - w.clamp(0.0, 255.0)).abs() <= 1.0,
                    "{got:?} {want:?}"
                );
            }
        }
    }

    #[test]
    fn data_units_unpack_in_place() {
        // 3x2 pixels at 2x2: two units of 4 luma, Cb, Cr.
        let t = YCbCr::new(
            2,
            2,
            [0.299, 0.587, 0.114],
            [0.0, 255.0, 128.0, 255.0, 128.0, 255.0],
        );
        assert_eq!(t.packed_len(3, 2), 12);
        let packed = [10, 20, 30, 40, 128, 128, 50, 60, 70, 80, 128, 128];
        let mut out = [0u8; 18];
        t.unpack(&packed, 3, &mut out);
        let grey: Vec<u8> = out.chunks_exact(3).map(|p| p[0]).collect();
        assert_eq!(grey, [10, 20, 50, 30, 40, 70]);
        assert!(out.chunks_exact(3).all(|p| p[0] == p[1] && p[1] == p[2]));
    }
}
