//! Evaluating a bound predicate on Arrow arrays with SQL's three-valued logic: comparisons
//! with NULL are unknown (null in the result), `AND`/`OR` are Kleene's, `NOT` keeps unknown.
//! Filtering treats unknown as false.

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, Scalar};
use arrow::compute::kernels::cmp;
use arrow::compute::{and_kleene, cast, is_null, not, or_kleene};
use arrow::error::ArrowError;
use streamhouse_format::merge::datums_to_array;
use streamhouse_format::{Error, Result};

use super::{CmpOp, Leaf, Predicate, Test};

impl Predicate {
    /// Evaluates the predicate on a batch whose columns are found by name.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<BooleanArray> {
        self.evaluate_with(batch.num_rows(), &|leaf: &Leaf| {
            batch.column_by_name(&leaf.column).cloned()
        })
    }

    /// Evaluates the predicate on `rows` rows whose columns `column` supplies.
    pub fn evaluate_with(
        &self,
        rows: usize,
        column: &dyn Fn(&Leaf) -> Option<ArrayRef>,
    ) -> Result<BooleanArray> {
        Ok(match self {
            Predicate::Const(b) => BooleanArray::from(vec![*b; rows]),
            Predicate::Leaf(l) => {
                let col = column(l).ok_or_else(|| {
                    Error::Internal(format!(
                        "predicate column {} is missing from the rows being filtered",
                        l.column
                    ))
                })?;
                eval_leaf(l, &col)?
            }
            Predicate::And(ps) => fold(ps, rows, column, true, and_kleene)?,
            Predicate::Or(ps) => fold(ps, rows, column, false, or_kleene)?,
            Predicate::Not(p) => not(&p.evaluate_with(rows, column)?).map_err(err)?,
        })
    }
}

/// Combines the operands' values with a Kleene AND or OR; `empty` is the value of no
/// operands.
fn fold(
    ps: &[Predicate],
    rows: usize,
    column: &dyn Fn(&Leaf) -> Option<ArrayRef>,
    empty: bool,
    op: fn(&BooleanArray, &BooleanArray) -> std::result::Result<BooleanArray, ArrowError>,
) -> Result<BooleanArray> {
    let mut acc: Option<BooleanArray> = None;
    for p in ps {
        let v = p.evaluate_with(rows, column)?;
        acc = Some(match acc {
            None => v,
            Some(a) => op(&a, &v).map_err(err)?,
        });
    }
    Ok(acc.unwrap_or_else(|| BooleanArray::from(vec![empty; rows])))
}

fn err(e: ArrowError) -> Error {
    Error::arrow("evaluating a predicate", e)
}

/// A one-element array of the column's Arrow type holding `v`.
fn scalar(l: &Leaf, v: &streamhouse_format::datum::Datum, col: &dyn Array) -> Result<ArrayRef> {
    let a = datums_to_array(&[Some(v.clone())], &l.ty)?;
    if a.data_type() == col.data_type() {
        Ok(a)
    } else {
        cast(&a, col.data_type()).map_err(|e| {
            Error::arrow(
                format!(
                    "converting a literal for column {} to {}",
                    l.column,
                    col.data_type()
                ),
                e,
            )
        })
    }
}

fn compare(op: CmpOp, col: &ArrayRef, lit: &ArrayRef) -> Result<BooleanArray> {
    let s = Scalar::new(lit.clone());
    let r = match op {
        CmpOp::Eq => cmp::eq(col, &s),
        CmpOp::Ne => cmp::neq(col, &s),
        CmpOp::Lt => cmp::lt(col, &s),
        CmpOp::Le => cmp::lt_eq(col, &s),
        CmpOp::Gt => cmp::gt(col, &s),
        CmpOp::Ge => cmp::gt_eq(col, &s),
    };
    r.map_err(err)
}

fn eval_leaf(l: &Leaf, col: &ArrayRef) -> Result<BooleanArray> {
    match &l.test {
        Test::IsNull => is_null(col.as_ref()).map_err(err),
        Test::Cmp(op, v) => compare(*op, col, &scalar(l, v, col.as_ref())?),
        Test::In(vs) => {
            let mut acc: Option<BooleanArray> = None;
            for v in vs {
                let eq = compare(CmpOp::Eq, col, &scalar(l, v, col.as_ref())?)?;
                acc = Some(match acc {
                    None => eq,
                    Some(a) => or_kleene(&a, &eq).map_err(err)?,
                });
            }
            Ok(acc.unwrap_or_else(|| BooleanArray::from(vec![false; col.len()])))
        }
    }
}
