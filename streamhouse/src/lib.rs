//! # streamhouse
//!
//! Streaming lakehouse tables on a local disk or object storage, in Apache Paimon's table
//! format: one table is at once a change log that consumers tail, sorted Parquet files for
//! scans, a primary-key index for lookups and an LSM tree that compaction keeps small.
//!
//! The nouns:
//!
//! - **[`Catalog`]** — a warehouse: a storage location (local path, `file://`, `memory://`,
//!   `s3://bucket/prefix`) holding tables as `<db>.db/<table>/`.
//! - **[`Table`]** — columns, an optional primary key, partition columns and options
//!   ([`TableOptions`]); every read and write goes through it.
//! - **snapshot** — a commit: each write, compaction or expiration publishes snapshot N+1 with a
//!   create-only put; a read sees exactly one snapshot ([`Snapshot`]).
//! - **bucket** — rows are spread by a hash of the bucket key (the primary key by default)
//!   over a fixed number of buckets per partition; each bucket is one LSM tree.
//! - **level** — a writer adds sorted files at level 0; compaction merges runs into higher
//!   levels. Reads merge the levels by key with the table's merge engine.
//! - **row kind** — each change is `+I` insert, `-U` / `+U` the old and new version of an
//!   update, or `-D` delete ([`RowKind`]).
//! - **consumer** — a named tail position kept in the table (`consumer/consumer-<id>`): a tail
//!   with the same id resumes there, and expiration keeps the snapshots it still needs.
//!
//! Create, write, scan, get and tail:
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread")] async fn main() -> streamhouse::Result<()> {
//! use std::sync::Arc;
//! use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
//! use futures::TryStreamExt;
//! use streamhouse::{Catalog, Datum, Identifier, TableSpec};
//!
//! let catalog = Catalog::builder("memory://docs").open()?; // or Catalog::open(url, options)
//! let spec = TableSpec::parse("id BIGINT NOT NULL, item STRING")?.primary_key(["id"]);
//! let id = Identifier::parse("shop.orders")?;
//! let table = catalog.create_table(&id, spec, false).await?.into_table();
//!
//! let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
//! let items: ArrayRef = Arc::new(StringArray::from(vec!["tea", "mug"]));
//! let mut writer = table.writer().await?;
//! writer.write(&RecordBatch::try_new(table.arrow_schema(), vec![ids, items])?).await?;
//! let commit = writer.commit().await?; // snapshot 1
//! writer.close().await?; // waits for in-writer compaction
//!
//! let batches = table.scan().filter("id >= 2").collect().await?; // the row of key 2
//! let row = table.get(&[Datum::BigInt(1)]).await?; // Some(one-row batch)
//! let mut changes = table.tail().changes().await?; // +I 1, +I 2
//! while let Some(change) = changes.try_next().await? {
//!     println!("{} rows, the first one {}", change.num_rows(), change.kind(0).as_str());
//! }
//! # assert_eq!(commit.snapshot_ids, vec![1]);
//! # assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
//! # assert!(row.is_some());
//! # Ok(()) }
//! ```
//!
//! Storage options and request metering: [`Catalog::builder`]. In-writer compaction follows
//! [`CompactionPolicy`]; standalone compaction, expiration and orphan cleanup are
//! [`Table::compact`], [`Table::expire`] and [`Table::clean_orphans`]. `spec/` in the
//! repository describes what is on disk.

mod catalog;
mod conform;
mod lookup;
mod maintenance;
mod rows;
mod scan;
mod staged;
mod table;
mod tail;
mod types;
mod writer;

#[cfg(test)]
mod scan_tests;
#[cfg(test)]
mod tests;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

pub use catalog::{
    Catalog, CatalogBuilder, CreateOutcome, TableSpec, DEFAULT_APPEND_BUCKETS, DEFAULT_PK_BUCKETS,
};
pub use conform::conform_column;
pub use lookup::Lookup;
pub use maintenance::{Compaction, Expire};
pub use rows::ROWKIND_COLUMN;
pub use scan::{RecordBatchStream, Scan, ScanPlan};
pub use staged::StagedFiles;
pub use table::{DataFile, Table, TableTotals};
pub use tail::TailBuilder;
pub use types::{columns_from_arrow, data_type_from_arrow};
pub use writer::{Closed, Commit, CompactionPolicy, Writer};

pub use streamhouse_compaction::service::ServiceReport as CompactReport;
pub use streamhouse_compaction::{Cancel, CompactSummary, Progress, ProgressTask};
pub use streamhouse_format::clock::{Clock, ManualClock, SystemClock};
pub use streamhouse_format::datum::{datum_from_arrow, format_decimal, Datum};
pub use streamhouse_format::io::expire::{ExpireConfig, ExpireReport};
pub use streamhouse_format::io::orphans::OrphanReport;
pub use streamhouse_format::io::tags::Tag;
pub use streamhouse_format::io::Identifier;
pub use streamhouse_format::options::{parse_duration, TableOptions};
pub use streamhouse_format::row_kind::RowKind;
pub use streamhouse_format::schema::TableSchema;
pub use streamhouse_format::snapshot::{CommitKind, Snapshot};
pub use streamhouse_format::types::{parse_type, DataField, DataType, TypeKind, MAX_LENGTH};
/// The text form of values (CSV and JSON input, text output, `--where` literals): decimals as
/// exact strings, bytes as base64, temporal values in ISO forms.
pub use streamhouse_format::value_text;
pub use streamhouse_format::{Error, ErrorContext, ErrorKind, Result};
pub use streamhouse_reader::incremental::{
    ChangeBatch, SnapshotInfo, StartPosition, Tail, TailEvent,
};
pub use streamhouse_reader::lookup::{CacheStats, GetResult, LookupCounters};
pub use streamhouse_reader::predicate::Expr;
pub use streamhouse_reader::scan_stats::ScanStats;

/// Predicates built in code, for [`Scan::filter_expr`] (text goes to [`Scan::filter`]).
pub mod predicate {
    pub use streamhouse_reader::predicate::{parse, CmpOp, Expr, Literal};
}

/// Storage handles, for code that already holds a table's storage (see [`Catalog::from_io`]).
pub mod io {
    pub use object_store::path::Path;
    pub use streamhouse_format::io::FileIO;
}

/// Object-store request counting (what `--stats` prints).
pub mod metrics {
    pub use streamhouse_format::io::metrics::{
        human_bytes, MetricsSnapshot, RequestKind, StoreMetrics,
    };
}

impl Table {
    /// The table's columns as an Arrow schema (the types [`Writer::write`] takes).
    pub fn arrow_schema(&self) -> SchemaRef {
        self.schema().arrow_schema()
    }

    /// A writer; it applies the table's [`CompactionPolicy`] after each commit.
    pub async fn writer(&self) -> Result<Writer> {
        Writer::open(self).await
    }

    /// A scan of the latest snapshot (see [`Scan`] for filters, projection, time travel).
    pub fn scan(&self) -> Scan {
        Scan::new(self)
    }

    /// A lookup index at snapshot `snapshot` (the latest when `None`); reuse it for many keys.
    pub async fn lookup(&self, snapshot: Option<i64>) -> Result<Lookup> {
        Lookup::open(self, snapshot).await
    }

    /// The latest row of one primary key (values in key order), if present.
    pub async fn get(&self, key: &[Datum]) -> Result<Option<RecordBatch>> {
        self.lookup(None).await?.get(key).await
    }

    /// The latest rows of many primary keys.
    pub async fn get_many(&self, keys: &[Vec<Datum>]) -> Result<GetResult> {
        self.lookup(None).await?.get_many(keys).await
    }

    /// A tail of the table's changes (see [`TailBuilder`]).
    pub fn tail(&self) -> TailBuilder {
        TailBuilder::new(self)
    }
}
