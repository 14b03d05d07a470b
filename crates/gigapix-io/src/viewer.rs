//! The viewer page of deep-zoom pyramids: one self-contained `index.html`
//! (HTML, about four hundred lines of the project's own JavaScript and a
//! canvas; no third-party code, nothing fetched but the pyramid itself).
//!
//! It shows a DeepZoom (`.dzi`), IIIF Image API 2 or 3 (`info.json`),
//! Zoomify (`ImageProperties.xml`) or Google (`z/y/x`) pyramid with pan
//! (drag, arrow keys) and zoom (wheel, double-click, `+`/`-` keys and
//! buttons, `0` for the whole image). For each view it picks the coarsest
//! level with at least one level pixel per device pixel and requests only
//! that level's visible tiles, centre first, at most eight at a time;
//! tiles of coarser levels already loaded stay as a backdrop meanwhile.
//!
//! For tests and scripts the page has `window.viewer` (`zoomIn()`,
//! `zoomOut()`, `home()`, `zoomTo(zoom, x, y)`, `whenReady()`, `state`)
//! and `<html data-ready="true">` once every visible tile of the current
//! level has loaded (or failed). The view is kept in the fragment,
//! `#zoom=Z&x=X&y=Y` (CSS pixels per image pixel; the centre in image
//! pixels), so a view can be linked or opened directly; changing the
//! fragment of an open page moves its view.
//!
//! Tile paths the page requests, from the descriptor's directory:
//!
//! | layout | tile path |
//! |---|---|
//! | DeepZoom | `NAME_files/LEVEL/COL_ROW.FORMAT` (`NAME.dzi`; the Format attribute) |
//! | IIIF 2 | `X,Y,W,H/SW,/0/default.jpg` (`full` first when the region is the whole image, then `0,0,W,H`) |
//! | IIIF 3 | `X,Y,W,H/SW,SH/0/default.jpg` (the same for `full`) |
//! | Zoomify | `TileGroupG/Z-X-Y.jpg`, G = the tile's index counted from level 0, divided by 256 |
//! | Google | `Z/Y/X.SUFFIX`, `blank.png` where a tile is missing (skipped blank) |
//!
//! IIIF tiles are looked for beside `info.json`, whatever its `id` says
//! (writers often put a placeholder host there), at the levels its
//! `scaleFactors` list. Level sizes are rounded up at each halving.
//!
//! Browsers refuse the descriptor requests of a page opened from
//! `file://`; `gigapix serve DIR` serves it. A page made with the whole
//! geometry ([`Pyramid::size`], [`Pyramid::tiles`], [`Pyramid::suffix`])
//! needs no descriptor for DeepZoom, Zoomify and Google and so also works
//! from `file://`.

use std::fmt::Write as _;

const PAGE: &str = include_str!("viewer.html");
const SCRIPT: &str = include_str!("viewer.js");

/// A deep-zoom layout the viewer page reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// DeepZoom: a `.dzi` XML descriptor and `NAME_files/LEVEL/COL_ROW.EXT`.
    DeepZoom,
    /// Zoomify: `ImageProperties.xml` and `TileGroupN/Z-X-Y.jpg`.
    Zoomify,
    /// Google Maps: `Z/Y/X.EXT`, no descriptor (the page needs the size).
    Google,
    /// IIIF Image API 2: `info.json` and `REGION/W,/0/default.jpg`.
    Iiif,
    /// IIIF Image API 3: `info.json` and `REGION/W,H/0/default.jpg`.
    Iiif3,
}

impl Layout {
    /// The name the page's configuration uses (`dz`, `zoomify`, `google`,
    /// `iiif`, `iiif3`: the names of dzsave's `layout` option).
    pub fn name(self) -> &'static str {
        match self {
            Layout::DeepZoom => "dz",
            Layout::Zoomify => "zoomify",
            Layout::Google => "google",
            Layout::Iiif => "iiif",
            Layout::Iiif3 => "iiif3",
        }
    }
}

/// What the viewer page needs to know of a pyramid.
///
/// Only the layout and the descriptor are required; the geometry, when
/// given, spares the page reading the descriptor (and must then match it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pyramid {
    /// The layout.
    pub layout: Layout,
    /// The descriptor's URL relative to the page, `/`-separated: `out.dzi`,
    /// `out/info.json`, `out/ImageProperties.xml`; for Google the tile
    /// root (`out` or `` when the page is inside it).
    pub descriptor: String,
    /// Width and height of the full-resolution image, or 0 for "read the
    /// descriptor" (required for Google).
    pub width: u64,
    /// See `width`.
    pub height: u64,
    /// Tile size in pixels (0: from the descriptor; 256 for Google).
    pub tile_size: u32,
    /// Overlap of DeepZoom tiles, in pixels.
    pub overlap: u32,
    /// The tiles' file extension with its dot (`.jpg`, `.png`); empty: from
    /// the descriptor (DeepZoom), else `.jpg`.
    pub suffix: String,
    /// The page's title (default: the descriptor's name).
    pub title: String,
    /// Background colour of the page as CSS (default `#222`).
    pub background: String,
}

impl Pyramid {
    /// A pyramid of `layout` whose descriptor is at `descriptor` (relative
    /// to the page); the rest comes from the descriptor.
    pub fn new(layout: Layout, descriptor: impl Into<String>) -> Pyramid {
        Pyramid {
            layout,
            descriptor: descriptor.into(),
            width: 0,
            height: 0,
            tile_size: 0,
            overlap: 0,
            suffix: String::new(),
            title: String::new(),
            background: String::new(),
        }
    }

    /// The full-resolution size.
    pub fn size(mut self, width: u64, height: u64) -> Pyramid {
        self.width = width;
        self.height = height;
        self
    }

    /// Tile size and overlap.
    pub fn tiles(mut self, tile_size: u32, overlap: u32) -> Pyramid {
        self.tile_size = tile_size;
        self.overlap = overlap;
        self
    }

    /// The tiles' extension, with its dot (`.jpg`).
    pub fn suffix(mut self, suffix: impl Into<String>) -> Pyramid {
        self.suffix = suffix.into();
        self
    }

    /// The page's title.
    pub fn title(mut self, title: impl Into<String>) -> Pyramid {
        self.title = title.into();
        self
    }
}

/// The viewer page of `pyramid`: a complete, self-contained HTML document
/// to write as `index.html` (the descriptor path is relative to it).
///
/// ```
/// use gigapix_io::viewer::{Layout, Pyramid, index_html};
/// let page = index_html(&Pyramid::new(Layout::DeepZoom, "out.dzi"));
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// assert!(page.contains(r#""descriptor":"out.dzi""#));
/// ```
pub fn index_html(pyramid: &Pyramid) -> String {
    let title = if pyramid.title.is_empty() {
        let d = pyramid.descriptor.trim_end_matches('/');
        d.rsplit('/').next().unwrap_or(d).to_string()
    } else {
        pyramid.title.clone()
    };
    let mut config = String::from("{");
    let _ = write!(
        config,
        "\"layout\":{},\"descriptor\":{},\"width\":{},\"height\":{},\"tileSize\":{},\
         \"overlap\":{},\"suffix\":{},\"background\":{}",
        json_string(pyramid.layout.name()),
        json_string(&pyramid.descriptor),
        pyramid.width,
        pyramid.height,
        pyramid.tile_size,
        pyramid.overlap,
        json_string(&pyramid.suffix),
        json_string(&pyramid.background),
    );
    config.push('}');
    // One pass of replacements, so nothing inserted is looked at again.
    let mut out = String::with_capacity(PAGE.len() + SCRIPT.len() + config.len());
    let mut rest = PAGE;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let (value, len) = if tail.starts_with("{{TITLE}}") {
            (html_escape(&title), "{{TITLE}}".len())
        } else if tail.starts_with("{{CONFIG}}") {
            (config.clone(), "{{CONFIG}}".len())
        } else if tail.starts_with("{{SCRIPT}}") {
            (SCRIPT.to_string(), "{{SCRIPT}}".len())
        } else {
            ("{{".to_string(), 2)
        };
        out.push_str(&value);
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

/// `s` as a JSON string that is also safe inside a `<script>` element
/// (`<`, `>` and `&` escaped, so no `</script>` can appear).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_escaped_and_complete() {
        let p = Pyramid::new(Layout::Iiif3, "a</script>\"b/info.json")
            .size(1000, 700)
            .tiles(512, 0)
            .title("<x> & 'y'");
        let page = index_html(&p);
        assert!(!page.contains("a</script>"));
        assert!(page.contains(r#""descriptor":"a\u003c/script\u003e\"b/info.json""#));
        assert!(page.contains(r#""layout":"iiif3","#));
        assert!(page.contains(r#""width":1000,"height":700,"tileSize":512"#));
        assert!(page.contains("<title>&lt;x&gt; &amp; &#39;y&#39;</title>"));
        assert!(!page.contains("{{"));
        // The script is inlined once, and it is the only <script> with code.
        assert_eq!(page.matches("window.viewer = {").count(), 1);
        assert_eq!(page.matches("</script>").count(), 2);
    }

    #[test]
    fn default_title_is_the_descriptor_name() {
        let page = index_html(&Pyramid::new(Layout::DeepZoom, "dir/out.dzi"));
        assert!(page.contains("<title>out.dzi</title>"));
    }
}
