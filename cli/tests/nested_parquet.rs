//! `streamhouse write` of Parquet files another tool (pyarrow) wrote, with ROW, ARRAY<ROW> and
//! MAP<STRING, ROW> columns: nested fields are matched by name whatever their field ids, child
//! names and declared nullability; the rows come back exactly from `scan --output json` and
//! from pypaimon. Needs STREAMHOUSE_PYTHON (`tests/run.sh`, a venv with pyarrow and pypaimon);
//! skips loudly without it, fails under CI.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use streamhouse_test_support as interop_support;

use crate::harness::{by_id, json_lines, Wh};

/// The test venv's Python and a warehouse with table `table` created; `None` (the test skips)
/// without the venv.
fn python_and_table(table: &str, schema: &str, extra: &str) -> Option<(PathBuf, Wh)> {
    let py = interop_support::python()?;
    let wh = Wh::with_table(table, schema, extra);
    Some((py, wh))
}

/// Runs Python code with the test venv's interpreter; returns its stdout.
fn python(python: &Path, code: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(python)
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "python failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Writes `rows` (JSON lines) into a Parquet file with pyarrow, with the schema the Python
/// expression `schema` gives (`pa` is pyarrow).
fn pyarrow_file(py: &Path, dir: &Path, name: &str, schema: &str, rows: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let code = format!(
        r#"
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
schema = {schema}
rows = [json.loads(line) for line in sys.argv[2].splitlines()]
def fix(v, t):
    # JSON objects are maps' entries where the type is a map.
    if v is None:
        return None
    if pa.types.is_map(t):
        return [(k, fix(x, t.item_type)) for k, x in v.items()]
    if pa.types.is_list(t):
        return [fix(x, t.value_type) for x in v]
    if pa.types.is_struct(t):
        return {{t.field(i).name: fix(v.get(t.field(i).name), t.field(i).type)
                for i in range(t.num_fields)}}
    return v
rows = [{{f.name: fix(r.get(f.name), f.type) for f in schema}} for r in rows]
pq.write_table(pa.Table.from_pylist(rows, schema=schema), sys.argv[1])
"#
    );
    let lines: Vec<String> = rows.iter().map(Value::to_string).collect();
    python(py, &code, &[path.as_os_str(), lines.join("\n").as_ref()]);
    path
}

/// pypaimon's read of a table directory: one JSON object per row, maps as objects, by id.
fn pypaimon_rows(py: &Path, table_dir: &Path) -> Vec<Value> {
    let code = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
import pyarrow as pa
from pypaimon_read import open_table, read_table
def plain(v, t):
    if v is None:
        return None
    if pa.types.is_map(t):
        return {k: plain(x, t.item_type) for k, x in v}
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return [plain(x, t.value_type) for x in v]
    if pa.types.is_struct(t):
        return {t.field(i).name: plain(v[t.field(i).name], t.field(i).type)
                for i in range(t.num_fields)}
    return v
data = read_table(open_table(sys.argv[2]))
for row in data.to_pylist():
    print(json.dumps({f.name: plain(row[f.name], f.type) for f in data.schema}))
"#;
    let scripts = interop_support::scripts_dir();
    by_id(json_lines(&python(
        py,
        code,
        &[scripts.as_os_str(), table_dir.as_os_str()],
    )))
}

fn rows() -> Vec<Value> {
    vec![
        json!({"id": 1, "r": {"a": 1, "b": "x"},
               "l": [{"x": 10, "y": "p"}, {"x": 11, "y": null}],
               "m": {"k": {"v": 1}}}),
        json!({"id": 2, "r": null, "l": [], "m": null}),
        json!({"id": 3, "r": {"a": null, "b": "z"}, "l": null,
               "m": {"a": null, "b": {"v": null}}}),
        json!({"id": 4, "r": {"a": 2147483647, "b": ""},
               "l": [null, {"x": -9223372036854775808i64, "y": "ü"}], "m": {}}),
    ]
}

#[test]
fn pyarrow_nested_columns_write_and_read_back() {
    let schema = "id BIGINT NOT NULL, r ROW<a INT, b STRING>, l ARRAY<ROW<x BIGINT, y STRING>>, \
                  m MAP<STRING, ROW<v INT>>";
    let Some((py, wh)) = python_and_table("db.t", schema, "--primary-key id") else {
        return;
    };
    // pyarrow's own spelling of the table's types: no field ids, "item" / "entries" children.
    let file = pyarrow_file(
        &py,
        wh.path(),
        "nested.parquet",
        "pa.schema([pa.field('id', pa.int64(), nullable=False), \
         ('r', pa.struct([('a', pa.int32()), ('b', pa.string())])), \
         ('l', pa.list_(pa.struct([('x', pa.int64()), ('y', pa.string())]))), \
         ('m', pa.map_(pa.string(), pa.struct([('v', pa.int32())])))])",
        &rows(),
    );
    wh.ok(&["write", "db.t", "--input", file.to_str().unwrap()]);
    let scanned = wh.scan_json("db.t", &[]);
    assert_eq!(scanned, rows());
    let table_dir = wh.table_dir("db.t");
    assert_eq!(pypaimon_rows(&py, &table_dir), rows());

    // Other spellings of the same data: fields in another order, narrower integers, a large
    // list, a table field the file does not have (NULL).
    let file = pyarrow_file(
        &py,
        wh.path(),
        "other.parquet",
        "pa.schema([('id', pa.int64()), \
         ('m', pa.map_(pa.string(), pa.struct([('v', pa.int16())]))), \
         ('l', pa.large_list(pa.struct([('y', pa.large_string()), ('x', pa.int32())]))), \
         ('r', pa.struct([('b', pa.string())]))])",
        &[json!({"id": 5, "r": {"b": "q"}, "l": [{"x": 7, "y": "s"}], "m": {"z": {"v": -3}}})],
    );
    wh.ok(&["write", "db.t", "--input", file.to_str().unwrap()]);
    let mut expected = rows();
    expected.push(
        json!({"id": 5, "r": {"a": null, "b": "q"}, "l": [{"x": 7, "y": "s"}],
                          "m": {"z": {"v": -3}}}),
    );
    assert_eq!(wh.scan_json("db.t", &[]), expected);
    assert_eq!(pypaimon_rows(&py, &table_dir), expected);
}

#[test]
fn pyarrow_nested_columns_that_do_not_fit_are_errors_naming_path_and_row() {
    let columns = "id BIGINT NOT NULL, r ROW<a INT NOT NULL, b VARCHAR(3)>, \
                   l ARRAY<ROW<x BIGINT NOT NULL>>";
    let Some((py, wh)) = python_and_table("db.s", columns, "") else {
        return;
    };
    let schema = "pa.schema([('id', pa.int64()), \
                  ('r', pa.struct([('a', pa.int32()), ('b', pa.string())])), \
                  ('l', pa.list_(pa.struct([('x', pa.int64())])))])";
    let cases: &[(&str, Value, &[&str])] = &[
        (
            "null_a.parquet",
            json!({"id": 2, "r": {"a": null, "b": "ok"}, "l": []}),
            &["row 2, column r.a", "NULL", "NOT NULL"],
        ),
        (
            "null_x.parquet",
            json!({"id": 2, "r": null, "l": [{"x": 1}, {"x": null}]}),
            &["row 2, column l[].x", "NULL", "NOT NULL"],
        ),
        (
            "long_b.parquet",
            json!({"id": 2, "r": {"a": 1, "b": "four"}, "l": null}),
            &["row 2, column r.b", "\"four\"", "VARCHAR(3)"],
        ),
    ];
    let first = json!({"id": 1, "r": {"a": 1, "b": "abc"}, "l": [{"x": 1}]});
    for (name, bad, needles) in cases {
        let file = pyarrow_file(&py, wh.path(), name, schema, &[first.clone(), bad.clone()]);
        let e = wh.fails(1, &["write", "db.s", "--input", file.to_str().unwrap()]);
        for n in *needles {
            assert!(e.contains(n), "{name}: {n:?} not in {e}");
        }
    }
    // A ROW field the table does not have: an error naming it, like an unknown column.
    let file = pyarrow_file(
        &py,
        wh.path(),
        "extra.parquet",
        "pa.schema([('id', pa.int64()), \
         ('r', pa.struct([('a', pa.int32()), ('c', pa.string())]))])",
        &[json!({"id": 1, "r": {"a": 1, "c": "?"}})],
    );
    let e = wh.fails(1, &["write", "db.s", "--input", file.to_str().unwrap()]);
    assert!(
        e.contains("column r") && e.contains("unknown field \"c\""),
        "{e}"
    );
    // Nothing was committed.
    assert_eq!(wh.ok(&["scan", "db.s", "--output", "json"]), "");
}
