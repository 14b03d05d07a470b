//! SIGINT, SIGTERM and SIGKILL during `gigapix copy` onto a file that
//! already exists: the command exits 130 or 143 with one line (or 0 if it
//! finished first), and the directory then holds nothing but the untouched
//! old file (or the complete new one, byte for byte the output of an
//! uninterrupted run). Both kinds of temporary file are exercised: the
//! unnamed `O_TMPFILE` one, and the named one forced by
//! `GIGAPIX_NO_O_TMPFILE=1` (the one that needs cleaning up).
#![cfg(target_os = "linux")]

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

/// What the target holds before every run.
const ORIGINAL: &[u8] = b"the user's old output, which must survive\n";

/// The longest any run may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(300);

fn command(input: &str, target: &Path, named: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gigapix"));
    cmd.args(["--no-progress", "--threads", "2", "copy", input])
        .arg(target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if named {
        cmd.env("GIGAPIX_NO_O_TMPFILE", "1");
    } else {
        cmd.env_remove("GIGAPIX_NO_O_TMPFILE");
    }
    cmd
}

/// A fresh directory holding `out.EXT` with [`ORIGINAL`] in it.
fn setup(ext: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(format!("out.{ext}"));
    std::fs::write(&target, ORIGINAL).unwrap();
    (dir, target)
}

fn send(child: &Child, signal: Signal) {
    // The child may have exited already; that is one of the outcomes.
    let _ = kill_process(Pid::from_child(child), signal);
}

/// Waits for `child` (killing it after [`HANG`]) and returns its status and
/// stderr.
fn wait(mut child: Child) -> (ExitStatus, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status, err);
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            panic!("gigapix did not exit within {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `true` if the files have the same bytes (read in pieces: they may be
/// large).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    if fa.metadata().unwrap().len() != fb.metadata().unwrap().len() {
        return false;
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba).unwrap();
        if n == 0 {
            return true;
        }
        fb.read_exact(&mut bb[..n]).unwrap();
        if ba[..n] != bb[..n] {
            return false;
        }
    }
}

/// Checks what a run that was sent `signal` left behind; `reference` is
/// the output of an uninterrupted run. Returns `true` if it had finished.
fn check(
    dir: &Path,
    target: &Path,
    reference: &Path,
    (status, err): (ExitStatus, String),
    signal: Signal,
) -> bool {
    let name = target.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        entries(dir),
        std::slice::from_ref(&name),
        "left behind; stderr: {err}"
    );
    let code = 128 + signal.as_raw();
    match (status.code(), status.signal()) {
        (Some(c), _) if c == code => {
            let message = if signal == Signal::INT {
                "gigapix: interrupted (SIGINT)"
            } else {
                "gigapix: terminated (SIGTERM)"
            };
            assert_eq!(err.trim_end(), message, "one line, and only that");
            assert_eq!(std::fs::read(target).unwrap(), ORIGINAL, "{name} touched");
            false
        }
        (Some(0), _) => {
            assert!(same_file(target, reference), "{name} is not complete");
            true
        }
        // Before the handler was installed the default action applies;
        // nothing had been written yet.
        (None, Some(s)) if s == signal.as_raw() => {
            assert_eq!(std::fs::read(target).unwrap(), ORIGINAL, "{name} touched");
            false
        }
        other => panic!("unexpected exit {other:?}: {err}"),
    }
}

/// The output of an uninterrupted run, and how long it took.
fn reference(input: &str, ext: &str) -> (tempfile::TempDir, PathBuf, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("ref.{ext}"));
    let start = Instant::now();
    let (status, err) = wait(command(input, &path, false).spawn().unwrap());
    assert!(status.success(), "{err}");
    (dir, path, start.elapsed())
}

/// A small random number generator (xorshift), seeded from the clock; the
/// seed is printed so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("GIGAPIX_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("GIGAPIX_TEST_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// `runs` copies of `input`, each sent SIGTERM or SIGINT at a random moment
/// of its run, in turn to PPM, TIFF, PNG and JPEG, with unnamed and named
/// temporary files.
fn random_moments(input: &str, runs: usize) {
    let exts = ["ppm", "tif", "png", "jpg"];
    let references: Vec<_> = exts.iter().map(|e| reference(input, e)).collect();
    let mut rng = Rng::new();
    let (mut finished, mut stopped) = (0, 0);
    for i in 0..runs {
        let (_, ref_path, took) = &references[i % exts.len()];
        let signal = if i % 2 == 0 {
            Signal::TERM
        } else {
            Signal::INT
        };
        let named = (i / 2) % 2 == 1;
        let (dir, target) = setup(exts[i % exts.len()]);
        let child = command(input, &target, named).spawn().unwrap();
        let delay = Duration::from_micros(rng.below(took.as_micros() as u64 * 11 / 10));
        std::thread::sleep(delay);
        send(&child, signal);
        let outcome = wait(child);
        if check(dir.path(), &target, ref_path, outcome, signal) {
            finished += 1;
        } else {
            stopped += 1;
        }
    }
    eprintln!("{stopped} runs stopped by the signal, {finished} finished first");
}

#[test]
fn signals_at_random_moments_leave_only_the_old_or_the_new_file() {
    random_moments("noise:1500x1000x3:5", 8);
}

#[test]
#[ignore = "20 copies of a 20000x20000 image (1.2 GB each): minutes"]
fn signals_at_random_moments_on_a_large_image() {
    random_moments("noise:20000x20000x3:5", 20);
}

/// Waits until `child` is writing its output: a hidden temporary file in
/// `dir` (named), or an unnamed file of `dir` open in the process.
fn wait_for_write(child: &Child, dir: &Path, named: bool) {
    let start = Instant::now();
    let fds = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let dir_text = dir.to_string_lossy().into_owned();
    loop {
        let writing = if named {
            entries(dir).iter().any(|n| n.ends_with(".tmp"))
        } else {
            std::fs::read_dir(&fds).into_iter().flatten().any(|e| {
                std::fs::read_link(e.unwrap().path()).is_ok_and(|l| {
                    let l = l.to_string_lossy();
                    l.starts_with(&dir_text) && l.ends_with("(deleted)")
                })
            })
        };
        if writing {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no temporary file seen"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A large enough image that its run is still writing when signalled.
const LARGE: &str = "noise:12000x12000x3:9";

#[test]
fn a_signal_while_writing_exits_130_or_143_and_keeps_the_old_file() {
    for (named, signal) in [
        (true, Signal::TERM),
        (true, Signal::INT),
        (false, Signal::TERM),
        (false, Signal::INT),
    ] {
        let (dir, target) = setup("ppm");
        let child = command(LARGE, &target, named).spawn().unwrap();
        wait_for_write(&child, dir.path(), named);
        send(&child, signal);
        let (status, err) = wait(child);
        assert_eq!(
            status.code(),
            Some(128 + signal.as_raw()),
            "named={named}: {status:?} {err}"
        );
        assert_eq!(entries(dir.path()), ["out.ppm"], "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), ORIGINAL);
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn a_second_signal_while_cleaning_up_leaves_nothing_either() {
    for gap in [0, 1, 5] {
        let (dir, target) = setup("tif");
        let child = command(LARGE, &target, true).spawn().unwrap();
        wait_for_write(&child, dir.path(), true);
        send(&child, Signal::TERM);
        std::thread::sleep(Duration::from_millis(gap));
        send(&child, Signal::TERM);
        let (status, err) = wait(child);
        assert_eq!(status.code(), Some(143), "{status:?} {err}");
        assert_eq!(entries(dir.path()), ["out.tif"], "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), ORIGINAL);
        assert_eq!(err.trim_end(), "gigapix: terminated (SIGTERM)");
    }
}

/// `true` if `dir` accepts `O_TMPFILE`.
fn tmpfile_supported(dir: &Path) -> bool {
    use rustix::fs::{Mode, OFlags};
    rustix::fs::open(
        dir,
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .is_ok()
}

#[test]
fn sigkill_while_writing_leaves_nothing_behind() {
    let probe = tempfile::tempdir().unwrap();
    if !tmpfile_supported(probe.path()) {
        eprintln!("skipped: the temporary directory's filesystem refuses O_TMPFILE");
        return;
    }
    // Onto an old file, and where there was none.
    for existing in [true, false] {
        let (dir, target) = setup("ppm");
        if !existing {
            std::fs::remove_file(&target).unwrap();
        }
        let child = command(LARGE, &target, false).spawn().unwrap();
        wait_for_write(&child, dir.path(), false);
        send(&child, Signal::KILL);
        let (status, _) = wait(child);
        assert_eq!(status.signal(), Some(Signal::KILL.as_raw()));
        if existing {
            assert_eq!(entries(dir.path()), ["out.ppm"]);
            assert_eq!(std::fs::read(&target).unwrap(), ORIGINAL);
        } else {
            assert_eq!(entries(dir.path()), Vec::<String>::new());
        }
    }
}
