//! Compaction end to end: reads are unchanged, levels and files are as Paimon's rules say.

use crate::common;

use std::time::Duration;

use common::*;
use streamhouse_compaction::{BucketOutcome, CompactOptions, Compactor};
use streamhouse_format::io::orphans::clean_orphans;
use streamhouse_format::io::Table;
use streamhouse_format::snapshot::CommitKind;

/// Commits `rounds` batches of upserts and deletes, each its own snapshot, into the model too.
async fn write_rounds(table: &Table, rounds: i64, model: &mut Model) {
    for r in 0..rounds {
        let ops = round_ops(r, 50, |i| (i * 7 + r * 13) % 80, |i| (i + r) % 9 == 0);
        apply_ops(model, &ops);
        commit_ops(table, &ops).await;
    }
}

/// A table with a few level-0 runs written, and its model.
async fn written_table(opts: &[(&str, &str)], rounds: i64) -> (tempfile::TempDir, Table, Model) {
    let (dir, table) = temp_table(opts).await;
    let mut model = Model::new();
    write_rounds(&table, rounds, &mut model).await;
    (dir, table, model)
}

/// The data files (paths under `bucket-*`) an orphan cleanup with no age limit finds.
async fn orphan_data_files(table: &Table) -> Vec<String> {
    let r = clean_orphans(table, Duration::ZERO, true).await.unwrap();
    r.deleted
        .into_iter()
        .filter(|p| p.contains("bucket-"))
        .collect()
}

#[tokio::test]
async fn full_compaction_keeps_rows_and_leaves_one_run_at_the_max_level() {
    let (_dir, table, model) = written_table(&[("bucket", "2")], 6).await;
    assert_eq!(read_map(&table, None).await, model);
    let c = Compactor::new(table.clone()).unwrap();
    let out = c.compact_table(&full()).await.unwrap();
    assert_eq!(out.len(), 2);
    assert!(
        out.iter().all(|o| matches!(o, BucketOutcome::Compacted(_))),
        "{out:?}"
    );
    assert_eq!(read_map(&table, None).await, model);
    let files = live_files(&table).await;
    assert!(files.iter().all(|f| f.1 == 5), "{files:?}");
    let latest = table.snapshot_or_latest(None).await.unwrap().unwrap();
    assert_eq!(latest.commit_kind, CommitKind::Compact);
    // Deletes were dropped at the max level: rows = live keys.
    assert_eq!(files.iter().map(|f| f.3).sum::<i64>(), model.len() as i64);
    // A second full compaction has nothing to do.
    let again = c.compact_table(&full()).await.unwrap();
    assert!(
        again.iter().all(|o| *o == BucketOutcome::Nothing),
        "{again:?}"
    );
}

#[tokio::test]
async fn universal_compaction_triggers_at_five_runs() {
    let (_dir, table, mut model) = written_table(&[("bucket", "1")], 4).await;
    let c = Compactor::new(table.clone()).unwrap();
    let out = c.compact_table(&CompactOptions::default()).await.unwrap();
    assert_eq!(out, vec![BucketOutcome::Nothing]);
    write_rounds(&table, 1, &mut model).await;
    let out = c.compact_table(&CompactOptions::default()).await.unwrap();
    assert!(matches!(out[0], BucketOutcome::Compacted(_)), "{out:?}");
    assert_eq!(read_map(&table, None).await, model);
    // Nothing is left at level 0.
    assert!(live_files(&table).await.iter().all(|f| f.1 > 0));
}

#[tokio::test]
async fn a_compaction_that_loses_a_race_retries_on_fresh_state_or_gives_up_cleanly() {
    let (_dir, table, model) = written_table(&[("bucket", "1")], 6).await;
    let a = Compactor::new(table.clone()).unwrap();
    let b = Compactor::new(table.clone()).unwrap();
    let (_, stale) = b.bucket_levels(None).await.unwrap();
    let (_, fresh) = a.bucket_levels(None).await.unwrap();
    let won = a.compact_levels(fresh[0].clone(), true, 1).await.unwrap();
    assert!(matches!(won, BucketOutcome::Compacted(_)), "{won:?}");
    let latest = table.latest_snapshot_id().await.unwrap();
    // One attempt only: the loser gives up, commits nothing and leaves no files behind.
    let lost = b.compact_levels(stale[0].clone(), true, 1).await.unwrap();
    assert!(matches!(lost, BucketOutcome::GaveUp(_)), "{lost:?}");
    assert_eq!(table.latest_snapshot_id().await.unwrap(), latest);
    let data_orphans = orphan_data_files(&table).await;
    assert!(data_orphans.is_empty(), "{data_orphans:?}");
    // With retries it re-reads the bucket: already one run at the max level, nothing to do.
    let retried = b.compact_levels(stale[0].clone(), true, 3).await.unwrap();
    assert_eq!(retried, BucketOutcome::Nothing);
    assert_eq!(read_map(&table, None).await, model);
}

#[tokio::test]
async fn many_runs_are_merged_in_bounded_groups() {
    // 70 level-0 runs: more than two groups of MAX_FAN_IN.
    let (_dir, table, model) = written_table(&[("bucket", "1"), ("write-only", "true")], 70).await;
    let c = Compactor::new(table.clone()).unwrap();
    let out = c.compact_table(&full()).await.unwrap();
    let BucketOutcome::Compacted(s) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(s.files_before, 70);
    assert_eq!(read_map(&table, None).await, model);
    // The temporary files of the first merge pass are gone.
    let data_orphans = orphan_data_files(&table).await;
    assert!(data_orphans.is_empty(), "{data_orphans:?}");
}

/// Cancels the compaction as soon as it reports progress (a Ctrl-C in the middle).
struct CancelOnProgress(streamhouse_compaction::Cancel);

struct CancelTask(streamhouse_compaction::Cancel);

impl streamhouse_compaction::ProgressTask for CancelTask {
    fn advance(&self, _bytes: u64) {
        self.0.cancel();
    }
    fn finish(&self) {}
}

impl streamhouse_compaction::Progress for CancelOnProgress {
    fn start(
        &self,
        _what: &str,
        _total: u64,
    ) -> std::sync::Arc<dyn streamhouse_compaction::ProgressTask> {
        std::sync::Arc::new(CancelTask(self.0.clone()))
    }
}

#[tokio::test]
async fn a_cancelled_compaction_commits_nothing_and_leaves_no_files() {
    let (_dir, table, model) =
        written_table(&[("bucket", "1"), ("target-file-size", "2kb")], 8).await;
    let latest = table.latest_snapshot_id().await.unwrap();
    let cancel = streamhouse_compaction::Cancel::new();
    let c = Compactor::new(table.clone())
        .unwrap()
        .with_cancel(cancel.clone())
        .with_progress(std::sync::Arc::new(CancelOnProgress(cancel.clone())));
    let r = c.compact_table(&full()).await;
    assert!(r.is_err(), "{r:?}");
    assert!(cancel.is_cancelled());
    assert_eq!(table.latest_snapshot_id().await.unwrap(), latest);
    let orphans = clean_orphans(&table, Duration::ZERO, true).await.unwrap();
    assert!(orphans.deleted.is_empty(), "{:?}", orphans.deleted);
    assert_eq!(read_map(&table, None).await, model);
}
