//! The input layer's invariants, for any bytes at all. One file, included
//! with `#[path]` by the fuzz target (`fuzz/fuzz_targets/input.rs`) and by the
//! corpus replay test (`functions/hydrate/tests/fuzz_corpus.rs`), so the
//! fuzzer and CI check exactly the same things.

use hydrate::FailureObject;
use hydrate::{parse_invocation, Invocation};

/// Planted in seeds and in the fuzzer's dictionary. Error texts are fixed
/// words, field names and numbers, so this string can only appear in one
/// when input data leaked into it (whether the input spelt it out or wrote
/// it with JSON escapes).
pub const MARKER: &str = "ZQXMARKER";

/// What the two parsers made of one input.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `trigger::parse` returned an invocation.
    pub invocation: bool,
    /// `FailureObject::parse` returned an object.
    pub object: bool,
    /// The class of every error: the payload's, each SQS message's, the object's.
    pub classes: Vec<String>,
}

/// Feeds `bytes` to `trigger::parse` (an invocation payload) and to
/// `FailureObject::parse` (an S3 on-failure object), and panics if an
/// invariant breaks:
/// - neither parser panics;
/// - every error has a class: a letter, then ASCII letters, digits and dots
///   (`NotUtf8`, `Input.StartAfterEnd`);
/// - no error's text (`Display`) or class contains [`MARKER`].
pub fn check(bytes: &[u8]) -> Outcome {
    let mut outcome = Outcome::default();
    match parse_invocation(bytes) {
        Ok(Invocation::Whole(_)) => outcome.invocation = true,
        Ok(Invocation::Queue(messages)) => {
            outcome.invocation = true;
            for message in &messages {
                if let Err(error) = &message.content {
                    outcome.classes.push(classified(
                        "an SQS message",
                        error.class(),
                        &error.to_string(),
                    ));
                }
            }
        }
        Err(error) => {
            outcome
                .classes
                .push(classified("the payload", error.class(), &error.to_string()));
        }
    }
    match FailureObject::parse(bytes) {
        Ok(_) => outcome.object = true,
        Err(error) => {
            outcome.classes.push(classified(
                "the S3 object",
                error.class(),
                &error.to_string(),
            ));
        }
    }
    outcome
}

/// Checks one error's class and text; returns the class.
fn classified(what: &str, class: &str, message: &str) -> String {
    assert!(
        class.starts_with(|c: char| c.is_ascii_alphabetic())
            && class.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'),
        "{what}: error class {class:?} is not a word of ASCII letters, digits and dots (error: {message})"
    );
    assert!(
        !class.contains(MARKER),
        "{what}: error class {class:?} quotes input data"
    );
    assert!(
        !message.contains(MARKER),
        "{what}: {class} error quotes input data: {message}"
    );
    class.to_owned()
}
