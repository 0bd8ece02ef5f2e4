//! Timestamps between Arrow's time units and the text forms of the format crate's value codec
//! ([`streamhouse::value_text::temporal`], which says which forms are accepted and how
//! values are printed). Dates and times need no unit and use the codec directly.

use arrow::datatypes::TimeUnit;
use streamhouse::value_text::{self, ValueError, ValueErrorKind};

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

/// Which instant a bare date (`2024-01-31`) names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEdge {
    /// Its first second (a tail starting at that day).
    Start,
    /// Its last second (a table as of that day).
    End,
}

/// A point in time a user typed, as epoch milliseconds: epoch milliseconds, an RFC 3339 time
/// (a space may stand for the `T`), or a date-time or date without an offset in the local time
/// zone (a bare date is the second `day` says).
pub fn parse_instant(text: &str, day: DayEdge) -> Option<i64> {
    use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone};
    let t = text.trim();
    if let Ok(ms) = t.parse::<i64>() {
        return Some(ms);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(&t.replacen(' ', "T", 1)) {
        return Some(d.timestamp_millis());
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    .or_else(|| {
        let date = NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()?;
        match day {
            DayEdge::Start => date.and_hms_opt(0, 0, 0),
            DayEdge::End => date.and_hms_opt(23, 59, 59),
        }
    })?;
    Local
        .from_local_datetime(&local)
        .earliest()
        .map(|d| d.timestamp_millis())
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
    fn instants_a_user_types() {
        let z = 1_706_708_700_000; // 2024-01-31T13:45:00Z
        for text in [
            "1706708700000",
            "2024-01-31T13:45:00Z",
            "2024-01-31 13:45:00Z",
            "2024-01-31T14:45:00+01:00",
        ] {
            assert_eq!(parse_instant(text, DayEdge::Start), Some(z), "{text}");
        }
        let local = |t: &str| parse_instant(t, DayEdge::Start).expect(t);
        assert_eq!(local("2024-01-31 13:45:00"), local("2024-01-31T13:45"));
        let start = local("2024-01-31");
        assert_eq!(local("2024-01-31 00:00:00"), start);
        let end = parse_instant("2024-01-31", DayEdge::End).unwrap();
        assert_eq!(end - start, (24 * 3600 - 1) * 1000);
        for bad in ["yesterday", "2024-13-01", ""] {
            assert_eq!(parse_instant(bad, DayEdge::End), None, "{bad}");
        }
    }

    #[test]
    fn beyond_the_unit_is_out_of_range() {
        let e = parse_timestamp("2500-01-01T00:00:00", 9, TimeUnit::Nanosecond, false).unwrap_err();
        assert!(e.reason.contains("out of range for TIMESTAMP(9)"), "{e}");
        assert_eq!(e.text, "2500-01-01T00:00:00");
    }
}
