//! Unit tests of parsing, binding, evaluation and pruning.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use streamhouse_format::types::parse_columns;

use super::*;

fn schema() -> TableSchema {
    TableSchema::new(
        parse_columns(
            "id BIGINT NOT NULL, name STRING, price DECIMAL(10, 2), d DATE, ts TIMESTAMP(6), ok BOOLEAN, x DOUBLE, t TINYINT",
        )
        .unwrap(),
        vec![],
        vec!["id".into()],
        Default::default(),
        0,
    )
    .unwrap()
}

fn p(text: &str) -> Predicate {
    parse_predicate(text, &schema()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn err(text: &str) -> String {
    parse_predicate(text, &schema()).unwrap_err().to_string()
}

#[test]
fn parses_every_form_and_round_trips_through_display() {
    for text in [
        "id = 1",
        "id BETWEEN 10 AND 20 AND name = 'a'",
        "id <> 3 OR NOT (id >= 4)",
        "5 < id",
        "id IN (1, 2, 3) AND name NOT IN ('x', 'y''s')",
        "name IS NULL OR name IS NOT NULL",
        "price <= 12.5 AND d >= DATE '2024-01-31' AND ts < '2024-01-31 13:45:00.123456'",
        "ok = TRUE AND x > -1.5e3 AND t != -128",
        "id NOT BETWEEN 1 AND 2",
        "TRUE",
        "\"id\" = 7",
    ] {
        let a = p(text);
        let back = p(&a.to_string());
        assert_eq!(a, back, "{text} → {a}");
    }
    assert_eq!(p("5 < id"), p("id > 5"));
}

#[test]
fn errors_point_at_the_problem() {
    for (text, says) in [
        ("idd > 5", &["unknown column \"idd\"", "at character 1"][..]),
        ("id > 5 AND nme = 'a'", &["\"nme\"", "at character 12"]),
        ("id > ", &["expected a column or a value"]),
        ("id = 'abc'", &["does not fit column id"]),
        ("t = 300", &["out of range"]),
        ("price = 1.234", &["more than 2 digits after"]),
        ("name = 'unterminated", &["unterminated"]),
        ("id = NULL", &["IS NULL"]),
        ("(id = 1", &["expected ')'"]),
        ("id = 1 name = 2", &["AND, OR or the end"]),
        ("id ~ 1", &["unexpected character"]),
        ("", &["empty"]),
    ] {
        let e = err(text);
        for s in says {
            assert!(e.contains(s), "{text:?}: {e}");
        }
    }
}

fn batch() -> RecordBatch {
    let id: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, 4]));
    let name: ArrayRef = Arc::new(StringArray::from(vec![
        Some("a"),
        None,
        Some("c"),
        Some("a"),
    ]));
    RecordBatch::try_from_iter_with_nullable([("id", id, false), ("name", name, true)]).unwrap()
}

fn eval(text: &str) -> Vec<bool> {
    let m = p(text).evaluate(&batch()).unwrap();
    (0..m.len()).map(|i| m.is_valid(i) && m.value(i)).collect()
}

#[test]
fn evaluation_is_three_valued() {
    assert_eq!(eval("id BETWEEN 2 AND 3"), [false, true, true, false]);
    assert_eq!(eval("name = 'a'"), [true, false, false, true]);
    // NULL <> 'a' is unknown, and so is its negation.
    assert_eq!(eval("name <> 'a'"), [false, false, true, false]);
    assert_eq!(eval("NOT (name = 'a')"), [false, false, true, false]);
    assert_eq!(eval("name IS NULL OR id = 4"), [false, true, false, true]);
    assert_eq!(eval("id NOT IN (1, 3)"), [false, true, false, true]);
    assert_eq!(eval("name = 'a' OR id > 1"), [true, true, true, true]);
}

fn range(min: i64, max: i64, nulls: i64) -> ColumnRange {
    ColumnRange {
        min: Some(Datum::BigInt(min)),
        max: Some(Datum::BigInt(max)),
        null_count: Some(nulls),
    }
}

#[test]
fn pruning_is_sound_on_bounds() {
    let may = |text: &str, r: ColumnRange| p(text).may_match(&|_| Some(r.clone()), Some(10));
    assert!(!may("id > 10", range(0, 10, 0)));
    assert!(may("id >= 10", range(0, 10, 0)));
    assert!(!may("id < 0", range(0, 10, 0)));
    assert!(!may("id = 11 OR id = -1", range(0, 10, 0)));
    assert!(may("id IN (11, 5)", range(0, 10, 0)));
    assert!(!may("id <> 5", range(5, 5, 0)));
    assert!(!may("NOT (id BETWEEN 0 AND 10)", range(0, 10, 0)));
    assert!(may("NOT (id BETWEEN 1 AND 10)", range(0, 10, 0)));
    assert!(!may("id IS NULL", range(0, 10, 0)));
    assert!(may("id IS NOT NULL", range(0, 10, 3)));
    // Unknown statistics never prune.
    assert!(p("id > 10").may_match(&|_| None, Some(10)));
    // Floats are never pruned by bounds.
    let f = ColumnRange {
        min: Some(Datum::Double(0.0)),
        max: Some(Datum::Double(1.0)),
        null_count: Some(0),
    };
    assert!(p("x > 5").may_match(&|_| Some(f.clone()), Some(10)));
}

#[test]
fn equality_values_pin_bucket_keys() {
    assert_eq!(
        p("id = 3 AND name = 'a'").equality_values("id"),
        Some(vec![Datum::BigInt(3)])
    );
    assert_eq!(
        p("id IN (1, 2) OR id = 5").equality_values("id"),
        Some(vec![Datum::BigInt(1), Datum::BigInt(2), Datum::BigInt(5)])
    );
    assert_eq!(p("id = 3 OR name = 'a'").equality_values("id"), None);
    assert_eq!(p("id > 3").equality_values("id"), None);
    let r = p("id = 1 AND (name = 'a' OR id = 2)").restrict_to(&|c| c == "id");
    assert_eq!(r, p("id = 1"));
}
