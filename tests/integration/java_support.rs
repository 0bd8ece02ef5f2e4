//! The JVM test bench: Apache Paimon's Java library (1.3.1) reads tables as an oracle.
//!
//! `tests/jvm/` is a Maven module; `tests/run.sh` builds it and exports
//! `STREAMHOUSE_JVM_BENCH`, the class path of the bench (its jar, whose manifest names every
//! dependency). Without it a test that needs Java skips with a loud note, except under CI (`CI`
//! set), where it fails. `JAVA_HOME/bin/java` runs it when `JAVA_HOME` is set, else `java`.
//!
//! One JVM reads every case of a test (a JVM start and Paimon's class loading cost seconds), so
//! collect the cases first and read them in one [`java_read`]:
//!
//! ```ignore
//! let Some(bench) = java_support::java_bench() else { return };
//! let cases = vec![
//!     ReadCase::new("pk_latest", warehouse, "db.pk"),
//!     ReadCase::new("pk_at_2", warehouse, "db.pk").snapshot(2),
//!     ReadCase::new("pk_tagged", warehouse, "db.pk").tag("t1").columns(&["id", "v"]),
//! ];
//! let java = java_support::java_read(&bench, &cases);
//! assert_same_rows(java.rows("pk_latest"), &ours, "Java reads db.pk");
//! ```
//!
//! Known Paimon Java 1.3.1 quirk, visible only because one JVM reads many tables: a table with
//! `sequence.field.sort-order = descending` read in the same JVM after an ascending
//! `sequence.field` table of the same field types merges in ascending order, and the other way
//! round (whichever is read first sets the order for both, as if the generated comparator were
//! cached without its sort order). Reproduced with Java alone: its own writer and reader, two
//! tables, both read orders. Give such tables distinct sequence-field types, or read them in a
//! JVM of their own.
//!
//! Rows come back in the canonical form of `interop_support` (see `canonical.rs`), extended to
//! nested types the same way on both sides ([`canonical_rows`] here, `Canonical.java` there):
//! ARRAY (and MULTISET) a JSON array of canonical values; MAP a JSON object whose keys are the
//! canonical key values (a non-string key as its compact JSON); ROW a JSON object by field name.
#![allow(dead_code)] // each test module uses a different subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow::array::{Array, ArrayRef, AsArray, GenericListArray, OffsetSizeTrait, RecordBatch};
use arrow::datatypes::{DataType, Schema};
use serde_json::{json, Map, Value};

use crate::interop_support::{column_values, row_line, sort_rows};

/// How to start the bench: the class path from `STREAMHOUSE_JVM_BENCH` and the `java` binary.
#[derive(Debug, Clone)]
pub struct JavaBench {
    pub classpath: String,
    pub java: PathBuf,
}

/// The bench, from `STREAMHOUSE_JVM_BENCH`; when unset `None` plus a loud note, or a panic
/// under CI (as `interop_support::python()` does).
pub fn java_bench() -> Option<JavaBench> {
    const VAR: &str = "STREAMHOUSE_JVM_BENCH";
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    let classpath = match std::env::var(VAR) {
        Ok(v) if !v.trim().is_empty() => v,
        _ if in_ci => panic!(
            "{VAR} is not set, so this test against Paimon's Java library cannot run; under CI \
             (CI is set) this is a failure, not a skip. Run the tests with `bash tests/run.sh`, \
             which builds tests/jvm and sets it."
        ),
        _ => {
            eprintln!(
                "\n*** SKIPPED: {VAR} is not set, so this test against Paimon's Java library \
                 does not run. `bash tests/run.sh` sets it. ***\n"
            );
            return None;
        }
    };
    let java = match std::env::var_os("JAVA_HOME") {
        Some(home) if !home.is_empty() => Path::new(&home).join("bin").join("java"),
        _ => PathBuf::from("java"),
    };
    Some(JavaBench { classpath, java })
}

/// The bench ([`java_bench`]) and a fresh directory for a test's warehouse; `None` when the
/// test skips.
pub fn bench_and_warehouse() -> Option<(JavaBench, tempfile::TempDir)> {
    Some((java_bench()?, tempfile::tempdir().unwrap()))
}

/// One batch read by Paimon's Java reader: table `table` (`db.t`) of the filesystem warehouse
/// `warehouse`, all splits of one plan, merged as Paimon merges.
#[derive(Debug, Clone)]
pub struct ReadCase {
    /// Unique in one [`java_read`]; letters, digits, `_`, `.`, `-`.
    pub name: String,
    pub warehouse: PathBuf,
    pub table: String,
    /// `scan.snapshot-id`.
    pub snapshot: Option<i64>,
    /// `scan.tag-name`.
    pub tag: Option<String>,
    /// Projection, in this order (all columns when `None`).
    pub columns: Option<Vec<String>>,
    /// Further dynamic table options (`table.copy(options)`).
    pub options: BTreeMap<String, String>,
    /// Adds each row's kind (`"+I"`, `"-U"`, `"+U"`, `"-D"`) as column `rowkind` (a merged
    /// batch read gives each key the kind of its winning record: `+I` or `+U`).
    pub row_kind: bool,
}

impl ReadCase {
    pub fn new(name: &str, warehouse: &Path, table: &str) -> Self {
        ReadCase {
            name: name.to_string(),
            warehouse: warehouse.to_path_buf(),
            table: table.to_string(),
            snapshot: None,
            tag: None,
            columns: None,
            options: BTreeMap::new(),
            row_kind: false,
        }
    }

    pub fn snapshot(mut self, id: i64) -> Self {
        self.snapshot = Some(id);
        self
    }

    pub fn tag(mut self, name: &str) -> Self {
        self.tag = Some(name.to_string());
        self
    }

    pub fn columns(mut self, columns: &[&str]) -> Self {
        self.columns = Some(columns.iter().map(|c| c.to_string()).collect());
        self
    }

    pub fn option(mut self, key: &str, value: &str) -> Self {
        self.options.insert(key.to_string(), value.to_string());
        self
    }

    pub fn with_row_kind(mut self) -> Self {
        self.row_kind = true;
        self
    }

    fn to_json(&self) -> Value {
        let mut case = json!({
            "name": self.name,
            "warehouse": self.warehouse.to_str().expect("warehouse paths are UTF-8"),
            "table": self.table,
            "options": self.options,
            "row_kind": self.row_kind,
        });
        if let Some(id) = self.snapshot {
            case["snapshot"] = json!(id);
        }
        if let Some(tag) = &self.tag {
            case["tag"] = json!(tag);
        }
        if let Some(columns) = &self.columns {
            case["columns"] = json!(columns);
        }
        case
    }
}

/// What one JVM gave: per case its rows (sorted for [`java_read`], in arrival order for
/// Flink) or the exception chain of the case.
#[derive(Debug)]
pub struct BenchRun {
    pub results: BTreeMap<String, Result<Vec<Value>, String>>,
    /// The JVM's wall time (start, class loading and every case).
    pub elapsed: Duration,
    /// What the JVM printed on stderr (a line per case with its row count and time).
    pub stderr: String,
}

impl BenchRun {
    /// The rows of case `name`; panics with the case's exception when it failed.
    pub fn rows(&self, name: &str) -> &[Value] {
        match self.result(name) {
            Ok(rows) => rows,
            Err(error) => panic!("the JVM bench failed on case {name}:\n{error}"),
        }
    }

    /// The rows of case `name`, sorted (for comparing as multisets).
    pub fn sorted(&self, name: &str) -> Vec<Value> {
        sort_rows(self.rows(name).to_vec())
    }

    pub fn result(&self, name: &str) -> &Result<Vec<Value>, String> {
        self.results
            .get(name)
            .unwrap_or_else(|| panic!("no case {name} ran"))
    }

    /// The stderr line of case `name` (`case NAME: 12 rows, quiet in 3456 ms`).
    pub fn line(&self, name: &str) -> &str {
        let prefix = format!("case {name}: ");
        self.stderr
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or("")
    }
}

/// A running JVM of the bench (`Bench SUBCOMMAND SPEC [OUT_DIR]`): its spec, output and stderr
/// live in a directory of its own. Dropped while running, it is killed.
pub struct BenchProcess {
    child: Child,
    dir: tempfile::TempDir,
    /// The cases whose output [`BenchProcess::finish`] collects from the output directory.
    cases: Vec<String>,
    command: String,
    started: Instant,
}

/// How long one JVM may run before it is killed (a hung reader must not hang the test run).
const JVM_TIMEOUT: Duration = Duration::from_secs(600);

impl BenchProcess {
    /// Writes `spec` and starts `java JVM_OPTIONS -cp … Bench SUBCOMMAND SPEC [OUT_DIR]` (the
    /// output directory when there are `cases`, which must have distinct names); returns at
    /// once.
    pub fn spawn(
        bench: &JavaBench,
        jvm_options: &[&str],
        subcommand: &str,
        spec: &Value,
        cases: Vec<String>,
    ) -> Self {
        let mut names = std::collections::BTreeSet::new();
        for case in &cases {
            assert!(names.insert(case), "duplicate case {case}");
        }
        let dir = tempfile::tempdir().unwrap();
        let spec_path = dir.path().join("spec.json");
        std::fs::write(&spec_path, serde_json::to_string_pretty(spec).unwrap()).unwrap();
        let mut command = Command::new(&bench.java);
        command
            .args(["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"])
            .args(jvm_options)
            .arg("-cp")
            .arg(&bench.classpath)
            .arg("dev.streamhouse.bench.Bench")
            .arg(subcommand)
            .arg(&spec_path);
        if !cases.is_empty() {
            command.arg(dir.path().join("out"));
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap());
        let started = Instant::now();
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bench.java.display()));
        BenchProcess {
            child,
            dir,
            cases,
            command: format!("{command:?}"),
            started,
        }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }

    /// Waits until case `name`'s query job runs or its statement's job was submitted
    /// (`NAME.running`); panics after `timeout` or when the JVM ended first.
    pub fn wait_running(&mut self, name: &str, timeout: Duration) {
        let marker = self.out().join(format!("{name}.running"));
        let deadline = Instant::now() + timeout;
        while !marker.exists() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the JVM ended ({status}) before case {name} ran:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "case {name} did not start within {timeout:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the JVM (killed after [`JVM_TIMEOUT`]) and collects every case's output
    /// (`NAME.jsonl`, or `NAME.error` with the exception chain). Panics when the JVM failed or
    /// a case left no output.
    pub fn finish(mut self) -> BenchRun {
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break Some(status);
            }
            if self.started.elapsed() > JVM_TIMEOUT {
                self.child.kill().ok();
                self.child.wait().ok();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = self.started.elapsed();
        let stderr = self.stderr();
        let command = &self.command;
        match status {
            Some(status) => assert!(status.success(), "{command} failed ({status}):\n{stderr}"),
            None => panic!("{command} ran longer than {JVM_TIMEOUT:?} and was killed:\n{stderr}"),
        }
        let out = self.out();
        let mut results = BTreeMap::new();
        for case in &self.cases {
            let rows = out.join(format!("{case}.jsonl"));
            let result = if let Ok(text) =
                std::fs::read_to_string(out.join(format!("{case}.error")))
            {
                Err(text)
            } else {
                let text = std::fs::read_to_string(&rows).unwrap_or_else(|e| {
                    panic!(
                        "case {case}: neither {} nor its .error ({e}); JVM stderr:\n{stderr}",
                        rows.display()
                    )
                });
                Ok(text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|line| {
                        parse_exact(line)
                            .unwrap_or_else(|e| panic!("case {case}: bad JSON line {line:?}: {e}"))
                    })
                    .collect())
            };
            results.insert(case.clone(), result);
        }
        BenchRun {
            results,
            elapsed,
            stderr,
        }
    }
}

impl Drop for BenchProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

/// Reads every case in ONE JVM (`Bench read SPEC OUT_DIR`), each case's rows sorted, and prints
/// the JVM's time and its line per case. Panics
/// when the JVM itself fails (cannot start, bad class path, bad spec) or a case left no output;
/// a case whose read threw is an `Err` with Java's exception chain.
pub fn java_read(bench: &JavaBench, cases: &[ReadCase]) -> BenchRun {
    let spec = json!({ "cases": cases.iter().map(ReadCase::to_json).collect::<Vec<_>>() });
    let names = cases.iter().map(|c| c.name.clone()).collect();
    let mut run = BenchProcess::spawn(bench, &[], "read", &spec, names).finish();
    for rows in run.results.values_mut().flat_map(|r| r.as_mut().ok()) {
        *rows = sort_rows(std::mem::take(rows));
    }
    eprintln!(
        "Paimon Java read {} cases in one JVM in {:.1}s:\n{}",
        cases.len(),
        run.elapsed.as_secs_f64(),
        run.stderr.trim_end()
    );
    run
}

/// A table Paimon's Java writer creates and fills ([`java_write`]).
#[derive(Debug, Clone)]
pub struct WriteTable {
    /// `db.t`.
    pub table: String,
    /// Columns in our syntax (`support::create_table`'s), e.g. `"id BIGINT, v STRING"`.
    pub columns: String,
    pub partition_keys: Vec<String>,
    pub primary_keys: Vec<String>,
    pub options: BTreeMap<String, String>,
    /// Commits in order; each record is a row kind and a canonical row (missing columns null).
    pub commits: Vec<Vec<(String, Value)>>,
}

impl WriteTable {
    pub fn new(table: &str, columns: &str) -> Self {
        WriteTable {
            table: table.to_string(),
            columns: columns.to_string(),
            partition_keys: vec![],
            primary_keys: vec![],
            options: BTreeMap::new(),
            commits: vec![],
        }
    }

    /// A table that exists (written by us or an earlier [`java_write`]): Java only commits.
    pub fn existing(table: &str) -> Self {
        WriteTable::new(table, "")
    }

    pub fn partition_keys(mut self, keys: &[&str]) -> Self {
        self.partition_keys = keys.iter().map(|k| k.to_string()).collect();
        self
    }

    pub fn primary_keys(mut self, keys: &[&str]) -> Self {
        self.primary_keys = keys.iter().map(|k| k.to_string()).collect();
        self
    }

    pub fn option(mut self, key: &str, value: &str) -> Self {
        self.options.insert(key.to_string(), value.to_string());
        self
    }

    pub fn commit(mut self, records: &[(&str, Value)]) -> Self {
        self.commits.push(
            records
                .iter()
                .map(|(kind, row)| (kind.to_string(), row.clone()))
                .collect(),
        );
        self
    }

    /// [`WriteTable::commit`] of each of `commits`, in order.
    pub fn commits(self, commits: &[Vec<(&str, Value)>]) -> Self {
        commits.iter().fold(self, |table, c| table.commit(c))
    }

    fn to_json(&self) -> Value {
        let fields: Vec<Value> = if self.columns.is_empty() {
            vec![]
        } else {
            streamhouse_format::types::parse_columns(&self.columns)
                .unwrap_or_else(|e| panic!("{}: columns {:?}: {e}", self.table, self.columns))
                .into_iter()
                .enumerate()
                .map(|(i, (name, ty))| {
                    streamhouse_format::types::DataField::new(i as i32, name, ty).to_json()
                })
                .collect()
        };
        let commits: Vec<Vec<Value>> = self
            .commits
            .iter()
            .map(|records| {
                records
                    .iter()
                    .map(|(kind, row)| {
                        let mut row = row.clone();
                        row.as_object_mut()
                            .expect("rows are JSON objects")
                            .insert("rowkind".into(), json!(kind));
                        row
                    })
                    .collect()
            })
            .collect();
        if self.columns.is_empty() {
            return json!({"table": self.table, "options": self.options, "commits": commits});
        }
        json!({
            "table": self.table,
            "fields": fields,
            "partition_keys": self.partition_keys,
            "primary_keys": self.primary_keys,
            "options": self.options,
            "commits": commits,
        })
    }
}

/// Creates and fills `tables` in the filesystem warehouse `warehouse` with Paimon's Java writer,
/// in ONE JVM (`Bench write SPEC`): one `BatchWriteBuilder` commit per entry of `commits`
/// (Java may add compaction commits of its own). Panics with the JVM's stderr when it fails.
pub fn java_write(bench: &JavaBench, warehouse: &Path, tables: &[WriteTable]) -> Duration {
    let tables: Vec<Value> = tables.iter().map(WriteTable::to_json).collect();
    let warehouse = warehouse.to_str().expect("warehouse paths are UTF-8");
    let spec = json!({"warehouse": warehouse, "tables": tables});
    BenchProcess::spawn(bench, &[], "write", &spec, vec![])
        .finish()
        .elapsed
}

/// Marks a float's text inside a string while `parse_exact` parses a line.
const FLOAT_MARK: &str = "\u{fdd0}streamhouse-float:";

/// Parses one JSON line; unlike `serde_json::from_str` (built without `float_roundtrip`, whose
/// best-effort float parsing can land one ulp off, e.g. on `3.4028234663852886E38`), every
/// non-integer number becomes the f64 nearest to its text, as Rust's `str::parse` finds it.
pub fn parse_exact(line: &str) -> Result<Value, String> {
    let mut marked = String::with_capacity(line.len() + 16);
    let mut chars = line.char_indices().peekable();
    let mut in_string = false;
    while let Some((i, c)) = chars.next() {
        if in_string {
            marked.push(c);
            match c {
                '\\' => marked.extend(chars.next().map(|(_, e)| e)),
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '-' || c.is_ascii_digit() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !(d.is_ascii_digit() || matches!(d, '.' | 'e' | 'E' | '+' | '-')) {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            let token = &line[i..end];
            if token.contains(['.', 'e', 'E']) {
                marked.push_str(&format!("\"{FLOAT_MARK}{token}\""));
            } else {
                marked.push_str(token);
            }
        } else {
            in_string = c == '"';
            marked.push(c);
        }
    }
    fn restore(value: Value) -> Result<Value, String> {
        Ok(match value {
            Value::String(s) => match s.strip_prefix(FLOAT_MARK) {
                Some(token) => {
                    let x: f64 = token.parse().map_err(|e| format!("number {token}: {e}"))?;
                    Value::Number(serde_json::Number::from_f64(x).ok_or(format!("number {token}"))?)
                }
                None => Value::String(s),
            },
            Value::Array(items) => {
                Value::Array(items.into_iter().map(restore).collect::<Result<_, _>>()?)
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| Ok((k, restore(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other,
        })
    }
    restore(serde_json::from_str(&marked).map_err(|e| e.to_string())?)
}

/// Canonical rows of Arrow batches like `interop_support::arrow_rows_canonical`, also for
/// nested columns (List, Map, Struct; see the module doc), sorted.
pub fn canonical_rows(batches: &[RecordBatch], schema: &Schema) -> Vec<Value> {
    let mut rows = Vec::new();
    for batch in batches {
        assert_eq!(batch.num_columns(), schema.fields().len());
        let columns: Vec<Vec<Value>> = batch.columns().iter().map(nested_values).collect();
        for row in 0..batch.num_rows() {
            let object: Map<String, Value> = schema
                .fields()
                .iter()
                .zip(&columns)
                .map(|(f, c)| (f.name().clone(), c[row].clone()))
                .collect();
            rows.push(Value::Object(object));
        }
    }
    sort_rows(rows)
}

/// Canonical values of one array, one per slot, nested types included.
pub fn nested_values(array: &ArrayRef) -> Vec<Value> {
    let present = |i: usize| !array.is_null(i);
    match array.data_type() {
        DataType::List(_) => list_values(array.as_list::<i32>()),
        DataType::LargeList(_) => list_values(array.as_list::<i64>()),
        DataType::Map(_, _) => {
            let map = array.as_map();
            (0..map.len())
                .map(|i| {
                    if !present(i) {
                        return Value::Null;
                    }
                    let entries = map.value(i);
                    let keys = nested_values(entries.column(0));
                    let values = nested_values(entries.column(1));
                    Value::Object(
                        keys.into_iter()
                            .map(|k| match k {
                                Value::String(s) => s,
                                other => row_line(&other),
                            })
                            .zip(values)
                            .collect(),
                    )
                })
                .collect()
        }
        DataType::Struct(fields) => {
            let row = array.as_struct();
            let children: Vec<Vec<Value>> = row.columns().iter().map(nested_values).collect();
            (0..row.len())
                .map(|i| {
                    if !present(i) {
                        return Value::Null;
                    }
                    Value::Object(
                        fields
                            .iter()
                            .zip(&children)
                            .map(|(f, c)| (f.name().clone(), c[i].clone()))
                            .collect(),
                    )
                })
                .collect()
        }
        _ => column_values(array),
    }
}

/// Canonical values of a list array: a JSON array per slot, or null.
fn list_values<O: OffsetSizeTrait>(list: &GenericListArray<O>) -> Vec<Value> {
    (0..list.len())
        .map(|i| match list.is_null(i) {
            true => Value::Null,
            false => Value::Array(nested_values(&list.value(i))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parse_exact_takes_the_nearest_double_and_leaves_strings_alone() {
        let line = r#"{"f":3.4028234663852886E38,"s":"x 1.5 \" 2e3 \\","n":-7,"l":[1.0,-0.0,5e-324],"m":{"k":-1.5e-300}}"#;
        let parsed = parse_exact(line).unwrap();
        assert_eq!(parsed["f"].as_f64(), Some(f64::from(f32::MAX)));
        assert_eq!(parsed["s"], json!("x 1.5 \" 2e3 \\"));
        assert_eq!(parsed["n"], json!(-7));
        assert_eq!(parsed["l"], json!([1.0, -0.0, 5e-324]));
        assert_eq!(parsed["m"]["k"].as_f64(), Some(-1.5e-300));
        assert!(parse_exact("{\"a\":").is_err());
    }
}
