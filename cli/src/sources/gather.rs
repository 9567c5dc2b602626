//! The documents `dlq stats` and `dlq report` look at: received from the
//! queue (and left there), or read from a folder `dlq drain` saved into.
//!
//! A folder's `NAME.json` and `NAME.part-K-of-N.json` files go through the
//! same [`assemble`] as queue messages, so parts are joined and anything that
//! is not a document is set aside the same way; the `NAME.event.json`
//! files are cuts of the documents beside them and are skipped.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::args::{FilterArgs, Format, SourceArgs};
use crate::sources::assemble::{assemble, Assembled, Message};
use crate::sources::queue;

/// The largest file read from a folder: a whole document of a 6 MB batch,
/// base64 and escaping included, fits with room to spare.
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// What was read, from where.
#[derive(Debug)]
pub struct Gathered {
    /// The queue's URL or the folder, as the operator gave it.
    pub origin: String,
    /// Messages received, or files read.
    pub messages: usize,
    pub assembled: Assembled,
    /// Each failure's size in bytes as it was stored (the message bodies or
    /// the file), in `assembled.failures` order.
    pub sizes: Vec<usize>,
}

pub async fn gather(
    sdk: &aws_config::SdkConfig,
    args: &SourceArgs,
    format: Format,
) -> anyhow::Result<Gathered> {
    let gathered = match &args.from {
        Some(dir) => from_folder(dir, args.receive.max_messages)?,
        None => from_queue(sdk, args, format).await?,
    };
    Ok(filtered(gathered, &args.filter))
}

/// Only the failures `filter` takes, each with its size.
fn filtered(mut gathered: Gathered, filter: &FilterArgs) -> Gathered {
    if !filter.is_set() {
        return gathered;
    }
    let failures = std::mem::take(&mut gathered.assembled.failures);
    let sizes = std::mem::take(&mut gathered.sizes);
    for (failure, size) in failures.into_iter().zip(sizes) {
        if filter.matches(&failure.document) {
            gathered.assembled.failures.push(failure);
            gathered.sizes.push(size);
        }
    }
    gathered
}

async fn from_queue(
    sdk: &aws_config::SdkConfig,
    args: &SourceArgs,
    format: Format,
) -> anyhow::Result<Gathered> {
    let queue = args
        .queue()
        .context("either --queue-url or --from is required")?;
    let (messages, assembled) = queue::look(&queue::DlqClients::new(sdk), &queue, format).await?;
    let sizes = stored_sizes(&assembled);
    Ok(Gathered {
        origin: queue.queue_url,
        messages,
        assembled,
        sizes,
    })
}

/// Reads `dir`'s documents and parts (at most `max` files), in name order.
pub fn from_folder(dir: &Path, max: Option<usize>) -> anyhow::Result<Gathered> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| n.ends_with(".json") && !n.ends_with(".event.json"))
        })
        .collect();
    paths.sort();
    paths.truncate(max.unwrap_or(usize::MAX));
    let mut messages = Vec::new();
    for path in &paths {
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if size > MAX_FILE_BYTES {
            anyhow::bail!(
                "{} is {size} bytes, more than a document may be ({MAX_FILE_BYTES})",
                path.display()
            );
        }
        let body = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {} as text", path.display()))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        messages.push(Message {
            message_id: name.into_owned(),
            receipt_handle: String::new(),
            body,
        });
    }
    let count = messages.len();
    let mut assembled = assemble(messages);
    queue::in_stream_order(&mut assembled);
    let sizes = stored_sizes(&assembled);
    Ok(Gathered {
        origin: dir.display().to_string(),
        messages: count,
        assembled,
        sizes,
    })
}

fn stored_sizes(assembled: &Assembled) -> Vec<usize> {
    assembled
        .failures
        .iter()
        .map(|f| {
            // A part delivered twice is stored twice but is one part's bytes.
            let mut seen = std::collections::HashSet::new();
            f.messages
                .iter()
                .filter(|m| seen.insert(m.body.as_str()))
                .map(|m| m.body.len())
                .sum()
        })
        .collect()
}
