//! Orphan-file cleanup: deletes files in a table's data and metadata directories that no
//! snapshot and no tag references and that are older than a safety window (default 1 day),
//! so that files of commits still in flight survive.
//!
//! Looked at: `manifest/`, `index/`, and every file under partition / bucket directories
//! (data and changelog files, temporary `.…tmp` files). Never touched: `snapshot/`,
//! `schema/`, `tag/`, `consumer/`, `branch/`, `changelog/`, `statistics/` and files directly
//! in the table directory. A file counts as referenced when any snapshot or tag names it:
//! manifest lists, manifests, index manifests and index files, and every data or changelog
//! file added by a referenced manifest (a superset of the live files, which is safe).

use std::time::Duration;

use crate::error::{ErrorKind, Result};
use crate::io::expire::{partition_paths, read_tags, References};
use crate::io::table::Table;

/// Directories directly under the table that hold metadata we never delete.
const PROTECTED_DIRS: &[&str] = &[
    "snapshot",
    "schema",
    "tag",
    "consumer",
    "branch",
    "changelog",
    "statistics",
    "_compaction",
];

/// What a cleanup found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrphanReport {
    /// Files deleted (paths inside the store).
    pub deleted: Vec<String>,
    pub bytes: u64,
    /// Unreferenced files kept because they are younger than the window.
    pub kept_young: usize,
}

/// Deletes unreferenced files older than `older_than`. With `dry_run`, only reports them.
pub async fn clean_orphans(
    table: &Table,
    older_than: Duration,
    dry_run: bool,
) -> Result<OrphanReport> {
    // Take the listing first: a file committed after this point is younger than the window
    // or referenced by a snapshot read below.
    let listing = table.io.list_recursive(&table.root).await?;
    let pp = partition_paths(table);
    let mut refs = References::default();
    let mut ids = table.list_snapshot_ids().await?;
    // Snapshots committed while we list are referenced too.
    if let Some(latest) = table.latest_snapshot_id().await? {
        if ids.last().is_none_or(|l| *l < latest) {
            ids.extend(ids.last().map_or(1, |l| l + 1)..=latest);
        }
    }
    for id in ids {
        match table.snapshot(id).await {
            Ok(s) => refs.add(table, &s, true, &pp).await?,
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    for (_, s) in read_tags(table).await? {
        refs.add(table, &s, true, &pp).await?;
    }
    let cutoff = table.io.now_millis() - older_than.as_millis() as i64;
    let root_parts = table.root.parts().count();
    let mut report = OrphanReport::default();
    for meta in listing {
        let parts: Vec<String> = meta
            .location
            .parts()
            .skip(root_parts)
            .map(|p| p.as_ref().to_string())
            .collect();
        let (Some(first), Some(name)) = (parts.first(), parts.last()) else {
            continue;
        };
        if parts.len() < 2 || PROTECTED_DIRS.contains(&first.as_str()) {
            continue;
        }
        let referenced = match first.as_str() {
            "manifest" => refs.manifests.contains(name),
            "index" => refs.index_files.contains(name),
            _ => {
                // Only files inside bucket directories are data; leave anything else alone.
                let in_bucket = parts
                    .get(parts.len().saturating_sub(2))
                    .is_some_and(|d| d.starts_with("bucket-"));
                if !in_bucket {
                    continue;
                }
                refs.data_files.contains(&meta.location) || refs.index_files.contains(name)
            }
        };
        if referenced {
            continue;
        }
        if meta.last_modified.timestamp_millis() > cutoff {
            report.kept_young += 1;
            continue;
        }
        if !dry_run {
            table.io.check_within_warehouse(&meta.location)?;
            table.io.delete(&meta.location).await?;
            crate::io::faults::crash_point("clean-orphans.file-deleted");
        }
        report.bytes += meta.size;
        report.deleted.push(meta.location.to_string());
    }
    Ok(report)
}
