//! The doctor's judgement, with no AWS in it: what was read about one
//! consumer's mapping, its stream and the roles, in; one finding a problem,
//! each with its fix, out.

use serde::Serialize;

use super::policy::Policies;

/// The stream a mapping reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Kinesis,
    DynamoDb,
}

/// What the doctor read about one event source mapping and what it touches.
#[derive(Debug, Clone)]
pub struct Wiring {
    pub mapping_uuid: String,
    pub source: Source,
    pub stream_arn: String,
    /// `DestinationConfig.OnFailure.Destination`, if any.
    pub on_failure: Option<String>,
    /// `MaximumRetryAttempts`; `None` or -1 retries until the record expires.
    pub maximum_retry_attempts: Option<i32>,
    pub bisect_batch_on_function_error: bool,
    /// `MaximumRecordAgeInSeconds`; `None` or -1 for no limit.
    pub maximum_record_age_seconds: Option<i32>,
    /// How long the stream keeps a record.
    pub retention_seconds: i64,
    /// The customer managed key of a KMS-encrypted Kinesis stream, by ARN.
    pub stream_key_arn: Option<String>,
    pub consumer_role_arn: String,
    pub consumer_policies: Policies,
    /// The hydrator's on-failure topic, and the key that encrypts it, if any.
    pub topic_arn: String,
    pub topic_key_arn: Option<String>,
    pub hydrator_role_arn: String,
    pub hydrator_policies: Policies,
    /// The time the hydrator needs between a failure and the end of retention.
    pub margin_seconds: i64,
}

/// One thing wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub mapping: String,
    pub check: &'static str,
    pub problem: String,
    pub fix: String,
}

/// Every finding on one mapping's wiring; none when it is wired right.
pub fn examine(wiring: &Wiring) -> Vec<Finding> {
    let mut findings = Vec::new();
    let uuid = &wiring.mapping_uuid;
    let mut found = |check: &'static str, problem: String, fix: String| {
        findings.push(Finding {
            mapping: uuid.clone(),
            check,
            problem,
            fix,
        })
    };

    if wiring.on_failure.as_deref() != Some(wiring.topic_arn.as_str()) {
        let now = match &wiring.on_failure {
            None => "has no on-failure destination".to_owned(),
            Some(other) => {
                format!("sends its on-failure records to {other}, not the hydrator's topic")
            }
        };
        found(
            "on_failure_destination",
            format!("the mapping {now}"),
            format!(
                "aws lambda update-event-source-mapping --uuid {uuid} --destination-config '{{\"OnFailure\":{{\"Destination\":\"{}\"}}}}'",
                wiring.topic_arn
            ),
        );
    }
    if matches!(wiring.maximum_retry_attempts, None | Some(-1)) {
        found(
            "infinite_retries",
            "the mapping retries a failing batch until its records expire, so it never fails over"
                .to_owned(),
            format!(
                "aws lambda update-event-source-mapping --uuid {uuid} --maximum-retry-attempts 2"
            ),
        );
    }
    if !wiring.bisect_batch_on_function_error {
        found(
            "no_bisection",
            "a failing batch is not split, so one poison record fails the whole batch over".to_owned(),
            format!("aws lambda update-event-source-mapping --uuid {uuid} --bisect-batch-on-function-error"),
        );
    }
    let oldest_failure = match wiring.maximum_record_age_seconds {
        Some(age) if age >= 0 => i64::from(age).min(wiring.retention_seconds),
        _ => wiring.retention_seconds,
    };
    let left = wiring.retention_seconds - oldest_failure;
    if left < wiring.margin_seconds {
        let room = wiring.retention_seconds - wiring.margin_seconds;
        let fix = if room >= 60 {
            format!(
                "aws lambda update-event-source-mapping --uuid {uuid} --maximum-record-age-in-seconds {}",
                room.min(604_800)
            )
        } else {
            "raise the stream's retention (aws kinesis increase-stream-retention-period)".to_owned()
        };
        found(
            "retention_margin",
            format!(
                "a batch may fail over with {}s of the stream's {}s retention left, less than the {}s the hydrator needs to read it",
                left, wiring.retention_seconds, wiring.margin_seconds
            ),
            fix,
        );
    }

    let role = &wiring.consumer_role_arn;
    let mut consumer_needs = vec![("sns:Publish", wiring.topic_arn.clone())];
    if let Some(key) = &wiring.topic_key_arn {
        consumer_needs.push(("kms:GenerateDataKey", key.clone()));
        consumer_needs.push(("kms:Decrypt", key.clone()));
    }
    let missing: Vec<String> = consumer_needs
        .iter()
        .filter(|(action, resource)| !wiring.consumer_policies.allows(action, resource))
        .map(|(action, resource)| format!("{action} on {resource}"))
        .collect();
    if !missing.is_empty() {
        found(
            "consumer_cannot_publish",
            format!("the consumer's role {role} may not {}", missing.join(", ")),
            "grant them to the role (infra/examples/wire-existing-consumer.yaml), and list it in PublisherRoleArns if set".to_owned(),
        );
    }

    let (service, what) = match wiring.source {
        Source::Kinesis => ("kinesis", "KinesisStreamArns"),
        Source::DynamoDb => ("dynamodb", "DynamoDbStreamArns"),
    };
    let mut hydrator_needs = vec![
        (
            format!("{service}:GetShardIterator"),
            wiring.stream_arn.clone(),
        ),
        (format!("{service}:GetRecords"), wiring.stream_arn.clone()),
    ];
    if let Some(key) = &wiring.stream_key_arn {
        hydrator_needs.push(("kms:Decrypt".to_owned(), key.clone()));
    }
    let missing: Vec<String> = hydrator_needs
        .iter()
        .filter(|(action, resource)| !wiring.hydrator_policies.allows(action, resource))
        .map(|(action, resource)| format!("{action} on {resource}"))
        .collect();
    if !missing.is_empty() {
        let key_hint = if wiring.stream_key_arn.is_some() {
            " and its key to KmsKeyArn"
        } else {
            ""
        };
        found(
            "stream_not_readable",
            format!(
                "the hydrator's role {} may not {}",
                wiring.hydrator_role_arn,
                missing.join(", ")
            ),
            format!("add the stream's ARN to the hydrator stack's {what}{key_hint}"),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policies(document: &str) -> Policies {
        let mut policies = Policies::default();
        policies.add_document(document);
        policies
    }

    fn wired_right() -> Wiring {
        Wiring {
            mapping_uuid: "m-1".into(),
            source: Source::Kinesis,
            stream_arn: "arn:aws:kinesis:eu-west-1:1:stream/orders".into(),
            on_failure: Some("arn:aws:sns:eu-west-1:1:failures".into()),
            maximum_retry_attempts: Some(2),
            bisect_batch_on_function_error: true,
            maximum_record_age_seconds: Some(3600),
            retention_seconds: 86_400,
            stream_key_arn: None,
            consumer_role_arn: "arn:aws:iam::1:role/consumer".into(),
            consumer_policies: policies(
                r#"{"Statement": [{"Effect": "Allow", "Action": ["sns:Publish"], "Resource": "arn:aws:sns:eu-west-1:1:failures"},
                                  {"Effect": "Allow", "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "arn:aws:kms:eu-west-1:1:key/k"}]}"#,
            ),
            topic_arn: "arn:aws:sns:eu-west-1:1:failures".into(),
            topic_key_arn: Some("arn:aws:kms:eu-west-1:1:key/k".into()),
            hydrator_role_arn: "arn:aws:iam::1:role/hydrator".into(),
            hydrator_policies: policies(
                r#"{"Statement": [{"Effect": "Allow", "Action": ["kinesis:GetShardIterator", "kinesis:GetRecords"], "Resource": "arn:aws:kinesis:eu-west-1:1:stream/orders"}]}"#,
            ),
            margin_seconds: 6 * 3600,
        }
    }

    fn checks(wiring: &Wiring) -> Vec<&'static str> {
        examine(wiring).into_iter().map(|f| f.check).collect()
    }

    #[test]
    fn a_consumer_wired_right_has_no_finding() {
        assert_eq!(examine(&wired_right()), []);
    }

    #[test]
    fn each_miswiring_is_one_finding_with_its_fix() {
        let mut wiring = wired_right();
        wiring.on_failure = Some("arn:aws:sqs:eu-west-1:1:elsewhere".into());
        wiring.maximum_retry_attempts = Some(-1);
        wiring.bisect_batch_on_function_error = false;
        wiring.maximum_record_age_seconds = None;
        wiring.consumer_policies = Policies::default();
        wiring.hydrator_policies = Policies::default();
        let findings = examine(&wiring);
        assert_eq!(
            checks(&wiring),
            [
                "on_failure_destination",
                "infinite_retries",
                "no_bisection",
                "retention_margin",
                "consumer_cannot_publish",
                "stream_not_readable"
            ]
        );
        assert!(findings[0].fix.contains("arn:aws:sns:eu-west-1:1:failures"));
        assert!(findings[3]
            .fix
            .ends_with("--maximum-record-age-in-seconds 64800"));
        assert!(findings[4]
            .problem
            .contains("kms:GenerateDataKey on arn:aws:kms:eu-west-1:1:key/k"));
    }

    #[test]
    fn a_record_age_close_to_the_retention_leaves_too_little_margin() {
        let mut wiring = wired_right();
        wiring.maximum_record_age_seconds = Some(86_400 - 3600);
        assert_eq!(checks(&wiring), ["retention_margin"]);
        wiring.maximum_record_age_seconds = Some(86_400 - 6 * 3600);
        assert_eq!(checks(&wiring), Vec::<&str>::new());
        // Retention shorter than the margin itself: only more retention helps.
        wiring.retention_seconds = 3600;
        wiring.maximum_record_age_seconds = Some(600);
        assert!(examine(&wiring)[0]
            .fix
            .contains("increase-stream-retention-period"));
    }

    #[test]
    fn an_encrypted_stream_needs_its_key_for_the_hydrator() {
        let mut wiring = wired_right();
        wiring.stream_key_arn = Some("arn:aws:kms:eu-west-1:1:key/stream".into());
        let findings = examine(&wiring);
        assert_eq!(findings.len(), 1);
        assert!(findings[0]
            .problem
            .contains("kms:Decrypt on arn:aws:kms:eu-west-1:1:key/stream"));
        assert!(findings[0].fix.contains("KmsKeyArn"));
    }
}
