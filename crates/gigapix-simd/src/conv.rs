//! Kernels: conv (in progress).
