//! Parsing inputs (files or generators) and `OP ARGS : OP ARGS` chains.

use std::str::FromStr;

use gigapix::{
    AffineOptions, Angle, BandFormat, Direction, Extend, GaussOptions, Image, Interpolate,
    Interpretation, Kernel, LinearOptions, Matrix, ResizeOptions, SharpenOptions,
};

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
        "shrink" => {
            arity(op, pos, 1, 2, "XSHRINK [YSHRINK]  (integers)")?;
            let x = parse(op, "factor", pos[0])?;
            let y = pos.get(1).map_or(Ok(x), |v| parse(op, "factor", v))?;
            image.shrink(x, y)
        }
        "reduce" => {
            arity(op, pos, 1, 2, "HSHRINK [VSHRINK] [kernel=K]")?;
            let h = parse(op, "factor", pos[0])?;
            let v = pos.get(1).map_or(Ok(h), |v| parse(op, "factor", v))?;
            image.reduce(h, v, kernel(op, opts)?)
        }
        "resize" => {
            arity(op, pos, 1, 1, "SCALE [vscale=V] [kernel=K] [gap=G]")?;
            let mut o = ResizeOptions {
                kernel: kernel(op, opts)?,
                ..ResizeOptions::default()
            };
            if let Some(v) = take_opt(opts, "vscale") {
                o.vscale = Some(parse(op, "vscale", v)?);
            }
            if let Some(g) = take_opt(opts, "gap") {
                o.gap = parse(op, "gap", g)?;
            }
            image.resize(parse(op, "scale", pos[0])?, &o)
        }
        "affine" => {
            arity(op, pos, 4, 4, "A B C D [interpolate=I] [background=V,...]")?;
            let m = [0, 1, 2, 3].map(|i| parse::<f64>(op, "coefficient", pos[i]));
            let [a, b, c, d] = m;
            image.affine([a?, b?, c?, d?], &affine_options(op, opts)?)
        }
        "rotate" => {
            arity(op, pos, 1, 1, "DEGREES [interpolate=I] [background=V,...]")?;
            image.rotate(parse(op, "angle", pos[0])?, &affine_options(op, opts)?)
        }
        "conv" | "convsep" => {
            arity(
                op,
                pos,
                1,
                1,
                "MASK  (a libvips matrix file, or rows inline: \"-1 -1 -1; -1 16 -1; -1 -1 -1\") [scale=S] [offset=O]",
            )?;
            let mut mask = matrix(op, pos[0])?;
            if let Some(v) = take_opt(opts, "scale") {
                mask = mask.with_scale(parse(op, "scale", v)?);
            }
            if let Some(v) = take_opt(opts, "offset") {
                mask = mask.with_offset(parse(op, "offset", v)?);
            }
            if op == "conv" {
                image.conv(&mask)
            } else {
                image.convsep(&mask)
            }
        }
        "sobel" => {
            arity(op, pos, 0, 0, "")?;
            image.sobel()
        }
        "gaussblur" => {
            arity(op, pos, 1, 1, "SIGMA [min_ampl=A]")?;
            let mut o = GaussOptions::default();
            if let Some(v) = take_opt(opts, "min_ampl") {
                o = o.min_ampl(parse(op, "min_ampl", v)?);
            }
            image.gaussblur_with(parse(op, "sigma", pos[0])?, &o)
        }
        "boxblur" | "erode" | "dilate" => {
            arity(op, pos, 1, 2, "WIDTH [HEIGHT]")?;
            let w = parse(op, "width", pos[0])?;
            let h = pos.get(1).map_or(Ok(w), |v| parse(op, "height", v))?;
            match op {
                "boxblur" => image.boxblur(w, h),
                "erode" => image.erode(w, h),
                _ => image.dilate(w, h),
            }
        }
        "sharpen" => {
            arity(op, pos, 0, 0, "[sigma=S] [amount=A] [threshold=T]")?;
            let mut o = SharpenOptions::default();
            if let Some(v) = take_opt(opts, "sigma") {
                o.sigma = parse(op, "sigma", v)?;
            }
            if let Some(v) = take_opt(opts, "amount") {
                o.amount = parse(op, "amount", v)?;
            }
            if let Some(v) = take_opt(opts, "threshold") {
                o.threshold = parse(op, "threshold", v)?;
            }
            image.sharpen(&o)
        }
        "premultiply" => {
            arity(op, pos, 0, 0, "")?;
            image.premultiply()
        }
        "unpremultiply" => {
            arity(op, pos, 0, 0, "")?;
            image.unpremultiply()
        }
        "flatten" => {
            arity(op, pos, 0, 0, "[background=V,...]")?;
            let bg = match take_opt(opts, "background") {
                Some(v) => numbers(op, v)?,
                None => vec![0.0],
            };
            image.flatten(&bg)
        }
        "composite" => {
            arity(op, pos, 3, 3, "OVERLAY X Y  (OVERLAY a file or generator)")?;
            let overlay = open_input(pos[0]).map_err(|e| match e {
                crate::Failure::Usage(m) | crate::Failure::Runtime(m) => UsageError(m),
            })?;
            image.composite(&overlay, parse(op, "x", pos[1])?, parse(op, "y", pos[2])?)
        }
        "colourspace" | "colorspace" => {
            arity(
                op,
                pos,
                1,
                1,
                "srgb|scrgb|grey|rgb16|grey16 [format=u8|u16|f32]",
            )?;
            // libvips' rgb16 and grey16 are sRGB and grey in 16 bits.
            let (target, depth) = match pos[0].to_ascii_lowercase().as_str() {
                "srgb" => (Interpretation::Srgb, None),
                "rgb16" => (Interpretation::Srgb, Some(BandFormat::U16)),
                "scrgb" | "linear" => (Interpretation::Scrgb, None),
                "grey" | "gray" | "b-w" | "bw" => (Interpretation::Grey, None),
                "grey16" | "gray16" => (Interpretation::Grey, Some(BandFormat::U16)),
                other => {
                    return usage(format!(
                        "{op}: unknown colour space `{other}` (srgb, scrgb, grey, rgb16, grey16)"
                    ));
                }
            };
            let format = match take_opt(opts, "format") {
                Some(f) => Some(parse::<BandFormat>(op, "format", f)?),
                None => depth,
            };
            let out = image.colourspace(target);
            match format {
                Some(f) => out.cast_scaled(f),
                None => out,
            }
        }
        "cast_scaled" => {
            arity(
                op,
                pos,
                1,
                1,
                "FORMAT  (u8, u16, u32, f32; values rescaled)",
            )?;
            image.cast_scaled(parse(op, "format", pos[0])?)
        }
        _ => {
            return usage(format!(
                "unknown operation `{op}` (known: {})",
                OPERATIONS.join(", ")
            ));
        }
    })
}

/// Every operation `pipe` knows (and `gigapix OPERATION IN OUT ARGS` runs).
pub(crate) const OPERATIONS: &[&str] = &[
    "linear",
    "invert",
    "cast",
    "cast_scaled",
    "extract_band",
    "crop",
    "embed",
    "flip",
    "rot",
    "autorotate",
    "shrink",
    "reduce",
    "resize",
    "affine",
    "rotate",
    "conv",
    "convsep",
    "sobel",
    "gaussblur",
    "boxblur",
    "sharpen",
    "erode",
    "dilate",
    "premultiply",
    "unpremultiply",
    "flatten",
    "composite",
    "colourspace",
    "colorspace",
];

fn kernel(op: &str, opts: &mut Vec<(&str, &str)>) -> Result<Kernel, UsageError> {
    match take_opt(opts, "kernel") {
        None => Ok(Kernel::Lanczos3),
        Some(k) => Kernel::from_name(k).ok_or_else(|| {
            UsageError(format!(
                "{op}: unknown kernel `{k}` (nearest, linear, cubic, mitchell, lanczos2, lanczos3)"
            ))
        }),
    }
}

fn affine_options(op: &str, opts: &mut Vec<(&str, &str)>) -> Result<AffineOptions, UsageError> {
    let mut o = AffineOptions::default();
    if let Some(i) = take_opt(opts, "interpolate") {
        o.interpolate = Interpolate::from_name(i).ok_or_else(|| {
            UsageError(format!(
                "{op}: unknown interpolator `{i}` (nearest, bilinear, bicubic)"
            ))
        })?;
    }
    if let Some(b) = take_opt(opts, "background") {
        o.background = numbers(op, b)?;
    }
    Ok(o)
}

/// A mask: a libvips matrix file, or rows inline separated by `;`.
fn matrix(op: &str, spec: &str) -> Result<Matrix, UsageError> {
    let bad = |e: gigapix::Error| UsageError(format!("{op}: {e}"));
    if std::path::Path::new(spec).is_file() {
        return Matrix::from_file(spec).map_err(bad);
    }
    let rows: Vec<Vec<f64>> = spec
        .split(';')
        .map(|r| {
            r.split([' ', ',', '\t'])
                .filter(|v| !v.is_empty())
                .map(|v| parse::<f64>(op, "coefficient", v))
                .collect()
        })
        .collect::<Result<_, _>>()?;
    let w = rows.first().map_or(0, Vec::len);
    if w == 0 || rows.iter().any(|r| r.len() != w) {
        return usage(format!(
            "{op}: `{spec}` is neither a matrix file nor rows of equal length separated by `;`"
        ));
    }
    // Scale 1 and offset 0 unless `scale=` and `offset=` say otherwise, as
    // for a matrix file whose first line has no scale.
    Matrix::new(w as u32, rows.len() as u32, rows.concat()).map_err(bad)
}
