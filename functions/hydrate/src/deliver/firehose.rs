//! The long-term archive: each document also written to a Firehose delivery
//! stream as newline-delimited JSON, for keeping beyond the queue's 14 days.
//!
//! `PutRecordBatch` takes at most 500 records and 4 MiB a call, each record
//! at most 1,000 KiB, and may partly fail (`FailedPutCount`, an `ErrorCode`
//! per record): only the failed records are sent again, with backoff. The
//! archive is a copy: what it could not take is reported, and the document's
//! delivery to the queue stands.

use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::Record;

use super::parts::{self, Part};
use crate::backoff::Backoff;
use crate::document::HydratedDocument;
use crate::read::describe_sdk_error;

const CALL_RECORDS: usize = 500;
const CALL_BYTES: usize = 4 * 1_048_576;
/// A record's limit, less the newline that ends it.
const RECORD_BYTES: usize = 1_000 * 1_024 - 1;

/// What archiving a document did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Archived {
    pub records: usize,
    pub failed: usize,
    /// `PutRecordBatch` calls made, retries included.
    pub calls: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub struct Archive<'a> {
    pub client: &'a aws_sdk_firehose::Client,
    pub stream_name: &'a str,
    pub backoff: Backoff,
}

impl Archive<'_> {
    pub async fn write(&self, document: &HydratedDocument) -> Archived {
        let parts = match parts::split(document, RECORD_BYTES) {
            Ok(split) => split.parts,
            Err(e) => {
                return Archived {
                    error: Some(e.to_string()),
                    ..Archived::default()
                }
            }
        };
        let mut archived = Archived {
            records: parts.len(),
            ..Archived::default()
        };
        for batch in super::batches(parts, CALL_RECORDS, CALL_BYTES, |part: &Part| {
            part.body.len() + 1
        }) {
            self.put_batch(batch, &mut archived).await;
        }
        archived
    }

    async fn put_batch(&self, mut pending: Vec<Part>, archived: &mut Archived) {
        let mut last_error = None;
        for attempt in 0..self.backoff.attempts {
            if attempt > 0 {
                self.backoff.wait(attempt - 1).await;
            }
            let records: Vec<Record> = pending
                .iter()
                .filter_map(|part| {
                    let mut line = Vec::with_capacity(part.body.len() + 1);
                    line.extend_from_slice(part.body.as_bytes());
                    line.push(b'\n');
                    Record::builder().data(Blob::new(line)).build().ok()
                })
                .collect();
            archived.calls += 1;
            let output = match self
                .client
                .put_record_batch()
                .delivery_stream_name(self.stream_name)
                .set_records(Some(records))
                .send()
                .await
            {
                Ok(output) => output,
                Err(e) => {
                    last_error = Some(describe_sdk_error(&e));
                    continue;
                }
            };
            if output.failed_put_count == 0 {
                return;
            }
            // Responses are positional: one per record sent, in order.
            let mut responses = output.request_responses.iter();
            pending.retain(|_| {
                responses
                    .next()
                    .is_none_or(|response| response.error_code.is_some())
            });
            last_error = output.request_responses.iter().find_map(|r| {
                r.error_code
                    .clone()
                    .map(|code| format!("{code}: {}", r.error_message.as_deref().unwrap_or("")))
            });
            tracing::warn!(
                attempt,
                failed = pending.len(),
                "PutRecordBatch records failed"
            );
            if pending.is_empty() {
                return;
            }
        }
        archived.failed += pending.len();
        archived.error = last_error;
        tracing::error!(failed = pending.len(), error = ?archived.error, "records could not be archived");
    }
}
