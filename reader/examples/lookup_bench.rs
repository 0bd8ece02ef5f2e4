//! A quick lookup micro-benchmark on a workload-W-shaped table (the full benchmark with its
//! baselines is the get phase of `tests/bench/workload_w.rs`), then the same table with ORC
//! data files beside it: cold and warm single gets on both.
//!
//! `cargo run --release -p streamhouse-reader --example lookup_bench -- [--scale 0.2]`

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use proptest::prelude::Rng;
use proptest::test_runner::{RngAlgorithm, TestRng};
use streamhouse_format::datum::Datum;
use streamhouse_format::io::{
    open_warehouse, table_root, CommitMessage, Committer, FileIO, Identifier, Table,
};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::parse_columns;
use streamhouse_reader::lookup::{LookupHandle, LookupOptions};
use streamhouse_writer::TableWriter;

/// Seeded, reproducible random numbers.
fn seeded(seed: u8) -> TestRng {
    TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32])
}

/// A key of a table holding ids `0..total`.
fn key(rng: &mut TestRng, total: usize) -> Vec<Datum> {
    vec![Datum::BigInt((rng.next_u64() % total as u64) as i64)]
}

/// Rows of workload W's columns for `ids`, with random values.
fn batch(ids: &[i64], rng: &mut TestRng) -> RecordBatch {
    let mut draw = || -> Vec<u64> { ids.iter().map(|_| rng.next_u64()).collect() };
    let category: StringArray = draw()
        .iter()
        .map(|r| Some(format!("cat_{:02}", r % 10)))
        .collect();
    let amount: Float64Array = draw()
        .iter()
        .map(|r| Some((r % 1_000_000) as f64 / 100.0))
        .collect();
    let payload: StringArray = draw()
        .iter()
        .map(|s| {
            let [a, b, c] = [7, 19, 41].map(|n| s.rotate_left(n));
            Some(format!("{s:016x}{a:016x}{b:016x}{c:016x}"))
        })
        .collect();
    let ts: Int64Array = (0..ids.len() as i64).map(Some).collect();
    RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(ids.to_vec())) as ArrayRef),
        ("category", Arc::new(category)),
        ("ts", Arc::new(ts)),
        ("amount", Arc::new(amount)),
        ("payload", Arc::new(payload)),
    ])
    .unwrap()
}

/// Latencies in microseconds: p50 and p99.
fn summary(v: &mut [f64]) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    format!("p50 {:.1} us p99 {:.1} us", pct(0.5), pct(0.99))
}

/// Times one single get per key, in microseconds.
async fn latencies(h: &LookupHandle, keys: impl IntoIterator<Item = Vec<Datum>>) -> Vec<f64> {
    let mut lat = vec![];
    for k in keys {
        let t = Instant::now();
        h.get(&k).await.unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    lat
}

/// Creates table `db.name` (workload W's columns, keyed by id, 4 buckets, write-only) with
/// `extra` options.
async fn create(
    io: &FileIO,
    root: &object_store::path::Path,
    name: &str,
    extra: &[(&str, &str)],
) -> Table {
    let id = Identifier::parse(&format!("bench.{name}")).unwrap();
    let options = [("bucket", "4"), ("write-only", "true")]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let schema = TableSchema::new(
        parse_columns(
            "id BIGINT NOT NULL, category STRING, ts BIGINT, amount DOUBLE, payload STRING",
        )
        .unwrap(),
        vec![],
        vec!["id".into()],
        options,
        0,
    )
    .unwrap();
    Table::create(io.clone(), table_root(root, &id), &id.to_string(), schema)
        .await
        .unwrap()
}

/// Writes `total` ids in 20 commits of `per` rows, then 5 commits of updates.
async fn fill(table: &Table, rng: &mut TestRng, per: usize, total: usize) {
    let mut ids: Vec<i64> = (0..total as i64).collect();
    for i in (1..ids.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        ids.swap(i, j);
    }
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    let mut commits: Vec<Vec<i64>> = ids.chunks(per).map(<[i64]>::to_vec).collect();
    for _ in 0..5 {
        let mut up: Vec<i64> = (0..per)
            .map(|_| (rng.next_u64() % total as u64) as i64)
            .collect();
        up.sort_unstable();
        up.dedup();
        commits.push(up);
    }
    for ids in commits {
        w.write(&batch(&ids, rng)).await.unwrap();
        w.commit().await.unwrap();
    }
}

/// A Parquet data file's rows as an ORC file (zstd).
fn parquet_to_orc(parquet: Bytes) -> Vec<u8> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(parquet)
        .unwrap()
        .build()
        .unwrap();
    let mut out = vec![];
    let mut w = orc_rust::ArrowWriterBuilder::new(
        &mut out,
        arrow::array::RecordBatchReader::schema(&reader),
    )
    .with_compression(orc_rust::compression::CompressionType::Zstd)
    .try_build()
    .unwrap();
    for b in reader {
        w.write(&b.unwrap()).unwrap();
    }
    w.close().unwrap();
    out
}

/// `twin` (created with `file.format = orc`) gets `table`'s live files rewritten as ORC files
/// (same rows, levels and sequence numbers), committed in one snapshot.
async fn copy_as_orc(table: &Table, twin: &Table) {
    let snap = table.snapshot_or_latest(None).await.unwrap().unwrap();
    let mut messages: BTreeMap<(Vec<u8>, i32), CommitMessage> = BTreeMap::new();
    for e in table.all_live_files(&snap).await.unwrap() {
        let bytes = table
            .io
            .read(
                &table
                    .bucket_dir("", e.bucket)
                    .join(e.file.file_name.as_str()),
            )
            .await
            .unwrap();
        let orc = parquet_to_orc(bytes);
        let mut meta = e.file.clone();
        meta.file_name = meta.file_name.replace(".parquet", ".orc");
        meta.file_size = orc.len() as i64;
        let path = twin.bucket_dir("", e.bucket).join(meta.file_name.as_str());
        twin.io.write(&path, Bytes::from(orc)).await.unwrap();
        messages
            .entry((e.partition.clone(), e.bucket))
            .or_insert_with(|| CommitMessage {
                partition: e.partition,
                bucket: e.bucket,
                total_buckets: twin.options.bucket,
                ..Default::default()
            })
            .compact_after
            .push(meta);
    }
    let messages: Vec<CommitMessage> = messages.into_values().collect();
    Committer::new(twin.clone(), "orc-copy")
        .unwrap()
        .commit(&messages, 0)
        .await
        .unwrap();
}

/// The quick benchmark: opening, cold and warm single gets and multi-gets on one table.
async fn quick(table: &Table, rng: &mut TestRng, total: usize, profile: bool, profile_multi: bool) {
    let t = Instant::now();
    let h = LookupHandle::open(table, LookupOptions::default())
        .await
        .unwrap();
    println!(
        "open: {:.2} ms, {} files, {}",
        t.elapsed().as_secs_f64() * 1e3,
        h.file_count(),
        h.metrics().snapshot()
    );
    let sample: Vec<Vec<Datum>> = (0..20_000).map(|_| key(rng, total)).collect();
    // Cold-ish: footers and blooms load on first touch.
    let t = Instant::now();
    let m0 = h.metrics().snapshot();
    latencies(&h, sample.iter().take(200).cloned()).await;
    let cold = h.metrics().snapshot().since(&m0);
    println!(
        "first 200 gets: {:.2} ms; {cold}",
        t.elapsed().as_secs_f64() * 1e3
    );
    for round in ["multi-get", "multi-get again"] {
        let t = Instant::now();
        let r = h.get_many(&sample).await.unwrap();
        let s = t.elapsed().as_secs_f64();
        println!(
            "{round} {} keys ({} found): {:.0} keys/s; {:?}",
            sample.len(),
            r.rows.num_rows(),
            sample.len() as f64 / s,
            h.counters()
        );
    }
    if profile_multi {
        for _ in 0..20 {
            h.get_many(&sample).await.unwrap();
        }
    }
    // Single gets, hot keys.
    let hot = &sample[..1000];
    latencies(&h, hot.iter().cloned()).await;
    let mut lat = latencies(&h, (0..5).flat_map(|_| hot.iter().cloned())).await;
    println!("hot single get: {}", summary(&mut lat));
    // Single gets, random keys (footers and blooms warm, pages mostly not), then with no page
    // cache (a page decoded per key).
    let options = LookupOptions {
        page_cache_bytes: 0,
        ..LookupOptions::default()
    };
    let no_pages = LookupHandle::open(table, options).await.unwrap();
    no_pages.get_many(&sample[..500]).await.unwrap();
    let n = if profile { 20_000 } else { 2000 };
    for (label, h, n) in [("random", &h, 2000), ("page-decoding", &no_pages, n)] {
        let m0 = h.metrics().snapshot();
        let mut lat = latencies(h, (0..n).map(|_| key(rng, total))).await;
        let d = h.metrics().snapshot().since(&m0);
        println!(
            "{label} single get: {}; {:.2} requests/key {:.0} KiB/key",
            summary(&mut lat),
            d.total_requests() as f64 / n as f64,
            d.read_bytes() as f64 / n as f64 / 1024.0
        );
        if label == "random" {
            println!("caches: {:?}", h.cache_stats());
        }
    }
}

/// Cold gets (a fresh handle per key: nothing cached but the snapshot's file list) and warm
/// gets (every file's index, filters and pages — or whole ORC file — cached) on one table.
async fn cold_and_warm(label: &str, table: &Table, rng: &mut TestRng, total: usize) {
    let mut cold = vec![];
    for _ in 0..30 {
        let h = LookupHandle::open(table, LookupOptions::default())
            .await
            .unwrap();
        cold.extend(latencies(&h, [key(rng, total)]).await);
    }
    let h = LookupHandle::open(table, LookupOptions::default())
        .await
        .unwrap();
    let warm_up: Vec<Vec<Datum>> = (0..total as i64)
        .step_by(7)
        .map(|k| vec![Datum::BigInt(k)])
        .collect();
    let t = Instant::now();
    h.get_many(&warm_up).await.unwrap();
    let warming = t.elapsed().as_secs_f64();
    let mut warm = latencies(&h, (0..2000).map(|_| key(rng, total))).await;
    println!(
        "{label:<8} cold get: {}; warm get: {}; warm-up multi-get {:.0} keys/s; caches {:?}",
        summary(&mut cold),
        summary(&mut warm),
        warm_up.len() as f64 / warming,
        h.cache_stats().pages
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scale: f64 = args
        .iter()
        .position(|a| a == "--scale")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.2);
    let flag = |f: &str| args.iter().any(|a| a == f);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let (io, root) = open_warehouse(dir.path().to_str().unwrap()).unwrap();
        let table = create(&io, &root, "w", &[]).await;
        let mut rng = seeded(42);
        let per = (100_000.0 * scale) as usize;
        let total = 20 * per;
        let t = Instant::now();
        fill(&table, &mut rng, per, total).await;
        println!(
            "wrote {total} rows in 25 commits in {:.1}s",
            t.elapsed().as_secs_f64()
        );
        quick(
            &table,
            &mut rng,
            total,
            flag("--profile"),
            flag("--profile-multi"),
        )
        .await;

        let orc = create(&io, &root, "w_orc", &[("file.format", "orc")]).await;
        let t = Instant::now();
        copy_as_orc(&table, &orc).await;
        println!(
            "the same files as ORC in {:.1}s; cold and warm single gets, same keys per format:",
            t.elapsed().as_secs_f64()
        );
        for (label, t) in [("parquet", &table), ("orc", &orc)] {
            cold_and_warm(label, t, &mut seeded(7), total).await;
        }
    });
}
