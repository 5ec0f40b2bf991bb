//! The layout ARCHITECTURE.md promises, held: no file of `src/` over 600 lines, no function
//! over 100. A file or a function that grows past them is split, not let through.

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 100;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    assert!(files.len() > 50, "src/ not found under {}", root.display());
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.strip_prefix(root).unwrap().display().to_string();
            (name, text)
        })
        .collect()
}

/// Whether the line starts a function (`fn`, after `pub`, `pub(crate)`, `async`, `const`…).
fn starts_fn(line: &str) -> bool {
    let mut rest = line.trim_start();
    loop {
        let before = rest;
        for prefix in [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "async ",
            "const ",
            "unsafe ",
        ] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        if rest == before {
            break;
        }
    }
    rest.starts_with("fn ")
}

/// Each function with a body: its first line (1-based), its name and its length in lines, from
/// the `fn` line to the closing brace at the same indentation. A signature that ends in `;`
/// (a trait method, a macro row) has no body.
fn functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !starts_fn(line) {
            continue;
        }
        let Some(open) = (i..lines.len()).find(|&j| {
            let l = lines[j].trim_end();
            l.ends_with('{') || l.ends_with(';') || l.ends_with('}')
        }) else {
            continue;
        };
        let signature_end = lines[open].trim_end();
        if signature_end.ends_with(';') || signature_end.ends_with('}') {
            continue; // no body, or a body on one line
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        let close = format!("{indent}}}");
        let Some(end) = (open + 1..lines.len()).find(|&j| lines[j].trim_end() == close) else {
            continue;
        };
        let name = line.trim_start().split("fn ").nth(1).unwrap_or("");
        let name: String = name
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        found.push((i + 1, name, end - i + 1));
    }
    found
}

#[test]
fn no_file_of_src_is_over_600_lines() {
    let long: Vec<String> = sources()
        .iter()
        .map(|(name, text)| (name, text.lines().count()))
        .filter(|(_, n)| *n > MAX_FILE_LINES)
        .map(|(name, n)| format!("{name}: {n} lines"))
        .collect();
    assert!(long.is_empty(), "split these files: {long:#?}");
}

#[test]
fn no_function_of_src_is_over_100_lines() {
    let mut long = Vec::new();
    for (name, text) in sources() {
        for (line, function, n) in functions(&text) {
            if n > MAX_FN_LINES {
                long.push(format!("{name}:{line} {function}: {n} lines"));
            }
        }
    }
    assert!(long.is_empty(), "split these functions: {long:#?}");
}

#[test]
fn the_function_finder_measures_what_it_should() {
    let text = "\
impl X {
    /// Doc.
    pub(crate) async fn long(&self) -> u32 {
        let a = 1;
        a
    }

    fn one_line(&self) {}
}
trait T {
    fn declared(&self);
}
shortcuts! {
    fn row(&self, id: impl Into<Id>)
        -> Out => generic::<Kind>;
}
fn free(
    a: u32,
) -> u32 {
    a
}
";
    assert_eq!(
        functions(text),
        [(3, "long".to_owned(), 4), (17, "free".to_owned(), 5)]
    );
}
