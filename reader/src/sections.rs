//! Sorted runs and key-range sections of a primary-key split (format §8).
//!
//! Level-0 files are each their own sorted run; all files of a level ≥ 1 form one run. Files
//! whose key ranges (`_MIN_KEY`..`_MAX_KEY`) do not overlap need no merging, so the split is
//! cut into *sections* (Java's `IntervalPartition`): maximal groups of files with chained
//! overlapping ranges, in key order. A section holding a single run is passed through; the
//! others are merged. When key ranges cannot be compared (undecodable keys, key types changed
//! by schema evolution), everything is one section.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::datum::{compare_keys, Datum};
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::types::DataType;

use crate::file_reader::ScanContext;

/// The runs of one section: each run's files in key order.
#[derive(Debug, Clone)]
pub struct Section {
    pub runs: Vec<Vec<DataFileMeta>>,
}

type Key = Vec<Option<Datum>>;

/// Run id of a file: level-0 files get their own (negative, unique) id, levels ≥ 1 their
/// level.
fn run_id(i: usize, f: &DataFileMeta) -> i64 {
    if f.level == 0 {
        -(i as i64) - 1
    } else {
        f.level as i64
    }
}

/// Groups files into runs: level-0 files newest first, then levels ascending (files by min key
/// when known, else in manifest order).
fn group_runs(files: Vec<(i64, DataFileMeta)>) -> Vec<Vec<DataFileMeta>> {
    let mut l0: Vec<DataFileMeta> = vec![];
    let mut levels: BTreeMap<i64, Vec<DataFileMeta>> = BTreeMap::new();
    for (id, f) in files {
        if id < 0 {
            l0.push(f);
        } else {
            levels.entry(id).or_default().push(f);
        }
    }
    l0.sort_by_key(|f| std::cmp::Reverse(f.max_sequence_number));
    let mut runs: Vec<Vec<DataFileMeta>> = l0.into_iter().map(|f| vec![f]).collect();
    runs.extend(levels.into_values());
    runs
}

/// Decodes a file's min and max key with the key types of its own schema.
fn key_range(ctx: &ScanContext, f: &DataFileMeta, types: &[DataType]) -> Option<(Key, Key)> {
    let schema = ctx.schemas.get(&f.schema_id)?;
    // The key columns' types in the file's schema must equal the current ones.
    for (k, t) in ctx.key_fields.iter().zip(types) {
        let ff = schema.fields.iter().find(|x| x.id == k.id)?;
        if ff.data_type.kind != t.kind {
            return None;
        }
    }
    let decode = |bytes: &[u8]| -> Option<Key> {
        let row = BinaryRow::deserialize(bytes).ok()?;
        if row.arity() != types.len() {
            return None;
        }
        row.to_datums(types).ok()
    };
    Some((decode(&f.min_key)?, decode(&f.max_key)?))
}

/// A file's decoded key range (min, max), when its keys are comparable with the current key
/// types.
pub(crate) fn file_key_range(ctx: &ScanContext, f: &DataFileMeta) -> Option<(Key, Key)> {
    let types: Vec<DataType> = ctx.key_fields.iter().map(|f| f.data_type.clone()).collect();
    key_range(ctx, f, &types)
}

/// Cuts a split's files into sections of overlapping key ranges, in key order.
pub fn sections(ctx: &ScanContext, files: &[DataFileMeta]) -> Vec<Section> {
    let types: Vec<DataType> = ctx.key_fields.iter().map(|f| f.data_type.clone()).collect();
    let mut ranged = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        match key_range(ctx, f, &types) {
            Some((min, max)) if compare_keys(&min, &max) != Ordering::Greater => {
                ranged.push((min, max, run_id(i, f), f.clone()))
            }
            _ => {
                let all = files
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (run_id(i, f), f.clone()))
                    .collect();
                return vec![Section {
                    runs: group_runs(all),
                }];
            }
        }
    }
    ranged.sort_by(|a, b| compare_keys(&a.0, &b.0).then_with(|| compare_keys(&a.1, &b.1)));
    let mut out = vec![];
    let mut current: Vec<(i64, DataFileMeta)> = vec![];
    let mut bound: Option<Key> = None;
    for (min, max, id, f) in ranged {
        if let Some(b) = &bound {
            if compare_keys(&min, b) == Ordering::Greater {
                out.push(Section {
                    runs: group_runs(std::mem::take(&mut current)),
                });
                bound = None;
            }
        }
        bound = Some(match bound {
            Some(b) if compare_keys(&b, &max) == Ordering::Greater => b,
            _ => max,
        });
        current.push((id, f));
    }
    if !current.is_empty() {
        out.push(Section {
            runs: group_runs(current),
        });
    }
    out
}
