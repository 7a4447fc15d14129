//! Every public item of every published crate has a doc example: a ```` ``` ```` block in
//! its doc comment, which `cargo test` runs as a doc test.
//!
//! What it counts, read from the source (stable Rust has no coverage report that counts
//! methods; `rustdoc --show-coverage` is nightly-only and skips inherent methods):
//!
//! * an item is a line that starts with `pub` followed by `fn`, `struct`, `enum`, `trait`,
//!   `type`, `const`, `static`, `union` or `mod` (with `unsafe`/`const`/`async` between),
//!   in `crates/<crate>/src`, outside `#[cfg(test)]` modules. `pub(crate)` and `pub(super)`
//!   items, struct fields (`pub name: T`), enum variants, trait-impl methods and `pub use`
//!   re-exports are not items. The workspace denies `unreachable_pub` (clippy with `-D
//!   warnings`), so a `pub` item in the source is reachable by users; `#[doc(hidden)]` items
//!   count too. Not counted: the `Sealed` traits of `mod sealed { ... }` (the sealed-trait
//!   pattern: no user can name them), `#[cfg(doctest)]` items (they exist only to run doc
//!   tests) and `#[cfg(loom)]` items (the loom models' variants of items counted once).
//! * its docs are the `///` lines above it and `#[doc = ...]` attributes on one line
//!   (other attributes in between are skipped); for
//!   `pub mod x;` the `//!` lines at the top of the module's file; the crate itself counts
//!   as one item with the `//!` docs of `lib.rs`.
//! * it has an example when those docs contain a line that starts with ```` ``` ````.
//!
//! Items that `macro_rules!` generate are counted where the macro body writes `pub fn`.
//! A failure lists every item without an example, with its file and line.

use std::fs;
use std::path::{Path, PathBuf};

/// The published crates.
const CRATES: [&str; 8] = [
    "multiproc-sys",
    "multiproc-shared",
    "multiproc-channel",
    "multiproc-process",
    "multiproc-pool",
    "multiproc",
    "multiproc-mpi",
    "multiproc-manager",
];

const ITEM_KINDS: [&str; 9] = [
    "fn", "struct", "enum", "trait", "type", "const", "static", "union", "mod",
];

/// One public item found in the source.
#[derive(Debug)]
struct Item {
    file: PathBuf,
    line: usize,
    text: String,
    has_example: bool,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("integration-tests lives in the workspace root")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether a trimmed line declares a public item (see the module docs).
fn is_public_item(line: &str) -> bool {
    let Some(mut rest) = line.strip_prefix("pub ") else {
        return false;
    };
    loop {
        rest = rest.trim_start();
        let word = rest
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .next()
            .unwrap_or("");
        match word {
            "unsafe" | "async" | "extern" => rest = &rest[word.len()..],
            // `pub const fn` is a function, `pub const X` a constant.
            "const" if rest["const".len()..].trim_start().starts_with("fn ") => {
                rest = &rest["const".len()..]
            }
            _ => return ITEM_KINDS.contains(&word),
        }
    }
}

fn is_fence(doc_line: &str) -> bool {
    doc_line.trim_start().starts_with("```")
}

/// Whether the `///` block above `lines[index]` contains an example.
fn outer_docs_have_example(lines: &[&str], index: usize) -> bool {
    let mut i = index;
    while i > 0 {
        i -= 1;
        let line = lines[i].trim();
        if let Some(doc) = line.strip_prefix("///") {
            if is_fence(doc) {
                return true;
            }
            continue;
        }
        // `#[doc = concat!(...)]`, as macros that generate items write their docs.
        if line.starts_with("#[doc") && line.contains("```") {
            return true;
        }
        // Attributes (one or several lines) and plain comments between docs and item.
        let in_attribute = line.starts_with("#[")
            || line.starts_with("//")
            || line.ends_with(',')
            || line.ends_with('\\')
            || line.ends_with('"')
            || line.ends_with('(')
            || line.starts_with(')');
        if line.is_empty() || !in_attribute {
            return false;
        }
    }
    false
}

/// Whether the `//!` block at the top of `source` contains an example.
fn inner_docs_have_example(source: &str) -> bool {
    source
        .lines()
        .map(str::trim)
        .take_while(|l| l.starts_with("//!") || l.is_empty())
        .filter_map(|l| l.strip_prefix("//!"))
        .any(is_fence)
}

/// The file of `pub mod name;` declared in `file`.
fn module_file(file: &Path, name: &str) -> Option<PathBuf> {
    let dir = if file
        .file_name()
        .is_some_and(|n| n == "lib.rs" || n == "mod.rs")
    {
        file.parent()?.to_path_buf()
    } else {
        file.with_extension("")
    };
    [
        dir.join(format!("{name}.rs")),
        dir.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.exists())
}

fn items_of(krate: &str) -> Vec<Item> {
    let src = workspace_root().join("crates").join(krate).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut items = Vec::new();
    let lib = src.join("lib.rs");
    items.push(Item {
        file: lib.clone(),
        line: 1,
        text: format!("crate {krate}"),
        has_example: inner_docs_have_example(&fs::read_to_string(&lib).unwrap()),
    });
    for file in files {
        let source = fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        // The closing line of the `mod sealed` being skipped.
        let mut skip_until: Option<String> = None;
        for (index, raw) in lines.iter().enumerate() {
            let line = raw.trim();
            if let Some(end) = &skip_until {
                if *raw == end.as_str() {
                    skip_until = None;
                }
                continue;
            }
            if line == "mod sealed {" || line == "pub(crate) mod sealed {" {
                let indent = &raw[..raw.len() - raw.trim_start().len()];
                skip_until = Some(format!("{indent}}}"));
                continue;
            }
            let mut attributes = lines[..index]
                .iter()
                .rev()
                .take_while(|l| l.trim().starts_with("#["));
            if attributes.any(|l| matches!(l.trim(), "#[cfg(doctest)]" | "#[cfg(loom)]")) {
                continue;
            }
            // Unit tests sit at the end of a file.
            if line == "#[cfg(test)]"
                && lines
                    .get(index + 1)
                    .is_some_and(|next| next.trim().starts_with("mod "))
            {
                break;
            }
            if !is_public_item(line) {
                continue;
            }
            let has_example = match line
                .strip_prefix("pub mod ")
                .and_then(|rest| rest.strip_suffix(';'))
            {
                Some(name) => {
                    outer_docs_have_example(&lines, index)
                        || module_file(&file, name).is_some_and(|f| {
                            inner_docs_have_example(&fs::read_to_string(f).unwrap())
                        })
                }
                None => outer_docs_have_example(&lines, index),
            };
            items.push(Item {
                file: file.clone(),
                line: index + 1,
                text: line.to_owned(),
                has_example,
            });
        }
    }
    items
}

#[test]
fn the_checker_recognises_items_and_examples() {
    assert!(is_public_item("pub fn new() -> Self {"));
    assert!(is_public_item("pub const fn len(&self) -> usize {"));
    assert!(is_public_item("pub unsafe fn fork() {"));
    assert!(is_public_item("pub const LIMIT: usize = 3;"));
    assert!(is_public_item("pub struct Pool {"));
    assert!(is_public_item("pub mod decode;"));
    assert!(!is_public_item("pub(crate) fn helper() {"));
    assert!(!is_public_item("pub name: String,"));
    assert!(!is_public_item("pub use self::pool::Pool;"));
    let documented = [
        "/// Doc.",
        "///",
        "/// ```",
        "/// x",
        "/// ```",
        "#[inline]",
        "pub fn a() {}",
    ];
    assert!(outer_docs_have_example(&documented, 6));
    let bare = ["}", "/// Doc only.", "#[must_use]", "pub fn b() {}"];
    assert!(!outer_docs_have_example(&bare, 3));
    let attribute = [
        "/// ```",
        "/// ```",
        "#[cfg_attr(",
        "    docsrs,",
        ")]",
        "pub fn c() {}",
    ];
    assert!(outer_docs_have_example(&attribute, 5));
}

#[test]
fn every_public_item_has_a_doc_example() {
    let mut report = String::new();
    let mut missing = 0;
    for krate in CRATES {
        let items = items_of(krate);
        let with = items.iter().filter(|i| i.has_example).count();
        eprintln!(
            "{krate}: {with} of {} public items have a doc example",
            items.len()
        );
        for item in items.iter().filter(|i| !i.has_example) {
            missing += 1;
            let file = item
                .file
                .strip_prefix(workspace_root())
                .unwrap_or(&item.file);
            report.push_str(&format!(
                "  {}:{}: {}\n",
                file.display(),
                item.line,
                item.text
            ));
        }
    }
    assert!(
        missing == 0,
        "{missing} public items have no doc example:\n{report}"
    );
}
