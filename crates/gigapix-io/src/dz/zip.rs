//! A small streaming zip writer: every entry's bytes are in memory when it
//! is added (a tile, a descriptor), so its local header carries the CRC-32
//! and sizes and nothing is ever written twice or sought back to. Entries
//! are stored (method 0: tiles are JPEG or PNG already) or deflated
//! (method 8, for descriptors when asked). ZIP64 records are written when
//! an offset or the central directory passes 4 GiB or there are more than
//! 65 535 entries, as APPNOTE 6.3.9 section 4.3.14 and 4.5.3 say.
//!
//! Why not the `zip` crate: its writer seeks back to patch local headers
//! (or, in its streaming mode, adds data descriptors), and we know every
//! size up front; this is about 200 lines with `crc32fast`'s CRC.

use std::io::Write;

/// Offsets and sizes at or beyond this need ZIP64 fields.
const MAX32: u64 = 0xFFFF_FFFF;
/// Entries beyond this need the ZIP64 end record.
const MAX16: usize = 0xFFFF;

/// 1980-01-01 00:00:00 in MS-DOS form (what libvips writes too): the
/// archive's bytes do not depend on the clock.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

/// Bit 11 of the flags: the name is UTF-8.
const UTF8: u16 = 1 << 11;

struct Entry {
    name: Vec<u8>,
    crc: u32,
    method: u16,
    compressed: u64,
    size: u64,
    offset: u64,
}

/// Writes a zip archive to `out` in one forward pass.
pub(crate) struct ZipWriter<W: Write> {
    out: W,
    pos: u64,
    entries: Vec<Entry>,
}

fn u16le(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn u32le(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn u64le(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

impl<W: Write> ZipWriter<W> {
    /// A writer at the start of `out`.
    pub(crate) fn new(out: W) -> ZipWriter<W> {
        ZipWriter {
            out,
            pos: 0,
            entries: Vec::new(),
        }
    }

    /// Entries written so far.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    /// Adds the file `name` (forward slashes, no leading slash) holding
    /// `data`, stored, or deflated when `deflate` is set.
    pub(crate) fn add(&mut self, name: &str, data: &[u8], deflate: bool) -> std::io::Result<()> {
        let crc = crc32fast::hash(data);
        let packed;
        let (method, body): (u16, &[u8]) = if deflate {
            let mut enc =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(data)?;
            packed = enc.finish()?;
            (8, &packed)
        } else {
            (0, data)
        };
        let offset = self.pos;
        let size = data.len() as u64;
        let compressed = body.len() as u64;
        // Sizes of an entry beyond 4 GiB go in a ZIP64 extra field of the
        // local header too.
        let big = size >= MAX32 || compressed >= MAX32;
        let mut h = Vec::with_capacity(30 + name.len() + 20);
        u32le(&mut h, 0x0403_4b50);
        u16le(&mut h, if big { 45 } else { 20 });
        u16le(&mut h, UTF8);
        u16le(&mut h, method);
        u16le(&mut h, DOS_TIME);
        u16le(&mut h, DOS_DATE);
        u32le(&mut h, crc);
        u32le(&mut h, if big { MAX32 as u32 } else { compressed as u32 });
        u32le(&mut h, if big { MAX32 as u32 } else { size as u32 });
        u16le(&mut h, name.len() as u16);
        u16le(&mut h, if big { 20 } else { 0 });
        h.extend_from_slice(name.as_bytes());
        if big {
            u16le(&mut h, 1);
            u16le(&mut h, 16);
            u64le(&mut h, size);
            u64le(&mut h, compressed);
        }
        self.put(&h)?;
        self.put(body)?;
        self.entries.push(Entry {
            name: name.as_bytes().to_vec(),
            crc,
            method,
            compressed,
            size,
            offset,
        });
        Ok(())
    }

    /// Writes the central directory and the end records; returns `out`.
    pub(crate) fn finish(mut self) -> std::io::Result<W> {
        let cd_start = self.pos;
        let entries = std::mem::take(&mut self.entries);
        let mut h = Vec::new();
        for e in &entries {
            h.clear();
            let big_size = e.size >= MAX32 || e.compressed >= MAX32;
            let big_off = e.offset >= MAX32;
            let mut extra = Vec::new();
            if big_size {
                u64le(&mut extra, e.size);
                u64le(&mut extra, e.compressed);
            }
            if big_off {
                u64le(&mut extra, e.offset);
            }
            let zip64 = !extra.is_empty();
            u32le(&mut h, 0x0201_4b50);
            // Made by: UNIX (3), spec 4.5.
            u16le(&mut h, (3 << 8) | 45);
            u16le(&mut h, if zip64 { 45 } else { 20 });
            u16le(&mut h, UTF8);
            u16le(&mut h, e.method);
            u16le(&mut h, DOS_TIME);
            u16le(&mut h, DOS_DATE);
            u32le(&mut h, e.crc);
            u32le(
                &mut h,
                if big_size {
                    MAX32 as u32
                } else {
                    e.compressed as u32
                },
            );
            u32le(
                &mut h,
                if big_size {
                    MAX32 as u32
                } else {
                    e.size as u32
                },
            );
            u16le(&mut h, e.name.len() as u16);
            u16le(&mut h, if zip64 { 4 + extra.len() as u16 } else { 0 });
            u16le(&mut h, 0); // comment
            u16le(&mut h, 0); // disk
            u16le(&mut h, 0); // internal attributes
            u32le(&mut h, 0o100644 << 16); // external: a regular file, rw-r--r--
            u32le(
                &mut h,
                if big_off {
                    MAX32 as u32
                } else {
                    e.offset as u32
                },
            );
            h.extend_from_slice(&e.name);
            if zip64 {
                u16le(&mut h, 1);
                u16le(&mut h, extra.len() as u16);
                h.extend_from_slice(&extra);
            }
            self.put(&h)?;
        }
        let cd_size = self.pos - cd_start;
        let n = entries.len();
        let zip64 = n > MAX16 || cd_start >= MAX32 || cd_size >= MAX32;
        h.clear();
        if zip64 {
            let eocd64 = self.pos;
            u32le(&mut h, 0x0606_4b50);
            u64le(&mut h, 44);
            u16le(&mut h, (3 << 8) | 45);
            u16le(&mut h, 45);
            u32le(&mut h, 0);
            u32le(&mut h, 0);
            u64le(&mut h, n as u64);
            u64le(&mut h, n as u64);
            u64le(&mut h, cd_size);
            u64le(&mut h, cd_start);
            // Locator.
            u32le(&mut h, 0x0706_4b50);
            u32le(&mut h, 0);
            u64le(&mut h, eocd64);
            u32le(&mut h, 1);
        }
        let n16 = if zip64 { MAX16 as u16 } else { n as u16 };
        u32le(&mut h, 0x0605_4b50);
        u16le(&mut h, 0);
        u16le(&mut h, 0);
        u16le(&mut h, n16);
        u16le(&mut h, n16);
        u32le(&mut h, if zip64 { MAX32 as u32 } else { cd_size as u32 });
        u32le(&mut h, if zip64 { MAX32 as u32 } else { cd_start as u32 });
        u16le(&mut h, 0);
        self.put(&h)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the archive back by its central directory (an independent
    /// reader of the fields, as APPNOTE lays them out).
    fn read_back(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        let eocd = zip.len() - 22;
        assert_eq!(&zip[eocd..eocd + 4], b"PK\x05\x06");
        let n = u16::from_le_bytes([zip[eocd + 10], zip[eocd + 11]]) as usize;
        let mut p = u32::from_le_bytes(zip[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
        let mut out = Vec::new();
        for _ in 0..n {
            assert_eq!(&zip[p..p + 4], b"PK\x01\x02");
            let rd16 = |o: usize| u16::from_le_bytes([zip[p + o], zip[p + o + 1]]) as usize;
            let rd32 = |o: usize| u32::from_le_bytes(zip[p + o..p + o + 4].try_into().unwrap());
            let (csize, name_len, extra, comment) = (rd32(20), rd16(28), rd16(30), rd16(32));
            let crc = rd32(16);
            let off = rd32(42) as usize;
            let name = String::from_utf8(zip[p + 46..p + 46 + name_len].to_vec()).unwrap();
            let lname = u16::from_le_bytes([zip[off + 26], zip[off + 27]]) as usize;
            let lextra = u16::from_le_bytes([zip[off + 28], zip[off + 29]]) as usize;
            let start = off + 30 + lname + lextra;
            let raw = zip[start..start + csize as usize].to_vec();
            let data = if rd16(10) == 8 {
                let mut d = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::DeflateDecoder::new(&raw[..]),
                    &mut d,
                )
                .unwrap();
                d
            } else {
                raw
            };
            assert_eq!(crc32fast::hash(&data), crc);
            out.push((name, data));
            p += 46 + name_len + extra + comment;
        }
        out
    }

    #[test]
    fn stored_and_deflated_entries_read_back() {
        let mut z = ZipWriter::new(Vec::new());
        z.add("a/b.jpg", b"\xff\xd8 tile bytes", false).unwrap();
        let text = "<xml>".repeat(100);
        z.add("a.dzi", text.as_bytes(), true).unwrap();
        assert_eq!(z.len(), 2);
        let bytes = z.finish().unwrap();
        let back = read_back(&bytes);
        assert_eq!(back[0].0, "a/b.jpg");
        assert_eq!(back[0].1, b"\xff\xd8 tile bytes");
        assert_eq!(back[1].0, "a.dzi");
        assert_eq!(back[1].1, text.as_bytes());
    }

    #[test]
    fn many_entries_get_zip64_end_records() {
        let mut z = ZipWriter::new(Vec::new());
        for i in 0..70_000 {
            z.add(&format!("{i}"), b"", false).unwrap();
        }
        let bytes = z.finish().unwrap();
        let tail = &bytes[bytes.len() - 22 - 20 - 56..];
        assert_eq!(&tail[..4], b"PK\x06\x06");
        let n = u64::from_le_bytes(tail[32..40].try_into().unwrap());
        assert_eq!(n, 70_000);
        assert_eq!(&tail[56..60], b"PK\x06\x07");
        let end = &bytes[bytes.len() - 22..];
        assert_eq!(&end[8..10], &[0xff, 0xff]);
    }
}
