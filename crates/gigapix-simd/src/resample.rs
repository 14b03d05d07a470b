//! Kernels: resample (in progress).
