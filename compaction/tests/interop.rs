//! Interop: pypaimon reads compacted and expired tables with the same rows as Streamhouse
//! (levels > 0, level upgrades as DELETE + ADD of one file, COMPACT snapshots, lookup
//! changelog, expired snapshots and EARLIEST). Needs `STREAMHOUSE_PYTHON` (set by
//! `tests/run.sh`); skips loudly without it, fails under CI.

use crate::common;

use streamhouse_test_support as interop_support;

use std::time::Duration;

use common::*;
use streamhouse_compaction::{CompactOptions, CompactingWriter, Compactor};
use streamhouse_format::io::commit::now_millis;
use streamhouse_format::io::expire::{expire_snapshots_at, ExpireConfig};
use streamhouse_format::io::Table;
use streamhouse_reader::ScanBuilder;

async fn write_rounds(table: &Table, rounds: i64, compacting: bool) {
    let mut w = CompactingWriter::new(table.clone()).await.unwrap();
    for r in 0..rounds {
        let ops: Vec<(i64, Option<String>)> = (0..60)
            .map(|i| {
                let k = (i * 11 + r * 5) % 200;
                if (i + r) % 6 == 0 {
                    (k, None)
                } else {
                    (k, Some(format!("round {r} row {i}")))
                }
            })
            .collect();
        let (b, kinds) = ops_batch(&ops);
        if compacting {
            w.write_with_kinds(&b, &kinds).await.unwrap();
            w.commit().await.unwrap();
        } else {
            w.inner().write_with_kinds(&b, &kinds).await.unwrap();
            w.inner().commit().await.unwrap();
        }
    }
    w.close().await.unwrap();
}

async fn assert_pypaimon_agrees(table: &Table, dir: &std::path::Path, what: &str) {
    let scan = ScanBuilder::new(table);
    let batches = scan.to_batches().await.unwrap();
    let schema = scan.output_schema().unwrap();
    let ours = interop_support::arrow_rows_canonical(&batches, &schema);
    let theirs = interop_support::pypaimon_read(interop_support::table_dir(dir, "db", "t"), None);
    assert!(!ours.is_empty());
    interop_support::assert_same_rows(&theirs, &ours, what);
}

async fn scenario(opts: &[(&str, &str)]) {
    let Some(_) = interop_support::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().to_str().unwrap();
    let table = create_table(wh, "db.t", opts).await;
    write_rounds(&table, 8, false).await;
    assert_pypaimon_agrees(&table, dir.path(), "before compaction").await;
    let c = Compactor::new(table.clone()).unwrap();
    c.compact_table(&CompactOptions::default()).await.unwrap();
    assert_pypaimon_agrees(&table, dir.path(), "after universal compaction").await;
    write_rounds(&table, 12, true).await;
    assert_pypaimon_agrees(&table, dir.path(), "after in-writer compaction").await;
    let cfg = ExpireConfig {
        retain_min: 2,
        retain_max: u64::MAX,
        time_retained: Duration::ZERO,
        limit: 1000,
    };
    let r = expire_snapshots_at(&table, &cfg, now_millis() + 1000)
        .await
        .unwrap();
    assert!(!r.expired.is_empty());
    assert_pypaimon_agrees(&table, dir.path(), "after expiration").await;
    c.compact_table(&CompactOptions {
        full: true,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_pypaimon_agrees(&table, dir.path(), "after full compaction").await;
}

#[tokio::test]
async fn pypaimon_reads_compacted_and_expired_tables() {
    scenario(&[
        ("bucket", "2"),
        ("target-file-size", "4kb"),
        ("num-sorted-run.compaction-trigger", "3"),
    ])
    .await;
}

#[tokio::test]
async fn pypaimon_reads_lookup_changelog_tables() {
    scenario(&[("bucket", "1"), ("changelog-producer", "lookup")]).await;
}
