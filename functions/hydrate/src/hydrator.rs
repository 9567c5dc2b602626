//! Hydration: one on-failure record in, one document out.
//!
//! Holds what lives across invocations (the SDK configuration and one stream
//! client per region) and runs the range reader for each record.

use std::sync::Arc;
use std::time::Instant;

use aws_config::SdkConfig;
use serde::Serialize;

use crate::clients::StreamClients;
use crate::document::{
    DynamoDbBatchContext, EventRecords, HydratedDocument, Hydration, KinesisBatchContext, Status,
    VERSION,
};
use crate::failure::{OnFailureRecord, StreamKind};
use crate::read::dynamodb::DynamoDbShard;
use crate::read::kinesis::KinesisShard;
use crate::read::{read_range, RangeRead, ReadError, ShardRange, ShardSource};
use crate::settings::Settings;
use crate::trigger::{self, InputError};

/// Why an invocation produced no document. The platform then retries it and
/// finally hands the raw input to the hydrator's own OnFailure destination.
#[derive(Debug, thiserror::Error)]
pub enum HydrateError {
    #[error("{0}")]
    Input(#[from] InputError),
    #[error("reading {stream} {shard} failed: {error}")]
    Read {
        stream: String,
        shard: String,
        error: ReadError,
    },
}

impl HydrateError {
    /// A stable class for logs and the Lambda error type, e.g. `Input.StartAfterEnd`.
    pub fn class(&self) -> String {
        match self {
            HydrateError::Input(e) => format!("Input.{}", e.class()),
            HydrateError::Read { error, .. } => match error {
                ReadError::InvalidStart { .. } => "Read.InvalidStart".into(),
                ReadError::Source(s) => format!("Read.{}", s.class()),
            },
        }
    }
}

impl From<HydrateError> for lambda_runtime::Diagnostic {
    fn from(error: HydrateError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.class(),
            error_message: error.to_string(),
        }
    }
}

/// What the function returns: the document itself for the usual single
/// failure, so an OnSuccess destination carries it as it is.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Response {
    One(Box<HydratedDocument>),
    Many(Vec<HydratedDocument>),
}

pub struct Hydrator {
    clients: StreamClients,
    settings: Settings,
}

impl Hydrator {
    pub fn new(sdk: SdkConfig, settings: Settings) -> Self {
        Self {
            clients: StreamClients::new(sdk),
            settings,
        }
    }

    /// Hydrates every failure record in an invocation payload.
    pub async fn handle(&self, payload: &str) -> Result<Response, HydrateError> {
        let records = trigger::failure_records(payload).inspect_err(|e| {
            tracing::error!(class = %e.class(), error = %e, bytes = payload.len(), "rejected invocation payload");
        })?;
        let mut documents = Vec::with_capacity(records.len());
        for record in records {
            documents.push(self.hydrate(record).await?);
        }
        Ok(match documents.len() {
            1 => Response::One(Box::new(documents.remove(0))),
            _ => Response::Many(documents),
        })
    }

    /// Reads the failed batch back and builds its document.
    pub async fn hydrate(&self, record: OnFailureRecord) -> Result<HydratedDocument, HydrateError> {
        let started = Instant::now();
        let batch = &record.batch;
        let range = ShardRange {
            shard_id: batch.shard_id.clone(),
            start: batch.start.clone(),
            end: batch.end.clone(),
            expected: batch.batch_size,
        };
        let region = batch.stream_arn.region.as_str();
        let stream_arn: Arc<str> = Arc::from(batch.stream_arn.as_str());
        let (read, records) = match record.kind() {
            StreamKind::Kinesis => {
                let client = self.clients.kinesis(region);
                let shard = KinesisShard {
                    client: &client,
                    stream_arn: &stream_arn,
                    shard_id: &batch.shard_id,
                };
                let read = self.read(&shard, &range, &record).await?;
                let context = KinesisBatchContext {
                    shard_id: batch.shard_id.clone(),
                    invoke_identity_arn: self.invoke_identity_arn(&record),
                    aws_region: Arc::from(region),
                    event_source_arn: stream_arn.clone(),
                };
                let (read, records) = read.into_parts();
                let records = records.into_iter().map(|r| context.event_record(r));
                (read, EventRecords::Kinesis(records.collect()))
            }
            StreamKind::DynamoDb => {
                let client = self.clients.dynamodb_streams(region);
                let shard = DynamoDbShard {
                    client: &client,
                    stream_arn: &stream_arn,
                    shard_id: &batch.shard_id,
                };
                let read = self.read(&shard, &range, &record).await?;
                let context = DynamoDbBatchContext {
                    aws_region: Arc::from(region),
                    event_source_arn: stream_arn.clone(),
                };
                let (read, records) = read.into_parts();
                let records = records.into_iter().map(|r| context.event_record(r));
                (read, EventRecords::DynamoDb(records.collect()))
            }
        };

        let status = if read.gaps.is_empty() {
            Status::Complete
        } else {
            Status::Partial
        };
        let hydration = Hydration {
            status,
            expected_records: batch.batch_size,
            hydrated_records: records.len() as u32,
            missing: read.gaps,
            get_records_calls: read.get_records_calls,
            get_shard_iterator_calls: read.shard_iterator_calls,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        // Counts and positions only: record data may hold personal data.
        tracing::info!(
            stream = batch.stream_arn.as_str(),
            shard = %batch.shard_id,
            start = %batch.start,
            end = %batch.end,
            status = ?hydration.status,
            expected = hydration.expected_records,
            hydrated = hydration.hydrated_records,
            gaps = hydration.missing.len(),
            get_records_calls = hydration.get_records_calls,
            duration_ms = hydration.duration_ms,
            "hydrated failed batch"
        );
        Ok(HydratedDocument {
            version: VERSION,
            source: record.kind().event_source(),
            hydration,
            records,
            failure: record.raw,
        })
    }

    async fn read<S: ShardSource>(
        &self,
        shard: &S,
        range: &ShardRange,
        record: &OnFailureRecord,
    ) -> Result<RangeRead<S::Record>, HydrateError> {
        read_range(shard, range, self.settings.read_limits)
            .await
            .map_err(|error| {
                let e = HydrateError::Read {
                    stream: record.batch.stream_arn.as_str().into(),
                    shard: record.batch.shard_id.clone(),
                    error,
                };
                tracing::error!(class = %e.class(), error = %e, "could not read the failed batch");
                e
            })
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
