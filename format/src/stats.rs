//! SimpleStats: per-column minimum, maximum and null count, as stored in manifests; the
//! `metadata.stats-mode` option; and the collector that builds them from Arrow batches.
//!
//! Collection runs on the write hot path, so [`ColumnStats::update`] uses Arrow's per-batch
//! min/max kernels and only touches a [`Datum`] when a batch improves the running bound.
//! [`ColumnStats::finish`] then applies the stats mode (Java `SimpleColStatsCollector`s):
//!
//! * `none`: min, max and null count unknown;
//! * `counts`: null count only;
//! * `full`: min, max and null count;
//! * `truncate(n)` (Paimon's default, `n = 16`): like `full`, but a string minimum is cut to
//!   `n` characters and a string maximum is cut to `n` characters with its last character
//!   incremented so it stays an upper bound (if no character can be incremented, min and max are
//!   both dropped, as Java does). Binary values are treated the same way byte-wise.
//!
//! Nested columns (ARRAY, MAP, ROW, VARIANT, BLOB) never get a min/max.

use std::fmt;
use std::str::FromStr;

use arrow::array::{Array, AsArray};
use arrow::compute;
use arrow::datatypes::{
    DataType as ArrowType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Time32MillisecondType, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};

use crate::binary_row::{BinaryRow, BinaryRowWriter, EMPTY_ROW_SERIALIZED};
use crate::datum::Datum;
use crate::error::{Error, Result};
use crate::types::{DataType, TypeKind};

/// Statistics over a list of columns. `min_values` / `max_values` are serialized BinaryRows
/// (4-byte big-endian arity prefix + row bytes, see [`crate::binary_row`]); a column whose
/// minimum or maximum is unknown has its null bit set. `null_counts[i] == None` means unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SimpleStats {
    pub min_values: Vec<u8>,
    pub max_values: Vec<u8>,
    pub null_counts: Vec<Option<i64>>,
}

/// `metadata.stats-mode` (also `fields.<name>.stats-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatsMode {
    None,
    Counts,
    /// Strings (and binaries) cut to this many characters (bytes); always > 0.
    Truncate(usize),
    Full,
}

impl Default for StatsMode {
    fn default() -> Self {
        StatsMode::Truncate(16)
    }
}

impl fmt::Display for StatsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatsMode::None => f.write_str("none"),
            StatsMode::Counts => f.write_str("counts"),
            StatsMode::Truncate(n) => write!(f, "truncate({n})"),
            StatsMode::Full => f.write_str("full"),
        }
    }
}

impl FromStr for StatsMode {
    type Err = Error;
    /// Case-insensitive: `none`, `counts`, `full`, `truncate(<n > 0>)`.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        let bad = || {
            Error::invalid(format!(
                "stats mode {s:?}: expected none, counts, full or truncate(<n>) with n > 0"
            ))
        };
        match t.as_str() {
            "none" => Ok(StatsMode::None),
            "counts" => Ok(StatsMode::Counts),
            "full" => Ok(StatsMode::Full),
            _ => {
                let n = t
                    .strip_prefix("truncate(")
                    .and_then(|r| r.strip_suffix(')'))
                    .and_then(|n| n.trim().parse::<usize>().ok())
                    .ok_or_else(bad)?;
                if n == 0 {
                    return Err(bad());
                }
                Ok(StatsMode::Truncate(n))
            }
        }
    }
}

/// Final statistics of one column after a stats mode was applied.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldStats {
    pub min: Option<Datum>,
    pub max: Option<Datum>,
    pub null_count: Option<i64>,
}

/// Running min / max / null count of one column, fed with Arrow arrays.
#[derive(Debug, Clone)]
pub struct ColumnStats {
    data_type: DataType,
    min: Option<Datum>,
    max: Option<Datum>,
    null_count: i64,
}

impl ColumnStats {
    pub fn new(data_type: DataType) -> Self {
        ColumnStats {
            data_type,
            min: None,
            max: None,
            null_count: 0,
        }
    }

    pub fn data_type(&self) -> &DataType {
        &self.data_type
    }
    /// The untruncated minimum seen so far.
    pub fn min(&self) -> Option<&Datum> {
        self.min.as_ref()
    }
    pub fn max(&self) -> Option<&Datum> {
        self.max.as_ref()
    }
    pub fn null_count(&self) -> i64 {
        self.null_count
    }

    /// Accounts for one batch of this column. The array must have the column's Arrow type
    /// ([`DataType::to_arrow`]; any timestamp unit and Utf8/LargeUtf8/Utf8View,
    /// Binary/LargeBinary/BinaryView/FixedSizeBinary are accepted too) or be a Null array.
    pub fn update(&mut self, array: &dyn Array) -> Result<()> {
        self.null_count += array.logical_null_count() as i64;
        if self.data_type.is_nested() || array.data_type() == &ArrowType::Null {
            return Ok(());
        }
        if array.null_count() == array.len() {
            return Ok(());
        }
        macro_rules! prim {
            ($t:ty, $wrap:expr) => {{
                let a = array.as_primitive::<$t>();
                let f = $wrap;
                self.fold(compute::min(a).map(&f), compute::max(a).map(&f));
            }};
        }
        let ty = &self.data_type;
        match (&ty.kind, array.data_type()) {
            (TypeKind::Boolean, ArrowType::Boolean) => {
                let a = array.as_boolean();
                self.fold(
                    compute::min_boolean(a).map(Datum::Bool),
                    compute::max_boolean(a).map(Datum::Bool),
                );
            }
            (TypeKind::TinyInt, ArrowType::Int8) => prim!(Int8Type, Datum::TinyInt),
            (TypeKind::SmallInt, ArrowType::Int16) => prim!(Int16Type, Datum::SmallInt),
            (TypeKind::Int, ArrowType::Int32) => prim!(Int32Type, Datum::Int),
            (TypeKind::BigInt, ArrowType::Int64) => prim!(Int64Type, Datum::BigInt),
            (TypeKind::Float, ArrowType::Float32) => prim!(Float32Type, Datum::Float),
            (TypeKind::Double, ArrowType::Float64) => prim!(Float64Type, Datum::Double),
            (TypeKind::Decimal { .. }, ArrowType::Decimal128(_, _)) => {
                prim!(Decimal128Type, Datum::Decimal)
            }
            (TypeKind::Date, ArrowType::Date32) => prim!(Date32Type, Datum::Date),
            (TypeKind::Time(_), ArrowType::Time32(TimeUnit::Millisecond)) => {
                prim!(Time32MillisecondType, Datum::Time)
            }
            (
                TypeKind::Timestamp(_) | TypeKind::LocalZonedTimestamp(_),
                ArrowType::Timestamp(unit, _),
            ) => match unit {
                TimeUnit::Second => prim!(TimestampSecondType, |v: i64| ts(v, 1000, 0)),
                TimeUnit::Millisecond => prim!(TimestampMillisecondType, |v: i64| ts(v, 1, 0)),
                TimeUnit::Microsecond => prim!(TimestampMicrosecondType, |v: i64| ts_div(v, 1000)),
                TimeUnit::Nanosecond => {
                    prim!(TimestampNanosecondType, |v: i64| ts_div(v, 1_000_000))
                }
            },
            (TypeKind::Char(_) | TypeKind::VarChar(_), at) => {
                let (lo, hi) = match at {
                    ArrowType::Utf8 => {
                        let a = array.as_string::<i32>();
                        (compute::min_string(a), compute::max_string(a))
                    }
                    ArrowType::LargeUtf8 => {
                        let a = array.as_string::<i64>();
                        (compute::min_string(a), compute::max_string(a))
                    }
                    ArrowType::Utf8View => {
                        let a = array.as_string_view();
                        (compute::min_string_view(a), compute::max_string_view(a))
                    }
                    _ => return Err(self.mismatch(array)),
                };
                self.fold_bytes(lo.map(str::as_bytes), hi.map(str::as_bytes), true);
            }
            (TypeKind::Binary(_) | TypeKind::VarBinary(_), at) => {
                let (lo, hi) = match at {
                    ArrowType::Binary => {
                        let a = array.as_binary::<i32>();
                        (compute::min_binary(a), compute::max_binary(a))
                    }
                    ArrowType::LargeBinary => {
                        let a = array.as_binary::<i64>();
                        (compute::min_binary(a), compute::max_binary(a))
                    }
                    ArrowType::BinaryView => {
                        let a = array.as_binary_view();
                        (compute::min_binary_view(a), compute::max_binary_view(a))
                    }
                    ArrowType::FixedSizeBinary(_) => {
                        let a = array.as_fixed_size_binary();
                        (
                            compute::min_fixed_size_binary(a),
                            compute::max_fixed_size_binary(a),
                        )
                    }
                    _ => return Err(self.mismatch(array)),
                };
                self.fold_bytes(lo, hi, false);
            }
            _ => return Err(self.mismatch(array)),
        }
        Ok(())
    }

    fn mismatch(&self, array: &dyn Array) -> Error {
        Error::invalid(format!(
            "statistics of a {} column cannot be taken from an Arrow {} array",
            self.data_type,
            array.data_type()
        ))
    }

    fn fold(&mut self, lo: Option<Datum>, hi: Option<Datum>) {
        if let Some(lo) = lo {
            if self
                .min
                .as_ref()
                .is_none_or(|m| lo.cmp_same_type(m).is_lt())
            {
                self.min = Some(lo);
            }
        }
        if let Some(hi) = hi {
            if self
                .max
                .as_ref()
                .is_none_or(|m| hi.cmp_same_type(m).is_gt())
            {
                self.max = Some(hi);
            }
        }
    }

    /// Like [`fold`](Self::fold) for strings / binaries, allocating only on improvement.
    fn fold_bytes(&mut self, lo: Option<&[u8]>, hi: Option<&[u8]>, string: bool) {
        let wrap = |b: &[u8]| {
            if string {
                Datum::String(String::from_utf8_lossy(b).into_owned())
            } else {
                Datum::Bytes(b.to_vec())
            }
        };
        if let Some(lo) = lo {
            if self.min.as_ref().is_none_or(|m| lo < datum_bytes(m)) {
                self.min = Some(wrap(lo));
            }
        }
        if let Some(hi) = hi {
            if self.max.as_ref().is_none_or(|m| hi > datum_bytes(m)) {
                self.max = Some(wrap(hi));
            }
        }
    }

    /// Folds another collector of the same column into this one.
    pub fn merge(&mut self, other: &ColumnStats) {
        self.null_count += other.null_count;
        self.fold(other.min.clone(), other.max.clone());
    }

    /// The statistics to store under `mode`.
    pub fn finish(&self, mode: StatsMode) -> FieldStats {
        let null_count = Some(self.null_count);
        // Java keeps no minimum or maximum for binary columns (byte[] is not Comparable).
        if self.data_type.is_nested() || self.data_type.is_binary() {
            return match mode {
                StatsMode::None => FieldStats::default(),
                _ => FieldStats {
                    min: None,
                    max: None,
                    null_count,
                },
            };
        }
        match mode {
            StatsMode::None => FieldStats::default(),
            StatsMode::Counts => FieldStats {
                min: None,
                max: None,
                null_count,
            },
            StatsMode::Full => FieldStats {
                min: self.min.clone(),
                max: self.max.clone(),
                null_count,
            },
            StatsMode::Truncate(n) => {
                let max = self.max.as_ref().and_then(|m| truncate_max(m, n));
                if max.is_none() {
                    return FieldStats {
                        min: None,
                        max: None,
                        null_count,
                    };
                }
                let min = self.min.as_ref().map(|m| truncate_min(m, n));
                FieldStats {
                    min,
                    max,
                    null_count,
                }
            }
        }
    }
}

fn ts(v: i64, mul: i64, nanos: i32) -> Datum {
    Datum::Timestamp {
        millis: v.saturating_mul(mul),
        nanos,
    }
}

/// Sub-millisecond units → (floor millis, nanos within the milli).
fn ts_div(v: i64, per_milli: i64) -> Datum {
    let nanos = v.rem_euclid(per_milli) * (1_000_000 / per_milli);
    Datum::Timestamp {
        millis: v.div_euclid(per_milli),
        nanos: nanos as i32,
    }
}

fn datum_bytes(d: &Datum) -> &[u8] {
    match d {
        Datum::String(s) => s.as_bytes(),
        Datum::Bytes(b) => b,
        _ => &[],
    }
}

/// A lower bound of at most `n` characters (bytes for binaries).
fn truncate_min(d: &Datum, n: usize) -> Datum {
    match d {
        Datum::String(s) => match s.char_indices().nth(n) {
            Some((cut, _)) => Datum::String(s[..cut].to_string()),
            None => d.clone(),
        },
        Datum::Bytes(b) if b.len() > n => Datum::Bytes(b[..n].to_vec()),
        _ => d.clone(),
    }
}

/// An upper bound of at most `n` characters: the prefix with its last incrementable character
/// incremented (later characters dropped), or `None` when none can be incremented.
fn truncate_max(d: &Datum, n: usize) -> Option<Datum> {
    match d {
        Datum::String(s) => {
            let Some((cut, _)) = s.char_indices().nth(n) else {
                return Some(d.clone());
            };
            let mut chars: Vec<char> = s[..cut].chars().collect();
            while let Some(c) = chars.pop() {
                let next = match c as u32 + 1 {
                    0xD800 => Some('\u{E000}'), // skip the surrogate range
                    cp => char::from_u32(cp),
                };
                if let Some(next) = next {
                    chars.push(next);
                    return Some(Datum::String(chars.into_iter().collect()));
                }
            }
            None
        }
        Datum::Bytes(b) if b.len() > n => {
            let mut p = b[..n].to_vec();
            while let Some(last) = p.pop() {
                if last < 0xFF {
                    p.push(last + 1);
                    return Some(Datum::Bytes(p));
                }
            }
            None
        }
        _ => Some(d.clone()),
    }
}

impl SimpleStats {
    /// Stats over no columns: both rows are the 12-byte empty row, no null counts.
    pub fn empty() -> Self {
        SimpleStats {
            min_values: EMPTY_ROW_SERIALIZED.to_vec(),
            max_values: EMPTY_ROW_SERIALIZED.to_vec(),
            null_counts: vec![],
        }
    }

    /// Builds the stats of `columns` (one collector per column, types in the same order) under
    /// one mode. Under `none` every column is unknown but still present; a writer using Java's
    /// dense store drops such columns instead (empty stats + `_VALUE_STATS_COLS = []`).
    pub fn from_columns(
        columns: &[ColumnStats],
        types: &[DataType],
        mode: StatsMode,
    ) -> Result<SimpleStats> {
        Self::from_columns_with_modes(columns, types, &vec![mode; columns.len()])
    }

    /// Like [`from_columns`](Self::from_columns) with a mode per column
    /// (`fields.<name>.stats-mode`).
    pub fn from_columns_with_modes(
        columns: &[ColumnStats],
        types: &[DataType],
        modes: &[StatsMode],
    ) -> Result<SimpleStats> {
        if columns.len() != types.len() || columns.len() != modes.len() {
            return Err(Error::invalid(format!(
                "{} column statistics for {} types and {} modes",
                columns.len(),
                types.len(),
                modes.len()
            )));
        }
        let mut min = BinaryRowWriter::new(types.len());
        let mut max = BinaryRowWriter::new(types.len());
        let mut null_counts = Vec::with_capacity(types.len());
        for (i, ((col, ty), mode)) in columns.iter().zip(types).zip(modes).enumerate() {
            let f = col.finish(*mode);
            min.write_datum(i, f.min.as_ref(), ty)?;
            max.write_datum(i, f.max.as_ref(), ty)?;
            null_counts.push(f.null_count);
        }
        Ok(SimpleStats {
            min_values: min.to_row().serialize(),
            max_values: max.to_row().serialize(),
            null_counts,
        })
    }

    /// Decodes the min and max rows for pruning. Columns past a row's arity are unknown
    /// (`None`); a row with more fields than `types` is an error.
    #[allow(clippy::type_complexity)]
    pub fn decode(&self, types: &[DataType]) -> Result<(Vec<Option<Datum>>, Vec<Option<Datum>>)> {
        let read = |bytes: &[u8], which: &str| -> Result<Vec<Option<Datum>>> {
            let row = BinaryRow::deserialize(bytes)?;
            if row.arity() > types.len() {
                return Err(Error::corrupt(
                    "SimpleStats",
                    format!(
                        "{which} row has {} fields for {} columns",
                        row.arity(),
                        types.len()
                    ),
                ));
            }
            types
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    if i < row.arity() {
                        row.get(i, t)
                    } else {
                        Ok(None)
                    }
                })
                .collect()
        };
        Ok((
            read(&self.min_values, "min")?,
            read(&self.max_values, "max")?,
        ))
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
