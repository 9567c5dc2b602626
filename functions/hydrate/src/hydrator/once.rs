//! Delivery at most once a failure, when an idempotency table is set: a
//! failure is begun in the table before it is read, and marked delivered
//! once sent, or released (deleted) when it could not be. What is left to
//! duplicate is a crash, or a failed mark, between the send and the mark
//! (see docs/storms.md).

use futures_util::{StreamExt, TryStreamExt};
use tokio::time::Instant;

use super::AwsApi;
use super::{DeliveryReport, HydrateError, Hydrator, Receipt, Response};
use crate::aws::ledger::LedgerError;
use crate::aws::LedgerState;
use crate::document::parts::group_id;
use crate::document::HydratedDocument;
use crate::input::failure::OnFailureRecord;
use crate::input::trigger::FailureInput;
use crate::kinds::kafka::batch::KafkaFailure;

/// How long a delivered failure is remembered: past the longest an event
/// source mapping, SNS or SQS keeps retrying (SQS keeps a message 14 days).
const DELIVERED_SECONDS: u64 = 15 * 24 * 3600;

fn epoch_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl<A: AwsApi> Hydrator<A> {
    /// Hydrates and sends one failure: `None` when the table says it was
    /// delivered already, which acknowledges it. An S3 object's failure is
    /// known only once fetched, so it is sent without the table.
    pub(super) async fn deliver_once(
        &self,
        input: FailureInput,
        deadline: Option<Instant>,
    ) -> Result<Option<Receipt>, HydrateError> {
        let failure = match input {
            FailureInput::Record(record) => Failure::Stream(record),
            FailureInput::Kafka(raw) => Failure::Kafka(self.kafka_failure(&raw)?),
            FailureInput::S3Object(object) => {
                let document = self.hydrate_s3_object(&object, deadline).await?;
                return self.deliver(&document).await.map(Some);
            }
        };
        let Some(table) = self.settings.idempotency_table.as_deref() else {
            let document = self.hydrate_failure(failure, deadline).await?;
            return self.deliver(&document).await.map(Some);
        };
        let id = match &failure {
            Failure::Stream(record) => group_id(&record.batch),
            Failure::Kafka(kafka) => crate::kinds::kafka::hydrated::group_id(kafka),
        };
        let now = epoch_seconds();
        let expires = now.saturating_add(self.settings.in_progress_seconds);
        let begun = self.aws.begin(table, &id, now, expires).await;
        match begun.map_err(LedgerError::from)? {
            None => {}
            Some(LedgerState::Delivered) => {
                tracing::info!(group_id = %id, "already delivered; acknowledged without reading");
                return Ok(None);
            }
            Some(LedgerState::InProgress) => return Err(LedgerError::InProgress.into()),
        }
        let sent = async {
            let document = self.hydrate_failure(failure, deadline).await?;
            self.deliver(&document).await
        };
        let receipt = match sent.await {
            Ok(receipt) => receipt,
            Err(error) => {
                // Not delivered: free it for a retry now, not when the mark
                // expires. Parts already sent go again either way.
                if let Err(failure) = self.aws.release(table, &id, expires).await {
                    tracing::warn!(group_id = %id, class = ?failure.class, code = ?failure.code, "could not release a failure; its retries wait for the mark to expire");
                }
                return Err(error);
            }
        };
        let kept = now.saturating_add(DELIVERED_SECONDS);
        if let Err(failure) = self.aws.delivered(table, &id, kept).await {
            // The document is in the queue: failing the message would send it
            // again. Left in progress, a duplicate is held off until it expires.
            tracing::warn!(group_id = %id, error = %failure.message, "could not mark a failure delivered");
        }
        Ok(Some(receipt))
    }

    /// A whole invocation in DLQ mode with the table on: each failure
    /// record at most once, an S3 object's as before (its record is known
    /// only once fetched). Any failure fails the invocation, as without the
    /// table; failures delivered already are left out of the report.
    pub(super) async fn deliver_whole_once(
        &self,
        inputs: Vec<(usize, FailureInput)>,
        deadline: Option<Instant>,
    ) -> Result<Response, HydrateError> {
        let delivered = futures_util::stream::iter(inputs)
            .map(|(index, input)| async move {
                let receipt = self.deliver_once(input, deadline).await?;
                Ok(receipt.map(|receipt| (index, receipt)))
            })
            .buffered(self.settings.max_concurrency)
            .map_err(super::log_failure)
            .try_filter_map(|receipt| std::future::ready(Ok(receipt)))
            .try_collect()
            .await?;
        let delivered = super::in_input_order(delivered);
        Ok(Response::Delivered(DeliveryReport { delivered }))
    }

    async fn hydrate_failure(
        &self,
        failure: Failure,
        deadline: Option<Instant>,
    ) -> Result<HydratedDocument, HydrateError> {
        match failure {
            Failure::Stream(record) => self.hydrate(record, deadline).await,
            Failure::Kafka(kafka) => self.hydrate_kafka(kafka, deadline).await,
        }
    }
}

/// A failure whose id is known before it is read.
enum Failure {
    Stream(OnFailureRecord),
    Kafka(KafkaFailure),
}
