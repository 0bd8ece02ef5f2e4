//! Deletion vectors written by compaction (`deletion-vectors.enabled`, merge-on-write).
//!
//! A deletion-vector table keeps each key at most once across levels ≥ 1 once the vectors
//! apply, so batch reads skip level 0 and concatenate the other files without merging. When a
//! compaction moves level-0 rows up, the rows they supersede in the levels above the output
//! (which the compaction does not rewrite) are marked deleted in those files' vectors, as
//! Paimon's lookup compaction does. Files a compaction rewrites lose their vectors (their live
//! rows were merged into the output); upgraded files keep theirs.
//!
//! [`BucketDvs`] holds a bucket's vectors from the snapshot the compaction started from, the
//! new deletions, and turns them into the bucket's new index file (one per bucket, replacing
//! the previous one in the index manifest of the COMPACT snapshot). [`HigherPositions`] finds
//! where a key lives in the untouched higher levels.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use arrow::array::{Array, Int8Array, RecordBatch};
use arrow::row::{Row, RowConverter, Rows};
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use streamhouse_format::dv::{encode_index_file, RoaringBitmap};
use streamhouse_format::io::index_manifest::DELETION_VECTORS_INDEX;
use streamhouse_format::io::Table;
use streamhouse_format::manifest::{DataFileMeta, FileKind, IndexManifestEntry};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::{Error, Result};
use streamhouse_reader::dv::{read_index_file, DeletionVector};
use streamhouse_reader::file_reader::{read_file, ScanContext};
use streamhouse_reader::plan::DeletionFile;
use streamhouse_reader::sections::sections;

use crate::levels::Levels;

/// The deletion vectors of one bucket during a compaction.
#[derive(Debug, Default)]
pub struct BucketDvs {
    /// The bucket's live DELETION_VECTORS index entry when the compaction started.
    entry: Option<IndexManifestEntry>,
    /// Deleted positions by data file, as of the start.
    start: BTreeMap<String, RoaringBitmap>,
    /// `start` plus the compaction's new deletions.
    vectors: BTreeMap<String, RoaringBitmap>,
    /// `start` as the reader applies it.
    read: HashMap<String, Arc<DeletionVector>>,
}

impl BucketDvs {
    /// The vectors of the bucket in the index manifest the levels were read with (none for
    /// tables without deletion vectors).
    pub async fn load(table: &Table, levels: &Levels) -> Result<Self> {
        let mut out = BucketDvs::default();
        let Some(name) = levels
            .index_manifest
            .as_deref()
            .filter(|_| table.options.deletion_vectors)
        else {
            return Ok(out);
        };
        let entry = table
            .read_index_manifest(name)
            .await?
            .into_iter()
            .find(|e| {
                e.index_type == DELETION_VECTORS_INDEX
                    && e.kind == FileKind::Add
                    && e.partition == levels.partition
                    && e.bucket == levels.bucket
            });
        let Some(entry) = entry else {
            return Ok(out);
        };
        let index_file = index_file_path(table, levels, &entry.file_name)?;
        let first = DeletionFile {
            index_file,
            external_path: entry.external_path.clone(),
            offset: 0,
            length: 0,
            cardinality: None,
        };
        let (display, bytes) = read_index_file(&table.io, &first).await?;
        for r in entry.dv_ranges.iter().flatten() {
            let dv = DeletionVector::parse(&bytes, r.offset as i64, r.length as i64, &display)?;
            let mut bitmap = RoaringBitmap::new();
            for &p in dv.positions() {
                let p = u32::try_from(p).map_err(|_| {
                    Error::unsupported(format!(
                        "deletion vector of {} in {display} holds position {p} (64-bit vectors are read, not rewritten)",
                        r.data_file_name
                    ))
                })?;
                bitmap.insert(p);
            }
            out.read.insert(r.data_file_name.clone(), Arc::new(dv));
            out.start.insert(r.data_file_name.clone(), bitmap);
        }
        out.vectors = out.start.clone();
        out.entry = Some(entry);
        Ok(out)
    }

    /// The vectors as of the start, for reading the bucket's files.
    pub fn for_reading(&self) -> HashMap<String, Arc<DeletionVector>> {
        self.read.clone()
    }

    /// Whether `position` of `file` was deleted when the compaction started.
    fn deleted_at_start(&self, file: &str, position: u32) -> bool {
        self.start.get(file).is_some_and(|b| b.contains(position))
    }

    /// Marks a row of a data file deleted.
    pub fn delete(&mut self, file: &str, position: u32) {
        self.vectors
            .entry(file.to_string())
            .or_default()
            .insert(position);
    }

    /// Writes the bucket's new index file and returns the index changes of the COMPACT commit
    /// (DELETE of the old file, ADD of the new one), or none when the vectors did not change.
    /// Files the compaction removed (in `before` and not kept by name in `after`) lose their
    /// vectors. The written path goes to `written`.
    pub async fn finish(
        mut self,
        table: &Table,
        levels: &Levels,
        before: &[DataFileMeta],
        after: &[DataFileMeta],
        written: &mut Vec<Path>,
    ) -> Result<Vec<IndexManifestEntry>> {
        let kept: HashSet<&str> = after.iter().map(|f| f.file_name.as_str()).collect();
        for f in before {
            if !kept.contains(f.file_name.as_str()) {
                self.vectors.remove(&f.file_name);
            }
        }
        self.vectors.retain(|_, b| !b.is_empty());
        if self.vectors == self.start {
            return Ok(vec![]);
        }
        let mut changes = vec![];
        if let Some(old) = &self.entry {
            changes.push(IndexManifestEntry {
                kind: FileKind::Delete,
                ..old.clone()
            });
        }
        if self.vectors.is_empty() {
            return Ok(changes);
        }
        let file = encode_index_file(self.vectors.iter().map(|(n, b)| (n.as_str(), b)))?;
        let name = format!("index-{}-0", uuid::Uuid::new_v4());
        let path = index_file_path(table, levels, &name)?;
        let size = file.bytes.len() as i64;
        written.push(path.clone());
        table
            .io
            .write(&path, bytes::Bytes::from(file.bytes))
            .await?;
        changes.push(IndexManifestEntry {
            kind: FileKind::Add,
            partition: levels.partition.clone(),
            bucket: levels.bucket,
            index_type: DELETION_VECTORS_INDEX.to_string(),
            file_name: name,
            file_size: size,
            row_count: file.ranges.len() as i64,
            dv_ranges: Some(file.ranges),
            external_path: None,
        });
        Ok(changes)
    }
}

/// Where the bucket's index files live: `index/`, or the bucket directory with
/// `index-file-in-data-file-dir`.
fn index_file_path(table: &Table, levels: &Levels, name: &str) -> Result<Path> {
    Ok(if table.options.index_file_in_data_file_dir {
        table
            .bucket_dir(&table.partition_dir(&levels.partition)?, levels.bucket)
            .join(name)
    } else {
        table.index_path(name)
    })
}

/// Finds the live rows of keys in the levels a compaction leaves untouched: one forward
/// cursor per level over its files in key order, reading only key and kind columns. Keys must
/// be asked in ascending order.
pub struct HigherPositions {
    levels: Vec<LevelCursor>,
}

impl HigherPositions {
    /// Cursors over `higher` (one entry per level ≥ 1, each a level's files).
    pub async fn new(
        table: &Table,
        bucket_dir: Path,
        higher: Vec<Vec<DataFileMeta>>,
        batch_size: usize,
    ) -> Result<Self> {
        let mut schemas: HashMap<i64, Arc<TableSchema>> = HashMap::new();
        schemas.insert(table.schema.id, table.schema.clone());
        for f in higher.iter().flatten() {
            if let std::collections::hash_map::Entry::Vacant(e) = schemas.entry(f.schema_id) {
                e.insert(Arc::new(table.schema_by_id(f.schema_id).await?));
            }
        }
        // Keys, sequence number and kind only.
        let ctx = Arc::new(ScanContext::new(table.clone(), schemas, &[], batch_size)?);
        let levels = higher
            .into_iter()
            .map(|files| {
                let ordered: VecDeque<DataFileMeta> = sections(&ctx, &files)
                    .into_iter()
                    .flat_map(|s| s.runs.into_iter().flatten())
                    .collect();
                LevelCursor {
                    ctx: ctx.clone(),
                    dir: bucket_dir.clone(),
                    files: ordered,
                    file: None,
                }
            })
            .collect();
        Ok(HigherPositions { levels })
    }

    /// The live rows holding `key` (rows deleted at the start or retractions are not live):
    /// (data file, position) per level that holds it.
    pub async fn find(
        &mut self,
        conv: &RowConverter,
        key: Row<'_>,
        dvs: &BucketDvs,
    ) -> Result<Vec<(String, u32)>> {
        let mut out = vec![];
        for level in &mut self.levels {
            if let Some(hit) = level.seek(conv, key, dvs).await? {
                out.push(hit);
            }
        }
        Ok(out)
    }
}

struct LevelCursor {
    ctx: Arc<ScanContext>,
    dir: Path,
    /// Files not opened yet, in key order.
    files: VecDeque<DataFileMeta>,
    file: Option<FileCursor>,
}

struct FileCursor {
    name: String,
    stream: BoxStream<'static, Result<RecordBatch>>,
    /// The current batch: encoded keys and kinds.
    batch: Option<(Rows, Int8Array)>,
    /// Row of the current batch.
    pos: usize,
    /// Position in the file of the current batch's first row.
    base: u64,
    /// Rows of the file before the current batch ends.
    end: u64,
}

impl LevelCursor {
    async fn seek(
        &mut self,
        conv: &RowConverter,
        key: Row<'_>,
        dvs: &BucketDvs,
    ) -> Result<Option<(String, u32)>> {
        loop {
            if self.file.is_none() {
                let Some(f) = self.files.pop_front() else {
                    return Ok(None);
                };
                let stream = read_file(&self.ctx, &self.dir, &f, None).await?;
                self.file = Some(FileCursor {
                    name: f.file_name.clone(),
                    stream,
                    batch: None,
                    pos: 0,
                    base: 0,
                    end: 0,
                });
            }
            let file = self.file.as_mut().expect("opened");
            let nk = self.ctx.key_fields.len();
            match file.seek(conv, nk, key).await? {
                Seek::Found(pos, kind) => {
                    let position = u32::try_from(pos).map_err(|_| {
                        Error::unsupported(format!(
                            "data file {} has more than 2^32 rows",
                            file.name
                        ))
                    })?;
                    let live =
                        !matches!(kind, 1 | 3) && !dvs.deleted_at_start(&file.name, position);
                    return Ok(live.then(|| (file.name.clone(), position)));
                }
                Seek::Beyond => return Ok(None),
                Seek::Exhausted => self.file = None,
            }
        }
    }
}

enum Seek {
    /// The key is at this position (with this row kind).
    Found(u64, i8),
    /// The file's next key is greater.
    Beyond,
    /// Every key of the file is smaller.
    Exhausted,
}

impl FileCursor {
    async fn seek(&mut self, conv: &RowConverter, nk: usize, key: Row<'_>) -> Result<Seek> {
        loop {
            if let Some((rows, kinds)) = &self.batch {
                while self.pos < rows.num_rows() {
                    match rows.row(self.pos).cmp(&key) {
                        std::cmp::Ordering::Less => self.pos += 1,
                        std::cmp::Ordering::Equal => {
                            let kind = if kinds.is_null(self.pos) {
                                0
                            } else {
                                kinds.value(self.pos)
                            };
                            return Ok(Seek::Found(self.base + self.pos as u64, kind));
                        }
                        std::cmp::Ordering::Greater => return Ok(Seek::Beyond),
                    }
                }
            }
            let Some(batch) = self.stream.next().await else {
                return Ok(Seek::Exhausted);
            };
            let batch = batch?;
            let rows = conv
                .convert_columns(&batch.columns()[..nk])
                .map_err(|e| Error::arrow("encoding keys of higher levels", e))?;
            let kinds = batch
                .column(nk + 1)
                .as_any()
                .downcast_ref::<Int8Array>()
                .cloned()
                .ok_or_else(|| Error::internal("the value-kind column is not Int8"))?;
            self.base = self.end;
            self.end += batch.num_rows() as u64;
            self.batch = Some((rows, kinds));
            self.pos = 0;
        }
    }
}
