//! `streamhouse write`: input → batches of the table's types → the table's `Writer` → one commit.
//! Any failure before the commit aborts the writer, so nothing becomes visible.

use indicatif::ProgressBar;
use streamhouse::{Catalog, Commit, RowKind, Table, Writer};
use tokio::sync::mpsc;

use super::{human_bytes, plural};
use crate::args::{InputFormat, WriteArgs};
use crate::error::{CliError, CliResult};
use crate::input::{self, BatchShape, Chunk, Source};
use crate::output::records::print_text;
use crate::progress;

#[path = "write_follow.rs"]
mod follow;

/// Rows written, by change kind.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub rows: u64,
    pub inserts: u64,
    pub update_befores: u64,
    pub update_afters: u64,
    pub deletes: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, rows: usize, kinds: Option<&[RowKind]>) {
        self.rows += rows as u64;
        match kinds {
            None => self.inserts += rows as u64,
            Some(kinds) => {
                for k in kinds {
                    match k {
                        RowKind::Insert => self.inserts += 1,
                        RowKind::UpdateBefore => self.update_befores += 1,
                        RowKind::UpdateAfter => self.update_afters += 1,
                        RowKind::Delete => self.deletes += 1,
                    }
                }
            }
        }
    }

    /// `2 inserts, 1 delete`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.inserts, "insert"),
            (self.update_befores, "update-before"),
            (self.update_afters, "update"),
            (self.deletes, "delete"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| plural(n, w))
        .collect();
        parts.join(", ")
    }
}

pub struct WriteOutcome {
    pub counts: Counts,
    /// `None` when the input held no rows (nothing is committed then).
    pub summary: Option<Commit>,
}

impl WriteOutcome {
    /// What a write did, for people.
    pub fn report(&self, table: &str, source: &str) -> String {
        let Some(s) = &self.summary else {
            return format!("no rows in {source}; nothing committed\n");
        };
        let snapshots = match s.snapshot_ids.as_slice() {
            [] => "no new snapshot".to_string(),
            [one] => format!("snapshot {one}"),
            many => format!(
                "snapshots {}",
                many.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        format!(
            "wrote {} ({}) to {table}: {}, {}\ncommitted {snapshots}\n",
            plural(self.counts.rows, "row"),
            self.counts.describe(),
            plural(s.files as u64, "file"),
            human_bytes(s.bytes),
        )
    }
}

pub async fn run(catalog: &Catalog, args: WriteArgs) -> CliResult<()> {
    let table = catalog.table(&args.table).await?;
    let source = Source::from_arg(args.input);
    if args.follow {
        return follow::run(
            &table,
            source,
            &args.format,
            &args.commit_interval,
            args.batch_rows,
        )
        .await;
    }
    let format = source.format(args.format)?;
    if let Source::File(p) = &source {
        if !p.is_file() {
            return Err(CliError::Failed(format!(
                "input file {} does not exist",
                p.display()
            )));
        }
    }
    let name = source.name();
    let outcome = write_source(&table, source, format, args.batch_rows as usize).await?;
    print_text(&outcome.report(table.name(), &name))
}

/// Writes everything `source` holds in one commit.
pub async fn write_source(
    table: &Table,
    source: Source,
    format: InputFormat,
    batch_rows: usize,
) -> CliResult<WriteOutcome> {
    let shape = BatchShape::new(table.shared_schema(), source.name(), batch_rows);
    let mut writer = table.writer().await?;
    let mut chunks = input::spawn(source, format, shape)?;
    let progress = progress::spinner(format!("writing to {}", table.name()));
    let pumped = tokio::select! {
        r = pump(&mut writer, &mut chunks, table, &progress) => r,
        _ = interrupted() => Err(CliError::Interrupted),
    };
    drop(chunks);
    progress.finish_and_clear();
    let counts = match pumped {
        Ok(c) => c,
        Err(e) => {
            if let Err(cleanup) = writer.abort().await {
                eprintln!("warning: could not remove the files of the failed write: {cleanup}");
            }
            return Err(e);
        }
    };
    if counts.rows == 0 {
        return Ok(WriteOutcome {
            counts,
            summary: None,
        });
    }
    // From here on Ctrl-C no longer stops the process: the commit completes or fails on its own.
    let mut commit = writer.commit().await?;
    // The table's compaction policy ran after the commit (in-writer compaction of the buckets
    // just written, unless write-only); the rows are committed already, so a failure here is
    // only a warning.
    commit
        .snapshot_ids
        .append(&mut commit.compaction_snapshot_ids);
    let mut failure = commit.compaction_failure.take();
    match writer.close().await {
        Ok(closed) => {
            commit.snapshot_ids.extend(closed.snapshot_ids);
            failure = failure.or(closed.compaction_failure);
        }
        Err(e) => failure = Some(e.to_string()),
    }
    if let Some(why) = failure {
        eprintln!("warning: the rows are committed, but compacting after them failed: {why}");
    }
    Ok(WriteOutcome {
        counts,
        summary: Some(commit),
    })
}

async fn pump(
    writer: &mut Writer,
    chunks: &mut mpsc::Receiver<CliResult<Chunk>>,
    table: &Table,
    progress: &ProgressBar,
) -> CliResult<Counts> {
    let mut counts = Counts::default();
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk?;
        let batch = table.conform(&chunk.batch, &chunk.label)?;
        match &chunk.kinds {
            Some(kinds) => writer.write_with_kinds(&batch, kinds).await?,
            None => writer.write(&batch).await?,
        }
        counts.add(batch.num_rows(), chunk.kinds.as_deref());
        progress.set_message(format!("writing to {}: {} rows", table.name(), counts.rows));
    }
    Ok(counts)
}

/// Resolves on Ctrl-C; never, if the signal cannot be watched.
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
