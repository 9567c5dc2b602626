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

use crate::aws::backoff::Backoff;
use crate::aws::batch_send::{self, BatchApi, CallFailure, EntryAnswer};
use crate::aws::DeliveryStream;
use crate::document::parts::{self, Part};
use crate::document::HydratedDocument;

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

pub struct Archive<'a, F> {
    pub firehose: &'a F,
    pub stream_name: &'a str,
    pub backoff: Backoff,
}

impl<F: DeliveryStream> Archive<'_, F> {
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
        let sent = batch_send::send_all(self, &parts, self.backoff).await;
        let archived = Archived {
            records: parts.len(),
            failed: sent.failures.len(),
            calls: sent.calls,
            error: sent.failures.first().map(|f| f.error.clone()),
        };
        if archived.failed > 0 {
            tracing::error!(failed = archived.failed, error = ?archived.error, "records could not be archived");
        }
        archived
    }
}

/// `PutRecordBatch`: at most 500 records and 4 MiB a call; the answer is
/// positional, one response a record sent.
impl<F: DeliveryStream> BatchApi for Archive<'_, F> {
    type Entry = Part;
    /// The record id.
    type Receipt = String;
    const MAX_ENTRIES: usize = 500;
    const MAX_BYTES: usize = 4 * 1_048_576;

    fn size(part: &Part) -> usize {
        part.body.len() + 1
    }

    async fn call(&self, parts: &[&Part]) -> Result<Vec<EntryAnswer<String>>, CallFailure> {
        let records: Vec<Record> = parts
            .iter()
            .filter_map(|part| {
                let mut line = Vec::with_capacity(part.body.len() + 1);
                line.extend_from_slice(part.body.as_bytes());
                line.push(b'\n');
                // Data is the only required field, and it is set.
                Record::builder().data(Blob::new(line)).build().ok()
            })
            .collect();
        let output = self
            .firehose
            .put_record_batch(self.stream_name, records)
            .await?;
        Ok(output
            .request_responses
            .into_iter()
            .map(|response| match response.error_code {
                None => EntryAnswer::Accepted(response.record_id.unwrap_or_default()),
                Some(code) => EntryAnswer::Rejected {
                    code,
                    message: response.error_message.unwrap_or_default(),
                },
            })
            .collect())
    }
}
