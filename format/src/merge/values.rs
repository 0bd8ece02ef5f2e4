//! Arrow glue for merge functions: [`ArrowRecords`] reads a key's records out of record
//! batches, and [`datums_to_array`] turns computed values back into an Arrow column.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder,
    Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder, Int8Builder,
    StringBuilder, Time32MillisecondBuilder, TimestampMicrosecondBuilder,
    TimestampMillisecondBuilder, TimestampNanosecondBuilder,
};
use arrow::datatypes::TimeUnit;
use arrow::record_batch::RecordBatch;

use crate::datum::{datum_from_arrow, Datum};
use crate::error::{Error, Result};
use crate::types::{timestamp_unit, DataType, TypeKind};

use super::RecordValues;

/// A key's records held in Arrow batches: record `i` is row `refs[i].1` of
/// `batches[refs[i].0]`; merge column `c` is batch column `columns[c]` of type `types[c]`.
pub struct ArrowRecords<'a> {
    pub batches: &'a [RecordBatch],
    pub refs: &'a [(usize, usize)],
    pub columns: &'a [usize],
    pub types: &'a [DataType],
}

impl ArrowRecords<'_> {
    fn array(&self, record: usize, column: usize) -> Option<(&dyn Array, usize)> {
        let (b, row) = *self.refs.get(record)?;
        let batch = self.batches.get(b)?;
        let col = *self.columns.get(column)?;
        if col >= batch.num_columns() || row >= batch.num_rows() {
            return None;
        }
        Some((batch.column(col).as_ref(), row))
    }
}

impl RecordValues for ArrowRecords<'_> {
    fn is_null(&self, record: usize, column: usize) -> bool {
        match self.array(record, column) {
            Some((a, row)) => a.is_null(row),
            None => true,
        }
    }

    fn datum(&self, record: usize, column: usize) -> Result<Option<Datum>> {
        let (a, row) = self.array(record, column).ok_or_else(|| {
            Error::Internal(format!(
                "merge record {record} column {column} out of range"
            ))
        })?;
        let ty = self
            .types
            .get(column)
            .ok_or_else(|| Error::Internal(format!("merge column {column} has no type")))?;
        datum_from_arrow(a, row, ty)
    }
}

fn mismatch(ty: &DataType, d: &Datum) -> Error {
    Error::Internal(format!("value {d:?} does not fit column type {ty}"))
}

/// Builds an Arrow array of `ty.to_arrow()` from values (None = null).
pub fn datums_to_array(values: &[Option<Datum>], ty: &DataType) -> Result<ArrayRef> {
    macro_rules! build {
        ($builder:expr, $pat:pat => $v:expr) => {{
            let mut b = $builder;
            for d in values {
                match d {
                    None => b.append_null(),
                    Some($pat) => b.append_value($v),
                    Some(other) => return Err(mismatch(ty, other)),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    let n = values.len();
    let ts = |d: &Datum, unit: TimeUnit| -> Result<i64> {
        match d {
            Datum::Timestamp { millis, nanos } => {
                // Saturating, in i128: the first millisecond of the nanosecond range starts
                // below i64::MIN, so saturating the milliseconds first would miss it.
                let (per_milli, sub) = match unit {
                    TimeUnit::Millisecond => (1, 0),
                    TimeUnit::Microsecond => (1000, i128::from(*nanos) / 1000),
                    _ => (1_000_000, i128::from(*nanos)),
                };
                let v = i128::from(*millis) * per_milli + sub;
                Ok(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
            }
            other => Err(mismatch(ty, other)),
        }
    };
    Ok(match &ty.kind {
        TypeKind::Boolean => build!(BooleanBuilder::with_capacity(n), Datum::Bool(v) => *v),
        TypeKind::TinyInt => build!(Int8Builder::with_capacity(n), Datum::TinyInt(v) => *v),
        TypeKind::SmallInt => build!(Int16Builder::with_capacity(n), Datum::SmallInt(v) => *v),
        TypeKind::Int => build!(Int32Builder::with_capacity(n), Datum::Int(v) => *v),
        TypeKind::BigInt => build!(Int64Builder::with_capacity(n), Datum::BigInt(v) => *v),
        TypeKind::Float => build!(Float32Builder::with_capacity(n), Datum::Float(v) => *v),
        TypeKind::Double => build!(Float64Builder::with_capacity(n), Datum::Double(v) => *v),
        TypeKind::Decimal { precision, scale } => {
            let b = Decimal128Builder::with_capacity(n)
                .with_precision_and_scale(*precision as u8, *scale as i8)
                .map_err(|e| Error::arrow(format!("decimal column type {ty}"), e))?;
            build!(b, Datum::Decimal(v) => *v)
        }
        TypeKind::Char(_) | TypeKind::VarChar(_) => {
            build!(StringBuilder::with_capacity(n, n * 8), Datum::String(v) => v.as_str())
        }
        TypeKind::Binary(_) | TypeKind::VarBinary(_) | TypeKind::Variant | TypeKind::Blob => {
            build!(BinaryBuilder::with_capacity(n, n * 8), Datum::Bytes(v) => v.as_slice())
        }
        TypeKind::Date => build!(Date32Builder::with_capacity(n), Datum::Date(v) => *v),
        TypeKind::Time(_) => {
            build!(Time32MillisecondBuilder::with_capacity(n), Datum::Time(v) => *v)
        }
        TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p) => {
            let unit = timestamp_unit(*p);
            let mut raw = Vec::with_capacity(n);
            for d in values {
                raw.push(d.as_ref().map(|d| ts(d, unit)).transpose()?);
            }
            let arr: ArrayRef = match unit {
                TimeUnit::Millisecond => {
                    let mut b = TimestampMillisecondBuilder::with_capacity(n);
                    raw.iter().for_each(|v| b.append_option(*v));
                    Arc::new(b.finish())
                }
                TimeUnit::Microsecond => {
                    let mut b = TimestampMicrosecondBuilder::with_capacity(n);
                    raw.iter().for_each(|v| b.append_option(*v));
                    Arc::new(b.finish())
                }
                _ => {
                    let mut b = TimestampNanosecondBuilder::with_capacity(n);
                    raw.iter().for_each(|v| b.append_option(*v));
                    Arc::new(b.finish())
                }
            };
            // Attach the time zone of TIMESTAMP WITH LOCAL TIME ZONE.
            arrow::compute::cast(&arr, &ty.to_arrow())
                .map_err(|e| Error::arrow("timestamp column", e))?
        }
        _ if values.iter().all(Option::is_none) => arrow::array::new_null_array(&ty.to_arrow(), n),
        _ => return Err(Error::unsupported(format!("computed values of type {ty}"))),
    })
}
