//! Predicate and limit pushdown into the reading of one data file: which row groups and
//! pages to fetch (from statistics and the page index), deletion vectors folded into the same
//! row selection, and the row filter applied to the decoded rows.
//!
//! What a file may be filtered by depends on the table (see `spec/scan.md`): rows of an
//! append table are independent, so the whole predicate prunes and filters; in a primary-key
//! table only conjuncts over the trimmed primary key may act before the merge (the newest
//! version of a key decides whether it matches a value predicate).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::filter_record_batch;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, RowSelection, RowSelector,
};
use parquet::arrow::async_reader::{AsyncFileReader, ParquetRecordBatchStreamBuilder};
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaDataReader};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::DataField;
use streamhouse_format::{Error, Result};

use crate::dv::DeletionVector;
use crate::file_reader::{ScanContext, KEY_PREFIX};
use crate::parquet_io::ObjectReader;
use crate::predicate::parquet::{count_pages, prune_file, push, FileColumn};
use crate::predicate::{Leaf, Predicate};
use crate::scan_stats::ScanMetrics;

/// How the files of one scan are pruned and filtered.
#[derive(Debug, Default)]
pub struct FilePushdown {
    /// Prunes row groups and pages (already restricted to what may act before merging).
    pub prune: Option<Predicate>,
    /// Filters decoded rows in the internal layout (same restriction).
    pub row_filter: Option<Predicate>,
    /// Load the page index even without a predicate (to count pages for statistics).
    pub page_index: bool,
    /// No file needs more than this many rows (append tables without a filter).
    pub file_limit: Option<usize>,
    pub metrics: Option<Arc<ScanMetrics>>,
}

impl FilePushdown {
    /// Whether there is nothing to push down or count.
    pub fn is_noop(&self) -> bool {
        self.prune.is_none()
            && self.row_filter.is_none()
            && !self.page_index
            && self.file_limit.is_none()
            && self.metrics.is_none()
    }
}

/// Reader options for the files of a scan: the page index is loaded when pages can be pruned
/// or must be counted.
pub fn reader_options(ctx: &ScanContext) -> ArrowReaderOptions {
    ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::from(wants_page_index(ctx)))
}

fn wants_page_index(ctx: &ScanContext) -> bool {
    ctx.pushdown
        .as_ref()
        .is_some_and(|p| p.page_index || p.prune.is_some())
}

/// Opens a data file for reading: its footer, and — when pages can be pruned or must be
/// counted — the offset index of every column but the column index only of the columns the
/// pruning predicate reads (the column index of wide value columns, such as long strings, is
/// most of the page index and would be fetched for nothing).
pub async fn open(
    ctx: &ScanContext,
    mut reader: ObjectReader,
    file_schema: &TableSchema,
) -> parquet::errors::Result<ParquetRecordBatchStreamBuilder<ObjectReader>> {
    if !wants_page_index(ctx) {
        return ParquetRecordBatchStreamBuilder::new_with_options(
            reader,
            ArrowReaderOptions::new(),
        )
        .await;
    }
    let footer = ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new()).await?;
    let file_arrow = footer.schema().clone();
    // Parquet leaf columns whose column index the predicate may use.
    let mut wanted: Vec<String> = vec![];
    if let Some(p) = ctx.pushdown.as_ref().and_then(|p| p.prune.as_ref()) {
        p.visit_leaves(&mut |l| {
            if let Some(c) = file_column(ctx, file_schema, &file_arrow, l) {
                wanted.push(c.name);
            }
        });
    }
    let mut meta = footer.metadata().as_ref().clone().into_builder();
    let row_groups = meta
        .take_row_groups()
        .into_iter()
        .map(|rg| {
            let columns = rg
                .columns()
                .iter()
                .map(|c| {
                    let root = c.column_path().parts().first().cloned().unwrap_or_default();
                    if wanted.contains(&root) {
                        c.clone()
                    } else {
                        c.clone()
                            .into_builder()
                            .set_column_index_offset(None)
                            .set_column_index_length(None)
                            .build()
                            .unwrap_or_else(|_| c.clone())
                    }
                })
                .collect();
            rg.clone()
                .into_builder()
                .set_column_metadata(columns)
                .build()
                .unwrap_or(rg)
        })
        .collect();
    let meta = meta.set_row_groups(row_groups).build();
    // Two loads: the column indexes kept above, then every offset index (each load fetches one
    // range spanning what it needs, and column indexes precede offset indexes in the file).
    let mut loader = ParquetMetaDataReader::new_with_metadata(meta)
        .with_column_index_policy(PageIndexPolicy::Optional)
        .with_offset_index_policy(PageIndexPolicy::Skip);
    if !wanted.is_empty() {
        loader.load_page_index(&mut reader).await?;
    }
    let meta = loader.finish()?;
    let mut loader = ParquetMetaDataReader::new_with_metadata(meta)
        .with_column_index_policy(PageIndexPolicy::Skip)
        .with_offset_index_policy(PageIndexPolicy::Optional);
    loader.load_page_index(&mut reader).await?;
    let meta = loader.finish()?;
    let arrow_meta = ArrowReaderMetadata::try_new(Arc::new(meta), ArrowReaderOptions::new())?;
    Ok(ParquetRecordBatchStreamBuilder::new_with_metadata(
        reader, arrow_meta,
    ))
}

/// The Arrow column of a data file that holds a predicate column, with its type in the file.
fn file_column(
    ctx: &ScanContext,
    file_schema: &TableSchema,
    file_arrow: &arrow::datatypes::Schema,
    leaf: &Leaf,
) -> Option<FileColumn> {
    let f: &DataField = file_schema.fields.iter().find(|f| f.id == leaf.field_id)?;
    let has = |n: &str| file_arrow.column_with_name(n).is_some();
    let is_key = ctx.primary_key && ctx.key_fields.iter().any(|k| k.id == leaf.field_id);
    let key_name = format!("{KEY_PREFIX}{}", f.name);
    let name = if is_key && has(&key_name) {
        key_name
    } else if has(&f.name) {
        f.name.clone()
    } else {
        return None;
    };
    Some(FileColumn {
        name,
        ty: f.data_type.clone(),
    })
}

/// The rows a deletion vector keeps, as a selection over the whole file.
fn dv_selection(dv: &DeletionVector, total: usize) -> Vec<RowSelector> {
    let mut out = vec![];
    let mut at = 0usize;
    for &p in dv.positions() {
        let p = p as usize;
        if p >= total {
            break;
        }
        push(&mut out, p - at, true);
        push(&mut out, 1, false);
        at = p + 1;
    }
    push(&mut out, total - at, true);
    out
}

/// Prunes a file's row groups and pages and folds its deletion vector into the selection.
/// Returns the builder and the deletion vector still to apply to decoded rows (`None` when it
/// was folded into the selection).
pub fn apply<T: AsyncFileReader + Send + 'static>(
    ctx: &ScanContext,
    file_schema: &TableSchema,
    builder: ParquetRecordBatchStreamBuilder<T>,
    dv: Option<Arc<DeletionVector>>,
    roots: &[usize],
) -> Result<(
    ParquetRecordBatchStreamBuilder<T>,
    Option<Arc<DeletionVector>>,
)> {
    let Some(pd) = ctx.pushdown.as_ref().filter(|p| !p.is_noop()) else {
        return Ok((builder, dv));
    };
    let meta = builder.metadata().clone();
    let rgs = meta.row_groups();
    let file_arrow = builder.schema().clone();
    let pruning = match &pd.prune {
        Some(p) => prune_file(&meta, &file_arrow, p, &|l| {
            file_column(ctx, file_schema, &file_arrow, l)
        }),
        None => crate::predicate::parquet::FilePruning {
            row_groups: (0..rgs.len()).collect(),
            selection: None,
            row_groups_total: rgs.len(),
        },
    };
    let pruned = pruning.row_groups.len() < rgs.len() || pruning.selection.is_some();
    let (row_groups, selection, dv) = if pruned && dv.is_some() {
        // One file-level selection: pruning ∩ deletion vector.
        let total: usize = rgs.iter().map(|r| r.num_rows() as usize).sum();
        let mut relative = pruning.selection.clone();
        let mut file_sel: Vec<RowSelector> = vec![];
        for (i, rg) in rgs.iter().enumerate() {
            let n = rg.num_rows() as usize;
            if pruning.row_groups.contains(&i) {
                match relative.as_mut() {
                    Some(r) => {
                        for s in r.split_off(n).iter() {
                            push(&mut file_sel, s.row_count, !s.skip);
                        }
                    }
                    None => push(&mut file_sel, n, true),
                }
            } else {
                push(&mut file_sel, n, false);
            }
        }
        let dv_sel = RowSelection::from(dv_selection(dv.as_deref().expect("checked"), total));
        let mut combined = RowSelection::from(file_sel).intersection(&dv_sel);
        let (mut kept, mut sel) = (vec![], vec![]);
        for (i, rg) in rgs.iter().enumerate() {
            let part = combined.split_off(rg.num_rows() as usize);
            if part.selects_any() {
                kept.push(i);
                for s in part.iter() {
                    push(&mut sel, s.row_count, !s.skip);
                }
            }
        }
        (kept, Some(RowSelection::from(sel)), None)
    } else {
        (pruning.row_groups, pruning.selection, dv)
    };
    if let Some(m) = &pd.metrics {
        ScanMetrics::add(&m.files_opened, 1);
        ScanMetrics::add(&m.row_groups_total, rgs.len() as u64);
        ScanMetrics::add(&m.row_groups_read, row_groups.len() as u64);
        let descr = meta.file_metadata().schema_descr();
        let leaves: Vec<usize> = (0..descr.num_columns())
            .filter(|&c| roots.contains(&descr.get_column_root_idx(c)))
            .collect();
        let all: Vec<usize> = (0..rgs.len()).collect();
        let (total, _) = count_pages(&meta, &all, None, &leaves);
        let (_, read) = count_pages(&meta, &row_groups, selection.as_ref(), &leaves);
        ScanMetrics::add(&m.pages_total, total);
        ScanMetrics::add(&m.pages_read, read);
    }
    let mut builder = builder.with_row_groups(row_groups);
    if let Some(s) = selection {
        builder = builder.with_row_selection(s);
    }
    if let (Some(limit), None, None) = (pd.file_limit, &pd.row_filter, &dv) {
        builder = builder.with_limit(limit);
    }
    Ok((builder, dv))
}

/// Applies the row filter of the scan to an internal-layout batch.
pub fn filter_rows(ctx: &ScanContext, batch: RecordBatch) -> Result<RecordBatch> {
    let Some(pd) = ctx.pushdown.as_ref() else {
        return Ok(batch);
    };
    if let Some(m) = &pd.metrics {
        ScanMetrics::add(&m.rows_decoded, batch.num_rows() as u64);
    }
    let Some(filter) = &pd.row_filter else {
        return Ok(batch);
    };
    let positions: HashMap<i32, usize> = if ctx.primary_key {
        ctx.key_fields
            .iter()
            .enumerate()
            .map(|(i, k)| (k.id, i))
            .collect()
    } else {
        ctx.value_fields
            .iter()
            .enumerate()
            .map(|(i, v)| (v.id, ctx.value_offset() + i))
            .collect()
    };
    let column = |l: &Leaf| -> Option<ArrayRef> {
        positions.get(&l.field_id).map(|&i| batch.column(i).clone())
    };
    let mask = filter.evaluate_with(batch.num_rows(), &column)?;
    if mask.true_count() == batch.num_rows() {
        return Ok(batch);
    }
    filter_record_batch(&batch, &mask).map_err(|e| Error::arrow("filtering rows", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletion_vectors_become_row_selections() {
        let dv = DeletionVector::from_positions(vec![0, 3, 4, 9, 12]);
        let sel = RowSelection::from(dv_selection(&dv, 10));
        let kept: Vec<usize> = crate::predicate::parquet::selected_ranges(&sel)
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(kept, vec![1, 2, 5, 6, 7, 8]);
        assert_eq!(sel.row_count() + sel.skipped_row_count(), 10);
        let none = DeletionVector::from_positions(vec![]);
        assert_eq!(RowSelection::from(dv_selection(&none, 4)).row_count(), 4);
    }
}
