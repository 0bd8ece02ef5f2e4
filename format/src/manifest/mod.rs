//! Manifest lists, manifests and index manifests: the Avro files that say which data files a
//! snapshot holds.
//!
//! Reading decodes each file with its own embedded writer schema and picks fields by name, so
//! files written by current Java, older Java (union-wrapped records) and pypaimon all read.
//! Writing produces Java's schema shape with the `zstandard` codec.

use crate::stats::SimpleStats;

/// Whether a manifest entry adds or deletes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Add = 0,
    Delete = 1,
}

/// One data (or changelog) file and what is known about it.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFileMeta {
    pub file_name: String,
    pub file_size: i64,
    /// All rows, including retractions.
    pub row_count: i64,
    /// Serialized BinaryRow (with arity prefix) of the first row's trimmed primary key.
    pub min_key: Vec<u8>,
    pub max_key: Vec<u8>,
    pub key_stats: SimpleStats,
    pub value_stats: SimpleStats,
    pub min_sequence_number: i64,
    pub max_sequence_number: i64,
    pub schema_id: i64,
    pub level: i32,
    pub extra_files: Vec<String>,
    /// Epoch millis (Java stores a local wall clock as millis).
    pub creation_time: Option<i64>,
    pub delete_row_count: Option<i64>,
    pub embedded_index: Option<Vec<u8>>,
    /// 0 = written by a writer flush, 1 = written by compaction.
    pub file_source: Option<i32>,
    /// `None`: value stats cover every table field; `Some(cols)`: only these, in this order.
    pub value_stats_cols: Option<Vec<String>>,
    pub external_path: Option<String>,
    pub first_row_id: Option<i64>,
    pub write_cols: Option<Vec<String>>,
}

/// One record of a manifest file.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestEntry {
    pub kind: FileKind,
    /// Serialized BinaryRow (with arity prefix) of the partition values.
    pub partition: Vec<u8>,
    pub bucket: i32,
    pub total_buckets: i32,
    pub file: DataFileMeta,
}

/// One record of a manifest list: a manifest file and a summary of its entries.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestFileMeta {
    pub file_name: String,
    pub file_size: i64,
    pub num_added_files: i64,
    pub num_deleted_files: i64,
    pub partition_stats: SimpleStats,
    pub schema_id: i64,
    pub min_bucket: Option<i32>,
    pub max_bucket: Option<i32>,
    pub min_level: Option<i32>,
    pub max_level: Option<i32>,
    pub min_row_id: Option<i64>,
    pub max_row_id: Option<i64>,
}

/// A deletion vector's place inside a DELETION_VECTORS index file.
#[derive(Debug, Clone, PartialEq)]
pub struct DeletionVectorMeta {
    pub data_file_name: String,
    pub offset: i32,
    pub length: i32,
    pub cardinality: Option<i64>,
}

/// One record of an index manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexManifestEntry {
    pub kind: FileKind,
    pub partition: Vec<u8>,
    pub bucket: i32,
    /// `HASH`, `DELETION_VECTORS`, or a global index type.
    pub index_type: String,
    pub file_name: String,
    pub file_size: i64,
    pub row_count: i64,
    pub dv_ranges: Option<Vec<DeletionVectorMeta>>,
    pub external_path: Option<String>,
}
