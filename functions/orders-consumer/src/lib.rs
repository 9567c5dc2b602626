//! The consumer that fails: a Kinesis consumer of orders that accepts only
//! the currencies it is configured for and fails the whole batch otherwise,
//! as a consumer does when the data outgrows its code. It exists for the
//! local pipeline and its tests; deploying the fix is setting
//! `ACCEPTED_CURRENCIES` to include the new currency.

use aws_lambda_events::event::kinesis::KinesisEvent;
use serde::Deserialize;

/// What the consumer reads from each record's data.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    order_id: String,
    currency: String,
}

/// Why a batch was rejected. The message names the order and sequence
/// number, never the record's data.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    #[error("record {sequence_number} is not an order: {reason}")]
    NotAnOrder {
        sequence_number: String,
        reason: String,
    },
    #[error("order {order_id} (record {sequence_number}) is in {currency}, which this consumer does not accept")]
    UnsupportedCurrency {
        order_id: String,
        sequence_number: String,
        currency: String,
    },
}

impl Rejection {
    /// The error type Lambda reports for the invocation.
    pub fn class(&self) -> &'static str {
        match self {
            Rejection::NotAnOrder { .. } => "NotAnOrder",
            Rejection::UnsupportedCurrency { .. } => "UnsupportedCurrency",
        }
    }
}

/// The currencies the consumer accepts, from `ACCEPTED_CURRENCIES`
/// (comma-separated; `EUR` when unset).
#[derive(Debug, Clone)]
pub struct OrdersConsumer {
    accepted: Vec<String>,
}

impl OrdersConsumer {
    pub fn new(accepted: &str) -> Self {
        Self {
            accepted: accepted
                .split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect(),
        }
    }

    pub fn from_env() -> Self {
        Self::new(&std::env::var("ACCEPTED_CURRENCIES").unwrap_or_else(|_| "EUR".into()))
    }

    /// Accepts the batch, or rejects it for its first order it cannot take:
    /// the event source mapping then retries the whole batch.
    pub fn consume(&self, event: &KinesisEvent) -> Result<usize, Rejection> {
        for record in &event.records {
            let sequence_number = record.kinesis.sequence_number.clone();
            let order: Order = serde_json::from_slice(&record.kinesis.data.0).map_err(|e| {
                Rejection::NotAnOrder {
                    sequence_number: sequence_number.clone(),
                    reason: e.to_string(),
                }
            })?;
            if !self.accepted.contains(&order.currency) {
                return Err(Rejection::UnsupportedCurrency {
                    order_id: order.order_id,
                    sequence_number,
                    currency: order.currency,
                });
            }
        }
        Ok(event.records.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde_json::json;

    fn event(orders: &[(&str, &str)]) -> KinesisEvent {
        let records: Vec<_> = orders
            .iter()
            .enumerate()
            .map(|(i, (id, currency))| {
                let data = json!({"orderId": id, "amount": 10.5, "currency": currency}).to_string();
                json!({
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": id,
                        "sequenceNumber": format!("4968049106015642390070261101940217691713007463743828787{i}"),
                        "data": STANDARD.encode(data),
                        "approximateArrivalTimestamp": 1795438187.943
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": format!("shardId-000000000000:{i}"),
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": "arn:aws:iam::000000000000:role/orders-consumer-role",
                    "awsRegion": "us-east-1",
                    "eventSourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
                })
            })
            .collect();
        serde_json::from_value(json!({ "Records": records })).expect("a Kinesis event")
    }

    #[test]
    fn a_batch_of_accepted_currencies_is_consumed() {
        let consumer = OrdersConsumer::new("EUR");
        assert_eq!(
            consumer.consume(&event(&[("a", "EUR"), ("b", "EUR")])),
            Ok(2)
        );
    }

    #[test]
    fn one_order_in_another_currency_fails_the_batch_and_is_named() {
        let consumer = OrdersConsumer::new("EUR");
        let rejection = consumer
            .consume(&event(&[("a", "EUR"), ("b", "CHF"), ("c", "EUR")]))
            .unwrap_err();
        assert!(
            matches!(&rejection, Rejection::UnsupportedCurrency { order_id, currency, .. } if order_id == "b" && currency == "CHF"),
            "{rejection:?}"
        );
    }

    #[test]
    fn the_fix_accepts_the_new_currency() {
        let consumer = OrdersConsumer::new("EUR, CHF");
        assert_eq!(
            consumer.consume(&event(&[("a", "EUR"), ("b", "CHF")])),
            Ok(2)
        );
    }

    #[test]
    fn data_that_is_not_an_order_is_rejected_without_quoting_it() {
        let consumer = OrdersConsumer::new("EUR");
        let mut event = event(&[("a", "EUR")]);
        event.records[0].kinesis.data.0 = b"secret: not json".to_vec();
        let message = consumer.consume(&event).unwrap_err().to_string();
        assert!(message.contains("is not an order"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }
}
