//! Hive-style partition directories (`k1=v1/k2=v2/`) and the CLI's `--partition k=v,…` specs.
//!
//! Paths follow Java's `InternalRowPartitionComputer` in legacy-name mode (Paimon's default,
//! `partition.legacy-name = true`) and `PartitionPathUtils`:
//!
//! * each value is rendered from its *internal* representation, as Java's `toString()` of the
//!   internal object: DATE as days since epoch (`19724`), TIME as millis of day, BOOLEAN
//!   `true`/`false`, DECIMAL as a plain string with the column's scale (`1.20`), FLOAT/DOUBLE as
//!   Java's `Float/Double.toString` (`1.0`, `1.0E10`), TIMESTAMP as Java's
//!   `LocalDateTime.toString()` of the UTC wall clock (`2024-01-01T12:30`,
//!   `2024-01-01T12:30:05.123`), BINARY as its bytes read as UTF-8 (Java would print an object
//!   address; such partitions are not portable anyway);
//! * null, and a rendering that is empty or whitespace only, become the default partition name
//!   (`partition.default-name`, default [`DEFAULT_PARTITION_NAME`]);
//! * key and value are escaped ([`escape_path_name`]): `%XX` (upper-case hex) for control
//!   characters, DEL and `" # % ' * / : = ? \ { } [ ] ^`; space is kept.

use crate::datum::{format_decimal, Datum};
use crate::error::{Error, Result};
use crate::types::{DataType, TypeKind};
use crate::value_text::temporal::civil_from_days;
use crate::value_text::{self, ValueError};

/// Paimon's default `partition.default-name`.
pub const DEFAULT_PARTITION_NAME: &str = "__DEFAULT_PARTITION__";

fn needs_escaping(c: char) -> bool {
    matches!(
        c,
        '\u{00}'
            ..='\u{1F}'
                | '\u{7F}'
                | '"'
                | '#'
                | '%'
                | '\''
                | '*'
                | '/'
                | ':'
                | '='
                | '?'
                | '\\'
                | '{'
                | '}'
                | '['
                | ']'
                | '^'
    )
}

/// Escapes one path component as Java's `PartitionPathUtils.escapePathName`.
pub fn escape_path_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if needs_escaping(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Reverses [`escape_path_name`]: each `%` followed by two hex digits becomes that character
/// (code 0–255, as Java's `(char) code`); anything else is kept as is.
pub fn unescape_path_name(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(hi), Some(lo)) = (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                out.push(char::from(hi * 16 + lo));
                i += 3;
                continue;
            }
        }
        // Copy one whole UTF-8 character.
        let ch_len = s[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&s[i..i + ch_len]);
        i += ch_len;
    }
    out
}

/// Java's `Character.isWhitespace`: space, line and paragraph separators except the
/// non-breaking ones, plus `\t \n \u000B \f \r` and `\u001C`–`\u001F`.
fn java_is_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\r'
            | '\u{1C}'..='\u{1F}'
            | ' '
            | '\u{1680}'
            | '\u{2000}'..='\u{2006}'
            | '\u{2008}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Renders one partition value as legacy-mode Java does (unescaped); `None` when the value is
/// null or renders empty / whitespace only, i.e. when the default partition name applies.
pub fn render_partition_value(ty: &DataType, value: Option<&Datum>) -> Option<String> {
    let v = value?;
    let s = match (v, &ty.kind) {
        (Datum::Decimal(u), TypeKind::Decimal { scale, .. }) => format_decimal(*u, *scale),
        (Datum::Float(f), _) => java_float_to_string(*f as f64, format!("{:e}", f)),
        (Datum::Double(f), _) => java_float_to_string(*f, format!("{:e}", f)),
        (Datum::Timestamp { millis, nanos }, _) => java_local_date_time(*millis, *nanos),
        (Datum::Bytes(b), _) => String::from_utf8_lossy(b).into_owned(),
        (d, _) => d.to_string(),
    };
    if s.chars().all(java_is_whitespace) {
        None
    } else {
        Some(s)
    }
}

/// The partition directory of a row: `k1=v1/k2=v2/` (escaped, with a trailing slash), or `""`
/// for an unpartitioned table.
pub fn partition_path(
    names: &[String],
    types: &[DataType],
    values: &[Option<Datum>],
    default_name: &str,
) -> String {
    let mut out = String::new();
    for ((name, ty), value) in names.iter().zip(types).zip(values) {
        let rendered = render_partition_value(ty, value.as_ref());
        out.push_str(&escape_path_name(name));
        out.push('=');
        out.push_str(&escape_path_name(
            rendered.as_deref().unwrap_or(default_name),
        ));
        out.push('/');
    }
    out
}

/// Java's `Float/Double.toString` from Rust's shortest round-trip digits (`{:e}` output):
/// plain notation for 1e-3 ≤ |v| < 1e7 (at least one fractional digit), otherwise
/// `d.dddE±n`.
fn java_float_to_string(v: f64, sci: String) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let (neg, body) = match sci.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, sci.as_str()),
    };
    let (mant, exp) = body.split_once('e').unwrap_or((body, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let abs = v.abs();
    if (1e-3..1e7).contains(&abs) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.push_str(&"0".repeat(int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat((-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

/// Java's `LocalDateTime.toString()` of a UTC timestamp: `uuuu-MM-ddTHH:mm`, then `:ss` when
/// seconds or nanos are non-zero, then `.SSS`, `.SSSSSS` or `.SSSSSSSSS` as needed.
fn java_local_date_time(millis: i64, nanos_of_milli: i32) -> String {
    let days = millis.div_euclid(86_400_000);
    let ms_of_day = millis.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let year = if y.abs() < 1000 {
        if y < 0 {
            format!("-{:04}", -y)
        } else {
            format!("{y:04}")
        }
    } else if y > 9999 {
        format!("+{y}")
    } else {
        y.to_string()
    };
    let (h, mi, s) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
    );
    let nano = (ms_of_day % 1000) * 1_000_000 + nanos_of_milli as i64;
    let mut out = format!("{year}-{m:02}-{d:02}T{h:02}:{mi:02}");
    if s > 0 || nano > 0 {
        out.push_str(&format!(":{s:02}"));
        if nano > 0 {
            if nano % 1_000_000 == 0 {
                out.push_str(&format!(".{:03}", nano / 1_000_000));
            } else if nano % 1000 == 0 {
                out.push_str(&format!(".{:06}", nano / 1000));
            } else {
                out.push_str(&format!(".{nano:09}"));
            }
        }
    }
    out
}

/// Parses a CLI partition spec `k1=v1,k2=v2` into one value per partition key, in key order.
/// Every key must be given exactly once. A value equal to `default_name` is null. Values are
/// taken verbatim for strings and binary (the bytes of the text, as directory names hold
/// them); other types ignore surrounding spaces and take the text forms of
/// [`crate::value_text`] (decimals exact: `1.005` does not fit DECIMAL(5, 2)), and DATE and
/// TIME also the legacy path forms: days since epoch and millis of the day.
pub fn parse_partition_spec(
    spec: &str,
    names: &[String],
    types: &[DataType],
    default_name: &str,
) -> Result<Vec<Option<Datum>>> {
    let mut out: Vec<Option<Option<Datum>>> = vec![None; names.len()];
    let spec = spec.trim();
    if !spec.is_empty() {
        for piece in spec.split(',') {
            let (key, value) = piece.split_once('=').ok_or_else(|| {
                Error::invalid(format!("partition spec item {piece:?} is not key=value"))
            })?;
            let key = key.trim();
            let idx = names.iter().position(|n| n == key).ok_or_else(|| {
                Error::invalid(format!(
                    "{key:?} is not a partition key (partition keys: {})",
                    names.join(", ")
                ))
            })?;
            if out[idx].is_some() {
                return Err(Error::invalid(format!(
                    "partition key {key} is given twice"
                )));
            }
            let v = if value == default_name || value.trim() == default_name {
                None
            } else {
                Some(parse_value(value, &types[idx]).map_err(|e| {
                    Error::invalid(format!(
                        "partition key {key}: bad value {value:?}: {}",
                        e.reason
                    ))
                })?)
            };
            out[idx] = Some(v);
        }
    }
    let missing: Vec<&str> = names
        .iter()
        .zip(&out)
        .filter(|(_, v)| v.is_none())
        .map(|(n, _)| n.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::invalid(format!(
            "partition spec {spec:?} lacks partition key(s) {}",
            missing.join(", ")
        )));
    }
    Ok(out.into_iter().map(Option::flatten).collect())
}

/// One value of a partition spec: the codec's text form ([`value_text::parse`]), except that
/// strings and bytes are taken verbatim (as directory names hold them) and DATE and TIME also
/// take the legacy path forms (days since epoch, millis of the day).
fn parse_value(raw: &str, ty: &DataType) -> std::result::Result<Datum, ValueError> {
    let t = raw.trim();
    Ok(match &ty.kind {
        TypeKind::Char(_) | TypeKind::VarChar(_) => Datum::String(raw.to_string()),
        TypeKind::Binary(_) | TypeKind::VarBinary(_) => Datum::Bytes(raw.as_bytes().to_vec()),
        TypeKind::Date if is_integer(t) => {
            Datum::Date(value_text::parse_integer(t, &DataType::new(TypeKind::Int))? as i32)
        }
        TypeKind::Time(_) if is_integer(t) => {
            let ms = value_text::parse_integer(t, &DataType::new(TypeKind::Int))?;
            if !(0..86_400_000).contains(&ms) {
                return Err(ValueError::range(t, "is not a millisecond of the day"));
            }
            Datum::Time(ms as i32)
        }
        _ => value_text::parse(raw, ty)?,
    })
}

fn is_integer(t: &str) -> bool {
    let body = t.strip_prefix('-').unwrap_or(t);
    !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::parse_type;

    fn ty(s: &str) -> DataType {
        parse_type(s).unwrap()
    }
    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_path_name("a/b c=d"), "a%2Fb c%3Dd");
        assert_eq!(
            escape_path_name("\"#%'*/:=?\\{}[]^"),
            "%22%23%25%27%2A%2F%3A%3D%3F%5C%7B%7D%5B%5D%5E"
        );
        assert_eq!(
            escape_path_name("\u{0}\n\u{1f}\u{7f}é ok"),
            "%00%0A%1F%7Fé ok"
        );
        for s in ["a/b c=d", "%zz%", "50%", "x%2", "é/ü", "\u{1}[x]"] {
            assert_eq!(unescape_path_name(&escape_path_name(s)), s);
        }
        assert_eq!(unescape_path_name("a%2fb%"), "a/b%");
        assert_eq!(unescape_path_name("%G1%4"), "%G1%4");
    }

    #[test]
    fn paths() {
        let n = names(&["s"]);
        let t = [ty("STRING")];
        let p = partition_path(
            &n,
            &t,
            &[Some(Datum::String("a/b c=d".into()))],
            DEFAULT_PARTITION_NAME,
        );
        assert_eq!(p, "s=a%2Fb c%3Dd/");
        let n = names(&["dt", "hr"]);
        let t = [ty("STRING"), ty("INT")];
        let v = [
            Some(Datum::String("2024-01-01".into())),
            Some(Datum::Int(1)),
        ];
        assert_eq!(partition_path(&n, &t, &v, "__D__"), "dt=2024-01-01/hr=1/");
        for blank in [
            None,
            Some(Datum::String(String::new())),
            Some(Datum::String(" \t\u{3000}".into())),
        ] {
            let v = [blank, None];
            assert_eq!(partition_path(&n, &t, &v, "__D__"), "dt=__D__/hr=__D__/");
        }
        assert_eq!(partition_path(&[], &[], &[], "x"), "");
        // A non-breaking space is not whitespace to Java.
        let v = [Some(Datum::String("\u{A0}".into())), Some(Datum::Int(2))];
        assert_eq!(partition_path(&n, &t, &v, "__D__"), "dt=\u{A0}/hr=2/");
    }

    #[test]
    fn legacy_rendering() {
        let r = |t: &str, d: Datum| render_partition_value(&ty(t), Some(&d)).unwrap();
        assert_eq!(r("DATE", Datum::Date(19724)), "19724");
        assert_eq!(r("BOOLEAN", Datum::Bool(true)), "true");
        assert_eq!(r("DECIMAL(10, 2)", Datum::Decimal(120)), "1.20");
        assert_eq!(r("DECIMAL(10, 3)", Datum::Decimal(-5)), "-0.005");
        assert_eq!(r("TIME(3)", Datum::Time(3_600_000)), "3600000");
        assert_eq!(r("FLOAT", Datum::Float(1.5)), "1.5");
        assert_eq!(r("FLOAT", Datum::Float(1.0)), "1.0");
        assert_eq!(r("FLOAT", Datum::Float(0.1)), "0.1");
        assert_eq!(r("DOUBLE", Datum::Double(1e10)), "1.0E10");
        assert_eq!(r("DOUBLE", Datum::Double(1234567.0)), "1234567.0");
        assert_eq!(r("DOUBLE", Datum::Double(12345678.9)), "1.23456789E7");
        assert_eq!(r("DOUBLE", Datum::Double(0.001)), "0.001");
        assert_eq!(r("DOUBLE", Datum::Double(-0.0001)), "-1.0E-4");
        assert_eq!(r("DOUBLE", Datum::Double(100.0)), "100.0");
        assert_eq!(r("DOUBLE", Datum::Double(-0.0)), "-0.0");
        assert_eq!(r("DOUBLE", Datum::Double(f64::NAN)), "NaN");
        let ts = |millis, nanos| Datum::Timestamp { millis, nanos };
        for (t, millis, nanos, want) in [
            ("TIMESTAMP(3)", 1_704_067_200_000, 0, "2024-01-01T00:00"),
            ("TIMESTAMP(3)", 1_704_067_205_000, 0, "2024-01-01T00:00:05"),
            (
                "TIMESTAMP(3)",
                1_704_067_200_123,
                0,
                "2024-01-01T00:00:00.123",
            ),
            (
                "TIMESTAMP(6)",
                1_704_067_200_123,
                456_000,
                "2024-01-01T00:00:00.123456",
            ),
            ("TIMESTAMP(9)", 0, 1, "1970-01-01T00:00:00.000000001"),
            ("TIMESTAMP(3)", -1, 0, "1969-12-31T23:59:59.999"),
            (
                "TIMESTAMP(3) WITH LOCAL TIME ZONE",
                -62_135_596_800_000,
                0,
                "0001-01-01T00:00",
            ),
        ] {
            assert_eq!(r(t, ts(millis, nanos)), want, "{t} {millis} {nanos}");
        }
    }

    #[test]
    fn spec_parsing() {
        let n = names(&["dt", "hr", "d", "p", "ts"]);
        let t = [
            ty("STRING"),
            ty("INT"),
            ty("DATE"),
            ty("DECIMAL(5, 2)"),
            ty("TIMESTAMP(6)"),
        ];
        let v = parse_partition_spec(
            "dt=2024-01-01, hr=7,d=2024-01-02,p=1.010,ts=2024-01-01 00:00:01.5",
            &n,
            &t,
            DEFAULT_PARTITION_NAME,
        )
        .unwrap();
        assert_eq!(
            v,
            vec![
                Some(Datum::String("2024-01-01".into())),
                Some(Datum::Int(7)),
                Some(Datum::Date(19724)),
                Some(Datum::Decimal(101)),
                Some(Datum::Timestamp {
                    millis: 1_704_067_201_500,
                    nanos: 0
                }),
            ]
        );
        let v = parse_partition_spec(
            "hr=__DEFAULT_PARTITION__,dt=,d=19724,p=-0.5,ts=2024-01-01T00:00",
            &n,
            &t,
            DEFAULT_PARTITION_NAME,
        )
        .unwrap();
        assert_eq!(v[0], Some(Datum::String(String::new())));
        assert_eq!(v[1], None);
        assert_eq!(v[2], Some(Datum::Date(19724)));
        assert_eq!(v[3], Some(Datum::Decimal(-50)));
        assert_eq!(
            v[4],
            Some(Datum::Timestamp {
                millis: 1_704_067_200_000,
                nanos: 0
            })
        );
    }

    #[test]
    fn spec_errors_name_the_problem() {
        let n = names(&["dt", "hr"]);
        let t = [ty("STRING"), ty("INT")];
        let err = |s: &str| {
            parse_partition_spec(s, &n, &t, DEFAULT_PARTITION_NAME)
                .unwrap_err()
                .to_string()
        };
        assert!(
            err("dt=a,hr=x").contains("partition key hr: bad value \"x\""),
            "{}",
            err("dt=a,hr=x")
        );
        assert!(err("dt=a,zz=1").contains("\"zz\" is not a partition key"));
        assert!(err("dt=a").contains("lacks partition key(s) hr"));
        assert!(err("dt=a,dt=b,hr=1").contains("given twice"));
        assert!(err("dt").contains("not key=value"));
        let e = parse_partition_spec("p=1234.5", &names(&["p"]), &[ty("DECIMAL(5, 2)")], "x");
        assert!(e.unwrap_err().to_string().contains("does not fit"));
        let e = parse_partition_spec("t=25:00", &names(&["t"]), &[ty("TIMESTAMP(3)")], "x");
        assert!(e.is_err());
        // Decimals are exact (this was once rounded half-up to 1.01).
        let e = parse_partition_spec("p=1.005", &names(&["p"]), &[ty("DECIMAL(5, 2)")], "x");
        let e = e.unwrap_err().to_string();
        assert!(
            e.contains("more than 2 digits after the decimal point"),
            "{e}"
        );
        // TIME keeps milliseconds: more digits are an error, not dropped.
        let e = parse_partition_spec("t=00:00:00.0001", &names(&["t"]), &[ty("TIME(6)")], "x");
        assert!(e.is_err());
        let e = parse_partition_spec("t=86400000", &names(&["t"]), &[ty("TIME(3)")], "x");
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("millisecond of the day"));
    }

    #[test]
    fn spec_round_trips_rendered_paths() {
        let n = names(&["d", "b", "f"]);
        let t = [ty("DATE"), ty("BOOLEAN"), ty("DOUBLE")];
        let v = vec![
            Some(Datum::Date(19724)),
            Some(Datum::Bool(false)),
            Some(Datum::Double(2.5)),
        ];
        let rendered: Vec<String> = n
            .iter()
            .zip(&t)
            .zip(&v)
            .map(|((n, t), v)| format!("{n}={}", render_partition_value(t, v.as_ref()).unwrap()))
            .collect();
        assert_eq!(
            parse_partition_spec(&rendered.join(","), &n, &t, "x").unwrap(),
            v
        );
    }
}
