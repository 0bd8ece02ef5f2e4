//! Workload W, tail phases (`streamhouse_reader::incremental`):
//!
//! * **changes**: the incremental read of one upsert commit (the last APPEND snapshot of the
//!   upsert phase: 200 k changes at scale 1), beside arrow-rs reading the same data files raw,
//!   and pypaimon's streaming read of the same snapshot when `STREAMHOUSE_PYTHON` is set;
//! * **latency**: a writer commits 1,000 changes every 200 ms while tails follow the table;
//!   commit → delivery latency (p50, p99, max) per snapshot, measured from the snapshot's commit
//!   time to the moment its last change was handed out: by the library (rendered as JSON lines
//!   into memory) and by the release `streamhouse tail --follow -o json` binary (the moment its
//!   last line arrived on the pipe). On local disk always; on the S3 test server (moto) too when
//!   `STREAMHOUSE_S3_ENDPOINT` is set (`tests/run.sh`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType as A, Field, Schema};
use streamhouse_format::io::metrics::{metered_io, StoreMetrics};
use streamhouse_format::io::{open_warehouse, Table};
use streamhouse_format::snapshot::CommitKind;
use streamhouse_reader::incremental::{StartPosition, TailBuilder, TailEvent, TailStats};
use streamhouse_writer::TableWriter;

use crate::{create_bench_table, peak_rss_mib, read_parquet, reset_peak_rss, Row};

/// Commits of the latency phase, and what each holds.
const LATENCY_COMMITS: usize = 100;
const LATENCY_ROWS: usize = 1_000;
const COMMIT_EVERY: Duration = Duration::from_millis(200);

/// The last APPEND snapshot (the last upsert round).
async fn last_append(table: &Table) -> i64 {
    let mut id = table
        .latest_snapshot_id()
        .await
        .expect("latest")
        .expect("snapshots");
    while table.snapshot(id).await.expect("snapshot").commit_kind != CommitKind::Append {
        id -= 1;
    }
    id
}

/// Reads snapshot `id`'s changes through the tail; (seconds, changes, kinds seen).
async fn read_changes(table: &Table, id: i64) -> (f64, u64, BTreeMap<String, u64>) {
    let start = Instant::now();
    let mut tail = TailBuilder::new(table)
        .start(StartPosition::FromSnapshot(id))
        .until_snapshot(id)
        .batch_size(65_536)
        .build()
        .await
        .expect("tail");
    let mut rows = 0u64;
    let mut kinds = BTreeMap::new();
    while let Some(e) = tail.next().await.expect("changes") {
        if let TailEvent::Changes(b) = e {
            rows += b.num_rows() as u64;
            for i in 0..b.num_rows() {
                *kinds.entry(b.kind(i).as_str().to_string()).or_insert(0) += 1;
            }
        }
    }
    (start.elapsed().as_secs_f64(), rows, kinds)
}

fn raw_read(files: &[PathBuf]) -> (f64, u64) {
    let start = Instant::now();
    let rows = read_parquet(files, |_| {});
    (start.elapsed().as_secs_f64(), rows)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The changes phase: one commit's changes, three times each (median reported).
pub async fn changes(table: &Table, warehouse: &FsPath, report: &mut Vec<Row>) -> bool {
    let id = last_append(table).await;
    let snapshot = table.snapshot(id).await.expect("snapshot");
    let mut files = vec![];
    for e in table.delta_entries(&snapshot).await.expect("delta") {
        let dir = table.bucket_dir(&table.partition_dir(&e.partition).expect("dir"), e.bucket);
        files.push(warehouse.join(dir.as_ref()).join(&e.file.file_name));
    }
    reset_peak_rss();
    let mut times = vec![];
    let (mut rows, mut kinds) = (0, BTreeMap::new());
    for _ in 0..3 {
        let (s, r, k) = read_changes(table, id).await;
        times.push(s);
        rows = r;
        kinds = k;
    }
    let ours = median(times.clone());
    let expected = snapshot.delta_record_count.unwrap_or(0).max(0) as u64;
    let ok = rows == expected;
    report.push(Row {
        phase: "changes".into(),
        what: "streamhouse tail (one commit)".into(),
        seconds: ours,
        rows,
        rss: peak_rss_mib(),
        note: format!(
            "{} snapshot {id}, {} files; kinds {kinds:?}; runs {}",
            if ok { "correct" } else { "WRONG" },
            files.len(),
            times
                .iter()
                .map(|t| format!("{t:.3}s"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    });
    reset_peak_rss();
    let raw = median((0..3).map(|_| raw_read(&files).0).collect());
    report.push(Row {
        phase: "changes".into(),
        what: "arrow-rs read of the same files".into(),
        seconds: raw,
        rows: raw_read(&files).1,
        rss: peak_rss_mib(),
        note: format!(
            "streamhouse / arrow-rs = {:.2}x (one thread, files in turn)",
            ours / raw
        ),
    });
    if let Some(py) = std::env::var_os("STREAMHOUSE_PYTHON") {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/pypaimon_stream.py");
        let table_dir = warehouse.join(table.root.as_ref());
        let out = std::process::Command::new(py)
            .arg(script)
            .arg(&table_dir)
            .args([
                "--from",
                &id.to_string(),
                "--to",
                &id.to_string(),
                "--summary",
            ])
            .output();
        match out {
            Ok(o) if o.status.success() => {
                let v: serde_json::Value =
                    serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
                report.push(Row {
                    phase: "changes".into(),
                    what: "pypaimon 2.1.0 stream read".into(),
                    seconds: v["seconds"].as_f64().unwrap_or(0.0),
                    rows: v["rows"].as_u64().unwrap_or(0),
                    rss: 0.0,
                    note: format!("separate process; kinds {}", v["kinds"]),
                });
            }
            Ok(o) => println!(
                "pypaimon stream read failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => println!("pypaimon stream read: cannot run: {e}"),
        }
    }
    for r in report.iter().filter(|r| r.phase == "changes") {
        println!(
            "changes: {} {:.3}s {} rows; {}",
            r.what, r.seconds, r.rows, r.note
        );
    }
    ok
}

/// Per-snapshot delivery times of one tail.
type Deliveries = Arc<Mutex<BTreeMap<i64, SystemTime>>>;

fn ms_since(t: SystemTime, commit_millis: i64) -> f64 {
    let at = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    at - commit_millis as f64
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    (at(0.5), at(0.99), v[v.len() - 1])
}

async fn latency_table(location: &str) -> Table {
    let (io, root) = open_warehouse(location).expect("warehouse");
    let options = [("bucket", "2"), ("changelog-producer", "input")];
    create_bench_table(
        io,
        &root,
        "bench.tail",
        "id BIGINT NOT NULL, v STRING",
        &options,
    )
    .await
}

/// A library tail following the table; records when each snapshot's last change was rendered,
/// and its counters after each snapshot.
fn library_tail(
    table: Table,
    deliveries: Deliveries,
    counters: Arc<Mutex<TailStats>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tail = TailBuilder::new(&table)
            .start(StartPosition::Latest)
            .follow(true)
            .build()
            .await
            .expect("tail");
        let mut out = String::new();
        while let Ok(Some(e)) = tail.next().await {
            match e {
                TailEvent::Changes(b) => {
                    let ids = b.rows.column(0).as_any().downcast_ref::<Int64Array>();
                    let vs = b.rows.column(1).as_any().downcast_ref::<StringArray>();
                    if let (Some(ids), Some(vs)) = (ids, vs) {
                        for i in 0..b.num_rows() {
                            out.clear();
                            out.push_str(&format!(
                                "{{\"rowkind\":\"{}\",\"id\":{},\"v\":\"{}\"}}\n",
                                b.kind(i),
                                ids.value(i),
                                vs.value(i)
                            ));
                        }
                    }
                }
                TailEvent::SnapshotEnd(info) => {
                    if info.changes > 0 {
                        deliveries
                            .lock()
                            .expect("lock")
                            .insert(info.id, SystemTime::now());
                    }
                    *counters.lock().expect("lock") = tail.stats().clone();
                }
            }
        }
    })
}

/// The release CLI following the table; records when each snapshot's last line arrived.
fn cli_tail(bin: &FsPath, warehouse: &str, deliveries: Deliveries) -> Option<std::process::Child> {
    let mut child = std::process::Command::new(bin)
        .args([
            "--warehouse",
            warehouse,
            "tail",
            "bench.tail",
            "--from",
            "latest",
            "--follow",
        ])
        .args(["-o", "json", "--with-snapshot-id"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let stdout = child.stdout.take()?;
    std::thread::spawn(move || {
        let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Some(id) = line
                .split("\"snapshot_id\":")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .and_then(|n| n.parse::<i64>().ok())
            else {
                continue;
            };
            let n = counts.entry(id).or_insert(0);
            *n += 1;
            if *n == LATENCY_ROWS {
                deliveries
                    .lock()
                    .expect("lock")
                    .insert(id, SystemTime::now());
            }
        }
    });
    Some(child)
}

/// The latency phase on one store: a writer every 200 ms, library and CLI tails following.
async fn latency_on(location: &str, store: &str, cli: Option<&FsPath>, report: &mut Vec<Row>) {
    let table = latency_table(location).await;
    let lib: Deliveries = Default::default();
    let bin: Deliveries = Default::default();
    // The library tail reads through a metered store: requests per poll and per snapshot.
    let mut tail_table = table.clone();
    let (io, tail_metrics) = metered_io(&table.io);
    tail_table.io = io;
    let counters: Arc<Mutex<TailStats>> = Default::default();
    let lib_task = library_tail(tail_table.clone(), lib.clone(), counters.clone());
    let mut child = cli.and_then(|b| cli_tail(b, location, bin.clone()));
    // Let both tails start and settle into waiting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut writer = TableWriter::new(table.clone()).await.expect("writer");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", A::Int64, false),
        Field::new("v", A::Utf8, true),
    ]));
    let mut commits = vec![];
    let mut commit_times = vec![];
    let mut next = Instant::now();
    for c in 0..LATENCY_COMMITS {
        next += COMMIT_EVERY;
        tokio::time::sleep_until(next.into()).await;
        let base = (c * LATENCY_ROWS) as i64;
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(
                    base..base + LATENCY_ROWS as i64,
                )),
                Arc::new(StringArray::from_iter_values(
                    (0..LATENCY_ROWS).map(|i| format!("value-{c}-{i}")),
                )),
            ],
        )
        .expect("batch");
        let start = Instant::now();
        writer.write(&batch).await.expect("write");
        let summary = writer.commit().await.expect("commit");
        commit_times.push(start.elapsed().as_secs_f64() * 1000.0);
        commits.extend(summary.snapshot_ids);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    lib_task.abort();
    let following = tail_metrics.snapshot();
    let tail_stats = counters.lock().expect("lock").clone();
    let idle = idle_poll_cost(&tail_table, &tail_metrics).await;
    if let Some(c) = child.as_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
    let mut commit_millis = BTreeMap::new();
    for id in &commits {
        commit_millis.insert(
            *id,
            table.snapshot(*id).await.expect("snapshot").time_millis,
        );
    }
    let (cp50, cp99, _) = percentiles(commit_times);
    for (what, deliveries) in [("library", &lib), ("CLI (release binary)", &bin)] {
        if what.starts_with("CLI") && cli.is_none() {
            continue;
        }
        let d = deliveries.lock().expect("lock");
        let lat: Vec<f64> = commits
            .iter()
            .filter_map(|id| d.get(id).map(|t| ms_since(*t, commit_millis[id])))
            .collect();
        if lat.is_empty() {
            println!("latency {store} {what}: nothing delivered");
            continue;
        }
        let (p50, p99, max) = percentiles(lat.clone());
        let cost = match what {
            "library" => format!(
                "; object-store requests: {:.2} per delivered commit over the run ({} in all, {} probes, {} LATEST checks, {} snapshots), {idle} per idle poll",
                following.total_requests() as f64 / tail_stats.snapshots.max(1) as f64,
                following,
                tail_stats.probes,
                tail_stats.latest_checks,
                tail_stats.snapshots,
            ),
            _ => String::new(),
        };
        println!("latency {store} {what}: p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms ({} of {} commits delivered)", lat.len(), commits.len());
        report.push(Row {
            phase: format!("latency {store}"),
            what: format!("streamhouse tail --follow, {what}"),
            seconds: p99 / 1000.0,
            rows: (lat.len() * LATENCY_ROWS) as u64,
            rss: 0.0,
            note: format!(
                "commit→delivery p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms over {}/{} commits of {LATENCY_ROWS} changes every {} ms (seconds column = p99; writer commit itself p50 {cp50:.1} ms, p99 {cp99:.1} ms)",
                lat.len(),
                commits.len(),
                COMMIT_EVERY.as_millis()
            ) + &cost,
        });
    }
}

/// Requests per poll of a following tail that finds nothing: a fresh tail waits 2 s at the
/// end of the table; (requests made) / (probes) as text.
async fn idle_poll_cost(table: &Table, metrics: &StoreMetrics) -> String {
    let mut tail = TailBuilder::new(table)
        .start(StartPosition::Latest)
        .follow(true)
        .build()
        .await
        .expect("tail");
    let before = metrics.snapshot();
    let probes = tail.stats().probes;
    // Nothing is committed meanwhile: the wait times out (`next` is cancel-safe).
    let _ = tokio::time::timeout(Duration::from_secs(2), tail.next()).await;
    let cost = metrics.snapshot().since(&before);
    let polls = tail.stats().probes - probes;
    format!(
        "{:.2} ({} over {polls} polls: {cost})",
        cost.total_requests() as f64 / polls.max(1) as f64,
        cost.total_requests()
    )
}

/// The release `streamhouse` binary next to this benchmark binary, if built.
fn release_cli() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.join("streamhouse");
    p.exists().then_some(p)
}

/// The latency phase: local disk, then the S3 test server when configured.
pub async fn latency(work: &FsPath, report: &mut Vec<Row>) {
    let cli = release_cli();
    if cli.is_none() {
        println!("(release streamhouse binary not built: `cargo build --release -p streamhouse-cli` adds the CLI latency)");
    }
    let local = work.join("tail-warehouse");
    let local = local.to_str().expect("utf8").to_string();
    latency_on(&local, "local disk", cli.as_deref(), report).await;
    match std::env::var("STREAMHOUSE_S3_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => {
            let location = format!(
                "s3://lake/bench-tail-{}",
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or(0)
            );
            latency_on(&location, "S3 (moto)", cli.as_deref(), report).await;
        }
        _ => println!(
            "(STREAMHOUSE_S3_ENDPOINT not set: no S3 latency; tests/run.sh starts a moto server)"
        ),
    }
}
