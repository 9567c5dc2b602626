//! Where `redrive --to-stream` writes, and how: a stream ARN, written by
//! ARN in its own account and region, or a bare name in the caller's; one
//! `PutRecords` call, its answer read entry by entry, the service's messages
//! stripped of the values they quote.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use hydrate::{BatchApi, CallFailure, EntryAnswer};
use hydrate::{StreamArn, StreamKind};

use super::entries::{Entry, MAX_BYTES_PER_CALL, MAX_RECORDS_PER_CALL};

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

/// `PutRecords` to the target: the answer is positional, one result a
/// record sent, each with a shard and sequence number or an error code.
pub(crate) struct PutRecords<'a> {
    pub(crate) client: &'a aws_sdk_kinesis::Client,
    pub(crate) target: &'a Target,
    /// `--explicit-hash-key`: over each record's own.
    pub(crate) explicit_hash_key: Option<&'a str>,
}

impl BatchApi for PutRecords<'_> {
    type Entry = Entry;
    /// The shard and the new sequence number.
    type Receipt = (Option<String>, String);
    const MAX_ENTRIES: usize = MAX_RECORDS_PER_CALL;
    const MAX_BYTES: usize = MAX_BYTES_PER_CALL;

    fn size(entry: &Entry) -> usize {
        entry.size()
    }

    async fn call(
        &self,
        entries: &[&Entry],
    ) -> Result<Vec<EntryAnswer<Self::Receipt>>, CallFailure> {
        let records: Vec<PutRecordsRequestEntry> = entries
            .iter()
            .filter_map(|entry| {
                let hash_key = self
                    .explicit_hash_key
                    .or(entry.explicit_hash_key.as_deref());
                PutRecordsRequestEntry::builder()
                    .data(Blob::new(entry.data.clone()))
                    .partition_key(&entry.partition_key)
                    .set_explicit_hash_key(hash_key.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        let output = put_records(self.client, self.target, records)
            .send()
            .await
            .map_err(|e| {
                let failure = CallFailure::of(&e);
                CallFailure {
                    message: redacted(&failure.message),
                    ..failure
                }
            })?;
        Ok(output
            .records
            .into_iter()
            .map(|record| match (record.sequence_number, record.error_code) {
                (Some(sequence_number), None) => {
                    EntryAnswer::Accepted((record.shard_id, sequence_number))
                }
                (_, code) => EntryAnswer::Rejected {
                    code: code.unwrap_or_else(|| "NoSequenceNumber".to_owned()),
                    message: redacted(record.error_message.as_deref().unwrap_or("")),
                },
            })
            .collect())
    }
}

/// A service message without the values it quotes: a validation error
/// reads `Value 'KEY' at 'records.1.member.partitionKey' failed to satisfy
/// constraint`, and the report must not carry a partition key.
pub(crate) fn redacted(message: &str) -> String {
    const VALUE: &str = "Value '";
    const AT: &str = "' at '";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(VALUE) {
        let after = &rest[start + VALUE.len()..];
        let Some(end) = after.find(AT) else { break };
        out.push_str(&rest[..start]);
        out.push_str("Value (not shown) at '");
        rest = &after[end + AT.len()..];
    }
    out.push_str(rest);
    out
}
