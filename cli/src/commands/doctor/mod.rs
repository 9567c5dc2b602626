//! `hydrator doctor`: reads how a consumer's stream event source mappings are
//! wired to the hydrator (the mapping, its stream, the topic and its key, the
//! consumer's and the hydrator's roles) and says what is wrong, one finding a
//! line with the fix, before a failure is lost to it. [`checks`] judges,
//! [`policy`] reads IAM policies; this module reads AWS and prints.

mod checks;
mod policy;

use anyhow::{bail, Context, Result};
use aws_config::SdkConfig;

use crate::args::{DoctorArgs, Format};
use crate::Outcome;
use checks::{examine, Finding, Source, Wiring};
use policy::Policies;

/// Mappings read for one function, at most: one page of ListEventSourceMappings.
const MAX_MAPPINGS: i32 = 100;
/// Policies read for one role, at most, inline and attached each.
const MAX_POLICIES: usize = 50;
/// DynamoDB streams keep a record 24 hours, always.
const DYNAMODB_RETENTION_SECONDS: i64 = 86_400;

/// Checks every stream mapping asked for; `Incomplete` (exit 2) on any finding.
pub async fn run(sdk: &SdkConfig, args: &DoctorArgs, format: Format) -> Result<Outcome> {
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let iam = aws_sdk_iam::Client::new(sdk);
    let kinesis = aws_sdk_kinesis::Client::new(sdk);
    let sns = aws_sdk_sns::Client::new(sdk);

    let mappings = mappings(&lambda, args).await?;
    let topic_key_arn = match &args.key_arn {
        Some(key) => Some(key.clone()),
        None => topic_key(&sns, &args.topic_arn).await?,
    };
    let hydrator_policies = role_policies(&iam, &args.hydrator_role_arn).await?;

    let mut findings: Vec<Finding> = Vec::new();
    let mut checked = 0;
    for mapping in &mappings {
        let Some(stream_arn) = mapping.event_source_arn.clone() else {
            continue;
        };
        let source = match stream_arn.split(':').nth(2) {
            Some("kinesis") => Source::Kinesis,
            Some("dynamodb") => Source::DynamoDb,
            // SQS and Kafka mappings have no stream to hydrate from.
            _ => continue,
        };
        let (retention_seconds, stream_key_arn) = match source {
            Source::Kinesis => kinesis_stream(&kinesis, &stream_arn).await?,
            Source::DynamoDb => (DYNAMODB_RETENTION_SECONDS, None),
        };
        let function = mapping
            .function_arn
            .clone()
            .context("the mapping names no function")?;
        let consumer_role_arn = lambda
            .get_function_configuration()
            .function_name(&function)
            .send()
            .await
            .context("GetFunctionConfiguration of the consumer")?
            .role()
            .map(str::to_owned)
            .context("the consumer has no execution role")?;
        let consumer_policies = role_policies(&iam, &consumer_role_arn).await?;
        let wiring = Wiring {
            mapping_uuid: mapping.uuid.clone(),
            source,
            stream_arn,
            on_failure: mapping.on_failure.clone(),
            maximum_retry_attempts: mapping.maximum_retry_attempts,
            bisect_batch_on_function_error: mapping.bisect,
            maximum_record_age_seconds: mapping.maximum_record_age,
            retention_seconds,
            stream_key_arn,
            consumer_role_arn,
            consumer_policies,
            topic_arn: args.topic_arn.clone(),
            topic_key_arn: topic_key_arn.clone(),
            hydrator_role_arn: args.hydrator_role_arn.clone(),
            hydrator_policies: hydrator_policies.clone(),
            margin_seconds: i64::from(args.margin_hours) * 3600,
        };
        checked += 1;
        findings.extend(examine(&wiring));
    }
    if checked == 0 {
        bail!("no Kinesis or DynamoDB stream mapping to check");
    }
    print(&findings, checked, format)?;
    Ok(if findings.is_empty() {
        Outcome::Done
    } else {
        Outcome::Incomplete
    })
}

fn print(findings: &[Finding], checked: usize, format: Format) -> Result<()> {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"mappings_checked": checked, "findings": findings})
            )?
        ),
        Format::Human => {
            for finding in findings {
                println!(
                    "{}  {}: {}. Fix: {}",
                    finding.mapping, finding.check, finding.problem, finding.fix
                );
            }
            println!(
                "{checked} mapping(s) checked, {} finding(s)",
                findings.len()
            );
        }
    }
    Ok(())
}

/// The fields of an event source mapping the checks read.
struct Mapping {
    uuid: String,
    event_source_arn: Option<String>,
    function_arn: Option<String>,
    on_failure: Option<String>,
    maximum_retry_attempts: Option<i32>,
    bisect: bool,
    maximum_record_age: Option<i32>,
}

async fn mappings(lambda: &aws_sdk_lambda::Client, args: &DoctorArgs) -> Result<Vec<Mapping>> {
    if let Some(uuid) = &args.mapping {
        let m = lambda
            .get_event_source_mapping()
            .uuid(uuid)
            .send()
            .await
            .context("GetEventSourceMapping")?;
        return Ok(vec![Mapping {
            uuid: uuid.clone(),
            event_source_arn: m.event_source_arn().map(str::to_owned),
            function_arn: m.function_arn().map(str::to_owned),
            on_failure: m
                .destination_config()
                .and_then(|d| d.on_failure())
                .and_then(|o| o.destination())
                .map(str::to_owned),
            maximum_retry_attempts: m.maximum_retry_attempts(),
            bisect: m.bisect_batch_on_function_error().unwrap_or(false),
            maximum_record_age: m.maximum_record_age_in_seconds(),
        }]);
    }
    let function = args
        .function
        .as_deref()
        .context("--function or --mapping")?;
    let listed = lambda
        .list_event_source_mappings()
        .function_name(function)
        .max_items(MAX_MAPPINGS)
        .send()
        .await
        .context("ListEventSourceMappings of the consumer")?;
    Ok(listed
        .event_source_mappings()
        .iter()
        .map(|m| Mapping {
            uuid: m.uuid().unwrap_or_default().to_owned(),
            event_source_arn: m.event_source_arn().map(str::to_owned),
            function_arn: m.function_arn().map(str::to_owned),
            on_failure: m
                .destination_config()
                .and_then(|d| d.on_failure())
                .and_then(|o| o.destination())
                .map(str::to_owned),
            maximum_retry_attempts: m.maximum_retry_attempts(),
            bisect: m.bisect_batch_on_function_error().unwrap_or(false),
            maximum_record_age: m.maximum_record_age_in_seconds(),
        })
        .collect())
}

/// A Kinesis stream's retention, and its key when a customer managed key
/// (given by ARN) encrypts it; Kinesis's own key needs no grant.
async fn kinesis_stream(
    kinesis: &aws_sdk_kinesis::Client,
    stream_arn: &str,
) -> Result<(i64, Option<String>)> {
    let name = stream_arn.rsplit('/').next().unwrap_or(stream_arn);
    let summary = kinesis
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .context("DescribeStreamSummary of the mapping's stream")?;
    let summary = summary
        .stream_description_summary()
        .context("no stream summary")?;
    let key = summary
        .key_id()
        .filter(|key| key.starts_with("arn:") && !key.ends_with("alias/aws/kinesis"))
        .map(str::to_owned);
    Ok((i64::from(summary.retention_period_hours()) * 3600, key))
}

async fn topic_key(sns: &aws_sdk_sns::Client, topic_arn: &str) -> Result<Option<String>> {
    let attributes = sns
        .get_topic_attributes()
        .topic_arn(topic_arn)
        .send()
        .await
        .context("GetTopicAttributes of the hydrator's topic")?;
    Ok(attributes
        .attributes()
        .and_then(|a| a.get("KmsMasterKeyId"))
        .filter(|key| !key.is_empty())
        .cloned())
}

/// Every inline and attached policy document of a role, by the role's ARN.
async fn role_policies(iam: &aws_sdk_iam::Client, role_arn: &str) -> Result<Policies> {
    // role/NAME or role/path/NAME: the name is the last segment.
    let name = role_arn.rsplit('/').next().unwrap_or(role_arn);
    let mut policies = Policies::default();
    let inline = iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .context("ListRolePolicies")?;
    for policy_name in inline.policy_names().iter().take(MAX_POLICIES) {
        let policy = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(policy_name)
            .send()
            .await
            .context("GetRolePolicy")?;
        policies.add_document(policy.policy_document());
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .context("ListAttachedRolePolicies")?;
    for attached in attached.attached_policies().iter().take(MAX_POLICIES) {
        let Some(arn) = attached.policy_arn() else {
            continue;
        };
        let policy = iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .context("GetPolicy")?;
        let Some(version) = policy.policy().and_then(|p| p.default_version_id()) else {
            continue;
        };
        let document = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .context("GetPolicyVersion")?;
        if let Some(text) = document.policy_version().and_then(|v| v.document()) {
            policies.add_document(text);
        }
    }
    Ok(policies)
}
