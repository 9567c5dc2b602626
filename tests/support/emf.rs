//! CloudWatch's embedded metric format, checked as its specification states
//! it (docs.aws.amazon.com, "Specification: Embedded metric format"): the
//! JSON schema the specification gives, and the rules it states in words
//! that a schema cannot, which CloudWatch Logs applies when it extracts.

use serde_json::{json, Map, Value};

/// The specification's schema, with its stated limits added: at most 100
/// metric definitions a directive, and `StorageResolution` 1 or 60.
fn schema() -> Value {
    let name = json!({"type": "string", "minLength": 1, "maxLength": 255});
    json!({
        "type": "object",
        "required": ["_aws"],
        "properties": {"_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},
                "CloudWatchMetrics": {"type": "array", "items": {
                    "type": "object",
                    "required": ["Namespace", "Dimensions", "Metrics"],
                    "properties": {
                        "Namespace": name,
                        "Dimensions": {"type": "array", "minItems": 1, "items": {
                            "type": "array", "minItems": 0, "maxItems": 30, "items": name
                        }},
                        "Metrics": {"type": "array", "maxItems": 100, "items": {
                            "type": "object",
                            "required": ["Name"],
                            "properties": {
                                "Name": name,
                                "Unit": {"type": "string", "enum": UNITS},
                                "StorageResolution": {"enum": [1, 60]}
                            }
                        }}
                    }
                }}
            }
        }}
    })
}

/// CloudWatch's metric units (`MetricDatum`), exactly as spelled there.
pub const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// A log event is at most 1 MB (256 KB in older accounts): keep under both.
const MAX_EVENT_BYTES: usize = 256 * 1024;

/// Checks one log line against the specification; the reasons it fails.
pub fn violations(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    if line.len() > MAX_EVENT_BYTES {
        found.push(format!("{} bytes, more than a log event holds", line.len()));
    }
    if line.trim() != line || line.contains('\n') {
        found.push("data before or after the JSON object".to_owned());
    }
    let root: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(e) => return vec![format!("not JSON: {e}")],
    };
    let validator = jsonschema::validator_for(&schema()).expect("the schema compiles");
    found.extend(
        validator
            .iter_errors(&root)
            .map(|e| format!("schema: {e} at {}", e.instance_path)),
    );
    let Some(members) = root.as_object() else {
        return found;
    };
    let directives = root["_aws"]["CloudWatchMetrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for directive in &directives {
        check_directive(members, directive, &mut found);
    }
    found
}

fn check_directive(root: &Map<String, Value>, directive: &Value, found: &mut Vec<String>) {
    for set in directive["Dimensions"].as_array().into_iter().flatten() {
        for key in set
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            // A dimension's target: a root member (never nested), a string.
            match root.get(key) {
                Some(Value::String(v)) if (1..=1024).contains(&v.chars().count()) => {}
                Some(Value::String(_)) => {
                    found.push(format!("dimension {key}: 1 to 1024 characters"))
                }
                Some(other) => found.push(format!("dimension {key} is not a string: {other}")),
                None => found.push(format!("dimension {key} has no root member")),
            }
        }
    }
    let mut names = std::collections::HashSet::new();
    for metric in directive["Metrics"].as_array().into_iter().flatten() {
        let Some(name) = metric["Name"].as_str() else {
            continue;
        };
        if !names.insert(name) {
            found.push(format!("metric {name} is defined twice"));
        }
        // A metric's target: a number, or an array of at most 100 numbers.
        match root.get(name) {
            Some(Value::Number(_)) => {}
            Some(Value::Array(values))
                if values.len() <= 100 && values.iter().all(Value::is_number) => {}
            Some(other) => found.push(format!("metric {name} is not numeric: {other}")),
            None => found.push(format!("metric {name} has no root member")),
        }
    }
}

/// The gap reasons the document's schema allows: the metric names
/// `RecordsMissing_<reason>` follow them.
pub fn gap_reasons() -> Vec<String> {
    fn find(value: &Value) -> Option<&Vec<Value>> {
        match value {
            Value::Object(map) => map
                .get("reason")
                .and_then(|r| r["enum"].as_array())
                .or_else(|| map.values().find_map(find)),
            Value::Array(values) => values.iter().find_map(find),
            _ => None,
        }
    }
    let path = crate::workspace_root().join("functions/hydrate/schema/hydrated-document.v1.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the document's schema"))
            .expect("JSON");
    find(&schema)
        .expect("the schema lists the gap reasons")
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

/// Panics with every violation of `line`.
pub fn assert_valid(line: &str) {
    let violations = violations(line);
    assert!(violations.is_empty(), "not EMF: {violations:#?}\n{line}");
}

/// The lines of a log that carry metrics (a top-level `_aws`), parsed.
pub fn metric_lines(log: &str) -> Vec<(String, Value)> {
    log.lines()
        .filter_map(|line| {
            let value: Value = serde_json::from_str(line).ok()?;
            value.get("_aws")?;
            Some((line.to_owned(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_example_passes_and_broken_lines_fail() {
        let example = r#"{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics","Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds"}]}]},"functionVersion":"$LATEST","time":100,"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee"}"#;
        assert_valid(example);
        for (broken, why) in [
            (
                example.replace("\"time\":100", "\"time\":\"100\""),
                "not numeric",
            ),
            (example.replace("\"$LATEST\"", "7"), "not a string"),
            (example.replace("Milliseconds", "Millis"), "schema"),
            (example.replace("1574109732004", "\"now\""), "schema"),
            (example.replace(",\"time\":100", ""), "no root member"),
            (format!(" {example}"), "before or after"),
        ] {
            let found = violations(&broken);
            assert!(found.iter().any(|v| v.contains(why)), "{why}: {found:?}");
        }
    }
}
