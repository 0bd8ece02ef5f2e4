//! The batch-level conform step as a library user meets it: the same checks the CLI's Parquet
//! input has (nested fields by name, NOT NULL at every depth, decimal range, lengths), with
//! errors naming the column path and the row.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType as A, Field, Fields, Schema};
use arrow::json::ReaderBuilder;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::parse_columns;

use super::*;

fn table(columns: &str, pk: &[&str]) -> TableSchema {
    TableSchema::new(
        parse_columns(columns).unwrap(),
        vec![],
        pk.iter().map(|s| s.to_string()).collect(),
        Default::default(),
        0,
    )
    .unwrap()
}

/// A batch of the given Arrow fields from JSON lines.
fn batch(fields: Vec<Field>, lines: &str) -> RecordBatch {
    let mut reader = ReaderBuilder::new(Arc::new(Schema::new(fields)))
        .build(std::io::Cursor::new(lines.to_string()))
        .unwrap();
    let b = reader.next().unwrap().unwrap();
    assert!(reader.next().is_none());
    b
}

fn err(schema: &TableSchema, b: &RecordBatch) -> String {
    conform_batch(schema, b, "batch").unwrap_err().to_string()
}

/// Conforming `b` fails with an error that names each of `parts`.
fn err_naming(schema: &TableSchema, b: &RecordBatch, parts: &[&str]) {
    let e = err(schema, b);
    for part in parts {
        assert!(e.contains(part), "{part:?} not in {e}");
    }
}

/// A batch of one nullable column.
fn one(name: &str, array: ArrayRef) -> RecordBatch {
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            name,
            array.data_type().clone(),
            true,
        )])),
        vec![array],
    )
    .unwrap()
}

fn decimals(unscaled: &[i128], precision: u8, scale: i8) -> ArrayRef {
    Arc::new(
        Decimal128Array::from(unscaled.to_vec())
            .with_precision_and_scale(precision, scale)
            .unwrap(),
    )
}

fn row_of(fields: Vec<Field>) -> A {
    A::Struct(Fields::from(fields))
}

#[test]
fn struct_fields_match_by_name_not_position() {
    let schema = table("id BIGINT NOT NULL, r ROW<a INT, b STRING>", &["id"]);
    // {b, a}: reordered, matched by name.
    let t = row_of(vec![
        Field::new("b", A::Utf8, true),
        Field::new("a", A::Int64, true),
    ]);
    let b = batch(
        vec![Field::new("id", A::Int64, false), Field::new("r", t, true)],
        "{\"id\": 1, \"r\": {\"a\": 7, \"b\": \"x\"}}\n",
    );
    let out = conform_batch(&schema, &b, "batch").unwrap();
    assert_eq!(out.schema(), schema.arrow_schema());
    let r = out.column(1).as_struct();
    assert_eq!(
        r.column(0)
            .as_primitive::<arrow::datatypes::Int32Type>()
            .value(0),
        7
    );
    assert_eq!(r.column(1).as_string::<i32>().value(0), "x");
    // {a, c}: `c` is not a field of ROW<a, b>; an error naming it, never positional.
    let t = row_of(vec![
        Field::new("a", A::Int32, true),
        Field::new("c", A::Utf8, true),
    ]);
    let b = batch(
        vec![Field::new("id", A::Int64, false), Field::new("r", t, true)],
        "{\"id\": 1, \"r\": {\"a\": 7, \"c\": \"x\"}}\n",
    );
    err_naming(&schema, &b, &["unknown field \"c\" in r", "column r"]);
}

#[test]
fn null_in_not_null_nested_field_names_path_and_row() {
    let schema = table(
        "id BIGINT NOT NULL, l ARRAY<ROW<x BIGINT NOT NULL>>",
        &["id"],
    );
    let t = A::List(Arc::new(Field::new(
        "element",
        row_of(vec![Field::new("x", A::Int64, true)]),
        true,
    )));
    let b = batch(
        vec![Field::new("id", A::Int64, false), Field::new("l", t, true)],
        "{\"id\": 1, \"l\": [{\"x\": 1}]}\n{\"id\": 2, \"l\": [{\"x\": 2}, {\"x\": null}]}\n",
    );
    err_naming(
        &schema,
        &b,
        &["row 2, column l[].x", "NOT NULL field l[].x"],
    );
}

#[test]
fn null_primary_key_names_column_and_row() {
    let schema = table("id BIGINT NOT NULL, v STRING", &["id"]);
    let b = one("id", Arc::new(Int64Array::from(vec![Some(1), None])));
    err_naming(
        &schema,
        &b,
        &["row 2, column id", "NOT NULL column id (primary key)"],
    );
}

#[test]
fn decimal_beyond_precision_is_an_error_even_with_the_tables_arrow_type() {
    let schema = table("d DECIMAL(5, 2)", &[]);
    // The Arrow type is the table's own, but 1234.56 has 6 digits.
    let b = one("d", decimals(&[12_345, 123_456], 5, 2));
    err_naming(
        &schema,
        &b,
        &["row 2, column d", "does not fit DECIMAL(5, 2)"],
    );
    // Narrowing the scale must not drop digits.
    let b = one("d", decimals(&[1_250, 1_255], 10, 3));
    err_naming(&schema, &b, &["row 2, column d", "would lose digits"]);
}

#[test]
fn too_long_text_top_level_and_nested() {
    let schema = table("s VARCHAR(3), r ROW<t CHAR(2)>", &[]);
    let b = one("s", Arc::new(StringArray::from(vec!["abc", "abcd"])));
    err_naming(&schema, &b, &["row 2, column s", "longer than VARCHAR(3)"]);
    let t = row_of(vec![Field::new("t", A::Utf8, true)]);
    let b = batch(
        vec![Field::new("r", t, true)],
        "{\"r\": {\"t\": \"ab\"}}\n{\"r\": null}\n{\"r\": {\"t\": \"abc\"}}\n",
    );
    err_naming(&schema, &b, &["row 3, column r.t", "longer than CHAR(2)"]);
}

#[test]
fn integers_out_of_range_and_unknown_or_missing_columns() {
    let schema = table("id BIGINT NOT NULL, i INT, v STRING", &["id"]);
    let b = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", A::Int64, false),
            Field::new("i", A::Int64, true),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1, 2])),
            Arc::new(Int64Array::from(vec![1, 3_000_000_000])),
        ],
    )
    .unwrap();
    err_naming(&schema, &b, &["row 2, column i", "does not fit INT"]);
    let b = one("zz", Arc::new(Int64Array::from(vec![1])));
    assert!(err(&schema, &b).contains("unknown column \"zz\""));
    let b = one("v", Arc::new(StringArray::from(vec!["x"])));
    let e = err(&schema, &b);
    assert!(e.contains("\"id\"") && e.contains("missing"), "{e}");
}

#[test]
fn a_batch_with_the_tables_schema_is_still_checked() {
    // NOT NULL inside a ROW is not part of Arrow's batch validation.
    let schema = table("r ROW<a INT NOT NULL>", &[]);
    let target = schema.arrow_schema();
    let A::Struct(fields) = target.field(0).data_type().clone() else {
        panic!()
    };
    let a: ArrayRef = Arc::new(arrow::array::Int32Array::from(vec![Some(1), None]));
    // Build the struct without validation of the child's declared nullability.
    let relaxed = Fields::from(vec![fields[0].as_ref().clone().with_nullable(true)]);
    let r = arrow::array::StructArray::new(relaxed, vec![a], None);
    let b = one("r", Arc::new(r));
    let e = with_table_schema(&schema, &b).unwrap_err().to_string();
    assert!(e.contains("row 2, column r.a"), "{e}");
}

#[test]
fn text_columns_are_read_with_the_value_codec() {
    let schema = table(
        "d DECIMAL(5, 2), dt DATE, ts TIMESTAMP(3), z TIMESTAMP(3) WITH LOCAL TIME ZONE, b BOOLEAN",
        &[],
    );
    let text = |name: &str, v: &[Option<&str>]| one(name, Arc::new(StringArray::from(v.to_vec())));
    let out = conform_batch(&schema, &text("d", &[Some("1.5e1"), None]), "batch").unwrap();
    let d = out
        .column(0)
        .as_primitive::<arrow::datatypes::Decimal128Type>();
    assert_eq!((d.value(0), d.is_null(1)), (1500, true));
    // Digits beyond the scale are an error, not rounded as Arrow's cast would.
    let e = err(&schema, &text("d", &[Some("1.00"), Some("1.005")]));
    assert!(
        e.contains("row 2, column d") && e.contains("more than 2 digits"),
        "{e}"
    );
    let out = conform_batch(&schema, &text("dt", &[Some("2024-02-29")]), "batch").unwrap();
    assert_eq!(
        out.column(1)
            .as_primitive::<arrow::datatypes::Date32Type>()
            .value(0),
        19782
    );
    assert!(err(&schema, &text("dt", &[Some("2023-02-29")])).contains("not a date"));
    let e = err(&schema, &text("ts", &[Some("2024-01-31T13:45:00.1234")]));
    assert!(e.contains("fraction digits"), "{e}");
    assert!(err(&schema, &text("ts", &[Some("2024-01-31T13:45:00Z")])).contains("time zone"));
    let out = conform_batch(
        &schema,
        &text("z", &[Some("2024-01-31T13:45:00+02:00")]),
        "batch",
    )
    .unwrap();
    assert_eq!(
        out.column(3).data_type(),
        &schema.arrow_schema().field(3).data_type().clone()
    );
    let z = out
        .column(3)
        .as_primitive::<arrow::datatypes::TimestampMillisecondType>();
    assert_eq!(z.value(0), 1_706_701_500_000);
    assert!(err(&schema, &text("b", &[Some("yes")])).contains("BOOLEAN"));
}
