//! Assertions on hydrated documents: the schema, the Lambda event types, and
//! field-by-field equality with what was written to the stream.

use base64::Engine;
use serde_json::Value;

use crate::stream::Written;

/// The document conforms to the version 1 JSON Schema.
pub fn assert_conforms_to_schema(document: &Value) {
    let path = crate::workspace_root().join("functions/hydrate/schema/hydrated-document.v1.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file"))
        .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "document does not conform to the schema: {errors:#?}"
    );
}

/// `Records` are exactly `expected`, in order, field by field and byte by
/// byte, and parse as `aws_lambda_events`' Kinesis event.
pub fn assert_records_are(
    document: &Value,
    expected: &[Written],
    stream_arn: &str,
    invoke_identity_arn: &str,
) {
    let records = document["Records"].as_array().expect("Records is an array");
    assert_eq!(records.len(), expected.len(), "record count");
    let region = stream_arn.split(':').nth(3).expect("region in ARN");
    for (i, (record, written)) in records.iter().zip(expected).enumerate() {
        let kinesis = &record["kinesis"];
        assert_eq!(
            kinesis["sequenceNumber"],
            written.sequence_number.as_str(),
            "record {i} sequence number"
        );
        assert_eq!(
            kinesis["partitionKey"],
            written.partition_key.as_str(),
            "record {i} partition key"
        );
        let data = base64::engine::general_purpose::STANDARD
            .decode(kinesis["data"].as_str().expect("data"))
            .expect("base64");
        assert!(
            data == written.data,
            "record {i} data differs ({} bytes read, {} written)",
            data.len(),
            written.data.len()
        );
        assert_eq!(kinesis["kinesisSchemaVersion"], "1.0");
        assert!(
            kinesis["approximateArrivalTimestamp"].is_f64()
                || kinesis["approximateArrivalTimestamp"].is_u64()
        );
        assert_eq!(
            record["eventID"],
            format!("{}:{}", written.shard_id, written.sequence_number)
        );
        assert_eq!(record["eventSource"], "aws:kinesis");
        assert_eq!(record["eventName"], "aws:kinesis:record");
        assert_eq!(record["eventVersion"], "1.0");
        assert_eq!(record["eventSourceARN"], stream_arn);
        assert_eq!(record["awsRegion"], region);
        assert_eq!(record["invokeIdentityArn"], invoke_identity_arn);
    }
    let event: aws_lambda_events::event::kinesis::KinesisEvent =
        serde_json::from_value(serde_json::json!({ "Records": records }))
            .expect("Records parse as aws_lambda_events KinesisEvent");
    for (parsed, written) in event.records.iter().zip(expected) {
        assert_eq!(parsed.kinesis.data.0, written.data);
    }
}

/// The `hydration` block's status, counts and gap reasons.
pub fn hydration(document: &Value) -> (&str, u64, u64, Vec<&str>) {
    let h = &document["hydration"];
    let reasons = h["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .map(|m| m["reason"].as_str().expect("reason"))
        .collect();
    (
        h["status"].as_str().expect("status"),
        h["expectedRecords"].as_u64().expect("expectedRecords"),
        h["hydratedRecords"].as_u64().expect("hydratedRecords"),
        reasons,
    )
}
