//! The source layout keeps its promises: within every folder of a crate the
//! modules it holds import one another in one direction only (no circle,
//! direct or around a loop, counting everything inside each module but the
//! unit tests beside it), every module opens with a comment that says what
//! it is for, no source file outside tests has more than 400 lines of code,
//! and the crate's map (`lib.rs`) and the README name every folder.
//!
//! The modules of a folder are its files and subfolders, each taken whole;
//! the folder's own `mod.rs` is its face to the rest of the crate, so a face
//! that re-exports a child which uses the face's shared types is Rust's
//! ordinary module, not a circle. Circles between peers are what the layout
//! forbids: across the crate's folders, and between the files of a folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hydrator_tests::layout::{cycles, SourceTree};
use hydrator_tests::workspace_root;

/// The crates whose layout is held to this.
const CRATES: &[&str] = &["functions/hydrate/src", "cli/src", "tests/support"];

/// The crates whose `lib.rs` is a map of their folders, as the README's is.
const MAPPED: &[&str] = &["functions/hydrate/src", "cli/src"];

fn trees() -> Vec<(String, SourceTree)> {
    CRATES
        .iter()
        .map(|dir| {
            let tree =
                SourceTree::read(&workspace_root().join(dir)).expect("the crate's sources read");
            (dir.to_string(), tree)
        })
        .collect()
}

#[test]
fn no_two_modules_import_each_other_in_any_folder() {
    for (dir, tree) in trees() {
        let found = cycles(&tree);
        assert!(
            found.is_empty(),
            "{dir}: modules of one folder in an import circle: {found:#?}"
        );
    }
}

#[test]
fn every_module_says_what_it_is_for() {
    for (dir, tree) in trees() {
        let silent: Vec<&PathBuf> = tree
            .files
            .iter()
            .filter(|file| !file.is_test && !file.opens_with_module_doc)
            .map(|file| &file.path)
            .collect();
        assert!(
            silent.is_empty(),
            "{dir}: modules without a `//!` opening comment: {silent:?}"
        );
    }
}

#[test]
fn no_source_file_outside_tests_is_over_400_lines_of_code() {
    for (dir, tree) in trees() {
        let long: BTreeMap<&Path, usize> = tree
            .files
            .iter()
            .filter(|file| !file.is_test && file.lines_of_code > 400)
            .map(|file| (file.path.as_path(), file.lines_of_code))
            .collect();
        assert!(
            long.is_empty(),
            "{dir}: files over 400 lines of code: {long:?}"
        );
    }
}

#[test]
fn the_crate_map_and_the_readme_name_every_folder() {
    let readme =
        std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md reads");
    for (dir, tree) in trees()
        .into_iter()
        .filter(|(dir, _)| MAPPED.contains(&dir.as_str()))
    {
        let lib = std::fs::read_to_string(workspace_root().join(&dir).join("lib.rs"))
            .expect("lib.rs reads");
        let folders: BTreeSet<&str> = tree.top_level_folders().collect();
        assert!(!folders.is_empty(), "{dir} has folders");
        for folder in folders {
            assert!(
                lib.contains(&format!("`{folder}`")),
                "{dir}/lib.rs does not name `{folder}`"
            );
            assert!(
                readme.contains(&format!("src/{folder}/")),
                "the README's layout does not name {dir}/{folder}/"
            );
        }
    }
}

/// The checker itself finds a circle where there is one, and none in a
/// tree whose imports run one way.
#[test]
fn the_circle_check_finds_a_planted_circle() {
    let planted = SourceTree::from_files(&[
        ("lib.rs", "//! root\nmod a;\nmod b;\nmod c;\n"),
        ("a.rs", "//! a\nuse crate::b::Thing;\n"),
        ("b.rs", "//! b\nfn f() { crate::c::g() }\n"),
        ("c/mod.rs", "//! c\nmod d;\nmod e;\n"),
        (
            "c/d.rs",
            "//! d\nuse super::e::X;\n// use crate::a::Y; a comment is no import\n",
        ),
        ("c/e.rs", "//! e\nuse crate::a::{Y, Z};\n"),
    ]);
    assert_eq!(
        cycles(&planted),
        vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]
    );
    let one_way = SourceTree::from_files(&[
        ("lib.rs", "//! root\nmod a;\nmod b;\n"),
        ("a.rs", "//! a\nuse crate::b::Thing;\n"),
        ("b/mod.rs", "//! b\nmod c;\nmod d;\npub use c::Thing;\n"),
        ("b/c.rs", "//! c\nuse super::d::X;\nuse super::Other;\n"),
        ("b/d.rs", "//! d\n"),
    ]);
    assert!(cycles(&one_way).is_empty());
    let parent_and_child = SourceTree::from_files(&[
        ("lib.rs", "//! root\nmod a;\n"),
        (
            "a/mod.rs",
            "//! a\nmod b;\npub use b::Thing;\npub struct Other;\n",
        ),
        ("a/b.rs", "//! b\nuse super::{Other, Another};\n"),
    ]);
    // A folder's face (`mod.rs`) and its children are one module to the
    // rest: a face that re-exports a child which uses the face's shared
    // types is Rust's ordinary module, not a loop between peers.
    assert!(cycles(&parent_and_child).is_empty());

    let siblings = SourceTree::from_files(&[
        ("lib.rs", "//! root\nmod a;\n"),
        ("a/mod.rs", "//! a\nmod b;\nmod c;\n"),
        ("a/b.rs", "//! b\nuse super::c::X;\n"),
        ("a/c.rs", "//! c\nuse crate::a::b::Y;\n"),
    ]);
    assert_eq!(
        cycles(&siblings),
        vec![vec!["a::b".to_owned(), "a::c".to_owned()]]
    );
}
