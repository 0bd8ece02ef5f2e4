//! `streamhouse sql`: a SQL query over every table of the warehouse (DataFusion), with the
//! same output formats as `scan`.

use std::path::PathBuf;

use clap::Args;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use streamhouse::{data_type_from_arrow, Catalog};

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
        .map(|f| data_type_from_arrow(f.data_type()))
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
