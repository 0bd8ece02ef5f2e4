//! # streamhouse-reader
//!
//! Batch scans of Paimon tables: plan a snapshot into splits, read Parquet data files with
//! schema evolution, apply deletion vectors, and merge primary-key runs with the table's
//! merge engine.
//!
//! * [`ScanBuilder`] — the entry point (`snapshot`, `projection`, `limit`, `batch_size`,
//!   then `plan`, `execute` or `to_batches`);
//! * [`plan`] — snapshot → live files → [`Split`]s per (partition, bucket), level-0 files
//!   dropped where Java's batch reads drop them (deletion vectors, first-row);
//! * [`file_reader`] — one data file → Arrow batches in the scan's layout, columns bound to
//!   the current schema by field id through the file's own schema;
//! * [`sections`] — sorted runs and non-overlapping key-range sections of a split;
//! * [`merge`] — the k-way merge of sorted runs feeding `streamhouse_format::merge`;
//! * [`newest_first`] — deduplicate sections read newest run first without merging, for
//!   scans in any order;
//! * [`dv`] — deletion-vector index files;
//! * [`predicate`] — `--where` predicates: parsing, evaluation, pruning by statistics;
//! * [`split_reader`] — how one split is read (concatenation or merge), with prefetching;
//! * [`compact_read`] — the same merge producing physical key-value rows for compaction.
//!
//! Parquet data files are read with pruning; ORC and Avro data files whole
//! ([`other_formats`]); other formats give
//! [`Error::Unsupported`](streamhouse_format::Error::Unsupported) naming the file.

/// The setters [`ScanBuilder`] and [`incremental::TailBuilder`] share, over their fields
/// `projection`, `batch_size` and `concurrency`; the argument documents `concurrency`.
macro_rules! read_setters {
    ($concurrency_doc:literal) => {
        /// Reads only these columns, in this order (default: all). An unknown column fails
        /// when the read is planned.
        pub fn projection(mut self, columns: Vec<String>) -> Self {
            self.projection = Some(columns);
            self
        }

        /// Rows per output batch (default [`DEFAULT_BATCH_SIZE`](crate::DEFAULT_BATCH_SIZE)).
        pub fn batch_size(mut self, n: usize) -> Self {
            self.batch_size = n.max(1);
            self
        }

        #[doc = $concurrency_doc]
        /// Output order does not depend on it.
        pub fn concurrency(mut self, n: usize) -> Self {
            self.concurrency = n.max(1);
            self
        }
    };
}

pub mod cast;
pub mod compact_read;
pub mod dv;
pub mod file_reader;
pub mod incremental;
pub mod location;
pub mod lookup;
pub mod merge;
pub mod newest_first;
pub mod other_formats;
pub mod parquet_io;
pub mod plan;
pub mod plan_prune;
pub mod predicate;
pub mod pushdown;
pub mod scan;
pub mod scan_stats;
pub mod sections;
pub mod split_reader;

pub use plan::{DeletionFile, Plan, Split};
pub use scan::{ScanBuilder, DEFAULT_BATCH_SIZE};
