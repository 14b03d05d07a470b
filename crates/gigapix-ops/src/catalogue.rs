//! The catalogue: one [`OpDesc`] per operation, the single description the
//! command line, its help, the operation tables of the README and the book,
//! shell completions and the language bindings are generated from.
//!
//! Each descriptor lives beside its operation's code, as a `pub static`
//! [`OpDesc`] with the argument table ([`ArgDesc`]s), and is registered
//! by adding it to its module's `OPS` list, which [`FAMILIES`] gathers.
//! A `static` table was chosen over link-time registration (`inventory`,
//! `linkme`): it needs no linker support (it works in every target,
//! `wasm` and static libraries included), the order of the list is the
//! order of the docs, and a missing registration is a compile-time
//! reference away, not a silent absence.
//!
//! ```
//! use gigapix_ops::catalogue;
//!
//! let op = catalogue::find("gaussblur").expect("registered");
//! assert_eq!(op.args[0].name, "sigma");
//! let image = op.call_words(Some(&gigapix_ops::noise(64, 64, 3, 1)), &["2.5"], &[], &|_| unreachable!())?;
//! assert_eq!((image.width(), image.height()), (64, 64));
//! assert!(op.help().contains("min_ampl"));
//! # Ok::<(), gigapix_core::Error>(())
//! ```

use std::fmt::Write as _;

use gigapix_core::desc::{ArgDesc, ArgType, Args, Value, help_lines, wrap};
use gigapix_core::{Error, ErrorKind, Image, Result};

/// The group an operation is listed under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Category {
    /// Images made from nothing: generators.
    Create,
    /// Arithmetic between images or with constants.
    Arithmetic,
    /// Comparisons giving 0/255 masks.
    Relational,
    /// Bitwise operations and conditional selection.
    Boolean,
    /// Format conversions and per-pixel maps.
    Conversion,
    /// Splitting, joining and combining bands.
    Bands,
    /// Histograms and lookup tables.
    Histogram,
    /// Statistics and measurements giving numbers.
    Measure,
    /// Cropping, padding, flipping and rotating by right angles.
    Geometry,
    /// Putting images together and taking them apart.
    Assembly,
    /// Changing the size: shrinks, reductions, resizes, affine transforms.
    Resample,
    /// Convolution and blurs.
    Convolution,
    /// Rank filters.
    Morphology,
    /// Alpha and compositing.
    Composite,
    /// Colour spaces.
    Colour,
}

impl Category {
    /// Every category, in the order the docs list them.
    pub const ALL: [Category; 15] = [
        Category::Create,
        Category::Arithmetic,
        Category::Relational,
        Category::Boolean,
        Category::Conversion,
        Category::Bands,
        Category::Histogram,
        Category::Measure,
        Category::Geometry,
        Category::Assembly,
        Category::Resample,
        Category::Convolution,
        Category::Morphology,
        Category::Composite,
        Category::Colour,
    ];

    /// The heading the docs give it.
    pub const fn title(self) -> &'static str {
        match self {
            Category::Create => "Create",
            Category::Arithmetic => "Arithmetic",
            Category::Relational => "Relational",
            Category::Boolean => "Boolean and selection",
            Category::Conversion => "Conversion",
            Category::Bands => "Bands",
            Category::Histogram => "Histograms and lookup tables",
            Category::Measure => "Measurements",
            Category::Geometry => "Geometry",
            Category::Assembly => "Assembly",
            Category::Resample => "Resampling",
            Category::Convolution => "Convolution and blurs",
            Category::Morphology => "Morphology",
            Category::Composite => "Alpha and compositing",
            Category::Colour => "Colour",
        }
    }
}

/// What an operation's result is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// An image, to be saved or processed further.
    Image,
    /// Numbers: the result is a small image (usually 1×1) whose samples
    /// are the values; the command line prints them instead of saving.
    Values,
}

/// Builds an operation's image from its input (`None` for generators) and
/// checked arguments.
pub type BuildFn = fn(Option<&Image>, &Args) -> Result<Image>;

/// The description of one operation.
#[derive(Debug)]
#[non_exhaustive]
pub struct OpDesc {
    /// The name, as on the command line and in the bindings.
    pub name: &'static str,
    /// Other names the command line accepts (`colorspace`).
    pub aliases: &'static [&'static str],
    /// Where the docs list it.
    pub category: Category,
    /// One line, no final period needed (it is printed as a sentence).
    pub summary: &'static str,
    /// A paragraph or two: semantics, formats, edge cases.
    pub doc: &'static str,
    /// `false` for generators, which take no input image.
    pub input: bool,
    /// Its arguments: the required ones first, in order.
    pub args: &'static [ArgDesc],
    /// Arguments of a working example, after `IN OUT`: `10` for
    /// `gigapix gaussblur in.png out.png 10`. The catalogue test runs it.
    pub example: &'static str,
    /// What it gives.
    pub output: Output,
    /// Builds the image.
    pub build: BuildFn,
}

impl OpDesc {
    /// A descriptor of an operation on one input image with an image
    /// result; [`doc`](OpDesc::doc), [`example`](OpDesc::example),
    /// [`generator`](OpDesc::generator) and [`values`](OpDesc::values)
    /// change the rest.
    pub const fn new(
        name: &'static str,
        category: Category,
        summary: &'static str,
        args: &'static [ArgDesc],
        build: BuildFn,
    ) -> OpDesc {
        OpDesc {
            name,
            aliases: &[],
            category,
            summary,
            doc: "",
            input: true,
            args,
            example: "",
            output: Output::Image,
            build,
        }
    }

    /// With a longer doc.
    pub const fn doc(mut self, doc: &'static str) -> OpDesc {
        self.doc = doc;
        self
    }

    /// With an example's arguments.
    pub const fn example(mut self, example: &'static str) -> OpDesc {
        self.example = example;
        self
    }

    /// With other accepted names.
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> OpDesc {
        self.aliases = aliases;
        self
    }

    /// As a generator (no input image).
    pub const fn generator(mut self) -> OpDesc {
        self.input = false;
        self
    }

    /// As a measurement (the result's samples are printed).
    pub const fn values(mut self) -> OpDesc {
        self.output = Output::Values;
        self
    }

    /// `true` if `name` is this operation's name or one of its aliases.
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }

    /// Builds the operation from checked arguments. Arguments an operation
    /// does not know, or values out of range, are errors naming the
    /// argument.
    pub fn call(&self, input: Option<&Image>, args: &Args) -> Result<Image> {
        match (self.input, input) {
            (true, None) => {
                return Err(Error::invalid(self.name, "needs an input image"));
            }
            (false, Some(_)) => {
                return Err(Error::invalid(
                    self.name,
                    "is a generator: it takes no input image",
                ));
            }
            _ => {}
        }
        for (name, _) in args.iter() {
            if !self.args.iter().any(|a| a.name == name) {
                return Err(Error::invalid(
                    self.name,
                    format!("unknown argument `{name}`"),
                ));
            }
        }
        (self.build)(input, args)
    }

    /// Parses words (`positional`, then `named` `(name, value)` pairs) and
    /// builds the operation. `open` opens image arguments.
    pub fn call_words(
        &self,
        input: Option<&Image>,
        positional: &[&str],
        named: &[(&str, &str)],
        open: &dyn Fn(&str) -> Result<Image>,
    ) -> Result<Image> {
        let args = Args::parse(self.name, self.args, positional, named, open)?;
        self.call(input, &args)
    }

    /// Checked arguments from typed values (for bindings): `values` by
    /// name, defaults for the rest.
    pub fn args_from(&self, values: Vec<(&str, Value)>) -> Result<Args> {
        let mut args = Args::new(self.name);
        for (name, v) in values {
            let d = self.args.iter().find(|a| a.name == name).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("{}: unknown argument `{name}`", self.name),
                )
            })?;
            args = args.set(d.name, v);
        }
        args.fill_defaults(self.args, &|s: &str| {
            Err(Error::invalid(self.name, format!("cannot open `{s}` here")))
        })?;
        Ok(args)
    }

    /// The synopsis: `gaussblur IN OUT SIGMA [--min-ampl F]...`.
    pub fn usage(&self) -> String {
        let mut s = String::from(self.name);
        if self.input {
            s.push_str(" IN");
        }
        if self.output == Output::Image {
            s.push_str(" OUT");
        }
        for a in self.args.iter().filter(|a| a.required) {
            s.push(' ');
            s.push_str(&a.name.to_uppercase());
            if a.ty == ArgType::Images {
                s.push_str("...");
            }
        }
        if self.args.iter().any(|a| !a.required) {
            s.push_str(" [--NAME VALUE | NAME=VALUE]...");
        }
        s
    }

    /// The example as a whole command line.
    pub fn example_command(&self) -> String {
        let mut s = format!("gigapix {}", self.name);
        if self.input {
            s.push_str(" in.png");
        }
        if self.output == Output::Image {
            s.push_str(" out.png");
        }
        if !self.example.is_empty() {
            s.push(' ');
            s.push_str(self.example);
        }
        s
    }

    /// The full help text: usage, summary, doc, every argument with its
    /// type, range, default and doc, and the example.
    pub fn help(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}: {}\n", self.name, sentence(self.summary));
        let _ = writeln!(s, "Usage: gigapix {}", self.usage());
        let pipe_usage = self.usage();
        let pipe_usage = pipe_usage
            .replacen(" IN", "", 1)
            .replacen(" OUT", "", 1)
            .replace("[--NAME VALUE | NAME=VALUE]", "[NAME=VALUE]");
        if self.input {
            let _ = writeln!(s, "  in pipe: gigapix pipe IN OUT -- {pipe_usage} [: ...]");
        }
        if !self.doc.is_empty() {
            let _ = write!(s, "\n{}", wrap(self.doc.trim(), 0, 79));
        }
        if self.args.is_empty() {
            let _ = writeln!(s, "\nArguments: none");
        } else {
            let _ = writeln!(s, "\nArguments:");
            s.push_str(&help_lines(self.args));
        }
        let _ = writeln!(s, "\nExample:\n  {}", self.example_command());
        if !self.aliases.is_empty() {
            let _ = writeln!(s, "\nAlso called: {}", self.aliases.join(", "));
        }
        s
    }

    /// The arguments in one short line for tables: `sigma [min_ampl, box_sigma]`.
    pub fn args_summary(&self) -> String {
        let req: Vec<&str> = self
            .args
            .iter()
            .filter(|a| a.required)
            .map(|a| a.name)
            .collect();
        let opt: Vec<&str> = self
            .args
            .iter()
            .filter(|a| !a.required)
            .map(|a| a.name)
            .collect();
        match (req.is_empty(), opt.is_empty()) {
            (_, true) => req.join(" "),
            (true, false) => format!("[{}]", opt.join(", ")),
            (false, false) => format!("{} [{}]", req.join(" "), opt.join(", ")),
        }
    }
}

/// The input image of a builder of an operation that takes one (the
/// catalogue checks it is there before building).
pub fn input_of(input: Option<&Image>) -> Result<&Image> {
    input.ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            "the operation needs an input image",
        )
    })
}

fn sentence(s: &str) -> String {
    let s = s.trim();
    if s.ends_with('.') {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// What a descriptor block needs, in one `use`.
pub(crate) mod prelude {
    pub(crate) use super::{Category, OpDesc, input_of};
    pub(crate) use gigapix_core::desc::{ArgDesc, ArgType, Args};
}

/// Every family's list of operations; [`all`] walks them.
pub static FAMILIES: &[&[&OpDesc]] = &[
    crate::create::OPS,
    crate::point::OPS,
    crate::arith::OPS,
    crate::colour::OPS,
    crate::icc::OPS,
    crate::bands::OPS,
    crate::hist::OPS,
    crate::stats::OPS,
    crate::geometry::OPS,
    crate::assembly::OPS,
    crate::resample::OPS,
    crate::affine::OPS,
    crate::conv::OPS,
    crate::blur::OPS,
    crate::morph::OPS,
    crate::composite::OPS,
];

/// Every operation, in catalogue order.
pub fn all() -> impl Iterator<Item = &'static OpDesc> {
    FAMILIES.iter().flat_map(|f| f.iter().copied())
}

/// The operation called `name` (or one of its aliases).
pub fn find(name: &str) -> Option<&'static OpDesc> {
    all().find(|o| o.is_named(name))
}

/// Every operation, one line each, by category (`gigapix list`).
pub fn list_text() -> String {
    let mut s = String::new();
    let width = all().map(|o| o.name.len()).max().unwrap_or(0);
    for c in Category::ALL {
        let ops: Vec<&OpDesc> = all().filter(|o| o.category == c).collect();
        if ops.is_empty() {
            continue;
        }
        let _ = writeln!(s, "{}:", c.title());
        for o in ops {
            let _ = writeln!(s, "  {:width$}  {}", o.name, o.summary, width = width);
        }
    }
    s
}

/// The operation tables as markdown (`gigapix list --markdown`), one table
/// per category: the README and the book hold exactly this text.
pub fn list_markdown() -> String {
    let mut s = String::new();
    for c in Category::ALL {
        let ops: Vec<&OpDesc> = all().filter(|o| o.category == c).collect();
        if ops.is_empty() {
            continue;
        }
        let _ = writeln!(s, "**{}**\n", c.title());
        let _ = writeln!(s, "| operation | arguments | what it does |");
        let _ = writeln!(s, "|---|---|---|");
        for o in ops {
            let args = o.args_summary();
            let args = if args.is_empty() {
                String::new()
            } else {
                format!("`{args}`")
            };
            let _ = writeln!(
                s,
                "| `{}` | {} | {} |",
                o.name,
                args,
                o.summary.trim_end_matches('.')
            );
        }
        s.push('\n');
    }
    s
}

/// Every operation in full, for the book's "Every operation" chapter:
/// one section per operation with its doc, argument table and example.
pub fn reference_markdown() -> String {
    let mut s = String::new();
    for c in Category::ALL {
        let ops: Vec<&OpDesc> = all().filter(|o| o.category == c).collect();
        if ops.is_empty() {
            continue;
        }
        let _ = writeln!(s, "## {}\n", c.title());
        for o in ops {
            let _ = writeln!(s, "### `{}`\n", o.name);
            let _ = writeln!(s, "{}\n", sentence(o.summary));
            let _ = writeln!(s, "```text\ngigapix {}\n```\n", o.usage());
            if !o.doc.is_empty() {
                let _ = writeln!(s, "{}\n", o.doc.trim());
            }
            if !o.args.is_empty() {
                let _ = writeln!(s, "| argument | type | range | default | |");
                let _ = writeln!(s, "|---|---|---|---|---|");
                for a in o.args {
                    let def = match (a.required, a.default) {
                        (true, _) => "required".to_string(),
                        (false, Some(d)) => format!("`{d}`"),
                        (false, None) => "unset".to_string(),
                    };
                    let _ = writeln!(
                        s,
                        "| `{}` | {} | {} | {} | {} |",
                        a.name,
                        a.ty.name(),
                        a.ty.range().replace('|', "\\|"),
                        def,
                        a.doc
                    );
                }
                s.push('\n');
            }
            let _ = writeln!(s, "Example: `{}`\n", o.example_command());
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_descriptors_consistent() {
        let mut seen = std::collections::HashSet::new();
        for o in all() {
            for n in std::iter::once(o.name).chain(o.aliases.iter().copied()) {
                assert!(seen.insert(n), "{n} registered twice");
            }
            assert!(!o.summary.is_empty(), "{}: no summary", o.name);
            // Required arguments come first, an `images` argument last.
            let first_optional = o
                .args
                .iter()
                .position(|a| !a.required)
                .unwrap_or(o.args.len());
            assert!(
                o.args[first_optional..].iter().all(|a| !a.required),
                "{}: required after optional",
                o.name
            );
            for a in o.args {
                assert!(
                    !a.doc.is_empty(),
                    "{}: argument {} has no doc",
                    o.name,
                    a.name
                );
                assert!(
                    a.required || a.default.is_some() || a.ty != ArgType::Bool,
                    "{}: {}",
                    o.name,
                    a.name
                );
            }
        }
    }
}
