//! Routing rows to (partition, bucket), shared by the writer and lookups: partition values
//! become a BinaryRow (the manifest's `_PARTITION`) and the bucket is Murmur3 over the
//! BinaryRow of the bucket-key columns ([`bucket_key_names`]: the `bucket-key` option, else the
//! trimmed primary key).
//!
//! * [`RowEncoder`] encodes selected columns of Arrow batches row by row (the writer's path);
//! * [`KeyRouter`] routes one primary-key value given as [`Datum`]s (the lookup path).
//!
//! Both write the bytes through [`BinaryRowWriter`], so a key is looked up in the bucket it was
//! written to.

use std::collections::HashMap;

use crate::binary_row::{BinaryRow, BinaryRowWriter};
use crate::bucket::{bucket_of, hash_row};
use crate::datum::Datum;
use crate::options::TableOptions;
use crate::schema::TableSchema;
use crate::types::{DataField, DataType, TypeKind};
use crate::{Error, Result};
use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int16Array, Int32Array, Int64Array, Int8Array, RecordBatch, StringArray,
    Time32MillisecondArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    TimestampNanosecondArray,
};
use arrow::datatypes::{DataType as A, TimeUnit};

/// A column downcast once per batch so per-row encoding is a match and a load.
enum Col<'a> {
    Bool(&'a BooleanArray),
    I8(&'a Int8Array),
    I16(&'a Int16Array),
    I32(&'a Int32Array),
    I64(&'a Int64Array),
    F32(&'a Float32Array),
    F64(&'a Float64Array),
    Dec(&'a Decimal128Array, u32),
    Str(&'a StringArray),
    Bin(&'a BinaryArray),
    Date(&'a Date32Array),
    Time(&'a Time32MillisecondArray),
    TsMs(&'a TimestampMillisecondArray, u32),
    TsUs(&'a TimestampMicrosecondArray, u32),
    TsNs(&'a TimestampNanosecondArray, u32),
}

fn down<'a, T: 'static>(a: &'a ArrayRef, name: &str) -> Result<&'a T> {
    a.as_any().downcast_ref::<T>().ok_or_else(|| {
        Error::Internal(format!(
            "column {name}: unexpected Arrow type {}",
            a.data_type()
        ))
    })
}

/// Encodes selected columns of a batch row by row into a reusable BinaryRow buffer.
pub struct RowEncoder<'a> {
    cols: Vec<(Col<'a>, &'a ArrayRef, DataType)>,
    writer: BinaryRowWriter,
}

impl<'a> RowEncoder<'a> {
    pub fn new(columns: &'a [ArrayRef], types: &[DataType], names: &[String]) -> Result<Self> {
        let mut cols = Vec::with_capacity(columns.len());
        for ((a, ty), name) in columns.iter().zip(types).zip(names) {
            let col = match (a.data_type(), &ty.kind) {
                (A::Boolean, _) => Col::Bool(down(a, name)?),
                (A::Int8, _) => Col::I8(down(a, name)?),
                (A::Int16, _) => Col::I16(down(a, name)?),
                (A::Int32, _) => Col::I32(down(a, name)?),
                (A::Int64, _) => Col::I64(down(a, name)?),
                (A::Float32, _) => Col::F32(down(a, name)?),
                (A::Float64, _) => Col::F64(down(a, name)?),
                (A::Decimal128(_, _), TypeKind::Decimal { precision, .. }) => {
                    Col::Dec(down(a, name)?, *precision)
                }
                (A::Utf8, _) => Col::Str(down(a, name)?),
                (A::Binary, _) => Col::Bin(down(a, name)?),
                (A::Date32, _) => Col::Date(down(a, name)?),
                (A::Time32(TimeUnit::Millisecond), _) => Col::Time(down(a, name)?),
                (
                    A::Timestamp(TimeUnit::Millisecond, _),
                    TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p),
                ) => Col::TsMs(down(a, name)?, *p),
                (
                    A::Timestamp(TimeUnit::Microsecond, _),
                    TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p),
                ) => Col::TsUs(down(a, name)?, *p),
                (
                    A::Timestamp(TimeUnit::Nanosecond, _),
                    TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p),
                ) => Col::TsNs(down(a, name)?, *p),
                (other, _) => {
                    return Err(Error::unsupported(format!(
                        "column {name} of type {ty} (Arrow {other}) as a partition or bucket key"
                    )))
                }
            };
            cols.push((col, a, ty.clone()));
        }
        Ok(RowEncoder {
            writer: BinaryRowWriter::new(cols.len()),
            cols,
        })
    }

    /// Encodes row `row`; the bytes are in [`Self::bytes`] until the next call.
    pub fn encode(&mut self, row: usize) {
        let w = &mut self.writer;
        w.reset();
        for (pos, (col, arr, ty)) in self.cols.iter().enumerate() {
            if arr.is_null(row) {
                w.set_null_for_type(pos, ty);
                continue;
            }
            match col {
                Col::Bool(a) => w.write_bool(pos, a.value(row)),
                Col::I8(a) => w.write_i8(pos, a.value(row)),
                Col::I16(a) => w.write_i16(pos, a.value(row)),
                Col::I32(a) => w.write_i32(pos, a.value(row)),
                Col::I64(a) => w.write_i64(pos, a.value(row)),
                Col::F32(a) => w.write_f32(pos, a.value(row)),
                Col::F64(a) => w.write_f64(pos, a.value(row)),
                Col::Dec(a, p) => w.write_decimal(pos, a.value(row), *p),
                Col::Str(a) => w.write_bytes(pos, a.value(row).as_bytes()),
                Col::Bin(a) => w.write_bytes(pos, a.value(row)),
                Col::Date(a) => w.write_i32(pos, a.value(row)),
                Col::Time(a) => w.write_i32(pos, a.value(row)),
                Col::TsMs(a, p) => w.write_timestamp(pos, a.value(row), 0, *p),
                Col::TsUs(a, p) => {
                    let v = a.value(row);
                    w.write_timestamp(
                        pos,
                        v.div_euclid(1000),
                        (v.rem_euclid(1000) * 1000) as i32,
                        *p,
                    )
                }
                Col::TsNs(a, p) => {
                    let v = a.value(row);
                    w.write_timestamp(
                        pos,
                        v.div_euclid(1_000_000),
                        v.rem_euclid(1_000_000) as i32,
                        *p,
                    )
                }
            }
        }
    }

    pub fn bytes(&self) -> &[u8] {
        self.writer.buffer()
    }

    /// The serialized form (arity prefix + row) of the last encoded row.
    pub fn serialized(&self) -> Vec<u8> {
        self.writer.to_row().serialize()
    }

    /// Bucket of the last encoded row.
    pub fn bucket(&self, num_buckets: i32) -> i32 {
        bucket_of(hash_row(self.writer.buffer()), num_buckets)
    }
}

/// Some columns of a table's rows, by name, with their types and positions.
#[derive(Debug, Clone)]
pub struct RowColumns {
    pub names: Vec<String>,
    pub types: Vec<DataType>,
    pub indices: Vec<usize>,
}

impl RowColumns {
    pub fn new(schema: &TableSchema, names: Vec<String>) -> Result<Self> {
        Ok(RowColumns {
            types: schema.types_named(&names)?,
            indices: schema.indices_of(&names)?,
            names,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// These columns of `batch` (whose columns are the table's, in order), in this order.
    pub fn of(&self, batch: &RecordBatch) -> Vec<ArrayRef> {
        self.indices
            .iter()
            .map(|i| batch.column(*i).clone())
            .collect()
    }

    /// An encoder of `columns`, as [`Self::of`] gives them.
    pub fn encoder<'a>(&self, columns: &'a [ArrayRef]) -> Result<RowEncoder<'a>> {
        RowEncoder::new(columns, &self.types, &self.names)
    }
}

/// Numbers the distinct partitions of a batch's rows in the order they are first seen.
pub struct PartitionNumbers<'a> {
    enc: RowEncoder<'a>,
    known: HashMap<Vec<u8>, usize>,
    rows: Vec<Vec<u8>>,
}

impl<'a> PartitionNumbers<'a> {
    /// `enc`: an encoder of the partition columns (none for an unpartitioned table).
    pub fn new(enc: RowEncoder<'a>) -> Self {
        PartitionNumbers {
            enc,
            known: HashMap::new(),
            rows: vec![],
        }
    }

    /// The number of `row`'s partition (0 for every row of an unpartitioned table).
    pub fn of_row(&mut self, row: usize) -> usize {
        if self.enc.cols.is_empty() {
            return 0;
        }
        self.enc.encode(row);
        if let Some(p) = self.known.get(self.enc.bytes()) {
            return *p;
        }
        let p = self.rows.len();
        self.known.insert(self.enc.bytes().to_vec(), p);
        self.rows.push(self.enc.serialized());
        p
    }

    /// The serialized partitions by number; the empty row alone when none was numbered.
    pub fn into_rows(self) -> Vec<Vec<u8>> {
        let mut rows = self.rows;
        if rows.is_empty() {
            rows.push(BinaryRow::empty().serialize());
        }
        rows
    }
}

/// The bucket-key columns of a table: the `bucket-key` option, else the trimmed primary key
/// (empty for an append table without `bucket-key`).
pub fn bucket_key_names(schema: &TableSchema, options: &TableOptions) -> Vec<String> {
    if !options.bucket_key.is_empty() {
        options.bucket_key.clone()
    } else {
        schema.trimmed_primary_keys()
    }
}

/// Whether `d` is a value of type `ty` that a BinaryRow can hold (what
/// [`BinaryRowWriter::write_datum`] accepts), without encoding it.
fn fits(d: &Datum, ty: &DataType) -> bool {
    match (&ty.kind, d) {
        (TypeKind::Boolean, Datum::Bool(_))
        | (TypeKind::TinyInt, Datum::TinyInt(_))
        | (TypeKind::SmallInt, Datum::SmallInt(_))
        | (TypeKind::Int, Datum::Int(_))
        | (TypeKind::Date, Datum::Date(_))
        | (TypeKind::Time(_), Datum::Time(_))
        | (TypeKind::BigInt, Datum::BigInt(_))
        | (TypeKind::Float, Datum::Float(_))
        | (TypeKind::Double, Datum::Double(_))
        | (TypeKind::Char(_) | TypeKind::VarChar(_), Datum::String(_))
        | (TypeKind::Binary(_) | TypeKind::VarBinary(_), Datum::Bytes(_)) => true,
        (TypeKind::Decimal { .. }, Datum::Decimal(_))
        | (TypeKind::Timestamp(_) | TypeKind::LocalZonedTimestamp(_), Datum::Timestamp { .. }) => {
            BinaryRowWriter::new(1).write_datum(0, Some(d), ty).is_ok()
        }
        _ => false,
    }
}

/// Routes a primary-key value — one [`Datum`] per primary-key column, in the order of the
/// table's `primary_keys` — to its partition and bucket.
#[derive(Debug, Clone)]
pub struct KeyRouter {
    key_fields: Vec<DataField>,
    /// Positions in the key of the partition columns, in partition-key order; `None` when a
    /// partition column is not part of the primary key (a cross-partition table: a key may
    /// live in any partition).
    partition_pos: Option<Vec<usize>>,
    partition_types: Vec<DataType>,
    /// Positions in the key of the trimmed primary key (the `_KEY_*` columns).
    trimmed_pos: Vec<usize>,
    /// Positions in the key of the bucket-key columns; `None` when the bucket key is not part
    /// of the primary key (then the bucket cannot be derived from a key).
    bucket_pos: Option<Vec<usize>>,
    bucket_types: Vec<DataType>,
}

impl KeyRouter {
    /// The router of a primary-key table; an append table has no key to route.
    pub fn new(schema: &TableSchema, options: &TableOptions) -> Result<Self> {
        if schema.primary_keys.is_empty() {
            return Err(Error::invalid(
                "a table without a primary key has no keys to look up",
            ));
        }
        let key_fields = schema.fields_named(&schema.primary_keys)?;
        let pos = |name: &String| key_fields.iter().position(|f| &f.name == name);
        let partition_pos: Option<Vec<usize>> = schema.partition_keys.iter().map(pos).collect();
        let partition_types = partition_pos
            .iter()
            .flatten()
            .map(|i| key_fields[*i].data_type.clone())
            .collect();
        let trimmed_pos = schema
            .trimmed_primary_keys()
            .iter()
            .filter_map(pos)
            .collect();
        let bucket_names = bucket_key_names(schema, options);
        let bucket_pos: Option<Vec<usize>> = bucket_names.iter().map(pos).collect();
        let bucket_types = bucket_pos
            .iter()
            .flatten()
            .map(|i| key_fields[*i].data_type.clone())
            .collect();
        Ok(KeyRouter {
            key_fields,
            partition_pos,
            partition_types,
            trimmed_pos,
            bucket_pos,
            bucket_types,
        })
    }

    /// The primary-key columns, in the order key values are given.
    pub fn key_fields(&self) -> &[DataField] {
        &self.key_fields
    }

    /// Positions in the key of the trimmed primary key (the order of `_KEY_*` columns).
    pub fn trimmed_positions(&self) -> &[usize] {
        &self.trimmed_pos
    }

    /// Checks that `key` has one value of the right type per primary-key column.
    pub fn check(&self, key: &[Datum]) -> Result<()> {
        if key.len() != self.key_fields.len() {
            return Err(Error::invalid(format!(
                "a key of this table has {} values ({}), got {}",
                self.key_fields.len(),
                self.key_fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                key.len()
            )));
        }
        for (f, v) in self.key_fields.iter().zip(key) {
            if !fits(v, &f.data_type) {
                return Err(Error::invalid(format!(
                    "key column {} is {}: {v:?} is not a value of that type",
                    f.name, f.data_type
                )));
            }
        }
        Ok(())
    }

    /// Whether a key determines its partition: false for cross-partition tables, whose
    /// partition columns are not all part of the primary key.
    pub fn routes_partition(&self) -> bool {
        self.partition_pos.is_some()
    }

    /// The partition's values, in partition-key order (empty for a cross-partition table).
    pub fn partition_values(&self, key: &[Datum]) -> Vec<Option<Datum>> {
        self.partition_pos
            .iter()
            .flatten()
            .map(|i| key.get(*i).cloned())
            .collect()
    }

    /// The serialized (arity-prefixed) partition BinaryRow of a checked key, as in manifests.
    /// An error for a cross-partition table (see [`KeyRouter::routes_partition`]).
    pub fn partition(&self, key: &[Datum]) -> Result<Vec<u8>> {
        let Some(positions) = &self.partition_pos else {
            return Err(Error::invalid(
                "a key of a cross-partition table (partition columns outside the primary key) does not determine its partition",
            ));
        };
        let mut w = BinaryRowWriter::new(positions.len());
        for (j, (i, ty)) in positions.iter().zip(&self.partition_types).enumerate() {
            w.write_datum(j, key.get(*i), ty)?;
        }
        Ok(w.to_row().serialize())
    }

    /// The bucket of a checked key in a table of `num_buckets` fixed buckets; `None` when the
    /// bucket key is not part of the primary key.
    pub fn bucket(&self, key: &[Datum], num_buckets: i32) -> Result<Option<i32>> {
        let Some(pos) = &self.bucket_pos else {
            return Ok(None);
        };
        let mut w = BinaryRowWriter::new(pos.len());
        for (j, (i, ty)) in pos.iter().zip(&self.bucket_types).enumerate() {
            w.write_datum(j, key.get(*i), ty)?;
        }
        Ok(Some(bucket_of(hash_row(w.buffer()), num_buckets)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::parse_columns;

    fn schema(pk: &[&str], part: &[&str], opts: &[(&str, &str)]) -> (TableSchema, TableOptions) {
        let s = TableSchema::new(
            parse_columns("dt STRING, id BIGINT, v STRING").unwrap(),
            part.iter().map(|s| s.to_string()).collect(),
            pk.iter().map(|s| s.to_string()).collect(),
            opts.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            0,
        )
        .unwrap();
        let o = TableOptions::parse(&s.options, true).unwrap();
        (s, o)
    }

    #[test]
    fn keys_route_like_the_writer() {
        let (s, o) = schema(&["dt", "id"], &["dt"], &[("bucket", "2")]);
        let r = KeyRouter::new(&s, &o).unwrap();
        let key = [Datum::String("2024-01-01".into()), Datum::BigInt(3)];
        r.check(&key).unwrap();
        // BIGINT 3 with 2 buckets is bucket 1 (format digest §7.1).
        assert_eq!(r.bucket(&key, 2).unwrap(), Some(1));
        assert_eq!(r.trimmed_positions(), &[1]);
        let part = BinaryRowWriter::new(1);
        let mut part = part;
        part.write_bytes(0, b"2024-01-01");
        assert_eq!(r.partition(&key).unwrap(), part.to_row().serialize());
    }

    #[test]
    fn bad_keys_name_the_column() {
        let (s, o) = schema(&["dt", "id"], &["dt"], &[]);
        let r = KeyRouter::new(&s, &o).unwrap();
        let e = r.check(&[Datum::BigInt(1)]).unwrap_err().to_string();
        assert!(e.contains("2 values (dt, id), got 1"), "{e}");
        let e = r
            .check(&[Datum::String("x".into()), Datum::String("y".into())])
            .unwrap_err()
            .to_string();
        assert!(e.contains("key column id is BIGINT"), "{e}");
    }

    #[test]
    fn a_cross_partition_key_routes_to_no_partition() {
        // Creating such a table is refused here; Java's writers make them (bucket = -1).
        let (mut s, o) = schema(&["dt", "id"], &["dt"], &[("bucket", "-1")]);
        s.primary_keys = vec!["id".into()];
        let r = KeyRouter::new(&s, &o).unwrap();
        assert!(!r.routes_partition());
        let key = [Datum::BigInt(3)];
        r.check(&key).unwrap();
        assert!(r.partition_values(&key).is_empty());
        let e = r.partition(&key).unwrap_err().to_string();
        assert!(e.contains("cross-partition"), "{e}");
        assert_eq!(r.trimmed_positions(), &[0]);
    }

    #[test]
    fn a_bucket_key_outside_the_primary_key_cannot_route() {
        let (s, o) = schema(&["id"], &[], &[("bucket", "2"), ("bucket-key", "v")]);
        let r = KeyRouter::new(&s, &o).unwrap();
        assert_eq!(r.bucket(&[Datum::BigInt(1)], 2).unwrap(), None);
    }
}
