//! A saved event cut into the consecutive payloads a synchronous Invoke
//! takes: Lambda refuses a request over 6 MB, so a larger document goes in
//! order, in as few chunks as fit.

use std::ops::Range;

use serde_json::Value;

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
    /// `{"Records":[...]}` for those records.
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
pub fn chunks(records: &[Value], limit: usize) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut payload = OPEN.to_vec();
    let mut start = 0;
    for (index, record) in records.iter().enumerate() {
        // A serde_json::Value always serializes: its keys are strings.
        let bytes = serde_json::to_vec(record).unwrap_or_default();
        let separator = usize::from(index > start);
        let fits = payload.len() + separator + bytes.len() + CLOSE.len() <= limit;
        if !fits && index > start {
            payload.extend_from_slice(CLOSE);
            chunks.push(Chunk {
                records: start..index,
                payload: std::mem::replace(&mut payload, OPEN.to_vec()),
            });
            start = index;
        }
        if index > start {
            payload.push(b',');
        }
        payload.extend_from_slice(&bytes);
    }
    payload.extend_from_slice(CLOSE);
    chunks.push(Chunk {
        records: start..records.len(),
        payload,
    });
    chunks
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
        let chunks = chunks(&records, MAX_INVOKE_PAYLOAD);
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
        let chunks = chunks(&records, limit);
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
        let chunks = chunks(&records, limit);
        let ranges: Vec<_> = chunks.iter().map(|c| c.records.clone()).collect();
        assert_eq!(ranges, [0..1, 1..2, 2..3]);
        let too_large: Vec<bool> = chunks.iter().map(|c| c.too_large(limit)).collect();
        assert_eq!(too_large, [false, true, false]);
    }

    #[test]
    fn an_event_without_records_is_one_empty_chunk() {
        let chunks = chunks(&[], MAX_INVOKE_PAYLOAD);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].payload, br#"{"Records":[]}"#);
    }
}
