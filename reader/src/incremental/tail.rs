//! [`Tail`]: walks snapshot ids one by one from its start position, hands out each snapshot's
//! changes followed by a [`TailEvent::SnapshotEnd`], records consumer progress, and in follow
//! mode waits for the next snapshot by probing `snapshot-<next>` (one GET per look, never a
//! listing; see [`poll`](super::poll)), waiting between looks on the table's clock
//! ([`FileIO::clock`](streamhouse_format::io::FileIO), so a test drives the polling with a
//! manual clock).
//!
//! Guarantees (see `spec/tail.md`):
//! * snapshot ids are handled in order, each exactly once: the tail only moves to id N+1 after
//!   handing out the end of N, and a missing `snapshot-<N>` is never stepped over — it is either
//!   not committed yet (wait) or expired (an error saying the reader fell behind);
//! * a consumer records `N+1` only once the caller comes back for more after the end of N, so a
//!   restarted consumer loses nothing; it sees again at most the snapshot it was handling.
//!
//! [`Tail::next`] is cancel-safe: dropping its future (e.g. in a `select!` with a shutdown
//! signal) loses no change and repeats none.

use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt;
use streamhouse_format::io::consumers::check_consumer_id;
use streamhouse_format::io::Table;
use streamhouse_format::snapshot::Snapshot;
use streamhouse_format::{Error, ErrorKind, Result};

use super::changes::{change_files, full_scan, ChangeReader, ChangeSource};
use super::poll::PollSchedule;
use super::start::{self, check_available, fell_behind, Begin};
use super::{ChangeBatch, SnapshotInfo, TailBuilder, TailEvent};

/// How often a waiting tail also reads the `LATEST` hint, to notice that the snapshot it waits
/// for was committed and expired between two looks.
const LATEST_CHECK_INTERVAL: Duration = Duration::from_secs(2);
/// Snapshots without changes acknowledged before the consumer position is written anyway.
const MAX_UNRECORDED_SNAPSHOTS: i64 = 64;
/// Failed looks for the next snapshot (storage errors) before the tail gives up.
const PROBE_ATTEMPTS: u32 = 5;

/// Counters of what a tail did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TailStats {
    /// GETs of `snapshot-<next>` (found or not).
    pub probes: u64,
    /// Reads of the `LATEST` hint (expiration checks while waiting).
    pub latest_checks: u64,
    /// Snapshots whose changes were read (the starting full scan included).
    pub snapshots: u64,
    /// Snapshots with nothing for the feed.
    pub skipped: u64,
    /// Changes handed out.
    pub changes: u64,
    /// Consumer file writes.
    pub consumer_writes: u64,
}

enum Phase {
    /// The starting full scan of this snapshot is next.
    Full(i64),
    /// Handing out a snapshot's changes.
    Reading {
        info: SnapshotInfo,
        stream: BoxStream<'static, Result<ChangeBatch>>,
    },
    /// Between snapshots: `next` is the one to look for.
    Idle,
    Done,
}

/// An open incremental read. Create it with [`TailBuilder`].
pub struct Tail {
    table: Table,
    consumer: Option<String>,
    follow: bool,
    until: Option<i64>,
    projection: Vec<String>,
    batch_size: usize,
    source: ChangeSource,
    reader: ChangeReader,
    schedule: PollSchedule,
    phase: Phase,
    /// The snapshot to read after the current one.
    next: i64,
    /// The snapshot whose end was handed out last, until the caller comes back.
    unacked: Option<i64>,
    /// The next snapshot the caller still needs, once it acknowledged something.
    acked: Option<i64>,
    /// Whether the last acknowledged snapshot had changes (its position is written at once).
    record_now: bool,
    /// What the consumer file holds.
    recorded: Option<i64>,
    /// The newest snapshot id known to exist (or to have existed).
    known_latest: i64,
    /// Whether the last look missed (the tail is waiting).
    waiting: bool,
    /// When the `LATEST` hint was last read, by the table's clock.
    last_latest_check: Option<Duration>,
    failed: Option<String>,
    stats: TailStats,
}

impl Tail {
    pub(crate) async fn open(b: TailBuilder) -> Result<Tail> {
        let table = b.table;
        if let Some(id) = &b.consumer {
            check_consumer_id(id)?;
        }
        let projection = match b.projection {
            Some(p) => p,
            None => table.schema.field_names(),
        };
        let reader = ChangeReader::new(
            table.clone(),
            projection.clone(),
            b.batch_size,
            b.concurrency,
        )?;
        let mut recorded = None;
        let mut begin = None;
        if let (Some(id), false) = (&b.consumer, b.ignore_progress) {
            if let Some(n) = table.consumer(id).await? {
                check_available(&table, n, Some(id)).await?;
                recorded = Some(n);
                begin = Some(Begin::Changes(n));
            }
        }
        let begin = match begin {
            Some(b) => b,
            None => start::resolve(&table, b.start).await?,
        };
        let latest = table.latest_snapshot_id().await?.unwrap_or(0);
        let (phase, next) = match begin {
            Begin::Full(l) => (Phase::Full(l), l),
            Begin::Changes(n) => (Phase::Idle, n),
        };
        let until = b.until.or(match (b.follow, begin) {
            (true, _) => None,
            (false, Begin::Full(l)) => Some(l),
            (false, Begin::Changes(_)) => Some(latest),
        });
        let mut tail = Tail {
            source: ChangeSource::of(&table),
            table,
            consumer: b.consumer,
            follow: b.follow,
            until,
            projection,
            batch_size: b.batch_size,
            reader,
            schedule: PollSchedule::new(b.poll),
            phase,
            next,
            unacked: None,
            acked: None,
            record_now: false,
            recorded,
            known_latest: latest,
            waiting: false,
            last_latest_check: None,
            failed: None,
            stats: TailStats::default(),
        };
        // A new consumer starting at a snapshot holds back expiration from the start (there is
        // nothing to lose: resuming there repeats nothing). A full scan is recorded only once
        // it has been handed out completely.
        if let (Begin::Changes(n), None) = (begin, tail.recorded) {
            if tail.consumer.is_some() {
                tail.acked = Some(n);
                tail.record().await?;
            }
        }
        Ok(tail)
    }

    /// The Arrow schema of [`ChangeBatch::rows`].
    pub fn output_schema(&self) -> arrow::datatypes::SchemaRef {
        self.reader.output_schema()
    }

    /// The next snapshot to read.
    pub fn position(&self) -> i64 {
        self.next
    }

    /// The consumer id, if any.
    pub fn consumer(&self) -> Option<&str> {
        self.consumer.as_deref()
    }

    pub fn stats(&self) -> &TailStats {
        &self.stats
    }

    /// Acknowledges the snapshot whose end was handed out last and writes the consumer
    /// position now (normally done by the next call of [`next`](Self::next)).
    pub async fn checkpoint(&mut self) -> Result<()> {
        self.acknowledge();
        self.record().await
    }

    /// The next change batch or snapshot end; `None` once the end position is reached (never
    /// in follow mode without `until_snapshot`). After an error the tail is unusable: open a
    /// new one, which resumes from the consumer position.
    pub async fn next(&mut self) -> Result<Option<TailEvent>> {
        if let Some(msg) = &self.failed {
            return Err(Error::Invalid(format!(
                "table {}: the tail stopped after an earlier error ({msg}); open it again to resume",
                self.table.name
            )));
        }
        let result = self.step().await;
        if let Err(e) = &result {
            self.failed = Some(e.to_string());
        }
        result
    }

    fn acknowledge(&mut self) {
        if let Some(id) = self.unacked.take() {
            self.acked = Some(id + 1);
        }
    }

    /// Writes the acknowledged position to the consumer file if it changed.
    async fn record(&mut self) -> Result<()> {
        let (Some(id), Some(next)) = (&self.consumer, self.acked) else {
            return Ok(());
        };
        if self.recorded == Some(next) {
            self.record_now = false;
            return Ok(());
        }
        self.table.set_consumer(id, next).await?;
        self.recorded = Some(next);
        self.record_now = false;
        self.stats.consumer_writes += 1;
        Ok(())
    }

    async fn step(&mut self) -> Result<Option<TailEvent>> {
        self.acknowledge();
        let behind = match (self.acked, self.recorded) {
            (Some(a), Some(r)) => a - r,
            (Some(_), None) => i64::MAX,
            _ => 0,
        };
        if self.record_now || behind >= MAX_UNRECORDED_SNAPSHOTS {
            self.record().await?;
        }
        loop {
            match &mut self.phase {
                Phase::Done => {
                    self.record().await?;
                    return Ok(None);
                }
                Phase::Full(id) => {
                    let id = *id;
                    let snapshot = self.table.snapshot(id).await?;
                    let stream =
                        full_scan(&self.table, id, self.projection.clone(), self.batch_size)
                            .await?;
                    self.phase = Phase::Reading {
                        info: info(&snapshot, true, false),
                        stream,
                    };
                }
                Phase::Reading { info, stream } => match stream.next().await {
                    Some(Ok(batch)) => {
                        if batch.num_rows() == 0 {
                            continue;
                        }
                        info.changes += batch.num_rows() as u64;
                        self.stats.changes += batch.num_rows() as u64;
                        return Ok(Some(TailEvent::Changes(batch)));
                    }
                    Some(Err(e)) => {
                        let id = info.id;
                        return Err(self.explain(e, id).await);
                    }
                    None => {
                        let info = info.clone();
                        self.phase = Phase::Idle;
                        self.stats.snapshots += 1;
                        return Ok(Some(self.end_of(info)));
                    }
                },
                Phase::Idle => {
                    if self.until.is_some_and(|u| self.next > u) {
                        self.phase = Phase::Done;
                        continue;
                    }
                    let snapshot = match self.look(self.next).await? {
                        Some(s) => s,
                        None => match self.missing(self.next).await? {
                            Some(s) => s,
                            None => {
                                // Not committed yet: record progress, then wait.
                                self.record().await?;
                                let delay = self.schedule.missed(self.now());
                                self.table.io.clock.sleep(delay).await;
                                continue;
                            }
                        },
                    };
                    if let Some(event) = self.open_snapshot(snapshot).await? {
                        return Ok(Some(event));
                    }
                }
            }
        }
    }

    /// Starts reading a snapshot; a skipped snapshot ends at once.
    async fn open_snapshot(&mut self, snapshot: Snapshot) -> Result<Option<TailEvent>> {
        match change_files(&self.table, &snapshot, self.source).await? {
            None => {
                self.stats.skipped += 1;
                Ok(Some(self.end_of(info(&snapshot, false, true))))
            }
            Some(files) => {
                let stream = self.reader.read(snapshot.id, files).await?;
                self.phase = Phase::Reading {
                    info: info(&snapshot, false, false),
                    stream,
                };
                Ok(None)
            }
        }
    }

    fn end_of(&mut self, info: SnapshotInfo) -> TailEvent {
        self.next = info.id + 1;
        self.unacked = Some(info.id);
        self.record_now = info.changes > 0 || info.full_scan;
        TailEvent::SnapshotEnd(info)
    }

    /// One GET of `snapshot-<id>`; storage errors are retried a few times.
    async fn look(&mut self, id: i64) -> Result<Option<Snapshot>> {
        let path = self.table.snapshot_path(id);
        let mut attempt = 0;
        let bytes = loop {
            self.stats.probes += 1;
            match self.table.io.read_opt(&path).await {
                Ok(b) => break b,
                Err(e) if e.retryable() && attempt + 1 < PROBE_ATTEMPTS => {
                    attempt += 1;
                    self.table
                        .io
                        .clock
                        .sleep(Duration::from_millis(50 << attempt))
                        .await;
                }
                Err(e) => return Err(e),
            }
        };
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let s = Snapshot::from_json(&bytes, path.as_ref())?;
        if s.id != id {
            return Err(Error::corrupt(
                &path,
                format!("holds snapshot id {} instead of {id}", s.id),
            ));
        }
        self.known_latest = self.known_latest.max(id);
        if self.waiting {
            self.schedule.found(self.now());
            self.waiting = false;
        }
        Ok(Some(s))
    }

    /// `snapshot-<id>` is not there. `None` when it is not committed yet; the snapshot when
    /// it turned up after all (or survives as decoupled changelog); an error when it expired.
    async fn missing(&mut self, id: i64) -> Result<Option<Snapshot>> {
        let first_miss = !self.waiting;
        self.waiting = true;
        let now = self.now();
        let due = self
            .last_latest_check
            .is_none_or(|t| now.saturating_sub(t) >= LATEST_CHECK_INTERVAL);
        let must_exist = self.known_latest >= id || !self.follow;
        if !(must_exist || first_miss || due) {
            return Ok(None);
        }
        self.last_latest_check = Some(now);
        self.stats.latest_checks += 1;
        let latest = latest_hint(&self.table).await?;
        self.known_latest = self.known_latest.max(latest);
        if self.known_latest < id {
            return Ok(None);
        }
        // The table is past `id`: the snapshot may have been committed just after the look.
        if let Some(s) = self.look(id).await? {
            return Ok(Some(s));
        }
        let earliest = self.table.earliest_snapshot_id().await?;
        match earliest {
            Some(e) if e > id => {
                if let Some(s) = decoupled_changelog(&self.table, id).await? {
                    return Ok(Some(s));
                }
                Err(fell_behind(&self.table, id, e, self.consumer.as_deref()))
            }
            _ => Err(Error::corrupt(
                self.table.snapshot_path(id),
                format!(
                    "snapshot {id} of table {} is missing although the table has snapshots up to {}",
                    self.table.name, self.known_latest
                ),
            )),
        }
    }

    /// The table's clock as the time since the epoch (waits and their schedule use it, so a
    /// test drives polling with a manual clock).
    fn now(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.table.io.clock.now_millis()).unwrap_or(0))
    }

    /// A file vanished while a snapshot was read: say so, and whether expiration took it.
    async fn explain(&mut self, e: Error, id: i64) -> Error {
        if e.kind() != ErrorKind::NotFound {
            return e;
        }
        if let (Ok(None), Ok(Some(earliest))) = (
            self.table.io.read_opt(&self.table.snapshot_path(id)).await,
            self.table.earliest_snapshot_id().await,
        ) {
            if earliest > id {
                return fell_behind(&self.table, id, earliest, self.consumer.as_deref());
            }
        }
        Error::NotFound(format!(
            "{e} (reading the changes of snapshot {id} of table {})",
            self.table.name
        ))
    }
}

/// The `LATEST` hint, or the listed latest id when the hint is missing.
async fn latest_hint(table: &Table) -> Result<i64> {
    let path = table.snapshot_dir().clone().join("LATEST");
    let hint = table.io.read_opt(&path).await?.and_then(|b| {
        std::str::from_utf8(&b)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
    });
    Ok(match hint {
        Some(h) if h > 0 => h,
        _ => table.latest_snapshot_id().await?.unwrap_or(0),
    })
}

/// Paimon keeps expired snapshots' changelog as `changelog/changelog-<id>` when changelog
/// retention outlives snapshot retention ("decoupled" changelog).
async fn decoupled_changelog(table: &Table, id: i64) -> Result<Option<Snapshot>> {
    let path = table
        .root
        .clone()
        .join("changelog")
        .clone()
        .join(format!("changelog-{id}"));
    match table.io.read_opt(&path).await? {
        None => Ok(None),
        Some(bytes) => Snapshot::from_json(&bytes, path.as_ref()).map(Some),
    }
}

fn info(s: &Snapshot, full_scan: bool, skipped: bool) -> SnapshotInfo {
    SnapshotInfo {
        id: s.id,
        commit_kind: s.commit_kind,
        time_millis: s.time_millis,
        changes: 0,
        full_scan,
        skipped,
    }
}
