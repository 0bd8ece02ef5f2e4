//! Binding: resolving columns and converting literals to the columns' types through the format
//! crate's value codec ([`streamhouse_format::value_text`]), strictly: a value that does not fit
//! its column is an error, never silently rounded.

use streamhouse_format::datum::Datum;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::{DataField, DataType, TypeKind};
use streamhouse_format::value_text;

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
    let reason = |e: value_text::ValueError| e.reason;
    Ok(match ty.kind {
        TypeKind::TinyInt | TypeKind::SmallInt | TypeKind::Int | TypeKind::BigInt => {
            if n.contains(['.', 'e', 'E']) {
                return Err("the column holds whole numbers".into());
            }
            value_text::parse(n, ty).map_err(reason)?
        }
        TypeKind::Float | TypeKind::Double | TypeKind::Decimal { .. } => {
            value_text::parse(n, ty).map_err(reason)?
        }
        _ => return Err(format!("a number is not a value of this type{}", hint(ty))),
    })
}

/// Quoted text as a value of `ty`.
fn text(s: &str, ty: &DataType) -> Result<Datum, String> {
    match ty.kind {
        TypeKind::Char(_) | TypeKind::VarChar(_) => Ok(Datum::String(s.to_string())),
        TypeKind::Float | TypeKind::Double => match value_text::parse(s, ty) {
            Ok(Datum::Float(v)) if !v.is_finite() => Ok(Datum::Float(v)),
            Ok(Datum::Double(v)) if !v.is_finite() => Ok(Datum::Double(v)),
            _ => Err("quote only NaN, Infinity or -Infinity; write numbers bare".into()),
        },
        TypeKind::Date
        | TypeKind::Time(_)
        | TypeKind::Timestamp(_)
        | TypeKind::LocalZonedTimestamp(_) => value_text::parse(s, ty).map_err(|e| e.reason),
        _ => Err(format!("text is not a value of this type{}", hint(ty))),
    }
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
        (Datum::Decimal(_), TypeKind::Decimal { .. }) => value_text::render(d, ty),
        (Datum::Float(v), _) if !v.is_finite() => format!("'{}'", value_text::render_f32(*v)),
        (Datum::Double(v), _) if !v.is_finite() => format!("'{}'", value_text::render_double(*v)),
        (Datum::Float(v), _) => value_text::render_f32(*v),
        (Datum::Double(v), _) => value_text::render_double(*v),
        (Datum::Date(_), _) => format!("DATE '{}'", value_text::render(d, ty)),
        (Datum::Time(_), _) => format!("TIME '{}'", value_text::render(d, ty)),
        (Datum::Timestamp { .. }, _) => format!("TIMESTAMP '{}'", value_text::render(d, ty)),
        _ => d.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_predicate;
    use super::*;
    use streamhouse_format::types::parse_columns;

    fn schema() -> TableSchema {
        TableSchema::new(
            parse_columns(
                "p DECIMAL(10, 2), d DATE, tm TIME(3), ts TIMESTAMP(3), \
                 z TIMESTAMP(3) WITH LOCAL TIME ZONE, x DOUBLE",
            )
            .unwrap(),
            vec![],
            vec![],
            Default::default(),
            0,
        )
        .unwrap()
    }

    fn value(text: &str) -> Result<Datum, String> {
        let s = schema();
        let pred = parse_predicate(text, &s).map_err(|e| e.to_string())?;
        match pred {
            Predicate::Leaf(Leaf {
                test: Test::Cmp(_, v),
                ..
            }) => Ok(v),
            other => Err(format!("not one comparison: {other:?}")),
        }
    }

    /// The codec's forms, as literals: exponents in decimals are exact, fraction digits beyond
    /// the precision are an error, timestamps take `T` or a space, LTZ takes offsets.
    #[test]
    fn literals_use_the_value_codec() {
        assert_eq!(value("p = 1.5e1"), Ok(Datum::Decimal(1500)));
        assert_eq!(value("p = 1.2300"), Ok(Datum::Decimal(123)));
        assert!(value("p = 1.234")
            .unwrap_err()
            .contains("more than 2 digits"));
        assert!(value("p = 1e9").unwrap_err().contains("does not fit"));
        assert_eq!(value("d = DATE '2024-02-29'"), Ok(Datum::Date(19782)));
        assert_eq!(value("d = '-0001-01-01'"), Ok(Datum::Date(-719_893)));
        assert!(value("d = '2023-02-29'").is_err());
        assert_eq!(value("tm = TIME '13:45'"), Ok(Datum::Time(49_500_000)));
        assert!(value("tm = '13:45:00.1234'")
            .unwrap_err()
            .contains("fraction digits"));
        let ts = Datum::Timestamp {
            millis: 1_706_708_700_500,
            nanos: 0,
        };
        assert_eq!(value("ts = '2024-01-31 13:45:00.5'"), Ok(ts.clone()));
        assert_eq!(value("ts = '2024-01-31T13:45:00.500000'"), Ok(ts.clone()));
        assert!(value("ts = '2024-01-31T13:45:00Z'")
            .unwrap_err()
            .contains("time zone"));
        assert_eq!(value("z = '2024-01-31T15:45:00.5+02:00'"), Ok(ts));
        assert!(value("x = '1.5'")
            .unwrap_err()
            .contains("write numbers bare"));
        assert!(matches!(value("x = 'NaN'"), Ok(Datum::Double(v)) if v.is_nan()));
    }

    #[test]
    fn display_renders_with_the_codec_and_parses_back() {
        let s = schema();
        for text in [
            "p = 12.30",
            "d = DATE '+10000-01-01'",
            "tm = TIME '13:45:00.250'",
            "ts = TIMESTAMP '1969-12-31T23:59:59.999'",
            "z = TIMESTAMP '2024-01-31T13:45:00.000Z'",
            "x = '-Infinity'",
        ] {
            let a = parse_predicate(text, &s).unwrap();
            assert_eq!(a.to_string(), text);
            assert_eq!(parse_predicate(&a.to_string(), &s).unwrap(), a);
        }
    }
}
