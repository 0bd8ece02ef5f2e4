//! [`Writer`]: Arrow batches into a table, one commit at a time, with the table's
//! [`CompactionPolicy`] applied after each commit.

use arrow::array::RecordBatch;
use streamhouse_compaction::CompactingWriter;
use streamhouse_format::row_kind::RowKind;
use streamhouse_writer::{TableWriter, WriteSummary};

use crate::table::Table;
use crate::Result;

/// Whether a writer compacts the buckets it wrote after its commits. One rule for every
/// writer of the library (and so for `streamhouse write` and `write --follow` alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactionPolicy {
    /// After each commit, compact the buckets it wrote by Paimon's universal-compaction rules,
    /// in the background, as Paimon's writers do (`num-sorted-run.stop-trigger` backpressure;
    /// `full-compaction.delta-commits`; tables that need lookup wait for level 0 to be
    /// compacted). This also produces `changelog-producer = lookup` changelog.
    AfterCommit,
    /// Only write: the table is `write-only`, has no primary key, or has no fixed buckets.
    WriteOnly,
}

impl CompactionPolicy {
    /// The policy of a table: compaction after commits for primary-key tables with fixed
    /// buckets unless `write-only` is set.
    pub fn of(table: &Table) -> CompactionPolicy {
        let t = table.raw();
        if t.is_primary_key_table() && t.options.bucket > 0 && !t.options.write_only {
            CompactionPolicy::AfterCommit
        } else {
            CompactionPolicy::WriteOnly
        }
    }
}

/// What one [`Writer::commit`] did.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    pub rows: u64,
    pub files: usize,
    pub bytes: u64,
    /// The snapshot of the rows (none when nothing was written).
    pub snapshot_ids: Vec<i64>,
    /// COMPACT snapshots in-writer compaction made since the previous commit returned, up to
    /// this one's return (compaction runs in the background: see [`Writer::close`]).
    pub compaction_snapshot_ids: Vec<i64>,
    /// Why compaction after this commit failed, if it did. The rows are committed anyway;
    /// the buckets are compacted again after the next commit.
    pub compaction_failure: Option<String>,
}

/// What [`Writer::close`] did: compaction that finished after the last commit returned.
#[derive(Debug, Clone, Default)]
pub struct Closed {
    /// COMPACT snapshots made after the last commit returned.
    pub snapshot_ids: Vec<i64>,
    pub compaction_failure: Option<String>,
}

enum Inner {
    Plain(Box<TableWriter>),
    Compacting(Box<CompactingWriter>),
}

/// Writes Arrow batches (optionally with row kinds) into a table. Each [`commit`](Self::commit)
/// is one atomic snapshot; nothing is visible before it, and [`abort`](Self::abort) removes
/// the files of uncommitted rows. Call [`close`](Self::close) at the end to wait for
/// compaction still running.
pub struct Writer {
    inner: Inner,
    table: Table,
    policy: CompactionPolicy,
    /// COMPACT snapshots and failures already reported.
    seen_snapshots: usize,
    seen_failures: u64,
}

impl Writer {
    pub(crate) async fn open(table: &Table) -> Result<Writer> {
        let policy = CompactionPolicy::of(table);
        let raw = table.raw().clone();
        let inner = match policy {
            CompactionPolicy::AfterCommit => {
                Inner::Compacting(Box::new(CompactingWriter::new(raw).await?))
            }
            CompactionPolicy::WriteOnly => Inner::Plain(Box::new(TableWriter::new(raw).await?)),
        };
        Ok(Writer {
            inner,
            table: table.clone(),
            policy,
            seen_snapshots: 0,
            seen_failures: 0,
        })
    }

    /// The table written to.
    pub fn table(&self) -> &Table {
        &self.table
    }

    pub fn policy(&self) -> CompactionPolicy {
        self.policy
    }

    /// Buffers rows as inserts (`+I`). Rows must be in the table's types (see
    /// [`Table::conform`]).
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match &mut self.inner {
            Inner::Plain(w) => w.write(batch).await,
            Inner::Compacting(w) => w.write(batch).await,
        }
    }

    /// Buffers rows with their kinds (`+I`, `-U`, `+U`, `-D`), one per row.
    pub async fn write_with_kinds(&mut self, batch: &RecordBatch, kinds: &[RowKind]) -> Result<()> {
        match &mut self.inner {
            Inner::Plain(w) => w.write_with_kinds(batch, kinds).await,
            Inner::Compacting(w) => w.write_with_kinds(batch, kinds).await,
        }
    }

    /// Commits the rows written since the last commit as one snapshot, then applies the
    /// compaction policy. A compaction failure never fails the commit (see
    /// [`Commit::compaction_failure`]).
    pub async fn commit(&mut self) -> Result<Commit> {
        let summary: WriteSummary = match &mut self.inner {
            Inner::Plain(w) => w.commit().await?,
            Inner::Compacting(w) => w.commit().await?,
        };
        let (compaction_snapshot_ids, failure) = self.new_compactions();
        Ok(Commit {
            rows: summary.rows,
            files: summary.files,
            bytes: summary.bytes,
            snapshot_ids: summary.snapshot_ids,
            compaction_snapshot_ids,
            compaction_failure: failure,
        })
    }

    /// COMPACT snapshots and the failure made since last asked.
    fn new_compactions(&mut self) -> (Vec<i64>, Option<String>) {
        let Inner::Compacting(w) = &self.inner else {
            return (vec![], None);
        };
        let stats = w.stats();
        let snapshots = stats.snapshots[self.seen_snapshots.min(stats.snapshots.len())..].to_vec();
        let failure = (stats.failures > self.seen_failures)
            .then(|| stats.last_failure.clone().unwrap_or_default());
        self.seen_snapshots = stats.snapshots.len();
        self.seen_failures = stats.failures;
        (snapshots, failure)
    }

    /// Flushes buffered rows into files and returns their commit messages, uncommitted.
    pub(crate) async fn prepare_commit(
        &mut self,
    ) -> Result<Vec<streamhouse_format::io::commit::CommitMessage>> {
        match &mut self.inner {
            Inner::Plain(w) => w.prepare_commit().await,
            Inner::Compacting(w) => w.inner().prepare_commit().await,
        }
    }

    /// Removes the files of rows written since the last commit; they are never committed.
    pub async fn abort(&mut self) -> Result<()> {
        match &mut self.inner {
            Inner::Plain(w) => w.abort().await,
            Inner::Compacting(w) => w.inner().abort().await,
        }
    }

    /// Waits for compaction still running after the last commit.
    pub async fn close(mut self) -> Result<Closed> {
        let Inner::Compacting(w) = self.inner else {
            return Ok(Closed::default());
        };
        let stats = w.close().await?;
        let start = self.seen_snapshots.min(stats.snapshots.len());
        self.seen_snapshots = stats.snapshots.len();
        Ok(Closed {
            snapshot_ids: stats.snapshots[start..].to_vec(),
            compaction_failure: (stats.failures > self.seen_failures)
                .then(|| stats.last_failure.clone().unwrap_or_default()),
        })
    }
}
