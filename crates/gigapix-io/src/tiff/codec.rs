//! Chunk codecs: LZW (weezl) and deflate (flate2), each way, PackBits
//! decoding (JPEG chunks go to `crate::jpeg::decode_chunk`), the horizontal predictor (TIFF predictor 2) each way, the
//! floating-point predictor (3) undone, bit reversal (FillOrder 2) and
//! byte-order swaps.
//!
//! The loader decodes every chunk here; the writer compresses with
//! [`compress`] after [`predict`].

use std::io::{self, Read, Write};

/// How a file's chunks are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Codec {
    /// Uncompressed: read as is.
    None,
    /// LZW, decoded with weezl.
    Lzw,
    /// Deflate, decoded with flate2.
    Deflate,
    /// PackBits, decoded by [`packbits_decode`].
    PackBits,
    /// JPEG (compression 7), decoded by `crate::jpeg::decode_chunk`.
    Jpeg,
}

impl Codec {
    /// The codec of TIFF compression `compression` (one of the supported:
    /// none, LZW, deflate, PackBits, JPEG).
    pub(super) fn choose(compression: u16) -> Codec {
        match compression {
            1 => Codec::None,
            5 => Codec::Lzw,
            7 => Codec::Jpeg,
            32773 => Codec::PackBits,
            _ => Codec::Deflate,
        }
    }
}

/// How the writer compresses chunk data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Compression {
    None,
    Lzw,
    /// Deflate at a zlib level, 1 to 9.
    Deflate(u32),
}

impl Compression {
    /// The TIFF code.
    pub(super) fn code(self) -> u16 {
        match self {
            Compression::None => 1,
            Compression::Lzw => 5,
            Compression::Deflate(_) => 8,
        }
    }
}

/// The name of a TIFF compression code.
pub(super) fn compression_name(code: u16) -> String {
    match code {
        1 => "none".into(),
        2 => "ccitt-rle".into(),
        3 => "ccitt-fax3".into(),
        4 => "ccitt-fax4".into(),
        5 => "lzw".into(),
        6 | 7 => "jpeg".into(),
        8 | 32946 => "deflate".into(),
        32773 => "packbits".into(),
        34887 => "lerc".into(),
        34925 => "lzma".into(),
        50000 => "zstd".into(),
        50001 => "webp".into(),
        c => format!("code {c}"),
    }
}

/// Compresses one chunk.
pub(super) fn compress(compression: Compression, data: &[u8]) -> io::Result<Vec<u8>> {
    match compression {
        Compression::None => Ok(data.to_vec()),
        Compression::Lzw => {
            let mut out = Vec::with_capacity(data.len() / 2);
            let mut enc = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
            enc.into_vec(&mut out)
                .encode_all(data)
                .status
                .map_err(io::Error::other)?;
            Ok(out)
        }
        Compression::Deflate(level) => {
            let mut enc = flate2::write::ZlibEncoder::new(
                Vec::with_capacity(data.len() / 2),
                flate2::Compression::new(level),
            );
            enc.write_all(data)?;
            enc.finish()
        }
    }
}

/// Decodes LZW `src` into `dst`, filling it exactly. Data past what `dst`
/// holds is ignored (some writers add junk after the end code).
pub(super) fn lzw_decode(src: &[u8], dst: &mut [u8]) -> Result<(), String> {
    let mut dec = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
    let (mut inp, mut got) = (src, 0);
    while got < dst.len() {
        let r = dec.decode_bytes(inp, &mut dst[got..]);
        inp = &inp[r.consumed_in..];
        got += r.consumed_out;
        match r.status {
            Ok(weezl::LzwStatus::Ok) => {}
            Ok(weezl::LzwStatus::Done | weezl::LzwStatus::NoProgress) => {
                if got < dst.len() {
                    return Err(format!("LZW data ends after {got} of {} bytes", dst.len()));
                }
            }
            Err(e) => return Err(format!("bad LZW data: {e}")),
        }
    }
    Ok(())
}

/// Decodes zlib `src` into `dst`, filling it exactly.
pub(super) fn deflate_decode(src: &[u8], dst: &mut [u8]) -> Result<(), String> {
    let mut dec = flate2::read::ZlibDecoder::new(src);
    dec.read_exact(dst).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => format!("deflate data ends before {} bytes", dst.len()),
        _ => format!("bad deflate data: {e}"),
    })
}

/// Decodes PackBits `src` into `dst`, filling it exactly: a header byte
/// `n` of 0 to 127 is followed by `n + 1` literal bytes, one of -127 to -1
/// by a byte repeated `1 - n` times; -128 is skipped. Data past what `dst`
/// holds is ignored (runs may cross rows, as libtiff allows).
pub(super) fn packbits_decode(src: &[u8], dst: &mut [u8]) -> Result<(), String> {
    let (mut i, mut got) = (0, 0);
    while got < dst.len() {
        let Some(&header) = src.get(i) else {
            return Err(format!(
                "PackBits data ends after {got} of {} bytes",
                dst.len()
            ));
        };
        i += 1;
        let n = header as i8;
        if n >= 0 {
            let len = (n as usize + 1).min(dst.len() - got);
            let Some(lit) = src.get(i..i + len) else {
                return Err(format!(
                    "PackBits data ends inside a literal run after {got} of {} bytes",
                    dst.len()
                ));
            };
            dst[got..got + len].copy_from_slice(lit);
            i += n as usize + 1;
            got += len;
        } else if n != -128 {
            let Some(&byte) = src.get(i) else {
                return Err(format!(
                    "PackBits data ends inside a repeat run after {got} of {} bytes",
                    dst.len()
                ));
            };
            i += 1;
            let len = (1 - isize::from(n)) as usize;
            let len = len.min(dst.len() - got);
            dst[got..got + len].fill(byte);
            got += len;
        }
    }
    Ok(())
}

/// Reverses the bits of every byte (TIFF FillOrder 2, least significant
/// bit first, made the usual most significant first).
pub(super) fn reverse_bits(data: &mut [u8]) {
    for b in data {
        *b = b.reverse_bits();
    }
}

/// Undoes the floating-point predictor (TIFF predictor 3) over rows of
/// `row_len` bytes of `bands` samples of `size` bytes a pixel: every row
/// holds the samples' bytes by significance (all the most significant
/// bytes first, ...), each differenced from the byte one pixel to its
/// left. The result is native-order samples, whatever the file's byte
/// order. `tmp` is scratch space.
pub(super) fn fp_unpredict(
    data: &mut [u8],
    row_len: usize,
    bands: usize,
    size: usize,
    tmp: &mut Vec<u8>,
) {
    let samples = row_len / size;
    tmp.clear();
    tmp.resize(row_len, 0);
    for row in data.chunks_exact_mut(row_len) {
        for i in bands..row.len() {
            row[i] = row[i].wrapping_add(row[i - bands]);
        }
        tmp.copy_from_slice(row);
        for (s, out) in row.chunks_exact_mut(size).enumerate() {
            for (byte, o) in out.iter_mut().enumerate() {
                // Byte `byte` of the big-endian sample.
                let plane = if cfg!(target_endian = "big") {
                    byte
                } else {
                    size - 1 - byte
                };
                *o = tmp[plane * samples + s];
            }
        }
    }
}

/// A sample of `N` bytes in native order, as an integer the predictor
/// adds and subtracts with wrap-around (the same for signed and unsigned
/// samples, and what TIFF asks of float samples under predictor 2).
trait Word: Copy {
    fn load(b: &[u8]) -> Self;
    fn store(self, b: &mut [u8]);
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
}

macro_rules! word {
    ($t:ty) => {
        impl Word for $t {
            #[inline(always)]
            fn load(b: &[u8]) -> Self {
                <$t>::from_ne_bytes(b.try_into().expect("sample size"))
            }
            #[inline(always)]
            fn store(self, b: &mut [u8]) {
                b.copy_from_slice(&self.to_ne_bytes());
            }
            #[inline(always)]
            fn add(self, o: Self) -> Self {
                self.wrapping_add(o)
            }
            #[inline(always)]
            fn sub(self, o: Self) -> Self {
                self.wrapping_sub(o)
            }
        }
    };
}

word!(u8);
word!(u16);
word!(u32);
word!(u64);

/// Runs `f::<W>` for the word of `size` bytes.
macro_rules! by_size {
    ($size:expr, $f:ident($($arg:expr),*)) => {
        match $size {
            1 => $f::<u8>($($arg),*),
            2 => $f::<u16>($($arg),*),
            4 => $f::<u32>($($arg),*),
            8 => $f::<u64>($($arg),*),
            s => unreachable!("no band format has {s}-byte samples"),
        }
    };
}

fn predict_rows<W: Word>(data: &mut [u8], row_len: usize, bands: usize) {
    let size = std::mem::size_of::<W>();
    let step = bands * size;
    for row in data.chunks_exact_mut(row_len) {
        for i in (step..row.len()).step_by(size).rev() {
            let d = W::load(&row[i..i + size]).sub(W::load(&row[i - step..i - step + size]));
            d.store(&mut row[i..i + size]);
        }
    }
}

fn unpredict_rows<W: Word>(data: &mut [u8], row_len: usize, bands: usize) {
    let size = std::mem::size_of::<W>();
    let step = bands * size;
    for row in data.chunks_exact_mut(row_len) {
        for i in (step..row.len()).step_by(size) {
            let v = W::load(&row[i..i + size]).add(W::load(&row[i - step..i - step + size]));
            v.store(&mut row[i..i + size]);
        }
    }
}

/// Applies the horizontal predictor (TIFF predictor 2) to rows of
/// `row_len` bytes holding native-order samples of `size` bytes, `bands`
/// per pixel: each sample becomes its difference from the same band of
/// the pixel to its left.
pub(super) fn predict(data: &mut [u8], row_len: usize, bands: usize, size: usize) {
    by_size!(size, predict_rows(data, row_len, bands))
}

/// Undoes [`predict`].
pub(super) fn unpredict(data: &mut [u8], row_len: usize, bands: usize, size: usize) {
    by_size!(size, unpredict_rows(data, row_len, bands))
}

/// Reverses the bytes of every `size`-byte sample.
pub(super) fn swap_samples(data: &mut [u8], size: usize) {
    if size > 1 {
        for s in data.chunks_exact_mut(size) {
            s.reverse();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gigapix_core::BandFormat;

    #[test]
    fn predictor_round_trip() {
        for format in BandFormat::ALL {
            let size = format.size();
            let row = 48 * size / size.min(4);
            let mut data: Vec<u8> = (0..2 * row as u32).map(|i| (i * 37 % 251) as u8).collect();
            let orig = data.clone();
            predict(&mut data, row, 3, size);
            assert_ne!(data, orig, "{format}");
            // Undo by hand: a running sum per band and sample size.
            let mut by_hand = data.clone();
            for r in by_hand.chunks_exact_mut(row) {
                for i in (3 * size..row).step_by(size) {
                    let mut a = [0u8; 8];
                    let mut b = [0u8; 8];
                    a[..size].copy_from_slice(&r[i..i + size]);
                    b[..size].copy_from_slice(&r[i - 3 * size..i - 2 * size]);
                    let sum = u64::from_le_bytes(a).wrapping_add(u64::from_le_bytes(b));
                    r[i..i + size].copy_from_slice(&sum.to_le_bytes()[..size]);
                }
            }
            if cfg!(target_endian = "little") {
                assert_eq!(by_hand, orig, "{format}");
            }
            unpredict(&mut data, row, 3, size);
            assert_eq!(data, orig, "{format}");
        }
    }

    #[test]
    fn packbits_runs() {
        // A literal run of 3, a repeat of 4, a no-op, a literal of 1.
        let src = [2, 1, 2, 3, 0xfd, 9, 0x80, 0, 7];
        let mut out = [0; 8];
        packbits_decode(&src, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 9, 9, 9, 9, 7]);
        // Past the end: cut; too short: an error.
        let mut short = [0; 5];
        packbits_decode(&src, &mut short).unwrap();
        assert_eq!(short, [1, 2, 3, 9, 9]);
        let mut long = [0; 9];
        assert!(packbits_decode(&src, &mut long).is_err());
        assert!(packbits_decode(&[5, 1, 2], &mut [0; 6]).is_err());
        assert!(packbits_decode(&[0xff], &mut [0; 2]).is_err());
    }

    #[test]
    fn fp_predictor_by_hand() {
        // Two pixels of one f32 band: 1.0 (3f800000) and -2.5 (c0200000),
        // stored as byte planes [3f c0 80 20 00 00 00 00], differenced.
        let planes = [0x3fu8, 0xc0, 0x80, 0x20, 0, 0, 0, 0];
        let mut diff = planes;
        for i in (1..8).rev() {
            diff[i] = diff[i].wrapping_sub(diff[i - 1]);
        }
        let mut tmp = Vec::new();
        fp_unpredict(&mut diff, 8, 1, 4, &mut tmp);
        assert_eq!(f32::from_ne_bytes(diff[..4].try_into().unwrap()), 1.0);
        assert_eq!(f32::from_ne_bytes(diff[4..].try_into().unwrap()), -2.5);
    }

    #[test]
    fn lzw_and_deflate_round_trip() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * i % 253) as u8).collect();
        for c in [Compression::Lzw, Compression::Deflate(6)] {
            let packed = compress(c, &data).unwrap();
            let mut out = vec![0; data.len()];
            match c {
                Compression::Lzw => lzw_decode(&packed, &mut out).unwrap(),
                _ => deflate_decode(&packed, &mut out).unwrap(),
            }
            assert_eq!(out, data);
            let mut longer = vec![0; data.len() + 1];
            assert!(
                match c {
                    Compression::Lzw => lzw_decode(&packed, &mut longer),
                    _ => deflate_decode(&packed, &mut longer),
                }
                .is_err()
            );
        }
    }
}
