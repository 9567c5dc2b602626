//! The Lambda entry point: tracing, configuration, the runtime loop. All the
//! work is in the library, which the tests drive directly.

use hydrate::{Hydrator, Settings};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hydrate::logging::init();
    let settings = Settings::from_env()?;
    let hydrator = Hydrator::new(hydrate::sdk_config().await, settings);
    let hydrator = &hydrator;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let deadline = hydrate::deadline_from_epoch_millis(event.context.deadline);
            hydrator
                .handle_until(event.payload.get(), Some(deadline))
                .await
        },
    ))
    .await
}
