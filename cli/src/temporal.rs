//! Timestamps between Arrow's time units and the text forms of the format crate's value codec
//! ([`streamhouse_format::value_text::temporal`], which says which forms are accepted and how
//! values are printed). Dates and times need no unit and use the codec directly.

use arrow::datatypes::TimeUnit;
use streamhouse_format::value_text::{self, ValueError, ValueErrorKind};

fn nanos_per(unit: TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// A TIMESTAMP(p) (`with_zone`: WITH LOCAL TIME ZONE) text as a value of `unit` since the
/// epoch. The error says why, as a predicate of the text (`is out of range for …`).
pub fn parse_timestamp(
    s: &str,
    precision: u32,
    unit: TimeUnit,
    with_zone: bool,
) -> Result<i64, ValueError> {
    let nanos = value_text::parse_timestamp(s, precision, with_zone)?;
    let per = nanos_per(unit);
    // The codec refuses digits beyond the precision, and the unit keeps the precision.
    debug_assert_eq!(nanos % per, 0);
    i64::try_from(nanos.div_euclid(per)).map_err(|_| {
        let what = if with_zone {
            format!("TIMESTAMP({precision}) WITH LOCAL TIME ZONE")
        } else {
            format!("TIMESTAMP({precision})")
        };
        ValueError::new(
            ValueErrorKind::OutOfRange,
            s.trim(),
            format!("is out of range for {what}"),
        )
    })
}

/// A value of `unit` since the epoch as the codec's TIMESTAMP(p) text (`Z` for LTZ).
pub fn format_timestamp(value: i64, unit: TimeUnit, precision: u32, with_zone: bool) -> String {
    value_text::render_timestamp(i128::from(value) * nanos_per(unit), precision, with_zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_unit() {
        // (text, precision, unit, with zone, value, the text printed back)
        let cases = [
            (
                "2024-01-31T13:45:00.123456",
                6,
                TimeUnit::Microsecond,
                false,
                1_706_708_700_123_456,
                "2024-01-31T13:45:00.123456",
            ),
            (
                "1969-12-31 23:59:59.5",
                3,
                TimeUnit::Millisecond,
                false,
                -500,
                "1969-12-31T23:59:59.500",
            ),
            (
                "2024-01-31T13:45:00.123456789",
                9,
                TimeUnit::Nanosecond,
                false,
                1_706_708_700_123_456_789,
                "2024-01-31T13:45:00.123456789",
            ),
            (
                "2024-01-31T11:45:00Z",
                0,
                TimeUnit::Second,
                true,
                1_706_701_500,
                "2024-01-31T11:45:00Z",
            ),
        ];
        for (text, precision, unit, zone, value, printed) in cases {
            let parsed = parse_timestamp(text, precision, unit, zone).unwrap();
            assert_eq!(parsed, value, "{text}");
            assert_eq!(format_timestamp(parsed, unit, precision, zone), printed);
        }
    }

    #[test]
    fn beyond_the_unit_is_out_of_range() {
        let e = parse_timestamp("2500-01-01T00:00:00", 9, TimeUnit::Nanosecond, false).unwrap_err();
        assert!(e.reason.contains("out of range for TIMESTAMP(9)"), "{e}");
        assert_eq!(e.text, "2500-01-01T00:00:00");
    }
}
