//! The whole path against the moto S3 server `tests/run.sh` starts (bucket `lake`): create,
//! write with updates and deletes, read back with our reader and with pypaimon, the server's
//! refusal of a second create-only put, and two committers racing for snapshot ids.

use std::sync::Arc;

use serde_json::{json, Value};
use streamhouse_format::io::{open_warehouse, Committer, Created};
use streamhouse_format::ErrorKind;
use streamhouse_writer::TableWriter;

use crate::interop_support::{assert_same_rows, pypaimon_read, s3_endpoint, S3_BUCKET};
use crate::support::{
    batch_from_rows, create_table, inserts, open_table, scan_rows, unique, write_commit, Engine,
    Model,
};

/// A fresh warehouse URL on the test server, or `None` (skip) without one.
fn warehouse(what: &str) -> Option<String> {
    s3_endpoint()?;
    Some(format!("s3://{S3_BUCKET}/{}", unique(what)))
}

fn order(region: &str, id: i64, qty: Option<i32>, note: Option<&str>) -> Value {
    json!({"region": region, "id": id, "qty": qty, "note": note})
}

#[tokio::test]
async fn write_update_delete_and_read_back_from_s3() {
    let Some(location) = warehouse("roundtrip") else {
        return;
    };
    let table = create_table(
        &location,
        "db.orders",
        "region STRING, id BIGINT, qty INT, note STRING",
        &["region"],
        &["region", "id"],
        &[("bucket", "2")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let c1 = inserts(
        ["eu", "us"]
            .iter()
            .flat_map(|r| (1..=20).map(move |id| order(r, id, Some(id as i32), None)))
            .collect(),
    );
    let c2: Vec<(&str, Value)> = vec![
        ("-U", order("eu", 1, Some(1), None)),
        ("+U", order("eu", 1, Some(100), Some("updated"))),
        ("+U", order("us", 2, None, Some("bare +U"))),
        ("-D", order("us", 3, Some(3), None)),
        ("-D", order("eu", 4, None, None)),
        ("+I", order("ap", 1, Some(7), Some("new partition"))),
    ];
    let c3: Vec<(&str, Value)> = vec![
        ("+I", order("us", 3, Some(33), Some("back"))),
        ("-U", order("eu", 5, Some(5), None)),
        ("-D", order("ap", 1, None, None)),
        ("+I", order("ap", 2, None, None)),
    ];
    let mut expected = vec![];
    for (i, records) in [c1, c2, c3].iter().enumerate() {
        assert_eq!(write_commit(&table, records).await, i as i64 + 1);
        model.apply(records);
        expected.push(model.rows());
    }
    assert_eq!(expected[2].len(), 40 - 2 + 1 - 1 + 1);

    // The objects are on the server, laid out as Paimon's filesystem catalog.
    let names: Vec<String> = table
        .io
        .list_recursive(&table.root)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.location.to_string())
        .collect();
    let root = table.root.to_string();
    for must in ["schema/schema-0", "snapshot/snapshot-3", "snapshot/LATEST"] {
        assert!(
            names.contains(&format!("{root}/{must}")),
            "{must} missing in {names:?}"
        );
    }
    assert!(names
        .iter()
        .any(|n| n.starts_with(&format!("{root}/region=ap/bucket-"))));

    // A fresh open (new client) reads every snapshot.
    let reopened = open_table(&location, "db.orders").await.unwrap();
    assert_same_rows(
        &scan_rows(&reopened, None, None).await,
        &expected[2],
        "s3 latest, ours",
    );
    assert_same_rows(
        &scan_rows(&reopened, Some(1), None).await,
        &expected[0],
        "s3 snapshot 1, ours",
    );

    // pypaimon reads the same table from S3.
    if crate::interop_support::python().is_some() {
        let path = format!("{location}/db.db/orders");
        assert_same_rows(
            &pypaimon_read(&path, None),
            &expected[2],
            "s3 latest, pypaimon",
        );
        assert_same_rows(
            &pypaimon_read(&path, Some(2)),
            &expected[1],
            "s3 snapshot 2, pypaimon",
        );
    }
}

#[tokio::test]
async fn the_server_refuses_a_second_create_only_put() {
    let Some(location) = warehouse("create-only") else {
        return;
    };
    let (io, root) = open_warehouse(&location).unwrap();
    let path = root.clone().join("snapshot").join("snapshot-1");
    assert_eq!(
        io.write_if_absent(&path, "first").await.unwrap(),
        Created::Yes
    );
    assert_eq!(
        io.write_if_absent(&path, "second").await.unwrap(),
        Created::AlreadyExists
    );
    assert_eq!(&io.read(&path).await.unwrap()[..], b"first");

    // The same protects table creation.
    create_table(&location, "db.t", "a INT", &[], &[], &[]).await;
    let (io, root) = open_warehouse(&location).unwrap();
    let schema = open_table(&location, "db.t").await.unwrap().schema;
    let again = streamhouse_format::io::Table::create(
        io,
        root.clone().join("db.db").join("t"),
        "db.t",
        (*schema).clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::AlreadyExists, "{again}");
    assert!(again.to_string().contains("db.t"), "{again}");
}

/// Two committers prepare a commit each round, wait for each other, and commit at the same
/// moment; every commit lands exactly once and the snapshot ids are 1..=N without gaps.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_committers_racing_on_s3_land_with_contiguous_ids() {
    let Some(location) = warehouse("race") else {
        return;
    };
    let table = create_table(
        &location,
        "db.events",
        "writer INT, round INT, seq INT",
        &[],
        &[],
        &[("bucket", "-1")],
    )
    .await;
    let rounds = 5;
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let mut tasks = vec![];
    for w in 0..2 {
        let table = table.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let committer = Committer::new(table.clone(), format!("racer-{w}")).unwrap();
            let mut acknowledged = vec![];
            let mut retries = 0;
            for round in 0..rounds {
                let rows: Vec<Value> = (0..3)
                    .map(|seq| json!({"writer": w, "round": round, "seq": seq}))
                    .collect();
                let mut writer = TableWriter::new(table.clone()).await.unwrap();
                writer
                    .write(&batch_from_rows(&table.schema, &rows))
                    .await
                    .unwrap();
                let messages = writer.prepare_commit().await.unwrap();
                barrier.wait().await;
                let committed = committer.commit(&messages, round as i64).await.unwrap();
                assert_eq!(committed.len(), 1);
                assert!(!committed[0].was_already_committed);
                retries += committed[0].retries;
                acknowledged.push(committed[0].snapshot_id);
            }
            (acknowledged, retries)
        }));
    }
    let mut ids = vec![];
    let mut retries = 0;
    for t in tasks {
        let (a, r) = t.await.unwrap();
        ids.extend(a);
        retries += r;
    }
    eprintln!("s3 race: {retries} lost races retried");
    assert!(retries > 0, "the committers never raced for an id");
    ids.sort_unstable();
    let total = 2 * rounds as i64;
    assert_eq!(
        ids,
        (1..=total).collect::<Vec<_>>(),
        "each commit acknowledged once"
    );
    assert_eq!(
        table.list_snapshot_ids().await.unwrap(),
        (1..=total).collect::<Vec<_>>()
    );
    let mut seen = std::collections::BTreeSet::new();
    for id in 1..=total {
        let s = table.snapshot(id).await.unwrap();
        assert!(
            seen.insert((s.commit_user.clone(), s.commit_identifier)),
            "duplicate commit in {id}"
        );
        assert_eq!(
            s.total_record_count,
            Some(3 * id),
            "snapshot {id} counts every row before it"
        );
    }
    let expected: Vec<Value> = (0..2)
        .flat_map(|w| {
            (0..rounds).flat_map(move |round| {
                (0..3).map(move |seq| json!({"writer": w, "round": round, "seq": seq}))
            })
        })
        .collect();
    assert_same_rows(
        &scan_rows(&table, None, None).await,
        &expected,
        "rows of both racers",
    );
}

/// On the S3 server: a writer's snapshot put lands but its answer is lost and the process
/// loses the store right after (its commit call fails); a new process retries the same commit
/// (same commit user, identifier and files) through a new committer after another writer
/// committed: the retry is recognised, the rows are there once, and pypaimon reads the same.
#[tokio::test]
async fn a_retry_through_a_new_committer_after_a_lost_ack_commits_once_on_s3() {
    use streamhouse_format::io::faults::{FaultyStore, OpFilter, OpKind};
    let Some(location) = warehouse("retry") else {
        return;
    };
    let table = create_table(
        &location,
        "db.retry",
        "id BIGINT, v STRING",
        &[],
        &["id"],
        &[("bucket", "1")],
    )
    .await;
    let rows = |from: i64, v: &str| -> Vec<Value> {
        (from..from + 5)
            .map(|id| json!({"id": id, "v": v}))
            .collect()
    };
    write_commit(&table, &inserts(rows(0, "first"))).await;
    let faulty = Arc::new(FaultyStore::new(table.io.store.clone()));
    let mut lossy = table.clone();
    lossy.io = table.io.with_store(faulty.clone());
    let mut writer = TableWriter::with_commit_user(lossy.clone(), "etl".into()).unwrap();
    writer
        .write(&batch_from_rows(&table.schema, &rows(100, "retried")))
        .await
        .unwrap();
    let messages = writer.prepare_commit().await.unwrap();
    faulty.arm_lost_ack_then_down(OpFilter::kind(OpKind::Put).path("snapshot/snapshot-"), 0);
    let committer = Committer::new(lossy.clone(), "etl").unwrap();
    let e = committer.commit(&messages, 7).await.unwrap_err();
    assert!(e.to_string().contains("injected fault"), "{e}");
    drop(committer);
    assert_eq!(
        table.list_snapshot_ids().await.unwrap(),
        vec![1, 2],
        "the put landed"
    );
    write_commit(&table, &inserts(rows(200, "other"))).await;

    let again = Committer::new(table.clone(), "etl").unwrap();
    let r = again.commit(&messages, 7).await.unwrap();
    assert!(r[0].was_already_committed, "{r:?}");
    assert_eq!(r[0].snapshot_id, 2);
    assert_eq!(table.list_snapshot_ids().await.unwrap(), vec![1, 2, 3]);
    let mut expected = rows(0, "first");
    expected.extend(rows(100, "retried"));
    expected.extend(rows(200, "other"));
    let ours = scan_rows(&table, None, None).await;
    assert_same_rows(&ours, &expected, "after the retry");
    if crate::interop_support::python().is_some() {
        let theirs = pypaimon_read(format!("{location}/db.db/retry"), None);
        assert_same_rows(&theirs, &expected, "pypaimon after the retry");
    }
}
