//! Running the `streamhouse` CLI binary as separate processes (for concurrency and crash
//! tests), and a small seeded random generator so that "random moments" repeat.
//!
//! The binary is `target/debug/streamhouse`, next to this test binary's `deps/` directory;
//! `cargo test --workspace` (what `tests/run.sh` runs) builds it for the CLI's own tests before
//! any test runs. Running only this crate's tests needs `cargo build -p streamhouse-cli` first;
//! without the binary the process tests skip loudly (and fail under CI).
#![allow(dead_code)] // each test module uses a different subset

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The CLI binary, or `None` (with a note; a panic under CI) when it has not been built.
pub fn cli_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?;
    let bin = dir.join(format!("streamhouse{}", std::env::consts::EXE_SUFFIX));
    if bin.is_file() {
        return Some(bin);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    if ci {
        panic!(
            "{} is missing: `cargo test --workspace` builds it (under CI this is a failure)",
            bin.display()
        );
    }
    eprintln!(
        "\n*** SKIPPED: {} is missing; run `cargo build -p streamhouse-cli` (or `bash tests/run.sh`). ***\n",
        bin.display()
    );
    None
}

/// A `streamhouse --warehouse <warehouse> <args>` command with piped stdio.
pub fn cli(bin: &PathBuf, warehouse: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.arg("--warehouse")
        .arg(warehouse)
        .args(args)
        .env_remove("STREAMHOUSE_WAREHOUSE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs `cmd` to the end and asserts that it succeeded (its stderr in the message); its stdout.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `streamhouse --warehouse <warehouse> <args>` run to a successful end; its stdout.
pub fn cli_ok(bin: &PathBuf, warehouse: &str, args: &[&str]) -> String {
    stdout_of(&mut cli(bin, warehouse, args))
}

/// Runs a command to the end with `input` on stdin.
pub fn run_with_input(mut cmd: Command, input: Vec<u8>) -> Output {
    let mut child = cmd.spawn().expect("start streamhouse");
    feed(&mut child, input);
    child.wait_with_output().expect("wait for streamhouse")
}

/// Writes `input` to the child's stdin on a thread, then closes it.
pub fn feed(child: &mut Child, input: Vec<u8>) {
    if let Some(mut stdin) = child.stdin.take() {
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
}

/// Snapshot ids from a write's "committed snapshot N" / "committed snapshots N, M" line.
pub fn committed_ids(stdout: &str) -> Vec<i64> {
    stdout
        .lines()
        .filter_map(|l| {
            l.strip_prefix("committed snapshots ")
                .or_else(|| l.strip_prefix("committed snapshot "))
        })
        .flat_map(|rest| {
            rest.split(',')
                .filter_map(|n| n.trim().parse::<i64>().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Sends a signal (by its number) to a process we started.
pub fn signal(child: &Child, sig: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status();
}

/// Waits for a child for at most `limit`; kills it (-9) when it takes longer.
pub fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break,
        }
    }
    child.wait_with_output().expect("wait for streamhouse")
}

/// A seeded xorshift generator: the same seed gives the same "random" moments.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// JSON lines of `{"w": w, "seq": s, "v": v}` for `seqs`.
pub fn json_rows(w: i64, seqs: std::ops::Range<i64>, v: &str) -> Vec<u8> {
    let mut out = vec![];
    for s in seqs {
        out.extend_from_slice(format!("{{\"w\": {w}, \"seq\": {s}, \"v\": \"{v}\"}}\n").as_bytes());
    }
    out
}
