//! A crate's sources as modules and the paths they import, for the layout
//! test: which folder's modules import one another around a loop, which
//! files open without a comment saying what they are for, how long each is.
//!
//! It reads Rust the way the project writes it (`use crate::…`,
//! `use super::…`, `crate::a::f()` in expressions, `mod child;` with
//! `use child::…`), not the whole language: a path written only in a
//! string or a comment is no import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One source file as a module.
#[derive(Debug)]
pub struct SourceFile {
    /// Relative to the crate's `src/`.
    pub path: PathBuf,
    /// `read::coalesce::plan` as `["read", "coalesce", "plan"]`; empty for the crate root.
    pub module: Vec<String>,
    /// `tests.rs` or a `tests/` folder: unit tests beside the module they test.
    pub is_test: bool,
    pub opens_with_module_doc: bool,
    /// Lines that are neither blank nor comments, before any inline test module.
    pub lines_of_code: usize,
    /// Every module path the file names, resolved from the crate root.
    pub imports: Vec<Vec<String>>,
}

/// Every `.rs` file under a crate's `src/`.
#[derive(Debug)]
pub struct SourceTree {
    pub files: Vec<SourceFile>,
}

impl SourceTree {
    pub fn read(src: &Path) -> std::io::Result<Self> {
        let mut sources = Vec::new();
        collect(src, src, &mut sources)?;
        Ok(Self::from_sources(sources))
    }

    /// A tree made of `(path, text)` pairs, for testing the checker itself.
    pub fn from_files(files: &[(&str, &str)]) -> Self {
        Self::from_sources(
            files
                .iter()
                .map(|(path, text)| (PathBuf::from(path), text.to_string()))
                .collect(),
        )
    }

    fn from_sources(sources: Vec<(PathBuf, String)>) -> Self {
        let files = sources
            .into_iter()
            .map(|(path, text)| SourceFile::parse(path, &text))
            .collect();
        SourceTree { files }
    }

    /// The folders directly under `src/`.
    pub fn top_level_folders(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .filter(|file| file.path.components().count() > 1)
            .filter_map(|file| file.path.components().next()?.as_os_str().to_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
    }

    fn modules(&self) -> BTreeSet<&[String]> {
        self.files
            .iter()
            .map(|file| file.module.as_slice())
            .collect()
    }
}

fn collect(src: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|entry| entry.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect(src, &path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path)?;
            let relative = path
                .strip_prefix(src)
                .expect("found under src")
                .to_path_buf();
            out.push((relative, text));
        }
    }
    Ok(())
}

impl SourceFile {
    fn parse(path: PathBuf, text: &str) -> Self {
        let mut module: Vec<String> = path
            .with_extension("")
            .components()
            .filter_map(|c| c.as_os_str().to_str().map(str::to_owned))
            .collect();
        let file_name = module.last().cloned().unwrap_or_default();
        // `mod.rs`, `lib.rs` and `main.rs` are their folder's module.
        let is_folder_face = matches!(file_name.as_str(), "mod" | "lib" | "main");
        if is_folder_face {
            module.pop();
        }
        let code: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("//"))
            .collect();
        let lines_of_code = code
            .iter()
            .take_while(|line| **line != "#[cfg(test)]")
            .count();
        let opens_with_module_doc = text
            .lines()
            .find(|line| !line.trim().is_empty())
            .is_some_and(|line| line.trim_start().starts_with("//!"));
        let here = Scope {
            module: module.clone(),
            children: code
                .iter()
                .filter_map(|line| declared_child(line))
                .collect(),
        };
        let imports = code.iter().flat_map(|line| here.paths_in(line)).collect();
        SourceFile {
            path,
            // `tests.rs`, or any file of a `tests/` folder of unit tests.
            is_test: module.iter().any(|segment| segment == "tests"),
            module,
            opens_with_module_doc,
            lines_of_code,
            imports,
        }
    }
}

/// `mod name;` or `pub mod name;` (any visibility): a child module.
fn declared_child(line: &str) -> Option<String> {
    let rest = line.strip_suffix(';')?;
    let name = rest.rsplit_once("mod ").map(|(_, name)| name)?;
    let before = &rest[..rest.len() - name.len() - 4];
    let visibility_only = before.is_empty() || before.trim_end().starts_with("pub");
    (visibility_only && is_ident(name)).then(|| name.to_owned())
}

fn is_ident(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !text.starts_with(|c: char| c.is_ascii_digit())
}

/// Where a file sits, to resolve its relative paths.
struct Scope {
    module: Vec<String>,
    children: BTreeSet<String>,
}

impl Scope {
    /// The module paths one line of code names, from the crate root.
    fn paths_in(&self, line: &str) -> Vec<Vec<String>> {
        let mut found = Vec::new();
        let bytes = line.as_bytes();
        let mut at = 0;
        while at < line.len() {
            let starts_word = line.is_char_boundary(at)
                && (at == 0 || !is_ident_byte(bytes[at - 1]) && bytes[at - 1] != b':');
            if starts_word {
                if let Some((base, rest)) = self.base_of(&line[at..]) {
                    for tail in tails(rest) {
                        let mut path = base.clone();
                        path.extend(tail);
                        found.push(path);
                    }
                    at += 1;
                    continue;
                }
            }
            at += 1;
        }
        found
    }

    /// The module a path starts from (`crate::`, `super::`, `self::`, or a
    /// child's name in a `use`), and what follows it.
    fn base_of<'a>(&self, text: &'a str) -> Option<(Vec<String>, &'a str)> {
        if let Some(rest) = text.strip_prefix("crate::") {
            return Some((Vec::new(), rest));
        }
        let mut base = self.module.clone();
        let mut rest = text;
        let mut relative = false;
        if let Some(after) = rest.strip_prefix("self::") {
            rest = after;
            relative = true;
        }
        // A file's module already counts `mod.rs` as its folder, so `super`
        // is always one step up from it.
        while let Some(after) = rest.strip_prefix("super::") {
            base.pop();
            rest = after;
            relative = true;
        }
        if relative {
            return Some((base, rest));
        }
        // `use child::…` names a child module declared in this file.
        let ident: String = text
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if self.children.contains(&ident) && text[ident.len()..].starts_with("::") {
            return Some((self.module.clone(), text));
        }
        None
    }
}

fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// The module paths after a base: `a::b::C` gives `[a, b, C]`; a group
/// `a::{b::C, d}` gives `[a, b, C]` and `[a, d]`.
fn tails(text: &str) -> Vec<Vec<String>> {
    let mut prefix = Vec::new();
    let mut rest = text;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            break;
        }
        rest = &rest[ident.len()..];
        prefix.push(ident);
        match rest.strip_prefix("::") {
            Some(after) => rest = after,
            None => return vec![prefix],
        }
    }
    if let Some(group) = rest.strip_prefix('{') {
        let group = &group[..group.find('}').unwrap_or(group.len())];
        return group
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                let mut path = prefix.clone();
                path.extend(tails(item).into_iter().next().unwrap_or_default());
                path
            })
            .collect();
    }
    vec![prefix]
}

/// Within every folder (the crate root included), the modules it holds that
/// import one another around a loop: each loop once, its members named from
/// the crate root and sorted.
pub fn cycles(tree: &SourceTree) -> Vec<Vec<String>> {
    let modules = tree.modules();
    let folders: BTreeSet<&[String]> = modules
        .iter()
        .filter(|module| !module.is_empty())
        .map(|module| &module[..module.len() - 1])
        .collect();
    let mut found = Vec::new();
    for folder in folders {
        let depth = folder.len();
        let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        // Unit tests beside a module may use what is built on it: nothing
        // imports them, so they close no loop of the code they test.
        for file in tree.files.iter().filter(|file| !file.is_test) {
            let Some(from) = child_within(folder, &file.module) else {
                continue;
            };
            edges.entry(from).or_default();
            for import in &file.imports {
                let resolved = longest_module(&modules, import);
                if let Some(to) = child_within(folder, resolved) {
                    if to != from {
                        edges.entry(from).or_default().insert(to);
                    }
                }
            }
        }
        for component in strongly_connected(&edges) {
            if component.len() > 1 {
                let mut names: Vec<String> = component
                    .iter()
                    .map(|child| {
                        let mut path = folder[..depth].to_vec();
                        path.push(child.to_string());
                        path.join("::")
                    })
                    .collect();
                names.sort();
                found.push(names);
            }
        }
    }
    found.sort();
    found
}

/// The child of `folder` that `module` is or lies within.
fn child_within<'a>(folder: &[String], module: &'a [String]) -> Option<&'a str> {
    (module.len() > folder.len() && module.starts_with(folder))
        .then(|| module[folder.len()].as_str())
}

/// The longest prefix of `path` that is a module of the tree: `crate::read::Gap` is `read`.
fn longest_module<'a>(modules: &BTreeSet<&[String]>, path: &'a [String]) -> &'a [String] {
    (0..=path.len())
        .rev()
        .map(|len| &path[..len])
        .find(|prefix| modules.contains(prefix))
        .unwrap_or(&[])
}

/// Tarjan's algorithm over a small graph.
fn strongly_connected<'a>(edges: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<Vec<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(node: &'a str, edges: &BTreeMap<&'a str, BTreeSet<&'a str>>, s: &mut State<'a>) {
        let index = s.index.len();
        s.index.insert(node, index);
        s.low.insert(node, index);
        s.stack.push(node);
        s.on_stack.insert(node);
        for &next in edges.get(node).into_iter().flatten() {
            if !s.index.contains_key(next) {
                visit(next, edges, s);
                let low = s.low[node].min(s.low[next]);
                s.low.insert(node, low);
            } else if s.on_stack.contains(next) {
                let low = s.low[node].min(s.index[next]);
                s.low.insert(node, low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut component = Vec::new();
            while let Some(member) = s.stack.pop() {
                s.on_stack.remove(member);
                component.push(member);
                if member == node {
                    break;
                }
            }
            s.components.push(component);
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for &node in edges.keys() {
        if !state.index.contains_key(node) {
            visit(node, edges, &mut state);
        }
    }
    state.components
}
