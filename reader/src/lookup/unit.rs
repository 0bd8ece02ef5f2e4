//! Decoding one unit (a row range of one row group) of a data file into the scan's internal
//! layout, and finding a key's rows in it.
//!
//! The Parquet reader gets the file's cached metadata (footer and page index) and a row
//! selection, so it fetches only the pages overlapping the unit (plus dictionary pages) in one
//! vectored read. Decoded units are cached (the "page" cache) together with their keys in a
//! form that makes matching a scan over integers or encoded row bytes. A whole ORC or Avro
//! file is one unit too ([`super::whole_file`]), searched by binary search instead of a scan.

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType as ArrowType, Int64Type};
use arrow::row::{RowConverter, Rows, SortField};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, TryStreamExt};
use parquet::arrow::arrow_reader::{ArrowReaderOptions, RowSelection, RowSelector};
use parquet::arrow::async_reader::{AsyncFileReader, ParquetRecordBatchStreamBuilder};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::ParquetMetaData;
use streamhouse_format::datum::Datum;
use streamhouse_format::merge::datums_to_array;
use streamhouse_format::types::DataType;
use streamhouse_format::{Error, Result};

use super::file_index::FileIndex;
use crate::file_reader::ScanContext;
use crate::parquet_io::ObjectReader;

/// Keys of a unit, prepared for matching.
pub(crate) enum UnitKeys {
    /// A single integer key column, widened.
    Int(Vec<i64>),
    /// Keys encoded by the [`KeyMatcher`]'s converter.
    Rows(Rows),
}

/// How a unit's rows are searched for a key.
pub(crate) enum KeyOrder {
    /// Row by row (a Parquet page: few rows).
    Scan,
    /// The keys ascend (a data file's order): binary search.
    Sorted,
    /// Row numbers in ascending key order (a file whose keys do not ascend): binary search
    /// through them.
    Permuted(Vec<u32>),
}

impl KeyOrder {
    /// The order of a whole file's keys: [`KeyOrder::Sorted`] when they ascend, else a
    /// permutation that sorts them (stable: a key's rows stay in file order).
    pub fn of(keys: &UnitKeys) -> KeyOrder {
        let n = keys.len();
        let ascending = (1..n).all(|i| keys.cmp_rows(i - 1, i) != Ordering::Greater);
        if ascending {
            return KeyOrder::Sorted;
        }
        let Ok(rows) = u32::try_from(n) else {
            return KeyOrder::Scan;
        };
        let mut order: Vec<u32> = (0..rows).collect();
        order.sort_by(|a, b| keys.cmp_rows(*a as usize, *b as usize));
        KeyOrder::Permuted(order)
    }
}

/// A decoded unit.
pub(crate) struct Unit {
    /// Internal-layout rows (keys, `_SEQUENCE_NUMBER`, `_VALUE_KIND`, every table column).
    pub batch: RecordBatch,
    /// File row position of the unit's first row (for deletion vectors).
    pub first_row: u64,
    pub keys: UnitKeys,
    pub order: KeyOrder,
    pub weight: usize,
}

/// Encodes keys of units and of lookups the same way.
pub(crate) struct KeyMatcher {
    int_key: bool,
    conv: RowConverter,
    types: Vec<DataType>,
}

/// A trimmed key prepared for matching.
pub(crate) struct ProbeKey {
    pub values: Vec<Datum>,
    int: Option<i64>,
    encoded: Option<Vec<u8>>,
}

fn as_i64(d: &Datum) -> Option<i64> {
    match d {
        Datum::TinyInt(v) => Some(*v as i64),
        Datum::SmallInt(v) => Some(*v as i64),
        Datum::Int(v) | Datum::Date(v) => Some(*v as i64),
        Datum::BigInt(v) => Some(*v),
        _ => None,
    }
}

impl KeyMatcher {
    /// A matcher for trimmed keys of these (current) types.
    pub fn new(types: Vec<DataType>) -> Result<Self> {
        let int_key = types.len() == 1
            && matches!(
                types[0].to_arrow(),
                ArrowType::Int8
                    | ArrowType::Int16
                    | ArrowType::Int32
                    | ArrowType::Int64
                    | ArrowType::Date32
            );
        let conv = RowConverter::new(types.iter().map(|t| SortField::new(t.to_arrow())).collect())
            .map_err(|e| Error::arrow("key encoder", e))?;
        Ok(KeyMatcher {
            int_key,
            conv,
            types,
        })
    }

    /// Prepares a trimmed key (values already checked against the key types).
    pub fn key(&self, values: Vec<Datum>) -> Result<ProbeKey> {
        if self.int_key {
            let int = values.first().and_then(as_i64);
            return Ok(ProbeKey {
                values,
                int,
                encoded: None,
            });
        }
        let cols: Vec<ArrayRef> = values
            .iter()
            .zip(&self.types)
            .map(|(v, t)| datums_to_array(&[Some(v.clone())], t))
            .collect::<Result<_>>()?;
        let rows = self
            .conv
            .convert_columns(&cols)
            .map_err(|e| Error::arrow("encoding a lookup key", e))?;
        Ok(ProbeKey {
            encoded: Some(rows.row(0).data().to_vec()),
            values,
            int: None,
        })
    }

    /// Prepares the key columns (the first columns) of an internal-layout batch.
    pub fn unit_keys(&self, batch: &RecordBatch) -> Result<UnitKeys> {
        let n = self.types.len();
        if self.int_key {
            let wide = arrow::compute::cast(batch.column(0), &ArrowType::Int64)
                .map_err(|e| Error::arrow("widening keys", e))?;
            let wide = wide.as_primitive::<Int64Type>();
            // Key columns are NOT NULL; a null (corrupt file) never matches: i64::MIN stands
            // in, and the match re-checks validity.
            let keys = wide.iter().map(|v| v.unwrap_or(i64::MIN)).collect();
            return Ok(UnitKeys::Int(keys));
        }
        let cols: Vec<ArrayRef> = (0..n).map(|i| batch.column(i).clone()).collect();
        let rows = self
            .conv
            .convert_columns(&cols)
            .map_err(|e| Error::arrow("encoding keys", e))?;
        Ok(UnitKeys::Rows(rows))
    }
}

impl UnitKeys {
    fn len(&self) -> usize {
        match self {
            UnitKeys::Int(k) => k.len(),
            UnitKeys::Rows(r) => r.num_rows(),
        }
    }

    fn cmp_rows(&self, a: usize, b: usize) -> Ordering {
        match self {
            UnitKeys::Int(k) => k[a].cmp(&k[b]),
            UnitKeys::Rows(r) => r.row(a).cmp(&r.row(b)),
        }
    }

    /// Row `row`'s key against a probe key; `None` when they are not comparable (a probe key
    /// not prepared for this form).
    fn cmp_key(&self, row: usize, key: &ProbeKey) -> Option<Ordering> {
        match (self, key.int, &key.encoded) {
            (UnitKeys::Int(keys), Some(k), _) => Some(keys[row].cmp(&k)),
            (UnitKeys::Rows(rows), _, Some(k)) => Some(rows.row(row).data().cmp(k.as_slice())),
            _ => None,
        }
    }

    fn bytes(&self) -> usize {
        match self {
            UnitKeys::Int(k) => k.len() * 8,
            UnitKeys::Rows(r) => r.size(),
        }
    }
}

/// The first index in `0..n` where `before` is false (`before` holds for a prefix).
fn partition_point(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

impl Unit {
    /// A unit of internal-layout rows starting at file position `first_row`; a `whole_file`
    /// unit is searched by binary search ([`KeyOrder::of`]), a page row by row.
    pub fn new(
        batch: RecordBatch,
        first_row: u64,
        matcher: &KeyMatcher,
        whole_file: bool,
    ) -> Result<Unit> {
        let keys = matcher.unit_keys(&batch)?;
        let order = if whole_file {
            KeyOrder::of(&keys)
        } else {
            KeyOrder::Scan
        };
        let order_bytes = match &order {
            KeyOrder::Permuted(p) => p.len() * 4,
            KeyOrder::Scan | KeyOrder::Sorted => 0,
        };
        let weight = batch.get_array_memory_size() + keys.bytes() + order_bytes + 128;
        Ok(Unit {
            batch,
            first_row,
            keys,
            order,
            weight,
        })
    }

    /// Rows of the unit holding `key`, ascending.
    pub fn matches(&self, key: &ProbeKey) -> Vec<usize> {
        let permuted = match &self.order {
            KeyOrder::Scan => return self.scan(key),
            KeyOrder::Sorted => None,
            KeyOrder::Permuted(p) => Some(p),
        };
        let at = |i: usize| permuted.map_or(i, |p| p[i] as usize);
        let cmp = |i: usize| self.keys.cmp_key(at(i), key);
        let n = self.keys.len();
        let lo = partition_point(n, |i| cmp(i) == Some(Ordering::Less));
        let hi = lo + partition_point(n - lo, |i| cmp(lo + i) == Some(Ordering::Equal));
        let col = self.batch.column(0);
        (lo..hi)
            .map(at)
            .filter(|r| !matches!(self.keys, UnitKeys::Int(_)) || col.is_valid(*r))
            .collect()
    }

    /// [`Unit::matches`] row by row.
    fn scan(&self, key: &ProbeKey) -> Vec<usize> {
        match (&self.keys, key.int, &key.encoded) {
            (UnitKeys::Int(keys), Some(k), _) => {
                let col = self.batch.column(0);
                keys.iter()
                    .enumerate()
                    .filter(|(i, v)| **v == k && col.is_valid(*i))
                    .map(|(i, _)| i)
                    .collect()
            }
            (UnitKeys::Rows(rows), _, Some(k)) => (0..rows.num_rows())
                .filter(|i| rows.row(*i).data() == k.as_slice())
                .collect(),
            _ => vec![],
        }
    }
}

/// The byte ranges holding rows `start..start + len` of row group `rg` in every projected
/// column: the pages overlapping them (page index) plus dictionary pages, or whole column
/// chunks without a page index.
fn unit_ranges(index: &FileIndex, rg: usize, start: u64, len: u64) -> Vec<Range<u64>> {
    let meta = index.meta.metadata();
    let schema = index.meta.parquet_schema();
    let end = start + len;
    let rows = index.rg_rows[rg];
    let mut out = vec![];
    for leaf in 0..schema.num_columns() {
        if index
            .binding
            .roots
            .binary_search(&schema.get_column_root_idx(leaf))
            .is_err()
        {
            continue;
        }
        let chunk = meta.row_group(rg).column(leaf);
        let (chunk_start, chunk_len) = chunk.byte_range();
        let pages = meta
            .offset_index()
            .and_then(|oi| oi.get(rg))
            .and_then(|cols| cols.get(leaf))
            .map(|o| o.page_locations())
            .filter(|p| !p.is_empty());
        let Some(pages) = pages else {
            out.push(chunk_start..chunk_start + chunk_len);
            continue;
        };
        let first = pages[0].offset as u64;
        if chunk_start < first {
            out.push(chunk_start..first);
        }
        for (i, p) in pages.iter().enumerate() {
            let p_start = p.first_row_index as u64;
            let p_end = pages.get(i + 1).map_or(rows, |q| q.first_row_index as u64);
            if p_start < end && p_end > start {
                let o = p.offset as u64;
                out.push(o..o + p.compressed_page_size as u64);
            }
        }
    }
    out
}

/// An [`AsyncFileReader`] answering from byte ranges read beforehand, going to the store
/// only for anything else.
struct Prefetched {
    inner: ObjectReader,
    ranges: Vec<(Range<u64>, Bytes)>,
}

impl Prefetched {
    fn cached(&self, r: &Range<u64>) -> Option<Bytes> {
        self.ranges.iter().find_map(|(have, bytes)| {
            let from = r.start.checked_sub(have.start)? as usize;
            let to = r.end.checked_sub(have.start)? as usize;
            (r.end <= have.end && from <= to && to <= bytes.len()).then(|| bytes.slice(from..to))
        })
    }
}

impl AsyncFileReader for Prefetched {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        match self.cached(&range) {
            Some(b) => futures::future::ready(Ok(b)).boxed(),
            None => self.inner.get_bytes(range),
        }
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        let hits: Option<Vec<Bytes>> = ranges.iter().map(|r| self.cached(r)).collect();
        match hits {
            Some(h) => futures::future::ready(Ok(h)).boxed(),
            None => self.inner.get_byte_ranges(ranges),
        }
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        self.inner.get_metadata(options)
    }
}

/// Decodes rows `start..start + len` of row group `rg`.
pub(crate) async fn decode(
    ctx: &ScanContext,
    index: &FileIndex,
    matcher: &KeyMatcher,
    rg: usize,
    start: u64,
    len: u64,
) -> Result<Arc<Unit>> {
    let display = &index.display;
    // Everything the unit needs, in one vectored read (the Parquet reader would otherwise
    // fetch column by column).
    let wanted = unit_ranges(index, rg, start, len);
    let fetched = if wanted.is_empty() {
        vec![]
    } else {
        index
            .store
            .get_ranges(&index.path, &wanted)
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => {
                    Error::NotFound(format!("data file {display}"))
                }
                e => Error::storage(display, e),
            })?
    };
    let reader = Prefetched {
        inner: ObjectReader::new(index.store.clone(), index.path.clone(), Some(index.size)),
        ranges: wanted.into_iter().zip(fetched).collect(),
    };
    let mask = ProjectionMask::roots(
        index.meta.parquet_schema(),
        index.binding.roots.iter().copied(),
    );
    let rows = index.rg_rows[rg];
    let len_usize = usize::try_from(len).map_err(|_| Error::corrupt(display, "unit too large"))?;
    let mut builder =
        ParquetRecordBatchStreamBuilder::new_with_metadata(reader, index.meta.clone())
            .with_projection(mask)
            .with_row_groups(vec![rg])
            .with_batch_size(len_usize.max(1));
    if start > 0 || len < rows {
        builder = builder.with_row_selection(RowSelection::from(vec![
            RowSelector::skip(start as usize),
            RowSelector::select(len_usize),
        ]));
    }
    let stream = builder
        .build()
        .map_err(|e| crate::file_reader::open_error(e, display))?;
    let batches: Vec<RecordBatch> = stream
        .try_collect()
        .await
        .map_err(|e| crate::file_reader::open_error(e, display))?;
    let schema = ctx.internal_schema.clone();
    let mut converted = Vec::with_capacity(batches.len());
    for b in &batches {
        converted.push(index.binding.convert(ctx, b, display)?);
    }
    let batch = match converted.len() {
        1 => converted
            .pop()
            .unwrap_or_else(|| RecordBatch::new_empty(schema.clone())),
        _ => concat_batches(&schema, &converted)
            .map_err(|e| Error::arrow(format!("assembling rows of {display}"), e))?,
    };
    if batch.num_rows() as u64 != len {
        return Err(Error::corrupt(
            display,
            format!(
                "row group {rg} returned {} rows for rows {start}..{} ",
                batch.num_rows(),
                start + len
            ),
        ));
    }
    let first_row = index.rg_first_row[rg] + start;
    Ok(Arc::new(Unit::new(batch, first_row, matcher, false)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use streamhouse_format::types::parse_type;

    fn whole_file(columns: Vec<ArrayRef>, types: &[&str]) -> (Unit, KeyMatcher) {
        let types: Vec<DataType> = types.iter().map(|t| parse_type(t).unwrap()).collect();
        let matcher = KeyMatcher::new(types).unwrap();
        let batch = RecordBatch::try_from_iter(
            columns
                .into_iter()
                .enumerate()
                .map(|(i, c)| (format!("k{i}"), c)),
        )
        .unwrap();
        (Unit::new(batch, 0, &matcher, true).unwrap(), matcher)
    }

    fn rows_of(unit: &Unit, matcher: &KeyMatcher, key: Vec<Datum>) -> Vec<usize> {
        unit.matches(&matcher.key(key).unwrap())
    }

    #[test]
    fn whole_files_are_searched_in_key_order_sorted_or_not() {
        let ints = |v: Vec<Option<i64>>| -> Vec<ArrayRef> { vec![Arc::new(Int64Array::from(v))] };
        // Ascending, a null (a corrupt file) first: binary search, the null never matches.
        let (u, m) = whole_file(ints(vec![None, Some(1), Some(1), Some(2)]), &["BIGINT"]);
        assert!(matches!(u.order, KeyOrder::Sorted));
        assert_eq!(rows_of(&u, &m, vec![Datum::BigInt(1)]), vec![1, 2]);
        assert_eq!(
            rows_of(&u, &m, vec![Datum::BigInt(i64::MIN)]),
            Vec::<usize>::new()
        );
        // Not ascending: through a stable permutation, rows in file order.
        let (u, m) = whole_file(
            ints(vec![Some(3), Some(1), Some(2), Some(1), Some(3)]),
            &["BIGINT"],
        );
        assert!(matches!(u.order, KeyOrder::Permuted(_)));
        assert_eq!(rows_of(&u, &m, vec![Datum::BigInt(1)]), vec![1, 3]);
        assert_eq!(rows_of(&u, &m, vec![Datum::BigInt(3)]), vec![0, 4]);
        assert_eq!(rows_of(&u, &m, vec![Datum::BigInt(0)]), Vec::<usize>::new());
        assert_eq!(rows_of(&u, &m, vec![Datum::BigInt(4)]), Vec::<usize>::new());
        // A composite key, encoded rows.
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![1, 1, 0, 1])),
            Arc::new(StringArray::from(vec!["b", "a", "z", "b"])),
        ];
        let (u, m) = whole_file(cols, &["BIGINT", "STRING"]);
        assert!(matches!(u.order, KeyOrder::Permuted(_)));
        let key = |k: i64, s: &str| vec![Datum::BigInt(k), Datum::String(s.into())];
        assert_eq!(rows_of(&u, &m, key(1, "b")), vec![0, 3]);
        assert_eq!(rows_of(&u, &m, key(0, "z")), vec![2]);
        assert_eq!(rows_of(&u, &m, key(0, "a")), Vec::<usize>::new());
    }
}
