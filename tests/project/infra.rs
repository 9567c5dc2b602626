//! The deployment templates, read as CloudFormation reads them: the
//! hydrator's role grants exactly the parameterised resources, nothing with
//! a wildcard, keys only through the service that uses them; only this
//! account (or the roles named) may publish to the topic; the topic and the
//! queues are encrypted with the template's key; logs are JSON; every
//! path of a failure ends in a queue; a storm is batched, capped and paced;
//! cfn-lint and `sam validate --lint` pass. The alarms and the dashboard
//! are `monitoring.rs`'s.

use std::process::Command;

use serde_json::{json, Value};

use super::template::{
    actions, contains_wildcard, of_type, open_statements, resources_anywhere, statements, template,
};

#[test]
fn the_hydrator_reads_and_sends_only_where_its_parameters_say() {
    let template = template("infra/template.yaml");
    let kafka_topics = json!({"Fn::Split": [",", {"Fn::Sub": ["${TopicsOfEachCluster}/*", {"TopicsOfEachCluster":
        {"Fn::Join": ["/*,", {"Fn::Split": [",", {"Fn::Join": [":topic/", {"Fn::Split": [":cluster/",
            {"Fn::Join": [",", {"Ref": "KafkaClusterArns"}]}]}]}]}]}}]}]});
    let network_interfaces = json!([
        {"Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:network-interface/*"},
        {"Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:subnet/*"},
        {"Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:security-group/*"}
    ]);
    let expected: Vec<(&str, Value)> = vec![
        (
            "logs:CreateLogStream",
            json!({"Fn::GetAtt": ["HydratorLogs", "Arn"]}),
        ),
        (
            "logs:PutLogEvents",
            json!({"Fn::GetAtt": ["HydratorLogs", "Arn"]}),
        ),
        (
            "kinesis:GetShardIterator",
            json!({"Ref": "KinesisStreamArns"}),
        ),
        ("kinesis:GetRecords", json!({"Ref": "KinesisStreamArns"})),
        (
            "kinesis:DescribeStreamSummary",
            json!({"Ref": "KinesisStreamArns"}),
        ),
        (
            "dynamodb:GetShardIterator",
            json!({"Ref": "DynamoDbStreamArns"}),
        ),
        ("dynamodb:GetRecords", json!({"Ref": "DynamoDbStreamArns"})),
        ("kms:Decrypt", json!({"Ref": "KmsKeyArn"})),
        (
            "kms:GenerateDataKey",
            json!({"Fn::GetAtt": ["HydratorKey", "Arn"]}),
        ),
        ("kms:Decrypt", json!({"Fn::GetAtt": ["HydratorKey", "Arn"]})),
        (
            "sqs:SendMessage",
            json!({"Fn::If": ["CreateDlq", {"Fn::GetAtt": ["Dlq", "Arn"]}, {"Ref": "ExistingDlqArn"}]}),
        ),
        (
            "sqs:SendMessage",
            json!({"Fn::GetAtt": ["HydratorFailures", "Arn"]}),
        ),
        // The SQS trigger of the on-failure queue: what Lambda's poller needs.
        (
            "sqs:ReceiveMessage",
            json!({"Fn::GetAtt": ["OnFailureQueue", "Arn"]}),
        ),
        (
            "sqs:DeleteMessage",
            json!({"Fn::GetAtt": ["OnFailureQueue", "Arn"]}),
        ),
        (
            "sqs:GetQueueAttributes",
            json!({"Fn::GetAtt": ["OnFailureQueue", "Arn"]}),
        ),
        (
            "firehose:PutRecordBatch",
            json!({"Fn::Sub": "arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:deliverystream/${ArchiveFirehoseStreamName}"}),
        ),
        (
            "s3:GetObject",
            json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::${FailureBucketName}/*"}),
        ),
        (
            "kms:Decrypt",
            json!({"Fn::If": ["HasFailureBucketKey", {"Ref": "FailureBucketKmsKeyArn"}, {"Fn::GetAtt": ["HydratorKey", "Arn"]}]}),
        ),
        // Offloaded bodies: written under the prefix only, encrypted through S3.
        (
            "s3:PutObject",
            json!({"Fn::Sub": "${OffloadBucket.Arn}/hydrator/*"}),
        ),
        (
            "kms:GenerateDataKey",
            json!({"Fn::GetAtt": ["HydratorKey", "Arn"]}),
        ),
        // Kafka: the MSK clusters given, their topics (derived from each
        // cluster's ARN, tests/project/infra_wiring.rs resolves it), the
        // SCRAM secret, the client certificate's secret, and their keys
        // through Secrets Manager.
        ("kafka-cluster:Connect", json!({"Ref": "KafkaClusterArns"})),
        ("kafka-cluster:DescribeTopic", kafka_topics.clone()),
        ("kafka-cluster:ReadData", kafka_topics),
        (
            "secretsmanager:GetSecretValue",
            json!({"Ref": "KafkaScramSecretArn"}),
        ),
        ("kms:Decrypt", json!({"Ref": "KafkaScramSecretKmsKeyArn"})),
        (
            "secretsmanager:GetSecretValue",
            json!({"Ref": "KafkaClientCertificateSecretArn"}),
        ),
        (
            "kms:Decrypt",
            json!({"Ref": "KafkaClientCertificateSecretKmsKeyArn"}),
        ),
        // The network interfaces of a function in a VPC.
        ("ec2:CreateNetworkInterface", network_interfaces.clone()),
        ("ec2:DeleteNetworkInterface", network_interfaces.clone()),
        ("ec2:AssignPrivateIpAddresses", network_interfaces.clone()),
        ("ec2:UnassignPrivateIpAddresses", network_interfaces),
        ("ec2:DescribeNetworkInterfaces", json!("*")),
        ("ec2:DescribeSubnets", json!("*")),
        // The idempotency table: conditional puts, a read, the release of a
        // failed hydration's mark; its own table only.
        (
            "dynamodb:PutItem",
            json!({"Fn::GetAtt": ["Idempotency", "Arn"]}),
        ),
        (
            "dynamodb:GetItem",
            json!({"Fn::GetAtt": ["Idempotency", "Arn"]}),
        ),
        (
            "dynamodb:DeleteItem",
            json!({"Fn::GetAtt": ["Idempotency", "Arn"]}),
        ),
    ];
    let mut granted: Vec<(String, Value)> = statements(&template, "HydratorRole")
        .iter()
        .flat_map(|s| {
            assert_eq!(s["Effect"], "Allow");
            let resource = s["Resource"].clone();
            actions(s).into_iter().map(move |a| (a, resource.clone()))
        })
        .collect();
    let mut expected: Vec<(String, Value)> = expected
        .into_iter()
        .map(|(a, r)| (a.to_owned(), r))
        .collect();
    granted.sort_by_key(|(action, resource)| (action.clone(), resource.to_string()));
    expected.sort_by_key(|(action, resource)| (action.clone(), resource.to_string()));
    assert_eq!(granted, expected, "exactly these grants");

    // The grants on optional resources exist only when the resource is given.
    let conditions: Vec<String> = template["Resources"]["HydratorRole"]["Properties"]["Policies"]
        [0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.get("Fn::If").map(|b| b[0].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        conditions,
        [
            "HasKinesis",
            "HasDynamoDb",
            "HasKmsKey",
            "GrantMskClusters",
            "GrantMskClusters",
            "HasScramSecret",
            "HasScramSecretKey",
            "HasClientCertificateSecret",
            "HasClientCertificateSecretKey",
            "HasKafkaVpc",
            "HasKafkaVpc",
            "CreateOffloadBucket",
            "CreateOffloadBucket",
            "HasArchive",
            "HasFailureBucket",
            "DecryptFailureObjects",
            "CreateIdempotencyTable"
        ]
    );
}

#[test]
fn no_policy_in_either_template_grants_a_wildcard_resource() {
    for path in ["infra/template.yaml", "infra/demo/template.yaml"] {
        let template = template(path);
        // In a key policy `"Resource": "*"` is the key itself, and the only
        // way to name it there.
        let key_policies: Vec<String> = of_type(&template, "AWS::KMS::Key")
            .into_iter()
            .map(|(name, _)| format!("/Resources/{name}/Properties/KeyPolicy/"))
            .collect();
        let mut found = Vec::new();
        resources_anywhere(&template, "", &mut found);
        assert!(!found.is_empty(), "{path} has policies");
        for (at, resource) in found {
            let statement = template
                .pointer(at.trim_end_matches("/Resource"))
                .expect("the statement");
            if key_policies.iter().any(|p| at.starts_with(p)) {
                assert_eq!(resource, "*", "{path}{at}: a key policy names its own key");
            } else if statement["Sid"] == "DescribeVpcNetworkInterfaces" {
                // EC2's Describe calls take no resource: IAM accepts "*" alone.
                assert_eq!(resource, "*");
                assert_eq!(
                    actions(statement),
                    ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
                    "{path}{at}: only the calls that name no resource"
                );
            } else {
                assert!(!contains_wildcard(&resource), "{path}{at}: {resource}");
            }
        }
    }
}

#[test]
fn only_this_account_or_the_publisher_roles_may_publish_to_the_topic() {
    let template = template("infra/template.yaml");
    let topic = json!({"Ref": "OnFailureTopic"});
    let roles = json!({"Ref": "PublisherRoleArns"});
    let root = json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"});

    let parameter = &template["Parameters"]["PublisherRoleArns"];
    assert_eq!(parameter["Type"], "CommaDelimitedList");
    assert_eq!(parameter["Default"], "", "optional");
    assert_eq!(
        template["Conditions"]["HasPublisherRoles"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", roles]}, ""]}]})
    );

    let policies = of_type(&template, "AWS::SNS::TopicPolicy");
    assert_eq!(policies.len(), 1, "one topic policy");
    let policy = &policies[0].1["Properties"];
    assert_eq!(policy["Topics"], json!([topic]));
    let statements = open_statements(&policy["PolicyDocument"]);

    // Publishing to this topic, and nothing else, in every statement.
    for (_, statement) in &statements {
        assert_eq!(actions(statement), ["sns:Publish"], "{statement}");
        assert_eq!(statement["Resource"], topic, "{statement}");
        for negated in ["NotAction", "NotResource", "NotPrincipal"] {
            assert!(statement.get(negated).is_none(), "{negated} in {statement}");
        }
    }
    assert_eq!(statements.len(), 2, "an Allow and a Deny");

    // The Allow: to the roles when given, else to the account; from this
    // account either way.
    let (needs, allow) = &statements[0];
    assert_eq!(allow["Effect"], "Allow");
    assert_eq!(*needs, None, "always there");
    let principal = allow["Principal"].as_object().unwrap();
    assert_eq!(principal.len(), 1, "AWS principals only: {allow}");
    let branches = principal["AWS"]["Fn::If"]
        .as_array()
        .expect("the principal depends on PublisherRoleArns");
    assert_eq!(branches[0], "HasPublisherRoles");
    assert_eq!(branches[1], roles, "the roles when given");
    assert_eq!(branches[2], root, "else this account");
    assert_eq!(
        allow["Condition"],
        json!({"StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}})
    );

    // The Deny, when roles are given: nobody else, whatever IAM allows.
    let (needs, deny) = &statements[1];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(needs.as_deref(), Some("HasPublisherRoles"));
    assert_eq!(deny["Principal"], "*");
    assert_eq!(
        deny["Condition"],
        json!({"ArnNotEquals": {"aws:PrincipalArn": roles}})
    );
}

#[test]
fn the_topic_and_every_queue_are_encrypted_with_the_templates_rotating_key() {
    let template = template("infra/template.yaml");
    let key = json!({"Fn::GetAtt": ["HydratorKey", "Arn"]});
    let hydrator_key = &template["Resources"]["HydratorKey"];
    assert_eq!(hydrator_key["Type"], "AWS::KMS::Key");
    assert_eq!(hydrator_key["Properties"]["EnableKeyRotation"], true);
    let aliases = of_type(&template, "AWS::KMS::Alias");
    assert_eq!(aliases.len(), 1);
    assert_eq!(
        aliases[0].1["Properties"]["TargetKeyId"],
        json!({"Ref": "HydratorKey"})
    );

    let mut encrypted = Vec::new();
    for kind in ["AWS::SNS::Topic", "AWS::SQS::Queue"] {
        for (name, resource) in of_type(&template, kind) {
            assert_eq!(resource["Properties"]["KmsMasterKeyId"], key, "{name}");
            assert!(
                resource["Properties"].get("SqsManagedSseEnabled").is_none(),
                "{name}: one encryption"
            );
            encrypted.push(name);
        }
    }
    encrypted.sort();
    assert_eq!(
        encrypted,
        [
            "Dlq",
            "HydratorFailures",
            "OnFailureQueue",
            "OnFailureTopic"
        ]
    );

    // The key policy: the account administers the key and IAM policies grant
    // its use; SNS may use it for this account's topics (the subscription's
    // deliveries into the encrypted queues). Nobody else.
    let statements = open_statements(&hydrator_key["Properties"]["KeyPolicy"]);
    let root = json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"});
    assert_eq!(statements.len(), 2, "{statements:?}");
    let (needs, account) = &statements[0];
    assert_eq!(*needs, None);
    assert_eq!(account["Effect"], "Allow");
    assert_eq!(account["Principal"], json!({"AWS": root}));
    assert_eq!(actions(account), ["kms:*"]);
    let (needs, sns) = &statements[1];
    assert_eq!(*needs, None);
    assert_eq!(sns["Effect"], "Allow");
    assert_eq!(sns["Principal"], json!({"Service": "sns.amazonaws.com"}));
    assert_eq!(actions(sns), ["kms:GenerateDataKey*", "kms:Decrypt"]);
    assert_eq!(
        sns["Condition"],
        json!({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}})
    );

    // Consumers' roles need the key to publish; the stack says which it is.
    assert_eq!(template["Outputs"]["KeyArn"]["Value"], key);
    assert_eq!(
        template["Outputs"]["HydratorRoleArn"]["Value"],
        json!({"Fn::GetAtt": ["HydratorRole", "Arn"]})
    );
}

#[test]
fn the_hydrator_uses_keys_only_through_the_service_and_describes_only_kinesis_summaries() {
    let template = template("infra/template.yaml");
    let statements = statements(&template, "HydratorRole");
    for statement in &statements {
        for action in actions(statement) {
            // The retention margin needs a Kinesis stream's retention
            // (DescribeStreamSummary); a DynamoDB stream's is fixed.
            // A Kafka topic's description is the fetch's metadata; EC2's, the
            // VPC's network interfaces Lambda manages.
            assert!(
                !action.contains("Describe")
                    || [
                        "kinesis:DescribeStreamSummary",
                        "kafka-cluster:DescribeTopic",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeSubnets"
                    ]
                    .contains(&action.as_str()),
                "the function reads streams with GetShardIterator and GetRecords: {action}"
            );
        }
    }
    let mut through = Vec::new();
    for statement in &statements {
        let all = actions(statement);
        if !all.iter().any(|a| a.starts_with("kms:")) {
            continue;
        }
        assert!(
            all.iter()
                .all(|a| a.starts_with("kms:") && !a.contains('*')),
            "a key grant stands alone and names its actions: {statement}"
        );
        let conditions = statement["Condition"]
            .as_object()
            .unwrap_or_else(|| panic!("a key grant without a condition: {statement}"));
        assert_eq!(conditions.len(), 1, "{statement}");
        let equals = conditions["StringEquals"].as_object().unwrap();
        assert_eq!(equals.len(), 1, "{statement}");
        through.push((
            statement["Resource"].to_string(),
            equals["kms:ViaService"].clone(),
        ));
    }
    through.sort_by_key(|(resource, _)| resource.clone());
    assert_eq!(
        through,
        [
            (
                json!({"Fn::GetAtt": ["HydratorKey", "Arn"]}).to_string(),
                json!({"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"})
            ),
            (
                json!({"Fn::GetAtt": ["HydratorKey", "Arn"]}).to_string(),
                json!({"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"})
            ),
            (
                json!({"Fn::If": ["HasFailureBucketKey", {"Ref": "FailureBucketKmsKeyArn"}, {"Fn::GetAtt": ["HydratorKey", "Arn"]}]}).to_string(),
                json!({"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"})
            ),
            (
                json!({"Ref": "KafkaClientCertificateSecretKmsKeyArn"}).to_string(),
                json!({"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"})
            ),
            (
                json!({"Ref": "KafkaScramSecretKmsKeyArn"}).to_string(),
                json!({"Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"})
            ),
            (
                json!({"Ref": "KmsKeyArn"}).to_string(),
                json!({"Fn::Sub": "kinesis.${AWS::Region}.amazonaws.com"})
            ),
        ]
    );
}

#[test]
fn the_offload_bucket_is_private_encrypted_and_outlives_the_dlqs_messages() {
    let template = template("infra/template.yaml");
    let bucket = &template["Resources"]["OffloadBucket"]["Properties"];
    let block = &bucket["PublicAccessBlockConfiguration"];
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[setting], true, "{setting}");
    }
    let encryption = &bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
    assert_eq!(
        encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "aws:kms"
    );
    assert_eq!(
        encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"],
        json!({"Fn::GetAtt": ["HydratorKey", "Arn"]})
    );
    let days = bucket["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"]
        .as_u64()
        .unwrap();
    let dlq_seconds = template["Resources"]["Dlq"]["Properties"]["MessageRetentionPeriod"]
        .as_u64()
        .unwrap();
    assert!(
        days * 86_400 > dlq_seconds,
        "objects outlive the messages that point at them"
    );
    // The function writes where its grant allows, encrypted with that key.
    let variables = &template["Resources"]["Hydrator"]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        variables["OFFLOAD_PREFIX"],
        json!({"Fn::If": ["CreateOffloadBucket", "hydrator/", {"Ref": "AWS::NoValue"}]})
    );
    assert_eq!(
        variables["OFFLOAD_KMS_KEY_ID"]["Fn::If"][1],
        json!({"Fn::GetAtt": ["HydratorKey", "Arn"]})
    );
}

#[test]
fn every_function_of_both_templates_logs_json_into_its_own_group() {
    for path in ["infra/template.yaml", "infra/demo/template.yaml"] {
        let template = template(path);
        assert!(
            template["Globals"]["Function"]["LoggingConfig"].is_null(),
            "{path}: set per function"
        );
        let functions: Vec<(String, Value)> =
            ["AWS::Serverless::Function", "AWS::Lambda::Function"]
                .iter()
                .flat_map(|kind| of_type(&template, kind))
                .collect();
        assert!(!functions.is_empty(), "{path} has functions");
        for (name, function) in functions {
            let logging = &function["Properties"]["LoggingConfig"];
            assert_eq!(logging["LogFormat"], "JSON", "{path} {name}");
            assert_eq!(logging["ApplicationLogLevel"], "INFO", "{path} {name}");
            assert_eq!(logging["SystemLogLevel"], "WARN", "{path} {name}");
            let group = logging["LogGroup"]["Ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{path} {name}: a log group of the template"));
            assert_eq!(
                template["Resources"][group]["Type"], "AWS::Logs::LogGroup",
                "{path} {name}"
            );
        }
    }
}

#[test]
fn every_failure_of_the_hydrator_ends_in_a_queue() {
    let template = template("infra/template.yaml");
    let resources = &template["Resources"];
    let function = &resources["Hydrator"];
    let properties = &function["Properties"];
    let failures = json!({"Fn::GetAtt": ["HydratorFailures", "Arn"]});
    let topic = json!({"Ref": "OnFailureTopic"});
    // S3 notifications are asynchronous: retried, then kept.
    let invoke = &properties["EventInvokeConfig"];
    assert_eq!(
        invoke["DestinationConfig"]["OnFailure"],
        json!({"Type": "SQS", "Destination": failures})
    );
    assert!(invoke["MaximumRetryAttempts"].as_u64().unwrap() <= 2);

    // The topic delivers raw records to the on-failure queue, or, when it
    // cannot, to the failure queue.
    let subscriptions = of_type(&template, "AWS::SNS::Subscription");
    assert_eq!(subscriptions.len(), 1, "one way out of the topic");
    let subscription = &subscriptions[0].1["Properties"];
    assert_eq!(subscription["TopicArn"], topic);
    assert_eq!(subscription["Protocol"], "sqs");
    assert_eq!(
        subscription["Endpoint"],
        json!({"Fn::GetAtt": ["OnFailureQueue", "Arn"]})
    );
    assert_eq!(subscription["RawMessageDelivery"], true);
    assert_eq!(
        subscription["RedrivePolicy"]["deadLetterTargetArn"],
        failures
    );

    // The queue feeds the function; a record failed five times moves, raw,
    // to the failure queue.
    let queue = &resources["OnFailureQueue"]["Properties"];
    assert_eq!(queue["RedrivePolicy"]["deadLetterTargetArn"], failures);
    assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"], 5);
    assert_eq!(queue["MessageRetentionPeriod"], 1_209_600);
    let events = properties["Events"].as_object().unwrap();
    assert_eq!(events.len(), 1, "the queue is the function's one trigger");
    let trigger = &events["OnFailureRecords"];
    assert_eq!(trigger["Type"], "SQS");
    assert_eq!(
        trigger["Properties"]["Queue"],
        json!({"Fn::GetAtt": ["OnFailureQueue", "Arn"]})
    );
    assert_eq!(
        trigger["Properties"]["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"]),
        "only the messages the function names are retried"
    );

    // SNS may write to both queues, for that topic only.
    for policy in ["HydratorFailuresPolicy", "OnFailureQueuePolicy"] {
        let statement = &resources[policy]["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(
            statement["Principal"]["Service"], "sns.amazonaws.com",
            "{policy}"
        );
        assert_eq!(actions(statement), ["sqs:SendMessage"], "{policy}");
        assert_eq!(
            statement["Condition"]["ArnEquals"]["aws:SourceArn"], topic,
            "{policy}"
        );
    }
    // Documents go to the DLQ the function sends to.
    assert_eq!(
        properties["Environment"]["Variables"]["DLQ_QUEUE_URL"],
        json!({"Fn::If": ["CreateDlq", {"Ref": "Dlq"}, {"Ref": "ExistingDlqUrl"}]})
    );
    for alarm in [
        "DlqDepthAlarm",
        "HydratorErrorsAlarm",
        "HydratorFailuresAlarm",
    ] {
        assert_eq!(
            template["Resources"][alarm]["Type"], "AWS::CloudWatch::Alarm",
            "{alarm}"
        );
    }
    assert!(template["Resources"]["HydratorLogs"]["Properties"]["RetentionInDays"].is_object());
}

/// A storm's failures reach the function in batches, as few processes at a
/// time as the parameters say, each within its read budget; each failure is
/// delivered once through the table.
#[test]
fn a_storm_is_batched_capped_paced_and_delivered_once() {
    let template = template("infra/template.yaml");
    let parameters = &template["Parameters"];
    let function = &template["Resources"]["Hydrator"]["Properties"];
    let trigger = &function["Events"]["OnFailureRecords"]["Properties"];
    assert_eq!(trigger["BatchSize"], json!({"Ref": "QueueBatchSize"}));
    assert_eq!(
        trigger["MaximumBatchingWindowInSeconds"],
        json!({"Ref": "QueueBatchingWindowSeconds"})
    );
    assert_eq!(
        trigger["ScalingConfig"]["MaximumConcurrency"],
        json!({"Ref": "QueueMaximumConcurrency"})
    );
    assert_eq!(
        function["ReservedConcurrentExecutions"],
        json!({"Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]})
    );
    let variables = &function["Environment"]["Variables"];
    assert_eq!(
        variables["READS_PER_SHARD_PER_SECOND"],
        json!({"Ref": "ReadsPerShardPerSecond"})
    );
    assert_eq!(
        variables["IDEMPOTENCY_TABLE"],
        json!({"Fn::If": ["CreateIdempotencyTable", {"Ref": "Idempotency"}, {"Ref": "AWS::NoValue"}]})
    );

    // Safe defaults: large batches gathered for a few seconds (a batch over
    // 10 needs a window), SQS's least concurrency, two reads a second a
    // shard, the table on; the limits are the services' own.
    let default = |name: &str| parameters[name]["Default"].clone();
    assert_eq!(default("QueueBatchSize"), 100);
    assert_eq!(parameters["QueueBatchSize"]["MaxValue"], 10_000);
    assert_eq!(default("QueueBatchingWindowSeconds"), 5);
    assert_eq!(parameters["QueueBatchingWindowSeconds"]["MinValue"], 1);
    assert_eq!(parameters["QueueBatchingWindowSeconds"]["MaxValue"], 300);
    assert_eq!(default("QueueMaximumConcurrency"), 2);
    assert_eq!(parameters["QueueMaximumConcurrency"]["MinValue"], 2);
    assert_eq!(default("ReadsPerShardPerSecond"), 2);
    assert_eq!(parameters["ReadsPerShardPerSecond"]["MaxValue"], 5);
    assert_eq!(default("IdempotencyTable"), "true");

    // The queue hides a message six times the function's timeout, whatever
    // timeout is chosen (Lambda refuses a trigger whose queue hides a
    // message for less than the timeout).
    assert_eq!(
        template["Resources"]["OnFailureQueue"]["Properties"]["VisibilityTimeout"],
        json!({"Fn::FindInMap": ["QueueVisibility", {"Ref": "Timeout"}, "Seconds"]})
    );
    let timeouts = parameters["Timeout"]["AllowedValues"].as_array().unwrap();
    assert!(timeouts.contains(&default("Timeout")));
    let visibility = template["Mappings"]["QueueVisibility"].as_object().unwrap();
    assert_eq!(visibility.len(), timeouts.len());
    for timeout in timeouts {
        let seconds = timeout.as_u64().unwrap();
        assert!(seconds <= 900, "Lambda's longest timeout");
        assert_eq!(
            visibility[&seconds.to_string()]["Seconds"],
            seconds * 6,
            "Timeout {seconds}"
        );
    }

    // The table: keyed by the failure's id, items removed by TTL, encrypted.
    let table = &template["Resources"]["Idempotency"]["Properties"];
    assert_eq!(
        table["KeySchema"],
        json!([{"AttributeName": "id", "KeyType": "HASH"}])
    );
    assert_eq!(
        table["TimeToLiveSpecification"],
        json!({"AttributeName": "expires", "Enabled": true})
    );
    assert_eq!(table["SSESpecification"]["SSEEnabled"], true);
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
}

#[test]
fn the_function_is_built_by_cargo_lambda_for_arm64_at_128_mb() {
    let template = template("infra/template.yaml");
    let function = &template["Resources"]["Hydrator"];
    assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
    assert_eq!(function["Metadata"]["BuildProperties"]["Binary"], "hydrate");
    assert_eq!(function["Properties"]["Runtime"], "provided.al2023");
    assert_eq!(
        function["Properties"]["Architectures"],
        json!([{"Ref": "Architecture"}])
    );
    assert_eq!(template["Parameters"]["Architecture"]["Default"], "arm64");
    assert_eq!(template["Parameters"]["MemorySize"]["Default"], 128);
}

#[test]
fn the_demo_wires_failing_consumers_to_the_hydrator() {
    let template = template("infra/demo/template.yaml");
    let topic = json!({"Fn::GetAtt": ["Hydrator", "Outputs.OnFailureTopicArn"]});
    let events = template["Resources"]["FailingConsumer"]["Properties"]["Events"]
        .as_object()
        .unwrap();
    let kinds: Vec<&str> = events
        .values()
        .map(|e| e["Type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Kinesis", "DynamoDB"]);
    for (name, event) in events {
        let p = &event["Properties"];
        assert_eq!(p["BisectBatchOnFunctionError"], true, "{name}");
        assert!(p["MaximumRetryAttempts"].as_u64().unwrap() <= 2, "{name}");
        assert_eq!(
            p["DestinationConfig"]["OnFailure"],
            json!({"Type": "SNS", "Destination": topic}),
            "{name}"
        );
    }
    let hydrator = &template["Resources"]["Hydrator"]["Properties"];
    assert_eq!(hydrator["Location"], "../template.yaml");
    assert_eq!(
        hydrator["Parameters"]["KinesisStreamArns"],
        json!({"Fn::GetAtt": ["Orders", "Arn"]})
    );
    assert_eq!(
        hydrator["Parameters"]["DynamoDbStreamArns"],
        json!({"Fn::GetAtt": ["OrdersTable", "StreamArn"]})
    );

    // Only the consumer's role may publish; it may, to the encrypted topic.
    let role = json!({"Fn::GetAtt": ["FailingConsumerRole", "Arn"]});
    assert_eq!(hydrator["Parameters"]["PublisherRoleArns"], role);
    let publishes = &template["Resources"]["FailingConsumerPublishes"];
    assert_eq!(publishes["Type"], "AWS::IAM::RolePolicy");
    assert_eq!(
        publishes["Properties"]["RoleName"],
        json!({"Ref": "FailingConsumerRole"})
    );
    let statements: Vec<Value> = open_statements(&publishes["Properties"]["PolicyDocument"])
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(statements.len(), 2);
    assert_eq!(actions(&statements[0]), ["sns:Publish"]);
    assert_eq!(statements[0]["Resource"], topic);
    assert_eq!(
        actions(&statements[1]),
        ["kms:GenerateDataKey*", "kms:Decrypt"]
    );
    assert_eq!(
        statements[1]["Resource"],
        json!({"Fn::GetAtt": ["Hydrator", "Outputs.KeyArn"]})
    );
    assert_eq!(
        statements[1]["Condition"],
        json!({"StringEquals": {"kms:ViaService": {"Fn::Sub": "sns.${AWS::Region}.amazonaws.com"}}})
    );
    // The mappings are created once the role may publish.
    assert_eq!(
        template["Resources"]["FailingConsumer"]["DependsOn"],
        "FailingConsumerPublishes"
    );
}

/// The templates as CloudFormation's own linters see them.
#[test]
fn cfn_lint_and_sam_validate_pass() {
    let root = hydrator_tests::workspace_root();
    let bin = root.join(".tools/sam/bin");
    let run = |program: &str, args: &[&str]| {
        let output = Command::new(bin.join(program))
            .args(args)
            .current_dir(&root)
            .env("SAM_CLI_TELEMETRY", "0")
            .output()
            .unwrap_or_else(|e| panic!("run {program} (scripts/tools.sh installs it): {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    };
    run(
        "cfn-lint",
        &["infra/template.yaml", "infra/demo/template.yaml"],
    );
    for template in ["infra/template.yaml", "infra/demo/template.yaml"] {
        run("sam", &["validate", "--lint", "-t", template]);
    }
}
