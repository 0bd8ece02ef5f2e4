//! Reading a section of a deduplicate split without merging, for scans that do not need key
//! order (SQL aggregates, `ScanBuilder::any_order`).
//!
//! When every sorted run of a section holds sequence numbers that no other run's range
//! overlaps, the newest record of a key is the one in the newest run holding the key (and,
//! inside a run, the last of the key's rows: files are sorted by key, then sequence number).
//! So the runs are read one after the other, newest first, each batch filtered by a mask:
//! a row survives when it is its key's last row in the run, no newer run held the key, and it
//! is not a retraction. Keys seen are remembered in a bitmap over the section's key range
//! (a hash set when the range is sparse). No rows are compared across runs, no values are
//! gathered: the cost is one pass over the key column.
//!
//! It applies to deduplicate tables without `sequence.field` or `ignore-delete` whose trimmed
//! key is one integer column; anything else is merged ([`crate::merge`]).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType as ArrowType, Int64Type};
use futures::stream::BoxStream;
use futures::StreamExt;
use streamhouse_format::datum::Datum;
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::merge::MergeFunction;
use streamhouse_format::options::MergeEngine;
use streamhouse_format::{Error, Result};

use crate::file_reader::ScanContext;
use crate::merge::RunStream;

/// A multiplicative hash for integer keys (the default SipHash costs more than the rest of the
/// pass).
#[derive(Default)]
struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ *b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_i64(&mut self, v: i64) {
        self.0 = (v as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(26);
    }
}

/// Keys seen in the runs already read.
enum Seen {
    /// One bit per key in `base..base + 64 * words.len()`.
    Bits {
        base: i64,
        words: Vec<u64>,
    },
    Set(HashSet<i64, BuildHasherDefault<IntHasher>>),
}

impl Seen {
    /// A bitmap when the key range `lo..=hi` is at most 64 keys per row, else a hash set.
    fn new(range: Option<(i64, i64)>, rows: i64) -> Seen {
        if let Some((lo, hi)) = range {
            let span = (hi as i128 - lo as i128 + 1).max(0) as u128;
            if span <= 64 * (rows.max(1) as u128) && span <= (1u128 << 34) {
                return Seen::Bits {
                    base: lo,
                    words: vec![0; (span as usize).div_ceil(64)],
                };
            }
        }
        Seen::Set(HashSet::default())
    }

    fn contains(&self, k: i64) -> bool {
        match self {
            Seen::Bits { base, words } => {
                let Some(off) = k.checked_sub(*base).filter(|o| *o >= 0) else {
                    return false;
                };
                let off = off as u64;
                words
                    .get((off / 64) as usize)
                    .is_some_and(|w| w & (1 << (off % 64)) != 0)
            }
            Seen::Set(s) => s.contains(&k),
        }
    }

    fn insert_all(&mut self, keys: &[i64]) {
        match self {
            Seen::Bits { base, words } => {
                for &k in keys {
                    let off = k.wrapping_sub(*base) as u64;
                    if let Some(w) = words.get_mut((off / 64) as usize) {
                        *w |= 1 << (off % 64);
                    } else {
                        // Outside the recorded key range (stale statistics): switch to a set.
                        let mut set: HashSet<i64, BuildHasherDefault<IntHasher>> =
                            HashSet::default();
                        for (i, w) in words.iter().enumerate() {
                            let mut w = *w;
                            while w != 0 {
                                let b = w.trailing_zeros() as i64;
                                set.insert(*base + i as i64 * 64 + b);
                                w &= w - 1;
                            }
                        }
                        set.extend(keys.iter().copied());
                        *self = Seen::Set(set);
                        return;
                    }
                }
            }
            Seen::Set(s) => s.extend(keys.iter().copied()),
        }
    }
}

/// Whether a split of this scan may be read newest-first instead of merged: the merge is
/// plain deduplication and the key one integer column.
pub fn applies(ctx: &ScanContext, merge_fn: &MergeFunction) -> bool {
    merge_fn.engine() == MergeEngine::Deduplicate
        && !merge_fn.ignore_delete()
        && ctx.sequence_fields.is_empty()
        && ctx.key_fields.len() == 1
        && matches!(
            ctx.key_fields[0].data_type.to_arrow(),
            ArrowType::Int8 | ArrowType::Int16 | ArrowType::Int32 | ArrowType::Int64
        )
}

/// The runs of a section newest first, when their sequence-number ranges are disjoint
/// (otherwise `None`: the section must be merged).
pub fn order_runs(runs: Vec<Vec<DataFileMeta>>) -> Option<Vec<Vec<DataFileMeta>>> {
    let range = |run: &Vec<DataFileMeta>| {
        let lo = run.iter().map(|f| f.min_sequence_number).min();
        let hi = run.iter().map(|f| f.max_sequence_number).max();
        lo.zip(hi)
    };
    let mut ranged: Vec<((i64, i64), Vec<DataFileMeta>)> = runs
        .into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| range(&r).map(|x| (x, r)))
        .collect::<Option<_>>()?;
    ranged.sort_by_key(|(r, _)| std::cmp::Reverse(r.1));
    let disjoint = ranged.windows(2).all(|w| w[0].0 .0 > w[1].0 .1);
    disjoint.then(|| ranged.into_iter().map(|(_, r)| r).collect())
}

/// The integer value of a decoded key bound.
fn int_of(d: &Datum) -> Option<i64> {
    match d {
        Datum::TinyInt(v) => Some(*v as i64),
        Datum::SmallInt(v) => Some(*v as i64),
        Datum::Int(v) => Some(*v as i64),
        Datum::BigInt(v) => Some(*v),
        _ => None,
    }
}

/// The section's key range from its files' decoded `_MIN_KEY`/`_MAX_KEY`, when known.
pub fn key_range(bounds: &[(Option<Datum>, Option<Datum>)]) -> Option<(i64, i64)> {
    let mut out: Option<(i64, i64)> = None;
    for (lo, hi) in bounds {
        let lo = int_of(lo.as_ref()?)?;
        let hi = int_of(hi.as_ref()?)?;
        out = Some(match out {
            None => (lo, hi),
            Some((a, b)) => (a.min(lo), b.max(hi)),
        });
    }
    out
}

/// State of the newest-first read of one section.
struct State {
    ctx: std::sync::Arc<ScanContext>,
    /// Runs not yet started, newest first.
    runs: std::vec::IntoIter<RunStream>,
    current: Option<RunStream>,
    /// The current run's batch waiting for the next one's first key.
    pending: Option<(RecordBatch, Vec<i64>)>,
    /// Keys of the runs finished.
    seen: Seen,
    /// Keys of the current run kept or superseded (added to `seen` when the run ends).
    run_keys: Vec<i64>,
}

impl State {
    /// The surviving rows of `batch` (keys `keys`); `next_first` is the key of the run's
    /// next row, if any.
    fn decide(
        &mut self,
        batch: RecordBatch,
        keys: Vec<i64>,
        next_first: Option<i64>,
    ) -> Result<RecordBatch> {
        let ctx = &self.ctx;
        let kinds = batch
            .column(ctx.kind_index())
            .as_primitive::<arrow::datatypes::Int8Type>();
        let key_col = batch.column(0);
        let n = keys.len();
        let mut keep = Vec::with_capacity(n);
        let mut all = true;
        for i in 0..n {
            let k = keys[i];
            let last = match keys.get(i + 1) {
                Some(next) => *next != k,
                None => next_first != Some(k),
            };
            let kind = kinds.value(i);
            let ok =
                last && !(kind == 1 || kind == 3) && key_col.is_valid(i) && !self.seen.contains(k);
            all &= ok;
            keep.push(ok);
        }
        self.run_keys.extend_from_slice(&keys);
        let out = if all {
            batch
        } else {
            filter_record_batch(&batch, &BooleanArray::from(keep))
                .map_err(|e| Error::arrow("keeping the newest rows", e))?
        };
        ctx.to_output(&out)
    }

    /// Ends the current run: its keys join the seen ones.
    fn finish_run(&mut self) {
        let keys = std::mem::take(&mut self.run_keys);
        self.seen.insert_all(&keys);
        self.current = None;
    }

    async fn next(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if self.current.is_none() {
                match self.runs.next() {
                    Some(r) => self.current = Some(r),
                    None => return Ok(None),
                }
            }
            let next = match self.current.as_mut() {
                Some(run) => run.next().await,
                None => None,
            };
            match next {
                Some(b) => {
                    let b = b?;
                    if b.num_rows() == 0 {
                        continue;
                    }
                    let keys = int_keys(&b)?;
                    let first = keys.first().copied();
                    if let Some((pb, pk)) = self.pending.replace((b, keys)) {
                        let out = self.decide(pb, pk, first)?;
                        if out.num_rows() > 0 {
                            return Ok(Some(out));
                        }
                    }
                }
                None => {
                    let out = match self.pending.take() {
                        Some((pb, pk)) => Some(self.decide(pb, pk, None)?),
                        None => None,
                    };
                    self.finish_run();
                    if let Some(out) = out.filter(|b| b.num_rows() > 0) {
                        return Ok(Some(out));
                    }
                }
            }
        }
    }
}

/// The first column of an internal batch (the integer key) widened to i64; nulls (corrupt
/// files) become `i64::MIN` and are never kept.
fn int_keys(batch: &RecordBatch) -> Result<Vec<i64>> {
    let wide = arrow::compute::cast(batch.column(0), &ArrowType::Int64)
        .map_err(|e| Error::arrow("widening keys", e))?;
    let wide = wide.as_primitive::<Int64Type>();
    Ok(if wide.null_count() == 0 {
        wide.values().to_vec()
    } else {
        wide.iter().map(|v| v.unwrap_or(i64::MIN)).collect()
    })
}

/// Streams the output rows of a section's runs (newest first, see [`order_runs`]) read one
/// after the other; `key_range` bounds the section's keys when known, `rows` is its stored
/// row count.
pub fn read(
    ctx: std::sync::Arc<ScanContext>,
    runs: Vec<RunStream>,
    key_range: Option<(i64, i64)>,
    rows: i64,
) -> BoxStream<'static, Result<RecordBatch>> {
    let state = State {
        ctx,
        runs: runs.into_iter(),
        current: None,
        pending: None,
        seen: Seen::new(key_range, rows),
        run_keys: vec![],
    };
    futures::stream::try_unfold(
        state,
        |mut s| async move { Ok(s.next().await?.map(|b| (b, s))) },
    )
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_keys_in_a_bitmap_or_a_set() {
        let mut s = Seen::new(Some((10, 20)), 5);
        assert!(matches!(s, Seen::Bits { .. }));
        s.insert_all(&[10, 20, 15]);
        assert!(s.contains(10) && s.contains(20) && s.contains(15));
        assert!(!s.contains(11) && !s.contains(9) && !s.contains(i64::MIN));
        // A key outside the range turns the bitmap into a set that keeps what it held.
        s.insert_all(&[1000]);
        assert!(matches!(s, Seen::Set(_)));
        assert!(s.contains(10) && s.contains(20) && s.contains(15) && s.contains(1000));
        assert!(!s.contains(11));
        let sparse = Seen::new(Some((0, i64::MAX)), 10);
        assert!(matches!(sparse, Seen::Set(_)));
        assert!(matches!(Seen::new(None, 10), Seen::Set(_)));
    }
}
