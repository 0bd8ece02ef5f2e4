//! We read tables pypaimon 2.1.0 wrote: for every scenario of `tests/python/pypaimon_write.py`
//! our `ScanBuilder` returns exactly the rows the script's own model expects (computed from
//! its input, not read back). Plus projections and time travel against pypaimon's own reads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{json, Value};
use streamhouse_format::io::{Identifier, Table};
use streamhouse_reader::ScanBuilder;

use crate::interop_support::{
    assert_same_rows, pypaimon_read, pypaimon_write, table_dir, truncate_to_micros,
    PYPAIMON_SCENARIOS,
};
use crate::support::{inserts, open_table, project, scan_rows, write_commit, Engine, Model};

/// The warehouse holding `db.<scenario>` as pypaimon wrote it, and the rows it must hold.
/// Each scenario is written once per test run (pypaimon is slow to start) into
/// `<CARGO_TARGET_TMPDIR>/pypaimon-<pid>/<scenario>/`; tests only read it (one that writes
/// takes a [`writable_copy`]).
fn pypaimon_warehouse(scenario: &str) -> Option<(PathBuf, Vec<Value>)> {
    type Cell = Arc<OnceLock<(PathBuf, Vec<Value>)>>;
    static CELLS: OnceLock<Mutex<HashMap<String, Cell>>> = OnceLock::new();
    crate::interop_support::python()?;
    let cell = CELLS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(scenario.to_string())
        .or_default()
        .clone();
    let (dir, expected) = cell.get_or_init(|| {
        let dir = run_dir().join(scenario);
        std::fs::create_dir_all(&dir).unwrap();
        let expected = pypaimon_write(&dir, scenario);
        assert!(!expected.is_empty(), "{scenario}: the script expects rows");
        (dir, expected)
    });
    Some((dir.clone(), expected.clone()))
}

/// This run's directory for pypaimon's warehouses; directories of earlier runs (over an hour
/// old) are removed when it is made.
fn run_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let parent = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
            let stale = entry.file_name().to_string_lossy().starts_with("pypaimon-")
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t < hour_ago);
            if stale {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = parent.join(format!("pypaimon-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
    .clone()
}

async fn open(warehouse: &Path, scenario: &str) -> Table {
    open_table(warehouse.to_str().unwrap(), &format!("db.{scenario}"))
        .await
        .unwrap_or_else(|e| panic!("open db.{scenario} written by pypaimon: {e}"))
}

/// pypaimon's table (shared, read only), the table as we open it, and the expected rows.
async fn written_by_pypaimon(scenario: &str) -> Option<(PathBuf, Table, Vec<Value>)> {
    let (dir, expected) = pypaimon_warehouse(scenario)?;
    let table = open(&dir, scenario).await;
    Some((dir, table, expected))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A private copy of pypaimon's table, for tests that write to it.
async fn writable_copy(scenario: &str) -> Option<(tempfile::TempDir, Table, Vec<Value>)> {
    let (dir, expected) = pypaimon_warehouse(scenario)?;
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&dir, copy.path());
    let table = open(copy.path(), scenario).await;
    Some((copy, table, expected))
}

async fn reads_exactly_what_pypaimon_wrote(scenario: &str) -> Option<(PathBuf, Table)> {
    let (dir, table, expected) = written_by_pypaimon(scenario).await?;
    let ids = table.list_snapshot_ids().await.unwrap();
    assert!(
        ids.len() >= 2,
        "{scenario}: pypaimon commits several snapshots: {ids:?}"
    );
    let ours = scan_rows(&table, None, None).await;
    assert_same_rows(
        &ours,
        &expected,
        &format!("db.{scenario}: ScanBuilder vs pypaimon_write"),
    );
    Some((dir, table))
}

/// Our reads of every snapshot but the latest (compared with the expected rows already) equal
/// pypaimon's reads of the same snapshot.
async fn time_travel_agrees_with_pypaimon(dir: &Path, table: &Table) {
    let id = Identifier::parse(&table.name).unwrap();
    let (db, name) = (id.database.as_str(), id.table.as_str());
    let mut ids = table.list_snapshot_ids().await.unwrap();
    ids.pop();
    assert!(!ids.is_empty());
    for id in ids {
        assert_same_rows(
            &scan_rows(table, Some(id), None).await,
            &pypaimon_read(table_dir(dir, db, name), Some(id)),
            &format!("{}: snapshot {id}, ours vs pypaimon", table.name),
        );
    }
}

macro_rules! scenario_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                reads_exactly_what_pypaimon_wrote(stringify!($name)).await;
            }
        )*

        /// Every scenario the harness knows has a test here.
        #[test]
        fn every_scenario_is_covered() {
            let covered = [$(stringify!($name),)* "pk_partitioned", "changelog_input"];
            let mut missing: Vec<&str> = PYPAIMON_SCENARIOS
                .iter()
                .copied()
                .filter(|s| !covered.contains(s))
                .collect();
            missing.sort_unstable();
            assert!(missing.is_empty(), "scenarios without a test: {missing:?}");
        }
    };
}

scenario_tests!(
    append_unaware,
    append_fixed,
    all_types,
    partial_update,
    aggregation,
    sequence_field,
);

#[tokio::test]
async fn pk_partitioned() {
    let Some((dir, table)) = reads_exactly_what_pypaimon_wrote("pk_partitioned").await else {
        return;
    };
    // Partitions and buckets as pypaimon laid them out.
    let latest = table.snapshot_or_latest(None).await.unwrap().unwrap();
    let files = table.all_live_files(&latest).await.unwrap();
    let buckets: std::collections::BTreeSet<i32> = files.iter().map(|e| e.bucket).collect();
    assert!(
        buckets.len() > 1 && buckets.iter().all(|b| (0..3).contains(b)),
        "{buckets:?}"
    );
    time_travel_agrees_with_pypaimon(&dir, &table).await;
}

#[tokio::test]
async fn changelog_input() {
    let Some((_dir, table)) = reads_exactly_what_pypaimon_wrote("changelog_input").await else {
        return;
    };
    // The table also carries changelog files; a batch read ignores them.
    let latest = table.snapshot_or_latest(None).await.unwrap().unwrap();
    assert!(!table.changelog_files(&latest).await.unwrap().is_empty());
}

/// Projections: a reordered subset of the partitioned table's columns, and the nanosecond
/// and decimal columns of the all-types table.
#[tokio::test]
async fn projection_reads() {
    for (scenario, columns) in [
        ("pk_partitioned", &["op", "name", "id"][..]),
        (
            "all_types",
            &["c_ts9", "c_ltz9", "c_decimal_38_18", "id"][..],
        ),
    ] {
        let Some((_dir, table, expected)) = written_by_pypaimon(scenario).await else {
            return;
        };
        assert_same_rows(
            &scan_rows(&table, None, Some(columns)).await,
            &project(&expected, columns),
            &format!("db.{scenario} projected to {columns:?}"),
        );
    }
}

/// pypaimon put every row into the bucket our bucket function computes for its bucket key
/// (`BinaryRow` hash as Java), so our writes to its tables land in the same buckets.
async fn assert_buckets_agree_with_our_hash(dir: &Path, table: &Table) {
    use streamhouse_format::binary_row::BinaryRow;
    use streamhouse_format::bucket::bucket_of;
    use streamhouse_format::datum::datum_from_arrow;

    let num_buckets = table.options.bucket;
    assert!(num_buckets > 0, "{}: fixed buckets", table.name);
    let key_names = if table.options.bucket_key.is_empty() {
        table.schema.trimmed_primary_keys()
    } else {
        table.options.bucket_key.clone()
    };
    let key_types: Vec<_> = table
        .schema
        .fields_named(&key_names)
        .unwrap()
        .into_iter()
        .map(|f| f.data_type)
        .collect();
    let plan = ScanBuilder::new(table).plan().await.unwrap();
    let mut checked = 0;
    for split in &plan.splits {
        for file in &split.files {
            let path = split
                .bucket_dir(table)
                .join(file.file_name.as_str())
                .to_string();
            let reader = ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(dir.join(&path)).unwrap(),
            )
            .unwrap()
            .build()
            .unwrap();
            for batch in reader {
                let batch = batch.unwrap();
                let columns: Vec<_> = key_names
                    .iter()
                    .map(|k| {
                        batch
                            .column_by_name(&format!("_KEY_{k}"))
                            .or_else(|| batch.column_by_name(k))
                            .unwrap_or_else(|| panic!("{path} has no column for key {k}"))
                            .clone()
                    })
                    .collect();
                for row in 0..batch.num_rows() {
                    let datums: Vec<_> = columns
                        .iter()
                        .zip(&key_types)
                        .map(|(c, t)| datum_from_arrow(c.as_ref(), row, t).unwrap())
                        .collect();
                    let hash = BinaryRow::from_datums(&datums, &key_types).hash_code();
                    assert_eq!(
                        bucket_of(hash, num_buckets),
                        split.bucket,
                        "{path}: row {row} with key {datums:?}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 5, "{}: {checked} rows checked", table.name);
}

#[tokio::test]
async fn pypaimon_buckets_agree_with_our_bucket_function() {
    for scenario in ["pk_partitioned", "all_types", "append_fixed"] {
        let Some((dir, table, _)) = written_by_pypaimon(scenario).await else {
            return;
        };
        assert_buckets_agree_with_our_hash(&dir, &table).await;
    }
}

/// Our writer adds a commit to a table pypaimon wrote: rows land in pypaimon's buckets (an
/// updated key must not appear twice), sequence numbers continue after pypaimon's, and both
/// readers see the merged result.
async fn our_commit_on_a_pypaimon_table(
    scenario: &str,
    records: impl FnOnce(&[Value]) -> Vec<(&'static str, Value)>,
    nanos_diverge: bool,
) {
    let Some((dir, table, expected)) = writable_copy(scenario).await else {
        return;
    };
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    model.apply(&inserts(expected.clone()));
    let records = records(&expected);
    let before = table.snapshot_or_latest(None).await.unwrap().unwrap();
    let id = write_commit(&table, &records).await;
    assert_eq!(id, before.id + 1);
    model.apply(&records);
    let expected = model.rows();

    // Per (partition, bucket), our files' sequence numbers come after pypaimon's.
    let older = table.all_live_files(&before).await.unwrap();
    let ours = table
        .delta_entries(&table.snapshot(id).await.unwrap())
        .await
        .unwrap();
    for e in &ours {
        let max_before = older
            .iter()
            .filter(|o| o.partition == e.partition && o.bucket == e.bucket)
            .map(|o| o.file.max_sequence_number)
            .max();
        if let Some(max_before) = max_before {
            assert!(
                e.file.min_sequence_number > max_before,
                "{}: sequence {} after pypaimon's {max_before}",
                e.file.file_name,
                e.file.min_sequence_number
            );
        }
    }

    let what = format!("db.{scenario} + our commit");
    assert_same_rows(
        &scan_rows(&table, None, None).await,
        &expected,
        &format!("{what}, ours"),
    );
    let theirs = pypaimon_read(table_dir(dir.path(), "db", scenario), None);
    if nanos_diverge {
        assert_same_rows(
            &truncate_to_micros(&theirs),
            &truncate_to_micros(&expected),
            &format!("{what}, pypaimon (to microseconds)"),
        );
    } else {
        assert_same_rows(&theirs, &expected, &format!("{what}, pypaimon"));
    }
}

#[tokio::test]
async fn our_updates_and_deletes_on_pypaimons_all_types_table() {
    our_commit_on_a_pypaimon_table(
        "all_types",
        |rows| {
            let row = |id: i64| rows.iter().find(|r| r["id"] == id).unwrap().clone();
            let mut updated = row(1);
            updated["c_string"] = json!("updated by streamhouse");
            updated["c_ts9"] = json!("2030-01-01T00:00:00.000000001");
            updated["c_decimal_38_18"] = Value::Null;
            let mut new_row = row(3);
            new_row["id"] = json!(7);
            vec![
                ("+U", updated),
                ("-D", row(2)),
                ("+I", new_row),
                ("-D", json!({"id": 5})),
            ]
        },
        true,
    )
    .await;
}

#[tokio::test]
async fn our_upserts_on_pypaimons_partitioned_table() {
    // The table has rowkind.field = op: every record is written as +I with op '+I', which
    // means an upsert whichever way the kind is taken.
    our_commit_on_a_pypaimon_table(
        "pk_partitioned",
        |rows| {
            let mut out = vec![];
            for r in rows.iter().filter(|r| r["id"].as_i64().unwrap() % 4 == 1) {
                let mut r = r.clone();
                r["name"] = json!("streamhouse");
                r["amount"] = Value::Null;
                r["op"] = json!("+I");
                out.push(("+I", r));
            }
            let new =
                json!({"dt": "2024-01-05", "id": 1, "name": "new", "amount": 0.5, "op": "+I"});
            out.push(("+I", new));
            out
        },
        false,
    )
    .await;
}
