//! Tests of [`super`]: the worked examples of the format reference byte for byte, round trips
//! over every primitive type, and hostile input.

use proptest::prelude::*;

use super::*;
use crate::types::{parse_type, DataType, TypeKind};

/// The bytes of a hex string (white space ignored), as Java tests print them.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn ty(s: &str) -> DataType {
    parse_type(s).unwrap()
}

fn s(v: &str) -> Option<Datum> {
    Some(Datum::String(v.into()))
}

#[test]
fn empty_row() {
    let r = BinaryRow::empty();
    assert_eq!(r.serialize(), EMPTY_ROW_SERIALIZED);
    assert_eq!(BinaryRow::deserialize(&EMPTY_ROW_SERIALIZED).unwrap(), r);
    assert_eq!(BinaryRow::from_datums(&[], &[]), r);
    assert!(BinaryRow::deserialize(&[]).is_err());
}

#[test]
fn widths() {
    assert_eq!(null_bits_width(0), 8);
    assert_eq!(null_bits_width(56), 8);
    assert_eq!(null_bits_width(57), 16);
    assert_eq!(null_bits_width(120), 16);
    assert_eq!(null_bits_width(121), 24);
}

#[test]
fn single_bigint_key() {
    let r = BinaryRow::from_datums(&[Some(Datum::BigInt(9))], &[ty("BIGINT")]);
    assert_eq!(
        r.serialize(),
        hex("00000001 0000000000000000 0900000000000000")
    );
}

#[test]
fn partition_string_int() {
    let types = [ty("STRING"), ty("INT")];
    let vals = [s("2024-01-01"), Some(Datum::Int(1))];
    let r = BinaryRow::from_datums(&vals, &types);
    let expect = hex("00000002 0000000000000000 0a00000018000000 0100000000000000
         323032342d30312d3031000000000000");
    assert_eq!(r.serialize(), expect);
    let back = BinaryRow::deserialize(&expect).unwrap();
    assert_eq!(back.to_datums(&types).unwrap(), vals);
}

#[test]
fn null_and_empty_string() {
    let types = [ty("DATE"), ty("STRING"), ty("BOOLEAN")];
    let vals = [None, s(""), None];
    let r = BinaryRow::from_datums(&vals, &types);
    let expect =
        hex("00000003 0005000000000000 0000000000000000 0000000000000080 0000000000000000");
    assert_eq!(r.serialize(), expect);
    assert!(r.is_null_at(0) && !r.is_null_at(1) && r.is_null_at(2));
    assert!(r.is_null_at(3), "past the arity reads as null");
    assert_eq!(
        BinaryRow::deserialize(&expect)
            .unwrap()
            .to_datums(&types)
            .unwrap(),
        vals
    );
}

fn twelve_types() -> Vec<DataType> {
    [
        "INT",
        "STRING",
        "BOOLEAN",
        "FLOAT",
        "DECIMAL(10, 2)",
        "DECIMAL(20, 3)",
        "TIMESTAMP(3)",
        "TIMESTAMP(6)",
        "DATE",
        "BYTES",
        "SMALLINT",
        "TINYINT",
    ]
    .iter()
    .map(|t| ty(t))
    .collect()
}

#[test]
fn value_stats_max_row_over_twelve_types() {
    let ts6_millis: i64 = 1_704_067_200_123;
    let vals = vec![
        Some(Datum::Int(3)),
        s("zz"),
        Some(Datum::Bool(true)),
        Some(Datum::Float(1.5)),
        Some(Datum::Decimal(125)),
        Some(Datum::Decimal(12_345_678_901_234_567_891)),
        Some(Datum::Timestamp {
            millis: 1_704_067_200_123,
            nanos: 0,
        }),
        Some(Datum::Timestamp {
            millis: ts6_millis,
            nanos: 456_000,
        }),
        Some(Datum::Date(19724)),
        Some(Datum::Bytes(b"abcdefghij".to_vec())),
        Some(Datum::SmallInt(7)),
        Some(Datum::TinyInt(1)),
    ];
    let types = twelve_types();
    let r = BinaryRow::from_datums(&vals, &types);
    let mut expect = hex("0000000000000000
         0300000000000000 7a7a000000000082 0100000000000000 0000c03f00000000
         7d00000000000000 0900000068000000 7bf451c28c010000 40f5060078000000
         0c4d000000000000 0a00000080000000 0700000000000000 0100000000000000
         00ab54a98ceb1f0ad3 00000000000000");
    expect.extend_from_slice(&ts6_millis.to_le_bytes());
    expect.extend_from_slice(&hex("6162636465666768696a 000000000000"));
    assert_eq!(r.data(), expect.as_slice());
    assert_eq!(&r.serialize()[..4], &[0, 0, 0, 12]);
    assert_eq!(r.to_datums(&types).unwrap(), vals);
}

#[test]
fn value_stats_min_row_details() {
    let vals = vec![
        Some(Datum::Int(1)),
        s("hello world!"),
        Some(Datum::Bool(false)),
        Some(Datum::Float(-1.0)),
        Some(Datum::Decimal(-100)),
        Some(Datum::Decimal(-1000)),
        Some(Datum::Timestamp {
            millis: 0,
            nanos: 0,
        }),
        Some(Datum::Timestamp {
            millis: 0,
            nanos: 1,
        }),
        Some(Datum::Date(0)),
        Some(Datum::Bytes(vec![1, 2])),
        Some(Datum::SmallInt(-7)),
        Some(Datum::TinyInt(-1)),
    ];
    let types = twelve_types();
    let r = BinaryRow::from_datums(&vals, &types);
    let d = r.data();
    // STRING out of line at 104, 12 bytes.
    assert_eq!(&d[16..24], hex("0c00000068000000").as_slice());
    assert_eq!(
        &d[104..120],
        hex("68656c6c6f20776f726c642100000000").as_slice()
    );
    // DECIMAL(20,3) −1.000 as the two bytes fc18, in 16 reserved bytes at 120.
    assert_eq!(&d[48..56], hex("0200000078000000").as_slice());
    assert_eq!(
        &d[120..136],
        hex("fc180000000000000000000000000000").as_slice()
    );
    // BYTES 0102 inline.
    assert_eq!(&d[80..88], hex("0102000000000082").as_slice());
    assert_eq!(r.to_datums(&types).unwrap(), vals);
}

#[test]
fn null_wide_decimal_java_layout() {
    let t = ty("DECIMAL(38, 18)");
    let r = BinaryRow::from_datums(&[None], std::slice::from_ref(&t));
    let mut expect = hex("00000001 0001000000000000 0000000010000000");
    expect.extend_from_slice(&[0; 16]);
    assert_eq!(r.serialize(), expect);
    assert_eq!(r.get(0, &t).unwrap(), None);
    // Null TIMESTAMP(6) reserves 8 bytes.
    let t6 = ty("TIMESTAMP(6)");
    let r = BinaryRow::from_datums(&[None], std::slice::from_ref(&t6));
    assert_eq!(
        r.data(),
        hex("0001000000000000 0000000010000000 0000000000000000").as_slice()
    );
    // Plain set_null zeroes the slot and reserves nothing (pypaimon's layout).
    let mut w = BinaryRowWriter::new(1);
    w.set_null(0);
    assert_eq!(
        w.buffer(),
        hex("0001000000000000 0000000000000000").as_slice()
    );
}

#[test]
fn minimal_twos_complement_like_java() {
    let cases: [(i128, &str); 8] = [
        (0, "00"),
        (-1, "ff"),
        (127, "7f"),
        (128, "0080"),
        (-128, "80"),
        (-129, "ff7f"),
        (-1000, "fc18"),
        (12_345_678_901_234_567_891, "00ab54a98ceb1f0ad3"),
    ];
    for (v, h) in cases {
        let (b, start) = minimal_be_twos_complement(v);
        assert_eq!(&b[start..], hex(h).as_slice(), "{v}");
    }
    let max = 10i128.pow(38) - 1;
    let t = ty("DECIMAL(38, 0)");
    for v in [max, -max, i128::MAX, i128::MIN] {
        let r = BinaryRow::from_datums(&[Some(Datum::Decimal(v))], std::slice::from_ref(&t));
        assert_eq!(r.get(0, &t).unwrap(), Some(Datum::Decimal(v)));
    }
}

#[test]
fn writer_reuse_leaves_no_trace() {
    let mut w = BinaryRowWriter::new(2);
    w.write_bytes(0, b"a long string value");
    w.write_i64(1, -1);
    w.reset();
    w.write_bytes(0, b"ab");
    w.write_i32(1, 5);
    let fresh = BinaryRow::from_datums(&[s("ab"), Some(Datum::Int(5))], &[ty("STRING"), ty("INT")]);
    assert_eq!(w.buffer(), fresh.data());
    // Writing a value over a null clears the null bit.
    w.set_null(1);
    w.write_i32(1, 5);
    assert_eq!(w.buffer(), fresh.data());
    w.set_row_kind(3);
    assert_eq!(w.to_row().row_kind(), 3);
}

#[test]
fn type_mismatch_is_an_error() {
    let e = BinaryRow::try_from_datums(&[Some(Datum::Int(1))], &[ty("BIGINT")]);
    assert!(e.unwrap_err().to_string().contains("does not match"));
    assert!(BinaryRow::try_from_datums(&[None], &[]).is_err());
    let big = Some(Datum::Decimal(i128::from(i64::MAX) + 1));
    assert!(BinaryRow::try_from_datums(&[big], &[ty("DECIMAL(18, 0)")]).is_err());
    let bad_ts = Some(Datum::Timestamp {
        millis: 0,
        nanos: 1_000_000,
    });
    assert!(BinaryRow::try_from_datums(&[bad_ts], &[ty("TIMESTAMP(9)")]).is_err());
    assert!(BinaryRow::try_from_datums(&[Some(Datum::Int(1))], &[ty("ARRAY<INT>")]).is_err());
}

#[test]
fn hostile_rows_are_corrupt_errors() {
    let t = ty("STRING");
    // Arity prefix only / truncated fixed part / negative or huge arity.
    for bad in [
        hex("00000001"),
        hex("00000001 0000000000000000"),
        hex("ffffffff 0000000000000000"),
        hex("7fffffff 0000000000000000"),
    ] {
        let e = BinaryRow::deserialize(&bad).unwrap_err();
        assert!(matches!(e, Error::Corrupt { .. }), "{e}");
    }
    // Out-of-line string pointing past the end.
    let r = BinaryRow::deserialize(&hex("00000001 0000000000000000 0a00000018000000")).unwrap();
    assert!(matches!(r.get(0, &t).unwrap_err(), Error::Corrupt { .. }));
    // Offset + length overflowing 32 bits.
    let r = BinaryRow::deserialize(&hex("00000001 0000000000000000 ffffffffffffff7f")).unwrap();
    assert!(r.get(0, &t).is_err());
    // Invalid UTF-8 inline.
    let r = BinaryRow::deserialize(&hex("00000001 0000000000000000 ff00000000000081")).unwrap();
    assert!(r.get(0, &t).is_err());
    // Wide decimal with a zero or over-long length; timestamp nanos out of range.
    let r = BinaryRow::deserialize(&hex("00000001 0000000000000000 0000000010000000")).unwrap();
    assert!(r.get(0, &ty("DECIMAL(38, 2)")).is_err());
    let r = BinaryRow::deserialize(&hex("00000001 0000000000000000 1100000010000000")).unwrap();
    assert!(r.get(0, &ty("DECIMAL(38, 2)")).is_err());
    let r = BinaryRow::deserialize(&hex(
        "00000001 0000000000000000 ffffffff10000000 0000000000000000",
    ))
    .unwrap();
    assert!(r.get(0, &ty("TIMESTAMP(6)")).is_err());
    // Field past the arity.
    assert!(r.get(1, &ty("INT")).is_err());
    assert!(r.to_datums(&[ty("INT"), ty("INT")]).is_err());
}

fn all_types() -> Vec<DataType> {
    [
        "BOOLEAN",
        "TINYINT",
        "SMALLINT",
        "INT",
        "BIGINT",
        "FLOAT",
        "DOUBLE",
        "DECIMAL(18, 4)",
        "DECIMAL(38, 10)",
        "DECIMAL(5, 0)",
        "STRING",
        "CHAR(3)",
        "BYTES",
        "BINARY(4)",
        "DATE",
        "TIME(3)",
        "TIMESTAMP(3)",
        "TIMESTAMP(6)",
        "TIMESTAMP(9) WITH LOCAL TIME ZONE",
        "TIMESTAMP(0) WITH LOCAL TIME ZONE",
    ]
    .iter()
    .map(|t| ty(t))
    .collect()
}

fn datum_for(t: &DataType) -> BoxedStrategy<Option<Datum>> {
    let value: BoxedStrategy<Datum> = match &t.kind {
        TypeKind::Boolean => any::<bool>().prop_map(Datum::Bool).boxed(),
        TypeKind::TinyInt => any::<i8>().prop_map(Datum::TinyInt).boxed(),
        TypeKind::SmallInt => any::<i16>().prop_map(Datum::SmallInt).boxed(),
        TypeKind::Int => any::<i32>().prop_map(Datum::Int).boxed(),
        TypeKind::BigInt => any::<i64>().prop_map(Datum::BigInt).boxed(),
        TypeKind::Float => any::<f32>().prop_map(Datum::Float).boxed(),
        TypeKind::Double => any::<f64>().prop_map(Datum::Double).boxed(),
        TypeKind::Decimal { precision, .. } => {
            let max = 10i128.pow(*precision) - 1;
            (-max..=max).prop_map(Datum::Decimal).boxed()
        }
        TypeKind::Char(_) | TypeKind::VarChar(_) => ".{0,20}".prop_map(Datum::String).boxed(),
        TypeKind::Binary(_) | TypeKind::VarBinary(_) => {
            proptest::collection::vec(any::<u8>(), 0..20)
                .prop_map(Datum::Bytes)
                .boxed()
        }
        TypeKind::Date => any::<i32>().prop_map(Datum::Date).boxed(),
        TypeKind::Time(_) => (0..86_400_000).prop_map(Datum::Time).boxed(),
        TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p) => {
            let max_nanos = if *p <= 3 { 0 } else { 999_999 };
            (any::<i64>(), 0..=max_nanos)
                .prop_map(|(millis, nanos)| Datum::Timestamp { millis, nanos })
                .boxed()
        }
        _ => unreachable!(),
    };
    proptest::option::weighted(0.8, value).boxed()
}

/// Equality that treats floats by their bits (NaN round-trips bit for bit).
fn same(a: &Option<Datum>, b: &Option<Datum>) -> bool {
    match (a, b) {
        (Some(Datum::Float(x)), Some(Datum::Float(y))) => x.to_bits() == y.to_bits(),
        (Some(Datum::Double(x)), Some(Datum::Double(y))) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fn row_strategy() -> impl Strategy<Value = (Vec<DataType>, Vec<Option<Datum>>)> {
    proptest::collection::vec(proptest::sample::select(all_types()), 0..70).prop_flat_map(|types| {
        let vals: Vec<_> = types.iter().map(datum_for).collect();
        (Just(types), vals)
    })
}

proptest! {
    #[test]
    fn round_trips_every_primitive_type((types, vals) in row_strategy()) {
        let row = BinaryRow::from_datums(&vals, &types);
        prop_assert_eq!(row.data().len() % 8, 0);
        let back = BinaryRow::deserialize(&row.serialize()).unwrap();
        prop_assert_eq!(&back, &row);
        let got = back.to_datums(&types).unwrap();
        for (i, (g, v)) in got.iter().zip(&vals).enumerate() {
            prop_assert!(same(g, v), "field {} ({}): {:?} != {:?}", i, types[i], g, v);
            prop_assert_eq!(back.is_null_at(i), v.is_none());
        }
        // A reused writer produces the same bytes as a fresh one.
        let mut w = BinaryRowWriter::new(types.len());
        for (i, t) in types.iter().enumerate() {
            w.write_bytes_or_null_for_test(i, t);
        }
        w.reset();
        for (i, (v, t)) in vals.iter().zip(&types).enumerate() {
            w.write_datum(i, v.as_ref(), t).unwrap();
        }
        prop_assert_eq!(w.buffer(), row.data());
    }

    #[test]
    fn hostile_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(row) = BinaryRow::deserialize(&bytes) {
            for i in 0..row.arity().min(30) {
                for t in all_types() {
                    let _ = row.get(i, &t);
                }
            }
        }
    }

    #[test]
    fn hostile_slots_never_panic(slot in any::<[u8; 8]>(), tail in proptest::collection::vec(any::<u8>(), 0..40)) {
        let mut bytes = hex("00000001 0000000000000000");
        bytes.extend_from_slice(&slot);
        bytes.extend_from_slice(&tail);
        let row = BinaryRow::deserialize(&bytes).unwrap();
        for t in all_types() {
            let _ = row.get(0, &t);
        }
    }
}

impl BinaryRowWriter {
    /// Dirties a slot with a value of whatever kind, so reuse tests see leftovers.
    fn write_bytes_or_null_for_test(&mut self, pos: usize, t: &DataType) {
        if t.is_string() {
            self.write_bytes(pos, b"leftover bytes here");
        } else {
            self.write_i64(pos, -1);
            self.set_null_for_type(pos, t);
        }
    }
}
