//! The decoder against an aggregator written here from the format, and
//! against bytes cut, flipped and made up.

use md5::{Digest, Md5};
use proptest::prelude::*;

use super::*;

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    varint(out, number << 3 | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A user record to aggregate: partition key, explicit hash key, data.
type Input = (String, Option<String>, Vec<u8>);

/// Where `key` is in `table`, added at its end when new.
fn index<'a>(table: &mut Vec<&'a str>, key: &'a str) -> u64 {
    let at = table.iter().position(|k| *k == key).unwrap_or_else(|| {
        table.push(key);
        table.len() - 1
    });
    at as u64
}

/// What the KPL writes: tables of distinct keys, records pointing into them.
fn aggregate(records: &[Input]) -> Vec<u8> {
    let mut partition_keys: Vec<&str> = Vec::new();
    let mut hash_keys: Vec<&str> = Vec::new();
    let mut encoded_records = Vec::new();
    for (partition_key, hash_key, data) in records {
        let mut record = Vec::new();
        record.push(1 << 3);
        varint(
            &mut record,
            index(&mut partition_keys, partition_key.as_str()),
        );
        if let Some(hash_key) = hash_key {
            record.push(2 << 3);
            varint(&mut record, index(&mut hash_keys, hash_key.as_str()));
        }
        field(&mut record, 3, data);
        encoded_records.push(record);
    }
    let mut body = Vec::new();
    for key in &partition_keys {
        field(&mut body, 1, key.as_bytes());
    }
    for key in &hash_keys {
        field(&mut body, 2, key.as_bytes());
    }
    for record in &encoded_records {
        field(&mut body, 3, record);
    }
    framed(&body)
}

/// Magic, message, digest.
fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(body);
    out.extend_from_slice(Md5::digest(body).as_slice());
    out
}

fn owned(kpl: &Kpl<'_>) -> Option<Vec<Input>> {
    match kpl {
        Kpl::Aggregated(records) => Some(
            records
                .iter()
                .map(|r| {
                    (
                        r.partition_key.to_owned(),
                        r.explicit_hash_key.map(str::to_owned),
                        r.data.to_vec(),
                    )
                })
                .collect(),
        ),
        _ => None,
    }
}

fn inputs() -> impl Strategy<Value = Vec<Input>> {
    let key = prop_oneof![Just("a".to_owned()), Just("b".to_owned()), ".{0,20}"];
    let hash_key = proptest::option::of(prop_oneof![Just("0".to_owned()), "[0-9]{1,39}"]);
    proptest::collection::vec(
        (
            key,
            hash_key,
            proptest::collection::vec(any::<u8>(), 0..300),
        ),
        0..40,
    )
}

#[test]
fn the_real_aggregators_bytes_are_read() {
    // aws-kinesis-agg 1.2.3 (Python): add_user_record('pk1', b'{"a":1}', '123'),
    // then add_user_record('pk2', b'hello').
    let bytes = b"\xf3\x89\x9a\xc2\x0a\x03pk1\x0a\x03pk2\x12\x03123\x1a\x0d\x08\x00\x10\x00\x1a\x07{\"a\":1}\x1a\x09\x08\x01\x1a\x05hello\x97\x04\xb0\xcb\x4a\x4d\xd2\xff\xdc\xaa\xbf\x69\x2f\x65\x43\xb0";
    let Kpl::Aggregated(records) = deaggregate(bytes) else {
        panic!("not read: {:?}", deaggregate(bytes));
    };
    assert_eq!(
        records,
        [
            UserRecord {
                partition_key: "pk1",
                explicit_hash_key: Some("123"),
                data: b"{\"a\":1}"
            },
            UserRecord {
                partition_key: "pk2",
                explicit_hash_key: None,
                data: b"hello"
            },
        ]
    );
}

#[test]
fn ordinary_data_and_short_claims_are_told_apart() {
    assert_eq!(deaggregate(b"{\"order\": 1}"), Kpl::Plain);
    assert_eq!(deaggregate(b""), Kpl::Plain);
    assert_eq!(deaggregate(&MAGIC[..3]), Kpl::Plain);
    assert_eq!(deaggregate(&MAGIC), Kpl::Invalid(KplError::TooShort));
    // The magic and a digest of nothing: an empty aggregate.
    assert_eq!(deaggregate(&framed(&[])), Kpl::Aggregated(Vec::new()));
}

#[test]
fn a_checked_digest_over_a_bad_message_names_what_is_wrong() {
    let record = |bytes: &[u8]| {
        let mut body = Vec::new();
        field(&mut body, 1, b"pk");
        field(&mut body, 3, bytes);
        // The error, or how many records were read.
        match deaggregate(&framed(&body)) {
            Kpl::Invalid(error) => Err(error),
            other => Ok(owned(&other).map_or(0, |r| r.len())),
        }
    };
    assert_eq!(
        record(&[1 << 3, 5, 3 << 3 | 2, 0]),
        Err(KplError::Index {
            table: "partition key",
            index: 5,
            len: 1
        })
    );
    assert_eq!(
        record(&[1 << 3, 0, 2 << 3, 0, 3 << 3 | 2, 0]),
        Err(KplError::Index {
            table: "explicit hash key",
            index: 0,
            len: 0
        })
    );
    assert_eq!(
        record(&[3 << 3 | 2, 0]),
        Err(KplError::Missing("partition key index"))
    );
    assert_eq!(record(&[1 << 3, 0]), Err(KplError::Missing("data")));
    assert_eq!(
        record(&[1 << 3, 0, 3 << 3 | 2, 200]),
        Err(KplError::Truncated)
    );
    assert_eq!(record(&[1 << 3 | 2, 0]), Err(KplError::FieldType("Record")));
    assert_eq!(
        record(&[1 << 3, 0, 3 << 3 | 2, 0, 5 << 3 | 3]),
        Err(KplError::WireType(3))
    );
    // A length of 2^63 is refused, not allocated.
    let mut huge = vec![3 << 3 | 2];
    varint(&mut huge, 1 << 63);
    assert_eq!(
        deaggregate(&framed(&huge)),
        Kpl::Invalid(KplError::Truncated)
    );
    // Eleven continuation bytes are no varint.
    assert_eq!(
        deaggregate(&framed(&[0xFF; 11])),
        Kpl::Invalid(KplError::Truncated)
    );
    assert_eq!(
        deaggregate(&framed(&[0, 0])),
        Kpl::Invalid(KplError::FieldZero)
    );
    let mut not_utf8 = Vec::new();
    field(&mut not_utf8, 1, &[0xFF]);
    assert_eq!(
        deaggregate(&framed(&not_utf8)),
        Kpl::Invalid(KplError::NotUtf8("partition key"))
    );
}

#[test]
fn tags_unknown_fields_and_tables_after_records_are_accepted() {
    let mut record = vec![1 << 3, 0];
    field(&mut record, 4, &[1 << 3 | 2, 1, b'k']);
    field(&mut record, 3, b"x");
    record.extend([9 << 3 | 5, 1, 2, 3, 4]);
    let mut body = Vec::new();
    field(&mut body, 3, &record);
    body.extend([7 << 3 | 1, 0, 0, 0, 0, 0, 0, 0, 0, 8 << 3, 0x96, 0x01]);
    field(&mut body, 1, b"late");
    assert_eq!(
        deaggregate(&framed(&body)),
        Kpl::Aggregated(vec![UserRecord {
            partition_key: "late",
            explicit_hash_key: None,
            data: b"x"
        }])
    );
}

proptest! {
    #[test]
    fn what_is_aggregated_comes_back_whole_and_in_order(records in inputs()) {
        let bytes = aggregate(&records);
        prop_assert_eq!(owned(&deaggregate(&bytes)), Some(records));
    }

    #[test]
    fn a_truncated_aggregate_is_never_taken_for_one(records in inputs(), cut in any::<prop::sample::Index>()) {
        let bytes = aggregate(&records);
        let cut = cut.index(bytes.len());
        match deaggregate(&bytes[..cut]) {
            Kpl::Plain => prop_assert!(cut < MAGIC.len()),
            Kpl::Invalid(_) => {}
            Kpl::Aggregated(found) => prop_assert!(false, "{} bytes of {} read as {} records", cut, bytes.len(), found.len()),
        }
    }

    #[test]
    fn a_flipped_byte_is_caught(records in inputs(), at in any::<prop::sample::Index>(), flip in 1..=255u8) {
        let mut bytes = aggregate(&records);
        let at = at.index(bytes.len());
        bytes[at] ^= flip;
        match deaggregate(&bytes) {
            Kpl::Plain => prop_assert!(at < MAGIC.len()),
            Kpl::Invalid(error) => prop_assert_eq!(error, KplError::Digest),
            Kpl::Aggregated(_) => prop_assert!(false, "byte {} flipped and still taken", at),
        }
    }

    #[test]
    fn any_message_behind_a_good_digest_is_read_or_refused_without_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Kpl::Aggregated(records) = deaggregate(&framed(&body)) {
            // A record is at least six bytes: its own key and length, and two fields.
            prop_assert!(records.len() * 6 <= body.len());
            for record in records {
                prop_assert!(record.data.len() < body.len());
            }
        }
    }
}
