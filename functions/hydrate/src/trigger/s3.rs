//! S3: an on-failure destination bucket notifies the function of each object
//! the event source mapping wrote. The notification names the object; the
//! object holds the failure record and the invocation payload.

use serde::Deserialize;
use serde_json::Value;

use super::InputError;
use crate::failure::redacted;

/// An object to fetch: bucket, key (decoded) and the bucket's region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3ObjectRef {
    pub bucket: String,
    pub key: String,
    pub region: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Record {
    aws_region: String,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: Bucket,
    object: Object,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
struct Object {
    key: String,
}

/// Every object named by an S3 event, in order.
pub(super) fn objects(records: &[Value]) -> Result<Vec<S3ObjectRef>, InputError> {
    records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let malformed = |reason: String| InputError::MalformedEnvelope {
                envelope: "S3",
                index,
                reason,
            };
            let record = S3Record::deserialize(record).map_err(|e| malformed(redacted(&e)))?;
            let key = decode_key(&record.s3.object.key)
                .ok_or_else(|| malformed("the object key is not valid URL encoding".into()))?;
            if record.s3.bucket.name.is_empty() || key.is_empty() || record.aws_region.is_empty() {
                return Err(malformed("the bucket, key or region is empty".into()));
            }
            Ok(S3ObjectRef {
                bucket: record.s3.bucket.name,
                key,
                region: record.aws_region,
            })
        })
        .collect()
}

/// S3 event notifications URL-encode object keys, with `+` for a space.
fn decode_key(encoded: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut input = encoded.bytes();
    while let Some(b) = input.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hi = hex(input.next()?)?;
                let lo = hex(input.next()?)?;
                bytes.push(hi << 4 | lo);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(
            decode_key("aws/lambda/a+b%2Fc%3D.json").as_deref(),
            Some("aws/lambda/a b/c=.json")
        );
        assert_eq!(decode_key("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(decode_key("bad%2"), None);
        assert_eq!(decode_key("bad%zz"), None);
        assert_eq!(decode_key("%FF"), None);
    }
}
