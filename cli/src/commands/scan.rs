//! `streamhouse scan`: a snapshot's rows (optionally filtered, at a snapshot, time or tag),
//! streamed batch by batch into the chosen output; with `--stats`, what was pruned.

use std::sync::Arc;

use arrow::datatypes::Schema;
use futures::StreamExt;
use streamhouse::{Catalog, Scan, ScanStats, Table, TableTotals};

use crate::args::{ScanArgs, ScanOutput};
use crate::error::{CliError, CliResult};
use crate::output::{open_sink, Dest};
use crate::temporal::{parse_instant, DayEdge};

/// `--as-of` text: epoch milliseconds, an RFC 3339 time, or a local date-time (a bare date is
/// the end of that day).
pub fn parse_as_of(s: &str) -> CliResult<i64> {
    parse_instant(s, DayEdge::End).ok_or_else(|| {
        CliError::Usage(format!(
            "--as-of {s:?}: expected a time like '2024-01-31 13:45:00' (local time), \
             '2024-01-31T13:45:00Z', or epoch milliseconds"
        ))
    })
}

pub async fn run(catalog: &Catalog, args: ScanArgs) -> CliResult<()> {
    let table = catalog.table(&args.table).await?;
    let columns = super::columns_arg(&table, &args.columns)?;
    let as_of = args.as_of.as_deref().map(parse_as_of).transpose()?;
    let mut scan = match (args.tag, as_of, args.snapshot) {
        (Some(tag), _, _) => table.scan().tag(tag),
        (None, Some(ms), _) => table.scan().as_of(ms),
        (None, None, Some(id)) => table.scan().snapshot(id),
        (None, None, None) => table.scan(),
    };
    if !columns.is_empty() {
        scan = scan.columns(columns);
    }
    if let Some(n) = args.limit {
        scan = scan.limit(n);
    }
    if let Some(text) = args.filter {
        scan = scan.filter(text);
    }
    if catalog.request_metrics().is_some() {
        scan = scan.with_stats();
    }
    let dest = args.out.map(Dest::File).unwrap_or(Dest::Stdout);
    let result = scan_to(&table, &scan, args.output, &dest).await;
    if result.is_err() {
        dest.remove_partial();
    }
    result.map(|_| ())
}

/// Writes the rows of `scan` of `table` to `dest` in `format`; returns how many. For a scan
/// with stats, prints what it read and pruned to stderr.
pub async fn scan_to(
    table: &Table,
    scan: &Scan,
    format: ScanOutput,
    dest: &Dest,
) -> CliResult<u64> {
    // Errors in the columns or --where surface before anything is read.
    let schema = scan.output_schema()?;
    let plan = scan.plan().await?;
    let snapshot = plan.snapshot_id();
    let types = super::column_types(table, &schema);
    let mut sink = open_sink(format, dest, Arc::new(Schema::clone(&schema)), types)?;
    let mut stream = plan.execute().await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if batch.num_rows() > 0 {
            sink.write(&batch)?;
        }
    }
    let rows = sink.finish()?;
    if let Some(s) = scan.stats() {
        let totals = match snapshot {
            Some(id) => Some(table.totals(id).await?),
            None => None,
        };
        eprintln!("{}", scan_report(&s, totals, rows, snapshot));
    }
    Ok(rows)
}

fn pct(part: u64, total: u64) -> String {
    if total == 0 {
        "-".into()
    } else {
        format!("{:.2} %", part as f64 * 100.0 / total as f64)
    }
}

/// The `--stats` lines of a scan: each level read versus total.
pub fn scan_report(
    s: &ScanStats,
    totals: Option<TableTotals>,
    rows: u64,
    snapshot: Option<i64>,
) -> String {
    let t = totals.unwrap_or_default();
    let (parts, files, bytes) = (t.partitions, t.files, t.bytes);
    let h = super::human_bytes;
    let mut out = format!(
        "scan: snapshot {}, {rows} rows out\n",
        snapshot.map_or("none".to_string(), |i| i.to_string())
    );
    out += &format!(
        "  partitions  {} of {} read\n",
        s.partitions_read.min(parts),
        parts
    );
    out += &format!(
        "  manifests   {} of {} read\n",
        s.manifests_read, s.manifests_total
    );
    out += &format!(
        "  files       {} of {} read ({} after pruning; a limit may stop early)\n",
        s.files_opened, files, s.files_planned
    );
    out += &format!(
        "  row groups  {} of {} read (in the files read)\n",
        s.row_groups_read, s.row_groups_total
    );
    out += &format!(
        "  pages       {} of {} read (projected columns of the files read)\n",
        s.pages_read, s.pages_total
    );
    out += &format!(
        "  bytes       {} of {} read from data files ({} of the table)",
        h(s.data_bytes_read),
        h(bytes),
        pct(s.data_bytes_read, bytes)
    );
    out
}
