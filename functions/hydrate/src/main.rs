//! The Lambda entry point: logging, configuration, the runtime loop. All the
//! work is in the library, which the tests drive directly.

use hydrate::{Hydrator, RawPayload, RawPayloadLayer, Settings};
use lambda_runtime::layers::TracingLayer;
use lambda_runtime::{service_fn, LambdaEvent, Runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hydrate::init_logging();
    let settings = Settings::from_env()?;
    let hydrator = Hydrator::new(hydrate::sdk_config().await, settings);
    let hydrator = &hydrator;
    let handler = service_fn(move |event: LambdaEvent<RawPayload>| async move {
        let deadline = hydrate::deadline_from_epoch_millis(event.context.deadline);
        hydrator
            .handle_until(&event.payload.0, Some(deadline))
            .await
    });
    // The payload layer runs before the runtime parses the payload, so every
    // payload, JSON or not, reaches the hydrator's own classification.
    Runtime::new(handler)
        .layer(RawPayloadLayer)
        .layer(TracingLayer::new())
        .run()
        .await
}
