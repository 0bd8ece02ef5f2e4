//! Load on the moto S3 server: 8 writers, 2 compaction workers and 4 tail consumers on one
//! table for a bounded run (`STREAMHOUSE_S3_LOAD_SECS`, 30 s by default), then: no commit lost
//! or applied twice (each commit's rows carry its token), snapshot ids contiguous, every
//! consumer saw every snapshot once and in order with the same changes, and the table reads
//! what the commits fold into. Prints commits/s and the p50/p99 commit latency.
//!
//! Longer: `STREAMHOUSE_S3_LOAD_SECS=300 bash tests/run.sh` (or the test alone, with the
//! environment `tests/run.sh` exports for the server).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use futures::future::join_all;
use streamhouse::{Catalog, Identifier, RowKind, StartPosition, Table, TableSpec, TailEvent};

use crate::interop_support::sim::SimRng;
use crate::interop_support::{s3_endpoint, S3_BUCKET};
use crate::support::unique;

const WRITERS: usize = 8;
const COMPACTORS: usize = 2;
const CONSUMERS: usize = 4;
const KEYS: u64 = 500;

/// (kind, k, v, tok)
type Change = (RowKind, i64, String, String);

fn batch(table: &Table, rows: &[Change]) -> (RecordBatch, Vec<RowKind>) {
    let k: ArrayRef = Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1)));
    let v: ArrayRef = Arc::new(StringArray::from_iter_values(
        rows.iter().map(|r| r.2.as_str()),
    ));
    let t: ArrayRef = Arc::new(StringArray::from_iter_values(
        rows.iter().map(|r| r.3.as_str()),
    ));
    let b = RecordBatch::try_new(table.arrow_schema(), vec![k, v, t]).unwrap();
    (b, rows.iter().map(|r| r.0).collect())
}

fn rows(b: &RecordBatch) -> Vec<(i64, String, String)> {
    let col = |n: &str| b.column_by_name(n).unwrap().clone();
    let (k, v, t) = (col("k"), col("v"), col("tok"));
    let k = k.as_any().downcast_ref::<Int64Array>().unwrap();
    let v = v.as_any().downcast_ref::<StringArray>().unwrap();
    let t = t.as_any().downcast_ref::<StringArray>().unwrap();
    (0..b.num_rows())
        .map(|i| (k.value(i), v.value(i).to_string(), t.value(i).to_string()))
        .collect()
}

#[derive(Default)]
struct Tally {
    /// token → (rows, acknowledged snapshot or the error)
    commits: BTreeMap<String, (Vec<Change>, Result<i64, String>)>,
    latencies: Vec<Duration>,
    compactions: u64,
    compaction_errors: u64,
}

async fn writer(table: Table, i: usize, until: Instant, tally: Arc<Mutex<Tally>>) {
    let mut rng = SimRng::new(i as u64 + 1000);
    let mut w = table.writer().await.unwrap();
    let mut n = 0;
    while Instant::now() < until {
        let tok = format!("w{i}.{n}");
        n += 1;
        let mut keys = BTreeSet::new();
        // Each writer owns the keys ≡ i (mod WRITERS): a key's versions are ordered by the
        // sequence numbers its one writer assigns (one writer per key, as Paimon asks).
        while keys.len() < 20 {
            keys.insert((rng.below(KEYS / WRITERS as u64) * WRITERS as u64) as i64 + i as i64);
        }
        let changes: Vec<Change> = keys
            .into_iter()
            .map(|k| match rng.chance(0.2) {
                true => (RowKind::Delete, k, String::new(), tok.clone()),
                false => (
                    RowKind::Insert,
                    k,
                    format!("v{}", rng.below(1000)),
                    tok.clone(),
                ),
            })
            .collect();
        let (b, kinds) = batch(&table, &changes);
        w.write_with_kinds(&b, &kinds).await.unwrap();
        let started = Instant::now();
        let r = w.commit().await;
        let took = started.elapsed();
        let mut t = tally.lock().unwrap();
        t.latencies.push(took);
        let outcome = r.map(|c| c.snapshot_ids[0]).map_err(|e| e.to_string());
        t.commits.insert(tok, (changes, outcome));
    }
    w.close().await.unwrap();
}

async fn compactor(table: Table, until: Instant, tally: Arc<Mutex<Tally>>) {
    while Instant::now() < until {
        let r = table.compact().run_once().await;
        {
            let mut t = tally.lock().unwrap();
            match r {
                Ok(rep) => t.compactions += rep.compacted.len() as u64,
                Err(_) => t.compaction_errors += 1,
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Tails as consumer `id` (non-following tails, reopened) until it applied snapshot `target`
/// (unknown, i64::MAX, while writers run). Returns the changes of each snapshot, in order.
async fn consumer(table: Table, id: String, target: Arc<AtomicI64>) -> Vec<(i64, Vec<Change>)> {
    let mut seen: Vec<(i64, Vec<Change>)> = vec![];
    let mut last = 0;
    while last < target.load(Ordering::SeqCst) {
        let mut tail = table
            .tail()
            .consumer(id.clone())
            .from(StartPosition::FromSnapshot(1))
            .open()
            .await
            .unwrap();
        let mut pending = vec![];
        while let Some(event) = tail.next().await.unwrap() {
            match event {
                TailEvent::Changes(b) => {
                    for (i, (k, v, t)) in rows(&b.rows).into_iter().enumerate() {
                        pending.push((b.kind(i), k, v, t));
                    }
                }
                TailEvent::SnapshotEnd(info) => {
                    assert_eq!(
                        info.id,
                        last + 1,
                        "consumer {id}: snapshot {} after {last}",
                        info.id
                    );
                    let mut c = std::mem::take(&mut pending);
                    c.sort();
                    seen.push((info.id, c));
                    last = info.id;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_compactors_and_consumers_on_s3() {
    if s3_endpoint().is_none() {
        return;
    }
    let secs: u64 = std::env::var("STREAMHOUSE_S3_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let url = format!("s3://{S3_BUCKET}/{}", unique("load"));
    let catalog = Catalog::open(&url, Vec::<(String, String)>::new()).unwrap();
    let spec = TableSpec::parse("k BIGINT NOT NULL, v STRING, tok STRING")
        .unwrap()
        .primary_key(["k"])
        .option("bucket", "4")
        .option("write-only", "true");
    let id = Identifier::parse("db.load").unwrap();
    let table = catalog
        .create_table(&id, spec, false)
        .await
        .unwrap()
        .into_table();
    for c in 0..CONSUMERS {
        table
            .as_format_table()
            .set_consumer(&format!("c{c}"), 1)
            .await
            .unwrap();
    }

    let tally = Arc::new(Mutex::new(Tally::default()));
    let target = Arc::new(AtomicI64::new(i64::MAX));
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let writers = join_all((0..WRITERS).map(|i| writer(table.clone(), i, until, tally.clone())));
    let compactors =
        join_all((0..COMPACTORS).map(|_| compactor(table.clone(), until, tally.clone())));
    let consumers =
        join_all((0..CONSUMERS).map(|c| consumer(table.clone(), format!("c{c}"), target.clone())));
    let work = async {
        futures::join!(writers, compactors);
        let wrote = started.elapsed();
        let last = table.latest_snapshot_id().await.unwrap().unwrap_or(0);
        target.store(last, Ordering::SeqCst);
        (wrote, last)
    };
    let ((wrote, last), seen) = futures::join!(work, consumers);

    // Snapshots: contiguous; each APPEND one holds one commit's rows, exactly.
    let ids = table.as_format_table().list_snapshot_ids().await.unwrap();
    assert_eq!(ids, (1..=last).collect::<Vec<_>>(), "snapshot ids");
    let t = std::mem::take(&mut *tally.lock().unwrap());
    let mut landed: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut state: BTreeMap<i64, (String, String)> = BTreeMap::new();
    for (sid, changes) in &seen[0] {
        let toks: BTreeSet<&String> = changes.iter().map(|c| &c.3).collect();
        if toks.is_empty() {
            continue; // a COMPACT snapshot
        }
        assert_eq!(toks.len(), 1, "snapshot {sid} mixes commits {toks:?}");
        let tok = toks.into_iter().next().unwrap();
        let (rows, _) = t
            .commits
            .get(tok)
            .unwrap_or_else(|| panic!("unknown commit {tok}"));
        let mut rows = rows.clone();
        rows.sort();
        assert_eq!(
            &rows, changes,
            "snapshot {sid} holds other rows than {tok} wrote"
        );
        landed.entry(tok.clone()).or_default().push(*sid);
        for (kind, k, v, tok) in changes {
            match kind {
                RowKind::Delete => state.remove(k),
                _ => state.insert(*k, (v.clone(), tok.clone())),
            };
        }
    }
    let mut acked = 0;
    let mut failed = 0;
    for (tok, (_, outcome)) in &t.commits {
        let at = landed.get(tok).cloned().unwrap_or_default();
        match outcome {
            Ok(sid) => {
                acked += 1;
                assert_eq!(
                    at,
                    vec![*sid],
                    "acknowledged commit {tok} (snapshot {sid}) landed at {at:?}"
                );
            }
            Err(e) => {
                failed += 1;
                assert!(
                    at.len() <= 1,
                    "failed commit {tok} ({e}) landed {} times",
                    at.len()
                );
            }
        }
    }
    // Every consumer saw the same snapshots, complete and in order.
    for (c, s) in seen.iter().enumerate() {
        assert_eq!(
            s.len() as i64,
            last,
            "consumer c{c} applied {} of {last} snapshots",
            s.len()
        );
        assert_eq!(s, &seen[0], "consumer c{c} saw other changes than c0");
    }
    // The table reads what the commits fold into.
    let batches = table.scan().collect().await.unwrap();
    let read: BTreeMap<i64, (String, String)> = batches
        .iter()
        .flat_map(rows)
        .map(|(k, v, t)| (k, (v, t)))
        .collect();
    assert_eq!(read, state, "the table's rows");

    let mut lat = t.latencies.clone();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
    println!(
        "s3 load: {WRITERS} writers, {COMPACTORS} compaction workers, {CONSUMERS} consumers for {:.1} s: {acked} commits acknowledged ({failed} failed, 0 lost, 0 duplicated), {:.1} commits/s, commit latency p50 {:?} p99 {:?} max {:?}; {} buckets compacted ({} compaction passes failed); {last} snapshots, every consumer saw all of them in order",
        wrote.as_secs_f64(),
        acked as f64 / wrote.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        lat.last().copied().unwrap_or_default(),
        t.compactions,
        t.compaction_errors,
    );
    assert!(acked > 0);
}
