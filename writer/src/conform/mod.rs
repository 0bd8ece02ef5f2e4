//! Fitting input batches to the table: match columns by name, cast to the table's types, and
//! report the first value that does not fit, with its column and row.

use arrow::array::{new_null_array, Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::DataType as A;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::{DataType, TypeKind, MAX_LENGTH};
use streamhouse_format::{Error, Result};

/// Matches a batch's columns to the table's by name and casts them to the table's types.
/// Unknown columns and missing non-nullable columns are errors naming the column; missing
/// nullable columns are filled with nulls. Errors about a value say `<source>: row <n>` with
/// `n` counted from 1 within this batch.
pub fn conform_batch(
    schema: &TableSchema,
    batch: &RecordBatch,
    source: &str,
) -> Result<RecordBatch> {
    let input = batch.schema();
    for f in input.fields() {
        if schema.field(f.name()).is_none() {
            return Err(Error::input_at(
                source,
                format!(
                    "unknown column {:?}; the table's columns are {}",
                    f.name(),
                    schema.field_names().join(", ")
                ),
            ));
        }
    }
    let target = schema.arrow_schema();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields.len());
    for field in &schema.fields {
        let ty = &field.data_type;
        let arrow_ty = ty.to_arrow();
        let col = match input.index_of(&field.name) {
            Err(_) if ty.nullable => new_null_array(&arrow_ty, batch.num_rows()),
            Err(_) => {
                return Err(Error::input_at(
                    source,
                    format!(
                        "column {:?} ({ty}) is missing and cannot be null",
                        field.name
                    ),
                ))
            }
            Ok(i) => cast_column(batch.column(i), &field.name, ty, &arrow_ty, source)?,
        };
        if !ty.nullable && col.null_count() > 0 {
            let row = (0..col.len()).find(|r| col.is_null(*r)).unwrap_or(0);
            let what = if schema.primary_keys.contains(&field.name) {
                "primary key column"
            } else {
                "column"
            };
            return Err(Error::input_at(
                format!("{source}: row {}", row + 1),
                format!("null in {what} {:?}, which is NOT NULL", field.name),
            ));
        }
        check_lengths(&col, &field.name, ty, source)?;
        columns.push(col);
    }
    RecordBatch::try_new(target, columns).map_err(|e| Error::arrow(source, e))
}

fn cast_column(
    col: &ArrayRef,
    name: &str,
    ty: &DataType,
    arrow_ty: &A,
    source: &str,
) -> Result<ArrayRef> {
    if col.data_type() == arrow_ty {
        return Ok(col.clone());
    }
    // Timestamps with a different zone annotation are the same instants.
    if let (A::Timestamp(u1, _), A::Timestamp(u2, _)) = (col.data_type(), arrow_ty) {
        if u1 == u2 {
            return Ok(cast_with_options(col, arrow_ty, &CastOptions::default())?);
        }
    }
    let safe = CastOptions {
        safe: true,
        ..Default::default()
    };
    let out = cast_with_options(col, arrow_ty, &safe).map_err(|e| {
        Error::input_at(
            source,
            format!(
                "column {name:?}: cannot convert {} to {ty}: {e}",
                col.data_type()
            ),
        )
    })?;
    // A safe cast turns values that do not fit into nulls: find the first one.
    if out.null_count() > col.null_count() {
        if let Some(row) = (0..col.len()).find(|r| out.is_null(*r) && !col.is_null(*r)) {
            let shown = arrow::util::display::array_value_to_string(col, row).unwrap_or_default();
            return Err(Error::input_at(
                format!("{source}: row {}", row + 1),
                format!("value {shown:?} of column {name:?} does not fit {ty}"),
            ));
        }
    }
    Ok(out)
}

/// CHAR(n) / VARCHAR(n) / BINARY(n) / VARBINARY(n) values longer than n are rejected.
fn check_lengths(col: &ArrayRef, name: &str, ty: &DataType, source: &str) -> Result<()> {
    let limit = match ty.kind {
        TypeKind::Char(n) | TypeKind::VarChar(n) | TypeKind::Binary(n) | TypeKind::VarBinary(n)
            if n < MAX_LENGTH =>
        {
            n as usize
        }
        _ => return Ok(()),
    };
    let too_long = |row: usize, len: usize| {
        Error::input_at(
            format!("{source}: row {}", row + 1),
            format!("value of column {name:?} has length {len}, more than {ty} allows"),
        )
    };
    match col.data_type() {
        A::Utf8 => {
            for (row, v) in col.as_string::<i32>().iter().enumerate() {
                if let Some(v) = v {
                    let n = v.chars().count();
                    if n > limit {
                        return Err(too_long(row, n));
                    }
                }
            }
        }
        A::Binary => {
            for (row, v) in col.as_binary::<i32>().iter().enumerate() {
                if let Some(v) = v {
                    if v.len() > limit {
                        return Err(too_long(row, v.len()));
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Makes a batch whose schema is exactly `schema`'s Arrow schema (same types, field ids).
pub fn with_table_schema(schema: &TableSchema, batch: &RecordBatch) -> Result<RecordBatch> {
    let target = schema.arrow_schema();
    if batch.schema() == target {
        return Ok(batch.clone());
    }
    conform_batch(schema, batch, "batch")
}
