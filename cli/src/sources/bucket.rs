//! The S3 on-failure destination as a dead-letter queue: `s3://bucket/prefix`
//! in place of a queue. Each object Lambda wrote (one a failed batch, under
//! `aws/lambda/<mapping>/<shard>/...`) is a failure that needs no read: the
//! batch is inside it, under `payload` (an escaped JSON string, or an object
//! as some emulators write it). It becomes a document of origin
//! `s3-payload`, so every command shows, saves and counts it as one the
//! hydrator delivered. An object is deleted only when asked, after its files
//! were written; nothing is ever hidden, so nothing needs releasing.

use std::collections::HashSet;

use anyhow::Context;
use hydrate::ObjectReader;
use serde_json::{json, Map, Value};

use std::path::PathBuf;

use super::assemble::{Assembled, Failure, Message};
use super::document::batch_info;
use super::saved::{self, SavedEvent};
use crate::args::FilterArgs;

/// The largest object read: a 6 MB batch, escaped twice, with room to spare.
const MAX_OBJECT_BYTES: usize = 32 * 1024 * 1024;

/// `s3://bucket/prefix`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    pub prefix: String,
}

impl Location {
    pub fn parse(text: &str) -> Option<Location> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| Location {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    // Emulators and custom endpoints serve buckets by path.
    let custom_endpoint = std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
        || std::env::var_os("AWS_ENDPOINT_URL").is_some()
        || sdk.endpoint_url().is_some();
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(custom_endpoint)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Every object under the location (at most `max`), as messages whose id
/// and receipt are the key.
pub async fn receive_all(
    sdk: &aws_config::SdkConfig,
    objects: &ObjectReader,
    location: &Location,
    max: Option<usize>,
) -> anyhow::Result<Vec<Message>> {
    let client = s3_client(sdk);
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(&location.bucket)
            .prefix(&location.prefix)
            .set_continuation_token(token)
            .send()
            .await
            .with_context(|| format!("cannot list s3://{}/{}", location.bucket, location.prefix))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() || max.is_some_and(|max| keys.len() >= max) {
            break;
        }
    }
    keys.truncate(max.unwrap_or(usize::MAX));
    let mut messages = Vec::new();
    for key in keys {
        let bytes = objects
            .read(&location.bucket, &key, MAX_OBJECT_BYTES)
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot read an object under s3://{}: {e}", location.bucket)
            })?;
        messages.push(Message {
            message_id: key.clone(),
            receipt_handle: key,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        });
    }
    Ok(messages)
}

/// Each object a failure, or unrecognized when it is not an on-failure object.
pub fn assemble(messages: Vec<Message>) -> Assembled {
    let mut assembled = Assembled::default();
    for message in messages {
        match document_of(&message.body) {
            Some(document) => assembled.failures.push(Failure {
                document,
                messages: vec![message],
                parts: 1,
            }),
            None => assembled.unrecognized.push(message),
        }
    }
    assembled
}

/// The document the hydrator would deliver for this object: a stream's
/// batch as its `Records`, a Kafka batch (the Kafka event) as its `event`.
fn document_of(body: &str) -> Option<Value> {
    let Value::Object(mut failure) = serde_json::from_str::<Value>(body).ok()? else {
        return None;
    };
    let payload = failure.remove("payload")?;
    let payload = match payload {
        Value::String(text) => serde_json::from_str::<Value>(&text).ok()?,
        other => other,
    };
    let failure = Value::Object(failure);
    let batch = batch_info(&failure)?;
    let (source, records, batch_field) = if failure.get("KafkaBatchInfo").is_some() {
        let source = payload.get("eventSource")?.as_str()?.to_owned();
        let count: usize = payload
            .get("records")?
            .as_object()?
            .values()
            .filter_map(Value::as_array)
            .map(Vec::len)
            .sum();
        (source, count, ("event", payload))
    } else {
        let records = payload.get("Records")?.as_array()?.clone();
        let source = if failure.get("DDBStreamBatchInfo").is_some() {
            "aws:dynamodb"
        } else {
            "aws:kinesis"
        };
        (
            source.to_owned(),
            records.len(),
            ("Records", Value::Array(records)),
        )
    };
    let expected = batch["batchSize"].as_u64().unwrap_or(records as u64);
    let status = if records as u64 == expected {
        "complete"
    } else {
        "partial"
    };
    let mut document = Map::new();
    document.insert("version".into(), json!("1"));
    document.insert("source".into(), json!(source));
    document.insert("failure".into(), failure.clone());
    document.insert(
        "hydration".into(),
        json!({
            "status": status,
            "origin": "s3-payload",
            "expectedRecords": expected,
            "hydratedRecords": records,
            "missing": [],
        }),
    );
    document.insert(batch_field.0.into(), batch_field.1);
    Some(Value::Object(document))
}

/// The saved events `replay` and `redrive` take: from `s3://BUCKET/PREFIX`,
/// each object's batch (named by its key); otherwise the file or folder on
/// disk. Returns them with the files or keys the filters left out.
pub async fn load_events(
    sdk: &aws_config::SdkConfig,
    path: &std::path::Path,
    filter: &FilterArgs,
) -> anyhow::Result<(Vec<SavedEvent>, Vec<PathBuf>)> {
    let Some(location) = path.to_str().and_then(Location::parse) else {
        let mut events = saved::load_all(path)?;
        let left_out = filter.retain_saved(&mut events);
        return Ok((events, left_out));
    };
    let objects = ObjectReader::new(sdk);
    let messages = receive_all(sdk, &objects, &location, None).await?;
    let mut events = Vec::new();
    let mut left_out = Vec::new();
    for message in messages {
        let key = PathBuf::from(format!("s3://{}/{}", location.bucket, message.message_id));
        match document_of(&message.body) {
            Some(document) if filter.matches(&document) => {
                events.push(saved::from_value(&key, document)?);
            }
            Some(_) => left_out.push(key),
            None => anyhow::bail!("{} is not an on-failure object", key.display()),
        }
    }
    Ok((events, left_out))
}

/// Every on-failure object under the location, each as `s3://bucket/key`
/// and its document, in key order; an object that is not one is an error
/// that names its key.
pub async fn documents(
    sdk: &aws_config::SdkConfig,
    location: &Location,
) -> anyhow::Result<Vec<(String, Value)>> {
    let objects = ObjectReader::new(sdk);
    let mut messages = receive_all(sdk, &objects, location, None).await?;
    messages.sort_by(|a, b| a.message_id.cmp(&b.message_id));
    messages
        .into_iter()
        .map(|message| {
            let name = format!("s3://{}/{}", location.bucket, message.message_id);
            match document_of(&message.body) {
                Some(document) => Ok((name, document)),
                None => anyhow::bail!("{name} is not an on-failure object"),
            }
        })
        .collect()
}

/// Deletes the objects of `messages`; the keys not deleted.
pub async fn delete(objects: &ObjectReader, bucket: &str, messages: &[Message]) -> HashSet<String> {
    let mut failed = HashSet::new();
    for message in messages {
        if objects.delete(bucket, &message.message_id).await.is_err() {
            failed.insert(message.message_id.clone());
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_bucket_and_prefix() {
        assert_eq!(
            Location::parse("s3://failures/aws/lambda/"),
            Some(Location {
                bucket: "failures".into(),
                prefix: "aws/lambda/".into()
            })
        );
        assert_eq!(
            Location::parse("s3://failures"),
            Some(Location {
                bucket: "failures".into(),
                prefix: String::new()
            })
        );
        assert_eq!(Location::parse("s3:///x"), None);
        assert_eq!(Location::parse("https://sqs/q"), None);
    }

    #[test]
    fn an_object_with_its_payload_escaped_or_not_is_a_whole_document() {
        let record = r#"{"eventSource":"aws:kinesis","kinesis":{"sequenceNumber":"1"}}"#;
        let event = format!(r#"{{"Records":[{record}]}}"#);
        let info = r#""KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"1","endSequenceNumber":"1","batchSize":1,"streamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/orders"}"#;
        for payload in [serde_json::to_string(&event).unwrap(), event.clone()] {
            let body = format!(
                r#"{{"version":"1.0","timestamp":"2026-11-21T06:12:09.114Z",{info},"payload":{payload}}}"#
            );
            let document = document_of(&body).expect("a document");
            assert_eq!(document["hydration"]["status"], "complete");
            assert_eq!(document["Records"][0]["kinesis"]["sequenceNumber"], "1");
            assert!(document["failure"].get("payload").is_none());
        }
        assert!(document_of(r#"{"version":"1.0"}"#).is_none());
    }

    #[test]
    fn a_kafka_object_is_a_kafka_document_whose_event_replays() {
        let event = json!({"eventSource": "SelfManagedKafka", "bootstrapServers": "b-1:9092",
            "records": {"order-events-v2-0": [
                {"topic": "order-events-v2", "partition": 0, "offset": 7, "value": null, "headers": []},
                {"topic": "order-events-v2", "partition": 0, "offset": 8, "value": null, "headers": []}]}});
        let body = json!({"version": "1.0", "timestamp": "2026-11-21T06:12:09.114Z",
            "KafkaBatchInfo": {"batchSize": 2, "bootstrapServers": "b-1:9092",
                "recordsInfo": {"order-events-v2-0": {"firstRecordOffset": "7", "lastRecordOffset": "8"}}},
            "payload": event.to_string()});
        let document = document_of(&body.to_string()).expect("a document");
        assert_eq!(document["source"], "SelfManagedKafka");
        assert_eq!(document["hydration"]["status"], "complete");
        assert_eq!(document["event"], event);
        let saved = saved::from_value(std::path::Path::new("s3://b/k"), document).unwrap();
        assert_eq!(saved.records.len(), 2);
        assert_eq!(saved.event(), event);
    }
}
