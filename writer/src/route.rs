//! Routing rows to (partition, bucket): partition values become a BinaryRow (the manifest's
//! `_PARTITION`) and the bucket is Murmur3 over the BinaryRow of the bucket-key columns.

use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int16Array, Int32Array, Int64Array, Int8Array, StringArray,
    Time32MillisecondArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    TimestampNanosecondArray,
};
use arrow::datatypes::{DataType as A, TimeUnit};
use streamhouse_format::binary_row::BinaryRowWriter;
use streamhouse_format::bucket::{bucket_of, hash_row};
use streamhouse_format::types::{DataType, TypeKind};
use streamhouse_format::{Error, Result};

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
        Error::Other(format!(
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
