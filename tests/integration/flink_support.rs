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

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

/// A running Flink JVM and what it gave: the bench's process and run.
pub use crate::java_support::{BenchProcess as FlinkProcess, BenchRun as FlinkRun};
use crate::java_support::{BenchProcess, JavaBench};

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

/// Starts ONE JVM running every case against the catalog over `warehouse`; returns at once.
pub fn flink_spawn(bench: &JavaBench, warehouse: &Path, cases: &[FlinkCase]) -> FlinkProcess {
    let spec = json!({
        "warehouse": warehouse.to_str().expect("warehouse paths are UTF-8"),
        "parallelism": 2,
        "checkpoint_ms": 1000,
        "cases": cases.iter().map(FlinkCase::to_json).collect::<Vec<_>>(),
    });
    let names = cases.iter().map(|c| c.name.clone()).collect();
    BenchProcess::spawn(bench, &["-Xmx1g"], "flink", &spec, names)
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
