//! The CLI's tests, one binary (one link step) split by command: each module runs the
//! `streamhouse` binary as a user does.

mod cli;
mod get;
mod maintenance;
mod nested_parquet;
mod range_scan;
mod stats;
mod tail;

use std::path::Path;
use std::process::{Command, Output};

/// The `streamhouse` binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_streamhouse");

/// Runs `streamhouse --warehouse <wh> <args>` to the end (no standard input).
fn streamhouse(wh: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--warehouse")
        .arg(wh)
        .args(args)
        .env_remove("STREAMHOUSE_WAREHOUSE")
        .output()
        .expect("run streamhouse")
}

/// Like [`streamhouse`]; fails the test unless the command succeeded; returns its stdout.
fn ok(wh: &Path, args: &[&str]) -> String {
    let out = streamhouse(wh, args);
    assert!(
        out.status.success(),
        "streamhouse {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}
