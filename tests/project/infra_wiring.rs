//! How a consumer is wired to the hydrator, read from `infra/template.yaml`
//! as CloudFormation reads it: the S3 on-failure path (S3 may invoke the
//! function for that bucket of this account alone, the bucket the template
//! creates notifies it, SSE-KMS objects can be decrypted through S3 only).
//! checkov finds nothing it is not told why to skip, and the environment is
//! encrypted. And what docs/deployment.md tells a deployer holds: its table of
//! the role's grants is the template's, the outputs are exported, the
//! CloudFormation example wires a mapping through them, `samconfig.toml` and
//! the manifest's `cargo lambda deploy` settings are read as written.
//! `tests/project/infra.rs` holds the rest of the template's properties.

use std::process::Command;

use serde_json::{json, Value};

use super::template::template as decoded;

/// The template as JSON, decoded by cfn-lint's parser (in `.tools/sam`).
fn template() -> Value {
    decoded("infra/template.yaml")
}

/// Runs a program of `.tools/`, from `dir`, and fails the test unless it succeeds.
fn run_tool(program: &str, args: &[&str], dir: &str) -> String {
    let root = hydrator_tests::workspace_root();
    let output = Command::new(root.join(".tools").join(program))
        .args(args)
        .current_dir(root.join(dir))
        .env("SAM_CLI_TELEMETRY", "0")
        .output()
        .unwrap_or_else(|e| panic!("run {program} (scripts/tools.sh installs it): {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The hydrator role's statements, each with the condition it needs, if any.
fn role_statements(template: &Value) -> Vec<(Option<Value>, Value)> {
    template["Resources"]["HydratorRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|statement| match statement.get("Fn::If") {
            Some(branches) => (Some(branches[0].clone()), branches[1].clone()),
            None => (None, statement.clone()),
        })
        .collect()
}

fn failure_bucket_arn() -> Value {
    json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::${FailureBucketName}"})
}

#[test]
fn s3_may_invoke_the_hydrator_for_the_failure_bucket_of_this_account_only() {
    let template = template();
    let permissions: Vec<&Value> = template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Lambda::Permission")
        .collect();
    assert_eq!(permissions.len(), 1, "one invoke permission: S3's");
    let permission = &template["Resources"]["FailureBucketInvokePermission"];
    assert_eq!(permission["Condition"], "HasFailureBucket");
    let properties = &permission["Properties"];
    assert_eq!(
        properties["FunctionName"],
        json!({"Fn::GetAtt": ["Hydrator", "Arn"]})
    );
    assert_eq!(properties["Action"], "lambda:InvokeFunction");
    assert_eq!(properties["Principal"], "s3.amazonaws.com");
    // Bucket names are global: without the account, a deleted bucket's name
    // taken by another account could invoke the function.
    assert_eq!(
        properties["SourceAccount"],
        json!({"Ref": "AWS::AccountId"})
    );
    assert_eq!(properties["SourceArn"], failure_bucket_arn());
    assert_eq!(
        template["Conditions"]["HasFailureBucket"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "FailureBucketName"}, ""]}]})
    );
}

#[test]
fn the_bucket_the_template_creates_notifies_the_hydrator_of_every_failure_object() {
    let template = template();
    assert_eq!(
        template["Parameters"]["CreateFailureBucket"]["Default"], "false",
        "an existing bucket is the default"
    );
    assert_eq!(
        template["Conditions"]["CreateFailureBucketHere"],
        json!({"Fn::And": [{"Condition": "HasFailureBucket"}, {"Fn::Equals": [{"Ref": "CreateFailureBucket"}, "true"]}]})
    );
    let bucket = &template["Resources"]["FailureBucket"];
    assert_eq!(bucket["Type"], "AWS::S3::Bucket");
    assert_eq!(bucket["Condition"], "CreateFailureBucketHere");
    // S3 checks that it may invoke the function when the notification is saved.
    assert_eq!(bucket["DependsOn"], "FailureBucketInvokePermission");
    let properties = &bucket["Properties"];
    assert_eq!(
        properties["BucketName"],
        json!({"Ref": "FailureBucketName"})
    );
    let notifications = properties["NotificationConfiguration"]["LambdaConfigurations"]
        .as_array()
        .unwrap();
    assert_eq!(notifications.len(), 1);
    assert_eq!(
        notifications[0]["Function"],
        json!({"Fn::GetAtt": ["Hydrator", "Arn"]})
    );
    assert_eq!(notifications[0]["Event"], "s3:ObjectCreated:*");
    // Event source mappings write under aws/lambda/<mapping UUID>/.
    assert_eq!(
        notifications[0]["Filter"]["S3Key"]["Rules"],
        json!([{"Name": "prefix", "Value": "aws/lambda/"}])
    );
    let encryption = &properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
    assert_eq!(
        encryption["ServerSideEncryptionByDefault"],
        json!({"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::If": ["HasFailureBucketKey", {"Ref": "FailureBucketKmsKeyArn"}, {"Fn::GetAtt": ["HydratorKey", "Arn"]}]}})
    );
    let public = &properties["PublicAccessBlockConfiguration"];
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(public[setting], true, "{setting}");
    }
    let policy = &template["Resources"]["FailureBucketPolicy"];
    assert_eq!(policy["Condition"], "CreateFailureBucketHere");
    let deny = &policy["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(
        deny["Condition"],
        json!({"Bool": {"aws:SecureTransport": "false"}})
    );
}

#[test]
fn the_hydrator_reads_failure_objects_and_decrypts_them_through_s3_only() {
    let template = template();
    let statements = role_statements(&template);
    let read = statements
        .iter()
        .find(|(_, s)| s["Action"] == "s3:GetObject")
        .expect("a grant to read failure objects");
    assert_eq!(read.0, Some(json!("HasFailureBucket")));
    assert_eq!(
        read.1["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::${FailureBucketName}/*"})
    );
    let decrypt = statements
        .iter()
        .find(|(_, s)| s["Sid"] == "DecryptFailureObjects")
        .expect("a grant to decrypt SSE-KMS failure objects");
    assert_eq!(decrypt.0, Some(json!("DecryptFailureObjects")));
    assert_eq!(decrypt.1["Action"], "kms:Decrypt");
    assert_eq!(
        decrypt.1["Resource"],
        json!({"Fn::If": ["HasFailureBucketKey", {"Ref": "FailureBucketKmsKeyArn"}, {"Fn::GetAtt": ["HydratorKey", "Arn"]}]})
    );
    assert_eq!(
        decrypt.1["Condition"],
        json!({"StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}})
    );
    // A key is given, or the template's own key encrypts the bucket it creates.
    assert_eq!(
        template["Conditions"]["DecryptFailureObjects"],
        json!({"Fn::Or": [{"Condition": "HasFailureBucketKey"}, {"Condition": "CreateFailureBucketHere"}]})
    );
    assert_eq!(
        template["Conditions"]["HasFailureBucketKey"],
        json!({"Fn::And": [{"Condition": "HasFailureBucket"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "FailureBucketKmsKeyArn"}, ""]}]}]})
    );
}

#[test]
fn the_failure_bucket_is_an_output_consumers_grant_themselves_writing_to() {
    let template = template();
    let output = &template["Outputs"]["FailureBucketArn"];
    assert_eq!(output["Condition"], "HasFailureBucket");
    assert_eq!(output["Value"], failure_bucket_arn());
}

/// checkov's findings on both templates: none failed, and every check the
/// templates skip says why in the template itself. Offline (`--skip-download`).
#[test]
fn checkov_fails_nothing_and_every_skip_has_a_reason() {
    let root = hydrator_tests::workspace_root();
    let output = Command::new(root.join(".tools/checkov/bin/checkov"))
        .args([
            "--skip-download",
            "--framework",
            "cloudformation",
            "-o",
            "json",
            "-f",
            "infra/template.yaml",
            "-f",
            "infra/demo/template.yaml",
        ])
        .current_dir(&root)
        .output()
        .expect("run checkov (scripts/tools.sh installs it into .tools/checkov)");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov's JSON report ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let summary = &report["summary"];
    assert_eq!(summary["parsing_errors"], 0, "{summary}");
    let failed: Vec<String> = report["results"]["failed_checks"]
        .as_array()
        .expect("failed checks")
        .iter()
        .map(|check| format!("{} on {}", check["check_id"], check["resource"]))
        .collect();
    assert!(failed.is_empty(), "checkov failed: {failed:#?}");
    assert!(
        summary["passed"].as_u64().unwrap_or(0) > 30,
        "checkov checked the templates: {summary}"
    );
    let skipped = report["results"]["skipped_checks"].as_array().unwrap();
    for check in skipped {
        let reason = check["check_result"]["suppress_comment"]
            .as_str()
            .unwrap_or("");
        assert!(
            reason.len() > 40,
            "{} on {} is skipped without a reason",
            check["check_id"],
            check["resource"]
        );
    }
    assert_eq!(output.status.code(), Some(0), "checkov's exit status");
}

#[test]
fn the_functions_environment_is_encrypted_with_the_templates_key() {
    let template = template();
    assert_eq!(
        template["Resources"]["Hydrator"]["Properties"]["KmsKeyArn"],
        json!({"Fn::GetAtt": ["HydratorKey", "Arn"]})
    );
}

/// The rows of docs/deployment.md's grants table: statement id, actions, and
/// whether the statement is unconditional ("always").
fn documented_grants() -> Vec<(String, Vec<String>, bool)> {
    let root = hydrator_tests::workspace_root();
    let page =
        std::fs::read_to_string(root.join("docs/deployment.md")).expect("docs/deployment.md");
    let table: Vec<&str> = page
        .lines()
        .skip_while(|line| !line.starts_with("| Statement | Actions |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .collect();
    assert!(!table.is_empty(), "docs/deployment.md has the grants table");
    table
        .iter()
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 4, "a row of four cells: {row}");
            let actions = cells[1]
                .split('`')
                .filter(|part| part.contains(':'))
                .map(str::to_owned)
                .collect::<Vec<_>>();
            (
                cells[0].trim_matches('`').to_owned(),
                sorted(actions),
                cells[3] == "always",
            )
        })
        .collect()
}

fn sorted(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values
}

#[test]
fn the_grants_docs_deployment_lists_are_the_templates() {
    let template = template();
    let mut granted: Vec<(String, Vec<String>, bool)> = role_statements(&template)
        .into_iter()
        .map(|(condition, statement)| {
            let actions = match &statement["Action"] {
                Value::String(action) => vec![action.clone()],
                Value::Array(actions) => actions
                    .iter()
                    .map(|a| a.as_str().expect("an action").to_owned())
                    .collect(),
                other => panic!("unexpected Action {other}"),
            };
            (
                statement["Sid"]
                    .as_str()
                    .expect("every statement has a Sid")
                    .to_owned(),
                sorted(actions),
                condition.is_none(),
            )
        })
        .collect();
    let mut documented = documented_grants();
    granted.sort();
    documented.sort();
    assert_eq!(
        documented, granted,
        "docs/deployment.md's table against HydratorRole"
    );
}

#[test]
fn every_output_is_exported_under_the_stack_name() {
    let template = template();
    let outputs = template["Outputs"].as_object().expect("outputs");
    assert!(outputs.len() >= 10);
    for (name, output) in outputs {
        assert_eq!(
            output["Export"]["Name"],
            json!({"Fn::Sub": format!("${{AWS::StackName}}-{name}")}),
            "{name}"
        );
    }
}

#[test]
fn the_cloudformation_example_wires_an_existing_mapping_through_the_exports() {
    let example_path = "infra/examples/wire-existing-consumer.yaml";
    run_tool("sam/bin/cfn-lint", &[example_path], ".");
    let example = decoded(example_path);
    let exported = template()["Outputs"].clone();
    let import = |output: &str| {
        assert!(
            exported.get(output).is_some(),
            "the template exports {output}"
        );
        json!({"Fn::ImportValue": {"Fn::Sub": format!("${{HydratorStackName}}-{output}")}})
    };
    let mapping = &example["Resources"]["ConsumerMapping"];
    assert_eq!(mapping["Type"], "AWS::Lambda::EventSourceMapping");
    let properties = &mapping["Properties"];
    assert_eq!(
        properties["DestinationConfig"]["OnFailure"]["Destination"],
        import("OnFailureTopicArn")
    );
    // A mapping that retries for ever never fails over.
    let retries = properties["MaximumRetryAttempts"]
        .as_i64()
        .expect("finite retries");
    assert!((0..=10).contains(&retries));
    assert_eq!(properties["BisectBatchOnFunctionError"], true);
    // The mapping publishes with the consumer's role: the topic, and its key through SNS.
    assert_eq!(mapping["DependsOn"], "ConsumerPublishesFailures");
    let statements = &example["Resources"]["ConsumerPublishesFailures"]["Properties"]
        ["PolicyDocument"]["Statement"];
    assert_eq!(statements[0]["Action"], "sns:Publish");
    assert_eq!(statements[0]["Resource"], import("OnFailureTopicArn"));
    assert_eq!(
        statements[1]["Action"],
        json!(["kms:GenerateDataKey*", "kms:Decrypt"])
    );
    assert_eq!(statements[1]["Resource"], import("KeyArn"));
    // The page shows the example's resources as they are.
    let root = hydrator_tests::workspace_root();
    let text = std::fs::read_to_string(root.join(example_path)).unwrap();
    let resources = &text[text.find("Resources:\n").expect("a Resources section")..];
    let page = std::fs::read_to_string(root.join("docs/deployment.md")).unwrap();
    assert!(
        page.contains(resources),
        "docs/deployment.md shows {example_path}'s resources verbatim"
    );
}

#[test]
fn sam_reads_its_flags_from_samconfig_toml() {
    // From infra/, with no flags: template_file and lint come from samconfig.toml.
    let out = run_tool("sam/bin/sam", &["validate"], "infra");
    assert!(
        out.contains("template.yaml is a valid SAM Template"),
        "{out}"
    );
}

#[test]
fn cargo_lambda_deploy_takes_the_templates_settings_from_the_manifest() {
    let root = hydrator_tests::workspace_root();
    // Any Linux executable stands in for the build: a dry run only zips it.
    let dir = tempfile::Builder::new()
        .prefix("hydrator-deploy-")
        .tempdir()
        .unwrap();
    let binary = dir.path().join("bootstrap");
    std::fs::copy("/bin/true", &binary).expect("a Linux executable");
    let output = Command::new(root.join(".tools/venv/bin/cargo-lambda"))
        .args([
            "lambda",
            "deploy",
            "--dry",
            "--output-format",
            "json",
            "--manifest-path",
        ])
        .arg(root.join("functions/hydrate/Cargo.toml"))
        .arg("--binary-path")
        .arg(&binary)
        .arg("hydrate")
        .current_dir(dir.path())
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "dry-run")
        .env("AWS_SECRET_ACCESS_KEY", "dry-run")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run cargo-lambda (scripts/tools.sh installs it)");
    drop(dir);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The progress line comes first on stdout, then the plan.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let plan: Value = serde_json::from_str(&stdout[stdout.find('{').expect("a JSON plan")..])
        .expect("the dry run's JSON");
    let parameters = &template()["Parameters"];
    let config = &plan["config"];
    assert_eq!(config["runtime"], "provided.al2023");
    assert_eq!(config["memory"], parameters["MemorySize"]["Default"]);
    assert_eq!(config["timeout"], parameters["Timeout"]["Default"]);
    assert_eq!(
        config["log_retention"],
        parameters["LogRetentionDays"]["Default"]
    );
}

const ORDERS_CLUSTER: &str =
    "arn:aws:kafka:eu-west-1:123456789012:cluster/orders-prod/8f2b6c1e-3a4d-4e5f-9a8b-7c6d5e4f3a2b-3";
const PAYMENTS_CLUSTER: &str =
    "arn:aws:kafka:eu-west-1:123456789012:cluster/payments/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-1";

/// The statements of a deployment of the template with `given` parameters,
/// by Sid, resolved as CloudFormation would.
fn kafka_statements(template: &Value, given: &[(&str, &str)]) -> Vec<(String, Value)> {
    super::template::Deployment::new(template, given)
        .role_statements("HydratorRole")
        .into_iter()
        .map(|s| (s["Sid"].as_str().expect("a Sid").to_owned(), s))
        .filter(|(_, s)| {
            actions_of(s).iter().any(|a| {
                a.starts_with("kafka-cluster:")
                    || a.starts_with("ec2:")
                    || a.starts_with("secretsmanager:")
            }) || s["Sid"] == "DecryptScramSecret"
        })
        .collect()
}

fn actions_of(statement: &Value) -> Vec<String> {
    super::template::actions(statement)
}

#[test]
fn msk_clusters_grant_connect_on_them_and_topic_reads_on_their_topics_only() {
    let template = template();
    let clusters = format!("{ORDERS_CLUSTER},{PAYMENTS_CLUSTER}");
    let statements = kafka_statements(&template, &[("KafkaClusterArns", &clusters)]);
    assert_eq!(
        statements,
        [
            (
                "ConnectToKafkaClusters".to_owned(),
                json!({"Sid": "ConnectToKafkaClusters", "Effect": "Allow",
                       "Action": "kafka-cluster:Connect",
                       "Resource": [ORDERS_CLUSTER, PAYMENTS_CLUSTER]})
            ),
            (
                "ReadKafkaTopics".to_owned(),
                json!({"Sid": "ReadKafkaTopics", "Effect": "Allow",
                "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                "Resource": [
                    "arn:aws:kafka:eu-west-1:123456789012:topic/orders-prod/8f2b6c1e-3a4d-4e5f-9a8b-7c6d5e4f3a2b-3/*",
                    "arn:aws:kafka:eu-west-1:123456789012:topic/payments/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-1/*"
                ]})
            ),
        ],
        "IAM with the clusters given: connect to them, read their topics, join no group"
    );
    // One cluster: its topics alone, the derivation has no list to lean on.
    let one = kafka_statements(&template, &[("KafkaClusterArns", PAYMENTS_CLUSTER)]);
    assert_eq!(
        one[1].1["Resource"],
        json!([
            "arn:aws:kafka:eu-west-1:123456789012:topic/payments/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-1/*"
        ])
    );
    // Nothing of Kafka by default, and no grant on MSK when another
    // authentication is chosen: SCRAM and TLS are the brokers' to check.
    assert_eq!(kafka_statements(&template, &[]), []);
    for auth in ["none", "tls"] {
        let statements = kafka_statements(
            &template,
            &[("KafkaClusterArns", &clusters), ("KafkaAuth", auth)],
        );
        assert_eq!(statements, [], "KafkaAuth {auth}");
    }
    let granted = template.to_string();
    assert!(!granted.contains(":group/"), "no consumer group is granted");
    assert!(!granted.contains("kafka-cluster:*"), "no action wildcard");
}

#[test]
fn the_scram_secret_is_read_alone_and_decrypted_through_secrets_manager_only() {
    let template = template();
    let secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_orders-AbCdEf";
    let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let cluster = ("KafkaClusterArns", ORDERS_CLUSTER);
    let read = json!({"Sid": "ReadScramSecret", "Effect": "Allow",
                      "Action": "secretsmanager:GetSecretValue", "Resource": secret});
    assert_eq!(
        kafka_statements(&template, &[cluster, ("KafkaScramSecretArn", secret)]),
        [("ReadScramSecret".to_owned(), read.clone())],
        "a secret without a key of its own: read it, no IAM grant on the cluster"
    );
    assert_eq!(
        kafka_statements(
            &template,
            &[
                cluster,
                ("KafkaScramSecretArn", secret),
                ("KafkaScramSecretKmsKeyArn", key)
            ]
        ),
        [
            ("ReadScramSecret".to_owned(), read),
            (
                "DecryptScramSecret".to_owned(),
                json!({"Sid": "DecryptScramSecret", "Effect": "Allow", "Action": "kms:Decrypt",
                       "Resource": key,
                       "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}})
            ),
        ]
    );
    // A key alone grants nothing: there is no secret to decrypt.
    assert_eq!(
        kafka_statements(&template, &[("KafkaScramSecretKmsKeyArn", key)]),
        []
    );
    // SCRAM chosen without its secret is refused at deployment.
    let rule = &template["Rules"]["ScramNeedsItsSecret"];
    assert_eq!(
        rule["RuleCondition"],
        json!({"Fn::Equals": [{"Ref": "KafkaAuth"}, "scram-sha-512"]})
    );
    assert_eq!(
        rule["Assertions"][0]["Assert"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "KafkaScramSecretArn"}, ""]}]})
    );
}

#[test]
fn the_function_joins_a_vpc_only_with_subnets_and_security_groups() {
    let template = template();
    let vpc_config = |given: &[(&str, &str)]| {
        let deployment = super::template::Deployment::new(&template, given);
        deployment.resolve(&template["Resources"]["Hydrator"]["Properties"]["VpcConfig"])
    };
    let subnets = ("KafkaSubnetIds", "subnet-0a1b2c3d,subnet-4e5f6a7b");
    let groups = ("KafkaSecurityGroupIds", "sg-0123456789abcdef0");
    assert_eq!(vpc_config(&[]), Value::Null, "outside any VPC by default");
    assert_eq!(vpc_config(&[subnets]), Value::Null, "subnets alone");
    assert_eq!(vpc_config(&[groups]), Value::Null, "security groups alone");
    assert_eq!(
        vpc_config(&[subnets, groups]),
        json!({"SubnetIds": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"], "SecurityGroupIds": ["sg-0123456789abcdef0"]})
    );
    assert_eq!(kafka_statements(&template, &[subnets]), []);
    let statements = kafka_statements(&template, &[subnets, groups]);
    assert_eq!(
        statements,
        [
            (
                "ManageVpcNetworkInterfaces".to_owned(),
                json!({"Sid": "ManageVpcNetworkInterfaces", "Effect": "Allow",
                "Action": ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                           "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
                "Resource": [
                    "arn:aws:ec2:eu-west-1:123456789012:network-interface/*",
                    "arn:aws:ec2:eu-west-1:123456789012:subnet/*",
                    "arn:aws:ec2:eu-west-1:123456789012:security-group/*"
                ]})
            ),
            (
                "DescribeVpcNetworkInterfaces".to_owned(),
                json!({"Sid": "DescribeVpcNetworkInterfaces", "Effect": "Allow",
                       "Action": ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
                       "Resource": "*"})
            ),
        ],
        "the network interfaces Lambda manages with the role, in this account and Region"
    );
}

#[test]
fn the_kafka_settings_reach_the_function_by_the_names_it_reads() {
    let template = template();
    let kafka_environment = |given: &[(&str, &str)]| {
        let deployment = super::template::Deployment::new(&template, given);
        let variables = deployment
            .resolve(&template["Resources"]["Hydrator"]["Properties"]["Environment"]["Variables"]);
        variables
            .as_object()
            .unwrap()
            .iter()
            .filter(|(name, _)| name.starts_with("KAFKA_"))
            .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
            .collect::<Vec<_>>()
    };
    let pairs = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    let brokers = "b-1.orders.kafka.eu-west-1.amazonaws.com:9098,b-2.orders.kafka.eu-west-1.amazonaws.com:9098";
    let secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-scram-AbCdEf";
    assert_eq!(kafka_environment(&[]), [], "no Kafka, no variables");
    let clusters = format!("{ORDERS_CLUSTER},{PAYMENTS_CLUSTER}");
    assert_eq!(
        kafka_environment(&[
            ("KafkaClusterArns", &clusters),
            ("KafkaBootstrapServers", brokers)
        ]),
        pairs(&[
            ("KAFKA_AUTH", "iam"),
            ("KAFKA_BOOTSTRAP_ALLOWLIST", brokers),
            ("KAFKA_CLUSTER_ARNS", &clusters),
        ]),
        "MSK clusters use IAM unless told otherwise"
    );
    assert_eq!(
        kafka_environment(&[("KafkaBootstrapServers", "kafka-1.internal:9092")]),
        pairs(&[
            ("KAFKA_AUTH", "none"),
            ("KAFKA_BOOTSTRAP_ALLOWLIST", "kafka-1.internal:9092"),
        ]),
        "a self-managed cluster with no authentication is reached in plaintext"
    );
    assert_eq!(
        kafka_environment(&[
            ("KafkaBootstrapServers", "kafka-1.internal:9096"),
            ("KafkaScramSecretArn", secret)
        ]),
        pairs(&[
            ("KAFKA_AUTH", "scram-sha-512"),
            ("KAFKA_BOOTSTRAP_ALLOWLIST", "kafka-1.internal:9096"),
            ("KAFKA_SCRAM_SECRET_ARN", secret),
        ])
    );
    assert_eq!(
        kafka_environment(&[
            ("KafkaBootstrapServers", "kafka-1.internal:9094"),
            ("KafkaAuth", "tls")
        ]),
        pairs(&[
            ("KAFKA_AUTH", "tls"),
            ("KAFKA_BOOTSTRAP_ALLOWLIST", "kafka-1.internal:9094"),
        ])
    );
    let certificate = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-client-AbCdEf";
    assert_eq!(
        kafka_environment(&[
            ("KafkaClusterArns", ORDERS_CLUSTER),
            ("KafkaClientCertificateSecretArn", certificate)
        ]),
        pairs(&[
            ("KAFKA_AUTH", "mtls"),
            ("KAFKA_CLIENT_CERTIFICATE_SECRET_ARN", certificate),
            ("KAFKA_CLUSTER_ARNS", ORDERS_CLUSTER),
        ]),
        "a client certificate means mutual TLS, even for MSK clusters"
    );
    assert_eq!(
        template["Parameters"]["KafkaAuth"]["AllowedValues"],
        json!(["", "none", "iam", "scram-sha-512", "tls", "mtls"])
    );
}

#[test]
fn the_client_certificate_secret_is_read_alone_and_decrypted_through_secrets_manager_only() {
    let template = template();
    let secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-client-AbCdEf";
    let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let servers = ("KafkaBootstrapServers", "kafka-1.internal:9094");
    let read = json!({"Sid": "ReadClientCertificateSecret", "Effect": "Allow",
                      "Action": "secretsmanager:GetSecretValue", "Resource": secret});
    assert_eq!(
        kafka_statements(
            &template,
            &[servers, ("KafkaClientCertificateSecretArn", secret)]
        ),
        [("ReadClientCertificateSecret".to_owned(), read.clone())]
    );
    let statements = super::template::Deployment::new(
        &template,
        &[
            servers,
            ("KafkaClientCertificateSecretArn", secret),
            ("KafkaClientCertificateSecretKmsKeyArn", key),
        ],
    )
    .role_statements("HydratorRole");
    let decrypt = statements
        .iter()
        .find(|s| s["Sid"] == "DecryptClientCertificateSecret")
        .expect("the key is granted");
    assert_eq!(
        decrypt,
        &json!({"Sid": "DecryptClientCertificateSecret", "Effect": "Allow", "Action": "kms:Decrypt",
                "Resource": key,
                "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}})
    );
    // mtls without its secret is refused at deployment.
    let rule = &template["Rules"]["MutualTlsNeedsItsCertificate"];
    assert_eq!(
        rule["RuleCondition"],
        json!({"Fn::Equals": [{"Ref": "KafkaAuth"}, "mtls"]})
    );
    assert_eq!(
        rule["Assertions"][0]["Assert"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "KafkaClientCertificateSecretArn"}, ""]}]})
    );
}

/// Whether each value matches `pattern` whole, as CloudFormation matches each
/// value of a list parameter (Python's `re`, in `.tools/sam`).
fn pattern_admits(pattern: &str, values: &[&str]) -> Vec<bool> {
    let program =
        "import re, sys\nfor v in sys.argv[2:]: print(bool(re.fullmatch(sys.argv[1], v)))";
    let output = run_tool(
        "sam/bin/python",
        &[&["-c", program, pattern], values].concat(),
        ".",
    );
    output.lines().map(|line| line == "True").collect()
}

#[test]
fn only_cluster_arns_are_taken_so_each_derives_its_own_topics() {
    let template = template();
    let pattern = template["Parameters"]["KafkaClusterArns"]["AllowedPattern"]
        .as_str()
        .expect("a pattern for the cluster ARNs");
    assert_eq!(
        pattern_admits(
            pattern,
            &[
                "",
                ORDERS_CLUSTER,
                "arn:aws-cn:kafka:cn-north-1:123456789012:cluster/orders/0a1b-2",
                "arn:aws:kafka:eu-west-1:123456789012:topic/orders/0a1b-2/payments",
                "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0a1b-2/x:cluster/y",
                "arn:aws:kafka:eu-west-1:123456789012:cluster/orders",
                "arn:aws:kafka:eu-west-1:123456789012:cluster/*",
            ]
        ),
        [true, true, true, false, false, false, false]
    );
}
