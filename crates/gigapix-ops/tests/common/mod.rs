//! An independent reference implementation of every operation, written from
//! the documentation: whole images of `f64` values and naive per-pixel
//! functions. Also a tiled comparison harness and small test operations.
#![allow(dead_code, unreachable_pub)]

pub mod graph;

use std::sync::{Arc, Mutex};

use gigapix_core::{
    BandFormat, Ctx, Header, Image, Inputs, Operation, Rect, Region, Result, Sample, SharedPixels,
    dispatch_format,
};
use gigapix_exec::{Order, RunOptions, write_into};
use gigapix_ops::{Angle, Direction, Extend};

/// A whole image: `data[(y * w + x) * bands + b]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RefImg {
    pub w: usize,
    pub h: usize,
    pub bands: usize,
    pub format: BandFormat,
    pub data: Vec<f64>,
}

impl RefImg {
    pub fn new(w: usize, h: usize, bands: usize, format: BandFormat) -> RefImg {
        RefImg {
            w,
            h,
            bands,
            format,
            data: vec![0.0; w * h * bands],
        }
    }

    pub fn from_fn(
        w: usize,
        h: usize,
        bands: usize,
        format: BandFormat,
        f: impl Fn(usize, usize, usize) -> f64,
    ) -> RefImg {
        let mut img = RefImg::new(w, h, bands, format);
        for y in 0..h {
            for x in 0..w {
                for b in 0..bands {
                    img.set(x, y, b, f(x, y, b));
                }
            }
        }
        img
    }

    pub fn get(&self, x: usize, y: usize, b: usize) -> f64 {
        self.data[(y * self.w + x) * self.bands + b]
    }

    pub fn set(&mut self, x: usize, y: usize, b: usize, v: f64) {
        self.data[(y * self.w + x) * self.bands + b] = v;
    }

    /// Every value mapped through `f`, stored as `format`.
    pub fn map(&self, format: BandFormat, f: impl Fn(f64, usize) -> f64) -> RefImg {
        RefImg::from_fn(self.w, self.h, self.bands, format, |x, y, b| {
            quantise(f(self.get(x, y, b), b), format)
        })
    }
}

/// The documented conversion from `f64`: integers round half away from zero
/// and clamp (NaN → 0), `f32` rounds to nearest float.
pub fn quantise(v: f64, format: BandFormat) -> f64 {
    match format {
        BandFormat::F32 => v as f32 as f64,
        BandFormat::F64 => v,
        _ if v.is_nan() => 0.0,
        // f64::round rounds halves away from zero.
        // (+ 0.0 turns a rounded -0.0 into 0.)
        f => v.round().clamp(f.min_value(), f.max_value()) + 0.0,
    }
}

// ---- sources ----

pub fn black(w: usize, h: usize, bands: usize) -> RefImg {
    RefImg::new(w, h, bands, BandFormat::U8)
}

pub fn xyz(w: usize, h: usize) -> RefImg {
    RefImg::from_fn(w, h, 2, BandFormat::U32, |x, y, b| {
        if b == 0 { x as f64 } else { y as f64 }
    })
}

/// SplitMix64, written out: `next()` adds the increment, then mixes.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
}

/// Noise as documented: the image is one SplitMix64 stream from `seed` in
/// raster order, ⌈bands/8⌉ outputs per pixel, bytes little-endian.
pub fn noise(w: usize, h: usize, bands: usize, seed: u64) -> RefImg {
    let mut img = RefImg::new(w, h, bands, BandFormat::U8);
    let mut rng = SplitMix64(seed);
    for y in 0..h {
        for x in 0..w {
            let mut hashes = Vec::new();
            for _ in 0..bands.div_ceil(8) {
                hashes.push(rng.next());
            }
            for b in 0..bands {
                img.set(x, y, b, ((hashes[b / 8] >> (8 * (b % 8))) & 0xff) as f64);
            }
        }
    }
    img
}

pub fn zone(w: usize, h: usize) -> RefImg {
    RefImg::from_fn(w, h, 1, BandFormat::U8, |x, y, _| {
        let dx = x as f64 - (w / 2) as f64;
        let dy = y as f64 - (h / 2) as f64;
        quantise(
            127.5 + 127.5 * (std::f64::consts::PI * (dx * dx + dy * dy) / w as f64).cos(),
            BandFormat::U8,
        )
    })
}

// ---- point ----

pub fn linear(img: &RefImg, a: &[f64], b: &[f64], format: Option<BandFormat>) -> RefImg {
    let pick = |v: &[f64], band: usize| if v.len() == 1 { v[0] } else { v[band] };
    img.map(format.unwrap_or(img.format), |x, band| {
        pick(a, band) * x + pick(b, band)
    })
}

pub fn invert(img: &RefImg) -> RefImg {
    match img.format {
        f if f.is_signed() => img.map(f, |x, _| -x),
        f => img.map(f, |x, _| f.max_value() - x),
    }
}

pub fn cast(img: &RefImg, format: BandFormat) -> RefImg {
    img.map(format, |x, _| x)
}

// ---- bands ----

pub fn extract_band(img: &RefImg, band: usize, n: usize) -> RefImg {
    RefImg::from_fn(img.w, img.h, n, img.format, |x, y, b| {
        img.get(x, y, band + b)
    })
}

pub fn bandjoin(imgs: &[&RefImg]) -> RefImg {
    let bands = imgs.iter().map(|i| i.bands).sum();
    RefImg::from_fn(
        imgs[0].w,
        imgs[0].h,
        bands,
        imgs[0].format,
        |x, y, mut b| {
            for i in imgs {
                if b < i.bands {
                    return i.get(x, y, b);
                }
                b -= i.bands;
            }
            unreachable!()
        },
    )
}

// ---- geometry ----

pub fn crop(img: &RefImg, left: usize, top: usize, w: usize, h: usize) -> RefImg {
    RefImg::from_fn(w, h, img.bands, img.format, |x, y, b| {
        img.get(x + left, y + top, b)
    })
}

/// The source coordinate of canvas coordinate `c` along an axis of `n`.
fn extend_coord(c: i64, n: i64, extend: Extend) -> Option<i64> {
    if c >= 0 && c < n {
        return Some(c);
    }
    match extend {
        Extend::Black | Extend::White => None,
        Extend::Copy => Some(if c < 0 { 0 } else { n - 1 }),
        Extend::Repeat => {
            let mut c = c;
            while c < 0 {
                c += n;
            }
            Some(c % n)
        }
        Extend::Mirror => {
            // Walk along the sequence 0, 1, .., n-1, n-1, .., 0, 0, 1, ..
            let mut c = c;
            if c < 0 {
                c = -c - 1;
            }
            let (tile, pos) = (c / n, c % n);
            Some(if tile % 2 == 0 { pos } else { n - 1 - pos })
        }
    }
}

pub fn embed(img: &RefImg, x0: i64, y0: i64, w: usize, h: usize, extend: Extend) -> RefImg {
    let white = img.format.max_value();
    RefImg::from_fn(w, h, img.bands, img.format, |x, y, b| {
        let sx = extend_coord(x as i64 - x0, img.w as i64, extend);
        let sy = extend_coord(y as i64 - y0, img.h as i64, extend);
        match (sx, sy) {
            (Some(sx), Some(sy)) => img.get(sx as usize, sy as usize, b),
            _ if extend == Extend::White => white,
            _ => 0.0,
        }
    })
}

pub fn flip(img: &RefImg, direction: Direction) -> RefImg {
    RefImg::from_fn(
        img.w,
        img.h,
        img.bands,
        img.format,
        |x, y, b| match direction {
            Direction::Horizontal => img.get(img.w - 1 - x, y, b),
            Direction::Vertical => img.get(x, img.h - 1 - y, b),
        },
    )
}

/// Clockwise rotation: rotating by 90° sends input pixel (x, y) to
/// (h − 1 − y, x).
pub fn rot(img: &RefImg, angle: Angle) -> RefImg {
    let (w, h) = (img.w, img.h);
    match angle {
        Angle::D90 => {
            let mut out = RefImg::new(h, w, img.bands, img.format);
            for y in 0..h {
                for x in 0..w {
                    for b in 0..img.bands {
                        out.set(h - 1 - y, x, b, img.get(x, y, b));
                    }
                }
            }
            out
        }
        Angle::D180 => rot(&rot(img, Angle::D90), Angle::D90),
        Angle::D270 => rot(&rot(img, Angle::D180), Angle::D90),
    }
}

// ---- harness ----

/// A small deterministic generator for test choices.
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64(seed))
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.next() % n
    }
    pub fn range(&mut self, lo: i64, hi_inclusive: i64) -> i64 {
        lo + self.below((hi_inclusive - lo + 1) as u64) as i64
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

/// The values of a computed region, as `f64`, row-major.
pub fn region_values(region: &Region) -> Vec<f64> {
    let r = region.rect();
    let mut out = Vec::new();
    for y in r.y..r.bottom() {
        dispatch_format!(region.format(), T => out.extend(region.row::<T>(y).iter().map(|v| v.to_f64())));
    }
    out
}

/// Random tiles covering `w`×`h`, in random order.
pub fn random_tiles(w: usize, h: usize, rng: &mut Rng) -> Vec<Rect> {
    let tw = rng.range(1, w as i64);
    let th = rng.range(1, h as i64);
    let mut tiles = Vec::new();
    let mut y = 0;
    while y < h as i64 {
        let mut x = 0;
        while x < w as i64 {
            tiles.push(Rect::new(x, y, tw.min(w as i64 - x), th.min(h as i64 - y)));
            x += tw;
        }
        y += th;
    }
    rng.shuffle(&mut tiles);
    tiles
}

/// Computes `image` tile by tile (random tile size, random order, one
/// shared context) and compares every value bit for bit with `reference`.
pub fn assert_matches(image: &Image, reference: &RefImg, rng: &mut Rng) {
    image.check().expect("valid image");
    let h = image.header();
    assert_eq!(
        (
            h.width as usize,
            h.height as usize,
            h.bands as usize,
            h.format
        ),
        (reference.w, reference.h, reference.bands, reference.format),
        "header of {image:?}"
    );
    let mut ctx = Ctx::standalone();
    for tile in random_tiles(reference.w, reference.h, rng) {
        let region = ctx.region(image, tile).expect("region computes");
        assert_eq!(region.rect(), tile);
        let got = region_values(&region);
        let mut i = 0;
        for y in tile.y..tile.bottom() {
            for x in tile.x..tile.right() {
                for b in 0..reference.bands {
                    let want = reference.get(x as usize, y as usize, b);
                    assert_eq!(
                        got[i].to_bits(),
                        want.to_bits(),
                        "{image:?}: pixel ({x}, {y}) band {b} is {}, want {want} (tile {tile})",
                        got[i]
                    );
                    i += 1;
                }
            }
        }
    }
}

/// The reference of an image of the crate: computed whole, in one region.
pub fn to_ref(image: &Image) -> RefImg {
    let h = image.header();
    let region = Ctx::standalone()
        .region(image, h.rect())
        .expect("region computes");
    RefImg {
        w: h.width as usize,
        h: h.height as usize,
        bands: h.bands as usize,
        format: h.format,
        data: region_values(&region),
    }
}

// ---- test operations ----

/// Passes its input through, recording every rectangle requested of it.
pub struct Spy(pub Arc<Mutex<Vec<Rect>>>);

impl Operation for Spy {
    type State = ();
    fn name(&self) -> &'static str {
        "spy"
    }
    fn header(&self, inputs: &[Header]) -> Result<Header> {
        Ok(inputs[0])
    }
    fn generate(&self, _: &mut (), out: Rect, inputs: &mut Inputs<'_>) -> Result<Region> {
        self.0.lock().unwrap().push(out);
        inputs.get(0, out)
    }
}

/// `image` behind a [`Spy`], and the spy's log.
pub fn spy(image: &Image) -> (Image, Arc<Mutex<Vec<Rect>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    (Image::new(Spy(log.clone()), vec![image.clone()]), log)
}

/// A source serving zero-copy views of a packed in-memory image.
pub struct ViewSource {
    pub header: Header,
    pub data: Arc<Vec<u8>>,
}

impl Operation for ViewSource {
    type State = ();
    fn name(&self) -> &'static str {
        "view_source"
    }
    fn header(&self, _: &[Header]) -> Result<Header> {
        Ok(self.header)
    }
    fn generate(&self, _: &mut (), out: Rect, _: &mut Inputs<'_>) -> Result<Region> {
        let pb = self.header.pixel_bytes();
        let stride = self.header.width as usize * pb;
        let offset = out.y as usize * stride + out.x as usize * pb;
        let data: Arc<dyn SharedPixels> = self.data.clone();
        Region::view(
            data,
            offset,
            stride,
            out,
            self.header.bands,
            self.header.format,
        )
    }
}

/// A `w`×`h` image of `bands` bands of `format` holding `values` (packed
/// rows), served as zero-copy views.
pub fn mem(w: u32, h: u32, bands: u32, format: BandFormat, values: &[f64]) -> Image {
    Image::new(
        ViewSource {
            header: Header::new(w, h, bands, format),
            data: Arc::new(encode(values, format)),
        },
        vec![],
    )
}

/// A view source of `w`×`h` `u8` pixels of `bands` bands, byte `i` = `i % 251`.
pub fn view_source(w: u32, h: u32, bands: u32) -> Image {
    let header = Header::new(w, h, bands, BandFormat::U8);
    let data = (0..header.image_bytes() as usize)
        .map(|i| (i % 251) as u8)
        .collect();
    Image::new(
        ViewSource {
            header,
            data: Arc::new(data),
        },
        vec![],
    )
}

/// `values` as packed native-endian samples of `format` (each value
/// converted with `as`: callers pass values the format holds).
pub fn encode(values: &[f64], format: BandFormat) -> Vec<u8> {
    let mut out = Vec::new();
    for &v in values {
        match format {
            BandFormat::U8 => out.push(v as u8),
            BandFormat::U16 => out.extend((v as u16).to_ne_bytes()),
            BandFormat::U32 => out.extend((v as u32).to_ne_bytes()),
            BandFormat::F32 => out.extend((v as f32).to_ne_bytes()),
            BandFormat::I8 => out.extend((v as i8).to_ne_bytes()),
            BandFormat::I16 => out.extend((v as i16).to_ne_bytes()),
            BandFormat::I32 => out.extend((v as i32).to_ne_bytes()),
            BandFormat::F64 => out.extend(v.to_ne_bytes()),
        }
    }
    out
}

/// Packed native-endian samples of `format` as `f64` values.
pub fn decode(bytes: &[u8], format: BandFormat) -> Vec<f64> {
    bytes
        .chunks_exact(format.size())
        .map(|b| match format {
            BandFormat::U8 => b[0] as f64,
            BandFormat::U16 => u16::from_ne_bytes([b[0], b[1]]) as f64,
            BandFormat::U32 => u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as f64,
            BandFormat::F32 => f32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as f64,
            BandFormat::I8 => b[0] as i8 as f64,
            BandFormat::I16 => i16::from_ne_bytes([b[0], b[1]]) as f64,
            BandFormat::I32 => i32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as f64,
            BandFormat::F64 => f64::from_ne_bytes(b.try_into().expect("8 bytes")),
        })
        .collect()
}

/// Every pixel of `image`, computed by the engine with `opts`, as packed bytes.
pub fn bytes_of(image: &Image, opts: &RunOptions) -> Vec<u8> {
    image.check().expect("valid image");
    let mut buf = vec![0xa5u8; image.header().image_bytes() as usize];
    write_into(image, &mut buf, opts).expect("run");
    buf
}

/// Every sample of `image` as `f64`.
pub fn pixels(image: &Image) -> Vec<f64> {
    decode(&bytes_of(image, &RunOptions::new()), image.format())
}

/// The engine property: the same bytes for every tile size, thread count
/// and request order.
pub fn engine_property(image: &Image) {
    let want = bytes_of(image, &RunOptions::new().threads(1));
    let (w, h) = (image.width(), image.height());
    let runs = [
        RunOptions::new().threads(4).tile(1, 1),
        RunOptions::new()
            .threads(2)
            .tile(7, 5)
            .order(Order::Reverse),
        RunOptions::new()
            .threads(3)
            .tile(16, 3)
            .order(Order::Shuffle(7)),
        RunOptions::new().threads(4).tile(w + 3, h + 1),
        RunOptions::new().threads(4).order(Order::Shuffle(1)),
    ];
    for opts in runs {
        assert_eq!(bytes_of(image, &opts), want, "{image:?} under {opts:?}");
    }
}

/// `got` equals `want` within `tol_levels` for integer formats (after
/// rounding and clamping `want`), within 1e-4 relative for `f32`.
pub fn close(got: &[f64], want: &[f64], format: BandFormat, tol_levels: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if format == BandFormat::F32 {
            (g - w).abs() <= 1e-4 * w.abs().max(1e-2)
        } else {
            let w = w.round().clamp(0.0, format.max_value());
            (g - w).abs() <= tol_levels
        };
        assert!(ok, "{what}: sample {i}: got {g}, want {w}");
    }
}
