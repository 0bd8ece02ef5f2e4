//! [`TailBuilder`]: a table's changes with their row kinds, snapshot by snapshot, from a start
//! position, optionally following new commits; a consumer id keeps the position in the table
//! (`consumer/consumer-<id>`). Wraps the reader's incremental tail (`spec/tail.md`).

use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt;
use streamhouse_reader::incremental::{self, ChangeBatch, StartPosition, Tail, TailEvent};

use crate::table::Table;
use crate::Result;

/// Configures a [`Tail`]: [`Table::tail`], then options, then [`open`](Self::open).
#[derive(Debug, Clone)]
pub struct TailBuilder {
    inner: incremental::TailBuilder,
    table: Table,
    columns: Vec<String>,
}

impl TailBuilder {
    pub(crate) fn new(table: &Table) -> TailBuilder {
        TailBuilder {
            inner: incremental::TailBuilder::new(table.raw()),
            table: table.clone(),
            columns: vec![],
        }
    }

    /// Where to start when no consumer position applies (default: `latest-full`).
    pub fn from(mut self, start: StartPosition) -> Self {
        self.inner = self.inner.start(start);
        self
    }

    /// Keeps the position as consumer `id`, and resumes from it.
    pub fn consumer(mut self, id: impl Into<String>) -> Self {
        self.inner = self.inner.consumer(id);
        self
    }

    /// Starts from [`from`](Self::from) even if the consumer has a recorded position.
    pub fn ignore_consumer_progress(mut self, ignore: bool) -> Self {
        self.inner = self.inner.ignore_consumer_progress(ignore);
        self
    }

    /// Keeps waiting for new commits (otherwise the tail ends at the snapshot that was the
    /// latest when it started).
    pub fn follow(mut self, follow: bool) -> Self {
        self.inner = self.inner.follow(follow);
        self
    }

    /// Ends after snapshot `id`.
    pub fn until_snapshot(mut self, id: i64) -> Self {
        self.inner = self.inner.until_snapshot(id);
        self
    }

    /// Only these columns.
    pub fn columns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.columns = columns.into_iter().map(Into::into).collect();
        self.inner = self.inner.projection(self.columns.clone());
        self
    }

    /// Shortest and longest wait between two looks for a new snapshot (follow mode).
    pub fn poll_interval(mut self, floor: Duration, ceiling: Duration) -> Self {
        self.inner = self.inner.poll_interval(floor).max_poll_interval(ceiling);
        self
    }

    /// Resolves the start and opens the tail. `next()` yields batches of changes
    /// ([`ChangeBatch`](crate::ChangeBatch): rows with their kinds) and snapshot ends.
    pub async fn open(self) -> Result<Tail> {
        self.table.check_columns(&self.columns)?;
        self.inner.build().await
    }

    /// Opens the tail as a stream of change batches (rows with their kinds, each tagged with
    /// its snapshot id). A consumer's position advances as the stream moves past a snapshot;
    /// with [`follow`](Self::follow) the stream does not end by itself.
    pub async fn changes(self) -> Result<BoxStream<'static, Result<ChangeBatch>>> {
        let tail = self.open().await?;
        let stream = futures::stream::unfold(Some(tail), |tail| async move {
            let mut tail = tail?;
            loop {
                match tail.next().await {
                    Ok(Some(TailEvent::Changes(batch))) => return Some((Ok(batch), Some(tail))),
                    Ok(Some(TailEvent::SnapshotEnd(_))) => continue,
                    Ok(None) => {
                        return match tail.checkpoint().await {
                            Ok(()) => None,
                            Err(e) => Some((Err(e), None)),
                        }
                    }
                    Err(e) => return Some((Err(e), None)),
                }
            }
        });
        Ok(stream.boxed())
    }
}
