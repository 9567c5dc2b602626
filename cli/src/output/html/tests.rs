use super::*;
use crate::sources::gather::from_folder;
use serde_json::json;

const HOSTILE: &str =
    "</pre></section><script>document.title='pwned'</script><img src=x onerror=alert(1)>";

/// A folder of one hostile document, removed when dropped.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("hydrator-page-")
        .tempdir()
        .unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(HOSTILE);
    let document = json!({
        "version": "1", "source": "aws:kinesis",
        "failure": {"timestamp": "2026-11-21T06:12:09.114Z", "KinesisBatchInfo": {
            "shardId": "shardId-000000000000\"><script>x</script>", "startSequenceNumber": "100",
            "endSequenceNumber": "900", "batchSize": 2,
            "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/orders"}},
        "hydration": {"status": "partial", "origin": "stream", "expectedRecords": 2,
            "hydratedRecords": 1, "missing": [{"fromSequenceNumber": "900",
            "toSequenceNumber": "900", "reason": "trimmed"}],
            "getRecordsCalls": 1, "getShardIteratorCalls": 1, "durationMs": 5},
        "Records": [{"kinesis": {"data": data, "sequenceNumber": "100", "partitionKey": "<i>k</i>"}}]
    });
    std::fs::write(dir.path().join("a.json"), document.to_string()).unwrap();
    dir
}

#[test]
fn the_page_counts_and_escapes_everything_from_the_documents() {
    let gathered = from_folder(folder().path(), None).unwrap();
    let html = page(&gathered, 10, SystemTime::now());
    assert!(html.contains("<b id=\"count-failures\">1</b>"), "{html}");
    assert!(html.contains("<b id=\"count-partial\">1</b>"));
    assert!(html.contains("<b id=\"count-missing\">1</b>"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(!html.contains("<img") && !html.contains("<i>"));
    assert!(html.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
    assert!(html.contains("id=\"doc-0\"") && html.contains("href=\"#doc-0\""));
    // Nothing is fetched: no URL but the links within the page.
    for scheme in ["http:", "https:", "src=\"//", "@import"] {
        assert!(!html.contains(scheme), "{scheme}");
    }
    // The policy names the hash of the script the page holds.
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT.as_bytes()));
    assert!(html.contains(&format!("script-src 'sha256-{hash}'")));
    assert!(html.contains(&format!("<script>{SCRIPT}</script>")));
}

#[test]
fn records_past_the_bound_are_counted_not_shown() {
    let document = json!({"Records": (0..5).map(|i| json!({"kinesis": {"data": "e30=", "sequenceNumber": i.to_string()}})).collect::<Vec<_>>()});
    let html = document_section(0, &document, 2, SystemTime::now());
    assert_eq!(html.matches("class=\"record\"").count(), 2);
    assert!(html.contains("3 more record(s) not shown"));
}
