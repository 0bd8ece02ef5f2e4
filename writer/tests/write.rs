//! Writer behaviour checked on the files and metadata it produces.

use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType as A, Field, Schema};
use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::snapshot::CommitKind;
use streamhouse_format::types::TypeKind;
use streamhouse_writer::TableWriter;

use crate::support::Spec;

fn batch(ids: &[i64], names: &[&str], prices: &[f64]) -> RecordBatch {
    batch_of(
        ids.to_vec().into(),
        names.to_vec().into(),
        prices.to_vec().into(),
    )
}

/// A batch of `id BIGINT NOT NULL, name STRING, price DOUBLE`.
fn batch_of(ids: Int64Array, names: StringArray, prices: Float64Array) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", A::Int64, false),
            Field::new("name", A::Utf8, true),
            Field::new("price", A::Float64, true),
        ])),
        vec![Arc::new(ids), Arc::new(names), Arc::new(prices)],
    )
    .unwrap()
}

#[tokio::test]
async fn primary_key_files_are_sorted_folded_and_sequenced() {
    let dir = std::env::var("STREAMHOUSE_KEEP_DIR").unwrap_or_else(|_| {
        tempfile::tempdir()
            .unwrap()
            .keep()
            .to_str()
            .unwrap()
            .to_string()
    });
    let table = Spec::new("id BIGINT, name STRING, price DOUBLE")
        .key(&["id"])
        .options(&[("bucket", "2")])
        .create_in(&dir)
        .await;
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    w.write(&batch(
        &[5, 3, 1, 3],
        &["e", "c", "a", "c2"],
        &[5.0, 3.0, 1.0, 3.5],
    ))
    .await
    .unwrap();
    let s1 = w.commit().await.unwrap();
    assert_eq!(s1.snapshot_ids, vec![1]);
    assert_eq!(s1.rows, 4);

    // A second process continues the sequence numbers of each bucket.
    let mut w2 = TableWriter::new(table.clone()).await.unwrap();
    w2.write_with_kinds(
        &batch(&[1, 5], &["a", "e2"], &[1.0, 6.0]),
        &[RowKind::Delete, RowKind::UpdateAfter],
    )
    .await
    .unwrap();
    let s2 = w2.commit().await.unwrap();
    assert_eq!(s2.snapshot_ids, vec![2]);

    let snap = table.snapshot(2).await.unwrap();
    assert_eq!(snap.commit_kind, CommitKind::Append);
    let files = table.all_live_files(&snap).await.unwrap();
    let key_ty = vec![streamhouse_format::types::DataType::not_null(
        TypeKind::BigInt,
    )];
    // Keys {1,3,5} in first commit: 3 rows after folding (3 appeared twice).
    let first = table
        .delta_entries(&table.snapshot(1).await.unwrap())
        .await
        .unwrap();
    assert_eq!(first.iter().map(|e| e.file.row_count).sum::<i64>(), 3);
    let second = table.delta_entries(&snap).await.unwrap();
    // Per bucket, the second writer continues after the first writer's highest number.
    for e in &second {
        let prev = first
            .iter()
            .filter(|f| f.bucket == e.bucket)
            .map(|f| f.file.max_sequence_number)
            .max();
        assert_eq!(e.file.min_sequence_number, prev.map_or(0, |p| p + 1));
    }
    assert_eq!(snap.total_record_count, Some(5));
    for e in &files {
        assert!(e.bucket == 0 || e.bucket == 1);
        assert_eq!(e.total_buckets, 2);
        let min = BinaryRow::deserialize(&e.file.min_key)
            .unwrap()
            .to_datums(&key_ty)
            .unwrap();
        let max = BinaryRow::deserialize(&e.file.max_key)
            .unwrap()
            .to_datums(&key_ty)
            .unwrap();
        assert!(min[0]
            .as_ref()
            .unwrap()
            .cmp_same_type(max[0].as_ref().unwrap())
            .is_le());
        if second.iter().any(|s| s.file.file_name == e.file.file_name) {
            // Second commit: a delete of key 1 counts as a delete row.
            let has_one = min[0] == Some(streamhouse_format::datum::Datum::BigInt(1));
            assert_eq!(e.file.delete_row_count, Some(if has_one { 1 } else { 0 }));
        }
    }
    let seqs: Vec<(i64, i64)> = files
        .iter()
        .map(|e| (e.file.min_sequence_number, e.file.max_sequence_number))
        .collect();
    assert!(seqs.iter().all(|(lo, hi)| lo <= hi));
    // Bucket assignment matches the reference hash: BIGINT 1 → bucket 0, 3 → 1, 5 → ?
    let bucket_of_1 = files.iter().find(|e| {
        BinaryRow::deserialize(&e.file.min_key)
            .unwrap()
            .to_datums(&key_ty)
            .unwrap()[0]
            == Some(streamhouse_format::datum::Datum::BigInt(1))
    });
    assert_eq!(bucket_of_1.map(|e| e.bucket), Some(0));
}

#[tokio::test]
async fn a_write_that_fails_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let table = Spec::new("id BIGINT, name STRING, price DOUBLE")
        .key(&["id"])
        .options(&[("bucket", "1")])
        .create_in(dir.path().to_str().unwrap())
        .await;
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    w.write(&batch(&[1], &["a"], &[1.0])).await.unwrap();
    let bad = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("id", A::Int64, true)])),
        vec![Arc::new(Int64Array::from(vec![Some(2), None]))],
    )
    .unwrap();
    let e = w.write(&bad).await.unwrap_err().to_string();
    assert!(e.contains("row 2") && e.contains("primary key"), "{e}");
    w.abort().await.unwrap();
    assert_eq!(table.latest_snapshot_id().await.unwrap(), None);
}

#[tokio::test]
async fn partial_update_and_aggregation_fold_to_one_row_per_key() {
    use arrow::array::AsArray;
    use arrow::datatypes::{Float64Type, Int64Type};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    for (engine, expect_name, expect_price) in [
        ("partial-update", Some("b"), 2.0),
        ("aggregation", Some("b"), 6.0),
    ] {
        let name = format!("db.{}", engine.replace('-', "_"));
        let mut opts = vec![("bucket", "1"), ("merge-engine", engine)];
        if engine == "aggregation" {
            opts.push(("fields.price.aggregate-function", "sum"));
        }
        let table = Spec::new("id BIGINT, name STRING, price DOUBLE")
            .named(&name)
            .key(&["id"])
            .options(&opts)
            .create_in(path)
            .await;
        let mut w = TableWriter::new(table.clone()).await.unwrap();
        let b = batch_of(
            vec![1, 1, 1, 2].into(),
            vec![Some("a"), None, Some("b"), Some("z")].into(),
            vec![Some(1.0), Some(3.0), Some(2.0), None].into(),
        );
        w.write(&b).await.unwrap();
        w.commit().await.unwrap();
        let snap = table.snapshot(1).await.unwrap();
        let files = table.all_live_files(&snap).await.unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].file.row_count, 2, "{engine}: one row per key");
        let local = dir.path().join(format!(
            "db.db/{}/bucket-0/{}",
            name.split('.').nth(1).unwrap(),
            files[0].file.file_name
        ));
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(local).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap();
        let batch = reader.into_iter().next().unwrap().unwrap();
        assert_eq!(
            batch
                .column_by_name("id")
                .unwrap()
                .as_primitive::<Int64Type>()
                .value(0),
            1
        );
        assert_eq!(
            batch
                .column_by_name("name")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            expect_name.unwrap()
        );
        assert_eq!(
            batch
                .column_by_name("price")
                .unwrap()
                .as_primitive::<Float64Type>()
                .value(0),
            expect_price,
            "{engine}"
        );
        // The merged row keeps the newest sequence number of its key.
        assert_eq!(
            batch
                .column_by_name("_SEQUENCE_NUMBER")
                .unwrap()
                .as_primitive::<Int64Type>()
                .value(0),
            2
        );
    }
}

/// The library's writer runs the same conform step as the CLI: a ROW field is matched by name,
/// so `{a, c}` written to `ROW<a, b>` is an error naming `c`, and nothing is committed.
#[tokio::test]
async fn nested_fields_are_matched_by_name_in_the_library_writer() {
    use arrow::array::{Int32Array, StructArray};
    use arrow::datatypes::Fields;
    let dir = tempfile::tempdir().unwrap();
    let table = Spec::new("id BIGINT, r ROW<a INT, b STRING>")
        .named("db.nested")
        .key(&["id"])
        .options(&[("bucket", "1")])
        .create_in(dir.path().to_str().unwrap())
        .await;
    let fields = Fields::from(vec![
        Field::new("a", A::Int32, true),
        Field::new("c", A::Utf8, true),
    ]);
    let r = StructArray::new(
        fields.clone(),
        vec![
            Arc::new(Int32Array::from(vec![1])),
            Arc::new(StringArray::from(vec!["x"])),
        ],
        None,
    );
    let bad = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", A::Int64, false),
            Field::new("r", A::Struct(fields), true),
        ])),
        vec![Arc::new(Int64Array::from(vec![1])), Arc::new(r)],
    )
    .unwrap();
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    let e = w.write(&bad).await.unwrap_err().to_string();
    assert!(e.contains("unknown field \"c\" in r"), "{e}");
    w.abort().await.unwrap();
    assert_eq!(table.latest_snapshot_id().await.unwrap(), None);
}
