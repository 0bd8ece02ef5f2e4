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
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaDataReader};
use parquet::schema::types::ColumnDescriptor;
use streamhouse_format::datum::{datum_from_arrow, Datum};
use streamhouse_format::int96;
use streamhouse_format::manifest::DataFileMeta;
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
    let index = build_index(
        ctx,
        &src.schema,
        meta,
        binding,
        &display,
        src.store,
        src.path,
        size,
    )?;
    Ok(Loaded {
        index,
        tail,
        tail_start,
    })
}

#[allow(clippy::too_many_arguments)]
fn build_index(
    ctx: &ScanContext,
    file_schema: &streamhouse_format::schema::TableSchema,
    meta: ArrowReaderMetadata,
    binding: Binding,
    display: &str,
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
) -> Result<FileIndex> {
    let pmeta = meta.metadata().clone();
    let n_rg = pmeta.num_row_groups();
    let mut rg_first_row = Vec::with_capacity(n_rg);
    let mut rg_rows = Vec::with_capacity(n_rg);
    let mut first = 0u64;
    for rg in pmeta.row_groups() {
        rg_first_row.push(first);
        let rows = u64::try_from(rg.num_rows())
            .map_err(|_| Error::corrupt(display, "a row group has a negative row count"))?;
        rg_rows.push(rows);
        first += rows;
    }
    let key_types: Vec<&DataType> = ctx.key_fields.iter().map(|f| &f.data_type).collect();
    let file_types: Vec<Option<DataType>> = ctx
        .key_fields
        .iter()
        .map(|k| {
            file_schema
                .fields
                .iter()
                .find(|f| f.id == k.id)
                .map(|f| f.data_type.clone())
        })
        .collect();
    let leaves: Vec<Option<usize>> = binding
        .key_roots
        .iter()
        .map(|r| leaf_of(&meta, *r))
        .collect();
    let parquet_schema = meta.parquet_schema();
    let int96_trusted = int96_bounds_trusted(&pmeta);
    let bloom_kinds: Vec<BloomKind> = leaves
        .iter()
        .zip(&key_types)
        .zip(&file_types)
        .map(|((leaf, ty), file_ty)| match (leaf, file_ty) {
            (Some(l), Some(f)) if f.kind == ty.kind => {
                bloom_kind(ty, parquet_schema.column(*l).as_ref(), int96_trusted)
            }
            _ => BloomKind::Unusable,
        })
        .collect();
    let mut rg_bounds = vec![];
    let mut pages = vec![];
    let mut bloom_locations = vec![];
    let mut weight = pmeta.memory_size() + 256;
    for rg in 0..n_rg {
        let mut bounds = vec![];
        let mut rg_pages = vec![];
        let mut blooms = vec![];
        for (j, leaf) in leaves.iter().enumerate() {
            let Some(leaf) = *leaf else {
                bounds.push(Bounds::default());
                rg_pages.push(None);
                blooms.push(None);
                continue;
            };
            let chunk = pmeta.row_group(rg).column(leaf);
            blooms.push(chunk.bloom_filter_offset().and_then(|o| {
                let len = chunk
                    .bloom_filter_length()
                    .and_then(|l| u64::try_from(l).ok());
                u64::try_from(o).ok().map(|o| (o, len))
            }));
            let int96 = parquet_schema.column(leaf).physical_type() == PhysicalType::INT96;
            if int96 && !int96_trusted {
                // INT96 bounds of other writers are not used (as in `predicate::parquet`): a key
                // is searched in the whole row group, in one unit.
                bounds.push(Bounds::default());
                rg_pages.push(None);
                continue;
            }
            let root = binding.key_roots[j];
            let field = &meta.schema().fields()[root];
            let conv = StatisticsConverter::from_column_index(leaf, field, parquet_schema)
                .map_err(|e| Error::corrupt(display, e))?;
            let ty = key_types[j];
            let file_ty = file_types[j].as_ref();
            let (rg_mins, rg_maxs) = if int96 {
                let (mins, maxs) = int96_row_group_bounds(&pmeta, leaf);
                (Ok(mins.slice(rg, 1)), Ok(maxs.slice(rg, 1)))
            } else {
                (
                    conv.row_group_mins([&pmeta.row_groups()[rg]]),
                    conv.row_group_maxes([&pmeta.row_groups()[rg]]),
                )
            };
            let mins = stat_datums(rg_mins, file_ty, ty, 1);
            let maxs = stat_datums(rg_maxs, file_ty, ty, 1);
            bounds.push(Bounds {
                min: mins.into_iter().next().flatten(),
                max: maxs.into_iter().next().flatten(),
            });
            let locations = pmeta
                .offset_index()
                .and_then(|oi| oi.get(rg))
                .and_then(|cols| cols.get(leaf))
                .map(|o| o.page_locations())
                .filter(|p| !p.is_empty());
            let has_column_index = pmeta
                .column_index()
                .and_then(|ci| ci.get(rg))
                .is_some_and(|cols| cols.len() > leaf);
            let page_dir = match (pmeta.column_index(), pmeta.offset_index(), locations) {
                (Some(ci), Some(oi), Some(locations)) if has_column_index => {
                    let n = locations.len();
                    let starts: Vec<u64> = locations
                        .iter()
                        .map(|p| u64::try_from(p.first_row_index).unwrap_or(0))
                        .collect();
                    let (page_mins, page_maxs) = if int96 {
                        match int96_page_bounds(&pmeta, rg, leaf) {
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
                    let mins = stat_datums(page_mins, file_ty, ty, n);
                    let maxs = stat_datums(page_maxs, file_ty, ty, n);
                    weight += n * 96;
                    Some(ColumnPages {
                        starts,
                        bounds: mins
                            .into_iter()
                            .zip(maxs)
                            .map(|(min, max)| Bounds { min, max })
                            .collect(),
                    })
                }
                _ => None,
            };
            rg_pages.push(page_dir);
        }
        rg_bounds.push(bounds);
        pages.push(rg_pages);
        bloom_locations.push(blooms);
    }
    Ok(FileIndex {
        display: display.to_string(),
        store,
        path,
        size,
        meta,
        binding,
        rg_first_row,
        rg_rows,
        rg_bounds,
        pages,
        bloom_kinds,
        bloom_locations,
        weight,
    })
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
