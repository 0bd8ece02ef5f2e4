//! Backend conformance: one test body — create, write (inserts, updates, deletes), scan every
//! snapshot, tail the changes, get keys, compact, expire, clean orphans, and read the result again
//! (with pypaimon too where it can reach the storage) — run against the local disk, the
//! in-process `memory://` store and the moto S3 server. The behaviour must not depend on the
//! backend.
//!
//! `get` (primary-key lookups) is checked before compaction, after it and after expiration,
//! against the rows a scan holds for the same keys.

use std::collections::BTreeMap;
use std::time::Duration;

use arrow::array::RecordBatch;
use serde_json::{json, Value};
use streamhouse_compaction::BucketOutcome;
use streamhouse_format::datum::Datum;
use streamhouse_format::io::expire::{expire_snapshots_at, ExpireConfig};
use streamhouse_format::io::orphans::clean_orphans;
use streamhouse_format::io::Table;
use streamhouse_format::snapshot::CommitKind;
use streamhouse_reader::incremental::{StartPosition, TailBuilder, TailEvent};
use streamhouse_reader::lookup;

use crate::interop_support::{
    arrow_rows_canonical, assert_same_rows, pypaimon_read, python, s3_endpoint, S3_BUCKET,
};
use crate::support::{
    compact_fully, create_table, inserts, open_table, scan_rows, try_scan_rows, unique,
    write_commit, Engine, Model,
};

const NAME: &str = "db.orders";

fn order(region: &str, id: i64, qty: i64, note: Option<&str>) -> Value {
    json!({"region": region, "id": id, "qty": qty, "note": note})
}

/// The three commits every backend receives.
fn commits() -> Vec<Vec<(&'static str, Value)>> {
    let c1 = inserts(
        ["eu", "us"]
            .iter()
            .flat_map(|r| (1..=15).map(move |id| order(r, id, id, None)))
            .collect(),
    );
    let c2 = vec![
        ("+U", order("eu", 1, 100, Some("updated"))),
        ("-D", order("us", 2, 2, None)),
        ("+I", order("ap", 1, 7, Some("new partition"))),
        ("+U", order("us", 3, 33, None)),
    ];
    let c3 = vec![
        ("-D", order("ap", 1, 7, None)),
        ("+I", order("us", 2, 22, Some("back"))),
        ("+I", order("eu", 16, 16, None)),
    ];
    vec![c1, c2, c3]
}

/// `(kind, region, id)` of every change, sorted, per snapshot id, as a tail reports them.
async fn tail_changes(table: &Table, from: i64) -> BTreeMap<i64, Vec<(String, String, i64)>> {
    let mut tail = TailBuilder::new(table)
        .start(StartPosition::FromSnapshot(from))
        .build()
        .await
        .unwrap_or_else(|e| panic!("tail of {}: {e}", table.name));
    let mut out: BTreeMap<i64, Vec<(String, String, i64)>> = BTreeMap::new();
    let mut ended = vec![];
    while let Some(event) = tail.next().await.unwrap() {
        match event {
            TailEvent::Changes(b) => {
                let kinds = b.kind_strings();
                // Canonical rows come back sorted, so pair each kind with its row one by one.
                for i in 0..b.num_rows() {
                    let one: RecordBatch = b.rows.slice(i, 1);
                    let r = &arrow_rows_canonical(std::slice::from_ref(&one), &one.schema())[0];
                    out.entry(b.snapshot_id).or_default().push((
                        kinds.value(i).to_string(),
                        r["region"].as_str().unwrap().to_string(),
                        r["id"].as_i64().unwrap(),
                    ));
                }
            }
            TailEvent::SnapshotEnd(info) => ended.push(info.id),
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    let latest = table.latest_snapshot_id().await.unwrap().unwrap();
    assert_eq!(
        ended,
        (from..=latest).collect::<Vec<_>>(),
        "every snapshot ends once"
    );
    out
}

fn expected_changes(records: &[(&str, Value)]) -> Vec<(String, String, i64)> {
    let mut v: Vec<(String, String, i64)> = records
        .iter()
        .map(|(k, r)| {
            (
                k.to_string(),
                r["region"].as_str().unwrap().to_string(),
                r["id"].as_i64().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Primary-key lookups (`streamhouse_reader::lookup::get`) of `(region, id)` keys: the found
/// rows, canonical and sorted.
async fn get_rows(table: &Table, keys: &[(&str, i64)]) -> Vec<Value> {
    let keys: Vec<Vec<Datum>> = keys
        .iter()
        .map(|(r, id)| vec![Datum::String(r.to_string()), Datum::BigInt(*id)])
        .collect();
    let found = lookup::get(table, &keys, None)
        .await
        .unwrap_or_else(|e| panic!("get on {}: {e}", table.name));
    arrow_rows_canonical(std::slice::from_ref(&found.rows), &found.rows.schema())
}

/// What the model holds for these keys.
/// The latest rows of `table` are `rows`, by a scan and by a get of [`KEYS`].
async fn scan_and_get(table: &Table, rows: &[Value], what: &str) {
    let scanned = scan_rows(table, None, None).await;
    assert_same_rows(&scanned, rows, &format!("{what}: scan"));
    let got = get_rows(table, &KEYS).await;
    assert_same_rows(&got, &model_rows(rows, &KEYS), &format!("{what}: get"));
}

fn model_rows(rows: &[Value], keys: &[(&str, i64)]) -> Vec<Value> {
    rows.iter()
        .filter(|r| {
            keys.iter()
                .any(|(region, id)| r["region"] == *region && r["id"] == *id)
        })
        .cloned()
        .collect()
}

/// Keys to look up: updated, deleted then re-inserted, deleted, never written.
const KEYS: [(&str, i64); 5] = [("eu", 1), ("us", 2), ("ap", 1), ("us", 3), ("eu", 99)];

/// The whole conformance body against the warehouse at `location`. `pypaimon_path` is the
/// table path pypaimon can read, if any.
async fn conformance(location: &str, backend: &str, pypaimon_path: Option<String>) {
    let table = create_table(
        location,
        NAME,
        "region STRING, id BIGINT, qty BIGINT, note STRING",
        &["region"],
        &["region", "id"],
        &[("bucket", "2")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let mut per_snapshot = vec![];
    for (i, records) in commits().iter().enumerate() {
        assert_eq!(
            write_commit(&table, records).await,
            i as i64 + 1,
            "{backend}"
        );
        model.apply(records);
        per_snapshot.push(model.rows());
    }
    // A fresh open (new client) reads every snapshot.
    let reopened = open_table(location, NAME).await.unwrap();
    for (i, rows) in per_snapshot.iter().enumerate() {
        let what = format!("{backend}: scan of snapshot {}", i + 1);
        assert_same_rows(
            &scan_rows(&reopened, Some(i as i64 + 1), None).await,
            rows,
            &what,
        );
    }
    let final_rows = per_snapshot.last().unwrap().clone();

    // tail: each snapshot's changes with their row kinds.
    let changes = tail_changes(&reopened, 1).await;
    for (i, records) in commits().iter().enumerate() {
        assert_eq!(
            changes.get(&(i as i64 + 1)).cloned().unwrap_or_default(),
            expected_changes(records),
            "{backend}: changes of snapshot {}",
            i + 1
        );
    }

    // get: the same rows a scan holds for the keys.
    let found = get_rows(&reopened, &KEYS).await;
    assert_same_rows(
        &found,
        &model_rows(&final_rows, &KEYS),
        &format!("{backend}: get"),
    );
    assert_eq!(
        found.len(),
        3,
        "{backend}: ap/1 is deleted, eu/99 never written"
    );

    // compact: every bucket into one run; same rows.
    let outcomes = compact_fully(&reopened).await;
    let compacted = outcomes
        .iter()
        .filter(|o| matches!(o, BucketOutcome::Compacted(_)))
        .count();
    assert!(compacted >= 3, "{backend}: {outcomes:?}");
    // One COMPACT commit for the whole table.
    let latest = reopened.latest_snapshot_id().await.unwrap().unwrap();
    assert_eq!(latest, 4, "{backend}");
    assert_eq!(
        reopened.snapshot(latest).await.unwrap().commit_kind,
        CommitKind::Compact
    );
    scan_and_get(
        &reopened,
        &final_rows,
        &format!("{backend}: after compaction"),
    )
    .await;
    for level in reopened
        .all_live_files(&reopened.snapshot(latest).await.unwrap())
        .await
        .unwrap()
    {
        assert!(level.file.level > 0, "{backend}: a level-0 file survived");
    }

    // expire all but the latest snapshot: data files only old snapshots used are deleted.
    let cfg = ExpireConfig {
        retain_min: 1,
        retain_max: 1000,
        time_retained: Duration::from_secs(1),
        limit: 1000,
    };
    let later = streamhouse_format::io::commit::now_millis() + 3_600_000;
    let report = expire_snapshots_at(&reopened, &cfg, later).await.unwrap();
    assert_eq!(
        report.expired,
        (1..latest).collect::<Vec<_>>(),
        "{backend}: {report:?}"
    );
    assert!(report.data_files_deleted > 0, "{backend}: {report:?}");
    let e = try_scan_rows(&reopened, Some(1), None).await.unwrap_err();
    assert!(e.to_string().contains("snapshot 1"), "{backend}: {e}");

    // orphan cleanup after a write that failed before committing leaves exactly the table.
    let stray = reopened
        .bucket_dir("region=eu", 0)
        .join("data-orphan-of-a-crashed-writer.parquet");
    reopened.io.write(&stray, "not referenced").await.unwrap();
    let cleaned = clean_orphans(&reopened, Duration::ZERO, false)
        .await
        .unwrap();
    assert!(
        cleaned
            .deleted
            .iter()
            .any(|p| p.ends_with("data-orphan-of-a-crashed-writer.parquet")),
        "{backend}: {cleaned:?}"
    );
    assert!(!reopened.io.exists(&stray).await.unwrap());
    let again = open_table(location, NAME).await.unwrap();
    let what = format!("{backend}: after expiration and orphan cleanup");
    scan_and_get(&again, &final_rows, &what).await;
    // The tail still reads what is left: the latest snapshot in full.
    let tail = tail_changes(&again, latest).await;
    assert!(
        tail.values().all(|v| v.is_empty()),
        "{backend}: a COMPACT snapshot has no changes"
    );

    if let Some(path) = pypaimon_path {
        if python().is_some() {
            assert_same_rows(
                &pypaimon_read(&path, None),
                &final_rows,
                &format!("{backend}: pypaimon reads the compacted, expired table"),
            );
        }
    }
    println!("backend conformance on {backend}: passed");
}

#[tokio::test]
async fn conformance_on_local_disk() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap().to_string();
    let table_path = dir.path().join("db.db").join("orders");
    conformance(
        &location,
        "local disk",
        Some(table_path.to_string_lossy().to_string()),
    )
    .await;
}

#[tokio::test]
async fn conformance_on_memory() {
    conformance(
        &format!("memory://{}", unique("conformance")),
        "memory://",
        None,
    )
    .await;
}

#[tokio::test]
async fn conformance_on_s3() {
    if s3_endpoint().is_none() {
        return;
    }
    let location = format!("s3://{S3_BUCKET}/{}", unique("conformance"));
    let path = format!("{location}/db.db/orders");
    conformance(&location, "S3 (moto)", Some(path)).await;
}
