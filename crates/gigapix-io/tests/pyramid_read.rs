//! Pyramidal TIFFs read as levels (`level=N`), Aperio SVS slides (levels,
//! associated images, properties), TIFF resolution metadata, and damaged
//! pyramids. The files are in `tests/fixtures/pyramid/` (see its README):
//! written by libvips 8.18, ImageMagick 6.9 and libtiff's tools, and every
//! level is compared with libvips 8.18's decode of that level
//! (`pyvips.Image.new_from_file(p, page=N)`), stored as deflate TIFFs
//! written by libvips under `ref/`.

use std::path::{Path, PathBuf};

use gigapix_core::{Ctx, ErrorKind, Image};
use gigapix_io::{OpenOptions, open};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pyramid")
        .join(name)
}

fn open_with(path: &Path, options: &[(&str, &str)]) -> gigapix_core::Result<Image> {
    let mut o = OpenOptions::default();
    for (k, v) in options {
        o = o.set(k, v);
    }
    open(path, &o)
}

fn level(name: &str, n: usize) -> Image {
    open_with(&fixture(name), &[("level", &n.to_string())])
        .unwrap_or_else(|e| panic!("{name} level {n}: {e}"))
}

/// All the image's bytes, row after row.
fn pixels(image: &Image) -> gigapix_core::Result<Vec<u8>> {
    let mut ctx = Ctx::standalone();
    let rect = image.header().rect();
    let region = ctx.region(image, rect)?;
    let mut out = Vec::new();
    for y in rect.y..rect.bottom() {
        out.extend_from_slice(region.row_bytes(y));
    }
    Ok(out)
}

/// Mean and largest absolute difference of two images of one size.
fn difference(a: &Image, b: &Image) -> (f64, u8) {
    assert_eq!(a.header(), b.header());
    let (pa, pb) = (pixels(a).unwrap(), pixels(b).unwrap());
    let mut sum = 0u64;
    let mut max = 0u8;
    for (x, y) in pa.iter().zip(&pb) {
        let d = x.abs_diff(*y);
        sum += u64::from(d);
        max = max.max(d);
    }
    (sum as f64 / pa.len() as f64, max)
}

/// Compares level `n` of `name` with libvips' decode in `reference`.
fn matches_libvips(name: &str, n: usize, reference: &str, exact: bool) {
    let image = level(name, n);
    let reference = open(fixture(reference), &OpenOptions::default())
        .unwrap_or_else(|e| panic!("{reference}: {e}"));
    let (mad, max) = difference(&image, &reference);
    eprintln!("{name} level {n}: MAD {mad:.4}, max {max}");
    if exact {
        assert_eq!(max, 0, "{name} level {n}: MAD {mad}");
    } else {
        assert!(mad <= 1.0, "{name} level {n}: MAD {mad}, max {max}");
    }
    assert_eq!(image.metadata().field("level"), Some(&*n.to_string()));
}

const SIZES: &str = "500x300,250x150,125x75,62x37";

#[test]
fn deflate_page_pyramid_levels_match_libvips() {
    let name = "vips-deflate-pyramid.tif";
    for n in 0..4 {
        matches_libvips(
            name,
            n,
            &format!("ref/vips-deflate-pyramid.page{n}.vips818.tif"),
            true,
        );
        let image = level(name, n);
        let m = image.metadata();
        assert_eq!(m.field("levels"), Some("4"));
        assert_eq!(m.field("level-sizes"), Some(SIZES));
        assert_eq!(m.field("pyramid"), Some("pages"));
        // A page pyramid's levels are pages: `page` says which.
        assert_eq!(
            m.field("page").map(str::to_string),
            (n > 0).then(|| n.to_string())
        );
        // Saved with xres=4, yres=2 pixels/mm in centimetres.
        assert_eq!(m.field("xres"), Some("4"));
        assert_eq!(m.field("yres"), Some("2"));
        assert_eq!(m.field("resolution-unit"), Some("cm"));
    }
    // `page=` keeps meaning the main directory: page 2 is level 2, and
    // the levels of page 2 are the two from there.
    let page2 = open_with(&fixture(name), &[("page", "2")]).unwrap();
    assert_eq!(page2.width(), 125);
    assert_eq!(page2.metadata().field("level-sizes"), Some("125x75,62x37"));
    let err = open_with(&fixture(name), &[("level", "4")]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(
        err.message()
            .contains("level 4 does not exist (the file has 4 levels: 500x300,"),
        "{err}"
    );
}

#[test]
fn deflate_subifd_pyramid_levels_match_libvips() {
    let name = "vips-deflate-subifd.tif";
    for n in 0..4 {
        // libvips decodes subifd=N exactly as page N+1 of the page
        // pyramid of the same image (checked when the fixtures were made).
        matches_libvips(
            name,
            n,
            &format!("ref/vips-deflate-pyramid.page{n}.vips818.tif"),
            true,
        );
        let image = level(name, n);
        let m = image.metadata();
        assert_eq!(m.field("levels"), Some("4"));
        assert_eq!(m.field("level-sizes"), Some(SIZES));
        assert_eq!(m.field("pyramid"), Some("subifd"));
        assert_eq!(m.field("pages"), Some("1"));
        assert_eq!(m.field("page"), None);
        assert_eq!(
            m.field("subifd").map(str::to_string),
            n.checked_sub(1).map(|s| s.to_string())
        );
        // libvips writes 25.4 pixels per inch by default (as a rational
        // close to it), and reads it as 1 per mm.
        assert_eq!(m.field("xres"), Some("1"));
        assert_eq!(m.field("resolution-unit"), Some("inch"));
    }
}

#[test]
fn jpeg_pyramids_match_libvips() {
    for (name, reference, kind) in [
        ("vips-jpeg-pyramid.tif", "vips-jpeg-pyramid", "pages"),
        ("vips-jpeg-subifd.tif", "vips-jpeg-pyramid", "subifd"),
        ("im-jpeg-ptif.tif", "im-jpeg-ptif", "pages"),
    ] {
        for n in 0..4 {
            matches_libvips(
                name,
                n,
                &format!("ref/{reference}.page{n}.vips818.tif"),
                false,
            );
            let m = level(name, n).metadata().clone();
            assert_eq!(m.field("level-sizes"), Some(SIZES), "{name}");
            assert_eq!(m.field("pyramid"), Some(kind), "{name}");
        }
    }
    // ImageMagick halves the resolution with the size: 10 pixels/cm at
    // level 0, 1.25 at level 3.
    let m = level("im-jpeg-ptif.tif", 3).metadata().clone();
    assert_eq!(m.field("xres"), Some("0.125"));
    assert_eq!(m.field("resolution-unit"), Some("cm"));
}

#[test]
fn aperio_slide_levels_associated_images_and_properties() {
    let name = "aperio-synthetic.svs";
    // The tiled pages 0 and 2 are the levels (4x apart, as in real
    // slides); pages 1, 3 and 4 are the thumbnail, label and macro.
    for (n, page) in [(0, 0), (1, 2)] {
        matches_libvips(
            name,
            n,
            &format!("ref/aperio-synthetic.page{page}.vips818.tif"),
            true,
        );
        let image = level(name, n);
        let m = image.metadata();
        assert_eq!(m.field("levels"), Some("2"));
        assert_eq!(m.field("level-sizes"), Some("320x200,80x50"));
        assert_eq!(m.field("pyramid"), Some("aperio"));
        assert_eq!(m.field("associated-images"), Some("thumbnail,label,macro"));
        // As openslide-show-properties reports them for this file.
        assert_eq!(m.field("aperio.MPP"), Some("0.4990"));
        assert_eq!(m.field("aperio.AppMag"), Some("20"));
        assert_eq!(m.field("aperio.ScanScope ID"), Some("SS1234"));
        assert_eq!(m.field("mpp-x"), Some("0.499"));
        assert_eq!(m.field("mpp-y"), Some("0.499"));
        assert_eq!(m.field("objective-power"), Some("20"));
    }
    for (which, page, size) in [
        ("thumbnail", 1, (64, 40)),
        ("label", 3, (40, 30)),
        ("macro", 4, (60, 20)),
    ] {
        let image = open_with(&fixture(name), &[("associated", which)]).unwrap();
        assert_eq!((image.width(), image.height()), size, "{which}");
        assert_eq!(image.metadata().field("associated"), Some(which));
        let reference = open(
            fixture(&format!("ref/aperio-synthetic.page{page}.vips818.tif")),
            &OpenOptions::default(),
        )
        .unwrap();
        assert_eq!(difference(&image, &reference).1, 0, "{which}");
    }
    // The extension is a TIFF one; associated images are only for slides.
    let err = open_with(
        &fixture("vips-deflate-pyramid.tif"),
        &[("associated", "label")],
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("not one"), "{err}");
    let err = open_with(&fixture(name), &[("associated", "label"), ("level", "1")]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

/// Where `needle` is in `bytes` (exactly once).
fn find_once(bytes: &[u8], needle: &[u8]) -> usize {
    let hits: Vec<usize> = bytes
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits.len(), 1, "the needle is ambiguous");
    hits[0]
}

/// The tile offsets and byte counts of directory `page` or of its
/// SubIFD, read with the `tiff` crate.
fn tile_table(bytes: &[u8], page: usize) -> (Vec<u32>, Vec<u32>) {
    let mut dec = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes)).unwrap();
    dec.seek_to_image(page).unwrap();
    (
        dec.get_tag_u32_vec(tiff::tags::Tag::TileOffsets).unwrap(),
        dec.get_tag_u32_vec(tiff::tags::Tag::TileByteCounts)
            .unwrap(),
    )
}

fn le_bytes(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn damaged_pyramids_are_one_line_errors_or_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read(fixture("vips-deflate-pyramid.tif")).unwrap();

    // Lying tile offsets: level 2's first tile points past the file end.
    let (offsets, counts) = tile_table(&original, 2);
    let mut bytes = original.clone();
    let at = find_once(&bytes, &le_bytes(&offsets));
    bytes[at..at + 4].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    let lying = dir.path().join("lying.tif");
    std::fs::write(&lying, &bytes).unwrap();
    // The other levels are not affected.
    open_with(&lying, &[("level", "1")])
        .map(|i| pixels(&i).unwrap())
        .unwrap();
    let err = open_with(&lying, &[("level", "2")]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format);
    assert!(
        !err.message().contains('\n') && err.message().contains("truncated"),
        "{err}"
    );
    let image = open_with(&lying, &[("level", "2"), ("fail_on", "none")]).unwrap();
    let px = pixels(&image).unwrap();
    assert_eq!(px.len(), 125 * 75 * 3);

    // Garbage tiles: level 1's first tile's compressed bytes overwritten,
    // in a deflate and in a JPEG pyramid.
    for name in ["vips-deflate-pyramid.tif", "vips-jpeg-pyramid.tif"] {
        let file = std::fs::read(fixture(name)).unwrap();
        let (offsets1, counts1) = tile_table(&file, 1);
        let mut bytes = file.clone();
        let (o, c) = (offsets1[0] as usize, counts1[0] as usize);
        bytes[o..o + c]
            .iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (i * 37 + 11) as u8);
        let garbage = dir.path().join(format!("garbage-{name}"));
        std::fs::write(&garbage, &bytes).unwrap();
        let image = open_with(&garbage, &[("level", "1")]).unwrap();
        let err = pixels(&image).unwrap_err();
        assert!(!err.message().contains('\n'), "{name}: {err}");
        let image = open_with(&garbage, &[("level", "1"), ("fail_on", "none")]).unwrap();
        assert_eq!(pixels(&image).unwrap().len(), 250 * 150 * 3, "{name}");
        // The other levels decode.
        let image = open_with(&garbage, &[("level", "2")]).unwrap();
        pixels(&image).unwrap();
    }

    // Truncated tiles: the file cut inside level 2's last tile (the
    // directories libvips writes after each level's tiles go with it).
    let end = offsets[offsets.len() - 1] as usize + counts[counts.len() - 1] as usize / 2;
    let cut = dir.path().join("cut.tif");
    std::fs::write(&cut, &original[..end]).unwrap();
    for n in 0..4 {
        match open_with(&cut, &[("level", &n.to_string())]) {
            Ok(image) => {
                let _ = pixels(&image);
            }
            Err(e) => assert!(!e.message().contains('\n'), "{e}"),
        }
    }
    let image = open_with(&cut, &[("level", "1")]).unwrap();
    assert_eq!(
        image.metadata().field("levels"),
        Some("2"),
        "levels 2 and 3 are gone"
    );
    let err = open_with(&cut, &[("level", "3")]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);

    // A missing level: the SubIFD pointer of level 2 points past the end.
    let original = std::fs::read(fixture("vips-deflate-subifd.tif")).unwrap();
    let mut dec = tiff::decoder::Decoder::new(std::io::Cursor::new(&original)).unwrap();
    let subifds = dec.get_tag_u32_vec(tiff::tags::Tag::SubIfd).unwrap();
    let mut bytes = original.clone();
    let at = find_once(&bytes, &le_bytes(&subifds));
    bytes[at + 4..at + 8].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    let missing = dir.path().join("missing.tif");
    std::fs::write(&missing, &bytes).unwrap();
    let image = open_with(&missing, &[]).unwrap();
    assert_eq!(image.metadata().field("levels"), Some("2"));
    let err = open_with(&missing, &[("level", "2")]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(
        !err.message().contains('\n') && err.message().contains("damaged directory (SubIFD 1"),
        "{err}"
    );
}

/// OpenSlide (`openslide-show-properties`, Debian's `openslide-tools`)
/// reads the synthetic slide with the levels, mpp and objective power
/// found here; skipped with a message when the program is missing.
#[test]
fn openslide_agrees_on_the_slide() {
    let path = fixture("aperio-synthetic.svs");
    let output = match std::process::Command::new("openslide-show-properties")
        .arg(&path)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED: openslide-show-properties not found ({e})");
            return;
        }
    };
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    let property = |key: &str| -> String {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}: '")))
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or_else(|| panic!("{key} missing in\n{text}"))
            .to_string()
    };
    let image = level("aperio-synthetic.svs", 0);
    let m = image.metadata();
    assert_eq!(m.field("levels"), Some(&*property("openslide.level-count")));
    let sizes: Vec<String> = (0..2)
        .map(|n| {
            format!(
                "{}x{}",
                property(&format!("openslide.level[{n}].width")),
                property(&format!("openslide.level[{n}].height"))
            )
        })
        .collect();
    assert_eq!(m.field("level-sizes"), Some(&*sizes.join(",")));
    assert_eq!(m.field("mpp-x"), Some(&*property("openslide.mpp-x")));
    assert_eq!(m.field("mpp-y"), Some(&*property("openslide.mpp-y")));
    assert_eq!(
        m.field("objective-power"),
        Some(&*property("openslide.objective-power"))
    );
    assert_eq!(m.field("aperio.MPP"), Some(&*property("aperio.MPP")));
}
