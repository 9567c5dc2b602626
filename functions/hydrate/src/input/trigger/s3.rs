//! S3: an on-failure destination bucket notifies the function of each object
//! the event source mapping wrote. The notification names the object; the
//! object holds the failure record and the invocation payload.

use serde_json::Value;

use super::error::{EnvelopeFault, InputError};
use crate::input::fault::{self, is_identifier};
use crate::input::regions;

/// S3 allows keys of up to 1024 bytes.
const MAX_KEY_BYTES: usize = 1024;

/// An object to fetch: bucket, key (decoded) and the bucket's region, each
/// checked: the region against the regions that exist, the bucket against
/// S3's naming rules. The key may hold anything, so errors and logs name it
/// through [`S3ObjectRef::key_for_logs`] only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3ObjectRef {
    pub bucket: String,
    pub key: String,
    pub region: String,
}

impl S3ObjectRef {
    /// The key when it has the form an S3 on-failure destination writes
    /// (`aws/lambda/<mapping UUID>/<shardId>/YYYY/MM/DD/<time>-<UUID>`),
    /// which holds nothing but identifiers; otherwise only its length.
    pub fn key_for_logs(&self) -> String {
        if is_on_failure_key(&self.key) {
            self.key.clone()
        } else {
            format!("<a key of {} bytes>", self.key.len())
        }
    }
}

/// Every object named by an S3 event, in order.
pub(super) fn objects(records: &[Value]) -> Result<Vec<S3ObjectRef>, InputError> {
    records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let malformed = |reason: EnvelopeFault| InputError::MalformedEnvelope {
                envelope: "S3",
                index,
                reason,
            };
            let field = |fault: fault::FieldFault| malformed(fault.into());
            let region = fault::string(record, "awsRegion", "awsRegion").map_err(field)?;
            let s3 = fault::object(record, "s3", "s3").map_err(field)?;
            let bucket = fault::object(s3, "bucket", "s3.bucket")
                .and_then(|b| fault::string(b, "name", "s3.bucket.name"))
                .map_err(field)?;
            let key = fault::object(s3, "object", "s3.object")
                .and_then(|o| fault::string(o, "key", "s3.object.key"))
                .map_err(field)?;
            if !is_bucket_name(bucket) {
                return Err(malformed(EnvelopeFault::BucketName));
            }
            let key = decode_key(key).ok_or(malformed(EnvelopeFault::KeyEncoding))?;
            if key.is_empty() || key.len() > MAX_KEY_BYTES {
                return Err(malformed(EnvelopeFault::KeyLength));
            }
            if !regions::exists(region) {
                return Err(InputError::UnknownRegion {
                    envelope: "S3",
                    index,
                });
            }
            Ok(S3ObjectRef {
                bucket: bucket.to_owned(),
                key,
                region: region.to_owned(),
            })
        })
        .collect()
}

/// S3's rules for new buckets: 3 to 63 characters of lowercase letters,
/// digits, dots and hyphens, beginning and ending with a letter or digit.
fn is_bucket_name(name: &str) -> bool {
    let edge_ok = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && edge_ok(name.as_bytes().first())
        && edge_ok(name.as_bytes().last())
}

fn is_on_failure_key(key: &str) -> bool {
    let segments: Vec<&str> = key.split('/').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let [aws, lambda, mapping, shard, year, month, day, name] = segments[..] else {
        return false;
    };
    aws == "aws"
        && lambda == "lambda"
        && is_identifier(mapping, 36, 36)
        && is_identifier(shard, 1, 128)
        && digits(year, 4)
        && digits(month, 2)
        && digits(day, 2)
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'_'))
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

    #[test]
    fn only_keys_of_the_documented_form_are_logged() {
        let object = |key: &str| S3ObjectRef {
            bucket: "b".into(),
            key: key.into(),
            region: "us-east-1".into(),
        };
        let documented = "aws/lambda/0c7f1d2e-4b1a-4c3d-9e8f-123456789abc/shardId-000000000000/2026/11/23/2026-11-23T19.08.41-5f0e2a4b-1c2d-4e3f-8a9b-0c1d2e3f4a5b";
        assert_eq!(object(documented).key_for_logs(), documented);
        let forged = "aws/lambda/x/\"ZQX\"\nERROR/2026/11/23/y";
        assert_eq!(
            object(forged).key_for_logs(),
            format!("<a key of {} bytes>", forged.len())
        );
    }

    #[test]
    fn bucket_names_follow_the_s3_rules() {
        for good in ["abc", "my.bucket-1", &"a".repeat(63)] {
            assert!(is_bucket_name(good), "{good}");
        }
        for bad in [
            "ab",
            "Abc",
            "-abc",
            "abc-",
            "a b c",
            "a\"bc",
            &"a".repeat(64),
        ] {
            assert!(!is_bucket_name(bad), "{bad}");
        }
    }
}
