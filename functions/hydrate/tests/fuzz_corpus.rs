//! Replays the fuzz corpus (`fuzz/corpus/input/`) on stable, so CI keeps the
//! input layer's invariants without nightly or cargo-fuzz. The checks are the
//! fuzz target's own (`fuzz/src/check.rs`); `docs/fuzzing.md` tells how to
//! run the fuzzer.

#[path = "../../../fuzz/src/check.rs"]
mod check;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file in `dir`, sorted by name, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Runs the checks on one input; a broken invariant (or any other panic)
/// comes back as its message.
fn checked(bytes: &[u8]) -> Result<check::Outcome, String> {
    catch_unwind(AssertUnwindSafe(|| check::check(bytes))).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}

#[test]
fn every_corpus_input_keeps_the_invariants() {
    let corpus = files(&repo().join("fuzz/corpus/input"));
    assert!(
        corpus.len() >= 20,
        "the corpus has {} files, expected at least 20",
        corpus.len()
    );
    assert!(
        corpus.iter().any(|(_, bytes)| bytes
            .windows(check::MARKER.len())
            .any(|w| w == check::MARKER.as_bytes())),
        "some corpus input plants {}, or the leak check is never exercised",
        check::MARKER
    );
    let (mut invocations, mut objects, mut failures) = (0, 0, Vec::new());
    for (name, bytes) in &corpus {
        match checked(bytes) {
            Ok(outcome) => {
                invocations += usize::from(outcome.invocation);
                objects += usize::from(outcome.object);
            }
            Err(panic) => failures.push(format!("{name}: {panic}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus inputs break an invariant:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
    // The corpus reaches past the errors, into both parsers' success paths.
    assert!(invocations > 0, "no corpus input parses as an invocation");
    assert!(
        objects > 0,
        "no corpus input parses as an S3 on-failure object"
    );
}

#[test]
fn the_saved_events_parse_into_invocations() {
    let events: Vec<(String, Vec<u8>)> = files(&repo().join("events"))
        .into_iter()
        .filter(|(name, _)| name.ends_with(".json"))
        .collect();
    assert!(!events.is_empty(), "events/ has saved events");
    for (name, bytes) in &events {
        let outcome = checked(bytes).unwrap_or_else(|panic| panic!("{name}: {panic}"));
        if name.starts_with("bad-") {
            assert!(!outcome.invocation, "{name} is a bad event, yet it parsed");
            assert!(!outcome.classes.is_empty(), "{name}: no error class");
        } else {
            assert!(
                outcome.invocation,
                "{name} is a valid sample, yet it did not parse: {:?}",
                outcome.classes
            );
        }
    }
}
