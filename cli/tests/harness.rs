//! What every CLI test module shares: [`Wh`], a temporary warehouse driven through the
//! `streamhouse` binary (run a command, assert on its exit code and stderr, create a table,
//! write rows), and helpers for what the commands print.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use streamhouse_test_support::count_files;

/// The `streamhouse` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_streamhouse");

/// A temporary directory with a warehouse in it (`<dir>/wh`, or any location given to
/// [`Wh::at`]); input files go in the directory.
pub struct Wh {
    dir: tempfile::TempDir,
    warehouse: PathBuf,
}

impl Wh {
    pub fn new() -> Wh {
        let dir = tempfile::tempdir().expect("temp dir");
        let warehouse = dir.path().join("wh");
        Wh { dir, warehouse }
    }

    /// A fresh warehouse holding one table, made by [`Wh::create`].
    pub fn with_table(table: &str, schema: &str, extra: &str) -> Wh {
        let wh = Wh::new();
        wh.create(table, schema, extra);
        wh
    }

    /// A warehouse at `location` (`memory://…`, …) instead of one in the directory.
    pub fn at(location: &str) -> Wh {
        Wh {
            warehouse: PathBuf::from(location),
            ..Wh::new()
        }
    }

    /// The temporary directory (input and output files).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The directory of table `db.table`.
    pub fn table_dir(&self, table: &str) -> PathBuf {
        let id = streamhouse::Identifier::parse(table).expect("db.table");
        self.warehouse
            .join(format!("{}.db", id.database))
            .join(&id.table)
    }

    /// Writes `content` into file `name` of the directory; returns its path (as an argument).
    pub fn file(&self, name: &str, content: impl AsRef<[u8]>) -> String {
        let p = self.path().join(name);
        std::fs::write(&p, content).expect("write input file");
        p.to_str().expect("utf-8 path").to_string()
    }

    /// `streamhouse --warehouse <wh> <args>`, not started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--warehouse")
            .arg(&self.warehouse)
            .args(args)
            .env_remove("STREAMHOUSE_WAREHOUSE");
        cmd
    }

    /// Starts a command with piped stdin and stdout.
    fn start(&self, args: &[&str], stderr: Stdio) -> Child {
        let mut command = self.command(args);
        command.stdin(Stdio::piped()).stdout(Stdio::piped());
        command.stderr(stderr).spawn().expect("start streamhouse")
    }

    /// Starts a command in the background.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut child = self.start(args, Stdio::null());
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(vec![]));
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while matches!(reader.read_line(&mut line), Ok(n) if n > 0) && line.ends_with('\n') {
                sink.lock()
                    .expect("lines")
                    .push(line.trim_end().to_string());
                line.clear();
            }
        });
        Running {
            child,
            lines,
            reader: Some(reader),
        }
    }

    /// Runs a command to its end with `stdin` as its standard input.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self.start(args, Stdio::piped());
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
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_stdin(args, b"")
    }

    /// [`ok`](Self::ok) with `stdin` as the standard input.
    pub fn ok_stdin(&self, args: &[&str], stdin: impl AsRef<[u8]>) -> String {
        succeeded(self.run(args, stdin.as_ref()), args)
    }

    /// Runs a command that must fail with exit code `code` and one clean `error:` message (no
    /// panic); returns its stderr.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        self.fails_stdin(code, args, b"")
    }

    /// [`fails`](Self::fails) with `stdin` as the standard input.
    pub fn fails_stdin(&self, code: i32, args: &[&str], stdin: impl AsRef<[u8]>) -> String {
        let out = self.run(args, stdin.as_ref());
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

    /// `create <table> --schema <schema> <extra>`; `extra` is split at white space
    /// (`"--primary-key id --option bucket=2"`).
    pub fn create(&self, table: &str, schema: &str, extra: &str) {
        let mut args = vec!["create", table, "--schema", schema];
        args.extend(extra.split_whitespace());
        self.ok(&args);
    }

    /// `write <table> --format <format>` of `input` on stdin; returns what it printed.
    pub fn write(&self, table: &str, format: &str, input: impl AsRef<[u8]>) -> String {
        self.ok_stdin(&["write", table, "--format", format], input)
    }

    /// `write <table> --input <file>` of `content` saved as file `name` (the format is the
    /// file's extension); returns what it printed.
    pub fn write_file(&self, table: &str, name: &str, content: impl AsRef<[u8]>) -> String {
        self.ok(&["write", table, "--input", &self.file(name, content)])
    }

    /// `scan <table> --output json <extra>`: the rows, by `id`.
    pub fn scan_json(&self, table: &str, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["scan", table, "--output", "json"];
        args.extend_from_slice(extra);
        by_id(json_lines(&self.ok(&args)))
    }

    /// `tail <table> --output json <extra>` to its end: the changes in the order printed.
    pub fn tail_json(&self, table: &str, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["tail", table, "--output", "json"];
        args.extend_from_slice(extra);
        json_lines(&self.ok(&args))
    }

    /// How many snapshots `snapshots <table>` lists.
    pub fn snapshot_count(&self, table: &str) -> usize {
        self.ok(&["snapshots", table, "--output", "json"])
            .lines()
            .count()
    }

    /// Parquet files under the table directory (committed or not).
    pub fn data_files(&self, table: &str) -> usize {
        count_files(&self.table_dir(table), ".parquet")
    }
}

/// The stdout of a command that must have succeeded (`args` name it in the failure).
pub fn succeeded(out: Output, args: &[&str]) -> String {
    assert!(
        out.status.success(),
        "streamhouse {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// JSON lines (blank lines skipped) as values, in order.
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// Rows sorted by their `id` field (rows without one last).
pub fn by_id(mut rows: Vec<Value>) -> Vec<Value> {
    rows.sort_by_key(|r| r.get("id").and_then(Value::as_i64).unwrap_or(i64::MAX));
    rows
}

/// The `id` of every JSON line, sorted.
pub fn ids(text: &str) -> Vec<i64> {
    let mut out: Vec<i64> = json_lines(text)
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect();
    out.sort_unstable();
    out
}

/// The lines of `text`, sorted (output whose row order is not specified).
pub fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// A `streamhouse` command running in the background ([`Wh::spawn`]): its standard input is
/// a pipe, its stdout lines are collected as they arrive, its stderr is dropped. It is killed
/// when dropped (a failing test leaves nothing running).
pub struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// The pipe to its standard input (once); dropping it closes the input.
    pub fn stdin(&mut self) -> ChildStdin {
        self.child.stdin.take().expect("stdin")
    }

    /// The complete lines it printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    /// Sends SIGINT (Ctrl-C) or SIGTERM.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([format!("-{sig}"), self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{sig} failed");
    }

    /// kill -9.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill -9");
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        self.child.try_wait().expect("status").is_some()
    }

    /// Waits for it to exit and for its output to be read: its exit status and every complete
    /// line it printed (a last line cut off without a newline is dropped).
    pub fn finish(&mut self) -> (ExitStatus, Vec<String>) {
        let status = self.child.wait().expect("wait for streamhouse");
        if let Some(reader) = self.reader.take() {
            reader.join().expect("stdout reader");
        }
        (status, self.lines())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `f` holds (or panics after 20 s).
pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
