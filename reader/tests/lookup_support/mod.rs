//! Helpers for lookup tests: tables written by the real writer (many unmerged commits) plus
//! hand-made sorted runs at levels ≥ 1, and the check that `get` equals a full scan.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use std::path::Path;

use arrow::array::{Array, ArrayRef, Int64Array, Int8Array, RecordBatch, StringArray};
use arrow::compute::{concat_batches, take_record_batch};
use arrow::datatypes::Schema;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::datum::{datum_from_arrow, Datum};
use streamhouse_format::io::{CommitMessage, Table};
use streamhouse_format::route::KeyRouter;
use streamhouse_format::row_kind::RowKind;
use streamhouse_reader::lookup::{LookupHandle, LookupOptions};
use streamhouse_reader::ScanBuilder;
use streamhouse_writer::file_writer::{physical_batch, FileLayout, FileNamer, RollingFileWriter};
use streamhouse_writer::TableWriter;

pub use crate::common::Rng;

/// The columns every generated table has: `dt` (a partition column when partitioned), `k`,
/// `s` (part of composite keys), and values `v`, `n`.
pub const COLUMNS: &str =
    "dt STRING NOT NULL, k BIGINT NOT NULL, s STRING NOT NULL, v STRING, n BIGINT";

pub const DAYS: [&str; 3] = ["2024-01-01", "2024-01-02", "2024-01-03"];

/// A table of [`COLUMNS`] in a fresh in-memory warehouse.
pub async fn create(partition: &[&str], pk: &[&str], options: &[(&str, &str)]) -> Table {
    crate::common::table(COLUMNS, partition, pk, options).await
}

/// One generated record.
#[derive(Debug, Clone)]
pub struct Rec {
    pub k: i64,
    pub kind: RowKind,
    pub v: Option<String>,
    pub n: Option<i64>,
}

/// The day and `s` of key `k` (fixed per key, so `(dt, k)` and `(k, s)` keys are functions of
/// `k`).
pub fn day_of(k: i64) -> &'static str {
    DAYS[(k % 3) as usize]
}

pub fn s_of(k: i64) -> String {
    format!("s{}", k % 7)
}

pub fn batch_of(table: &Table, recs: &[Rec]) -> RecordBatch {
    let schema = table.schema.arrow_schema();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(
            recs.iter().map(|r| day_of(r.k)).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            recs.iter().map(|r| r.k).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            recs.iter().map(|r| s_of(r.k)).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            recs.iter().map(|r| r.v.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            recs.iter().map(|r| r.n).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema, cols).unwrap()
}

/// What kinds of records a table's engine accepts.
#[derive(Debug, Clone, Copy)]
pub struct Gen {
    pub keys: i64,
    pub deletes: bool,
    pub nulls: bool,
}

impl Gen {
    /// Keys `0..keys`; retractions among the records when `deletes`, null values when `nulls`.
    pub const fn new(keys: i64, deletes: bool, nulls: bool) -> Gen {
        Gen {
            keys,
            deletes,
            nulls,
        }
    }
}

pub fn gen_records(rng: &mut Rng, g: Gen, count: usize) -> Vec<Rec> {
    (0..count)
        .map(|_| {
            let k = rng.below(g.keys as u64) as i64;
            let kind = if g.deletes {
                match rng.below(10) {
                    0 | 1 => RowKind::Delete,
                    2 => RowKind::UpdateBefore,
                    3 => RowKind::UpdateAfter,
                    _ => RowKind::Insert,
                }
            } else {
                RowKind::Insert
            };
            let v = (!(g.nulls && rng.chance(30))).then(|| format!("v{}", rng.below(1000)));
            let n = (!(g.nulls && rng.chance(30))).then(|| rng.below(100) as i64);
            Rec { k, kind, v, n }
        })
        .collect()
}

/// Writes runs at levels ≥ 1 into every bucket: for each `(level, files)` (oldest first) the
/// bucket's keys that the run holds, split into `files` files with disjoint key ranges, one
/// record per key, sequence numbers increasing run by run. Committed as one COMPACT snapshot.
pub async fn write_level_runs(table: &Table, rng: &mut Rng, g: Gen, runs: &[(i32, usize)]) {
    write_runs(table, rng, g, runs, false).await
}

/// Like [`write_level_runs`]; with `interleave`, the sequence numbers of all runs of a bucket
/// are one random permutation, so runs (level-0 files too) overlap in sequence ranges and file
/// order says nothing about which version is newer.
pub async fn write_runs(
    table: &Table,
    rng: &mut Rng,
    g: Gen,
    runs: &[(i32, usize)],
    interleave: bool,
) {
    let router = KeyRouter::new(&table.schema, &table.options).unwrap();
    let layout = FileLayout::new(&table.schema, &table.options).unwrap();
    let namer = FileNamer::new();
    let key_indices = table
        .schema
        .indices_of(&table.schema.trimmed_primary_keys())
        .unwrap();
    let n_buckets = table.options.bucket;
    // Keys by (partition, bucket).
    let mut by_bucket: BTreeMap<(Vec<u8>, i32), Vec<i64>> = BTreeMap::new();
    for k in 0..g.keys {
        let key = full_key(table, k);
        let b = router.bucket(&key, n_buckets).unwrap().unwrap();
        by_bucket
            .entry((router.partition(&key).unwrap(), b))
            .or_default()
            .push(k);
    }
    let mut messages = vec![];
    for ((partition, bucket), keys) in by_bucket {
        let mut seq = 0i64;
        let mut files = vec![];
        let mut uploads = vec![];
        let dir_values = router.partition_values(&full_key(table, keys[0]));
        let part_path = streamhouse_format::partition::partition_path(
            &table.schema.partition_keys,
            &table
                .schema
                .fields_named(&table.schema.partition_keys)
                .unwrap()
                .into_iter()
                .map(|f| f.data_type)
                .collect::<Vec<_>>(),
            &dir_values,
            &table.options.partition_default_name,
        );
        // With `interleave`: every record's sequence number, drawn from one permutation.
        let mut pool: Vec<i64> = (0..(keys.len() * runs.len()) as i64).collect();
        for i in (1..pool.len()).rev() {
            pool.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for (level, n_files) in runs {
            let mut chosen: Vec<i64> = keys.iter().copied().filter(|_| rng.chance(60)).collect();
            sort_by_trimmed_key(table, &mut chosen);
            if chosen.is_empty() {
                continue;
            }
            let per_file = chosen.len().div_ceil(*n_files);
            for part in chosen.chunks(per_file) {
                let mut recs = gen_records(rng, g, part.len());
                for (r, k) in recs.iter_mut().zip(part) {
                    r.k = *k;
                    // Retractions survive below the highest level only.
                    if *level == 5 && r.kind.is_retract() {
                        r.kind = RowKind::Insert;
                    }
                }
                // Sequence numbers follow arrival order, not key order.
                let mut seqs: Vec<i64> = if interleave {
                    pool.drain(..recs.len()).collect()
                } else {
                    (seq..seq + recs.len() as i64).collect()
                };
                seq += recs.len() as i64;
                for i in (1..seqs.len()).rev() {
                    seqs.swap(i, rng.below(i as u64 + 1) as usize);
                }
                let values = batch_of(table, &recs);
                let kinds = Int8Array::from(recs.iter().map(|r| r.kind as i8).collect::<Vec<_>>());
                let batch = physical_batch(
                    &layout,
                    &key_indices,
                    values.columns(),
                    Arc::new(Int64Array::from(seqs)),
                    Arc::new(kinds),
                )
                .unwrap();
                let mut w = RollingFileWriter::new(&layout, &namer, "data-", *level, 1);
                w.write(&batch, 0).unwrap();
                for f in w.finish().unwrap() {
                    uploads.push((f.meta.file_name.clone(), f.bytes));
                    files.push(f.meta);
                }
            }
        }
        let dir = table.bucket_dir(&part_path, bucket);
        for (name, bytes) in uploads {
            table
                .io
                .write(&dir.clone().join(name.as_str()), bytes)
                .await
                .unwrap();
        }
        messages.push(CommitMessage {
            partition,
            bucket,
            total_buckets: n_buckets,
            compact_after: files,
            ..Default::default()
        });
    }
    crate::common::commit_messages(table, "level-writer", &messages).await;
}

/// Sorts keys by the table's trimmed primary key (the order inside data files).
fn sort_by_trimmed_key(table: &Table, keys: &mut [i64]) {
    let trimmed = table.schema.trimmed_primary_keys();
    keys.sort_by(|a, b| {
        for c in &trimmed {
            let o = match c.as_str() {
                "k" => a.cmp(b),
                "s" => s_of(*a).cmp(&s_of(*b)),
                "dt" => day_of(*a).cmp(day_of(*b)),
                _ => unreachable!(),
            };
            if o.is_ne() {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
}

/// Commits `commits` rounds of random records through the writer (level-0 files).
pub async fn write_commits(table: &Table, rng: &mut Rng, g: Gen, commits: usize, per: usize) {
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    for _ in 0..commits {
        let recs = gen_records(rng, g, per);
        let kinds: Vec<RowKind> = recs.iter().map(|r| r.kind).collect();
        w.write_with_kinds(&batch_of(table, &recs), &kinds)
            .await
            .unwrap();
        w.commit().await.unwrap();
    }
}

/// The primary-key value of key `k` (one datum per primary-key column).
pub fn full_key(table: &Table, k: i64) -> Vec<Datum> {
    table
        .schema
        .primary_keys
        .iter()
        .map(|c| match c.as_str() {
            "dt" => Datum::String(day_of(k).to_string()),
            "k" => Datum::BigInt(k),
            "s" => Datum::String(s_of(k)),
            other => panic!("no generated column {other}"),
        })
        .collect()
}

fn key_string(key: &[Datum]) -> String {
    key.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("|")
}

/// The primary-key value of row `row` of a batch of the table's columns.
pub fn row_key(table: &Table, batch: &RecordBatch, row: usize) -> Vec<Datum> {
    table
        .schema
        .primary_keys
        .iter()
        .map(|k| {
            let ty = &table.schema.field(k).unwrap().data_type;
            let col = batch.column_by_name(k).unwrap();
            datum_from_arrow(col.as_ref(), row, ty).unwrap().unwrap()
        })
        .collect()
}

/// The primary-key values of every row of `batches` (the table's columns).
pub fn keys_in(table: &Table, batches: &[RecordBatch]) -> Vec<Vec<Datum>> {
    batches
        .iter()
        .flat_map(|b| (0..b.num_rows()).map(|row| row_key(table, b, row)))
        .collect()
}

/// Keys nobody wrote: the first `n` of `keys`, each with its last integer or string column
/// moved far away (keys without such a column are skipped).
pub fn absent_keys(keys: &[Vec<Datum>], n: usize) -> Vec<Vec<Datum>> {
    keys.iter()
        .take(n)
        .filter_map(|k| {
            let mut k = k.clone();
            let last = k
                .iter_mut()
                .rev()
                .find(|d| matches!(d, Datum::Int(_) | Datum::BigInt(_) | Datum::String(_)))?;
            *last = match &*last {
                Datum::Int(v) => Datum::Int(v.wrapping_add(1_000_003)),
                Datum::BigInt(v) => Datum::BigInt(v.wrapping_add(1_000_003)),
                Datum::String(s) => Datum::String(format!("{s}-never")),
                other => other.clone(),
            };
            Some(k)
        })
        .collect()
}

/// A full scan's rows by primary key.
pub async fn scan_by_key(table: &Table, snapshot: Option<i64>) -> HashMap<String, RecordBatch> {
    let mut b = ScanBuilder::new(table);
    if let Some(s) = snapshot {
        b = b.snapshot(s);
    }
    let batches = b.to_batches().await.unwrap();
    let schema: Arc<Schema> = b.output_schema().unwrap();
    let all = concat_batches(&schema, &batches).unwrap();
    let mut out = HashMap::new();
    for row in 0..all.num_rows() {
        let key = row_key(table, &all, row);
        let idx = arrow::array::UInt32Array::from(vec![row as u32]);
        let prev = out.insert(key_string(&key), take_record_batch(&all, &idx).unwrap());
        assert!(prev.is_none(), "the scan returned key {key:?} twice");
    }
    out
}

/// Row equality by column values.
pub fn same_row(a: &RecordBatch, b: &RecordBatch) -> bool {
    a.num_rows() == 1
        && b.num_rows() == 1
        && a.num_columns() == b.num_columns()
        && a.columns()
            .iter()
            .zip(b.columns())
            .all(|(x, y)| x.to_data() == y.to_data())
}

/// Looks every key up (one by one and all at once) and compares with the scan; returns how
/// many keys were found.
pub async fn check_against_scan(
    table: &Table,
    handle: &LookupHandle,
    keys: &[Vec<Datum>],
    snapshot: Option<i64>,
) -> usize {
    let expected = scan_by_key(table, snapshot).await;
    let many = handle.get_many(keys).await.unwrap();
    assert_eq!(many.positions.len(), keys.len());
    let mut found = 0;
    for (i, key) in keys.iter().enumerate() {
        let want = expected.get(&key_string(key));
        let got = many.row(i);
        match (want, &got) {
            (None, None) => {}
            (Some(w), Some(g)) => {
                assert!(
                    same_row(w, g),
                    "key {key:?}: get returned {g:?}, the scan {w:?}"
                );
                found += 1;
            }
            _ => panic!(
                "key {key:?}: get says {}, the scan says {}",
                if got.is_some() { "found" } else { "absent" },
                if want.is_some() { "found" } else { "absent" }
            ),
        }
    }
    // Single gets agree with the batch answer.
    for key in keys.iter().step_by(7) {
        let one = handle.get(key).await.unwrap();
        let want = expected.get(&key_string(key));
        assert_eq!(one.is_some(), want.is_some(), "single get of {key:?}");
        if let (Some(a), Some(b)) = (one, want) {
            assert!(same_row(&a, b), "single get of {key:?}");
        }
    }
    let found_expected = keys
        .iter()
        .filter(|k| expected.contains_key(&key_string(k)))
        .count();
    assert_eq!(found, found_expected);
    found
}

/// A handle on the latest snapshot with default options.
pub async fn open_handle(table: &Table) -> LookupHandle {
    LookupHandle::open(table, LookupOptions::default())
        .await
        .unwrap()
}

/// Options small enough that tests exercise evictions too.
pub fn small_caches() -> LookupOptions {
    LookupOptions {
        footer_cache_bytes: 256 * 1024,
        bloom_cache_bytes: 64 * 1024,
        page_cache_bytes: 256 * 1024,
        metadata_cache_bytes: 256 * 1024,
        ..LookupOptions::default()
    }
}

/// Every key of the generated domain plus never-written ones.
pub fn all_keys(table: &Table, keys: i64) -> Vec<Vec<Datum>> {
    (0..keys + 25).map(|k| full_key(table, k)).collect()
}

/// Levels present per bucket (partition bytes, bucket) in the latest snapshot.
pub async fn levels(table: &Table) -> BTreeMap<(Vec<u8>, i32), Vec<i32>> {
    let snap = table.snapshot_or_latest(None).await.unwrap().unwrap();
    let mut out: BTreeMap<(Vec<u8>, i32), Vec<i32>> = BTreeMap::new();
    for e in table.all_live_files(&snap).await.unwrap() {
        let l = out.entry((e.partition, e.bucket)).or_default();
        if !l.contains(&e.file.level) {
            l.push(e.file.level);
        }
    }
    for l in out.values_mut() {
        l.sort_unstable();
    }
    out
}

pub fn column_is_null(b: &RecordBatch, name: &str) -> bool {
    b.column_by_name(name).unwrap().is_null(0)
}

/// Every key stored in the latest snapshot's live data files (all levels), as full primary
/// keys, for a table in a local warehouse rooted at `local_root`.
pub async fn stored_keys(table: &Table, local_root: &Path) -> Vec<Vec<Datum>> {
    let Some(snap) = table.snapshot_or_latest(None).await.unwrap() else {
        return vec![];
    };
    let schema = &table.schema;
    let router = KeyRouter::new(schema, &table.options).unwrap();
    let part_types: Vec<_> = schema
        .fields_named(&schema.partition_keys)
        .unwrap()
        .into_iter()
        .map(|f| f.data_type)
        .collect();
    let mut out = vec![];
    for e in table.all_live_files(&snap).await.unwrap() {
        if e.bucket < 0 || !e.file.file_name.ends_with(".parquet") {
            continue;
        }
        let part_dir = table.partition_dir(&e.partition).unwrap();
        let rel = table.bucket_dir(&part_dir, e.bucket);
        let path = local_root.join(rel.as_ref()).join(&e.file.file_name);
        let Ok(file) = std::fs::File::open(&path) else {
            continue; // external paths and the like
        };
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let part_values = BinaryRow::deserialize(&e.partition)
            .and_then(|r| r.to_datums(&part_types))
            .unwrap_or_default();
        for batch in reader {
            let batch = batch.unwrap();
            for row in 0..batch.num_rows() {
                let mut key = vec![];
                for pk in &schema.primary_keys {
                    let f = schema.field(pk).unwrap();
                    let v = if let Some(i) = schema.partition_keys.iter().position(|p| p == pk) {
                        part_values.get(i).cloned().flatten()
                    } else {
                        let col = batch
                            .column_by_name(&format!("_KEY_{pk}"))
                            .or_else(|| batch.column_by_name(pk));
                        col.and_then(|c| datum_from_arrow(c.as_ref(), row, &f.data_type).ok())
                            .flatten()
                    };
                    match v {
                        Some(v) => key.push(v),
                        None => break,
                    }
                }
                if key.len() == schema.primary_keys.len() && router.check(&key).is_ok() {
                    out.push(key);
                }
            }
        }
    }
    out
}
