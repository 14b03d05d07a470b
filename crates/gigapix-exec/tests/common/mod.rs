//! Small operations for testing the scheduler, independent of gigapix-ops.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gigapix_core::sequential::{RowReader, SequentialSource};
use gigapix_core::{
    BandFormat, Error, ErrorKind, Header, Image, Inputs, Operation, Rect, Region, Result,
};

/// The reference value of pixel (x, y, band) of `pattern`.
pub fn value(x: i64, y: i64, b: i64) -> u8 {
    ((x * 7 + y * 13 + b * 101) ^ (y >> 3)) as u8
}

/// A random-access source of `value`.
pub struct Pattern(pub Header);

impl Operation for Pattern {
    type State = ();
    fn name(&self) -> &'static str {
        "pattern"
    }
    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.0)
    }
    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let bands = self.0.bands as i64;
        let mut r = inputs.alloc(out);
        for y in out.y..out.bottom() {
            for (i, v) in r.row_mut::<u8>(y).iter_mut().enumerate() {
                let i = i as i64;
                *v = value(out.x + i / bands, y, i % bands);
            }
        }
        Ok(r)
    }
}

pub fn pattern(w: u32, h: u32, bands: u32) -> Image {
    Image::new(Pattern(Header::new(w, h, bands, BandFormat::U8)), vec![])
}

/// The reference image of `pattern` as packed bytes.
pub fn pattern_bytes(w: u32, h: u32, bands: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            for b in 0..bands as i64 {
                v.push(value(x, y, b));
            }
        }
    }
    v
}

/// A sequential source of `value`, through a RowReader.
struct PatternRows {
    header: Header,
    y: i64,
}

impl RowReader for PatternRows {
    fn read_rows(&mut self, buf: &mut [u8]) -> Result<()> {
        for row in buf.chunks_mut(self.header.row_bytes()) {
            let bands = self.header.bands as i64;
            for (i, v) in row.iter_mut().enumerate() {
                *v = value(i as i64 / bands, self.y, i as i64 % bands);
            }
            self.y += 1;
        }
        Ok(())
    }
}

pub fn sequential_pattern(w: u32, h: u32, bands: u32) -> Image {
    let header = Header::new(w, h, bands, BandFormat::U8);
    Image::new(
        SequentialSource::new(
            "sequential-pattern",
            header,
            Box::new(move || Ok(PatternRows { header, y: 0 })),
        ),
        vec![],
    )
}

/// Vertical flip (reads rows out of order).
pub struct FlipV;

impl Operation for FlipV {
    type State = ();
    fn name(&self) -> &'static str {
        "flipv"
    }
    fn header(&self, i: &[Header]) -> Result<Header> {
        Ok(i[0])
    }
    fn keeps_row_order(&self) -> bool {
        false
    }
    fn need(&self, out: Rect, _: usize, _inputs: &[Header]) -> Rect {
        out
    }
    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = inputs.header(0).height as i64;
        let src = inputs.get(0, Rect::new(out.x, h - out.bottom(), out.width, out.height))?;
        let mut r = inputs.alloc(out);
        for y in out.y..out.bottom() {
            r.row_bytes_mut(y).copy_from_slice(src.row_bytes(h - 1 - y));
        }
        Ok(r)
    }
}

/// Passes its input through, but fails (or panics, or sleeps) on the region
/// containing pixel `at`.
pub struct Trap {
    pub at: (i64, i64),
    pub panic: bool,
    pub delay: Duration,
    pub calls: Arc<AtomicUsize>,
}

impl Operation for Trap {
    type State = ();
    fn name(&self) -> &'static str {
        "trap"
    }
    fn header(&self, i: &[Header]) -> Result<Header> {
        Ok(i[0])
    }
    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(self.delay);
        if out.contains(&Rect::new(self.at.0, self.at.1, 1, 1)) {
            if self.panic {
                panic!("kernel exploded");
            }
            return Err(Error::new(ErrorKind::Format, "injected failure"));
        }
        inputs.get(0, out)
    }
}

pub fn trap(input: Image, at: (i64, i64), panic: bool, delay: Duration) -> Image {
    Image::new(
        Trap {
            at,
            panic,
            delay,
            calls: Arc::default(),
        },
        vec![input],
    )
}

/// Sum of the pixel and its neighbours above and below (edge rows
/// repeated), wrapping: an area operation with a one-row margin.
pub struct VSum3;

impl Operation for VSum3 {
    type State = ();
    fn name(&self) -> &'static str {
        "vsum3"
    }
    fn header(&self, i: &[Header]) -> Result<Header> {
        Ok(i[0])
    }
    fn demand(&self) -> gigapix_core::DemandHint {
        gigapix_core::DemandHint::FatStrip
    }
    fn need(&self, out: Rect, _: usize, _inputs: &[Header]) -> Rect {
        out.expand(0, 1, 0, 1)
    }
    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        let h = inputs.header(0).height as i64;
        let want = out
            .expand(0, 1, 0, 1)
            .intersect(&Rect::of_size(inputs.header(0).width as i64, h));
        let src = inputs.get(0, want)?;
        let mut r = inputs.alloc(out);
        for y in out.y..out.bottom() {
            let (a, b, c) = (
                src.row_bytes((y - 1).max(0)),
                src.row_bytes(y),
                src.row_bytes((y + 1).min(h - 1)),
            );
            for (i, v) in r.row_bytes_mut(y).iter_mut().enumerate() {
                *v = a[i].wrapping_add(b[i]).wrapping_add(c[i]);
            }
        }
        Ok(r)
    }
}

/// Reference of `VSum3` over packed rows.
pub fn vsum3_ref(bytes: &[u8], row: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0; bytes.len()];
    for y in 0..h {
        let (a, c) = (y.saturating_sub(1), (y + 1).min(h - 1));
        for i in 0..row {
            out[y * row + i] = bytes[a * row + i]
                .wrapping_add(bytes[y * row + i])
                .wrapping_add(bytes[c * row + i]);
        }
    }
    out
}
