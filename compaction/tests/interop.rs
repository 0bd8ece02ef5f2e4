//! Interop: pypaimon reads compacted and expired tables with the same rows as Streamhouse
//! (levels > 0, level upgrades as DELETE + ADD of one file, COMPACT snapshots, lookup
//! changelog, expired snapshots and EARLIEST). Needs `STREAMHOUSE_PYTHON` (set by
//! `tests/run.sh`); skips loudly without it, fails under CI.

use crate::common;

use streamhouse_test_support as interop_support;

use common::*;
use streamhouse_compaction::{CompactOptions, CompactingWriter, Compactor};
use streamhouse_format::io::Table;
use streamhouse_reader::ScanBuilder;

async fn write_rounds(table: &Table, rounds: i64, compacting: bool) {
    let mut w = CompactingWriter::new(table.clone()).await.unwrap();
    for r in 0..rounds {
        let ops = round_ops(r, 60, |i| (i * 11 + r * 5) % 200, |i| (i + r) % 6 == 0);
        if compacting {
            commit_compacting(&mut w, &ops).await;
        } else {
            let (b, kinds) = ops_batch(&ops);
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
    let (dir, table) = temp_table(opts).await;
    write_rounds(&table, 8, false).await;
    assert_pypaimon_agrees(&table, dir.path(), "before compaction").await;
    let c = Compactor::new(table.clone()).unwrap();
    c.compact_table(&CompactOptions::default()).await.unwrap();
    assert_pypaimon_agrees(&table, dir.path(), "after universal compaction").await;
    write_rounds(&table, 12, true).await;
    assert_pypaimon_agrees(&table, dir.path(), "after in-writer compaction").await;
    assert!(!expire_keeping(&table, 2).await.expired.is_empty());
    assert_pypaimon_agrees(&table, dir.path(), "after expiration").await;
    c.compact_table(&full()).await.unwrap();
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
