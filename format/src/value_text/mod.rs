//! The one text form of a value of every primitive Paimon type: [`parse`] (text → [`Datum`])
//! and [`render`] (value → text), with `parse(render(v)) == v` for every value of the type.
//! CSV and JSON input, CLI output, `--where` literals and `--partition` specs all use it; a
//! value that would lose data (too many fraction digits, overflow, too long) is an error,
//! never silently changed.
//!
//! Forms accepted by [`parse`] (surrounding whitespace is ignored except for text types):
//!
//! | type | accepted | rendered |
//! |---|---|---|
//! | BOOLEAN | `true`, `false`, `1`, `0` (any case) | `true` |
//! | TINYINT … BIGINT | `[+\|-]digits`, range-checked | `-7` |
//! | FLOAT, DOUBLE | Rust's float syntax (`1.5`, `-2e-3`, `NaN`, `Infinity`, `inf`, any case); a finite text beyond the type's range is an error | shortest round-trip (`0.1`, `1e20`, `NaN`, `-Infinity`) |
//! | DECIMAL(p, s) | see [`decimal`] (exponents accepted, exact) | `12.30` |
//! | CHAR(n), VARCHAR(n) | the text as is, at most `n` characters | as is |
//! | BINARY(n), VARBINARY(n), VARIANT, BLOB | base64 ([`base64`]), at most `n` bytes | padded base64 |
//! | DATE, TIME(p), TIMESTAMP(p), TIMESTAMP(p) WITH LOCAL TIME ZONE | ISO 8601, see [`temporal`] | `2024-01-31T13:45:00.123Z` |
//!
//! Partition directory names use Java's legacy renderings instead ([`crate::partition`]).

pub mod base64;
pub mod decimal;
pub mod temporal;

use std::fmt;

use crate::datum::Datum;
use crate::types::{DataType, TypeKind, MAX_LENGTH};

pub use decimal::{parse_decimal, render_decimal};
pub use temporal::{
    parse_date, parse_time, parse_timestamp, render_date, render_time, render_timestamp,
};

/// What is wrong with a text as a value of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueErrorKind {
    /// Not of the type's form.
    Syntax,
    /// Of the form, but out of the type's range (integers, decimals, dates, floats).
    OutOfRange,
    /// More fraction digits than the type keeps.
    LosesDigits,
    /// Longer than CHAR/VARCHAR/BINARY/VARBINARY(n) allow.
    TooLong,
    /// The type has no text form here (nested types).
    Unsupported,
}

/// A text that is not a value of a type: the text (cut when long) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub kind: ValueErrorKind,
    /// The offending text, cut to 40 characters.
    pub text: String,
    /// Why, as a predicate of the text: `is out of range for TINYINT (-128 to 127)`.
    pub reason: String,
}

impl ValueError {
    pub fn new(kind: ValueErrorKind, text: &str, reason: impl Into<String>) -> Self {
        let text = if text.chars().count() > 40 {
            format!("{}…", text.chars().take(40).collect::<String>())
        } else {
            text.to_string()
        };
        ValueError {
            kind,
            text,
            reason: reason.into(),
        }
    }
    pub(crate) fn syntax(text: &str, reason: impl Into<String>) -> Self {
        Self::new(ValueErrorKind::Syntax, text, reason)
    }
    pub(crate) fn range(text: &str, reason: impl Into<String>) -> Self {
        Self::new(ValueErrorKind::OutOfRange, text, reason)
    }
    pub(crate) fn digits(text: &str, reason: impl Into<String>) -> Self {
        Self::new(ValueErrorKind::LosesDigits, text, reason)
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {}", self.text, self.reason)
    }
}

impl std::error::Error for ValueError {}

/// The type's name without NOT NULL, for messages.
fn type_name(ty: &DataType) -> String {
    ty.with_nullable(true).to_string()
}

/// Text → a value of `ty` (see the module docs for the forms).
pub fn parse(text: &str, ty: &DataType) -> Result<Datum, ValueError> {
    Ok(match &ty.kind {
        TypeKind::Boolean => Datum::Bool(parse_bool(text)?),
        TypeKind::TinyInt => Datum::TinyInt(parse_integer(text, ty)? as i8),
        TypeKind::SmallInt => Datum::SmallInt(parse_integer(text, ty)? as i16),
        TypeKind::Int => Datum::Int(parse_integer(text, ty)? as i32),
        TypeKind::BigInt => Datum::BigInt(parse_integer(text, ty)?),
        TypeKind::Float => Datum::Float(parse_float(text)?),
        TypeKind::Double => Datum::Double(parse_double(text)?),
        TypeKind::Decimal { precision, scale } => {
            Datum::Decimal(parse_decimal(text, *precision, *scale)?)
        }
        TypeKind::Char(n) | TypeKind::VarChar(n) => {
            check_chars(text, *n, ty)?;
            Datum::String(text.to_string())
        }
        TypeKind::Binary(_) | TypeKind::VarBinary(_) | TypeKind::Variant | TypeKind::Blob => {
            Datum::Bytes(parse_bytes(text, ty)?)
        }
        TypeKind::Date => Datum::Date(parse_date(text)?),
        TypeKind::Time(p) => Datum::Time(parse_time(text, *p)?),
        TypeKind::Timestamp(p) | TypeKind::LocalZonedTimestamp(p) => {
            let ltz = matches!(ty.kind, TypeKind::LocalZonedTimestamp(_));
            let nanos = parse_timestamp(text, *p, ltz)?;
            let (millis, nanos) = temporal::nanos_to_millis(nanos).ok_or_else(|| {
                ValueError::range(
                    text.trim(),
                    format!("is out of range for {}", type_name(ty)),
                )
            })?;
            Datum::Timestamp { millis, nanos }
        }
        TypeKind::Array(_) | TypeKind::Multiset(_) | TypeKind::Map(..) | TypeKind::Row(_) => {
            return Err(ValueError::new(
                ValueErrorKind::Unsupported,
                text,
                format!(
                    "cannot be a value of {}: it has no text form",
                    type_name(ty)
                ),
            ))
        }
    })
}

/// A value of `ty` → its text (see the module docs); `parse(&render(v, ty), ty) == v`.
pub fn render(value: &Datum, ty: &DataType) -> String {
    match (value, &ty.kind) {
        (Datum::Bool(v), _) => v.to_string(),
        (Datum::TinyInt(v), _) => v.to_string(),
        (Datum::SmallInt(v), _) => v.to_string(),
        (Datum::Int(v), _) => v.to_string(),
        (Datum::BigInt(v), _) => v.to_string(),
        (Datum::Float(v), _) => render_float(f64::from(*v), format!("{v:?}")),
        (Datum::Double(v), _) => render_float(*v, format!("{v:?}")),
        (Datum::Decimal(u), TypeKind::Decimal { scale, .. }) => render_decimal(*u, *scale),
        (Datum::Decimal(u), _) => u.to_string(),
        (Datum::String(s), _) => s.clone(),
        (Datum::Bytes(b), _) => base64::encode(b),
        (Datum::Date(d), _) => render_date(*d),
        (Datum::Time(ms), TypeKind::Time(p)) => render_time(*ms, *p),
        (Datum::Time(ms), _) => render_time(*ms, 3),
        (Datum::Timestamp { millis, nanos }, kind) => {
            let (p, ltz) = match kind {
                TypeKind::Timestamp(p) => (*p, false),
                TypeKind::LocalZonedTimestamp(p) => (*p, true),
                _ => (9, false),
            };
            render_timestamp(temporal::millis_to_nanos(*millis, *nanos), p, ltz)
        }
    }
}

/// `true`, `false`, `1`, `0` in any case.
pub fn parse_bool(text: &str) -> Result<bool, ValueError> {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ValueError::syntax(
            t,
            "is not a valid BOOLEAN (true or false)",
        )),
    }
}

/// `[+|-]digits` as a value of the integer type `ty` (TINYINT to BIGINT), range-checked.
pub fn parse_integer(text: &str, ty: &DataType) -> Result<i64, ValueError> {
    let (min, max): (i64, i64) = match ty.kind {
        TypeKind::TinyInt => (i8::MIN.into(), i8::MAX.into()),
        TypeKind::SmallInt => (i16::MIN.into(), i16::MAX.into()),
        TypeKind::Int => (i32::MIN.into(), i32::MAX.into()),
        _ => (i64::MIN, i64::MAX),
    };
    let t = text.trim();
    let name = type_name(ty);
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::syntax(t, format!("is not a valid {name}")));
    }
    match t.parse::<i128>() {
        Ok(v) if (i128::from(min)..=i128::from(max)).contains(&v) => Ok(v as i64),
        _ => Err(ValueError::range(
            t,
            format!("is out of range for {name} ({min} to {max})"),
        )),
    }
}

/// Whether a float text names an infinity (then an infinite result is not an overflow).
fn names_infinity(t: &str) -> bool {
    let l = t.trim_start_matches(['+', '-']).to_ascii_lowercase();
    l == "inf" || l == "infinity"
}

/// A DOUBLE: Rust's float syntax, `NaN`, `Infinity`; finite text beyond the range is an error.
pub fn parse_double(text: &str) -> Result<f64, ValueError> {
    parse_finite(text, "DOUBLE", f64::is_infinite)
}

/// A FLOAT, parsed directly (one rounding); finite text beyond the range is an error.
pub fn parse_float(text: &str) -> Result<f32, ValueError> {
    parse_finite(text, "FLOAT", f32::is_infinite)
}

fn parse_finite<T: std::str::FromStr + Copy>(
    text: &str,
    name: &str,
    is_infinite: impl Fn(T) -> bool,
) -> Result<T, ValueError> {
    let t = text.trim();
    let v: T = t
        .parse()
        .map_err(|_| ValueError::syntax(t, format!("is not a valid {name}")))?;
    if is_infinite(v) && !names_infinity(t) {
        return Err(ValueError::range(t, format!("is out of range for {name}")));
    }
    Ok(v)
}

/// `NaN`, `Infinity`, `-Infinity`, else the shortest round-trip digits given.
fn render_float(v: f64, shortest: String) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        shortest
    }
}

/// A DOUBLE's text: shortest round-trip digits, `NaN`, `Infinity`, `-Infinity`.
pub fn render_double(v: f64) -> String {
    render_float(v, format!("{v:?}"))
}

/// A FLOAT's text: shortest round-trip digits of the `f32`, `NaN`, `Infinity`, `-Infinity`.
pub fn render_f32(v: f32) -> String {
    render_float(f64::from(v), format!("{v:?}"))
}

/// Checks that `text` fits CHAR/VARCHAR(`max_chars`).
pub fn check_chars(text: &str, max_chars: u32, ty: &DataType) -> Result<(), ValueError> {
    if max_chars != MAX_LENGTH {
        let n = text.chars().count();
        if n > max_chars as usize {
            return Err(ValueError::new(
                ValueErrorKind::TooLong,
                text,
                format!(
                    "has {n} characters, more than {} holds ({max_chars})",
                    type_name(ty)
                ),
            ));
        }
    }
    Ok(())
}

/// Base64 text → the bytes of a BINARY/VARBINARY(n) (at most `n`), VARIANT or BLOB.
pub fn parse_bytes(text: &str, ty: &DataType) -> Result<Vec<u8>, ValueError> {
    let t = text.trim();
    let name = type_name(ty);
    let bytes = base64::decode(t)
        .map_err(|why| ValueError::syntax(t, format!("is not valid base64 for {name}: {why}")))?;
    let max_len = match ty.kind {
        TypeKind::Binary(n) | TypeKind::VarBinary(n) => n,
        _ => MAX_LENGTH,
    };
    if max_len != MAX_LENGTH && bytes.len() > max_len as usize {
        return Err(ValueError::new(
            ValueErrorKind::TooLong,
            t,
            format!(
                "decodes to {} bytes, more than {name} holds ({max_len})",
                bytes.len()
            ),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests;
