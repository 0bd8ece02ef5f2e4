//! Carrying out one pick: Paimon's `MergeTreeCompactTask`.
//!
//! The picked files are cut into key-range sections. A section with several sorted runs is
//! merged; a section that is a single run is not: its large files (≥ 70 % of
//! `target-file-size`, Java's `compactionFileSize`) are **upgraded** — recorded as DELETE at the
//! old level and ADD of the same file at the output level — and its small files join the
//! neighbouring merge. A file with retractions is never upgraded into the max level (it is
//! rewritten so the retractions go). Merging uses the reader's k-way merge and merge functions
//! and writes with the writer's rolling file writer (`target-file-size` rolling,
//! `_FILE_SOURCE = 1`); retractions are dropped only when the output level is the highest level
//! holding data. Each finished file is uploaded at once, and at most [`MAX_FAN_IN`] runs are
//! merged at a time (more are first merged in groups into temporary files), so memory stays
//! bounded by one file being encoded plus a row group and a few batches per merged run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, Int8Array, RecordBatch};
use arrow::compute::{concat_batches, filter_record_batch};
use futures::TryStreamExt;
use object_store::path::Path;
use streamhouse_format::io::Table;
use streamhouse_format::manifest::{DataFileMeta, IndexManifestEntry};
use streamhouse_format::options::MergeEngine;
use streamhouse_format::{Error, Result};
use streamhouse_reader::compact_read::{compaction_context, merge_runs, BucketRuns};
use streamhouse_reader::dv::DeletionVector;
use streamhouse_reader::sections::sections;
use streamhouse_writer::file_writer::{FileLayout, FileNamer, FinishedFile, RollingFileWriter};
use tokio::sync::Mutex;

use crate::dv::{BucketDvs, HigherPositions};
use crate::key_cursor::{key_converter, Cursor, ExistingKeys};
use crate::levels::Levels;
use crate::picker::Pick;

/// Whether row `i` of a physical batch (kind column `kind_col`) adds data (`+I`, `+U`).
fn is_add(batch: &RecordBatch, kind_col: usize, i: usize) -> bool {
    batch
        .column(kind_col)
        .as_any()
        .downcast_ref::<Int8Array>()
        .is_some_and(|k| k.is_null(i) || !matches!(k.value(i), 1 | 3))
}

/// Rows per merged batch during compaction.
pub const COMPACTION_BATCH_SIZE: usize = 8192;

/// Most sorted runs merged at once (see `Task::reduce_fan_in`).
pub const MAX_FAN_IN: usize = 32;

/// Reports progress of long compactions, in bytes of input files processed.
pub trait Progress: Send + Sync {
    /// A compaction of `total` input bytes starts; progress of it goes to the returned task.
    fn start(&self, what: &str, total: u64) -> Arc<dyn ProgressTask>;
}

/// Progress of one compaction.
pub trait ProgressTask: Send + Sync {
    /// `bytes` more input bytes were processed.
    fn advance(&self, bytes: u64);
    /// The compaction ended (committed, failed or cancelled).
    fn finish(&self);
}

/// A cancellation flag shared by every task of a compaction run (set on Ctrl-C).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    /// An error when cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            return Err(Error::Cancelled("compaction cancelled".into()));
        }
        Ok(())
    }
}

/// What a rewrite shares across buckets.
pub struct RewriteContext {
    pub table: Table,
    pub layout: FileLayout,
    pub namer: FileNamer,
    pub batch_size: usize,
    pub cancel: Cancel,
    pub progress: Option<Arc<dyn Progress>>,
}

impl RewriteContext {
    pub fn new(table: Table) -> Result<Self> {
        Ok(RewriteContext {
            layout: FileLayout::new(&table.schema, &table.options)?,
            namer: FileNamer::new(),
            batch_size: COMPACTION_BATCH_SIZE,
            cancel: Cancel::new(),
            progress: None,
            table,
        })
    }
}

/// The outcome of one compaction unit.
#[derive(Debug, Default, Clone)]
pub struct CompactResult {
    /// Files replaced (DELETE entries, with their old level).
    pub before: Vec<DataFileMeta>,
    /// Files produced or upgraded (ADD entries, with the output level).
    pub after: Vec<DataFileMeta>,
    /// Changelog files (lookup changelog producer).
    pub changelog: Vec<DataFileMeta>,
    /// Deletion-vector index changes (the bucket's new index file replacing its old one).
    pub index_changes: Vec<IndexManifestEntry>,
    /// Files this compaction uploaded (deleted again if it does not commit).
    pub written: Vec<Path>,
    /// How many files were upgraded without rewriting.
    pub upgraded: usize,
    pub bytes_read: u64,
    pub bytes_written: u64,
}

impl CompactResult {
    pub fn is_empty(&self) -> bool {
        self.before.is_empty() && self.after.is_empty() && self.changelog.is_empty()
    }
}

/// How progress and reports name a bucket: `bucket 0`, or `dt=2024-01-01 bucket 0`.
pub fn bucket_label(partition_dir: &str, bucket: i32) -> String {
    let partition = partition_dir.trim_end_matches('/');
    if partition.is_empty() {
        format!("bucket {bucket}")
    } else {
        format!("{partition} bucket {bucket}")
    }
}

/// Runs one pick over `levels`, appending to `out` (also on failure, so the caller can delete
/// what was uploaded). `dvs` are the bucket's deletion vectors (empty unless the table has
/// them); the pick's new deletion vectors go to `out.index_changes`.
pub async fn run_pick(
    ctx: &RewriteContext,
    levels: &Levels,
    pick: Pick,
    mut dvs: BucketDvs,
    out: &mut CompactResult,
) -> Result<()> {
    let runs = levels.sorted_runs();
    let picked: Vec<DataFileMeta> = runs
        .iter()
        .take(pick.run_count)
        .flat_map(|r| r.files.iter().cloned())
        .collect();
    let output = pick.output_level;
    let dv_table = ctx.table.options.deletion_vectors;
    // With deletion vectors, what a retraction shadows in higher levels is marked deleted.
    let drop_delete = output != 0 && (output >= levels.non_empty_highest_level() || dv_table);
    let read_dvs = dvs.for_reading();
    let partition = ctx.table.partition_dir(&levels.partition)?;
    let progress = ctx.progress.as_ref().map(|p| {
        let total: u64 = picked.iter().map(|f| f.file_size.max(0) as u64).sum();
        p.start(&bucket_label(&partition, levels.bucket), total)
    });
    // First-row tables: what the untouched higher runs hold already keeps its first version.
    let higher: Vec<Vec<DataFileMeta>> = runs
        .iter()
        .skip(pick.run_count)
        .map(|r| r.files.clone())
        .collect();
    let existing = if ctx.table.options.merge_engine == MergeEngine::FirstRow && !higher.is_empty()
    {
        let stream = merge_runs(
            &ctx.table,
            BucketRuns {
                partition: levels.partition.clone(),
                bucket: levels.bucket,
                runs: higher.clone(),
                deletion_vectors: read_dvs.clone(),
            },
            false,
            ctx.batch_size,
        )
        .await?;
        Some(Mutex::new(ExistingKeys::new(stream, &ctx.layout)?))
    } else {
        None
    };
    let task = Task {
        ctx,
        levels,
        existing,
        output,
        max_level: levels.max_level(),
        drop_delete,
        min_file_size: ctx.table.options.target_file_size / 10 * 7,
        progress: progress.clone(),
        dir: ctx.table.bucket_dir(&partition, levels.bucket),
        dv_table,
        read_dvs,
    };
    // Deletion-vector tables (but first-row ones, whose higher levels keep their rows): rows
    // leaving level 0 supersede rows of the levels above the output, which are marked deleted.
    let lookup = dv_table
        && ctx.table.options.merge_engine != MergeEngine::FirstRow
        && picked.iter().any(|f| f.level == 0);
    let result = if lookup {
        let picked_runs: Vec<Vec<DataFileMeta>> = runs
            .iter()
            .take(pick.run_count)
            .map(|r| r.files.clone())
            .collect();
        task.lookup_rewrite(picked_runs, higher, &mut dvs, out)
            .await
    } else {
        let scan_ctx = compaction_context(&ctx.table, picked.iter(), ctx.batch_size).await?;
        let mut candidate: Vec<Vec<Vec<DataFileMeta>>> = vec![];
        async {
            for section in sections(&scan_ctx, &picked) {
                if section.runs.len() > 1 {
                    candidate.push(section.runs);
                    continue;
                }
                for file in section.runs.into_iter().flatten() {
                    if (file.file_size.max(0) as u64) < task.min_file_size {
                        candidate.push(vec![vec![file]]);
                    } else {
                        task.rewrite(&mut candidate, out).await?;
                        task.upgrade(file, out).await?;
                    }
                }
            }
            task.rewrite(&mut candidate, out).await
        }
        .await
    };
    if let Some(p) = &progress {
        p.finish();
    }
    result?;
    out.index_changes = dvs
        .finish(
            &ctx.table,
            levels,
            &out.before,
            &out.after,
            &mut out.written,
        )
        .await?;
    Ok(())
}

struct Task<'a> {
    ctx: &'a RewriteContext,
    levels: &'a Levels,
    /// First-row tables with runs left above the output: their keys are dropped from the
    /// output (the sections are rewritten in key order, so one forward cursor serves all).
    existing: Option<Mutex<ExistingKeys>>,
    output: i32,
    max_level: i32,
    drop_delete: bool,
    min_file_size: u64,
    dir: Path,
    progress: Option<Arc<dyn ProgressTask>>,
    /// The table has deletion vectors: retractions never go up, files are read with
    /// `read_dvs`.
    dv_table: bool,
    read_dvs: HashMap<String, Arc<DeletionVector>>,
}

impl Task<'_> {
    /// Moves a file to the output level without rewriting, unless that would carry
    /// retractions into the max level.
    async fn upgrade(&self, file: DataFileMeta, out: &mut CompactResult) -> Result<()> {
        if let Some(p) = &self.progress {
            p.advance(file.file_size.max(0) as u64);
        }
        if file.level == self.output {
            return Ok(());
        }
        if self.existing.is_some() && file.level == 0 {
            // A level-0 file may hold keys the higher runs hold: it must be filtered.
            return self.rewrite_sections(vec![vec![vec![file]]], out).await;
        }
        // Retractions are dropped on the way up with deletion vectors (into any level), else
        // only into the max level.
        let drops_retractions = self.dv_table || self.output == self.max_level;
        if !drops_retractions || file.delete_row_count == Some(0) {
            let mut up = file.clone();
            up.level = self.output;
            out.before.push(file);
            out.after.push(up);
            out.upgraded += 1;
            Ok(())
        } else {
            self.rewrite_sections(vec![vec![vec![file]]], out).await
        }
    }

    /// Merges the accumulated sections (a lone single-run section is upgraded instead).
    async fn rewrite(
        &self,
        candidate: &mut Vec<Vec<Vec<DataFileMeta>>>,
        out: &mut CompactResult,
    ) -> Result<()> {
        let sections = std::mem::take(candidate);
        if sections.is_empty() {
            return Ok(());
        }
        if sections.len() == 1 && sections[0].len() == 1 {
            for file in sections.into_iter().flatten().flatten() {
                Box::pin(self.upgrade(file, out)).await?;
            }
            return Ok(());
        }
        self.rewrite_sections(sections, out).await
    }

    /// Merges each section (in key order) into one rolling writer at the output level.
    async fn rewrite_sections(
        &self,
        sections: Vec<Vec<Vec<DataFileMeta>>>,
        out: &mut CompactResult,
    ) -> Result<()> {
        let ctx = self.ctx;
        let table = &ctx.table;
        let mut writer = RollingFileWriter::new(
            &ctx.layout,
            &ctx.namer,
            &table.options.data_file_prefix,
            self.output,
            1,
        );
        for runs in sections {
            ctx.cancel.check()?;
            let bytes: u64 = runs
                .iter()
                .flatten()
                .map(|f| f.file_size.max(0) as u64)
                .sum();
            let rows: u64 = runs
                .iter()
                .flatten()
                .map(|f| f.row_count.max(0) as u64)
                .sum();
            out.bytes_read += bytes;
            out.before.extend(runs.iter().flatten().cloned());
            let mut temps = vec![];
            let runs = self.reduce_fan_in(runs, &mut temps, out).await?;
            let mut stream = merge_runs(
                table,
                BucketRuns {
                    partition: self.levels.partition.clone(),
                    bucket: self.levels.bucket,
                    runs,
                    deletion_vectors: self.read_dvs.clone(),
                },
                self.drop_delete,
                ctx.batch_size,
            )
            .await?;
            let mut reported = 0u64;
            while let Some(batch) = stream.try_next().await? {
                ctx.cancel.check()?;
                let batch = match &self.existing {
                    Some(existing) => existing.lock().await.retain_new(batch).await?,
                    None => batch,
                };
                writer.write(&self.physical(&batch)?, 0)?;
                self.upload(&mut writer.finished, out).await?;
                if let Some(p) = &self.progress {
                    let step =
                        (batch.num_rows() as u64 * bytes / rows.max(1)).min(bytes - reported);
                    reported += step;
                    p.advance(step);
                }
            }
            if let Some(p) = &self.progress {
                p.advance(bytes - reported);
            }
            drop(stream);
            for t in temps {
                table.io.delete(&t).await?;
            }
        }
        let mut rest = writer.finish()?;
        self.upload(&mut rest, out).await
    }

    /// Rewrites the picked runs (holding level-0 files) of a deletion-vector table into the
    /// output level: each key's merged record is written unless it is a retraction, and the
    /// key's live row in the levels above the output is marked deleted in `dvs`. Deduplicate
    /// tables without `sequence.field` take the newest record of the picked runs (level-0
    /// records are newer than anything above); other merge engines merge the higher row in,
    /// as Paimon's lookup compaction does.
    async fn lookup_rewrite(
        &self,
        picked: Vec<Vec<DataFileMeta>>,
        higher: Vec<Vec<DataFileMeta>>,
        dvs: &mut BucketDvs,
        out: &mut CompactResult,
    ) -> Result<()> {
        let ctx = self.ctx;
        let table = &ctx.table;
        let bytes: u64 = picked
            .iter()
            .flatten()
            .map(|f| f.file_size.max(0) as u64)
            .sum();
        out.bytes_read += bytes;
        out.before.extend(picked.iter().flatten().cloned());
        let mut temps = vec![];
        let picked = self.reduce_fan_in(picked, &mut temps, out).await?;
        let runs_of = |runs: Vec<Vec<DataFileMeta>>| BucketRuns {
            partition: self.levels.partition.clone(),
            bucket: self.levels.bucket,
            runs,
            deletion_vectors: self.read_dvs.clone(),
        };
        let newest_wins = table.options.merge_engine == MergeEngine::Deduplicate
            && table.options.sequence_fields.is_empty();
        let mut merged = match newest_wins {
            true => None,
            false => {
                let all = picked.iter().chain(higher.iter()).cloned().collect();
                let stream = merge_runs(table, runs_of(all), false, ctx.batch_size).await?;
                Some(Cursor::new(stream))
            }
        };
        let mut delta = merge_runs(table, runs_of(picked), false, ctx.batch_size).await?;
        let mut positions =
            HigherPositions::new(table, self.dir.clone(), higher, ctx.batch_size).await?;
        let conv = key_converter(&ctx.layout)?;
        let nk = ctx.layout.key_fields.len();
        let mut writer = RollingFileWriter::new(
            &ctx.layout,
            &ctx.namer,
            &table.options.data_file_prefix,
            self.output,
            1,
        );
        while let Some(batch) = delta.try_next().await? {
            ctx.cancel.check()?;
            let keys = conv
                .convert_columns(&batch.columns()[..nk])
                .map_err(|e| Error::arrow("encoding keys", e))?;
            let mut keep = Vec::with_capacity(batch.num_rows());
            let mut rows = vec![];
            for i in 0..batch.num_rows() {
                let key = keys.row(i);
                for (file, position) in positions.find(&conv, key, dvs).await? {
                    dvs.delete(&file, position);
                }
                match &mut merged {
                    None => keep.push(is_add(&batch, nk + 1, i)),
                    Some(m) => {
                        if let Some(row) = m.seek(&conv, nk, &key.owned()).await? {
                            if is_add(&row, nk + 1, 0) {
                                rows.push(row);
                            }
                        }
                    }
                }
            }
            let batch = match merged {
                None => filter_record_batch(&batch, &BooleanArray::from(keep))
                    .map_err(|e| Error::arrow("dropping retractions", e))?,
                Some(_) if rows.is_empty() => continue,
                Some(_) => concat_batches(&rows[0].schema(), &rows)
                    .map_err(|e| Error::arrow("assembling merged rows", e))?,
            };
            if batch.num_rows() > 0 {
                writer.write(&self.physical(&batch)?, 0)?;
                self.upload(&mut writer.finished, out).await?;
            }
        }
        if let Some(p) = &self.progress {
            p.advance(bytes);
        }
        drop(delta);
        drop(merged);
        for t in temps {
            table.io.delete(&t).await?;
        }
        let mut rest = writer.finish()?;
        self.upload(&mut rest, out).await
    }

    /// A merged batch in the data file layout.
    fn physical(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        RecordBatch::try_new(self.ctx.layout.schema.clone(), batch.columns().to_vec()).map_err(
            |e| {
                Error::arrow(
                    format!(
                        "compacting bucket {} of {}",
                        self.levels.bucket, self.ctx.table.name
                    ),
                    e,
                )
            },
        )
    }

    /// Bounds the merge fan-in: while a section has more than [`MAX_FAN_IN`] runs, groups of
    /// runs are merged (keeping retractions) into temporary files that replace them. Every run
    /// holds a Parquet row group and a few batches in memory during a merge, so this keeps
    /// memory bounded however many runs a write-only table piled up. The temporary files
    /// (listed in `temps`) are never committed; the caller deletes them.
    async fn reduce_fan_in(
        &self,
        mut runs: Vec<Vec<DataFileMeta>>,
        temps: &mut Vec<Path>,
        out: &mut CompactResult,
    ) -> Result<Vec<Vec<DataFileMeta>>> {
        let ctx = self.ctx;
        let table = &ctx.table;
        while runs.len() > MAX_FAN_IN {
            let mut next = vec![];
            for chunk in runs.chunks(MAX_FAN_IN) {
                if chunk.len() == 1 {
                    next.push(chunk[0].clone());
                    continue;
                }
                let mut writer = RollingFileWriter::new(
                    &ctx.layout,
                    &ctx.namer,
                    &table.options.data_file_prefix,
                    0,
                    1,
                );
                let input = BucketRuns {
                    partition: self.levels.partition.clone(),
                    bucket: self.levels.bucket,
                    runs: chunk.to_vec(),
                    deletion_vectors: self.read_dvs.clone(),
                };
                let mut stream = merge_runs(table, input, false, ctx.batch_size).await?;
                let mut files = vec![];
                while let Some(batch) = stream.try_next().await? {
                    ctx.cancel.check()?;
                    writer.write(&self.physical(&batch)?, 0)?;
                    self.upload_temp(&mut writer.finished, &mut files, temps, out)
                        .await?;
                }
                let mut rest = writer.finish()?;
                self.upload_temp(&mut rest, &mut files, temps, out).await?;
                next.push(files);
            }
            runs = next;
        }
        Ok(runs)
    }

    async fn upload_temp(
        &self,
        finished: &mut Vec<FinishedFile>,
        files: &mut Vec<DataFileMeta>,
        temps: &mut Vec<Path>,
        out: &mut CompactResult,
    ) -> Result<()> {
        for f in finished.drain(..) {
            let path = self.dir.clone().join(f.meta.file_name.as_str());
            // Listed as written so that a failed attempt removes it too.
            out.written.push(path.clone());
            temps.push(path.clone());
            self.ctx.table.io.write(&path, f.bytes).await?;
            files.push(f.meta);
        }
        Ok(())
    }

    async fn upload(&self, files: &mut Vec<FinishedFile>, out: &mut CompactResult) -> Result<()> {
        for f in files.drain(..) {
            let path = self.dir.clone().join(f.meta.file_name.as_str());
            out.written.push(path.clone());
            out.bytes_written += f.bytes.len() as u64;
            self.ctx.table.io.write(&path, f.bytes).await?;
            out.after.push(f.meta);
        }
        Ok(())
    }
}
