//! Merge-on-read of primary-key tables against a simple model: random overlapping sorted runs
//! (several level-0 files, a level-1 run of two disjoint files, a level-3 run), with deletes
//! and updates, read with many batch sizes and compared with the model's fold per engine.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Int32Type, Int64Type};
use common::{commit, write_pk_file, Rng};
use streamhouse_format::io::Table;
use streamhouse_reader::ScanBuilder;

/// A primary-key table (k INT, v STRING, n BIGINT) keyed by k, with `options`.
async fn kvn_table(options: &[(&str, &str)]) -> Table {
    common::table("k INT, v STRING, n BIGINT", &[], &["k"], options).await
}

#[derive(Debug, Clone)]
struct Rec {
    k: i32,
    seq: i64,
    kind: i8,
    v: Option<String>,
    n: Option<i64>,
}

type Row = (i32, Option<String>, Option<i64>);

fn is_retract(kind: i8) -> bool {
    kind == 1 || kind == 3
}

/// Random runs, oldest first: (level, records sorted by key).
fn gen_runs(rng: &mut Rng, keys: i32) -> Vec<(i32, Vec<Rec>)> {
    let mut seq = 0i64;
    let file = |rng: &mut Rng, lo: i32, hi: i32, density: u64, seq: &mut i64| -> Vec<Rec> {
        let chosen: Vec<i32> = (lo..hi).filter(|_| rng.chance(density)).collect();
        let mut recs: Vec<Rec> = chosen
            .into_iter()
            .map(|k| {
                let kind = match rng.below(20) {
                    0 | 1 => 3,
                    2 => 1,
                    3 => 2,
                    _ => 0,
                };
                let v = (!rng.chance(20)).then(|| format!("v{}", rng.below(1000)));
                let n = (!rng.chance(20)).then(|| rng.below(100) as i64);
                Rec {
                    k,
                    seq: 0,
                    kind,
                    v,
                    n,
                }
            })
            .collect();
        // Sequence numbers within a file follow arrival order, not key order.
        let mut order: Vec<usize> = (0..recs.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for i in order {
            recs[i].seq = *seq;
            *seq += 1;
        }
        recs
    };
    let mut runs = vec![];
    runs.push((3, file(rng, 0, keys, 60, &mut seq)));
    let half = keys / 2;
    runs.push((1, file(rng, 0, half, 40, &mut seq)));
    runs.push((1, file(rng, half, keys, 40, &mut seq)));
    for _ in 0..4 {
        let lo = rng.below(keys as u64) as i32;
        runs.push((0, file(rng, lo, keys, 25, &mut seq)));
    }
    runs
}

async fn write_runs(t: &Table, runs: &[(i32, Vec<Rec>)]) {
    let mut files = vec![];
    for (level, recs) in runs {
        if recs.is_empty() {
            continue;
        }
        let batch = RecordBatch::try_new(
            t.schema.arrow_schema(),
            vec![
                Arc::new(Int32Array::from(
                    recs.iter().map(|r| r.k).collect::<Vec<_>>(),
                )),
                Arc::new(StringArray::from(
                    recs.iter().map(|r| r.v.clone()).collect::<Vec<_>>(),
                )),
                Arc::new(Int64Array::from(
                    recs.iter().map(|r| r.n).collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap();
        let seqs: Vec<i64> = recs.iter().map(|r| r.seq).collect();
        let kinds: Vec<i8> = recs.iter().map(|r| r.kind).collect();
        files.push(write_pk_file(t, &batch, &seqs, &kinds, *level).await);
    }
    commit(t, files).await;
}

/// The records of each key in merge order.
fn groups(runs: &[(i32, Vec<Rec>)]) -> BTreeMap<i32, Vec<Rec>> {
    let mut g: BTreeMap<i32, Vec<Rec>> = BTreeMap::new();
    for (_, recs) in runs {
        for r in recs {
            g.entry(r.k).or_default().push(r.clone());
        }
    }
    for v in g.values_mut() {
        v.sort_by_key(|r| r.seq);
    }
    g
}

fn model(engine: &str, runs: &[(i32, Vec<Rec>)]) -> Vec<Row> {
    let mut out = vec![];
    for (k, recs) in groups(runs) {
        if recs.len() == 1 {
            let r = &recs[0];
            if !is_retract(r.kind) {
                out.push((k, r.v.clone(), r.n));
            }
            continue;
        }
        match engine {
            "deduplicate" => {
                let r = recs.last().unwrap();
                if !is_retract(r.kind) {
                    out.push((k, r.v.clone(), r.n));
                }
            }
            "partial-update" => {
                // ignore-delete: the first retraction seeds the row, later ones are skipped.
                let (mut v, mut n, mut filled, mut insert) = (None, None, false, false);
                for r in &recs {
                    if is_retract(r.kind) {
                        if !filled {
                            v = r.v.clone();
                            n = r.n;
                            filled = true;
                        }
                        continue;
                    }
                    if r.v.is_some() {
                        v = r.v.clone();
                    }
                    if r.n.is_some() {
                        n = r.n;
                    }
                    filled = true;
                    insert = true;
                }
                if insert {
                    out.push((k, v, n));
                }
            }
            "aggregation" => {
                // n: sum; v: last_non_null_value.
                let (mut v, mut n): (Option<String>, Option<i64>) = (None, None);
                for r in &recs {
                    if is_retract(r.kind) {
                        if r.v.is_some() {
                            v = None;
                        }
                        if let Some(x) = r.n {
                            n = Some(n.map_or(-x, |a| a - x));
                        }
                    } else {
                        if r.v.is_some() {
                            v = r.v.clone();
                        }
                        if let Some(x) = r.n {
                            n = Some(n.map_or(x, |a| a + x));
                        }
                    }
                }
                out.push((k, v, n));
            }
            _ => unreachable!(),
        }
    }
    out
}

fn rows(batches: &[RecordBatch]) -> Vec<Row> {
    let mut out = vec![];
    for b in batches {
        let k = b.column(0).as_primitive::<Int32Type>();
        let v = b.column(1).as_string::<i32>();
        let n = b.column(2).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            out.push((
                k.value(i),
                v.is_valid(i).then(|| v.value(i).to_string()),
                n.is_valid(i).then(|| n.value(i)),
            ));
        }
    }
    out
}

async fn check_engine(engine: &str, extra: &[(&str, &str)]) {
    for seed in 1..=6u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E3779B97F4A7C15));
        let mut opts = vec![("bucket", "1"), ("merge-engine", engine)];
        opts.extend_from_slice(extra);
        let t = kvn_table(&opts).await;
        let runs = gen_runs(&mut rng, 300);
        write_runs(&t, &runs).await;
        let expected = model(engine, &runs);
        for bs in [1, 2, 7, 64, 8192] {
            let batches = ScanBuilder::new(&t)
                .batch_size(bs)
                .to_batches()
                .await
                .unwrap();
            assert!(
                batches.iter().all(|b| b.num_rows() <= bs),
                "batch size {bs} exceeded"
            );
            let got = rows(&batches);
            // Output is in key order within the single bucket.
            assert_eq!(
                got, expected,
                "engine {engine}, seed {seed}, batch size {bs}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deduplicate_matches_the_model() {
    check_engine("deduplicate", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_update_matches_the_model() {
    check_engine("partial-update", &[("ignore-delete", "true")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregation_matches_the_model() {
    check_engine("aggregation", &[("fields.n.aggregate-function", "sum")]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projection_and_limit() {
    let mut rng = Rng(42);
    let t = kvn_table(&[("bucket", "1")]).await;
    let runs = gen_runs(&mut rng, 200);
    write_runs(&t, &runs).await;
    let expected = model("deduplicate", &runs);
    let scan = ScanBuilder::new(&t)
        .projection(vec!["n".into(), "k".into()])
        .batch_size(5);
    assert_eq!(scan.output_schema().unwrap().field(0).name(), "n");
    let batches = scan.clone().to_batches().await.unwrap();
    let got: Vec<(i32, Option<i64>)> = batches
        .iter()
        .flat_map(|b| {
            let n = b.column(0).as_primitive::<Int64Type>().clone();
            let k = b.column(1).as_primitive::<Int32Type>().clone();
            (0..b.num_rows()).map(move |i| (k.value(i), n.is_valid(i).then(|| n.value(i))))
        })
        .collect();
    let want: Vec<(i32, Option<i64>)> = expected.iter().map(|r| (r.0, r.2)).collect();
    assert_eq!(got, want);
    let limited = scan.limit(13).to_batches().await.unwrap();
    assert_eq!(
        limited.iter().map(|b| b.num_rows()).sum::<usize>(),
        13.min(want.len())
    );
    let e = ScanBuilder::new(&t)
        .projection(vec!["nope".into()])
        .plan()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_table_and_time_travel() {
    let t = kvn_table(&[("bucket", "1")]).await;
    let plan = ScanBuilder::new(&t).plan().await.unwrap();
    assert!(plan.snapshot.is_none() && plan.splits.is_empty());
    assert!(ScanBuilder::new(&t).to_batches().await.unwrap().is_empty());
    let mut rng = Rng(7);
    let runs = gen_runs(&mut rng, 50);
    write_runs(&t, &runs[..1]).await;
    write_runs(&t, &runs[1..]).await;
    let first = rows(&ScanBuilder::new(&t).snapshot(1).to_batches().await.unwrap());
    assert_eq!(first, model("deduplicate", &runs[..1]));
    let latest = rows(&ScanBuilder::new(&t).to_batches().await.unwrap());
    assert_eq!(latest, model("deduplicate", &runs));
    assert!(ScanBuilder::new(&t).snapshot(9).plan().await.is_err());
}

/// (key, sequence number, row kind, v, n).
type Item<'a> = (i32, i64, i8, Option<&'a str>, Option<i64>);

fn recs(level: i32, items: &[Item]) -> (i32, Vec<Rec>) {
    let v = items
        .iter()
        .map(|(k, seq, kind, v, n)| Rec {
            k: *k,
            seq: *seq,
            kind: *kind,
            v: v.map(str::to_string),
            n: *n,
        })
        .collect();
    (level, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disjoint_sections_pass_through() {
    let t = kvn_table(&[("bucket", "1")]).await;
    let runs = vec![
        recs(
            5,
            &[
                (1, 0, 0, Some("a"), Some(1)),
                (2, 1, 0, Some("b"), Some(2)),
                (3, 2, 3, Some("c"), None),
            ],
        ),
        recs(
            0,
            &[(10, 3, 0, Some("x"), None), (11, 4, 0, Some("y"), None)],
        ),
        recs(
            0,
            &[(11, 5, 0, Some("y2"), Some(5)), (12, 6, 3, None, None)],
        ),
        recs(0, &[(20, 7, 0, None, Some(20))]),
    ];
    write_runs(&t, &runs).await;
    let got = rows(
        &ScanBuilder::new(&t)
            .batch_size(2)
            .to_batches()
            .await
            .unwrap(),
    );
    assert_eq!(got, model("deduplicate", &runs));
    assert_eq!(
        got.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![1, 2, 10, 11, 20]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_field_orders_records_before_the_sequence_number() {
    for (order, winner) in [("ascending", "late-ts"), ("descending", "early-ts")] {
        let t = kvn_table(&[
            ("bucket", "1"),
            ("sequence.field", "n"),
            ("sequence.field.sort-order", order),
        ])
        .await;
        // The record written last has the smaller sequence field.
        let runs = vec![
            recs(0, &[(1, 0, 0, Some("late-ts"), Some(9))]),
            recs(0, &[(1, 1, 0, Some("early-ts"), Some(3))]),
        ];
        write_runs(&t, &runs).await;
        let got = rows(
            &ScanBuilder::new(&t)
                .projection(vec!["k".into(), "v".into(), "n".into()])
                .to_batches()
                .await
                .unwrap(),
        );
        assert_eq!(got[0].1.as_deref(), Some(winner), "sort order {order}");
        // Projecting away the sequence field still orders by it.
        let b = ScanBuilder::new(&t)
            .projection(vec!["v".into()])
            .to_batches()
            .await
            .unwrap();
        assert_eq!(b[0].column(0).as_string::<i32>().value(0), winner);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_row_skips_level_zero_and_keeps_the_earliest() {
    let t = kvn_table(&[("bucket", "1"), ("merge-engine", "first-row")]).await;
    let runs = vec![
        recs(5, &[(1, 0, 0, Some("first"), None)]),
        recs(
            4,
            &[
                (1, 1, 0, Some("second"), None),
                (2, 2, 0, Some("only"), None),
            ],
        ),
        recs(
            0,
            &[
                (1, 3, 0, Some("l0"), None),
                (3, 4, 0, Some("invisible"), None),
            ],
        ),
    ];
    write_runs(&t, &runs).await;
    let got = rows(&ScanBuilder::new(&t).to_batches().await.unwrap());
    assert_eq!(
        got,
        vec![
            (1, Some("first".into()), None),
            (2, Some("only".into()), None)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_errors_are_clear() {
    let t = kvn_table(&[("bucket", "1"), ("merge-engine", "partial-update")]).await;
    let runs = vec![
        recs(0, &[(1, 0, 0, Some("a"), None)]),
        recs(0, &[(1, 1, 3, None, None)]),
    ];
    write_runs(&t, &runs).await;
    let e = ScanBuilder::new(&t)
        .to_batches()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("ignore-delete"), "{e}");
    let t = kvn_table(&[
        ("bucket", "1"),
        ("merge-engine", "aggregation"),
        ("fields.n.aggregate-function", "rbm64"),
    ])
    .await;
    write_runs(&t, &runs).await;
    let e = ScanBuilder::new(&t).to_batches().await.unwrap_err();
    assert!(
        matches!(e, streamhouse_format::Error::Unsupported(_)) && e.to_string().contains("rbm64"),
        "{e}"
    );
}

/// Rows sorted by key (any-order scans come in run order).
fn sorted_rows(batches: &[RecordBatch]) -> Vec<Row> {
    let mut r = rows(batches);
    r.sort_by_key(|x| x.0);
    r
}

/// A scan in any order reads overlapping deduplicate runs newest first without merging: the
/// same rows as the merge, for random runs (dense keys: a bitmap of seen keys; sparse keys: a
/// set), every batch size, projections that leave out the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_order_reads_the_same_rows_as_the_merge() {
    for (seed, spread) in [(1u64, 1), (2, 1), (3, 1), (4, 1_000_000), (5, 1_000_000)] {
        let mut rng = Rng(seed.wrapping_mul(0x9E3779B97F4A7C15));
        let t = kvn_table(&[("bucket", "1")]).await;
        let mut runs = gen_runs(&mut rng, 300);
        for (_, recs) in &mut runs {
            for r in recs.iter_mut() {
                r.k = r.k.wrapping_mul(spread);
            }
        }
        write_runs(&t, &runs).await;
        let expected = model("deduplicate", &runs);
        let merged = rows(&ScanBuilder::new(&t).to_batches().await.unwrap());
        assert_eq!(merged, expected, "seed {seed}");
        for bs in [1, 3, 64, 8192] {
            let batches = ScanBuilder::new(&t)
                .any_order(true)
                .batch_size(bs)
                .to_batches()
                .await
                .unwrap();
            assert_eq!(
                sorted_rows(&batches),
                expected,
                "seed {seed}, batch size {bs}"
            );
        }
        // Without the key column, the values per key still match (v, n as a multiset).
        let mut got: Vec<(Option<String>, Option<i64>)> = ScanBuilder::new(&t)
            .any_order(true)
            .projection(vec!["v".into(), "n".into()])
            .to_batches()
            .await
            .unwrap()
            .iter()
            .flat_map(|b| {
                let v = b.column(0).as_string::<i32>().clone();
                let n = b.column(1).as_primitive::<Int64Type>().clone();
                (0..b.num_rows()).map(move |i| {
                    (
                        v.is_valid(i).then(|| v.value(i).to_string()),
                        n.is_valid(i).then(|| n.value(i)),
                    )
                })
            })
            .collect();
        let mut want: Vec<(Option<String>, Option<i64>)> =
            expected.iter().map(|r| (r.1.clone(), r.2)).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "seed {seed}");
    }
}

/// Runs whose sequence numbers interleave are merged even in any order; a file holding a key
/// twice keeps its last row for that key, also across batch boundaries; key filters apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_order_falls_back_and_keeps_the_last_row_of_a_key_in_a_file() {
    let t = kvn_table(&[("bucket", "1")]).await;
    let runs = vec![
        // Interleaving sequence ranges (0..=4 and 1..=3): merged.
        recs(
            1,
            &[(1, 0, 0, Some("a"), None), (2, 4, 0, Some("b-new"), None)],
        ),
        recs(
            0,
            &[(2, 1, 0, Some("b-old"), None), (3, 3, 0, Some("c"), None)],
        ),
    ];
    write_runs(&t, &runs).await;
    for bs in [1, 8192] {
        let got = sorted_rows(
            &ScanBuilder::new(&t)
                .any_order(true)
                .batch_size(bs)
                .to_batches()
                .await
                .unwrap(),
        );
        assert_eq!(got, model("deduplicate", &runs), "batch size {bs}");
    }

    let t = kvn_table(&[("bucket", "1")]).await;
    let runs = vec![
        recs(
            0,
            &[
                (1, 0, 0, Some("a"), None),
                (2, 1, 0, Some("b1"), None),
                (2, 2, 0, Some("b2"), None),
                (2, 3, 0, Some("b3"), None),
                (3, 4, 0, Some("c1"), None),
                (3, 5, 3, None, None),
                (4, 6, 0, Some("d"), None),
            ],
        ),
        recs(0, &[(1, 7, 3, None, None), (4, 8, 0, Some("d2"), None)]),
    ];
    write_runs(&t, &runs).await;
    let want: Vec<Row> = vec![(2, Some("b3".into()), None), (4, Some("d2".into()), None)];
    for bs in [1, 2, 3, 8192] {
        let got = sorted_rows(
            &ScanBuilder::new(&t)
                .any_order(true)
                .batch_size(bs)
                .to_batches()
                .await
                .unwrap(),
        );
        assert_eq!(got, want, "batch size {bs}");
        let filtered = sorted_rows(
            &ScanBuilder::new(&t)
                .any_order(true)
                .batch_size(bs)
                .filter_text("k >= 2 AND k <= 3")
                .to_batches()
                .await
                .unwrap(),
        );
        assert_eq!(filtered, want[..1].to_vec(), "batch size {bs}");
    }
}
