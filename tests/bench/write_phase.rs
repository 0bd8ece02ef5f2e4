//! Workload W, load and upsert with the table's default options: what `Table::writer()` (and
//! `streamhouse write`) does for a primary-key table with fixed buckets — each commit, then
//! in-writer compaction of the buckets it wrote in the background (`num-sorted-run.*`
//! backpressure). Reports each phase's time, the object-store requests of every commit, and
//! the sorted runs per bucket the table is left with.

use std::time::Instant;

use arrow::array::RecordBatch;
use streamhouse_compaction::{CompactingWriter, CompactionStats, Compactor};
use streamhouse_format::io::metrics::{MetricsSnapshot, StoreMetrics};
use streamhouse_format::io::Table;

use crate::Row;

/// What the default-options write did.
pub struct WriteRun {
    /// Seconds from the first write to the last load commit's return.
    pub load_s: f64,
    /// Seconds per upsert round (write + commit).
    pub rounds: Vec<f64>,
    /// Seconds `close` waited for compaction still running after the last commit.
    pub close_s: f64,
    pub stats: CompactionStats,
    /// Requests of each load commit, from its write to its return (background compaction
    /// requests made meanwhile included).
    pub load_commits: Vec<MetricsSnapshot>,
    /// Requests of the whole load and upsert phases, compaction and close included.
    pub total: MetricsSnapshot,
    /// Sorted runs per bucket of the latest snapshot after close.
    pub runs: Vec<usize>,
}

/// Loads `load` (one commit per batch) and upserts `upserts` (one commit per round) through a
/// [`CompactingWriter`], then waits for its compaction.
pub async fn default_options(
    table: &Table,
    metrics: &StoreMetrics,
    load: &[RecordBatch],
    upserts: &[RecordBatch],
) -> WriteRun {
    let begin = metrics.snapshot();
    let mut w = CompactingWriter::new(table.clone()).await.expect("writer");
    let start = Instant::now();
    let mut load_commits = vec![];
    for b in load {
        let before = metrics.snapshot();
        w.write(b).await.expect("write");
        w.commit().await.expect("commit");
        load_commits.push(metrics.snapshot().since(&before));
    }
    let load_s = start.elapsed().as_secs_f64();
    let mut rounds = vec![];
    for b in upserts {
        let start = Instant::now();
        w.write(b).await.expect("write");
        w.commit().await.expect("commit");
        rounds.push(start.elapsed().as_secs_f64());
    }
    let start = Instant::now();
    let stats = w.close().await.expect("close");
    let close_s = start.elapsed().as_secs_f64();
    let total = metrics.snapshot().since(&begin);
    let (_, levels) = Compactor::new(table.clone())
        .expect("compactor")
        .bucket_levels(None)
        .await
        .expect("levels");
    let runs = levels.iter().map(|l| l.run_count()).collect();
    WriteRun {
        load_s,
        rounds,
        close_s,
        stats,
        load_commits,
        total,
        runs,
    }
}

/// Median of the request counts, and the commit whose count it is.
pub fn median_commit(commits: &[MetricsSnapshot]) -> MetricsSnapshot {
    let mut sorted = commits.to_vec();
    sorted.sort_by_key(|c| c.total_requests());
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// The full read of the default-options table: 2.5 M rows and the generator's sum of `amount`.
pub async fn check(table: &Table, rows: u64, sum: f64, report: &mut Vec<Row>) -> bool {
    let (secs, got_rows, got_sum) = crate::compact_phase::full_read(table).await;
    let ok = got_rows == rows && (got_sum - sum).abs() < 1e-3 * sum.abs().max(1.0);
    report.push(Row {
        phase: "full read".into(),
        what: "streamhouse merge-on-read of the default-options table".into(),
        seconds: secs,
        rows: got_rows,
        rss: 0.0,
        note: match ok {
            true => "correct".into(),
            false => format!("WRONG: {got_rows} rows, sum {got_sum:.2}"),
        },
    });
    ok
}
