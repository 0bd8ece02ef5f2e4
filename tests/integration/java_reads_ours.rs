//! Apache Paimon's Java library (1.3.1, through the JVM bench in `tests/jvm/`) reads tables our
//! `TableWriter` and `Compactor` wrote. Every kind of table goes into one warehouse, one JVM
//! reads every case, and for each case Java's merged rows must equal our `ScanBuilder`'s; where
//! a model of the writes exists, ours must also equal the model.
//!
//! Also the other way round with the same bench: we read every snapshot of tables Java's
//! writer wrote (`we_read_what_java_paimon_writes`), and both writers take turns on the same
//! tables (`java_and_we_write_the_same_tables`).

use std::path::Path;

use serde_json::{json, Value};
use streamhouse_compaction::BucketOutcome;
use streamhouse_format::io::Table;
use streamhouse_format::snapshot::CommitKind;

use crate::interop_support::assert_same_rows;
use crate::java_support::{
    bench_and_warehouse, canonical_rows, java_read, java_write, BenchRun, JavaBench, ReadCase,
    WriteTable,
};
use crate::scenarios::{self, all_bytes_hex, r3, seq_row, Records, Scenario, Written};
use crate::support::{
    compact_fully, create_id_table, create_table, failure_of, inserts, nested_batch, open_table,
    read_rows, write_commit_in_batches, write_nested, Agg, Engine, Model,
};

/// A case for Java and what we expect of it.
struct Check {
    case: ReadCase,
    table: Table,
    /// The model's rows for this case (latest or the case's snapshot), when there is a model.
    model: Option<Vec<Value>>,
}

/// Our merged read for `case` (snapshot, tag, projection).
async fn our_rows(table: &Table, case: &ReadCase) -> Vec<Value> {
    read_rows(
        table,
        case.snapshot,
        case.tag.as_deref(),
        case.columns.as_deref(),
    )
    .await
}

#[tokio::test]
async fn java_paimon_reads_every_kind_of_table() {
    let Some((bench, dir)) = bench_and_warehouse() else {
        return;
    };
    let warehouse = dir.path();
    let mut checks = vec![];
    pk_fixed_bucket(warehouse, &mut checks).await;
    // The catalogue's tables at the latest snapshot and older ones.
    for (scenario, snapshots) in scenarios::shared()
        .into_iter()
        .chain([(all_types(), &[1][..])])
    {
        let written = scenario.write(warehouse).await;
        push_snapshots(&mut checks, warehouse, &written, snapshots);
    }
    for table in ["pk_partitioned/dt", "append_bucket_key/region"] {
        let dir = warehouse.join(format!("db.db/{table}=__DEFAULT_PARTITION__"));
        assert!(dir.is_dir(), "{}: the default partition", dir.display());
    }
    compacted(warehouse, &mut checks).await;
    nested(warehouse, &mut checks).await;
    variants(warehouse, &mut checks).await;

    // A failing case (its table does not exist) in the middle: the others still run.
    let mut cases: Vec<ReadCase> = checks.iter().map(|c| c.case.clone()).collect();
    cases.insert(
        cases.len() / 2,
        ReadCase::new("no_such_table", warehouse, "db.no_such_table"),
    );
    let java = java_read(&bench, &cases);
    match java.result("no_such_table") {
        Err(error) => assert!(error.contains("does not exist"), "{error}"),
        Ok(rows) => panic!("a missing table read as {} rows", rows.len()),
    }

    verify(&checks, &java).await;
}

/// Java reads every check's case in one JVM; then [`verify`].
async fn read_and_verify(bench: &JavaBench, checks: &[Check]) {
    let cases: Vec<ReadCase> = checks.iter().map(|c| c.case.clone()).collect();
    verify(checks, &java_read(bench, &cases)).await;
}

/// For every check: our rows equal the model's (when there is one) and Java's rows equal ours.
/// Reports every failing check at once.
async fn verify(checks: &[Check], java: &BenchRun) {
    let mut failures = vec![];
    for check in checks {
        let name = &check.case.name;
        let ours = our_rows(&check.table, &check.case).await;
        assert!(
            !ours.is_empty() || name.contains("empty"),
            "{name}: no rows"
        );
        if let Some(model) = &check.model {
            if let Some(f) =
                failure_of(|| assert_same_rows(&ours, model, &format!("{name}: ours vs model")))
            {
                failures.push(f);
            }
        }
        let outcome = match java.result(name) {
            Ok(rows) if check.case.row_kind => failure_of(|| {
                // A merged batch read keeps the kind of each key's winning record: never a
                // retraction. Without the kind, the rows are ours.
                let rows: Vec<Value> = rows
                    .iter()
                    .map(|row| {
                        let mut row = row.clone();
                        let kind = row.as_object_mut().unwrap().remove("rowkind");
                        assert!(
                            kind == Some(json!("+I")) || kind == Some(json!("+U")),
                            "{name}: kind {kind:?} of {row}"
                        );
                        row
                    })
                    .collect();
                assert_same_rows(&rows, &ours, &format!("{name}: Java vs ours"))
            }),
            Ok(rows) => {
                failure_of(|| assert_same_rows(rows, &ours, &format!("{name}: Java vs ours")))
            }
            Err(error) => Some(format!("{name}: Paimon's Java reader failed:\n{error}")),
        };
        match outcome {
            None => eprintln!("ok      {name} ({} rows)", ours.len()),
            Some(f) => {
                eprintln!("FAILED  {name}");
                failures.push(f);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} checks failed:\n\n{}",
        failures.len(),
        checks.len(),
        failures.join("\n")
    );
}

fn location(warehouse: &Path) -> &str {
    warehouse.to_str().unwrap()
}

fn check(table: &Table, case: ReadCase, model: Option<&[Value]>) -> Check {
    Check {
        case,
        table: table.clone(),
        model: model.map(|m| m.to_vec()),
    }
}

/// Cases `NAME_latest` and `NAME_snapshot_K` for each of `snapshots` of a written scenario
/// (`db.NAME`), each against the model.
fn push_snapshots(checks: &mut Vec<Check>, warehouse: &Path, written: &Written, snapshots: &[i64]) {
    let table = &written.table;
    let short = table.name.trim_start_matches("db.");
    let latest = ReadCase::new(&format!("{short}_latest"), warehouse, &table.name);
    checks.push(check(table, latest, Some(written.latest())));
    for &id in snapshots {
        let name = format!("{short}_snapshot_{id}");
        let case = ReadCase::new(&name, warehouse, &table.name).snapshot(id);
        checks.push(check(table, case, Some(written.rows_at(Some(id)))));
    }
}

/// The catalogue's PK table with 3 fixed buckets and 4 commits, read at the latest and older
/// snapshots, projected, through a tag and with row kinds.
async fn pk_fixed_bucket(warehouse: &Path, checks: &mut Vec<Check>) {
    let written = scenarios::pk_fixed().write(warehouse).await;
    let (table, after) = (&written.table, &written.after);
    assert_eq!(after[0].len(), 300);
    assert_eq!(after[1].len(), 300 - 10 + 10);
    table.create_tag("t2", Some(2), None).await.unwrap();
    push_snapshots(checks, warehouse, &written, &[2, 3]);
    let case = |name: &str| ReadCase::new(name, warehouse, "db.pk_fixed");
    let tagged = case("pk_fixed_tag_t2").tag("t2");
    checks.push(check(table, tagged, Some(&after[1])));
    let projected = case("pk_fixed_projected").columns(&["qty", "id"]);
    checks.push(check(table, projected, None));
    let kinds = case("pk_fixed_row_kinds").with_row_kind();
    checks.push(check(table, kinds, Some(&after[3])));
}

/// The catalogue's PK table after its 3 commits and a full compaction (every bucket into one
/// run at the highest level); read after compaction, at the last write before it, at an older
/// snapshot and through a tag of the compacted snapshot.
async fn compacted(warehouse: &Path, checks: &mut Vec<Check>) {
    let written = scenarios::to_compact().write(warehouse).await;
    let table = &written.table;
    let outcomes = compact_fully(table).await;
    let compacted = outcomes
        .iter()
        .filter(|o| matches!(o, BucketOutcome::Compacted(_)))
        .count();
    assert_eq!(compacted, 2, "{outcomes:?}");
    let latest = table.latest_snapshot_id().await.unwrap().unwrap();
    assert!(latest > 3, "compaction committed");
    assert_eq!(
        table.snapshot(latest).await.unwrap().commit_kind,
        CommitKind::Compact
    );
    let files = table
        .all_live_files(&table.snapshot(latest).await.unwrap())
        .await
        .unwrap();
    assert!(
        files.iter().all(|e| e.file.level > 0),
        "after a full compaction every live file is above level 0: {:?}",
        files.iter().map(|e| e.file.level).collect::<Vec<_>>()
    );
    table.create_tag("compacted", None, None).await.unwrap();
    push_snapshots(checks, warehouse, &written, &[3, 1]);
    let tagged = ReadCase::new("compacted_tag", warehouse, "db.compacted").tag("compacted");
    checks.push(check(table, tagged, Some(written.latest())));
}

/// The same PK table and writes under options that change the files: Parquet compression codecs,
/// `changelog-producer = input` (changelog files beside the data files), a descending
/// `sequence.field`, `data-file.thin-mode`, and a big one (many pages and several files per
/// bucket).
async fn variants(warehouse: &Path, checks: &mut Vec<Check>) {
    let commits: [Records; 2] = [
        inserts(
            (0..300)
                .map(|i| r3(i, Some(&format!("v1-{i}")), Some(i)))
                .collect(),
        ),
        (0..300)
            .step_by(4)
            .map(|i| ("+U", r3(i, Some("v2"), None)))
            .chain((0..300).step_by(9).map(|i| ("-D", r3(i, None, None))))
            .chain((300..320).map(|i| ("+I", r3(i, None, Some(-i)))))
            .collect(),
    ];
    let pk_table = |name: &str, bucket: &str, buffer: &str| {
        Scenario::new(name, "id BIGINT, v STRING, n BIGINT", Engine::Deduplicate)
            .primary_key(&["id"])
            .option("bucket", bucket)
            .option("write-buffer-size", buffer)
    };
    for (name, key, value) in [
        ("snappy", "file.compression", "snappy"),
        ("lz4", "file.compression", "lz4"),
        ("uncompressed", "file.compression", "none"),
        ("changelog_input", "changelog-producer", "input"),
        ("thin_mode", "data-file.thin-mode", "true"),
    ] {
        let mut scenario = pk_table(&format!("db.variant_{name}"), "2", "16 kb").option(key, value);
        for c in &commits {
            scenario = scenario.commit_in_batches(c.clone(), 50);
        }
        let written = scenario.write(warehouse).await;
        let case = ReadCase::new(&format!("variant_{name}"), warehouse, &written.table.name);
        checks.push(check(&written.table, case, Some(written.latest())));
    }

    // Descending sequence field: the lowest `ts` wins. `ts` is an INT here, unlike in
    // db.sequence_field: Paimon Java 1.3.1 caches generated comparators without their sort
    // order, so in one JVM an ascending table of the same types would flip this one (see
    // java_support). The model knows only ascending order: the rows are written out.
    let q = seq_row;
    let written = Scenario::new(
        "db.variant_sequence_descending",
        "id BIGINT, ts INT NOT NULL, v STRING",
        Engine::Deduplicate,
    )
    .primary_key(&["id"])
    .option("bucket", "1")
    .option("sequence.field", "ts")
    .option("sequence.field.sort-order", "descending")
    .insert(vec![q(1, 5, "a"), q(2, 5, "b"), q(1, 3, "a lower ts wins")])
    .insert(vec![q(2, 9, "b higher ts loses"), q(3, 1, "c")])
    .write(warehouse)
    .await;
    checks.push(check(
        &written.table,
        ReadCase::new(
            "variant_sequence_descending",
            warehouse,
            &written.table.name,
        ),
        Some(&[q(1, 3, "a lower ts wins"), q(2, 5, "b"), q(3, 1, "c")]),
    ));

    // Big: 30 000 keys with long strings over 3 commits; many pages and files per bucket.
    let long = |i: i64| format!("{i:08}-{}", "x".repeat((i % 97) as usize));
    let written = pk_table("db.variant_big", "2", "1 mb")
        .commit_in_batches(
            inserts(
                (0..30_000)
                    .map(|i| r3(i, Some(&long(i)), Some(i)))
                    .collect(),
            ),
            5_000,
        )
        .commit_in_batches(
            (0..30_000)
                .step_by(7)
                .map(|i| ("+U", r3(i, Some("updated"), None)))
                .collect(),
            5_000,
        )
        .commit_in_batches(
            (0..30_000)
                .step_by(11)
                .map(|i| ("-D", r3(i, None, None)))
                .collect(),
            5_000,
        )
        .write(warehouse)
        .await;
    let case = |name: &str| ReadCase::new(name, warehouse, "db.variant_big");
    checks.push(check(
        &written.table,
        case("variant_big"),
        Some(written.latest()),
    ));
    let projected = case("variant_big_projected").columns(&["n"]);
    checks.push(check(&written.table, projected, None));
}

const ALL_TYPES: &str = "id INT, c_boolean BOOLEAN, c_tinyint TINYINT, c_smallint SMALLINT, \
    c_int INT, c_bigint BIGINT, c_float FLOAT, c_double DOUBLE, c_dec5 DECIMAL(5, 2), \
    c_dec20 DECIMAL(20, 4), c_dec38 DECIMAL(38, 10), c_char CHAR(5), c_varchar VARCHAR(10), \
    c_string STRING, c_binary BINARY(4), c_varbinary VARBINARY(8), c_bytes BYTES, c_date DATE, \
    c_time TIME(3), c_time0 TIME, c_ts3 TIMESTAMP(3), c_ts6 TIMESTAMP(6), \
    c_ltz3 TIMESTAMP(3) WITH LOCAL TIME ZONE, c_ltz6 TIMESTAMP(6) WITH LOCAL TIME ZONE";

fn all_types_rows() -> Vec<Value> {
    vec![
        json!({"id": 1, "c_boolean": true, "c_tinyint": 7, "c_smallint": 300, "c_int": 70000,
            "c_bigint": 5_000_000_000i64, "c_float": 0.1f32 as f64, "c_double": 0.1,
            "c_dec5": "12.30", "c_dec20": "1234567890123456.7890",
            "c_dec38": "3.1415926535", "c_char": "abcde", "c_varchar": "varchar", "c_string": "string",
            "c_binary": "01020304", "c_varbinary": "cafe", "c_bytes": "6279746573",
            "c_date": "2024-02-29", "c_time": "12:34:56.789", "c_time0": "12:34:56.000",
            "c_ts3": "2024-02-29T12:34:56.789000", "c_ts6": "2024-02-29T12:34:56.789012",
            "c_ltz3": "2024-02-29T12:34:56.789000Z", "c_ltz6": "2024-02-29T12:34:56.789012Z"}),
        json!({"id": 2, "c_boolean": false, "c_tinyint": -128, "c_smallint": -32768,
            "c_int": i32::MIN, "c_bigint": i64::MIN, "c_float": -0.25, "c_double": -0.0,
            "c_dec5": "-999.99", "c_dec20": "-9999999999999999.9999",
            "c_dec38": "-9999999999999999999999999999.9999999999",
            "c_char": "ab", "c_varchar": "", "c_string": "héllo ✓ 日本",
            "c_binary": "00000000", "c_varbinary": "", "c_bytes": "",
            "c_date": "0001-01-01", "c_time": "00:00:00.000", "c_time0": "00:00:00.000",
            "c_ts3": "1969-12-31T23:59:59.999000", "c_ts6": "1900-01-01T00:00:00.000001",
            "c_ltz3": "1969-12-31T23:59:59.999000Z", "c_ltz6": "1900-01-01T00:00:00.000001Z"}),
        json!({"id": 3, "c_boolean": true, "c_tinyint": 127, "c_smallint": 32767,
            "c_int": i32::MAX, "c_bigint": i64::MAX, "c_float": "NaN", "c_double": "Infinity",
            "c_dec5": "999.99", "c_dec20": "9999999999999999.9999",
            "c_dec38": "9999999999999999999999999999.9999999999",
            "c_char": "é✓日本x", "c_varchar": "quote\"back", "c_string": "\u{1}ctl\u{7f}",
            "c_binary": "fffefdfc", "c_varbinary": "0001020304050607", "c_bytes": all_bytes_hex(),
            "c_date": "9999-12-31", "c_time": "23:59:59.999", "c_time0": "23:59:59.000",
            "c_ts3": "9999-12-31T23:59:59.999000", "c_ts6": "2262-04-11T23:47:16.854775",
            "c_ltz3": "2038-01-19T03:14:08.000000Z", "c_ltz6": "9999-12-31T23:59:59.999999Z"}),
        json!({"id": 4}),
        json!({"id": 5, "c_boolean": false, "c_tinyint": 0, "c_smallint": 0, "c_int": 0,
            "c_bigint": 0, "c_float": "-Infinity", "c_double": 5e-324,
            "c_dec5": "0.00", "c_dec20": "0.0001", "c_dec38": "0.0000000001",
            "c_char": "z\"\\\n\t", "c_varchar": " ", "c_string": "",
            "c_binary": "00010001", "c_varbinary": "00", "c_bytes": "00",
            "c_date": "1969-12-31", "c_time": "00:00:00.001", "c_time0": "00:00:01.000",
            "c_ts3": "1970-01-01T00:00:00.000000", "c_ts6": "0001-01-01T00:00:00.000000",
            "c_ltz3": "1970-01-01T00:00:00.000000Z", "c_ltz6": "1970-01-01T00:00:00.000000Z"}),
        json!({"id": 6, "c_float": f32::MAX as f64, "c_double": f64::MAX,
            "c_dec5": "-0.01", "c_dec20": "-0.0001", "c_dec38": "-0.0000000001"}),
        json!({"id": 7, "c_float": f32::MIN_POSITIVE as f64, "c_double": -1e-300,
            "c_ts3": "1677-09-21T00:12:43.145000", "c_ts6": "1677-09-21T00:12:43.145225"}),
    ]
}

/// Every primitive type but TIMESTAMP(7..9), edge values and rows of nulls; a second commit
/// updates a row, fills a null row, deletes one and adds one.
fn all_types() -> Scenario {
    scenarios::all_types(
        "db.all_types",
        ALL_TYPES,
        all_types_rows(),
        json!({"c_string": "updated", "c_int": null, "c_dec5": "0.05"}),
        json!({"c_boolean": true, "c_date": "1969-07-20", "c_dec38": "-0.0000000001",
            "c_ltz6": "2024-01-01T00:00:00.123456Z"}),
        json!({"id": 8, "c_char": "eight"}),
    )
}

const NESTED: &str = "id INT, arr ARRAY<INT>, m MAP<STRING, INT>, r ROW<a INT, b STRING>";

/// Nested columns ARRAY<INT>, MAP<STRING, INT>, ROW<a INT, b STRING>: null and empty
/// collections, null elements and values, a null row and a row of nulls; updated in a second
/// commit.
async fn nested(warehouse: &Path, checks: &mut Vec<Check>) {
    let table = create_id_table(location(warehouse), "db.nested", NESTED, &[("bucket", "2")]).await;
    let c1 = vec![
        json!({"id": 1, "arr": [1, 2, 3], "m": {"a": 1, "b": 2}, "r": {"a": 1, "b": "one"}}),
        json!({"id": 2, "arr": [], "m": {}, "r": {"a": null, "b": null}}),
        json!({"id": 3, "arr": null, "m": null, "r": null}),
        json!({"id": 4, "arr": [null, -2147483648, 2147483647], "m": {"null value": null, "": 0},
               "r": {"a": -1, "b": ""}}),
        json!({"id": 5, "arr": [5], "m": {"k": 5}, "r": {"a": 5, "b": "héllo ✓"}}),
    ];
    let c2 = vec![
        json!({"id": 1, "arr": [9], "m": {"z": 26}, "r": {"a": 9, "b": "nine"}}),
        json!({"id": 6, "arr": [6, 6], "m": {"x": 1, "y": null}, "r": {"a": null, "b": "six"}}),
    ];
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let mut after = vec![];
    for (i, rows) in [c1, c2].into_iter().enumerate() {
        assert_eq!(write_nested(&table, &rows).await, i as i64 + 1);
        model.apply(&inserts(rows));
        after.push(model.rows());
    }
    push_snapshots(checks, warehouse, &Written { table, after }, &[1]);
}

#[test]
fn written_rows_match_the_nested_canonical_form() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let table = create_table(
            dir.path().to_str().unwrap(),
            "db.t",
            "id INT, arr ARRAY<INT>, m MAP<STRING, INT>, r ROW<a INT, b STRING>",
            &[],
            &[],
            &[],
        )
        .await;
        let rows = vec![
            json!({"id": 1, "arr": [null, 2], "m": {"b": null, "a": 1}, "r": {"a": 1, "b": null}}),
            json!({"id": 2, "arr": null, "m": {}, "r": null}),
        ];
        let batch = nested_batch(&table, &rows);
        let schema = batch.schema();
        let back = canonical_rows(&[batch], &schema);
        assert_same_rows(&back, &rows, "nested JSON -> Arrow -> canonical");
    });
}

/// The other direction, with the same bench: Paimon's Java writer (`BatchWriteBuilder`, one JVM)
/// creates and fills a partitioned PK table with updates and deletes, the all-types table, the
/// nested table and an append table; we read every commit's snapshot and must hold the rows the
/// model says, and so must Java's own read of the same snapshots.
#[tokio::test]
async fn we_read_what_java_paimon_writes() {
    let Some((bench, dir)) = bench_and_warehouse() else {
        return;
    };
    let warehouse = dir.path();
    let r = |dt: &str, id: i64, name: Option<&str>, amount: Option<f64>| json!({"dt": dt, "id": id, "name": name, "amount": amount});
    let pk_commits: Vec<Vec<(&str, Value)>> = vec![
        ["2024-01-01", "2024-01-02", ""]
            .iter()
            .flat_map(|d| (1..=40).map(move |id| ("+I", r(d, id, Some("v1"), Some(id as f64)))))
            .collect(),
        vec![
            ("-U", r("2024-01-01", 1, Some("v1"), Some(1.0))),
            ("+U", r("2024-01-01", 1, Some("v2"), None)),
            ("+U", r("", 2, None, Some(-2.5))),
            ("-D", r("2024-01-02", 3, None, None)),
            ("+I", r("2024-01-03", 1, Some("new partition"), Some(0.1))),
        ],
        vec![
            ("+I", r("2024-01-02", 3, Some("back"), Some(3.0))),
            ("-D", r("2024-01-03", 1, None, None)),
            ("+U", r("2024-01-01", 1, Some("v3"), Some(1e300))),
        ],
    ];
    let pk = WriteTable::new(
        "db.java_pk",
        "dt STRING, id BIGINT, name STRING, amount DOUBLE",
    )
    .partition_keys(&["dt"])
    .primary_keys(&["dt", "id"])
    .option("bucket", "2")
    .commits(&pk_commits);

    let mut updated = all_types_rows()[1].clone();
    updated["c_string"] = json!("updated");
    updated["c_int"] = Value::Null;
    let types_commits = vec![
        inserts(all_types_rows()),
        vec![("+U", updated), ("-D", json!({"id": 5}))],
    ];
    let types = WriteTable::new("db.java_all_types", ALL_TYPES)
        .primary_keys(&["id"])
        .option("bucket", "2")
        .commits(&types_commits);

    let nested_commits = vec![
        inserts(vec![
            json!({"id": 1, "arr": [1, null, 3], "m": {"a": 1, "b": null}, "r": {"a": 1, "b": "one"}}),
            json!({"id": 2, "arr": [], "m": {}, "r": {"a": null, "b": null}}),
            json!({"id": 3, "arr": null, "m": null, "r": null}),
        ]),
        vec![(
            "+U",
            json!({"id": 2, "arr": [2], "m": {"x": 2}, "r": {"a": 2, "b": "two"}}),
        )],
    ];
    let nested = WriteTable::new("db.java_nested", NESTED)
        .primary_keys(&["id"])
        .option("bucket", "1")
        .commits(&nested_commits);

    let append_commits = vec![
        inserts(
            (0..30)
                .map(|i| json!({"id": i % 7, "v": format!("a{i}")}))
                .collect(),
        ),
        inserts(vec![
            json!({"id": 1, "v": "a1"}),
            json!({"id": null, "v": null}),
        ]),
    ];
    let append = WriteTable::new("db.java_append", "id INT, v STRING")
        .option("bucket", "-1")
        .commits(&append_commits);

    // Deletion vectors (Java's lookup compaction writes them), partial-update, aggregation.
    let d = |id: i64, v: Option<&str>, n: Option<i64>| json!({"id": id, "v": v, "n": n});
    let dv_commits = vec![
        inserts((0..100).map(|i| d(i, Some("v1"), Some(i))).collect()),
        (0..100)
            .step_by(3)
            .map(|i| ("+U", d(i, Some("v2"), None)))
            .chain((0..100).step_by(10).map(|i| ("-D", d(i, None, None))))
            .collect(),
        vec![
            ("+I", d(10, Some("back"), Some(10))),
            ("-D", d(11, None, None)),
        ],
    ];
    let dv = WriteTable::new("db.java_dv", "id BIGINT, v STRING, n BIGINT")
        .primary_keys(&["id"])
        .option("bucket", "2")
        .option("deletion-vectors.enabled", "true")
        // Level-0 files of a deletion-vector table are invisible until compacted: compact fully
        // at every commit so each snapshot holds the model's rows.
        .option("full-compaction.delta-commits", "1")
        .commits(&dv_commits);
    let partial_commits = vec![
        inserts(vec![
            d(1, Some("a"), None),
            d(2, None, Some(2)),
            d(1, None, Some(1)),
        ]),
        inserts(vec![
            d(2, Some("b"), None),
            d(1, Some("a2"), None),
            d(3, None, None),
        ]),
    ];
    let partial = WriteTable::new("db.java_partial", "id BIGINT, v STRING, n BIGINT")
        .primary_keys(&["id"])
        .option("bucket", "2")
        .option("merge-engine", "partial-update")
        .commits(&partial_commits);
    let agg_commits = vec![
        inserts(vec![
            d(1, Some("a"), Some(5)),
            d(2, None, Some(2)),
            d(1, None, Some(1)),
        ]),
        inserts(vec![d(2, Some("b"), None), d(1, Some("a2"), Some(-10))]),
    ];
    let agg = WriteTable::new("db.java_agg", "id BIGINT, v STRING, n BIGINT")
        .primary_keys(&["id"])
        .option("bucket", "2")
        .option("merge-engine", "aggregation")
        .option("fields.n.aggregate-function", "sum")
        .option("fields.v.aggregate-function", "listagg")
        .commits(&agg_commits);
    let agg_engine = Engine::Aggregation(
        [("n".to_string(), Agg::Sum), ("v".to_string(), Agg::Listagg)]
            .into_iter()
            .collect(),
    );

    let took = java_write(
        &bench,
        warehouse,
        &[pk, types, nested, append, dv, partial, agg],
    );
    eprintln!(
        "Paimon Java wrote 7 tables in one JVM in {:.1}s",
        took.as_secs_f64()
    );

    let dv_index = warehouse.join("db.db/java_dv/index");
    let dv_files = std::fs::read_dir(&dv_index).map_or(0, |d| d.count());
    assert!(
        dv_files > 0,
        "Java wrote no deletion-vector index files in {}",
        dv_index.display()
    );

    let mut checks = vec![];
    for (name, engine, commits) in [
        ("db.java_pk", Engine::Deduplicate, &pk_commits),
        ("db.java_all_types", Engine::Deduplicate, &types_commits),
        ("db.java_nested", Engine::Deduplicate, &nested_commits),
        ("db.java_append", Engine::Append, &append_commits),
        ("db.java_dv", Engine::Deduplicate, &dv_commits),
        ("db.java_partial", Engine::PartialUpdate, &partial_commits),
        ("db.java_agg", agg_engine, &agg_commits),
    ] {
        let table = open_table(location(warehouse), name).await.unwrap();
        let mut model = Model::new(&table.schema, engine);
        // Java's APPEND snapshots are our commits, in order; each may be followed by COMPACT
        // snapshots of the same commit call. Commit k's result is the last snapshot before
        // commit k + 1's APPEND (for a deletion-vector table the APPEND snapshot itself shows
        // none of its rows yet).
        let latest = table.latest_snapshot_id().await.unwrap().unwrap();
        let mut appends = vec![];
        for id in 1..=latest {
            if table.snapshot(id).await.unwrap().commit_kind == CommitKind::Append {
                appends.push(id);
            }
        }
        assert_eq!(appends.len(), commits.len(), "{name}: snapshots {latest}");
        let ends = appends.iter().skip(1).map(|next| next - 1).chain([latest]);
        for (records, id) in commits.iter().zip(ends) {
            model.apply(records);
            let case = ReadCase::new(&format!("{name}_{id}"), warehouse, name).snapshot(id);
            checks.push(check(&table, case, Some(&model.rows())));
        }
        let case = ReadCase::new(&format!("{name}_latest"), warehouse, name);
        checks.push(check(&table, case, Some(&model.rows())));
    }
    read_and_verify(&bench, &checks).await;
}

/// Both writers on the same tables: we insert, Paimon's Java writer updates, deletes and inserts,
/// we update again. A key routed to a different bucket by the two writers (bucket hash over the
/// BinaryRow of keys of many types, compact and non-compact), a partition path or sequence
/// numbers they disagree on would show as duplicate, stale or lost keys at some snapshot, in
/// our read, in Java's, or both.
#[tokio::test]
async fn java_and_we_write_the_same_tables() {
    let Some((bench, dir)) = bench_and_warehouse() else {
        return;
    };
    let warehouse = dir.path();

    let keyed = create_table(
        location(warehouse),
        "db.mixed_keys",
        "dt STRING, id BIGINT, k STRING, day DATE, amt DECIMAL(10, 2), v STRING, n INT",
        &["dt"],
        &["dt", "id", "k", "day", "amt"],
        &[("bucket", "3")],
    )
    .await;
    let typed = create_table(
        location(warehouse),
        "db.mixed_key_types",
        "b BOOLEAN, t TINYINT, s SMALLINT, ts3 TIMESTAMP(3), ts6 TIMESTAMP(6), \
         big DECIMAL(20, 4), c CHAR(3), bin BYTES, f DOUBLE, v STRING",
        &[],
        &["b", "t", "s", "ts3", "ts6", "big", "c", "bin", "f"],
        &[("bucket", "4")],
    )
    .await;

    let kr = |dt: &str, id: i64, v: &str, n: Option<i32>| {
        json!({"dt": dt, "id": id, "k": format!("k{}", id % 4), "day": format!("2024-03-{:02}", id % 28 + 1),
               "amt": format!("{}.{:02}", id * 3, id % 100), "v": v, "n": n})
    };
    let tr = |i: i64, v: &str| {
        json!({"b": i % 2 == 0, "t": (i % 200 - 100), "s": i * 100 - 3000, 
               "ts3": format!("20{:02}-01-01T00:00:{:02}.{:03}000", i % 30 + 1, i % 60, i % 1000),
               "ts6": format!("19{:02}-06-30T12:00:00.{:06}", i % 99, i * 7),
               "big": format!("{}.{:04}", -i * 1_000_000_007, i % 10_000), "c": format!("c{}", i % 10),
               "bin": format!("{:02x}{:02x}", i % 256, (i * 7) % 256), "f": i as f64 / 8.0, "v": v})
    };
    let days = ["2024-01-01", "2024-01-02", ""];

    // 1 (ours): inserts.
    let k1 = inserts(
        days.iter()
            .flat_map(|d| (0..40).map(move |id| kr(d, id, "ours 1", Some(id as i32))))
            .collect(),
    );
    let t1 = inserts((0..60).map(|i| tr(i, "ours 1")).collect());
    // 2 (Java): updates of our keys, deletes, new keys.
    let k2: Vec<(&str, Value)> = (0..40)
        .step_by(3)
        .map(|id| ("+U", kr("2024-01-01", id, "java 2", None)))
        .chain((0..40).step_by(5).map(|id| ("-D", kr("", id, "", None))))
        .chain((40..50).map(|id| ("+I", kr("2024-01-02", id, "java 2 new", Some(-1)))))
        .chain([("+U", kr("", 1, "java 2 default partition", Some(1)))])
        .collect();
    let t2: Vec<(&str, Value)> = (0..60)
        .step_by(2)
        .map(|i| ("+U", tr(i, "java 2")))
        .chain((0..60).step_by(7).map(|i| ("-D", tr(i, ""))))
        .chain((60..70).map(|i| ("+I", tr(i, "java 2 new"))))
        .collect();
    // 3 (ours): updates of keys Java wrote or updated, deletes of Java's new keys.
    let k3: Vec<(&str, Value)> = (0..40)
        .step_by(6)
        .map(|id| ("+U", kr("2024-01-01", id, "ours 3", Some(3))))
        .chain((40..45).map(|id| ("-D", kr("2024-01-02", id, "", None))))
        .chain([("+I", kr("", 5, "ours 3 back", None))])
        .collect();
    let t3: Vec<(&str, Value)> = (0..70)
        .step_by(4)
        .map(|i| ("+U", tr(i, "ours 3")))
        .chain([("-D", tr(61, ""))])
        .collect();

    let mut keyed_model = Model::new(&keyed.schema, Engine::Deduplicate);
    let mut typed_model = Model::new(&typed.schema, Engine::Deduplicate);
    let mut expected = vec![];
    assert_eq!(write_commit_in_batches(&keyed, &k1, 25).await, 1);
    assert_eq!(write_commit_in_batches(&typed, &t1, 25).await, 1);
    keyed_model.apply(&k1);
    typed_model.apply(&t1);
    expected.push((keyed_model.rows(), typed_model.rows()));

    java_write(
        &bench,
        warehouse,
        &[
            WriteTable::existing("db.mixed_keys").commit(&k2),
            WriteTable::existing("db.mixed_key_types").commit(&t2),
        ],
    );
    keyed_model.apply(&k2);
    typed_model.apply(&t2);
    expected.push((keyed_model.rows(), typed_model.rows()));
    let after_java = [
        keyed.latest_snapshot_id().await.unwrap().unwrap(),
        typed.latest_snapshot_id().await.unwrap().unwrap(),
    ];

    let keyed = open_table(location(warehouse), "db.mixed_keys")
        .await
        .unwrap();
    let typed = open_table(location(warehouse), "db.mixed_key_types")
        .await
        .unwrap();
    write_commit_in_batches(&keyed, &k3, 25).await;
    write_commit_in_batches(&typed, &t3, 25).await;
    keyed_model.apply(&k3);
    typed_model.apply(&t3);
    expected.push((keyed_model.rows(), typed_model.rows()));

    let mut checks = vec![];
    for (i, (table, snapshots)) in [
        (&keyed, [Some(1), Some(after_java[0]), None]),
        (&typed, [Some(1), Some(after_java[1]), None]),
    ]
    .into_iter()
    .enumerate()
    {
        for (commit, snapshot) in snapshots.into_iter().enumerate() {
            let rows = if i == 0 {
                &expected[commit].0
            } else {
                &expected[commit].1
            };
            let name = format!("{}_after_{}", table.name, commit + 1);
            let mut case = ReadCase::new(&name, warehouse, &table.name);
            if let Some(id) = snapshot {
                case = case.snapshot(id);
            }
            checks.push(check(table, case, Some(rows)));
        }
    }
    read_and_verify(&bench, &checks).await;
}
