//! Parsing inputs (files or generators) and `OP ARGS : OP ARGS` chains,
//! all from the operation catalogue.

use gigapix::catalogue::{self, OpDesc, Output};
use gigapix::desc::{ArgType, Args};
use gigapix::{ErrorKind, Image};

/// A mistake in the command line (exit status 2).
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// Argument errors (bad values, unknown names) are usage errors; anything
/// else (a file that does not open) is a runtime failure.
fn failure(e: gigapix::Error) -> crate::Failure {
    match e.kind() {
        ErrorKind::InvalidArgument => crate::Failure::Usage(e.to_string()),
        _ => crate::Failure::Runtime(e.to_string()),
    }
}

/// Opens a file, standard input (`-`, `-[options]`), or builds a
/// generator from `name:WxH[xB][:SEED]`.
pub(crate) fn open_input(spec: &str) -> Result<Image, crate::Failure> {
    if crate::stdio::is_stdin(spec) {
        return crate::stdio::open(spec);
    }
    let generators = ["black:", "xyz:", "noise:", "zone:"];
    if !generators.iter().any(|g| spec.starts_with(g)) {
        return Ok(Image::open(spec)?);
    }
    let (name, rest) = spec.split_once(':').expect("prefix checked");
    let (size, seed) = match rest.split_once(':') {
        Some((s, seed)) => (s, Some(seed)),
        None => (rest, None),
    };
    let dims: Vec<&str> = size.split('x').collect();
    let want_bands = matches!(name, "black" | "noise");
    let (w, h, b) = match (dims.as_slice(), want_bands) {
        ([w, h, b], true) => (*w, *h, Some(*b)),
        ([w, h], _) => (*w, *h, None),
        _ => {
            return Err(UsageError(format!(
                "bad size `{size}` in `{spec}`: expected WxH{}",
                if want_bands { " or WxHxB" } else { "" }
            ))
            .into());
        }
    };
    if seed.is_some() && name != "noise" {
        return Err(UsageError(format!("`{spec}`: only noise takes a seed")).into());
    }
    let op = catalogue::find(name).expect("generators are in the catalogue");
    let mut named = Vec::new();
    if let Some(b) = b {
        named.push(("bands", b));
    }
    if let Some(s) = seed {
        named.push(("seed", s));
    }
    build(op, None, &[w, h], &named).map_err(|e| match e {
        crate::Failure::Usage(m) => crate::Failure::Usage(format!("`{spec}`: {m}")),
        other => other,
    })
}

/// Opens an image argument: a file or a generator.
fn open_arg(spec: &str) -> gigapix::Result<gigapix::core::Image> {
    match open_input(spec) {
        Ok(i) => Ok(i.node().clone()),
        Err(crate::Failure::Usage(m) | crate::Failure::Runtime(m)) => {
            Err(gigapix::Error::new(ErrorKind::InvalidArgument, m))
        }
    }
}

fn build(
    op: &OpDesc,
    input: Option<&Image>,
    positional: &[&str],
    named: &[(&str, &str)],
) -> Result<Image, crate::Failure> {
    let args = Args::parse(op.name, op.args, positional, named, &open_arg).map_err(failure)?;
    let node = op.call(input.map(Image::node), &args).map_err(failure)?;
    Ok(Image::from(node))
}

/// The operation called `name`, or a usage error listing what exists.
pub(crate) fn operation(name: &str) -> Result<&'static OpDesc, UsageError> {
    catalogue::find(name).map_or_else(
        || {
            usage(format!(
                "unknown operation `{name}` (`gigapix list` shows them all)"
            ))
        },
        Ok,
    )
}

/// The positional words and the `(name, value)` pairs of one step.
type Words<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);

/// Splits the words of one step into positional words and `(name, value)`
/// pairs: `name=value` and `--name value` (`--name` alone for a bool) where
/// `name` is one of the operation's arguments; anything else is positional
/// (so `in.tif[page=1]` and `-10` stay positional).
pub(crate) fn split_words<'a>(op: &OpDesc, words: &'a [String]) -> Result<Words<'a>, UsageError> {
    let known = |n: &str| {
        op.args
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(&n.replace('-', "_")))
    };
    let (mut pos, mut named) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        i += 1;
        if let Some(flag) = w.strip_prefix("--") {
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (flag, None),
            };
            let Some(arg) = known(name) else {
                return usage(format!(
                    "{}: unknown option `--{name}` (see `gigapix {} --help`)",
                    op.name, op.name
                ));
            };
            let value = match inline {
                Some(v) => v,
                None if arg.ty == ArgType::Bool => {
                    let next = words.get(i).map(|s| s.to_ascii_lowercase());
                    match next.as_deref() {
                        Some("true" | "false" | "yes" | "no" | "on" | "off" | "1" | "0") => {
                            i += 1;
                            words[i - 1].as_str()
                        }
                        _ => "true",
                    }
                }
                None => {
                    let Some(v) = words.get(i) else {
                        return usage(format!("{}: `--{name}` needs a value", op.name));
                    };
                    i += 1;
                    v.as_str()
                }
            };
            named.push((name, value));
        } else if let Some((name, value)) = w.split_once('=')
            && known(name).is_some()
        {
            named.push((name, value));
        } else {
            pos.push(w);
        }
    }
    Ok((pos, named))
}

/// Applies one step: `op` with its words.
pub(crate) fn apply_step(
    image: Option<&Image>,
    op: &OpDesc,
    words: &[String],
) -> Result<Image, crate::Failure> {
    let (pos, named) = split_words(op, words)?;
    build(op, image, &pos, &named)
}

/// The result of a chain: an image to save, or numbers to print.
pub(crate) struct Chain {
    pub(crate) image: Image,
    pub(crate) output: Output,
}

/// Applies `OP ARGS [key=value] [: OP ARGS]...` to `image`. Only the last
/// step may be a measurement.
pub(crate) fn apply_ops(mut image: Image, words: &[String]) -> Result<Chain, crate::Failure> {
    let mut output = Output::Image;
    if words.is_empty() {
        return Ok(Chain { image, output });
    }
    let steps: Vec<&[String]> = words.split(|w| w == ":").collect();
    for (i, step) in steps.iter().enumerate() {
        let Some((name, args)) = step.split_first() else {
            return Err(UsageError("empty operation between `:`".into()).into());
        };
        let op = operation(name)?;
        if !op.input {
            return Err(UsageError(format!(
                "{name} is a generator: use it as the input (`{name}:WxH`) or as `gigapix {name} OUT ARGS`"
            ))
            .into());
        }
        if op.output == Output::Values && i + 1 != steps.len() {
            return Err(UsageError(format!(
                "{name} gives numbers, not an image: it can only be the last step"
            ))
            .into());
        }
        image = apply_step(Some(&image), op, args)?;
        output = op.output;
    }
    Ok(Chain { image, output })
}
