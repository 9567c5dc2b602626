//! The S3 on-failure destination's path: fetch the object the event names,
//! within a size bound, and build the document from the payload it saved,
//! or read the stream when it saved none; a Kafka object goes the Kafka way.

use std::cmp::Ordering;

use serde_json::value::RawValue;
use tokio::time::Instant;

use super::AwsApi;
use super::{document, Hydrator};
use crate::aws::bounded_object::{read_within, ObjectError};
use crate::document::{sequence_number_of, EventRecords, HydratedDocument, Origin};
use crate::hydrator::error::HydrateError;
use crate::input::failure::{OnFailureRecord, RecordError};
use crate::input::failure_object::FailureObject;
use crate::input::trigger::S3ObjectRef;
use crate::kinds::kafka::batch::KafkaFailure;
use crate::read::{Gap, GapReason, ReadSummary};

impl<A: AwsApi> Hydrator<A> {
    /// Builds the document from an S3 on-failure destination's object: from
    /// the payload it saved when there is one, from the stream otherwise.
    pub(super) async fn hydrate_s3_object(
        &self,
        object: &S3ObjectRef,
        deadline: Option<Instant>,
    ) -> Result<HydratedDocument, HydrateError> {
        let started = Instant::now();
        let bytes = self.fetch_object(object).await?;
        let parsed = FailureObject::parse(&bytes);
        if let Err(RecordError::KafkaBatch) = parsed {
            // A Kafka object, UTF-8 JSON since it got this far: its payload
            // is the batch, or the cluster is read.
            let text = String::from_utf8_lossy(&bytes);
            let failure = KafkaFailure::parse(&text).map_err(HydrateError::KafkaRecord)?;
            return self.hydrate_kafka(failure, deadline).await;
        }
        let parsed = parsed.map_err(|error| {
            let e = HydrateError::Object {
                bucket: object.bucket.clone(),
                key: object.key_for_logs(),
                error,
            };
            tracing::error!(class = %e.class(), error = %e, bytes = bytes.len(), "rejected S3 failure object");
            e
        })?;
        match parsed.records {
            Some(records) => {
                let read = account_for_payload(&parsed.record, &records);
                Ok(document(
                    parsed.record,
                    read,
                    EventRecords::delivered(records),
                    Origin::S3Payload,
                    started,
                ))
            }
            None => self.hydrate(parsed.record, deadline).await,
        }
    }

    /// The object's bytes, refused unread when S3 says it is larger than an
    /// on-failure object can be, and cut off if the body runs past that.
    async fn fetch_object(&self, object: &S3ObjectRef) -> Result<Vec<u8>, HydrateError> {
        let limit = self.settings.s3_object_max_bytes;
        let fetch_error = |message: String| HydrateError::Fetch {
            bucket: object.bucket.clone(),
            key: object.key_for_logs(),
            message,
        };
        let (declared, body) = self
            .aws
            .get_object(&object.region, &object.bucket, &object.key)
            .await
            .map_err(fetch_error)?;
        read_within(declared, body, limit).await.map_err(|error| match error {
            ObjectError::Fetch(message) => fetch_error(message),
            ObjectError::TooLarge { size, limit } => {
                let error = HydrateError::ObjectTooLarge {
                    bucket: object.bucket.clone(),
                    key: object.key_for_logs(),
                    size,
                    limit,
                };
                tracing::error!(class = %error.class(), error = %error, "refused S3 failure object");
                error
            }
        })
    }
}

/// Checks a saved payload against the batch it should hold: complete when
/// it has `batchSize` records, each within the range and in order, with the
/// first at the start and the last at the end.
fn account_for_payload(record: &OnFailureRecord, records: &[Box<RawValue>]) -> ReadSummary {
    let batch = &record.batch;
    let numbers: Vec<Option<String>> = records.iter().map(|r| sequence_number_of(r)).collect();
    let in_order = numbers.iter().all(Option::is_some)
        && numbers
            .windows(2)
            .all(|w| sequence_order(&w[0], &w[1]) == Some(Ordering::Less));
    let first_is_start =
        numbers.first().cloned().flatten().as_deref() == Some(batch.start.as_str());
    let last_is_end = numbers.last().cloned().flatten().as_deref() == Some(batch.end.as_str());
    let whole =
        records.len() == batch.batch_size as usize && in_order && first_is_start && last_is_end;
    let gaps = if whole {
        Vec::new()
    } else {
        vec![Gap {
            from_sequence_number: batch.start.clone(),
            to_sequence_number: batch.end.clone(),
            reason: GapReason::CountMismatch,
        }]
    };
    ReadSummary {
        throttled_calls: 0,
        gaps,
        get_records_calls: 0,
        shard_iterator_calls: 0,
        unavailable: None,
    }
}

fn sequence_order(a: &Option<String>, b: &Option<String>) -> Option<Ordering> {
    let a = crate::input::sequence::SequenceNumber::parse(a.as_deref()?).ok()?;
    Some(a.cmp_str(b.as_deref()?))
}
