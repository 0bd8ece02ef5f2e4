//! `streamhouse compact`, `expire` and `clean-orphans` as a user runs them.

use std::path::Path;
use std::process::Output;

use crate::ok;

fn run(wh: &Path, args: &[&str]) -> Output {
    crate::streamhouse(wh, args)
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
    assert!(out.contains("compacted"), "{out}");
    let snapshots_before = ok(&wh, &["snapshots", "shop.orders", "--output", "json"])
        .lines()
        .count();
    let out = ok(&wh, &["compact", "shop.orders", "--full"]);
    assert!(out.contains("committed"), "{out}");
    // A one-shot compaction of 2 partitions x 2 buckets is one atomic COMPACT snapshot, and
    // each bucket is named with its partition.
    let snapshots = ok(&wh, &["snapshots", "shop.orders", "--output", "json"]);
    assert_eq!(
        snapshots.lines().count(),
        snapshots_before + 1,
        "{snapshots}"
    );
    assert!(
        out.contains("dt=d1 bucket ") && out.contains("dt=d2 bucket "),
        "{out}"
    );
    let ids: std::collections::BTreeSet<&str> = out
        .lines()
        .filter_map(|l| l.rsplit_once("snapshot ").map(|(_, id)| id))
        .collect();
    assert_eq!(ids.len(), 1, "every bucket in the same snapshot: {out}");
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

/// Reads of first-row tables skip level 0 (as Java's do), so `write` compacts level 0 before it
/// returns: what it wrote is visible to scan, get and tail at once. With `write-only = true`
/// level 0 waits for `compact`.
#[test]
fn first_row_rows_are_visible_right_after_write() {
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh");
    let create = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "create",
            name,
            "--schema",
            "dt STRING NOT NULL, id BIGINT NOT NULL, v STRING",
            "--primary-key",
            "dt,id",
            "--partition-by",
            "dt",
            "--option",
            "bucket=2",
            "--option",
            "merge-engine=first-row",
        ];
        args.extend_from_slice(extra);
        ok(&wh, &args);
    };
    create("db.f", &[]);
    create("db.w", &["--option", "write-only=true"]);
    let write = |name: &str, i: usize, rows: &str| {
        let input = dir
            .path()
            .join(format!("{}-{i}.csv", name.replace('.', "_")));
        std::fs::write(&input, format!("dt,id,v\n{rows}")).unwrap();
        ok(&wh, &["write", name, "--input", input.to_str().unwrap()]);
    };
    for name in ["db.f", "db.w"] {
        write(name, 1, "d1,1,a\nd1,2,a\nd2,3,a\n");
        write(name, 2, "d1,1,b\nd1,4,b\nd2,3,b\nd2,5,b\n");
        write(name, 3, "d1,4,c\nd2,6,c\n");
    }
    let lines = |s: String| {
        let mut l: Vec<String> = s.lines().map(str::to_string).collect();
        l.sort();
        l
    };
    // The first version of each key wins.
    let expected = vec![
        "d1,1,a", "d1,2,a", "d1,4,b", "d2,3,a", "d2,5,b", "d2,6,c", "dt,id,v",
    ];
    assert_eq!(
        lines(ok(&wh, &["scan", "db.f", "--output", "csv"])),
        expected
    );
    let got = ok(
        &wh,
        &[
            "get",
            "db.f",
            "--key",
            "dt=d1,id=4",
            "--key",
            "dt=d2,id=6",
            "--output",
            "csv",
        ],
    );
    assert!(got.contains("d1,4,b") && got.contains("d2,6,c"), "{got}");
    let tail = ok(
        &wh,
        &["tail", "db.f", "--from", "latest-full", "--output", "csv"],
    );
    for row in &expected[..6] {
        assert!(tail.contains(row), "{row} missing from tail: {tail}");
    }
    let files = ok(&wh, &["files", "db.f"]);
    assert!(!files.contains("|     0 |"), "level-0 files left: {files}");

    // write-only: the rows stay in level 0, which first-row reads skip, until compact.
    assert_eq!(
        lines(ok(&wh, &["scan", "db.w", "--output", "csv"])),
        vec!["dt,id,v"]
    );
    ok(&wh, &["compact", "db.w"]);
    assert_eq!(
        lines(ok(&wh, &["scan", "db.w", "--output", "csv"])),
        expected
    );
}
