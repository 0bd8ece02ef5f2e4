//! `streamhouse scan`: a snapshot's rows (optionally filtered, at a snapshot, time or tag),
//! streamed batch by batch into the chosen output; with `--stats`, what was pruned.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::datatypes::Schema;
use futures::StreamExt;
use streamhouse_format::io::Table;
use streamhouse_reader::scan::TimeTravel;
use streamhouse_reader::scan_stats::{ScanMetrics, ScanStats};
use streamhouse_reader::ScanBuilder;

use crate::args::{ScanArgs, ScanOutput};
use crate::error::{CliError, CliResult};
use crate::output::{open_sink, Dest};
use crate::warehouse::Warehouse;

#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub snapshot: Option<i64>,
    pub columns: Option<Vec<String>>,
    pub limit: Option<usize>,
    pub format: ScanOutput,
    /// `--as-of` in epoch milliseconds.
    pub as_of: Option<i64>,
    pub tag: Option<String>,
    /// `--where` text.
    pub filter: Option<String>,
}

impl Default for ScanRequest {
    fn default() -> Self {
        ScanRequest {
            snapshot: None,
            columns: None,
            limit: None,
            format: ScanOutput::Table,
            as_of: None,
            tag: None,
            filter: None,
        }
    }
}

/// `--as-of` text: epoch milliseconds, an RFC 3339 time, or a local date-time.
pub fn parse_as_of(s: &str) -> CliResult<i64> {
    let t = s.trim();
    if let Ok(ms) = t.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(z) = chrono::DateTime::parse_from_rfc3339(&t.replacen(' ', "T", 1)) {
        return Ok(z.timestamp_millis());
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
    ] {
        let parsed = chrono::NaiveDateTime::parse_from_str(t, f).or_else(|_| {
            chrono::NaiveDate::parse_from_str(t, f)
                .map(|d| d.and_hms_opt(23, 59, 59).unwrap_or_default())
        });
        if let Ok(dt) = parsed {
            if let Some(local) = dt.and_local_timezone(chrono::Local).earliest() {
                return Ok(local.timestamp_millis());
            }
        }
    }
    Err(CliError::Usage(format!(
        "--as-of {s:?}: expected a time like '2024-01-31 13:45:00' (local time), \
         '2024-01-31T13:45:00Z', or epoch milliseconds"
    )))
}

pub async fn run(wh: &Warehouse, args: ScanArgs) -> CliResult<()> {
    let table = wh.open_table(&args.table).await?;
    let columns: Vec<String> = args
        .columns
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    for c in &columns {
        table.schema.field_index(c)?;
    }
    let request = ScanRequest {
        snapshot: args.snapshot,
        columns: (!columns.is_empty()).then_some(columns),
        limit: args.limit,
        format: args.output,
        as_of: args.as_of.as_deref().map(parse_as_of).transpose()?,
        tag: args.tag,
        filter: args.filter,
    };
    let dest = args.out.map(Dest::File).unwrap_or(Dest::Stdout);
    let result = scan_to(wh, &table, &request, &dest).await;
    if result.is_err() {
        if let Dest::File(p) = &dest {
            let _ = std::fs::remove_file(p);
        }
    }
    result.map(|_| ())
}

fn builder(table: &Table, request: &ScanRequest) -> ScanBuilder {
    let travel = match (&request.tag, request.as_of, request.snapshot) {
        (Some(t), _, _) => TimeTravel::Tag(t.clone()),
        (_, Some(ms), _) => TimeTravel::AsOf(ms),
        (_, _, Some(id)) => TimeTravel::Snapshot(id),
        _ => TimeTravel::Latest,
    };
    let mut b = ScanBuilder::new(table).time_travel(travel);
    if let Some(cols) = &request.columns {
        b = b.projection(cols.clone());
    }
    if let Some(n) = request.limit {
        b = b.limit(n);
    }
    if let Some(f) = &request.filter {
        b = b.filter_text(f.clone());
    }
    b
}

/// Writes the rows `request` asks for to `dest`; returns how many.
pub async fn scan_to(
    wh: &Warehouse,
    table: &Table,
    request: &ScanRequest,
    dest: &Dest,
) -> CliResult<u64> {
    let type_of = |name: &str| table.schema.field(name).map(|f| f.data_type.clone());
    if let Some(id) = request.snapshot {
        // A clear message naming the snapshots that do exist.
        wh.resolve_snapshot(table, Some(id)).await?;
    }
    let metrics = Arc::new(ScanMetrics::default());
    let mut b = builder(table, request);
    if wh.stats_enabled() {
        b = b.metrics(metrics.clone());
    }
    // Errors in --where surface before anything is read.
    b.predicate()?;
    let schema = b.output_schema()?;
    let plan = b.plan().await?;
    let snapshot = plan.snapshot.clone();
    let types = schema.fields().iter().map(|f| type_of(f.name())).collect();
    let mut sink = open_sink(
        request.format,
        dest,
        Arc::new(Schema::clone(&schema)),
        types,
    )?;
    if snapshot.is_some() {
        let mut stream = b.execute_plan(plan).await?;
        let mut remaining = request.limit;
        while remaining != Some(0) {
            let Some(batch) = stream.next().await else {
                break;
            };
            let mut batch = batch?;
            if let Some(r) = remaining {
                if batch.num_rows() > r {
                    batch = batch.slice(0, r);
                }
                remaining = Some(r - batch.num_rows());
            }
            if batch.num_rows() > 0 {
                sink.write(&batch)?;
            }
        }
    }
    let rows = sink.finish()?;
    if wh.stats_enabled() {
        let stats = metrics.snapshot();
        let totals = match &snapshot {
            Some(s) => Some(table_totals(wh, table, s).await?),
            None => None,
        };
        eprintln!(
            "{}",
            scan_report(&stats, totals, rows, snapshot.as_ref().map(|s| s.id))
        );
    }
    Ok(rows)
}

/// Partitions, files and bytes of every live file of a snapshot, read through an unmetered
/// handle so that the scan's request counts stay its own.
async fn table_totals(
    wh: &Warehouse,
    table: &Table,
    snapshot: &streamhouse_format::snapshot::Snapshot,
) -> CliResult<(u64, u64, u64)> {
    let plain = Warehouse::open(&wh.url)?;
    let mut t = table.clone();
    t.io = plain.io;
    let files = t.all_live_files(snapshot).await?;
    let partitions: HashSet<&[u8]> = files.iter().map(|e| e.partition.as_slice()).collect();
    let bytes: i64 = files.iter().map(|e| e.file.file_size.max(0)).sum();
    Ok((partitions.len() as u64, files.len() as u64, bytes as u64))
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
    totals: Option<(u64, u64, u64)>,
    rows: u64,
    snapshot: Option<i64>,
) -> String {
    let (parts, files, bytes) = totals.unwrap_or((0, 0, 0));
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
