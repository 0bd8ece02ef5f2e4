//! [`CompactingWriter`]: a [`TableWriter`] that compacts the buckets it wrote after each commit,
//! as Paimon's writers do, unless the table is `write-only`.
//!
//! Compaction runs in a background task so the next batches can be buffered meanwhile; at most
//! one task runs at a time. Backpressure follows `num-sorted-run.stop-trigger`: when a bucket
//! the writer touched may have reached the stop trigger, `commit` waits for the running
//! compaction and then compacts that bucket until it is below the stop trigger before
//! returning, so a bucket never holds more runs than the stop trigger (Java lets it reach one
//! more before blocking) unless a single commit adds several runs to it.
//! `full-compaction.delta-commits = N` makes every N-th commit compact its buckets fully.
//!
//! A compaction round that fails (storage errors, races with other writers' expirations) never
//! fails a commit — the rows are committed by then: it is counted in
//! [`CompactionStats::failures`] and its buckets are compacted again after the next commit.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::RecordBatch;
use streamhouse_format::io::Table;
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::{Error, Result};
use streamhouse_reader::lookup::MetadataCacheStore;
use streamhouse_writer::{TableWriter, WriteSummary};
use tokio::task::JoinHandle;

use crate::compactor::{BucketOutcome, Compactor};
use crate::levels::Levels;

/// Most picks one bucket gets in one round while it is above the stop trigger.
const MAX_PICKS_PER_ROUND: usize = 16;

type BucketKey = (Vec<u8>, i32);

/// Counters of the writer's compactions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompactionStats {
    /// Bytes of level-0 files the writer flushed.
    pub flushed_bytes: u64,
    /// Bytes compaction wrote (rewritten data and changelog files).
    pub compacted_bytes: u64,
    pub compactions: u64,
    pub upgraded_files: u64,
    /// Compactions that gave up after losing races.
    pub gave_up: u64,
    /// Sorted runs per bucket after the last compaction of that bucket.
    pub runs: BTreeMap<BucketKey, usize>,
    /// The most sorted runs any bucket had when a compaction of it started.
    pub max_runs_seen: usize,
    /// Times `commit` waited for compaction because of the stop trigger.
    pub stalls: u64,
    /// Compaction rounds that failed (a storage error, a file another writer's expiration
    /// removed, …). The rows were committed already; the round's buckets are compacted again
    /// after the next commit.
    pub failures: u64,
    /// Why the last failed round failed.
    pub last_failure: Option<String>,
    /// The kind of the last failed round's error (a storage failure is
    /// [`ErrorKind::Io`](streamhouse_format::ErrorKind::Io), never Corrupt).
    pub last_failure_kind: Option<streamhouse_format::ErrorKind>,
    /// The COMPACT snapshots the writer's compactions made, in order.
    pub snapshots: Vec<i64>,
}

impl CompactionStats {
    /// (flushed + compacted bytes) / flushed bytes.
    pub fn write_amplification(&self) -> f64 {
        if self.flushed_bytes == 0 {
            return 0.0;
        }
        (self.flushed_bytes + self.compacted_bytes) as f64 / self.flushed_bytes as f64
    }

    fn absorb(&mut self, round: Round) {
        self.compacted_bytes += round.bytes_written;
        self.compactions += round.compactions;
        self.upgraded_files += round.upgraded;
        self.gave_up += round.gave_up;
        self.max_runs_seen = self.max_runs_seen.max(round.max_runs_seen);
        self.runs.extend(round.runs);
        self.snapshots.extend(round.snapshots);
    }
}

#[derive(Default)]
struct Round {
    bytes_written: u64,
    compactions: u64,
    upgraded: u64,
    gave_up: u64,
    max_runs_seen: usize,
    runs: BTreeMap<BucketKey, usize>,
    snapshots: Vec<i64>,
}

/// A table writer with in-writer compaction (see the module docs).
pub struct CompactingWriter {
    writer: TableWriter,
    compactor: Arc<Compactor>,
    task: Option<JoinHandle<Result<Round>>>,
    /// Buckets written since their last compaction started.
    pending: BTreeSet<BucketKey>,
    /// The buckets of the running round.
    running: Vec<BucketKey>,
    commits: u64,
    full_every: Option<u64>,
    stop_trigger: usize,
    write_only: bool,
    /// The table needs lookup (first-row, deletion vectors, lookup changelog): each commit
    /// waits until the level-0 files it wrote are compacted, so reads that skip level 0 see
    /// them (and lookup changelog is produced) when `commit` returns, as Java's writers do.
    level0_before_return: bool,
    stats: CompactionStats,
    /// New files per bucket committed while the current task runs.
    added_during_task: BTreeMap<BucketKey, usize>,
}

impl CompactingWriter {
    pub async fn new(table: Table) -> Result<Self> {
        let full = table.options.full_compaction_delta_commits.unwrap_or(0);
        // One cache for the writer's commits (manifest merges) and the compactions.
        let table = with_manifest_cache(table);
        Ok(CompactingWriter {
            writer: TableWriter::new(table.clone()).await?,
            stop_trigger: table
                .options
                .stop_trigger
                .max(table.options.compaction_trigger) as usize,
            write_only: table.options.write_only,
            level0_before_return: table.is_primary_key_table() && table.options.needs_lookup(),
            compactor: Arc::new(Compactor::new(table)?),
            task: None,
            pending: BTreeSet::new(),
            running: vec![],
            commits: 0,
            full_every: (full > 0).then_some(u64::from(full)),
            stats: CompactionStats::default(),
            added_during_task: BTreeMap::new(),
        })
    }

    pub fn inner(&mut self) -> &mut TableWriter {
        &mut self.writer
    }

    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer.write(batch).await
    }

    pub async fn write_with_kinds(&mut self, batch: &RecordBatch, kinds: &[RowKind]) -> Result<()> {
        self.writer.write_with_kinds(batch, kinds).await
    }

    /// Commits the written rows (an APPEND snapshot), then compacts (COMPACT snapshots).
    pub async fn commit(&mut self) -> Result<WriteSummary> {
        let summary = self.writer.commit().await?;
        self.stats.flushed_bytes += summary.bytes;
        if self.write_only || summary.snapshot_ids.is_empty() {
            return Ok(summary);
        }
        self.commits += 1;
        for (partition, bucket, files) in &summary.buckets {
            let key = (partition.clone(), *bucket);
            self.pending.insert(key.clone());
            // Each new file is one more level-0 run. While a compaction runs, its final count
            // of a bucket may miss these: they are added to it when it is absorbed.
            *self.stats.runs.entry(key.clone()).or_insert(0) += files;
            if self.task.is_some() {
                *self.added_during_task.entry(key).or_insert(0) += files;
            }
        }
        if let Some(task) = &self.task {
            let over = self.over_stop_trigger();
            if !task.is_finished() && !over {
                return Ok(summary);
            }
            if over {
                self.stats.stalls += 1;
            }
            self.join().await?;
        }
        // Decided after absorbing the finished round: its counts are the freshest.
        let over = self.over_stop_trigger();
        let full = self
            .full_every
            .is_some_and(|n| self.commits.is_multiple_of(n));
        let buckets: Vec<BucketKey> = std::mem::take(&mut self.pending).into_iter().collect();
        self.running = buckets.clone();
        let compactor = self.compactor.clone();
        let stop = self.stop_trigger;
        let task =
            tokio::spawn(async move { compact_round(&compactor, buckets, full, stop).await });
        self.task = Some(task);
        if over || self.level0_before_return {
            // Backpressure: accept no more data until the bucket is below the stop trigger;
            // or level 0 must be compacted before the commit counts as done.
            self.join().await?;
        }
        Ok(summary)
    }

    /// Whether a bucket waiting for compaction may have reached the stop trigger.
    fn over_stop_trigger(&self) -> bool {
        self.pending
            .iter()
            .any(|b| self.stats.runs.get(b).copied().unwrap_or(0) >= self.stop_trigger)
    }

    /// Waits for the running round. A round that failed does not fail the writer: its rows
    /// are committed; the failure is counted in the stats and its buckets wait for the next
    /// round. A panic in the round is an error.
    async fn join(&mut self) -> Result<()> {
        if let Some(task) = self.task.take() {
            let buckets = std::mem::take(&mut self.running);
            let joined = task
                .await
                .map_err(|e| Error::internal(format!("compaction task failed: {e}")))?;
            match joined {
                Ok(round) => self.stats.absorb(round),
                Err(e) => {
                    self.stats.failures += 1;
                    self.stats.last_failure = Some(e.to_string());
                    self.stats.last_failure_kind = Some(e.kind());
                    self.pending.extend(buckets);
                }
            }
            // Never undercount: files committed while the task ran may postdate its count.
            for (key, files) in std::mem::take(&mut self.added_during_task) {
                *self.stats.runs.entry(key).or_insert(0) += files;
            }
        }
        Ok(())
    }

    /// Waits for the running compaction and returns the counters.
    pub async fn close(mut self) -> Result<CompactionStats> {
        self.join().await?;
        Ok(self.stats)
    }

    pub fn stats(&self) -> &CompactionStats {
        &self.stats
    }
}

/// Bytes of manifest files (and manifest lists, index manifests) the writer and its compactions
/// keep: they are immutable, so each round and each COMPACT commit's conflict check reads only
/// the manifests written since the last one instead of all of them.
const MANIFEST_CACHE_BYTES: usize = 32 << 20;

/// `table` reading its immutable metadata through a cache of [`MANIFEST_CACHE_BYTES`].
fn with_manifest_cache(mut table: Table) -> Table {
    let store = MetadataCacheStore::new(table.io.store.clone(), MANIFEST_CACHE_BYTES);
    table.io = table.io.with_store(Arc::new(store));
    table
}

/// One round: the levels of every bucket read from one snapshot (one read of the manifests for
/// the whole round), then the buckets compacted in turn. A bucket is read again only when it
/// takes another pick (still at or above the stop trigger, or level-0 files left to push up)
/// or a pick had to retry; otherwise its run count after a pick is the runs left out of the
/// pick plus the output run.
async fn compact_round(
    compactor: &Compactor,
    buckets: Vec<BucketKey>,
    full: bool,
    stop_trigger: usize,
) -> Result<Round> {
    let mut round = Round::default();
    // Tables that need lookup push every level-0 file up: reads of first-row and
    // deletion-vector tables skip level 0, and lookup changelog comes from these compactions.
    let table = compactor.table();
    let level0_up = table.is_primary_key_table() && table.options.needs_lookup();
    let wanted: BTreeSet<&BucketKey> = buckets.iter().collect();
    let (_, all) = compactor.bucket_levels(None).await?;
    let mut read: BTreeMap<BucketKey, Levels> = all
        .into_iter()
        .filter(|l| wanted.contains(&(l.partition.clone(), l.bucket)))
        .map(|l| ((l.partition.clone(), l.bucket), l))
        .collect();
    for (partition, bucket) in buckets {
        let key = (partition.clone(), bucket);
        let mut levels = match read.remove(&key) {
            Some(l) => l,
            None => compactor.levels_of(&partition, bucket).await?,
        };
        for i in 0..MAX_PICKS_PER_ROUND {
            let runs = levels.run_count();
            round.max_runs_seen = round.max_runs_seen.max(runs);
            round.runs.insert(key.clone(), runs);
            // One pick per round, more while the bucket is at or above the stop trigger or
            // (tables that need lookup) still has level-0 files.
            let level0_left = level0_up && !levels.level0.is_empty();
            if i > 0 && runs < stop_trigger && !level0_left {
                break;
            }
            let pick = compactor.pick(&levels, full && i == 0);
            let level0 = levels.level0.len();
            match compactor.compact_levels(levels, full && i == 0, 3).await? {
                BucketOutcome::Nothing => break,
                BucketOutcome::GaveUp(_) => {
                    round.gave_up += 1;
                    break;
                }
                BucketOutcome::Compacted(s) => {
                    round.compactions += 1;
                    round.bytes_written += s.bytes_written;
                    round.upgraded += s.upgraded as u64;
                    round.snapshots.push(s.snapshot_id);
                    let after = match pick {
                        // The pick was made on these levels: the runs it left, and its output.
                        Some(p) if s.attempts == 1 => {
                            let level0_after = level0.saturating_sub(p.run_count);
                            let after = runs - p.run_count + usize::from(s.files_after > 0);
                            (after, level0_up && level0_after > 0)
                        }
                        _ => (usize::MAX, true),
                    };
                    if after.0 < stop_trigger && !after.1 {
                        round.runs.insert(key.clone(), after.0);
                        break;
                    }
                    levels = compactor.levels_of(&partition, bucket).await?;
                    round.runs.insert(key.clone(), levels.run_count());
                }
            }
        }
    }
    Ok(round)
}
