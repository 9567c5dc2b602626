//! An object written by an S3 on-failure destination: the on-failure record
//! with the invocation payload beside it under `payload`.
//!
//! The payload already holds the failed batch exactly as Lambda delivered it,
//! so a document built from it needs no stream read, and survives the
//! stream's retention.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::input::failure::{OnFailureRecord, PayloadFault, RecordError};
use crate::input::fault::{FieldFault, JsonFault, Members};

/// The record, and the delivered records when the object carries them.
#[derive(Debug)]
pub struct FailureObject {
    /// The on-failure record: the object without its `payload`.
    pub record: OnFailureRecord,
    /// `payload.Records`, each exactly as in the object; `None` when the
    /// object has no payload or an empty one.
    pub records: Option<Vec<Box<RawValue>>>,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "Records")]
    records: Vec<Box<RawValue>>,
}

impl FailureObject {
    pub fn parse(bytes: &[u8]) -> Result<Self, RecordError> {
        let text = std::str::from_utf8(bytes).map_err(|_| RecordError::NotUtf8)?;
        let members = Members::parse(text)?.ok_or(RecordError::NotAnObject)?;
        let payload = members
            .unique("payload")
            .map_err(RecordError::DuplicateField)?
            .map(|raw| raw.to_owned());
        // Every value is kept as it was; only the object's outer spacing
        // changes, as the payload is taken out.
        let fields: Vec<String> = members
            .0
            .iter()
            .filter(|(key, _)| key != "payload")
            .map(|(key, value)| {
                // A key re-serialized is valid JSON text for the same key.
                let key = serde_json::to_string(key).unwrap_or_default();
                format!("{key}:{}", value.get())
            })
            .collect();
        let record = OnFailureRecord::parse(&format!("{{{}}}", fields.join(",")))?;
        let records = match payload {
            None => None,
            Some(raw) => Some(payload_records(&raw)?).filter(|records| !records.is_empty()),
        };
        Ok(Self { record, records })
    }
}

/// The payload's `Records`. The Lambda documentation has the payload as the
/// invocation record in an escaped JSON string; some writers put the object
/// itself there. Both are read; each record's text is kept exactly.
fn payload_records(payload: &RawValue) -> Result<Vec<Box<RawValue>>, RecordError> {
    let malformed = |fault| RecordError::MalformedPayload(fault);
    let text = payload.get().trim_start();
    let inner: String;
    let event = if text.starts_with('"') {
        inner = serde_json::from_str(text).map_err(|e| malformed(PayloadFault::Json(e.into())))?;
        inner.as_str()
    } else {
        text
    };
    if !event.trim_start().starts_with('{') {
        return Err(malformed(PayloadFault::Field(FieldFault::not(
            "payload",
            "an event object or a string holding one",
        ))));
    }
    JsonFault::check_depth(event).map_err(|fault| malformed(PayloadFault::Json(fault)))?;
    match serde_json::from_str::<Payload>(event) {
        Ok(payload) => Ok(payload.records),
        // A syntax error is the string's; a data error is the shape's.
        Err(e) if e.is_data() => Err(malformed(PayloadFault::Field(FieldFault::not(
            "payload.Records",
            "an array of records",
        )))),
        Err(e) => Err(malformed(PayloadFault::Json(JsonFault::from(e)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The object's text, written out so that the payload's bytes are known.
    fn object(payload: Option<&str>) -> Vec<u8> {
        let record = r#""requestContext":{"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:c"},"version":"1.0","KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"10","endSequenceNumber":"12","batchSize":2,"streamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}"#;
        match payload {
            Some(payload) => format!(r#"{{{record},"payload":{payload}}}"#),
            None => format!("{{{record}}}"),
        }
        .into_bytes()
    }

    #[test]
    fn the_payload_records_are_kept_exactly() {
        let records = r#"[{"kinesis":{"sequenceNumber":"10","data":"AAE="}},{"kinesis":{"sequenceNumber":"12","data":"/w=="}}]"#;
        let payload = format!(r#"{{"Records":{records}}}"#);
        let parsed = FailureObject::parse(&object(Some(&payload))).unwrap();
        let kept: Vec<&str> = parsed
            .records
            .as_ref()
            .unwrap()
            .iter()
            .map(|r| r.get())
            .collect();
        assert_eq!(
            kept,
            [
                r#"{"kinesis":{"sequenceNumber":"10","data":"AAE="}}"#,
                r#"{"kinesis":{"sequenceNumber":"12","data":"/w=="}}"#
            ]
        );
        assert!(!parsed.record.raw.get().contains("payload"));
        assert_eq!(parsed.record.batch.batch_size, 2);
    }

    /// The shape the Lambda guide documents: the invocation record as an
    /// escaped JSON string.
    #[test]
    fn a_payload_in_a_string_is_read_too() {
        let event = r#"{"Records":[{"kinesis":{"sequenceNumber":"10","data":"AAE="}},{"kinesis":{"sequenceNumber":"12","data":"/w=="}}]}"#;
        let escaped = serde_json::to_string(event).unwrap();
        let parsed = FailureObject::parse(&object(Some(&escaped))).unwrap();
        let kept: Vec<&str> = parsed
            .records
            .as_ref()
            .unwrap()
            .iter()
            .map(|r| r.get())
            .collect();
        assert_eq!(
            kept,
            [
                r#"{"kinesis":{"sequenceNumber":"10","data":"AAE="}}"#,
                r#"{"kinesis":{"sequenceNumber":"12","data":"/w=="}}"#
            ]
        );
        assert_eq!(parsed.record.batch.batch_size, 2);
        let empty = serde_json::to_string(r#"{"Records": []}"#).unwrap();
        assert!(FailureObject::parse(&object(Some(&empty)))
            .unwrap()
            .records
            .is_none());
    }

    #[test]
    fn an_object_without_payload_is_just_the_record() {
        let parsed = FailureObject::parse(&object(None)).unwrap();
        assert!(parsed.records.is_none());
        let parsed = FailureObject::parse(&object(Some(r#"{"Records": []}"#))).unwrap();
        assert!(parsed.records.is_none());
    }

    #[test]
    fn bad_objects_are_classified() {
        for (bytes, class) in [
            (b"\xff".to_vec(), "NotUtf8"),
            (b"[]".to_vec(), "NotAnObject"),
            (b"{\"a\": ".to_vec(), "InvalidJson"),
            (object(Some(r#""{\"Records\": 5}""#)), "MalformedPayload"),
            (object(Some(r#""{\"Records\": [""#)), "MalformedPayload"),
            (object(Some("5")), "MalformedPayload"),
            (object(Some(r#"{"Records": 5}"#)), "MalformedPayload"),
            (object(Some(r#""text""#)), "MalformedPayload"),
            (
                br#"{"payload": {"Records": []}}"#.to_vec(),
                "MissingBatchInfo",
            ),
        ] {
            let error = FailureObject::parse(&bytes).unwrap_err();
            assert_eq!(error.class(), class, "{error}");
        }
    }
}
