//! The records `redrive` writes, read from saved events: each Kinesis
//! record as it was, or with `--deaggregate` each user record of a KPL
//! aggregate on its own, with its own partition key and explicit hash key.

use std::path::PathBuf;

use crate::kpl::Kpl;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::sources::saved::{Envelope, SavedEvent};

/// Kinesis limits for one `PutRecords` call and one record (data and
/// partition key count toward both).
pub const MAX_RECORDS_PER_CALL: usize = 500;
pub const MAX_BYTES_PER_CALL: usize = 5 * 1024 * 1024;
pub const MAX_BYTES_PER_RECORD: usize = 1024 * 1024;

/// One record to write: where it was saved, and what it holds.
#[derive(Debug, Clone)]
pub struct Entry {
    pub file: PathBuf,
    /// The original sequence number, to tell the records apart in reports.
    pub sequence_number: String,
    /// Its place in the aggregate it was taken from, with `--deaggregate`.
    pub user_record: Option<usize>,
    pub partition_key: String,
    /// The aggregate's explicit hash key for this user record.
    pub explicit_hash_key: Option<String>,
    pub data: Vec<u8>,
}

impl Entry {
    pub fn size(&self) -> usize {
        self.data.len()
            + self.partition_key.len()
            + self.explicit_hash_key.as_ref().map_or(0, String::len)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error("{file} is a Kafka event: redrive puts records on a Kinesis stream; replay it into the consumer instead")]
    Kafka { file: PathBuf },
    #[error(
        "{file}: record {index} is {source_name}; only Kinesis records can be put on a stream"
    )]
    NotKinesis {
        file: PathBuf,
        index: usize,
        /// `an aws:dynamodb record`, or words of ours when the field is not a
        /// service name: the file's own text is never quoted.
        source_name: String,
    },
    #[error("{file}: record {index} has no {field}")]
    Missing {
        file: PathBuf,
        index: usize,
        field: &'static str,
    },
    #[error("{file}: record {index}'s data is not base64")]
    NotBase64 { file: PathBuf, index: usize },
}

/// The Kinesis records of `events`, in file and record order; with
/// `deaggregate`, an aggregate's user records in its place (none for an
/// empty aggregate; one that fails its check stays whole, as a consumer's
/// deaggregator would take it).
pub fn entries(events: &[SavedEvent], deaggregate: bool) -> Result<Vec<Entry>, RedriveError> {
    let mut entries = Vec::new();
    for event in events {
        if let Envelope::Kafka(_) = event.envelope {
            return Err(RedriveError::Kafka {
                file: event.path.clone(),
            });
        }
        for (index, record) in event.records.iter().enumerate() {
            let file = event.path.clone();
            let source = record["eventSource"].as_str();
            if source != Some("aws:kinesis") {
                return Err(RedriveError::NotKinesis {
                    file,
                    index,
                    source_name: source_name(source),
                });
            }
            let field = |name: &'static str| {
                record["kinesis"][name]
                    .as_str()
                    .ok_or_else(|| RedriveError::Missing {
                        file: file.clone(),
                        index,
                        field: name,
                    })
            };
            let data = STANDARD
                .decode(field("data")?)
                .map_err(|_| RedriveError::NotBase64 {
                    file: file.clone(),
                    index,
                })?;
            let whole = Entry {
                sequence_number: field("sequenceNumber")?.to_owned(),
                user_record: None,
                partition_key: field("partitionKey")?.to_owned(),
                explicit_hash_key: None,
                data: Vec::new(),
                file,
            };
            match deaggregate.then(|| crate::kpl::deaggregate(&data)) {
                Some(Kpl::Aggregated(users)) => {
                    entries.extend(users.into_iter().enumerate().map(|(at, user)| Entry {
                        user_record: Some(at),
                        partition_key: user.partition_key.to_owned(),
                        explicit_hash_key: user.explicit_hash_key.map(str::to_owned),
                        data: user.data.to_vec(),
                        ..whole.clone()
                    }));
                }
                _ => entries.push(Entry { data, ..whole }),
            }
        }
    }
    Ok(entries)
}

/// How an error names a record's `eventSource`: `aws:SERVICE` as it is,
/// anything else only by what it is not, so no text of the file is echoed.
fn source_name(source: Option<&str>) -> String {
    match source {
        None => "a record without an eventSource".to_owned(),
        Some(s)
            if s.len() <= 40
                && s.strip_prefix("aws:").is_some_and(|service| {
                    !service.is_empty()
                        && service
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                }) =>
        {
            format!("an {s} record")
        }
        Some(_) => "a record with an unrecognized eventSource".to_owned(),
    }
}

/// Consecutive runs of entries that each fit one call. A record too large
/// for any call gets a run of its own, and the service names the error.
pub fn batches(entries: &[Entry]) -> Vec<Vec<usize>> {
    hydrate::batches(
        entries,
        MAX_RECORDS_PER_CALL,
        MAX_BYTES_PER_CALL,
        Entry::size,
    )
}
