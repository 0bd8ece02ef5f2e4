//! Test helpers: tables in an in-memory warehouse, hand-written primary-key and append data
//! files (Java's physical layout), commits through the format crate's committer.

#![allow(dead_code)]

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, Int8Array, RecordBatch};
use arrow::datatypes::{DataType as ArrowType, Field, Schema};
use parquet::arrow::ArrowWriter;
use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::datum::datum_from_arrow;
use streamhouse_format::io::{
    open_warehouse, table_root, CommitMessage, Committer, Identifier, Table,
};
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::parse_columns;
use streamhouse_reader::scan_stats::{ScanMetrics, ScanStats};
use streamhouse_reader::ScanBuilder;

/// A small deterministic PRNG (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Creates table `db.t` in a fresh in-memory warehouse.
pub async fn table(
    columns: &str,
    partition: &[&str],
    pk: &[&str],
    options: &[(&str, &str)],
) -> Table {
    let warehouse = format!("memory://reader-test-{}", uuid::Uuid::new_v4());
    create_table(&warehouse, "db.t", columns, partition, pk, options).await
}

/// Creates unpartitioned table `name` (`db.t`) in a fresh temporary directory, which lives as
/// long as the `TempDir`.
pub async fn temp_table(
    name: &str,
    columns: &str,
    pk: &[&str],
    options: &[(&str, &str)],
) -> (Table, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().to_str().unwrap();
    let table = create_table(warehouse, name, columns, &[], pk, options).await;
    (table, dir)
}

/// Creates table `name` (`db.t`) in `warehouse` (a path or URL): `columns` as
/// `name TYPE, ...`, partition and primary-key columns, and options.
pub async fn create_table(
    warehouse: &str,
    name: &str,
    columns: &str,
    partition: &[&str],
    pk: &[&str],
    options: &[(&str, &str)],
) -> Table {
    let (io, root) = open_warehouse(warehouse).unwrap();
    let strings = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
    let schema = TableSchema::new(
        parse_columns(columns).unwrap(),
        strings(partition),
        strings(pk),
        options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        0,
    )
    .unwrap();
    let id = Identifier::parse(name).unwrap();
    Table::create(io, table_root(&root, &id), name, schema)
        .await
        .unwrap()
}

fn key_row(table: &Table, batch: &RecordBatch, row: usize) -> Vec<u8> {
    let schema = &table.schema;
    let keys = schema.trimmed_primary_keys();
    let mut vals = vec![];
    let mut types = vec![];
    for k in &keys {
        let i = schema.field_index(k).unwrap();
        let ty = schema.fields[i].data_type.clone();
        vals.push(datum_from_arrow(batch.column(i).as_ref(), row, &ty).unwrap());
        types.push(ty);
    }
    BinaryRow::from_datums(&vals, &types).serialize()
}

/// Writes a primary-key data file (`_KEY_*`, `_SEQUENCE_NUMBER`, `_VALUE_KIND`, values) of
/// `values` (all table columns, sorted by key) into bucket 0 of the unpartitioned table.
pub async fn write_pk_file(
    table: &Table,
    values: &RecordBatch,
    seqs: &[i64],
    kinds: &[i8],
    level: i32,
) -> DataFileMeta {
    let schema = &table.schema;
    let mut fields: Vec<Field> = vec![];
    let mut cols: Vec<ArrayRef> = vec![];
    for k in schema.trimmed_primary_keys() {
        let i = schema.field_index(&k).unwrap();
        fields.push(Field::new(
            format!("_KEY_{k}"),
            values.column(i).data_type().clone(),
            false,
        ));
        cols.push(values.column(i).clone());
    }
    fields.push(Field::new("_SEQUENCE_NUMBER", ArrowType::Int64, false));
    cols.push(Arc::new(Int64Array::from(seqs.to_vec())));
    fields.push(Field::new("_VALUE_KIND", ArrowType::Int8, false));
    cols.push(Arc::new(Int8Array::from(kinds.to_vec())));
    for (f, c) in schema.fields.iter().zip(values.columns()) {
        fields.push(Field::new(f.name.clone(), c.data_type().clone(), true));
        cols.push(c.clone());
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
    let n = values.num_rows();
    let (min_key, max_key) = if n > 0 {
        (key_row(table, values, 0), key_row(table, values, n - 1))
    } else {
        (
            BinaryRow::empty().serialize(),
            BinaryRow::empty().serialize(),
        )
    };
    let mut meta = write_file(table, &batch, level).await;
    meta.min_key = min_key;
    meta.max_key = max_key;
    meta.min_sequence_number = seqs.iter().copied().min().unwrap_or(0);
    meta.max_sequence_number = seqs.iter().copied().max().unwrap_or(0);
    meta.delete_row_count = Some(kinds.iter().filter(|k| **k == 1 || **k == 3).count() as i64);
    meta
}

/// Writes `batch` as a Parquet file into bucket 0 and describes it.
pub async fn write_file(table: &Table, batch: &RecordBatch, level: i32) -> DataFileMeta {
    write_file_at(table, "", batch, level).await
}

/// Writes `batch` as a Parquet file into bucket 0 of a partition directory (`k=v/`).
pub async fn write_file_at(
    table: &Table,
    partition_path: &str,
    batch: &RecordBatch,
    level: i32,
) -> DataFileMeta {
    let mut buf = vec![];
    {
        let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
        w.write(batch).unwrap();
        w.close().unwrap();
    }
    let name = format!("data-{}-0.parquet", uuid::Uuid::new_v4());
    let path = table.bucket_dir(partition_path, 0).join(name.as_str());
    let size = buf.len() as i64;
    table.io.write(&path, buf).await.unwrap();
    DataFileMeta {
        schema_id: table.schema.id,
        level,
        ..DataFileMeta::new(name, size, batch.num_rows() as i64)
    }
}

/// Commits files of bucket 0 (unpartitioned) as one APPEND snapshot.
pub async fn commit(table: &Table, files: Vec<DataFileMeta>) {
    commit_to(table, BinaryRow::empty().serialize(), files).await
}

/// Commits files of bucket 0 of a partition (serialized BinaryRow) as one APPEND snapshot.
pub async fn commit_to(table: &Table, partition: Vec<u8>, files: Vec<DataFileMeta>) {
    let c = Committer::new(table.clone(), "reader-test").unwrap();
    let msg = CommitMessage {
        partition,
        bucket: 0,
        total_buckets: 1,
        new_files: files,
        ..Default::default()
    };
    c.commit(&[msg], i64::MAX).await.unwrap();
}

/// Commits `messages` as one snapshot of `user` (commit identifier 0).
pub async fn commit_messages(table: &Table, user: &str, messages: &[CommitMessage]) {
    let c = Committer::new(table.clone(), user).unwrap();
    c.commit(messages, 0).await.unwrap();
}

/// Runs a scan counting what it reads: its batches, their rows and its statistics.
pub async fn scan_measured(scan: ScanBuilder) -> (Vec<RecordBatch>, usize, ScanStats) {
    let m = Arc::new(ScanMetrics::default());
    let batches = scan.metrics(m.clone()).to_batches().await.unwrap();
    let rows = batches.iter().map(|b| b.num_rows()).sum();
    (batches, rows, m.snapshot())
}

/// All values of the first column of a batch list as i64 (for quick checks).
pub fn column_i64(batches: &[RecordBatch], col: usize) -> Vec<Option<i64>> {
    let mut out = vec![];
    for b in batches {
        let c = arrow::compute::cast(b.column(col), &ArrowType::Int64).unwrap();
        let c = c.as_any().downcast_ref::<Int64Array>().unwrap();
        out.extend((0..c.len()).map(|i| c.is_valid(i).then(|| c.value(i))));
    }
    out
}
