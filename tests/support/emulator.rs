//! The way to the running emulators: kinesis-mock for Kinesis, moto server
//! for everything else.
//!
//! `scripts/emulators.sh start` writes their endpoints to
//! `.tools/run/emulators.env`; the environment wins when it names one, so the
//! same tests run against any endpoint.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kinesis::config::Credentials;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

/// The Kinesis endpoint: `AWS_ENDPOINT_URL_KINESIS`, else the one the
/// emulator script recorded.
pub fn kinesis_endpoint() -> String {
    endpoint("AWS_ENDPOINT_URL_KINESIS")
}

/// The endpoint of moto server (DynamoDB, DynamoDB Streams, SQS, SNS, S3,
/// Firehose): `AWS_ENDPOINT_URL`, else the one the emulator script recorded.
pub fn moto_endpoint() -> String {
    endpoint("AWS_ENDPOINT_URL")
}

/// Panics with the command to run when neither the environment nor the
/// emulator script names the endpoint.
fn endpoint(variable: &str) -> String {
    if let Ok(url) = std::env::var(variable) {
        return url;
    }
    let env_file = crate::workspace_root().join(".tools/run/emulators.env");
    let text = std::fs::read_to_string(&env_file).unwrap_or_default();
    let prefix = format!("{variable}=");
    text.lines()
        .find_map(|line| line.trim_start_matches("export ").strip_prefix(prefix.as_str()))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            panic!("no emulator endpoint: run `scripts/emulators.sh start` (or scripts/test.sh), or set {variable}")
        })
}

/// Routes each service to its emulator the way the endpoint variables do for
/// a process: Kinesis to kinesis-mock, every other service to moto.
#[derive(Debug)]
struct EmulatorEndpoints {
    kinesis: String,
    moto: String,
    /// Services sent elsewhere (a fault proxy), by service id.
    overrides: Vec<(String, String)>,
}

impl LoadServiceConfig for EmulatorEndpoints {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        if key.env() != "AWS_ENDPOINT_URL" {
            return None;
        }
        if let Some((_, url)) = self.overrides.iter().find(|(id, _)| id == key.service_id()) {
            return Some(url.clone());
        }
        Some(match key.service_id() {
            "Kinesis" => self.kinesis.clone(),
            _ => self.moto.clone(),
        })
    }
}

/// SDK configuration that reaches the emulators with throwaway credentials;
/// clients made from it (the hydrator's too) find their service's emulator.
pub fn sdk_config() -> SdkConfig {
    sdk_config_with(&[])
}

/// As [`sdk_config`], with some services sent to other endpoints: pairs of
/// service id (`"SQS"`, `"Firehose"`, `"Kinesis"`, `"DynamoDB Streams"`) and URL.
pub fn sdk_config_with(overrides: &[(&str, String)]) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(hydrate::https_client())
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kinesis::config::SharedCredentialsProvider::new(
            Credentials::for_tests(),
        ))
        .service_config(EmulatorEndpoints {
            kinesis: kinesis_endpoint(),
            moto: moto_endpoint(),
            overrides: overrides
                .iter()
                .map(|(id, url)| ((*id).to_owned(), url.clone()))
                .collect(),
        })
        .build()
}

/// A Kinesis client pointed at the emulator.
pub fn kinesis_client() -> aws_sdk_kinesis::Client {
    aws_sdk_kinesis::Client::new(&sdk_config())
}

/// A DynamoDB client pointed at moto, for creating and writing tables.
pub fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config())
}

/// A DynamoDB Streams client pointed at moto, for reading what a stream holds.
pub fn dynamodb_streams_client() -> aws_sdk_dynamodbstreams::Client {
    aws_sdk_dynamodbstreams::Client::new(&sdk_config())
}
