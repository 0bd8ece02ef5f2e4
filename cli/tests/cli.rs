//! The `streamhouse` binary against temporary warehouses: what a user types, what they see.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod bad_input;
mod commands;
mod round_trip;

const BIN: &str = env!("CARGO_BIN_EXE_streamhouse");

struct Wh {
    dir: tempfile::TempDir,
}

impl Wh {
    fn new() -> Self {
        Wh {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, content).expect("write input file");
        p
    }

    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.arg("--warehouse")
            .arg(self.path().join("wh"))
            .args(args)
            .env_remove("STREAMHOUSE_WAREHOUSE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run streamhouse");
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.unwrap_or_default().to_vec();
        let feeder = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().expect("wait for streamhouse");
        let _ = feeder.join();
        out
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str], stdin: Option<&[u8]>) -> String {
        let out = self.run(args, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "streamhouse {args:?} failed: {stderr}"
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs a command that must fail with exit code `code`; returns its stderr.
    fn fails(&self, code: i32, args: &[&str], stdin: Option<&[u8]>) -> String {
        let out = self.run(args, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "streamhouse {args:?}: {stderr}"
        );
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("internal error"),
            "{stderr}"
        );
        stderr
    }

    fn create(&self, table: &str, schema: &str, extra: &[&str]) {
        let mut args = vec!["create", table, "--schema", schema];
        args.extend_from_slice(extra);
        self.ok(&args, None);
    }

    fn write(&self, table: &str, format: &str, input: &str) -> String {
        self.ok(
            &["write", table, "--format", format],
            Some(input.as_bytes()),
        )
    }

    fn scan_json(&self, table: &str, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["scan", table, "--output", "json"];
        args.extend_from_slice(extra);
        json_lines(&self.ok(&args, None))
    }

    fn snapshot_count(&self, table: &str) -> usize {
        self.ok(&["snapshots", table, "--output", "json"], None)
            .lines()
            .count()
    }

    /// Parquet files under the table directory (committed or not).
    fn data_files(&self, table: &str) -> usize {
        let id = streamhouse::Identifier::parse(table).expect("db.table");
        count_files(
            &self
                .path()
                .join("wh")
                .join(format!("{}.db", id.database))
                .join(&id.table),
            ".parquet",
        )
    }
}

fn count_files(dir: &Path, suffix: &str) -> usize {
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

fn json_lines(text: &str) -> Vec<Value> {
    let mut rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect();
    rows.sort_by_key(|r| r.get("id").and_then(Value::as_i64).unwrap_or(i64::MAX));
    rows
}
