//! PNG loader and saver: round trips, files written by the `png` crate's
//! own encoder and by hand (Adam7), metadata, damaged files and options.

mod common;

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

use gigapix_core::memory::MemoryTracker;
use gigapix_core::{BandFormat, CancelToken, Ctx, ErrorKind, Header, Metadata, Rect, StopFlags};
use gigapix_io::{FailOn, OpenOptions, SaveOptions, open, writer};

use common::{pattern, read_strips};

/// Saves `data` (packed native rows of `header`) as PNG with `options`, in
/// bands of `band` rows.
fn save_png(
    path: &Path,
    header: &Header,
    data: &[u8],
    band: u32,
    options: &SaveOptions,
) -> gigapix_core::Result<()> {
    let mut w = writer(path, header, &Metadata::default(), options)?;
    let row = header.row_bytes();
    let mut y = 0;
    while y < header.height {
        let rows = band.min(header.height - y);
        w.write_band(y, rows, &data[y as usize * row..(y + rows) as usize * row])?;
        y += rows;
    }
    w.finish()
}

/// Decodes `path` with the `png` crate alone (expanding, 16-bit samples
/// converted to native order).
fn decode_with_png_crate(path: &Path) -> (png::ColorType, png::BitDepth, Vec<u8>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut decoder = png::Decoder::new(file);
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    if info.bit_depth == png::BitDepth::Sixteen {
        for p in buf.chunks_exact_mut(2) {
            let v = u16::from_be_bytes([p[0], p[1]]);
            p.copy_from_slice(&v.to_ne_bytes());
        }
    }
    (info.color_type, info.bit_depth, buf)
}

/// Opens `path` and reads every pixel top to bottom in strips.
fn load(path: &Path) -> gigapix_core::Result<(Header, Vec<u8>)> {
    let image = open(path, &OpenOptions::default())?;
    let header = *image.header();
    Ok((header, read_strips(&image, 5)?))
}

#[test]
fn round_trips_every_layout() {
    let dir = tempfile::tempdir().unwrap();
    let settings: [&[(&str, &str)]; 7] = [
        &[],
        &[("compression", "0")],
        &[("compression", "1")],
        &[("compression", "6"), ("filter", "paeth")],
        &[("compression", "9"), ("filter", "sub")],
        &[("compression", "2"), ("filter", "up")],
        &[("filter", "avg")],
    ];
    let sizes = [(1, 1), (7, 5), (33, 17), (130, 3), (3, 70)];
    let mut n = 0;
    for format in [BandFormat::U8, BandFormat::U16] {
        for bands in 1..=4 {
            for (i, &(w, h)) in sizes.iter().enumerate() {
                let set = settings[(n + i) % settings.len()];
                n += 1;
                let header = Header::new(w, h, bands, format);
                let data = pattern(header.image_bytes() as usize, n as u32);
                let path = dir.path().join(format!("rt{n}.png"));
                let mut options = SaveOptions::new();
                for (k, v) in set {
                    options = options.set(k, v);
                }
                save_png(&path, &header, &data, 1 + (n as u32 % 4) * 7, &options).unwrap();
                let (got, pixels) = load(&path).unwrap();
                assert_eq!(got, header, "{header} {set:?}");
                assert_eq!(pixels, data, "{header} {set:?}");
                // An independent decoder agrees.
                let (color, depth, decoded) = decode_with_png_crate(&path);
                assert_eq!(color.samples() as u32, bands);
                assert_eq!(depth == png::BitDepth::Sixteen, format == BandFormat::U16);
                assert_eq!(decoded, data, "{header} {set:?}");
            }
        }
    }
}

#[test]
fn every_compression_level_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let header = Header::new(61, 23, 3, BandFormat::U8);
    // Smooth plus noise: something the filters and levels act on.
    let noise = pattern(header.image_bytes() as usize, 9);
    let data: Vec<u8> = noise
        .iter()
        .enumerate()
        .map(|(i, n)| ((i / 3 % 61) as u8).wrapping_add(n >> 5))
        .collect();
    for level in 0..=9 {
        for filter in ["none", "sub", "up", "avg", "paeth", "adaptive"] {
            let path = dir.path().join(format!("l{level}{filter}.png"));
            let options = SaveOptions::new()
                .set("compression", level)
                .set("filter", filter);
            save_png(&path, &header, &data, 10, &options).unwrap();
            assert_eq!(load(&path).unwrap().1, data, "level {level} {filter}");
        }
    }
}

#[test]
fn large_image_in_one_band_and_in_rows() {
    let dir = tempfile::tempdir().unwrap();
    let header = Header::new(1001, 257, 4, BandFormat::U16);
    let data = pattern(header.image_bytes() as usize, 3);
    for band in [1, 257] {
        let path = dir.path().join(format!("big{band}.png"));
        save_png(&path, &header, &data, band, &SaveOptions::new()).unwrap();
        let image = open(&path, &OpenOptions::default()).unwrap();
        assert_eq!(read_strips(&image, 64).unwrap(), data);
    }
}

/// Encodes an image with the `png` crate's own encoder.
fn encode(
    path: &Path,
    (w, h): (u32, u32),
    color: png::ColorType,
    depth: png::BitDepth,
    palette: Option<&[u8]>,
    trns: Option<&[u8]>,
    data: &[u8],
) {
    let file = std::fs::File::create(path).unwrap();
    let mut e = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    e.set_color(color);
    e.set_depth(depth);
    if let Some(p) = palette {
        e.set_palette(p.to_vec());
    }
    if let Some(t) = trns {
        e.set_trns(t.to_vec());
    }
    let mut wr = e.write_header().unwrap();
    wr.write_image_data(data).unwrap();
    wr.finish().unwrap();
}

/// Packs `values` (each below 2^bits) into rows of `w` pixels.
fn pack(values: &[u8], w: usize, bits: usize) -> Vec<u8> {
    let row_bytes = (w * bits).div_ceil(8);
    let mut out = Vec::new();
    for row in values.chunks(w) {
        let mut packed = vec![0u8; row_bytes];
        for (x, &v) in row.iter().enumerate() {
            let bit = x * bits;
            packed[bit / 8] |= v << (8 - bits - bit % 8);
        }
        out.extend_from_slice(&packed);
    }
    out
}

#[test]
fn palette_with_transparency() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pal.png");
    // Four colours, the first two partly transparent, at 2 bits a pixel.
    let palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30];
    let trns = [0, 128];
    let (w, h) = (5, 3);
    let index: Vec<u8> = (0..w * h).map(|i| (i % 4) as u8).collect();
    let data = pack(&index, w, 2);
    encode(
        &path,
        (w as u32, h as u32),
        png::ColorType::Indexed,
        png::BitDepth::Two,
        Some(&palette),
        Some(&trns),
        &data,
    );
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(*image.header(), Header::new(5, 3, 4, BandFormat::U8));
    assert_eq!(image.metadata().field("palette"), Some("true"));
    assert_eq!(image.metadata().field("bit-depth"), Some("2"));
    let rgba = [
        [255, 0, 0, 0],
        [0, 255, 0, 128],
        [0, 0, 255, 255],
        [10, 20, 30, 255],
    ];
    let want: Vec<u8> = index.iter().flat_map(|&i| rgba[i as usize]).collect();
    assert_eq!(read_strips(&image, 1).unwrap(), want);

    // Without tRNS: RGB.
    let path = dir.path().join("pal8.png");
    encode(
        &path,
        (w as u32, h as u32),
        png::ColorType::Indexed,
        png::BitDepth::Eight,
        Some(&palette),
        None,
        &index,
    );
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(*image.header(), Header::new(5, 3, 3, BandFormat::U8));
    let want: Vec<u8> = index
        .iter()
        .flat_map(|&i| rgba[i as usize][..3].to_vec())
        .collect();
    assert_eq!(read_strips(&image, 2).unwrap(), want);
}

#[test]
fn low_bit_depth_grey() {
    let dir = tempfile::tempdir().unwrap();
    for (bits, depth) in [
        (1, png::BitDepth::One),
        (2, png::BitDepth::Two),
        (4, png::BitDepth::Four),
    ] {
        let (w, h) = (13, 4);
        let max = (1u16 << bits) - 1;
        let values: Vec<u8> = (0..w * h)
            .map(|i| (i * 7 % (max as usize + 1)) as u8)
            .collect();
        let path = dir.path().join(format!("g{bits}.png"));
        encode(
            &path,
            (w as u32, h as u32),
            png::ColorType::Grayscale,
            depth,
            None,
            None,
            &pack(&values, w, bits),
        );
        let image = open(&path, &OpenOptions::default()).unwrap();
        assert_eq!(*image.header(), Header::new(13, 4, 1, BandFormat::U8));
        assert_eq!(
            image.metadata().field("bit-depth"),
            Some(bits.to_string().as_str())
        );
        // Scaled to the full 0..255 range.
        let want: Vec<u8> = values
            .iter()
            .map(|&v| (u16::from(v) * 255 / max) as u8)
            .collect();
        assert_eq!(read_strips(&image, 3).unwrap(), want, "{bits} bits");
    }
}

#[test]
fn grey_with_transparent_colour_gets_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trns.png");
    let values: Vec<u8> = (0..12).map(|i| i * 20).collect();
    // Grey 40 is transparent.
    encode(
        &path,
        (4, 3),
        png::ColorType::Grayscale,
        png::BitDepth::Eight,
        None,
        Some(&[0, 40]),
        &values,
    );
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(*image.header(), Header::new(4, 3, 2, BandFormat::U8));
    let want: Vec<u8> = values
        .iter()
        .flat_map(|&v| [v, if v == 40 { 0 } else { 255 }])
        .collect();
    assert_eq!(read_strips(&image, 3).unwrap(), want);
}

#[test]
fn sixteen_bit_rgb_with_transparent_colour() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trns16.png");
    let samples: Vec<u16> = (0..4 * 2 * 3).map(|i| i * 1000).collect();
    let be: Vec<u8> = samples.iter().flat_map(|s| s.to_be_bytes()).collect();
    // The second pixel, (3000, 4000, 5000), is transparent.
    let trns: Vec<u8> = [3000u16, 4000, 5000]
        .iter()
        .flat_map(|s| s.to_be_bytes())
        .collect();
    encode(
        &path,
        (4, 2),
        png::ColorType::Rgb,
        png::BitDepth::Sixteen,
        None,
        Some(&trns),
        &be,
    );
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(*image.header(), Header::new(4, 2, 4, BandFormat::U16));
    let want: Vec<u8> = samples
        .chunks(3)
        .enumerate()
        .flat_map(|(i, p)| {
            let alpha = if i == 1 { 0u16 } else { 65535 };
            [p[0], p[1], p[2], alpha]
        })
        .flat_map(|s| s.to_ne_bytes())
        .collect();
    assert_eq!(read_strips(&image, 2).unwrap(), want);
}

#[test]
fn sixteen_bit_rgba_from_the_png_crate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rgba16.png");
    let (w, h) = (9u32, 7u32);
    let samples: Vec<u16> = (0..w * h * 4).map(|i| (i * 997 % 65536) as u16).collect();
    let be: Vec<u8> = samples.iter().flat_map(|s| s.to_be_bytes()).collect();
    encode(
        &path,
        (w, h),
        png::ColorType::Rgba,
        png::BitDepth::Sixteen,
        None,
        None,
        &be,
    );
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(*image.header(), Header::new(9, 7, 4, BandFormat::U16));
    assert_eq!(image.metadata().field("bit-depth"), Some("16"));
    let mut ctx = Ctx::standalone();
    for y in 0..7 {
        let region = ctx.region(&image, Rect::new(2, y, 5, 1)).unwrap();
        let row = region.row::<u16>(y);
        let start = (y as usize * 9 + 2) * 4;
        assert_eq!(row, &samples[start..start + 20], "row {y}");
    }
}

#[test]
fn icc_and_exif_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.png");
    let icc: Vec<u8> = pattern(300, 5);
    let exif = b"MM\0*\0\0\0\x08\0\0".to_vec();
    let mut info = png::Info::with_size(2, 2);
    info.color_type = png::ColorType::Rgb;
    info.bit_depth = png::BitDepth::Eight;
    info.icc_profile = Some(Cow::Owned(icc.clone()));
    info.exif_metadata = Some(Cow::Owned(exif.clone()));
    {
        let file = std::fs::File::create(&path).unwrap();
        let e = png::Encoder::with_info(file, info).unwrap();
        let mut wr = e.write_header().unwrap();
        wr.write_image_data(&[7; 12]).unwrap();
        wr.finish().unwrap();
    }
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(image.metadata().icc.as_deref(), Some(&icc[..]));
    assert_eq!(image.metadata().exif.as_deref(), Some(&exif[..]));
    assert_eq!(read_strips(&image, 2).unwrap(), vec![7; 12]);
}

/// A PNG chunk.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// An Adam7 interlaced PNG written by hand: `pixels` are packed rows of
/// `w` pixels of `px` bytes (8 or 16-bit samples, already big-endian).
fn adam7_png(w: u32, h: u32, color: u8, depth: u8, px: usize, pixels: &[u8]) -> Vec<u8> {
    const PASSES: [(u32, u32, u32, u32); 7] = [
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ];
    let mut raw = Vec::new();
    for (x0, y0, dx, dy) in PASSES {
        if x0 >= w || y0 >= h {
            continue;
        }
        for y in (y0..h).step_by(dy as usize) {
            raw.push(0); // filter: none
            for x in (x0..w).step_by(dx as usize) {
                let at = (y * w + x) as usize * px;
                raw.extend_from_slice(&pixels[at..at + px]);
            }
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let idat = z.finish().unwrap();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[depth, color, 0, 0, 1]);
    chunk(&mut out, b"IHDR", &ihdr);
    // Split the data over several IDAT chunks.
    for part in idat.chunks(37) {
        chunk(&mut out, b"IDAT", part);
    }
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn adam7_interlaced() {
    let dir = tempfile::tempdir().unwrap();
    for (w, h) in [(1, 1), (2, 3), (5, 1), (1, 9), (9, 9), (17, 13), (64, 31)] {
        // RGB 8-bit.
        let pixels = pattern((w * h * 3) as usize, w * 100 + h);
        let path = dir.path().join(format!("i{w}x{h}.png"));
        std::fs::write(&path, adam7_png(w, h, 2, 8, 3, &pixels)).unwrap();
        let image = open(&path, &OpenOptions::default()).unwrap();
        assert_eq!(*image.header(), Header::new(w, h, 3, BandFormat::U8));
        assert_eq!(image.metadata().field("interlaced"), Some("adam7"));
        assert_eq!(read_strips(&image, 4).unwrap(), pixels, "{w}x{h}");
        // Grey 16-bit.
        let samples: Vec<u16> = (0..w * h).map(|i| (i * 4099 % 65536) as u16).collect();
        let be: Vec<u8> = samples.iter().flat_map(|s| s.to_be_bytes()).collect();
        std::fs::write(&path, adam7_png(w, h, 0, 16, 2, &be)).unwrap();
        let image = open(&path, &OpenOptions::default()).unwrap();
        assert_eq!(*image.header(), Header::new(w, h, 1, BandFormat::U16));
        let native: Vec<u8> = samples.iter().flat_map(|s| s.to_ne_bytes()).collect();
        assert_eq!(read_strips(&image, 3).unwrap(), native, "{w}x{h} u16");
        // The hand-made file is a valid PNG for the png crate too.
        assert_eq!(decode_with_png_crate(&path).2, native);
    }
}

#[test]
fn runs_can_be_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("twice.png");
    let header = Header::new(40, 30, 3, BandFormat::U8);
    let data = pattern(header.image_bytes() as usize, 1);
    save_png(&path, &header, &data, 7, &SaveOptions::new()).unwrap();
    let image = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(read_strips(&image, 8).unwrap(), data);
    let ipath = dir.path().join("twice-i.png");
    std::fs::write(&ipath, adam7_png(40, 30, 2, 8, 3, &data)).unwrap();
    let interlaced = open(&ipath, &OpenOptions::default()).unwrap();
    assert_eq!(read_strips(&interlaced, 8).unwrap(), data);
    // A region further down first: the reader decodes up to it.
    let region = Ctx::standalone()
        .region(&image, Rect::new(3, 20, 5, 4))
        .unwrap();
    assert_eq!(
        region.row_bytes(21),
        &data[(21 * 40 + 3) * 3..(21 * 40 + 8) * 3]
    );
}

// ---------------------------------------------------------------------
// Damaged files

/// A small valid PNG (non-interlaced or interlaced).
fn small_png(dir: &Path, interlaced: bool) -> Vec<u8> {
    let header = Header::new(23, 19, 3, BandFormat::U8);
    let data = pattern(header.image_bytes() as usize, 4);
    if interlaced {
        return adam7_png(23, 19, 2, 8, 3, &data);
    }
    let path = dir.join("valid.png");
    let options = SaveOptions::new().set("compression", 6);
    save_png(&path, &header, &data, 19, &options).unwrap();
    std::fs::read(path).unwrap()
}

/// Opens and reads `bytes` as a PNG file; the error kind if either fails.
fn try_load(dir: &Path, bytes: &[u8], options: &OpenOptions) -> Result<Vec<u8>, ErrorKind> {
    let path = dir.join("damaged.png");
    std::fs::write(&path, bytes).unwrap();
    let image = open(&path, options).map_err(|e| e.kind())?;
    read_strips(&image, 4).map_err(|e| e.kind())
}

/// The offset of the end of the last IDAT chunk.
fn idat_end(bytes: &[u8]) -> usize {
    let mut at = 8;
    let mut end = 0;
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if &bytes[at + 4..at + 8] == b"IDAT" {
            end = at + 12 + len;
        }
        at += 12 + len;
    }
    end
}

#[test]
fn truncated_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    for interlaced in [false, true] {
        let valid = small_png(dir.path(), interlaced);
        assert!(try_load(dir.path(), &valid, &OpenOptions::default()).is_ok());
        // Cut anywhere up to the end of the pixel data (IEND is never
        // needed: the last row is decoded before it).
        let end = idat_end(&valid);
        for cut in 0..end - 4 {
            let r = try_load(dir.path(), &valid[..cut], &OpenOptions::default());
            assert!(
                r.is_err(),
                "cut at {cut} of {end} (interlaced {interlaced})"
            );
        }
    }
}

#[test]
fn flipped_bytes_are_errors_or_harmless() {
    let dir = tempfile::tempdir().unwrap();
    for interlaced in [false, true] {
        let valid = small_png(dir.path(), interlaced);
        let pixels = try_load(dir.path(), &valid, &OpenOptions::default()).unwrap();
        let mut harmless = 0;
        for at in 0..valid.len() {
            for mask in [0x01, 0x80, 0xff] {
                let mut bytes = valid.clone();
                bytes[at] ^= mask;
                // Every chunk is checked by its CRC; a flip that survives
                // (in the chunk type's ancillary bit, making the chunk one
                // to skip) must not change any pixel.
                if let Ok(got) = try_load(dir.path(), &bytes, &OpenOptions::default()) {
                    assert_eq!(got, pixels, "flip {mask:#x} at {at}");
                    harmless += 1;
                }
            }
        }
        assert!(harmless < 10, "{harmless} flips went unnoticed");
    }
}

#[test]
fn wrong_chunk_lengths_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let valid = small_png(dir.path(), false);
    // Chunk starts: IHDR at 8, then the next ones.
    let mut starts = Vec::new();
    let mut at = 8;
    while at + 8 <= valid.len() {
        starts.push(at);
        let len = u32::from_be_bytes(valid[at..at + 4].try_into().unwrap()) as usize;
        at += 12 + len;
    }
    for &s in &starts[..starts.len() - 1] {
        let len = u32::from_be_bytes(valid[s..s + 4].try_into().unwrap());
        for bad in [
            0,
            1,
            len.wrapping_sub(1),
            len + 1,
            len + 1000,
            0x7fff_ffff,
            u32::MAX,
        ] {
            if bad == len {
                continue;
            }
            let mut bytes = valid.clone();
            bytes[s..s + 4].copy_from_slice(&bad.to_be_bytes());
            let r = try_load(dir.path(), &bytes, &OpenOptions::default());
            assert!(r.is_err(), "chunk at {s}: length {len} -> {bad}");
        }
    }
}

#[test]
fn empty_and_signature_only_files() {
    let dir = tempfile::tempdir().unwrap();
    for bytes in [
        &b""[..],
        b"\x89PNG\r\n\x1a\n",
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR",
    ] {
        assert!(try_load(dir.path(), bytes, &OpenOptions::default()).is_err());
    }
}

#[test]
fn huge_header_with_little_data_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&2_000_000u32.to_be_bytes());
    ihdr.extend_from_slice(&1_000_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut bytes, b"IHDR", &ihdr);
    chunk(&mut bytes, b"IDAT", &[0x78, 0x9c, 0x63, 0, 0]);
    chunk(&mut bytes, b"IEND", &[]);
    // Over the default limits: refused at open.
    let path = dir.path().join("huge.png");
    std::fs::write(&path, &bytes).unwrap();
    let e = open(&path, &OpenOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
    let small = OpenOptions::new().limits(gigapix_core::Limits::default().max_pixels(1000));
    let e = open(&path, &small).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
    // Within the limits: opens, then fails on the missing rows.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 1]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut bytes, b"IHDR", &ihdr);
    chunk(&mut bytes, b"IDAT", &[0x78, 0x9c, 0x63, 0, 0]);
    chunk(&mut bytes, b"IEND", &[]);
    for interlaced in [false, true] {
        let mut b = bytes.clone();
        if !interlaced {
            b[8 + 8 + 12] = 0;
            let crc_at = 8 + 8 + 13;
            let mut crc = flate2::Crc::new();
            crc.update(&b[12..29]);
            b[crc_at..crc_at + 4].copy_from_slice(&crc.sum().to_be_bytes());
        }
        std::fs::write(&path, &b).unwrap();
        let image = open(&path, &OpenOptions::default()).unwrap();
        let r = Ctx::standalone().region(&image, Rect::new(0, 0, 20_000, 2));
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Format);
    }
}

#[test]
fn fail_on_none_fills_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    for interlaced in [false, true] {
        let valid = small_png(dir.path(), interlaced);
        let cut = &valid[..idat_end(&valid) - 60];
        let path = dir.path().join("cut.png");
        std::fs::write(&path, cut).unwrap();
        let options = OpenOptions::new().fail_on(FailOn::None);
        let image = open(&path, &options).unwrap();
        let flags = StopFlags::new(CancelToken::new());
        let mut ctx = Ctx::new(MemoryTracker::new(), flags.clone());
        let h = *image.header();
        let mut rows = Vec::new();
        for y in (0..h.height as i64).step_by(4) {
            let n = 4.min(h.height as i64 - y);
            let region = ctx
                .region(&image, Rect::new(0, y, h.width as i64, n))
                .unwrap();
            for yy in y..y + n {
                rows.push(region.row_bytes(yy).to_vec());
            }
        }
        let warnings = flags.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("cut.png"), "{warnings:?}");
        // The data of the last row is cut (for Adam7: the last odd row,
        // from pass 7, the last pass).
        let last = if interlaced { 17 } else { 18 };
        assert!(rows[last].iter().all(|&b| b == 0));
        if !interlaced {
            // The first rows were decoded.
            let data = pattern(h.image_bytes() as usize, 4);
            assert_eq!(rows[0], &data[..h.row_bytes()]);
        }
        // The default is an error.
        assert!(try_load(dir.path(), cut, &OpenOptions::default()).is_err());
    }
}

// ---------------------------------------------------------------------
// Options and unsupported headers

#[test]
fn unknown_options_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let header = Header::new(4, 4, 1, BandFormat::U8);
    let path = dir.path().join("o.png");
    for (k, v) in [
        ("bogus", "1"),
        ("compression", "10"),
        ("compression", "x"),
        ("filter", "best"),
    ] {
        let e = writer(
            &path,
            &header,
            &Metadata::default(),
            &SaveOptions::new().set(k, v),
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{k}={v}: {e}");
    }
    let e = writer(
        &path,
        &header,
        &Metadata::default(),
        &SaveOptions::new().set("interlace", true),
    )
    .err()
    .unwrap();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(!path.exists());
    // Bracket syntax and `interlace=false` work.
    let bracket = dir
        .path()
        .join("o.png[compression=1,filter=up,interlace=false]");
    save_png(&bracket, &header, &[9; 16], 4, &SaveOptions::new()).unwrap();
    assert_eq!(load(&path).unwrap().1, vec![9; 16]);
    // Loader options: PNG has none.
    let e = open(&path, &OpenOptions::new().set("page", 2)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn unsupported_headers_create_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.png");
    for header in [
        Header::new(4, 4, 1, BandFormat::F32),
        Header::new(4, 4, 3, BandFormat::U32),
        Header::new(4, 4, 5, BandFormat::U8),
        Header::new(0, 4, 3, BandFormat::U8),
    ] {
        let e = writer(&path, &header, &Metadata::default(), &SaveOptions::new())
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{header}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

#[test]
fn unfinished_saves_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("partial.png");
    let header = Header::new(8, 8, 3, BandFormat::U8);
    let mut w = writer(&path, &header, &Metadata::default(), &SaveOptions::new()).unwrap();
    w.write_band(0, 4, &[1; 96]).unwrap();
    // Out of order and wrong sizes are errors.
    assert!(w.write_band(5, 1, &[1; 24]).is_err());
    assert!(w.write_band(4, 1, &[1; 23]).is_err());
    drop(w);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // finish before the last row is an error and leaves nothing.
    let mut w = writer(&path, &header, &Metadata::default(), &SaveOptions::new()).unwrap();
    w.write_band(0, 4, &[1; 96]).unwrap();
    assert!(w.finish().is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn reading_out_of_order_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seq.png");
    let header = Header::new(10, 600, 1, BandFormat::U8);
    let data = pattern(header.image_bytes() as usize, 2);
    save_png(&path, &header, &data, 100, &SaveOptions::new()).unwrap();
    let image = open(&path, &OpenOptions::default()).unwrap();
    let mut ctx = Ctx::standalone();
    ctx.region(&image, Rect::new(0, 500, 10, 10)).unwrap();
    let e = ctx.region(&image, Rect::new(0, 0, 10, 1)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}
