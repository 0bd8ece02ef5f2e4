//! The canonical row form every interop check compares rows in, rendered from Arrow.
//!
//! This one file is compiled twice: by `paimon-peer` (against arrow 58, through the `paimon`
//! crate) and by Streamhouse's integration tests (`tests/support/src/lib.rs`, crate streamhouse-test-support,
//! against the workspace's arrow). It therefore uses only `arrow` APIs that are stable across
//! those versions. `tests/python/canonical.py` implements the same rules for pyarrow.
//!
//! A row is a JSON object `{column name: value}`; values by column type:
//!
//! | Paimon type (Arrow type)                      | canonical value |
//! |-----------------------------------------------|-----------------|
//! | BOOLEAN (Boolean)                             | `true` / `false` |
//! | TINYINT..BIGINT (Int8..Int64)                 | JSON integer, exact |
//! | FLOAT, DOUBLE (Float32, Float64)              | JSON number; FLOAT widened exactly to double (`0.1f32` → `0.10000000149011612`); NaN / ±inf → `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | DECIMAL(p, s) (Decimal128(p, s))              | string, plain notation, exactly `s` fraction digits: `"12.30"`, `"-0.05"`, `"7"` (s = 0) |
//! | CHAR, VARCHAR, STRING (Utf8)                  | JSON string as stored |
//! | BINARY, VARBINARY, BYTES (Binary)             | lowercase hex string: `"00ff10"` |
//! | DATE (Date32)                                 | `"YYYY-MM-DD"` |
//! | TIME (Time32(ms))                             | `"HH:MM:SS.fff"`; 6 or 9 fraction digits only if a finer digit is non-zero |
//! | TIMESTAMP(p) (Timestamp(unit, None))          | `"YYYY-MM-DDTHH:MM:SS.ffffff"`; 9 fraction digits if the nanosecond digits are non-zero |
//! | TIMESTAMP_LTZ(p) (Timestamp(unit, Some(tz)))  | the UTC instant in the TIMESTAMP form + `"Z"` |
//! | any null                                      | `null` |
//!
//! Years 0000..=9999 print as 4 digits, others signed (`"+10000"`, `"-0001"`), proleptic
//! Gregorian; instants before 1970 use floor division (-1 ms is `1969-12-31T23:59:59.999000`).
//! The fraction width depends on the value only, never on the declared precision or Arrow unit,
//! so readers that carry the same stored value in different units agree.
//!
//! Rows are sorted by their compact serialization with sorted keys (`row_line`); every consumer
//! re-sorts after parsing, because float text differs between languages (`1e+20` vs `1e20`).

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Schema, Time32MillisecondType, Time32SecondType,
    Time64MicrosecondType, Time64NanosecondType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow::record_batch::RecordBatch;
use serde_json::{Map, Value};

const NANOS_PER_DAY: i128 = 86_400 * 1_000_000_000;

/// Canonical rows of `batches` (all shaped like `schema`), sorted by [`row_line`].
///
/// Columns are taken by position; their names come from `schema`. Panics on an Arrow type the
/// canonical form does not cover (nested types, Decimal256, …) or on a batch whose column
/// types differ from `schema`.
pub fn arrow_rows_canonical(batches: &[RecordBatch], schema: &Schema) -> Vec<Value> {
    let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
    let mut rows = Vec::new();
    for batch in batches {
        assert_eq!(
            batch.num_columns(),
            names.len(),
            "canonical form: batch has {} columns, schema has {}",
            batch.num_columns(),
            names.len()
        );
        let columns: Vec<Vec<Value>> = batch
            .columns()
            .iter()
            .zip(schema.fields().iter())
            .map(|(column, field)| {
                assert_eq!(
                    column.data_type(),
                    field.data_type(),
                    "canonical form: column {} has type {} in the batch but {} in the schema",
                    field.name(),
                    column.data_type(),
                    field.data_type()
                );
                column_values(column)
            })
            .collect();
        for row in 0..batch.num_rows() {
            let pairs = names
                .iter()
                .zip(&columns)
                .map(|(n, c)| (n.to_string(), c[row].clone()));
            rows.push(object_sorted(pairs));
        }
    }
    sort_rows(rows)
}

/// Canonical values of one Arrow array, one per slot.
pub fn column_values(array: &ArrayRef) -> Vec<Value> {
    let rendered = render(array);
    (0..array.len())
        .map(|i| {
            if array.is_null(i) {
                Value::Null
            } else {
                rendered(i)
            }
        })
        .collect()
}

/// A renderer for the non-null slots of `array`.
fn render(array: &ArrayRef) -> Box<dyn Fn(usize) -> Value + '_> {
    macro_rules! int {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            Box::new(move |i| Value::from(a.value(i)))
        }};
    }
    macro_rules! nanos {
        ($t:ty, $per:expr, $f:expr) => {{
            let a = array.as_primitive::<$t>();
            Box::new(move |i| Value::String($f(i128::from(a.value(i)) * $per)))
        }};
    }
    match array.data_type() {
        DataType::Null => Box::new(|_| Value::Null),
        DataType::Boolean => {
            let a = array.as_boolean();
            Box::new(move |i| Value::Bool(a.value(i)))
        }
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            Box::new(move |i| float(f64::from(a.value(i))))
        }
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            Box::new(move |i| float(a.value(i)))
        }
        DataType::Decimal128(_, scale) => {
            let a = array.as_primitive::<Decimal128Type>();
            let scale = *scale;
            Box::new(move |i| Value::String(decimal(a.value(i), scale)))
        }
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            Box::new(move |i| Value::String(a.value(i).to_owned()))
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            Box::new(move |i| Value::String(a.value(i).to_owned()))
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            Box::new(move |i| Value::String(a.value(i).to_owned()))
        }
        DataType::Binary => {
            let a = array.as_binary::<i32>();
            Box::new(move |i| Value::String(hex(a.value(i))))
        }
        DataType::LargeBinary => {
            let a = array.as_binary::<i64>();
            Box::new(move |i| Value::String(hex(a.value(i))))
        }
        DataType::BinaryView => {
            let a = array.as_binary_view();
            Box::new(move |i| Value::String(hex(a.value(i))))
        }
        DataType::FixedSizeBinary(_) => {
            let a = array.as_fixed_size_binary();
            Box::new(move |i| Value::String(hex(a.value(i))))
        }
        DataType::Date32 => {
            let a = array.as_primitive::<Date32Type>();
            Box::new(move |i| Value::String(date(i64::from(a.value(i)))))
        }
        DataType::Date64 => {
            let a = array.as_primitive::<Date64Type>();
            Box::new(move |i| Value::String(date(a.value(i).div_euclid(86_400_000))))
        }
        DataType::Time32(TimeUnit::Second) => nanos!(Time32SecondType, 1_000_000_000, time),
        DataType::Time32(TimeUnit::Millisecond) => nanos!(Time32MillisecondType, 1_000_000, time),
        DataType::Time64(TimeUnit::Microsecond) => nanos!(Time64MicrosecondType, 1_000, time),
        DataType::Time64(TimeUnit::Nanosecond) => nanos!(Time64NanosecondType, 1, time),
        DataType::Timestamp(unit, tz) => {
            let utc = tz.is_some();
            let stamp = move |n: i128| timestamp(n, utc);
            match unit {
                TimeUnit::Second => nanos!(TimestampSecondType, 1_000_000_000, stamp),
                TimeUnit::Millisecond => nanos!(TimestampMillisecondType, 1_000_000, stamp),
                TimeUnit::Microsecond => nanos!(TimestampMicrosecondType, 1_000, stamp),
                TimeUnit::Nanosecond => nanos!(TimestampNanosecondType, 1, stamp),
            }
        }
        other => panic!("canonical form: unsupported Arrow type {other}"),
    }
}

fn float(x: f64) -> Value {
    match serde_json::Number::from_f64(x) {
        Some(n) => Value::Number(n),
        None if x.is_nan() => Value::String("NaN".into()),
        None if x > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

/// An unscaled decimal in plain notation with exactly `scale` fraction digits.
pub fn decimal(unscaled: i128, scale: i8) -> String {
    let sign = if unscaled < 0 { "-" } else { "" };
    let digits = unscaled.unsigned_abs().to_string();
    let scale = usize::try_from(scale).expect("canonical form: negative decimal scale");
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{sign}{int}.{frac}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// (year, month, day) of a day count since 1970-01-01, proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `"YYYY-MM-DD"` of a day count since the epoch.
pub fn date(days: i64) -> String {
    let (year, month, day) = civil_from_days(days);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!(
            "{}{:04}",
            if year > 0 { '+' } else { '-' },
            year.unsigned_abs()
        )
    };
    format!("{year}-{month:02}-{day:02}")
}

/// `.` and `min_digits` fraction digits of `nanos` (< 10^9), widened to 6 or 9 when needed.
fn fraction(nanos: i128, min_digits: usize) -> String {
    let digits = if nanos % 1_000 != 0 {
        9
    } else if nanos % 1_000_000 != 0 {
        min_digits.max(6)
    } else {
        min_digits
    };
    format!(".{}", &format!("{nanos:09}")[..digits])
}

fn time_of_day(nanos_of_day: i128, min_digits: usize) -> String {
    let (secs, nanos) = (nanos_of_day / 1_000_000_000, nanos_of_day % 1_000_000_000);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    format!("{h:02}:{m:02}:{s:02}{}", fraction(nanos, min_digits))
}

/// `"HH:MM:SS.fff"` of nanoseconds since midnight.
pub fn time(nanos_of_day: i128) -> String {
    time_of_day(nanos_of_day, 3)
}

/// `"YYYY-MM-DDTHH:MM:SS.ffffff"` (+ `"Z"` when `utc`) of nanoseconds since the epoch.
pub fn timestamp(nanos: i128, utc: bool) -> String {
    let days = i64::try_from(nanos.div_euclid(NANOS_PER_DAY)).expect("timestamp out of range");
    let text = format!(
        "{}T{}",
        date(days),
        time_of_day(nanos.rem_euclid(NANOS_PER_DAY), 6)
    );
    if utc {
        text + "Z"
    } else {
        text
    }
}

fn object_sorted(pairs: impl IntoIterator<Item = (String, Value)>) -> Value {
    let mut pairs: Vec<(String, Value)> = pairs.into_iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(pairs.into_iter().collect::<Map<String, Value>>())
}

/// `value` with the keys of every object in sorted order (so it serializes canonically
/// whether or not serde_json preserves insertion order).
pub fn canonicalize(value: Value) -> Value {
    match value {
        Value::Object(map) => object_sorted(map.into_iter().map(|(k, v)| (k, canonicalize(v)))),
        Value::Array(items) => Value::Array(items.into_iter().map(canonicalize).collect()),
        other => other,
    }
}

/// The one-line serialization rows are sorted by and printed in.
pub fn row_line(row: &Value) -> String {
    serde_json::to_string(row).expect("a JSON value always serializes")
}

/// Rows with canonical key order, sorted by [`row_line`].
pub fn sort_rows(rows: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut keyed: Vec<(String, Value)> = rows
        .into_iter()
        .map(|row| {
            let row = canonicalize(row);
            (row_line(&row), row)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, row)| row).collect()
}

/// Parses JSON lines (as printed by any peer) into canonical, sorted rows.
pub fn parse_lines(text: &str) -> Result<Vec<Value>, String> {
    let rows = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).map_err(|e| format!("bad JSON line {line:?}: {e}")))
        .collect::<Result<Vec<Value>, String>>()?;
    Ok(sort_rows(rows))
}
