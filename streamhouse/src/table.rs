//! [`Table`]: one table of a [`Catalog`](crate::Catalog) — its schema, snapshots, files and
//! tags, and the entry points of writes, scans, lookups, tails and maintenance.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use futures::{StreamExt, TryStreamExt};
use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::io::{self, tags::Tag};
use streamhouse_format::manifest::ManifestEntry;
use streamhouse_format::options::TableOptions;
use streamhouse_format::partition::parse_partition_spec;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::snapshot::Snapshot;
use streamhouse_format::types::DataField;

use crate::catalog::Inner;
use crate::{Error, ErrorKind, Identifier, Result};

/// An open table. Cheap to clone. Its schema is the latest when it was opened.
#[derive(Clone, Debug)]
pub struct Table {
    inner: io::Table,
    id: Identifier,
    catalog: Arc<Inner>,
}

/// One live data file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// `dt=2024-01-01/region=eu`, or `-` for an unpartitioned table.
    pub partition: String,
    pub bucket: i32,
    /// LSM level (0: fresh from a writer).
    pub level: i32,
    pub file_name: String,
    pub rows: i64,
    pub size: i64,
    pub min_sequence: i64,
    pub max_sequence: i64,
}

/// Partitions, files and bytes of every live file of a snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableTotals {
    pub partitions: u64,
    pub files: u64,
    pub bytes: u64,
}

impl Table {
    pub(crate) fn new(inner: io::Table, id: Identifier, catalog: Arc<Inner>) -> Table {
        Table { inner, id, catalog }
    }

    /// The table as the internal crates see it.
    pub(crate) fn raw(&self) -> &io::Table {
        &self.inner
    }

    /// The table as the internal crates take it, for integrations that drive them directly
    /// (the SQL crate's DataFusion provider plans and executes splits itself).
    #[doc(hidden)]
    pub fn as_format_table(&self) -> &io::Table {
        &self.inner
    }

    /// The same table read through storage that is not metered.
    pub(crate) fn unmetered(&self) -> io::Table {
        let mut t = self.inner.clone();
        t.io = self.catalog.plain.clone();
        t
    }

    pub fn identifier(&self) -> &Identifier {
        &self.id
    }

    /// `db.table`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The URL of the warehouse the table is in.
    pub fn warehouse_url(&self) -> &str {
        &self.catalog.url
    }

    pub fn schema(&self) -> &TableSchema {
        &self.inner.schema
    }

    /// The schema, shared.
    pub fn shared_schema(&self) -> Arc<TableSchema> {
        self.inner.schema.clone()
    }

    pub fn options(&self) -> &TableOptions {
        &self.inner.options
    }

    /// Whether the table has a primary key (else it is an append table).
    pub fn is_primary_key_table(&self) -> bool {
        self.inner.is_primary_key_table()
    }

    /// The primary-key columns, in key order.
    pub fn key_fields(&self) -> Result<Vec<DataField>> {
        self.schema().fields_named(&self.schema().primary_keys)
    }

    /// Checks that every name is a column.
    pub fn check_columns(&self, names: &[String]) -> Result<()> {
        for c in names {
            self.schema().field_index(c)?;
        }
        Ok(())
    }

    /// Casts and checks a batch against the table's schema (`label` names it in errors).
    pub fn conform(&self, batch: &RecordBatch, label: &str) -> Result<RecordBatch> {
        streamhouse_writer::conform_batch(&self.inner.schema, batch, label)
    }

    // ---- snapshots -------------------------------------------------------------------------

    pub async fn latest_snapshot_id(&self) -> Result<Option<i64>> {
        self.inner.latest_snapshot_id().await
    }

    /// Snapshot `id`; a missing one is [`Error::NotFound`] naming the snapshots there are.
    pub async fn snapshot(&self, id: i64) -> Result<Snapshot> {
        match self.inner.snapshot(id).await {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let ids = self.inner.list_snapshot_ids().await?;
                let have = match (ids.first(), ids.last()) {
                    (Some(a), Some(b)) if a == b => format!("it has snapshot {a}"),
                    (Some(a), Some(b)) => format!("it has snapshots {a} to {b}"),
                    _ => "it has no snapshots yet".to_string(),
                };
                Err(Error::NotFound(format!(
                    "snapshot {id} of table {} does not exist; {have}",
                    self.name()
                )))
            }
            r => r,
        }
    }

    /// The snapshot id to read: `id` (checked to exist) or the latest (`None` for a table
    /// without commits).
    pub async fn resolve_snapshot(&self, id: Option<i64>) -> Result<Option<i64>> {
        match id {
            Some(id) => self.snapshot(id).await.map(|s| Some(s.id)),
            None => self.latest_snapshot_id().await,
        }
    }

    /// Every snapshot still present, oldest first.
    pub async fn snapshots(&self) -> Result<Vec<Snapshot>> {
        let table = &self.inner;
        let ids = table.list_snapshot_ids().await?;
        let found: Vec<Option<Snapshot>> = futures::stream::iter(ids)
            .map(|id| async move {
                match table.snapshot(id).await {
                    Ok(s) => Ok(Some(s)),
                    // Expired between listing and reading.
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .buffered(16)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    // ---- files and partitions --------------------------------------------------------------

    /// The partition directory of a serialized partition row: `dt=2024-01-01/` (empty for an
    /// unpartitioned table).
    pub fn partition_dir(&self, partition: &[u8]) -> Result<String> {
        self.inner.partition_dir(partition)
    }

    /// `bucket 3` or `dt=2024-01-01 bucket 3`, for messages and reports.
    pub fn bucket_label(&self, partition: &[u8], bucket: i32) -> String {
        let dir = self.partition_dir(partition).unwrap_or_default();
        streamhouse_compaction::rewrite::bucket_label(&dir, bucket)
    }

    /// The serialized partition row of a `k=v[,k=v…]` spec.
    pub fn partition_row(&self, spec: &str) -> Result<Vec<u8>> {
        let names = &self.schema().partition_keys;
        if names.is_empty() {
            return Err(Error::invalid(format!(
                "table {} is not partitioned",
                self.name()
            )));
        }
        let types: Vec<_> = self
            .schema()
            .fields_named(names)?
            .into_iter()
            .map(|f| f.data_type)
            .collect();
        let default = &self.options().partition_default_name;
        let values = parse_partition_spec(spec, names, &types, default)
            .map_err(|e| Error::invalid(format!("{spec:?}: {e}")))?;
        Ok(BinaryRow::from_datums(&values, &types).serialize())
    }

    /// `dt=2024-01-01/region=eu`, or `-` for an unpartitioned table (`?` if undecodable).
    fn partition_text(&self, e: &ManifestEntry) -> String {
        if self.schema().partition_keys.is_empty() {
            return "-".into();
        }
        match self.inner.partition_dir(&e.partition) {
            Ok(dir) => dir.trim_end_matches('/').to_string(),
            Err(_) => "?".into(),
        }
    }

    /// The live data files of snapshot `id`, by partition, bucket, level and sequence.
    pub async fn files(&self, id: i64) -> Result<Vec<DataFile>> {
        let snapshot = self.snapshot(id).await?;
        let mut files: Vec<DataFile> = self
            .inner
            .all_live_files(&snapshot)
            .await?
            .into_iter()
            .map(|e| DataFile {
                partition: self.partition_text(&e),
                bucket: e.bucket,
                level: e.file.level,
                file_name: e.file.file_name,
                rows: e.file.row_count,
                size: e.file.file_size,
                min_sequence: e.file.min_sequence_number,
                max_sequence: e.file.max_sequence_number,
            })
            .collect();
        files.sort_by(|a, b| {
            let key = |f: &DataFile| (f.partition.clone(), f.bucket, f.level, f.min_sequence);
            key(a).cmp(&key(b))
        });
        Ok(files)
    }

    /// Partitions, files and bytes of snapshot `id`, read without metering (so that a
    /// command's request counts stay its own).
    pub async fn totals(&self, id: i64) -> Result<TableTotals> {
        let t = self.unmetered();
        let snapshot = t.snapshot(id).await?;
        let files = t.all_live_files(&snapshot).await?;
        let partitions: HashSet<&[u8]> = files.iter().map(|e| e.partition.as_slice()).collect();
        let bytes: i64 = files.iter().map(|e| e.file.file_size.max(0)).sum();
        Ok(TableTotals {
            partitions: partitions.len() as u64,
            files: files.len() as u64,
            bytes: bytes as u64,
        })
    }

    // ---- tags --------------------------------------------------------------------------------

    /// Tags snapshot `snapshot` (the latest when `None`) as `name`, in Paimon's `tag/` format.
    pub async fn create_tag(
        &self,
        name: &str,
        snapshot: Option<i64>,
        retain: Option<Duration>,
    ) -> Result<Tag> {
        self.inner.create_tag(name, snapshot, retain).await
    }

    pub async fn tags(&self) -> Result<Vec<Tag>> {
        self.inner.list_tags().await
    }

    /// Deletes a tag; returns what it was.
    pub async fn delete_tag(&self, name: &str) -> Result<Tag> {
        self.inner.delete_tag(name).await
    }
}
