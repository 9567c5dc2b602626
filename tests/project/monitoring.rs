//! The alarms and the dashboard read the metrics the function writes: every
//! metric name they use is one the library emits, for the function's own
//! dimension, and the runbook's first look is on the dashboard.

use serde_json::{json, Value};

use super::template::{of_type, template};

/// Every metric name the function can write: the fixed names, and one
/// `RecordsMissing_<reason>` a gap reason of the document's schema.
fn emitted_metric_names() -> Vec<String> {
    use hydrate::metric_names as n;
    let mut names: Vec<String> = [
        n::FAILURES_HYDRATED,
        n::DOCUMENTS_COMPLETE,
        n::DOCUMENTS_PARTIAL,
        n::DOCUMENTS_UNAVAILABLE,
        n::RECORDS_EXPECTED,
        n::RECORDS_HYDRATED,
        n::RECORDS_MISSING,
        n::MISSING_RANGES,
        n::HYDRATION_DURATION,
        n::READ_CALLS,
        n::THROTTLED_CALLS,
        n::DELIVERY_RETRIES,
        n::DELIVERED_PARTS,
        n::FAILURE_AGE,
        n::RETENTION_MARGIN,
    ]
    .map(str::to_owned)
    .to_vec();
    for reason in hydrator_tests::emf::gap_reasons() {
        names.push(format!("{}{reason}", n::RECORDS_MISSING_PREFIX));
    }
    names
}

/// A metric of the function's namespace, by its FunctionName, as an alarm
/// names it (`Namespace`, `MetricName`, `Dimensions`).
fn assert_is_the_functions(metric: &Value, what: &str) -> String {
    assert_eq!(
        metric["Namespace"],
        json!({"Ref": "MetricsNamespace"}),
        "{what}"
    );
    assert_eq!(
        metric["Dimensions"],
        json!([{"Name": "FunctionName", "Value": {"Ref": "Hydrator"}}]),
        "{what}: the set every line carries"
    );
    let name = metric["MetricName"].as_str().unwrap().to_owned();
    assert!(
        emitted_metric_names().contains(&name),
        "{what}: {name} is never written"
    );
    name
}

#[test]
fn the_alarms_watch_missing_records_partial_documents_and_the_retention_margin() {
    let template = template("infra/template.yaml");
    let resources = &template["Resources"];
    let parameter = &template["Parameters"]["RetentionMarginAlarmHours"];
    assert_eq!(parameter["Type"], "Number");
    assert_eq!(parameter["Default"], 6);
    assert_eq!(
        template["Parameters"]["MetricsNamespace"]["Default"],
        "Hydrator"
    );
    let variables = &resources["Hydrator"]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        variables["METRICS_NAMESPACE"],
        json!({"Ref": "MetricsNamespace"})
    );
    assert_eq!(
        variables["METRICS_DIMENSIONS"],
        json!({"Ref": "MetricsDimensions"})
    );
    // Every choice the template offers is one the function accepts.
    for choice in template["Parameters"]["MetricsDimensions"]["AllowedValues"]
        .as_array()
        .unwrap()
    {
        let choice = choice.as_str().unwrap();
        assert!(
            hydrate::MetricsSettings::parse(None, None, Some(choice), None).is_ok(),
            "{choice}"
        );
    }

    let missing = &resources["RecordsMissingAlarm"]["Properties"];
    assert_eq!(
        assert_is_the_functions(missing, "RecordsMissingAlarm"),
        "RecordsMissing"
    );
    assert_eq!(
        (missing["Statistic"].as_str(), missing["Threshold"].as_i64()),
        (Some("Sum"), Some(0))
    );
    assert_eq!(missing["ComparisonOperator"], "GreaterThanThreshold");

    let partial = &resources["PartialDocumentsAlarm"]["Properties"];
    let queries = partial["Metrics"].as_array().unwrap();
    let stats: Vec<String> = queries
        .iter()
        .filter(|q| q.get("MetricStat").is_some())
        .map(|q| assert_is_the_functions(&q["MetricStat"]["Metric"], "PartialDocumentsAlarm"))
        .collect();
    assert_eq!(stats, ["DocumentsPartial", "DocumentsUnavailable"]);
    let returned: Vec<&Value> = queries.iter().filter(|q| q["ReturnData"] == true).collect();
    assert_eq!(returned.len(), 1, "one expression is alarmed on");
    assert_eq!(partial["ComparisonOperator"], "GreaterThanThreshold");

    let margin = &resources["RetentionMarginAlarm"]["Properties"];
    let queries = margin["Metrics"].as_array().unwrap();
    let stat = &queries[0]["MetricStat"];
    assert_eq!(
        assert_is_the_functions(&stat["Metric"], "RetentionMarginAlarm"),
        "RetentionMargin"
    );
    assert_eq!(
        stat["Stat"], "Minimum",
        "the failure closest to being trimmed"
    );
    // The metric is in seconds; the threshold in hours, the parameter's unit.
    assert_eq!(
        queries[1]["Expression"],
        format!("{} / 3600", queries[0]["Id"].as_str().unwrap())
    );
    assert_eq!(
        margin["Threshold"],
        json!({"Ref": "RetentionMarginAlarmHours"})
    );
    assert_eq!(margin["ComparisonOperator"], "LessThanThreshold");

    for alarm in [
        "RecordsMissingAlarm",
        "PartialDocumentsAlarm",
        "RetentionMarginAlarm",
    ] {
        let properties = &resources[alarm]["Properties"];
        assert_eq!(
            properties["TreatMissingData"], "notBreaching",
            "{alarm}: no document, no alarm"
        );
        assert_eq!(
            properties["AlarmActions"],
            json!({"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}),
            "{alarm}"
        );
    }
}

#[test]
fn the_dashboard_shows_what_the_runbook_starts_from() {
    let template = template("infra/template.yaml");
    let sub = &template["Resources"]["HydratorDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"];
    let (body, variables) = (sub[0].as_str().unwrap(), &sub[1]);
    assert!(variables["DlqName"].is_object());
    // Every ${...} is a parameter, a resource (or its attribute), a pseudo
    // parameter or the one variable; substituted, the body is JSON.
    let mut text = body.to_owned();
    while let Some(start) = text.find("${") {
        let end = start + text[start..].find('}').unwrap();
        let name = text[start + 2..end].to_owned();
        let root = name.split('.').next().unwrap();
        assert!(
            template["Parameters"].get(root).is_some()
                || template["Resources"].get(root).is_some()
                || root.starts_with("AWS::")
                || variables.get(root).is_some(),
            "${{{name}}} names nothing"
        );
        let value = if name == "RetentionMarginAlarmHours" {
            "6"
        } else {
            "X"
        };
        text.replace_range(start..=end, value);
    }
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard body is JSON");
    let widgets = dashboard["widgets"].as_array().unwrap();

    let mut titles = Vec::new();
    let mut ours = Vec::new();
    let mut others = Vec::new();
    for widget in widgets {
        let properties = &widget["properties"];
        titles.push(properties["title"].as_str().unwrap().to_owned());
        for line in properties["metrics"].as_array().into_iter().flatten() {
            let line = line.as_array().unwrap();
            let Some(namespace) = line[0].as_str() else {
                assert!(line[0]["expression"].is_string(), "an expression: {line:?}");
                continue;
            };
            let name = line[1].as_str().unwrap().to_owned();
            if namespace == "X" {
                assert_eq!(
                    line[2], "FunctionName",
                    "{name}: the set every line carries"
                );
                assert!(
                    emitted_metric_names().contains(&name),
                    "{name} is never written"
                );
                ours.push(name);
            } else {
                others.push(format!("{namespace} {name}"));
            }
        }
    }
    for title in [
        "Documents by status",
        "Records missing by reason",
        "Failure age when read (hours)",
        "Retention margin (hours left)",
        "Throttles and retries",
        "DLQ depth",
        "The hydrator's errors",
    ] {
        assert!(
            titles.iter().any(|t| t == title),
            "no {title} widget: {titles:?}"
        );
    }
    for wanted in [
        "DocumentsComplete",
        "DocumentsPartial",
        "DocumentsUnavailable",
        "FailureAge",
        "RetentionMargin",
        "ThrottledCalls",
    ] {
        assert!(ours.iter().any(|n| n == wanted), "{wanted} is not shown");
    }
    for reason in hydrator_tests::emf::gap_reasons() {
        assert!(
            ours.contains(&format!("RecordsMissing_{reason}")),
            "{reason} is not shown"
        );
    }
    assert!(others.contains(&"AWS/SQS ApproximateNumberOfMessagesVisible".to_owned()));
    assert!(others.contains(&"AWS/Lambda Errors".to_owned()));
    // The alarm line shows every alarm of the template.
    let alarms = widgets[0]["properties"]["alarms"].as_array().unwrap();
    assert_eq!(
        alarms.len(),
        of_type(&template, "AWS::CloudWatch::Alarm").len()
    );
}
