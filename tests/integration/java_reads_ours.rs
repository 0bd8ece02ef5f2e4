//! Apache Paimon's Java library (1.3.1, through the JVM bench in `tests/jvm/`) reads tables our
//! `TableWriter` and `Compactor` wrote. Every kind of table goes into one warehouse, one JVM
//! reads every case, and for each case Java's merged rows must equal our `ScanBuilder`'s; where
//! a model of the writes exists, ours must also equal the model.
//!
//! Also the other way round with the same bench: we read every snapshot of tables Java's
//! writer wrote (`we_read_what_java_paimon_writes`), and both writers take turns on the same
//! tables (`java_and_we_write_the_same_tables`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use streamhouse_compaction::{BucketOutcome, CompactOptions, Compactor};
use streamhouse_format::io::Table;
use streamhouse_format::snapshot::CommitKind;
use streamhouse_reader::ScanBuilder;

use crate::interop_support::assert_same_rows;
use crate::java_support::{
    canonical_rows, java_bench, java_read, java_write, JavaRead, ReadCase, WriteTable,
};
use crate::support::{
    create_table, inserts, open_table, write_commit_in_batches, Agg, Engine, Model,
};

/// A case for Java and what we expect of it.
struct Check {
    case: ReadCase,
    table: Table,
    /// The model's rows for this case (latest or the case's snapshot), when there is a model.
    model: Option<Vec<Value>>,
}

/// Our merged read for `case` (snapshot, tag, projection): `support::scan_rows`, extended to
/// tags and nested columns.
async fn our_rows(table: &Table, case: &ReadCase) -> Vec<Value> {
    let mut scan = ScanBuilder::new(table);
    if let Some(id) = case.snapshot {
        scan = scan.snapshot(id);
    }
    if let Some(tag) = &case.tag {
        scan = scan.tag(tag.clone());
    }
    if let Some(columns) = &case.columns {
        scan = scan.projection(columns.clone());
    }
    let schema = scan.output_schema().unwrap();
    let batches = scan
        .to_batches()
        .await
        .unwrap_or_else(|e| panic!("our scan for case {}: {e}", case.name));
    canonical_rows(&batches, &schema)
}

/// Runs `f`; a panic becomes `Err(message)` (so one failing case does not hide the others).
fn failure_of(f: impl FnOnce() + std::panic::UnwindSafe) -> Option<String> {
    std::panic::catch_unwind(f).err().map(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

#[tokio::test]
async fn java_paimon_reads_every_kind_of_table() {
    let Some(bench) = java_bench() else { return };
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path();
    let mut checks = vec![];
    pk_fixed_bucket(warehouse, &mut checks).await;
    pk_partitioned(warehouse, &mut checks).await;
    append_unaware(warehouse, &mut checks).await;
    append_bucket_key(warehouse, &mut checks).await;
    partial_update(warehouse, &mut checks).await;
    aggregation(warehouse, &mut checks).await;
    sequence_field(warehouse, &mut checks).await;
    compacted(warehouse, &mut checks).await;
    all_types(warehouse, &mut checks).await;
    nested(warehouse, &mut checks).await;
    variants(warehouse, &mut checks).await;

    // A failing case (its table does not exist) in the middle: the others still run.
    let mut cases: Vec<ReadCase> = checks.iter().map(|c| c.case.clone()).collect();
    cases.insert(
        cases.len() / 2,
        ReadCase::new("no_such_table", warehouse, "db.no_such_table"),
    );
    let java = java_read(&bench, &cases);
    eprintln!(
        "Paimon Java read {} cases in one JVM in {:.1}s:\n{}",
        cases.len(),
        java.elapsed.as_secs_f64(),
        java.stderr.trim_end()
    );
    match java.result("no_such_table") {
        Err(error) => assert!(error.contains("does not exist"), "{error}"),
        Ok(rows) => panic!("a missing table read as {} rows", rows.len()),
    }

    verify(&checks, &java).await;
}

/// For every check: our rows equal the model's (when there is one) and Java's rows equal ours.
/// Reports every failing check at once.
async fn verify(checks: &[Check], java: &JavaRead) {
    let mut failures = vec![];
    for check in checks {
        let name = &check.case.name;
        let ours = our_rows(&check.table, &check.case).await;
        assert!(
            !ours.is_empty() || name.contains("empty"),
            "{name}: no rows"
        );
        if let Some(model) = &check.model {
            if let Some(f) =
                failure_of(|| assert_same_rows(&ours, model, &format!("{name}: ours vs model")))
            {
                failures.push(f);
            }
        }
        let outcome = match java.result(name) {
            Ok(rows) if check.case.row_kind => failure_of(|| {
                // A merged batch read keeps the kind of each key's winning record: never a
                // retraction. Without the kind, the rows are ours.
                let rows: Vec<Value> = rows
                    .iter()
                    .map(|row| {
                        let mut row = row.clone();
                        let kind = row.as_object_mut().unwrap().remove("rowkind");
                        assert!(
                            kind == Some(json!("+I")) || kind == Some(json!("+U")),
                            "{name}: kind {kind:?} of {row}"
                        );
                        row
                    })
                    .collect();
                assert_same_rows(&rows, &ours, &format!("{name}: Java vs ours"))
            }),
            Ok(rows) => {
                failure_of(|| assert_same_rows(rows, &ours, &format!("{name}: Java vs ours")))
            }
            Err(error) => Some(format!("{name}: Paimon's Java reader failed:\n{error}")),
        };
        match outcome {
            None => eprintln!("ok      {name} ({} rows)", ours.len()),
            Some(f) => {
                eprintln!("FAILED  {name}");
                failures.push(f);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} checks failed:\n\n{}",
        failures.len(),
        checks.len(),
        failures.join("\n")
    );
}

fn location(warehouse: &Path) -> &str {
    warehouse.to_str().unwrap()
}

/// Commits `commits` in order (each with `rows_per_batch`), returns the model's rows after each.
async fn commit_all(
    table: &Table,
    model: &mut Model,
    commits: &[Vec<(&str, Value)>],
    rows_per_batch: usize,
) -> Vec<Vec<Value>> {
    let mut after = vec![];
    for (i, records) in commits.iter().enumerate() {
        let id = write_commit_in_batches(table, records, rows_per_batch).await;
        assert_eq!(id, i as i64 + 1, "{}: one snapshot per commit", table.name);
        model.apply(records);
        after.push(model.rows());
    }
    after
}

fn check(table: &Table, case: ReadCase, model: Option<&[Value]>) -> Check {
    Check {
        case,
        table: table.clone(),
        model: model.map(|m| m.to_vec()),
    }
}

fn pk_row(id: i64, name: Option<&str>, amount: Option<f64>, qty: Option<i32>) -> Value {
    json!({"id": id, "name": name, "amount": amount, "qty": qty})
}

fn first_version(id: i64) -> Value {
    let name = (id % 9 != 0).then(|| format!("n{id}"));
    pk_row(
        id,
        name.as_deref(),
        Some(id as f64 * 0.5),
        (id % 5 != 0).then_some((id % 7) as i32),
    )
}

/// PK table, 3 fixed buckets, a small write buffer (several overlapping level-0 files per
/// bucket and commit); 4 commits of inserts, -U/+U pairs, bare +U, deletes, a key whose last
/// record is -U, delete-then-reinsert. Read at the latest and an older snapshot, projected, and
/// through a tag.
async fn pk_fixed_bucket(warehouse: &Path, checks: &mut Vec<Check>) {
    let table = create_table(
        location(warehouse),
        "db.pk_fixed",
        "id BIGINT, name STRING, amount DOUBLE, qty INT",
        &[],
        &["id"],
        &[("bucket", "3"), ("write-buffer-size", "8 kb")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let c1 = inserts((1..=300).map(first_version).collect());
    let mut c2: Vec<(&str, Value)> = vec![];
    for id in 1..=20 {
        c2.push(("-U", first_version(id)));
        c2.push(("+U", pk_row(id, Some("updated"), Some(-(id as f64)), None)));
    }
    for id in 21..=30 {
        c2.push(("+U", pk_row(id, Some("bare +U"), None, Some(id as i32))));
    }
    for id in 31..=40 {
        c2.push(("-D", first_version(id)));
    }
    for id in 400..410 {
        c2.push(("+I", pk_row(id, Some("new"), Some(1e-3), Some(-1))));
    }
    c2.push(("-D", pk_row(999, None, None, None)));
    let c3 = vec![
        ("-U", first_version(50)),
        ("-D", first_version(51)),
        ("+I", pk_row(51, Some("back"), Some(51.5), Some(51))),
        ("+U", pk_row(52, Some("v2"), Some(2.0), None)),
        ("+U", pk_row(52, Some("v3"), Some(3.0), Some(3))),
        ("+U", pk_row(53, None, None, None)),
        ("+I", pk_row(500, Some("short-lived"), Some(1.0), Some(1))),
        ("-D", pk_row(500, None, None, None)),
    ];
    let c4 = vec![
        ("+I", pk_row(31, Some("re-inserted"), None, Some(1))),
        ("+I", pk_row(50, Some("resurrected"), Some(50.0), None)),
        ("-D", pk_row(400, None, None, None)),
    ];
    let after = commit_all(&table, &mut model, &[c1, c2, c3, c4], 25).await;
    assert_eq!(after[0].len(), 300);
    assert_eq!(after[1].len(), 300 - 10 + 10);
    table.create_tag("t2", Some(2), None).await.unwrap();

    checks.push(check(
        &table,
        ReadCase::new("pk_fixed_latest", warehouse, "db.pk_fixed"),
        Some(&after[3]),
    ));
    checks.push(check(
        &table,
        ReadCase::new("pk_fixed_snapshot_2", warehouse, "db.pk_fixed").snapshot(2),
        Some(&after[1]),
    ));
    checks.push(check(
        &table,
        ReadCase::new("pk_fixed_snapshot_3", warehouse, "db.pk_fixed").snapshot(3),
        Some(&after[2]),
    ));
    checks.push(check(
        &table,
        ReadCase::new("pk_fixed_tag_t2", warehouse, "db.pk_fixed").tag("t2"),
        Some(&after[1]),
    ));
    checks.push(check(
        &table,
        ReadCase::new("pk_fixed_projected", warehouse, "db.pk_fixed").columns(&["qty", "id"]),
        None,
    ));
    checks.push(check(
        &table,
        ReadCase::new("pk_fixed_row_kinds", warehouse, "db.pk_fixed").with_row_kind(),
        Some(&after[3]),
    ));
}

/// PK (dt, id) partitioned by dt, including the empty string (Paimon's default partition),
/// 2 buckets, 3 commits.
async fn pk_partitioned(warehouse: &Path, checks: &mut Vec<Check>) {
    let table = create_table(
        location(warehouse),
        "db.pk_partitioned",
        "dt STRING, id BIGINT, v STRING, n INT",
        &["dt"],
        &["dt", "id"],
        &[("bucket", "2"), ("write-buffer-size", "8 kb")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let r = |dt: &str, id: i64, v: Option<&str>, n: Option<i32>| json!({"dt": dt, "id": id, "v": v, "n": n});
    let days = ["2024-01-01", "2024-01-02", ""];
    let c1 = inserts(
        days.iter()
            .flat_map(|d| (1..=60).map(move |id| r(d, id, Some("v1"), Some(id as i32))))
            .collect(),
    );
    let c2 = vec![
        ("+U", r("", 1, Some("default partition updated"), None)),
        ("-D", r("", 2, None, None)),
        ("-U", r("2024-01-01", 3, None, None)),
        ("+U", r("2024-01-01", 3, Some("v2"), Some(-3))),
        ("+I", r("2024-01-03", 1, Some("new partition"), Some(1))),
        ("-D", r("2024-01-02", 60, None, None)),
    ];
    let c3 = vec![
        ("+I", r("", 2, Some("back"), Some(2))),
        ("-D", r("2024-01-03", 1, None, None)),
        ("+I", r("2024-01-02", 61, None, None)),
    ];
    let after = commit_all(&table, &mut model, &[c1, c2, c3], 20).await;
    assert!(
        warehouse
            .join("db.db/pk_partitioned/dt=__DEFAULT_PARTITION__")
            .is_dir(),
        "the empty dt lives in the default partition"
    );
    checks.push(check(
        &table,
        ReadCase::new("pk_partitioned_latest", warehouse, "db.pk_partitioned"),
        Some(&after[2]),
    ));
    checks.push(check(
        &table,
        ReadCase::new("pk_partitioned_snapshot_2", warehouse, "db.pk_partitioned").snapshot(2),
        Some(&after[1]),
    ));
}

/// Append table, bucket -1: duplicates and nulls kept, 3 commits.
async fn append_unaware(warehouse: &Path, checks: &mut Vec<Check>) {
    let table = create_table(
        location(warehouse),
        "db.append_unaware",
        "id INT, category STRING, value DOUBLE, note STRING",
        &[],
        &[],
        &[("bucket", "-1")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Append);
    let row = |id: i32, category: Option<&str>, value: Option<f64>, note: Option<&str>| json!({"id": id, "category": category, "value": value, "note": note});
    let commits = [
        inserts(
            (0..50)
                .map(|i| {
                    let cat = format!("cat_{}", i % 3);
                    row(
                        i,
                        Some(&cat),
                        Some(i as f64 / 4.0),
                        (i % 4 == 0).then_some("four"),
                    )
                })
                .collect(),
        ),
        inserts(vec![
            row(3, Some("cat_0"), Some(0.75), None),
            row(3, Some("cat_0"), Some(0.75), None),
            row(100, None, None, Some("nulls")),
            json!({"id": null}),
        ]),
        inserts(
            (20..26)
                .map(|i| {
                    row(
                        i,
                        Some("cat_9"),
                        Some(-(i as f64)),
                        Some(&"x".repeat(i as usize)),
                    )
                })
                .collect(),
        ),
    ];
    let after = commit_all(&table, &mut model, &commits, 1000).await;
    checks.push(check(
        &table,
        ReadCase::new("append_unaware_latest", warehouse, "db.append_unaware"),
        Some(&after[2]),
    ));
    checks.push(check(
        &table,
        ReadCase::new("append_unaware_snapshot_1", warehouse, "db.append_unaware").snapshot(1),
        Some(&after[0]),
    ));
}

/// Append table partitioned by a nullable column (NULL goes to the default partition), 2
/// buckets by `bucket-key = id`.
async fn append_bucket_key(warehouse: &Path, checks: &mut Vec<Check>) {
    let table = create_table(
        location(warehouse),
        "db.append_bucket_key",
        "region STRING, id BIGINT NOT NULL, amount BIGINT, label STRING",
        &["region"],
        &[],
        &[("bucket", "2"), ("bucket-key", "id")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Append);
    let regions = ["eu", "us", "ap"];
    let row = |region: Option<&str>, id: i64, amount: Option<i64>, label: Option<&str>| json!({"region": region, "id": id, "amount": amount, "label": label});
    let commits = [
        inserts(
            (0..30)
                .map(|i| {
                    row(
                        Some(regions[i as usize % 3]),
                        i,
                        Some(i * 100),
                        Some(&format!("r{i}")),
                    )
                })
                .collect(),
        ),
        inserts(vec![
            row(Some("eu"), 0, Some(1), Some("r0-again")),
            row(None, 7, Some(i64::MIN), Some("null region")),
            row(None, 8, Some(i64::MAX), None),
        ]),
    ];
    let after = commit_all(&table, &mut model, &commits, 1000).await;
    assert!(warehouse
        .join("db.db/append_bucket_key/region=__DEFAULT_PARTITION__")
        .is_dir());
    checks.push(check(
        &table,
        ReadCase::new(
            "append_bucket_key_latest",
            warehouse,
            "db.append_bucket_key",
        ),
        Some(&after[1]),
    ));
}

/// Partial-update engine: per column the latest non-null value wins, across commits.
async fn partial_update(warehouse: &Path, checks: &mut Vec<Check>) {
    let table = create_table(
        location(warehouse),
        "db.partial_update",
        "id BIGINT, a INT, b STRING, c DOUBLE, d DATE",
        &[],
        &["id"],
        &[("bucket", "2"), ("merge-engine", "partial-update")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::PartialUpdate);
    let r = |id: i64, a: Option<i32>, b: Option<&str>, c: Option<f64>| json!({"id": id, "a": a, "b": b, "c": c});
    let commits = [
        inserts(vec![
            r(1, Some(10), None, None),
            r(2, None, Some("x"), Some(1.0)),
            r(4, None, None, None),
            r(1, None, None, Some(0.5)),
        ]),
        inserts(vec![
            r(1, None, Some("y"), None),
            r(1, Some(11), None, None),
            r(3, Some(1), Some("z"), None),
            json!({"id": 5, "d": "2024-05-05"}),
        ]),
        inserts(vec![
            r(2, Some(5), None, Some(2.5)),
            r(1, None, None, Some(9.75)),
            r(3, None, Some("z2"), None),
            json!({"id": 4, "d": "1999-12-31"}),
            r(5, Some(-5), None, None),
        ]),
    ];
    let after = commit_all(&table, &mut model, &commits, 1000).await;
    checks.push(check(
        &table,
        ReadCase::new("partial_update_latest", warehouse, "db.partial_update"),
        Some(&after[2]),
    ));
    checks.push(check(
        &table,
        ReadCase::new("partial_update_snapshot_2", warehouse, "db.partial_update").snapshot(2),
        Some(&after[1]),
    ));
}

/// Aggregation engine: sum, product, min, max, last_value, last_non_null_value, first_value,
/// first_non_null_value, bool_or, bool_and, listagg, and the default for an unnamed column.
async fn aggregation(warehouse: &Path, checks: &mut Vec<Check>) {
    let functions = [
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
    let columns = std::iter::once("id BIGINT".to_string())
        .chain(functions.iter().map(|(n, t, _)| format!("{n} {t}")))
        .chain(["untouched STRING".to_string()])
        .collect::<Vec<_>>()
        .join(", ");
    let keys: Vec<String> = functions
        .iter()
        .map(|(n, _, _)| format!("fields.{n}.aggregate-function"))
        .collect();
    let mut options: Vec<(&str, &str)> = vec![("bucket", "2"), ("merge-engine", "aggregation")];
    for (key, (_, _, f)) in keys.iter().zip(&functions) {
        options.push((key, f.paimon_name()));
    }
    let table = create_table(
        location(warehouse),
        "db.aggregation",
        &columns,
        &[],
        &["id"],
        &options,
    )
    .await;
    let engine = Engine::Aggregation(
        functions
            .iter()
            .map(|(n, _, f)| (n.to_string(), *f))
            .collect::<BTreeMap<_, _>>(),
    );
    let mut model = Model::new(&table.schema, engine);
    let names: Vec<&str> = functions
        .iter()
        .map(|(n, _, _)| *n)
        .chain(["untouched"])
        .collect();
    let r = |id: i64, values: Vec<Value>| {
        let mut row = serde_json::Map::new();
        row.insert("id".into(), json!(id));
        for (n, v) in names.iter().zip(values) {
            row.insert(n.to_string(), v);
        }
        Value::Object(row)
    };
    let n = Value::Null;
    #[rustfmt::skip]
    let commits = [
        inserts(vec![
            r(1, vec![json!(10), json!(2), json!(5), json!(1.5), json!("a"), json!("a"), n.clone(), n.clone(), json!(false), json!(true), json!("x"), json!(0.25), json!("u1")]),
            r(2, vec![n.clone(), n.clone(), n.clone(), n.clone(), n.clone(), n.clone(), json!("f"), n.clone(), n.clone(), n.clone(), n.clone(), n.clone(), n.clone()]),
            r(1, vec![json!(5), json!(3), json!(3), json!(0.5), n.clone(), n.clone(), json!("b"), json!("b"), json!(false), json!(true), n.clone(), json!(0.5), n.clone()]),
        ]),
        inserts(vec![
            r(2, vec![json!(7), json!(4), json!(9), json!(-2.0), json!("l"), json!("l"), json!("g"), json!("g"), json!(true), json!(false), json!("p"), json!(-1.0), json!("u2")]),
            r(1, vec![json!(-1), json!(-1), json!(8), json!(4.0), json!("c"), n.clone(), json!("c"), json!("c"), json!(true), json!(false), json!("y"), json!(1.0), n.clone()]),
        ]),
        inserts(vec![
            r(3, vec![json!(1), json!(1), json!(1), json!(1.0), json!("only"), json!("only"), json!("only"), json!("only"), json!(false), json!(false), json!("only"), json!(1.0), json!("u3")]),
            r(2, vec![json!(1), json!(10), json!(-5), n.clone(), n.clone(), n.clone(), n.clone(), json!("h"), n.clone(), json!(true), json!("q"), json!(0.125), n.clone()]),
            r(1, vec![json!(100), json!(2), json!(i32::MIN), json!(-8.5), json!("d"), json!("d"), json!("d"), json!("d"), json!(false), json!(true), json!("z"), json!(2.0), json!("u1b")]),
        ]),
    ];
    let after = commit_all(&table, &mut model, &commits, 1000).await;
    checks.push(check(
        &table,
        ReadCase::new("aggregation_latest", warehouse, "db.aggregation"),
        Some(&after[2]),
    ));
    checks.push(check(
        &table,
        ReadCase::new("aggregation_snapshot_1", warehouse, "db.aggregation").snapshot(1),
        Some(&after[0]),
    ));
}

/// Deduplicate with `sequence.field = ts`: the highest ts wins (ties: the later record), also
/// across commits; a delete with a lower ts loses.
async fn sequence_field(warehouse: &Path, checks: &mut Vec<Check>) {
    let table = create_table(
        location(warehouse),
        "db.sequence_field",
        "id BIGINT, ts BIGINT NOT NULL, v STRING",
        &[],
        &["id"],
        &[("bucket", "2"), ("sequence.field", "ts")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::SequenceField("ts".into()));
    let r = |id: i64, ts: i64, v: &str| json!({"id": id, "ts": ts, "v": v});
    let commits = [
        vec![
            ("+I", r(1, 5, "a")),
            ("+I", r(2, 1, "b")),
            ("+I", r(1, 3, "older, same commit")),
            ("+I", r(4, 7, "d")),
            ("+I", r(5, 1, "e")),
        ],
        vec![
            ("+I", r(1, 4, "late but older")),
            ("+I", r(2, 1, "tie, later wins")),
            ("+I", r(3, 10, "c")),
            ("+I", r(4, 8, "d newer")),
            ("-D", r(5, 0, "delete with an older ts loses")),
        ],
        vec![
            ("+I", r(3, 11, "c newer")),
            ("+I", r(3, 9, "c older")),
            ("+I", r(4, 6, "d older")),
            ("-D", r(2, 2, "delete with a newer ts wins")),
        ],
    ];
    let after = commit_all(&table, &mut model, &commits, 1000).await;
    checks.push(check(
        &table,
        ReadCase::new("sequence_field_latest", warehouse, "db.sequence_field"),
        Some(&after[2]),
    ));
    checks.push(check(
        &table,
        ReadCase::new("sequence_field_snapshot_2", warehouse, "db.sequence_field").snapshot(2),
        Some(&after[1]),
    ));
}

/// PK table, 2 buckets, 3 commits, then a full compaction (every bucket into one run at the
/// highest level); read after compaction, at the last write before it, at an older snapshot and
/// through a tag of the compacted snapshot.
async fn compacted(warehouse: &Path, checks: &mut Vec<Check>) {
    let table = create_table(
        location(warehouse),
        "db.compacted",
        "id BIGINT, v STRING, n BIGINT",
        &[],
        &["id"],
        &[("bucket", "2"), ("write-buffer-size", "8 kb")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let r = |id: i64, v: &str, n: Option<i64>| json!({"id": id, "v": v, "n": n});
    let commits = [
        inserts((0..200).map(|i| r(i, "v1", Some(i))).collect()),
        (0..200)
            .step_by(3)
            .map(|i| ("+U", r(i, "v2", Some(-i))))
            .chain((200..220).map(|i| ("+I", r(i, "v2 new", None))))
            .collect::<Vec<_>>(),
        (0..220)
            .step_by(7)
            .map(|i| ("-D", r(i, "", None)))
            .chain([("+I", r(7, "v3 back", Some(7)))])
            .collect(),
    ];
    let after = commit_all(&table, &mut model, &commits, 40).await;
    let outcomes = Compactor::new(table.clone())
        .unwrap()
        .compact_table(&CompactOptions {
            full: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let compacted = outcomes
        .iter()
        .filter(|o| matches!(o, BucketOutcome::Compacted(_)))
        .count();
    assert_eq!(compacted, 2, "{outcomes:?}");
    let latest = table.latest_snapshot_id().await.unwrap().unwrap();
    assert!(latest > 3, "compaction committed");
    assert_eq!(
        table.snapshot(latest).await.unwrap().commit_kind,
        CommitKind::Compact
    );
    let files = table
        .all_live_files(&table.snapshot(latest).await.unwrap())
        .await
        .unwrap();
    assert!(
        files.iter().all(|e| e.file.level > 0),
        "after a full compaction every live file is above level 0: {:?}",
        files.iter().map(|e| e.file.level).collect::<Vec<_>>()
    );
    table.create_tag("compacted", None, None).await.unwrap();

    for (name, case, rows) in [
        ("compacted_latest", None, &after[2]),
        ("compacted_snapshot_3", Some(3), &after[2]),
        ("compacted_snapshot_1", Some(1), &after[0]),
    ] {
        let mut case_ = ReadCase::new(name, warehouse, "db.compacted");
        if let Some(id) = case {
            case_ = case_.snapshot(id);
        }
        checks.push(check(&table, case_, Some(rows)));
    }
    checks.push(check(
        &table,
        ReadCase::new("compacted_tag", warehouse, "db.compacted").tag("compacted"),
        Some(&after[2]),
    ));
}

/// The same PK table and writes under options that change the files: Parquet compression codecs,
/// `changelog-producer = input` (changelog files beside the data files), a descending
/// `sequence.field`, `data-file.thin-mode`, and a big one (many pages and several files per
/// bucket).
async fn variants(warehouse: &Path, checks: &mut Vec<Check>) {
    let r = |id: i64, v: Option<&str>, n: Option<i64>| json!({"id": id, "v": v, "n": n});
    let commits = [
        inserts(
            (0..300)
                .map(|i| r(i, Some(&format!("v1-{i}")), Some(i)))
                .collect(),
        ),
        (0..300)
            .step_by(4)
            .map(|i| ("+U", r(i, Some("v2"), None)))
            .chain((0..300).step_by(9).map(|i| ("-D", r(i, None, None))))
            .chain((300..320).map(|i| ("+I", r(i, None, Some(-i)))))
            .collect::<Vec<_>>(),
    ];
    for (name, options) in [
        ("snappy", vec![("file.compression", "snappy")]),
        ("lz4", vec![("file.compression", "lz4")]),
        ("uncompressed", vec![("file.compression", "none")]),
        ("changelog_input", vec![("changelog-producer", "input")]),
        ("thin_mode", vec![("data-file.thin-mode", "true")]),
    ] {
        let table_name = format!("db.variant_{name}");
        let mut all = vec![("bucket", "2"), ("write-buffer-size", "16 kb")];
        all.extend(options);
        let table = create_table(
            location(warehouse),
            &table_name,
            "id BIGINT, v STRING, n BIGINT",
            &[],
            &["id"],
            &all,
        )
        .await;
        let mut model = Model::new(&table.schema, Engine::Deduplicate);
        let after = commit_all(&table, &mut model, &commits, 50).await;
        checks.push(check(
            &table,
            ReadCase::new(&format!("variant_{name}"), warehouse, &table_name),
            Some(&after[1]),
        ));
    }

    // Descending sequence field: the lowest `ts` wins. `ts` is an INT here, unlike in
    // db.sequence_field: Paimon Java 1.3.1 caches generated comparators without their sort
    // order, so in one JVM an ascending table of the same types would flip this one (see
    // java_support).
    let table = create_table(
        location(warehouse),
        "db.variant_sequence_descending",
        "id BIGINT, ts INT NOT NULL, v STRING",
        &[],
        &["id"],
        &[
            ("bucket", "1"),
            ("sequence.field", "ts"),
            ("sequence.field.sort-order", "descending"),
        ],
    )
    .await;
    let q = |id: i64, ts: i64, v: &str| json!({"id": id, "ts": ts, "v": v});
    write_commit_in_batches(
        &table,
        &inserts(vec![q(1, 5, "a"), q(2, 5, "b"), q(1, 3, "a lower ts wins")]),
        10,
    )
    .await;
    write_commit_in_batches(
        &table,
        &inserts(vec![q(2, 9, "b higher ts loses"), q(3, 1, "c")]),
        10,
    )
    .await;
    checks.push(check(
        &table,
        ReadCase::new("variant_sequence_descending", warehouse, &table.name),
        Some(&[q(1, 3, "a lower ts wins"), q(2, 5, "b"), q(3, 1, "c")]),
    ));

    // Big: 30 000 keys with long strings over 3 commits; many pages and files per bucket.
    let table = create_table(
        location(warehouse),
        "db.variant_big",
        "id BIGINT, v STRING, n BIGINT",
        &[],
        &["id"],
        &[("bucket", "2"), ("write-buffer-size", "1 mb")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let long = |i: i64| format!("{i:08}-{}", "x".repeat((i % 97) as usize));
    let big_commits = [
        inserts((0..30_000).map(|i| r(i, Some(&long(i)), Some(i))).collect()),
        (0..30_000)
            .step_by(7)
            .map(|i| ("+U", r(i, Some("updated"), None)))
            .collect(),
        (0..30_000)
            .step_by(11)
            .map(|i| ("-D", r(i, None, None)))
            .collect(),
    ];
    let after = commit_all(&table, &mut model, &big_commits, 5_000).await;
    checks.push(check(
        &table,
        ReadCase::new("variant_big", warehouse, "db.variant_big"),
        Some(&after[2]),
    ));
    checks.push(check(
        &table,
        ReadCase::new("variant_big_projected", warehouse, "db.variant_big").columns(&["n"]),
        None,
    ));
}

const ALL_TYPES: &str = "id INT, c_boolean BOOLEAN, c_tinyint TINYINT, c_smallint SMALLINT, \
    c_int INT, c_bigint BIGINT, c_float FLOAT, c_double DOUBLE, c_dec5 DECIMAL(5, 2), \
    c_dec20 DECIMAL(20, 4), c_dec38 DECIMAL(38, 10), c_char CHAR(5), c_varchar VARCHAR(10), \
    c_string STRING, c_binary BINARY(4), c_varbinary VARBINARY(8), c_bytes BYTES, c_date DATE, \
    c_time TIME(3), c_time0 TIME, c_ts3 TIMESTAMP(3), c_ts6 TIMESTAMP(6), \
    c_ltz3 TIMESTAMP(3) WITH LOCAL TIME ZONE, c_ltz6 TIMESTAMP(6) WITH LOCAL TIME ZONE";

fn all_bytes_hex() -> String {
    (0u8..=255).map(|b| format!("{b:02x}")).collect()
}

fn all_types_rows() -> Vec<Value> {
    vec![
        json!({"id": 1, "c_boolean": true, "c_tinyint": 7, "c_smallint": 300, "c_int": 70000,
            "c_bigint": 5_000_000_000i64, "c_float": 0.1f32 as f64, "c_double": 0.1,
            "c_dec5": "12.30", "c_dec20": "1234567890123456.7890",
            "c_dec38": "3.1415926535", "c_char": "abcde", "c_varchar": "varchar", "c_string": "string",
            "c_binary": "01020304", "c_varbinary": "cafe", "c_bytes": "6279746573",
            "c_date": "2024-02-29", "c_time": "12:34:56.789", "c_time0": "12:34:56.000",
            "c_ts3": "2024-02-29T12:34:56.789000", "c_ts6": "2024-02-29T12:34:56.789012",
            "c_ltz3": "2024-02-29T12:34:56.789000Z", "c_ltz6": "2024-02-29T12:34:56.789012Z"}),
        json!({"id": 2, "c_boolean": false, "c_tinyint": -128, "c_smallint": -32768,
            "c_int": i32::MIN, "c_bigint": i64::MIN, "c_float": -0.25, "c_double": -0.0,
            "c_dec5": "-999.99", "c_dec20": "-9999999999999999.9999",
            "c_dec38": "-9999999999999999999999999999.9999999999",
            "c_char": "ab", "c_varchar": "", "c_string": "héllo ✓ 日本",
            "c_binary": "00000000", "c_varbinary": "", "c_bytes": "",
            "c_date": "0001-01-01", "c_time": "00:00:00.000", "c_time0": "00:00:00.000",
            "c_ts3": "1969-12-31T23:59:59.999000", "c_ts6": "1900-01-01T00:00:00.000001",
            "c_ltz3": "1969-12-31T23:59:59.999000Z", "c_ltz6": "1900-01-01T00:00:00.000001Z"}),
        json!({"id": 3, "c_boolean": true, "c_tinyint": 127, "c_smallint": 32767,
            "c_int": i32::MAX, "c_bigint": i64::MAX, "c_float": "NaN", "c_double": "Infinity",
            "c_dec5": "999.99", "c_dec20": "9999999999999999.9999",
            "c_dec38": "9999999999999999999999999999.9999999999",
            "c_char": "é✓日本x", "c_varchar": "quote\"back", "c_string": "\u{1}ctl\u{7f}",
            "c_binary": "fffefdfc", "c_varbinary": "0001020304050607", "c_bytes": all_bytes_hex(),
            "c_date": "9999-12-31", "c_time": "23:59:59.999", "c_time0": "23:59:59.000",
            "c_ts3": "9999-12-31T23:59:59.999000", "c_ts6": "2262-04-11T23:47:16.854775",
            "c_ltz3": "2038-01-19T03:14:08.000000Z", "c_ltz6": "9999-12-31T23:59:59.999999Z"}),
        json!({"id": 4}),
        json!({"id": 5, "c_boolean": false, "c_tinyint": 0, "c_smallint": 0, "c_int": 0,
            "c_bigint": 0, "c_float": "-Infinity", "c_double": 5e-324,
            "c_dec5": "0.00", "c_dec20": "0.0001", "c_dec38": "0.0000000001",
            "c_char": "z\"\\\n\t", "c_varchar": " ", "c_string": "",
            "c_binary": "00010001", "c_varbinary": "00", "c_bytes": "00",
            "c_date": "1969-12-31", "c_time": "00:00:00.001", "c_time0": "00:00:01.000",
            "c_ts3": "1970-01-01T00:00:00.000000", "c_ts6": "0001-01-01T00:00:00.000000",
            "c_ltz3": "1970-01-01T00:00:00.000000Z", "c_ltz6": "1970-01-01T00:00:00.000000Z"}),
        json!({"id": 6, "c_float": f32::MAX as f64, "c_double": f64::MAX,
            "c_dec5": "-0.01", "c_dec20": "-0.0001", "c_dec38": "-0.0000000001"}),
        json!({"id": 7, "c_float": f32::MIN_POSITIVE as f64, "c_double": -1e-300,
            "c_ts3": "1677-09-21T00:12:43.145000", "c_ts6": "1677-09-21T00:12:43.145225"}),
    ]
}

/// Every primitive type but TIMESTAMP(7..9), edge values and rows of nulls; a second commit
/// updates a row, fills a null row, deletes one and adds one.
async fn all_types(warehouse: &Path, checks: &mut Vec<Check>) {
    let table = create_table(
        location(warehouse),
        "db.all_types",
        ALL_TYPES,
        &[],
        &["id"],
        &[("bucket", "2")],
    )
    .await;
    let mut model = Model::new(&table.schema, Engine::Deduplicate);
    let mut updated = all_types_rows()[1].clone();
    updated["c_string"] = json!("updated");
    updated["c_int"] = Value::Null;
    updated["c_dec5"] = json!("0.05");
    let filled = json!({"id": 4, "c_boolean": true, "c_date": "1969-07-20",
        "c_dec38": "-0.0000000001", "c_ltz6": "2024-01-01T00:00:00.123456Z"});
    let mut new_row = all_types_rows()[0].clone();
    new_row["id"] = json!(8);
    new_row["c_char"] = json!("eight");
    let commits = [
        inserts(all_types_rows()),
        vec![
            ("+U", updated),
            ("+U", filled),
            ("-D", json!({"id": 5})),
            ("+I", new_row),
        ],
    ];
    let after = commit_all(&table, &mut model, &commits, 1000).await;
    checks.push(check(
        &table,
        ReadCase::new("all_types_latest", warehouse, "db.all_types"),
        Some(&after[1]),
    ));
    checks.push(check(
        &table,
        ReadCase::new("all_types_snapshot_1", warehouse, "db.all_types").snapshot(1),
        Some(&after[0]),
    ));
}

const NESTED: &str = "id INT, arr ARRAY<INT>, m MAP<STRING, INT>, r ROW<a INT, b STRING>";

/// Nested columns ARRAY<INT>, MAP<STRING, INT>, ROW<a INT, b STRING>: null and empty
/// collections, null elements and values, a null row and a row of nulls; updated in a second
/// commit.
async fn nested(warehouse: &Path, checks: &mut Vec<Check>) {
    let table = create_table(
        location(warehouse),
        "db.nested",
        NESTED,
        &[],
        &["id"],
        &[("bucket", "2")],
    )
    .await;
    let c1 = vec![
        json!({"id": 1, "arr": [1, 2, 3], "m": {"a": 1, "b": 2}, "r": {"a": 1, "b": "one"}}),
        json!({"id": 2, "arr": [], "m": {}, "r": {"a": null, "b": null}}),
        json!({"id": 3, "arr": null, "m": null, "r": null}),
        json!({"id": 4, "arr": [null, -2147483648, 2147483647], "m": {"null value": null, "": 0},
               "r": {"a": -1, "b": ""}}),
        json!({"id": 5, "arr": [5], "m": {"k": 5}, "r": {"a": 5, "b": "héllo ✓"}}),
    ];
    let c2 = vec![
        json!({"id": 1, "arr": [9], "m": {"z": 26}, "r": {"a": 9, "b": "nine"}}),
        json!({"id": 6, "arr": [6, 6], "m": {"x": 1, "y": null}, "r": {"a": null, "b": "six"}}),
    ];
    let mut expected = BTreeMap::new();
    for (i, rows) in [&c1, &c2].into_iter().enumerate() {
        let batch = nested_batch(&table, rows);
        let mut writer = streamhouse_writer::TableWriter::new(table.clone())
            .await
            .unwrap();
        writer.write(&batch).await.unwrap();
        let summary = writer.commit().await.unwrap();
        assert_eq!(summary.snapshot_ids, [i as i64 + 1]);
        for row in rows.iter() {
            expected.insert(row["id"].as_i64().unwrap(), row.clone());
        }
        if i == 0 {
            let rows: Vec<Value> = expected.values().cloned().collect();
            checks.push(check(
                &table,
                ReadCase::new("nested_snapshot_1", warehouse, "db.nested").snapshot(1),
                Some(&rows),
            ));
        }
    }
    let rows: Vec<Value> = expected.values().cloned().collect();
    checks.push(check(
        &table,
        ReadCase::new("nested_latest", warehouse, "db.nested"),
        Some(&rows),
    ));
}

/// `rows` (JSON objects in the nested canonical form) as one batch of the table's Arrow schema.
fn nested_batch(table: &Table, rows: &[Value]) -> arrow::array::RecordBatch {
    let schema = table.schema.arrow_schema();
    let mut decoder = arrow::json::ReaderBuilder::new(schema)
        .build_decoder()
        .unwrap();
    decoder.serialize(rows).unwrap();
    decoder.flush().unwrap().expect("one batch")
}

#[test]
fn written_rows_match_the_nested_canonical_form() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let table = create_table(
            dir.path().to_str().unwrap(),
            "db.t",
            "id INT, arr ARRAY<INT>, m MAP<STRING, INT>, r ROW<a INT, b STRING>",
            &[],
            &[],
            &[],
        )
        .await;
        let rows = vec![
            json!({"id": 1, "arr": [null, 2], "m": {"b": null, "a": 1}, "r": {"a": 1, "b": null}}),
            json!({"id": 2, "arr": null, "m": {}, "r": null}),
        ];
        let batch = nested_batch(&table, &rows);
        let schema = batch.schema();
        let back = canonical_rows(&[batch], &schema);
        assert_same_rows(&back, &rows, "nested JSON -> Arrow -> canonical");
    });
}

/// The other direction, with the same bench: Paimon's Java writer (`BatchWriteBuilder`, one JVM)
/// creates and fills a partitioned PK table with updates and deletes, the all-types table, the
/// nested table and an append table; we read every commit's snapshot and must hold the rows the
/// model says, and so must Java's own read of the same snapshots.
#[tokio::test]
async fn we_read_what_java_paimon_writes() {
    let Some(bench) = java_bench() else { return };
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path();
    let r = |dt: &str, id: i64, name: Option<&str>, amount: Option<f64>| json!({"dt": dt, "id": id, "name": name, "amount": amount});
    let pk_commits: Vec<Vec<(&str, Value)>> = vec![
        ["2024-01-01", "2024-01-02", ""]
            .iter()
            .flat_map(|d| (1..=40).map(move |id| ("+I", r(d, id, Some("v1"), Some(id as f64)))))
            .collect(),
        vec![
            ("-U", r("2024-01-01", 1, Some("v1"), Some(1.0))),
            ("+U", r("2024-01-01", 1, Some("v2"), None)),
            ("+U", r("", 2, None, Some(-2.5))),
            ("-D", r("2024-01-02", 3, None, None)),
            ("+I", r("2024-01-03", 1, Some("new partition"), Some(0.1))),
        ],
        vec![
            ("+I", r("2024-01-02", 3, Some("back"), Some(3.0))),
            ("-D", r("2024-01-03", 1, None, None)),
            ("+U", r("2024-01-01", 1, Some("v3"), Some(1e300))),
        ],
    ];
    let mut pk = WriteTable::new(
        "db.java_pk",
        "dt STRING, id BIGINT, name STRING, amount DOUBLE",
    )
    .partition_keys(&["dt"])
    .primary_keys(&["dt", "id"])
    .option("bucket", "2");
    for c in &pk_commits {
        pk = pk.commit(c);
    }

    let mut updated = all_types_rows()[1].clone();
    updated["c_string"] = json!("updated");
    updated["c_int"] = Value::Null;
    let types_commits = vec![
        inserts(all_types_rows()),
        vec![("+U", updated), ("-D", json!({"id": 5}))],
    ];
    let mut types = WriteTable::new("db.java_all_types", ALL_TYPES)
        .primary_keys(&["id"])
        .option("bucket", "2");
    for c in &types_commits {
        types = types.commit(c);
    }

    let nested_commits = vec![
        inserts(vec![
            json!({"id": 1, "arr": [1, null, 3], "m": {"a": 1, "b": null}, "r": {"a": 1, "b": "one"}}),
            json!({"id": 2, "arr": [], "m": {}, "r": {"a": null, "b": null}}),
            json!({"id": 3, "arr": null, "m": null, "r": null}),
        ]),
        vec![(
            "+U",
            json!({"id": 2, "arr": [2], "m": {"x": 2}, "r": {"a": 2, "b": "two"}}),
        )],
    ];
    let mut nested = WriteTable::new("db.java_nested", NESTED)
        .primary_keys(&["id"])
        .option("bucket", "1");
    for c in &nested_commits {
        nested = nested.commit(c);
    }

    let append_commits = vec![
        inserts(
            (0..30)
                .map(|i| json!({"id": i % 7, "v": format!("a{i}")}))
                .collect(),
        ),
        inserts(vec![
            json!({"id": 1, "v": "a1"}),
            json!({"id": null, "v": null}),
        ]),
    ];
    let mut append = WriteTable::new("db.java_append", "id INT, v STRING").option("bucket", "-1");
    for c in &append_commits {
        append = append.commit(c);
    }

    // Deletion vectors (Java's lookup compaction writes them), partial-update, aggregation.
    let d = |id: i64, v: Option<&str>, n: Option<i64>| json!({"id": id, "v": v, "n": n});
    let dv_commits = vec![
        inserts((0..100).map(|i| d(i, Some("v1"), Some(i))).collect()),
        (0..100)
            .step_by(3)
            .map(|i| ("+U", d(i, Some("v2"), None)))
            .chain((0..100).step_by(10).map(|i| ("-D", d(i, None, None))))
            .collect(),
        vec![
            ("+I", d(10, Some("back"), Some(10))),
            ("-D", d(11, None, None)),
        ],
    ];
    let mut dv = WriteTable::new("db.java_dv", "id BIGINT, v STRING, n BIGINT")
        .primary_keys(&["id"])
        .option("bucket", "2")
        .option("deletion-vectors.enabled", "true")
        // Level-0 files of a deletion-vector table are invisible until compacted: compact fully
        // at every commit so each snapshot holds the model's rows.
        .option("full-compaction.delta-commits", "1");
    for c in &dv_commits {
        dv = dv.commit(c);
    }
    let partial_commits = vec![
        inserts(vec![
            d(1, Some("a"), None),
            d(2, None, Some(2)),
            d(1, None, Some(1)),
        ]),
        inserts(vec![
            d(2, Some("b"), None),
            d(1, Some("a2"), None),
            d(3, None, None),
        ]),
    ];
    let mut partial = WriteTable::new("db.java_partial", "id BIGINT, v STRING, n BIGINT")
        .primary_keys(&["id"])
        .option("bucket", "2")
        .option("merge-engine", "partial-update");
    for c in &partial_commits {
        partial = partial.commit(c);
    }
    let agg_commits = vec![
        inserts(vec![
            d(1, Some("a"), Some(5)),
            d(2, None, Some(2)),
            d(1, None, Some(1)),
        ]),
        inserts(vec![d(2, Some("b"), None), d(1, Some("a2"), Some(-10))]),
    ];
    let mut agg = WriteTable::new("db.java_agg", "id BIGINT, v STRING, n BIGINT")
        .primary_keys(&["id"])
        .option("bucket", "2")
        .option("merge-engine", "aggregation")
        .option("fields.n.aggregate-function", "sum")
        .option("fields.v.aggregate-function", "listagg");

    for c in &agg_commits {
        agg = agg.commit(c);
    }
    let agg_engine = Engine::Aggregation(
        [("n".to_string(), Agg::Sum), ("v".to_string(), Agg::Listagg)]
            .into_iter()
            .collect(),
    );

    let took = java_write(
        &bench,
        warehouse,
        &[pk, types, nested, append, dv, partial, agg],
    );
    eprintln!(
        "Paimon Java wrote 7 tables in one JVM in {:.1}s",
        took.as_secs_f64()
    );

    let dv_index = warehouse.join("db.db/java_dv/index");
    let dv_files = std::fs::read_dir(&dv_index).map_or(0, |d| d.count());
    assert!(
        dv_files > 0,
        "Java wrote no deletion-vector index files in {}",
        dv_index.display()
    );

    let mut checks = vec![];
    for (name, engine, commits) in [
        ("db.java_pk", Engine::Deduplicate, &pk_commits),
        ("db.java_all_types", Engine::Deduplicate, &types_commits),
        ("db.java_nested", Engine::Deduplicate, &nested_commits),
        ("db.java_append", Engine::Append, &append_commits),
        ("db.java_dv", Engine::Deduplicate, &dv_commits),
        ("db.java_partial", Engine::PartialUpdate, &partial_commits),
        ("db.java_agg", agg_engine, &agg_commits),
    ] {
        let table = open_table(location(warehouse), name).await.unwrap();
        let mut model = Model::new(&table.schema, engine);
        // Java's APPEND snapshots are our commits, in order; each may be followed by COMPACT
        // snapshots of the same commit call. Commit k's result is the last snapshot before
        // commit k + 1's APPEND (for a deletion-vector table the APPEND snapshot itself shows
        // none of its rows yet).
        let latest = table.latest_snapshot_id().await.unwrap().unwrap();
        let mut appends = vec![];
        for id in 1..=latest {
            if table.snapshot(id).await.unwrap().commit_kind == CommitKind::Append {
                appends.push(id);
            }
        }
        assert_eq!(appends.len(), commits.len(), "{name}: snapshots {latest}");
        let ends = appends.iter().skip(1).map(|next| next - 1).chain([latest]);
        for (records, id) in commits.iter().zip(ends) {
            model.apply(records);
            let case = ReadCase::new(&format!("{name}_{id}"), warehouse, name).snapshot(id);
            checks.push(check(&table, case, Some(&model.rows())));
        }
        let case = ReadCase::new(&format!("{name}_latest"), warehouse, name);
        checks.push(check(&table, case, Some(&model.rows())));
    }
    let cases: Vec<ReadCase> = checks.iter().map(|c| c.case.clone()).collect();
    let java = java_read(&bench, &cases);
    eprintln!(
        "Paimon Java read {} cases in {:.1}s",
        cases.len(),
        java.elapsed.as_secs_f64()
    );
    verify(&checks, &java).await;
}

/// Both writers on the same tables: we insert, Paimon's Java writer updates, deletes and inserts,
/// we update again. A key routed to a different bucket by the two writers (bucket hash over the
/// BinaryRow of keys of many types, compact and non-compact), a partition path or sequence
/// numbers they disagree on would show as duplicate, stale or lost keys at some snapshot, in
/// our read, in Java's, or both.
#[tokio::test]
async fn java_and_we_write_the_same_tables() {
    let Some(bench) = java_bench() else { return };
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path();

    let keyed = create_table(
        location(warehouse),
        "db.mixed_keys",
        "dt STRING, id BIGINT, k STRING, day DATE, amt DECIMAL(10, 2), v STRING, n INT",
        &["dt"],
        &["dt", "id", "k", "day", "amt"],
        &[("bucket", "3")],
    )
    .await;
    let typed = create_table(
        location(warehouse),
        "db.mixed_key_types",
        "b BOOLEAN, t TINYINT, s SMALLINT, ts3 TIMESTAMP(3), ts6 TIMESTAMP(6), \
         big DECIMAL(20, 4), c CHAR(3), bin BYTES, f DOUBLE, v STRING",
        &[],
        &["b", "t", "s", "ts3", "ts6", "big", "c", "bin", "f"],
        &[("bucket", "4")],
    )
    .await;

    let kr = |dt: &str, id: i64, v: &str, n: Option<i32>| {
        json!({"dt": dt, "id": id, "k": format!("k{}", id % 4), "day": format!("2024-03-{:02}", id % 28 + 1),
               "amt": format!("{}.{:02}", id * 3, id % 100), "v": v, "n": n})
    };
    let tr = |i: i64, v: &str| {
        json!({"b": i % 2 == 0, "t": (i % 200 - 100), "s": i * 100 - 3000, 
               "ts3": format!("20{:02}-01-01T00:00:{:02}.{:03}000", i % 30 + 1, i % 60, i % 1000),
               "ts6": format!("19{:02}-06-30T12:00:00.{:06}", i % 99, i * 7),
               "big": format!("{}.{:04}", -i * 1_000_000_007, i % 10_000), "c": format!("c{}", i % 10),
               "bin": format!("{:02x}{:02x}", i % 256, (i * 7) % 256), "f": i as f64 / 8.0, "v": v})
    };
    let days = ["2024-01-01", "2024-01-02", ""];

    // 1 (ours): inserts.
    let k1 = inserts(
        days.iter()
            .flat_map(|d| (0..40).map(move |id| kr(d, id, "ours 1", Some(id as i32))))
            .collect(),
    );
    let t1 = inserts((0..60).map(|i| tr(i, "ours 1")).collect());
    // 2 (Java): updates of our keys, deletes, new keys.
    let k2: Vec<(&str, Value)> = (0..40)
        .step_by(3)
        .map(|id| ("+U", kr("2024-01-01", id, "java 2", None)))
        .chain((0..40).step_by(5).map(|id| ("-D", kr("", id, "", None))))
        .chain((40..50).map(|id| ("+I", kr("2024-01-02", id, "java 2 new", Some(-1)))))
        .chain([("+U", kr("", 1, "java 2 default partition", Some(1)))])
        .collect();
    let t2: Vec<(&str, Value)> = (0..60)
        .step_by(2)
        .map(|i| ("+U", tr(i, "java 2")))
        .chain((0..60).step_by(7).map(|i| ("-D", tr(i, ""))))
        .chain((60..70).map(|i| ("+I", tr(i, "java 2 new"))))
        .collect();
    // 3 (ours): updates of keys Java wrote or updated, deletes of Java's new keys.
    let k3: Vec<(&str, Value)> = (0..40)
        .step_by(6)
        .map(|id| ("+U", kr("2024-01-01", id, "ours 3", Some(3))))
        .chain((40..45).map(|id| ("-D", kr("2024-01-02", id, "", None))))
        .chain([("+I", kr("", 5, "ours 3 back", None))])
        .collect();
    let t3: Vec<(&str, Value)> = (0..70)
        .step_by(4)
        .map(|i| ("+U", tr(i, "ours 3")))
        .chain([("-D", tr(61, ""))])
        .collect();

    let mut keyed_model = Model::new(&keyed.schema, Engine::Deduplicate);
    let mut typed_model = Model::new(&typed.schema, Engine::Deduplicate);
    let mut expected = vec![];
    assert_eq!(write_commit_in_batches(&keyed, &k1, 25).await, 1);
    assert_eq!(write_commit_in_batches(&typed, &t1, 25).await, 1);
    keyed_model.apply(&k1);
    typed_model.apply(&t1);
    expected.push((keyed_model.rows(), typed_model.rows()));

    java_write(
        &bench,
        warehouse,
        &[
            WriteTable::existing("db.mixed_keys").commit(&k2),
            WriteTable::existing("db.mixed_key_types").commit(&t2),
        ],
    );
    keyed_model.apply(&k2);
    typed_model.apply(&t2);
    expected.push((keyed_model.rows(), typed_model.rows()));
    let after_java = [
        keyed.latest_snapshot_id().await.unwrap().unwrap(),
        typed.latest_snapshot_id().await.unwrap().unwrap(),
    ];

    let keyed = open_table(location(warehouse), "db.mixed_keys")
        .await
        .unwrap();
    let typed = open_table(location(warehouse), "db.mixed_key_types")
        .await
        .unwrap();
    write_commit_in_batches(&keyed, &k3, 25).await;
    write_commit_in_batches(&typed, &t3, 25).await;
    keyed_model.apply(&k3);
    typed_model.apply(&t3);
    expected.push((keyed_model.rows(), typed_model.rows()));

    let mut checks = vec![];
    for (i, (table, snapshots)) in [
        (&keyed, [Some(1), Some(after_java[0]), None]),
        (&typed, [Some(1), Some(after_java[1]), None]),
    ]
    .into_iter()
    .enumerate()
    {
        for (commit, snapshot) in snapshots.into_iter().enumerate() {
            let rows = if i == 0 {
                &expected[commit].0
            } else {
                &expected[commit].1
            };
            let name = format!("{}_after_{}", table.name, commit + 1);
            let mut case = ReadCase::new(&name, warehouse, &table.name);
            if let Some(id) = snapshot {
                case = case.snapshot(id);
            }
            checks.push(check(table, case, Some(rows)));
        }
    }
    let cases: Vec<ReadCase> = checks.iter().map(|c| c.case.clone()).collect();
    let java = java_read(&bench, &cases);
    verify(&checks, &java).await;
}
