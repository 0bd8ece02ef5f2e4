//! The changes of one snapshot: which files hold them (Paimon's follow-up scanners) and
//! reading those files, unmerged, into [`ChangeBatch`]es that keep each row's kind.
//!
//! * Append tables, and primary-key tables with `changelog-producer = none`: the ADD entries
//!   of the delta list of **APPEND** snapshots (Java `DeltaFollowUpScanner`); COMPACT,
//!   OVERWRITE and ANALYZE snapshots carry no new changes and are skipped.
//! * `input`, `lookup`, `full-compaction`: the changelog list of **every** snapshot that has
//!   one, whatever its kind (Java `ChangelogFollowUpScanner`): `input` changelog comes with
//!   APPEND snapshots, `lookup` / `full-compaction` changelog with COMPACT snapshots.
//!
//! Files are read as Java reads streaming splits: concatenated in manifest order, with
//! retractions kept and no merging, so every stored record is one change.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, Int8Array, RecordBatch};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use streamhouse_format::io::Table;
use streamhouse_format::manifest::{FileKind, ManifestEntry};
use streamhouse_format::options::ChangelogProducer;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::snapshot::{CommitKind, Snapshot};
use streamhouse_format::{Error, Result};

use super::ChangeBatch;
use crate::file_reader::{read_file, ScanContext};
use crate::split_reader::prefetch;

/// Batches each file reads ahead of the feed (in its own task).
const FILE_PREFETCH: usize = 2;

/// Where a table's changes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSource {
    /// Delta lists of APPEND snapshots.
    Delta,
    /// Changelog lists of snapshots of any kind.
    Changelog,
}

impl ChangeSource {
    /// The source Paimon's streaming read uses for this table.
    pub fn of(table: &Table) -> Self {
        if !table.is_primary_key_table() {
            return ChangeSource::Delta;
        }
        match table.options.changelog_producer {
            ChangelogProducer::None => ChangeSource::Delta,
            ChangelogProducer::Input
            | ChangelogProducer::Lookup
            | ChangelogProducer::FullCompaction => ChangeSource::Changelog,
        }
    }
}

/// The files holding a snapshot's changes, or `None` when the feed skips the snapshot.
pub async fn change_files(
    table: &Table,
    snapshot: &Snapshot,
    source: ChangeSource,
) -> Result<Option<Vec<ManifestEntry>>> {
    let entries = match source {
        ChangeSource::Delta => match snapshot.commit_kind {
            CommitKind::Append => table.delta_entries(snapshot).await?,
            CommitKind::Overwrite if reads_overwrite(table) => {
                return Err(Error::unsupported(format!(
                    "table {} has streaming-read-overwrite = true; streaming the changes of OVERWRITE snapshot {} is not supported",
                    table.name, snapshot.id
                )))
            }
            _ => return Ok(None),
        },
        ChangeSource::Changelog => {
            if snapshot.changelog_manifest_list.is_none() {
                return Ok(None);
            }
            table.changelog_files(snapshot).await?
        }
    };
    Ok(Some(
        entries
            .into_iter()
            .filter(|e| e.kind == FileKind::Add)
            .collect(),
    ))
}

fn reads_overwrite(table: &Table) -> bool {
    table.options.streaming_read_overwrite
}

/// Reads change files into [`ChangeBatch`]es, caching schemas and partition directories
/// across snapshots.
pub struct ChangeReader {
    table: Table,
    projection: Vec<String>,
    batch_size: usize,
    concurrency: usize,
    schemas: HashMap<i64, Arc<TableSchema>>,
    ctx: Option<Arc<ScanContext>>,
    partition_dirs: HashMap<Vec<u8>, String>,
}

impl ChangeReader {
    pub fn new(
        table: Table,
        projection: Vec<String>,
        batch_size: usize,
        concurrency: usize,
    ) -> Result<Self> {
        let mut schemas = HashMap::new();
        schemas.insert(table.schema.id, table.schema.clone());
        let mut reader = ChangeReader {
            table,
            projection,
            batch_size: batch_size.max(1),
            concurrency: concurrency.max(1),
            schemas,
            ctx: None,
            partition_dirs: HashMap::new(),
        };
        reader.context()?;
        Ok(reader)
    }

    /// The scan context, rebuilt when a file brought a schema not seen before.
    fn context(&mut self) -> Result<Arc<ScanContext>> {
        if let Some(ctx) = &self.ctx {
            return Ok(ctx.clone());
        }
        let ctx = Arc::new(ScanContext::new(
            self.table.clone(),
            self.schemas.clone(),
            &self.projection,
            self.batch_size,
        )?);
        self.ctx = Some(ctx.clone());
        Ok(ctx)
    }

    /// The Arrow schema of the change rows.
    pub fn output_schema(&self) -> arrow::datatypes::SchemaRef {
        match &self.ctx {
            Some(ctx) => ctx.output_schema.clone(),
            None => Arc::new(arrow::datatypes::Schema::empty()),
        }
    }

    /// Streams the rows of `files` (changes of snapshot `snapshot_id`) in order.
    pub async fn read(
        &mut self,
        snapshot_id: i64,
        files: Vec<ManifestEntry>,
    ) -> Result<BoxStream<'static, Result<ChangeBatch>>> {
        for f in &files {
            if let std::collections::hash_map::Entry::Vacant(e) =
                self.schemas.entry(f.file.schema_id)
            {
                e.insert(Arc::new(self.table.schema_by_id(f.file.schema_id).await?));
                self.ctx = None;
            }
        }
        let ctx = self.context()?;
        let mut located = Vec::with_capacity(files.len());
        for f in files {
            let dir = match self.partition_dirs.get(&f.partition) {
                Some(d) => d.clone(),
                None => {
                    let d = self.table.partition_dir(&f.partition)?;
                    self.partition_dirs.insert(f.partition.clone(), d.clone());
                    d
                }
            };
            located.push((self.table.bucket_dir(&dir, f.bucket), f.file));
        }
        let convert_ctx = ctx.clone();
        let stream = futures::stream::iter(located)
            .map(move |(dir, file)| {
                let ctx = ctx.clone();
                async move {
                    let s = read_file(&ctx, &dir, &file, None).await?;
                    Ok::<_, Error>(prefetch(s, FILE_PREFETCH))
                }
            })
            .buffered(self.concurrency)
            .try_flatten()
            .and_then(move |batch| {
                futures::future::ready(to_change_batch(&convert_ctx, snapshot_id, &batch))
            })
            .boxed();
        Ok(stream)
    }
}

/// An internal-layout batch as changes: `_VALUE_KIND` (validated by the file reader) for
/// primary-key tables, `+I` for append tables.
fn to_change_batch(
    ctx: &ScanContext,
    snapshot_id: i64,
    batch: &RecordBatch,
) -> Result<ChangeBatch> {
    let kinds = if ctx.primary_key {
        batch
            .column(ctx.kind_index())
            .as_any()
            .downcast_ref::<Int8Array>()
            .cloned()
            .ok_or_else(|| Error::Internal("_VALUE_KIND is not TINYINT".into()))?
    } else {
        Int8Array::from(vec![0i8; batch.num_rows()])
    };
    debug_assert_eq!(kinds.null_count(), 0);
    Ok(ChangeBatch {
        snapshot_id,
        kinds,
        rows: ctx.to_output(batch)?,
    })
}

/// The rows of snapshot `snapshot_id` as `+I` changes: the starting scan of `latest-full`.
///
/// As Java's streaming starting scan, tables whose changelog comes from compaction read only
/// the files that compaction already produced changelog for — `lookup`: levels above 0,
/// `full-compaction`: the top level — so that no row is delivered again by a later COMPACT
/// snapshot's changelog.
pub async fn full_scan(
    table: &Table,
    snapshot_id: i64,
    projection: Vec<String>,
    batch_size: usize,
) -> Result<BoxStream<'static, Result<ChangeBatch>>> {
    let builder = crate::ScanBuilder::new(table)
        .snapshot(snapshot_id)
        .projection(projection)
        .batch_size(batch_size);
    let mut plan = builder.plan().await?;
    let keep: Option<Box<dyn Fn(i32) -> bool + Send + Sync>> =
        match table.options.changelog_producer {
            _ if !table.is_primary_key_table() => None,
            ChangelogProducer::Lookup => Some(Box::new(|level| level > 0)),
            ChangelogProducer::FullCompaction => {
                let top = table.options.num_levels.max(1) as i32 - 1;
                Some(Box::new(move |level| level == top))
            }
            ChangelogProducer::None | ChangelogProducer::Input => None,
        };
    if let Some(keep) = keep {
        for split in &mut plan.splits {
            split.files.retain(|f| keep(f.level));
        }
        plan.splits.retain(|s| !s.files.is_empty());
    }
    let stream = builder.execute_plan(plan).await?;
    Ok(stream
        .map_ok(move |rows| ChangeBatch {
            snapshot_id,
            kinds: Int8Array::from(vec![0i8; rows.num_rows()]),
            rows,
        })
        .boxed())
}
