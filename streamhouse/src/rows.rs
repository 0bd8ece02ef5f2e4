//! Rows as callers outside Rust hold them (Python, Arrow streams): primary keys given as
//! columns — for lookups and deletes — and changes marked by an optional `rowkind` column.

use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType as ArrowType, Schema};
use streamhouse_format::datum::{datum_from_arrow, Datum};
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::types::DataField;
use streamhouse_writer::conform::{conform, Rows};

use crate::table::Table;
use crate::writer::Writer;
use crate::{Error, Result};

/// The input column holding each row's change kind (`+I`, `-U`, `+U`, `-D`; NULL is `+I`),
/// unless the table has a column of that name.
pub const ROWKIND_COLUMN: &str = "rowkind";

impl Table {
    /// The key column values of each row of `keys`, in key order, cast to the key types.
    /// `keys` holds exactly the primary-key columns (in any order); unknown or missing
    /// columns and NULL keys are [`Error::Input`] naming the column (and row, counted from 1).
    pub fn key_rows(&self, keys: &RecordBatch, label: &str) -> Result<Vec<Vec<Datum>>> {
        let columns = self.key_columns(keys, label)?;
        let fields = self.key_fields()?;
        (0..keys.num_rows())
            .map(|row| {
                columns
                    .iter()
                    .zip(&fields)
                    .map(
                        |(col, f)| match datum_from_arrow(col.as_ref(), row, &f.data_type)? {
                            Some(d) => Ok(d),
                            None => Err(null_key(label, row, f)),
                        },
                    )
                    .collect()
            })
            .collect()
    }

    /// The key columns of `keys` in key order, each cast to its column's type.
    fn key_columns(&self, keys: &RecordBatch, label: &str) -> Result<Vec<ArrayRef>> {
        if !self.is_primary_key_table() {
            return Err(Error::invalid(format!(
                "table {} has no primary key, so rows cannot be found or deleted by key",
                self.name()
            )));
        }
        let fields = self.key_fields()?;
        let input = keys.schema();
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        for f in input.fields() {
            if !names.contains(&f.name().as_str()) {
                return Err(Error::input_at(
                    label,
                    format!(
                        "column {:?} is not a primary-key column; the key is ({})",
                        f.name(),
                        names.join(", ")
                    ),
                ));
            }
        }
        fields
            .iter()
            .map(|f| {
                let i = input.index_of(&f.name).map_err(|_| {
                    Error::input_at(
                        label,
                        format!(
                            "primary-key column {:?} is missing; the key is ({})",
                            f.name,
                            names.join(", ")
                        ),
                    )
                })?;
                let col = keys.column(i);
                // Logical nulls: a column of Arrow type Null has no validity buffer.
                if let Some(nulls) = col.logical_nulls() {
                    if let Some(row) = (0..col.len()).find(|&r| nulls.is_null(r)) {
                        return Err(null_key(label, row, f));
                    }
                }
                conform(col, &f.data_type, &f.name, Rows::Same).map_err(|e| match e.row {
                    Some(row) => Error::input_at(
                        format!("{label}: row {}, column {}", row + 1, e.path),
                        e.detail,
                    ),
                    None => Error::input_at(format!("{label}, column {}", e.path), e.detail),
                })
            })
            .collect()
    }

    /// Full rows of `-D` changes for the keys in `keys` (exactly the primary-key columns):
    /// the key columns cast to the table's types, nullable columns NULL and NOT NULL columns
    /// a zero value (no merge engine reads the value columns of a delete by key).
    pub fn delete_rows(&self, keys: &RecordBatch, label: &str) -> Result<RecordBatch> {
        let key_columns = self.key_columns(keys, label)?;
        let key_fields = self.key_fields()?;
        let n = keys.num_rows();
        let mut fields = vec![];
        let mut columns = vec![];
        for field in &self.schema().fields {
            let col = match key_fields.iter().position(|k| k.name == field.name) {
                Some(i) => key_columns[i].clone(),
                None if field.data_type.nullable => continue,
                None => zero_array(field, n)?,
            };
            fields.push(field.to_arrow_field());
            columns.push(col);
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| Error::arrow(label, e))?;
        self.conform(&batch, label)
    }

    /// Takes the [`ROWKIND_COLUMN`] out of `batch` (when the table has no column of that name)
    /// and parses it: the rest of the batch, and the kinds (`None` when every row is `+I`).
    pub fn split_row_kinds(
        &self,
        batch: &RecordBatch,
        label: &str,
    ) -> Result<(RecordBatch, Option<Vec<RowKind>>)> {
        let schema = batch.schema();
        let Ok(i) = schema.index_of(ROWKIND_COLUMN) else {
            return Ok((batch.clone(), None));
        };
        if self.schema().field(ROWKIND_COLUMN).is_some() {
            return Ok((batch.clone(), None));
        }
        let at = || format!("{label}, column {ROWKIND_COLUMN}");
        let text = cast(batch.column(i), &ArrowType::Utf8).map_err(|e| {
            Error::input_at(at(), format!("must hold strings (+I, -U, +U, -D): {e}"))
        })?;
        let text = text
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .ok_or_else(|| Error::internal("a cast to Utf8 gave another array type"))?;
        let mut kinds = Vec::with_capacity(text.len());
        for row in 0..text.len() {
            kinds.push(if text.is_null(row) {
                RowKind::Insert
            } else {
                RowKind::parse(text.value(row)).map_err(|_| {
                    Error::input_at(
                        format!("{label}: row {}, column {ROWKIND_COLUMN}", row + 1),
                        format!(
                            "{:?} is not a row kind; use +I (insert), -U / +U (update before / after) or -D (delete)",
                            text.value(row)
                        ),
                    )
                })?
            });
        }
        let mut rest = batch.clone();
        rest.remove_column(i);
        let kinds = kinds.iter().any(|k| *k != RowKind::Insert).then_some(kinds);
        Ok((rest, kinds))
    }
}

impl Writer {
    /// Buffers a `-D` change for each key in `keys` (a batch of exactly the primary-key
    /// columns; see [`Table::delete_rows`]).
    pub async fn delete(&mut self, keys: &RecordBatch) -> Result<()> {
        let rows = self.table().delete_rows(keys, "keys")?;
        if rows.num_rows() == 0 {
            return Ok(());
        }
        self.write_with_kinds(&rows, &vec![RowKind::Delete; rows.num_rows()])
            .await
    }
}

fn null_key(label: &str, row: usize, f: &DataField) -> Error {
    Error::input_at(
        format!("{label}: row {}, column {}", row + 1, f.name),
        format!("no value (NULL) for primary-key column {}", f.name),
    )
}

/// `n` values of a NOT NULL column with every byte zero: 0, the empty string, an empty list.
fn zero_array(field: &DataField, n: usize) -> Result<ArrayRef> {
    let nulls = new_null_array(&field.data_type.to_arrow(), n);
    let data = nulls.into_data().into_builder().nulls(None).build().map_err(|e| {
        Error::unsupported(format!(
            "a delete by key needs a value for NOT NULL column {} ({}); write the full rows with rowkind -D instead: {e}",
            field.name, field.data_type
        ))
    })?;
    Ok(arrow::array::make_array(data))
}
