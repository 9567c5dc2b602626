//! The tool's layout, checked on its own source (#25): no module imports
//! another that imports it back, directly or around a loop, and no source
//! file but tests holds more than 400 lines of code.
//!
//! A module's imports are the `crate::`, `super::` and `self::` paths in it
//! and the paths through its own child modules, test code left out; each
//! path counts for the deepest module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES_OF_CODE: usize = 400;

type Module = Vec<String>;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("cli/src is readable");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs` the root.
fn module_of(src: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Module = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The source without its inline test module and comments.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn lines_of_code(text: &str) -> usize {
    code(text).lines().filter(|l| !l.trim().is_empty()).count()
}

/// Every `a::b::c` path in `code`, as its segments.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let word = |c: char| c.is_alphanumeric() || c == '_';
        if word(bytes[i]) && (i == 0 || !word(bytes[i - 1])) {
            let start = i;
            while i < bytes.len() && (word(bytes[i]) || bytes[i] == ':') {
                i += 1;
            }
            let text: String = bytes[start..i].iter().collect();
            let segments: Vec<String> = text
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if text.contains("::") {
                found.push(segments);
            }
        } else {
            i += 1;
        }
    }
    // `use crate::{a, b::c}` names each inside the braces from the root.
    for group in code.split("use crate::{").skip(1) {
        let inside = group.split('}').next().unwrap_or("");
        for item in inside.split(',') {
            let mut path = vec!["crate".to_owned()];
            path.extend(item.trim().split("::").map(str::to_owned));
            found.push(path);
        }
    }
    found
}

fn imports(modules: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut edges = BTreeMap::new();
    for (module, text) in modules {
        let code = code(text);
        let children: BTreeSet<String> = code
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let l = l.strip_prefix("pub ").unwrap_or(l);
                let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
                l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
            })
            .collect();
        let mut targets = BTreeSet::new();
        for path in paths(&code) {
            let mut target: Module = match path[0].as_str() {
                "crate" => Vec::new(),
                "self" => module.clone(),
                "super" => module[..module.len().saturating_sub(1)].to_vec(),
                child if children.contains(child) => module.clone(),
                _ => continue,
            };
            let skip = usize::from(matches!(path[0].as_str(), "crate" | "self" | "super"));
            target.extend(path[skip..].iter().cloned());
            while !target.is_empty() && !modules.contains_key(&target) {
                target.pop();
            }
            if &target != module {
                targets.insert(target);
            }
        }
        edges.insert(module.clone(), targets);
    }
    edges
}

/// The modules that reach `from` again by their imports.
fn circle_through(from: &Module, edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Module> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Module> = edges[from].iter().cloned().collect();
    while let Some(next) = stack.pop() {
        if &next == from {
            return Some(next);
        }
        if seen.insert(next.clone()) {
            stack.extend(edges.get(&next).into_iter().flatten().cloned());
        }
    }
    None
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn modules() -> BTreeMap<Module, String> {
    let src = src();
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files
        .into_iter()
        .filter(|f| f.file_stem().is_some_and(|s| s != "tests"))
        .map(|f| {
            (
                module_of(&src, &f),
                std::fs::read_to_string(&f).expect("readable"),
            )
        })
        .collect()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let modules = modules();
    let edges = imports(&modules);
    assert!(
        edges.len() > 20 && edges.values().map(BTreeSet::len).sum::<usize>() > 40,
        "the import graph was read"
    );
    let in_circles: Vec<String> = edges
        .keys()
        .filter(|m| circle_through(m, &edges).is_some())
        .map(|m| m.join("::"))
        .collect();
    assert!(
        in_circles.is_empty(),
        "modules in an import circle: {in_circles:?}"
    );
}

#[test]
fn a_circle_is_seen_when_there_is_one() {
    let modules: BTreeMap<Module, String> = [
        (vec![], "mod a;\nmod b;\n".to_owned()),
        (vec!["a".into()], "use crate::b::Thing;\n".to_owned()),
        (vec!["b".into()], "use super::a;\n".to_owned()),
    ]
    .into_iter()
    .collect();
    let edges = imports(&modules);
    assert!(circle_through(&vec!["a".into()], &edges).is_some());
    assert!(circle_through(&vec![], &edges).is_none());
}

#[test]
fn no_source_file_but_tests_is_over_400_lines_of_code() {
    let mut files = Vec::new();
    source_files(&src(), &mut files);
    let long: Vec<(PathBuf, usize)> = files
        .into_iter()
        .filter(|f| f.file_stem().is_some_and(|s| s != "tests"))
        .map(|f| {
            let lines = lines_of_code(&std::fs::read_to_string(&f).expect("readable"));
            (f, lines)
        })
        .filter(|(_, lines)| *lines > MAX_LINES_OF_CODE)
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES_OF_CODE} lines of code: {long:?}"
    );
}
