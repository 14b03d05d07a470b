//! blur operations (in progress).
