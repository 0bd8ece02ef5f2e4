//! Tests of [`super`]: stats modes, the Arrow collector, truncation and the SimpleStats codec.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int32Array, Int64Array, ListArray, NullArray, StringArray, StringViewArray,
    TimestampMicrosecondArray, TimestampNanosecondArray,
};
use arrow::datatypes::Int32Type;

use super::*;
use crate::types::parse_type;

fn ty(s: &str) -> DataType {
    parse_type(s).unwrap()
}

fn collect(t: &str, arrays: &[ArrayRef]) -> ColumnStats {
    let mut c = ColumnStats::new(ty(t));
    for a in arrays {
        c.update(a.as_ref()).unwrap();
    }
    c
}

fn s(v: &str) -> Option<Datum> {
    Some(Datum::String(v.into()))
}

#[test]
fn stats_mode_parse_and_display() {
    assert_eq!(StatsMode::default(), StatsMode::Truncate(16));
    for (text, mode) in [
        ("none", StatsMode::None),
        ("COUNTS", StatsMode::Counts),
        (" Full ", StatsMode::Full),
        ("truncate(16)", StatsMode::Truncate(16)),
        ("TRUNCATE(32)", StatsMode::Truncate(32)),
    ] {
        assert_eq!(text.parse::<StatsMode>().unwrap(), mode, "{text}");
        assert_eq!(mode.to_string().parse::<StatsMode>().unwrap(), mode);
    }
    assert_eq!(StatsMode::Truncate(8).to_string(), "truncate(8)");
    for bad in ["truncate(0)", "truncate()", "truncate(x)", "some", ""] {
        assert!(bad.parse::<StatsMode>().is_err(), "{bad}");
    }
}

#[test]
fn primitive_columns_across_batches() {
    let c = collect(
        "INT",
        &[
            Arc::new(Int32Array::from(vec![Some(5), None, Some(-3)])),
            Arc::new(Int32Array::from(vec![Some(9), Some(0)])),
            Arc::new(Int32Array::from(vec![None, None])),
            Arc::new(Int32Array::from(Vec::<i32>::new())),
        ],
    );
    let f = c.finish(StatsMode::Full);
    assert_eq!(
        f,
        FieldStats {
            min: Some(Datum::Int(-3)),
            max: Some(Datum::Int(9)),
            null_count: Some(3)
        }
    );
    // Non-string values are unaffected by truncation.
    assert_eq!(c.finish(StatsMode::Truncate(1)), f);
    assert_eq!(
        c.finish(StatsMode::Counts),
        FieldStats {
            min: None,
            max: None,
            null_count: Some(3)
        }
    );
    assert_eq!(c.finish(StatsMode::None), FieldStats::default());
}

#[test]
fn all_supported_arrow_types() {
    let check = |t: &str, a: ArrayRef, lo: Datum, hi: Datum| {
        let f = collect(t, &[a]).finish(StatsMode::Full);
        assert_eq!((f.min, f.max), (Some(lo), Some(hi)), "{t}");
    };
    check(
        "BOOLEAN",
        Arc::new(BooleanArray::from(vec![true, false])),
        Datum::Bool(false),
        Datum::Bool(true),
    );
    check(
        "BIGINT",
        Arc::new(Int64Array::from(vec![7, -7])),
        Datum::BigInt(-7),
        Datum::BigInt(7),
    );
    check(
        "FLOAT",
        Arc::new(Float32Array::from(vec![1.5, -0.5])),
        Datum::Float(-0.5),
        Datum::Float(1.5),
    );
    check(
        "DOUBLE",
        Arc::new(Float64Array::from(vec![2.0, 3.0])),
        Datum::Double(2.0),
        Datum::Double(3.0),
    );
    check(
        "DECIMAL(20, 3)",
        Arc::new(
            Decimal128Array::from(vec![-1000, 12_345_678_901_234_567_891])
                .with_precision_and_scale(20, 3)
                .unwrap(),
        ),
        Datum::Decimal(-1000),
        Datum::Decimal(12_345_678_901_234_567_891),
    );
    check(
        "DATE",
        Arc::new(Date32Array::from(vec![19724, 1])),
        Datum::Date(1),
        Datum::Date(19724),
    );
    check(
        "TIMESTAMP(6)",
        Arc::new(TimestampMicrosecondArray::from(vec![
            1_704_067_200_123_456,
            -1,
        ])),
        Datum::Timestamp {
            millis: -1,
            nanos: 999_000,
        },
        Datum::Timestamp {
            millis: 1_704_067_200_123,
            nanos: 456_000,
        },
    );
    check(
        "TIMESTAMP(9) WITH LOCAL TIME ZONE",
        Arc::new(TimestampNanosecondArray::from(vec![1_000_000_001]).with_timezone("UTC")),
        Datum::Timestamp {
            millis: 1000,
            nanos: 1,
        },
        Datum::Timestamp {
            millis: 1000,
            nanos: 1,
        },
    );
    // Binary columns are tracked but, as in Java, stored without minimum and maximum.
    let c = collect(
        "BYTES",
        &[Arc::new(BinaryArray::from(vec![&b"\x01\x02"[..], b"\xff"]))],
    );
    assert_eq!(c.min(), Some(&Datum::Bytes(vec![1, 2])));
    assert_eq!(c.max(), Some(&Datum::Bytes(vec![0xff])));
    let f = c.finish(StatsMode::Full);
    assert_eq!((f.min, f.max, f.null_count), (None, None, Some(0)));
    check(
        "STRING",
        Arc::new(StringViewArray::from(vec!["b", "a"])),
        Datum::String("a".into()),
        Datum::String("b".into()),
    );
}

#[test]
fn wrong_arrow_type_is_an_error() {
    let mut c = ColumnStats::new(ty("INT"));
    let e = c
        .update(&Int64Array::from(vec![1]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("INT column") && e.contains("Int64"), "{e}");
}

#[test]
fn null_and_nested_columns() {
    let c = collect("STRING", &[Arc::new(NullArray::new(4))]);
    assert_eq!(
        c.finish(StatsMode::Full),
        FieldStats {
            min: None,
            max: None,
            null_count: Some(4)
        }
    );
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1)]),
        None,
        Some(vec![]),
    ]);
    let c = collect("ARRAY<INT>", &[Arc::new(list)]);
    assert_eq!(
        c.finish(StatsMode::Full),
        FieldStats {
            min: None,
            max: None,
            null_count: Some(1)
        }
    );
    assert_eq!(c.finish(StatsMode::None), FieldStats::default());
}

#[test]
fn string_truncation_like_java() {
    let long = "this is a very long string";
    let c = collect(
        "STRING",
        &[Arc::new(StringArray::from(vec![
            Some("short"),
            Some(long),
            None,
        ]))],
    );
    let f = c.finish(StatsMode::Truncate(16));
    assert_eq!(f.min, s("short"));
    assert_eq!(f.max, s("this is a very m"));
    assert_eq!(f.null_count, Some(1));
    // Untruncated under full; short values are kept whole.
    assert_eq!(c.finish(StatsMode::Full).max, s(long));
    assert_eq!(c.finish(StatsMode::Truncate(26)).max, s(long));
    // Minimum is cut by characters, not bytes.
    let c = collect("STRING", &[Arc::new(StringArray::from(vec!["ééé", "ééé"]))]);
    let f = c.finish(StatsMode::Truncate(2));
    assert_eq!(f.min, s("éé"));
    assert_eq!(f.max, s("éê"));
}

#[test]
fn max_increment_skips_unincrementable_chars() {
    let top = format!("a{}{}x", char::MAX, char::MAX);
    let c = collect("STRING", &[Arc::new(StringArray::from(vec![top.as_str()]))]);
    assert_eq!(c.finish(StatsMode::Truncate(3)).max, s("b"));
    // Nothing can be incremented: min and max are both dropped, the null count stays.
    let all_max = format!("{}{}", char::MAX, char::MAX);
    let c = collect(
        "STRING",
        &[Arc::new(StringArray::from(vec![
            Some(all_max.as_str()),
            None,
        ]))],
    );
    assert_eq!(
        c.finish(StatsMode::Truncate(1)),
        FieldStats {
            min: None,
            max: None,
            null_count: Some(1)
        }
    );
    // The surrogate gap is skipped.
    let c = collect("STRING", &[Arc::new(StringArray::from(vec!["\u{D7FF}zz"]))]);
    assert_eq!(c.finish(StatsMode::Truncate(1)).max, s("\u{E000}"));
}

#[test]
fn binary_columns_store_no_bounds_in_any_mode() {
    let c = collect(
        "BYTES",
        &[Arc::new(BinaryArray::from(vec![
            Some(&[1u8, 2, 3][..]),
            None,
            Some(&[9, 0xff, 0xff, 4]),
        ]))],
    );
    for mode in [StatsMode::Full, StatsMode::Truncate(2), StatsMode::Counts] {
        let f = c.finish(mode);
        assert_eq!(
            (f.min, f.max, f.null_count),
            (None, None, Some(1)),
            "{mode}"
        );
    }
}

#[test]
fn merge_collectors() {
    let mut a = collect("BIGINT", &[Arc::new(Int64Array::from(vec![Some(3), None]))]);
    let b = collect("BIGINT", &[Arc::new(Int64Array::from(vec![-1, 10]))]);
    a.merge(&b);
    assert_eq!(a.min(), Some(&Datum::BigInt(-1)));
    assert_eq!(a.max(), Some(&Datum::BigInt(10)));
    assert_eq!(a.null_count(), 1);
}

#[test]
fn simple_stats_round_trip_per_mode() {
    let types = vec![
        ty("INT"),
        ty("STRING"),
        ty("DECIMAL(38, 18)"),
        ty("ARRAY<INT>"),
    ];
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)]), None]);
    let cols = vec![
        collect("INT", &[Arc::new(Int32Array::from(vec![Some(4), None]))]),
        collect(
            "STRING",
            &[Arc::new(StringArray::from(vec![
                "abcdefghijklmnopqrstuvwxyz",
                "b",
            ]))],
        ),
        collect(
            "DECIMAL(38, 18)",
            &[Arc::new(
                Decimal128Array::from(vec![None::<i128>, None])
                    .with_precision_and_scale(38, 18)
                    .unwrap(),
            )],
        ),
        collect("ARRAY<INT>", &[Arc::new(list)]),
    ];

    let full = SimpleStats::from_columns(&cols, &types, StatsMode::Full).unwrap();
    assert_eq!(full.null_counts, vec![Some(1), Some(0), Some(2), Some(1)]);
    let (min, max) = full.decode(&types).unwrap();
    assert_eq!(
        min,
        vec![
            Some(Datum::Int(4)),
            s("abcdefghijklmnopqrstuvwxyz"),
            None,
            None
        ]
    );
    assert_eq!(max, vec![Some(Datum::Int(4)), s("b"), None, None]);
    // The all-null wide decimal keeps Java's reserved 16 bytes.
    let row = BinaryRow::deserialize(&full.min_values).unwrap();
    assert_eq!(row.data().len(), 8 + 4 * 8 + 32 + 16);

    let trunc = SimpleStats::from_columns(&cols, &types, StatsMode::Truncate(4)).unwrap();
    let (min, max) = trunc.decode(&types).unwrap();
    assert_eq!(min[1], s("abcd"));
    assert_eq!(max[1], s("b"));

    let counts = SimpleStats::from_columns(&cols, &types, StatsMode::Counts).unwrap();
    assert_eq!(counts.null_counts, vec![Some(1), Some(0), Some(2), Some(1)]);
    let (min, max) = counts.decode(&types).unwrap();
    assert!(min.iter().chain(&max).all(Option::is_none));

    let none = SimpleStats::from_columns(&cols, &types, StatsMode::None).unwrap();
    assert_eq!(none.null_counts, vec![None; 4]);
    assert_eq!(BinaryRow::deserialize(&none.min_values).unwrap().arity(), 4);

    let mixed = SimpleStats::from_columns_with_modes(
        &cols,
        &types,
        &[
            StatsMode::Full,
            StatsMode::None,
            StatsMode::Counts,
            StatsMode::Full,
        ],
    )
    .unwrap();
    assert_eq!(mixed.null_counts, vec![Some(1), None, Some(2), Some(1)]);
    assert!(SimpleStats::from_columns(&cols, &types[..2], StatsMode::Full).is_err());
}

#[test]
fn empty_stats() {
    let e = SimpleStats::empty();
    assert_eq!(e.min_values, vec![0u8; 12]);
    assert_eq!(e.max_values, vec![0u8; 12]);
    assert!(e.null_counts.is_empty());
    // Empty rows decode as "unknown" for any columns.
    let (min, max) = e.decode(&[ty("INT")]).unwrap();
    assert_eq!((min, max), (vec![None], vec![None]));
    assert!(
        SimpleStats::from_columns(&[], &[], StatsMode::Full)
            .unwrap()
            .min_values
            == e.min_values
    );
}

#[test]
fn decode_rejects_garbage() {
    let bad = SimpleStats {
        min_values: vec![],
        max_values: vec![],
        null_counts: vec![],
    };
    assert!(bad.decode(&[]).is_err());
    let two = SimpleStats::from_columns(
        &[ColumnStats::new(ty("INT")), ColumnStats::new(ty("INT"))],
        &[ty("INT"), ty("INT")],
        StatsMode::Full,
    )
    .unwrap();
    assert!(two.decode(&[ty("INT")]).is_err());
}
