//! The ground truth the hostile cases are made from: a stream of 60 small
//! records (the marker in their data), one of 300 records of 100 KB for the
//! memory cases, a DynamoDB table's stream, a bucket; and the ways a valid
//! record is turned into a hostile one (cut, nested, padded, a field changed).

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use base64::Engine;
use serde_json::{json, Value};

use hydrator_tests::emulator::kinesis_client;
use hydrator_tests::failure::CONSUMER_ARN;
use hydrator_tests::hostile::{
    batch_info, kinesis_record, nested, sns_event, text, write_in_calls, MARKER, PIPE_ARN,
};
use hydrator_tests::queue::create_bucket;
use hydrator_tests::stream::{TestStream, Written};
use hydrator_tests::table::{sequence_number, TestTable, KEY};

use crate::expect::{DocCheck, Records};

/// What the streams, the table and the bucket hold, for the rows to point at.
pub struct World {
    pub small: Vec<Written>,
    pub small_arn: String,
    pub big: Vec<Written>,
    pub big_arn: String,
    pub table_arn: String,
    pub table_shard: String,
    pub table_seqs: Vec<String>,
    pub bucket: String,
    /// The region of the kinesis-mock streams' ARNs.
    pub kinesis_region: String,
}

impl World {
    /// Writes the streams and the table, and makes the bucket.
    pub async fn create() -> World {
        let kinesis = kinesis_client();
        let small_stream = TestStream::create(&kinesis, "hostile", 1).await;
        let payloads: Vec<Vec<u8>> = (0..60)
            .map(|i| {
                let mut data = format!("{{\"order\":{i},\"card\":\"{MARKER}\"}}").into_bytes();
                data.extend([0xFF, 0x00, b'\n', 0xC3]);
                data
            })
            .collect();
        let small = small_stream.write(0, &payloads).await;
        let big_stream = TestStream::create(&kinesis, "hostile-big", 1).await;
        let big_payloads: Vec<Vec<u8>> = (0..300)
            .map(|i| {
                let mut data = format!("{MARKER} big record {i} ").into_bytes();
                let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ i as u64;
                data.extend((0..100_000).map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                }));
                data
            })
            .collect();
        let big_started = Instant::now();
        let big = write_in_calls(&big_stream, &big_payloads, 40).await;
        eprintln!(
            "hostile: 300 records of 100 KB written in {:.1?}",
            big_started.elapsed()
        );
        drop(big_payloads);

        let mut table = TestTable::create(StreamViewType::NewAndOldImages).await;
        for i in 0..3 {
            table
                .put(HashMap::from([
                    (KEY.to_owned(), AttributeValue::S(format!("order-{i}"))),
                    ("card".to_owned(), AttributeValue::S(MARKER.to_owned())),
                ]))
                .await;
        }
        let changes = table.stream_records().await;
        let table_shard = table.shard_id().await;
        World {
            // A stream ARN always has a region field.
            kinesis_region: small_stream.arn.split(':').nth(3).unwrap().to_owned(),
            small_arn: small_stream.arn.clone(),
            small,
            big_arn: big_stream.arn.clone(),
            big,
            table_arn: table.stream_arn.clone(),
            table_shard,
            table_seqs: changes
                .iter()
                .map(|c| sequence_number(c).to_owned())
                .collect(),
            bucket: create_bucket("hostile").await,
        }
    }

    /// The sequence number of the `i`th small record.
    pub fn seq(&self, i: usize) -> String {
        self.small[i].sequence_number.clone()
    }

    /// The account of the streams' ARNs.
    pub fn account(&self) -> String {
        // A stream ARN always has an account field.
        self.small_arn.split(':').nth(4).unwrap().to_owned()
    }

    /// The record every mutation starts from: three small records, 20 to 22.
    pub fn valid(&self) -> Value {
        self.kinesis(20, 22, 3)
    }

    /// The on-failure record of small records `first..=last`, claiming `size`.
    pub fn kinesis(&self, first: usize, last: usize, size: u64) -> Value {
        kinesis_record(&self.small_arn, &self.small, first, last, size)
    }

    /// Small records `first..first+count`, byte-exact, as the consumer saw them.
    pub fn written(&self, first: usize, count: usize) -> Records {
        Records::Kinesis {
            written: self.small[first..first + count].to_vec(),
            arn: self.small_arn.clone(),
            identity: CONSUMER_ARN.into(),
        }
    }

    /// A valid record with one batch field replaced (`None` removes it).
    pub fn with_field(&self, field: &str, value: Option<Value>) -> Value {
        let mut record = self.valid();
        // `kinesis_record` writes the batch info as an object.
        let batch = record["KinesisBatchInfo"].as_object_mut().unwrap();
        match value {
            Some(v) => {
                batch.insert(field.into(), v);
            }
            None => {
                batch.remove(field);
            }
        }
        record
    }

    /// A DynamoDB batch over the table's three changes, under `arn`, claiming `size`.
    pub fn ddb_batch(&self, size: Value, arn: &str) -> Value {
        batch_info(
            &self.table_shard,
            &self.table_seqs[0],
            &self.table_seqs[2],
            size,
            arn,
        )
    }

    /// `record` hydrated complete: small records `first..first+count`.
    pub fn complete(&self, record: &Value, first: usize, count: usize) -> DocCheck {
        DocCheck {
            failure: Some(record.clone()),
            status: "complete",
            reasons: vec![],
            origin: Some("stream"),
            records: self.written(first, count),
        }
    }

    /// A forged wide range keeps `size` records from `first` and names the rest `over_budget`.
    pub fn over_budget(&self, record: &Value, first: usize, size: usize) -> DocCheck {
        DocCheck {
            failure: Some(record.clone()),
            status: "partial",
            reasons: vec!["over_budget"],
            origin: Some("stream"),
            records: self.written(first, size),
        }
    }

    /// `check` for a record a Pipe sent: small records `first..first+count`,
    /// the pipe as their invoking identity.
    pub fn piped(&self, check: DocCheck, first: usize, count: usize) -> DocCheck {
        DocCheck {
            records: Records::Kinesis {
                written: self.small[first..first + count].to_vec(),
                arn: self.small_arn.clone(),
                identity: PIPE_ARN.into(),
            },
            ..check
        }
    }

    /// A DynamoDB record of the table's three changes, complete.
    pub fn ddb_complete(&self, record: &Value) -> DocCheck {
        DocCheck {
            failure: Some(record.clone()),
            status: "complete",
            reasons: vec![],
            origin: Some("stream"),
            records: Records::Count(3),
        }
    }

    /// A forged range over the big records from the first to the last, claiming `size`.
    pub fn big_record(&self, size: u64) -> Value {
        kinesis_record(&self.big_arn, &self.big, 0, self.big.len() - 1, size)
    }

    /// The name of the table behind the DynamoDB stream.
    pub fn table_name(&self) -> String {
        // A DynamoDB stream ARN is `...:table/NAME/stream/LABEL`.
        self.table_arn
            .split(":table/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned()
    }

    /// The DynamoDB stream's ARN with its table name replaced.
    pub fn table_arn_named(&self, name: &str) -> String {
        self.table_arn.replacen(&self.table_name(), name, 1)
    }
}

/// Kinesis event records as a consumer receives them, for S3 payloads: the
/// real sequence numbers of `written`, with planted partition keys and data.
pub fn payload_records(world: &World, written: &[Written]) -> (Value, Vec<Written>) {
    let mut expected = Vec::new();
    let records: Vec<Value> = written
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let key = format!("pk-{i} {MARKER}");
            let data = format!("{{\"card\":\"{MARKER}\",\"n\":{i}}}\u{0}\u{7f}").into_bytes();
            expected.push(Written {
                shard_id: w.shard_id.clone(),
                sequence_number: w.sequence_number.clone(),
                partition_key: key.clone(),
                data: data.clone(),
            });
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": key,
                    "sequenceNumber": w.sequence_number,
                    "data": base64::engine::general_purpose::STANDARD.encode(&data),
                    "approximateArrivalTimestamp": 1795426752.053,
                    "encryptionType": "NONE"
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("{}:{}", w.shard_id, w.sequence_number),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": CONSUMER_ARN,
                "awsRegion": world.kinesis_region,
                "eventSourceARN": world.small_arn
            })
        })
        .collect();
    (Value::Array(records), expected)
}

/// `object` without `field`.
pub fn object_without(object: &Value, field: &str) -> Value {
    let mut object = object.clone();
    object.as_object_mut().unwrap().remove(field);
    object
}

/// A JSON value as a payload, every other marker escaped.
pub fn bytes(value: &Value) -> Vec<u8> {
    text(value).into_bytes()
}

/// An SNS event of one message holding `record`.
pub fn sns_of(record: &Value) -> Vec<u8> {
    bytes(&sns_event(&[text(record)]))
}

/// A valid record's JSON text cut in the middle.
pub fn truncated(record: &Value) -> String {
    let text = text(record);
    let cut = text.len() / 2;
    let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap();
    text[..cut].to_owned()
}

/// The text of `record` with `"zqx"` holding `depth` nested arrays.
pub fn deep_record(record: &Value, depth: usize) -> String {
    let mut text = text(record);
    text.truncate(text.len() - 1);
    text.push_str(&format!(
        ",\"zqx\":{}}}",
        nested(depth, &format!("\"{MARKER}\""))
    ));
    text
}

/// `record` with a large planted `zqxNote` so that its text is about `size` bytes.
pub fn padded(record: &Value, size: usize) -> Value {
    let mut record = record.clone();
    let unit = format!("{MARKER} junk ");
    record["zqxNote"] = Value::String(unit.repeat(size / unit.len() + 1));
    record
}

/// `arn` with its region replaced.
pub fn replace_region(arn: &str, region: &str) -> String {
    let mut parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts[3] = region;
    parts.join(":")
}
