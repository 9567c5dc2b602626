//! The Kafka path of an invocation: a Kafka on-failure record validated,
//! held to the settings' allow-lists before any connection, read from its
//! cluster (or taken from the S3 destination's payload, with no read), and
//! made a document that the shared delivery sends like any other.

use aws_credential_types::provider::SharedCredentialsProvider;
use serde_json::value::RawValue;
use tokio::time::Instant;

use super::scram::ScramUser;
use super::settings::{KafkaAuthMode, KafkaSettings};
use super::{AwsApi, HydrateError, Hydrator};
use crate::deliver::DeliveryError;
use crate::document::HydratedDocument;
use crate::input::fault::FieldFault;
use crate::kinds::kafka::batch::{KafkaFailure, KafkaRecordError, PayloadFault};
use crate::kinds::kafka::broker::KafkaAuth;
use crate::kinds::kafka::hydrated::{self, from_payload, from_reads};
use crate::kinds::kafka::read::PartitionError;
use crate::kinds::kafka::read_failure;

/// Why a Kafka failure is not read: what it names is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KafkaRefusal {
    #[error("the record names a bootstrap server not on KAFKA_BOOTSTRAP_ALLOWLIST; no connection was made")]
    Server,
    #[error("the record names an MSK cluster not on KAFKA_CLUSTER_ARNS; no connection was made")]
    Cluster,
}

impl KafkaRefusal {
    pub fn class(self) -> &'static str {
        match self {
            KafkaRefusal::Server => "KafkaServerNotAllowed",
            KafkaRefusal::Cluster => "KafkaClusterNotAllowed",
        }
    }
}

impl KafkaSettings {
    /// Whether the function may connect where `failure` says its batch is:
    /// every bootstrap server on the allow-list (the client may reach any of
    /// them), and an MSK cluster's ARN among the accepted clusters.
    pub fn admit(&self, failure: &KafkaFailure) -> Result<(), KafkaRefusal> {
        let allowed = |server: &str| {
            self.bootstrap_allowlist
                .iter()
                .any(|entry| entry.eq_ignore_ascii_case(server.trim()))
        };
        if !failure.bootstrap_servers.split(',').all(allowed) {
            return Err(KafkaRefusal::Server);
        }
        if let Some(arn) = failure
            .event_source_arn
            .as_deref()
            .filter(|_| failure.is_msk())
        {
            if !self.cluster_arns.iter().any(|accepted| accepted == arn) {
                return Err(KafkaRefusal::Cluster);
            }
        }
        Ok(())
    }

    /// How to authenticate to the cluster of `failure`, when this build can.
    /// MSK IAM signs for the region of the cluster's ARN, with `credentials`;
    /// SCRAM is `scram`'s user, over TLS as Lambda's own mappings use it.
    fn auth(
        &self,
        failure: &KafkaFailure,
        credentials: Option<&SharedCredentialsProvider>,
        scram: Option<ScramUser>,
    ) -> Result<KafkaAuth, HydrateError> {
        match self.auth {
            KafkaAuthMode::None => Ok(KafkaAuth::Plaintext),
            KafkaAuthMode::Tls => Ok(KafkaAuth::Tls),
            KafkaAuthMode::Iam => {
                let region = failure
                    .event_source_arn
                    .as_deref()
                    .filter(|_| failure.is_msk())
                    .and_then(|arn| arn.split(':').nth(3))
                    .filter(|region| !region.is_empty())
                    .ok_or(HydrateError::KafkaAuthNotSupported(
                        "iam without an MSK cluster",
                    ))?;
                let credentials =
                    credentials
                        .cloned()
                        .ok_or(HydrateError::KafkaAuthNotSupported(
                            "iam without credentials",
                        ))?;
                Ok(KafkaAuth::MskIam {
                    region: region.to_owned(),
                    credentials,
                })
            }
            KafkaAuthMode::ScramSha512 => match scram {
                Some(ScramUser { username, password }) => Ok(KafkaAuth::ScramSha512 {
                    username,
                    password,
                    tls: true,
                }),
                None => Err(HydrateError::KafkaAuthNotSupported(
                    KafkaAuthMode::ScramSha512.name(),
                )),
            },
        }
    }
}

impl<A: AwsApi> Hydrator<A> {
    /// The Kafka record, validated.
    pub(super) fn kafka_failure(&self, raw: &RawValue) -> Result<KafkaFailure, HydrateError> {
        KafkaFailure::parse(raw.get()).map_err(|error| {
            let error = HydrateError::KafkaRecord(error);
            tracing::error!(class = %error.class(), error = %error, "rejected Kafka failure record");
            error
        })
    }

    /// Reads the Kafka failure's offsets back (or takes the batch an S3
    /// destination saved) and builds its document. Reading stops at
    /// `deadline`, an error for the platform to retry.
    pub(super) async fn hydrate_kafka(
        &self,
        failure: KafkaFailure,
        deadline: Option<Instant>,
    ) -> Result<HydratedDocument, HydrateError> {
        let started = Instant::now();
        let elapsed = || started.elapsed().as_millis() as u64;
        let group_id = hydrated::group_id(&failure);
        let partitions = failure.partitions.len();
        if failure.payload.is_some() {
            return match from_payload(failure, elapsed()) {
                Some(document) => document.map_err(serialize_error),
                // Checked when the record was parsed; named as the parser would.
                None => Err(HydrateError::KafkaRecord(
                    KafkaRecordError::MalformedPayload(PayloadFault::Field(FieldFault::not(
                        "payload.records",
                        "an object of arrays",
                    ))),
                )),
            };
        }
        let settings = &self.settings.kafka;
        settings.admit(&failure).map_err(|refusal| {
            let error = HydrateError::KafkaNotAllowed(refusal);
            tracing::error!(class = %error.class(), error = %error, group_id, "refused Kafka failure");
            error
        })?;
        let scram = match settings.auth {
            KafkaAuthMode::ScramSha512 => Some(
                self.scram_users
                    .user(&self.aws, settings.scram_secret_arn.as_deref())
                    .await
                    .map_err(|error| {
                        let error = HydrateError::KafkaScramSecret(error);
                        tracing::error!(class = %error.class(), error = %error, group_id, "no SCRAM user");
                        error
                    })?,
            ),
            _ => None,
        };
        let auth = settings.auth(&failure, self.credentials.as_ref(), scram)?;
        let read = read_failure(&failure, &auth, &settings.limits);
        let reads = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, read)
                .await
                .map_err(|_| HydrateError::KafkaRead(PartitionError::Broker("Deadline")))?,
            None => read.await,
        }
        .map_err(HydrateError::KafkaRead)?;
        let document = from_reads(failure, reads, elapsed()).map_err(serialize_error)?;
        let hydration = &document.hydration;
        // Counts and the failure's id only: its names are input.
        tracing::info!(
            group_id,
            partitions,
            status = hydration.status.as_str(),
            expected = hydration.expected_records,
            hydrated = hydration.hydrated_records,
            fetch_calls = hydration.get_records_calls,
            duration_ms = hydration.duration_ms,
            "hydrated failed Kafka batch"
        );
        Ok(document)
    }
}

fn serialize_error(error: serde_json::Error) -> HydrateError {
    HydrateError::Delivery(DeliveryError::Split(error.into()))
}
