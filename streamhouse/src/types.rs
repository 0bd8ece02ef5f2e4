//! Arrow types to Paimon types, for data that comes from elsewhere (query results, files,
//! data frames a table is created from).

use arrow::datatypes::{DataType as ArrowType, DataType as A, Field, Schema, TimeUnit};

use crate::{DataField, DataType, Error, Result, TypeKind, MAX_LENGTH};

/// The columns of a table that holds `schema`'s data: each Arrow type to the Paimon type that
/// reads back as it (nested types included, dictionaries by their values), nullability kept.
/// An Arrow type without a Paimon type (unsigned integers, durations, intervals, unions) is an
/// error naming the column.
///
/// ```
/// use arrow::datatypes::{DataType as ArrowType, Field, Schema};
/// use streamhouse::{columns_from_arrow, TypeKind};
///
/// let schema = Schema::new(vec![Field::new("id", ArrowType::Int64, false)]);
/// let columns = columns_from_arrow(&schema).unwrap();
/// assert_eq!(columns[0].0, "id");
/// assert_eq!(columns[0].1.kind, TypeKind::BigInt);
/// assert!(!columns[0].1.nullable);
/// assert!(columns_from_arrow(&Schema::new(vec![Field::new("u", ArrowType::UInt8, true)])).is_err());
/// ```
pub fn columns_from_arrow(schema: &Schema) -> Result<Vec<(String, DataType)>> {
    schema
        .fields()
        .iter()
        .map(|f| Ok((f.name().clone(), type_of(f, f.name())?)))
        .collect()
}

/// The Paimon type an Arrow column's values take (nullable): integers, floats, decimals with
/// a non-negative scale, strings and bytes as `VARCHAR`/`VARBINARY` of the maximum length,
/// dates, and timestamps with their unit as precision (`TIMESTAMP_LTZ` when the Arrow type has
/// a time zone). `None` for the other Arrow types (unsigned integers, nested types, …): query
/// results in those are rendered by Arrow itself.
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
    let flat = matches!(
        t,
        A::Boolean
            | A::Int8
            | A::Int16
            | A::Int32
            | A::Int64
            | A::Float32
            | A::Float64
            | A::Decimal128(..)
            | A::Utf8
            | A::LargeUtf8
            | A::Utf8View
            | A::Binary
            | A::LargeBinary
            | A::BinaryView
            | A::Date32
            | A::Timestamp(..)
    );
    flat.then(|| type_of(&Field::new("value", t.clone(), true), "value").ok())
        .flatten()
}

fn precision(unit: &TimeUnit) -> u32 {
    match unit {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

fn type_of(field: &Field, path: &str) -> Result<DataType> {
    let kind = match field.data_type() {
        A::Boolean => TypeKind::Boolean,
        A::Int8 => TypeKind::TinyInt,
        A::Int16 => TypeKind::SmallInt,
        A::Int32 => TypeKind::Int,
        A::Int64 => TypeKind::BigInt,
        A::Float32 => TypeKind::Float,
        A::Float64 => TypeKind::Double,
        A::Decimal32(p, s) | A::Decimal64(p, s) | A::Decimal128(p, s) if *s >= 0 && *p <= 38 => {
            TypeKind::Decimal {
                precision: u32::from(*p),
                scale: *s as u32,
            }
        }
        A::Utf8 | A::LargeUtf8 | A::Utf8View => TypeKind::VarChar(MAX_LENGTH),
        A::Binary | A::LargeBinary | A::BinaryView => TypeKind::VarBinary(MAX_LENGTH),
        A::FixedSizeBinary(n) if *n > 0 => TypeKind::Binary(*n as u32),
        A::Date32 => TypeKind::Date,
        A::Time32(u) | A::Time64(u) => TypeKind::Time(precision(u).min(3)),
        A::Timestamp(u, None) => TypeKind::Timestamp(precision(u)),
        A::Timestamp(u, Some(_)) => TypeKind::LocalZonedTimestamp(precision(u)),
        A::List(e) | A::LargeList(e) | A::ListView(e) | A::LargeListView(e) => {
            TypeKind::Array(Box::new(type_of(e, &format!("{path}[]"))?))
        }
        A::FixedSizeList(e, _) => TypeKind::Array(Box::new(type_of(e, &format!("{path}[]"))?)),
        A::Map(entries, _) => match entries.data_type() {
            A::Struct(kv) if kv.len() == 2 => TypeKind::Map(
                Box::new(type_of(&kv[0], &format!("{path}.key"))?.with_nullable(false)),
                Box::new(type_of(&kv[1], &format!("{path}.value"))?),
            ),
            other => {
                return Err(Error::invalid(format!(
                    "column {path}: map entries of type {other} are not key/value pairs"
                )))
            }
        },
        A::Struct(fields) => TypeKind::Row(
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    Ok(DataField::new(
                        i as i32,
                        f.name().clone(),
                        type_of(f, &format!("{path}.{}", f.name()))?,
                    ))
                })
                .collect::<Result<_>>()?,
        ),
        A::Dictionary(_, value) => {
            let inner = Field::new(field.name(), value.as_ref().clone(), field.is_nullable());
            return type_of(&inner, path);
        }
        other => {
            return Err(Error::unsupported(format!(
                "column {path}: Arrow type {other} has no Paimon type (unsigned integers, \
                 durations, intervals and unions are not table types; cast the column first)"
            )))
        }
    };
    Ok(DataType {
        kind,
        nullable: field.is_nullable(),
    })
}
