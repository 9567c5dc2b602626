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
    set_allocator();
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

/// glibc's allocator settings, fixed for the function's buffers (#27,
/// docs/benchmark.md):
/// - Buffers of up to 12 MiB (a `GetRecords` page of up to about 8 MiB of
///   data; at 10,000 records of 500 B, 8 MB) come from the heap, where the
///   next invocation finds them, rather than being mapped on their own and
///   each of their pages faulted in afresh, about 2,000 faults for one page.
///   Larger ones (a page or a part of a 10 MiB record, 14 MB) are still
///   mapped: from the heap, they left it fragmented, and one such batch
///   peaked at 52 MiB in about one run of ten, against 40 to 41 MiB.
/// - Up to 4 MiB of memory freed at the top of the heap stays with the
///   process between invocations instead of being given back and faulted in
///   again (glibc's default keeps 128 KiB). Keeping 8 or 16 MiB cost the
///   10,000-record batch up to 2 MiB more at its peak.
///
/// Both are fixed, not glibc's own: its threshold rises to the largest
/// buffer freed (and its trim threshold to twice that), after which the
/// heap fragments: a batch of one 10 MiB record then peaked at 86 to 99 MiB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_allocator() {
    const LARGE_BUFFER: i32 = 12 << 20;
    const KEPT_FREE: i32 = 4 << 20;
    // SAFETY: sets two allocator parameters, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BUFFER);
        libc::mallopt(libc::M_TRIM_THRESHOLD, KEPT_FREE);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_allocator() {}
