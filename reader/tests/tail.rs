//! The incremental read (tail): which snapshots and files feed it for each changelog producer,
//! start positions, consumers, expiration, follow mode and cancellation at random points.
//! Files are hand-written in Java's physical layout and committed through the format crate's
//! one commit path (APPEND and COMPACT snapshots alike).

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, AsArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType as ArrowType, Field, Int64Type, Schema};
use streamhouse_format::clock::ManualClock;
use streamhouse_format::io::faults::FaultyStore;
use streamhouse_format::io::{CommitMessage, Committer, FileIO, Table};
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::snapshot::CommitKind;
use streamhouse_reader::incremental::{SnapshotInfo, StartPosition, TailBuilder, TailEvent};

/// A change as the tests compare it: (snapshot, kind, id, v).
type Change = (i64, String, i64, Option<String>);

fn rows(ids: &[i64], vs: &[&str]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", ArrowType::Int64, false),
        Field::new("v", ArrowType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(StringArray::from(vs.to_vec())),
        ],
    )
    .unwrap()
}

async fn pk_table(producer: &str) -> Table {
    common::table(
        "id BIGINT NOT NULL, v STRING",
        &[],
        &["id"],
        &[("bucket", "1"), ("changelog-producer", producer)],
    )
    .await
}

/// A primary-key file of (id, v, kind) records with sequence numbers from `seq`.
async fn pk_file(table: &Table, records: &[(i64, &str, i8)], seq: i64, level: i32) -> DataFileMeta {
    let ids: Vec<i64> = records.iter().map(|r| r.0).collect();
    let vs: Vec<&str> = records.iter().map(|r| r.1).collect();
    let kinds: Vec<i8> = records.iter().map(|r| r.2).collect();
    let seqs: Vec<i64> = (0..records.len() as i64).map(|i| seq + i).collect();
    common::write_pk_file(table, &rows(&ids, &vs), &seqs, &kinds, level).await
}

fn message(table: &Table) -> CommitMessage {
    CommitMessage {
        partition: streamhouse_format::binary_row::BinaryRow::empty().serialize(),
        bucket: 0,
        total_buckets: table.options.bucket.max(1),
        ..Default::default()
    }
}

/// Commits one APPEND snapshot with data files and optional changelog files.
async fn append(table: &Table, data: Vec<DataFileMeta>, changelog: Vec<DataFileMeta>) -> i64 {
    let mut m = message(table);
    m.new_files = data;
    m.changelog_files = changelog;
    let c = Committer::new(table.clone(), "writer").unwrap();
    let out = c.commit(&[m], next_identifier()).await.unwrap();
    assert_eq!(out.len(), 1);
    out[0].snapshot_id
}

/// Commits one COMPACT snapshot: `before` replaced by `after`, plus compaction changelog.
async fn compact(
    table: &Table,
    before: Vec<DataFileMeta>,
    after: Vec<DataFileMeta>,
    changelog: Vec<DataFileMeta>,
) -> i64 {
    let mut m = message(table);
    m.compact_before = before;
    m.compact_after = after;
    m.compact_changelog = changelog;
    let c = Committer::new(table.clone(), "compactor").unwrap();
    let out = c.commit(&[m], next_identifier()).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].kind, CommitKind::Compact);
    out[0].snapshot_id
}

fn next_identifier() -> i64 {
    static N: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

fn changes_of(batch: &streamhouse_reader::incremental::ChangeBatch) -> Vec<Change> {
    let ids = batch.rows.column(0).as_primitive::<Int64Type>();
    let vs = batch.rows.column(1).as_string::<i32>();
    (0..batch.num_rows())
        .map(|i| {
            (
                batch.snapshot_id,
                batch.kind(i).as_str().to_string(),
                ids.value(i),
                vs.is_valid(i).then(|| vs.value(i).to_string()),
            )
        })
        .collect()
}

/// Runs a bounded tail to its end.
async fn drain(builder: TailBuilder) -> (Vec<Change>, Vec<SnapshotInfo>) {
    let mut tail = builder.build().await.unwrap();
    let (mut changes, mut ends) = (vec![], vec![]);
    while let Some(e) = tail.next().await.unwrap() {
        match e {
            TailEvent::Changes(b) => changes.extend(changes_of(&b)),
            TailEvent::SnapshotEnd(info) => ends.push(info),
        }
    }
    (changes, ends)
}

/// Runs a bounded tail from snapshot `id` to its end.
async fn drain_from(t: &Table, id: i64) -> (Vec<Change>, Vec<SnapshotInfo>) {
    drain(TailBuilder::new(t).start(StartPosition::FromSnapshot(id))).await
}

/// A change as the tests expect it: (kind, id, v).
type Row<'a> = (&'a str, i64, &'a str);

/// Changes as the tests expect them: per snapshot, its rows.
fn changes(per_snapshot: &[(i64, &[Row])]) -> Vec<Change> {
    let row = |s: i64, &(kind, id, v): &Row| (s, kind.into(), id, Some(v.into()));
    per_snapshot
        .iter()
        .flat_map(|&(s, rows)| rows.iter().map(move |r| row(s, r)))
        .collect()
}

#[tokio::test]
async fn changelog_none_streams_append_deltas_and_skips_compaction() {
    let t = pk_table("none").await;
    let a = pk_file(&t, &[(1, "a", 0), (2, "b", 0), (3, "c", 0)], 0, 0).await;
    let s1 = append(&t, vec![a.clone()], vec![]).await;
    let b = pk_file(&t, &[(1, "x", 2), (2, "b", 3)], 3, 0).await;
    let s2 = append(&t, vec![b.clone()], vec![]).await;
    let merged = pk_file(&t, &[(1, "x", 2), (3, "c", 0)], 3, 5).await;
    let s3 = compact(&t, vec![a, b], vec![merged], vec![]).await;

    // The starting full scan sees the merged state as +I.
    let (full, ends) = drain(TailBuilder::new(&t)).await;
    assert_eq!(full, changes(&[(s3, &[("+I", 1, "x"), ("+I", 3, "c")])]));
    assert!(ends[0].full_scan && ends.len() == 1);

    let d = pk_file(&t, &[(4, "d", 0)], 5, 0).await;
    let s4 = append(&t, vec![d], vec![]).await;
    let (all, ends) = drain_from(&t, 1).await;
    assert_eq!(
        all,
        changes(&[
            (s1, &[("+I", 1, "a"), ("+I", 2, "b"), ("+I", 3, "c")]),
            (s2, &[("+U", 1, "x"), ("-D", 2, "b")]),
            (s4, &[("+I", 4, "d")]),
        ])
    );
    let ids: Vec<(i64, bool, u64)> = ends.iter().map(|e| (e.id, e.skipped, e.changes)).collect();
    assert_eq!(
        ids,
        [(1, false, 3), (2, false, 2), (3, true, 0), (4, false, 1)]
    );
    assert_eq!(ends[2].commit_kind, CommitKind::Compact);

    // `latest`: nothing until a new commit; a bounded tail then stops at once.
    let (none, ends) = drain(TailBuilder::new(&t).start(StartPosition::Latest)).await;
    assert!(none.is_empty() && ends.is_empty());
}

#[tokio::test]
async fn lookup_changelog_arrives_in_compact_snapshots_without_duplicates() {
    let t = pk_table("lookup").await;
    // s1: the writer's level-0 file; no changelog yet.
    let a = pk_file(&t, &[(1, "a", 0), (2, "b", 0)], 0, 0).await;
    let s1 = append(&t, vec![a.clone()], vec![]).await;
    // s2: compaction pushes it up and produces the changelog.
    let b = pk_file(&t, &[(1, "a", 0), (2, "b", 0)], 0, 5).await;
    let cl = pk_file(&t, &[(1, "a", 0), (2, "b", 0)], 0, 0).await;
    let s2 = compact(&t, vec![a], vec![b.clone()], vec![cl]).await;
    // s3: an update and a delete, in level 0.
    let d = pk_file(&t, &[(1, "a2", 2), (2, "b", 3)], 2, 0).await;
    let s3 = append(&t, vec![d.clone()], vec![]).await;

    // The starting scan reads only what compaction already covered (levels > 0).
    let (full, _) = drain(TailBuilder::new(&t)).await;
    assert_eq!(full, changes(&[(s3, &[("+I", 1, "a"), ("+I", 2, "b")])]));

    // s4: compaction of s3 produces -U/+U and -D.
    let e = pk_file(&t, &[(1, "a2", 0)], 2, 5).await;
    let cl = pk_file(&t, &[(1, "a", 1), (1, "a2", 2), (2, "b", 3)], 2, 0).await;
    let s4 = compact(&t, vec![b, d], vec![e], vec![cl]).await;

    let (all, ends) = drain_from(&t, 1).await;
    assert_eq!(
        all,
        changes(&[
            (s2, &[("+I", 1, "a"), ("+I", 2, "b")]),
            (s4, &[("-U", 1, "a"), ("+U", 1, "a2"), ("-D", 2, "b")]),
        ])
    );
    let skipped: Vec<i64> = ends.iter().filter(|e| e.skipped).map(|e| e.id).collect();
    assert_eq!(skipped, [s1, s3]);
    // Full scan at s3 followed by the changes from s4: the state of s4, nothing twice.
    let (from4, _) = drain_from(&t, s4).await;
    assert_eq!(from4.len(), 3);
}

#[tokio::test]
async fn input_changelog_lists_feed_the_tail_not_the_data_files() {
    let t = pk_table("input").await;
    let data = pk_file(&t, &[(1, "b", 2)], 1, 0).await;
    let log = pk_file(&t, &[(1, "a", 0), (1, "a", 1), (1, "b", 2)], 0, 0).await;
    let s1 = append(&t, vec![data], vec![log]).await;
    let (all, _) = drain_from(&t, 1).await;
    assert_eq!(
        all,
        changes(&[(s1, &[("+I", 1, "a"), ("-U", 1, "a"), ("+U", 1, "b")])])
    );
}

#[tokio::test]
async fn append_tables_stream_new_rows_and_skip_their_compaction() {
    let t = common::table("id BIGINT, v STRING", &[], &[], &[]).await;
    let f1 = common::write_file(&t, &rows(&[1, 2], &["a", "b"]), 0).await;
    let s1 = append(&t, vec![f1.clone()], vec![]).await;
    let f2 = common::write_file(&t, &rows(&[3], &["c"]), 0).await;
    let s2 = append(&t, vec![f2.clone()], vec![]).await;
    let f3 = common::write_file(&t, &rows(&[1, 2, 3], &["a", "b", "c"]), 0).await;
    compact(&t, vec![f1, f2], vec![f3], vec![]).await;
    let f4 = common::write_file(&t, &rows(&[4], &["d"]), 0).await;
    let s4 = append(&t, vec![f4], vec![]).await;
    let (all, _) = drain_from(&t, 1).await;
    assert_eq!(
        all,
        changes(&[
            (s1, &[("+I", 1, "a"), ("+I", 2, "b")]),
            (s2, &[("+I", 3, "c")]),
            (s4, &[("+I", 4, "d")]),
        ])
    );
    // Projection.
    let mut tail = TailBuilder::new(&t)
        .start(StartPosition::FromSnapshot(s4))
        .projection(vec!["v".into()])
        .build()
        .await
        .unwrap();
    assert_eq!(tail.output_schema().fields().len(), 1);
    let Some(TailEvent::Changes(b)) = tail.next().await.unwrap() else {
        panic!("expected changes")
    };
    assert_eq!(b.rows.schema().field(0).name(), "v");
}

#[tokio::test]
async fn from_timestamp_starts_at_the_first_snapshot_committed_then() {
    let mut t = pk_table("none").await;
    let clock = ManualClock::starting_now();
    t.io = t.io.clone().with_clock(Arc::new(clock.clone()));
    let mut times = vec![];
    for i in 0..4 {
        let f = pk_file(&t, &[(i, "x", 0)], i, 0).await;
        let s = append(&t, vec![f], vec![]).await;
        times.push(t.snapshot(s).await.unwrap().time_millis);
        clock.advance(Duration::from_millis(5));
    }
    let first = |ms: i64| {
        let t = t.clone();
        async move {
            let (changes, _) =
                drain(TailBuilder::new(&t).start(StartPosition::FromTimestamp(ms))).await;
            changes.first().map(|c| c.0)
        }
    };
    assert_eq!(first(0).await, Some(1));
    assert_eq!(first(times[2]).await, Some(3));
    assert_eq!(first(times[1] + 1).await, Some(3));
    assert_eq!(first(times[3] + 1).await, None);
}

async fn commit_rows(t: &Table, first_id: i64, n: i64) -> i64 {
    let recs: Vec<(i64, &str, i8)> = (first_id..first_id + n).map(|i| (i, "v", 0)).collect();
    let f = pk_file(t, &recs, first_id, 0).await;
    append(t, vec![f], vec![]).await
}

/// Simulates snapshot expiration up to (not including) `keep_from`.
async fn expire(t: &Table, keep_from: i64) {
    for id in 1..keep_from {
        t.io.delete(&t.snapshot_path(id)).await.unwrap();
    }
    t.io.write(
        &t.snapshot_dir().clone().join("EARLIEST"),
        keep_from.to_string(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn consumers_resume_where_they_stopped_and_record_progress() {
    let t = pk_table("none").await;
    for i in 0..3 {
        commit_rows(&t, i * 10, 2).await;
    }
    let builder = || {
        TailBuilder::new(&t)
            .start(StartPosition::FromSnapshot(1))
            .consumer("app")
    };
    let mut tail = builder().build().await.unwrap();
    // A new consumer starting at a snapshot is recorded at once.
    assert_eq!(t.consumer("app").await.unwrap(), Some(1));
    let mut seen = vec![];
    while let Some(e) = tail.next().await.unwrap() {
        if let TailEvent::SnapshotEnd(info) = e {
            seen.push(info.id);
            if info.id == 2 {
                break;
            }
        }
    }
    // Snapshot 2 was handed out but the caller never came back: not acknowledged.
    assert_eq!(t.consumer("app").await.unwrap(), Some(2));
    drop(tail);
    let (changes, _) = drain(builder()).await;
    let snaps: Vec<i64> = changes.iter().map(|c| c.0).collect();
    assert_eq!(snaps, [2, 2, 3, 3]);
    assert_eq!(t.consumer("app").await.unwrap(), Some(4));
    // Caught up: nothing more; the recorded position holds.
    let (changes, _) = drain(builder()).await;
    assert!(changes.is_empty());
    // A consumer's position wins over the start position, unless told otherwise.
    let (changes, _) = drain(builder().start(StartPosition::LatestFull)).await;
    assert!(changes.is_empty());
    let (changes, _) = drain(
        builder()
            .start(StartPosition::FromSnapshot(3))
            .ignore_consumer_progress(true),
    )
    .await;
    assert_eq!(changes.len(), 2);
    assert_eq!(t.consumer("app").await.unwrap(), Some(4));
    assert!(TailBuilder::new(&t).consumer("a/b").build().await.is_err());
}

#[tokio::test]
async fn a_consumer_behind_expiration_gets_a_clear_error() {
    let t = pk_table("none").await;
    for i in 0..5 {
        commit_rows(&t, i * 10, 1).await;
    }
    t.set_consumer("slow", 2).await.unwrap();
    expire(&t, 4).await;
    let refused = |b: TailBuilder| async move { b.build().await.err().unwrap().to_string() };
    let e = refused(TailBuilder::new(&t).consumer("slow")).await;
    assert!(e.contains("snapshot 2 of table db.t has expired"), "{e}");
    assert!(e.contains("consumer slow fell behind"), "{e}");
    let e = refused(TailBuilder::new(&t).start(StartPosition::FromSnapshot(1))).await;
    assert!(e.contains("earliest snapshot is 4"), "{e}");
}

#[tokio::test]
async fn a_snapshot_expired_while_waiting_is_an_error_not_a_gap() {
    let t = pk_table("none").await;
    commit_rows(&t, 0, 1).await;
    let mut tail = TailBuilder::new(&t)
        .start(StartPosition::Latest)
        .follow(true)
        .build()
        .await
        .unwrap();
    assert_eq!(tail.position(), 2);
    // Snapshots 2 and 3 are committed and 2 expires before the tail looks.
    commit_rows(&t, 10, 1).await;
    commit_rows(&t, 20, 1).await;
    expire(&t, 3).await;
    let e = tail.next().await.unwrap_err().to_string();
    assert!(e.contains("snapshot 2 of table db.t has expired"), "{e}");
    // The tail stays failed.
    assert!(tail.next().await.is_err());
}

#[tokio::test]
async fn a_missing_snapshot_in_the_middle_is_corruption() {
    let t = pk_table("none").await;
    for i in 0..3 {
        commit_rows(&t, i * 10, 1).await;
    }
    t.io.delete(&t.snapshot_path(2)).await.unwrap();
    let mut tail = TailBuilder::new(&t)
        .start(StartPosition::FromSnapshot(1))
        .build()
        .await
        .unwrap();
    let mut err = None;
    for _ in 0..10 {
        match tail.next().await {
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(e) => {
                err = Some(e.to_string());
                break;
            }
        }
    }
    let e = err.expect("an error");
    assert!(e.contains("snapshot 2 of table db.t is missing"), "{e}");
}

/// Reopens a table through a store that logs every request, on `clock`.
async fn logged(t: &Table, clock: ManualClock) -> (Table, Arc<FaultyStore>) {
    let store = Arc::new(FaultyStore::new(t.io.store.clone()));
    let io = FileIO::new(store.clone(), "logged").with_clock(Arc::new(clock));
    (
        Table::open(io, t.root.clone(), "db.t").await.unwrap(),
        store,
    )
}

/// Lets the other futures of this task run until they wait (everything is in memory).
async fn settle() {
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
}

/// Yields until `done` holds.
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..1_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("never happened");
}

/// A waiting tail polls on the table's clock: one GET of the next snapshot each time the clock
/// has moved one poll interval on, none before, the `LATEST` hint once per wait and no listing;
/// a cancelled wait loses nothing, and a commit is seen at the next look.
#[tokio::test]
async fn waiting_looks_once_per_interval_of_the_tables_clock() {
    let t = pk_table("none").await;
    commit_rows(&t, 0, 1).await;
    let clock = ManualClock::starting_now().holding_waits();
    let (lt, store) = logged(&t, clock.clone()).await;
    // Long enough that a tail sleeping on tokio's timer would not look within the test.
    let interval = Duration::from_millis(50);
    let just_before = interval - Duration::from_millis(1);
    let mut tail = TailBuilder::new(&lt)
        .start(StartPosition::Latest)
        .follow(true)
        .poll_interval(interval)
        .max_poll_interval(interval)
        .build()
        .await
        .unwrap();
    let before = store.op_count();
    let requests = |suffix: &str| {
        let log = store.log();
        let n = log[before..].iter().filter(|l| l.ends_with(suffix)).count();
        (n, log.len() - before)
    };
    let looks = || requests("snapshot/snapshot-2").0;
    let drive = async {
        until(|| clock.waiting() == 1).await;
        for look in 2..=20 {
            clock.advance(just_before);
            settle().await;
            assert_eq!(looks(), look - 1, "looked before the interval passed");
            clock.advance(interval - just_before);
            until(|| looks() == look).await;
        }
    };
    tokio::select! {
        biased;
        e = tail.next() => panic!("nothing was committed: {e:?}"),
        _ = drive => {}
    }
    let (hints, all) = requests("snapshot/LATEST");
    assert_eq!(
        hints,
        1,
        "the hint is read once per wait: {:?}",
        store.log()
    );
    assert_eq!(looks() + hints, all, "{:?}", store.log());
    // The cancelled call lost nothing: a commit while waiting arrives at the next look.
    let next = tail.next();
    tokio::pin!(next);
    tokio::select! {
        biased;
        e = &mut next => panic!("nothing was committed: {e:?}"),
        _ = async {
            until(|| looks() == 21).await;
            commit_rows(&t, 10, 1).await;
            clock.advance(just_before);
            settle().await;
        } => {}
    }
    assert_eq!(looks(), 21, "the commit is not seen before the next look");
    clock.advance(interval - just_before);
    let e = next.await.unwrap();
    assert!(matches!(e, Some(TailEvent::Changes(b)) if b.snapshot_id == 2));
}

#[tokio::test]
async fn storage_errors_while_looking_are_retried() {
    let t = pk_table("none").await;
    commit_rows(&t, 0, 1).await;
    let (lt, store) = logged(&t, ManualClock::starting_now()).await;
    let mut tail = TailBuilder::new(&lt)
        .start(StartPosition::FromSnapshot(1))
        .build()
        .await
        .unwrap();
    let at = store.op_count();
    store.arm(at, streamhouse_format::io::faults::Fault::Fail);
    store.arm(at + 1, streamhouse_format::io::faults::Fault::Fail);
    let (mut changes, mut ended) = (0, false);
    while let Some(e) = tail.next().await.unwrap() {
        match e {
            TailEvent::Changes(b) => changes += b.num_rows(),
            TailEvent::SnapshotEnd(_) => ended = true,
        }
    }
    assert_eq!((changes, ended), (1, true));
}

/// A writer commits while a consumer is cancelled at random points (dropping its `next()`
/// future mid-flight) and reopened: every snapshot's changes are delivered completely, and a
/// snapshot is delivered again only when it was the last one a cancelled run handed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_and_reopened_consumers_deliver_every_snapshot_exactly_once() {
    let t = pk_table("none").await;
    let commits = 40i64;
    let writer = {
        let t = t.clone();
        tokio::spawn(async move {
            let mut rng = common::Rng(7);
            let mut expected: BTreeMap<i64, Vec<Change>> = BTreeMap::new();
            for i in 0..commits {
                let n = 1 + rng.below(5) as i64;
                let kinds = ["+I", "-U", "+U", "-D"];
                let recs: Vec<(i64, String, i8)> = (0..n)
                    .map(|k| {
                        let kind = rng.below(4) as i8;
                        (i * 100 + k, format!("v{i}-{k}"), kind)
                    })
                    .collect();
                let refs: Vec<(i64, &str, i8)> =
                    recs.iter().map(|r| (r.0, r.1.as_str(), r.2)).collect();
                let f = pk_file(&t, &refs, i * 100, 0).await;
                let s = append(&t, vec![f], vec![]).await;
                expected.insert(
                    s,
                    recs.iter()
                        .map(|r| (s, kinds[r.2 as usize].to_string(), r.0, Some(r.1.clone())))
                        .collect(),
                );
                tokio::time::sleep(Duration::from_millis(rng.below(15))).await;
            }
            expected
        })
    };
    let mut rng = common::Rng(99);
    // Per run: (snapshot, changes, complete) in delivery order.
    let mut runs: Vec<Vec<(i64, Vec<Change>, bool)>> = vec![];
    let mut done_up_to = 0;
    while done_up_to < commits {
        let budget = Duration::from_millis(1 + rng.below(60));
        let mut run: Vec<(i64, Vec<Change>, bool)> = vec![];
        let deadline = tokio::time::sleep(budget);
        tokio::pin!(deadline);
        let opened = tokio::select! {
            t = TailBuilder::new(&t)
                .start(StartPosition::FromSnapshot(1))
                .consumer("c")
                .follow(true)
                .poll_interval(Duration::from_millis(2))
                .build() => Some(t.unwrap()),
            _ = &mut deadline => None,
        };
        if let Some(mut tail) = opened {
            loop {
                tokio::select! {
                    e = tail.next() => match e.unwrap().unwrap() {
                        TailEvent::Changes(b) => {
                            if run.last().is_none_or(|r| r.0 != b.snapshot_id || r.2) {
                                run.push((b.snapshot_id, vec![], false));
                            }
                            run.last_mut().unwrap().1.extend(changes_of(&b));
                        }
                        TailEvent::SnapshotEnd(info) => {
                            if run.last().is_none_or(|r| r.0 != info.id || r.2) {
                                run.push((info.id, vec![], false));
                            }
                            run.last_mut().unwrap().2 = true;
                            done_up_to = done_up_to.max(info.id);
                        }
                    },
                    _ = &mut deadline => break,
                }
            }
        }
        runs.push(run);
    }
    let expected = writer.await.unwrap();
    assert_eq!(expected.len() as i64, commits);
    let mut delivered: BTreeMap<i64, Vec<Change>> = BTreeMap::new();
    for (r, run) in runs.iter().enumerate() {
        for (i, (s, changes, complete)) in run.iter().enumerate() {
            let last_of_run = i + 1 == run.len();
            if !complete {
                assert!(last_of_run, "run {r}: snapshot {s} was cut short mid-run");
                continue;
            }
            assert_eq!(changes, &expected[s], "run {r}: snapshot {s}");
            if delivered.insert(*s, changes.clone()).is_some() {
                // A repeat is allowed only for the last snapshot the previous run handed out.
                let prev = runs[..r]
                    .iter()
                    .rev()
                    .find_map(|run| run.iter().rev().find(|x| x.2).map(|x| x.0));
                assert_eq!(prev, Some(*s), "run {r}: snapshot {s} delivered twice");
            }
        }
    }
    assert_eq!(delivered, expected);
    assert!(
        runs.len() > 3,
        "the consumer was restarted {} times",
        runs.len()
    );
}

/// A tail can run in a spawned task.
#[tokio::test]
async fn tails_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let t = pk_table("none").await;
    let mut tail = TailBuilder::new(&t).build().await.unwrap();
    let next = tail.next();
    assert_send(&next);
    drop(next);
    let build = TailBuilder::new(&t).build();
    assert_send(&build);
}
