//! Encoding manifest lists, manifests and index manifests as Java Paimon writes them: the
//! schemas of [`super::schema`], one record per item, `_VERSION` first, codec `zstandard`.
//!
//! Inputs are checked where a bad value would make the file unreadable for Java: every
//! serialized BinaryRow (`_PARTITION`, `_MIN_KEY`, `_MAX_KEY`, stats min/max rows) must hold at
//! least its 4-byte arity prefix — use the 12-byte empty row for "no columns", never empty
//! bytes.
//!
//! Performance note: apache-avro builds a generic `Value` tree per record and validates it
//! against the schema before encoding; that is a few allocations per field and fine for
//! manifests of thousands of entries, but a hand-rolled encoder would be several times faster
//! for very large manifests.

use apache_avro::types::Value;
use apache_avro::{Codec, Schema, Writer, ZstandardSettings};

use super::schema::{index_manifest_schema, manifest_list_schema, manifest_schema};
use super::{
    DataFileMeta, IndexManifestEntry, ManifestEntry, ManifestFileMeta, INDEX_MANIFEST_VERSION,
    MANIFEST_VERSION,
};
use crate::error::{Error, Result};
use crate::stats::SimpleStats;

/// Encodes a manifest list (one record per manifest file).
pub fn encode_manifest_list(metas: &[ManifestFileMeta]) -> Result<Vec<u8>> {
    encode_records(
        manifest_list_schema()?,
        "manifest list",
        metas,
        manifest_file_meta_value,
    )
}

/// Encodes a manifest (one record per ADD/DELETE entry).
pub fn encode_manifest(entries: &[ManifestEntry]) -> Result<Vec<u8>> {
    encode_records(
        manifest_schema()?,
        "manifest",
        entries,
        manifest_entry_value,
    )
}

/// Encodes an index manifest (one record per index file). `_GLOBAL_INDEX` is always written
/// as null because [`IndexManifestEntry`] does not carry global-index metadata.
pub fn encode_index_manifest(entries: &[IndexManifestEntry]) -> Result<Vec<u8>> {
    encode_records(
        index_manifest_schema()?,
        "index manifest",
        entries,
        index_entry_value,
    )
}

/// One record per item, written as one container file; an item that does not encode is
/// named by its position.
fn encode_records<T>(
    schema: &Schema,
    what: &str,
    items: &[T],
    value: impl Fn(&T) -> std::result::Result<Value, String>,
) -> Result<Vec<u8>> {
    let records = items
        .iter()
        .enumerate()
        .map(|(i, item)| value(item).map_err(|e| at(what, i, e)))
        .collect::<Result<Vec<_>>>()?;
    write_container(schema, &records)
}

fn at(what: &str, index: usize, detail: String) -> Error {
    Error::invalid(format!("cannot encode {what} record {index}: {detail}"))
}

fn write_container(schema: &Schema, records: &[Value]) -> Result<Vec<u8>> {
    let codec = Codec::Zstandard(ZstandardSettings::default());
    let mut writer = Writer::with_codec(schema, Vec::new(), codec)
        .map_err(|e| Error::encode("an Avro container (writer setup)", e))?;
    for (i, record) in records.iter().enumerate() {
        writer
            .append_value_ref(record)
            .map_err(|e| Error::encode(format!("Avro record {i}"), e))?;
    }
    writer
        .into_inner()
        .map_err(|e| Error::encode("an Avro container", e))
}

fn null() -> Value {
    Value::Union(0, Box::new(Value::Null))
}

fn some(v: Value) -> Value {
    Value::Union(1, Box::new(v))
}

fn opt<T>(v: &Option<T>, f: impl FnOnce(&T) -> Value) -> Value {
    v.as_ref().map_or_else(null, |v| some(f(v)))
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().map(|s| Value::String(s.clone())).collect())
}

fn rec(fields: Vec<(&str, Value)>) -> Value {
    Value::Record(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// A serialized BinaryRow must at least hold its 4-byte arity prefix.
fn row(field: &str, bytes: &[u8]) -> std::result::Result<Value, String> {
    if bytes.len() < 4 {
        return Err(format!(
            "{field} has {} bytes; a serialized BinaryRow needs at least its 4-byte arity prefix \
             (use the 12-byte empty row for no columns)",
            bytes.len()
        ));
    }
    Ok(Value::Bytes(bytes.to_vec()))
}

fn stats_value(field: &str, s: &SimpleStats) -> std::result::Result<Value, String> {
    let counts = s
        .null_counts
        .iter()
        .map(|c| opt(c, |c| Value::Long(*c)))
        .collect();
    Ok(rec(vec![
        (
            "_MIN_VALUES",
            row(&format!("{field}._MIN_VALUES"), &s.min_values)?,
        ),
        (
            "_MAX_VALUES",
            row(&format!("{field}._MAX_VALUES"), &s.max_values)?,
        ),
        ("_NULL_COUNTS", some(Value::Array(counts))),
    ]))
}

pub(super) fn manifest_file_meta_value(m: &ManifestFileMeta) -> std::result::Result<Value, String> {
    Ok(rec(vec![
        ("_VERSION", Value::Int(MANIFEST_VERSION)),
        ("_FILE_NAME", Value::String(m.file_name.clone())),
        ("_FILE_SIZE", Value::Long(m.file_size)),
        ("_NUM_ADDED_FILES", Value::Long(m.num_added_files)),
        ("_NUM_DELETED_FILES", Value::Long(m.num_deleted_files)),
        (
            "_PARTITION_STATS",
            stats_value("_PARTITION_STATS", &m.partition_stats)?,
        ),
        ("_SCHEMA_ID", Value::Long(m.schema_id)),
        ("_MIN_BUCKET", opt(&m.min_bucket, |v| Value::Int(*v))),
        ("_MAX_BUCKET", opt(&m.max_bucket, |v| Value::Int(*v))),
        ("_MIN_LEVEL", opt(&m.min_level, |v| Value::Int(*v))),
        ("_MAX_LEVEL", opt(&m.max_level, |v| Value::Int(*v))),
        ("_MIN_ROW_ID", opt(&m.min_row_id, |v| Value::Long(*v))),
        ("_MAX_ROW_ID", opt(&m.max_row_id, |v| Value::Long(*v))),
    ]))
}

fn data_file_value(f: &DataFileMeta) -> std::result::Result<Value, String> {
    Ok(rec(vec![
        ("_FILE_NAME", Value::String(f.file_name.clone())),
        ("_FILE_SIZE", Value::Long(f.file_size)),
        ("_ROW_COUNT", Value::Long(f.row_count)),
        ("_MIN_KEY", row("_FILE._MIN_KEY", &f.min_key)?),
        ("_MAX_KEY", row("_FILE._MAX_KEY", &f.max_key)?),
        ("_KEY_STATS", stats_value("_FILE._KEY_STATS", &f.key_stats)?),
        (
            "_VALUE_STATS",
            stats_value("_FILE._VALUE_STATS", &f.value_stats)?,
        ),
        ("_MIN_SEQUENCE_NUMBER", Value::Long(f.min_sequence_number)),
        ("_MAX_SEQUENCE_NUMBER", Value::Long(f.max_sequence_number)),
        ("_SCHEMA_ID", Value::Long(f.schema_id)),
        ("_LEVEL", Value::Int(f.level)),
        ("_EXTRA_FILES", strings(&f.extra_files)),
        (
            "_CREATION_TIME",
            opt(&f.creation_time, |v| Value::TimestampMillis(*v)),
        ),
        (
            "_DELETE_ROW_COUNT",
            opt(&f.delete_row_count, |v| Value::Long(*v)),
        ),
        (
            "_EMBEDDED_FILE_INDEX",
            opt(&f.embedded_index, |v| Value::Bytes(v.clone())),
        ),
        ("_FILE_SOURCE", opt(&f.file_source, |v| Value::Int(*v))),
        (
            "_VALUE_STATS_COLS",
            opt(&f.value_stats_cols, |v| strings(v)),
        ),
        (
            "_EXTERNAL_PATH",
            opt(&f.external_path, |v| Value::String(v.clone())),
        ),
        ("_FIRST_ROW_ID", opt(&f.first_row_id, |v| Value::Long(*v))),
        ("_WRITE_COLS", opt(&f.write_cols, |v| strings(v))),
    ]))
}

pub(super) fn manifest_entry_value(e: &ManifestEntry) -> std::result::Result<Value, String> {
    Ok(rec(vec![
        ("_VERSION", Value::Int(MANIFEST_VERSION)),
        ("_KIND", Value::Int(e.kind.to_byte())),
        ("_PARTITION", row("_PARTITION", &e.partition)?),
        ("_BUCKET", Value::Int(e.bucket)),
        ("_TOTAL_BUCKETS", Value::Int(e.total_buckets)),
        ("_FILE", data_file_value(&e.file)?),
    ]))
}

pub(super) fn index_entry_value(e: &IndexManifestEntry) -> std::result::Result<Value, String> {
    let ranges = opt(&e.dv_ranges, |ranges| {
        Value::Array(
            ranges
                .iter()
                .map(|d| {
                    some(rec(vec![
                        ("f0", Value::String(d.data_file_name.clone())),
                        ("f1", Value::Int(d.offset)),
                        ("f2", Value::Int(d.length)),
                        ("_CARDINALITY", opt(&d.cardinality, |c| Value::Long(*c))),
                    ]))
                })
                .collect(),
        )
    });
    Ok(rec(vec![
        ("_VERSION", Value::Int(INDEX_MANIFEST_VERSION)),
        ("_KIND", Value::Int(e.kind.to_byte())),
        ("_PARTITION", row("_PARTITION", &e.partition)?),
        ("_BUCKET", Value::Int(e.bucket)),
        ("_INDEX_TYPE", Value::String(e.index_type.clone())),
        ("_FILE_NAME", Value::String(e.file_name.clone())),
        ("_FILE_SIZE", Value::Long(e.file_size)),
        ("_ROW_COUNT", Value::Long(e.row_count)),
        ("_DELETIONS_VECTORS_RANGES", ranges),
        (
            "_EXTERNAL_PATH",
            opt(&e.external_path, |v| Value::String(v.clone())),
        ),
        ("_GLOBAL_INDEX", null()),
    ]))
}
