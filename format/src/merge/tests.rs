//! Unit tests of the merge engines over hand-built Arrow batches.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Decimal128Array, Int32Array, Int64Array, StringArray};
use arrow::datatypes::{DataType as A, Field, Schema};
use arrow::record_batch::RecordBatch;

use super::*;
use crate::types::parse_columns;

/// Table (k INT NOT NULL PK, a INT, b STRING, c BIGINT, d BOOLEAN, e DECIMAL(10, 2)).
fn schema(opts: &[(&str, &str)]) -> (TableSchema, TableOptions) {
    let options: BTreeMap<String, String> = opts
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let s = TableSchema::new(
        parse_columns("k INT, a INT, b STRING, c BIGINT, d BOOLEAN, e DECIMAL(10, 2)").unwrap(),
        vec![],
        vec!["k".into()],
        options.clone(),
        0,
    )
    .unwrap();
    let o = TableOptions::parse(&options, true).unwrap();
    (s, o)
}

type Row = (
    Option<i32>,
    Option<&'static str>,
    Option<i64>,
    Option<bool>,
    Option<i128>,
);

fn batch(rows: &[Row]) -> RecordBatch {
    let k: ArrayRef = Arc::new(Int32Array::from(vec![1; rows.len()]));
    let a: ArrayRef = Arc::new(Int32Array::from(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
    ));
    let b: ArrayRef = Arc::new(StringArray::from(
        rows.iter().map(|r| r.1).collect::<Vec<_>>(),
    ));
    let c: ArrayRef = Arc::new(Int64Array::from(
        rows.iter().map(|r| r.2).collect::<Vec<_>>(),
    ));
    let d: ArrayRef = Arc::new(BooleanArray::from(
        rows.iter().map(|r| r.3).collect::<Vec<_>>(),
    ));
    let e: ArrayRef = Arc::new(
        Decimal128Array::from(rows.iter().map(|r| r.4).collect::<Vec<_>>())
            .with_precision_and_scale(10, 2)
            .unwrap(),
    );
    let fields = vec![
        Field::new("k", A::Int32, false),
        Field::new("a", A::Int32, true),
        Field::new("b", A::Utf8, true),
        Field::new("c", A::Int64, true),
        Field::new("d", A::Boolean, true),
        Field::new("e", A::Decimal128(10, 2), true),
    ];
    RecordBatch::try_new(Arc::new(Schema::new(fields)), vec![k, a, b, c, d, e]).unwrap()
}

const COLS: [&str; 6] = ["k", "a", "b", "c", "d", "e"];

/// Merges all rows of `rows` (one key, in order) and renders the result as Datums.
fn run(
    opts: &[(&str, &str)],
    rows: &[Row],
    kinds: &[RowKind],
) -> Result<Option<(RowKind, Vec<Option<Datum>>)>> {
    let (s, o) = schema(opts);
    let names: Vec<String> = COLS.iter().map(|c| c.to_string()).collect();
    let mut f = MergeFunction::new(&s, &o, &names)?;
    let b = batch(rows);
    let batches = [b];
    let refs: Vec<(usize, usize)> = (0..rows.len()).map(|r| (0, r)).collect();
    let columns: Vec<usize> = (0..6).collect();
    let types: Vec<DataType> = s.fields.iter().map(|f| f.data_type.clone()).collect();
    let v = ArrowRecords {
        batches: &batches,
        refs: &refs,
        columns: &columns,
        types: &types,
    };
    Ok(match f.merge(kinds, &v)? {
        MergeOutcome::Nothing => None,
        MergeOutcome::Record(i) => {
            Some((kinds[i], (0..6).map(|c| v.datum(i, c).unwrap()).collect()))
        }
        MergeOutcome::Row(kind) => {
            let mut out = vec![];
            for (c, cell) in f.cells().iter().enumerate() {
                out.push(match cell {
                    Cell::Null => None,
                    Cell::Input(r) => v.datum(*r, c)?,
                    Cell::Value(d) => Some(d.clone()),
                });
            }
            // Computed values must convert back to Arrow.
            for (c, t) in types.iter().enumerate() {
                datums_to_array(&[out[c].clone()], t).unwrap();
            }
            Some((kind, out))
        }
    })
}

use crate::types::DataType;
use Datum::{BigInt, Bool, Decimal, Int};
use RowKind::*;

fn s(v: &str) -> Datum {
    Datum::String(v.into())
}

fn vals(r: &(RowKind, Vec<Option<Datum>>)) -> Vec<Option<Datum>> {
    r.1.clone()
}

#[test]
fn deduplicate_keeps_the_last_record() {
    let rows = [
        (Some(10), Some("x"), None, None, None),
        (Some(1), None, None, None, None),
    ];
    let r = run(&[], &rows, &[Insert, Insert]).unwrap().unwrap();
    assert_eq!(vals(&r)[1], Some(Int(1)));
    assert_eq!(vals(&r)[2], None);
    // A trailing delete wins (and a batch reader then drops the key).
    let r = run(&[], &rows, &[Insert, Delete]).unwrap().unwrap();
    assert_eq!(r.0, Delete);
    // ignore-delete skips it.
    let r = run(&[("ignore-delete", "true")], &rows, &[Insert, Delete])
        .unwrap()
        .unwrap();
    assert_eq!((r.0, vals(&r)[1].clone()), (Insert, Some(Int(10))));
    let r = run(
        &[("deduplicate.ignore-delete", "true")],
        &rows,
        &[Delete, Delete],
    )
    .unwrap();
    assert!(r.is_none());
}

#[test]
fn first_row_keeps_the_first_record() {
    let rows = [
        (Some(10), Some("x"), None, None, None),
        (Some(1), None, None, None, None),
    ];
    let o = [("merge-engine", "first-row")];
    let r = run(&o, &rows, &[Insert, Insert]).unwrap().unwrap();
    assert_eq!(vals(&r)[1], Some(Int(10)));
    assert!(run(&o, &rows, &[Delete, Insert])
        .unwrap_err()
        .to_string()
        .contains("ignore-delete"));
    let o = [("merge-engine", "first-row"), ("ignore-delete", "true")];
    let r = run(&o, &rows, &[Delete, Insert]).unwrap().unwrap();
    assert_eq!(vals(&r)[1], Some(Int(1)));
}

#[test]
fn partial_update_takes_the_latest_non_null_per_column() {
    let o = [("merge-engine", "partial-update")];
    let rows = [
        (Some(10), Some("x"), Some(5), None, None),
        (Some(1), None, None, Some(true), None),
        (None, None, Some(7), None, None),
    ];
    let r = run(&o, &rows, &[Insert, Insert, Insert]).unwrap().unwrap();
    assert_eq!(r.0, Insert);
    assert_eq!(
        vals(&r),
        vec![
            Some(Int(1)),
            Some(Int(1)),
            Some(s("x")),
            Some(BigInt(7)),
            Some(Bool(true)),
            None
        ]
    );
    // Deletes are rejected by default, skipped with ignore-delete, row-removing on request.
    assert!(run(&o, &rows, &[Insert, Delete, Insert]).is_err());
    let o2 = [
        ("merge-engine", "partial-update"),
        ("partial-update.ignore-delete", "true"),
    ];
    let r = run(&o2, &rows, &[Insert, Delete, Insert]).unwrap().unwrap();
    assert_eq!(vals(&r)[1], Some(Int(10)));
    assert_eq!(vals(&r)[3], Some(BigInt(7)));
    let r = run(&o2, &rows[..2], &[Delete, Delete]).unwrap().unwrap();
    assert_eq!(r.0, Delete, "only retractions: nothing visible");
    let o3 = [
        ("merge-engine", "partial-update"),
        ("partial-update.remove-record-on-delete", "true"),
    ];
    let r = run(&o3, &rows, &[Insert, Delete, Insert]).unwrap().unwrap();
    assert_eq!(r.0, Insert);
    // After the delete the row restarts from the delete record's values.
    assert_eq!(vals(&r)[1], Some(Int(1)));
    assert_eq!(vals(&r)[2], None);
    let r = run(&o3, &rows[..2], &[Insert, Delete]).unwrap().unwrap();
    assert_eq!(r.0, Delete);
    let e = run(
        &[
            ("merge-engine", "partial-update"),
            ("fields.a.sequence-group", "b"),
        ],
        &rows,
        &[Insert, Insert, Insert],
    );
    assert!(matches!(e, Err(Error::Unsupported(_))));
}

#[test]
fn aggregation_functions() {
    let rows = [
        (Some(10), Some("x"), Some(5), Some(true), Some(150)),
        (Some(1), Some("y"), None, Some(false), Some(200)),
        (None, Some("x"), Some(7), None, None),
    ];
    let kinds = [Insert, Insert, Insert];
    // Functions of columns a to e, in that order.
    let agg = |functions: [&str; 5]| {
        let mut o = vec![("merge-engine".to_string(), "aggregation".to_string())];
        for (column, f) in ["a", "b", "c", "d", "e"].into_iter().zip(functions) {
            o.push((format!("fields.{column}.aggregate-function"), f.to_string()));
        }
        o
    };
    let go = |o: Vec<(String, String)>, kinds: &[RowKind]| {
        let o: Vec<(&str, &str)> = o.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run(&o, &rows, kinds)
    };
    let cases = [
        (
            ["sum", "listagg", "sum", "bool_and", "sum"],
            [Int(11), s("x,y,x"), BigInt(12), Bool(false), Decimal(350)],
        ),
        (
            ["max", "min", "min", "bool_or", "product"],
            [Int(10), s("x"), BigInt(5), Bool(true), Decimal(300)],
        ),
        (
            [
                "first_value",
                "last_value",
                "first_non_null_value",
                "last_non_null_value",
                "max",
            ],
            [Int(10), s("x"), BigInt(5), Bool(false), Decimal(200)],
        ),
    ];
    for (functions, want) in cases {
        let r = go(agg(functions), &kinds).unwrap().unwrap();
        let want: Vec<_> = std::iter::once(Int(1)).chain(want).map(Some).collect();
        assert_eq!(vals(&r), want, "{functions:?}");
    }
    // Default function: last_non_null_value.
    let r = run(&[("merge-engine", "aggregation")], &rows, &kinds)
        .unwrap()
        .unwrap();
    assert_eq!(vals(&r)[1], Some(Int(1)));
    assert_eq!(vals(&r)[5], Some(Decimal(200)));
    let r = run(
        &[
            ("merge-engine", "aggregation"),
            ("fields.default-aggregate-function", "sum"),
            ("fields.b.aggregate-function", "last_value"),
            ("fields.d.aggregate-function", "bool_or"),
        ],
        &rows,
        &kinds,
    )
    .unwrap()
    .unwrap();
    assert_eq!(vals(&r)[1], Some(Int(11)));
    // Unknown and non-Paimon functions are named in the error.
    let e = go(agg(["count", "listagg", "sum", "bool_and", "sum"]), &kinds).unwrap_err();
    assert!(
        matches!(e, Error::Unsupported(_)) && e.to_string().contains("count"),
        "{e}"
    );
    let e = go(agg(["rbm32", "listagg", "sum", "bool_and", "sum"]), &kinds).unwrap_err();
    assert!(e.to_string().contains("rbm32"), "{e}");
    assert!(go(
        agg(["bool_and", "listagg", "sum", "bool_and", "sum"]),
        &kinds
    )
    .is_err());
}

#[test]
fn aggregation_retractions() {
    let rows = [
        (Some(10), Some("x"), Some(5), Some(true), Some(150)),
        (Some(4), Some("y"), Some(2), Some(false), Some(100)),
    ];
    let o = [
        ("merge-engine", "aggregation"),
        ("fields.a.aggregate-function", "sum"),
        ("fields.c.aggregate-function", "product"),
        ("fields.e.aggregate-function", "sum"),
        ("fields.d.aggregate-function", "bool_or"),
        ("fields.d.ignore-retract", "true"),
    ];
    let r = run(&o, &rows, &[Insert, UpdateBefore]).unwrap().unwrap();
    assert_eq!(r.0, Insert);
    // sum subtracts, product divides, last_non_null_value (b) becomes null, ignore-retract keeps.
    assert_eq!(
        vals(&r),
        vec![
            Some(Int(1)),
            Some(Int(6)),
            None,
            Some(BigInt(2)),
            Some(Bool(true)),
            Some(Decimal(50))
        ]
    );
    // A retraction first: sum negates.
    let r = run(&o, &rows, &[Delete, Insert]).unwrap().unwrap();
    assert_eq!(vals(&r)[1], Some(Int(-6)));
    // Functions without a retract rule fail unless ignore-retract is set.
    let o2 = [
        ("merge-engine", "aggregation"),
        ("fields.a.aggregate-function", "max"),
    ];
    let e = run(&o2, &rows, &[Insert, Delete]).unwrap_err().to_string();
    assert!(e.contains("ignore-retract") && e.contains("max"), "{e}");
    // remove-record-on-delete turns the row into a deletion.
    let o3 = [
        ("merge-engine", "aggregation"),
        ("aggregation.remove-record-on-delete", "true"),
    ];
    let r = run(&o3, &rows, &[Insert, Delete]).unwrap().unwrap();
    assert_eq!(r.0, Delete);
}

#[test]
fn a_single_record_is_returned_unchanged() {
    let rows = [(Some(10), None, None, None, None)];
    for engine in ["deduplicate", "partial-update", "aggregation", "first-row"] {
        let r = run(&[("merge-engine", engine)], &rows, &[Delete])
            .unwrap()
            .unwrap();
        assert_eq!(r.0, Delete, "{engine}");
    }
}
