//! The model behind the predicate tests: tables written in several commits with known rows,
//! random predicates in `--where` text and pypaimon JSON, and an independent three-valued
//! evaluator.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, AsArray, Date32Array, Decimal128Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType as A, Date32Type, Decimal128Type, Int32Type, Int64Type};
use streamhouse_format::io::Table;
use streamhouse_format::row_kind::RowKind;
use streamhouse_writer::TableWriter;

pub const COLUMNS: &str =
    "dt STRING NOT NULL, id BIGINT NOT NULL, v INT, name STRING, price DECIMAL(10, 2), d DATE";
pub const IDS: i64 = 6000;

/// One row of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub dt: String,
    pub id: i64,
    pub v: Option<i32>,
    pub name: Option<String>,
    pub price: Option<i128>,
    pub d: Option<i32>,
}

impl Row {
    pub fn line(&self) -> String {
        format!(
            "{}|{}|{:?}|{:?}|{:?}|{:?}",
            self.dt, self.id, self.v, self.name, self.price, self.d
        )
    }
}

/// splitmix64.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub fn dt_of(id: i64) -> &'static str {
    if id % 3 == 0 {
        "a"
    } else {
        "b"
    }
}

pub fn random_row(rng: &mut Rng, id: i64) -> Row {
    Row {
        dt: dt_of(id).to_string(),
        id,
        v: (rng.below(8) != 0).then(|| rng.below(100) as i32 - 20),
        name: (rng.below(6) != 0).then(|| format!("n{}", rng.below(12))),
        price: (rng.below(10) != 0).then(|| rng.below(100_000) as i128),
        d: (rng.below(10) != 0).then(|| 19_000 + rng.below(100) as i32),
    }
}

pub fn batch(rows: &[Row]) -> RecordBatch {
    let schema = Arc::new(arrow::datatypes::Schema::new(vec![
        arrow::datatypes::Field::new("dt", A::Utf8, false),
        arrow::datatypes::Field::new("id", A::Int64, false),
        arrow::datatypes::Field::new("v", A::Int32, true),
        arrow::datatypes::Field::new("name", A::Utf8, true),
        arrow::datatypes::Field::new("price", A::Decimal128(10, 2), true),
        arrow::datatypes::Field::new("d", A::Date32, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.dt.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            )),
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.v).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(
                Decimal128Array::from(rows.iter().map(|r| r.price).collect::<Vec<_>>())
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
            Arc::new(Date32Array::from(
                rows.iter().map(|r| r.d).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

pub fn rows_of(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = vec![];
    for b in batches {
        let col = |n: &str| b.column_by_name(n).unwrap().clone();
        let (dt, id, v, name, price, d) = (
            col("dt"),
            col("id"),
            col("v"),
            col("name"),
            col("price"),
            col("d"),
        );
        for i in 0..b.num_rows() {
            let opt = |a: &Arc<dyn Array>| a.is_valid(i);
            out.push(
                Row {
                    dt: dt.as_string::<i32>().value(i).to_string(),
                    id: id.as_primitive::<Int64Type>().value(i),
                    v: opt(&v).then(|| v.as_primitive::<Int32Type>().value(i)),
                    name: opt(&name).then(|| name.as_string::<i32>().value(i).to_string()),
                    price: opt(&price).then(|| price.as_primitive::<Decimal128Type>().value(i)),
                    d: opt(&d).then(|| d.as_primitive::<Date32Type>().value(i)),
                }
                .line(),
            );
        }
    }
    out.sort();
    out
}

/// The model's rows of a table and the table itself.
pub struct Fixture {
    pub table: Table,
    pub rows: Vec<Row>,
    pub dir: tempfile::TempDir,
}

/// A partitioned table with `bucket` buckets (primary key (dt, id)) or an append table,
/// written in `commits` commits of `per_commit` rows; the primary-key table gets updates and,
/// in the last commit, deletes.
pub async fn fixture(pk: bool, commits: usize, per_commit: usize, seed: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (name, bucket, pk_columns): (_, _, &[&str]) = if pk {
        ("db.pk", "3", &["dt", "id"])
    } else {
        ("db.log", "-1", &[])
    };
    let table = crate::common::create_table(
        dir.path().to_str().unwrap(),
        name,
        COLUMNS,
        &["dt"],
        pk_columns,
        &[("bucket", bucket), ("metadata.stats-mode", "full")],
    )
    .await;
    let mut rng = Rng(seed);
    let mut model: BTreeMap<i64, Row> = BTreeMap::new();
    let mut log: Vec<Row> = vec![];
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    for c in 0..commits {
        let mut rows: Vec<Row> = vec![];
        let mut seen = std::collections::HashSet::new();
        while rows.len() < per_commit {
            let id = rng.below(IDS as u64) as i64;
            if pk && !seen.insert(id) {
                continue;
            }
            rows.push(random_row(&mut rng, id));
        }
        if pk && c == commits - 1 && c > 0 {
            // Delete a tenth of the keys that exist.
            let victims: Vec<Row> = model
                .values()
                .filter(|r| r.id % 10 == 3 && !seen.contains(&r.id))
                .cloned()
                .collect();
            let kinds: Vec<RowKind> = rows
                .iter()
                .map(|_| RowKind::Insert)
                .chain(victims.iter().map(|_| RowKind::Delete))
                .collect();
            for v in &victims {
                model.remove(&v.id);
            }
            for r in &rows {
                model.insert(r.id, r.clone());
            }
            let all: Vec<Row> = rows.iter().chain(&victims).cloned().collect();
            w.write_with_kinds(&batch(&all), &kinds).await.unwrap();
        } else {
            for r in &rows {
                model.insert(r.id, r.clone());
            }
            log.extend(rows.iter().cloned());
            w.write(&batch(&rows)).await.unwrap();
        }
        w.commit().await.unwrap();
    }
    Fixture {
        table,
        rows: if pk {
            model.into_values().collect()
        } else {
            log
        },
        dir,
    }
}

/// A random predicate: its `--where` text, its pypaimon JSON, and its value on a model row.
#[derive(Debug, Clone)]
pub enum P {
    Cmp(&'static str, &'static str, i64),
    Between(&'static str, i64, i64),
    In(&'static str, Vec<i64>),
    IsNull(&'static str, bool),
    NameEq(String),
    NameIn(Vec<String>),
    Dt(&'static str),
    And(Vec<P>),
    Or(Vec<P>),
    Not(Box<P>),
}

pub const OPS: [&str; 6] = ["=", "<>", "<", "<=", ">", ">="];

pub fn gen(rng: &mut Rng, depth: u32, allow_not: bool) -> P {
    let leaf = depth == 0 || rng.below(3) == 0;
    if leaf {
        let col = ["id", "v", "price", "d"][rng.below(4) as usize];
        let value = |rng: &mut Rng, col: &str| -> i64 {
            match col {
                "id" => rng.below(IDS as u64 + 100) as i64,
                "v" => rng.below(100) as i64 - 20,
                "price" => rng.below(100_000) as i64,
                _ => 19_000 + rng.below(100) as i64,
            }
        };
        return match rng.below(9) {
            0..=2 => P::Cmp(col, OPS[rng.below(6) as usize], value(rng, col)),
            3 => {
                let a = value(rng, col);
                let span = match col {
                    "id" => rng.below(IDS as u64 / 50) as i64,
                    "price" => rng.below(5000) as i64,
                    _ => rng.below(10) as i64,
                };
                P::Between(col, a, a + span)
            }
            4 => P::In(
                col,
                (0..1 + rng.below(4)).map(|_| value(rng, col)).collect(),
            ),
            5 => P::IsNull(
                ["v", "name", "price", "d"][rng.below(4) as usize],
                rng.below(2) == 0,
            ),
            6 => P::NameEq(format!("n{}", rng.below(13))),
            7 => P::NameIn(
                (0..1 + rng.below(3))
                    .map(|_| format!("n{}", rng.below(13)))
                    .collect(),
            ),
            _ => P::Dt(["a", "b"][rng.below(2) as usize]),
        };
    }
    let n = 2 + rng.below(2) as usize;
    match rng.below(if allow_not { 5 } else { 4 }) {
        0 | 1 => P::And((0..n).map(|_| gen(rng, depth - 1, allow_not)).collect()),
        2 | 3 => P::Or((0..n).map(|_| gen(rng, depth - 1, allow_not)).collect()),
        _ => P::Not(Box::new(gen(rng, depth - 1, allow_not))),
    }
}

pub fn lit(col: &str, v: i64) -> String {
    match col {
        "price" => format!("{}.{:02}", v / 100, v % 100),
        "d" => {
            let date =
                chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(v);
            format!("DATE '{}'", date.format("%Y-%m-%d"))
        }
        _ => v.to_string(),
    }
}

pub fn text(p: &P) -> String {
    let join = |ps: &[P], sep: &str| {
        ps.iter()
            .map(|p| format!("({})", text(p)))
            .collect::<Vec<_>>()
            .join(sep)
    };
    match p {
        P::Cmp(c, op, v) => format!("{c} {op} {}", lit(c, *v)),
        P::Between(c, a, b) => format!("{c} BETWEEN {} AND {}", lit(c, *a), lit(c, *b)),
        P::In(c, vs) => format!(
            "{c} IN ({})",
            vs.iter().map(|v| lit(c, *v)).collect::<Vec<_>>().join(", ")
        ),
        P::IsNull(c, true) => format!("{c} IS NULL"),
        P::IsNull(c, false) => format!("{c} IS NOT NULL"),
        P::NameEq(s) => format!("name = '{s}'"),
        P::NameIn(ss) => format!(
            "name IN ({})",
            ss.iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        P::Dt(s) => format!("dt = '{s}'"),
        P::And(ps) => join(ps, " AND "),
        P::Or(ps) => join(ps, " OR "),
        P::Not(p) => format!("NOT ({})", text(p)),
    }
}

/// The predicate as JSON for `tests/python/pypaimon_filter_read.py` (no NOT).
pub fn json(p: &P) -> serde_json::Value {
    use serde_json::json;
    let value = |c: &str, v: i64| match c {
        "price" => json!({"decimal": lit(c, v)}),
        "d" => json!({"date": v}),
        "v" => json!(v),
        _ => json!(v),
    };
    let method = |op: &str| match op {
        "=" => "equal",
        "<>" => "not_equal",
        "<" => "less_than",
        "<=" => "less_or_equal",
        ">" => "greater_than",
        _ => "greater_or_equal",
    };
    match p {
        P::Cmp(c, op, v) => json!({"method": method(op), "field": c, "literals": [value(c, *v)]}),
        P::Between(c, a, b) => {
            json!({"method": "between", "field": c, "literals": [value(c, *a), value(c, *b)]})
        }
        P::In(c, vs) => json!({"method": "is_in", "field": c,
            "literals": vs.iter().map(|v| value(c, *v)).collect::<Vec<_>>()}),
        P::IsNull(c, n) => {
            json!({"method": if *n { "is_null" } else { "is_not_null" }, "field": c, "literals": []})
        }
        P::NameEq(s) => json!({"method": "equal", "field": "name", "literals": [s]}),
        P::NameIn(ss) => json!({"method": "is_in", "field": "name", "literals": ss}),
        P::Dt(s) => json!({"method": "equal", "field": "dt", "literals": [s]}),
        P::And(ps) => json!({"method": "and", "children": ps.iter().map(json).collect::<Vec<_>>()}),
        P::Or(ps) => json!({"method": "or", "children": ps.iter().map(json).collect::<Vec<_>>()}),
        P::Not(_) => panic!("pypaimon predicates have no NOT"),
    }
}

/// SQL three-valued evaluation on a model row.
pub fn eval(p: &P, r: &Row) -> Option<bool> {
    let num = |c: &str| -> Option<i64> {
        match c {
            "id" => Some(r.id),
            "v" => r.v.map(i64::from),
            "price" => r.price.map(|x| x as i64),
            "d" => r.d.map(i64::from),
            _ => unreachable!(),
        }
    };
    match p {
        P::Cmp(c, op, v) => num(c).map(|x| match *op {
            "=" => x == *v,
            "<>" => x != *v,
            "<" => x < *v,
            "<=" => x <= *v,
            ">" => x > *v,
            _ => x >= *v,
        }),
        P::Between(c, a, b) => num(c).map(|x| *a <= x && x <= *b),
        P::In(c, vs) => num(c).map(|x| vs.contains(&x)),
        P::IsNull(c, is) => {
            let null = match *c {
                "name" => r.name.is_none(),
                c => num(c).is_none(),
            };
            Some(null == *is)
        }
        P::NameEq(s) => r.name.as_ref().map(|n| n == s),
        P::NameIn(ss) => r.name.as_ref().map(|n| ss.contains(n)),
        P::Dt(s) => Some(r.dt == *s),
        P::And(ps) => kleene(ps, r, false),
        P::Or(ps) => kleene(ps, r, true),
        P::Not(p) => eval(p, r).map(|b| !b),
    }
}

/// Kleene's AND (`decisive` = false) or OR (`decisive` = true) of the operands: the decisive
/// value if any operand has it, else unknown if any operand is, else the other value.
fn kleene(ps: &[P], r: &Row, decisive: bool) -> Option<bool> {
    let vs: Vec<Option<bool>> = ps.iter().map(|p| eval(p, r)).collect();
    if vs.contains(&Some(decisive)) {
        Some(decisive)
    } else if vs.contains(&None) {
        None
    } else {
        Some(!decisive)
    }
}

pub fn expected(f: &Fixture, p: &P) -> Vec<String> {
    let mut out: Vec<String> = f
        .rows
        .iter()
        .filter(|r| eval(p, r) == Some(true))
        .map(Row::line)
        .collect();
    out.sort();
    out
}
