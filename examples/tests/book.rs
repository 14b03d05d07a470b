//! The book is not built in CI (mdbook is not installed there), so this test
//! checks what a build would: every chapter listed in `SUMMARY.md` exists,
//! every `{{#include FILE:ANCHOR}}` names an existing file and a matching
//! `ANCHOR:`/`ANCHOR_END:` pair, and no chapter holds an inline Rust code
//! block (Rust in the book must be included from a compiled example). It
//! also checks that every example opens with a `//!` doc comment.

use std::fs;
use std::path::{Path, PathBuf};

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src")
}

fn chapters() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(book_src())
        .expect("book/src exists")
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "book/src holds chapters");
    v
}

/// The `{{#include ...}}` directives of `text`, as `(path, anchor)`.
fn includes(text: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let end = after.find("}}").expect("`{{#` is closed by `}}`");
        let directive = after[..end].trim();
        rest = &after[end + 2..];
        let Some(arg) = directive
            .strip_prefix("include ")
            .or_else(|| directive.strip_prefix("rustdoc_include "))
        else {
            panic!("unexpected directive `{{{{#{directive}}}}}`");
        };
        let arg = arg.trim();
        match arg.split_once(':') {
            Some((path, anchor)) => out.push((path.to_string(), Some(anchor.to_string()))),
            None => out.push((arg.to_string(), None)),
        }
    }
    out
}

#[test]
fn every_include_resolves() {
    let mut count = 0;
    for chapter in chapters() {
        let text = fs::read_to_string(&chapter).expect("readable chapter");
        for (path, anchor) in includes(&text) {
            let file = chapter.parent().expect("in a directory").join(&path);
            let source = fs::read_to_string(&file).unwrap_or_else(|e| {
                panic!("{}: cannot read included {path}: {e}", chapter.display())
            });
            if let Some(anchor) = anchor {
                // Numeric anchors are line ranges; ours are all names.
                assert!(
                    !anchor.is_empty() && anchor.chars().all(|c| c.is_alphanumeric() || c == '_'),
                    "{}: bad anchor `{anchor}`",
                    chapter.display()
                );
                let starts = source
                    .lines()
                    .filter(|l| l.trim() == format!("// ANCHOR: {anchor}"))
                    .count();
                let ends = source
                    .lines()
                    .filter(|l| l.trim() == format!("// ANCHOR_END: {anchor}"))
                    .count();
                assert_eq!(
                    (starts, ends),
                    (1, 1),
                    "{}: anchor `{anchor}` must open and close once in {path}",
                    chapter.display()
                );
            }
            count += 1;
        }
    }
    assert!(count > 0, "the book includes code from the examples");
}

#[test]
fn no_inline_rust_blocks() {
    for chapter in chapters() {
        let text = fs::read_to_string(&chapter).expect("readable chapter");
        for (i, line) in text.lines().enumerate() {
            let fence = line.trim_start();
            if let Some(lang) = fence.strip_prefix("```") {
                let lang = lang.split(',').next().unwrap_or("").trim();
                let inline_rust = lang == "rust" || lang == "rs";
                // A block that only includes a compiled file is fine.
                let next = text.lines().nth(i + 1).unwrap_or("");
                assert!(
                    !inline_rust || next.trim_start().starts_with("{{#include"),
                    "{}:{}: inline Rust block; include it from examples/ instead",
                    chapter.display(),
                    i + 1
                );
            }
        }
    }
}

#[test]
fn summary_lists_existing_chapters() {
    let summary = fs::read_to_string(book_src().join("SUMMARY.md")).expect("SUMMARY.md");
    let mut listed = 0;
    for part in summary.split("](").skip(1) {
        let target = part.split(')').next().expect("link closed");
        assert!(
            book_src().join(target).is_file(),
            "SUMMARY.md lists {target}, which does not exist"
        );
        listed += 1;
    }
    assert!(listed > 0, "SUMMARY.md lists chapters");
}

#[test]
fn every_example_has_a_doc_comment() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
    let mut examples = 0;
    for line in manifest.lines() {
        if let Some(path) = line.trim().strip_prefix("path = \"") {
            let path = path.trim_end_matches('"');
            let source = fs::read_to_string(dir.join(path)).expect("target file exists");
            assert!(
                source.starts_with("//!"),
                "{path} must open with a `//!` comment saying what it shows and how to run it"
            );
            if source.contains("fn main(") {
                assert!(
                    source.contains("cargo run --release -p gigapix-examples --example"),
                    "{path}: its doc comment must say how to run it"
                );
                examples += 1;
            }
        }
    }
    assert!(examples >= 6, "the examples are declared in Cargo.toml");
}
