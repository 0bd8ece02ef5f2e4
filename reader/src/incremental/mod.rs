//! Incremental (streaming) reads: a table's changes from a position on, each with its row kind
//! (`+I`, `-U`, `+U`, `-D`), snapshot by snapshot, optionally following new commits.
//!
//! ```no_run
//! # async fn f(table: &streamhouse_format::io::Table) -> streamhouse_format::Result<()> {
//! use streamhouse_reader::incremental::{StartPosition, TailBuilder, TailEvent};
//! let mut tail = TailBuilder::new(table)
//!     .start(StartPosition::Latest)
//!     .consumer("billing")
//!     .follow(true)
//!     .build()
//!     .await?;
//! while let Some(event) = tail.next().await? {
//!     match event {
//!         TailEvent::Changes(batch) => { /* batch.kinds[i] is the kind of batch.rows row i */ }
//!         TailEvent::SnapshotEnd(info) => { /* every change of info.id was handed out */ }
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! * [`start`] — start positions (`latest-full`, `latest`, `from-snapshot`, `from-timestamp`)
//!   and consumer positions;
//! * [`changes`] — which files hold a snapshot's changes for each `changelog-producer`, and
//!   reading them unmerged;
//! * [`poll`] — the adaptive schedule of a follow-mode tail;
//! * [`tail`] — the [`Tail`] itself: snapshot order, consumer persistence, expiration checks.
//!
//! See `spec/tail.md` for the semantics and guarantees.

pub mod changes;
pub mod poll;
pub mod start;
pub mod tail;

use std::str::FromStr;
use std::time::Duration;

use arrow::array::{ArrayRef, Int8Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType as ArrowType, Field, Schema};
use streamhouse_format::io::Table;
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::snapshot::CommitKind;
use streamhouse_format::{Error, Result};

pub use changes::ChangeSource;
pub use poll::{PollConfig, DEFAULT_MAX_POLL_INTERVAL, DEFAULT_MIN_POLL_INTERVAL};
pub use tail::{Tail, TailStats};

/// Where a tail starts when no consumer position applies (Paimon's `scan.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartPosition {
    /// The latest snapshot as `+I` rows, then the changes of every later snapshot
    /// (`latest-full`, the default).
    #[default]
    LatestFull,
    /// Only changes committed after the start (`latest`).
    Latest,
    /// The changes of snapshot N and every later one (`from-snapshot`).
    FromSnapshot(i64),
    /// The changes of snapshots committed at or after this instant, in epoch milliseconds
    /// (`from-timestamp`).
    FromTimestamp(i64),
}

impl FromStr for StartPosition {
    type Err = Error;

    /// `latest-full`, `latest`, `snapshot:N` (or `from-snapshot:N`), `timestamp:MILLIS` (or
    /// `from-timestamp:MILLIS`).
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let bad = || {
            Error::invalid(format!(
                "start position {s:?} is not one of latest-full, latest, snapshot:N, timestamp:EPOCH_MILLIS"
            ))
        };
        match s {
            "latest-full" => return Ok(StartPosition::LatestFull),
            "latest" => return Ok(StartPosition::Latest),
            _ => {}
        }
        let (what, value) = s.split_once(':').ok_or_else(bad)?;
        let n: i64 = value.trim().parse().map_err(|_| bad())?;
        match what.trim() {
            "snapshot" | "from-snapshot" => Ok(StartPosition::FromSnapshot(n)),
            "timestamp" | "from-timestamp" => Ok(StartPosition::FromTimestamp(n)),
            _ => Err(bad()),
        }
    }
}

/// Changes from one snapshot: `rows` in the table's (projected) columns, and the kind of each.
#[derive(Debug, Clone)]
pub struct ChangeBatch {
    /// The snapshot that committed these changes (for `latest-full`: the snapshot scanned).
    pub snapshot_id: i64,
    /// Row kind bytes (`RowKind as i8`: 0 `+I`, 1 `-U`, 2 `+U`, 3 `-D`), never null.
    pub kinds: Int8Array,
    pub rows: RecordBatch,
}

impl ChangeBatch {
    pub fn num_rows(&self) -> usize {
        self.rows.num_rows()
    }

    /// The kind of row `i`.
    pub fn kind(&self, i: usize) -> RowKind {
        RowKind::from_byte(self.kinds.value(i)).unwrap_or(RowKind::Insert)
    }

    /// The kinds as strings (`+I`, `-U`, `+U`, `-D`).
    pub fn kind_strings(&self) -> StringArray {
        StringArray::from_iter_values((0..self.kinds.len()).map(|i| self.kind(i).as_str()))
    }

    /// The rows with a first column `name` holding each row's kind as a string.
    pub fn with_kind_column(&self, name: &str) -> Result<RecordBatch> {
        let mut fields = vec![Field::new(name, ArrowType::Utf8, false)];
        fields.extend(
            self.rows
                .schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone()),
        );
        let mut columns: Vec<ArrayRef> = vec![std::sync::Arc::new(self.kind_strings())];
        columns.extend(self.rows.columns().iter().cloned());
        RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns)
            .map_err(|e| Error::arrow("adding the row kind column", e))
    }
}

/// What a tail found in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub id: i64,
    pub commit_kind: CommitKind,
    /// Commit time, epoch milliseconds.
    pub time_millis: i64,
    /// Changes handed out for this snapshot.
    pub changes: u64,
    /// True for the starting full scan of `latest-full` (its rows are `+I`).
    pub full_scan: bool,
    /// True when the feed has nothing to read in this snapshot (e.g. a COMPACT snapshot of a
    /// table without changelog files).
    pub skipped: bool,
}

/// One step of a tail.
#[derive(Debug, Clone)]
pub enum TailEvent {
    /// Changes of a snapshot; one snapshot may take several batches.
    Changes(ChangeBatch),
    /// Every change of this snapshot has been handed out. Every snapshot id from the start
    /// position on is reported exactly once, in order, including skipped ones. When the caller
    /// asks for the next event, the snapshot counts as handled and the consumer (if any)
    /// records the next snapshot.
    SnapshotEnd(SnapshotInfo),
}

/// Configures and opens a [`Tail`].
#[derive(Debug, Clone)]
pub struct TailBuilder {
    pub(crate) table: Table,
    pub(crate) start: StartPosition,
    pub(crate) consumer: Option<String>,
    pub(crate) ignore_progress: bool,
    pub(crate) follow: bool,
    pub(crate) until: Option<i64>,
    pub(crate) projection: Option<Vec<String>>,
    pub(crate) batch_size: usize,
    pub(crate) concurrency: usize,
    pub(crate) poll: PollConfig,
}

impl TailBuilder {
    pub fn new(table: &Table) -> Self {
        TailBuilder {
            table: table.clone(),
            start: StartPosition::default(),
            consumer: None,
            ignore_progress: false,
            follow: false,
            until: None,
            projection: None,
            batch_size: crate::DEFAULT_BATCH_SIZE,
            concurrency: 4,
            poll: PollConfig::default(),
        }
    }

    /// Where to start when the consumer has no recorded position (default `latest-full`).
    pub fn start(mut self, start: StartPosition) -> Self {
        self.start = start;
        self
    }

    /// Records progress as consumer `id` (`consumer/consumer-<id>`) and resumes from its
    /// recorded position, which takes precedence over [`start`](Self::start).
    pub fn consumer(mut self, id: impl Into<String>) -> Self {
        self.consumer = Some(id.into());
        self
    }

    /// Starts from [`start`](Self::start) even when the consumer has a recorded position
    /// (which is then overwritten as the tail advances).
    pub fn ignore_consumer_progress(mut self, ignore: bool) -> Self {
        self.ignore_progress = ignore;
        self
    }

    /// Keeps waiting for new snapshots instead of stopping at the latest one at start.
    pub fn follow(mut self, follow: bool) -> Self {
        self.follow = follow;
        self
    }

    /// Stops after snapshot `id` (also in follow mode).
    pub fn until_snapshot(mut self, id: i64) -> Self {
        self.until = Some(id);
        self
    }

    read_setters!("How many files are read at the same time (default 4).");

    /// The polling floor (default [`DEFAULT_MIN_POLL_INTERVAL`]).
    pub fn poll_interval(mut self, floor: Duration) -> Self {
        self.poll.min_interval = floor;
        self
    }

    /// The polling ceiling (default [`DEFAULT_MAX_POLL_INTERVAL`]).
    pub fn max_poll_interval(mut self, ceiling: Duration) -> Self {
        self.poll.max_interval = ceiling;
        self
    }

    /// Resolves the start position and opens the tail.
    pub async fn build(self) -> Result<Tail> {
        Tail::open(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_positions_parse() {
        for (s, p) in [
            ("latest-full", StartPosition::LatestFull),
            ("latest", StartPosition::Latest),
            ("snapshot:7", StartPosition::FromSnapshot(7)),
            ("from-snapshot:7", StartPosition::FromSnapshot(7)),
            (
                "timestamp:1700000000000",
                StartPosition::FromTimestamp(1_700_000_000_000),
            ),
        ] {
            assert_eq!(s.parse::<StartPosition>().unwrap(), p, "{s}");
        }
        for bad in ["", "earliest", "snapshot:", "snapshot:x", "time:5"] {
            let e = bad.parse::<StartPosition>().unwrap_err().to_string();
            assert!(e.contains("latest-full"), "{e}");
        }
    }

    #[test]
    fn kind_column_comes_first() {
        let rows = RecordBatch::try_new(
            std::sync::Arc::new(Schema::new(vec![Field::new("id", ArrowType::Int64, false)])),
            vec![std::sync::Arc::new(arrow::array::Int64Array::from(vec![
                1, 1, 2,
            ]))],
        )
        .unwrap();
        let b = ChangeBatch {
            snapshot_id: 3,
            kinds: Int8Array::from(vec![1, 2, 3]),
            rows,
        };
        let out = b.with_kind_column("rowkind").unwrap();
        assert_eq!(out.schema().field(0).name(), "rowkind");
        let kinds = out
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(
            kinds.iter().flatten().collect::<Vec<_>>(),
            ["-U", "+U", "-D"]
        );
        assert_eq!(b.kind(2), RowKind::Delete);
    }
}
