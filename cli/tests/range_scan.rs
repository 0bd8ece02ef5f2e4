//! `scan --where/--as-of/--tag`, `tag create|list|delete`, `sql` and the scan figures of
//! `--stats`, through the binary.

use crate::harness::{ids, json_lines, Wh};

/// db.t: (dt, id) key partitioned by dt, 4 buckets, two commits (the second updates ids < 50).
fn setup() -> Wh {
    let wh = Wh::with_table(
        "db.t",
        "dt STRING, id BIGINT, category STRING, amount DOUBLE",
        "--primary-key dt,id --partition-by dt --option bucket=4",
    );
    for round in 0..2 {
        let n = if round == 0 { 300 } else { 50 };
        let rows: String = (0..n)
            .map(|i| {
                format!(
                    "{{\"dt\": \"d{}\", \"id\": {i}, \"category\": \"c{}\", \"amount\": {}}}\n",
                    i % 3,
                    i % 4,
                    i + round * 1000
                )
            })
            .collect();
        wh.write_file("db.t", &format!("in{round}.json"), rows);
    }
    wh
}

#[test]
fn where_filters_and_reports_pruning() {
    let wh = setup();
    let filter = "id BETWEEN 10 AND 20 AND category IN ('c1', 'c2') AND NOT dt = 'd0'";
    let out = wh.ok(&["scan", "db.t", "--where", filter, "-o", "json"]);
    let want: Vec<i64> = (10..=20)
        .filter(|i| i % 4 == 1 || i % 4 == 2)
        .filter(|i| i % 3 != 0)
        .collect();
    assert_eq!(ids(&out), want);
    // Value filters apply to merged rows: the updated amounts.
    let out = wh.ok(&["scan", "db.t", "--where", "amount >= 1000", "-o", "json"]);
    assert_eq!(ids(&out), (0..50).collect::<Vec<_>>());
    // --stats: the pruning figures and the requests.
    let o = wh.run(
        &["--stats", "scan", "db.t", "--where", "id = 7 AND dt = 'd1'"],
        b"",
    );
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    for want in [
        "partitions  1 of 3 read",
        "files ",
        "row groups",
        "pages",
        "ranged GET",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    // Bucket pruning: one bucket's files of the one partition (one per commit at most).
    let files_line = err
        .lines()
        .find(|l| l.contains("files "))
        .expect("files line");
    let read: u64 = files_line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("count");
    assert!(read <= 2, "{files_line}");
}

#[test]
fn bad_predicates_point_at_the_problem() {
    let wh = setup();
    for (filter, needles) in [
        ("id > 5 AND idd = 3", &["unknown column \"idd\"", "^"][..]),
        ("id BETWEEN 1", &["expected AND"]),
        ("amount = 'x'", &["does not fit column amount"]),
    ] {
        let e = wh.fails(1, &["scan", "db.t", "--where", filter]);
        for n in needles {
            assert!(e.contains(n), "--where {filter:?}: {n:?} not in {e}");
        }
    }
}

#[test]
fn tags_and_time_travel() {
    let wh = setup();
    wh.ok(&[
        "tag",
        "create",
        "db.t",
        "first",
        "--snapshot",
        "1",
        "--retain",
        "1h",
    ]);
    let e = wh.fails(1, &["tag", "create", "db.t", "first"]);
    assert!(e.contains("already exists"), "{e}");
    let list = wh.ok(&["tag", "list", "db.t", "-o", "json"]);
    assert!(
        list.contains("\"tag\":\"first\"") && list.contains("\"snapshot\":1"),
        "{list}"
    );
    let tagged = wh.ok(&[
        "scan", "db.t", "--tag", "first", "--where", "id < 3", "-o", "json",
    ]);
    assert!(tagged.contains("\"amount\":0.0"), "{tagged}");
    let latest = wh.ok(&["scan", "db.t", "--where", "id < 3", "-o", "json"]);
    assert!(latest.contains("\"amount\":1000.0"), "{latest}");
    let now = wh.ok(&[
        "scan",
        "db.t",
        "--as-of",
        "2999-01-01 00:00:00",
        "-o",
        "json",
    ]);
    assert_eq!(now.lines().count(), 300);
    let e = wh.fails(1, &["scan", "db.t", "--as-of", "2000-01-01"]);
    assert!(e.contains("earliest"), "{e}");
    wh.ok(&["tag", "delete", "db.t", "first"]);
    let e = wh.fails(1, &["scan", "db.t", "--tag", "first"]);
    assert!(e.contains("tag first"), "{e}");
}

#[test]
fn sql_over_the_warehouse() {
    let wh = setup();
    let query = "SELECT category, count(*) AS n, sum(amount) AS s FROM db.t WHERE id < 100 \
                 GROUP BY 1 ORDER BY 1";
    let out = wh.ok(&["sql", query, "-o", "json"]);
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["category"], "c0");
    assert_eq!(rows[0]["n"], 25);
    let csv = wh.ok(&["sql", "SELECT count(*) AS n FROM db.t", "-o", "csv"]);
    assert_eq!(csv, "n\n300\n");
    let e = wh.fails(1, &["sql", "SELECT * FROM db.nope"]);
    assert!(e.contains("nope"), "{e}");
}
