//! Benchmarks for gigapix live in this package's `[[bench]]` targets; see
//! `README.md` beside this file.
