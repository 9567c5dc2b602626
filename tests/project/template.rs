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

/// The template as CloudFormation would resolve it for one set of parameter
/// values: conditions decided, `Fn::If` branches taken, and the functions the
/// role's grants and the environment use (`Ref`, `Fn::Join`, `Fn::Split`,
/// `Fn::Sub`, `Fn::Select`) evaluated. Resource attributes (`Fn::GetAtt`,
/// `Ref` to a resource) are left as written.
pub(crate) struct Deployment<'a> {
    template: &'a Value,
    parameters: std::collections::BTreeMap<String, Value>,
}

impl<'a> Deployment<'a> {
    /// `given` overrides the parameters' defaults; a list parameter takes its
    /// value as CloudFormation does, one string split on commas.
    pub(crate) fn new(template: &'a Value, given: &[(&str, &str)]) -> Self {
        let declared = template["Parameters"].as_object().expect("parameters");
        let mut parameters = std::collections::BTreeMap::new();
        for (name, parameter) in declared {
            let text = given
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| match &parameter["Default"] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    other => panic!("{name} has no default to deploy with: {other}"),
                });
            let value = if parameter["Type"] == "CommaDelimitedList" {
                json!(text.split(',').collect::<Vec<_>>())
            } else {
                json!(text)
            };
            parameters.insert(name.clone(), value);
        }
        for (name, _) in given {
            assert!(declared.contains_key(*name), "the template declares {name}");
        }
        let pseudo = [
            ("AWS::Partition", "aws"),
            ("AWS::Region", "eu-west-1"),
            ("AWS::AccountId", "123456789012"),
        ];
        for (name, value) in pseudo {
            parameters.insert(name.to_owned(), json!(value));
        }
        Deployment {
            template,
            parameters,
        }
    }

    /// Whether the named condition of the template holds.
    pub(crate) fn holds(&self, condition: &str) -> bool {
        let expression = &self.template["Conditions"][condition];
        assert!(
            !expression.is_null(),
            "the template has condition {condition}"
        );
        self.truth(expression)
    }

    fn truth(&self, expression: &Value) -> bool {
        let (function, arguments) = single(expression);
        match function {
            "Condition" => self.holds(arguments.as_str().expect("a condition name")),
            "Fn::Not" => !self.truth(&arguments[0]),
            "Fn::And" => arguments.as_array().unwrap().iter().all(|a| self.truth(a)),
            "Fn::Or" => arguments.as_array().unwrap().iter().any(|a| self.truth(a)),
            "Fn::Equals" => {
                let [left, right] = [&arguments[0], &arguments[1]].map(|a| self.resolve(a));
                stringly(&left) == stringly(&right)
            }
            other => panic!("{other} in a condition"),
        }
    }

    /// `value` resolved: absent (`None`) where an `Fn::If` chose `AWS::NoValue`.
    pub(crate) fn resolve(&self, value: &Value) -> Value {
        self.resolved(value).unwrap_or(Value::Null)
    }

    fn resolved(&self, value: &Value) -> Option<Value> {
        match value {
            Value::Array(items) => Some(Value::Array(
                items.iter().filter_map(|i| self.resolved(i)).collect(),
            )),
            Value::Object(map) if map.len() == 1 && is_intrinsic(map.keys().next().unwrap()) => {
                let (function, arguments) = single(value);
                match function {
                    "Ref" if arguments == "AWS::NoValue" => None,
                    "Ref" => Some(
                        self.parameters
                            .get(arguments.as_str().unwrap())
                            .cloned()
                            .unwrap_or_else(|| value.clone()),
                    ),
                    "Fn::If" => {
                        let branch = if self.holds(arguments[0].as_str().unwrap()) {
                            &arguments[1]
                        } else {
                            &arguments[2]
                        };
                        self.resolved(branch)
                    }
                    "Fn::Join" => {
                        let separator = arguments[0].as_str().expect("a literal separator");
                        let parts = self.resolve(&arguments[1]);
                        let parts: Vec<String> = parts
                            .as_array()
                            .expect("a list to join")
                            .iter()
                            .map(|p| p.as_str().expect("a string to join").to_owned())
                            .collect();
                        Some(json!(parts.join(separator)))
                    }
                    "Fn::Split" => {
                        let separator = arguments[0].as_str().expect("a literal separator");
                        let text = self.resolve(&arguments[1]);
                        let text = text.as_str().expect("a string to split");
                        Some(json!(text.split(separator).collect::<Vec<_>>()))
                    }
                    "Fn::Select" => {
                        let index: usize = stringly(&arguments[0]).parse().unwrap();
                        Some(self.resolve(&arguments[1])[index].clone())
                    }
                    "Fn::Sub" => Some(json!(self.substitute(arguments))),
                    _ => Some(value.clone()),
                }
            }
            Value::Object(map) => Some(Value::Object(
                map.iter()
                    .filter_map(|(k, v)| self.resolved(v).map(|v| (k.clone(), v)))
                    .collect(),
            )),
            other => Some(other.clone()),
        }
    }

    fn substitute(&self, arguments: &Value) -> String {
        let (text, variables) = match arguments {
            Value::String(text) => (text.as_str(), None),
            Value::Array(pair) => (pair[0].as_str().unwrap(), Some(&pair[1])),
            other => panic!("Fn::Sub of {other}"),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("a closed ${") + start;
            let name = &rest[start + 2..end];
            let value = match variables.and_then(|v| v.get(name)) {
                Some(expression) => self.resolve(expression),
                None => self
                    .parameters
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| json!(format!("${{{name}}}"))),
            };
            out.push_str(value.as_str().expect("a string to substitute"));
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// The hydrator role's statements this deployment has, resolved.
    pub(crate) fn role_statements(&self, role: &str) -> Vec<Value> {
        let document =
            &self.template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"];
        self.resolve(&document["Statement"])
            .as_array()
            .expect("statements")
            .clone()
    }
}

/// Whether a key names an intrinsic function, not a property.
fn is_intrinsic(key: &str) -> bool {
    key == "Ref" || key.starts_with("Fn::")
}

/// The one key of an intrinsic function's object, and its arguments.
fn single(expression: &Value) -> (&str, &Value) {
    let map = expression.as_object().expect("an intrinsic function");
    assert_eq!(map.len(), 1, "one function: {expression}");
    let (name, arguments) = map.iter().next().unwrap();
    (name.as_str(), arguments)
}

/// What `Fn::Equals` compares: a string or a number as its text.
fn stringly(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}
