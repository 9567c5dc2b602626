//! The whole hydration, payload in and answer out, against stand-ins for
//! AWS held in memory ([`crate::aws`]): every trigger shape, both stream
//! kinds, the dead-letter queue's partial and permanent failures, the
//! archive and the S3 path. Offline and in milliseconds; the same paths are
//! tested over the wire against the emulators in `tests/`.

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
use crate::aws::{DeliveryStream, ObjectBody, ObjectStore, ObjectWriter, Queue};
use crate::deliver::{Offload, S3Pointer};
use crate::document::{join, Document};
use crate::input::sequence::compare_decimal;
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

fn kinesis_record(n: usize) -> aws_sdk_kinesis::types::Record {
    aws_sdk_kinesis::types::Record::builder()
        .sequence_number(seq(n))
        .partition_key(format!("order-{}", n % 3))
        .data(aws_sdk_kinesis::primitives::Blob::new(
            format!("{{\"order\":{n}}}").into_bytes(),
        ))
        .approximate_arrival_timestamp(aws_smithy_types::DateTime::from_secs(1_763_685_484))
        .build()
        .expect("every required field is set")
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

impl StreamRecord for aws_sdk_kinesis::types::Record {
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
    kinesis: Vec<aws_sdk_kinesis::types::Record>,
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
        }
    }
}

impl Streams for FakeAws {
    type Kinesis<'a> = MemoryShard<'a, aws_sdk_kinesis::types::Record>;
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
        entries: Vec<SendMessageBatchRequestEntry>,
    ) -> Result<SendMessageBatchOutput, CallFailure> {
        assert_eq!(queue_url, QUEUE_URL);
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

#[tokio::test]
async fn an_sns_kinesis_failure_comes_back_whole_exact_and_in_order() {
    let aws = FakeAws::default();
    let hydrator = Hydrator::with_aws(aws, settings());
    let document = one(handle(&hydrator, &sns(&[kinesis_failure(2, 8)]))
        .await
        .unwrap());
    assert_eq!(document.hydration.status, Status::Complete);
    assert_eq!(
        record_data(&document),
        (2..=8).map(base64).collect::<Vec<_>>()
    );
    // Pages of 4: records 2-5, then 6-9, of which 9 lies past the end.
    assert_eq!(document.hydration.get_records_calls, 2);
    assert_eq!(document.hydration.get_shard_iterator_calls, 1);
}

#[tokio::test]
async fn a_dynamodb_failure_comes_back_in_the_shape_lambda_delivers() {
    let failure = json!({
        "requestContext": {"requestId": "7d0b1c2e", "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:projection",
            "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-11-21T09:14:52.338Z",
        "DDBStreamBatchInfo": {"shardId": "shardId-00000001763715200000-8d2c41f7",
            "startSequenceNumber": "100000000053490326651", "endSequenceNumber": "100000000053490326654",
            "approximateArrivalOfFirstRecord": "2026-11-21T09:14:31Z",
            "approximateArrivalOfLastRecord": "2026-11-21T09:14:33Z",
            "batchSize": 4, "streamArn": TABLE_STREAM_ARN}
    });
    let hydrator = Hydrator::with_aws(FakeAws::default(), settings());
    let document = one(handle(&hydrator, &sns(&[failure])).await.unwrap());
    assert_eq!(document.hydration.status, Status::Complete);
    let json = serde_json::to_value(&document.records).unwrap();
    let keys: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dynamodb"]["Keys"]["pk"]["S"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["order-51", "order-52", "order-53", "order-54"]);
    assert_eq!(json[0]["eventSourceARN"], TABLE_STREAM_ARN);
}

/// Failures of three shards, interleaved as a storm's arrive, three a shard.
fn interleaved_failures() -> Vec<Value> {
    let mut failures = Vec::new();
    for (first, last) in [(0, 2), (3, 5), (6, 9)] {
        for shard in [SHARD, SIBLING_SHARDS[0], SIBLING_SHARDS[1]] {
            let mut failure = kinesis_failure(first, last);
            failure["KinesisBatchInfo"]["shardId"] = json!(shard);
            failures.push(failure);
        }
    }
    failures
}

#[tokio::test]
async fn runs_are_served_one_after_another_whatever_shards_the_input_interleaves() {
    let mut settings = to_dlq(settings());
    settings.max_concurrency = 1;
    let hydrator = Hydrator::with_aws(FakeAws::default(), settings);
    let failures = interleaved_failures();
    let messages: Vec<(String, Value)> = failures
        .iter()
        .enumerate()
        .map(|(i, failure)| (format!("m-{i}"), failure.clone()))
        .collect();
    let messages: Vec<(&str, Value)> = messages
        .iter()
        .map(|(id, failure)| (id.as_str(), failure.clone()))
        .collect();
    assert!(failed_ids(handle(&hydrator, &sqs(&messages)).await.unwrap()).is_empty());
    // One run a shard, each read once; hydrated in the input's order, all
    // three would be held together.
    assert_eq!(hydrator.storm.peak_held_runs(), 1);
    let documents = delivered(&hydrator.aws);
    assert_eq!(documents.len(), 9);
    assert!(documents
        .iter()
        .all(|d| d.hydration.status == Status::Complete));
}

#[tokio::test]
async fn answers_keep_the_inputs_order_though_failures_are_hydrated_by_run() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), settings());
    let failures = interleaved_failures();
    let Response::Many(documents) = handle(&hydrator, &sns(&failures)).await.unwrap() else {
        panic!("one document a failure")
    };
    let ranges: Vec<(&str, &str)> = documents
        .iter()
        .map(|d| (d.batch.shard_id.as_str(), d.batch.start.as_str()))
        .collect();
    let expected: Vec<(&str, &str)> = failures
        .iter()
        .map(|f| {
            let batch = &f["KinesisBatchInfo"];
            let shard = batch["shardId"].as_str().unwrap();
            (shard, batch["startSequenceNumber"].as_str().unwrap())
        })
        .collect();
    assert_eq!(ranges, expected);
}

#[tokio::test]
async fn a_vanished_shard_gives_an_unavailable_document_not_an_error() {
    let mut failure = kinesis_failure(2, 4);
    failure["KinesisBatchInfo"]["shardId"] = json!("shardId-000000000009");
    let hydrator = Hydrator::with_aws(FakeAws::default(), settings());
    let document = one(handle(&hydrator, &failure).await.unwrap());
    assert_eq!(document.hydration.status, Status::Unavailable);
    assert!(document.records.is_empty());
}

#[tokio::test]
async fn parts_the_queue_throttles_are_sent_again_alone_and_join_back() {
    // Part 2 is throttled the first time it is sent.
    let aws = FakeAws {
        queue_rule: |entry, times| {
            (entry.id == "part-2" && times == 0).then_some("RequestThrottled")
        },
        ..FakeAws::default()
    };
    let mut settings = to_dlq(settings());
    settings.max_message_bytes = 4_000; // room for a few records a part
    let hydrator = Hydrator::with_aws(aws, settings);
    let Response::Delivered(report) = handle(&hydrator, &kinesis_failure(0, 9)).await.unwrap()
    else {
        panic!("expected a delivery report")
    };
    let calls = hydrator.aws.queue_calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "one call, then the throttled part again");
    let resent: Vec<&str> = calls[1].iter().map(|e| e.id.as_str()).collect();
    assert_eq!(resent, ["part-2"]);
    let parts = report.delivered[0].message_ids.len();
    assert!(parts >= 3, "the document was cut into {parts} parts");
    assert_eq!(calls[0].len(), parts);

    // The resent part is kept once when joined; the document is the one
    // the function returns when it sends nothing.
    let joined = delivered(&hydrator.aws);
    assert_eq!(joined.len(), 1);
    let returned = Hydrator::with_aws(FakeAws::default(), self::settings());
    let returned = one(handle(&returned, &kinesis_failure(0, 9)).await.unwrap());
    let mut expected = returned.to_wire().unwrap();
    // Duration differs run to run; nothing else may.
    expected.hydration.duration_ms = joined[0].hydration.duration_ms;
    assert!(joined[0].same_as(&expected));
}

#[tokio::test]
async fn a_permanent_queue_error_is_not_retried_and_fails_the_invocation() {
    let aws = FakeAws::default();
    aws.queue_call_failures
        .lock()
        .unwrap()
        .push_back(CallFailure {
            class: ErrorClass::Permanent,
            code: Some("AccessDenied".into()),
            message: "not allowed".into(),
        });
    let hydrator = Hydrator::with_aws(aws, to_dlq(settings()));
    let error = handle(&hydrator, &kinesis_failure(2, 4)).await.unwrap_err();
    assert_eq!(error.class(), "Delivery.Send");
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_throttled_queue_call_is_retried_until_it_is_taken() {
    let aws = FakeAws::default();
    for _ in 0..2 {
        aws.queue_call_failures
            .lock()
            .unwrap()
            .push_back(CallFailure {
                class: ErrorClass::Throttled,
                code: Some("RequestThrottled".into()),
                message: "slow down".into(),
            });
    }
    let hydrator = Hydrator::with_aws(aws, to_dlq(settings()));
    let Response::Delivered(report) = handle(&hydrator, &kinesis_failure(2, 4)).await.unwrap()
    else {
        panic!("expected a delivery report")
    };
    assert_eq!(report.delivered.len(), 1);
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn an_sqs_batch_names_only_the_messages_that_failed() {
    // The second failure's parts are refused for good.
    let aws = FakeAws {
        queue_rule: |entry, _| {
            let start = entry
                .message_attributes
                .as_ref()?
                .get("startSequenceNumber")?;
            (start.string_value.as_deref() == Some(seq(5).as_str())).then_some("AccessDenied")
        },
        ..FakeAws::default()
    };
    let hydrator = Hydrator::with_aws(aws, to_dlq(settings()));
    let payload = sqs(&[
        ("m-good", kinesis_failure(0, 2)),
        ("m-refused", kinesis_failure(5, 6)),
        ("m-malformed", json!({"KinesisBatchInfo": {"shardId": 7}})),
    ]);
    let Response::Batch(batch) = handle(&hydrator, &payload).await.unwrap() else {
        panic!("expected a batch response")
    };
    let failed: Vec<&str> = batch
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m-refused", "m-malformed"]);
    // The refused part was sent once: a permanent error is not retried.
    let sends = hydrator.aws.queue_calls.lock().unwrap().len();
    assert_eq!(sends, 2);
}

#[tokio::test]
async fn the_archive_retries_throttled_records_and_reports_refused_ones() {
    let aws = FakeAws {
        archive_rule: |call| (call == 1).then_some("ServiceUnavailableException"),
        ..FakeAws::default()
    };
    let mut settings = to_dlq(settings());
    settings.archive_firehose_stream = Some("orders-archive".into());
    let hydrator = Hydrator::with_aws(aws, settings.clone());
    let Response::Delivered(report) = handle(&hydrator, &kinesis_failure(2, 4)).await.unwrap()
    else {
        panic!("expected a delivery report")
    };
    let archived = report.delivered[0].archived.clone().unwrap();
    assert_eq!((archived.failed, archived.calls), (0, 2));

    let aws = FakeAws {
        archive_rule: |_| Some("AccessDeniedException"),
        ..FakeAws::default()
    };
    let hydrator = Hydrator::with_aws(aws, settings);
    let Response::Delivered(report) = handle(&hydrator, &kinesis_failure(2, 4)).await.unwrap()
    else {
        panic!("expected a delivery report")
    };
    // The queue's delivery stands; the archive says what it could not take.
    let archived = report.delivered[0].archived.clone().unwrap();
    assert_eq!((archived.failed, archived.calls), (1, 1));
    assert_eq!(report.delivered[0].message_ids.len(), 1);
}

fn s3_event(key: &str) -> Value {
    json!({"Records": [{"eventSource": "aws:s3", "awsRegion": "us-east-2",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "failures"}, "object": {"key": key, "size": 10}}}]})
}

#[tokio::test]
async fn an_s3_object_with_a_payload_needs_no_stream_read() {
    let mut aws = FakeAws::default();
    let delivered: Vec<Value> = (2..=4)
        .map(|n| json!({"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": seq(n), "data": base64(n)}}))
        .collect();
    let mut object = kinesis_failure(2, 4);
    object["payload"] = json!({ "Records": delivered });
    aws.objects.insert(
        "failures/saved.json".into(),
        object.to_string().into_bytes(),
    );
    let hydrator = Hydrator::with_aws(aws, settings());
    let document = one(handle(&hydrator, &s3_event("saved.json")).await.unwrap());
    assert_eq!(document.hydration.status, Status::Complete);
    assert_eq!(
        record_data(&document),
        (2..=4).map(base64).collect::<Vec<_>>()
    );
    assert!(hydrator.aws.stream_calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_s3_object_over_the_bound_is_refused() {
    let mut aws = FakeAws::default();
    aws.objects
        .insert("failures/big.json".into(), vec![b' '; 8 * 1_024]);
    let mut small = settings();
    small.s3_object_max_bytes = 4 * 1_024;
    // Declared too large: refused before the body is read.
    aws.declared_size = |_| Some(1 << 30);
    let hydrator = Hydrator::with_aws(aws, small.clone());
    let error = handle(&hydrator, &s3_event("big.json")).await.unwrap_err();
    assert_eq!(error.class(), "Input.ObjectTooLarge");
    assert_eq!(hydrator.aws.chunks_read.load(Relaxed), 0);

    // Declared nothing: cut off as the body runs past the bound.
    let mut aws = FakeAws::default();
    aws.objects
        .insert("failures/big.json".into(), vec![b' '; 8 * 1_024]);
    aws.declared_size = |_| None;
    let hydrator = Hydrator::with_aws(aws, small);
    let error = handle(&hydrator, &s3_event("big.json")).await.unwrap_err();
    assert_eq!(error.class(), "Input.ObjectTooLarge");
    // Four chunks of 1 KiB fit the bound; the fifth does not, and is the last read.
    assert_eq!(hydrator.aws.chunks_read.load(Relaxed), 5);
}

#[tokio::test]
async fn a_returned_document_too_large_for_the_destination_is_an_error() {
    let mut small = settings();
    small.response_max_bytes = 3_000;
    let hydrator = Hydrator::with_aws(FakeAws::default(), small);
    let error = handle(&hydrator, &kinesis_failure(0, 9)).await.unwrap_err();
    assert_eq!(error.class(), "Response.TooLarge");
}

/// Records 0 to 4, record 2 of 6,000 bytes: more than a 4,000-byte message.
fn with_an_oversized_record() -> FakeAws {
    let mut kinesis: Vec<_> = (0..5).map(kinesis_record).collect();
    kinesis[2].data = aws_sdk_kinesis::primitives::Blob::new(vec![b'x'; 6_000]);
    FakeAws {
        kinesis,
        ..FakeAws::default()
    }
}

fn offloading(mut settings: Settings) -> Settings {
    settings.max_message_bytes = 4_000;
    settings.offload = Some(Offload {
        bucket: "offload".into(),
        prefix: Offload::DEFAULT_PREFIX.into(),
        kms_key_id: Some("alias/hydrator".into()),
    });
    settings
}

#[tokio::test]
async fn a_record_too_large_for_a_message_goes_to_s3_and_the_message_points_at_it() {
    let hydrator = Hydrator::with_aws(with_an_oversized_record(), offloading(to_dlq(settings())));
    let response = handle(&hydrator, &kinesis_failure(0, 4)).await.unwrap();
    let Response::Delivered(report) = response else {
        panic!("expected a delivery report")
    };
    assert_eq!(report.delivered[0].status, Status::Complete);

    let calls = hydrator.aws.queue_calls.lock().unwrap().clone();
    let pointers: Vec<&SendMessageBatchRequestEntry> = calls
        .iter()
        .flatten()
        .filter(|e| S3Pointer::from_body(&e.message_body).is_some())
        .collect();
    assert_eq!(
        pointers.len(),
        1,
        "only the part with the large record is offloaded"
    );
    let pointer = S3Pointer::from_body(&pointers[0].message_body).unwrap();
    assert!(
        pointer.s3_key.starts_with("hydrator/"),
        "{}",
        pointer.s3_key
    );
    let written = hydrator.aws.written.lock().unwrap().clone();
    let (object, kms_key) = &written[&format!("offload/{}", pointer.s3_key)];
    assert_eq!(kms_key.as_deref(), Some("alias/hydrator"));
    let size = &pointers[0].message_attributes.as_ref().unwrap()["ExtendedPayloadSize"];
    assert_eq!(size.data_type, "Number");
    assert_eq!(
        size.string_value.as_deref(),
        Some(object.len().to_string().as_str())
    );
    let part = Document::parse(std::str::from_utf8(object).unwrap()).unwrap();
    assert_eq!(part.records.len(), 1);

    // Joined again through the pointer, the document is whole.
    let joined = delivered(&hydrator.aws);
    assert_eq!(joined[0].records.len(), 5);
    assert!(joined[0].hydration.missing.is_empty());
}

#[tokio::test]
async fn without_an_offload_bucket_the_oversized_record_is_named_too_large() {
    let mut settings = to_dlq(settings());
    settings.max_message_bytes = 4_000;
    let hydrator = Hydrator::with_aws(with_an_oversized_record(), settings);
    let Response::Delivered(report) = handle(&hydrator, &kinesis_failure(0, 4)).await.unwrap()
    else {
        panic!("expected a delivery report")
    };
    assert_eq!(report.delivered[0].status, Status::Partial);
    let joined = delivered(&hydrator.aws);
    assert_eq!(joined[0].records.len(), 4);
    let reasons: Vec<&str> = joined[0]
        .hydration
        .missing
        .iter()
        .map(|g| g.reason.as_str())
        .collect();
    assert_eq!(reasons, ["too_large"]);
    assert!(hydrator.aws.written.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_offload_sends_nothing_and_fails_the_delivery() {
    let aws = FakeAws {
        refuse_puts: true,
        ..with_an_oversized_record()
    };
    let hydrator = Hydrator::with_aws(aws, offloading(to_dlq(settings())));
    let error = handle(&hydrator, &kinesis_failure(0, 4)).await.unwrap_err();
    assert_eq!(error.class(), "Delivery.Offload");
    assert!(hydrator.aws.queue_calls.lock().unwrap().is_empty());
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

fn with_ledger(mut settings: Settings) -> Settings {
    settings.idempotency_table = Some("hydrator-ledger".into());
    settings
}

/// The idempotency table's id of the failure in an SQS message.
fn ledger_id(message: &Value) -> String {
    let payload = sqs(&[("m", message.clone())]);
    let batch = crate::input::trigger::parse(payload.to_string().as_bytes()).unwrap();
    let crate::input::trigger::Invocation::Queue(messages) = batch else {
        panic!("an SQS event")
    };
    crate::document::parts::group_id(&messages[0].content.as_ref().unwrap().batch)
}

fn refused_for_good() -> CallFailure {
    CallFailure {
        class: ErrorClass::Permanent,
        code: Some("AccessDenied".into()),
        message: "not allowed".into(),
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

#[tokio::test]
async fn with_the_table_a_failure_delivered_twice_is_sent_once_and_acknowledged_twice() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), with_ledger(to_dlq(settings())));
    let payload = sqs(&[
        ("m-1", kinesis_failure(0, 4)),
        ("m-2", kinesis_failure(5, 9)),
    ]);
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    let reads = hydrator.aws.stream_calls.lock().unwrap().len();
    // SNS or Lambda delivered both again.
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    assert_eq!(
        hydrator.aws.queue_calls.lock().unwrap().len(),
        2,
        "each failure sent once"
    );
    assert_eq!(
        hydrator.aws.stream_calls.lock().unwrap().len(),
        reads,
        "and not read again"
    );
}

#[tokio::test]
async fn without_the_table_a_failure_delivered_twice_is_sent_twice() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), to_dlq(settings()));
    let payload = sqs(&[("m-1", kinesis_failure(0, 4))]);
    handle(&hydrator, &payload).await.unwrap();
    handle(&hydrator, &payload).await.unwrap();
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn two_invocations_racing_on_one_failure_send_it_once_and_the_loser_is_retried() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), with_ledger(to_dlq(settings())));
    let payload = sqs(&[("m-1", kinesis_failure(0, 4))]);
    let (first, second) = tokio::join!(handle(&hydrator, &payload), handle(&hydrator, &payload));
    let mut failed = failed_ids(first.unwrap());
    failed.extend(failed_ids(second.unwrap()));
    assert_eq!(failed, ["m-1"], "one of the two is told to retry");
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 1);
    // SQS retries the loser's message: now it is acknowledged, unsent.
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failure_left_in_progress_by_a_crash_is_taken_over_once_it_expires() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), with_ledger(to_dlq(settings())));
    let payload = sqs(&[("m-1", kinesis_failure(0, 4))]);
    let id = ledger_id(&kinesis_failure(0, 4));
    hydrator
        .aws
        .ledger
        .lock()
        .unwrap()
        .insert(id.clone(), (LedgerState::InProgress, u64::MAX));
    assert_eq!(
        failed_ids(handle(&hydrator, &payload).await.unwrap()),
        ["m-1"]
    );
    hydrator
        .aws
        .ledger
        .lock()
        .unwrap()
        .insert(id.clone(), (LedgerState::InProgress, 1));
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 1);
    assert_eq!(
        hydrator.aws.ledger.lock().unwrap()[&id].0,
        LedgerState::Delivered
    );
}

#[tokio::test]
async fn with_the_table_an_sns_failure_delivered_again_is_acknowledged_unsent() {
    let hydrator = Hydrator::with_aws(FakeAws::default(), with_ledger(to_dlq(settings())));
    let payload = sns(&[kinesis_failure(0, 4)]);
    let Response::Delivered(first) = handle(&hydrator, &payload).await.unwrap() else {
        panic!("a delivery report")
    };
    assert_eq!(first.delivered.len(), 1);
    let Response::Delivered(again) = handle(&hydrator, &payload).await.unwrap() else {
        panic!("a delivery report")
    };
    assert!(again.delivered.is_empty(), "nothing sent the second time");
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 1);
}

/// One SQS message of a failure whose delivery fails with the table on:
/// the hydrator, the payload to retry with, and the failure's ledger id.
async fn one_failed_sqs_delivery(aws: FakeAws) -> (Hydrator<FakeAws>, Value, String) {
    let hydrator = Hydrator::with_aws(aws, with_ledger(to_dlq(settings())));
    let payload = sqs(&[("m-1", kinesis_failure(0, 4))]);
    let id = ledger_id(&kinesis_failure(0, 4));
    assert_eq!(
        failed_ids(handle(&hydrator, &payload).await.unwrap()),
        ["m-1"]
    );
    (hydrator, payload, id)
}

#[tokio::test]
async fn a_failed_delivery_releases_its_mark_and_the_retry_goes_ahead_at_once() {
    let aws = FakeAws::default();
    aws.queue_call_failures
        .lock()
        .unwrap()
        .push_back(refused_for_good());
    let (hydrator, payload, id) = one_failed_sqs_delivery(aws).await;
    assert!(
        !hydrator.aws.ledger.lock().unwrap().contains_key(&id),
        "the mark is released"
    );
    let reads = hydrator.aws.stream_calls.lock().unwrap().len();
    // SQS retries the message: read and sent, not told to wait.
    assert!(failed_ids(handle(&hydrator, &payload).await.unwrap()).is_empty());
    assert!(hydrator.aws.stream_calls.lock().unwrap().len() > reads);
    assert_eq!(hydrator.aws.queue_calls.lock().unwrap().len(), 2);
    assert_eq!(delivered(&hydrator.aws).len(), 1);
    assert_eq!(
        hydrator.aws.ledger.lock().unwrap()[&id].0,
        LedgerState::Delivered
    );
}

#[tokio::test]
async fn a_failed_delivery_leaves_a_mark_another_invocation_took_over() {
    let aws = FakeAws {
        // While this one sends, its mark expires and another invocation
        // takes the failure over, with a later expiry; then the send fails.
        on_send: |aws| {
            for mark in aws.ledger.lock().unwrap().values_mut() {
                *mark = (LedgerState::InProgress, u64::MAX);
            }
            aws.queue_call_failures
                .lock()
                .unwrap()
                .push_back(refused_for_good());
        },
        ..FakeAws::default()
    };
    let (hydrator, _, id) = one_failed_sqs_delivery(aws).await;
    assert_eq!(
        hydrator.aws.ledger.lock().unwrap().get(&id),
        Some(&(LedgerState::InProgress, u64::MAX)),
        "the new owner's mark stays"
    );
}

#[tokio::test]
async fn a_release_that_fails_keeps_the_delivery_error() {
    let aws = FakeAws {
        refuse_release: true,
        ..FakeAws::default()
    };
    aws.queue_call_failures
        .lock()
        .unwrap()
        .push_back(refused_for_good());
    let hydrator = Hydrator::with_aws(aws, with_ledger(to_dlq(settings())));
    let error = handle(&hydrator, &sns(&[kinesis_failure(0, 4)]))
        .await
        .unwrap_err();
    assert_eq!(error.class(), "Delivery.Send");
    let id = ledger_id(&kinesis_failure(0, 4));
    assert_eq!(
        hydrator.aws.ledger.lock().unwrap()[&id].0,
        LedgerState::InProgress,
        "left to expire"
    );
}
