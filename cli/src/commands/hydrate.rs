//! `hydrate <file>`: what the function does with an invocation, done here
//! on a saved one, with the document printed or saved instead of delivered.

use std::time::SystemTime;

use anyhow::Context;
use hydrate::{parse_invocation, Invocation};
use hydrate::{Hydrator, KafkaSettings, Response, Settings};
use serde::Serialize;
use serde_json::Value;

use crate::args::DEFAULT_MAX_BYTES;
use crate::args::{Format, HydrateArgs};
use crate::output::records::{contents_json, print_contents};
use crate::output::report::{self, FailureSummary, SUMMARY_HEADERS};
use crate::Outcome;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    documents: Vec<Value>,
    errors: Vec<String>,
    /// Each document's KPL aggregates, and with `--records` its records.
    contents: Vec<Value>,
}

pub async fn run(
    sdk: aws_config::SdkConfig,
    args: &HydrateArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let payload = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let settings = Settings {
        invoke_identity_arn: args.invoke_identity_arn.clone(),
        // The document is the output here; nothing goes to a queue.
        dlq_queue_url: None,
        archive_firehose_stream: None,
        response_max_bytes: usize::MAX,
        // Where Kafka failures may be read from, as the function is told.
        kafka: KafkaSettings::from_env().map_err(anyhow::Error::msg)?,
        ..Settings::default()
    };
    let hydrator = Hydrator::new(sdk, settings);
    let invocation = parse_invocation(&payload).with_context(|| {
        format!(
            "{} is not something the function takes",
            args.file.display()
        )
    })?;

    let mut report = Report {
        documents: Vec::new(),
        errors: Vec::new(),
        contents: Vec::new(),
    };
    match invocation {
        Invocation::Whole(_) => match hydrator.handle(&payload).await {
            Ok(Response::One(document)) => report.documents.push(serde_json::to_value(document)?),
            Ok(Response::Many(documents)) => {
                for document in documents {
                    report.documents.push(serde_json::to_value(document)?);
                }
            }
            Ok(_) => anyhow::bail!("the function answered with a delivery report, not documents"),
            Err(error) => report.errors.push(format!("{}: {error}", error.class())),
        },
        // The function delivers SQS messages to the DLQ itself; here each
        // message's record is hydrated and printed instead.
        Invocation::Queue(messages) => {
            for message in messages {
                let outcome = match message.content {
                    Ok(input) => hydrator
                        .document_from(input, None)
                        .await
                        .map_err(|e| format!("{}: {e}", e.class())),
                    Err(error) => Err(format!("Input.{}: {error}", error.class())),
                };
                match outcome {
                    Ok(document) => report.documents.push(serde_json::to_value(&document)?),
                    Err(error) => report
                        .errors
                        .push(format!("message {}: {error}", message.message_id)),
                }
            }
        }
    }

    let output = match report.documents.as_slice() {
        [one] => one.clone(),
        many => Value::Array(many.to_vec()),
    };
    let text = serde_json::to_string_pretty(&output)?;
    match &args.out {
        Some(path) => std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?,
        None if format == Format::Human => println!("{text}"),
        None => {}
    }
    let documents: Vec<&Value> = report.documents.iter().collect();
    let contents = contents_json(&documents, args.records, DEFAULT_MAX_BYTES);
    if format == Format::Json {
        report.contents = contents;
        report::print_json(&report)?;
    } else {
        let now = SystemTime::now();
        let rows: Vec<Vec<String>> = report
            .documents
            .iter()
            .map(|d| FailureSummary::of(d, now).cells())
            .collect();
        eprint!("{}", report::table(&SUMMARY_HEADERS, &rows));
        let named: Vec<(String, &Value)> = rows
            .iter()
            .map(|r| r[..3].join(" "))
            .zip(documents)
            .collect();
        print_contents(
            &mut std::io::stderr().lock(),
            &named,
            args.records,
            DEFAULT_MAX_BYTES,
        );
        for error in &report.errors {
            eprintln!("not hydrated: {error}");
        }
    }
    let all_complete = report
        .documents
        .iter()
        .all(|d| d["hydration"]["status"] == "complete");
    Ok(if report.errors.is_empty() && all_complete {
        Outcome::Done
    } else {
        Outcome::Incomplete
    })
}
