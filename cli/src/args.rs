//! The command line. Doc comments here are the `--help` text: each command
//! says what it does, what it never does, and shows an example.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "hydrator",
    version,
    about = "Work the dead-letter queue of stream consumers: hydrate, drain, replay, redrive",
    long_about = "Work the dead-letter queue of stream consumers.\n\n\
        The hydrate function turns a Kinesis or DynamoDB stream on-failure record into a \
        document holding the failed records themselves. This tool takes it from there: \
        drain the documents from the DLQ into files, look at them, replay them into the \
        fixed consumer, or put Kinesis records back on a stream.",
    after_long_help = "When the DLQ alarm fires:\n  \
        hydrator dlq list  --queue-url $DLQ\n  \
        hydrator dlq drain --queue-url $DLQ --to failures/\n  \
        hydrator replay failures/ --to-function orders-consumer\n  \
        hydrator dlq drain --queue-url $DLQ --to failures/ --delete\n\n\
        Endpoints and credentials come from the usual AWS environment (AWS_PROFILE, \
        AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_KINESIS, ...).\n\n\
        Exit status: 0 when everything was done; 1 when the command could not run \
        (unreadable files, unreachable service); 2 when it ran but some items were not \
        done (its report lists them); 64 when the command line is wrong (a usage error)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Print a JSON report on standard output instead of tables.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub output: Format,
    /// Send every AWS call to this endpoint (an emulator, say).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The AWS region; by default the environment's.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// The named profile (credentials, region) from the shared AWS config files.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
}

/// Which failures a command takes; all of them unless a filter is given.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Only failures of this stream (its name or ARN).
    #[arg(long, value_name = "NAME|ARN")]
    pub stream: Option<String>,
    /// Only failures of this shard.
    #[arg(long, value_name = "SHARD_ID")]
    pub shard: Option<String>,
    /// Only failures whose document is `complete` or `partial`.
    #[arg(long, value_parser = ["complete", "partial"])]
    pub status: Option<String>,
    /// Only failures the consumer gave up on at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = rfc3339)]
    pub since: Option<std::time::SystemTime>,
    /// Only failures the consumer gave up on before this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = rfc3339)]
    pub until: Option<std::time::SystemTime>,
}

/// `2026-11-21T06:12:09Z`, as `failure.timestamp` is written.
fn rfc3339(text: &str) -> Result<std::time::SystemTime, String> {
    use aws_smithy_types::date_time::{DateTime, Format};
    let time = DateTime::from_str(text, Format::DateTime)
        .map_err(|_| "not an RFC 3339 time such as 2026-11-21T06:12:09Z".to_owned())?;
    std::time::SystemTime::try_from(time).map_err(|_| "a time out of range".to_owned())
}

/// Where a command that writes elsewhere (`replay --to-function`, `redrive
/// --to-stream`) finds its target, when not where it reads from.
#[derive(Debug, Clone, Default, Args)]
pub struct TargetAccount {
    /// The named profile for the target (by default --profile's).
    #[arg(long, value_name = "NAME")]
    pub to_profile: Option<String>,
    /// The target's region (by default --region's, or the profile's).
    #[arg(long, value_name = "REGION")]
    pub to_region: Option<String>,
}

/// How much of one record's data is shown unless `--max-bytes` says otherwise.
pub const DEFAULT_MAX_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Hydrate a saved on-failure record or trigger event, and print or save the document.
    ///
    /// Takes what the function takes: an SNS, SQS or S3 event, or a bare on-failure
    /// record (the files in events/ are examples). Reads the failed records back from
    /// the stream the record names, exactly as the function does, and writes the
    /// document; nothing is sent to any queue.
    ///
    /// Example: hydrator hydrate events/sns-kinesis-failure.json --out failure.json
    Hydrate(HydrateArgs),
    /// Read the dead-letter queue: list what is there, or drain it into files.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Invoke the consumer function with saved events and report each result.
    ///
    /// PATH is a file or a folder. A folder replays its *.event.json files (what
    /// `dlq drain` writes), or else all its *.json files. Each file is a document or a
    /// `{"Records": [...]}` event; only its Records are sent, as the consumer's event.
    /// An event over the 6 MB a synchronous Invoke takes is sent in consecutive
    /// chunks, in order, each with its own row.
    ///
    /// The answer is read as Lambda reads it with ReportBatchItemFailures: a function
    /// error fails the event; {"batchItemFailures": [{"itemIdentifier": SEQ}]} fails
    /// the records named (listed by sequence number); an item that is empty, null, or
    /// not a record of the event, or an answer that is not a batch response, fails the
    /// whole event. No answer, null, {} and an empty list are success. --failed-to DIR
    /// saves what still fails as DIR/NAME.event.json, so the next replay sends only that.
    ///
    /// Throttling, 5xx answers, timeouts and dropped connections are retried with
    /// backoff, --max-attempts calls in all; a chunk still not invoked is reported
    /// failed and the run goes on. Each chunk is invoked at least once, and a call
    /// that timed out may have run: the consumer may see a record twice.
    ///
    /// Example (on AWS):   hydrator replay failures/ --to-function orders-consumer
    /// Example (locally):  cargo lambda watch   (in the consumer's project), then
    ///                     hydrator replay failures/ --to-function local:orders-consumer
    Replay(ReplayArgs),
    /// Put the Kinesis records of saved failures back on a stream.
    ///
    /// Sends PutRecords calls of at most 500 records and 5 MiB, with each record's
    /// data and partition key as they were. Entries the service rejects
    /// (FailedRecordCount, per-record ErrorCode) are sent again, and only those, with
    /// exponential backoff and full jitter. At the end it prints what was written and
    /// what was not, and exits with 2 if anything was not.
    ///
    /// Order: the records of each partition key land in the order they were saved
    /// (files in name order, records in file order). A call carries at most one record
    /// of a key, and the next record of that key is sent only once the service has
    /// written it; a record given up on holds back the later records of its key (they
    /// are reported, not sent). This costs at least one call per record of the busiest
    /// key; --unordered sends 500 records a call and resends rejected ones after the
    /// rest, so they may land after later records of their key.
    ///
    /// Exactly once: a rejected entry was not written and is sent again; a whole call
    /// that times out or drops may have been written and is sent again too, so its
    /// records may land twice. A run that stops midway has written some records and
    /// not others: running it again writes them all again.
    ///
    /// KPL aggregated records are written as they are (consumers de-aggregate them);
    /// --deaggregate writes each user record on its own, with its own partition key and
    /// explicit hash key, in the same order per partition key. --explicit-hash-key puts
    /// every record on the shard that owns that hash key.
    ///
    /// Example: hydrator redrive failures/ --to-stream arn:aws:kinesis:eu-west-1:123456789012:stream/orders
    Redrive(RedriveArgs),
    /// Show one saved document or event record by record, KPL aggregates taken apart.
    ///
    /// For each record: its sequence number and partition key, and its data as pretty
    /// JSON, text or hex, whichever it is. A KPL aggregated record (magic F3 89 9A C2, a
    /// protobuf AggregatedRecord, an MD5 digest) is shown as its user records, each with
    /// its partition key, explicit hash key and data, so the one a consumer failed on
    /// can be found; one that starts with the magic but fails the check is shown as raw
    /// data and says why. The file is not changed; --output json prints the same.
    /// `s3://bucket/prefix` shows every object of an S3 failure destination under it.
    ///
    /// Example: hydrator show failures/orders.shardId-000000000000.4968.json
    Show(ShowArgs),
    /// The hydrator's own failures (the HydratorFailures queue): list them, retry them.
    #[command(subcommand)]
    Failures(FailuresCommand),
    /// Check how a consumer is wired to the hydrator, and say what to fix.
    ///
    /// Reads the consumer's Kinesis and DynamoDB stream mappings, their streams, the
    /// hydrator's topic and key, and both roles' policies; prints one finding a line
    /// with its fix: on-failure destination not the hydrator's topic, retries for ever,
    /// no bisection, too little of the stream's retention left when a batch fails over,
    /// a consumer role that may not publish, a stream the hydrator may not read. Exits
    /// with 2 on any finding. Changes nothing.
    ///
    /// Example: hydrator doctor --function orders-consumer --topic-arn $TOPIC --hydrator-role-arn $ROLE
    Doctor(DoctorArgs),
}

#[derive(Debug, Subcommand)]
pub enum FailuresCommand {
    /// Show each message of the hydrator's failure queue, what it is and why it is
    /// there; changes nothing.
    ///
    /// A raw on-failure record (moved there after five failed receives) is read with
    /// the function's own input layer: one it takes now failed for a cause outside the
    /// record (a permission, a full DLQ: the function's log says which); one it refuses
    /// is named with the reason, by field and class. A failed S3 notification is
    /// Lambda's destination record: its condition and error type are shown.
    ///
    /// Example: hydrator failures list --queue hydrator-HydratorFailures-1A2B3C
    List(FailuresListArgs),
    /// Hand the hydrator's failures on again once the cause is fixed: on-failure
    /// records back to the on-failure queue, S3 notifications to the hydrator function
    /// (an asynchronous Invoke, as S3 made it). Each message is deleted only once handed
    /// on; one the hydrator would refuse again is kept and reported (exit 2).
    ///
    /// Example: hydrator failures retry --queue $FAILURES --to-queue $ON_FAILURE_QUEUE --to-function hydrator
    Retry(FailuresRetryArgs),
}

/// The hydrator's failure queue.
#[derive(Debug, Args)]
pub struct FailuresQueue {
    /// The HydratorFailures queue, by URL or name.
    #[arg(
        long = "queue-url",
        visible_alias = "queue",
        value_name = "URL|NAME",
        env = "HYDRATOR_FAILURES_QUEUE_URL"
    )]
    pub queue_url: String,
    #[command(flatten)]
    pub receive: ReceiveArgs,
}

impl FailuresQueue {
    pub fn queue_args(&self) -> QueueArgs {
        QueueArgs {
            queue_url: self.queue_url.clone(),
            receive: self.receive,
        }
    }
}

#[derive(Debug, Args)]
pub struct FailuresListArgs {
    #[command(flatten)]
    pub queue: FailuresQueue,
}

#[derive(Debug, Args)]
pub struct FailuresRetryArgs {
    #[command(flatten)]
    pub queue: FailuresQueue,
    /// The on-failure queue the hydrator reads (OnFailureQueue), by URL or name.
    #[arg(long, value_name = "URL|NAME", env = "ON_FAILURE_QUEUE_URL")]
    pub to_queue: String,
    /// The hydrator function, for failed S3 notifications.
    #[arg(long, value_name = "NAME")]
    pub to_function: Option<String>,
    /// Report what would be handed on; send, invoke and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A saved document (`dlq drain`, `hydrate --out`) or event, or
    /// `s3://bucket/prefix`: every object of an S3 failure destination under it.
    pub file: PathBuf,
    /// Show at most this many bytes of each record's data.
    #[arg(long, default_value_t = DEFAULT_MAX_BYTES)]
    pub max_bytes: usize,
}

#[derive(Debug, Args)]
pub struct HydrateArgs {
    /// The saved event or on-failure record.
    pub file: PathBuf,
    /// Write the document here instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The failing consumer's execution role, for each record's invokeIdentityArn.
    #[arg(long, value_name = "ARN", env = "INVOKE_IDENTITY_ARN")]
    pub invoke_identity_arn: Option<String>,
    /// Also show every record, KPL aggregates taken apart, as `hydrator show` does.
    #[arg(long)]
    pub records: bool,
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Show what the queue holds, one line a failure; changes nothing.
    ///
    /// Receives every message (long polling), puts the parts of each failure
    /// together, prints stream, shard, range, records, status and age, and then
    /// makes the messages visible again at once. A failure holding KPL aggregated
    /// records gets a line saying how many user records they hold; --records shows
    /// every record, aggregates taken apart, as `hydrator show` does.
    ///
    /// Example: hydrator dlq list --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/hydrator-dlq
    List(ListArgs),
    /// Save every failure in the queue as files, then delete them if asked.
    ///
    /// For each failure, writes NAME.json (the whole document, parts put back
    /// together) and NAME.event.json (its {"Records": [...]}, which
    /// `cargo lambda invoke --data-file` and `hydrator replay` send to the consumer as
    /// they are). A failure whose parts are not all in the queue is saved part by
    /// part (NAME.part-K-of-N.json) and never deleted. Messages are deleted only with
    /// --delete, and only after their files were written; otherwise they are made
    /// visible again.
    ///
    /// Example: hydrator dlq drain --queue-url $DLQ --to failures/ --delete
    Drain(DrainArgs),
    /// Count what the queue (or a drained folder) holds: by stream, shard, status
    /// and missing reason, the oldest and newest failure, sizes, and failures over
    /// time as a chart; changes nothing.
    ///
    /// Reads the queue as `dlq list` does and makes the messages visible again at
    /// once; with --from, reads the documents `dlq drain` saved instead.
    ///
    /// Example: hydrator dlq stats --queue-url $DLQ
    /// Example: hydrator dlq stats --from failures/
    Stats(SourceArgs),
    /// Write one self-contained HTML page of the queue (or a drained folder) for an
    /// incident review: a timeline of failures per shard, every document with its
    /// status and gaps, and each record viewable as JSON, text or hex.
    ///
    /// The page needs no network to open; every value from the documents is
    /// escaped, so a record cannot run script in it. Changes nothing in the queue.
    ///
    /// Example: hydrator dlq report --from failures/ --out incident.html
    Report(ReportArgs),
}

/// Where `dlq stats` and `dlq report` read documents: the queue, or a folder.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// A folder `dlq drain` saved into; read instead of the queue.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// The dead-letter queue, by URL or name, or s3://BUCKET/PREFIX (unless --from is given).
    #[arg(
        long,
        visible_alias = "queue",
        value_name = "URL|NAME",
        env = "DLQ_QUEUE_URL",
        required_unless_present = "from"
    )]
    pub queue_url: Option<String>,
    #[command(flatten)]
    pub receive: ReceiveArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
}

impl SourceArgs {
    /// The queue to read, when no folder is given.
    pub fn queue(&self) -> Option<QueueArgs> {
        if self.from.is_some() {
            return None;
        }
        Some(QueueArgs {
            queue_url: self.queue_url.clone()?,
            receive: self.receive,
        })
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Records shown per document (the rest are counted, not shown).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_records: u32,
}

#[derive(Debug, Clone, Args)]
pub struct QueueArgs {
    /// The dead-letter queue: its URL, or its name (looked up with GetQueueUrl); or
    /// an S3 on-failure destination, s3://BUCKET/PREFIX.
    #[arg(
        long,
        visible_alias = "queue",
        value_name = "URL|NAME",
        env = "DLQ_QUEUE_URL"
    )]
    pub queue_url: String,
    #[command(flatten)]
    pub receive: ReceiveArgs,
}

/// How the queue is read.
#[derive(Debug, Clone, Copy, Args)]
pub struct ReceiveArgs {
    /// How long each receive waits for messages; the first empty receive ends the read.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(i32).range(0..=20))]
    pub wait_seconds: i32,
    /// How long received messages stay hidden from other consumers while this runs.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(i32).range(1..=43_200))]
    pub visibility_timeout: i32,
    /// Stop after this many messages (or, with --from, files).
    #[arg(long)]
    pub max_messages: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub queue: QueueArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Also show every record, KPL aggregates taken apart, as `hydrator show` does.
    #[arg(long)]
    pub records: bool,
}

#[derive(Debug, Args)]
pub struct DrainArgs {
    #[command(flatten)]
    pub queue: QueueArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// The folder to save into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    /// Delete each message once its failure is saved.
    #[arg(long)]
    pub delete: bool,
    /// With --delete, also delete the S3 object of each deleted message whose
    /// body was offloaded (OFFLOAD_BUCKET).
    #[arg(long, requires = "delete")]
    pub delete_offloaded: bool,
    /// Also show every record, KPL aggregates taken apart, as `hydrator show` does.
    #[arg(long)]
    pub records: bool,
    /// Report what would be saved and deleted; write no file, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A saved document or event, a folder of them, or an S3 on-failure destination
    /// (s3://BUCKET/PREFIX).
    pub path: PathBuf,
    /// The function's name or ARN; `local` or `local:NAME` for `cargo lambda watch`.
    #[arg(long, value_name = "NAME|local[:NAME]")]
    pub to_function: String,
    /// Where `cargo lambda watch` takes invocations.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9000")]
    pub local_endpoint: String,
    /// Save the records that still fail, one event a file, for the next replay.
    #[arg(long, value_name = "DIR")]
    pub failed_to: Option<PathBuf>,
    /// Calls per chunk, the first included, while Lambda throttles, answers 5xx,
    /// times out or drops the connection.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// How long one call may take before it counts as timed out.
    #[arg(long, value_name = "SECONDS", default_value_t = 910, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Report the events and chunks that would be sent; invoke nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub target: TargetAccount,
}

#[derive(Debug, Args)]
pub struct RedriveArgs {
    /// A saved document or event, a folder of them, or an S3 on-failure destination
    /// (s3://BUCKET/PREFIX); Kinesis records only.
    pub path: PathBuf,
    /// The stream to write to: its ARN (the region comes from it) or its name.
    #[arg(long, value_name = "ARN")]
    pub to_stream: String,
    /// Send every record with this hash key, so all land on one shard in order.
    #[arg(long, value_name = "DECIMAL")]
    pub explicit_hash_key: Option<String>,
    /// Calls that may carry one record, the first included, before it counts as not written.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Write each user record of a KPL aggregated record as a record of its own.
    #[arg(long)]
    pub deaggregate: bool,
    /// Do not keep each partition key's order: fewer calls when many records share a key.
    #[arg(long)]
    pub unordered: bool,
    /// Report the records and calls that would be sent; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub target: TargetAccount,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_help_with_an_example() {
        let mut cli = Cli::command();
        for path in [
            &["hydrate"][..],
            &["dlq", "list"],
            &["dlq", "drain"],
            &["dlq", "stats"],
            &["dlq", "report"],
            &["replay"],
            &["redrive"],
            &["show"],
            &["failures", "list"],
            &["failures", "retry"],
        ] {
            let mut command = &mut cli;
            for name in path {
                command = command.find_subcommand_mut(name).expect("subcommand");
            }
            let help = command.render_long_help().to_string();
            assert!(
                help.contains("Example"),
                "{path:?} help has no example:\n{help}"
            );
        }
    }

    #[test]
    fn local_replay_and_drain_flags_parse() {
        let cli = Cli::try_parse_from([
            "hydrator",
            "--output",
            "json",
            "dlq",
            "drain",
            "--queue-url",
            "http://q",
            "--to",
            "out",
            "--delete",
        ])
        .expect("parses");
        assert_eq!(cli.global.output, Format::Json);
        assert!(matches!(
            cli.command,
            Command::Dlq(DlqCommand::Drain(DrainArgs { delete: true, .. }))
        ));
        assert!(Cli::try_parse_from([
            "hydrator",
            "dlq",
            "list",
            "--queue-url",
            "q",
            "--wait-seconds",
            "21"
        ])
        .is_err());
    }
}

/// `doctor`'s flags: the consumer (a function or one mapping) and the
/// hydrator's stack outputs it is checked against.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("consumer").required(true).args(["function", "mapping"])))]
pub struct DoctorArgs {
    /// The consumer function whose Kinesis and DynamoDB stream mappings are checked.
    #[arg(long, value_name = "NAME")]
    pub function: Option<String>,
    /// One event source mapping, by its UUID, instead of a function's.
    #[arg(long, value_name = "UUID")]
    pub mapping: Option<String>,
    /// The hydrator's on-failure topic (its stack's OnFailureTopicArn output).
    #[arg(long, value_name = "ARN")]
    pub topic_arn: String,
    /// The hydrator's execution role (its stack's HydratorRoleArn output).
    #[arg(long, value_name = "ARN")]
    pub hydrator_role_arn: String,
    /// The topic's KMS key (the KeyArn output); by default the topic's own KmsMasterKeyId.
    #[arg(long, value_name = "ARN")]
    pub key_arn: Option<String>,
    /// Hours of a stream's retention the hydrator needs left when a batch fails over.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=8760))]
    pub margin_hours: u32,
}
