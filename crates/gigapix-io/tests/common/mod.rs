//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

use gigapix_core::{Ctx, Header, Image, Metadata, Rect, Result};
use gigapix_io::{SaveOptions, writer};

/// Deterministic test bytes: a small LCG.
pub(crate) fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
    (0..len)
        .map(|_| {
            s = s.wrapping_mul(1664525).wrapping_add(1013904223);
            (s >> 24) as u8
        })
        .collect()
}

/// Saves packed rows `data` of `header` to `path`, in bands of `band` rows.
pub(crate) fn save(path: &Path, header: &Header, data: &[u8], band: u32) -> Result<()> {
    let mut w = writer(path, header, &Metadata::default(), &SaveOptions::default())?;
    let row = header.row_bytes();
    let mut y = 0;
    while y < header.height {
        let rows = band.min(header.height - y);
        w.write_band(y, rows, &data[y as usize * row..(y + rows) as usize * row])?;
        y += rows;
    }
    w.finish()
}

/// Every pixel of `image` as packed rows, computed in one region.
pub(crate) fn read_all(image: &Image) -> Result<Vec<u8>> {
    let h = *image.header();
    let region = Ctx::standalone().region(image, h.rect())?;
    let mut out = Vec::with_capacity(h.image_bytes() as usize);
    for y in 0..h.height as i64 {
        out.extend_from_slice(region.row_bytes(y));
    }
    Ok(out)
}

/// Every pixel of `image` as packed rows, computed in strips of `strip`
/// rows top to bottom (what a sequential source needs).
pub(crate) fn read_strips(image: &Image, strip: u32) -> Result<Vec<u8>> {
    let h = *image.header();
    let mut ctx = Ctx::standalone();
    let mut out = Vec::with_capacity(h.image_bytes() as usize);
    let mut y = 0;
    while y < h.height {
        let rows = strip.min(h.height - y);
        let region = ctx.region(image, Rect::new(0, y as i64, h.width as i64, rows as i64))?;
        for yy in y..y + rows {
            out.extend_from_slice(region.row_bytes(yy as i64));
        }
        y += rows;
    }
    Ok(out)
}

/// Names of the entries of `dir`, sorted.
pub(crate) fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
