//! [`Datum`]: one non-null value of a primitive Paimon type, as it appears in partition values,
//! keys and statistics. `Option<Datum>` is a nullable value.

use std::cmp::Ordering;
use std::fmt;

use crate::types::{DataType, TypeKind};

#[derive(Debug, Clone, PartialEq)]
pub enum Datum {
    Bool(bool),
    TinyInt(i8),
    SmallInt(i16),
    Int(i32),
    BigInt(i64),
    Float(f32),
    Double(f64),
    /// Unscaled value; precision and scale come from the column type.
    Decimal(i128),
    String(String),
    Bytes(Vec<u8>),
    /// Days since 1970-01-01.
    Date(i32),
    /// Milliseconds of the day.
    Time(i32),
    /// Epoch milliseconds plus nanoseconds within the millisecond (0..999_999). Used for
    /// TIMESTAMP and TIMESTAMP WITH LOCAL TIME ZONE (a UTC instant).
    Timestamp {
        millis: i64,
        nanos: i32,
    },
}

/// One column of a key: a value, or for nullable key columns (stats bounds, partition keys)
/// an optional value.
pub trait KeyCell {
    fn cell(&self) -> Option<&Datum>;
}

impl KeyCell for Datum {
    fn cell(&self) -> Option<&Datum> {
        Some(self)
    }
}

impl KeyCell for Option<Datum> {
    fn cell(&self) -> Option<&Datum> {
        self.as_ref()
    }
}

/// Paimon's key order, the one comparator of keys: column by column (values of the same type
/// by [`Datum::cmp_same_type`], nulls first); a key that is a prefix of the other first.
pub fn compare_keys<K: KeyCell>(a: &[K], b: &[K]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x.cell(), y.cell()) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp_same_type(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

impl Datum {
    /// Compares two values of the same type. Floats order by IEEE total order.
    pub fn cmp_same_type(&self, other: &Datum) -> Ordering {
        use Datum::*;
        match (self, other) {
            (Bool(a), Bool(b)) => a.cmp(b),
            (TinyInt(a), TinyInt(b)) => a.cmp(b),
            (SmallInt(a), SmallInt(b)) => a.cmp(b),
            (Int(a), Int(b)) | (Date(a), Date(b)) | (Time(a), Time(b)) => a.cmp(b),
            (BigInt(a), BigInt(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Double(a), Double(b)) => a.total_cmp(b),
            (Decimal(a), Decimal(b)) => a.cmp(b),
            (String(a), String(b)) => a.cmp(b),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (
                Timestamp {
                    millis: a,
                    nanos: an,
                },
                Timestamp {
                    millis: b,
                    nanos: bn,
                },
            ) => (a, an).cmp(&(b, bn)),
            _ => Ordering::Equal,
        }
    }

    /// Renders the value the way a user reads it, given its column type.
    pub fn display(&self, ty: &DataType) -> String {
        match (self, &ty.kind) {
            (Datum::Decimal(u), TypeKind::Decimal { scale, .. }) => format_decimal(*u, *scale),
            (Datum::Date(d), _) => crate::value_text::render_date(*d),
            _ => self.to_string(),
        }
    }
}

/// `12345` with scale 2 → `123.45`.
pub fn format_decimal(unscaled: i128, scale: u32) -> String {
    if scale == 0 {
        return unscaled.to_string();
    }
    let neg = unscaled < 0;
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{}", "0".repeat(scale + 1 - digits.len()), digits)
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{}{int}.{frac}", if neg { "-" } else { "" })
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Datum::Bool(v) => write!(f, "{v}"),
            Datum::TinyInt(v) => write!(f, "{v}"),
            Datum::SmallInt(v) => write!(f, "{v}"),
            Datum::Int(v) | Datum::Date(v) | Datum::Time(v) => write!(f, "{v}"),
            Datum::BigInt(v) => write!(f, "{v}"),
            Datum::Float(v) => write!(f, "{v}"),
            Datum::Double(v) => write!(f, "{v}"),
            Datum::Decimal(v) => write!(f, "{v}"),
            Datum::String(v) => f.write_str(v),
            Datum::Bytes(v) => {
                for b in v {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
            Datum::Timestamp { millis, nanos } => write!(f, "{millis}ms+{nanos}ns"),
        }
    }
}

/// Reads row `row` of an Arrow array holding a column of type `ty` (Arrow types as produced by
/// [`DataType::to_arrow`]). Returns `None` for null.
pub fn datum_from_arrow(
    array: &dyn arrow::array::Array,
    row: usize,
    ty: &DataType,
) -> crate::Result<Option<Datum>> {
    use arrow::array::{
        Array, BinaryArray, BooleanArray, Date32Array, Decimal128Array, FixedSizeBinaryArray,
        Float32Array, Float64Array, Int16Array, Int32Array, Int64Array, Int8Array,
        LargeBinaryArray, LargeStringArray, StringArray, StringViewArray, Time32MillisecondArray,
        Time32SecondArray, Time64MicrosecondArray, Time64NanosecondArray,
        TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
        TimestampSecondArray,
    };
    use arrow::datatypes::{DataType as A, TimeUnit};
    if array.is_null(row) {
        return Ok(None);
    }
    fn get<T: 'static>(a: &dyn Array) -> crate::Result<&T> {
        a.as_any().downcast_ref::<T>().ok_or_else(|| {
            crate::Error::Internal(format!("unexpected Arrow type {}", a.data_type()))
        })
    }
    let split = |v: i64, per_milli: i64| -> Datum {
        Datum::Timestamp {
            millis: v.div_euclid(per_milli),
            nanos: (v.rem_euclid(per_milli) * (1_000_000 / per_milli)) as i32,
        }
    };
    let d = match (array.data_type(), &ty.kind) {
        (A::Boolean, _) => Datum::Bool(get::<BooleanArray>(array)?.value(row)),
        (A::Int8, _) => Datum::TinyInt(get::<Int8Array>(array)?.value(row)),
        (A::Int16, _) => Datum::SmallInt(get::<Int16Array>(array)?.value(row)),
        (A::Int32, TypeKind::Date) => Datum::Date(get::<Int32Array>(array)?.value(row)),
        (A::Int32, TypeKind::Time(_)) => Datum::Time(get::<Int32Array>(array)?.value(row)),
        (A::Int32, _) => Datum::Int(get::<Int32Array>(array)?.value(row)),
        (A::Int64, _) => Datum::BigInt(get::<Int64Array>(array)?.value(row)),
        (A::Float32, _) => Datum::Float(get::<Float32Array>(array)?.value(row)),
        (A::Float64, _) => Datum::Double(get::<Float64Array>(array)?.value(row)),
        (A::Decimal128(_, _), _) => Datum::Decimal(get::<Decimal128Array>(array)?.value(row)),
        (A::Utf8, _) => Datum::String(get::<StringArray>(array)?.value(row).to_string()),
        (A::LargeUtf8, _) => Datum::String(get::<LargeStringArray>(array)?.value(row).to_string()),
        (A::Utf8View, _) => Datum::String(get::<StringViewArray>(array)?.value(row).to_string()),
        (A::Binary, _) => Datum::Bytes(get::<BinaryArray>(array)?.value(row).to_vec()),
        (A::LargeBinary, _) => Datum::Bytes(get::<LargeBinaryArray>(array)?.value(row).to_vec()),
        (A::FixedSizeBinary(_), _) => {
            Datum::Bytes(get::<FixedSizeBinaryArray>(array)?.value(row).to_vec())
        }
        (A::Date32, _) => Datum::Date(get::<Date32Array>(array)?.value(row)),
        (A::Time32(TimeUnit::Millisecond), _) => {
            Datum::Time(get::<Time32MillisecondArray>(array)?.value(row))
        }
        (A::Time32(TimeUnit::Second), _) => {
            Datum::Time(get::<Time32SecondArray>(array)?.value(row) * 1000)
        }
        (A::Time64(TimeUnit::Microsecond), _) => {
            Datum::Time((get::<Time64MicrosecondArray>(array)?.value(row) / 1000) as i32)
        }
        (A::Time64(TimeUnit::Nanosecond), _) => {
            Datum::Time((get::<Time64NanosecondArray>(array)?.value(row) / 1_000_000) as i32)
        }
        (A::Timestamp(TimeUnit::Second, _), _) => Datum::Timestamp {
            millis: get::<TimestampSecondArray>(array)?.value(row) * 1000,
            nanos: 0,
        },
        (A::Timestamp(TimeUnit::Millisecond, _), _) => {
            split(get::<TimestampMillisecondArray>(array)?.value(row), 1)
        }
        (A::Timestamp(TimeUnit::Microsecond, _), _) => {
            split(get::<TimestampMicrosecondArray>(array)?.value(row), 1_000)
        }
        (A::Timestamp(TimeUnit::Nanosecond, _), _) => split(
            get::<TimestampNanosecondArray>(array)?.value(row),
            1_000_000,
        ),
        (other, _) => {
            return Err(crate::Error::unsupported(format!(
                "values of Arrow type {other} (column type {ty}) as keys, partitions or statistics"
            )))
        }
    };
    Ok(Some(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_format_with_scale() {
        assert_eq!(format_decimal(12345, 2), "123.45");
        assert_eq!(format_decimal(-5, 3), "-0.005");
        assert_eq!(format_decimal(7, 0), "7");
        assert_eq!(format_decimal(-1000, 3), "-1.000");
    }

    #[test]
    fn key_order_is_by_column_nulls_first_prefix_first() {
        use Datum::*;
        let k = |v: &[Option<Datum>]| v.to_vec();
        let a = k(&[Some(Int(1)), Some(String("b".into()))]);
        let b = k(&[Some(Int(1)), Some(String("c".into()))]);
        assert_eq!(compare_keys(&a, &b), Ordering::Less);
        assert_eq!(compare_keys(&b, &a), Ordering::Greater);
        assert_eq!(compare_keys(&a, &a), Ordering::Equal);
        let null = k(&[None, Some(String("z".into()))]);
        assert_eq!(compare_keys(&null, &a), Ordering::Less, "nulls first");
        assert_eq!(compare_keys(&a[..1], &a), Ordering::Less, "a prefix first");
        // Keys without nulls order the same way.
        let plain = [Double(-0.0), Double(1.5)];
        let other = [Double(0.0), Double(-1.0)];
        assert_eq!(
            compare_keys(&plain, &other),
            Ordering::Less,
            "IEEE total order"
        );
    }
}
