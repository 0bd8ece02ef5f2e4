//! Compaction end to end: reads are unchanged, levels and files are as Paimon's rules say.

use crate::common;

use std::collections::BTreeMap;

use common::*;
use streamhouse_compaction::{BucketOutcome, CompactOptions, Compactor};
use streamhouse_format::snapshot::CommitKind;
use streamhouse_writer::TableWriter;

async fn write_rounds(
    table: &streamhouse_format::io::Table,
    rounds: usize,
    model: &mut BTreeMap<i64, Option<String>>,
) {
    for r in 0..rounds {
        let mut w = TableWriter::new(table.clone()).await.unwrap();
        let ops: Vec<(i64, Option<String>)> = (0..50)
            .map(|i| {
                let k = ((i * 7 + r * 13) % 80) as i64;
                if (i + r) % 9 == 0 {
                    (k, None)
                } else {
                    (k, Some(format!("r{r}-{i}")))
                }
            })
            .collect();
        // Last op per key wins within one batch (sequence order).
        for (k, v) in &ops {
            match v {
                Some(v) => model.insert(*k, Some(v.clone())),
                None => model.remove(k),
            };
        }
        let (b, kinds) = ops_batch(&ops);
        w.write_with_kinds(&b, &kinds).await.unwrap();
        w.commit().await.unwrap();
    }
}

#[tokio::test]
async fn full_compaction_keeps_rows_and_leaves_one_run_at_the_max_level() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().to_str().unwrap();
    let table = create_table(wh, "db.t", &[("bucket", "2")]).await;
    let mut model = BTreeMap::new();
    write_rounds(&table, 6, &mut model).await;
    assert_eq!(read_map(&table, None).await, model);
    let c = Compactor::new(table.clone()).unwrap();
    let out = c
        .compact_table(&CompactOptions {
            full: true,
            ..Default::default()
        })
        .await
        .unwrap();
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
    let again = c
        .compact_table(&CompactOptions {
            full: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        again.iter().all(|o| *o == BucketOutcome::Nothing),
        "{again:?}"
    );
}

#[tokio::test]
async fn universal_compaction_triggers_at_five_runs() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().to_str().unwrap();
    let table = create_table(wh, "db.t", &[("bucket", "1")]).await;
    let mut model = BTreeMap::new();
    write_rounds(&table, 4, &mut model).await;
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
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().to_str().unwrap();
    let table = create_table(wh, "db.t", &[("bucket", "1")]).await;
    let mut model = BTreeMap::new();
    write_rounds(&table, 6, &mut model).await;
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
    let orphans =
        streamhouse_format::io::orphans::clean_orphans(&table, std::time::Duration::ZERO, true)
            .await
            .unwrap();
    let data_orphans: Vec<_> = orphans
        .deleted
        .iter()
        .filter(|p| p.contains("bucket-"))
        .collect();
    assert!(data_orphans.is_empty(), "{data_orphans:?}");
    // With retries it re-reads the bucket: already one run at the max level, nothing to do.
    let retried = b.compact_levels(stale[0].clone(), true, 3).await.unwrap();
    assert_eq!(retried, BucketOutcome::Nothing);
    assert_eq!(read_map(&table, None).await, model);
}

#[tokio::test]
async fn many_runs_are_merged_in_bounded_groups() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().to_str().unwrap();
    let table = create_table(wh, "db.t", &[("bucket", "1"), ("write-only", "true")]).await;
    let mut model = BTreeMap::new();
    // 70 level-0 runs: more than two groups of MAX_FAN_IN.
    write_rounds(&table, 70, &mut model).await;
    let c = Compactor::new(table.clone()).unwrap();
    let out = c
        .compact_table(&CompactOptions {
            full: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let BucketOutcome::Compacted(s) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(s.files_before, 70);
    assert_eq!(read_map(&table, None).await, model);
    // The temporary files of the first merge pass are gone.
    let orphans =
        streamhouse_format::io::orphans::clean_orphans(&table, std::time::Duration::ZERO, true)
            .await
            .unwrap();
    assert!(
        orphans.deleted.iter().all(|p| !p.contains("bucket-")),
        "{:?}",
        orphans.deleted
    );
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
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().to_str().unwrap();
    let table = create_table(wh, "db.t", &[("bucket", "1"), ("target-file-size", "2kb")]).await;
    let mut model = BTreeMap::new();
    write_rounds(&table, 8, &mut model).await;
    let latest = table.latest_snapshot_id().await.unwrap();
    let cancel = streamhouse_compaction::Cancel::new();
    let c = Compactor::new(table.clone())
        .unwrap()
        .with_cancel(cancel.clone())
        .with_progress(std::sync::Arc::new(CancelOnProgress(cancel.clone())));
    let r = c
        .compact_table(&CompactOptions {
            full: true,
            ..Default::default()
        })
        .await;
    assert!(r.is_err(), "{r:?}");
    assert!(cancel.is_cancelled());
    assert_eq!(table.latest_snapshot_id().await.unwrap(), latest);
    let orphans =
        streamhouse_format::io::orphans::clean_orphans(&table, std::time::Duration::ZERO, true)
            .await
            .unwrap();
    assert!(orphans.deleted.is_empty(), "{:?}", orphans.deleted);
    assert_eq!(read_map(&table, None).await, model);
}
