//! Where `redrive --to-stream` writes: a stream ARN, written by ARN in its
//! own account and region, or a bare name in the caller's.

use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use hydrate::{StreamArn, StreamKind};

/// Where `--to-stream` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Kinesis stream ARN: written by ARN (any account), from its region.
    Arn { arn: StreamArn },
    /// A bare name: the caller's stream, in the caller's region.
    Name(String),
}

impl Target {
    /// A Kinesis stream ARN, or a name. Anything that starts like an ARN
    /// but is not a Kinesis stream's is refused rather than sent as a name.
    pub fn parse(value: &str) -> anyhow::Result<Self> {
        if !value.starts_with("arn:") {
            return Ok(Self::Name(value.to_owned()));
        }
        match StreamArn::parse(value) {
            Ok(arn) if arn.kind == StreamKind::Kinesis => Ok(Self::Arn { arn }),
            Ok(_) => anyhow::bail!(
                "--to-stream {value} is a DynamoDB stream; only Kinesis data streams take records (replay DynamoDB records instead)"
            ),
            Err(error) => anyhow::bail!("--to-stream {value} {error}"),
        }
    }

    /// The stream's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Arn { arn } => arn.name(),
            Self::Name(name) => name,
        }
    }

    /// The ARN, or the name: what the report says was written to.
    pub fn shown(&self) -> &str {
        match self {
            Self::Arn { arn } => arn.as_str(),
            Self::Name(name) => name,
        }
    }
}

/// The client configuration for `target`: the caller's, in the ARN's region
/// when there is an ARN.
pub(crate) fn client_config(
    sdk: &aws_config::SdkConfig,
    target: &Target,
) -> aws_sdk_kinesis::config::Builder {
    let config = aws_sdk_kinesis::config::Builder::from(sdk);
    match target {
        Target::Arn { arn } => config.region(aws_config::Region::new(arn.region.clone())),
        Target::Name(_) => config,
    }
}

/// A `PutRecords` call for `target`: by `StreamARN` when there is one.
pub(crate) fn put_records(
    client: &aws_sdk_kinesis::Client,
    target: &Target,
    records: Vec<PutRecordsRequestEntry>,
) -> aws_sdk_kinesis::operation::put_records::builders::PutRecordsFluentBuilder {
    let call = client.put_records().set_records(Some(records));
    match target {
        Target::Arn { arn } => call.stream_arn(arn.as_str()),
        Target::Name(name) => call.stream_name(name),
    }
}
