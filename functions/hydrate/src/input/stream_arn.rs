//! Stream ARNs, checked against AWS's own patterns and split.
//!
//! The ARN is the one place a failure record says where to read: the
//! partition and region pick the SDK client, the name goes into every
//! request and every log line. So it is held to what AWS allows (a region of
//! its partition, a stream or table name of the documented pattern) before
//! anything uses it, and an ARN that passes can be logged as it is.

use crate::input::fault::is_identifier;
use crate::input::regions;

/// The kind of stream a batch came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Kinesis,
    DynamoDb,
}

impl StreamKind {
    /// The `eventSource` Lambda gives records of this kind.
    pub fn event_source(self) -> &'static str {
        match self {
            StreamKind::Kinesis => "aws:kinesis",
            StreamKind::DynamoDb => "aws:dynamodb",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StreamKind::Kinesis => "Kinesis",
            StreamKind::DynamoDb => "DynamoDB",
        }
    }
}

/// Kinesis allows stream ARNs of up to 2048 characters.
const MAX_ARN_LEN: usize = 2048;

/// A stream ARN, checked and split. The region the stream lives in comes from
/// here, never from the environment: a hydrator may serve streams anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamArn {
    arn: String,
    pub partition: String,
    pub region: String,
    pub account: String,
    pub kind: StreamKind,
}

/// Why a string is not a stream ARN the hydrator can read. No variant
/// carries any of the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    #[error("is not of the form arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE")]
    Malformed,
    #[error("is longer than {MAX_ARN_LEN} characters")]
    TooLong,
    #[error("names a partition that does not exist")]
    UnknownPartition,
    #[error("has no region")]
    NoRegion,
    #[error("names a region that does not exist in its partition")]
    UnknownRegion,
    #[error("names a service other than kinesis or dynamodb")]
    UnsupportedService,
    #[error("is not a stream ARN (expected `stream/NAME` or `table/NAME/stream/LABEL`)")]
    NotAStream,
    #[error("names a stream or table outside the pattern AWS allows ([A-Za-z0-9_.-], 1 to 128 characters for streams, 3 to 255 for tables)")]
    InvalidName,
    #[error("has an account id that is not 12 digits")]
    BadAccount,
}

impl StreamArn {
    pub fn parse(arn: &str) -> Result<Self, ArnError> {
        if arn.len() > MAX_ARN_LEN {
            return Err(ArnError::TooLong);
        }
        let mut parts = arn.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(ArnError::Malformed);
        };
        let regions = regions::of_partition(partition).ok_or(ArnError::UnknownPartition)?;
        if region.is_empty() {
            return Err(ArnError::NoRegion);
        }
        if !regions.contains(&region) {
            return Err(ArnError::UnknownRegion);
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ArnError::BadAccount);
        }
        let kind = match service {
            "kinesis" => StreamKind::Kinesis,
            "dynamodb" => StreamKind::DynamoDb,
            _ => return Err(ArnError::UnsupportedService),
        };
        match kind {
            StreamKind::Kinesis => {
                let name = resource
                    .strip_prefix("stream/")
                    .filter(|name| !name.is_empty() && !name.contains('/'))
                    .ok_or(ArnError::NotAStream)?;
                if !is_identifier(name, 1, 128) {
                    return Err(ArnError::InvalidName);
                }
            }
            StreamKind::DynamoDb => {
                let segments: Vec<&str> = resource.split('/').collect();
                let [table_word, table, stream_word, label] = segments[..] else {
                    return Err(ArnError::NotAStream);
                };
                if table_word != "table"
                    || stream_word != "stream"
                    || table.is_empty()
                    || label.is_empty()
                {
                    return Err(ArnError::NotAStream);
                }
                // The label is the stream's creation time, such as
                // 2023-12-10T22:52:22.419.
                let label_ok = label.len() <= 64
                    && label.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'-' | b'_')
                    });
                if !is_identifier(table, 3, 255) || !label_ok {
                    return Err(ArnError::InvalidName);
                }
            }
        }
        Ok(Self {
            arn: arn.to_owned(),
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            kind,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The stream's name, or for a DynamoDB stream its table's: the second
    /// segment of `stream/NAME` and `table/NAME/stream/LABEL` alike.
    pub fn name(&self) -> &str {
        let resource = self.arn.splitn(6, ':').nth(5).unwrap_or_default();
        resource.split('/').nth(1).unwrap_or_default()
    }
}

impl std::fmt::Display for StreamArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_arn_names_its_stream_or_table() {
        let kinesis =
            StreamArn::parse("arn:aws:kinesis:us-east-2:123456789012:stream/orders").unwrap();
        assert_eq!(kinesis.name(), "orders");
        let dynamodb = StreamArn::parse(
            "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-21T06:00:00.000",
        )
        .unwrap();
        assert_eq!(dynamodb.name(), "orders");
    }

    #[test]
    fn arns_in_every_partition_parse_with_their_region() {
        for (arn, partition, region) in [
            ("arn:aws:kinesis:us-east-1:123456789012:stream/a", "aws", "us-east-1"),
            ("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a", "aws-cn", "cn-north-1"),
            ("arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/a", "aws-us-gov", "us-gov-west-1"),
            (
                "arn:aws-cn:dynamodb:cn-northwest-1:123456789012:table/tbl/stream/2024-01-01T00:00:00.000",
                "aws-cn",
                "cn-northwest-1",
            ),
        ] {
            let parsed = StreamArn::parse(arn).unwrap();
            assert_eq!((parsed.partition.as_str(), parsed.region.as_str()), (partition, region), "{arn}");
            assert_eq!(parsed.as_str(), arn);
        }
    }

    #[test]
    fn arns_that_are_not_streams_are_refused_with_the_reason() {
        let long_name = format!(
            "arn:aws:kinesis:us-east-1:123456789012:stream/{}",
            "a".repeat(129)
        );
        let too_long = format!(
            "arn:aws:kinesis:us-east-1:123456789012:stream/{}",
            "a".repeat(3000)
        );
        for (arn, expected) in [
            ("", ArnError::Malformed),
            (
                "arn:aws:kinesis:us-east-1:123456789012",
                ArnError::Malformed,
            ),
            (
                "urn:aws:kinesis:us-east-1:123456789012:stream/a",
                ArnError::Malformed,
            ),
            (
                "arn:gcp:kinesis:us-east-1:123456789012:stream/a",
                ArnError::UnknownPartition,
            ),
            ("arn:aws:kinesis::123456789012:stream/a", ArnError::NoRegion),
            (
                "arn:aws:kinesis:US EAST:123456789012:stream/a",
                ArnError::UnknownRegion,
            ),
            (
                "arn:aws:kinesis:us-fake-9:123456789012:stream/a",
                ArnError::UnknownRegion,
            ),
            (
                "arn:aws:kinesis:cn-north-1:123456789012:stream/a",
                ArnError::UnknownRegion,
            ),
            (
                "arn:aws:kinesis:us-east-1:1234:stream/a",
                ArnError::BadAccount,
            ),
            (
                "arn:aws:sqs:us-east-1:123456789012:queue",
                ArnError::UnsupportedService,
            ),
            (
                "arn:aws:kinesis:us-east-1:123456789012:stream/",
                ArnError::NotAStream,
            ),
            (
                "arn:aws:kinesis:us-east-1:123456789012:stream/a/consumer/b:1",
                ArnError::NotAStream,
            ),
            (
                "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
                ArnError::NotAStream,
            ),
            (
                "arn:aws:kinesis:us-east-1:123456789012:stream/a\"b",
                ArnError::InvalidName,
            ),
            (
                "arn:aws:kinesis:us-east-1:123456789012:stream/a\nb",
                ArnError::InvalidName,
            ),
            (
                "arn:aws:dynamodb:us-east-1:123456789012:table/ab/stream/x",
                ArnError::InvalidName,
            ),
            (
                "arn:aws:dynamodb:us-east-1:123456789012:table/abc/stream/x y",
                ArnError::InvalidName,
            ),
            (long_name.as_str(), ArnError::InvalidName),
            (too_long.as_str(), ArnError::TooLong),
        ] {
            assert_eq!(StreamArn::parse(arn), Err(expected), "{arn}");
        }
    }
}
