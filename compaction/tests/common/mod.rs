//! Shared helpers for compaction tests: a small primary-key table (id BIGINT, v STRING),
//! writes with row kinds and the model they should read as, compaction and expiration
//! settings, and reading a table (or one of its files) back.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::Int64Type;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use streamhouse_compaction::{CompactOptions, CompactingWriter};
use streamhouse_format::io::commit::now_millis;
use streamhouse_format::io::expire::{expire_snapshots_at, ExpireConfig, ExpireReport};
use streamhouse_format::io::{open_warehouse, table_root, Identifier, Table};
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::parse_columns;
use streamhouse_reader::ScanBuilder;
use streamhouse_writer::TableWriter;

/// What a table should read as: id → v.
pub type Model = BTreeMap<i64, Option<String>>;

/// The table `db.t` in a fresh temporary warehouse (which lives as long as the `TempDir`).
pub async fn temp_table(opts: &[(&str, &str)]) -> (tempfile::TempDir, Table) {
    let dir = tempfile::tempdir().unwrap();
    let table = create_table(dir.path().to_str().unwrap(), "db.t", opts).await;
    (dir, table)
}

/// The table `db.t` in a fresh in-memory warehouse.
pub async fn memory_table(opts: &[(&str, &str)]) -> Table {
    let warehouse = format!("memory://compaction-test-{}", uuid::Uuid::new_v4());
    create_table(&warehouse, "db.t", opts).await
}

pub async fn create_table(warehouse: &str, name: &str, opts: &[(&str, &str)]) -> Table {
    let (io, root) = open_warehouse(warehouse).unwrap();
    let id = Identifier::parse(name).unwrap();
    let schema = TableSchema::new(
        parse_columns("id BIGINT NOT NULL, v STRING").unwrap(),
        vec![],
        vec!["id".into()],
        opts.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        0,
    )
    .unwrap();
    Table::create(io, table_root(&root, &id), name, schema)
        .await
        .unwrap()
}

pub async fn open_table(warehouse: &str, name: &str) -> Table {
    let (io, root) = open_warehouse(warehouse).unwrap();
    let id = Identifier::parse(name).unwrap();
    Table::open(io, table_root(&root, &id), name).await.unwrap()
}

/// A batch of (id, v) rows.
pub fn batch(rows: &[(i64, Option<String>)]) -> RecordBatch {
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0)));
    let vs: ArrayRef = Arc::new(StringArray::from_iter(rows.iter().map(|r| r.1.as_deref())));
    RecordBatch::try_from_iter_with_nullable([("id", ids, false), ("v", vs, true)]).unwrap()
}

/// `n` ops of round `round`: op `i` is on key `key(i)`, a delete when `deleted(i)`, else an
/// upsert of `"{round}-{i}"`.
pub fn round_ops(
    round: i64,
    n: i64,
    key: impl Fn(i64) -> i64,
    deleted: impl Fn(i64) -> bool,
) -> Vec<(i64, Option<String>)> {
    (0..n)
        .map(|i| (key(i), (!deleted(i)).then(|| format!("{round}-{i}"))))
        .collect()
}

/// Applies upserts (Some) and deletes (None) to the model in order (the last op per key wins,
/// as sequence numbers say within one batch).
pub fn apply_ops(model: &mut Model, ops: &[(i64, Option<String>)]) {
    for (k, v) in ops {
        match v {
            Some(v) => model.insert(*k, Some(v.clone())),
            None => model.remove(k),
        };
    }
}

/// Commits upserts (Some) and deletes (None) through a plain table writer.
pub async fn commit_ops<S: AsRef<str>>(table: &Table, ops: &[(i64, Option<S>)]) {
    let ops: Vec<(i64, Option<String>)> = ops
        .iter()
        .map(|(k, v)| (*k, v.as_ref().map(|v| v.as_ref().to_string())))
        .collect();
    let (b, kinds) = ops_batch(&ops);
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    w.write_with_kinds(&b, &kinds).await.unwrap();
    w.commit().await.unwrap();
}

/// Writes and commits upserts (Some) and deletes (None) through an in-writer-compacting
/// writer.
pub async fn commit_compacting(w: &mut CompactingWriter, ops: &[(i64, Option<String>)]) {
    let (b, kinds) = ops_batch(ops);
    w.write_with_kinds(&b, &kinds).await.unwrap();
    w.commit().await.unwrap();
}

/// A full compaction (every bucket into one run at the max level).
pub fn full() -> CompactOptions {
    CompactOptions {
        full: true,
        ..Default::default()
    }
}

/// Expires snapshots by count only (no time retention): at least `retain_min` stay.
pub async fn expire_keeping(table: &Table, retain_min: u64) -> ExpireReport {
    let cfg = ExpireConfig {
        retain_min,
        retain_max: u64::MAX,
        time_retained: Duration::ZERO,
        limit: 1000,
    };
    expire_snapshots_at(table, &cfg, now_millis() + 1000)
        .await
        .unwrap()
}

/// The record batches of data file `name` in `bucket` of the unpartitioned table.
pub async fn read_data_file(table: &Table, bucket: i32, name: &str) -> Vec<RecordBatch> {
    let path = table.bucket_dir("", bucket).join(name);
    let bytes = table.io.read(&path).await.unwrap();
    ParquetRecordBatchReaderBuilder::try_new(bytes)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

/// Upserts (Some) and deletes (None) as one batch with row kinds.
pub fn ops_batch(ops: &[(i64, Option<String>)]) -> (RecordBatch, Vec<RowKind>) {
    let rows: Vec<(i64, Option<String>)> = ops
        .iter()
        .map(|(k, v)| (*k, Some(v.clone().unwrap_or_else(|| "deleted".into()))))
        .collect();
    let kinds = ops
        .iter()
        .map(|(_, v)| match v {
            Some(_) => RowKind::Insert,
            None => RowKind::Delete,
        })
        .collect();
    (batch(&rows), kinds)
}

/// Reads a snapshot (or the latest) into id → v.
pub async fn read_map(table: &Table, snapshot: Option<i64>) -> Model {
    let mut scan = ScanBuilder::new(table);
    if let Some(s) = snapshot {
        scan = scan.snapshot(s);
    }
    let mut out = BTreeMap::new();
    for b in scan.to_batches().await.unwrap() {
        let ids = b.column(0).as_primitive::<Int64Type>();
        let vs = b.column(1).as_string::<i32>();
        for i in 0..b.num_rows() {
            let v = (!vs.is_null(i)).then(|| vs.value(i).to_string());
            assert!(
                out.insert(ids.value(i), v).is_none(),
                "key {} twice",
                ids.value(i)
            );
        }
    }
    out
}

/// Live files of the latest snapshot as (bucket, level, name, rows).
pub async fn live_files(table: &Table) -> Vec<(i32, i32, String, i64)> {
    let Some(s) = table.snapshot_or_latest(None).await.unwrap() else {
        return vec![];
    };
    table
        .all_live_files(&s)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.bucket, e.file.level, e.file.file_name, e.file.row_count))
        .collect()
}
