//! Options written in brackets after a file name, libvips style:
//! `out.tif[compression=lzw,tile,tile-width=256]`, `in.tif[page=2]`.

use std::path::PathBuf;
use std::str::FromStr;

use gigapix_core::{Error, ErrorKind, Result};

/// `key=value` options, in the order given. A bare `key` means
/// `key=true`. Keys compare case-insensitively, and `-` and `_` are the
/// same (`tile-width` = `tile_width`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

fn normalise(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace('-', "_")
}

impl Params {
    /// No options.
    pub fn new() -> Params {
        Params::default()
    }

    /// Parses `a=1,b,c=x` (the text between the brackets).
    pub fn parse(text: &str) -> Result<Params> {
        let mut p = Params::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = item.split_once('=').unwrap_or((item, "true"));
            if k.trim().is_empty() {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("option `{item}` has no name"),
                ));
            }
            p = p.set(k, v.trim());
        }
        Ok(p)
    }

    /// Adds or replaces an option.
    pub fn set(mut self, key: &str, value: impl ToString) -> Params {
        let key = normalise(key);
        self.pairs.retain(|(k, _)| *k != key);
        self.pairs.push((key, value.to_string()));
        self
    }

    /// The options as `(key, value)` pairs, keys normalised.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `true` if no option is left.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Removes `key` and parses its value; `Ok(None)` if absent.
    pub fn take<T: FromStr>(&mut self, key: &str) -> Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        let key = normalise(key);
        let Some(i) = self.pairs.iter().position(|(k, _)| *k == key) else {
            return Ok(None);
        };
        let (k, v) = self.pairs.remove(i);
        v.parse::<T>().map(Some).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("option `{k}`: bad value `{v}`: {e}"),
            )
        })
    }

    /// Removes a boolean option: bare, `true`/`false`, `yes`/`no`, `1`/`0`.
    pub fn flag(&mut self, key: &str) -> Result<Option<bool>> {
        let Some(v) = self.take::<String>(key)? else {
            return Ok(None);
        };
        match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok(Some(true)),
            "false" | "no" | "0" | "off" => Ok(Some(false)),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("option `{key}`: expected true or false, got `{v}`"),
            )),
        }
    }

    /// Fails if any option was not taken: `what` names who was asked
    /// (`"tiff save"`), `known` lists what it understands.
    pub fn finish(&self, what: &str, known: &[&str]) -> Result<()> {
        if let Some((k, _)) = self.pairs.first() {
            let known = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{what}: unknown option `{k}` (known: {known})"),
            ));
        }
        Ok(())
    }
}

/// Splits `name[options]` into the path and its options. A name without
/// brackets has no options.
pub fn split_path(spec: &str) -> Result<(PathBuf, Params)> {
    match spec
        .strip_suffix(']')
        .and_then(|s| s.rfind('[').map(|i| (&s[..i], &s[i + 1..])))
    {
        Some((path, opts)) if !path.is_empty() => Ok((PathBuf::from(path), Params::parse(opts)?)),
        _ => Ok((PathBuf::from(spec), Params::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets() {
        let (p, mut o) = split_path("out.tif[compression=lzw,tile,Tile-Width=256]").unwrap();
        assert_eq!(p, PathBuf::from("out.tif"));
        assert_eq!(
            o.take::<String>("compression").unwrap().as_deref(),
            Some("lzw")
        );
        assert_eq!(o.flag("tile").unwrap(), Some(true));
        assert_eq!(o.take::<u32>("tile_width").unwrap(), Some(256));
        o.finish("tiff save", &[]).unwrap();
        let (p, o) = split_path("plain.png").unwrap();
        assert_eq!((p, o.is_empty()), (PathBuf::from("plain.png"), true));
        let (_, mut o) = split_path("x.jpg[Q=abc]").unwrap();
        assert!(o.take::<u8>("q").is_err());
        let (_, o) = split_path("x.jpg[bogus]").unwrap();
        assert!(
            o.finish("jpeg save", &["q"])
                .unwrap_err()
                .to_string()
                .contains("bogus")
        );
    }
}
