//! One module per command; each takes the warehouse and its parsed arguments.

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

use crate::args::{Cli, Command};
use crate::error::CliResult;
use crate::warehouse::Warehouse;

pub async fn run(cli: Cli) -> CliResult<()> {
    let warehouse = if cli.stats {
        Warehouse::open_metered(&cli.warehouse)?
    } else {
        Warehouse::open(&cli.warehouse)?
    };
    let result = run_command(&warehouse, cli.command).await;
    // Printed whether the command succeeded or not: a failure costs requests too.
    if let Some(cost) = warehouse.cost() {
        eprintln!("{}", crate::warehouse::stats_report(&cost));
    }
    result
}

async fn run_command(warehouse: &Warehouse, command: Command) -> CliResult<()> {
    match command {
        Command::Create(a) => create::run(warehouse, a).await,
        Command::Write(a) => write::run(warehouse, a).await,
        Command::Scan(a) => scan::run(warehouse, a).await,
        Command::Snapshots(a) => inspect::snapshots(warehouse, a).await,
        Command::Schema(a) => inspect::schema(warehouse, a).await,
        Command::Files(a) => inspect::files(warehouse, a).await,
        Command::Tables(a) => inspect::tables(warehouse, a).await,
        Command::Demo(_) => demo::run(warehouse).await,
        Command::Compact(a) => compact::run(warehouse, a).await,
        Command::Expire(a) => maintenance::expire(warehouse, a).await,
        Command::CleanOrphans(a) => maintenance::clean_orphan_files(warehouse, a).await,
        Command::Get(a) => get::run(warehouse, a).await,
        Command::Tail(a) => tail::run(warehouse, a).await,
        Command::Tag(a) => tag::run(warehouse, a).await,
        Command::Sql(a) => sql::run(warehouse, a).await,
    }
}

/// `1536` → `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// `1 row`, `2 rows`.
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
