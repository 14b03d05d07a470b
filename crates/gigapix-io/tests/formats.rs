//! The format table: detection by magic bytes, extensions, option checks,
//! the band formats each saver takes, and the rendered tables, all through
//! the public API and all derived from `FORMATS`.

mod common;

use gigapix_core::{BandFormat, ErrorKind, Header, Metadata};
use gigapix_io::{
    AccessMode, FORMATS, FileFormat, OpenOptions, SaveOptions, format_for_path, formats_markdown,
    formats_text, identify, open, writer,
};

/// A file starting with every pattern of every format: a format gigapix
/// reads fails (if at all) with its own loader's error, never as unknown;
/// a refused format is named.
#[test]
fn every_magic_is_recognised_by_both_sniffers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("magic");
    for desc in FORMATS {
        for magic in desc.magic {
            let mut bytes = vec![b'#'; 64];
            for (offset, part) in magic.0 {
                bytes[*offset..offset + part.len()].copy_from_slice(part);
            }
            assert_eq!(identify(&bytes).map(|d| d.name), Some(desc.name), "{magic}");
            std::fs::write(&path, &bytes).unwrap();
            for access in [AccessMode::Random, AccessMode::Sequential] {
                let e = open(&path, &OpenOptions::new().access(access))
                    .err()
                    .unwrap_or_else(|| panic!("{magic}: opened"));
                assert!(
                    !e.message().contains("unknown file format"),
                    "{}: {magic}: {e}",
                    desc.name
                );
                if !desc.load {
                    assert_eq!(e.kind(), ErrorKind::Unsupported, "{magic}: {e}");
                    if desc.name == "AVIF" {
                        assert!(e.message().contains("AVIF reading is not supported"), "{e}");
                    } else if desc.name.starts_with("netpbm") {
                        assert!(e.message().contains("files are not supported"), "{e}");
                    } else {
                        let want = format!("{} is not supported", desc.name);
                        assert!(e.message().contains(&want), "{e}");
                        assert!(e.message().contains("gigapix reads TIFF, PNG"), "{e}");
                    }
                }
            }
        }
    }
}

#[cfg(unix)]
#[test]
fn refused_formats_are_named_through_pipes_too() {
    use std::io::Write;

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    match std::process::Command::new("mkfifo").arg(&fifo).status() {
        Ok(s) if s.success() => {}
        _ => {
            eprintln!("mkfifo unavailable: skipped");
            return;
        }
    }
    for (bytes, needle) in [
        (
            &b"RIFF\x10\0\0\0WEBPVP8 ...."[..],
            "WebP is read from regular files only",
        ),
        (b"GIF89a......", "GIF is read from regular files only"),
        (
            b"\x89PNG\r\n\x1a\n....",
            "PNG is read from regular files only",
        ),
    ] {
        let feeder = {
            let (fifo, bytes) = (fifo.clone(), bytes.to_vec());
            std::thread::spawn(move || {
                let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
                let _ = f.write_all(&bytes);
            })
        };
        let e = open(&fifo, &OpenOptions::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
        assert!(e.message().contains(needle), "{e}");
        feeder.join().unwrap();
    }
}

#[test]
fn extensions_come_from_the_table() {
    for desc in FORMATS {
        for ext in desc.extensions {
            let found = format_for_path(format!("a/b.{}", ext.to_uppercase()));
            if desc.save {
                assert_eq!(found, desc.format, "{ext}");
            } else {
                assert_eq!(found, None, "{ext}");
            }
        }
    }
    for f in FileFormat::ALL {
        assert_eq!(f.extensions(), f.desc().extensions);
        assert_eq!(format_for_path(format!("x.{}", f.extensions()[0])), Some(f));
    }
    assert_eq!(format_for_path("x"), None);
    assert_eq!(format_for_path("x.tif.bak"), None);
}

fn save_error(dir: &std::path::Path, name: &str, header: &Header) -> gigapix_core::Error {
    writer(
        &dir.join(name),
        header,
        &Metadata::default(),
        &SaveOptions::new(),
    )
    .err()
    .unwrap_or_else(|| panic!("{name}: no error"))
}

#[test]
fn bracket_options_are_checked_against_the_descriptors() {
    let dir = tempfile::tempdir().unwrap();
    let rgb = Header::new(8, 8, 3, BandFormat::U8);
    for (name, needles) in [
        (
            "x.jpg[Q=101]",
            &["jpeg save", "`Q` (int, 1 to 100)", "101 is out of range"][..],
        ),
        ("x.jpg[Q=high]", &["`Q`", "is not a whole number"]),
        (
            "x.tif[compression=webp]",
            &[
                "`compression` (enum, none|lzw|deflate|jpeg)",
                "unknown value `webp`",
            ],
        ),
        ("x.tif[tile_width=8]", &["`tile_width` (int, 16 to"]),
        ("x.tif[tile-width=17]", &["multiples of 16"]),
        ("x.png[compression=10]", &["`compression` (int, 0 to 9)"]),
        (
            "x.png[bogus]",
            &[
                "unknown option `bogus`",
                "compression (int, 0 to 9)",
                "filter (enum, none|sub|up|avg|paeth|adaptive)",
            ],
        ),
        (
            "x.ppm[Q=3]",
            &["unknown option `q`", "it takes strip (bool"],
        ),
        ("x.gpx[strip=maybe]", &["`strip` (bool, true|false)"]),
    ] {
        let e = save_error(dir.path(), name, &rgb);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{name}: {e}");
        for n in needles {
            assert!(e.message().contains(n), "{name}: {e}");
        }
    }
    assert!(common::entries(dir.path()).is_empty());

    // The libvips spellings are in the table too.
    for opts in [
        "Q=90,subsample_mode=off",
        "optimize_coding",
        "subsample=444",
    ] {
        let name = format!("ok.jpg[{opts}]");
        let w = writer(
            &dir.path().join(&name),
            &rgb,
            &Metadata::default(),
            &SaveOptions::new(),
        );
        assert!(w.is_ok(), "{name}: {:?}", w.err());
    }

    // Loaders.
    let path = dir.path().join("in.tif");
    common::save(&path, &rgb, &[7; 8 * 8 * 3], 8).unwrap();
    for (spec, needles) in [
        ("in.tif[page=x]", &["tiff load", "`page` (int, ≥ 0)"][..]),
        ("in.tif[page=-1]", &["out of range"]),
        (
            "in.tif[shrink=2]",
            &["unknown option `shrink`", "page (int"],
        ),
        ("in.tif[fail_on=maybe]", &["`fail_on` (enum, none|error"]),
    ] {
        let e = open(dir.path().join(spec), &OpenOptions::new()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{spec}: {e}");
        for n in needles {
            assert!(e.message().contains(n), "{spec}: {e}");
        }
    }
    assert!(
        open(
            dir.path().join("in.tif[fail_on=none,page=0]"),
            &OpenOptions::new()
        )
        .is_ok()
    );
    let ppm = dir.path().join("in.ppm");
    common::save(&ppm, &rgb, &[7; 8 * 8 * 3], 8).unwrap();
    let e = open(&ppm, &OpenOptions::new().set("page", 1)).unwrap_err();
    assert!(
        e.message()
            .contains("pnm load: unknown option `page`; it takes fail_on"),
        "{e}"
    );
}

/// PNG, JPEG and PPM refuse band formats they do not hold, naming the
/// nearest one they do; TIFF and gpx take every format.
#[test]
fn savers_take_the_band_formats_of_the_table() {
    let dir = tempfile::tempdir().unwrap();
    for format in BandFormat::ALL {
        let h = Header::new(4, 4, 3, format);
        for f in FileFormat::ALL {
            let desc = f.desc();
            let name = format!("o-{format}.{}", desc.extensions[0]);
            let result = writer(
                &dir.path().join(&name),
                &h,
                &Metadata::default(),
                &SaveOptions::new(),
            );
            if desc.save_formats.contains(&format) {
                assert!(result.is_ok(), "{name}: {:?}", result.err());
                continue;
            }
            let e = result.err().unwrap();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{name}: {e}");
            assert!(e.message().contains("cast the image first"), "{name}: {e}");
            let nearest = match (format, desc.save_formats.contains(&BandFormat::U16)) {
                (BandFormat::I8, _) | (_, false) => "to u8",
                _ => "to u16",
            };
            assert!(e.message().contains(nearest), "{name}: {e}");
        }
    }
    assert!(common::entries(dir.path()).is_empty());
}

#[test]
fn rendered_tables_list_every_format_and_option() {
    let md = formats_markdown();
    let text = formats_text();
    for desc in FORMATS {
        assert!(md.contains(&format!("| {} |", desc.name)), "{}", desc.name);
        assert!(
            text.contains(&format!("{}: {}", desc.name, desc.summary)),
            "{}",
            desc.name
        );
        for d in desc.load_options.iter().chain(desc.save_options) {
            assert!(md.contains(&format!("| `{}` |", d.name)), "{}", d.name);
            assert!(text.contains(d.name), "{}", d.name);
        }
    }
    assert!(
        md.contains("| WebP | .webp | `RIFF + WEBP at 8` | load, save |"),
        "{md}"
    );
    assert!(md.contains("| PNG | .png | `\\x89PNG\\x0d\\x0a\\x1a\\x0a` | load, save | sequential (regular files only) | u8, u16 |"), "{md}");
}
