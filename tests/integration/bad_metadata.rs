//! Damaged tables: a truncated, emptied or garbled snapshot, manifest list, manifest, schema or
//! data file of a table we wrote makes opening or scanning fail with an error that names the
//! damaged file (never a panic, never wrong rows); a missing table or snapshot is a clear "not
//! found"; a commit whose snapshot cannot be published fails and adds no snapshot.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::memory::InMemory;
use serde_json::{json, Value};
use streamhouse_format::io::faults::{Fault, FaultyStore};
use streamhouse_format::io::{table_root, FileIO, Identifier, Table};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::parse_columns;
use streamhouse_format::ErrorKind;
use streamhouse_reader::ScanBuilder;
use streamhouse_writer::TableWriter;

use crate::interop_support::assert_same_rows;
use crate::support::{
    batch_from_rows, create_dt_table, inserts, open_table, scan_rows, try_scan_rows, write_commit,
    Engine, Model,
};

const NAME: &str = "db.t";

/// A partitioned primary-key table with two commits (updates and deletes in the second), in
/// a fresh local warehouse; returns the warehouse, the table and the rows of each snapshot.
async fn written_table() -> (tempfile::TempDir, Table, Vec<Vec<Value>>) {
    let dir = tempfile::tempdir().unwrap();
    let table = create_dt_table(
        dir.path().to_str().unwrap(),
        NAME,
        "dt STRING, id BIGINT, v STRING",
        &[("bucket", "2")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let row = |dt: &str, id: i64, v: Option<&str>| json!({"dt": dt, "id": id, "v": v});
    let c1 = inserts(
        ["a", "b"]
            .iter()
            .flat_map(|dt| (1..=10).map(move |id| row(dt, id, Some("v1"))))
            .collect(),
    );
    let c2 = vec![
        ("+U", row("a", 1, Some("v2"))),
        ("-D", row("b", 2, None)),
        ("+I", row("b", 11, None)),
    ];
    let mut rows = vec![];
    for records in [c1, c2] {
        write_commit(&table, &records).await;
        model.apply(&records);
        rows.push(model.rows());
    }
    assert_eq!(rows[1].len(), 20);
    (dir, table, rows)
}

/// The local file behind an object path of the warehouse at `dir`.
fn local(dir: &Path, object_path: &str) -> PathBuf {
    dir.join(object_path)
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Keep the first half.
    Truncate,
    /// Zero bytes.
    Empty,
    /// Overwrite a run of bytes in the middle.
    GarbleMiddle,
    /// Replace the content with bytes that are not the format at all.
    Replace,
}

const DAMAGES: [Damage; 4] = [
    Damage::Truncate,
    Damage::Empty,
    Damage::GarbleMiddle,
    Damage::Replace,
];

fn damage(file: &Path, how: Damage) {
    let mut bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    match how {
        Damage::Truncate => bytes.truncate(bytes.len() / 2),
        Damage::Empty => bytes.clear(),
        Damage::GarbleMiddle => {
            let mid = bytes.len() / 2;
            let end = (mid + 16).min(bytes.len());
            for b in &mut bytes[mid..end] {
                *b = !*b;
            }
        }
        Damage::Replace => bytes = b"\x00\xffgarbage, not the expected format {]".to_vec(),
    }
    std::fs::write(file, bytes).unwrap();
}

/// Scans (latest or `snapshot`) and returns the error message; fails the test when the scan
/// panics or returns rows.
async fn scan_error(table: &Table, snapshot: Option<i64>, what: &str) -> String {
    let t = table.clone();
    let outcome = tokio::spawn(async move { try_scan_rows(&t, snapshot, None).await }).await;
    match outcome {
        Err(join) => panic!("{what}: the scan panicked instead of failing: {join}"),
        Ok(Ok(rows)) => panic!(
            "{what}: the scan returned {} rows instead of an error: {rows:?}",
            rows.len()
        ),
        Ok(Err(e)) => e.to_string(),
    }
}

fn assert_names(message: &str, path: &str, what: &str) {
    assert!(
        message.contains(path),
        "{what}: the error does not name {path}: {message}"
    );
    assert!(!message.contains("panicked"), "{what}: {message}");
}

/// A fresh `written_table` whose file at `path_of(table)` is damaged `how`; returns the
/// warehouse, the table, the rows of each snapshot, the damaged path and a label for messages.
async fn damaged_table(
    how: Damage,
    path_of: fn(&Table) -> String,
) -> (tempfile::TempDir, Table, Vec<Vec<Value>>, String, String) {
    let (dir, table, rows) = written_table().await;
    let path = path_of(&table);
    damage(&local(dir.path(), &path), how);
    let what = format!("{how:?} {path}");
    (dir, table, rows, path, what)
}

#[tokio::test]
async fn damaged_snapshot_file() {
    for how in DAMAGES {
        let (_dir, table, rows, path, what) =
            damaged_table(how, |t| t.snapshot_path(2).to_string()).await;
        let message = scan_error(&table, None, &what).await;
        assert_names(&message, &path, &what);
        let message = scan_error(&table, Some(2), &what).await;
        assert_names(&message, &path, &what);
        // The older snapshot is untouched and still reads right.
        assert_same_rows(&scan_rows(&table, Some(1), None).await, &rows[0], &what);
    }
}

#[tokio::test]
async fn snapshot_file_of_valid_json_but_not_a_snapshot() {
    for content in [&b"{}"[..], b"[1, 2]", b"{\"version\": 3, \"id\": \"two\"}"] {
        let (dir, table, _) = written_table().await;
        let path = table.snapshot_path(2).to_string();
        std::fs::write(local(dir.path(), &path), content).unwrap();
        let what = format!("snapshot-2 = {}", String::from_utf8_lossy(content));
        assert_names(&scan_error(&table, None, &what).await, &path, &what);
    }
}

#[tokio::test]
async fn damaged_manifest_lists() {
    for how in DAMAGES {
        for which in ["base", "delta"] {
            let (dir, table, rows) = written_table().await;
            let snapshot = table.snapshot(2).await.unwrap();
            let name = match which {
                "base" => &snapshot.base_manifest_list,
                _ => &snapshot.delta_manifest_list,
            };
            let path = table.manifest_path(name).to_string();
            damage(&local(dir.path(), &path), how);
            let what = format!("{how:?} {which} manifest list {path}");
            assert_names(&scan_error(&table, None, &what).await, &path, &what);
            // Snapshot 1 does not use snapshot 2's lists.
            assert_same_rows(&scan_rows(&table, Some(1), None).await, &rows[0], &what);
        }
    }
}

/// The object path of the one manifest of snapshot 2's delta manifest list.
async fn delta_manifest(table: &Table) -> String {
    let snapshot = table.snapshot(2).await.unwrap();
    let manifests = table
        .read_manifest_list(&snapshot.delta_manifest_list)
        .await
        .unwrap();
    assert_eq!(manifests.len(), 1);
    table.manifest_path(&manifests[0].file_name).to_string()
}

#[tokio::test]
async fn damaged_manifest() {
    for how in DAMAGES {
        let (dir, table, _) = written_table().await;
        let path = delta_manifest(&table).await;
        damage(&local(dir.path(), &path), how);
        let what = format!("{how:?} manifest {path}");
        assert_names(&scan_error(&table, None, &what).await, &path, &what);
    }
}

/// The object path of the first data file of the latest snapshot's first split.
async fn first_data_file(table: &Table) -> String {
    let plan = ScanBuilder::new(table).plan().await.unwrap();
    let split = &plan.splits[0];
    split
        .bucket_dir(table)
        .join(split.files[0].file_name.as_str())
        .to_string()
}

#[tokio::test]
async fn missing_manifest_and_missing_data_file() {
    let (dir, table, _) = written_table().await;
    let path = delta_manifest(&table).await;
    std::fs::remove_file(local(dir.path(), &path)).unwrap();
    let message = scan_error(&table, None, "missing manifest").await;
    assert_names(&message, &path, "missing manifest");

    let (dir, table, _) = written_table().await;
    let path = first_data_file(&table).await;
    std::fs::remove_file(local(dir.path(), &path)).unwrap();
    let message = scan_error(&table, None, "missing data file").await;
    assert_names(&message, &path, "missing data file");
    assert!(message.contains("not found"), "{message}");
}

#[tokio::test]
async fn damaged_schema_file() {
    for how in DAMAGES {
        let (dir, _, _, path, what) = damaged_table(how, |t| t.schema_path(0).to_string()).await;
        let message = match open_table(dir.path().to_str().unwrap(), NAME).await {
            Ok(t) => panic!("{what}: opened with schema {:?}", t.schema),
            Err(e) => e.to_string(),
        };
        assert_names(&message, &path, &what);
    }
}

#[tokio::test]
async fn damaged_data_file() {
    // Truncation and a garbled footer (its length and magic); bytes garbled inside a
    // compressed page are not detectable without page checksums, in Java either.
    for how in ["truncate", "empty", "footer"] {
        let (dir, table, _) = written_table().await;
        let path = first_data_file(&table).await;
        let file = local(dir.path(), &path);
        match how {
            "truncate" => damage(&file, Damage::Truncate),
            "empty" => damage(&file, Damage::Empty),
            _ => {
                let mut bytes = std::fs::read(&file).unwrap();
                let n = bytes.len();
                for b in &mut bytes[n - 8..] {
                    *b = !*b;
                }
                std::fs::write(&file, bytes).unwrap();
            }
        }
        let what = format!("{how} data file {path}");
        assert_names(&scan_error(&table, None, &what).await, &path, &what);
    }
}

#[tokio::test]
async fn missing_table_and_missing_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let e = open_table(location, "db.missing").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e:?}");
    assert_eq!(e.context().table.as_deref(), Some("db.missing"));
    let message = e.to_string();
    assert!(
        message.contains("not found") && message.contains("db.missing"),
        "{message}"
    );

    let (_dir, table, _) = written_table().await;
    let e = try_scan_rows(&table, Some(9), None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e:?}");
    assert_eq!(e.context().snapshot, Some(9));
    assert!(e.to_string().contains("snapshot 9"), "{e}");
}

/// Where table `NAME` lives in the root-level warehouse of the faulty-store tests.
fn faulty_root() -> object_store::path::Path {
    table_root(
        &object_store::path::Path::from(""),
        &Identifier::parse(NAME).unwrap(),
    )
}

/// Runs the same two commits on a fresh in-memory store wrapped in a `FaultyStore` whose
/// operations `failing` fail. Returns the store, the inner store, and the second commit's
/// outcome.
async fn two_commits_on_faulty_store(
    failing: &[usize],
) -> (
    Arc<FaultyStore>,
    Arc<InMemory>,
    streamhouse_format::Result<streamhouse_writer::WriteSummary>,
) {
    let inner = Arc::new(InMemory::new());
    let store = Arc::new(FaultyStore::new(inner.clone()));
    let io = FileIO::new(store.clone(), "memory://faulty-commit");
    let schema = TableSchema::new(
        parse_columns("id BIGINT, v STRING").unwrap(),
        vec![],
        vec!["id".into()],
        [("bucket".to_string(), "2".to_string())].into(),
        0,
    )
    .unwrap();
    let root = faulty_root();
    let table = Table::create(io, root, NAME, schema).await.unwrap();
    let rows: Vec<Value> = (1..=6).map(|id| json!({"id": id, "v": "first"})).collect();
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    w.write(&batch_from_rows(&table.schema, &rows))
        .await
        .unwrap();
    assert_eq!(w.commit().await.unwrap().snapshot_ids, [1]);
    for i in failing {
        store.arm(*i, Fault::Fail);
    }
    let rows: Vec<Value> = (4..=9).map(|id| json!({"id": id, "v": "second"})).collect();
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    w.write(&batch_from_rows(&table.schema, &rows))
        .await
        .unwrap();
    let outcome = w.commit().await;
    (store, inner, outcome)
}

fn snapshot_2_puts(store: &FaultyStore) -> Vec<usize> {
    store
        .log()
        .iter()
        .filter(|line| line.ends_with(" put db.db/t/snapshot/snapshot-2"))
        .map(|line| line.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

/// Every put of `snapshot-2` fails (the committer retries a failed put a few times): the
/// commit fails with an error naming the snapshot, and the table keeps exactly snapshot 1.
#[tokio::test]
async fn a_commit_whose_snapshot_put_keeps_failing_adds_no_snapshot() {
    // Find the operation index of each attempt to publish snapshot-2 by failing the ones
    // found so far and running again (the operations of a run are deterministic).
    let mut failing: Vec<usize> = vec![];
    let (store, inner, outcome) = loop {
        let (store, inner, outcome) = two_commits_on_faulty_store(&failing).await;
        if outcome.is_err() || failing.len() > 10 {
            break (store, inner, outcome);
        }
        let new: Vec<usize> = snapshot_2_puts(&store)
            .into_iter()
            .filter(|i| !failing.contains(i))
            .collect();
        assert_eq!(
            new.len(),
            1,
            "one successful put of snapshot-2: {:#?}",
            store.log()
        );
        failing.extend(new);
    };
    let e = outcome.expect_err("the snapshot put failed every time");
    assert!(
        failing.len() >= 2,
        "the committer retries a failed put: {failing:?}"
    );
    assert_eq!(
        snapshot_2_puts(&store),
        failing,
        "every attempt was one of the failed puts"
    );
    let message = e.to_string();
    assert!(
        message.contains("db.db/t/snapshot/snapshot-2") && message.contains("injected fault"),
        "{message}"
    );
    assert!(e.retryable(), "a storage failure is retryable: {e:?}");
    // Through the healthy inner store: still exactly snapshot 1 and its rows.
    let io = FileIO::new(inner.clone(), "memory://faulty-commit");
    let root = faulty_root();
    let table = Table::open(io, root, NAME).await.unwrap();
    assert_eq!(table.list_snapshot_ids().await.unwrap(), [1]);
    assert_eq!(table.latest_snapshot_id().await.unwrap(), Some(1));
    let hint = table
        .io
        .read(&table.snapshot_dir().join("LATEST"))
        .await
        .unwrap();
    assert_eq!(&hint[..], b"1", "the LATEST hint still names snapshot 1");
    let first: Vec<Value> = (1..=6).map(|id| json!({"id": id, "v": "first"})).collect();
    assert_same_rows(
        &scan_rows(&table, None, None).await,
        &first,
        "after the failed commit",
    );

    // The table stays writable: the same write, retried on healthy storage, lands as 2.
    let rows: Vec<Value> = (4..=9).map(|id| json!({"id": id, "v": "second"})).collect();
    assert_eq!(write_commit(&table, &inserts(rows)).await, 2);
    let mut expected: Vec<Value> = (1..=3).map(|id| json!({"id": id, "v": "first"})).collect();
    expected.extend((4..=9).map(|id| json!({"id": id, "v": "second"})));
    assert_same_rows(
        &scan_rows(&table, None, None).await,
        &expected,
        "after the retry",
    );
}

/// `LATEST` is only a hint: garbage, a stale id or an id from the future in it do not change
/// what a scan reads.
#[tokio::test]
async fn a_wrong_latest_hint_is_ignored() {
    for hint in [&b"garbage"[..], b"1", b"99", b"", b"-5"] {
        let (dir, table, rows) = written_table().await;
        let path = table.snapshot_dir().join("LATEST").to_string();
        std::fs::write(local(dir.path(), &path), hint).unwrap();
        let what = format!("LATEST = {:?}", String::from_utf8_lossy(hint));
        assert_eq!(table.latest_snapshot_id().await.unwrap(), Some(2), "{what}");
        assert_same_rows(&scan_rows(&table, None, None).await, &rows[1], &what);
    }
}
