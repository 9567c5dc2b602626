//! An object written by an S3 on-failure destination: the on-failure record
//! with the invocation payload beside it under `payload`.
//!
//! The payload already holds the failed batch exactly as Lambda delivered it,
//! so a document built from it needs no stream read, and survives the
//! stream's retention.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::failure::{redacted, OnFailureRecord, RecordError};

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
        let text = std::str::from_utf8(bytes)
            .map_err(|_| RecordError::InvalidJson("the object is not UTF-8".into()))?;
        let mut fields: BTreeMap<String, Box<RawValue>> =
            serde_json::from_str(text).map_err(|e| RecordError::InvalidJson(redacted(&e)))?;
        let payload = fields.remove("payload");
        // Every value is kept as it was; only the order of the top-level
        // keys can change, as the payload is taken out.
        let record_text =
            serde_json::to_string(&fields).map_err(|e| RecordError::InvalidJson(redacted(&e)))?;
        let record = OnFailureRecord::parse(&record_text)?;
        let records = match payload {
            None => None,
            Some(raw) => {
                let payload: Payload = serde_json::from_str(raw.get())
                    .map_err(|e| RecordError::MalformedPayload(redacted(&e)))?;
                Some(payload.records).filter(|records| !records.is_empty())
            }
        };
        Ok(Self { record, records })
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
            (b"\xff".to_vec(), "InvalidJson"),
            (b"[]".to_vec(), "InvalidJson"),
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
