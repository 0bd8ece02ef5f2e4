//! `streamhouse write --follow`: newline-delimited JSON streamed from stdin (or a file, e.g. a
//! named pipe) into one table `Writer`, committed every `--commit-interval` when rows arrived,
//! at the end of the input, and on Ctrl-C / SIGTERM (then the command exits cleanly).
//!
//! Input errors (a malformed line, a value that does not fit) end the stream: the rows before
//! the bad line are committed, then the error names the line. Storage or commit failures stop
//! at once with the cause on stderr; what was committed before stays. A failed background
//! compaction does not stop the stream: it is a warning, and the buckets are compacted again
//! after the next commit.

use std::io::{BufReader, Read};

use streamhouse::{parse_duration, Table, Writer};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::Counts;
use crate::args::InputFormat;
use crate::commands::tail::shutdown_signals;
use crate::commands::{human_bytes, plural};
use crate::error::{CliError, CliResult};
use crate::input::{json, BatchShape, Chunk, Source};
use crate::output::records::print_text;
use crate::progress;

/// What the stream committed so far.
#[derive(Default)]
struct Totals {
    counts: Counts,
    commits: u64,
    files: usize,
    bytes: u64,
    snapshots: Vec<i64>,
}

pub async fn run(
    table: &Table,
    source: Source,
    format: &Option<InputFormat>,
    interval: &str,
    batch_rows: u32,
) -> CliResult<()> {
    if !matches!(format, None | Some(InputFormat::Json)) {
        return Err(CliError::Usage(
            "--follow reads newline-delimited JSON (--format json)".into(),
        ));
    }
    let interval =
        parse_duration(interval).map_err(|e| CliError::Usage(format!("--commit-interval: {e}")))?;
    if interval.is_zero() {
        return Err(CliError::Usage(
            "--commit-interval must be at least 1ms".into(),
        ));
    }
    let name = source.name();
    let shape = BatchShape::new(table.shared_schema(), name.clone(), batch_rows as usize);
    let mut chunks = spawn(source, shape)?;
    let mut writer = table.writer().await?;
    let mut signals = shutdown_signals();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker.tick().await;
    let progress = progress::spinner(format!("streaming into {}", table.name()));
    let mut pending = Counts::default();
    let mut totals = Totals::default();
    let mut input_error = None;
    let mut interrupted = false;
    loop {
        tokio::select! {
            biased;
            _ = signals.changed() => {
                interrupted = true;
                break;
            }
            _ = ticker.tick() => {
                commit(&mut writer, &mut pending, &mut totals).await?;
                progress.set_message(format!(
                    "streaming into {}: {} committed, last snapshot {}",
                    table.name(),
                    plural(totals.counts.rows, "row"),
                    totals.snapshots.last().map_or("-".into(), i64::to_string)
                ));
            }
            chunk = chunks.recv() => match chunk {
                None => break,
                Some(Err(e)) => {
                    input_error = Some(e);
                    break;
                }
                Some(Ok(chunk)) => {
                    let batch = match table.conform(&chunk.batch, &chunk.label) {
                        Ok(b) => b,
                        Err(e) => {
                            input_error = Some(e.into());
                            break;
                        }
                    };
                    let written = match &chunk.kinds {
                        Some(kinds) => writer.write_with_kinds(&batch, kinds).await,
                        None => writer.write(&batch).await,
                    };
                    if let Err(e) = written {
                        if !matches!(e, streamhouse::Error::Input { .. }) {
                            progress.finish_and_clear();
                            let _ = writer.abort().await;
                            return Err(e.into());
                        }
                        input_error = Some(e.into());
                        break;
                    }
                    pending.add(batch.num_rows(), chunk.kinds.as_deref());
                }
            },
        }
    }
    drop(chunks);
    // What was read is committed, whatever ended the stream.
    commit(&mut writer, &mut pending, &mut totals).await?;
    match writer.close().await {
        Ok(closed) => {
            if let Some(why) = closed.compaction_failure {
                eprintln!(
                    "warning: the rows are committed, but compacting after them failed: {why}"
                );
            }
        }
        Err(e) => {
            eprintln!("warning: the rows are committed, but compacting after them failed: {e}")
        }
    }
    progress.finish_and_clear();
    let what = if interrupted { "interrupted: " } else { "" };
    print_text(&format!("{what}{}", report(&totals, table.name(), &name)))?;
    match input_error {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

/// Commits the rows written since the last commit, if any.
async fn commit(writer: &mut Writer, pending: &mut Counts, totals: &mut Totals) -> CliResult<()> {
    if pending.rows == 0 {
        return Ok(());
    }
    let summary = writer.commit().await?;
    if let Some(why) = &summary.compaction_failure {
        eprintln!(
            "warning: the rows are committed (snapshot {}), but compacting after them failed; it is retried after the next commit: {why}",
            summary.snapshot_ids.last().map_or("-".into(), i64::to_string)
        );
    }
    let c = std::mem::take(pending);
    let t = &mut totals.counts;
    t.rows += c.rows;
    t.inserts += c.inserts;
    t.update_befores += c.update_befores;
    t.update_afters += c.update_afters;
    t.deletes += c.deletes;
    totals.files += summary.files;
    totals.bytes += summary.bytes;
    totals.commits += 1;
    totals.snapshots.extend(summary.snapshot_ids);
    Ok(())
}

fn report(t: &Totals, table: &str, source: &str) -> String {
    if t.snapshots.is_empty() {
        return format!("no rows in {source}; nothing committed\n");
    }
    let snapshots = match (t.snapshots.first(), t.snapshots.last()) {
        (Some(a), Some(b)) if a == b => format!("snapshot {a}"),
        (Some(a), Some(b)) => format!("snapshots {a} to {b}"),
        _ => String::new(),
    };
    format!(
        "wrote {} ({}) to {table} in {}: {}, {}\ncommitted {snapshots}\n",
        plural(t.counts.rows, "row"),
        t.counts.describe(),
        plural(t.commits, "commit"),
        plural(t.files as u64, "file"),
        human_bytes(t.bytes),
    )
}

/// Parses the stream on a thread of its own; rows are handed over as soon as the input pauses.
fn spawn(source: Source, shape: BatchShape) -> CliResult<mpsc::Receiver<CliResult<Chunk>>> {
    let (tx, rx) = mpsc::channel(2);
    let reader: Box<dyn Read + Send> = match source {
        Source::Stdin => Box::new(std::io::stdin()),
        Source::File(p) => Box::new(
            std::fs::File::open(&p)
                .map_err(CliError::io(format!("cannot open {}", p.display())))?,
        ),
        Source::Memory { data, .. } => Box::new(std::io::Cursor::new(data)),
    };
    std::thread::Builder::new()
        .name("streamhouse-input".into())
        .spawn(move || {
            let send = |c: Chunk| tx.blocking_send(Ok(c)).is_ok();
            let reader = BufReader::with_capacity(1 << 16, reader);
            if let Err(e) = json::read_streaming(reader, &shape, send) {
                let _ = tx.blocking_send(Err(e));
            }
        })
        .map_err(CliError::io("cannot start the input thread"))?;
    Ok(rx)
}
