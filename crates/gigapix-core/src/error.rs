//! The one error type of gigapix.

use std::fmt;
use std::sync::Arc;

use crate::Rect;

/// What went wrong, broadly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument or graph step is invalid (crop outside the image, band
    /// mismatch, bad option).
    InvalidArgument,
    /// Reading or writing a file failed.
    Io,
    /// A file is malformed, truncated or in a form we do not read.
    Format,
    /// A limit (maximum pixels, memory budget) was exceeded.
    Limit,
    /// The run was cancelled through its [`CancelToken`](crate::CancelToken).
    Cancelled,
    /// A kernel panicked; the panic was caught and turned into this error.
    Panic,
    /// The requested feature is not supported (yet).
    Unsupported,
}

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    message: String,
    operation: Option<&'static str>,
    rect: Option<Rect>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// An error from building or running an image graph.
///
/// It carries a [`kind`](Error::kind), a message, and where known the
/// operation and the region that failed. Cheap to clone (it is shared), so
/// a failing graph node can hand the same error to every sink that runs it.
#[derive(Clone)]
pub struct Error(Arc<Inner>);

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error(Arc::new(Inner {
            kind,
            message: message.into(),
            operation: None,
            rect: None,
            source: None,
        }))
    }

    /// An [`ErrorKind::InvalidArgument`] error naming `operation`.
    pub fn invalid(operation: &'static str, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message).with_operation(operation)
    }

    /// An [`ErrorKind::Format`] error.
    pub fn format(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Format, message)
    }

    /// An [`ErrorKind::Io`] error wrapping `err`, with `context` (usually the
    /// path) in front of its message.
    pub fn io(context: impl fmt::Display, err: std::io::Error) -> Error {
        Error::new(ErrorKind::Io, format!("{context}: {err}")).with_source(err)
    }

    /// Keeps `cause` as the error's [`source`](std::error::Error::source)
    /// (its text is usually in the message already). Clones share it.
    pub fn with_source(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.inner_mut().source = Some(Arc::new(cause));
        self
    }

    /// Adds `context` after the message (`message, context`), keeping the
    /// kind, operation, region and cause.
    pub fn with_context(mut self, context: impl fmt::Display) -> Error {
        let inner = self.inner_mut();
        inner.message = format!("{}, {context}", inner.message);
        self
    }

    /// The same error with another kind.
    pub fn with_kind(mut self, kind: ErrorKind) -> Error {
        self.inner_mut().kind = kind;
        self
    }

    /// Names the operation that failed, unless one is already named (the
    /// innermost operation wins).
    pub fn with_operation(mut self, operation: &'static str) -> Error {
        if self.0.operation.is_none() {
            self.inner_mut().operation = Some(operation);
        }
        self
    }

    /// Records the region being computed, unless one is already recorded.
    pub fn with_rect(mut self, rect: Rect) -> Error {
        if self.0.rect.is_none() {
            self.inner_mut().rect = Some(rect);
        }
        self
    }

    fn inner_mut(&mut self) -> &mut Inner {
        if Arc::get_mut(&mut self.0).is_none() {
            let i = &*self.0;
            self.0 = Arc::new(Inner {
                kind: i.kind,
                message: i.message.clone(),
                operation: i.operation,
                rect: i.rect,
                source: i.source.clone(),
            });
        }
        Arc::get_mut(&mut self.0).expect("unique after clone")
    }

    /// The broad category.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message, without operation or region.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The operation that failed, if known.
    pub fn operation(&self) -> Option<&'static str> {
        self.0.operation
    }

    /// The region being computed when it failed, if known.
    pub fn rect(&self) -> Option<Rect> {
        self.0.rect
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(op) = self.0.operation {
            write!(f, "{op}: ")?;
        }
        f.write_str(&self.0.message)?;
        if let Some(r) = self.0.rect {
            write!(f, " (region {r})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("operation", &self.0.operation)
            .field("rect", &self.0.rect)
            .field("message", &self.0.message)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_operation_and_region() {
        let e = Error::format("bad pixels")
            .with_operation("crop")
            .with_rect(Rect::new(1, 2, 3, 4));
        assert_eq!(e.to_string(), "crop: bad pixels (region 3x4+1+2)");
        // The innermost operation wins.
        assert_eq!(e.with_operation("outer").operation(), Some("crop"));
    }

    #[test]
    fn clones_keep_kind_and_cause() {
        use std::error::Error as _;
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = Error::io("x.tif", io);
        let shared = e.clone();
        let changed = shared
            .clone()
            .with_operation("open")
            .with_context("built at here");
        assert_eq!(changed.kind(), ErrorKind::Io);
        assert_eq!(changed.source().map(|s| s.to_string()), Some("gone".into()));
        assert_eq!(changed.to_string(), "open: x.tif: gone, built at here");
        assert!(e.source().is_some());
    }
}
