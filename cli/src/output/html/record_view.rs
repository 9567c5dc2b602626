//! One record of a document, as the report shows it: its position, and its
//! data three ways (JSON pretty-printed, text, hex), each escaped and bounded.
//!
//! Records are hostile input: every byte of them reaches the page only
//! through [`escape`], and only inside `<pre>` text.

use base64::Engine;
use serde_json::Value;

/// Text shown of one record's data; the rest is counted.
const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Bytes shown in the hex view (16 a line).
const MAX_HEX_BYTES: usize = 4 * 1024;
/// Data larger than this is not parsed as JSON for the pretty view.
const MAX_JSON_BYTES: usize = 256 * 1024;

/// HTML text or attribute value: `& < > " '` replaced, so nothing in a
/// value can end the element or attribute it is in.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The record's data: a Kinesis record's decoded `data`, a Kafka record's
/// decoded `value`, a DynamoDB record's `dynamodb` block, or else the record
/// itself, as JSON.
fn data_of(record: &Value) -> Vec<u8> {
    let encoded = record["kinesis"]["data"]
        .as_str()
        .or_else(|| kafka_place(record).and(record["value"].as_str()));
    if let Some(data) = encoded {
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data) {
            return bytes;
        }
    }
    let shown = if record["dynamodb"].is_object() {
        &record["dynamodb"]
    } else {
        record
    };
    serde_json::to_vec(shown).unwrap_or_default()
}

/// Where the record sits: its sequence number, and its partition key or
/// event name.
fn heading(record: &Value) -> String {
    if let Some(place) = kafka_place(record) {
        return place;
    }
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let sequence = text(&record["kinesis"]["sequenceNumber"])
        .or_else(|| text(&record["dynamodb"]["SequenceNumber"]))
        .unwrap_or_else(|| "?".to_owned());
    let detail = text(&record["kinesis"]["partitionKey"])
        .map(|k| format!("partition key {k}"))
        .or_else(|| text(&record["eventName"]))
        .unwrap_or_default();
    format!("seq {sequence} {detail}")
}

/// A Kafka record's `<topic>-<partition>@<offset>`.
fn kafka_place(record: &Value) -> Option<String> {
    let partition = crate::sources::saved::kafka_partition(record)?;
    Some(format!("{partition}@{}", record["offset"].as_i64()?))
}

/// The record as an HTML fragment: a heading, the view buttons and the three
/// views, the likeliest one shown first.
pub fn render(index: usize, record: &Value) -> String {
    let data = data_of(record);
    let text = std::str::from_utf8(&data).ok();
    let json = text
        .filter(|_| data.len() <= MAX_JSON_BYTES)
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| serde_json::to_string_pretty(&v).ok());
    let view = match (&json, text) {
        (Some(_), _) => "json",
        (None, Some(_)) => "text",
        (None, None) => "hex",
    };
    let json_view = json.map_or_else(
        || "(not JSON)".to_owned(),
        |pretty| escape(&bounded_text(&pretty)),
    );
    let text_view = text.map_or_else(
        || "(not UTF-8 text)".to_owned(),
        |t| escape(&bounded_text(t)),
    );
    format!(
        "<div class=\"record\" data-view=\"{view}\"><div class=\"record-head\">\
         <span class=\"seq\">#{n} {heading}</span> <span class=\"size\">{bytes} bytes</span>\
         <button data-view=\"json\">JSON</button><button data-view=\"text\">Text</button>\
         <button data-view=\"hex\">Hex</button></div>\
         <pre class=\"v-json\">{json_view}</pre><pre class=\"v-text\">{text_view}</pre>\
         <pre class=\"v-hex\">{hex}</pre></div>\n",
        n = index + 1,
        heading = escape(&heading(record)),
        bytes = data.len(),
        hex = hex_dump(&data),
    )
}

fn bounded_text(text: &str) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… {} more bytes", &text[..end], text.len() - end)
}

/// Offset, 16 bytes in hex, and the printable ASCII of them, a line; only
/// hex digits and escaped ASCII reach the page.
fn hex_dump(data: &[u8]) -> String {
    let mut out = String::new();
    for (line, chunk) in data.chunks(16).take(MAX_HEX_BYTES / 16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out += &format!(
            "{:08x}  {:<47}  {}\n",
            line * 16,
            hex.join(" "),
            escape(&ascii)
        );
    }
    if data.len() > MAX_HEX_BYTES {
        out += &format!("… {} more bytes\n", data.len() - MAX_HEX_BYTES);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinesis(data: &[u8]) -> Value {
        json!({"kinesis": {"data": base64::engine::general_purpose::STANDARD.encode(data),
            "sequenceNumber": "4968", "partitionKey": "<b>pk</b>"}})
    }

    #[test]
    fn json_data_is_pretty_and_everything_is_escaped() {
        let html = render(
            0,
            &kinesis(br#"{"note":"</pre><script>alert(1)</script>"}"#),
        );
        assert!(html.contains("data-view=\"json\""));
        assert!(
            html.contains(
                "&quot;note&quot;: &quot;&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;"
            ),
            "{html}"
        );
        assert!(!html.contains("<script") && !html.contains("<b>"), "{html}");
        assert!(html.contains("partition key &lt;b&gt;pk&lt;/b&gt;"));
    }

    #[test]
    fn text_and_binary_data_get_their_view() {
        let text = render(1, &kinesis(b"plain <text> & more"));
        assert!(text.contains("data-view=\"text\""));
        assert!(text.contains("plain &lt;text&gt; &amp; more"));
        let binary = render(2, &kinesis(&[0xff, 0x00, b'<', 0x41]));
        assert!(binary.contains("data-view=\"hex\""));
        assert!(binary.contains("00000000  ff 00 3c 41"), "{binary}");
        assert!(binary.contains("..&lt;A"), "{binary}");
    }

    #[test]
    fn large_data_is_bounded_and_dynamodb_records_show_their_block() {
        let html = render(0, &kinesis(&vec![b'a'; 200_000]));
        assert!(html.len() < 100_000, "{} bytes", html.len());
        assert!(html.contains("more bytes"));
        let change = json!({"eventName": "MODIFY", "dynamodb": {"SequenceNumber": "77",
            "NewImage": {"id": {"S": "ord-1"}}}});
        let html = render(0, &change);
        assert!(html.contains("seq 77 MODIFY"));
        assert!(html.contains("&quot;S&quot;: &quot;ord-1&quot;"), "{html}");
    }

    #[test]
    fn a_kafka_record_shows_its_place_and_its_value_escaped() {
        let record = json!({"topic": "order-events-v2", "partition": 1, "offset": 17,
            "key": null, "headers": [],
            "value": base64::engine::general_purpose::STANDARD.encode(br#"{"x":"<i>"}"#)});
        let html = render(0, &record);
        assert!(html.contains("#1 order-events-v2-1@17"), "{html}");
        assert!(html.contains("data-view=\"json\""), "{html}");
        assert!(
            html.contains("&quot;x&quot;: &quot;&lt;i&gt;&quot;"),
            "{html}"
        );
    }
}
