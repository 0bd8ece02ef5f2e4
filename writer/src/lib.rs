//! # streamhouse-writer
//!
//! Arrow record batches in, Paimon data files and commits out.
//!
//! - [`TableWriter`] routes each row to its (partition, bucket), buffers rows per bucket with
//!   their sequence numbers and row kinds, flushes sorted level-0 files when the buffers
//!   exceed `write-buffer-size`, and commits through the table's one commit path.
//! - [`conform_batch`] fits an input batch (any column order, castable types) to the table.
//! - [`file_writer`] is the Parquet file writer, shared with compaction.
//! - `dynamic_bucket` assigns the keys of `bucket = -1` primary-key tables to buckets and
//!   writes their HASH index files (one writer per such table at a time).

pub mod buffer;
pub mod conform;
mod dynamic_bucket;
pub mod file_writer;
pub mod parquet_file;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, Int8Array, RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::io::{CommitMessage, Committer, Table};
use streamhouse_format::manifest::{DataFileMeta, IndexManifestEntry};
use streamhouse_format::route::{bucket_key_names, PartitionNumbers, RowColumns};
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::{Error, Result};

use buffer::{BucketBuffer, FlushContext, Flushed, Pending};
pub use conform::conform_batch;
use file_writer::{FileLayout, FileNamer};

/// A bucket: its serialized partition row and bucket number.
type BucketKey = (Vec<u8>, i32);

/// Row kinds taken from the `rowkind.field` column (`+I`, `-U`, `+U`, `-D`); a null or any
/// other value is an error naming the row.
fn kinds_from_column(batch: &RecordBatch, field: &str) -> Result<Int8Array> {
    let col = batch.column_by_name(field).ok_or_else(|| {
        Error::invalid(format!(
            "option rowkind.field names {field:?}, which is not a column of the table"
        ))
    })?;
    let strings = col
        .as_any()
        .downcast_ref::<arrow::array::StringArray>()
        .ok_or_else(|| {
            Error::invalid(format!(
                "rowkind.field column {field:?} must be a string column, not {}",
                col.data_type()
            ))
        })?;
    let mut out = Vec::with_capacity(strings.len());
    for (row, v) in strings.iter().enumerate() {
        let kind = v.ok_or_else(|| {
            Error::input_at(
                format!("row {}", row + 1),
                format!("rowkind.field column {field:?} is null"),
            )
        })?;
        let kind = RowKind::parse(kind).map_err(|e| {
            Error::input_at(format!("row {}", row + 1), format!("column {field:?}: {e}"))
        })?;
        out.push(kind as i8);
    }
    Ok(Int8Array::from(out))
}

/// What a commit wrote.
#[derive(Debug, Clone, Default)]
pub struct WriteSummary {
    pub rows: u64,
    pub files: usize,
    pub bytes: u64,
    /// Snapshots created (an APPEND, and a COMPACT when compaction ran).
    pub snapshot_ids: Vec<i64>,
    /// (partition, bucket, number of new files) of every bucket that received files in this
    /// commit (for compaction: each new file is one more level-0 sorted run).
    pub buckets: Vec<(Vec<u8>, i32, usize)>,
}

struct BucketState {
    partition: Vec<u8>,
    partition_path: String,
    bucket: i32,
    next_seq: i64,
    buffer: BucketBuffer,
    pending: Pending,
}

/// Writes rows into one table. Not shared between tasks; one writer per table per process is
/// the intended use (Paimon's single-writer-per-bucket model).
pub struct TableWriter {
    table: Table,
    ctx: Arc<FlushContext>,
    committer: Committer,
    next_identifier: i64,
    buckets: HashMap<(Vec<u8>, i32), BucketState>,
    /// Next sequence number per (partition, bucket) from the latest snapshot; loaded lazily.
    restored: Option<HashMap<(Vec<u8>, i32), i64>>,
    memory: usize,
    partition: RowColumns,
    bucket_key: RowColumns,
    num_buckets: i32,
    /// The bucket assigner of a dynamic-bucket (`bucket = -1`) primary-key table.
    dynamic: Option<dynamic_bucket::DynamicBuckets>,
    /// Files uploaded since the last commit (deleted by `abort`).
    uploaded: Vec<Path>,
    commit_attempted: bool,
    rows_since_commit: u64,
}

impl TableWriter {
    /// A writer with a fresh commit user.
    pub async fn new(table: Table) -> Result<Self> {
        let user = uuid::Uuid::new_v4().to_string();
        let mut w = Self::with_commit_user(table, user.clone())?;
        // A generated user has no earlier snapshots for the committer to look for.
        w.committer = Committer::with_fresh_user(w.table.clone(), user)?;
        Ok(w)
    }

    pub fn with_commit_user(table: Table, commit_user: String) -> Result<Self> {
        let schema = table.schema.clone();
        let options = table.options.clone();
        let primary_key = !schema.primary_keys.is_empty();
        let num_buckets = options.bucket;
        if primary_key && num_buckets <= 0 && num_buckets != -1 {
            return Err(Error::unsupported(format!(
                "writing primary-key table {} with bucket = {num_buckets} (postpone bucket mode); set the option bucket to a fixed number of buckets or -1",
                table.name
            )));
        }
        let dynamic = match primary_key && num_buckets == -1 {
            true => Some(dynamic_bucket::DynamicBuckets::new(&table)?),
            false => None,
        };
        let bucket_key_names = bucket_key_names(&schema, &options);
        if !primary_key && num_buckets > 0 && options.bucket_key.is_empty() {
            return Err(Error::invalid(format!(
                "append table {} has bucket = {num_buckets} but no bucket-key option",
                table.name
            )));
        }
        let ctx = FlushContext {
            layout: FileLayout::new(&schema, &options)?,
            namer: FileNamer::new(),
            options: options.clone(),
            schema: schema.clone(),
            key_indices: schema.indices_of(&schema.trimmed_primary_keys())?,
            sequence_indices: schema.indices_of(&options.sequence_fields)?,
        };
        Ok(TableWriter {
            committer: Committer::new(table.clone(), commit_user)?,
            ctx: Arc::new(ctx),
            next_identifier: 0,
            buckets: HashMap::new(),
            restored: None,
            memory: 0,
            partition: RowColumns::new(&schema, schema.partition_keys.clone())?,
            bucket_key: RowColumns::new(&schema, bucket_key_names)?,
            num_buckets,
            dynamic,
            uploaded: vec![],
            commit_attempted: false,
            rows_since_commit: 0,
            table,
        })
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Writes rows as inserts. Columns are matched to the table's by name (see [`conform_batch`]).
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.write_inner(batch, None).await
    }

    /// Writes rows with a row kind each (`-U`/`-D` retract, `+I`/`+U` upsert).
    pub async fn write_with_kinds(&mut self, batch: &RecordBatch, kinds: &[RowKind]) -> Result<()> {
        if kinds.len() != batch.num_rows() {
            return Err(Error::input(format!(
                "{} row kinds for {} rows",
                kinds.len(),
                batch.num_rows()
            )));
        }
        if !self.ctx.layout.primary_key {
            if let Some(i) = kinds.iter().position(|k| *k != RowKind::Insert) {
                return Err(Error::input_at(
                    format!("row {}", i + 1),
                    format!(
                        "append table {} takes only inserts (+I), got {}",
                        self.table.name, kinds[i]
                    ),
                ));
            }
            return self.write_inner(batch, None).await;
        }
        let kinds = Int8Array::from(kinds.iter().map(|k| *k as i8).collect::<Vec<_>>());
        self.write_inner(batch, Some(kinds)).await
    }

    async fn write_inner(&mut self, batch: &RecordBatch, kinds: Option<Int8Array>) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = conform::with_table_schema(&self.table.schema, batch)?;
        let kinds = match &self.table.options.rowkind_field {
            Some(field) if self.ctx.layout.primary_key => Some(kinds_from_column(&batch, field)?),
            _ => kinds,
        };
        if self.restored.is_none() {
            self.restored = Some(self.restore_sequences().await?);
        }
        let routes = match &mut self.dynamic {
            Some(d) => d.route(&batch).await?,
            None => self.route(&batch)?,
        };
        for (partition, bucket, rows) in routes {
            let (part_batch, part_kinds) = match &rows {
                None => (batch.clone(), kinds.clone()),
                Some(idx) => (
                    take_record_batch(&batch, idx)?,
                    match &kinds {
                        Some(k) => Some(
                            arrow::compute::take(k, idx, None)?
                                .as_any()
                                .downcast_ref::<Int8Array>()
                                .cloned()
                                .ok_or_else(|| Error::internal("row kinds"))?,
                        ),
                        None => None,
                    },
                ),
            };
            let state = self.bucket_state(partition, bucket)?;
            let n = part_batch.num_rows() as i64;
            let before = state.buffer.memory;
            state.buffer.push(part_batch, part_kinds, state.next_seq);
            state.next_seq += n;
            self.memory += state.buffer.memory - before;
        }
        self.rows_since_commit += batch.num_rows() as u64;
        if self.memory as u64 > self.table.options.write_buffer_size {
            self.flush_until_below(self.table.options.write_buffer_size / 2)
                .await?;
        }
        Ok(())
    }

    /// Splits a batch by (partition, bucket). `None` rows means the whole batch.
    #[allow(clippy::type_complexity)]
    fn route(&self, batch: &RecordBatch) -> Result<Vec<(Vec<u8>, i32, Option<UInt32Array>)>> {
        let fixed = self.num_buckets > 0;
        if self.partition.is_empty() && (!fixed || self.num_buckets == 1) {
            return Ok(vec![(BinaryRow::empty().serialize(), 0, None)]);
        }
        let part_cols = self.partition.of(batch);
        let key_cols = self.bucket_key.of(batch);
        let mut parts = PartitionNumbers::new(self.partition.encoder(&part_cols)?);
        let mut key_enc = self.bucket_key.encoder(&key_cols)?;
        // Rows per (partition index, bucket): a vector indexed by p * buckets + bucket.
        let slots = self.num_buckets.max(1) as usize;
        let mut targets: Vec<Vec<u32>> = vec![];
        for row in 0..batch.num_rows() {
            let p = parts.of_row(row);
            let bucket = if fixed {
                key_enc.encode(row);
                key_enc.bucket(self.num_buckets)
            } else {
                0
            };
            let slot = p * slots + bucket as usize;
            if slot >= targets.len() {
                targets.resize_with(slot + 1, Vec::new);
            }
            targets[slot].push(row as u32);
        }
        let part_rows = parts.into_rows();
        Ok(dynamic_bucket::finish_routes(
            targets
                .into_iter()
                .enumerate()
                .filter(|(_, rows)| !rows.is_empty())
                .map(|(slot, rows)| {
                    let (p, b) = (slot / slots, (slot % slots) as i32);
                    (part_rows[p].clone(), b, Some(UInt32Array::from(rows)))
                })
                .collect(),
        ))
    }

    fn bucket_state(&mut self, partition: Vec<u8>, bucket: i32) -> Result<&mut BucketState> {
        let key = (partition, bucket);
        if !self.buckets.contains_key(&key) {
            let path = self.table.partition_dir(&key.0)?;
            let next_seq = self
                .restored
                .as_ref()
                .and_then(|r| r.get(&key).copied())
                .unwrap_or(0);
            self.buckets.insert(
                key.clone(),
                BucketState {
                    partition: key.0.clone(),
                    partition_path: path,
                    bucket,
                    next_seq,
                    buffer: BucketBuffer::default(),
                    pending: Pending::default(),
                },
            );
        }
        Ok(self.buckets.get_mut(&key).expect("just inserted"))
    }

    /// Sequence numbers continue per bucket across writer processes: next = max + 1.
    async fn restore_sequences(&self) -> Result<HashMap<(Vec<u8>, i32), i64>> {
        let mut out = HashMap::new();
        if let Some(snapshot) = self.table.snapshot_or_latest(None).await? {
            for e in self.table.all_live_files(&snapshot).await? {
                let next = out.entry((e.partition, e.bucket)).or_insert(0i64);
                *next = (*next).max(e.file.max_sequence_number + 1);
            }
        }
        Ok(out)
    }

    /// Flushes the largest buffers until the buffered memory is at most `limit`.
    async fn flush_until_below(&mut self, limit: u64) -> Result<()> {
        let mut by_size: Vec<((Vec<u8>, i32), usize)> = self
            .buckets
            .iter()
            .map(|(k, s)| (k.clone(), s.buffer.memory))
            .filter(|(_, m)| *m > 0)
            .collect();
        by_size.sort_by_key(|b| std::cmp::Reverse(b.1));
        let mut remaining = self.memory as u64;
        let mut chosen = vec![];
        for (k, m) in by_size {
            if remaining <= limit {
                break;
            }
            remaining -= m as u64;
            chosen.push(k);
        }
        self.flush_buckets(chosen).await
    }

    /// Flushes the given buckets concurrently (sorting and encoding on blocking threads) and
    /// uploads their files.
    async fn flush_buckets(&mut self, keys: Vec<(Vec<u8>, i32)>) -> Result<()> {
        let parallelism = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut jobs = vec![];
        for k in keys {
            let state = self.buckets.get_mut(&k).expect("known bucket");
            if state.buffer.is_empty() {
                continue;
            }
            let buffer = state.buffer.take();
            self.memory -= buffer.memory;
            let dir = self.table.bucket_dir(&state.partition_path, state.bucket);
            let ctx = self.ctx.clone();
            jobs.push((k, dir, ctx, buffer));
        }
        let io = self.table.io.clone();
        let results: Vec<(BucketKey, Flushed, Vec<Path>)> = futures::stream::iter(jobs)
            .map(|(k, dir, ctx, buffer)| {
                let io = io.clone();
                async move {
                    let flushed = tokio::task::spawn_blocking(move || buffer.flush(&ctx))
                        .await
                        .map_err(|e| Error::internal(format!("flush task failed: {e}")))??;
                    let mut paths = vec![];
                    for f in flushed.data.iter().chain(&flushed.changelog) {
                        let path = dir.clone().join(f.meta.file_name.as_str());
                        io.write(&path, f.bytes.clone()).await?;
                        paths.push(path);
                    }
                    Ok::<_, Error>((k, flushed, paths))
                }
            })
            .buffer_unordered(parallelism)
            .try_collect()
            .await?;
        for (k, flushed, paths) in results {
            self.uploaded.extend(paths);
            let state = self.buckets.get_mut(&k).expect("known bucket");
            state
                .pending
                .data
                .extend(flushed.data.into_iter().map(|f| f.meta));
            state
                .pending
                .changelog
                .extend(flushed.changelog.into_iter().map(|f| f.meta));
        }
        Ok(())
    }

    /// Flushes every buffer and returns the commit messages without committing.
    pub async fn prepare_commit(&mut self) -> Result<Vec<CommitMessage>> {
        let keys: Vec<_> = self.buckets.keys().cloned().collect();
        self.flush_buckets(keys).await?;
        let total_buckets = if self.num_buckets > 0 {
            self.num_buckets
        } else {
            -1
        };
        let mut messages = vec![];
        let mut keys: Vec<_> = self.buckets.keys().cloned().collect();
        keys.sort();
        for k in keys {
            let state = self.buckets.get_mut(&k).expect("known bucket");
            let pending = std::mem::take(&mut state.pending);
            if pending.data.is_empty() && pending.changelog.is_empty() {
                continue;
            }
            messages.push(CommitMessage {
                partition: state.partition.clone(),
                bucket: state.bucket,
                total_buckets,
                new_files: pending.data,
                changelog_files: pending.changelog,
                ..Default::default()
            });
        }
        if let Some(d) = &mut self.dynamic {
            let (changes, paths) = d.prepare_commit().await?;
            self.uploaded.extend(paths);
            attach_index_changes(&mut messages, changes, total_buckets);
        }
        Ok(messages)
    }

    /// Flushes every buffer and commits; nothing written is visible before this returns.
    /// Returns an empty summary (no snapshot) when nothing was written.
    pub async fn commit(&mut self) -> Result<WriteSummary> {
        let messages = self.prepare_commit().await?;
        let files: Vec<&DataFileMeta> = messages.iter().flat_map(|m| m.new_files.iter()).collect();
        let mut summary = WriteSummary {
            rows: self.rows_since_commit,
            files: files.len(),
            bytes: files.iter().map(|f| f.file_size as u64).sum(),
            snapshot_ids: vec![],
            buckets: messages
                .iter()
                .filter(|m| !m.new_files.is_empty())
                .map(|m| (m.partition.clone(), m.bucket, m.new_files.len()))
                .collect(),
        };
        if messages.is_empty() {
            return Ok(summary);
        }
        self.commit_attempted = true;
        // Every attempt takes a new identifier: a failed attempt's files are not retried by
        // the next commit (its rows may have landed with the answer lost), so reusing the
        // identifier would make the committer take new rows for that earlier attempt.
        let identifier = self.next_identifier;
        self.next_identifier += 1;
        let committed = match self.committer.commit(&messages, identifier).await {
            Ok(c) => c,
            Err(e) => {
                if let Some(d) = &mut self.dynamic {
                    d.forget();
                }
                return Err(e);
            }
        };
        if let Some(d) = &mut self.dynamic {
            d.committed(committed.last().map(|c| c.snapshot_id)).await;
        }
        self.uploaded.clear();
        self.commit_attempted = false;
        self.rows_since_commit = 0;
        summary.snapshot_ids = committed.iter().map(|c| c.snapshot_id).collect();
        Ok(summary)
    }

    /// Drops buffered rows and deletes files uploaded since the last commit. After a failed
    /// commit the files are kept (the commit may have landed with its answer lost); orphan
    /// cleanup removes them if it did not.
    pub async fn abort(&mut self) -> Result<()> {
        for s in self.buckets.values_mut() {
            s.buffer.take();
            s.pending = Pending::default();
        }
        self.memory = 0;
        self.rows_since_commit = 0;
        if let Some(d) = &mut self.dynamic {
            d.forget();
        }
        if !self.commit_attempted {
            for p in std::mem::take(&mut self.uploaded) {
                self.table.io.delete(&p).await?;
            }
        }
        Ok(())
    }

    /// Bytes currently buffered in memory.
    pub fn buffered_bytes(&self) -> usize {
        self.memory
    }
}

/// Puts each index change into the message of its (partition, bucket), adding a message for a
/// bucket without new files.
fn attach_index_changes(
    messages: &mut Vec<CommitMessage>,
    changes: Vec<IndexManifestEntry>,
    total_buckets: i32,
) {
    for change in changes {
        let at = messages
            .iter()
            .position(|m| m.partition == change.partition && m.bucket == change.bucket);
        let i = at.unwrap_or_else(|| {
            messages.push(CommitMessage {
                partition: change.partition.clone(),
                bucket: change.bucket,
                total_buckets,
                ..Default::default()
            });
            messages.len() - 1
        });
        messages[i].index_changes.push(change);
    }
}
