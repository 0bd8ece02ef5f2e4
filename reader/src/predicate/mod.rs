//! Row predicates: the expression type, the parser of the CLI's `--where` syntax, evaluation
//! on Arrow batches, and pruning against statistics (manifest partition stats, file key and
//! value stats, Parquet row-group statistics and page indexes).
//!
//! A predicate is written against column *names* ([`Expr`], built by [`parse`] or by code such
//! as the SQL crate) and then **bound** to a table schema ([`Expr::bind`]), which resolves
//! every column, converts every literal to its column's type and gives a [`Predicate`]. A
//! bound predicate can
//!
//! * filter rows: [`Predicate::evaluate`] returns a `BooleanArray` with SQL semantics (a
//!   comparison with NULL is unknown; unknown rows are dropped);
//! * decide whether a set of rows summarised by statistics *may* hold a matching row:
//!   [`Predicate::may_match`] (three-valued reasoning over lower/upper bounds, so truncated
//!   string statistics stay correct);
//! * name the bucket-key values it allows ([`Predicate::equality_values`]) for bucket pruning;
//! * be restricted to the conjuncts over some columns ([`Predicate::restrict_to`]) — for
//!   primary-key tables only key-column conjuncts may prune before the merge.
//!
//! The `--where` grammar (keywords are case-insensitive):
//!
//! ```text
//! expr      := or
//! or        := and ( OR and )*
//! and       := unary ( AND unary )*
//! unary     := NOT unary | '(' expr ')' | TRUE | FALSE | test
//! test      := operand ( ('=' | '<>' | '!=' | '<' | '<=' | '>' | '>=') operand
//!                      | [NOT] BETWEEN operand AND operand
//!                      | [NOT] IN '(' operand ( ',' operand )* ')'
//!                      | IS [NOT] NULL )
//! operand   := column | literal          (one side of a test is a column, the other literals)
//! column    := name | "quoted name" | `quoted name`
//! literal   := 123 | -1.5 | 2e3 | 'text' ('' escapes a quote) | TRUE | FALSE | NULL
//!            | X'0aff' | DATE '2024-01-31' | TIME '13:45:00' | TIMESTAMP '2024-01-31 13:45:00.5'
//! ```
//!
//! Literals are converted to the column's type: numbers to integers, decimals (at most the
//! column's scale) or floats; quoted text to strings, dates, times and timestamps (a
//! `TIMESTAMP WITH LOCAL TIME ZONE` literal may end in `Z` or an offset; without one it is
//! UTC). A value that does not fit (out of range, too many digits) is an error that points at
//! it, as is an unknown column.

mod eval;
mod literal;
pub mod parquet;
mod parser;
mod prune;

use std::collections::BTreeSet;
use std::fmt;

use streamhouse_format::datum::Datum;
use streamhouse_format::schema::TableSchema;
use streamhouse_format::types::DataType;
use streamhouse_format::{Error, Result};

pub use prune::{ColumnRange, Possible};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The operator with its operands swapped (`5 < x` is `x > 5`).
    pub fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            o => o,
        }
    }

    /// SQL spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A literal as written, before it is converted to a column's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    /// A number exactly as written (`-12`, `3.50`, `1e6`).
    Number(String),
    /// A quoted string.
    String(String),
    /// `X'..'`: bytes.
    Bytes(Vec<u8>),
    /// `DATE '..'`, `TIME '..'`, `TIMESTAMP '..'`: the keyword and the text.
    Typed(TypedKeyword, String),
    /// A value already typed by a program (converted when its type differs from the column's).
    Value(Datum),
}

/// The keyword of a typed literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypedKeyword {
    Date,
    Time,
    Timestamp,
}

/// An unbound predicate: column names and literals as written, with source positions (byte
/// offsets into the `--where` text; `None` when built by code).
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: Option<usize>,
}

/// A literal with its source position.
#[derive(Debug, Clone, PartialEq)]
pub struct Lit {
    pub value: Literal,
    pub pos: Option<usize>,
}

impl From<Literal> for Lit {
    fn from(value: Literal) -> Self {
        Lit { value, pos: None }
    }
}

/// The forms of an unbound predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Bool(bool),
    Compare {
        column: String,
        op: CmpOp,
        value: Lit,
    },
    Between {
        column: String,
        low: Lit,
        high: Lit,
        negated: bool,
    },
    In {
        column: String,
        list: Vec<Lit>,
        negated: bool,
    },
    IsNull {
        column: String,
        negated: bool,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
}

impl Expr {
    fn new(kind: ExprKind) -> Expr {
        Expr { kind, pos: None }
    }
    /// `column op value`.
    pub fn compare(column: impl Into<String>, op: CmpOp, value: Literal) -> Expr {
        Expr::new(ExprKind::Compare {
            column: column.into(),
            op,
            value: value.into(),
        })
    }
    /// `column [NOT] IN (values)`.
    pub fn in_list(column: impl Into<String>, values: Vec<Literal>, negated: bool) -> Expr {
        Expr::new(ExprKind::In {
            column: column.into(),
            list: values.into_iter().map(Lit::from).collect(),
            negated,
        })
    }
    /// `column BETWEEN low AND high`.
    pub fn between(column: impl Into<String>, low: Literal, high: Literal, negated: bool) -> Expr {
        Expr::new(ExprKind::Between {
            column: column.into(),
            low: low.into(),
            high: high.into(),
            negated,
        })
    }
    /// `column IS [NOT] NULL`.
    pub fn is_null(column: impl Into<String>, negated: bool) -> Expr {
        Expr::new(ExprKind::IsNull {
            column: column.into(),
            negated,
        })
    }
    pub fn and(parts: Vec<Expr>) -> Expr {
        Expr::new(ExprKind::And(parts))
    }
    pub fn or(parts: Vec<Expr>) -> Expr {
        Expr::new(ExprKind::Or(parts))
    }
    #[allow(clippy::should_implement_trait)]
    pub fn not(inner: Expr) -> Expr {
        Expr::new(ExprKind::Not(Box::new(inner)))
    }
    pub fn constant(v: bool) -> Expr {
        Expr::new(ExprKind::Bool(v))
    }

    /// Resolves columns against `schema` and converts literals to the columns' types. `source`
    /// (the text this was parsed from, if any) makes errors point at the problem.
    pub fn bind(&self, schema: &TableSchema, source: Option<&str>) -> Result<Predicate> {
        literal::bind(self, schema).map_err(|e| e.into_error(source))
    }
}

/// Parses `--where` text into an unbound expression.
pub fn parse(text: &str) -> Result<Expr> {
    parser::parse(text).map_err(|e| e.into_error(Some(text)))
}

/// Parses and binds `--where` text against a schema.
pub fn parse_predicate(text: &str, schema: &TableSchema) -> Result<Predicate> {
    parse(text)?.bind(schema, Some(text))
}

/// A problem at a position of the source text.
#[derive(Debug, Clone)]
pub(crate) struct PosError {
    pub pos: Option<usize>,
    pub msg: String,
}

impl PosError {
    pub fn new(pos: Option<usize>, msg: impl Into<String>) -> Self {
        PosError {
            pos,
            msg: msg.into(),
        }
    }

    /// The message, with the source line and a caret under the position when known.
    pub fn into_error(self, source: Option<&str>) -> Error {
        match (self.pos, source) {
            (Some(pos), Some(src)) => {
                let col = src[..pos.min(src.len())].chars().count();
                Error::invalid(format!(
                    "predicate: {} (at character {})\n  {}\n  {}^",
                    self.msg,
                    col + 1,
                    src.replace(['\n', '\r', '\t'], " "),
                    " ".repeat(col)
                ))
            }
            _ => Error::invalid(format!("predicate: {}", self.msg)),
        }
    }
}

/// One test on one column of a bound predicate.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// The column's name in the schema the predicate was bound to.
    pub column: String,
    /// The column's field id (stable across renames; binds statistics of older files).
    pub field_id: i32,
    pub ty: DataType,
    pub test: Test,
}

/// What a [`Leaf`] tests. Values have the column's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Cmp(CmpOp, Datum),
    /// Equal to one of the values (never empty).
    In(Vec<Datum>),
    IsNull,
}

/// A predicate bound to a schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    Const(bool),
    Leaf(Leaf),
    And(Vec<Predicate>),
    Or(Vec<Predicate>),
    Not(Box<Predicate>),
}

impl Predicate {
    /// Conjunction of `parts` (flattened; `TRUE` for none).
    pub fn all(parts: Vec<Predicate>) -> Predicate {
        let mut out = vec![];
        for p in parts {
            match p {
                Predicate::Const(true) => {}
                Predicate::And(ps) => out.extend(ps),
                p => out.push(p),
            }
        }
        match out.len() {
            0 => Predicate::Const(true),
            1 => out.pop().unwrap_or(Predicate::Const(true)),
            _ => Predicate::And(out),
        }
    }

    /// Whether this is the constant `TRUE` (filters nothing).
    pub fn is_true(&self) -> bool {
        matches!(self, Predicate::Const(true))
    }

    /// The names of the columns the predicate reads.
    pub fn columns(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.visit_leaves(&mut |l| {
            out.insert(l.column.clone());
        });
        out
    }

    /// Calls `f` on every leaf.
    pub fn visit_leaves(&self, f: &mut dyn FnMut(&Leaf)) {
        match self {
            Predicate::Const(_) => {}
            Predicate::Leaf(l) => f(l),
            Predicate::And(ps) | Predicate::Or(ps) => ps.iter().for_each(|p| p.visit_leaves(f)),
            Predicate::Not(p) => p.visit_leaves(f),
        }
    }

    /// The top-level conjuncts.
    pub fn conjuncts(&self) -> Vec<&Predicate> {
        match self {
            Predicate::And(ps) => ps.iter().collect(),
            Predicate::Const(true) => vec![],
            p => vec![p],
        }
    }

    /// The conjunction of the top-level conjuncts that read only columns `keep` accepts: a
    /// weaker predicate (every row matching `self` matches it).
    pub fn restrict_to(&self, keep: &dyn Fn(&str) -> bool) -> Predicate {
        Predicate::all(
            self.conjuncts()
                .into_iter()
                .filter(|c| c.columns().iter().all(|n| keep(n)))
                .cloned()
                .collect(),
        )
    }

    /// The values `column` can have in a matching row, when the predicate pins it to a finite
    /// set through a top-level conjunct (`c = v`, `c IN (...)`, or an OR of those on `c`).
    /// `None` when unconstrained. An empty set means nothing matches.
    pub fn equality_values(&self, column: &str) -> Option<Vec<Datum>> {
        fn values_of(p: &Predicate, column: &str) -> Option<Vec<Datum>> {
            match p {
                Predicate::Leaf(l) if l.column == column => match &l.test {
                    Test::Cmp(CmpOp::Eq, v) => Some(vec![v.clone()]),
                    Test::In(vs) => Some(vs.clone()),
                    _ => None,
                },
                Predicate::Const(false) => Some(vec![]),
                Predicate::Or(ps) => {
                    let mut out = vec![];
                    for p in ps {
                        out.extend(values_of(p, column)?);
                    }
                    Some(out)
                }
                _ => None,
            }
        }
        self.conjuncts()
            .into_iter()
            .find_map(|c| values_of(c, column))
    }
}

impl fmt::Display for Predicate {
    /// SQL text that parses back to the same predicate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, ps: &[Predicate], sep: &str| -> fmt::Result {
            for (i, p) in ps.iter().enumerate() {
                if i > 0 {
                    write!(f, " {sep} ")?;
                }
                write!(f, "({p})")?;
            }
            Ok(())
        };
        match self {
            Predicate::Const(b) => write!(f, "{}", if *b { "TRUE" } else { "FALSE" }),
            Predicate::And(ps) => join(f, ps, "AND"),
            Predicate::Or(ps) => join(f, ps, "OR"),
            Predicate::Not(p) => write!(f, "NOT ({p})"),
            Predicate::Leaf(l) => {
                let name = quote_ident(&l.column);
                match &l.test {
                    Test::IsNull => write!(f, "{name} IS NULL"),
                    Test::Cmp(op, v) => {
                        write!(f, "{name} {} {}", op.symbol(), literal::sql(v, &l.ty))
                    }
                    Test::In(vs) => {
                        let items: Vec<String> =
                            vs.iter().map(|v| literal::sql(v, &l.ty)).collect();
                        write!(f, "{name} IN ({})", items.join(", "))
                    }
                }
            }
        }
    }
}

/// A column name as the parser reads it back: bare when it is a plain identifier.
fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !parser::is_keyword(name);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests;
