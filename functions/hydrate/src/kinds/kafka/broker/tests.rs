//! Fetched batches made into records as a consumer sees them; the
//! over-the-wire reads are in `tests/read/kafka.rs`.

use rskafka::protocol::record::{ControlBatchRecord, Record, RecordBatchCompression, RecordHeader};

use super::*;

fn batch(
    base_offset: i64,
    timestamp_type: RecordBatchTimestampType,
    records: Vec<Record>,
) -> RecordBatch {
    RecordBatch {
        base_offset,
        partition_leader_epoch: 0,
        last_offset_delta: records.len().saturating_sub(1) as i32,
        first_timestamp: 1_700_000_000_000,
        max_timestamp: 1_700_000_009_000,
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
        records: ControlBatchOrRecords::Records(records),
        compression: RecordBatchCompression::NoCompression,
        is_transactional: false,
        timestamp_type,
    }
}

fn record(offset_delta: i32, headers: &[(&str, &[u8])]) -> Record {
    Record {
        timestamp_delta: i64::from(offset_delta) * 10,
        offset_delta,
        key: Some(vec![0xff, offset_delta as u8]),
        value: None,
        headers: (headers.iter())
            .map(|(key, value)| RecordHeader {
                key: (*key).to_owned(),
                value: value.to_vec(),
            })
            .collect(),
    }
}

#[test]
fn headers_keep_their_order_and_every_repeat_of_a_name() {
    let written: &[(&str, &[u8])] = &[("trace", b"1"), ("b", b""), ("trace", b"2"), ("a", b"x")];
    let batches = vec![batch(
        7,
        RecordBatchTimestampType::CreateTime,
        vec![record(0, written)],
    )];
    let records = records_of(batches, 7).unwrap();
    let headers: Vec<(&str, &[u8])> = (records[0].headers.iter())
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    assert_eq!(headers, written);
}

#[test]
fn offsets_before_the_one_asked_for_are_left_out_of_the_first_batch() {
    let records = (0..4).map(|delta| record(delta, &[])).collect();
    let batches = vec![
        batch(10, RecordBatchTimestampType::CreateTime, records),
        batch(
            14,
            RecordBatchTimestampType::CreateTime,
            vec![record(0, &[])],
        ),
    ];
    let read = records_of(batches, 12).unwrap();
    let offsets: Vec<i64> = read.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, [12, 13, 14]);
    // Create time: the batch's first time and each record's own delta.
    assert_eq!(read[0].timestamp_ms, 1_700_000_000_020);
    assert_eq!(read[0].timestamp_type, TimestampType::CreateTime);
}

#[test]
fn a_log_append_time_batch_gives_every_record_the_batchs_time() {
    let records = (0..3).map(|delta| record(delta, &[])).collect();
    let batches = vec![batch(0, RecordBatchTimestampType::LogAppendTime, records)];
    let read = records_of(batches, 0).unwrap();
    assert_eq!(read.len(), 3);
    for record in &read {
        assert_eq!(record.timestamp_ms, 1_700_000_009_000);
        assert_eq!(record.timestamp_type, TimestampType::LogAppendTime);
        assert_eq!(record.timestamp_type.as_str(), "LOG_APPEND_TIME");
    }
}

#[test]
fn transaction_markers_are_not_records() {
    let mut marker = batch(3, RecordBatchTimestampType::CreateTime, vec![]);
    marker.records = ControlBatchOrRecords::ControlBatch(ControlBatchRecord::Commit);
    let batches = vec![
        batch(
            0,
            RecordBatchTimestampType::CreateTime,
            vec![record(0, &[]), record(1, &[])],
        ),
        marker,
        batch(
            4,
            RecordBatchTimestampType::CreateTime,
            vec![record(0, &[])],
        ),
    ];
    let offsets: Vec<i64> = records_of(batches, 0)
        .unwrap()
        .iter()
        .map(|r| r.offset)
        .collect();
    assert_eq!(offsets, [0, 1, 4]);
}

#[test]
fn numbers_that_overflow_are_a_broken_answer_not_a_record() {
    let past_the_end = vec![batch(
        i64::MAX,
        RecordBatchTimestampType::CreateTime,
        vec![record(1, &[])],
    )];
    assert_eq!(
        records_of(past_the_end, 0),
        Err(PartitionError::Broker("InvalidResponse"))
    );
    let mut late = record(0, &[]);
    late.timestamp_delta = i64::MAX;
    let late = vec![batch(0, RecordBatchTimestampType::CreateTime, vec![late])];
    assert_eq!(
        records_of(late, 0),
        Err(PartitionError::Broker("InvalidResponse"))
    );
}
