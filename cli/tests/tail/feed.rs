//! The feed of real writers and compactors: `input` changelog holds every input record in key
//! then sequence order; `lookup` changelog from the compactor; compaction snapshots never
//! duplicate rows; replaying the feed from any start position gives the table's rows.

use std::collections::BTreeMap;

use arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use streamhouse::{RowKind, StartPosition, Table, TailEvent};

use super::kv::{self, commit, compact};

/// (snapshot, kind, id, v)
type Change = (i64, RowKind, i64, Option<String>);

/// `prefix` with a suffix no other warehouse of this test run has.
fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// A table in a warehouse of its own in memory.
async fn table(options: &[(&str, &str)]) -> Table {
    kv::create(&unique("memory://tail-feed"), options).await
}

/// The (id, v) of each row of a batch of the table's columns.
fn id_values(b: &RecordBatch) -> Vec<(i64, Option<String>)> {
    let ids = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    let vs = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
    (0..b.num_rows())
        .map(|i| {
            (
                ids.value(i),
                vs.is_valid(i).then(|| vs.value(i).to_string()),
            )
        })
        .collect()
}

async fn feed(t: &Table, start: StartPosition) -> Vec<Change> {
    let mut out = vec![];
    for b in kv::changes(t, start).await {
        for (i, (id, v)) in id_values(&b.rows).into_iter().enumerate() {
            out.push((b.snapshot_id, b.kind(i), id, v));
        }
    }
    out
}

/// Applies changes to a key → value map (+I/+U upsert, -U/-D remove).
fn replay(changes: &[Change]) -> BTreeMap<i64, Option<String>> {
    let mut state = BTreeMap::new();
    for (_, kind, id, v) in changes {
        if kind.is_retract() {
            state.remove(id);
        } else {
            state.insert(*id, v.clone());
        }
    }
    state
}

async fn current_rows(t: &Table) -> BTreeMap<i64, Option<String>> {
    let batches = t.scan().collect().await.unwrap();
    batches.iter().flat_map(id_values).collect()
}

fn kinds_of(changes: &[Change]) -> Vec<(RowKind, i64)> {
    changes.iter().map(|c| (c.1, c.2)).collect()
}

#[tokio::test]
async fn input_changelog_is_every_record_sorted_by_key_then_sequence() {
    let t = table(&[("bucket", "1"), ("changelog-producer", "input")]).await;
    let mut w = t.writer().await.unwrap();
    use RowKind::*;
    let s = commit(
        &mut w,
        &t,
        &[
            (Insert, 2, Some("b")),
            (Insert, 1, Some("a")),
            (UpdateBefore, 1, Some("a")),
            (UpdateAfter, 1, Some("a2")),
            (Delete, 2, Some("b")),
            (Insert, 3, Some("c")),
        ],
    )
    .await;
    assert_eq!(s, [1]);
    let changes = feed(&t, StartPosition::FromSnapshot(1)).await;
    assert_eq!(
        kinds_of(&changes),
        [
            (Insert, 1),
            (UpdateBefore, 1),
            (UpdateAfter, 1),
            (Insert, 2),
            (Delete, 2),
            (Insert, 3)
        ]
    );
    assert_eq!(replay(&changes), current_rows(&t).await);
}

#[tokio::test]
async fn lookup_changelog_from_compaction_feeds_the_tail_without_duplicates() {
    let t = table(&[("bucket", "1"), ("changelog-producer", "lookup")]).await;
    let mut w = t.writer().await.unwrap();
    use RowKind::*;
    commit(
        &mut w,
        &t,
        &[
            (Insert, 1, Some("a")),
            (Insert, 2, Some("b")),
            (Insert, 3, Some("c")),
        ],
    )
    .await;
    compact(&t, false).await;
    commit(
        &mut w,
        &t,
        &[
            (UpdateAfter, 1, Some("a2")),
            (Delete, 2, None),
            (Insert, 4, Some("d")),
        ],
    )
    .await;
    // Before the second compaction: the starting scan reads only compacted data.
    let full = feed(&t, StartPosition::LatestFull).await;
    assert_eq!(replay(&full).len(), 3, "{full:?}");
    compact(&t, false).await;

    let changes = feed(&t, StartPosition::FromSnapshot(1)).await;
    let snapshots: Vec<(i64, String)> = {
        let mut v = vec![];
        for id in 1..=t.latest_snapshot_id().await.unwrap().unwrap() {
            v.push((id, t.snapshot(id).await.unwrap().commit_kind.to_string()));
        }
        v
    };
    // Changes only come from the COMPACT snapshots' changelog.
    for c in &changes {
        assert_eq!(snapshots[c.0 as usize - 1].1, "COMPACT", "{changes:?}");
    }
    let second: Vec<(RowKind, i64)> = changes
        .iter()
        .filter(|c| c.0 == snapshots.last().unwrap().0)
        .map(|c| (c.1, c.2))
        .collect();
    assert_eq!(
        second,
        [
            (UpdateBefore, 1),
            (UpdateAfter, 1),
            (Delete, 2),
            (Insert, 4)
        ]
    );
    assert_eq!(replay(&changes), current_rows(&t).await);
    // latest-full then the changes after it: the same rows, nothing twice.
    let mut from_full = full.clone();
    let after = feed(&t, StartPosition::FromSnapshot(full[0].0 + 1)).await;
    from_full.extend(after);
    assert_eq!(replay(&from_full), current_rows(&t).await);
}

#[tokio::test]
async fn compaction_snapshots_never_duplicate_rows_without_changelog() {
    let t = table(&[("bucket", "2")]).await;
    let mut w = t.writer().await.unwrap();
    use RowKind::*;
    let mut written = 0;
    for round in 0..4i64 {
        let records: Vec<(RowKind, i64, Option<String>)> = (0..20)
            .map(|i| (Insert, (round * 7 + i) % 30, Some(format!("r{round}-{i}"))))
            .collect();
        let refs: Vec<(RowKind, i64, Option<&str>)> =
            records.iter().map(|r| (r.0, r.1, r.2.as_deref())).collect();
        commit(&mut w, &t, &refs).await;
        written += 20;
        compact(&t, round % 2 == 1).await;
    }
    let changes = feed(&t, StartPosition::FromSnapshot(1)).await;
    // Each commit's records are folded per key by the writer, never repeated by compaction.
    assert!(
        changes.len() <= written && changes.len() >= 30,
        "{}",
        changes.len()
    );
    for c in &changes {
        let kind = t.snapshot(c.0).await.unwrap().commit_kind.to_string();
        assert_eq!(kind, "APPEND");
    }
    assert_eq!(replay(&changes), current_rows(&t).await);
    // Starting from the latest full state after all the compactions: the same rows.
    assert_eq!(
        replay(&feed(&t, StartPosition::LatestFull).await),
        current_rows(&t).await
    );
}

/// A follow-mode tail on the S3 test server (moto): the commits of a writer arrive in order
/// with their kinds. Needs STREAMHOUSE_S3_ENDPOINT (`tests/run.sh`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_a_table_on_s3() {
    if super::interop_support::s3_endpoint().is_none() {
        return;
    }
    let t = kv::create(
        &unique("s3://lake/tail"),
        &[("bucket", "1"), ("changelog-producer", "input")],
    )
    .await;
    let mut tail = t
        .tail()
        .from(StartPosition::Latest)
        .consumer("s3")
        .follow(true)
        .open()
        .await
        .unwrap();
    let writer = {
        let t = t.clone();
        tokio::spawn(async move {
            let mut w = t.writer().await.unwrap();
            use RowKind::*;
            for i in 0..5i64 {
                commit(
                    &mut w,
                    &t,
                    &[(Insert, i, Some("x")), (Delete, i, Some("x"))],
                )
                .await;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
    };
    let mut seen = vec![];
    let mut ended = 0;
    while ended < 5 {
        let e = tokio::time::timeout(std::time::Duration::from_secs(30), tail.next())
            .await
            .expect("changes within 30 s")
            .unwrap()
            .unwrap();
        match e {
            TailEvent::Changes(b) => {
                for i in 0..b.num_rows() {
                    seen.push((b.snapshot_id, b.kind(i)));
                }
            }
            TailEvent::SnapshotEnd(info) => ended = info.id,
        }
    }
    writer.await.unwrap();
    let expected: Vec<(i64, RowKind)> = (1..=5)
        .flat_map(|s| [(s, RowKind::Insert), (s, RowKind::Delete)])
        .collect();
    assert_eq!(seen, expected);
    tail.checkpoint().await.unwrap();
    assert_eq!(t.as_format_table().consumer("s3").await.unwrap(), Some(6));
    // No listing while following: the stats count looks and hint reads only.
    assert!(tail.stats().probes >= 5, "{:?}", tail.stats());
}
