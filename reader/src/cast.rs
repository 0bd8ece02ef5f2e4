//! Converting a file's column to the current column type (schema evolution), following Java
//! Paimon's cast rules (`org.apache.paimon.casting`) where they differ from Arrow's:
//!
//! * TIMESTAMP → STRING: `yyyy-MM-dd HH:mm:ss[.fraction]`, the nine-digit fraction trimmed of
//!   trailing zeros down to the source precision (`DateTimeUtils.formatTimestamp`);
//! * INT/BIGINT → TIMESTAMP: the number is epoch *seconds*; TIMESTAMP → INT/BIGINT: epoch
//!   seconds (truncated);
//! * TIMESTAMP ↔ TIMESTAMP WITH LOCAL TIME ZONE: the session zone is taken as UTC, so values
//!   keep their instant; the time-zone annotation is attached without parsing it;
//! * everything else: Arrow's cast in strict mode (a value that does not convert is an error,
//!   as Java throws, rather than a silent null).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, Int64Array, PrimitiveArray, StringBuilder,
};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{
    ArrowTimestampType, DataType as ArrowType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use streamhouse_format::types::{DataType, TypeKind};

fn strict() -> CastOptions<'static> {
    CastOptions {
        safe: false,
        ..Default::default()
    }
}

fn per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

/// A timestamp column's raw values and unit (ignoring its time zone).
fn timestamp_values(a: &dyn Array) -> Option<(Vec<Option<i64>>, TimeUnit)> {
    fn vals<T: ArrowTimestampType>(a: &dyn Array) -> Vec<Option<i64>> {
        a.as_primitive::<T>().iter().collect()
    }
    match a.data_type() {
        ArrowType::Timestamp(u, _) => Some((
            match u {
                TimeUnit::Second => vals::<TimestampSecondType>(a),
                TimeUnit::Millisecond => vals::<TimestampMillisecondType>(a),
                TimeUnit::Microsecond => vals::<TimestampMicrosecondType>(a),
                TimeUnit::Nanosecond => vals::<TimestampNanosecondType>(a),
            },
            *u,
        )),
        _ => None,
    }
}

/// Builds a timestamp array of `unit` with optional time zone from raw values.
fn timestamp_array(values: Vec<Option<i64>>, unit: TimeUnit, tz: Option<Arc<str>>) -> ArrayRef {
    match unit {
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
    }
}

/// Java's `DateTimeUtils.formatTimestamp(ts, precision)`.
pub fn format_java_timestamp(value: i64, unit: TimeUnit, precision: u32) -> Option<String> {
    let ps = per_second(unit);
    let secs = value.div_euclid(ps);
    let nanos = (value.rem_euclid(ps) * (1_000_000_000 / ps)) as u32;
    let dt = chrono::DateTime::from_timestamp(secs, nanos)?.naive_utc();
    let mut s = dt.format("%Y-%m-%d %H:%M:%S").to_string();
    let mut fraction = format!("{nanos:09}");
    while fraction.len() > precision as usize && fraction.ends_with('0') {
        fraction.pop();
    }
    if !fraction.is_empty() {
        s.push('.');
        s.push_str(&fraction);
    }
    Some(s)
}

fn timestamp_precision(t: &DataType) -> Option<u32> {
    match t.kind {
        TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p) => Some(p),
        _ => None,
    }
}

/// Converts `col` (read from a file whose schema gives it type `from`, or `None` for system
/// columns) to the Arrow type `target` of current type `to`.
pub fn cast_column(
    col: &ArrayRef,
    from: Option<&DataType>,
    to: Option<&DataType>,
    target: &ArrowType,
) -> Result<ArrayRef, String> {
    if col.data_type() == target {
        return Ok(col.clone());
    }
    let from_ts = from.and_then(timestamp_precision);
    // TIMESTAMP → STRING (Java formatting).
    if let (Some(p), ArrowType::Utf8) = (from_ts, target) {
        if let Some((values, unit)) = timestamp_values(col.as_ref()) {
            let mut b = StringBuilder::with_capacity(values.len(), values.len() * 29);
            for v in values {
                match v.and_then(|v| format_java_timestamp(v, unit, p)) {
                    Some(s) => b.append_value(s),
                    None => b.append_null(),
                }
            }
            return Ok(Arc::new(b.finish()));
        }
    }
    // TIMESTAMP → INT/BIGINT: epoch seconds.
    if from_ts.is_some() && matches!(target, ArrowType::Int32 | ArrowType::Int64) {
        if let Some((values, unit)) = timestamp_values(col.as_ref()) {
            let ps = per_second(unit);
            // Java: epoch millis (floored) / 1000, truncated toward zero.
            let millis = move |v: i64| {
                if ps >= 1000 {
                    v.div_euclid(ps / 1000)
                } else {
                    v.saturating_mul(1000)
                }
            };
            let secs = values.into_iter().map(move |v| v.map(|v| millis(v) / 1000));
            return Ok(match target {
                ArrowType::Int32 => {
                    Arc::new(secs.map(|v| v.map(|v| v as i32)).collect::<Int32Array>())
                }
                _ => Arc::new(secs.collect::<Int64Array>()),
            });
        }
    }
    if let ArrowType::Timestamp(unit, tz) = target {
        // INT/BIGINT → TIMESTAMP: epoch seconds.
        let from_int = from.is_some_and(|f| matches!(f.kind, TypeKind::Int | TypeKind::BigInt));
        if from_int && to.and_then(timestamp_precision).is_some() {
            let as_i64 =
                cast_with_options(col, &ArrowType::Int64, &strict()).map_err(|e| e.to_string())?;
            let ps = per_second(*unit);
            let mut out = Vec::with_capacity(as_i64.len());
            for v in as_i64.as_primitive::<arrow::datatypes::Int64Type>().iter() {
                out.push(match v {
                    None => None,
                    Some(v) => Some(
                        v.checked_mul(ps)
                            .ok_or_else(|| format!("{v} seconds overflow a timestamp"))?,
                    ),
                });
            }
            return Ok(timestamp_array(out, *unit, tz.clone()));
        }
        // Timestamps of another unit or zone: convert naive, then attach the zone.
        if let Some((values, src_unit)) = timestamp_values(col.as_ref()) {
            let naive = timestamp_array(values, src_unit, None);
            let converted =
                cast_with_options(&naive, &ArrowType::Timestamp(*unit, None), &strict())
                    .map_err(|e| e.to_string())?;
            let (values, _) =
                timestamp_values(converted.as_ref()).ok_or("timestamp conversion failed")?;
            return Ok(timestamp_array(values, *unit, tz.clone()));
        }
        // Anything else (DATE, STRING): cast naive, then attach the zone.
        let naive = cast_with_options(col, &ArrowType::Timestamp(*unit, None), &strict())
            .map_err(|e| e.to_string())?;
        let (values, _) = timestamp_values(naive.as_ref()).ok_or("timestamp conversion failed")?;
        return Ok(timestamp_array(values, *unit, tz.clone()));
    }
    // A zoned timestamp source: drop the zone first so Arrow never has to parse it.
    if let Some((values, unit)) = timestamp_values(col.as_ref()) {
        if matches!(col.data_type(), ArrowType::Timestamp(_, Some(_))) {
            let naive = timestamp_array(values, unit, None);
            return cast_with_options(&naive, target, &strict()).map_err(|e| e.to_string());
        }
    }
    cast_with_options(col, target, &strict()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamhouse_format::types::parse_type;

    #[test]
    fn java_timestamp_strings() {
        assert_eq!(
            format_java_timestamp(1_732_603_136_021_000_021, TimeUnit::Nanosecond, 9).unwrap(),
            "2024-11-26 06:38:56.021000021"
        );
        assert_eq!(
            format_java_timestamp(1_500, TimeUnit::Millisecond, 3).unwrap(),
            "1970-01-01 00:00:01.500"
        );
        assert_eq!(
            format_java_timestamp(0, TimeUnit::Millisecond, 0).unwrap(),
            "1970-01-01 00:00:00"
        );
    }

    #[test]
    fn seconds_and_zones() {
        let col: ArrayRef = Arc::new(Int64Array::from(vec![Some(2), None]));
        let from = parse_type("BIGINT").unwrap();
        let to = parse_type("TIMESTAMP(3)").unwrap();
        let out = cast_column(&col, Some(&from), Some(&to), &to.to_arrow()).unwrap();
        assert_eq!(
            out.as_primitive::<TimestampMillisecondType>().value(0),
            2000
        );
        let ltz = parse_type("TIMESTAMP(6) WITH LOCAL TIME ZONE").unwrap();
        let out2 = cast_column(&out, Some(&to), Some(&ltz), &ltz.to_arrow()).unwrap();
        assert_eq!(out2.data_type(), &ltz.to_arrow());
        assert_eq!(
            out2.as_primitive::<TimestampMicrosecondType>().value(0),
            2_000_000
        );
        let back = cast_column(&out2, Some(&ltz), Some(&from), &ArrowType::Int64).unwrap();
        assert_eq!(
            back.as_primitive::<arrow::datatypes::Int64Type>().value(0),
            2
        );
        let s: ArrayRef = Arc::new(arrow::array::StringArray::from(vec!["maybe"]));
        assert!(cast_column(&s, None, None, &ArrowType::Boolean).is_err());
    }
}
