//! Flink 1.20 SQL streams tables we wrote (Paimon's Flink source, `scan.mode = from-snapshot`):
//! for each changelog producer (none, input, lookup, full-compaction) Flink's streaming read
//! from snapshot 1 gives the changes our tail (`TailBuilder`, what `streamhouse tail --from
//! snapshot:1` prints) gives, compared as multisets of (rowkind, row). One JVM runs every
//! streaming query, each bounded (the expected row count, then a quiet period; a timeout).
//!
//! With `changelog-producer = none` a primary-key table has no changelog files, and Paimon's
//! Flink source declares itself an upsert source: Flink's planner puts a `ChangelogNormalize`
//! (per-key state) after it, which turns the raw records into a proper changelog. So for
//! `none` Flink's stream equals our tail fed through the same normalization
//! ([`normalize_upserts`]), not our raw rows; see that function for the rules.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use streamhouse_compaction::{CompactOptions, Compactor};
use streamhouse_format::io::Table;
use streamhouse_reader::incremental::{StartPosition, TailBuilder, TailEvent};

use crate::flink_support::{flink_run, flink_spawn, hints, FlinkCase};
use crate::interop_support::assert_same_rows;
use crate::java_support::{canonical_rows, java_bench};
use crate::support::{create_table, write_commit_in_batches};

const PRODUCERS: [&str; 4] = ["none", "input", "lookup", "full-compaction"];

/// Our tail of `table` from snapshot `from` to the latest, as canonical rows with `rowkind`.
async fn our_changes(table: &Table, from: i64) -> Vec<Value> {
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
fn normalize_upserts(changes: &[Value], key: &str) -> Vec<Value> {
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
        let k = row[key].to_string();
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

fn kinds(rows: &[Value]) -> BTreeMap<String, usize> {
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

#[tokio::test]
async fn flink_streams_our_changes_for_every_changelog_producer() {
    let Some(bench) = java_bench() else { return };
    let dir = tempfile::tempdir().unwrap();
    let warehouse: &Path = dir.path();
    let mut expected = BTreeMap::new();
    let mut cases = vec![];
    for producer in PRODUCERS {
        let name = table_name(producer);
        let table = create_table(
            warehouse.to_str().unwrap(),
            &name,
            "id BIGINT NOT NULL, v STRING, n BIGINT",
            &[],
            &["id"],
            &[("bucket", "2"), ("changelog-producer", producer)],
        )
        .await;
        write_history(&table).await;
        let ours = our_changes(&table, 1).await;
        assert!(!ours.is_empty(), "{name}: our tail is empty");
        let flink_expects = if producer == "none" {
            normalize_upserts(&ours, "id")
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
        let case = producer.replace('-', "_");
        cases.push(
            FlinkCase::streaming(&case, &query)
                .min_rows(flink_expects.len() as u64)
                .quiet(Duration::from_secs(3))
                .timeout(Duration::from_secs(90)),
        );
        expected.insert(case, (ours, flink_expects));
    }
    let flink = flink_run(&bench, warehouse, &cases);
    eprintln!(
        "Flink streamed {} tables in one JVM in {:.1}s:\n{}",
        cases.len(),
        flink.elapsed.as_secs_f64(),
        flink.stderr.trim_end()
    );
    let mut failures = vec![];
    for (case, (ours, flink_expects)) in &expected {
        let theirs = flink.rows(case);
        eprintln!(
            "{case}: our tail {} rows {:?}; Flink {} rows {:?} ({})",
            ours.len(),
            kinds(ours),
            theirs.len(),
            kinds(theirs),
            flink.line(case)
        );
        if let Err(e) = std::panic::catch_unwind(|| {
            assert_same_rows(
                theirs,
                flink_expects,
                &format!("changelog-producer={case}: Flink's stream vs our tail"),
            )
        }) {
            failures.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "panic".into()),
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A live streaming read: Flink reads from snapshot 2 while we commit one row at a time; every
/// commit arrives, and each row's delay from our commit returning to Flink's client receiving it
/// is reported (`continuous.discovery-interval = 100ms`; the query runs without checkpoints, so
/// rows are not held back for one).
#[tokio::test]
async fn flink_sees_our_commits_live() {
    let Some(bench) = java_bench() else { return };
    let dir = tempfile::tempdir().unwrap();
    let warehouse: &Path = dir.path();
    let table = create_table(
        warehouse.to_str().unwrap(),
        "db.live",
        "id BIGINT NOT NULL, v STRING, n BIGINT",
        &[],
        &["id"],
        &[("bucket", "2"), ("changelog-producer", "input")],
    )
    .await;
    write_commit_in_batches(&table, &[("+I", row(0, Some("before"), Some(0)))], 10).await;
    const COMMITS: i64 = 20;
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
        .min_rows(COMMITS as u64)
        .max_rows(COMMITS as u64)
        .timeout(Duration::from_secs(120));
    let mut flink = flink_spawn(&bench, warehouse, &[case]);
    flink.wait_running("live", Duration::from_secs(120));
    // The job runs; give its source a moment to plan its first (empty) scan.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut committed_at = BTreeMap::new();
    for i in 1..=COMMITS {
        let id =
            write_commit_in_batches(&table, &[("+I", row(i, Some("live"), Some(i)))], 10).await;
        assert_eq!(id, i + 1);
        committed_at.insert(i, now_millis());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let run = flink.finish();
    eprintln!("{}", run.stderr.trim_end());
    let rows = run.rows("live");
    let mut delays = vec![];
    for r in rows {
        let id = r["id"].as_i64().unwrap();
        assert_eq!(r["rowkind"], json!("+I"), "{r}");
        let arrival = r["arrival_ms"].as_i64().unwrap();
        delays.push(arrival - committed_at[&id]);
    }
    let mut seen: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=COMMITS).collect::<Vec<_>>(),
        "every commit arrives, once"
    );
    delays.sort_unstable();
    eprintln!(
        "commit → Flink delay over {COMMITS} commits (continuous.discovery-interval = 100ms): \
         min {} ms, median {} ms, max {} ms",
        delays[0],
        delays[delays.len() / 2],
        delays[delays.len() - 1]
    );
    assert!(
        delays[delays.len() - 1] < 10_000,
        "a commit took more than 10 s to reach Flink: {delays:?}"
    );
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
