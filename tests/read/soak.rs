//! A seeded-random soak: hundreds of fault schedules (throttling, 5xx,
//! dropped connections, expired iterators, short pages) against batches of
//! 1 to 3,000 records on both sources. Every run must give exactly the
//! range, in order, without duplicates, or a partial document whose gaps and
//! records together cover the range. The totals are printed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, StreamViewType};
use base64::Engine;
use hydrate::Backoff;
use hydrate::ReadLimits;
use hydrate::SequenceNumber;
use hydrate::{Hydrator, Response, Settings};
use hydrator_tests::check::assert_conforms_to_schema;
use hydrator_tests::emulator::{kinesis_client, kinesis_endpoint, moto_endpoint, sdk_config_with};
use hydrator_tests::failure::{dynamodb_failure, kinesis_failure, Batch};
use hydrator_tests::fault_proxy::{service_error, Action, FaultProxy};
use hydrator_tests::stream::{binary_payloads, TestStream};
use hydrator_tests::table::{TestTable, KEY};
use serde_json::{json, Value};

const SCHEDULES: u64 = 200;
const RECORDS: usize = 3_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Source {
    Kinesis,
    DynamoDb,
}

/// One record the stream holds: its sequence number, and for Kinesis its data.
struct Held {
    sequence_number: String,
    data: Option<Vec<u8>>,
}

#[derive(Default, Debug)]
struct Totals {
    schedules: u64,
    calls: usize,
    calls_faulted: usize,
    records_checked: usize,
    records_lost: usize,
    complete: u64,
    partial: u64,
}

/// The fault schedule of one run: each call faulted with probability `rate`,
/// with a fault drawn from what the service really answers; unfaulted reads
/// ask for a random smaller page, so a batch takes several calls.
fn schedule(
    seed: u64,
    rate: f64,
    source: Source,
    calls: Arc<AtomicUsize>,
    faulted: Arc<AtomicUsize>,
) -> hydrator_tests::fault_proxy::Rule {
    let rng = Mutex::new(fastrand::Rng::with_seed(seed));
    Box::new(move |call, _| {
        let operation = call.operation();
        if operation != "GetRecords" && operation != "GetShardIterator" {
            return Action::Forward;
        }
        calls.fetch_add(1, Ordering::Relaxed);
        let mut rng = rng.lock().unwrap();
        if rng.f64() < rate {
            faulted.fetch_add(1, Ordering::Relaxed);
            let throttle = match source {
                Source::Kinesis => "ProvisionedThroughputExceededException",
                Source::DynamoDb => "LimitExceededException",
            };
            let kinds = if operation == "GetRecords" { 4 } else { 3 };
            return match rng.u32(0..kinds) {
                0 => service_error(400, throttle, "Rate exceeded"),
                1 => service_error(500, "InternalFailure", "internal error"),
                2 => Action::Reset,
                _ => service_error(400, "ExpiredIteratorException", "Iterator expired"),
            };
        }
        if operation == "GetRecords" {
            let limit = call.body["Limit"].as_u64().unwrap_or(1_000);
            let page = rng.u64(1..=limit.clamp(1, 1_200));
            return Action::Rewrite(call.with("Limit", json!(page)));
        }
        Action::Forward
    })
}

fn settings() -> Settings {
    Settings {
        read_limits: ReadLimits {
            retry: Backoff {
                base: Duration::from_millis(2),
                cap: Duration::from_millis(20),
                attempts: 16,
            },
            max_calls: 100_000,
            ..ReadLimits::default()
        },
        response_max_bytes: usize::MAX,
        // What is soaked is the reader under faults, not the read budget,
        // which would stretch each schedule's retries to seconds.
        reads_per_shard_per_second: 1_000,
        ..Settings::default()
    }
}

fn number(record: &Value) -> &str {
    record["kinesis"]["sequenceNumber"]
        .as_str()
        .or_else(|| record["dynamodb"]["SequenceNumber"].as_str())
        .expect("a sequence number")
}

/// Checks one document against the records `expected`; returns how many
/// records it checked and how many are neither in it nor in a gap.
fn verify(document: &Value, expected: &[Held]) -> (usize, usize) {
    assert_conforms_to_schema(document);
    let records = document["Records"].as_array().unwrap();
    let gaps: Vec<(SequenceNumber, SequenceNumber)> = document["hydration"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                SequenceNumber::parse(g["fromSequenceNumber"].as_str().unwrap()).unwrap(),
                SequenceNumber::parse(g["toSequenceNumber"].as_str().unwrap()).unwrap(),
            )
        })
        .collect();
    // In order, no duplicates, nothing outside the range.
    let numbers: Vec<&str> = records.iter().map(number).collect();
    for pair in numbers.windows(2) {
        assert_eq!(
            hydrate::compare_decimal(pair[0], pair[1]),
            std::cmp::Ordering::Less,
            "in order, once"
        );
    }
    let mut next = records.iter().peekable();
    let mut lost = 0;
    for held in expected {
        match next.peek() {
            Some(record) if number(record) == held.sequence_number => {
                if let Some(data) = &held.data {
                    let read = base64::engine::general_purpose::STANDARD
                        .decode(record["kinesis"]["data"].as_str().unwrap())
                        .unwrap();
                    assert!(
                        &read == data,
                        "record {} is byte-exact",
                        held.sequence_number
                    );
                }
                next.next();
            }
            _ => {
                let n = SequenceNumber::parse(&held.sequence_number).unwrap();
                if !gaps.iter().any(|(from, to)| *from <= n && n <= *to) {
                    lost += 1;
                }
            }
        }
    }
    assert!(
        next.next().is_none(),
        "a record outside the range, or out of order"
    );
    if document["hydration"]["status"] == "complete" {
        assert_eq!(records.len(), expected.len());
    }
    (expected.len(), lost)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_fault_schedules_never_lose_a_record() {
    let stream = TestStream::create(&kinesis_client(), "soak", 1).await;
    let written = stream.write(0, &binary_payloads(RECORDS, 256, 7)).await;
    let kinesis_held: Vec<Held> = written
        .iter()
        .map(|w| Held {
            sequence_number: w.sequence_number.clone(),
            data: Some(w.data.clone()),
        })
        .collect();

    let mut table = TestTable::create(StreamViewType::NewAndOldImages).await;
    let items = (0..RECORDS)
        .map(|i| HashMap::from([(KEY.to_owned(), AttributeValue::S(format!("order#{i:05}")))]))
        .collect();
    table.put_all(items).await;
    let changes = table.stream_records().await;
    let table_shard = table.shard_id().await;
    let dynamodb_held: Vec<Held> = changes
        .iter()
        .map(|c| Held {
            sequence_number: c
                .dynamodb
                .as_ref()
                .unwrap()
                .sequence_number
                .clone()
                .unwrap(),
            data: None,
        })
        .collect();

    let mut totals = Totals::default();
    for seed in 0..SCHEDULES {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed);
        let source = if seed % 2 == 0 {
            Source::Kinesis
        } else {
            Source::DynamoDb
        };
        let len = if rng.bool() {
            rng.usize(1..=100)
        } else {
            rng.usize(1..=RECORDS)
        };
        let first = rng.usize(0..=RECORDS - len);
        let last = first + len - 1;
        let rate = 0.10 + rng.f64() * 0.20;

        let calls = Arc::new(AtomicUsize::new(0));
        let faulted = Arc::new(AtomicUsize::new(0));
        let rule = schedule(seed, rate, source, calls.clone(), faulted.clone());
        let (proxy, service_id, failure, held) = match source {
            Source::Kinesis => (
                FaultProxy::start(&kinesis_endpoint(), rule).await,
                "Kinesis",
                kinesis_failure(&stream.arn, &written[first], &written[last], len),
                &kinesis_held,
            ),
            Source::DynamoDb => {
                let batch = Batch {
                    shard_id: &table_shard,
                    start: &dynamodb_held[first].sequence_number,
                    end: &dynamodb_held[last].sequence_number,
                    size: len,
                };
                (
                    FaultProxy::start(&moto_endpoint(), rule).await,
                    "DynamoDB Streams",
                    dynamodb_failure(&table.stream_arn, &batch),
                    &dynamodb_held,
                )
            }
        };
        let hydrator = Hydrator::new(sdk_config_with(&[(service_id, proxy.url())]), settings());
        let response = hydrator
            .handle(failure.to_string())
            .await
            .unwrap_or_else(|e| {
                panic!("schedule {seed} ({source:?}, {len} records, rate {rate:.2}): {e}")
            });
        let Response::One(document) = response else {
            panic!("one document")
        };
        let document = serde_json::to_value(&document).unwrap();
        let (checked, lost) = verify(&document, &held[first..=last]);

        totals.schedules += 1;
        totals.calls += calls.load(Ordering::Relaxed);
        totals.calls_faulted += faulted.load(Ordering::Relaxed);
        totals.records_checked += checked;
        totals.records_lost += lost;
        if document["hydration"]["status"] == "complete" {
            totals.complete += 1;
        } else {
            totals.partial += 1;
        }
    }

    println!(
        "soak: {} schedules ({} complete, {} partial), {} calls of which {} faulted ({:.1}%), {} records checked, records lost: {}",
        totals.schedules,
        totals.complete,
        totals.partial,
        totals.calls,
        totals.calls_faulted,
        100.0 * totals.calls_faulted as f64 / totals.calls.max(1) as f64,
        totals.records_checked,
        totals.records_lost
    );
    assert_eq!(totals.records_lost, 0);
    assert_eq!(totals.schedules, SCHEDULES);
    let share = totals.calls_faulted as f64 / totals.calls as f64;
    assert!((0.08..=0.32).contains(&share), "faulted share {share}");
}
