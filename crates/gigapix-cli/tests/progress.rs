//! The progress bar: drawn on a terminal, never into a pipe unless
//! `--progress` asks, never with `--no-progress`, cleared at the end; a
//! batch of thumbnails counts files.
//!
//! The terminal is a pseudo-terminal the test opens itself (rustix), so no
//! system tool is needed. `GIGAPIX_PROGRESS_DELAY_MS=0` makes the bar
//! appear at once instead of after a second, so even short runs draw it
//! and the tests need not race a clock.
#![cfg(unix)]

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{Winsize, tcsetwinsize};

/// A short run (tens of milliseconds). With the delay at 0 it counts as a
/// long one: its bar is drawn as soon as it starts.
const WORK: &[&str] = &[
    "pipe",
    "noise:1500x1500x3",
    "-",
    "--",
    "linear",
    "1.1",
    "5",
    ":",
    "gaussblur",
    "2",
];

/// The command with a terminal-capable `TERM` and the given delay; stdout
/// and stdin go nowhere, stderr is for the caller to set.
fn gigapix(flags: &[&str], args: &[&str], delay_ms: Option<u64>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gigapix"));
    cmd.args(flags)
        .args(args)
        .env("TERM", "xterm")
        .env_remove("COLUMNS")
        .env_remove("GIGAPIX_PROGRESS_DELAY_MS")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if let Some(ms) = delay_ms {
        cmd.env("GIGAPIX_PROGRESS_DELAY_MS", ms.to_string());
    }
    cmd
}

/// Runs `cmd` with stderr on a fresh 100-column pseudo-terminal; returns
/// its exit status and everything it wrote there.
fn under_pty(mut cmd: Command) -> (ExitStatus, String) {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("open a pty");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = File::options()
        .read(true)
        .write(true)
        .open(OsStr::from_bytes(name.as_bytes()))
        .expect("open the pty's terminal side");
    tcsetwinsize(
        &slave,
        Winsize {
            ws_row: 24,
            ws_col: 100,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )
    .expect("set the terminal size");
    cmd.stderr(Stdio::from(slave));
    let mut child = cmd.spawn().expect("run gigapix");
    // The command holds our copy of the terminal side: without it, reads
    // of the master end fail (EIO) once the child has exited.
    drop(cmd);
    let mut master = File::from(master);
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match master.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        out
    });
    let status = child.wait().expect("wait for gigapix");
    let out = reader.join().expect("the reader does not panic");
    (status, String::from_utf8_lossy(&out).into_owned())
}

/// Runs `cmd` with stderr captured by a pipe.
fn piped(mut cmd: Command) -> Output {
    cmd.stderr(Stdio::piped()).output().expect("run gigapix")
}

fn has_bar(s: &str) -> bool {
    s.contains("Mpx/s") && s.contains('%')
}

/// The bar was erased: after its last drawing comes a line clear and no
/// new line, so the terminal is left as it was.
fn assert_cleared(s: &str, last: &str) {
    let at = s.rfind(last).expect("the bar was drawn");
    let after = &s[at..];
    assert!(after.contains("\x1b[2K"), "no clear after the bar: {s:?}");
    assert!(!after.contains('\n'), "a line left behind: {s:?}");
}

#[test]
fn terminal_shows_the_bar_and_clears_it() {
    let (status, out) = under_pty(gigapix(&[], WORK, Some(0)));
    assert!(status.success(), "{out}");
    assert!(has_bar(&out), "no bar on the terminal: {out:?}");
    assert!(out.contains("ETA"), "{out:?}");
    assert_cleared(&out, "Mpx/s");
}

#[test]
fn terminal_bar_waits_for_the_delay() {
    // A short run with the real one-second delay draws nothing...
    let start = Instant::now();
    let (status, out) = under_pty(gigapix(&[], &["copy", "black:64x64x1", "-"], None));
    assert!(status.success(), "{out}");
    if start.elapsed() < Duration::from_millis(800) {
        assert_eq!(out, "", "a bar for a short run");
    }
    // ...and a longer one (most of a second), with a short delay, does.
    let (status, out) = under_pty(gigapix(
        &[],
        &[
            "pipe",
            "noise:8000x8000x3",
            "-",
            "--",
            "linear",
            "1.1",
            "5",
            ":",
            "gaussblur",
            "3",
        ],
        Some(100),
    ));
    assert!(status.success(), "{out}");
    assert!(has_bar(&out), "no bar after the delay: {out:?}");
    assert_cleared(&out, "Mpx/s");
}

#[test]
fn pipe_gets_no_bar() {
    let o = piped(gigapix(&[], WORK, Some(0)));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn no_progress_on_a_terminal_draws_nothing() {
    let (status, out) = under_pty(gigapix(&["--no-progress"], WORK, Some(0)));
    assert!(status.success(), "{out}");
    assert_eq!(out, "");
}

#[test]
fn progress_forces_the_bar_into_a_pipe() {
    let o = piped(gigapix(&["--progress"], WORK, Some(0)));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(has_bar(&err), "no bar with --progress: {err:?}");
    assert_cleared(&err, "Mpx/s");
    // The flag is global: it may come after the subcommand too.
    let mut args = WORK.to_vec();
    args.insert(1, "--progress");
    let o = piped(gigapix(&[], &args, Some(0)));
    assert!(has_bar(&String::from_utf8_lossy(&o.stderr)));
}

#[test]
fn progress_and_no_progress_exclude_each_other() {
    let o = piped(gigapix(&["--progress", "--no-progress"], WORK, Some(0)));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn stats_runs_show_the_bar_too() {
    let o = piped(gigapix(
        &["--progress"],
        &["stats", "noise:500x500x1"],
        Some(0),
    ));
    assert!(o.status.success());
    assert!(has_bar(&String::from_utf8_lossy(&o.stderr)));
}

/// A small binary PPM.
fn write_ppm(path: &Path, w: usize, h: usize) {
    let mut file = format!("P6\n{w} {h}\n255\n").into_bytes();
    file.extend((0..w * h * 3).map(|i| (i % 251) as u8));
    std::fs::write(path, file).unwrap();
}

#[test]
fn thumbnail_batch_counts_files() {
    let d = tempfile::tempdir().unwrap();
    let inputs: Vec<String> = (0..4)
        .map(|i| {
            let p = d.path().join(format!("in{i}.ppm"));
            write_ppm(&p, 64, 48);
            p.to_str().unwrap().to_string()
        })
        .collect();
    let mut args = vec!["thumbnail", "-s", "16", "-o", "tn_%s.ppm"];
    args.extend(inputs.iter().map(String::as_str));

    let (status, out) = under_pty(gigapix(&[], &args, Some(0)));
    assert!(status.success(), "{out}");
    assert!(out.contains("/4 files"), "no file count: {out:?}");
    assert!(!out.contains("Mpx/s"), "a pixel bar per image: {out:?}");
    assert_cleared(&out, "files");
    for i in 0..4 {
        assert!(d.path().join(format!("tn_in{i}.ppm")).exists());
    }

    let o = piped(gigapix(&[], &args, Some(0)));
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&o.stderr)
    );

    let o = piped(gigapix(&["--progress"], &args, Some(0)));
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/4 files"));
}
