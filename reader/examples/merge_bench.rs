//! Merge-read benchmark: `cargo run --release -p streamhouse-reader --example merge_bench
//! [runs] [rows_per_run] [key_space]`.
//!
//! Writes `runs` overlapping level-0 files of a primary-key table (BIGINT key, BIGINT, STRING,
//! DOUBLE values) into a temporary local warehouse, then times (a) a merge read through
//! `ScanBuilder` and (b) a raw read of the same Parquet files with arrow-rs as the baseline.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Float64Array, Int64Array, Int8Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType as ArrowType, Field, Schema};
use futures::TryStreamExt;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::datum::Datum;
use streamhouse_format::io::{open_warehouse, CommitMessage, Committer, Table};
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::{parse_columns, DataType, TypeKind};
use streamhouse_reader::ScanBuilder;

/// User + system CPU seconds of this process (Linux), to see through a busy machine.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
}

fn key_bytes(k: i64) -> Vec<u8> {
    BinaryRow::from_datums(
        &[Some(Datum::BigInt(k))],
        &[DataType::not_null(TypeKind::BigInt)],
    )
    .serialize()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let runs = *args.first().unwrap_or(&25) as usize;
    let per_run = *args.get(1).unwrap_or(&100_000) as usize;
    let key_space = *args.get(2).unwrap_or(&(per_run as u64 * runs as u64 / 2));

    let dir = tempfile::tempdir().expect("tempdir");
    let (io, root) = open_warehouse(dir.path().to_str().expect("utf8 path")).expect("warehouse");
    let schema = TableSchema::new(
        parse_columns("k BIGINT, a BIGINT, b STRING, c DOUBLE").expect("columns"),
        vec![],
        vec!["k".into()],
        [("bucket".to_string(), "1".to_string())]
            .into_iter()
            .collect(),
        0,
    )
    .expect("schema");
    let table = Table::create(io, root.join("db.db").join("t"), "db.t", schema)
        .await
        .expect("create");

    let mut rng = Rng(0x1234_5678_9abc_def1);
    let file_schema = Arc::new(Schema::new(vec![
        Field::new("_KEY_k", ArrowType::Int64, false),
        Field::new("_SEQUENCE_NUMBER", ArrowType::Int64, false),
        Field::new("_VALUE_KIND", ArrowType::Int8, false),
        Field::new("k", ArrowType::Int64, false),
        Field::new("a", ArrowType::Int64, true),
        Field::new("b", ArrowType::Utf8, true),
        Field::new("c", ArrowType::Float64, true),
    ]));
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("level")))
        .build();
    let mut files = vec![];
    let mut paths = vec![];
    let mut seq = 0i64;
    let t0 = Instant::now();
    for r in 0..runs {
        let mut keys: Vec<i64> = (0..per_run)
            .map(|_| (rng.next() % key_space) as i64)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let n = keys.len();
        let seqs: Vec<i64> = (0..n as i64).map(|i| seq + i).collect();
        seq += n as i64;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(keys.clone())),
            Arc::new(Int64Array::from(seqs)),
            Arc::new(Int8Array::from(vec![0i8; n])),
            Arc::new(Int64Array::from(keys.clone())),
            Arc::new(Int64Array::from(
                (0..n as i64).map(|i| i * 7 + r as i64).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                (0..n).map(|i| format!("value-{r}-{i}")).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                (0..n).map(|i| i as f64 * 0.5).collect::<Vec<_>>(),
            )),
        ];
        let batch = RecordBatch::try_new(file_schema.clone(), cols).expect("batch");
        let mut buf = vec![];
        let mut w = ArrowWriter::try_new(&mut buf, file_schema.clone(), Some(props.clone()))
            .expect("writer");
        w.write(&batch).expect("write");
        w.close().expect("close");
        let name = format!("data-bench-{r}.parquet");
        let path = table.bucket_dir("", 0).join(name.as_str());
        let size = buf.len() as i64;
        table.io.write(&path, buf).await.expect("put");
        paths.push(path);
        files.push(DataFileMeta {
            min_key: key_bytes(keys[0]),
            max_key: key_bytes(keys[n - 1]),
            min_sequence_number: seq - n as i64,
            max_sequence_number: seq - 1,
            ..DataFileMeta::new(name, size, n as i64)
        });
    }
    let total: i64 = files.iter().map(|f| f.row_count).sum();
    let committer = Committer::new(table.clone(), "bench").expect("committer");
    let msg = CommitMessage {
        partition: BinaryRow::empty().serialize(),
        bucket: 0,
        total_buckets: 1,
        new_files: files,
        ..Default::default()
    };
    committer.commit(&[msg], i64::MAX).await.expect("commit");
    println!(
        "wrote {runs} runs, {total} rows, key space {key_space} in {:.2?}",
        t0.elapsed()
    );

    for round in 0..3 {
        // Baseline: raw Parquet decode of the same files (value columns only), no merge.
        let t = Instant::now();
        let mut raw_rows = 0;
        for p in &paths {
            let bytes = table.io.read(p).await.expect("read");
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
                    .expect("parquet")
                    .with_batch_size(8192)
                    .build()
                    .expect("reader");
            for b in reader {
                raw_rows += b.expect("batch").num_rows();
            }
        }
        let raw = t.elapsed();

        let t = Instant::now();
        let cpu0 = cpu_seconds();
        let stream = ScanBuilder::new(&table).execute().await.expect("execute");
        let batches: Vec<RecordBatch> = stream.try_collect().await.expect("merge read");
        let merged: usize = batches.iter().map(|b| b.num_rows()).sum();
        let merge = t.elapsed();
        let cpu = cpu_seconds() - cpu0;
        println!(
            "round {round}: merge read {merged} rows from {total} in {merge:.2?} wall, {cpu:.2}s CPU ({:.1} M input rows/s); raw parquet decode of {raw_rows} rows {raw:.2?}",
            total as f64 / merge.as_secs_f64() / 1e6
        );
    }
}
