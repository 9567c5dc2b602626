//! `hydrator dlq stats` and `hydrator dlq report` over the wire: real
//! documents (hydrated from kinesis-mock, delivered to moto's SQS) counted
//! from the queue and from a drained folder alike, and the report page
//! opened in headless Chromium (Debian's `chromium`, which
//! `scripts/tools.sh` installs): the rendered page shows the counts and a
//! record, and a record holding markup and script neither injects nor runs.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use aws_smithy_types::date_time::Format as DateFormat;
use aws_smithy_types::DateTime;

use hydrate::{Hydrator, Settings};
use hydrator_tests::cli::hydrator;
use hydrator_tests::emulator::{kinesis_client, sdk_config};
use hydrator_tests::failure::{kinesis_failure, sns_event};
use hydrator_tests::queue::{create_queue, queue_depth};
use hydrator_tests::stream::TestStream;

const CHROMIUM: &str = "/usr/bin/chromium";
const HOSTILE: &str =
    "</pre></section><script>document.body.setAttribute('data-pwned','1')</script>\
                       <img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">";

/// A queue holding two documents of one shard: a complete one of a JSON
/// order, a text line and a binary record; and a partial one (the failure
/// claims one record more than its range holds) with the hostile record.
async fn queue_with_documents() -> String {
    let stream = TestStream::create(&kinesis_client(), "report", 1).await;
    let written = stream
        .write(
            0,
            &[
                br#"{"orderId":"ord-0007","amount":"42.50","currency":"CHF"}"#.to_vec(),
                b"plain text line".to_vec(),
                vec![0xde, 0xad, 0xbe, 0xef, 0x00, 0x3c],
                HOSTILE.as_bytes().to_vec(),
            ],
        )
        .await;
    let queue = create_queue("report-dlq").await;
    let settings = Settings {
        dlq_queue_url: Some(queue.clone()),
        ..Settings::default()
    };
    let hydrator = Hydrator::new(sdk_config(), settings);
    // The consumer gave up 3 hours and 20 minutes ago.
    for (mut failure, ago) in [
        (
            kinesis_failure(&stream.arn, &written[0], &written[2], 3),
            3 * 3600,
        ),
        (
            kinesis_failure(&stream.arn, &written[3], &written[3], 2),
            20 * 60,
        ),
    ] {
        let time = SystemTime::now() - Duration::from_secs(ago);
        failure["timestamp"] = DateTime::from(time)
            .fmt(DateFormat::DateTime)
            .unwrap()
            .into();
        hydrator
            .handle(sns_event(&failure).to_string())
            .await
            .expect("delivered");
    }
    assert_eq!(queue_depth(&queue).await, 2);
    queue
}

fn chromium(args: &[&str], page: &Path) -> String {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "no {CHROMIUM}: scripts/tools.sh installs Debian's chromium"
    );
    // A profile of its own, removed when the run is over, failed or not.
    let profile = tempfile::Builder::new()
        .prefix("chromium-")
        .tempdir()
        .expect("a profile folder");
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A new folder for the test's files, removed with them when dropped.
fn temp_folder() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("hydrator-report-")
        .tempdir()
        .expect("a work folder")
}

#[tokio::test]
async fn stats_count_the_queue_and_the_report_page_renders_in_chromium() {
    let queue = queue_with_documents().await;

    // Stats of the queue, and of the same documents drained into a folder.
    let stats = hydrator(
        &["--output", "json", "dlq", "stats", "--queue-url", &queue],
        &[],
    )
    .await;
    assert_eq!(stats.code, Some(0), "{}", stats.stderr);
    let stats = stats.report();
    assert_eq!(stats["failures"], 2);
    assert_eq!(
        (stats["records"].as_u64(), stats["expected"].as_u64()),
        (Some(4), Some(5))
    );
    assert_eq!(stats["missingRecords"], 1);
    let statuses: Vec<(&str, u64)> = stats["byStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap(), t["failures"].as_u64().unwrap()))
        .collect();
    assert_eq!(statuses, [("complete", 1), ("partial", 1)]);
    assert_eq!(stats["byReason"][0]["key"], "count_mismatch");
    assert_eq!(stats["byShard"].as_array().unwrap().len(), 1);
    assert!(stats["oldest"]["time"].is_string());
    assert!(stats["sizes"]["largestBytes"].as_u64().unwrap() > 100);
    assert_eq!(
        queue_depth(&queue).await,
        2,
        "stats leave the queue as it was"
    );

    let temp = temp_folder();
    let folder = temp.path().join("report-drained");
    let folder_arg = folder.display().to_string();
    let drained = hydrator(
        &["dlq", "drain", "--queue-url", &queue, "--to", &folder_arg],
        &[],
    )
    .await;
    assert_eq!(drained.code, Some(0), "{}", drained.stderr);
    let from_folder = hydrator(
        &["--output", "json", "dlq", "stats", "--from", &folder_arg],
        &[],
    )
    .await;
    let from_folder = from_folder.report();
    for key in [
        "failures",
        "records",
        "expected",
        "missingRecords",
        "byStatus",
        "byReason",
        "overTime",
    ] {
        assert_eq!(from_folder[key], stats[key], "{key}");
    }
    for key in ["time", "startSequenceNumber"] {
        assert_eq!(
            from_folder["oldest"][key], stats["oldest"][key],
            "oldest {key}"
        );
    }
    let human = hydrator(&["dlq", "stats", "--from", &folder_arg], &[]).await;
    assert!(
        human.stdout.contains("records: 4 of 5 hydrated, 1 missing"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("failures over time"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains('█'), "{}", human.stdout);

    // The page, from the queue.
    let page = temp.path().join("dlq-report.html");
    let page_arg = page.display().to_string();
    let written = hydrator(
        &["dlq", "report", "--queue-url", &queue, "--out", &page_arg],
        &[],
    )
    .await;
    assert_eq!(written.code, Some(0), "{}", written.stderr);
    assert!(
        written.stdout.contains("2 failure(s)"),
        "{}",
        written.stdout
    );

    let dom = chromium(&["--dump-dom"], &page);
    // The page's own script ran (so scripts do run here)...
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not run:\n{dom}"
    );
    // ...and the record's did not: no attribute set, no element injected.
    // (The record's text names the attribute; only the attribute itself,
    // `data-pwned="..."`, would mean it ran.)
    assert!(!dom.contains("data-pwned=\""), "a record's script ran");
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(!dom.contains("<img"), "a record's markup became an element");
    assert!(
        dom.contains("&lt;script&gt;document.body.setAttribute"),
        "the record is shown as text"
    );
    // The counts, and a record pretty-printed.
    assert!(dom.contains("<b id=\"count-failures\">2</b>"), "{dom}");
    assert!(dom.contains("<b id=\"count-records\">4 / 5</b>"));
    assert!(dom.contains("<b id=\"count-partial\">1</b>"));
    assert!(
        dom.contains("\"orderId\": \"ord-0007\""),
        "the JSON record, pretty-printed"
    );
    assert!(
        dom.contains("de ad be ef 00 3c"),
        "the binary record in hex"
    );
    assert!(dom.contains("count_mismatch"));
    assert_eq!(
        dom.matches("<circle").count(),
        2,
        "one dot a failure on the timeline"
    );

    let screenshot = temp.path().join("dlq-report.png");
    chromium(
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,1400",
        ],
        &page,
    );
    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    // `REPORT_SCREENSHOT=docs/images/dlq-report.png` keeps it (for the docs).
    if let Ok(keep) = std::env::var("REPORT_SCREENSHOT") {
        std::fs::copy(&screenshot, hydrator_tests::workspace_root().join(keep)).unwrap();
    }
}
