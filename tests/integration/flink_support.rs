//! Flink SQL in the JVM bench (`Bench flink SPEC OUT_DIR`, `tests/jvm/.../FlinkCommand.java`):
//! Flink 1.20 with Paimon's Flink connector 1.3.1 on one local mini-cluster (parallelism 2,
//! checkpoints every second in streaming mode) with a Paimon catalog over one warehouse. One
//! JVM runs every case of a test, in order:
//!
//! ```ignore
//! let Some(bench) = java_support::java_bench() else { return };
//! let cases = vec![
//!     FlinkCase::batch("pk", "SELECT * FROM db.pk"),
//!     FlinkCase::streaming("pk_changes", "SELECT * FROM db.pk /*+ OPTIONS(...) */").min_rows(10),
//! ];
//! let flink = flink_run(&bench, warehouse, &cases);
//! ```
//!
//! Rows come back in the canonical form of `java_support` (`FlinkCanonical.java` renders Flink's
//! external values the same way), streaming rows with `rowkind`.
#![allow(dead_code)] // each test module uses a different subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::interop_support::sort_rows;
use crate::java_support::{parse_exact, JavaBench};

/// One case: statements run to their end, then an optional query whose rows are the output.
#[derive(Debug, Clone)]
pub struct FlinkCase {
    pub name: String,
    pub streaming: bool,
    pub statements: Vec<String>,
    /// DDL run in the query's environment first (e.g. a temporary datagen table).
    pub query_setup: Vec<String>,
    pub query: Option<String>,
    pub row_kind: Option<bool>,
    pub arrival: bool,
    pub min_rows: u64,
    pub max_rows: Option<u64>,
    pub quiet: Duration,
    pub timeout: Duration,
    /// The case starts only once this file exists (bounded by `timeout`).
    pub await_file: Option<PathBuf>,
}

impl FlinkCase {
    fn new(name: &str, streaming: bool) -> Self {
        FlinkCase {
            name: name.to_string(),
            streaming,
            statements: vec![],
            query_setup: vec![],
            query: None,
            row_kind: None,
            arrival: false,
            min_rows: 0,
            max_rows: None,
            quiet: Duration::from_secs(3),
            timeout: Duration::from_secs(60),
            await_file: None,
        }
    }

    /// A batch query (runs to its end).
    pub fn batch(name: &str, query: &str) -> Self {
        FlinkCase::new(name, false).query(query)
    }

    /// A streaming query: ends after `quiet` without a row once it has `min_rows`, after
    /// `max_rows`, or at `timeout`; rows carry `rowkind`.
    pub fn streaming(name: &str, query: &str) -> Self {
        FlinkCase::new(name, true).query(query)
    }

    /// Statements only (DDL, INSERT, CALL), in batch or streaming mode.
    pub fn statements(name: &str, streaming: bool, statements: &[&str]) -> Self {
        let mut case = FlinkCase::new(name, streaming);
        case.statements = statements.iter().map(|s| s.to_string()).collect();
        case
    }

    pub fn query(mut self, query: &str) -> Self {
        self.query = Some(query.to_string());
        self
    }

    pub fn min_rows(mut self, n: u64) -> Self {
        self.min_rows = n;
        self
    }

    pub fn max_rows(mut self, n: u64) -> Self {
        self.max_rows = Some(n);
        self
    }

    pub fn quiet(mut self, quiet: Duration) -> Self {
        self.quiet = quiet;
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn query_setup(mut self, statements: &[&str]) -> Self {
        self.query_setup = statements.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Starts the case only once `path` exists (the test creates it when it is ready).
    pub fn await_file(mut self, path: &Path) -> Self {
        self.await_file = Some(path.to_path_buf());
        self
    }

    /// Streaming rows without `rowkind` (e.g. an insert-only join).
    pub fn without_row_kind(mut self) -> Self {
        self.row_kind = Some(false);
        self
    }

    pub fn with_arrival(mut self) -> Self {
        self.arrival = true;
        self
    }

    fn to_json(&self) -> Value {
        let mut case = json!({
            "name": self.name,
            "mode": if self.streaming { "streaming" } else { "batch" },
            "statements": self.statements,
            "query_setup": self.query_setup,
            "arrival": self.arrival,
            "min_rows": self.min_rows,
            "quiet_ms": self.quiet.as_millis() as u64,
            "timeout_ms": self.timeout.as_millis() as u64,
        });
        if let Some(query) = &self.query {
            case["query"] = json!(query);
        }
        if let Some(kind) = self.row_kind {
            case["row_kind"] = json!(kind);
        }
        if let Some(n) = self.max_rows {
            case["max_rows"] = json!(n);
        }
        if let Some(path) = &self.await_file {
            case["await_file"] = json!(path.to_str().expect("paths are UTF-8"));
        }
        case
    }
}

/// What one Flink JVM gave: per case its rows in arrival order, or Flink's exception chain.
#[derive(Debug)]
pub struct FlinkRun {
    pub results: BTreeMap<String, Result<Vec<Value>, String>>,
    pub elapsed: Duration,
    /// One line per case (rows, time, how its query ended), and the mini-cluster's start.
    pub stderr: String,
}

impl FlinkRun {
    /// The rows of case `name` in arrival order; panics with Flink's exception when it failed.
    pub fn rows(&self, name: &str) -> &[Value] {
        match self.result(name) {
            Ok(rows) => rows,
            Err(error) => panic!("Flink failed on case {name}:\n{error}"),
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

/// A running Flink JVM ([`flink_spawn`]).
pub struct FlinkProcess {
    child: Child,
    dir: tempfile::TempDir,
    cases: Vec<FlinkCase>,
    started: Instant,
}

impl FlinkProcess {
    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Waits until case `name`'s query job runs or its statement's job was submitted
    /// (`NAME.running`); panics after `timeout` or when the JVM ended first.
    pub fn wait_running(&mut self, name: &str, timeout: Duration) {
        let marker = self.out().join(format!("{name}.running"));
        let deadline = Instant::now() + timeout;
        while !marker.exists() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the Flink JVM ended ({status}) before case {name} ran:\n{}",
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

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }

    /// Waits for the JVM (killed after [`JVM_TIMEOUT`]) and collects every case's output.
    pub fn finish(mut self) -> FlinkRun {
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
        match status {
            Some(status) => assert!(
                status.success(),
                "the Flink JVM failed ({status}):\n{stderr}"
            ),
            None => {
                panic!("the Flink JVM ran longer than {JVM_TIMEOUT:?} and was killed:\n{stderr}")
            }
        }
        let out = self.out();
        let mut results = BTreeMap::new();
        for case in &self.cases {
            let rows = out.join(format!("{}.jsonl", case.name));
            let error = out.join(format!("{}.error", case.name));
            let result = if let Ok(text) = std::fs::read_to_string(&error) {
                Err(text)
            } else {
                let text = std::fs::read_to_string(&rows).unwrap_or_else(|e| {
                    panic!(
                        "case {}: neither {} nor its .error ({e}); JVM stderr:\n{stderr}",
                        case.name,
                        rows.display()
                    )
                });
                Ok(text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|line| {
                        parse_exact(line).unwrap_or_else(|e| {
                            panic!("case {}: bad JSON line {line:?}: {e}", case.name)
                        })
                    })
                    .collect())
            };
            results.insert(case.name.clone(), result);
        }
        FlinkRun {
            results,
            elapsed,
            stderr,
        }
    }
}

impl Drop for FlinkProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

/// How long one Flink JVM may run before it is killed.
const JVM_TIMEOUT: Duration = Duration::from_secs(600);

/// Starts ONE JVM running every case against the catalog over `warehouse`; returns at once.
pub fn flink_spawn(bench: &JavaBench, warehouse: &Path, cases: &[FlinkCase]) -> FlinkProcess {
    let mut names = std::collections::BTreeSet::new();
    for case in cases {
        assert!(
            names.insert(case.name.as_str()),
            "duplicate case {}",
            case.name
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.json");
    let out = dir.path().join("out");
    let cases_json: Vec<Value> = cases.iter().map(FlinkCase::to_json).collect();
    let spec_json = json!({
        "warehouse": warehouse.to_str().expect("warehouse paths are UTF-8"),
        "parallelism": 2,
        "checkpoint_ms": 1000,
        "cases": cases_json,
    });
    std::fs::write(&spec, serde_json::to_string_pretty(&spec_json).unwrap()).unwrap();
    let mut command = Command::new(&bench.java);
    command
        .args([
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Xmx1g",
            "-cp",
        ])
        .arg(&bench.classpath)
        .arg("dev.streamhouse.bench.Bench")
        .arg("flink")
        .arg(&spec)
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap());
    let started = Instant::now();
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bench.java.display()));
    FlinkProcess {
        child,
        dir,
        cases: cases.to_vec(),
        started,
    }
}

/// Runs every case in ONE JVM and waits for it (see [`flink_spawn`]).
pub fn flink_run(bench: &JavaBench, warehouse: &Path, cases: &[FlinkCase]) -> FlinkRun {
    flink_spawn(bench, warehouse, cases).finish()
}

/// `/*+ OPTIONS('k' = 'v', …) */` for a table reference.
pub fn hints(options: &[(&str, &str)]) -> String {
    let list: Vec<String> = options
        .iter()
        .map(|(k, v)| format!("'{k}' = '{v}'"))
        .collect();
    format!("/*+ OPTIONS({}) */", list.join(", "))
}
