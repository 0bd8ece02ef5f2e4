//! Unit tests of [`super::column::conform`].

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

/// A column of Arrow type `t` read from JSON lines `{"c": …}` fits table type `ty`.
fn fits_json(ty: &str, t: ArrowType, lines: &str) {
    fits(ty, &input(f("c", t), lines), lines);
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
    let lines =
        "{\"c\": {\"a\": 1, \"b\": \"x\"}}\n{\"c\": null}\n{\"c\": {\"a\": null, \"b\": \"y\"}}\n";
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
    fits_json("ARRAY<ROW<x BIGINT, y STRING>>", t, lines);
}

#[test]
fn large_list_is_accepted() {
    let t = ArrowType::LargeList(Arc::new(Field::new("item", ArrowType::Int32, true)));
    let lines = "{\"c\": [1, 2]}\n{\"c\": null}\n";
    fits_json("ARRAY<BIGINT>", t, lines);
}

#[test]
fn map_of_string_to_struct_with_entries_naming() {
    let t = map_of(
        ArrowType::Utf8,
        struct_of(vec![f("v", ArrowType::Int32), f("w", ArrowType::Int64)]),
    );
    let lines =
        "{\"c\": {\"k1\": {\"v\": 1, \"w\": 5}, \"k2\": null}}\n{\"c\": null}\n{\"c\": {}}\n";
    fits_json("MAP<STRING, ROW<w INT, v BIGINT>>", t, lines);
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
    fits_json("ROW<n BIGINT, x ROW<p STRING, q INT>>", t, lines);
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
    fits_json("ROW<x ROW<a INT NOT NULL> NOT NULL>", t, lines);
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
