//! `replay`: saved events into the consumer function, one synchronous
//! invocation each, with the consumer's answer reported per event.
//!
//! `local[:NAME]` sends the same Invoke API call to `cargo lambda watch`, so
//! a fix can be tried on the real failed records before it is deployed.

use std::path::PathBuf;

use aws_sdk_lambda::config::Credentials;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde::Serialize;
use serde_json::Value;

use crate::args::{Format, ReplayArgs};
use crate::report;
use crate::saved;
use crate::Outcome;

/// Where the invocations go.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    Aws {
        function: String,
    },
    /// `cargo lambda watch`; `_` is its name for the project's only function.
    Local {
        function: String,
    },
}

impl Target {
    pub fn parse(value: &str) -> Target {
        match value.strip_prefix("local") {
            Some("") => Target::Local {
                function: "_".into(),
            },
            Some(rest) if rest.starts_with(':') => Target::Local {
                function: rest[1..].to_owned(),
            },
            _ => Target::Aws {
                function: value.to_owned(),
            },
        }
    }

    fn function(&self) -> &str {
        match self {
            Target::Aws { function } | Target::Local { function } => function,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    file: PathBuf,
    records: usize,
    succeeded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

pub async fn run(
    sdk: aws_config::SdkConfig,
    args: &ReplayArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let events = saved::load_all(&args.path)?;
    let target = Target::parse(&args.to_function);
    let client = match &target {
        Target::Aws { .. } => aws_sdk_lambda::Client::new(&sdk),
        Target::Local { .. } => {
            // The emulator neither needs nor checks credentials; these only
            // let the SDK sign the request when the environment has none.
            let config = aws_sdk_lambda::config::Builder::from(&sdk)
                .endpoint_url(&args.local_endpoint)
                .region(
                    sdk.region()
                        .cloned()
                        .or(Some(aws_config::Region::new("us-east-1"))),
                )
                .credentials_provider(Credentials::new("local", "local", None, None, "local"))
                .build();
            aws_sdk_lambda::Client::from_conf(config)
        }
    };

    let progress = report::progress(events.len() as u64, format, "replaying");
    let mut rows = Vec::new();
    for event in &events {
        progress.set_message(event.path.display().to_string());
        let payload = serde_json::to_vec(&event.event())?;
        let answer = client
            .invoke()
            .function_name(target.function())
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload))
            .send()
            .await;
        let failure = match answer {
            // Lambda answers 200 and flags a function error in a header.
            Ok(output) => output.function_error().map(|kind| {
                let document: Value = output
                    .payload()
                    .and_then(|p| serde_json::from_slice(p.as_ref()).ok())
                    .unwrap_or(Value::Null);
                (document, kind.to_owned())
            }),
            // `cargo lambda watch` answers a function error with a 500 whose
            // body is the error document; anything else is the service's own error.
            Err(error) => {
                let document = error
                    .raw_response()
                    .and_then(|r| r.body().bytes())
                    .and_then(|b| serde_json::from_slice::<Value>(b).ok())
                    .filter(|d| d.get("errorMessage").is_some());
                match document {
                    Some(document) => Some((document, "Unhandled".to_owned())),
                    None => {
                        return Err(anyhow::Error::new(error)
                            .context(format!("cannot invoke {}", target.function())))
                    }
                }
            }
        };
        let text = |document: &Value, key: &str| {
            document.get(key).and_then(Value::as_str).map(str::to_owned)
        };
        rows.push(Row {
            file: event.path.clone(),
            records: event.records.len(),
            succeeded: failure.is_none(),
            error_type: failure
                .as_ref()
                .map(|(d, kind)| text(d, "errorType").unwrap_or_else(|| kind.clone())),
            error_message: failure.as_ref().and_then(|(d, _)| text(d, "errorMessage")),
        });
        progress.inc(1);
    }
    progress.finish_and_clear();

    if format == Format::Json {
        report::print_json(&serde_json::json!({ "function": target.function(), "events": rows }))?;
    } else {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.file.display().to_string(),
                    r.records.to_string(),
                    if r.succeeded { "succeeded" } else { "FAILED" }.into(),
                    [r.error_type.as_deref(), r.error_message.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": "),
                ]
            })
            .collect();
        print!(
            "{}",
            report::table(&["EVENT", "RECORDS", "RESULT", "ERROR"], &cells)
        );
        let failed = rows.iter().filter(|r| !r.succeeded).count();
        println!(
            "{} event(s) replayed into {}: {} succeeded, {failed} failed",
            rows.len(),
            target.function(),
            rows.len() - failed
        );
    }
    Ok(if rows.iter().all(|r| r.succeeded) {
        Outcome::Done
    } else {
        Outcome::Incomplete
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_targets_name_the_watched_function() {
        assert_eq!(
            Target::parse("local"),
            Target::Local {
                function: "_".into()
            }
        );
        assert_eq!(
            Target::parse("local:orders-consumer"),
            Target::Local {
                function: "orders-consumer".into()
            }
        );
        assert_eq!(
            Target::parse("localizer"),
            Target::Aws {
                function: "localizer".into()
            }
        );
    }
}
