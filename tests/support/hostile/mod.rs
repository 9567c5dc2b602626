//! Inputs for the hostile-input suite (`tests/hostile/`): every trigger's
//! envelope built with a private marker planted in every free string, and
//! the checks that the marker never reaches an error or a log line.
//!
//! A planted string holds the marker between a quote, control characters
//! (serialized as `\u0001`-style escapes), newlines and a backslash, so the
//! JSON text around it is full of escapes; [`escape_markers`] also writes
//! every other marker itself with a `\u005a` escape, so a log that
//! unescapes and one that copies the text raw are both caught.

use serde_json::{json, Value};

use crate::failure::CONSUMER_ARN;
use crate::stream::{TestStream, Written};

/// Stands for personal data: it must never be logged or quoted in an error.
pub const MARKER: &str = "ZQXMARKER-4111111111111111";

/// What betrays the marker in a log or an error, escaped or not.
pub const LEAK_TERMS: [&str; 4] = [
    "ZQXMARKER",
    "QXMARKER-4111",
    "4111111111111111",
    "u005aQXMARKER",
];

/// The pipe that stands in for the consumer in EventBridge Pipes records.
pub const PIPE_ARN: &str = "arn:aws:pipes:us-east-1:000000000000:pipe/orders-to-warehouse";

/// A free string of an input: `tag`, then the marker wrapped in a quote,
/// control characters, newlines and a backslash.
pub fn planted(tag: &str) -> String {
    format!("{tag} \"\u{1}\n{MARKER}\r\n\\\u{7}\u{2028}\"")
}

/// The first leak term found in `text`.
pub fn leak_in(text: &str) -> Option<&'static str> {
    LEAK_TERMS.iter().copied().find(|term| text.contains(term))
}

/// Writes every other marker of a JSON text as `\u005aQXMARKER...`: the
/// marker only ever sits inside string literals, so the text stays valid
/// JSON with the same meaning.
pub fn escape_markers(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    let mut n = 0;
    while let Some(at) = rest.find(MARKER) {
        out.push_str(&rest[..at]);
        if n % 2 == 1 {
            out.push_str("\\u005a");
            out.push_str(&MARKER[1..]);
        } else {
            out.push_str(MARKER);
        }
        n += 1;
        rest = &rest[at + MARKER.len()..];
    }
    out.push_str(rest);
    out
}

/// The JSON text of `value`, markers escaped as [`escape_markers`] does.
pub fn text(value: &Value) -> String {
    escape_markers(&value.to_string())
}

/// A batch info object with planted strings in its free fields.
pub fn batch_info(shard: &str, start: &str, end: &str, size: Value, arn: &str) -> Value {
    json!({
        "shardId": shard,
        "startSequenceNumber": start,
        "endSequenceNumber": end,
        "approximateArrivalOfFirstRecord": planted("first"),
        "approximateArrivalOfLastRecord": planted("last"),
        "batchSize": size,
        "streamArn": arn,
        "zqxNote": planted("batch-note")
    })
}

/// An event source mapping's on-failure record around `batch` under `info`
/// (`KinesisBatchInfo` or `DDBStreamBatchInfo`).
pub fn esm_record(info: &str, batch: Value) -> Value {
    json!({
        "requestContext": {
            "requestId": planted("requestId"),
            "functionArn": CONSUMER_ARN,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 3
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled"
        },
        "version": "1.0",
        "timestamp": planted("timestamp"),
        info: batch,
        "zqxNote": planted("record-note")
    })
}

/// An EventBridge Pipes dead-letter record around `batch` under `info`.
pub fn pipes_record(info: &str, batch: Value) -> Value {
    json!({
        "context": {
            "partnerResourceArn": PIPE_ARN,
            "condition": "RetryAttemptsExhausted",
            "zqxNote": planted("context-note")
        },
        "version": "1.0",
        "timestamp": planted("timestamp"),
        info: batch
    })
}

/// The Kinesis on-failure record of `written[first..=last]` claiming `size` records.
pub fn kinesis_record(
    arn: &str,
    written: &[Written],
    first: usize,
    last: usize,
    size: u64,
) -> Value {
    esm_record(
        "KinesisBatchInfo",
        batch_info(
            &written[first].shard_id,
            &written[first].sequence_number,
            &written[last].sequence_number,
            json!(size),
            arn,
        ),
    )
}

/// One record of an SNS event carrying `message` (any JSON value: a string
/// for the real shape, something else to break it).
pub fn sns_record(message: Value) -> Value {
    json!({
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": planted("subscription"),
        "Sns": {
            "Type": "Notification",
            "MessageId": planted("MessageId"),
            "TopicArn": planted("TopicArn"),
            "Subject": planted("Subject"),
            "Message": message,
            "Timestamp": planted("Timestamp"),
            "SignatureVersion": "1",
            "Signature": planted("Signature"),
            "SigningCertUrl": planted("SigningCertUrl"),
            "UnsubscribeUrl": planted("UnsubscribeUrl"),
            "MessageAttributes": { "zqx": { "Type": "String", "Value": planted("attribute") } }
        }
    })
}

/// An SNS event whose messages are these record texts.
pub fn sns_event(messages: &[String]) -> Value {
    json!({ "Records": messages.iter().map(|m| sns_record(Value::String(m.clone()))).collect::<Vec<_>>() })
}

/// The body SNS writes into SQS without raw message delivery.
pub fn sns_notification(message: Value) -> Value {
    json!({
        "Type": "Notification",
        "MessageId": planted("MessageId"),
        "TopicArn": planted("TopicArn"),
        "Message": message,
        "Timestamp": planted("Timestamp"),
        "SignatureVersion": "1",
        "Signature": planted("Signature"),
        "SigningCertURL": planted("SigningCertURL"),
        "UnsubscribeURL": planted("UnsubscribeURL")
    })
}

/// One SQS message of an SQS event; `body` is any JSON value (a string for
/// the real shape).
pub fn sqs_record(message_id: &str, body: Value) -> Value {
    json!({
        "messageId": message_id,
        "receiptHandle": planted("receiptHandle"),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1795426329000",
            "SenderId": planted("SenderId"),
            "ApproximateFirstReceiveTimestamp": "1795426329011"
        },
        "messageAttributes": { "zqx": { "stringValue": planted("attribute"), "dataType": "String" } },
        "md5OfBody": planted("md5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:stream-failures",
        "awsRegion": "us-east-1"
    })
}

/// An SQS event of `(message id, body text)` pairs.
pub fn sqs_event(messages: &[(String, String)]) -> Value {
    json!({
        "Records": messages
            .iter()
            .map(|(id, body)| sqs_record(id, Value::String(body.clone())))
            .collect::<Vec<_>>()
    })
}

/// One record of an S3 event notification: `key` is written as given
/// (already URL-encoded, or broken on purpose).
pub fn s3_record(region: &str, bucket: Value, encoded_key: Value) -> Value {
    json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": planted("eventTime"),
        "eventName": "ObjectCreated:Put",
        "userIdentity": { "principalId": planted("principalId") },
        "requestParameters": { "sourceIPAddress": planted("sourceIPAddress") },
        "responseElements": { "x-amz-request-id": planted("request-id"), "x-amz-id-2": planted("id-2") },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": planted("configurationId"),
            "bucket": { "name": bucket, "ownerIdentity": { "principalId": planted("owner") }, "arn": planted("bucket-arn") },
            "object": { "key": encoded_key, "size": 2048, "eTag": planted("eTag"), "sequencer": planted("sequencer") }
        }
    })
}

/// An S3 event notification for objects in `bucket` under these (decoded) keys.
pub fn s3_event(bucket: &str, keys: &[&str]) -> Value {
    json!({
        "Records": keys
            .iter()
            .map(|key| s3_record("us-east-1", json!(bucket), json!(encode_key(key))))
            .collect::<Vec<_>>()
    })
}

pub use crate::failure::encode_key;

/// `depth` nested arrays around `inner`.
pub fn nested(depth: usize, inner: &str) -> String {
    let mut text = String::with_capacity(depth * 2 + inner.len());
    text.extend(std::iter::repeat_n('[', depth));
    text.push_str(inner);
    text.extend(std::iter::repeat_n(']', depth));
    text
}

/// Writes `payloads` to the stream's first shard in calls of `per_call`
/// records (kinesis-mock refuses a call over 5 MiB) and gives them in shard order.
pub async fn write_in_calls(
    stream: &TestStream,
    payloads: &[Vec<u8>],
    per_call: usize,
) -> Vec<Written> {
    let mut written = Vec::with_capacity(payloads.len());
    for chunk in payloads.chunks(per_call) {
        written.extend(stream.write(0, chunk).await);
    }
    written.sort_by(|a, b| hydrate::compare_decimal(&a.sequence_number, &b.sequence_number));
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_strings_stay_valid_json_with_escapes() {
        let value = json!({ "a": planted("a"), "b": planted("b"), "c": [planted("c")] });
        let text = text(&value);
        assert!(text.contains("\\u0001"), "{text}");
        assert!(text.contains("\\u005aQXMARKER"), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
