//! Shared helpers for compaction tests: a small primary-key table (id BIGINT, v STRING),
//! writes with row kinds, and reading a table back into a map.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType as A, Field, Int64Type, Schema};
use streamhouse_format::io::{open_warehouse, table_root, Identifier, Table};
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::parse_columns;
use streamhouse_reader::ScanBuilder;

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
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", A::Int64, false),
            Field::new("v", A::Utf8, true),
        ])),
        vec![
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
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
pub async fn read_map(table: &Table, snapshot: Option<i64>) -> BTreeMap<i64, Option<String>> {
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
