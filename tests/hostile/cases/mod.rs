//! The hostile cases, one table per trigger: `direct`, `sns`, `sqs`,
//! `pipes` and `s3`. A row is a name, how its payload is made (a valid
//! record with a field changed, a record of its own, a text where the record
//! goes, a whole event, or an S3 object) and what is expected; the trigger
//! wraps it in its envelope. The record shapes every trigger that carries a
//! bare record shares (`shapes`) are written once and wrapped by each, so a new
//! hostile record shape is one row.

mod direct;
mod pipes;
mod s3;
mod shapes;
mod sns;
mod sqs;

use std::time::Duration;

use serde_json::Value;

use hydrator_tests::hostile::{s3_event, sns_event, sqs_event, text};
use hydrator_tests::queue::put_object;
use hydrator_tests::stream::unique_suffix;

use crate::expect::Expect;
use crate::world::{bytes, World};

/// Lambda's limit on a synchronous invocation payload.
pub const PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;
/// How long an ordinary case may take.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// How long a case of many megabytes may take.
const LONG_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Trigger {
    Sns,
    Sqs,
    Direct,
    Pipes,
    S3,
}

/// Which process a case goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No DLQ_QUEUE_URL: documents are returned.
    Return,
    /// DLQ_QUEUE_URL set: SQS invocations.
    Queue,
}

/// One invocation and what it must answer.
pub struct Case {
    pub name: String,
    pub trigger: Trigger,
    pub mode: Mode,
    pub payload: Vec<u8>,
    pub expect: Expect,
    pub timeout: Duration,
}

/// How a row's payload is made.
pub enum Make {
    /// The valid record (`World::valid`) with one batch field set, or removed (`None`).
    Field(&'static str, Option<Value>),
    /// This on-failure record.
    Record(Value),
    /// This text where the record goes (cut, nested, a key twice, not UTF-8).
    Text(Vec<u8>),
    /// The whole invocation payload, envelope and all.
    Event(Vec<u8>),
    /// S3 only: an object of this body, under a key that starts with this
    /// name, and an S3 event naming it.
    Object(&'static str, Vec<u8>),
}

/// One row of a trigger's table.
pub struct Row {
    name: String,
    make: Make,
    expect: Expect,
    long: bool,
    queue: bool,
}

/// A row: its name without the trigger, how its payload is made, what is expected.
pub fn row(name: impl Into<String>, make: Make, expect: Expect) -> Row {
    Row {
        name: name.into(),
        make,
        expect,
        long: false,
        queue: false,
    }
}

impl Row {
    /// A case of many megabytes, given more time.
    pub fn long(mut self) -> Self {
        self.long = true;
        self
    }

    /// Goes to the process with a DLQ (an SQS event of another trigger's records).
    pub fn queue(mut self) -> Self {
        self.queue = true;
        self
    }
}

/// Every table's rows as cases, in the order direct, SNS, Pipes, S3, SQS.
pub async fn build_cases(w: &World) -> Vec<Case> {
    let tables = [
        (Trigger::Direct, direct::table(w)),
        (Trigger::Sns, sns::table(w)),
        (Trigger::Pipes, pipes::table(w)),
        (Trigger::S3, s3::table(w).await),
        (Trigger::Sqs, sqs::table(w)),
    ];
    let mut cases = Vec::new();
    for (trigger, rows) in tables {
        for row in rows {
            cases.push(trigger.case(w, row).await);
        }
    }
    cases
}

impl Trigger {
    fn label(self) -> &'static str {
        match self {
            Trigger::Sns => "sns",
            Trigger::Sqs => "sqs",
            Trigger::Direct => "direct",
            Trigger::Pipes => "pipes",
            Trigger::S3 => "s3",
        }
    }

    /// The row wrapped in this trigger's envelope.
    async fn case(self, w: &World, row: Row) -> Case {
        let Row {
            name,
            make,
            mut expect,
            long,
            queue,
        } = row;
        let payload = match (self, make) {
            (_, Make::Event(payload)) => payload,
            (Trigger::Sns, Make::Text(message)) => bytes(&sns_event(&[utf8(message)])),
            (Trigger::Sns, make) => bytes(&sns_event(&[text(&record_of(w, make))])),
            (Trigger::Sqs, make) => {
                let id = format!("one-{}", unique_suffix());
                let body = match make {
                    Make::Text(body) => utf8(body),
                    make => text(&record_of(w, make)),
                };
                expect = expect.for_one_message(&id);
                bytes(&sqs_event(&[(id, body)]))
            }
            (Trigger::S3, Make::Object(prefix, body)) => {
                let key = format!("objects/{prefix}-{}.json", unique_suffix());
                put_object(&w.bucket, &key, body).await;
                bytes(&s3_event(&w.bucket, &[&key]))
            }
            (_, Make::Text(payload)) => payload,
            (_, make) => bytes(&record_of(w, make)),
        };
        let mode = if self == Trigger::Sqs || queue {
            Mode::Queue
        } else {
            Mode::Return
        };
        Case {
            name: format!("{}: {name}", self.label()),
            trigger: self,
            mode,
            payload,
            expect,
            timeout: if long { LONG_TIMEOUT } else { TIMEOUT },
        }
    }
}

/// The record a row makes; a row of text, an event or an object has none.
fn record_of(w: &World, make: Make) -> Value {
    match make {
        Make::Field(field, value) => w.with_field(field, value),
        Make::Record(record) => record,
        Make::Text(_) | Make::Event(_) | Make::Object(..) => {
            panic!("a row of text, an event or an S3 object is not a record")
        }
    }
}

/// A text row in an envelope that carries text (an SNS message, an SQS body).
fn utf8(text: Vec<u8>) -> String {
    String::from_utf8(text).expect("rows wrapped in SNS or SQS are UTF-8")
}
