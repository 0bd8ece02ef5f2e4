//! Pruning: can a set of rows, known only through statistics, hold a row that matches?
//!
//! Statistics are taken as **bounds**: `min` ≤ every non-null value ≤ `max` (truncated string
//! statistics are such bounds), `null_count` exact when known. The analysis is three-valued
//! per predicate node — whether some row *may* make it true, false or unknown (NULL) — which
//! keeps `NOT` sound. It over-approximates: "may" can be wrong in the safe direction only,
//! so pruning never drops a matching row.
//!
//! Floating-point columns are never pruned by their minimum and maximum: writers disagree on
//! NaN (Parquet statistics leave it out, Arrow orders it above every number), so bounds of
//! FLOAT and DOUBLE columns are ignored. Values whose type does not match the column's (files
//! written before a type change) are ignored too.

use std::cmp::Ordering;

use streamhouse_format::datum::Datum;
use streamhouse_format::types::TypeKind;

use super::{CmpOp, Leaf, Predicate, Test};

/// What statistics say about one column over a set of rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnRange {
    /// A lower bound of the non-null values (`None`: unknown).
    pub min: Option<Datum>,
    /// An upper bound of the non-null values (`None`: unknown).
    pub max: Option<Datum>,
    /// How many values are null (`None`: unknown).
    pub null_count: Option<i64>,
}

impl ColumnRange {
    /// The range of a single known value (a partition column of one partition).
    pub fn exact(value: Option<Datum>, rows: Option<i64>) -> ColumnRange {
        match value {
            Some(v) => ColumnRange {
                min: Some(v.clone()),
                max: Some(v),
                null_count: Some(0),
            },
            None => ColumnRange {
                min: None,
                max: None,
                null_count: rows,
            },
        }
    }
}

/// Whether some row may make a predicate true, false or unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Possible {
    pub can_true: bool,
    pub can_false: bool,
    pub can_null: bool,
}

const ANY: Possible = Possible {
    can_true: true,
    can_false: true,
    can_null: true,
};

impl Predicate {
    /// Whether rows described by `stats` may hold a row matching the predicate. `stats`
    /// returns what is known about a leaf's column (`None`: nothing); `rows` is the number of
    /// rows when known (0 rows never match).
    pub fn may_match(
        &self,
        stats: &dyn Fn(&Leaf) -> Option<ColumnRange>,
        rows: Option<i64>,
    ) -> bool {
        if rows == Some(0) {
            return false;
        }
        self.possible(stats, rows).can_true
    }

    /// The three-valued analysis behind [`may_match`](Self::may_match).
    pub fn possible(
        &self,
        stats: &dyn Fn(&Leaf) -> Option<ColumnRange>,
        rows: Option<i64>,
    ) -> Possible {
        match self {
            Predicate::Const(b) => Possible {
                can_true: *b,
                can_false: !*b,
                can_null: false,
            },
            Predicate::Leaf(l) => match stats(l) {
                None => ANY,
                Some(r) => leaf(l, &r, rows),
            },
            Predicate::Not(p) => p.possible(stats, rows).not(),
            Predicate::And(ps) => ps
                .iter()
                .fold(Possible::TRUE, |acc, p| acc.and(p.possible(stats, rows))),
            // NOT (NOT a AND NOT b ...), so the three-valued OR needs no rule of its own.
            Predicate::Or(ps) => ps
                .iter()
                .fold(Possible::TRUE, |acc, p| {
                    acc.and(p.possible(stats, rows).not())
                })
                .not(),
        }
    }
}

impl Possible {
    /// What an empty conjunction (`TRUE`) can be.
    const TRUE: Possible = Possible {
        can_true: true,
        can_false: false,
        can_null: false,
    };

    /// The negation: true where this is false and the other way round; NULL stays NULL.
    fn not(self) -> Possible {
        Possible {
            can_true: self.can_false,
            can_false: self.can_true,
            can_null: self.can_null,
        }
    }

    /// The three-valued conjunction: true only when both are, false when either is, NULL
    /// when one is NULL and the other true or NULL.
    fn and(self, q: Possible) -> Possible {
        Possible {
            can_true: self.can_true && q.can_true,
            can_false: self.can_false || q.can_false,
            can_null: (self.can_null && (q.can_true || q.can_null))
                || (q.can_null && (self.can_true || self.can_null)),
        }
    }
}

/// Compares two values of the same variant; `None` when the variants differ.
fn cmp(a: &Datum, b: &Datum) -> Option<Ordering> {
    (std::mem::discriminant(a) == std::mem::discriminant(b)).then(|| a.cmp_same_type(b))
}

fn leaf(l: &Leaf, r: &ColumnRange, rows: Option<i64>) -> Possible {
    let all_null = matches!((r.null_count, rows), (Some(n), Some(t)) if n >= t && t > 0);
    let has_null = r.null_count != Some(0);
    let has_value = !all_null;
    if let Test::IsNull = l.test {
        return Possible {
            can_true: has_null,
            can_false: has_value,
            can_null: false,
        };
    }
    if !has_value {
        return Possible {
            can_true: false,
            can_false: false,
            can_null: true,
        };
    }
    let floats = matches!(l.ty.kind, TypeKind::Float | TypeKind::Double);
    let (min, max) = if floats {
        (None, None)
    } else {
        (r.min.as_ref(), r.max.as_ref())
    };
    // min ⋚ v and max ⋚ v, None when unknown.
    let lo = |v: &Datum| min.and_then(|m| cmp(m, v));
    let hi = |v: &Datum| max.and_then(|m| cmp(m, v));
    use Ordering::*;
    let eq_possible = |v: &Datum| lo(v) != Some(Greater) && hi(v) != Some(Less);
    let all_equal = |v: &Datum| lo(v) == Some(Equal) && hi(v) == Some(Equal);
    let (t, f) = match &l.test {
        Test::Cmp(op, v) => match op {
            CmpOp::Eq => (eq_possible(v), !all_equal(v)),
            CmpOp::Ne => (!all_equal(v), eq_possible(v)),
            CmpOp::Lt => (
                lo(v) != Some(Greater) && lo(v) != Some(Equal),
                hi(v) != Some(Less),
            ),
            CmpOp::Le => (lo(v) != Some(Greater), !matches!(hi(v), Some(Less | Equal))),
            CmpOp::Gt => (!matches!(hi(v), Some(Less | Equal)), lo(v) != Some(Greater)),
            CmpOp::Ge => (hi(v) != Some(Less), !matches!(lo(v), Some(Greater | Equal))),
        },
        Test::In(vs) => (vs.iter().any(eq_possible), !vs.iter().any(all_equal)),
        Test::IsNull => unreachable!("handled above"),
    };
    Possible {
        can_true: t,
        can_false: f,
        can_null: has_null,
    }
}
