//! Binding: resolving columns and converting literals to the columns' types (strictly: a
//! value that does not fit its column is an error, never silently rounded).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use streamhouse_format::datum::{format_decimal, Datum};
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::{DataField, DataType, TypeKind};

use super::{CmpOp, Expr, ExprKind, Leaf, Lit, Literal, PosError, Predicate, Test, TypedKeyword};

type BResult<T> = Result<T, PosError>;

/// Finds a column: exact name first, then a unique case-insensitive match.
fn resolve<'a>(schema: &'a TableSchema, name: &str, pos: Option<usize>) -> BResult<&'a DataField> {
    if let Some(f) = schema.field(name) {
        return Ok(f);
    }
    let folded: Vec<&DataField> = schema
        .fields
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case(name))
        .collect();
    if folded.len() == 1 {
        return Ok(folded[0]);
    }
    Err(PosError::new(
        pos,
        format!(
            "unknown column {name:?}; the table's columns are {}",
            schema.field_names().join(", ")
        ),
    ))
}

fn leaf(f: &DataField, test: Test) -> Predicate {
    Predicate::Leaf(Leaf {
        column: f.name.clone(),
        field_id: f.id,
        ty: f.data_type.clone(),
        test,
    })
}

pub(super) fn bind(e: &Expr, schema: &TableSchema) -> BResult<Predicate> {
    let field = |name: &str| {
        let f = resolve(schema, name, e.pos)?;
        if f.data_type.is_nested() {
            return Err(PosError::new(
                e.pos,
                format!(
                    "column {} has nested type {}; predicates test primitive columns",
                    f.name, f.data_type
                ),
            ));
        }
        Ok(f)
    };
    Ok(match &e.kind {
        ExprKind::Bool(b) => Predicate::Const(*b),
        ExprKind::Compare { column, op, value } => {
            let f = field(column)?;
            let v = convert(value, f, "a comparison")?;
            leaf(f, Test::Cmp(*op, v))
        }
        ExprKind::Between {
            column,
            low,
            high,
            negated,
        } => {
            let f = field(column)?;
            let lo = convert(low, f, "BETWEEN")?;
            let hi = convert(high, f, "BETWEEN")?;
            let p = Predicate::And(vec![
                leaf(f, Test::Cmp(CmpOp::Ge, lo)),
                leaf(f, Test::Cmp(CmpOp::Le, hi)),
            ]);
            if *negated {
                Predicate::Not(Box::new(p))
            } else {
                p
            }
        }
        ExprKind::In {
            column,
            list,
            negated,
        } => {
            let f = field(column)?;
            let values = list
                .iter()
                .map(|l| convert(l, f, "an IN list"))
                .collect::<BResult<Vec<_>>>()?;
            if values.is_empty() {
                return Err(PosError::new(e.pos, "an IN list needs at least one value"));
            }
            let p = leaf(f, Test::In(values));
            if *negated {
                Predicate::Not(Box::new(p))
            } else {
                p
            }
        }
        ExprKind::IsNull { column, negated } => {
            let f = field(column)?;
            let p = leaf(f, Test::IsNull);
            if *negated {
                Predicate::Not(Box::new(p))
            } else {
                p
            }
        }
        ExprKind::And(ps) => Predicate::all(
            ps.iter()
                .map(|p| bind(p, schema))
                .collect::<BResult<Vec<_>>>()?,
        ),
        ExprKind::Or(ps) => Predicate::Or(
            ps.iter()
                .map(|p| bind(p, schema))
                .collect::<BResult<Vec<_>>>()?,
        ),
        ExprKind::Not(p) => Predicate::Not(Box::new(bind(p, schema)?)),
    })
}

/// Converts a literal to the type of column `f`.
fn convert(l: &Lit, f: &DataField, ctx: &str) -> BResult<Datum> {
    let ty = &f.data_type;
    let err = |msg: String| PosError::new(l.pos, msg);
    let mismatch = |what: &str| {
        err(format!(
            "{what} cannot be compared with column {} of type {ty}{}",
            f.name,
            hint(ty)
        ))
    };
    match &l.value {
        Literal::Null => Err(err(format!(
            "NULL in {ctx} never matches; test for NULL with `{} IS NULL`",
            f.name
        ))),
        Literal::Value(d) => from_datum(d, ty).ok_or_else(|| mismatch(&format!("value {d:?}"))),
        Literal::Bool(b) => match ty.kind {
            TypeKind::Boolean => Ok(Datum::Bool(*b)),
            _ => Err(mismatch("a boolean")),
        },
        Literal::Bytes(b) => match ty.kind {
            TypeKind::Binary(_) | TypeKind::VarBinary(_) => Ok(Datum::Bytes(b.clone())),
            _ => Err(mismatch("a bytes literal")),
        },
        Literal::Number(n) => number(n, ty).map_err(|m| {
            err(format!(
                "{n} does not fit column {} of type {ty}: {m}",
                f.name
            ))
        }),
        Literal::String(s) => text(s, ty).map_err(|m| {
            err(format!(
                "'{s}' does not fit column {} of type {ty}: {m}",
                f.name
            ))
        }),
        Literal::Typed(kw, s) => {
            let ok = matches!(
                (kw, &ty.kind),
                (TypedKeyword::Date, TypeKind::Date)
                    | (TypedKeyword::Time, TypeKind::Time(_))
                    | (
                        TypedKeyword::Timestamp,
                        TypeKind::Timestamp(_) | TypeKind::LocalZonedTimestamp(_)
                    )
            );
            if !ok {
                return Err(mismatch(&format!("a {kw:?} literal").to_uppercase()));
            }
            text(s, ty).map_err(|m| {
                err(format!(
                    "'{s}' does not fit column {} of type {ty}: {m}",
                    f.name
                ))
            })
        }
    }
}

fn hint(ty: &DataType) -> &'static str {
    match ty.kind {
        TypeKind::Char(_) | TypeKind::VarChar(_) => " (quote text: 'abc')",
        TypeKind::Date => " (write dates as '2024-01-31')",
        TypeKind::Timestamp(_) | TypeKind::LocalZonedTimestamp(_) => {
            " (write timestamps as '2024-01-31 13:45:00')"
        }
        TypeKind::Binary(_) | TypeKind::VarBinary(_) => " (write bytes as X'0aff')",
        TypeKind::Boolean => " (write TRUE or FALSE)",
        _ => "",
    }
}

/// A program-supplied value converted to `ty` (integers widen or narrow when they fit).
fn from_datum(d: &Datum, ty: &DataType) -> Option<Datum> {
    let int = match d {
        Datum::TinyInt(v) => Some(*v as i128),
        Datum::SmallInt(v) => Some(*v as i128),
        Datum::Int(v) => Some(*v as i128),
        Datum::BigInt(v) => Some(*v as i128),
        _ => None,
    };
    if let Some(v) = int {
        return match ty.kind {
            TypeKind::TinyInt => i8::try_from(v).ok().map(Datum::TinyInt),
            TypeKind::SmallInt => i16::try_from(v).ok().map(Datum::SmallInt),
            TypeKind::Int => i32::try_from(v).ok().map(Datum::Int),
            TypeKind::BigInt => i64::try_from(v).ok().map(Datum::BigInt),
            TypeKind::Float => Some(Datum::Float(v as f32)),
            TypeKind::Double => Some(Datum::Double(v as f64)),
            TypeKind::Decimal { precision, scale } => v
                .checked_mul(10i128.checked_pow(scale)?)
                .filter(|u| digits(*u) <= precision)
                .map(Datum::Decimal),
            _ => None,
        };
    }
    let same = std::mem::discriminant(d) == std::mem::discriminant(&sample(ty)?);
    if same {
        return Some(d.clone());
    }
    match (d, &ty.kind) {
        (Datum::Float(v), TypeKind::Double) => Some(Datum::Double(*v as f64)),
        (Datum::Double(v), TypeKind::Float) if (*v as f32) as f64 == *v => {
            Some(Datum::Float(*v as f32))
        }
        _ => None,
    }
}

/// A value of the datum variant `ty` uses.
fn sample(ty: &DataType) -> Option<Datum> {
    Some(match ty.kind {
        TypeKind::Boolean => Datum::Bool(false),
        TypeKind::TinyInt => Datum::TinyInt(0),
        TypeKind::SmallInt => Datum::SmallInt(0),
        TypeKind::Int => Datum::Int(0),
        TypeKind::BigInt => Datum::BigInt(0),
        TypeKind::Float => Datum::Float(0.0),
        TypeKind::Double => Datum::Double(0.0),
        TypeKind::Decimal { .. } => Datum::Decimal(0),
        TypeKind::Char(_) | TypeKind::VarChar(_) => Datum::String(String::new()),
        TypeKind::Binary(_) | TypeKind::VarBinary(_) => Datum::Bytes(vec![]),
        TypeKind::Date => Datum::Date(0),
        TypeKind::Time(_) => Datum::Time(0),
        TypeKind::Timestamp(_) | TypeKind::LocalZonedTimestamp(_) => Datum::Timestamp {
            millis: 0,
            nanos: 0,
        },
        _ => return None,
    })
}

fn digits(u: i128) -> u32 {
    let mut n = u.unsigned_abs();
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// A number literal as a value of `ty`.
fn number(n: &str, ty: &DataType) -> Result<Datum, String> {
    let int = || -> Result<i128, String> {
        if n.contains(['.', 'e', 'E']) {
            return Err("the column holds whole numbers".into());
        }
        n.trim_start_matches('+')
            .parse::<i128>()
            .map_err(|_| "out of range".into())
    };
    let range = |_| "out of range".to_string();
    Ok(match ty.kind {
        TypeKind::TinyInt => Datum::TinyInt(i8::try_from(int()?).map_err(range)?),
        TypeKind::SmallInt => Datum::SmallInt(i16::try_from(int()?).map_err(range)?),
        TypeKind::Int => Datum::Int(i32::try_from(int()?).map_err(range)?),
        TypeKind::BigInt => Datum::BigInt(i64::try_from(int()?).map_err(range)?),
        TypeKind::Float | TypeKind::Double => {
            let v: f64 = n.parse().map_err(|_| "not a number".to_string())?;
            if !v.is_finite() {
                return Err("out of range".into());
            }
            if ty.kind == TypeKind::Float {
                Datum::Float(v as f32)
            } else {
                Datum::Double(v)
            }
        }
        TypeKind::Decimal { precision, scale } => Datum::Decimal(decimal(n, precision, scale)?),
        _ => return Err(format!("a number is not a value of this type{}", hint(ty))),
    })
}

/// `12.5` as the unscaled value of DECIMAL(p, s); at most `s` fraction digits.
fn decimal(n: &str, precision: u32, scale: u32) -> Result<i128, String> {
    if n.contains(['e', 'E']) {
        return Err("write decimals without an exponent".into());
    }
    let (neg, body) = match n.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, n.trim_start_matches('+')),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let frac_trim = frac.trim_end_matches('0');
    if frac_trim.len() > scale as usize {
        return Err(format!("more than {scale} digits after the decimal point"));
    }
    let digits_text = format!("{int}{frac_trim:0<width$}", width = scale as usize);
    let digits_text = digits_text.trim_start_matches('0');
    if digits_text.len() > precision as usize {
        return Err(format!("more than {precision} digits"));
    }
    let v: i128 = if digits_text.is_empty() {
        0
    } else {
        digits_text
            .parse()
            .map_err(|_| "not a decimal number".to_string())?
    };
    Ok(if neg { -v } else { v })
}

/// Quoted text as a value of `ty`.
fn text(s: &str, ty: &DataType) -> Result<Datum, String> {
    let t = s.trim();
    Ok(match ty.kind {
        TypeKind::Char(_) | TypeKind::VarChar(_) => Datum::String(s.to_string()),
        TypeKind::Float | TypeKind::Double => {
            let v: f64 = match t.to_ascii_lowercase().as_str() {
                "nan" => f64::NAN,
                "infinity" | "inf" | "+infinity" => f64::INFINITY,
                "-infinity" | "-inf" => f64::NEG_INFINITY,
                _ => return Err("quote only NaN, Infinity or -Infinity; write numbers bare".into()),
            };
            if ty.kind == TypeKind::Float {
                Datum::Float(v as f32)
            } else {
                Datum::Double(v)
            }
        }
        TypeKind::Date => Datum::Date(date(t)?),
        TypeKind::Time(p) => {
            let tm = NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
                .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
                .map_err(|_| "not a time like 13:45:00 or 13:45:00.250".to_string())?;
            check_fraction(t, p.min(3))?;
            Datum::Time(
                (tm.num_seconds_from_midnight() * 1000 + tm.nanosecond() / 1_000_000) as i32,
            )
        }
        TypeKind::Timestamp(p) => {
            let dt = naive_timestamp(t)?;
            check_fraction(t, p)?;
            split(dt.and_utc().timestamp_nanos_opt(), dt)?
        }
        TypeKind::LocalZonedTimestamp(p) => {
            let (dt, frac_text) = match DateTime::parse_from_rfc3339(&t.replacen(' ', "T", 1)) {
                Ok(z) => (z.naive_utc(), t.to_string()),
                Err(_) => (naive_timestamp(t)?, t.to_string()),
            };
            check_fraction(frac_text.trim_end_matches('Z'), p)?;
            split(dt.and_utc().timestamp_nanos_opt(), dt)?
        }
        _ => return Err(format!("text is not a value of this type{}", hint(ty))),
    })
}

fn date(t: &str) -> Result<i32, String> {
    let d = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map_err(|_| "not a date like 2024-01-31".to_string())?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or("bad epoch")?;
    Ok((d - epoch).num_days() as i32)
}

fn naive_timestamp(t: &str) -> Result<NaiveDateTime, String> {
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(dt);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .ok_or_else(|| "not a timestamp".to_string());
    }
    Err("not a timestamp like 2024-01-31 13:45:00[.123456]".into())
}

/// Fails when the text has more fraction digits than `precision`.
fn check_fraction(t: &str, precision: u32) -> Result<(), String> {
    let frac = t
        .rsplit_once('.')
        .filter(|(head, _)| head.contains(':'))
        .map(|(_, f)| f.chars().take_while(|c| c.is_ascii_digit()).count())
        .unwrap_or(0);
    if frac > precision as usize {
        return Err(format!(
            "{frac} fraction digits but the column keeps {precision}"
        ));
    }
    Ok(())
}

fn split(nanos: Option<i64>, dt: NaiveDateTime) -> Result<Datum, String> {
    let millis = dt.and_utc().timestamp_millis();
    let _ = nanos;
    Ok(Datum::Timestamp {
        millis,
        nanos: (dt.nanosecond() % 1_000_000) as i32,
    })
}

/// A value as a literal of the `--where` syntax (for `Display`).
pub(super) fn sql(d: &Datum, ty: &DataType) -> String {
    match (d, &ty.kind) {
        (Datum::Bool(b), _) => if *b { "TRUE" } else { "FALSE" }.into(),
        (Datum::String(s), _) => format!("'{}'", s.replace('\'', "''")),
        (Datum::Bytes(b), _) => format!(
            "X'{}'",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
        (Datum::Decimal(u), TypeKind::Decimal { scale, .. }) => format_decimal(*u, *scale),
        (Datum::Float(v), _) if !v.is_finite() => format!("'{v}'").replace("inf", "Infinity"),
        (Datum::Double(v), _) if !v.is_finite() => format!("'{v}'").replace("inf", "Infinity"),
        (Datum::Float(v), _) => format!("{v:?}"),
        (Datum::Double(v), _) => format!("{v:?}"),
        (Datum::Date(_), _) => format!("DATE '{}'", d.display(ty)),
        (Datum::Time(ms), _) => format!(
            "TIME '{}'",
            trim_fraction(&format!(
                "{:02}:{:02}:{:02}.{:03}",
                ms / 3_600_000,
                ms / 60_000 % 60,
                ms / 1000 % 60,
                ms % 1000
            ))
        ),
        (Datum::Timestamp { millis, nanos }, _) => {
            let secs = millis.div_euclid(1000);
            let sub = millis.rem_euclid(1000) as u32 * 1_000_000 + *nanos as u32;
            let text = DateTime::from_timestamp(secs, sub)
                .map(|t| t.naive_utc().format("%Y-%m-%d %H:%M:%S%.9f").to_string())
                .unwrap_or_default();
            let z = if matches!(ty.kind, TypeKind::LocalZonedTimestamp(_)) {
                "Z"
            } else {
                ""
            };
            format!("TIMESTAMP '{}{z}'", trim_fraction(&text))
        }
        _ => d.to_string(),
    }
}

/// `12:00:00.500000000` → `12:00:00.5`; `12:00:00.000` → `12:00:00`.
fn trim_fraction(t: &str) -> String {
    match t.rsplit_once('.') {
        Some((head, frac)) => {
            let f = frac.trim_end_matches('0');
            if f.is_empty() {
                head.to_string()
            } else {
                format!("{head}.{f}")
            }
        }
        None => t.to_string(),
    }
}
