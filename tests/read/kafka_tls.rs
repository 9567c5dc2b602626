//! Kafka read over TLS, as MSK's TLS, SCRAM and IAM listeners require: a
//! broker reachable only through TLS, records written by kafka-python over
//! TLS, read back exactly with the system's trusted roots (the test's
//! certificate authority given as `SSL_CERT_FILE`, as an operator adds a
//! private authority); a plaintext client gets nothing from it.
//!
//! Needs `scripts/tools.sh` (tansu, and Python's `cryptography` in .tools/venv).

use hydrate::{read_kafka_failure, KafkaAuth, KafkaFailure, KafkaLimits};
use hydrator_tests::kafka::{produce_to, Outgoing};
use hydrator_tests::kafka_tls::TlsBroker;
use hydrator_tests::stream::unique_suffix;
use serde_json::json;

fn failure_at(bootstrap: &str, topic: &str, first: i64, last: i64) -> KafkaFailure {
    let record = json!({
        "requestContext": {"requestId": "r-tls", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:consumer",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-12-06T10:00:00.000Z",
        "KafkaBatchInfo": {
            "batchSize": last - first + 1,
            "bootstrapServers": bootstrap,
            "recordsInfo": {
                format!("{topic}-0"): {"firstRecordOffset": first.to_string(), "lastRecordOffset": last.to_string()}
            }
        },
    });
    KafkaFailure::parse(&record.to_string()).expect("the record is valid")
}

#[tokio::test]
async fn a_cluster_behind_tls_is_read_exactly_with_the_trusted_roots() {
    let broker = TlsBroker::start().await;
    // The only TLS client settings of this test process: read once, at the first TLS connection.
    std::env::set_var("SSL_CERT_FILE", &broker.ca);
    let topic = format!("payments-tls-{}", unique_suffix());
    let outgoing: Vec<Outgoing> = (0u8..6)
        .map(|i| Outgoing {
            partition: 0,
            key: Some(vec![0xfe, i]),
            value: Some(format!(r#"{{"payment":{i}}}"#).into_bytes()),
            headers: vec![],
        })
        .collect();
    let acknowledged = produce_to(&broker.bootstrap, Some(&broker.ca), &topic, 1, &outgoing);
    assert_eq!(
        acknowledged.iter().map(|a| a.offset).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );

    let failure = failure_at(&broker.bootstrap, &topic, 1, 4);
    let reads = read_kafka_failure(&failure, &KafkaAuth::Tls, &KafkaLimits::default())
        .await
        .expect("the broker is reachable over TLS");
    assert_eq!(reads.len(), 1);
    let read = &reads[0];
    assert!(read.gaps.is_empty(), "{:?}", read.gaps);
    let values: Vec<(i64, Option<Vec<u8>>)> = read
        .records
        .iter()
        .map(|r| (r.offset, r.value.clone()))
        .collect();
    let written: Vec<(i64, Option<Vec<u8>>)> = (1..=4)
        .map(|i| (i as i64, outgoing[i].value.clone()))
        .collect();
    assert_eq!(values, written);

    // The listener speaks TLS only: plaintext reads nothing from it.
    let plaintext = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        read_kafka_failure(&failure, &KafkaAuth::Plaintext, &KafkaLimits::default()),
    )
    .await;
    assert!(
        !matches!(plaintext, Ok(Ok(ref reads)) if reads.iter().any(|r| !r.records.is_empty())),
        "a plaintext client read records from a TLS listener"
    );
}
