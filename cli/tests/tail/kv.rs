//! The key-value table the feed tests build through the library API: `db.t` with
//! `id BIGINT NOT NULL` (the primary key) and `v STRING`, written a commit at a time with row
//! kinds, compacted when the test says so, and its feed read back.

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use futures::TryStreamExt;
use streamhouse::{
    Catalog, ChangeBatch, Identifier, RowKind, StartPosition, Table, TableSpec, Writer,
};

/// One input record: (kind, id, v).
pub type Record<'a> = (RowKind, i64, Option<&'a str>);

/// Creates `db.t` in the warehouse at `location` with `options`. The table is `write-only`:
/// only the compactions a test runs itself ([`compact`]) compact it.
pub async fn create(location: &str, options: &[(&str, &str)]) -> Table {
    let catalog = Catalog::builder(location).open().expect("warehouse");
    let mut spec = TableSpec::parse("id BIGINT NOT NULL, v STRING")
        .expect("columns")
        .primary_key(["id"])
        .option("write-only", "true");
    for (k, v) in options {
        spec = spec.option(*k, *v);
    }
    let id = Identifier::parse("db.t").expect("db.t");
    catalog
        .create_table(&id, spec, false)
        .await
        .expect("create db.t")
        .into_table()
}

/// Writes `records` and commits them as one snapshot; returns the snapshot ids.
pub async fn commit(w: &mut Writer, table: &Table, records: &[Record<'_>]) -> Vec<i64> {
    let ids: Vec<i64> = records.iter().map(|r| r.1).collect();
    let vs: Vec<Option<&str>> = records.iter().map(|r| r.2).collect();
    let kinds: Vec<RowKind> = records.iter().map(|r| r.0).collect();
    let batch = RecordBatch::try_new(
        table.arrow_schema(),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(vs)),
        ],
    )
    .expect("batch");
    w.write_with_kinds(&batch, &kinds).await.expect("write");
    w.commit().await.expect("commit").snapshot_ids
}

/// One compaction of the whole table (`full`: into one sorted run per bucket).
pub async fn compact(table: &Table, full: bool) {
    table
        .compact()
        .full(full)
        .run_once()
        .await
        .expect("compaction");
}

/// The table's changes from `start` to the latest snapshot.
pub async fn changes(table: &Table, start: StartPosition) -> Vec<ChangeBatch> {
    table
        .tail()
        .from(start)
        .changes()
        .await
        .expect("tail")
        .try_collect()
        .await
        .expect("changes")
}
