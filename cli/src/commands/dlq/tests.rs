use super::*;
use crate::output::file_names::{file_stem, MAX_FILE_NAME, TAKEN_ROOM};
use crate::output::report::printable;
use crate::sources::assemble::Failure;
use serde_json::json;
use std::collections::HashSet;
use tempfile::TempDir;

/// A new folder in the temporary folder, removed when dropped.
fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("hydrator-dlq-")
        .tempdir()
        .unwrap()
}

/// A DynamoDB failure of `table`, with one record.
fn failure(table: &str) -> Failure {
    let arn = format!(
        "arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-11-21T06:00:00.000"
    );
    Failure {
        document: json!({
            "version": "1",
            "source": "aws:dynamodb",
            "failure": {"DDBStreamBatchInfo": {
                "streamArn": arn,
                "shardId": "shardId-00000001763452800000-8a4b1f3e",
                "startSequenceNumber": "4321000000000012345678901",
                "endSequenceNumber": "4321000000000012345678999",
                "batchSize": 1}},
            "hydration": {"status": "complete"},
            "Records": [{"eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"id": {"S": "1"}}}}]
        }),
        messages: Vec::new(),
        parts: 1,
    }
}

/// Saves `tables`' failures under a new folder: the report and the folder
/// (removed when dropped).
fn saved(tables: &[&str]) -> (Report, TempDir) {
    let assembled = Assembled {
        failures: tables.iter().map(|t| failure(t)).collect(),
        ..Assembled::default()
    };
    let dir = temp_dir();
    let mut report = report_of(0, &assembled, SystemTime::now());
    save_all(dir.path(), &assembled, &mut report);
    (report, dir)
}

fn name_of(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

fn is_safe(name: &str) -> bool {
    name.len() <= MAX_FILE_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

#[test]
fn the_longest_table_name_is_saved_under_a_bounded_name() {
    // 255 characters, the most DynamoDB allows.
    let table = "t".repeat(255);
    let (report, dir) = saved(&[&table]);
    let row = &report.failures[0];
    assert_eq!(row.error, None);
    assert_eq!(row.files.len(), 2);
    for path in &row.files {
        let name = name_of(path);
        assert!(is_safe(name), "{name} ({} bytes)", name.len());
        assert_eq!(path.parent(), Some(dir.path()));
        let written: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(written["Records"].as_array().map(Vec::len), Some(1));
    }
    // The pair shares its stem, so replay and redrive find the event.
    let whole = name_of(&row.files[0]).strip_suffix(".json").unwrap();
    assert_eq!(name_of(&row.files[1]), format!("{whole}.event.json"));
    // Still recognisable: as much of the name as fits, then the hash.
    assert!(whole.contains(&"t".repeat(100)), "{whole}");
}

#[test]
fn unsafe_characters_never_reach_a_file_name() {
    let names = [
        "../../etc/passwd",
        "a/b\\c",
        "..",
        "line\nbreak\r\0nul",
        "commandes-été-注文-🚀",
        "",
    ];
    let (report, dir) = saved(&names);
    let mut seen = HashSet::new();
    for row in &report.failures {
        assert_eq!(row.error, None);
        for path in &row.files {
            let name = name_of(path);
            assert!(is_safe(name), "{name:?}");
            assert_eq!(path.parent(), Some(dir.path()), "{path:?}");
            assert!(path.exists());
            assert!(seen.insert(name.to_owned()), "{name} twice");
        }
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2 * names.len()
    );
}

#[test]
fn long_names_that_differ_only_at_the_end_get_different_files() {
    let one = format!("{}-a", "x".repeat(298));
    let two = format!("{}-b", "x".repeat(298));
    let (report, _dir) = saved(&[&one, &two]);
    let (a, b) = (&report.failures[0].files[0], &report.failures[1].files[0]);
    assert_ne!(a, b);
    assert!(is_safe(name_of(a)) && is_safe(name_of(b)));
    // Without the run's bookkeeping too: the hash tells them apart.
    assert_ne!(file_stem(&one, 150), file_stem(&two, 150));
    // And a name changed by sanitizing never takes a safe name's file.
    assert_ne!(file_stem("a/b", 150), file_stem("a_b", 150));
}

#[test]
fn stems_are_cut_to_their_room_and_short_safe_names_kept_as_they_are() {
    assert_eq!(
        file_stem("orders.shardId-000000000000.4968", 181),
        "orders.shardId-000000000000.4968"
    );
    for len in [150, 181, 182, 400] {
        let stem = file_stem(&"é".repeat(len), 181);
        assert!(stem.len() <= 181 && is_safe(&stem), "{stem}");
    }
    let taken = Names::new(Path::new("d")).claim(&"n".repeat(500), &[".json"]);
    assert_eq!(name_of(&taken[0]).len(), MAX_FILE_NAME - TAKEN_ROOM);
}

#[test]
fn the_same_name_twice_gets_a_second_file_even_when_only_case_differs() {
    let (report, _dir) = saved(&["orders", "orders", "Orders"]);
    let names: Vec<&str> = report
        .failures
        .iter()
        .map(|f| name_of(&f.files[1]))
        .collect();
    assert_eq!(
        names,
        [
            "orders.shardId-00000001763452800000-8a4b1f3e.4321000000000012345678901.event.json",
            "orders.shardId-00000001763452800000-8a4b1f3e.4321000000000012345678901_2.event.json",
            "Orders.shardId-00000001763452800000-8a4b1f3e.4321000000000012345678901_3.event.json",
        ]
    );
}

#[test]
fn a_failure_that_cannot_be_written_is_reported_and_the_rest_are_saved() {
    let assembled = Assembled {
        failures: vec![failure("first"), failure("blocked"), failure("last")],
        incomplete: Vec::new(),
        unrecognized: vec![Message {
            message_id: "m-1".into(),
            receipt_handle: "r".into(),
            body: "{\"secret\": \"4111 1111 1111 1111\"}".into(),
        }],
    };
    let dir = temp_dir();
    // A folder where the second failure's document goes: that write fails.
    let blocked = Names::new(dir.path()).claim(
        "blocked.shardId-00000001763452800000-8a4b1f3e.4321000000000012345678901",
        &[".json"],
    );
    std::fs::create_dir(&blocked[0]).unwrap();
    let mut report = report_of(4, &assembled, SystemTime::now());
    save_all(dir.path(), &assembled, &mut report);

    let [first, second, last] = &report.failures[..] else {
        panic!()
    };
    assert_eq!((first.error.as_ref(), last.error.as_ref()), (None, None));
    assert!(first.files.iter().chain(&last.files).all(|p| p.is_file()));
    let error = second.error.as_deref().expect("reported");
    assert!(
        error.contains("cannot write") && error.contains("blocked."),
        "{error}"
    );
    assert!(second.files.is_empty());
    assert_eq!(
        report.unrecognized[0].file.as_ref().map(|p| p.is_file()),
        Some(true)
    );
    // Nothing half-written is left for replay to trip on.
    let event = blocked[0].with_file_name(name_of(&blocked[0]).replace(".json", ".event.json"));
    assert!(!event.exists());
    // The report names the file, never the record.
    assert!(!serde_json::to_string(&report).unwrap().contains("4111"));
}

#[test]
fn printed_values_cannot_drive_the_terminal() {
    assert_eq!(printable("a\u{1b}[2Jb\nc"), "a?[2Jb?c");
    assert_eq!(printable(&"x".repeat(150)).chars().count(), 101);
}
