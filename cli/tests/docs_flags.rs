//! docs/operations.md and the command line cannot drift apart: every flag
//! and environment variable the tool takes is named there, and every flag
//! named there is one the tool takes (or one of the few other programs' the
//! page shows: cargo's and cargo lambda's).

use std::collections::BTreeSet;

use clap::CommandFactory;
use hydrator_cli::args::Cli;

/// Flags of other programs the page shows in their commands.
const OTHER_PROGRAMS: &[&str] = &["release", "path", "data-file"];

fn flags_and_variables() -> (BTreeSet<String>, BTreeSet<String>) {
    let mut flags = BTreeSet::new();
    let mut variables = BTreeSet::new();
    let mut commands = vec![Cli::command()];
    while let Some(command) = commands.pop() {
        for arg in command.get_arguments() {
            flags.extend(arg.get_long().map(str::to_owned));
            flags.extend(
                arg.get_visible_aliases()
                    .into_iter()
                    .flatten()
                    .map(str::to_owned),
            );
            if let Some(variable) = arg.get_env() {
                variables.insert(variable.to_string_lossy().into_owned());
            }
        }
        commands.extend(command.get_subcommands().cloned());
    }
    for builtin in ["help", "version"] {
        flags.remove(builtin);
    }
    (flags, variables)
}

fn page() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operations.md");
    std::fs::read_to_string(path).expect("docs/operations.md")
}

/// Every `--flag` on the page.
fn flags_named(page: &str) -> BTreeSet<String> {
    page.split("--")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                .collect::<String>()
        })
        .filter(|flag| flag.starts_with(|c: char| c.is_ascii_lowercase()))
        .collect()
}

#[test]
fn every_flag_and_variable_of_the_tool_is_documented() {
    let (flags, variables) = flags_and_variables();
    assert!(flags.len() > 30, "the command line was read: {flags:?}");
    let named = flags_named(&page());
    let missing: Vec<&String> = flags.iter().filter(|f| !named.contains(*f)).collect();
    assert!(
        missing.is_empty(),
        "flags not in docs/operations.md: {missing:?}"
    );
    let page = page();
    let missing: Vec<&String> = variables
        .iter()
        .filter(|v| !page.contains(v.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "variables not in docs/operations.md: {missing:?}"
    );
}

#[test]
fn every_flag_the_docs_name_exists() {
    let (flags, _) = flags_and_variables();
    let unknown: Vec<String> = flags_named(&page())
        .into_iter()
        .filter(|f| !flags.contains(f) && !OTHER_PROGRAMS.contains(&f.as_str()) && f != "help")
        .collect();
    assert!(
        unknown.is_empty(),
        "flags in docs/operations.md the tool does not take: {unknown:?}"
    );
}
