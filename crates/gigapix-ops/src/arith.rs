//! Arithmetic, relational, boolean and math operations, and `ifthenelse`,
//! with libvips 8.18's semantics: its format promotion, rounding, 0/255
//! masks and degrees.
//!
//! Each operation takes an image and a second operand, an image or
//! constants ([`Operand`]). With constants (one for every band, or one per
//! band; a one-band image with `n` constants gives `n` bands) the
//! operation is a [`Stage`] of a fused [`PointChain`](crate::point::PointChain):
//! a chain such as `subtract 10 : multiply 1.2 : more 128 : ifthenelse 255 0`
//! is one node, computed through one lookup table for `u8` and `u16`
//! images. With an image the two-image node of [`crate::binary`] computes
//! it.
//!
//! With constants the formats follow libvips' bindings (pyvips): `add`,
//! `subtract`, `multiply` and `divide` are libvips' `linear`, whose result
//! is `f32` (`f64` stays `f64`); `remainder` keeps the format; comparisons
//! give `u8`; boolean operations keep integer formats and give `i32` for
//! floats; `math2` gives `f32` (`f64`).

use gigapix_core::desc::Operand;
use gigapix_core::{Error, Image};

use crate::binary::{self, BinaryOp};
use crate::catalogue::prelude::*;
use crate::point::{Stage, push_stage};

/// An arithmetic operation with constants (see [`Stage::Arith`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArithOp {
    /// `x + c`.
    Add,
    /// `x − c`.
    Subtract,
    /// `x · c`.
    Multiply,
    /// `x / c` (0 where `c` is 0).
    Divide,
}

impl ArithOp {
    /// The operation's name.
    pub fn name(self) -> &'static str {
        match self {
            ArithOp::Add => "add",
            ArithOp::Subtract => "subtract",
            ArithOp::Multiply => "multiply",
            ArithOp::Divide => "divide",
        }
    }
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RelOp {
    /// `==`.
    Equal,
    /// `!=` (true with NaN).
    NotEqual,
    /// `<`.
    Less,
    /// `<=`.
    LessEq,
    /// `>`.
    More,
    /// `>=`.
    MoreEq,
}

impl RelOp {
    /// The operation's name.
    pub fn name(self) -> &'static str {
        match self {
            RelOp::Equal => "equal",
            RelOp::NotEqual => "notequal",
            RelOp::Less => "less",
            RelOp::LessEq => "lesseq",
            RelOp::More => "more",
            RelOp::MoreEq => "moreeq",
        }
    }

    fn binary(self) -> BinaryOp {
        match self {
            RelOp::Equal => BinaryOp::Equal,
            RelOp::NotEqual => BinaryOp::NotEqual,
            RelOp::Less => BinaryOp::Less,
            RelOp::LessEq => BinaryOp::LessEq,
            RelOp::More => BinaryOp::More,
            RelOp::MoreEq => BinaryOp::MoreEq,
        }
    }
}

/// A bitwise operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BoolOp {
    /// `&`.
    And,
    /// `|`.
    Or,
    /// `^`.
    Eor,
    /// `<<`.
    Lshift,
    /// `>>`.
    Rshift,
}

impl BoolOp {
    /// The operation's name.
    pub fn name(self) -> &'static str {
        match self {
            BoolOp::And => "and",
            BoolOp::Or => "or",
            BoolOp::Eor => "eor",
            BoolOp::Lshift => "lshift",
            BoolOp::Rshift => "rshift",
        }
    }

    fn binary(self) -> BinaryOp {
        match self {
            BoolOp::And => BinaryOp::And,
            BoolOp::Or => BinaryOp::Or,
            BoolOp::Eor => BinaryOp::Eor,
            BoolOp::Lshift => BinaryOp::Lshift,
            BoolOp::Rshift => BinaryOp::Rshift,
        }
    }
}

/// A function of two values (libvips' `math2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Math2Op {
    /// `x` to the power `c`.
    Pow,
    /// `c` to the power `x`.
    Wop,
    /// `atan2(x, c)` in degrees, 0 to 360.
    Atan2,
}

impl Math2Op {
    const NAMES: &'static [&'static str] = &["pow", "wop", "atan2"];

    fn parse(s: &str) -> Math2Op {
        match s {
            "wop" => Math2Op::Wop,
            "atan2" => Math2Op::Atan2,
            _ => Math2Op::Pow,
        }
    }

    fn binary(self) -> BinaryOp {
        match self {
            Math2Op::Pow => BinaryOp::Pow,
            Math2Op::Wop => BinaryOp::Wop,
            Math2Op::Atan2 => BinaryOp::Atan2,
        }
    }
}

/// A function of one value (libvips' `math`); angles in degrees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MathOp {
    /// Sine of degrees.
    Sin,
    /// Cosine of degrees.
    Cos,
    /// Tangent of degrees.
    Tan,
    /// Arc sine, in degrees.
    Asin,
    /// Arc cosine, in degrees.
    Acos,
    /// Arc tangent, in degrees.
    Atan,
    /// Hyperbolic sine.
    Sinh,
    /// Hyperbolic cosine.
    Cosh,
    /// Hyperbolic tangent.
    Tanh,
    /// Inverse hyperbolic sine.
    Asinh,
    /// Inverse hyperbolic cosine.
    Acosh,
    /// Inverse hyperbolic tangent.
    Atanh,
    /// Natural logarithm (0 at 0, as libvips).
    Log,
    /// Base-10 logarithm (0 at 0).
    Log10,
    /// `e` to the power x.
    Exp,
    /// 10 to the power x.
    Exp10,
}

impl MathOp {
    const ALL: [MathOp; 16] = [
        MathOp::Sin,
        MathOp::Cos,
        MathOp::Tan,
        MathOp::Asin,
        MathOp::Acos,
        MathOp::Atan,
        MathOp::Sinh,
        MathOp::Cosh,
        MathOp::Tanh,
        MathOp::Asinh,
        MathOp::Acosh,
        MathOp::Atanh,
        MathOp::Log,
        MathOp::Log10,
        MathOp::Exp,
        MathOp::Exp10,
    ];
    const NAMES: &'static [&'static str] = &[
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
        "atanh", "log", "log10", "exp", "exp10",
    ];

    fn parse(s: &str) -> MathOp {
        let i = MathOp::NAMES.iter().position(|n| *n == s).unwrap_or(0);
        MathOp::ALL[i]
    }
}

/// How [`round`] rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RoundOp {
    /// To nearest, halves to even (`rint`).
    Rint,
    /// Down.
    Floor,
    /// Up.
    Ceil,
}

impl RoundOp {
    /// The operation's name.
    pub fn name(self) -> &'static str {
        match self {
            RoundOp::Rint => "round",
            RoundOp::Floor => "floor",
            RoundOp::Ceil => "ceil",
        }
    }
}

/// Options of [`clamp_with`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ClampOptions {
    /// Smallest value (default 0, as libvips).
    pub min: f64,
    /// Largest value (default 1, as libvips).
    pub max: f64,
}

impl Default for ClampOptions {
    fn default() -> ClampOptions {
        ClampOptions { min: 0.0, max: 1.0 }
    }
}

impl ClampOptions {
    /// Sets the smallest value.
    pub fn min(mut self, min: f64) -> ClampOptions {
        self.min = min;
        self
    }

    /// Sets the largest value.
    pub fn max(mut self, max: f64) -> ClampOptions {
        self.max = max;
        self
    }
}

/// Options of [`ifthenelse_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IfThenElseOptions {
    /// Blend by `condition / 255` instead of selecting (default `false`).
    pub blend: bool,
}

impl IfThenElseOptions {
    /// Sets blending.
    pub fn blend(mut self, blend: bool) -> IfThenElseOptions {
        self.blend = blend;
        self
    }
}

/// `img` with `n` bands when it has one band and `n` constants ask for more
/// (libvips' bandup), else `img`.
fn bandup(img: &Image, n: usize) -> Image {
    if img.bands() == 1 && n > 1 {
        crate::bands::bandjoin(&vec![img.clone(); n])
    } else {
        img.clone()
    }
}

/// `stage` with constants `c` on `img`, after a bandup if needed.
fn with_const(img: &Image, name: &'static str, c: &[f64], stage: Stage) -> Image {
    if c.is_empty() {
        return Image::from_error(
            name,
            Error::invalid(name, "needs at least one constant"),
            vec![img.clone()],
        );
    }
    push_stage(&bandup(img, c.len()), stage)
}

fn arith(op: ArithOp, img: &Image, right: &Operand) -> Image {
    match right {
        Operand::Image(r) => {
            let b = match op {
                ArithOp::Add => BinaryOp::Add,
                ArithOp::Subtract => BinaryOp::Subtract,
                ArithOp::Multiply => BinaryOp::Multiply,
                ArithOp::Divide => BinaryOp::Divide,
            };
            binary::binary(b, img, r)
        }
        Operand::Const(c) => with_const(img, op.name(), c, Stage::Arith { op, c: c.clone() }),
    }
}

/// `left + right`: two images (libvips' format table: u8→u16, i8→i16,
/// u16→u32, i16→i32, u32, i32, f32, f64 kept, after a common format), or
/// constants (libvips' `linear(1, c)`: `f32`, `f64` kept).
pub fn add(left: &Image, right: &Operand) -> Image {
    arith(ArithOp::Add, left, right)
}

/// `left − right`: two images (u8→i16, i8→i16, u16→i32, i16→i32,
/// u32→i32, i32, floats kept), or constants (`linear(1, −c)`: `f32`).
pub fn subtract(left: &Image, right: &Operand) -> Image {
    arith(ArithOp::Subtract, left, right)
}

/// `left · right`: two images (formats as [`add`]), or constants
/// (`linear(c, 0)`: `f32`).
pub fn multiply(left: &Image, right: &Operand) -> Image {
    arith(ArithOp::Multiply, left, right)
}

/// `left / right`, 0 where `right` is 0: `f32` (`f64` kept).
pub fn divide(left: &Image, right: &Operand) -> Image {
    arith(ArithOp::Divide, left, right)
}

/// `left % right`, format kept: C's `%` for integers (the sign of the
/// dividend), `x − y·floor(x / y)` for floats, −1 (stored in the format)
/// where `right` is 0. Constants are truncated to integers, as libvips.
pub fn remainder(left: &Image, right: &Operand) -> Image {
    match right {
        Operand::Image(r) => binary::binary(BinaryOp::Remainder, left, r),
        Operand::Const(c) => with_const(left, "remainder", c, Stage::Remainder(c.clone())),
    }
}

/// A comparison: `u8` 255 where it holds, else 0.
pub fn relational(op: RelOp, left: &Image, right: &Operand) -> Image {
    match right {
        Operand::Image(r) => binary::binary(op.binary(), left, r),
        Operand::Const(c) => with_const(left, op.name(), c, Stage::Relational { op, c: c.clone() }),
    }
}

/// A bitwise operation: integer formats kept, floats truncated to `i32`
/// first (constants too).
pub fn boolean(op: BoolOp, left: &Image, right: &Operand) -> Image {
    match right {
        Operand::Image(r) => binary::binary(op.binary(), left, r),
        Operand::Const(c) => with_const(left, op.name(), c, Stage::Boolean { op, c: c.clone() }),
    }
}

/// `pow`, `wop` or `atan2` of the image and `right`: `f32` (`f64` kept).
pub fn math2(op: Math2Op, left: &Image, right: &Operand) -> Image {
    match right {
        Operand::Image(r) => binary::binary(op.binary(), left, r),
        Operand::Const(c) => with_const(left, "math2", c, Stage::Math2 { op, c: c.clone() }),
    }
}

/// `|x|`, format kept (the smallest signed integer stays itself, as in
/// libvips' C); unsigned images are returned as they are.
pub fn abs(img: &Image) -> Image {
    if img.check().is_ok() && !img.format().is_signed() {
        return img.clone();
    }
    push_stage(img, Stage::Abs)
}

/// −1, 0 or 1 as `i8` (NaN gives −1, as libvips).
pub fn sign(img: &Image) -> Image {
    push_stage(img, Stage::Sign)
}

/// Rounds float formats (`rint`: halves to even); integer images are
/// returned as they are.
pub fn round(img: &Image, how: RoundOp) -> Image {
    if img.check().is_ok() && img.format().is_integer() {
        return img.clone();
    }
    push_stage(img, Stage::Round(how))
}

/// A math function in `f64`, stored as `f32` (`f64` kept).
pub fn math(img: &Image, op: MathOp) -> Image {
    push_stage(img, Stage::Math(op))
}

/// Bitwise not, `x ^ −1` (pyvips' `~x`): integer formats kept, floats
/// truncated to `i32`.
pub fn not(img: &Image) -> Image {
    push_stage(img, Stage::Not)
}

/// Values clamped to 0..1 (libvips' defaults); see [`clamp_with`].
pub fn clamp(img: &Image) -> Image {
    clamp_with(img, &ClampOptions::default())
}

/// Values clamped to `min..=max`, format kept (integers truncate a
/// fractional bound, as libvips).
pub fn clamp_with(img: &Image, options: &ClampOptions) -> Image {
    push_stage(
        img,
        Stage::Clamp {
            min: options.min,
            max: options.max,
        },
    )
}

/// Where `cond` is true (non-zero after a cast to `u8`, per band), `in1`,
/// else `in2`; see [`ifthenelse_with`].
pub fn ifthenelse(cond: &Image, in1: &Operand, in2: &Operand) -> Image {
    ifthenelse_with(cond, in1, in2, &IfThenElseOptions::default())
}

/// [`ifthenelse`] with options. Constant branches take the format of the
/// first image among `in1`, `in2` and `cond` (pyvips), so
/// `cond.ifthenelse(255, 0)` on a `u8` condition is `u8`; with both
/// branches constant it is a fused [`Stage`].
pub fn ifthenelse_with(
    cond: &Image,
    in1: &Operand,
    in2: &Operand,
    options: &IfThenElseOptions,
) -> Image {
    let blend = options.blend;
    match (in1, in2) {
        (Operand::Const(a), Operand::Const(b)) => with_const(
            cond,
            "ifthenelse",
            if a.len() >= b.len() { a } else { b },
            Stage::IfThenElse {
                in1: a.clone(),
                in2: b.clone(),
                blend,
            },
        ),
        (Operand::Image(a), Operand::Image(b)) => binary::ifthenelse(cond, a, b, blend),
        (Operand::Image(a), Operand::Const(c)) => {
            binary::ifthenelse(cond, a, &const_image(a, c), blend)
        }
        (Operand::Const(c), Operand::Image(b)) => {
            binary::ifthenelse(cond, &const_image(b, c), b, blend)
        }
    }
}

/// An image like `like` (size, format) holding `c` (one band per value),
/// as pyvips' `new_from_image`: the constant goes through `f32`, then is
/// cast (truncated) to the format.
fn const_image(like: &Image, c: &[f64]) -> Image {
    let base = crate::create::black(like.width(), like.height(), 1);
    let base = bandup(&base, c.len());
    let f = like.format();
    let stage = Stage::Linear {
        a: vec![0.0],
        b: c.iter()
            .map(|&v| crate::point::branch_const(f, v))
            .collect(),
        format: Some(f),
    };
    push_stage(&base, stage)
}

/// The operations of this module, for the [catalogue](crate::catalogue).
pub static OPS: &[&OpDesc] = &[
    &ADD,
    &SUBTRACT,
    &MULTIPLY,
    &DIVIDE,
    &REMAINDER,
    &ABS,
    &SIGN,
    &ROUND,
    &FLOOR,
    &CEIL,
    &CLAMP,
    &MATH,
    &MATH2,
    &EQUAL,
    &NOTEQUAL,
    &LESS,
    &LESSEQ,
    &MORE,
    &MOREEQ,
    &AND,
    &OR,
    &EOR,
    &LSHIFT,
    &RSHIFT,
    &NOT,
    &IFTHENELSE,
];

const RIGHT: &[ArgDesc] = &[ArgDesc::required(
    "right",
    ArgType::ImageOrConst,
    "The second operand: an image of the same size (one band, or as many as the input), or constants (one, or one per band).",
)];

/// [`add`] in the catalogue.
pub static ADD: OpDesc = OpDesc::new(
    "add",
    Category::Arithmetic,
    "Adds an image or constants",
    RIGHT,
    |input, a| Ok(add(input_of(input)?, &a.operand("right")?)),
)
.doc("With an image: both are brought to a common format and bands (a one-band image broadcasts), then u8→u16, i8→i16, u16→u32, i16→i32, u32, i32 and floats kept, as libvips. With constants: libvips' linear(1, c), giving f32 (f64 kept), as pyvips' `x + c`. Chains of constant operations fuse into one pass.")
.example("10");

/// [`subtract`] in the catalogue.
pub static SUBTRACT: OpDesc = OpDesc::new(
    "subtract",
    Category::Arithmetic,
    "Subtracts an image or constants",
    RIGHT,
    |input, a| Ok(subtract(input_of(input)?, &a.operand("right")?)),
)
.doc("With an image: u8→i16, i8→i16, u16→i32, i16→i32, u32→i32, i32, floats kept (libvips). With constants: linear(1, −c), f32 (f64 kept), as pyvips' `x - c`.")
.example("10");

/// [`multiply`] in the catalogue.
pub static MULTIPLY: OpDesc = OpDesc::new(
    "multiply",
    Category::Arithmetic,
    "Multiplies by an image or constants",
    RIGHT,
    |input, a| Ok(multiply(input_of(input)?, &a.operand("right")?)),
)
.doc("With an image: formats as `add`. With constants: linear(c, 0), f32 (f64 kept).")
.example("1.2");

/// [`divide`] in the catalogue.
pub static DIVIDE: OpDesc = OpDesc::new(
    "divide",
    Category::Arithmetic,
    "Divides by an image or constants; x / 0 is 0",
    RIGHT,
    |input, a| Ok(divide(input_of(input)?, &a.operand("right")?)),
)
.doc("The result is f32 (f64 kept). With constants it is linear(1 / c, 0), as pyvips' `x / c`; a zero constant gives 0 like libvips' divide of images.")
.example("2");

/// [`remainder`] in the catalogue.
pub static REMAINDER: OpDesc = OpDesc::new(
    "remainder",
    Category::Arithmetic,
    "Remainder after division by an image or constants",
    RIGHT,
    |input, a| Ok(remainder(input_of(input)?, &a.operand("right")?)),
)
.doc("Format kept. Integers: C's `%` (the sign of the dividend); floats: x − y·floor(x / y). Where the divisor is 0 the result is −1 stored in the format (255 for u8), as libvips. Constants are truncated to integers first.")
.example("7");

/// [`abs`] in the catalogue.
pub static ABS: OpDesc = OpDesc::new(
    "abs",
    Category::Arithmetic,
    "Absolute value, format kept",
    &[],
    |input, _| Ok(abs(input_of(input)?)),
);

/// [`sign`] in the catalogue.
pub static SIGN: OpDesc = OpDesc::new(
    "sign",
    Category::Arithmetic,
    "−1, 0 or 1 per value, as i8",
    &[],
    |input, _| Ok(sign(input_of(input)?)),
);

/// [`round`] (rint) in the catalogue.
pub static ROUND: OpDesc = OpDesc::new(
    "round",
    Category::Arithmetic,
    "Rounds float values to the nearest integer, halves to even",
    &[],
    |input, _| Ok(round(input_of(input)?, RoundOp::Rint)),
)
.aliases(&["rint"])
.doc("libvips' round with round=rint: the format is kept; integer images are unchanged.");

/// [`round`] (floor) in the catalogue.
pub static FLOOR: OpDesc = OpDesc::new(
    "floor",
    Category::Arithmetic,
    "Rounds float values down",
    &[],
    |input, _| Ok(round(input_of(input)?, RoundOp::Floor)),
);

/// [`round`] (ceil) in the catalogue.
pub static CEIL: OpDesc = OpDesc::new(
    "ceil",
    Category::Arithmetic,
    "Rounds float values up",
    &[],
    |input, _| Ok(round(input_of(input)?, RoundOp::Ceil)),
);

/// [`clamp_with`] in the catalogue.
pub static CLAMP: OpDesc = OpDesc::new(
    "clamp",
    Category::Arithmetic,
    "Clamps values to min..max, format kept",
    &[
        ArgDesc::optional(
            "min",
            ArgType::float(f64::NEG_INFINITY, f64::INFINITY),
            "0",
            "Smallest value.",
        ),
        ArgDesc::optional(
            "max",
            ArgType::float(f64::NEG_INFINITY, f64::INFINITY),
            "1",
            "Largest value.",
        ),
    ],
    |input, a| {
        let o = ClampOptions::default()
            .min(a.float("min")?)
            .max(a.float("max")?);
        Ok(clamp_with(input_of(input)?, &o))
    },
)
.doc("libvips' defaults are 0 and 1. Integer images truncate a fractional bound.")
.example("max=200");

/// [`math`] in the catalogue.
pub static MATH: OpDesc = OpDesc::new(
    "math",
    Category::Arithmetic,
    "A math function of each value (angles in degrees)",
    &[ArgDesc::required("math", ArgType::Enum(MathOp::NAMES), "The function.")],
    |input, a| Ok(math(input_of(input)?, MathOp::parse(a.choice("math")?))),
)
.doc("Computed in f64 and stored as f32 (f64 kept). sin, cos and tan take degrees; asin, acos and atan give degrees; log and log10 of 0 are 0, as libvips.")
.example("sin");

/// [`math2`] in the catalogue.
pub static MATH2: OpDesc = OpDesc::new(
    "math2",
    Category::Arithmetic,
    "pow, wop or atan2 with an image or constants",
    &[
        ArgDesc::required(
            "math2",
            ArgType::Enum(Math2Op::NAMES),
            "pow: x^right; wop: right^x; atan2: atan2(x, right) in degrees 0..360.",
        ),
        ArgDesc::required(
            "right",
            ArgType::ImageOrConst,
            "The second operand: an image of the same size, or constants (one, or one per band).",
        ),
    ],
    |input, a| {
        Ok(math2(
            Math2Op::parse(a.choice("math2")?),
            input_of(input)?,
            &a.operand("right")?,
        ))
    },
)
.doc("f32 (f64 kept). As libvips, a zero base gives 0, a power of −1 is 1/x and 0.5 a square root.")
.example("pow 2");

macro_rules! rel_desc {
    ($stat:ident, $name:literal, $op:expr, $summary:literal) => {
        #[doc = concat!("`", $name, "` in the catalogue.")]
        pub static $stat: OpDesc = OpDesc::new(
            $name,
            Category::Relational,
            $summary,
            RIGHT,
            |input, a| Ok(relational($op, input_of(input)?, &a.operand("right")?)),
        )
        .doc("u8 255 where it holds, else 0. Two images are compared in their common format; constants in f64. Comparisons with NaN are false except notequal.")
        .example("128");
    };
}
rel_desc!(
    EQUAL,
    "equal",
    RelOp::Equal,
    "255 where equal to an image or constants"
);
rel_desc!(
    NOTEQUAL,
    "notequal",
    RelOp::NotEqual,
    "255 where not equal to an image or constants"
);
rel_desc!(
    LESS,
    "less",
    RelOp::Less,
    "255 where less than an image or constants"
);
rel_desc!(
    LESSEQ,
    "lesseq",
    RelOp::LessEq,
    "255 where less than or equal to an image or constants"
);
rel_desc!(
    MORE,
    "more",
    RelOp::More,
    "255 where more than an image or constants"
);
rel_desc!(
    MOREEQ,
    "moreeq",
    RelOp::MoreEq,
    "255 where more than or equal to an image or constants"
);

macro_rules! bool_desc {
    ($stat:ident, $name:literal, $op:expr, $summary:literal, $example:literal) => {
        #[doc = concat!("`", $name, "` in the catalogue.")]
        pub static $stat: OpDesc = OpDesc::new(
            $name,
            Category::Boolean,
            $summary,
            RIGHT,
            |input, a| Ok(boolean($op, input_of(input)?, &a.operand("right")?)),
        )
        .doc("Integer formats kept; floats are truncated to i32 first (result i32), and constants to integers, as libvips.")
        .example($example);
    };
}
bool_desc!(
    AND,
    "and",
    BoolOp::And,
    "Bitwise and with an image or constants",
    "240"
);
bool_desc!(
    OR,
    "or",
    BoolOp::Or,
    "Bitwise or with an image or constants",
    "15"
);
bool_desc!(
    EOR,
    "eor",
    BoolOp::Eor,
    "Bitwise exclusive or with an image or constants",
    "255"
);
bool_desc!(
    LSHIFT,
    "lshift",
    BoolOp::Lshift,
    "Shifts bits left by an image or constants",
    "1"
);
bool_desc!(
    RSHIFT,
    "rshift",
    BoolOp::Rshift,
    "Shifts bits right by an image or constants",
    "2"
);

/// [`not`] in the catalogue.
pub static NOT: OpDesc = OpDesc::new(
    "not",
    Category::Boolean,
    "Bitwise not (x ^ −1)",
    &[],
    |input, _| Ok(not(input_of(input)?)),
)
.doc("pyvips' `~x`, libvips' eor with −1: integer formats kept (255 − x for u8), floats truncated to i32.");

/// [`ifthenelse_with`] in the catalogue.
pub static IFTHENELSE: OpDesc = OpDesc::new(
    "ifthenelse",
    Category::Boolean,
    "Where the input (the condition) is non-zero in1, else in2",
    &[
        ArgDesc::required("in1", ArgType::ImageOrConst, "Where the condition is true: an image of the same size, or constants."),
        ArgDesc::required("in2", ArgType::ImageOrConst, "Where the condition is false: an image of the same size, or constants."),
        ArgDesc::optional("blend", ArgType::Bool, "false", "Blend in1 and in2 by condition / 255 instead of selecting."),
    ],
    |input, a| {
        let o = IfThenElseOptions::default().blend(a.bool("blend")?);
        Ok(ifthenelse_with(input_of(input)?, &a.operand("in1")?, &a.operand("in2")?, &o))
    },
)
.doc("The condition is cast to u8 (truncating and clipping, as libvips) and tested per band (a one-band condition selects whole pixels). Constant branches take the format of the first image among in1, in2 and the condition, so `ifthenelse 255 0` on a u8 mask is u8; with both branches constant it fuses into the chain before it. Image branches are brought to a common format and bands.")
.example("255 0");
