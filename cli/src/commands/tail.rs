//! `streamhouse tail`: a table's changes with their row kinds, snapshot by snapshot, from a
//! start position, optionally following new commits (`streamhouse::Table::tail`).
//!
//! Output is flushed after each snapshot's changes; only then does a consumer record that it
//! handled the snapshot (when the tail asks for the next one). Ctrl-C (or SIGTERM) between
//! snapshots stops at once; during a snapshot the tail first finishes printing it, so a
//! consumer stops at a snapshot boundary — a second Ctrl-C stops immediately.

use std::io::{BufWriter, IsTerminal, Stdout, Write};
use std::time::Duration;

use arrow::array::{Array, ArrayRef};
use arrow::compute::cast;
use arrow::datatypes::SchemaRef;
use clap::Args;
use streamhouse::{
    parse_duration, Catalog, ChangeBatch, DataType, Identifier, SnapshotInfo, StartPosition,
    TailEvent,
};
use tokio::sync::watch;

use super::plural;
use crate::args::parse_identifier;
use crate::args::InfoOutput;
use crate::error::{CliError, CliResult};
use crate::output::value::{json_row, Renderer};
use crate::output::{csv_field, table};
use crate::temporal::{parse_instant, DayEdge};

pub const TAIL_ABOUT: &str = "\
Print a table's changes with their kinds, snapshot by snapshot: +I insert, -U / +U the old and
new version of an updated row, -D delete. Which changes a snapshot has follows Paimon: with
changelog-producer none, the rows written by each commit (compaction commits have none); with
input, lookup or full-compaction, the table's changelog files.

Where to start (--from):
  latest-full   the current rows as +I, then every later change (the default)
  latest        only changes committed from now on
  snapshot:N    the changes of snapshot N and every later one
  timestamp:T   the changes committed at or after T (epoch milliseconds, or a date-time such as
                2024-01-31T13:45:00, local time unless it ends in Z or an offset)

Without --follow the tail stops at the snapshot that was the latest when it started; with
--follow it waits for new commits (it looks for the next snapshot file, more often when a
commit is due) until Ctrl-C, which stops between two snapshots.

With --consumer ID the position is kept in the table (consumer/consumer-ID, as Paimon does): a
tail with the same ID continues after the last snapshot it printed completely, and snapshot
expiration keeps the snapshots it still needs. A consumer that was killed may print the
snapshot it was in the middle of again (never anything older, never skipping one).

Output: json (one object per line: rowkind first, then the columns, in the forms `scan --output
json` prints), csv (a header, then rowkind and the columns) or table (one table per snapshot).";

pub const TAIL_EXAMPLES: &str = "\
Examples:
  streamhouse tail shop.orders
  streamhouse tail shop.orders --from latest --follow --output json
  streamhouse tail shop.orders --consumer billing --follow --output json | my-consumer
  streamhouse tail shop.orders --from snapshot:42 --output csv
  streamhouse tail shop.orders --from timestamp:2024-01-31T13:45:00 --follow";

#[derive(Debug, Args)]
pub struct TailArgs {
    /// The table, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// Where to start: latest-full, latest, snapshot:N or timestamp:T
    #[arg(long, value_name = "POSITION", default_value = "latest-full")]
    pub from: String,
    /// Keep the position as this consumer, and resume from it
    #[arg(long, value_name = "ID")]
    pub consumer: Option<String>,
    /// Start from --from even if the consumer has a recorded position
    #[arg(long, requires = "consumer")]
    pub ignore_progress: bool,
    /// Keep waiting for new commits (until Ctrl-C)
    #[arg(long)]
    pub follow: bool,
    /// Output format
    #[arg(long, short, value_enum, default_value_t = InfoOutput::Table)]
    pub output: InfoOutput,
    /// Columns to print, comma separated (default: all)
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Also print each change's snapshot id (after rowkind, as snapshot_id)
    #[arg(long)]
    pub with_snapshot_id: bool,
    /// Shortest wait between two looks for a new snapshot (--follow)
    #[arg(long, value_name = "DURATION", default_value = "10ms")]
    pub poll_interval: String,
    /// Longest wait between two looks for a new snapshot (--follow)
    #[arg(long, value_name = "DURATION", default_value = "500ms")]
    pub max_poll_interval: String,
}

pub async fn run(catalog: &Catalog, args: TailArgs) -> CliResult<()> {
    let table = catalog.table(&args.table).await?;
    let start = parse_start(&args.from)?;
    let columns = super::columns_arg(&table, &args.columns)?;
    let floor = duration_arg("--poll-interval", &args.poll_interval)?;
    let ceiling = duration_arg("--max-poll-interval", &args.max_poll_interval)?;
    let mut builder = table
        .tail()
        .from(start)
        .follow(args.follow)
        .poll_interval(floor, ceiling)
        .ignore_consumer_progress(args.ignore_progress);
    if let Some(id) = &args.consumer {
        builder = builder.consumer(id.clone());
    }
    if !columns.is_empty() {
        builder = builder.columns(columns);
    }
    let mut tail = builder.open().await?;
    let schema = tail.output_schema();
    let types = super::column_types(&table, &schema);
    let taken = |name: &str| table.schema().field(name).is_some();
    let kind_name = if taken("rowkind") {
        "_rowkind"
    } else {
        "rowkind"
    };
    let snapshot_name = args.with_snapshot_id.then_some(if taken("snapshot_id") {
        "_snapshot_id"
    } else {
        "snapshot_id"
    });
    let mut out = Printer::new(args.output, schema, types, kind_name, snapshot_name);
    out.start()?;
    if args.follow && std::io::stderr().is_terminal() {
        eprintln!(
            "following {} from snapshot {} (Ctrl-C to stop)",
            table.name(),
            tail.position()
        );
    }

    let mut signals = shutdown_signals();
    let mut in_snapshot = false;
    let mut interrupted = false;
    loop {
        let event = tokio::select! {
            e = tail.next() => e?,
            _ = signals.changed() => {
                let count = *signals.borrow_and_update();
                if in_snapshot && count < 2 {
                    // Finish the snapshot being printed, then stop.
                    interrupted = true;
                    continue;
                }
                if in_snapshot {
                    out.flush()?;
                    return Err(CliError::Failed(format!(
                        "interrupted in the middle of snapshot {}; its changes will be delivered again",
                        tail.position()
                    )));
                }
                interrupted = true;
                break;
            }
        };
        match event {
            None => break,
            Some(TailEvent::Changes(batch)) => {
                in_snapshot = true;
                out.changes(&batch)?;
            }
            Some(TailEvent::SnapshotEnd(info)) => {
                in_snapshot = false;
                out.snapshot_end(&info)?;
                if interrupted {
                    break;
                }
            }
        }
    }
    out.finish()?;
    // Record the last snapshot handed out (its output is flushed).
    tail.checkpoint().await?;
    if interrupted && std::io::stderr().is_terminal() {
        eprintln!("stopped at snapshot {}", tail.position());
    }
    Ok(())
}

/// `latest-full`, `latest`, `snapshot:N`, `timestamp:T` where T is epoch milliseconds or a
/// date-time (`2024-01-31T13:45:00`, local time unless it has `Z` or an offset).
pub fn parse_start(s: &str) -> CliResult<StartPosition> {
    let usage = || {
        CliError::Usage(format!(
            "--from {s:?}: use latest-full, latest, snapshot:N or timestamp:T (T in epoch milliseconds or like 2024-01-31T13:45:00)"
        ))
    };
    if let Some(t) = s.trim().strip_prefix("timestamp:") {
        return parse_instant(t, DayEdge::Start)
            .map(StartPosition::FromTimestamp)
            .ok_or_else(usage);
    }
    s.parse::<StartPosition>().map_err(|_| usage())
}

fn duration_arg(flag: &str, v: &str) -> CliResult<Duration> {
    let d = parse_duration(v).map_err(|e| CliError::Usage(format!("{flag}: {e}")))?;
    if d.is_zero() {
        return Err(CliError::Usage(format!("{flag} must be at least 1ms")));
    }
    Ok(d)
}

/// A watch whose value counts SIGINT (Ctrl-C) and SIGTERM deliveries.
pub fn shutdown_signals() -> watch::Receiver<u32> {
    let (tx, rx) = watch::channel(0u32);
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let terminate = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let terminate = std::future::pending::<()>();
            tokio::pin!(terminate);
            tokio::select! {
                r = tokio::signal::ctrl_c() => if r.is_err() {
                    // Ctrl-C cannot be watched: rely on SIGTERM only.
                    (&mut terminate).await;
                },
                _ = &mut terminate => {}
            }
            tx.send_modify(|n| *n += 1);
        }
    });
    rx
}

/// Prints changes as JSON lines, CSV or tables.
struct Printer {
    format: InfoOutput,
    out: BufWriter<Stdout>,
    schema: SchemaRef,
    renderers: Vec<Renderer>,
    /// Output column names: kind, optional snapshot id, then the table's columns.
    names: Vec<String>,
    with_snapshot: bool,
    /// Rows of the snapshot being printed as a table.
    pending: Vec<Vec<String>>,
    changes: u64,
    snapshots: u64,
}

fn write_err(e: std::io::Error) -> CliError {
    CliError::Io {
        what: "writing to stdout".into(),
        source: e,
    }
}

impl Printer {
    fn new(
        format: InfoOutput,
        schema: SchemaRef,
        types: Vec<Option<DataType>>,
        kind_name: &str,
        snapshot_name: Option<&str>,
    ) -> Self {
        let mut names = vec![kind_name.to_string()];
        names.extend(snapshot_name.map(str::to_string));
        names.extend(schema.fields().iter().map(|f| f.name().clone()));
        Printer {
            format,
            out: BufWriter::with_capacity(1 << 16, std::io::stdout()),
            schema,
            renderers: types.into_iter().map(|ty| Renderer { ty }).collect(),
            names,
            with_snapshot: snapshot_name.is_some(),
            pending: vec![],
            changes: 0,
            snapshots: 0,
        }
    }

    fn start(&mut self) -> CliResult<()> {
        if self.format == InfoOutput::Csv {
            let header: Vec<String> = self.names.iter().map(|n| csv_field(n)).collect();
            writeln!(self.out, "{}", header.join(",")).map_err(write_err)?;
            self.flush()?;
        }
        Ok(())
    }

    /// The batch's columns in the types the renderers expect.
    fn arrays(&self, batch: &ChangeBatch) -> CliResult<Vec<ArrayRef>> {
        batch
            .rows
            .columns()
            .iter()
            .zip(self.schema.fields())
            .zip(&self.renderers)
            .map(|((col, field), r)| {
                let want =
                    r.ty.as_ref()
                        .map_or_else(|| field.data_type().clone(), DataType::to_arrow);
                if col.data_type().equals_datatype(&want) {
                    Ok(col.clone())
                } else {
                    Ok(cast(col, &want)?)
                }
            })
            .collect()
    }

    fn changes(&mut self, batch: &ChangeBatch) -> CliResult<()> {
        let arrays = self.arrays(batch)?;
        let cols: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
        let value_names = &self.names[1 + self.with_snapshot as usize..];
        let mut line = String::new();
        for row in 0..batch.num_rows() {
            let kind = batch.kind(row).as_str();
            match self.format {
                InfoOutput::Json => {
                    line.clear();
                    line.push_str("{\"");
                    line.push_str(&self.names[0]);
                    line.push_str("\":\"");
                    line.push_str(kind);
                    line.push('"');
                    if self.with_snapshot {
                        line.push_str(&format!(",\"{}\":{}", self.names[1], batch.snapshot_id));
                    }
                    // The columns, as `scan --output json` prints them, after the kind.
                    let start = line.len();
                    json_row(value_names, &cols, &self.renderers, row, &mut line);
                    if line.len() - start > 2 {
                        line.replace_range(start..start + 1, ",");
                    } else {
                        line.truncate(start);
                        line.push('}');
                    }
                    line.push('\n');
                    self.out.write_all(line.as_bytes()).map_err(write_err)?;
                }
                InfoOutput::Csv => {
                    line.clear();
                    line.push_str(kind);
                    if self.with_snapshot {
                        line.push_str(&format!(",{}", batch.snapshot_id));
                    }
                    for (col, r) in cols.iter().zip(&self.renderers) {
                        line.push(',');
                        if let Some(t) = r.text(*col, row) {
                            line.push_str(&csv_field(&t));
                        }
                    }
                    line.push('\n');
                    self.out.write_all(line.as_bytes()).map_err(write_err)?;
                }
                InfoOutput::Table => {
                    let mut cells = vec![kind.to_string()];
                    if self.with_snapshot {
                        cells.push(batch.snapshot_id.to_string());
                    }
                    cells.extend(cols.iter().zip(&self.renderers).map(|(col, r)| {
                        r.text(*col, row)
                            .map(|t| table::cell(&t))
                            .unwrap_or_else(|| "NULL".into())
                    }));
                    self.pending.push(cells);
                }
            }
        }
        self.changes += batch.num_rows() as u64;
        Ok(())
    }

    /// Ends a snapshot: its table (table output), then everything printed is flushed.
    fn snapshot_end(&mut self, info: &SnapshotInfo) -> CliResult<()> {
        if info.changes == 0 {
            return Ok(());
        }
        self.snapshots += 1;
        if self.format == InfoOutput::Table {
            let what = if info.full_scan {
                format!(
                    "snapshot {} (current rows): {}",
                    info.id,
                    plural(info.changes, "row")
                )
            } else {
                format!(
                    "snapshot {} ({}): {}",
                    info.id,
                    info.commit_kind,
                    plural(info.changes, "change")
                )
            };
            let mut right = vec![false; 1 + self.with_snapshot as usize];
            right[self.with_snapshot as usize] = self.with_snapshot;
            right.extend(self.renderers.iter().map(Renderer::is_numeric));
            let text = table::render(&self.names, &right, &self.pending);
            self.pending.clear();
            write!(self.out, "{what}\n{text}").map_err(write_err)?;
        }
        self.flush()
    }

    fn flush(&mut self) -> CliResult<()> {
        self.out.flush().map_err(write_err)
    }

    fn finish(&mut self) -> CliResult<()> {
        if self.format == InfoOutput::Table {
            writeln!(
                self.out,
                "{} in {}",
                plural(self.changes, "change"),
                plural(self.snapshots, "snapshot")
            )
            .map_err(write_err)?;
        }
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_positions() {
        use StartPosition::*;
        for (text, start) in [
            ("latest", Latest),
            ("snapshot:4", FromSnapshot(4)),
            ("timestamp:1700000000000", FromTimestamp(1_700_000_000_000)),
            (
                "timestamp:2024-01-31T13:45:00Z",
                FromTimestamp(1_706_708_700_000),
            ),
            (
                "timestamp:2024-01-31T14:45:00.5+01:00",
                FromTimestamp(1_706_708_700_500),
            ),
        ] {
            assert_eq!(parse_start(text).unwrap(), start, "{text}");
        }
        assert!(matches!(
            parse_start("timestamp:2024-01-31 13:45:00"),
            Ok(StartPosition::FromTimestamp(_))
        ));
        for bad in ["earliest", "snapshot:x", "timestamp:yesterday"] {
            assert!(matches!(parse_start(bad), Err(CliError::Usage(_))), "{bad}");
        }
    }
}
