//! Facade methods of the point family: arithmetic, relational, boolean and
//! math operations, and `ifthenelse`.
//!
//! The second operand of a two-operand method is anything that is
//! [`IntoOperand`]: an `&Image` (same size; two-image node) or constants
//! (`f64`, `&[f64]`, `Vec<f64>`, `[f64; N]`; one for every band or one per
//! band; fused into the chain of point operations before it). `&Image`
//! also implements the arithmetic and bitwise operators of `std::ops`.
//!
//! ```
//! use gigapix::Image;
//!
//! let a = Image::noise(16, 8, 3, 1);
//! let b = Image::noise(16, 8, 3, 2);
//! let diff = (&a - 10.0).abs();
//! let mask = diff.more(100.0).ifthenelse(255.0, 0.0);
//! assert_eq!(mask.format(), gigapix::BandFormat::U8);
//! let _both = &(&a + &b) * 0.5;
//! ```

use std::ops;

pub use gigapix_ops::arith::{
    BoolOp, ClampOptions, IfThenElseOptions, Math2Op, MathOp, RelOp, RoundOp,
};

use crate::Image;

/// The second operand of an operation: an image or constants.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a> {
    /// An image of the same size as the first operand.
    Image(&'a Image),
    /// One constant for every band, or one per band.
    Const(&'a [f64]),
}

/// Anything usable as the second operand: `&Image`, `f64`, `&[f64]`,
/// `Vec<f64>`, `[f64; N]` (and references to them), or an [`Operand`].
pub trait IntoOperand {
    /// The operand as the ops crate takes it.
    fn into_operand(self) -> gigapix_core::desc::Operand;
}

impl IntoOperand for Operand<'_> {
    fn into_operand(self) -> gigapix_core::desc::Operand {
        match self {
            Operand::Image(i) => gigapix_core::desc::Operand::Image(i.0.clone()),
            Operand::Const(c) => gigapix_core::desc::Operand::Const(c.to_vec()),
        }
    }
}

impl IntoOperand for &Image {
    fn into_operand(self) -> gigapix_core::desc::Operand {
        gigapix_core::desc::Operand::Image(self.0.clone())
    }
}

impl IntoOperand for f64 {
    fn into_operand(self) -> gigapix_core::desc::Operand {
        gigapix_core::desc::Operand::Const(vec![self])
    }
}

impl IntoOperand for &[f64] {
    fn into_operand(self) -> gigapix_core::desc::Operand {
        gigapix_core::desc::Operand::Const(self.to_vec())
    }
}

impl IntoOperand for Vec<f64> {
    fn into_operand(self) -> gigapix_core::desc::Operand {
        gigapix_core::desc::Operand::Const(self)
    }
}

impl IntoOperand for &Vec<f64> {
    fn into_operand(self) -> gigapix_core::desc::Operand {
        gigapix_core::desc::Operand::Const(self.clone())
    }
}

impl<const N: usize> IntoOperand for [f64; N] {
    fn into_operand(self) -> gigapix_core::desc::Operand {
        gigapix_core::desc::Operand::Const(self.to_vec())
    }
}

impl<const N: usize> IntoOperand for &[f64; N] {
    fn into_operand(self) -> gigapix_core::desc::Operand {
        gigapix_core::desc::Operand::Const(self.to_vec())
    }
}

use gigapix_ops::arith as ar;

impl Image {
    /// `self + right`. Two images: common format and bands, then libvips'
    /// table (u8→u16, i8→i16, u16→u32, i16→i32, others kept). Constants:
    /// libvips' `linear(1, c)`, `f32` (`f64` kept), as pyvips' `x + c`.
    pub fn add(&self, right: impl IntoOperand) -> Image {
        Image(ar::add(&self.0, &right.into_operand()))
    }

    /// `self − right` (two images: u8→i16, u16→i32, u32→i32, ...;
    /// constants: `f32`).
    pub fn subtract(&self, right: impl IntoOperand) -> Image {
        Image(ar::subtract(&self.0, &right.into_operand()))
    }

    /// `self · right` (formats as [`add`](Image::add)).
    pub fn multiply(&self, right: impl IntoOperand) -> Image {
        Image(ar::multiply(&self.0, &right.into_operand()))
    }

    /// `self / right`, 0 where `right` is 0: `f32` (`f64` kept).
    pub fn divide(&self, right: impl IntoOperand) -> Image {
        Image(ar::divide(&self.0, &right.into_operand()))
    }

    /// `self % right`, format kept (libvips' `remainder`).
    pub fn remainder(&self, right: impl IntoOperand) -> Image {
        Image(ar::remainder(&self.0, &right.into_operand()))
    }

    /// `|x|`, format kept.
    pub fn abs(&self) -> Image {
        Image(ar::abs(&self.0))
    }

    /// −1, 0 or 1 per value, as `i8`.
    pub fn sign(&self) -> Image {
        Image(ar::sign(&self.0))
    }

    /// Rounds float values to the nearest integer, halves to even (libvips'
    /// `round` with `rint`); format kept.
    pub fn round(&self) -> Image {
        Image(ar::round(&self.0, RoundOp::Rint))
    }

    /// Rounds float values down; format kept.
    pub fn floor(&self) -> Image {
        Image(ar::round(&self.0, RoundOp::Floor))
    }

    /// Rounds float values up; format kept.
    pub fn ceil(&self) -> Image {
        Image(ar::round(&self.0, RoundOp::Ceil))
    }

    /// Values clamped to 0..=1 (libvips' defaults); see
    /// [`clamp_with`](Image::clamp_with).
    pub fn clamp(&self) -> Image {
        Image(ar::clamp(&self.0))
    }

    /// Values clamped to `options.min..=options.max`, format kept.
    pub fn clamp_with(&self, options: &ClampOptions) -> Image {
        Image(ar::clamp_with(&self.0, options))
    }

    /// A math function of each value (angles in degrees): `f32` (`f64`
    /// kept).
    pub fn math(&self, op: MathOp) -> Image {
        Image(ar::math(&self.0, op))
    }

    /// `pow`, `wop` or `atan2` with an image or constants: `f32` (`f64`
    /// kept).
    pub fn math2(&self, op: Math2Op, right: impl IntoOperand) -> Image {
        Image(ar::math2(op, &self.0, &right.into_operand()))
    }

    /// `self` to the power `right`.
    pub fn pow(&self, right: impl IntoOperand) -> Image {
        self.math2(Math2Op::Pow, right)
    }

    /// A comparison with an image or constants: `u8`, 255 where it holds.
    pub fn relational(&self, op: RelOp, right: impl IntoOperand) -> Image {
        Image(ar::relational(op, &self.0, &right.into_operand()))
    }

    /// 255 where `self == right`, else 0.
    pub fn equal(&self, right: impl IntoOperand) -> Image {
        self.relational(RelOp::Equal, right)
    }

    /// 255 where `self != right`, else 0.
    pub fn notequal(&self, right: impl IntoOperand) -> Image {
        self.relational(RelOp::NotEqual, right)
    }

    /// 255 where `self < right`, else 0.
    pub fn less(&self, right: impl IntoOperand) -> Image {
        self.relational(RelOp::Less, right)
    }

    /// 255 where `self <= right`, else 0.
    pub fn lesseq(&self, right: impl IntoOperand) -> Image {
        self.relational(RelOp::LessEq, right)
    }

    /// 255 where `self > right`, else 0.
    pub fn more(&self, right: impl IntoOperand) -> Image {
        self.relational(RelOp::More, right)
    }

    /// 255 where `self >= right`, else 0.
    pub fn moreeq(&self, right: impl IntoOperand) -> Image {
        self.relational(RelOp::MoreEq, right)
    }

    /// A bitwise operation with an image or constants (integer formats
    /// kept; floats truncated to `i32`).
    pub fn boolean(&self, op: BoolOp, right: impl IntoOperand) -> Image {
        Image(ar::boolean(op, &self.0, &right.into_operand()))
    }

    /// Bitwise and.
    pub fn and(&self, right: impl IntoOperand) -> Image {
        self.boolean(BoolOp::And, right)
    }

    /// Bitwise or.
    pub fn or(&self, right: impl IntoOperand) -> Image {
        self.boolean(BoolOp::Or, right)
    }

    /// Bitwise exclusive or.
    pub fn eor(&self, right: impl IntoOperand) -> Image {
        self.boolean(BoolOp::Eor, right)
    }

    /// Bits shifted left.
    pub fn lshift(&self, right: impl IntoOperand) -> Image {
        self.boolean(BoolOp::Lshift, right)
    }

    /// Bits shifted right.
    pub fn rshift(&self, right: impl IntoOperand) -> Image {
        self.boolean(BoolOp::Rshift, right)
    }

    /// Bitwise not (`x ^ −1`, pyvips' `~x`).
    #[allow(clippy::should_implement_trait)]
    pub fn not(&self) -> Image {
        Image(ar::not(&self.0))
    }

    /// Where `self` (the condition) is non-zero, `in1`, else `in2`; see
    /// [`ifthenelse_with`](Image::ifthenelse_with).
    pub fn ifthenelse(&self, in1: impl IntoOperand, in2: impl IntoOperand) -> Image {
        self.ifthenelse_with(in1, in2, &IfThenElseOptions::default())
    }

    /// [`ifthenelse`](Image::ifthenelse) with options (`blend`).
    pub fn ifthenelse_with(
        &self,
        in1: impl IntoOperand,
        in2: impl IntoOperand,
        options: &IfThenElseOptions,
    ) -> Image {
        Image(ar::ifthenelse_with(
            &self.0,
            &in1.into_operand(),
            &in2.into_operand(),
            options,
        ))
    }
}

macro_rules! binop {
    ($tr:ident, $m:ident, $method:ident) => {
        impl ops::$tr<&Image> for &Image {
            type Output = Image;
            #[doc = concat!("[`Image::", stringify!($method), "`] of two images.")]
            fn $m(self, rhs: &Image) -> Image {
                self.$method(rhs)
            }
        }
        impl ops::$tr<f64> for &Image {
            type Output = Image;
            #[doc = concat!("[`Image::", stringify!($method), "`] with a constant.")]
            fn $m(self, rhs: f64) -> Image {
                self.$method(rhs)
            }
        }
        impl ops::$tr<&[f64]> for &Image {
            type Output = Image;
            #[doc = concat!("[`Image::", stringify!($method), "`] with constants.")]
            fn $m(self, rhs: &[f64]) -> Image {
                self.$method(rhs)
            }
        }
    };
}

binop!(Add, add, add);
binop!(Sub, sub, subtract);
binop!(Mul, mul, multiply);
binop!(Div, div, divide);
binop!(Rem, rem, remainder);
binop!(BitAnd, bitand, and);
binop!(BitOr, bitor, or);
binop!(BitXor, bitxor, eor);
binop!(Shl, shl, lshift);
binop!(Shr, shr, rshift);

impl ops::Not for &Image {
    type Output = Image;
    /// [`Image::not`].
    fn not(self) -> Image {
        Image::not(self)
    }
}

impl ops::Neg for &Image {
    type Output = Image;
    /// `−x` (libvips' `linear(−1, 0)` as pyvips: `f32`, `f64` kept).
    fn neg(self) -> Image {
        self.multiply(-1.0)
    }
}
