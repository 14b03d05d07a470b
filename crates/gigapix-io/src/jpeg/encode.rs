//! Our baseline JPEG strip encoder: the bitstream of libjpeg-turbo's
//! defaults (which libvips uses), so file sizes and decoded pixels match
//! libvips at the same `Q`.
//!
//! Per strip of whole iMCU rows (as `parallel.rs` cuts them):
//!
//! 1. RGB→YCbCr with libjpeg's fixed-point tables (grey passes through),
//!    each row extended to the MCU boundary by replicating its last pixel,
//!    rows past the strip's end replicating its last row (`jcprepct.c`).
//! 2. Chroma downsampling 2x2 or 2x1 as `jcsample.c` (4:4:4 keeps it);
//!    downsampled rows past the image's end replicate the last one.
//! 3. The islow integer DCT and quantisation by libjpeg-turbo's
//!    reciprocals; luma blocks past the image's right or bottom edge
//!    inside the last MCUs are libjpeg's dummy blocks (AC zero, DC the
//!    previous block's).
//! 4. Huffman coding with the standard tables of the JPEG standard's
//!    annex K.3, DC predictors starting from zero, byte stuffing, the last
//!    byte padded with 1-bits: the strip is a restart interval.
//!
//! The kernels (1-3 and the zigzag) are `gigapix_simd::jpeg`'s, at the
//! level `gigapix_simd::level()` chose; this file is the safe glue, the
//! tables, the headers and the bit writer.

use gigapix_simd::Level;
use gigapix_simd::jpeg::{self as kernels, Divisors, ZIGZAG};

/// libjpeg's luminance quantisation table (natural order), the JPEG
/// standard's table K.1.
const STD_LUMA_QUANT: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// libjpeg's chrominance quantisation table (natural order), table K.2.
const STD_CHROMA_QUANT: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// Code counts per length (1 to 16) and symbols of the standard Huffman
/// tables (K.3): luminance DC, luminance AC, chrominance DC, chrominance
/// AC.
const DC_LUMA_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CHROMA_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_VALS: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUMA_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_LUMA_VALS: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];
const AC_CHROMA_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const AC_CHROMA_VALS: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

/// A quantisation table for `quality` (1 to 100) as libjpeg's
/// `jpeg_set_quality(cinfo, quality, TRUE)`: `jpeg_quality_scaling`, then
/// `jpeg_add_quant_table` with `force_baseline` (values 1 to 255).
fn quant_table(basic: &[u16; 64], quality: u8) -> [u16; 64] {
    let q = u32::from(quality.clamp(1, 100));
    let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
    basic.map(|b| ((u32::from(b) * scale + 50) / 100).clamp(1, 255) as u16)
}

/// An encoding Huffman table: per symbol its code and length, as
/// `code << 8 | length` (one load per symbol).
#[derive(Clone)]
struct Huffman {
    ent: [u32; 256],
}

impl Huffman {
    /// The canonical codes of `bits` and `vals` (the JPEG standard's
    /// annex C, as libjpeg's `jpeg_make_c_derived_tbl`).
    fn new(bits: &[u8; 16], vals: &[u8]) -> Huffman {
        let mut h = Huffman { ent: [0; 256] };
        let mut code = 0u32;
        let mut k = 0;
        for (l, &count) in bits.iter().enumerate() {
            for _ in 0..count {
                let sym = usize::from(vals[k]);
                h.ent[sym] = code << 8 | (l as u32 + 1);
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
        h
    }
}

/// The DHT payload of one table: class and index, counts, symbols.
fn dht(out: &mut Vec<u8>, class_index: u8, bits: &[u8; 16], vals: &[u8]) {
    out.extend([0xFF, 0xC4]);
    out.extend(((2 + 1 + 16 + vals.len()) as u16).to_be_bytes());
    out.push(class_index);
    out.extend_from_slice(bits);
    out.extend_from_slice(vals);
}

/// The bit writer: a 64-bit accumulator with `free` bits unused (the
/// pending bits are its low `64 - free`), flushed 64 bits at a time with
/// byte stuffing, as libjpeg-turbo's `put_buffer`.
struct Bits<'a> {
    acc: u64,
    free: u32,
    out: &'a mut Vec<u8>,
}

impl<'a> Bits<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        Bits {
            acc: 0,
            free: 64,
            out,
        }
    }

    /// Appends the low `len` bits of `bits` (`len <= 32`, the bits above
    /// them zero).
    #[inline(always)]
    fn put(&mut self, bits: u32, len: u32) {
        if len < self.free {
            self.free -= len;
            self.acc = (self.acc << len) | u64::from(bits);
        } else {
            // Fill the accumulator, write it out, keep the rest of `bits`.
            let rest = len - self.free;
            let w = (self.acc << self.free) | (u64::from(bits) >> rest);
            self.write(w);
            self.acc = u64::from(bits);
            self.free = 64 - rest;
        }
    }

    /// Writes 8 bytes, stuffing a zero after each 0xFF.
    #[inline(always)]
    fn write(&mut self, w: u64) {
        // A 0xFF byte in w? (the zero-byte test on !w)
        let has_ff = (!w).wrapping_sub(0x0101_0101_0101_0101) & w & 0x8080_8080_8080_8080 != 0;
        if has_ff {
            for b in w.to_be_bytes() {
                self.out.push(b);
                if b == 0xFF {
                    self.out.push(0);
                }
            }
        } else {
            self.out.extend_from_slice(&w.to_be_bytes());
        }
    }

    /// Pads the last byte with 1-bits and writes out what is pending.
    fn finish(mut self) {
        let mut n = 64 - self.free;
        let pad = (8 - n % 8) % 8;
        if pad > 0 {
            self.acc = (self.acc << pad) | ((1 << pad) - 1);
        }
        n += pad;
        while n > 0 {
            n -= 8;
            let b = (self.acc >> n) as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0);
            }
        }
    }
}

/// Category (bit count) and value bits of a coefficient or DC difference.
#[inline(always)]
fn magnitude(x: i32) -> (u32, u32) {
    let nbits = 32 - x.unsigned_abs().leading_zeros();
    let v = if x < 0 { x - 1 } else { x };
    (nbits, (v as u32) & ((1u32 << nbits) - 1))
}

/// Component sampling of a strip encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sampling {
    /// One grey component.
    Grey,
    /// YCbCr from RGB, luma sampled `h` by `v` times the chroma (1 or 2).
    Ycc { h: usize, v: usize },
}

/// A strip encoder: tables, and scratch buffers reused from strip to
/// strip.
pub(super) struct StripEncoder {
    level: Level,
    width: usize,
    sampling: Sampling,
    quant: [[u16; 64]; 2],
    divisors: [Divisors; 2],
    dc: [Huffman; 2],
    ac: [Huffman; 2],
    /// One iMCU row: luma and full-size chroma rows of `padded` samples,
    /// downsampled chroma rows of `padded / h`.
    luma: Vec<u8>,
    full: [Vec<u8>; 2],
    chroma: [Vec<u8>; 2],
    /// Coefficient blocks of one iMCU row: luma (v rows of mcus·h), Cb,
    /// Cr (mcus each).
    luma_blocks: Vec<[i16; 64]>,
    chroma_blocks: [Vec<[i16; 64]>; 2],
}

impl StripEncoder {
    /// An encoder for rows of `width` pixels (1 to 65535) at `quality`
    /// (1 to 100), at SIMD level `level`.
    pub(super) fn new(level: Level, width: usize, sampling: Sampling, quality: u8) -> Self {
        let quant = [
            quant_table(&STD_LUMA_QUANT, quality),
            quant_table(&STD_CHROMA_QUANT, quality),
        ];
        StripEncoder {
            level,
            width,
            sampling,
            divisors: [Divisors::new(&quant[0]), Divisors::new(&quant[1])],
            quant,
            dc: [
                Huffman::new(&DC_LUMA_BITS, &DC_VALS),
                Huffman::new(&DC_CHROMA_BITS, &DC_VALS),
            ],
            ac: [
                Huffman::new(&AC_LUMA_BITS, &AC_LUMA_VALS),
                Huffman::new(&AC_CHROMA_BITS, &AC_CHROMA_VALS),
            ],
            luma: Vec::new(),
            full: [Vec::new(), Vec::new()],
            chroma: [Vec::new(), Vec::new()],
            luma_blocks: Vec::new(),
            chroma_blocks: [Vec::new(), Vec::new()],
        }
    }

    /// Luma sampling factors (horizontal, vertical).
    fn factors(&self) -> (usize, usize) {
        match self.sampling {
            Sampling::Grey => (1, 1),
            Sampling::Ycc { h, v } => (h, v),
        }
    }

    /// MCUs per iMCU row.
    fn mcus_per_row(&self) -> usize {
        self.width.div_ceil(8 * self.factors().0)
    }

    /// The headers of a whole image of `height` rows, from SOI to the SOS
    /// segment, as libjpeg writes them (JFIF APP0, DQT, SOF0, DHT, DRI if
    /// `interval` is not 0, SOS).
    pub(super) fn headers(&self, height: u16, interval: u16) -> Vec<u8> {
        let mut h = vec![0xFF, 0xD8];
        // JFIF 1.01, no units, 1:1 density, no thumbnail.
        h.extend([
            0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        ]);
        let colour = matches!(self.sampling, Sampling::Ycc { .. });
        let tables = if colour { 2 } else { 1 };
        for (t, q) in self.quant.iter().enumerate().take(tables) {
            h.extend([0xFF, 0xDB, 0, 67, t as u8]);
            h.extend(ZIGZAG.iter().map(|&z| q[usize::from(z)] as u8));
        }
        let comps: &[(u8, u8, u8)] = if colour {
            let (hf, vf) = self.factors();
            &[(1, (hf << 4 | vf) as u8, 0), (2, 0x11, 1), (3, 0x11, 1)]
        } else {
            &[(1, 0x11, 0)]
        };
        h.extend([0xFF, 0xC0]);
        h.extend(((8 + 3 * comps.len()) as u16).to_be_bytes());
        h.push(8);
        h.extend(height.to_be_bytes());
        h.extend((self.width as u16).to_be_bytes());
        h.push(comps.len() as u8);
        for &(id, samp, tq) in comps {
            h.extend([id, samp, tq]);
        }
        dht(&mut h, 0x00, &DC_LUMA_BITS, &DC_VALS);
        dht(&mut h, 0x10, &AC_LUMA_BITS, &AC_LUMA_VALS);
        if colour {
            dht(&mut h, 0x01, &DC_CHROMA_BITS, &DC_VALS);
            dht(&mut h, 0x11, &AC_CHROMA_BITS, &AC_CHROMA_VALS);
        }
        if interval != 0 {
            h.extend([0xFF, 0xDD, 0, 4]);
            h.extend(interval.to_be_bytes());
        }
        h.extend([0xFF, 0xDA]);
        h.extend(((6 + 2 * comps.len()) as u16).to_be_bytes());
        h.push(comps.len() as u8);
        for &(id, _, t) in comps {
            h.extend([id, t << 4 | t]);
        }
        h.extend([0, 63, 0]);
        h
    }

    /// Encodes `rows` rows of packed pixels (`data`, grey or RGB) as one
    /// entropy-coded segment appended to `out`: DC predictions from zero,
    /// the last byte padded with 1-bits. The rows are the whole image's
    /// rows from an iMCU row boundary on; only the image's last strip may
    /// end inside an iMCU row.
    pub(super) fn encode(&mut self, rows: usize, data: &[u8], out: &mut Vec<u8>) {
        let (h, v) = self.factors();
        let colour = matches!(self.sampling, Sampling::Ycc { .. });
        let bands = if colour { 3 } else { 1 };
        assert_eq!(data.len(), rows * self.width * bands, "strip size");
        if rows == 0 {
            return;
        }
        let mcus = self.mcus_per_row();
        let padded = mcus * 8 * h;
        let imcu_h = 8 * v;
        let cw = padded / h;
        let luma_cols = self.width.div_ceil(8);
        let luma_rows = rows.div_ceil(8);
        self.luma.resize(padded * imcu_h, 0);
        self.luma_blocks.resize(v * mcus * h, [0; 64]);
        if colour {
            for c in 0..2 {
                if h * v > 1 {
                    self.full[c].resize(padded * imcu_h, 0);
                }
                self.chroma[c].resize(cw * 8, 0);
                self.chroma_blocks[c].resize(mcus, [0; 64]);
            }
        }
        let level = self.level;
        let mut bits = Bits::new(out);
        let mut pred = [0i16; 3];
        let mut zz = [0i16; 64];
        let row_bytes = self.width * bands;
        for imcu in 0..rows.div_ceil(imcu_h) {
            let y0 = imcu * imcu_h;
            let real = (rows - y0).min(imcu_h);
            // 1. Colour conversion and right-edge replication.
            for r in 0..imcu_h {
                if r >= real {
                    let (done, rest) = self.luma.split_at_mut(r * padded);
                    rest[..padded].copy_from_slice(&done[(real - 1) * padded..][..padded]);
                    if colour {
                        let planes = if h * v > 1 {
                            &mut self.full
                        } else {
                            &mut self.chroma
                        };
                        for p in planes.iter_mut() {
                            let (done, rest) = p.split_at_mut(r * padded);
                            rest[..padded].copy_from_slice(&done[(real - 1) * padded..][..padded]);
                        }
                    }
                    continue;
                }
                let src = &data[(y0 + r) * row_bytes..][..row_bytes];
                let yrow = &mut self.luma[r * padded..][..padded];
                if colour {
                    let [cb, cr] = if h * v > 1 {
                        &mut self.full
                    } else {
                        &mut self.chroma
                    };
                    let cbrow = &mut cb[r * padded..][..padded];
                    let crrow = &mut cr[r * padded..][..padded];
                    kernels::rgb_to_ycc(level, src, yrow, cbrow, crrow);
                    replicate(cbrow, self.width);
                    replicate(crrow, self.width);
                } else {
                    yrow[..self.width].copy_from_slice(src);
                }
                replicate(yrow, self.width);
            }
            // 2. Downsampling; rows past the image's end replicate the last.
            if colour && h * v > 1 {
                let ds_real = real.div_ceil(v);
                for c in 0..2 {
                    let (full, ds) = (&self.full[c], &mut self.chroma[c]);
                    for k in 0..8 {
                        let (done, rest) = ds.split_at_mut(k * cw);
                        let out = &mut rest[..cw];
                        if k >= ds_real {
                            out.copy_from_slice(&done[(ds_real - 1) * cw..][..cw]);
                        } else if v == 2 {
                            let r0 = &full[2 * k * padded..][..padded];
                            let r1 = &full[(2 * k + 1) * padded..][..padded];
                            kernels::downsample_h2v2(level, r0, r1, out);
                        } else {
                            kernels::downsample_h2v1(level, &full[k * padded..][..padded], out);
                        }
                    }
                }
            }
            // 3. DCT and quantisation, dummy blocks.
            let per_row = mcus * h;
            for br in 0..v {
                let blocks = &mut self.luma_blocks[br * per_row..][..per_row];
                if imcu * v + br >= luma_rows {
                    // A dummy block row below the image: each MCU's blocks
                    // take the DC of the block before them in the MCU.
                    let (above, this) = self.luma_blocks.split_at_mut(br * per_row);
                    for m in 0..mcus {
                        let dc = above[(br - 1) * per_row + m * h + h - 1][0];
                        for b in &mut this[m * h..m * h + h] {
                            *b = [0; 64];
                            b[0] = dc;
                        }
                    }
                    continue;
                }
                kernels::fdct_quantize(
                    level,
                    &self.luma[br * 8 * padded..],
                    padded,
                    &self.divisors[0],
                    &mut blocks[..luma_cols],
                );
                for bx in luma_cols..per_row {
                    let dc = blocks[bx - 1][0];
                    blocks[bx] = [0; 64];
                    blocks[bx][0] = dc;
                }
            }
            if colour {
                for c in 0..2 {
                    kernels::fdct_quantize(
                        level,
                        &self.chroma[c],
                        cw,
                        &self.divisors[1],
                        &mut self.chroma_blocks[c],
                    );
                }
            }
            // 4. Huffman coding, MCU by MCU.
            for m in 0..mcus {
                for br in 0..v {
                    for bx in 0..h {
                        let block = &self.luma_blocks[br * per_row + m * h + bx];
                        encode_block(
                            level,
                            &mut bits,
                            block,
                            &mut zz,
                            &mut pred[0],
                            &self.dc[0],
                            &self.ac[0],
                        );
                    }
                }
                if colour {
                    for c in 0..2 {
                        let block = &self.chroma_blocks[c][m];
                        encode_block(
                            level,
                            &mut bits,
                            block,
                            &mut zz,
                            &mut pred[1 + c],
                            &self.dc[1],
                            &self.ac[1],
                        );
                    }
                }
            }
        }
        bits.finish();
    }
}

/// Fills `row[width..]` with `row[width - 1]`.
fn replicate(row: &mut [u8], width: usize) {
    let last = row[width - 1];
    row[width..].fill(last);
}

/// Huffman-codes one block (natural order) as libjpeg's `encode_one_block`.
#[inline(always)]
fn encode_block(
    level: Level,
    bits: &mut Bits<'_>,
    block: &[i16; 64],
    zz: &mut [i16; 64],
    pred: &mut i16,
    dc: &Huffman,
    ac: &Huffman,
) {
    let mask = kernels::zigzag(level, block, zz);
    let diff = i32::from(zz[0]) - i32::from(*pred);
    *pred = zz[0];
    let (nb, v) = magnitude(diff);
    let n = nb as usize;
    let e = dc.ent[n];
    bits.put(((e >> 8) << nb) | v, (e & 0xFF) + nb);
    let mut m = mask & !1;
    let mut last = 0u32;
    while m != 0 {
        let k = m.trailing_zeros();
        let mut run = k - last - 1;
        while run > 15 {
            let e = ac.ent[0xF0];
            bits.put(e >> 8, e & 0xFF);
            run -= 16;
        }
        let (nb, v) = magnitude(i32::from(zz[k as usize]));
        let sym = (run << 4 | nb) as usize;
        let e = ac.ent[sym];
        bits.put(((e >> 8) << nb) | v, (e & 0xFF) + nb);
        last = k;
        m &= m - 1;
    }
    if last != 63 {
        let e = ac.ent[0];
        bits.put(e >> 8, e & 0xFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_scaling_is_libjpegs() {
        // Q 50 is the tables themselves; Q 100 all ones; Q 1 clamps at 255.
        assert_eq!(quant_table(&STD_LUMA_QUANT, 50), STD_LUMA_QUANT);
        assert_eq!(quant_table(&STD_LUMA_QUANT, 100), [1; 64]);
        assert!(quant_table(&STD_CHROMA_QUANT, 1).iter().all(|&q| q == 255));
        // Q 75: scale 50, (16 · 50 + 50) / 100 = 8.
        assert_eq!(quant_table(&STD_LUMA_QUANT, 75)[0], 8);
    }

    #[test]
    fn standard_tables_are_complete() {
        for (bits, n) in [
            (&DC_LUMA_BITS, 12),
            (&DC_CHROMA_BITS, 12),
            (&AC_LUMA_BITS, 162),
            (&AC_CHROMA_BITS, 162),
        ] {
            assert_eq!(bits.iter().map(|&b| usize::from(b)).sum::<usize>(), n);
        }
        // Every run/size symbol of baseline AC coding has a code.
        for vals in [&AC_LUMA_VALS, &AC_CHROMA_VALS] {
            let mut seen: Vec<u8> = vals.to_vec();
            seen.sort_unstable();
            let mut want: Vec<u8> = vec![0x00, 0xF0];
            for run in 0..16u8 {
                for size in 1..=10u8 {
                    want.push(run << 4 | size);
                }
            }
            want.sort_unstable();
            assert_eq!(seen, want);
        }
    }

    #[test]
    fn magnitudes() {
        assert_eq!(magnitude(0), (0, 0));
        assert_eq!(magnitude(1), (1, 1));
        assert_eq!(magnitude(-1), (1, 0));
        assert_eq!(magnitude(5), (3, 5));
        assert_eq!(magnitude(-5), (3, 2));
        assert_eq!(magnitude(-2047), (11, 0));
    }

    #[test]
    fn bit_writer_stuffs_and_pads() {
        let mut out = Vec::new();
        let mut b = Bits::new(&mut out);
        b.put(0xFF, 8);
        b.put(0x12345, 20);
        b.put(0xF, 4);
        b.put(0x3, 3);
        b.finish();
        assert_eq!(out, [0xFF, 0x00, 0x12, 0x34, 0x5F, 0x7F]);
        // Across the 64-bit flush: 70 one-bits, then 2 zero bits: 8 stuffed
        // 0xFF bytes, then 0b1111_1100.
        let mut out = Vec::new();
        let mut b = Bits::new(&mut out);
        for _ in 0..7 {
            b.put(0x3FF, 10);
        }
        b.put(0, 2);
        b.finish();
        assert_eq!(
            out,
            [
                0xFF, 0, 0xFF, 0, 0xFF, 0, 0xFF, 0, 0xFF, 0, 0xFF, 0, 0xFF, 0, 0xFF, 0, 0xFC
            ]
        );
    }

    /// A photo-like test image: smooth gradients, texture and noise, with
    /// flat and saturated areas.
    fn image(w: usize, h: usize, bands: usize, seed: u32) -> Vec<u8> {
        let mut s = seed | 1;
        let mut out = Vec::with_capacity(w * h * bands);
        for y in 0..h {
            for x in 0..w {
                for c in 0..bands {
                    s ^= s << 13;
                    s ^= s >> 17;
                    s ^= s << 5;
                    let base = (x * (3 + c) + y * (5 - c) + ((x * y) >> 3)) as u32;
                    let v = if (x / 7 + y / 5) % 9 == 0 {
                        255 * ((x / 3) % 2) as u32
                    } else {
                        (base + (s >> 28)) % 256
                    };
                    out.push(v as u8);
                }
            }
        }
        out
    }

    /// MozJPEG with libjpeg-turbo's settings on the same pixels.
    #[cfg(feature = "mozjpeg")]
    fn mozjpeg(data: &[u8], w: usize, h: usize, grey: bool, samp: (u8, u8), q: u8) -> Vec<u8> {
        use mozjpeg::{ColorSpace, Compress};
        let mut c = Compress::new(if grey {
            ColorSpace::JCS_GRAYSCALE
        } else {
            ColorSpace::JCS_RGB
        });
        c.set_fastest_defaults();
        c.set_size(w, h);
        c.set_quality(f32::from(q));
        if !grey {
            c.set_chroma_sampling_pixel_sizes(samp, samp);
        }
        let mut started = c.start_compress(Vec::new()).unwrap();
        started.write_scanlines(data).unwrap();
        started.finish().unwrap()
    }

    #[test]
    #[cfg(feature = "mozjpeg")]
    fn byte_identical_to_mozjpeg_libjpeg_turbo_settings() {
        let sizes = [
            (1, 1),
            (7, 5),
            (8, 8),
            (16, 16),
            (17, 9),
            (33, 31),
            (100, 37),
            (64, 70),
            (301, 203),
        ];
        let samplings = [
            (Sampling::Grey, (1, 1)),
            (Sampling::Ycc { h: 2, v: 2 }, (2, 2)),
            (Sampling::Ycc { h: 2, v: 1 }, (2, 1)),
            (Sampling::Ycc { h: 1, v: 1 }, (1, 1)),
        ];
        for (i, &(w, h)) in sizes.iter().enumerate() {
            for &(sampling, samp) in &samplings {
                let grey = sampling == Sampling::Grey;
                let data = image(w, h, if grey { 1 } else { 3 }, i as u32 + 11);
                for q in [25u8, 50, 75, 85, 95, 100] {
                    let want = mozjpeg(&data, w, h, grey, samp, q);
                    for level in gigapix_simd::levels() {
                        let mut enc = StripEncoder::new(level, w, sampling, q);
                        let mut got = enc.headers(h as u16, 0);
                        enc.encode(h, &data, &mut got);
                        got.extend([0xFF, 0xD9]);
                        assert!(
                            got == want,
                            "{w}x{h} {sampling:?} Q{q} {level:?}: {} bytes, MozJPEG {}; first difference at {:?}",
                            got.len(),
                            want.len(),
                            got.iter().zip(&want).position(|(a, b)| a != b)
                        );
                    }
                }
            }
        }
    }

    /// Rough single-thread timing of the pieces on a 10000 x 512 photo-like
    /// strip: `cargo test --release -p gigapix-io --lib bench_encode --
    /// --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_encode() {
        let (w, h) = (10000usize, 512usize);
        // Real pixels if the peers' test image is there (an uncompressed
        // strip TIFF: rows from 4 MB in), else the synthetic image.
        let data = std::fs::read("/tmp/peers-data/in/x10k.tif")
            .ok()
            .filter(|b| b.len() > (4 << 20) + w * h * 3)
            .map_or_else(|| image(w, h, 3, 5), |b| b[4 << 20..][..w * h * 3].to_vec());
        // This thread's CPU time (the machine is shared).
        let cpu = || {
            let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
            let ns: u64 = s
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            std::time::Duration::from_nanos(ns)
        };
        let c0 = cpu();
        let level = gigapix_simd::level();
        let mut enc = StripEncoder::new(level, w, Sampling::Ycc { h: 2, v: 2 }, 85);
        let mut out = Vec::new();
        let t = std::time::Instant::now();
        for _ in 0..20 {
            out.clear();
            enc.encode(h, &data, &mut out);
        }
        let whole = t.elapsed() / 20;
        let whole_cpu = (cpu() - c0) / 20;
        let (mut y, mut cb, mut cr) = (vec![0; w], vec![0; w], vec![0; w]);
        let t = cpu();
        for r in 0..h {
            kernels::rgb_to_ycc(level, &data[r * 3 * w..][..3 * w], &mut y, &mut cb, &mut cr);
        }
        let colour = cpu() - t;
        let div = Divisors::new(&quant_table(&STD_LUMA_QUANT, 85));
        let mut blocks = vec![[0i16; 64]; w / 8];
        let plane = vec![100u8; w * 8];
        let t = cpu();
        // 1.5 block rows per 8 rows (4:2:0).
        for _ in 0..(h / 8) * 3 / 2 {
            kernels::fdct_quantize(level, &plane, w, &div, &mut blocks);
        }
        let dct = cpu() - t;
        let mut zz = [0i16; 64];
        let t = cpu();
        let mut sum = 0u64;
        for _ in 0..(h / 8) * 3 / 2 {
            for b in &blocks {
                sum += kernels::zigzag(level, b, &mut zz);
            }
        }
        let zigzag = cpu() - t;
        std::hint::black_box(sum);
        println!(
            "{level:?}: strip {whole:?} (CPU {whole_cpu:?}, {} bytes), colour {colour:?}, \
             dct+quant {dct:?}, zigzag {zigzag:?}",
            out.len()
        );
    }
}
