//! `streamhouse tail` and `streamhouse write --follow`, and the change feed behind them:
//! the CLI as a user runs it (including kill -9 of a consumer while a writer streams), the feed
//! of real writers and compactors for every changelog producer, and pypaimon's streaming read
//! of the same tables.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

use streamhouse_test_support as interop_support;

mod commands;
mod feed;
mod interop;
mod kill;

const BIN: &str = env!("CARGO_BIN_EXE_streamhouse");

/// A temporary warehouse driven through the binary.
struct Wh {
    dir: tempfile::TempDir,
}

impl Wh {
    fn new() -> Self {
        Wh {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn warehouse(&self) -> PathBuf {
        self.dir.path().join("wh")
    }

    fn table_dir(&self, table: &str) -> PathBuf {
        let id = streamhouse::Identifier::parse(table).expect("db.table");
        self.warehouse()
            .join(format!("{}.db", id.database))
            .join(&id.table)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--warehouse")
            .arg(self.warehouse())
            .args(args)
            .env_remove("STREAMHOUSE_WAREHOUSE");
        cmd
    }

    fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run streamhouse");
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.to_vec();
        let feeder = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().expect("wait for streamhouse");
        let _ = feeder.join();
        out
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str], stdin: &[u8]) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "streamhouse {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs a command that must fail with `code`; returns its stderr.
    fn fails(&self, code: i32, args: &[&str], stdin: &[u8]) -> String {
        let out = self.run(args, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "streamhouse {args:?}: {stderr}"
        );
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }

    fn create(&self, table: &str, schema: &str, extra: &[&str]) {
        let mut args = vec!["create", table, "--schema", schema];
        args.extend_from_slice(extra);
        self.ok(&args, b"");
    }

    fn write_json(&self, table: &str, lines: &str) -> String {
        self.ok(&["write", table, "--format", "json"], lines.as_bytes())
    }

    /// `tail ... --output json` to its end, as parsed lines.
    fn tail_json(&self, table: &str, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["tail", table, "--output", "json"];
        args.extend_from_slice(extra);
        json_lines(&self.ok(&args, b""))
    }
}

/// A child process that is killed when dropped (a failing test leaves nothing running).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends SIGINT (Ctrl-C) or SIGTERM to a process.
fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{sig} failed");
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// Reads complete lines from a child's stdout on a thread, handing each to `on_line` (with the
/// time it arrived); a last line cut off without a newline is dropped.
fn read_lines<R: std::io::Read + Send + 'static>(
    from: R,
    mut on_line: impl FnMut(String) + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if line.ends_with('\n') => on_line(line.trim_end().to_string()),
                Ok(_) => break,
            }
        }
    })
}

fn table_path(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}
