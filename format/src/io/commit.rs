//! The one commit path. Writers and compactors hand over [`CommitMessage`]s; the committer
//! writes manifests and publishes `snapshot-<N+1>` with a create-only put.
//!
//! Protocol (see `spec/commit.md`):
//! 1. Write this commit's manifests (delta, changelog) once; they do not depend on the base.
//! 2. Read the latest snapshot L. If a snapshot committed since our first attempt carries our
//!    commit user, identifier and kind, an earlier attempt succeeded (its acknowledgement was
//!    lost): report that snapshot instead of committing twice.
//! 3. For commits that delete files (compaction, overwrite), check every deleted file is still
//!    live in L and that level ≥ 1 key ranges stay disjoint; otherwise give up with a conflict.
//! 4. Write the base manifest list (L's base + delta manifests, merged when too many), then
//!    `snapshot-<L+1>` with a create-only put. If another committer took that id, go to 2.
//! 5. After success, overwrite the `LATEST` hint (best effort).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::binary_row::BinaryRow;
use crate::datum::{compare_keys, Datum};
use crate::error::{Error, Result};
use crate::io::files::fold_entries;
use crate::io::storage::Created;
use crate::io::table::Table;
use crate::manifest::{self, DataFileMeta, FileKind, ManifestEntry, ManifestFileMeta};
use crate::snapshot::{CommitKind, Snapshot, SNAPSHOT_VERSION};
use crate::stats::SimpleStats;
use crate::types::DataType;

/// Java merges manifests once a snapshot references this many (`manifest.merge-min-count`).
const MANIFEST_MERGE_MIN_COUNT: usize = 30;
/// Entries per manifest file when merging.
const ENTRIES_PER_MERGED_MANIFEST: usize = 16_384;

/// The files one writer or compactor changed in one bucket.
#[derive(Debug, Clone, Default)]
pub struct CommitMessage {
    /// Serialized BinaryRow of the partition values.
    pub partition: Vec<u8>,
    pub bucket: i32,
    /// Bucket count when written (N for fixed buckets, -1 unaware/dynamic).
    pub total_buckets: i32,
    /// Files a writer flushed (ADD in an APPEND snapshot).
    pub new_files: Vec<DataFileMeta>,
    /// Changelog files a writer produced (`changelog-producer = input`).
    pub changelog_files: Vec<DataFileMeta>,
    /// Files compaction replaced (DELETE in a COMPACT snapshot).
    pub compact_before: Vec<DataFileMeta>,
    /// Files compaction produced (ADD in a COMPACT snapshot).
    pub compact_after: Vec<DataFileMeta>,
    /// Changelog produced by compaction (`lookup`, `full-compaction`).
    pub compact_changelog: Vec<DataFileMeta>,
}

impl CommitMessage {
    pub fn is_empty(&self) -> bool {
        self.new_files.is_empty()
            && self.changelog_files.is_empty()
            && self.compact_before.is_empty()
            && self.compact_after.is_empty()
            && self.compact_changelog.is_empty()
    }
}

/// What a successful commit produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub snapshot_id: i64,
    pub kind: CommitKind,
    /// True when an earlier attempt of this same commit had already succeeded.
    pub was_already_committed: bool,
    /// How many times the snapshot id was lost to another committer.
    pub retries: u32,
}

/// Commits for one commit user. Identifiers must increase per commit of that user.
pub struct Committer {
    table: Table,
    commit_user: String,
    file_prefix: String,
    counter: AtomicU64,
    partition_types: Vec<DataType>,
    /// Commits whose last call failed after a snapshot put whose outcome is unknown:
    /// (identifier, kind, the latest snapshot id when that call began).
    uncertain: Mutex<Vec<(i64, CommitKind, i64)>>,
}

impl Committer {
    pub fn new(table: Table, commit_user: impl Into<String>) -> Result<Self> {
        let partition_types = table
            .schema
            .fields_named(&table.schema.partition_keys)?
            .into_iter()
            .map(|f| f.data_type)
            .collect();
        Ok(Committer {
            table,
            commit_user: commit_user.into(),
            file_prefix: uuid::Uuid::new_v4().to_string(),
            counter: AtomicU64::new(0),
            partition_types,
            uncertain: Mutex::new(vec![]),
        })
    }

    pub fn commit_user(&self) -> &str {
        &self.commit_user
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Takes the record of an earlier failed call of this commit, if its put may have landed.
    fn take_uncertain(&self, identifier: i64, kind: CommitKind) -> Option<i64> {
        let mut u = self.uncertain.lock().ok()?;
        let i = u
            .iter()
            .position(|(id, k, _)| *id == identifier && *k == kind)?;
        Some(u.swap_remove(i).2)
    }

    fn remember_uncertain(&self, identifier: i64, kind: CommitKind, since: i64) {
        if let Ok(mut u) = self.uncertain.lock() {
            u.push((identifier, kind, since));
        }
    }

    fn next_name(&self, kind: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{kind}-{}-{n}", self.file_prefix)
    }

    /// Commits writer output and compaction output of the same round: an APPEND snapshot for
    /// new files (if any), then a COMPACT snapshot for compaction changes (if any).
    pub async fn commit(
        &self,
        messages: &[CommitMessage],
        identifier: i64,
    ) -> Result<Vec<Committed>> {
        let mut out = vec![];
        let mut append = vec![];
        let mut append_changelog = vec![];
        let mut compact = vec![];
        let mut compact_changelog = vec![];
        for m in messages {
            let entry = |kind, file: &DataFileMeta| ManifestEntry {
                kind,
                partition: m.partition.clone(),
                bucket: m.bucket,
                total_buckets: m.total_buckets,
                file: file.clone(),
            };
            append.extend(m.new_files.iter().map(|f| entry(FileKind::Add, f)));
            append_changelog.extend(m.changelog_files.iter().map(|f| entry(FileKind::Add, f)));
            compact.extend(m.compact_before.iter().map(|f| entry(FileKind::Delete, f)));
            compact.extend(m.compact_after.iter().map(|f| entry(FileKind::Add, f)));
            compact_changelog.extend(m.compact_changelog.iter().map(|f| entry(FileKind::Add, f)));
        }
        if !append.is_empty() || !append_changelog.is_empty() {
            out.push(
                self.commit_entries(CommitKind::Append, append, append_changelog, identifier)
                    .await?,
            );
        }
        if !compact.is_empty() || !compact_changelog.is_empty() {
            out.push(
                self.commit_entries(CommitKind::Compact, compact, compact_changelog, identifier)
                    .await?,
            );
        }
        Ok(out)
    }

    /// Writes `entries` as one manifest (plus changelog manifest) and publishes a snapshot.
    pub async fn commit_entries(
        &self,
        kind: CommitKind,
        entries: Vec<ManifestEntry>,
        changelog: Vec<ManifestEntry>,
        identifier: i64,
    ) -> Result<Committed> {
        let table = &self.table;
        let delta_manifests = match entries.is_empty() {
            true => vec![],
            false => vec![self.write_manifest(&entries).await?],
        };
        let (delta_list, delta_list_size) = self.write_manifest_list(&delta_manifests).await?;
        let changelog_list = if changelog.is_empty() {
            None
        } else {
            let m = self.write_manifest(&changelog).await?;
            Some(self.write_manifest_list(&[m]).await?)
        };
        let added: i64 = entries
            .iter()
            .filter(|e| e.kind == FileKind::Add)
            .map(|e| e.file.row_count)
            .sum();
        let deleted: i64 = entries
            .iter()
            .filter(|e| e.kind == FileKind::Delete)
            .map(|e| e.file.row_count)
            .sum();
        let changelog_rows: i64 = changelog.iter().map(|e| e.file.row_count).sum();
        let needs_conflict_check = entries.iter().any(|e| e.kind == FileKind::Delete);

        let first_latest = table.latest_snapshot_id().await?;
        // A retry of a commit whose earlier call may have landed (a snapshot put failed, its
        // answer unknown) looks for itself in every snapshot since that call began.
        let resumed = self.take_uncertain(identifier, kind);
        let start = match resumed {
            Some(r) => r.min(first_latest.unwrap_or(0)),
            None => first_latest.unwrap_or(0),
        };
        let mut checked_up_to = start;
        let mut put_uncertain = resumed.is_some();
        let max_retries = table.options.commit_max_retries.max(1);
        let mut retries = 0u32;
        let mut storage_failures = 0u32;
        let outcome: Result<Committed> = async {
            loop {
                let latest_id = table.latest_snapshot_id().await?;
                let latest = match latest_id {
                    Some(id) => Some(table.snapshot(id).await?),
                    None => None,
                };
                // A previous attempt of this very commit may have landed with its answer lost.
                if let Some(l) = &latest {
                    if l.id > checked_up_to {
                        for s in table.snapshots_between(checked_up_to + 1, l.id).await? {
                            if s.commit_user == self.commit_user
                                && s.commit_identifier == identifier
                                && s.commit_kind == kind
                            {
                                return Ok(Committed {
                                    snapshot_id: s.id,
                                    kind,
                                    was_already_committed: true,
                                    retries,
                                });
                            }
                        }
                        checked_up_to = l.id;
                    }
                }
                if needs_conflict_check {
                    self.check_conflicts(latest.as_ref(), &entries).await?;
                }
                let (base_list, base_list_size) = self.write_base_list(latest.as_ref()).await?;
                let id = latest.as_ref().map_or(1, |l| l.id + 1);
                let snapshot = Snapshot {
                    version: SNAPSHOT_VERSION,
                    id,
                    schema_id: table.schema.id,
                    base_manifest_list: base_list,
                    base_manifest_list_size: Some(base_list_size),
                    delta_manifest_list: delta_list.clone(),
                    delta_manifest_list_size: Some(delta_list_size),
                    changelog_manifest_list: changelog_list.as_ref().map(|c| c.0.clone()),
                    changelog_manifest_list_size: changelog_list.as_ref().map(|c| c.1),
                    index_manifest: latest.as_ref().and_then(|l| l.index_manifest.clone()),
                    commit_user: self.commit_user.clone(),
                    commit_identifier: identifier,
                    commit_kind: kind,
                    time_millis: table.io.now_millis(),
                    total_record_count: Some(
                        latest
                            .as_ref()
                            .and_then(|l| l.total_record_count)
                            .unwrap_or(0)
                            + added
                            - deleted,
                    ),
                    delta_record_count: Some(added - deleted),
                    changelog_record_count: (!changelog.is_empty()).then_some(changelog_rows),
                    watermark: latest.as_ref().and_then(|l| l.watermark),
                    statistics: None,
                    properties: None,
                    next_row_id: Some(latest.as_ref().and_then(|l| l.next_row_id).unwrap_or(0)),
                    uuid: Some(uuid::Uuid::new_v4().to_string()),
                    writer_version: Some(
                        concat!("streamhouse-", env!("CARGO_PKG_VERSION")).to_string(),
                    ),
                };
                match table
                    .io
                    .write_if_absent(&table.snapshot_path(id), snapshot.to_json())
                    .await
                {
                    Ok(Created::Yes) => {
                        // Best effort: readers confirm the hint by probing the next id.
                        let _ = table
                            .io
                            .write(&table.snapshot_dir().clone().join("LATEST"), id.to_string())
                            .await;
                        return Ok(Committed {
                            snapshot_id: id,
                            kind,
                            was_already_committed: false,
                            retries,
                        });
                    }
                    Ok(Created::AlreadyExists) => {
                        retries += 1;
                        if retries > max_retries {
                            return Err(Error::Conflict(format!(
                                "gave up after {retries} attempts: other committers kept taking the next snapshot id of {} (commit.max-retries = {max_retries})",
                                table.name
                            )));
                        }
                    }
                    Err(e) => {
                        // The put may have succeeded with its answer lost; the next round looks.
                        storage_failures += 1;
                        put_uncertain = true;
                        if storage_failures > 3 {
                            return Err(e);
                        }
                    }
                }
                table
                    .io
                    .clock
                    .sleep(backoff(retries + storage_failures))
                    .await;
            }
        }
        .await;
        if outcome.is_err() && put_uncertain {
            self.remember_uncertain(identifier, kind, start);
        }
        outcome
    }

    /// Deleted files must be live in `latest`, and level ≥ 1 runs must stay disjoint.
    async fn check_conflicts(
        &self,
        latest: Option<&Snapshot>,
        entries: &[ManifestEntry],
    ) -> Result<()> {
        let buckets: std::collections::HashSet<(Vec<u8>, i32)> = entries
            .iter()
            .map(|e| (e.partition.clone(), e.bucket))
            .collect();
        let live = match latest {
            Some(l) => {
                self.table
                    .live_files(
                        l,
                        |_| true,
                        |e| buckets.contains(&(e.partition.clone(), e.bucket)),
                    )
                    .await?
            }
            None => vec![],
        };
        let after = fold_entries(live.into_iter().chain(entries.iter().cloned())).map_err(|e| {
            Error::Conflict(format!(
                "file deletion conflict: {e}; another commit changed the same bucket"
            ))
        })?;
        if self.table.is_primary_key_table() {
            check_level_ranges(&self.table, &after)?;
        }
        Ok(())
    }

    async fn write_manifest(&self, entries: &[ManifestEntry]) -> Result<ManifestFileMeta> {
        let bytes = manifest::encode_manifest(entries)?;
        let name = self.next_name("manifest");
        let size = bytes.len() as i64;
        self.table
            .io
            .write(&self.table.manifest_path(&name), bytes)
            .await?;
        Ok(ManifestFileMeta {
            file_name: name,
            file_size: size,
            num_added_files: entries.iter().filter(|e| e.kind == FileKind::Add).count() as i64,
            num_deleted_files: entries
                .iter()
                .filter(|e| e.kind == FileKind::Delete)
                .count() as i64,
            partition_stats: self.partition_stats(entries)?,
            schema_id: self.table.schema.id,
            min_bucket: entries.iter().map(|e| e.bucket).min(),
            max_bucket: entries.iter().map(|e| e.bucket).max(),
            min_level: entries.iter().map(|e| e.file.level).min(),
            max_level: entries.iter().map(|e| e.file.level).max(),
            min_row_id: None,
            max_row_id: None,
        })
    }

    async fn write_manifest_list(&self, metas: &[ManifestFileMeta]) -> Result<(String, i64)> {
        let bytes = manifest::encode_manifest_list(metas)?;
        let name = self.next_name("manifest-list");
        let size = bytes.len() as i64;
        self.table
            .io
            .write(&self.table.manifest_path(&name), bytes)
            .await?;
        Ok((name, size))
    }

    /// The new snapshot's base list: everything `latest` held, merged into fewer manifests
    /// once there are many.
    async fn write_base_list(&self, latest: Option<&Snapshot>) -> Result<(String, i64)> {
        let Some(latest) = latest else {
            return self.write_manifest_list(&[]).await;
        };
        let manifests = self.table.data_manifests(latest).await?;
        if manifests.len() < MANIFEST_MERGE_MIN_COUNT {
            return self.write_manifest_list(&manifests).await;
        }
        let live =
            fold_entries(self.table.read_entries(&manifests, |_| true).await?).map_err(|e| {
                Error::corrupt(
                    self.table.snapshot_path(latest.id),
                    format!("cannot merge manifests: {e}"),
                )
            })?;
        let mut merged = vec![];
        for chunk in live.chunks(ENTRIES_PER_MERGED_MANIFEST) {
            merged.push(self.write_manifest(chunk).await?);
        }
        self.write_manifest_list(&merged).await
    }

    /// Min / max / null count of the partition columns over `entries`.
    fn partition_stats(&self, entries: &[ManifestEntry]) -> Result<SimpleStats> {
        let types = &self.partition_types;
        if types.is_empty() {
            return Ok(SimpleStats::empty());
        }
        let mut mins: Vec<Option<Datum>> = vec![None; types.len()];
        let mut maxs: Vec<Option<Datum>> = vec![None; types.len()];
        let mut nulls = vec![0i64; types.len()];
        let mut seen = std::collections::HashSet::new();
        for e in entries {
            if !seen.insert(&e.partition) {
                continue;
            }
            let row = BinaryRow::deserialize(&e.partition)?;
            for (i, ty) in types.iter().enumerate() {
                match row.get(i, ty)? {
                    None => nulls[i] += 1,
                    Some(v) => {
                        if mins[i].as_ref().is_none_or(|m| v.cmp_same_type(m).is_lt()) {
                            mins[i] = Some(v.clone());
                        }
                        if maxs[i].as_ref().is_none_or(|m| v.cmp_same_type(m).is_gt()) {
                            maxs[i] = Some(v);
                        }
                    }
                }
            }
        }
        Ok(SimpleStats {
            min_values: BinaryRow::from_datums(&mins, types).serialize(),
            max_values: BinaryRow::from_datums(&maxs, types).serialize(),
            null_counts: nulls.into_iter().map(Some).collect(),
        })
    }
}

/// A file's key range (min key, max key) and its name.
type KeyRange<'a> = (Vec<Option<Datum>>, Vec<Option<Datum>>, &'a str);

/// Within each (partition, bucket, level ≥ 1) key ranges must not overlap.
fn check_level_ranges(table: &Table, live: &[ManifestEntry]) -> Result<()> {
    let key_types: Vec<DataType> = table
        .schema
        .fields_named(&table.schema.trimmed_primary_keys())?
        .into_iter()
        .map(|f| f.data_type)
        .collect();
    let mut groups: std::collections::HashMap<(&[u8], i32, i32), Vec<KeyRange>> =
        Default::default();
    for e in live.iter().filter(|e| e.file.level >= 1) {
        let min = BinaryRow::deserialize(&e.file.min_key)?.to_datums(&key_types)?;
        let max = BinaryRow::deserialize(&e.file.max_key)?.to_datums(&key_types)?;
        groups
            .entry((&e.partition, e.bucket, e.file.level))
            .or_default()
            .push((min, max, &e.file.file_name));
    }
    for ((_, bucket, level), mut files) in groups {
        files.sort_by(|a, b| compare_keys(&a.0, &b.0));
        for w in files.windows(2) {
            if compare_keys(&w[0].1, &w[1].0).is_ge() {
                return Err(Error::Conflict(format!(
                    "LSM conflict: files {} and {} overlap at level {level} of bucket {bucket}",
                    w[0].2, w[1].2
                )));
            }
        }
    }
    Ok(())
}

fn backoff(attempt: u32) -> Duration {
    let base = 5u64 << attempt.min(7);
    let jitter = uuid::Uuid::new_v4().as_u128() as u64 % base.max(1);
    Duration::from_millis(base + jitter)
}

/// The system clock's time in milliseconds since the epoch. Table operations read the time
/// from their [`FileIO`](crate::io::FileIO)'s clock instead, so tests can drive it.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
