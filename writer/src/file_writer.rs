//! Data file writing: sorted record batches in, Parquet files (zstd, Java's field ids) and
//! their [`DataFileMeta`] out, rolling to a new file at `target-file-size`.
//!
//! This part is synchronous CPU work (encoding and compression); the caller uploads the
//! finished bytes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch};
use arrow::datatypes::{DataType as A, Field, Int64Type, Int8Type, Schema, SchemaRef};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{
    BloomFilterPosition, BloomFilterProperties, EnabledStatistics, WriterProperties,
};
use parquet::schema::types::{ColumnPath, SchemaDescriptor};
use streamhouse_format::binary_row::BinaryRow;
use streamhouse_format::datum::datum_from_arrow;
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::options::TableOptions;
use streamhouse_format::row_kind::RowKind;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::stats::{ColumnStats, SimpleStats, StatsMode};
use streamhouse_format::types::{arrow_field_with_id, DataField, DataType};
use streamhouse_format::{Error, Result};

use crate::parquet_file::{java_parquet_schema, DataFileWriter};

/// Field id of `_KEY_<f>` columns: this base plus the field's id.
pub const KEY_FIELD_ID_START: i32 = i32::MAX / 2;
pub const SEQUENCE_NUMBER_FIELD_ID: i32 = i32::MAX - 1;
pub const VALUE_KIND_FIELD_ID: i32 = i32::MAX - 2;
pub const KEY_PREFIX: &str = "_KEY_";
pub const SEQUENCE_NUMBER: &str = "_SEQUENCE_NUMBER";
pub const VALUE_KIND: &str = "_VALUE_KIND";

/// Rows per row group.
pub const MAX_ROW_GROUP_ROWS: usize = 256 * 1024;
/// Rows per data page: small pages let a key lookup decode a few hundred rows of each column
/// instead of a whole column chunk, and let a key range read about `(PAGE_ROWS + rows in the
/// range) / rows in the file` of each file it overlaps (the page index locates the pages; a
/// 1 % range over level-0 files of 25,000 rows reads ~2 % of their bytes).
pub const PAGE_ROWS: usize = 256;
/// Bytes per data page.
pub const PAGE_BYTES: usize = 64 * 1024;
/// Bytes per dictionary page. A reader of any page of a dictionary-encoded column chunk also
/// fetches its dictionary page, so a key range (or a lookup) touching one page per file pays
/// for the dictionary too: high-cardinality columns fall back to plain encoding at this size
/// instead of carrying a large dictionary.
pub const DICTIONARY_PAGE_BYTES: usize = 1024;
/// False-positive rate of the key columns' bloom filters (sized per file after writing).
pub const KEY_BLOOM_FPP: f64 = 0.01;

/// Unique file names for one writer: `<prefix><uuid>-<n>.parquet`.
pub struct FileNamer {
    uuid: String,
    counter: AtomicU64,
}

impl FileNamer {
    pub fn new() -> Self {
        FileNamer {
            uuid: uuid::Uuid::new_v4().to_string(),
            counter: AtomicU64::new(0),
        }
    }
    pub fn next(&self, prefix: &str, extension: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}{}-{n}.{extension}", self.uuid)
    }
}

impl Default for FileNamer {
    fn default() -> Self {
        Self::new()
    }
}

/// The physical layout of a table's data files.
#[derive(Clone)]
pub struct FileLayout {
    /// Arrow schema of the file (system columns first for primary-key tables).
    pub schema: SchemaRef,
    /// Its Parquet schema where it differs from arrow-rs's conversion: Java's physical types
    /// (TIMESTAMP(7..9) as INT96, DECIMAL(1) as INT32; see [`crate::parquet_file`]).
    pub parquet_schema: Option<SchemaDescriptor>,
    pub key_fields: Vec<DataField>,
    pub value_types: Vec<DataType>,
    pub value_names: Vec<String>,
    pub schema_id: i64,
    pub props: WriterProperties,
    pub target_file_size: u64,
    pub stats_mode: StatsMode,
    pub primary_key: bool,
}

impl FileLayout {
    pub fn new(schema: &TableSchema, options: &TableOptions) -> Result<Self> {
        let primary_key = !schema.primary_keys.is_empty();
        let key_fields = schema.fields_named(&schema.trimmed_primary_keys())?;
        let mut fields: Vec<Field> = vec![];
        if primary_key {
            for k in &key_fields {
                fields.push(arrow_field_with_id(
                    &format!("{KEY_PREFIX}{}", k.name),
                    k.data_type.to_arrow(),
                    false,
                    KEY_FIELD_ID_START + k.id,
                ));
            }
            fields.push(arrow_field_with_id(
                SEQUENCE_NUMBER,
                A::Int64,
                false,
                SEQUENCE_NUMBER_FIELD_ID,
            ));
            fields.push(arrow_field_with_id(
                VALUE_KIND,
                A::Int8,
                false,
                VALUE_KIND_FIELD_ID,
            ));
        }
        fields.extend(schema.fields.iter().map(DataField::to_arrow_field));
        if options.file_format != "parquet" {
            return Err(Error::unsupported(format!(
                "writing file.format = {} (this version writes parquet)",
                options.file_format
            )));
        }
        let compression = match options.file_compression.as_str() {
            "zstd" => Compression::ZSTD(
                ZstdLevel::try_new(options.zstd_level)
                    .map_err(|e| Error::invalid(format!("file.compression.zstd-level: {e}")))?,
            ),
            "snappy" => Compression::SNAPPY,
            "lz4" => Compression::LZ4_RAW,
            "none" | "uncompressed" => Compression::UNCOMPRESSED,
            other => return Err(Error::unsupported(format!("file.compression = {other}"))),
        };
        let mut props = WriterProperties::builder()
            .set_compression(compression)
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_max_row_group_row_count(Some(MAX_ROW_GROUP_ROWS))
            .set_data_page_row_count_limit(PAGE_ROWS)
            .set_write_batch_size(PAGE_ROWS)
            .set_data_page_size_limit(PAGE_BYTES)
            .set_dictionary_page_size_limit(DICTIONARY_PAGE_BYTES)
            .set_bloom_filter_position(BloomFilterPosition::End)
            .set_created_by(concat!("streamhouse version ", env!("CARGO_PKG_VERSION")).to_string());
        if primary_key {
            // The key index for lookups (spec/lookup.md): a bloom filter on every `_KEY_*`
            // column, written at the end of the file beside the page index and footer. Keys are
            // unique within a file, so they get no dictionary either.
            let bloom = BloomFilterProperties::builder()
                .with_fpp(KEY_BLOOM_FPP)
                .with_max_ndv(MAX_ROW_GROUP_ROWS as u64)
                .build();
            for k in &key_fields {
                let column = ColumnPath::from(format!("{KEY_PREFIX}{}", k.name).as_str());
                props = props
                    .set_column_bloom_filter_properties(column.clone(), bloom.clone())
                    .set_column_dictionary_enabled(column, false);
            }
        }
        if primary_key {
            // Unique within a file, so a dictionary only costs: every range read of the
            // column would fetch its dictionary page. (Sizing for range scans.)
            props = props.set_column_dictionary_enabled(ColumnPath::from(SEQUENCE_NUMBER), false);
            for k in &key_fields {
                props =
                    props.set_column_dictionary_enabled(ColumnPath::from(k.name.as_str()), false);
            }
        }
        let props = props.build();
        let arrow_schema = Arc::new(Schema::new(fields));
        let parquet_schema = java_parquet_schema(&arrow_schema, &props)
            .map_err(|e| Error::encode("the table's columns as a Parquet schema", e))?;
        Ok(FileLayout {
            schema: arrow_schema,
            parquet_schema,
            key_fields,
            value_types: schema.fields.iter().map(|f| f.data_type.clone()).collect(),
            value_names: schema.field_names(),
            schema_id: schema.id,
            props,
            target_file_size: options.target_file_size,
            stats_mode: options.stats_mode,
            primary_key,
        })
    }

    /// Number of system columns before the table's columns.
    pub fn value_offset(&self) -> usize {
        if self.primary_key {
            self.key_fields.len() + 2
        } else {
            0
        }
    }
}

/// A finished file: its metadata and its bytes, ready to upload.
pub struct FinishedFile {
    pub meta: DataFileMeta,
    pub bytes: Vec<u8>,
}

struct OpenFile {
    writer: DataFileWriter,
    name: String,
    rows: i64,
    delete_rows: i64,
    min_seq: i64,
    max_seq: i64,
    first_key: Option<Vec<u8>>,
    last_batch: Option<RecordBatch>,
    key_stats: Vec<ColumnStats>,
    value_stats: Vec<ColumnStats>,
}

/// Writes batches in the layout's physical schema, in order, rolling files at the target size.
pub struct RollingFileWriter<'a> {
    layout: &'a FileLayout,
    namer: &'a FileNamer,
    prefix: &'a str,
    level: i32,
    file_source: i32,
    current: Option<OpenFile>,
    pub finished: Vec<FinishedFile>,
}

impl<'a> RollingFileWriter<'a> {
    pub fn new(
        layout: &'a FileLayout,
        namer: &'a FileNamer,
        prefix: &'a str,
        level: i32,
        file_source: i32,
    ) -> Self {
        RollingFileWriter {
            layout,
            namer,
            prefix,
            level,
            file_source,
            current: None,
            finished: vec![],
        }
    }

    /// Appends a batch in the physical schema. For append tables the sequence numbers of the
    /// rows are `first_seq..` (there is no column for them).
    pub fn write(&mut self, batch: &RecordBatch, first_seq: i64) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let layout = self.layout;
        if self.current.is_none() {
            let name = self.namer.next(self.prefix, "parquet");
            let writer = DataFileWriter::try_new(
                Vec::with_capacity(1 << 20),
                layout.schema.clone(),
                layout.parquet_schema.clone(),
                layout.props.clone(),
            )
            .map_err(|e| Error::encode(format!("data file {name} (start)"), e))?;
            self.current = Some(OpenFile {
                writer,
                name,
                rows: 0,
                delete_rows: 0,
                min_seq: i64::MAX,
                max_seq: i64::MIN,
                first_key: None,
                last_batch: None,
                key_stats: layout
                    .key_fields
                    .iter()
                    .map(|f| ColumnStats::new(f.data_type.clone()))
                    .collect(),
                value_stats: layout
                    .value_types
                    .iter()
                    .map(|t| ColumnStats::new(t.clone()))
                    .collect(),
            });
        }
        let f = self.current.as_mut().expect("open file");
        let n = batch.num_rows() as i64;
        if layout.primary_key {
            let nk = layout.key_fields.len();
            let seq = batch.column(nk).as_primitive::<Int64Type>();
            let kinds = batch.column(nk + 1).as_primitive::<Int8Type>();
            let (lo, hi) = min_max_i64(seq);
            f.min_seq = f.min_seq.min(lo);
            f.max_seq = f.max_seq.max(hi);
            f.delete_rows += kinds
                .values()
                .iter()
                .filter(|k| **k == RowKind::UpdateBefore as i8 || **k == RowKind::Delete as i8)
                .count() as i64;
            if f.first_key.is_none() {
                f.first_key = Some(key_row(batch, 0, &layout.key_fields)?);
            }
            for (i, s) in f.key_stats.iter_mut().enumerate() {
                s.update(batch.column(i).as_ref())?;
            }
        } else {
            f.min_seq = f.min_seq.min(first_seq);
            f.max_seq = f.max_seq.max(first_seq + n - 1);
        }
        if layout.stats_mode != StatsMode::None {
            let off = layout.value_offset();
            for (i, s) in f.value_stats.iter_mut().enumerate() {
                s.update(batch.column(off + i).as_ref())?;
            }
        }
        f.writer
            .write(batch)
            .map_err(|e| Error::encode(format!("data file {}", f.name), e))?;
        f.rows += n;
        f.last_batch = Some(batch.slice(batch.num_rows() - 1, 1));
        if f.writer.bytes_written() as u64 + f.writer.in_progress_size() as u64
            >= layout.target_file_size
        {
            self.roll()?;
        }
        Ok(())
    }

    /// Closes the open file, if any.
    pub fn roll(&mut self) -> Result<()> {
        let Some(f) = self.current.take() else {
            return Ok(());
        };
        let layout = self.layout;
        let bytes = f
            .writer
            .into_inner()
            .map_err(|e| Error::encode(format!("data file {} (finish)", f.name), e))?;
        let (min_key, max_key, key_stats) = if layout.primary_key {
            let last = f
                .last_batch
                .as_ref()
                .expect("a written file has a last row");
            let key_types: Vec<DataType> = layout
                .key_fields
                .iter()
                .map(|k| k.data_type.clone())
                .collect();
            (
                f.first_key.clone().unwrap_or_default(),
                key_row(last, 0, &layout.key_fields)?,
                SimpleStats::from_columns(&f.key_stats, &key_types, StatsMode::Full)?,
            )
        } else {
            let empty = BinaryRow::empty().serialize();
            (empty.clone(), empty, SimpleStats::empty())
        };
        let (value_stats, value_stats_cols) = if layout.stats_mode == StatsMode::None {
            // Java's dense store drops columns without stats and lists the rest: none.
            (SimpleStats::empty(), Some(vec![]))
        } else {
            (
                SimpleStats::from_columns(&f.value_stats, &layout.value_types, layout.stats_mode)?,
                None,
            )
        };
        let meta = DataFileMeta {
            file_name: f.name,
            file_size: bytes.len() as i64,
            row_count: f.rows,
            min_key,
            max_key,
            key_stats,
            value_stats,
            min_sequence_number: f.min_seq,
            max_sequence_number: f.max_seq,
            schema_id: layout.schema_id,
            level: self.level,
            extra_files: vec![],
            creation_time: Some(local_now_millis()),
            delete_row_count: Some(f.delete_rows),
            embedded_index: None,
            file_source: Some(self.file_source),
            value_stats_cols,
            external_path: None,
            first_row_id: None,
            write_cols: None,
        };
        self.finished.push(FinishedFile { meta, bytes });
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<FinishedFile>> {
        self.roll()?;
        Ok(self.finished)
    }
}

fn min_max_i64(a: &Int64Array) -> (i64, i64) {
    let v = a.values();
    (
        v.iter().copied().min().unwrap_or(0),
        v.iter().copied().max().unwrap_or(0),
    )
}

/// Serialized BinaryRow of the key columns (the first columns of the batch) at `row`.
fn key_row(batch: &RecordBatch, row: usize, keys: &[DataField]) -> Result<Vec<u8>> {
    let mut values = Vec::with_capacity(keys.len());
    let mut types = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        values.push(datum_from_arrow(
            batch.column(i).as_ref(),
            row,
            &k.data_type,
        )?);
        types.push(k.data_type.clone());
    }
    Ok(BinaryRow::try_from_datums(&values, &types)?.serialize())
}

/// Java stores the creation time as a local wall-clock timestamp in millis.
fn local_now_millis() -> i64 {
    let now = chrono::Local::now();
    now.naive_local().and_utc().timestamp_millis()
}

/// Builds the physical batch of a primary-key file from table columns, sequence numbers and
/// kinds.
pub fn physical_batch(
    layout: &FileLayout,
    key_indices: &[usize],
    values: &[ArrayRef],
    seq: ArrayRef,
    kinds: ArrayRef,
) -> Result<RecordBatch> {
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(layout.schema.fields().len());
    if layout.primary_key {
        cols.extend(key_indices.iter().map(|i| values[*i].clone()));
        cols.push(seq);
        cols.push(kinds);
    }
    cols.extend(values.iter().cloned());
    RecordBatch::try_new(layout.schema.clone(), cols)
        .map_err(|e| Error::arrow("building a data file batch", e))
}
