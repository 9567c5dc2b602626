//! What a queue (or a drained folder) holds, counted, for `dlq stats` and
//! the report page: by
//! stream, shard, status and missing reason, the oldest and newest failure,
//! sizes, and failures over time as a bar chart in the terminal.
//!
//! Every count is read from the documents' own blocks (`failure`,
//! `hydration`); what is shown from them passes through [`printable`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_types::date_time::Format as DateFormat;
use aws_smithy_types::DateTime;
use serde::Serialize;
use serde_json::Value;

use super::report::{self, age, printable, FailureSummary};
use crate::sources::gather::Gathered;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub origin: String,
    pub messages: usize,
    pub failures: usize,
    /// Failures whose parts are not all there, and bodies that are not documents.
    pub incomplete: usize,
    pub unrecognized: usize,
    pub records: u64,
    pub expected: u64,
    pub missing_records: u64,
    pub by_stream: Vec<Tally>,
    pub by_shard: Vec<Tally>,
    pub by_status: Vec<Tally>,
    /// Missing ranges (gaps) by reason.
    pub by_reason: Vec<Tally>,
    pub oldest: Option<Moment>,
    pub newest: Option<Moment>,
    pub sizes: Sizes,
    /// Failures by when the consumer gave up, in buckets of `bucket_seconds`.
    pub bucket_seconds: u64,
    pub over_time: Vec<Bucket>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    pub key: String,
    pub failures: usize,
    pub records: u64,
    pub missing: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Moment {
    /// When the consumer gave up (the failure record's `timestamp`).
    pub time: String,
    pub age_seconds: u64,
    pub stream: String,
    pub shard: String,
    pub start_sequence_number: String,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sizes {
    pub total_bytes: u64,
    pub smallest_bytes: u64,
    pub largest_bytes: u64,
    pub median_bytes: u64,
    pub parts: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    pub start: String,
    pub failures: usize,
}

/// When the event source mapping gave up on the batch.
pub fn failure_time(document: &Value) -> Option<SystemTime> {
    let text = document["failure"]["timestamp"].as_str()?;
    SystemTime::try_from(DateTime::from_str(text, DateFormat::DateTime).ok()?).ok()
}

pub fn rfc3339(time: SystemTime) -> String {
    DateTime::from(time)
        .fmt(DateFormat::DateTime)
        .unwrap_or_else(|_| "?".to_owned())
}

pub fn stats_of(gathered: &Gathered, now: SystemTime) -> Stats {
    let failures = &gathered.assembled.failures;
    let mut by_stream: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_shard: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_status: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_reason: BTreeMap<String, Tally> = BTreeMap::new();
    let mut timed = Vec::new();
    let (mut records, mut expected, mut missing_records) = (0, 0, 0);
    for failure in failures {
        let document = &failure.document;
        let summary = FailureSummary::of(document, now);
        let missing = summary.expected.saturating_sub(summary.records);
        records += summary.records;
        expected += summary.expected;
        missing_records += missing;
        for (map, key) in [
            (&mut by_stream, summary.stream.clone()),
            (
                &mut by_shard,
                format!("{} {}", summary.stream, summary.shard),
            ),
            (&mut by_status, summary.status.clone()),
        ] {
            add(map, key, summary.records, missing);
        }
        for gap in document["hydration"]["missing"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let reason = gap["reason"].as_str().unwrap_or("?").to_owned();
            add(&mut by_reason, reason, 0, 0);
        }
        if let Some(time) = failure_time(document) {
            timed.push((time, summary));
        }
    }
    timed.sort_by_key(|(time, _)| *time);
    let moment = |(time, summary): &(SystemTime, FailureSummary)| Moment {
        time: rfc3339(*time),
        age_seconds: now.duration_since(*time).map_or(0, |d| d.as_secs()),
        stream: summary.stream.clone(),
        shard: summary.shard.clone(),
        start_sequence_number: summary.start_sequence_number.clone(),
    };
    let times: Vec<SystemTime> = timed.iter().map(|(t, _)| *t).collect();
    let (bucket_seconds, over_time) = over_time(&times);
    Stats {
        origin: gathered.origin.clone(),
        messages: gathered.messages,
        failures: failures.len(),
        incomplete: gathered.assembled.incomplete.len(),
        unrecognized: gathered.assembled.unrecognized.len(),
        records,
        expected,
        missing_records,
        by_stream: by_stream.into_values().collect(),
        by_shard: by_shard.into_values().collect(),
        by_status: by_status.into_values().collect(),
        by_reason: by_reason.into_values().collect(),
        oldest: timed.first().map(moment),
        newest: timed.last().map(moment),
        sizes: sizes(gathered),
        bucket_seconds,
        over_time,
    }
}

fn add(map: &mut BTreeMap<String, Tally>, key: String, records: u64, missing: u64) {
    let tally = map.entry(key.clone()).or_insert_with(|| Tally {
        key,
        ..Tally::default()
    });
    tally.failures += 1;
    tally.records += records;
    tally.missing += missing;
}

fn sizes(gathered: &Gathered) -> Sizes {
    let mut sizes: Vec<u64> = gathered.sizes.iter().map(|s| *s as u64).collect();
    sizes.sort_unstable();
    Sizes {
        total_bytes: sizes.iter().sum(),
        smallest_bytes: sizes.first().copied().unwrap_or(0),
        largest_bytes: sizes.last().copied().unwrap_or(0),
        median_bytes: sizes.get(sizes.len() / 2).copied().unwrap_or(0),
        parts: gathered
            .assembled
            .failures
            .iter()
            .map(|f| u64::from(f.parts))
            .sum(),
    }
}

/// The most rows the chart has.
const MAX_BUCKETS: u64 = 24;

/// Failures counted in buckets of a round width (a minute up to a week),
/// the narrowest that shows the whole span in at most [`MAX_BUCKETS`] rows.
fn over_time(times: &[SystemTime]) -> (u64, Vec<Bucket>) {
    let seconds: Vec<u64> = times
        .iter()
        .map(|t| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
        .collect();
    let (Some(&first), Some(&last)) = (seconds.iter().min(), seconds.iter().max()) else {
        return (0, Vec::new());
    };
    let width = [60, 300, 900, 3600, 6 * 3600, 86_400, 7 * 86_400]
        .into_iter()
        .find(|w| (last / w - first / w) < MAX_BUCKETS)
        .unwrap_or(7 * 86_400);
    let start = first / width;
    let rows = ((last / width - start + 1).min(MAX_BUCKETS)) as usize;
    let mut counts = vec![0usize; rows];
    for s in seconds {
        let row = ((s / width - start) as usize).min(rows - 1);
        counts[row] += 1;
    }
    let buckets = counts
        .into_iter()
        .enumerate()
        .map(|(i, failures)| Bucket {
            start: rfc3339(UNIX_EPOCH + Duration::from_secs((start + i as u64) * width)),
            failures,
        })
        .collect();
    (width, buckets)
}

/// The widest bar, in characters.
const BAR: usize = 40;

pub fn render(stats: &Stats) -> String {
    let mut out = format!(
        "{} failure(s) in {} message(s) from {}\n",
        stats.failures,
        stats.messages,
        printable(&stats.origin)
    );
    out += &format!(
        "records: {} of {} hydrated, {} missing\n",
        stats.records, stats.expected, stats.missing_records
    );
    if stats.incomplete + stats.unrecognized > 0 {
        out += &format!(
            "not counted: {} failure(s) with parts missing, {} message(s) that are not documents\n",
            stats.incomplete, stats.unrecognized
        );
    }
    for (title, tallies) in [
        ("STREAM", &stats.by_stream),
        ("STREAM SHARD", &stats.by_shard),
        ("STATUS", &stats.by_status),
    ] {
        let rows: Vec<Vec<String>> = tallies
            .iter()
            .map(|t| {
                vec![
                    printable(&t.key),
                    t.failures.to_string(),
                    t.records.to_string(),
                    t.missing.to_string(),
                ]
            })
            .collect();
        out += "\n";
        out += &report::table(&[title, "FAILURES", "RECORDS", "MISSING"], &rows);
    }
    let reasons: Vec<Vec<String>> = stats
        .by_reason
        .iter()
        .map(|t| vec![printable(&t.key), t.failures.to_string()])
        .collect();
    out += "\n";
    out += &if reasons.is_empty() {
        "MISSING REASON  RANGES\n(none: every document is complete)\n".to_owned()
    } else {
        report::table(&["MISSING REASON", "RANGES"], &reasons)
    };
    out += "\n";
    for (label, moment) in [("oldest", &stats.oldest), ("newest", &stats.newest)] {
        if let Some(m) = moment {
            out += &format!(
                "{label} failure  {} ({} ago)  {} {} from {}\n",
                m.time,
                age(Duration::from_secs(m.age_seconds)),
                printable(&m.stream),
                printable(&m.shard),
                report::short(&m.start_sequence_number)
            );
        }
    }
    let s = &stats.sizes;
    out += &format!(
        "sizes  {} bytes in all, {} parts; smallest {}, median {}, largest {} bytes\n",
        s.total_bytes, s.parts, s.smallest_bytes, s.median_bytes, s.largest_bytes
    );
    out += &chart(stats);
    out
}

fn chart(stats: &Stats) -> String {
    let Some(most) = stats.over_time.iter().map(|b| b.failures).max() else {
        return String::new();
    };
    let mut out = format!(
        "\nfailures over time (by when the consumer gave up, {} a row)\n",
        age(Duration::from_secs(stats.bucket_seconds))
    );
    for bucket in &stats.over_time {
        let length = (bucket.failures * BAR).div_ceil(most.max(1));
        out += &format!(
            "{}  {:<BAR$}  {}\n",
            bucket.start,
            "█".repeat(length),
            bucket.failures
        );
    }
    out
}

#[cfg(test)]
mod tests;
