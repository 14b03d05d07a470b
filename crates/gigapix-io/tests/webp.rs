//! The WebP loader and saver against libvips 8.18 and Pillow.
//!
//! Decodes: every fixture (written by cwebp, webpmux and img2webp, see
//! `tests/fixtures/webp/README.md`) against libvips 8.18's decode stored
//! beside it as PNG (read back by our PNG loader). Saves: read back by
//! libvips 8.18 and Pillow through `$GIGAPIX_PYTHON` (skipped with a
//! message when it is unset or lacks the modules), and compared with the
//! files libvips' own `webpsave` writes for the same pixels and settings.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{pattern, read_all};
use gigapix_core::{BandFormat, ErrorKind, Header, Metadata};
use gigapix_io::{OpenOptions, SaveOptions, open, writer};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/webp")
        .join(name)
}

fn load(path: &Path, options: &OpenOptions) -> (Header, Vec<u8>, Metadata) {
    let image = open(path, options).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let data = read_all(&image).unwrap();
    (*image.header(), data, image.metadata().clone())
}

/// Mean and largest absolute difference.
fn diff(a: &[u8], b: &[u8]) -> (f64, u8) {
    assert_eq!(a.len(), b.len());
    let mut sum = 0u64;
    let mut max = 0u8;
    for (x, y) in a.iter().zip(b) {
        let d = x.abs_diff(*y);
        sum += u64::from(d);
        max = max.max(d);
    }
    (sum as f64 / a.len().max(1) as f64, max)
}

/// Our decode of `webp` (with `options`) against libvips' in `reference`.
fn check_decode(webp: &str, options: &OpenOptions, reference: &str, max_mad: f64, max_abs: u8) {
    let (h, ours, _) = load(&fixture(webp), options);
    let (rh, theirs, _) = load(&fixture(reference), &OpenOptions::default());
    assert_eq!(
        (h.width, h.height, h.bands),
        (rh.width, rh.height, rh.bands),
        "{webp}"
    );
    let (mad, max) = diff(&ours, &theirs);
    assert!(
        mad <= max_mad && max <= max_abs,
        "{webp}: MAD {mad}, max {max} against libvips"
    );
}

#[test]
fn still_images_decode_as_libvips_does() {
    let none = OpenOptions::default();
    // The same decoder library: the same pixels.
    for f in ["lossy", "lossless", "alpha-lossy", "alpha-lossless"] {
        check_decode(
            &format!("{f}.webp"),
            &none,
            &format!("{f}.vips818.png"),
            0.0,
            0,
        );
    }
    let (h, _, m) = load(&fixture("lossy.webp"), &none);
    assert_eq!((h.bands, h.format), (3, BandFormat::U8));
    assert_eq!(m.field("webp-format"), Some("lossy"));
    let (h, _, m) = load(&fixture("alpha-lossless.webp"), &none);
    assert_eq!(h.bands, 4);
    assert_eq!(m.field("webp-format"), Some("lossless"));
}

#[test]
fn shrink_on_load_is_libwebps_rescaler_as_in_libvips() {
    for s in [2, 3] {
        let o = OpenOptions::default().set("shrink", s);
        check_decode(
            "lossy.webp",
            &o,
            &format!("lossy-shrink{s}.vips818.png"),
            1.0,
            4,
        );
        check_decode(
            "alpha-lossless.webp",
            &o,
            &format!("alpha-lossless-shrink{s}.vips818.png"),
            1.0,
            4,
        );
    }
    // 251x187 / 2 rounds to nearest, as libvips: 126x94.
    let (h, _, _) = load(
        &fixture("lossy.webp"),
        &OpenOptions::default().set("shrink", 2),
    );
    assert_eq!((h.width, h.height), (126, 94));
}

#[test]
fn animations_are_composited_as_libvips_does() {
    // libvips composites frames itself; libwebp's animation decoder
    // rounds the blend of partly transparent pixels differently by 1.
    let all = OpenOptions::default().set("n", -1);
    check_decode("anim.webp", &all, "anim.vips818.png", 0.1, 1);
    check_decode("anim2.webp", &all, "anim2.vips818.png", 0.1, 1);
    check_decode(
        "anim.webp",
        &OpenOptions::default().set("page", 2),
        "anim-page2.vips818.png",
        0.1,
        1,
    );
    let (h, _, m) = load(&fixture("anim.webp"), &all);
    assert_eq!((h.width, h.height, h.bands), (64, 192, 4));
    assert_eq!(m.field("page-height"), Some("48"));
    assert_eq!(m.field("n-pages"), Some("4"));
    assert_eq!(m.field("delay"), Some("120,80,200,50"));
    assert_eq!(m.field("loop"), Some("3"));
    // The first frame by default, without page-height.
    let (h, _, m) = load(&fixture("anim.webp"), &OpenOptions::default());
    assert_eq!((h.width, h.height), (64, 48));
    assert_eq!(m.field("page-height"), None);
    assert_eq!(m.field("webp-format"), Some("animation"));
}

#[test]
fn bad_options_are_clear_errors() {
    let e = open(fixture("anim.webp"), &OpenOptions::default().set("page", 4)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("out of range"), "{e}");
    let e = open(
        fixture("anim.webp"),
        &OpenOptions::default().set("page", 2).set("n", 3),
    )
    .unwrap_err();
    assert!(e.message().contains("out of range"), "{e}");
    let e = open(
        fixture("anim.webp"),
        &OpenOptions::default().set("shrink", 2),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let e = open(
        fixture("lossy.webp"),
        &OpenOptions::default().set("page", 1),
    )
    .unwrap_err();
    assert!(e.message().contains("out of range"), "{e}");
    let e = open(
        fixture("lossy.webp"),
        &OpenOptions::default().set("fail_on", "none"),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn icc_exif_and_xmp_are_read() {
    let (_, _, m) = load(&fixture("meta.webp"), &OpenOptions::default());
    let icc = m.icc.as_deref().expect("ICC profile");
    assert_eq!(
        icc,
        std::fs::read("/usr/share/color/icc/ghostscript/a98.icc")
            .unwrap_or_else(|_| icc.to_vec())
            .as_slice()
    );
    assert_eq!(&icc[36..40], b"acsp");
    assert_eq!(
        m.exif.as_deref(),
        Some(std::fs::read(fixture("meta.exif")).unwrap().as_slice())
    );
    assert_eq!(m.orientation, 6);
    assert_eq!(
        m.field("xmp"),
        Some(
            std::fs::read_to_string(fixture("meta.xmp"))
                .unwrap()
                .as_str()
        )
    );
}

/// Saves `data` of `header` with `metadata` and `options` (bracket form
/// in `name`), in bands of 7 rows.
fn save(
    path: &Path,
    header: &Header,
    metadata: &Metadata,
    data: &[u8],
) -> gigapix_core::Result<()> {
    let mut w = writer(path, header, metadata, &SaveOptions::default())?;
    let row = header.row_bytes();
    let mut y = 0;
    while y < header.height {
        let rows = 7.min(header.height - y);
        w.write_band(y, rows, &data[y as usize * row..(y + rows) as usize * row])?;
        y += rows;
    }
    w.finish()
}

/// A photo-like test image: the RGB fixture, with an alpha ramp or
/// reduced to grey as `bands` asks.
fn photo(bands: u32) -> (Header, Vec<u8>) {
    let (h, rgb, _) = load(&fixture("photo.png"), &OpenOptions::default());
    let mut out = Vec::new();
    for (i, p) in rgb.chunks_exact(3).enumerate() {
        let (x, y) = (i as u32 % h.width, i as u32 / h.width);
        let grey = ((u32::from(p[0]) * 2 + u32::from(p[1]) * 5 + u32::from(p[2])) / 8) as u8;
        let alpha = ((x + 2 * y) * 255 / (h.width + 2 * h.height)) as u8;
        match bands {
            1 => out.push(grey),
            2 => out.extend([grey, alpha]),
            3 => out.extend_from_slice(p),
            _ => out.extend([p[0], p[1], p[2], alpha]),
        }
    }
    (Header::new(h.width, h.height, bands, BandFormat::U8), out)
}

/// `$GIGAPIX_PYTHON` if it has pyvips and Pillow.
fn python() -> Option<String> {
    let Ok(py) = std::env::var("GIGAPIX_PYTHON") else {
        eprintln!("skipped: GIGAPIX_PYTHON is not set");
        return None;
    };
    let ok = Command::new(&py)
        .args(["-c", "import pyvips, PIL, numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: {py} lacks pyvips, Pillow or NumPy");
        return None;
    }
    Some(py)
}

/// Runs `script` with `args`; its stdout.
fn run(py: &str, script: &str, args: &[&str]) -> Vec<u8> {
    let o = Command::new(py)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

/// libvips' and Pillow's decodes of a WebP file, as RGB or RGBA bytes
/// (every frame, stacked), and libvips' bands.
const READ_BACK: &str = r#"
import sys, pyvips
from PIL import Image, ImageSequence
path, which = sys.argv[1], sys.argv[2]
if which == "vips":
    im = pyvips.Image.new_from_file(path, n=-1)
    sys.stdout.buffer.write(im.write_to_memory())
else:
    im = Image.open(path)
    mode = "RGBA" if im.mode in ("RGBA", "LA", "PA") or getattr(im, "n_frames", 1) > 1 else "RGB"
    for f in ImageSequence.Iterator(im):
        sys.stdout.buffer.write(f.convert(mode).tobytes())
"#;

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

/// Grey and grey+alpha widened to RGB and RGBA (how WebP holds them).
fn widen(data: &[u8], bands: u32) -> Vec<u8> {
    match bands {
        1 => data.iter().flat_map(|&g| [g, g, g]).collect(),
        2 => data
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        _ => data.to_vec(),
    }
}

#[test]
fn saves_read_back_by_libvips_and_pillow() {
    let Some(py) = python() else { return };
    let d = tempfile::tempdir().unwrap();
    for bands in 1..=4 {
        let (header, data) = photo(bands);
        let want = widen(&data, bands);
        // Lossless (exact keeps the colour of transparent pixels).
        let path = d.path().join(format!("ll{bands}.webp[lossless,exact]"));
        save(&path, &header, &Metadata::default(), &data).unwrap();
        let file = d.path().join(format!("ll{bands}.webp"));
        for reader in ["vips", "pillow"] {
            let got = run(&py, READ_BACK, &[file.to_str().unwrap(), reader]);
            assert!(got == want, "{bands} bands lossless, read by {reader}");
        }
        // Lossy.
        let path = d.path().join(format!("q{bands}.webp[Q=90]"));
        save(&path, &header, &Metadata::default(), &data).unwrap();
        let file = d.path().join(format!("q{bands}.webp"));
        for reader in ["vips", "pillow"] {
            let got = run(&py, READ_BACK, &[file.to_str().unwrap(), reader]);
            assert_eq!(got.len(), want.len(), "{bands} bands, {reader}");
            let p = psnr(&got, &want);
            assert!(p > 33.0, "{bands} bands Q=90 read by {reader}: PSNR {p:.1}");
        }
    }
}

/// libvips 8.18's `webpsave` of a PNG, metadata off.
const VIPS_SAVE: &str = r#"
import sys, pyvips
src, dst = sys.argv[1], sys.argv[2]
opts = dict(kv.split("=") for kv in sys.argv[3:])
conv = {k: (v == "true" if v in ("true", "false") else int(v) if v.isdigit() else v) for k, v in opts.items()}
pyvips.Image.new_from_file(src).webpsave(dst, keep="none", **conv)
"#;

#[test]
fn files_are_the_bytes_libvips_writes() {
    let Some(py) = python() else { return };
    let d = tempfile::tempdir().unwrap();
    let cases: &[(u32, &str, &[&str])] = &[
        (3, "Q=80", &["Q=80"]),
        (3, "Q=50,effort=6", &["Q=50", "effort=6"]),
        (3, "lossless", &["lossless=true"]),
        (3, "lossless,effort=1", &["lossless=true", "effort=1"]),
        (3, "near_lossless,Q=60", &["near_lossless=true", "Q=60"]),
        (3, "smart_subsample", &["smart_subsample=true"]),
        (3, "preset=drawing,Q=70", &["preset=drawing", "Q=70"]),
        (4, "Q=75,alpha_q=50", &["Q=75", "alpha_q=50"]),
        (4, "lossless", &["lossless=true"]),
        (4, "lossless,exact", &["lossless=true", "exact=true"]),
    ];
    for (i, (bands, ours, theirs)) in cases.iter().enumerate() {
        let (header, data) = photo(*bands);
        let src = d.path().join(format!("src{i}.png"));
        common::save(&src, &header, &data, 64).unwrap();
        let mine = d.path().join(format!("ours{i}.webp"));
        let target = PathBuf::from(format!("{}[{ours}]", mine.display()));
        save(&target, &header, &Metadata::default(), &data).unwrap();
        let vips = d.path().join(format!("vips{i}.webp"));
        let mut args = vec![src.to_str().unwrap(), vips.to_str().unwrap()];
        args.extend_from_slice(theirs);
        run(&py, VIPS_SAVE, &args);
        let (a, b) = (std::fs::read(&mine).unwrap(), std::fs::read(&vips).unwrap());
        let ratio = a.len() as f64 / b.len() as f64;
        assert!(
            (ratio - 1.0).abs() <= 0.03,
            "{ours}: {} bytes against libvips' {}",
            a.len(),
            b.len()
        );
        // The same libwebp, settings and YUV: the same file, except with
        // smart_subsample, whose sharp YUV may differ between builds.
        if !ours.contains("smart") {
            assert!(a == b, "{ours}: {} bytes, libvips {}", a.len(), b.len());
        }
    }
}

#[test]
fn animations_are_saved_from_strips() {
    let d = tempfile::tempdir().unwrap();
    let (h, strip, m) = load(&fixture("anim.webp"), &OpenOptions::default().set("n", -1));
    let out = d.path().join("a.webp[lossless,exact]");
    save(&out, &h, &m, &strip).unwrap();
    let file = d.path().join("a.webp");
    let (h2, back, m2) = load(&file, &OpenOptions::default().set("n", -1));
    assert_eq!(h2, h);
    assert!(back == strip, "lossless animation round trip");
    assert_eq!(m2.field("delay"), Some("120,80,200,50"));
    assert_eq!(m2.field("loop"), Some("3"));
    assert_eq!(m2.field("n-pages"), Some("4"));
    let Some(py) = python() else { return };
    let got = run(&py, READ_BACK, &[file.to_str().unwrap(), "vips"]);
    assert!(got == strip, "read back by libvips");
    let got = run(&py, READ_BACK, &[file.to_str().unwrap(), "pillow"]);
    let (mad, _) = diff(&got, &strip);
    // Pillow composites with libwebp's animation decoder too.
    assert!(mad <= 0.1, "read back by Pillow: MAD {mad}");
    let info = run(
        &py,
        "import sys, pyvips; im = pyvips.Image.new_from_file(sys.argv[1]); \
         print(im.get('n-pages'), im.get('loop'), list(im.get('delay')))",
        &[file.to_str().unwrap()],
    );
    assert_eq!(
        String::from_utf8_lossy(&info).trim(),
        "4 3 [120, 80, 200, 50]"
    );
}

#[test]
fn metadata_is_written() {
    let d = tempfile::tempdir().unwrap();
    let (h, data, m) = load(&fixture("meta.webp"), &OpenOptions::default());
    let out = d.path().join("m.webp");
    save(&out, &h, &m, &data).unwrap();
    let (_, _, back) = load(&out, &OpenOptions::default());
    assert_eq!(back.icc, m.icc);
    assert_eq!(back.exif, m.exif);
    assert_eq!(back.orientation, 6);
    assert_eq!(back.field("xmp"), m.field("xmp"));
    let stripped = d.path().join("s.webp[strip]");
    save(&stripped, &h, &m, &data).unwrap();
    let (_, _, none) = load(&d.path().join("s.webp"), &OpenOptions::default());
    assert!(none.icc.is_none() && none.exif.is_none() && none.field("xmp").is_none());
    let Some(py) = python() else { return };
    let got = run(
        &py,
        "import sys, pyvips; im = pyvips.Image.new_from_file(sys.argv[1]); \
         print(len(im.get('icc-profile-data')), im.get('orientation'), 'xmp-data' in im.get_fields())",
        &[out.to_str().unwrap()],
    );
    let icc_len = m.icc.as_ref().unwrap().len();
    assert_eq!(
        String::from_utf8_lossy(&got).trim(),
        format!("{icc_len} 6 True")
    );
}

#[test]
fn what_webp_cannot_hold_is_refused_before_any_file() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("wide.webp");
    let header = Header::new(16384, 4, 3, BandFormat::U8);
    let e = writer(
        &path,
        &header,
        &Metadata::default(),
        &SaveOptions::default(),
    )
    .err()
    .expect("too wide");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("16383"), "{e}");
    let header = Header::new(8, 4, 3, BandFormat::U16);
    assert!(
        writer(
            &path,
            &header,
            &Metadata::default(),
            &SaveOptions::default()
        )
        .is_err()
    );
    let header = Header::new(8, 4, 5, BandFormat::U8);
    assert!(
        writer(
            &path,
            &header,
            &Metadata::default(),
            &SaveOptions::default()
        )
        .is_err()
    );
    // A writer dropped half way leaves nothing.
    let header = Header::new(8, 4, 3, BandFormat::U8);
    let mut w = writer(
        &path,
        &header,
        &Metadata::default(),
        &SaveOptions::default(),
    )
    .unwrap();
    w.write_band(0, 2, &pattern(48, 1)).unwrap();
    drop(w);
    assert_eq!(common::entries(d.path()), Vec::<String>::new());
}

#[test]
fn damaged_files_fail_with_one_error() {
    let d = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("lossy.webp")).unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("header only", good[..20].to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
    ];
    // Flipped bytes in the chunk and frame headers.
    for at in [4usize, 12, 16, 20, 23, 33] {
        let mut flipped = good.clone();
        flipped[at] ^= 0xa5;
        cases.push(("flipped header byte", flipped));
    }
    // The VP8 frame header claims 16383x16383 in a small file.
    let mut lying = good.clone();
    if let Some(at) = lying.windows(3).position(|w| w == [0x9d, 0x01, 0x2a]) {
        lying[at + 3..at + 7].copy_from_slice(&[0xff, 0x3f, 0xff, 0x3f]);
    }
    cases.push(("lying size", lying));
    // Flipped bytes in the coefficients of a lossy file: VP8 has no
    // checksum, so libwebp (and libvips, Pillow, browsers) may decode
    // them without noticing; they must decode to the right size or fail,
    // never panic.
    for step in [97usize, 389, 1201] {
        let mut flipped = good.clone();
        for i in (60..flipped.len()).step_by(step) {
            flipped[i] ^= 0x5a;
        }
        let path = d.path().join("flipped.webp");
        std::fs::write(&path, &flipped).unwrap();
        if let Ok(im) = open(&path, &OpenOptions::default()) {
            assert_eq!((im.width(), im.height()), (251, 187));
            if let Ok(px) = read_all(&im) {
                assert_eq!(px.len(), 251 * 187 * 3);
            }
        }
    }
    for (what, bytes) in cases {
        let path = d.path().join("bad.webp");
        std::fs::write(&path, &bytes).unwrap();
        let result = open(&path, &OpenOptions::default()).and_then(|im| read_all(&im));
        let e = result.err().unwrap_or_else(|| panic!("{what}: decoded"));
        assert!(!e.message().contains('\n'), "{what}: {e}");
    }
}
