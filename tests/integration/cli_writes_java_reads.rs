//! Tables written by the `streamhouse` CLI as a user writes them, read back by Paimon's Java
//! reader, pypaimon and our `scan`, which must all give the expected rows:
//! - a first-row table after several `write`s (reads skip level 0, so `write` compacts level 0
//!   before it returns; Java's reader sees the first version of every key at once);
//! - a table with ROW, ARRAY<ROW> and MAP<STRING, ROW> columns written from a Parquet file
//!   pyarrow made (nested fields matched by name, not by field id).

use std::path::Path;

use serde_json::{json, Value};

use crate::interop_support::{
    assert_same_rows, pypaimon_read, python, table_dir, FIRST_ROW_WRITES,
};
use crate::java_support::{bench_and_warehouse, java_read, ReadCase};
use crate::procs::{cli_binary, cli_ok, stdout_of};

fn ok(bin: &std::path::PathBuf, warehouse: &Path, args: &[&str]) -> String {
    cli_ok(bin, warehouse.to_str().unwrap(), args)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

#[test]
fn java_reads_what_the_cli_writes() {
    let Some(bin) = cli_binary() else { return };
    let Some(py) = python() else { return };
    let Some((bench, dir)) = bench_and_warehouse() else {
        return;
    };
    let wh = dir.path();

    // First-row: three writes; the first version of each key wins.
    ok(
        &bin,
        wh,
        &[
            "create",
            "db.first",
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
        ],
    );
    for (i, csv) in FIRST_ROW_WRITES.iter().enumerate() {
        let input = dir.path().join(format!("first-{i}.csv"));
        std::fs::write(&input, csv).unwrap();
        ok(
            &bin,
            wh,
            &["write", "db.first", "--input", input.to_str().unwrap()],
        );
    }
    let first_expected: Vec<Value> = [
        ("d1", 1, "a"),
        ("d1", 2, "a"),
        ("d1", 4, "b"),
        ("d2", 3, "a"),
        ("d2", 5, "b"),
        ("d2", 6, "c"),
    ]
    .iter()
    .map(|(dt, id, v)| json!({"dt": dt, "id": id, "v": v}))
    .collect();

    // Nested columns from a pyarrow Parquet file.
    ok(
        &bin,
        wh,
        &[
            "create",
            "db.nested",
            "--schema",
            "id BIGINT NOT NULL, r ROW<a INT, b STRING>, l ARRAY<ROW<x BIGINT, y STRING>>, m MAP<STRING, ROW<v INT>>",
            "--primary-key",
            "id",
        ],
    );
    let parquet = dir.path().join("nested.parquet");
    let code = r#"
import sys
import pyarrow as pa, pyarrow.parquet as pq
schema = pa.schema([
    ("id", pa.int64()),
    ("r", pa.struct([("b", pa.string()), ("a", pa.int32())])),
    ("l", pa.list_(pa.struct([("y", pa.string()), ("x", pa.int64())]))),
    ("m", pa.map_(pa.string(), pa.struct([("v", pa.int32())]))),
])
rows = [
    {"id": 1, "r": {"a": 1, "b": "x"}, "l": [{"x": 10, "y": "p"}, {"x": 11, "y": None}],
     "m": [("k", {"v": 1}), ("j", None)]},
    {"id": 2, "r": None, "l": [], "m": None},
    {"id": 3, "r": {"a": None, "b": "z"}, "l": None, "m": []},
]
pq.write_table(pa.Table.from_pylist(rows, schema=schema), sys.argv[1])
"#;
    stdout_of(
        std::process::Command::new(&py)
            .arg("-c")
            .arg(code)
            .arg(&parquet),
    );
    ok(
        &bin,
        wh,
        &["write", "db.nested", "--input", parquet.to_str().unwrap()],
    );
    let nested_expected = vec![
        json!({"id": 1, "r": {"a": 1, "b": "x"}, "l": [{"x": 10, "y": "p"}, {"x": 11, "y": null}],
               "m": {"k": {"v": 1}, "j": null}}),
        json!({"id": 2, "r": null, "l": [], "m": null}),
        json!({"id": 3, "r": {"a": null, "b": "z"}, "l": null, "m": {}}),
    ];

    let java = java_read(
        &bench,
        &[
            ReadCase::new("first", wh, "db.first"),
            ReadCase::new("nested", wh, "db.nested"),
        ],
    );
    assert_same_rows(java.rows("first"), &first_expected, "Java reads db.first");
    assert_same_rows(
        &json_lines(&ok(&bin, wh, &["scan", "db.first", "--output", "json"])),
        &first_expected,
        "our scan of db.first",
    );
    assert_same_rows(
        &pypaimon_read(table_dir(wh, "db", "first"), None),
        &first_expected,
        "pypaimon reads db.first",
    );
    assert_same_rows(
        java.rows("nested"),
        &nested_expected,
        "Java reads db.nested",
    );
    assert_same_rows(
        &json_lines(&ok(&bin, wh, &["scan", "db.nested", "--output", "json"])),
        &nested_expected,
        "our scan of db.nested",
    );
}
