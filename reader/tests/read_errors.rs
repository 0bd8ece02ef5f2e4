//! Append tables, partition directories, and the errors a scan reports for missing or corrupt
//! files (each naming the file).

use crate::common;

use std::sync::Arc;

use arrow::array::{AsArray, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::Int32Type;
use common::{commit, commit_to, table, write_file, write_file_at};
use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::datum::Datum;
use streamhouse_format::types::DataType;
use streamhouse_format::Error;
use streamhouse_reader::ScanBuilder;

fn batch(t: &streamhouse_format::io::Table, dt: &str, ids: &[i32]) -> RecordBatch {
    RecordBatch::try_new(
        t.schema.arrow_schema(),
        vec![
            Arc::new(StringArray::from(vec![dt; ids.len()])),
            Arc::new(Int32Array::from(ids.to_vec())),
        ],
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_files_in_partition_directories() {
    let t = table("dt STRING, id INT", &["dt"], &[], &[]).await;
    for (dt, dir, ids) in [
        ("2024-01-01", "dt=2024-01-01/", vec![1, 2]),
        ("a/b c", "dt=a%2Fb c/", vec![3]),
    ] {
        let f1 = write_file_at(&t, dir, &batch(&t, dt, &ids), 0).await;
        let f2 = write_file_at(&t, dir, &batch(&t, dt, &[10]), 0).await;
        let part = BinaryRow::from_datums(&[Some(Datum::String(dt.into()))], &[DataType::string()])
            .serialize();
        commit_to(&t, part, vec![f1, f2]).await;
    }
    let plan = ScanBuilder::new(&t).plan().await.unwrap();
    assert_eq!(plan.splits.len(), 2);
    assert_eq!(plan.splits[1].partition_path, "dt=a%2Fb c/");
    let batches = ScanBuilder::new(&t)
        .projection(vec!["id".into()])
        .to_batches()
        .await
        .unwrap();
    let ids: Vec<i32> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int32Type>().values().to_vec())
        .collect();
    // Files in manifest order, splits in plan order.
    assert_eq!(ids, vec![1, 2, 10, 3, 10]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_corrupt_data_files_are_named() {
    let t = table("dt STRING, id INT", &[], &[], &[]).await;
    let f = write_file(&t, &batch(&t, "x", &[1]), 0).await;
    let name = f.file_name.clone();
    commit(&t, vec![f]).await;
    let path = t.bucket_dir("", 0).join(name.as_str());

    t.io.write(&path, b"PAR1 definitely not parquet PAR1".to_vec())
        .await
        .unwrap();
    let e = ScanBuilder::new(&t).to_batches().await.unwrap_err();
    assert!(
        matches!(e, Error::Corrupt { .. }) && e.to_string().contains(&name),
        "{e}"
    );

    t.io.delete(&path).await.unwrap();
    let e = ScanBuilder::new(&t).to_batches().await.unwrap_err();
    assert!(e.to_string().contains(&name), "{e}");
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orc_and_avro_data_files_are_decoded_as_such_and_other_formats_unsupported() {
    // A Parquet file named .orc / .avro is read as ORC / Avro: a corrupt-file error naming it.
    for ext in ["orc", "avro"] {
        let t = table("dt STRING, id INT", &[], &[], &[]).await;
        let mut f = write_file(&t, &batch(&t, "x", &[1]), 0).await;
        let parquet = t.bucket_dir("", 0).join(f.file_name.as_str());
        f.file_name = f.file_name.replace(".parquet", &format!(".{ext}"));
        let renamed = t.bucket_dir("", 0).join(f.file_name.as_str());
        let bytes = t.io.read(&parquet).await.unwrap();
        t.io.write(&renamed, bytes).await.unwrap();
        commit(&t, vec![f]).await;
        let e = ScanBuilder::new(&t).to_batches().await.unwrap_err();
        assert!(
            matches!(e, Error::Corrupt { .. })
                && e.to_string().contains(&format!(".{ext}"))
                && e.to_string()
                    .to_ascii_lowercase()
                    .contains(&format!("not a readable {ext} file")),
            "{e}"
        );
    }
    let t = table("dt STRING, id INT", &[], &[], &[]).await;
    let mut f = write_file(&t, &batch(&t, "x", &[1]), 0).await;
    f.file_name = f.file_name.replace(".parquet", ".lance");
    commit(&t, vec![f]).await;
    let e = ScanBuilder::new(&t).to_batches().await.unwrap_err();
    assert!(
        matches!(e, Error::Unsupported(_))
            && e.to_string().contains(".lance")
            && e.to_string().contains("LANCE"),
        "{e}"
    );
}
