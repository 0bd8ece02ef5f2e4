//! Deletion-vector tables we write and compact (`deletion-vectors.enabled`, merge-on-write):
//! after every commit the table is compacted (not fully), so compaction marks the rows that
//! level-0 rows supersede in deletion vectors instead of rewriting the files holding them.
//! At every snapshot the model, our deletion-vector read (level 0 skipped, files concatenated
//! with their vectors applied), our merge-on-read (every level merged) and pypaimon give the
//! same rows; Paimon's Java reader reads the latest snapshots the same.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use streamhouse_compaction::{CompactOptions, Compactor};
use streamhouse_format::io::index_manifest::DELETION_VECTORS_INDEX;
use streamhouse_format::io::{Identifier, Table};
use streamhouse_format::options::TableOptions;

use crate::interop_support::{assert_same_rows, pypaimon_read, python, table_dir};
use crate::java_support::{java_bench, java_read, ReadCase};
use crate::scenarios::{self, Scenario};
use crate::support::{scan_rows, write_commit_in_batches, Engine, Model};

/// The table read with `deletion-vectors.merge-on-read = true`: level 0 included, merged.
fn merge_on_read(table: &Table) -> Table {
    let mut raw = table.schema.options.clone();
    raw.insert("deletion-vectors.merge-on-read".into(), "true".into());
    let mut t = table.clone();
    t.options = Arc::new(TableOptions::parse(&raw, true).unwrap());
    t
}

/// Data files with a deletion vector in `snapshot`.
async fn files_with_vectors(table: &Table, snapshot: i64) -> usize {
    let s = table.snapshot(snapshot).await.unwrap();
    table
        .index_files(&s)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.index_type == DELETION_VECTORS_INDEX)
        .map(|e| e.dv_ranges.as_ref().map_or(0, Vec::len))
        .sum()
}

/// Writes `scenario` committing and then compacting each commit; returns the table and, per
/// commit, the snapshot after its compaction with the model's rows then.
async fn write_compacting(
    warehouse: &Path,
    scenario: &Scenario,
) -> (Table, Vec<(i64, Vec<Value>)>) {
    let table = scenario.create(warehouse).await;
    let compactor = Compactor::new(table.clone()).unwrap();
    let mut model = Model::new(&table.schema, scenario.engine.clone());
    let mut after = vec![];
    for (records, per_batch) in &scenario.commits {
        write_commit_in_batches(&table, records, *per_batch).await;
        model.apply(records);
        compactor
            .compact_table(&CompactOptions::default())
            .await
            .unwrap();
        let id = table.latest_snapshot_id().await.unwrap().unwrap();
        after.push((id, model.rows()));
    }
    (table, after)
}

#[tokio::test]
async fn pypaimon_and_java_read_our_deletion_vector_tables() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path();
    let pypaimon = python().is_some();
    let mut java_cases = vec![];
    let mut expected = vec![];
    for (name, engine) in [
        ("db.dv_dedup", Engine::Deduplicate),
        ("db.dv_partial", Engine::PartialUpdate),
    ] {
        let scenario = scenarios::deletion_vectors(name, engine);
        let (table, after) = write_compacting(warehouse, &scenario).await;
        let (last, _) = after.last().unwrap();
        assert!(
            files_with_vectors(&table, *last).await > 0,
            "{name}: compaction wrote no deletion vectors"
        );
        let id = Identifier::parse(name).unwrap();
        for (snapshot, rows) in &after {
            let what = format!("{name} snapshot {snapshot}");
            let ours = scan_rows(&table, Some(*snapshot), None).await;
            assert_same_rows(&ours, rows, &format!("{what}: DV read vs model"));
            let merged = scan_rows(&merge_on_read(&table), Some(*snapshot), None).await;
            assert_same_rows(&merged, rows, &format!("{what}: merge-on-read vs model"));
            if pypaimon {
                let dir = table_dir(warehouse, &id.database, &id.table);
                let theirs = pypaimon_read(dir, Some(*snapshot));
                assert_same_rows(&theirs, rows, &format!("{what}: pypaimon vs model"));
            }
        }
        for (snapshot, rows) in after.iter().rev().take(2) {
            let case = format!("{}_{snapshot}", id.table);
            java_cases.push(ReadCase::new(&case, warehouse, name).snapshot(*snapshot));
            expected.push((case, rows.clone()));
        }
    }
    let Some(bench) = java_bench() else {
        return;
    };
    let java = java_read(&bench, &java_cases);
    for (case, rows) in expected {
        match java.result(&case) {
            Ok(theirs) => assert_same_rows(theirs, &rows, &format!("{case}: Java vs model")),
            Err(e) => panic!("{case}: Java failed: {e}"),
        }
    }
}
