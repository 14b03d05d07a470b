//! Operations between two images of the same size, pixel by pixel
//! (being written): arithmetic, relational and boolean, and
//! `ifthenelse` with image branches.

use gigapix_core::{Error, Image};

/// An operation between two images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a − b`.
    Subtract,
    /// `a · b`.
    Multiply,
    /// `a / b` (0 where `b` is 0, as libvips).
    Divide,
    /// `a % b`.
    Remainder,
    /// `a` to the power `b`.
    Pow,
    /// `b` to the power `a` (libvips' wop).
    Wop,
    /// `atan2(a, b)` in degrees.
    Atan2,
    /// `a == b` (0/255).
    Equal,
    /// `a != b` (0/255).
    NotEqual,
    /// `a < b` (0/255).
    Less,
    /// `a <= b` (0/255).
    LessEq,
    /// `a > b` (0/255).
    More,
    /// `a >= b` (0/255).
    MoreEq,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise exclusive or.
    Eor,
    /// `a << b`.
    Lshift,
    /// `a >> b`.
    Rshift,
}

/// `op` between `a` and `b`, pixel by pixel, with libvips' format and band
/// rules.
pub fn binary(op: BinaryOp, a: &Image, b: &Image) -> Image {
    let _ = (op, b);
    Image::from_error("binary", Error::invalid("binary", "not written yet"), vec![a.clone()])
}

/// Where `cond` is non-zero, `in1`, else `in2` (per band; `blend` mixes by
/// `cond / 255`), with libvips' format and band rules.
pub fn ifthenelse(cond: &Image, in1: &Image, in2: &Image, blend: bool) -> Image {
    let _ = (in1, in2, blend);
    Image::from_error("ifthenelse", Error::invalid("ifthenelse", "not written yet"), vec![cond.clone()])
}
