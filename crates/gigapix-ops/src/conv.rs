//! conv operations (in progress).
