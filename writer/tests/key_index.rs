//! The key index the writer leaves in primary-key data files for lookups (spec/lookup.md):
//! Parquet bloom filters on the `_KEY_*` columns, a column index and an offset index for every
//! column, and small data pages.

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType as A, Field, Schema};
use bytes::Bytes;
use parquet::file::reader::FileReader;
use streamhouse_format::io::Table;
use streamhouse_writer::file_writer::PAGE_ROWS;
use streamhouse_writer::TableWriter;

use crate::support::{reader_with_indexes, Spec};

async fn create(pk: &[&str]) -> Table {
    Spec::new("id BIGINT NOT NULL, name STRING NOT NULL, v STRING")
        .key(pk)
        .options(&[("bucket", "1")])
        .create()
        .await
}

fn rows(n: i64) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", A::Int64, false),
            Field::new("name", A::Utf8, false),
            Field::new("v", A::Utf8, true),
        ])),
        vec![
            Arc::new(Int64Array::from((0..n).map(|i| i * 3).collect::<Vec<_>>())),
            Arc::new(StringArray::from(
                (0..n).map(|i| format!("name-{i}")).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                (0..n).map(|i| format!("value {i:040}")).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

async fn only_data_file(table: &Table) -> Bytes {
    let snapshot = table.snapshot_or_latest(None).await.unwrap().unwrap();
    let files = table.all_live_files(&snapshot).await.unwrap();
    assert_eq!(files.len(), 1);
    let f = &files[0];
    let path = table
        .bucket_dir("", f.bucket)
        .join(f.file.file_name.as_str());
    table.io.read(&path).await.unwrap()
}

#[tokio::test]
async fn key_columns_get_bloom_filters_and_every_column_a_page_index() {
    let table = create(&["id", "name"]).await;
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    let n = 5000;
    w.write(&rows(n)).await.unwrap();
    w.commit().await.unwrap();
    let bytes = only_data_file(&table).await;

    let reader = reader_with_indexes(bytes);
    let meta = reader.metadata();
    let columns: Vec<String> = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(
        columns,
        [
            "_KEY_id",
            "_KEY_name",
            "_SEQUENCE_NUMBER",
            "_VALUE_KIND",
            "id",
            "name",
            "v"
        ]
    );
    let column_index = meta.column_index().expect("a column index");
    let offset_index = meta.offset_index().expect("an offset index");
    for rg in 0..meta.num_row_groups() {
        let rg_reader = reader.get_row_group(rg).unwrap();
        for (c, name) in columns.iter().enumerate() {
            let pages = offset_index[rg][c].page_locations();
            assert!(!pages.is_empty(), "{name} has an offset index");
            assert_eq!(column_index[rg][c].num_pages() as usize, pages.len());
            // Pages end every PAGE_ROWS rows, or earlier (a dictionary falling back to plain
            // ends a page mid-batch), so no page holds more than twice that.
            let rows = meta.row_group(rg).num_rows();
            for (i, p) in pages.iter().enumerate() {
                let end = pages.get(i + 1).map_or(rows, |q| q.first_row_index);
                assert!(
                    end - p.first_row_index <= 2 * PAGE_ROWS as i64,
                    "{name} page {i}: pages start at {:?}",
                    pages.iter().map(|p| p.first_row_index).collect::<Vec<_>>()
                );
            }
            let bloom = rg_reader.get_column_bloom_filter(c);
            assert_eq!(
                bloom.is_some(),
                name.starts_with("_KEY_"),
                "bloom filter on {name}"
            );
        }
        let ids = rg_reader.get_column_bloom_filter(0).unwrap();
        let names = rg_reader.get_column_bloom_filter(1).unwrap();
        for i in 0..n {
            assert!(ids.check(&(i * 3)), "id {} is in the bloom filter", i * 3);
            assert!(names.check(format!("name-{i}").as_str()));
        }
        let false_hits = (0..n).filter(|i| ids.check(&(i * 3 + 1))).count();
        assert!(false_hits < n as usize / 20, "{false_hits} false positives");
        // Key columns are not dictionary encoded (unique values per file).
        let key_chunk = meta.row_group(rg).column(0);
        assert!(key_chunk.dictionary_page_offset().is_none());
    }
}
