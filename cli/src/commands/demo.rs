//! `streamhouse demo`: a guided tour on `demo.orders` that uses the same code paths as the
//! commands it shows (create, write from JSON lines, scan, snapshots, files).

use streamhouse::{Catalog, Identifier, Table};

use super::create::spec_for;
use super::inspect::{file_records, schema_view, snapshot_records};
use super::plural;
use super::scan::scan_to;
use super::write::write_source;
use crate::args::{CreateArgs, InfoOutput, InputFormat, ScanOutput};
use crate::error::CliResult;
use crate::input::Source;
use crate::output::records::print_text;
use crate::output::Dest;

const TABLE: &str = "demo.orders";
const COLUMNS: &str =
    "order_id BIGINT NOT NULL, customer STRING, item STRING, amount DECIMAL(10, 2), status STRING";

const INSERTS: &[&str] = &[
    r#"{"order_id": 1, "customer": "alice", "item": "coffee beans", "amount": "12.50", "status": "paid"}"#,
    r#"{"order_id": 2, "customer": "bob", "item": "teapot", "amount": "30.00", "status": "paid"}"#,
    r#"{"order_id": 3, "customer": "carol", "item": "mug", "amount": "8.75", "status": "paid"}"#,
    r#"{"order_id": 4, "customer": "dave", "item": "kettle", "amount": "45.00", "status": "paid"}"#,
];
const UPDATES: &[&str] = &[
    r#"{"order_id": 2, "customer": "bob", "item": "teapot", "amount": "30.00", "status": "shipped", "rowkind": "+U"}"#,
    r#"{"order_id": 4, "customer": "dave", "item": "kettle", "amount": "39.90", "status": "paid"}"#,
];
const DELETES: &[&str] = &[r#"{"order_id": 3, "rowkind": "-D"}"#];

struct Demo<'a> {
    catalog: &'a Catalog,
    /// `streamhouse`, plus `--warehouse URL` when it is not the default.
    cmd: String,
}

fn say(text: &str) -> CliResult<()> {
    print_text(&format!("{text}\n"))
}

impl Demo<'_> {
    fn step(&self, n: u32, title: &str, explain: &str, command: &str) -> CliResult<()> {
        say(&format!(
            "\n== Step {n}: {title} ==\n{explain}\n\n  $ {} {command}\n",
            self.cmd
        ))
    }

    /// Writes JSON lines through the same path as `streamhouse write --format json`.
    async fn write(&self, table: &Table, lines: &[&str]) -> CliResult<()> {
        let mut command = format!("  $ {} write {TABLE} --format json <<'EOF'\n", self.cmd);
        for l in lines {
            command.push_str(&format!("  {l}\n"));
        }
        say(&format!("{command}  EOF\n"))?;
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
            let count = |n: Option<i64>| plural(n.unwrap_or(0).max(0) as u64, "record");
            say(&format!(
                "  → snapshot {id} ({}) added {} to the table's files, which now hold {}",
                s.commit_kind,
                count(s.delta_record_count),
                count(s.total_record_count),
            ))?;
        }
        Ok(())
    }

    async fn scan(&self, table: &Table, snapshot: Option<i64>) -> CliResult<()> {
        let mut scan = table.scan();
        if let Some(id) = snapshot {
            scan = scan.snapshot(id);
        }
        if self.catalog.request_metrics().is_some() {
            scan = scan.with_stats();
        }
        scan_to(table, &scan, ScanOutput::Table, &Dest::Stdout)
            .await
            .map(|_| ())
    }
}

pub async fn run(catalog: &Catalog) -> CliResult<()> {
    let id = Identifier::parse(TABLE)?;
    let cmd = match catalog.url() {
        "./warehouse" => "streamhouse".to_string(),
        url => format!("streamhouse --warehouse {url}"),
    };
    let demo = Demo { catalog, cmd };
    say(&format!(
        "Streamhouse demo, in warehouse {}\n\n\
         A Streamhouse table is an Apache Paimon table: a change log, sorted Parquet files,\n\
         a primary-key index and an LSM tree in one. Each write is one atomic commit that\n\
         creates a new snapshot; each read sees one snapshot.",
        catalog.url()
    ))?;
    // The demo table of an earlier run goes, so the tour starts over.
    let removed = catalog.drop_table(&id).await?;
    if removed > 0 {
        say(&format!(
            "(Removed the {TABLE} table of an earlier demo run: {removed} files.)"
        ))?;
    }

    demo.step(
        1,
        "create a table with a primary key",
        "The primary key order_id means the table keeps one row per order: writing an\n\
         order_id again replaces its row, and a delete removes it.",
        &format!("create {TABLE} --schema '{COLUMNS}' --primary-key order_id"),
    )?;
    let args = CreateArgs {
        table: id.clone(),
        schema: COLUMNS.into(),
        primary_key: vec!["order_id".into()],
        partition_by: vec![],
        options: vec![],
        if_not_exists: false,
    };
    let table = catalog
        .create_table(&id, spec_for(&args)?, false)
        .await?
        .into_table();
    say(&schema_view(&table))?;

    say("== Step 2: insert four orders ==\n\
         Rows are JSON objects, one per line (CSV and Parquet work too). The write sorts\n\
         them by key into a Parquet file and commits them as snapshot 1.\n")?;
    demo.write(&table, INSERTS).await?;

    say("\n== Step 3: update two orders ==\n\
         The rowkind column marks changes: +U is the new version of a row. Writing an\n\
         existing key as a plain insert (+I, the default) replaces the row too (an upsert).\n\
         Nothing is rewritten: new versions go to a new file and reads pick the newest.\n")?;
    demo.write(&table, UPDATES).await?;

    say("\n== Step 4: delete an order ==\n\
         A -D row deletes the row with its key; the key is all it needs.\n")?;
    demo.write(&table, DELETES).await?;

    demo.step(
        5,
        "read the table",
        "A scan reads the latest snapshot and merges the files by key (merge-on-read):\n\
         the newest version of each order wins and the deleted order is gone.",
        &format!("scan {TABLE}"),
    )?;
    demo.scan(&table, None).await?;

    demo.step(
        6,
        "time travel",
        "Old snapshots stay readable: snapshot 1 is the table right after the first insert.",
        &format!("scan {TABLE} --snapshot 1"),
    )?;
    demo.scan(&table, Some(1)).await?;

    demo.step(
        7,
        "the history",
        "Every commit is a snapshot. total_records counts the records in the files,\n\
         old versions and deletes included, until compaction merges them away.",
        &format!("snapshots {TABLE}"),
    )?;
    let snaps = table.snapshots().await?;
    print_text(&snapshot_records(&snaps).render(InfoOutput::Table))?;

    demo.step(
        8,
        "the files",
        "Each commit wrote one sorted file at level 0 of the bucket's LSM tree; a scan\n\
         merges these sorted runs. Compaction would merge them into fewer, larger files.",
        &format!("files {TABLE}"),
    )?;
    if let Some(latest) = snaps.last() {
        let files = table.files(latest.id).await?;
        print_text(&file_records(&files).render(InfoOutput::Table))?;
    }

    say(&format!(
        "\nThat's the tour. Try next:\n  {c} schema {TABLE}\n  {c} scan {TABLE} --output json\n  \
         {c} write --help\n\nRunning `{c} demo` again starts over with a fresh {TABLE}.",
        c = demo.cmd
    ))
}
