//! Changelog produced by compaction: `changelog-producer = lookup` (data leaving level 0) and
//! `changelog-producer = full-compaction` (data entering the max level by a full compaction).
//!
//! Lookup tables push every level-0 file up on each compaction (the picker's "force up level
//! 0"), so each level-0 record is turned into changelog exactly once, by the compaction that
//! first moves it out of level 0. For every key present in level 0:
//! * the **before** image is the key's merged value over the levels ≥ 1 (the state the previous
//!   compactions produced — Java looks it up in the higher levels),
//! * the **after** image is the key's merged value over the whole bucket,
//!
//! and the changelog is `+I after` (no before), `-D before` (no after), or `-U before`,
//! `+U after` (both; emitted even when equal, as Java's default
//! `changelog-producer.row-deduplicate = false`). All three inputs are streamed merges in key
//! order joined by key, so memory stays bounded.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, Int8Array, RecordBatch};
use arrow::compute::concat_batches;
use object_store::path::Path;
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::options::MergeEngine;
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::{Error, Result};
use streamhouse_reader::compact_read::{merge_runs, BucketRuns};
use streamhouse_reader::dv::DeletionVector;
use streamhouse_writer::file_writer::RollingFileWriter;

/// Deletion vectors of the bucket's files, by file name.
type Dvs = HashMap<String, Arc<DeletionVector>>;

use crate::key_cursor::{key_converter, Cursor};
use crate::levels::Levels;
use crate::rewrite::{CompactResult, RewriteContext};

fn is_add(row: &RecordBatch, kind_col: usize) -> bool {
    row.column(kind_col)
        .as_any()
        .downcast_ref::<Int8Array>()
        .is_some_and(|k| !k.is_empty() && !matches!(k.value(0), 1 | 3))
}

/// Writes the lookup changelog of the bucket's level-0 files into `out.changelog`.
pub async fn lookup_changelog(
    ctx: &RewriteContext,
    levels: &Levels,
    dir: &Path,
    dvs: &Dvs,
    out: &mut CompactResult,
) -> Result<()> {
    let l0: Vec<Vec<DataFileMeta>> = levels.level0.iter().map(|f| vec![f.clone()]).collect();
    let upper: Vec<Vec<DataFileMeta>> = levels.upper.values().cloned().collect();
    diff_changelog(ctx, levels, l0, upper, dir, dvs, out).await
}

/// Writes the `full-compaction` changelog of a full compaction: the keys of every run below
/// the max level, with before images from the max level (the state the previous full
/// compaction produced) and after images from the whole bucket.
pub async fn full_compaction_changelog(
    ctx: &RewriteContext,
    levels: &Levels,
    dir: &Path,
    dvs: &Dvs,
    out: &mut CompactResult,
) -> Result<()> {
    let max = levels.max_level();
    let (top, below): (Vec<_>, Vec<_>) = levels
        .sorted_runs()
        .into_iter()
        .partition(|r| r.level == max);
    let l0: Vec<Vec<DataFileMeta>> = below.into_iter().map(|r| r.files).collect();
    let upper: Vec<Vec<DataFileMeta>> = top.into_iter().map(|r| r.files).collect();
    diff_changelog(ctx, levels, l0, upper, dir, dvs, out).await
}

/// Changelog for the keys of the `delta` runs: before images from `base`, after images from
/// `delta` and `base` merged together.
async fn diff_changelog(
    ctx: &RewriteContext,
    levels: &Levels,
    delta_runs: Vec<Vec<DataFileMeta>>,
    base_runs: Vec<Vec<DataFileMeta>>,
    dir: &Path,
    dvs: &Dvs,
    out: &mut CompactResult,
) -> Result<()> {
    if delta_runs.is_empty() {
        return Ok(());
    }
    let table = &ctx.table;
    let runs_of = |files: Vec<Vec<DataFileMeta>>| BucketRuns {
        partition: levels.partition.clone(),
        bucket: levels.bucket,
        runs: files,
        deletion_vectors: dvs.clone(),
    };
    let all: Vec<Vec<DataFileMeta>> = delta_runs.iter().chain(base_runs.iter()).cloned().collect();
    let mut delta =
        Cursor::new(merge_runs(table, runs_of(delta_runs), false, ctx.batch_size).await?);
    let mut before =
        Cursor::new(merge_runs(table, runs_of(base_runs), false, ctx.batch_size).await?);
    let mut after = Cursor::new(merge_runs(table, runs_of(all), false, ctx.batch_size).await?);
    let layout = &ctx.layout;
    let nk = layout.key_fields.len();
    let kind_col = nk + 1;
    let conv = key_converter(layout)?;
    let mut writer = RollingFileWriter::new(
        layout,
        &ctx.namer,
        &table.options.changelog_file_prefix,
        0,
        1,
    );
    let first_row = table.options.merge_engine == MergeEngine::FirstRow;
    let mut pending: Vec<(RecordBatch, RowKind)> = vec![];
    while delta.fill(&conv, nk).await? {
        ctx.cancel.check()?;
        let key = {
            let (_, rows) = delta.batch.as_ref().expect("filled");
            rows.row(delta.pos).owned()
        };
        delta.pos += 1;
        let b = before
            .seek(&conv, nk, &key)
            .await?
            .filter(|r| is_add(r, kind_col));
        let a = after
            .seek(&conv, nk, &key)
            .await?
            .filter(|r| is_add(r, kind_col));
        match (b, a) {
            (None, Some(a)) => pending.push((a, RowKind::Insert)),
            (Some(b), None) => pending.push((b, RowKind::Delete)),
            // A first-row table's key never changes once it exists: only new keys are changes
            // (as Java's first-row lookup changelog).
            (Some(_), Some(_)) if first_row => {}
            (Some(b), Some(a)) => {
                pending.push((b, RowKind::UpdateBefore));
                pending.push((a, RowKind::UpdateAfter));
            }
            (None, None) => {}
        }
        if pending.len() >= ctx.batch_size {
            write_pending(ctx, &mut writer, &mut pending, dir, out).await?;
        }
    }
    write_pending(ctx, &mut writer, &mut pending, dir, out).await?;
    for f in writer.finish()? {
        upload(ctx, f, dir, out).await?;
    }
    Ok(())
}

async fn write_pending(
    ctx: &RewriteContext,
    writer: &mut RollingFileWriter<'_>,
    pending: &mut Vec<(RecordBatch, RowKind)>,
    dir: &Path,
    out: &mut CompactResult,
) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let layout = &ctx.layout;
    let kind_col = layout.key_fields.len() + 1;
    let schema = pending[0].0.schema();
    let rows: Vec<RecordBatch> = pending.iter().map(|(b, _)| b.clone()).collect();
    let merged =
        concat_batches(&schema, &rows).map_err(|e| Error::arrow("assembling changelog rows", e))?;
    let mut cols = merged.columns().to_vec();
    cols[kind_col] = Arc::new(Int8Array::from(
        pending.iter().map(|(_, k)| *k as i8).collect::<Vec<_>>(),
    ));
    pending.clear();
    let batch = RecordBatch::try_new(layout.schema.clone(), cols)
        .map_err(|e| Error::arrow("building changelog rows", e))?;
    writer.write(&batch, 0)?;
    for f in writer.finished.drain(..).collect::<Vec<_>>() {
        upload(ctx, f, dir, out).await?;
    }
    Ok(())
}

async fn upload(
    ctx: &RewriteContext,
    f: streamhouse_writer::file_writer::FinishedFile,
    dir: &Path,
    out: &mut CompactResult,
) -> Result<()> {
    let path = dir.clone().join(f.meta.file_name.as_str());
    out.written.push(path.clone());
    out.bytes_written += f.bytes.len() as u64;
    ctx.table.io.write(&path, f.bytes).await?;
    out.changelog.push(f.meta);
    Ok(())
}
