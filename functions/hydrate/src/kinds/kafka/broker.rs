//! The Kafka cluster reached with `rskafka`: a pure Rust client that fetches
//! from an offset with no consumer group, so reading a failure commits
//! nothing and moves no consumer's position.
//!
//! Plaintext, as a self-managed cluster with no authentication configured is
//! reached; TLS, alone or under SASL/PLAIN or SCRAM with credentials the
//! caller supplies; mutual TLS with a client certificate; and MSK IAM
//! (SASL/OAUTHBEARER over TLS, the token signed with the function's own
//! credentials, [`super::msk_iam`]).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use rskafka::client::error::{Error as ClientError, ProtocolError};
use rskafka::client::partition::{OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder, Credentials, SaslConfig};
use rskafka::protocol::record::{ControlBatchOrRecords, RecordBatch, RecordBatchTimestampType};
use rskafka::{BackoffConfig, ConnectionError, SaslError};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::msk_iam;
use super::read::{KafkaPartition, KafkaRecord, PartitionError, TimestampType};

/// How the hydrator authenticates to a cluster.
#[derive(Clone, Default)]
pub enum KafkaAuth {
    /// None: a self-managed cluster with no authentication configured for it.
    #[default]
    Plaintext,
    /// TLS with no SASL: a cluster that encrypts and asks for nothing more.
    Tls,
    /// SASL/PLAIN, over TLS when `tls`.
    Plain {
        username: String,
        password: String,
        tls: bool,
    },
    /// SASL/SCRAM-SHA-512, as MSK and Lambda use it, over TLS when `tls`
    /// (MSK's SCRAM listener always is).
    ScramSha512 {
        username: String,
        password: String,
        tls: bool,
    },
    /// MSK IAM: SASL/OAUTHBEARER over TLS, each connection's token signed
    /// for the cluster's `region` with `credentials`.
    MskIam {
        region: String,
        credentials: SharedCredentialsProvider,
    },
    /// Mutual TLS: TLS with a client certificate, as Lambda's
    /// `CLIENT_CERTIFICATE_TLS_AUTH` presents it ([`ClientCertificate`]).
    MutualTls(ClientCertificate),
}

/// A client certificate chain (the client's first) and its private key.
#[derive(Clone)]
pub struct ClientCertificate {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

/// Why a client certificate cannot be used; never the PEM's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientCertificateError {
    #[error("the certificate holds no PEM certificate")]
    NoCertificate,
    #[error("the private key is not an unencrypted PKCS#8, PKCS#1 or SEC1 PEM key")]
    NoKey,
    #[error(
        "the private key is encrypted, which is not supported: store it unencrypted in the secret"
    )]
    KeyEncrypted,
    #[error("the private key does not fit the certificate, or TLS refuses them")]
    Refused,
}

impl ClientCertificate {
    /// The certificate chain and key of a Lambda client certificate secret,
    /// both PEM; checked now, so a key that does not fit fails before any
    /// connection.
    pub fn from_pem(certificate: &str, key: &str) -> Result<Self, ClientCertificateError> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(certificate.as_bytes())
                .filter_map(Result::ok)
                .collect();
        if chain.is_empty() {
            return Err(ClientCertificateError::NoCertificate);
        }
        if key.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(ClientCertificateError::KeyEncrypted);
        }
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
            .map_err(|_| ClientCertificateError::NoKey)?;
        let certificate = Self {
            chain,
            key: Arc::new(key),
        };
        let roots = Arc::new(rustls::RootCertStore::empty());
        certificate.config(roots).map(|_| certificate.clone())
    }

    fn config(
        &self,
        roots: Arc<rustls::RootCertStore>,
    ) -> Result<Arc<rustls::ClientConfig>, ClientCertificateError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|_| ClientCertificateError::Refused)?
            .with_root_certificates(roots)
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())
            .map(Arc::new)
            .map_err(|_| ClientCertificateError::Refused)
    }
}

impl KafkaAuth {
    /// Whether the connection is encrypted.
    pub fn uses_tls(&self) -> bool {
        match self {
            KafkaAuth::Plaintext => false,
            KafkaAuth::Tls | KafkaAuth::MskIam { .. } | KafkaAuth::MutualTls(_) => true,
            KafkaAuth::Plain { tls, .. } | KafkaAuth::ScramSha512 { tls, .. } => *tls,
        }
    }
}

impl std::fmt::Debug for KafkaAuth {
    // Never the password, and not the user name either: both are secrets' contents.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KafkaAuth::Plaintext => "Plaintext",
            KafkaAuth::Tls => "Tls",
            KafkaAuth::Plain { .. } => "Plain",
            KafkaAuth::ScramSha512 { .. } => "ScramSha512",
            KafkaAuth::MskIam { .. } => "MskIam",
            KafkaAuth::MutualTls(_) => "MutualTls",
        })
    }
}

/// The largest response accepted from a broker: a fetch asks for at most
/// `KafkaLimits::fetch_bytes`, and a broker may exceed that by one batch.
const MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;
/// How long one call retries before it counts as failed.
const CALL_DEADLINE: Duration = Duration::from_secs(20);

/// Connects to the cluster `bootstrap_servers` (`host:port,host:port`) names.
pub async fn connect(bootstrap_servers: &str, auth: &KafkaAuth) -> Result<Client, PartitionError> {
    let servers = bootstrap_servers.split(',').map(str::to_owned).collect();
    let mut builder = ClientBuilder::new(servers)
        .client_id("hydrator")
        .max_message_size(MAX_MESSAGE_SIZE)
        .backoff_config(BackoffConfig {
            deadline: Some(CALL_DEADLINE),
            ..BackoffConfig::default()
        });
    if let KafkaAuth::MutualTls(certificate) = auth {
        let roots = trusted_roots().ok_or(PartitionError::Broker("NoTrustedRoots"))?;
        let config = certificate
            .config(roots)
            .map_err(|_| PartitionError::Broker("ClientCertificateRefused"))?;
        builder = builder.tls_config(config);
    } else if auth.uses_tls() {
        builder = builder.tls_config(tls_config().ok_or(PartitionError::Broker("NoTrustedRoots"))?);
    }
    builder = match auth.clone() {
        KafkaAuth::Plaintext | KafkaAuth::Tls | KafkaAuth::MutualTls(_) => builder,
        KafkaAuth::Plain {
            username, password, ..
        } => builder.sasl_config(SaslConfig::Plain(Credentials::new(username, password))),
        KafkaAuth::ScramSha512 {
            username, password, ..
        } => builder.sasl_config(SaslConfig::ScramSha512(Credentials::new(
            username, password,
        ))),
        KafkaAuth::MskIam {
            region,
            credentials,
        } => builder.sasl_config(SaslConfig::Oauthbearer(msk_iam::oauth_bearer(
            region,
            credentials,
        ))),
    };
    builder.build().await.map_err(|error| classify(&error))
}

/// The TLS client settings, made once a process: the system's trusted roots
/// (`SSL_CERT_FILE` or `SSL_CERT_DIR` where set), which on Lambda's
/// `provided.al2023` include the Amazon roots MSK's certificates chain to.
/// `None` when the system trusts no root at all: no connection could be
/// verified, and none is made unverified.
fn tls_config() -> Option<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<Option<Arc<rustls::ClientConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .ok()?
                .with_root_certificates(trusted_roots()?)
                .with_no_client_auth();
            Some(Arc::new(config))
        })
        .clone()
}

/// The system's trusted roots, loaded once a process; `None` when there are none.
fn trusted_roots() -> Option<Arc<rustls::RootCertStore>> {
    static ROOTS: OnceLock<Option<Arc<rustls::RootCertStore>>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            // Unreadable or malformed certificates are skipped, as every TLS stack does.
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            (added > 0).then(|| Arc::new(roots))
        })
        .clone()
}

/// The topic-partitions the cluster has, listed without naming any topic:
/// a metadata request that names a topic creates it on a cluster with
/// `auto.create.topics.enable` (rskafka asks with creation allowed), and a
/// read must never create the topic it finds gone.
pub async fn existing_partitions(
    client: &Client,
) -> Result<std::collections::BTreeSet<(String, i32)>, PartitionError> {
    let topics = client
        .list_topics()
        .await
        .map_err(|error| classify(&error))?;
    Ok(topics
        .into_iter()
        .flat_map(|topic| {
            let name = topic.name;
            topic.partitions.into_iter().map(move |p| (name.clone(), p))
        })
        .collect())
}

/// One topic-partition of a connected cluster.
pub struct BrokerPartition {
    client: PartitionClient,
}

impl BrokerPartition {
    pub async fn open(
        client: &Client,
        topic: &str,
        partition: i32,
    ) -> Result<Self, PartitionError> {
        // `Error` rather than `Retry`: a deleted topic must end the read, not stall it.
        let client = client
            .partition_client(topic, partition, UnknownTopicHandling::Error)
            .await
            .map_err(|error| classify(&error))?;
        Ok(Self { client })
    }
}

impl KafkaPartition for BrokerPartition {
    async fn watermarks(&self) -> Result<(i64, i64), PartitionError> {
        let start = self.client.get_offset(OffsetAt::Earliest).await;
        let start = start.map_err(|error| classify(&error))?;
        let high = self.client.get_offset(OffsetAt::Latest).await;
        Ok((start, high.map_err(|error| classify(&error))?))
    }

    async fn fetch(&self, offset: i64, max_bytes: i32) -> Result<Vec<KafkaRecord>, PartitionError> {
        let (batches, _high_watermark) = self
            .client
            .fetch_record_batches(offset, 1..max_bytes.max(2), 500)
            .await
            .map_err(|error| classify(&error))?;
        records_of(batches, offset)
    }
}

/// The records of fetched batches from `offset` on, as Kafka's consumer
/// gives them to Lambda: transaction markers (control batches) skipped,
/// headers in their order with every repeat of a name, and for a batch of
/// log-append time the batch's time on each of its records. rskafka's own
/// `fetch_records` keeps headers in a map and drops the timestamp type,
/// hence its patched `fetch_record_batches` (vendor/rskafka/PATCHED.md).
fn records_of(batches: Vec<RecordBatch>, offset: i64) -> Result<Vec<KafkaRecord>, PartitionError> {
    // A broker's numbers that overflow are a broken answer, not a record.
    let invalid = || PartitionError::Broker("InvalidResponse");
    let mut records = Vec::new();
    for batch in batches {
        let ControlBatchOrRecords::Records(batch_records) = batch.records else {
            continue;
        };
        let timestamp_type = match batch.timestamp_type {
            RecordBatchTimestampType::CreateTime => TimestampType::CreateTime,
            RecordBatchTimestampType::LogAppendTime => TimestampType::LogAppendTime,
        };
        for record in batch_records {
            let record_offset = (batch.base_offset)
                .checked_add(i64::from(record.offset_delta))
                .ok_or_else(invalid)?;
            // A broker answers with whole batches: the first may start earlier.
            if record_offset < offset {
                continue;
            }
            let timestamp_ms = match timestamp_type {
                TimestampType::CreateTime => (batch.first_timestamp)
                    .checked_add(record.timestamp_delta)
                    .ok_or_else(invalid)?,
                TimestampType::LogAppendTime => batch.max_timestamp,
            };
            records.push(KafkaRecord {
                offset: record_offset,
                timestamp_ms,
                timestamp_type,
                key: record.key,
                value: record.value,
                headers: (record.headers.into_iter())
                    .map(|header| (header.key, header.value))
                    .collect(),
            });
        }
    }
    Ok(records)
}

/// The class of a client error. Its text is never kept: it quotes requests,
/// responses and broker addresses.
fn classify(error: &ClientError) -> PartitionError {
    match error {
        ClientError::ServerError { protocol_error, .. } => match protocol_error {
            ProtocolError::UnknownTopicOrPartition => PartitionError::Gone,
            ProtocolError::OffsetOutOfRange => PartitionError::OutOfRange,
            ProtocolError::TopicAuthorizationFailed
            | ProtocolError::ClusterAuthorizationFailed
            | ProtocolError::SaslAuthenticationFailed => PartitionError::Broker("AccessDenied"),
            _ => PartitionError::Broker("ServerError"),
        },
        // The broker refused the login (vendor/rskafka/PATCHED.md, 3.); not
        // the connection failing under the exchange.
        ClientError::Connection(ConnectionError::SaslFailed(sasl))
            if !matches!(sasl, SaslError::RequestError(_)) =>
        {
            PartitionError::Broker("AccessDenied")
        }
        ClientError::Connection(_) => PartitionError::Broker("Connection"),
        ClientError::Request(_) => PartitionError::Broker("Request"),
        // rskafka says a partition the topic's metadata does not list only in
        // words: its own fixed words are matched, never kept or logged.
        ClientError::InvalidResponse(text)
            if text.starts_with("Could not find metadata for partition") =>
        {
            PartitionError::Gone
        }
        ClientError::InvalidResponse(_) => PartitionError::Broker("InvalidResponse"),
        ClientError::RetryFailed(_) => PartitionError::Broker("RetriesExhausted"),
        ClientError::Timeout => PartitionError::Broker("Timeout"),
        _ => PartitionError::Broker("Other"),
    }
}

#[cfg(test)]
mod tests;
