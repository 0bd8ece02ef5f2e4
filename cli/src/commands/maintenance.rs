//! `streamhouse expire` and `streamhouse clean-orphans`: snapshot expiration and orphan-file
//! cleanup.

use std::time::Duration;

use clap::Args;
use streamhouse::{Catalog, Identifier};

use crate::args::{parse_duration_arg, parse_identifier};
use crate::commands::{human_bytes, plural};
use crate::error::{CliError, CliResult};

pub const EXPIRE_ABOUT: &str = "\
Delete old snapshots and the files only they use.

Follows the table's options snapshot.num-retained.min (default 10), snapshot.num-retained.max
(default unlimited), snapshot.time-retained (default 1h) and snapshot.expire.limit (default 50
per run); the flags override them for this run. Snapshots that a consumer still needs
(consumer/consumer-<id>) are kept, and files that a tag uses are never deleted. After
expiration, time travel to the deleted snapshots is no longer possible.";

pub const EXPIRE_EXAMPLES: &str = "\
Examples:
  streamhouse expire shop.orders
  streamhouse expire shop.orders --retain-min 3 --older-than 10min
  streamhouse expire shop.orders --retain-max 100";

#[derive(Debug, Args)]
pub struct ExpireArgs {
    /// The table, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// Keep at least this many snapshots (snapshot.num-retained.min)
    #[arg(long, value_name = "N")]
    pub retain_min: Option<u64>,
    /// Keep at most this many snapshots (snapshot.num-retained.max)
    #[arg(long, value_name = "N")]
    pub retain_max: Option<u64>,
    /// Expire only snapshots older than this (snapshot.time-retained), e.g. 1h, 30min, 1d
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub older_than: Option<Duration>,
    /// Expire at most this many snapshots (snapshot.expire.limit)
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

pub const ORPHANS_ABOUT: &str = "\
Delete files in the table's directories that no snapshot or tag references: leftovers of
failed or interrupted writes and compactions. Only files older than --older-than (default 1d)
are deleted, so files of commits still in progress are safe.";

#[derive(Debug, Args)]
pub struct CleanOrphansArgs {
    /// The table, as DATABASE.TABLE
    #[arg(value_name = "DB.TABLE", value_parser = parse_identifier)]
    pub table: Identifier,
    /// Only delete files older than this (e.g. 1d, 6h)
    #[arg(long, default_value = "1d", value_name = "DURATION", value_parser = parse_duration_arg)]
    pub older_than: Duration,
    /// List what would be deleted without deleting
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn expire(catalog: &Catalog, args: ExpireArgs) -> CliResult<()> {
    let table = catalog.table(&args.table).await?;
    let mut expire = table.expire()?;
    if let Some(n) = args.retain_min {
        if n == 0 {
            return Err(CliError::Usage("--retain-min must be at least 1".into()));
        }
        expire = expire.retain_min(n);
    }
    if let Some(n) = args.retain_max {
        if n == 0 {
            return Err(CliError::Usage("--retain-max must be at least 1".into()));
        }
        expire = expire.retain_max(n);
    }
    if let Some(d) = args.older_than {
        expire = expire.older_than(d);
    }
    if let Some(n) = args.limit {
        expire = expire.limit(n);
    }
    expire
        .validate()
        .map_err(|e| CliError::Usage(format!("{e}")))?;
    let cfg = expire.config();
    let r = expire.run().await?;
    match (r.expired.first(), r.expired.last()) {
        (Some(a), Some(b)) => println!(
            "{}: expired {} ({a}..{b}); deleted {}, {}, {}, {}; earliest snapshot is now {}",
            table.name(),
            plural(r.expired.len() as u64, "snapshot"),
            plural(r.data_files_deleted as u64, "data file"),
            plural(r.changelog_files_deleted as u64, "changelog file"),
            plural(r.manifest_files_deleted as u64, "manifest file"),
            plural(r.index_files_deleted as u64, "index file"),
            r.earliest.unwrap_or(*b + 1)
        ),
        _ => println!(
            "{}: nothing to expire (keeping at least {}, those newer than {:?}, and those consumers need)",
            table.name(),
            plural(cfg.retain_min, "snapshot"),
            cfg.time_retained
        ),
    }
    Ok(())
}

pub async fn clean_orphan_files(catalog: &Catalog, args: CleanOrphansArgs) -> CliResult<()> {
    let table = catalog.table(&args.table).await?;
    let r = table.clean_orphans(args.older_than, args.dry_run).await?;
    for p in &r.deleted {
        println!(
            "{}{p}",
            if args.dry_run {
                "would delete "
            } else {
                "deleted "
            }
        );
    }
    println!(
        "{}: {} {} ({}){}",
        table.name(),
        if args.dry_run {
            "would delete"
        } else {
            "deleted"
        },
        plural(r.deleted.len() as u64, "orphan file"),
        human_bytes(r.bytes),
        if r.kept_young > 0 {
            format!(
                "; kept {} younger than {:?}",
                plural(r.kept_young as u64, "unreferenced file"),
                args.older_than
            )
        } else {
            String::new()
        }
    );
    Ok(())
}
