//! DynamoDB tables with streams, written with `aws-sdk-dynamodb`, that
//! remember every change they made so a test can say what each stream record
//! must hold.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest,
    ScalarAttributeType, StreamSpecification, StreamViewType, WriteRequest,
};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use serde_json::{json, Map, Value};

use crate::emulator::{dynamodb_client, dynamodb_streams_client};
use crate::stream::unique_suffix;

pub type Item = HashMap<String, AttributeValue>;

/// The table's only key attribute, a string.
pub const KEY: &str = "pk";

/// One change made to the table, as its stream record must describe it.
#[derive(Debug, Clone)]
pub struct Change {
    pub event_name: &'static str,
    pub keys: Item,
    pub new_image: Option<Item>,
    pub old_image: Option<Item>,
}

pub struct TestTable {
    pub name: String,
    pub stream_arn: String,
    pub view: StreamViewType,
    client: aws_sdk_dynamodb::Client,
    items: HashMap<String, Item>,
    /// Every change, in the order made: the order of the stream.
    pub changes: Vec<Change>,
}

impl TestTable {
    /// A new table keyed by `pk` with a stream of the given view type.
    pub async fn create(view: StreamViewType) -> Self {
        let client = dynamodb_client();
        let name = format!("orders-{}", unique_suffix());
        let output = client
            .create_table()
            .table_name(&name)
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(KEY)
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key schema"),
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(KEY)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute definition"),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(view.clone())
                    .build()
                    .expect("stream specification"),
            )
            .send()
            .await
            .expect("create table");
        let stream_arn = output
            .table_description
            .and_then(|t| t.latest_stream_arn)
            .expect("the table has a stream");
        Self {
            name,
            stream_arn,
            view,
            client,
            items: HashMap::new(),
            changes: Vec::new(),
        }
    }

    /// Writes `item` (it must hold `pk`): an INSERT, or a MODIFY of the item
    /// already under its key.
    pub async fn put(&mut self, item: Item) {
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item.clone()))
            .send()
            .await
            .expect("put item");
        self.record_put(item);
    }

    /// Writes many items with `BatchWriteItem`, 25 a call, in order.
    pub async fn put_all(&mut self, items: Vec<Item>) {
        for chunk in items.chunks(25) {
            let requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(item.clone()))
                                .build()
                                .expect("put request"),
                        )
                        .build()
                })
                .collect();
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.name, requests)
                .send()
                .await
                .expect("batch write");
            assert!(
                output.unprocessed_items.unwrap_or_default().is_empty(),
                "the emulator processed every write"
            );
            for item in chunk {
                self.record_put(item.clone());
            }
        }
    }

    /// Deletes the item under `key`: a REMOVE.
    pub async fn delete(&mut self, key: &str) {
        self.client
            .delete_item()
            .table_name(&self.name)
            .key(KEY, AttributeValue::S(key.to_owned()))
            .send()
            .await
            .expect("delete item");
        let old = self
            .items
            .remove(key)
            .expect("deleting an item that exists");
        self.changes.push(Change {
            event_name: "REMOVE",
            keys: keys_of(&old),
            new_image: None,
            old_image: Some(old),
        });
    }

    fn record_put(&mut self, item: Item) {
        let key = match item.get(KEY) {
            Some(AttributeValue::S(key)) => key.clone(),
            _ => panic!("items are keyed by a string `{KEY}`"),
        };
        let old = self.items.insert(key, item.clone());
        self.changes.push(Change {
            event_name: if old.is_some() { "MODIFY" } else { "INSERT" },
            keys: keys_of(&item),
            new_image: Some(item),
            old_image: old,
        });
    }

    /// The stream's only shard.
    pub async fn shard_id(&self) -> String {
        let output = dynamodb_streams_client()
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await
            .expect("describe stream");
        output
            .stream_description
            .and_then(|d| d.shards)
            .and_then(|shards| shards.into_iter().next())
            .and_then(|shard| shard.shard_id)
            .expect("the stream has a shard")
    }

    /// Every record the stream holds, read directly from the trim horizon.
    pub async fn stream_records(&self) -> Vec<aws_sdk_dynamodbstreams::types::Record> {
        let client = dynamodb_streams_client();
        let mut iterator = client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(self.shard_id().await)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("shard iterator")
            .shard_iterator;
        let mut records = Vec::new();
        while let Some(current) = iterator {
            let page = client
                .get_records()
                .shard_iterator(current)
                .limit(1000)
                .send()
                .await
                .expect("get records");
            let page_records = page.records.unwrap_or_default();
            if page_records.is_empty() {
                break;
            }
            records.extend(page_records);
            iterator = page.next_shard_iterator;
        }
        assert_eq!(
            records.len(),
            self.changes.len(),
            "one stream record for every change"
        );
        records
    }
}

fn keys_of(item: &Item) -> Item {
    item.iter()
        .filter(|(name, _)| name.as_str() == KEY)
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// An item in DynamoDB JSON with set members sorted: sets have no order, so
/// this is the form two equal items always share.
pub fn item_json(item: &Item) -> Value {
    Value::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), attribute_json(value)))
            .collect(),
    )
}

fn attribute_json(value: &AttributeValue) -> Value {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let sorted = |mut members: Vec<String>| {
        members.sort();
        members
    };
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": b64(b.as_ref()) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(b) => json!({ "NULL": b }),
        AttributeValue::Ss(set) => json!({ "SS": sorted(set.clone()) }),
        AttributeValue::Ns(set) => json!({ "NS": sorted(set.clone()) }),
        AttributeValue::Bs(set) => {
            json!({ "BS": sorted(set.iter().map(|b| b64(b.as_ref())).collect()) })
        }
        AttributeValue::L(list) => {
            json!({ "L": list.iter().map(attribute_json).collect::<Vec<_>>() })
        }
        AttributeValue::M(members) => json!({ "M": item_json(members) }),
        other => panic!("no test writes {other:?}"),
    }
}

/// An image from a document (DynamoDB JSON) with set members sorted, to
/// compare with [`item_json`].
pub fn sorted_sets(image: &Value) -> Value {
    match image {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let value = match (key.as_str(), value) {
                    ("SS" | "NS" | "BS", Value::Array(members)) => {
                        let mut members = members.clone();
                        members.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                        Value::Array(members)
                    }
                    _ => sorted_sets(value),
                };
                out.insert(key.clone(), value);
            }
            Value::Object(out)
        }
        Value::Array(values) => Value::Array(values.iter().map(sorted_sets).collect()),
        other => other.clone(),
    }
}

/// The sequence number of a stream record.
pub fn sequence_number(record: &aws_sdk_dynamodbstreams::types::Record) -> &str {
    record
        .dynamodb
        .as_ref()
        .and_then(|d| d.sequence_number.as_deref())
        .expect("stream records have sequence numbers")
}

/// The sequence numbers of stream records, in order.
pub fn sequence_numbers(records: &[aws_sdk_dynamodbstreams::types::Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| sequence_number(r).to_owned())
        .collect()
}

impl TestTable {
    /// The on-failure record of the batch of stream records `first..=last`.
    pub async fn failure(
        &self,
        records: &[aws_sdk_dynamodbstreams::types::Record],
        first: usize,
        last: usize,
    ) -> Value {
        let shard_id = self.shard_id().await;
        let batch = crate::failure::Batch {
            shard_id: &shard_id,
            start: sequence_number(&records[first]),
            end: sequence_number(&records[last]),
            size: last - first + 1,
        };
        crate::failure::dynamodb_failure(&self.stream_arn, &batch)
    }
}

/// An idempotency table as the template makes it: keyed by `id`, with TTL.
pub async fn ledger_table() -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        TimeToLiveSpecification,
    };
    let client = crate::emulator::dynamodb_client();
    let name = format!("hydrator-ledger-{}", crate::stream::unique_suffix());
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create the ledger table");
    client
        .update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("turn TTL on");
    name
}
