//! Every saved event in `events/` parses as its README says.

use hydrate::{parse_invocation as parse, Invocation};

/// File, and the number of good failure records it holds (for SQS, the
/// messages that parse) or the error class it gets.
const EXPECTED: &[(&str, Result<usize, &str>)] = &[
    ("sns-kinesis-failure.json", Ok(1)),
    ("sns-kinesis-failure-single-record.json", Ok(1)),
    ("kinesis-failure-direct.json", Ok(1)),
    ("sns-dynamodb-failure.json", Ok(1)),
    ("pipes-dynamodb-failure-direct.json", Ok(1)),
    ("pipes-kinesis-failure-direct.json", Ok(1)),
    ("sqs-failures-one-malformed.json", Ok(2)),
    ("s3-failure-object-created.json", Ok(1)),
    ("bad-sns-kinesis-start-after-end.json", Err("StartAfterEnd")),
];

#[test]
fn every_saved_event_parses_as_documented() {
    let dir = hydrator_tests::workspace_root().join("events");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("events/ exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = EXPECTED.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "every saved event is listed here, and every listed one exists"
    );

    for (file, expected) in EXPECTED {
        let payload = std::fs::read_to_string(dir.join(file)).expect("readable");
        let parsed = parse(payload.as_bytes()).map(|invocation| match invocation {
            Invocation::Whole(sources) => sources.len(),
            Invocation::Queue(messages) => messages.iter().filter(|m| m.content.is_ok()).count(),
        });
        match (parsed, expected) {
            (Ok(records), Ok(count)) => assert_eq!(records, *count, "{file}"),
            (Err(error), Err(class)) => assert_eq!(error.class(), *class, "{file}: {error}"),
            (got, _) => panic!("{file}: expected {expected:?}, got {got:?}"),
        }
    }
}
