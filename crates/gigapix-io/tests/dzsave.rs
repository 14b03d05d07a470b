//! `dzsave`: every level against an f64 2x2 average chain of the full
//! image, tile names, counts, sizes and overlaps per layout from each
//! specification's formulas (computed here, independently of the
//! writer), the descriptor files against the specifications' examples and
//! against what libvips 8.18 (pyvips) writes for the same image, the fs
//! container's atomicity, and the zip read back by Python's `zipfile`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use gigapix_core::{BandFormat, Ctx, Header, Metadata, Rect};
use gigapix_io::{OpenOptions, SaveOptions, open, writer};

/// A test image: smooth ramps and a checker, so averages are not trivial.
fn image(w: u32, h: u32, bands: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity((w * h * bands) as usize);
    for y in 0..h {
        for x in 0..w {
            for b in 0..bands {
                let checker = if (x / 3 + y / 5) % 2 == 0 { 40 } else { 0 };
                v.push(((x * 7 + y * 3 + b * 50) % 200 + checker) as u8);
            }
        }
    }
    v
}

fn save(
    path: &Path,
    w: u32,
    h: u32,
    bands: u32,
    opts: &[(&str, &str)],
) -> gigapix_core::Result<()> {
    let header = Header::new(w, h, bands, BandFormat::U8);
    let mut o = SaveOptions::new();
    for (k, v) in opts {
        o = o.set(k, v);
    }
    let data = image(w, h, bands);
    let mut out = writer(path, &header, &Metadata::default(), &o)?;
    let row = (w * bands) as usize;
    // Bands of 7 rows: not a divisor of anything.
    let mut y = 0;
    while y < h {
        let n = 7.min(h - y);
        out.write_band(y, n, &data[y as usize * row..(y + n) as usize * row])?;
        y += n;
    }
    out.finish()
}

/// The levels of the reference: f64 2x2 means of the pixels that exist,
/// never rounded between levels, level 0 first.
fn reference_levels(w: u32, h: u32, bands: u32, count: usize) -> Vec<(u32, u32, Vec<f64>)> {
    let b = bands as usize;
    let mut levels = vec![(
        w,
        h,
        image(w, h, bands)
            .iter()
            .map(|&v| f64::from(v))
            .collect::<Vec<_>>(),
    )];
    while levels.len() < count {
        let (pw, ph, prev) = levels.last().unwrap();
        let (pw, ph) = (*pw as usize, *ph as usize);
        let (nw, nh) = (pw.div_ceil(2), ph.div_ceil(2));
        let mut next = vec![0.0; nw * nh * b];
        for y in 0..nh {
            for x in 0..nw {
                for c in 0..b {
                    let (mut s, mut n) = (0.0, 0.0);
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let (sx, sy) = (2 * x + dx, 2 * y + dy);
                        if sx < pw && sy < ph {
                            s += prev[(sy * pw + sx) * b + c];
                            n += 1.0;
                        }
                    }
                    next[(y * nw + x) * b + c] = s / n;
                }
            }
        }
        levels.push((nw as u32, nh as u32, next));
    }
    levels
}

fn read_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let im = open(path, &OpenOptions::default()).unwrap();
    let h = *im.header();
    let r = Ctx::standalone()
        .region(&im, Rect::new(0, 0, h.width.into(), h.height.into()))
        .unwrap();
    let mut v = Vec::new();
    for y in 0..h.height {
        v.extend_from_slice(r.row::<u8>(y.into()));
    }
    (h.width, h.height, v)
}

fn files_under(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out
}

/// The DeepZoom level sizes, from the spec: the largest level is
/// `ceil(log2(max(w, h)))`, level `L` is `ceil(w / 2^(max - L))`.
fn dz_levels(w: u32, h: u32) -> Vec<(u32, u32, u32)> {
    let max = (f64::from(w.max(h))).log2().ceil() as u32;
    (0..=max)
        .map(|l| {
            let s = 1u64 << (max - l);
            (
                l,
                u64::from(w).div_ceil(s) as u32,
                u64::from(h).div_ceil(s) as u32,
            )
        })
        .collect()
}

#[test]
fn dz_levels_tiles_and_overlaps_follow_the_spec_and_the_average_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h, bands, tile, overlap) = (301u32, 203u32, 3u32, 64u32, 2u32);
    let path = dir.path().join("p.dzi");
    save(
        &path,
        w,
        h,
        bands,
        &[("suffix", ".png"), ("tile_size", "64"), ("overlap", "2")],
    )
    .unwrap();
    let spec = dz_levels(w, h);
    let refs = reference_levels(w, h, bands, spec.len());
    let mut expected = BTreeSet::new();
    let mut worst = 0.0f64;
    for (i, &(l, lw, lh)) in spec.iter().rev().enumerate() {
        let (rw, rh, rdata) = &refs[i];
        assert_eq!((*rw, *rh), (lw, lh), "level {l}");
        for r in 0..lh.div_ceil(tile) {
            for c in 0..lw.div_ceil(tile) {
                expected.insert(format!("p_files/{l}/{c}_{r}.png"));
                // The spec's tile rectangle: overlap on inner sides only.
                let x0 = (c * tile).saturating_sub(overlap);
                let y0 = (r * tile).saturating_sub(overlap);
                let x1 = ((c + 1) * tile + overlap).min(lw);
                let y1 = ((r + 1) * tile + overlap).min(lh);
                let (tw, th, px) = read_png(&dir.path().join(format!("p_files/{l}/{c}_{r}.png")));
                assert_eq!((tw, th), (x1 - x0, y1 - y0), "level {l} tile {c},{r}");
                for y in 0..th {
                    for x in 0..tw {
                        for b in 0..bands {
                            let got = f64::from(px[((y * tw + x) * bands + b) as usize]);
                            let want = rdata[(((y0 + y) * lw + x0 + x) * bands + b) as usize];
                            worst = worst.max((got - want).abs());
                        }
                    }
                }
            }
        }
    }
    assert!(
        worst <= 1.0,
        "largest difference from the f64 chain: {worst}"
    );
    let mut got = files_under(dir.path());
    assert!(got.remove("p.dzi"));
    assert_eq!(got, expected);
    // The .dzi against the DeepZoom schema's example, attribute by
    // attribute: <Image TileSize="256" Overlap="1" Format="jpg"
    // xmlns="http://schemas.microsoft.com/deepzoom/2008"><Size Width="4224"
    // Height="3168"/></Image>.
    let dzi = std::fs::read_to_string(&path).unwrap();
    for want in [
        "xmlns=\"http://schemas.microsoft.com/deepzoom/2008\"",
        "TileSize=\"64\"",
        "Overlap=\"2\"",
        "Format=\"png\"",
        "Width=\"301\"",
        "Height=\"203\"",
    ] {
        assert!(dzi.contains(want), "{want} in {dzi}");
    }
    assert!(dzi.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Image "));
}

#[test]
fn zoomify_groups_and_properties() {
    let dir = tempfile::tempdir().unwrap();
    // 40 x 12 tiles of 16 at the full level: more than 256 tiles, so
    // several TileGroups.
    let (w, h, t) = (640u32, 190u32, 16u32);
    save(
        &dir.path().join("z.dzi"),
        w,
        h,
        1,
        &[("layout", "zoomify"), ("tile_size", "16")],
    )
    .unwrap();
    // Zoomify: levels down to one tile, numbered from the smallest (0);
    // tiles counted level by level from there, row by row; 256 a group.
    let mut sizes = vec![(w, h)];
    while sizes.last().is_some_and(|&(a, b)| a > t || b > t) {
        let &(a, b) = sizes.last().unwrap();
        sizes.push((a.div_ceil(2), b.div_ceil(2)));
    }
    sizes.reverse();
    let mut expected = BTreeSet::new();
    let mut k = 0;
    for (l, &(lw, lh)) in sizes.iter().enumerate() {
        for r in 0..lh.div_ceil(t) {
            for c in 0..lw.div_ceil(t) {
                expected.insert(format!("z/TileGroup{}/{l}-{c}-{r}.jpg", k / 256));
                k += 1;
            }
        }
    }
    let mut got = files_under(dir.path());
    assert!(got.remove("z/ImageProperties.xml"));
    assert_eq!(got, expected);
    assert!(expected.iter().any(|n| n.contains("TileGroup1/")));
    // The example of the Zoomify format's documentation, field by field:
    // <IMAGE_PROPERTIES WIDTH="..." HEIGHT="..." NUMTILES="..." NUMIMAGES="1"
    // VERSION="1.8" TILESIZE="256" />
    let props = std::fs::read_to_string(dir.path().join("z/ImageProperties.xml")).unwrap();
    assert_eq!(
        props,
        format!(
            "<IMAGE_PROPERTIES WIDTH=\"{w}\" HEIGHT=\"{h}\" NUMTILES=\"{k}\" NUMIMAGES=\"1\" \
             VERSION=\"1.8\" TILESIZE=\"{t}\" />\n"
        )
    );
}

#[test]
fn google_canvas_blank_tiles_and_centre() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (600u32, 400u32);
    save(
        &dir.path().join("g.dzi"),
        w,
        h,
        3,
        &[("layout", "google"), ("centre", "true")],
    )
    .unwrap();
    // Canvas: the smallest level (150x100, in one tile) rounded up to a
    // tile, times 2^2: 1024 square; the image centred at (212, 312).
    // Tiles without image pixels are not written.
    let mut expected = BTreeSet::from(["g/blank.png".to_string()]);
    let (mut left, mut top, mut iw, mut ih, mut size) = (212u32, 312u32, w, h, 1024u32);
    for z in (0..3).rev() {
        for r in 0..size / 256 {
            for c in 0..size / 256 {
                let (x, y) = (c * 256, r * 256);
                if x < left + iw && left < x + 256 && y < top + ih && top < y + 256 {
                    expected.insert(format!("g/{z}/{r}/{c}.jpg"));
                }
            }
        }
        (left, top, iw, ih, size) = (
            left.div_ceil(2),
            top.div_ceil(2),
            iw.div_ceil(2),
            ih.div_ceil(2),
            size / 2,
        );
    }
    assert_eq!(files_under(dir.path()), expected);
    let (tw, th, px) = read_png(&dir.path().join("g/blank.png"));
    assert_eq!((tw, th), (256, 256));
    assert!(px.iter().all(|&v| v == 255));
}

#[test]
fn iiif_regions_and_info_json() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h, t) = (1100u32, 700u32, 512u32);
    for layout in ["iiif", "iiif3"] {
        save(
            &dir.path().join(format!("{layout}.dzi")),
            w,
            h,
            3,
            &[("layout", layout)],
        )
        .unwrap();
        // Image API: region x,y,w,h in full-image pixels (or full), size
        // of the tile, rotation 0, default quality.
        let mut expected = BTreeSet::from([format!("{layout}/info.json")]);
        let mut s = 1u32;
        loop {
            let (lw, lh) = (w.div_ceil(s), h.div_ceil(s));
            for r in 0..lh.div_ceil(t) {
                for c in 0..lw.div_ceil(t) {
                    let (x, y) = (c * t * s, r * t * s);
                    let (rw, rh) = ((t * s).min(w - x), (t * s).min(h - y));
                    let region = if (x, y, rw, rh) == (0, 0, w, h) {
                        "full".to_string()
                    } else {
                        format!("{x},{y},{rw},{rh}")
                    };
                    let (sw, sh) = (t.min(lw - c * t), t.min(lh - r * t));
                    let size = if layout == "iiif3" {
                        format!("{sw},{sh}")
                    } else {
                        format!("{sw},")
                    };
                    expected.insert(format!("{layout}/{region}/{size}/0/default.jpg"));
                }
            }
            if lw <= t && lh <= t {
                break;
            }
            s *= 2;
        }
        assert_eq!(files_under(&dir.path().join(layout)).len(), expected.len());
        let got: BTreeSet<String> = files_under(&dir.path().join(layout))
            .into_iter()
            .map(|f| format!("{layout}/{f}"))
            .collect();
        assert_eq!(got, expected);
        let info = std::fs::read_to_string(dir.path().join(format!("{layout}/info.json"))).unwrap();
        // The fields of the Image API's info.json examples.
        let context = if layout == "iiif3" { "3" } else { "2" };
        assert!(
            info.contains(&format!(
                "\"http://iiif.io/api/image/{context}/context.json\""
            )),
            "{info}"
        );
        assert!(info.contains("\"protocol\": \"http://iiif.io/api/image\""));
        assert!(
            info.contains(&format!("\"width\": {w},\n  \"height\": {h}\n}}")),
            "{info}"
        );
        assert!(
            info.contains("\"scaleFactors\": [\n        1,\n        2,\n        4\n      ]"),
            "{info}"
        );
        if layout == "iiif3" {
            assert!(
                info.contains("\"type\": \"ImageService3\"")
                    && info.contains("\"profile\": \"level0\"")
            );
        } else {
            assert!(info.contains("\"http://iiif.io/api/image/2/level0.json\""));
        }
    }
}

fn pyvips() -> Option<PathBuf> {
    let p = PathBuf::from("/tmp/peers-venvs/vips818/bin/python");
    let ok = p.exists()
        && Command::new(&p)
            .args(["-c", "import pyvips"])
            .status()
            .is_ok_and(|s| s.success());
    ok.then_some(p)
}

#[test]
fn same_files_and_descriptors_as_libvips() {
    let Some(python) = pyvips() else {
        eprintln!("skipped: pyvips (libvips 8.18) not found at /tmp/peers-venvs/vips818");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (1003u32, 517u32);
    let raw = dir.path().join("in.raw");
    std::fs::write(&raw, image(w, h, 3)).unwrap();
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("dz", &[]),
        ("zoomify", &[("layout", "zoomify")]),
        ("google", &[("layout", "google")]),
        ("googlec", &[("layout", "google"), ("centre", "true")]),
        ("iiif", &[("layout", "iiif")]),
        ("iiif3", &[("layout", "iiif3")]),
        ("onetile", &[("depth", "onetile"), ("tile_size", "128")]),
    ];
    let ours = dir.path().join("ours");
    let theirs = dir.path().join("vips");
    std::fs::create_dir_all(&ours).unwrap();
    std::fs::create_dir_all(&theirs).unwrap();
    let mut script = format!(
        "import pyvips\nim = pyvips.Image.new_from_memory(open('{}','rb').read(), {w}, {h}, 3, 'uchar')\n",
        raw.display()
    );
    for (name, opts) in cases {
        save(&ours.join(format!("{name}.dzi")), w, h, 3, opts).unwrap();
        let kw: Vec<String> = opts
            .iter()
            .map(|(k, v)| match *v {
                "true" => format!("{k}=True"),
                v if v.parse::<i64>().is_ok() => format!("{k}={v}"),
                v => format!("{k}='{v}'"),
            })
            .collect();
        script.push_str(&format!(
            "im.dzsave('{}', {})\n",
            theirs.join(name).display(),
            kw.join(", ")
        ));
    }
    let st = Command::new(&python)
        .args(["-c", &script])
        .status()
        .unwrap();
    assert!(st.success());
    let strip = |s: BTreeSet<String>| -> BTreeSet<String> {
        // libvips' own metadata dump, which gigapix does not write.
        s.into_iter()
            .filter(|f| !f.ends_with("vips-properties.xml"))
            .collect()
    };
    assert_eq!(strip(files_under(&ours)), strip(files_under(&theirs)));
    for f in [
        "dz.dzi",
        "onetile.dzi",
        "zoomify/ImageProperties.xml",
        "iiif/info.json",
        "iiif3/info.json",
    ] {
        assert_eq!(
            std::fs::read_to_string(ours.join(f)).unwrap(),
            std::fs::read_to_string(theirs.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn a_failed_fs_save_leaves_nothing_and_the_old_pyramid_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.dzi");
    save(&path, 100, 80, 1, &[("tile_size", "32")]).unwrap();
    let before = files_under(dir.path());
    let dzi = std::fs::read(&path).unwrap();
    // A run that stops half way: dropped without finishing.
    let header = Header::new(300, 200, 1, BandFormat::U8);
    let mut out = writer(&path, &header, &Metadata::default(), &SaveOptions::new()).unwrap();
    out.write_band(0, 100, &vec![7u8; 300 * 100]).unwrap();
    drop(out);
    assert_eq!(files_under(dir.path()), before);
    assert_eq!(std::fs::read(&path).unwrap(), dzi);
    // An unfinished one is an error, and leaves nothing either.
    let mut out = writer(&path, &header, &Metadata::default(), &SaveOptions::new()).unwrap();
    out.write_band(0, 100, &vec![7u8; 300 * 100]).unwrap();
    assert!(out.finish().is_err());
    assert_eq!(files_under(dir.path()), before);
    // A complete one replaces the old pyramid (no old tile left over).
    save(&path, 300, 200, 1, &[]).unwrap();
    let after = files_under(dir.path());
    assert!(after.contains("p_files/9/1_0.jpeg"), "{after:?}");
    assert!(!after.contains("p_files/7/3_2.jpeg"));
    assert_eq!(after.iter().filter(|f| f.starts_with('.')).count(), 0);
    // Bad options fail before anything is made.
    let e = writer(
        &path,
        &header,
        &Metadata::default(),
        &SaveOptions::new().set("suffix", ".bmp"),
    )
    .err();
    assert!(e.is_some());
    let e = writer(
        &path,
        &header,
        &Metadata::default(),
        &SaveOptions::new()
            .set("layout", "google")
            .set("overlap", "1"),
    )
    .err()
    .unwrap();
    assert!(e.message().contains("overlap"), "{e}");
}

#[test]
fn zip_and_szi_read_back_by_python_zipfile() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (700u32, 300u32);
    save(&dir.path().join("z.zip"), w, h, 3, &[]).unwrap();
    save(&dir.path().join("s.szi"), w, h, 3, &[]).unwrap();
    // Tiles by the DeepZoom spec, plus the .dzi (and scan-properties.xml).
    let tiles: u32 = dz_levels(w, h)
        .iter()
        .map(|&(_, a, b)| a.div_ceil(254) * b.div_ceil(254))
        .sum();
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: python3 not found");
        return;
    }
    let script = "import sys, zipfile\n\
        for p in sys.argv[1:]:\n\
        \x20   z = zipfile.ZipFile(p)\n\
        \x20   assert z.testzip() is None\n\
        \x20   names = z.namelist()\n\
        \x20   tiles = [n for n in names if n.endswith('.jpeg')]\n\
        \x20   assert all(z.getinfo(n).compress_type == zipfile.ZIP_STORED for n in tiles)\n\
        \x20   print(len(tiles), len(names), ' '.join(n for n in names if not n.endswith('.jpeg')))\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(dir.path().join("z.zip"))
        .arg(dir.path().join("s.szi"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("{tiles} {} z.dzi", tiles + 1));
    assert_eq!(
        lines[1],
        format!("{tiles} {} s/s.dzi s/scan-properties.xml", tiles + 2)
    );
    if Command::new("unzip").arg("-v").output().is_ok() {
        let st = Command::new("unzip")
            .arg("-tq")
            .arg(dir.path().join("s.szi"))
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stdout)
        );
    } else {
        eprintln!("unzip -t skipped: unzip not found");
    }
    assert_eq!(files_under(dir.path()).len(), 2);
}
