//! A tansu broker of its own that keeps its log in S3 (moto's), for what the
//! in-memory broker cannot show: a log whose oldest records are gone. Kafka's
//! retention deletes a partition's oldest segments and moves its log start;
//! here the oldest batch objects are deleted from the bucket, and the broker
//! then lists its earliest offset as the first batch left.
//!
//! tansu orders a partition's batches by their objects' times, which moto
//! keeps to the second: see [`crate::kafka::produce_last_apart`].

use std::process::Stdio;
use std::time::Duration;

use crate::emulator::moto_endpoint;
use crate::queue::{create_bucket, s3_client};
use crate::workspace_root;

/// The broker, killed on drop.
pub struct S3Broker {
    /// `127.0.0.1:PORT`, the address it listens on and advertises.
    pub bootstrap: String,
    bucket: String,
    _broker: tokio::process::Child,
}

impl S3Broker {
    /// A broker over a new bucket.
    pub async fn start() -> S3Broker {
        let bucket = create_bucket("hydrator-kafka-log").await;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
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
            .args(["--storage-engine", &format!("s3://{bucket}/")])
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
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(&bootstrap).await.is_ok() {
                return S3Broker {
                    bootstrap,
                    bucket,
                    _broker: broker,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("tansu over S3 did not listen within 30 s");
    }

    /// Deletes the batches of `topic`'s `partition` whose first offset is
    /// below `offset`, as retention deletes a log's oldest segments; how many.
    pub async fn delete_before(&self, topic: &str, partition: i32, offset: i64) -> usize {
        let prefix =
            format!("clusters/tansu_cluster/topics/{topic}/partitions/{partition:0>10}/records/");
        let listed = s3_client()
            .list_objects_v2()
            .bucket(&self.bucket)
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
                    .bucket(&self.bucket)
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
