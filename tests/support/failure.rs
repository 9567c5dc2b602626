//! On-failure records and the SNS events that carry them, built the way a
//! Lambda event source mapping and SNS build them.

use serde_json::{json, Value};

use crate::stream::Written;

pub const CONSUMER_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:orders-consumer";

/// The on-failure record for the batch that starts at `first` and ends at
/// `last`, holding `batch_size` records, of the stream `stream_arn`.
pub fn kinesis_failure(
    stream_arn: &str,
    first: &Written,
    last: &Written,
    batch_size: usize,
) -> Value {
    let batch = Batch {
        shard_id: &first.shard_id,
        start: &first.sequence_number,
        end: &last.sequence_number,
        size: batch_size,
    };
    on_failure_record("KinesisBatchInfo", stream_arn, &batch)
}

/// The on-failure record of a DynamoDB stream batch.
pub fn dynamodb_failure(stream_arn: &str, batch: &Batch<'_>) -> Value {
    on_failure_record("DDBStreamBatchInfo", stream_arn, batch)
}

/// A failed batch: its shard, first and last sequence number, and size.
pub struct Batch<'a> {
    pub shard_id: &'a str,
    pub start: &'a str,
    pub end: &'a str,
    pub size: usize,
}

fn on_failure_record(info: &str, stream_arn: &str, batch: &Batch<'_>) -> Value {
    json!({
        "requestContext": {
            "requestId": "316aa6d0-8154-4b6c-bf6a-d1e1e6f2b2c6",
            "functionArn": CONSUMER_ARN,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 3
        },
        "responseContext": { "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled" },
        "version": "1.0",
        "timestamp": "2026-11-21T06:12:09.114Z",
        info: {
            "shardId": batch.shard_id,
            "startSequenceNumber": batch.start,
            "endSequenceNumber": batch.end,
            "approximateArrivalOfFirstRecord": "2026-11-21T06:11:41.870Z",
            "approximateArrivalOfLastRecord": "2026-11-21T06:11:42.015Z",
            "batchSize": batch.size,
            "streamArn": stream_arn
        }
    })
}

/// A Kafka on-failure record as the SNS and SQS destinations get it, no
/// data: `ranges` are each partition's `<topic>-<partition>` key and its first
/// and last offset.
pub fn kafka_failure(servers: &str, ranges: &[(String, i64, i64)]) -> Value {
    let mut info = serde_json::Map::new();
    for (key, first, last) in ranges {
        info.insert(
            key.clone(),
            json!({"firstRecordOffset": first.to_string(), "lastRecordOffset": last.to_string()}),
        );
    }
    let size: i64 = ranges.iter().map(|(_, first, last)| last - first + 1).sum();
    json!({
        "requestContext": {"requestId": "c9b8fa9f-5a7f-4d3a-af9c-0c604cde93a5",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders-consumer",
            "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-12-06T10:00:00.000Z",
        "KafkaBatchInfo": {
            "batchSize": size,
            "bootstrapServers": servers,
            "payloadSize": 2039,
            "recordsInfo": info
        }
    })
}

/// The SNS event Lambda delivers when the on-failure topic publishes `record`.
pub fn sns_event(record: &Value) -> Value {
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:000000000000:stream-failures:6f2b4c1e-3d0a-4e59-9a59-1c3f0e1b7d21",
            "Sns": {
                "Type": "Notification",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "TopicArn": "arn:aws:sns:us-east-1:000000000000:stream-failures",
                "Subject": null,
                "Message": record.to_string(),
                "Timestamp": "2026-11-21T06:12:09.301Z",
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
                "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                "MessageAttributes": {}
            }
        }]
    })
}

/// The SQS event Lambda delivers for messages with these bodies; message ids
/// are `msg-0`, `msg-1`, ...
pub fn sqs_event(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            json!({
                "messageId": format!("msg-{i}"),
                "receiptHandle": format!("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a{i}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795426329000",
                    "SenderId": "AROAEXAMPLE:orders-consumer",
                    "ApproximateFirstReceiveTimestamp": "1795426329011"
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:stream-failures",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The body SNS writes into an SQS queue without raw message delivery.
pub fn sns_notification(record: &Value) -> String {
    json!({
        "Type": "Notification",
        "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "TopicArn": "arn:aws:sns:us-east-1:000000000000:stream-failures",
        "Message": record.to_string(),
        "Timestamp": "2026-11-21T06:12:09.301Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
    })
    .to_string()
}

/// The S3 event notification for an object an on-failure destination wrote.
pub fn s3_event(bucket: &str, key: &str) -> Value {
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2026-11-21T06:12:09.402Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": { "principalId": "AWS:AROAEXAMPLE:awslambda" },
            "requestParameters": { "sourceIPAddress": "10.0.12.7" },
            "responseElements": { "x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD" },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "stream-failures",
                "bucket": { "name": bucket, "ownerIdentity": { "principalId": "A3NL1KOZZKExample" }, "arn": format!("arn:aws:s3:::{bucket}") },
                "object": { "key": encode_key(key), "size": 2048, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD90281E5" }
            }
        }]
    })
}

/// Object keys in S3 events are URL-encoded, a space as `+`.
pub fn encode_key(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b' ' => "+".to_owned(),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
