//! Dead-letter messages back into whole documents.
//!
//! A large failure reaches the queue as ordered parts, each a valid
//! document with a `part` block (`index` from 1, `count`, `groupId`).
//! Standard queues deliver in any order and sometimes twice, so parts are
//! grouped by `groupId`, deduplicated by index, and joined only when every
//! index from 1 to `count` is there. Anything else is kept as it came, so an
//! operator never loses a message to this step.

use std::collections::BTreeMap;

use hydrate::{join, Document};
use serde_json::Value;

/// One message as received.
#[derive(Debug, Clone)]
pub struct Message {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
}

/// A whole document, and the messages it came in.
#[derive(Debug)]
pub struct Failure {
    pub document: Value,
    /// Every message of it, duplicates included: all can be deleted once it is saved.
    pub messages: Vec<Message>,
    pub parts: u32,
}

/// The parts of one failure that were in the queue, when some were not.
#[derive(Debug)]
pub struct Incomplete {
    pub group_id: String,
    pub count: u32,
    /// By index; more than one message when the queue delivered a part twice.
    pub parts: BTreeMap<u32, Vec<Message>>,
}

#[derive(Debug, Default)]
pub struct Assembled {
    pub failures: Vec<Failure>,
    pub incomplete: Vec<Incomplete>,
    /// Bodies that are not hydrated documents, kept as they are.
    pub unrecognized: Vec<Message>,
}

pub fn assemble(messages: Vec<Message>) -> Assembled {
    let mut assembled = Assembled::default();
    // Parts by group id, then by index: a part delivered twice is kept
    // once for joining, with every message that carried it.
    let mut groups: BTreeMap<String, BTreeMap<u32, (Document, Vec<Message>)>> = BTreeMap::new();
    for message in messages {
        let Some(document) = Document::parse(&message.body) else {
            assembled.unrecognized.push(message);
            continue;
        };
        match document.part.clone() {
            None => assembled.failures.push(Failure {
                document: as_value(&document),
                messages: vec![message],
                parts: 1,
            }),
            Some(part) => {
                groups
                    .entry(part.group_id)
                    .or_default()
                    .entry(part.index)
                    .or_insert_with(|| (document, Vec::new()))
                    .1
                    .push(message);
            }
        }
    }
    for (group_id, parts) in groups {
        let count = parts
            .values()
            .next()
            .and_then(|(d, _)| d.part.as_ref())
            .map_or(0, |p| p.count);
        let messages: Vec<Message> = parts.values().flat_map(|(_, m)| m.clone()).collect();
        let documents: Vec<Document> = parts.values().map(|(d, _)| d.clone()).collect();
        match join(documents) {
            Ok(document) => assembled.failures.push(Failure {
                document: as_value(&document),
                messages,
                parts: count,
            }),
            Err(_) => assembled.incomplete.push(Incomplete {
                group_id,
                count,
                parts: parts
                    .into_iter()
                    .map(|(index, (_, messages))| (index, messages))
                    .collect(),
            }),
        }
    }
    assembled
}

/// The document as the rest of the tool reads it.
fn as_value(document: &Document) -> Value {
    serde_json::from_str(&document.to_json()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn part(index: u32, count: u32, group: &str, records: &[u32]) -> Message {
        let body = json!({
            "version": "1",
            "source": "aws:kinesis",
            "failure": {"KinesisBatchInfo": {"batchSize": 5}},
            "hydration": {"status": "complete", "origin": "stream", "expectedRecords": 5,
                "hydratedRecords": 5, "missing": [], "getRecordsCalls": 1,
                "getShardIteratorCalls": 1, "durationMs": 2},
            "part": {"index": index, "count": count, "groupId": group},
            "Records": records.iter().map(|r| json!({"n": r})).collect::<Vec<_>>()
        });
        Message {
            message_id: format!("{group}-{index}-{}", fastrand::u32(..)),
            receipt_handle: format!("rh-{group}-{index}"),
            body: body.to_string(),
        }
    }

    fn numbers(document: &Value) -> Vec<u64> {
        document["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["n"].as_u64().unwrap())
            .collect()
    }

    #[test]
    fn parts_in_any_order_and_delivered_twice_join_into_one_document() {
        let assembled = assemble(vec![
            part(3, 3, "g", &[5]),
            part(1, 3, "g", &[1, 2]),
            part(3, 3, "g", &[5]),
            part(2, 3, "g", &[3, 4]),
        ]);
        assert_eq!(assembled.failures.len(), 1);
        let failure = &assembled.failures[0];
        assert_eq!(numbers(&failure.document), [1, 2, 3, 4, 5]);
        assert!(failure.document.get("part").is_none());
        assert_eq!(
            failure.messages.len(),
            4,
            "the duplicate is deleted with the rest"
        );
        assert!(assembled.incomplete.is_empty() && assembled.unrecognized.is_empty());
    }

    #[test]
    fn a_failure_with_a_part_missing_stays_in_parts() {
        let assembled = assemble(vec![part(1, 3, "g", &[1]), part(3, 3, "g", &[3])]);
        assert!(assembled.failures.is_empty());
        let incomplete = &assembled.incomplete[0];
        assert_eq!(
            (
                incomplete.count,
                incomplete.parts.keys().copied().collect::<Vec<_>>()
            ),
            (3, vec![1, 3])
        );
    }

    #[test]
    fn whole_documents_pass_and_other_bodies_are_kept_aside() {
        let mut whole = part(1, 1, "w", &[7]);
        let mut value: Value = serde_json::from_str(&whole.body).unwrap();
        value.as_object_mut().unwrap().remove("part");
        whole.body = value.to_string();
        let stranger = Message {
            message_id: "m".into(),
            receipt_handle: "r".into(),
            body: "{\"hello\": \"world\"}".into(),
        };
        let assembled = assemble(vec![
            whole,
            stranger,
            part(1, 2, "a", &[1]),
            part(2, 2, "a", &[2]),
        ]);
        assert_eq!(assembled.failures.len(), 2);
        assert_eq!(numbers(&assembled.failures[0].document), [7]);
        assert_eq!(numbers(&assembled.failures[1].document), [1, 2]);
        assert_eq!(assembled.unrecognized.len(), 1);
    }
}
