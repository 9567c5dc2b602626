//! The Kafka path of an invocation: a Kafka on-failure record validated,
//! held to the settings' allow-lists before any connection, read from its
//! cluster (or taken from the S3 destination's payload, with no read), and
//! made a document that the shared delivery sends like any other.
//!
//! A storm arrives as many failures in one invocation (an SQS batch, a
//! direct invocation): those of one cluster are read together first, each
//! partition's ranges merged and fetched once (`kinds::kafka::coalesce`), and
//! each failure's document then takes its share of what was read.

use aws_credential_types::provider::SharedCredentialsProvider;
use serde_json::value::RawValue;
use tokio::time::Instant;

use super::kafka_secrets::{KafkaSecretError, ScramUser};
use super::settings::{KafkaAuthMode, KafkaSettings};
use super::{AwsApi, HydrateError, Hydrator};
use crate::deliver::DeliveryError;
use crate::document::HydratedDocument;
use crate::input::fault::FieldFault;
use crate::input::trigger::FailureInput;
use crate::kinds::kafka::batch::{KafkaFailure, KafkaRecordError, PayloadFault};
use crate::kinds::kafka::broker::{ClientCertificate, KafkaAuth};
use crate::kinds::kafka::hydrated::{self, from_payload, from_reads};
use crate::kinds::kafka::read::{PartitionError, PartitionRead};
use crate::kinds::kafka::{read_failure, read_failures};

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
    /// SCRAM is the secret's user, over TLS as Lambda's own mappings use it;
    /// mutual TLS presents the secret's client certificate.
    fn auth(
        &self,
        failure: &KafkaFailure,
        credentials: Option<&SharedCredentialsProvider>,
        secret: Option<Secret>,
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
            KafkaAuthMode::ScramSha512 | KafkaAuthMode::MutualTls => match secret {
                Some(Secret::Scram(ScramUser { username, password })) => {
                    Ok(KafkaAuth::ScramSha512 {
                        username,
                        password,
                        tls: true,
                    })
                }
                Some(Secret::ClientCertificate(certificate)) => {
                    Ok(KafkaAuth::MutualTls(certificate))
                }
                None => Err(HydrateError::KafkaAuthNotSupported(self.auth.name())),
            },
        }
    }
}

/// What a secret gave to authenticate with.
enum Secret {
    Scram(ScramUser),
    ClientCertificate(ClientCertificate),
}

/// What the reads an invocation holds for its failures read together may
/// keep, as a process's Kinesis runs share 32 MiB (`read::coalesce`). A
/// group of failures is read together only while its budget (each
/// failure's `KafkaLimits::max_bytes`, 6 MiB) fits in what is left; the
/// failures past that are read alone, each as its document is built, so an
/// SQS batch of a hundred failures of large records never holds them all at
/// once.
const READ_TOGETHER_BYTES: usize = 32 * 1024 * 1024;
/// The most failures one read serves, as for a Kinesis run.
const MAX_READ_TOGETHER: usize = 1_000;

/// Reads done for an invocation's Kafka failures before their documents are
/// built, by failure id; each is taken once, and what is left is dropped
/// when the invocation ends.
#[derive(Default)]
pub(super) struct ReadTogether {
    reads: std::sync::Mutex<std::collections::HashMap<String, Vec<PartitionRead>>>,
}

impl ReadTogether {
    fn take(&self, group_id: &str) -> Option<Vec<PartitionRead>> {
        self.reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(group_id)
    }

    fn keep(&self, group_id: String, reads: Vec<PartitionRead>) {
        self.reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(group_id, reads);
    }

    pub(super) fn clear(&self) {
        self.reads.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

impl<A: AwsApi> Hydrator<A> {
    /// The Kafka failures among `inputs` to read together, by cluster: only
    /// those that would be read anyway (valid, allowed, not carrying their
    /// batch), and only clusters with more than one.
    pub(super) fn kafka_storm<'a>(
        &self,
        inputs: impl Iterator<Item = &'a FailureInput>,
    ) -> Vec<(String, Vec<KafkaFailure>)> {
        let mut by_cluster: std::collections::BTreeMap<String, Vec<KafkaFailure>> =
            std::collections::BTreeMap::new();
        for input in inputs {
            let FailureInput::Kafka(raw) = input else {
                continue;
            };
            let Ok(failure) = KafkaFailure::parse(raw.get()) else {
                continue;
            };
            if failure.payload.is_some() || self.settings.kafka.admit(&failure).is_err() {
                continue;
            }
            by_cluster
                .entry(failure.bootstrap_servers.clone())
                .or_default()
                .push(failure);
        }
        by_cluster
            .into_iter()
            .filter(|(_, failures)| failures.len() > 1)
            .collect()
    }

    /// Reads each cluster's failures of `storm` together, so a storm of
    /// failures of one partition costs the fetches of one read. A cluster
    /// that cannot be read together leaves each failure to its own read, and
    /// its own error.
    pub(super) async fn read_kafka_together(
        &self,
        storm: Vec<(String, Vec<KafkaFailure>)>,
        deadline: Option<Instant>,
    ) {
        let per_failure = self.settings.kafka.limits.max_bytes.max(1);
        let mut left = READ_TOGETHER_BYTES;
        for (servers, failures) in storm {
            let mut rest = failures.as_slice();
            while rest.len() > 1 {
                let fits = (left / per_failure).min(rest.len()).min(MAX_READ_TOGETHER);
                if fits < 2 {
                    return;
                }
                let (group, after) = rest.split_at(fits);
                let held = self.read_cluster_together(&servers, group, deadline).await;
                left = left.saturating_sub(held);
                rest = after;
            }
        }
    }

    /// Reads `failures` of the cluster `servers` together and keeps each
    /// one's reads for its document; the record bytes kept.
    async fn read_cluster_together(
        &self,
        servers: &str,
        failures: &[KafkaFailure],
        deadline: Option<Instant>,
    ) -> usize {
        let settings = &self.settings.kafka;
        let Ok(secret) = self.kafka_secret().await else {
            return 0;
        };
        // One cluster, so one region for MSK IAM: the first failure's.
        let Ok(auth) = settings.auth(&failures[0], self.credentials.as_ref(), secret) else {
            return 0;
        };
        let refs: Vec<&KafkaFailure> = failures.iter().collect();
        let read = read_failures(servers, &refs, &auth, &settings.limits);
        let reads = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, read).await {
                Ok(reads) => reads,
                Err(_) => return 0,
            },
            None => read.await,
        };
        let Ok(reads) = reads else {
            return 0;
        };
        let fetches: u32 = reads.iter().flatten().map(|r| r.fetches).sum();
        let held: usize = reads
            .iter()
            .flatten()
            .map(PartitionRead::record_bytes)
            .sum();
        tracing::info!(
            failures = failures.len(),
            fetch_calls = fetches,
            held_bytes = held,
            "read Kafka failures together"
        );
        for (failure, reads) in failures.iter().zip(reads) {
            self.kafka_read_together
                .keep(hydrated::group_id(failure), reads);
        }
        held
    }

    /// The secret `KAFKA_AUTH` needs, read (or kept from a recent read).
    async fn kafka_secret(&self) -> Result<Option<Secret>, KafkaSecretError> {
        let settings = &self.settings.kafka;
        Ok(match settings.auth {
            KafkaAuthMode::ScramSha512 => Some(Secret::Scram(
                self.kafka_secrets
                    .user(&self.aws, settings.scram_secret_arn.as_deref())
                    .await?,
            )),
            KafkaAuthMode::MutualTls => Some(Secret::ClientCertificate(
                self.kafka_secrets
                    .client_certificate(
                        &self.aws,
                        settings.client_certificate_secret_arn.as_deref(),
                    )
                    .await?,
            )),
            _ => None,
        })
    }

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
        let secret = self.kafka_secret().await.map_err(|error| {
            let error = HydrateError::KafkaSecret(error);
            tracing::error!(class = %error.class(), error = %error, group_id, "no Kafka secret");
            error
        })?;
        let auth = settings.auth(&failure, self.credentials.as_ref(), secret)?;
        let read = async {
            match self.kafka_read_together.take(&group_id) {
                Some(reads) => Ok(reads),
                None => read_failure(&failure, &auth, &settings.limits).await,
            }
        };
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
