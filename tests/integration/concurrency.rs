//! Concurrent committers on S3 (the moto server): four `streamhouse write` processes at a time
//! and two `streamhouse compact --service` processes commit to one table at once. Every
//! acknowledged commit must be present exactly once, no snapshot id may be acknowledged to
//! two processes, snapshot ids are contiguous, and our reader and pypaimon read the expected
//! rows from the final table.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{json, Value};
use streamhouse_format::snapshot::CommitKind;

use crate::interop_support::{assert_same_rows, pypaimon_read, python, s3_endpoint, S3_BUCKET};
use crate::procs::{
    cli, cli_binary, committed_ids, json_rows, run_with_input, signal, wait_bounded,
};
use crate::support::{create_table, open_table, scan_rows, unique};

const WRITERS: i64 = 4;
const ROUNDS: i64 = 6;
const ROWS: i64 = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writer_processes_and_compaction_services_on_one_s3_table() {
    if s3_endpoint().is_none() {
        return;
    }
    let Some(bin) = cli_binary() else {
        return;
    };
    let location = format!("s3://{S3_BUCKET}/{}", unique("concurrent"));
    let name = "db.events";
    create_table(
        &location,
        name,
        "w INT, seq INT, v STRING",
        &[],
        &["w", "seq"],
        &[("bucket", "2"), ("num-sorted-run.compaction-trigger", "3")],
    )
    .await;

    let services: Vec<_> = (0..2)
        .map(|_| {
            cli(
                &bin,
                &location,
                &["compact", name, "--service", "--interval", "100ms"],
            )
            .spawn()
            .expect("start a compaction service")
        })
        .collect();

    // Each writer thread runs its commits one process after another; the four threads run
    // at the same time.
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (bin, location) = (bin.clone(), location.clone());
            std::thread::spawn(move || {
                let mut acks = vec![];
                for round in 0..ROUNDS {
                    let rows = json_rows(
                        w,
                        round * ROWS..(round + 1) * ROWS,
                        &format!("w{w}r{round}"),
                    );
                    let out = run_with_input(
                        cli(&bin, &location, &["write", name, "--format", "json"]),
                        rows,
                    );
                    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
                    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
                    assert!(
                        out.status.success(),
                        "writer {w} round {round} failed: {stderr}"
                    );
                    let ids = committed_ids(&stdout);
                    assert!(!ids.is_empty(), "no snapshot id in {stdout:?}");
                    acks.push(((w, round), ids));
                }
                acks
            })
        })
        .collect();
    let mut acks = vec![];
    for t in writers {
        acks.extend(t.join().expect("a writer thread panicked"));
    }

    // Let the services make another pass, then stop them as Ctrl-C does.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut service_acks = vec![];
    for s in services {
        signal(&s, "INT");
        let out = wait_bounded(s, Duration::from_secs(60));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "compaction service: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for l in stdout.lines().filter(|l| l.starts_with("bucket ")) {
            let id = l.rsplit(' ').next().and_then(|n| n.parse::<i64>().ok());
            service_acks.push(id.unwrap_or_else(|| panic!("bad report line {l:?}")));
        }
    }

    let table = open_table(&location, name).await.unwrap();
    let ids = table.list_snapshot_ids().await.unwrap();
    let total = ids.len() as i64;
    assert_eq!(
        ids,
        (1..=total).collect::<Vec<_>>(),
        "snapshot ids are contiguous"
    );
    let mut kinds = BTreeMap::new();
    let mut users: BTreeMap<(String, i64, String), i64> = BTreeMap::new();
    for id in &ids {
        let s = table.snapshot(*id).await.unwrap();
        let key = (
            s.commit_user.clone(),
            s.commit_identifier,
            format!("{:?}", s.commit_kind),
        );
        if let Some(other) = users.insert(key.clone(), *id) {
            panic!("{key:?} committed twice: snapshots {other} and {id}");
        }
        kinds.insert(*id, s.commit_kind);
    }
    // Every acknowledged id is a distinct snapshot of the right kind: the first id of a write
    // is its APPEND, the rest its in-writer compactions.
    let mut acknowledged: BTreeSet<i64> = BTreeSet::new();
    let describe = |id: i64| {
        let who: Vec<String> = acks
            .iter()
            .filter(|(_, ids)| ids.contains(&id))
            .map(|((w, r), ids)| format!("writer {w} round {r} said {ids:?}"))
            .chain(
                service_acks
                    .iter()
                    .filter(|s| **s == id)
                    .map(|_| "a service".to_string()),
            )
            .collect();
        let mine: Vec<String> = users
            .iter()
            .filter(|(_, s)| **s == id)
            .map(|(k, _)| format!("{k:?}"))
            .collect();
        format!("acknowledged by {who:?}; the snapshot is {mine:?}")
    };
    for ((w, round), ids) in &acks {
        for (i, id) in ids.iter().enumerate() {
            assert!(
                acknowledged.insert(*id),
                "snapshot {id} acknowledged twice (writer {w} round {round}): {}",
                describe(*id)
            );
            let want = if i == 0 {
                CommitKind::Append
            } else {
                CommitKind::Compact
            };
            assert_eq!(kinds.get(id), Some(&want), "snapshot {id}");
        }
    }
    for id in &service_acks {
        assert!(
            acknowledged.insert(*id),
            "snapshot {id} acknowledged twice: {}",
            describe(*id)
        );
        assert_eq!(kinds.get(id), Some(&CommitKind::Compact), "snapshot {id}");
    }
    let appends = kinds.values().filter(|k| **k == CommitKind::Append).count();
    assert_eq!(
        appends as i64,
        WRITERS * ROUNDS,
        "every write landed once, none twice"
    );
    let compacts = kinds.len() - appends;
    assert!(compacts > 0, "the compaction services never committed");
    // Present compactions are all acknowledged (a process acknowledged each).
    assert_eq!(
        acknowledged.len(),
        ids.len(),
        "every snapshot was acknowledged to exactly one process"
    );

    let expected: Vec<Value> = (0..WRITERS)
        .flat_map(|w| {
            (0..ROUNDS).flat_map(move |round| {
                (round * ROWS..(round + 1) * ROWS)
                    .map(move |seq| json!({"w": w, "seq": seq, "v": format!("w{w}r{round}")}))
            })
        })
        .collect();
    assert_same_rows(
        &scan_rows(&table, None, None).await,
        &expected,
        "final table, our reader",
    );
    let latest = table.snapshot(total).await.unwrap();
    assert_eq!(latest.total_record_count, Some(WRITERS * ROUNDS * ROWS));
    if python().is_some() {
        assert_same_rows(
            &pypaimon_read(format!("{location}/db.db/events"), None),
            &expected,
            "final table, pypaimon",
        );
    }
    println!(
        "concurrent S3 commits: {} write commits acknowledged, {} present exactly once; {} compaction commits acknowledged ({} by the services), {} present; snapshots 1..={total} contiguous",
        acks.len(),
        appends,
        compacts,
        service_acks.len(),
        compacts
    );
}

/// The test server itself: of 16 creates of one key racing at the same moment, exactly one
/// succeeds and its content stays (30 keys). The commit protocol stands on this; moto's plain
/// server can let two win under load, so `tests/run.sh` starts it through
/// `tests/python/moto_server_atomic.py`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_sixteen_racing_creates_of_one_key_exactly_one_wins() {
    if s3_endpoint().is_none() {
        return;
    }
    let location = format!("s3://{S3_BUCKET}/{}", unique("create-race"));
    let (io, root) = streamhouse_format::io::open_warehouse(&location).unwrap();
    let racers = 16;
    let mut double_winners = vec![];
    for key in 0..30 {
        let path = root.clone().join(format!("snapshot-{key}"));
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(racers));
        let tasks: Vec<_> = (0..racers)
            .map(|r| {
                let (io, path, barrier) = (io.clone(), path.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let created = io
                        .write_if_absent(&path, format!("racer {r}"))
                        .await
                        .unwrap();
                    (r, created == streamhouse_format::io::Created::Yes)
                })
            })
            .collect();
        let mut winners = vec![];
        for t in tasks {
            let (r, won) = t.await.unwrap();
            if won {
                winners.push(r);
            }
        }
        let content = io.read(&path).await.unwrap();
        if winners.len() != 1 {
            double_winners.push(format!("key {key}: winners {winners:?}"));
        } else {
            assert_eq!(
                &content[..],
                format!("racer {}", winners[0]).as_bytes(),
                "key {key}: the winner's content"
            );
        }
    }
    assert!(
        double_winners.is_empty(),
        "create-only puts are not atomic on this server: {double_winners:?}"
    );
}
