//! Reading ORC and Avro data files (tables Java Paimon, Flink or Spark wrote with
//! `file.format = orc | avro`) into the same internal layout as Parquet files.
//!
//! ORC goes through the `orc-rust` crate, Avro through `arrow-avro`; both give Arrow batches
//! whose columns carry the file's field names, which [`bind`](crate::file_reader) maps to the
//! current schema by field id exactly as for Parquet (system columns `_KEY_*`,
//! `_SEQUENCE_NUMBER`, `_VALUE_KIND`, schema-evolution casts). The whole file is fetched and
//! decoded; there is no pruning inside these files (row groups, pages), only the file-level
//! pruning the plan already did from manifest statistics. Deletion vectors and row filters
//! apply as for Parquet.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, MapArray, RecordBatch, StructArray};
use arrow::datatypes::{DataType as ArrowType, Field, Schema};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::{DataType, TypeKind};
use streamhouse_format::{Error, Result};

use crate::dv::DeletionVector;
use crate::file_reader::{bind, locate_any, ScanContext, KEY_PREFIX};

/// Data file formats read here besides Parquet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherFormat {
    Orc,
    Avro,
}

impl OtherFormat {
    /// The format of a `file_format` name (`orc`, `avro`), if read here.
    pub fn of(format: &str) -> Option<Self> {
        match format {
            "orc" => Some(OtherFormat::Orc),
            "avro" => Some(OtherFormat::Avro),
            _ => None,
        }
    }
}

/// Decoded batches of a whole file, errors as text.
type Batches = Box<dyn Iterator<Item = std::result::Result<RecordBatch, String>> + Send>;

/// Fetches a whole data file.
async fn fetch(
    store: &Arc<dyn object_store::ObjectStore>,
    path: &object_store::path::Path,
    display: &str,
) -> Result<Bytes> {
    let storage = |e: object_store::Error| match e {
        object_store::Error::NotFound { .. } => Error::NotFound(format!("data file {display}")),
        e => Error::storage(display, e),
    };
    store
        .get(path)
        .await
        .map_err(storage)?
        .bytes()
        .await
        .map_err(storage)
}

/// Decodes a whole ORC or Avro file into batches of at most `batch_size` rows, keeping only
/// the root columns named in `columns` (in file order), and the file's Arrow schema.
fn decode(
    format: OtherFormat,
    data: Bytes,
    batch_size: usize,
    display: &str,
) -> Result<(Arc<Schema>, Batches)> {
    match format {
        OtherFormat::Orc => {
            let builder = orc_rust::ArrowReaderBuilder::try_new(data)
                .map_err(|e| Error::corrupt(display, format!("not a readable ORC file: {e}")))?
                .with_batch_size(batch_size);
            let schema = builder.schema();
            let reader = builder.build();
            Ok((
                schema,
                Box::new(reader.map(|b| b.map_err(|e| e.to_string()))),
            ))
        }
        OtherFormat::Avro => {
            let reader = arrow_avro::reader::ReaderBuilder::new()
                .with_batch_size(batch_size)
                .build(std::io::Cursor::new(data))
                .map_err(|e| Error::corrupt(display, format!("not a readable Avro file: {e}")))?;
            let schema = reader.schema();
            Ok((
                schema,
                Box::new(reader.map(|b| b.map_err(|e| e.to_string()))),
            ))
        }
    }
}

/// Opens an ORC or Avro data file and streams its rows in the internal layout, dropping the
/// positions of its deletion vector (the counterpart of
/// [`read_file_with`](crate::file_reader::read_file_with) for Parquet).
pub(crate) async fn read_file(
    ctx: &Arc<ScanContext>,
    format: OtherFormat,
    bucket_dir: &object_store::path::Path,
    file: &DataFileMeta,
    dv: Option<Arc<DeletionVector>>,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    let src = locate_any(ctx, bucket_dir, file)?;
    let display = src.display;
    let data = fetch(&src.store, &src.path, &display).await?;
    let (schema, batches) = decode(format, data, ctx.batch_size, &display)?;
    if format == OtherFormat::Orc {
        refuse_local_zoned_timestamps(ctx, &src.schema, &schema, &display)?;
    }
    let binding = bind(ctx, &src.schema, &schema, &display)?;
    let roots = binding.roots.clone();
    let file_schema = src.schema.clone();
    let mut finish = binding.into_finisher(ctx, dv, display.clone());
    let converted = futures::stream::iter(batches).map(move |batch| {
        let batch = batch.map_err(|e| Error::corrupt(&display, e))?;
        let batch = batch
            .project(&roots)
            .map_err(|e| Error::corrupt(&display, e))?;
        let batch = if format == OtherFormat::Avro {
            avro_maps(batch, &file_schema).map_err(|e| Error::corrupt(&display, e))?
        } else {
            batch
        };
        finish(batch)
    });
    Ok(converted
        .filter(|b| futures::future::ready(!matches!(b, Ok(b) if b.num_rows() == 0)))
        .boxed())
}

/// TIMESTAMP WITH LOCAL TIME ZONE columns of ORC files are refused: the ORC writers Paimon
/// uses do not agree with `orc-rust` on their instants (values of a C++-written file come out
/// shifted by the writer's zone offset), and a wrong instant must not be returned.
fn refuse_local_zoned_timestamps(
    ctx: &ScanContext,
    file_schema: &TableSchema,
    file_arrow: &Schema,
    display: &str,
) -> Result<()> {
    for want in ctx.key_fields.iter().chain(&ctx.value_fields) {
        let Some(f) = file_schema.fields.iter().find(|f| f.id == want.id) else {
            continue;
        };
        let in_file = file_arrow
            .fields()
            .iter()
            .any(|a| a.name() == &f.name || a.name() == &format!("{KEY_PREFIX}{}", f.name));
        if in_file && matches!(f.data_type.kind, TypeKind::LocalZonedTimestamp(_)) {
            return Err(Error::unsupported(format!(
                "data file {display} is in ORC format and column {} is TIMESTAMP WITH LOCAL \
                 TIME ZONE; Streamhouse does not read such ORC columns (their instants are not \
                 decoded reliably)",
                f.name
            )));
        }
    }
    Ok(())
}

/// Avro has maps with string keys only; Paimon writes a MAP with other keys as an array of
/// `{key, value}` records, which `arrow-avro` decodes as a list of structs. Such columns of a
/// MAP field (by name, in the file's schema; also nested in arrays, rows and map values)
/// become Arrow maps.
fn avro_maps(
    batch: RecordBatch,
    file_schema: &TableSchema,
) -> std::result::Result<RecordBatch, String> {
    let schema = batch.schema();
    let mut fields = vec![];
    let mut cols = vec![];
    for (field, col) in schema.fields().iter().zip(batch.columns()) {
        let ty = file_schema
            .fields
            .iter()
            .find(|f| &f.name == field.name())
            .map(|f| &f.data_type);
        let col = match ty {
            Some(ty) => to_maps(col, ty)?,
            None => col.clone(),
        };
        fields.push(Field::new(field.name(), col.data_type().clone(), true));
        cols.push(col);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).map_err(|e| e.to_string())
}

/// [`avro_maps`] for one column of Paimon type `ty`.
fn to_maps(col: &ArrayRef, ty: &DataType) -> std::result::Result<ArrayRef, String> {
    let err = |e: arrow::error::ArrowError| e.to_string();
    Ok(match (&ty.kind, col.data_type()) {
        (TypeKind::Map(k, v), ArrowType::List(_) | ArrowType::Map(..)) => {
            let (offsets, entries, nulls) = match col.data_type() {
                ArrowType::List(_) => {
                    let l = col.as_list::<i32>();
                    (l.offsets().clone(), l.values().clone(), l.nulls().cloned())
                }
                _ => {
                    let m = col.as_map();
                    let e: ArrayRef = Arc::new(m.entries().clone());
                    (m.offsets().clone(), e, m.nulls().cloned())
                }
            };
            let entries = entries
                .as_struct_opt()
                .filter(|e| e.num_columns() == 2)
                .ok_or_else(|| format!("a MAP column decoded as {}", col.data_type()))?;
            let key = to_maps(entries.column(0), k)?;
            let value = to_maps(entries.column(1), v)?;
            let key_field = Arc::new(Field::new("key", key.data_type().clone(), false));
            let value_field = Arc::new(Field::new("value", value.data_type().clone(), true));
            let entries =
                StructArray::try_new(vec![key_field, value_field].into(), vec![key, value], None)
                    .map_err(err)?;
            let entries_field = Arc::new(Field::new("entries", entries.data_type().clone(), false));
            Arc::new(MapArray::try_new(entries_field, offsets, entries, nulls, false).map_err(err)?)
        }
        (TypeKind::Array(e) | TypeKind::Multiset(e), ArrowType::List(_)) => {
            let l = col.as_list::<i32>();
            let values = to_maps(l.values(), e)?;
            let item = Arc::new(Field::new("item", values.data_type().clone(), true));
            Arc::new(
                ListArray::try_new(item, l.offsets().clone(), values, l.nulls().cloned())
                    .map_err(err)?,
            )
        }
        (TypeKind::Row(fields), ArrowType::Struct(arrow_fields))
            if fields.len() == arrow_fields.len() =>
        {
            let s = col.as_struct();
            let mut children = vec![];
            let mut new_fields = vec![];
            for ((f, af), c) in fields.iter().zip(arrow_fields).zip(s.columns()) {
                let c = to_maps(c, &f.data_type)?;
                new_fields.push(Arc::new(Field::new(af.name(), c.data_type().clone(), true)));
                children.push(c);
            }
            Arc::new(
                StructArray::try_new(new_fields.into(), children, s.nulls().cloned())
                    .map_err(err)?,
            )
        }
        _ => col.clone(),
    })
}

/// Every row of an ORC or Avro data file in the internal layout, in file order: row `i` is file
/// position `i` (no deletion vector applied, nothing filtered) — what lookups search
/// ([`crate::lookup`]). `ctx` must have no pushdown (a lookup's context has none).
pub(crate) async fn read_whole_file(
    ctx: &Arc<ScanContext>,
    format: OtherFormat,
    bucket_dir: &object_store::path::Path,
    file: &DataFileMeta,
) -> Result<RecordBatch> {
    if ctx.pushdown.is_some() {
        return Err(Error::internal(
            "a whole-file read for lookups must not filter rows",
        ));
    }
    let batches: Vec<RecordBatch> = read_file(ctx, format, bucket_dir, file, None)
        .await?
        .try_collect()
        .await?;
    arrow::compute::concat_batches(&ctx.internal_schema, &batches).map_err(|e| {
        let display = crate::file_reader::file_display_path(&ctx.table, bucket_dir, file);
        Error::arrow(format!("assembling rows of {display}"), e)
    })
}
