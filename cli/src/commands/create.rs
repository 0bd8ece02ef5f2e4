//! `streamhouse create`: a table's schema file, with the CLI's bucket defaults.

use std::collections::BTreeMap;

use streamhouse_format::io::Table;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::parse_columns;
use streamhouse_format::Error;

use super::inspect::schema_view;
use crate::args::CreateArgs;
use crate::error::{CliError, CliResult};
use crate::output::records::print_text;
use crate::warehouse::Warehouse;

/// Buckets of a primary-key table created without a `bucket` option.
pub const DEFAULT_PK_BUCKETS: &str = "1";
/// Buckets of an append table created without a `bucket` option (no buckets).
pub const DEFAULT_APPEND_BUCKETS: &str = "-1";

/// Trims the items of a comma list and drops empty ones.
fn clean(list: Vec<String>) -> Vec<String> {
    list.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The schema `create` writes for these arguments.
pub fn schema_for(args: &CreateArgs, now_millis: i64) -> CliResult<TableSchema> {
    let columns = parse_columns(&args.schema)?;
    let primary_keys = clean(args.primary_key.clone());
    let partition_keys = clean(args.partition_by.clone());
    for (what, keys) in [
        ("--primary-key", &primary_keys),
        ("--partition-by", &partition_keys),
    ] {
        if let Some(dup) = keys
            .iter()
            .enumerate()
            .find(|(i, k)| keys[..*i].contains(k))
            .map(|(_, k)| k)
        {
            return Err(CliError::Usage(format!("{what} names column {dup} twice")));
        }
    }
    let mut options = BTreeMap::new();
    for (k, v) in &args.options {
        if options.insert(k.clone(), v.clone()).is_some() {
            return Err(CliError::Usage(format!("--option {k} is given twice")));
        }
    }
    if !options.contains_key("bucket") {
        let default = if primary_keys.is_empty() {
            DEFAULT_APPEND_BUCKETS
        } else {
            DEFAULT_PK_BUCKETS
        };
        options.insert("bucket".to_string(), default.to_string());
    }
    Ok(TableSchema::new(
        columns,
        partition_keys,
        primary_keys,
        options,
        now_millis,
    )?)
}

pub async fn run(wh: &Warehouse, args: CreateArgs) -> CliResult<()> {
    let schema = schema_for(&args, chrono::Utc::now().timestamp_millis())?;
    let id = &args.table;
    match Table::create(wh.io.clone(), wh.table_root(id), id.to_string(), schema).await {
        Ok(table) => {
            if table.is_primary_key_table() && table.options.bucket < 1 {
                eprintln!(
                    "warning: bucket = {} on a primary-key table is Paimon's dynamic/postpone bucket mode, which streamhouse cannot write yet; use --option bucket=N (N ≥ 1) for tables you write with streamhouse",
                    table.options.bucket
                );
            }
            let text = format!("created table {id} in {}\n{}", wh.url, schema_view(&table));
            print_text(&text)
        }
        Err(Error::AlreadyExists(_)) if args.if_not_exists => print_text(&format!(
            "table {id} already exists in {}; left unchanged\n",
            wh.url
        )),
        Err(Error::AlreadyExists(_)) => Err(CliError::Failed(format!(
            "table {id} already exists in {} (see it with `streamhouse schema {id}`)",
            wh.url
        ))),
        Err(e) => Err(e.into()),
    }
}
