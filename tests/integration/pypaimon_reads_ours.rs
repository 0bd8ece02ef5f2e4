//! pypaimon 2.1.0 reads tables written by our `TableWriter`. For every table and every
//! snapshot checked, three row sets must agree exactly: the rows a model of the writes says
//! the table holds, pypaimon's merged read, and our `ScanBuilder`'s merged read. The tables are
//! `scenarios`' catalogue, which Paimon's Java reader and Flink read too.

use std::path::Path;

use serde_json::{json, Value};
use streamhouse_format::io::{Identifier, Table};
use tempfile::TempDir;

use crate::interop_support::{
    assert_same_rows, pypaimon_read, pypaimon_read_columns, table_dir, truncate_to_micros,
};
use crate::scenarios::{self, all_bytes_hex, pk_row, seq_row, Scenario, Written};
use crate::support::{create_id_table, inserts, project, scan_rows, write_commit, Engine};

/// Asserts model == ours == pypaimon for `snapshot` (latest when `None`). `nanos_diverge`:
/// compare pypaimon's rows through `truncate_to_micros` (its merged read of overlapping files
/// drops sub-microsecond digits, see interop_support); ours must still match exactly.
async fn check(
    table: &Table,
    warehouse: &Path,
    snapshot: Option<i64>,
    expected: &[Value],
    nanos_diverge: bool,
) {
    let what = format!("{} snapshot {snapshot:?}", table.name);
    let ours = scan_rows(table, snapshot, None).await;
    assert_same_rows(&ours, expected, &format!("{what}: ScanBuilder vs model"));
    let id = Identifier::parse(&table.name).unwrap();
    let (db, name) = (id.database.as_str(), id.table.as_str());
    let theirs = pypaimon_read(table_dir(warehouse, db, name), snapshot);
    if nanos_diverge {
        assert_same_rows(
            &truncate_to_micros(&theirs),
            &truncate_to_micros(expected),
            &format!("{what}: pypaimon vs model (to microseconds)"),
        );
    } else {
        assert_same_rows(&theirs, expected, &format!("{what}: pypaimon vs model"));
    }
}

/// A warehouse for a test, or `None` (the test skips) without pypaimon.
fn warehouse() -> Option<TempDir> {
    crate::interop_support::python()?;
    Some(tempfile::tempdir().unwrap())
}

/// Writes `scenario` into `dir`; model == ours == pypaimon at the latest snapshot and at
/// `snapshots`, model == ours at `ours_only`.
async fn write_and_check(
    dir: &TempDir,
    scenario: Scenario,
    snapshots: &[i64],
    ours_only: &[i64],
) -> Written {
    let written = scenario.write(dir.path()).await;
    let table = &written.table;
    for snapshot in [None].into_iter().chain(snapshots.iter().map(|s| Some(*s))) {
        check(
            table,
            dir.path(),
            snapshot,
            written.rows_at(snapshot),
            false,
        )
        .await;
    }
    for &id in ours_only {
        let what = format!("ScanBuilder snapshot {id}");
        assert_same_rows(
            &scan_rows(table, Some(id), None).await,
            written.rows_at(Some(id)),
            &what,
        );
    }
    written
}

/// PK (dt, id), partitioned by dt (including the empty string), 3 buckets, a small write
/// buffer so each commit flushes several overlapping files per bucket; the catalogue's 4
/// commits of every kind of change.
#[tokio::test]
async fn partitioned_primary_key_table_over_four_commits() {
    let Some(dir) = warehouse() else { return };
    let written = write_and_check(&dir, scenarios::pk_partitioned_four_commits(), &[2], &[3]).await;
    let (table, after) = (&written.table, &written.after);
    assert_eq!(after[0].len(), 450);
    assert_eq!(after[1].len(), 450 - 10 + 6);

    // A few hand-checked rows of the model itself.
    let find = |rows: &[Value], dt: &str, id: i64| -> Option<Value> {
        rows.iter()
            .find(|r| r["dt"] == dt && r["id"] == id)
            .cloned()
    };
    let row = |dt, id, name, amount, qty| Some(pk_row(Some(dt), id, name, amount, qty));
    assert_eq!(
        find(&after[3], "", 1),
        row("", 1, Some("re-inserted"), None, Some(1))
    );
    assert_eq!(find(&after[2], "2024-01-02", 20), None);
    assert_eq!(find(&after[3], "2024-01-03", 1), None);
    let v3 = row("2024-01-01", 30, Some("v3"), Some(3.0), Some(3));
    assert_eq!(find(&after[3], "2024-01-01", 30), v3);
    assert_eq!(after[3].len(), after[2].len() + 2 - 1);

    // Several level-0 files per bucket per commit: the merge is exercised for real.
    let latest = table.snapshot(4).await.unwrap();
    let files = table.all_live_files(&latest).await.unwrap();
    let first_commit = table
        .delta_entries(&table.snapshot(1).await.unwrap())
        .await
        .unwrap();
    assert!(
        first_commit.len() > 9,
        "expected several files per bucket in commit 1, got {}",
        first_commit.len()
    );
    assert!(files
        .iter()
        .all(|e| (0..3).contains(&e.bucket) && e.total_buckets == 3));

    // Projection, in an order different from the table's.
    let columns = ["name", "id", "dt"];
    let expected = project(written.latest(), &columns);
    assert_same_rows(
        &scan_rows(table, None, Some(&columns)).await,
        &expected,
        "ScanBuilder projection",
    );
    assert_same_rows(
        &pypaimon_read_columns(table_dir(dir.path(), "db", "pk"), None, &columns),
        &expected,
        "pypaimon projection",
    );
}

/// Append table, bucket -1: duplicates kept, nulls, 3 commits.
#[tokio::test]
async fn unaware_bucket_append_table() {
    let Some(dir) = warehouse() else { return };
    let written = write_and_check(&dir, scenarios::append_unaware(), &[1], &[2]).await;
    assert_eq!(written.latest().len(), 50 + 4 + 6);
}

/// Append table partitioned by a nullable column (null and empty values go to the default
/// partition), bucket=2 with bucket-key.
#[tokio::test]
async fn fixed_bucket_append_table_with_bucket_key() {
    let Some(dir) = warehouse() else { return };
    let written = write_and_check(&dir, scenarios::append_bucket_key(), &[1], &[]).await;
    let table = &written.table;
    let latest = table.snapshot(3).await.unwrap();
    let files = table.all_live_files(&latest).await.unwrap();
    assert!(files
        .iter()
        .all(|e| (0..2).contains(&e.bucket) && e.total_buckets == 2));
    assert!(
        dir.path()
            .join("db.db/append_bucket_key/region=__DEFAULT_PARTITION__")
            .is_dir(),
        "null region values live in the default partition"
    );
}

const ALL_TYPES: &str = "id INT, c_boolean BOOLEAN, c_tinyint TINYINT, c_smallint SMALLINT, \
    c_int INT, c_bigint BIGINT, c_float FLOAT, c_double DOUBLE, c_decimal_10_2 DECIMAL(10, 2), \
    c_decimal_38_18 DECIMAL(38, 18), c_char CHAR(5), c_varchar VARCHAR(20), c_string STRING, \
    c_binary BINARY(4), c_varbinary VARBINARY(9), c_bytes BYTES, c_date DATE, c_time TIME(3), \
    c_ts3 TIMESTAMP(3), c_ts6 TIMESTAMP(6), c_ts9 TIMESTAMP(9), \
    c_ltz3 TIMESTAMP(3) WITH LOCAL TIME ZONE, c_ltz6 TIMESTAMP(6) WITH LOCAL TIME ZONE, \
    c_ltz9 TIMESTAMP(9) WITH LOCAL TIME ZONE";

fn all_types_rows() -> Vec<Value> {
    vec![
        json!({"id": 1, "c_boolean": true, "c_tinyint": 7, "c_smallint": 300, "c_int": 70000,
            "c_bigint": 5_000_000_000i64, "c_float": 1.5, "c_double": 0.1,
            "c_decimal_10_2": "12.30", "c_decimal_38_18": "3.141592653589793238",
            "c_char": "abcde", "c_varchar": "varchar", "c_string": "string",
            "c_binary": "01020304", "c_varbinary": "cafe", "c_bytes": "6279746573",
            "c_date": "2024-02-29", "c_time": "12:34:56.789",
            "c_ts3": "2024-02-29T12:34:56.789000", "c_ts6": "2024-02-29T12:34:56.789012",
            "c_ts9": "2024-02-29T12:34:56.789012345", "c_ltz3": "2024-02-29T12:34:56.789000Z",
            "c_ltz6": "2024-02-29T12:34:56.789012Z", "c_ltz9": "2024-02-29T12:34:56.789012345Z"}),
        json!({"id": 2, "c_boolean": false, "c_tinyint": -128, "c_smallint": -32768,
            "c_int": i32::MIN, "c_bigint": i64::MIN, "c_float": -0.25, "c_double": -0.0,
            "c_decimal_10_2": "-99999999.99",
            "c_decimal_38_18": "-99999999999999999999.999999999999999999",
            "c_char": "ab", "c_varchar": "", "c_string": "héllo ✓ 日本",
            "c_binary": "00000000", "c_varbinary": "", "c_bytes": "",
            "c_date": "0001-01-01", "c_time": "00:00:00.000",
            "c_ts3": "1969-12-31T23:59:59.999000", "c_ts6": "1900-01-01T00:00:00.000001",
            "c_ts9": "1969-12-31T23:59:59.999999999", "c_ltz3": "1969-12-31T23:59:59.999000Z",
            "c_ltz6": "1900-01-01T00:00:00.000001Z", "c_ltz9": "1970-01-01T00:00:00.000000001Z"}),
        json!({"id": 3, "c_boolean": true, "c_tinyint": 127, "c_smallint": 32767,
            "c_int": i32::MAX, "c_bigint": i64::MAX, "c_float": "NaN", "c_double": "Infinity",
            "c_decimal_10_2": "99999999.99",
            "c_decimal_38_18": "99999999999999999999.999999999999999999",
            "c_char": "é✓日本x", "c_varchar": "quote\"back\\slash", "c_string": "\u{1}ctl\u{7f}",
            "c_binary": "fffefdfc", "c_varbinary": "000102030405060708", "c_bytes": all_bytes_hex(),
            "c_date": "9999-12-31", "c_time": "23:59:59.999",
            "c_ts3": "9999-12-31T23:59:59.999000", "c_ts6": "2262-04-11T23:47:16.854775",
            "c_ts9": "2262-04-11T23:47:16.854775807", "c_ltz3": "2038-01-19T03:14:08.000000Z",
            "c_ltz6": "1970-01-01T00:00:00.000000Z", "c_ltz9": "2000-01-01T00:00:00.000000Z"}),
        json!({"id": 4}),
        json!({"id": 5, "c_boolean": false, "c_tinyint": 0, "c_smallint": 0, "c_int": 0,
            "c_bigint": 0, "c_float": "-Infinity", "c_double": 5e-324,
            "c_decimal_10_2": "0.00", "c_decimal_38_18": "0.000000000000000001",
            "c_char": "z\"\\\n\t", "c_varchar": " ", "c_string": "",
            "c_binary": "00010001", "c_varbinary": "00", "c_bytes": "00",
            "c_date": "1969-12-31", "c_time": "00:00:00.001",
            "c_ts3": "1970-01-01T00:00:00.000000", "c_ts6": "1970-01-01T00:00:00.000000",
            "c_ts9": "1677-09-21T00:12:43.145224192", "c_ltz3": "1970-01-01T00:00:00.000000Z",
            "c_ltz6": "1970-01-01T00:00:00.000000Z", "c_ltz9": "1970-01-01T00:00:00.000000Z"}),
    ]
}

/// Every primitive type, edge values and a row of nulls; a second commit updates a row,
/// fills the null row, deletes one and adds one.
#[tokio::test]
async fn every_primitive_type_with_nulls_and_an_update() {
    let Some(dir) = warehouse() else { return };
    let scenario = scenarios::all_types(
        "db.all_types",
        ALL_TYPES,
        all_types_rows(),
        json!({"c_string": "updated", "c_int": null, "c_ts9": "2001-09-09T01:46:40.000000005",
            "c_decimal_10_2": "0.05"}),
        json!({"c_boolean": true, "c_date": "1969-07-20",
            "c_decimal_38_18": "-0.000000000000000001", "c_ltz9": "2024-01-01T00:00:00.123456789Z"}),
        json!({"id": 6, "c_char": "six"}),
    );
    let written = scenario.write(dir.path()).await;
    let after_2 = written.latest();
    assert_eq!(after_2.len(), 5);
    assert!(after_2
        .iter()
        .any(|r| r["id"] == 4 && r["c_date"] == "1969-07-20"));

    // pypaimon merges overlapping files of a bucket with microsecond timestamps (documented).
    check(&written.table, dir.path(), None, after_2, true).await;
    // Snapshot 1 has one file per bucket: nothing overlaps, so nanoseconds survive.
    check(
        &written.table,
        dir.path(),
        Some(1),
        &written.after[0],
        false,
    )
    .await;
}

/// Partial-update engine: per column the latest non-null value wins, across commits.
#[tokio::test]
async fn partial_update_table() {
    let Some(dir) = warehouse() else { return };
    let written = write_and_check(&dir, scenarios::partial_update(), &[2], &[]).await;
    let key1 = json!({"id": 1, "a": 11, "b": "y", "c": 9.75, "d": null});
    assert!(written.latest().contains(&key1));
}

/// Aggregation engine with every aggregate function pypaimon 2.1.0 implements.
#[tokio::test]
async fn aggregation_table() {
    let Some(dir) = warehouse() else { return };
    let written = write_and_check(&dir, scenarios::aggregation(), &[1], &[2]).await;
    // Key 1 by hand: sum 10+5-1+100, product 2*3*-1*2, min, max, ...
    let key1 = written.latest().iter().find(|r| r["id"] == 1).unwrap();
    assert_eq!(key1["s"], json!(114));
    assert_eq!(key1["p"], json!(-12));
    assert_eq!(key1["mn"], json!(i32::MIN));
    assert_eq!(key1["mx"], json!(4.0));
    assert_eq!(key1["lnn"], json!("d"));
    assert_eq!(key1["fv"], Value::Null);
    assert_eq!(key1["fnn"], json!("b"));
    assert_eq!(key1["band"], json!(false));
    assert_eq!(key1["la"], json!("x,y,z"));
    assert_eq!(key1["dsum"], json!(3.75));
}

/// `sequence.field`: the record with the highest `ts` wins (ties: the later one), also when
/// it arrived earlier or in an earlier commit; a delete with a low `ts` loses.
#[tokio::test]
async fn sequence_field_table() {
    let Some(dir) = warehouse() else { return };
    let written = write_and_check(&dir, scenarios::sequence_field(), &[2], &[]).await;
    let r = seq_row;
    assert_eq!(
        written.latest(),
        crate::interop_support::sort_rows([
            r(1, 5, "a"),
            r(3, 11, "c newer"),
            r(4, 8, "d newer"),
            r(5, 1, "e"),
        ])
    );
}

/// Two partition levels of non-string types (DATE, INT): Java's legacy partition names (a
/// DATE as its day number) and pypaimon finding the files by them.
#[tokio::test]
async fn typed_multi_level_partitions() {
    let Some(dir) = warehouse() else { return };
    let r =
        |day: &str, h: i32, id: i64, v: Option<&str>| json!({"day": day, "h": h, "id": id, "v": v});
    let c1 = ["2024-01-01", "1969-12-31"]
        .iter()
        .flat_map(|d| (0..3).flat_map(move |h| (1..=5).map(move |id| r(d, h - 1, id, Some("v1")))))
        .collect();
    let scenario = Scenario::new(
        "db.typed_partitions",
        "day DATE, h INT, id BIGINT, v STRING",
        Engine::Deduplicate,
    )
    .partition(&["day", "h"])
    .primary_key(&["day", "h", "id"])
    .option("bucket", "2")
    .insert(c1)
    .commit(vec![
        ("+U", r("2024-01-01", 0, 1, Some("v2"))),
        ("-D", r("1969-12-31", -1, 2, None)),
        ("+I", r("2000-02-29", 7, 1, None)),
    ]);
    let written = write_and_check(&dir, scenario, &[], &[]).await;
    for part in ["day=19723/h=0", "day=-1/h=-1", "day=11016/h=7"] {
        let bucket_dirs = std::fs::read_dir(dir.path().join("db.db/typed_partitions").join(part))
            .unwrap_or_else(|e| panic!("partition directory {part}: {e}"))
            .count();
        assert!(bucket_dirs >= 1, "{part}");
    }
    assert_eq!(written.latest().len(), 30);
}

/// `rowkind.field`: Java (and pypaimon) take each record's kind from that STRING column, so
/// rows written with op = '-D' delete their key and '-U' retracts it.
#[tokio::test]
async fn rowkind_field_decides_the_row_kind() {
    let Some(dir) = warehouse() else { return };
    let table = create_id_table(
        dir.path().to_str().unwrap(),
        "db.rowkind_field",
        "id BIGINT, v STRING, op STRING",
        &[("bucket", "1"), ("rowkind.field", "op")],
    )
    .await;
    let r = |id: i64, v: &str, op: &str| json!({"id": id, "v": v, "op": op});
    // Written as plain inserts: the kinds come from `op` only.
    for commit in [
        [r(1, "a", "+I"), r(2, "b", "+I"), r(3, "c", "+I")],
        [r(1, "a2", "+U"), r(2, "b", "-D"), r(3, "c", "-U")],
    ] {
        write_commit(&table, &inserts(commit.to_vec())).await;
    }
    let expected = [r(1, "a2", "+U")];
    check(&table, dir.path(), None, &expected, false).await;
}
