//! The whole catalogue from the command line: every operation answers
//! `--help` with all its arguments, runs its example as `gigapix OP` and as
//! a `pipe` step with the same result, refuses out-of-range values naming
//! the argument and its range; and the README's and the book's tables are
//! what the catalogue generates (`GIGAPIX_BLESS=1` rewrites them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use gigapix::catalogue::{self, OpDesc, Output as Kind};
use gigapix::desc::ArgType;

fn gigapix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gigapix"))
        .args(args)
        .output()
        .expect("run gigapix")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Splits an example into words, honouring double quotes.
fn words(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// The test's input: 64x48 RGB noise, as a file.
fn input(dir: &Path) -> PathBuf {
    let p = dir.join("in.tif");
    if !p.exists() {
        let o = gigapix(&["copy", "noise:64x48x3:11", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
    }
    p
}

/// Runs `op`'s example as `gigapix OP ...`; returns the output file's
/// bytes, or the printed values.
fn run_command(op: &OpDesc, dir: &Path) -> Vec<u8> {
    let inp = input(dir);
    let out = dir.join(format!("{}-cmd.tif", op.name));
    let mut args: Vec<String> = vec![op.name.into()];
    if op.input {
        args.push(inp.to_str().unwrap().into());
    }
    if op.output == Kind::Image {
        args.push(out.to_str().unwrap().into());
    }
    args.extend(words(op.example));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = gigapix(&argv);
    assert!(o.status.success(), "{}: {argv:?}\n{}", op.name, text(&o));
    match op.output {
        Kind::Image => std::fs::read(&out).unwrap(),
        Kind::Values => o.stdout,
    }
}

/// The same as a `pipe` step.
fn run_pipe(op: &OpDesc, dir: &Path) -> Vec<u8> {
    let inp = input(dir);
    let out = dir.join(format!("{}-pipe.tif", op.name));
    let target = match op.output {
        Kind::Image => out.to_str().unwrap().to_string(),
        Kind::Values => "-".into(),
    };
    let mut args: Vec<String> = vec![
        "pipe".into(),
        inp.to_str().unwrap().into(),
        target,
        "--".into(),
        op.name.into(),
    ];
    args.extend(words(op.example));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = gigapix(&argv);
    assert!(o.status.success(), "{}: {argv:?}\n{}", op.name, text(&o));
    match op.output {
        Kind::Image => std::fs::read(&out).unwrap(),
        Kind::Values => o.stdout,
    }
}

#[test]
fn the_catalogue_is_large() {
    let n = catalogue::all().count();
    assert!(n >= 80, "{n} operations");
}

#[test]
fn every_operation_answers_help_with_all_its_arguments() {
    for op in catalogue::all() {
        let o = gigapix(&[op.name, "--help"]);
        assert!(o.status.success(), "{}", text(&o));
        let help = String::from_utf8_lossy(&o.stdout);
        assert!(help.starts_with(&format!("{}: ", op.name)), "{help}");
        for a in op.args {
            assert!(
                help.contains(&format!("  {} (", a.name)),
                "{}: {} missing in\n{help}",
                op.name,
                a.name
            );
            assert!(
                help.contains(a.ty.name()),
                "{}: type of {}",
                op.name,
                a.name
            );
            if let Some(d) = a.default {
                assert!(
                    help.contains(&format!("default {d}")),
                    "{}: default of {}",
                    op.name,
                    a.name
                );
            }
        }
        assert!(help.contains("Example:\n  gigapix "), "{}", op.name);
    }
}

#[test]
fn every_operation_runs_its_example_as_a_command_and_as_a_pipe_step() {
    let d = tempfile::tempdir().unwrap();
    for op in catalogue::all() {
        let cmd = run_command(op, d.path());
        assert!(!cmd.is_empty(), "{}: empty result", op.name);
        if op.input {
            assert!(
                run_pipe(op, d.path()) == cmd,
                "{}: pipe and command differ",
                op.name
            );
        }
    }
}

/// For every numeric argument with a finite lower bound: a value below it
/// is a usage error (exit 2) naming the argument, its type and its range.
#[test]
fn out_of_range_values_name_the_argument_and_its_range() {
    let d = tempfile::tempdir().unwrap();
    let inp = input(d.path());
    let out = d.path().join("bad.tif");
    for op in catalogue::all() {
        let example = words(op.example);
        let positional: Vec<usize> = (0..example.len())
            .filter(|&i| !example[i].contains('='))
            .collect();
        let mut required = 0;
        for a in op.args {
            let below = match a.ty {
                ArgType::Int { min, .. } if min > i64::MIN => (min - 1).to_string(),
                ArgType::Float { min, .. } if min.is_finite() => format!("{}", min - 1.0),
                _ => {
                    required += usize::from(a.required);
                    continue;
                }
            };
            let mut words = example.clone();
            if a.required {
                // Replace this argument's word in the example.
                let Some(&at) = positional.get(required) else {
                    required += 1;
                    continue;
                };
                words[at] = below.clone();
                required += 1;
            } else {
                words.retain(|w| !w.starts_with(&format!("{}=", a.name)));
                words.push(format!("{}={below}", a.name));
            }
            let mut args: Vec<String> = vec![op.name.into()];
            if op.input {
                args.push(inp.to_str().unwrap().into());
            }
            if op.output == Kind::Image {
                args.push(out.to_str().unwrap().into());
            }
            args.extend(words);
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = gigapix(&argv);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{argv:?}\n{}", text(&o));
            let want = format!("argument `{}` ({}): ", a.name, a.describe_type());
            assert!(err.contains(&want), "{argv:?}: want `{want}` in\n{err}");
            assert!(!out.exists(), "{argv:?} left a file");
        }
    }
}

/// The text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in
/// `path` must be `want`; with `GIGAPIX_BLESS=1` it is rewritten instead.
fn generated_section(path: &str, name: &str, want: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    let doc = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = (
        format!("<!-- {name}:begin -->\n"),
        format!("<!-- {name}:end -->"),
    );
    let a = doc
        .find(&begin)
        .unwrap_or_else(|| panic!("no {begin} in {path:?}"))
        + begin.len();
    let b = doc[a..]
        .find(&end)
        .unwrap_or_else(|| panic!("no {end} in {path:?}"))
        + a;
    if doc[a..b] == *want {
        return;
    }
    if std::env::var_os("GIGAPIX_BLESS").is_some() {
        std::fs::write(&path, format!("{}{want}{}", &doc[..a], &doc[b..])).unwrap();
        return;
    }
    panic!(
        "{path:?}: the `{name}` section differs from what the catalogue generates; \
         run `GIGAPIX_BLESS=1 cargo test -p gigapix-cli --test catalogue` to rewrite it"
    );
}

#[test]
fn readme_and_book_tables_are_the_catalogues() {
    let list = gigapix(&["list", "--markdown"]);
    assert!(list.status.success());
    generated_section(
        "README.md",
        "operations",
        &String::from_utf8_lossy(&list.stdout),
    );
    let formats = gigapix(&["list", "formats", "--markdown"]);
    assert!(formats.status.success());
    generated_section(
        "README.md",
        "formats",
        &String::from_utf8_lossy(&formats.stdout),
    );
    generated_section(
        "book/src/catalogue.md",
        "reference",
        &catalogue::reference_markdown(),
    );
}

#[test]
fn list_and_completions() {
    let o = gigapix(&["list"]);
    let listed = String::from_utf8_lossy(&o.stdout);
    for op in catalogue::all() {
        assert!(
            listed
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{} ", op.name))),
            "{}",
            op.name
        );
    }
    for shell in ["bash", "zsh", "fish"] {
        let o = gigapix(&["completions", shell]);
        assert!(o.status.success(), "{}", text(&o));
        let script = String::from_utf8_lossy(&o.stdout);
        assert!(
            script.contains("gaussblur") && script.contains("min_ampl"),
            "{shell}"
        );
    }
}
