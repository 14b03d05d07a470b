//! Tile formats of the pyramid writers: a suffix such as `.jpg[Q=85]` or
//! `.png` names a format of the format table and its save options,
//! checked exactly as for a file, and [`TileFormat::encode`] encodes one
//! small image (a tile) into memory, on the caller's thread, with the same
//! bytes the file saver writes for the same image and options (JPEG and
//! PNG, WebP and AVIF share the savers' encoders and settings; PPM/PGM and `.gpx` their
//! header functions).
//!
//! TIFF tiles (`.tif[compression=lzw]`) are refused for now: the TIFF
//! writer writes to a file only.

use std::path::Path;

use gigapix_core::desc::Args;
use gigapix_core::{BandFormat, Error, ErrorKind, Header, Metadata, Result};

use crate::{FileFormat, SaveOptions};

/// A tile format parsed from a suffix such as `.jpg[Q=85]`, `.png`: the
/// extension picks the format through the format table, the bracket
/// options are checked against that format's save options exactly as for
/// files.
#[derive(Clone, Debug)]
pub(crate) struct TileFormat {
    format: FileFormat,
    args: Args,
    /// For messages: `dzsave: tiles .jpg[Q=85]`.
    name: String,
}

impl TileFormat {
    /// Parses `suffix` (`.jpg[Q=85]`; the dot is optional) for tiles of
    /// images of `header`; `owner` (`dzsave`) starts the error messages.
    pub(crate) fn parse(owner: &str, suffix: &str, header: &Header) -> Result<TileFormat> {
        let name = format!("{owner}: tile suffix `{suffix}`");
        let trimmed = suffix.trim();
        let body = trimmed.strip_prefix('.').unwrap_or(trimmed);
        if body.is_empty() || body.starts_with('[') || body.contains('/') {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{name}: expected an extension such as .jpg, .jpg[Q=85] or .png"),
            ));
        }
        let path = format!("tile.{body}");
        let (_, _, format, args) =
            crate::save_target(Path::new(&path), header, &SaveOptions::default()).map_err(|e| {
                // `tile.jpg: ...` names the suffix instead.
                let prefix = format!("{path}: ");
                let msg = e.message().strip_prefix(&prefix).unwrap_or(e.message());
                Error::new(e.kind(), format!("{name}: {msg}"))
            })?;
        if format == FileFormat::Tiff {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{name}: TIFF tiles are not supported; use .jpg, .png, .webp, .avif, .ppm or .gpx"
                ),
            ));
        }
        if format == FileFormat::DeepZoom {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{name}: a pyramid is not a tile format; use .jpg, .png, .webp, .avif, .ppm or .gpx"
                ),
            ));
        }
        if format == FileFormat::Pnm {
            crate::pnm::check_savable(&name, header)?;
        }
        if format == FileFormat::Raw {
            crate::raw::check_host(&name, header.format)?;
        }
        Ok(TileFormat { format, args, name })
    }

    /// Encodes one whole small image (a tile) of `header` (packed rows)
    /// into a new `Vec`, on this thread, with the same bytes the file
    /// saver would write for the same image and options (and no metadata).
    pub(crate) fn encode(&self, header: &Header, data: &[u8]) -> Result<Vec<u8>> {
        let name = &self.name;
        if data.len() as u64 != header.image_bytes() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{name}: {} bytes for a tile of {header}", data.len()),
            ));
        }
        let metadata = Metadata::default();
        match self.format {
            FileFormat::Jpeg => {
                crate::jpeg::encode_to_vec(name, header, &metadata, &self.args, data)
            }
            FileFormat::Png => crate::png::encode_to_vec(name, header, &metadata, &self.args, data),
            FileFormat::Webp => {
                crate::webp::encode_to_vec(name, header, &metadata, &self.args, data)
            }
            FileFormat::Gif => crate::gif::encode_to_vec(name, header, &metadata, &self.args, data),
            FileFormat::Avif => {
                crate::avif::encode_to_vec(name, header, &metadata, &self.args, data)
            }
            FileFormat::Pnm => {
                crate::pnm::check_savable(name, header)?;
                let mut out = crate::pnm::header_bytes(header);
                let start = out.len();
                out.extend_from_slice(data);
                if header.format == BandFormat::U16 {
                    crate::source::swap_be16_in_place(&mut out[start..]);
                }
                Ok(out)
            }
            FileFormat::Raw => {
                crate::raw::check_host(name, header.format)?;
                let mut out = crate::raw::header_bytes(header).to_vec();
                out.extend_from_slice(data);
                Ok(out)
            }
            FileFormat::Tiff => Err(Error::new(
                ErrorKind::Unsupported,
                format!("{name}: TIFF tiles are not supported"),
            )),
            FileFormat::DeepZoom => Err(Error::new(
                ErrorKind::Unsupported,
                format!("{name}: a pyramid is not a tile format"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: u32, h: u32, bands: u32) -> Vec<u8> {
        // A smooth pattern with some noise, like a photo tile.
        let mut out = Vec::new();
        let mut s = 12345u32;
        for y in 0..h {
            for x in 0..w {
                for c in 0..bands {
                    s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let v = (x * 3 + y * 2 + c * 40) % 256 + (s >> 28);
                    out.push(v.min(255) as u8);
                }
            }
        }
        out
    }

    /// Saves through the file writer, in bands of 7 rows, and reads the
    /// file back.
    fn saved(suffix: &str, header: &Header, data: &[u8]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("t{suffix}"));
        let mut w =
            crate::writer(&path, header, &Metadata::default(), &SaveOptions::default()).unwrap();
        let row = header.row_bytes();
        let mut y = 0;
        while y < header.height {
            let n = 7.min(header.height - y);
            w.write_band(y, n, &data[y as usize * row..(y + n) as usize * row])
                .unwrap();
            y += n;
        }
        w.finish().unwrap();
        let file = dir.path().join(format!(
            "t.{}",
            suffix.trim_start_matches('.').split('[').next().unwrap()
        ));
        std::fs::read(file).unwrap()
    }

    #[test]
    fn encode_makes_the_bytes_of_the_file_saver() {
        let cases: &[(&str, u32, u32, u32, BandFormat)] = &[
            (".jpg", 256, 256, 3, BandFormat::U8),
            (".jpg[Q=85]", 254, 255, 3, BandFormat::U8),
            (".jpg[Q=95]", 100, 37, 3, BandFormat::U8),
            (".jpeg[Q=60,subsample=422]", 33, 17, 3, BandFormat::U8),
            (".jpg", 31, 9, 1, BandFormat::U8),
            (".jpg[optimize]", 40, 40, 3, BandFormat::U8),
            (".png", 256, 256, 3, BandFormat::U8),
            (".png[compression=1]", 19, 7, 4, BandFormat::U8),
            (".png[filter=paeth]", 50, 50, 1, BandFormat::U8),
            (".png", 20, 9, 2, BandFormat::U8),
            (".ppm", 20, 9, 3, BandFormat::U8),
            (".pgm", 20, 9, 1, BandFormat::U8),
            (".gpx", 20, 9, 5, BandFormat::U8),
        ];
        for &(suffix, w, h, bands, format) in cases {
            let header = Header::new(w, h, bands, format);
            let data = image(w, h, bands);
            let tf = TileFormat::parse("test", suffix, &header).unwrap();
            let got = tf.encode(&header, &data).unwrap();
            let want = saved(suffix, &header, &data);
            assert!(
                got == want,
                "{suffix} {w}x{h}x{bands}: encode differs from the file"
            );
        }
        // 16-bit PNG and PPM.
        let header = Header::new(13, 11, 3, BandFormat::U16);
        let data: Vec<u8> = (0..13 * 11 * 3 * 2).map(|i| (i * 31 % 256) as u8).collect();
        for suffix in [".png", ".ppm"] {
            let tf = TileFormat::parse("test", suffix, &header).unwrap();
            assert!(tf.encode(&header, &data).unwrap() == saved(suffix, &header, &data));
        }
    }

    #[test]
    fn bad_suffixes_and_options_are_errors() {
        let header = Header::new(8, 8, 3, BandFormat::U8);
        for suffix in [
            "",
            ".",
            "[Q=3]",
            ".bmp",
            ".xyz",
            ".jpg[Q=500]",
            ".jpg[nope=1]",
            ".tif",
        ] {
            let e = TileFormat::parse("dzsave", suffix, &header).unwrap_err();
            assert!(e.message().contains("dzsave"), "{suffix}: {e}");
        }
        let f16 = Header::new(8, 8, 3, BandFormat::F32);
        assert!(TileFormat::parse("dzsave", ".jpg", &f16).is_err());
        let pixels = vec![0; header.image_bytes() as usize];
        for suffix in ["jpg[Q=85]", ".JPG"] {
            let tf = TileFormat::parse("dzsave", suffix, &header).unwrap();
            assert!(tf.encode(&header, &[0; 5]).is_err());
            assert!(
                tf.encode(&header, &pixels)
                    .unwrap()
                    .starts_with(b"\xff\xd8\xff")
            );
        }
    }

    /// Rough cost of a 256x256 RGB JPEG tile at Q 75 on one thread
    /// (`cargo test --release -p gigapix-io --lib tile_cost -- --ignored
    /// --nocapture`).
    #[test]
    #[ignore = "timing"]
    fn tile_cost() {
        let header = Header::new(256, 256, 3, BandFormat::U8);
        let data = image(256, 256, 3);
        for suffix in [".jpg", ".jpg[Q=85]", ".png"] {
            let tf = TileFormat::parse("bench", suffix, &header).unwrap();
            let n = 300;
            let t = std::time::Instant::now();
            let mut bytes = 0;
            for _ in 0..n {
                bytes += tf.encode(&header, &data).unwrap().len();
            }
            let us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
            eprintln!(
                "{suffix}: {us:.0} us per 256x256 tile, {} bytes",
                bytes / n as usize
            );
        }
    }
}
