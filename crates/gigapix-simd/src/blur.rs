//! Kernels: blur (in progress).
