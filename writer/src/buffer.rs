//! The per-bucket write buffer: rows in arrival order with their sequence numbers and kinds;
//! on flush, sorted by key (then `sequence.field`, then sequence number), folded so that each
//! key appears once per file, and written as level-0 files.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, Int8Array, RecordBatch, UInt32Array};
use arrow::compute::{interleave, take};
use arrow::row::{RowConverter, Rows, SortField};
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::options::{ChangelogProducer, MergeEngine, TableOptions};
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::{Error, Result};

use crate::file_writer::{physical_batch, FileLayout, FileNamer, FinishedFile, RollingFileWriter};

/// Rows per batch handed to the Parquet writer during a flush.
const OUTPUT_CHUNK: usize = 64 * 1024;

/// What a flush needs to know about the table, shared by all buckets.
pub struct FlushContext {
    pub layout: FileLayout,
    pub namer: FileNamer,
    pub options: Arc<TableOptions>,
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
        let key_rows = convert(&self.batches, &ctx.key_indices, false)?;
        let seq_rows = if ctx.sequence_indices.is_empty() {
            None
        } else {
            Some(convert(
                &self.batches,
                &ctx.sequence_indices,
                ctx.options.sequence_descending,
            )?)
        };
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
        // Arrival order is sequence order, so the index breaks ties.
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

        let changelog = if ctx.options.changelog_producer == ChangelogProducer::Input {
            let mut w = RollingFileWriter::new(
                &ctx.layout,
                &ctx.namer,
                &ctx.options.changelog_file_prefix,
                0,
                0,
            );
            self.write_rows(ctx, &order, &locate, &mut w)?;
            w.finish()?
        } else {
            vec![]
        };

        let kept = fold(&order, &key_rows, ctx, kind_of)?;
        let mut w =
            RollingFileWriter::new(&ctx.layout, &ctx.namer, &ctx.options.data_file_prefix, 0, 0);
        self.write_rows(ctx, &kept, &locate, &mut w)?;
        Ok(Flushed {
            data: w.finish()?,
            changelog,
        })
    }

    /// Gathers the given rows in order and writes them.
    fn write_rows(
        &self,
        ctx: &FlushContext,
        rows: &[u32],
        locate: &[(usize, usize)],
        w: &mut RollingFileWriter,
    ) -> Result<()> {
        let ncols = self.batches.first().map_or(0, |b| b.num_columns());
        let single = self.batches.len() == 1;
        for chunk in rows.chunks(OUTPUT_CHUNK) {
            let columns: Vec<ArrayRef> = if single {
                let idx = UInt32Array::from(chunk.to_vec());
                self.batches[0]
                    .columns()
                    .iter()
                    .map(|c| take(c.as_ref(), &idx, None))
                    .collect::<std::result::Result<_, _>>()?
            } else {
                let pairs: Vec<(usize, usize)> =
                    chunk.iter().map(|g| locate[*g as usize]).collect();
                (0..ncols)
                    .map(|c| {
                        let arrays: Vec<&dyn Array> =
                            self.batches.iter().map(|b| b.column(c).as_ref()).collect();
                        interleave(&arrays, &pairs)
                    })
                    .collect::<std::result::Result<_, _>>()?
            };
            let seq: Int64Array = chunk
                .iter()
                .map(|g| {
                    let (b, r) = locate[*g as usize];
                    self.first_seq[b] + r as i64
                })
                .collect::<Vec<i64>>()
                .into();
            let kinds: Int8Array = chunk
                .iter()
                .map(|g| {
                    let (b, r) = locate[*g as usize];
                    self.kinds[b]
                        .as_ref()
                        .map_or(RowKind::Insert as i8, |k| k.value(r))
                })
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
}

/// Folds records of equal keys as the merge engine's write buffer does: deduplicate keeps the
/// newest, first-row the oldest; other engines keep every record (readers merge them).
fn fold(
    order: &[u32],
    keys: &Rows,
    ctx: &FlushContext,
    kind_of: impl Fn(usize) -> i8,
) -> Result<Vec<u32>> {
    let engine = ctx.options.merge_engine;
    let ignore_delete = ctx.options.ignore_delete;
    let is_retract = |g: usize| {
        let k = kind_of(g);
        k == RowKind::UpdateBefore as i8 || k == RowKind::Delete as i8
    };
    let mut kept = Vec::with_capacity(order.len());
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && keys.row(order[j] as usize) == keys.row(order[i] as usize) {
            j += 1;
        }
        let group = &order[i..j];
        match engine {
            MergeEngine::Deduplicate => {
                let pick = if ignore_delete {
                    group.iter().rev().find(|g| !is_retract(**g as usize))
                } else {
                    group.last()
                };
                kept.extend(pick);
            }
            MergeEngine::FirstRow => {
                if !ignore_delete {
                    if let Some(g) = group.iter().find(|g| is_retract(**g as usize)) {
                        let _ = g;
                        return Err(Error::input(
                            "the first-row merge engine does not accept -U/-D rows (set 'ignore-delete' = 'true' to skip them)",
                        ));
                    }
                }
                kept.extend(group.iter().find(|g| !is_retract(**g as usize)));
            }
            MergeEngine::PartialUpdate | MergeEngine::Aggregation => kept.extend_from_slice(group),
        }
        i = j;
    }
    Ok(kept)
}

fn convert(batches: &[RecordBatch], indices: &[usize], descending: bool) -> Result<Rows> {
    let first = batches
        .first()
        .ok_or_else(|| Error::Other("flush of an empty buffer".into()))?;
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
