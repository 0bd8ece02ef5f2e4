//! Inspection: `snapshots`, `schema`, `files` and `tables`.

use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::io::{list_tables, Table};
use streamhouse_format::manifest::ManifestEntry;
use streamhouse_format::partition::partition_path;
use streamhouse_format::snapshot::Snapshot;
use streamhouse_format::Error;

use super::{human_bytes, plural};
use crate::args::{FilesArgs, InfoOutput, InspectArgs, TablesArgs};
use crate::error::CliResult;
use crate::output::records::{print_text, Records};
use crate::warehouse::Warehouse;

/// `2026-11-25T08:16:31.123Z`.
pub fn format_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Every snapshot still present, oldest first.
pub async fn all_snapshots(table: &Table) -> CliResult<Vec<Snapshot>> {
    let ids = table.list_snapshot_ids().await?;
    let found: Vec<Option<Snapshot>> = futures::stream::iter(ids)
        .map(|id| async move {
            match table.snapshot(id).await {
                Ok(s) => Ok(Some(s)),
                // Expired between listing and reading.
                Err(Error::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .buffered(16)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
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

pub async fn snapshots(wh: &Warehouse, args: InspectArgs) -> CliResult<()> {
    let table = wh.open_table(&args.table).await?;
    let snaps = all_snapshots(&table).await?;
    if snaps.is_empty() && args.output == InfoOutput::Table {
        return print_text(&format!(
            "table {} has no snapshots yet (nothing was written)\n",
            table.name
        ));
    }
    snapshot_records(&snaps).print(args.output)
}

fn key_roles(table: &Table, column: &str) -> String {
    let s = &table.schema;
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
    for f in &table.schema.fields {
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
    let s = &table.schema;
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    let mut out = format!("table {} (schema {})\n", table.name, s.id);
    out.push_str(&column_records(table).render(InfoOutput::Table));
    out.push_str(&format!("primary key:    {}\n", list(&s.primary_keys)));
    out.push_str(&format!("partitioned by: {}\n", list(&s.partition_keys)));
    out.push_str("options:\n");
    for (k, v) in &s.options {
        out.push_str(&format!("  {k} = {v}\n"));
    }
    out
}

pub async fn schema(wh: &Warehouse, args: InspectArgs) -> CliResult<()> {
    let table = wh.open_table(&args.table).await?;
    match args.output {
        InfoOutput::Table => print_text(&schema_view(&table)),
        InfoOutput::Csv => column_records(&table).print(InfoOutput::Csv),
        // The schema exactly as Paimon stores it, on one line.
        InfoOutput::Json => {
            let v = serde_json::to_value(&*table.schema).unwrap_or(Value::Null);
            print_text(&format!("{v}\n"))
        }
    }
}

/// `dt=2024-01-01/region=eu`, or `-` for an unpartitioned table.
fn partition_text(table: &Table, e: &ManifestEntry) -> String {
    let s = &table.schema;
    if s.partition_keys.is_empty() {
        return "-".into();
    }
    let types: Vec<_> = match s.fields_named(&s.partition_keys) {
        Ok(fields) => fields.into_iter().map(|f| f.data_type).collect(),
        Err(_) => return "?".into(),
    };
    match BinaryRow::deserialize(&e.partition).and_then(|row| row.to_datums(&types)) {
        Ok(values) => partition_path(
            &s.partition_keys,
            &types,
            &values,
            &table.options.partition_default_name,
        )
        .trim_end_matches('/')
        .to_string(),
        Err(_) => "?".into(),
    }
}

/// The live data files of `snapshot`, by partition, bucket, level and sequence.
pub async fn file_records(table: &Table, snapshot: &Snapshot) -> CliResult<Records> {
    let mut entries: Vec<(String, ManifestEntry)> = table
        .all_live_files(snapshot)
        .await?
        .into_iter()
        .map(|e| (partition_text(table, &e), e))
        .collect();
    entries.sort_by(|(pa, a), (pb, b)| {
        let key = |p, e: &ManifestEntry| (p, e.bucket, e.file.level, e.file.min_sequence_number);
        key(pa, a).cmp(&key(pb, b))
    });
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
    for (p, e) in &entries {
        r.push(vec![
            json!(p),
            json!(e.bucket),
            json!(e.file.level),
            json!(e.file.file_name),
            json!(e.file.row_count),
            json!(e.file.file_size),
            json!(e.file.min_sequence_number),
            json!(e.file.max_sequence_number),
        ]);
    }
    Ok(r)
}

pub async fn files(wh: &Warehouse, args: FilesArgs) -> CliResult<()> {
    let table = wh.open_table(&args.table).await?;
    let Some(id) = wh.resolve_snapshot(&table, args.snapshot).await? else {
        if args.output == InfoOutput::Table {
            let text = format!("table {} has no snapshots yet, so no files\n", table.name);
            return print_text(&text);
        }
        return Ok(());
    };
    let snapshot = table.snapshot(id).await?;
    let r = file_records(&table, &snapshot).await?;
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

pub async fn tables(wh: &Warehouse, args: TablesArgs) -> CliResult<()> {
    let ids = list_tables(&wh.io, &wh.root).await?;
    if ids.is_empty() && args.output == InfoOutput::Table {
        return print_text(&format!(
            "no tables in {} yet (make one with `streamhouse create` or `streamhouse demo`)\n",
            wh.url
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
