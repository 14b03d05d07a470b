//! Parsing inputs (files or generators) and `OP ARGS : OP ARGS` chains.

use std::str::FromStr;

use gigapix::{Angle, BandFormat, Direction, Extend, Image, LinearOptions};

/// A mistake in the command line (exit status 2).
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// Opens a file, or builds a generator from `name:WxH[xB][:SEED]`.
pub(crate) fn open_input(spec: &str) -> Result<Image, crate::Failure> {
    let generators = ["black:", "xyz:", "noise:", "zone:"];
    if !generators.iter().any(|g| spec.starts_with(g)) {
        return Ok(Image::open(spec)?);
    }
    let (name, rest) = spec.split_once(':').expect("prefix checked");
    let (size, seed) = match rest.split_once(':') {
        Some((s, seed)) => (s, Some(seed)),
        None => (rest, None),
    };
    let dims: Vec<u32> = size
        .split('x')
        .map(|d| d.parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            UsageError(format!(
                "bad size `{size}` in `{spec}`: expected WxH or WxHxB"
            ))
        })?;
    let want_bands = matches!(name, "black" | "noise");
    let (w, h, b) = match (dims.as_slice(), want_bands) {
        ([w, h, b], true) => (*w, *h, *b),
        ([w, h], true) => (*w, *h, 1),
        ([w, h], false) => (*w, *h, 0),
        _ => return Err(UsageError(format!("bad size `{size}` in `{spec}`")).into()),
    };
    if w == 0 || h == 0 || (want_bands && b == 0) {
        return Err(UsageError(format!("`{spec}`: sizes must be at least 1")).into());
    }
    if seed.is_some() && name != "noise" {
        return Err(UsageError(format!("`{spec}`: only noise takes a seed")).into());
    }
    let seed = match seed {
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| UsageError(format!("bad seed `{s}` in `{spec}`")))?,
        None => 0,
    };
    Ok(match name {
        "black" => Image::black(w, h, b),
        "xyz" => Image::xyz(w, h),
        "noise" => Image::noise(w, h, b, seed),
        _ => Image::zone(w, h),
    })
}

/// Applies `OP ARGS [key=value] [: OP ARGS]...` to `image`.
pub(crate) fn apply_ops(mut image: Image, words: &[String]) -> Result<Image, UsageError> {
    if words.is_empty() {
        return Ok(image);
    }
    for step in words.split(|w| w == ":") {
        let Some((op, args)) = step.split_first() else {
            return usage("empty operation between `:`");
        };
        let (pos, opts): (Vec<&str>, Vec<&str>) = args
            .iter()
            .map(String::as_str)
            .partition(|a| !a.contains('='));
        let mut opts: Vec<(&str, &str)> = opts
            .iter()
            .map(|o| o.split_once('=').expect("partitioned on '='"))
            .collect();
        image = apply_one(&image, op, &pos, &mut opts)?;
        if let Some((k, _)) = opts.first() {
            return usage(format!("{op}: unknown option `{k}`"));
        }
    }
    Ok(image)
}

fn take_opt<'a>(opts: &mut Vec<(&str, &'a str)>, key: &str) -> Option<&'a str> {
    let i = opts.iter().position(|(k, _)| *k == key)?;
    Some(opts.remove(i).1)
}

fn parse<T: FromStr>(op: &str, what: &str, s: &str) -> Result<T, UsageError>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>()
        .map_err(|e| UsageError(format!("{op}: bad {what} `{s}`: {e}")))
}

fn arity(op: &str, pos: &[&str], min: usize, max: usize, synopsis: &str) -> Result<(), UsageError> {
    if pos.len() < min || pos.len() > max {
        return usage(format!(
            "{op}: expected `{op} {synopsis}`, got {} argument(s)",
            pos.len()
        ));
    }
    Ok(())
}

fn numbers(op: &str, s: &str) -> Result<Vec<f64>, UsageError> {
    s.split(',')
        .map(|v| parse::<f64>(op, "number", v))
        .collect()
}

fn apply_one(
    image: &Image,
    op: &str,
    pos: &[&str],
    opts: &mut Vec<(&str, &str)>,
) -> Result<Image, UsageError> {
    Ok(match op {
        "linear" => {
            arity(
                op,
                pos,
                2,
                2,
                "A B  (A, B numbers or comma lists per band) [format=F]",
            )?;
            let mut o = LinearOptions::default();
            if let Some(f) = take_opt(opts, "format") {
                o = o.format(parse::<BandFormat>(op, "format", f)?);
            }
            image.linear_with(&numbers(op, pos[0])?, &numbers(op, pos[1])?, &o)
        }
        "invert" => {
            arity(op, pos, 0, 0, "")?;
            image.invert()
        }
        "cast" => {
            arity(op, pos, 1, 1, "FORMAT  (u8, u16, u32, f32)")?;
            image.cast(parse(op, "format", pos[0])?)
        }
        "extract_band" => {
            arity(op, pos, 1, 2, "BAND [N]")?;
            let n = if pos.len() == 2 {
                parse(op, "count", pos[1])?
            } else {
                1
            };
            image.extract_band(parse(op, "band", pos[0])?, n)
        }
        "crop" => {
            arity(op, pos, 4, 4, "LEFT TOP WIDTH HEIGHT")?;
            image.crop(
                parse(op, "left", pos[0])?,
                parse(op, "top", pos[1])?,
                parse(op, "width", pos[2])?,
                parse(op, "height", pos[3])?,
            )
        }
        "embed" => {
            arity(
                op,
                pos,
                4,
                5,
                "X Y WIDTH HEIGHT [black|white|copy|repeat|mirror]",
            )?;
            let extend = match (pos.get(4).copied(), take_opt(opts, "extend")) {
                (Some(e), _) | (None, Some(e)) => parse::<Extend>(op, "extend mode", e)?,
                (None, None) => Extend::Black,
            };
            image.embed(
                parse(op, "x", pos[0])?,
                parse(op, "y", pos[1])?,
                parse(op, "width", pos[2])?,
                parse(op, "height", pos[3])?,
                extend,
            )
        }
        "flip" => {
            arity(op, pos, 1, 1, "horizontal|vertical")?;
            image.flip(parse::<Direction>(op, "direction", pos[0])?)
        }
        "autorotate" => {
            arity(op, pos, 0, 0, "")?;
            image.autorotate()
        }
        "rot" => {
            arity(op, pos, 1, 1, "90|180|270")?;
            image.rot(parse::<Angle>(op, "angle", pos[0])?)
        }
        _ => {
            return usage(format!(
                "unknown operation `{op}` (known: linear, invert, cast, extract_band, crop, embed, flip, rot, autorotate)"
            ));
        }
    })
}
