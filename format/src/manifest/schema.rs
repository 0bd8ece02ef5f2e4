//! The Avro writer schemas of the three manifest kinds, in the exact shape Java Paimon's
//! `AvroSchemaConverter` produces from the Paimon row types (`ManifestFileMeta.SCHEMA`,
//! `ManifestEntry.SCHEMA`, `IndexManifestEntry.SCHEMA`, each prefixed by `_VERSION`):
//!
//! * the top record is `org.apache.paimon.avro.generated.record`; a nested record is named
//!   after its parent plus `_` plus the field name (`record__FILE`, `record__FILE__KEY_STATS`,
//!   `record__PARTITION_STATS`, `record__DELETIONS_VECTORS_RANGES`, `record__GLOBAL_INDEX`),
//!   all in the same namespace;
//! * NOT NULL fields are plain Avro types; nullable fields are `["null", T]` with
//!   `"default": null`; TINYINT and INT map to `int`, BIGINT to `long`, TIMESTAMP(3) to
//!   `long` with `logicalType: timestamp-millis`;
//! * nested records of current Java are declared non-null (older Java wrapped them in
//!   `["null", record]`; readers accept both).
//!
//! Field set of `_FILE` (DataFileMeta): the 20 fields written by Java Paimon 1.3
//! (`_FILE_NAME` … `_WRITE_COLS`). Newer Java appends `_WRITE_COLS_SEQUENCES`
//! (`["null", array<long>]`); Java reads manifests by field name and defaults absent nullable
//! fields to null, so leaving it out is compatible with both older and newer Java, and our
//! [`DataFileMeta`](super::DataFileMeta) has nothing to put in it.

use std::sync::OnceLock;

use apache_avro::Schema;
use serde_json::{json, Value as Json};

use crate::error::{Error, Result};

/// Namespace of every record in Java-written manifests.
pub(crate) const NAMESPACE: &str = "org.apache.paimon.avro.generated";
/// Name of the top-level record.
pub(crate) const TOP_RECORD: &str = "record";

fn field(name: &str, ty: Json) -> Json {
    json!({ "name": name, "type": ty })
}

fn nullable_field(name: &str, ty: Json) -> Json {
    json!({ "name": name, "type": ["null", ty], "default": null })
}

fn record(name: &str, fields: Vec<Json>) -> Json {
    json!({ "type": "record", "name": name, "fields": fields })
}

fn string_array() -> Json {
    json!({ "type": "array", "items": "string" })
}

/// SimpleStats record (`_MIN_VALUES`, `_MAX_VALUES`, `_NULL_COUNTS`) named `name`.
fn simple_stats(name: &str) -> Json {
    record(
        name,
        vec![
            field("_MIN_VALUES", json!("bytes")),
            field("_MAX_VALUES", json!("bytes")),
            nullable_field(
                "_NULL_COUNTS",
                json!({ "type": "array", "items": ["null", "long"] }),
            ),
        ],
    )
}

fn top(fields: Vec<Json>) -> Json {
    json!({ "type": "record", "name": TOP_RECORD, "namespace": NAMESPACE, "fields": fields })
}

/// Manifest-list record (§4.1): `_VERSION` + ManifestFileMeta.
pub(crate) fn manifest_list_json() -> Json {
    top(vec![
        field("_VERSION", json!("int")),
        field("_FILE_NAME", json!("string")),
        field("_FILE_SIZE", json!("long")),
        field("_NUM_ADDED_FILES", json!("long")),
        field("_NUM_DELETED_FILES", json!("long")),
        field("_PARTITION_STATS", simple_stats("record__PARTITION_STATS")),
        field("_SCHEMA_ID", json!("long")),
        nullable_field("_MIN_BUCKET", json!("int")),
        nullable_field("_MAX_BUCKET", json!("int")),
        nullable_field("_MIN_LEVEL", json!("int")),
        nullable_field("_MAX_LEVEL", json!("int")),
        nullable_field("_MIN_ROW_ID", json!("long")),
        nullable_field("_MAX_ROW_ID", json!("long")),
    ])
}

/// Manifest-entry record (§4.2): `_VERSION` + ManifestEntry with DataFileMeta in `_FILE`.
pub(crate) fn manifest_json() -> Json {
    let file = record(
        "record__FILE",
        vec![
            field("_FILE_NAME", json!("string")),
            field("_FILE_SIZE", json!("long")),
            field("_ROW_COUNT", json!("long")),
            field("_MIN_KEY", json!("bytes")),
            field("_MAX_KEY", json!("bytes")),
            field("_KEY_STATS", simple_stats("record__FILE__KEY_STATS")),
            field("_VALUE_STATS", simple_stats("record__FILE__VALUE_STATS")),
            field("_MIN_SEQUENCE_NUMBER", json!("long")),
            field("_MAX_SEQUENCE_NUMBER", json!("long")),
            field("_SCHEMA_ID", json!("long")),
            field("_LEVEL", json!("int")),
            field("_EXTRA_FILES", string_array()),
            nullable_field(
                "_CREATION_TIME",
                json!({ "type": "long", "logicalType": "timestamp-millis" }),
            ),
            nullable_field("_DELETE_ROW_COUNT", json!("long")),
            nullable_field("_EMBEDDED_FILE_INDEX", json!("bytes")),
            nullable_field("_FILE_SOURCE", json!("int")),
            nullable_field("_VALUE_STATS_COLS", string_array()),
            nullable_field("_EXTERNAL_PATH", json!("string")),
            nullable_field("_FIRST_ROW_ID", json!("long")),
            nullable_field("_WRITE_COLS", string_array()),
        ],
    );
    top(vec![
        field("_VERSION", json!("int")),
        field("_KIND", json!("int")),
        field("_PARTITION", json!("bytes")),
        field("_BUCKET", json!("int")),
        field("_TOTAL_BUCKETS", json!("int")),
        field("_FILE", file),
    ])
}

/// Index-manifest record (§4.5): `_VERSION` + IndexManifestEntry.
pub(crate) fn index_manifest_json() -> Json {
    let dv_range = record(
        "record__DELETIONS_VECTORS_RANGES",
        vec![
            field("f0", json!("string")),
            field("f1", json!("int")),
            field("f2", json!("int")),
            nullable_field("_CARDINALITY", json!("long")),
        ],
    );
    let global_index = record(
        "record__GLOBAL_INDEX",
        vec![
            field("_ROW_RANGE_START", json!("long")),
            field("_ROW_RANGE_END", json!("long")),
            field("_INDEX_FIELD_ID", json!("int")),
            nullable_field(
                "_EXTRA_FIELD_IDS",
                json!({ "type": "array", "items": "int" }),
            ),
            nullable_field("_INDEX_META", json!("bytes")),
            nullable_field("_SOURCE_META", json!("bytes")),
        ],
    );
    top(vec![
        field("_VERSION", json!("int")),
        field("_KIND", json!("int")),
        field("_PARTITION", json!("bytes")),
        field("_BUCKET", json!("int")),
        field("_INDEX_TYPE", json!("string")),
        field("_FILE_NAME", json!("string")),
        field("_FILE_SIZE", json!("long")),
        field("_ROW_COUNT", json!("long")),
        nullable_field(
            "_DELETIONS_VECTORS_RANGES",
            json!({ "type": "array", "items": ["null", dv_range] }),
        ),
        nullable_field("_EXTERNAL_PATH", json!("string")),
        nullable_field("_GLOBAL_INDEX", global_index),
    ])
}

type Cached = OnceLock<std::result::Result<Schema, String>>;

fn cached(cell: &'static Cached, build: fn() -> Json) -> Result<&'static Schema> {
    cell.get_or_init(|| Schema::parse(&build()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::Internal(format!("internal manifest Avro schema is invalid: {e}")))
}

pub(crate) fn manifest_list_schema() -> Result<&'static Schema> {
    static CELL: Cached = OnceLock::new();
    cached(&CELL, manifest_list_json)
}

pub(crate) fn manifest_schema() -> Result<&'static Schema> {
    static CELL: Cached = OnceLock::new();
    cached(&CELL, manifest_json)
}

pub(crate) fn index_manifest_schema() -> Result<&'static Schema> {
    static CELL: Cached = OnceLock::new();
    cached(&CELL, index_manifest_json)
}
