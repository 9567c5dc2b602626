//! The Lambda entry point of the demo consumer.

use aws_lambda_events::event::kinesis::KinesisEvent;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use orders_consumer::OrdersConsumer;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let consumer = &OrdersConsumer::from_env();
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<KinesisEvent>| async move {
            let consumed = consumer
                .consume(&event.payload)
                .map_err(|rejection| Diagnostic {
                    error_type: rejection.class().into(),
                    error_message: rejection.to_string(),
                })?;
            tracing::info!(consumed, "batch consumed");
            Ok::<_, Diagnostic>(serde_json::json!({ "consumed": consumed }))
        },
    ))
    .await
}
