//! Table columns from an Arrow schema (what `Catalog.create_table(schema=pyarrow.Schema)`
//! takes): each Arrow type to the Paimon type that reads back as it, nullability kept.

use arrow::datatypes::{DataType as A, Field, Schema, TimeUnit};
use streamhouse::{DataField, DataType, Error, Result, TypeKind, MAX_LENGTH};

/// The columns of a table made from `schema`.
pub fn columns_of(schema: &Schema) -> Result<Vec<(String, DataType)>> {
    schema
        .fields()
        .iter()
        .map(|f| Ok((f.name().clone(), type_of(f, f.name())?)))
        .collect()
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
