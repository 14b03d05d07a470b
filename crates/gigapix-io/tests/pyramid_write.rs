//! The pyramidal TIFF writer (`out.tif[tile,pyramid,...]`): every level
//! against a whole-image f64 reference of the 2x2 mean chain, read back by
//! our own loader (page pyramids, deflate and none: exact), by libvips 8.18
//! (pyvips, `page=N` and `subifd=N`; JPEG levels within a small mean
//! absolute difference), `tiffinfo` and `openslide-show-properties`. The
//! external programs are skipped with a message when absent.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use gigapix_core::{BandFormat, Header, Metadata};
use gigapix_io::{OpenOptions, SaveOptions, open, writer};

const PYVIPS: &str = "/tmp/peers-venvs/vips818/bin/python";

/// A photo-like image: smooth gradients and a little noise, any format.
fn image(h: &Header, seed: u32) -> Vec<u8> {
    let noise = common::pattern((h.width * h.height * h.bands) as usize, seed);
    let mut out = Vec::with_capacity(h.image_bytes() as usize);
    let mut i = 0;
    for y in 0..h.height {
        for x in 0..h.width {
            for c in 0..h.bands {
                // Gradients (no sharp edges: a photo, not a test chart).
                let smooth =
                    f64::from(x * (c + 1) * 90 / h.width.max(1) + y * 120 / h.height.max(1));
                let v = (smooth * 0.9 + f64::from(noise[i] % 6)).min(255.0);
                i += 1;
                match h.format {
                    BandFormat::U8 => out.push(v as u8),
                    BandFormat::U16 => out.extend(((v * 257.0) as u16).to_ne_bytes()),
                    BandFormat::I16 => out.extend(((v * 100.0 - 12000.0) as i16).to_ne_bytes()),
                    BandFormat::F32 => out.extend(((v / 255.0) as f32).to_ne_bytes()),
                    f => panic!("no generator for {f:?}"),
                }
            }
        }
    }
    out
}

/// The f64 chain of 2x2 means of the whole image (over the pixels that
/// exist at odd edges), never rounded: (width, height, samples) per level.
fn reference(h: &Header, data: &[u8], levels: usize) -> Vec<(u32, u32, Vec<f64>)> {
    let b = h.bands as usize;
    let mut cur = h.format.samples_to_f64(data);
    let (mut w, mut ht) = (h.width as usize, h.height as usize);
    let mut out = vec![(w as u32, ht as u32, cur.clone())];
    for _ in 1..levels {
        let (nw, nh) = (w.div_ceil(2), ht.div_ceil(2));
        let mut next = vec![0f64; nw * nh * b];
        for y in 0..nh {
            for x in 0..nw {
                for c in 0..b {
                    let (mut s, mut n) = (0.0, 0.0);
                    for yy in 2 * y..(2 * y + 2).min(ht) {
                        for xx in 2 * x..(2 * x + 2).min(w) {
                            s += cur[(yy * w + xx) * b + c];
                            n += 1.0;
                        }
                    }
                    next[(y * nw + x) * b + c] = s / n;
                }
            }
        }
        cur = next;
        w = nw;
        ht = nh;
        out.push((w as u32, ht as u32, cur.clone()));
    }
    out
}

fn save(path: &Path, h: &Header, data: &[u8], options: &[(&str, &str)], band: u32) {
    let mut o = SaveOptions::default();
    for (k, v) in options {
        o = o.set(k, v);
    }
    let mut w = writer(path, h, &Metadata::default(), &o).unwrap();
    let row = h.row_bytes();
    let mut y = 0;
    while y < h.height {
        let n = band.min(h.height - y);
        w.write_band(y, n, &data[y as usize * row..(y + n) as usize * row])
            .unwrap();
        y += n;
    }
    w.finish().unwrap();
}

/// The level sizes libvips' rule gives with ceil halving: down to the
/// first level within one tile.
fn sizes(w: u32, h: u32, tile: u32) -> Vec<(u32, u32)> {
    let mut v = vec![(w, h)];
    let (mut w, mut h) = (w, h);
    while w > tile || h > tile {
        w = w.div_ceil(2);
        h = h.div_ceil(2);
        v.push((w, h));
    }
    v
}

fn tmp(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn page_pyramid_levels_equal_the_reference_for_every_format() {
    let dir = tempfile::tempdir().unwrap();
    for format in [
        BandFormat::U8,
        BandFormat::U16,
        BandFormat::I16,
        BandFormat::F32,
    ] {
        for &(w, h, bands) in &[(301u32, 203u32, 3u32), (97, 250, 1), (64, 65, 2)] {
            for compression in ["none", "deflate", "lzw"] {
                let header = Header::new(w, h, bands, format);
                let data = image(&header, w + h);
                let path = tmp(&dir, "p.tif");
                let band = if compression == "lzw" { 1 } else { 37 };
                save(
                    &path,
                    &header,
                    &data,
                    &[
                        ("pyramid", "true"),
                        ("compression", compression),
                        ("tile_width", "64"),
                        ("tile_height", "64"),
                    ],
                    band,
                );
                let want_sizes = sizes(w, h, 64);
                let want = reference(&header, &data, want_sizes.len());
                for (level, (lw, lh, r)) in want.iter().enumerate() {
                    let image = open(&path, &OpenOptions::default().set("page", level)).unwrap();
                    let got_h = *image.header();
                    assert_eq!(
                        (got_h.width, got_h.height),
                        (*lw, *lh),
                        "level {level} size"
                    );
                    assert_eq!(got_h.format, format);
                    let got = format.samples_to_f64(&common::read_all(&image).unwrap());
                    for (i, (g, r)) in got.iter().zip(r).enumerate() {
                        let ok = if format.is_integer() {
                            *g == (r + 0.5).floor()
                        } else {
                            (g - r).abs() <= 1e-6
                        };
                        assert!(
                            ok,
                            "{format:?} {w}x{h}x{bands} {compression} level {level} sample {i}: {g} vs {r}"
                        );
                    }
                }
                // No page past the last level.
                assert!(
                    open(&path, &OpenOptions::default().set("page", want_sizes.len())).is_err()
                );
            }
        }
    }
}

/// Runs pyvips on `path`: for each level (pages, or SubIFDs of page 0),
/// its size and raw pixels in `out_dir/level-N.raw`. `None` if pyvips is
/// not installed.
fn vips_levels(path: &Path, subifd: bool, out_dir: &Path) -> Option<Vec<(u32, u32)>> {
    if !Path::new(PYVIPS).exists() {
        eprintln!("skipped: {PYVIPS} (pyvips / libvips 8.18) is not installed");
        return None;
    }
    let script = r#"
import sys, pyvips
path, subifd, out = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
if subifd:
    base = pyvips.Image.new_from_file(path)
    n = base.get("n-subifds") + 1 if base.get_typeof("n-subifds") else 1
    levels = [base] + [pyvips.Image.new_from_file(path, subifd=i) for i in range(n - 1)]
else:
    n = pyvips.Image.new_from_file(path).get("n-pages")
    levels = [pyvips.Image.new_from_file(path, page=i) for i in range(n)]
for i, im in enumerate(levels):
    open("%s/level-%d.raw" % (out, i), "wb").write(im.write_to_memory())
    print(im.width, im.height, im.bands)
"#;
    let out = Command::new(PYVIPS)
        .arg("-c")
        .arg(script)
        .arg(path)
        .arg(if subifd { "1" } else { "0" })
        .arg(out_dir)
        .output()
        .expect("pyvips runs");
    assert!(
        out.status.success(),
        "pyvips failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let v: Vec<u32> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
                (v[0], v[1])
            })
            .collect(),
    )
}

/// Mean absolute difference of u8 samples from the reference.
fn mad(got: &[u8], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(&g, r)| (f64::from(g) - r).abs())
        .sum::<f64>()
        / want.len() as f64
}

#[test]
fn libvips_reads_every_level_of_our_pyramids() {
    let dir = tempfile::tempdir().unwrap();
    let header = Header::new(517, 331, 3, BandFormat::U8);
    let data = image(&header, 5);
    let want_sizes = sizes(517, 331, 128);
    let want = reference(&header, &data, want_sizes.len());
    for (compression, subifd, q) in [
        ("deflate", false, "75"),
        ("deflate", true, "75"),
        ("jpeg", false, "85"),
        ("jpeg", true, "95"),
        ("none", true, "75"),
    ] {
        let path = tmp(&dir, "v.tif");
        let mut opts = vec![
            ("pyramid", "true"),
            ("compression", compression),
            ("tile_width", "128"),
            ("tile_height", "128"),
        ];
        if subifd {
            opts.push(("subifd", "true"));
        }
        if compression == "jpeg" {
            opts.push(("Q", q));
        }
        save(&path, &header, &data, &opts, 64);
        let Some(got) = vips_levels(&path, subifd, dir.path()) else {
            return;
        };
        assert_eq!(
            got, want_sizes,
            "{compression} subifd={subifd}: levels seen by libvips"
        );
        for (level, (_, _, r)) in want.iter().enumerate() {
            let pixels = std::fs::read(dir.path().join(format!("level-{level}.raw"))).unwrap();
            let m = mad(&pixels, r);
            let bound = if compression == "jpeg" { 2.5 } else { 0.5 };
            assert!(
                m <= bound,
                "{compression} subifd={subifd} level {level}: MAD {m} from the reference"
            );
            if compression != "jpeg" {
                let exact = pixels
                    .iter()
                    .zip(r)
                    .all(|(&g, r)| f64::from(g) == (r + 0.5).floor());
                assert!(
                    exact,
                    "{compression} level {level}: libvips reads other pixels"
                );
            }
            eprintln!("{compression} subifd={subifd} Q={q} level {level}: MAD {m:.3}");
        }
    }
}

fn have(program: &str) -> bool {
    Command::new(program).arg("--help").output().is_ok()
}

#[test]
fn tiffinfo_and_openslide_see_the_levels() {
    let dir = tempfile::tempdir().unwrap();
    let header = Header::new(1000, 601, 3, BandFormat::U8);
    let data = image(&header, 9);
    let path = tmp(&dir, "slide.tif");
    save(
        &path,
        &header,
        &data,
        &[
            ("pyramid", "true"),
            ("compression", "jpeg"),
            ("tile_width", "128"),
            ("tile_height", "128"),
        ],
        100,
    );
    let want = sizes(1000, 601, 128);
    if have("tiffinfo") {
        let out = Command::new("tiffinfo").arg(&path).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        let dims: Vec<(u32, u32)> = text
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let rest = l.strip_prefix("Image Width: ")?;
                let (w, h) = rest.split_once(" Image Length: ")?;
                Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
            })
            .collect();
        assert_eq!(dims, want, "tiffinfo:\n{text}");
        assert_eq!(
            text.matches("reduced-resolution image").count(),
            want.len() - 1,
            "{text}"
        );
        assert!(text.contains("YCbCr"), "{text}");
        assert!(!text.to_lowercase().contains("error"), "{text}");
    } else {
        eprintln!("skipped: tiffinfo (libtiff-tools) is not installed");
    }
    if have("openslide-show-properties") {
        let out = Command::new("openslide-show-properties")
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let prop = |k: &str| -> Option<String> {
            text.lines().find_map(|l| {
                l.strip_prefix(&format!("{k}: "))
                    .map(|v| v.trim_matches('\'').to_string())
            })
        };
        assert_eq!(
            prop("openslide.level-count"),
            Some(want.len().to_string()),
            "{text}"
        );
        for (i, (w, h)) in want.iter().enumerate() {
            assert_eq!(
                prop(&format!("openslide.level[{i}].width")),
                Some(w.to_string())
            );
            assert_eq!(
                prop(&format!("openslide.level[{i}].height")),
                Some(h.to_string())
            );
        }
    } else {
        eprintln!("skipped: openslide-show-properties (openslide-tools) is not installed");
    }
}

#[test]
fn options_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let path = tmp(&dir, "o.tif");
    let h16 = Header::new(40, 40, 3, BandFormat::U16);
    let mut o = SaveOptions::default().set("compression", "jpeg");
    let e = writer(&path, &h16, &Metadata::default(), &o).err().unwrap();
    assert!(e.message().contains("jpeg"), "{e}");
    let rgba = Header::new(40, 40, 4, BandFormat::U8);
    assert!(writer(&path, &rgba, &Metadata::default(), &o).is_err());
    o = SaveOptions::default().set("Q", 80);
    let h8 = Header::new(40, 40, 3, BandFormat::U8);
    assert!(writer(&path, &h8, &Metadata::default(), &o).is_err());
    o = SaveOptions::default()
        .set("compression", "jpeg")
        .set("Q", 101);
    assert!(writer(&path, &h8, &Metadata::default(), &o).is_err());
    assert!(!path.exists());
    // A writer dropped half way leaves nothing.
    let mut w = writer(
        &path,
        &h8,
        &Metadata::default(),
        &SaveOptions::default()
            .set("pyramid", true)
            .set("compression", "jpeg"),
    )
    .unwrap();
    w.write_band(0, 10, &vec![7u8; 40 * 10 * 3]).unwrap();
    drop(w);
    assert!(common::entries(dir.path()).is_empty());
}

#[test]
fn single_level_jpeg_tiles_and_strips_open_in_libvips() {
    let dir = tempfile::tempdir().unwrap();
    let header = Header::new(300, 200, 3, BandFormat::U8);
    let data = image(&header, 3);
    let want = reference(&header, &data, 1);
    for opts in [
        vec![("compression", "jpeg"), ("tile", "true")],
        vec![("compression", "jpeg")],
        vec![
            ("compression", "jpeg"),
            ("rows_per_strip", "32"),
            ("Q", "95"),
        ],
    ] {
        let path = tmp(&dir, "s.tif");
        save(&path, &header, &data, &opts, 17);
        let Some(got) = vips_levels(&path, false, dir.path()) else {
            return;
        };
        assert_eq!(got, vec![(300, 200)]);
        let pixels = std::fs::read(dir.path().join("level-0.raw")).unwrap();
        let m = mad(&pixels, &want[0].2);
        assert!(m <= 2.5, "{opts:?}: MAD {m}");
    }
    // Grey.
    let grey = Header::new(123, 45, 1, BandFormat::U8);
    let data = image(&grey, 4);
    let want = reference(&grey, &data, 1);
    let path = tmp(&dir, "g.tif");
    save(
        &path,
        &grey,
        &data,
        &[("compression", "jpeg"), ("tile", "true")],
        45,
    );
    if vips_levels(&path, false, dir.path()).is_some() {
        let pixels = std::fs::read(dir.path().join("level-0.raw")).unwrap();
        assert!(mad(&pixels, &want[0].2) <= 2.5);
    }
}

#[test]
fn resolution_is_written_per_level() {
    let dir = tempfile::tempdir().unwrap();
    let header = Header::new(300, 300, 1, BandFormat::U8);
    let data = image(&header, 1);
    let path = tmp(&dir, "r.tif");
    let mut meta = Metadata::default();
    meta.set_field("xres", "4");
    meta.set_field("yres", "2");
    meta.set_field("resolution-unit", "cm");
    let o = SaveOptions::default()
        .set("pyramid", true)
        .set("tile_width", 128)
        .set("tile_height", 128);
    let mut w = writer(&path, &header, &meta, &o).unwrap();
    w.write_band(0, 300, &data).unwrap();
    w.finish().unwrap();
    if !have("tiffinfo") {
        eprintln!("skipped: tiffinfo (libtiff-tools) is not installed");
        return;
    }
    let out = Command::new("tiffinfo").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let res: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Resolution: "))
        .collect();
    assert_eq!(
        res,
        vec!["40, 20 pixels/cm", "20, 10 pixels/cm", "10, 5 pixels/cm"],
        "{text}"
    );
}
