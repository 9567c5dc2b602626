//! Settings read once from the environment at start.

use crate::aws::backoff::Backoff;
use crate::deliver::Offload;
use crate::kinds::kafka::read::KafkaLimits;
use crate::observe::metrics::MetricsSettings;
use crate::read::ReadLimits;

/// SQS's message size limit unless the operator says the queue's is lower.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_048_576;

/// What the operator can configure.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `invokeIdentityArn` of every hydrated record: the failing consumer's
    /// execution role, which Lambda puts there. When unset, the consumer's own
    /// ARN from the failure record stands in (see docs/document.md).
    pub invoke_identity_arn: Option<String>,
    pub read_limits: ReadLimits,
    /// Where documents go when the function sends them itself; required when
    /// the function is triggered by SQS, whose invocations return no payload.
    pub dlq_queue_url: Option<String>,
    /// The largest message the dead-letter queue accepts.
    pub max_message_bytes: usize,
    /// Failure records of one invocation hydrated at the same time.
    pub max_concurrency: usize,
    /// A Firehose delivery stream that also receives every document.
    pub archive_firehose_stream: Option<String>,
    /// The most a returned document may take, with the request, in an
    /// OnSuccess destination record.
    pub response_max_bytes: usize,
    /// Retries of `SendMessageBatch` and `PutRecordBatch` entries that failed.
    pub delivery_backoff: Backoff,
    /// The largest S3 on-failure object read; a larger one is refused unread.
    pub s3_object_max_bytes: usize,
    /// Where a message body too large for the queue goes, if anywhere.
    pub offload: Option<Offload>,
    /// The embedded-metric-format line written for each document.
    pub metrics: MetricsSettings,
    /// `GetRecords` calls a second a shard, at most, in this process.
    pub reads_per_shard_per_second: u32,
    /// The idempotency table (DynamoDB), if any: SQS-triggered failures are then delivered once.
    pub idempotency_table: Option<String>,
    /// How long a failure stays in progress in the table: a bit past the function's timeout.
    pub in_progress_seconds: u64,
    /// Which Kafka clusters the function may connect to, and how.
    pub kafka: KafkaSettings,
}

/// Kafka: a failure record names the cluster it came from, so the function
/// connects only where these allow, whatever a record says.
#[derive(Debug, Clone, Default)]
pub struct KafkaSettings {
    /// `KAFKA_BOOTSTRAP_ALLOWLIST`: every `host:port` the function may
    /// connect to, compared without regard to case. A failure is read only
    /// when each server it names is here; with none, no Kafka failure is read.
    pub bootstrap_allowlist: Vec<String>,
    /// `KAFKA_CLUSTER_ARNS`: the MSK clusters whose failures are read; a
    /// failure naming another MSK cluster is refused before any connection.
    pub cluster_arns: Vec<String>,
    /// `KAFKA_AUTH`: how the function authenticates to the clusters.
    pub auth: KafkaAuthMode,
    /// `KAFKA_SCRAM_SECRET_ARN`: the Secrets Manager secret holding the
    /// SCRAM user name and password, for `KAFKA_AUTH=scram-sha-512`.
    pub scram_secret_arn: Option<String>,
    /// `KAFKA_CLIENT_CERTIFICATE_SECRET_ARN`: the Secrets Manager secret
    /// holding the client certificate and key, for `KAFKA_AUTH=mtls`.
    pub client_certificate_secret_arn: Option<String>,
    /// How much one partition's read may fetch and hold.
    pub limits: KafkaLimits,
}

/// `KAFKA_AUTH`'s values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KafkaAuthMode {
    /// `none`: plaintext, as a self-managed cluster with no authentication.
    #[default]
    None,
    /// `iam`: MSK IAM, SASL/OAUTHBEARER over TLS, each connection's token
    /// signed with the function's role for the region of the cluster's ARN.
    Iam,
    /// `scram-sha-512`: SASL/SCRAM over TLS, the user from the secret
    /// `KAFKA_SCRAM_SECRET_ARN`.
    ScramSha512,
    /// `tls`: TLS with the system's trusted roots and no SASL.
    Tls,
    /// `mtls`: TLS with the client certificate of the secret
    /// `KAFKA_CLIENT_CERTIFICATE_SECRET_ARN` (mutual TLS), no SASL.
    MutualTls,
}

impl KafkaAuthMode {
    pub fn name(self) -> &'static str {
        match self {
            KafkaAuthMode::None => "none",
            KafkaAuthMode::Iam => "iam",
            KafkaAuthMode::ScramSha512 => "scram-sha-512",
            KafkaAuthMode::Tls => "tls",
            KafkaAuthMode::MutualTls => "mtls",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::None,
            Self::Iam,
            Self::ScramSha512,
            Self::Tls,
            Self::MutualTls,
        ]
        .into_iter()
        .find(|mode| mode.name() == text.trim().to_ascii_lowercase())
    }
}

/// An S3 on-failure object holds the record and the invocation payload
/// (at most 6 MB); with the envelope and escaping, 7 MiB is ample.
pub const DEFAULT_S3_OBJECT_MAX_BYTES: usize = 7 * 1024 * 1024;

impl Default for Settings {
    fn default() -> Self {
        Self {
            invoke_identity_arn: None,
            read_limits: ReadLimits::default(),
            dlq_queue_url: None,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_concurrency: 4,
            archive_firehose_stream: None,
            response_max_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            delivery_backoff: Backoff::default(),
            s3_object_max_bytes: DEFAULT_S3_OBJECT_MAX_BYTES,
            offload: None,
            // Off unless read from the environment: the tool and the tests
            // drive the library, and their standard output is not a log.
            metrics: MetricsSettings {
                enabled: false,
                ..MetricsSettings::default()
            },
            reads_per_shard_per_second: crate::read::coalesce::DEFAULT_READS_PER_SHARD_PER_SECOND,
            idempotency_table: None,
            // Lambda's longest timeout, and a minute.
            in_progress_seconds: 960,
            kafka: KafkaSettings::default(),
        }
    }
}

impl Settings {
    /// `INVOKE_IDENTITY_ARN`, `MAX_EMPTY_PAGES`, `MAX_GET_RECORDS_CALLS`,
    /// `READ_MAX_BYTES`, `DLQ_QUEUE_URL`, `DLQ_MAX_MESSAGE_BYTES`,
    /// `MAX_CONCURRENT_HYDRATIONS`, `ARCHIVE_FIREHOSE_STREAM`,
    /// `RESPONSE_MAX_BYTES`, `S3_OBJECT_MAX_BYTES`, `OFFLOAD_BUCKET`,
    /// `OFFLOAD_PREFIX`, `OFFLOAD_KMS_KEY_ID`, `READS_PER_SHARD_PER_SECOND`,
    /// `IDEMPOTENCY_TABLE`, `IDEMPOTENCY_IN_PROGRESS_SECONDS`,
    /// `KAFKA_BOOTSTRAP_ALLOWLIST`, `KAFKA_CLUSTER_ARNS`, `KAFKA_AUTH`,
    /// `KAFKA_SCRAM_SECRET_ARN` ([`KafkaSettings`]), and the `METRICS_*`
    /// variables ([`MetricsSettings::from_env`]);
    /// a malformed number is a start-up error rather than a silent default.
    pub fn from_env() -> Result<Self, String> {
        let defaults = Settings::default();
        Ok(Self {
            invoke_identity_arn: text("INVOKE_IDENTITY_ARN"),
            read_limits: ReadLimits {
                max_empty_pages: number("MAX_EMPTY_PAGES", defaults.read_limits.max_empty_pages)?,
                max_calls: number("MAX_GET_RECORDS_CALLS", defaults.read_limits.max_calls)?,
                max_bytes: number("READ_MAX_BYTES", defaults.read_limits.max_bytes)?,
                retry: defaults.read_limits.retry,
            },
            dlq_queue_url: text("DLQ_QUEUE_URL"),
            max_message_bytes: number("DLQ_MAX_MESSAGE_BYTES", defaults.max_message_bytes)?,
            max_concurrency: number("MAX_CONCURRENT_HYDRATIONS", defaults.max_concurrency)?,
            archive_firehose_stream: text("ARCHIVE_FIREHOSE_STREAM"),
            response_max_bytes: number("RESPONSE_MAX_BYTES", defaults.response_max_bytes)?,
            delivery_backoff: defaults.delivery_backoff,
            s3_object_max_bytes: number("S3_OBJECT_MAX_BYTES", defaults.s3_object_max_bytes)?,
            offload: text("OFFLOAD_BUCKET").map(|bucket| Offload {
                bucket,
                prefix: text("OFFLOAD_PREFIX").unwrap_or_else(|| Offload::DEFAULT_PREFIX.into()),
                kms_key_id: text("OFFLOAD_KMS_KEY_ID"),
            }),
            metrics: MetricsSettings::from_env()?,
            reads_per_shard_per_second: number(
                "READS_PER_SHARD_PER_SECOND",
                defaults.reads_per_shard_per_second,
            )?,
            idempotency_table: text("IDEMPOTENCY_TABLE"),
            in_progress_seconds: number(
                "IDEMPOTENCY_IN_PROGRESS_SECONDS",
                defaults.in_progress_seconds,
            )?,
            kafka: KafkaSettings::from_env()?,
        })
    }
}

impl KafkaSettings {
    /// The `KAFKA_*` variables; an unknown `KAFKA_AUTH` is a start-up error.
    pub fn from_env() -> Result<Self, String> {
        let auth = match text("KAFKA_AUTH") {
            None => KafkaAuthMode::None,
            Some(value) => KafkaAuthMode::parse(&value).ok_or_else(|| {
                format!("KAFKA_AUTH must be none, iam, scram-sha-512, tls or mtls, not `{value}`")
            })?,
        };
        Ok(Self {
            bootstrap_allowlist: list("KAFKA_BOOTSTRAP_ALLOWLIST"),
            cluster_arns: list("KAFKA_CLUSTER_ARNS"),
            auth,
            scram_secret_arn: text("KAFKA_SCRAM_SECRET_ARN"),
            client_certificate_secret_arn: text("KAFKA_CLIENT_CERTIFICATE_SECRET_ARN"),
            limits: KafkaLimits::default(),
        })
    }
}

/// A comma-separated list, each item trimmed, empty items left out.
fn list(name: &str) -> Vec<String> {
    text(name)
        .map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn text(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn number<N>(name: &str, default: N) -> Result<N, String>
where
    N: std::str::FromStr + PartialOrd + From<u8>,
{
    match std::env::var(name) {
        Ok(v) => v
            .parse::<N>()
            .ok()
            .filter(|n| *n > N::from(0))
            .ok_or_else(|| format!("{name} must be a positive whole number, not `{v}`")),
        Err(_) => Ok(default),
    }
}
