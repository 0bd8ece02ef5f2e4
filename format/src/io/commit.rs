//! The one commit path. Writers and compactors hand over [`CommitMessage`]s; the committer
//! writes manifests and publishes `snapshot-<N+1>` with a create-only put.
//!
//! Protocol (see `spec/commit.md`):
//! 1. Write this commit's manifests (delta, changelog) once; they do not depend on the base.
//! 0. Before anything, recognise a commit that an earlier committer (another `Committer`, or
//!    another process) of the same commit user already published, its acknowledgement lost:
//!    walk back from the latest snapshot to the newest one of this user with this identifier
//!    and kind (stopping at one with a smaller identifier); if it holds the same files, report
//!    it instead of committing again ([`Committer::committed_before`]).
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
use crate::io::faults::crash_point;
use crate::io::files::fold_entries;
use crate::io::index_manifest::write_index_manifest;
use crate::io::storage::Created;
use crate::io::table::Table;
use crate::manifest::{
    self, DataFileMeta, FileKind, IndexManifestEntry, ManifestEntry, ManifestFileMeta,
};
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
    /// Index files a writer added or replaced (ADD / DELETE entries: the HASH files of dynamic
    /// buckets), committed with the APPEND snapshot into a new index manifest.
    pub index_changes: Vec<IndexManifestEntry>,
}

impl CommitMessage {
    /// The manifest entry of `file` in this message's partition and bucket.
    pub fn entry(&self, kind: FileKind, file: &DataFileMeta) -> ManifestEntry {
        ManifestEntry {
            kind,
            partition: self.partition.clone(),
            bucket: self.bucket,
            total_buckets: self.total_buckets,
            file: file.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.new_files.is_empty()
            && self.changelog_files.is_empty()
            && self.compact_before.is_empty()
            && self.compact_after.is_empty()
            && self.compact_changelog.is_empty()
            && self.index_changes.is_empty()
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
    /// This user's snapshots published before this committer's first commit.
    history: tokio::sync::Mutex<UserHistory>,
}

/// The snapshots of one commit user found walking back from the latest snapshot, so that a
/// retry through a new committer finds what an earlier committer published.
#[derive(Default)]
struct UserHistory {
    /// The walk has started (`low` is meaningful).
    started: bool,
    /// The lowest snapshot id read so far; a longer walk continues below it.
    low: i64,
    /// No older snapshot is left to read (id 1 reached, or expired ones).
    exhausted: bool,
    /// (snapshot id, commit identifier, kind) of this user's snapshots, newest first.
    found: Vec<(i64, i64, CommitKind)>,
}

impl UserHistory {
    /// A user that cannot have committed before (a freshly generated one).
    fn empty() -> Self {
        UserHistory {
            started: true,
            exhausted: true,
            ..Default::default()
        }
    }

    /// The newest snapshot of this user with `identifier` and `kind`, if the walk has reached
    /// it or a snapshot of this user with a smaller identifier (before which it cannot be).
    fn lookup(&self, identifier: i64, kind: CommitKind) -> Option<Option<i64>> {
        for (id, ident, k) in &self.found {
            if *ident == identifier && *k == kind {
                return Some(Some(*id));
            }
            if *ident < identifier {
                return Some(None);
            }
        }
        self.exhausted.then_some(None)
    }
}

/// Snapshots read at once while walking back through history.
const HISTORY_BATCH: i64 = 16;

impl Committer {
    pub fn new(table: Table, commit_user: impl Into<String>) -> Result<Self> {
        let partition_types = table.schema.types_named(&table.schema.partition_keys)?;
        Ok(Committer {
            table,
            commit_user: commit_user.into(),
            file_prefix: uuid::Uuid::new_v4().to_string(),
            counter: AtomicU64::new(0),
            partition_types,
            uncertain: Mutex::new(vec![]),
            history: Default::default(),
        })
    }

    /// A committer with a freshly generated commit user `<prefix>-<uuid>`. Such a user has no
    /// earlier snapshots, so its first commit skips the walk through history that
    /// [`Committer::new`] does to recognise a retried commit.
    pub fn with_unique_user(table: Table, prefix: &str) -> Result<Self> {
        Self::with_fresh_user(table, format!("{prefix}-{}", uuid::Uuid::new_v4()))
    }

    /// A committer for a commit user the caller generated just now (a random UUID), so that it
    /// cannot have committed before: no walk through history on the first commit.
    pub fn with_fresh_user(table: Table, commit_user: String) -> Result<Self> {
        let mut c = Committer::new(table, commit_user)?;
        c.history = tokio::sync::Mutex::new(UserHistory::empty());
        Ok(c)
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
        let mut append_index = vec![];
        for m in messages {
            append_index.extend(m.index_changes.iter().cloned());
            let entry = |kind, file: &DataFileMeta| m.entry(kind, file);
            append.extend(m.new_files.iter().map(|f| entry(FileKind::Add, f)));
            append_changelog.extend(m.changelog_files.iter().map(|f| entry(FileKind::Add, f)));
            compact.extend(m.compact_before.iter().map(|f| entry(FileKind::Delete, f)));
            compact.extend(m.compact_after.iter().map(|f| entry(FileKind::Add, f)));
            compact_changelog.extend(m.compact_changelog.iter().map(|f| entry(FileKind::Add, f)));
        }
        if !append.is_empty() || !append_changelog.is_empty() || !append_index.is_empty() {
            let (kind, changelog) = (CommitKind::Append, append_changelog);
            out.push(
                self.commit_with_index(kind, append, changelog, append_index, identifier)
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
    /// Errors name the table (and the snapshot id whose put failed).
    pub async fn commit_entries(
        &self,
        kind: CommitKind,
        entries: Vec<ManifestEntry>,
        changelog: Vec<ManifestEntry>,
        identifier: i64,
    ) -> Result<Committed> {
        self.commit_with_index(kind, entries, changelog, vec![], identifier)
            .await
    }

    /// [`Committer::commit_entries`] with index file changes: the snapshot gets a new index
    /// manifest, the latest one's entries with `index_changes` applied
    /// ([`write_index_manifest`]).
    pub async fn commit_with_index(
        &self,
        kind: CommitKind,
        entries: Vec<ManifestEntry>,
        changelog: Vec<ManifestEntry>,
        index_changes: Vec<IndexManifestEntry>,
        identifier: i64,
    ) -> Result<Committed> {
        let outcome = async {
            crash_point(kind.crash_point_name("files-uploaded"));
            let first_latest = self.table.latest_snapshot_id().await?.unwrap_or(0);
            let commit = (
                kind,
                identifier,
                &entries[..],
                &changelog[..],
                &index_changes[..],
            );
            if let Some(id) = self.committed_before(commit, first_latest).await? {
                return Ok(Committed {
                    snapshot_id: id,
                    kind,
                    was_already_committed: true,
                    retries: 0,
                });
            }
            let delta = self.write_delta(&entries, &changelog).await?;
            crash_point(kind.crash_point_name("manifests-written"));
            // A retry of a commit whose earlier call may have landed (a snapshot put failed,
            // its answer unknown) looks for itself in every snapshot since that call began.
            let resumed = self.take_uncertain(identifier, kind);
            let mut attempts = Attempts::new(resumed.map_or(first_latest, |r| r.min(first_latest)));
            attempts.put_uncertain = resumed.is_some();
            let commit = Commit {
                kind,
                identifier,
                entries: &entries,
                delta: &delta,
                index_changes: &index_changes,
            };
            let outcome = self.publish(&commit, &mut attempts).await;
            match &outcome {
                Err(_) if attempts.put_uncertain => {
                    self.remember_uncertain(identifier, kind, attempts.start);
                }
                Ok(c) => self
                    .history
                    .lock()
                    .await
                    .found
                    .insert(0, (c.snapshot_id, identifier, kind)),
                Err(_) => {}
            }
            outcome
        }
        .await;
        outcome.map_err(|e| e.with_table(&self.table.name))
    }

    /// Step 0: the snapshot an earlier committer of this user published for this very commit
    /// (same identifier and kind, the same data, changelog and index files), its answer lost.
    ///
    /// Identifiers increase per commit user, so the walk back from the latest snapshot stops at
    /// the newest snapshot of this user with this identifier and kind, or at one with a smaller
    /// identifier. A snapshot with our identifier but other files is not ours (a user whose
    /// identifiers started over): the commit goes ahead, so no data is ever dropped for it.
    /// The walk is done once per committer, then extended downwards only when needed.
    async fn committed_before(
        &self,
        commit: EarlierCommit<'_>,
        latest: i64,
    ) -> Result<Option<i64>> {
        let (kind, identifier, entries, changelog, index_changes) = commit;
        let mut history = self.history.lock().await;
        if !history.started {
            history.started = true;
            history.low = latest + 1;
            history.exhausted = latest == 0;
        }
        let found = loop {
            if let Some(found) = history.lookup(identifier, kind) {
                break found;
            }
            self.walk_back(&mut history).await?;
        };
        drop(history);
        let Some(id) = found else {
            return Ok(None);
        };
        let snapshot = match self.table.snapshot(id).await {
            Ok(s) => s,
            // Expired since: too old to be a retry of this commit.
            Err(e) if e.kind() == crate::error::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let names = |entries: &[ManifestEntry]| {
            let mut v: Vec<_> = entries
                .iter()
                .map(|e| {
                    let kind = e.kind.to_byte();
                    (
                        kind,
                        e.partition.clone(),
                        e.bucket,
                        e.file.file_name.clone(),
                    )
                })
                .collect();
            v.sort_unstable();
            v
        };
        let same_data = names(&self.table.delta_entries(&snapshot).await?) == names(entries);
        let same_changelog =
            names(&self.table.changelog_files(&snapshot).await?) == names(changelog);
        let index: std::collections::HashSet<String> = match index_changes.is_empty() {
            true => Default::default(),
            false => self
                .table
                .index_files(&snapshot)
                .await?
                .into_iter()
                .map(|e| e.file_name)
                .collect(),
        };
        let same_index = index_changes
            .iter()
            .filter(|e| e.kind == FileKind::Add)
            .all(|e| index.contains(&e.file_name));
        Ok((same_data && same_changelog && same_index).then_some(id))
    }

    /// Reads the next batch of older snapshots into `history`.
    async fn walk_back(&self, history: &mut UserHistory) -> Result<()> {
        use futures::StreamExt;
        let to = history.low - 1;
        let from = (to - HISTORY_BATCH + 1).max(1);
        let table = &self.table;
        let read: Vec<Result<Snapshot>> = futures::stream::iter((from..=to).rev())
            .map(|id| table.snapshot(id))
            .buffered(HISTORY_BATCH as usize)
            .collect()
            .await;
        for snapshot in read {
            match snapshot {
                Ok(s) => {
                    history.low = s.id;
                    if s.commit_user == self.commit_user {
                        let entry = (s.id, s.commit_identifier, s.commit_kind);
                        history.found.push(entry);
                    }
                }
                // Expired (or being expired): nothing older is left either.
                Err(e) if e.kind() == crate::error::ErrorKind::NotFound => {
                    history.exhausted = true;
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
        history.exhausted = history.low <= 1;
        Ok(())
    }

    /// Step 1: the delta and changelog manifests and their lists, the same whichever
    /// snapshot id the commit lands on.
    async fn write_delta(
        &self,
        entries: &[ManifestEntry],
        changelog: &[ManifestEntry],
    ) -> Result<Delta> {
        let delta_manifests = match entries.is_empty() {
            true => vec![],
            false => vec![self.write_manifest(entries).await?],
        };
        let list = self.write_manifest_list(&delta_manifests).await?;
        let changelog_list = match changelog.is_empty() {
            true => None,
            false => {
                let m = self.write_manifest(changelog).await?;
                Some(self.write_manifest_list(&[m]).await?)
            }
        };
        let rows = |kind| {
            let of_kind = entries.iter().filter(|e| e.kind == kind);
            of_kind.map(|e| e.file.row_count).sum::<i64>()
        };
        Ok(Delta {
            list,
            changelog_list,
            added: rows(FileKind::Add),
            deleted: rows(FileKind::Delete),
            changelog_rows: (!changelog.is_empty())
                .then(|| changelog.iter().map(|e| e.file.row_count).sum()),
        })
    }

    /// Steps 2 to 4, until a snapshot lands or the retries run out.
    async fn publish(&self, commit: &Commit<'_>, attempts: &mut Attempts) -> Result<Committed> {
        let table = &self.table;
        let deletes_files = commit.entries.iter().any(|e| e.kind == FileKind::Delete);
        loop {
            let latest = table.snapshot_or_latest(None).await?;
            if let Some(id) = self
                .earlier_attempt(commit, latest.as_ref(), attempts)
                .await?
            {
                return Ok(attempts.committed(id, commit.kind, true));
            }
            if deletes_files {
                self.check_conflicts(latest.as_ref(), commit.entries)
                    .await?;
            }
            let base_list = self.write_base_list(latest.as_ref()).await?;
            let new_name = || self.next_name("index-manifest");
            let index =
                write_index_manifest(table, latest.as_ref(), commit.index_changes, new_name)
                    .await?;
            let snapshot = self.next_snapshot(commit, latest.as_ref(), base_list, index);
            let id = snapshot.id;
            let path = table.snapshot_path(id);
            match table.io.write_if_absent(&path, snapshot.to_json()).await {
                Ok(Created::Yes) => {
                    crash_point(commit.kind.crash_point_name("snapshot-written"));
                    // Best effort: readers confirm the hint by probing the next id.
                    let latest_hint = table.snapshot_dir().clone().join("LATEST");
                    let _ = table.io.write(&latest_hint, id.to_string()).await;
                    crash_point(commit.kind.crash_point_name("hint-written"));
                    return Ok(attempts.committed(id, commit.kind, false));
                }
                Ok(Created::AlreadyExists) => attempts.lost_race(table)?,
                Err(e) => attempts.put_failed(e.with_snapshot(id))?,
            }
            table.io.clock.sleep(attempts.backoff()).await;
        }
    }

    /// Step 2: the id of a snapshot since the last look that an earlier attempt of this very
    /// commit published, its answer lost.
    async fn earlier_attempt(
        &self,
        commit: &Commit<'_>,
        latest: Option<&Snapshot>,
        attempts: &mut Attempts,
    ) -> Result<Option<i64>> {
        let Some(latest) = latest.filter(|l| l.id > attempts.checked_up_to) else {
            return Ok(None);
        };
        let since = self
            .table
            .snapshots_between(attempts.checked_up_to + 1, latest.id)
            .await?;
        attempts.checked_up_to = latest.id;
        Ok(since
            .iter()
            .find(|s| {
                s.commit_user == self.commit_user
                    && s.commit_identifier == commit.identifier
                    && s.commit_kind == commit.kind
            })
            .map(|s| s.id))
    }

    /// Step 4: the snapshot after `latest` holding this commit.
    fn next_snapshot(
        &self,
        commit: &Commit<'_>,
        latest: Option<&Snapshot>,
        (base_list, base_list_size): (String, i64),
        index_manifest: Option<String>,
    ) -> Snapshot {
        let delta = commit.delta;
        let delta_rows = delta.added - delta.deleted;
        let total_before = latest.and_then(|l| l.total_record_count).unwrap_or(0);
        Snapshot {
            version: SNAPSHOT_VERSION,
            id: latest.map_or(1, |l| l.id + 1),
            schema_id: self.table.schema.id,
            base_manifest_list: base_list,
            base_manifest_list_size: Some(base_list_size),
            delta_manifest_list: delta.list.0.clone(),
            delta_manifest_list_size: Some(delta.list.1),
            changelog_manifest_list: delta.changelog_list.as_ref().map(|c| c.0.clone()),
            changelog_manifest_list_size: delta.changelog_list.as_ref().map(|c| c.1),
            index_manifest,
            commit_user: self.commit_user.clone(),
            commit_identifier: commit.identifier,
            commit_kind: commit.kind,
            time_millis: self.table.io.now_millis(),
            total_record_count: Some(total_before + delta_rows),
            delta_record_count: Some(delta_rows),
            changelog_record_count: delta.changelog_rows,
            watermark: latest.and_then(|l| l.watermark),
            statistics: None,
            properties: None,
            next_row_id: Some(latest.and_then(|l| l.next_row_id).unwrap_or(0)),
            uuid: Some(uuid::Uuid::new_v4().to_string()),
            writer_version: Some(concat!("streamhouse-", env!("CARGO_PKG_VERSION")).to_string()),
        }
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

    /// Puts a new file named `<kind>-<prefix>-<n>` under `manifest/`: its name and size.
    async fn put_manifest_file(&self, kind: &str, bytes: Vec<u8>) -> Result<(String, i64)> {
        let name = self.next_name(kind);
        let size = bytes.len() as i64;
        let path = self.table.manifest_path(&name);
        self.table.io.write(&path, bytes).await?;
        Ok((name, size))
    }

    async fn write_manifest(&self, entries: &[ManifestEntry]) -> Result<ManifestFileMeta> {
        let bytes = manifest::encode_manifest(entries)?;
        let (file_name, file_size) = self.put_manifest_file("manifest", bytes).await?;
        Ok(ManifestFileMeta {
            file_name,
            file_size,
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
        self.put_manifest_file("manifest-list", bytes).await
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
        .types_named(&table.schema.trimmed_primary_keys())?;
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

/// What [`Committer::committed_before`] compares: kind, identifier, data entries, changelog
/// entries and index changes.
type EarlierCommit<'a> = (
    CommitKind,
    i64,
    &'a [ManifestEntry],
    &'a [ManifestEntry],
    &'a [IndexManifestEntry],
);

trait CrashPointName {
    /// `<kind>.<step>`, one of [`crate::io::faults::CRASH_POINTS`].
    fn crash_point_name(self, step: &str) -> &'static str;
}

impl CrashPointName for CommitKind {
    fn crash_point_name(self, step: &str) -> &'static str {
        let kind = match self {
            CommitKind::Append => "append",
            CommitKind::Compact => "compact",
            _ => return "",
        };
        crate::io::faults::CRASH_POINTS
            .iter()
            .find(|p| p.strip_prefix(kind).and_then(|r| r.strip_prefix('.')) == Some(step))
            .copied()
            .unwrap_or("")
    }
}

/// What one commit publishes, whichever snapshot it lands on.
struct Commit<'a> {
    kind: CommitKind,
    identifier: i64,
    entries: &'a [ManifestEntry],
    delta: &'a Delta,
    /// Index files added and deleted (empty: the latest index manifest is kept).
    index_changes: &'a [IndexManifestEntry],
}

/// The manifest lists a commit wrote once (name and size) and its row counts.
struct Delta {
    list: (String, i64),
    changelog_list: Option<(String, i64)>,
    added: i64,
    deleted: i64,
    changelog_rows: Option<i64>,
}

/// Where the rounds of one commit call stand.
struct Attempts {
    /// The latest snapshot id when this commit's first call began.
    start: i64,
    /// Snapshots up to this id are known not to hold an earlier attempt of this commit.
    checked_up_to: i64,
    /// A snapshot put of this commit failed with its outcome unknown.
    put_uncertain: bool,
    /// Snapshot ids lost to other committers.
    retries: u32,
    storage_failures: u32,
}

impl Attempts {
    /// Snapshot puts that fail for storage reasons are tried this many times.
    const MAX_STORAGE_FAILURES: u32 = 3;

    fn new(start: i64) -> Self {
        Attempts {
            start,
            checked_up_to: start,
            put_uncertain: false,
            retries: 0,
            storage_failures: 0,
        }
    }

    fn committed(&self, snapshot_id: i64, kind: CommitKind, earlier: bool) -> Committed {
        Committed {
            snapshot_id,
            kind,
            was_already_committed: earlier,
            retries: self.retries,
        }
    }

    /// Another committer took the id: try again, up to `commit.max-retries` times.
    fn lost_race(&mut self, table: &Table) -> Result<()> {
        let max_retries = table.options.commit_max_retries.max(1);
        self.retries += 1;
        if self.retries > max_retries {
            return Err(Error::Conflict(format!(
                "gave up after {} attempts: other committers kept taking the next snapshot id (commit.max-retries = {max_retries})",
                self.retries
            )));
        }
        Ok(())
    }

    /// The put may have succeeded with its answer lost; the next round looks.
    fn put_failed(&mut self, e: Error) -> Result<()> {
        self.storage_failures += 1;
        self.put_uncertain = true;
        match self.storage_failures > Self::MAX_STORAGE_FAILURES {
            true => Err(e),
            false => Ok(()),
        }
    }

    fn backoff(&self) -> Duration {
        backoff(self.retries + self.storage_failures)
    }
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
