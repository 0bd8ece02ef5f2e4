//! `streamhouse sql`: a SQL query over every table of the warehouse (DataFusion), with the
//! same output formats as `scan`.

use std::path::PathBuf;

use clap::Args;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use streamhouse::{Catalog, DataType, TypeKind, MAX_LENGTH};

use crate::args::ScanOutput;
use crate::error::{CliError, CliResult};
use crate::output::{open_sink, Dest};

pub const SQL_ABOUT: &str = "\
Run one SQL query over the tables of the warehouse, each known as DATABASE.TABLE and read at its
latest snapshot (primary-key tables merged). The query runs in DataFusion; filters on table
columns (comparisons, BETWEEN, IN, IS NULL, AND/OR/NOT) are pushed into Streamhouse's scan, which
skips partitions, buckets, files, row groups and pages that cannot match; projections and LIMIT
are pushed down too.

Output formats are those of `scan`: table (default), csv, json, parquet.";

pub const SQL_EXAMPLES: &str = "\
Examples:
  streamhouse sql \"SELECT category, sum(amount) FROM db.t WHERE id < 1000 GROUP BY 1\"
  streamhouse sql \"SELECT count(*) FROM shop.orders\" --output json
  streamhouse sql \"EXPLAIN SELECT * FROM shop.orders WHERE id = 7\"";

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query
    #[arg(value_name = "QUERY")]
    pub query: String,
    /// Output format
    #[arg(long, short, value_enum, default_value_t = ScanOutput::Table)]
    pub output: ScanOutput,
    /// Write to this file instead of stdout
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// The Paimon type whose output form a result column takes (as `scan` prints table columns);
/// `None` for Arrow types without one.
fn paimon_type(t: &arrow::datatypes::DataType) -> Option<DataType> {
    use arrow::datatypes::{DataType as A, TimeUnit};
    let precision = |u: &TimeUnit| match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    };
    Some(DataType::new(match t {
        A::Boolean => TypeKind::Boolean,
        A::Int8 => TypeKind::TinyInt,
        A::Int16 => TypeKind::SmallInt,
        A::Int32 => TypeKind::Int,
        A::Int64 => TypeKind::BigInt,
        A::Float32 => TypeKind::Float,
        A::Float64 => TypeKind::Double,
        A::Decimal128(p, s) if *s >= 0 => TypeKind::Decimal {
            precision: *p as u32,
            scale: *s as u32,
        },
        A::Utf8 | A::LargeUtf8 | A::Utf8View => TypeKind::VarChar(MAX_LENGTH),
        A::Binary | A::LargeBinary | A::BinaryView => TypeKind::VarBinary(MAX_LENGTH),
        A::Date32 => TypeKind::Date,
        A::Timestamp(u, None) => TypeKind::Timestamp(precision(u)),
        A::Timestamp(u, Some(_)) => TypeKind::LocalZonedTimestamp(precision(u)),
        _ => return None,
    }))
}

fn df(e: datafusion::error::DataFusionError) -> CliError {
    CliError::Failed(format!("sql: {e}"))
}

pub async fn run(catalog: &Catalog, args: SqlArgs) -> CliResult<()> {
    let config = SessionConfig::new().with_information_schema(true);
    let ctx = SessionContext::new_with_config(config);
    streamhouse_sql::register_catalog(&ctx, catalog)
        .await
        .map_err(df)?;
    let frame = ctx.sql(&args.query).await.map_err(df)?;
    let schema = frame.schema().inner().clone();
    let dest = args.out.map(Dest::File).unwrap_or(Dest::Stdout);
    let types = schema
        .fields()
        .iter()
        .map(|f| paimon_type(f.data_type()))
        .collect();
    let mut sink = open_sink(args.output, &dest, schema, types)?;
    let mut stream = frame.execute_stream().await.map_err(df)?;
    let result: CliResult<()> = async {
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(df)?;
            if batch.num_rows() > 0 {
                sink.write(&batch)?;
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        dest.remove_partial();
        return Err(e);
    }
    sink.finish().map(|_| ())
}
