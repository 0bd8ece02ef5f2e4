//! K-way merge of sorted runs by primary key, feeding each key's records to the table's
//! merge function.
//!
//! Each run is streamed batch by batch (internal layout, see [`crate::file_reader`]); a batch's
//! key columns are encoded once with an Arrow [`RowConverter`] so that key comparisons are
//! byte-slice comparisons. A loser tree over the runs' current rows yields keys in order; all
//! records of the smallest key form a group, ordered by (`sequence.field`,
//! `_SEQUENCE_NUMBER`, retractions first) and merged. Output rows are *references*
//! (source batch, row) gathered with [`interleave`] once `batch_size` rows are pending, so
//! the deduplicate path does no per-row allocation or value decoding. Memory is bounded by the
//! batches the runs currently hold plus those referenced by pending output rows.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, Int8Array, RecordBatch};
use arrow::buffer::ScalarBuffer;
use arrow::compute::interleave;
use arrow::datatypes::DataType as ArrowType;
use arrow::datatypes::Int64Type;
use arrow::row::{RowConverter, Rows, SortField};
use arrow_sort_options::sort_options;
use futures::stream::BoxStream;
use futures::StreamExt;
use streamhouse_format::datum::{datum_from_arrow, Datum};
use streamhouse_format::merge::{datums_to_array, Cell, MergeFunction, MergeOutcome, RecordValues};
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::types::DataType;
use streamhouse_format::{Error, Result};

use crate::file_reader::ScanContext;

/// A sorted run: internal-layout batches in key order.
pub type RunStream = BoxStream<'static, Result<RecordBatch>>;

mod arrow_sort_options {
    /// Sort options helper kept in one place.
    pub fn sort_options(descending: bool) -> arrow::compute::SortOptions {
        arrow::compute::SortOptions {
            descending,
            nulls_first: true,
        }
    }
}

/// Marks a pick that refers to an assembled row (see [`Merger::assembled`]).
const ASSEMBLED: usize = usize::MAX;

/// One input batch with its encoded keys.
struct Source {
    batch: RecordBatch,
    /// Keys encoded for byte comparison (empty in integer-key mode).
    keys: Rows,
    /// Single integer keys widened to i64 (integer-key mode); nulls sort first.
    int_keys: Option<ScalarBuffer<i64>>,
    /// Encoded `sequence.field` values, when the table has any.
    seq_keys: Option<Rows>,
    seq: Int64Array,
    kinds: Int8Array,
}

struct Run {
    stream: RunStream,
    src: usize,
    pos: usize,
    len: usize,
    /// The current key in integer-key mode.
    cur: i64,
    /// No rows left.
    done: bool,
}

/// Merges the sorted runs of one section of a split.
pub struct Merger {
    ctx: Arc<ScanContext>,
    key_conv: RowConverter,
    seq_conv: Option<RowConverter>,
    merge_fn: MergeFunction,
    value_types: Vec<DataType>,
    runs: Vec<Run>,
    sources: Vec<Source>,
    /// Loser tree over the runs (see [`Merger::build_tree`]).
    tree: Vec<usize>,
    /// Pending output rows: (source, row), or (ASSEMBLED, i) for assembled row i.
    picks: Vec<(usize, usize)>,
    /// Cells of assembled rows, `num_output` per row: (source, row) or (ASSEMBLED, i) for
    /// `computed[column][i]`.
    assembled: Vec<(usize, usize)>,
    computed: Vec<Vec<Option<Datum>>>,
    group: Vec<(usize, usize)>,
    kinds: Vec<RowKind>,
    started: bool,
    dedupe_fast_path: bool,
    /// The key is one integer column: compare i64s instead of encoded rows.
    int_keys: bool,
    /// Emit physical key-value rows (keys, `_SEQUENCE_NUMBER`, `_VALUE_KIND`, values) in the
    /// internal layout instead of output rows (compaction).
    physical: bool,
    /// Keep merged results whose kind is a retraction (compaction below the highest level).
    keep_retractions: bool,
    /// Per assembled row in physical mode: a record of its key (source, row), its sequence
    /// number and its kind.
    row_meta: Vec<(usize, usize, i64, i8)>,
}

impl Merger {
    pub fn new(
        ctx: Arc<ScanContext>,
        merge_fn: MergeFunction,
        runs: Vec<RunStream>,
    ) -> Result<Self> {
        let key_conv = RowConverter::new(
            ctx.key_fields
                .iter()
                .map(|f| SortField::new(f.data_type.to_arrow()))
                .collect(),
        )
        .map_err(|e| Error::arrow("key comparator", e))?;
        let seq_conv = if ctx.sequence_fields.is_empty() {
            None
        } else {
            let desc = ctx.table.options.sequence_descending;
            Some(
                RowConverter::new(
                    ctx.sequence_fields
                        .iter()
                        .map(|i| {
                            SortField::new_with_options(
                                ctx.value_fields[*i].data_type.to_arrow(),
                                sort_options(desc),
                            )
                        })
                        .collect(),
                )
                .map_err(|e| Error::arrow("sequence.field comparator", e))?,
            )
        };
        let value_types = ctx
            .value_fields
            .iter()
            .map(|f| f.data_type.clone())
            .collect();
        let computed = vec![vec![]; ctx.num_output];
        let int_keys = ctx.key_fields.len() == 1
            && matches!(
                ctx.key_fields[0].data_type.to_arrow(),
                ArrowType::Int8
                    | ArrowType::Int16
                    | ArrowType::Int32
                    | ArrowType::Int64
                    | ArrowType::Date32
            );
        let dedupe_fast_path = merge_fn.engine()
            == streamhouse_format::options::MergeEngine::Deduplicate
            && !merge_fn.ignore_delete();
        Ok(Merger {
            key_conv,
            seq_conv,
            merge_fn,
            value_types,
            runs: runs
                .into_iter()
                .map(|stream| Run {
                    stream,
                    src: 0,
                    pos: 0,
                    len: 0,
                    cur: 0,
                    done: false,
                })
                .collect(),
            sources: vec![],
            tree: vec![],
            picks: vec![],
            assembled: vec![],
            computed,
            group: vec![],
            kinds: vec![],
            started: false,
            dedupe_fast_path,
            int_keys,
            physical: false,
            keep_retractions: false,
            row_meta: vec![],
            ctx,
        })
    }

    /// Switches to physical output for compaction: batches in the context's internal layout
    /// (trimmed key columns, `_SEQUENCE_NUMBER`, `_VALUE_KIND`, every value column read), one
    /// row per key carrying the winning record's sequence number and kind (an assembled row
    /// of partial-update or aggregation gets the key's highest sequence number). With
    /// `keep_retractions`, results that are `-U`/`-D` are emitted too.
    pub fn with_physical_output(mut self, keep_retractions: bool) -> Self {
        self.physical = true;
        self.keep_retractions = keep_retractions;
        self
    }

    /// Whether a merged result of this kind is emitted.
    fn emits(&self, retract: bool) -> bool {
        self.keep_retractions || !retract
    }

    /// Encodes a batch and registers it as a source; returns its id.
    fn register(&mut self, batch: RecordBatch) -> Result<usize> {
        let ctx = &self.ctx;
        let key_cols: Vec<ArrayRef> = (0..ctx.key_fields.len())
            .map(|i| batch.column(i).clone())
            .collect();
        let (keys, int_keys) = if self.int_keys {
            let wide = arrow::compute::cast(&key_cols[0], &ArrowType::Int64)
                .map_err(|e| Error::arrow("widening keys", e))?;
            let wide = wide.as_primitive::<Int64Type>();
            let values = if wide.null_count() == 0 {
                wide.values().clone()
            } else {
                wide.iter().map(|v| v.unwrap_or(i64::MIN)).collect()
            };
            (self.key_conv.empty_rows(0, 0), Some(values))
        } else {
            let rows = self
                .key_conv
                .convert_columns(&key_cols)
                .map_err(|e| Error::arrow("encoding keys", e))?;
            (rows, None)
        };
        let seq_keys = match &self.seq_conv {
            None => None,
            Some(conv) => {
                let off = ctx.value_offset();
                let cols: Vec<ArrayRef> = ctx
                    .sequence_fields
                    .iter()
                    .map(|i| batch.column(off + i).clone())
                    .collect();
                Some(
                    conv.convert_columns(&cols)
                        .map_err(|e| Error::arrow("encoding sequence.field", e))?,
                )
            }
        };
        let seq = batch
            .column(ctx.seq_index())
            .as_primitive_opt::<Int64Type>()
            .cloned()
            .ok_or_else(|| Error::Internal("_SEQUENCE_NUMBER is not BIGINT".into()))?;
        let kinds = batch
            .column(ctx.kind_index())
            .as_any()
            .downcast_ref::<Int8Array>()
            .cloned()
            .ok_or_else(|| Error::Internal("_VALUE_KIND is not TINYINT".into()))?;
        self.sources.push(Source {
            batch,
            keys,
            int_keys,
            seq_keys,
            seq,
            kinds,
        });
        Ok(self.sources.len() - 1)
    }

    /// Loads the next non-empty batch of run `r`; false when the run is exhausted.
    async fn load(&mut self, r: usize) -> Result<bool> {
        loop {
            match self.runs[r].stream.next().await {
                None => return Ok(false),
                Some(b) => {
                    let b = b?;
                    if b.num_rows() == 0 {
                        continue;
                    }
                    let len = b.num_rows();
                    let src = self.register(b)?;
                    let cur = self.int_key_at(src, 0);
                    let run = &mut self.runs[r];
                    run.src = src;
                    run.pos = 0;
                    run.len = len;
                    run.cur = cur;
                    return Ok(true);
                }
            }
        }
    }

    fn int_key_at(&self, src: usize, pos: usize) -> i64 {
        match &self.sources[src].int_keys {
            Some(k) => k[pos],
            None => 0,
        }
    }

    /// Whether two records have equal keys.
    fn same_key(&self, a: (usize, usize), b: (usize, usize)) -> bool {
        if self.int_keys {
            self.int_key_at(a.0, a.1) == self.int_key_at(b.0, b.1)
        } else {
            self.sources[a.0].keys.row(a.1) == self.sources[b.0].keys.row(b.1)
        }
    }

    /// Whether run `a` comes before run `b` (exhausted runs come last; ties by run index).
    fn beats(&self, a: usize, b: usize) -> bool {
        let (ra, rb) = (&self.runs[a], &self.runs[b]);
        match (ra.done, rb.done) {
            (true, _) => return false,
            (false, true) => return true,
            _ => {}
        }
        let ord = if self.int_keys {
            ra.cur.cmp(&rb.cur)
        } else {
            self.sources[ra.src]
                .keys
                .row(ra.pos)
                .cmp(&self.sources[rb.src].keys.row(rb.pos))
        };
        match ord {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => a < b,
        }
    }

    /// Builds the loser tree: `tree[0]` is the overall winner, `tree[1..k]` hold the losers of
    /// the internal matches; run `i` is leaf `k + i`.
    fn build_tree(&mut self) {
        let k = self.runs.len();
        self.tree = vec![0; k.max(1)];
        if k <= 1 {
            return;
        }
        let mut winners = vec![0usize; 2 * k];
        for i in 0..k {
            winners[k + i] = i;
        }
        for n in (1..k).rev() {
            let (a, b) = (winners[2 * n], winners[2 * n + 1]);
            if self.beats(a, b) {
                winners[n] = a;
                self.tree[n] = b;
            } else {
                winners[n] = b;
                self.tree[n] = a;
            }
        }
        self.tree[0] = winners[1];
    }

    /// Replays the matches on the path of the current winner after its key changed.
    fn replay(&mut self) {
        let k = self.runs.len();
        let mut winner = self.tree[0];
        let mut n = (k + winner) / 2;
        while n >= 1 {
            let other = self.tree[n];
            if self.beats(other, winner) {
                self.tree[n] = winner;
                winner = other;
            }
            n /= 2;
        }
        self.tree[0] = winner;
    }

    /// The run holding the smallest key, if any run has rows left.
    fn top(&self) -> Option<usize> {
        let t = *self.tree.first()?;
        (!self.runs.get(t)?.done).then_some(t)
    }

    /// Advances the winning run by one row, reloading or retiring it as needed.
    async fn advance_top(&mut self) -> Result<()> {
        let r = self.tree[0];
        self.runs[r].pos += 1;
        if self.runs[r].pos < self.runs[r].len {
            let (src, pos) = (self.runs[r].src, self.runs[r].pos);
            self.runs[r].cur = self.int_key_at(src, pos);
        } else if !self.load(r).await? {
            self.runs[r].done = true;
        }
        self.replay();
        Ok(())
    }

    /// Advances the winning run within its current batch; false when the batch is used up
    /// (then [`advance_top`](Self::advance_top) must load the next one).
    fn advance_top_in_batch(&mut self) -> bool {
        let r = self.tree[0];
        let run = &mut self.runs[r];
        if run.pos + 1 >= run.len {
            return false;
        }
        run.pos += 1;
        if let Some(k) = &self.sources[run.src].int_keys {
            run.cur = k[run.pos];
        }
        self.replay();
        true
    }

    /// The next merged output batch, or `None` when every run is exhausted.
    pub async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if !self.started {
            self.started = true;
            for r in 0..self.runs.len() {
                if !self.load(r).await? {
                    self.runs[r].done = true;
                }
            }
            self.build_tree();
        }
        let target = self.ctx.batch_size.max(1);
        while self.picks.len() < target {
            let Some(first) = self.top() else { break };
            // Gather every record of the smallest key.
            self.group.clear();
            let (gsrc, grow) = (self.runs[first].src, self.runs[first].pos);
            while let Some(t) = self.top() {
                let (src, pos) = (self.runs[t].src, self.runs[t].pos);
                if !self.group.is_empty() && !self.same_key((src, pos), (gsrc, grow)) {
                    break;
                }
                self.group.push((src, pos));
                if !self.advance_top_in_batch() {
                    self.advance_top().await?;
                }
            }
            self.merge_group()?;
        }
        self.flush()
    }

    fn is_retract(&self, (src, row): (usize, usize)) -> bool {
        let k = self.sources[src].kinds.value(row);
        k == 1 || k == 3
    }

    /// Record order inside a key: `sequence.field`, then `_SEQUENCE_NUMBER`, then retractions
    /// before additions.
    fn record_cmp(sources: &[Source], a: (usize, usize), b: (usize, usize)) -> Ordering {
        let (sa, sb) = (&sources[a.0], &sources[b.0]);
        if let (Some(ka), Some(kb)) = (&sa.seq_keys, &sb.seq_keys) {
            let o = ka.row(a.1).cmp(&kb.row(b.1));
            if o != Ordering::Equal {
                return o;
            }
        }
        let o = sa.seq.value(a.1).cmp(&sb.seq.value(b.1));
        if o != Ordering::Equal {
            return o;
        }
        let add = |s: &Source, r: usize| !matches!(s.kinds.value(r), 1 | 3);
        add(sa, a.1).cmp(&add(sb, b.1))
    }

    fn merge_group(&mut self) -> Result<()> {
        if self.group.len() == 1 {
            let rec = self.group[0];
            if self.emits(self.is_retract(rec)) {
                self.picks.push(rec);
            }
            return Ok(());
        }
        let sources = &self.sources;
        if self.dedupe_fast_path {
            // Deduplicate without ignore-delete: the greatest record wins.
            let mut best = self.group[0];
            for &rec in &self.group[1..] {
                if Self::record_cmp(sources, rec, best) == Ordering::Greater {
                    best = rec;
                }
            }
            if self.emits(self.is_retract(best)) {
                self.picks.push(best);
            }
            return Ok(());
        }
        self.group.sort_by(|a, b| Self::record_cmp(sources, *a, *b));
        self.kinds.clear();
        for &(src, row) in &self.group {
            self.kinds
                .push(RowKind::from_byte(self.sources[src].kinds.value(row))?);
        }
        let values = GroupValues {
            sources: &self.sources,
            group: &self.group,
            offset: self.ctx.value_offset(),
            types: &self.value_types,
        };
        match self.merge_fn.merge(&self.kinds, &values)? {
            MergeOutcome::Nothing => {}
            MergeOutcome::Record(i) => {
                if self.emits(self.kinds[i].is_retract()) {
                    self.picks.push(self.group[i]);
                }
            }
            MergeOutcome::Row(kind) => {
                if self.emits(kind.is_retract()) {
                    let idx = self.assembled.len() / self.ctx.num_output.max(1);
                    if self.physical {
                        let (ks, kr) = self.group[self.group.len() - 1];
                        let seq = self
                            .group
                            .iter()
                            .map(|&(s, r)| self.sources[s].seq.value(r))
                            .max()
                            .unwrap_or(0);
                        self.row_meta.push((ks, kr, seq, kind as i8));
                    }
                    for (c, cell) in self
                        .merge_fn
                        .cells()
                        .iter()
                        .take(self.ctx.num_output)
                        .enumerate()
                    {
                        let pick = match cell {
                            Cell::Input(i) => self.group[*i],
                            Cell::Null => {
                                self.computed[c].push(None);
                                (ASSEMBLED, self.computed[c].len() - 1)
                            }
                            Cell::Value(d) => {
                                self.computed[c].push(Some(d.clone()));
                                (ASSEMBLED, self.computed[c].len() - 1)
                            }
                        };
                        self.assembled.push(pick);
                    }
                    self.picks.push((ASSEMBLED, idx));
                }
            }
        }
        Ok(())
    }

    /// Gathers the pending output rows into a batch and releases source batches no run needs.
    fn flush(&mut self) -> Result<Option<RecordBatch>> {
        if self.picks.is_empty() {
            return Ok(None);
        }
        let ctx = self.ctx.clone();
        let n = self.picks.len();
        let off = ctx.value_offset();
        let no = ctx.num_output;
        let mut cols = Vec::with_capacity(no + off);
        if self.physical {
            cols.extend(self.system_columns()?);
        }
        for c in 0..no {
            let mut arrays: Vec<&dyn Array> = self
                .sources
                .iter()
                .map(|s| s.batch.column(off + c).as_ref())
                .collect();
            let col = if self.assembled.is_empty() {
                interleave(&arrays, &self.picks)
            } else {
                let computed = datums_to_array(&self.computed[c], &self.value_types[c])?;
                let computed_idx = arrays.len();
                let target = ctx.internal_schema.field(off + c).data_type().clone();
                let computed = if computed.data_type() != &target {
                    arrow::compute::cast(&computed, &target)
                        .map_err(|e| Error::arrow("computed values", e))?
                } else {
                    computed
                };
                arrays.push(computed.as_ref());
                let indices: Vec<(usize, usize)> = self
                    .picks
                    .iter()
                    .map(|&(s, r)| {
                        if s == ASSEMBLED {
                            match self.assembled[r * no + c] {
                                (ASSEMBLED, i) => (computed_idx, i),
                                p => p,
                            }
                        } else {
                            (s, r)
                        }
                    })
                    .collect();
                interleave(&arrays, &indices)
            }
            .map_err(|e| Error::arrow("gathering merged rows", e))?;
            cols.push(col);
        }
        self.picks.clear();
        self.row_meta.clear();
        self.assembled.clear();
        self.computed.iter_mut().for_each(Vec::clear);
        // Keep only the batches the runs still point into.
        let old: Vec<Option<Source>> = std::mem::take(&mut self.sources)
            .into_iter()
            .map(Some)
            .collect();
        let mut old = old;
        for run in self.runs.iter_mut().filter(|r| !r.done) {
            if let Some(s) = old.get_mut(run.src).and_then(Option::take) {
                self.sources.push(s);
                run.src = self.sources.len() - 1;
            }
        }
        if self.physical {
            let opts = arrow::array::RecordBatchOptions::new().with_row_count(Some(n));
            return RecordBatch::try_new_with_options(ctx.internal_schema.clone(), cols, &opts)
                .map(Some)
                .map_err(|e| Error::arrow("assembling merged key-value rows", e));
        }
        ctx.output_batch(cols, n).map(Some)
    }

    /// Key columns, `_SEQUENCE_NUMBER` and `_VALUE_KIND` of the pending picks (physical mode).
    fn system_columns(&self) -> Result<Vec<ArrayRef>> {
        let nk = self.ctx.key_fields.len();
        let key_picks: Vec<(usize, usize)> = self
            .picks
            .iter()
            .map(|&(s, r)| match s {
                ASSEMBLED => (self.row_meta[r].0, self.row_meta[r].1),
                _ => (s, r),
            })
            .collect();
        let mut cols: Vec<ArrayRef> = Vec::with_capacity(nk + 2);
        for k in 0..nk {
            let arrays: Vec<&dyn Array> = self
                .sources
                .iter()
                .map(|s| s.batch.column(k).as_ref())
                .collect();
            cols.push(
                interleave(&arrays, &key_picks)
                    .map_err(|e| Error::arrow("gathering merged keys", e))?,
            );
        }
        let (seq, kinds): (Vec<i64>, Vec<i8>) = self
            .picks
            .iter()
            .map(|&(s, r)| match s {
                ASSEMBLED => (self.row_meta[r].2, self.row_meta[r].3),
                _ => (self.sources[s].seq.value(r), self.sources[s].kinds.value(r)),
            })
            .unzip();
        cols.push(Arc::new(Int64Array::from(seq)));
        cols.push(Arc::new(Int8Array::from(kinds)));
        Ok(cols)
    }
}

/// Values of a key's records for the merge function.
struct GroupValues<'a> {
    sources: &'a [Source],
    group: &'a [(usize, usize)],
    offset: usize,
    types: &'a [DataType],
}

impl RecordValues for GroupValues<'_> {
    fn is_null(&self, record: usize, column: usize) -> bool {
        match self.group.get(record) {
            Some(&(s, r)) => self.sources[s]
                .batch
                .column(self.offset + column)
                .is_null(r),
            None => true,
        }
    }

    fn datum(&self, record: usize, column: usize) -> Result<Option<Datum>> {
        let (s, r) = *self
            .group
            .get(record)
            .ok_or_else(|| Error::Internal(format!("merge record {record} out of range")))?;
        let ty = self
            .types
            .get(column)
            .ok_or_else(|| Error::Internal(format!("merge column {column} out of range")))?;
        datum_from_arrow(
            self.sources[s].batch.column(self.offset + column).as_ref(),
            r,
            ty,
        )
    }
}
