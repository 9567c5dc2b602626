//! What the redrive tests share: saved events of records to redrive, a rule
//! that makes the fault proxy fail a share of `PutRecords` entries a set
//! number of times each, and the checks on what landed: every record once,
//! byte-exact, and each partition key's records in their order.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::fault_proxy::{Action, Rule};
use crate::stream::{TestStream, Written};

/// A record as a producer wrote it: partition key and data.
pub type Sent = (String, Vec<u8>);

/// Writes `{"Records": [...]}` holding `records` to `path`, as `dlq drain`
/// saves an event.
pub fn save_event(path: &Path, stream_arn: &str, records: &[Written]) {
    let records: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "eventSource": "aws:kinesis",
                "eventSourceARN": stream_arn,
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r.partition_key,
                    "sequenceNumber": r.sequence_number,
                    "approximateArrivalTimestamp": 1_795_426_301.87,
                    "data": STANDARD.encode(&r.data)
                }
            })
        })
        .collect();
    std::fs::write(path, json!({ "Records": records }).to_string()).expect("write event");
}

/// A proxy rule that rejects (`ProvisionedThroughputExceededException`)
/// about `percent`% of the `PutRecords` entries, each the first `times`
/// times a call carries it, chosen by a hash of the entry's data so every
/// run picks the same ones. Also returns how many entries it rejected.
pub fn flaky_put_records(percent: u8, times: u32) -> (Rule, Arc<Mutex<usize>>) {
    let seen: Mutex<HashMap<String, u32>> = Mutex::new(HashMap::new());
    let rejected = Arc::new(Mutex::new(0));
    let count = rejected.clone();
    let rule: Rule = Box::new(move |call, _| {
        if call.operation() != "PutRecords" {
            return Action::Forward;
        }
        let records = call.body["Records"].as_array().cloned().unwrap_or_default();
        let mut seen = seen.lock().unwrap();
        let positions: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                let data = r["Data"].as_str().unwrap_or("");
                let chosen =
                    u32::from(Sha256::digest(data.as_bytes())[0]) * 100 < 256 * u32::from(percent);
                let failed = seen.entry(data.to_owned()).or_insert(0);
                let fail = chosen && *failed < times;
                *failed += u32::from(fail);
                fail
            })
            .map(|(i, _)| i)
            .collect();
        *count.lock().unwrap() += positions.len();
        if positions.is_empty() {
            Action::Forward
        } else {
            Action::FailEntries(positions)
        }
    });
    (rule, rejected)
}

/// Every record of every shard of `stream`, shard by shard in shard order.
pub async fn read_all(stream: &TestStream) -> Vec<Written> {
    let mut all = Vec::new();
    for shard in 0..stream.shards.len() {
        all.extend(stream.read(shard, None).await);
    }
    all
}

/// Checks that `landed` holds each of `sent` exactly once, byte-exact, and
/// nothing else; returns how many records landed after a later record of
/// their partition key (in the order of `sent`) in the same shard.
pub fn check_once_and_count_out_of_order(sent: &[Sent], landed: &[Written]) -> usize {
    let mut expected: Vec<&Sent> = sent.iter().collect();
    let mut got: Vec<Sent> = landed
        .iter()
        .map(|w| (w.partition_key.clone(), w.data.clone()))
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(
        got.len(),
        expected.len(),
        "records landed, against records sent"
    );
    assert!(
        got.iter().zip(&expected).all(|(g, e)| g == *e),
        "the records that landed are not the records sent, byte for byte"
    );
    let place: HashMap<&Sent, usize> = sent.iter().enumerate().map(|(i, s)| (s, i)).collect();
    assert_eq!(
        place.len(),
        sent.len(),
        "the test's records must be distinct"
    );
    let mut newest: HashMap<(&str, &str), usize> = HashMap::new();
    let mut late = 0;
    for w in landed {
        let at = place[&(w.partition_key.clone(), w.data.clone())];
        let newest = newest
            .entry((w.shard_id.as_str(), w.partition_key.as_str()))
            .or_insert(at);
        if *newest > at {
            late += 1;
        }
        *newest = (*newest).max(at);
    }
    late
}
