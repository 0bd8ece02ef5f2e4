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
//! and a typed INT96 column writer for each INT96 column, its values buffered per row group
//! and written in column order when the row group closes. Files without INT96 columns go
//! through a plain `ArrowWriter`.
//!
//! INT96 is used for top-level columns (where every table column and every `_KEY_` column is);
//! a TIMESTAMP(7..9) nested in an ARRAY, MAP or ROW stays INT64 nanoseconds.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType as ArrowType, SchemaRef, TimeUnit, TimestampNanosecondType};
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnWriter, ArrowRowGroupWriterFactory, ArrowWriterOptions,
};
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
use parquet::basic::{LogicalType, TimeUnit as ParquetTimeUnit, Type as PhysicalType};
use parquet::data_type::{Int96, Int96Type};
use parquet::errors::{ParquetError, Result};
use parquet::file::properties::WriterProperties;
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
    let mut changed = false;
    let mut fields: Vec<TypePtr> = Vec::with_capacity(root.get_fields().len());
    for f in root.get_fields() {
        let java = if is_nanosecond_timestamp(f) {
            Some(int96_of(f)?)
        } else {
            javaize(f)?
        };
        changed |= java.is_some();
        fields.push(java.map(Arc::new).unwrap_or_else(|| f.clone()));
    }
    if !changed {
        return Ok(None);
    }
    let root = Type::group_type_builder(root.name())
        .with_fields(fields)
        .build()?;
    Ok(Some(SchemaDescriptor::new(Arc::new(root))))
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

/// `t` with Java's physical types below it (DECIMAL(1) as INT32), or `None` if unchanged.
fn javaize(t: &Type) -> Result<Option<Type>> {
    let info = t.get_basic_info();
    let id = info.has_id().then(|| info.id());
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
    let mut changed = false;
    let mut fields = Vec::with_capacity(t.get_fields().len());
    for f in t.get_fields() {
        let java = javaize(f)?;
        changed |= java.is_some();
        fields.push(java.map(Arc::new).unwrap_or_else(|| f.clone()));
    }
    if !changed {
        return Ok(None);
    }
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
        let int96_roots: Vec<bool> = match &parquet_schema {
            None => vec![],
            Some(s) => s
                .root_schema()
                .get_fields()
                .iter()
                .map(|f| f.is_primitive() && f.get_physical_type() == PhysicalType::INT96)
                .collect(),
        };
        let mut options = ArrowWriterOptions::new().with_properties(props);
        if let Some(s) = parquet_schema.clone() {
            options = options.with_parquet_schema(s);
        }
        let writer = ArrowWriter::try_new_with_options(buf, arrow_schema.clone(), options)?;
        if !int96_roots.contains(&true) {
            return Ok(DataFileWriter {
                inner: Inner::Arrow(Box::new(writer)),
            });
        }
        let schema = parquet_schema.expect("INT96 columns come from a Parquet schema");
        let (file, factory) = writer.into_serialized_writer()?;
        let max_row_group_rows = file.properties().max_row_group_row_count();
        let mut columns = Vec::with_capacity(int96_roots.len());
        let mut leaf = 0;
        for (root, is_int96) in int96_roots.iter().enumerate() {
            let start = leaf;
            while leaf < schema.num_columns() && schema.get_column_root_idx(leaf) == root {
                leaf += 1;
            }
            columns.push(if *is_int96 {
                Column::Int96 {
                    leaf: start,
                    nullable: schema.column(start).max_def_level() > 0,
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
/// leaves) and the buffered INT96 values (one buffer per top-level column; empty for others).
struct RowGroup {
    writers: Vec<Option<ArrowColumnWriter>>,
    int96: Vec<Int96Values>,
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
        arrow
            + self
                .int96
                .iter()
                .map(|b| b.values.len() * 12)
                .sum::<usize>()
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
        for c in &self.columns {
            if let Column::Int96 { leaf, .. } = c {
                // arrow-rs made an INT96 writer it cannot feed; the values go in at flush.
                writers[*leaf] = None;
            }
        }
        Ok(RowGroup {
            writers,
            int96: self
                .columns
                .iter()
                .map(|_| Int96Values::default())
                .collect(),
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
            }
        }
        out.close()?;
        Ok(())
    }
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

    #[test]
    fn mixed_file_reads_back_in_row_groups() {
        let schema = schema();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(100))
            .set_data_page_row_count_limit(16)
            .set_write_batch_size(16)
            .build();
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
