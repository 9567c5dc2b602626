use std::sync::Arc;

use proptest::prelude::*;
use serde_json::Value;

use super::*;
use crate::document::{BatchContext, EventRecords, Origin, VERSION};
use crate::input::failure::OnFailureRecord;
use crate::kinds::kinesis::event::KinesisBatchContext;
use crate::kinds::kinesis::record::{Base64Text, KinesisRecord};

/// A Kinesis document whose records hold `sizes` bytes of data each.
fn document(sizes: &[usize]) -> HydratedDocument {
    let text = format!(
        r#"{{"KinesisBatchInfo":{{"shardId":"shardId-000000000000","startSequenceNumber":"1000","endSequenceNumber":"{}","batchSize":{},"streamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}}}}"#,
        1000 + sizes.len().max(1) - 1,
        sizes.len().max(1)
    );
    let record = OnFailureRecord::parse(&text).unwrap();
    let context = KinesisBatchContext::new(
        "shardId-000000000000".into(),
        Arc::from("arn:aws:iam::123456789012:role/r"),
        Arc::from("us-east-1"),
        Arc::from("arn:aws:kinesis:us-east-1:123456789012:stream/s"),
    );
    let records: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            let record = KinesisRecord {
                sequence_number: (1000 + i).to_string().into(),
                partition_key: "k".into(),
                data: Base64Text::encode(&vec![i as u8; size]),
                arrival_millis: Some(1_700_000_000_000),
                encryption_type: None,
            };
            // As the hydrator makes them: written only as parts are.
            context.event_record(record).unwrap()
        })
        .collect();
    HydratedDocument {
        throttled_calls: 0,
        version: VERSION,
        source: "aws:kinesis",
        failure: record.raw.clone(),
        hydration: Hydration {
            status: Status::Complete,
            origin: Origin::Stream,
            expected_records: sizes.len() as u32,
            hydrated_records: sizes.len() as u32,
            missing: Vec::new(),
            get_records_calls: 1,
            get_shard_iterator_calls: 1,
            duration_ms: 3,
            unavailable: None,
        },
        records: EventRecords(records),
        batch: crate::document::Batch::Shard(record.batch),
    }
}

fn sequence_numbers(part: &Value) -> Vec<String> {
    part["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kinesis"]["sequenceNumber"].as_str().unwrap().to_owned())
        .collect()
}

/// Every part fits, parts are numbered 1..=count under one group id, and
/// their records, concatenated, are the document's records in order except
/// those named too large.
fn check(sizes: &[usize], limit: usize) -> Result<(), TestCaseError> {
    let document = document(sizes);
    let all: Vec<String> = (0..sizes.len()).map(|i| (1000 + i).to_string()).collect();
    let split = match split(&document, limit) {
        Ok(split) => split,
        Err(SplitError::EnvelopeTooLarge { .. }) => return Ok(()),
        Err(e) => return Err(TestCaseError::fail(e.to_string())),
    };
    let count = split.parts.len();
    let plan = plan(&document, limit, Oversized::LeaveOut).unwrap();
    let mut carried = Vec::new();
    for (i, part) in split.parts.iter().enumerate() {
        prop_assert!(
            part.body.len() <= limit,
            "part {} is {} bytes",
            i,
            part.body.len()
        );
        // The bound is never short, and over by no more than the widest
        // part block's digits and one comma.
        let bound = plan.bound(i);
        prop_assert!(
            bound >= part.body.len() && bound - part.body.len() <= 21,
            "part {} is {} bytes, its bound {}",
            i,
            part.body.len(),
            bound
        );
        let value: Value = serde_json::from_str(&part.body).unwrap();
        prop_assert_eq!(value["part"]["index"].as_u64(), Some(i as u64 + 1));
        prop_assert_eq!(value["part"]["count"].as_u64(), Some(count as u64));
        let group = document.batch.group_id();
        prop_assert_eq!(value["part"]["groupId"].as_str(), Some(group.as_str()));
        prop_assert_eq!(
            &value["hydration"],
            &serde_json::to_value(&split.hydration).unwrap()
        );
        let numbers = sequence_numbers(&value);
        prop_assert_eq!(numbers.len(), part.records);
        carried.extend(numbers);
    }
    let too_large: Vec<String> = split
        .hydration
        .missing
        .iter()
        .filter(|g| g.reason == GapReason::TooLarge)
        .map(|g| g.from_sequence_number.to_string())
        .collect();
    let mut expected = all.clone();
    expected.retain(|n| !too_large.contains(n));
    prop_assert_eq!(&carried, &expected);
    prop_assert_eq!(carried.len() + too_large.len(), sizes.len());
    prop_assert_eq!(split.hydration.hydrated_records as usize, carried.len());
    if too_large.is_empty() {
        prop_assert_eq!(split.hydration.status, Status::Complete);
    } else {
        prop_assert_eq!(split.hydration.status, Status::Partial);
    }
    Ok(())
}

#[test]
fn a_document_that_fits_is_one_part() {
    let document = document(&[10, 20, 30]);
    let split = split(&document, 1_048_576).unwrap();
    assert_eq!(split.parts.len(), 1);
    assert_eq!(split.parts[0].records, 3);
    let whole: Value = serde_json::to_value(&document).unwrap();
    let part: Value = serde_json::from_str(&split.parts[0].body).unwrap();
    assert_eq!(part["Records"], whole["Records"]);
    assert_eq!(part["failure"], whole["failure"]);
}

#[test]
fn a_large_document_is_cut_into_parts_in_order() {
    // 5,000 records of 1 KiB: about 7 MiB of JSON, in 1 MiB parts.
    check(&vec![1024; 5_000], 1_048_576).unwrap();
    let split = split(&document(&vec![1024; 5_000]), 1_048_576).unwrap();
    assert!(split.parts.len() >= 7, "{} parts", split.parts.len());
}

#[test]
fn a_record_too_large_for_any_part_is_named_missing() {
    let document = document(&[100, 5_000, 100]);
    let split = split(&document, 4_000).unwrap();
    let gaps: Vec<(String, GapReason)> = split
        .hydration
        .missing
        .iter()
        .map(|g| (g.from_sequence_number.to_string(), g.reason))
        .collect();
    assert_eq!(gaps, [("1001".to_owned(), GapReason::TooLarge)]);
    assert_eq!(split.hydration.status, Status::Partial);
    check(&[100, 5_000, 100], 4_000).unwrap();
}

#[test]
fn a_record_that_fits_alone_gets_a_part_of_its_own() {
    let split = split(&document(&[2_500, 2_500, 2_500]), 5_000).unwrap();
    let records: Vec<usize> = split.parts.iter().map(|p| p.records).collect();
    assert_eq!(records, [1, 1, 1]);
    assert!(split.hydration.missing.is_empty());
}

#[test]
fn the_group_id_is_stable_and_tells_failures_apart() {
    let a = document(&[1, 2]);
    let b = document(&[1, 2, 3]);
    assert_eq!(a.batch.group_id(), document(&[9, 9]).batch.group_id());
    assert_ne!(a.batch.group_id(), b.batch.group_id());
    assert_eq!(a.batch.group_id().len(), 32);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn parts_fit_and_reassemble(
        sizes in prop::collection::vec(0usize..3_000, 0..60),
        limit in 1_500usize..20_000,
    ) {
        check(&sizes, limit)?;
    }
}

/// The envelope of a part of `document`: what any limit must leave room for.
fn envelope_of(document: &HydratedDocument) -> usize {
    let empty = HydratedDocument {
        records: EventRecords::default(),
        ..document_like(document)
    };
    split(&empty, usize::MAX / 2).unwrap().parts[0].body.len()
}

fn document_like(document: &HydratedDocument) -> HydratedDocument {
    HydratedDocument {
        version: document.version,
        source: document.source,
        failure: document.failure.clone(),
        hydration: document.hydration.clone(),
        records: EventRecords::default(),
        batch: document.batch.clone(),
        throttled_calls: 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// Joining the split of any document under any size limit gives the
    /// document back: every record that fits a part, in order, and the rest
    /// named `too_large`; parts read back in any order and some twice.
    #[test]
    fn joining_the_split_gives_the_document_back(
        sizes in prop::collection::vec(0usize..3_000, 0..60),
        extra in 0usize..12_000,
        shuffle in any::<u64>(),
    ) {
        let document = document(&sizes);
        let limit = envelope_of(&document) + 200 + extra;
        let split = match split(&document, limit) {
            Ok(split) => split,
            // Each record left out adds its gap to every part's envelope;
            // past some count no part fits, and split says so.
            Err(SplitError::EnvelopeTooLarge { envelope, limit: l }) => {
                prop_assert!(envelope >= l);
                return Ok(());
            }
            Err(other) => return Err(TestCaseError::fail(other.to_string())),
        };
        let mut parts: Vec<crate::document::Document> = split
            .parts
            .iter()
            .map(|part| crate::document::Document::parse(&part.body).expect("a part reads back"))
            .collect();
        // Any order, and the first part delivered twice.
        parts.push(parts[0].clone());
        fastrand::Rng::with_seed(shuffle).shuffle(&mut parts);
        let joined = crate::document::join(parts).unwrap();

        // Expected: the document with the hydration block the parts carry,
        // less the records that block names too_large.
        let mut expected = document.to_wire().unwrap();
        expected.hydration = split.hydration.clone();
        let too_large: Vec<String> = split
            .hydration
            .missing
            .iter()
            .filter(|gap| gap.reason == GapReason::TooLarge)
            .map(|gap| gap.from_sequence_number.to_string())
            .collect();
        expected.records.retain(|record| {
            let number = crate::document::sequence_number_of(record).unwrap();
            !too_large.contains(&number)
        });
        let too_large = too_large.len();
        prop_assert_eq!(joined.records.len(), expected.records.len());
        prop_assert!(joined.same_as(&expected), "join(split(d)) differs from d");
        // Records left out are exactly the ones named too_large.
        prop_assert_eq!(
            split.hydration.hydrated_records as usize + too_large,
            sizes.len()
        );
        if too_large == 0 {
            prop_assert!(joined.same_as(&document.to_wire().unwrap()));
        }
    }

    /// With oversized records kept, joining the split always gives the whole
    /// document back, and only a part holding one lone record is over the limit.
    #[test]
    fn keeping_oversized_records_loses_none(
        sizes in prop::collection::vec(0usize..6_000, 0..40),
        extra in 0usize..6_000,
    ) {
        let document = document(&sizes);
        let limit = envelope_of(&document) + 200 + extra;
        let split = split_with(&document, limit, Oversized::OwnPart).unwrap();
        for part in &split.parts {
            prop_assert!(part.body.len() <= limit || part.records == 1);
        }
        let parts = split
            .parts
            .iter()
            .map(|part| crate::document::Document::parse(&part.body).expect("a part reads back"))
            .collect();
        let joined = crate::document::join(parts).unwrap();
        prop_assert!(split.hydration.missing.is_empty());
        prop_assert!(joined.same_as(&document.to_wire().unwrap()));
    }
}
