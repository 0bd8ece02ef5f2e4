//! Fitting an input Arrow column (from a Parquet file any tool wrote) to a table column's type,
//! at every depth: ROW fields are matched by name; list and map child names ("item" /
//! "element", "entries" / "key_value", …), field metadata and declared nullability of the input
//! do not matter; leaves are cast to the table's types where no value changes. The result is
//! built with the table's own Arrow fields (names, nullability, field ids), so the writer gets
//! exactly its schema.
//!
//! A NULL where the table says NOT NULL, a value that does not fit, a ROW field the table does
//! not have and a missing NOT NULL ROW field are errors naming the column path (`r.a`,
//! `l[].x`, `m.key`, `m.value.v`) and, for a value, its input row. Values under a NULL ROW,
//! list or map are not looked at: they are not part of the data.

use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, BooleanArray, ListArray, MapArray, StructArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::kernels::cmp::distinct;
use arrow::compute::{cast, cast_with_options, filter, CastOptions};
use arrow::datatypes::DataType as ArrowType;
use arrow::error::ArrowError;
use arrow::util::display::array_value_to_string;
use streamhouse_format::types::{DataType, TypeKind, MAX_LENGTH};

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
                        if let Some((i, row)) =
                            first_bad(len, rows, |i| col.is_valid(i) && lenient.is_null(i))
                        {
                            return Err(at(
                                Some(row),
                                path,
                                format!("{:?} does not fit {type_name}", value(i)),
                            ));
                        }
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
                    if let Some((i, row)) =
                        first_bad(len, rows, |i| diff.is_valid(i) && diff.value(i))
                    {
                        return Err(at(
                            Some(row),
                            path,
                            format!("{} would lose digits in {type_name}", value(i)),
                        ));
                    }
                }
            }
            match ty.kind {
                TypeKind::Char(n) | TypeKind::VarChar(n) if n != MAX_LENGTH => {
                    let s = out.as_string::<i32>();
                    if let Some((i, row)) = first_bad(len, rows, |i| {
                        s.is_valid(i) && s.value(i).chars().count() > n as usize
                    }) {
                        return Err(at(
                            Some(row),
                            path,
                            format!("{:?} is longer than {type_name} allows ({n})", s.value(i)),
                        ));
                    }
                }
                TypeKind::Binary(n) | TypeKind::VarBinary(n) if n != MAX_LENGTH => {
                    let b = out.as_binary::<i32>();
                    if let Some((i, row)) = first_bad(len, rows, |i| {
                        b.is_valid(i) && b.value(i).len() > n as usize
                    }) {
                        return Err(at(
                            Some(row),
                            path,
                            format!(
                                "{} bytes is longer than {type_name} allows ({n})",
                                b.value(i).len()
                            ),
                        ));
                    }
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
mod tests {
    use super::*;
    use arrow::datatypes::{Field, Schema};
    use arrow::json::ReaderBuilder;
    use streamhouse_format::types::parse_type;

    /// One column of type `field` from JSON lines `{"c": …}`.
    fn input(field: Field, lines: &str) -> ArrayRef {
        let field = field.with_name("c");
        let schema = Arc::new(Schema::new(vec![field]));
        let mut reader = ReaderBuilder::new(schema)
            .build(std::io::Cursor::new(lines.to_string()))
            .unwrap();
        let batch = reader.next().unwrap().unwrap();
        assert!(reader.next().is_none());
        batch.column(0).clone()
    }

    /// What the table's type holds for the same JSON lines (built with the table's fields).
    fn expected(ty: &DataType, lines: &str) -> ArrayRef {
        input(Field::new("c", ty.to_arrow(), true), lines)
    }

    fn run(ty: &str, col: &ArrayRef) -> Result<ArrayRef> {
        conform(col, &parse_type(ty).unwrap(), "c", Rows::Same)
    }

    fn fits(ty: &str, col: &ArrayRef, lines: &str) {
        let table_type = parse_type(ty).unwrap();
        let out = run(ty, col).unwrap_or_else(|e| panic!("{ty}: {e:?}"));
        assert_eq!(out.data_type(), &table_type.to_arrow(), "{ty}");
        assert_eq!(&out, &expected(&table_type, lines), "{ty}");
    }

    fn struct_of(fields: Vec<Field>) -> ArrowType {
        ArrowType::Struct(fields.into())
    }

    fn list_of(elem: ArrowType) -> ArrowType {
        ArrowType::List(Arc::new(Field::new("item", elem, true)))
    }

    fn map_of(key: ArrowType, value: ArrowType) -> ArrowType {
        ArrowType::Map(
            Arc::new(Field::new(
                "entries",
                struct_of(vec![
                    Field::new("key", key, false),
                    Field::new("value", value, true),
                ]),
                false,
            )),
            false,
        )
    }

    fn f(name: &str, ty: ArrowType) -> Field {
        Field::new(name, ty, true)
    }

    #[test]
    fn row_fields_match_by_name_not_position_or_metadata() {
        // Reordered fields, no field ids, INT32 inside the struct where the table says BIGINT.
        let t = struct_of(vec![f("b", ArrowType::Utf8), f("a", ArrowType::Int32)]);
        let lines = "{\"c\": {\"a\": 1, \"b\": \"x\"}}\n{\"c\": null}\n{\"c\": {\"a\": null, \"b\": \"y\"}}\n";
        let col = input(f("c", t), lines);
        fits("ROW<a BIGINT, b STRING>", &col, lines);
        // The field ids of the table are on the result.
        let out = run("ROW<a BIGINT, b STRING>", &col).unwrap();
        let ArrowType::Struct(fields) = out.data_type() else {
            panic!()
        };
        assert!(fields[0].metadata().contains_key("PARQUET:field_id"));
    }

    #[test]
    fn missing_nullable_field_is_null_and_missing_not_null_field_an_error() {
        let lines = "{\"c\": {\"a\": 1}}\n{\"c\": {\"a\": 2}}\n";
        let col = input(f("c", struct_of(vec![f("a", ArrowType::Int32)])), lines);
        fits("ROW<a INT, b STRING>", &col, lines);
        let e = run("ROW<a INT, b STRING NOT NULL>", &col).unwrap_err();
        assert_eq!(e.path, "c.b");
        assert!(e.detail.contains("c.b is missing; it is NOT NULL"), "{e:?}");
    }

    #[test]
    fn unknown_field_is_an_error_naming_it() {
        let t = struct_of(vec![f("a", ArrowType::Int32), f("zz", ArrowType::Utf8)]);
        let col = input(f("c", t), "{\"c\": {\"a\": 1, \"zz\": \"q\"}}\n");
        let e = run("ROW<a INT>", &col).unwrap_err();
        assert!(e.detail.contains("unknown field \"zz\" in c"), "{e:?}");
        assert_eq!(e.row, None);
    }

    #[test]
    fn list_of_struct_with_item_naming() {
        let t = list_of(struct_of(vec![
            f("y", ArrowType::Utf8),
            f("x", ArrowType::Int32),
        ]));
        let lines =
            "{\"c\": [{\"x\": 1, \"y\": \"a\"}, null, {\"x\": 3}]}\n{\"c\": null}\n{\"c\": []}\n";
        fits(
            "ARRAY<ROW<x BIGINT, y STRING>>",
            &input(f("c", t), lines),
            lines,
        );
    }

    #[test]
    fn large_list_is_accepted() {
        let t = ArrowType::LargeList(Arc::new(Field::new("item", ArrowType::Int32, true)));
        let lines = "{\"c\": [1, 2]}\n{\"c\": null}\n";
        fits("ARRAY<BIGINT>", &input(f("c", t), lines), lines);
    }

    #[test]
    fn map_of_string_to_struct_with_entries_naming() {
        let t = map_of(
            ArrowType::Utf8,
            struct_of(vec![f("v", ArrowType::Int32), f("w", ArrowType::Int64)]),
        );
        let lines =
            "{\"c\": {\"k1\": {\"v\": 1, \"w\": 5}, \"k2\": null}}\n{\"c\": null}\n{\"c\": {}}\n";
        fits(
            "MAP<STRING, ROW<w INT, v BIGINT>>",
            &input(f("c", t), lines),
            lines,
        );
        let e = run(
            "MAP<STRING, ROW<v INT>>",
            &input(
                f(
                    "c",
                    map_of(
                        ArrowType::Utf8,
                        struct_of(vec![f("v", ArrowType::Int32), f("w", ArrowType::Int64)]),
                    ),
                ),
                lines,
            ),
        )
        .unwrap_err();
        assert!(e.detail.contains("unknown field \"w\" in c.value"), "{e:?}");
    }

    #[test]
    fn struct_in_struct() {
        let inner = struct_of(vec![f("q", ArrowType::Int16), f("p", ArrowType::Utf8)]);
        let t = struct_of(vec![f("x", inner), f("n", ArrowType::Int32)]);
        let lines = "{\"c\": {\"n\": 1, \"x\": {\"p\": \"a\", \"q\": 7}}}\n{\"c\": {\"n\": 2, \"x\": null}}\n{\"c\": null}\n";
        fits(
            "ROW<n BIGINT, x ROW<p STRING, q INT>>",
            &input(f("c", t), lines),
            lines,
        );
    }

    #[test]
    fn null_in_not_null_nested_field_names_path_and_row() {
        let t = list_of(struct_of(vec![f("x", ArrowType::Int64)]));
        let lines = "{\"c\": [{\"x\": 1}]}\n{\"c\": null}\n{\"c\": [{\"x\": 2}, {\"x\": null}]}\n";
        let col = input(f("c", t), lines);
        let e = run("ARRAY<ROW<x BIGINT NOT NULL>>", &col).unwrap_err();
        assert_eq!((e.row, e.path.as_str(), e.null), (Some(2), "c[].x", true));
        assert!(e.detail.contains("NOT NULL field c[].x"), "{e:?}");
        // A NOT NULL field under a NULL row is not a value: no error.
        let t = struct_of(vec![f("a", ArrowType::Int32)]);
        let lines = "{\"c\": {\"a\": 1}}\n{\"c\": null}\n";
        fits(
            "ROW<a INT NOT NULL>",
            &input(f("c", t.clone()), lines),
            lines,
        );
        let lines = "{\"c\": {\"a\": 1}}\n{\"c\": {\"a\": null}}\n";
        let e = run("ROW<a INT NOT NULL>", &input(f("c", t), lines)).unwrap_err();
        assert_eq!((e.row, e.path.as_str()), (Some(1), "c.a"));
    }

    #[test]
    fn not_null_nested_field_under_null_ancestors() {
        // c.x is NULL (inside the NULL row c) where x.a is NOT NULL: masked, not an error.
        let inner = struct_of(vec![f("a", ArrowType::Int32)]);
        let t = struct_of(vec![f("x", inner)]);
        let lines = "{\"c\": {\"x\": {\"a\": 1}}}\n{\"c\": null}\n";
        fits(
            "ROW<x ROW<a INT NOT NULL> NOT NULL>",
            &input(f("c", t), lines),
            lines,
        );
        // The same with c.x valid under the NULL c (as Arrow allows): still not data.
        let a: ArrayRef = Arc::new(arrow::array::Int32Array::from(vec![Some(1), None]));
        let x: ArrayRef = Arc::new(StructArray::new(
            vec![f("a", ArrowType::Int32)].into(),
            vec![a],
            None,
        ));
        let c: ArrayRef = Arc::new(StructArray::new(
            vec![f("x", x.data_type().clone())].into(),
            vec![x],
            Some(NullBuffer::from(vec![true, false])),
        ));
        fits("ROW<x ROW<a INT NOT NULL> NOT NULL>", &c, lines);
    }

    #[test]
    fn too_long_varchar_in_struct() {
        let t = struct_of(vec![f("s", ArrowType::Utf8)]);
        let lines = "{\"c\": {\"s\": \"abc\"}}\n{\"c\": {\"s\": \"abcd\"}}\n";
        let col = input(f("c", t), lines);
        let e = run("ROW<s VARCHAR(3)>", &col).unwrap_err();
        assert_eq!((e.row, e.path.as_str()), (Some(1), "c.s"));
        assert!(e.detail.contains("longer than VARCHAR(3)"), "{e:?}");
        fits("ROW<s VARCHAR(4)>", &col, lines);
    }

    #[test]
    fn nested_values_that_do_not_fit() {
        let t = list_of(ArrowType::Int64);
        let col = input(f("c", t), "{\"c\": [1]}\n{\"c\": [2, 3000000000]}\n");
        let e = run("ARRAY<INT>", &col).unwrap_err();
        assert_eq!((e.row, e.path.as_str()), (Some(1), "c[]"));
        assert!(e.detail.contains("3000000000\" does not fit INT"), "{e:?}");
        let t = struct_of(vec![f("d", ArrowType::Decimal128(10, 3))]);
        let col = input(
            f("c", t),
            "{\"c\": {\"d\": \"1.250\"}}\n{\"c\": {\"d\": \"1.255\"}}\n",
        );
        let e = run("ROW<d DECIMAL(10, 2)>", &col).unwrap_err();
        assert_eq!((e.row, e.path.as_str()), (Some(1), "c.d"));
        assert!(e.detail.contains("would lose digits"), "{e:?}");
        let col = input(
            f("c", struct_of(vec![f("d", ArrowType::Decimal128(10, 0))])),
            "{\"c\": {\"d\": \"123456\"}}\n",
        );
        let e = run("ROW<d DECIMAL(6, 2)>", &col).unwrap_err();
        assert!(e.detail.contains("does not fit DECIMAL(6, 2)"), "{e:?}");
        let t = struct_of(vec![f(
            "t",
            ArrowType::Timestamp(arrow::datatypes::TimeUnit::Nanosecond, None),
        )]);
        let col = input(f("c", t), "{\"c\": {\"t\": \"2024-01-01T00:00:00.001\"}}\n{\"c\": {\"t\": \"2024-01-01T00:00:00.0000001\"}}\n");
        let e = run("ROW<t TIMESTAMP(3)>", &col).unwrap_err();
        assert_eq!((e.row, e.path.as_str()), (Some(1), "c.t"));
        assert!(run("ROW<t TIMESTAMP(9)>", &col).is_ok());
    }

    #[test]
    fn map_keys_and_kinds() {
        let t = map_of(ArrowType::Utf8, ArrowType::Int32);
        let col = input(f("c", t), "{\"c\": {\"abc\": 1}}\n");
        let e = run("MAP<VARCHAR(2), INT>", &col).unwrap_err();
        assert_eq!(e.path, "c.key");
        let e = run("ARRAY<INT>", &col).unwrap_err();
        assert!(e.detail.contains("cannot convert Map"), "{e:?}");
        assert_eq!(e.row, None);
    }

    #[test]
    fn hidden_children_of_null_list_slots_are_dropped() {
        // A list slot that is NULL but still spans values (one of them NULL) under a NOT NULL
        // element type: the NULL is not data.
        let values: ArrayRef = Arc::new(arrow::array::Int32Array::from(vec![Some(1), None]));
        let list: ArrayRef = Arc::new(ListArray::new(
            Arc::new(Field::new("item", ArrowType::Int32, true)),
            OffsetBuffer::new(vec![0, 1, 2].into()),
            values,
            Some(NullBuffer::from(vec![true, false])),
        ));
        let out = run("ARRAY<INT NOT NULL>", &list).unwrap();
        let l = out.as_list::<i32>();
        assert_eq!(
            (l.value(0).len(), l.is_null(1), l.values().len()),
            (1, true, 1)
        );
    }
}
