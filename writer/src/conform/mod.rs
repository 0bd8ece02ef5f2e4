//! The one conform step: fitting an input batch to the table. Every write path uses it — the
//! library's [`crate::TableWriter`] on every batch, the CLI on CSV, JSON and Parquet input —
//! so a library user gets the same validation as a CLI user.
//!
//! Columns are matched by name at every depth (top-level columns and ROW fields inside ROW,
//! ARRAY and MAP), cast to the table's types where no value changes, and checked: NULL in a
//! NOT NULL column or field (primary keys included), integers and decimals out of range,
//! decimals that would lose digits, text and bytes longer than CHAR/VARCHAR/BINARY(n). The
//! first value that does not fit is an error naming the column (a path for nested fields:
//! `r.a`, `l[].x`, `m.key`, `m.value.v`) and the row.

mod column;

use arrow::array::{new_null_array, ArrayRef, RecordBatch};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::DataField;
use streamhouse_format::{Error, Result};

pub use column::{conform, ConformError, Rows};

/// Matches a batch's columns to the table's by name and casts them to the table's types (see
/// the module docs). Unknown columns and missing NOT NULL columns are errors naming the column;
/// missing nullable columns are filled with nulls. Errors about a value say
/// `<source>: row <n>, column <path>` with `n` counted from 1 within this batch.
pub fn conform_batch(
    schema: &TableSchema,
    batch: &RecordBatch,
    source: &str,
) -> Result<RecordBatch> {
    let input = batch.schema();
    for (i, f) in input.fields().iter().enumerate() {
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
        if input.fields()[..i].iter().any(|g| g.name() == f.name()) {
            return Err(Error::input_at(
                source,
                format!("column {:?} appears twice", f.name()),
            ));
        }
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields.len());
    for field in &schema.fields {
        let ty = &field.data_type;
        let col = match input.index_of(&field.name) {
            Err(_) if ty.nullable => new_null_array(&ty.to_arrow(), batch.num_rows()),
            Err(_) => {
                return Err(Error::input_at(
                    source,
                    format!(
                        "column {:?} ({ty}) is missing and cannot be null{}",
                        field.name,
                        key_note(schema, field)
                    ),
                ))
            }
            Ok(i) => conform_column(schema, field, batch.column(i), source)?,
        };
        columns.push(col);
    }
    RecordBatch::try_new(schema.arrow_schema(), columns).map_err(|e| Error::arrow(source, e))
}

/// One top-level column through [`conform`], its error located as `<source>: row <n>, column
/// <path>` (or `<source>, column <path>` when the column as a whole does not fit).
fn conform_column(
    schema: &TableSchema,
    field: &DataField,
    col: &ArrayRef,
    source: &str,
) -> Result<ArrayRef> {
    conform(col, &field.data_type, &field.name, Rows::Same).map_err(|e| {
        let at = match e.row {
            Some(row) => format!("{source}: row {}, column {}", row + 1, e.path),
            None => format!("{source}, column {}", e.path),
        };
        let detail = if e.null && e.path == field.name {
            format!(
                "no value (NULL) for NOT NULL column {}{}",
                field.name,
                key_note(schema, field)
            )
        } else {
            e.detail
        };
        Error::input_at(at, detail)
    })
}

fn key_note(schema: &TableSchema, field: &DataField) -> &'static str {
    if schema.primary_keys.contains(&field.name) {
        " (primary key)"
    } else {
        ""
    }
}

/// Makes a batch whose schema is exactly `schema`'s Arrow schema (same types, field ids),
/// validated by [`conform_batch`] even when the batch already has that schema: Arrow types do
/// not carry NOT NULL fields inside nested values, decimal precision or CHAR/VARCHAR lengths.
pub fn with_table_schema(schema: &TableSchema, batch: &RecordBatch) -> Result<RecordBatch> {
    conform_batch(schema, batch, "batch")
}

#[cfg(test)]
mod tests;
