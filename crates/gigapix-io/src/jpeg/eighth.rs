//! Our 1/8-, 1/4- and 1/2-scale decoder of baseline JPEG, for shrink-on-load:
//! the bytes libjpeg-turbo's scaled decode gives (its C code, which is
//! what the build has without nasm), faster. One decoder, generic over
//! the luma block's output size `S = 8 / shrink`.
//!
//! At 1/8 scale libjpeg outputs one pixel per luma block: the DC
//! coefficient (`jpeg_idct_1x1`). At 1/4 it outputs 2x2 pixels per luma
//! block (`jpeg_idct_2x2`, which reads the coefficients of rows and
//! columns 0, 1, 3, 5, 7), at 1/2 4x4 (`jpeg_idct_4x4`, which reads all
//! but row and column 4). Chroma subsampled 2×2 (4:2:0) is scaled up in
//! the DCT instead of upsampled: blocks of 2S x 2S pixels (`jpeg_idct_2x2`
//! at 1/8, `jpeg_idct_4x4` at 1/4, the full `jpeg_idct_islow` at 1/2);
//! 4:4:4 chroma is scaled like luma. The inverse DCTs are libjpeg's
//! fixed-point ones with its exact results ([`gigapix_simd::idct`], in
//! AVX2 where the CPU has it). Then libjpeg's fixed-point YCbCr→RGB.
//! Entropy decoding is most of the work. At 1/8 most of it is skipping the AC coefficients of luma blocks
//! that are never used: there one table lookup skips a coefficient's code
//! and its value bits at once, where libjpeg looks up the code, then
//! checks its bit buffer and drops the value bits. At 1/4 and 1/2 every
//! coefficient is decoded, most by one lookup of code and value bits.
//!
//! Taken: one interleaved baseline scan (SOF0/SOF1, 8-bit, Huffman) of
//! grey, or YCbCr at 4:4:4 or 4:2:0, restart intervals included. Anything
//! else (progressive, arithmetic, 4:2:2, several scans, ...) returns
//! `None` from [`Frame::parse`] and the caller uses libjpeg. Damaged
//! entropy data decodes to some pixels (libjpeg's concealment is not
//! copied: a marker where data should be reads as zero bits, as libjpeg
//! does), never a panic.
//!
//! Entropy decoding and the pixel work (inverse DCTs, colour conversion)
//! are two stages, handed over in batches of MCU rows, on two threads for
//! a large image when there is a second core (`GIGAPIX_CONCURRENCY=1`
//! keeps them on one); the bytes are the same either way. Flat blocks (no
//! AC coefficient) skip the inverse DCT, whose result for them is one
//! value. On the bench's 3000x2000 4:2:0 JPEGs, `thumbnail_buffer(b,
//! 256).to_buffer(".jpg")` from Python went from 22 to 15-16 ms an image
//! with this.

use std::sync::mpsc;

use gigapix_simd::{Level, idct};

/// libjpeg's zigzag order: natural index of the `k`th coefficient.
const NATURAL: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// The shrinks [`Frame::decode`] takes.
pub(super) const SHRINKS: [usize; 3] = [8, 4, 2];

/// Bits a code is looked up by at once.
const LOOKUP: u32 = 12;

/// A Huffman table for decoding.
#[derive(Clone)]
struct Table {
    /// By the next `LOOKUP` bits: `len << 8 | symbol` of a code of at most
    /// `LOOKUP` bits, 0 for a longer one.
    fast: Box<[u16; 1 << LOOKUP]>,
    /// For AC tables, by the next `LOOKUP` bits: the whole coefficients
    /// (codes and value bits) they hold, skipped at once: bits used (bits
    /// 0-3), coefficients advanced (4-10), whether an end of block ends
    /// them (11); 0 if not even one fits (the slow way).
    skip: Box<[u16; 1 << LOOKUP]>,
    /// For AC tables, by the next `LOOKUP` bits: a coefficient whose code
    /// and value bits they hold, decoded: its value (bits 16-31, 0 for an
    /// end of block or a run of 16 zeros), its run of zeros (8-15), the
    /// bits used (0-7); 0 if it does not fit (the slow way).
    fast_ac: Box<[i32; 1 << LOOKUP]>,
    /// Canonical decoding of longer codes: largest code of each length
    /// (or -1), and the offset from code to symbol index.
    maxcode: [i32; 18],
    valoffset: [i32; 17],
    symbols: Vec<u8>,
}

impl Table {
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Table> {
        let mut fast = Box::new([0u16; 1 << LOOKUP]);
        let mut maxcode = [-1i32; 18];
        let mut valoffset = [0i32; 17];
        let mut code = 0u32;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = usize::from(counts[len as usize - 1]);
            if n > 0 {
                valoffset[len as usize] = k as i32 - code as i32;
                for _ in 0..n {
                    if code >= (1 << len) {
                        return None;
                    }
                    if len <= LOOKUP {
                        let shift = LOOKUP - len;
                        for fill in 0..(1u32 << shift) {
                            fast[((code << shift) | fill) as usize] =
                                ((len as u16) << 8) | u16::from(symbols[k]);
                        }
                    }
                    code += 1;
                    k += 1;
                }
                maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX;
        // Skipping: as many whole coefficients (code and value bits) as
        // the next LOOKUP bits hold, up to an end of block.
        let mut skip = Box::new([0u16; 1 << LOOKUP]);
        for (bits, e) in skip.iter_mut().enumerate() {
            let (mut used, mut advance, mut eob) = (0u32, 0u32, false);
            loop {
                let left = LOOKUP - used;
                let window = (bits << used) & ((1 << LOOKUP) - 1);
                let f = fast[window];
                let len = u32::from(f >> 8);
                if f == 0 || len > left {
                    break;
                }
                let (run, size) = (u32::from((f >> 4) & 15), u32::from(f & 15));
                if size == 0 && run != 15 {
                    used += len;
                    eob = true;
                    break;
                }
                if len + size > left {
                    break;
                }
                let step = if size == 0 { 16 } else { run + 1 };
                if advance + step > 63 {
                    break;
                }
                used += len + size;
                advance += step;
            }
            if advance > 0 || eob {
                *e = (u16::from(eob) << 11) | ((advance as u16) << 4) | used as u16;
            }
        }
        let mut fast_ac = Box::new([0i32; 1 << LOOKUP]);
        for (bits, e) in fast_ac.iter_mut().enumerate() {
            let f = fast[bits];
            let len = u32::from(f >> 8);
            let (run, size) = (i32::from((f >> 4) & 15), u32::from(f & 15));
            if f == 0 || len + size > LOOKUP {
                continue;
            }
            let value = if size == 0 {
                0
            } else {
                extend(
                    (bits as u32 >> (LOOKUP - len - size)) & ((1 << size) - 1),
                    size,
                )
            };
            *e = (value << 16) | (run << 8) | (len + size) as i32;
        }
        Some(Table {
            fast,
            skip,
            fast_ac,
            maxcode,
            valoffset,
            symbols: symbols[..k].to_vec(),
        })
    }
}

/// Reads entropy-coded bits: byte stuffing undone, and zero bits once a
/// marker is reached (as libjpeg).
#[derive(Clone, Copy)]
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    /// Valid bits in `acc`, from its top.
    n: u32,
    /// A marker (or the end) was reached.
    marker: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Bits {
            data,
            pos,
            acc: 0,
            n: 0,
            marker: false,
        }
    }

    /// At least 32 valid bits afterwards (a code and its value bits are
    /// at most 31): when fewer are left, the accumulator is filled to at
    /// least 57.
    #[inline(always)]
    fn refill(&mut self) {
        if self.n >= 32 {
            return;
        }
        // Fast: 8 bytes with no 0xFF among them.
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let w = u64::from_be_bytes(chunk.try_into().expect("8 bytes"));
            let has_ff = (!w).wrapping_sub(0x0101_0101_0101_0101) & w & 0x8080_8080_8080_8080;
            if has_ff == 0 && !self.marker {
                let take = (64 - self.n) / 8;
                self.acc |= (w >> (64 - 8 * take)) << (64 - self.n - 8 * take);
                self.n += 8 * take;
                self.pos += take as usize;
                return;
            }
        }
        while self.n <= 56 {
            let mut b = 0u8;
            if !self.marker {
                match self.data.get(self.pos) {
                    Some(&0xFF) => match self.data.get(self.pos + 1) {
                        Some(0) => {
                            b = 0xFF;
                            self.pos += 2;
                        }
                        _ => self.marker = true,
                    },
                    Some(&v) => {
                        b = v;
                        self.pos += 1;
                    }
                    None => self.marker = true,
                }
            }
            self.acc |= u64::from(b) << (56 - self.n);
            self.n += 8;
        }
    }

    #[inline(always)]
    fn peek(&self, bits: u32) -> u32 {
        (self.acc >> (64 - bits)) as u32
    }

    /// The next `LOOKUP` bits, as a table index.
    #[inline(always)]
    fn index(&self) -> usize {
        (self.acc >> (64 - LOOKUP)) as usize & ((1 << LOOKUP) - 1)
    }

    #[inline(always)]
    fn drop_bits(&mut self, bits: u32) {
        self.acc <<= bits;
        self.n -= bits;
    }

    /// The next `bits` (1 to 16) bits.
    #[inline(always)]
    fn take(&mut self, bits: u32) -> u32 {
        let v = self.peek(bits);
        self.drop_bits(bits);
        v
    }

    /// Decodes one symbol (refilled by the caller: 16 bits available).
    #[inline(always)]
    fn symbol(&mut self, t: &Table) -> u8 {
        let e = t.fast[self.index()];
        if e != 0 {
            self.drop_bits(u32::from(e >> 8));
            return e as u8;
        }
        let mut len = LOOKUP + 1;
        let mut code = self.peek(len) as i32;
        while code > t.maxcode[len as usize] {
            len += 1;
            code = self.peek(len.min(16)) as i32;
            if len > 16 {
                // Not a code of this table: libjpeg warns and uses 0.
                self.drop_bits(16);
                return 0;
            }
        }
        self.drop_bits(len);
        let i = (code + t.valoffset[len as usize]) as usize;
        t.symbols.get(i).copied().unwrap_or(0)
    }

    /// The reader moved to the next byte, for a restart marker, and past
    /// the marker.
    #[inline(never)]
    fn restarted(mut self) -> Self {
        self.restart();
        self
    }

    /// Skips to the next byte, for a restart marker, and past the marker.
    fn restart(&mut self) {
        self.acc = 0;
        self.n = 0;
        // The bits left were read ahead of `pos`: find the marker from the
        // last whole byte consumed on.
        let mut p = self.pos;
        while p + 1 < self.data.len()
            && !(self.data[p] == 0xFF && (0xD0..=0xD7).contains(&self.data[p + 1]))
        {
            if self.data[p] == 0xFF && self.data[p + 1] != 0 && self.data[p + 1] != 0xFF {
                // Some other marker: leave it (the rest reads as zeros).
                self.pos = p;
                self.marker = true;
                return;
            }
            p += 1;
        }
        self.pos = (p + 2).min(self.data.len());
        self.marker = false;
    }
}

/// `HUFF_EXTEND`: the signed value of `size` bits `v`.
#[inline(always)]
fn extend(v: u32, size: u32) -> i32 {
    if v < (1 << (size - 1)) {
        v as i32 - (1 << size) + 1
    } else {
        v as i32
    }
}

/// A component of the frame.
#[derive(Clone, Copy)]
struct Comp {
    h: usize,
    v: usize,
    quant: usize,
    dc: usize,
    ac: usize,
}

/// A baseline frame this decoder takes, parsed up to its scan.
pub(super) struct Frame {
    width: usize,
    height: usize,
    comps: Vec<Comp>,
    quant: [[u16; 64]; 4],
    dc: [Option<Table>; 4],
    ac: [Option<Table>; 4],
    restart: usize,
    /// Where the entropy-coded data starts.
    scan: usize,
}

/// A component's id and description, as the frame header lists them.
type FrameComp = (u8, Comp);

fn be16(d: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *d.get(at)?,
        *d.get(at + 1)?,
    ])))
}

impl Frame {
    /// The frame of `data` (a whole JPEG file) if this decoder takes it:
    /// `grey` says whether the caller decodes it as one grey band (a
    /// one-component file) or as YCbCr to RGB.
    pub(super) fn parse(data: &[u8], grey: bool) -> Option<Frame> {
        if data.get(..2)? != [0xFF, 0xD8] {
            return None;
        }
        let mut quant = [[0u16; 64]; 4];
        let mut dc: [Option<Table>; 4] = Default::default();
        let mut ac: [Option<Table>; 4] = Default::default();
        let mut restart = 0;
        // Width, height, and the components with their ids.
        let mut frame: Option<(usize, usize, Vec<FrameComp>)> = None;
        let mut i = 2;
        loop {
            if *data.get(i)? != 0xFF {
                return None;
            }
            let marker = *data.get(i + 1)?;
            if marker == 0xFF {
                i += 1;
                continue;
            }
            let len = be16(data, i + 2)?;
            let seg = data.get(i + 4..i + 2 + len)?;
            match marker {
                0xC0 | 0xC1 => {
                    if frame.is_some() || *seg.first()? != 8 {
                        return None;
                    }
                    let height = be16(seg, 1)?;
                    let width = be16(seg, 3)?;
                    let n = usize::from(*seg.get(5)?);
                    let mut comps = Vec::new();
                    for c in 0..n {
                        let s = seg.get(6 + 3 * c..9 + 3 * c)?;
                        let (h, v) = (usize::from(s[1] >> 4), usize::from(s[1] & 15));
                        if s[2] > 3 || !(1..=4).contains(&h) || !(1..=4).contains(&v) {
                            return None;
                        }
                        comps.push((
                            s[0],
                            Comp {
                                h,
                                v,
                                quant: usize::from(s[2]),
                                dc: 0,
                                ac: 0,
                            },
                        ));
                    }
                    if width == 0 || height == 0 {
                        return None;
                    }
                    frame = Some((width, height, comps));
                }
                // Progressive, lossless, arithmetic, hierarchical.
                0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
                0xC4 => {
                    let mut s = seg;
                    while !s.is_empty() {
                        let class_id = s[0];
                        let counts: [u8; 16] = s.get(1..17)?.try_into().ok()?;
                        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                        let symbols = s.get(17..17 + total)?;
                        let t = Table::new(&counts, symbols)?;
                        let id = usize::from(class_id & 15);
                        match class_id >> 4 {
                            0 if id < 4 => dc[id] = Some(t),
                            1 if id < 4 => ac[id] = Some(t),
                            _ => return None,
                        }
                        s = &s[17 + total..];
                    }
                }
                0xDB => {
                    let mut s = seg;
                    while !s.is_empty() {
                        let (precision, id) = (s[0] >> 4, usize::from(s[0] & 15));
                        if id > 3 || precision > 1 {
                            return None;
                        }
                        let size = if precision == 0 { 64 } else { 128 };
                        let values = s.get(1..1 + size)?;
                        for k in 0..64 {
                            quant[id][usize::from(NATURAL[k])] = if precision == 0 {
                                u16::from(values[k])
                            } else {
                                u16::from_be_bytes([values[2 * k], values[2 * k + 1]])
                            };
                        }
                        s = &s[1 + size..];
                    }
                }
                0xDD => restart = be16(seg, 0)?,
                0xDA => {
                    let (width, height, comps) = frame?;
                    let n = usize::from(*seg.first()?);
                    if n != comps.len() || seg.get(1 + 2 * n..4 + 2 * n)? != [0, 63, 0] {
                        return None;
                    }
                    let mut ordered = Vec::new();
                    for c in 0..n {
                        let id = seg[1 + 2 * c];
                        let tables = seg[2 + 2 * c];
                        let (_, mut comp) = *comps.iter().find(|(cid, _)| *cid == id)?;
                        comp.dc = usize::from(tables >> 4);
                        comp.ac = usize::from(tables & 15);
                        if comp.dc > 3 || comp.ac > 3 {
                            return None;
                        }
                        ordered.push(comp);
                    }
                    // Scan order must be the frame's, for libjpeg's MCU
                    // layout to be the one we assume.
                    let same_order = comps
                        .iter()
                        .zip(seg[1..].chunks(2))
                        .all(|((id, _), s)| *id == s[0]);
                    let shape_ok = match ordered.as_slice() {
                        [y] => grey && y.h == y.v,
                        [y, cb, cr] => {
                            !grey
                                && cb.h == 1
                                && cb.v == 1
                                && cr.h == 1
                                && cr.v == 1
                                && ((y.h == 1 && y.v == 1) || (y.h == 2 && y.v == 2))
                        }
                        _ => false,
                    };
                    let tables_ok = ordered
                        .iter()
                        .all(|c| dc[c.dc].is_some() && ac[c.ac].is_some());
                    if !same_order || !shape_ok || !tables_ok {
                        return None;
                    }
                    // One-component scans are one block per MCU.
                    if let [y] = ordered.as_mut_slice() {
                        y.h = 1;
                        y.v = 1;
                    }
                    return Some(Frame {
                        width,
                        height,
                        comps: ordered,
                        quant,
                        dc,
                        ac,
                        restart,
                        scan: i + 2 + len,
                    });
                }
                0xD8 | 0xD9 | 0xD0..=0xD7 | 0x01 => return None,
                _ => {}
            }
            i += 2 + len;
        }
    }

    /// The output size at `1/shrink`: libjpeg's `ceil(width / shrink) ×
    /// ceil(height / shrink)`.
    pub(super) fn size(&self, shrink: usize) -> (usize, usize) {
        (self.width.div_ceil(shrink), self.height.div_ceil(shrink))
    }

    /// Decodes the scan of `data` at `1/shrink` (one of [`SHRINKS`]),
    /// handing the output rows of each MCU row (packed, 1 or 3 bands) to
    /// `emit`, which returns `false` to stop. Another `shrink` emits
    /// nothing.
    pub(super) fn decode(&self, data: &[u8], shrink: usize, emit: impl FnMut(&[u8]) -> bool) {
        match shrink {
            8 => self.decode_at::<1>(data, emit),
            4 => self.decode_at::<2>(data, emit),
            2 => self.decode_at::<4>(data, emit),
            _ => {}
        }
    }

    /// [`Frame::decode`] with luma blocks of `S` × `S` output pixels
    /// (`S = 8 / shrink`). Two stages: entropy decoding into a row of
    /// coefficient blocks per MCU row, then the inverse DCTs and colour
    /// conversion of the row. On a large image with a second core they
    /// run on two threads, a few MCU rows apart; the bytes are the same.
    fn decode_at<const S: usize>(&self, data: &[u8], emit: impl FnMut(&[u8]) -> bool) {
        let piped = self.height > 32
            && data.len().saturating_sub(self.scan) >= PIPELINE_MIN_BYTES
            && gigapix_core::default_threads() > 1;
        self.decode_staged::<S>(data, piped, emit);
    }

    /// [`Frame::decode_at`], on two threads if `piped`.
    fn decode_staged<const S: usize>(
        &self,
        data: &[u8],
        piped: bool,
        mut emit: impl FnMut(&[u8]) -> bool,
    ) {
        let layout = Layout::new::<S>(self);
        let mut pixels = Pixels::new(&layout);
        if !piped {
            return self.one_thread(data, &layout, &mut pixels, &mut emit);
        }
        let batch = layout.batch_rows();
        let (full_tx, full_rx) = mpsc::sync_channel::<(Coefficients, usize)>(BATCHES_IN_FLIGHT);
        let (free_tx, free_rx) = mpsc::channel::<Coefficients>();
        std::thread::scope(|scope| {
            // Owned here, so that returning drops it and the entropy
            // thread's next send fails, and it returns.
            let full_rx = full_rx;
            let layout = &layout;
            let mut entropy = Entropy::new(self, data);
            let spawned = std::thread::Builder::new()
                .name("jpeg-entropy".to_string())
                .spawn_scoped(scope, move || {
                    for first in (0..layout.mcu_rows).step_by(batch) {
                        let rows = batch.min(layout.mcu_rows - first);
                        let mut c = free_rx
                            .try_recv()
                            .unwrap_or_else(|_| layout.coefficients(batch));
                        entropy.rows(layout, &mut c, rows);
                        if full_tx.send((c, rows)).is_err() {
                            return;
                        }
                    }
                });
            if spawned.is_err() {
                return self.one_thread(data, layout, &mut pixels, &mut emit);
            }
            let mut my = 0;
            while let Ok((mut c, rows)) = full_rx.recv() {
                for r in 0..rows {
                    if !emit(pixels.row(self, layout, &mut c, r, my)) {
                        return;
                    }
                    my += 1;
                }
                let _ = free_tx.send(c);
            }
        });
    }

    /// Both stages on this thread, one MCU row at a time.
    fn one_thread(
        &self,
        data: &[u8],
        layout: &Layout,
        pixels: &mut Pixels,
        emit: &mut impl FnMut(&[u8]) -> bool,
    ) {
        let mut entropy = Entropy::new(self, data);
        let mut c = layout.coefficients(1);
        for my in 0..layout.mcu_rows {
            entropy.rows(layout, &mut c, 1);
            if !emit(pixels.row(self, layout, &mut c, 0, my)) {
                return;
            }
        }
    }
}

/// Entropy-coded bytes from which decoding runs on two threads.
const PIPELINE_MIN_BYTES: usize = 64 << 10;

/// Batches of MCU rows of coefficients decoded ahead of the inverse
/// DCTs.
const BATCHES_IN_FLIGHT: usize = 2;

/// Coefficient bytes of a batch (at least one MCU row): the entropy
/// thread hands rows over in batches, so that the pixel thread, which is
/// faster, is woken a few times an image, not once an MCU row.
const BATCH_BYTES: usize = 512 << 10;

/// Coefficient memory of a decode on two threads, of MCU rows of
/// `row_bytes` bytes of coefficients: the batches in flight, the one being
/// decoded and the one being turned into pixels.
pub(super) fn coefficient_bytes(row_bytes: u64) -> u64 {
    let batch = (BATCH_BYTES as u64 / row_bytes.max(1)).max(1) * row_bytes;
    (BATCHES_IN_FLIGHT as u64 + 2) * batch
}

/// One block of an MCU: its component, its output size (`size` ×
/// `size` pixels) and where its pixels go in the component's plane of
/// the MCU row.
struct Slot {
    ci: usize,
    size: usize,
    /// Offset of the block's first pixel in the first MCU, and the
    /// offset from one MCU to the next.
    base: usize,
    step: usize,
}

/// The MCU geometry of a decode at `S` (see [`Frame::decode_at`]).
struct Layout {
    mcu_cols: usize,
    mcu_rows: usize,
    slots: Vec<Slot>,
    /// Pixels of a plane row and plane rows of an MCU row, before
    /// cropping.
    row_px: usize,
    mcu_out_rows: usize,
    out_w: usize,
    out_h: usize,
}

impl Layout {
    fn new<const S: usize>(f: &Frame) -> Layout {
        let (hmax, vmax) = (f.comps[0].h, f.comps[0].v);
        let (out_w, out_h) = f.size(8 / S);
        let row_px = f.width.div_ceil(8 * hmax) * hmax * S;
        let mut slots = Vec::new();
        for (ci, comp) in f.comps.iter().enumerate() {
            // Chroma of 4:2:0 is scaled up in the DCT: blocks of 2S x 2S
            // pixels.
            let size = if ci > 0 && hmax == 2 { 2 * S } else { S };
            for by in 0..comp.v {
                for bx in 0..comp.h {
                    slots.push(Slot {
                        ci,
                        size,
                        base: by * size * row_px + bx * size,
                        step: comp.h * size,
                    });
                }
            }
        }
        Layout {
            mcu_cols: f.width.div_ceil(8 * hmax),
            mcu_rows: f.height.div_ceil(8 * vmax),
            slots,
            row_px,
            mcu_out_rows: vmax * S,
            out_w,
            out_h,
        }
    }

    /// Blocks of one MCU row.
    fn row_blocks(&self) -> usize {
        self.mcu_cols * self.slots.len()
    }

    /// MCU rows in a batch of [`BATCH_BYTES`].
    fn batch_rows(&self) -> usize {
        (BATCH_BYTES / (self.row_blocks() * size_of::<[i16; 64]>())).max(1)
    }

    /// Zeroed coefficients of `rows` MCU rows.
    fn coefficients(&self, rows: usize) -> Coefficients {
        let n = rows * self.row_blocks();
        Coefficients {
            blocks: vec![[0; 64]; n],
            last: vec![0; n],
        }
    }
}

/// The quantised coefficients of the blocks of MCU rows (natural order,
/// in row, MCU then slot order), and the zigzag index of each block's last
/// decoded AC coefficient (0 for none: a flat block). Blocks are all
/// zero again once their pixels are made.
struct Coefficients {
    blocks: Vec<[i16; 64]>,
    last: Vec<u8>,
}

/// The entropy decoder's state between MCU rows.
struct Entropy<'a> {
    bits: Bits<'a>,
    pred: [i32; 3],
    /// MCUs left before the next restart marker.
    todo: usize,
    restart: usize,
    /// DC and AC tables by component.
    tables: Vec<(&'a Table, &'a Table)>,
}

impl<'a> Entropy<'a> {
    fn new(f: &'a Frame, data: &'a [u8]) -> Entropy<'a> {
        Entropy {
            bits: Bits::new(data, f.scan),
            pred: [0; 3],
            todo: f.restart,
            restart: f.restart,
            tables: f
                .comps
                .iter()
                .map(|c| {
                    (
                        f.dc[c.dc].as_ref().expect("checked by parse"),
                        f.ac[c.ac].as_ref().expect("checked by parse"),
                    )
                })
                .collect(),
        }
    }

    /// Decodes the next `rows` MCU rows into `out` (zeroed). Blocks of
    /// one output pixel get their DC only.
    fn rows(&mut self, layout: &Layout, out: &mut Coefficients, rows: usize) {
        // A copy of the reader whose address no call takes, so that its
        // accumulator stays in registers.
        let mut copy = self.bits;
        let bits = &mut copy;
        let mut i = 0;
        for _ in 0..rows * layout.mcu_cols {
            if self.restart > 0 {
                if self.todo == 0 {
                    *bits = bits.restarted();
                    self.pred = [0; 3];
                    self.todo = self.restart;
                }
                self.todo -= 1;
            }
            for slot in &layout.slots {
                let (dct, act) = self.tables[slot.ci];
                bits.refill();
                let s = u32::from(bits.symbol(dct) & 15);
                if s > 0 {
                    if s > 11 {
                        bits.drop_bits(s.min(16));
                    } else {
                        let v = bits.take(s);
                        self.pred[slot.ci] = self.pred[slot.ci].wrapping_add(extend(v, s));
                    }
                }
                // libjpeg keeps coefficients as 16 bits.
                out.blocks[i][0] = self.pred[slot.ci] as i16;
                if slot.size == 1 {
                    skip_ac(bits, act);
                } else {
                    out.last[i] = decode_ac(bits, act, &mut out.blocks[i]);
                }
                i += 1;
            }
        }
        self.bits = copy;
    }
}

/// The planes and output rows of the pixel stage.
struct Pixels {
    planes: Vec<Vec<u8>>,
    out: Vec<u8>,
    colour: bool,
    level: Level,
}

impl Pixels {
    fn new(layout: &Layout) -> Pixels {
        let planes = 1 + layout.slots.iter().map(|s| s.ci).max().unwrap_or(0);
        let colour = planes == 3;
        let bands = if colour { 3 } else { 1 };
        Pixels {
            planes: vec![vec![0u8; layout.row_px * layout.mcu_out_rows]; planes],
            out: vec![0u8; layout.out_w * layout.mcu_out_rows * bands],
            colour,
            level: gigapix_simd::level(),
        }
    }

    /// The output rows of MCU row `my` from its coefficients, row `r` of
    /// `c`, which are left zeroed.
    fn row(
        &mut self,
        f: &Frame,
        layout: &Layout,
        c: &mut Coefficients,
        r: usize,
        my: usize,
    ) -> &[u8] {
        let quant: Vec<&[u16; 64]> = f.comps.iter().map(|c| &f.quant[c.quant]).collect();
        let stride = layout.row_px;
        let mut i = r * layout.row_blocks();
        for mx in 0..layout.mcu_cols {
            for slot in &layout.slots {
                let (q, block) = (quant[slot.ci], &mut c.blocks[i]);
                let plane = &mut self.planes[slot.ci][slot.base + mx * slot.step..];
                let dc = i32::from(block[0]);
                if slot.size == 1 {
                    // `jpeg_idct_1x1`.
                    plane[0] = idct::range_limit(i64::from((dc * i32::from(q[0]) + 4) >> 3));
                    block[0] = 0;
                } else if c.last[i] == 0 {
                    // A flat block: one value, as the IDCT would give.
                    let v = idct::flat(dc.wrapping_mul(i32::from(q[0])));
                    for r in 0..slot.size {
                        plane[r * stride..r * stride + slot.size].fill(v);
                    }
                    block[0] = 0;
                } else {
                    match slot.size {
                        2 => idct::idct_2x2(self.level, block, q, plane, stride),
                        4 => idct::idct_4x4(self.level, block, q, plane, stride),
                        _ => idct::idct_8x8(self.level, block, q, plane, stride),
                    }
                    *block = [0; 64];
                    c.last[i] = 0;
                }
                i += 1;
            }
        }
        // Colour conversion of the MCU row's output rows.
        let (out_w, bands) = (layout.out_w, if self.colour { 3 } else { 1 });
        let rows = layout
            .mcu_out_rows
            .min(layout.out_h - my * layout.mcu_out_rows);
        for r in 0..rows {
            let dst = &mut self.out[r * out_w * bands..(r + 1) * out_w * bands];
            let y = &self.planes[0][r * stride..r * stride + out_w];
            if self.colour {
                let cb = &self.planes[1][r * stride..r * stride + out_w];
                let cr = &self.planes[2][r * stride..r * stride + out_w];
                ycc_to_rgb(y, cb, cr, dst);
            } else {
                dst.copy_from_slice(y);
            }
        }
        &self.out[..rows * out_w * bands]
    }
}

/// Skips the AC coefficients of a block.
#[inline(always)]
fn skip_ac(bits: &mut Bits<'_>, t: &Table) {
    let mut k = 1u32;
    while k < 64 {
        bits.refill();
        let e = u32::from(t.skip[bits.index()]);
        // An end of block after the 63rd coefficient is not one: the
        // block has ended, and the code is the next block's.
        let end = k + ((e >> 4) & 0x7F) + ((e >> 11) & 1);
        if e != 0 && end <= 64 {
            bits.drop_bits(e & 15);
            k += (e >> 4) & 0x7F;
            if e & 0x800 != 0 {
                return;
            }
            continue;
        }
        let sym = bits.symbol(t);
        let (run, size) = (u32::from(sym >> 4), u32::from(sym & 15));
        if size > 0 {
            k += run + 1;
            bits.drop_bits(size);
        } else if run == 15 {
            k += 16;
        } else {
            return;
        }
    }
}

/// Decodes the AC coefficients of a block into `block` (natural order,
/// zeroed but for the DC): the zigzag index of the last one, 0 if none.
#[inline(always)]
fn decode_ac(bits: &mut Bits<'_>, t: &Table, block: &mut [i16; 64]) -> u8 {
    let mut k = 1usize;
    let mut last = 0;
    while k < 64 {
        bits.refill();
        let e = t.fast_ac[bits.index()];
        let (run, value) = if e != 0 {
            bits.drop_bits((e & 0xFF) as u32);
            (((e >> 8) & 0xFF) as usize, e >> 16)
        } else {
            let sym = bits.symbol(t);
            let (run, size) = (usize::from(sym >> 4), u32::from(sym & 15));
            if size == 0 {
                (run, 0)
            } else {
                (run, extend(bits.take(size), size))
            }
        };
        if value != 0 {
            k += run;
            if k < 64 {
                // Values have at most 15 bits.
                block[usize::from(NATURAL[k])] = value as i16;
                last = k as u8;
            }
            k += 1;
        } else if run == 15 {
            k += 16;
        } else {
            return last;
        }
    }
    last
}

/// libjpeg's `ycc_rgb_convert` (jdcolor.c), with its tables computed on
/// the fly.
fn ycc_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    const ONE_HALF: i32 = 1 << 15;
    const FIX_1_40200: i32 = 91881;
    const FIX_1_77200: i32 = 116130;
    const FIX_0_71414: i32 = 46802;
    const FIX_0_34414: i32 = 22554;
    for (((&y, &cb), &cr), px) in y.iter().zip(cb).zip(cr).zip(out.chunks_exact_mut(3)) {
        let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
        let r = y + ((FIX_1_40200 * cr + ONE_HALF) >> 16);
        let g = y + ((-FIX_0_34414 * cb + ONE_HALF - FIX_0_71414 * cr) >> 16);
        let b = y + ((FIX_1_77200 * cb + ONE_HALF) >> 16);
        px[0] = r.clamp(0, 255) as u8;
        px[1] = g.clamp(0, 255) as u8;
        px[2] = b.clamp(0, 255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::super::encode::{Sampling, StripEncoder};
    use super::*;

    /// libjpeg's (MozJPEG's C code) `1/shrink` decode of `data`.
    fn libjpeg(data: &[u8], grey: bool, shrink: usize) -> Vec<u8> {
        let mut d = mozjpeg::Decompress::builder().from_mem(data).unwrap();
        d.scale((8 / shrink) as u8);
        let space = if grey {
            mozjpeg::ColorSpace::JCS_GRAYSCALE
        } else {
            mozjpeg::ColorSpace::JCS_RGB
        };
        let mut s = d.to_colorspace(space).unwrap();
        let mut out = vec![0u8; s.width() * s.height() * if grey { 1 } else { 3 }];
        s.read_scanlines_into::<u8>(&mut out).unwrap();
        out
    }

    fn ours(data: &[u8], grey: bool, shrink: usize) -> Option<Vec<u8>> {
        let frame = Frame::parse(data, grey)?;
        let mut out = Vec::new();
        frame.decode(data, shrink, |rows| {
            out.extend_from_slice(rows);
            true
        });
        let (w, h) = frame.size(shrink);
        assert_eq!(out.len(), w * h * if grey { 1 } else { 3 });
        Some(out)
    }

    /// JPEGs of every shape this decoder takes, from our encoder (4:2:0,
    /// 4:4:4, grey, restart intervals, odd sizes) and the fixtures made
    /// by libjpeg and Pillow: the bytes are libjpeg's.
    #[test]
    fn bytes_are_libjpegs() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut taken = 0;
        for sub in ["jpeg", "jpeg-edge"] {
            for entry in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "jpg") {
                    continue;
                }
                let data = std::fs::read(&path).unwrap();
                let grey = path
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with("grey");
                for shrink in SHRINKS {
                    if let Some(got) = ours(&data, grey, shrink) {
                        let want = libjpeg(&data, grey, shrink);
                        assert!(got == want, "{} 1/{shrink}", path.display());
                        taken += 1;
                    }
                }
            }
        }
        assert!(taken >= 8 * SHRINKS.len(), "only {taken} fixtures taken");
    }

    /// Noise over a ramp (so blocks differ in their DC too), `bands`
    /// bands.
    fn noise(w: usize, h: usize, bands: usize, seed: u32) -> Vec<u8> {
        let mut seed = seed;
        (0..w * h * bands)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((seed >> 24) as usize / 2 + (i % (w * bands)) / 2) as u8
            })
            .collect()
    }

    /// MozJPEG's encoding of `pixels` (grey, or RGB with chroma sampled
    /// 1/`samp`).
    fn mozjpeg(
        pixels: &[u8],
        w: usize,
        h: usize,
        grey: bool,
        samp: u8,
        q: u8,
        optimize: bool,
    ) -> Vec<u8> {
        use mozjpeg::{ColorSpace, Compress};
        let mut c = Compress::new(if grey {
            ColorSpace::JCS_GRAYSCALE
        } else {
            ColorSpace::JCS_RGB
        });
        c.set_fastest_defaults();
        c.set_size(w, h);
        c.set_quality(f32::from(q));
        c.set_optimize_coding(optimize);
        if !grey {
            c.set_chroma_sampling_pixel_sizes((samp, samp), (samp, samp));
        }
        let mut started = c.start_compress(Vec::new()).unwrap();
        started.write_scanlines(pixels).unwrap();
        started.finish().unwrap()
    }

    /// Our encoder's JPEG of `pixels`, a restart interval every `strip`
    /// iMCU rows.
    fn with_restarts(
        pixels: &[u8],
        w: usize,
        h: usize,
        sampling: Sampling,
        q: u8,
        strip: usize,
    ) -> Vec<u8> {
        let (hf, vf, bands) = match sampling {
            Sampling::Grey => (1, 1, 1),
            Sampling::Ycc { h, v } => (h, v, 3),
        };
        let mut enc = StripEncoder::new(gigapix_simd::level(), w, sampling, q);
        let rows = 8 * vf * strip;
        let interval = w.div_ceil(8 * hf) * strip;
        let mut out = enc.headers(h as u16, interval as u16);
        for (n, chunk) in pixels.chunks(rows * w * bands).enumerate() {
            if n > 0 {
                out.extend([0xFF, 0xD0 + (n - 1) as u8 % 8]);
            }
            enc.encode(chunk.len() / (w * bands), chunk, &mut out);
        }
        out.extend([0xFF, 0xD9]);
        out
    }

    /// Noise at high quality fills blocks to their 63rd coefficient (where
    /// no end of block is coded); Q100 gives large coefficients (range
    /// limiting); optimised Huffman tables; odd sizes.
    #[test]
    fn full_blocks_and_optimised_tables_are_libjpegs() {
        let mut seed = 7u32;
        for (w, h, grey, samp, q, optimize) in [
            (67, 45, false, 2, 100, false),
            (67, 45, false, 1, 100, true),
            (40, 33, true, 1, 100, false),
            (129, 70, false, 2, 95, true),
            (129, 70, false, 2, 60, false),
            (17, 9, true, 1, 30, true),
            (17, 9, false, 2, 75, false),
            (17, 9, false, 1, 30, false),
            (1, 1, false, 2, 95, false),
            (1, 1, true, 1, 100, false),
            (1001, 667, false, 2, 75, false),
            (1001, 667, false, 1, 30, true),
            (1001, 667, true, 1, 95, false),
            (333, 97, false, 2, 100, true),
        ] {
            seed += 1;
            let pixels = noise(w, h, if grey { 1 } else { 3 }, seed);
            let data = mozjpeg(&pixels, w, h, grey, samp, q, optimize);
            for shrink in SHRINKS {
                let got = ours(&data, grey, shrink).expect("a shape we take");
                assert!(
                    got == libjpeg(&data, grey, shrink),
                    "{w}x{h} grey {grey} 1/{samp} Q{q} 1/{shrink}"
                );
            }
        }
    }

    /// Restart intervals (of several iMCU rows, and of one), from our
    /// encoder (libjpeg's bitstream).
    #[test]
    fn restart_intervals_are_libjpegs() {
        for (w, h, sampling, q, strip) in [
            (1001, 667, Sampling::Ycc { h: 2, v: 2 }, 75, 3),
            (1001, 667, Sampling::Ycc { h: 1, v: 1 }, 100, 1),
            (1001, 667, Sampling::Grey, 30, 2),
            (17, 9, Sampling::Ycc { h: 2, v: 2 }, 95, 1),
            (200, 150, Sampling::Ycc { h: 2, v: 2 }, 100, 1),
        ] {
            let grey = sampling == Sampling::Grey;
            let pixels = noise(w, h, if grey { 1 } else { 3 }, w as u32);
            let data = with_restarts(&pixels, w, h, sampling, q, strip);
            for shrink in SHRINKS {
                let got = ours(&data, grey, shrink).expect("a shape we take");
                assert!(
                    got == libjpeg(&data, grey, shrink),
                    "{w}x{h} {sampling:?} Q{q} every {strip} 1/{shrink}"
                );
            }
        }
    }

    /// On two threads or one, the same bytes; a consumer that stops
    /// early stops both stages.
    #[test]
    fn two_stages_are_one() {
        let (w, h) = (1001, 667);
        let pixels = noise(w, h, 3, 99);
        for samp in [1, 2] {
            let data = mozjpeg(&pixels, w, h, false, samp, 90, false);
            let frame = Frame::parse(&data, false).unwrap();
            let run = |piped: bool, stop: usize| {
                let (mut out, mut calls) = (Vec::new(), 0);
                let emit = |rows: &[u8]| {
                    out.extend_from_slice(rows);
                    calls += 1;
                    calls < stop
                };
                match samp {
                    1 => frame.decode_staged::<2>(&data, piped, emit),
                    _ => frame.decode_staged::<4>(&data, piped, emit),
                }
                (out, calls)
            };
            let (one, _) = run(false, usize::MAX);
            assert!(one == run(true, usize::MAX).0, "1/{samp}");
            assert_eq!(run(true, 3).1, 3);
        }
    }

    #[test]
    fn not_taken() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jpeg");
        for (f, grey) in [
            ("progressive.jpg", false),
            ("b422.jpg", false),
            ("cmyk.jpg", false),
        ] {
            let data = std::fs::read(format!("{dir}/{f}")).unwrap();
            assert!(Frame::parse(&data, grey).is_none(), "{f}");
        }
    }

    /// Truncated and flipped entropy data: some pixels, no panic.
    #[test]
    fn damaged_data_does_not_panic() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jpeg");
        for f in ["b420.jpg", "restart.jpg", "b444.jpg"] {
            let data = std::fs::read(format!("{dir}/{f}")).unwrap();
            for cut in [data.len() / 3, data.len() / 2, data.len() - 3] {
                for shrink in SHRINKS {
                    let _ = ours(&data[..cut], false, shrink);
                }
            }
            let mut seed = 1u32;
            for _ in 0..50 {
                let mut d = data.clone();
                for _ in 0..8 {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let at = 200 + (seed as usize >> 8) % (d.len() - 200);
                    d[at] ^= (seed >> 3) as u8 | 1;
                }
                for shrink in SHRINKS {
                    let _ = ours(&d, false, shrink);
                }
            }
        }
    }
}
