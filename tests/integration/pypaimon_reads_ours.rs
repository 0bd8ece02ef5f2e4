//! pypaimon 2.1.0 reads tables written by our `TableWriter`. For every table and every
//! snapshot checked, three row sets must agree exactly: the rows a model of the writes says
//! the table holds, pypaimon's merged read, and our `ScanBuilder`'s merged read.

use std::path::Path;

use serde_json::{json, Value};
use streamhouse_format::io::{Identifier, Table};

use crate::interop_support::{
    assert_same_rows, pypaimon_read, pypaimon_read_columns, table_dir, truncate_to_micros,
};
use crate::support::{
    create_table, inserts, project, scan_rows, write_commit, write_commit_in_batches, Agg, Engine,
    Model,
};

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

fn pk_row(dt: &str, id: i64, name: Option<&str>, amount: Option<f64>, qty: Option<i32>) -> Value {
    json!({"dt": dt, "id": id, "name": name, "amount": amount, "qty": qty})
}

fn first_version(dt: &str, id: i64) -> Value {
    let name = (id % 9 != 0).then(|| format!("{dt}/{id}"));
    let qty = (id % 5 != 0).then_some((id % 7) as i32);
    pk_row(dt, id, name.as_deref(), Some(id as f64 * 0.5), qty)
}

/// PK (dt, id), partitioned by dt (including the empty string, stored under
/// `dt=__DEFAULT_PARTITION__`), 3 buckets, a small write buffer so each commit flushes several
/// overlapping files per bucket; 4 commits of inserts, -U/+U pairs, bare +U, plain upserts,
/// deletes, a key whose last record is -U, delete-then-reinsert, insert-then-delete.
#[tokio::test]
async fn partitioned_primary_key_table_over_four_commits() {
    if crate::interop_support::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap();
    let table = create_table(
        location,
        "db.pk",
        "dt STRING, id BIGINT, name STRING, amount DOUBLE, qty INT",
        &["dt"],
        &["dt", "id"],
        &[("bucket", "3"), ("write-buffer-size", "8 kb")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let days = ["2024-01-01", "2024-01-02", ""];

    // 1: 3 partitions x 150 keys.
    let c1 = inserts(
        days.iter()
            .flat_map(|d| (1..=150).map(move |id| first_version(d, id)))
            .collect(),
    );
    let mut snapshots = vec![write_commit_in_batches(&table, &c1, 25).await];
    model.apply(&c1);
    let after_1 = model.rows();
    assert_eq!(after_1.len(), 450);

    // 2: -U/+U pairs, bare +U, plain +I upserts, deletes, new keys, a delete of a missing key.
    let mut c2: Vec<(&str, Value)> = vec![];
    for id in 1..=20 {
        c2.push(("-U", first_version("2024-01-01", id)));
        c2.push((
            "+U",
            pk_row("2024-01-01", id, Some("updated"), Some(-(id as f64)), None),
        ));
    }
    for id in 1..=10 {
        c2.push((
            "+U",
            pk_row("2024-01-02", id, Some("bare +U"), None, Some(id as i32)),
        ));
    }
    for id in 11..=15 {
        c2.push(("+I", pk_row("2024-01-02", id, None, Some(1e-3), Some(0))));
    }
    for id in 1..=10 {
        c2.push(("-D", first_version("", id)));
    }
    for id in 200..206 {
        c2.push((
            "+I",
            pk_row("2024-01-01", id, Some("new"), Some(200.25), Some(-1)),
        ));
    }
    c2.push(("-D", pk_row("2024-01-02", 999, None, None, None)));
    snapshots.push(write_commit_in_batches(&table, &c2, 7).await);
    model.apply(&c2);
    let after_2 = model.rows();
    assert_eq!(after_2.len(), 450 - 10 + 6);

    // 3: last record -U, delete then re-insert, two updates of one key, update to nulls, a new
    // partition with an insert-then-delete.
    let c3: Vec<(&str, Value)> = vec![
        ("-U", first_version("2024-01-02", 20)),
        ("-D", first_version("", 50)),
        ("+I", pk_row("", 50, Some("back"), Some(50.5), Some(50))),
        ("+U", pk_row("2024-01-01", 30, Some("v2"), Some(2.0), None)),
        (
            "+U",
            pk_row("2024-01-01", 30, Some("v3"), Some(3.0), Some(3)),
        ),
        ("+U", pk_row("2024-01-01", 31, None, None, None)),
        (
            "+I",
            pk_row("2024-01-03", 1, Some("short-lived"), Some(1.0), Some(1)),
        ),
        (
            "-D",
            pk_row("2024-01-03", 1, Some("short-lived"), Some(1.0), Some(1)),
        ),
        (
            "+I",
            pk_row("2024-01-03", 2, Some("new partition"), Some(2.0), Some(2)),
        ),
    ];
    snapshots.push(write_commit_in_batches(&table, &c3, 7).await);
    model.apply(&c3);
    let after_3 = model.rows();

    // 4: re-insert deleted keys, update the new partition, delete a key added in 2.
    let c4: Vec<(&str, Value)> = vec![
        ("+I", pk_row("", 1, Some("re-inserted"), None, Some(1))),
        (
            "+I",
            pk_row("2024-01-02", 20, Some("resurrected"), Some(20.0), None),
        ),
        (
            "-U",
            pk_row("2024-01-03", 2, Some("new partition"), Some(2.0), Some(2)),
        ),
        (
            "+U",
            pk_row(
                "2024-01-03",
                2,
                Some("updated partition"),
                Some(2.5),
                Some(3),
            ),
        ),
        ("-D", pk_row("2024-01-01", 200, None, None, None)),
    ];
    snapshots.push(write_commit_in_batches(&table, &c4, 7).await);
    model.apply(&c4);
    let after_4 = model.rows();
    assert_eq!(snapshots, [1, 2, 3, 4]);

    // A few hand-checked rows of the model itself.
    let find = |rows: &[Value], dt: &str, id: i64| -> Option<Value> {
        rows.iter()
            .find(|r| r["dt"] == dt && r["id"] == id)
            .cloned()
    };
    assert_eq!(
        find(&after_4, "", 1),
        Some(pk_row("", 1, Some("re-inserted"), None, Some(1)))
    );
    assert_eq!(find(&after_3, "2024-01-02", 20), None);
    assert_eq!(find(&after_4, "2024-01-03", 1), None);
    assert_eq!(
        find(&after_4, "2024-01-01", 30),
        Some(pk_row("2024-01-01", 30, Some("v3"), Some(3.0), Some(3)))
    );
    assert_eq!(after_4.len(), after_3.len() + 2 - 1);

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

    check(&table, dir.path(), None, &after_4, false).await;
    check(&table, dir.path(), Some(2), &after_2, false).await;
    assert_same_rows(
        &scan_rows(&table, Some(3), None).await,
        &after_3,
        "ScanBuilder snapshot 3",
    );

    // Projection, in an order different from the table's.
    let columns = ["name", "id", "dt"];
    let expected = project(&after_4, &columns);
    assert_same_rows(
        &scan_rows(&table, None, Some(&columns)).await,
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
    if crate::interop_support::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let table = create_table(
        dir.path().to_str().unwrap(),
        "db.append_unaware",
        "id INT, category STRING, value DOUBLE, note STRING",
        &[],
        &[],
        &[("bucket", "-1")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Append);
    let row = |id: i32, category: Option<&str>, value: Option<f64>, note: Option<&str>| json!({"id": id, "category": category, "value": value, "note": note});
    let commits = [
        (0..40)
            .map(|i| {
                let cat = format!("cat_{}", i % 3);
                row(
                    i,
                    Some(&cat),
                    Some(i as f64 / 4.0),
                    (i % 4 == 0).then_some("four"),
                )
            })
            .collect::<Vec<_>>(),
        vec![
            row(3, Some("cat_0"), Some(0.75), None), // an exact duplicate of a row of commit 1
            row(3, Some("cat_0"), Some(0.75), None),
            row(100, None, None, Some("nulls")),
            json!({"id": null}),
        ],
        (20..26)
            .map(|i| {
                row(
                    i,
                    Some("cat_9"),
                    Some(-(i as f64)),
                    Some(&"x".repeat(i as usize)),
                )
            })
            .collect(),
    ];
    let mut expected = vec![];
    for (i, rows) in commits.into_iter().enumerate() {
        let records = inserts(rows);
        assert_eq!(write_commit(&table, &records).await, i as i64 + 1);
        model.apply(&records);
        expected.push(model.rows());
    }
    assert_eq!(expected[2].len(), 40 + 4 + 6);
    check(&table, dir.path(), None, &expected[2], false).await;
    check(&table, dir.path(), Some(1), &expected[0], false).await;
    assert_same_rows(
        &scan_rows(&table, Some(2), None).await,
        &expected[1],
        "ScanBuilder snapshot 2",
    );
}

/// Append table partitioned by a nullable column (null and empty values go to the default
/// partition), bucket=2 with bucket-key.
#[tokio::test]
async fn fixed_bucket_append_table_with_bucket_key() {
    if crate::interop_support::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let table = create_table(
        dir.path().to_str().unwrap(),
        "db.append_fixed",
        "region STRING, id BIGINT NOT NULL, amount BIGINT, label STRING",
        &["region"],
        &[],
        &[("bucket", "2"), ("bucket-key", "id")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Append);
    let regions = ["eu", "us", "ap"];
    let row = |region: Option<&str>, id: i64, amount: Option<i64>, label: Option<&str>| json!({"region": region, "id": id, "amount": amount, "label": label});
    let commits = [
        (0..30)
            .map(|i| {
                row(
                    Some(regions[i as usize % 3]),
                    i,
                    Some(i * 100),
                    Some(&format!("r{i}")),
                )
            })
            .collect::<Vec<_>>(),
        vec![
            row(Some("eu"), 0, Some(1), Some("r0-again")),
            row(Some("us"), 1000, None, None),
            row(None, 7, Some(i64::MIN), Some("null region")),
            row(None, 8, Some(i64::MAX), None),
        ],
        (30..36)
            .map(|i| {
                row(
                    Some(regions[i as usize % 3]),
                    i,
                    Some(-i),
                    Some(&format!("late{i}")),
                )
            })
            .chain([row(None, 9, Some(9), Some("null region again"))])
            .collect(),
    ];
    let mut expected = vec![];
    for (i, rows) in commits.into_iter().enumerate() {
        let records = inserts(rows);
        assert_eq!(write_commit(&table, &records).await, i as i64 + 1);
        model.apply(&records);
        expected.push(model.rows());
    }
    let latest = table.snapshot(3).await.unwrap();
    let files = table.all_live_files(&latest).await.unwrap();
    assert!(files
        .iter()
        .all(|e| (0..2).contains(&e.bucket) && e.total_buckets == 2));
    assert!(
        dir.path()
            .join("db.db/append_fixed/region=__DEFAULT_PARTITION__")
            .is_dir(),
        "null region values live in the default partition"
    );
    check(&table, dir.path(), None, &expected[2], false).await;
    check(&table, dir.path(), Some(1), &expected[0], false).await;
}

fn all_bytes_hex() -> String {
    (0u8..=255).map(|b| format!("{b:02x}")).collect()
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
    if crate::interop_support::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let table = create_table(
        dir.path().to_str().unwrap(),
        "db.all_types",
        ALL_TYPES,
        &[],
        &["id"],
        &[("bucket", "2")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let c1 = inserts(all_types_rows());
    assert_eq!(write_commit(&table, &c1).await, 1);
    model.apply(&c1);
    let after_1 = model.rows();

    let mut updated = all_types_rows()[1].clone();
    updated["c_string"] = json!("updated");
    updated["c_int"] = Value::Null;
    updated["c_ts9"] = json!("2001-09-09T01:46:40.000000005");
    updated["c_decimal_10_2"] = json!("0.05");
    let filled = json!({"id": 4, "c_boolean": true, "c_date": "1969-07-20",
        "c_decimal_38_18": "-0.000000000000000001", "c_ltz9": "2024-01-01T00:00:00.123456789Z"});
    let mut new_row = all_types_rows()[0].clone();
    new_row["id"] = json!(6);
    new_row["c_char"] = json!("six");
    let c2 = vec![
        ("+U", updated),
        ("+U", filled),
        ("-D", json!({"id": 5})),
        ("+I", new_row),
    ];
    assert_eq!(write_commit(&table, &c2).await, 2);
    model.apply(&c2);
    let after_2 = model.rows();
    assert_eq!(after_2.len(), 5);
    assert!(after_2
        .iter()
        .any(|r| r["id"] == 4 && r["c_date"] == "1969-07-20"));

    // pypaimon merges overlapping files of a bucket with microsecond timestamps (documented).
    check(&table, dir.path(), None, &after_2, true).await;
    // Snapshot 1 has one file per bucket: nothing overlaps, so nanoseconds survive.
    check(&table, dir.path(), Some(1), &after_1, false).await;
}

/// Partial-update engine: per column the latest non-null value wins, across commits.
#[tokio::test]
async fn partial_update_table() {
    if crate::interop_support::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let table = create_table(
        dir.path().to_str().unwrap(),
        "db.partial_update",
        "id BIGINT, a INT, b STRING, c DOUBLE, d DATE",
        &[],
        &["id"],
        &[("bucket", "2"), ("merge-engine", "partial-update")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::PartialUpdate);
    let r = |id: i64, a: Option<i32>, b: Option<&str>, c: Option<f64>| json!({"id": id, "a": a, "b": b, "c": c});
    let commits = [
        vec![
            r(1, Some(10), None, None),
            r(2, None, Some("x"), Some(1.0)),
            r(4, None, None, None),
            r(1, None, None, Some(0.5)),
        ],
        vec![
            r(1, None, Some("y"), None),
            r(1, Some(11), None, None),
            r(3, Some(1), Some("z"), None),
            json!({"id": 5, "d": "2024-05-05"}),
        ],
        vec![
            r(2, Some(5), None, Some(2.5)),
            r(1, None, None, Some(9.75)),
            r(3, None, Some("z2"), None),
            json!({"id": 4, "d": "1999-12-31"}),
            r(5, Some(-5), None, None),
        ],
    ];
    let mut expected = vec![];
    for (i, rows) in commits.into_iter().enumerate() {
        let records = inserts(rows);
        assert_eq!(write_commit(&table, &records).await, i as i64 + 1);
        model.apply(&records);
        expected.push(model.rows());
    }
    assert!(expected[2].contains(&json!({"id": 1, "a": 11, "b": "y", "c": 9.75, "d": null})));
    check(&table, dir.path(), None, &expected[2], false).await;
    check(&table, dir.path(), Some(2), &expected[1], false).await;
}

/// Aggregation engine with every aggregate function pypaimon 2.1.0 implements.
#[tokio::test]
async fn aggregation_table() {
    if crate::interop_support::python().is_none() {
        return;
    }
    let functions = [
        ("s", "BIGINT", Agg::Sum),
        ("p", "BIGINT", Agg::Product),
        ("mn", "INT", Agg::Min),
        ("mx", "DOUBLE", Agg::Max),
        ("lv", "STRING", Agg::LastValue),
        ("lnn", "STRING", Agg::LastNonNullValue),
        ("fv", "STRING", Agg::FirstValue),
        ("fnn", "STRING", Agg::FirstNonNullValue),
        ("bor", "BOOLEAN", Agg::BoolOr),
        ("band", "BOOLEAN", Agg::BoolAnd),
        ("la", "STRING", Agg::Listagg),
        ("dsum", "DOUBLE", Agg::Sum),
    ];
    let columns = std::iter::once("id BIGINT".to_string())
        .chain(functions.iter().map(|(n, t, _)| format!("{n} {t}")))
        .chain(["untouched STRING".to_string()]) // default: last_non_null_value
        .collect::<Vec<_>>()
        .join(", ");
    let option_keys: Vec<String> = functions
        .iter()
        .map(|(n, _, _)| format!("fields.{n}.aggregate-function"))
        .collect();
    let mut options: Vec<(&str, &str)> = vec![("bucket", "2"), ("merge-engine", "aggregation")];
    for (key, (_, _, f)) in option_keys.iter().zip(&functions) {
        options.push((key, f.paimon_name()));
    }
    let dir = tempfile::tempdir().unwrap();
    let table = create_table(
        dir.path().to_str().unwrap(),
        "db.aggregation",
        &columns,
        &[],
        &["id"],
        &options,
    )
    .await;
    let engine = Engine::Aggregation(
        functions
            .iter()
            .map(|(n, _, f)| (n.to_string(), *f))
            .collect(),
    );
    let mut model = Model::new(&table.schema, engine);
    let names = [
        "s",
        "p",
        "mn",
        "mx",
        "lv",
        "lnn",
        "fv",
        "fnn",
        "bor",
        "band",
        "la",
        "dsum",
        "untouched",
    ];
    let r = |id: i64, values: Vec<Value>| {
        let mut row = serde_json::Map::new();
        row.insert("id".into(), json!(id));
        for (n, v) in names.iter().zip(values) {
            row.insert(n.to_string(), v);
        }
        Value::Object(row)
    };
    let n = Value::Null;
    #[rustfmt::skip]
    let commits = [
        vec![
            r(1, vec![json!(10), json!(2), json!(5), json!(1.5), json!("a"), json!("a"), n.clone(), n.clone(), json!(false), json!(true), json!("x"), json!(0.25), json!("u1")]),
            r(2, vec![n.clone(), n.clone(), n.clone(), n.clone(), n.clone(), n.clone(), json!("f"), n.clone(), n.clone(), n.clone(), n.clone(), n.clone(), n.clone()]),
            r(1, vec![json!(5), json!(3), json!(3), json!(0.5), n.clone(), n.clone(), json!("b"), json!("b"), json!(false), json!(true), n.clone(), json!(0.5), n.clone()]),
        ],
        vec![
            r(2, vec![json!(7), json!(4), json!(9), json!(-2.0), json!("l"), json!("l"), json!("g"), json!("g"), json!(true), json!(false), json!("p"), json!(-1.0), json!("u2")]),
            r(1, vec![json!(-1), json!(-1), json!(8), json!(4.0), json!("c"), n.clone(), json!("c"), json!("c"), json!(true), json!(false), json!("y"), json!(1.0), n.clone()]),
        ],
        vec![
            r(3, vec![json!(1), json!(1), json!(1), json!(1.0), json!("only"), json!("only"), json!("only"), json!("only"), json!(false), json!(false), json!("only"), json!(1.0), json!("u3")]),
            r(2, vec![json!(1), json!(10), json!(-5), n.clone(), n.clone(), n.clone(), n.clone(), json!("h"), n.clone(), json!(true), json!("q"), json!(0.125), n.clone()]),
            r(1, vec![json!(100), json!(2), json!(i32::MIN), json!(-8.5), json!("d"), json!("d"), json!("d"), json!("d"), json!(false), json!(true), json!("z"), json!(2.0), json!("u1b")]),
        ],
    ];
    let mut expected = vec![];
    for (i, rows) in commits.into_iter().enumerate() {
        let records = inserts(rows);
        assert_eq!(write_commit(&table, &records).await, i as i64 + 1);
        model.apply(&records);
        expected.push(model.rows());
    }
    // Key 1 by hand: sum 10+5-1+100, product 2*3*-1*2, min, max, ...
    let key1 = expected[2].iter().find(|r| r["id"] == 1).unwrap();
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
    check(&table, dir.path(), None, &expected[2], false).await;
    check(&table, dir.path(), Some(1), &expected[0], false).await;
    assert_same_rows(
        &scan_rows(&table, Some(2), None).await,
        &expected[1],
        "ScanBuilder snapshot 2",
    );
}

/// `sequence.field`: the record with the highest `ts` wins (ties: the later one), also when
/// it arrived earlier or in an earlier commit; a delete with a low `ts` loses.
#[tokio::test]
async fn sequence_field_table() {
    if crate::interop_support::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let table = create_table(
        dir.path().to_str().unwrap(),
        "db.sequence_field",
        "id BIGINT, ts BIGINT NOT NULL, v STRING",
        &[],
        &["id"],
        &[("bucket", "2"), ("sequence.field", "ts")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::SequenceField("ts".into()));
    let r = |id: i64, ts: i64, v: &str| json!({"id": id, "ts": ts, "v": v});
    let commits: [Vec<(&str, Value)>; 3] = [
        vec![
            ("+I", r(1, 5, "a")),
            ("+I", r(2, 1, "b")),
            ("+I", r(1, 3, "older, same commit")),
            ("+I", r(4, 7, "d")),
            ("+I", r(5, 1, "e")),
        ],
        vec![
            ("+I", r(1, 4, "late but older")),
            ("+I", r(2, 1, "tie, later wins")),
            ("+I", r(3, 10, "c")),
            ("+I", r(4, 8, "d newer")),
            ("-D", r(5, 0, "delete with an older ts loses")),
        ],
        vec![
            ("+I", r(3, 11, "c newer")),
            ("+I", r(3, 9, "c older")),
            ("+I", r(4, 6, "d older")),
            ("-D", r(2, 2, "delete with a newer ts wins")),
        ],
    ];
    let mut expected = vec![];
    for (i, records) in commits.iter().enumerate() {
        assert_eq!(write_commit(&table, records).await, i as i64 + 1);
        model.apply(records);
        expected.push(model.rows());
    }
    assert_eq!(
        expected[2],
        crate::interop_support::sort_rows([
            r(1, 5, "a"),
            r(3, 11, "c newer"),
            r(4, 8, "d newer"),
            r(5, 1, "e"),
        ])
    );
    check(&table, dir.path(), None, &expected[2], false).await;
    check(&table, dir.path(), Some(2), &expected[1], false).await;
}

/// Two partition levels of non-string types (DATE, INT): Java's legacy partition names (a
/// DATE as its day number) and pypaimon finding the files by them.
#[tokio::test]
async fn typed_multi_level_partitions() {
    if crate::interop_support::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let table = create_table(
        dir.path().to_str().unwrap(),
        "db.typed_partitions",
        "day DATE, h INT, id BIGINT, v STRING",
        &["day", "h"],
        &["day", "h", "id"],
        &[("bucket", "2")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let r =
        |day: &str, h: i32, id: i64, v: Option<&str>| json!({"day": day, "h": h, "id": id, "v": v});
    let c1 = inserts(
        ["2024-01-01", "1969-12-31"]
            .iter()
            .flat_map(|d| {
                (0..3).flat_map(move |h| (1..=5).map(move |id| r(d, h - 1, id, Some("v1"))))
            })
            .collect(),
    );
    let c2 = vec![
        ("+U", r("2024-01-01", 0, 1, Some("v2"))),
        ("-D", r("1969-12-31", -1, 2, None)),
        ("+I", r("2000-02-29", 7, 1, None)),
    ];
    for records in [&c1, &c2] {
        write_commit(&table, records).await;
        model.apply(records);
    }
    for part in ["day=19723/h=0", "day=-1/h=-1", "day=11016/h=7"] {
        let bucket_dirs = std::fs::read_dir(dir.path().join("db.db/typed_partitions").join(part))
            .unwrap_or_else(|e| panic!("partition directory {part}: {e}"))
            .count();
        assert!(bucket_dirs >= 1, "{part}");
    }
    assert_eq!(model.rows().len(), 30);
    check(&table, dir.path(), None, &model.rows(), false).await;
}

/// `rowkind.field`: Java (and pypaimon) take each record's kind from that STRING column, so
/// rows written with op = '-D' delete their key and '-U' retracts it.
#[tokio::test]
async fn rowkind_field_decides_the_row_kind() {
    if crate::interop_support::python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let table = create_table(
        dir.path().to_str().unwrap(),
        "db.rowkind_field",
        "id BIGINT, v STRING, op STRING",
        &[],
        &["id"],
        &[("bucket", "1"), ("rowkind.field", "op")],
    )
    .await;
    let r = |id: i64, v: &str, op: &str| json!({"id": id, "v": v, "op": op});
    // Written as plain inserts: the kinds come from `op` only.
    write_commit(
        &table,
        &inserts(vec![r(1, "a", "+I"), r(2, "b", "+I"), r(3, "c", "+I")]),
    )
    .await;
    write_commit(
        &table,
        &inserts(vec![r(1, "a2", "+U"), r(2, "b", "-D"), r(3, "c", "-U")]),
    )
    .await;
    let expected = [r(1, "a2", "+U")];
    check(&table, dir.path(), None, &expected, false).await;
}
