//! `streamhouse compact`: compact a table once, or keep it compacted as a service.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use streamhouse::{
    Cancel, Catalog, CompactReport, Error, Identifier, Progress, ProgressTask, Table,
};

use crate::args::{parse_duration_arg, parse_identifier};
use crate::commands::{human_bytes, plural};
use crate::error::{CliError, CliResult};

pub const COMPACT_ABOUT: &str = "\
Compact a primary-key table: merge the sorted runs of each bucket by Paimon's universal
compaction rules (or fully, with --full) and commit the result as a COMPACT snapshot. Reads
return the same rows before and after.

Without --service the command makes one pass over the buckets (--workers at a time) and commits
all of them as ONE COMPACT snapshot: the table changes atomically or not at all. With --service
it keeps the table compacted, making a pass every --interval until Ctrl-C and committing each
bucket as soon as it is done (one COMPACT snapshot per bucket). Several compaction
processes (and writers) can work on one table at once: each bucket is taken under a lease, and
every compaction commit checks that the files it replaces are still live, retrying on fresh
state when another commit got there first. Ctrl-C stops cleanly: a compaction in progress is
abandoned and its new files deleted; nothing half-done is committed.";

pub const COMPACT_EXAMPLES: &str = "\
Examples:
  streamhouse compact shop.orders
  streamhouse compact shop.orders --full
  streamhouse compact shop.sales --partition dt=2024-01-02
  streamhouse compact shop.orders --service --workers 2 --interval 30s";

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// The table, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// Compact every bucket into a single sorted run at the highest level
    #[arg(long)]
    pub full: bool,
    /// Only this partition: KEY=VALUE[,KEY=VALUE...]
    #[arg(long, value_name = "K=V")]
    pub partition: Option<String>,
    /// Keep running: compact whenever buckets need it, until Ctrl-C
    #[arg(long)]
    pub service: bool,
    /// Buckets compacted at the same time
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub workers: usize,
    /// Pause between passes of the service (e.g. 10s, 1min)
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_duration_arg)]
    pub interval: Duration,
}

/// Progress bars (one per running compaction) on a terminal, nothing otherwise.
struct Bars(Option<MultiProgress>);

struct Bar(ProgressBar);

impl ProgressTask for Bar {
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bars {
    fn start(&self, what: &str, total: u64) -> Arc<dyn ProgressTask> {
        let Some(multi) = &self.0 else {
            return Arc::new(Bar(ProgressBar::hidden()));
        };
        let pb = multi.add(ProgressBar::new(total));
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_message(what.to_string());
        Arc::new(Bar(pb))
    }
}

pub async fn run(catalog: &Catalog, args: CompactArgs) -> CliResult<()> {
    let table = catalog.table(&args.table).await?;
    if args.workers == 0 {
        return Err(CliError::Usage("--workers must be at least 1".into()));
    }
    let cancel = Cancel::new();
    let bars = std::io::stderr()
        .is_terminal()
        .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let mut compaction = table
        .compact()
        .full(args.full)
        .workers(args.workers)
        .cancel(cancel.clone())
        .progress(Arc::new(Bars(bars)));
    if let Some(spec) = &args.partition {
        compaction = compaction.partition(spec).map_err(|e| match e {
            Error::Invalid(m) => CliError::Usage(format!("--partition: {m}")),
            e => e.into(),
        })?;
    }
    let on_signal = cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "stopping: abandoning compactions in progress (nothing half-done is committed)"
            );
            on_signal.cancel();
        }
    });
    let result = if args.service {
        eprintln!(
            "compacting {} every {:?} with {} (Ctrl-C stops)",
            table.name(),
            args.interval,
            plural(args.workers as u64, "worker")
        );
        compaction.run_service(args.interval).await
    } else {
        compaction.run_once().await
    };
    watcher.abort();
    if cancel.is_cancelled() && !args.service {
        // A one-shot compaction is one commit: interrupted before it, nothing changed.
        return Err(CliError::Interrupted);
    }
    let report = result?;
    print_report(&table, &report);
    Ok(())
}

fn print_report(table: &Table, r: &CompactReport) {
    for s in &r.compacted {
        println!(
            "{}: {} → {} at level {} ({} upgraded{}), read {}, wrote {}, snapshot {}",
            table.bucket_label(&s.partition, s.bucket),
            plural(s.files_before as u64, "file"),
            plural(s.files_after as u64, "file"),
            s.output_level,
            s.upgraded,
            if s.changelog_files > 0 {
                format!(", {}", plural(s.changelog_files as u64, "changelog file"))
            } else {
                String::new()
            },
            human_bytes(s.bytes_read),
            human_bytes(s.bytes_written),
            s.snapshot_id
        );
    }
    for e in &r.errors {
        println!("a pass failed and was retried later: {e}");
    }
    for g in &r.gave_up {
        println!("gave up (another commit kept winning; nothing changed): {g}");
    }
    let snapshots: std::collections::BTreeSet<i64> =
        r.compacted.iter().map(|s| s.snapshot_id).collect();
    if r.compacted.is_empty() && r.gave_up.is_empty() {
        println!("{}: nothing to compact", table.name());
    } else if let (1, Some(id)) = (snapshots.len(), snapshots.first()) {
        println!(
            "{}: {} compacted, committed as snapshot {id}",
            table.name(),
            plural(r.compacted.len() as u64, "bucket")
        );
    } else {
        println!(
            "{}: {} committed{}",
            table.name(),
            plural(r.compacted.len() as u64, "compaction"),
            if r.leased_elsewhere > 0 {
                format!(
                    ", {} left to other compaction processes",
                    plural(r.leased_elsewhere, "bucket")
                )
            } else {
                String::new()
            }
        );
    }
}
