//! EventBridge Pipes dead-letter records: a `context` naming the pipe in
//! place of the event source mapping's `requestContext`. Good Kinesis and
//! DynamoDB records, a context that is not an object, DynamoDB stream ARNs
//! that cannot be, and a batch of them through SQS.

use serde_json::json;

use hydrator_tests::hostile::{pipes_record, planted, sqs_event, text, MARKER};
use hydrator_tests::stream::unique_suffix;

use super::{row, Make, Row};
use crate::expect::{input, Expect};
use crate::world::{bytes, replace_region, World};

pub fn table(w: &World) -> Vec<Row> {
    let kinesis = |first: usize, last: usize, size: u64| {
        pipes_record(
            "KinesisBatchInfo",
            w.kinesis(first, last, size)["KinesisBatchInfo"].clone(),
        )
    };
    let dynamodb = |arn: &str| pipes_record("DDBStreamBatchInfo", w.ddb_batch(json!(3), arn));
    let good = kinesis(12, 15, 4);
    let good_ddb = dynamodb(&w.table_arn);
    let mut context_string = good.clone();
    context_string["context"] = json!(planted("context"));
    let mut end_of_letters = w.ddb_batch(json!(3), &w.table_arn);
    end_of_letters["endSequenceNumber"] = json!(planted("100000"));
    let wide = kinesis(2, 52, 1);
    let bad_table_arns = [
        ("a table name of 2 characters", w.table_arn_named("ab")),
        (
            "a table name of 256 characters",
            w.table_arn_named(&"t".repeat(256)),
        ),
        (
            "a table name with the marker and a quote",
            w.table_arn_named(&format!("t\"{MARKER}")),
        ),
        (
            "a DynamoDB stream in the made-up region eu-fake-1",
            replace_region(&w.table_arn, "eu-fake-1"),
        ),
    ];

    // Through SQS: one good Kinesis record next to a table name AWS refuses.
    let via_sqs_good = kinesis(54, 56, 3);
    let (good_id, bad_id) = (
        format!("pipe-good-{}", unique_suffix()),
        format!("pipe-bad-{}", unique_suffix()),
    );
    let via_sqs = bytes(&sqs_event(&[
        (good_id, text(&via_sqs_good)),
        (bad_id.clone(), text(&dynamodb(&w.table_arn_named("ab")))),
    ]));

    let mut rows = vec![
        row(
            "a Kinesis dead-letter record",
            Make::Record(good.clone()),
            Expect::Docs(vec![w.piped(w.complete(&good, 12, 4), 12, 4)]),
        ),
        row(
            "a DynamoDB dead-letter record",
            Make::Record(good_ddb.clone()),
            Expect::Docs(vec![w.ddb_complete(&good_ddb)]),
        ),
        // The context is copied into the document, so one that is not an
        // object is refused, as a `requestContext` is.
        row(
            "context is a string",
            Make::Record(context_string),
            input("Input.MalformedContext"),
        ),
        row(
            "DDBStreamBatchInfo names a Kinesis stream",
            Make::Record(dynamodb(&w.small_arn)),
            input("Input.StreamKindMismatch"),
        ),
        row(
            "a DynamoDB end of letters",
            Make::Record(pipes_record("DDBStreamBatchInfo", end_of_letters)),
            input("Input.InvalidSequenceNumber"),
        ),
        row(
            "forged wide range, batchSize 1 over 51 records",
            Make::Record(wide.clone()),
            Expect::Docs(vec![w.piped(w.over_budget(&wide, 2, 1), 2, 1)]),
        ),
        row(
            "via sqs, a good Kinesis record and a DynamoDB record with a 2-character table",
            Make::Event(via_sqs),
            Expect::Batch {
                failed: vec![bad_id],
                delivered: vec![w.piped(w.complete(&via_sqs_good, 54, 3), 54, 3)],
            },
        )
        .queue(),
    ];
    rows.extend(bad_table_arns.map(|(name, arn)| {
        row(
            name,
            Make::Record(dynamodb(&arn)),
            input("Input.InvalidStreamArn"),
        )
    }));
    rows
}
