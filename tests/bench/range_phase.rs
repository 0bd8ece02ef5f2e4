//! Workload W, range and SQL phases.
//!
//! * range: `id BETWEEN lo AND hi` over 1 % of the key space (at scale 1: 1,062,502 to
//!   1,087,501), with the bytes read beside the table's bytes, timed beside arrow-rs reading the
//!   same range from one Parquet file holding the table's rows sorted by id (row groups and
//!   pages chosen from that file's statistics and page index, rows filtered exactly);
//! * SQL: `SELECT category, sum(amount), count(*) FROM bench.w GROUP BY 1` through
//!   streamhouse-sql beside DataFusion over the sorted Parquet file (the same rows).
//!
//! Both run on the table as the load and upsert phases left it (level-0 files only) and again
//! after the compact phase.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{AsArray, BooleanArray, Int64Array, RecordBatch};
use arrow::compute::{
    and, concat_batches, filter_record_batch, sort_to_indices, take_record_batch,
};
use arrow::datatypes::{Float64Type, Int64Type};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::{
    ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection, RowSelector,
};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::PageIndexPolicy;
use streamhouse_format::io::metrics::metered_io;
use streamhouse_format::io::Table;
use streamhouse_reader::scan_stats::ScanMetrics;
use streamhouse_reader::ScanBuilder;

use crate::{parquet_props, peak_rss_mib, reset_peak_rss, Row};

/// The 1 % key range of a table with ids `0..ids`.
pub fn key_range(ids: i64) -> (i64, i64) {
    let lo = (ids as f64 * 0.425) as i64 + 2;
    (lo, lo + ids / 100 - 1)
}

/// Writes the table's rows (latest snapshot) sorted by id into one Parquet file.
pub async fn sorted_file(table: &Table, work: &FsPath) -> PathBuf {
    let batches = ScanBuilder::new(table).to_batches().await.expect("scan");
    let schema = batches[0].schema();
    let all = concat_batches(&schema, &batches).expect("concat");
    let idx = sort_to_indices(all.column(0), None, None).expect("sort");
    let sorted = take_record_batch(&all, &idx).expect("take");
    let path = work.join("sorted.parquet");
    let f = std::fs::File::create(&path).expect("file");
    let mut w = ArrowWriter::try_new(f, schema, Some(parquet_props())).expect("writer");
    for start in (0..sorted.num_rows()).step_by(65_536) {
        let n = 65_536.min(sorted.num_rows() - start);
        w.write(&sorted.slice(start, n)).expect("write");
    }
    w.close().expect("close");
    path
}

/// arrow-rs on the sorted file: pages of `id` overlapping the range (page index), then an
/// exact filter. Returns (rows, sum of amount).
fn arrow_range(path: &FsPath, lo: i64, hi: i64) -> (u64, f64) {
    let file = std::fs::File::open(path).expect("open");
    let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required);
    let builder =
        ParquetRecordBatchReaderBuilder::try_new_with_options(file, options).expect("reader");
    let meta = builder.metadata().clone();
    let conv = StatisticsConverter::try_new("id", builder.schema(), builder.parquet_schema())
        .expect("id column");
    let (ci, oi) = (
        meta.column_index().expect("column index"),
        meta.offset_index().expect("offset index"),
    );
    let mut groups = vec![];
    let mut selectors = vec![];
    for rg in 0..meta.num_row_groups() {
        let one = [rg];
        let mins = conv.data_page_mins(ci, oi, one.iter()).expect("mins");
        let maxes = conv.data_page_maxes(ci, oi, one.iter()).expect("maxes");
        let rows = conv
            .data_page_row_counts(oi, meta.row_groups(), one.iter())
            .expect("rows")
            .expect("row counts");
        let (mins, maxes) = (
            mins.as_primitive::<Int64Type>(),
            maxes.as_primitive::<Int64Type>(),
        );
        let hits: Vec<bool> = (0..rows.len())
            .map(|p| !(mins.value(p) > hi || maxes.value(p) < lo))
            .collect();
        if !hits.contains(&true) {
            continue;
        }
        groups.push(rg);
        for (p, hit) in hits.into_iter().enumerate() {
            let n = rows.value(p) as usize;
            selectors.push(if hit {
                RowSelector::select(n)
            } else {
                RowSelector::skip(n)
            });
        }
    }
    let reader = builder
        .with_row_groups(groups)
        .with_row_selection(RowSelection::from(selectors))
        .build()
        .expect("build");
    let (mut rows, mut sum) = (0u64, 0.0);
    for b in reader {
        let b = b.expect("batch");
        let id = b.column(0).as_primitive::<Int64Type>();
        let lo_a = Int64Array::new_scalar(lo);
        let hi_a = Int64Array::new_scalar(hi);
        let keep: BooleanArray = and(
            &arrow::compute::kernels::cmp::gt_eq(id, &lo_a).expect("cmp"),
            &arrow::compute::kernels::cmp::lt_eq(id, &hi_a).expect("cmp"),
        )
        .expect("and");
        let b = filter_record_batch(&b, &keep).expect("filter");
        rows += b.num_rows() as u64;
        sum += amount_sum(&b);
    }
    (rows, sum)
}

fn amount_sum(b: &RecordBatch) -> f64 {
    b.column_by_name("amount")
        .map(|a| a.as_primitive::<Float64Type>().iter().flatten().sum())
        .unwrap_or(0.0)
}

/// Runs the range and SQL phases; `label` names the table's state. Returns whether the
/// results agreed.
pub async fn run(
    table: &Table,
    sorted: &FsPath,
    ids: i64,
    label: &str,
    report: &mut Vec<Row>,
) -> bool {
    let (lo, hi) = key_range(ids);
    let snapshot = table
        .snapshot_or_latest(None)
        .await
        .expect("snapshot")
        .expect("committed");
    let table_bytes: i64 = table
        .all_live_files(&snapshot)
        .await
        .expect("files")
        .iter()
        .map(|e| e.file.file_size)
        .sum();
    let (io, store_metrics) = metered_io(&table.io);
    let mut metered = table.clone();
    metered.io = io;
    let where_text = format!("id BETWEEN {lo} AND {hi}");

    reset_peak_rss();
    let metrics = Arc::new(ScanMetrics::default());
    let start = Instant::now();
    let batches = ScanBuilder::new(&metered)
        .filter_text(where_text.clone())
        .metrics(metrics.clone())
        .to_batches()
        .await
        .expect("range scan");
    let range_s = start.elapsed().as_secs_f64();
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let sum: f64 = batches.iter().map(amount_sum).sum();
    let st = metrics.snapshot();
    let all_bytes = store_metrics.snapshot().read_bytes();
    reset_peak_rss();
    let start = Instant::now();
    let (base_rows, base_sum) = arrow_range(sorted, lo, hi);
    let base_s = start.elapsed().as_secs_f64();
    let range_ok = rows == base_rows && (sum - base_sum).abs() <= 1e-6 * base_sum.abs().max(1.0);
    report.push(Row {
        phase: format!("range {label}"),
        what: format!("streamhouse --where \"{where_text}\""),
        seconds: range_s,
        rows,
        rss: peak_rss_mib(),
        note: format!(
            "{}; data bytes read {:.2} % of the table ({} of {} B; all object-store reads {:.2} %), files {}/{}, row groups {}/{}, pages {}/{}; {:.2}x arrow-rs",
            if range_ok { "correct" } else { "WRONG" },
            st.data_bytes_read as f64 * 100.0 / table_bytes as f64,
            st.data_bytes_read,
            table_bytes,
            all_bytes as f64 * 100.0 / table_bytes as f64,
            st.files_opened,
            st.files_total,
            st.row_groups_read,
            st.row_groups_total,
            st.pages_read,
            st.pages_total,
            range_s / base_s
        ),
    });
    report.push(Row {
        phase: format!("range {label}"),
        what: "arrow-rs, one sorted Parquet file, page index".into(),
        seconds: base_s,
        rows: base_rows,
        rss: peak_rss_mib(),
        note: format!(
            "{} B file",
            std::fs::metadata(sorted).map(|m| m.len()).unwrap_or(0)
        ),
    });

    // The columns the aggregate reads, merged by key and read newest run first (any order).
    let mut merge_times = vec![];
    for any in [false, true] {
        reset_peak_rss();
        let start = Instant::now();
        let b = ScanBuilder::new(table)
            .projection(vec!["category".into(), "amount".into()])
            .any_order(any)
            .to_batches()
            .await
            .expect("scan");
        let secs = start.elapsed().as_secs_f64();
        let n: u64 = b.iter().map(|b| b.num_rows() as u64).sum();
        let s: f64 = b.iter().map(amount_sum).sum();
        merge_times.push((secs, n, s));
        report.push(Row {
            phase: format!("sql {label}"),
            what: if any {
                "streamhouse scan (category, amount), any order: newest run first, no merge".into()
            } else {
                "streamhouse scan (category, amount), merged by key".into()
            },
            seconds: secs,
            rows: n,
            rss: peak_rss_mib(),
            note: if any {
                let (ms, mn, msum) = merge_times[0];
                format!(
                    "{}; {:.2}x the merged scan",
                    if mn == n && (msum - s).abs() <= 1e-6 * msum.abs().max(1.0) {
                        "same rows and sum"
                    } else {
                        "DIFFERENT"
                    },
                    secs / ms
                )
            } else {
                String::new()
            },
        });
    }
    let scans_ok = merge_times[0].1 == merge_times[1].1;

    // SQL aggregate over the whole table.
    let query = "SELECT category, sum(amount) AS s, count(*) AS n FROM {} GROUP BY 1 ORDER BY 1";
    let ctx = SessionContext::new();
    streamhouse_sql::register_warehouse(&ctx, &table.io, &warehouse_root(table))
        .await
        .expect("register");
    let (ours, sql_s) = timed_sql(&ctx, &query.replace("{}", "bench.w")).await;
    let ours_rss = peak_rss_mib();
    let plain = SessionContext::new();
    plain
        .register_parquet(
            "plain",
            sorted.to_str().expect("utf8"),
            ParquetReadOptions::default(),
        )
        .await
        .expect("register parquet");
    let (theirs, df_s) = timed_sql(&plain, &query.replace("{}", "plain")).await;
    let text = |b: &[RecordBatch]| {
        arrow::util::pretty::pretty_format_batches(b)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    let counts = |b: &[RecordBatch]| -> Vec<(String, i64)> {
        b.iter()
            .flat_map(|b| {
                let c = b.column(0).clone();
                let n = b.column(2).as_primitive::<Int64Type>().clone();
                (0..b.num_rows())
                    .map(move |i| {
                        (
                            arrow::util::display::array_value_to_string(&c, i).unwrap_or_default(),
                            n.value(i),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let sql_ok = counts(&ours) == counts(&theirs);
    if !sql_ok {
        println!("SQL results differ:\n{}\n{}", text(&ours), text(&theirs));
    }
    report.push(Row {
        phase: format!("sql {label}"),
        what: "streamhouse-sql (DataFusion over the table)".into(),
        seconds: sql_s,
        rows: ids as u64,
        rss: ours_rss,
        note: format!(
            "{}; {:.2}x DataFusion on plain Parquet",
            if sql_ok { "same result" } else { "DIFFERENT" },
            sql_s / df_s
        ),
    });
    report.push(Row {
        phase: format!("sql {label}"),
        what: "DataFusion over the same rows as one Parquet file".into(),
        seconds: df_s,
        rows: ids as u64,
        rss: peak_rss_mib(),
        note: String::new(),
    });
    range_ok && sql_ok && scans_ok
}

/// Runs `query` to its end with the peak RSS reset first: its batches and seconds.
async fn timed_sql(ctx: &SessionContext, query: &str) -> (Vec<RecordBatch>, f64) {
    reset_peak_rss();
    let start = Instant::now();
    let batches = ctx
        .sql(query)
        .await
        .expect("sql")
        .collect()
        .await
        .expect("sql run");
    (batches, start.elapsed().as_secs_f64())
}

/// The warehouse root of a table (`<root>/<db>.db/<table>` → `<root>`).
fn warehouse_root(table: &Table) -> object_store::path::Path {
    let parts: Vec<_> = table.root.parts().collect();
    object_store::path::Path::from_iter(parts[..parts.len().saturating_sub(2)].iter().cloned())
}
