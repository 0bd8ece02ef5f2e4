//! `streamhouse tail` and `streamhouse write --follow`, and the change feed behind them:
//! the CLI as a user runs it (including kill -9 of a consumer while a writer streams), the feed
//! of real writers and compactors for every changelog producer, and pypaimon's streaming read
//! of the same tables.

use std::io::Write;

use serde_json::Value;

use streamhouse_test_support as interop_support;

use crate::harness::{json_lines, wait_for, Wh};

mod commands;
mod feed;
mod interop;
mod kill;
mod kv;

/// `write db.t --format json --follow --commit-interval <interval>`, running: JSON lines go to
/// its [`stdin`](crate::harness::Running::stdin).
fn follow_writer(wh: &Wh, interval: &str) -> crate::harness::Running {
    wh.spawn(&[
        "write",
        "db.t",
        "--format",
        "json",
        "--follow",
        "--commit-interval",
        interval,
    ])
}
