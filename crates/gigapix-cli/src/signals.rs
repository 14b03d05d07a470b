//! SIGINT and SIGTERM.
//!
//! The first one cancels the run through its [`CancelToken`]: the workers
//! stop at their next region, the saver is dropped and removes its
//! temporary file, and the command exits with 128 + the signal's number
//! (130 for SIGINT, 143 for SIGTERM) and a one-line message. The user's old
//! output file is untouched. A second signal while that happens exits at
//! once, after removing every temporary file still there
//! ([`gigapix::abandon_saves`]). A run that completed before it noticed
//! the signal exits normally: its output is whole.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use gigapix::CancelToken;

/// The signal that stopped the command, if one came.
pub(crate) struct Interrupts {
    caught: Arc<AtomicI32>,
}

impl Interrupts {
    /// Starts watching SIGINT and SIGTERM for `token`'s runs. Without a
    /// way to watch them (no signals on this system), the default
    /// behaviour stays.
    pub(crate) fn install(token: CancelToken) -> Interrupts {
        let caught = Arc::new(AtomicI32::new(0));
        watch(token, caught.clone());
        Interrupts { caught }
    }

    /// The exit status and message for the signal that came, if any.
    pub(crate) fn caught(&self) -> Option<(u8, &'static str)> {
        match self.caught.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(outcome(signal)),
        }
    }
}

/// Exit status and message for `signal`.
fn outcome(signal: i32) -> (u8, &'static str) {
    let code = u8::try_from(128 + signal).unwrap_or(1);
    let message = match signal {
        2 => "interrupted (SIGINT)",
        15 => "terminated (SIGTERM)",
        _ => "stopped by a signal",
    };
    (code, message)
}

#[cfg(unix)]
fn watch(token: CancelToken, caught: Arc<AtomicI32>) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    // A thread that cannot start (no memory at start-up) leaves the
    // signals caught but unanswered; nothing better can be done then.
    let _ = std::thread::Builder::new()
        .name("gigapix-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                match caught.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => token.cancel(),
                    Err(first) => {
                        // Again while cleaning up: go now, leaving nothing.
                        gigapix::abandon_saves();
                        let (code, message) = outcome(first);
                        eprintln!("gigapix: {message}");
                        std::process::exit(i32::from(code));
                    }
                }
            }
        });
}

#[cfg(not(unix))]
fn watch(_: CancelToken, _: Arc<AtomicI32>) {}
