//! Decoding manifest lists, manifests and index manifests.
//!
//! Each file is decoded with the writer schema embedded in its header into generic Avro
//! values; records are then read **by field name**, never by position or record name, because
//! the schema shape differs between writers:
//!
//! * current Java: top-level record, nested records non-null;
//! * Java ≤ 0.9 (and paimon-rust fixtures): top level and nested records wrapped in
//!   `["null", record]`; DataFileMeta ends at `_EMBEDDED_FILE_INDEX` (0.8) or `_FILE_SOURCE`
//!   (0.9); manifest lists lack `_MIN_BUCKET` … `_MAX_ROW_ID`; DV ranges lack `_CARDINALITY`;
//! * pypaimon: other record names, extra `_TOTAL_BUCKETS` / `_EXTRA_FILES` in manifest lists.
//!
//! Absent or null optional fields read as `None`; unknown fields are ignored (this includes
//! `_GLOBAL_INDEX` of index manifests and `_WRITE_COLS_SEQUENCES` of data files, which the
//! structs do not carry). Every failure is an [`Error::Corrupt`] naming the file, the record
//! index and the field, except for an unexpected `_VERSION` ([`Error::Unsupported`]). ORC
//! files (`manifest.format = orc`) are decoded row by row into the same record values
//! ([`super::orc`]) and read by the same code.

use std::fmt::Display;

use apache_avro::types::Value;
use apache_avro::Reader;

use super::{
    DataFileMeta, DeletionVectorMeta, FileKind, IndexManifestEntry, ManifestEntry,
    ManifestFileMeta, INDEX_MANIFEST_VERSION, MANIFEST_VERSION,
};
use crate::error::{Error, Result};
use crate::stats::SimpleStats;

/// The most bytes one Avro allocation of a metadata file may take (process-wide, set on the
/// first decode).
const MAX_AVRO_ALLOCATION: usize = 64 << 20;

/// Magic bytes of an Avro Object Container File.
const AVRO_MAGIC: &[u8] = b"Obj\x01";

/// Decodes a manifest list (`manifest/manifest-list-*`). `path` is only used in errors.
pub fn decode_manifest_list(bytes: &[u8], path: &str) -> Result<Vec<ManifestFileMeta>> {
    decode_records(
        bytes,
        path,
        "manifest list",
        MANIFEST_VERSION,
        read_manifest_file_meta,
    )
}

/// Decodes a manifest (`manifest/manifest-*`). `path` is only used in errors.
pub fn decode_manifest(bytes: &[u8], path: &str) -> Result<Vec<ManifestEntry>> {
    decode_records(
        bytes,
        path,
        "manifest",
        MANIFEST_VERSION,
        read_manifest_entry,
    )
}

/// Decodes an index manifest (`manifest/index-manifest-*`). `path` is only used in errors.
pub fn decode_index_manifest(bytes: &[u8], path: &str) -> Result<Vec<IndexManifestEntry>> {
    decode_records(
        bytes,
        path,
        "index manifest",
        INDEX_MANIFEST_VERSION,
        read_index_entry,
    )
}

/// Where a value came from, for error messages.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    path: &'a str,
    what: &'static str,
    record: usize,
}

impl Ctx<'_> {
    fn err(&self, field: &str, detail: impl Display) -> Error {
        Error::corrupt(
            self.path,
            format!(
                "{} record {}: field {}: {}",
                self.what, self.record, field, detail
            ),
        )
    }
}

fn decode_records<T>(
    bytes: &[u8],
    path: &str,
    what: &'static str,
    version: i32,
    read: fn(&Rec<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    if bytes.starts_with(super::orc::ORC_MAGIC) {
        let rows = super::orc::decode_rows(bytes, path, what)?;
        return read_records(
            rows.into_iter().map(Ok::<_, Error>),
            path,
            what,
            version,
            read,
        );
    }
    if !bytes.starts_with(AVRO_MAGIC) {
        let head = &bytes[..bytes.len().min(4)];
        return Err(Error::corrupt(
            path,
            format!(
                "{what}: not an Avro object container file (first bytes {head:02x?}, \
                 expected \"Obj\\x01\")"
            ),
        ));
    }
    check_header_metadata(bytes)
        .map_err(|e| Error::corrupt(path, format!("{what}: bad Avro header: {e}")))?;
    // Every length and count apache-avro reads (a decompressed block, bytes, an array or map)
    // is checked against this budget before it allocates: far above any real metadata block
    // (writers flush blocks of tens of kilobytes), far below what a hostile file may claim.
    apache_avro::util::max_allocation_bytes(MAX_AVRO_ALLOCATION);
    let reader = Reader::new(bytes)
        .map_err(|e| Error::corrupt(path, format!("{what}: bad Avro header: {e}")))?;
    read_records(reader, path, what, version, read)
}

/// Reads decoded records (Avro, or ORC rows as record values) with `read`, checking
/// `_VERSION`.
fn read_records<T, E: Display>(
    values: impl Iterator<Item = std::result::Result<Value, E>>,
    path: &str,
    what: &'static str,
    version: i32,
    read: fn(&Rec<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for (record, value) in values.enumerate() {
        let ctx = Ctx { path, what, record };
        let value = value.map_err(|e| {
            Error::corrupt(
                path,
                format!("{what} record {record}: Avro decoding failed: {e}"),
            )
        })?;
        let rec = Rec::top(ctx, &value)?;
        let found = rec.int("_VERSION")?;
        if found != version {
            return Err(Error::unsupported(format!(
                "{path}: {what} record {record} has _VERSION {found}, this reader understands \
                 version {version} only (a table written by an incompatible Paimon version)"
            )));
        }
        out.push(read(&rec)?);
    }
    Ok(out)
}

/// Walks the metadata map of an Avro container header (after the magic) and refuses an empty
/// `avro.codec.compression_level`: apache-avro 0.22 reads its first byte unchecked and panics
/// (found by fuzzing; see `tests/integration/regressions.rs`). Everything else is left to
/// apache-avro.
fn check_header_metadata(bytes: &[u8]) -> std::result::Result<(), String> {
    fn long(b: &[u8], pos: &mut usize) -> std::result::Result<i64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*pos).ok_or("the header is truncated")?;
            *pos += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok((v >> 1) as i64 ^ -((v & 1) as i64));
            }
        }
        Err("a varint in the header is too long".into())
    }
    fn field<'a>(b: &'a [u8], pos: &mut usize) -> std::result::Result<&'a [u8], String> {
        let len = long(b, pos)?;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| pos.checked_add(l))
            .filter(|e| *e <= b.len())
            .ok_or_else(|| format!("a header field length {len} runs past the end"))?;
        let out = &b[*pos..end];
        *pos = end;
        Ok(out)
    }
    let mut pos = AVRO_MAGIC.len();
    loop {
        let count = long(bytes, &mut pos)?;
        if count == 0 {
            return Ok(());
        }
        if count < 0 {
            long(bytes, &mut pos)?; // the block's byte size
        }
        for _ in 0..count.unsigned_abs() {
            let key = field(bytes, &mut pos)?;
            let value = field(bytes, &mut pos)?;
            if key == b"avro.codec.compression_level" && value.is_empty() {
                return Err("avro.codec.compression_level is empty".into());
            }
        }
    }
}

/// Strips any number of union wrappers (`["null", T]` and friends).
fn strip_union(mut v: &Value) -> &Value {
    while let Value::Union(_, inner) = v {
        v = inner;
    }
    v
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Boolean(_) => "boolean",
        Value::Int(_) => "int",
        Value::Long(_) => "long",
        Value::Float(_) => "float",
        Value::Double(_) => "double",
        Value::Bytes(_) => "bytes",
        Value::String(_) => "string",
        Value::Fixed(..) => "fixed",
        Value::Enum(..) => "enum",
        Value::Union(..) => "union",
        Value::Array(_) => "array",
        Value::Map(_) => "map",
        Value::Record(_) => "record",
        Value::TimestampMillis(_) => "timestamp-millis",
        Value::TimestampMicros(_) => "timestamp-micros",
        Value::LocalTimestampMillis(_) => "local-timestamp-millis",
        Value::LocalTimestampMicros(_) => "local-timestamp-micros",
        _ => "other logical type",
    }
}

fn value_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(i64::from(*i)),
        Value::Long(l) => Some(*l),
        _ => None,
    }
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn as_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Bytes(b) => Some(b.clone()),
        _ => None,
    }
}

fn value_i32(v: &Value) -> Option<i32> {
    value_i64(v).and_then(|l| i32::try_from(l).ok())
}

/// A record's fields, with the dotted name of the record for error messages.
struct Rec<'a> {
    ctx: Ctx<'a>,
    fields: &'a [(String, Value)],
    prefix: String,
}

impl<'a> Rec<'a> {
    fn top(ctx: Ctx<'a>, value: &'a Value) -> Result<Rec<'a>> {
        match strip_union(value) {
            Value::Record(fields) => Ok(Rec {
                ctx,
                fields,
                prefix: String::new(),
            }),
            other => Err(Error::corrupt(
                ctx.path,
                format!(
                    "{} record {}: expected a record, found {}",
                    ctx.what,
                    ctx.record,
                    type_name(other)
                ),
            )),
        }
    }

    fn name(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    fn err(&self, key: &str, detail: impl Display) -> Error {
        self.ctx.err(&self.name(key), detail)
    }

    /// The field's value with unions stripped; `None` if absent or null.
    fn get(&self, key: &str) -> Option<&'a Value> {
        let (_, v) = self.fields.iter().find(|(name, _)| name == key)?;
        match strip_union(v) {
            Value::Null => None,
            v => Some(v),
        }
    }

    fn req(&self, key: &str) -> Result<&'a Value> {
        self.get(key)
            .ok_or_else(|| self.err(key, "required field is missing or null"))
    }

    /// `v`, the value of `key`, through `conv`; an error naming the type found if `conv`
    /// refuses it.
    fn typed<T>(
        &self,
        key: &str,
        v: &'a Value,
        what: &str,
        conv: impl Fn(&'a Value) -> Option<T>,
    ) -> Result<T> {
        conv(v).ok_or_else(|| self.err(key, format!("expected {what}, found {}", type_name(v))))
    }

    /// The field as `what` (through `conv`); an error if absent, null or of another type.
    fn req_as<T>(&self, key: &str, what: &str, conv: impl Fn(&'a Value) -> Option<T>) -> Result<T> {
        self.typed(key, self.req(key)?, what, conv)
    }

    /// The field as `what` (through `conv`); `None` if absent or null.
    fn opt_as<T>(
        &self,
        key: &str,
        what: &str,
        conv: impl Fn(&'a Value) -> Option<T>,
    ) -> Result<Option<T>> {
        self.get(key)
            .map(|v| self.typed(key, v, what, &conv))
            .transpose()
    }

    fn int(&self, key: &str) -> Result<i32> {
        self.req_as(key, "int", value_i32)
    }

    fn opt_int(&self, key: &str) -> Result<Option<i32>> {
        self.opt_as(key, "int", value_i32)
    }

    fn long(&self, key: &str) -> Result<i64> {
        self.req_as(key, "long", value_i64)
    }

    fn opt_long(&self, key: &str) -> Result<Option<i64>> {
        self.opt_as(key, "long", value_i64)
    }

    /// A timestamp in epoch millis: Avro `timestamp-millis` (Java), `local-timestamp-millis`,
    /// micros variants (converted), or a plain long taken as millis.
    fn opt_millis(&self, key: &str) -> Result<Option<i64>> {
        self.get(key)
            .map(|v| match v {
                Value::TimestampMillis(m) | Value::LocalTimestampMillis(m) | Value::Long(m) => {
                    Ok(*m)
                }
                Value::TimestampMicros(u) | Value::LocalTimestampMicros(u) => {
                    Ok(u.div_euclid(1000))
                }
                other => Err(self.err(
                    key,
                    format!("expected timestamp-millis, found {}", type_name(other)),
                )),
            })
            .transpose()
    }

    fn string(&self, key: &str) -> Result<String> {
        self.req_as(key, "string", as_string)
    }

    fn opt_string(&self, key: &str) -> Result<Option<String>> {
        self.opt_as(key, "string", as_string)
    }

    fn bytes(&self, key: &str) -> Result<Vec<u8>> {
        self.req_as(key, "bytes", as_bytes)
    }

    fn opt_bytes(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.opt_as(key, "bytes", as_bytes)
    }

    fn record(&self, key: &str) -> Result<Rec<'a>> {
        let fields = self.req_as(key, "record", |v| match v {
            Value::Record(fields) => Some(fields),
            _ => None,
        })?;
        Ok(Rec {
            ctx: self.ctx,
            fields,
            prefix: format!("{}.", self.name(key)),
        })
    }

    fn opt_array(&self, key: &str) -> Result<Option<&'a [Value]>> {
        self.opt_as(key, "array", |v| match v {
            Value::Array(items) => Some(items.as_slice()),
            _ => None,
        })
    }

    fn opt_string_array(&self, key: &str) -> Result<Option<Vec<String>>> {
        let Some(items) = self.opt_array(key)? else {
            return Ok(None);
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| match strip_union(v) {
                Value::String(s) => Ok(s.clone()),
                other => Err(self.err(
                    &format!("{key}[{i}]"),
                    format!("expected string, found {}", type_name(other)),
                )),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    fn string_array(&self, key: &str) -> Result<Vec<String>> {
        self.opt_string_array(key)?
            .ok_or_else(|| self.err(key, "required field is missing or null"))
    }

    fn kind(&self, key: &str) -> Result<FileKind> {
        let k = self.int(key)?;
        FileKind::from_byte(k).ok_or_else(|| {
            self.err(
                key,
                format!("unknown file kind {k} (expected 0 = ADD or 1 = DELETE)"),
            )
        })
    }

    fn stats(&self, key: &str) -> Result<SimpleStats> {
        let r = self.record(key)?;
        let null_counts = match r.opt_array("_NULL_COUNTS")? {
            None => Vec::new(),
            Some(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match strip_union(v) {
                    Value::Null => Ok(None),
                    v => value_i64(v).map(Some).ok_or_else(|| {
                        r.err(
                            &format!("_NULL_COUNTS[{i}]"),
                            format!("expected long, found {}", type_name(v)),
                        )
                    }),
                })
                .collect::<Result<Vec<_>>>()?,
        };
        Ok(SimpleStats {
            min_values: r.bytes("_MIN_VALUES")?,
            max_values: r.bytes("_MAX_VALUES")?,
            null_counts,
        })
    }
}

fn read_manifest_file_meta(r: &Rec<'_>) -> Result<ManifestFileMeta> {
    Ok(ManifestFileMeta {
        file_name: r.string("_FILE_NAME")?,
        file_size: r.long("_FILE_SIZE")?,
        num_added_files: r.long("_NUM_ADDED_FILES")?,
        num_deleted_files: r.long("_NUM_DELETED_FILES")?,
        partition_stats: r.stats("_PARTITION_STATS")?,
        schema_id: r.long("_SCHEMA_ID")?,
        min_bucket: r.opt_int("_MIN_BUCKET")?,
        max_bucket: r.opt_int("_MAX_BUCKET")?,
        min_level: r.opt_int("_MIN_LEVEL")?,
        max_level: r.opt_int("_MAX_LEVEL")?,
        min_row_id: r.opt_long("_MIN_ROW_ID")?,
        max_row_id: r.opt_long("_MAX_ROW_ID")?,
    })
}

fn read_manifest_entry(r: &Rec<'_>) -> Result<ManifestEntry> {
    let f = r.record("_FILE")?;
    let file = DataFileMeta {
        file_name: f.string("_FILE_NAME")?,
        file_size: f.long("_FILE_SIZE")?,
        row_count: f.long("_ROW_COUNT")?,
        min_key: f.bytes("_MIN_KEY")?,
        max_key: f.bytes("_MAX_KEY")?,
        key_stats: f.stats("_KEY_STATS")?,
        value_stats: f.stats("_VALUE_STATS")?,
        min_sequence_number: f.long("_MIN_SEQUENCE_NUMBER")?,
        max_sequence_number: f.long("_MAX_SEQUENCE_NUMBER")?,
        schema_id: f.long("_SCHEMA_ID")?,
        level: f.int("_LEVEL")?,
        extra_files: f.string_array("_EXTRA_FILES")?,
        creation_time: f.opt_millis("_CREATION_TIME")?,
        delete_row_count: f.opt_long("_DELETE_ROW_COUNT")?,
        embedded_index: f.opt_bytes("_EMBEDDED_FILE_INDEX")?,
        file_source: f.opt_int("_FILE_SOURCE")?,
        value_stats_cols: f.opt_string_array("_VALUE_STATS_COLS")?,
        external_path: f.opt_string("_EXTERNAL_PATH")?,
        first_row_id: f.opt_long("_FIRST_ROW_ID")?,
        write_cols: f.opt_string_array("_WRITE_COLS")?,
    };
    Ok(ManifestEntry {
        kind: r.kind("_KIND")?,
        partition: r.bytes("_PARTITION")?,
        bucket: r.int("_BUCKET")?,
        total_buckets: r.int("_TOTAL_BUCKETS")?,
        file,
    })
}

fn read_index_entry(r: &Rec<'_>) -> Result<IndexManifestEntry> {
    let dv_ranges = match r.opt_array("_DELETIONS_VECTORS_RANGES")? {
        None => None,
        Some(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let key = format!("_DELETIONS_VECTORS_RANGES[{i}]");
                    let fields = match strip_union(v) {
                        Value::Record(fields) => fields,
                        other => {
                            return Err(
                                r.err(&key, format!("expected record, found {}", type_name(other)))
                            )
                        }
                    };
                    let d = Rec {
                        ctx: r.ctx,
                        fields,
                        prefix: format!("{}.", r.name(&key)),
                    };
                    Ok(DeletionVectorMeta {
                        data_file_name: d.string("f0")?,
                        offset: d.int("f1")?,
                        length: d.int("f2")?,
                        cardinality: d.opt_long("_CARDINALITY")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
        ),
    };
    Ok(IndexManifestEntry {
        kind: r.kind("_KIND")?,
        partition: r.bytes("_PARTITION")?,
        bucket: r.int("_BUCKET")?,
        index_type: r.string("_INDEX_TYPE")?,
        file_name: r.string("_FILE_NAME")?,
        file_size: r.long("_FILE_SIZE")?,
        row_count: r.long("_ROW_COUNT")?,
        dv_ranges,
        external_path: r.opt_string("_EXTERNAL_PATH")?,
    })
}
