//! DATE, TIME(p), TIMESTAMP(p) and TIMESTAMP(p) WITH LOCAL TIME ZONE as ISO 8601 text, in the
//! proleptic Gregorian calendar.
//!
//! Accepted (surrounding whitespace is ignored):
//!
//! - DATE: `[+|-]YYYY-MM-DD`, a year of 4 to 7 digits (a sign is needed only for years before 0;
//!   year 0 is 1 BC), month and day of 2 digits, leap days checked. The value is days since
//!   1970-01-01 and must fit an `i32` (years about -5 877 641 to 5 881 580).
//! - TIME(p): `HH:MM[:SS[.f…]]`, each field 2 digits, hours 00–23, seconds 00–59, 1 to 9 fraction
//!   digits. Paimon keeps TIME at millisecond precision: the value is millis of the day.
//! - TIMESTAMP(p): a DATE, then optionally `T`, `t` or one space and a TIME, with no zone.
//! - TIMESTAMP(p) WITH LOCAL TIME ZONE: the same, then optionally `Z`, `z` or an offset `±HH`,
//!   `±HH:MM` or `±HHMM` (UTC without one); the value is the instant.
//!
//! Fraction digits beyond the precision (`p`, and at most 3 for TIME) are an error when any of
//! them is not zero: a value is never truncated. A plain TIMESTAMP with a zone is an error (its
//! wall clock would be ambiguous).
//!
//! Rendered: DATE `2024-01-31` (years outside 0–9999 as `+10000-01-01` / `-0001-01-01`), TIME
//! `13:45:00.250`, TIMESTAMP `2024-01-31T13:45:00.123456`, LTZ `2024-01-31T13:45:00.123456Z`,
//! with at least `p` fraction digits (more only for a value that has more), so that parsing
//! the rendered text gives the same value.

use super::ValueError;

pub const NANOS_PER_SECOND: i128 = 1_000_000_000;
const NANOS_PER_DAY: i128 = 86_400 * NANOS_PER_SECOND;
const MILLIS_PER_DAY: i32 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (`month` 1–12, `day` 1–31).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year.rem_euclid(4) == 0
            && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0) =>
        {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `n` ASCII digits at the start of `b` as a number.
fn digits(b: &[u8], n: usize) -> Option<i64> {
    let d = b.get(..n)?;
    d.iter()
        .all(u8::is_ascii_digit)
        .then(|| d.iter().fold(0i64, |v, c| v * 10 + i64::from(c - b'0')))
}

/// A date at the start of `s`: (days since epoch, rest of `s`).
fn date_prefix(s: &str) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    let (neg, start) = match b.first()? {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let year_len = b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !(4..=7).contains(&year_len) {
        return None;
    }
    let mut year = digits(&b[start..], year_len)?;
    if neg {
        year = -year;
    }
    let p = start + year_len;
    if b.get(p) != Some(&b'-') || b.get(p + 3) != Some(&b'-') {
        return None;
    }
    let month = digits(&b[p + 1..], 2)? as u32;
    let day = digits(&b[p + 4..], 2)? as u32;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some((days_from_civil(year, month, day), &s[p + 6..]))
}

/// DATE text → days since 1970-01-01.
pub fn parse_date(text: &str) -> Result<i32, ValueError> {
    let t = text.trim();
    let bad = || ValueError::syntax(t, "is not a date like 2024-01-31");
    let (days, rest) = date_prefix(t).ok_or_else(bad)?;
    if !rest.is_empty() {
        return Err(bad());
    }
    i32::try_from(days).map_err(|_| ValueError::range(t, "is out of range for DATE"))
}

/// Days since 1970-01-01 → `2024-01-31`.
pub fn render_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(days));
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else if y > 9999 {
        format!("+{y}")
    } else {
        format!("-{:04}", -y)
    };
    format!("{year}-{m:02}-{d:02}")
}

/// A time of day at the start of `s`: (nanos of the day, fraction digits, rest of `s`). The
/// digits counted are the significant ones (trailing zeros do not count).
fn time_prefix(s: &str) -> Option<(i64, u32, &str)> {
    let b = s.as_bytes();
    let h = digits(b, 2)?;
    if b.get(2) != Some(&b':') {
        return None;
    }
    let m = digits(&b[3..], 2)?;
    let (mut sec, mut nanos, mut significant, mut pos) = (0, 0i64, 0u32, 5);
    if b.get(5) == Some(&b':') {
        sec = digits(&b[6..], 2)?;
        pos = 8;
        if b.get(8) == Some(&b'.') {
            let frac: Vec<u8> = b[9..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .copied()
                .collect();
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            pos = 9 + frac.len();
            for (i, d) in frac.iter().enumerate() {
                nanos = nanos * 10 + i64::from(d - b'0');
                if *d != b'0' {
                    significant = i as u32 + 1;
                }
            }
            nanos *= 10i64.pow(9 - frac.len() as u32);
        }
    }
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some((
        ((h * 60 + m) * 60 + sec) * 1_000_000_000 + nanos,
        significant,
        &s[pos..],
    ))
}

fn check_digits(text: &str, significant: u32, keeps: u32, what: &str) -> Result<(), ValueError> {
    if significant > keeps {
        return Err(ValueError::digits(
            text,
            format!("has {significant} fraction digits; {what} keeps {keeps}"),
        ));
    }
    Ok(())
}

/// TIME(p) text → millis of the day.
pub fn parse_time(text: &str, precision: u32) -> Result<i32, ValueError> {
    let t = text.trim();
    let bad = || ValueError::syntax(t, "is not a time like 13:45:00 or 13:45:00.250");
    let (nanos, significant, rest) = time_prefix(t).ok_or_else(bad)?;
    if !rest.is_empty() {
        return Err(bad());
    }
    let keeps = precision.min(3);
    check_digits(t, significant, keeps, &format!("TIME({precision})"))?;
    Ok((nanos / 1_000_000) as i32)
}

/// Millis of the day → `13:45:00.250` (at least `min(p, 3)` fraction digits).
pub fn render_time(millis: i32, precision: u32) -> String {
    let ms = i64::from(millis.rem_euclid(MILLIS_PER_DAY));
    let secs = ms / 1000;
    let mut out = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    push_fraction(&mut out, (ms % 1000) * 1_000_000, precision.min(3));
    out
}

/// Appends `.fff…` with at least `precision` digits, more when needed to be exact.
fn push_fraction(out: &mut String, nanos: i64, precision: u32) {
    let mut n = precision.min(9);
    while n < 9 && nanos % 10i64.pow(9 - n) != 0 {
        n += 1;
    }
    if n > 0 {
        let v = nanos / 10i64.pow(9 - n);
        out.push_str(&format!(".{v:0width$}", width = n as usize));
    }
}

/// `Z`, `+02:00`, `-0530`, `+02` → seconds east of UTC.
fn parse_offset(z: &str) -> Option<i64> {
    if z == "Z" || z == "z" {
        return Some(0);
    }
    let b = z.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = digits(&b[1..], 2)?;
    let m = match &b[3..] {
        [] => 0,
        [b':', rest @ ..] | rest if rest.len() == 2 => digits(rest, 2)?,
        _ => return None,
    };
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

/// TIMESTAMP(p) (`ltz`: WITH LOCAL TIME ZONE) text → nanoseconds since 1970-01-01T00:00 (UTC
/// wall clock for TIMESTAMP, the instant for LTZ).
pub fn parse_timestamp(text: &str, precision: u32, ltz: bool) -> Result<i128, ValueError> {
    let t = text.trim();
    let what = if ltz {
        format!("TIMESTAMP({precision}) WITH LOCAL TIME ZONE")
    } else {
        format!("TIMESTAMP({precision})")
    };
    let bad = || {
        ValueError::syntax(
            t,
            format!(
                "is not a timestamp like 2024-01-31T13:45:00.123{}",
                if ltz { "Z" } else { "" }
            ),
        )
    };
    let (days, rest) = date_prefix(t).ok_or_else(bad)?;
    i32::try_from(days).map_err(|_| ValueError::range(t, format!("is out of range for {what}")))?;
    let (nanos, significant, zone) = match rest.as_bytes().first() {
        None => (0, 0, ""),
        Some(b'T' | b't' | b' ') => time_prefix(&rest[1..]).ok_or_else(bad)?,
        Some(_) if ltz => (0, 0, rest),
        Some(_) => return Err(bad()),
    };
    let offset = match zone {
        "" => 0,
        _ if !ltz => {
            return Err(ValueError::syntax(
                t,
                format!(
                    "has a time zone, but {what} is a local date-time without one (use \
                     TIMESTAMP({precision}) WITH LOCAL TIME ZONE for instants)"
                ),
            ))
        }
        zone => parse_offset(zone).ok_or_else(bad)?,
    };
    check_digits(t, significant, precision.min(9), &what)?;
    Ok(
        i128::from(days) * NANOS_PER_DAY + i128::from(nanos)
            - i128::from(offset) * NANOS_PER_SECOND,
    )
}

/// Nanoseconds since the epoch → `2024-01-31T13:45:00.123456` (`Z` appended for LTZ), with at
/// least `p` fraction digits.
pub fn render_timestamp(nanos: i128, precision: u32, ltz: bool) -> String {
    let days = nanos.div_euclid(NANOS_PER_DAY);
    let of_day = nanos.rem_euclid(NANOS_PER_DAY) as i64;
    let date = match i32::try_from(days) {
        Ok(d) => render_date(d),
        Err(_) => return nanos.to_string(),
    };
    let secs = of_day / 1_000_000_000;
    let mut out = format!(
        "{date}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    push_fraction(&mut out, of_day % 1_000_000_000, precision);
    if ltz {
        out.push('Z');
    }
    out
}

/// Nanoseconds since the epoch → (epoch millis, nanos within the milli), as
/// [`crate::datum::Datum::Timestamp`] holds them.
pub fn nanos_to_millis(nanos: i128) -> Option<(i64, i32)> {
    let millis = i64::try_from(nanos.div_euclid(1_000_000)).ok()?;
    Some((millis, nanos.rem_euclid(1_000_000) as i32))
}

/// (epoch millis, nanos within the milli) → nanoseconds since the epoch.
pub fn millis_to_nanos(millis: i64, nanos_of_milli: i32) -> i128 {
    i128::from(millis) * 1_000_000 + i128::from(nanos_of_milli)
}
