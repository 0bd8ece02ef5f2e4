//! Dynamic buckets: writing `bucket = -1` primary-key tables whose primary key holds every
//! partition column.
//!
//! Such a table has no bucket function. Each partition remembers which bucket each key went
//! to in HASH index files (`index/index-<uuid>-<n>`, one per bucket, listed in the snapshot's
//! index manifest): the 32-bit hash of every key of the bucket (the Murmur3 of the trimmed
//! primary key's BinaryRow, as for fixed buckets). A writer loads a partition's files the
//! first time a batch touches it and assigns, with Paimon's rules:
//!
//! 1. a key whose hash is known stays in its bucket;
//! 2. a new key goes to the lowest-numbered bucket holding fewer than
//!    `dynamic-bucket.target-row-num` keys;
//! 3. else to a new bucket: the lowest unused id below `dynamic-bucket.max-buckets` (32767
//!    when unbounded);
//! 4. else (bounded, all open buckets full) to the bucket with the fewest keys (Paimon picks
//!    one at random).
//!
//! Deletes are assigned like upserts (Paimon does the same: their key hash joins the index).
//! At commit, each bucket that got new keys gets a complete new HASH file, and the commit
//! replaces the bucket's old file (a DELETE and an ADD entry).
//!
//! One writer per table at a time (Paimon's rule for dynamic buckets without a coordinator):
//! two writers could give one new key two different buckets. Each writer re-reads the index
//! when the latest snapshot's index manifest is not the one it last saw, and the commit path
//! refuses an index change whose bucket another writer changed meanwhile (a conflict), so a
//! second writer fails rather than corrupting the index.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use arrow::array::{RecordBatch, UInt32Array};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use streamhouse_format::bucket::{decode_hash_index, encode_hash_index, hash_row};
use streamhouse_format::io::index_manifest::HASH_INDEX;
use streamhouse_format::io::Table;
use streamhouse_format::manifest::{FileKind, IndexManifestEntry};
use streamhouse_format::route::{PartitionNumbers, RowColumns};
use streamhouse_format::{Error, Result};

/// Bucket ids are Java shorts.
const MAX_BUCKET_ID: u32 = i16::MAX as u32;
/// HASH files read at once when loading a partition.
const INDEX_READ_CONCURRENCY: usize = 8;

/// A batch split by (partition, bucket): serialized partition, bucket, rows (`None`: all).
pub(crate) type Routes = Vec<(Vec<u8>, i32, Option<UInt32Array>)>;

/// Sorts routes by (partition, bucket); a single route takes the whole batch (`None` rows).
pub(crate) fn finish_routes(mut out: Routes) -> Routes {
    out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    if out.len() == 1 {
        out[0].2 = None;
    }
    out
}

/// The keys of one partition and their buckets.
#[derive(Debug, Default)]
pub(crate) struct PartitionIndex {
    bucket_of: HashMap<i32, i32>,
    /// Keys per bucket, for every open bucket.
    counts: BTreeMap<i32, u64>,
    /// Open buckets below the target.
    non_full: BTreeSet<i32>,
    /// Buckets that got new keys since the last commit.
    changed: BTreeSet<i32>,
    /// The live HASH file of each bucket that has one.
    files: HashMap<i32, IndexManifestEntry>,
}

impl PartitionIndex {
    /// Adds the hashes of `bucket`'s index file (loading).
    pub(crate) fn load(&mut self, bucket: i32, hashes: &[i32], target: u64) {
        for &h in hashes {
            self.bucket_of.entry(h).or_insert(bucket);
        }
        let n = self.counts.entry(bucket).or_insert(0);
        *n += hashes.len() as u64;
        if *n < target {
            self.non_full.insert(bucket);
        } else {
            self.non_full.remove(&bucket);
        }
    }

    /// The bucket of a key hash, assigning a new key by the rules in the module doc.
    pub(crate) fn assign(
        &mut self,
        hash: i32,
        target: u64,
        max_buckets: Option<u32>,
    ) -> Result<i32> {
        if let Some(b) = self.bucket_of.get(&hash) {
            return Ok(*b);
        }
        let bucket = match self.non_full.first().copied() {
            Some(b) => b,
            None => {
                let limit = max_buckets.unwrap_or(MAX_BUCKET_ID).min(MAX_BUCKET_ID) as i32;
                match (0..limit).find(|b| !self.counts.contains_key(b)) {
                    Some(b) => {
                        self.counts.insert(b, 0);
                        self.non_full.insert(b);
                        b
                    }
                    None if max_buckets.is_none() => {
                        return Err(Error::invalid(format!(
                            "a partition needs more than {MAX_BUCKET_ID} dynamic buckets of {target} keys; raise dynamic-bucket.target-row-num"
                        )))
                    }
                    None => self
                        .counts
                        .iter()
                        .min_by_key(|(b, n)| (**n, **b))
                        .map(|(b, _)| *b)
                        .ok_or_else(|| Error::internal("no bucket to assign"))?,
                }
            }
        };
        let n = self.counts.entry(bucket).or_insert(0);
        *n += 1;
        if *n >= target {
            self.non_full.remove(&bucket);
        }
        self.bucket_of.insert(hash, bucket);
        self.changed.insert(bucket);
        Ok(bucket)
    }

    /// The sorted key hashes of each changed bucket.
    fn changed_hashes(&self) -> BTreeMap<i32, Vec<i32>> {
        let mut out: BTreeMap<i32, Vec<i32>> = self.changed.iter().map(|b| (*b, vec![])).collect();
        for (h, b) in &self.bucket_of {
            if let Some(v) = out.get_mut(b) {
                v.push(*h);
            }
        }
        for v in out.values_mut() {
            v.sort_unstable();
        }
        out
    }

    /// Number of open buckets.
    #[cfg(test)]
    fn buckets(&self) -> usize {
        self.counts.len()
    }
}

/// The index a writer's partitions were loaded from.
struct Base {
    /// The index manifest of the snapshot read (None: no snapshot or no index).
    index_manifest: Option<String>,
    /// Its HASH entries by partition.
    hash_files: HashMap<Vec<u8>, Vec<IndexManifestEntry>>,
}

/// Assigns the rows of a dynamic-bucket table to buckets and writes the HASH index files.
pub(crate) struct DynamicBuckets {
    table: Table,
    target: u64,
    max_buckets: Option<u32>,
    key: RowColumns,
    partition: RowColumns,
    base: Option<Base>,
    /// Whether `base` was compared with the latest snapshot since the last commit.
    checked: bool,
    partitions: HashMap<Vec<u8>, PartitionIndex>,
    /// The ADD entries of the commit under way.
    pending: Vec<IndexManifestEntry>,
    file_prefix: String,
    file_counter: u64,
}

impl DynamicBuckets {
    /// Checks that `table` is a dynamic-bucket table this writer can write.
    pub(crate) fn new(table: &Table) -> Result<Self> {
        let schema = &table.schema;
        if let Some(p) = schema
            .partition_keys
            .iter()
            .find(|p| !schema.primary_keys.contains(p))
        {
            return Err(Error::unsupported(format!(
                "writing table {} with bucket = -1 whose primary key lacks partition column {p} (cross-partition upsert needs a global key index, which this version does not build); add {p} to the primary key or set a fixed bucket count",
                table.name
            )));
        }
        if table.options.index_file_in_data_file_dir {
            return Err(Error::unsupported(format!(
                "writing dynamic-bucket table {} with index-file-in-data-file-dir = true (HASH index files are written to index/ only)",
                table.name
            )));
        }
        Ok(DynamicBuckets {
            table: table.clone(),
            target: table.options.dynamic_bucket_target_row_num,
            max_buckets: table.options.dynamic_bucket_max_buckets,
            key: RowColumns::new(schema, schema.trimmed_primary_keys())?,
            partition: RowColumns::new(schema, schema.partition_keys.clone())?,
            base: None,
            checked: false,
            partitions: HashMap::new(),
            pending: vec![],
            file_prefix: uuid::Uuid::new_v4().to_string(),
            file_counter: 0,
        })
    }

    /// Splits a batch (in the table's column order) by partition and assigned bucket.
    pub(crate) async fn route(&mut self, batch: &RecordBatch) -> Result<Routes> {
        self.ensure_current().await?;
        let part_cols = self.partition.of(batch);
        let key_cols = self.key.of(batch);
        // Partition of each row (an index into `part_rows`) and key hash.
        let mut row_part = Vec::with_capacity(batch.num_rows());
        let mut row_hash = Vec::with_capacity(batch.num_rows());
        let part_rows = {
            let mut parts = PartitionNumbers::new(self.partition.encoder(&part_cols)?);
            let mut key_enc = self.key.encoder(&key_cols)?;
            for row in 0..batch.num_rows() {
                key_enc.encode(row);
                row_part.push(parts.of_row(row));
                row_hash.push(hash_row(key_enc.bytes()));
            }
            parts.into_rows()
        };
        for p in &part_rows {
            if !self.partitions.contains_key(p) {
                let index = self.load_partition(p).await?;
                self.partitions.insert(p.clone(), index);
            }
        }
        let mut targets: BTreeMap<(usize, i32), Vec<u32>> = BTreeMap::new();
        for (row, (p, hash)) in row_part.iter().zip(&row_hash).enumerate() {
            let index = self
                .partitions
                .get_mut(&part_rows[*p])
                .ok_or_else(|| Error::internal("partition index not loaded"))?;
            let bucket = index.assign(*hash, self.target, self.max_buckets)?;
            targets.entry((*p, bucket)).or_default().push(row as u32);
        }
        Ok(finish_routes(
            targets
                .into_iter()
                .map(|((p, b), rows)| (part_rows[p].clone(), b, Some(UInt32Array::from(rows))))
                .collect(),
        ))
    }

    /// Reads the latest snapshot's index when none was read, or when another commit changed
    /// the index since (then every partition is loaded again).
    async fn ensure_current(&mut self) -> Result<()> {
        if self.checked && self.base.is_some() {
            return Ok(());
        }
        let latest = self.table.snapshot_or_latest(None).await?;
        let manifest = latest.as_ref().and_then(|s| s.index_manifest.clone());
        if let Some(base) = &self.base {
            if base.index_manifest == manifest {
                self.checked = true;
                return Ok(());
            }
        }
        let mut hash_files: HashMap<Vec<u8>, Vec<IndexManifestEntry>> = HashMap::new();
        if let Some(s) = &latest {
            for e in self.table.index_files(s).await? {
                if e.index_type == HASH_INDEX {
                    hash_files.entry(e.partition.clone()).or_default().push(e);
                }
            }
        }
        self.partitions.clear();
        self.base = Some(Base {
            index_manifest: manifest,
            hash_files,
        });
        self.checked = true;
        Ok(())
    }

    async fn load_partition(&self, partition: &[u8]) -> Result<PartitionIndex> {
        let mut index = PartitionIndex::default();
        let files = self
            .base
            .as_ref()
            .and_then(|b| b.hash_files.get(partition))
            .cloned()
            .unwrap_or_default();
        let table = &self.table;
        let contents: Vec<(IndexManifestEntry, Vec<i32>)> = futures::stream::iter(files)
            .map(|e| async move {
                if e.external_path.is_some() {
                    return Err(Error::unsupported(format!(
                        "HASH index file {} of table {} at an external path",
                        e.file_name, table.name
                    )));
                }
                let path = table.index_path(&e.file_name);
                let bytes = table.io.read(&path).await?;
                let hashes = decode_hash_index(&bytes).map_err(|err| match err {
                    Error::Corrupt { detail, .. } => Error::corrupt(&path, detail),
                    other => other,
                })?;
                Ok((e, hashes))
            })
            .buffered(INDEX_READ_CONCURRENCY)
            .try_collect()
            .await?;
        for (e, hashes) in contents {
            index.load(e.bucket, &hashes, self.target);
            index.files.insert(e.bucket, e);
        }
        Ok(index)
    }

    /// Writes a new HASH file for every bucket that got new keys and returns the index changes
    /// of the commit (ADD of the new file, DELETE of the bucket's old one) and the paths
    /// written.
    pub(crate) async fn prepare_commit(&mut self) -> Result<(Vec<IndexManifestEntry>, Vec<Path>)> {
        let mut changes = vec![];
        let mut paths = vec![];
        self.pending.clear();
        let mut keys: Vec<Vec<u8>> = self
            .partitions
            .iter()
            .filter(|(_, i)| !i.changed.is_empty())
            .map(|(p, _)| p.clone())
            .collect();
        keys.sort();
        for partition in keys {
            let index = &self.partitions[&partition];
            for (bucket, hashes) in index.changed_hashes() {
                let bytes = encode_hash_index(&hashes);
                let name = format!("index-{}-{}", self.file_prefix, self.file_counter);
                self.file_counter += 1;
                let path = self.table.index_path(&name);
                let size = bytes.len() as i64;
                self.table.io.write(&path, bytes).await?;
                paths.push(path);
                if let Some(old) = index.files.get(&bucket) {
                    changes.push(IndexManifestEntry {
                        kind: FileKind::Delete,
                        ..old.clone()
                    });
                }
                let add = IndexManifestEntry {
                    kind: FileKind::Add,
                    partition: partition.clone(),
                    bucket,
                    index_type: HASH_INDEX.to_string(),
                    file_name: name,
                    file_size: size,
                    row_count: hashes.len() as i64,
                    dv_ranges: None,
                    external_path: None,
                };
                self.pending.push(add.clone());
                changes.push(add);
            }
        }
        Ok((changes, paths))
    }

    /// After a successful commit whose last snapshot is `snapshot_id`: the new files are the
    /// buckets' live ones, and that snapshot's index manifest is the one this writer knows.
    pub(crate) async fn committed(&mut self, snapshot_id: Option<i64>) {
        let manifest = match snapshot_id {
            Some(id) => match self.table.snapshot(id).await {
                Ok(s) => s.index_manifest,
                Err(_) => return self.forget(),
            },
            None => return,
        };
        for add in std::mem::take(&mut self.pending) {
            if let Some(index) = self.partitions.get_mut(&add.partition) {
                index.changed.remove(&add.bucket);
                index.files.insert(add.bucket, add);
            }
        }
        if let Some(base) = &mut self.base {
            base.index_manifest = manifest;
        }
        self.checked = false;
    }

    /// Drops what was read and assigned (after an abort or a failed commit): the next write
    /// reads the index again.
    pub(crate) fn forget(&mut self) {
        self.base = None;
        self.checked = false;
        self.partitions.clear();
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assign_all(
        index: &mut PartitionIndex,
        hashes: impl IntoIterator<Item = i32>,
        target: u64,
        max: Option<u32>,
    ) -> Vec<i32> {
        hashes
            .into_iter()
            .map(|h| index.assign(h, target, max).unwrap())
            .collect()
    }

    #[test]
    fn new_keys_fill_buckets_in_order_and_known_keys_stay() {
        let mut index = PartitionIndex::default();
        let buckets = assign_all(&mut index, 0..7, 3, None);
        assert_eq!(buckets, vec![0, 0, 0, 1, 1, 1, 2]);
        // Known keys keep their bucket, whatever their order.
        assert_eq!(
            assign_all(&mut index, [5, 0, 6, 3], 3, None),
            vec![1, 0, 2, 1]
        );
        assert_eq!(index.buckets(), 3);
        let changed = index.changed_hashes();
        assert_eq!(changed[&0], vec![0, 1, 2]);
        assert_eq!(changed[&1], vec![3, 4, 5]);
        assert_eq!(changed[&2], vec![6]);
    }

    #[test]
    fn loaded_buckets_are_filled_before_new_ones_open() {
        let mut index = PartitionIndex::default();
        // Bucket 0 full, bucket 2 has room; bucket 1 does not exist.
        index.load(0, &[10, 11, 12], 3);
        index.load(2, &[20], 3);
        assert!(index.changed.is_empty());
        assert_eq!(assign_all(&mut index, [11, 20], 3, None), vec![0, 2]);
        assert!(index.changed.is_empty(), "known keys change nothing");
        // New keys: bucket 2 until full, then the lowest unused id (1), then 3.
        assert_eq!(
            assign_all(&mut index, [30, 31, 32, 33, 34, 35, 36], 3, None),
            vec![2, 2, 1, 1, 1, 3, 3]
        );
        assert_eq!(
            index.changed.iter().copied().collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        // The changed bucket's file holds its loaded keys too.
        assert_eq!(index.changed_hashes()[&2], vec![20, 30, 31]);
    }

    #[test]
    fn max_buckets_bounds_a_partition() {
        let mut index = PartitionIndex::default();
        let buckets = assign_all(&mut index, 0..8, 2, Some(2));
        // Two buckets of two keys, then the emptiest bucket takes the rest (lowest id on ties).
        assert_eq!(buckets, vec![0, 0, 1, 1, 0, 1, 0, 1]);
        assert_eq!(index.buckets(), 2);
    }

    #[test]
    fn unbounded_buckets_end_at_the_short_range() {
        let mut index = PartitionIndex::default();
        for b in 0..MAX_BUCKET_ID as i32 {
            index.load(b, &[b], 1);
        }
        assert_eq!(index.assign(5, 1, None).unwrap(), 5);
        let e = index.assign(-1, 1, None).unwrap_err();
        assert!(
            e.to_string().contains("dynamic-bucket.target-row-num"),
            "{e}"
        );
    }
}
