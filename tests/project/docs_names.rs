//! The names the docs give cannot drift from the code: every variable the
//! function reads has a row in docs/configuration.md, every parameter of
//! infra/template.yaml a row with its default in docs/deployment.md, and every
//! variable or parameter a page names is read by the code or declared by the
//! template. (`cli/tests/docs_flags.rs` holds the tool's flags to its page.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hydrator_tests::workspace_root;
use serde_json::Value;

use crate::docs::{pages, Fences};
use crate::template::template;

/// Names the pages write like variables that no code of the project reads,
/// each with why it may be named.
const ALLOWED: &[(&str, &str)] = &[
    ("AWS_REGION", "the AWS SDK's and CLI's region"),
    ("AWS_PROFILE", "the AWS SDK's and CLI's profile"),
    (
        "AWS_ENDPOINT_URL_KINESIS",
        "the AWS SDK's endpoint for Kinesis",
    ),
    ("AWS_LAMBDA_LOG_FORMAT", "set by Lambda from LoggingConfig"),
    (
        "KEEP_EMULATORS",
        "scripts/lib.sh's, checked to be read there",
    ),
    ("TRIM_HORIZON", "a shard iterator type, not a variable"),
    ("AT_SEQUENCE_NUMBER", "a shard iterator type"),
    ("AFTER_SEQUENCE_NUMBER", "a shard iterator type"),
    ("KEYS_ONLY", "a DynamoDB stream view type"),
    ("NEW_IMAGE", "a DynamoDB stream view type"),
    ("OLD_IMAGE", "a DynamoDB stream view type"),
    ("NEW_AND_OLD_IMAGES", "a DynamoDB stream view type"),
    ("CAPABILITY_IAM", "a CloudFormation capability"),
    (
        "CARGO_TARGET_DIR",
        "cargo's own, for the benchmark's separate build",
    ),
    (
        "CARGO_PROFILE_RELEASE_DEBUG",
        "cargo's own, for a profiled build",
    ),
    (
        "CARGO_PROFILE_RELEASE_STRIP",
        "cargo's own, for a profiled build",
    ),
    (
        "CARGO_PROFILE_RELEASE_LTO",
        "cargo's own, for a profiled build made faster",
    ),
    (
        "CARGO_PROFILE_RELEASE_CODEGEN_UNITS",
        "cargo's own, for a profiled build made faster",
    ),
    (
        "LD_PRELOAD",
        "the dynamic loader's, for a heap profile of the artefact",
    ),
    (
        "DUMP_HEAPTRACK_OUTPUT",
        "heaptrack's own, where its preload library writes a heap profile",
    ),
    (
        "KAFKA_BOOTSTRAP_SERVERS",
        "scripts/emulators.sh's, where the tests find the local broker",
    ),
    (
        "SSL_CERT_FILE",
        "read by the system's trusted roots loader (rustls-native-certs), for every TLS connection",
    ),
    (
        "HTTPS_PROXY",
        "read by the SDK's HTTPS client (its ProxyConfig::from_env), for AWS calls",
    ),
    (
        "NO_PROXY",
        "read by the SDK's HTTPS client (its ProxyConfig::from_env), for AWS calls",
    ),
];

/// The variables' home page, and the parameters'.
const VARIABLES_HOME: &str = "docs/configuration.md";
const PARAMETERS_HOME: &str = "docs/deployment.md";

/// `UPPER_SNAKE`, with at least one underscore: how a variable is spelled.
fn is_variable_name(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_uppercase())
        && word.contains('_')
        && !word.ends_with('_')
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// `PascalCase`: how a template parameter is spelled.
fn is_parameter_name(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_uppercase())
        && word.chars().any(|c| c.is_ascii_lowercase())
        && word.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `source` without its test module, which opens with `#[cfg(test)]` at the margin.
fn without_test_module(source: &str) -> &str {
    source
        .find("#[cfg(test)]\nmod ")
        .map_or(source, |at| &source[..at])
}

/// Every `.rs` file under `dir` but `tests.rs` files, without test modules.
fn non_test_sources(dir: &Path, out: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a readable folder").path();
        if path.is_dir() {
            non_test_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs") {
            let source = std::fs::read_to_string(&path).expect("a source file");
            out.push(without_test_module(&source).to_owned());
        }
    }
}

/// The `"UPPER_SNAKE"` string literals of `source`, with the text before each.
fn quoted_names(source: &str) -> Vec<(&str, String)> {
    let mut found = Vec::new();
    for (i, _) in source.match_indices('"') {
        let rest = &source[i + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if is_variable_name(&name) && rest[name.len()..].starts_with('"') {
            found.push((&source[..i], name));
        }
    }
    found
}

/// The `UPPER_SNAKE` literals outside the tests of the crate in `dir`; with
/// `readers`, only those right after one of them.
fn literals(dir: &str, readers: &[&str]) -> BTreeSet<String> {
    let mut sources = Vec::new();
    non_test_sources(&workspace_root().join(dir), &mut sources);
    sources
        .iter()
        .flat_map(|source| quoted_names(source))
        .filter(|(before, _)| {
            readers.is_empty() || readers.iter().any(|r| before.trim_end().ends_with(r))
        })
        .map(|(_, name)| name)
        .collect()
}

/// Every variable the function reads. Any `UPPER_SNAKE` literal outside its
/// tests counts, so that a variable read through a new helper is not missed.
fn function_variables() -> BTreeSet<String> {
    let mut found = literals("functions/hydrate/src", &[]);
    for (name, _why) in NOT_VARIABLES {
        found.remove(*name);
    }
    found
}

/// Capitals the function writes as strings that are values, not variables,
/// each with what it is.
const NOT_VARIABLES: &[(&str, &str)] = &[
    (
        "CREATE_TIME",
        "a Kafka record's timestampType, as Lambda writes it",
    ),
    (
        "LOG_APPEND_TIME",
        "the other Kafka timestampType, for a topic of log-append time",
    ),
    (
        "CARGO_PKG_VERSION",
        "the crate's version, which cargo sets when it compiles (the MSK IAM token's user agent)",
    ),
];

/// Every variable the tool reads: clap's `env = "..."` and `std::env` reads
/// (its other capitals are placeholders in its help, `value_name`).
fn tool_variables() -> BTreeSet<String> {
    literals("cli/src", &["env =", "var(", "var_os("])
}

/// One page: its text outside fenced code, and the fenced code.
struct Page {
    name: String,
    prose: String,
    fenced: String,
}

/// A page by its path from the workspace root.
fn page(pages: &[Page], name: &str) -> String {
    let page = pages.iter().find(|p| p.name == name).expect("the page");
    page.prose.clone()
}

fn read_pages(root: &Path) -> Vec<Page> {
    pages(root)
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a page");
            let mut fences = Fences::default();
            let mut texts = [String::new(), String::new()];
            for line in text.lines() {
                texts[usize::from(fences.is_code(line))].push_str(&format!("{line}\n"));
            }
            let [prose, fenced] = texts;
            let name = path.strip_prefix(root).unwrap_or(&path).display();
            let name = name.to_string();
            Page {
                name,
                prose,
                fenced,
            }
        })
        .collect()
}

/// The `Name` of each `Name=value` word in `text`.
fn assigned(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .filter_map(|word| word.split_once('=').map(|(name, _)| name))
}

/// The inline code spans of `prose`, a span possibly broken across lines:
/// from a run of backticks to the next run of as many.
fn code_spans(prose: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut rest = prose;
    while let Some(open) = rest.find('`') {
        let inside = rest[open..].trim_start_matches('`');
        let fence = &rest[open..rest.len() - inside.len()];
        let close = (0..inside.len()).find(|&i| {
            inside.is_char_boundary(i)
                && inside[i..].starts_with(fence)
                && !inside[i + fence.len()..].starts_with('`')
                && !inside[..i].ends_with('`')
        });
        rest = match close {
            Some(i) => {
                spans.push(inside[..i].replace('\n', " "));
                &inside[i + fence.len()..]
            }
            None => inside,
        };
    }
    spans
}

/// The variables a page names: a code span that is `NAME`, `NAME=value` or
/// `PREFIX_*`, and `NAME=value` in fenced code (a shell's or `--env-var`'s).
fn variables_named(page: &Page) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for span in code_spans(&page.prose) {
        let span = span.trim();
        let end = span
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(span.len());
        let (word, rest) = span.split_at(end);
        if is_variable_name(word) && (rest.is_empty() || rest.starts_with('=')) {
            named.insert(word.to_owned());
        } else if rest == "*" && word.ends_with('_') && is_variable_name(&format!("{word}X")) {
            named.insert(span.to_owned());
        }
    }
    let assignments = assigned(&page.fenced).filter(|name| is_variable_name(name));
    named.extend(assignments.map(str::to_owned));
    named
}

/// The rows, as cells, of every table on `prose` whose first header cell is `header`.
fn table_rows(prose: &str, header: &str) -> Vec<Vec<String>> {
    let cells = |line: &str| -> Vec<String> {
        let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
        inner.split('|').map(|c| c.trim().to_owned()).collect()
    };
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in prose.lines() {
        if !line.trim_start().starts_with('|') {
            in_table = false;
            continue;
        }
        let row = cells(line);
        if row[0].eq_ignore_ascii_case(header) {
            in_table = true;
        } else if in_table && !row[0].starts_with("---") {
            rows.push(row);
        }
    }
    rows
}

/// A cell's name as written: `` `Name` ``.
fn unquoted(cell: &str) -> &str {
    cell.trim_matches('`')
}

/// The names in the first column of `prose`'s tables headed `header`.
fn first_column(prose: &str, header: &str) -> BTreeSet<String> {
    let rows = table_rows(prose, header);
    rows.iter()
        .map(|row| unquoted(&row[0]).to_owned())
        .collect()
}

/// The parameters a page names: the first column of its parameter tables,
/// and `Name=value` in a code span (a parameter override).
fn parameters_named(page: &Page) -> BTreeSet<String> {
    let mut named = first_column(&page.prose, "parameter");
    for span in code_spans(&page.prose) {
        let overrides = assigned(&span).filter(|name| is_parameter_name(name));
        named.extend(overrides.map(str::to_owned));
    }
    named
}

/// The template's parameters, each with its default as written.
fn template_parameters() -> BTreeMap<String, String> {
    let template = template("infra/template.yaml");
    let parameters = template["Parameters"].as_object().expect("parameters");
    parameters
        .iter()
        .map(|(name, parameter)| {
            let default = match &parameter["Default"] {
                Value::String(text) => text.clone(),
                Value::Null => panic!("{name} has no default"),
                other => other.to_string(),
            };
            (name.clone(), default)
        })
        .collect()
}

#[track_caller]
fn assert_none(problems: &[String], what: &str) {
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

#[test]
fn every_variable_the_function_reads_has_a_row_in_the_configuration_table() {
    let variables = function_variables();
    assert!(
        variables.len() >= 20 && variables.contains("DLQ_QUEUE_URL"),
        "the function's settings were read: {variables:?}"
    );
    let pages = read_pages(&workspace_root());
    let rows = first_column(&page(&pages, VARIABLES_HOME), "variable");
    let missing: Vec<String> = variables.difference(&rows).cloned().collect();
    assert_none(&missing, "variables the function reads, not in the table");
}

#[test]
fn every_variable_the_docs_name_is_read_by_the_code() {
    let root = workspace_root();
    let mut known = function_variables();
    let tool = tool_variables();
    assert!(
        tool.contains("ON_FAILURE_QUEUE_URL") && !tool.contains("SHARD_ID"),
        "the tool's variables were read, and its placeholders left: {tool:?}"
    );
    known.extend(tool);
    let lib = std::fs::read_to_string(root.join("scripts/lib.sh")).expect("scripts/lib.sh");
    assert!(lib.contains("${KEEP_EMULATORS"), "KEEP_EMULATORS is read");
    known.extend(ALLOWED.iter().map(|(name, _)| name.to_string()));
    known.extend(NOT_VARIABLES.iter().map(|(name, _)| name.to_string()));

    let mut unknown = Vec::new();
    let mut seen = 0;
    for page in read_pages(&root) {
        for name in variables_named(&page) {
            seen += 1;
            let exists = match name.strip_suffix('*') {
                Some(prefix) => known.iter().any(|k| k.starts_with(prefix)),
                None => known.contains(&name),
            };
            if !exists {
                unknown.push(format!("{}: {name}", page.name));
            }
        }
    }
    assert!(seen >= 30, "only {seen} variables found on the pages");
    assert_none(&unknown, "variables the pages name that no code reads");
}

#[test]
fn every_template_parameter_has_a_row_with_its_default() {
    let parameters = template_parameters();
    assert!(parameters.len() >= 20, "the template was read");
    let pages = read_pages(&workspace_root());
    let home = first_column(&page(&pages, PARAMETERS_HOME), "parameter");
    let declared: BTreeSet<String> = parameters.keys().cloned().collect();
    let missing: Vec<String> = declared.difference(&home).cloned().collect();
    assert_none(&missing, "parameters with no row in the parameter table");
    // Every parameter table, wherever it is, gives the template's default.
    let mut wrong = Vec::new();
    for page in &pages {
        for row in table_rows(&page.prose, "parameter") {
            let Some(default) = parameters.get(unquoted(&row[0])) else {
                continue;
            };
            let written = row.get(1).map_or("", |cell| cell.as_str());
            let first = unquoted(written.split_whitespace().next().unwrap_or_default());
            let expected = if default.is_empty() { "empty" } else { default };
            if first != expected {
                wrong.push(format!("{}: {} is {expected}", page.name, row[0]));
            }
        }
    }
    assert_none(&wrong, "defaults the pages give wrong");
}

#[test]
fn every_parameter_the_docs_name_is_in_the_template() {
    let parameters = template_parameters();
    let mut unknown = Vec::new();
    for page in read_pages(&workspace_root()) {
        for name in parameters_named(&page) {
            if !parameters.contains_key(&name) {
                unknown.push(format!("{}: {name}", page.name));
            }
        }
    }
    assert_none(
        &unknown,
        "parameters the pages name that the template does not declare",
    );
}

#[test]
fn the_scanners_read_names_as_written() {
    let page = Page {
        name: "sample.md".into(),
        prose: "| parameter | default |\n| --- | --- |\n| `Timeout` | 120 |\n\n\
                Set `DLQ_QUEUE_URL`, `METRICS_*` and `KEEP_EMULATORS=1 scripts/demo.sh`;\n\
                not `TRIM` nor `Big_Word` nor ``a `AWS_X` b``; override `--parameter-overrides\n\
                Architecture=x86_64` and `CreateFailureBucket=true`.\n"
            .into(),
        fenced: "cargo lambda deploy --env-var READ_MAX_BYTES=1\nMaximumConcurrency=2\n".into(),
    };
    let variables: Vec<String> = variables_named(&page).into_iter().collect();
    let expected = [
        "DLQ_QUEUE_URL",
        "KEEP_EMULATORS",
        "METRICS_*",
        "READ_MAX_BYTES",
    ];
    assert_eq!(variables, expected);
    let parameters: Vec<String> = parameters_named(&page).into_iter().collect();
    assert_eq!(
        parameters,
        ["Architecture", "CreateFailureBucket", "Timeout"]
    );

    let source = "var(\"ONE_NAME\");\n\"two\";\n#[cfg(test)]\nmod tests {\n    \"TEST_ONLY\"\n}\n";
    let names = quoted_names(without_test_module(source));
    assert_eq!(names, [("var(", "ONE_NAME".to_owned())]);
}
