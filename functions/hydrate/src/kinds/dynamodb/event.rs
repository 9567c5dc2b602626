//! DynamoDB stream records as Lambda delivers them to a DynamoDB stream consumer.
//!
//! Attribute values stay in DynamoDB JSON (`{"S": ...}`, `{"N": ...}`,
//! `{"B": base64}`, sets, lists, maps, `NULL`, `BOOL`): numbers keep every
//! digit as the string DynamoDB holds, and nothing is unmarshalled, so the
//! consumer sees the types it saw the first time.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodbstreams::types::{AttributeValue, Identity, Record, StreamRecord};
use aws_smithy_types::DateTime;
use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::document::{BatchContext, RawRecord};

/// One stream record as Lambda delivers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamoDbEventRecord {
    #[serde(rename = "eventID")]
    pub event_id: String,
    pub event_name: String,
    pub event_version: String,
    pub event_source: String,
    pub aws_region: String,
    pub dynamodb: ChangeRecord,
    #[serde(rename = "eventSourceARN")]
    pub event_source_arn: Arc<str>,
    /// Present for deletions made by Time to Live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_identity: Option<UserIdentity>,
}

/// The `dynamodb` object of a stream record.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChangeRecord {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approximate_creation_date_time: Option<EpochSeconds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_image: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_image: Option<Item>,
    pub sequence_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_view_type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
}

/// A point in time as epoch seconds: a whole number, as DynamoDB Streams
/// sends it (rounded down to the second), unless the time carries a fraction,
/// which is kept rather than rounded away.
#[derive(Debug, Clone, Copy)]
pub struct EpochSeconds(pub DateTime);

impl Serialize for EpochSeconds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let millis = self.0.subsec_nanos() / 1_000_000;
        if millis == 0 {
            serializer.serialize_i64(self.0.secs())
        } else {
            let total = i128::from(self.0.secs()) * 1000 + i128::from(millis);
            serializer.serialize_f64(total as f64 / 1000.0)
        }
    }
}

/// An item (or key) in DynamoDB JSON, its attributes in name order so the
/// same record always serializes to the same text.
#[derive(Debug)]
pub struct Item(pub HashMap<String, AttributeValue>);

impl Serialize for Item {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_attributes(&self.0, serializer)
    }
}

fn serialize_attributes<S: Serializer>(
    attributes: &HashMap<String, AttributeValue>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut names: Vec<&String> = attributes.keys().collect();
    names.sort_unstable();
    let mut map = serializer.serialize_map(Some(names.len()))?;
    for name in names {
        map.serialize_entry(name, &Attribute(&attributes[name]))?;
    }
    map.end()
}

/// One attribute value as a single-key object named for its type.
struct Attribute<'a>(&'a AttributeValue);

impl Serialize for Attribute<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self.0 {
            AttributeValue::S(s) => map.serialize_entry("S", s)?,
            AttributeValue::N(n) => map.serialize_entry("N", n)?,
            AttributeValue::B(b) => map.serialize_entry("B", &Base64(b.as_ref()))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null(b) => map.serialize_entry("NULL", b)?,
            AttributeValue::Ss(set) => map.serialize_entry("SS", set)?,
            AttributeValue::Ns(set) => map.serialize_entry("NS", set)?,
            AttributeValue::Bs(set) => map.serialize_entry("BS", &BinarySet(set))?,
            AttributeValue::L(list) => map.serialize_entry("L", &List(list))?,
            AttributeValue::M(members) => map.serialize_entry("M", &Members(members))?,
            // Writing anything else would change the record the consumer sees.
            _ => {
                return Err(S::Error::custom(
                    "a stream record holds an attribute type this build does not know",
                ))
            }
        }
        map.end()
    }
}

struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&Base64Display::new(self.0, &STANDARD))
    }
}

struct BinarySet<'a>(&'a [aws_smithy_types::Blob]);

impl Serialize for BinarySet<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for blob in self.0 {
            seq.serialize_element(&Base64(blob.as_ref()))?;
        }
        seq.end()
    }
}

struct List<'a>(&'a [AttributeValue]);

impl Serialize for List<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for value in self.0 {
            seq.serialize_element(&Attribute(value))?;
        }
        seq.end()
    }
}

struct Members<'a>(&'a HashMap<String, AttributeValue>);

impl Serialize for Members<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_attributes(self.0, serializer)
    }
}

/// What every record of one batch shares.
#[derive(Debug, Clone)]
pub struct DynamoDbBatchContext {
    /// The stream's region, from its ARN: used when a record does not name one.
    pub aws_region: Arc<str>,
    pub event_source_arn: Arc<str>,
}

impl BatchContext for DynamoDbBatchContext {
    type Record = Record;

    fn event_record(&self, record: Record) -> Result<RawRecord, serde_json::Error> {
        let record = self.dynamodb_record(record);
        let sequence_number = record.dynamodb.sequence_number.clone();
        RawRecord::of(&record, sequence_number)
    }
}

impl DynamoDbBatchContext {
    /// The record as Lambda passes it on: what `GetRecords` returned, plus
    /// the stream ARN.
    pub fn dynamodb_record(&self, record: Record) -> DynamoDbEventRecord {
        let change = record.dynamodb.unwrap_or_else(empty_change);
        DynamoDbEventRecord {
            event_id: record.event_id.unwrap_or_default(),
            event_name: record
                .event_name
                .map(|name| name.as_str().to_owned())
                .unwrap_or_default(),
            event_version: record.event_version.unwrap_or_else(|| "1.1".into()),
            event_source: record.event_source.unwrap_or_else(|| "aws:dynamodb".into()),
            aws_region: record
                .aws_region
                .unwrap_or_else(|| self.aws_region.to_string()),
            dynamodb: ChangeRecord {
                approximate_creation_date_time: change
                    .approximate_creation_date_time
                    .map(EpochSeconds),
                keys: change.keys.map(Item),
                new_image: change.new_image.map(Item),
                old_image: change.old_image.map(Item),
                sequence_number: change.sequence_number.unwrap_or_default(),
                size_bytes: change.size_bytes,
                stream_view_type: change.stream_view_type.map(|t| t.as_str().to_owned()),
            },
            event_source_arn: self.event_source_arn.clone(),
            user_identity: record.user_identity.map(user_identity),
        }
    }
}

/// The reader keeps only records with a sequence number, so this is never
/// used for a kept record; it keeps the conversion total.
fn empty_change() -> StreamRecord {
    StreamRecord::builder().build()
}

fn user_identity(identity: Identity) -> UserIdentity {
    UserIdentity {
        kind: identity.r#type,
        principal_id: identity.principal_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodbstreams::types::{OperationType, StreamViewType};
    use aws_smithy_types::Blob;
    use serde_json::json;

    fn context() -> DynamoDbBatchContext {
        DynamoDbBatchContext {
            aws_region: "eu-west-1".into(),
            event_source_arn:
                "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-21T06:00:00.000"
                    .into(),
        }
    }

    fn every_type() -> HashMap<String, AttributeValue> {
        use AttributeValue::*;
        HashMap::from([
            ("pk".to_owned(), S("order#1".into())),
            (
                "total".to_owned(),
                N("12345678901234567890123456789012345678".into()),
            ),
            ("blob".to_owned(), B(Blob::new(vec![0xff, 0x00, 0x80]))),
            ("tags".to_owned(), Ss(vec!["a".into(), "b".into()])),
            ("scores".to_owned(), Ns(vec!["1".into(), "-2.5E-3".into()])),
            (
                "chunks".to_owned(),
                Bs(vec![Blob::new(vec![1]), Blob::new(vec![2, 3])]),
            ),
            (
                "nested".to_owned(),
                L(vec![
                    Null(true),
                    Bool(false),
                    M(HashMap::from([("deep".to_owned(), L(vec![S("x".into())]))])),
                ]),
            ),
        ])
    }

    #[test]
    fn a_record_serializes_as_lambda_delivers_it_with_types_kept() {
        let record = Record::builder()
            .event_id("c4ca4238a0b923820dcc509a6f75849b")
            .event_name(OperationType::Modify)
            .event_version("1.1")
            .event_source("aws:dynamodb")
            .aws_region("eu-west-1")
            .dynamodb(
                StreamRecord::builder()
                    .approximate_creation_date_time(DateTime::from_secs(1_479_499_740))
                    .keys("pk", AttributeValue::S("order#1".into()))
                    .set_new_image(Some(every_type()))
                    .old_image("pk", AttributeValue::S("order#1".into()))
                    .sequence_number("4421584500000000017450439091")
                    .size_bytes(26)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build(),
            )
            .user_identity(
                Identity::builder()
                    .r#type("Service")
                    .principal_id("dynamodb.amazonaws.com")
                    .build(),
            )
            .build();
        let json = serde_json::to_value(context().dynamodb_record(record)).unwrap();
        assert_eq!(
            json,
            json!({
                "eventID": "c4ca4238a0b923820dcc509a6f75849b",
                "eventName": "MODIFY",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "eu-west-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1479499740,
                    "Keys": { "pk": { "S": "order#1" } },
                    "NewImage": {
                        "blob": { "B": "/wCA" },
                        "chunks": { "BS": ["AQ==", "AgM="] },
                        "nested": { "L": [
                            { "NULL": true },
                            { "BOOL": false },
                            { "M": { "deep": { "L": [ { "S": "x" } ] } } }
                        ] },
                        "pk": { "S": "order#1" },
                        "scores": { "NS": ["1", "-2.5E-3"] },
                        "tags": { "SS": ["a", "b"] },
                        "total": { "N": "12345678901234567890123456789012345678" }
                    },
                    "OldImage": { "pk": { "S": "order#1" } },
                    "SequenceNumber": "4421584500000000017450439091",
                    "SizeBytes": 26,
                    "StreamViewType": "NEW_AND_OLD_IMAGES"
                },
                "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-21T06:00:00.000",
                "userIdentity": { "type": "Service", "principalId": "dynamodb.amazonaws.com" }
            })
        );
    }

    #[test]
    fn attributes_serialize_in_name_order() {
        let item = Item(every_type());
        let text = serde_json::to_string(&item).unwrap();
        let positions: Vec<usize> = [
            "\"blob\"",
            "\"chunks\"",
            "\"nested\"",
            "\"pk\"",
            "\"scores\"",
        ]
        .iter()
        .map(|name| text.find(name).unwrap())
        .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn fractional_creation_times_keep_their_milliseconds() {
        let text =
            serde_json::to_string(&EpochSeconds(DateTime::from_millis(1_795_432_695_787))).unwrap();
        assert_eq!(text, "1795432695.787");
    }

    #[test]
    fn a_record_without_region_takes_the_streams() {
        let record = Record::builder()
            .event_name(OperationType::Insert)
            .dynamodb(StreamRecord::builder().sequence_number("1").build())
            .build();
        let json = serde_json::to_value(context().dynamodb_record(record)).unwrap();
        assert_eq!(json["awsRegion"], "eu-west-1");
        assert_eq!(json["eventSource"], "aws:dynamodb");
        assert!(json.get("userIdentity").is_none());
    }

    #[test]
    fn the_event_parses_as_the_lambda_event_type() {
        let record = Record::builder()
            .event_id("1")
            .event_name(OperationType::Remove)
            .aws_region("eu-west-1")
            .dynamodb(
                StreamRecord::builder()
                    .approximate_creation_date_time(DateTime::from_secs(1_700_000_000))
                    .keys("pk", AttributeValue::S("k".into()))
                    .set_old_image(Some(every_type()))
                    .sequence_number("100")
                    .size_bytes(9)
                    .stream_view_type(StreamViewType::OldImage)
                    .build(),
            )
            .build();
        let event = json!({ "Records": [context().dynamodb_record(record)] });
        let parsed: aws_lambda_events::event::dynamodb::Event =
            serde_json::from_value(event).expect("aws_lambda_events parses the record");
        let change = &parsed.records[0].change;
        assert_eq!(change.sequence_number.as_deref(), Some("100"));
        assert_eq!(
            change.approximate_creation_date_time.timestamp(),
            1_700_000_000
        );
        assert_eq!(change.old_image.len(), 7);
    }
}
