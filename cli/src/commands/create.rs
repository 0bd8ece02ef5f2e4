//! `streamhouse create`: a table from its column list, keys and options.

use streamhouse::{Catalog, CreateOutcome, TableSpec};

use super::inspect::schema_view;
use crate::args::CreateArgs;
use crate::error::{CliError, CliResult};
use crate::output::records::print_text;

/// Trims the items of a comma list and drops empty ones.
fn clean(list: Vec<String>) -> Vec<String> {
    list.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The table spec these arguments ask for; a column or option given twice is a usage error.
pub fn spec_for(args: &CreateArgs) -> CliResult<TableSpec> {
    let primary_key = clean(args.primary_key.clone());
    let partition_by = clean(args.partition_by.clone());
    for (what, keys) in [
        ("--primary-key", &primary_key),
        ("--partition-by", &partition_by),
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
    let mut spec = TableSpec::parse(&args.schema)?
        .primary_key(primary_key)
        .partition_by(partition_by);
    for (k, v) in &args.options {
        if spec.options.insert(k.clone(), v.clone()).is_some() {
            return Err(CliError::Usage(format!("--option {k} is given twice")));
        }
    }
    Ok(spec)
}

pub async fn run(catalog: &Catalog, args: CreateArgs) -> CliResult<()> {
    let spec = spec_for(&args)?;
    let id = &args.table;
    match catalog.create_table(id, spec, args.if_not_exists).await? {
        CreateOutcome::Created(table) => {
            let bucket = table.options().bucket;
            let schema = table.schema();
            let cross_partition = schema
                .partition_keys
                .iter()
                .any(|p| !schema.primary_keys.contains(p));
            if table.is_primary_key_table() && (bucket < -1 || (bucket == -1 && cross_partition)) {
                let mode = if bucket == -1 {
                    "dynamic bucket with a primary key that lacks a partition column (cross-partition upsert)"
                } else {
                    "Paimon's postpone bucket mode"
                };
                eprintln!(
                    "warning: bucket = {bucket} here is {mode}, which streamhouse reads but cannot write yet; use --option bucket=N (N ≥ 1), or bucket = -1 with every partition column in the primary key, for tables you write with streamhouse"
                );
            }
            let text = format!(
                "created table {id} in {}\n{}",
                catalog.url(),
                schema_view(&table)
            );
            print_text(&text)
        }
        CreateOutcome::AlreadyExisted(_) => print_text(&format!(
            "table {id} already exists in {}; left unchanged\n",
            catalog.url()
        )),
    }
}
