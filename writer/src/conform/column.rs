//! Fitting an input Arrow column (from an Arrow batch or a Parquet file any tool wrote) to a
//! table column's type at every depth: ROW fields are matched by name; list and map child names
//! ("item" / "element", "entries" / "key_value", …), field metadata and declared nullability of
//! the input do not matter; leaves are cast to the table's types where no value changes. The
//! result is built with the table's own Arrow fields (names, nullability, field ids), so the
//! writer gets exactly its schema.
//!
//! A NULL where the table says NOT NULL, a value that does not fit (out of range, lost digits, a
//! decimal beyond its precision, text or bytes longer than CHAR/VARCHAR/BINARY(n) allow), a ROW
//! field the table does not have and a missing NOT NULL ROW field are errors naming the column
//! path (`r.a`, `l[].x`, `m.key`, `m.value.v`) and, for a value, its input row. Values under a
//! NULL ROW, list or map are not looked at: they are not part of the data.
//!
//! Text columns for boolean, numeric and temporal types are read with the value codec
//! (`streamhouse_format::value_text`), by the same rules as CSV and JSON input; text for a
//! binary type is taken as its UTF-8 bytes.

use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, BooleanArray, ListArray, MapArray, StructArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::kernels::cmp::distinct;
use arrow::compute::{cast, cast_with_options, filter, CastOptions};
use arrow::datatypes::{DataType as ArrowType, Decimal128Type, DecimalType, TimeUnit};
use arrow::error::ArrowError;
use arrow::util::display::array_value_to_string;
use streamhouse_format::datum::Datum;
use streamhouse_format::merge::datums_to_array;
use streamhouse_format::types::{DataType, TypeKind, MAX_LENGTH};
use streamhouse_format::value_text;

/// Why a column does not fit.
#[derive(Debug)]
pub struct ConformError {
    /// The input row (0-based, within the array given to [`conform`]) of the value at fault;
    /// `None` when the column as a whole does not fit.
    pub row: Option<usize>,
    /// The column path: `r`, `r.a`, `l[].x`, `m.key`, `m.value.v`.
    pub path: String,
    pub detail: String,
    /// The fault is a NULL where the type is NOT NULL.
    pub null: bool,
}

/// The input row each element of an array belongs to.
#[derive(Clone, Copy)]
pub enum Rows<'a> {
    /// Element `i` is row `i` (a top-level column).
    Same,
    /// Element `i` belongs to row `rows[i]`; `None`: it lies under a NULL ROW, list or map, or
    /// outside every list, and is not checked.
    Of(&'a [Option<usize>]),
}

impl Rows<'_> {
    fn get(&self, i: usize) -> Option<usize> {
        match self {
            Rows::Same => Some(i),
            Rows::Of(rows) => rows[i],
        }
    }
}

type Result<T> = std::result::Result<T, ConformError>;

fn whole(path: &str, detail: impl Into<String>) -> ConformError {
    ConformError {
        row: None,
        path: path.to_string(),
        detail: detail.into(),
        null: false,
    }
}

fn at(row: Option<usize>, path: &str, detail: impl Into<String>) -> ConformError {
    ConformError {
        row,
        path: path.to_string(),
        detail: detail.into(),
        null: false,
    }
}

fn arrow_err(path: &str) -> impl Fn(ArrowError) -> ConformError + '_ {
    move |e| whole(path, format!("cannot build the column: {e}"))
}

/// Fails at the first element of the data that `bad` picks, saying `detail` of it.
fn reject_first(
    (len, rows, path): (usize, Rows, &str),
    bad: impl Fn(usize) -> bool,
    detail: impl FnOnce(usize) -> String,
) -> Result<()> {
    match first_bad(len, rows, bad) {
        Some((i, row)) => Err(at(Some(row), path, detail(i))),
        None => Ok(()),
    }
}

/// The first element that `rows` says is part of the data and `bad` picks: (element, row).
fn first_bad(len: usize, rows: Rows, bad: impl Fn(usize) -> bool) -> Option<(usize, usize)> {
    (0..len).find_map(|i| rows.get(i).filter(|_| bad(i)).map(|r| (i, r)))
}

/// Converts `col` to `ty` (the table's type of the column or field at `path`), recursively.
pub fn conform(col: &ArrayRef, ty: &DataType, path: &str, rows: Rows) -> Result<ArrayRef> {
    let target = ty.to_arrow();
    let type_name = ty.with_nullable(true).to_string();
    let cannot = || {
        whole(
            path,
            format!("cannot convert {} to {type_name}", col.data_type()),
        )
    };
    let len = col.len();
    // What `reject_first` checks: the column's length, which elements are rows, its path.
    let data = (len, rows, path);
    let out: ArrayRef = match &ty.kind {
        TypeKind::Row(fields) => {
            let (ArrowType::Struct(input_fields), ArrowType::Struct(target_fields)) =
                (col.data_type(), &target)
            else {
                return Err(cannot());
            };
            for (i, f) in input_fields.iter().enumerate() {
                if !fields.iter().any(|t| &t.name == f.name()) {
                    let names: Vec<&str> = fields.iter().map(|t| t.name.as_str()).collect();
                    return Err(whole(
                        path,
                        format!(
                            "unknown field {:?} in {path}; the fields of {type_name} are {}",
                            f.name(),
                            names.join(", ")
                        ),
                    ));
                }
                if input_fields[..i].iter().any(|g| g.name() == f.name()) {
                    return Err(whole(
                        path,
                        format!("field {:?} appears twice in {path}", f.name()),
                    ));
                }
            }
            let input = col.as_struct();
            let (nulls, child_rows) = visible(col.nulls(), rows, len);
            let child_rows = match &child_rows {
                Some(r) => Rows::Of(r),
                None => Rows::Same,
            };
            let mut arrays = Vec::with_capacity(fields.len());
            for (f, target_field) in fields.iter().zip(target_fields.iter()) {
                let child_path = format!("{path}.{}", f.name);
                arrays.push(match input.column_by_name(&f.name) {
                    Some(c) => conform(c, &f.data_type, &child_path, child_rows)?,
                    None if f.data_type.nullable => new_null_array(target_field.data_type(), len),
                    None => {
                        return Err(whole(
                            &child_path,
                            format!("field {child_path} is missing; it is NOT NULL"),
                        ))
                    }
                });
            }
            Arc::new(
                StructArray::try_new_with_length(target_fields.clone(), arrays, nulls, len)
                    .map_err(arrow_err(path))?,
            )
        }
        TypeKind::Array(elem) | TypeKind::Multiset(elem) => {
            let ArrowType::List(target_elem) = &target else {
                return Err(cannot());
            };
            let list = match col.data_type() {
                ArrowType::List(_) => col.clone(),
                ArrowType::LargeList(f) | ArrowType::FixedSizeList(f, _) => {
                    cast(col, &ArrowType::List(f.clone())).map_err(|_| cannot())?
                }
                _ => return Err(cannot()),
            };
            let list = list.as_list::<i32>();
            let parts = children(list.offsets(), list.values(), list.nulls(), rows)
                .map_err(arrow_err(path))?;
            let values = conform(
                &parts.values,
                elem,
                &format!("{path}[]"),
                Rows::Of(&parts.rows),
            )?;
            Arc::new(
                ListArray::try_new(target_elem.clone(), parts.offsets, values, parts.nulls)
                    .map_err(arrow_err(path))?,
            )
        }
        TypeKind::Map(key, value) => {
            let (ArrowType::Map(..), ArrowType::Map(target_entries, sorted)) =
                (col.data_type(), &target)
            else {
                return Err(cannot());
            };
            let ArrowType::Struct(entry_fields) = target_entries.data_type() else {
                return Err(cannot());
            };
            let map = col.as_map();
            let entries: ArrayRef = Arc::new(map.entries().clone());
            let parts =
                children(map.offsets(), &entries, map.nulls(), rows).map_err(arrow_err(path))?;
            let entries = parts.values.as_struct();
            let entry_rows = Rows::Of(&parts.rows);
            let keys = conform(
                entries.column(0),
                &key.with_nullable(false),
                &format!("{path}.key"),
                entry_rows,
            )?;
            let values = conform(
                entries.column(1),
                value,
                &format!("{path}.value"),
                entry_rows,
            )?;
            let entries = StructArray::try_new(entry_fields.clone(), vec![keys, values], None)
                .map_err(arrow_err(path))?;
            Arc::new(
                MapArray::try_new(
                    target_entries.clone(),
                    parts.offsets,
                    entries,
                    parts.nulls,
                    *sorted,
                )
                .map_err(arrow_err(path))?,
            )
        }
        _ => {
            let value = |i: usize| array_value_to_string(col, i).unwrap_or_default();
            let out = if col.data_type() == &target {
                col.clone()
            } else if is_text(col.data_type()) && parsed_from_text(ty) {
                from_text(col, ty, &target, path, rows)?
            } else {
                let strict = CastOptions {
                    safe: false,
                    ..Default::default()
                };
                match cast_with_options(col, &target, &strict) {
                    Ok(out) => out,
                    Err(e) => {
                        // A lenient cast turns what does not fit into NULL: find the value.
                        let Ok(lenient) = cast_with_options(col, &target, &CastOptions::default())
                        else {
                            return Err(whole(
                                path,
                                format!("cannot convert {} to {type_name}: {e}", col.data_type()),
                            ));
                        };
                        reject_first(
                            data,
                            |i| col.is_valid(i) && lenient.is_null(i),
                            |i| format!("{:?} does not fit {type_name}", value(i)),
                        )?;
                        // Only values outside the data did not fit.
                        lenient
                    }
                }
            };
            // Narrowing a decimal's scale, a timestamp's or time's unit, or a float to an
            // integer or decimal must not drop digits.
            let narrowing = matches!(
                (col.data_type(), &target),
                (
                    ArrowType::Decimal128(..) | ArrowType::Decimal256(..),
                    ArrowType::Decimal128(..)
                ) | (ArrowType::Timestamp(..), ArrowType::Timestamp(..))
                    | (ArrowType::Time64(_), ArrowType::Time32(_))
                    | (
                        ArrowType::Float16 | ArrowType::Float32 | ArrowType::Float64,
                        ArrowType::Decimal128(..)
                            | ArrowType::Int8
                            | ArrowType::Int16
                            | ArrowType::Int32
                            | ArrowType::Int64
                    )
            );
            if narrowing && !Arc::ptr_eq(&out, col) {
                if let Ok(diff) = cast(&out, col.data_type()).and_then(|back| distinct(&back, col))
                {
                    reject_first(
                        data,
                        |i| diff.is_valid(i) && diff.value(i),
                        |i| format!("{} would lose digits in {type_name}", value(i)),
                    )?;
                }
            }
            match ty.kind {
                TypeKind::Char(n) | TypeKind::VarChar(n) if n != MAX_LENGTH => {
                    let s = out.as_string::<i32>();
                    reject_first(
                        data,
                        |i| {
                            s.is_valid(i)
                            && s.value(i).len() > n as usize // no more characters than bytes
                            && s.value(i).chars().count() > n as usize
                        },
                        |i| format!("{:?} is longer than {type_name} allows ({n})", s.value(i)),
                    )?;
                }
                TypeKind::Binary(n) | TypeKind::VarBinary(n) if n != MAX_LENGTH => {
                    let b = out.as_binary::<i32>();
                    reject_first(
                        data,
                        |i| b.is_valid(i) && b.value(i).len() > n as usize,
                        |i| {
                            format!(
                                "{} bytes is longer than {type_name} allows ({n})",
                                b.value(i).len()
                            )
                        },
                    )?;
                }
                TypeKind::Decimal { precision, .. } => {
                    let d = out.as_primitive::<Decimal128Type>();
                    reject_first(
                        data,
                        |i| {
                            d.is_valid(i)
                                && !Decimal128Type::is_valid_decimal_precision(
                                    d.value(i),
                                    precision as u8,
                                )
                        },
                        |i| format!("{} does not fit {type_name}", value(i)),
                    )?;
                }
                _ => {}
            }
            out
        }
    };
    if !ty.nullable && out.null_count() > 0 {
        if let Some((_, row)) = first_bad(len, rows, |i| out.is_null(i)) {
            return Err(ConformError {
                null: true,
                ..at(
                    Some(row),
                    path,
                    format!("no value (NULL) for NOT NULL field {path}"),
                )
            });
        }
    }
    Ok(out)
}

fn is_text(t: &ArrowType) -> bool {
    matches!(
        t,
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
    )
}

/// Whether text for `ty` goes through the value codec (not text, binary or nested types).
fn parsed_from_text(ty: &DataType) -> bool {
    !matches!(
        ty.kind,
        TypeKind::Char(_)
            | TypeKind::VarChar(_)
            | TypeKind::Binary(_)
            | TypeKind::VarBinary(_)
            | TypeKind::Variant
            | TypeKind::Blob
            | TypeKind::Array(_)
            | TypeKind::Multiset(_)
            | TypeKind::Map(..)
            | TypeKind::Row(_)
    )
}

/// A text column read as values of a non-text type through the value codec
/// ([`value_text::parse`]): the same forms and checks as CSV and JSON input (exact decimals,
/// fraction digits within the precision, offsets only for LTZ), instead of Arrow's casts,
/// which round or truncate some of them.
fn from_text(
    col: &ArrayRef,
    ty: &DataType,
    target: &ArrowType,
    path: &str,
    rows: Rows,
) -> Result<ArrayRef> {
    let type_name = ty.with_nullable(true).to_string();
    let text = cast(col, &ArrowType::Utf8).map_err(arrow_err(path))?;
    let text = text.as_string::<i32>();
    let mut values = Vec::with_capacity(text.len());
    for i in 0..text.len() {
        let row = rows.get(i);
        if text.is_null(i) || row.is_none() {
            values.push(None);
            continue;
        }
        let v = value_text::parse(text.value(i), ty).map_err(|e| at(row, path, e.to_string()))?;
        if let (Datum::Timestamp { millis, nanos }, ArrowType::Timestamp(TimeUnit::Nanosecond, _)) =
            (&v, target)
        {
            if i64::try_from(value_text::temporal::millis_to_nanos(*millis, *nanos)).is_err() {
                return Err(at(
                    row,
                    path,
                    format!("{:?} is out of range for {type_name}", text.value(i)),
                ));
            }
        }
        values.push(Some(v));
    }
    let out = datums_to_array(&values, ty).map_err(|e| whole(path, e.to_string()))?;
    if out.data_type() == target {
        Ok(out)
    } else {
        cast(&out, target).map_err(arrow_err(path))
    }
}

/// The validity of a ROW, list or map whose elements belong to `rows`: its own, and NULL where
/// the element is not part of the data (so that NOT NULL children there are masked). With it,
/// the row of each element if valid (`None` when every element is valid and its own row).
fn visible(
    nulls: Option<&NullBuffer>,
    rows: Rows,
    len: usize,
) -> (Option<NullBuffer>, Option<Vec<Option<usize>>>) {
    if let (Rows::Same, None) = (rows, nulls) {
        return (None, None);
    }
    let valid: Vec<bool> = (0..len)
        .map(|i| rows.get(i).is_some() && nulls.is_none_or(|n| n.is_valid(i)))
        .collect();
    let child_rows = (0..len).map(|i| rows.get(i).filter(|_| valid[i])).collect();
    let nulls = valid.iter().any(|v| !v).then(|| NullBuffer::from(valid));
    (nulls, Some(child_rows))
}

/// A list's or map's parts with every child part of the data: children under a NULL (or not
/// visible) slot, or outside every slot, are dropped and such slots made empty.
struct Children {
    offsets: OffsetBuffer<i32>,
    values: ArrayRef,
    nulls: Option<NullBuffer>,
    /// The input row of each child.
    rows: Vec<Option<usize>>,
}

fn children(
    offsets: &OffsetBuffer<i32>,
    values: &ArrayRef,
    nulls: Option<&NullBuffer>,
    rows: Rows,
) -> std::result::Result<Children, ArrowError> {
    let len = offsets.len() - 1;
    let (nulls, _) = visible(nulls, rows, len);
    let shown = |i: usize| nulls.as_ref().is_none_or(|n| n.is_valid(i));
    let mut child_rows = vec![None; values.len()];
    for i in (0..len).filter(|&i| shown(i)) {
        let row = rows.get(i);
        for r in &mut child_rows[offsets[i] as usize..offsets[i + 1] as usize] {
            *r = row;
        }
    }
    if child_rows.iter().all(Option::is_some) {
        return Ok(Children {
            offsets: offsets.clone(),
            values: values.clone(),
            nulls,
            rows: child_rows,
        });
    }
    let keep = BooleanArray::from(child_rows.iter().map(Option::is_some).collect::<Vec<_>>());
    let values = filter(values, &keep)?;
    let lengths = (0..len).map(|i| {
        if shown(i) {
            (offsets[i + 1] - offsets[i]) as usize
        } else {
            0
        }
    });
    Ok(Children {
        offsets: OffsetBuffer::from_lengths(lengths),
        values,
        nulls,
        rows: child_rows.into_iter().flatten().map(Some).collect(),
    })
}

#[cfg(test)]
#[path = "column_tests.rs"]
mod tests;
