//! Parquet input: row groups are read in batches; columns are matched by name and cast to the
//! table's types, and a value that does not convert (or would lose digits) is an error naming
//! its row and column. Reading stdin buffers the file, since Parquet's footer comes last.

use std::io::Read;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::kernels::cmp::distinct;
use arrow::compute::{cast, cast_with_options, CastOptions};
use arrow::datatypes::{DataType as ArrowType, Schema};
use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::ChunkReader;
use streamhouse_format::types::{DataField, TypeKind, MAX_LENGTH};
use streamhouse_format::Error;

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

/// Casts to the column's type and checks what a cast does not: no lost digits, no NULL in a
/// NOT NULL column, lengths within CHAR(n) / VARCHAR(n) / BINARY(n) / VARBINARY(n).
fn conform_column(
    col: &ArrayRef,
    field: &DataField,
    first: u64,
    shape: &BatchShape,
) -> CliResult<ArrayRef> {
    let src = &shape.source;
    let ty = &field.data_type;
    let type_name = ty.with_nullable(true).to_string();
    let at = |row: usize| format!("{src} row {}, column {}", first + row as u64, field.name);
    let value = |row: usize| array_value_to_string(col, row).unwrap_or_default();
    let target = ty.to_arrow();
    let out = if col.data_type().equals_datatype(&target) {
        col.clone()
    } else {
        let strict = CastOptions {
            safe: false,
            ..Default::default()
        };
        match cast_with_options(col, &target, &strict) {
            Ok(out) => out,
            Err(e) => {
                let lenient = cast_with_options(col, &target, &CastOptions::default()).ok();
                if let Some(row) =
                    lenient.and_then(|l| (0..col.len()).find(|&i| col.is_valid(i) && l.is_null(i)))
                {
                    return Err(Error::input_at(
                        at(row),
                        format!("{:?} does not fit {type_name}", value(row)),
                    )
                    .into());
                }
                return Err(Error::input_at(
                    format!("{src}, column {}", field.name),
                    format!("cannot convert {} to {type_name}: {e}", col.data_type()),
                )
                .into());
            }
        }
    };
    // Narrowing a decimal's scale or a timestamp's unit must not drop digits.
    let narrowing = matches!(
        (col.data_type(), &target),
        (
            ArrowType::Decimal128(..) | ArrowType::Decimal256(..),
            ArrowType::Decimal128(..)
        ) | (ArrowType::Timestamp(..), ArrowType::Timestamp(..))
            | (ArrowType::Time64(_), ArrowType::Time32(_))
            | (
                ArrowType::Float32 | ArrowType::Float64,
                ArrowType::Decimal128(..)
            )
    );
    if narrowing && !Arc::ptr_eq(&out, col) {
        if let Ok(back) = cast(&out, col.data_type()) {
            if let Ok(diff) = distinct(&back, col) {
                if let Some(row) = (0..diff.len()).find(|&i| diff.is_valid(i) && diff.value(i)) {
                    return Err(Error::input_at(
                        at(row),
                        format!("{} would lose digits in {type_name}", value(row)),
                    )
                    .into());
                }
            }
        }
    }
    if !ty.nullable && out.null_count() > 0 {
        if let Some(row) = (0..out.len()).find(|&i| out.is_null(i)) {
            return Err(Error::input_at(
                at(row),
                format!(
                    "no value (NULL) for NOT NULL column {}{}",
                    field.name,
                    shape.key_note(&field.name)
                ),
            )
            .into());
        }
    }
    match ty.kind {
        TypeKind::Char(n) | TypeKind::VarChar(n) if n != MAX_LENGTH => {
            let s = out.as_string::<i32>();
            if let Some(row) =
                (0..s.len()).find(|&i| s.is_valid(i) && s.value(i).chars().count() > n as usize)
            {
                return Err(Error::input_at(
                    at(row),
                    format!("{:?} is longer than {type_name} allows ({n})", s.value(row)),
                )
                .into());
            }
        }
        TypeKind::Binary(n) | TypeKind::VarBinary(n) if n != MAX_LENGTH => {
            let b = out.as_binary::<i32>();
            if let Some(row) =
                (0..b.len()).find(|&i| b.is_valid(i) && b.value(i).len() > n as usize)
            {
                return Err(Error::input_at(
                    at(row),
                    format!(
                        "{} bytes is longer than {type_name} allows ({n})",
                        b.value(row).len()
                    ),
                )
                .into());
            }
        }
        _ => {}
    }
    Ok(out)
}
