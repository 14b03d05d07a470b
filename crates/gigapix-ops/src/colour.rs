//! colour operations (in progress).
