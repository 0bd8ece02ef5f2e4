//! From a snapshot to its live data files: read the manifest lists, read the manifests, and
//! fold ADD/DELETE entries (an entry is identified by partition, bucket, level, file name,
//! extra files, embedded index and external path, so a level upgrade is DELETE + ADD).

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};

use crate::binary_row::BinaryRow;
use crate::error::{Error, Result};
use crate::io::table::Table;
use crate::manifest::{self, FileKind, IndexManifestEntry, ManifestEntry, ManifestFileMeta};
use crate::snapshot::Snapshot;

/// How many manifests are fetched at once.
const MANIFEST_READ_CONCURRENCY: usize = 16;

/// Identity of a live file when folding entries (Java `FileEntry.Identifier`).
pub(crate) type EntryKey = (
    Vec<u8>,
    i32,
    i32,
    String,
    Vec<String>,
    Option<Vec<u8>>,
    Option<String>,
);

pub(crate) fn entry_key(e: &ManifestEntry) -> EntryKey {
    (
        e.partition.clone(),
        e.bucket,
        e.file.level,
        e.file.file_name.clone(),
        e.file.extra_files.clone(),
        e.file.embedded_index.clone(),
        e.file.external_path.clone(),
    )
}

/// Folds entries in order into the live set. Adding a live file twice, or a DELETE whose file
/// never became live, means the metadata is inconsistent.
pub fn fold_entries(
    entries: impl IntoIterator<Item = ManifestEntry>,
) -> Result<Vec<ManifestEntry>> {
    let mut index: HashMap<EntryKey, usize> = HashMap::new();
    let mut live: Vec<Option<ManifestEntry>> = vec![];
    let mut orphan_deletes: HashMap<EntryKey, String> = HashMap::new();
    for e in entries {
        let key = entry_key(&e);
        match e.kind {
            FileKind::Add => {
                if index.contains_key(&key) {
                    return Err(Error::Conflict(format!(
                        "file {} (bucket {}, level {}) is added twice",
                        e.file.file_name, e.bucket, e.file.level
                    )));
                }
                if orphan_deletes.remove(&key).is_some() {
                    continue;
                }
                index.insert(key, live.len());
                live.push(Some(e));
            }
            FileKind::Delete => match index.remove(&key) {
                Some(i) => live[i] = None,
                None => {
                    orphan_deletes.insert(key, e.file.file_name.clone());
                }
            },
        }
    }
    if let Some(name) = orphan_deletes.values().next() {
        return Err(Error::Conflict(format!(
            "file {name} is deleted but was never added ({} such deletes)",
            orphan_deletes.len()
        )));
    }
    Ok(live.into_iter().flatten().collect())
}

impl Table {
    /// Reads and decodes the file `name` under `manifest/`; errors name the table and the file.
    async fn read_manifest_file<T>(
        &self,
        name: &str,
        decode: impl FnOnce(&[u8], &str) -> Result<T>,
    ) -> Result<T> {
        let path = self.manifest_path(name);
        let read = async { decode(&self.io.read(&path).await?, path.as_ref()) };
        read.await
            .map_err(|e| e.with_table(&self.name).with_file(&path))
    }

    pub async fn read_manifest_list(&self, name: &str) -> Result<Vec<ManifestFileMeta>> {
        self.read_manifest_file(name, manifest::decode_manifest_list)
            .await
    }

    pub async fn read_manifest(&self, name: &str) -> Result<Vec<ManifestEntry>> {
        self.read_manifest_file(name, |bytes, path| {
            let entries = manifest::decode_manifest(bytes, path)?;
            self.check_partitions(&entries, path)?;
            Ok(entries)
        })
        .await
    }

    /// Every entry's `_PARTITION` must decode as a row of the table's partition columns, so
    /// that a damaged one is reported with the manifest that holds it (not later, nameless,
    /// when a reader derives the partition directory).
    fn check_partitions(&self, entries: &[ManifestEntry], path: &str) -> Result<()> {
        let types: Vec<_> = self.schema.types_named(&self.schema.partition_keys)?;
        let mut checked: Option<&[u8]> = None;
        for (i, e) in entries.iter().enumerate() {
            if checked == Some(e.partition.as_slice()) {
                continue;
            }
            let ok = BinaryRow::deserialize(&e.partition).and_then(|row| {
                if row.arity() != types.len() {
                    return Err(Error::invalid(format!(
                        "{} fields for {} partition columns",
                        row.arity(),
                        types.len()
                    )));
                }
                row.to_datums(&types).map(|_| ())
            });
            if let Err(err) = ok {
                return Err(Error::corrupt(
                    path,
                    format!("manifest entry {i}: _PARTITION is not a partition row: {err}"),
                ));
            }
            checked = Some(&e.partition);
        }
        Ok(())
    }

    pub async fn read_index_manifest(&self, name: &str) -> Result<Vec<IndexManifestEntry>> {
        self.read_manifest_file(name, manifest::decode_index_manifest)
            .await
    }

    /// The manifests whose entries, folded, give the snapshot's data files: base then delta.
    pub async fn data_manifests(&self, snapshot: &Snapshot) -> Result<Vec<ManifestFileMeta>> {
        let (base, delta) = futures::try_join!(
            self.read_manifest_list(&snapshot.base_manifest_list),
            self.read_manifest_list(&snapshot.delta_manifest_list)
        )?;
        Ok(base.into_iter().chain(delta).collect())
    }

    /// Reads manifests concurrently, keeping their order, and keeps entries `keep` accepts.
    pub async fn read_entries(
        &self,
        manifests: &[ManifestFileMeta],
        keep: impl Fn(&ManifestEntry) -> bool,
    ) -> Result<Vec<ManifestEntry>> {
        // Owned names and a cloned handle keep the future `Send` for any caller.
        let names: Vec<String> = manifests.iter().map(|m| m.file_name.clone()).collect();
        let lists: Vec<Vec<ManifestEntry>> = futures::stream::iter(names)
            .map(|name| {
                let table = self.clone();
                async move { table.read_manifest(&name).await }
            })
            .buffered(MANIFEST_READ_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(lists.into_iter().flatten().filter(|e| keep(e)).collect())
    }

    /// The live data files of a snapshot, optionally restricted by a manifest-level filter
    /// (partition/bucket pruning) and an entry filter. Entry filters must not split the ADD
    /// and DELETE of one file (filter on partition, bucket or level only).
    pub async fn live_files(
        &self,
        snapshot: &Snapshot,
        manifest_filter: impl Fn(&ManifestFileMeta) -> bool,
        entry_filter: impl Fn(&ManifestEntry) -> bool,
    ) -> Result<Vec<ManifestEntry>> {
        let manifests: Vec<ManifestFileMeta> = self
            .data_manifests(snapshot)
            .await?
            .into_iter()
            .filter(|m| manifest_filter(m))
            .collect();
        let entries = self.read_entries(&manifests, entry_filter).await?;
        fold_entries(entries).map_err(|e| match e {
            Error::Conflict(msg) => Error::corrupt(
                self.snapshot_path(snapshot.id),
                format!("the snapshot's manifests are inconsistent: {msg}"),
            )
            .with_table(&self.name)
            .with_snapshot(snapshot.id),
            e => e,
        })
    }

    /// All live data files of a snapshot.
    pub async fn all_live_files(&self, snapshot: &Snapshot) -> Result<Vec<ManifestEntry>> {
        self.live_files(snapshot, |_| true, |_| true).await
    }

    /// The changelog files a snapshot produced (empty when it has no changelog list).
    pub async fn changelog_files(&self, snapshot: &Snapshot) -> Result<Vec<ManifestEntry>> {
        match &snapshot.changelog_manifest_list {
            None => Ok(vec![]),
            Some(list) => {
                let manifests = self.read_manifest_list(list).await?;
                self.read_entries(&manifests, |_| true).await
            }
        }
    }

    /// The entries a snapshot's own commit wrote (its delta list), not folded.
    pub async fn delta_entries(&self, snapshot: &Snapshot) -> Result<Vec<ManifestEntry>> {
        let manifests = self
            .read_manifest_list(&snapshot.delta_manifest_list)
            .await?;
        self.read_entries(&manifests, |_| true).await
    }

    /// Live index files (deletion vectors, hash indexes) of a snapshot.
    pub async fn index_files(&self, snapshot: &Snapshot) -> Result<Vec<IndexManifestEntry>> {
        match &snapshot.index_manifest {
            None => Ok(vec![]),
            Some(name) => Ok(self
                .read_index_manifest(name)
                .await?
                .into_iter()
                .filter(|e| e.kind == FileKind::Add)
                .collect()),
        }
    }
}
