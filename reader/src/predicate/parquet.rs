//! Pruning inside one Parquet file: row groups by their column-chunk statistics, then pages by
//! the page index (column index + offset index) into a [`RowSelection`].
//!
//! Page pruning works conjunct by conjunct: a top-level conjunct that reads one column is
//! tested page by page of that column, giving the rows it may match; the selections of all
//! such conjuncts are intersected (pages of different columns need not line up). Conjuncts
//! over several columns only prune row groups.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef, TimestampNanosecondArray, UInt64Array};
use arrow::datatypes::Schema;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
use parquet::basic::Type as PhysicalType;
use parquet::data_type::Int96;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::statistics::Statistics;
use streamhouse_format::datum::{datum_from_arrow, Datum};
use streamhouse_format::int96;
use streamhouse_format::types::DataType;

use super::{ColumnRange, Leaf, Predicate};

/// Where a predicate column lives in a file: its Arrow column name and its type in the file's
/// schema (statistics are decoded with it; a type different from the predicate's disables
/// pruning on that column).
#[derive(Debug, Clone)]
pub struct FileColumn {
    pub name: String,
    pub ty: DataType,
}

/// What to read of a file after pruning.
#[derive(Debug, Clone, Default)]
pub struct FilePruning {
    /// Row groups to read, ascending.
    pub row_groups: Vec<usize>,
    /// Rows to read within those row groups (in their order); `None`: all of them.
    pub selection: Option<RowSelection>,
    /// Row groups in the file.
    pub row_groups_total: usize,
}

fn value(a: &ArrayRef, i: usize, ty: &DataType) -> Option<Datum> {
    if i >= a.len() || a.is_null(i) {
        return None;
    }
    datum_from_arrow(a.as_ref(), i, ty).ok().flatten()
}

fn count(a: &UInt64Array, i: usize) -> Option<i64> {
    (i < a.len() && !a.is_null(i)).then(|| a.value(i) as i64)
}

/// Statistics of one predicate column, per row group.
struct ColumnStatsRg {
    ty: DataType,
    mins: ArrayRef,
    maxes: ArrayRef,
    nulls: UInt64Array,
}

/// Decides the row groups and rows of a file to read. `column` maps a leaf to its file column
/// (`None`: not in the file, or not to be used).
pub fn prune_file(
    meta: &ParquetMetaData,
    file_schema: &Schema,
    predicate: &Predicate,
    column: &dyn Fn(&Leaf) -> Option<FileColumn>,
) -> FilePruning {
    let parquet_schema = meta.file_metadata().schema_descr();
    let rgs = meta.row_groups();
    let all: Vec<usize> = (0..rgs.len()).collect();
    let mut out = FilePruning {
        row_groups: all.clone(),
        selection: None,
        row_groups_total: rgs.len(),
    };
    if predicate.is_true() {
        return out;
    }
    // Leaf column name (predicate side) → file column and its converter.
    let mut files: HashMap<String, Option<FileColumn>> = HashMap::new();
    predicate.visit_leaves(&mut |l| {
        files
            .entry(l.column.clone())
            .or_insert_with(|| column(l).filter(|c| c.ty.kind == l.ty.kind));
    });
    let converter = |fc: &FileColumn| {
        StatisticsConverter::try_new(&fc.name, file_schema, parquet_schema)
            .ok()
            .map(|c| c.with_missing_null_counts_as_zero(false))
    };
    // INT96 timestamps (TIMESTAMP(7..9) as Java writes them): the leaf, when the column is
    // one. Their bounds are used only in files we wrote (see `int96_bounds_trusted`).
    let int96_leaf = |conv: &StatisticsConverter| {
        conv.parquet_column_index()
            .filter(|l| parquet_schema.column(*l).physical_type() == PhysicalType::INT96)
    };
    let trusted = int96_bounds_trusted(meta);
    let mut rg_stats: HashMap<String, ColumnStatsRg> = HashMap::new();
    for (name, fc) in &files {
        let Some(fc) = fc else { continue };
        let Some(conv) = converter(fc) else { continue };
        let (Ok(mut mins), Ok(mut maxes), Ok(nulls)) = (
            conv.row_group_mins(rgs.iter()),
            conv.row_group_maxes(rgs.iter()),
            conv.row_group_null_counts(rgs.iter()),
        ) else {
            continue;
        };
        if let Some(leaf) = int96_leaf(&conv) {
            (mins, maxes) = if trusted {
                int96_row_group_bounds(meta, leaf)
            } else {
                (unknown(&mins), unknown(&maxes))
            };
        }
        rg_stats.insert(
            name.clone(),
            ColumnStatsRg {
                ty: fc.ty.clone(),
                mins,
                maxes,
                nulls,
            },
        );
    }
    out.row_groups = all
        .into_iter()
        .filter(|&rg| {
            let stats = |l: &Leaf| {
                let s = rg_stats.get(&l.column)?;
                Some(ColumnRange {
                    min: value(&s.mins, rg, &s.ty),
                    max: value(&s.maxes, rg, &s.ty),
                    null_count: count(&s.nulls, rg),
                })
            };
            predicate.may_match(&stats, Some(rgs[rg].num_rows()))
        })
        .collect();
    let (Some(col_index), Some(off_index)) = (meta.column_index(), meta.offset_index()) else {
        return out;
    };
    // Page pruning by single-column conjuncts.
    let mut selection: Option<RowSelection> = None;
    for conj in predicate.conjuncts() {
        let cols = conj.columns();
        let [name] = cols.iter().collect::<Vec<_>>()[..] else {
            continue;
        };
        let Some(Some(fc)) = files.get(name.as_str()) else {
            continue;
        };
        let Some(conv) = converter(fc) else { continue };
        let mut selectors: Vec<RowSelector> = vec![];
        for &rg in &out.row_groups {
            let rg_rows = rgs[rg].num_rows() as usize;
            let pages = (|| {
                let idx = [rg];
                let mins = conv.data_page_mins(col_index, off_index, idx.iter()).ok()?;
                let maxes = conv
                    .data_page_maxes(col_index, off_index, idx.iter())
                    .ok()?;
                let nulls = conv
                    .data_page_null_counts(col_index, off_index, idx.iter())
                    .ok()?;
                let rows = conv
                    .data_page_row_counts(off_index, rgs, idx.iter())
                    .ok()??;
                if let Some(leaf) = int96_leaf(&conv) {
                    let (mins, maxes) = match trusted {
                        true => int96_page_bounds(meta, rg, leaf)?,
                        false => (unknown(&mins), unknown(&maxes)),
                    };
                    return Some((mins, maxes, nulls, rows));
                }
                Some((mins, maxes, nulls, rows))
            })();
            match pages {
                Some((mins, maxes, nulls, rows)) if rows.len() == mins.len() => {
                    for p in 0..rows.len() {
                        let n = rows.value(p) as usize;
                        let stats = |_: &Leaf| {
                            Some(ColumnRange {
                                min: value(&mins, p, &fc.ty),
                                max: value(&maxes, p, &fc.ty),
                                null_count: count(&nulls, p),
                            })
                        };
                        let keep = conj.may_match(&stats, Some(n as i64));
                        push(&mut selectors, n, keep);
                    }
                }
                _ => push(&mut selectors, rg_rows, true),
            }
        }
        let s = RowSelection::from(selectors);
        selection = Some(match selection {
            None => s,
            Some(prev) => prev.intersection(&s),
        });
    }
    if let Some(s) = &selection {
        if !s.selects_any() {
            out.row_groups.clear();
            out.selection = None;
            return out;
        }
    }
    out.selection = selection;
    out
}

/// Whether the bounds of a file's INT96 columns can be used: in files we wrote, where every
/// value has the day-floored form and the parquet crate orders them by day, then nanoseconds.
/// Other writers order INT96 differently or not at all (it has no defined sort order), and
/// Java writes a value before 1970 in another form (`streamhouse_format::int96`).
pub(crate) fn int96_bounds_trusted(meta: &ParquetMetaData) -> bool {
    meta.file_metadata()
        .created_by()
        .is_some_and(|c| c.starts_with("streamhouse version "))
}

fn unknown(a: &ArrayRef) -> ArrayRef {
    new_null_array(a.data_type(), a.len())
}

fn int96_nanos(v: Option<&Int96>) -> Option<i64> {
    int96::to_epoch_nanos(*v?.data().first_chunk()?)
}

/// Minimum and maximum of INT96 leaf column `leaf` in every row group, as nanosecond
/// timestamps (null where unknown).
pub(crate) fn int96_row_group_bounds(meta: &ParquetMetaData, leaf: usize) -> (ArrayRef, ArrayRef) {
    let (mut mins, mut maxes) = (vec![], vec![]);
    for rg in meta.row_groups() {
        let stats = rg.columns().get(leaf).and_then(|c| c.statistics());
        let (min, max) = match stats {
            Some(Statistics::Int96(s)) => (int96_nanos(s.min_opt()), int96_nanos(s.max_opt())),
            _ => (None, None),
        };
        mins.push(min);
        maxes.push(max);
    }
    (
        Arc::new(TimestampNanosecondArray::from(mins)),
        Arc::new(TimestampNanosecondArray::from(maxes)),
    )
}

/// Minimum and maximum of INT96 leaf column `leaf` in every page of row group `rg` (null for
/// unknown and all-null pages); `None` without a column index.
pub(crate) fn int96_page_bounds(
    meta: &ParquetMetaData,
    rg: usize,
    leaf: usize,
) -> Option<(ArrayRef, ArrayRef)> {
    let ColumnIndexMetaData::INT96(index) = meta.column_index()?.get(rg)?.get(leaf)? else {
        return None;
    };
    let pages = 0..index.num_pages() as usize;
    let mins: Vec<Option<i64>> = pages
        .clone()
        .map(|p| int96_nanos(index.min_value(p)))
        .collect();
    let maxes: Vec<Option<i64>> = pages.map(|p| int96_nanos(index.max_value(p))).collect();
    Some((
        Arc::new(TimestampNanosecondArray::from(mins)),
        Arc::new(TimestampNanosecondArray::from(maxes)),
    ))
}

/// Appends `n` rows to a selector list, merging with the last run of the same kind.
pub fn push(selectors: &mut Vec<RowSelector>, n: usize, select: bool) {
    if n == 0 {
        return;
    }
    if let Some(last) = selectors.last_mut() {
        if last.skip != select {
            last.row_count += n;
            return;
        }
    }
    selectors.push(if select {
        RowSelector::select(n)
    } else {
        RowSelector::skip(n)
    });
}

/// The selected row ranges of a selection (relative to its first row).
pub fn selected_ranges(selection: &RowSelection) -> Vec<Range<usize>> {
    let mut out = vec![];
    let mut at = 0;
    for s in selection.iter() {
        if !s.skip {
            out.push(at..at + s.row_count);
        }
        at += s.row_count;
    }
    out
}

/// Data pages of the given leaf columns in the chosen row groups: (total, read). A page is
/// read when one of its rows is selected. `(0, 0)` without an offset index.
pub fn count_pages(
    meta: &ParquetMetaData,
    row_groups: &[usize],
    selection: Option<&RowSelection>,
    leaf_columns: &[usize],
) -> (u64, u64) {
    let Some(off) = meta.offset_index() else {
        return (0, 0);
    };
    let ranges = selection.map(selected_ranges);
    let (mut total, mut read) = (0u64, 0u64);
    let mut base = 0usize;
    for &rg in row_groups {
        let rg_rows = meta.row_groups()[rg].num_rows() as usize;
        for &c in leaf_columns {
            let Some(locs) = off.get(rg).and_then(|r| r.get(c)) else {
                continue;
            };
            let locs = locs.page_locations();
            for (i, loc) in locs.iter().enumerate() {
                total += 1;
                let start = base + loc.first_row_index as usize;
                let end = base
                    + locs
                        .get(i + 1)
                        .map_or(rg_rows, |n| n.first_row_index as usize);
                let hit = match &ranges {
                    None => true,
                    Some(rs) => rs.iter().any(|r| r.start < end && start < r.end),
                };
                if hit {
                    read += 1;
                }
            }
        }
        base += rg_rows;
    }
    (total, read)
}
