//! Message bodies too large for the queue, kept in S3 in the convention of
//! the SQS Extended Client Library: the object holds the body, and the
//! message holds a pointer to it (`["software.amazon.payloadoffloading.
//! PayloadS3Pointer", {"s3BucketName": ..., "s3Key": ...}]`) with the body's
//! size in the `ExtendedPayloadSize` attribute. A consumer that already
//! reads through an extended client (Java, Python) gets the body back
//! unchanged; the `hydrator` tool follows the pointer itself.
//!
//! A document is still cut into parts at the message size; only a part that
//! holds one record larger than a message goes to S3, whole. Its key is the
//! failure's stable id and the part's place, so a retried delivery
//! overwrites the object rather than adds another.

use serde::{Deserialize, Serialize};

use crate::document::parts::PartInfo;

/// Where offloaded bodies go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offload {
    pub bucket: String,
    /// Put before every key: the function may write below it, and nowhere else.
    pub prefix: String,
    /// The KMS key objects are encrypted with; S3's own keys when unset.
    pub kms_key_id: Option<String>,
}

impl Offload {
    pub const DEFAULT_PREFIX: &'static str = "hydrator/";

    /// The object key for one part.
    pub fn key(&self, part: &PartInfo) -> String {
        format!(
            "{}{}/part-{}-of-{}.json",
            self.prefix, part.group_id, part.index, part.count
        )
    }
}

/// The message attribute that marks an offloaded body, holding its size in
/// bytes, as the Extended Client Library names it.
pub const SIZE_ATTRIBUTE: &str = "ExtendedPayloadSize";

/// The pointer class the library writes, and the one its first versions wrote.
const POINTER_CLASS: &str = "software.amazon.payloadoffloading.PayloadS3Pointer";
const LEGACY_POINTER_CLASS: &str = "com.amazon.sqs.javamessaging.MessageS3Pointer";

/// Where an offloaded message body is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Pointer {
    pub s3_bucket_name: String,
    pub s3_key: String,
}

impl S3Pointer {
    /// The message body that stands for the object.
    pub fn to_body(&self) -> String {
        // A string and a struct of two strings always serialize.
        serde_json::to_string(&(POINTER_CLASS, self)).unwrap_or_default()
    }

    /// The pointer a message body holds, if it is one.
    pub fn from_body(body: &str) -> Option<Self> {
        // Cheap refusal first: most bodies are documents.
        if !body.trim_start().starts_with('[') {
            return None;
        }
        let (class, pointer): (String, S3Pointer) = serde_json::from_str(body).ok()?;
        [POINTER_CLASS, LEGACY_POINTER_CLASS]
            .contains(&class.as_str())
            .then_some(pointer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pointer_reads_back_and_has_the_library_shape() {
        let pointer = S3Pointer {
            s3_bucket_name: "offload".into(),
            s3_key: "hydrator/abc/part-2-of-3.json".into(),
        };
        let body = pointer.to_body();
        assert_eq!(
            body,
            r#"["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"offload","s3Key":"hydrator/abc/part-2-of-3.json"}]"#
        );
        assert_eq!(S3Pointer::from_body(&body), Some(pointer));
    }

    #[test]
    fn only_a_pointer_is_a_pointer() {
        let legacy = r#"["com.amazon.sqs.javamessaging.MessageS3Pointer", {"s3BucketName": "b", "s3Key": "k"}]"#;
        assert!(S3Pointer::from_body(legacy).is_some());
        for body in [
            r#"{"version":"1"}"#,
            r#"["some.other.Class",{"s3BucketName":"b","s3Key":"k"}]"#,
            r#"["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]"#,
            "[",
            "",
        ] {
            assert_eq!(S3Pointer::from_body(body), None, "{body}");
        }
    }

    #[test]
    fn keys_name_the_failure_and_the_part() {
        let offload = Offload {
            bucket: "b".into(),
            prefix: Offload::DEFAULT_PREFIX.into(),
            kms_key_id: None,
        };
        let part = PartInfo {
            index: 2,
            count: 5,
            group_id: "0123abcd".into(),
        };
        assert_eq!(offload.key(&part), "hydrator/0123abcd/part-2-of-5.json");
    }
}
