//! GIF load and save: decodes of files by ImageMagick and gifsicle against
//! libvips 8.18's decodes committed beside them
//! (`tests/fixtures/gif/README.md`), frames and metadata; saves read back
//! by libvips 8.18 and Pillow; the quantiser's error; damaged files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::read_strips;
use gigapix_core::{ErrorKind, Image};
use gigapix_io::{OpenOptions, open};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gif")
        .join(name)
}

/// The raw text of `key`'s value in the flat JSON object `json`.
fn json_value<'a>(json: &'a str, key: &str) -> &'a str {
    let at = json
        .find(&format!("\"{key}\": "))
        .unwrap_or_else(|| panic!("{key} in {json}"));
    let rest = &json[at + key.len() + 4..];
    let end = if rest.starts_with('[') {
        rest.find(']').unwrap() + 1
    } else {
        rest.find([',', '}']).unwrap()
    };
    &rest[..end]
}

/// A JSON list of numbers as our comma-separated field.
fn json_list(value: &str) -> String {
    value
        .trim_matches(['[', ']'])
        .split(',')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(",")
}

fn open_with(path: &Path, opts: &[(&str, &str)]) -> gigapix_core::Result<Image> {
    let mut o = OpenOptions::default();
    for (k, v) in opts {
        o = o.set(k, v);
    }
    open(path, &o)
}

const FIXTURES: [&str; 6] = [
    "still",
    "interlaced",
    "trans",
    "anim",
    "opaque-anim",
    "small-first",
];

/// Every frame of every fixture, composited, is libvips 8.18's decode
/// exactly, with the same bands and metadata.
#[test]
fn decodes_match_libvips() {
    for name in FIXTURES {
        let image = open_with(&fixture(&format!("{name}.gif")), &[("n", "-1")]).unwrap();
        let reference = open(fixture(&format!("{name}.png")), &OpenOptions::default()).unwrap();
        assert_eq!(image.header(), reference.header(), "{name}");
        let ours = read_strips(&image, 7).unwrap();
        let theirs = read_strips(&reference, 64).unwrap();
        let h = image.header();
        if ours != theirs {
            let row = h.row_bytes();
            let bad = ours.iter().zip(&theirs).position(|(a, b)| a != b).unwrap();
            panic!(
                "{name}: first difference at row {} byte {}: {} vs libvips {}",
                bad / row,
                bad % row,
                ours[bad],
                theirs[bad]
            );
        }
        let json = std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap();
        let meta = image.metadata();
        for key in ["n-pages", "loop", "bits-per-sample"] {
            assert_eq!(
                meta.field(key),
                Some(json_value(&json, key)),
                "{name} {key}"
            );
        }
        assert_eq!(
            meta.field("delay"),
            Some(json_list(json_value(&json, "delay")).as_str()),
            "{name} delay"
        );
        assert_eq!(
            meta.field("background"),
            Some(json_list(json_value(&json, "background")).as_str()),
            "{name} background"
        );
        let palette = json_value(&json, "gif-palette");
        assert_eq!(
            meta.field("gif-palette").map(str::to_string),
            (palette != "null").then(|| json_list(palette)),
            "{name} gif-palette"
        );
        let page_height = json_value(&json, "page-height");
        assert_eq!(
            meta.field("page-height").map(str::to_string),
            (page_height != "null").then(|| page_height.to_string()),
            "{name} page-height"
        );
        assert_eq!(
            meta.field("interlaced").is_some(),
            json_value(&json, "interlaced") == "true",
            "{name} interlaced"
        );
    }
}

/// `page` and `n` select frames of the strip libvips decodes; the default
/// is the first frame alone, without `page-height`.
#[test]
fn page_and_n_select_frames() {
    let path = fixture("anim.gif");
    let reference = open(fixture("anim.png"), &OpenOptions::default()).unwrap();
    let all = read_strips(&reference, 48).unwrap();
    let row = reference.header().row_bytes();
    let page = 48 * row;
    let first = open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(first.header().height, 48);
    assert_eq!(first.metadata().field("page-height"), None);
    assert_eq!(read_strips(&first, 5).unwrap(), all[..page]);
    let two = open_with(&path, &[("page", "1"), ("n", "2")]).unwrap();
    assert_eq!(two.header().height, 96);
    assert_eq!(two.metadata().field("page-height"), Some("48"));
    assert_eq!(read_strips(&two, 13).unwrap(), all[page..3 * page]);
    let last = open_with(&path, &[("page", "3"), ("n", "-1")]).unwrap();
    assert_eq!(read_strips(&last, 96).unwrap(), all[3 * page..]);
    for opts in [
        [("page", "5"), ("n", "1")],
        [("page", "4"), ("n", "2")],
        [("page", "0"), ("n", "0")],
    ] {
        let e = open_with(&path, &opts).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{opts:?}: {e}");
        assert!(e.message().contains("5"), "{e}");
    }
}

// ---------------------------------------------------------------- saving

use gigapix_core::{BandFormat, Header, Metadata};
use gigapix_io::{SaveOptions, writer};

/// `$GIGAPIX_PYTHON` if it has pyvips (libvips 8.18) and Pillow.
fn python() -> Option<String> {
    let Ok(p) = std::env::var("GIGAPIX_PYTHON") else {
        eprintln!("skipped: GIGAPIX_PYTHON is not set");
        return None;
    };
    let ok = Command::new(&p)
        .args([
            "-c",
            "import pyvips, PIL; assert (pyvips.version(0), pyvips.version(1)) == (8, 18)",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: {p} lacks pyvips 8.18 or Pillow");
    }
    ok.then_some(p)
}

/// Runs `script` (Python) with `args`; its standard output.
fn run_python(python: &str, script: &str, args: &[&Path]) -> String {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Decodes a GIF with libvips (every frame) and with Pillow (every frame,
/// composited, as RGBA) into `X.vips.rgba` and `X.pil.rgba`; prints
/// libvips' `n-pages`, `delay`, `loop` and whether it is interlaced.
const READ_BACK: &str = r#"
import sys, pyvips
from PIL import Image, ImageSequence
path = sys.argv[1]
im = pyvips.Image.new_from_file(path, n=-1)
if im.bands == 3:
    im = im.bandjoin(255)
open(path + ".vips.rgba", "wb").write(im.write_to_memory())
pil = Image.open(path)
data = b"".join(f.convert("RGBA").tobytes() for f in ImageSequence.Iterator(pil))
open(path + ".pil.rgba", "wb").write(data)
print(im.get("n-pages"), ",".join(str(d) for d in im.get("delay")), im.get("loop"),
      "interlaced" in im.get_fields())
"#;

/// Saves `data` (packed rows of `header`) at `path` with `metadata` and
/// the options `opts`, in bands of 5 rows.
fn save_with(
    path: &Path,
    header: &Header,
    metadata: &Metadata,
    opts: &[(&str, &str)],
    data: &[u8],
) -> gigapix_core::Result<()> {
    let mut o = SaveOptions::default();
    for (k, v) in opts {
        o = o.set(k, v);
    }
    let mut w = writer(path, header, metadata, &o)?;
    let row = header.row_bytes();
    let mut y = 0;
    while y < header.height {
        let rows = 5.min(header.height - y);
        w.write_band(y, rows, &data[y as usize * row..(y + rows) as usize * row])?;
        y += rows;
    }
    w.finish()
}

/// `data` of `bands` bands as RGBA, alpha thresholded at 128 as GIF
/// holds it (transparent pixels transparent black).
fn as_gif_rgba(data: &[u8], bands: usize) -> Vec<u8> {
    data.chunks_exact(bands)
        .flat_map(|px| {
            let (rgb, a) = match bands {
                1 => ([px[0]; 3], 255),
                2 => ([px[0]; 3], px[1]),
                3 => ([px[0], px[1], px[2]], 255),
                _ => ([px[0], px[1], px[2]], px[3]),
            };
            if a < 128 {
                [0, 0, 0, 0]
            } else {
                [rgb[0], rgb[1], rgb[2], 255]
            }
        })
        .collect()
}

/// An image of few colours (so it is saved exactly) of `bands` bands,
/// alpha on a pattern.
fn few_colours(w: u32, h: u32, bands: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let v = ((x / 4 + y / 3) % 7) as u8 * 36;
            let c = [v, 255 - v, (x * 40 % 256) as u8 & 0xc0];
            match bands {
                1 => out.push(v),
                2 => out.extend([v, if (x + y) % 5 == 0 { 40 } else { 200 }]),
                3 => out.extend(c),
                _ => out.extend([c[0], c[1], c[2], if (x * y) % 7 == 1 { 100 } else { 130 }]),
            }
        }
    }
    out
}

/// Images of at most 255 colours, grey, grey+alpha, RGB and RGBA, still
/// and interlaced, are saved exactly: our decode, libvips' and Pillow's
/// of the file are the input (alpha thresholded at 128).
#[test]
fn exact_saves_read_back_by_libvips_and_pillow() {
    let dir = tempfile::tempdir().unwrap();
    let python = python();
    let (w, h) = (37u32, 23u32);
    for bands in 1..=4usize {
        for interlace in ["false", "true"] {
            let data = few_colours(w, h, bands);
            let header = Header::new(w, h, bands as u32, BandFormat::U8);
            let path = dir.path().join(format!("b{bands}-{interlace}.gif"));
            save_with(
                &path,
                &header,
                &Metadata::default(),
                &[("interlace", interlace)],
                &data,
            )
            .unwrap();
            let want = as_gif_rgba(&data, bands);
            let image = open(&path, &OpenOptions::default()).unwrap();
            let has_alpha = bands % 2 == 0;
            assert_eq!(image.header().bands, if has_alpha { 4 } else { 3 });
            let ours = read_strips(&image, 4).unwrap();
            let ours = as_gif_rgba(&ours, image.header().bands as usize);
            assert!(ours == want, "bands {bands} interlace {interlace}");
            if let Some(py) = &python {
                let info = run_python(py, READ_BACK, &[&path]);
                let vips = std::fs::read(path.with_extension("gif.vips.rgba")).unwrap();
                let pil = std::fs::read(path.with_extension("gif.pil.rgba")).unwrap();
                assert!(vips == want, "libvips: bands {bands} interlace {interlace}");
                assert!(
                    as_gif_rgba(&pil, 4) == want,
                    "Pillow: bands {bands} interlace {interlace}"
                );
                assert!(
                    info.trim_end()
                        .ends_with(if interlace == "true" { "True" } else { "False" }),
                    "{info}"
                );
            }
        }
    }
}

/// Root-mean-square error between two RGB byte strings.
fn rms(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let s: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    (s / a.len() as f64).sqrt()
}

/// Mean CIE76 colour difference between the photo and a GIF of it, by
/// libvips (`colourspace lab`): prints ours, then libvips' own GIF's
/// (`gifsave`, libimagequant, same dither).
const DELTA_E: &str = r#"
import sys, pyvips
src = pyvips.Image.new_from_file(sys.argv[1])
ours = pyvips.Image.new_from_file(sys.argv[2])[:3]
dither = float(sys.argv[3].name if hasattr(sys.argv[3], "name") else sys.argv[3])
theirs = pyvips.Image.new_from_buffer(src.gifsave_buffer(dither=dither), "")[:3]
def de(b):
    d = src.colourspace("lab") - b.colourspace("lab")
    return ((d * d).bandmean() * 3) ** 0.5
print(de(ours).avg(), de(theirs).avg())
"#;

/// A photo (a 128x96 crop of the shared test picture, thousands of
/// colours) is quantised: without dither its RMS error is within 12 levels
/// and its mean CIE76 error within 15 % of libvips' (libimagequant's) GIF
/// of it; with dither (which trades pixel error for smoothness) within
/// 25 %; both read back identically by libvips and Pillow.
#[test]
fn quantised_photo_is_close_to_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("photo.png");
    let photo = open(&src, &OpenOptions::default()).unwrap();
    let header = *photo.header();
    let data = read_strips(&photo, 16).unwrap();
    let python = python();
    let mut outputs = Vec::new();
    for (dither, bound) in [("0", 1.15), ("1", 1.25)] {
        let path = dir.path().join(format!("d{dither}.gif"));
        save_with(
            &path,
            &header,
            &Metadata::default(),
            &[("dither", dither)],
            &data,
        )
        .unwrap();
        let back = read_strips(&open(&path, &OpenOptions::default()).unwrap(), 96).unwrap();
        let e = rms(&data, &back);
        eprintln!("dither {dither}: RMS {e:.2}");
        assert!(e < 12.0, "dither {dither}: RMS {e}");
        outputs.push(back);
        if let Some(py) = &python {
            run_python(py, READ_BACK, &[&path]);
            let vips = std::fs::read(path.with_extension("gif.vips.rgba")).unwrap();
            let pil = std::fs::read(path.with_extension("gif.pil.rgba")).unwrap();
            let ours_rgba = as_gif_rgba(outputs.last().unwrap(), 3);
            assert!(vips == ours_rgba && pil == ours_rgba, "dither {dither}");
            let out = Command::new(py)
                .arg("-c")
                .arg(DELTA_E)
                .arg(&src)
                .arg(&path)
                .arg(dither)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            let v: Vec<f64> = text
                .split_whitespace()
                .map(|t| t.parse().unwrap())
                .collect();
            eprintln!(
                "dither {dither}: mean dE76 ours {:.3}, libvips {:.3}",
                v[0], v[1]
            );
            assert!(
                v[0] <= v[1] * bound,
                "dither {dither}: dE76 {} vs libvips {}",
                v[0],
                v[1]
            );
        }
    }
    assert!(outputs[0] != outputs[1], "dither changes nothing");
    // Fewer bits, fewer colours.
    let path = dir.path().join("b2.gif");
    save_with(
        &path,
        &header,
        &Metadata::default(),
        &[("bitdepth", "2"), ("effort", "2")],
        &data,
    )
    .unwrap();
    let back = read_strips(&open(&path, &OpenOptions::default()).unwrap(), 96).unwrap();
    let mut colours: Vec<&[u8]> = back.chunks_exact(3).collect();
    colours.sort();
    colours.dedup();
    assert!(colours.len() <= 4, "{} colours", colours.len());
}

/// An animation round trip through libvips: our decode of `anim.gif`
/// saved by us (page-height, delay, loop) is read back by libvips and
/// Pillow frame for frame, with libvips' delay and loop; and libvips' own
/// save of that strip is decoded by us as libvips decodes it.
#[test]
fn animation_round_trip_through_libvips() {
    let dir = tempfile::tempdir().unwrap();
    let image = open_with(&fixture("anim.gif"), &[("n", "-1")]).unwrap();
    let header = *image.header();
    let data = read_strips(&image, 48).unwrap();
    let mut meta = image.metadata().clone();
    meta.set_field("loop", "3");
    let path = dir.path().join("anim.gif");
    save_with(&path, &header, &meta, &[], &data).unwrap();
    let back = open_with(&path, &[("n", "-1")]).unwrap();
    assert_eq!(back.header(), &header);
    assert_eq!(read_strips(&back, 11).unwrap(), data);
    let m = back.metadata();
    assert_eq!(m.field("delay"), Some("100,200,300,400,500"));
    assert_eq!(m.field("loop"), Some("3"));
    assert_eq!(m.field("page-height"), Some("48"));
    let Some(py) = python() else { return };
    let info = run_python(&py, READ_BACK, &[&path]);
    assert_eq!(info.trim(), "5 100,200,300,400,500 3 False");
    let vips = std::fs::read(path.with_extension("gif.vips.rgba")).unwrap();
    let pil = std::fs::read(path.with_extension("gif.pil.rgba")).unwrap();
    let want = as_gif_rgba(&data, 4);
    assert!(vips == want, "libvips");
    assert!(as_gif_rgba(&pil, 4) == want, "Pillow");
    // libvips writes the strip; we read its file as libvips does.
    let theirs = dir.path().join("theirs.gif");
    let png = dir.path().join("theirs.png");
    run_python(
        &py,
        "import sys, pyvips\n\
         im = pyvips.Image.new_from_file(sys.argv[1], n=-1)\n\
         im.gifsave(sys.argv[2])\n\
         pyvips.Image.new_from_file(sys.argv[2], n=-1).write_to_file(sys.argv[3])\n",
        &[&fixture("anim.gif"), &theirs, &png],
    );
    let ours = open_with(&theirs, &[("n", "-1")]).unwrap();
    let reference = open(&png, &OpenOptions::default()).unwrap();
    assert_eq!(ours.header(), reference.header());
    assert!(read_strips(&ours, 48).unwrap() == read_strips(&reference, 48).unwrap());
}

/// Frames over 65535 pixels wide or tall, and images of 5 bands, are
/// refused before a file is made.
#[test]
fn size_and_band_limits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.gif");
    for header in [
        Header::new(70_000, 2, 3, BandFormat::U8),
        Header::new(2, 70_000, 1, BandFormat::U8),
        Header::new(2, 2, 5, BandFormat::U8),
        Header::new(2, 2, 3, BandFormat::U16),
    ] {
        let e = writer(
            &path,
            &header,
            &Metadata::default(),
            &SaveOptions::default(),
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(!path.exists());
    }
    let e = writer(
        &path,
        &Header::new(70_000, 2, 3, BandFormat::U8),
        &Metadata::default(),
        &SaveOptions::default(),
    )
    .err()
    .unwrap();
    assert!(e.message().contains("65535"), "{e}");
    // A tall strip of short pages is fine.
    let mut meta = Metadata::default();
    meta.set_field("page-height", 10);
    let header = Header::new(4, 70_000, 1, BandFormat::U8);
    assert!(writer(&path, &header, &meta, &SaveOptions::default()).is_ok());
}

/// Every prefix of a valid file, and flipped bytes, give a clean result:
/// an error (truncations always), or pixels.
#[test]
fn damaged_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("anim.gif")).unwrap();
    let path = dir.path().join("bad.gif");
    for len in 0..bytes.len() {
        std::fs::write(&path, &bytes[..len]).unwrap();
        let r = open_with(&path, &[("n", "-1")]).and_then(|i| read_strips(&i, 48));
        let e = r.err().unwrap_or_else(|| panic!("cut at {len} decoded"));
        assert_eq!(e.kind(), ErrorKind::Format, "cut at {len}: {e}");
        assert!(e.message().contains("bad.gif"), "{e}");
    }
    for at in 0..bytes.len() {
        let mut data = bytes.clone();
        data[at] ^= 0x5a;
        std::fs::write(&path, &data).unwrap();
        let _ = open_with(&path, &[("n", "-1")]).and_then(|i| read_strips(&i, 48));
    }
    // With fail_on=none a truncated animation keeps its first frames.
    std::fs::write(&path, &bytes[..bytes.len() - 40]).unwrap();
    let image = open_with(&path, &[("n", "-1"), ("fail_on", "none")]).unwrap();
    let got = read_strips(&image, 48).unwrap();
    let reference = open(fixture("anim.png"), &OpenOptions::default()).unwrap();
    let want = read_strips(&reference, 48).unwrap();
    let page = 64 * 48 * 4;
    assert_eq!(got[..page], want[..page]);
}
