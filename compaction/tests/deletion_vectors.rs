//! Deletion-vector writes (`deletion-vectors.enabled`): compaction marks superseded rows of
//! higher levels deleted instead of rewriting them; the table reads the same through the
//! deletion-vector fast path (level 0 skipped, no merging) and through merge-on-read (every
//! level merged, vectors applied), and like the model of what was written.

use crate::common;

use std::sync::Arc;

use common::*;
use streamhouse_compaction::{CompactingWriter, Compactor};
use streamhouse_format::io::index_manifest::DELETION_VECTORS_INDEX;
use streamhouse_format::io::Table;
use streamhouse_format::options::TableOptions;

/// The same table read with `deletion-vectors.merge-on-read = true`: level 0 included, every
/// split merged.
fn merge_on_read(table: &Table) -> Table {
    let mut raw = table.schema.options.clone();
    raw.insert("deletion-vectors.merge-on-read".into(), "true".into());
    let mut t = table.clone();
    t.options = Arc::new(TableOptions::parse(&raw, true).unwrap());
    t
}

/// (files with a vector, deleted rows) in the latest snapshot's index manifest.
async fn vector_counts(table: &Table) -> (usize, i64) {
    let s = table.snapshot_or_latest(None).await.unwrap().unwrap();
    let mut files = 0;
    let mut rows = 0;
    for e in table.index_files(&s).await.unwrap() {
        assert_eq!(e.index_type, DELETION_VECTORS_INDEX);
        let ranges = e.dv_ranges.unwrap();
        assert_eq!(e.row_count, ranges.len() as i64);
        files += ranges.len();
        rows += ranges.iter().map(|r| r.cardinality.unwrap()).sum::<i64>();
    }
    (files, rows)
}

/// Rounds of upserts and deletes over a key space through the compacting writer: after each
/// commit the level-0 files are compacted away and both read paths give the model.
async fn rounds_read_like_the_model(opts: &[(&str, &str)], deletes: bool) {
    let (_dir, table) = temp_table(opts).await;
    let mut model = Model::new();
    let mut w = CompactingWriter::new(table.clone()).await.unwrap();
    for round in 0..8i64 {
        let ops = round_ops(
            round,
            60,
            |i| (i * 7 + round * 13) % 97,
            |i| deletes && round > 0 && i % 5 == 0,
        );
        apply_ops(&mut model, &ops);
        commit_compacting(&mut w, &ops).await;
        let l0 = live_files(&table)
            .await
            .into_iter()
            .filter(|f| f.1 == 0)
            .count();
        assert_eq!(l0, 0, "round {round}: level 0 left after the commit");
        assert_eq!(
            read_map(&table, None).await,
            model,
            "round {round}: DV read"
        );
        assert_eq!(
            read_map(&merge_on_read(&table), None).await,
            model,
            "round {round}: merge-on-read"
        );
    }
    let stats = w.close().await.unwrap();
    assert_eq!(stats.failures, 0, "{:?}", stats.last_failure);
    let (files, rows) = vector_counts(&table).await;
    assert!(files > 0 && rows > 0, "no deletion vectors were written");

    // More rows in level 0 stay invisible to the DV read until compacted, as in Paimon.
    let ops = round_ops(99, 10, |i| i, |_| false);
    commit_ops(&table, &ops).await;
    let before = model.clone();
    apply_ops(&mut model, &ops);
    assert_eq!(read_map(&table, None).await, before);
    assert_eq!(read_map(&merge_on_read(&table), None).await, model);
    let c = Compactor::new(table.clone()).unwrap();
    c.compact_table(&Default::default()).await.unwrap();
    assert_eq!(read_map(&table, None).await, model);
    assert_eq!(read_map(&merge_on_read(&table), None).await, model);

    // A full compaction rewrites everything: no vectors are left.
    c.compact_table(&full()).await.unwrap();
    assert_eq!(read_map(&table, None).await, model);
    assert_eq!(vector_counts(&table).await, (0, 0));
}

#[tokio::test]
async fn deduplicate_tables_with_deletes() {
    rounds_read_like_the_model(
        &[("bucket", "1"), ("deletion-vectors.enabled", "true")],
        true,
    )
    .await;
}

#[tokio::test]
async fn two_buckets_and_few_levels() {
    rounds_read_like_the_model(
        &[
            ("bucket", "2"),
            ("num-levels", "3"),
            ("deletion-vectors.enabled", "true"),
        ],
        true,
    )
    .await;
}

/// Partial-update merges the superseded row into the new one (the lookup path that reads the
/// higher levels' values).
#[tokio::test]
async fn partial_update_merges_the_higher_row() {
    rounds_read_like_the_model(
        &[
            ("bucket", "1"),
            ("merge-engine", "partial-update"),
            ("deletion-vectors.enabled", "true"),
        ],
        false,
    )
    .await;
}

/// Every deletion-vector index file of the shared Java-written tables decodes with the reader
/// and encodes back to the same bytes (version, sizes, magic, run-optimized bitmaps, CRCs) at
/// the same offsets, lengths and cardinalities the Java index manifest records.
#[tokio::test]
async fn java_index_files_encode_back_byte_for_byte() {
    use streamhouse_format::dv::{encode_index_file, RoaringBitmap};
    use streamhouse_reader::dv::DeletionVector;

    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/java-paimon");
    if !root.is_dir() {
        eprintln!("skipped: no Java fixtures at {}", root.display());
        return;
    }
    let mut tables = vec![];
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.join("snapshot").is_dir() && p.join("schema").is_dir() {
                    tables.push(p);
                } else {
                    stack.push(p);
                }
            }
        }
    }
    let mut compared = 0;
    for dir in tables {
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let db_dir = dir.parent().unwrap();
        let Some(db) = db_dir
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_suffix(".db")
        else {
            continue;
        };
        let warehouse = db_dir.parent().unwrap().to_str().unwrap().to_string();
        let table = open_table(&warehouse, &format!("{db}.{name}")).await;
        let Some(snapshot) = table.snapshot_or_latest(None).await.unwrap() else {
            continue;
        };
        let Ok(entries) = table.index_files(&snapshot).await else {
            eprintln!("{name}: index manifest not readable here");
            continue;
        };
        for e in entries
            .iter()
            .filter(|e| e.index_type == DELETION_VECTORS_INDEX && e.external_path.is_none())
        {
            let path = if table.options.index_file_in_data_file_dir {
                let part = table.partition_dir(&e.partition).unwrap();
                table.bucket_dir(&part, e.bucket).join(e.file_name.as_str())
            } else {
                table.index_path(&e.file_name)
            };
            let bytes = table.io.read(&path).await.unwrap();
            let ranges = e.dv_ranges.clone().unwrap_or_default();
            let bitmaps: Vec<(String, RoaringBitmap)> = ranges
                .iter()
                .map(|r| {
                    let dv = DeletionVector::parse(
                        &bytes,
                        r.offset as i64,
                        r.length as i64,
                        &e.file_name,
                    )
                    .unwrap();
                    let b = dv.positions().iter().map(|p| *p as u32).collect();
                    (r.data_file_name.clone(), b)
                })
                .collect();
            let ours = encode_index_file(bitmaps.iter().map(|(n, b)| (n.as_str(), b))).unwrap();
            assert_eq!(ours.bytes, bytes.to_vec(), "{name}: {}", e.file_name);
            for (a, b) in ours.ranges.iter().zip(&ranges) {
                assert_eq!(
                    (&a.data_file_name, a.offset, a.length),
                    (&b.data_file_name, b.offset, b.length)
                );
                if let Some(c) = b.cardinality {
                    assert_eq!(a.cardinality, Some(c));
                }
            }
            assert_eq!(e.row_count, ranges.len() as i64);
            compared += 1;
        }
    }
    assert!(
        compared >= 5,
        "only {compared} Java DV index files compared"
    );
    eprintln!("{compared} Java DV index files encode back byte for byte");
}

/// Random writes (plain and compacting), compactions, expirations and orphan cleanups on a
/// deletion-vector table: after every step merge-on-read gives the model; after a compaction
/// (nothing left in level 0) the deletion-vector read gives it too.
async fn random_steps(ops: Vec<crate::model::Op>) {
    use crate::model::{apply, Op};
    let table = memory_table(&[
        ("bucket", "2"),
        ("num-levels", "4"),
        ("num-sorted-run.compaction-trigger", "3"),
        ("target-file-size", "2kb"),
        ("deletion-vectors.enabled", "true"),
    ])
    .await;
    let mut model = Model::new();
    for (i, op) in ops.iter().enumerate() {
        apply(&table, op, &mut model).await;
        let mor = read_map(&merge_on_read(&table), None).await;
        assert_eq!(
            mor, model,
            "merge-on-read after step {i} ({op:?}) of {ops:?}"
        );
        let level0 = live_files(&table).await.iter().any(|f| f.1 == 0);
        if !level0 {
            let dv = read_map(&table, None).await;
            assert_eq!(dv, model, "DV read after step {i} ({op:?}) of {ops:?}");
        }
        if matches!(op, Op::Compact { .. }) {
            assert!(!level0, "a compaction left level 0 behind");
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16),
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    #[test]
    fn random_steps_read_like_the_model(
        ops in proptest::collection::vec(crate::model::op(), 1..25)
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(random_steps(ops));
    }
}
