//! The HTML page `dlq report` writes, self-contained, for an incident review: the counts, a timeline of failures per
//! shard, the table of documents with their status and gaps, and each
//! document's records, viewable as JSON, text or hex.
//!
//! The page loads nothing (styles and its one script are inline) and every
//! value from a document is escaped ([`record_view::escape`]). Its Content
//! Security Policy allows that one script only, by hash: should a value
//! ever get past the escaping, a script in it still would not run.

mod record_view;

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::stats::{failure_time, rfc3339, stats_of, Stats};
use crate::output::report::{self, age, short, FailureSummary};
use crate::sources::gather::Gathered;
pub use record_view::escape;

const STYLE: &str = include_str!("html/style.css");
const SCRIPT: &str = include_str!("html/script.js");

/// The whole page.
pub fn page(gathered: &Gathered, max_records: usize, now: SystemTime) -> String {
    let stats = stats_of(gathered, now);
    let script_hash =
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; img-src data:\">\
         <title>hydrator DLQ report</title><style>{STYLE}</style></head><body>\n\
         <h1>hydrator DLQ report</h1>\n<p class=\"meta\">{origin} · generated {generated}</p>\n",
        origin = escape(&gathered.origin),
        generated = rfc3339(now),
    );
    html += &cards(&stats);
    html += "<h2>Timeline of failures per shard</h2>\n";
    html += &timeline(gathered, now);
    html += "<h2>Documents</h2>\n";
    html += &table(gathered, now);
    html += "<h2>Records</h2>\n";
    for (i, failure) in gathered.assembled.failures.iter().enumerate() {
        html += &document_section(i, &failure.document, max_records, now);
    }
    let _ = writeln!(html, "<script>{SCRIPT}</script></body></html>");
    html
}

fn cards(stats: &Stats) -> String {
    let status = |name: &str| {
        stats
            .by_status
            .iter()
            .find(|t| t.key == name)
            .map_or(0, |t| t.failures)
    };
    let mut html = String::from("<div class=\"cards\">");
    for (id, class, label, value) in [
        ("failures", "", "failures", stats.failures.to_string()),
        (
            "records",
            "",
            "records hydrated",
            format!("{} / {}", stats.records, stats.expected),
        ),
        (
            "missing",
            "",
            "records missing",
            stats.missing_records.to_string(),
        ),
        ("complete", "", "complete", status("complete").to_string()),
        (
            "partial",
            "partial",
            "partial",
            status("partial").to_string(),
        ),
        (
            "unavailable",
            "unavailable",
            "unavailable",
            status("unavailable").to_string(),
        ),
        (
            "incomplete",
            "",
            "parts missing",
            stats.incomplete.to_string(),
        ),
        (
            "unrecognized",
            "",
            "not documents",
            stats.unrecognized.to_string(),
        ),
    ] {
        let _ = write!(
            html,
            "<div class=\"card {class}\"><b id=\"count-{id}\">{value}</b>{label}</div>"
        );
    }
    html + "</div>\n"
}

/// One lane a shard, one dot a failure at the time the consumer gave up.
fn timeline(gathered: &Gathered, now: SystemTime) -> String {
    let mut dots: Vec<(String, f64, usize, String, String)> = Vec::new();
    for (i, failure) in gathered.assembled.failures.iter().enumerate() {
        let Some(time) = failure_time(&failure.document) else {
            continue;
        };
        let s = FailureSummary::of(&failure.document, now);
        let seconds = time
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        dots.push((
            format!("{} {}", s.stream, s.shard),
            seconds,
            i,
            s.status,
            rfc3339(time),
        ));
    }
    if dots.is_empty() {
        return "<p class=\"more\">No failure has a time.</p>\n".to_owned();
    }
    let mut lanes: Vec<String> = dots.iter().map(|d| d.0.clone()).collect();
    lanes.sort();
    lanes.dedup();
    let first = dots.iter().map(|d| d.1).fold(f64::MAX, f64::min) - 60.0;
    let last = dots.iter().map(|d| d.1).fold(f64::MIN, f64::max) + 60.0;
    let (left, width, lane_height) = (280.0, 900.0, 26.0);
    let height = 30.0 + lane_height * lanes.len() as f64;
    let mut svg = format!(
        "<svg id=\"timeline\" width=\"{}\" height=\"{height}\" role=\"img\">",
        left + width + 20.0
    );
    for (row, lane) in lanes.iter().enumerate() {
        let y = 20.0 + lane_height * row as f64;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\">{}</text><line class=\"lane\" x1=\"{left}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/>",
            y + 4.0,
            escape(&report::printable(lane)),
            left + width
        );
    }
    for (lane, seconds, i, status, time) in &dots {
        let row = lanes.iter().position(|l| l == lane).unwrap_or(0);
        let x = left + width * (seconds - first) / (last - first);
        let y = 20.0 + lane_height * row as f64;
        let _ = write!(
            svg,
            "<a href=\"#doc-{i}\"><circle class=\"{}\" cx=\"{x:.1}\" cy=\"{y}\" r=\"6\"><title>{} {}</title></circle></a>",
            escape(status),
            escape(time),
            escape(status)
        );
    }
    let axis_y = height - 4.0;
    for (x, anchor, seconds) in [
        (left, "start", first + 60.0),
        (left + width, "end", last - 60.0),
    ] {
        let label = rfc3339(UNIX_EPOCH + std::time::Duration::from_secs_f64(seconds.max(0.0)));
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"{axis_y}\" text-anchor=\"{anchor}\">{}</text>",
            escape(&label)
        );
    }
    svg + "</svg>\n"
}

fn gaps(document: &Value) -> String {
    document["hydration"]["missing"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|gap| {
            let text = |k: &str| gap[k].as_str().unwrap_or("?").to_owned();
            format!(
                "<div class=\"gap\">{} {} .. {}</div>",
                escape(&text("reason")),
                escape(&short(&text("fromSequenceNumber"))),
                escape(&short(&text("toSequenceNumber")))
            )
        })
        .collect()
}

/// The failure's range, its sequence numbers shortened as the tables show them.
fn range(s: &FailureSummary) -> String {
    format!(
        "{} .. {}",
        short(&s.start_sequence_number),
        short(&s.end_sequence_number)
    )
}

fn table(gathered: &Gathered, now: SystemTime) -> String {
    let mut html = String::from(
        "<div class=\"table-wrap\"><table id=\"documents\"><tr><th>#</th><th>stream</th><th>shard</th><th>range</th>\
         <th>records</th><th>status</th><th>gaps</th><th>failed at</th><th>age</th><th>parts</th></tr>\n",
    );
    for (i, failure) in gathered.assembled.failures.iter().enumerate() {
        let s = FailureSummary::of(&failure.document, now);
        let failed_at = failure_time(&failure.document).map_or_else(|| "?".to_owned(), rfc3339);
        let _ = writeln!(
            html,
            "<tr><td><a href=\"#doc-{i}\">{n}</a></td><td>{stream}</td><td>{shard}</td><td class=\"gap\">{range}</td>\
             <td class=\"num\">{records}/{expected}</td><td class=\"status-{status}\">{status}</td><td>{gaps}</td>\
             <td>{failed_at}</td><td>{age}</td><td class=\"num\">{parts}</td></tr>",
            n = i + 1,
            stream = escape(&s.stream),
            shard = escape(&s.shard),
            range = escape(&range(&s)),
            records = s.records,
            expected = s.expected,
            status = escape(&s.status),
            gaps = gaps(&failure.document),
            failed_at = escape(&failed_at),
            age = s
                .age_seconds
                .map_or_else(|| "?".to_owned(), |a| age(std::time::Duration::from_secs(a))),
            parts = failure.parts,
        );
    }
    html + "</table></div>\n"
}

fn document_section(i: usize, document: &Value, max_records: usize, now: SystemTime) -> String {
    let s = FailureSummary::of(document, now);
    // A stream's `Records`, or a Kafka document's records partition after partition.
    let records = crate::sources::document::records(document);
    let mut html = format!(
        "<section class=\"document\" id=\"doc-{i}\"><h3>{n}. {stream} {shard} {range} \
         <span class=\"status-{status}\">{status}</span></h3>{gaps}\n",
        n = i + 1,
        stream = escape(&s.stream),
        shard = escape(&s.shard),
        range = escape(&range(&s)),
        status = escape(&s.status),
        gaps = gaps(document),
    );
    for (j, record) in records.iter().take(max_records).enumerate() {
        html += &record_view::render(j, record);
    }
    if records.len() > max_records {
        let _ = write!(
            html,
            "<p class=\"more\">{} more record(s) not shown (--max-records {max_records})</p>",
            records.len() - max_records
        );
    }
    html + "</section>\n"
}

#[cfg(test)]
mod tests;
