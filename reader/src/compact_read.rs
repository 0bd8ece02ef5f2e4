//! Reading for compaction: merge the sorted runs of one bucket into a stream of *physical*
//! key-value batches, using the same k-way merge and merge functions as a scan.
//!
//! The output is in the scan's internal layout with every table column: the trimmed key
//! (`_KEY_<k>`), `_SEQUENCE_NUMBER`, `_VALUE_KIND`, then all value columns in schema order —
//! the physical layout of a primary-key data file. One row per key, in key order, keeping the
//! winning record's sequence number and kind. Retraction results (`-U`/`-D`) are dropped only
//! when asked (compaction into the highest level); otherwise they are kept so that older data
//! in levels not being compacted stays shadowed.
//!
//! Memory is bounded by `batch_size` rows per run plus a small prefetch per run, whatever the
//! size of the input.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use streamhouse_format::io::Table;
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::merge::MergeFunction;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::{Error, Result};

use crate::dv::DeletionVector;
use crate::file_reader::ScanContext;
use crate::merge::{Merger, RunStream};
use crate::plan::Split;
use crate::split_reader::{file_stream, prefetch, RUN_PREFETCH};

/// The sorted runs of one bucket to merge.
#[derive(Debug, Clone)]
pub struct BucketRuns {
    /// Serialized partition BinaryRow.
    pub partition: Vec<u8>,
    pub bucket: i32,
    /// Each run's files in key order; level-0 runs are single files. Order does not matter
    /// for correctness (records are ordered by sequence number), newest first is customary.
    pub runs: Vec<Vec<DataFileMeta>>,
    /// Deletion vectors of the runs' files by file name: their rows are skipped.
    pub deletion_vectors: HashMap<String, Arc<DeletionVector>>,
}

/// The scan context compaction reads with: every column of the current schema, plus the
/// schemas of the given files.
pub async fn compaction_context(
    table: &Table,
    files: impl IntoIterator<Item = &DataFileMeta>,
    batch_size: usize,
) -> Result<Arc<ScanContext>> {
    let mut schemas: HashMap<i64, Arc<TableSchema>> = HashMap::new();
    schemas.insert(table.schema.id, table.schema.clone());
    for f in files {
        if let std::collections::hash_map::Entry::Vacant(e) = schemas.entry(f.schema_id) {
            e.insert(Arc::new(table.schema_by_id(f.schema_id).await?));
        }
    }
    let names = table.schema.field_names();
    Ok(Arc::new(ScanContext::new(
        table.clone(),
        schemas,
        &names,
        batch_size.max(1),
    )?))
}

/// Merges the runs of one bucket into physical key-value batches (see the module docs).
/// `drop_retractions` drops `-U`/`-D` results: only correct when no older data for these keys
/// exists outside the merged runs.
pub async fn merge_runs(
    table: &Table,
    input: BucketRuns,
    drop_retractions: bool,
    batch_size: usize,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    if !table.is_primary_key_table() {
        return Err(Error::unsupported(format!(
            "merging sorted runs of append table {} (only primary-key tables have an LSM tree)",
            table.name
        )));
    }
    let ctx = compaction_context(table, input.runs.iter().flatten(), batch_size).await?;
    let names = table.schema.field_names();
    let merge_fn = MergeFunction::new(&table.schema, &table.options, &names)?;
    let split = Split {
        partition_path: table.partition_dir(&input.partition)?,
        partition: input.partition,
        bucket: input.bucket,
        files: input.runs.iter().flatten().cloned().collect(),
        deletion_vectors: Default::default(),
    };
    let dvs = Arc::new(input.deletion_vectors);
    let runs: Vec<RunStream> = input
        .runs
        .into_iter()
        .filter(|r| !r.is_empty())
        .map(|files| prefetch(file_stream(&ctx, &split, files, &dvs), RUN_PREFETCH))
        .collect();
    let merger = Merger::new(ctx, merge_fn, runs)?.with_physical_output(!drop_retractions);
    Ok(futures::stream::try_unfold(merger, |mut m| async move {
        Ok(m.next_batch().await?.map(|b| (b, m)))
    })
    .try_filter(|b| futures::future::ready(b.num_rows() > 0))
    .boxed())
}
