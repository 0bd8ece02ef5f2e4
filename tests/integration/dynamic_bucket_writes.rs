//! Dynamic-bucket primary-key tables (`bucket = -1`) that we write, with their HASH index
//! files: every key hash of a partition in exactly one bucket's index file, and every written
//! row in the bucket its key hash is in. Java Paimon reads our rows, Flink (Paimon's Java
//! writer, with its own bucket assigner reading our index) keeps writing the table, and we keep
//! writing after it; our scan, get and tail, Java's reader and pypaimon agree with a model of
//! the rows at each step. A second writer whose index view went stale gets a conflict instead
//! of giving a key a second bucket. Compaction of our dynamic-bucket table keeps the index.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use arrow::array::{Array, Int64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{json, Value};
use streamhouse_compaction::BucketOutcome;
use streamhouse_format::binary_row::BinaryRowWriter;
use streamhouse_format::bucket::{decode_hash_index, hash_row};
use streamhouse_format::datum::Datum;
use streamhouse_format::io::index_manifest::HASH_INDEX;
use streamhouse_format::io::Table;
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::ErrorKind;
use streamhouse_reader::incremental::{StartPosition, TailBuilder, TailEvent};
use streamhouse_reader::{lookup, plan};
use streamhouse_writer::TableWriter;

use crate::flink_support::{flink_run, FlinkCase};
use crate::interop_support::{assert_same_rows, pypaimon_read, table_dir};
use crate::java_support::{canonical_rows, java_bench, java_read, ReadCase};
use crate::support::{
    batch_from_rows, compact_fully, create_dt_table, create_id_table, open_table, scan_rows,
};

/// Keys per bucket: small, so a few dozen keys open several buckets.
const TARGET: usize = 8;

fn row(dt: &str, id: i64, v: &str) -> Value {
    json!({"dt": dt, "id": id, "v": v})
}

/// The rows a table must hold, by (dt, id), and every key ever written per partition (a
/// deleted key keeps its place in the index, as in Paimon).
#[derive(Default, Clone)]
struct Model {
    rows: BTreeMap<(String, i64), Value>,
    written: BTreeMap<String, BTreeSet<i64>>,
}

impl Model {
    fn apply(&mut self, records: &[(&str, Value)]) {
        for (kind, r) in records {
            let key = (
                r["dt"].as_str().unwrap().to_string(),
                r["id"].as_i64().unwrap(),
            );
            self.written.entry(key.0.clone()).or_default().insert(key.1);
            match *kind {
                "+I" | "+U" => {
                    self.rows.insert(key, r.clone());
                }
                _ => {
                    self.rows.remove(&key);
                }
            }
        }
    }

    fn rows(&self) -> Vec<Value> {
        self.rows.values().cloned().collect()
    }
}

/// Writes `records` through `writer` (in batches of 7 rows, so routing spans batches) and
/// commits; returns the snapshot id.
async fn commit(writer: &mut TableWriter, records: &[(&str, Value)]) -> i64 {
    let schema = writer.table().schema.clone();
    for chunk in records.chunks(7) {
        let rows: Vec<Value> = chunk.iter().map(|(_, r)| r.clone()).collect();
        let kinds: Vec<RowKind> = chunk
            .iter()
            .map(|(k, _)| RowKind::parse(k).unwrap())
            .collect();
        writer
            .write_with_kinds(&batch_from_rows(&schema, &rows), &kinds)
            .await
            .unwrap();
    }
    let summary = writer.commit().await.unwrap();
    assert_eq!(summary.snapshot_ids.len(), 1, "{summary:?}");
    summary.snapshot_ids[0]
}

fn key_hash(id: i64) -> i32 {
    let mut w = BinaryRowWriter::new(1);
    w.write_i64(0, id);
    hash_row(w.buffer())
}

/// Checks the latest snapshot's HASH index against the table's data files and returns, per
/// partition directory (`dt=a/`), the keys of each bucket's index file.
async fn check_index(
    table: &Table,
    warehouse: &Path,
    what: &str,
) -> BTreeMap<String, BTreeMap<i32, usize>> {
    let snapshot = table.snapshot_or_latest(None).await.unwrap().unwrap();
    // key hash → bucket per partition; each hash in exactly one bucket.
    let mut index: HashMap<String, HashMap<i32, i32>> = HashMap::new();
    let mut sizes: BTreeMap<String, BTreeMap<i32, usize>> = BTreeMap::new();
    for e in table.index_files(&snapshot).await.unwrap() {
        assert_eq!(e.index_type, HASH_INDEX, "{what}: {e:?}");
        let dir = table.partition_dir(&e.partition).unwrap();
        let bytes = std::fs::read(
            table_dir(warehouse, "db", table.name.split('.').nth(1).unwrap())
                .join("index")
                .join(&e.file_name),
        )
        .unwrap();
        assert_eq!(
            e.file_size,
            bytes.len() as i64,
            "{what}: size of {}",
            e.file_name
        );
        let hashes = decode_hash_index(&bytes).unwrap();
        assert_eq!(
            e.row_count,
            hashes.len() as i64,
            "{what}: row count of {}",
            e.file_name
        );
        let part = index.entry(dir.clone()).or_default();
        for h in &hashes {
            if let Some(other) = part.insert(*h, e.bucket) {
                panic!(
                    "{what}: hash {h} of {dir} in buckets {other} and {}",
                    e.bucket
                );
            }
        }
        let previous = sizes
            .entry(dir.clone())
            .or_default()
            .insert(e.bucket, hashes.len());
        assert!(
            previous.is_none(),
            "{what}: two index files for {dir}bucket-{}",
            e.bucket
        );
    }
    // Every key of every live data file is in its bucket's index.
    let plan = plan::plan(table, Some(snapshot.id)).await.unwrap();
    let root = table_dir(warehouse, "db", table.name.split('.').nth(1).unwrap());
    let mut files = 0;
    for split in &plan.splits {
        for f in &split.files {
            let path = root
                .join(&split.partition_path)
                .join(format!("bucket-{}", split.bucket))
                .join(&f.file_name);
            let reader =
                ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
                    .unwrap()
                    .build()
                    .unwrap();
            for batch in reader {
                let batch = batch.unwrap();
                let ids = batch
                    .column_by_name("_KEY_id")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .clone();
                for i in 0..ids.len() {
                    let id = ids.value(i);
                    let bucket = index
                        .get(&split.partition_path)
                        .and_then(|p| p.get(&key_hash(id)));
                    assert_eq!(
                        bucket,
                        Some(&split.bucket),
                        "{what}: key {id} of {}bucket-{} ({}) is indexed in bucket {bucket:?}",
                        split.partition_path,
                        split.bucket,
                        f.file_name
                    );
                }
            }
            files += 1;
        }
    }
    assert!(files > 0, "{what}: no data files");
    sizes
}

/// The model's keys per partition are exactly the index's.
fn assert_index_keys(sizes: &BTreeMap<String, BTreeMap<i32, usize>>, model: &Model, what: &str) {
    let got: BTreeMap<String, usize> = sizes
        .iter()
        .map(|(dir, buckets)| (dir.clone(), buckets.values().sum()))
        .collect();
    let expected: BTreeMap<String, usize> = model
        .written
        .iter()
        .map(|(dt, ids)| (format!("dt={dt}/"), ids.len()))
        .collect();
    assert_eq!(got, expected, "{what}: keys per partition in the index");
}

/// Our tail from snapshot 1, folded by key: the rows the table holds.
async fn tail_rows(table: &Table) -> Vec<Value> {
    let mut tail = TailBuilder::new(table)
        .start(StartPosition::FromSnapshot(1))
        .build()
        .await
        .unwrap();
    let mut rows: BTreeMap<(String, i64), Value> = BTreeMap::new();
    while let Some(event) = tail.next().await.unwrap() {
        if let TailEvent::Changes(changes) = event {
            let batch = changes.with_kind_column("rowkind").unwrap();
            for mut r in canonical_rows(std::slice::from_ref(&batch), &batch.schema()) {
                let kind = r["rowkind"].as_str().unwrap().to_string();
                r.as_object_mut().unwrap().remove("rowkind");
                let key = (
                    r["dt"].as_str().unwrap().to_string(),
                    r["id"].as_i64().unwrap(),
                );
                match kind.as_str() {
                    "+I" | "+U" => rows.insert(key, r),
                    _ => rows.remove(&key),
                };
            }
        }
    }
    rows.into_values().collect()
}

/// Our scan, get (every written key, and absent ones) and tail give the model's rows.
async fn check_ours(table: &Table, model: &Model, what: &str) {
    let expected = model.rows();
    assert_same_rows(
        &scan_rows(table, None, None).await,
        &expected,
        &format!("{what}: our scan"),
    );
    let mut keys: Vec<(String, i64)> = model
        .written
        .iter()
        .flat_map(|(dt, ids)| ids.iter().map(move |id| (dt.clone(), *id)))
        .collect();
    keys.push(("a".into(), 1_000_000));
    keys.push(("zz".into(), 1));
    let datums: Vec<Vec<Datum>> = keys
        .iter()
        .map(|(dt, id)| vec![Datum::String(dt.clone()), Datum::BigInt(*id)])
        .collect();
    let found = lookup::get(table, &datums, None).await.unwrap();
    for (i, key) in keys.iter().enumerate() {
        let got = found
            .row(i)
            .map(|b| canonical_rows(std::slice::from_ref(&b), &b.schema())[0].clone());
        assert_eq!(got.as_ref(), model.rows.get(key), "{what}: get {key:?}");
    }
    assert_same_rows(
        &tail_rows(table).await,
        &expected,
        &format!("{what}: our tail, folded"),
    );
}

fn values(rows: &[Value]) -> String {
    rows.iter()
        .map(|r| {
            format!(
                "('{}', CAST({} AS BIGINT), '{}')",
                r["dt"].as_str().unwrap(),
                r["id"],
                r["v"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test]
async fn java_reads_and_extends_our_dynamic_bucket_table() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path();
    let location = warehouse.to_str().unwrap();
    let table = create_dt_table(
        location,
        "db.dyn",
        "dt STRING, id BIGINT, v STRING",
        &[
            ("bucket", "-1"),
            ("dynamic-bucket.target-row-num", &TARGET.to_string()),
        ],
    )
    .await;
    let mut model = Model::default();
    let mut snapshots = vec![];

    // One writer, two commits: a (30 keys) and b (12 keys), then updates, deletes, new keys
    // (a opens more buckets) and a new partition c.
    let mut writer = TableWriter::new(table.clone()).await.unwrap();
    let mut c1: Vec<(&str, Value)> = (1..=30).map(|id| ("+I", row("a", id, "one"))).collect();
    c1.extend((1..=12).map(|id| ("+I", row("b", id, "one"))));
    model.apply(&c1);
    snapshots.push((commit(&mut writer, &c1).await, model.clone()));
    let mut c2: Vec<(&str, Value)> = (1..=30)
        .step_by(4)
        .map(|id| ("+U", row("a", id, "two")))
        .collect();
    c2.extend([3, 5, 7].map(|id| ("-D", row("b", id, "one"))));
    c2.push(("-D", row("b", 99, "never written")));
    c2.extend((31..=45).map(|id| ("+I", row("a", id, "two"))));
    c2.extend((1..=5).map(|id| ("+I", row("c", id, "two"))));
    model.apply(&c2);
    snapshots.push((commit(&mut writer, &c2).await, model.clone()));
    drop(writer);
    // A new writer loads the index from the table: old keys stay, new keys fill buckets.
    let mut writer = TableWriter::new(table.clone()).await.unwrap();
    let mut c3: Vec<(&str, Value)> = (40..=52).map(|id| ("+I", row("a", id, "three"))).collect();
    c3.extend([1, 2, 4, 20].map(|id| ("+I", row("b", id, "three"))));
    c3.push(("+I", row("b", 5, "back")));
    c3.push(("-D", row("a", 2, "one")));
    model.apply(&c3);
    snapshots.push((commit(&mut writer, &c3).await, model.clone()));
    drop(writer);

    let table = open_table(location, "db.dyn").await.unwrap();
    // A full compaction moves every bucket's files up a level and no key to another bucket:
    // the index stays as it is.
    let index_before = table
        .snapshot_or_latest(None)
        .await
        .unwrap()
        .unwrap()
        .index_manifest;
    let outcomes = compact_fully(&table).await;
    assert!(
        outcomes
            .iter()
            .filter(|o| matches!(o, BucketOutcome::Compacted(_)))
            .count()
            >= 6,
        "{outcomes:?}"
    );
    let latest = table.snapshot_or_latest(None).await.unwrap().unwrap();
    assert_eq!(
        latest.index_manifest, index_before,
        "compaction changed the index"
    );
    let live = table.all_live_files(&latest).await.unwrap();
    assert!(
        live.iter()
            .all(|e| e.file.level > 0 && e.total_buckets == -1),
        "{live:?}"
    );
    let sizes = check_index(&table, warehouse, "after our writes").await;
    assert_index_keys(&sizes, &model, "after our writes");
    let a = &sizes["dt=a/"];
    assert!(a.len() >= 52 / TARGET, "partition a has buckets {a:?}");
    assert!(
        a.values().all(|n| *n <= TARGET),
        "a bucket above the target: {sizes:?}"
    );
    check_ours(&table, &model, "after our writes").await;
    let path = table_dir(warehouse, "db", "dyn");
    if crate::interop_support::python().is_some() {
        assert_same_rows(&pypaimon_read(&path, None), &model.rows(), "pypaimon");
    }

    let Some(bench) = java_bench() else { return };
    let mut cases = vec![ReadCase::new("latest", warehouse, "db.dyn")];
    for (id, _) in &snapshots {
        cases.push(ReadCase::new(&format!("at_{id}"), warehouse, "db.dyn").snapshot(*id));
    }
    let java = java_read(&bench, &cases);
    assert_same_rows(java.rows("latest"), &model.rows(), "Java reads our table");
    for (id, m) in &snapshots {
        assert_same_rows(
            java.rows(&format!("at_{id}")),
            &m.rows(),
            &format!("Java at snapshot {id}"),
        );
    }

    // Flink (Paimon's Java writer and bucket assigner) updates our keys, adds keys and a
    // partition, and deletes a key; then reads the table.
    let mut flink_records: Vec<(&str, Value)> = (1..=52)
        .step_by(5)
        .map(|id| ("+I", row("a", id, "flink")))
        .collect();
    flink_records.extend((53..=70).map(|id| ("+I", row("a", id, "flink"))));
    flink_records.extend([1, 12, 13].map(|id| ("+I", row("b", id, "flink"))));
    flink_records.extend((1..=9).map(|id| ("+I", row("d", id, "flink"))));
    let flink_rows: Vec<Value> = flink_records.iter().map(|(_, r)| r.clone()).collect();
    model.apply(&flink_records);
    let deleted = ("-D", row("c", 3, "two"));
    model.apply(std::slice::from_ref(&deleted));
    let run = flink_run(
        &bench,
        warehouse,
        &[
            FlinkCase::statements(
                "insert",
                false,
                &[&format!(
                    "INSERT INTO db.dyn VALUES {}",
                    values(&flink_rows)
                )],
            ),
            FlinkCase::statements(
                "delete",
                false,
                &["DELETE FROM db.dyn WHERE dt = 'c' AND id = 3"],
            ),
            FlinkCase::batch("read", "SELECT * FROM db.dyn"),
        ],
    );
    run.rows("insert");
    run.rows("delete");
    assert_same_rows(
        run.rows("read"),
        &model.rows(),
        "Flink's read after its writes",
    );
    let table = open_table(location, "db.dyn").await.unwrap();
    let sizes = check_index(&table, warehouse, "after Flink's writes").await;
    assert_index_keys(&sizes, &model, "after Flink's writes");
    check_ours(&table, &model, "after Flink's writes").await;

    // We write on top of Java's index: keys Flink added and new ones.
    let mut writer = TableWriter::new(table.clone()).await.unwrap();
    let mut c5: Vec<(&str, Value)> = (60..=80).map(|id| ("+I", row("a", id, "five"))).collect();
    c5.extend((5..=12).map(|id| ("+I", row("d", id, "five"))));
    c5.push(("-D", row("b", 12, "one")));
    model.apply(&c5);
    commit(&mut writer, &c5).await;
    drop(writer);
    let table = open_table(location, "db.dyn").await.unwrap();
    let sizes = check_index(&table, warehouse, "after our writes on Java's").await;
    assert_index_keys(&sizes, &model, "after our writes on Java's");
    check_ours(&table, &model, "after our writes on Java's").await;
    let java = java_read(&bench, &[ReadCase::new("last", warehouse, "db.dyn")]);
    assert_same_rows(
        java.rows("last"),
        &model.rows(),
        "Java reads our writes on its own",
    );
}

#[tokio::test]
async fn a_writer_with_a_stale_index_gets_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let table = create_dt_table(
        location,
        "db.two",
        "dt STRING, id BIGINT, v STRING",
        &[("bucket", "-1"), ("dynamic-bucket.target-row-num", "4")],
    )
    .await;
    let mut model = Model::default();
    let first: Vec<(&str, Value)> = (1..=6).map(|id| ("+I", row("a", id, "first"))).collect();
    model.apply(&first);
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    commit(&mut w, &first).await;

    // Writer A reads the index (its first batch), then writer B commits new keys of the same
    // partition; A's commit would give its new keys buckets from a stale view.
    let mut a = TableWriter::new(table.clone()).await.unwrap();
    let a_rows = vec![row("a", 7, "from a"), row("a", 8, "from a")];
    a.write(&batch_from_rows(&table.schema, &a_rows))
        .await
        .unwrap();
    let b_records: Vec<(&str, Value)> = (7..=9).map(|id| ("+I", row("a", id, "from b"))).collect();
    model.apply(&b_records);
    let mut b = TableWriter::new(table.clone()).await.unwrap();
    commit(&mut b, &b_records).await;
    let e = a.commit().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.to_string().contains("dynamic-bucket index"), "{e}");

    // The table holds B's rows, each key once, and A can write again after the conflict.
    let table = open_table(location, "db.two").await.unwrap();
    check_ours(&table, &model, "after the conflict").await;
    let again: Vec<(&str, Value)> = vec![
        ("+I", row("a", 8, "a again")),
        ("+I", row("a", 10, "a again")),
    ];
    model.apply(&again);
    commit(&mut a, &again).await;
    let table = open_table(location, "db.two").await.unwrap();
    let sizes = check_index(&table, dir.path(), "after the retry").await;
    assert_index_keys(&sizes, &model, "after the retry");
    check_ours(&table, &model, "after the retry").await;
}

#[tokio::test]
async fn cross_partition_and_postpone_writes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    // The primary key lacks the partition column: Java needs a global index to write it.
    let cross = create_dt_table(
        location,
        "db.cross",
        "dt STRING, id BIGINT, v STRING",
        &[("bucket", "-1")],
    )
    .await;
    let mut schema = (*cross.schema).clone();
    schema.primary_keys = vec!["id".into()];
    let cross = Table {
        schema: std::sync::Arc::new(schema),
        ..cross
    };
    let e = TableWriter::new(cross).await.err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains("partition column dt"), "{e}");
    let postpone = create_id_table(
        location,
        "db.postpone",
        "id BIGINT, v STRING",
        &[("bucket", "-2")],
    )
    .await;
    let e = TableWriter::new(postpone).await.err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
}
