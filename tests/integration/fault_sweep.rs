//! Fault-injection sweep: every storage operation of (a) a TableWriter write + commit, (b) a
//! compaction + commit and (c) a snapshot expiration, with each fault kind of
//! [`FaultyStore`] — fail, time out, succeed with the acknowledgement lost, be slow, list
//! partially. After each scenario the table is opened afresh (a clean view of the same
//! storage) and must read correctly and contain exactly the acknowledged commits: an
//! acknowledged commit is present once; an unacknowledged one is present once or not at all
//! (never twice), and retrying it with the same commit user and identifier lands it exactly
//! once. Orphan cleanup afterwards never breaks a snapshot. The scenario counts are printed.

use std::sync::Arc;
use std::time::Duration;

use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::ObjectStore;
use serde_json::{json, Value};
use streamhouse_compaction::{BucketOutcome, CompactOptions, Compactor};
use streamhouse_format::io::expire::{expire_snapshots_at, ExpireConfig};
use streamhouse_format::io::faults::{Fault, FaultyStore, OpFilter, OpKind};
use streamhouse_format::io::orphans::clean_orphans;
use streamhouse_format::io::{table_root, Committer, FileIO, Identifier, Table};
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::snapshot::CommitKind;
use streamhouse_format::types::parse_columns;
use streamhouse_writer::TableWriter;

use crate::interop_support::assert_same_rows;
use crate::support::{batch_from_rows, check_history, compact_fully, try_scan_rows};

const NAME: &str = "db.t";
const WRITER: &str = "sweep-writer";
const SHORT: Duration = Duration::from_millis(3);

/// The fault kinds swept at every operation index (partial listings are swept separately,
/// over the listings only).
const FAULTS: [Fault; 4] = [
    Fault::Fail,
    Fault::Timeout(SHORT),
    Fault::LoseAck,
    Fault::Slow(SHORT),
];

/// A table on an in-memory store seen through a [`FaultyStore`], and a clean view of it.
struct Rig {
    inner: Arc<InMemory>,
    faulty: Arc<FaultyStore>,
    table: Table,
}

impl Rig {
    async fn new(options: &[(&str, &str)]) -> Rig {
        let inner = Arc::new(InMemory::new());
        let faulty = Arc::new(FaultyStore::new(inner.clone()));
        let schema = TableSchema::new(
            parse_columns("dt STRING, id BIGINT, v STRING").unwrap(),
            vec!["dt".into()],
            vec!["dt".into(), "id".into()],
            options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            0,
        )
        .unwrap();
        let root = table_root(&Path::from(""), &Identifier::parse(NAME).unwrap());
        let io = FileIO::new(faulty.clone(), "memory://fault-sweep");
        let table = Table::create(io, root, NAME, schema).await.unwrap();
        Rig {
            inner,
            faulty,
            table,
        }
    }

    /// The table opened afresh on the storage without faults.
    async fn clean(&self) -> Table {
        let io = FileIO::new(self.inner.clone() as Arc<dyn ObjectStore>, "memory://clean");
        Table::open(io, self.table.root.clone(), NAME)
            .await
            .unwrap_or_else(|e| panic!("the table no longer opens: {e}"))
    }
}

fn row(dt: &str, id: i64, v: &str) -> Value {
    json!({"dt": dt, "id": id, "v": v})
}

/// Writes records with row kinds and commits through the writer (no faults armed).
async fn commit_records(table: &Table, records: &[(RowKind, Value)]) {
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    write_records(&mut w, table, records).await.unwrap();
    w.commit().await.unwrap();
}

async fn write_records(
    w: &mut TableWriter,
    table: &Table,
    records: &[(RowKind, Value)],
) -> streamhouse_format::Result<()> {
    let rows: Vec<Value> = records.iter().map(|(_, r)| r.clone()).collect();
    let kinds: Vec<RowKind> = records.iter().map(|(k, _)| *k).collect();
    w.write_with_kinds(&batch_from_rows(&table.schema, &rows), &kinds)
        .await
}

fn inserts(dt: &str, ids: std::ops::Range<i64>, v: &str) -> Vec<(RowKind, Value)> {
    ids.map(|id| (RowKind::Insert, row(dt, id, v))).collect()
}

/// The commit swept in the writer phase: updates, inserts in two partitions and a delete.
fn second_commit() -> Vec<(RowKind, Value)> {
    let mut r = inserts("a", 3..9, "second");
    r.extend(inserts("b", 0..4, "second"));
    r.push((RowKind::Delete, row("a", 1, "")));
    r
}

/// Rows of every snapshot, read on a clean view.
async fn rows_of_snapshots(table: &Table) -> Vec<(i64, Vec<Value>)> {
    let mut out = vec![];
    for id in table.list_snapshot_ids().await.unwrap() {
        out.push((id, read(table, Some(id)).await));
    }
    out
}

async fn read(table: &Table, snapshot: Option<i64>) -> Vec<Value> {
    try_scan_rows(table, snapshot, None)
        .await
        .unwrap_or_else(|e| panic!("snapshot {snapshot:?} does not read: {e}"))
}

/// Deletes every unreferenced file and checks every remaining snapshot still reads.
async fn clean_and_recheck(table: &Table, expected: &[(i64, Vec<Value>)], what: &str) {
    clean_orphans(table, Duration::ZERO, false)
        .await
        .unwrap_or_else(|e| panic!("{what}: orphan cleanup failed: {e}"));
    for (id, rows) in expected {
        assert_same_rows(&read(table, Some(*id)).await, rows, what);
    }
}

/// Arms one scenario's fault on the store.
type Arm = Box<dyn Fn(&FaultyStore)>;

/// Each fault kind at each operation index `0..ops` of a phase, plus a partial listing at
/// each of its `lists` listings: `(description, arm)` pairs, armed relative to the phase start.
fn scenarios(ops: usize, lists: usize) -> Vec<(String, Arm)> {
    let mut out: Vec<(String, Arm)> = vec![];
    for i in 0..ops {
        for f in FAULTS {
            out.push((
                format!("{f:?} at operation {i}"),
                Box::new(move |s: &FaultyStore| s.arm(s.op_count() + i, f)),
            ));
        }
    }
    for n in 0..lists {
        out.push((
            format!("PartialList at listing {n}"),
            Box::new(move |s: &FaultyStore| {
                s.arm_nth(OpFilter::kind(OpKind::List), n, Fault::PartialList)
            }),
        ));
    }
    out
}

/// Tallies of a phase's sweep.
#[derive(Default, Debug)]
struct Tally {
    scenarios: usize,
    acknowledged: usize,
    failed_not_landed: usize,
    failed_but_landed: usize,
}

impl Tally {
    /// Some faults failed the operation without a trace and some were acknowledged.
    fn assert_both_outcomes(&self) {
        assert!(
            self.failed_not_landed > 0 && self.acknowledged > 0,
            "{self:?}"
        );
    }

    fn print(&self, phase: &str) {
        println!(
            "fault sweep {phase}: {} scenarios passed ({} acknowledged, {} failed and absent, {} failed but present once: landed before the failure was reported)",
            self.scenarios, self.acknowledged, self.failed_not_landed, self.failed_but_landed
        );
    }
}

/// Counts the operations (and listings) of `phase` (`what`) on a fault-free run of `setup`;
/// asserts there are many.
async fn count_ops<S, SF, P, PF>(what: &str, setup: S, phase: P) -> (usize, usize)
where
    S: Fn() -> SF,
    SF: std::future::Future<Output = Rig>,
    P: Fn(Rig) -> PF,
    PF: std::future::Future<Output = Rig>,
{
    let rig = setup().await;
    let (before, lists) = (
        rig.faulty.op_count(),
        rig.faulty.count(&OpFilter::kind(OpKind::List)),
    );
    let rig = phase(rig).await;
    let ops = rig.faulty.op_count() - before;
    assert!(ops > 10, "{what} does many operations ({ops})");
    (ops, rig.faulty.count(&OpFilter::kind(OpKind::List)) - lists)
}

/// Runs `op` on the table of a fresh `setup` rig with the fault `arm` armed; asserts that the
/// fault fired and disarms it. The table opened afresh without faults, and `op`'s outcome.
async fn under_fault<S, SF, P, PF, T>(setup: S, what: &str, arm: &Arm, op: P) -> (Table, T)
where
    S: Fn() -> SF,
    SF: std::future::Future<Output = Rig>,
    P: FnOnce(Table) -> PF,
    PF: std::future::Future<Output = T>,
{
    let rig = setup().await;
    let fired = rig.faulty.faults_fired();
    arm(&rig.faulty);
    let outcome = op(rig.table.clone()).await;
    assert!(
        rig.faulty.faults_fired() > fired,
        "{what}: the fault never fired"
    );
    rig.faulty.disarm();
    (rig.clean().await, outcome)
}

async fn writer_setup() -> Rig {
    let rig = Rig::new(&[("bucket", "2")]).await;
    let mut first = inserts("a", 0..6, "first");
    first.extend(inserts("b", 0..2, "first"));
    commit_records(&rig.table, &first).await;
    rig
}

/// How many snapshots of `user` the table holds.
async fn snapshots_of(table: &Table, user: &str) -> usize {
    check_history(table, user)
        .await
        .iter()
        .filter(|(u, _, _)| u == user)
        .count()
}

/// (a) TableWriter write + commit, through the writer's own API (no retry) and through
/// prepare + commit with a retry of the same commit after a failure.
#[tokio::test]
async fn every_fault_at_every_operation_of_write_and_commit() {
    // The rows before and after the commit, from a fault-free run.
    let probe = writer_setup().await;
    let before = read(&probe.table, None).await;
    commit_records(&probe.table, &second_commit()).await;
    let after = read(&probe.table, None).await;
    assert_ne!(before, after);

    let (ops, lists) = count_ops("a write + commit", writer_setup, |rig| async move {
        let mut w = TableWriter::with_commit_user(rig.table.clone(), WRITER.into()).unwrap();
        write_records(&mut w, &rig.table, &second_commit())
            .await
            .unwrap();
        w.commit().await.unwrap();
        rig
    })
    .await;

    // Through TableWriter::commit: the caller cannot retry; the commit is there once or not.
    let mut tally = Tally::default();
    for (what, arm) in scenarios(ops, lists) {
        let (clean, outcome) = under_fault(writer_setup, &what, &arm, |table| async move {
            let mut w = TableWriter::with_commit_user(table.clone(), WRITER.into()).unwrap();
            let outcome = match write_records(&mut w, &table, &second_commit()).await {
                Ok(()) => w.commit().await.map(|_| ()),
                Err(e) => Err(e),
            };
            if outcome.is_err() {
                w.abort().await.unwrap_or_else(|e| panic!("abort: {e}"));
            }
            outcome
        })
        .await;
        let landed = snapshots_of(&clean, WRITER).await;
        assert!(landed <= 1, "{what}: the commit landed {landed} times");
        match (&outcome, landed) {
            (Ok(()), 1) => tally.acknowledged += 1,
            (Ok(()), _) => panic!("{what}: an acknowledged commit is missing"),
            (Err(_), 0) => tally.failed_not_landed += 1,
            (Err(_), _) => tally.failed_but_landed += 1,
        }
        let expected = if landed == 1 { &after } else { &before };
        assert_same_rows(&read(&clean, None).await, expected, &what);
        let all = rows_of_snapshots(&clean).await;
        clean_and_recheck(&clean, &all, &what).await;
        tally.scenarios += 1;
    }
    tally.print("write + commit (TableWriter)");
    // A lost acknowledgement of the snapshot put is recovered inside the commit (it finds its
    // own snapshot), so the writer's callers see it acknowledged.
    tally.assert_both_outcomes();

    // Prepare, commit, and on failure retry the same commit (same user and identifier).
    let mut retried = Tally::default();
    for (what, arm) in scenarios(ops, lists) {
        let rig = writer_setup().await;
        arm(&rig.faulty);
        let mut w = TableWriter::with_commit_user(rig.table.clone(), WRITER.into()).unwrap();
        let prepared = match write_records(&mut w, &rig.table, &second_commit()).await {
            Ok(()) => w.prepare_commit().await,
            Err(e) => Err(e),
        };
        let committer = Committer::new(rig.table.clone(), WRITER).unwrap();
        let first_try = match &prepared {
            Ok(messages) => committer.commit(messages, 0).await.map(|_| ()),
            Err(e) => Err(streamhouse_format::Error::internal(format!(
                "prepare failed: {e}"
            ))),
        };
        rig.faulty.disarm();
        let landed_before_retry = snapshots_of(&rig.clean().await, WRITER).await;
        match (&first_try, &prepared) {
            (Ok(()), _) => retried.acknowledged += 1,
            (Err(_), Ok(messages)) => {
                if landed_before_retry == 1 {
                    retried.failed_but_landed += 1;
                } else {
                    retried.failed_not_landed += 1;
                }
                let again = Committer::new(rig.table.clone(), WRITER)
                    .unwrap()
                    .commit(messages, 0)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: the retry failed: {e}"));
                assert_eq!(
                    again[0].was_already_committed,
                    landed_before_retry == 1,
                    "{what}: the retry recognises an earlier landing"
                );
            }
            (Err(_), Err(_)) => {
                // The upload failed: nothing was committed; the writer starts over.
                retried.failed_not_landed += 1;
                assert_eq!(landed_before_retry, 0, "{what}");
                w.abort().await.unwrap();
                commit_records(&rig.table, &second_commit()).await;
            }
        }
        let clean = rig.clean().await;
        let landed = check_history(&clean, &what).await.len();
        assert_eq!(landed, 2, "{what}: exactly the first commit and this one");
        assert_same_rows(&read(&clean, None).await, &after, &what);
        retried.scenarios += 1;
    }
    retried.print("write + commit, retried");
    println!(
        "fault sweep write + commit: {} operations x {} faults + {} listings, twice: {} scenarios",
        ops,
        FAULTS.len(),
        lists,
        tally.scenarios + retried.scenarios
    );
}

async fn compaction_setup() -> Rig {
    let rig = Rig::new(&[("bucket", "1")]).await;
    commit_records(&rig.table, &inserts("a", 0..8, "one")).await;
    commit_records(&rig.table, &inserts("a", 4..12, "two")).await;
    let mut third = inserts("a", 2..6, "three");
    third.push((RowKind::Delete, row("a", 0, "")));
    third.extend(inserts("b", 0..3, "three"));
    commit_records(&rig.table, &third).await;
    rig
}

async fn compact_snapshots(table: &Table) -> usize {
    check_history(table, "compaction")
        .await
        .iter()
        .filter(|(_, _, k)| *k == CommitKind::Compact)
        .count()
}

/// (b) A full compaction of every bucket (two partitions) and its one COMPACT commit: the table
/// changes atomically, so a fault leaves either both buckets compacted or neither.
#[tokio::test]
async fn every_fault_at_every_operation_of_compaction_and_commit() {
    let full = CompactOptions {
        full: true,
        ..Default::default()
    };
    let probe = compaction_setup().await;
    let rows = read(&probe.table, None).await;
    let (ops, lists) = count_ops("a compaction", compaction_setup, |rig| {
        let full = full.clone();
        async move {
            let c = Compactor::new(rig.table.clone()).unwrap();
            let out = c.compact_table(&full).await.unwrap();
            assert_eq!(out.len(), 2, "two partitions, one bucket each: {out:?}");
            rig
        }
    })
    .await;

    let mut tally = Tally::default();
    for (what, arm) in scenarios(ops, lists) {
        let full = &full;
        let (clean, outcome) = under_fault(compaction_setup, &what, &arm, |table| async move {
            Compactor::new(table).unwrap().compact_table(full).await
        })
        .await;
        let landed = compact_snapshots(&clean).await;
        assert_same_rows(&read(&clean, None).await, &rows, &what);
        let acknowledged = match &outcome {
            Ok(out) => {
                let compacted: Vec<i64> = out
                    .iter()
                    .filter_map(|o| match o {
                        BucketOutcome::Compacted(s) => Some(s.snapshot_id),
                        _ => None,
                    })
                    .collect();
                assert!(
                    compacted.is_empty() || (compacted.len() == 2 && compacted[0] == compacted[1]),
                    "{what}: both buckets in one snapshot, or neither: {out:?}"
                );
                usize::from(!compacted.is_empty())
            }
            Err(_) => 0,
        };
        assert!(
            landed >= acknowledged && landed <= 1,
            "{what}: {acknowledged} acknowledged, {landed} present: {outcome:?}"
        );
        if acknowledged == 1 {
            tally.acknowledged += 1;
        } else if landed > acknowledged {
            tally.failed_but_landed += 1;
        } else {
            tally.failed_not_landed += 1;
        }
        // Compacting again finishes the job without compacting anything twice.
        Compactor::new(clean.clone())
            .unwrap()
            .compact_table(full)
            .await
            .unwrap_or_else(|e| panic!("{what}: compacting again: {e}"));
        assert_eq!(compact_snapshots(&clean).await, 1, "{what}");
        let all = rows_of_snapshots(&clean).await;
        assert_same_rows(&all.last().unwrap().1, &rows, &what);
        clean_and_recheck(&clean, &all, &what).await;
        tally.scenarios += 1;
    }
    // One commit for both buckets: a lost acknowledgement of its snapshot is recognised by the
    // committer (acknowledged), so "failed but landed" needs every later request to fail too.
    tally.print("compaction + commit");
    tally.assert_both_outcomes();
}

/// Five snapshots: three writes, a full compaction (one commit), one more write.
async fn expire_setup() -> Rig {
    let rig = compaction_setup().await;
    compact_fully(&rig.table).await;
    commit_records(&rig.table, &inserts("b", 2..5, "five")).await;
    rig
}

fn expire_config() -> ExpireConfig {
    ExpireConfig {
        retain_min: 2,
        retain_max: 100,
        time_retained: Duration::from_secs(1),
        limit: 50,
    }
}

/// An hour from now: every snapshot is old enough.
fn later() -> i64 {
    streamhouse_format::io::commit::now_millis() + 3_600_000
}

/// (c) Snapshot expiration (data files, manifests, snapshot files, the EARLIEST hint).
#[tokio::test]
async fn every_fault_at_every_operation_of_expiration() {
    let probe = expire_setup().await;
    let history = rows_of_snapshots(&probe.table).await;
    assert_eq!(
        history.len(),
        5,
        "3 writes, 1 compaction (both buckets), 1 write"
    );
    let report = expire_snapshots_at(&probe.table, &expire_config(), later())
        .await
        .unwrap();
    assert_eq!(report.expired, vec![1, 2, 3]);
    assert!(report.data_files_deleted > 0, "{report:?}");
    let kept: Vec<(i64, Vec<Value>)> = history.into_iter().filter(|(id, _)| *id >= 4).collect();

    let (ops, lists) = count_ops("an expiration", expire_setup, |rig| async move {
        expire_snapshots_at(&rig.table, &expire_config(), later())
            .await
            .unwrap();
        rig
    })
    .await;

    let mut tally = Tally::default();
    for (what, arm) in scenarios(ops, lists) {
        let (clean, outcome) = under_fault(expire_setup, &what, &arm, |table| async move {
            expire_snapshots_at(&table, &expire_config(), later()).await
        })
        .await;
        // The snapshots expiration keeps read as before, whatever happened.
        for (id, rows) in &kept {
            assert_same_rows(&read(&clean, Some(*id)).await, rows, &what);
        }
        match &outcome {
            Ok(_) => tally.acknowledged += 1,
            Err(_) => tally.failed_not_landed += 1,
        }
        // Running it again completes the expiration.
        expire_snapshots_at(&clean, &expire_config(), later())
            .await
            .unwrap_or_else(|e| panic!("{what}: expiring again: {e}"));
        assert_eq!(
            clean.list_snapshot_ids().await.unwrap(),
            vec![4, 5],
            "{what}"
        );
        assert_eq!(
            clean.earliest_snapshot_id().await.unwrap(),
            Some(4),
            "{what}"
        );
        check_history(&clean, &what).await;
        clean_and_recheck(&clean, &kept, &what).await;
        tally.scenarios += 1;
    }
    println!(
        "fault sweep expiration: {} scenarios passed ({} completed, {} failed part-way and were completed by a second run)",
        tally.scenarios, tally.acknowledged, tally.failed_not_landed
    );
    assert!(tally.failed_not_landed > 0, "{tally:?}");
}

/// The hardest lost acknowledgement: the snapshot put lands but its answer is lost, and every
/// storage operation after it fails too, so the commit gives up with an error although it
/// landed. Retrying the same commit (same committer, identifier and kind) must find it and
/// not commit it a second time. (A new `Committer` with the same user does not know where the
/// failed call began; callers retry through the committer that failed, as the writer and the
/// compactor do.)
#[tokio::test]
async fn a_commit_that_landed_but_reported_failure_is_not_repeated_by_its_retry() {
    // Where the snapshot put falls among the commit's operations.
    let probe = writer_setup().await;
    let mut w = TableWriter::with_commit_user(probe.table.clone(), WRITER.into()).unwrap();
    write_records(&mut w, &probe.table, &second_commit())
        .await
        .unwrap();
    let messages = w.prepare_commit().await.unwrap();
    let start = probe.faulty.op_count();
    Committer::new(probe.table.clone(), WRITER)
        .unwrap()
        .commit(&messages, 0)
        .await
        .unwrap();
    let put = probe
        .faulty
        .log()
        .iter()
        .skip(start)
        .position(|l| l.contains(" put ") && l.contains("snapshot/snapshot-2"))
        .expect("the snapshot put");

    let rig = writer_setup().await;
    let mut w = TableWriter::with_commit_user(rig.table.clone(), WRITER.into()).unwrap();
    write_records(&mut w, &rig.table, &second_commit())
        .await
        .unwrap();
    let messages = w.prepare_commit().await.unwrap();
    let committer = Committer::new(rig.table.clone(), WRITER).unwrap();
    let at = rig.faulty.op_count() + put;
    rig.faulty.arm(at, Fault::LoseAck);
    for later in at + 1..at + 200 {
        rig.faulty.arm(later, Fault::Fail);
    }
    let first = committer.commit(&messages, 0).await;
    assert!(
        first.is_err(),
        "every operation after the put failed: {first:?}"
    );
    rig.faulty.disarm();
    assert_eq!(
        snapshots_of(&rig.clean().await, WRITER).await,
        1,
        "it landed"
    );
    let again = committer.commit(&messages, 0).await.unwrap();
    let clean = rig.clean().await;
    assert_eq!(snapshots_of(&clean, WRITER).await, 1, "committed twice");
    assert!(again[0].was_already_committed);
    assert_eq!(again[0].snapshot_id, 2);
}

/// A streaming writer's background compaction that fails (here: every read of a data file
/// fails) does not fail the writer: each commit is acknowledged and present, the failures are
/// counted, and once storage recovers the next round compacts the buckets the failed rounds
/// left.
#[tokio::test]
async fn failing_in_writer_compaction_never_fails_the_commits() {
    let rig = Rig::new(&[("bucket", "1"), ("merge-engine", "first-row")]).await;
    let mut w = streamhouse_compaction::CompactingWriter::new(rig.table.clone())
        .await
        .unwrap();
    rig.faulty
        .arm_every(OpFilter::kind(OpKind::Get).path("bucket-"), Fault::Fail);
    let mut expected = vec![];
    for round in 0..3i64 {
        let records = inserts("a", round * 10..round * 10 + 5, "v");
        expected.extend(records.iter().map(|(_, r)| r.clone()));
        write_records(w.inner(), &rig.table, &records)
            .await
            .unwrap();
        let summary = w.commit().await.unwrap_or_else(|e| {
            panic!("commit {round} failed although its rows were committed: {e}")
        });
        assert_eq!(summary.snapshot_ids.len(), 1, "round {round}: {summary:?}");
    }
    // The first round only moves one file up (no read); the next two must read and fail.
    assert_eq!(w.stats().failures, 2, "{:?}", w.stats());
    assert!(w.stats().last_failure.is_some());
    // A failing GET of a data file is a storage failure, not a corrupt file.
    assert_eq!(
        w.stats().last_failure_kind,
        Some(streamhouse_format::ErrorKind::Io),
        "{:?}",
        w.stats().last_failure
    );
    rig.faulty.disarm();
    // The rows are committed, but those still in level 0 are not visible (first-row reads
    // skip level 0).
    let clean = rig.clean().await;
    let visible = try_scan_rows(&clean, None, None).await.unwrap();
    assert!(visible.len() < expected.len(), "{visible:?}");
    let records = inserts("b", 0..2, "v");
    expected.extend(records.iter().map(|(_, r)| r.clone()));
    write_records(w.inner(), &rig.table, &records)
        .await
        .unwrap();
    w.commit().await.unwrap();
    let stats = w.close().await.unwrap();
    assert_eq!(stats.failures, 2);
    assert_same_rows(
        &try_scan_rows(&clean, None, None).await.unwrap(),
        &expected,
        "after storage recovered",
    );
}
