//! Decoding ORC manifest lists, manifests and index manifests (`manifest.format = orc`)
//! through the `orc-rust` crate.
//!
//! Each row of the ORC file becomes the generic record value the Avro path decodes, so both
//! formats are read by the same field-name-based code in `avro_read` (same structs, same
//! optional-field and version rules). Timestamps become `timestamp-micros` values.

use std::collections::HashMap;

use apache_avro::types::Value;
use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use bytes::Bytes;

use crate::error::{Error, Result};

/// Magic bytes at the start of an ORC file.
pub(super) const ORC_MAGIC: &[u8] = b"ORC";

/// Decodes every row of an ORC file into a record value whose fields are the file's top-level
/// columns by name. `path` and `what` are only used in errors.
pub(super) fn decode_rows(bytes: &[u8], path: &str, what: &str) -> Result<Vec<Value>> {
    let builder = orc_rust::ArrowReaderBuilder::try_new(Bytes::copy_from_slice(bytes))
        .map_err(|e| Error::corrupt(path, format!("{what}: not a readable ORC file: {e}")))?;
    let mut out = vec![];
    for batch in builder.build() {
        let batch =
            batch.map_err(|e| Error::corrupt(path, format!("{what}: ORC decoding failed: {e}")))?;
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            let record = out.len();
            let mut fields = Vec::with_capacity(batch.num_columns());
            for (field, col) in schema.fields().iter().zip(batch.columns()) {
                let v = value(col.as_ref(), row).map_err(|e| {
                    Error::corrupt(
                        path,
                        format!("{what} record {record}: field {}: {e}", field.name()),
                    )
                })?;
                fields.push((field.name().clone(), v));
            }
            out.push(Value::Record(fields));
        }
    }
    Ok(out)
}

/// The items of one list value.
fn array_value(items: &dyn Array) -> std::result::Result<Value, String> {
    (0..items.len())
        .map(|j| value(items, j))
        .collect::<std::result::Result<_, _>>()
        .map(Value::Array)
}

/// The generic value of row `i` of an Arrow column decoded from ORC.
fn value(a: &dyn Array, i: usize) -> std::result::Result<Value, String> {
    if a.is_null(i) {
        return Ok(Value::Null);
    }
    Ok(match a.data_type() {
        DataType::Boolean => Value::Boolean(a.as_boolean().value(i)),
        DataType::Int8 => Value::Int(a.as_primitive::<Int8Type>().value(i).into()),
        DataType::Int16 => Value::Int(a.as_primitive::<Int16Type>().value(i).into()),
        DataType::Int32 => Value::Int(a.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => Value::Long(a.as_primitive::<Int64Type>().value(i)),
        DataType::Float32 => Value::Float(a.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => Value::Double(a.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => Value::String(a.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Value::String(a.as_string::<i64>().value(i).to_string()),
        DataType::Binary => Value::Bytes(a.as_binary::<i32>().value(i).to_vec()),
        DataType::LargeBinary => Value::Bytes(a.as_binary::<i64>().value(i).to_vec()),
        DataType::Timestamp(unit, _) => Value::TimestampMicros(match unit {
            TimeUnit::Second => a
                .as_primitive::<TimestampSecondType>()
                .value(i)
                .saturating_mul(1_000_000),
            TimeUnit::Millisecond => a
                .as_primitive::<TimestampMillisecondType>()
                .value(i)
                .saturating_mul(1_000),
            TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().value(i),
            TimeUnit::Nanosecond => a
                .as_primitive::<TimestampNanosecondType>()
                .value(i)
                .div_euclid(1_000),
        }),
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let mut out = Vec::with_capacity(fields.len());
            for (f, c) in fields.iter().zip(s.columns()) {
                out.push((f.name().clone(), value(c.as_ref(), i)?));
            }
            Value::Record(out)
        }
        DataType::List(_) => array_value(a.as_list::<i32>().value(i).as_ref())?,
        DataType::LargeList(_) => array_value(a.as_list::<i64>().value(i).as_ref())?,
        DataType::Map(..) => {
            let m = a.as_map();
            let entries = m.value(i);
            let mut out = HashMap::new();
            for j in 0..entries.len() {
                let key = match value(entries.column(0).as_ref(), j)? {
                    Value::String(s) => s,
                    other => return Err(format!("map key {other:?} is not a string")),
                };
                out.insert(key, value(entries.column(1).as_ref(), j)?);
            }
            Value::Map(out)
        }
        other => return Err(format!("unexpected ORC column type {other}")),
    })
}
