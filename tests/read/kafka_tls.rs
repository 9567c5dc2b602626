//! Kafka read over TLS, as MSK's TLS, SCRAM and IAM listeners require: a
//! broker reachable only through TLS, records written by kafka-python over
//! TLS, read back exactly with the system's trusted roots (the test's
//! certificate authority given as `SSL_CERT_FILE`, as an operator adds a
//! private authority); a plaintext client gets nothing from it. With mutual
//! TLS, the front takes only a client with a certificate the authority
//! signed: the hydrator presents the one its secret holds. A broker that
//! requires SASL refuses the hydrator's SCRAM client the user it does not hold.
//!
//! Needs `scripts/tools.sh` (tansu, and Python's `cryptography` in .tools/venv).

use hydrate::{
    read_kafka_failure, ClientCertificate, Hydrator, KafkaAuth, KafkaAuthMode, KafkaFailure,
    KafkaLimits, KafkaSettings, PartitionError, Settings,
};
use hydrator_tests::emulator::sdk_config;
use hydrator_tests::kafka::{produce_as, produce_to, Outgoing};
use hydrator_tests::kafka_broker::OwnBroker;
use hydrator_tests::kafka_tls::TlsBroker;
use hydrator_tests::stream::unique_suffix;
use serde_json::json;

fn failure_at(bootstrap: &str, topic: &str, first: i64, last: i64) -> KafkaFailure {
    let record = failure_record_at(bootstrap, topic, first, last);
    KafkaFailure::parse(&record.to_string()).expect("the record is valid")
}

fn failure_record_at(bootstrap: &str, topic: &str, first: i64, last: i64) -> serde_json::Value {
    json!({
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
    })
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

fn pem(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).expect("a PEM file of the test authority")
}

#[tokio::test]
async fn a_cluster_that_asks_for_a_client_certificate_is_read_with_it_and_only_with_it() {
    let broker = TlsBroker::start_mutual().await;
    std::env::set_var("SSL_CERT_FILE", &broker.ca);
    let topic = format!("payments-mtls-{}", unique_suffix());
    let outgoing: Vec<Outgoing> = (0u8..4)
        .map(|i| Outgoing {
            partition: 0,
            key: None,
            value: Some(format!(r#"{{"payment":{i}}}"#).into_bytes()),
            headers: vec![],
        })
        .collect();
    let client = (
        broker.client_certificate.as_path(),
        broker.client_key.as_path(),
    );
    let acknowledged = produce_as(
        &broker.bootstrap,
        Some(&broker.ca),
        Some(client),
        &topic,
        1,
        &outgoing,
    );
    assert_eq!(acknowledged.len(), 4);
    let failure = failure_at(&broker.bootstrap, &topic, 1, 3);

    // The library: the client certificate opens the cluster; without one,
    // the front ends the handshake and nothing is read.
    let certificate =
        ClientCertificate::from_pem(&pem(&broker.client_certificate), &pem(&broker.client_key))
            .expect("the test authority's client certificate is usable");
    let reads = read_kafka_failure(
        &failure,
        &KafkaAuth::MutualTls(certificate),
        &KafkaLimits::default(),
    )
    .await
    .expect("read with the client certificate");
    let offsets: Vec<i64> = reads[0].records.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, [1, 2, 3]);
    assert_eq!(reads[0].records[0].value, outgoing[1].value);
    let without = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        read_kafka_failure(&failure, &KafkaAuth::Tls, &KafkaLimits::default()),
    )
    .await;
    assert!(
        !matches!(without, Ok(Ok(ref reads)) if reads.iter().any(|r| !r.records.is_empty())),
        "a client without a certificate read records"
    );

    // The function: KAFKA_AUTH=mtls, the certificate from a Secrets Manager
    // secret in Lambda's form (moto), the document returned.
    let secret = serde_json::json!({
        "certificate": pem(&broker.client_certificate),
        "privateKey": pem(&broker.client_key),
    });
    let arn = aws_sdk_secretsmanager::Client::new(&sdk_config())
        .create_secret()
        .name(format!("hydrator-mtls-{}", unique_suffix()))
        .secret_string(secret.to_string())
        .send()
        .await
        .expect("create the secret")
        .arn
        .expect("its ARN");
    let settings = Settings {
        kafka: KafkaSettings {
            bootstrap_allowlist: vec![broker.bootstrap.clone()],
            auth: KafkaAuthMode::MutualTls,
            client_certificate_secret_arn: Some(arn),
            ..KafkaSettings::default()
        },
        ..Settings::default()
    };
    let record = failure_record_at(&broker.bootstrap, &topic, 1, 3);
    let response = Hydrator::new(sdk_config(), settings)
        .handle(record.to_string())
        .await
        .expect("hydrated over mutual TLS");
    let document = serde_json::to_value(&response).unwrap();
    assert_eq!(document["hydration"]["status"], "complete", "{document}");
    assert_eq!(document["hydration"]["hydratedRecords"], 3);
    let records = document["event"]["records"][format!("{topic}-0")]
        .as_array()
        .expect("the partition's records");
    assert_eq!(records.len(), 3);
}

/// A broker that requires SASL (`OwnBroker::authenticating`): this tansu
/// offers SCRAM and OAUTHBEARER but holds no user, so every login fails, and
/// the hydrator's SASL/SCRAM-SHA-512 client is shown as far as the broker
/// goes: it runs the handshake and is refused, classed `AccessDenied` (not
/// `Connection`: the broker was reached), and not retried until the call's
/// 20 s deadline: the broker would refuse the same user again. SASL/PLAIN,
/// which this broker does not offer (it closes the connection, which is
/// retried), and no SASL at all read nothing; the three run at once.
#[tokio::test]
async fn a_broker_that_requires_sasl_refuses_a_user_it_does_not_hold() {
    let broker = OwnBroker::authenticating().await;
    let failure = failure_at(&broker.bootstrap, "orders", 0, 3);
    let read = |auth: KafkaAuth| {
        let failure = failure.clone();
        async move {
            let started = std::time::Instant::now();
            let read = tokio::time::timeout(
                std::time::Duration::from_secs(60),
                read_kafka_failure(&failure, &auth, &KafkaLimits::default()),
            )
            .await
            .expect("answered within a minute");
            (read.err(), started.elapsed())
        }
    };
    let (username, password) = ("consumer".to_owned(), "not-held".to_owned());
    let scram = KafkaAuth::ScramSha512 {
        username: username.clone(),
        password: password.clone(),
        tls: false,
    };
    let plain = KafkaAuth::Plain {
        username,
        password,
        tls: false,
    };
    let (scram, plain, none) = tokio::join!(read(scram), read(plain), read(KafkaAuth::Plaintext));
    assert_eq!(scram.0, Some(PartitionError::Broker("AccessDenied")));
    assert!(
        scram.1 < std::time::Duration::from_secs(10),
        "a refused login is not retried: {:?}",
        scram.1
    );
    let (plain, none) = (plain.0, none.0);
    assert!(
        plain.is_some(),
        "SASL/PLAIN read from a broker that does not offer it"
    );
    assert!(
        none.is_some(),
        "a client without SASL read from a broker that requires it"
    );
}
