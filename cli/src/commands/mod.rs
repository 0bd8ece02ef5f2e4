//! One module per command; each takes the catalog and its parsed arguments, calls the
//! `streamhouse` API and prints the result.

pub mod compact;
mod create;
mod demo;
pub mod get;
mod inspect;
pub mod maintenance;
mod scan;
pub mod sql;
pub mod tag;
pub mod tail;
mod write;

use arrow::datatypes::Schema;
use streamhouse::metrics::{MetricsSnapshot, RequestKind};
use streamhouse::{Catalog, DataType, Table};

use crate::args::{Cli, Command};
use crate::error::CliResult;

pub async fn run(cli: Cli) -> CliResult<()> {
    let catalog = Catalog::builder(&cli.warehouse).metered(cli.stats).open()?;
    let result = run_command(&catalog, cli.command).await;
    // Printed whether the command succeeded or not: a failure costs requests too.
    if let Some(cost) = catalog.request_metrics() {
        eprintln!("{}", stats_report(&cost));
    }
    result
}

async fn run_command(catalog: &Catalog, command: Command) -> CliResult<()> {
    match command {
        Command::Create(a) => create::run(catalog, a).await,
        Command::Write(a) => write::run(catalog, a).await,
        Command::Scan(a) => scan::run(catalog, a).await,
        Command::Snapshots(a) => inspect::snapshots(catalog, a).await,
        Command::Schema(a) => inspect::schema(catalog, a).await,
        Command::Files(a) => inspect::files(catalog, a).await,
        Command::Tables(a) => inspect::tables(catalog, a).await,
        Command::Demo(_) => demo::run(catalog).await,
        Command::Compact(a) => compact::run(catalog, a).await,
        Command::Expire(a) => maintenance::expire(catalog, a).await,
        Command::CleanOrphans(a) => maintenance::clean_orphan_files(catalog, a).await,
        Command::Get(a) => get::run(catalog, a).await,
        Command::Tail(a) => tail::run(catalog, a).await,
        Command::Tag(a) => tag::run(catalog, a).await,
        Command::Sql(a) => sql::run(catalog, a).await,
    }
}

/// The `--columns` of a command, trimmed, without empty names, checked against the table.
pub fn columns_arg(table: &Table, given: &[String]) -> CliResult<Vec<String>> {
    let columns: Vec<String> = given
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    table.check_columns(&columns)?;
    Ok(columns)
}

/// The table's type of each column of `schema` that is a table column (how `scan` prints it).
pub fn column_types(table: &Table, schema: &Schema) -> Vec<Option<DataType>> {
    schema
        .fields()
        .iter()
        .map(|f| table.schema().field(f.name()).map(|t| t.data_type.clone()))
        .collect()
}

/// The `--stats` report: a total line, then one line per request kind that was used.
///
/// ```text
/// stats: 7 object-store requests, 12.4 KiB
///   GET                    3     2.1 KiB
///   conditional PUT        1     1.2 KiB
/// ```
pub fn stats_report(cost: &MetricsSnapshot) -> String {
    let n = cost.total_requests();
    let mut out = format!(
        "stats: {n} object-store request{}, {}",
        if n == 1 { "" } else { "s" },
        human_bytes(cost.total_bytes())
    );
    for kind in RequestKind::ALL {
        let r = cost.requests(kind);
        if r > 0 {
            out.push_str(&format!(
                "\n  {:<18} {r:>6} {:>11}",
                kind.name(),
                human_bytes(cost.bytes(kind))
            ));
        }
    }
    out
}

pub use streamhouse::metrics::human_bytes;

/// `1 row`, `2 rows`.
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
