//! The Parquet encoding of data files: the physical types Java Paimon's
//! `ParquetSchemaConverter` uses, written through arrow-rs.
//!
//! arrow-rs's own Arrow → Parquet conversion already matches Java's for every type but two
//! (see `spec/data-files.md`), which [`java_parquet_schema`] corrects:
//!
//! * TIMESTAMP(7..9) / TIMESTAMP_LTZ(7..9) (Arrow nanoseconds) are **INT96** in Java (arrow-rs:
//!   INT64 nanoseconds, which Java 1.3 misreads as milliseconds or fails on);
//! * DECIMAL(1, s) is INT32 in Java (arrow-rs: INT64).
//!
//! `ArrowWriter` cannot encode Arrow arrays as INT96, so a file with INT96 columns is written
//! with the parts `ArrowWriter` is made of: one [`ArrowColumnWriter`] per leaf column for every
//! other column (the same encoders, statistics, page index and bloom filters as `ArrowWriter`),
//! and a typed INT96 column writer for each INT96 leaf, its values buffered per row group and
//! written in column order when the row group closes. Files without INT96 columns go through a
//! plain `ArrowWriter`.
//!
//! A TIMESTAMP(7..9) inside an ARRAY, MAP or ROW is INT96 too. Its repetition and definition
//! levels are arrow-rs's: the row group's arrays of that column are encoded once more by a
//! plain `ArrowWriter` (INT64 nanoseconds) into a scratch file, whose levels and values the
//! INT96 writer then takes over.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType as ArrowType, FieldRef, Schema, SchemaRef, TimeUnit, TimestampNanosecondType,
};
use bytes::Bytes;
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnWriter, ArrowRowGroupWriterFactory, ArrowWriterOptions,
};
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
use parquet::basic::{LogicalType, TimeUnit as ParquetTimeUnit, Type as PhysicalType};
use parquet::column::reader::get_typed_column_reader;
use parquet::data_type::{Int64Type, Int96, Int96Type};
use parquet::errors::{ParquetError, Result};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{SchemaDescriptor, Type, TypePtr};

use streamhouse_format::int96;

/// The Parquet schema Java Paimon writes for these Arrow columns, or `None` when it is the one
/// arrow-rs derives by itself.
pub fn java_parquet_schema(
    arrow: &arrow::datatypes::Schema,
    props: &WriterProperties,
) -> Result<Option<SchemaDescriptor>> {
    let converted = ArrowSchemaConverter::new()
        .with_coerce_types(props.coerce_types())
        .convert(arrow)?;
    let root = converted.root_schema();
    let Some(fields) = javaize_fields(root.get_fields())? else {
        return Ok(None);
    };
    let root = Type::group_type_builder(root.name())
        .with_fields(fields)
        .build()?;
    Ok(Some(SchemaDescriptor::new(Arc::new(root))))
}

/// `fields` with [`javaize`] applied to each, or `None` when none of them changes.
fn javaize_fields(fields: &[TypePtr]) -> Result<Option<Vec<TypePtr>>> {
    let mut changed = false;
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        let java = javaize(f)?;
        changed |= java.is_some();
        out.push(java.map(Arc::new).unwrap_or_else(|| f.clone()));
    }
    Ok(changed.then_some(out))
}

fn is_nanosecond_timestamp(t: &Type) -> bool {
    t.is_primitive()
        && t.get_physical_type() == PhysicalType::INT64
        && matches!(
            t.get_basic_info().logical_type_ref(),
            Some(LogicalType::Timestamp(t)) if t.unit == ParquetTimeUnit::NANOS
        )
}

/// An INT96 column (no annotation, as Java writes it) in place of `t`.
fn int96_of(t: &Type) -> Result<Type> {
    let info = t.get_basic_info();
    Type::primitive_type_builder(t.name(), PhysicalType::INT96)
        .with_repetition(info.repetition())
        .with_id(info.has_id().then(|| info.id()))
        .build()
}

/// `t` with Java's physical types in it (TIMESTAMP(7..9) as INT96, DECIMAL(1) as INT32), or
/// `None` if unchanged.
fn javaize(t: &Type) -> Result<Option<Type>> {
    let info = t.get_basic_info();
    let id = info.has_id().then(|| info.id());
    if is_nanosecond_timestamp(t) {
        return int96_of(t).map(Some);
    }
    if t.is_primitive() {
        let decimal_1 = t.get_physical_type() == PhysicalType::INT64
            && matches!(
                info.logical_type_ref(),
                Some(LogicalType::Decimal(d)) if d.precision == 1
            );
        if !decimal_1 {
            return Ok(None);
        }
        return Type::primitive_type_builder(t.name(), PhysicalType::INT32)
            .with_repetition(info.repetition())
            .with_logical_type(info.logical_type_ref().cloned())
            .with_precision(t.get_precision())
            .with_scale(t.get_scale())
            .with_id(id)
            .build()
            .map(Some);
    }
    let Some(fields) = javaize_fields(t.get_fields())? else {
        return Ok(None);
    };
    let mut b = Type::group_type_builder(t.name())
        .with_fields(fields)
        .with_converted_type(info.converted_type())
        .with_logical_type(info.logical_type_ref().cloned())
        .with_id(id);
    if info.has_repetition() {
        b = b.with_repetition(info.repetition());
    }
    b.build().map(Some)
}

/// Writes record batches into a Parquet file in memory with a given Parquet schema (from
/// [`java_parquet_schema`]; `None`: arrow-rs's).
pub struct DataFileWriter {
    inner: Inner,
}

enum Inner {
    Arrow(Box<ArrowWriter<Vec<u8>>>),
    Mixed(Box<MixedWriter>),
}

impl DataFileWriter {
    pub fn try_new(
        buf: Vec<u8>,
        arrow_schema: SchemaRef,
        parquet_schema: Option<SchemaDescriptor>,
        props: WriterProperties,
    ) -> Result<Self> {
        let int96_leaves = parquet_schema.as_ref().is_some_and(|s| {
            s.columns()
                .iter()
                .any(|c| c.physical_type() == PhysicalType::INT96)
        });
        let mut options = ArrowWriterOptions::new().with_properties(props);
        if let Some(s) = parquet_schema.clone() {
            options = options.with_parquet_schema(s);
        }
        let writer = ArrowWriter::try_new_with_options(buf, arrow_schema.clone(), options)?;
        if !int96_leaves {
            return Ok(DataFileWriter {
                inner: Inner::Arrow(Box::new(writer)),
            });
        }
        let schema = parquet_schema.expect("INT96 columns come from a Parquet schema");
        let (file, factory) = writer.into_serialized_writer()?;
        let max_row_group_rows = file.properties().max_row_group_row_count();
        let roots = schema.root_schema().get_fields();
        let mut columns = Vec::with_capacity(roots.len());
        let mut leaf = 0;
        for (root, field) in roots.iter().enumerate() {
            let start = leaf;
            while leaf < schema.num_columns() && schema.get_column_root_idx(leaf) == root {
                leaf += 1;
            }
            let int96: Vec<bool> = (start..leaf)
                .map(|l| schema.column(l).physical_type() == PhysicalType::INT96)
                .collect();
            columns.push(if field.is_primitive() && int96 == [true] {
                Column::Int96 {
                    leaf: start,
                    nullable: schema.column(start).max_def_level() > 0,
                }
            } else if int96.contains(&true) {
                Column::Nested {
                    leaves: start..leaf,
                    int96,
                }
            } else {
                Column::Arrow(start..leaf)
            });
        }
        Ok(DataFileWriter {
            inner: Inner::Mixed(Box::new(MixedWriter {
                file,
                factory,
                arrow_schema,
                columns,
                max_row_group_rows,
                row_group: None,
            })),
        })
    }

    /// Encodes a batch (row groups close at the properties' row limit).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match &mut self.inner {
            Inner::Arrow(w) => w.write(batch),
            Inner::Mixed(w) => w.write(batch),
        }
    }

    /// Bytes of the file written so far (closed row groups).
    pub fn bytes_written(&self) -> usize {
        match &self.inner {
            Inner::Arrow(w) => w.bytes_written(),
            Inner::Mixed(w) => w.file.bytes_written(),
        }
    }

    /// Estimated encoded size of the open row group.
    pub fn in_progress_size(&self) -> usize {
        match &self.inner {
            Inner::Arrow(w) => w.in_progress_size(),
            Inner::Mixed(w) => w.row_group.as_ref().map_or(0, RowGroup::estimated_size),
        }
    }

    /// Closes the file and returns its bytes.
    pub fn into_inner(self) -> Result<Vec<u8>> {
        match self.inner {
            Inner::Arrow(w) => w.into_inner(),
            Inner::Mixed(mut w) => {
                w.flush()?;
                w.file.into_inner()
            }
        }
    }
}

/// How a top-level column is written.
enum Column {
    /// By arrow-rs, into these leaf columns.
    Arrow(Range<usize>),
    /// As INT96, into this leaf column.
    Int96 { leaf: usize, nullable: bool },
    /// A nested column with INT96 leaves (flags per leaf): the others by arrow-rs, the INT96
    /// ones from the buffered arrays when the row group closes.
    Nested {
        leaves: Range<usize>,
        int96: Vec<bool>,
    },
}

struct MixedWriter {
    file: SerializedFileWriter<Vec<u8>>,
    factory: ArrowRowGroupWriterFactory,
    arrow_schema: SchemaRef,
    columns: Vec<Column>,
    max_row_group_rows: Option<usize>,
    row_group: Option<RowGroup>,
}

/// The open row group: encoders of the arrow-rs columns (one per leaf; `None` at INT96
/// leaves), the buffered values of top-level INT96 columns and the arrays of nested columns
/// with INT96 leaves (one entry per top-level column; empty for others).
struct RowGroup {
    writers: Vec<Option<ArrowColumnWriter>>,
    int96: Vec<Int96Values>,
    nested: Vec<Vec<ArrayRef>>,
    rows: usize,
}

#[derive(Default)]
struct Int96Values {
    values: Vec<Int96>,
    def_levels: Vec<i16>,
}

impl RowGroup {
    fn estimated_size(&self) -> usize {
        let arrow: usize = self
            .writers
            .iter()
            .flatten()
            .map(ArrowColumnWriter::get_estimated_total_bytes)
            .sum();
        let int96: usize = self.int96.iter().map(|b| b.values.len() * 12).sum();
        let nested: usize = self
            .nested
            .iter()
            .flatten()
            .map(|a| a.get_array_memory_size())
            .sum();
        arrow + int96 + nested
    }
}

impl MixedWriter {
    fn open_row_group(&mut self) -> Result<RowGroup> {
        let index = self.file.flushed_row_groups().len();
        let mut writers: Vec<Option<ArrowColumnWriter>> = self
            .factory
            .create_column_writers(index)?
            .into_iter()
            .map(Some)
            .collect();
        // arrow-rs made INT96 writers it cannot feed; those values go in at flush.
        for c in &self.columns {
            match c {
                Column::Arrow(_) => {}
                Column::Int96 { leaf, .. } => writers[*leaf] = None,
                Column::Nested { leaves, int96 } => {
                    for (leaf, _) in leaves.clone().zip(int96).filter(|(_, is)| **is) {
                        writers[leaf] = None;
                    }
                }
            }
        }
        Ok(RowGroup {
            writers,
            int96: self
                .columns
                .iter()
                .map(|_| Int96Values::default())
                .collect(),
            nested: self.columns.iter().map(|_| vec![]).collect(),
            rows: 0,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let n = batch.num_rows();
        if n == 0 {
            return Ok(());
        }
        if self.row_group.is_none() {
            self.row_group = Some(self.open_row_group()?);
        }
        let buffered = self.row_group.as_ref().map_or(0, |rg| rg.rows);
        if let Some(max) = self.max_row_group_rows {
            if buffered + n > max {
                let first = max - buffered;
                self.write(&batch.slice(0, first))?;
                return self.write(&batch.slice(first, n - first));
            }
        }
        let rg = self.row_group.as_mut().expect("open row group");
        for (i, (column, array)) in self.columns.iter().zip(batch.columns()).enumerate() {
            match column {
                Column::Arrow(leaves) => {
                    let field = &self.arrow_schema.fields()[i];
                    let mut writers = rg.writers[leaves.clone()].iter_mut();
                    for leaf in compute_leaves(field, array)? {
                        match writers.next() {
                            Some(Some(w)) => w.write(&leaf)?,
                            _ => {
                                return Err(ParquetError::General(format!(
                                    "column {} has more leaves than its schema",
                                    field.name()
                                )))
                            }
                        }
                    }
                }
                Column::Int96 { nullable, .. } => {
                    push_int96(&mut rg.int96[i], array, *nullable)?;
                }
                Column::Nested { leaves, int96 } => {
                    let field = &self.arrow_schema.fields()[i];
                    let computed = compute_leaves(field, array)?;
                    if computed.len() != int96.len() {
                        return Err(ParquetError::General(format!(
                            "column {} has {} leaves, its schema {}",
                            field.name(),
                            computed.len(),
                            int96.len()
                        )));
                    }
                    for ((leaf, is_int96), column) in leaves.clone().zip(int96).zip(computed) {
                        if let (false, Some(w)) = (is_int96, &mut rg.writers[leaf]) {
                            w.write(&column)?;
                        }
                    }
                    rg.nested[i].push(array.clone());
                }
            }
        }
        rg.rows += n;
        if self.max_row_group_rows.is_some_and(|max| rg.rows >= max) {
            self.flush()?;
        }
        Ok(())
    }

    /// Closes the open row group: every column chunk in column order.
    fn flush(&mut self) -> Result<()> {
        let Some(mut rg) = self.row_group.take() else {
            return Ok(());
        };
        let mut out = self.file.next_row_group()?;
        for (i, column) in self.columns.iter().enumerate() {
            match column {
                Column::Arrow(leaves) => {
                    for leaf in leaves.clone() {
                        let writer = rg.writers[leaf].take().ok_or_else(|| {
                            ParquetError::General(format!("no writer for leaf column {leaf}"))
                        })?;
                        writer.close()?.append_to_row_group(&mut out)?;
                    }
                }
                Column::Int96 { nullable, .. } => {
                    let mut w = out.next_column()?.ok_or_else(|| {
                        ParquetError::General(format!("no column {i} in the Parquet schema"))
                    })?;
                    let b = &rg.int96[i];
                    let levels = nullable.then_some(b.def_levels.as_slice());
                    w.typed::<Int96Type>()
                        .write_batch(&b.values, levels, None)?;
                    w.close()?;
                }
                Column::Nested { leaves, int96 } => {
                    let field = &self.arrow_schema.fields()[i];
                    let mut recovered = nested_int96_leaves(field, &rg.nested[i], int96)?;
                    for (j, leaf) in leaves.clone().enumerate() {
                        match recovered[j].take() {
                            None => {
                                let writer = rg.writers[leaf].take().ok_or_else(|| {
                                    ParquetError::General(format!("no writer for leaf {leaf}"))
                                })?;
                                writer.close()?.append_to_row_group(&mut out)?;
                            }
                            Some(l) => {
                                let mut w = out.next_column()?.ok_or_else(|| {
                                    ParquetError::General(format!("no leaf column {leaf}"))
                                })?;
                                w.typed::<Int96Type>().write_batch(
                                    &l.values,
                                    l.def_levels.as_deref(),
                                    l.rep_levels.as_deref(),
                                )?;
                                w.close()?;
                            }
                        }
                    }
                }
            }
        }
        out.close()?;
        Ok(())
    }
}

/// An INT96 leaf of a nested column: its values and levels.
struct LeafValues {
    values: Vec<Int96>,
    def_levels: Option<Vec<i16>>,
    rep_levels: Option<Vec<i16>>,
}

/// The levels and INT96 values of the INT96 leaves (`int96` flags the leaves of `field`) of a
/// nested column holding `arrays`: arrow-rs writes them into a scratch file with nanosecond
/// timestamps as INT64, which is read back leaf by leaf.
fn nested_int96_leaves(
    field: &FieldRef,
    arrays: &[ArrayRef],
    int96: &[bool],
) -> Result<Vec<Option<LeafValues>>> {
    let parts: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
    let array = arrow::compute::concat(&parts)?;
    let schema = Arc::new(Schema::new(vec![field.clone()]));
    let batch = RecordBatch::try_new(schema.clone(), vec![array])?;
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(None)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::None)
        .build();
    let mut scratch = ArrowWriter::try_new(Vec::new(), schema, Some(props))?;
    scratch.write(&batch)?;
    let reader = SerializedFileReader::new(Bytes::from(scratch.into_inner()?))?;
    let mut out = Vec::with_capacity(int96.len());
    for (leaf, is_int96) in int96.iter().enumerate() {
        if !is_int96 {
            out.push(None);
            continue;
        }
        let descr = reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .column(leaf);
        let (has_def, has_rep) = (descr.max_def_level() > 0, descr.max_rep_level() > 0);
        let (mut values, mut def, mut rep) = (Vec::<i64>::new(), vec![], vec![]);
        for rg in 0..reader.num_row_groups() {
            let column = reader.get_row_group(rg)?.get_column_reader(leaf)?;
            let mut r = get_typed_column_reader::<Int64Type>(column);
            loop {
                let (records, _, _) = r.read_records(
                    usize::MAX,
                    has_def.then_some(&mut def),
                    has_rep.then_some(&mut rep),
                    &mut values,
                )?;
                if records == 0 {
                    break;
                }
            }
        }
        out.push(Some(LeafValues {
            values: values.into_iter().map(parquet_int96).collect(),
            def_levels: has_def.then_some(def),
            rep_levels: has_rep.then_some(rep),
        }));
    }
    Ok(out)
}

/// The parquet crate's INT96 of an instant in nanoseconds (see [`int96`]).
pub fn parquet_int96(nanos: i64) -> Int96 {
    let [a, b, c] = int96::from_epoch_nanos(nanos);
    let mut v = Int96::new();
    v.set_data(a, b, c);
    v
}

/// Appends a nanosecond timestamp column (any time zone) to INT96 buffers.
fn push_int96(buf: &mut Int96Values, array: &ArrayRef, nullable: bool) -> Result<()> {
    if !matches!(
        array.data_type(),
        ArrowType::Timestamp(TimeUnit::Nanosecond, _)
    ) {
        return Err(ParquetError::General(format!(
            "an INT96 column needs nanosecond timestamps, not {}",
            array.data_type()
        )));
    }
    let ts = array.as_primitive::<TimestampNanosecondType>();
    if !nullable && ts.null_count() > 0 {
        return Err(ParquetError::General(
            "a NOT NULL timestamp column holds nulls".to_string(),
        ));
    }
    buf.values.reserve(ts.len() - ts.null_count());
    for v in ts.iter() {
        match v {
            Some(v) => {
                buf.values.push(parquet_int96(v));
                if nullable {
                    buf.def_levels.push(1);
                }
            }
            None => buf.def_levels.push(0),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Decimal128Array, Int64Array, TimestampNanosecondArray};
    use arrow::datatypes::{Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", ArrowType::Int64, false),
            Field::new("ts", ArrowType::Timestamp(TimeUnit::Nanosecond, None), true),
            Field::new("d", ArrowType::Decimal128(1, 0), true),
            Field::new(
                "key_ts",
                ArrowType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                false,
            ),
        ]))
    }

    fn batch(schema: &SchemaRef, from: i64, n: i64) -> RecordBatch {
        let ids: Vec<i64> = (from..from + n).collect();
        let ts: Vec<Option<i64>> = ids
            .iter()
            .map(|i| (i % 3 != 0).then_some(i * 1_000_000_007 - 5_000_000_000))
            .collect();
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(ids.clone())),
                Arc::new(TimestampNanosecondArray::from(ts)),
                Arc::new(
                    Decimal128Array::from(
                        ids.iter()
                            .map(|i| Some((i % 10) as i128))
                            .collect::<Vec<_>>(),
                    )
                    .with_precision_and_scale(1, 0)
                    .unwrap(),
                ),
                Arc::new(
                    TimestampNanosecondArray::from(ids.iter().map(|i| -i).collect::<Vec<_>>())
                        .with_timezone("UTC"),
                ),
            ],
        )
        .unwrap()
    }

    /// Row groups of `rows` rows in pages of 16 rows, so that a small file has several of each.
    fn small_pages(rows: usize) -> WriterProperties {
        WriterProperties::builder()
            .set_max_row_group_row_count(Some(rows))
            .set_data_page_row_count_limit(16)
            .set_write_batch_size(16)
            .build()
    }

    #[test]
    fn mixed_file_reads_back_in_row_groups() {
        let schema = schema();
        let props = small_pages(100);
        let ps = java_parquet_schema(&schema, &props).unwrap().unwrap();
        let types: Vec<PhysicalType> = ps.columns().iter().map(|c| c.physical_type()).collect();
        assert_eq!(
            types,
            [
                PhysicalType::INT64,
                PhysicalType::INT96,
                PhysicalType::INT32,
                PhysicalType::INT96
            ]
        );
        let mut w = DataFileWriter::try_new(vec![], schema.clone(), Some(ps), props).unwrap();
        w.write(&batch(&schema, 0, 70)).unwrap();
        w.write(&batch(&schema, 70, 70)).unwrap();
        w.write(&batch(&schema, 140, 5)).unwrap();
        let bytes = w.into_inner().unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).unwrap();
        assert_eq!(
            reader
                .metadata()
                .row_groups()
                .iter()
                .map(|r| r.num_rows())
                .collect::<Vec<_>>(),
            [100, 45]
        );
        let got: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
        let got = arrow::compute::concat_batches(&got[0].schema(), &got).unwrap();
        assert_eq!(got, batch(&schema, 0, 145));
    }

    #[test]
    fn the_parquet_crate_reads_our_and_javas_int96_as_the_same_instant() {
        for t in [
            -1,
            0,
            1,
            -1_500_000_000,
            1_732_603_136_021_000_021,
            i64::MIN,
            i64::MAX,
        ] {
            assert_eq!(parquet_int96(t).to_nanos(), t);
            // Java's form before 1970: the day and the nanoseconds divided toward zero.
            let (ms, nano) = (t.div_euclid(1_000_000), t.rem_euclid(1_000_000));
            let day = (ms / 86_400_000 + int96::JULIAN_DAY_OF_EPOCH) as i32 as u32;
            let nanos = ((ms % 86_400_000) * 1_000_000 + nano) as u64;
            let mut java = Int96::new();
            java.set_data(nanos as u32, (nanos >> 32) as u32, day);
            assert_eq!(java.to_nanos(), t, "Java's form of {t}");
            assert_eq!(
                int96::to_epoch_nanos(*java.data().first_chunk().unwrap()),
                Some(t)
            );
        }
    }

    #[test]
    fn nested_nanosecond_timestamps_are_int96_with_arrow_rs_levels() {
        let ts = || ArrowType::Timestamp(TimeUnit::Nanosecond, None);
        let entries = Field::new(
            "key_value",
            ArrowType::Struct(
                vec![
                    Field::new("key", ArrowType::Utf8, false),
                    Field::new("value", ts(), true),
                ]
                .into(),
            ),
            false,
        );
        let row = ArrowType::Struct(
            vec![
                Field::new("a", ArrowType::Int32, true),
                Field::new("t", ts(), true),
            ]
            .into(),
        );
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("id", ArrowType::Int64, false),
            Field::new(
                "arr",
                ArrowType::List(Arc::new(Field::new("element", ts(), true))),
                true,
            ),
            Field::new("m", ArrowType::Map(Arc::new(entries), false), true),
            Field::new("r", row.clone(), true),
            Field::new(
                "rows",
                ArrowType::List(Arc::new(Field::new("element", row, true))),
                true,
            ),
        ]));
        let lines: Vec<String> = (0..300)
            .map(|i: i64| {
                let t = |k: i64| (i * 1_000_000_007 + k) * if i % 2 == 0 { 1 } else { -1 };
                match i % 5 {
                    0 => format!(r#"{{"id": {i}}}"#),
                    1 => format!(
                        r#"{{"id": {i}, "arr": [], "m": {{}}, "r": {{"a": null, "t": null}}, "rows": [null]}}"#
                    ),
                    _ => format!(
                        r#"{{"id": {i}, "arr": [{}, null, {}], "m": {{"x": {}, "y": null}},
                            "r": {{"a": {i}, "t": {}}}, "rows": [{{"a": 1, "t": {}}}, null, {{"t": null}}]}}"#,
                        t(1), t(2), t(3), t(4), t(5)
                    ),
                }
            })
            .collect();
        let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
            .build_decoder()
            .unwrap();
        decoder.decode(lines.join("\n").as_bytes()).unwrap();
        let all = decoder.flush().unwrap().unwrap();
        assert_eq!(all.num_rows(), 300);

        let props = small_pages(128);
        let ps = java_parquet_schema(&schema, &props).unwrap().unwrap();
        let int96: Vec<String> = ps
            .columns()
            .iter()
            .filter(|c| c.physical_type() == PhysicalType::INT96)
            .map(|c| c.path().string())
            .collect();
        assert_eq!(
            int96,
            [
                "arr.list.element",
                "m.key_value.value",
                "r.t",
                "rows.list.element.t"
            ]
        );
        let mut w = DataFileWriter::try_new(vec![], schema.clone(), Some(ps), props).unwrap();
        for start in (0..300).step_by(70) {
            w.write(&all.slice(start, 70.min(300 - start))).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 3);
        let got: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
        let got = arrow::compute::concat_batches(&got[0].schema(), &got).unwrap();
        assert_eq!(got, all);
    }

    #[test]
    fn schemas_without_differences_are_left_to_arrow_rs() {
        let schema = Schema::new(vec![
            Field::new("a", ArrowType::Int64, false),
            Field::new("t", ArrowType::Timestamp(TimeUnit::Microsecond, None), true),
            Field::new("d", ArrowType::Decimal128(2, 1), true),
        ]);
        let props = WriterProperties::builder().build();
        assert!(java_parquet_schema(&schema, &props).unwrap().is_none());
    }
}
