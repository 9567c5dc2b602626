//! What a failure document says about its batch, read the same way by every
//! source and every report: the batch info of its on-failure record, the
//! name of its stream, and for a Kafka document its topics, partitions and
//! offset ranges and the records of its event.

use hydrate::StreamArn;
use serde_json::Value;

/// `KinesisBatchInfo` or `DDBStreamBatchInfo`, whichever the record has.
pub fn batch_info(failure: &Value) -> Option<&Value> {
    failure
        .as_object()?
        .iter()
        .find(|(key, _)| key.ends_with("BatchInfo"))
        .map(|(_, v)| v)
}

/// `orders` from `arn:...:stream/orders` or `arn:...:table/orders/stream/2026-...`;
/// anything that is not a stream ARN is named by its length alone, since a
/// document's text may be forged.
pub fn stream_name(arn: &str) -> String {
    StreamArn::parse(arn).map_or_else(
        |_| format!("(not a stream ARN, {} bytes)", arn.len()),
        |a| a.name().to_owned(),
    )
}

/// Whether the document is a Kafka failure's (`aws:kafka`, `SelfManagedKafka`).
pub fn is_kafka(document: &Value) -> bool {
    matches!(
        document["source"].as_str(),
        Some("aws:kafka" | "SelfManagedKafka")
    )
}

/// A Kafka failure's names, as the tables show them in a stream's place:
/// its topics, its partitions, and each partition's first and last offset,
/// in `recordsInfo`'s order. A name that is not a Kafka topic name is shown
/// by its length alone, since a document's text may be forged.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KafkaNames {
    pub topics: String,
    pub partitions: String,
    pub first_offsets: String,
    pub last_offsets: String,
}

impl KafkaNames {
    pub fn of(batch: &Value) -> Self {
        let Some(info) = batch["recordsInfo"].as_object() else {
            return Self::default();
        };
        let mut topics: Vec<String> = Vec::new();
        let mut names = Self::default();
        for (key, range) in info {
            let (topic, partition) = key.rsplit_once('-').unwrap_or((key, ""));
            let topic = if is_topic_name(topic) {
                topic.to_owned()
            } else {
                format!("(not a topic, {} bytes)", topic.len())
            };
            if !topics.contains(&topic) {
                topics.push(topic);
            }
            let digits = |text: &str| {
                if !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit())
                {
                    text.to_owned()
                } else {
                    "?".to_owned()
                }
            };
            let join = |list: &mut String, item: String| {
                if !list.is_empty() {
                    list.push(',');
                }
                list.push_str(&item);
            };
            join(&mut names.partitions, digits(partition));
            join(
                &mut names.first_offsets,
                digits(range["firstRecordOffset"].as_str().unwrap_or("")),
            );
            join(
                &mut names.last_offsets,
                digits(range["lastRecordOffset"].as_str().unwrap_or("")),
            );
        }
        names.topics = topics.join(",");
        names
    }
}

/// Kafka's topic names: 1 to 249 of `[A-Za-z0-9._-]`.
fn is_topic_name(name: &str) -> bool {
    (1..=249).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A Kafka document's records, partition after partition; a stream's
/// document's `Records`.
pub fn records(document: &Value) -> Vec<&Value> {
    match document["event"]["records"].as_object() {
        Some(partitions) if is_kafka(document) => partitions
            .values()
            .filter_map(Value::as_array)
            .flatten()
            .collect(),
        _ => document["Records"]
            .as_array()
            .map_or_else(Vec::new, |records| records.iter().collect()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_kafka_failure_is_named_by_topics_partitions_and_offsets() {
        let batch = json!({"recordsInfo": {
            "order-events-v2-1": {"firstRecordOffset": "1", "lastRecordOffset": "4"},
            "order-events-v2-0": {"firstRecordOffset": "7", "lastRecordOffset": "9"},
            "bad topic-3": {"firstRecordOffset": "x", "lastRecordOffset": "2"}
        }});
        // In key order, as the document's JSON object reads back.
        let names = KafkaNames::of(&batch);
        assert_eq!(names.topics, "(not a topic, 9 bytes),order-events-v2");
        assert_eq!(names.partitions, "3,0,1");
        assert_eq!(names.first_offsets, "?,7,1");
        assert_eq!(names.last_offsets, "2,9,4");
    }

    #[test]
    fn a_kafka_documents_records_are_its_events() {
        let document = json!({"source": "SelfManagedKafka",
            "event": {"records": {"t-0": [{"offset": 1}], "t-1": [{"offset": 2}, {"offset": 3}]}}});
        assert_eq!(records(&document).len(), 3);
        let kinesis = json!({"source": "aws:kinesis", "Records": [{}, {}]});
        assert_eq!(records(&kinesis).len(), 2);
    }
}
