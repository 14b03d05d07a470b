//! Kernels: pixel (in progress).
