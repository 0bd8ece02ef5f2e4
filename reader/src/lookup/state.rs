//! What a lookup handle knows about one snapshot: the scan's plan regrouped for lookups.
//!
//! The files come from [`crate::plan::plan`] — the same live files, the same level-0
//! skipping and the same deletion vectors a scan reads. Per (partition, bucket) they are kept
//! as sorted runs in probe order: level-0 files newest first (by `_MAX_SEQUENCE_NUMBER`), then
//! levels 1, 2, … each sorted by key range. `_MIN_KEY`/`_MAX_KEY` are decoded once so that a
//! key only visits files whose range holds it.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use object_store::path::Path;
use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::datum::{compare_keys, Datum};
use streamhouse_format::io::Table;
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::merge::MergeFunction;
use streamhouse_format::route::KeyRouter;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::DataType;
use streamhouse_format::{Error, Result};

use crate::file_reader::{data_file_format, ScanContext};
use crate::other_formats::OtherFormat;
use crate::plan::{self, DeletionFile, Plan};
use crate::split_reader::SplitMode;

/// How a bucket's records become the row a scan returns.
#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// Merge every version of the key with the table's merge function.
    Merge(MergeFunction),
    /// Deletion-vector tables read without merging (level 0 skipped): the live, non-retracted
    /// record is the row.
    Concat,
}

/// Numbers for data files, stable for the life of a handle: a file's location (names are
/// unique, contents immutable) gets one number, the key of its cache entries.
#[derive(Debug, Default)]
pub(crate) struct FileIds {
    ids: std::sync::Mutex<HashMap<Arc<str>, u64>>,
}

impl FileIds {
    pub fn id(&self, location: &str) -> u64 {
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = ids.get(location) {
            return *id;
        }
        let id = ids.len() as u64;
        ids.insert(location.into(), id);
        id
    }
}

/// One data file as lookups see it.
#[derive(Debug)]
pub(crate) struct FileRef {
    /// Cache key (see [`FileIds`]).
    pub id: u64,
    pub meta: DataFileMeta,
    /// The trimmed primary key of the first and last row, when decodable in the current key
    /// types.
    pub min_key: Option<Vec<Datum>>,
    pub max_key: Option<Vec<Datum>>,
    pub dv: Option<DeletionFile>,
    /// ORC or Avro (searched whole, [`super::whole_file`]); `None` for Parquet.
    pub format: Option<OtherFormat>,
}

impl FileRef {
    /// Whether `key` may be in the file by its key range.
    pub fn may_hold(&self, key: &[Datum]) -> bool {
        let below = self
            .min_key
            .as_ref()
            .is_some_and(|m| compare_keys(key, m) == Ordering::Less);
        let above = self
            .max_key
            .as_ref()
            .is_some_and(|m| compare_keys(key, m) == Ordering::Greater);
        !below && !above
    }
}

/// A level ≥ 1: one sorted run of files with disjoint key ranges.
#[derive(Debug)]
pub(crate) struct Level {
    pub files: Vec<Arc<FileRef>>,
    /// Every file's range is known, so the run can be binary searched.
    pub sorted: bool,
}

/// The files of one (partition, bucket).
#[derive(Debug)]
pub(crate) struct BucketFiles {
    pub bucket: i32,
    pub dir: Path,
    /// Level-0 files, newest first.
    pub level0: Vec<Arc<FileRef>>,
    pub levels: Vec<Level>,
}

impl BucketFiles {
    /// The files that may hold `key`, newest sorted run first, appended to `out`.
    pub fn candidates<'a>(&'a self, key: &[Datum], out: &mut Vec<&'a FileRef>) {
        out.extend(
            self.level0
                .iter()
                .filter(|f| f.may_hold(key))
                .map(|f| f.as_ref()),
        );
        for level in &self.levels {
            if level.sorted {
                let i = level.files.partition_point(|f| {
                    f.max_key
                        .as_ref()
                        .is_some_and(|m| compare_keys(m, key) == Ordering::Less)
                });
                if let Some(f) = level.files.get(i).filter(|f| f.may_hold(key)) {
                    out.push(f.as_ref());
                }
            } else {
                out.extend(
                    level
                        .files
                        .iter()
                        .filter(|f| f.may_hold(key))
                        .map(|f| f.as_ref()),
                );
            }
        }
    }
}

/// Everything lookups need from one snapshot.
pub(crate) struct SnapshotState {
    pub snapshot_id: Option<i64>,
    pub ctx: Arc<ScanContext>,
    pub mode: Mode,
    pub router: KeyRouter,
    /// The fixed bucket count keys are hashed with; `None` probes every bucket of the
    /// partition (dynamic buckets, a bucket function other than the default, rescaled
    /// buckets, a bucket key outside the primary key).
    pub num_buckets: Option<i32>,
    /// Buckets by normalized partition row (see [`normalize_partition`]), ascending.
    pub partitions: HashMap<Vec<u8>, Vec<Arc<BucketFiles>>>,
    /// The keys of `partitions`, sorted: the order a cross-partition lookup searches them.
    pub partition_order: Vec<Vec<u8>>,
    /// Whether the table has partition columns (else `partitions` has at most one entry).
    pub partitioned: bool,
    /// Files considered by this state (for statistics).
    pub file_count: usize,
}

/// Re-encodes a serialized partition row with this crate's writer so that byte layouts of
/// other writers (pypaimon's null decimals, …) compare equal to the router's encoding.
pub(crate) fn normalize_partition(bytes: &[u8], types: &[DataType]) -> Vec<u8> {
    let norm = BinaryRow::deserialize(bytes)
        .and_then(|row| row.to_datums(types))
        .and_then(|values| BinaryRow::try_from_datums(&values, types));
    match norm {
        Ok(row) => row.serialize(),
        Err(_) => bytes.to_vec(),
    }
}

/// How lookups combine a bucket's records: as batch reads do ([`SplitMode::of_table`]).
fn mode(table: &Table, ctx: &ScanContext) -> Result<Mode> {
    Ok(match SplitMode::of_table(table, ctx)? {
        SplitMode::Merge(m) => Mode::Merge(m),
        SplitMode::Concat { .. } => Mode::Concat,
    })
}

/// Decodes a manifest key bound in the types the file was written with; `None` when it does
/// not decode or the key types changed since.
fn decode_key(
    bytes: &[u8],
    file_types: Option<&Vec<DataType>>,
    current: &[DataType],
) -> Option<Vec<Datum>> {
    let types = file_types?;
    let same =
        types.len() == current.len() && types.iter().zip(current).all(|(a, b)| a.kind == b.kind);
    if !same {
        return None;
    }
    let row = BinaryRow::deserialize(bytes).ok()?;
    if row.arity() != types.len() {
        return None;
    }
    row.to_datums(types).ok()?.into_iter().collect()
}

impl SnapshotState {
    /// Plans `snapshot` (latest when `None`) and regroups its files for lookups.
    pub async fn load(
        table: &Table,
        snapshot: Option<i64>,
        ids: &FileIds,
    ) -> Result<SnapshotState> {
        if !table.is_primary_key_table() {
            return Err(Error::invalid(format!(
                "table {} has no primary key, so it has no keys to look up (use scan)",
                table.name
            )));
        }
        let plan: Plan = plan::plan(table, snapshot).await?;
        let mut schemas: HashMap<i64, Arc<TableSchema>> = HashMap::new();
        schemas.insert(table.schema.id, table.schema.clone());
        for split in &plan.splits {
            for f in &split.files {
                if let std::collections::hash_map::Entry::Vacant(e) = schemas.entry(f.schema_id) {
                    e.insert(Arc::new(table.schema_by_id(f.schema_id).await?));
                }
            }
        }
        // Key types of every schema, by key field id of the current schema.
        let key_fields = table
            .schema
            .fields_named(&table.schema.trimmed_primary_keys())?;
        let current: Vec<DataType> = key_fields.iter().map(|f| f.data_type.clone()).collect();
        let key_types_of: HashMap<i64, Vec<DataType>> = schemas
            .iter()
            .filter_map(|(id, s)| {
                let types: Option<Vec<DataType>> = key_fields
                    .iter()
                    .map(|k| {
                        s.fields
                            .iter()
                            .find(|f| f.id == k.id)
                            .map(|f| f.data_type.clone())
                    })
                    .collect();
                types.map(|t| (*id, t))
            })
            .collect();
        let names = table.schema.field_names();
        let ctx = Arc::new(ScanContext::new(table.clone(), schemas, &names, 1024)?);
        let mode = mode(table, &ctx)?;
        let router = KeyRouter::new(&table.schema, &table.options)?;
        let partition_types: Vec<DataType> =
            table.schema.types_named(&table.schema.partition_keys)?;

        let mut partitions: HashMap<Vec<u8>, Vec<Arc<BucketFiles>>> = HashMap::new();
        let mut file_count = 0;
        let mut max_bucket = -1;
        for split in plan.splits {
            let dir = split.bucket_dir(table);
            let mut level0 = vec![];
            let mut by_level: std::collections::BTreeMap<i32, Vec<Arc<FileRef>>> =
                Default::default();
            for meta in split.files {
                let types = key_types_of.get(&meta.schema_id);
                let id = match &meta.external_path {
                    Some(e) => ids.id(e),
                    None => ids.id(dir.clone().join(meta.file_name.as_str()).as_ref()),
                };
                let f = Arc::new(FileRef {
                    id,
                    min_key: decode_key(&meta.min_key, types, &current),
                    max_key: decode_key(&meta.max_key, types, &current),
                    dv: split.deletion_vectors.get(&meta.file_name).cloned(),
                    format: OtherFormat::of(data_file_format(&ctx, &meta)),
                    meta,
                });
                file_count += 1;
                if f.meta.level == 0 {
                    level0.push(f);
                } else {
                    by_level.entry(f.meta.level).or_default().push(f);
                }
            }
            level0.sort_by(|a, b| {
                (b.meta.max_sequence_number, b.meta.min_sequence_number)
                    .cmp(&(a.meta.max_sequence_number, a.meta.min_sequence_number))
                    .then_with(|| b.meta.creation_time.cmp(&a.meta.creation_time))
                    .then_with(|| a.meta.file_name.cmp(&b.meta.file_name))
            });
            let levels = by_level
                .into_values()
                .map(|mut files| {
                    let sorted = files
                        .iter()
                        .all(|f| f.min_key.is_some() && f.max_key.is_some());
                    if sorted {
                        files.sort_by(|a, b| {
                            compare_keys(
                                a.min_key.as_deref().unwrap_or_default(),
                                b.min_key.as_deref().unwrap_or_default(),
                            )
                        });
                    }
                    Level { files, sorted }
                })
                .collect();
            max_bucket = max_bucket.max(split.bucket);
            let part = normalize_partition(&split.partition, &partition_types);
            partitions
                .entry(part)
                .or_default()
                .push(Arc::new(BucketFiles {
                    bucket: split.bucket,
                    dir,
                    level0,
                    levels,
                }));
        }
        for buckets in partitions.values_mut() {
            buckets.sort_by_key(|b| b.bucket);
        }
        let mut partition_order: Vec<Vec<u8>> = partitions.keys().cloned().collect();
        partition_order.sort();
        let n = table.options.bucket;
        let default_function = table.options.default_bucket_function();
        let num_buckets = (n > 0 && max_bucket < n && default_function).then_some(n);
        Ok(SnapshotState {
            snapshot_id: plan.snapshot.map(|s| s.id),
            ctx,
            mode,
            router,
            num_buckets,
            partitioned: !table.schema.partition_keys.is_empty(),
            partition_order,
            partitions,
            file_count,
        })
    }

    /// The buckets that may hold a checked primary-key value, grouped by partition: one
    /// group when the key determines its partition, else (a cross-partition table) one per
    /// partition, in partition order.
    pub fn buckets_of(&self, key: &[Datum]) -> Result<Vec<Vec<Arc<BucketFiles>>>> {
        let wanted = match self.num_buckets {
            Some(n) => self.router.bucket(key, n)?,
            None => None,
        };
        let pick = |buckets: &Vec<Arc<BucketFiles>>| -> Vec<Arc<BucketFiles>> {
            match wanted {
                Some(b) => buckets.iter().filter(|x| x.bucket == b).cloned().collect(),
                None => buckets.clone(),
            }
        };
        if self.partitioned && !self.router.routes_partition() {
            return Ok(self
                .partition_order
                .iter()
                .filter_map(|p| self.partitions.get(p))
                .map(pick)
                .collect());
        }
        // The router encodes with this crate's writer: already the normalized form.
        let buckets = match (self.partitioned, self.partitions.values().next()) {
            (false, Some(b)) => b,
            (false, None) => return Ok(vec![]),
            (true, _) => match self.partitions.get(&self.router.partition(key)?) {
                Some(b) => b,
                None => return Ok(vec![]),
            },
        };
        Ok(vec![pick(buckets)])
    }
}
