//! The whole hydration, payload in and answer out, against stand-ins for
//! AWS held in memory ([`crate::aws`]): every trigger shape, both stream
//! kinds, the dead-letter queue's partial and permanent failures, the
//! archive and the S3 path. Offline and in milliseconds; the same paths are
//! tested over the wire against the emulators in `tests/`.
//!
//! This module is AWS in memory and the helpers; the tests are by subject:
//! `delivery` (triggers, both kinds, the queue, the archive, the S3 path),
//! `kafka` (Kafka failures: the allow-lists, a saved batch, parts, once),
//! `offload` (records too large for a message), `once` (the idempotency
//! table).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchOutput;
use aws_sdk_firehose::types::PutRecordBatchResponseEntry;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, SendMessageBatchRequestEntry, SendMessageBatchResultEntry,
};
use bytes::Bytes;
use serde_json::{json, Value};

use super::*;
use crate::aws::backoff::Backoff;
use crate::aws::batch_send::CallFailure;
use crate::aws::error::ErrorClass;
use crate::aws::{Begun, Ledger, LedgerState};
use crate::aws::{
    DeliveryStream, MessageBodies, ObjectBody, ObjectStore, ObjectWriter, Queue, Secrets,
};
use crate::deliver::{Offload, S3Pointer};
use crate::document::{join, Document};
use crate::input::sequence::compare_decimal;
use crate::kinds::kinesis::record::{Base64Text, KinesisRecord};
use crate::kinds::Streams;
use crate::read::StreamShard;
use crate::read::{Page, StartingPosition, StreamError};

const KINESIS_ARN: &str = "arn:aws:kinesis:us-east-2:123456789012:stream/orders";
const TABLE_STREAM_ARN: &str =
    "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-02T08:41:17.905";
const SHARD: &str = "shardId-000000000001";
/// Shards holding the same records as `SHARD`, for invocations over several.
const SIBLING_SHARDS: [&str; 2] = ["shardId-000000000002", "shardId-000000000003"];
const QUEUE_URL: &str = "https://sqs.us-east-2.amazonaws.com/123456789012/orders-dlq";

/// The `n`th sequence number of a shard: 56 digits, as Kinesis gives them.
fn seq(n: usize) -> String {
    format!("4960118965842235937883629852182763847532018901230970{n:04}")
}

fn kinesis_record(n: usize) -> KinesisRecord {
    KinesisRecord {
        sequence_number: seq(n).into(),
        partition_key: format!("order-{}", n % 3).into(),
        data: Base64Text::encode(format!("{{\"order\":{n}}}").as_bytes()),
        arrival_millis: Some(1_763_685_484_000),
        encryption_type: None,
    }
}

fn dynamodb_record(n: usize) -> aws_sdk_dynamodbstreams::types::Record {
    use aws_sdk_dynamodbstreams::types::{AttributeValue, OperationType, StreamRecord};
    aws_sdk_dynamodbstreams::types::Record::builder()
        .event_id(format!("event-{n}"))
        .event_name(OperationType::Insert)
        .dynamodb(
            StreamRecord::builder()
                .sequence_number(format!("1000000000534903266{n:02}"))
                .size_bytes(40)
                .keys("pk", AttributeValue::S(format!("order-{n}")))
                .build(),
        )
        .build()
}

/// A stream record, as both services give them.
trait StreamRecord: Clone {
    fn sequence_number(&self) -> &str;
}

impl StreamRecord for KinesisRecord {
    fn sequence_number(&self) -> &str {
        &self.sequence_number
    }
}

impl StreamRecord for aws_sdk_dynamodbstreams::types::Record {
    fn sequence_number(&self) -> &str {
        let change = self.dynamodb.as_ref();
        change
            .and_then(|d| d.sequence_number.as_deref())
            .unwrap_or("")
    }
}

/// Records of one shard, read with index iterators; a closed shard, so a
/// read ends at its last record. An unknown shard has no records.
struct MemoryShard<'a, R> {
    records: &'a [R],
    calls: &'a Mutex<Vec<&'static str>>,
}

impl<R: StreamRecord> StreamShard for MemoryShard<'_, R> {
    type Record = R;
    const MAX_PAGE: u32 = 4;

    async fn shard_iterator(&self, from: StartingPosition<'_>) -> Result<String, StreamError> {
        self.calls.lock().unwrap().push("GetShardIterator");
        if self.records.is_empty() {
            return Err(StreamError::NotFound("no such shard".into()));
        }
        let before = |r: &R, or_equal: bool| {
            let order = compare_decimal(r.sequence_number(), from_seq(from));
            order.is_lt() || (or_equal && order.is_eq())
        };
        let index = match from {
            StartingPosition::TrimHorizon => 0,
            StartingPosition::At(_) => self.records.partition_point(|r| before(r, false)),
            StartingPosition::After(_) => self.records.partition_point(|r| before(r, true)),
        };
        Ok(index.to_string())
    }

    async fn records(&self, iterator: &str, limit: u32) -> Result<Page<R>, StreamError> {
        self.calls.lock().unwrap().push("GetRecords");
        let at: usize = iterator.parse().expect("iterators here are indexes");
        let next = (at + limit as usize).min(self.records.len());
        Ok(Page {
            records: self.records[at..next].to_vec(),
            next_iterator: (next < self.records.len()).then(|| next.to_string()),
            millis_behind_latest: Some(0),
        })
    }

    fn sequence_number(record: &R) -> &str {
        record.sequence_number()
    }

    fn size_of(_: &R) -> usize {
        40
    }
}

fn from_seq<'a>(from: StartingPosition<'a>) -> &'a str {
    match from {
        StartingPosition::At(s) | StartingPosition::After(s) => s.as_str(),
        StartingPosition::TrimHorizon => "0",
    }
}

/// What the queue says of an entry, given how many times it has seen its body.
type QueueRule = fn(&SendMessageBatchRequestEntry, u32) -> Option<&'static str>;

/// An object's body and the KMS key it was put with.
type Written = (Vec<u8>, Option<String>);

/// AWS in memory: one Kinesis shard, one DynamoDB shard, a queue whose
/// answers a rule decides, an archive, and S3 objects.
struct FakeAws {
    kinesis: Vec<KinesisRecord>,
    dynamodb: Vec<aws_sdk_dynamodbstreams::types::Record>,
    stream_calls: Mutex<Vec<&'static str>>,
    /// Failures of whole `SendMessageBatch` calls, taken one a call first.
    queue_call_failures: Mutex<VecDeque<CallFailure>>,
    /// An entry's rejection code, if any.
    queue_rule: QueueRule,
    queue_calls: Mutex<Vec<Vec<SendMessageBatchRequestEntry>>>,
    seen: Mutex<HashMap<String, u32>>,
    archive_rule: fn(u32) -> Option<&'static str>,
    archive_calls: Mutex<Vec<usize>>,
    objects: HashMap<String, Vec<u8>>,
    /// The size S3 declares for an object of so many bytes.
    declared_size: fn(usize) -> Option<u64>,
    chunks_read: Arc<AtomicU32>,
    /// Offloaded bodies by bucket and key, with the KMS key they were put with.
    written: Mutex<HashMap<String, Written>>,
    refuse_puts: bool,
    /// The idempotency table: a state and an expiry by id.
    ledger: Mutex<HashMap<String, (LedgerState, u64)>>,
    refuse_release: bool,
    /// Run as each `SendMessageBatch` call begins: what others do meanwhile.
    on_send: fn(&FakeAws),
    /// Secrets Manager: secret text by ARN.
    secrets: HashMap<String, String>,
}

impl Default for FakeAws {
    fn default() -> Self {
        Self {
            kinesis: (0..10).map(kinesis_record).collect(),
            dynamodb: (50..58).map(dynamodb_record).collect(),
            stream_calls: Mutex::default(),
            queue_call_failures: Mutex::default(),
            queue_rule: |_, _| None,
            queue_calls: Mutex::default(),
            seen: Mutex::default(),
            archive_rule: |_| None,
            archive_calls: Mutex::default(),
            objects: HashMap::new(),
            declared_size: |len| Some(len as u64),
            chunks_read: Arc::default(),
            written: Mutex::default(),
            refuse_puts: false,
            ledger: Mutex::default(),
            refuse_release: false,
            on_send: |_| {},
            secrets: HashMap::new(),
        }
    }
}

impl Streams for FakeAws {
    type Kinesis<'a> = MemoryShard<'a, KinesisRecord>;
    type DynamoDb<'a> = MemoryShard<'a, aws_sdk_dynamodbstreams::types::Record>;

    fn kinesis_shard<'a>(&'a self, _: &str, arn: &'a str, shard: &'a str) -> Self::Kinesis<'a> {
        let known = arn == KINESIS_ARN && (shard == SHARD || SIBLING_SHARDS.contains(&shard));
        MemoryShard {
            records: if known { &self.kinesis } else { &[] },
            calls: &self.stream_calls,
        }
    }

    fn dynamodb_shard<'a>(&'a self, _: &str, _: &'a str, _: &'a str) -> Self::DynamoDb<'a> {
        MemoryShard {
            records: &self.dynamodb,
            calls: &self.stream_calls,
        }
    }
}

impl Queue for FakeAws {
    async fn send_message_batch(
        &self,
        queue_url: &str,
        mut entries: Vec<SendMessageBatchRequestEntry>,
        bodies: MessageBodies,
    ) -> Result<SendMessageBatchOutput, CallFailure> {
        assert_eq!(queue_url, QUEUE_URL);
        // What the queue receives: each body in place of its placeholder.
        for entry in &mut entries {
            let body = bodies
                .body_of(&entry.message_body)
                .expect("every entry's body is a placeholder");
            entry.message_body = String::from_utf8(body.to_vec()).expect("a body is UTF-8");
        }
        (self.on_send)(self);
        self.queue_calls.lock().unwrap().push(entries.clone());
        if let Some(failure) = self.queue_call_failures.lock().unwrap().pop_front() {
            return Err(failure);
        }
        let (mut successful, mut failed) = (Vec::new(), Vec::new());
        for entry in entries {
            let mut seen = self.seen.lock().unwrap();
            let times = seen.entry(entry.message_body.clone()).or_insert(0);
            let verdict = (self.queue_rule)(&entry, *times);
            *times += 1;
            match verdict {
                None => successful.push(
                    SendMessageBatchResultEntry::builder()
                        .id(&entry.id)
                        .message_id(format!("message-{}", entry.id))
                        .md5_of_message_body("-")
                        .build()
                        .unwrap(),
                ),
                Some(code) => failed.push(
                    BatchResultErrorEntry::builder()
                        .id(&entry.id)
                        .code(code)
                        .sender_fault(false)
                        .build()
                        .unwrap(),
                ),
            }
        }
        Ok(SendMessageBatchOutput::builder()
            .set_successful(Some(successful))
            .set_failed(Some(failed))
            .build()
            .unwrap())
    }
}

impl DeliveryStream for FakeAws {
    async fn put_record_batch(
        &self,
        _: &str,
        records: Vec<aws_sdk_firehose::types::Record>,
    ) -> Result<PutRecordBatchOutput, CallFailure> {
        let call = {
            let mut calls = self.archive_calls.lock().unwrap();
            calls.push(records.len());
            calls.len() as u32
        };
        let answers: Vec<_> = records
            .iter()
            .map(|_| match (self.archive_rule)(call) {
                None => PutRecordBatchResponseEntry::builder()
                    .record_id("archived")
                    .build(),
                Some(code) => PutRecordBatchResponseEntry::builder()
                    .error_code(code)
                    .build(),
            })
            .collect();
        let failed = answers.iter().filter(|a| a.error_code.is_some()).count();
        Ok(PutRecordBatchOutput::builder()
            .failed_put_count(failed as i32)
            .set_request_responses(Some(answers))
            .build()
            .unwrap())
    }
}

/// An object's body, served in chunks of 1 KiB.
struct Chunks {
    rest: VecDeque<Bytes>,
    read: Arc<AtomicU32>,
}

impl ObjectBody for Chunks {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, String> {
        self.read.fetch_add(1, Relaxed);
        Ok(self.rest.pop_front())
    }
}

impl ObjectStore for FakeAws {
    type Body = Chunks;

    async fn get_object(
        &self,
        _: &str,
        bucket: &str,
        key: &str,
    ) -> Result<(Option<u64>, Chunks), String> {
        let bytes = self
            .objects
            .get(&format!("{bucket}/{key}"))
            .ok_or("NoSuchKey: the object does not exist")?;
        Ok((
            (self.declared_size)(bytes.len()),
            Chunks {
                rest: bytes.chunks(1_024).map(Bytes::copy_from_slice).collect(),
                read: self.chunks_read.clone(),
            },
        ))
    }
}

impl ObjectWriter for FakeAws {
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        kms_key_id: Option<&str>,
    ) -> Result<(), CallFailure> {
        if self.refuse_puts {
            return Err(CallFailure {
                class: ErrorClass::Permanent,
                code: Some("AccessDenied".into()),
                message: "not allowed".into(),
            });
        }
        let kms_key_id = kms_key_id.map(str::to_owned);
        let mut written = self.written.lock().unwrap();
        written.insert(format!("{bucket}/{key}"), (body, kms_key_id));
        Ok(())
    }
}

fn settings() -> Settings {
    let quick = Backoff {
        base: Duration::from_millis(1),
        cap: Duration::from_millis(4),
        attempts: 4,
    };
    let mut settings = Settings::default();
    settings.read_limits.retry = quick;
    settings.delivery_backoff = quick;
    settings
}

fn to_dlq(mut settings: Settings) -> Settings {
    settings.dlq_queue_url = Some(QUEUE_URL.into());
    settings
}

/// An on-failure record for records `first..=last` of the Kinesis shard.
fn kinesis_failure(first: usize, last: usize) -> Value {
    json!({
        "requestContext": {"requestId": "c9b8fa9f-5a7f-4d3a-af9c-0c604cde93a5",
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:orders-consumer",
            "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-11-21T00:38:06.021Z",
        "KinesisBatchInfo": {
            "shardId": SHARD,
            "startSequenceNumber": seq(first),
            "endSequenceNumber": seq(last),
            "approximateArrivalOfFirstRecord": "2026-11-21T00:38:04.835Z",
            "approximateArrivalOfLastRecord": "2026-11-21T00:38:05.580Z",
            "batchSize": last - first + 1,
            "streamArn": KINESIS_ARN
        }
    })
}

fn sns(records: &[Value]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|r| json!({"EventSource": "aws:sns", "Sns": {"Message": r.to_string()}}))
        .collect();
    json!({ "Records": records })
}

fn sqs(messages: &[(&str, Value)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({"messageId": id, "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:failures",
                "body": body.to_string()})
        })
        .collect();
    json!({ "Records": records })
}

async fn handle(hydrator: &Hydrator<FakeAws>, payload: &Value) -> Result<Response, HydrateError> {
    hydrator.handle(payload.to_string()).await
}

fn one(response: Response) -> HydratedDocument {
    match response {
        Response::One(document) => *document,
        other => panic!("expected one document, got {other:?}"),
    }
}

fn record_data(document: &HydratedDocument) -> Vec<String> {
    let json = serde_json::to_value(&document.records).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|r| r["kinesis"]["data"].as_str().unwrap().to_owned())
        .collect()
}

fn base64(n: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{{\"order\":{n}}}"))
}

/// The documents the queue accepted, each joined from its parts.
fn delivered(aws: &FakeAws) -> Vec<Document> {
    let mut by_group: HashMap<String, Vec<Document>> = HashMap::new();
    let accepted: Vec<SendMessageBatchRequestEntry> = aws
        .queue_calls
        .lock()
        .unwrap()
        .iter()
        .flatten()
        .cloned()
        .collect();
    let written = aws.written.lock().unwrap();
    for entry in accepted {
        let body = match S3Pointer::from_body(&entry.message_body) {
            Some(pointer) => {
                let object = format!("{}/{}", pointer.s3_bucket_name, pointer.s3_key);
                String::from_utf8(written[&object].0.clone()).unwrap()
            }
            None => entry.message_body.clone(),
        };
        let part = Document::parse(&body).expect("a version 1 part");
        let group = part.part.as_ref().unwrap().group_id.clone();
        by_group.entry(group).or_default().push(part);
    }
    by_group.into_values().map(|p| join(p).unwrap()).collect()
}

impl Secrets for FakeAws {
    async fn secret_string(&self, arn: &str) -> Result<String, CallFailure> {
        self.secrets.get(arn).cloned().ok_or_else(|| CallFailure {
            class: ErrorClass::Permanent,
            code: Some("ResourceNotFoundException".into()),
            message: "Secrets Manager can't find the specified secret.".into(),
        })
    }
}

impl Ledger for FakeAws {
    async fn begin(&self, _table: &str, id: &str, now: u64, expires: u64) -> Begun {
        let mut ledger = self.ledger.lock().unwrap();
        match ledger.get(id) {
            Some(&(LedgerState::InProgress, until)) if until < now => {}
            Some(&(state, _)) => return Ok(Some(state)),
            None => {}
        }
        ledger.insert(id.to_owned(), (LedgerState::InProgress, expires));
        Ok(None)
    }

    async fn delivered(&self, _table: &str, id: &str, expires: u64) -> Result<(), CallFailure> {
        let mut ledger = self.ledger.lock().unwrap();
        ledger.insert(id.to_owned(), (LedgerState::Delivered, expires));
        Ok(())
    }

    async fn release(&self, _table: &str, id: &str, expires: u64) -> Result<(), CallFailure> {
        if self.refuse_release {
            return Err(CallFailure {
                class: ErrorClass::Transient,
                code: Some("InternalServerError".into()),
                message: "try again".into(),
            });
        }
        let mut ledger = self.ledger.lock().unwrap();
        // DynamoDB's condition: `#state = :in_progress AND #expires = :expires`.
        if ledger.get(id) == Some(&(LedgerState::InProgress, expires)) {
            ledger.remove(id);
        }
        Ok(())
    }
}

fn failed_ids(response: Response) -> Vec<String> {
    let Response::Batch(batch) = response else {
        panic!("expected a batch response")
    };
    batch
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect()
}

mod delivery;
mod kafka;
mod offload;
mod once;
