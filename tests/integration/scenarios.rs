//! The catalogue of tables our writer writes for the peers to read: each [`Scenario`] is a table
//! definition, the merge engine the model applies and the commits, in order. pypaimon
//! (`pypaimon_reads_ours`), Paimon's Java reader (`java_reads_ours`) and Flink SQL
//! (`flink_reads_ours`) read the same scenarios; each test adds the reads and checks of its
//! peer.
#![allow(dead_code)] // each test module uses a different subset

use std::path::Path;

use serde_json::{json, Map, Value};
use streamhouse_format::io::Table;

use crate::support::{create_table, inserts, write_commit_in_batches, Agg, Engine, Model};

/// Records of one commit: a row kind and a canonical row.
pub type Records = Vec<(&'static str, Value)>;

/// A table and its commits.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `db.t`.
    pub table: String,
    pub columns: String,
    pub partition: Vec<&'static str>,
    pub primary_key: Vec<&'static str>,
    pub options: Vec<(String, String)>,
    pub engine: Engine,
    /// Each commit's records and how many records the writer gets per batch.
    pub commits: Vec<(Records, usize)>,
}

/// A written scenario: the table and the model's rows after each commit.
pub struct Written {
    pub table: Table,
    pub after: Vec<Vec<Value>>,
}

impl Written {
    /// The model's rows at `snapshot` (the latest when `None`; snapshot `k` is commit `k`).
    pub fn rows_at(&self, snapshot: Option<i64>) -> &[Value] {
        match snapshot {
            Some(id) => &self.after[id as usize - 1],
            None => self.after.last().expect("a scenario commits"),
        }
    }

    /// The model's rows after the last commit.
    pub fn latest(&self) -> &[Value] {
        self.rows_at(None)
    }
}

impl Scenario {
    pub fn new(table: &str, columns: &str, engine: Engine) -> Self {
        Scenario {
            table: table.to_string(),
            columns: columns.to_string(),
            partition: vec![],
            primary_key: vec![],
            options: vec![],
            engine,
            commits: vec![],
        }
    }

    pub fn partition(mut self, keys: &[&'static str]) -> Self {
        self.partition = keys.to_vec();
        self
    }

    pub fn primary_key(mut self, keys: &[&'static str]) -> Self {
        self.primary_key = keys.to_vec();
        self
    }

    pub fn option(mut self, key: &str, value: &str) -> Self {
        self.options.push((key.to_string(), value.to_string()));
        self
    }

    /// A commit of `records` handed to the writer `rows_per_batch` at a time.
    pub fn commit_in_batches(mut self, records: Records, rows_per_batch: usize) -> Self {
        self.commits.push((records, rows_per_batch.max(1)));
        self
    }

    /// A commit of `records` in one batch.
    pub fn commit(self, records: Records) -> Self {
        let n = records.len();
        self.commit_in_batches(records, n)
    }

    /// A commit of inserts in one batch.
    pub fn insert(self, rows: Vec<Value>) -> Self {
        self.commit(inserts(rows))
    }

    /// The same table under another name.
    pub fn renamed(mut self, table: &str) -> Self {
        self.table = table.to_string();
        self
    }

    /// Creates the scenario's table (columns, keys, partitioning, options) in `warehouse`.
    pub async fn create(&self, warehouse: &Path) -> Table {
        let options: Vec<(&str, &str)> = self
            .options
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        create_table(
            warehouse.to_str().unwrap(),
            &self.table,
            &self.columns,
            &self.partition,
            &self.primary_key,
            &options,
        )
        .await
    }

    /// Creates the table in `warehouse` and makes every commit (one snapshot each), applying
    /// each to the model.
    pub async fn write(&self, warehouse: &Path) -> Written {
        let table = self.create(warehouse).await;
        let mut model = Model::new(&table.schema, self.engine.clone());
        let mut after = vec![];
        for (i, (records, rows_per_batch)) in self.commits.iter().enumerate() {
            let id = write_commit_in_batches(&table, records, *rows_per_batch).await;
            assert_eq!(id, i as i64 + 1, "{}: one snapshot per commit", self.table);
            model.apply(records);
            after.push(model.rows());
        }
        Written { table, after }
    }
}

// ---------------------------------------------------------------------------------------------
// The catalogue.

/// The tables every JVM peer reads (Paimon's Java reader and Flink SQL), each with the older
/// snapshots read beside the latest.
pub fn shared() -> Vec<(Scenario, &'static [i64])> {
    vec![
        (pk_partitioned(), &[1, 2]),
        (append_unaware(), &[1]),
        (append_bucket_key(), &[1]),
        (partial_update(), &[1, 2]),
        (aggregation(), &[1]),
        (sequence_field(), &[2]),
    ]
}

/// A row of the PK tables keyed by `id` (and `dt` when `dt` is given).
pub fn pk_row(
    dt: Option<&str>,
    id: i64,
    name: Option<&str>,
    amount: Option<f64>,
    qty: Option<i32>,
) -> Value {
    let mut row = json!({"id": id, "name": name, "amount": amount, "qty": qty});
    if let Some(dt) = dt {
        row["dt"] = json!(dt);
    }
    row
}

/// The first version of key `id` of the PK tables.
pub fn first_version(dt: Option<&str>, id: i64) -> Value {
    let name = (id % 9 != 0).then(|| match dt {
        Some(dt) => format!("{dt}/{id}"),
        None => format!("n{id}"),
    });
    let qty = (id % 5 != 0).then_some((id % 7) as i32);
    pk_row(dt, id, name.as_deref(), Some(id as f64 * 0.5), qty)
}

/// PK `id`, 3 fixed buckets, a small write buffer (several overlapping level-0 files per
/// bucket and commit); 4 commits of inserts, -U/+U pairs, bare +U, deletes, a key whose last
/// record is -U, delete-then-reinsert.
pub fn pk_fixed() -> Scenario {
    let r = |id, name, amount, qty| pk_row(None, id, name, amount, qty);
    let v1 = |id| first_version(None, id);
    let mut c2: Records = vec![];
    for id in 1..=20 {
        c2.push(("-U", v1(id)));
        c2.push(("+U", r(id, Some("updated"), Some(-(id as f64)), None)));
    }
    c2.extend((21..=30).map(|id| ("+U", r(id, Some("bare +U"), None, Some(id as i32)))));
    c2.extend((31..=40).map(|id| ("-D", v1(id))));
    c2.extend((400..410).map(|id| ("+I", r(id, Some("new"), Some(1e-3), Some(-1)))));
    c2.push(("-D", r(999, None, None, None)));
    Scenario::new(
        "db.pk_fixed",
        "id BIGINT, name STRING, amount DOUBLE, qty INT",
        Engine::Deduplicate,
    )
    .primary_key(&["id"])
    .option("bucket", "3")
    .option("write-buffer-size", "8 kb")
    .commit_in_batches(inserts((1..=300).map(v1).collect()), 25)
    .commit_in_batches(c2, 25)
    .commit_in_batches(
        vec![
            ("-U", v1(50)),
            ("-D", v1(51)),
            ("+I", r(51, Some("back"), Some(51.5), Some(51))),
            ("+U", r(52, Some("v2"), Some(2.0), None)),
            ("+U", r(52, Some("v3"), Some(3.0), Some(3))),
            ("+U", r(53, None, None, None)),
            ("+I", r(500, Some("short-lived"), Some(1.0), Some(1))),
            ("-D", r(500, None, None, None)),
        ],
        25,
    )
    .commit_in_batches(
        vec![
            ("+I", r(31, Some("re-inserted"), None, Some(1))),
            ("+I", r(50, Some("resurrected"), Some(50.0), None)),
            ("-D", r(400, None, None, None)),
        ],
        25,
    )
}

/// PK (dt, id), partitioned by dt (including the empty string, stored under
/// `dt=__DEFAULT_PARTITION__`), 3 buckets, a small write buffer; 4 commits of inserts, -U/+U
/// pairs, bare +U, plain upserts, deletes, a key whose last record is -U,
/// delete-then-reinsert, insert-then-delete, a new partition.
pub fn pk_partitioned_four_commits() -> Scenario {
    let r = |dt, id, name, amount, qty| pk_row(Some(dt), id, name, amount, qty);
    let v1 = |dt, id| first_version(Some(dt), id);
    let days = ["2024-01-01", "2024-01-02", ""];
    let c1 = days
        .iter()
        .flat_map(|d| (1..=150).map(move |id| first_version(Some(d), id)))
        .collect();
    let mut c2: Records = vec![];
    for id in 1..=20 {
        c2.push(("-U", v1("2024-01-01", id)));
        let updated = r("2024-01-01", id, Some("updated"), Some(-(id as f64)), None);
        c2.push(("+U", updated));
    }
    let bare = |id| r("2024-01-02", id, Some("bare +U"), None, Some(id as i32));
    c2.extend((1..=10).map(|id| ("+U", bare(id))));
    c2.extend((11..=15).map(|id| ("+I", r("2024-01-02", id, None, Some(1e-3), Some(0)))));
    c2.extend((1..=10).map(|id| ("-D", v1("", id))));
    let new = |id| r("2024-01-01", id, Some("new"), Some(200.25), Some(-1));
    c2.extend((200..206).map(|id| ("+I", new(id))));
    c2.push(("-D", r("2024-01-02", 999, None, None, None)));
    let short_lived = r("2024-01-03", 1, Some("short-lived"), Some(1.0), Some(1));
    let new_partition = r("2024-01-03", 2, Some("new partition"), Some(2.0), Some(2));
    Scenario::new(
        "db.pk",
        "dt STRING, id BIGINT, name STRING, amount DOUBLE, qty INT",
        Engine::Deduplicate,
    )
    .partition(&["dt"])
    .primary_key(&["dt", "id"])
    .option("bucket", "3")
    .option("write-buffer-size", "8 kb")
    .commit_in_batches(inserts(c1), 25)
    .commit_in_batches(c2, 7)
    .commit_in_batches(
        vec![
            ("-U", v1("2024-01-02", 20)),
            ("-D", v1("", 50)),
            ("+I", r("", 50, Some("back"), Some(50.5), Some(50))),
            ("+U", r("2024-01-01", 30, Some("v2"), Some(2.0), None)),
            ("+U", r("2024-01-01", 30, Some("v3"), Some(3.0), Some(3))),
            ("+U", r("2024-01-01", 31, None, None, None)),
            ("+I", short_lived.clone()),
            ("-D", short_lived),
            ("+I", new_partition.clone()),
        ],
        7,
    )
    .commit_in_batches(
        vec![
            ("+I", r("", 1, Some("re-inserted"), None, Some(1))),
            (
                "+I",
                r("2024-01-02", 20, Some("resurrected"), Some(20.0), None),
            ),
            ("-U", new_partition),
            (
                "+U",
                r(
                    "2024-01-03",
                    2,
                    Some("updated partition"),
                    Some(2.5),
                    Some(3),
                ),
            ),
            ("-D", r("2024-01-01", 200, None, None, None)),
        ],
        7,
    )
}

/// PK (dt, id) partitioned by dt, including the empty string (Paimon's default partition),
/// 2 buckets, 3 commits.
pub fn pk_partitioned() -> Scenario {
    let r = |dt: &str, id: i64, v: Option<&str>, n: Option<i32>| json!({"dt": dt, "id": id, "v": v, "n": n});
    let days = ["2024-01-01", "2024-01-02", ""];
    let c1 = days
        .iter()
        .flat_map(|d| (1..=60).map(move |id| r(d, id, Some("v1"), Some(id as i32))))
        .collect();
    Scenario::new(
        "db.pk_partitioned",
        "dt STRING, id BIGINT, v STRING, n INT",
        Engine::Deduplicate,
    )
    .partition(&["dt"])
    .primary_key(&["dt", "id"])
    .option("bucket", "2")
    .option("write-buffer-size", "8 kb")
    .commit_in_batches(inserts(c1), 20)
    .commit_in_batches(
        vec![
            ("+U", r("", 1, Some("default partition updated"), None)),
            ("-D", r("", 2, None, None)),
            ("-U", r("2024-01-01", 3, None, None)),
            ("+U", r("2024-01-01", 3, Some("v2"), Some(-3))),
            ("+I", r("2024-01-03", 1, Some("new partition"), Some(1))),
            ("-D", r("2024-01-02", 60, None, None)),
        ],
        20,
    )
    .commit_in_batches(
        vec![
            ("+I", r("", 2, Some("back"), Some(2))),
            ("-D", r("2024-01-03", 1, None, None)),
            ("+I", r("2024-01-02", 61, None, None)),
        ],
        20,
    )
}

/// Append table, bucket -1: duplicates (also of an earlier commit's row) and nulls kept, 3
/// commits of 50, 4 and 6 rows.
pub fn append_unaware() -> Scenario {
    let row = |id: i32, category: Option<&str>, value: Option<f64>, note: Option<&str>| json!({"id": id, "category": category, "value": value, "note": note});
    let first = (0..50).map(|i| {
        let category = format!("cat_{}", i % 3);
        let note = (i % 4 == 0).then_some("four");
        row(i, Some(&category), Some(i as f64 / 4.0), note)
    });
    let third = (20..26).map(|i| {
        let note = "x".repeat(i as usize);
        row(i, Some("cat_9"), Some(-(i as f64)), Some(&note))
    });
    Scenario::new(
        "db.append_unaware",
        "id INT, category STRING, value DOUBLE, note STRING",
        Engine::Append,
    )
    .option("bucket", "-1")
    .insert(first.collect())
    .insert(vec![
        row(3, Some("cat_0"), Some(0.75), None),
        row(3, Some("cat_0"), Some(0.75), None),
        row(100, None, None, Some("nulls")),
        json!({"id": null}),
    ])
    .insert(third.collect())
}

/// Append table partitioned by a nullable column (null values go to the default partition),
/// 2 buckets by `bucket-key = id`, 3 commits.
pub fn append_bucket_key() -> Scenario {
    let regions = ["eu", "us", "ap"];
    let row = |region: Option<&str>, id: i64, amount: Option<i64>, label: Option<&str>| json!({"region": region, "id": id, "amount": amount, "label": label});
    let spread = |ids: std::ops::Range<i64>, amount: fn(i64) -> i64, label: &'static str| {
        ids.map(move |i| {
            let region = Some(regions[i as usize % 3]);
            row(region, i, Some(amount(i)), Some(&format!("{label}{i}")))
        })
    };
    let third = spread(30..36, |i| -i, "late")
        .chain([row(None, 9, Some(9), Some("null region again"))])
        .collect();
    Scenario::new(
        "db.append_bucket_key",
        "region STRING, id BIGINT NOT NULL, amount BIGINT, label STRING",
        Engine::Append,
    )
    .partition(&["region"])
    .option("bucket", "2")
    .option("bucket-key", "id")
    .insert(spread(0..30, |i| i * 100, "r").collect())
    .insert(vec![
        row(Some("eu"), 0, Some(1), Some("r0-again")),
        row(Some("us"), 1000, None, None),
        row(None, 7, Some(i64::MIN), Some("null region")),
        row(None, 8, Some(i64::MAX), None),
    ])
    .insert(third)
}

/// Partial-update engine: per column the latest non-null value wins, across 3 commits.
pub fn partial_update() -> Scenario {
    let r = |id: i64, a: Option<i32>, b: Option<&str>, c: Option<f64>| json!({"id": id, "a": a, "b": b, "c": c});
    Scenario::new(
        "db.partial_update",
        "id BIGINT, a INT, b STRING, c DOUBLE, d DATE",
        Engine::PartialUpdate,
    )
    .primary_key(&["id"])
    .option("bucket", "2")
    .option("merge-engine", "partial-update")
    .insert(vec![
        r(1, Some(10), None, None),
        r(2, None, Some("x"), Some(1.0)),
        r(4, None, None, None),
        r(1, None, None, Some(0.5)),
    ])
    .insert(vec![
        r(1, None, Some("y"), None),
        r(1, Some(11), None, None),
        r(3, Some(1), Some("z"), None),
        json!({"id": 5, "d": "2024-05-05"}),
    ])
    .insert(vec![
        r(2, Some(5), None, Some(2.5)),
        r(1, None, None, Some(9.75)),
        r(3, None, Some("z2"), None),
        json!({"id": 4, "d": "1999-12-31"}),
        r(5, Some(-5), None, None),
    ])
}

/// The aggregation scenario's columns and functions (`untouched` has none: Paimon's default,
/// last_non_null_value).
pub const AGGREGATES: [(&str, &str, Agg); 12] = [
    ("s", "BIGINT", Agg::Sum),
    ("p", "BIGINT", Agg::Product),
    ("mn", "INT", Agg::Min),
    ("mx", "DOUBLE", Agg::Max),
    ("lv", "STRING", Agg::LastValue),
    ("lnn", "STRING", Agg::LastNonNullValue),
    ("fv", "STRING", Agg::FirstValue),
    ("fnn", "STRING", Agg::FirstNonNullValue),
    ("bor", "BOOLEAN", Agg::BoolOr),
    ("band", "BOOLEAN", Agg::BoolAnd),
    ("la", "STRING", Agg::Listagg),
    ("dsum", "DOUBLE", Agg::Sum),
];

/// Aggregation engine with every aggregate function pypaimon 2.1.0 implements and the default
/// for a column without one; 3 commits.
pub fn aggregation() -> Scenario {
    let columns = std::iter::once("id BIGINT".to_string())
        .chain(AGGREGATES.iter().map(|(n, t, _)| format!("{n} {t}")))
        .chain(["untouched STRING".to_string()])
        .collect::<Vec<_>>()
        .join(", ");
    let engine = Engine::Aggregation(
        AGGREGATES
            .iter()
            .map(|(n, _, f)| (n.to_string(), *f))
            .collect(),
    );
    let mut scenario = Scenario::new("db.aggregation", &columns, engine)
        .primary_key(&["id"])
        .option("bucket", "2")
        .option("merge-engine", "aggregation");
    for (n, _, f) in AGGREGATES {
        scenario = scenario.option(&format!("fields.{n}.aggregate-function"), f.paimon_name());
    }
    let names: Vec<&str> = AGGREGATES
        .iter()
        .map(|(n, _, _)| *n)
        .chain(["untouched"])
        .collect();
    let r = |id: i64, values: Vec<Value>| {
        let mut row = Map::new();
        row.insert("id".into(), json!(id));
        row.extend(names.iter().map(|n| n.to_string()).zip(values));
        Value::Object(row)
    };
    let n = Value::Null;
    #[rustfmt::skip]
    let scenario = scenario
        .insert(vec![
            r(1, vec![json!(10), json!(2), json!(5), json!(1.5), json!("a"), json!("a"), n.clone(), n.clone(), json!(false), json!(true), json!("x"), json!(0.25), json!("u1")]),
            r(2, vec![n.clone(), n.clone(), n.clone(), n.clone(), n.clone(), n.clone(), json!("f"), n.clone(), n.clone(), n.clone(), n.clone(), n.clone(), n.clone()]),
            r(1, vec![json!(5), json!(3), json!(3), json!(0.5), n.clone(), n.clone(), json!("b"), json!("b"), json!(false), json!(true), n.clone(), json!(0.5), n.clone()]),
        ])
        .insert(vec![
            r(2, vec![json!(7), json!(4), json!(9), json!(-2.0), json!("l"), json!("l"), json!("g"), json!("g"), json!(true), json!(false), json!("p"), json!(-1.0), json!("u2")]),
            r(1, vec![json!(-1), json!(-1), json!(8), json!(4.0), json!("c"), n.clone(), json!("c"), json!("c"), json!(true), json!(false), json!("y"), json!(1.0), n.clone()]),
        ])
        .insert(vec![
            r(3, vec![json!(1), json!(1), json!(1), json!(1.0), json!("only"), json!("only"), json!("only"), json!("only"), json!(false), json!(false), json!("only"), json!(1.0), json!("u3")]),
            r(2, vec![json!(1), json!(10), json!(-5), n.clone(), n.clone(), n.clone(), n.clone(), json!("h"), n.clone(), json!(true), json!("q"), json!(0.125), n.clone()]),
            r(1, vec![json!(100), json!(2), json!(i32::MIN), json!(-8.5), json!("d"), json!("d"), json!("d"), json!("d"), json!(false), json!(true), json!("z"), json!(2.0), json!("u1b")]),
        ]);
    scenario
}

/// A row of the sequence-field scenarios.
pub fn seq_row(id: i64, ts: i64, v: &str) -> Value {
    json!({"id": id, "ts": ts, "v": v})
}

/// `sequence.field = ts`: the record with the highest `ts` wins (ties: the later one), also
/// when it arrived earlier or in an earlier commit; a delete with a low `ts` loses; 3 commits.
pub fn sequence_field() -> Scenario {
    let r = seq_row;
    Scenario::new(
        "db.sequence_field",
        "id BIGINT, ts BIGINT NOT NULL, v STRING",
        Engine::SequenceField("ts".into()),
    )
    .primary_key(&["id"])
    .option("bucket", "2")
    .option("sequence.field", "ts")
    .commit(vec![
        ("+I", r(1, 5, "a")),
        ("+I", r(2, 1, "b")),
        ("+I", r(1, 3, "older, same commit")),
        ("+I", r(4, 7, "d")),
        ("+I", r(5, 1, "e")),
    ])
    .commit(vec![
        ("+I", r(1, 4, "late but older")),
        ("+I", r(2, 1, "tie, later wins")),
        ("+I", r(3, 10, "c")),
        ("+I", r(4, 8, "d newer")),
        ("-D", r(5, 0, "delete with an older ts loses")),
    ])
    .commit(vec![
        ("+I", r(3, 11, "c newer")),
        ("+I", r(3, 9, "c older")),
        ("+I", r(4, 6, "d older")),
        ("-D", r(2, 2, "delete with a newer ts wins")),
    ])
}

/// A row of the `id, v, n` tables.
pub fn r3(id: i64, v: Option<&str>, n: Option<i64>) -> Value {
    json!({"id": id, "v": v, "n": n})
}

/// PK table, 2 buckets, a small write buffer, 3 commits (updates, new keys, deletes, a
/// re-insert) of 220 keys; the readers compact it fully before they read.
pub fn to_compact() -> Scenario {
    let r = |id: i64, v: &str, n: Option<i64>| r3(id, Some(v), n);
    let c2 = (0..200)
        .step_by(3)
        .map(|i| ("+U", r(i, "v2", Some(-i))))
        .chain((200..220).map(|i| ("+I", r(i, "v2 new", None))))
        .collect();
    let c3 = (0..220)
        .step_by(7)
        .map(|i| ("-D", r(i, "", None)))
        .chain([("+I", r(7, "v3 back", Some(7)))])
        .collect();
    Scenario::new(
        "db.compacted",
        "id BIGINT, v STRING, n BIGINT",
        Engine::Deduplicate,
    )
    .primary_key(&["id"])
    .option("bucket", "2")
    .option("write-buffer-size", "8 kb")
    .commit_in_batches(inserts((0..200).map(|i| r(i, "v1", Some(i))).collect()), 40)
    .commit_in_batches(c2, 40)
    .commit_in_batches(c3, 40)
}

/// The all-types scenario's second commit: `updated` merged into row 1 (`+U`), row `id = 4`
/// filled with `filled` (`+U`), key 5 deleted, and row 0 inserted again as `new_row` (its
/// fields over row 0's).
pub fn all_types(
    table: &str,
    columns: &str,
    rows: Vec<Value>,
    updated: Value,
    filled: Value,
    new_row: Value,
) -> Scenario {
    let merge = |mut row: Value, fields: Value| {
        for (k, v) in fields.as_object().unwrap() {
            row[k] = v.clone();
        }
        row
    };
    let c2 = vec![
        ("+U", merge(rows[1].clone(), updated)),
        ("+U", merge(json!({"id": 4}), filled)),
        ("-D", json!({"id": 5})),
        ("+I", merge(rows[0].clone(), new_row)),
    ];
    Scenario::new(table, columns, Engine::Deduplicate)
        .primary_key(&["id"])
        .option("bucket", "2")
        .insert(rows)
        .commit(c2)
}

/// Every 256 byte values, as hex.
pub fn all_bytes_hex() -> String {
    (0u8..=255).map(|b| format!("{b:02x}")).collect()
}

/// A deletion-vector PK table (`deletion-vectors.enabled`, 2 buckets, 3 levels) under
/// `engine` (deduplicate, or partial-update with inserts only): 4 commits of updates, new keys,
/// deletes (deduplicate) and re-inserts over 300 keys. Readers compact it (not fully) after
/// every commit, so that compaction marks superseded rows in deletion vectors.
pub fn deletion_vectors(table: &str, engine: Engine) -> Scenario {
    let deletes = matches!(engine, Engine::Deduplicate);
    let r = |id: i64, v: Option<&str>, n: Option<i64>| r3(id, v, n);
    let c2: Records = (0..300)
        .step_by(3)
        .map(|i| ("+U", r(i, Some("v2"), (i % 2 == 0).then_some(-i))))
        .chain((300..340).map(|i| ("+I", r(i, Some("v2 new"), None))))
        .chain(
            (0..300)
                .step_by(10)
                .filter(|_| deletes)
                .map(|i| ("-D", r(i, None, None))),
        )
        .collect();
    let c3: Records = (0..340)
        .step_by(7)
        .map(|i| ("+U", r(i, None, Some(i * 100))))
        .chain([("+I", r(10, Some("v3 back"), Some(10)))])
        .collect();
    let c4: Records = (0..340)
        .step_by(11)
        .map(|i| ("+U", r(i, Some("v4"), None)))
        .chain(
            (0..340)
                .step_by(13)
                .filter(|_| deletes)
                .map(|i| ("-D", r(i, None, None))),
        )
        .collect();
    Scenario::new(table, "id BIGINT, v STRING, n BIGINT", engine.clone())
        .primary_key(&["id"])
        .option("bucket", "2")
        .option("num-levels", "3")
        .option("deletion-vectors.enabled", "true")
        .option(
            "merge-engine",
            if deletes {
                "deduplicate"
            } else {
                "partial-update"
            },
        )
        .insert((0..300).map(|i| r(i, Some("v1"), Some(i))).collect())
        .commit(c2)
        .commit(c3)
        .commit(c4)
}
