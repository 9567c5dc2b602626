//! The way to the running emulators.
//!
//! `scripts/emulators.sh start` writes their endpoints to
//! `.tools/run/emulators.env`; the environment wins when it names one, so the
//! same tests run against any endpoint.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kinesis::config::Credentials;

/// The Kinesis endpoint: `AWS_ENDPOINT_URL_KINESIS`, else the one the
/// emulator script recorded. Panics with the command to run when neither is there.
pub fn kinesis_endpoint() -> String {
    if let Ok(url) = std::env::var("AWS_ENDPOINT_URL_KINESIS") {
        return url;
    }
    let env_file = crate::workspace_root().join(".tools/run/emulators.env");
    let text = std::fs::read_to_string(&env_file).unwrap_or_default();
    text.lines()
        .find_map(|line| line.trim_start_matches("export ").strip_prefix("AWS_ENDPOINT_URL_KINESIS="))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            panic!("no Kinesis emulator: run `scripts/emulators.sh start` (or scripts/test.sh), or set AWS_ENDPOINT_URL_KINESIS")
        })
}

/// SDK configuration that reaches the emulators with throwaway credentials.
pub fn sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kinesis::config::SharedCredentialsProvider::new(
            Credentials::for_tests(),
        ))
        .build()
}

/// A Kinesis client pointed at the emulator.
pub fn kinesis_client() -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::config::Builder::from(&sdk_config())
        .endpoint_url(kinesis_endpoint())
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}
