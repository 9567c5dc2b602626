//! Kafka, the third stream kind (Amazon MSK and self-managed clusters): the
//! on-failure record (`batch.rs`), each failed partition's offsets read back
//! (`read.rs`, over the cluster reached in `broker.rs`), the records in the
//! Kafka event shape Lambda delivered them in (`event.rs`), and the document
//! (`document.rs`), and that document as the hydrator delivers it
//! (`hydrated.rs`); a storm's failures of one partition served from one
//! read (`coalesce.rs`); the MSK IAM token (`msk_iam.rs`).
//!
//! A Kafka failure names offsets of several partitions at once, not one
//! shard's sequence range, so it is read here partition by partition rather
//! than through the shard reader the other kinds share.

pub mod batch;
pub mod broker;
pub mod coalesce;
pub mod document;
pub mod event;
pub mod hydrated;
pub mod msk_iam;
pub mod read;

use batch::KafkaFailure;
use broker::{BrokerPartition, KafkaAuth};
use read::{read_range, KafkaLimits, PartitionError, PartitionRead, ReadBudget};

/// Reads every partition range of `failure` from its cluster, one read a
/// partition in the failure's order, all within one failure's `limits`. A
/// gone topic or partition is a gap; a cluster that cannot be reached is an
/// error, for the caller to retry.
pub async fn read_failure(
    failure: &KafkaFailure,
    auth: &KafkaAuth,
    limits: &KafkaLimits,
) -> Result<Vec<PartitionRead>, PartitionError> {
    let client = broker::connect(&failure.bootstrap_servers, auth).await?;
    let existing = broker::existing_partitions(&client).await?;
    let budget = &mut ReadBudget::of(limits, 1);
    let mut reads = Vec::with_capacity(failure.partitions.len());
    for range in &failure.partitions {
        if !existing.contains(&(range.topic.clone(), range.partition)) {
            reads.push(read_range(&Gone, range, limits, budget).await?);
            continue;
        }
        let read = match BrokerPartition::open(&client, &range.topic, range.partition).await {
            Ok(partition) => read_range(&partition, range, limits, budget).await?,
            Err(PartitionError::Gone) => read_range(&Gone, range, limits, budget).await?,
            Err(other) => return Err(other),
        };
        reads.push(read);
    }
    Ok(reads)
}

/// Reads a storm of failures of one cluster (`bootstrap_servers`), each
/// partition's ranges merged and read once (`coalesce`); every failure gets
/// its partitions' reads in its own order.
pub async fn read_failures(
    bootstrap_servers: &str,
    failures: &[&KafkaFailure],
    auth: &KafkaAuth,
    limits: &KafkaLimits,
) -> Result<Vec<Vec<PartitionRead>>, PartitionError> {
    let client = broker::connect(bootstrap_servers, auth).await?;
    let existing = broker::existing_partitions(&client).await?;
    let (client, existing) = (&client, &existing);
    coalesce::read_spans(failures, limits, |range| async move {
        if !existing.contains(&(range.topic.clone(), range.partition)) {
            return Ok(Partition::Gone(Gone));
        }
        match BrokerPartition::open(client, &range.topic, range.partition).await {
            Ok(partition) => Ok(Partition::Open(partition)),
            Err(PartitionError::Gone) => Ok(Partition::Gone(Gone)),
            Err(other) => Err(other),
        }
    })
    .await
}

/// A partition as the cluster has it, or gone.
enum Partition {
    Open(BrokerPartition),
    Gone(Gone),
}

impl read::KafkaPartition for Partition {
    async fn watermarks(&self) -> Result<(i64, i64), PartitionError> {
        match self {
            Partition::Open(p) => p.watermarks().await,
            Partition::Gone(g) => g.watermarks().await,
        }
    }

    async fn fetch(
        &self,
        offset: i64,
        max_bytes: i32,
    ) -> Result<Vec<read::KafkaRecord>, PartitionError> {
        match self {
            Partition::Open(p) => p.fetch(offset, max_bytes).await,
            Partition::Gone(g) => g.fetch(offset, max_bytes).await,
        }
    }
}

/// A partition the cluster does not know: its whole range is one gap.
struct Gone;

impl read::KafkaPartition for Gone {
    async fn watermarks(&self) -> Result<(i64, i64), PartitionError> {
        Err(PartitionError::Gone)
    }

    async fn fetch(&self, _: i64, _: i32) -> Result<Vec<read::KafkaRecord>, PartitionError> {
        Err(PartitionError::Gone)
    }
}
