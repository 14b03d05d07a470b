//! SIMD pixel kernels of gigapix.
//!
//! Every kernel has a scalar reference implementation, always compiled and
//! used as the test oracle, and faster paths written with `std::arch`
//! (AVX2, SSE4.1) chosen at run time. This is the only crate of gigapix,
//! with `gigapix-core`'s region buffers, that contains `unsafe` code; each
//! block says why it is sound.
//!
//! Kernels work on plain slices (rows of samples) and take the [`Level`] to
//! run at as an argument, so an operation chooses it once per node
//! ([`level`]) and never per pixel, and tests can run every level the
//! machine has ([`levels`]) against the scalar one.
//!
//! The environment variable `GIGAPIX_CPU` (`scalar`, `sse4.1`, `avx2`) lowers
//! the level; it can never raise it above what the CPU offers. Unknown
//! values are ignored.
//!
//! # Example
//!
//! ```
//! use gigapix_simd::{Level, level, levels};
//!
//! // The level operations use: detected once, capped by GIGAPIX_CPU.
//! let chosen = level();
//! assert!(levels().contains(&chosen));
//! assert_eq!(levels()[0], Level::Scalar);
//! ```

use std::sync::OnceLock;

pub mod arith;
pub mod blur;
pub mod conv;
pub mod pixel;
pub mod resample;

/// An instruction-set level kernels can run at, from the plainest up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Level {
    /// Plain Rust, the reference every other level is tested against.
    Scalar,
    /// x86-64 SSE4.1.
    Sse41,
    /// x86-64 AVX2 (with FMA not assumed).
    Avx2,
}

impl Level {
    /// The name `GIGAPIX_CPU` uses for this level.
    pub fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalar",
            Level::Sse41 => "sse4.1",
            Level::Avx2 => "avx2",
        }
    }

    /// Parses a `GIGAPIX_CPU` value.
    pub fn from_name(name: &str) -> Option<Level> {
        match name.trim().to_ascii_lowercase().as_str() {
            "scalar" | "none" => Some(Level::Scalar),
            "sse4.1" | "sse41" | "sse4" => Some(Level::Sse41),
            "avx2" => Some(Level::Avx2),
            _ => None,
        }
    }
}

/// The highest level this CPU supports.
pub fn detected() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            return Level::Avx2;
        }
        if std::arch::is_x86_feature_detected!("sse4.1") {
            return Level::Sse41;
        }
    }
    Level::Scalar
}

/// The level operations run at: [`detected`], lowered by `GIGAPIX_CPU`.
/// Computed once per process.
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let cpu = detected();
        match std::env::var("GIGAPIX_CPU")
            .ok()
            .as_deref()
            .and_then(Level::from_name)
        {
            Some(wanted) => wanted.min(cpu),
            None => cpu,
        }
    })
}

/// Every level this CPU supports, from [`Level::Scalar`] up to [`detected`]
/// (for tests that compare each level with the scalar reference).
pub fn levels() -> Vec<Level> {
    let top = detected();
    [Level::Scalar, Level::Sse41, Level::Avx2]
        .into_iter()
        .filter(|&l| l <= top)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_lowering_only() {
        for l in levels() {
            assert_eq!(Level::from_name(l.name()), Some(l));
        }
        assert_eq!(Level::from_name("bogus"), None);
        assert!(level() <= detected());
    }
}
