//! Flink 1.20 SQL streams tables we wrote (Paimon's Flink source, `scan.mode = from-snapshot`):
//! for each changelog producer (none, input, lookup, full-compaction) Flink's streaming read
//! from snapshot 1 gives the changes our tail (`TailBuilder`, what `streamhouse tail --from
//! snapshot:1` prints) gives, compared as multisets of (rowkind, row); a live read sees the
//! commits we make while it runs; a live lookup join sees our new versions as our get does.
//! Each streaming query is bounded (the expected row count, then a quiet period; a timeout).
//! The cases run in `flink_reads_ours`'s JVM (one JVM for the direction "Flink reads ours").
//!
//! With `changelog-producer = none` a primary-key table has no changelog files, and Paimon's
//! Flink source declares itself an upsert source: Flink's planner puts a `ChangelogNormalize`
//! (per-key state) after it, which turns the raw records into a proper changelog. So for
//! `none` Flink's stream equals our tail fed through the same normalization
//! ([`normalize_upserts`]), not our raw rows; see that function for the rules. Observed on
//! [`write_history`]: our tail gives 62 changes (+I 43, +U 12, -D 7: a commit's data files
//! keep the last record of each key, so the -U written just before a +U of the same key is
//! gone), Flink 74 (+I 43, -U 12, +U 12, -D 7: an update-before for every update). With
//! input, lookup and full-compaction the kinds and rows are the same on both sides, -U/+U
//! included (input: 72 changes with the 10 -U as written; lookup and full-compaction: 42).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use streamhouse_compaction::{CompactOptions, Compactor};
use streamhouse_format::datum::Datum;
use streamhouse_format::io::Table;
use streamhouse_reader::incremental::{StartPosition, TailBuilder, TailEvent};
use streamhouse_reader::lookup;

use crate::flink_support::{hints, FlinkCase, FlinkProcess, FlinkRun};
use crate::interop_support::assert_same_rows;
use crate::java_support::canonical_rows;
use crate::procs::{cli, cli_binary};
use crate::support::{create_id_table, write_commit_in_batches};

const PRODUCERS: [&str; 4] = ["none", "input", "lookup", "full-compaction"];

/// Our tail of `table` from snapshot `from` to the latest, as canonical rows with `rowkind`.
pub(crate) async fn our_changes(table: &Table, from: i64) -> Vec<Value> {
    let mut tail = TailBuilder::new(table)
        .start(StartPosition::FromSnapshot(from))
        .build()
        .await
        .unwrap();
    let mut rows = vec![];
    while let Some(event) = tail.next().await.unwrap() {
        if let TailEvent::Changes(changes) = event {
            let batch = changes.with_kind_column("rowkind").unwrap();
            rows.extend(canonical_rows(
                std::slice::from_ref(&batch),
                &batch.schema(),
            ));
        }
    }
    rows
}

fn row(id: i64, v: Option<&str>, n: Option<i64>) -> Value {
    json!({"id": id, "v": v, "n": n})
}

/// Commits of inserts, -U/+U pairs, bare +U, deletes and re-inserts, with compactions in
/// between (the changelog of lookup and full-compaction tables comes from them); ends with a
/// full compaction so that every change is in some changelog.
///
/// Observed (and asserted by the multiset comparison): `input` gives every record as written,
/// `-U` included; `lookup` and `full-compaction` give the changelog compaction made (`-U`/`+U`
/// pairs of the old and new row, `-D` of the old row); both sides agree on each.
async fn write_history(table: &Table) {
    let c = |records: Vec<(&'static str, Value)>| records;
    let commits = [
        c((1..=40)
            .map(|i| ("+I", row(i, Some("v1"), Some(i))))
            .collect()),
        c((1..=10)
            .flat_map(|i| {
                [
                    ("-U", row(i, Some("v1"), Some(i))),
                    ("+U", row(i, Some("v2"), Some(-i))),
                ]
            })
            .chain((11..=15).map(|i| ("-D", row(i, Some("v1"), Some(i)))))
            .collect()),
        c(vec![
            ("+U", row(20, Some("bare +U"), None)),
            ("+I", row(11, Some("back"), Some(11))),
            ("+I", row(100, Some("new"), Some(100))),
            ("-D", row(21, Some("v1"), Some(21))),
        ]),
        c(vec![
            ("+I", row(101, Some("new"), Some(101))),
            ("-D", row(100, Some("new"), Some(100))),
            ("+U", row(1, Some("v3"), Some(3))),
        ]),
    ];
    // Full-compaction tables make their changelog only in full compactions.
    let always_full =
        table.schema.options.get("changelog-producer") == Some(&"full-compaction".to_string());
    for (i, records) in commits.iter().enumerate() {
        write_commit_in_batches(table, records, 1000).await;
        if i % 2 == 1 {
            Compactor::new(table.clone())
                .unwrap()
                .compact_table(&CompactOptions {
                    full: always_full || i == commits.len() - 1,
                    ..Default::default()
                })
                .await
                .unwrap();
        }
    }
}

/// What Flink's `ChangelogNormalize` (keep the last row per key, emit update-before) makes of
/// an upsert stream: `+I`/`+U` of a new key → `+I`; of a known key → `-U` (the stored row) and
/// `+U`, or nothing when the row equals the stored one; `-D` of a known key → `-D` with the
/// stored row; `-D` of an unknown key → nothing; `-U` records are dropped (an upsert source
/// never carries them).
pub fn normalize_upserts(changes: &[Value], key: &[&str]) -> Vec<Value> {
    let mut state: BTreeMap<String, Value> = BTreeMap::new();
    let mut out = vec![];
    let with_kind = |row: &Value, kind: &str| {
        let mut row = row.clone();
        row["rowkind"] = json!(kind);
        row
    };
    for change in changes {
        let mut row = change.clone();
        let kind = row
            .as_object_mut()
            .unwrap()
            .remove("rowkind")
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        let k: Vec<String> = key.iter().map(|c| row[*c].to_string()).collect();
        let k = k.join("\u{1}");
        match kind.as_str() {
            "+I" | "+U" => match state.insert(k, row.clone()) {
                None => out.push(with_kind(&row, "+I")),
                Some(previous) if previous == row => {}
                Some(previous) => {
                    out.push(with_kind(&previous, "-U"));
                    out.push(with_kind(&row, "+U"));
                }
            },
            "-D" => {
                if let Some(previous) = state.remove(&k) {
                    out.push(with_kind(&previous, "-D"));
                }
            }
            _ => {}
        }
    }
    out
}

pub fn kinds(rows: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in rows {
        *counts
            .entry(r["rowkind"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    counts
}

fn table_name(producer: &str) -> String {
    format!("db.stream_{}", producer.replace('-', "_"))
}

/// The streaming cases: per changelog producer a table with [`write_history`] and a streaming
/// read from snapshot 1 (case name: the producer, `-` as `_`).
pub struct StreamChecks {
    pub cases: Vec<FlinkCase>,
    /// Per case: our tail, and what Flink must give (normalized for `none`).
    expected: BTreeMap<String, (Vec<Value>, Vec<Value>)>,
}

pub async fn stream_checks(warehouse: &Path) -> StreamChecks {
    let mut expected = BTreeMap::new();
    let mut cases = vec![];
    let cli_bin = cli_binary();
    for producer in PRODUCERS {
        let name = table_name(producer);
        let table = create_id_table(
            warehouse.to_str().unwrap(),
            &name,
            "id BIGINT NOT NULL, v STRING, n BIGINT",
            &[("bucket", "2"), ("changelog-producer", producer)],
        )
        .await;
        write_history(&table).await;
        let ours = our_changes(&table, 1).await;
        assert!(!ours.is_empty(), "{name}: our tail is empty");
        if let Some(bin) = &cli_bin {
            // The library's tail is what `streamhouse tail` prints (these columns' JSON is
            // already canonical).
            let out = cli(
                bin,
                warehouse.to_str().unwrap(),
                &["tail", &name, "--from", "snapshot:1", "--output", "json"],
            )
            .output()
            .unwrap();
            assert!(out.status.success(), "streamhouse tail {name}: {out:?}");
            let printed: Vec<Value> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_same_rows(
                &printed,
                &ours,
                &format!("{name}: `streamhouse tail --from snapshot:1` vs TailBuilder"),
            );
        }
        let flink_expects = if producer == "none" {
            normalize_upserts(&ours, &["id"])
        } else {
            ours.clone()
        };
        let query = format!(
            "SELECT * FROM {name} {}",
            hints(&[
                ("scan.mode", "from-snapshot"),
                ("scan.snapshot-id", "1"),
                ("continuous.discovery-interval", "100ms"),
            ])
        );
        let case = format!("stream_{}", producer.replace('-', "_"));
        cases.push(
            FlinkCase::streaming(&case, &query)
                .min_rows(flink_expects.len() as u64)
                .quiet(Duration::from_secs(3))
                .timeout(Duration::from_secs(90)),
        );
        expected.insert(case, (ours, flink_expects));
    }
    StreamChecks { cases, expected }
}

impl StreamChecks {
    /// Flink's stream vs our tail for every producer; the failures.
    pub fn verify(&self, flink: &FlinkRun) -> Vec<String> {
        let mut failures = vec![];
        for (case, (ours, flink_expects)) in &self.expected {
            let theirs = match flink.result(case) {
                Ok(rows) => rows,
                Err(e) => {
                    failures.push(format!("{case}: Flink failed:\n{e}"));
                    continue;
                }
            };
            let outcome = std::panic::catch_unwind(|| {
                assert_same_rows(
                    theirs,
                    flink_expects,
                    &format!("{case}: Flink's stream vs our tail"),
                )
            });
            eprintln!(
                "{} {case}: our tail {} rows {:?}; Flink {} rows {:?} ({})",
                if outcome.is_ok() {
                    "ok     "
                } else {
                    "FAILED "
                },
                ours.len(),
                kinds(ours),
                theirs.len(),
                kinds(theirs),
                flink.line(case)
            );
            if let Err(e) = outcome {
                failures.push(
                    e.downcast_ref::<String>()
                        .cloned()
                        .unwrap_or_else(|| "panic".into()),
                );
            }
        }
        failures
    }
}

/// A live streaming read: Flink reads `db.live` from snapshot 2 while we commit one row at a
/// time ([`LiveCheck::commit_while_flink_reads`]); every commit arrives, and each row's delay
/// from our commit returning to Flink's client receiving it is reported
/// (`continuous.discovery-interval = 100ms`; the query runs without checkpoints, so rows are
/// not held back for one).
pub struct LiveCheck {
    pub case: FlinkCase,
    table: Table,
    committed_at: BTreeMap<i64, i64>,
}

const LIVE_COMMITS: i64 = 20;

pub async fn live_check(warehouse: &Path) -> LiveCheck {
    let table = create_id_table(
        warehouse.to_str().unwrap(),
        "db.live",
        "id BIGINT NOT NULL, v STRING, n BIGINT",
        &[("bucket", "2"), ("changelog-producer", "input")],
    )
    .await;
    write_commit_in_batches(&table, &[("+I", row(0, Some("before"), Some(0)))], 10).await;
    let query = format!(
        "SELECT * FROM db.live {}",
        hints(&[
            ("scan.mode", "from-snapshot"),
            ("scan.snapshot-id", "2"),
            ("continuous.discovery-interval", "100ms"),
        ])
    );
    let case = FlinkCase::streaming("live", &query)
        .with_arrival()
        .min_rows(LIVE_COMMITS as u64)
        .max_rows(LIVE_COMMITS as u64)
        .timeout(Duration::from_secs(120));
    LiveCheck {
        case,
        table,
        committed_at: BTreeMap::new(),
    }
}

impl LiveCheck {
    /// Once Flink's live query runs: one commit every 300 ms.
    pub async fn commit_while_flink_reads(&mut self, flink: &mut FlinkProcess) {
        flink.wait_running("live", Duration::from_secs(300));
        // The job runs; give its source a moment to plan its first (empty) scan.
        tokio::time::sleep(Duration::from_secs(2)).await;
        for i in 1..=LIVE_COMMITS {
            let id =
                write_commit_in_batches(&self.table, &[("+I", row(i, Some("live"), Some(i)))], 10)
                    .await;
            assert_eq!(id, i + 1);
            self.committed_at.insert(i, now_millis());
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    pub fn verify(&self, flink: &FlinkRun) -> Vec<String> {
        let rows = match flink.result("live") {
            Ok(rows) => rows,
            Err(e) => return vec![format!("live: Flink failed:\n{e}")],
        };
        let mut seen: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        seen.sort_unstable();
        if seen != (1..=LIVE_COMMITS).collect::<Vec<_>>() {
            return vec![format!(
                "live: Flink saw ids {seen:?}, not each of 1..={LIVE_COMMITS} once ({})",
                flink.line("live")
            )];
        }
        let mut delays = vec![];
        for r in rows {
            if r["rowkind"] != json!("+I") {
                return vec![format!("live: a row of kind {}: {r}", r["rowkind"])];
            }
            let id = r["id"].as_i64().unwrap();
            delays.push(r["arrival_ms"].as_i64().unwrap() - self.committed_at[&id]);
        }
        delays.sort_unstable();
        eprintln!(
            "ok      live: commit → Flink delay over {LIVE_COMMITS} commits \
             (continuous.discovery-interval = 100ms): min {} ms, median {} ms, max {} ms",
            delays[0],
            delays[delays.len() / 2],
            delays[delays.len() - 1]
        );
        if delays[delays.len() - 1] >= 10_000 {
            return vec![format!(
                "live: a commit took more than 10 s to reach Flink: {delays:?}"
            )];
        }
        vec![]
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

const JOIN_KEYS: i64 = 50;
const JOIN_PROBES: i64 = 2000;
const JOIN_VERSIONS: i64 = 8;

/// A live lookup join: a datagen probe stream (2 000 rows at 100 per second, keys 0..49) joins
/// `db.dim_live` `FOR SYSTEM_TIME AS OF` its processing time while we commit new versions of
/// every key (version 0 before the job, then 1..=8 every 700 ms; the row of key k at version
/// i is `v = "k<k>-v<i>"`, committed as snapshot i + 1). Every joined row must be the row our
/// get returns for that key at the snapshot of its version, a version whose commit began before
/// the row arrived; the join must see several versions while we write, and rows arriving 3 s after
/// our last commit must see the last version.
pub struct LiveJoinCheck {
    pub case: FlinkCase,
    table: Table,
    /// Per version: when its commit began (nothing can see it earlier).
    started_at: Vec<i64>,
    /// When our last commit returned.
    last_commit: i64,
}

fn dim_row(k: i64, version: i64) -> Value {
    json!({"id": k, "ver": version, "v": format!("k{k}-v{version}")})
}

pub async fn live_join_check(warehouse: &Path) -> LiveJoinCheck {
    let table = create_id_table(
        warehouse.to_str().unwrap(),
        "db.dim_live",
        "id BIGINT NOT NULL, ver BIGINT, v STRING",
        &[("bucket", "2")],
    )
    .await;
    let rows: Vec<(&str, Value)> = (0..JOIN_KEYS).map(|k| ("+I", dim_row(k, 0))).collect();
    assert_eq!(write_commit_in_batches(&table, &rows, 1000).await, 1);
    let case = FlinkCase::streaming(
        "live_join",
        &format!(
            "SELECT p.k, p.seq, d.id, d.ver, d.v FROM \
             (SELECT seq % {JOIN_KEYS} AS k, seq, PROCTIME() AS pt FROM probe) AS p \
             LEFT JOIN db.dim_live {} FOR SYSTEM_TIME AS OF p.pt AS d ON p.k = d.id",
            hints(&[("continuous.discovery-interval", "100ms")])
        ),
    )
    .query_setup(&[&format!(
        "CREATE TEMPORARY TABLE probe (seq BIGINT) WITH ('connector' = 'datagen', \
         'rows-per-second' = '100', 'fields.seq.kind' = 'sequence', \
         'fields.seq.start' = '0', 'fields.seq.end' = '{}')",
        JOIN_PROBES - 1
    )])
    .without_row_kind()
    .with_arrival()
    .min_rows(JOIN_PROBES as u64)
    .timeout(Duration::from_secs(120));
    LiveJoinCheck {
        case,
        table,
        started_at: vec![0],
        last_commit: 0,
    }
}

impl LiveJoinCheck {
    /// Once the join runs: a new version of every key every 700 ms.
    pub async fn commit_while_flink_joins(&mut self, flink: &mut FlinkProcess) {
        flink.wait_running("live_join", Duration::from_secs(300));
        tokio::time::sleep(Duration::from_secs(1)).await;
        for version in 1..=JOIN_VERSIONS {
            let rows: Vec<(&str, Value)> = (0..JOIN_KEYS)
                .map(|k| ("+U", dim_row(k, version)))
                .collect();
            self.started_at.push(now_millis());
            let id = write_commit_in_batches(&self.table, &rows, 1000).await;
            assert_eq!(id, version + 1);
            self.last_commit = now_millis();
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
    }

    pub async fn verify(&self, flink: &FlinkRun) -> Vec<String> {
        let rows = match flink.result("live_join") {
            Ok(rows) => rows,
            Err(e) => return vec![format!("live_join: Flink failed:\n{e}")],
        };
        if rows.len() as i64 != JOIN_PROBES {
            return vec![format!(
                "live_join: {} rows for {JOIN_PROBES} probes ({})",
                rows.len(),
                flink.line("live_join")
            )];
        }
        // Our get of every key at every version's snapshot.
        let keys: Vec<Vec<Datum>> = (0..JOIN_KEYS).map(|k| vec![Datum::BigInt(k)]).collect();
        let mut ours = BTreeMap::new();
        for version in 0..=JOIN_VERSIONS {
            let found = lookup::get(&self.table, &keys, Some(version + 1))
                .await
                .unwrap();
            for row in canonical_rows(std::slice::from_ref(&found.rows), &found.rows.schema()) {
                ours.insert((row["id"].as_i64().unwrap(), version), row);
            }
        }
        let last_commit = self.last_commit;
        let mut failures = vec![];
        let mut seen = BTreeMap::new();
        for r in rows {
            let (k, arrival) = (r["k"].as_i64().unwrap(), r["arrival_ms"].as_i64().unwrap());
            let Some(version) = r["ver"].as_i64() else {
                failures.push(format!("live_join: key {k} found nothing: {r}"));
                continue;
            };
            *seen.entry(version).or_insert(0) += 1;
            let joined = json!({"id": r["id"], "ver": r["ver"], "v": r["v"]});
            if ours.get(&(k, version)) != Some(&joined) {
                failures.push(format!(
                    "live_join: {joined} is not our get of key {k} at snapshot {}: {:?}",
                    version + 1,
                    ours.get(&(k, version))
                ));
            }
            if self
                .started_at
                .get(version as usize)
                .is_none_or(|t| *t > arrival)
            {
                failures.push(format!(
                    "live_join: version {version} arrived at {arrival}, before its commit began"
                ));
            }
            if arrival > last_commit + 3000 && version != JOIN_VERSIONS {
                failures.push(format!(
                    "live_join: {}ms after our last commit key {k} still joins version {version}",
                    arrival - last_commit
                ));
            }
        }
        eprintln!(
            "{} live_join: {} probes joined, rows per version seen {seen:?} ({})",
            if failures.is_empty() {
                "ok     "
            } else {
                "FAILED "
            },
            rows.len(),
            flink.line("live_join")
        );
        if seen.len() < 3 {
            failures.push(format!(
                "live_join: the join saw too few of our versions while we wrote: {seen:?}"
            ));
        }
        failures.truncate(10);
        failures
    }
}
