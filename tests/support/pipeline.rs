//! The whole failure path on one machine, as Lambda runs it in AWS:
//!
//! ```text
//! Kinesis stream ─▶ event source mapping ─▶ orders-consumer      (fails on some records)
//!   (kinesis-mock)    retries, bisects         │
//!                     the failing batch        ▼ on-failure record
//!                                          SNS topic ─▶ SQS queue ─▶ hydrate ─▶ DLQ
//!                                           (moto)      (moto)     (SQS trigger) (moto)
//! ```
//!
//! Both functions are the real binaries, run through the Lambda runtime
//! interface ([`RuntimeApi`]). [`EventSourceMapping`] plays the Lambda
//! poller: it reads the shard in batches, invokes the consumer, retries a
//! failing batch, splits it in two (`BisectBatchOnFunctionError`) until the
//! failing records stand alone, and publishes their on-failure records to
//! the topic. [`QueueTrigger`] plays Lambda's SQS poller for the hydrator.

use std::path::Path;
use std::time::{Duration, SystemTime};

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use crate::emulator::{kinesis_client, kinesis_endpoint, moto_endpoint, sdk_config};
use crate::queue::{create_queue, sqs_client};
use crate::runtime_api::{workspace_binary, FunctionProcess, Outcome, RuntimeApi};
use crate::stream::{unique_suffix, TestStream, Written};

pub const CONSUMER_NAME: &str = "orders-consumer";
const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Orders for the demo stream: all in EUR but those at `chf` (0-based), in CHF.
pub fn orders(count: usize, chf: &[usize]) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let currency = if chf.contains(&i) { "CHF" } else { "EUR" };
            format!(
                "{{\"orderId\":\"ord-{:04}\",\"amount\":{}.{:02},\"currency\":\"{currency}\"}}",
                i + 1,
                (i + 1) * 3,
                (i * 7) % 100
            )
            .into_bytes()
        })
        .collect()
}

/// Lambda's knobs for a stream event source mapping, the ones that matter here.
#[derive(Debug, Clone, Copy)]
pub struct EventSourceMapping {
    pub batch_size: usize,
    pub maximum_retry_attempts: u32,
    pub bisect_batch_on_function_error: bool,
}

impl EventSourceMapping {
    /// The demo's and the test's: batches of 10, two retries, bisection on error.
    pub const PIPELINE: EventSourceMapping = EventSourceMapping {
        batch_size: 10,
        maximum_retry_attempts: 2,
        bisect_batch_on_function_error: true,
    };
}

/// What the mapping did.
#[derive(Debug, Default)]
pub struct MappingRun {
    pub records_read: usize,
    pub invocations: usize,
    pub consumed: usize,
    /// The on-failure records it published, in order.
    pub on_failure_records: Vec<Value>,
}

/// The functions and resources of one pipeline, torn down on drop.
pub struct Pipeline {
    pub stream: TestStream,
    pub topic_arn: String,
    pub failures_queue_url: String,
    pub dlq_url: String,
    consumer_api: RuntimeApi,
    _consumer: FunctionProcess,
    hydrator_api: RuntimeApi,
    _hydrator: FunctionProcess,
}

impl Pipeline {
    /// The tool's arguments that list the dead-letter queue, leaving it as it is.
    pub fn dlq_list_args(&self) -> [&str; 6] {
        let url = self.dlq_url.as_str();
        ["dlq", "list", "--queue-url", url, "--wait-seconds", "1"]
    }

    /// A one-shard stream, the topic with its queue subscription, the DLQ,
    /// and both functions started; logs go to `log_dir`.
    pub async fn start(log_dir: &Path) -> Pipeline {
        std::fs::create_dir_all(log_dir).expect("log folder");
        let stream = TestStream::create(&kinesis_client(), "orders", 1).await;
        let sns = aws_sdk_sns::Client::new(&sdk_config());
        let topic_arn = sns
            .create_topic()
            .name(format!("stream-failures-{}", unique_suffix()))
            .send()
            .await
            .expect("create topic")
            .topic_arn
            .expect("topic ARN");
        let failures_queue_url = create_queue("stream-failures").await;
        let failures_queue_arn = queue_arn(&failures_queue_url).await;
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(failures_queue_arn)
            // As the template subscribes its on-failure queue: each body is the record.
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .expect("subscribe the queue to the topic");
        let dlq_url = create_queue("hydrator-dlq").await;

        let consumer_api = RuntimeApi::start().await;
        let consumer = FunctionProcess::spawn(
            &workspace_binary(CONSUMER_NAME),
            &consumer_api,
            &[
                ("AWS_LAMBDA_FUNCTION_NAME", CONSUMER_NAME.into()),
                ("ACCEPTED_CURRENCIES", "EUR".into()),
            ],
            &log_dir.join("orders-consumer.log"),
        );
        let hydrator_api = RuntimeApi::start().await;
        let hydrator = FunctionProcess::spawn(
            &workspace_binary("hydrate"),
            &hydrator_api,
            &[
                ("AWS_ENDPOINT_URL_KINESIS", kinesis_endpoint()),
                ("AWS_ENDPOINT_URL", moto_endpoint()),
                ("DLQ_QUEUE_URL", dlq_url.clone()),
                (
                    "INVOKE_IDENTITY_ARN",
                    "arn:aws:iam::000000000000:role/orders-consumer-role".into(),
                ),
            ],
            &log_dir.join("hydrate.log"),
        );
        Pipeline {
            stream,
            topic_arn,
            failures_queue_url,
            dlq_url,
            consumer_api,
            _consumer: consumer,
            hydrator_api,
            _hydrator: hydrator,
        }
    }

    /// Runs the event source mapping over everything in the shard.
    pub async fn consume(&self, mapping: EventSourceMapping) -> MappingRun {
        let shard_id = self.stream.shard_id(0).to_owned();
        let records = self.stream.read(0, None).await;
        let mut run = MappingRun {
            records_read: records.len(),
            ..MappingRun::default()
        };
        for batch in records.chunks(mapping.batch_size.max(1)) {
            self.process(mapping, &shard_id, batch, &mut run).await;
        }
        run
    }

    /// One batch: invoked, retried, then split or sent to the on-failure topic.
    async fn process(
        &self,
        mapping: EventSourceMapping,
        shard_id: &str,
        batch: &[Written],
        run: &mut MappingRun,
    ) {
        let event = self.kinesis_event(shard_id, batch);
        let mut attempts = 0;
        loop {
            attempts += 1;
            run.invocations += 1;
            let outcome = self
                .consumer_api
                .invoke(event.to_string().into_bytes(), INVOKE_TIMEOUT)
                .await;
            if matches!(outcome, Outcome::Response(_)) {
                run.consumed += batch.len();
                return;
            }
            if attempts > mapping.maximum_retry_attempts {
                break;
            }
        }
        if mapping.bisect_batch_on_function_error && batch.len() > 1 {
            let (first, second) = batch.split_at(batch.len() / 2);
            Box::pin(self.process(mapping, shard_id, first, run)).await;
            Box::pin(self.process(mapping, shard_id, second, run)).await;
            return;
        }
        let record = self.on_failure_record(shard_id, batch, attempts);
        aws_sdk_sns::Client::new(&sdk_config())
            .publish()
            .topic_arn(&self.topic_arn)
            .message(record.to_string())
            .send()
            .await
            .expect("publish the on-failure record");
        run.on_failure_records.push(record);
    }

    /// Plays Lambda's SQS poller for the hydrator until the failures queue
    /// is empty; returns the SQS events it invoked the hydrator with and
    /// what the hydrator answered.
    pub async fn hydrate_failures(&self) -> Vec<(Value, Value)> {
        let sqs = sqs_client();
        let mut invocations = Vec::new();
        let mut empty_receives = 0;
        while empty_receives < 2 {
            let output = sqs
                .receive_message()
                .queue_url(&self.failures_queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive from the failures queue");
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                empty_receives += 1;
                continue;
            }
            empty_receives = 0;
            let event = sqs_event(&messages);
            let answer = match self
                .hydrator_api
                .invoke(event.to_string().into_bytes(), INVOKE_TIMEOUT)
                .await
            {
                Outcome::Response(body) => serde_json::from_slice(&body).unwrap_or(Value::Null),
                Outcome::Error(body) => {
                    json!({"error": String::from_utf8_lossy(&body)})
                }
            };
            // As Lambda does with a partial batch response: delete what succeeded,
            // leave the rest to come back after the visibility timeout.
            let failed: Vec<&str> = answer["batchItemFailures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["itemIdentifier"].as_str())
                .collect();
            if answer.get("error").is_none() {
                for message in &messages {
                    if failed.contains(&message.message_id().unwrap_or_default()) {
                        continue;
                    }
                    sqs.delete_message()
                        .queue_url(&self.failures_queue_url)
                        .receipt_handle(message.receipt_handle().unwrap_or_default())
                        .send()
                        .await
                        .expect("delete a hydrated message");
                }
            }
            invocations.push((event, answer));
        }
        invocations
    }

    /// The event Lambda sends a Kinesis consumer for `batch`.
    fn kinesis_event(&self, shard_id: &str, batch: &[Written]) -> Value {
        let records: Vec<Value> = batch
            .iter()
            .map(|r| {
                json!({
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": r.partition_key,
                        "sequenceNumber": r.sequence_number,
                        "data": STANDARD.encode(&r.data),
                        "approximateArrivalTimestamp": epoch_seconds(SystemTime::now())
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": format!("{shard_id}:{}", r.sequence_number),
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": "arn:aws:iam::000000000000:role/orders-consumer-role",
                    "awsRegion": "us-east-1",
                    "eventSourceARN": self.stream.arn
                })
            })
            .collect();
        json!({ "Records": records })
    }

    /// The record Lambda sends to an on-failure destination when a batch
    /// has used up its retries.
    fn on_failure_record(&self, shard_id: &str, batch: &[Written], invokes: u32) -> Value {
        let now = timestamp(SystemTime::now());
        json!({
            "requestContext": {
                "requestId": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", fastrand::u32(..), fastrand::u16(..), fastrand::u16(..0x1000), fastrand::u16(..0x1000), fastrand::u64(..1 << 48)),
                "functionArn": format!("arn:aws:lambda:us-east-1:000000000000:function:{CONSUMER_NAME}"),
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invokes
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled"
            },
            "version": "1.0",
            "timestamp": now,
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": batch[0].sequence_number,
                "endSequenceNumber": batch[batch.len() - 1].sequence_number,
                "approximateArrivalOfFirstRecord": now,
                "approximateArrivalOfLastRecord": now,
                "batchSize": batch.len(),
                "streamArn": self.stream.arn
            }
        })
    }
}

/// The SQS event Lambda builds from received messages.
fn sqs_event(messages: &[aws_sdk_sqs::types::Message]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": { "ApproximateReceiveCount": "1" },
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:stream-failures",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The ARN of the queue at `queue_url`, for a subscription.
pub async fn queue_arn(queue_url: &str) -> String {
    sqs_client()
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("queue ARN")
}

fn timestamp(time: SystemTime) -> String {
    DateTime::from(time)
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

fn epoch_seconds(time: SystemTime) -> f64 {
    let millis = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    millis as f64 / 1000.0
}
