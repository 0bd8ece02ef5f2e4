//! One value of a column as JSON or as text, in the forms `streamhouse write` reads back
//! (see `streamhouse write --help`): scalars as the format crate's value codec renders them
//! ([`streamhouse::value_text`]: decimals as exact strings, bytes as base64, temporal
//! values as ISO 8601), nested values as JSON.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType as ArrowType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Time32MillisecondType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow::util::display::array_value_to_string;
use streamhouse::value_text::{self, base64};
use streamhouse::{DataType, TypeKind};

use crate::temporal;

/// Renders column values of one Paimon type (or, for a column that is not a table column, by
/// its Arrow type).
#[derive(Clone, Debug)]
pub struct Renderer {
    pub ty: Option<DataType>,
}

impl Renderer {
    /// Whether values are numbers (right-aligned in tables).
    pub fn is_numeric(&self) -> bool {
        self.ty.as_ref().is_some_and(|t| t.kind.is_numeric())
    }

    /// Appends the JSON form of `arr[i]`.
    pub fn json(&self, arr: &dyn Array, i: usize, out: &mut String) {
        match &self.ty {
            Some(ty) => json_value(arr, i, ty, out),
            None if arr.is_null(i) => out.push_str("null"),
            None => push_json_string(out, &array_value_to_string(arr, i).unwrap_or_default()),
        }
    }

    /// The text form of `arr[i]`, `None` for NULL.
    pub fn text(&self, arr: &dyn Array, i: usize) -> Option<String> {
        if arr.is_null(i) {
            return None;
        }
        Some(match &self.ty {
            Some(ty) => text_value(arr, i, ty),
            None => array_value_to_string(arr, i).unwrap_or_default(),
        })
    }
}

pub fn push_json_string(out: &mut String, s: &str) {
    match serde_json::to_string(s) {
        Ok(q) => out.push_str(&q),
        Err(_) => out.push_str("\"\""),
    }
}

fn timestamp_parts(arr: &dyn Array, i: usize) -> (i64, TimeUnit) {
    match arr.data_type() {
        ArrowType::Timestamp(TimeUnit::Second, _) => (
            arr.as_primitive::<TimestampSecondType>().value(i),
            TimeUnit::Second,
        ),
        ArrowType::Timestamp(TimeUnit::Millisecond, _) => (
            arr.as_primitive::<TimestampMillisecondType>().value(i),
            TimeUnit::Millisecond,
        ),
        ArrowType::Timestamp(TimeUnit::Microsecond, _) => (
            arr.as_primitive::<TimestampMicrosecondType>().value(i),
            TimeUnit::Microsecond,
        ),
        _ => (
            arr.as_primitive::<TimestampNanosecondType>().value(i),
            TimeUnit::Nanosecond,
        ),
    }
}

/// Text of a non-null scalar; nested values as JSON text.
fn text_value(arr: &dyn Array, i: usize, ty: &DataType) -> String {
    match &ty.kind {
        TypeKind::Boolean => arr.as_boolean().value(i).to_string(),
        TypeKind::TinyInt => arr.as_primitive::<Int8Type>().value(i).to_string(),
        TypeKind::SmallInt => arr.as_primitive::<Int16Type>().value(i).to_string(),
        TypeKind::Int => arr.as_primitive::<Int32Type>().value(i).to_string(),
        TypeKind::BigInt => arr.as_primitive::<Int64Type>().value(i).to_string(),
        TypeKind::Float => value_text::render_f32(arr.as_primitive::<Float32Type>().value(i)),
        TypeKind::Double => value_text::render_double(arr.as_primitive::<Float64Type>().value(i)),
        TypeKind::Decimal { scale, .. } => {
            value_text::render_decimal(arr.as_primitive::<Decimal128Type>().value(i), *scale)
        }
        TypeKind::Char(_) | TypeKind::VarChar(_) => arr.as_string::<i32>().value(i).to_string(),
        TypeKind::Binary(_) | TypeKind::VarBinary(_) | TypeKind::Variant | TypeKind::Blob => {
            base64::encode(arr.as_binary::<i32>().value(i))
        }
        TypeKind::Date => value_text::render_date(arr.as_primitive::<Date32Type>().value(i)),
        TypeKind::Time(p) => {
            value_text::render_time(arr.as_primitive::<Time32MillisecondType>().value(i), *p)
        }
        TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p) => {
            let (v, unit) = timestamp_parts(arr, i);
            temporal::format_timestamp(
                v,
                unit,
                *p,
                matches!(ty.kind, TypeKind::LocalZonedTimestamp(_)),
            )
        }
        TypeKind::Array(_) | TypeKind::Multiset(_) | TypeKind::Map(..) | TypeKind::Row(_) => {
            let mut s = String::new();
            json_value(arr, i, ty, &mut s);
            s
        }
    }
}

fn json_value(arr: &dyn Array, i: usize, ty: &DataType, out: &mut String) {
    if arr.is_null(i) {
        out.push_str("null");
        return;
    }
    match &ty.kind {
        TypeKind::Boolean
        | TypeKind::TinyInt
        | TypeKind::SmallInt
        | TypeKind::Int
        | TypeKind::BigInt => out.push_str(&text_value(arr, i, ty)),
        TypeKind::Float | TypeKind::Double => {
            let t = text_value(arr, i, ty);
            if t.starts_with(|c: char| c.is_ascii_digit() || c == '-') && t != "-Infinity" {
                out.push_str(&t)
            } else {
                push_json_string(out, &t)
            }
        }
        TypeKind::Array(e) | TypeKind::Multiset(e) => {
            let items = arr.as_list::<i32>().value(i);
            out.push('[');
            for j in 0..items.len() {
                if j > 0 {
                    out.push(',');
                }
                json_value(items.as_ref(), j, e, out);
            }
            out.push(']');
        }
        TypeKind::Map(k, v) => {
            let entries = arr.as_map().value(i);
            out.push('{');
            for j in 0..entries.len() {
                if j > 0 {
                    out.push(',');
                }
                push_json_string(out, &text_value(entries.column(0).as_ref(), j, k));
                out.push(':');
                json_value(entries.column(1).as_ref(), j, v, out);
            }
            out.push('}');
        }
        TypeKind::Row(fields) => {
            let s = arr.as_struct();
            out.push('{');
            for (j, f) in fields.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                push_json_string(out, &f.name);
                out.push(':');
                json_value(s.column(j).as_ref(), i, &f.data_type, out);
            }
            out.push('}');
        }
        _ => push_json_string(out, &text_value(arr, i, ty)),
    }
}

/// Renders a whole row as one JSON object (keys in column order).
pub fn json_row(
    names: &[String],
    columns: &[&dyn Array],
    renderers: &[Renderer],
    row: usize,
    out: &mut String,
) {
    out.push('{');
    for (j, ((name, col), r)) in names.iter().zip(columns).zip(renderers).enumerate() {
        if j > 0 {
            out.push(',');
        }
        push_json_string(out, name);
        out.push(':');
        r.json(*col, row, out);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::convert::{build_array, Raw};
    use streamhouse::parse_type;

    /// JSON text → array → JSON text gives the same text.
    fn round_trip(ty: &str, json: &str) -> String {
        let ty = parse_type(ty).unwrap();
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        let a = build_array(&ty, &[Raw::from_json(&v)], &[0]).unwrap();
        let mut out = String::new();
        Renderer { ty: Some(ty) }.json(a.as_ref(), 0, &mut out);
        out
    }

    #[test]
    fn json_forms_round_trip() {
        let cases = [
            ("BOOLEAN", "true"),
            ("TINYINT", "-7"),
            ("BIGINT", "9223372036854775807"),
            ("DOUBLE", "0.1"),
            ("DOUBLE", "\"NaN\""),
            ("DOUBLE", "\"-Infinity\""),
            ("FLOAT", "1.5"),
            (
                "DECIMAL(38, 18)",
                "\"12345678901234567890.123456789012345678\"",
            ),
            ("DECIMAL(10, 2)", "\"-0.05\""),
            ("STRING", "\"a \\\"quoted\\\" line\\nbreak\""),
            ("BYTES", "\"AAEC/w==\""),
            ("DATE", "\"2024-02-29\""),
            ("TIME(3)", "\"13:45:00.250\""),
            ("TIMESTAMP(6)", "\"2024-01-31T13:45:00.123456\""),
            (
                "TIMESTAMP(3) WITH LOCAL TIME ZONE",
                "\"2024-01-31T13:45:00.123Z\"",
            ),
            ("ARRAY<INT>", "[1,null,3]"),
            ("MAP<STRING, DECIMAL(5, 1)>", "{\"a\":\"1.5\"}"),
            ("ROW<x INT, y ARRAY<STRING>>", "{\"x\":1,\"y\":[\"z\"]}"),
        ];
        for (ty, json) in cases {
            assert_eq!(round_trip(ty, json), json, "{ty}");
        }
    }
}
