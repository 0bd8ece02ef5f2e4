//! `streamhouse compact`, `expire` and `clean-orphans` as a user runs them.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_streamhouse");

fn run(wh: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--warehouse")
        .arg(wh)
        .args(args)
        .env_remove("STREAMHOUSE_WAREHOUSE")
        .output()
        .expect("run streamhouse")
}

fn ok(wh: &Path, args: &[&str]) -> String {
    let out = run(wh, args);
    assert!(
        out.status.success(),
        "streamhouse {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

#[test]
fn compact_expire_and_clean_orphans_keep_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    ok(
        &wh,
        &[
            "create",
            "shop.orders",
            "--schema",
            "dt STRING, id BIGINT, qty INT",
            "--primary-key",
            "dt,id",
            "--partition-by",
            "dt",
            "--option",
            "bucket=2",
            "--option",
            "write-only=true",
        ],
    );
    for i in 0..6 {
        let input = dir.path().join(format!("in{i}.csv"));
        std::fs::write(
            &input,
            format!("dt,id,qty\nd1,1,{i}\nd1,{},1\nd2,7,{i}\n", 10 + i),
        )
        .unwrap();
        ok(
            &wh,
            &["write", "shop.orders", "--input", input.to_str().unwrap()],
        );
    }
    let before = ok(&wh, &["scan", "shop.orders", "--output", "csv"]);
    let out = ok(&wh, &["compact", "shop.orders", "--partition", "dt=d1"]);
    assert!(out.contains("compaction"), "{out}");
    let out = ok(&wh, &["compact", "shop.orders", "--full"]);
    assert!(out.contains("committed"), "{out}");
    let out = ok(&wh, &["compact", "shop.orders", "--full"]);
    assert!(out.contains("nothing to compact"), "{out}");
    let sorted = |s: &str| {
        let mut l: Vec<String> = s.lines().map(str::to_string).collect();
        l.sort();
        l
    };
    assert_eq!(
        sorted(&ok(&wh, &["scan", "shop.orders", "--output", "csv"])),
        sorted(&before)
    );
    let files = ok(&wh, &["files", "shop.orders"]);
    assert!(!files.contains("|     0 |"), "level-0 files left: {files}");
    let out = ok(
        &wh,
        &[
            "expire",
            "shop.orders",
            "--retain-min",
            "1",
            "--older-than",
            "0s",
        ],
    );
    assert!(out.contains("expired"), "{out}");
    assert_eq!(
        sorted(&ok(&wh, &["scan", "shop.orders", "--output", "csv"])),
        sorted(&before)
    );
    let snapshots = ok(&wh, &["snapshots", "shop.orders", "--output", "json"]);
    assert_eq!(snapshots.lines().count(), 1, "{snapshots}");
    let out = ok(&wh, &["clean-orphans", "shop.orders", "--older-than", "0s"]);
    assert!(out.contains("deleted 0 orphan files"), "{out}");
    // Bad arguments are usage errors that change nothing.
    let out = run(&wh, &["expire", "shop.orders", "--retain-min", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&wh, &["compact", "shop.orders", "--partition", "nope=1"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&wh, &["compact", "shop.orders", "--interval", "soon"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn writes_compact_their_buckets_unless_write_only() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    ok(
        &wh,
        &[
            "create",
            "db.t",
            "--schema",
            "id BIGINT, v STRING",
            "--primary-key",
            "id",
        ],
    );
    let mut last = String::new();
    for i in 0..6 {
        let input = dir.path().join(format!("in{i}.csv"));
        std::fs::write(&input, format!("id,v\n1,v{i}\n{},x\n", 10 + i)).unwrap();
        last = ok(&wh, &["write", "db.t", "--input", input.to_str().unwrap()]);
    }
    // The fifth sorted run triggered compaction in the writer: the COMPACT snapshot is reported.
    let snapshots = ok(&wh, &["snapshots", "db.t", "--output", "json"]);
    assert!(snapshots.contains("COMPACT"), "{snapshots}\n{last}");
    let rows = ok(&wh, &["scan", "db.t", "--output", "csv"]);
    assert!(rows.contains("1,v5"), "{rows}");
    assert_eq!(rows.lines().count(), 1 + 7, "{rows}");
}
