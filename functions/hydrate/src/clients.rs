//! Stream clients, one per service and region, made on first use and kept for
//! the life of the execution environment.
//!
//! The region is always the stream's, from its ARN: one hydrator may serve
//! streams in several regions, and a client made for the function's own
//! region would read the wrong one.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_config::{Region, SdkConfig};

pub struct StreamClients {
    sdk: SdkConfig,
    kinesis: Mutex<HashMap<String, aws_sdk_kinesis::Client>>,
    dynamodb_streams: Mutex<HashMap<String, aws_sdk_dynamodbstreams::Client>>,
}

impl StreamClients {
    pub fn new(sdk: SdkConfig) -> Self {
        Self {
            sdk,
            kinesis: Mutex::default(),
            dynamodb_streams: Mutex::default(),
        }
    }

    pub fn kinesis(&self, region: &str) -> aws_sdk_kinesis::Client {
        cached(&self.kinesis, region, || {
            let config = aws_sdk_kinesis::config::Builder::from(&self.sdk)
                .region(Region::new(region.to_owned()))
                .build();
            aws_sdk_kinesis::Client::from_conf(config)
        })
    }

    pub fn dynamodb_streams(&self, region: &str) -> aws_sdk_dynamodbstreams::Client {
        cached(&self.dynamodb_streams, region, || {
            let config = aws_sdk_dynamodbstreams::config::Builder::from(&self.sdk)
                .region(Region::new(region.to_owned()))
                .build();
            aws_sdk_dynamodbstreams::Client::from_conf(config)
        })
    }
}

fn cached<C: Clone>(
    clients: &Mutex<HashMap<String, C>>,
    region: &str,
    make: impl FnOnce() -> C,
) -> C {
    // A poisoned lock only means another invocation panicked mid-insert; the
    // map itself is still sound.
    let mut clients = clients.lock().unwrap_or_else(|p| p.into_inner());
    clients
        .entry(region.to_owned())
        .or_insert_with(make)
        .clone()
}
