//! TIMESTAMP(7..9) and TIMESTAMP_LTZ(7..9) as other Paimon readers see our tables. We write
//! these columns as Parquet INT96, as Java Paimon does (its 1.x reader takes an INT64 column of
//! these precisions as milliseconds). A primary-key table keyed by (INT, TIMESTAMP(9)), written
//! in two commits (updates, a delete, a key sharing its timestamp with another) and then fully
//! compacted, must read back with every digit — 1969-12-31T23:59:59.999999999, the ends of the
//! nanosecond range, NULLs, TIMESTAMP(3)/(6) of years 0001 and 9999 beside them — through:
//!
//! * Paimon's Java library (the JVM bench, `java_support`), every snapshot;
//! * pypaimon 2.1.0, where no files overlap (its merge of overlapping files works in
//!   microseconds, see `interop_support`);
//! * pyarrow reading the compacted data file itself (INT96 as `timestamp[ns]`).
//!
//! And the other way: we read (scan and `get`) the same table written by Java's writer, whose
//! INT96 bytes differ from ours before 1970 (it divides toward zero: negative nanos of the day).

use std::path::{Path, PathBuf};

use parquet::basic::Type as PhysicalType;
use parquet::column::reader::get_typed_column_reader;
use parquet::data_type::Int96Type;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{json, Value};
use streamhouse_compaction::BucketOutcome;
use streamhouse_format::datum::Datum;
use streamhouse_format::io::Table;
use streamhouse_reader::lookup::{LookupHandle, LookupOptions};

use crate::interop_support::{
    assert_same_rows, pyarrow_parquet_rows, pypaimon_read, python, table_dir,
};
use crate::java_support::{
    bench_and_warehouse, java_bench, java_read, java_write, ReadCase, WriteTable,
};
use crate::support::{
    compact_fully, create_table, days_from_civil, inserts, open_table, project, read_rows,
    scan_rows, write_commit, write_nested, Engine, Model,
};

const COLUMNS: &str = "id INT NOT NULL, k9 TIMESTAMP(9) NOT NULL, ts7 TIMESTAMP(7), \
    ts8 TIMESTAMP(8), ts9 TIMESTAMP(9), l7 TIMESTAMP(7) WITH LOCAL TIME ZONE, \
    l9 TIMESTAMP(9) WITH LOCAL TIME ZONE, ts3 TIMESTAMP(3), ts6 TIMESTAMP(6)";

const NAMES: [&str; 9] = ["id", "k9", "ts7", "ts8", "ts9", "l7", "l9", "ts3", "ts6"];

/// A row in the canonical form (nine fraction digits when the nanoseconds are non-zero).
#[allow(clippy::too_many_arguments)]
fn row(
    id: i64,
    k9: &str,
    ts7: Option<&str>,
    ts8: Option<&str>,
    ts9: Option<&str>,
    l9: Option<&str>,
    ts3: Option<&str>,
    ts6: Option<&str>,
) -> Value {
    let z = |v: Option<&str>| v.map(|s| format!("{s}Z"));
    json!({"id": id, "k9": k9, "ts7": ts7, "ts8": ts8, "ts9": ts9, "l7": z(ts7), "l9": z(l9),
        "ts3": ts3, "ts6": ts6})
}

fn first_commit() -> Vec<Value> {
    let s = Some;
    vec![
        row(
            1,
            "2024-02-29T12:34:56.789012345",
            s("2024-02-29T12:34:56.789012300"),
            s("2024-02-29T12:34:56.789012340"),
            s("2024-02-29T12:34:56.789012345"),
            s("2024-02-29T12:34:56.789012345"),
            s("2024-02-29T12:34:56.789000"),
            s("2024-02-29T12:34:56.789012"),
        ),
        row(
            2,
            "1969-12-31T23:59:59.999999999",
            s("1969-12-31T23:59:59.999999900"),
            s("1969-12-31T23:59:59.999999990"),
            s("1969-12-31T23:59:59.999999999"),
            s("1969-12-31T23:59:59.999999999"),
            s("1969-12-31T23:59:59.999000"),
            s("1969-12-31T23:59:59.999999"),
        ),
        row(
            3,
            "2262-04-11T23:47:16.854775807",
            s("2262-04-11T23:47:16.854775800"),
            s("2262-04-11T23:47:16.854775800"),
            s("2262-04-11T23:47:16.854775807"),
            s("2262-04-11T23:47:16.854775807"),
            s("9999-12-31T23:59:59.999000"),
            s("9999-12-31T23:59:59.999999"),
        ),
        row(
            4,
            "1677-09-21T00:12:43.145224192",
            s("1677-09-21T00:12:43.145224200"),
            s("1677-09-21T00:12:43.145224200"),
            s("1677-09-21T00:12:43.145224192"),
            s("1677-09-21T00:12:43.145224192"),
            s("0001-01-01T00:00:00.000000"),
            s("0001-01-01T00:00:00.000000"),
        ),
        row(
            5,
            "1970-01-01T00:00:00.000000001",
            None,
            None,
            None,
            None,
            None,
            None,
        ),
        row(
            6,
            "1900-01-01T00:00:00.000000",
            s("1899-12-31T23:59:59.999999900"),
            None,
            s("1900-06-15T12:00:00.000000001"),
            s("1969-12-31T23:59:59.000000001"),
            None,
            s("1969-12-31T23:59:59.000001"),
        ),
    ]
}

fn second_commit() -> Vec<(&'static str, Value)> {
    let mut updated = first_commit()[0].clone();
    updated["ts9"] = json!("2001-09-09T01:46:40.000000005");
    updated["l9"] = json!("1950-05-05T05:05:05.050505050Z");
    updated["ts7"] = Value::Null;
    let s = Some;
    vec![
        ("+U", updated),
        ("-D", first_commit()[4].clone()),
        (
            "+I",
            row(
                7,
                "1969-12-31T23:59:59.999999999",
                s("1969-12-31T00:00:00.000000100"),
                None,
                s("1969-12-31T00:00:00.000000001"),
                None,
                None,
                None,
            ),
        ),
    ]
}

/// The live data files of `table` (`db.NAME` in `warehouse`; latest snapshot or `snapshot`).
async fn data_files(table: &Table, warehouse: &Path, snapshot: Option<i64>) -> Vec<PathBuf> {
    let snapshot = table.snapshot_or_latest(snapshot).await.unwrap().unwrap();
    let dir = table_dir(warehouse, "db", table.name.trim_start_matches("db."));
    let files = table.all_live_files(&snapshot).await.unwrap();
    files
        .iter()
        .map(|f| {
            dir.join(format!("bucket-{}", f.bucket))
                .join(&f.file.file_name)
        })
        .collect()
}

fn parquet_reader(path: &Path) -> SerializedFileReader<std::fs::File> {
    SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap()
}

/// Physical type of the leaf column at `column` (a top-level name, or a path such as `r.t`) in
/// every live data file of the table (latest snapshot or `snapshot`).
async fn physical_types_at(
    table: &Table,
    warehouse: &Path,
    column: &str,
    snapshot: Option<i64>,
) -> Vec<PhysicalType> {
    let mut out = vec![];
    for path in data_files(table, warehouse, snapshot).await {
        let reader = parquet_reader(&path);
        let schema = reader.metadata().file_metadata().schema_descr();
        let c = schema
            .columns()
            .iter()
            .find(|c| c.path().string() == column);
        out.push(
            c.unwrap_or_else(|| panic!("no column {column}"))
                .physical_type(),
        );
    }
    out
}

async fn physical_types(table: &Table, warehouse: &Path, column: &str) -> Vec<PhysicalType> {
    physical_types_at(table, warehouse, column, None).await
}

#[tokio::test]
async fn java_and_pypaimon_read_our_int96_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path();
    let table = create_table(
        warehouse.to_str().unwrap(),
        "db.timestamps",
        COLUMNS,
        &[],
        &["id", "k9"],
        &[("bucket", "1")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let mut after = vec![];
    for records in [inserts(first_commit()), second_commit()] {
        write_commit(&table, &records).await;
        model.apply(&records);
        after.push(model.rows());
    }
    let outcomes = compact_fully(&table).await;
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, BucketOutcome::Compacted(_))),
        "{outcomes:?}"
    );
    let compacted = table.latest_snapshot_id().await.unwrap().unwrap();
    assert_eq!(compacted, 3);
    after.push(model.rows());
    // Compaction rewrote the two files into one, keeping INT96.
    for column in ["k9", "_KEY_k9", "ts7", "ts8", "ts9", "l7", "l9"] {
        assert_eq!(
            physical_types(&table, warehouse, column).await,
            [PhysicalType::INT96],
            "{column}"
        );
    }
    assert_eq!(
        physical_types(&table, warehouse, "ts6").await,
        [PhysicalType::INT64]
    );
    for (i, rows) in after.iter().enumerate() {
        let ours = scan_rows(&table, Some(i as i64 + 1), None).await;
        assert_same_rows(&ours, rows, &format!("ours, snapshot {}", i + 1));
    }

    // pyarrow reads the compacted file's INT96 columns as nanosecond timestamps.
    if python().is_some() {
        let file = &data_files(&table, warehouse, None).await[0];
        // INT96 carries no zone: pyarrow reads TIMESTAMP_LTZ(7..9) as naive instants in UTC
        // (as it reads Java's files).
        let naive_ltz: Vec<Value> = after[2]
            .iter()
            .map(|r| {
                let mut r = r.clone();
                for c in ["l7", "l9"] {
                    if let Some(s) = r[c].as_str().and_then(|s| s.strip_suffix('Z')) {
                        r[c] = json!(s);
                    }
                }
                r
            })
            .collect();
        assert_same_rows(
            &project(&pyarrow_parquet_rows(file), &NAMES),
            &naive_ltz,
            "pyarrow reads the compacted file",
        );
        let path = table_dir(warehouse, "db", "timestamps");
        // Snapshot 1: one file, nothing to merge: exact.
        assert_same_rows(
            &pypaimon_read(&path, Some(1)),
            &after[0],
            "pypaimon, snapshot 1",
        );
        // Snapshot 2 (two overlapping files) is not read by pypaimon: its merge goes through
        // microsecond datetimes, and 1677-09-21T00:12:43.145224192 cut to microseconds falls
        // below the nanosecond range, which pypaimon 2.1.0 reports as an error.
        // Compacted: one file again: exact.
        assert_same_rows(
            &pypaimon_read(&path, None),
            &after[2],
            "pypaimon, compacted",
        );
    }

    let Some(bench) = java_bench() else { return };
    let cases: Vec<ReadCase> = (1..=3)
        .map(|s| ReadCase::new(&format!("timestamps_{s}"), warehouse, "db.timestamps").snapshot(s))
        .collect();
    let java = java_read(&bench, &cases);
    for (i, case) in cases.iter().enumerate() {
        match java.result(&case.name) {
            Ok(rows) => assert_same_rows(rows, &after[i], &format!("Java, {}", case.name)),
            Err(e) => panic!("{}: Paimon's Java reader failed:\n{e}", case.name),
        }
    }
}

/// The trimmed key (id, k9) of a canonical row, for `get`.
fn key_of(row: &Value) -> Vec<Datum> {
    // "YYYY-MM-DDTHH:MM:SS.ffffff[fff]"
    let text = row["k9"].as_str().unwrap();
    let num = |r: std::ops::Range<usize>| text[r].parse::<i64>().unwrap();
    let days = days_from_civil(num(0..4), num(5..7), num(8..10));
    let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
    let fraction = &text[20..];
    let sub = fraction.parse::<i64>().unwrap() * 10i64.pow(9 - fraction.len() as u32);
    let nanos = (i128::from(secs) * 1_000_000_000 + i128::from(sub)) as i64;
    vec![
        Datum::Int(row["id"].as_i64().unwrap() as i32),
        Datum::Timestamp {
            millis: nanos.div_euclid(1_000_000),
            nanos: nanos.rem_euclid(1_000_000) as i32,
        },
    ]
}

#[tokio::test]
async fn we_read_the_int96_timestamps_java_writes() {
    let Some((bench, dir)) = bench_and_warehouse() else {
        return;
    };
    let warehouse = dir.path();
    let (first, second) = (inserts(first_commit()), second_commit());
    java_write(
        &bench,
        warehouse,
        &[WriteTable::new("db.timestamps", COLUMNS)
            .primary_keys(&["id", "k9"])
            .option("bucket", "1")
            .commit(&first)
            .commit(&second)],
    );
    let table = open_table(warehouse.to_str().unwrap(), "db.timestamps")
        .await
        .unwrap();
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    model.apply(&first);
    let after_1 = model.rows();
    model.apply(&second);
    let after_2 = model.rows();
    assert_same_rows(
        &scan_rows(&table, Some(1), None).await,
        &after_1,
        "ours, Java's snapshot 1",
    );
    assert_same_rows(
        &scan_rows(&table, None, None).await,
        &after_2,
        "ours, Java's latest",
    );

    // Java writes INT96; before 1970 with a negative nanos-of-day: the file of snapshot 1 holds
    // 1969-12-31T23:59:59.999999999 (row 2's ts9) as day 2 440 588, nanos −1.
    for column in ["_KEY_k9", "ts7", "ts9", "l9"] {
        let types = physical_types_at(&table, warehouse, column, Some(1)).await;
        assert_eq!(types, [PhysicalType::INT96], "{column}");
    }
    let files = data_files(&table, warehouse, Some(1)).await;
    assert_eq!(files.len(), 1);
    let reader = parquet_reader(&files[0]);
    let schema = reader.metadata().file_metadata().schema_descr();
    let ts9 = schema
        .columns()
        .iter()
        .position(|c| c.name() == "ts9")
        .unwrap();
    let mut values = vec![];
    for rg in 0..reader.num_row_groups() {
        let column = reader
            .get_row_group(rg)
            .unwrap()
            .get_column_reader(ts9)
            .unwrap();
        let mut r = get_typed_column_reader::<Int96Type>(column);
        let mut defs = vec![];
        r.read_records(usize::MAX, Some(&mut defs), None, &mut values)
            .unwrap();
    }
    let before_epoch = values
        .iter()
        .find(|v| v.to_nanos() == -1)
        .expect("1969-12-31T23:59:59.999999999 in Java's file");
    assert_eq!(before_epoch.data(), &[u32::MAX, u32::MAX, 2_440_588]);

    // get, by every key of the latest snapshot.
    let handle = LookupHandle::open(&table, LookupOptions::default())
        .await
        .unwrap();
    let schema = table.schema.arrow_schema();
    for row in &after_2 {
        let got = handle
            .get(&key_of(row))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("get {row}: absent"));
        let got = crate::java_support::canonical_rows(&[got], &schema);
        assert_same_rows(&got, std::slice::from_ref(row), "get of Java's row");
    }
}

/// TIMESTAMP(9) inside ARRAY, MAP and ROW (INT96 leaves with arrow-rs's levels): Java reads
/// them as we do.
#[tokio::test]
async fn java_reads_nested_int96_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path();
    let table = create_table(
        warehouse.to_str().unwrap(),
        "db.nested_timestamps",
        "id INT NOT NULL, arr ARRAY<TIMESTAMP(9)>, m MAP<STRING, TIMESTAMP(9)>, \
         r ROW<a INT, t TIMESTAMP(9)>, l ARRAY<TIMESTAMP(9) WITH LOCAL TIME ZONE>",
        &[],
        &["id"],
        &[("bucket", "1")],
    )
    .await;
    let rows = vec![
        json!({"id": 1, "arr": ["2024-02-29T12:34:56.789012345", null, "1969-12-31T23:59:59.999999999"],
               "m": {"a": "1677-09-21T00:12:43.145224192", "b": null},
               "r": {"a": 1, "t": "2262-04-11T23:47:16.854775807"},
               "l": ["1969-12-31T23:59:59.999999999Z"]}),
        json!({"id": 2, "arr": [], "m": {}, "r": {"a": null, "t": null}, "l": [null]}),
        json!({"id": 3, "arr": null, "m": null, "r": null, "l": null}),
        json!({"id": 4, "arr": ["1900-01-01T00:00:00.000000001"], "m": {"": "1970-01-01T00:00:00.000000"},
               "r": {"a": -4, "t": "1969-07-20T20:17:40.000000001"},
               "l": ["2001-09-09T01:46:40.000000005Z", "1950-05-05T05:05:05.050505050Z"]}),
    ];
    assert_eq!(write_nested(&table, &rows).await, 1);
    for column in [
        "arr.list.element",
        "m.key_value.value",
        "r.t",
        "l.list.element",
    ] {
        let types = physical_types_at(&table, warehouse, column, None).await;
        assert_eq!(types, [PhysicalType::INT96], "{column}");
    }
    assert_same_rows(&read_rows(&table, None, None, None).await, &rows, "ours");

    let Some(bench) = java_bench() else { return };
    let case = ReadCase::new("nested_timestamps", warehouse, "db.nested_timestamps");
    let java = java_read(&bench, std::slice::from_ref(&case));
    match java.result(&case.name) {
        Ok(got) => assert_same_rows(got, &rows, "Java"),
        Err(e) => panic!("Paimon's Java reader failed:\n{e}"),
    }
}
