//! The hostile record shapes every trigger that carries a bare on-failure
//! record shares: direct invocations take them as they are, SNS in a
//! message, SQS as a message's body. Each is expected to be refused with the
//! same class (or hydrated the same way) whichever envelope it came in.

use serde_json::{json, Value};

use hydrator_tests::hostile::{esm_record, planted};

use super::{row, Make, Row};
use crate::expect::{input, Expect};
use crate::world::{deep_record, truncated, World};

/// The shared shapes, made from the valid record.
pub fn table(w: &World) -> Vec<Row> {
    let valid = w.valid();
    let with_context = |context: Value| {
        let mut record = valid.clone();
        record["requestContext"] = context;
        Make::Record(record)
    };
    let mut both = valid.clone();
    both["DDBStreamBatchInfo"] = w.ddb_batch(json!(3), &w.table_arn);
    let mut age_exceeded = w.kinesis(30, 32, 3);
    age_exceeded["requestContext"]["condition"] = json!("RecordAgeExceeded");
    age_exceeded
        .as_object_mut()
        .expect("a record is an object")
        .remove("responseContext");
    let mut function_error_null = w.kinesis(33, 34, 2);
    function_error_null["responseContext"]["functionError"] = Value::Null;

    let mut rows = vec![
        row(
            "record cut in half",
            Make::Text(truncated(&valid).into_bytes()),
            input("Input.InvalidJson"),
        ),
        row(
            "record with 300 nested arrays in it",
            Make::Text(deep_record(&valid, 300).into_bytes()),
            input("Input.InvalidJson"),
        ),
        row(
            "record with 10,000 nested arrays",
            Make::Text(deep_record(&valid, 10_000).into_bytes()),
            input("Input.InvalidJson"),
        ),
        row(
            "requestContext is a string",
            with_context(json!(planted("requestContext"))),
            input("Input.MalformedContext"),
        ),
        row(
            "requestContext is a JSON array",
            with_context(json!([planted("requestContext")])),
            input("Input.MalformedContext"),
        ),
        row(
            "KinesisBatchInfo is an array",
            Make::Record(esm_record("KinesisBatchInfo", json!([planted("x")]))),
            input("Input.MalformedBatchInfo"),
        ),
        row(
            "KinesisBatchInfo is a string",
            Make::Record(esm_record("KinesisBatchInfo", json!(planted("x")))),
            input("Input.MalformedBatchInfo"),
        ),
        row(
            "both KinesisBatchInfo and DDBStreamBatchInfo",
            Make::Record(both),
            input("Input.AmbiguousBatchInfo"),
        ),
        row(
            "batchSize 0",
            Make::Field("batchSize", Some(json!(0))),
            input("Input.BatchSizeOutOfRange"),
        ),
        row(
            "a 130-digit end",
            Make::Field("endSequenceNumber", Some(json!("5".repeat(130)))),
            input("Input.InvalidSequenceNumber"),
        ),
        row(
            "start after end",
            Make::Field("startSequenceNumber", Some(json!(w.seq(40)))),
            input("Input.StartAfterEnd"),
        ),
        row(
            "an end before the start",
            Make::Field("endSequenceNumber", Some(json!(w.seq(1)))),
            input("Input.StartAfterEnd"),
        ),
        row(
            "KinesisBatchInfo names a DynamoDB stream",
            Make::Field("streamArn", Some(json!(w.table_arn))),
            input("Input.StreamKindMismatch"),
        ),
        row(
            "an empty shard id",
            Make::Field("shardId", Some(json!(""))),
            input("Input.EmptyShardId"),
        ),
        row(
            "(documented) RecordAgeExceeded without responseContext",
            Make::Record(age_exceeded.clone()),
            Expect::Docs(vec![w.complete(&age_exceeded, 30, 3)]),
        ),
        row(
            "(documented) functionError null",
            Make::Record(function_error_null.clone()),
            Expect::Docs(vec![w.complete(&function_error_null, 33, 2)]),
        ),
    ];
    rows.extend(
        [
            "shardId",
            "startSequenceNumber",
            "endSequenceNumber",
            "batchSize",
            "streamArn",
        ]
        .map(|field| {
            row(
                format!("no {field}"),
                Make::Field(field, None),
                input("Input.MissingField"),
            )
        }),
    );
    rows
}
