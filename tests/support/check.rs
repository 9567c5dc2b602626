//! Assertions on hydrated documents: the schema, the Lambda event types, and
//! field-by-field equality with what was written to the stream, each read
//! through the library's own [`Document`] and the event crate's types.

use aws_lambda_events::event::kinesis::KinesisEventRecord;
use hydrate::Document;
use serde_json::Value;

use crate::stream::Written;

/// The document conforms to the version 1 JSON Schema.
pub fn assert_conforms_to_schema(document: &Value) {
    let errors: Vec<String> = document_schema()
        .iter_errors(document)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "document does not conform to the schema: {errors:#?}"
    );
}

/// The schema, compiled once a test binary: compiling it takes longer than
/// checking a document, over a second in a debug build on a loaded machine.
fn document_schema() -> &'static jsonschema::Validator {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path =
            crate::workspace_root().join("functions/hydrate/schema/hydrated-document.v1.json");
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file"))
                .expect("schema is JSON");
        jsonschema::validator_for(&schema).expect("schema compiles")
    })
}

/// The document read back as the library reads it; a test's document that
/// is not version 1 fails here.
pub fn read(document: &Value) -> Document {
    Document::parse(&document.to_string()).expect("a version 1 document")
}

/// `Records` are exactly `expected`, in order, field by field and byte by
/// byte, read as `aws_lambda_events`' Kinesis event record.
pub fn assert_records_are(
    document: &Value,
    expected: &[Written],
    stream_arn: &str,
    invoke_identity_arn: &str,
) {
    let records = read(document).records;
    assert_eq!(records.len(), expected.len(), "record count");
    let region = stream_arn.split(':').nth(3).expect("region in ARN");
    for (i, (record, written)) in records.iter().zip(expected).enumerate() {
        let record: KinesisEventRecord =
            serde_json::from_str(record.get()).expect("a record parses as a KinesisEventRecord");
        let kinesis = &record.kinesis;
        assert_eq!(
            kinesis.sequence_number, written.sequence_number,
            "record {i} sequence number"
        );
        assert_eq!(
            kinesis.partition_key, written.partition_key,
            "record {i} partition key"
        );
        assert!(
            kinesis.data.0 == written.data,
            "record {i} data differs ({} bytes read, {} written)",
            kinesis.data.0.len(),
            written.data.len()
        );
        assert_eq!(kinesis.kinesis_schema_version.as_deref(), Some("1.0"));
        let event_id = format!("{}:{}", written.shard_id, written.sequence_number);
        assert_eq!(record.event_id, Some(event_id));
        assert_eq!(record.event_source.as_deref(), Some("aws:kinesis"));
        assert_eq!(record.event_name.as_deref(), Some("aws:kinesis:record"));
        assert_eq!(record.event_version.as_deref(), Some("1.0"));
        assert_eq!(record.event_source_arn.as_deref(), Some(stream_arn));
        assert_eq!(record.aws_region.as_deref(), Some(region));
        assert_eq!(
            record.invoke_identity_arn.as_deref(),
            Some(invoke_identity_arn)
        );
    }
}

/// The `hydration` block's status, counts and gap reasons.
pub fn hydration(document: &Value) -> (&'static str, u64, u64, Vec<&'static str>) {
    let h = read(document).hydration;
    (
        h.status.as_str(),
        h.expected_records.into(),
        h.hydrated_records.into(),
        h.missing.iter().map(|gap| gap.reason.as_str()).collect(),
    )
}
