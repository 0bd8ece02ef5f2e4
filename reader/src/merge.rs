//! K-way merge of sorted runs by primary key, feeding each key's records to the table's
//! merge function.
//!
//! Each run is streamed batch by batch (internal layout, see [`crate::file_reader`]); a batch's
//! key columns are encoded once with an Arrow [`RowConverter`] so that key comparisons are
//! byte-slice comparisons. A min-heap over the runs' current rows yields keys in order; all
//! records of the smallest key form a group, ordered by (`sequence.field`,
//! `_SEQUENCE_NUMBER`, retractions first) and merged. Output rows are *references*
//! (source batch, row) gathered with [`interleave`] once `batch_size` rows are pending, so
//! the deduplicate path does no per-row allocation or value decoding. Memory is bounded by the
//! batches the runs currently hold plus those referenced by pending output rows.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, Int8Array, RecordBatch};
use arrow::compute::interleave;
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
    keys: Rows,
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
    /// Run indices ordered as a min-heap by current key.
    heap: Vec<usize>,
    /// Pending output rows: (source, row), or (ASSEMBLED, i) for assembled row i.
    picks: Vec<(usize, usize)>,
    /// Cells of assembled rows, `num_output` per row: (source, row) or (ASSEMBLED, i) for
    /// `computed[column][i]`.
    assembled: Vec<(usize, usize)>,
    computed: Vec<Vec<Option<Datum>>>,
    group: Vec<(usize, usize)>,
    kinds: Vec<RowKind>,
    started: bool,
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
                })
                .collect(),
            sources: vec![],
            heap: vec![],
            picks: vec![],
            assembled: vec![],
            computed,
            group: vec![],
            kinds: vec![],
            started: false,
            ctx,
        })
    }

    /// Encodes a batch and registers it as a source; returns its id.
    fn register(&mut self, batch: RecordBatch) -> Result<usize> {
        let ctx = &self.ctx;
        let key_cols: Vec<ArrayRef> = (0..ctx.key_fields.len())
            .map(|i| batch.column(i).clone())
            .collect();
        let keys = self
            .key_conv
            .convert_columns(&key_cols)
            .map_err(|e| Error::arrow("encoding keys", e))?;
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
            .ok_or_else(|| Error::Other("_SEQUENCE_NUMBER is not BIGINT".into()))?;
        let kinds = batch
            .column(ctx.kind_index())
            .as_any()
            .downcast_ref::<Int8Array>()
            .cloned()
            .ok_or_else(|| Error::Other("_VALUE_KIND is not TINYINT".into()))?;
        self.sources.push(Source {
            batch,
            keys,
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
                    let run = &mut self.runs[r];
                    run.src = src;
                    run.pos = 0;
                    run.len = len;
                    return Ok(true);
                }
            }
        }
    }

    fn key(&self, r: usize) -> arrow::row::Row<'_> {
        let run = &self.runs[r];
        self.sources[run.src].keys.row(run.pos)
    }

    fn less(&self, a: usize, b: usize) -> bool {
        match self.key(a).cmp(&self.key(b)) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => a < b,
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                break;
            }
            let mut m = l;
            if l + 1 < n && self.less(self.heap[l + 1], self.heap[l]) {
                m = l + 1;
            }
            if self.less(self.heap[m], self.heap[i]) {
                self.heap.swap(m, i);
                i = m;
            } else {
                break;
            }
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let p = (i - 1) / 2;
            if self.less(self.heap[i], self.heap[p]) {
                self.heap.swap(i, p);
                i = p;
            } else {
                break;
            }
        }
    }

    /// Advances the heap's top run by one row, reloading or removing it as needed.
    async fn advance_top(&mut self) -> Result<()> {
        let r = self.heap[0];
        self.runs[r].pos += 1;
        if self.runs[r].pos >= self.runs[r].len && !self.load(r).await? {
            let last = self.heap.len() - 1;
            self.heap.swap(0, last);
            self.heap.pop();
        }
        if !self.heap.is_empty() {
            self.sift_down(0);
        }
        Ok(())
    }

    /// The next merged output batch, or `None` when every run is exhausted.
    pub async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if !self.started {
            self.started = true;
            for r in 0..self.runs.len() {
                if self.load(r).await? {
                    self.heap.push(r);
                    let i = self.heap.len() - 1;
                    self.sift_up(i);
                }
            }
        }
        let target = self.ctx.batch_size.max(1);
        while self.picks.len() < target && !self.heap.is_empty() {
            // Gather every record of the smallest key.
            self.group.clear();
            let first = self.heap[0];
            let (gsrc, grow) = (self.runs[first].src, self.runs[first].pos);
            loop {
                let Some(&t) = self.heap.first() else { break };
                let (src, pos) = (self.runs[t].src, self.runs[t].pos);
                if !self.group.is_empty()
                    && self.sources[src].keys.row(pos) != self.sources[gsrc].keys.row(grow)
                {
                    break;
                }
                self.group.push((src, pos));
                self.advance_top().await?;
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
            if !self.is_retract(rec) {
                self.picks.push(rec);
            }
            return Ok(());
        }
        let sources = &self.sources;
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
                if !self.kinds[i].is_retract() {
                    self.picks.push(self.group[i]);
                }
            }
            MergeOutcome::Row(kind) => {
                if !kind.is_retract() {
                    let idx = self.assembled.len() / self.ctx.num_output.max(1);
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
        let mut cols = Vec::with_capacity(no);
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
        self.assembled.clear();
        self.computed.iter_mut().for_each(Vec::clear);
        // Keep only the batches the runs still point into.
        let old: Vec<Option<Source>> = std::mem::take(&mut self.sources)
            .into_iter()
            .map(Some)
            .collect();
        let mut old = old;
        for &r in &self.heap {
            let run = &mut self.runs[r];
            if let Some(s) = old.get_mut(run.src).and_then(Option::take) {
                self.sources.push(s);
                run.src = self.sources.len() - 1;
            }
        }
        ctx.output_batch(cols, n).map(Some)
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
            .ok_or_else(|| Error::Other(format!("merge record {record} out of range")))?;
        let ty = self
            .types
            .get(column)
            .ok_or_else(|| Error::Other(format!("merge column {column} out of range")))?;
        datum_from_arrow(
            self.sources[s].batch.column(self.offset + column).as_ref(),
            r,
            ty,
        )
    }
}
