//! Snapshot expiration (Java `ExpireSnapshotsImpl`, format §11.3).
//!
//! Options (Paimon's names and defaults): `snapshot.num-retained.min` (10),
//! `snapshot.num-retained.max` (unlimited), `snapshot.time-retained` (1 h),
//! `snapshot.expire.limit` (50 snapshots per run).
//!
//! Snapshots `[earliest, end)` expire, where `end` keeps at least `min` snapshots, expires
//! beyond `max` regardless of age, otherwise stops at the first snapshot younger than the time
//! limit, never passes the smallest `nextSnapshot` of a consumer, and moves at most `limit`
//! past the earliest. First everything to delete is read:
//! 1. data files that a snapshot in `(earliest, end]` deleted (its delta's DELETE entries not
//!    re-added in the same delta, e.g. level upgrades), unless a tag still uses them;
//! 2. changelog files of the expired snapshots, unless a tag uses them;
//! 3. manifest lists, manifests and index manifests/files of expired snapshots that neither
//!    the snapshot `end` nor a tag references.
//!
//! Then the snapshot files are deleted, oldest first, and `EARLIEST` = `end` is written; only
//! then the files of steps 1–3. A failure or crash part-way leaves every listed snapshot
//! whole and readable: what it left behind is unreferenced, for orphan cleanup.

use std::collections::HashSet;
use std::time::Duration;

use object_store::path::Path;

use crate::error::{Error, ErrorKind, Result};
use crate::io::table::Table;
use crate::manifest::{FileKind, ManifestEntry};
use crate::options::TableOptions;
use crate::snapshot::Snapshot;

/// How many snapshots to keep (table options, overridable per run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpireConfig {
    /// `snapshot.num-retained.min` (default 10, at least 1).
    pub retain_min: u64,
    /// `snapshot.num-retained.max` (default unlimited).
    pub retain_max: u64,
    /// `snapshot.time-retained` (default 1 h).
    pub time_retained: Duration,
    /// `snapshot.expire.limit` (default 50).
    pub limit: u64,
}

impl ExpireConfig {
    /// The table's expiration options with Paimon's defaults.
    pub fn from_options(options: &TableOptions) -> Result<Self> {
        let cfg = ExpireConfig {
            retain_min: options.snapshot_num_retained_min.max(1),
            retain_max: options.snapshot_num_retained_max,
            time_retained: options.snapshot_time_retained,
            limit: options.snapshot_expire_limit.max(1),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        if self.retain_max < self.retain_min {
            return Err(Error::invalid(format!(
                "snapshot.num-retained.max ({}) is smaller than snapshot.num-retained.min ({})",
                self.retain_max, self.retain_min
            )));
        }
        Ok(())
    }
}

/// What an expiration did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpireReport {
    /// Ids of the snapshots deleted, ascending.
    pub expired: Vec<i64>,
    pub data_files_deleted: usize,
    pub changelog_files_deleted: usize,
    pub manifest_files_deleted: usize,
    pub index_files_deleted: usize,
    /// The new earliest snapshot.
    pub earliest: Option<i64>,
}

/// Reads the tags (`tag/tag-<name>`: a snapshot JSON plus tag fields). Read-only helper until
/// the tag module lands; unknown fields are ignored.
pub async fn read_tags(table: &Table) -> Result<Vec<(String, Snapshot)>> {
    let dir = table.root.clone().join("tag");
    let mut out = vec![];
    for name in table.io.list_names(&dir).await? {
        let Some(tag) = name.strip_prefix("tag-") else {
            continue;
        };
        let path = dir.clone().join(name.as_str());
        let Some(bytes) = table.io.read_opt(&path).await? else {
            continue;
        };
        out.push((tag.to_string(), Snapshot::from_json(&bytes, path.as_ref())?));
    }
    out.sort_by_key(|(_, s)| s.id);
    Ok(out)
}

/// The physical path of a data or changelog file of a manifest entry.
pub fn entry_path(table: &Table, e: &ManifestEntry, partition_path: &str) -> Path {
    table
        .bucket_dir(partition_path, e.bucket)
        .join(e.file.file_name.as_str())
}

/// Everything a set of snapshots references, by kind.
#[derive(Default)]
pub(crate) struct References {
    pub manifests: HashSet<String>,
    pub index_files: HashSet<String>,
    pub data_files: HashSet<Path>,
}

impl References {
    /// Adds the metadata files (lists, manifests, index manifest and its index files) of a
    /// snapshot; with `data`, also every data and changelog file its manifests add.
    pub(crate) async fn add(
        &mut self,
        table: &Table,
        s: &Snapshot,
        data: bool,
        partition_path: &dyn Fn(&[u8]) -> Result<String>,
    ) -> Result<()> {
        let mut lists = vec![s.base_manifest_list.clone(), s.delta_manifest_list.clone()];
        lists.extend(s.changelog_manifest_list.clone());
        for list in lists {
            if !self.manifests.insert(list.clone()) {
                continue;
            }
            for m in table.read_manifest_list(&list).await? {
                if !self.manifests.insert(m.file_name.clone()) || !data {
                    continue;
                }
                for e in table.read_manifest(&m.file_name).await? {
                    if e.kind == FileKind::Add {
                        let pp = partition_path(&e.partition)?;
                        for extra in &e.file.extra_files {
                            self.data_files
                                .insert(table.bucket_dir(&pp, e.bucket).join(extra.as_str()));
                        }
                        self.data_files.insert(entry_path(table, &e, &pp));
                    }
                }
            }
        }
        if let Some(im) = &s.index_manifest {
            if self.manifests.insert(im.clone()) {
                for e in table.read_index_manifest(im).await? {
                    self.index_files.insert(e.file_name);
                }
            }
        }
        Ok(())
    }
}

/// A closure turning a serialized partition into its directory (cached per partition).
pub(crate) fn partition_paths(table: &Table) -> impl Fn(&[u8]) -> Result<String> + '_ {
    let cache = std::sync::Mutex::new(std::collections::HashMap::<Vec<u8>, String>::new());
    move |p: &[u8]| {
        if let Some(v) = cache.lock().ok().and_then(|c| c.get(p).cloned()) {
            return Ok(v);
        }
        let v = table.partition_dir(p)?;
        if let Ok(mut c) = cache.lock() {
            c.insert(p.to_vec(), v.clone());
        }
        Ok(v)
    }
}

/// Expires snapshots of `table` by `cfg` (see the module docs), with the age of snapshots
/// measured by the table's clock ([`FileIO::clock`](crate::io::FileIO)).
pub async fn expire_snapshots(table: &Table, cfg: &ExpireConfig) -> Result<ExpireReport> {
    expire_snapshots_at(table, cfg, table.io.now_millis()).await
}

/// [`expire_snapshots`] as if the time were `now_ms`.
pub async fn expire_snapshots_at(
    table: &Table,
    cfg: &ExpireConfig,
    now_ms: i64,
) -> Result<ExpireReport> {
    cfg.validate()?;
    let mut report = ExpireReport::default();
    let (Some(earliest), Some(latest)) = (
        table.earliest_snapshot_id().await?,
        table.latest_snapshot_id().await?,
    ) else {
        return Ok(report);
    };
    report.earliest = Some(earliest);
    let retain_min = cfg.retain_min.max(1) as i64;
    let retain_max = cfg.retain_max.min(i64::MAX as u64) as i64;
    // Snapshots before `min` expire whatever their age (num-retained.max).
    let min = (latest - retain_max + 1).max(earliest);
    let mut end = latest - retain_min + 1;
    if let Some(consumer) = table.min_consumer_next_snapshot().await? {
        end = end.min(consumer);
    }
    end = end.min(earliest.saturating_add(cfg.limit as i64));
    let older_than = now_ms - cfg.time_retained.as_millis() as i64;
    let mut id = min;
    while id < end {
        match table.snapshot(id).await {
            Ok(s) if s.time_millis >= older_than => break,
            Ok(_) => id += 1,
            Err(e) if e.kind() == ErrorKind::NotFound => id += 1,
            Err(e) => return Err(e),
        }
    }
    let end = id.min(end);
    if end <= earliest {
        return Ok(report);
    }
    expire_until(table, earliest, end, &mut report).await?;
    Ok(report)
}

/// `Ok(None)` for a file of an expired snapshot (`expired`) that no longer exists: an earlier,
/// interrupted expiration deleted it. Every other error stands.
fn already_gone<T>(expired: bool, r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if expired && e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Expires snapshots `[earliest, end)`; `end` survives.
async fn expire_until(
    table: &Table,
    earliest: i64,
    end: i64,
    report: &mut ExpireReport,
) -> Result<()> {
    let retained = table.snapshot(end).await?;
    let pp = partition_paths(table);
    // What tags pin: their metadata and every data file they can read.
    let mut tagged = References::default();
    for (_, s) in read_tags(table).await? {
        tagged.add(table, &s, true, &pp).await?;
    }
    let expired: Vec<Snapshot> = table.snapshots_between(earliest, end - 1).await?;
    // 1. Data files deleted by snapshots (earliest, end].
    let mut data_files: Vec<(Path, Vec<Path>)> = vec![];
    for id in earliest + 1..=end {
        let s = match id == end {
            true => retained.clone(),
            false => match expired.iter().find(|s| s.id == id) {
                Some(s) => s.clone(),
                None => continue,
            },
        };
        let mut gone: Vec<(Path, Vec<Path>)> = vec![];
        let mut added: HashSet<Path> = HashSet::new();
        // An expired snapshot whose manifests are already gone (an earlier run that deleted
        // them and was interrupted before its snapshot files): nothing is left to do.
        let Some(delta) = already_gone(id != end, table.delta_entries(&s).await)? else {
            continue;
        };
        for e in delta {
            let p = pp(&e.partition)?;
            let path = entry_path(table, &e, &p);
            match e.kind {
                FileKind::Add => {
                    added.insert(path);
                }
                FileKind::Delete => {
                    let extras = e
                        .file
                        .extra_files
                        .iter()
                        .map(|x| table.bucket_dir(&p, e.bucket).join(x.as_str()))
                        .collect();
                    gone.push((path, extras));
                }
            }
        }
        data_files.extend(
            gone.into_iter()
                .filter(|(path, _)| !added.contains(path) && !tagged.data_files.contains(path)),
        );
    }
    // 2. Changelog files of expired snapshots.
    let mut changelog_files: Vec<Path> = vec![];
    for s in &expired {
        if s.changelog_manifest_list.is_none() {
            continue;
        }
        let Some(changelog) = already_gone(true, table.changelog_files(s).await)? else {
            continue;
        };
        for e in changelog {
            let path = entry_path(table, &e, &pp(&e.partition)?);
            if !tagged.data_files.contains(&path) {
                changelog_files.push(path);
            }
        }
    }
    // 3. Manifests and index files no survivor references.
    let mut keep = References::default();
    keep.add(table, &retained, false, &pp).await?;
    keep.manifests.extend(tagged.manifests.iter().cloned());
    keep.index_files.extend(tagged.index_files.iter().cloned());
    let mut old = References::default();
    for s in &expired {
        // Manifests an interrupted earlier run already deleted need no deleting; any it left
        // behind unlisted here are unreferenced, for orphan cleanup.
        already_gone(true, old.add(table, s, false, &pp).await)?;
    }
    // The snapshots themselves, oldest first, then the hint: from here on nothing lists them.
    for s in &expired {
        table.io.delete(&table.snapshot_path(s.id)).await?;
        crate::io::faults::crash_point("expire.snapshot-deleted");
        report.expired.push(s.id);
    }
    crate::io::faults::crash_point("expire.snapshots-deleted");
    table
        .io
        .write(&table.snapshot_dir().join("EARLIEST"), end.to_string())
        .await?;
    // Then what only they referenced.
    for (path, extras) in data_files {
        table.io.delete(&path).await?;
        crate::io::faults::crash_point("expire.data-file-deleted");
        for x in extras {
            table.io.delete(&x).await?;
        }
        report.data_files_deleted += 1;
    }
    for path in changelog_files {
        table.io.delete(&path).await?;
        report.changelog_files_deleted += 1;
    }
    for m in old.manifests.difference(&keep.manifests) {
        table.io.delete(&table.manifest_path(m)).await?;
        report.manifest_files_deleted += 1;
    }
    for f in old.index_files.difference(&keep.index_files) {
        table.io.delete(&table.index_path(f)).await?;
        report.index_files_deleted += 1;
    }
    crate::io::faults::crash_point("expire.manifests-deleted");
    report.earliest = Some(end);
    Ok(())
}
