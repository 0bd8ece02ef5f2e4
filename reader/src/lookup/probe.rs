//! The lookup of one key: bucket → candidate files by key range, newest sorted run first →
//! bloom filter → page index → decode one unit → the key's records → the merged row. An ORC or
//! Avro file is one unit, the whole file ([`super::whole_file`]).
//!
//! For a deduplicate table (no `sequence.field`) the search stops as soon as the newest version
//! is certain: once a record with sequence number `s` is found, files whose
//! `_MAX_SEQUENCE_NUMBER` is below `s` cannot hold a newer one. Level-0 files may overlap and a
//! level-1 file may even be newer than a level-0 file, so the decision uses sequence numbers,
//! not the file order. Every other engine collects all versions and merges them with the same
//! merge function a scan uses.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::interleave;
use arrow::datatypes::{Int64Type, Int8Type};
use bytes::Bytes;
use object_store::path::Path;
use streamhouse_format::datum::{datum_from_arrow, Datum};
use streamhouse_format::merge::{datums_to_array, ArrowRecords, Cell, MergeFunction, MergeOutcome};
use streamhouse_format::options::MergeEngine;
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::{Error, Result};

use super::cache::SharedLru;
use super::counters::{Counters, LookupCounters};
use super::file_index::{self, bloom_value, BloomKind, BloomValue, FileBlooms, FileIndex};
use super::state::{BucketFiles, FileRef, Mode, SnapshotState};
use super::unit::{self, KeyMatcher, ProbeKey, Unit};
use super::whole_file;
use crate::dv::{self, DeletionVector};
use crate::file_reader::ScanContext;
use crate::other_formats::OtherFormat;

/// Cache key of a decoded unit: file, row group, first row.
pub(crate) type UnitKey = (u64, u32, u64);

/// The byte-bounded caches of a lookup handle (the metadata cache lives in the store).
pub(crate) struct Caches {
    pub footers: SharedLru<u64, Arc<FileIndex>>,
    pub blooms: SharedLru<u64, Arc<FileBlooms>>,
    pub units: SharedLru<UnitKey, Arc<Unit>>,
    pub dvs: SharedLru<u64, Arc<DeletionVector>>,
}

/// The error of a lookup in cached-only mode that would need I/O; the probe also records it in
/// [`Probe::needed_io`], which is what callers check (never reaches users).
fn needs_io(flag: &AtomicBool) -> Error {
    flag.store(true, AtomicOrdering::Relaxed);
    Error::internal("a cached-only lookup needs object-store reads")
}

/// Lookup settings the probe needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProbeSettings {
    pub use_bloom_filters: bool,
    pub use_page_index: bool,
}

/// One record of the key found in a file.
#[derive(Clone)]
struct Hit {
    unit: Arc<Unit>,
    row: usize,
    seq: i64,
    kind: i8,
}

fn is_retract(kind: i8) -> bool {
    kind == 1 || kind == 3
}

/// One output value of a found row.
#[derive(Clone)]
pub(crate) enum OutCell {
    Null,
    From(Arc<Unit>, usize),
    Value(Datum),
}

/// The answer for one key.
#[derive(Clone)]
pub(crate) enum Found {
    Absent,
    /// A stored record's values, unchanged.
    Record(Arc<Unit>, usize),
    /// A row assembled by the merge function, one cell per output column.
    Row(Vec<OutCell>),
}

/// Looks keys up in one snapshot.
pub(crate) struct Probe<'a> {
    pub state: &'a SnapshotState,
    pub caches: &'a Caches,
    pub counters: &'a Counters,
    pub matcher: &'a KeyMatcher,
    pub settings: ProbeSettings,
    /// The snapshot's merge function; copied on first use (merging keeps per-call state).
    pub merge_template: Option<&'a MergeFunction>,
    pub merge: Option<MergeFunction>,
    /// Bloom values of the current key for the last bloom kinds seen (files of one table
    /// usually share them).
    bloom_kinds: Vec<BloomKind>,
    bloom_values: Vec<Option<BloomValue>>,
    /// Answer from the caches only: any miss fails before any I/O starts (and sets
    /// `needed_io`), so the lookup future completes on its first poll.
    pub cached_only: bool,
    /// Set when a cached-only lookup failed because it would need I/O.
    needed_io: AtomicBool,
    /// The counts of the current lookup, added to `counters` when it completes (a lookup
    /// abandoned for lack of cached data counts nothing).
    local: LookupCounters,
}

impl<'a> Probe<'a> {
    pub fn new(
        state: &'a SnapshotState,
        caches: &'a Caches,
        counters: &'a Counters,
        matcher: &'a KeyMatcher,
        settings: ProbeSettings,
    ) -> Self {
        let merge_template = match &state.mode {
            Mode::Merge(m) => Some(m),
            Mode::Concat => None,
        };
        Probe {
            state,
            caches,
            counters,
            matcher,
            settings,
            merge_template,
            merge: None,
            bloom_kinds: vec![],
            bloom_values: vec![],
            cached_only: false,
            needed_io: AtomicBool::new(false),
            local: LookupCounters::default(),
        }
    }

    /// Whether a cached-only lookup failed only because it would need I/O; clears the mark.
    pub fn take_needed_io(&self) -> bool {
        self.needed_io.swap(false, AtomicOrdering::Relaxed)
    }

    fn ctx(&self) -> &Arc<ScanContext> {
        &self.state.ctx
    }

    /// Whether the first record found with the highest sequence number decides the key.
    fn stops_early(&self) -> bool {
        matches!(&self.state.mode, Mode::Merge(m) if m.engine() == MergeEngine::Deduplicate)
            && self.ctx().sequence_fields.is_empty()
    }

    /// The answer for one primary-key value (one datum per primary-key column).
    pub async fn lookup(&mut self, key: &[Datum]) -> Result<Found> {
        self.local = LookupCounters::default();
        let r = self.lookup_inner(key).await;
        if r.is_ok() {
            self.counters.add(&self.local);
        }
        r
    }

    async fn lookup_inner(&mut self, key: &[Datum]) -> Result<Found> {
        let state = self.state;
        state.router.check(key)?;
        self.local.keys += 1;
        let trimmed: Vec<Datum> = state
            .router
            .trimmed_positions()
            .iter()
            .map(|i| key[*i].clone())
            .collect();
        let probe_key = self.matcher.key(trimmed)?;
        self.bloom_kinds.clear();
        let early = self.stops_early();
        let ignore_delete = matches!(&state.mode, Mode::Merge(m) if m.ignore_delete());
        // A key of a cross-partition table may be in any partition: each partition's records
        // are merged on their own (sequence numbers are per bucket), and the first partition
        // that holds a live row answers; a consistent table has at most one.
        let groups = state.buckets_of(key)?;
        let mut answer = Found::Absent;
        for buckets in groups {
            let hits = self
                .probe_buckets(&buckets, &probe_key, early, ignore_delete)
                .await?;
            self.local.rows_matched += hits.len() as u64;
            answer = self.resolve(hits)?;
            if !matches!(answer, Found::Absent) {
                break;
            }
        }
        Ok(answer)
    }

    /// The records of `probe_key` in `buckets`, newest sorted run first (stopping early when
    /// the newest record decides).
    async fn probe_buckets(
        &mut self,
        buckets: &[Arc<BucketFiles>],
        probe_key: &ProbeKey,
        early: bool,
        ignore_delete: bool,
    ) -> Result<Vec<Hit>> {
        let mut hits: Vec<Hit> = vec![];
        for bucket in buckets {
            let mut candidates: Vec<&FileRef> = Vec::with_capacity(16);
            bucket.candidates(&probe_key.values, &mut candidates);
            self.local.files_in_range += candidates.len() as u64;
            // Highest sequence number of the candidates from position j on.
            let mut newest_after = vec![i64::MIN; candidates.len() + 1];
            for j in (0..candidates.len()).rev() {
                newest_after[j] = newest_after[j + 1].max(candidates[j].meta.max_sequence_number);
            }
            let mut best: Option<i64> = None;
            for (j, f) in candidates.iter().enumerate() {
                if early && best.is_some_and(|b| newest_after[j] < b) {
                    self.local.early_stops += 1;
                    break;
                }
                let before = hits.len();
                self.probe_file(bucket, f, probe_key, &mut hits).await?;
                for h in &hits[before..] {
                    if !(ignore_delete && is_retract(h.kind)) {
                        best = Some(best.map_or(h.seq, |b| b.max(h.seq)));
                    }
                }
            }
        }
        Ok(hits)
    }

    async fn index_with_tail(
        &mut self,
        dir: &Path,
        f: &FileRef,
    ) -> Result<(Arc<FileIndex>, Option<(Bytes, u64)>)> {
        if let Some(i) = self.caches.footers.get(&f.id) {
            return Ok((i, None));
        }
        if self.cached_only {
            return Err(needs_io(&self.needed_io));
        }
        let loaded =
            file_index::load(self.ctx(), dir, &f.meta, self.settings.use_page_index).await?;
        self.local.files_opened += 1;
        let index = Arc::new(loaded.index);
        self.caches
            .footers
            .insert(f.id, index.clone(), index.weight);
        Ok((index, Some((loaded.tail, loaded.tail_start))))
    }

    async fn blooms(
        &mut self,
        dir: &Path,
        f: &FileRef,
    ) -> Result<(Arc<FileBlooms>, Option<Arc<FileIndex>>)> {
        if let Some(b) = self.caches.blooms.get(&f.id) {
            return Ok((b, None));
        }
        if self.cached_only {
            return Err(needs_io(&self.needed_io));
        }
        let (index, tail) = self.index_with_tail(dir, f).await?;
        let tail = tail.as_ref().map(|(b, s)| (b, *s));
        let blooms = Arc::new(file_index::load_blooms(&index, tail).await?);
        self.caches
            .blooms
            .insert(f.id, blooms.clone(), blooms.weight);
        Ok((blooms, Some(index)))
    }

    async fn deletion_vector(&self, f: &FileRef) -> Result<Option<Arc<DeletionVector>>> {
        let Some(d) = &f.dv else { return Ok(None) };
        if let Some(v) = self.caches.dvs.get(&f.id) {
            return Ok(Some(v));
        }
        if self.cached_only {
            return Err(needs_io(&self.needed_io));
        }
        let v = Arc::new(dv::load(&self.ctx().table.io, d).await?);
        self.caches.dvs.insert(f.id, v.clone(), v.len() * 8 + 64);
        Ok(Some(v))
    }

    /// Appends the key's records in one file (deletion vectors applied) to `hits`.
    async fn probe_file(
        &mut self,
        bucket: &BucketFiles,
        f: &FileRef,
        key: &ProbeKey,
        hits: &mut Vec<Hit>,
    ) -> Result<()> {
        if let Some(format) = f.format {
            return self.probe_whole_file(bucket, f, format, key, hits).await;
        }
        let mut index = None;
        let mut blooms = None;
        if self.settings.use_bloom_filters {
            let (b, loaded) = self.blooms(&bucket.dir, f).await?;
            index = loaded;
            if b.kinds != self.bloom_kinds {
                self.bloom_values = b
                    .kinds
                    .iter()
                    .zip(&key.values)
                    .map(|(k, v)| bloom_value(*k, v))
                    .collect();
                self.bloom_kinds.clone_from(&b.kinds);
            }
            let n = b.filters.len();
            if n > 0 && !(0..n).any(|rg| b.admits(rg, &self.bloom_values)) {
                self.local.bloom_skips += 1;
                return Ok(());
            }
            blooms = Some(b);
        }
        let index = match index {
            Some(i) => i,
            None => self.index_with_tail(&bucket.dir, f).await?.0,
        };
        self.local.files_searched += 1;
        let dv = self.deletion_vector(f).await?;
        for rg in 0..index.rg_rows.len() {
            if blooms
                .as_ref()
                .is_some_and(|b| !b.admits(rg, &self.bloom_values))
            {
                continue;
            }
            for (start, len) in index.units(rg, &key.values) {
                let ukey: UnitKey = (f.id, rg as u32, start);
                let unit = match self.caches.units.get(&ukey) {
                    Some(u) => {
                        self.local.unit_cache_hits += 1;
                        u
                    }
                    None if self.cached_only => return Err(needs_io(&self.needed_io)),
                    None => {
                        let u =
                            unit::decode(self.ctx(), &index, self.matcher, rg, start, len).await?;
                        self.local.units_decoded += 1;
                        self.caches.units.insert(ukey, u.clone(), u.weight);
                        u
                    }
                };
                collect_hits(self.ctx(), &unit, key, dv.as_deref(), hits);
            }
        }
        Ok(())
    }

    /// [`Probe::probe_file`] for an ORC or Avro file: its whole-file unit, decoded on a miss.
    async fn probe_whole_file(
        &mut self,
        bucket: &BucketFiles,
        f: &FileRef,
        format: OtherFormat,
        key: &ProbeKey,
        hits: &mut Vec<Hit>,
    ) -> Result<()> {
        self.local.files_searched += 1;
        let dv = self.deletion_vector(f).await?;
        let ukey: UnitKey = (f.id, whole_file::WHOLE_FILE, 0);
        let unit = match self.caches.units.get(&ukey) {
            Some(u) => {
                self.local.unit_cache_hits += 1;
                u
            }
            None if self.cached_only => return Err(needs_io(&self.needed_io)),
            None => {
                let ctx = self.ctx();
                let u = whole_file::decode(ctx, format, &bucket.dir, &f.meta, self.matcher).await?;
                self.local.files_opened += 1;
                self.local.units_decoded += 1;
                self.caches.units.insert(ukey, u.clone(), u.weight);
                u
            }
        };
        collect_hits(self.ctx(), &unit, key, dv.as_deref(), hits);
        Ok(())
    }

    /// The row a scan returns for these records.
    fn resolve(&mut self, hits: Vec<Hit>) -> Result<Found> {
        if hits.is_empty() {
            return Ok(Found::Absent);
        }
        let Some(template) = self.merge_template else {
            // Deletion-vector tables: the live addition, if any (the newest should several
            // survive, which a consistent table never has).
            return Ok(hits
                .into_iter()
                .filter(|h| !is_retract(h.kind))
                .max_by_key(|h| h.seq)
                .map_or(Found::Absent, |h| Found::Record(h.unit, h.row)));
        };
        if template.engine() == MergeEngine::Deduplicate
            && !template.ignore_delete()
            && self.state.ctx.sequence_fields.is_empty()
        {
            // The greatest record (sequence number, additions after retractions) wins.
            let best = hits
                .into_iter()
                .max_by_key(|h| (h.seq, !is_retract(h.kind)))
                .filter(|h| !is_retract(h.kind));
            return Ok(best.map_or(Found::Absent, |h| Found::Record(h.unit, h.row)));
        }
        let merge = self.merge.get_or_insert_with(|| template.clone());
        let hits = sort_hits(&self.state.ctx, hits)?;
        let kinds: Vec<RowKind> = hits
            .iter()
            .map(|h| RowKind::from_byte(h.kind))
            .collect::<Result<_>>()?;
        let batches: Vec<RecordBatch> = hits.iter().map(|h| h.unit.batch.clone()).collect();
        let refs: Vec<(usize, usize)> = hits.iter().enumerate().map(|(i, h)| (i, h.row)).collect();
        let ctx = &self.state.ctx;
        let off = ctx.value_offset();
        let columns: Vec<usize> = (0..ctx.value_fields.len()).map(|c| off + c).collect();
        let types: Vec<_> = ctx
            .value_fields
            .iter()
            .map(|f| f.data_type.clone())
            .collect();
        let values = ArrowRecords {
            batches: &batches,
            refs: &refs,
            columns: &columns,
            types: &types,
        };
        Ok(match merge.merge(&kinds, &values)? {
            MergeOutcome::Nothing => Found::Absent,
            MergeOutcome::Record(i) if kinds[i].is_retract() => Found::Absent,
            MergeOutcome::Record(i) => Found::Record(hits[i].unit.clone(), hits[i].row),
            MergeOutcome::Row(kind) if kind.is_retract() => Found::Absent,
            MergeOutcome::Row(_) => Found::Row(
                merge
                    .cells()
                    .iter()
                    .take(ctx.num_output)
                    .map(|c| match c {
                        Cell::Null => OutCell::Null,
                        Cell::Input(i) => OutCell::From(hits[*i].unit.clone(), hits[*i].row),
                        Cell::Value(d) => OutCell::Value(d.clone()),
                    })
                    .collect(),
            ),
        })
    }
}

/// Appends the rows of `unit` holding `key` that no deletion vector removed to `hits`.
fn collect_hits(
    ctx: &ScanContext,
    unit: &Arc<Unit>,
    key: &ProbeKey,
    dv: Option<&DeletionVector>,
    hits: &mut Vec<Hit>,
) {
    let seqs = unit
        .batch
        .column(ctx.seq_index())
        .as_primitive::<Int64Type>();
    let kinds = unit
        .batch
        .column(ctx.kind_index())
        .as_primitive::<Int8Type>();
    for row in unit.matches(key) {
        let pos = unit.first_row + row as u64;
        if dv.is_some_and(|d| !d.range(pos, pos + 1).is_empty()) {
            continue;
        }
        hits.push(Hit {
            seq: seqs.value(row),
            kind: kinds.value(row),
            unit: unit.clone(),
            row,
        });
    }
}

/// Sorts records into merge order: `sequence.field` (nulls first, per
/// `sequence.field.sort-order`), then `_SEQUENCE_NUMBER`, retractions before additions.
fn sort_hits(ctx: &ScanContext, hits: Vec<Hit>) -> Result<Vec<Hit>> {
    let desc = ctx.table.options.sequence_descending;
    let off = ctx.value_offset();
    let seq_fields = |h: &Hit| -> Result<Vec<Option<Datum>>> {
        ctx.sequence_fields
            .iter()
            .map(|p| {
                let ty = &ctx.value_fields[*p].data_type;
                datum_from_arrow(h.unit.batch.column(off + p).as_ref(), h.row, ty)
            })
            .collect()
    };
    let mut keyed: Vec<(Vec<Option<Datum>>, Hit)> = hits
        .into_iter()
        .map(|h| Ok((seq_fields(&h)?, h)))
        .collect::<Result<_>>()?;
    keyed.sort_by(|(fa, a), (fb, b)| {
        for (x, y) in fa.iter().zip(fb) {
            let o = match (x, y) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) if desc => y.cmp_same_type(x),
                (Some(x), Some(y)) => x.cmp_same_type(y),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.seq
            .cmp(&b.seq)
            .then((!is_retract(a.kind)).cmp(&!is_retract(b.kind)))
    });
    Ok(keyed.into_iter().map(|(_, h)| h).collect())
}

/// Gathers the found rows into one batch of the table's columns; returns it and, per key,
/// its row in the batch.
pub(crate) fn assemble(
    ctx: &ScanContext,
    found: &[Found],
) -> Result<(RecordBatch, Vec<Option<usize>>)> {
    let mut n = 0usize;
    let positions: Vec<Option<usize>> = found
        .iter()
        .map(|f| {
            (!matches!(f, Found::Absent)).then(|| {
                n += 1;
                n - 1
            })
        })
        .collect();
    let present: Vec<&Found> = found
        .iter()
        .filter(|f| !matches!(f, Found::Absent))
        .collect();
    let cols = match present.as_slice() {
        [] => return Ok((RecordBatch::new_empty(ctx.output_schema.clone()), positions)),
        // One stored record (a single get): its row, without copying.
        [Found::Record(u, row)] => {
            let off = ctx.value_offset();
            (0..ctx.num_output)
                .map(|c| u.batch.column(off + c).slice(*row, 1))
                .collect()
        }
        _ => Picks::of(&present).gather(ctx)?,
    };
    Ok((ctx.output_batch(cols, present.len())?, positions))
}

/// Where one output value of a found row comes from.
enum Src {
    /// Row `.1` of source unit `.0`.
    At(usize, usize),
    Null,
    Value(Datum),
}

/// Where a found row comes from: a whole stored record (source unit, row), or each column
/// on its own.
enum Pick {
    Record(usize, usize),
    Cells(Vec<Src>),
}

/// The found rows' sources: the distinct units they come from (by identity) and a pick per
/// row.
struct Picks {
    units: Vec<Arc<Unit>>,
    rows: Vec<Pick>,
}

impl Picks {
    fn of(found: &[&Found]) -> Picks {
        let mut unit_index: HashMap<*const Unit, usize> = HashMap::new();
        let mut units: Vec<Arc<Unit>> = vec![];
        let mut source = |u: &Arc<Unit>| -> usize {
            *unit_index.entry(Arc::as_ptr(u)).or_insert_with(|| {
                units.push(u.clone());
                units.len() - 1
            })
        };
        let rows = found
            .iter()
            .filter_map(|f| match f {
                Found::Absent => None,
                Found::Record(u, row) => Some(Pick::Record(source(u), *row)),
                Found::Row(cs) => Some(Pick::Cells(
                    cs.iter()
                        .map(|c| match c {
                            OutCell::Null => Src::Null,
                            OutCell::From(u, row) => Src::At(source(u), *row),
                            OutCell::Value(d) => Src::Value(d.clone()),
                        })
                        .collect(),
                )),
            })
            .collect();
        Picks { units, rows }
    }

    /// The output columns: one gather per column with the same indices when every row is a
    /// stored record (deduplicate, first-row, deletion vectors), else column by column.
    fn gather(&self, ctx: &ScanContext) -> Result<Vec<ArrayRef>> {
        let records: Option<Vec<(usize, usize)>> = self
            .rows
            .iter()
            .map(|p| match p {
                Pick::Record(s, r) => Some((*s, *r)),
                Pick::Cells(_) => None,
            })
            .collect();
        (0..ctx.num_output)
            .map(|c| match &records {
                Some(indices) => self.interleave(ctx, c, None, indices),
                None => self.gather_column(ctx, c),
            })
            .collect()
    }

    /// Column `c` of rows that mix stored values, nulls and values the merge computed.
    fn gather_column(&self, ctx: &ScanContext, c: usize) -> Result<ArrayRef> {
        let mut computed: Vec<Option<Datum>> = vec![];
        let mut indices = Vec::with_capacity(self.rows.len());
        let computed_at = self.units.len();
        for pick in &self.rows {
            let src = match pick {
                Pick::Record(s, r) => {
                    indices.push((*s, *r));
                    continue;
                }
                Pick::Cells(cells) => &cells[c],
            };
            match src {
                Src::At(s, r) => indices.push((*s, *r)),
                Src::Null => {
                    indices.push((computed_at, computed.len()));
                    computed.push(None);
                }
                Src::Value(d) => {
                    indices.push((computed_at, computed.len()));
                    computed.push(Some(d.clone()));
                }
            }
        }
        let extra = if computed.is_empty() {
            None
        } else {
            Some(computed_array(ctx, c, &computed)?)
        };
        self.interleave(ctx, c, extra.as_deref(), &indices)
    }

    /// Column `c` gathered from the units (and `extra`, the source after them) at `indices`.
    fn interleave(
        &self,
        ctx: &ScanContext,
        c: usize,
        extra: Option<&dyn Array>,
        indices: &[(usize, usize)],
    ) -> Result<ArrayRef> {
        let off = ctx.value_offset();
        let mut arrays: Vec<&dyn Array> = self
            .units
            .iter()
            .map(|u| u.batch.column(off + c).as_ref())
            .collect();
        arrays.extend(extra);
        interleave(&arrays, indices).map_err(|e| Error::arrow("gathering found rows", e))
    }
}

/// Values the merge computed for output column `c`, in the column's internal type.
fn computed_array(ctx: &ScanContext, c: usize, values: &[Option<Datum>]) -> Result<ArrayRef> {
    let ty = &ctx.value_fields[c].data_type;
    let target = ctx
        .internal_schema
        .field(ctx.value_offset() + c)
        .data_type();
    let a = datums_to_array(values, ty)?;
    if a.data_type() == target {
        return Ok(a);
    }
    arrow::compute::cast(&a, target).map_err(|e| Error::arrow("computed values", e))
}
