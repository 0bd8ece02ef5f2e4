//! A data file's key index, read from its tail: the Parquet footer, the page index (column
//! index + offset index) and the bloom filters of the key columns.
//!
//! The writer puts bloom filters, page index and footer next to each other at the end of the
//! file, so one ranged read of the last [`TAIL_BYTES`] usually brings all three. Files from
//! other writers work too: a missing page index means a key's candidate unit is its whole row
//! group, a missing bloom filter means every key in range is searched.
//!
//! A *unit* is the row range a lookup decodes: one page of the first key column (its rows in
//! every column), or the whole row group without a page index.

use std::sync::Arc;

use arrow::array::ArrayRef;
use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as PhysicalType};
use parquet::bloom_filter::Sbbf;
use parquet::data_type::Int96;
use parquet::errors::ParquetError;
use parquet::file::metadata::{
    ColumnChunkMetaData, PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader,
};
use parquet::schema::types::ColumnDescriptor;
use streamhouse_format::datum::{datum_from_arrow, Datum};
use streamhouse_format::int96;
use streamhouse_format::manifest::DataFileMeta;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::{DataType, TypeKind};
use streamhouse_format::{Error, Result};

use crate::cast::cast_column;
use crate::file_reader::{bind, locate, Binding, ScanContext};
use crate::parquet_io::ObjectReader;
use crate::predicate::parquet::{int96_bounds_trusted, int96_page_bounds, int96_row_group_bounds};

/// Bytes read from the end of a file in its first request.
pub(crate) const TAIL_BYTES: u64 = 64 * 1024;

/// Lower and upper bound of a column over some rows; `None` is unknown.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bounds {
    pub min: Option<Datum>,
    pub max: Option<Datum>,
}

impl Bounds {
    /// Whether `v` may lie within the bounds (unknown bounds admit everything).
    pub fn admits(&self, v: &Datum) -> bool {
        let below = self
            .min
            .as_ref()
            .is_some_and(|m| v.cmp_same_type(m).is_lt());
        let above = self
            .max
            .as_ref()
            .is_some_and(|m| v.cmp_same_type(m).is_gt());
        !(below || above)
    }
}

/// The pages of one key column in one row group: where each starts and its bounds.
#[derive(Debug, Clone)]
pub(crate) struct ColumnPages {
    pub starts: Vec<u64>,
    pub bounds: Vec<Bounds>,
}

/// A file's footer, page index and column binding (the "footer" cache holds these).
pub(crate) struct FileIndex {
    pub display: String,
    pub store: Arc<dyn ObjectStore>,
    pub path: Path,
    pub size: u64,
    pub meta: ArrowReaderMetadata,
    pub binding: Binding,
    /// File row position of each row group's first row, and its row count.
    pub rg_first_row: Vec<u64>,
    pub rg_rows: Vec<u64>,
    /// Per row group, per key column: bounds from the column-chunk statistics.
    pub rg_bounds: Vec<Vec<Bounds>>,
    /// Per row group, per key column: its pages, when the page index has them.
    pub pages: Vec<Vec<Option<ColumnPages>>>,
    /// Per key column: how its bloom filter hashes values.
    pub bloom_kinds: Vec<BloomKind>,
    /// Per row group, per key column: (offset, length) of the bloom filter.
    pub bloom_locations: Vec<Vec<Option<BloomLocation>>>,
    /// Estimated memory held.
    pub weight: usize,
}

/// Where a bloom filter is stored: offset and, when recorded, length.
pub(crate) type BloomLocation = (u64, Option<u64>);

/// A file's index plus its tail bytes (for bloom filters stored in them).
pub(crate) struct Loaded {
    pub index: FileIndex,
    pub tail: Bytes,
    pub tail_start: u64,
}

/// How a key column's values are hashed into its bloom filter: the Parquet physical value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BloomKind {
    I32,
    I64,
    F32,
    F64,
    Bytes,
    /// A DECIMAL as big-endian two's complement of this many bytes.
    FixedDecimal(usize),
    /// TIMESTAMP in INT64 of this unit.
    TimestampMillis,
    TimestampMicros,
    TimestampNanos,
    /// TIMESTAMP as INT96 in the day-floored form (files we wrote).
    Int96,
    /// Not checked (bloom says "maybe").
    Unusable,
}

/// A key value in its Parquet physical form, ready for [`Sbbf::check`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BloomValue {
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Bytes(Vec<u8>),
    Int96(int96::Words),
}

impl BloomValue {
    pub fn check(&self, filter: &Sbbf) -> bool {
        match self {
            BloomValue::I32(v) => filter.check(v),
            BloomValue::I64(v) => filter.check(v),
            BloomValue::F32(v) => filter.check(v),
            BloomValue::F64(v) => filter.check(v),
            BloomValue::Bytes(v) => filter.check(v.as_slice()),
            BloomValue::Int96([a, b, c]) => {
                let mut v = Int96::new();
                v.set_data(*a, *b, *c);
                filter.check(&v)
            }
        }
    }
}

fn timestamp_unit(col: &ColumnDescriptor) -> Option<TimeUnit> {
    match col.logical_type_ref() {
        Some(LogicalType::Timestamp(t)) => Some(t.unit),
        Some(_) => None,
        None => match col.converted_type() {
            ConvertedType::TIMESTAMP_MILLIS => Some(TimeUnit::MILLIS),
            ConvertedType::TIMESTAMP_MICROS => Some(TimeUnit::MICROS),
            _ => None,
        },
    }
}

/// How values of key type `ty` are found in the bloom filter of Parquet column `col`;
/// `int96_trusted`: the file's INT96 values have the day-floored form (files we wrote, see
/// `predicate::parquet::int96_bounds_trusted`).
pub(crate) fn bloom_kind(ty: &DataType, col: &ColumnDescriptor, int96_trusted: bool) -> BloomKind {
    use PhysicalType as P;
    match (&ty.kind, col.physical_type()) {
        (TypeKind::TinyInt | TypeKind::SmallInt | TypeKind::Int | TypeKind::Date, P::INT32) => {
            BloomKind::I32
        }
        (TypeKind::Time(_), P::INT32) => BloomKind::I32,
        (TypeKind::BigInt, P::INT64) => BloomKind::I64,
        (TypeKind::Decimal { .. }, P::INT32) => BloomKind::I32,
        (TypeKind::Decimal { .. }, P::INT64) => BloomKind::I64,
        (TypeKind::Decimal { .. }, P::FIXED_LEN_BYTE_ARRAY) => {
            match usize::try_from(col.type_length()) {
                Ok(n) if (1..=16).contains(&n) => BloomKind::FixedDecimal(n),
                _ => BloomKind::Unusable,
            }
        }
        (TypeKind::Char(_) | TypeKind::VarChar(_), P::BYTE_ARRAY) => BloomKind::Bytes,
        (TypeKind::Binary(_) | TypeKind::VarBinary(_), P::BYTE_ARRAY | P::FIXED_LEN_BYTE_ARRAY) => {
            BloomKind::Bytes
        }
        (TypeKind::Float, P::FLOAT) => BloomKind::F32,
        (TypeKind::Double, P::DOUBLE) => BloomKind::F64,
        // INT96 (TIMESTAMP(7..9)): a value before 1970 has two forms (Java's writer's and the
        // day-floored one), so only a filter of a file we wrote can rule a key out.
        (TypeKind::Timestamp(_) | TypeKind::LocalZonedTimestamp(_), P::INT96) if int96_trusted => {
            BloomKind::Int96
        }
        (TypeKind::Timestamp(_) | TypeKind::LocalZonedTimestamp(_), P::INT64) => {
            match timestamp_unit(col) {
                Some(TimeUnit::MILLIS) => BloomKind::TimestampMillis,
                Some(TimeUnit::MICROS) => BloomKind::TimestampMicros,
                Some(TimeUnit::NANOS) => BloomKind::TimestampNanos,
                None => BloomKind::Unusable,
            }
        }
        _ => BloomKind::Unusable,
    }
}

/// The physical value of `d` for a bloom filter of `kind`; `None` when it cannot be checked.
pub(crate) fn bloom_value(kind: BloomKind, d: &Datum) -> Option<BloomValue> {
    Some(match (kind, d) {
        (BloomKind::I32, Datum::TinyInt(v)) => BloomValue::I32(*v as i32),
        (BloomKind::I32, Datum::SmallInt(v)) => BloomValue::I32(*v as i32),
        (BloomKind::I32, Datum::Int(v) | Datum::Date(v) | Datum::Time(v)) => BloomValue::I32(*v),
        (BloomKind::I32, Datum::Decimal(u)) => BloomValue::I32(i32::try_from(*u).ok()?),
        (BloomKind::I64, Datum::BigInt(v)) => BloomValue::I64(*v),
        (BloomKind::I64, Datum::Decimal(u)) => BloomValue::I64(i64::try_from(*u).ok()?),
        (BloomKind::FixedDecimal(n), Datum::Decimal(u)) => {
            let b = u.to_be_bytes();
            let (pad, bytes) = b.split_at(16 - n);
            let sign = if *u < 0 { 0xFF } else { 0x00 };
            let fits = pad.iter().all(|x| *x == sign) && (bytes[0] & 0x80 != 0) == (*u < 0);
            if !fits {
                return None;
            }
            BloomValue::Bytes(bytes.to_vec())
        }
        (BloomKind::Bytes, Datum::String(s)) => BloomValue::Bytes(s.as_bytes().to_vec()),
        (BloomKind::Bytes, Datum::Bytes(b)) => BloomValue::Bytes(b.clone()),
        (BloomKind::F32, Datum::Float(v)) => BloomValue::F32(*v),
        (BloomKind::F64, Datum::Double(v)) => BloomValue::F64(*v),
        (BloomKind::TimestampMillis, Datum::Timestamp { millis, nanos }) if *nanos == 0 => {
            BloomValue::I64(*millis)
        }
        (BloomKind::TimestampMicros, Datum::Timestamp { millis, nanos }) if nanos % 1000 == 0 => {
            BloomValue::I64(
                millis
                    .checked_mul(1000)?
                    .checked_add(*nanos as i64 / 1000)?,
            )
        }
        (BloomKind::Int96, Datum::Timestamp { millis, nanos }) => {
            let n = i128::from(*millis) * 1_000_000 + i128::from(*nanos);
            BloomValue::Int96(int96::from_epoch_nanos(i64::try_from(n).ok()?))
        }
        (BloomKind::TimestampNanos, Datum::Timestamp { millis, nanos }) => {
            BloomValue::I64(millis.checked_mul(1_000_000)?.checked_add(*nanos as i64)?)
        }
        _ => return None,
    })
}

/// The Parquet leaf column of a root column (key columns are primitive, so one leaf).
fn leaf_of(meta: &ArrowReaderMetadata, root: usize) -> Option<usize> {
    let schema = meta.parquet_schema();
    (0..schema.num_columns()).find(|l| schema.get_column_root_idx(*l) == root)
}

/// Datums of a statistics array converted to key type `ty`; unknown (null, unconvertible)
/// entries are `None`.
fn stat_datums(
    arr: parquet::errors::Result<ArrayRef>,
    file_ty: Option<&DataType>,
    ty: &DataType,
    n: usize,
) -> Vec<Option<Datum>> {
    let converted = arr
        .ok()
        .and_then(|a| cast_column(&a, file_ty, Some(ty), &ty.to_arrow()).ok());
    match converted {
        Some(a) if a.len() == n => (0..n)
            .map(|i| datum_from_arrow(a.as_ref(), i, ty).ok().flatten())
            .collect(),
        _ => vec![None; n],
    }
}

/// Reads a file's tail and builds its index.
pub(crate) async fn load(
    ctx: &ScanContext,
    dir: &Path,
    file: &DataFileMeta,
    use_page_index: bool,
) -> Result<Loaded> {
    let src = locate(ctx, dir, file)?;
    let display = src.display.clone();
    let size = match src.size {
        Some(s) => s,
        None => match src.store.head(&src.path).await {
            Ok(m) => m.size,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(Error::NotFound(format!("data file {display}")))
            }
            Err(e) => return Err(Error::storage(&display, e)),
        },
    };
    let fetch = |start: u64| {
        let store = src.store.clone();
        let path = src.path.clone();
        let display = display.clone();
        async move {
            match store.get_range(&path, start..size).await {
                Ok(b) => Ok(b),
                Err(object_store::Error::NotFound { .. }) => {
                    Err(Error::NotFound(format!("data file {display}")))
                }
                Err(e) => Err(Error::storage(&display, e)),
            }
        }
    };
    let policy = if use_page_index {
        PageIndexPolicy::Optional
    } else {
        PageIndexPolicy::Skip
    };
    let mut tail_start = size.saturating_sub(TAIL_BYTES);
    let mut tail = fetch(tail_start).await?;
    let mut reader = ParquetMetaDataReader::new().with_page_index_policy(policy);
    loop {
        match reader.try_parse_sized(&tail, size) {
            Ok(()) => break,
            Err(ParquetError::NeedMoreData(needed)) if (needed as u64) > tail.len() as u64 => {
                tail_start = size.saturating_sub(needed as u64);
                tail = fetch(tail_start).await?;
                if reader.has_metadata() {
                    reader
                        .read_page_indexes_sized(&tail, size)
                        .map_err(|e| Error::corrupt(&display, e))?;
                    break;
                }
            }
            Err(e) => return Err(Error::corrupt(&display, e)),
        }
    }
    let parquet_meta = reader.finish().map_err(|e| Error::corrupt(&display, e))?;
    let options = ArrowReaderOptions::new().with_page_index_policy(policy);
    let meta = ArrowReaderMetadata::try_new(Arc::new(parquet_meta), options)
        .map_err(|e| Error::corrupt(&display, e))?;
    let binding = bind(ctx, &src.schema, meta.schema(), &display)?;
    let footer = Footer {
        display,
        store: src.store,
        path: src.path,
        size,
        meta,
        binding,
    };
    Ok(Loaded {
        index: build_index(ctx, &src.schema, footer)?,
        tail,
        tail_start,
    })
}

/// A Parquet file whose footer was read and bound to the scan's columns: what
/// [`build_index`] turns into a [`FileIndex`].
struct Footer {
    display: String,
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
    meta: ArrowReaderMetadata,
    binding: Binding,
}

/// One key column as a file holds it.
struct KeyColumn<'a> {
    /// Its Parquet leaf and Arrow root column, when the file has it.
    leaf: Option<usize>,
    root: usize,
    /// Its current type and the type the file was written with.
    ty: &'a DataType,
    file_ty: Option<DataType>,
    /// Stored as INT96 (bounds trusted only in files we wrote).
    int96: bool,
}

impl KeyColumn<'_> {
    /// Statistics values converted to the current key type (see [`stat_datums`]).
    fn datums(&self, arr: parquet::errors::Result<ArrayRef>, n: usize) -> Vec<Option<Datum>> {
        stat_datums(arr, self.file_ty.as_ref(), self.ty, n)
    }

    /// Bounds from one min and one max statistic.
    fn bounds(
        &self,
        min: parquet::errors::Result<ArrayRef>,
        max: parquet::errors::Result<ArrayRef>,
    ) -> Bounds {
        Bounds {
            min: self.datums(min, 1).into_iter().next().flatten(),
            max: self.datums(max, 1).into_iter().next().flatten(),
        }
    }
}

/// The key columns of a file, in key order.
fn key_columns<'a>(
    ctx: &'a ScanContext,
    file_schema: &TableSchema,
    footer: &Footer,
) -> Vec<KeyColumn<'a>> {
    let parquet_schema = footer.meta.parquet_schema();
    ctx.key_fields
        .iter()
        .zip(&footer.binding.key_roots)
        .map(|(k, root)| {
            let leaf = leaf_of(&footer.meta, *root);
            KeyColumn {
                leaf,
                root: *root,
                ty: &k.data_type,
                file_ty: file_schema
                    .fields
                    .iter()
                    .find(|f| f.id == k.id)
                    .map(|f| f.data_type.clone()),
                int96: leaf.is_some_and(|l| {
                    parquet_schema.column(l).physical_type() == PhysicalType::INT96
                }),
            }
        })
        .collect()
}

/// File row position of each row group's first row, and its row count.
fn row_group_rows(pmeta: &ParquetMetaData, display: &str) -> Result<(Vec<u64>, Vec<u64>)> {
    let mut first_rows = Vec::with_capacity(pmeta.num_row_groups());
    let mut rows = Vec::with_capacity(pmeta.num_row_groups());
    let mut first = 0u64;
    for rg in pmeta.row_groups() {
        first_rows.push(first);
        let n = u64::try_from(rg.num_rows())
            .map_err(|_| Error::corrupt(display, "a row group has a negative row count"))?;
        rows.push(n);
        first += n;
    }
    Ok((first_rows, rows))
}

/// What the footer knows about one key column in one row group.
#[derive(Default)]
struct ChunkIndex {
    bounds: Bounds,
    pages: Option<ColumnPages>,
    bloom: Option<BloomLocation>,
}

/// Builds a file's index from its footer: per row group and key column, the bounds, the
/// pages and where the bloom filter is.
fn build_index(ctx: &ScanContext, file_schema: &TableSchema, footer: Footer) -> Result<FileIndex> {
    let pmeta = footer.meta.metadata().clone();
    let (rg_first_row, rg_rows) = row_group_rows(&pmeta, &footer.display)?;
    let int96_trusted = int96_bounds_trusted(&pmeta);
    let columns = key_columns(ctx, file_schema, &footer);
    let bloom_kinds: Vec<BloomKind> = columns
        .iter()
        .map(|c| match (c.leaf, &c.file_ty) {
            (Some(l), Some(f)) if f.kind == c.ty.kind => {
                let col = footer.meta.parquet_schema().column(l);
                bloom_kind(c.ty, col.as_ref(), int96_trusted)
            }
            _ => BloomKind::Unusable,
        })
        .collect();
    let mut rg_bounds = vec![];
    let mut pages = vec![];
    let mut bloom_locations = vec![];
    let mut weight = pmeta.memory_size() + 256;
    for rg in 0..pmeta.num_row_groups() {
        let chunks = columns
            .iter()
            .map(|c| chunk_index(&footer, c, rg, int96_trusted))
            .collect::<Result<Vec<_>>>()?;
        for c in &chunks {
            weight += c.pages.as_ref().map_or(0, |p| p.starts.len() * 96);
        }
        rg_bounds.push(chunks.iter().map(|c| c.bounds.clone()).collect());
        bloom_locations.push(chunks.iter().map(|c| c.bloom).collect());
        pages.push(chunks.into_iter().map(|c| c.pages).collect());
    }
    Ok(FileIndex {
        display: footer.display,
        store: footer.store,
        path: footer.path,
        size: footer.size,
        meta: footer.meta,
        binding: footer.binding,
        rg_first_row,
        rg_rows,
        rg_bounds,
        pages,
        bloom_kinds,
        bloom_locations,
        weight,
    })
}

/// Key column `c` in row group `rg`: its bloom filter's location, and its bounds and pages
/// from the statistics (none for INT96 columns of other writers, as in `predicate::parquet`:
/// such a key is searched in the whole row group, in one unit).
fn chunk_index(
    footer: &Footer,
    c: &KeyColumn,
    rg: usize,
    int96_trusted: bool,
) -> Result<ChunkIndex> {
    let Some(leaf) = c.leaf else {
        return Ok(ChunkIndex::default());
    };
    let pmeta = footer.meta.metadata();
    let bloom = bloom_location(pmeta.row_group(rg).column(leaf));
    if c.int96 && !int96_trusted {
        return Ok(ChunkIndex {
            bloom,
            ..ChunkIndex::default()
        });
    }
    let field = &footer.meta.schema().fields()[c.root];
    let conv = StatisticsConverter::from_column_index(leaf, field, footer.meta.parquet_schema())
        .map_err(|e| Error::corrupt(&footer.display, e))?;
    let bounds = if c.int96 {
        let (mins, maxs) = int96_row_group_bounds(pmeta, leaf);
        c.bounds(Ok(mins.slice(rg, 1)), Ok(maxs.slice(rg, 1)))
    } else {
        let group = [&pmeta.row_groups()[rg]];
        c.bounds(conv.row_group_mins(group), conv.row_group_maxes(group))
    };
    Ok(ChunkIndex {
        bounds,
        pages: column_pages(pmeta, &conv, c, rg, leaf),
        bloom,
    })
}

/// Where a column chunk's bloom filter is, if it has one.
fn bloom_location(chunk: &ColumnChunkMetaData) -> Option<BloomLocation> {
    let offset = u64::try_from(chunk.bloom_filter_offset()?).ok()?;
    let len = chunk
        .bloom_filter_length()
        .and_then(|l| u64::try_from(l).ok());
    Some((offset, len))
}

/// The pages of key column `c` in row group `rg`, when the page index has them.
fn column_pages(
    pmeta: &ParquetMetaData,
    conv: &StatisticsConverter,
    c: &KeyColumn,
    rg: usize,
    leaf: usize,
) -> Option<ColumnPages> {
    let locations = pmeta
        .offset_index()
        .and_then(|oi| oi.get(rg))
        .and_then(|cols| cols.get(leaf))
        .map(|o| o.page_locations())
        .filter(|p| !p.is_empty())?;
    let has_column_index = pmeta
        .column_index()
        .and_then(|ci| ci.get(rg))
        .is_some_and(|cols| cols.len() > leaf);
    let (Some(ci), Some(oi)) = (pmeta.column_index(), pmeta.offset_index()) else {
        return None;
    };
    if !has_column_index {
        return None;
    }
    let n = locations.len();
    let starts: Vec<u64> = locations
        .iter()
        .map(|p| u64::try_from(p.first_row_index).unwrap_or(0))
        .collect();
    let (mins, maxs) = if c.int96 {
        match int96_page_bounds(pmeta, rg, leaf) {
            Some((mins, maxs)) => (Ok(mins), Ok(maxs)),
            None => {
                let none = || Err(ParquetError::General("no INT96 bounds".into()));
                (none(), none())
            }
        }
    } else {
        (
            conv.data_page_mins(ci, oi, [&rg]),
            conv.data_page_maxes(ci, oi, [&rg]),
        )
    };
    let bounds = c
        .datums(mins, n)
        .into_iter()
        .zip(c.datums(maxs, n))
        .map(|(min, max)| Bounds { min, max })
        .collect();
    Some(ColumnPages { starts, bounds })
}

impl FileIndex {
    /// The row ranges (units) of row group `rg` that may hold the trimmed key `key`: pages of
    /// the first key column whose bounds admit it and that overlap admitting pages of the other
    /// key columns; the whole row group without a page index; nothing when the row group's
    /// statistics exclude the key.
    pub fn units(&self, rg: usize, key: &[Datum]) -> Vec<(u64, u64)> {
        let rows = self.rg_rows[rg];
        if rows == 0 || !self.rg_bounds[rg].iter().zip(key).all(|(b, v)| b.admits(v)) {
            return vec![];
        }
        let Some(first) = self.pages[rg].first().and_then(Option::as_ref) else {
            return vec![(0, rows)];
        };
        let mut out = vec![];
        for (i, b) in first.bounds.iter().enumerate() {
            if !key.first().is_some_and(|v| b.admits(v)) {
                continue;
            }
            let start = first.starts[i];
            let end = first.starts.get(i + 1).copied().unwrap_or(rows);
            if end <= start {
                continue;
            }
            let others_admit =
                self.pages[rg]
                    .iter()
                    .zip(key)
                    .skip(1)
                    .all(|(pages, v)| match pages {
                        None => true,
                        Some(p) => overlapping(p, start, end, rows).any(|k| p.bounds[k].admits(v)),
                    });
            if others_admit {
                out.push((start, end - start));
            }
        }
        out
    }
}

/// Indices of the pages of `p` overlapping rows `start..end`.
fn overlapping(
    p: &ColumnPages,
    start: u64,
    end: u64,
    rows: u64,
) -> impl Iterator<Item = usize> + '_ {
    let first = p.starts.partition_point(|s| *s <= start).saturating_sub(1);
    (first..p.starts.len())
        .take_while(move |k| p.starts[*k] < end)
        .filter(move |k| {
            let page_end = p.starts.get(k + 1).copied().unwrap_or(rows);
            page_end > start
        })
}

/// The bloom filters of a file's key columns (the "bloom" cache holds these).
pub(crate) struct FileBlooms {
    pub kinds: Vec<BloomKind>,
    /// Per row group, per key column.
    pub filters: Vec<Vec<Option<Sbbf>>>,
    pub weight: usize,
}

impl FileBlooms {
    /// Whether row group `rg` may hold the trimmed key (every key column's filter says maybe,
    /// or has no filter).
    pub fn admits(&self, rg: usize, values: &[Option<BloomValue>]) -> bool {
        let Some(filters) = self.filters.get(rg) else {
            return true;
        };
        filters.iter().zip(values).all(|(f, v)| match (f, v) {
            (Some(f), Some(v)) => v.check(f),
            _ => true,
        })
    }
}

/// Reads the key columns' bloom filters: from the tail bytes when they lie inside, otherwise
/// with ranged reads.
pub(crate) async fn load_blooms(
    index: &FileIndex,
    tail: Option<(&Bytes, u64)>,
) -> Result<FileBlooms> {
    let mut filters = vec![];
    let mut weight = 64;
    let mut builder: Option<ParquetRecordBatchStreamBuilder<ObjectReader>> = None;
    for (rg, locations) in index.bloom_locations.iter().enumerate() {
        let mut row = vec![];
        for (j, loc) in locations.iter().enumerate() {
            let usable = index.bloom_kinds.get(j) != Some(&BloomKind::Unusable);
            let filter = match (*loc, usable) {
                (Some((offset, len)), true) => {
                    let in_tail = match (tail, len) {
                        (Some((bytes, start)), Some(len)) if offset >= start => {
                            let from = (offset - start) as usize;
                            bytes.get(from..from + len as usize)
                        }
                        _ => None,
                    };
                    match in_tail {
                        Some(b) => Some(
                            Sbbf::from_bytes(b).map_err(|e| Error::corrupt(&index.display, e))?,
                        ),
                        None => {
                            let b = match builder.as_mut() {
                                Some(b) => b,
                                None => builder.insert(
                                    ParquetRecordBatchStreamBuilder::new_with_metadata(
                                        ObjectReader::new(
                                            index.store.clone(),
                                            index.path.clone(),
                                            Some(index.size),
                                        ),
                                        index.meta.clone(),
                                    ),
                                ),
                            };
                            let leaf = leaf_of(&index.meta, index.binding.key_roots[j]);
                            match leaf {
                                Some(l) => b
                                    .get_row_group_column_bloom_filter(rg, l)
                                    .await
                                    .map_err(|e| Error::corrupt(&index.display, e))?,
                                None => None,
                            }
                        }
                    }
                }
                _ => None,
            };
            if let Some(f) = &filter {
                weight += f.num_blocks() * 32 + 64;
            }
            row.push(filter);
        }
        filters.push(row);
    }
    Ok(FileBlooms {
        kinds: index.bloom_kinds.clone(),
        filters,
        weight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_bloom_bytes_are_sign_extended_big_endian() {
        let k = BloomKind::FixedDecimal(5);
        assert_eq!(
            bloom_value(k, &Datum::Decimal(-2)),
            Some(BloomValue::Bytes(vec![0xFF, 0xFF, 0xFF, 0xFF, 0xFE]))
        );
        assert_eq!(
            bloom_value(k, &Datum::Decimal(258)),
            Some(BloomValue::Bytes(vec![0, 0, 0, 1, 2]))
        );
        // Does not fit 5 bytes.
        assert_eq!(bloom_value(k, &Datum::Decimal(1 << 40)), None);
        assert_eq!(
            bloom_value(
                BloomKind::TimestampMicros,
                &Datum::Timestamp {
                    millis: 5,
                    nanos: 7000
                }
            ),
            Some(BloomValue::I64(5007))
        );
        assert_eq!(
            bloom_value(
                BloomKind::TimestampMillis,
                &Datum::Timestamp {
                    millis: 5,
                    nanos: 1
                }
            ),
            None
        );
        assert_eq!(bloom_value(BloomKind::I64, &Datum::Int(1)), None);
    }

    #[test]
    fn int96_keys_use_bloom_filters_of_our_files_only() {
        use parquet::schema::types::{ColumnPath, Type};
        let leaf = Type::primitive_type_builder("k", PhysicalType::INT96)
            .build()
            .unwrap();
        let col = ColumnDescriptor::new(Arc::new(leaf), 1, 0, ColumnPath::from("k"));
        let ts9 = streamhouse_format::types::parse_type("TIMESTAMP(9)").unwrap();
        assert_eq!(bloom_kind(&ts9, &col, true), BloomKind::Int96);
        assert_eq!(bloom_kind(&ts9, &col, false), BloomKind::Unusable);
        // 1969-12-31T23:59:59.999999999 and 1677-09-21T00:12:43.145224192, day floored.
        let before_epoch = Datum::Timestamp {
            millis: -1,
            nanos: 999_999,
        };
        assert_eq!(
            bloom_value(BloomKind::Int96, &before_epoch),
            Some(BloomValue::Int96(int96::from_epoch_nanos(-1)))
        );
        let first = Datum::Timestamp {
            millis: i64::MIN.div_euclid(1_000_000),
            nanos: i64::MIN.rem_euclid(1_000_000) as i32,
        };
        assert_eq!(
            bloom_value(BloomKind::Int96, &first),
            Some(BloomValue::Int96(int96::from_epoch_nanos(i64::MIN)))
        );
        // Beyond the nanosecond range: not checked.
        let year_1 = Datum::Timestamp {
            millis: -62_135_596_800_000,
            nanos: 0,
        };
        assert_eq!(bloom_value(BloomKind::Int96, &year_1), None);
    }

    #[test]
    fn bounds_admit_values_inside_and_unknown() {
        let b = Bounds {
            min: Some(Datum::BigInt(3)),
            max: Some(Datum::BigInt(9)),
        };
        assert!(b.admits(&Datum::BigInt(3)) && b.admits(&Datum::BigInt(9)));
        assert!(!b.admits(&Datum::BigInt(2)) && !b.admits(&Datum::BigInt(10)));
        assert!(Bounds::default().admits(&Datum::BigInt(0)));
    }

    #[test]
    fn overlapping_pages() {
        let p = ColumnPages {
            starts: vec![0, 10, 20, 30],
            bounds: vec![Bounds::default(); 4],
        };
        let v: Vec<usize> = overlapping(&p, 15, 25, 40).collect();
        assert_eq!(v, vec![1, 2]);
        let v: Vec<usize> = overlapping(&p, 30, 40, 40).collect();
        assert_eq!(v, vec![3]);
        let v: Vec<usize> = overlapping(&p, 0, 10, 40).collect();
        assert_eq!(v, vec![0]);
    }
}
