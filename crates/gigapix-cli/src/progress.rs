//! Progress bars on stderr.
//!
//! A run that has lasted about a second shows a bar with the percentage
//! done, the throughput in megapixels per second and the time left; a batch
//! of thumbnails shows files done of the total. Bars are drawn to stderr
//! only when it is a terminal (one that can move its cursor: not
//! `TERM=dumb`), unless `--progress` forces them on; `--no-progress`
//! forces them off. They are cleared when the run ends, leaving no lines
//! behind.
//!
//! Each bar is made hidden when its work starts, and a small thread shows
//! it once the delay has passed (if the work is not done by then), so
//! short runs print nothing at all. The delay is 1 s; the environment
//! variable `GIGAPIX_PROGRESS_DELAY_MS` changes it (a testing knob).

use std::io::{self, IsTerminal, Write as _};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use gigapix::{Progress, RunOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle, TermLike};

/// How long work runs before its bar appears, unless the environment says.
const DEFAULT_DELAY: Duration = Duration::from_secs(1);

/// Redraws per second, at most.
const REFRESH_HZ: u8 = 10;

/// Whether bars are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// When stderr is a terminal.
    Auto,
    /// Always, even to a pipe or file (`--progress`).
    On,
    /// Never (`--no-progress`).
    Off,
}

impl Mode {
    /// The mode the command-line flags ask for (clap makes them exclusive).
    pub(crate) fn from_flags(progress: bool, no_progress: bool) -> Mode {
        match (progress, no_progress) {
            (_, true) => Mode::Off,
            (true, false) => Mode::On,
            (false, false) => Mode::Auto,
        }
    }

    /// Where bars go in this mode; `None` when nothing is to be drawn.
    fn draw_target(self) -> Option<ProgressDrawTarget> {
        match self {
            Mode::Off => None,
            Mode::Auto => io::stderr()
                .is_terminal()
                .then(|| ProgressDrawTarget::stderr_with_hz(REFRESH_HZ))
                // indicatif hides bars on a dumb terminal.
                .filter(|t| !t.is_hidden()),
            Mode::On => {
                let terminal = ProgressDrawTarget::stderr_with_hz(REFRESH_HZ);
                Some(if terminal.is_hidden() {
                    ProgressDrawTarget::term_like_with_hz(Box::new(PlainStderr), REFRESH_HZ)
                } else {
                    terminal
                })
            }
        }
    }
}

/// Attaches a progress bar labelled `label` to a run's options. The bar
/// appears after the delay and is cleared when the returned guard is
/// dropped: drop it as soon as the run returns, before printing anything
/// else to stderr.
pub(crate) fn attach(opts: RunOptions, mode: Mode, label: &str) -> (RunOptions, Guard) {
    let Some(bar) = Delayed::start(mode, None, pixel_style(), label) else {
        return (opts, Guard(None));
    };
    let previous = opts.progress.clone();
    let pb = bar.bar.clone();
    let opts = opts.progress(move |p: Progress| {
        if pb.length() != Some(p.total) {
            pb.set_length(p.total);
        }
        pb.set_position(p.done.min(p.total));
        if let Some(previous) = &previous {
            previous(p);
        }
    });
    (opts, Guard(Some(bar)))
}

/// Clears a run's bar when dropped.
#[must_use = "the bar is cleared when the guard is dropped"]
pub(crate) struct Guard(Option<Delayed>);

impl Guard {
    /// Clears the bar now.
    pub(crate) fn finish(self) {
        drop(self.0);
    }
}

/// A counter of `total` files labelled `label`, shown as `N/M files` after
/// the delay and cleared when dropped.
pub(crate) fn files(mode: Mode, total: u64, label: &str) -> Files {
    Files(Delayed::start(mode, Some(total), files_style(), label))
}

/// Files done of a batch; see [`files`].
pub(crate) struct Files(Option<Delayed>);

impl Files {
    /// Counts one more file done.
    pub(crate) fn inc(&self) {
        if let Some(d) = &self.0 {
            d.bar.inc(1);
        }
    }

    /// Runs `f`, which may print to stderr, with the bar out of the way.
    pub(crate) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.0 {
            Some(d) => d.bar.suspend(f),
            None => f(),
        }
    }
}

/// A bar made hidden, with the thread that shows it after the delay.
struct Delayed {
    bar: ProgressBar,
    /// Dropping the sender tells the thread the work is over.
    reveal: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl Delayed {
    fn start(mode: Mode, len: Option<u64>, style: ProgressStyle, label: &str) -> Option<Delayed> {
        let target = mode.draw_target()?;
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::hidden())
            .with_style(style)
            .with_prefix(shorten(label, 32));
        let delay = delay();
        if delay.is_zero() {
            show(&bar, target);
            return Some(Delayed { bar, reveal: None });
        }
        let (tx, rx) = mpsc::channel::<()>();
        let shown = bar.clone();
        let thread = std::thread::Builder::new()
            .name("gigapix-progress".into())
            .spawn(move || {
                let over = rx.recv_timeout(delay) != Err(RecvTimeoutError::Timeout);
                if !over && shown.length().is_none_or(|len| shown.position() < len) {
                    show(&shown, target);
                }
            });
        // Without the thread the bar just stays hidden.
        let reveal = thread.ok().map(|handle| (tx, handle));
        Some(Delayed { bar, reveal })
    }
}

/// Makes a hidden bar visible on `target` and draws it.
fn show(bar: &ProgressBar, target: ProgressDrawTarget) {
    bar.set_draw_target(target);
    bar.tick();
    // Keeps the elapsed time and ETA moving between updates.
    bar.enable_steady_tick(Duration::from_millis(200));
}

impl Drop for Delayed {
    fn drop(&mut self) {
        if let Some((tx, handle)) = self.reveal.take() {
            drop(tx);
            let _ = handle.join();
        }
        self.bar.disable_steady_tick();
        self.bar.finish_and_clear();
    }
}

/// The delay before a bar appears.
fn delay() -> Duration {
    std::env::var("GIGAPIX_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(DEFAULT_DELAY, Duration::from_millis)
}

/// `label  [=====>    ]  42%  123.4 Mpx/s  ETA 3s`
fn pixel_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix} [{wide_bar}] {percent:>3}%  {mpx_rate}  ETA {eta}")
        .expect("a valid template")
        .with_key(
            "mpx_rate",
            |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1} Mpx/s", s.per_sec() / 1e6);
            },
        )
        .progress_chars("=> ")
}

/// `label  [=====>    ]  7/20 files  ETA 3s`
fn files_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix} [{wide_bar}] {pos}/{len} files  ETA {eta}")
        .expect("a valid template")
        .progress_chars("=> ")
}

/// At most `max` characters of `s`, its end kept.
fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        s.to_string()
    } else {
        let tail: String = s.chars().skip(n - (max - 1)).collect();
        format!("…{tail}")
    }
}

/// stderr when it is not a terminal (a pipe or a file with `--progress`):
/// plain ANSI sequences, 80 columns or `COLUMNS`.
#[derive(Debug)]
struct PlainStderr;

impl PlainStderr {
    fn put(&self, s: &str) -> io::Result<()> {
        io::stderr().lock().write_all(s.as_bytes())
    }

    /// Moves the cursor `n` places in direction `c` (`A` up, `B` down, `C`
    /// right, `D` left).
    fn cursor(&self, n: usize, c: char) -> io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            self.put(&format!("\x1b[{n}{c}"))
        }
    }
}

impl TermLike for PlainStderr {
    fn width(&self) -> u16 {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok())
            .filter(|&w| w > 0)
            .unwrap_or(80)
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.cursor(n, 'D')
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.put(&format!("{s}\n"))
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.put(s)
    }

    fn clear_line(&self) -> io::Result<()> {
        self.put("\r\x1b[2K")
    }

    fn flush(&self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_choose_the_mode() {
        assert_eq!(Mode::from_flags(false, false), Mode::Auto);
        assert_eq!(Mode::from_flags(true, false), Mode::On);
        assert_eq!(Mode::from_flags(false, true), Mode::Off);
    }

    #[test]
    fn off_draws_nothing_and_needs_no_thread() {
        let (opts, guard) = attach(RunOptions::new(), Mode::Off, "x");
        assert!(opts.progress.is_none());
        assert!(guard.0.is_none());
        assert!(files(Mode::Off, 3, "x").0.is_none());
    }

    #[test]
    fn long_labels_keep_their_end() {
        assert_eq!(shorten("short", 32), "short");
        let long = "a/very/long/directory/name/and/then/the/file.tif";
        let s = shorten(long, 16);
        assert_eq!(s.chars().count(), 16);
        assert!(s.ends_with("the/file.tif"));
    }
}
