//! Renders Arrow rows the way the fixtures' `expected.json` files were produced
//! (pyarrow `to_pylist()` + the rules in the fixtures' INDEX.md): decimals as strings keeping
//! their scale (Python `str(Decimal)`), dates and times ISO, timestamps Python `isoformat()`
//! (`+00:00` for TIMESTAMP WITH LOCAL TIME ZONE), bytes as `{"$b64": …}`, FLOAT widened to
//! double, MAP as a list of `[key, value]` pairs, ROW as an object.

pub mod sha256;

use arrow::array::*;
use arrow::datatypes::{DataType as A, TimeUnit};
use serde_json::{json, Map, Value};

/// Standard base64 with padding (the format crate's value codec).
pub use streamhouse_format::value_text::base64::encode as base64;

/// Python's `str(Decimal)` of `unscaled × 10^-scale`.
pub fn python_decimal(unscaled: i128, scale: i8) -> String {
    let neg = unscaled < 0;
    let digits = unscaled.unsigned_abs().to_string();
    let exp = -(scale as i64);
    let adjusted = exp + digits.len() as i64 - 1;
    let body = if exp <= 0 && adjusted >= -6 {
        if exp == 0 {
            digits
        } else {
            let point = digits.len() as i64 + exp;
            if point > 0 {
                format!(
                    "{}.{}",
                    &digits[..point as usize],
                    &digits[point as usize..]
                )
            } else {
                format!("0.{}{}", "0".repeat((-point) as usize), digits)
            }
        }
    } else {
        let mut s = digits[..1].to_string();
        if digits.len() > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('E');
        s.push(if adjusted < 0 { '-' } else { '+' });
        s.push_str(&adjusted.unsigned_abs().to_string());
        s
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

fn float(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        json!(v)
    }
}

/// Python `isoformat()` of a timestamp given as seconds + nanoseconds.
fn iso_timestamp(secs: i64, nanos: u32, tz: bool) -> String {
    let dt = chrono::DateTime::from_timestamp(secs, nanos).map(|d| d.naive_utc());
    let Some(dt) = dt else {
        return format!("<bad timestamp {secs}.{nanos}>");
    };
    let mut s = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
    if nanos != 0 {
        if nanos.is_multiple_of(1000) {
            s.push_str(&format!(".{:06}", nanos / 1000));
        } else {
            s.push_str(&format!(".{nanos:09}"));
        }
    }
    if tz {
        s.push_str("+00:00");
    }
    s
}

fn split(v: i64, per_sec: i64) -> (i64, u32) {
    (
        v.div_euclid(per_sec),
        (v.rem_euclid(per_sec) * (1_000_000_000 / per_sec)) as u32,
    )
}

/// One value of an array as expected-JSON.
pub fn value(a: &dyn Array, i: usize) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    match a.data_type() {
        A::Boolean => json!(a.as_boolean().value(i)),
        A::Int8 => json!(a.as_primitive::<arrow::datatypes::Int8Type>().value(i)),
        A::Int16 => json!(a.as_primitive::<arrow::datatypes::Int16Type>().value(i)),
        A::Int32 => json!(a.as_primitive::<arrow::datatypes::Int32Type>().value(i)),
        A::Int64 => json!(a.as_primitive::<arrow::datatypes::Int64Type>().value(i)),
        A::Float32 => float(a.as_primitive::<arrow::datatypes::Float32Type>().value(i) as f64),
        A::Float64 => float(a.as_primitive::<arrow::datatypes::Float64Type>().value(i)),
        A::Decimal128(_, s) => json!(python_decimal(
            a.as_primitive::<arrow::datatypes::Decimal128Type>()
                .value(i),
            *s
        )),
        A::Utf8 => json!(a.as_string::<i32>().value(i)),
        A::LargeUtf8 => json!(a.as_string::<i64>().value(i)),
        A::Binary => json!({"$b64": base64(a.as_binary::<i32>().value(i))}),
        A::LargeBinary => json!({"$b64": base64(a.as_binary::<i64>().value(i))}),
        A::FixedSizeBinary(_) => json!({"$b64": base64(a.as_fixed_size_binary().value(i))}),
        A::Date32 => {
            let d = a.as_primitive::<arrow::datatypes::Date32Type>().value(i);
            json!(chrono::DateTime::from_timestamp(d as i64 * 86400, 0)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default())
        }
        A::Time32(TimeUnit::Millisecond) => {
            let ms = a
                .as_primitive::<arrow::datatypes::Time32MillisecondType>()
                .value(i) as i64;
            let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
            if frac == 0 {
                json!(format!("{h:02}:{m:02}:{s:02}"))
            } else {
                json!(format!("{h:02}:{m:02}:{s:02}.{:06}", frac * 1000))
            }
        }
        A::Timestamp(unit, tz) => {
            let (secs, nanos) = match unit {
                TimeUnit::Second => (
                    a.as_primitive::<arrow::datatypes::TimestampSecondType>()
                        .value(i),
                    0,
                ),
                TimeUnit::Millisecond => split(
                    a.as_primitive::<arrow::datatypes::TimestampMillisecondType>()
                        .value(i),
                    1000,
                ),
                TimeUnit::Microsecond => split(
                    a.as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                        .value(i),
                    1_000_000,
                ),
                TimeUnit::Nanosecond => split(
                    a.as_primitive::<arrow::datatypes::TimestampNanosecondType>()
                        .value(i),
                    1_000_000_000,
                ),
            };
            json!(iso_timestamp(secs, nanos, tz.is_some()))
        }
        A::List(_) => {
            let l = a.as_list::<i32>().value(i);
            Value::Array((0..l.len()).map(|j| value(l.as_ref(), j)).collect())
        }
        A::LargeList(_) => {
            let l = a.as_list::<i64>().value(i);
            Value::Array((0..l.len()).map(|j| value(l.as_ref(), j)).collect())
        }
        A::Map(_, _) => {
            let m = a.as_map();
            let entries = m.value(i);
            let (k, v) = (entries.column(0), entries.column(1));
            Value::Array(
                (0..entries.len())
                    .map(|j| json!([value(k.as_ref(), j), value(v.as_ref(), j)]))
                    .collect(),
            )
        }
        A::Struct(fields) => {
            let s = a.as_struct();
            let mut o = Map::new();
            for (f, c) in fields.iter().zip(s.columns()) {
                o.insert(f.name().clone(), value(c.as_ref(), i));
            }
            Value::Object(o)
        }
        other => json!(format!("<unrendered {other}>")),
    }
}

/// Rows of batches as JSON objects.
pub fn rows(batches: &[RecordBatch]) -> Vec<Value> {
    let mut out = vec![];
    for b in batches {
        for i in 0..b.num_rows() {
            let mut o = Map::new();
            for (f, c) in b.schema().fields().iter().zip(b.columns()) {
                o.insert(f.name().clone(), value(c.as_ref(), i));
            }
            out.push(Value::Object(o));
        }
    }
    out
}

/// A JSON value with object keys sorted, serialized compactly (the fixtures' checksum form).
pub fn canonical(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(o) => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                let mut m = Map::new();
                for k in keys {
                    m.insert(k.clone(), sort(&o[k]));
                }
                Value::Object(m)
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sort(v)).unwrap_or_default()
}

/// Sorted canonical strings of rows.
pub fn sorted_rows(rows: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = rows.iter().map(canonical).collect();
    v.sort();
    v
}

#[test]
fn renders_like_python() {
    assert_eq!(python_decimal(20, 3), "0.020");
    assert_eq!(python_decimal(-999420, 3), "-999.420");
    assert_eq!(python_decimal(0, 10), "0E-10");
    assert_eq!(python_decimal(12345, 0), "12345");
    assert_eq!(python_decimal(1, 7), "1E-7");
    assert_eq!(base64(b"abcd"), "YWJjZA==");
    assert_eq!(base64(b"abc"), "YWJj");
    assert_eq!(
        iso_timestamp(123, 123_123_000, false),
        "1970-01-01T00:02:03.123123"
    );
    assert_eq!(iso_timestamp(0, 0, true), "1970-01-01T00:00:00+00:00");
    assert_eq!(iso_timestamp(0, 5, false), "1970-01-01T00:00:00.000000005");
}
