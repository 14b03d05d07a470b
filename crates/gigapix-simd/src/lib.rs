//! SIMD pixel kernels of gigapix.
//!
//! Every kernel has a scalar reference implementation, always compiled and
//! used as the test oracle, and faster paths written with `std::arch`
//! (AVX2, AVX-512) chosen at run time. This is the only crate of gigapix,
//! with `gigapix-core`'s region buffers, that contains `unsafe` code; each
//! block says why it is sound.
//!
//! Kernels work on plain slices (rows of samples) and take the [`Level`] to
//! run at as an argument, so an operation chooses it once per node
//! ([`level`]) and never per pixel, and tests can run every level the
//! machine has ([`levels`]) against the scalar one.
//!
//! A [`Level`] is a proof: its field is private, and the only ways to get
//! one above [`Isa::Scalar`] are [`detected`], [`level`] and [`levels`],
//! which ask the CPU. So a kernel may run the instructions of its level's
//! [`Isa`] without checking again, and safe code cannot reach an
//! instruction the CPU lacks. Every kernel dispatches through one macro,
//! `dispatch!`, which holds that argument once.
//!
//! The environment variable `GIGAPIX_CPU` (`scalar`, `avx2`, `avx512`)
//! lowers the level; it can never raise it above what the CPU offers.
//! Unknown values are ignored.
//!
//! # Example
//!
//! ```
//! use gigapix_simd::{Isa, Level, level, levels};
//!
//! // The level operations use: detected once, capped by GIGAPIX_CPU.
//! let chosen = level();
//! assert!(levels().contains(&chosen));
//! assert_eq!(levels()[0], Level::SCALAR);
//! assert!(chosen.has(Isa::Scalar));
//! ```

use std::sync::OnceLock;

pub mod arith;
pub mod blur;
pub mod conv;
pub mod flip;
pub mod idct;
pub mod jpeg;
pub mod lut;
pub mod noise;
pub mod pixel;
pub mod resample;

/// An instruction-set architecture level, from the plainest up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Isa {
    /// Plain Rust, the reference every other level is tested against.
    Scalar,
    /// x86-64 AVX2 (FMA not assumed).
    Avx2,
    /// x86-64 AVX-512 with the F, BW, VL, DQ and VBMI extensions (Ice Lake,
    /// Zen 4 and later); implies [`Isa::Avx2`].
    Avx512,
}

impl Isa {
    /// Every level, from the plainest up.
    pub const ALL: [Isa; 3] = [Isa::Scalar, Isa::Avx2, Isa::Avx512];

    /// The name `GIGAPIX_CPU` uses for this level.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// Parses a `GIGAPIX_CPU` value.
    pub fn from_name(name: &str) -> Option<Isa> {
        match name.trim().to_ascii_lowercase().as_str() {
            "scalar" | "none" => Some(Isa::Scalar),
            "avx2" => Some(Isa::Avx2),
            "avx512" | "avx-512" => Some(Isa::Avx512),
            _ => None,
        }
    }

    /// `true` if the running CPU has every feature of this level.
    fn supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                Isa::Avx2.supported()
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vbmi")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// The level a kernel runs at: an [`Isa`] the running CPU was checked to
/// support. Only [`Level::SCALAR`] can be named; the others come from
/// [`detected`], [`level`] and [`levels`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(Isa);

impl Level {
    /// The scalar reference level, valid on every CPU.
    pub const SCALAR: Level = Level(Isa::Scalar);

    /// The instruction set of this level.
    pub fn isa(self) -> Isa {
        self.0
    }

    /// `true` if this level includes `isa` (`Avx512` includes `Avx2`).
    pub fn has(self, isa: Isa) -> bool {
        self.0 >= isa
    }

    /// The name `GIGAPIX_CPU` uses for this level.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// This level lowered to at most `isa` (never raised).
    pub fn at_most(self, isa: Isa) -> Level {
        Level(self.0.min(isa))
    }
}

/// Runs the fastest kernel variant `level` proves the CPU supports: each
/// `Isa => expression` arm, highest first, is evaluated inside `unsafe`
/// when `level` has that [`Isa`]; otherwise the expression after `_ =>`.
/// The value of the arm that ran is the value of the macro.
///
/// ```ignore
/// let done = dispatch!(level, Avx2 => avx2::add(a, b, out), _ => 0);
/// ```
///
/// The fast expressions must need nothing but their level's target
/// features (slice lengths are checked outside, or inside the kernel).
macro_rules! dispatch {
    ($level:expr, $($isa:ident => $fast:expr,)* _ => $scalar:expr $(,)?) => {{
        let level: $crate::Level = $level;
        #[allow(unused_labels)]
        'dispatch: {
            $(
                #[cfg(target_arch = "x86_64")]
                if level.has($crate::Isa::$isa) {
                    // SAFETY: a `Level` above `Scalar` is only made by
                    // `detected`, after `Isa::supported` checked the CPU
                    // for every feature of its `Isa` (the field is
                    // private), and levels are ordered, so the CPU has
                    // the target features this variant is compiled for.
                    break 'dispatch unsafe { $fast };
                }
            )*
            let _ = level;
            $scalar
        }
    }};
}
pub(crate) use dispatch;

/// The highest level this CPU supports.
pub fn detected() -> Level {
    static TOP: OnceLock<Level> = OnceLock::new();
    *TOP.get_or_init(|| {
        let top = Isa::ALL
            .into_iter()
            .filter(|isa| isa.supported())
            .max()
            .unwrap_or(Isa::Scalar);
        Level(top)
    })
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
            .and_then(Isa::from_name)
        {
            Some(wanted) => cpu.at_most(wanted),
            None => cpu,
        }
    })
}

/// Every level this CPU supports, from [`Level::SCALAR`] up to [`detected`]
/// (for tests that compare each level with the scalar reference).
pub fn levels() -> Vec<Level> {
    let top = detected();
    Isa::ALL
        .into_iter()
        .filter(|&isa| top.has(isa))
        .map(|isa| top.at_most(isa))
        .collect()
}

/// Test inputs shared by the kernels' level tests.
#[cfg(test)]
pub(crate) mod testdata {
    /// Deterministic pseudo-random bytes (xorshift), with plenty of the
    /// values kernels treat specially: 0, 255 and 128.
    pub(crate) fn bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                match s % 9 {
                    0 => 0,
                    1 => 255,
                    2 => 128,
                    _ => (s >> 24) as u8,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_lowering_only() {
        for l in levels() {
            assert_eq!(Isa::from_name(l.name()), Some(l.isa()));
        }
        assert_eq!(Isa::from_name("bogus"), None);
        assert!(level() <= detected());
        assert_eq!(Level::SCALAR.at_most(Isa::Avx512), Level::SCALAR);
    }
}
