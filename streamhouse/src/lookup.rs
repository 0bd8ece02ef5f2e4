//! [`Lookup`]: rows by primary key straight from a snapshot's files (key → bucket → files by
//! key range → bloom filter → page index → one page). Wraps the reader's `LookupHandle`.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use streamhouse_format::datum::Datum;
use streamhouse_format::io::metrics::StoreMetrics;
use streamhouse_reader::lookup::{
    CacheStats, GetResult, LookupCounters, LookupHandle, LookupOptions,
};

use crate::table::Table;
use crate::{Error, Result};

/// A table's key index at one snapshot, with its caches. Reuse it for many lookups.
pub struct Lookup {
    handle: LookupHandle,
}

impl Lookup {
    pub(crate) async fn open(table: &Table, snapshot: Option<i64>) -> Result<Lookup> {
        if !table.is_primary_key_table() {
            return Err(Error::invalid(format!(
                "table {} has no primary key, so it has no rows to look up by key (use a scan with a filter: `streamhouse scan --where`)",
                table.name()
            )));
        }
        let snapshot = table.resolve_snapshot(snapshot).await?;
        let options = LookupOptions::default();
        let handle = match snapshot {
            Some(id) => LookupHandle::open_at(table.raw(), id, options).await?,
            None => LookupHandle::open(table.raw(), options).await?,
        };
        Ok(Lookup { handle })
    }

    /// The row of one key (values of the primary-key columns in key order), if present.
    pub async fn get(&self, key: &[Datum]) -> Result<Option<RecordBatch>> {
        self.handle.get(key).await
    }

    /// The rows of many keys, looked up concurrently.
    pub async fn get_many(&self, keys: &[Vec<Datum>]) -> Result<GetResult> {
        self.handle.get_many(keys).await
    }

    /// The snapshot answered from (`None` for a table without commits).
    pub fn snapshot_id(&self) -> Option<i64> {
        self.handle.snapshot_id()
    }

    /// Live data files of the snapshot.
    pub fn file_count(&self) -> usize {
        self.handle.file_count()
    }

    /// The rows' schema (the table's columns).
    pub fn output_schema(&self) -> SchemaRef {
        self.handle.output_schema()
    }

    /// Object-store requests of this lookup index (loading and lookups).
    pub fn request_metrics(&self) -> &Arc<StoreMetrics> {
        self.handle.metrics()
    }

    /// What the lookups did so far (files in range, bloom skips, pages decoded, …).
    pub fn counters(&self) -> LookupCounters {
        self.handle.counters()
    }

    pub fn cache_stats(&self) -> CacheStats {
        self.handle.cache_stats()
    }

    /// Moves to the latest snapshot; returns it.
    pub async fn refresh(&self) -> Result<Option<i64>> {
        self.handle.refresh().await
    }
}
