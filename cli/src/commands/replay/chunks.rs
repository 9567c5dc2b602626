//! A saved event cut into the consecutive payloads a synchronous Invoke
//! takes: Lambda refuses a request over 6 MB, so a larger document goes in
//! order, in as few chunks as fit, each in the event's own envelope.

use std::ops::Range;

use serde_json::Value;

use crate::sources::saved::{kafka_partition, Envelope};

/// The largest request payload a synchronous (RequestResponse) Invoke takes:
/// Lambda answers 413 to 6,291,456 bytes and more.
pub const MAX_INVOKE_PAYLOAD: usize = 6 * 1024 * 1024 - 1;

const OPEN: &[u8] = br#"{"Records":["#;
const CLOSE: &[u8] = b"]}";

/// One invocation's worth of an event.
#[derive(Debug)]
pub struct Chunk {
    /// Which of the event's records it carries.
    pub records: Range<usize>,
    /// The event of those records, in the saved event's envelope.
    pub payload: Vec<u8>,
}

impl Chunk {
    /// A chunk of one record that alone exceeds the limit: it cannot be sent.
    pub fn too_large(&self, limit: usize) -> bool {
        self.payload.len() > limit
    }
}

/// Cuts `records` into consecutive chunks whose payload is at most `limit`
/// bytes. A record too large on its own gets a chunk of its own, over the
/// limit, for the caller to report. An event without records is one empty chunk.
pub fn chunks(envelope: &Envelope, records: &[Value], limit: usize) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut payload = Payload::open(envelope);
    let mut start = 0;
    for (index, record) in records.iter().enumerate() {
        // A serde_json::Value always serializes: its keys are strings.
        let bytes = serde_json::to_vec(record).unwrap_or_default();
        let mark = payload.mark();
        payload.push(record, &bytes);
        if payload.len() > limit && index > start {
            payload.undo(mark);
            chunks.push(Chunk {
                records: start..index,
                payload: std::mem::replace(&mut payload, Payload::open(envelope)).close(),
            });
            start = index;
            payload.push(record, &bytes);
        }
    }
    chunks.push(Chunk {
        records: start..records.len(),
        payload: payload.close(),
    });
    chunks
}

/// An event being written record by record, so its length is known before
/// it is closed. A Kafka event files consecutive records of one
/// topic-partition under one key, which holds because a saved event keeps
/// each partition's records together.
struct Payload<'a> {
    envelope: &'a Envelope,
    bytes: Vec<u8>,
    records: usize,
    /// The Kafka topic-partition whose list is open.
    partition: Option<String>,
}

/// Where a payload stood before a record was pushed.
struct Mark {
    len: usize,
    records: usize,
    partition: Option<String>,
}

impl<'a> Payload<'a> {
    fn open(envelope: &'a Envelope) -> Self {
        let bytes = match envelope {
            Envelope::Streams => OPEN.to_vec(),
            Envelope::Kafka(fields) => {
                // The event's own fields, then `records`, as `Envelope::event` writes them.
                let mut bytes = serde_json::to_vec(fields).unwrap_or_else(|_| b"{}".to_vec());
                bytes.pop();
                if !fields.is_empty() {
                    bytes.push(b',');
                }
                bytes.extend_from_slice(br#""records":{"#);
                bytes
            }
        };
        Self {
            envelope,
            bytes,
            records: 0,
            partition: None,
        }
    }

    fn push(&mut self, record: &Value, bytes: &[u8]) {
        match self.envelope {
            Envelope::Streams => {
                if self.records > 0 {
                    self.bytes.push(b',');
                }
            }
            Envelope::Kafka(_) => {
                let partition = kafka_partition(record).unwrap_or_default();
                if self.partition.as_deref() == Some(partition.as_str()) {
                    self.bytes.push(b',');
                } else {
                    if self.partition.is_some() {
                        self.bytes.extend_from_slice(b"],");
                    }
                    // A string always serializes.
                    self.bytes
                        .extend(serde_json::to_vec(&partition).unwrap_or_default());
                    self.bytes.extend_from_slice(b":[");
                    self.partition = Some(partition);
                }
            }
        }
        self.bytes.extend_from_slice(bytes);
        self.records += 1;
    }

    fn mark(&self) -> Mark {
        Mark {
            len: self.bytes.len(),
            records: self.records,
            partition: self.partition.clone(),
        }
    }

    fn undo(&mut self, mark: Mark) {
        self.bytes.truncate(mark.len);
        self.records = mark.records;
        self.partition = mark.partition;
    }

    fn closing(&self) -> &'static [u8] {
        match (self.envelope, &self.partition) {
            (Envelope::Streams, _) => CLOSE,
            (Envelope::Kafka(_), Some(_)) => b"]}}",
            (Envelope::Kafka(_), None) => b"}}",
        }
    }

    /// The length of the payload once closed.
    fn len(&self) -> usize {
        self.bytes.len() + self.closing().len()
    }

    fn close(mut self) -> Vec<u8> {
        let closing = self.closing();
        self.bytes.extend_from_slice(closing);
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn records(sizes: &[usize]) -> Vec<Value> {
        sizes
            .iter()
            .map(|n| json!({"kinesis": {"data": "a".repeat(*n)}}))
            .collect()
    }

    #[test]
    fn a_small_event_is_one_chunk_exactly_as_serde_writes_it() {
        let records = records(&[3, 5]);
        let chunks = chunks(&Envelope::Streams, &records, MAX_INVOKE_PAYLOAD);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].records, 0..2);
        assert_eq!(
            chunks[0].payload,
            serde_json::to_vec(&json!({ "Records": records })).unwrap()
        );
    }

    #[test]
    fn a_large_event_is_cut_in_order_and_every_chunk_fits() {
        let records = records(&[100, 100, 100, 100, 100]);
        let one = serde_json::to_vec(&records[0]).unwrap().len();
        // Room for two records and the envelope, not three.
        let limit = OPEN.len() + CLOSE.len() + 2 * one + 1;
        let chunks = chunks(&Envelope::Streams, &records, limit);
        let ranges: Vec<_> = chunks.iter().map(|c| c.records.clone()).collect();
        assert_eq!(ranges, [0..2, 2..4, 4..5]);
        for chunk in &chunks {
            assert!(chunk.payload.len() <= limit);
            assert!(!chunk.too_large(limit));
            let parsed: Value = serde_json::from_slice(&chunk.payload).unwrap();
            assert_eq!(
                parsed["Records"].as_array().unwrap(),
                &records[chunk.records.clone()]
            );
        }
    }

    #[test]
    fn a_record_over_the_limit_stands_alone_and_says_so() {
        let records = records(&[10, 500, 10]);
        let limit = 200;
        let chunks = chunks(&Envelope::Streams, &records, limit);
        let ranges: Vec<_> = chunks.iter().map(|c| c.records.clone()).collect();
        assert_eq!(ranges, [0..1, 1..2, 2..3]);
        let too_large: Vec<bool> = chunks.iter().map(|c| c.too_large(limit)).collect();
        assert_eq!(too_large, [false, true, false]);
    }

    #[test]
    fn an_event_without_records_is_one_empty_chunk() {
        let chunks = chunks(&Envelope::Streams, &[], MAX_INVOKE_PAYLOAD);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].payload, br#"{"Records":[]}"#);
    }

    fn kafka_event(sizes: &[(i64, usize)]) -> (Envelope, Vec<Value>) {
        let fields = json!({"eventSource": "SelfManagedKafka",
            "bootstrapServers": "b-1:9092"});
        let Value::Object(fields) = fields else {
            unreachable!()
        };
        let records = sizes
            .iter()
            .enumerate()
            .map(|(offset, (partition, n))| {
                json!({"topic": "order-events-v2", "partition": partition,
                    "offset": offset, "value": "a".repeat(*n)})
            })
            .collect();
        (Envelope::Kafka(fields), records)
    }

    #[test]
    fn a_kafka_event_is_one_chunk_as_its_envelope_writes_it() {
        let (envelope, records) = kafka_event(&[(0, 3), (0, 4), (1, 5)]);
        let chunks = chunks(&envelope, &records, MAX_INVOKE_PAYLOAD);
        assert_eq!(chunks.len(), 1);
        assert_eq!(
            chunks[0].payload,
            serde_json::to_vec(&envelope.event(&records)).unwrap()
        );
    }

    #[test]
    fn a_large_kafka_event_is_cut_in_order_and_every_chunk_is_a_kafka_event_that_fits() {
        let (envelope, records) = kafka_event(&[(0, 100), (0, 100), (0, 100), (1, 100), (1, 100)]);
        let whole = serde_json::to_vec(&envelope.event(&records)).unwrap().len();
        let limit = whole / 2;
        let chunks = chunks(&envelope, &records, limit);
        assert!(chunks.len() >= 2);
        let mut sent = Vec::new();
        for chunk in &chunks {
            assert!(
                chunk.payload.len() <= limit,
                "{} > {limit}",
                chunk.payload.len()
            );
            let parsed: Value = serde_json::from_slice(&chunk.payload).unwrap();
            assert_eq!(parsed, envelope.event(&records[chunk.records.clone()]));
            assert_eq!(parsed["eventSource"], "SelfManagedKafka");
            sent.extend(chunk.records.clone());
        }
        assert_eq!(sent, (0..records.len()).collect::<Vec<_>>());
    }
}
