//! Cells of CSV text or JSON values → Arrow arrays of a column's Paimon type. Text goes
//! through the format crate's value codec ([`streamhouse::value_text`]), which says
//! which forms each type accepts. Strict: a value that does not fit (out of range, too many
//! decimals or fraction digits, too long, NULL in a NOT NULL type) is an error saying why,
//! never a silent change.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, Int8Array, StringArray, Time32MillisecondArray,
};
use arrow::datatypes::DataType as ArrowType;
use serde_json::Value;
use streamhouse::value_text::{self, ValueError};
use streamhouse::{DataType, TypeKind};

use super::nested::{list, map, row};
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

pub type CellResult<T> = Result<T, CellError>;

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
pub fn type_name(ty: &DataType) -> String {
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
            integer(r, ty).map(|v| v as i8)
        })?)),
        TypeKind::SmallInt => Arc::new(Int16Array::from(collect(cells, rows, |r| {
            integer(r, ty).map(|v| v as i16)
        })?)),
        TypeKind::Int => Arc::new(Int32Array::from(collect(cells, rows, |r| {
            integer(r, ty).map(|v| v as i32)
        })?)),
        TypeKind::BigInt => Arc::new(Int64Array::from(collect(cells, rows, |r| integer(r, ty))?)),
        TypeKind::Float => Arc::new(Float32Array::from(collect(cells, rows, |r| {
            number_text(r, &name, value_text::parse_float)
        })?)),
        TypeKind::Double => Arc::new(Float64Array::from(collect(cells, rows, |r| {
            number_text(r, &name, value_text::parse_double)
        })?)),
        TypeKind::Decimal { precision, scale } => {
            let values = collect(cells, rows, |r| {
                json_number_is_exact(r, &name)?;
                number_text(r, &name, |t| {
                    value_text::parse_decimal(t, *precision, *scale)
                })
            })?;
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
                string(r, *n, ty, &name)
            })?))
        }
        TypeKind::Binary(_) | TypeKind::VarBinary(_) | TypeKind::Variant | TypeKind::Blob => {
            let values = collect(cells, rows, |r| binary(r, ty, &name))?;
            Arc::new(values.iter().map(|v| v.as_deref()).collect::<BinaryArray>())
        }
        TypeKind::Date => Arc::new(Date32Array::from(collect(cells, rows, |r| {
            value_text::parse_date(text(r, &name)?).map_err(|e| why(r, e))
        })?)),
        TypeKind::Time(p) => Arc::new(Time32MillisecondArray::from(collect(cells, rows, |r| {
            value_text::parse_time(text(r, &name)?, *p).map_err(|e| why(r, e))
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

pub fn json_kind(v: &Value) -> &'static str {
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

/// A codec error as `<value as shown> <why>`.
fn why(r: &Raw, e: ValueError) -> String {
    format!("{} {}", show(r), e.reason)
}

fn boolean(r: &Raw, name: &str) -> Result<bool, String> {
    match r {
        Raw::Json(Value::Bool(b)) => Ok(*b),
        Raw::Text(s) => value_text::parse_bool(s).map_err(|e| why(r, e)),
        _ => Err(format!("{} is not a valid {name} (true or false)", show(r))),
    }
}

/// An integer from text (the codec's form) or a JSON number (a whole number, also written
/// `1.0` or `1e3`), range-checked for `ty`.
fn integer(r: &Raw, ty: &DataType) -> Result<i64, String> {
    let n = match r {
        Raw::Text(s) => return value_text::parse_integer(s, ty).map_err(|e| why(r, e)),
        Raw::Json(Value::Number(n)) => n,
        _ => return Err(format!("{} is not a valid {}", show(r), type_name(ty))),
    };
    let whole = n
        .as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e30)
                .map(|f| f as i128)
        });
    match whole {
        Some(v) => value_text::parse_integer(&v.to_string(), ty).map_err(|e| why(r, e)),
        None => Err(format!("{} is not a valid {}", show(r), type_name(ty))),
    }
}

/// A number from text or a JSON number (its exact text), parsed by the codec.
fn number_text<T>(
    r: &Raw,
    name: &str,
    parse: impl Fn(&str) -> Result<T, ValueError>,
) -> Result<T, String> {
    let owned;
    let t = match r {
        Raw::Text(s) => *s,
        Raw::Json(Value::Number(n)) => {
            owned = n.to_string();
            &owned
        }
        _ => return Err(format!("{} is not a valid {name}", show(r))),
    };
    parse(t).map_err(|e| why(r, e))
}

/// A JSON number that is not a whole number within 64 bits was read as a double: with 16 or
/// more significant digits its digits may already have been rounded, so a DECIMAL refuses it
/// (a string keeps every digit).
fn json_number_is_exact(r: &Raw, name: &str) -> Result<(), String> {
    if let Raw::Json(Value::Number(n)) = r {
        if n.is_f64() {
            let text = n.to_string();
            let mantissa = text.split(['e', 'E']).next().unwrap_or("");
            let significant = mantissa
                .trim_start_matches(['-', '0', '.'])
                .bytes()
                .filter(u8::is_ascii_digit)
                .count();
            if significant > 15 {
                return Err(format!(
                    "{} has more digits than a JSON number keeps exactly; write {name} values \
                     as strings (\"12.30\")",
                    show(r)
                ));
            }
        }
    }
    Ok(())
}

fn string(r: &Raw, max_chars: u32, ty: &DataType, name: &str) -> Result<String, String> {
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
    value_text::check_chars(&s, max_chars, ty).map_err(|e| why(r, e))?;
    Ok(s)
}

fn binary(r: &Raw, ty: &DataType, name: &str) -> Result<Vec<u8>, String> {
    let t = text(r, name).map_err(|_| format!("{} is not a base64 string for {name}", show(r)))?;
    value_text::parse_bytes(t, ty).map_err(|e| why(r, e))
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
        temporal::parse_timestamp(text(r, name)?, precision, unit, with_zone).map_err(|e| why(r, e))
    })?;
    // The values are already in the column's unit: the array is Int64 relabelled.
    let ints: ArrayRef = Arc::new(Int64Array::from(values));
    arrow::compute::cast(&ints, &ArrowType::Timestamp(unit, tz)).map_err(|e| CellError {
        row: 0,
        detail: format!("{name}: {e}"),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Decimal128Type, Int8Type};
    use streamhouse::parse_type;

    /// The array of `cells` (rows 0, 1, …) of type `ty` (text, as in a schema).
    pub(crate) fn build(ty: &str, cells: &[Raw]) -> CellResult<ArrayRef> {
        let rows: Vec<usize> = (0..cells.len()).collect();
        build_array(&parse_type(ty).unwrap(), cells, &rows)
    }

    #[test]
    fn decimals_build_with_nulls() {
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
    fn decimals_from_json_numbers_keep_every_digit_or_fail() {
        let v: serde_json::Value = serde_json::from_str("12.5").unwrap();
        let a = build("DECIMAL(5, 2)", &[Raw::Json(&v)]).unwrap();
        assert_eq!(a.as_primitive::<Decimal128Type>().value(0), 1250);
        let v: serde_json::Value = serde_json::from_str("123456789").unwrap();
        assert!(build("DECIMAL(20, 2)", &[Raw::Json(&v)]).is_ok());
        for long in ["0.12345678901234567890", "123456789012345678901234"] {
            let v: serde_json::Value = serde_json::from_str(long).unwrap();
            let e = build("DECIMAL(38, 20)", &[Raw::Json(&v)]).unwrap_err();
            assert!(
                e.detail.contains("write DECIMAL(38, 20) values as strings"),
                "{}",
                e.detail
            );
        }
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
}
