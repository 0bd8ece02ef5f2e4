//! Workload W benchmark (see the README's Benchmarks section): load, upsert and full read of a
//! primary-key table, each phase printed beside baselines measured in the same run:
//! arrow-rs sorting and writing the same batches as plain Parquet, arrow-rs reading the
//! table's data files without merging, and (when built) the `paimon` crate 0.4.0.
//!
//! Run: `cargo run --release -p streamhouse-tests --bin workload-w -- [--buckets 4] [--scale 1.0]`

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::{sort_to_indices, take_record_batch};
use arrow::datatypes::{DataType as A, Field, Float64Type, Schema, SchemaRef};
use futures::TryStreamExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use streamhouse_format::io::metrics::metered_io;
use streamhouse_format::io::{open_warehouse, table_root, FileIO, Identifier, Table};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::parse_columns;
use streamhouse_reader::ScanBuilder;
use streamhouse_writer::TableWriter;

mod compact_phase;
mod get_phase;
mod range_phase;
mod tail_phase;
mod write_phase;

/// Workload W's table: its columns (primary key `id`).
const W_COLUMNS: &str =
    "id BIGINT NOT NULL, category STRING, ts BIGINT, amount DOUBLE, payload STRING";

/// The Arrow schema of workload W's batches.
fn w_arrow_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", A::Int64, false),
        Field::new("category", A::Utf8, true),
        Field::new("ts", A::Int64, true),
        Field::new("amount", A::Float64, true),
        Field::new("payload", A::Utf8, true),
    ]))
}

/// Creates `name` (`db.table`) with `columns`, primary key `id` and `options` in the warehouse
/// at `root` of `io`.
async fn create_bench_table(
    io: FileIO,
    root: &object_store::path::Path,
    name: &str,
    columns: &str,
    options: &[(&str, &str)],
) -> Table {
    let schema = TableSchema::new(
        parse_columns(columns).expect("cols"),
        vec![],
        vec!["id".into()],
        options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        0,
    )
    .expect("schema");
    let id = Identifier::parse(name).expect("id");
    Table::create(io, table_root(root, &id), name, schema)
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e}"))
}

/// splitmix64: a small seeded generator so every run sees the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// `n` ids in `0..below`.
    fn ids(&mut self, n: usize, below: i64) -> Vec<i64> {
        (0..n).map(|_| self.below(below as u64) as i64).collect()
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

struct Gen {
    rng: Rng,
    ts: i64,
    /// Current amount per id, to check the final sum.
    amounts: Vec<f64>,
}

impl Gen {
    fn batch(&mut self, schema: &SchemaRef, ids: &[i64]) -> RecordBatch {
        let n = ids.len();
        let mut cats = Vec::with_capacity(n);
        let mut ts = Vec::with_capacity(n);
        let mut amount = Vec::with_capacity(n);
        let mut payload = Vec::with_capacity(n);
        for &id in ids {
            cats.push(format!("cat_{:02}", self.rng.below(10)));
            self.ts += 1;
            ts.push(self.ts);
            let a = (self.rng.below(1_000_000) as f64) / 100.0;
            amount.push(a);
            if self.amounts.len() <= id as usize {
                self.amounts.resize(id as usize + 1, 0.0);
            }
            self.amounts[id as usize] = a;
            let seed = self.rng.next();
            payload.push(format!(
                "{:016x}{:016x}{:016x}{:016x}",
                seed,
                seed.rotate_left(7),
                seed.rotate_left(19),
                seed.rotate_left(41)
            ));
        }
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(ids.to_vec())),
                Arc::new(StringArray::from(cats)),
                Arc::new(Int64Array::from(ts)),
                Arc::new(Float64Array::from(amount)),
                Arc::new(StringArray::from(payload)),
            ],
        )
        .expect("batch")
    }
}

fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user + system) this process used so far, all threads.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

thread_local! {
    static PHASE_START_RSS: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// Peak resident memory since the last reset, minus what was resident then (the generated
/// input batches stay resident for the whole run and are not the phase's memory).
fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:") - PHASE_START_RSS.with(|c| c.get())
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    PHASE_START_RSS.with(|c| c.set(status_mib("VmRSS:")));
}

fn dir_size(p: &FsPath) -> (u64, usize) {
    let mut bytes = 0;
    let mut files = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let path = e.path();
            if path.is_dir() {
                let (b, f) = dir_size(&path);
                bytes += b;
                files += f;
            } else if let Ok(m) = e.metadata() {
                bytes += m.len();
                files += 1;
            }
        }
    }
    (bytes, files)
}

struct Row {
    phase: String,
    what: String,
    seconds: f64,
    rows: u64,
    rss: f64,
    note: String,
}

fn print_rows(rows: &[Row]) {
    println!("\n| phase | implementation | seconds | rows/s | peak RSS growth MiB | note |");
    println!("|---|---|---:|---:|---:|---|");
    for r in rows {
        let rate = if r.seconds > 0.0 {
            r.rows as f64 / r.seconds
        } else {
            0.0
        };
        println!(
            "| {} | {} | {:.3} | {:.0} | {:.0} | {} |",
            r.phase, r.what, r.seconds, rate, r.rss, r.note
        );
    }
}

/// `0.101s 0.099s …`
fn secs_list(v: &[f64]) -> String {
    v.iter()
        .map(|t| format!("{t:.3}s"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sorts the rows by phase (baselines after their phase's rows) and prints them.
fn print_report(report: &mut [Row]) {
    report.sort_by_key(|r| {
        [
            "load",
            "upsert",
            "full read",
            "changes",
            "latency",
            "range",
            "sql",
            "get",
            "compact",
            "read after",
            "long upsert",
        ]
        .iter()
        .position(|p| r.phase.starts_with(p))
        .unwrap_or(9)
    });
    print_rows(report);
}

fn parquet_props() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("level")))
        .build()
}

/// Baseline: sort each batch by id and write it as a plain Parquet file.
fn arrow_sort_and_write(batches: &[RecordBatch], dir: &FsPath) -> f64 {
    std::fs::create_dir_all(dir).expect("dir");
    let start = Instant::now();
    for (i, b) in batches.iter().enumerate() {
        let idx = sort_to_indices(b.column(0), None, None).expect("sort");
        let sorted = take_record_batch(b, &idx).expect("take");
        let f = std::fs::File::create(dir.join(format!("part-{i}.parquet"))).expect("file");
        let mut w =
            ArrowWriter::try_new(f, sorted.schema(), Some(parquet_props())).expect("writer");
        w.write(&sorted).expect("write");
        w.close().expect("close");
    }
    start.elapsed().as_secs_f64()
}

/// Baseline: read every Parquet file under `dir` with arrow-rs, no merging.
fn arrow_read_all(dir: &FsPath) -> (f64, u64) {
    let mut files = vec![];
    collect_parquet(dir, &mut files);
    let start = Instant::now();
    let rows = read_parquet(&files, |_| {});
    (start.elapsed().as_secs_f64(), rows)
}

/// Reads `files` with arrow-rs (batches of 8192 rows), handing each batch to `each`; the rows
/// read.
fn read_parquet(files: &[PathBuf], mut each: impl FnMut(RecordBatch)) -> u64 {
    let mut rows = 0u64;
    for f in files {
        let file = std::fs::File::open(f).expect("open");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("reader")
            .with_batch_size(8192)
            .build()
            .expect("build");
        for b in reader {
            let b = b.expect("batch");
            rows += b.num_rows() as u64;
            each(b);
        }
    }
    rows
}

fn collect_parquet(dir: &FsPath, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect_parquet(&p, out);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
    }
}

fn peer_binary() -> Option<PathBuf> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("paimon-peer/target/release/paimon-peer");
    p.exists().then_some(p)
}

const USAGE: &str = "\
workload-w: the reference workload W (../shared/workloads/WORKLOAD.md) through streamhouse, each
phase printed beside baselines measured in the same run (arrow-rs, DataFusion, the paimon crate
when built, pypaimon when STREAMHOUSE_PYTHON is set).

Usage: workload-w [--buckets N] [--scale F] [--only-write] [--skip-latency]

  --buckets N     buckets of the table (default 4)
  --scale F       fraction of W's sizes (default 1.0: 2,000,000 load rows, 5 x 200,000 upserts)
  --only-write    stop after load, upsert and the full read that checks them
  --skip-latency  skip the tail latency phase (20 s of commits every 200 ms)
  -h, --help      print this and exit

Environment: STREAMHOUSE_PYTHON (a venv python with pypaimon), STREAMHOUSE_S3_ENDPOINT (an S3
test server for the S3 phases). Build the paimon crate peer to include it:
  cargo build --release --manifest-path tests/paimon-peer/Cargo.toml
";

/// Flags taking a value, and flags alone.
const VALUE_FLAGS: [&str; 2] = ["--buckets", "--scale"];
const BARE_FLAGS: [&str; 2] = ["--only-write", "--skip-latency"];

/// Checks the arguments: `Err(code)` to exit with (0 after `--help`, 2 after a bad argument).
fn check_args(args: &[String]) -> Result<(), i32> {
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "-h" || a == "--help" {
            print!("{USAGE}");
            return Err(0);
        }
        if VALUE_FLAGS.contains(&a) {
            match args.get(i + 1).map(|v| v.parse::<f64>()) {
                Some(Ok(v)) if v > 0.0 => i += 2,
                _ => {
                    eprintln!("workload-w: {a} needs a positive number\n\n{USAGE}");
                    return Err(2);
                }
            }
            continue;
        }
        if !BARE_FLAGS.contains(&a) {
            eprintln!("workload-w: unknown argument {a:?}\n\n{USAGE}");
            return Err(2);
        }
        i += 1;
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    // A cold lookup in a fresh process (the get phase runs this binary again).
    if let Some(i) = args.iter().position(|a| a == "--get-child") {
        get_phase::child(&args[i + 1..]).await;
        return;
    }
    if let Err(code) = check_args(&args) {
        std::process::exit(code);
    }
    let arg = |name: &str, default: f64| -> f64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let buckets = arg("--buckets", 4.0) as i32;
    let scale = arg("--scale", 1.0);
    let load_batches = 20usize;
    let batch_rows = (100_000.0 * scale) as usize;
    let rounds = 5usize;
    let round_half = (100_000.0 * scale) as usize;

    let work = tempfile::tempdir().expect("tempdir");
    let warehouse = work.path().join("warehouse");
    let (io, root) = open_warehouse(warehouse.to_str().expect("utf8")).expect("warehouse");
    let buckets_text = buckets.to_string();
    let options = [("bucket", buckets_text.as_str())];
    let arrow_schema = w_arrow_schema();

    let mut gen = Gen {
        rng: Rng(42),
        ts: 0,
        amounts: vec![],
    };
    let total = load_batches * batch_rows;
    let mut ids: Vec<i64> = (0..total as i64).collect();
    gen.rng.shuffle(&mut ids);
    let load: Vec<RecordBatch> = ids
        .chunks(batch_rows)
        .map(|c| gen.batch(&arrow_schema, c))
        .collect();
    let mut next_id = total as i64;
    let mut upserts = vec![];
    for _ in 0..rounds {
        let mut chosen = std::collections::HashSet::new();
        while chosen.len() < round_half {
            chosen.insert(gen.rng.below(next_id as u64) as i64);
        }
        let mut round: Vec<i64> = chosen.into_iter().collect();
        round.sort_unstable();
        round.extend(next_id..next_id + round_half as i64);
        next_id += round_half as i64;
        gen.rng.shuffle(&mut round);
        upserts.push(gen.batch(&arrow_schema, &round));
    }
    let expected_rows = next_id as u64;
    let expected_sum: f64 = gen.amounts.iter().sum();
    println!("workload W: {total} load rows in {load_batches} batches, {rounds} upsert rounds of {} rows, bucket = {buckets}", 2 * round_half);

    let mut report = vec![];
    // Phase 1 and 2 with the default options: in-writer compaction (tests/bench/write_phase.rs).
    let upsert_rows = (rounds * 2 * round_half) as u64;
    let default_wh = work.path().join("warehouse-default");
    let (dio, droot) = open_warehouse(default_wh.to_str().expect("utf8")).expect("warehouse");
    let (dio, dmetrics) = metered_io(&dio);
    let dtable = create_bench_table(dio, &droot, "bench.w", W_COLUMNS, &options).await;
    let base_before = arrow_sort_and_write(&load, &work.path().join("plain-load-0"));
    reset_peak_rss();
    let cpu = cpu_seconds();
    let run = write_phase::default_options(&dtable, &dmetrics, &load, &upserts).await;
    let default_cpu = cpu_seconds() - cpu;
    let default_rss = peak_rss_mib();
    // Baselines right after, back to back: the load one twice (before and after), averaged.
    reset_peak_rss();
    let cpu = cpu_seconds();
    let base_after = arrow_sort_and_write(&load, &work.path().join("plain-load"));
    let base_cpu = cpu_seconds() - cpu;
    let base_load = (base_before + base_after) / 2.0;
    let base_load_rss = peak_rss_mib();
    reset_peak_rss();
    let base_up_rounds: Vec<f64> = upserts
        .iter()
        .enumerate()
        .map(|(i, b)| {
            arrow_sort_and_write(
                std::slice::from_ref(b),
                &work.path().join(format!("plain-upsert-{i}")),
            )
        })
        .collect();
    let base_up: f64 = base_up_rounds.iter().sum();
    let base_up_rss = peak_rss_mib();
    let (bytes, files) = dir_size(&default_wh);
    let median = write_phase::median_commit(&run.load_commits);
    let stop = dtable.options.stop_trigger;
    report.push(Row {
        phase: "load".into(),
        what: "streamhouse, default options (in-writer compaction)".into(),
        seconds: run.load_s,
        rows: total as u64,
        rss: default_rss,
        note: format!(
            "{:.2}x arrow-rs; {} COMPACT snapshots, {} stop-trigger stalls; requests per commit of {batch_rows} rows: median {} ({median}); {} MiB, {files} files on disk after upserts",
            run.load_s / base_load,
            run.stats.compactions,
            run.stats.stalls,
            median.total_requests(),
            bytes >> 20
        ),
    });
    let up_s: f64 = run.rounds.iter().sum();
    let worst = run
        .rounds
        .iter()
        .zip(&base_up_rounds)
        .map(|(a, b)| a / b)
        .fold(0.0, f64::max);
    report.push(Row {
        phase: "upsert".into(),
        what: "streamhouse, default options (in-writer compaction)".into(),
        seconds: up_s,
        rows: upsert_rows,
        rss: default_rss,
        note: format!(
            "{:.2}x arrow-rs, worst round {worst:.2}x; per round {}; close waited {:.3}s; {default_cpu:.2} CPU s for load + upsert + close; sorted runs per bucket after W {:?} (stop trigger {stop}); write amplification {:.2}; {:.1} requests per commit over load + upsert + close ({})",
            up_s / base_up,
            secs_list(&run.rounds),
            run.close_s,
            run.runs,
            run.stats.write_amplification(),
            run.total.total_requests() as f64 / (load.len() + upserts.len()) as f64,
            run.total,
        ),
    });
    report.push(Row {
        phase: "load".into(),
        what: "arrow-rs sort + write Parquet".into(),
        seconds: base_load,
        rows: total as u64,
        rss: base_load_rss,
        note: format!("mean of a run before and one after streamhouse's ({base_before:.3}s, {base_after:.3}s; {base_cpu:.2} CPU s after)"),
    });
    report.push(Row {
        phase: "upsert".into(),
        what: "arrow-rs sort + write Parquet".into(),
        seconds: base_up,
        rows: upsert_rows,
        rss: base_up_rss,
        note: format!("per round {}", secs_list(&base_up_rounds)),
    });
    let default_ok = write_phase::check(&dtable, expected_rows, expected_sum, &mut report).await;

    // The level-0 table for the phases after this one: the same rows through the plain writer
    // (no compaction), as `write-only = true` writes them.
    reset_peak_rss();
    let (io, metrics) = metered_io(&io);
    let table = create_bench_table(io, &root, "bench.w", W_COLUMNS, &options).await;
    let mut writer = TableWriter::new(table.clone()).await.expect("writer");
    let mut commit_costs = vec![];
    let cpu = cpu_seconds();
    let start = Instant::now();
    for b in &load {
        let before = metrics.snapshot();
        writer.write(b).await.expect("write");
        writer.commit().await.expect("commit");
        commit_costs.push(metrics.snapshot().since(&before));
    }
    let load_s = start.elapsed().as_secs_f64();
    let load_cpu = cpu_seconds() - cpu;
    let (bytes, files) = dir_size(&warehouse);
    let median = write_phase::median_commit(&commit_costs);
    report.push(Row {
        phase: "load".into(),
        what: "streamhouse, write-only (level 0 kept for the next phases)".into(),
        seconds: load_s,
        rows: total as u64,
        rss: peak_rss_mib(),
        note: format!(
            "{:.2}x arrow-rs; {load_cpu:.2} CPU s; requests per commit: median {} ({median}); {} MiB, {files} files on disk",
            load_s / base_load,
            median.total_requests(),
            bytes >> 20
        ),
    });
    reset_peak_rss();
    let mut round_times = vec![];
    for b in &upserts {
        let start = Instant::now();
        writer.write(b).await.expect("write");
        writer.commit().await.expect("commit");
        round_times.push(start.elapsed().as_secs_f64());
    }
    let up_s: f64 = round_times.iter().sum();
    report.push(Row {
        phase: "upsert".into(),
        what: "streamhouse, write-only".into(),
        seconds: up_s,
        rows: upsert_rows,
        rss: peak_rss_mib(),
        note: format!(
            "{:.2}x arrow-rs; per round {}",
            up_s / base_up,
            secs_list(&round_times)
        ),
    });

    // Phase 3: full merge-on-read.
    reset_peak_rss();
    let start = Instant::now();
    let mut stream = ScanBuilder::new(&table).execute().await.expect("scan");
    let mut rows = 0u64;
    let mut sum = 0.0f64;
    while let Some(b) = stream.try_next().await.expect("read") {
        rows += b.num_rows() as u64;
        let amount = b
            .column_by_name("amount")
            .expect("amount")
            .as_primitive::<Float64Type>();
        sum += amount.iter().flatten().sum::<f64>();
    }
    let read_s = start.elapsed().as_secs_f64();
    let ok =
        rows == expected_rows && (sum - expected_sum).abs() < 1e-3 * expected_sum.abs().max(1.0);
    report.push(Row {
        phase: "full read".into(),
        what: "streamhouse merge-on-read".into(),
        seconds: read_s,
        rows,
        rss: peak_rss_mib(),
        note: format!(
            "{} (expected {expected_rows} rows, sum {expected_sum:.2}, got sum {sum:.2})",
            if ok { "correct" } else { "WRONG" }
        ),
    });
    reset_peak_rss();
    let (raw_s, raw_rows) = arrow_read_all(&warehouse);
    report.push(Row {
        phase: "full read".into(),
        what: "arrow-rs read of the same data files, no merge".into(),
        seconds: raw_s,
        rows: raw_rows,
        rss: peak_rss_mib(),
        note: format!("streamhouse / arrow-rs = {:.2}x", read_s / raw_s),
    });

    if args.iter().any(|a| a == "--only-write") {
        print_report(&mut report);
        std::process::exit(if ok && default_ok { 0 } else { 1 });
    }

    // Tail phases (tests/bench/tail_phase.rs): one commit's changes; commit → delivery latency.
    let changes_ok = tail_phase::changes(&table, &warehouse, &mut report).await;
    if !args.iter().any(|a| a == "--skip-latency") {
        tail_phase::latency(work.path(), &mut report).await;
    }

    // Range and SQL phases on the level-0 table (tests/bench/range_phase.rs).
    let sorted = range_phase::sorted_file(&table, work.path()).await;
    let mut range_ok = range_phase::run(
        &table,
        &sorted,
        expected_rows as i64,
        "(level 0)",
        &mut report,
    )
    .await;

    // Get phase on the level-0 table (tests/bench/get_phase.rs).
    let mut get_ok = get_phase::run(
        &table,
        &warehouse,
        expected_rows as i64,
        "(level 0)",
        &mut report,
    )
    .await;

    // Phase 4: compaction, the read after it, and a long upsert run compacting in the writer.
    let compact_ok = compact_phase::run(
        &table,
        &warehouse,
        work.path(),
        expected_rows,
        expected_sum,
        &mut report,
    )
    .await;
    range_ok &= range_phase::run(
        &table,
        &sorted,
        expected_rows as i64,
        "(compacted)",
        &mut report,
    )
    .await;
    get_ok &= get_phase::run(
        &table,
        &warehouse,
        expected_rows as i64,
        "(compacted)",
        &mut report,
    )
    .await;
    get_ok &= get_phase::run_s3(total / 10, &mut report).await;
    let long_rows = (20_000.0 * scale) as u64;
    let mut long_batch = || {
        let ids: Vec<i64> = (0..long_rows)
            .map(|_| gen.rng.below(4 * long_rows * 10) as i64)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        gen.batch(&arrow_schema, &ids)
    };
    compact_phase::long_upserts(&table, 60, &mut long_batch, &mut report).await;

    // The paimon crate 0.4.0 on the same workload (its own generator, same shape and sizes).
    match peer_binary() {
        None => println!("(paimon crate peer not built: run `cargo build --release --manifest-path tests/paimon-peer/Cargo.toml` to include it)"),
        Some(bin) => {
            let wh = work.path().join("peer-warehouse");
            let wh = wh.to_str().expect("utf8");
            let write_args = vec![
                "bench-write".to_string(), wh.to_string(), "bench.w".into(),
                "--rows".into(), total.to_string(), "--batches".into(), load_batches.to_string(),
                "--buckets".into(), buckets.to_string(), "--upsert-rounds".into(), rounds.to_string(),
                "--upsert-rows".into(), (2 * round_half).to_string(),
            ];
            let read_args = vec!["bench-read".to_string(), wh.to_string(), "bench.w".into()];
            for args in [write_args, read_args] {
                match std::process::Command::new(&bin).args(&args).output() {
                    Ok(o) if o.status.success() => {
                        for line in String::from_utf8_lossy(&o.stdout).lines() {
                            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
                            let (Some(phase), Some(secs)) = (v["phase"].as_str(), v["seconds"].as_f64()) else { continue };
                            let phase = match phase {
                                "full_read" => "full read",
                                p => p,
                            };
                            report.push(Row {
                                phase: phase.to_string(),
                                what: "paimon crate 0.4.0".into(),
                                seconds: secs,
                                rows: v["rows"].as_u64().unwrap_or(0),
                                rss: 0.0,
                                note: "separate process".into(),
                            });
                        }
                    }
                    Ok(o) => println!("paimon crate {}: failed: {}", args[0], String::from_utf8_lossy(&o.stderr).trim()),
                    Err(e) => println!("paimon crate {}: cannot run: {e}", args[0]),
                }
            }
        }
    }
    print_report(&mut report);
    if !ok || !default_ok || !compact_ok || !range_ok || !changes_ok || !get_ok {
        std::process::exit(1);
    }
}
