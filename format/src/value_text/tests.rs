//! The codec's cases: the edge cases of every former copy (partition specs, CLI input and
//! output, `--where` literals) and render → parse round trips for every type.

use proptest::prelude::*;

use super::*;
use crate::types::parse_type;

fn ty(s: &str) -> DataType {
    parse_type(s).unwrap()
}

fn p(text: &str, t: &str) -> Result<Datum, ValueError> {
    parse(text, &ty(t))
}

fn err(text: &str, t: &str) -> ValueError {
    p(text, t).unwrap_err()
}

fn ts(millis: i64, nanos: i32) -> Datum {
    Datum::Timestamp { millis, nanos }
}

#[test]
fn booleans_and_integers() {
    assert_eq!(p(" TRUE ", "BOOLEAN"), Ok(Datum::Bool(true)));
    assert_eq!(p("0", "BOOLEAN"), Ok(Datum::Bool(false)));
    // The partition spec once took yes/no/t/f; one set of spellings now.
    assert_eq!(err("yes", "BOOLEAN").kind, ValueErrorKind::Syntax);
    assert_eq!(p(" -128 ", "TINYINT"), Ok(Datum::TinyInt(-128)));
    assert_eq!(p("+7", "INT"), Ok(Datum::Int(7)));
    assert_eq!(
        p("9223372036854775807", "BIGINT"),
        Ok(Datum::BigInt(i64::MAX))
    );
    let e = err("300", "TINYINT");
    assert_eq!(e.kind, ValueErrorKind::OutOfRange);
    assert_eq!(
        e.to_string(),
        "\"300\" is out of range for TINYINT (-128 to 127)"
    );
    assert_eq!(
        err("99999999999999999999999999", "BIGINT").kind,
        ValueErrorKind::OutOfRange
    );
    for bad in ["abc", "1.0", "1e3", "", "+", "1 2", "0x10"] {
        assert_eq!(err(bad, "BIGINT").kind, ValueErrorKind::Syntax, "{bad}");
    }
    assert!(err("abc", "BIGINT NOT NULL")
        .to_string()
        .contains("\"abc\" is not a valid BIGINT"));
}

#[test]
fn floats() {
    assert_eq!(p("0.1", "DOUBLE"), Ok(Datum::Double(0.1)));
    assert_eq!(p("-1.5e3", "DOUBLE"), Ok(Datum::Double(-1500.0)));
    assert_eq!(p("Infinity", "DOUBLE"), Ok(Datum::Double(f64::INFINITY)));
    assert_eq!(p("-inf", "FLOAT"), Ok(Datum::Float(f32::NEG_INFINITY)));
    assert!(matches!(p("NaN", "DOUBLE"), Ok(Datum::Double(v)) if v.is_nan()));
    // Finite text beyond the range is an error, not an infinity.
    assert_eq!(err("1e39", "FLOAT").kind, ValueErrorKind::OutOfRange);
    assert_eq!(err("1e400", "DOUBLE").kind, ValueErrorKind::OutOfRange);
    assert_eq!(err("one", "DOUBLE").kind, ValueErrorKind::Syntax);
    assert_eq!(render(&Datum::Double(f64::NAN), &ty("DOUBLE")), "NaN");
    assert_eq!(
        render(&Datum::Double(f64::NEG_INFINITY), &ty("DOUBLE")),
        "-Infinity"
    );
    assert_eq!(render(&Datum::Float(1.5), &ty("FLOAT")), "1.5");
    assert_eq!(render(&Datum::Double(100.0), &ty("DOUBLE")), "100.0");
}

#[test]
fn decimals_are_exact() {
    let d = |s: &str, p: u32, sc: u32| parse_decimal(s, p, sc);
    use ValueErrorKind::{LosesDigits, OutOfRange};
    // The kind of the error (or the value).
    let kind = |s: &str, p: u32, sc: u32| d(s, p, sc).map_err(|e| e.kind);
    // CLI input cases.
    assert_eq!(d("12.3", 10, 2), Ok(1230));
    assert_eq!(d("-0.05", 10, 2), Ok(-5));
    assert_eq!(d("1.2e2", 10, 2), Ok(12000));
    assert_eq!(d("12.300", 10, 2), Ok(1230));
    assert_eq!(d("12345678.99", 10, 2), Ok(1234567899));
    let e = d("12.345", 10, 2).unwrap_err();
    assert_eq!(e.kind, ValueErrorKind::LosesDigits);
    assert!(
        e.reason
            .contains("more than 2 digits after the decimal point"),
        "{e}"
    );
    let e = d("123456789", 10, 2).unwrap_err();
    assert_eq!(e.kind, ValueErrorKind::OutOfRange);
    assert!(e.reason.contains("does not fit DECIMAL(10, 2)"), "{e}");
    for bad in [
        "abc", ".", "", "-", "1e", "1e+", "1.2.3", "1,5", "e5", "--1",
    ] {
        assert_eq!(kind(bad, 10, 2), Err(ValueErrorKind::Syntax), "{bad}");
    }
    assert_eq!(
        d("12345678901234567890.123456789012345678", 38, 18),
        Ok(12345678901234567890123456789012345678)
    );
    assert_eq!(d(&"9".repeat(38), 38, 0), Ok(10i128.pow(38) - 1));
    assert_eq!(kind(&"9".repeat(39), 38, 0), Err(OutOfRange));
    // Partition spec cases: leading `+`, whitespace, `-0.5`. `1.005` into scale 2 was rounded
    // to 1.01 there; it is an error now, as everywhere else.
    assert_eq!(d(" +1.5 ", 5, 2), Ok(150));
    assert_eq!(d("-0.5", 5, 2), Ok(-50));
    assert_eq!(kind("1.005", 5, 2), Err(LosesDigits));
    assert_eq!(kind("1234.5", 5, 2), Err(OutOfRange));
    // `--where` literal cases: trailing zeros beyond the scale fit, `5.` and `.5`, and
    // exponents (refused there before) are exact here.
    assert_eq!(d("1.2300", 10, 2), Ok(123));
    assert_eq!(d("5.", 3, 0), Ok(5));
    assert_eq!(d(".5", 3, 1), Ok(5));
    assert_eq!(d("-1.5E-1", 5, 2), Ok(-15));
    assert_eq!(d("0e999999999999999999", 5, 2), Ok(0));
    assert_eq!(kind("1e-999999999999", 5, 2), Err(LosesDigits));
    assert_eq!(kind("1e99999999999", 5, 2), Err(OutOfRange));
    assert_eq!(
        d("000000000000000000000000000000000000000001.10", 3, 2),
        Ok(110)
    );
    assert_eq!(render_decimal(-5, 3), "-0.005");
    assert_eq!(
        render(&Datum::Decimal(1230), &ty("DECIMAL(10, 2)")),
        "12.30"
    );
}

#[test]
fn dates() {
    assert_eq!(parse_date("1970-01-02"), Ok(1));
    assert_eq!(parse_date(" 2024-01-01 "), Ok(19723));
    assert_eq!(parse_date("2024-02-29"), Ok(19782));
    assert_eq!(parse_date("1969-12-31"), Ok(-1));
    for s in [
        "1970-01-01",
        "2024-02-29",
        "1900-12-31",
        "9999-12-31",
        "0001-01-01",
        "0000-02-29",
        "-0001-12-31",
        "+10000-01-01",
        "-5877641-06-23",
        "+5881580-07-11",
    ] {
        assert_eq!(render_date(parse_date(s).unwrap()), s, "{s}");
    }
    // A sign is optional for long years and `+` for short ones.
    assert_eq!(parse_date("10000-01-01"), parse_date("+10000-01-01"));
    assert_eq!(parse_date("+2024-01-01"), Ok(19723));
    assert_eq!(parse_date("-5877641-06-23"), Ok(i32::MIN));
    assert_eq!(parse_date("+5881580-07-11"), Ok(i32::MAX));
    assert_eq!(
        parse_date("+5881580-07-12").unwrap_err().kind,
        ValueErrorKind::OutOfRange
    );
    // 1900 is not a leap year, 2000 is.
    assert!(parse_date("1900-02-29").is_err());
    assert!(parse_date("2000-02-29").is_ok());
    for bad in [
        "2024-02-30",
        "2024-13-01",
        "2024-00-10",
        "2024-1-5",
        "24-01-05",
        "yesterday",
        "2024-01-01T00:00",
        "2024/01/01",
        "19724",
        "",
    ] {
        assert_eq!(
            parse_date(bad).unwrap_err().kind,
            ValueErrorKind::Syntax,
            "{bad}"
        );
    }
}

#[test]
fn times() {
    assert_eq!(parse_time("13:45", 0), Ok((13 * 3600 + 45 * 60) * 1000));
    assert_eq!(
        render_time(parse_time("13:45:00.250", 3).unwrap(), 3),
        "13:45:00.250"
    );
    assert_eq!(
        render_time(parse_time("00:00:01", 0).unwrap(), 0),
        "00:00:01"
    );
    assert_eq!(parse_time("23:59:59.999", 3), Ok(86_399_999));
    let e = parse_time("13:45:00.25", 1).unwrap_err();
    assert_eq!(e.kind, ValueErrorKind::LosesDigits);
    assert!(e.reason.contains("fraction digits"), "{e}");
    // TIME keeps milliseconds: TIME(6) takes 3 significant digits (the partition spec dropped
    // the rest silently).
    assert_eq!(
        parse_time("00:00:00.0001", 6).unwrap_err().kind,
        ValueErrorKind::LosesDigits
    );
    assert_eq!(parse_time("00:00:00.500000", 6), Ok(500));
    for bad in [
        "24:00:00",
        "12:60",
        "12:00:60",
        "1:00",
        "12",
        "12:00:00.",
        "12:00:00.1234567890",
        "noon",
    ] {
        assert!(parse_time(bad, 9).is_err(), "{bad}");
    }
    assert_eq!(render(&Datum::Time(3_600_000), &ty("TIME(0)")), "01:00:00");
}

#[test]
fn timestamps() {
    let t = |s: &str, t: &str| p(s, t).unwrap();
    assert_eq!(
        t("2024-01-01 00:00:01.5", "TIMESTAMP(6)"),
        ts(1_704_067_201_500, 0)
    );
    assert_eq!(
        t("2024-01-01T00:00", "TIMESTAMP(3)"),
        ts(1_704_067_200_000, 0)
    );
    assert_eq!(
        t("2024-01-01t00:00", "TIMESTAMP(3)"),
        ts(1_704_067_200_000, 0)
    );
    assert_eq!(t("2024-01-01", "TIMESTAMP(3)"), ts(1_704_067_200_000, 0));
    assert_eq!(t("1969-12-31 23:59:59.5", "TIMESTAMP(3)"), ts(-500, 0));
    assert_eq!(
        t("1969-12-31T23:59:59.999999999", "TIMESTAMP(9)"),
        ts(-1, 999_999)
    );
    assert_eq!(
        t("0001-01-01T00:00", "TIMESTAMP(3)"),
        ts(-62_135_596_800_000, 0)
    );
    assert_eq!(
        render(&ts(1_706_708_700_123, 456_000), &ty("TIMESTAMP(6)")),
        "2024-01-31T13:45:00.123456"
    );
    assert_eq!(
        render(&ts(0, 0), &ty("TIMESTAMP(0)")),
        "1970-01-01T00:00:00"
    );
    assert_eq!(
        render(&ts(-500, 0), &ty("TIMESTAMP(3)")),
        "1969-12-31T23:59:59.500"
    );
    // Fraction digits beyond the precision: an error unless zeros.
    let e = err("2024-01-31T13:45:00.1234", "TIMESTAMP(3)");
    assert_eq!(e.kind, ValueErrorKind::LosesDigits);
    assert!(e.reason.contains("4 fraction digits"), "{e}");
    assert_eq!(
        t("2024-01-31T13:45:00.123000", "TIMESTAMP(3)"),
        ts(1_706_708_700_123, 0)
    );
    for bad in [
        "2024-01-31X",
        "2024-01-31T25:00",
        "2024-01-31  13:00",
        "2024-01-31T",
        "x",
    ] {
        assert_eq!(
            err(bad, "TIMESTAMP(3)").kind,
            ValueErrorKind::Syntax,
            "{bad}"
        );
    }
    assert!(err("2024-01-31X", "TIMESTAMP(3)")
        .reason
        .contains("not a timestamp"));
}

#[test]
fn local_zoned_timestamps() {
    let t = |s: &str| p(s, "TIMESTAMP(3) WITH LOCAL TIME ZONE").unwrap();
    let utc = t("2024-01-31 11:45:00");
    for s in [
        "2024-01-31T13:45:00+02:00",
        "2024-01-31T11:45:00Z",
        "2024-01-31T11:45:00z",
        "2024-01-31T13:45:00+0200",
        "2024-01-31T13:45+02",
        "2024-01-31T06:15:00-05:30",
    ] {
        assert_eq!(t(s), utc, "{s}");
    }
    assert_eq!(
        render(&utc, &ty("TIMESTAMP(3) WITH LOCAL TIME ZONE")),
        "2024-01-31T11:45:00.000Z"
    );
    let e = err("2024-01-31T13:45:00Z", "TIMESTAMP(3)");
    assert!(e.reason.contains("time zone"), "{e}");
    for bad in [
        "2024-01-31T13:45:00+2",
        "2024-01-31T13:45:00+24:00",
        "2024-01-31T13:45:00 Z",
        "2024-01-31T13:45:00UTC",
    ] {
        assert!(
            p(bad, "TIMESTAMP(3) WITH LOCAL TIME ZONE").is_err(),
            "{bad}"
        );
    }
}

#[test]
fn text_and_bytes() {
    assert_eq!(p(" a ", "STRING"), Ok(Datum::String(" a ".into())));
    let e = err("abcd", "CHAR(3)");
    assert_eq!(e.kind, ValueErrorKind::TooLong);
    assert!(e.reason.contains("4 characters"), "{e}");
    assert_eq!(p("ééé", "VARCHAR(3)"), Ok(Datum::String("ééé".into())));
    assert_eq!(p("AAE=", "BYTES"), Ok(Datum::Bytes(vec![0, 1])));
    assert_eq!(p("AAE", "BYTES"), Ok(Datum::Bytes(vec![0, 1])));
    assert_eq!(err("AAE=", "BINARY(1)").kind, ValueErrorKind::TooLong);
    assert!(err("not base64!", "BYTES").reason.contains("base64"));
    assert_eq!(
        render(&Datum::Bytes(vec![0, 1, 2, 255]), &ty("BYTES")),
        "AAEC/w=="
    );
    assert_eq!(err("[1]", "ARRAY<INT>").kind, ValueErrorKind::Unsupported);
}

/// Every value of `ty` renders to text that parses back to it.
fn round_trips(d: &Datum, t: &DataType) -> Result<(), TestCaseError> {
    let text = render(d, t);
    let back = parse(&text, t).map_err(|e| TestCaseError::fail(format!("{t}: {e}")))?;
    match (d, &back) {
        (Datum::Float(a), Datum::Float(b)) => prop_assert_eq!(a.to_bits(), b.to_bits(), "{}", text),
        (Datum::Double(a), Datum::Double(b)) => {
            prop_assert_eq!(a.to_bits(), b.to_bits(), "{}", text)
        }
        _ => prop_assert_eq!(d, &back, "{} as {}", text, t),
    }
    Ok(())
}

fn decimal_of(precision: u32) -> impl Strategy<Value = i128> {
    let max = 10i128.pow(precision) - 1;
    prop_oneof![Just(max), Just(-max), Just(0i128), -max..=max]
}

/// Timestamps of `precision` within the DATE range (extremes included).
fn timestamp_of(precision: u32) -> impl Strategy<Value = Datum> {
    let step = 10i128.pow(9 - precision);
    let min = i128::from(i32::MIN) * 86_400 * 1_000_000_000;
    let max = (i128::from(i32::MAX) + 1) * 86_400 * 1_000_000_000 - 1;
    prop_oneof![Just(min), Just(max / step * step), Just(0), min..max]
        .prop_map(move |n| n / step * step)
        .prop_map(|n| {
            let (millis, nanos) = temporal::nanos_to_millis(n).unwrap();
            Datum::Timestamp { millis, nanos }
        })
}

proptest! {
    #[test]
    fn integers_round_trip(v in any::<i64>(), w in any::<i8>(), s in any::<i16>(), i in any::<i32>()) {
        round_trips(&Datum::BigInt(v), &ty("BIGINT"))?;
        round_trips(&Datum::TinyInt(w), &ty("TINYINT"))?;
        round_trips(&Datum::SmallInt(s), &ty("SMALLINT"))?;
        round_trips(&Datum::Int(i), &ty("INT"))?;
        round_trips(&Datum::Bool(v % 2 == 0), &ty("BOOLEAN"))?;
    }

    #[test]
    fn floats_round_trip(bits in any::<u64>(), fbits in any::<u32>()) {
        let v = f64::from_bits(bits);
        let f = f32::from_bits(fbits);
        // NaN payloads are not kept by text: any NaN is NaN.
        if !v.is_nan() {
            round_trips(&Datum::Double(v), &ty("DOUBLE"))?;
        }
        if !f.is_nan() {
            round_trips(&Datum::Float(f), &ty("FLOAT"))?;
        }
    }

    #[test]
    fn decimals_round_trip(
        (precision, scale, v) in (1u32..=38)
            .prop_flat_map(|p| (Just(p), 0..=p, decimal_of(p)))
    ) {
        let t = ty(&format!("DECIMAL({precision}, {scale})"));
        round_trips(&Datum::Decimal(v), &t)?;
    }

    #[test]
    fn dates_round_trip(d in prop_oneof![Just(i32::MIN), Just(i32::MAX), Just(0), any::<i32>(), -800_000i32..3_000_000]) {
        round_trips(&Datum::Date(d), &ty("DATE"))?;
    }

    #[test]
    fn times_round_trip(ms in 0i32..86_400_000, p in 0u32..=9) {
        let keep = 10i32.pow(3 - p.min(3));
        round_trips(&Datum::Time(ms / keep * keep), &ty(&format!("TIME({p})")))?;
    }

    #[test]
    fn timestamps_round_trip((p, v) in (0u32..=9).prop_flat_map(|p| (Just(p), timestamp_of(p)))) {
        round_trips(&v, &ty(&format!("TIMESTAMP({p})")))?;
        round_trips(&v, &ty(&format!("TIMESTAMP({p}) WITH LOCAL TIME ZONE")))?;
    }

    #[test]
    fn text_and_bytes_round_trip(s in ".{0,20}", b in proptest::collection::vec(any::<u8>(), 0..40)) {
        round_trips(&Datum::String(s), &ty("VARCHAR(20)"))?;
        round_trips(&Datum::Bytes(b), &ty("VARBINARY(40)"))?;
    }

    #[test]
    fn parsing_never_panics(s in "\\PC{0,30}") {
        for t in ["BOOLEAN", "INT", "DOUBLE", "DECIMAL(10, 2)", "DATE", "TIME(3)", "TIMESTAMP(9)",
                  "TIMESTAMP(6) WITH LOCAL TIME ZONE", "BYTES"] {
            let _ = parse(&s, &ty(t));
        }
    }
}
