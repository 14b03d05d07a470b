//! morph operations (in progress).
