//! A tansu broker of the test's own, for what the shared in-memory one
//! cannot show.
//!
//! - [`OwnBroker::over_s3`] keeps its log in S3 (moto's): a log whose oldest
//!   records are gone. Kafka's retention deletes a partition's oldest
//!   segments and moves its log start; here the oldest batch objects are
//!   deleted from the bucket, and the broker then lists its earliest offset
//!   as the first batch left. tansu orders a partition's batches by their
//!   objects' times, which moto keeps to the second: see
//!   [`crate::kafka::produce_last_apart`].
//! - [`OwnBroker::authenticating`] requires SASL of every client. This build
//!   of tansu offers SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER, and its
//!   storage holds no SCRAM user and checks no token: every login is refused,
//!   so it shows the handshake and the refusal, not a login.

use std::process::Stdio;
use std::time::Duration;

use crate::emulator::moto_endpoint;
use crate::ports::{free_port, wait_for_port};
use crate::queue::{create_bucket, s3_client};
use crate::workspace_root;

/// The broker, killed on drop.
pub struct OwnBroker {
    /// `127.0.0.1:PORT`, the address it listens on and advertises.
    pub bootstrap: String,
    /// The bucket of its log, over S3.
    bucket: Option<String>,
    _broker: tokio::process::Child,
}

impl OwnBroker {
    /// A broker over a new bucket.
    pub async fn over_s3() -> OwnBroker {
        let bucket = create_bucket("hydrator-kafka-log").await;
        let storage = format!("s3://{bucket}/");
        Self::start(&["--storage-engine", &storage], Some(bucket)).await
    }

    /// A broker in memory that requires SASL.
    pub async fn authenticating() -> OwnBroker {
        Self::start(
            &["--storage-engine", "memory://tansu/", "--authentication"],
            None,
        )
        .await
    }

    async fn start(args: &[&str], bucket: Option<String>) -> OwnBroker {
        let port = free_port();
        let bootstrap = format!("127.0.0.1:{port}");
        let url = format!("tcp://{bootstrap}");
        let broker = tokio::process::Command::new(workspace_root().join(".tools/kafka/bin/tansu"))
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(args)
            // The object store's own variables (not the SDK's): moto, plain HTTP.
            .env("AWS_ENDPOINT", moto_endpoint())
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start tansu (scripts/tools.sh installs it in .tools/kafka)");
        wait_for_port(port, Duration::from_secs(30), "tansu").await;
        OwnBroker {
            bootstrap,
            bucket,
            _broker: broker,
        }
    }

    /// Deletes the batches of `topic`'s `partition` whose first offset is
    /// below `offset`, as retention deletes a log's oldest segments; how many.
    pub async fn delete_before(&self, topic: &str, partition: i32, offset: i64) -> usize {
        let bucket = self.bucket.as_deref().expect("a broker over S3");
        let prefix =
            format!("clusters/tansu_cluster/topics/{topic}/partitions/{partition:0>10}/records/");
        let listed = s3_client()
            .list_objects_v2()
            .bucket(bucket)
            .prefix(&prefix)
            .send()
            .await
            .expect("list the partition's batches");
        let mut deleted = 0;
        for object in listed.contents() {
            let key = object.key().expect("an object has a key");
            // `<first offset, 20 digits>.batch`, as tansu names a batch.
            let first: i64 = key[prefix.len()..]
                .trim_end_matches(".batch")
                .parse()
                .expect("a batch object is named by its first offset");
            if first < offset {
                s3_client()
                    .delete_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .expect("delete a batch");
                deleted += 1;
            }
        }
        deleted
    }
}
