//! Planned scans dealt into parts, the catalog over storage already open, and the Arrow type
//! mapping and column conform step the CLI uses.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType as ArrowType, TimeUnit};
use futures::TryStreamExt;

use crate::*;

async fn table_with_rows(url: &str, rows: i64) -> Table {
    let catalog = Catalog::builder(url).open().unwrap();
    let spec = TableSpec::parse("id BIGINT NOT NULL, item STRING")
        .unwrap()
        .primary_key(["id"])
        .option("bucket", "4");
    let id = Identifier::parse("db.t").unwrap();
    let table = catalog.create_table(&id, spec, false).await.unwrap();
    let table = table.into_table();
    if rows > 0 {
        let ids: ArrayRef = Arc::new(Int64Array::from((0..rows).collect::<Vec<_>>()));
        let items: Vec<String> = (0..rows).map(|i| format!("x{i}")).collect();
        let items: ArrayRef = Arc::new(StringArray::from(items));
        let batch = RecordBatch::try_new(table.arrow_schema(), vec![ids, items]).unwrap();
        let mut w = table.writer().await.unwrap();
        w.write(&batch).await.unwrap();
        w.commit().await.unwrap();
        w.close().await.unwrap();
    }
    table
}

async fn ids(plan: ScanPlan) -> Vec<i64> {
    let batches: Vec<RecordBatch> = plan.execute().await.unwrap().try_collect().await.unwrap();
    let mut out = vec![];
    for b in &batches {
        let col = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        out.extend(col.values().iter().copied());
    }
    out
}

#[tokio::test]
async fn a_plan_dealt_into_parts_reads_every_row_once() {
    let table = table_with_rows("memory://scan-parts", 200).await;
    let scan = table.scan().columns(["id"]).filter("id >= 10");
    let plan = scan.plan().await.unwrap();
    let splits = plan.split_count();
    assert_eq!(splits, 4, "one split per bucket");
    assert!(plan.file_count() >= splits);
    assert_eq!(plan.predicate_text().as_deref(), Some("id >= 10"));
    assert_eq!(table.scan().plan().await.unwrap().predicate_text(), None);

    let parts = plan.clone().partition(3);
    assert_eq!(parts.len(), 3);
    assert_eq!(parts.iter().map(|p| p.split_count()).sum::<usize>(), splits);
    let mut all = vec![];
    for p in parts {
        all.extend(ids(p).await);
    }
    all.sort_unstable();
    assert_eq!(all, (10..200).collect::<Vec<_>>());

    // More parts than splits: one split each; zero parts asked: one part with everything.
    assert_eq!(plan.clone().partition(100).len(), splits);
    let whole = plan.partition(0);
    assert_eq!(whole.len(), 1);
    assert_eq!(whole[0].split_count(), splits);
}

#[tokio::test]
async fn a_table_without_commits_plans_one_empty_part() {
    let table = table_with_rows("memory://scan-parts-empty", 0).await;
    let parts = table.scan().plan().await.unwrap().partition(4);
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].split_count(), 0);
    assert!(ids(parts.into_iter().next().unwrap()).await.is_empty());
}

#[tokio::test]
async fn a_catalog_over_open_storage_sees_the_same_tables() {
    let table = table_with_rows("memory://scan-from-io", 5).await;
    let raw = table.as_format_table();
    let root = io::Path::from(""); // memory:// warehouses are rooted at the store's top
    let catalog = Catalog::from_io(raw.io.clone(), root);
    let ids = catalog.all_tables().await.unwrap();
    assert_eq!(
        ids.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
        ["db.t"]
    );
    let again = catalog.table(&ids[0]).await.unwrap();
    let batches = again.scan().collect().await.unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 5);
}

#[test]
fn arrow_types_map_to_paimon_types() {
    let cases = [
        (ArrowType::Int8, Some(TypeKind::TinyInt)),
        (ArrowType::Int64, Some(TypeKind::BigInt)),
        (ArrowType::Utf8View, Some(TypeKind::VarChar(MAX_LENGTH))),
        (
            ArrowType::LargeBinary,
            Some(TypeKind::VarBinary(MAX_LENGTH)),
        ),
        (
            ArrowType::Decimal128(10, 2),
            Some(TypeKind::Decimal {
                precision: 10,
                scale: 2,
            }),
        ),
        (ArrowType::Decimal128(10, -2), None),
        (
            ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Some(TypeKind::LocalZonedTimestamp(6)),
        ),
        (
            ArrowType::Timestamp(TimeUnit::Second, None),
            Some(TypeKind::Timestamp(0)),
        ),
        (ArrowType::UInt32, None),
    ];
    for (arrow, want) in cases {
        let got = data_type_from_arrow(&arrow);
        assert_eq!(got.as_ref().map(|t| &t.kind), want.as_ref(), "{arrow}");
        assert!(got.is_none_or(|t| t.nullable), "{arrow}");
    }
}

#[tokio::test]
async fn a_column_that_does_not_fit_names_its_row_from_the_offset() {
    let catalog = Catalog::builder("memory://scan-conform").open().unwrap();
    let spec = TableSpec::parse("id BIGINT NOT NULL, t TINYINT")
        .unwrap()
        .primary_key(["id"]);
    let id = Identifier::parse("db.c").unwrap();
    let table = catalog.create_table(&id, spec, false).await.unwrap();
    let schema = table.table().schema();
    let t = schema.field("t").unwrap();
    let key = schema.field("id").unwrap();

    let fits: ArrayRef = Arc::new(Int64Array::from(vec![1, -128, 127]));
    let out = conform_column(schema, t, &fits, "in.parquet", 1).unwrap();
    assert_eq!(out.data_type(), &ArrowType::Int8);

    let too_big: ArrayRef = Arc::new(Int64Array::from(vec![1, 300]));
    let e = conform_column(schema, t, &too_big, "in.parquet", 10).unwrap_err();
    assert!(e.to_string().contains("in.parquet row 11, column t"), "{e}");

    let null_key: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(2), None]));
    let e = conform_column(schema, key, &null_key, "in.parquet", 5).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("in.parquet row 7, column id"), "{text}");
    assert!(text.contains("NOT NULL column id (primary key)"), "{text}");
}
