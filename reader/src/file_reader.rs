//! Reading one data file into the scan's internal layout, with schema evolution.
//!
//! A data file was written under schema `_SCHEMA_ID`; its columns carry that schema's field
//! *names*. Columns are bound to the current schema by **field id** through the file's schema
//! (renamed columns keep their data, dropped ones vanish, added ones read as null) and cast to
//! the current types. Parquet field ids are not used (pypaimon writes none).
//!
//! Internal layout of a batch ([`ScanContext::internal_schema`]):
//! * primary-key tables: the trimmed primary key (`_KEY_<name>` columns, or the value columns
//!   in `data-file.thin-mode`), `_SEQUENCE_NUMBER`, `_VALUE_KIND`, then the value columns read;
//! * append tables: the value columns read.
//!
//! The value columns read are the projection followed by any extra columns merging needs
//! (`sequence.field`).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions,
};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use parquet::arrow::ProjectionMask;
use streamhouse_format::io::Table;
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::{DataField, DataType};
use streamhouse_format::{Error, Result};

use crate::cast::cast_column;
use crate::dv::DeletionVector;
use crate::location;
use crate::parquet_io::ObjectReader;

/// Name of the sequence-number system column.
pub const SEQUENCE_NUMBER: &str = "_SEQUENCE_NUMBER";
/// Name of the row-kind system column.
pub const VALUE_KIND: &str = "_VALUE_KIND";
/// Prefix of key columns in primary-key data files.
pub const KEY_PREFIX: &str = "_KEY_";

/// Everything a scan needs to read and merge files, shared by all of its tasks.
#[derive(Debug)]
pub struct ScanContext {
    pub table: Table,
    /// Schemas by id: the current one and every one a planned file was written with.
    pub schemas: HashMap<i64, Arc<TableSchema>>,
    pub primary_key: bool,
    /// The trimmed primary key (current schema); empty for append tables.
    pub key_fields: Vec<DataField>,
    /// Value columns read: the output columns first, then extra columns for merging.
    pub value_fields: Vec<DataField>,
    /// How many of `value_fields` are output.
    pub num_output: usize,
    /// Positions in `value_fields` of the `sequence.field` columns.
    pub sequence_fields: Vec<usize>,
    pub output_schema: SchemaRef,
    pub internal_schema: SchemaRef,
    pub batch_size: usize,
    /// Predicate and limit pushdown into file reads (see [`crate::pushdown`]).
    pub pushdown: Option<Arc<crate::pushdown::FilePushdown>>,
    /// The rows of a split may come in any order (not by key): deduplicate sections are then
    /// read newest run first instead of merged ([`crate::newest_first`]).
    pub any_order: bool,
}

impl ScanContext {
    /// Builds the context; `schemas` must hold every schema id of the files to read.
    pub fn new(
        table: Table,
        schemas: HashMap<i64, Arc<TableSchema>>,
        projection: &[String],
        batch_size: usize,
    ) -> Result<Self> {
        let schema = &table.schema;
        let primary_key = table.is_primary_key_table();
        let mut value_fields = schema.fields_named(projection)?;
        let num_output = value_fields.len();
        let mut sequence_fields = vec![];
        let key_fields = if primary_key {
            schema.fields_named(&schema.trimmed_primary_keys())?
        } else {
            vec![]
        };
        if primary_key {
            for name in &table.options.sequence_fields {
                let f = schema.field(name).ok_or_else(|| {
                    Error::invalid(format!(
                        "sequence.field {name:?} is not a column of the table"
                    ))
                })?;
                let pos = match value_fields.iter().position(|v| v.id == f.id) {
                    Some(p) => p,
                    None => {
                        value_fields.push(f.clone());
                        value_fields.len() - 1
                    }
                };
                sequence_fields.push(pos);
            }
        }
        let output_schema = Arc::new(Schema::new(
            value_fields[..num_output]
                .iter()
                .map(DataField::to_arrow_field)
                .collect::<Vec<_>>(),
        ));
        let mut internal: Vec<Field> = vec![];
        if primary_key {
            for k in &key_fields {
                internal.push(Field::new(
                    format!("{KEY_PREFIX}{}", k.name),
                    k.data_type.to_arrow(),
                    true,
                ));
            }
            internal.push(Field::new(SEQUENCE_NUMBER, ArrowType::Int64, true));
            internal.push(Field::new(VALUE_KIND, ArrowType::Int8, true));
        }
        for v in &value_fields {
            internal.push(Field::new(v.name.clone(), v.data_type.to_arrow(), true));
        }
        Ok(ScanContext {
            table,
            schemas,
            primary_key,
            key_fields,
            value_fields,
            num_output,
            sequence_fields,
            output_schema,
            internal_schema: Arc::new(Schema::new(internal)),
            batch_size,
            pushdown: None,
            any_order: false,
        })
    }

    /// Index of the first value column in the internal layout.
    pub fn value_offset(&self) -> usize {
        if self.primary_key {
            self.key_fields.len() + 2
        } else {
            0
        }
    }

    /// Index of `_SEQUENCE_NUMBER` in the internal layout (primary-key tables).
    pub fn seq_index(&self) -> usize {
        self.key_fields.len()
    }

    /// Index of `_VALUE_KIND` in the internal layout (primary-key tables).
    pub fn kind_index(&self) -> usize {
        self.key_fields.len() + 1
    }

    /// Turns internal-layout columns into an output batch.
    pub fn output_batch(&self, columns: Vec<ArrayRef>, rows: usize) -> Result<RecordBatch> {
        let opts = RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.output_schema.clone(), columns, &opts)
            .map_err(|e| Error::arrow("assembling an output batch", e))
    }

    /// Projects an internal batch onto the output columns.
    pub fn to_output(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let off = self.value_offset();
        let cols = (0..self.num_output)
            .map(|i| batch.column(off + i).clone())
            .collect();
        self.output_batch(cols, batch.num_rows())
    }
}

/// The file format of a data file, from its extension (falling back to `file.format`).
fn file_format<'a>(name: &'a str, default: &'a str) -> &'a str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some(ext @ ("parquet" | "orc" | "avro" | "lance" | "csv" | "json" | "blob")) => ext,
        _ => default,
    }
}

/// Where a file's column comes from: a projected Parquet column or nothing (null), with its
/// type in the file's schema and in the current schema (value columns).
#[derive(Debug, Clone)]
struct Slot {
    source: Option<usize>,
    name: String,
    from: Option<DataType>,
    to: Option<DataType>,
}

/// An internal column's Parquet root (if present), name, file type and current type.
type Wanted = (Option<usize>, String, Option<DataType>, Option<DataType>);

/// The display path of a data file, for errors.
pub fn file_display_path(
    table: &Table,
    bucket_dir: &object_store::path::Path,
    file: &DataFileMeta,
) -> String {
    match &file.external_path {
        Some(e) => e.clone(),
        None => {
            let _ = table;
            bucket_dir.clone().join(file.file_name.as_str()).to_string()
        }
    }
}

/// A data file located and checked: where its bytes are, its name for messages, and the
/// schema it was written with.
pub(crate) struct DataFileSource {
    pub store: Arc<dyn object_store::ObjectStore>,
    pub path: object_store::path::Path,
    /// The size recorded in the manifest, when known.
    pub size: Option<u64>,
    pub display: String,
    pub schema: Arc<TableSchema>,
}

/// Finds a Parquet data file's store and schema (for reads that need Parquet: scans of ORC
/// and Avro files go through [`crate::other_formats`]); other files are
/// [`Error::Unsupported`].
pub(crate) fn locate(
    ctx: &ScanContext,
    bucket_dir: &object_store::path::Path,
    file: &DataFileMeta,
) -> Result<DataFileSource> {
    let display = file_display_path(&ctx.table, bucket_dir, file);
    let format = file_format(&file.file_name, &ctx.table.options.file_format);
    if crate::other_formats::OtherFormat::of(format).is_some() {
        return Err(Error::unsupported(format!(
            "data file {display} is in {} format; Streamhouse looks keys up (get) in Parquet \
             data files only (scan and tail read ORC and Avro data files)",
            format.to_ascii_uppercase()
        )));
    }
    if format != "parquet" {
        return Err(Error::unsupported(format!(
            "data file {display} is in {} format; Streamhouse reads Parquet data files only",
            format.to_ascii_uppercase()
        )));
    }
    locate_any(ctx, bucket_dir, file)
}

/// The format of a data file (`parquet`, `orc`, `avro`, …), from its name or `file.format`.
pub(crate) fn data_file_format<'a>(ctx: &'a ScanContext, file: &'a DataFileMeta) -> &'a str {
    file_format(&file.file_name, &ctx.table.options.file_format)
}

/// [`locate`] for a file of any format.
pub(crate) fn locate_any(
    ctx: &ScanContext,
    bucket_dir: &object_store::path::Path,
    file: &DataFileMeta,
) -> Result<DataFileSource> {
    let in_table = bucket_dir.clone().join(file.file_name.as_str());
    let display = file_display_path(&ctx.table, bucket_dir, file);
    let schema = ctx.schemas.get(&file.schema_id).cloned().ok_or_else(|| {
        Error::NotFound(format!("schema {} of data file {display}", file.schema_id))
    })?;
    let (store, path) = location::resolve(&ctx.table.io, &in_table, file.external_path.as_deref())?;
    Ok(DataFileSource {
        store,
        path,
        size: (file.file_size > 0).then_some(file.file_size as u64),
        display,
        schema,
    })
}

/// A Parquet error from opening or reading a data file: a storage failure Parquet wraps stays
/// a storage failure (a missing file is [`Error::NotFound`], a failed GET is kind Io); any
/// other Parquet error means the file is corrupt.
pub(crate) fn open_error(e: parquet::errors::ParquetError, display: &str) -> Error {
    match e {
        parquet::errors::ParquetError::External(inner) => {
            match Error::from_external(display, inner, |e| Error::corrupt(display, e)) {
                Error::Storage {
                    source: object_store::Error::NotFound { .. },
                    ..
                } => Error::NotFound(format!("data file {display}")),
                e => e,
            }
        }
        e => Error::corrupt(display, e),
    }
}

/// How a data file's Parquet columns map to the internal layout of a [`ScanContext`].
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    /// The Parquet root columns to read, ascending.
    pub roots: Vec<usize>,
    /// The Parquet root column of each key column (primary-key tables), in key order.
    pub key_roots: Vec<usize>,
    slots: Vec<Slot>,
}

/// Binds a file's columns (Arrow schema `file_arrow`, written with `file_schema`) to the
/// internal layout: key columns by `_KEY_<name>` (or the value column in thin mode), value
/// columns by field id through the file's schema.
pub(crate) fn bind(
    ctx: &ScanContext,
    file_schema: &TableSchema,
    file_arrow: &Schema,
    display: &str,
) -> Result<Binding> {
    let root_of = |name: &str| file_arrow.fields().iter().position(|f| f.name() == name);
    let by_id: HashMap<i32, &DataField> = file_schema.fields.iter().map(|f| (f.id, f)).collect();

    // The Parquet column (root index) of every internal column.
    let mut wanted: Vec<Wanted> = vec![];
    let mut key_roots = vec![];
    if ctx.primary_key {
        for k in &ctx.key_fields {
            let name = by_id.get(&k.id).map(|f| f.name.as_str()).ok_or_else(|| {
                Error::corrupt(
                    display,
                    format!("its schema {} has no key column {}", file_schema.id, k.name),
                )
            })?;
            let root = root_of(&format!("{KEY_PREFIX}{name}")).or_else(|| root_of(name));
            let Some(r) = root else {
                return Err(Error::corrupt(
                    display,
                    format!("missing key column {KEY_PREFIX}{name}"),
                ));
            };
            key_roots.push(r);
            let from = by_id.get(&k.id).map(|f| f.data_type.clone());
            wanted.push((root, name.to_string(), from, Some(k.data_type.clone())));
        }
        for sys in [SEQUENCE_NUMBER, VALUE_KIND] {
            let root = root_of(sys);
            if root.is_none() {
                return Err(Error::corrupt(
                    display,
                    format!("missing system column {sys}"),
                ));
            }
            wanted.push((root, sys.to_string(), None, None));
        }
    }
    for v in &ctx.value_fields {
        let file_field = by_id.get(&v.id);
        let root = file_field.and_then(|f| root_of(&f.name));
        wanted.push((
            root,
            v.name.clone(),
            file_field.map(|f| f.data_type.clone()),
            Some(v.data_type.clone()),
        ));
    }
    let mut roots: Vec<usize> = wanted.iter().filter_map(|w| w.0).collect();
    roots.sort_unstable();
    roots.dedup();
    let slots: Vec<Slot> = wanted
        .into_iter()
        .map(|(r, name, from, to)| Slot {
            source: r.and_then(|r| roots.binary_search(&r).ok()),
            name,
            from,
            to,
        })
        .collect();
    Ok(Binding {
        roots,
        key_roots,
        slots,
    })
}

impl Binding {
    /// Casts a batch read with projection [`Self::roots`] to the internal layout.
    pub(crate) fn convert(
        &self,
        ctx: &ScanContext,
        batch: &RecordBatch,
        display: &str,
    ) -> Result<RecordBatch> {
        convert(ctx, batch, &self.slots, display)
    }

    /// What becomes of a file's batches, taken in order: each is cast to the internal layout,
    /// loses the rows the deletion vector drops (positions counted from the file's first row)
    /// and is filtered by the scan's row predicate.
    pub(crate) fn into_finisher(
        self,
        ctx: &Arc<ScanContext>,
        dv: Option<Arc<DeletionVector>>,
        display: String,
    ) -> impl FnMut(RecordBatch) -> Result<RecordBatch> + Send + 'static {
        let ctx = ctx.clone();
        let mut offset = 0u64;
        move |batch| {
            let start = offset;
            offset += batch.num_rows() as u64;
            let out = self.convert(&ctx, &batch, &display)?;
            let out = match &dv {
                Some(dv) => apply_dv(out, dv, start)?,
                None => out,
            };
            crate::pushdown::filter_rows(&ctx, out)
        }
    }

    /// The binding with the key and `_SEQUENCE_NUMBER` columns left unread (they become
    /// nulls): for primary-key files read without merging, where only `_VALUE_KIND` and the
    /// value columns are used.
    pub(crate) fn without_keys(&self, ctx: &ScanContext) -> Binding {
        let unread = ctx.key_fields.len() + 1;
        self.without(ctx, |i| i < unread)
    }

    /// The binding with `_SEQUENCE_NUMBER` left unread (nulls): for runs whose order alone
    /// decides which record is newer ([`crate::newest_first`]).
    pub(crate) fn without_sequence(&self, ctx: &ScanContext) -> Binding {
        let seq = ctx.seq_index();
        self.without(ctx, |i| i == seq)
    }

    /// The binding with the internal columns `unread` picks left unread (primary-key tables).
    fn without(&self, ctx: &ScanContext, unread: impl Fn(usize) -> bool) -> Binding {
        if !ctx.primary_key {
            return self.clone();
        }
        let root_of = |s: &Slot| s.source.map(|i| self.roots[i]);
        let mut roots: Vec<usize> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(i, _)| !unread(*i))
            .filter_map(|(_, s)| root_of(s))
            .collect();
        roots.sort_unstable();
        roots.dedup();
        let slots = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| Slot {
                source: if unread(i) {
                    None
                } else {
                    root_of(s).and_then(|r| roots.binary_search(&r).ok())
                },
                ..s.clone()
            })
            .collect();
        Binding {
            roots,
            key_roots: self.key_roots.clone(),
            slots,
        }
    }
}

/// Which system columns of a primary-key file a read fills (the others become nulls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemColumns {
    /// Keys, `_SEQUENCE_NUMBER` and `_VALUE_KIND` (for merging).
    All,
    /// Only `_VALUE_KIND` (rows not merged), unless the scan filters rows by key while
    /// reading.
    KindOnly,
    /// Keys and `_VALUE_KIND` ([`crate::newest_first`]).
    NoSequence,
}

/// Opens a data file and streams its rows in the internal layout, dropping the positions of
/// its deletion vector.
pub async fn read_file(
    ctx: &Arc<ScanContext>,
    bucket_dir: &object_store::path::Path,
    file: &DataFileMeta,
    dv: Option<Arc<DeletionVector>>,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    read_file_with(ctx, bucket_dir, file, dv, SystemColumns::All).await
}

/// [`read_file`] filling only the system columns `columns` says.
pub async fn read_file_with(
    ctx: &Arc<ScanContext>,
    bucket_dir: &object_store::path::Path,
    file: &DataFileMeta,
    dv: Option<Arc<DeletionVector>>,
    columns: SystemColumns,
) -> Result<BoxStream<'static, Result<RecordBatch>>> {
    if let Some(other) = crate::other_formats::OtherFormat::of(data_file_format(ctx, file)) {
        return crate::other_formats::read_file(ctx, other, bucket_dir, file, dv).await;
    }
    let src = locate(ctx, bucket_dir, file)?;
    let display = src.display;
    let metrics = ctx.pushdown.as_ref().and_then(|p| p.metrics.clone());
    let together = location::reads_ranges_together(&ctx.table.io, file.external_path.as_deref());
    let reader = ObjectReader::new(src.store, src.path, src.size)
        .with_metrics(metrics)
        .with_ranges_together(together);
    let builder = crate::pushdown::open(ctx, reader, &src.schema)
        .await
        .map_err(|e| open_error(e, &display))?;
    let mut binding = bind(ctx, &src.schema, builder.schema(), &display)?;
    let key_filter = ctx
        .pushdown
        .as_ref()
        .is_some_and(|p| p.row_filter.is_some());
    match columns {
        SystemColumns::KindOnly if !key_filter => binding = binding.without_keys(ctx),
        SystemColumns::NoSequence => binding = binding.without_sequence(ctx),
        _ => {}
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), binding.roots.iter().copied());
    // Row groups, pages and the deletion vector become one row selection when pruning.
    let (builder, dv) = crate::pushdown::apply(ctx, &src.schema, builder, dv, &binding.roots)?;
    let stream = builder
        .with_projection(mask)
        .with_batch_size(ctx.batch_size)
        .build()
        .map_err(|e| open_error(e, &display))?;

    let mut finish = binding.into_finisher(ctx, dv, display.clone());
    let converted = stream.map(move |batch| finish(batch.map_err(|e| open_error(e, &display))?));
    Ok(converted
        .try_filter(|b| futures::future::ready(b.num_rows() > 0))
        .boxed())
}

/// Casts a file batch's columns to the internal layout.
fn convert(
    ctx: &ScanContext,
    batch: &RecordBatch,
    slots: &[Slot],
    display: &str,
) -> Result<RecordBatch> {
    let schema = &ctx.internal_schema;
    let rows = batch.num_rows();
    let mut cols = Vec::with_capacity(slots.len());
    for (slot, field) in slots.iter().zip(schema.fields()) {
        let target = field.data_type();
        let col = match slot.source {
            None => new_null_array(target, rows),
            Some(i) => {
                let c = batch.column(i);
                cast_column(c, slot.from.as_ref(), slot.to.as_ref(), target).map_err(|e| {
                    Error::corrupt(
                        display,
                        format!(
                            "column {}: cannot convert {} to {target}: {e}",
                            slot.name,
                            c.data_type()
                        ),
                    )
                })?
            }
        };
        cols.push(col);
    }
    if ctx.primary_key {
        let kinds = cols[ctx.kind_index()]
            .as_any()
            .downcast_ref::<arrow::array::Int8Array>();
        let valid = kinds
            .is_some_and(|k| k.null_count() == 0 && k.values().iter().all(|v| (0..=3).contains(v)));
        if !valid {
            return Err(Error::corrupt(
                display,
                format!("{VALUE_KIND} holds values other than 0..3"),
            ));
        }
    }
    let opts = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema.clone(), cols, &opts)
        .map_err(|e| Error::corrupt(display, format!("cannot assemble its rows: {e}")))
}

/// Drops the rows of `batch` (file rows `start..`) whose positions the vector deletes.
fn apply_dv(batch: RecordBatch, dv: &DeletionVector, start: u64) -> Result<RecordBatch> {
    let n = batch.num_rows();
    let deleted = dv.range(start, start + n as u64);
    if deleted.is_empty() {
        return Ok(batch);
    }
    let mut keep = vec![true; n];
    for p in deleted {
        keep[(p - start) as usize] = false;
    }
    let mask = BooleanArray::from(keep);
    filter_record_batch(&batch, &mask).map_err(|e| Error::arrow("applying a deletion vector", e))
}

/// Whether a batch column of row kinds holds any retraction (`-U` = 1, `-D` = 3).
pub fn retract_mask(kinds: &dyn Array) -> Option<BooleanArray> {
    let kinds = kinds.as_any().downcast_ref::<arrow::array::Int8Array>()?;
    if !kinds.values().iter().any(|k| *k == 1 || *k == 3) {
        return None;
    }
    Some(
        kinds
            .values()
            .iter()
            .map(|k| Some(!(*k == 1 || *k == 3)))
            .collect(),
    )
}

/// Drops retraction rows of an internal primary-key batch.
pub fn drop_retractions(ctx: &ScanContext, batch: RecordBatch) -> Result<RecordBatch> {
    match retract_mask(batch.column(ctx.kind_index()).as_ref()) {
        None => Ok(batch),
        Some(mask) => {
            filter_record_batch(&batch, &mask).map_err(|e| Error::arrow("dropping retractions", e))
        }
    }
}
