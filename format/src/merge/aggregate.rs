//! Per-column aggregate functions of the `aggregation` merge engine (Java's `Field*Agg`
//! classes), working on [`Cell`]s: an accumulator is either null, a reference to an input
//! record's value (most functions only *pick* a value) or a computed [`Datum`] (sum, product,
//! bool_and/bool_or, listagg).

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::datum::Datum;
use crate::error::{Error, Result};
use crate::types::{DataType, TypeKind};

use super::{Cell, RecordValues};

/// An aggregate function of one column.
#[derive(Debug, Clone, PartialEq)]
pub enum AggFunction {
    /// Primary-key columns: the latest value (also on retraction).
    PrimaryKey,
    LastValue,
    LastNonNullValue,
    FirstValue,
    FirstNonNullValue,
    Sum,
    Product,
    Min,
    Max,
    BoolAnd,
    BoolOr,
    /// String concatenation with a delimiter; `distinct` drops tokens already present.
    Listagg {
        delimiter: String,
        distinct: bool,
    },
}

impl AggFunction {
    /// Parses a Paimon aggregate function name (`fields.<f>.aggregate-function`) and checks it
    /// applies to the column type. Functions Streamhouse does not implement give
    /// [`Error::Unsupported`] naming the function and the column.
    pub fn parse(
        name: &str,
        field: &str,
        ty: &DataType,
        delimiter: &str,
        distinct: bool,
    ) -> Result<Self> {
        let f = match name.trim().to_ascii_lowercase().as_str() {
            "primary-key" => AggFunction::PrimaryKey,
            "last_value" => AggFunction::LastValue,
            "last_non_null_value" => AggFunction::LastNonNullValue,
            "first_value" => AggFunction::FirstValue,
            "first_non_null_value" | "first_not_null_value" => AggFunction::FirstNonNullValue,
            "sum" => AggFunction::Sum,
            "product" => AggFunction::Product,
            "min" => AggFunction::Min,
            "max" => AggFunction::Max,
            "bool_and" => AggFunction::BoolAnd,
            "bool_or" => AggFunction::BoolOr,
            "listagg" => AggFunction::Listagg {
                delimiter: delimiter.to_string(),
                distinct,
            },
            "count" => {
                return Err(Error::unsupported(format!(
                    "aggregate function 'count' of column {field}: Paimon has no count aggregate \
                     (its documentation suggests sum over 1/0 values)"
                )))
            }
            other => {
                return Err(Error::unsupported(format!(
                    "aggregate function '{other}' of column {field} (supported: sum, product, min, \
                     max, last_value, last_non_null_value, first_value, first_non_null_value, \
                     bool_and, bool_or, listagg)"
                )))
            }
        };
        let numeric = ty.kind.is_numeric();
        let ok = match &f {
            AggFunction::Sum | AggFunction::Product => numeric,
            AggFunction::BoolAnd | AggFunction::BoolOr => ty.kind == TypeKind::Boolean,
            AggFunction::Listagg { .. } => ty.is_string(),
            AggFunction::Min | AggFunction::Max => !ty.is_nested(),
            _ => true,
        };
        if !ok {
            return Err(Error::invalid(format!(
                "aggregate function '{name}' cannot be applied to column {field} of type {ty}"
            )));
        }
        Ok(f)
    }

    /// The Paimon name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            AggFunction::PrimaryKey => "primary-key",
            AggFunction::LastValue => "last_value",
            AggFunction::LastNonNullValue => "last_non_null_value",
            AggFunction::FirstValue => "first_value",
            AggFunction::FirstNonNullValue => "first_non_null_value",
            AggFunction::Sum => "sum",
            AggFunction::Product => "product",
            AggFunction::Min => "min",
            AggFunction::Max => "max",
            AggFunction::BoolAnd => "bool_and",
            AggFunction::BoolOr => "bool_or",
            AggFunction::Listagg { .. } => "listagg",
        }
    }
}

/// One column's aggregator with its per-key state.
#[derive(Debug, Clone)]
pub struct ColumnAggregator {
    pub field: String,
    pub ty: DataType,
    pub function: AggFunction,
    /// `fields.<f>.ignore-retract`: retractions leave the accumulator unchanged.
    pub ignore_retract: bool,
    /// first_value / first_non_null_value: whether a value was taken for the current key.
    initialized: bool,
}

impl ColumnAggregator {
    pub fn new(field: String, ty: DataType, function: AggFunction, ignore_retract: bool) -> Self {
        ColumnAggregator {
            field,
            ty,
            function,
            ignore_retract,
            initialized: false,
        }
    }

    /// Clears per-key state.
    pub fn reset(&mut self) {
        self.initialized = false;
    }

    /// Folds input record `rec` (column `col`) into the accumulator.
    pub fn agg(&mut self, acc: Cell, rec: usize, col: usize, v: &dyn RecordValues) -> Result<Cell> {
        let input_null = v.is_null(rec, col);
        let input = if input_null {
            Cell::Null
        } else {
            Cell::Input(rec)
        };
        Ok(match &self.function {
            AggFunction::PrimaryKey | AggFunction::LastValue => input,
            AggFunction::LastNonNullValue => {
                if input_null {
                    acc
                } else {
                    input
                }
            }
            AggFunction::FirstValue => {
                if self.initialized {
                    acc
                } else {
                    self.initialized = true;
                    input
                }
            }
            AggFunction::FirstNonNullValue => {
                if !self.initialized && !input_null {
                    self.initialized = true;
                    input
                } else {
                    acc
                }
            }
            AggFunction::Min
            | AggFunction::Max
            | AggFunction::Sum
            | AggFunction::Product
            | AggFunction::BoolAnd
            | AggFunction::BoolOr => match (acc == Cell::Null, input_null) {
                (true, _) => input,
                (false, true) => acc,
                (false, false) => self.combine(acc, input, col, v)?,
            },
            AggFunction::Listagg {
                delimiter,
                distinct,
            } => {
                let input_s = match cell_value(&input, col, v)? {
                    Some(Datum::String(s)) => s,
                    _ => String::new(),
                };
                if input_s.trim().is_empty() {
                    return Ok(acc);
                }
                let acc_s = match cell_value(&acc, col, v)? {
                    Some(Datum::String(s)) => s,
                    _ => String::new(),
                };
                if acc_s.trim().is_empty() {
                    return Ok(input);
                }
                Cell::Value(Datum::String(listagg(
                    &acc_s, &input_s, delimiter, *distinct,
                )))
            }
        })
    }

    /// Min, max, sum, product, bool_and or bool_or of two cells that are not null.
    fn combine(&self, acc: Cell, input: Cell, col: usize, v: &dyn RecordValues) -> Result<Cell> {
        let a = cell_value(&acc, col, v)?;
        let b = cell_value(&input, col, v)?;
        if let AggFunction::Min | AggFunction::Max = self.function {
            let less = match (&a, &b) {
                (Some(a), Some(b)) => a.cmp_same_type(b) == Ordering::Less,
                _ => false,
            };
            let keep_acc = (self.function == AggFunction::Min) == less;
            return Ok(if keep_acc { acc } else { input });
        }
        let (a, b) = (required(a)?, required(b)?);
        let r = match self.function {
            AggFunction::Sum => add(&a, &b, &self.ty, false, &self.field)?,
            AggFunction::Product => multiply(&a, &b, &self.ty, &self.field)?,
            AggFunction::BoolAnd => bool_op(&a, &b, true)?,
            _ => bool_op(&a, &b, false)?,
        };
        Ok(r.map(Cell::Value).unwrap_or(Cell::Null))
    }

    /// Applies retraction record `rec` (a `-U` or `-D`) to the accumulator.
    pub fn retract(
        &mut self,
        acc: Cell,
        rec: usize,
        col: usize,
        v: &dyn RecordValues,
    ) -> Result<Cell> {
        if self.ignore_retract {
            return Ok(acc);
        }
        let input_null = v.is_null(rec, col);
        Ok(match &self.function {
            AggFunction::PrimaryKey => {
                if input_null {
                    Cell::Null
                } else {
                    Cell::Input(rec)
                }
            }
            AggFunction::LastValue => Cell::Null,
            AggFunction::LastNonNullValue => {
                if input_null {
                    acc
                } else {
                    Cell::Null
                }
            }
            AggFunction::Sum => {
                if input_null {
                    acc
                } else {
                    let b = required(v.datum(rec, col)?)?;
                    let r = match cell_value(&acc, col, v)? {
                        None => negate(&b, &self.ty, &self.field)?,
                        Some(a) => add(&a, &b, &self.ty, true, &self.field)?,
                    };
                    r.map(Cell::Value).unwrap_or(Cell::Null)
                }
            }
            AggFunction::Product => {
                if input_null || acc == Cell::Null {
                    acc
                } else {
                    let a = required(cell_value(&acc, col, v)?)?;
                    let b = required(v.datum(rec, col)?)?;
                    divide(&a, &b, &self.ty, &self.field)?
                        .map(Cell::Value)
                        .unwrap_or(Cell::Null)
                }
            }
            f => {
                return Err(Error::unsupported(format!(
                    "aggregate function '{}' of column {} does not support retraction (-U/-D \
                     records); set 'fields.{}.ignore-retract' = 'true' to ignore them",
                    f.name(),
                    self.field,
                    self.field
                )))
            }
        })
    }
}

fn required(d: Option<Datum>) -> Result<Datum> {
    d.ok_or_else(|| Error::Internal("aggregate input unexpectedly null".into()))
}

/// The value a cell stands for.
pub(crate) fn cell_value(cell: &Cell, col: usize, v: &dyn RecordValues) -> Result<Option<Datum>> {
    match cell {
        Cell::Null => Ok(None),
        Cell::Input(r) => v.datum(*r, col),
        Cell::Value(d) => Ok(Some(d.clone())),
    }
}

fn overflow(field: &str, what: &str) -> Error {
    Error::invalid(format!(
        "aggregation of column {field} overflows its type ({what})"
    ))
}

/// Largest unscaled magnitude + 1 of a DECIMAL(p, _).
fn decimal_limit(precision: u32) -> i128 {
    10i128.pow(precision.min(38))
}

fn fits_decimal(v: i128, ty: &DataType) -> bool {
    match ty.kind {
        TypeKind::Decimal { precision, .. } => v.unsigned_abs() < decimal_limit(precision) as u128,
        _ => true,
    }
}

/// `a + b` (or `a - b`), checked like Java: integer overflow is an error, a DECIMAL result
/// beyond the column precision becomes null (`DecimalUtils.add` returns null).
fn add(a: &Datum, b: &Datum, ty: &DataType, subtract: bool, field: &str) -> Result<Option<Datum>> {
    use Datum::*;
    let ovf = || overflow(field, if subtract { "subtraction" } else { "addition" });
    // `x ± y` of two integers, `None` on overflow.
    macro_rules! checked {
        ($x:expr, $y:expr) => {
            match subtract {
                true => $x.checked_sub(*$y),
                false => $x.checked_add(*$y),
            }
        };
    }
    Ok(Some(match (a, b) {
        (TinyInt(x), TinyInt(y)) => TinyInt(checked!(x, y).ok_or_else(ovf)?),
        (SmallInt(x), SmallInt(y)) => SmallInt(checked!(x, y).ok_or_else(ovf)?),
        (Int(x), Int(y)) => Int(checked!(x, y).ok_or_else(ovf)?),
        (BigInt(x), BigInt(y)) => BigInt(checked!(x, y).ok_or_else(ovf)?),
        (Float(x), Float(y)) => Float(if subtract { x - y } else { x + y }),
        (Double(x), Double(y)) => Double(if subtract { x - y } else { x + y }),
        (Decimal(x), Decimal(y)) => match checked!(x, y).filter(|r| fits_decimal(*r, ty)) {
            Some(r) => Decimal(r),
            None => return Ok(None),
        },
        _ => return Err(mismatch(field, a, b)),
    }))
}

fn negate(b: &Datum, ty: &DataType, field: &str) -> Result<Option<Datum>> {
    use Datum::*;
    let ovf = || overflow(field, "negation");
    Ok(Some(match b {
        TinyInt(x) => TinyInt(x.checked_neg().ok_or_else(ovf)?),
        SmallInt(x) => SmallInt(x.checked_neg().ok_or_else(ovf)?),
        Int(x) => Int(x.checked_neg().ok_or_else(ovf)?),
        BigInt(x) => BigInt(x.checked_neg().ok_or_else(ovf)?),
        Float(x) => Float(-x),
        Double(x) => Double(-x),
        Decimal(x) => match x.checked_neg().filter(|r| fits_decimal(*r, ty)) {
            Some(r) => Decimal(r),
            None => return Ok(None),
        },
        other => {
            return Err(Error::invalid(format!(
                "cannot negate {other:?} of column {field}"
            )))
        }
    }))
}

fn decimal_scale(ty: &DataType) -> u32 {
    match ty.kind {
        TypeKind::Decimal { scale, .. } => scale,
        _ => 0,
    }
}

/// Rounds `num / den` half away from zero (Java's `RoundingMode.HALF_UP`).
fn div_round_half_up(num: i128, den: i128) -> Option<i128> {
    if den == 0 {
        return None;
    }
    let q = num.checked_div(den)?;
    let r = num.checked_rem(den)?;
    if r.unsigned_abs().checked_mul(2)? >= den.unsigned_abs() {
        let away = if (num < 0) != (den < 0) { -1 } else { 1 };
        q.checked_add(away)
    } else {
        Some(q)
    }
}

fn multiply(a: &Datum, b: &Datum, ty: &DataType, field: &str) -> Result<Option<Datum>> {
    use Datum::*;
    let ovf = || overflow(field, "multiplication");
    Ok(Some(match (a, b) {
        (TinyInt(x), TinyInt(y)) => TinyInt(x.checked_mul(*y).ok_or_else(ovf)?),
        (SmallInt(x), SmallInt(y)) => SmallInt(x.checked_mul(*y).ok_or_else(ovf)?),
        (Int(x), Int(y)) => Int(x.checked_mul(*y).ok_or_else(ovf)?),
        (BigInt(x), BigInt(y)) => BigInt(x.checked_mul(*y).ok_or_else(ovf)?),
        (Float(x), Float(y)) => Float(x * y),
        (Double(x), Double(y)) => Double(x * y),
        (Decimal(x), Decimal(y)) => {
            // unscaled(x*y) has scale 2s; bring it back to s.
            let scale = decimal_scale(ty);
            let r = x
                .checked_mul(*y)
                .and_then(|p| div_round_half_up(p, 10i128.pow(scale)))
                .filter(|r| fits_decimal(*r, ty));
            match r {
                Some(r) => Decimal(r),
                None => return Ok(None),
            }
        }
        _ => return Err(mismatch(field, a, b)),
    }))
}

fn divide(a: &Datum, b: &Datum, ty: &DataType, field: &str) -> Result<Option<Datum>> {
    use Datum::*;
    let err = |zero: bool| {
        if zero {
            Error::invalid(format!("retraction of column {field} divides by zero"))
        } else {
            overflow(field, "division")
        }
    };
    Ok(Some(match (a, b) {
        (TinyInt(x), TinyInt(y)) => TinyInt(x.checked_div(*y).ok_or_else(|| err(*y == 0))?),
        (SmallInt(x), SmallInt(y)) => SmallInt(x.checked_div(*y).ok_or_else(|| err(*y == 0))?),
        (Int(x), Int(y)) => Int(x.checked_div(*y).ok_or_else(|| err(*y == 0))?),
        (BigInt(x), BigInt(y)) => BigInt(x.checked_div(*y).ok_or_else(|| err(*y == 0))?),
        (Float(x), Float(y)) => Float(x / y),
        (Double(x), Double(y)) => Double(x / y),
        (Decimal(x), Decimal(y)) => {
            if *y == 0 {
                return Err(err(true));
            }
            let scale = decimal_scale(ty);
            let r = x
                .checked_mul(10i128.pow(scale))
                .and_then(|n| div_round_half_up(n, *y))
                .filter(|r| fits_decimal(*r, ty));
            match r {
                Some(r) => Decimal(r),
                None => return Ok(None),
            }
        }
        _ => return Err(mismatch(field, a, b)),
    }))
}

fn bool_op(a: &Datum, b: &Datum, and: bool) -> Result<Option<Datum>> {
    match (a, b) {
        (Datum::Bool(x), Datum::Bool(y)) => {
            Ok(Some(Datum::Bool(if and { *x && *y } else { *x || *y })))
        }
        _ => Err(Error::Internal(format!(
            "bool aggregate over non-boolean values {a:?}, {b:?}"
        ))),
    }
}

fn mismatch(field: &str, a: &Datum, b: &Datum) -> Error {
    Error::Internal(format!(
        "aggregation of column {field} over mismatched values {a:?} and {b:?}"
    ))
}

/// Java's `FieldListaggAgg`: `acc + delimiter + input`; with `distinct`, only the input's
/// tokens (split on the whole delimiter, blanks dropped) not yet in the accumulator.
fn listagg(acc: &str, input: &str, delimiter: &str, distinct: bool) -> String {
    if !distinct {
        return format!("{acc}{delimiter}{input}");
    }
    let split = |s: &str| -> Vec<String> {
        if delimiter.is_empty() {
            vec![s.to_string()]
        } else {
            s.split(delimiter).map(str::to_string).collect()
        }
    };
    let mut seen: HashSet<String> = split(acc).into_iter().collect();
    let mut out = acc.to_string();
    for tok in split(input) {
        if tok.trim().is_empty() || seen.contains(&tok) {
            continue;
        }
        out.push_str(delimiter);
        out.push_str(&tok);
        seen.insert(tok);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listagg_distinct_keeps_new_tokens_only() {
        assert_eq!(listagg("a,b", "b,c", ",", true), "a,b,c");
        assert_eq!(listagg("a,b", "b,c", ",", false), "a,b,b,c");
        assert_eq!(listagg("a", ",,a", ",", true), "a");
    }

    #[test]
    fn decimal_arithmetic_keeps_scale_and_precision() {
        let ty = DataType::new(TypeKind::Decimal {
            precision: 5,
            scale: 2,
        });
        // 1.50 * 2.00 = 3.00
        assert_eq!(
            multiply(&Datum::Decimal(150), &Datum::Decimal(200), &ty, "d").unwrap(),
            Some(Datum::Decimal(300))
        );
        // 999.99 + 0.01 overflows DECIMAL(5,2) -> null
        assert_eq!(
            add(&Datum::Decimal(99999), &Datum::Decimal(1), &ty, false, "d").unwrap(),
            None
        );
        // 3.00 / 2.00 = 1.50
        assert_eq!(
            divide(&Datum::Decimal(300), &Datum::Decimal(200), &ty, "d").unwrap(),
            Some(Datum::Decimal(150))
        );
        assert!(add(
            &Datum::Int(i32::MAX),
            &Datum::Int(1),
            &DataType::new(TypeKind::Int),
            false,
            "i"
        )
        .is_err());
    }
}
