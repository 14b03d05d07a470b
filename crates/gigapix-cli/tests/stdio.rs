//! Standard input (`-`) and standard output (a bare suffix such as `.png`),
//! and the null sink (`null:`, and `-` as OUT): every file written to
//! standard output is byte for byte the one the same command writes to a
//! path, and `pipe - .ppm -- invert` matches a scalar reference.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gigapix"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs gigapix with its arguments, `input` written into a pipe on its
/// standard input, and its standard output captured by a pipe.
fn piped(args: &[&str], input: &[u8]) -> Output {
    feed(args, input, Stdio::piped())
}

/// Runs gigapix with a path's bytes on a pipe into standard input and
/// standard output redirected into the file `out` (as `> out` does).
fn to_file(args: &[&str], input: &[u8], out: &Path, append: bool) -> Output {
    let file = if append {
        File::options().append(true).create(true).open(out).unwrap()
    } else {
        File::create(out).unwrap()
    };
    feed(args, input, Stdio::from(file))
}

/// Runs gigapix with `input` written into its standard input from a
/// thread, and standard output going to `stdout`.
fn feed(args: &[&str], input: &[u8], stdout: Stdio) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gigapix");
    let mut stdin = child.stdin.take().unwrap();
    let bytes = input.to_vec();
    // The command may stop reading early (an error): ignore a closed pipe.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    });
    let out = child.wait_with_output().expect("wait for gigapix");
    writer.join().unwrap();
    out
}

fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run gigapix")
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

/// A P6 image whose pixels are a simple function of position, made here
/// byte by byte: the file and its pixels.
fn ppm(w: usize, h: usize) -> (Vec<u8>, Vec<u8>) {
    let mut pixels = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            pixels.extend_from_slice(&[(x * 5 + y) as u8, (x ^ y) as u8, (x * y / 3) as u8]);
        }
    }
    let mut file = format!("P6\n{w} {h}\n255\n").into_bytes();
    file.extend_from_slice(&pixels);
    (file, pixels)
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_string()
    }

    /// A PNG file of the test's pixels, and its bytes.
    fn png(&self) -> (String, Vec<u8>) {
        let (file, _) = ppm(45, 31);
        std::fs::write(self.path("src.ppm"), file).unwrap();
        let png = self.s("src.png");
        ok(&run(&["copy", &self.s("src.ppm"), &png]));
        let bytes = std::fs::read(&png).unwrap();
        (png, bytes)
    }

    /// A JPEG big enough to be shrunk on load by `thumbnail`.
    fn jpeg(&self) -> (String, Vec<u8>) {
        let jpg = self.s("src.jpg");
        ok(&run(&["copy", "noise:640x480x3:7", &jpg]));
        let bytes = std::fs::read(&jpg).unwrap();
        (jpg, bytes)
    }
}

#[test]
fn copy_from_stdin_to_stdout_is_the_file_of_the_path_version() {
    let f = Fixture::new();
    let (png, bytes) = f.png();
    for (suffix, name) in [
        (".png", "a.png"),
        (".png[compression=9]", "a.png[compression=9]"),
        (".jpg[Q=70]", "a.jpg[Q=70]"),
        (".jpg", "b.jpg"),
        (".ppm", "a.ppm"),
        (".gpx", "a.gpx"),
        (".webp", "a.webp"),
        (".tif", "a.tif"),
        (".tif[compression=lzw]", "b.tif[compression=lzw]"),
    ] {
        let want_path = f.s(name);
        ok(&run(&["copy", &png, &want_path]));
        let file = want_path.split('[').next().unwrap();
        let want = std::fs::read(file).unwrap();
        // Into a pipe.
        let o = piped(&["copy", "-", suffix], &bytes);
        ok(&o);
        assert!(o.stdout == want, "{suffix} into a pipe differs");
        assert!(o.stderr.is_empty(), "{}", stderr(&o));
        // Into a redirected file.
        let out = f.path("redirected");
        let o = to_file(&["copy", "-", suffix], &bytes, &out, false);
        ok(&o);
        assert!(
            std::fs::read(&out).unwrap() == want,
            "{suffix} into a file differs"
        );
    }
}

#[test]
fn tiff_into_a_file_opened_for_appending_is_whole() {
    let f = Fixture::new();
    let (png, bytes) = f.png();
    ok(&run(&["copy", &png, &f.s("want.tif")]));
    let want = std::fs::read(f.path("want.tif")).unwrap();
    let out = f.path("appended.tif");
    let o = to_file(&["copy", "-", ".tif"], &bytes, &out, true);
    ok(&o);
    assert!(std::fs::read(&out).unwrap() == want);
}

#[test]
fn tiff_into_a_pipe_is_refused_over_the_memory_limit() {
    let o = piped(
        &["--memory", "8M", "copy", "noise:2000x2000x3", ".tif"],
        b"",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("TIFF is written with seeks"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(o.stdout.is_empty());
}

#[test]
fn thumbnail_of_stdin_is_the_path_version() {
    let f = Fixture::new();
    let (jpg, bytes) = f.jpeg();
    let want = f.s("tn.jpg");
    ok(&run(&["thumbnail", &jpg, &want, "64"]));
    let o = piped(&["thumbnail", "-", ".jpg", "64"], &bytes);
    ok(&o);
    assert!(o.stdout == std::fs::read(&want).unwrap());
    // The same with a box and crop.
    ok(&run(&["thumbnail", &jpg, &want, "40x30", "--crop"]));
    let o = piped(&["thumbnail", "-", ".jpg", "40x30", "--crop"], &bytes);
    ok(&o);
    assert!(o.stdout == std::fs::read(&want).unwrap());
}

#[test]
fn thumbnail_batch_refuses_stdin_and_suffix_patterns() {
    let o = piped(&["thumbnail", "-s", "64", "-"], b"");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("thumbnail - OUT SIZE"),
        "{}",
        stderr(&o)
    );
    let o = piped(&["thumbnail", "-s", "64", "-o", ".jpg", "a.jpg"], b"");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn pipe_invert_from_stdin_matches_a_scalar_reference() {
    let (file, pixels) = ppm(37, 23);
    let o = piped(&["pipe", "-", ".ppm", "--", "invert"], &file);
    ok(&o);
    let header = b"P6\n37 23\n255\n";
    assert_eq!(&o.stdout[..header.len()], header);
    let want: Vec<u8> = pixels.iter().map(|v| 255 - v).collect();
    assert!(o.stdout[header.len()..] == want[..]);
    // And PNG to standard output is the path version's file.
    let f = Fixture::new();
    std::fs::write(f.path("in.ppm"), &file).unwrap();
    ok(&run(&[
        "pipe",
        &f.s("in.ppm"),
        &f.s("inv.png"),
        "--",
        "invert",
    ]));
    let o = piped(&["pipe", "-", ".png", "--", "invert"], &file);
    ok(&o);
    assert!(o.stdout == std::fs::read(f.path("inv.png")).unwrap());
}

#[test]
fn an_operation_reads_stdin_and_writes_stdout() {
    let (file, pixels) = ppm(20, 9);
    let o = piped(&["invert", "-", ".ppm"], &file);
    ok(&o);
    let want: Vec<u8> = pixels.iter().map(|v| 255 - v).collect();
    assert!(o.stdout[o.stdout.len() - want.len()..] == want[..]);
}

#[test]
fn header_of_stdin_is_the_path_version() {
    let f = Fixture::new();
    let (png, bytes) = f.png();
    let want = run(&["header", &png]);
    ok(&want);
    let o = piped(&["header", "-"], &bytes);
    ok(&o);
    let got = String::from_utf8(o.stdout).unwrap();
    let want = String::from_utf8(want.stdout).unwrap();
    assert_eq!(got.lines().next(), Some("file: -"));
    assert_eq!(
        got.lines().skip(1).collect::<Vec<_>>(),
        want.lines().skip(1).collect::<Vec<_>>()
    );
    assert!(got.contains("width: 45\n"), "{got}");
    // Load options in brackets are checked as a file's.
    let o = piped(&["header", "-[bogus=1]"], &bytes);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("stdin: png load: unknown option `bogus`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn stdin_takes_load_options_in_brackets() {
    let f = Fixture::new();
    let (png, bytes) = f.png();
    ok(&run(&["copy", &png, &f.s("want.ppm")]));
    let o = piped(&["copy", "-[fail_on=warning]", ".ppm"], &bytes);
    ok(&o);
    assert!(o.stdout == std::fs::read(f.path("want.ppm")).unwrap());
}

#[test]
fn null_sinks_compute_and_write_nothing() {
    let (file, _) = ppm(16, 16);
    for out in ["null:", "-"] {
        let o = piped(&["copy", "-", out], &file);
        ok(&o);
        assert!(o.stdout.is_empty());
        let o = piped(&["pipe", "noise:64x64x3", out, "--", "invert"], b"");
        ok(&o);
        assert!(o.stdout.is_empty());
    }
    // Measurements take either as OUT and print their numbers.
    for out in ["null:", "-"] {
        let o = piped(&["pipe", "black:4x4x1", out, "--", "avg"], b"");
        ok(&o);
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "0");
    }
    let o = piped(&["pipe", "black:4x4x1", ".png", "--", "avg"], b"");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn two_stdin_inputs_are_refused() {
    let (file, _) = ppm(16, 16);
    let o = piped(&["pipe", "-", "null:", "--", "add", "-"], &file);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("only one input can be standard input"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_closed_pipe_is_an_error_not_a_panic() {
    let mut child = bin()
        .args(["copy", "noise:3000x3000x3", ".ppm"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    out.read_exact(&mut first).unwrap();
    assert_eq!(&first[..2], b"P6");
    drop(out);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("gigapix: error: writing to standard output:"),
        "{e}"
    );
    assert!(!e.contains("panick"), "{e}");
}

#[test]
fn stdin_that_is_not_an_image_is_a_clear_error() {
    let o = piped(&["copy", "-", ".png"], b"hello, world\n");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("stdin: unknown file format"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
    let o = piped(&["copy", "-", ".png"], b"");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("stdin: input is empty"),
        "{}",
        stderr(&o)
    );
    let o = piped(&["thumbnail", "-", ".jpg", "32"], b"GIF-not");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn tile_pyramids_do_not_go_to_stdout() {
    let o = piped(&["copy", "black:8x8x1", ".dzi"], b"");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot go to standard output"),
        "{}",
        stderr(&o)
    );
    let o = piped(&["dzsave", "black:8x8x1", ".zip"], b"");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_dotted_name_or_a_path_is_a_file() {
    let f = Fixture::new();
    let o = piped(&["copy", "black:8x8x1", &f.s(".hidden.png")], b"");
    ok(&o);
    assert!(o.stdout.is_empty());
    assert!(f.path(".hidden.png").exists());
}

#[test]
fn plan_of_a_stdout_save_prints_the_plan() {
    let o = piped(&["--plan", "copy", "noise:64x64x3", ".jpg[Q=80]"], b"");
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("output: 64x64 3 bands u8"), "{text}");
}

#[test]
fn help_explains_stdin_stdout_and_the_null_sink() {
    let o = run(&["--help"]);
    ok(&o);
    let help = String::from_utf8_lossy(&o.stdout);
    for want in [
        "`-` for\nstandard input",
        "bare suffix",
        "`null:` is the null sink",
        "older name",
    ] {
        assert!(help.contains(want), "{want} in {help}");
    }
    let o = run(&["invert", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("`null:`"), "{help}");
}

/// With standard output on a terminal, image data is refused.
#[cfg(unix)]
#[test]
fn a_terminal_gets_no_image_data() {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("open a pty");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = File::options()
        .read(true)
        .write(true)
        .open(OsStr::from_bytes(name.as_bytes()))
        .expect("open the pty's terminal side");
    let o = bin()
        .args(["copy", "black:8x8x1", ".png"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    drop(master);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("refusing to write image data to a terminal"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn stats_and_dzsave_read_stdin() {
    let f = Fixture::new();
    let (png, bytes) = f.png();
    let want = run(&["stats", &png, "--", "invert"]);
    ok(&want);
    let o = piped(&["stats", "-", "--", "invert"], &bytes);
    ok(&o);
    assert_eq!(o.stdout, want.stdout);
    ok(&run(&["dzsave", &png, &f.s("a.dzi"), "--tile-size", "16"]));
    let o = piped(&["dzsave", "-", &f.s("b.dzi"), "--tile-size", "16"], &bytes);
    ok(&o);
    assert_eq!(
        std::fs::read(f.path("a.dzi")).unwrap(),
        std::fs::read(f.path("b.dzi")).unwrap()
    );
    let level = std::fs::read_dir(f.path("a_files")).unwrap().count();
    assert!(level > 1);
    for tile in ["0/0_0.jpeg", "6/1_1.jpeg"] {
        let a = f.path("a_files").join(tile);
        assert_eq!(
            std::fs::read(a).unwrap(),
            std::fs::read(f.path("b_files").join(tile)).unwrap(),
            "{tile}"
        );
    }
    let help = run(&["dzsave", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("`-` (standard input"));
}
