//! Entries, batches, targets and reports of `redrive`, without a network.

use super::target::{client_config, redacted, PutRecords};
use super::*;
use crate::kpl::MAGIC as KPL_MAGIC;
use crate::sources::saved::{Envelope, SavedEvent};
use serde_json::Value;

fn entry(size: usize) -> Entry {
    Entry {
        file: PathBuf::from("f.json"),
        sequence_number: "1".into(),
        user_record: None,
        partition_key: "k".into(),
        explicit_hash_key: None,
        data: vec![0; size.saturating_sub(1)],
    }
}

#[test]
fn batches_hold_at_most_500_records() {
    let entries: Vec<Entry> = (0..1201).map(|_| entry(10)).collect();
    let sizes: Vec<usize> = batches(&entries).iter().map(Vec::len).collect();
    assert_eq!(sizes, [500, 500, 201]);
}

#[test]
fn batches_hold_at_most_5_mib() {
    // Six records of 1 MiB: five fill a call exactly, the sixth starts the next.
    let entries: Vec<Entry> = (0..6).map(|_| entry(MAX_BYTES_PER_RECORD)).collect();
    assert_eq!(batches(&entries), [vec![0, 1, 2, 3, 4], vec![5]]);
    let uneven = vec![entry(3 << 20), entry(3 << 20), entry(10)];
    assert_eq!(batches(&uneven), [vec![0], vec![1, 2]]);
}

#[test]
fn every_entry_is_in_exactly_one_batch_in_order() {
    let entries: Vec<Entry> = (0..777).map(|i| entry(1 + (i * 7919) % 40_000)).collect();
    let covered: Vec<usize> = batches(&entries).into_iter().flatten().collect();
    assert_eq!(covered, (0..777).collect::<Vec<_>>());
    for batch in batches(&entries) {
        let bytes: usize = batch.iter().map(|&i| entries[i].size()).sum();
        assert!(batch.len() <= MAX_RECORDS_PER_CALL && bytes <= MAX_BYTES_PER_CALL);
    }
}

#[test]
fn only_kinesis_records_with_base64_data_are_taken() {
    let event = |record: Value| SavedEvent {
        path: PathBuf::from("x.event.json"),
        envelope: Envelope::Streams,
        records: vec![record],
    };
    let good = event(
        serde_json::json!({"eventSource": "aws:kinesis", "kinesis": {
        "data": "AAEC/w==", "partitionKey": "p", "sequenceNumber": "49"}}),
    );
    let taken = entries(&[good], false).unwrap();
    assert_eq!(
        (taken[0].data.as_slice(), taken[0].partition_key.as_str()),
        (&[0u8, 1, 2, 255][..], "p")
    );
    let dynamodb = event(serde_json::json!({"eventSource": "aws:dynamodb"}));
    assert!(matches!(
        entries(&[dynamodb], false),
        Err(RedriveError::NotKinesis { .. })
    ));
    let bad = event(
        serde_json::json!({"eventSource": "aws:kinesis", "kinesis": {
        "data": "!!", "partitionKey": "p", "sequenceNumber": "49"}}),
    );
    assert!(matches!(
        entries(&[bad], false),
        Err(RedriveError::NotBase64 { .. })
    ));
}

#[test]
fn a_stream_arn_is_a_target_by_arn_and_a_bare_name_by_name() {
    let arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders";
    let target = Target::parse(arn).unwrap();
    assert!(
        matches!(&target, Target::Arn { arn: a } if a.as_str() == arn && a.region == "eu-west-1")
    );
    assert_eq!((target.name(), target.shown()), ("orders", arn));
    assert_eq!(
        Target::parse("orders").unwrap(),
        Target::Name("orders".into())
    );
    // Not sent as a stream name for the service to puzzle over.
    let dynamodb =
        "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-21T06:00:00.000";
    assert!(Target::parse(dynamodb)
        .unwrap_err()
        .to_string()
        .contains("DynamoDB stream"));
    assert!(Target::parse("arn:aws:kinesis:eu-west-1:1234:stream/orders").is_err());
}

#[test]
fn errors_about_a_record_do_not_quote_the_file() {
    let event = |source: Value| SavedEvent {
        path: PathBuf::from("x.event.json"),
        envelope: Envelope::Streams,
        records: vec![serde_json::json!({ "eventSource": source })],
    };
    let secret = "card 4111 1111 1111 1111";
    for (source, said) in [
        (
            Value::from(secret),
            "a record with an unrecognized eventSource",
        ),
        (Value::from("aws:dynamodb"), "an aws:dynamodb record"),
        (Value::Null, "a record without an eventSource"),
    ] {
        let message = entries(&[event(source)], false).unwrap_err().to_string();
        assert!(
            message.contains(said) && !message.contains("4111"),
            "{message}"
        );
    }
    let bad = SavedEvent {
        path: PathBuf::from("x.event.json"),
        envelope: Envelope::Streams,
        records: vec![
            serde_json::json!({"eventSource": "aws:kinesis", "kinesis": {
            "data": secret, "partitionKey": secret, "sequenceNumber": "49"}}),
        ],
    };
    let message = entries(&[bad], false).unwrap_err().to_string();
    assert!(!message.contains("4111"), "{message}");
}

#[test]
fn service_messages_lose_the_values_they_quote() {
    let message = "2 validation errors detected: Value 'customer-42@example.com' at \
        'records.1.member.partitionKey' failed to satisfy constraint: Member must have \
        length less than or equal to 256; Value 'x' at 'streamName' failed";
    let shown = redacted(message);
    assert!(
        !shown.contains("customer-42") && !shown.contains("'x'"),
        "{shown}"
    );
    assert!(
        shown.contains("Value (not shown) at 'records.1.member.partitionKey'"),
        "{shown}"
    );
    assert_eq!(
        redacted("Rate exceeded for shard shardId-000000000001"),
        "Rate exceeded for shard shardId-000000000001"
    );
    assert_eq!(redacted("Value 'unterminated"), "Value 'unterminated");
}

/// Captures the `PutRecords` request the client would send, and stops
/// it there: nothing leaves the machine.
#[derive(Debug, Default, Clone)]
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>);

impl aws_sdk_kinesis::config::Intercept for Capture {
    fn name(&self) -> &'static str {
        "Capture"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_kinesis::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_kinesis::config::RuntimeComponents,
        _: &mut aws_sdk_kinesis::config::ConfigBag,
    ) -> Result<(), aws_sdk_kinesis::error::BoxError> {
        let request = context.request();
        let body = request.body().bytes().unwrap_or_default();
        let body = serde_json::from_slice(body).unwrap_or(Value::Null);
        self.0
            .lock()
            .unwrap()
            .push((request.uri().to_owned(), body));
        Err("captured, not sent".into())
    }
}

/// The request redrive makes for `to_stream`, from a caller in us-east-1.
async fn request_for(to_stream: &str) -> (String, Value) {
    let sdk = aws_config::SdkConfig::builder()
        .region(aws_config::Region::new("us-east-1"))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let target = Target::parse(to_stream).unwrap();
    let capture = Capture::default();
    let config = client_config(&sdk, &target)
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .interceptor(capture.clone())
        .build();
    let client = aws_sdk_kinesis::Client::from_conf(config);
    let call = PutRecords {
        client: &client,
        target: &target,
        explicit_hash_key: None,
    };
    let backoff = Backoff {
        attempts: 1,
        ..Backoff::default()
    };
    let sent = hydrate::send_all(&call, &[entry(10)], backoff).await;
    assert!(sent.accepted[0].is_none());
    let captured = capture.0.lock().unwrap();
    assert_eq!(captured.len(), 1, "one call");
    captured[0].clone()
}

#[tokio::test]
async fn a_stream_arn_is_written_by_arn_in_its_own_account_and_region() {
    let arn = "arn:aws:kinesis:eu-west-1:210987654321:stream/orders";
    let (uri, body) = request_for(arn).await;
    assert_eq!(body["StreamARN"], arn, "{body}");
    assert!(body.get("StreamName").is_none(), "{body}");
    assert_eq!(body["Records"].as_array().map(Vec::len), Some(1));
    // The data plane endpoint of the ARN's account, in the ARN's region.
    assert!(
        uri.starts_with("https://210987654321.data-kinesis.eu-west-1.amazonaws.com"),
        "{uri}"
    );
}

#[tokio::test]
async fn a_bare_name_is_the_callers_stream() {
    let (uri, body) = request_for("orders").await;
    assert_eq!(body["StreamName"], "orders", "{body}");
    assert!(body.get("StreamARN").is_none(), "{body}");
    assert!(
        uri.starts_with("https://kinesis.us-east-1.amazonaws.com"),
        "{uri}"
    );
}

/// A stream in memory that rejects chosen records a number of times each
/// (throttled) or always (permanently), and keeps what it wrote in order.
#[derive(Default)]
struct Flaky {
    /// Rejections left, by original sequence number; `u32::MAX` is forever.
    rejections: std::cell::RefCell<std::collections::HashMap<String, u32>>,
    permanent: Option<String>,
    written: std::cell::RefCell<Vec<String>>,
    calls: std::cell::RefCell<Vec<Vec<String>>>,
}

impl hydrate::BatchApi for Flaky {
    type Entry = Entry;
    type Receipt = (Option<String>, String);
    const MAX_ENTRIES: usize = 7;
    const MAX_BYTES: usize = 1000;

    fn size(entry: &Entry) -> usize {
        entry.size()
    }

    async fn call(
        &self,
        entries: &[&Entry],
    ) -> Result<Vec<hydrate::EntryAnswer<Self::Receipt>>, hydrate::CallFailure> {
        self.calls
            .borrow_mut()
            .push(entries.iter().map(|e| e.partition_key.clone()).collect());
        Ok(entries
            .iter()
            .map(|e| {
                let seq = &e.sequence_number;
                if self.permanent.as_ref() == Some(seq) {
                    return hydrate::EntryAnswer::Rejected {
                        code: "InvalidArgumentException".into(),
                        message: "no".into(),
                    };
                }
                let mut rejections = self.rejections.borrow_mut();
                match rejections.get_mut(seq) {
                    Some(left) if *left > 0 => {
                        *left -= 1;
                        hydrate::EntryAnswer::Rejected {
                            code: "ProvisionedThroughputExceededException".into(),
                            message: "Rate exceeded for shard.".into(),
                        }
                    }
                    _ => {
                        self.written.borrow_mut().push(seq.clone());
                        hydrate::EntryAnswer::Accepted((None, format!("new-{seq}")))
                    }
                }
            })
            .collect())
    }
}

/// `count` records over `keys` keys, sequence numbers "0", "1", ...
fn keyed(count: usize, keys: usize, rng: &mut fastrand::Rng) -> Vec<Entry> {
    (0..count)
        .map(|i| Entry {
            sequence_number: i.to_string(),
            partition_key: format!("key-{}", rng.usize(..keys)),
            ..entry(1 + rng.usize(..50))
        })
        .collect()
}

fn quick(attempts: u32) -> Backoff {
    Backoff {
        // No waiting: the runtime here has no paused clock.
        base: std::time::Duration::ZERO,
        cap: std::time::Duration::ZERO,
        attempts,
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(future)
}

/// Records written after a later record of their own key.
fn out_of_order(entries: &[Entry], written: &[String]) -> usize {
    let mut last: std::collections::HashMap<&str, usize> = Default::default();
    let mut late = 0;
    for seq in written {
        let index: usize = seq.parse().unwrap();
        let key = entries[index].partition_key.as_str();
        if last.get(key).is_some_and(|&before| before > index) {
            late += 1;
        }
        let newest = last.entry(key).or_insert(index);
        *newest = (*newest).max(index);
    }
    late
}

#[test]
fn under_partial_failures_each_key_is_written_once_in_order() {
    let mut unordered_late = 0;
    for seed in 0..200 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let entries = keyed(1 + rng.usize(..60), 1 + rng.usize(..6), &mut rng);
        let api = Flaky::default();
        for e in &entries {
            if rng.u8(..10) < 3 {
                api.rejections
                    .borrow_mut()
                    .insert(e.sequence_number.clone(), 1 + rng.u32(..3));
            }
        }
        let rejections = api.rejections.borrow().clone();
        let sent = block_on(ordered::send_in_key_order(
            &api,
            &entries,
            |e| &e.partition_key,
            quick(4),
        ));
        assert!(sent.failures.is_empty(), "seed {seed}: {:?}", sent.failures);
        let written = api.written.borrow();
        let mut once = written.clone();
        once.sort_by_key(|s| s.parse::<usize>().unwrap());
        once.dedup();
        assert_eq!(once.len(), entries.len(), "seed {seed}: each record once");
        assert_eq!(
            written.len(),
            entries.len(),
            "seed {seed}: each record once"
        );
        assert_eq!(out_of_order(&entries, &written), 0, "seed {seed}");
        for call in api.calls.borrow().iter() {
            let mut keys = call.clone();
            keys.sort();
            keys.dedup();
            assert_eq!(
                keys.len(),
                call.len(),
                "seed {seed}: a key twice in {call:?}"
            );
        }
        for (e, attempts) in entries.iter().zip(&sent.attempts) {
            let rejected = rejections.get(&e.sequence_number).copied().unwrap_or(0);
            assert_eq!(*attempts, rejected + 1, "seed {seed}");
        }

        // The same faults without the order kept: what this guards against.
        let api = Flaky::default();
        *api.rejections.borrow_mut() = rejections;
        block_on(hydrate::send_all(&api, &entries, quick(4)));
        unordered_late += out_of_order(&entries, &api.written.borrow());
    }
    assert!(unordered_late > 100, "{unordered_late}");
}

#[test]
fn a_record_given_up_on_holds_back_the_rest_of_its_key_only() {
    let entries: Vec<Entry> = ["a", "b", "a", "b", "a"]
        .iter()
        .enumerate()
        .map(|(i, key)| Entry {
            sequence_number: i.to_string(),
            partition_key: (*key).into(),
            ..entry(5)
        })
        .collect();
    // "a"'s first record is throttled past its attempts; "b"'s second is refused.
    let api = Flaky {
        permanent: Some("3".into()),
        ..Flaky::default()
    };
    api.rejections.borrow_mut().insert("0".into(), u32::MAX);
    let sent = block_on(ordered::send_in_key_order(
        &api,
        &entries,
        |e| &e.partition_key,
        quick(3),
    ));
    assert_eq!(*api.written.borrow(), ["1"]);
    let failures: Vec<(usize, &str)> = sent
        .failures
        .iter()
        .map(|f| (f.index, f.code.as_str()))
        .collect();
    assert_eq!(
        failures,
        [
            (0, "ProvisionedThroughputExceededException"),
            (2, ordered::HELD_BACK),
            (3, "InvalidArgumentException"),
            (4, ordered::HELD_BACK)
        ]
    );
    assert_eq!(sent.attempts, [3, 1, 0, 1, 0]);
    let results = results_of(&entries, sent);
    assert!(!results[2].written() && results[2].error_code.as_deref() == Some("HeldBack"));
}

#[test]
fn deaggregate_takes_each_user_record_with_its_own_keys() {
    // aws-kinesis-agg 1.2.3 (Python): ('pk1', b'{"a":1}', '123') then ('pk2', b'hello').
    let aggregate = b"\xf3\x89\x9a\xc2\x0a\x03pk1\x0a\x03pk2\x12\x03123\x1a\x0d\x08\x00\x10\x00\x1a\x07{\"a\":1}\x1a\x09\x08\x01\x1a\x05hello\x97\x04\xb0\xcb\x4a\x4d\xd2\xff\xdc\xaa\xbf\x69\x2f\x65\x43\xb0";
    let mut corrupt = aggregate.to_vec();
    corrupt[10] ^= 1;
    let record = |seq: &str, data: &[u8]| {
        serde_json::json!({"eventSource": "aws:kinesis", "kinesis": {
            "data": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, data),
            "partitionKey": "outer", "sequenceNumber": seq}})
    };
    let event = SavedEvent {
        path: PathBuf::from("kpl.event.json"),
        envelope: Envelope::Streams,
        records: vec![
            record("1", aggregate),
            record("2", b"plain"),
            record("3", &corrupt),
            record("4", &KPL_MAGIC),
        ],
    };
    let whole = entries(std::slice::from_ref(&event), false).unwrap();
    assert_eq!(whole.len(), 4);
    assert_eq!(whole[0].data, aggregate);

    let split = entries(&[event], true).unwrap();
    /// Original sequence number, place, partition key, hash key, data.
    type Shown<'a> = (&'a str, Option<usize>, &'a str, Option<&'a str>, &'a [u8]);
    let shown: Vec<Shown> = split
        .iter()
        .map(|e| {
            (
                e.sequence_number.as_str(),
                e.user_record,
                e.partition_key.as_str(),
                e.explicit_hash_key.as_deref(),
                e.data.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("1", Some(0), "pk1", Some("123"), &b"{\"a\":1}"[..]),
            ("1", Some(1), "pk2", None, b"hello"),
            ("2", None, "outer", None, b"plain"),
            ("3", None, "outer", None, &corrupt[..]),
            ("4", None, "outer", None, &KPL_MAGIC[..]),
        ]
    );
}

#[test]
fn a_kafka_event_is_refused_for_what_it_is() {
    let Value::Object(fields) = serde_json::json!({"eventSource": "SelfManagedKafka"}) else {
        unreachable!()
    };
    let event = SavedEvent {
        path: PathBuf::from("orders.event.json"),
        envelope: Envelope::Kafka(fields),
        records: vec![serde_json::json!({"topic": "orders", "partition": 0, "offset": 1})],
    };
    let message = entries(&[event], false).unwrap_err().to_string();
    assert!(
        message.contains("orders.event.json is a Kafka event") && message.contains("replay"),
        "{message}"
    );
}
