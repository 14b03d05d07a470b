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
