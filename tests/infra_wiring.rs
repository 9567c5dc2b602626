//! How a consumer is wired to the hydrator, read from `infra/template.yaml`
//! as CloudFormation reads it: the S3 on-failure path (S3 may invoke the
//! function for that bucket of this account alone, the bucket the template
//! creates notifies it, SSE-KMS objects can be decrypted through S3 only).
//! checkov finds nothing it is not told why to skip, and the environment is
//! encrypted. `tests/infra.rs` holds the rest of the template's properties.

use std::process::Command;

use serde_json::{json, Value};

/// The template as JSON, decoded by cfn-lint's parser (in `.tools/sam`).
fn template() -> Value {
    let root = hydrator_tests::workspace_root();
    let output = Command::new(root.join(".tools/sam/bin/python"))
        .arg(root.join("tests/infra/template_json.py"))
        .arg(root.join("infra/template.yaml"))
        .output()
        .expect("run the template decoder (scripts/tools.sh installs cfn-lint)");
    assert!(
        output.status.success(),
        "the template does not parse: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
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
