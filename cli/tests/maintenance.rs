//! `streamhouse compact`, `expire` and `clean-orphans` as a user runs them.

use streamhouse_test_support::FIRST_ROW_WRITES;

use crate::harness::{sorted_lines, Wh};

#[test]
fn compact_expire_and_clean_orphans_keep_the_rows() {
    let wh = Wh::with_table(
        "shop.orders",
        "dt STRING, id BIGINT, qty INT",
        "--primary-key dt,id --partition-by dt --option bucket=2 --option write-only=true",
    );
    for i in 0..6 {
        wh.write_file(
            "shop.orders",
            &format!("in{i}.csv"),
            format!("dt,id,qty\nd1,1,{i}\nd1,{},1\nd2,7,{i}\n", 10 + i),
        );
    }
    let rows = || sorted_lines(&wh.ok(&["scan", "shop.orders", "--output", "csv"]));
    let before = rows();
    let out = wh.ok(&["compact", "shop.orders", "--partition", "dt=d1"]);
    assert!(out.contains("compacted"), "{out}");
    let snapshots_before = wh.snapshot_count("shop.orders");
    let out = wh.ok(&["compact", "shop.orders", "--full"]);
    assert!(out.contains("committed"), "{out}");
    // A one-shot compaction of 2 partitions x 2 buckets is one atomic COMPACT snapshot, and
    // each bucket is named with its partition.
    assert_eq!(wh.snapshot_count("shop.orders"), snapshots_before + 1);
    assert!(
        out.contains("dt=d1 bucket ") && out.contains("dt=d2 bucket "),
        "{out}"
    );
    let ids: std::collections::BTreeSet<&str> = out
        .lines()
        .filter_map(|l| l.rsplit_once("snapshot ").map(|(_, id)| id))
        .collect();
    assert_eq!(ids.len(), 1, "every bucket in the same snapshot: {out}");
    let out = wh.ok(&["compact", "shop.orders", "--full"]);
    assert!(out.contains("nothing to compact"), "{out}");
    assert_eq!(rows(), before);
    let files = wh.ok(&["files", "shop.orders"]);
    assert!(!files.contains("|     0 |"), "level-0 files left: {files}");
    let expire = [
        "expire",
        "shop.orders",
        "--retain-min",
        "1",
        "--older-than",
        "0s",
    ];
    let out = wh.ok(&expire);
    assert!(out.contains("expired"), "{out}");
    assert_eq!(rows(), before);
    assert_eq!(wh.snapshot_count("shop.orders"), 1);
    let out = wh.ok(&["clean-orphans", "shop.orders", "--older-than", "0s"]);
    assert!(out.contains("deleted 0 orphan files"), "{out}");
    // Bad arguments are usage errors that change nothing.
    for args in [
        ["expire", "shop.orders", "--retain-min", "0"],
        ["compact", "shop.orders", "--partition", "nope=1"],
        ["compact", "shop.orders", "--interval", "soon"],
    ] {
        wh.fails(2, &args);
    }
    assert_eq!(rows(), before);
}

#[test]
fn writes_compact_their_buckets_unless_write_only() {
    let wh = Wh::with_table("db.t", "id BIGINT, v STRING", "--primary-key id");
    let mut last = String::new();
    for i in 0..6 {
        let csv = format!("id,v\n1,v{i}\n{},x\n", 10 + i);
        last = wh.write_file("db.t", &format!("in{i}.csv"), csv);
    }
    // The fifth sorted run triggered compaction in the writer: the COMPACT snapshot is reported.
    let snapshots = wh.ok(&["snapshots", "db.t", "--output", "json"]);
    assert!(snapshots.contains("COMPACT"), "{snapshots}\n{last}");
    let rows = wh.ok(&["scan", "db.t", "--output", "csv"]);
    assert!(rows.contains("1,v5"), "{rows}");
    assert_eq!(rows.lines().count(), 1 + 7, "{rows}");
}

/// Reads of first-row tables skip level 0 (as Java's do), so `write` compacts level 0 before it
/// returns: what it wrote is visible to scan, get and tail at once. With `write-only = true`
/// level 0 waits for `compact`.
#[test]
fn first_row_rows_are_visible_right_after_write() {
    let wh = Wh::new();
    let first_row = "--primary-key dt,id --partition-by dt --option bucket=2 \
                     --option merge-engine=first-row";
    let schema = "dt STRING NOT NULL, id BIGINT NOT NULL, v STRING";
    wh.create("db.f", schema, first_row);
    wh.create(
        "db.w",
        schema,
        &format!("{first_row} --option write-only=true"),
    );
    for name in ["db.f", "db.w"] {
        for (i, csv) in FIRST_ROW_WRITES.iter().enumerate() {
            wh.write_file(name, &format!("{name}-{i}.csv"), csv);
        }
    }
    let scan = |name: &str| sorted_lines(&wh.ok(&["scan", name, "--output", "csv"]));
    // The first version of each key wins.
    let expected = vec![
        "d1,1,a", "d1,2,a", "d1,4,b", "d2,3,a", "d2,5,b", "d2,6,c", "dt,id,v",
    ];
    assert_eq!(scan("db.f"), expected);
    let got = wh.ok(&[
        "get",
        "db.f",
        "--key",
        "dt=d1,id=4",
        "--key",
        "dt=d2,id=6",
        "--output",
        "csv",
    ]);
    assert!(got.contains("d1,4,b") && got.contains("d2,6,c"), "{got}");
    let tail = wh.ok(&["tail", "db.f", "--from", "latest-full", "--output", "csv"]);
    for row in &expected[..6] {
        assert!(tail.contains(row), "{row} missing from tail: {tail}");
    }
    let files = wh.ok(&["files", "db.f"]);
    assert!(!files.contains("|     0 |"), "level-0 files left: {files}");

    // write-only: the rows stay in level 0, which first-row reads skip, until compact.
    assert_eq!(scan("db.w"), vec!["dt,id,v"]);
    wh.ok(&["compact", "db.w"]);
    assert_eq!(scan("db.w"), expected);
}
