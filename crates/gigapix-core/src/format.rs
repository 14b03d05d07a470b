//! Band formats, interpretations and the sealed [`Sample`] trait kernels are
//! generic over.

use std::fmt;
use std::str::FromStr;

/// The numeric type of one band element.
///
/// Exhaustive on purpose: kernels match on it through
/// [`dispatch_format!`](crate::dispatch_format).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BandFormat {
    /// Unsigned 8-bit.
    U8,
    /// Unsigned 16-bit.
    U16,
    /// Unsigned 32-bit.
    U32,
    /// 32-bit IEEE float.
    F32,
    /// Signed 8-bit.
    I8,
    /// Signed 16-bit.
    I16,
    /// Signed 32-bit.
    I32,
    /// 64-bit IEEE float.
    F64,
}

impl BandFormat {
    /// Every format, unsigned and signed integers by size, then floats.
    pub const ALL: [BandFormat; 8] = [
        BandFormat::U8,
        BandFormat::I8,
        BandFormat::U16,
        BandFormat::I16,
        BandFormat::U32,
        BandFormat::I32,
        BandFormat::F32,
        BandFormat::F64,
    ];

    /// Bytes per band element.
    pub const fn size(self) -> usize {
        match self {
            BandFormat::U8 | BandFormat::I8 => 1,
            BandFormat::U16 | BandFormat::I16 => 2,
            BandFormat::U32 | BandFormat::I32 | BandFormat::F32 => 4,
            BandFormat::F64 => 8,
        }
    }

    /// `true` for integer formats.
    pub const fn is_integer(self) -> bool {
        !self.is_float()
    }

    /// `true` for `f32` and `f64`.
    pub const fn is_float(self) -> bool {
        matches!(self, BandFormat::F32 | BandFormat::F64)
    }

    /// `true` for the signed integer formats and the floats.
    pub const fn is_signed(self) -> bool {
        !matches!(self, BandFormat::U8 | BandFormat::U16 | BandFormat::U32)
    }

    /// The smallest value of an integer format; 0.0 for float (the nominal
    /// black of float images).
    pub const fn min_value(self) -> f64 {
        match self {
            BandFormat::I8 => -128.0,
            BandFormat::I16 => -32768.0,
            BandFormat::I32 => -2147483648.0,
            _ => 0.0,
        }
    }

    /// The largest value of an integer format; 1.0 for float (the nominal
    /// white of float images).
    pub const fn max_value(self) -> f64 {
        match self {
            BandFormat::U8 => 255.0,
            BandFormat::U16 => 65535.0,
            BandFormat::U32 => 4294967295.0,
            BandFormat::I8 => 127.0,
            BandFormat::I16 => 32767.0,
            BandFormat::I32 => 2147483647.0,
            BandFormat::F32 | BandFormat::F64 => 1.0,
        }
    }

    /// The smallest format that holds every value of both `a` and `b`,
    /// as libvips' `vips_format_common`: a float if either is (`f64` if
    /// either is `f64`), else the larger integer, signed if either is
    /// (`u8` and `i8` give `i16`; `u32` and any signed give `i32`).
    pub const fn common(a: BandFormat, b: BandFormat) -> BandFormat {
        use BandFormat::*;
        match (a, b) {
            (F64, _) | (_, F64) => F64,
            (F32, _) | (_, F32) => F32,
            _ if a.is_signed() == b.is_signed() => {
                if a.size() >= b.size() {
                    a
                } else {
                    b
                }
            }
            _ => {
                // One signed, one unsigned: a signed format wider than the
                // unsigned one (capped at i32, as libvips does).
                let (u, s) = if a.is_signed() { (b, a) } else { (a, b) };
                match u {
                    U8 if s.size() <= 2 => I16,
                    U8 | U16 | U32 => I32,
                    _ => s,
                }
            }
        }
    }

    /// The short name used on the command line and in file headers.
    pub const fn name(self) -> &'static str {
        match self {
            BandFormat::U8 => "u8",
            BandFormat::U16 => "u16",
            BandFormat::U32 => "u32",
            BandFormat::F32 => "f32",
            BandFormat::I8 => "i8",
            BandFormat::I16 => "i16",
            BandFormat::I32 => "i32",
            BandFormat::F64 => "f64",
        }
    }

    /// A stable numeric code (used by the raw file format).
    pub const fn code(self) -> u8 {
        match self {
            BandFormat::U8 => 0,
            BandFormat::U16 => 1,
            BandFormat::U32 => 2,
            BandFormat::F32 => 3,
            BandFormat::I8 => 4,
            BandFormat::I16 => 5,
            BandFormat::I32 => 6,
            BandFormat::F64 => 7,
        }
    }

    /// The format with numeric code `code`.
    pub const fn from_code(code: u8) -> Option<BandFormat> {
        match code {
            0 => Some(BandFormat::U8),
            1 => Some(BandFormat::U16),
            2 => Some(BandFormat::U32),
            3 => Some(BandFormat::F32),
            4 => Some(BandFormat::I8),
            5 => Some(BandFormat::I16),
            6 => Some(BandFormat::I32),
            7 => Some(BandFormat::F64),
            _ => None,
        }
    }
}

impl BandFormat {
    /// Packed native-endian samples of this format, as `f64` (exact for
    /// every format).
    ///
    /// ```
    /// use gigapix_core::BandFormat;
    /// let bytes: Vec<u8> = [-2i16, 300].iter().flat_map(|v| v.to_ne_bytes()).collect();
    /// assert_eq!(BandFormat::I16.samples_to_f64(&bytes), [-2.0, 300.0]);
    /// ```
    pub fn samples_to_f64(self, bytes: &[u8]) -> Vec<f64> {
        crate::dispatch_format!(self, T => {
            bytes
                .chunks_exact(self.size())
                .map(|b| bytemuck::pod_read_unaligned::<T>(b).to_f64())
                .collect()
        })
    }
}

impl fmt::Display for BandFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BandFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "u8" | "uchar" => Ok(BandFormat::U8),
            "u16" | "ushort" => Ok(BandFormat::U16),
            "u32" | "uint" => Ok(BandFormat::U32),
            "f32" | "float" => Ok(BandFormat::F32),
            "i8" | "char" => Ok(BandFormat::I8),
            "i16" | "short" => Ok(BandFormat::I16),
            "i32" | "int" => Ok(BandFormat::I32),
            "f64" | "double" => Ok(BandFormat::F64),
            _ => Err(format!(
                "unknown band format `{s}` (expected u8, i8, u16, i16, u32, i32, f32 or f64)"
            )),
        }
    }
}

/// How the bands of an image are meant to be seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Interpretation {
    /// Bands with no particular meaning.
    Multiband,
    /// Greyscale (one band, maybe plus alpha).
    Grey,
    /// sRGB colour (three bands, maybe plus alpha).
    Srgb,
    /// Pixel coordinates (as made by `xyz`).
    Coordinates,
    /// A histogram (one row, a column per bin).
    Histogram,
    /// Linear-light RGB with sRGB primaries (libvips' scRGB): sample values
    /// proportional to light intensity, 0..1 for `F32`, the full range of
    /// the format for integers.
    Scrgb,
    /// Subtractive CMYK ink coverage (four bands, maybe plus alpha): 0 no
    /// ink, the format's maximum full ink (as TIFF and libvips store it).
    Cmyk,
    /// CIE L\*a\*b\* (D65 as libvips): `F32` L 0..100, a and b about
    /// -128..127.
    Lab,
    /// CIE LCh(ab): `F32` L 0..100, C from 0, h in degrees 0..360.
    Lch,
    /// CIE XYZ (D65), `F32`, Y 0..1 for the white point.
    Xyz,
    /// Hue, saturation, value, in the range of the format (libvips' HSV).
    Hsv,
}

impl Interpretation {
    /// The usual interpretation of an image with `bands` bands.
    pub const fn guess(bands: u32) -> Interpretation {
        match bands {
            1 | 2 => Interpretation::Grey,
            3 | 4 => Interpretation::Srgb,
            _ => Interpretation::Multiband,
        }
    }

    /// The short name used on the command line and in file headers.
    pub const fn name(self) -> &'static str {
        match self {
            Interpretation::Multiband => "multiband",
            Interpretation::Grey => "grey",
            Interpretation::Srgb => "srgb",
            Interpretation::Coordinates => "coordinates",
            Interpretation::Histogram => "histogram",
            Interpretation::Scrgb => "scrgb",
            Interpretation::Cmyk => "cmyk",
            Interpretation::Lab => "lab",
            Interpretation::Lch => "lch",
            Interpretation::Xyz => "xyz",
            Interpretation::Hsv => "hsv",
        }
    }

    /// A stable numeric code (used by the raw file format).
    pub const fn code(self) -> u8 {
        match self {
            Interpretation::Multiband => 0,
            Interpretation::Grey => 1,
            Interpretation::Srgb => 2,
            Interpretation::Coordinates => 3,
            Interpretation::Histogram => 4,
            Interpretation::Scrgb => 5,
            Interpretation::Cmyk => 6,
            Interpretation::Lab => 7,
            Interpretation::Lch => 8,
            Interpretation::Xyz => 9,
            Interpretation::Hsv => 10,
        }
    }

    /// The interpretation with numeric code `code`.
    pub const fn from_code(code: u8) -> Option<Interpretation> {
        match code {
            0 => Some(Interpretation::Multiband),
            1 => Some(Interpretation::Grey),
            2 => Some(Interpretation::Srgb),
            3 => Some(Interpretation::Coordinates),
            4 => Some(Interpretation::Histogram),
            5 => Some(Interpretation::Scrgb),
            6 => Some(Interpretation::Cmyk),
            7 => Some(Interpretation::Lab),
            8 => Some(Interpretation::Lch),
            9 => Some(Interpretation::Xyz),
            10 => Some(Interpretation::Hsv),
            _ => None,
        }
    }
}

impl fmt::Display for Interpretation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
    impl Sealed for f32 {}
    impl Sealed for i8 {}
    impl Sealed for i16 {}
    impl Sealed for i32 {}
    impl Sealed for f64 {}
}

/// A band element type: `u8`, `i8`, `u16`, `i16`, `u32`, `i32`, `f32` or
/// `f64`. Sealed.
///
/// Kernels are written once, generic over `Sample`, and instantiated per
/// format by [`dispatch_format!`](crate::dispatch_format).
pub trait Sample:
    sealed::Sealed + bytemuck::Pod + Copy + Default + PartialOrd + Send + Sync + fmt::Debug + 'static
{
    /// The runtime format of this type.
    const FORMAT: BandFormat;
    /// The smallest value.
    const MIN: Self;
    /// The largest value.
    const MAX: Self;
    /// Exact conversion to `f64`.
    fn to_f64(self) -> f64;
    /// Conversion from `f64`: integers round to nearest (halves away from
    /// zero) and clamp to the type's range (NaN becomes 0); floats convert.
    fn from_f64(v: f64) -> Self;
}

macro_rules! int_sample {
    ($t:ty, $f:expr) => {
        impl Sample for $t {
            const FORMAT: BandFormat = $f;
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                // `as` saturates and maps NaN to 0.
                v.round() as $t
            }
        }
    };
}
int_sample!(u8, BandFormat::U8);
int_sample!(u16, BandFormat::U16);
int_sample!(u32, BandFormat::U32);
int_sample!(i8, BandFormat::I8);
int_sample!(i16, BandFormat::I16);
int_sample!(i32, BandFormat::I32);

impl Sample for f32 {
    const FORMAT: BandFormat = BandFormat::F32;
    const MIN: Self = f32::MIN;
    const MAX: Self = f32::MAX;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Sample for f64 {
    const FORMAT: BandFormat = BandFormat::F64;
    const MIN: Self = f64::MIN;
    const MAX: Self = f64::MAX;
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// Runs a generic body once per runtime [`BandFormat`], with a type alias
/// naming the matching [`Sample`] type.
///
/// ```
/// use gigapix_core::{dispatch_format, BandFormat, Sample};
/// fn max_of(format: BandFormat) -> f64 {
///     dispatch_format!(format, T => <T as Sample>::MAX.to_f64())
/// }
/// assert_eq!(max_of(BandFormat::U8), 255.0);
/// ```
#[macro_export]
macro_rules! dispatch_format {
    ($format:expr, $t:ident => $body:expr) => {
        match $format {
            $crate::BandFormat::U8 => {
                type $t = u8;
                $body
            }
            $crate::BandFormat::U16 => {
                type $t = u16;
                $body
            }
            $crate::BandFormat::U32 => {
                type $t = u32;
                $body
            }
            $crate::BandFormat::F32 => {
                type $t = f32;
                $body
            }
            $crate::BandFormat::I8 => {
                type $t = i8;
                $body
            }
            $crate::BandFormat::I16 => {
                type $t = i16;
                $body
            }
            $crate::BandFormat::I32 => {
                type $t = i32;
                $body
            }
            $crate::BandFormat::F64 => {
                type $t = f64;
                $body
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_f64_rounds_and_clamps() {
        assert_eq!(u8::from_f64(-3.0), 0);
        assert_eq!(u8::from_f64(255.6), 255);
        assert_eq!(u8::from_f64(2.5), 3);
        assert_eq!(u8::from_f64(f64::NAN), 0);
        assert_eq!(u16::from_f64(70000.0), 65535);
        assert_eq!(f32::from_f64(-1.5), -1.5);
        assert_eq!(i8::from_f64(-200.0), -128);
        assert_eq!(i16::from_f64(-2.5), -3);
        assert_eq!(i32::from_f64(3e10), i32::MAX);
        use BandFormat::*;
        for (a, b, c) in [
            (U8, U8, U8),
            (U8, I8, I16),
            (U16, I8, I32),
            (U8, I16, I16),
            (U32, I8, I32),
            (U16, U32, U32),
            (I8, I32, I32),
            (U8, F32, F32),
            (F32, F64, F64),
            (I16, U16, I32),
        ] {
            assert_eq!(BandFormat::common(a, b), c, "{a} {b}");
            assert_eq!(BandFormat::common(b, a), c, "{b} {a}");
        }
        for f in BandFormat::ALL {
            assert_eq!(BandFormat::from_code(f.code()), Some(f));
            assert_eq!(f.name().parse::<BandFormat>().unwrap(), f);
        }
    }
}
