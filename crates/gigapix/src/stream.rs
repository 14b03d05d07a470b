//! Saves into a caller's writer, which need not be `'static`: the run's
//! encoder (on the engine's threads) sends its bytes, seeks and flushes
//! over a bounded channel to the calling thread, which applies them to the
//! writer. A writer error closes the channel, which fails the encoder's
//! next write and so stops the run; the writer's own error is returned.

use std::io::{self, Seek, SeekFrom, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use gigapix_core::{Error, Result};

/// A caller's writer.
pub(crate) enum Target<'a> {
    Plain(Box<dyn Write + Send + 'a>),
    Seekable(Box<dyn WriteSeek + 'a>),
}

impl Target<'_> {
    /// The writer, seekable or not.
    fn write(&mut self) -> &mut dyn Write {
        match self {
            Target::Plain(w) => w,
            Target::Seekable(w) => w,
        }
    }
}

/// Sends `r` back to the encoder thread; a failure also ends the stream
/// (with a copy of the error).
fn answer<T>(r: io::Result<T>, reply: SyncSender<io::Result<T>>) -> io::Result<()> {
    let failed = r
        .as_ref()
        .err()
        .map(|e| io::Error::new(e.kind(), e.to_string()));
    let _ = reply.send(r);
    failed.map_or(Ok(()), Err)
}

/// A writer that can seek.
pub(crate) trait WriteSeek: Write + Seek + Send {}

impl<T: Write + Seek + Send> WriteSeek for T {}

enum Msg {
    Data(Vec<u8>),
    Seek(SeekFrom, SyncSender<io::Result<u64>>),
    Flush(SyncSender<io::Result<()>>),
}

/// The encoder's end of the channel.
pub(crate) struct Forward {
    tx: SyncSender<Msg>,
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the output writer failed")
}

impl Write for Forward {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx
            .send(Msg::Data(buf.to_vec()))
            .map_err(|_| closed())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let (tx, rx) = sync_channel(1);
        self.tx.send(Msg::Flush(tx)).map_err(|_| closed())?;
        rx.recv().map_err(|_| closed())?
    }
}

impl Seek for Forward {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let (tx, rx) = sync_channel(1);
        self.tx.send(Msg::Seek(pos, tx)).map_err(|_| closed())?;
        rx.recv().map_err(|_| closed())?
    }
}

/// Runs `save` (given the forwarding writer and whether it may seek) on a
/// scoped thread while this thread applies its output to `target`.
pub(crate) fn run<T: Send>(
    target: Target<'_>,
    suffix: &str,
    save: impl FnOnce(Forward, bool) -> Result<T> + Send,
) -> Result<T> {
    let (tx, rx) = sync_channel::<Msg>(16);
    let seekable = matches!(target, Target::Seekable(_));
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || save(Forward { tx }, seekable));
        let failed = apply(target, rx);
        let result = match worker.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        };
        match failed {
            Some(e) => Err(Error::io(format_args!("<writer>{suffix}"), e)),
            None => result,
        }
    })
}

/// Applies messages to `target` until the sender goes or the writer fails
/// (dropping the receiver then fails the sender).
fn apply(mut target: Target<'_>, rx: Receiver<Msg>) -> Option<io::Error> {
    for msg in rx {
        let r = match (&mut target, msg) {
            (t, Msg::Data(d)) => t.write().write_all(&d),
            (t, Msg::Flush(reply)) => answer(t.write().flush(), reply),
            (Target::Seekable(w), Msg::Seek(pos, reply)) => answer(w.seek(pos), reply),
            (Target::Plain(_), Msg::Seek(_, reply)) => {
                let _ = reply.send(Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "the output writer cannot seek",
                )));
                Ok(())
            }
        };
        if let Err(e) = r {
            return Some(e);
        }
    }
    None
}
