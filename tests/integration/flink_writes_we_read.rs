//! Flink 1.20 SQL writes Paimon tables (Paimon's Flink connector 1.3.1: streaming `INSERT`s with
//! a checkpoint every second, batch `DELETE`, `INSERT OVERWRITE` and `CALL sys.compact`) and we
//! read them: for fixed-bucket, dynamic-bucket (`bucket = -1`), `changelog-producer = lookup`
//! and `input`, partial-update, aggregation, partitioned and append tables our scan and get give
//! Flink's own batch read. Our tail gives Flink's streaming read (from snapshot 1) of the lookup
//! and input tables exactly, and of the changelog-producer none tables after Flink's upsert
//! normalization (`flink_streams_ours::normalize_upserts`); both skip the `INSERT OVERWRITE`
//! snapshot. Tables with ORC or Avro data files: our scan and our get of every key give Flink's
//! read as for Parquet. And a Flink streaming `INSERT` and our
//! `write --follow` commit to one table at the same time. One JVM runs every Flink statement and query.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use arrow::array::RecordBatch;
use serde_json::{json, Value};
use streamhouse_format::datum::Datum;
use streamhouse_format::io::Table;
use streamhouse_reader::{lookup, ScanBuilder};

use crate::flink_streams_ours::{kinds, normalize_upserts, our_changes};
use crate::flink_support::{flink_spawn, hints, FlinkCase, FlinkProcess, FlinkRun};
use crate::interop_support::assert_same_rows;
use crate::java_support::{canonical_rows, java_bench};
use crate::procs::{cli, cli_binary, wait_bounded};
use crate::support::{create_table, open_table};

const COLUMNS: &str =
    "id BIGINT NOT NULL, v STRING, n INT, price DECIMAL(10, 2), d DATE, ts TIMESTAMP(3)";

/// One Flink-written table: its DDL options and the statements that fill it.
struct Written {
    table: &'static str,
    options: &'static str,
    partitioned: bool,
    primary_key: bool,
    /// (streaming?, statement), in order.
    writes: Vec<(bool, String)>,
}

/// `VALUES` rows `(id, v, n, price, d, ts)` for ids in `ids`, tagged with `v`.
fn values(ids: impl IntoIterator<Item = i64>, v: &str) -> String {
    ids.into_iter()
        .map(|i| {
            format!(
                "(CAST({i} AS BIGINT), '{v}', CAST({} AS INT), CAST({i}.{:02} AS DECIMAL(10, 2)), \
                 DATE '2024-{:02}-{:02}', TIMESTAMP '2024-05-06 07:{:02}:{:02}.{:03}')",
                i * 3,
                i % 100,
                i % 12 + 1,
                i % 28 + 1,
                i % 60,
                (i * 7) % 60,
                i % 1000
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Written {
    /// A primary-key table keyed by `id`, not partitioned.
    fn keyed(table: &'static str, options: &'static str, writes: Vec<(bool, String)>) -> Self {
        Written {
            table,
            options,
            partitioned: false,
            primary_key: true,
            writes,
        }
    }
}

fn tables() -> Vec<Written> {
    // A streaming INSERT of `values(ids, v)` into `t`.
    let insert = |t: &str, ids: &mut dyn Iterator<Item = i64>, v: &str| {
        (true, format!("INSERT INTO {t} VALUES {}", values(ids, v)))
    };
    let batch = |statement: String| (false, statement);
    vec![
        Written::keyed(
            "db.fw_fixed",
            "'bucket' = '2'",
            vec![
                insert("db.fw_fixed", &mut (1..=60), "first"),
                insert("db.fw_fixed", &mut (1..=60).step_by(4), "second"),
                batch("DELETE FROM db.fw_fixed WHERE id > 50".into()),
                batch("CALL sys.compact(`table` => 'db.fw_fixed')".into()),
                insert("db.fw_fixed", &mut (55..=57), "after compaction"),
            ],
        ),
        Written::keyed(
            "db.fw_dynamic",
            "'bucket' = '-1', 'dynamic-bucket.target-row-num' = '20'",
            vec![
                insert("db.fw_dynamic", &mut (1..=70), "first"),
                insert("db.fw_dynamic", &mut (1..=80).step_by(3), "second"),
            ],
        ),
        Written::keyed(
            "db.fw_lookup",
            "'bucket' = '2', 'changelog-producer' = 'lookup'",
            vec![
                insert("db.fw_lookup", &mut (1..=30), "first"),
                insert("db.fw_lookup", &mut (1..=40).step_by(2), "second"),
                batch("DELETE FROM db.fw_lookup WHERE id < 5".into()),
            ],
        ),
        Written::keyed(
            "db.fw_input",
            "'bucket' = '2', 'changelog-producer' = 'input'",
            vec![
                insert("db.fw_input", &mut (1..=20), "first"),
                insert("db.fw_input", &mut (1..=25).step_by(3), "second"),
                batch("DELETE FROM db.fw_input WHERE id > 15".into()),
            ],
        ),
        Written::keyed(
            "db.fw_partial",
            "'bucket' = '2', 'merge-engine' = 'partial-update'",
            vec![
                insert("db.fw_partial", &mut (1..=20), "first"),
                (
                    true,
                    "INSERT INTO db.fw_partial (id, v, n) VALUES \
                     (CAST(1 AS BIGINT), CAST(NULL AS STRING), CAST(100 AS INT)), \
                     (CAST(2 AS BIGINT), 'only v', CAST(NULL AS INT)), \
                     (CAST(30 AS BIGINT), 'new key', CAST(NULL AS INT))"
                        .into(),
                ),
            ],
        ),
        Written::keyed(
            "db.fw_aggregation",
            "'bucket' = '2', 'merge-engine' = 'aggregation', \
             'fields.n.aggregate-function' = 'sum', \
             'fields.price.aggregate-function' = 'max', \
             'fields.v.aggregate-function' = 'listagg'",
            vec![
                insert("db.fw_aggregation", &mut (1..=20), "a"),
                insert("db.fw_aggregation", &mut (10..=25), "b"),
            ],
        ),
        Written {
            partitioned: true,
            ..Written::keyed(
                "db.fw_partitioned",
                "'bucket' = '2'",
                vec![
                    (
                        true,
                        format!(
                            "INSERT INTO db.fw_partitioned SELECT *, IF(id % 2 = 0, 'even', 'odd') \
                             FROM (VALUES {}) AS t(id, v, n, price, d, ts)",
                            values(1..=30, "first")
                        ),
                    ),
                    batch(format!(
                        "INSERT OVERWRITE db.fw_partitioned PARTITION (part = 'even') \
                         SELECT * FROM (VALUES {}) AS t(id, v, n, price, d, ts)",
                        values((100..=104).step_by(2), "overwritten")
                    )),
                ],
            )
        },
        Written {
            primary_key: false,
            ..Written::keyed(
                "db.fw_append",
                "'bucket' = '-1'",
                vec![
                    insert("db.fw_append", &mut (1..=20), "first"),
                    insert("db.fw_append", &mut (1..=5), "duplicate ids"),
                ],
            )
        },
        Written::keyed(
            "db.fw_orc",
            "'bucket' = '2', 'file.format' = 'orc'",
            vec![insert("db.fw_orc", &mut (1..=10), "orc")],
        ),
        Written::keyed(
            "db.fw_avro",
            "'bucket' = '2', 'file.format' = 'avro'",
            vec![insert("db.fw_avro", &mut (1..=10), "avro")],
        ),
    ]
}

/// The tables whose changes Flink streams and our tail reads.
const STREAMED_TABLES: [&str; 5] = [
    "db.fw_lookup",
    "db.fw_input",
    "db.fw_fixed",
    "db.fw_dynamic",
    "db.fw_partitioned",
];

fn short(table: &str) -> &str {
    table.trim_start_matches("db.")
}

/// Flink's cases: DDL, every write in order, then a batch read of each table and a streaming
/// read of the lookup table's changes.
fn cases(written: &[Written], lookup_changes: u64) -> Vec<FlinkCase> {
    let mut ddl = vec!["CREATE DATABASE IF NOT EXISTS db".to_string()];
    for w in written {
        let mut columns = COLUMNS.to_string();
        if w.partitioned {
            columns.push_str(", part STRING NOT NULL");
        }
        let key = match (w.primary_key, w.partitioned) {
            (false, _) => String::new(),
            (true, false) => ", PRIMARY KEY (id) NOT ENFORCED".into(),
            (true, true) => ", PRIMARY KEY (id, part) NOT ENFORCED".into(),
        };
        let partition = if w.partitioned {
            " PARTITIONED BY (part)"
        } else {
            ""
        };
        ddl.push(format!(
            "CREATE TABLE {} ({columns}{key}){partition} WITH ({})",
            w.table, w.options
        ));
    }
    let ddl: Vec<&str> = ddl.iter().map(String::as_str).collect();
    let mut cases = vec![FlinkCase::statements("ddl", false, &ddl)];
    for w in written {
        for (i, (streaming, statement)) in w.writes.iter().enumerate() {
            cases.push(
                FlinkCase::statements(
                    &format!("write_{}_{i}", short(w.table)),
                    *streaming,
                    &[statement],
                )
                .timeout(Duration::from_secs(120)),
            );
        }
    }
    for w in written {
        cases.push(FlinkCase::batch(
            &format!("read_{}", short(w.table)),
            &format!("SELECT * FROM {}", w.table),
        ));
    }
    // Flink's streaming reads of the tables' changes (lookup and input: their changelog files;
    // the others have changelog-producer none, which Flink normalizes).
    for table in STREAMED_TABLES {
        let mut case = FlinkCase::streaming(
            &format!("stream_{}", short(table)),
            &format!(
                "SELECT * FROM {table} {}",
                hints(&[
                    ("scan.mode", "from-snapshot"),
                    ("scan.snapshot-id", "1"),
                    ("continuous.discovery-interval", "100ms"),
                ])
            ),
        )
        .timeout(Duration::from_secs(60));
        // Every change exists before the query starts: once the first arrives, the rest follow
        // within the quiet period (generous: a loaded machine pauses between splits).
        case = case
            .min_rows(if table == "db.fw_lookup" {
                lookup_changes
            } else {
                1
            })
            .quiet(Duration::from_secs(8));
        cases.push(case);
    }
    cases
}

/// The key of a canonical row as our lookup takes it.
fn key_of(row: &Value, partitioned: bool) -> Vec<Datum> {
    let mut key = vec![Datum::BigInt(row["id"].as_i64().unwrap())];
    if partitioned {
        key.push(Datum::String(row["part"].as_str().unwrap().to_string()));
    }
    key
}

async fn our_scan(table: &Table) -> Result<Vec<Value>, String> {
    let scan = ScanBuilder::new(table);
    let schema = scan.output_schema().map_err(|e| e.to_string())?;
    let batches = scan.to_batches().await.map_err(|e| e.to_string())?;
    Ok(canonical_rows(&batches, &schema))
}

fn batch_rows(batch: &RecordBatch) -> Vec<Value> {
    canonical_rows(std::slice::from_ref(batch), &batch.schema())
}

/// The message of [`assert_same_rows`] when the rows differ.
fn differs(ours: &[Value], theirs: &[Value], what: &str) -> Option<String> {
    std::panic::catch_unwind(|| assert_same_rows(ours, theirs, what))
        .err()
        .map(|e| e.downcast_ref::<String>().cloned().unwrap_or_default())
}

/// Checks one table Flink wrote; returns a failure message, if any.
async fn check_table(warehouse: &Path, w: &Written, flink: &FlinkRun) -> Option<String> {
    let name = w.table;
    let read = format!("read_{}", short(name));
    let theirs = match flink.result(&read) {
        Ok(rows) => rows.clone(),
        Err(e) => return Some(format!("{name}: Flink's own read failed:\n{e}")),
    };
    let table = match open_table(warehouse.to_str().unwrap(), name).await {
        Ok(t) => t,
        Err(e) => return Some(format!("{name}: we cannot open it: {e}")),
    };
    let ours = match our_scan(&table).await {
        Ok(rows) => rows,
        Err(e) => return Some(format!("{name}: our scan failed: {e}")),
    };
    if let Some(f) = differs(&ours, &theirs, &format!("{name}: our scan vs Flink's read")) {
        return Some(f);
    }
    if w.primary_key {
        // Every key Flink returned, and one it did not: our get finds exactly Flink's rows.
        let mut keys: Vec<Vec<Datum>> = theirs.iter().map(|r| key_of(r, w.partitioned)).collect();
        let mut absent = vec![Datum::BigInt(1_000_000)];
        if w.partitioned {
            absent.push(Datum::String("odd".into()));
        }
        keys.push(absent);
        let found = match lookup::get(&table, &keys, None).await {
            Ok(found) => found,
            Err(e) => return Some(format!("{name}: our get failed: {e}")),
        };
        if found.positions.last() != Some(&None) {
            return Some(format!("{name}: get found an absent key"));
        }
        let got = batch_rows(&found.rows);
        if let Some(f) = differs(&got, &theirs, &format!("{name}: our get vs Flink's read")) {
            return Some(f);
        }
    }
    let mut kinds = vec![];
    for id in table.list_snapshot_ids().await.unwrap() {
        kinds.push(table.snapshot(id).await.unwrap().commit_kind.to_string());
    }
    if name == "db.fw_fixed" {
        // CALL sys.compact (after two INSERTs and a DELETE, before the last INSERT) committed
        // snapshot 4, a COMPACT one, which left files above level 0.
        let latest = table.snapshot_or_latest(None).await.unwrap().unwrap();
        let levels: Vec<i32> = table
            .all_live_files(&latest)
            .await
            .unwrap()
            .iter()
            .map(|e| e.file.level)
            .collect();
        if kinds.get(3).map(String::as_str) != Some("COMPACT") || !levels.iter().any(|l| *l > 0) {
            return Some(format!(
                "{name}: no compaction by CALL sys.compact: kinds {kinds:?}, levels {levels:?}"
            ));
        }
    }
    eprintln!("ok      {name}: {} rows, snapshots {kinds:?}", ours.len());
    None
}

#[tokio::test]
async fn flink_writes_tables_we_scan_get_and_tail() {
    let Some(bench) = java_bench() else { return };
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("wh");
    let warehouse = warehouse.as_path();
    let written = tables();
    // The lookup table's changes, as our tail will see them: first 30 +I, then 15 updates
    // (-U/+U) of which the second insert touches ids 1,3,..,29 (15 pairs) and adds 31..39
    // (5 +I), then 4 deletes (-D of ids 1..4). Flink's stream must give as many.
    let lookup_changes = 30 + 2 * 15 + 5 + 4;
    let mut cases = cases(&written, lookup_changes);
    // The two-writer table runs last in the same JVM (when the CLI binary is there).
    let shared = match cli_binary() {
        Some(bin) => Some(Shared::create(bin, warehouse, dir.path()).await),
        None => None,
    };
    if let Some(shared) = &shared {
        cases.extend(shared.cases());
    }
    let mut process = flink_spawn(&bench, warehouse, &cases);
    if let Some(shared) = &shared {
        shared.write_follow_alongside(&mut process);
    }
    let flink = process.finish();
    eprintln!(
        "Flink ran in one JVM in {:.1}s:\n{}",
        flink.elapsed.as_secs_f64(),
        flink.stderr.trim_end()
    );
    let mut failures = vec![];
    for (name, result) in &flink.results {
        if name.starts_with("write_") || name == "ddl" {
            if let Err(e) = result {
                failures.push(format!("Flink's {name} failed:\n{e}"));
            }
        }
    }
    for w in &written {
        if let Some(f) = check_table(warehouse, w, &flink).await {
            eprintln!("FAILED  {}", w.table);
            failures.push(f);
        }
    }

    // Changes: Flink's streaming read vs our tail, as multisets of (rowkind, row) (lookup and
    // input changelogs); for the changelog-producer none tables, vs our tail through Flink's
    // upsert normalization.
    for name in STREAMED_TABLES {
        let table = open_table(warehouse.to_str().unwrap(), name).await.unwrap();
        let ours = our_changes(&table, 1).await;
        let key: &[&str] = if name == "db.fw_partitioned" {
            &["id", "part"]
        } else {
            &["id"]
        };
        let expected = if name == "db.fw_lookup" || name == "db.fw_input" {
            ours.clone()
        } else {
            normalize_upserts(&ours, key)
        };
        let case = format!("stream_{}", short(name));
        match flink.result(&case) {
            Ok(theirs) => {
                let what = format!("{name}: Flink's stream vs our tail");
                let failure = differs(theirs, &expected, &what);
                let label = if failure.is_none() {
                    "ok     "
                } else {
                    "FAILED "
                };
                eprintln!(
                    "{label} {name} changes: our tail {} {:?}, Flink {} {:?} ({})",
                    ours.len(),
                    kinds(&ours),
                    theirs.len(),
                    kinds(theirs),
                    flink.line(&case)
                );
                failures.extend(failure);
            }
            Err(e) => failures.push(format!("Flink's stream of {name} failed:\n{e}")),
        }
    }
    if let Some(shared) = &shared {
        failures.extend(shared.verify(&flink).await);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

const STREAMED: i64 = 2000;
const FLINK_ROWS: i64 = 1000;

/// Two writers, one table: a Flink streaming `INSERT` (a datagen source of 1 000 rows at 100 per
/// second, a commit per checkpoint, write-only like any second writer of a table whose
/// compaction one writer owns) and our `streamhouse write --follow` (2 000 JSON lines over
/// about 6 s, a commit every 200 ms, compacting in the writer) commit to `db.shared` at the
/// same time. Then: contiguous snapshot ids, the writers' commits interleaved, every row of both
/// writers there (the last version of each key), and our scan, our get and Flink's read (which
/// waits for `ours_done`) all equal that.
struct Shared {
    bin: std::path::PathBuf,
    location: String,
    ours_done: std::path::PathBuf,
}

impl Shared {
    async fn create(bin: std::path::PathBuf, warehouse: &Path, scratch: &Path) -> Shared {
        let location = warehouse.to_str().unwrap().to_string();
        std::fs::create_dir_all(warehouse).unwrap();
        let columns = "id BIGINT NOT NULL, src STRING, n BIGINT";
        let options = [("bucket", "2")];
        create_table(&location, "db.shared", columns, &[], &["id"], &options).await;
        Shared {
            bin,
            location,
            ours_done: scratch.join("ours-done"),
        }
    }

    fn cases(&self) -> Vec<FlinkCase> {
        vec![
            FlinkCase::statements(
                "shared_flink_writes",
                true,
                &[
                    &format!(
                        "CREATE TEMPORARY TABLE gen (id BIGINT) WITH ('connector' = 'datagen', \
                         'rows-per-second' = '100', 'fields.id.kind' = 'sequence', \
                         'fields.id.start' = '1', 'fields.id.end' = '{FLINK_ROWS}')"
                    ),
                    "INSERT INTO db.shared /*+ OPTIONS('write-only' = 'true') */ \
                     SELECT id + 100000, 'flink', id FROM gen",
                ],
            )
            .timeout(Duration::from_secs(180)),
            FlinkCase::batch("shared_flink_reads", "SELECT * FROM db.shared")
                .await_file(&self.ours_done)
                .timeout(Duration::from_secs(300)),
        ]
    }

    /// Once Flink's INSERT was submitted: our `write --follow` to its end, then `ours_done`.
    fn write_follow_alongside(&self, flink: &mut FlinkProcess) {
        flink.wait_running("shared_flink_writes", Duration::from_secs(300));
        let mut follow = cli(
            &self.bin,
            &self.location,
            &[
                "write",
                "db.shared",
                "--follow",
                "--format",
                "json",
                "--commit-interval",
                "200ms",
            ],
        )
        .spawn()
        .expect("start write --follow");
        let mut stdin = follow.stdin.take().unwrap();
        for id in 0..STREAMED {
            // Updates of earlier keys too, so the in-writer compaction has work.
            let line = json!({"id": id % 1500, "src": "stream", "n": id});
            writeln!(stdin, "{line}").expect("write --follow reads its input");
            if id % 10 == 0 {
                stdin.flush().unwrap();
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        drop(stdin);
        let out = wait_bounded(follow, Duration::from_secs(120));
        std::fs::write(&self.ours_done, "").unwrap();
        assert!(
            out.status.success(),
            "write --follow failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    async fn verify(&self, run: &FlinkRun) -> Vec<String> {
        if let Err(e) = run.result("shared_flink_writes") {
            return vec![format!(
                "Flink's streaming INSERT into db.shared failed:\n{e}"
            )];
        }
        let mut expected = BTreeMap::new();
        for id in 0..STREAMED {
            expected.insert(
                id % 1500,
                json!({"id": id % 1500, "src": "stream", "n": id}),
            );
        }
        for id in 1..=FLINK_ROWS {
            expected.insert(
                100_000 + id,
                json!({"id": 100_000 + id, "src": "flink", "n": id}),
            );
        }
        let expected: Vec<Value> = expected.into_values().collect();
        let table = open_table(&self.location, "db.shared").await.unwrap();
        let ours = our_scan(&table).await.unwrap();
        let keys: Vec<Vec<Datum>> = expected
            .iter()
            .map(|r| vec![Datum::BigInt(r["id"].as_i64().unwrap())])
            .collect();
        let found = batch_rows(&lookup::get(&table, &keys, None).await.unwrap().rows);
        let ids = table.list_snapshot_ids().await.unwrap();
        let mut appenders = vec![];
        let mut counts = BTreeMap::new();
        for id in &ids {
            let s = table.snapshot(*id).await.unwrap();
            *counts
                .entry((s.commit_user.clone(), s.commit_kind.to_string()))
                .or_insert(0) += 1;
            if s.commit_kind.to_string() == "APPEND" {
                appenders.push(s.commit_user.clone());
            }
        }
        let switches = appenders.windows(2).filter(|w| w[0] != w[1]).count();
        eprintln!(
            "db.shared: {} snapshots by (commit user, kind) {counts:?}; the appending writer \
             changes {switches} times",
            ids.len()
        );
        let flink_rows = run.rows("shared_flink_reads").to_vec();
        let outcome = std::panic::catch_unwind(move || {
            assert_same_rows(&ours, &expected, "db.shared: our scan");
            assert_same_rows(&flink_rows, &expected, "db.shared: Flink's read");
            assert_same_rows(&found, &expected, "db.shared: our get of every key");
            assert_eq!(
                ids,
                (1..=ids.len() as i64).collect::<Vec<_>>(),
                "db.shared: contiguous snapshot ids"
            );
            assert!(
                switches >= 2,
                "db.shared: the two writers' commits interleave: {appenders:?}"
            );
        });
        match outcome {
            Ok(()) => {
                eprintln!("ok      db.shared: {} rows", FLINK_ROWS + 1500);
                vec![]
            }
            Err(e) => vec![e.downcast_ref::<String>().cloned().unwrap_or_default()],
        }
    }
}
