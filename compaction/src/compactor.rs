//! Compacting a table: for each (partition, bucket), levels from the latest snapshot → pick →
//! rewrite → one COMPACT commit through the table's one commit path.
//!
//! A compaction commit deletes files, so the committer checks that every one of them is still
//! live and that level ≥ 1 key ranges stay disjoint. A compaction that loses such a race (or
//! finds an input file already gone) deletes the files it uploaded and tries again on fresh
//! state, up to [`CompactOptions::max_attempts`] times, then gives up: the table is never
//! changed by a failed attempt.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use futures::StreamExt;

use streamhouse_format::io::{CommitMessage, Committed, Committer, Table};
use streamhouse_format::manifest::{DataFileMeta, FileKind};
use streamhouse_format::snapshot::CommitKind;
use streamhouse_format::snapshot::Snapshot;
use streamhouse_format::{Error, ErrorKind, Result};

use crate::changelog::{full_compaction_changelog, lookup_changelog};
use crate::dv::BucketDvs;
use crate::levels::Levels;
use crate::picker::{pick, pick_full, Pick, PickerOptions, RunShape};
use crate::rewrite::{run_pick, Cancel, CompactResult, Progress, RewriteContext};
use streamhouse_format::options::ChangelogProducer;

/// What to compact and how hard to try.
#[derive(Debug, Clone)]
pub struct CompactOptions {
    /// Compact every bucket fully (all runs into the max level).
    pub full: bool,
    /// Only buckets of this partition (serialized BinaryRow).
    pub partition: Option<Vec<u8>>,
    /// Attempts per bucket (per table for `compact_table`) when commits conflict.
    pub max_attempts: u32,
    /// Buckets `compact_table` rewrites at the same time.
    pub parallelism: usize,
}

impl Default for CompactOptions {
    fn default() -> Self {
        CompactOptions {
            full: false,
            partition: None,
            max_attempts: 3,
            parallelism: 1,
        }
    }
}

/// What compacting one bucket did.
#[derive(Debug, Clone, PartialEq)]
pub enum BucketOutcome {
    /// The picker found nothing to do.
    Nothing,
    Compacted(CompactSummary),
    /// Every attempt lost a race with another commit; nothing was changed.
    GaveUp(String),
}

/// One committed compaction.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactSummary {
    pub snapshot_id: i64,
    pub bucket: i32,
    pub partition: Vec<u8>,
    pub output_level: i32,
    pub files_before: usize,
    pub files_after: usize,
    pub upgraded: usize,
    pub changelog_files: usize,
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub runs_before: usize,
    pub attempts: u32,
}

/// Compacts one table. Cheap to share (`Arc`) between tasks of one process.
pub struct Compactor {
    ctx: RewriteContext,
    committer: Committer,
    picker: PickerOptions,
    identifier: AtomicI64,
}

impl Compactor {
    /// A compactor with its own commit user (`compaction-<uuid>`).
    pub fn new(table: Table) -> Result<Self> {
        if !table.is_primary_key_table() {
            return Err(Error::unsupported(format!(
                "compacting append table {} (only primary-key tables have sorted runs to merge)",
                table.name
            )));
        }
        // Dynamic buckets (-1) compact like fixed ones: each bucket's files are known from the
        // manifests, and compaction moves no key to another bucket, so the HASH index stays.
        if table.options.bucket <= 0 && table.options.bucket != -1 {
            return Err(Error::unsupported(format!(
                "compacting table {} with bucket = {} (postpone bucket mode)",
                table.name, table.options.bucket
            )));
        }
        Ok(Compactor {
            picker: PickerOptions::from_table(&table.options)?,
            committer: Committer::with_unique_user(table.clone(), "compaction")?,
            ctx: RewriteContext::new(table)?,
            identifier: AtomicI64::new(0),
        })
    }

    /// Reports progress of every compaction to `p`.
    pub fn with_progress(mut self, p: Arc<dyn Progress>) -> Self {
        self.ctx.progress = Some(p);
        self
    }

    /// Stops compactions (between batches) once `cancel` is set.
    pub fn with_cancel(mut self, cancel: Cancel) -> Self {
        self.ctx.cancel = cancel;
        self
    }

    pub fn table(&self) -> &Table {
        &self.ctx.table
    }

    pub fn cancel(&self) -> &Cancel {
        &self.ctx.cancel
    }

    pub fn picker_options(&self) -> &PickerOptions {
        &self.picker
    }

    /// The latest snapshot and the levels of its buckets (optionally of one partition).
    pub async fn bucket_levels(
        &self,
        partition: Option<&[u8]>,
    ) -> Result<(Option<Snapshot>, Vec<Levels>)> {
        let table = &self.ctx.table;
        let Some(snapshot) = table.snapshot_or_latest(None).await? else {
            return Ok((None, vec![]));
        };
        let entries = table
            .live_files(
                &snapshot,
                |_| true,
                |e| e.bucket >= 0 && partition.is_none_or(|p| e.partition == p),
            )
            .await?;
        let mut levels = Levels::from_entries(entries, table.options.num_levels);
        for l in &mut levels {
            l.index_manifest = snapshot.index_manifest.clone();
        }
        Ok((Some(snapshot), levels))
    }

    /// The levels of one bucket in the latest snapshot.
    pub async fn levels_of(&self, partition: &[u8], bucket: i32) -> Result<Levels> {
        let table = &self.ctx.table;
        let snapshot = table.snapshot_or_latest(None).await?;
        let entries = match &snapshot {
            None => vec![],
            Some(s) => {
                table
                    .live_files(
                        s,
                        |m| {
                            m.min_bucket.is_none_or(|b| b <= bucket)
                                && m.max_bucket.is_none_or(|b| b >= bucket)
                        },
                        |e| e.bucket == bucket && e.partition == partition,
                    )
                    .await?
            }
        };
        let total = entries
            .first()
            .map_or(table.options.bucket, |e| e.total_buckets);
        let mut levels = Levels::new(
            partition.to_vec(),
            bucket,
            total,
            entries.into_iter().map(|e| e.file).collect(),
            table.options.num_levels,
        );
        levels.index_manifest = snapshot.and_then(|s| s.index_manifest);
        Ok(levels)
    }

    /// What the picker would do with these levels.
    pub fn pick(&self, levels: &Levels, full: bool) -> Option<Pick> {
        let runs = levels.sorted_runs();
        let shapes: Vec<RunShape> = runs.iter().map(RunShape::from).collect();
        if full {
            return pick_full(levels.num_levels, &shapes);
        }
        let counts: Vec<usize> = runs.iter().map(|r| r.files.len()).collect();
        pick(levels.num_levels, &shapes, &counts, &self.picker)
    }

    /// Compacts every bucket (of one partition, if given) once, in **one** COMPACT commit: the
    /// table changes atomically or not at all. Buckets are rewritten `opts.parallelism` at a
    /// time; a commit that loses a race with another compaction deletes what it wrote and
    /// starts again on fresh state, up to `opts.max_attempts` times, then gives up (every
    /// picked bucket reports [`BucketOutcome::GaveUp`]). Compacted buckets share one snapshot.
    pub async fn compact_table(&self, opts: &CompactOptions) -> Result<Vec<BucketOutcome>> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (_, all) = self.bucket_levels(opts.partition.as_deref()).await?;
            let picked: Vec<(Levels, Pick)> = all
                .into_iter()
                .filter_map(|l| self.pick(&l, opts.full).map(|p| (l, p)))
                .collect();
            if picked.is_empty() {
                return Ok(vec![BucketOutcome::Nothing]);
            }
            let rewrites = futures::stream::iter(picked.iter().map(|(levels, pick)| async move {
                let mut result = CompactResult::default();
                let work = self.rewrite(levels, *pick, &mut result).await;
                (work, result)
            }))
            .buffered(opts.parallelism.max(1))
            .collect::<Vec<_>>()
            .await;
            let mut results = Vec::with_capacity(rewrites.len());
            let mut failure = self.ctx.cancel.check().err();
            for (work, result) in rewrites {
                if let Err(e) = work {
                    failure.get_or_insert(e);
                }
                results.push(result);
            }
            let discard_all = |results: Vec<CompactResult>| async move {
                for r in &results {
                    self.discard(r).await;
                }
            };
            if let Some(e) = failure {
                discard_all(results).await;
                match e {
                    // An input file vanished: another compaction and an expiration got
                    // there first. Start again on fresh state.
                    e if e.kind() == ErrorKind::NotFound => {
                        if attempt < opts.max_attempts.max(1) {
                            continue;
                        }
                        return Ok(gave_up(&picked, &e.to_string(), attempt));
                    }
                    e => return Err(e),
                }
            }
            let work: Vec<(&Levels, Pick, CompactResult)> = picked
                .iter()
                .zip(results)
                .filter(|(_, r)| !r.is_empty())
                .map(|((l, p), r)| (l, *p, r))
                .collect();
            if work.is_empty() {
                return Ok(vec![BucketOutcome::Nothing]);
            }
            let messages: Vec<CommitMessage> =
                work.iter().map(|(l, _, r)| commit_message(l, r)).collect();
            let id = self.identifier.fetch_add(1, Ordering::SeqCst);
            match self.commit(&messages, id).await {
                Ok(committed) => {
                    let snapshot_id = committed.last().map_or(0, |c| c.snapshot_id);
                    return Ok(work
                        .iter()
                        .map(|(l, p, r)| {
                            let mut s = summary(l, *p, r, snapshot_id);
                            s.attempts = attempt;
                            BucketOutcome::Compacted(s)
                        })
                        .collect());
                }
                Err(e) if e.kind() == ErrorKind::Conflict => {
                    // The conflict check runs before the snapshot is written: nothing landed.
                    discard_all(work.into_iter().map(|(_, _, r)| r).collect()).await;
                    if attempt >= opts.max_attempts.max(1) {
                        return Ok(gave_up(&picked, &e.to_string(), attempt));
                    }
                }
                // The commit may have landed with its answer lost: keep the files (orphan
                // cleanup removes them if it did not).
                Err(e) => return Err(e),
            }
        }
    }

    /// Compacts one bucket, starting from levels already read (re-read on conflict).
    pub async fn compact_levels(
        &self,
        mut levels: Levels,
        full: bool,
        max_attempts: u32,
    ) -> Result<BucketOutcome> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let Some(pick) = self.pick(&levels, full) else {
                return Ok(BucketOutcome::Nothing);
            };
            match self.attempt(&levels, pick).await {
                Ok(Some(mut summary)) => {
                    summary.attempts = attempt;
                    return Ok(BucketOutcome::Compacted(summary));
                }
                Ok(None) => return Ok(BucketOutcome::Nothing),
                Err(Retry::Again(why)) => {
                    if attempt >= max_attempts.max(1) {
                        return Ok(BucketOutcome::GaveUp(format!(
                            "bucket {} of {}: {why} ({attempt} attempts)",
                            levels.bucket, self.ctx.table.name
                        )));
                    }
                    levels = self.levels_of(&levels.partition, levels.bucket).await?;
                }
                Err(Retry::Fail(e)) => return Err(e),
            }
        }
    }

    /// One attempt: rewrite and commit. Uploaded files are removed unless the commit may
    /// have landed.
    async fn attempt(
        &self,
        levels: &Levels,
        pick: Pick,
    ) -> std::result::Result<Option<CompactSummary>, Retry> {
        let mut result = CompactResult::default();
        // A cancellation that arrives after the last batch still stops before the commit.
        let work = match self.rewrite(levels, pick, &mut result).await {
            Ok(()) => self.ctx.cancel.check(),
            Err(e) => Err(e),
        };
        if let Err(e) = work {
            self.discard(&result).await;
            return Err(match e {
                // An input file vanished: another compaction and an expiration got there first.
                e if e.kind() == ErrorKind::NotFound => {
                    Retry::Again(format!("input file gone: {e}"))
                }
                e => Retry::Fail(e),
            });
        }
        if result.is_empty() {
            self.discard(&result).await;
            return Ok(None);
        }
        let message = commit_message(levels, &result);
        let id = self.identifier.fetch_add(1, Ordering::SeqCst);
        match self.commit(&[message], id).await {
            Ok(committed) => {
                let snapshot_id = committed.last().map_or(0, |c| c.snapshot_id);
                Ok(Some(summary(levels, pick, &result, snapshot_id)))
            }
            Err(e) if e.kind() == ErrorKind::Conflict => {
                // The conflict check runs before the snapshot is written: nothing landed.
                self.discard(&result).await;
                Err(Retry::Again(e.to_string()))
            }
            // The commit may have landed with its answer lost: keep the files (orphan cleanup
            // removes them if it did not).
            Err(e) => Err(Retry::Fail(e)),
        }
    }

    /// One COMPACT snapshot of `messages`: their file changes, their changelog and their
    /// deletion-vector index changes.
    async fn commit(&self, messages: &[CommitMessage], identifier: i64) -> Result<Vec<Committed>> {
        let mut entries = vec![];
        let mut changelog = vec![];
        let mut index = vec![];
        for m in messages {
            let entry = |kind, file: &DataFileMeta| m.entry(kind, file);
            entries.extend(m.compact_before.iter().map(|f| entry(FileKind::Delete, f)));
            entries.extend(m.compact_after.iter().map(|f| entry(FileKind::Add, f)));
            changelog.extend(m.compact_changelog.iter().map(|f| entry(FileKind::Add, f)));
            index.extend(m.index_changes.iter().cloned());
        }
        if entries.is_empty() && changelog.is_empty() && index.is_empty() {
            return Ok(vec![]);
        }
        let committed = self
            .committer
            .commit_with_index(CommitKind::Compact, entries, changelog, index, identifier)
            .await?;
        Ok(vec![committed])
    }

    async fn rewrite(&self, levels: &Levels, pick: Pick, out: &mut CompactResult) -> Result<()> {
        let dvs = BucketDvs::load(&self.ctx.table, levels).await?;
        let read_dvs = dvs.for_reading();
        run_pick(&self.ctx, levels, pick, dvs, out).await?;
        let runs = levels.sorted_runs();
        let picks_level0 = runs.iter().take(pick.run_count).any(|r| r.level == 0);
        let is_full = pick.run_count == runs.len() && pick.output_level == levels.max_level();
        let dir = || -> Result<_> {
            Ok(self.ctx.table.bucket_dir(
                &self.ctx.table.partition_dir(&levels.partition)?,
                levels.bucket,
            ))
        };
        match self.ctx.table.options.changelog_producer {
            ChangelogProducer::Lookup if picks_level0 => {
                lookup_changelog(&self.ctx, levels, &dir()?, &read_dvs, out).await?
            }
            ChangelogProducer::FullCompaction if is_full => {
                full_compaction_changelog(&self.ctx, levels, &dir()?, &read_dvs, out).await?
            }
            _ => {}
        }
        Ok(())
    }

    /// Deletes files an attempt uploaded (best effort: leftovers are orphans).
    async fn discard(&self, result: &CompactResult) {
        for p in &result.written {
            let _ = self.ctx.table.io.delete(p).await;
        }
    }
}

enum Retry {
    Again(String),
    Fail(Error),
}

/// The COMPACT commit message of one bucket's rewrite.
fn commit_message(levels: &Levels, result: &CompactResult) -> CommitMessage {
    CommitMessage {
        partition: levels.partition.clone(),
        bucket: levels.bucket,
        total_buckets: levels.total_buckets,
        compact_before: result.before.clone(),
        compact_after: result.after.clone(),
        compact_changelog: result.changelog.clone(),
        index_changes: result.index_changes.clone(),
        ..Default::default()
    }
}

fn summary(
    levels: &Levels,
    pick: Pick,
    result: &CompactResult,
    snapshot_id: i64,
) -> CompactSummary {
    CompactSummary {
        snapshot_id,
        bucket: levels.bucket,
        partition: levels.partition.clone(),
        output_level: pick.output_level,
        files_before: result.before.len(),
        files_after: result.after.len(),
        upgraded: result.upgraded,
        changelog_files: result.changelog.len(),
        bytes_read: result.bytes_read,
        bytes_written: result.bytes_written,
        runs_before: levels.run_count(),
        attempts: 1,
    }
}

fn gave_up(picked: &[(Levels, Pick)], why: &str, attempts: u32) -> Vec<BucketOutcome> {
    picked
        .iter()
        .map(|(l, _)| {
            BucketOutcome::GaveUp(format!(
                "bucket {} of the table compaction: {why} ({attempts} attempts)",
                l.bucket
            ))
        })
        .collect()
}
