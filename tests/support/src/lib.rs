//! `streamhouse-test-support`: what the tests of every crate share. Helpers for interop tests: run pypaimon through the scripts in `tests/python/`, reach the
//! test S3 server, and compare rows in the one canonical form all peers print.
//!
//! `tests/run.sh` provides the environment: `STREAMHOUSE_PYTHON` (a venv with pypaimon 2.1.0),
//! `STREAMHOUSE_S3_ENDPOINT` (a moto server with bucket `lake`) and the `AWS_*` variables
//! object_store reads. Without them a test that needs them skips with a loud note, except under
//! CI (`CI` set), where it fails: CI must never pass by skipping.
//!
//! ```ignore
//! let Some(_) = interop_support::python() else { return };
//! let dir = tempfile::tempdir().unwrap();
//! let expected = interop_support::pypaimon_write(dir.path(), "pk_partitioned");
//! let batches = /* read db.pk_partitioned with Streamhouse */;
//! let actual = interop_support::arrow_rows_canonical(&batches, &schema);
//! interop_support::assert_same_rows(&actual, &expected, "db.pk_partitioned");
//! ```
//!
//! The canonical form (see `canonical.rs`, shared with `tests/paimon-peer`, and
//! `tests/python/canonical.py`): a row is a JSON object; integers are JSON integers, FLOAT and
//! DOUBLE JSON numbers (FLOAT widened to double; NaN/±inf as "NaN", "Infinity", "-Infinity"),
//! DECIMAL(p, s) a string with exactly s fraction digits, strings as stored, binary lowercase hex,
//! DATE "YYYY-MM-DD", TIME "HH:MM:SS.fff" (6/9 digits only when needed), TIMESTAMP
//! "YYYY-MM-DDTHH:MM:SS.ffffff" (9 digits when the nanoseconds are non-zero), TIMESTAMP_LTZ the
//! same in UTC plus "Z", NULL null. Rows sort by their compact JSON with sorted keys.
//!
//! Known pypaimon 2.1.0 divergence: when it merges a bucket whose files overlap it truncates
//! TIMESTAMP(7..9) values to microseconds (the files keep the nanoseconds). Compare pypaimon's
//! rows of such tables through [`truncate_to_micros`] on both sides.
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

// Shared with the `tests/paimon-peer` workspace, which builds against another arrow version.
#[path = "../../paimon-peer/src/canonical.rs"]
mod canonical;

/// The seeded simulation of concurrent actors over a faulty store (feature `sim`).
#[cfg(feature = "sim")]
pub mod sim;

pub use canonical::{arrow_rows_canonical, column_values, row_line, sort_rows};

/// The scenarios `pypaimon_write` knows (each writes table `db.<scenario>`).
pub const PYPAIMON_SCENARIOS: &[&str] = &[
    "pk_partitioned",
    "append_unaware",
    "append_fixed",
    "all_types",
    "partial_update",
    "aggregation",
    "changelog_input",
    "sequence_field",
];

/// Three CSV inputs (header `dt,id,v`) written one after the other to a first-row table keyed
/// by `(dt, id)`; later writes repeat keys with new values, which the first version outlives.
pub const FIRST_ROW_WRITES: [&str; 3] = [
    "dt,id,v\nd1,1,a\nd1,2,a\nd2,3,a\n",
    "dt,id,v\nd1,1,b\nd1,4,b\nd2,3,b\nd2,5,b\n",
    "dt,id,v\nd1,4,c\nd2,6,c\n",
];

/// How many files under `dir` (recursively; none when it does not exist) end with `suffix`.
pub fn count_files(dir: &Path, suffix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                count_files(&p, suffix)
            } else {
                usize::from(p.to_string_lossy().ends_with(suffix))
            }
        })
        .sum()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The value of `var`; when unset: `None` plus a loud note, or a panic under CI.
fn required_env(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ if in_ci() => panic!(
            "{var} is not set, so {what} cannot run; under CI (CI is set) this is a failure, not \
             a skip. Run the tests with `bash tests/run.sh`, which sets it."
        ),
        _ => {
            eprintln!(
                "\n*** SKIPPED: {var} is not set, so {what} does not run. \
                 `bash tests/run.sh` sets it. ***\n"
            );
            None
        }
    }
}

/// The test venv's Python (with pypaimon), from `STREAMHOUSE_PYTHON`.
pub fn python() -> Option<PathBuf> {
    required_env("STREAMHOUSE_PYTHON", "this pypaimon interop test").map(PathBuf::from)
}

/// The moto S3 server's endpoint (`http://127.0.0.1:<port>`, bucket `lake`), from
/// `STREAMHOUSE_S3_ENDPOINT`. The `AWS_*` variables are set alongside it.
pub fn s3_endpoint() -> Option<String> {
    required_env("STREAMHOUSE_S3_ENDPOINT", "this S3 test")
}

/// The bucket on the test S3 server.
pub const S3_BUCKET: &str = "lake";

/// `tests/python/`.
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("python")
}

/// The directory of table `db.table` in a filesystem warehouse.
pub fn table_dir(warehouse: &Path, db: &str, table: &str) -> PathBuf {
    warehouse.join(format!("{db}.db")).join(table)
}

/// Runs `tests/python/<script>` with the test venv's Python; returns its stdout. Panics with the
/// command and its stderr when it fails (call [`python`] first to skip without a venv).
pub fn run_python_script<I, S>(script: &str, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let python = python().unwrap_or_else(|| {
        panic!("{script} needs STREAMHOUSE_PYTHON: check interop_support::python() first")
    });
    let mut command = Command::new(&python);
    command.arg(scripts_dir().join(script)).args(args);
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{stderr}",
        output.status
    );
    String::from_utf8(output.stdout).expect("the scripts print UTF-8")
}

fn parse_rows(text: &str, source: &str) -> Vec<Value> {
    canonical::parse_lines(text).unwrap_or_else(|e| panic!("{source}: {e}"))
}

/// pypaimon's merged batch read of the table at `table_path` (a local directory or an
/// `s3://lake/...` URL), latest snapshot or `snapshot`: canonical rows, sorted.
pub fn pypaimon_read(table_path: impl AsRef<OsStr>, snapshot: Option<i64>) -> Vec<Value> {
    pypaimon_read_columns(table_path, snapshot, &[])
}

/// Like [`pypaimon_read`], reading only `columns` (all when empty).
pub fn pypaimon_read_columns(
    table_path: impl AsRef<OsStr>,
    snapshot: Option<i64>,
    columns: &[&str],
) -> Vec<Value> {
    let mut args = vec![table_path.as_ref().to_os_string()];
    if let Some(id) = snapshot {
        args.extend(["--snapshot".into(), id.to_string().into()]);
    }
    if !columns.is_empty() {
        args.extend(["--projection".into(), columns.join(",").into()]);
    }
    parse_rows(
        &run_python_script("pypaimon_read.py", &args),
        "pypaimon_read.py",
    )
}

/// Writes table `db.<scenario>` into the filesystem warehouse `warehouse` with pypaimon and
/// returns the rows it must hold (computed by the script from its input, not read back).
pub fn pypaimon_write(warehouse: &Path, scenario: &str) -> Vec<Value> {
    let stdout = run_python_script(
        "pypaimon_write.py",
        [warehouse.as_os_str(), scenario.as_ref()],
    );
    parse_rows(&stdout, "pypaimon_write.py")
}

/// Canonical rows of a Parquet file as pyarrow reads it (every column, including Paimon's
/// `_KEY_*`, `_SEQUENCE_NUMBER` and `_VALUE_KIND`), sorted.
pub fn pyarrow_parquet_rows(file: &Path) -> Vec<Value> {
    parse_rows(
        &run_python_script("parquet_rows.py", [file]),
        "parquet_rows.py",
    )
}

/// Rows with every 9-digit timestamp fraction cut to 6 digits (for pypaimon's merged reads).
pub fn truncate_to_micros(rows: &[Value]) -> Vec<Value> {
    fn cut(value: &Value) -> Value {
        match value {
            Value::String(s) => {
                let body = s.strip_suffix('Z').unwrap_or(s);
                let is_nanos = body.len() >= 29
                    && body.as_bytes()[body.len() - 10] == b'.'
                    && body.contains('T')
                    && body[body.len() - 9..].bytes().all(|b| b.is_ascii_digit());
                if is_nanos {
                    let zone = if body.len() < s.len() { "Z" } else { "" };
                    Value::String(format!("{}{zone}", &body[..body.len() - 3]))
                } else {
                    value.clone()
                }
            }
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), cut(v))).collect())
            }
            other => other.clone(),
        }
    }
    sort_rows(rows.iter().map(cut))
}

/// Asserts that two row sets are equal as multisets; on failure lists what differs.
pub fn assert_same_rows(actual: &[Value], expected: &[Value], what: &str) {
    let actual: Vec<String> = sort_rows(actual.iter().cloned())
        .iter()
        .map(row_line)
        .collect();
    let expected: Vec<String> = sort_rows(expected.iter().cloned())
        .iter()
        .map(row_line)
        .collect();
    if actual == expected {
        return;
    }
    let mut report = format!(
        "{what}: rows differ ({} actual, {} expected)\n",
        actual.len(),
        expected.len()
    );
    let (missing, extra) = multiset_difference(&actual, &expected);
    for (title, lines) in [("missing", missing), ("unexpected", extra)] {
        for line in lines.iter().take(20) {
            report.push_str(&format!("  {title}: {line}\n"));
        }
        if lines.len() > 20 {
            report.push_str(&format!("  … and {} more {title}\n", lines.len() - 20));
        }
    }
    panic!("{report}");
}

/// (expected rows not in actual, actual rows not in expected), counting duplicates; both sorted.
fn multiset_difference<'a>(
    actual: &'a [String],
    expected: &'a [String],
) -> (Vec<&'a str>, Vec<&'a str>) {
    let (mut missing, mut extra) = (Vec::new(), Vec::new());
    let (mut a, mut e) = (actual.iter().peekable(), expected.iter().peekable());
    loop {
        match (a.peek(), e.peek()) {
            (Some(x), Some(y)) if x == y => {
                a.next();
                e.next();
            }
            (Some(x), Some(y)) if x < y => extra.push(a.next().unwrap().as_str()),
            (_, Some(_)) => missing.push(e.next().unwrap().as_str()),
            (Some(_), None) => extra.push(a.next().unwrap().as_str()),
            (None, None) => return (missing, extra),
        }
    }
}

#[cfg(test)]
mod canonical_form_tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
        Float64Array, Int16Array, Int64Array, Int8Array, StringArray, Time32MillisecondArray,
        Time64MicrosecondArray, Time64NanosecondArray, TimestampMicrosecondArray,
        TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray,
    };
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use serde_json::{json, Value};

    use super::*;

    fn values(array: ArrayRef) -> Vec<Value> {
        column_values(&array)
    }

    #[test]
    fn integers_booleans_and_nulls() {
        assert_eq!(
            values(Arc::new(Int8Array::from(vec![Some(-128), None, Some(127)]))),
            [json!(-128), Value::Null, json!(127)]
        );
        assert_eq!(
            values(Arc::new(Int16Array::from(vec![-32768]))),
            [json!(-32768)]
        );
        assert_eq!(
            values(Arc::new(Int64Array::from(vec![i64::MIN, i64::MAX]))),
            [json!(i64::MIN), json!(i64::MAX)]
        );
        assert_eq!(
            values(Arc::new(BooleanArray::from(vec![Some(true), None]))),
            [json!(true), Value::Null]
        );
    }

    #[test]
    fn floats_widen_and_spell_non_finite_values() {
        assert_eq!(
            values(Arc::new(Float32Array::from(vec![0.1f32, -1.5]))),
            [json!(0.10000000149011612), json!(-1.5)]
        );
        let specials = values(Arc::new(Float64Array::from(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            1e300,
        ])));
        assert_eq!(
            specials,
            [
                json!("NaN"),
                json!("Infinity"),
                json!("-Infinity"),
                json!(-0.0),
                json!(1e300)
            ]
        );
    }

    #[test]
    fn decimals_keep_their_scale() {
        let d = |v: Vec<i128>, p: u8, s: i8| {
            values(Arc::new(
                Decimal128Array::from(v)
                    .with_precision_and_scale(p, s)
                    .unwrap(),
            ))
        };
        assert_eq!(
            d(vec![1230, -5, 0, 100], 10, 2),
            [json!("12.30"), json!("-0.05"), json!("0.00"), json!("1.00")]
        );
        assert_eq!(d(vec![7, -7], 10, 0), [json!("7"), json!("-7")]);
        let max38 = 10i128.pow(38) - 1;
        assert_eq!(
            d(vec![-max38, 0, 1], 38, 18),
            [
                json!("-99999999999999999999.999999999999999999"),
                json!("0.000000000000000000"),
                json!("0.000000000000000001")
            ]
        );
    }

    #[test]
    fn strings_as_stored_and_binary_as_hex() {
        let strings = values(Arc::new(StringArray::from(vec![
            "",
            "héllo ✓",
            "z\"\\\n\t\u{1}\u{7f}",
        ])));
        assert_eq!(
            strings,
            [json!(""), json!("héllo ✓"), json!("z\"\\\n\t\u{1}\u{7f}")]
        );
        // The same escaping as Python's json.dumps(..., ensure_ascii=False).
        assert_eq!(
            row_line(&json!({"s": strings[2]})),
            "{\"s\":\"z\\\"\\\\\\n\\t\\u0001\u{7f}\"}"
        );
        let binary: Vec<&[u8]> = vec![b"", b"\x00\xff\x10", b"AB"];
        assert_eq!(
            values(Arc::new(BinaryArray::from(binary))),
            [json!(""), json!("00ff10"), json!("4142")]
        );
    }

    #[test]
    fn dates_across_the_calendar() {
        let days = vec![
            0, -1, 19782, -719_162, 2_932_896, 2_932_897, -719_528, -719_529,
        ];
        assert_eq!(
            values(Arc::new(Date32Array::from(days))),
            [
                json!("1970-01-01"),
                json!("1969-12-31"),
                json!("2024-02-29"),
                json!("0001-01-01"),
                json!("9999-12-31"),
                json!("+10000-01-01"),
                json!("0000-01-01"),
                json!("-0001-12-31")
            ]
        );
    }

    #[test]
    fn times_use_three_digits_unless_finer_ones_are_set() {
        assert_eq!(
            values(Arc::new(Time32MillisecondArray::from(vec![
                45_296_789, 0, 86_399_999
            ]))),
            [
                json!("12:34:56.789"),
                json!("00:00:00.000"),
                json!("23:59:59.999")
            ]
        );
        assert_eq!(
            values(Arc::new(Time64MicrosecondArray::from(vec![1, 1000]))),
            [json!("00:00:00.000001"), json!("00:00:00.001")]
        );
        assert_eq!(
            values(Arc::new(Time64NanosecondArray::from(vec![1]))),
            [json!("00:00:00.000000001")]
        );
    }

    #[test]
    fn timestamps_use_six_digits_unless_nanoseconds_are_set() {
        assert_eq!(
            values(Arc::new(TimestampMillisecondArray::from(vec![
                -1,
                1_709_210_096_789
            ]))),
            [
                json!("1969-12-31T23:59:59.999000"),
                json!("2024-02-29T12:34:56.789000")
            ]
        );
        assert_eq!(
            values(Arc::new(TimestampMicrosecondArray::from(vec![
                -2_208_988_799_999_999
            ]))),
            [json!("1900-01-01T00:00:00.000001")]
        );
        assert_eq!(
            values(Arc::new(TimestampNanosecondArray::from(vec![
                i64::MAX,
                1_000,
                -1
            ]))),
            [
                json!("2262-04-11T23:47:16.854775807"),
                json!("1970-01-01T00:00:00.000001"),
                json!("1969-12-31T23:59:59.999999999")
            ]
        );
        // Seconds reach beyond the nanosecond range without overflow.
        assert_eq!(
            values(Arc::new(TimestampSecondArray::from(vec![253_402_300_799]))),
            [json!("9999-12-31T23:59:59.000000")]
        );
    }

    #[test]
    fn zoned_timestamps_print_the_utc_instant_with_z() {
        let utc = TimestampMillisecondArray::from(vec![0]).with_timezone("UTC");
        assert_eq!(
            values(Arc::new(utc)),
            [json!("1970-01-01T00:00:00.000000Z")]
        );
        let offset = TimestampNanosecondArray::from(vec![5]).with_timezone("+08:00");
        assert_eq!(
            values(Arc::new(offset)),
            [json!("1970-01-01T00:00:00.000000005Z")]
        );
    }

    #[test]
    fn rows_have_sorted_keys_and_sorted_order_across_batches() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("z", DataType::Int64, false),
            Field::new("a", DataType::Utf8, true),
        ]));
        let batch = |ids: Vec<i64>, names: Vec<Option<&str>>| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(ids)) as ArrayRef,
                    Arc::new(StringArray::from(names)),
                ],
            )
            .unwrap()
        };
        let rows = arrow_rows_canonical(
            &[
                batch(vec![2, 1], vec![Some("b"), None]),
                batch(vec![3], vec![Some("a")]),
            ],
            &schema,
        );
        let lines: Vec<String> = rows.iter().map(row_line).collect();
        assert_eq!(
            lines,
            [
                r#"{"a":"a","z":3}"#,
                r#"{"a":"b","z":2}"#,
                r#"{"a":null,"z":1}"#
            ]
        );
        assert!(arrow_rows_canonical(&[], &schema).is_empty());
    }

    #[test]
    fn assert_same_rows_ignores_order_but_not_multiplicity() {
        let a = [json!({"x": 1}), json!({"x": 2})];
        assert_same_rows(&a, &[json!({"x": 2}), json!({"x": 1})], "reordered");
        let result = std::panic::catch_unwind(|| {
            assert_same_rows(
                &[json!({"x": 1})],
                &[json!({"x": 1}), json!({"x": 1})],
                "dup",
            )
        });
        let message = *result.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("missing: {\"x\":1}"), "{message}");
    }

    #[test]
    fn truncation_to_micros_touches_only_nanosecond_timestamps() {
        let rows = [
            json!({"t": "2024-02-29T12:34:56.789012345Z", "u": "1970-01-01T00:00:00.000001", "s": "123456789"}),
        ];
        assert_eq!(
            truncate_to_micros(&rows),
            [
                json!({"s": "123456789", "t": "2024-02-29T12:34:56.789012Z", "u": "1970-01-01T00:00:00.000001"})
            ]
        );
    }

    /// The Rust and Python renderers agree: the same Arrow columns, written to Parquet, rendered
    /// by pyarrow + canonical.py.
    #[test]
    fn python_renderer_agrees_with_rust_renderer() {
        if python().is_none() {
            return;
        }
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "f32",
                Arc::new(Float32Array::from(vec![Some(0.1), None, Some(f32::NAN)])),
            ),
            (
                "f64",
                Arc::new(Float64Array::from(vec![
                    Some(1e20),
                    Some(-0.0),
                    Some(f64::NEG_INFINITY),
                ])),
            ),
            (
                "dec",
                Arc::new(
                    Decimal128Array::from(vec![Some(-1), None, Some(10i128.pow(37))])
                        .with_precision_and_scale(38, 18)
                        .unwrap(),
                ),
            ),
            (
                "s",
                Arc::new(StringArray::from(vec![
                    Some("z\"\\\n\u{1}é"),
                    None,
                    Some(""),
                ])),
            ),
            (
                "b",
                Arc::new(BinaryArray::from(vec![
                    Some(&b"\x00\xff"[..]),
                    None,
                    Some(&b""[..]),
                ])),
            ),
            (
                "d",
                Arc::new(Date32Array::from(vec![
                    Some(-719_162),
                    Some(2_932_896),
                    None,
                ])),
            ),
            (
                "t",
                Arc::new(Time32MillisecondArray::from(vec![
                    Some(0),
                    Some(86_399_999),
                    None,
                ])),
            ),
            (
                "ts_ms",
                Arc::new(TimestampMillisecondArray::from(vec![
                    Some(-1),
                    None,
                    Some(253_402_300_799_999),
                ])),
            ),
            (
                "ts_ns",
                Arc::new(TimestampNanosecondArray::from(vec![
                    Some(i64::MAX),
                    Some(-1),
                    None,
                ])),
            ),
            (
                "ltz_us",
                Arc::new(
                    TimestampMicrosecondArray::from(vec![Some(1), None, Some(-1)])
                        .with_timezone("UTC"),
                ),
            ),
        ];
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(
            schema.clone(),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rows.parquet");
        let mut writer = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&file).unwrap(),
            schema.clone(),
            None,
        )
        .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let by_rust = arrow_rows_canonical(&[batch], &schema);
        assert_same_rows(
            &pyarrow_parquet_rows(&file),
            &by_rust,
            "canonical.py vs canonical.rs",
        );
    }
}
