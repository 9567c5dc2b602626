//! `hydrator`, the operator's tool for what the hydrate function leaves in
//! the dead-letter queue. The data flows from a source, through a command,
//! to an output:
//! - [`args`]: the command line, and the help text that teaches it; it
//!   imports nothing of the commands.
//! - [`sources`]: where failures are read from: the queue (offloaded bodies
//!   followed back, messages joined into documents), saved files and folders.
//! - [`commands`]: one module a command: `hydrate`, `dlq list|drain`, `dlq
//!   stats`, `dlq report`, `replay`, `redrive`, `show`, `failures`, `doctor`.
//! - [`output`]: tables, JSON and progress bars, records as people read
//!   them, drain's file names, the HTML incident page.
//! - [`kpl`]: KPL aggregated records taken apart, for `show` and `redrive`.
//!
//! Exit codes: 0 when everything asked for was done, 1 when the command
//! could not run (unreadable files, unreachable service), 2 when it ran but
//! some items were not done (listed in its report), 64 when the command
//! line is wrong.

pub mod args;
pub mod commands;
pub mod kpl;
pub mod output;
pub mod progress;
pub mod sources;

/// How a command ended, when it ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every item was done.
    Done,
    /// Some items were not; the report says which.
    Incomplete,
}

/// The SDK configuration: the environment's (profiles, `AWS_ENDPOINT_URL*`,
/// `AWS_REGION`), with the command line's profile, endpoint and region on top.
pub async fn sdk_config(global: &args::Global) -> aws_config::SdkConfig {
    load(global, global.profile.as_deref(), global.region.as_deref()).await
}

/// The configuration for a command's target: `--to-profile` and
/// `--to-region` where given, the command line's own otherwise.
pub async fn target_config(
    global: &args::Global,
    target: &args::TargetAccount,
) -> aws_config::SdkConfig {
    let profile = target.to_profile.as_deref().or(global.profile.as_deref());
    // A target profile brings its own region unless --to-region says otherwise.
    let region = match (&target.to_region, &target.to_profile) {
        (Some(region), _) => Some(region.as_str()),
        (None, Some(_)) => None,
        (None, None) => global.region.as_deref(),
    };
    load(global, profile, region).await
}

async fn load(
    global: &args::Global,
    profile: Option<&str>,
    region: Option<&str>,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(hydrate::https_client());
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &global.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    loader.load().await
}
