//! Cells of CSV text or JSON values → Arrow arrays of a column's Paimon type. Strict: a value
//! that does not fit (out of range, too many decimals or fraction digits, too long, NULL in a
//! NOT NULL type) is an error saying why, never a silent change.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, Int8Array, ListArray, MapArray, PrimitiveArray,
    StringArray, StructArray, Time32MillisecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{
    DataType as ArrowType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use serde_json::Value;
use streamhouse_format::types::{DataType, TypeKind, MAX_LENGTH};

use crate::base64;
use crate::temporal;

/// One input value before conversion.
#[derive(Debug, Clone, Copy)]
pub enum Raw<'a> {
    /// An explicit NULL (empty CSV field, JSON null or a missing key).
    Null,
    /// A field of a ROW whose row is NULL: null without a NOT NULL check.
    Absent,
    /// Text: a CSV field or a JSON string.
    Text(&'a str),
    /// A JSON value other than a string or null.
    Json(&'a Value),
}

impl<'a> Raw<'a> {
    pub fn from_json(v: &'a Value) -> Self {
        match v {
            Value::Null => Raw::Null,
            Value::String(s) => Raw::Text(s),
            v => Raw::Json(v),
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Raw::Null | Raw::Absent)
    }
}

/// A conversion failure: which input row and why.
#[derive(Debug)]
pub struct CellError {
    pub row: usize,
    pub detail: String,
}

type CellResult<T> = Result<T, CellError>;

/// How a value is quoted in messages (long values are cut).
pub fn show(r: &Raw) -> String {
    let cut = |s: &str| {
        if s.chars().count() > 40 {
            format!("{}…", s.chars().take(40).collect::<String>())
        } else {
            s.to_string()
        }
    };
    match r {
        Raw::Null | Raw::Absent => "NULL".into(),
        Raw::Text(s) => format!("{:?}", cut(s)),
        Raw::Json(v) => cut(&v.to_string()),
    }
}

/// The type's name without NOT NULL, for messages.
fn type_name(ty: &DataType) -> String {
    ty.with_nullable(true).to_string()
}

/// Converts one column. `rows[i]` is the input row (for errors) of `cells[i]`.
pub fn build_array(ty: &DataType, cells: &[Raw], rows: &[usize]) -> CellResult<ArrayRef> {
    if !ty.nullable {
        if let Some(i) = cells.iter().position(|c| matches!(c, Raw::Null)) {
            return Err(CellError {
                row: rows[i],
                detail: format!("NULL is not allowed in {ty}"),
            });
        }
    }
    let name = type_name(ty);
    Ok(match &ty.kind {
        TypeKind::Boolean => Arc::new(BooleanArray::from(collect(cells, rows, |r| {
            boolean(r, &name)
        })?)),
        TypeKind::TinyInt => Arc::new(Int8Array::from(collect(cells, rows, |r| {
            integer(r, &name, i8::MIN.into(), i8::MAX.into()).map(|v| v as i8)
        })?)),
        TypeKind::SmallInt => Arc::new(Int16Array::from(collect(cells, rows, |r| {
            integer(r, &name, i16::MIN.into(), i16::MAX.into()).map(|v| v as i16)
        })?)),
        TypeKind::Int => Arc::new(Int32Array::from(collect(cells, rows, |r| {
            integer(r, &name, i32::MIN.into(), i32::MAX.into()).map(|v| v as i32)
        })?)),
        TypeKind::BigInt => Arc::new(Int64Array::from(collect(cells, rows, |r| {
            integer(r, &name, i64::MIN, i64::MAX)
        })?)),
        TypeKind::Float => Arc::new(Float32Array::from(collect(cells, rows, |r| {
            let v = float(r, &name)?;
            let f = v as f32;
            if v.is_finite() && f.is_infinite() {
                return Err(format!("{} is out of range for FLOAT", show(r)));
            }
            Ok(f)
        })?)),
        TypeKind::Double => Arc::new(Float64Array::from(collect(cells, rows, |r| {
            float(r, &name)
        })?)),
        TypeKind::Decimal { precision, scale } => {
            let values = collect(cells, rows, |r| decimal(r, *precision, *scale))?;
            Arc::new(
                Decimal128Array::from(values)
                    .with_precision_and_scale(*precision as u8, *scale as i8)
                    .map_err(|e| CellError {
                        row: 0,
                        detail: e.to_string(),
                    })?,
            )
        }
        TypeKind::Char(n) | TypeKind::VarChar(n) => {
            Arc::new(StringArray::from(collect(cells, rows, |r| {
                string(r, *n, &name)
            })?))
        }
        TypeKind::Binary(n) | TypeKind::VarBinary(n) => {
            let values = collect(cells, rows, |r| binary(r, *n, &name))?;
            Arc::new(values.iter().map(|v| v.as_deref()).collect::<BinaryArray>())
        }
        TypeKind::Variant | TypeKind::Blob => {
            let values = collect(cells, rows, |r| binary(r, MAX_LENGTH, &name))?;
            Arc::new(values.iter().map(|v| v.as_deref()).collect::<BinaryArray>())
        }
        TypeKind::Date => Arc::new(Date32Array::from(collect(cells, rows, |r| {
            temporal::parse_date(text(r, &name)?)
        })?)),
        TypeKind::Time(p) => Arc::new(Time32MillisecondArray::from(collect(cells, rows, |r| {
            temporal::parse_time(text(r, &name)?, *p)
        })?)),
        TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p) => {
            timestamps(ty, *p, cells, rows, &name)?
        }
        TypeKind::Array(e) | TypeKind::Multiset(e) => list(ty, e, cells, rows)?,
        TypeKind::Map(k, v) => map(ty, k, v, cells, rows)?,
        TypeKind::Row(_) => row(ty, cells, rows)?,
    })
}

fn collect<T>(
    cells: &[Raw],
    rows: &[usize],
    f: impl Fn(&Raw) -> Result<T, String>,
) -> CellResult<Vec<Option<T>>> {
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            Raw::Null | Raw::Absent => Ok(None),
            c => f(c).map(Some).map_err(|detail| CellError {
                row: rows[i],
                detail,
            }),
        })
        .collect()
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn text<'a>(r: &Raw<'a>, name: &str) -> Result<&'a str, String> {
    match r {
        Raw::Text(s) => Ok(s),
        Raw::Json(v) => Err(format!(
            "{} is {}, but {name} is written as a string",
            show(r),
            json_kind(v)
        )),
        Raw::Null | Raw::Absent => Err("NULL".into()),
    }
}

fn boolean(r: &Raw, name: &str) -> Result<bool, String> {
    match r {
        Raw::Json(Value::Bool(b)) => Ok(*b),
        Raw::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(format!("{} is not a valid {name} (true or false)", show(r))),
        },
        _ => Err(format!("{} is not a valid {name} (true or false)", show(r))),
    }
}

fn integer(r: &Raw, name: &str, min: i64, max: i64) -> Result<i64, String> {
    let v: Option<i128> = match r {
        Raw::Text(s) => s.trim().parse::<i128>().ok(),
        Raw::Json(Value::Number(n)) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e30)
                    .map(|f| f as i128)
            }),
        _ => None,
    };
    match v {
        None => Err(format!("{} is not a valid {name}", show(r))),
        Some(v) if v < i128::from(min) || v > i128::from(max) => Err(format!(
            "{} is out of range for {name} ({min} to {max})",
            show(r)
        )),
        Some(v) => Ok(v as i64),
    }
}

fn float(r: &Raw, name: &str) -> Result<f64, String> {
    match r {
        Raw::Text(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("{} is not a valid {name}", show(r))),
        Raw::Json(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| format!("{} is not a valid {name}", show(r))),
        _ => Err(format!("{} is not a valid {name}", show(r))),
    }
}

fn decimal(r: &Raw, precision: u32, scale: u32) -> Result<i128, String> {
    let owned;
    let t = match r {
        Raw::Text(s) => *s,
        Raw::Json(Value::Number(n)) => {
            owned = n.to_string();
            &owned
        }
        _ => {
            return Err(format!(
                "{} is not a valid DECIMAL({precision}, {scale})",
                show(r)
            ))
        }
    };
    parse_decimal(t, precision, scale).map_err(|why| format!("{} {why}", show(r)))
}

/// Parses `[-+]digits[.digits][e[-+]digits]` exactly into an unscaled value with `scale`.
pub fn parse_decimal(text: &str, precision: u32, scale: u32) -> Result<i128, String> {
    let ty = format!("DECIMAL({precision}, {scale})");
    let invalid = || format!("is not a valid {ty}");
    let t = text.trim();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (
            &body[..i],
            body[i + 1..].parse::<i32>().map_err(|_| invalid())?,
        ),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return Err(invalid());
    }
    if exp.abs() > 1000 {
        return Err(format!("is out of range for {ty}"));
    }
    // value = digits × 10^-(frac_len - exp)
    let mut digits = format!("{int_part}{frac_part}");
    let value_scale = frac_part.len() as i64 - i64::from(exp);
    let s = i64::from(scale);
    if value_scale > s {
        let extra = (value_scale - s) as usize;
        let keep = digits.len().saturating_sub(extra);
        if digits[keep..].bytes().any(|b| b != b'0') {
            return Err(format!(
                "has more than {scale} digits after the decimal point, which {ty} keeps"
            ));
        }
        digits.truncate(keep);
    } else {
        digits.extend(std::iter::repeat_n('0', (s - value_scale) as usize));
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > precision as usize {
        return Err(format!(
            "does not fit {ty}: at most {} digits before the decimal point",
            precision - scale
        ));
    }
    let unscaled: i128 = if significant.is_empty() {
        0
    } else {
        significant.parse().map_err(|_| invalid())?
    };
    Ok(if neg { -unscaled } else { unscaled })
}

fn string(r: &Raw, max_chars: u32, name: &str) -> Result<String, String> {
    let s = match r {
        Raw::Text(s) => s.to_string(),
        Raw::Json(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
        Raw::Json(v) => {
            return Err(format!(
                "{} is {}, but {name} takes a string",
                show(r),
                json_kind(v)
            ))
        }
        Raw::Null | Raw::Absent => return Err("NULL".into()),
    };
    if max_chars != MAX_LENGTH {
        let n = s.chars().count();
        if n > max_chars as usize {
            return Err(format!(
                "{} has {n} characters, more than {name} holds ({max_chars})",
                show(r)
            ));
        }
    }
    Ok(s)
}

fn binary(r: &Raw, max_len: u32, name: &str) -> Result<Vec<u8>, String> {
    let t = text(r, name).map_err(|_| format!("{} is not a base64 string for {name}", show(r)))?;
    let bytes = base64::decode(t.trim())
        .map_err(|why| format!("{} is not valid base64 for {name}: {why}", show(r)))?;
    if max_len != MAX_LENGTH && bytes.len() > max_len as usize {
        return Err(format!(
            "{} decodes to {} bytes, more than {name} holds ({max_len})",
            show(r),
            bytes.len()
        ));
    }
    Ok(bytes)
}

fn timestamps(
    ty: &DataType,
    precision: u32,
    cells: &[Raw],
    rows: &[usize],
    name: &str,
) -> CellResult<ArrayRef> {
    let (unit, tz) = match ty.to_arrow() {
        ArrowType::Timestamp(unit, tz) => (unit, tz),
        other => {
            return Err(CellError {
                row: 0,
                detail: format!("unexpected Arrow type {other} for {name}"),
            })
        }
    };
    let with_zone = matches!(ty.kind, TypeKind::LocalZonedTimestamp(_));
    let values = collect(cells, rows, |r| {
        temporal::parse_timestamp(text(r, name)?, precision, unit, with_zone)
    })?;
    Ok(match unit {
        TimeUnit::Second => {
            Arc::new(PrimitiveArray::<TimestampSecondType>::from(values).with_timezone_opt(tz))
        }
        TimeUnit::Millisecond => {
            Arc::new(PrimitiveArray::<TimestampMillisecondType>::from(values).with_timezone_opt(tz))
        }
        TimeUnit::Microsecond => {
            Arc::new(PrimitiveArray::<TimestampMicrosecondType>::from(values).with_timezone_opt(tz))
        }
        TimeUnit::Nanosecond => {
            Arc::new(PrimitiveArray::<TimestampNanosecondType>::from(values).with_timezone_opt(tz))
        }
    })
}

/// Nested values arrive as JSON values, or (from CSV) as JSON text parsed here.
fn parse_nested(cells: &[Raw], rows: &[usize], name: &str) -> CellResult<Vec<Option<Value>>> {
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            Raw::Text(s) => serde_json::from_str::<Value>(s)
                .map(Some)
                .map_err(|e| CellError {
                    row: rows[i],
                    detail: format!(
                        "{} is not JSON for {name}: {}",
                        show(c),
                        crate::input::json::describe_json_error(&e)
                    ),
                }),
            _ => Ok(None),
        })
        .collect()
}

fn nested_value<'a>(c: &Raw<'a>, parsed: &'a Option<Value>) -> Option<&'a Value> {
    match (c, parsed) {
        (_, Some(v)) => Some(v),
        (Raw::Json(v), None) => Some(v),
        _ => None,
    }
}

fn null_buffer(valid: Vec<bool>) -> Option<NullBuffer> {
    valid.iter().any(|v| !v).then(|| NullBuffer::from(valid))
}

fn arrow_err(e: arrow::error::ArrowError) -> CellError {
    CellError {
        row: 0,
        detail: e.to_string(),
    }
}

fn list(ty: &DataType, elem: &DataType, cells: &[Raw], rows: &[usize]) -> CellResult<ArrayRef> {
    let name = type_name(ty);
    let ArrowType::List(field) = ty.to_arrow() else {
        return Err(CellError {
            row: 0,
            detail: format!("unexpected Arrow type for {name}"),
        });
    };
    let parsed = parse_nested(cells, rows, &name)?;
    let (mut children, mut child_rows, mut offsets, mut valid) =
        (vec![], vec![], vec![0i32], vec![]);
    for (i, c) in cells.iter().enumerate() {
        match nested_value(c, &parsed[i]) {
            Some(Value::Array(items)) => {
                children.extend(items.iter().map(Raw::from_json));
                child_rows.extend(std::iter::repeat_n(rows[i], items.len()));
                valid.push(true);
            }
            Some(v) => {
                return Err(CellError {
                    row: rows[i],
                    detail: format!(
                        "{} is {}, but {name} takes a JSON array",
                        show(c),
                        json_kind(v)
                    ),
                })
            }
            None => valid.push(false),
        }
        offsets.push(children.len() as i32);
    }
    let values = build_array(elem, &children, &child_rows)?;
    let offsets = OffsetBuffer::new(offsets.into());
    Ok(Arc::new(
        ListArray::try_new(field, offsets, values, null_buffer(valid)).map_err(arrow_err)?,
    ))
}

fn map(
    ty: &DataType,
    key: &DataType,
    value: &DataType,
    cells: &[Raw],
    rows: &[usize],
) -> CellResult<ArrayRef> {
    let name = type_name(ty);
    let ArrowType::Map(entries_field, sorted) = ty.to_arrow() else {
        return Err(CellError {
            row: 0,
            detail: format!("unexpected Arrow type for {name}"),
        });
    };
    let ArrowType::Struct(entry_fields) = entries_field.data_type().clone() else {
        return Err(CellError {
            row: 0,
            detail: format!("unexpected Arrow type for {name}"),
        });
    };
    let parsed = parse_nested(cells, rows, &name)?;
    let (mut keys, mut vals, mut child_rows, mut offsets, mut valid) =
        (vec![], vec![], vec![], vec![0i32], vec![]);
    for (i, c) in cells.iter().enumerate() {
        match nested_value(c, &parsed[i]) {
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    keys.push(Raw::Text(k));
                    vals.push(Raw::from_json(v));
                    child_rows.push(rows[i]);
                }
                valid.push(true);
            }
            Some(v) => {
                return Err(CellError {
                    row: rows[i],
                    detail: format!(
                        "{} is {}, but {name} takes a JSON object",
                        show(c),
                        json_kind(v)
                    ),
                })
            }
            None => valid.push(false),
        }
        offsets.push(keys.len() as i32);
    }
    let key_array = build_array(&key.with_nullable(false), &keys, &child_rows)?;
    let value_array = build_array(value, &vals, &child_rows)?;
    let entries = StructArray::try_new(entry_fields, vec![key_array, value_array], None)
        .map_err(arrow_err)?;
    let offsets = OffsetBuffer::new(offsets.into());
    Ok(Arc::new(
        MapArray::try_new(entries_field, offsets, entries, null_buffer(valid), sorted)
            .map_err(arrow_err)?,
    ))
}

fn row(ty: &DataType, cells: &[Raw], rows: &[usize]) -> CellResult<ArrayRef> {
    let name = type_name(ty);
    let (TypeKind::Row(fields), ArrowType::Struct(arrow_fields)) = (&ty.kind, ty.to_arrow()) else {
        return Err(CellError {
            row: 0,
            detail: format!("unexpected Arrow type for {name}"),
        });
    };
    let parsed = parse_nested(cells, rows, &name)?;
    let mut objects = Vec::with_capacity(cells.len());
    for (i, c) in cells.iter().enumerate() {
        match nested_value(c, &parsed[i]) {
            Some(Value::Object(m)) => {
                if let Some(k) = m.keys().find(|k| !fields.iter().any(|f| &f.name == *k)) {
                    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                    return Err(CellError {
                        row: rows[i],
                        detail: format!("{name} has no field {k:?} (fields: {})", names.join(", ")),
                    });
                }
                objects.push(Some(m));
            }
            Some(v) => {
                return Err(CellError {
                    row: rows[i],
                    detail: format!(
                        "{} is {}, but {name} takes a JSON object",
                        show(c),
                        json_kind(v)
                    ),
                })
            }
            None => objects.push(None),
        }
    }
    let mut arrays = Vec::with_capacity(fields.len());
    for f in fields {
        let child: Vec<Raw> = objects
            .iter()
            .map(|o| match o {
                Some(m) => m.get(&f.name).map(Raw::from_json).unwrap_or(Raw::Null),
                None => Raw::Absent,
            })
            .collect();
        arrays.push(
            build_array(&f.data_type, &child, rows).map_err(|e| CellError {
                row: e.row,
                detail: format!("field {}: {}", f.name, e.detail),
            })?,
        );
    }
    let valid = objects.iter().map(Option::is_some).collect();
    Ok(Arc::new(
        StructArray::try_new(arrow_fields, arrays, null_buffer(valid)).map_err(arrow_err)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Decimal128Type, Int8Type};
    use streamhouse_format::types::parse_type;

    fn build(ty: &str, cells: &[Raw]) -> CellResult<ArrayRef> {
        let rows: Vec<usize> = (0..cells.len()).collect();
        build_array(&parse_type(ty).unwrap(), cells, &rows)
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal("12.3", 10, 2).unwrap(), 1230);
        assert_eq!(parse_decimal("-0.05", 10, 2).unwrap(), -5);
        assert_eq!(parse_decimal("1.2e2", 10, 2).unwrap(), 12000);
        assert_eq!(parse_decimal("12.300", 10, 2).unwrap(), 1230);
        assert_eq!(parse_decimal("12345678.99", 10, 2).unwrap(), 1234567899);
        assert!(parse_decimal("12.345", 10, 2)
            .unwrap_err()
            .contains("more than 2 digits"));
        assert!(parse_decimal("123456789", 10, 2)
            .unwrap_err()
            .contains("does not fit"));
        assert!(parse_decimal("abc", 10, 2).is_err());
        assert!(parse_decimal(".", 10, 2).is_err());
        let big = "12345678901234567890.123456789012345678";
        assert_eq!(
            parse_decimal(big, 38, 18).unwrap(),
            12345678901234567890123456789012345678
        );
        let a = build("DECIMAL(5, 1)", &[Raw::Text("1.5"), Raw::Null]).unwrap();
        assert_eq!(a.as_primitive::<Decimal128Type>().value(0), 15);
        assert!(a.is_null(1));
    }

    #[test]
    fn integers_are_range_checked() {
        let v = serde_json::json!(300);
        let e = build("TINYINT", &[Raw::Json(&v)]).unwrap_err();
        assert!(
            e.detail.contains("out of range for TINYINT"),
            "{}",
            e.detail
        );
        let e = build("BIGINT", &[Raw::Text("1"), Raw::Text("abc")]).unwrap_err();
        assert_eq!(e.row, 1);
        assert!(
            e.detail.contains("\"abc\" is not a valid BIGINT"),
            "{}",
            e.detail
        );
        let a = build("TINYINT", &[Raw::Text(" -128 ")]).unwrap();
        assert_eq!(a.as_primitive::<Int8Type>().value(0), -128);
    }

    #[test]
    fn strings_and_nulls() {
        let e = build("CHAR(3)", &[Raw::Text("abcd")]).unwrap_err();
        assert!(e.detail.contains("4 characters"), "{}", e.detail);
        let e = build("STRING NOT NULL", &[Raw::Text("a"), Raw::Null]).unwrap_err();
        assert_eq!(e.row, 1);
        let a = build("BYTES", &[Raw::Text("AAE=")]).unwrap();
        assert_eq!(a.as_binary::<i32>().value(0), &[0, 1]);
        assert!(build("BINARY(1)", &[Raw::Text("AAE=")]).is_err());
    }

    #[test]
    fn nested_values_from_json_and_text() {
        let v = serde_json::json!([1, 2, null]);
        let a = build("ARRAY<INT>", &[Raw::Json(&v), Raw::Text("[3]"), Raw::Null]).unwrap();
        let l = a.as_list::<i32>();
        assert_eq!(
            (l.value(0).len(), l.value(1).len(), l.is_null(2)),
            (3, 1, true)
        );
        assert!(build("ARRAY<INT NOT NULL>", &[Raw::Json(&v)]).is_err());
        let m = serde_json::json!({"a": 1});
        let a = build("MAP<STRING, BIGINT>", &[Raw::Json(&m)]).unwrap();
        assert_eq!(a.as_map().value(0).len(), 1);
        let r = serde_json::json!({"x": 1});
        let a = build("ROW<x INT NOT NULL, y STRING>", &[Raw::Json(&r), Raw::Null]).unwrap();
        assert!(a.is_null(1));
        let bad = serde_json::json!({"z": 1});
        assert!(build("ROW<x INT>", &[Raw::Json(&bad)])
            .unwrap_err()
            .detail
            .contains("no field \"z\""));
    }
}
