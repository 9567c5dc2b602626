//! The Lambda entry point: logging, configuration, the runtime loop. All the
//! work is in the library, which the tests drive directly.

use hydrate::{Hydrator, RawPayload, RawPayloadLayer, Settings};
use lambda_runtime::layers::TracingLayer;
use lambda_runtime::{service_fn, LambdaEvent, Runtime};

// One thread: an invocation is one task (its failures interleave at their
// awaits, waiting on the network), so worker threads add no speed at a
// fraction of a vCPU, only start-up time and an allocator arena each, where
// a buffer made on one thread and freed on another is not reused and raises
// the peak memory (#27).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    map_large_buffers();
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

/// Buffers of 4 MiB and more (an answer's page, a large record, the part
/// that carries it) are mapped on their own and given back when let go.
/// glibc's own threshold rises to the largest buffer freed, after which such
/// buffers come from the heap and leave it fragmented: a batch of one 10 MiB
/// record then peaked at 86 to 99 MiB, against 47 MiB with the threshold
/// fixed (#27, docs/benchmark.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn map_large_buffers() {
    // SAFETY: sets one allocator parameter, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn map_large_buffers() {}
