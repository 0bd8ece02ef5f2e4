//! Arrow types to Paimon types, for data that comes from elsewhere (query results, files).

use arrow::datatypes::{DataType as ArrowType, TimeUnit};

use crate::{DataType, TypeKind, MAX_LENGTH};

/// The Paimon type an Arrow column's values take (nullable): integers, floats, decimals with
/// a non-negative scale, strings and bytes as `VARCHAR`/`VARBINARY` of the maximum length,
/// dates, and timestamps with their unit as precision (`TIMESTAMP_LTZ` when the Arrow type has
/// a time zone). `None` for Arrow types without one (unsigned integers, nested types, …).
///
/// ```
/// use arrow::datatypes::{DataType as ArrowType, TimeUnit};
/// use streamhouse::{data_type_from_arrow, TypeKind};
///
/// let t = data_type_from_arrow(&ArrowType::Timestamp(TimeUnit::Millisecond, None)).unwrap();
/// assert_eq!(t.kind, TypeKind::Timestamp(3));
/// assert!(data_type_from_arrow(&ArrowType::UInt64).is_none());
/// ```
pub fn data_type_from_arrow(t: &ArrowType) -> Option<DataType> {
    let precision = |u: &TimeUnit| match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    };
    Some(DataType::new(match t {
        ArrowType::Boolean => TypeKind::Boolean,
        ArrowType::Int8 => TypeKind::TinyInt,
        ArrowType::Int16 => TypeKind::SmallInt,
        ArrowType::Int32 => TypeKind::Int,
        ArrowType::Int64 => TypeKind::BigInt,
        ArrowType::Float32 => TypeKind::Float,
        ArrowType::Float64 => TypeKind::Double,
        ArrowType::Decimal128(p, s) if *s >= 0 => TypeKind::Decimal {
            precision: *p as u32,
            scale: *s as u32,
        },
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => {
            TypeKind::VarChar(MAX_LENGTH)
        }
        ArrowType::Binary | ArrowType::LargeBinary | ArrowType::BinaryView => {
            TypeKind::VarBinary(MAX_LENGTH)
        }
        ArrowType::Date32 => TypeKind::Date,
        ArrowType::Timestamp(u, None) => TypeKind::Timestamp(precision(u)),
        ArrowType::Timestamp(u, Some(_)) => TypeKind::LocalZonedTimestamp(precision(u)),
        _ => return None,
    }))
}
