//! The per-bucket write buffer: rows in arrival order with their sequence numbers and kinds;
//! on flush, sorted by key (then `sequence.field`, then sequence number), folded so that each
//! key appears once per file, and written as level-0 files.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, Int8Array, RecordBatch, UInt32Array};
use arrow::compute::{interleave, take};
use arrow::row::{RowConverter, Rows, SortField};
use streamhouse_format::datum::Datum;
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::merge::{
    datums_to_array, ArrowRecords, Cell, MergeFunction, MergeOutcome, RecordValues,
};
use streamhouse_format::options::{ChangelogProducer, TableOptions};
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::{Error, Result};

use crate::file_writer::{physical_batch, FileLayout, FileNamer, FinishedFile, RollingFileWriter};

/// Rows per batch handed to the Parquet writer during a flush.
const OUTPUT_CHUNK: usize = 64 * 1024;

/// What a flush needs to know about the table, shared by all buckets.
pub struct FlushContext {
    pub layout: FileLayout,
    pub namer: FileNamer,
    pub options: Arc<TableOptions>,
    pub schema: Arc<TableSchema>,
    /// Indices (in the table's columns) of the trimmed primary key.
    pub key_indices: Vec<usize>,
    /// Indices of `sequence.field` columns.
    pub sequence_indices: Vec<usize>,
}

/// Buffered rows of one (partition, bucket).
#[derive(Default)]
pub struct BucketBuffer {
    batches: Vec<RecordBatch>,
    kinds: Vec<Option<Int8Array>>,
    first_seq: Vec<i64>,
    pub rows: usize,
    pub memory: usize,
}

/// The files one flush produced.
pub struct Flushed {
    pub data: Vec<FinishedFile>,
    pub changelog: Vec<FinishedFile>,
}

impl BucketBuffer {
    pub fn push(&mut self, batch: RecordBatch, kinds: Option<Int8Array>, first_seq: i64) {
        self.rows += batch.num_rows();
        self.memory +=
            batch.get_array_memory_size() + kinds.as_ref().map_or(0, |k| k.get_array_memory_size());
        self.batches.push(batch);
        self.kinds.push(kinds);
        self.first_seq.push(first_seq);
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Takes the buffered rows out, leaving the buffer empty.
    pub fn take(&mut self) -> BucketBuffer {
        std::mem::take(self)
    }

    /// Sorts, folds and encodes the buffered rows (CPU work; run it off the async threads).
    pub fn flush(self, ctx: &FlushContext) -> Result<Flushed> {
        if ctx.layout.primary_key {
            self.flush_primary_key(ctx)
        } else {
            self.flush_append(ctx)
        }
    }

    fn flush_append(self, ctx: &FlushContext) -> Result<Flushed> {
        let mut w =
            RollingFileWriter::new(&ctx.layout, &ctx.namer, &ctx.options.data_file_prefix, 0, 0);
        for (b, first_seq) in self.batches.iter().zip(&self.first_seq) {
            let physical = physical_batch(&ctx.layout, &[], b.columns(), empty_i64(), empty_i8())?;
            w.write(&physical, *first_seq)?;
        }
        Ok(Flushed {
            data: w.finish()?,
            changelog: vec![],
        })
    }

    fn flush_primary_key(self, ctx: &FlushContext) -> Result<Flushed> {
        let n = self.rows;
        // Global row index → (batch, row).
        let mut locate: Vec<(usize, usize)> = Vec::with_capacity(n);
        for (b, batch) in self.batches.iter().enumerate() {
            locate.extend((0..batch.num_rows()).map(|r| (b, r)));
        }
        let kind_of = |g: usize| -> i8 {
            let (b, r) = locate[g];
            self.kinds[b]
                .as_ref()
                .map_or(RowKind::Insert as i8, |k| k.value(r))
        };
        let (order, key_rows) = sort_order(&self.batches, ctx)?;
        let seq_of = |b: usize, r: usize| self.first_seq[b] + r as i64;
        let kind_at = |b: usize, r: usize| {
            self.kinds[b]
                .as_ref()
                .map_or(RowKind::Insert as i8, |k| k.value(r))
        };

        let changelog = if ctx.options.changelog_producer == ChangelogProducer::Input {
            let all: Vec<(usize, usize)> = order.iter().map(|g| locate[*g as usize]).collect();
            let mut w = RollingFileWriter::new(
                &ctx.layout,
                &ctx.namer,
                &ctx.options.changelog_file_prefix,
                0,
                0,
            );
            write_rows(ctx, &self.batches, &all, &seq_of, &kind_at, &mut w)?;
            w.finish()?
        } else {
            vec![]
        };

        let folded = fold(
            &order,
            &key_rows,
            &locate,
            ctx,
            &self.batches,
            kind_of,
            &seq_of,
        )?;
        let mut w =
            RollingFileWriter::new(&ctx.layout, &ctx.namer, &ctx.options.data_file_prefix, 0, 0);
        match folded.merged {
            None => write_rows(ctx, &self.batches, &folded.rows, &seq_of, &kind_at, &mut w)?,
            Some(merged) => {
                // Merged rows live in one extra batch after the buffered ones.
                let extra = self.batches.len();
                let mut batches = self.batches.clone();
                batches.push(merged.batch);
                let seq = |b: usize, r: usize| {
                    if b == extra {
                        merged.seq[r]
                    } else {
                        seq_of(b, r)
                    }
                };
                let kind = |b: usize, r: usize| {
                    if b == extra {
                        merged.kinds[r]
                    } else {
                        kind_at(b, r)
                    }
                };
                write_rows(ctx, &batches, &folded.rows, &seq, &kind, &mut w)?;
            }
        }
        Ok(Flushed {
            data: w.finish()?,
            changelog,
        })
    }
}

/// Gathers the given (batch, row) pairs in order and writes them with their sequence
/// numbers and kinds.
fn write_rows(
    ctx: &FlushContext,
    batches: &[RecordBatch],
    rows: &[(usize, usize)],
    seq_of: &dyn Fn(usize, usize) -> i64,
    kind_of: &dyn Fn(usize, usize) -> i8,
    w: &mut RollingFileWriter,
) -> Result<()> {
    let ncols = batches.first().map_or(0, |b| b.num_columns());
    for chunk in rows.chunks(OUTPUT_CHUNK) {
        let columns: Vec<ArrayRef> = if batches.len() == 1 {
            let idx = UInt32Array::from(chunk.iter().map(|(_, r)| *r as u32).collect::<Vec<_>>());
            batches[0]
                .columns()
                .iter()
                .map(|c| take(c.as_ref(), &idx, None))
                .collect::<std::result::Result<_, _>>()?
        } else {
            (0..ncols)
                .map(|c| {
                    let arrays: Vec<&dyn Array> =
                        batches.iter().map(|b| b.column(c).as_ref()).collect();
                    interleave(&arrays, chunk)
                })
                .collect::<std::result::Result<_, _>>()?
        };
        let seq: Int64Array = chunk
            .iter()
            .map(|(b, r)| seq_of(*b, *r))
            .collect::<Vec<i64>>()
            .into();
        let kinds: Int8Array = chunk
            .iter()
            .map(|(b, r)| kind_of(*b, *r))
            .collect::<Vec<i8>>()
            .into();
        let batch = physical_batch(
            &ctx.layout,
            &ctx.key_indices,
            &columns,
            Arc::new(seq),
            Arc::new(kinds),
        )?;
        w.write(&batch, 0)?;
    }
    Ok(())
}

/// Rows assembled by a merge function (partial-update, aggregation).
struct Merged {
    batch: RecordBatch,
    seq: Vec<i64>,
    kinds: Vec<i8>,
}

struct Folded {
    /// Output rows in key order, as (batch, row); batch `len(buffered)` is `merged`.
    rows: Vec<(usize, usize)>,
    merged: Option<Merged>,
}

/// Folds the records of each key into one, as the table's merge function does, so that each
/// key appears once per file: deduplicate keeps the newest record (a retraction stays, to
/// delete older versions), first-row the oldest, partial-update and aggregation assemble a row.
#[allow(clippy::too_many_arguments)]
fn fold(
    order: &[u32],
    keys: &Keys,
    locate: &[(usize, usize)],
    ctx: &FlushContext,
    batches: &[RecordBatch],
    kind_of: impl Fn(usize) -> i8,
    seq_of: &dyn Fn(usize, usize) -> i64,
) -> Result<Folded> {
    let schema_columns: Vec<String> = ctx.layout.value_names.clone();
    let mut function = MergeFunction::new(&ctx.schema, &ctx.options, &schema_columns)?;
    let column_indices: Vec<usize> = (0..schema_columns.len()).collect();
    let mut out = Vec::with_capacity(order.len());
    let mut merged_rows: Vec<Vec<Option<Datum>>> = vec![];
    let mut merged_seq = vec![];
    let mut merged_kinds = vec![];
    let mut kinds: Vec<RowKind> = vec![];
    let mut refs: Vec<(usize, usize)> = vec![];
    let extra = batches.len();
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && keys.same(order[j] as usize, order[i] as usize) {
            j += 1;
        }
        let group = &order[i..j];
        i = j;
        kinds.clear();
        refs.clear();
        for g in group {
            kinds.push(RowKind::from_byte(kind_of(*g as usize))?);
            refs.push(locate[*g as usize]);
        }
        let values = ArrowRecords {
            batches,
            refs: &refs,
            columns: &column_indices,
            types: &ctx.layout.value_types,
        };
        match function
            .merge(&kinds, &values)
            .map_err(|e| Error::input(e.to_string()))?
        {
            MergeOutcome::Nothing => {}
            MergeOutcome::Record(r) => out.push(refs[r]),
            MergeOutcome::Row(kind) => {
                let mut row = Vec::with_capacity(column_indices.len());
                for (c, cell) in function.cells().iter().enumerate() {
                    row.push(match cell {
                        Cell::Null => None,
                        Cell::Input(r) => values.datum(*r, c)?,
                        Cell::Value(v) => Some(v.clone()),
                    });
                }
                let (lb, lr) = *refs.last().expect("a group has records");
                merged_seq.push(seq_of(lb, lr));
                merged_kinds.push(kind as i8);
                out.push((extra, merged_rows.len()));
                merged_rows.push(row);
            }
        }
    }
    let merged = if merged_rows.is_empty() {
        None
    } else {
        let mut columns = Vec::with_capacity(column_indices.len());
        for (c, ty) in ctx.layout.value_types.iter().enumerate() {
            let col: Vec<Option<Datum>> = merged_rows.iter().map(|r| r[c].clone()).collect();
            columns.push(datums_to_array(&col, ty)?);
        }
        let batch = RecordBatch::try_new(batches[0].schema(), columns)
            .map_err(|e| Error::arrow("assembling merged rows", e))?;
        Some(Merged {
            batch,
            seq: merged_seq,
            kinds: merged_kinds,
        })
    };
    Ok(Folded { rows: out, merged })
}

/// Encoded keys of the buffered rows, for telling equal keys apart after sorting.
pub(crate) enum Keys {
    Rows(Rows),
    /// A single integer key column, widened.
    Int(Vec<i64>),
}

impl Keys {
    fn same(&self, a: usize, b: usize) -> bool {
        match self {
            Keys::Rows(r) => r.row(a) == r.row(b),
            Keys::Int(v) => v[a] == v[b],
        }
    }
}

/// Sorts the buffered rows by key, then `sequence.field`, then arrival (= sequence number).
/// A single integer key without sequence fields sorts as plain integers.
fn sort_order(batches: &[RecordBatch], ctx: &FlushContext) -> Result<(Vec<u32>, Keys)> {
    let n: usize = batches.iter().map(|b| b.num_rows()).sum();
    if ctx.key_indices.len() == 1 && ctx.sequence_indices.is_empty() {
        if let Some(values) = int_keys(batches, ctx.key_indices[0], n) {
            let mut pairs: Vec<(i64, u32)> = values
                .iter()
                .enumerate()
                .map(|(i, k)| (*k, i as u32))
                .collect();
            pairs.sort_unstable();
            return Ok((
                pairs.into_iter().map(|(_, i)| i).collect(),
                Keys::Int(values),
            ));
        }
    }
    let key_rows = convert(batches, &ctx.key_indices, false)?;
    let seq_rows = if ctx.sequence_indices.is_empty() {
        None
    } else {
        Some(convert(
            batches,
            &ctx.sequence_indices,
            ctx.options.sequence_descending,
        )?)
    };
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        key_rows
            .row(a)
            .cmp(&key_rows.row(b))
            .then_with(|| match &seq_rows {
                Some(s) => s.row(a).cmp(&s.row(b)),
                None => std::cmp::Ordering::Equal,
            })
            .then(a.cmp(&b))
    });
    Ok((order, Keys::Rows(key_rows)))
}

/// The values of an integer key column (never null: key columns are NOT NULL).
fn int_keys(batches: &[RecordBatch], col: usize, n: usize) -> Option<Vec<i64>> {
    use arrow::array::{Array, ArrowPrimitiveType, AsArray};
    use arrow::datatypes::{DataType as A, Date32Type, Int16Type, Int32Type, Int64Type, Int8Type};
    fn widened<T: ArrowPrimitiveType>(c: &dyn Array) -> impl Iterator<Item = i64> + '_
    where
        T::Native: Into<i64>,
    {
        c.as_primitive::<T>().values().iter().map(|v| (*v).into())
    }
    let mut out = Vec::with_capacity(n);
    for b in batches {
        let c = b.column(col);
        if c.null_count() > 0 {
            return None;
        }
        match c.data_type() {
            A::Int64 => out.extend_from_slice(c.as_primitive::<Int64Type>().values()),
            A::Int32 => out.extend(widened::<Int32Type>(c)),
            A::Date32 => out.extend(widened::<Date32Type>(c)),
            A::Int16 => out.extend(widened::<Int16Type>(c)),
            A::Int8 => out.extend(widened::<Int8Type>(c)),
            _ => return None,
        }
    }
    Some(out)
}

fn convert(batches: &[RecordBatch], indices: &[usize], descending: bool) -> Result<Rows> {
    let first = batches
        .first()
        .ok_or_else(|| Error::Internal("flush of an empty buffer".into()))?;
    let fields = indices
        .iter()
        .map(|i| {
            SortField::new_with_options(
                first.column(*i).data_type().clone(),
                arrow::compute::SortOptions {
                    descending,
                    nulls_first: true,
                },
            )
        })
        .collect();
    let converter = RowConverter::new(fields)?;
    let mut rows = converter.empty_rows(0, 0);
    for b in batches {
        let cols: Vec<ArrayRef> = indices.iter().map(|i| b.column(*i).clone()).collect();
        converter.append(&mut rows, &cols)?;
    }
    Ok(rows)
}

fn empty_i64() -> ArrayRef {
    Arc::new(Int64Array::from(Vec::<i64>::new()))
}
fn empty_i8() -> ArrayRef {
    Arc::new(Int8Array::from(Vec::<i8>::new()))
}

/// Metadata of the files a flush wrote, once uploaded.
#[derive(Default)]
pub struct Pending {
    pub data: Vec<DataFileMeta>,
    pub changelog: Vec<DataFileMeta>,
}
