//! The line of one delivered document, written out: the stream's retention
//! found (cached), the line built, and written on standard output as a line
//! of its own, so CloudWatch Logs sees an `_aws` member at its top level
//! rather than inside a log line's message.

use std::io::Write;
use std::time::SystemTime;

use super::{line, Counts, MetricsSettings, RetentionCache, DYNAMODB_RETENTION};
use crate::deliver::sqs::Sent;
use crate::document::{Batch, HydratedDocument, Hydration};
use crate::input::stream_arn::StreamKind;
use crate::kinds::Streams;

/// How the document went out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delivery {
    /// Queue entries sent again after the queue refused them.
    pub retries: u32,
    /// Messages it went out in; 0 when it was returned.
    pub parts: u32,
}

impl Delivery {
    /// Sent to the dead-letter queue.
    pub fn of(sent: &Sent) -> Self {
        Self {
            retries: sent.retries,
            parts: u32::try_from(sent.message_ids.len()).unwrap_or(u32::MAX),
        }
    }

    /// Returned, for an OnSuccess destination.
    pub fn returned() -> Self {
        Self::default()
    }
}

/// What the metrics need across invocations: the settings, and the streams'
/// retention periods.
#[derive(Debug)]
pub struct Metrics {
    settings: MetricsSettings,
    retention: RetentionCache,
}

impl Metrics {
    pub fn new(settings: MetricsSettings) -> Self {
        Self {
            settings,
            retention: RetentionCache::default(),
        }
    }

    /// Writes the line of a document sent to the dead-letter queue, with the
    /// hydration block its parts carry (a record too large for a message is
    /// missing from it).
    pub async fn sent(&self, streams: &impl Streams, document: &HydratedDocument, sent: &Sent) {
        let delivery = Delivery::of(sent);
        self.emit(streams, document, &sent.hydration, delivery)
            .await;
    }

    /// Writes the line of a document returned for an OnSuccess destination.
    pub async fn returned(&self, streams: &impl Streams, document: &HydratedDocument) {
        let delivery = Delivery::returned();
        self.emit(streams, document, &document.hydration, delivery)
            .await;
    }

    async fn emit(
        &self,
        streams: &impl Streams,
        document: &HydratedDocument,
        hydration: &Hydration,
        delivery: Delivery,
    ) {
        if !self.settings.enabled {
            return;
        }
        let retention = match &document.batch {
            Batch::Shard(batch) => {
                let stream = &batch.stream_arn;
                match stream.kind {
                    StreamKind::Kinesis => {
                        let lookup = || streams.kinesis_retention(&stream.region, stream.as_str());
                        self.retention.kinesis(stream.as_str(), lookup).await
                    }
                    StreamKind::DynamoDb => Some(DYNAMODB_RETENTION),
                }
            }
            // A topic's retention is the cluster's to say; not asked for yet.
            Batch::Kafka(_) => None,
        };
        let counts = Counts {
            throttled_calls: document.throttled_calls,
            delivery_retries: delivery.retries,
            parts: delivery.parts,
            retention,
        };
        let kafka_hydration = match &document.batch {
            Batch::Kafka(kafka) => Some(&*kafka.body.hydration),
            Batch::Shard(_) => None,
        };
        let text = line(
            &self.settings,
            document.source,
            &document.failure,
            hydration,
            kafka_hydration,
            counts,
            SystemTime::now(),
        );
        // One write of the whole line under the lock, so no log line can
        // land inside it; a closed standard output loses the metric, nothing else.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}
