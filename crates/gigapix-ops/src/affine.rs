//! affine operations (in progress).
