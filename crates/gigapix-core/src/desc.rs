//! Typed argument descriptors: the one description of every operation
//! argument and every file-format option.
//!
//! An [`ArgDesc`] names an argument, gives its [`ArgType`] (with its range
//! or its values), whether it is required, its default and its doc. The
//! operation catalogue of `gigapix-ops` and the format table of
//! `gigapix-io` are built from these, and the command line, its help, the
//! docs, the bracket options of file names (`out.jpg[Q=85]`) and the
//! language bindings all come from those tables, so each argument is
//! written once.
//!
//! [`Args::parse`] turns words (`10`, `kernel=linear`, `--kernel linear`)
//! into checked [`Value`]s; every error names the argument, its type and
//! its range.
//!
//! ```
//! use gigapix_core::desc::{ArgDesc, ArgType, Args};
//!
//! static ARGS: &[ArgDesc] = &[
//!     ArgDesc::required("sigma", ArgType::float(0.0, 1000.0), "Standard deviation."),
//!     ArgDesc::optional("min_ampl", ArgType::float(0.0, 1.0), "0.2", "Smallest mask value."),
//! ];
//! let open = |s: &str| -> gigapix_core::Result<gigapix_core::Image> { unreachable!("{s}") };
//! let args = Args::parse("gaussblur", ARGS, &["2.5"], &[("min-ampl", "0.1")], &open)?;
//! assert_eq!(args.float("sigma")?, 2.5);
//! assert_eq!(args.float("min_ampl")?, 0.1);
//!
//! let err = Args::parse("gaussblur", ARGS, &["-1"], &[], &open).unwrap_err();
//! assert_eq!(err.to_string(), "gaussblur: argument `sigma` (float, 0 to 1000): -1 is out of range");
//! # Ok::<(), gigapix_core::Error>(())
//! ```

use std::fmt::{self, Write as _};

use crate::{BandFormat, Error, ErrorKind, Image, Result};

/// The type of an argument, with its range or its values.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ArgType {
    /// A whole number in `min..=max`.
    Int {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
    },
    /// A number in `min..=max` (`inf` is accepted when `max` is infinite).
    Float {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
    },
    /// `true` or `false` (`1`/`0`, `yes`/`no`, `on`/`off`); a bare
    /// `--name` or `name` means `true`.
    Bool,
    /// One of a fixed set of names (case-insensitive); the first is the
    /// canonical spelling of the set's first value, and so on.
    Enum(&'static [&'static str]),
    /// A comma list of numbers (one value per band, or one for all bands).
    Numbers,
    /// A convolution mask: a libvips matrix file, or rows inline
    /// separated by `;` (`"-1 -1 -1; -1 16 -1; -1 -1 -1"`).
    Matrix,
    /// An image: a file, or a generator such as `noise:100x100x3`.
    Image,
    /// One or more images: the rest of the positional words.
    Images,
    /// An image, or a constant: a number or a comma list with one value
    /// per band (the second operand of arithmetic).
    ImageOrConst,
    /// A band format: `u8`, `i8`, `u16`, `i16`, `u32`, `i32`, `f32`, `f64`.
    Format,
    /// Free text (a path, a pattern).
    Text,
}

impl ArgType {
    /// An integer in `min..=max`.
    pub const fn int(min: i64, max: i64) -> ArgType {
        ArgType::Int { min, max }
    }

    /// A number in `min..=max`.
    pub const fn float(min: f64, max: f64) -> ArgType {
        ArgType::Float { min, max }
    }

    /// The short name of the type, as help texts show it.
    pub fn name(&self) -> &'static str {
        match self {
            ArgType::Int { .. } => "int",
            ArgType::Float { .. } => "float",
            ArgType::Bool => "bool",
            ArgType::Enum(_) => "enum",
            ArgType::Numbers => "numbers",
            ArgType::Matrix => "matrix",
            ArgType::Image => "image",
            ArgType::Images => "images",
            ArgType::ImageOrConst => "image|numbers",
            ArgType::Format => "format",
            ArgType::Text => "text",
        }
    }

    /// The range or the values, as help texts show them (`0 to 1000`,
    /// `nearest|linear|cubic`); empty when there is nothing to say.
    pub fn range(&self) -> String {
        match *self {
            ArgType::Int { min, max } => match (min, max) {
                (i64::MIN, i64::MAX) => String::new(),
                (min, i64::MAX) => format!("≥ {min}"),
                (min, max) => format!("{min} to {max}"),
            },
            ArgType::Float { min, max } => match (min.is_finite(), max.is_finite()) {
                (false, false) => String::new(),
                (true, false) => format!("≥ {}", num(min)),
                (false, true) => format!("≤ {}", num(max)),
                (true, true) => format!("{} to {}", num(min), num(max)),
            },
            ArgType::Enum(values) => values.join("|"),
            ArgType::Format => "u8|i8|u16|i16|u32|i32|f32|f64".into(),
            ArgType::Bool => "true|false".into(),
            _ => String::new(),
        }
    }
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// One argument of an operation or option of a file format.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ArgDesc {
    /// Its name (`snake_case`; `-` is accepted for `_` when parsing).
    pub name: &'static str,
    /// Its type and range.
    pub ty: ArgType,
    /// Required arguments are given by position, in order; optional ones
    /// by name.
    pub required: bool,
    /// The default of an optional argument, as text; `None` when leaving
    /// it out means "not set" (the operation decides).
    pub default: Option<&'static str>,
    /// One or two sentences for help texts.
    pub doc: &'static str,
}

impl ArgDesc {
    /// A required, positional argument.
    pub const fn required(name: &'static str, ty: ArgType, doc: &'static str) -> ArgDesc {
        ArgDesc {
            name,
            ty,
            required: true,
            default: None,
            doc,
        }
    }

    /// An optional argument with a default.
    pub const fn optional(
        name: &'static str,
        ty: ArgType,
        default: &'static str,
        doc: &'static str,
    ) -> ArgDesc {
        ArgDesc {
            name,
            ty,
            required: false,
            default: Some(default),
            doc,
        }
    }

    /// An optional argument with no default: left out, it is not set.
    pub const fn unset(name: &'static str, ty: ArgType, doc: &'static str) -> ArgDesc {
        ArgDesc {
            name,
            ty,
            required: false,
            default: None,
            doc,
        }
    }

    /// The argument's type and range in words, for errors: `float, 0 to
    /// 1000`.
    pub fn describe_type(&self) -> String {
        let range = self.ty.range();
        if range.is_empty() {
            self.ty.name().to_string()
        } else {
            format!("{}, {range}", self.ty.name())
        }
    }

    /// Parses `text` as this argument's value. `open` opens image
    /// arguments (files, generators).
    pub fn parse(
        &self,
        owner: &str,
        text: &str,
        open: &dyn Fn(&str) -> Result<Image>,
    ) -> Result<Value> {
        let bad = |why: String| -> Error {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "{owner}: argument `{}` ({}): {why}",
                    self.name,
                    self.describe_type()
                ),
            )
        };
        let t = text.trim();
        Ok(match self.ty {
            ArgType::Int { min, max } => {
                let v = t
                    .parse::<i64>()
                    .map_err(|_| bad(format!("`{t}` is not a whole number")))?;
                if v < min || v > max {
                    return Err(bad(format!("{v} is out of range")));
                }
                Value::Int(v)
            }
            ArgType::Float { min, max } => {
                let v = parse_float(t).ok_or_else(|| bad(format!("`{t}` is not a number")))?;
                if !(v >= min && v <= max) {
                    return Err(bad(format!("{} is out of range", num(v))));
                }
                Value::Float(v)
            }
            ArgType::Bool => Value::Bool(
                parse_bool(t).ok_or_else(|| bad(format!("`{t}` is not true or false")))?,
            ),
            ArgType::Enum(values) => {
                let v = values
                    .iter()
                    .find(|v| v.eq_ignore_ascii_case(t))
                    .ok_or_else(|| bad(format!("unknown value `{t}`")))?;
                Value::Enum(v)
            }
            ArgType::Numbers => Value::Numbers(
                parse_numbers(t)
                    .ok_or_else(|| bad(format!("`{t}` is not a comma list of numbers")))?,
            ),
            ArgType::Matrix | ArgType::Text => Value::Text(text.to_string()),
            ArgType::Format => Value::Format(t.parse::<BandFormat>().map_err(bad)?),
            ArgType::Image => Value::Image(open(text).map_err(|e| bad(e.to_string()))?),
            ArgType::Images => Value::Images(vec![open(text).map_err(|e| bad(e.to_string()))?]),
            ArgType::ImageOrConst => match parse_numbers(t) {
                Some(v) => Value::Numbers(v),
                None => Value::Image(open(text).map_err(|e| bad(e.to_string()))?),
            },
        })
    }
}

fn parse_float(t: &str) -> Option<f64> {
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => t.parse::<f64>().ok().filter(|v| !v.is_nan()),
    }
}

fn parse_bool(t: &str) -> Option<bool> {
    match t.to_ascii_lowercase().as_str() {
        "" | "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_numbers(t: &str) -> Option<Vec<f64>> {
    let v: Option<Vec<f64>> = t.split(',').map(|s| parse_float(s.trim())).collect();
    v.filter(|v| !v.is_empty())
}

/// A parsed argument value.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Value {
    /// An [`ArgType::Int`].
    Int(i64),
    /// An [`ArgType::Float`].
    Float(f64),
    /// An [`ArgType::Bool`].
    Bool(bool),
    /// An [`ArgType::Enum`], in its canonical spelling.
    Enum(&'static str),
    /// An [`ArgType::Numbers`], or the constant of an
    /// [`ArgType::ImageOrConst`].
    Numbers(Vec<f64>),
    /// An [`ArgType::Matrix`] or [`ArgType::Text`], as written.
    Text(String),
    /// An [`ArgType::Format`].
    Format(BandFormat),
    /// An [`ArgType::Image`], or the image of an [`ArgType::ImageOrConst`].
    Image(Image),
    /// An [`ArgType::Images`].
    Images(Vec<Image>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => f.write_str(&num(*v)),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Enum(v) => f.write_str(v),
            Value::Numbers(v) => {
                let s: Vec<String> = v.iter().map(|v| num(*v)).collect();
                f.write_str(&s.join(","))
            }
            Value::Text(v) => f.write_str(v),
            Value::Format(v) => write!(f, "{v}"),
            Value::Image(i) => write!(f, "{i:?}"),
            Value::Images(v) => write!(f, "{} images", v.len()),
        }
    }
}

/// The second operand of arithmetic: an image or constants.
#[derive(Clone, Debug)]
pub enum Operand {
    /// An image of the same size (or one pixel, or one band, as libvips
    /// allows).
    Image(Image),
    /// One value for every band, or one per band.
    Const(Vec<f64>),
}

/// Checked argument values of one call, by name; made by
/// [`Args::parse`] or built with [`Args::new`] and [`Args::set`].
#[derive(Clone, Debug, Default)]
pub struct Args {
    owner: String,
    values: Vec<(&'static str, Value)>,
}

fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| {
            x.eq_ignore_ascii_case(&y) || (matches!(x, b'-' | b'_') && matches!(y, b'-' | b'_'))
        })
}

impl Args {
    /// No values yet, for `owner` (the operation or format named in
    /// errors).
    pub fn new(owner: &str) -> Args {
        Args {
            owner: owner.to_string(),
            values: Vec::new(),
        }
    }

    /// Parses the words of one call against `descs`: `positional` fill the
    /// required arguments in order (an [`ArgType::Images`] argument takes
    /// the rest), then the optional ones in order; `named` the others (`-` and `_` alike, case-insensitive;
    /// a required argument may also be named). Defaults fill what is left
    /// out. Errors name the argument, its type and its range.
    pub fn parse(
        owner: &str,
        descs: &'static [ArgDesc],
        positional: &[&str],
        named: &[(&str, &str)],
        open: &dyn Fn(&str) -> Result<Image>,
    ) -> Result<Args> {
        let usage = |m: String| Error::new(ErrorKind::InvalidArgument, format!("{owner}: {m}"));
        let mut args = Args::new(owner);
        let mut pos = positional.iter();
        for (k, v) in named {
            let d = descs
                .iter()
                .find(|d| same_name(d.name, k))
                .ok_or_else(|| usage(format!("unknown argument `{k}` ({})", names(descs))))?;
            if args.get(d.name).is_some() {
                return Err(usage(format!("argument `{}` given twice", d.name)));
            }
            let value = d.parse(owner, v, open)?;
            args.values.push((d.name, value));
        }
        for d in descs.iter().filter(|d| d.required) {
            if args.get(d.name).is_some() {
                continue;
            }
            if d.ty == ArgType::Images {
                let mut images = Vec::new();
                for w in pos.by_ref() {
                    if let Value::Images(mut v) = d.parse(owner, w, open)? {
                        images.append(&mut v);
                    }
                }
                if images.is_empty() {
                    return Err(usage(format!(
                        "missing argument `{}` (one or more images)",
                        d.name
                    )));
                }
                args.values.push((d.name, Value::Images(images)));
                continue;
            }
            let Some(w) = pos.next() else {
                return Err(usage(format!(
                    "missing argument `{}` ({}): {}",
                    d.name,
                    d.describe_type(),
                    d.doc
                )));
            };
            let value = d.parse(owner, w, open)?;
            args.values.push((d.name, value));
        }
        // More words fill the optional arguments in order (`shrink 4 2`).
        for d in descs.iter().filter(|d| !d.required) {
            if args.get(d.name).is_some() {
                continue;
            }
            let Some(w) = pos.next() else { break };
            let value = d.parse(owner, w, open)?;
            args.values.push((d.name, value));
        }
        if let Some(extra) = pos.next() {
            return Err(usage(format!(
                "unexpected argument `{extra}` (expected at most {} positional argument(s): {})",
                descs.len(),
                descs
                    .iter()
                    .map(|d| if d.required {
                        d.name.to_uppercase()
                    } else {
                        format!("[{}]", d.name.to_uppercase())
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            )));
        }
        args.fill_defaults(descs, open)?;
        Ok(args)
    }

    /// Adds the defaults of arguments not given, and checks that every
    /// required argument is there (for [`Args`] built with
    /// [`set`](Args::set)).
    pub fn fill_defaults(
        &mut self,
        descs: &'static [ArgDesc],
        open: &dyn Fn(&str) -> Result<Image>,
    ) -> Result<()> {
        for d in descs {
            if self.get(d.name).is_some() {
                continue;
            }
            if d.required {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "{}: missing argument `{}` ({})",
                        self.owner,
                        d.name,
                        d.describe_type()
                    ),
                ));
            }
            if let Some(def) = d.default {
                let value = d.parse(&self.owner, def, open)?;
                self.values.push((d.name, value));
            }
        }
        Ok(())
    }

    /// Sets `name` to `value` (replacing an earlier value).
    pub fn set(mut self, name: &'static str, value: Value) -> Args {
        self.values.retain(|(n, _)| *n != name);
        self.values.push((name, value));
        self
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(n, _)| same_name(n, name))
            .map(|(_, v)| v)
    }

    /// Every value set, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.values.iter().map(|(n, v)| (*n, v))
    }

    fn missing(&self, name: &str, what: &str) -> Error {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{}: argument `{name}` is not {what}", self.owner),
        )
    }

    /// An integer argument (also accepts a whole float).
    pub fn int(&self, name: &str) -> Result<i64> {
        self.opt_int(name)?.ok_or_else(|| self.missing(name, "set"))
    }

    /// An integer argument, if set.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Int(v)) => Ok(Some(*v)),
            Some(Value::Float(v)) if v.fract() == 0.0 => Ok(Some(*v as i64)),
            Some(_) => Err(self.missing(name, "an integer")),
        }
    }

    /// An integer argument that must fit `u32` (its range says so).
    pub fn u32(&self, name: &str) -> Result<u32> {
        let v = self.int(name)?;
        u32::try_from(v).map_err(|_| self.missing(name, "in 0 to 4294967295"))
    }

    /// A float argument (also accepts an integer).
    pub fn float(&self, name: &str) -> Result<f64> {
        self.opt_float(name)?
            .ok_or_else(|| self.missing(name, "set"))
    }

    /// A float argument, if set.
    pub fn opt_float(&self, name: &str) -> Result<Option<f64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Float(v)) => Ok(Some(*v)),
            Some(Value::Int(v)) => Ok(Some(*v as f64)),
            Some(_) => Err(self.missing(name, "a number")),
        }
    }

    /// A bool argument; `false` when not set.
    pub fn bool(&self, name: &str) -> Result<bool> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(v)) => Ok(*v),
            Some(_) => Err(self.missing(name, "a bool")),
        }
    }

    /// An enum argument, in its canonical spelling.
    pub fn choice(&self, name: &str) -> Result<&'static str> {
        self.opt_choice(name)?
            .ok_or_else(|| self.missing(name, "set"))
    }

    /// An enum argument, if set.
    pub fn opt_choice(&self, name: &str) -> Result<Option<&'static str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Enum(v)) => Ok(Some(v)),
            Some(_) => Err(self.missing(name, "a name")),
        }
    }

    /// A list of numbers (a single number is a list of one).
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>> {
        self.opt_numbers(name)?
            .ok_or_else(|| self.missing(name, "set"))
    }

    /// A list of numbers, if set.
    pub fn opt_numbers(&self, name: &str) -> Result<Option<Vec<f64>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Numbers(v)) => Ok(Some(v.clone())),
            Some(Value::Float(v)) => Ok(Some(vec![*v])),
            Some(Value::Int(v)) => Ok(Some(vec![*v as f64])),
            Some(_) => Err(self.missing(name, "a list of numbers")),
        }
    }

    /// A text or matrix argument, as written.
    pub fn text(&self, name: &str) -> Result<&str> {
        self.opt_text(name)?
            .ok_or_else(|| self.missing(name, "set"))
    }

    /// A text or matrix argument, if set.
    pub fn opt_text(&self, name: &str) -> Result<Option<&str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Text(v)) => Ok(Some(v)),
            Some(_) => Err(self.missing(name, "text")),
        }
    }

    /// A band format argument.
    pub fn format(&self, name: &str) -> Result<BandFormat> {
        self.opt_format(name)?
            .ok_or_else(|| self.missing(name, "set"))
    }

    /// A band format argument, if set.
    pub fn opt_format(&self, name: &str) -> Result<Option<BandFormat>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Format(v)) => Ok(Some(*v)),
            Some(_) => Err(self.missing(name, "a band format")),
        }
    }

    /// An image argument.
    pub fn image(&self, name: &str) -> Result<Image> {
        match self.get(name) {
            Some(Value::Image(v)) => Ok(v.clone()),
            Some(Value::Images(v)) if v.len() == 1 => Ok(v[0].clone()),
            _ => Err(self.missing(name, "an image")),
        }
    }

    /// An images argument (a single image is a list of one).
    pub fn images(&self, name: &str) -> Result<Vec<Image>> {
        match self.get(name) {
            Some(Value::Images(v)) => Ok(v.clone()),
            Some(Value::Image(v)) => Ok(vec![v.clone()]),
            _ => Err(self.missing(name, "a list of images")),
        }
    }

    /// An image-or-constant argument.
    pub fn operand(&self, name: &str) -> Result<Operand> {
        match self.get(name) {
            Some(Value::Image(v)) => Ok(Operand::Image(v.clone())),
            Some(Value::Numbers(v)) => Ok(Operand::Const(v.clone())),
            Some(Value::Float(v)) => Ok(Operand::Const(vec![*v])),
            Some(Value::Int(v)) => Ok(Operand::Const(vec![*v as f64])),
            _ => Err(self.missing(name, "an image or constants")),
        }
    }
}

fn names(descs: &[ArgDesc]) -> String {
    if descs.is_empty() {
        return "it takes none".into();
    }
    let v: Vec<&str> = descs.iter().map(|d| d.name).collect();
    format!("known: {}", v.join(", "))
}

/// Renders `descs` as the argument list of a help text: per argument a
/// line with its name, type, range and default, then its doc, wrapped.
pub fn help_lines(descs: &[ArgDesc]) -> String {
    let mut s = String::new();
    for d in descs {
        let mut facts = vec![d.ty.name().to_string()];
        let range = d.ty.range();
        if !range.is_empty() {
            facts.push(range);
        }
        if d.required {
            facts.push("required".into());
        } else if let Some(def) = d.default {
            facts.push(format!("default {def}"));
        } else {
            facts.push("optional".into());
        }
        let _ = writeln!(s, "  {} ({})", d.name, facts.join(", "));
        s.push_str(&wrap(d.doc, 6, 79));
    }
    s
}

/// `text` wrapped at `width` columns, each line indented by `indent`
/// spaces.
pub fn wrap(text: &str, indent: usize, width: usize) -> String {
    let mut out = String::new();
    for para in text.split("\n\n") {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && indent + line.chars().count() + 1 + word.chars().count() > width
            {
                let _ = writeln!(out, "{:indent$}{line}", "");
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            let _ = writeln!(out, "{:indent$}{line}", "");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    static ARGS: &[ArgDesc] = &[
        ArgDesc::required("width", ArgType::int(1, 100), "Width."),
        ArgDesc::optional(
            "kernel",
            ArgType::Enum(&["nearest", "linear"]),
            "linear",
            "Kernel.",
        ),
        ArgDesc::unset("background", ArgType::Numbers, "Background."),
        ArgDesc::optional("crop", ArgType::Bool, "false", "Crop."),
    ];

    fn open(s: &str) -> Result<Image> {
        Err(Error::format(format!("cannot open {s}")))
    }

    #[test]
    fn parses_positional_named_and_defaults() {
        let a = Args::parse(
            "t",
            ARGS,
            &["7"],
            &[("KERNEL", "Nearest"), ("crop", "")],
            &open,
        )
        .unwrap();
        assert_eq!(a.int("width").unwrap(), 7);
        assert_eq!(a.choice("kernel").unwrap(), "nearest");
        assert!(a.bool("crop").unwrap());
        assert_eq!(a.opt_numbers("background").unwrap(), None);
        let a = Args::parse(
            "t",
            ARGS,
            &[],
            &[("width", "3"), ("background", "1,2,3")],
            &open,
        )
        .unwrap();
        assert_eq!(a.choice("kernel").unwrap(), "linear");
        assert_eq!(a.numbers("background").unwrap(), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn errors_name_argument_type_and_range() {
        let e = |p: &[&str], n: &[(&str, &str)]| {
            Args::parse("t", ARGS, p, n, &open).unwrap_err().to_string()
        };
        assert_eq!(
            e(&["0"], &[]),
            "t: argument `width` (int, 1 to 100): 0 is out of range"
        );
        assert_eq!(
            e(&["x"], &[]),
            "t: argument `width` (int, 1 to 100): `x` is not a whole number"
        );
        assert_eq!(
            e(&[], &[]),
            "t: missing argument `width` (int, 1 to 100): Width."
        );
        assert_eq!(
            e(&["1", "linear", "2", "yes", "5"], &[]),
            "t: unexpected argument `5` (expected at most 4 positional argument(s): WIDTH [KERNEL] [BACKGROUND] [CROP])"
        );
        assert_eq!(
            e(&["1"], &[("kernel", "cubic")]),
            "t: argument `kernel` (enum, nearest|linear): unknown value `cubic`"
        );
        assert_eq!(
            e(&["1"], &[("size", "1")]),
            "t: unknown argument `size` (known: width, kernel, background, crop)"
        );
    }
}
