//! `streamhouse tag create|list|delete`: named snapshots in Paimon's `tag/tag-<name>` files,
//! readable by Java Paimon and pypaimon (`table.copy({'scan.tag-name': name})`).

use clap::{Args, Subcommand};
use streamhouse::{parse_duration, Catalog, Identifier};

use crate::args::parse_identifier;
use crate::args::InfoOutput;
use crate::error::CliResult;
use crate::output::records::Records;

pub const TAG_EXAMPLES: &str = "\
Examples:
  streamhouse tag create shop.orders release-1               (tags the latest snapshot)
  streamhouse tag create shop.orders before-fix --snapshot 7 --retain 7d
  streamhouse tag list shop.orders
  streamhouse scan shop.orders --tag release-1
  streamhouse tag delete shop.orders before-fix

A tag keeps its snapshot readable (and its files safe from expiration) until it is deleted.";

#[derive(Debug, Subcommand)]
pub enum TagCommand {
    /// Tag a snapshot (the latest by default)
    Create(TagCreateArgs),
    /// List a table's tags
    List(TagListArgs),
    /// Delete a tag
    Delete(TagDeleteArgs),
}

#[derive(Debug, Args)]
pub struct TagCreateArgs {
    /// The table, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// The tag's name
    pub name: String,
    /// Snapshot id to tag (default: the latest)
    #[arg(long, value_name = "ID")]
    pub snapshot: Option<i64>,
    /// How long the tag should be kept, e.g. 7d or 12h (Paimon's tagTimeRetained)
    #[arg(long, value_name = "DURATION")]
    pub retain: Option<String>,
}

#[derive(Debug, Args)]
pub struct TagListArgs {
    /// The table, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// Output format (json: one object per line)
    #[arg(long, short, value_enum, default_value_t = InfoOutput::Table)]
    pub output: InfoOutput,
}

#[derive(Debug, Args)]
pub struct TagDeleteArgs {
    /// The table, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// The tag's name
    pub name: String,
}

pub async fn run(catalog: &Catalog, cmd: TagCommand) -> CliResult<()> {
    match cmd {
        TagCommand::Create(a) => {
            let table = catalog.table(&a.table).await?;
            let retain = a.retain.as_deref().map(parse_duration).transpose()?;
            let tag = table.create_tag(&a.name, a.snapshot, retain).await?;
            println!(
                "tagged snapshot {} of {} as {}",
                tag.snapshot.id, a.table, tag.name
            );
        }
        TagCommand::List(a) => {
            let table = catalog.table(&a.table).await?;
            let tags = table.tags().await?;
            let mut r = Records::new(vec![
                "tag",
                "snapshot",
                "committed",
                "rows",
                "retained_seconds",
            ]);
            for t in &tags {
                r.push(vec![
                    serde_json::json!(t.name),
                    serde_json::json!(t.snapshot.id),
                    serde_json::json!(chrono::DateTime::from_timestamp_millis(
                        t.snapshot.time_millis
                    )
                    .map(|d| d.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())),
                    serde_json::json!(t.snapshot.total_record_count),
                    serde_json::json!(t.time_retained),
                ]);
            }
            r.print(a.output)?;
        }
        TagCommand::Delete(a) => {
            let table = catalog.table(&a.table).await?;
            let tag = table.delete_tag(&a.name).await?;
            println!(
                "deleted tag {} (snapshot {}) of {}",
                tag.name, tag.snapshot.id, a.table
            );
        }
    }
    Ok(())
}
