//! Planning a batch scan: pick the snapshot, fold its manifests into live files, attach
//! deletion vectors, and group files by (partition, bucket) into [`Split`]s.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use object_store::path::Path;
use streamhouse_format::io::files::fold_entries;
use streamhouse_format::io::Table;
use streamhouse_format::manifest::{DataFileMeta, IndexManifestEntry};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::snapshot::Snapshot;
use streamhouse_format::{Error, Result};

use crate::plan_prune::PlanPruner;
use crate::predicate::Predicate;
use crate::scan_stats::ScanMetrics;

/// `_INDEX_TYPE` of deletion-vector index files.
pub const DELETION_VECTORS_INDEX: &str = "DELETION_VECTORS";

/// Where the deletion vector of one data file is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletionFile {
    /// The index file holding the vector (inside the table's store).
    pub index_file: Path,
    /// The index file's absolute location when it lives outside the table (`_EXTERNAL_PATH`).
    pub external_path: Option<String>,
    /// Offset of the vector's size field in the index file.
    pub offset: i64,
    /// Length recorded in the index manifest (magic + bitmap for the 32-bit format).
    pub length: i64,
    /// Number of deleted rows, when recorded.
    pub cardinality: Option<i64>,
}

/// The files of one (partition, bucket) that a scan reads together.
#[derive(Debug, Clone)]
pub struct Split {
    /// Serialized partition BinaryRow (with arity prefix), as in the manifest.
    pub partition: Vec<u8>,
    /// The partition directory (`k=v/…/`, empty when unpartitioned) as the writer named it.
    pub partition_path: String,
    pub bucket: i32,
    /// Live data files in manifest order (level-0 files already dropped when the table's
    /// batch reads skip them).
    pub files: Vec<DataFileMeta>,
    /// Deletion vectors by data file name.
    pub deletion_vectors: BTreeMap<String, DeletionFile>,
}

impl Split {
    /// Rows stored in the split's files (before merging and deletion vectors).
    pub fn row_count(&self) -> i64 {
        self.files.iter().map(|f| f.row_count).sum()
    }

    /// The directory of this split's data files.
    pub fn bucket_dir(&self, table: &Table) -> Path {
        table.bucket_dir(&self.partition_path, self.bucket)
    }
}

/// The result of planning: the snapshot read (`None` for a table without commits) and its
/// splits.
#[derive(Debug, Clone)]
pub struct Plan {
    pub snapshot: Option<Snapshot>,
    pub splits: Vec<Split>,
}

impl Plan {
    /// Total rows stored in the plan's files.
    pub fn row_count(&self) -> i64 {
        self.splits.iter().map(Split::row_count).sum()
    }
}

/// Whether batch reads of this table ignore level-0 files (see
/// [`TableOptions::batch_scan_skips_level0`](streamhouse_format::options::TableOptions)).
pub fn skips_level0(table: &Table) -> bool {
    table.is_primary_key_table() && table.options.batch_scan_skips_level0()
}

/// Plans a batch scan of `snapshot_id` (or the latest snapshot).
pub async fn plan(table: &Table, snapshot_id: Option<i64>) -> Result<Plan> {
    let snapshot = table.snapshot_or_latest(snapshot_id).await?;
    plan_snapshot(table, snapshot, None, None).await
}

/// Plans a batch scan of `snapshot` (`None`: an empty table), pruning manifests, entries and
/// files with `predicate` (which must be safe before merging, see [`crate::plan_prune`]) and
/// counting what was considered into `metrics`.
pub async fn plan_snapshot(
    table: &Table,
    snapshot: Option<Snapshot>,
    predicate: Option<Predicate>,
    metrics: Option<Arc<ScanMetrics>>,
) -> Result<Plan> {
    let Some(snapshot) = snapshot else {
        return Ok(Plan {
            snapshot: None,
            splits: vec![],
        });
    };
    let skip_l0 = skips_level0(table);
    let pruner = PlanPruner::new(
        table,
        predicate.unwrap_or(Predicate::Const(true)),
        metrics.clone(),
    )?;
    let manifests = table.data_manifests(&snapshot).await?;
    if let Some(m) = &metrics {
        let live: i64 = manifests
            .iter()
            .map(|f| f.num_added_files - f.num_deleted_files)
            .sum();
        ScanMetrics::add(&m.manifests_total, manifests.len() as u64);
        ScanMetrics::add(&m.files_total, live.max(0) as u64);
    }
    let manifests: Vec<_> = manifests
        .into_iter()
        .filter(|m| pruner.keep_manifest(m))
        .collect();
    if let Some(m) = &metrics {
        ScanMetrics::add(&m.manifests_read, manifests.len() as u64);
    }
    // Postpone-bucket files (bucket -2) are invisible until compacted into real buckets.
    let entries = table
        .read_entries(&manifests, |e| {
            e.bucket != -2 && !(skip_l0 && e.file.level == 0) && pruner.keep_entry(e)
        })
        .await?;
    pruner.record_partitions();
    let entries = fold_entries(entries).map_err(|e| match e {
        Error::Conflict(msg) => Error::corrupt(
            table.snapshot_path(snapshot.id),
            format!(
                "manifests of snapshot {} are inconsistent: {msg}",
                snapshot.id
            ),
        ),
        e => e,
    })?;
    let mut schemas: HashMap<i64, Arc<TableSchema>> = HashMap::new();
    schemas.insert(table.schema.id, table.schema.clone());
    let mut kept = Vec::with_capacity(entries.len());
    for e in entries {
        if let std::collections::hash_map::Entry::Vacant(v) = schemas.entry(e.file.schema_id) {
            v.insert(Arc::new(table.schema_by_id(e.file.schema_id).await?));
        }
        let fs = &schemas[&e.file.schema_id];
        if pruner.keep_file(table.is_primary_key_table(), &e.partition, &e.file, fs) {
            kept.push(e);
        }
    }
    let entries = kept;
    if let Some(m) = &metrics {
        ScanMetrics::add(&m.files_planned, entries.len() as u64);
        let bytes: i64 = entries.iter().map(|e| e.file.file_size.max(0)).sum();
        ScanMetrics::add(&m.planned_bytes, bytes as u64);
    }
    let dvs = deletion_vectors(table, &snapshot).await?;

    let mut order: Vec<(Vec<u8>, i32)> = vec![];
    let mut groups: HashMap<(Vec<u8>, i32), Vec<DataFileMeta>> = HashMap::new();
    for e in entries {
        let key = (e.partition, e.bucket);
        let files = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            vec![]
        });
        files.push(e.file);
    }
    let mut splits = Vec::with_capacity(order.len());
    for key in order {
        let files = groups.remove(&key).unwrap_or_default();
        let (partition, bucket) = key;
        let partition_path = table.partition_dir(&partition)?;
        let mut deletion_vectors = BTreeMap::new();
        if let Some(bucket_dvs) = dvs.get(&(partition.clone(), bucket)) {
            for f in &files {
                if let Some((entry, meta)) = bucket_dvs.get(&f.file_name) {
                    let index_file = index_file_path(table, entry, &partition_path);
                    deletion_vectors.insert(
                        f.file_name.clone(),
                        DeletionFile {
                            index_file,
                            external_path: entry.external_path.clone(),
                            offset: meta.0,
                            length: meta.1,
                            cardinality: meta.2,
                        },
                    );
                }
            }
        }
        splits.push(Split {
            partition,
            partition_path,
            bucket,
            files,
            deletion_vectors,
        });
    }
    Ok(Plan {
        snapshot: Some(snapshot),
        splits,
    })
}

type DvRange = (i64, i64, Option<i64>);
type BucketDvs = HashMap<String, (IndexManifestEntry, DvRange)>;

/// Deletion vectors of a snapshot by (partition, bucket) and data file name.
async fn deletion_vectors(
    table: &Table,
    snapshot: &Snapshot,
) -> Result<HashMap<(Vec<u8>, i32), BucketDvs>> {
    let mut out: HashMap<(Vec<u8>, i32), BucketDvs> = HashMap::new();
    if snapshot.index_manifest.is_none() {
        return Ok(out);
    }
    for entry in table.index_files(snapshot).await? {
        if entry.index_type != DELETION_VECTORS_INDEX {
            continue;
        }
        let ranges = entry.dv_ranges.clone().unwrap_or_default();
        let bucket = out
            .entry((entry.partition.clone(), entry.bucket))
            .or_default();
        for r in ranges {
            bucket.insert(
                r.data_file_name.clone(),
                (
                    entry.clone(),
                    (r.offset as i64, r.length as i64, r.cardinality),
                ),
            );
        }
    }
    Ok(out)
}

/// Where an index file lives inside the table: the bucket directory
/// (`index-file-in-data-file-dir`) or the table's `index/` directory.
fn index_file_path(table: &Table, entry: &IndexManifestEntry, partition_path: &str) -> Path {
    if table.options.index_file_in_data_file_dir {
        table
            .bucket_dir(partition_path, entry.bucket)
            .join(entry.file_name.as_str())
    } else {
        table.index_path(&entry.file_name)
    }
}
