//! Dates, times and timestamps as text: ISO 8601 forms, parsed strictly (a value that would lose
//! digits is an error) and printed so that parsing the printed text gives the same value.
//!
//! - DATE `2024-01-31` (days since 1970-01-01)
//! - TIME(p) `13:45:00.250` (millis of day)
//! - TIMESTAMP(p) `2024-01-31T13:45:00.123456` (no zone)
//! - TIMESTAMP(p) WITH LOCAL TIME ZONE `2024-01-31T13:45:00.123456Z` (an instant; input may
//!   carry an offset such as `+02:00`, and is UTC without one)

use arrow::datatypes::TimeUnit;
use chrono::{DateTime, Datelike, NaiveDate};

const EPOCH_DAYS_FROM_CE: i32 = 719_163;
const NANOS_PER_SEC: i64 = 1_000_000_000;

pub fn parse_date(s: &str) -> Result<i32, String> {
    let t = s.trim();
    let d = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map_err(|_| format!("{t:?} is not a date like 2024-01-31"))?;
    Ok(d.num_days_from_ce() - EPOCH_DAYS_FROM_CE)
}

pub fn format_date(days: i32) -> String {
    match days
        .checked_add(EPOCH_DAYS_FROM_CE)
        .and_then(NaiveDate::from_num_days_from_ce_opt)
    {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None => days.to_string(),
    }
}

/// Time of day `HH:MM[:SS[.fffffffff]]` at the start of `s`: (seconds of day, nanos, number
/// of fraction digits, rest of `s`).
fn time_of_day(s: &str) -> Option<(i64, i64, u32, &str)> {
    let b = s.as_bytes();
    let two = |i: usize| -> Option<i64> {
        let d = b.get(i..i + 2)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| i64::from((d[0] - b'0') * 10 + (d[1] - b'0')))
    };
    let h = two(0)?;
    if b.get(2) != Some(&b':') {
        return None;
    }
    let m = two(3)?;
    let mut pos = 5;
    let mut sec = 0;
    let (mut nanos, mut digits) = (0i64, 0u32);
    if b.get(5) == Some(&b':') {
        sec = two(6)?;
        pos = 8;
        if b.get(8) == Some(&b'.') {
            pos = 9;
            while let Some(d) = b.get(pos).filter(|c| c.is_ascii_digit()) {
                if digits == 9 {
                    return None;
                }
                nanos = nanos * 10 + i64::from(d - b'0');
                digits += 1;
                pos += 1;
            }
            if digits == 0 {
                return None;
            }
            nanos *= 10i64.pow(9 - digits);
        }
    }
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some((h * 3600 + m * 60 + sec, nanos, digits, &s[pos..]))
}

fn check_digits(text: &str, digits: u32, precision: u32, what: &str) -> Result<(), String> {
    if digits > precision {
        return Err(format!(
            "{text:?} has {digits} fraction digits; {what}({precision}) keeps {precision}"
        ));
    }
    Ok(())
}

/// TIME(p) as millis of day. Arrow and Paimon keep TIME at millisecond precision.
pub fn parse_time(s: &str, precision: u32) -> Result<i32, String> {
    let t = s.trim();
    let bad = || format!("{t:?} is not a time like 13:45:00 or 13:45:00.250");
    let (secs, nanos, digits, rest) = time_of_day(t).ok_or_else(bad)?;
    if !rest.is_empty() {
        return Err(bad());
    }
    check_digits(t, digits, precision.min(3), "TIME")?;
    Ok((secs * 1000 + nanos / 1_000_000) as i32)
}

pub fn format_time(millis: i32, precision: u32) -> String {
    let ms = i64::from(millis);
    let (secs, nanos) = (ms.div_euclid(1000), ms.rem_euclid(1000) * 1_000_000);
    let mut out = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    push_fraction(&mut out, nanos, precision.min(3));
    out
}

/// Appends `.fff…` with at least `precision` digits, more when needed to be exact.
fn push_fraction(out: &mut String, nanos: i64, precision: u32) {
    let mut digits = precision.min(9);
    while digits < 9 && nanos % 10i64.pow(9 - digits) != 0 {
        digits += 1;
    }
    if digits > 0 {
        let v = nanos / 10i64.pow(9 - digits);
        out.push_str(&format!(".{v:0width$}", width = digits as usize));
    }
}

/// A timestamp as a value of `unit` since the epoch. `with_zone` is TIMESTAMP WITH LOCAL TIME
/// ZONE: an offset is allowed (UTC without one); plain TIMESTAMP refuses an offset.
pub fn parse_timestamp(
    s: &str,
    precision: u32,
    unit: TimeUnit,
    with_zone: bool,
) -> Result<i64, String> {
    let t = s.trim();
    let what = if with_zone {
        "TIMESTAMP_LTZ"
    } else {
        "TIMESTAMP"
    };
    let bad = || {
        format!(
            "{t:?} is not a timestamp like 2024-01-31T13:45:00.123{}",
            if with_zone { "Z" } else { "" }
        )
    };
    let split = t.find(['T', 't', ' ']).unwrap_or(t.len());
    let days = i64::from(parse_date(&t[..split]).map_err(|_| bad())?);
    let (secs, nanos, digits, rest) = match t.get(split + 1..) {
        Some(time) => time_of_day(time).ok_or_else(bad)?,
        None => (0, 0, 0, ""),
    };
    let offset = match rest {
        "" => 0,
        _ if !with_zone => {
            return Err(format!(
                "{t:?} has a time zone, but TIMESTAMP({precision}) is a local date-time without one (use TIMESTAMP({precision}) WITH LOCAL TIME ZONE for instants)"
            ))
        }
        "Z" | "z" => 0,
        zone => parse_offset(zone).ok_or_else(bad)?,
    };
    check_digits(t, digits, precision.min(9), what)?;
    let epoch_secs = days * 86_400 + secs - offset;
    let out_of_range = || format!("{t:?} is out of range for {what}({precision})");
    let value = match unit {
        TimeUnit::Second => Some(epoch_secs),
        TimeUnit::Millisecond => epoch_secs
            .checked_mul(1000)
            .and_then(|v| v.checked_add(nanos / 1_000_000)),
        TimeUnit::Microsecond => epoch_secs
            .checked_mul(1_000_000)
            .and_then(|v| v.checked_add(nanos / 1000)),
        TimeUnit::Nanosecond => epoch_secs
            .checked_mul(NANOS_PER_SEC)
            .and_then(|v| v.checked_add(nanos)),
    };
    value.ok_or_else(out_of_range)
}

/// `+02:00`, `-0530`, `+02` as seconds east of UTC.
fn parse_offset(z: &str) -> Option<i64> {
    let sign = match z.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = if digits.len() == 4 {
        digits[2..].parse().ok()?
    } else {
        0
    };
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

pub fn format_timestamp(value: i64, unit: TimeUnit, precision: u32, with_zone: bool) -> String {
    let per_sec = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => NANOS_PER_SEC,
    };
    let secs = value.div_euclid(per_sec);
    let nanos = value.rem_euclid(per_sec) * (NANOS_PER_SEC / per_sec);
    let Some(dt) = DateTime::from_timestamp(secs, nanos as u32) else {
        return value.to_string();
    };
    let mut out = dt.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string();
    push_fraction(&mut out, nanos, precision);
    if with_zone {
        out.push('Z');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for s in ["1970-01-01", "2024-02-29", "1900-12-31", "9999-12-31"] {
            assert_eq!(format_date(parse_date(s).unwrap()), s);
        }
        assert_eq!(parse_date("1970-01-02").unwrap(), 1);
        assert!(parse_date("2024-02-30").is_err());
        assert!(parse_date("yesterday").is_err());
    }

    #[test]
    fn times_round_trip_and_keep_precision() {
        assert_eq!(
            parse_time("13:45", 0).unwrap(),
            (13 * 3600 + 45 * 60) * 1000
        );
        assert_eq!(
            format_time(parse_time("13:45:00.250", 3).unwrap(), 3),
            "13:45:00.250"
        );
        assert_eq!(
            format_time(parse_time("00:00:01", 0).unwrap(), 0),
            "00:00:01"
        );
        assert!(parse_time("13:45:00.25", 1)
            .unwrap_err()
            .contains("fraction digits"));
        assert!(parse_time("24:00:00", 0).is_err());
    }

    #[test]
    fn timestamps_round_trip() {
        let us = parse_timestamp(
            "2024-01-31T13:45:00.123456",
            6,
            TimeUnit::Microsecond,
            false,
        )
        .unwrap();
        assert_eq!(
            format_timestamp(us, TimeUnit::Microsecond, 6, false),
            "2024-01-31T13:45:00.123456"
        );
        let ms = parse_timestamp("1969-12-31 23:59:59.5", 3, TimeUnit::Millisecond, false).unwrap();
        assert_eq!(ms, -500);
        assert_eq!(
            format_timestamp(ms, TimeUnit::Millisecond, 3, false),
            "1969-12-31T23:59:59.500"
        );
        assert_eq!(
            format_timestamp(0, TimeUnit::Millisecond, 0, false),
            "1970-01-01T00:00:00"
        );
        let ns = parse_timestamp(
            "2024-01-31T13:45:00.123456789",
            9,
            TimeUnit::Nanosecond,
            false,
        )
        .unwrap();
        assert_eq!(
            format_timestamp(ns, TimeUnit::Nanosecond, 9, false),
            "2024-01-31T13:45:00.123456789"
        );
    }

    #[test]
    fn zones() {
        let a =
            parse_timestamp("2024-01-31T13:45:00+02:00", 3, TimeUnit::Millisecond, true).unwrap();
        let b = parse_timestamp("2024-01-31T11:45:00Z", 3, TimeUnit::Millisecond, true).unwrap();
        let c = parse_timestamp("2024-01-31 11:45:00", 3, TimeUnit::Millisecond, true).unwrap();
        assert_eq!((a, b), (c, c));
        assert_eq!(
            format_timestamp(a, TimeUnit::Millisecond, 3, true),
            "2024-01-31T11:45:00.000Z"
        );
        let e =
            parse_timestamp("2024-01-31T13:45:00Z", 3, TimeUnit::Millisecond, false).unwrap_err();
        assert!(e.contains("time zone"), "{e}");
    }

    #[test]
    fn too_many_digits_or_out_of_range() {
        let e = parse_timestamp("2024-01-31T13:45:00.1234", 3, TimeUnit::Millisecond, false)
            .unwrap_err();
        assert!(e.contains("4 fraction digits"), "{e}");
        assert!(parse_timestamp("2500-01-01T00:00:00", 9, TimeUnit::Nanosecond, false).is_err());
        assert!(parse_timestamp("2024-01-31X", 3, TimeUnit::Millisecond, false).is_err());
    }
}
