//! Pruning while planning: manifests by their partition statistics, manifest entries by their
//! partition and bucket, live files by their key or value statistics.
//!
//! The predicate given here must already be safe before merging (for primary-key tables:
//! restricted to primary-key columns, see [`crate::scan`]). Entry-level partition checks are
//! exact and at least as strict as the manifest-level ones, so the ADD and DELETE entries of
//! one file are always kept or dropped together.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use streamhouse_format::binary_row::{BinaryRow, BinaryRowWriter};
use streamhouse_format::bucket::{bucket_of, hash_row};
use streamhouse_format::datum::Datum;
use streamhouse_format::io::Table;
use streamhouse_format::manifest::{DataFileMeta, ManifestEntry, ManifestFileMeta};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::stats::SimpleStats;
use streamhouse_format::types::DataType;
use streamhouse_format::Result;

use crate::predicate::{ColumnRange, Leaf, Predicate};
use crate::scan_stats::ScanMetrics;

/// Most bucket-key combinations enumerated for bucket pruning.
const MAX_BUCKET_KEYS: usize = 4096;

/// The pruning state of one plan.
pub struct PlanPruner {
    predicate: Predicate,
    partition_keys: Vec<String>,
    partition_types: Vec<DataType>,
    /// Bucket-key columns with their types and the values the predicate allows, when it pins
    /// every one of them (fixed-bucket tables with the default bucket function only).
    bucket_keys: Option<(Vec<DataType>, Vec<Vec<Datum>>)>,
    /// Table-level bucket count (entries carry their own `_TOTAL_BUCKETS`).
    table_buckets: i32,
    bucket_sets: Mutex<HashMap<i32, HashSet<i32>>>,
    /// Partition bytes → whether it may match.
    partitions: Mutex<HashMap<Vec<u8>, bool>>,
    metrics: Option<Arc<ScanMetrics>>,
}

impl PlanPruner {
    pub fn new(
        table: &Table,
        predicate: Predicate,
        metrics: Option<Arc<ScanMetrics>>,
    ) -> Result<Self> {
        let schema = &table.schema;
        let partition_keys = schema.partition_keys.clone();
        let partition_types = schema.types_named(&partition_keys)?;
        let default_function = table.options.default_bucket_function();
        let mut bucket_keys = None;
        let key_names = if table.options.bucket_key.is_empty() {
            schema.trimmed_primary_keys()
        } else {
            table.options.bucket_key.clone()
        };
        if table.options.bucket > 0 && default_function && !key_names.is_empty() {
            let fields = schema.fields_named(&key_names)?;
            let mut combos: Vec<Vec<Datum>> = vec![vec![]];
            let mut pinned = true;
            for f in &fields {
                match predicate.equality_values(&f.name) {
                    Some(vs) if combos.len() * vs.len().max(1) <= MAX_BUCKET_KEYS => {
                        combos = combos
                            .into_iter()
                            .flat_map(|c| {
                                vs.iter().map(move |v| {
                                    let mut c = c.clone();
                                    c.push(v.clone());
                                    c
                                })
                            })
                            .collect();
                    }
                    _ => {
                        pinned = false;
                        break;
                    }
                }
            }
            if pinned {
                bucket_keys = Some((fields.into_iter().map(|f| f.data_type).collect(), combos));
            }
        }
        Ok(PlanPruner {
            predicate,
            partition_keys,
            partition_types,
            bucket_keys,
            table_buckets: table.options.bucket,
            bucket_sets: Mutex::new(HashMap::new()),
            partitions: Mutex::new(HashMap::new()),
            metrics,
        })
    }

    fn partition_index(&self, l: &Leaf) -> Option<usize> {
        self.partition_keys.iter().position(|k| *k == l.column)
    }

    /// Whether a manifest may hold matching entries (by `_PARTITION_STATS`).
    pub fn keep_manifest(&self, m: &ManifestFileMeta) -> bool {
        if self.partition_keys.is_empty() || self.predicate.is_true() {
            return true;
        }
        let Ok((mins, maxes)) = m.partition_stats.decode(&self.partition_types) else {
            return true;
        };
        let stats = |l: &Leaf| {
            let i = self.partition_index(l)?;
            Some(ColumnRange {
                min: mins.get(i).cloned().flatten(),
                max: maxes.get(i).cloned().flatten(),
                null_count: m.partition_stats.null_counts.get(i).copied().flatten(),
            })
        };
        self.predicate.may_match(&stats, None)
    }

    /// The partition values of serialized partition bytes (`None`: undecodable).
    fn partition_values(&self, partition: &[u8]) -> Option<Vec<Option<Datum>>> {
        let row = BinaryRow::deserialize(partition).ok()?;
        (row.arity() == self.partition_types.len())
            .then(|| row.to_datums(&self.partition_types).ok())
            .flatten()
    }

    fn keep_partition(&self, partition: &[u8]) -> bool {
        let mut cache = self.partitions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = cache.get(partition) {
            return *k;
        }
        let keep = match self.partition_values(partition) {
            _ if self.partition_keys.is_empty() || self.predicate.is_true() => true,
            None => true,
            Some(values) => {
                let stats = |l: &Leaf| {
                    let i = self.partition_index(l)?;
                    Some(ColumnRange::exact(values[i].clone(), Some(1)))
                };
                self.predicate.may_match(&stats, Some(1))
            }
        };
        cache.insert(partition.to_vec(), keep);
        keep
    }

    fn keep_bucket(&self, bucket: i32, total_buckets: i32) -> bool {
        let Some((types, combos)) = &self.bucket_keys else {
            return true;
        };
        let n = if total_buckets > 0 {
            total_buckets
        } else {
            self.table_buckets
        };
        let mut sets = self.bucket_sets.lock().unwrap_or_else(|e| e.into_inner());
        let set = sets.entry(n).or_insert_with(|| {
            let mut w = BinaryRowWriter::new(types.len());
            let mut out = HashSet::new();
            for c in combos {
                w.reset();
                let ok = c
                    .iter()
                    .zip(types)
                    .enumerate()
                    .all(|(i, (v, t))| w.write_datum(i, Some(v), t).is_ok());
                if !ok {
                    // A value the writer could not have routed: keep every bucket.
                    return (0..n).collect();
                }
                out.insert(bucket_of(hash_row(w.buffer()), n));
            }
            out
        });
        set.contains(&bucket)
    }

    /// Whether a manifest entry may hold matching rows (partition and bucket).
    pub fn keep_entry(&self, e: &ManifestEntry) -> bool {
        self.keep_partition(&e.partition) && self.keep_bucket(e.bucket, e.total_buckets)
    }

    /// Records partition counts after the entries were read.
    pub fn record_partitions(&self) {
        if let Some(m) = &self.metrics {
            let cache = self.partitions.lock().unwrap_or_else(|e| e.into_inner());
            ScanMetrics::add(&m.partitions_seen, cache.len().max(1) as u64);
            ScanMetrics::add(
                &m.partitions_read,
                cache
                    .values()
                    .filter(|k| **k)
                    .count()
                    .max(usize::from(cache.is_empty())) as u64,
            );
        }
    }

    /// Whether a live file may hold matching rows, by its statistics (key statistics for
    /// primary-key tables, value statistics for append tables) and its partition.
    pub fn keep_file(
        &self,
        primary_key: bool,
        partition: &[u8],
        file: &DataFileMeta,
        file_schema: &TableSchema,
    ) -> bool {
        if self.predicate.is_true() {
            return true;
        }
        let values = self.partition_values(partition);
        let (names, stats): (Vec<String>, &SimpleStats) = if primary_key {
            (file_schema.trimmed_primary_keys(), &file.key_stats)
        } else {
            match &file.value_stats_cols {
                Some(cols) => (cols.clone(), &file.value_stats),
                None => (file_schema.field_names(), &file.value_stats),
            }
        };
        let Ok(fields) = file_schema.fields_named(&names) else {
            return true;
        };
        let types: Vec<DataType> = fields.iter().map(|f| f.data_type.clone()).collect();
        let decoded = stats.decode(&types).ok();
        let range = |l: &Leaf| -> Option<ColumnRange> {
            if let (Some(i), Some(vs)) = (self.partition_index(l), &values) {
                return Some(ColumnRange::exact(vs[i].clone(), Some(file.row_count)));
            }
            let (mins, maxes) = decoded.as_ref()?;
            let i = fields.iter().position(|f| f.id == l.field_id)?;
            if fields[i].data_type.kind != l.ty.kind {
                return None;
            }
            Some(ColumnRange {
                min: mins.get(i).cloned().flatten(),
                max: maxes.get(i).cloned().flatten(),
                null_count: stats.null_counts.get(i).copied().flatten(),
            })
        };
        self.predicate.may_match(&range, Some(file.row_count))
    }
}
