//! Fitting one input column to a table column, for readers that number rows across a whole
//! input (the CLI's Parquet input): the same conform step as [`Table::conform`](crate::Table::conform).

use arrow::array::ArrayRef;
use streamhouse_writer::conform::{conform, Rows};

use crate::{DataField, Error, Result, TableSchema};

/// Converts `col` to the type of table column `field` at every depth: cast where no value
/// changes, nested fields matched by name, the table's own Arrow fields on the result. An
/// error names the row as `<source> row <n>, column <path>`, `n` counted from `first_row`
/// (or `<source>, column <path>` when the column as a whole does not fit).
pub fn conform_column(
    schema: &TableSchema,
    field: &DataField,
    col: &ArrayRef,
    source: &str,
    first_row: u64,
) -> Result<ArrayRef> {
    conform(col, &field.data_type, &field.name, Rows::Same).map_err(|e| {
        let at = match e.row {
            Some(row) => format!("{source} row {}, column {}", first_row + row as u64, e.path),
            None => format!("{source}, column {}", e.path),
        };
        let detail = if e.null && e.path == field.name {
            let key = if schema.primary_keys.contains(&field.name) {
                " (primary key)"
            } else {
                ""
            };
            format!("no value (NULL) for NOT NULL column {}{key}", field.name)
        } else {
            e.detail
        };
        Error::input_at(at, detail)
    })
}
