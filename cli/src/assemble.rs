//! Dead-letter messages back into whole documents.
//!
//! A large failure reaches the queue as ordered parts, each a valid
//! document with a `part` block (`index` from 1, `count`, `groupId`).
//! Standard queues deliver in any order and sometimes twice, so parts are
//! grouped by `groupId`, deduplicated by index, and joined only when every
//! index from 1 to `count` is there. Anything else is kept as it came, so an
//! operator never loses a message to this step.

use std::collections::BTreeMap;

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

struct Group {
    count: u32,
    parts: BTreeMap<u32, (Value, Vec<Message>)>,
}

pub fn assemble(messages: Vec<Message>) -> Assembled {
    let mut assembled = Assembled::default();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for message in messages {
        let Some(document) = as_document(&message.body) else {
            assembled.unrecognized.push(message);
            continue;
        };
        match part_of(&document) {
            None => assembled.failures.push(Failure {
                document,
                messages: vec![message],
                parts: 1,
            }),
            Some((index, count, group_id)) => {
                let group = groups.entry(group_id).or_insert_with(|| Group {
                    count,
                    parts: BTreeMap::new(),
                });
                group
                    .parts
                    .entry(index)
                    .or_insert_with(|| (document, Vec::new()))
                    .1
                    .push(message);
            }
        }
    }
    for (group_id, group) in groups {
        let whole = group.count > 0
            && group.parts.len() == group.count as usize
            && group.parts.keys().copied().eq(1..=group.count);
        if whole {
            assembled.failures.push(join(group));
        } else {
            assembled.incomplete.push(Incomplete {
                group_id,
                count: group.count,
                parts: group
                    .parts
                    .into_iter()
                    .map(|(index, (_, messages))| (index, messages))
                    .collect(),
            });
        }
    }
    assembled
}

/// A body that is a hydrated document (version 1).
fn as_document(body: &str) -> Option<Value> {
    let value: Value = serde_json::from_str(body).ok()?;
    let is_document = value.get("version").and_then(Value::as_str) == Some("1")
        && value.get("hydration").is_some_and(Value::is_object)
        && value.get("Records").is_some_and(Value::is_array);
    is_document.then_some(value)
}

fn part_of(document: &Value) -> Option<(u32, u32, String)> {
    let part = document.get("part")?;
    let number = |key| {
        part.get(key)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    Some((
        number("index")?,
        number("count")?,
        part.get("groupId")?.as_str()?.to_owned(),
    ))
}

/// Part 1 without its `part` block, carrying the records of all parts in order.
fn join(group: Group) -> Failure {
    let mut parts = group.parts.into_values();
    let mut messages = Vec::new();
    let (mut document, first_messages) = parts
        .next()
        .expect("a whole group has part 1: checked by the caller");
    messages.extend(first_messages);
    if let Some(object) = document.as_object_mut() {
        object.remove("part");
    }
    let mut records = take_records(&mut document);
    for (mut part, part_messages) in parts {
        records.append(&mut take_records(&mut part));
        messages.extend(part_messages);
    }
    document["Records"] = Value::Array(records);
    Failure {
        document,
        messages,
        parts: group.count,
    }
}

fn take_records(document: &mut Value) -> Vec<Value> {
    match document.get_mut("Records").map(Value::take) {
        Some(Value::Array(records)) => records,
        _ => Vec::new(),
    }
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
            "hydration": {"status": "complete"},
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
