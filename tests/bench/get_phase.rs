//! Workload W, get phase: primary-key lookups (`LookupHandle`, `streamhouse get`) beside the
//! baselines of the same run — our own full scan with an `id = k` filter, and pypaimon's
//! filtered read of the same key (when `STREAMHOUSE_PYTHON` is set).
//!
//! * warm single-key lookups, pages cached: p50 / p99;
//! * warm single-key lookups that decode their page (footers and bloom filters cached, page
//!   cache off): p50 / p99 and object-store reads per key;
//! * multi-get on one core (a current-thread runtime): keys/s from cold caches and warm;
//! * a cold lookup in a fresh process (this binary re-run with `--get-child`, and the
//!   `streamhouse` CLI when it is built next to it): wall time and object-store reads;
//! * the same on the moto S3 server when `STREAMHOUSE_S3_ENDPOINT` is set (a W-shaped table of
//!   a tenth of the rows written there).

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::Float64Type;
use streamhouse_format::datum::Datum;
use streamhouse_format::io::{open_warehouse, table_root, Identifier, Table};
use streamhouse_reader::lookup::{LookupHandle, LookupOptions};
use streamhouse_reader::ScanBuilder;
use streamhouse_writer::TableWriter;

use crate::{
    create_bench_table, peak_rss_mib, reset_peak_rss, w_arrow_schema, Rng, Row, W_COLUMNS,
};

fn key(id: i64) -> Vec<Datum> {
    vec![Datum::BigInt(id)]
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(((v.len().max(1) - 1) as f64 * p).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

fn row(phase: &str, what: &str, seconds: f64, rows: u64, note: String) -> Row {
    Row {
        phase: phase.into(),
        what: what.into(),
        seconds,
        rows,
        rss: peak_rss_mib(),
        note,
    }
}

/// Single gets of `ids`, one after the other: latencies in microseconds and the object-store
/// requests and bytes they made.
async fn single_gets(h: &LookupHandle, ids: &[i64]) -> (Vec<f64>, u64, u64, usize) {
    let before = h.metrics().snapshot();
    let mut lat = Vec::with_capacity(ids.len());
    let mut found = 0;
    for id in ids {
        let t = Instant::now();
        let r = h.get(&key(*id)).await.expect("get");
        lat.push(t.elapsed().as_secs_f64() * 1e6);
        found += r.is_some() as usize;
    }
    let cost = h.metrics().snapshot().since(&before);
    (lat, cost.read_requests(), cost.read_bytes(), found)
}

/// The child mode: one cold lookup in this fresh process. Prints one JSON line.
pub async fn child(args: &[String]) {
    let (Some(warehouse), Some(id)) = (args.first(), args.get(1).and_then(|s| s.parse().ok()))
    else {
        eprintln!("usage: workload-w --get-child WAREHOUSE ID");
        std::process::exit(2);
    };
    let started = Instant::now();
    let (io, root) = open_warehouse(warehouse).expect("warehouse");
    let ident = Identifier::parse("bench.w").expect("id");
    let table = Table::open(io, table_root(&root, &ident), "bench.w")
        .await
        .expect("open table");
    let h = LookupHandle::open(&table, LookupOptions::default())
        .await
        .expect("lookup handle");
    let load = h.metrics().snapshot();
    let row = h.get(&key(id)).await.expect("get");
    let all = h.metrics().snapshot();
    println!(
        "{{\"ms\": {:.3}, \"found\": {}, \"load_requests\": {}, \"requests\": {}, \"bytes\": {}}}",
        started.elapsed().as_secs_f64() * 1e3,
        row.is_some(),
        load.total_requests(),
        all.total_requests(),
        all.read_bytes()
    );
}

/// Runs `cmd`, returns (wall ms, stdout).
fn timed(cmd: &mut std::process::Command) -> Option<(f64, String)> {
    let t = Instant::now();
    let out = cmd.output().ok()?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    if !out.status.success() {
        println!(
            "get phase: {cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    Some((ms, String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// Cold lookups in fresh processes: this binary's child mode and the CLI.
fn cold_processes(warehouse: &str, ids: &[i64], label: &str, report: &mut Vec<Row>) {
    let Ok(me) = std::env::current_exe() else {
        return;
    };
    let mut walls = vec![];
    let mut inside = vec![];
    let mut requests = vec![];
    let mut load_requests = vec![];
    for id in ids {
        let Some((ms, out)) = timed(
            std::process::Command::new(&me)
                .arg("--get-child")
                .arg(warehouse)
                .arg(id.to_string()),
        ) else {
            return;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(out.trim()) else {
            return;
        };
        walls.push(ms);
        inside.push(v["ms"].as_f64().unwrap_or(0.0));
        requests.push(v["requests"].as_f64().unwrap_or(0.0));
        load_requests.push(v["load_requests"].as_f64().unwrap_or(0.0));
    }
    report.push(row(
        "get cold",
        &format!("streamhouse, fresh process {label}"),
        walls.iter().sum::<f64>() / 1e3,
        ids.len() as u64,
        format!(
            "median {:.1} ms wall ({:.1} ms from open to answer); {:.0} object-store requests ({:.0} loading the snapshot, {:.0} for the key)",
            pct(&walls, 0.5),
            pct(&inside, 0.5),
            pct(&requests, 0.5),
            pct(&load_requests, 0.5),
            pct(&requests, 0.5) - pct(&load_requests, 0.5)
        ),
    ));
    let cli = me.with_file_name("streamhouse");
    if !cli.exists() || warehouse.starts_with("s3://") {
        if !warehouse.starts_with("s3://") {
            println!("(streamhouse CLI not built next to workload-w: `cargo build --release -p streamhouse-cli` adds the CLI cold row)");
        }
        return;
    }
    let mut walls = vec![];
    for id in ids {
        let Some((ms, out)) = timed(
            std::process::Command::new(&cli)
                .args([
                    "--warehouse",
                    warehouse,
                    "get",
                    "bench.w",
                    &id.to_string(),
                    "-o",
                    "json",
                ])
                .env_remove("STREAMHOUSE_WAREHOUSE"),
        ) else {
            return;
        };
        if !out.contains("\"found\":true") {
            println!("get phase: the CLI did not find key {id}: {out}");
        }
        walls.push(ms);
    }
    report.push(row(
        "get cold",
        &format!("`streamhouse get`, fresh process {label}"),
        walls.iter().sum::<f64>() / 1e3,
        ids.len() as u64,
        format!("median {:.1} ms wall", pct(&walls, 0.5)),
    ));
}

/// Multi-get of `ids` on one core: a current-thread runtime on its own thread. Returns
/// (cold keys/s, warm keys/s, found).
fn multi_get_one_core(table: &Table, ids: &[i64]) -> (f64, f64, usize) {
    let table = table.clone();
    let keys: Vec<Vec<Datum>> = ids.iter().map(|i| key(*i)).collect();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let h = LookupHandle::open(&table, LookupOptions::default())
                .await
                .expect("handle");
            let t = Instant::now();
            let r = h.get_many(&keys).await.expect("multi-get");
            let cold = keys.len() as f64 / t.elapsed().as_secs_f64();
            let t = Instant::now();
            let r2 = h.get_many(&keys).await.expect("multi-get");
            let warm = keys.len() as f64 / t.elapsed().as_secs_f64();
            assert_eq!(r.rows.num_rows(), r2.rows.num_rows());
            (cold, warm, r.rows.num_rows())
        })
    })
    .join()
    .expect("multi-get thread")
}

/// The lookup rows of one table (local disk or S3). Returns whether every answer was right.
async fn lookups(table: &Table, ids: i64, label: &str, report: &mut Vec<Row>) -> bool {
    let mut gen = Rng(4242);
    let mut ok = true;
    // Warm, pages cached.
    let h = LookupHandle::open(table, LookupOptions::default())
        .await
        .expect("handle");
    let hot = gen.ids(2000, ids);
    h.get_many(&hot.iter().map(|i| key(*i)).collect::<Vec<_>>())
        .await
        .expect("warm up");
    let mut lat = vec![];
    let mut found = 0;
    for _ in 0..3 {
        let (l, _, _, f) = single_gets(&h, &hot).await;
        lat.extend(l);
        found += f;
    }
    ok &= found == 3 * hot.len();
    report.push(row(
        "get warm",
        &format!("streamhouse get, pages cached {label}"),
        lat.iter().sum::<f64>() / 1e6,
        lat.len() as u64,
        format!(
            "p50 {:.1} µs, p99 {:.1} µs (targets 50 / 500 µs); 0 reads",
            pct(&lat, 0.5),
            pct(&lat, 0.99)
        ),
    ));
    // Warm, each get decodes its page.
    let h = LookupHandle::open(
        table,
        LookupOptions {
            page_cache_bytes: 0,
            ..LookupOptions::default()
        },
    )
    .await
    .expect("handle");
    h.get_many(&gen.ids(500, ids).into_iter().map(key).collect::<Vec<_>>())
        .await
        .expect("warm up");
    let random = gen.ids(2000, ids);
    let (lat, reads, bytes, found) = single_gets(&h, &random).await;
    ok &= found == random.len();
    let absent: Vec<i64> = (0..200).map(|i| ids + 1 + i * 7).collect();
    let (alat, _, _, afound) = single_gets(&h, &absent).await;
    ok &= afound == 0;
    report.push(row(
        "get warm",
        &format!("streamhouse get, page decoded per key {label}"),
        lat.iter().sum::<f64>() / 1e6,
        lat.len() as u64,
        format!(
            "p50 {:.1} µs, p99 {:.1} µs; {:.2} object-store reads and {:.0} KiB per key (footers, blooms cached); absent keys p50 {:.1} µs",
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            reads as f64 / random.len() as f64,
            bytes as f64 / random.len() as f64 / 1024.0,
            pct(&alat, 0.5)
        ),
    ));
    ok
}

/// A W-shaped table of `rows` rows in 25 commits on S3 (the moto server).
async fn s3_table(endpoint: &str, rows: usize) -> Option<Table> {
    let url = format!("s3://lake/get-bench-{}", uuid_like());
    let (io, root) = match open_warehouse(&url) {
        Ok(x) => x,
        Err(e) => {
            println!("get phase: cannot open {url} ({endpoint}): {e}");
            return None;
        }
    };
    let options = [("bucket", "4"), ("write-only", "true")];
    let table = create_bench_table(io, &root, "bench.w", W_COLUMNS, &options).await;
    let arrow = w_arrow_schema();
    let mut gen = Rng(7);
    let per = rows / 20;
    let mut ids: Vec<i64> = (0..rows as i64).collect();
    gen.shuffle(&mut ids);
    let batch = |ids: &[i64], gen: &mut Rng| {
        let n = ids.len();
        RecordBatch::try_new(
            arrow.clone(),
            vec![
                Arc::new(Int64Array::from(ids.to_vec())),
                Arc::new(StringArray::from(
                    (0..n)
                        .map(|_| format!("cat_{:02}", gen.next() % 10))
                        .collect::<Vec<_>>(),
                )),
                Arc::new(Int64Array::from((0..n as i64).collect::<Vec<_>>())),
                Arc::new(Float64Array::from(
                    (0..n)
                        .map(|_| (gen.next() % 100_000) as f64 / 100.0)
                        .collect::<Vec<_>>(),
                )),
                Arc::new(StringArray::from(
                    (0..n)
                        .map(|_| format!("{:064x}", gen.next()))
                        .collect::<Vec<_>>(),
                )),
            ],
        )
        .expect("batch")
    };
    let mut w = TableWriter::new(table.clone()).await.expect("writer");
    for c in ids.chunks(per) {
        w.write(&batch(c, &mut gen)).await.expect("write");
        w.commit().await.expect("commit");
    }
    for _ in 0..5 {
        let mut up = gen.ids(per, rows as i64);
        up.sort_unstable();
        up.dedup();
        w.write(&batch(&up, &mut gen)).await.expect("write");
        w.commit().await.expect("commit");
    }
    Some(table)
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Baseline: our full scan with an `id = k` filter, per key.
async fn scan_with_filter(table: &Table, ids: &[i64]) -> (Vec<f64>, Vec<Option<f64>>) {
    let mut ms = vec![];
    let mut amounts = vec![];
    for id in ids {
        let t = Instant::now();
        let batches = ScanBuilder::new(table)
            .filter_text(format!("id = {id}"))
            .to_batches()
            .await
            .expect("filtered scan");
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        let amount = batches.iter().find(|b| b.num_rows() > 0).and_then(|b| {
            b.column_by_name("amount")
                .map(|a| a.as_primitive::<Float64Type>().value(0))
        });
        amounts.push(amount);
    }
    (ms, amounts)
}

/// Baseline: pypaimon's filtered read, timed inside Python (the table opened once).
fn pypaimon(table_dir: &FsPath, ids: &[i64]) -> Option<(Vec<f64>, f64)> {
    let python = std::env::var("STREAMHOUSE_PYTHON").ok()?;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/pypaimon_get_bench.py");
    let mut cmd = std::process::Command::new(python);
    cmd.arg(script).arg(table_dir).arg("id");
    cmd.args(ids.iter().map(|i| i.to_string()));
    let (_, out) = timed(&mut cmd)?;
    let v: serde_json::Value = serde_json::from_str(out.trim()).ok()?;
    let ms: Vec<f64> = v["ms"]
        .as_array()?
        .iter()
        .filter_map(|x| x.as_f64())
        .collect();
    let found = v["rows"].as_array()?.iter().all(|r| r.as_u64() == Some(1));
    if !found {
        println!("get phase: pypaimon did not find every key: {out}");
    }
    Some((ms, v["open_ms"].as_f64().unwrap_or(0.0)))
}

/// The get phase on the local table `table` (ids `0..ids`, every one present). `label` tells
/// the table's state apart (level 0 only, compacted). Returns whether every answer was right.
pub async fn run(
    table: &Table,
    warehouse: &FsPath,
    ids: i64,
    label: &str,
    report: &mut Vec<Row>,
) -> bool {
    reset_peak_rss();
    let mut ok = lookups(table, ids, label, report).await;

    reset_peak_rss();
    let many = Rng(99).ids(100_000, ids);
    let (cold, warm, found) = multi_get_one_core(table, &many);
    ok &= found == many.len();
    report.push(row(
        "get multi",
        &format!("streamhouse get_many, one core {label}"),
        many.len() as f64 / warm,
        many.len() as u64,
        format!("{warm:.0} keys/s warm (target 200 000), {cold:.0} keys/s from cold caches"),
    ));

    let sample = Rng(5).ids(7, ids);
    cold_processes(warehouse.to_str().expect("utf8"), &sample, label, report);

    // Baselines on the same keys.
    let (scan_ms, scan_amounts) = scan_with_filter(table, &sample[..5]).await;
    let h = LookupHandle::open(table, LookupOptions::default())
        .await
        .expect("handle");
    for (id, amount) in sample.iter().zip(&scan_amounts) {
        let got = h.get(&key(*id)).await.expect("get");
        let got_amount = got.and_then(|b| {
            b.column_by_name("amount")
                .map(|a| a.as_primitive::<Float64Type>().value(0))
        });
        if got_amount != *amount {
            println!("get phase: key {id}: get says amount {got_amount:?}, the scan {amount:?}");
            ok = false;
        }
    }
    report.push(row(
        "get baseline",
        &format!("streamhouse full scan with filter id = k {label}"),
        scan_ms.iter().sum::<f64>() / 1e3,
        scan_ms.len() as u64,
        format!("median {:.1} ms per key", pct(&scan_ms, 0.5)),
    ));
    let table_dir = warehouse.join("bench.db").join("w");
    match pypaimon(&table_dir, &sample[..3]) {
        Some((ms, open_ms)) => report.push(row(
            "get baseline",
            &format!("pypaimon filtered read id = k {label}"),
            ms.iter().sum::<f64>() / 1e3,
            ms.len() as u64,
            format!(
                "median {:.1} ms per key (table opened once in {open_ms:.0} ms); RocksDB ≈ 8 µs for context (issue figure, not measured)",
                pct(&ms, 0.5)
            ),
        )),
        None => println!("(pypaimon baseline skipped: STREAMHOUSE_PYTHON is not set or the read failed)"),
    }
    // `STREAMHOUSE_BENCH_STOP=level0`: end the run after the reads of the un-compacted table
    // (a quicker loop when working on reads).
    if label == "(level 0)" && std::env::var("STREAMHOUSE_BENCH_STOP").as_deref() == Ok("level0") {
        crate::print_rows(report);
        std::process::exit(if ok { 0 } else { 1 });
    }
    ok
}

/// The get phase on the moto S3 server, when `STREAMHOUSE_S3_ENDPOINT` is set.
pub async fn run_s3(rows: usize, report: &mut Vec<Row>) -> bool {
    let Ok(endpoint) = std::env::var("STREAMHOUSE_S3_ENDPOINT") else {
        println!("(get phase on S3 skipped: STREAMHOUSE_S3_ENDPOINT is not set; tests/run.sh shows how to start moto)");
        return true;
    };
    let t = Instant::now();
    let Some(table) = s3_table(&endpoint, rows).await else {
        return true;
    };
    println!(
        "get phase: wrote a {rows}-row W-shaped table to S3 in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    // A cold handle in this process: loading plus the first key.
    let t = Instant::now();
    let h = LookupHandle::open(&table, LookupOptions::default())
        .await
        .expect("handle");
    let load = h.metrics().snapshot();
    let first = h.get(&key(17)).await.expect("get");
    let cold = h.metrics().snapshot().since(&load);
    report.push(row(
        "get cold",
        "streamhouse, new handle (S3, moto)",
        t.elapsed().as_secs_f64(),
        1,
        format!(
            "{:.1} ms; loading {} requests, first key {} requests ({:.0} KiB); found {}",
            t.elapsed().as_secs_f64() * 1e3,
            load.total_requests(),
            cold.total_requests(),
            cold.read_bytes() as f64 / 1024.0,
            first.is_some()
        ),
    ));
    let url = table.io.url.clone();
    cold_processes(&url, &[3, 1234], "(S3, moto)", report);
    let ok = lookups(&table, rows as i64, "(S3, moto)", report).await;
    ok
}
