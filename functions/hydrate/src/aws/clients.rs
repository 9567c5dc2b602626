//! AWS clients, one per service and region, made on first use and kept for
//! the life of the execution environment.
//!
//! Streams and buckets are reached in their own region, from their ARN or
//! event: one hydrator may serve several regions, and a client made for the
//! function's own region would look in the wrong one. The dead-letter queue
//! and the archive are reached in the function's region.
//!
//! Stream clients make one attempt a call: the range reader retries, on its
//! own schedule and within the invocation's deadline, and knows what an
//! expired iterator or a vanished shard means for the read.
//!
//! [`Clients`] is the real implementation of [`crate::aws`]'s traits.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{Region, SdkConfig};
use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchOutput;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_smithy_types::byte_stream::ByteStream;
use aws_types::service_config::ServiceConfigKey;
use bytes::Bytes;

use crate::aws::batch_send::CallFailure;
use crate::aws::{
    DeliveryStream, MessageBodies, ObjectBody, ObjectStore, ObjectWriter, Queue, Secrets,
};

pub struct Clients {
    sdk: SdkConfig,
    kinesis: Mutex<HashMap<String, aws_sdk_kinesis::Client>>,
    dynamodb_streams: Mutex<HashMap<String, aws_sdk_dynamodbstreams::Client>>,
    s3: Mutex<HashMap<String, aws_sdk_s3::Client>>,
    // Made on first use: most deployments use one or neither, and every
    // client made at start-up lengthens the cold start.
    sqs: OnceLock<aws_sdk_sqs::Client>,
    firehose: OnceLock<aws_sdk_firehose::Client>,
    dynamodb: OnceLock<aws_sdk_dynamodb::Client>,
    secrets: Mutex<HashMap<String, aws_sdk_secretsmanager::Client>>,
}

impl Clients {
    pub fn new(sdk: SdkConfig) -> Self {
        Self {
            sqs: OnceLock::new(),
            firehose: OnceLock::new(),
            dynamodb: OnceLock::new(),
            sdk,
            kinesis: Mutex::default(),
            dynamodb_streams: Mutex::default(),
            s3: Mutex::default(),
            secrets: Mutex::default(),
        }
    }

    /// The idempotency table's client, in the function's own region.
    pub fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        self.dynamodb
            .get_or_init(|| aws_sdk_dynamodb::Client::new(&self.sdk))
    }

    pub fn kinesis(&self, region: &str) -> aws_sdk_kinesis::Client {
        cached(&self.kinesis, region, || {
            let config = aws_sdk_kinesis::config::Builder::from(&self.sdk)
                .region(Region::new(region.to_owned()))
                .retry_config(RetryConfig::disabled())
                .timeout_config(stream_call_timeouts())
                .build();
            aws_sdk_kinesis::Client::from_conf(config)
        })
    }

    pub fn dynamodb_streams(&self, region: &str) -> aws_sdk_dynamodbstreams::Client {
        cached(&self.dynamodb_streams, region, || {
            let config = aws_sdk_dynamodbstreams::config::Builder::from(&self.sdk)
                .region(Region::new(region.to_owned()))
                .retry_config(RetryConfig::disabled())
                .timeout_config(stream_call_timeouts())
                .build();
            aws_sdk_dynamodbstreams::Client::from_conf(config)
        })
    }

    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        cached(&self.s3, region, || {
            let config = aws_sdk_s3::config::Builder::from(&self.sdk)
                .region(Region::new(region.to_owned()))
                // Emulators and custom endpoints serve buckets by path.
                .force_path_style(has_custom_s3_endpoint(&self.sdk))
                .build();
            aws_sdk_s3::Client::from_conf(config)
        })
    }

    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        self.sqs.get_or_init(|| aws_sdk_sqs::Client::new(&self.sdk))
    }

    pub fn firehose(&self) -> &aws_sdk_firehose::Client {
        self.firehose
            .get_or_init(|| aws_sdk_firehose::Client::new(&self.sdk))
    }
}

impl Queue for Clients {
    async fn send_message_batch(
        &self,
        queue_url: &str,
        entries: Vec<SendMessageBatchRequestEntry>,
        bodies: MessageBodies,
    ) -> Result<SendMessageBatchOutput, CallFailure> {
        self.sqs()
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .customize()
            .interceptor(bodies)
            .send()
            .await
            .map_err(|e| CallFailure::of(&e))
    }
}

impl DeliveryStream for Clients {
    async fn put_record_batch(
        &self,
        stream_name: &str,
        records: Vec<aws_sdk_firehose::types::Record>,
    ) -> Result<PutRecordBatchOutput, CallFailure> {
        self.firehose()
            .put_record_batch()
            .delivery_stream_name(stream_name)
            .set_records(Some(records))
            .send()
            .await
            .map_err(|e| CallFailure::of(&e))
    }
}

impl ObjectStore for Clients {
    type Body = ByteStream;

    async fn get_object(
        &self,
        region: &str,
        bucket: &str,
        key: &str,
    ) -> Result<(Option<u64>, ByteStream), String> {
        let fetched = self
            .s3(region)
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| crate::aws::error::classify(&e).1)?;
        let declared = fetched.content_length.and_then(|n| u64::try_from(n).ok());
        Ok((declared, fetched.body))
    }
}

impl ObjectWriter for Clients {
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        kms_key_id: Option<&str>,
    ) -> Result<(), CallFailure> {
        use aws_sdk_s3::types::ServerSideEncryption;
        // The offload bucket is the function's own, in its region.
        let region = self.sdk.region().map_or("us-east-1", |r| r.as_ref());
        let request = self.s3(region).put_object().bucket(bucket).key(key);
        let request = match kms_key_id {
            Some(kms_key_id) => request
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(kms_key_id),
            None => request.server_side_encryption(ServerSideEncryption::Aes256),
        };
        request
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CallFailure::of(&e))
    }
}

impl Secrets for Clients {
    async fn secret_string(&self, arn: &str) -> Result<String, CallFailure> {
        // `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`: read where it lives.
        let own = self.sdk.region().map_or("us-east-1", |r| r.as_ref());
        let region = arn
            .split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
            .unwrap_or(own);
        let client = cached(&self.secrets, region, || {
            let config = aws_sdk_secretsmanager::config::Builder::from(&self.sdk)
                .region(Region::new(region.to_owned()))
                .build();
            aws_sdk_secretsmanager::Client::from_conf(config)
        });
        let answer = client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| CallFailure::of(&e))?;
        answer.secret_string.ok_or_else(|| CallFailure {
            class: crate::aws::error::ErrorClass::Permanent,
            code: None,
            message: "the secret holds binary, not text".to_owned(),
        })
    }
}

impl ObjectBody for ByteStream {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, String> {
        self.try_next().await.map_err(|e| e.to_string())
    }
}

/// Whether S3 is reached at an endpoint of its own (an emulator, locally),
/// which cannot serve virtual-hosted bucket names. Looked up the way the SDK
/// looks it up: the service's endpoint setting, then the general one.
fn has_custom_s3_endpoint(sdk: &SdkConfig) -> bool {
    let key = ServiceConfigKey::builder()
        .service_id("S3")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build();
    let from_service_config = match (sdk.service_config(), key) {
        (Some(config), Ok(key)) => config.load_config(key).is_some(),
        _ => false,
    };
    from_service_config || sdk.endpoint_url().is_some()
}

/// A stream call that hangs is cut off and retried like any failed call,
/// rather than left to run into the invocation's deadline.
fn stream_call_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .build()
}

/// Clients kept per service. Regions are checked against the partitions'
/// lists before they get here, so this is only a second bound: past it, a
/// client is made for the call and not kept.
const MAX_CACHED_REGIONS: usize = 16;

fn cached<C: Clone>(
    clients: &Mutex<HashMap<String, C>>,
    region: &str,
    make: impl FnOnce() -> C,
) -> C {
    // A poisoned lock only means another invocation panicked mid-insert; the
    // map itself is still sound.
    let mut clients = clients.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(client) = clients.get(region) {
        return client.clone();
    }
    let client = make();
    if clients.len() < MAX_CACHED_REGIONS {
        clients.insert(region.to_owned(), client.clone());
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_at_most_its_bound() {
        let cache = Mutex::new(HashMap::new());
        let mut made = 0;
        for round in 0..2 {
            for i in 0..40 {
                let client = cached(&cache, &format!("r-{i}"), || {
                    made += 1;
                    i
                });
                assert_eq!(client, i, "round {round}");
            }
        }
        assert_eq!(cache.lock().unwrap().len(), MAX_CACHED_REGIONS);
        // The first 16 were made once; the other 24 each round.
        assert_eq!(made, MAX_CACHED_REGIONS + 2 * (40 - MAX_CACHED_REGIONS));
    }
}
