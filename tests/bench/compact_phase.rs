//! Workload W, compact phase: full compaction of the table the load and upsert phases built,
//! beside a baseline that reads the same files with arrow-rs, merges by key (highest
//! `_SEQUENCE_NUMBER` wins) and writes sorted Parquet; the full read after compaction beside a
//! raw arrow-rs read of the compacted files; and a long upsert run with in-writer compaction
//! reporting sorted runs per bucket and write amplification.

use std::path::{Path as FsPath, PathBuf};
use std::time::Instant;

use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::compute::{concat_batches, filter_record_batch, lexsort_to_indices, take_record_batch};
use arrow::compute::{SortColumn, SortOptions};
use arrow::datatypes::{Float64Type, Int64Type, Int8Type, SchemaRef};
use futures::TryStreamExt;
use parquet::arrow::ArrowWriter;
use streamhouse_compaction::{CompactOptions, CompactingWriter, Compactor};
use streamhouse_format::io::Table;
use streamhouse_reader::ScanBuilder;

use crate::{parquet_props, peak_rss_mib, read_parquet, reset_peak_rss, Row};

/// Local paths of the live data files of the table's latest snapshot, by bucket.
async fn live_files(table: &Table, warehouse: &FsPath) -> Vec<(i32, Vec<PathBuf>)> {
    let s = table
        .snapshot_or_latest(None)
        .await
        .expect("snapshot")
        .expect("committed");
    let mut by_bucket: std::collections::BTreeMap<i32, Vec<PathBuf>> = Default::default();
    for e in table.all_live_files(&s).await.expect("files") {
        let dir = table.bucket_dir(
            &table.partition_dir(&e.partition).expect("partition"),
            e.bucket,
        );
        by_bucket
            .entry(e.bucket)
            .or_default()
            .push(warehouse.join(dir.as_ref()).join(&e.file.file_name));
    }
    by_bucket.into_iter().collect()
}

fn read_files(files: &[PathBuf]) -> (Vec<RecordBatch>, u64) {
    let mut out = vec![];
    let rows = read_parquet(files, |b| out.push(b));
    (out, rows)
}

/// Baseline: per bucket, read the files, sort by (key, sequence descending), keep the first
/// row of each key unless it is a retraction, and write one sorted Parquet file.
fn arrow_merge_and_write(buckets: &[(i32, Vec<PathBuf>)], out: &FsPath) -> (f64, u64) {
    std::fs::create_dir_all(out).expect("dir");
    let start = Instant::now();
    let mut kept = 0u64;
    for (bucket, files) in buckets {
        let (batches, _) = read_files(files);
        let Some(first) = batches.first() else {
            continue;
        };
        let schema: SchemaRef = first.schema();
        let all = concat_batches(&schema, &batches).expect("concat");
        let key = all.column_by_name("_KEY_id").expect("key").clone();
        let seq = all.column_by_name("_SEQUENCE_NUMBER").expect("seq").clone();
        let idx = lexsort_to_indices(
            &[
                SortColumn {
                    values: key,
                    options: None,
                },
                SortColumn {
                    values: seq,
                    options: Some(SortOptions {
                        descending: true,
                        nulls_first: false,
                    }),
                },
            ],
            None,
        )
        .expect("sort");
        let sorted = take_record_batch(&all, &idx).expect("take");
        let keys = sorted
            .column_by_name("_KEY_id")
            .expect("key")
            .as_primitive::<Int64Type>();
        let kinds = sorted
            .column_by_name("_VALUE_KIND")
            .expect("kind")
            .as_primitive::<Int8Type>();
        let keep: BooleanArray = (0..sorted.num_rows())
            .map(|i| {
                let first_of_key = i == 0 || keys.value(i) != keys.value(i - 1);
                Some(first_of_key && !matches!(kinds.value(i), 1 | 3))
            })
            .collect();
        let merged = filter_record_batch(&sorted, &keep).expect("filter");
        kept += merged.num_rows() as u64;
        let f = std::fs::File::create(out.join(format!("bucket-{bucket}.parquet"))).expect("file");
        let mut w = ArrowWriter::try_new(f, schema, Some(parquet_props())).expect("writer");
        w.write(&merged).expect("write");
        w.close().expect("close");
    }
    (start.elapsed().as_secs_f64(), kept)
}

/// Reads the table with Streamhouse: (seconds, rows, sum of amount).
pub async fn full_read(table: &Table) -> (f64, u64, f64) {
    let start = Instant::now();
    let mut stream = ScanBuilder::new(table).execute().await.expect("scan");
    let (mut rows, mut sum) = (0u64, 0.0f64);
    while let Some(b) = stream.try_next().await.expect("read") {
        rows += b.num_rows() as u64;
        sum += b
            .column_by_name("amount")
            .expect("amount")
            .as_primitive::<Float64Type>()
            .iter()
            .flatten()
            .sum::<f64>();
    }
    (start.elapsed().as_secs_f64(), rows, sum)
}

/// Runs the compact phase on `table` (built by the load and upsert phases).
pub async fn run(
    table: &Table,
    warehouse: &FsPath,
    work: &FsPath,
    expected_rows: u64,
    expected_sum: f64,
    report: &mut Vec<Row>,
) -> bool {
    let before = live_files(table, warehouse).await;
    let nfiles: usize = before.iter().map(|(_, f)| f.len()).sum();
    let (_, input_rows) = read_files(
        &before
            .iter()
            .flat_map(|(_, f)| f.clone())
            .collect::<Vec<_>>(),
    );

    reset_peak_rss();
    let (base_s, base_rows) = arrow_merge_and_write(&before, &work.join("plain-compact"));
    let base_rss = peak_rss_mib();

    reset_peak_rss();
    let start = Instant::now();
    let outcomes = Compactor::new(table.clone())
        .expect("compactor")
        .compact_table(&CompactOptions {
            full: true,
            ..Default::default()
        })
        .await
        .expect("compact");
    let compact_s = start.elapsed().as_secs_f64();
    let (mut read_b, mut written_b) = (0u64, 0u64);
    for o in &outcomes {
        if let streamhouse_compaction::BucketOutcome::Compacted(s) = o {
            read_b += s.bytes_read;
            written_b += s.bytes_written;
        }
    }
    report.push(Row {
        phase: "compact (full)".into(),
        what: "streamhouse".into(),
        seconds: compact_s,
        rows: input_rows,
        rss: peak_rss_mib(),
        note: format!(
            "{nfiles} files in {} buckets, read {} MiB, wrote {} MiB",
            before.len(),
            read_b >> 20,
            written_b >> 20
        ),
    });
    report.push(Row {
        phase: "compact (full)".into(),
        what: "arrow-rs read + merge by key + write sorted Parquet".into(),
        seconds: base_s,
        rows: input_rows,
        rss: base_rss,
        note: format!(
            "{base_rows} rows out; streamhouse / arrow-rs = {:.2}x",
            compact_s / base_s
        ),
    });

    reset_peak_rss();
    let (read_s, rows, sum) = full_read(table).await;
    let ok =
        rows == expected_rows && (sum - expected_sum).abs() < 1e-3 * expected_sum.abs().max(1.0);
    report.push(Row {
        phase: "read after compact".into(),
        what: "streamhouse".into(),
        seconds: read_s,
        rows,
        rss: peak_rss_mib(),
        note: if ok {
            "correct".into()
        } else {
            format!("WRONG: {rows} rows, sum {sum:.2}")
        },
    });
    let after: Vec<PathBuf> = live_files(table, warehouse)
        .await
        .into_iter()
        .flat_map(|(_, f)| f)
        .collect();
    reset_peak_rss();
    let start = Instant::now();
    let raw_rows = read_parquet(&after, |_| {}); // without keeping batches: a raw read's cost
    let raw_s = start.elapsed().as_secs_f64();
    report.push(Row {
        phase: "read after compact".into(),
        what: "arrow-rs read of the compacted files".into(),
        seconds: raw_s,
        rows: raw_rows,
        rss: peak_rss_mib(),
        note: format!("streamhouse / arrow-rs = {:.2}x", read_s / raw_s),
    });
    ok
}

/// A long upsert run with in-writer compaction on a fresh table: sorted runs stay at or below
/// the stop trigger; reports write amplification.
pub async fn long_upserts(
    like: &Table,
    commits: usize,
    next_batch: &mut dyn FnMut() -> RecordBatch,
    report: &mut Vec<Row>,
) {
    let root = like.root.clone();
    let sibling: object_store::path::Path = root
        .parts()
        .take(root.parts().count().saturating_sub(1))
        .chain(std::iter::once("wc".into()))
        .collect();
    let table = Table::create(like.io.clone(), sibling, "bench.wc", (*like.schema).clone())
        .await
        .expect("create bench.wc");
    let table = &table;
    let batches = (0..commits).map(|_| next_batch());
    reset_peak_rss();
    let start = Instant::now();
    let mut w = CompactingWriter::new(table.clone()).await.expect("writer");
    let mut rows = 0u64;
    let mut commits = 0u64;
    for b in batches {
        rows += b.num_rows() as u64;
        w.write(&b).await.expect("write");
        w.commit().await.expect("commit");
        commits += 1;
    }
    let stats = w.close().await.expect("close");
    let secs = start.elapsed().as_secs_f64();
    let runs: Vec<usize> = stats.runs.values().copied().collect();
    let stop = table.options.stop_trigger;
    report.push(Row {
        phase: "long upsert + in-writer compaction".into(),
        what: "streamhouse".into(),
        seconds: secs,
        rows,
        rss: peak_rss_mib(),
        note: format!(
            "{commits} commits, {} compactions, {} stalls; sorted runs per bucket at end {:?} (max seen {}, stop trigger {stop}); write amplification {:.2}",
            stats.compactions,
            stats.stalls,
            runs,
            stats.max_runs_seen,
            stats.write_amplification()
        ),
    });
}
