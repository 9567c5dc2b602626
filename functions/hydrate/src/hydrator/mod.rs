//! Hydration: an invocation payload in, documents out (returned, or sent to
//! the dead-letter queue).
//!
//! Holds what lives across invocations (the SDK clients, the settings, the
//! Kafka secrets read), runs the range reader for each failure record, a
//! bounded number at a time (a Kafka failure is read from its cluster in
//! `kafka.rs`, with what `kafka_secrets.rs` read), and answers in the form
//! the trigger needs: the document itself for an OnSuccess destination, a
//! delivery report, or an SQS partial batch response.
//!
//! AWS is reached through [`crate::aws`]'s traits: [`Clients`] in the
//! function, stand-ins in the offline tests (`tests.rs`).

mod error;
mod kafka;
mod kafka_secrets;
mod once;
mod response;
mod s3;
pub mod settings;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use futures_util::{StreamExt, TryStreamExt};
use tracing::Instrument;

use crate::aws::clients::Clients;
use crate::aws::{DeliveryStream, Ledger, ObjectStore, ObjectWriter, Queue, Secrets};
use crate::deliver::{Archive, Archived, DeliveryError, DlqWriter};
use crate::document::{
    Batch, BatchContext, EventRecords, HydratedDocument, Hydration, Origin, Status, VERSION,
};
use crate::hydrator::settings::Settings;
use crate::input::failure::{OnFailureRecord, StreamKind};
use crate::input::trigger::{self, FailureInput, Invocation, QueueMessage};
use crate::kinds::dynamodb::DynamoDb;
use crate::kinds::kinesis::Kinesis;
use crate::kinds::{Kind, Streams};
use crate::observe::metrics::Metrics;
use crate::read::coalesce::{RunBounds, Storm};
use crate::read::ReadSummary;
pub use error::HydrateError;
pub use response::{BatchResponse, DeliveryReport, Failed, ItemFailure, Receipt, Response};

/// Everything a hydrator reaches AWS through: [`Clients`] in the function,
/// AWS held in memory in the offline tests.
pub trait AwsApi:
    Streams + Queue + DeliveryStream + ObjectStore + ObjectWriter + Ledger + Secrets
{
}

impl<T> AwsApi for T where
    T: Streams + Queue + DeliveryStream + ObjectStore + ObjectWriter + Ledger + Secrets
{
}

pub struct Hydrator<A = Clients> {
    aws: A,
    settings: Settings,
    metrics: Metrics,
    storm: Storm,
    /// The function's own credentials, for the tokens MSK IAM asks of each
    /// connection; none where AWS is reached in memory.
    credentials: Option<SharedCredentialsProvider>,
    /// The Kafka secrets (SCRAM user, client certificate), kept between invocations.
    kafka_secrets: kafka_secrets::KafkaSecrets,
    /// This invocation's Kafka failures, read together before their documents.
    kafka_read_together: kafka::ReadTogether,
}

impl Hydrator {
    pub fn new(sdk: SdkConfig, settings: Settings) -> Self {
        let credentials = sdk.credentials_provider();
        Self {
            credentials,
            ..Self::with_aws(Clients::new(sdk), settings)
        }
    }
}

impl<A: AwsApi> Hydrator<A> {
    /// A hydrator that reaches AWS through `aws`.
    pub(crate) fn with_aws(aws: A, settings: Settings) -> Self {
        Self {
            storm: Storm::new(settings.reads_per_shard_per_second, RunBounds::default()),
            metrics: Metrics::new(settings.metrics.clone()),
            aws,
            settings,
            credentials: None,
            kafka_secrets: kafka_secrets::KafkaSecrets::default(),
            kafka_read_together: kafka::ReadTogether::default(),
        }
    }

    /// Handles one invocation payload, with no deadline.
    pub async fn handle(&self, payload: impl AsRef<[u8]>) -> Result<Response, HydrateError> {
        self.handle_until(payload, None).await
    }

    /// Handles one invocation payload that must be answered by `deadline`.
    /// Reading stops early enough to leave time for delivery: what was read
    /// by then is delivered as `partial`, the rest named with reason `deadline`.
    pub async fn handle_until(
        &self,
        payload: impl AsRef<[u8]>,
        deadline: Option<Instant>,
    ) -> Result<Response, HydrateError> {
        let payload = payload.as_ref();
        let read_deadline = deadline.map(reading_deadline);
        let invocation = trigger::parse(payload).inspect_err(|e| {
            tracing::error!(class = %e.class(), error = %e, bytes = payload.len(), "rejected invocation payload");
        })?;
        let response = match invocation {
            // Boxed: the stream combinators nest future types too deep for
            // the compiler to lay out inline in the runtime's handler.
            Invocation::Whole(inputs) => {
                Box::pin(self.handle_whole(inputs, payload.len(), read_deadline)).await
            }
            Invocation::Queue(messages) => Ok(Response::Batch(
                Box::pin(self.handle_queue(messages, read_deadline)).await,
            )),
        };
        // Reads of failures whose documents were not built (delivered before, say).
        self.kafka_read_together.clear();
        response
    }

    /// Every failure must succeed, or the invocation fails as a whole (and
    /// is retried: documents already sent may then be sent again).
    async fn handle_whole(
        &self,
        inputs: Vec<FailureInput>,
        request_bytes: usize,
        deadline: Option<Instant>,
    ) -> Result<Response, HydrateError> {
        let _runs = self.storm.plan_inputs(&inputs);
        let storm = self.kafka_storm(inputs.iter());
        self.read_kafka_together(storm, deadline).await;
        let inputs = Storm::in_run_order(inputs, FailureInput::batch);
        if self.settings.dlq_queue_url.is_some() && self.settings.idempotency_table.is_some() {
            return self.deliver_whole_once(inputs, deadline).await;
        }
        let documents = futures_util::stream::iter(inputs)
            .map(|(index, input)| async move {
                let document = self.document_from(input, deadline).await?;
                Ok((index, document))
            })
            .buffered(self.settings.max_concurrency)
            .map_err(log_failure);
        if self.settings.dlq_queue_url.is_some() {
            let delivered = documents
                .and_then(
                    |(index, document)| async move { Ok((index, self.deliver(&document).await?)) },
                )
                .try_collect()
                .await?;
            let delivered = in_input_order(delivered);
            return Ok(Response::Delivered(DeliveryReport { delivered }));
        }
        let mut documents = in_input_order(documents.try_collect().await?);
        for document in &documents {
            self.archive(document).await;
            self.metrics.returned(&self.aws, document).await;
        }
        let response = match documents.len() {
            1 => Response::One(Box::new(documents.remove(0))),
            _ => Response::Many(documents),
        };
        self.check_response_size(&response, request_bytes)?;
        Ok(response)
    }

    /// A returned document travels inside the OnSuccess destination record,
    /// with the request; one that does not fit would be dropped there.
    fn check_response_size(&self, response: &Response, request: usize) -> Result<(), HydrateError> {
        // The destination record's own fields: version, timestamp, contexts.
        const ENVELOPE: usize = 2_048;
        let size = response
            .serialized_len()
            .map_err(|e| HydrateError::Delivery(DeliveryError::Split(e.into())))?;
        if size + request + ENVELOPE > self.settings.response_max_bytes {
            let error = HydrateError::ResponseTooLarge {
                size,
                request,
                limit: self.settings.response_max_bytes,
            };
            tracing::error!(class = %error.class(), error = %error, "response too large to return");
            return Err(error);
        }
        Ok(())
    }

    /// Each message is hydrated and sent on its own; those that fail are
    /// named for SQS to retry, and no other.
    async fn handle_queue(
        &self,
        messages: Vec<QueueMessage>,
        deadline: Option<Instant>,
    ) -> BatchResponse {
        let _runs = self.storm.plan_messages(&messages);
        let storm = self.kafka_storm(messages.iter().filter_map(|m| m.content.as_ref().ok()));
        self.read_kafka_together(storm, deadline).await;
        let messages = Storm::in_run_order(messages, QueueMessage::batch);
        let failures = futures_util::stream::iter(messages)
            .map(|(index, message)| async move {
                let outcome = async {
                    let input = message.content?;
                    if self.settings.dlq_queue_url.is_none() {
                        return Err(HydrateError::NoDlqQueueUrl);
                    }
                    self.deliver_once(input, deadline).await
                }
                .await;
                match outcome {
                    Ok(_) => None,
                    Err(error) => {
                        // The message id is input: logged only when it is a plain identifier.
                        let message_id = Some(message.message_id.as_str())
                            .filter(|id| crate::input::fault::is_identifier(id, 1, 128));
                        tracing::error!(class = %error.class(), error = %error, message_index = message.index, message_id, "SQS message failed");
                        let failure = ItemFailure {
                            item_identifier: message.message_id,
                        };
                        Some((index, failure))
                    }
                }
            })
            .buffered(self.settings.max_concurrency)
            .filter_map(std::future::ready)
            .collect()
            .await;
        BatchResponse {
            batch_item_failures: in_input_order(failures),
        }
    }

    /// Builds the document of one failure, of any kind and from any
    /// envelope, without delivering it.
    pub async fn document_from(
        &self,
        input: FailureInput,
        deadline: Option<Instant>,
    ) -> Result<HydratedDocument, HydrateError> {
        match input {
            FailureInput::Record(record) => self.hydrate(record, deadline).await,
            FailureInput::Kafka(raw) => {
                let failure = self.kafka_failure(&raw)?;
                self.hydrate_kafka(failure, deadline).await
            }
            FailureInput::S3Object(object) => self.hydrate_s3_object(&object, deadline).await,
        }
    }

    /// Sends the document to the dead-letter queue, then to the archive.
    async fn deliver(&self, document: &HydratedDocument) -> Result<Receipt, HydrateError> {
        let queue_url = self
            .settings
            .dlq_queue_url
            .as_deref()
            .ok_or(HydrateError::NoDlqQueueUrl)?;
        let writer = DlqWriter {
            aws: &self.aws,
            queue_url,
            max_message_bytes: self.settings.max_message_bytes,
            backoff: self.settings.delivery_backoff,
            offload: self.settings.offload.as_ref(),
        };
        let sent = writer.send(document).await?;
        let archived = self.archive(document).await;
        self.metrics.sent(&self.aws, document, &sent).await;
        let failed = match &document.batch {
            Batch::Shard(batch) => {
                tracing::info!(
                    stream = batch.stream_arn.as_str(),
                    shard = %batch.shard_id,
                    start = %batch.start,
                    parts = sent.message_ids.len(),
                    calls = sent.calls,
                    status = sent.hydration.status.as_str(),
                    "delivered to the dead-letter queue"
                );
                Failed::Shard {
                    stream_arn: batch.stream_arn.as_str().to_owned(),
                    shard_id: batch.shard_id.clone(),
                    start_sequence_number: batch.start.to_string(),
                    end_sequence_number: batch.end.to_string(),
                }
            }
            Batch::Kafka(kafka) => {
                // The failure's id only: its cluster and topics are input.
                tracing::info!(
                    group_id = %kafka.group_id,
                    parts = sent.message_ids.len(),
                    calls = sent.calls,
                    status = sent.hydration.status.as_str(),
                    "delivered to the dead-letter queue"
                );
                Failed::Kafka {
                    cluster: kafka.cluster.clone(),
                    partitions: kafka.ranges.clone(),
                }
            }
        };
        Ok(Receipt {
            message_ids: sent.message_ids,
            group_id: sent.group_id,
            failed,
            status: sent.hydration.status,
            hydrated_records: sent.hydration.hydrated_records,
            archived,
        })
    }

    /// Writes the document to the Firehose archive, when one is configured.
    async fn archive(&self, document: &HydratedDocument) -> Option<Archived> {
        let stream_name = self.settings.archive_firehose_stream.as_deref()?;
        let archive = Archive {
            firehose: &self.aws,
            stream_name,
            backoff: self.settings.delivery_backoff,
        };
        Some(archive.write(document).await)
    }

    /// Reads the failed batch back and builds its document. Every log line
    /// written meanwhile carries the failure's stream, shard and range: all
    /// validated, so none of them can carry forged text.
    pub async fn hydrate(
        &self,
        record: OnFailureRecord,
        deadline: Option<Instant>,
    ) -> Result<HydratedDocument, HydrateError> {
        let batch = &record.batch;
        let span = tracing::info_span!(
            "failure",
            stream = batch.stream_arn.as_str(),
            shard = batch.shard_id.as_str(),
            start = batch.start.as_str(),
            end = batch.end.as_str(),
        );
        // Boxed: callers nest this future in stream combinators, and the
        // span's wrapper would take their types past the compiler's depth limit.
        Box::pin(self.hydrate_record(record, deadline))
            .instrument(span)
            .await
    }

    async fn hydrate_record(
        &self,
        record: OnFailureRecord,
        deadline: Option<Instant>,
    ) -> Result<HydratedDocument, HydrateError> {
        let started = Instant::now();
        // The one place a kind is chosen; everything after is written once.
        let (read, records) = match record.kind() {
            StreamKind::Kinesis => self.read::<Kinesis>(&record, deadline).await?,
            StreamKind::DynamoDb => self.read::<DynamoDb>(&record, deadline).await?,
        };
        Ok(document(record, read, records, Origin::Stream, started))
    }

    /// Reads the failure's range from a shard of kind `K`, and turns each
    /// record into the shape Lambda delivered it in.
    async fn read<K: Kind>(
        &self,
        record: &OnFailureRecord,
        deadline: Option<Instant>,
    ) -> Result<(ReadSummary, EventRecords), HydrateError> {
        let batch = &record.batch;
        let stream_arn: Arc<str> = Arc::from(batch.stream_arn.as_str());
        let region = batch.stream_arn.region.as_str();
        let context = K::context(batch, self.invoke_identity_arn(record));
        let shard = K::shard(&self.aws, region, &stream_arn, &batch.shard_id);
        let read = (self.storm)
            .read_batch(&shard, batch, self.settings.read_limits, deadline)
            .await
            .map_err(|error| HydrateError::Read {
                stream: batch.stream_arn.as_str().into(),
                shard: batch.shard_id.clone(),
                error,
            })?;
        let (read, records) = read.into_parts();
        let records = context
            .event_records(records)
            .map_err(|e| HydrateError::Delivery(DeliveryError::Split(e.into())))?;
        Ok((read, records))
    }

    fn invoke_identity_arn(&self, record: &OnFailureRecord) -> Arc<str> {
        let arn = self
            .settings
            .invoke_identity_arn
            .as_deref()
            .or(record.consumer_arn.as_deref())
            .unwrap_or("");
        Arc::from(arn)
    }
}

/// When reading must stop: early enough before the invocation's deadline to
/// deliver what was read (a fifth of the time left, between 1 and 10 seconds).
fn reading_deadline(deadline: Instant) -> Instant {
    let left = deadline.saturating_duration_since(Instant::now());
    let reserve = (left / 5).clamp(Duration::from_secs(1), Duration::from_secs(10));
    deadline.checked_sub(reserve).unwrap_or(deadline)
}

/// Answers made in run order ([`Storm::in_run_order`]), put back in the
/// order of the invocation's input.
fn in_input_order<T>(mut answers: Vec<(usize, T)>) -> Vec<T> {
    answers.sort_by_key(|(index, _)| *index);
    answers.into_iter().map(|(_, answer)| answer).collect()
}

fn log_failure(error: HydrateError) -> HydrateError {
    tracing::error!(class = %error.class(), error = %error, "could not hydrate a failure record");
    error
}

/// Puts the document together and logs its summary: counts and positions
/// only, since record data may hold personal data.
fn document(
    record: OnFailureRecord,
    read: ReadSummary,
    records: EventRecords,
    origin: Origin,
    started: Instant,
) -> HydratedDocument {
    let batch = record.batch;
    let status = Status::of(&read.gaps, read.unavailable.is_some(), records.is_empty());
    let hydration = Hydration {
        status,
        origin,
        expected_records: batch.batch_size,
        hydrated_records: records.len() as u32,
        missing: read.gaps,
        get_records_calls: read.get_records_calls,
        get_shard_iterator_calls: read.shard_iterator_calls,
        duration_ms: started.elapsed().as_millis() as u64,
        unavailable: read.unavailable,
    };
    tracing::info!(
        stream = batch.stream_arn.as_str(),
        shard = %batch.shard_id,
        start = %batch.start,
        end = %batch.end,
        status = hydration.status.as_str(),
        origin = ?hydration.origin,
        expected = hydration.expected_records,
        hydrated = hydration.hydrated_records,
        gaps = hydration.missing.len(),
        get_records_calls = hydration.get_records_calls,
        duration_ms = hydration.duration_ms,
        "hydrated failed batch"
    );
    HydratedDocument {
        version: VERSION,
        source: batch.stream_arn.kind.event_source(),
        hydration,
        records,
        failure: record.raw,
        batch: Batch::Shard(batch),
        throttled_calls: read.throttled_calls,
    }
}
