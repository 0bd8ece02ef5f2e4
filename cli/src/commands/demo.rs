//! `streamhouse demo`: a guided tour on `demo.orders` that uses the same code paths as the
//! commands it shows (create, write from JSON lines, scan, snapshots, files).

use streamhouse_format::io::{Identifier, Table};

use super::create::schema_for;
use super::inspect::{all_snapshots, schema_view, snapshot_records};
use super::scan::{scan_to, ScanRequest};
use super::write::write_source;
use crate::args::{CreateArgs, InfoOutput, InputFormat, ScanOutput};
use crate::error::CliResult;
use crate::input::Source;
use crate::output::records::print_text;
use crate::output::Dest;
use crate::warehouse::Warehouse;

const TABLE: &str = "demo.orders";
const COLUMNS: &str =
    "order_id BIGINT NOT NULL, customer STRING, item STRING, amount DECIMAL(10, 2), status STRING";

fn say(text: &str) -> CliResult<()> {
    print_text(&format!("{text}\n"))
}

fn step(n: u32, title: &str, explain: &str, command: &str) -> CliResult<()> {
    say(&format!(
        "\n== Step {n}: {title} ==\n{explain}\n\n  $ {command}\n"
    ))
}

/// Deletes every file of the demo table left by an earlier run.
async fn drop_previous(wh: &Warehouse, id: &Identifier) -> CliResult<usize> {
    let root = wh.table_root(id);
    let files = wh.io.list_recursive(&root).await?;
    for f in &files {
        wh.io.delete(&f.location).await?;
    }
    Ok(files.len())
}

/// Writes JSON lines through the same path as `streamhouse write --format json`.
async fn write_step(table: &Table, lines: &[&str]) -> CliResult<()> {
    let mut command = format!("streamhouse write {TABLE} --format json <<'EOF'\n");
    for l in lines {
        command.push_str(&format!("  {l}\n"));
    }
    command.push_str("  EOF");
    say(&format!("  $ {command}\n"))?;
    let data = lines.join("\n").into_bytes();
    let source = Source::Memory {
        name: "the demo's input".into(),
        data,
    };
    let outcome = write_source(table, source, InputFormat::Json, 1024).await?;
    for line in outcome.report(TABLE, "the input").lines() {
        say(&format!("  → {line}"))?;
    }
    if let Some(id) = outcome
        .summary
        .as_ref()
        .and_then(|s| s.snapshot_ids.first())
    {
        let s = table.snapshot(*id).await?;
        say(&format!(
            "  → snapshot {id} is a {} commit: {} records added to the files; {} records in all files now",
            s.commit_kind,
            s.delta_record_count.unwrap_or(0),
            s.total_record_count.unwrap_or(0)
        ))?;
    }
    Ok(())
}

async fn scan_step(wh: &Warehouse, table: &Table, snapshot: Option<i64>) -> CliResult<()> {
    let request = ScanRequest {
        snapshot,
        columns: None,
        limit: None,
        format: ScanOutput::Table,
    };
    scan_to(wh, table, &request, &Dest::Stdout)
        .await
        .map(|_| ())
}

pub async fn run(wh: &Warehouse) -> CliResult<()> {
    let id = Identifier::parse(TABLE)?;
    let flag = format!("--warehouse {}", wh.url);
    say(&format!(
        "Streamhouse demo, in warehouse {}\n\nA Streamhouse table is an Apache Paimon table: a change log, sorted Parquet files,\na primary-key index and an LSM tree in one. Each write is one atomic commit that\ncreates a new snapshot; each read sees one snapshot.",
        wh.url
    ))?;
    let removed = drop_previous(wh, &id).await?;
    if removed > 0 {
        say(&format!(
            "(Removed the {TABLE} table of an earlier demo run: {removed} files.)"
        ))?;
    }

    step(
        1,
        "create a table with a primary key",
        "The primary key order_id means the table keeps one row per order: writing an\norder_id again replaces its row, and a delete removes it.",
        &format!("streamhouse create {TABLE} --schema '{COLUMNS}' --primary-key order_id"),
    )?;
    let args = CreateArgs {
        table: id.clone(),
        schema: COLUMNS.into(),
        primary_key: vec!["order_id".into()],
        partition_by: vec![],
        options: vec![],
        if_not_exists: false,
    };
    let schema = schema_for(&args, chrono::Utc::now().timestamp_millis())?;
    let table = Table::create(wh.io.clone(), wh.table_root(&id), TABLE, schema).await?;
    say(&schema_view(&table))?;

    say("\n== Step 2: insert four orders ==\nRows are JSON objects, one per line (CSV and Parquet work too). The write\nsorts them by key into a Parquet file and commits: snapshot 1.\n")?;
    write_step(&table, &[
        r#"{"order_id": 1, "customer": "alice", "item": "coffee beans", "amount": "12.50", "status": "paid"}"#,
        r#"{"order_id": 2, "customer": "bob", "item": "teapot", "amount": "30.00", "status": "paid"}"#,
        r#"{"order_id": 3, "customer": "carol", "item": "mug", "amount": "8.75", "status": "paid"}"#,
        r#"{"order_id": 4, "customer": "dave", "item": "kettle", "amount": "45.00", "status": "paid"}"#,
    ])
    .await?;

    say("\n== Step 3: update two orders ==\nThe rowkind column marks changes: +U is the new version of a row. Writing an\nexisting key as a plain insert (+I, the default) also replaces the row (an upsert).\nNothing is rewritten: the new versions go to a new file, and reads pick the newest.\n")?;
    write_step(&table, &[
        r#"{"order_id": 2, "customer": "bob", "item": "teapot", "amount": "30.00", "status": "shipped", "rowkind": "+U"}"#,
        r#"{"order_id": 4, "customer": "dave", "item": "kettle", "amount": "39.90", "status": "paid"}"#,
    ])
    .await?;

    say("\n== Step 4: delete an order ==\nA -D row deletes the row with its key; the key is all it needs.\n")?;
    write_step(&table, &[r#"{"order_id": 3, "rowkind": "-D"}"#]).await?;

    step(
        5,
        "read the table",
        "A scan reads the latest snapshot and merges the files by key (merge-on-read):\nthe newest version of each order wins and the deleted order is gone.",
        &format!("streamhouse scan {TABLE}"),
    )?;
    scan_step(wh, &table, None).await?;

    step(
        6,
        "time travel",
        "Old snapshots stay readable: snapshot 1 still shows the table right after the\nfirst insert.",
        &format!("streamhouse scan {TABLE} --snapshot 1"),
    )?;
    scan_step(wh, &table, Some(1)).await?;

    step(
        7,
        "the history",
        "Every commit is a snapshot. total_records counts records in the files, including\nold versions and deletes, until compaction merges them away.",
        &format!("streamhouse snapshots {TABLE}"),
    )?;
    let snaps = all_snapshots(&table).await?;
    print_text(&snapshot_records(&snaps).render(InfoOutput::Table))?;

    say(&format!(
        "\nThat's it. Try these next (add `{flag}` if you used it above):\n  streamhouse schema {TABLE}\n  streamhouse files {TABLE}        # the LSM files of each bucket\n  streamhouse scan {TABLE} --output json\n  streamhouse write {TABLE} --help\n\nRunning `streamhouse demo` again starts over with a fresh {TABLE}."
    ))
}
