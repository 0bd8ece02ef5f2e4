//! Parquet input: row groups are read in batches; columns are matched by name and cast to the
//! table's types, and a value that does not convert (or would lose digits) is an error naming
//! its row and column. Reading stdin buffers the file, since Parquet's footer comes last.

use std::io::Read;
use std::sync::Arc;

use arrow::array::{new_empty_array, Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType as ArrowType, Schema};
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::ChunkReader;
use streamhouse::DataField;
use streamhouse::Error;

use super::convert::Raw;
use super::{parse_kinds, BatchShape, Chunk, Source};
use crate::error::{CliError, CliResult};

pub fn read(source: &Source, shape: &BatchShape, send: impl FnMut(Chunk) -> bool) -> CliResult<()> {
    match source {
        Source::File(p) => {
            let f = std::fs::File::open(p)
                .map_err(CliError::io(format!("cannot open {}", p.display())))?;
            read_from(f, shape, send)
        }
        Source::Stdin => {
            let mut data = vec![];
            std::io::stdin()
                .read_to_end(&mut data)
                .map_err(CliError::io("reading stdin"))?;
            read_from(Bytes::from(data), shape, send)
        }
        Source::Memory { data, .. } => read_from(Bytes::from(data.clone()), shape, send),
    }
}

fn read_from<T: ChunkReader + 'static>(
    input: T,
    shape: &BatchShape,
    mut send: impl FnMut(Chunk) -> bool,
) -> CliResult<()> {
    let src = &shape.source;
    let builder = ParquetRecordBatchReaderBuilder::try_new(input)
        .map_err(|e| Error::input_at(src, format!("not a readable Parquet file: {e}")))?;
    let mut rowkind = None;
    for (i, f) in builder.schema().fields().iter().enumerate() {
        if shape.schema.field(f.name()).is_some() {
            continue;
        }
        if shape.rowkind_column() == Some(f.name().as_str()) {
            rowkind = Some(i);
            continue;
        }
        return Err(Error::input_at(src, shape.unknown_column(f.name())).into());
    }
    for f in &shape.schema.fields {
        if !f.data_type.nullable && builder.schema().field_with_name(&f.name).is_err() {
            return Err(Error::input_at(
                src,
                format!(
                    "column {} is missing; it is NOT NULL{}",
                    f.name,
                    shape.key_note(&f.name)
                ),
            )
            .into());
        }
    }
    // The file's types against the table's, before any row: nested fields unknown to the table,
    // missing NOT NULL fields and types that do not convert are found even in an empty file.
    for f in builder.schema().fields() {
        if let Some(field) = shape.schema.field(f.name()) {
            conform_column(&new_empty_array(f.data_type()), field, 1, shape)?;
        }
    }
    let reader = builder
        .with_batch_size(shape.batch_rows)
        .build()
        .map_err(|e| Error::input_at(src, format!("cannot read Parquet: {e}")))?;
    let mut first = 1u64;
    for batch in reader {
        let batch = batch.map_err(|e| {
            Error::input_at(
                format!("{src} from row {first}"),
                format!("cannot read Parquet: {e}"),
            )
        })?;
        let n = batch.num_rows() as u64;
        if n == 0 {
            continue;
        }
        let chunk = to_chunk(&batch, rowkind, first, shape)?;
        first += n;
        if !send(chunk) {
            break;
        }
    }
    Ok(())
}

fn to_chunk(
    batch: &RecordBatch,
    rowkind: Option<usize>,
    first: u64,
    shape: &BatchShape,
) -> CliResult<Chunk> {
    let src = &shape.source;
    let mut fields = vec![];
    let mut arrays = vec![];
    let mut kinds = None;
    for (i, (f, col)) in batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .enumerate()
    {
        if Some(i) == rowkind {
            let at = |row: usize| format!("{src} row {}, column {}", first + row as u64, f.name());
            let text = cast(col, &ArrowType::Utf8).map_err(|e| {
                Error::input_at(at(0), format!("rowkind must be a string column: {e}"))
            })?;
            let text = text.as_string::<i32>();
            let cells: Vec<Raw> = (0..text.len())
                .map(|j| {
                    if text.is_null(j) {
                        Raw::Null
                    } else {
                        Raw::Text(text.value(j))
                    }
                })
                .collect();
            kinds = parse_kinds(&cells, at)?;
            continue;
        }
        let Some(field) = shape.schema.field(f.name()) else {
            continue;
        };
        arrays.push(conform_column(col, field, first, shape)?);
        fields.push(field.to_arrow_field());
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| Error::arrow(format!("building rows of {src}"), e))?;
    let label = format!("{src} rows {first}-{}", first + batch.num_rows() as u64 - 1);
    Ok(Chunk {
        batch,
        kinds,
        label,
    })
}

/// Converts a column to the table column's type at every depth (see
/// [`streamhouse::conform_column`]); errors name the row (counted from `first`) and the column
/// path.
fn conform_column(
    col: &ArrayRef,
    field: &DataField,
    first: u64,
    shape: &BatchShape,
) -> CliResult<ArrayRef> {
    Ok(streamhouse::conform_column(
        &shape.schema,
        field,
        col,
        &shape.source,
        first,
    )?)
}
