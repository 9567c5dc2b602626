//! `failures list`: every message of the hydrator's failure queue, what it
//! is and why it is there; the queue is left as it was.

use serde::Serialize;

use super::kind::{classify, Retry};
use crate::args::{FailuresListArgs, Format};
use crate::output::report;
use crate::sources::queue::{receive_all, release, resolve, DlqClients};
use crate::Outcome;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    message_id: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<String>,
    why: String,
    /// `to-queue`, `invoke` or `no`.
    retry: &'static str,
}

pub async fn list(
    clients: &DlqClients,
    args: &FailuresListArgs,
    format: Format,
) -> anyhow::Result<Outcome> {
    let queue = resolve(&clients.sqs, &args.queue.queue_args()).await?;
    let (messages, _) = receive_all(clients, &queue, format).await?;
    let rows: Vec<Row> = messages
        .iter()
        .map(|m| {
            let c = classify(&m.body);
            let (stream, shard) = c.batch.unzip();
            Row {
                message_id: m.message_id.clone(),
                kind: c.kind,
                stream,
                shard,
                why: c.why,
                retry: match c.retry {
                    Retry::ToQueue => "to-queue",
                    Retry::Invoke(_) => "invoke",
                    Retry::No => "no",
                },
            }
        })
        .collect();
    release(&clients.sqs, &queue.queue_url, &messages).await;
    if format == Format::Json {
        report::print_json(&serde_json::json!({ "queue": queue.queue_url, "messages": rows }))?;
        return Ok(Outcome::Done);
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                report::printable(&r.message_id),
                r.kind.to_owned(),
                r.stream
                    .as_deref()
                    .map(crate::sources::document::stream_name)
                    .unwrap_or_default(),
                report::printable(r.shard.as_deref().unwrap_or("")),
                r.retry.to_owned(),
                r.why.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        report::table(
            &["MESSAGE", "KIND", "STREAM", "SHARD", "RETRY", "WHY"],
            &cells
        )
    );
    println!("{} message(s) in the hydrator's failure queue", rows.len());
    Ok(Outcome::Done)
}
