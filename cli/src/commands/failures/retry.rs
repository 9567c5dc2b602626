//! `failures retry`: on-failure records back to the on-failure queue, S3
//! notifications to the hydrator function (asynchronously, as S3 invoked
//! it); each original deleted only once it was handed on. A message that
//! would only fail again is kept and reported.

use anyhow::Context;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde::Serialize;

use super::kind::{classify, Retry};
use crate::args::{FailuresRetryArgs, Format, QueueArgs};
use crate::output::report;
use crate::sources::assemble::Message;
use crate::sources::queue::{delete, receive_all, release, resolve, DlqClients};
use crate::Outcome;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    message_id: String,
    kind: &'static str,
    /// `moved`, `invoked`, `kept` (or, in a dry run, `would move` and `would invoke`).
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
}

pub async fn retry(
    sdk: &aws_config::SdkConfig,
    args: &FailuresRetryArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let clients = DlqClients::new(sdk);
    let queue = resolve(&clients.sqs, &args.queue.queue_args()).await?;
    let target = QueueArgs {
        queue_url: args.to_queue.clone(),
        receive: args.queue.receive,
    };
    let target = resolve(&clients.sqs, &target).await?;
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let (messages, _) = receive_all(&clients, &queue, format).await?;

    let mut rows = Vec::new();
    let mut handed_on: Vec<Message> = Vec::new();
    let mut kept: Vec<Message> = Vec::new();
    for message in &messages {
        let classified = classify(&message.body);
        let mut row = Row {
            message_id: message.message_id.clone(),
            kind: classified.kind,
            result: "kept",
            why: None,
        };
        let outcome = match (&classified.retry, args.dry_run) {
            (Retry::No, _) => Err(classified.why.clone()),
            (Retry::ToQueue, true) => Ok("would move"),
            (Retry::Invoke(_), true) if args.to_function.is_some() => Ok("would invoke"),
            (Retry::Invoke(_), _) if args.to_function.is_none() => {
                Err("an S3 notification goes to the hydrator: give --to-function".to_owned())
            }
            (Retry::ToQueue, false) => clients
                .sqs
                .send_message()
                .queue_url(&target.queue_url)
                .message_body(&message.body)
                .send()
                .await
                .map(|_| "moved")
                .map_err(|e| format!("not sent: {}", e.into_service_error())),
            (Retry::Invoke(payload), _) => lambda
                .invoke()
                .function_name(args.to_function.as_deref().unwrap_or_default())
                .invocation_type(InvocationType::Event)
                .payload(Blob::new(payload.as_bytes()))
                .send()
                .await
                .map(|_| "invoked")
                .map_err(|e| format!("not invoked: {}", e.into_service_error())),
        };
        match outcome {
            Ok(result) => {
                row.result = result;
                if args.dry_run {
                    kept.push(message.clone());
                } else {
                    handed_on.push(message.clone());
                }
            }
            Err(why) => {
                row.why = Some(why);
                kept.push(message.clone());
            }
        }
        rows.push(row);
    }
    let not_deleted = delete(&clients.sqs, &queue.queue_url, &handed_on).await;
    release(&clients.sqs, &queue.queue_url, &kept).await;
    print(&rows, not_deleted.len(), args.dry_run, format).context("cannot print the report")?;
    let done = not_deleted.is_empty() && rows.iter().all(|r| r.why.is_none());
    Ok(if done {
        Outcome::Done
    } else {
        Outcome::Incomplete
    })
}

fn print(rows: &[Row], not_deleted: usize, dry_run: bool, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return report::print_json(&serde_json::json!({
            "dryRun": dry_run,
            "messages": rows,
            "notDeleted": not_deleted,
        }));
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                report::printable(&r.message_id),
                r.kind.to_owned(),
                r.result.to_owned(),
                r.why.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        report::table(&["MESSAGE", "KIND", "RESULT", "WHY"], &cells)
    );
    if not_deleted > 0 {
        println!("{not_deleted} message(s) handed on but not deleted: they will be retried twice");
    }
    if dry_run {
        println!("dry run: nothing sent, invoked or deleted");
    }
    Ok(())
}
