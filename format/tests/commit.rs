//! The commit protocol under concurrency and injected storage faults.

use std::sync::Arc;
use std::time::Duration;

use object_store::memory::InMemory;
use object_store::path::Path;
use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::clock::ManualClock;
use streamhouse_format::io::expire::{expire_snapshots, ExpireConfig};
use streamhouse_format::io::faults::{Fault, FaultyStore};
use streamhouse_format::io::{table_root, CommitMessage, Committer, FileIO, Identifier, Table};
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::parse_columns;

fn file(name: &str, rows: i64) -> DataFileMeta {
    DataFileMeta {
        max_sequence_number: rows - 1,
        creation_time: Some(0),
        ..DataFileMeta::new(name, 100, rows)
    }
}

fn message(name: &str) -> CommitMessage {
    CommitMessage {
        partition: BinaryRow::empty().serialize(),
        bucket: 0,
        total_buckets: -1,
        new_files: vec![file(name, 10)],
        ..Default::default()
    }
}

async fn new_table(io: FileIO) -> Table {
    let schema = TableSchema::new(
        parse_columns("a INT, b STRING").unwrap(),
        vec![],
        vec![],
        Default::default(),
        0,
    )
    .unwrap();
    let id = Identifier::parse("db.t").unwrap();
    Table::create(io, table_root(&Path::from(""), &id), "db.t", schema)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_committers_each_land_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (io, _) = streamhouse_format::io::open_warehouse(dir.path().to_str().unwrap()).unwrap();
    let table = new_table(io).await;
    let writers = 6;
    let commits = 5;
    let mut tasks = vec![];
    for w in 0..writers {
        let table = table.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = vec![];
            let c = Committer::new(table, format!("user-{w}")).unwrap();
            for i in 0..commits {
                let r = c
                    .commit(&[message(&format!("f-{w}-{i}"))], i)
                    .await
                    .unwrap();
                ids.push(r[0].snapshot_id);
            }
            ids
        }));
    }
    let mut acknowledged = vec![];
    for t in tasks {
        acknowledged.extend(t.await.unwrap());
    }
    acknowledged.sort_unstable();
    let total = writers * commits;
    assert_eq!(
        acknowledged,
        (1..=total).collect::<Vec<_>>(),
        "ids acknowledged once each"
    );
    assert_eq!(
        table.list_snapshot_ids().await.unwrap(),
        (1..=total).collect::<Vec<_>>()
    );
    let latest = table.snapshot(total).await.unwrap();
    let live = table.all_live_files(&latest).await.unwrap();
    assert_eq!(live.len(), total as usize);
    assert_eq!(latest.total_record_count, Some(10 * total));
    // Every (user, identifier) pair appears in exactly one snapshot.
    let mut seen = std::collections::HashSet::new();
    for id in 1..=total {
        let s = table.snapshot(id).await.unwrap();
        assert!(seen.insert((s.commit_user.clone(), s.commit_identifier)));
    }
}

/// For every storage operation of a second commit and every fault kind: the table stays
/// readable, an acknowledged commit is present exactly once, and retrying an unacknowledged
/// commit never produces a duplicate.
#[tokio::test]
async fn every_fault_at_every_operation_of_a_commit() {
    let faults = [
        Fault::Fail,
        Fault::LoseAck,
        Fault::Timeout(Duration::from_millis(5)),
        Fault::Slow(Duration::from_millis(5)),
        Fault::PartialList,
    ];
    // Count the operations of the second commit on a clean run.
    let probe = Arc::new(FaultyStore::new(Arc::new(InMemory::new())));
    let table = new_table(FileIO::new(probe.clone(), "memory://probe")).await;
    let c = Committer::new(table.clone(), "u").unwrap();
    c.commit(&[message("first")], 0).await.unwrap();
    let before = probe.op_count();
    c.commit(&[message("second")], 1).await.unwrap();
    let ops = probe.op_count() - before;
    assert!(ops > 5, "a commit does several storage operations ({ops})");

    let mut scenarios = 0;
    for i in 0..ops {
        for fault in faults {
            scenarios += 1;
            let store = Arc::new(FaultyStore::new(Arc::new(InMemory::new())));
            let table = new_table(FileIO::new(store.clone(), "memory://faulty")).await;
            let c = Committer::new(table.clone(), "u").unwrap();
            c.commit(&[message("first")], 0).await.unwrap();
            store.arm(store.op_count() + i, fault);
            let first_try = c.commit(&[message("second")], 1).await;
            if first_try.is_err() {
                // The caller retries the same commit (same user and identifier).
                c.commit(&[message("second")], 1)
                    .await
                    .unwrap_or_else(|e| panic!("retry after {fault:?} at op {i}: {e}"));
            }
            let ids = table.list_snapshot_ids().await.unwrap();
            assert_eq!(
                ids,
                vec![1, 2],
                "{fault:?} at op {i}: snapshots {ids:?}\n{:#?}",
                store.log()
            );
            let latest = table.snapshot(2).await.unwrap();
            let names: Vec<String> = table
                .all_live_files(&latest)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.file.file_name)
                .collect();
            assert_eq!(names, vec!["first", "second"], "{fault:?} at op {i}");
        }
    }
    println!("fault scenarios run: {scenarios}");
}

#[tokio::test]
async fn compaction_that_deletes_a_file_no_longer_live_is_a_conflict() {
    let table = new_table(FileIO::new(Arc::new(InMemory::new()), "memory://c")).await;
    let c = Committer::new(table.clone(), "u").unwrap();
    c.commit(&[message("a")], 0).await.unwrap();
    let compact = CommitMessage {
        partition: BinaryRow::empty().serialize(),
        bucket: 0,
        total_buckets: -1,
        compact_before: vec![file("a", 10)],
        compact_after: vec![file("a2", 10)],
        ..Default::default()
    };
    let r = c.commit(std::slice::from_ref(&compact), 1).await.unwrap();
    assert_eq!(r[0].snapshot_id, 2);
    // A second compactor that also read "a" as live loses.
    let other = Committer::new(table.clone(), "v").unwrap();
    let e = other.commit(&[compact], 0).await.unwrap_err();
    assert_eq!(e.kind(), streamhouse_format::ErrorKind::Conflict, "{e}");
    assert!(e.retryable());
    assert_eq!(e.context().table.as_deref(), Some("db.t"));
    assert!(e.to_string().contains("table db.t"), "{e}");
    assert_eq!(table.list_snapshot_ids().await.unwrap(), vec![1, 2]);
}

/// Snapshot commit times come from the table's clock, and expiration by
/// `snapshot.time-retained` measures ages by it: an hour passes between commits and three
/// hours before expiring, with no sleep.
#[tokio::test]
async fn commit_times_and_expiration_by_age_follow_the_injected_clock() {
    const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    const HOUR: i64 = 3_600_000;
    let clock = ManualClock::new(T0);
    let io = FileIO::new(Arc::new(InMemory::new()), "memory://clock")
        .with_clock(Arc::new(clock.clone()));
    let table = new_table(io).await;
    let c = Committer::new(table.clone(), "u").unwrap();
    for i in 0..4 {
        c.commit(&[message(&format!("f-{i}"))], i).await.unwrap();
        clock.advance(Duration::from_secs(3600));
    }
    for id in 1..=4 {
        let s = table.snapshot(id).await.unwrap();
        assert_eq!(s.time_millis, T0 + (id - 1) * HOUR, "snapshot {id}");
    }
    let cfg = ExpireConfig {
        retain_min: 1,
        retain_max: 100,
        time_retained: Duration::from_secs(90 * 60),
        limit: 10,
    };
    // Now T0 + 4 h: snapshots committed before T0 + 2.5 h (1, 2 and 3) are older than
    // 90 minutes.
    let r = expire_snapshots(&table, &cfg).await.unwrap();
    assert_eq!(r.expired, vec![1, 2, 3]);
    assert_eq!(table.list_snapshot_ids().await.unwrap(), vec![4]);
    // Later still, the last snapshot stays (snapshot.num-retained.min).
    clock.advance(Duration::from_secs(10 * 3600));
    let r = expire_snapshots(&table, &cfg).await.unwrap();
    assert!(r.expired.is_empty(), "{r:?}");
    // A commit now carries the clock's time.
    let s = c.commit(&[message("f-late")], 9).await.unwrap();
    let late = table.snapshot(s[0].snapshot_id).await.unwrap();
    assert_eq!(late.time_millis, T0 + 14 * HOUR);
}

/// A table on a fault-injecting in-memory store.
async fn faulty_table() -> (Arc<FaultyStore>, Table) {
    let store = Arc::new(FaultyStore::new(Arc::new(InMemory::new())));
    let table = new_table(FileIO::new(store.clone(), "memory://retry")).await;
    (store, table)
}

/// The snapshot put of the next commit lands but its caller is told it failed, and the
/// committer loses the store right after (so it cannot find out): its commit call fails.
async fn commit_with_lost_ack(
    store: &FaultyStore,
    c: &Committer,
    messages: &[CommitMessage],
    id: i64,
) {
    use streamhouse_format::io::faults::{OpFilter, OpKind};
    store.arm_lost_ack_then_down(OpFilter::kind(OpKind::Put).path("snapshot/snapshot-"), 0);
    let e = c.commit(messages, id).await.unwrap_err();
    assert!(e.to_string().contains("injected fault"), "{e}");
    store.disarm();
}

fn data_file_names(entries: Vec<streamhouse_format::manifest::ManifestEntry>) -> Vec<String> {
    let mut names: Vec<String> = entries.into_iter().map(|e| e.file.file_name).collect();
    names.sort();
    names
}

/// A commit whose acknowledgement was lost, retried through a *new* committer (as a new
/// process would) with the same commit user and identifier, is recognised and not applied
/// twice, also when other users committed many snapshots in between; the new committer's
/// next commit lands normally.
#[tokio::test]
async fn a_retry_through_a_new_committer_after_a_lost_ack_is_not_applied_twice() {
    for others in [0, 3, 40] {
        let (store, table) = faulty_table().await;
        let first = Committer::new(table.clone(), "u").unwrap();
        first.commit(&[message("a")], 0).await.unwrap();
        commit_with_lost_ack(&store, &first, &[message("b")], 1).await;
        assert_eq!(
            table.list_snapshot_ids().await.unwrap(),
            vec![1, 2],
            "the put landed"
        );
        let v = Committer::new(table.clone(), "v").unwrap();
        for i in 0..others {
            v.commit(&[message(&format!("v-{i}"))], i).await.unwrap();
        }
        drop(first);
        let again = Committer::new(table.clone(), "u").unwrap();
        let r = again.commit(&[message("b")], 1).await.unwrap();
        assert_eq!(r.len(), 1);
        assert!(r[0].was_already_committed, "{others} others: {r:?}");
        assert_eq!(r[0].snapshot_id, 2, "{others} others");
        let r = again.commit(&[message("c")], 2).await.unwrap();
        assert!(!r[0].was_already_committed);
        let latest = table.snapshot(r[0].snapshot_id).await.unwrap();
        let live = data_file_names(table.all_live_files(&latest).await.unwrap());
        let mut expected: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        expected.extend((0..others).map(|i| format!("v-{i}")));
        expected.sort();
        assert_eq!(live, expected, "{others} others: every file once");
        let ids = table.list_snapshot_ids().await.unwrap();
        assert_eq!(ids, (1..=3 + others).collect::<Vec<_>>());
    }
}

/// A commit that never landed (the store failed before the snapshot put) is committed by the
/// retry through a new committer.
#[tokio::test]
async fn a_retry_through_a_new_committer_of_a_commit_that_never_landed_commits_it() {
    use streamhouse_format::io::faults::{OpFilter, OpKind};
    let (store, table) = faulty_table().await;
    let first = Committer::new(table.clone(), "u").unwrap();
    first.commit(&[message("a")], 0).await.unwrap();
    store.arm_every(
        OpFilter::kind(OpKind::Put).path("snapshot/snapshot-"),
        Fault::Fail,
    );
    first.commit(&[message("b")], 1).await.unwrap_err();
    store.disarm();
    let r = Committer::new(table.clone(), "u")
        .unwrap()
        .commit(&[message("b")], 1)
        .await
        .unwrap();
    assert!(!r[0].was_already_committed);
    assert_eq!(table.list_snapshot_ids().await.unwrap(), vec![1, 2]);
}

/// Writer output and compaction output of one round share an identifier: when only the APPEND
/// snapshot landed before the acknowledgement was lost, the retry through a new committer
/// recognises the APPEND and commits the COMPACT.
#[tokio::test]
async fn a_retried_round_whose_append_landed_commits_only_its_compaction() {
    let (store, table) = faulty_table().await;
    let first = Committer::new(table.clone(), "u").unwrap();
    first.commit(&[message("a")], 0).await.unwrap();
    let compact = CommitMessage {
        partition: BinaryRow::empty().serialize(),
        bucket: 0,
        total_buckets: -1,
        compact_before: vec![file("a", 10)],
        compact_after: vec![file("a-compacted", 10)],
        ..Default::default()
    };
    let round = [message("b"), compact];
    commit_with_lost_ack(&store, &first, &round, 1).await;
    assert_eq!(table.list_snapshot_ids().await.unwrap(), vec![1, 2]);
    let r = Committer::new(table.clone(), "u")
        .unwrap()
        .commit(&round, 1)
        .await
        .unwrap();
    assert_eq!(r.len(), 2);
    assert!(r[0].was_already_committed && r[0].snapshot_id == 2, "{r:?}");
    assert!(
        !r[1].was_already_committed && r[1].snapshot_id == 3,
        "{r:?}"
    );
    let latest = table.snapshot(3).await.unwrap();
    let live = data_file_names(table.all_live_files(&latest).await.unwrap());
    assert_eq!(live, vec!["a-compacted", "b"]);
}

/// A user whose identifiers start over (a new writer reusing a commit user) commits new files
/// under an identifier it used before: that is not a retry (the files differ), so it lands.
#[tokio::test]
async fn a_reused_identifier_with_other_files_is_committed() {
    let (_, table) = faulty_table().await;
    for name in ["a", "b", "c"] {
        let c = Committer::new(table.clone(), "reused").unwrap();
        let r = c.commit(&[message(name)], 0).await.unwrap();
        assert!(!r[0].was_already_committed, "{name}");
    }
    let latest = table.snapshot(3).await.unwrap();
    let live = data_file_names(table.all_live_files(&latest).await.unwrap());
    assert_eq!(live, vec!["a", "b", "c"]);
}

/// A committer with a generated user reads no old snapshots before its first commit.
#[tokio::test]
async fn a_committer_with_a_unique_user_does_not_walk_history() {
    use streamhouse_format::io::faults::{OpFilter, OpKind};
    let (store, table) = faulty_table().await;
    let c = Committer::new(table.clone(), "u").unwrap();
    for i in 0..20 {
        c.commit(&[message(&format!("f-{i}"))], i).await.unwrap();
    }
    let snapshot_gets = || store.count(&OpFilter::kind(OpKind::Get).path("snapshot/snapshot-"));
    let before = snapshot_gets();
    let fresh = Committer::with_unique_user(table.clone(), "w").unwrap();
    fresh.commit(&[message("g")], 0).await.unwrap();
    let unique = snapshot_gets() - before;
    let before = snapshot_gets();
    let new_user = Committer::new(table.clone(), "x").unwrap();
    new_user.commit(&[message("h")], 0).await.unwrap();
    let walked = snapshot_gets() - before;
    assert!(unique <= 2, "{unique} snapshot reads");
    assert!(walked >= 21, "{walked} snapshot reads: the whole history");
}
