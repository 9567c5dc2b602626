//! The deployment templates, read as CloudFormation reads them: the
//! hydrator's role grants exactly the parameterised resources, nothing with
//! a wildcard, and every path of a failure ends in a queue.

use std::process::Command;

use serde_json::{json, Value};

/// A template as JSON, decoded by cfn-lint's parser (in `.tools/sam`).
fn template(path: &str) -> Value {
    let root = hydrator_tests::workspace_root();
    let output = Command::new(root.join(".tools/sam/bin/python"))
        .arg(root.join("tests/infra/template_json.py"))
        .arg(root.join(path))
        .output()
        .expect("run the template decoder (scripts/tools.sh installs cfn-lint)");
    assert!(
        output.status.success(),
        "{path} does not parse: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// Every IAM statement of `role`, with the conditional ones (`Fn::If`) opened.
fn statements(template: &Value, role: &str) -> Vec<Value> {
    let policies = template["Resources"][role]["Properties"]["Policies"]
        .as_array()
        .expect("inline policies");
    let mut statements = Vec::new();
    for policy in policies {
        for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            match statement.get("Fn::If") {
                Some(branches) => {
                    assert_eq!(
                        branches[2],
                        json!({"Ref": "AWS::NoValue"}),
                        "a conditional grant has no else"
                    );
                    statements.push(branches[1].clone());
                }
                None => statements.push(statement.clone()),
            }
        }
    }
    statements
}

fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(action) => vec![action.clone()],
        Value::Array(actions) => actions
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect(),
        other => panic!("unexpected Action {other}"),
    }
}

/// Every `Resource` value anywhere in the template, with where it is.
fn resources_anywhere(value: &Value, path: &str, found: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let here = format!("{path}/{key}");
                if key == "Resource" {
                    found.push((here.clone(), inner.clone()));
                }
                resources_anywhere(inner, &here, found);
            }
        }
        Value::Array(values) => {
            for (i, inner) in values.iter().enumerate() {
                resources_anywhere(inner, &format!("{path}/{i}"), found);
            }
        }
        _ => {}
    }
}

fn contains_wildcard(value: &Value) -> bool {
    match value {
        Value::String(s) => s == "*" || s.ends_with(":*"),
        Value::Array(values) => values.iter().any(contains_wildcard),
        Value::Object(map) => map.values().any(contains_wildcard),
        _ => false,
    }
}

#[test]
fn the_hydrator_reads_and_sends_only_where_its_parameters_say() {
    let template = template("infra/template.yaml");
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
            "dynamodb:GetShardIterator",
            json!({"Ref": "DynamoDbStreamArns"}),
        ),
        ("dynamodb:GetRecords", json!({"Ref": "DynamoDbStreamArns"})),
        (
            "dynamodb:DescribeStream",
            json!({"Ref": "DynamoDbStreamArns"}),
        ),
        ("kms:Decrypt", json!({"Ref": "KmsKeyArn"})),
        (
            "sqs:SendMessage",
            json!({"Fn::If": ["CreateDlq", {"Fn::GetAtt": ["Dlq", "Arn"]}, {"Ref": "ExistingDlqArn"}]}),
        ),
        (
            "sqs:SendMessage",
            json!({"Fn::GetAtt": ["HydratorFailures", "Arn"]}),
        ),
        (
            "firehose:PutRecordBatch",
            json!({"Fn::Sub": "arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:deliverystream/${ArchiveFirehoseStreamName}"}),
        ),
        (
            "s3:GetObject",
            json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::${FailureBucketName}/*"}),
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
            "HasArchive",
            "HasFailureBucket"
        ]
    );
}

#[test]
fn no_policy_in_either_template_grants_a_wildcard_resource() {
    for path in ["infra/template.yaml", "infra/demo/template.yaml"] {
        let mut found = Vec::new();
        resources_anywhere(&template(path), "", &mut found);
        assert!(!found.is_empty(), "{path} has policies");
        for (at, resource) in found {
            assert!(!contains_wildcard(&resource), "{path}{at}: {resource}");
        }
    }
}

#[test]
fn every_failure_of_the_hydrator_ends_in_a_queue() {
    let template = template("infra/template.yaml");
    let function = &template["Resources"]["Hydrator"];
    let properties = &function["Properties"];
    let failures = json!({"Fn::GetAtt": ["HydratorFailures", "Arn"]});
    let invoke = &properties["EventInvokeConfig"];
    assert_eq!(
        invoke["DestinationConfig"]["OnFailure"],
        json!({"Type": "SQS", "Destination": failures})
    );
    assert!(invoke["MaximumRetryAttempts"].as_u64().unwrap() <= 2);
    let subscription = &properties["Events"]["OnFailureRecords"];
    assert_eq!(subscription["Type"], "SNS");
    assert_eq!(
        subscription["Properties"]["Topic"],
        json!({"Ref": "OnFailureTopic"})
    );
    assert_eq!(
        subscription["Properties"]["RedrivePolicy"]["deadLetterTargetArn"],
        failures
    );
    // SNS may write to that queue, for that topic only.
    let queue_policy = &template["Resources"]["HydratorFailuresPolicy"]["Properties"]
        ["PolicyDocument"]["Statement"][0];
    assert_eq!(queue_policy["Principal"]["Service"], "sns.amazonaws.com");
    assert_eq!(
        queue_policy["Condition"]["ArnEquals"]["aws:SourceArn"],
        json!({"Ref": "OnFailureTopic"})
    );
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
}
