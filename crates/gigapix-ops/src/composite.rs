//! composite operations (in progress).
