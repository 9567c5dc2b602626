//! Streams in the emulator, and records written into them with what the
//! service answered, as the ground truth a hydrated batch is checked against.

use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType, StreamStatus};
use aws_sdk_kinesis::Client;

/// One record as written: where it went and what it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub shard_id: String,
    pub sequence_number: String,
    pub partition_key: String,
    pub data: Vec<u8>,
}

/// A stream created for one test, with a name no other test uses.
pub struct TestStream {
    pub client: Client,
    pub name: String,
    pub arn: String,
    /// Shard ids with the first hash key of each, for steering writes.
    pub shards: Vec<(String, String)>,
}

impl TestStream {
    pub async fn create(client: &Client, prefix: &str, shard_count: i32) -> TestStream {
        let name = format!("{prefix}-{}", unique_suffix());
        client
            .create_stream()
            .stream_name(&name)
            .shard_count(shard_count)
            .send()
            .await
            .expect("CreateStream");
        let mut description = None;
        for _ in 0..200 {
            let summary = client
                .describe_stream()
                .stream_name(&name)
                .send()
                .await
                .expect("DescribeStream");
            let d = summary.stream_description.expect("a description");
            if d.stream_status == StreamStatus::Active {
                description = Some(d);
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let description = description.expect("stream became active");
        let shards = description
            .shards
            .iter()
            .map(|s| {
                (
                    s.shard_id.clone(),
                    s.hash_key_range
                        .as_ref()
                        .expect("hash range")
                        .starting_hash_key
                        .clone(),
                )
            })
            .collect();
        TestStream {
            client: client.clone(),
            name,
            arn: description.stream_arn,
            shards,
        }
    }

    pub fn shard_id(&self, index: usize) -> &str {
        &self.shards[index].0
    }

    /// Writes `payloads` to the shard at `shard_index`, in order, 500 a call,
    /// and returns them as the service placed them, in shard order.
    pub async fn write(&self, shard_index: usize, payloads: &[Vec<u8>]) -> Vec<Written> {
        let hash_key = &self.shards[shard_index].1;
        let mut written = Vec::with_capacity(payloads.len());
        for (chunk_index, chunk) in payloads.chunks(500).enumerate() {
            let entries: Vec<PutRecordsRequestEntry> = chunk
                .iter()
                .enumerate()
                .map(|(i, data)| {
                    PutRecordsRequestEntry::builder()
                        .data(Blob::new(data.clone()))
                        .partition_key(format!("key-{}", chunk_index * 500 + i))
                        .explicit_hash_key(hash_key)
                        .build()
                        .expect("entry")
                })
                .collect();
            let out = self
                .client
                .put_records()
                .stream_arn(&self.arn)
                .set_records(Some(entries))
                .send()
                .await
                .expect("PutRecords");
            assert_eq!(
                out.failed_record_count,
                Some(0),
                "the emulator refused records"
            );
            for ((i, data), result) in chunk.iter().enumerate().zip(out.records) {
                written.push(Written {
                    shard_id: result.shard_id.expect("shard id"),
                    sequence_number: result.sequence_number.expect("sequence number"),
                    partition_key: format!("key-{}", chunk_index * 500 + i),
                    data: data.clone(),
                });
            }
        }
        assert!(
            written
                .iter()
                .all(|w| w.shard_id == self.shard_id(shard_index)),
            "records landed in another shard"
        );
        written.sort_by(|a, b| hydrate::compare_decimal(&a.sequence_number, &b.sequence_number));
        written
    }
}

impl TestStream {
    /// Every record of shard `shard_index` from its oldest, or after
    /// `after` when given, until the reader has caught up with the tip.
    pub async fn read(&self, shard_index: usize, after: Option<&str>) -> Vec<Written> {
        let shard_id = self.shard_id(shard_index).to_owned();
        let request = self
            .client
            .get_shard_iterator()
            .stream_name(&self.name)
            .shard_id(&shard_id);
        let request = match after {
            Some(sequence_number) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(sequence_number),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let mut iterator = request.send().await.expect("shard iterator").shard_iterator;
        let mut records = Vec::new();
        while let Some(current) = iterator {
            let page = self
                .client
                .get_records()
                .shard_iterator(current)
                .send()
                .await
                .expect("get records");
            let empty = page.records.is_empty();
            records.extend(page.records.into_iter().map(|r| Written {
                shard_id: shard_id.clone(),
                sequence_number: r.sequence_number,
                partition_key: r.partition_key.unwrap_or_default(),
                data: r.data.into_inner(),
            }));
            if empty && page.millis_behind_latest.unwrap_or(0) == 0 {
                break;
            }
            iterator = page.next_shard_iterator;
        }
        records
    }
}

/// A name part unique across processes and within one.
pub fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos % 1_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Deterministic bytes that are not UTF-8 (every other record starts with
/// 0xFF) in sizes from 1 byte to `max_len`.
pub fn binary_payloads(count: usize, max_len: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|i| {
            let len = 1 + (next() as usize % max_len);
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if i % 2 == 0 {
                bytes[0] = 0xFF;
            }
            bytes
        })
        .collect()
}

impl TestStream {
    /// A one-shard stream holding `count` small JSON orders.
    pub async fn with_orders(prefix: &str, count: usize) -> (TestStream, Vec<Written>) {
        let stream = TestStream::create(&crate::emulator::kinesis_client(), prefix, 1).await;
        let payloads: Vec<Vec<u8>> = (0..count)
            .map(|i| format!("{{\"order\":{i}}}").into_bytes())
            .collect();
        let written = stream.write(0, &payloads).await;
        (stream, written)
    }
}
