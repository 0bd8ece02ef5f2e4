//! Inspection: `snapshots`, `schema`, `files` and `tables`.

use serde_json::{json, Value};
use streamhouse::{Catalog, DataFile, Snapshot, Table};

use super::{human_bytes, plural};
use crate::args::{FilesArgs, InfoOutput, InspectArgs, TablesArgs};
use crate::error::CliResult;
use crate::output::records::{print_text, Records};

/// `2026-11-25T08:16:31.123Z`.
pub fn format_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

pub fn snapshot_records(snapshots: &[Snapshot]) -> Records {
    let mut r = Records::new(vec![
        "id",
        "kind",
        "time",
        "commit_user",
        "total_records",
        "delta_records",
        "changelog_records",
        "schema_id",
    ]);
    for s in snapshots {
        r.push(vec![
            json!(s.id),
            json!(s.commit_kind.to_string()),
            json!(format_millis(s.time_millis)),
            json!(s.commit_user),
            json!(s.total_record_count),
            json!(s.delta_record_count),
            json!(s.changelog_record_count),
            json!(s.schema_id),
        ]);
    }
    r
}

pub async fn snapshots(catalog: &Catalog, args: InspectArgs) -> CliResult<()> {
    let table = catalog.table(&args.table).await?;
    let snaps = table.snapshots().await?;
    if snaps.is_empty() && args.output == InfoOutput::Table {
        return print_text(&format!(
            "table {} has no snapshots yet (nothing was written)\n",
            table.name()
        ));
    }
    snapshot_records(&snaps).print(args.output)
}

fn key_roles(table: &Table, column: &str) -> String {
    let s = table.schema();
    let mut roles = vec![];
    if s.primary_keys.iter().any(|k| k == column) {
        roles.push("primary key");
    }
    if s.partition_keys.iter().any(|k| k == column) {
        roles.push("partition");
    }
    roles.join(", ")
}

fn column_records(table: &Table) -> Records {
    let mut r = Records::new(vec!["id", "name", "type", "key"]);
    for f in &table.schema().fields {
        r.push(vec![
            json!(f.id),
            json!(f.name),
            json!(f.data_type.to_string()),
            json!(key_roles(table, &f.name)),
        ]);
    }
    r
}

/// A table's schema for people: columns, keys, options.
pub fn schema_view(table: &Table) -> String {
    let s = table.schema();
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    let mut out = format!("table {} (schema {})\n", table.name(), s.id);
    out.push_str(&column_records(table).render(InfoOutput::Table));
    out.push_str(&format!("primary key:    {}\n", list(&s.primary_keys)));
    out.push_str(&format!("partitioned by: {}\n", list(&s.partition_keys)));
    out.push_str("options:\n");
    for (k, v) in &s.options {
        out.push_str(&format!("  {k} = {v}\n"));
    }
    out
}

pub async fn schema(catalog: &Catalog, args: InspectArgs) -> CliResult<()> {
    let table = catalog.table(&args.table).await?;
    match args.output {
        InfoOutput::Table => print_text(&schema_view(&table)),
        InfoOutput::Csv => column_records(&table).print(InfoOutput::Csv),
        // The schema exactly as Paimon stores it, on one line.
        InfoOutput::Json => {
            let v = serde_json::to_value(table.schema()).unwrap_or(Value::Null);
            print_text(&format!("{v}\n"))
        }
    }
}

/// The live data files of a snapshot, by partition, bucket, level and sequence.
pub fn file_records(files: &[DataFile]) -> Records {
    let mut r = Records::new(vec![
        "partition",
        "bucket",
        "level",
        "file",
        "rows",
        "size",
        "min_seq",
        "max_seq",
    ]);
    for f in files {
        r.push(vec![
            json!(f.partition),
            json!(f.bucket),
            json!(f.level),
            json!(f.file_name),
            json!(f.rows),
            json!(f.size),
            json!(f.min_sequence),
            json!(f.max_sequence),
        ]);
    }
    r
}

pub async fn files(catalog: &Catalog, args: FilesArgs) -> CliResult<()> {
    let table = catalog.table(&args.table).await?;
    let Some(id) = table.resolve_snapshot(args.snapshot).await? else {
        if args.output == InfoOutput::Table {
            let text = format!("table {} has no snapshots yet, so no files\n", table.name());
            return print_text(&text);
        }
        return Ok(());
    };
    let r = file_records(&table.files(id).await?);
    r.print(args.output)?;
    if args.output == InfoOutput::Table {
        let sum = |col: usize| {
            r.rows
                .iter()
                .filter_map(|row| row[col].as_i64())
                .sum::<i64>()
        };
        print_text(&format!(
            "{}, {}, {} in snapshot {id}\n",
            plural(r.rows.len() as u64, "file"),
            plural(sum(4).max(0) as u64, "record"),
            human_bytes(sum(5).max(0) as u64)
        ))?;
    }
    Ok(())
}

pub async fn tables(catalog: &Catalog, args: TablesArgs) -> CliResult<()> {
    let ids = catalog.all_tables().await?;
    if ids.is_empty() && args.output == InfoOutput::Table {
        return print_text(&format!(
            "no tables in {} yet (make one with `streamhouse create` or `streamhouse demo`)\n",
            catalog.url()
        ));
    }
    let mut r = Records::new(vec!["name", "database", "table"]);
    for id in ids {
        r.push(vec![
            json!(id.to_string()),
            json!(id.database),
            json!(id.table),
        ]);
    }
    r.print(args.output)
}
