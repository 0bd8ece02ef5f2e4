//! A quick lookup micro-benchmark on a workload-W-shaped table (the full benchmark with its
//! baselines is the get phase of `tests/bench/workload_w.rs`).
//!
//! `cargo run --release -p streamhouse-reader --example lookup_bench -- [--scale 0.2]`

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType as A, Field, Schema};
use streamhouse_format::datum::Datum;
use streamhouse_format::io::{open_warehouse, table_root, Identifier, Table};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::parse_columns;
use streamhouse_reader::lookup::{LookupHandle, LookupOptions};
use streamhouse_writer::TableWriter;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
}

fn batch(ids: &[i64], rng: &mut Rng) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", A::Int64, false),
        Field::new("category", A::Utf8, true),
        Field::new("ts", A::Int64, true),
        Field::new("amount", A::Float64, true),
        Field::new("payload", A::Utf8, true),
    ]));
    let n = ids.len();
    let cats: Vec<String> = (0..n)
        .map(|_| format!("cat_{:02}", rng.next() % 10))
        .collect();
    let ts: Vec<i64> = (0..n as i64).collect();
    let amount: Vec<f64> = (0..n)
        .map(|_| (rng.next() % 1_000_000) as f64 / 100.0)
        .collect();
    let payload: Vec<String> = (0..n)
        .map(|_| {
            let s = rng.next();
            format!(
                "{s:016x}{:016x}{:016x}{:016x}",
                s.rotate_left(7),
                s.rotate_left(19),
                s.rotate_left(41)
            )
        })
        .collect();
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(cats)),
            Arc::new(Int64Array::from(ts)),
            Arc::new(Float64Array::from(amount)),
            Arc::new(StringArray::from(payload)),
        ],
    )
    .unwrap()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scale: f64 = args
        .iter()
        .position(|a| a == "--scale")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let (io, root) = open_warehouse(dir.path().to_str().unwrap()).unwrap();
        let id = Identifier::parse("bench.w").unwrap();
        let schema = TableSchema::new(
            parse_columns(
                "id BIGINT NOT NULL, category STRING, ts BIGINT, amount DOUBLE, payload STRING",
            )
            .unwrap(),
            vec![],
            vec!["id".into()],
            [
                ("bucket".to_string(), "4".to_string()),
                ("write-only".to_string(), "true".to_string()),
            ]
            .into_iter()
            .collect(),
            0,
        )
        .unwrap();
        let table = Table::create(io, table_root(&root, &id), "bench.w", schema)
            .await
            .unwrap();
        let mut rng = Rng(42);
        let per = (100_000.0 * scale) as usize;
        let total = 20 * per;
        let mut ids: Vec<i64> = (0..total as i64).collect();
        for i in (1..ids.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            ids.swap(i, j);
        }
        let mut w = TableWriter::new(table.clone()).await.unwrap();
        let t = Instant::now();
        for c in ids.chunks(per) {
            let b = batch(c, &mut rng);
            w.write(&b).await.unwrap();
            w.commit().await.unwrap();
        }
        for _ in 0..5 {
            let mut up: Vec<i64> = (0..per)
                .map(|_| (rng.next() % total as u64) as i64)
                .collect();
            up.sort_unstable();
            up.dedup();
            let b = batch(&up, &mut rng);
            w.write(&b).await.unwrap();
            w.commit().await.unwrap();
        }
        println!(
            "wrote {total} rows in 25 commits in {:.1}s",
            t.elapsed().as_secs_f64()
        );

        let t = Instant::now();
        let h = LookupHandle::open(&table, LookupOptions::default())
            .await
            .unwrap();
        println!(
            "open: {:.2} ms, {} files, {}",
            t.elapsed().as_secs_f64() * 1e3,
            h.file_count(),
            h.metrics().snapshot()
        );
        let sample: Vec<Vec<Datum>> = (0..20_000)
            .map(|_| vec![Datum::BigInt((rng.next() % total as u64) as i64)])
            .collect();
        // Cold-ish: footers and blooms load on first touch.
        let t = Instant::now();
        let m0 = h.metrics().snapshot();
        for k in sample.iter().take(200) {
            h.get(k).await.unwrap();
        }
        let cold = h.metrics().snapshot().since(&m0);
        println!(
            "first 200 gets: {:.2} ms; {cold}",
            t.elapsed().as_secs_f64() * 1e3
        );
        // Multi-get.
        let t = Instant::now();
        let r = h.get_many(&sample).await.unwrap();
        let s = t.elapsed().as_secs_f64();
        println!(
            "multi-get {} keys ({} found): {:.0} keys/s; {:?}",
            sample.len(),
            r.rows.num_rows(),
            sample.len() as f64 / s,
            h.counters()
        );
        let t = Instant::now();
        let r = h.get_many(&sample).await.unwrap();
        let s = t.elapsed().as_secs_f64();
        if args.iter().any(|a| a == "--profile-multi") {
            for _ in 0..20 {
                h.get_many(&sample).await.unwrap();
            }
        }
        println!(
            "multi-get again: {:.0} keys/s ({} found)",
            sample.len() as f64 / s,
            r.rows.num_rows()
        );
        // Single gets, hot keys.
        let hot: Vec<&Vec<Datum>> = sample.iter().take(1000).collect();
        for k in &hot {
            h.get(k).await.unwrap();
        }
        let mut lat = vec![];
        for _ in 0..5 {
            for k in &hot {
                let t = Instant::now();
                h.get(k).await.unwrap();
                lat.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        println!(
            "hot single get: p50 {:.1} us p99 {:.1} us",
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99)
        );
        // Single gets, random keys (footers and blooms warm, pages mostly not).
        let mut lat = vec![];
        let m0 = h.metrics().snapshot();
        for _ in 0..2000 {
            let k = vec![Datum::BigInt((rng.next() % total as u64) as i64)];
            let t = Instant::now();
            h.get(&k).await.unwrap();
            lat.push(t.elapsed().as_secs_f64() * 1e6);
        }
        let d = h.metrics().snapshot().since(&m0);
        println!(
            "random single get: p50 {:.1} us p99 {:.1} us; {:.2} requests/key",
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99),
            d.total_requests() as f64 / 2000.0
        );
        println!("caches: {:?}", h.cache_stats());
        // Page decoded per key: footers and blooms warm, no page cache.
        let h = LookupHandle::open(
            &table,
            LookupOptions {
                page_cache_bytes: 0,
                ..LookupOptions::default()
            },
        )
        .await
        .unwrap();
        h.get_many(&sample[..500]).await.unwrap();
        let mut lat = vec![];
        let m0 = h.metrics().snapshot();
        let n = if args.iter().any(|a| a == "--profile") {
            20_000
        } else {
            2000
        };
        for _ in 0..n {
            let k = vec![Datum::BigInt((rng.next() % total as u64) as i64)];
            let t = Instant::now();
            h.get(&k).await.unwrap();
            lat.push(t.elapsed().as_secs_f64() * 1e6);
        }
        let d = h.metrics().snapshot().since(&m0);
        println!(
            "page-decoding single get: p50 {:.1} us p99 {:.1} us; {:.2} requests/key {:.0} KiB/key",
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99),
            d.total_requests() as f64 / n as f64,
            d.read_bytes() as f64 / n as f64 / 1024.0
        );
    });
}
