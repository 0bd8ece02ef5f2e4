//! Manifest lists, manifests and index manifests: the Avro files that say which data files a
//! snapshot holds.
//!
//! All three are Avro Object Container Files (magic `Obj\x01`, a header map with
//! `avro.schema` and `avro.codec`, then blocks of records). Every record starts with a
//! `_VERSION` int, a permanent format identifier: [`MANIFEST_VERSION`] (2) for manifest entries
//! and manifest-list entries, [`INDEX_MANIFEST_VERSION`] (1) for index-manifest entries.
//!
//! * A **manifest list** (`manifest/manifest-list-*`) holds one [`ManifestFileMeta`] per
//!   manifest file; a snapshot points at a base list and a delta list.
//! * A **manifest** (`manifest/manifest-*`) holds [`ManifestEntry`] records, each adding or
//!   deleting one data file ([`DataFileMeta`]) of a partition and bucket.
//! * An **index manifest** (`manifest/index-manifest-*`) holds [`IndexManifestEntry`] records
//!   naming the live hash / deletion-vector / global index files.
//!
//! Reading ([`decode_manifest_list`], [`decode_manifest`], [`decode_index_manifest`]) decodes
//! each file with its own embedded writer schema and picks fields by name, so files written by
//! current Java, older Java (union-wrapped `["null", record]` records, fewer DataFileMeta
//! fields) and pypaimon (other record names, extra fields) all read. Missing optional fields
//! read as `None`; unknown fields are skipped.
//!
//! Writing ([`encode_manifest_list`], [`encode_manifest`], [`encode_index_manifest`])
//! produces Java's schema shape (record `org.apache.paimon.avro.generated.record`, nested
//! records named parent + `_` + field name such as `record__FILE__KEY_STATS`, nullable fields
//! as `["null", T]` with default null) with the `zstandard` codec. See `schema.rs` for the
//! exact field sets.

use crate::stats::SimpleStats;

mod avro_read;
mod avro_write;
mod orc;
mod schema;
#[cfg(test)]
mod tests;

pub use avro_read::{decode_index_manifest, decode_manifest, decode_manifest_list};
pub use avro_write::{encode_index_manifest, encode_manifest, encode_manifest_list};

/// `_VERSION` of manifest entries and manifest-list entries. Java rejects any other value
/// (a `1` in a data manifest comes from an incompatible old layout; Java asks to recreate
/// the table).
pub const MANIFEST_VERSION: i32 = 2;
/// `_VERSION` of index-manifest entries.
pub const INDEX_MANIFEST_VERSION: i32 = 1;

/// Whether a manifest entry adds or deletes a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Add = 0,
    Delete = 1,
}

impl FileKind {
    /// The `_KIND` byte stored in manifests.
    pub fn to_byte(self) -> i32 {
        self as i32
    }

    /// Parses a stored `_KIND`; `None` for values other than 0 and 1.
    pub fn from_byte(value: i32) -> Option<FileKind> {
        match value {
            0 => Some(FileKind::Add),
            1 => Some(FileKind::Delete),
            _ => None,
        }
    }
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

impl DataFileMeta {
    /// A level-0 file of schema 0 written by a flush: no key range (empty keys), no stats,
    /// sequence numbers 0..=0, no deletions and no optional extras. Callers set what they
    /// know with struct update syntax (`DataFileMeta { level, ..DataFileMeta::new(..) }`).
    pub fn new(file_name: impl Into<String>, file_size: i64, row_count: i64) -> Self {
        let empty_key = crate::binary_row::BinaryRow::empty().serialize();
        DataFileMeta {
            file_name: file_name.into(),
            file_size,
            row_count,
            min_key: empty_key.clone(),
            max_key: empty_key,
            key_stats: SimpleStats::empty(),
            value_stats: SimpleStats::empty(),
            min_sequence_number: 0,
            max_sequence_number: 0,
            schema_id: 0,
            level: 0,
            extra_files: vec![],
            creation_time: None,
            delete_row_count: Some(0),
            embedded_index: None,
            file_source: Some(0),
            value_stats_cols: None,
            external_path: None,
            first_row_id: None,
            write_cols: None,
        }
    }
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
