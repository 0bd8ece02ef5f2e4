//! Lookup changelog, the compaction service next to a writer, in-writer compaction with its
//! stop trigger, and expiration's respect for consumers and tags.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::AsArray;
use arrow::datatypes::{Int64Type, Int8Type};
use common::*;
use streamhouse_compaction::service::{Service, ServiceConfig};
use streamhouse_compaction::{Cancel, CompactOptions, CompactingWriter, Compactor};
use streamhouse_format::io::orphans::clean_orphans;
use streamhouse_format::io::Table;
use streamhouse_format::snapshot::CommitKind;

/// (kind, id, v) rows of the changelog files of the latest snapshot.
async fn latest_changelog(table: &Table) -> Vec<(i8, i64, String)> {
    let s = table.snapshot_or_latest(None).await.unwrap().unwrap();
    assert_eq!(s.commit_kind, CommitKind::Compact);
    let mut out = vec![];
    for e in table.changelog_files(&s).await.unwrap() {
        for b in read_data_file(table, e.bucket, &e.file.file_name).await {
            let column = |name| b.column_by_name(name).unwrap();
            let kinds = column("_VALUE_KIND").as_primitive::<Int8Type>();
            let ids = column("id").as_primitive::<Int64Type>();
            let vs = column("v").as_string::<i32>();
            for i in 0..b.num_rows() {
                out.push((kinds.value(i), ids.value(i), vs.value(i).to_string()));
            }
        }
    }
    out
}

/// Upserts (Some) and deletes (None) of one commit.
type Ops<'a> = &'a [(i64, Option<&'a str>)];
/// A round: its commits, then the (kind, id, v) changelog rows the compaction after them
/// must write.
type Round<'a> = (&'a [Ops<'a>], &'a [(i8, i64, &'a str)]);

/// Per round: the commits, one compaction with `opts`, and a check of its changelog.
async fn assert_changelog_rounds(table: &Table, opts: &CompactOptions, rounds: &[Round<'_>]) {
    let c = Compactor::new(table.clone()).unwrap();
    for (round, (commits, expected)) in rounds.iter().enumerate() {
        for ops in *commits {
            commit_ops(table, ops).await;
        }
        c.compact_table(opts).await.unwrap();
        let expected: Vec<(i8, i64, String)> = expected
            .iter()
            .map(|&(k, id, v)| (k, id, v.into()))
            .collect();
        assert_eq!(latest_changelog(table).await, expected, "round {round}");
    }
}

#[tokio::test]
async fn lookup_changelog_has_before_images_from_higher_levels() {
    let (_dir, table) = temp_table(&[("bucket", "1"), ("changelog-producer", "lookup")]).await;
    // Lookup tables push level 0 up on every compaction, below the trigger too.
    assert_changelog_rounds(
        &table,
        &CompactOptions::default(),
        &[
            (
                &[&[(1, Some("a")), (2, Some("b"))]],
                &[(0, 1, "a"), (0, 2, "b")],
            ),
            (
                &[
                    &[(1, Some("a2")), (2, None), (3, Some("c"))],
                    &[(1, Some("a3")), (4, Some("d")), (4, None)],
                ],
                &[(1, 1, "a"), (2, 1, "a3"), (3, 2, "b"), (0, 3, "c")],
            ),
        ],
    )
    .await;
    let s = table.snapshot_or_latest(None).await.unwrap().unwrap();
    assert_eq!(s.changelog_record_count, Some(4));
    assert_eq!(
        read_map(&table, None).await,
        BTreeMap::from([(1, Some("a3".into())), (3, Some("c".into()))])
    );
}

/// A first-row table's lookup changelog holds only keys seen for the first time (+I): a later
/// version of an existing key changes nothing, so it is no change (Java's first-row changelog).
#[tokio::test]
async fn first_row_lookup_changelog_has_only_new_keys() {
    let (_dir, table) = temp_table(&[
        ("bucket", "1"),
        ("changelog-producer", "lookup"),
        ("merge-engine", "first-row"),
    ])
    .await;
    assert_changelog_rounds(
        &table,
        &CompactOptions::default(),
        &[
            (
                &[&[(1, Some("a")), (2, Some("b"))]],
                &[(0, 1, "a"), (0, 2, "b")],
            ),
            (&[&[(1, Some("a2")), (3, Some("c"))]], &[(0, 3, "c")]),
        ],
    )
    .await;
    assert_eq!(
        read_map(&table, None).await,
        BTreeMap::from([
            (1, Some("a".into())),
            (2, Some("b".into())),
            (3, Some("c".into()))
        ])
    );
}

#[tokio::test]
async fn a_writer_and_two_compaction_services_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().to_str().unwrap().to_string();
    let table = create_table(
        &wh,
        "db.t",
        &[
            ("bucket", "3"),
            ("write-only", "true"),
            ("num-sorted-run.compaction-trigger", "2"),
            ("target-file-size", "4kb"),
        ],
    )
    .await;
    let cancel = Cancel::new();
    let mut services = vec![];
    for _ in 0..2 {
        let t = open_table(&wh, "db.t").await;
        let compactor = Arc::new(Compactor::new(t).unwrap().with_cancel(cancel.clone()));
        let svc = Service::new(
            compactor,
            ServiceConfig {
                workers: 2,
                interval: Duration::from_millis(20),
                ..Default::default()
            },
        );
        services.push(tokio::spawn(async move { svc.run().await }));
    }
    let mut model = Model::new();
    for round in 0..30i64 {
        let key = |i| (i * 31 + round * 17) % 150;
        let ops = round_ops(round, 40, key, |i| (i + round) % 7 == 0);
        apply_ops(&mut model, &ops);
        commit_ops(&table, &ops).await;
        assert_eq!(read_map(&table, None).await, model, "after round {round}");
    }
    // Let the services catch up, then stop them.
    tokio::time::sleep(Duration::from_millis(500)).await;
    cancel.cancel();
    let mut compactions = 0;
    for s in services {
        let report = s.await.unwrap().unwrap();
        assert!(report.cancelled);
        compactions += report.compacted.len();
    }
    assert!(compactions > 0, "the services compacted nothing");
    assert_eq!(read_map(&table, None).await, model);
    // Every snapshot is readable and the compactions left level ranges disjoint (a COMPACT
    // commit that broke them would have been refused).
    let ids = table.list_snapshot_ids().await.unwrap();
    let compact_snapshots = {
        let mut n = 0;
        for id in &ids {
            if table.snapshot(*id).await.unwrap().commit_kind == CommitKind::Compact {
                n += 1;
            }
        }
        n
    };
    assert_eq!(compact_snapshots, compactions);
    // No lease is left behind.
    let leases = table
        .io
        .list_names(&table.root.clone().join("_compaction"))
        .await
        .unwrap();
    assert!(leases.is_empty(), "{leases:?}");
}

#[tokio::test]
async fn in_writer_compaction_keeps_runs_under_the_stop_trigger() {
    let table = memory_table(&[("bucket", "2"), ("target-file-size", "8kb")]).await;
    let mut w = CompactingWriter::new(table.clone()).await.unwrap();
    let mut model = Model::new();
    for round in 0..40i64 {
        let ops = round_ops(round, 50, |i| (i * 13 + round * 7) % 300, |_| false);
        apply_ops(&mut model, &ops);
        commit_compacting(&mut w, &ops).await;
    }
    let stats = w.close().await.unwrap();
    assert_eq!(read_map(&table, None).await, model);
    assert!(stats.compactions > 0);
    let stop = table.options.stop_trigger as usize;
    for (bucket, runs) in &stats.runs {
        assert!(*runs <= stop, "bucket {bucket:?} has {runs} runs > {stop}");
    }
    assert!(
        stats.max_runs_seen <= stop,
        "a compaction started at {} runs",
        stats.max_runs_seen
    );
    assert!(stats.write_amplification() > 1.0);
    let c = Compactor::new(table.clone()).unwrap();
    let (_, levels) = c.bucket_levels(None).await.unwrap();
    assert!(levels.iter().all(|l| l.run_count() <= stop));
}

/// The run counts the writer keeps (estimated after each pick from the levels the round read
/// once) never undercount the table's, and match them once nothing runs.
#[tokio::test]
async fn in_writer_compaction_run_counts_match_the_table() {
    let table = memory_table(&[("bucket", "3"), ("target-file-size", "8kb")]).await;
    let mut w = CompactingWriter::new(table.clone()).await.unwrap();
    let mut model = Model::new();
    for round in 0..30i64 {
        let ops = round_ops(round, 40, |i| (i * 7 + round * 11) % 200, |i| i % 9 == 0);
        apply_ops(&mut model, &ops);
        commit_compacting(&mut w, &ops).await;
    }
    let stats = w.close().await.unwrap();
    assert_eq!(read_map(&table, None).await, model);
    assert!(stats.compactions > 0);
    let c = Compactor::new(table.clone()).unwrap();
    let (_, levels) = c.bucket_levels(None).await.unwrap();
    for l in &levels {
        let counted = stats.runs[&(l.partition.clone(), l.bucket)];
        assert!(
            counted >= l.run_count(),
            "bucket {}: counted {counted} < {} runs",
            l.bucket,
            l.run_count()
        );
    }
}

#[tokio::test]
async fn expiration_respects_consumers_and_tags_and_cleanup_keeps_referenced_files() {
    let (_dir, table) = temp_table(&[("bucket", "1")]).await;
    for i in 0..6i64 {
        commit_ops(&table, &[(i, Some("x")), (100, Some(&format!("r{i}")))]).await;
    }
    // Tag snapshot 2 (tag file = the snapshot JSON), consumer at snapshot 4.
    let s2 = table.snapshot(2).await.unwrap();
    table
        .io
        .write(
            &table.root.clone().join("tag").join("tag-keep"),
            s2.to_json(),
        )
        .await
        .unwrap();
    table.set_consumer("reader", 4).await.unwrap();
    let tagged_view = read_map(&table, Some(2)).await;
    let c = Compactor::new(table.clone()).unwrap();
    c.compact_table(&full()).await.unwrap();
    // The consumer needs snapshot 4: only 1..3 go.
    assert_eq!(expire_keeping(&table, 1).await.expired, vec![1, 2, 3]);
    table.delete_consumer("reader").await.unwrap();
    assert_eq!(expire_keeping(&table, 1).await.expired, vec![4, 5, 6]);
    assert_eq!(table.earliest_snapshot_id().await.unwrap(), Some(7));
    // The tag still reads: its data files were kept.
    let mut tag_snapshot = s2.clone();
    tag_snapshot.id = 2;
    let files = table.all_live_files(&tag_snapshot).await.unwrap();
    for f in &files {
        let p = table
            .bucket_dir("", f.bucket)
            .join(f.file.file_name.as_str());
        assert!(
            table.io.exists(&p).await.unwrap(),
            "tagged file {p} was deleted"
        );
    }
    assert_eq!(tagged_view.len(), 3);
    // An orphan is removed, referenced files are not.
    let orphan = table.bucket_dir("", 0).join("data-orphan-0.parquet");
    table.io.write(&orphan, vec![1u8, 2, 3]).await.unwrap();
    let young = clean_orphans(&table, Duration::from_secs(3600), false)
        .await
        .unwrap();
    assert!(young.deleted.is_empty());
    assert_eq!(young.kept_young, 1);
    let r = clean_orphans(&table, Duration::ZERO, false).await.unwrap();
    assert_eq!(r.deleted, vec![orphan.to_string()]);
    let latest_rows = read_map(&table, None).await;
    assert_eq!(latest_rows.len(), 7);
}

#[tokio::test]
async fn full_compaction_changelog_diffs_against_the_max_level() {
    let table = memory_table(&[("bucket", "1"), ("changelog-producer", "full-compaction")]).await;
    assert_changelog_rounds(
        &table,
        &full(),
        &[
            (
                &[&[(1, Some("a")), (2, Some("b"))], &[(1, Some("a1"))]],
                &[(0, 1, "a1"), (0, 2, "b")],
            ),
            (&[&[(2, None), (3, Some("c"))]], &[(3, 2, "b"), (0, 3, "c")]),
        ],
    )
    .await;
}

/// A first-row table's reads skip level 0, so `CompactingWriter::commit` returns only once the
/// level-0 files it wrote are compacted: after every commit the first version of each key
/// written so far is visible, and no level-0 file is left.
#[tokio::test]
async fn first_row_writes_are_visible_when_commit_returns() {
    let table = memory_table(&[("bucket", "2"), ("merge-engine", "first-row")]).await;
    let mut w = CompactingWriter::new(table.clone()).await.unwrap();
    let mut model = Model::new();
    for round in 0..6i64 {
        let ops = round_ops(round, 20, |i| (i * 7 + round * 5) % 40, |_| false);
        for (k, v) in &ops {
            model.entry(*k).or_insert_with(|| v.clone());
        }
        commit_compacting(&mut w, &ops).await;
        assert_eq!(read_map(&table, None).await, model, "after commit {round}");
        let s = table.snapshot_or_latest(None).await.unwrap().unwrap();
        let live = table.live_files(&s, |_| true, |_| true).await.unwrap();
        assert!(
            live.iter().all(|e| e.file.level > 0),
            "level-0 files left after commit {round}"
        );
        // Levels ≥ 1 hold each key once (Java reads first-row tables without merging): a
        // compaction that leaves higher runs untouched drops the keys they hold.
        let mut seen = std::collections::BTreeSet::new();
        for e in &live {
            for b in read_data_file(&table, e.bucket, &e.file.file_name).await {
                let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
                for id in ids.values() {
                    assert!(
                        seen.insert((e.bucket, *id)),
                        "key {id} twice in levels >= 1 after commit {round}"
                    );
                }
            }
        }
    }
    w.close().await.unwrap();
}
