//! The Kinesis endpoint the lean benchmark points the function at: it
//! answers `GetShardIterator`, `GetRecords` and `DescribeStreamSummary` with
//! the answers kinesis-mock gave the benchmark's recorder for the same range,
//! byte for byte but for the iterators, which name the recorded pages.
//!
//! kinesis-mock, a JavaScript emulator, takes longer than the function's
//! 10 s attempt timeout to make a page of 10,000 records while other builds
//! load the machine; the function's CPU and memory are the figures here, and
//! they do not depend on how fast the emulator answers, so the pages are
//! made once and then served as the service's wire protocol carries them.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// Where the recorded pages are served.
pub struct Replay {
    pub url: String,
}

/// The pages as served: each `NextShardIterator` names the next page.
pub fn pages(answers: &[Vec<u8>]) -> Vec<Bytes> {
    answers
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut page: Value = serde_json::from_slice(body).expect("a GetRecords answer");
            page["NextShardIterator"] = json!(iterator(i + 1));
            Bytes::from(serde_json::to_vec(&page).expect("a page serializes"))
        })
        .collect()
}

fn iterator(page: usize) -> String {
    format!("replay-{page}")
}

struct Recorded {
    pages: Vec<Bytes>,
    summary: Bytes,
}

impl Replay {
    /// Serves `pages` (from [`pages`]) and the stream's summary answer.
    pub async fn start(pages: Vec<Bytes>, summary: Vec<u8>) -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");
        let recorded = Arc::new(Recorded {
            pages,
            summary: Bytes::from(summary),
        });
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let recorded = recorded.clone();
                        async move { Ok::<_, Infallible>(answer(&recorded, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Replay {
            url: format!("http://{address}"),
        }
    }
}

async fn answer(recorded: &Recorded, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let operation = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("")
        .to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match operation.as_str() {
        "GetShardIterator" => ok(json!({ "ShardIterator": iterator(0) }).to_string().into()),
        "GetRecords" => {
            let page = body["ShardIterator"]
                .as_str()
                .and_then(|i| i.strip_prefix("replay-"))
                .and_then(|n| n.parse::<usize>().ok());
            match page.and_then(|n| recorded.pages.get(n)) {
                Some(page) => ok(page.clone()),
                // Past the recorded pages: the tip of the shard.
                None => ok(json!({
                    "Records": [],
                    "NextShardIterator": iterator(recorded.pages.len()),
                    "MillisBehindLatest": 0
                })
                .to_string()
                .into()),
            }
        }
        "DescribeStreamSummary" => ok(recorded.summary.clone()),
        _ => Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .header("content-type", "application/x-amz-json-1.1")
            .body(Full::new(Bytes::from(
                json!({ "__type": "UnknownOperationException", "message": "not replayed" })
                    .to_string(),
            )))
            .expect("a valid response"),
    }
}

fn ok(body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(body))
        .expect("a valid response")
}
