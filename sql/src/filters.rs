//! DataFusion filter expressions → Streamhouse predicates ([`streamhouse::predicate`]).
//!
//! Supported: `col op literal` (either side; `=`, `<>`, `<`, `<=`, `>`, `>=`), `AND`, `OR`,
//! `NOT`, `IS [NOT] NULL`, `[NOT] BETWEEN`, `[NOT] IN (literals)`, with literals of the
//! primitive types. Anything else (functions, casts, two columns) is not pushed down.

use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use datafusion::scalar::ScalarValue;
use streamhouse::predicate::{self, CmpOp, Literal};
use streamhouse::{format_decimal, Datum};

/// The column name of an expression that is a plain column.
fn column(e: &Expr) -> Option<String> {
    match e {
        Expr::Column(c) => Some(c.name.clone()),
        _ => None,
    }
}

/// A literal value, if the expression is one of a supported type.
fn literal(e: &Expr) -> Option<Literal> {
    let Expr::Literal(v, _) = e else { return None };
    let split = |v: i64, per_milli: i64| Datum::Timestamp {
        millis: v.div_euclid(per_milli),
        nanos: (v.rem_euclid(per_milli) * (1_000_000 / per_milli)) as i32,
    };
    Some(match v {
        ScalarValue::Boolean(Some(b)) => Literal::Bool(*b),
        ScalarValue::Int8(Some(x)) => Literal::Value(Datum::TinyInt(*x)),
        ScalarValue::Int16(Some(x)) => Literal::Value(Datum::SmallInt(*x)),
        ScalarValue::Int32(Some(x)) => Literal::Value(Datum::Int(*x)),
        ScalarValue::Int64(Some(x)) => Literal::Value(Datum::BigInt(*x)),
        ScalarValue::UInt8(Some(x)) => Literal::Number(x.to_string()),
        ScalarValue::UInt16(Some(x)) => Literal::Number(x.to_string()),
        ScalarValue::UInt32(Some(x)) => Literal::Number(x.to_string()),
        ScalarValue::UInt64(Some(x)) => Literal::Number(x.to_string()),
        ScalarValue::Float32(Some(x)) if x.is_finite() => Literal::Value(Datum::Float(*x)),
        ScalarValue::Float64(Some(x)) if x.is_finite() => Literal::Value(Datum::Double(*x)),
        ScalarValue::Decimal128(Some(u), _, s) if *s >= 0 => {
            Literal::Number(format_decimal(*u, *s as u32))
        }
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Literal::String(s.clone()),
        ScalarValue::Binary(Some(b)) | ScalarValue::LargeBinary(Some(b)) => {
            Literal::Bytes(b.clone())
        }
        ScalarValue::Date32(Some(d)) => Literal::Value(Datum::Date(*d)),
        ScalarValue::TimestampSecond(Some(v), _) => Literal::Value(split(v.checked_mul(1000)?, 1)),
        ScalarValue::TimestampMillisecond(Some(v), _) => Literal::Value(split(*v, 1)),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Literal::Value(split(*v, 1000)),
        ScalarValue::TimestampNanosecond(Some(v), _) => Literal::Value(split(*v, 1_000_000)),
        _ => return None,
    })
}

fn cmp_op(op: Operator) -> Option<CmpOp> {
    Some(match op {
        Operator::Eq => CmpOp::Eq,
        Operator::NotEq => CmpOp::Ne,
        Operator::Lt => CmpOp::Lt,
        Operator::LtEq => CmpOp::Le,
        Operator::Gt => CmpOp::Gt,
        Operator::GtEq => CmpOp::Ge,
        _ => return None,
    })
}

/// Translates a DataFusion filter; `None` when some part cannot be expressed.
pub fn to_expr(e: &Expr) -> Option<predicate::Expr> {
    Some(match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And => predicate::Expr::and(vec![to_expr(left)?, to_expr(right)?]),
            Operator::Or => predicate::Expr::or(vec![to_expr(left)?, to_expr(right)?]),
            op => {
                let op = cmp_op(*op)?;
                match (column(left), column(right)) {
                    (Some(c), None) => predicate::Expr::compare(c, op, literal(right)?),
                    (None, Some(c)) => predicate::Expr::compare(c, op.flip(), literal(left)?),
                    _ => return None,
                }
            }
        },
        Expr::Not(inner) => predicate::Expr::not(to_expr(inner)?),
        Expr::IsNull(inner) => predicate::Expr::is_null(column(inner)?, false),
        Expr::IsNotNull(inner) => predicate::Expr::is_null(column(inner)?, true),
        Expr::Between(Between {
            expr,
            negated,
            low,
            high,
        }) => predicate::Expr::between(column(expr)?, literal(low)?, literal(high)?, *negated),
        Expr::InList(list) => predicate::Expr::in_list(
            column(&list.expr)?,
            list.list.iter().map(literal).collect::<Option<Vec<_>>>()?,
            list.negated,
        ),
        _ => return None,
    })
}
