//! The deployment templates as CloudFormation reads them (decoded by
//! cfn-lint's own parser), and the ways the project's template tests look
//! into them: policy statements, resources of a type, actions, wildcards.

use std::process::Command;

use serde_json::{json, Value};

/// A template as JSON, decoded by cfn-lint's parser (in `.tools/sam`).
pub(crate) fn template(path: &str) -> Value {
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

/// Every statement of a policy document, the conditional ones (`Fn::If`)
/// opened, each with the name of the condition it needs, if any.
pub(crate) fn open_statements(document: &Value) -> Vec<(Option<String>, Value)> {
    document["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|statement| match statement.get("Fn::If") {
            Some(branches) => {
                assert_eq!(
                    branches[2],
                    json!({"Ref": "AWS::NoValue"}),
                    "a conditional statement has no else"
                );
                (
                    Some(branches[0].as_str().unwrap().to_owned()),
                    branches[1].clone(),
                )
            }
            None => (None, statement.clone()),
        })
        .collect()
}

/// Every IAM statement of `role`, with the conditional ones (`Fn::If`) opened.
pub(crate) fn statements(template: &Value, role: &str) -> Vec<Value> {
    let policies = template["Resources"][role]["Properties"]["Policies"]
        .as_array()
        .expect("inline policies");
    policies
        .iter()
        .flat_map(|policy| open_statements(&policy["PolicyDocument"]))
        .map(|(_, statement)| statement)
        .collect()
}

/// The template's resources of one type, by logical id.
pub(crate) fn of_type(template: &Value, kind: &str) -> Vec<(String, Value)> {
    template["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(name, resource)| (name.clone(), resource.clone()))
        .collect()
}

pub(crate) fn actions(statement: &Value) -> Vec<String> {
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
pub(crate) fn resources_anywhere(value: &Value, path: &str, found: &mut Vec<(String, Value)>) {
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

pub(crate) fn contains_wildcard(value: &Value) -> bool {
    match value {
        Value::String(s) => s == "*" || s.ends_with(":*"),
        Value::Array(values) => values.iter().any(contains_wildcard),
        Value::Object(map) => map.values().any(contains_wildcard),
        _ => false,
    }
}
