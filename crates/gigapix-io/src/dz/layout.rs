//! The deep-zoom layouts: their levels, tile grids, tile names and
//! descriptor files, each from its specification (and, where a
//! specification leaves a choice open, as libvips' `dzsave` makes it):
//!
//! * `dz` — Microsoft DeepZoom: `NAME.dzi` (XML, namespace
//!   `http://schemas.microsoft.com/deepzoom/2008`, `Format`, `Overlap`,
//!   `TileSize`, `Size Width Height`) and `NAME_files/LEVEL/COL_ROW.EXT`;
//!   level `L` (the full image is the largest) is `ceil(w / 2^(max-L))`
//!   wide, down to 1x1; tiles cover `c*tile - overlap .. (c+1)*tile +
//!   overlap`, cropped to the level.
//! * `zoomify` — `ImageProperties.xml` and `TileGroupG/L-C-R.EXT`, tiles
//!   numbered in level order from the smallest level, row by row, 256 to a
//!   group (`G = index / 256`); edge tiles cropped.
//! * `google` — `Z/Y/X.EXT`, every tile full size: the image is placed (at
//!   the top left, or centred with `centre`) on a background canvas of
//!   `ceil(w_min / tile) * tile * 2^(levels-1)` (likewise for the height)
//!   pixels, `w_min` the width of the smallest level; tiles wholly outside
//!   the image are not written, nor (by default, `skip_blanks` 5) tiles
//!   within 5 of the background; `blank.png` is a tile of background.
//! * `iiif`, `iiif3` — IIIF Image API 2.1 / 3.0 level 0: `info.json` and
//!   `{region}/{size}/0/default.EXT`, the region in full-image pixels
//!   (`x,y,w,h`, or `full` when it is the whole image) and the size
//!   `w,` (2.1) or `w,h` (3.0) of the tile; `scaleFactors` 1, 2, 4...

use std::fmt::Write as _;

/// A layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    Dz,
    Zoomify,
    Google,
    Iiif,
    Iiif3,
}

impl Layout {
    pub(crate) fn parse(s: &str) -> Layout {
        match s {
            "zoomify" => Layout::Zoomify,
            "google" => Layout::Google,
            "iiif" => Layout::Iiif,
            "iiif3" => Layout::Iiif3,
            _ => Layout::Dz,
        }
    }

    /// libvips' defaults: tile size, overlap and tile suffix.
    pub(crate) fn default_tile_size(self) -> u32 {
        match self {
            Layout::Dz => 254,
            Layout::Zoomify | Layout::Google => 256,
            Layout::Iiif | Layout::Iiif3 => 512,
        }
    }

    pub(crate) fn default_overlap(self) -> u32 {
        if self == Layout::Dz { 1 } else { 0 }
    }

    pub(crate) fn default_suffix(self) -> &'static str {
        if self == Layout::Dz { ".jpeg" } else { ".jpg" }
    }
}

/// How deep the pyramid goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Down to 1x1.
    OnePixel,
    /// Down to the first level that fits one tile.
    OneTile,
    /// The full image only.
    One,
}

impl Depth {
    pub(crate) fn parse(s: &str) -> Depth {
        match s {
            "onetile" => Depth::OneTile,
            "one" => Depth::One,
            _ => Depth::OnePixel,
        }
    }
}

/// A rectangle of a level: the image's own pixels on the canvas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Area {
    pub left: u64,
    pub top: u64,
    pub width: u64,
    pub height: u64,
}

impl Area {
    /// The area a level down (libvips' rounding: a 5-pixel edge becomes 3).
    fn half(self) -> Area {
        Area {
            left: self.left.div_ceil(2),
            top: self.top.div_ceil(2),
            width: self.width.div_ceil(2),
            height: self.height.div_ceil(2),
        }
    }

    fn overlaps(&self, x: u64, y: u64, w: u64, h: u64) -> bool {
        x < self.left + self.width
            && self.left < x + w
            && y < self.top + self.height
            && self.top < y + h
    }
}

/// One level of the pyramid.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Level {
    /// Its number in the tile names: 0 is the smallest level.
    pub n: u32,
    pub width: u32,
    pub height: u32,
    /// `2^index`, the shrink from the full image.
    pub sub: u64,
    /// Where the image's pixels are (the whole level but in `google`).
    pub area: Area,
    /// Tiles across and down.
    pub cols: u32,
    pub rows: u32,
    /// Tiles of the smaller levels (Zoomify's numbering).
    pub before: u64,
}

/// The geometry of a pyramid: the canvas (the image, or the `google`
/// canvas around it), its levels, largest first.
#[derive(Clone, Debug)]
pub(crate) struct Geometry {
    pub layout: Layout,
    pub tile: u32,
    pub overlap: u32,
    /// The image's size.
    pub width: u32,
    pub height: u32,
    /// The canvas: the image, or in `google` the background around it.
    pub canvas_w: u32,
    pub canvas_h: u32,
    pub levels: Vec<Level>,
}

/// Level sizes of a `w` x `h` image for `depth` and `tile` (libvips: a
/// level below is made while the level is wider or taller than the limit:
/// 1 pixel, a tile, or the level itself).
fn sizes(w: u32, h: u32, depth: Depth, tile: u32) -> Vec<(u32, u32)> {
    crate::pyramid::level_sizes(w, h, |w, h| match depth {
        Depth::OnePixel => w <= 1 && h <= 1,
        Depth::OneTile => w <= tile && h <= tile,
        Depth::One => true,
    })
}

impl Geometry {
    /// The geometry of an image of `width` x `height`. `None` if the
    /// `google` canvas would be too large for 32 bits.
    pub(crate) fn new(
        layout: Layout,
        width: u32,
        height: u32,
        tile: u32,
        overlap: u32,
        depth: Depth,
        centre: bool,
    ) -> Option<Geometry> {
        // Google tiles are never cropped: no 1x1 level.
        let depth = if layout == Layout::Google && depth == Depth::OnePixel {
            Depth::OneTile
        } else {
            depth
        };
        let image_sizes = sizes(width, height, depth, tile);
        let (canvas_w, canvas_h, mut area) = if layout == Layout::Google {
            let (sw, sh) = *image_sizes.last().expect("one level at least");
            let k = 1u64 << (image_sizes.len() - 1);
            let cw = u64::from(sw).div_ceil(u64::from(tile)) * u64::from(tile) * k;
            let ch = u64::from(sh).div_ceil(u64::from(tile)) * u64::from(tile) * k;
            let (cw32, ch32) = (u32::try_from(cw).ok()?, u32::try_from(ch).ok()?);
            let (left, top) = if centre {
                ((cw - u64::from(width)) / 2, (ch - u64::from(height)) / 2)
            } else {
                (0, 0)
            };
            (
                cw32,
                ch32,
                Area {
                    left,
                    top,
                    width: width.into(),
                    height: height.into(),
                },
            )
        } else {
            (
                width,
                height,
                Area {
                    left: 0,
                    top: 0,
                    width: width.into(),
                    height: height.into(),
                },
            )
        };
        let n_levels = image_sizes.len();
        let mut levels = Vec::with_capacity(n_levels);
        let (mut w, mut h) = (canvas_w, canvas_h);
        for i in 0..n_levels {
            if i > 0 {
                w = w.div_ceil(2);
                h = h.div_ceil(2);
                area = area.half();
            }
            levels.push(Level {
                n: (n_levels - 1 - i) as u32,
                width: w,
                height: h,
                sub: 1 << i,
                area,
                cols: w.div_ceil(tile),
                rows: h.div_ceil(tile),
                before: 0,
            });
        }
        let mut before = 0;
        for l in levels.iter_mut().rev() {
            l.before = before;
            before += u64::from(l.cols) * u64::from(l.rows);
        }
        Some(Geometry {
            layout,
            tile,
            overlap,
            width,
            height,
            canvas_w,
            canvas_h,
            levels,
        })
    }

    /// `true` if tile (`col`, `row`) of level `index` is written at all
    /// (in `google`, tiles with none of the image's pixels are not).
    pub(crate) fn has_tile(&self, index: usize, col: u32, row: u32) -> bool {
        let l = &self.levels[index];
        let t = u64::from(self.tile);
        l.area
            .overlaps(u64::from(col) * t, u64::from(row) * t, t, t)
    }

    /// The path of a tile, relative to the pyramid's root (`NAME_files`
    /// for `dz`, the `NAME` directory otherwise), `ext` without the dot.
    pub(crate) fn tile_path(&self, index: usize, col: u32, row: u32, ext: &str) -> String {
        let l = &self.levels[index];
        match self.layout {
            Layout::Dz => format!("{}/{col}_{row}.{ext}", l.n),
            Layout::Zoomify => {
                let k = l.before + u64::from(row) * u64::from(l.cols) + u64::from(col);
                format!("TileGroup{}/{}-{col}-{row}.{ext}", k / 256, l.n)
            }
            Layout::Google => format!("{}/{row}/{col}.{ext}", l.n),
            Layout::Iiif | Layout::Iiif3 => {
                let t = u64::from(self.tile);
                let (fw, fh) = (u64::from(self.width), u64::from(self.height));
                let left = u64::from(col) * t * l.sub;
                let top = u64::from(row) * t * l.sub;
                let w = (t * l.sub).min(fw - left);
                let h = (t * l.sub).min(fh - top);
                let xs = t.min(u64::from(l.width) - u64::from(col) * t);
                let ys = t.min(u64::from(l.height) - u64::from(row) * t);
                let region = if left == 0 && top == 0 && w == fw && h == fh {
                    "full".to_string()
                } else {
                    format!("{left},{top},{w},{h}")
                };
                if self.layout == Layout::Iiif3 {
                    format!("{region}/{xs},{ys}/0/default.{ext}")
                } else {
                    format!("{region}/{xs},/0/default.{ext}")
                }
            }
        }
    }

    /// Tiles written when none is skipped as blank.
    #[cfg(test)]
    pub(crate) fn tile_count(&self) -> u64 {
        (0..self.levels.len())
            .map(|i| {
                let l = &self.levels[i];
                let mut n = 0u64;
                for r in 0..l.rows {
                    for c in 0..l.cols {
                        n += u64::from(self.has_tile(i, c, r));
                    }
                }
                n
            })
            .sum()
    }
}

/// The `.dzi` file, as libvips writes it (`format` the tile extension as
/// given in the suffix).
pub(crate) fn dzi(g: &Geometry, format: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Image xmlns=\"http://schemas.microsoft.com/deepzoom/2008\"\n  \
         Format=\"{format}\"\n  Overlap=\"{}\"\n  TileSize=\"{}\"\n  >\n  \
         <Size \n    Height=\"{}\"\n    Width=\"{}\"\n  />\n</Image>\n",
        g.overlap, g.tile, g.height, g.width
    )
}

/// Zoomify's `ImageProperties.xml` with `tiles` tiles written.
pub(crate) fn image_properties(g: &Geometry, tiles: u64) -> String {
    format!(
        "<IMAGE_PROPERTIES WIDTH=\"{}\" HEIGHT=\"{}\" NUMTILES=\"{tiles}\" NUMIMAGES=\"1\" \
         VERSION=\"1.8\" TILESIZE=\"{}\" />\n",
        g.width, g.height, g.tile
    )
}

/// The IIIF `info.json` (`id` the base URI, `name` the image's name,
/// `format` the tile extension).
pub(crate) fn info_json(g: &Geometry, id: &str, name: &str, format: &str) -> String {
    let id = json_escape(&format!("{id}/{name}"));
    let mut s = String::new();
    if g.layout == Layout::Iiif3 {
        let _ = write!(
            s,
            "{{\n  \"@context\": \"http://iiif.io/api/image/3/context.json\",\n  \
             \"id\": \"{id}\",\n  \"type\": \"ImageService3\",\n  \"profile\": \"level0\",\n  \
             \"protocol\": \"http://iiif.io/api/image\",\n"
        );
    } else {
        let format = json_escape(format);
        let _ = write!(
            s,
            "{{\n  \"@context\": \"http://iiif.io/api/image/2/context.json\",\n  \
             \"@id\": \"{id}\",\n  \"profile\": [\n    \
             \"http://iiif.io/api/image/2/level0.json\",\n    {{\n      \"formats\": [\n        \
             \"{format}\"\n      ],\n      \"qualities\": [\n        \"default\"\n      ]\n    \
             }}\n  ],\n  \"protocol\": \"http://iiif.io/api/image\",\n"
        );
    }
    s.push_str("  \"tiles\": [\n    {\n      \"scaleFactors\": [\n");
    let n = g.levels.len();
    for (i, l) in g.levels.iter().enumerate() {
        let _ = writeln!(s, "        {}{}", l.sub, if i + 1 < n { "," } else { "" });
    }
    let _ = write!(
        s,
        "      ],\n      \"width\": {}\n    }}\n  ],\n  \"width\": {},\n  \"height\": {}\n}}\n",
        g.tile, g.width, g.height
    );
    s
}

/// The `scan-properties.xml` of an `.szi` (the image's size; libvips
/// adds the slide's vendor, objective and microns per pixel when the
/// image came from OpenSlide).
pub(crate) fn scan_properties(g: &Geometry) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<image xmlns=\"http://www.pathozoom.com/szi\" \
         version=\"1.0\">\n  <properties>\n    <property>\n      <name>ImageWidth</name>\n      \
         <value type=\"gint\">{}</value>\n    </property>\n    <property>\n      \
         <name>ImageHeight</name>\n      <value type=\"gint\">{}</value>\n    </property>\n  \
         </properties>\n</image>\n",
        g.width, g.height
    )
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dz_levels_go_to_one_pixel() {
        let g = Geometry::new(Layout::Dz, 600, 400, 254, 1, Depth::OnePixel, false).unwrap();
        // ceil(log2(600)) + 1 levels, numbered 10 (full) to 0 (1x1).
        assert_eq!(g.levels.len(), 11);
        assert_eq!(
            (g.levels[0].n, g.levels[0].cols, g.levels[0].rows),
            (10, 3, 2)
        );
        assert_eq!((g.levels[10].width, g.levels[10].height), (1, 1));
        assert_eq!(g.tile_path(1, 1, 0, "jpeg"), "9/1_0.jpeg");
        assert_eq!(g.tile_count(), 17);
    }

    #[test]
    fn google_canvas_and_names() {
        let g = Geometry::new(Layout::Google, 600, 400, 256, 0, Depth::OnePixel, false).unwrap();
        assert_eq!((g.canvas_w, g.canvas_h), (1024, 1024));
        assert_eq!(g.levels.len(), 3);
        assert!(g.has_tile(0, 2, 1) && !g.has_tile(0, 3, 0) && !g.has_tile(0, 0, 2));
        assert_eq!(g.tile_path(0, 2, 1, "jpg"), "2/1/2.jpg");
        assert_eq!(g.tile_count(), 6 + 2 + 1);
        let c = Geometry::new(Layout::Google, 600, 400, 256, 0, Depth::OneTile, true).unwrap();
        assert_eq!(c.levels[0].area.left, 212);
        assert_eq!(c.tile_count(), 8 + 4 + 1);
    }

    #[test]
    fn iiif_regions() {
        let g = Geometry::new(Layout::Iiif, 600, 400, 512, 0, Depth::OneTile, false).unwrap();
        assert_eq!(
            g.tile_path(0, 1, 0, "jpg"),
            "512,0,88,400/88,/0/default.jpg"
        );
        assert_eq!(g.tile_path(1, 0, 0, "jpg"), "full/300,/0/default.jpg");
        let g3 = Geometry {
            layout: Layout::Iiif3,
            ..g
        };
        assert_eq!(
            g3.tile_path(0, 0, 0, "jpg"),
            "0,0,512,400/512,400/0/default.jpg"
        );
    }
}
