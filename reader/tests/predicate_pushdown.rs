//! Predicate pushdown never changes results, and prunes what it should.
//!
//! * property test: random predicates over multi-commit, multi-bucket, partitioned tables (a
//!   primary-key table with updates and deletes, and an append table): `filter_text(p)` gives
//!   exactly the rows of an independent model filtered by `p` (evaluated here, not by the
//!   reader), with and without a projection;
//! * the same predicates through pypaimon's filter API give the same rows (when
//!   `STREAMHOUSE_PYTHON` is set, see `tests/run.sh`); pypaimon's filter is not exact (it
//!   returns non-matching rows for some OR predicates), so the script applies the predicate to
//!   what pypaimon returned — a row pypaimon wrongly dropped still fails the test;
//! * pruning is proven by the scan statistics: a 1 % key range reads a small fraction of the
//!   bytes, an equality on the bucket key reads one bucket, a partition value one partition;
//! * time travel by tag and by time.

use crate::{common, predicate_support};
use streamhouse_test_support as interop_support;

use std::sync::Arc;

use arrow::array::{
    Array, Date32Array, Decimal128Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::DataType as A;
use proptest::prelude::*;
use streamhouse_format::io::{open_warehouse, Table};
use streamhouse_reader::scan_stats::ScanStats;
use streamhouse_reader::ScanBuilder;
use streamhouse_writer::TableWriter;

use predicate_support::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn fixtures(rt: &tokio::runtime::Runtime) -> &'static [Fixture; 2] {
    static F: std::sync::OnceLock<[Fixture; 2]> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        rt.block_on(async {
            [
                fixture(true, 4, 4000, 7).await,
                fixture(false, 3, 4000, 11).await,
            ]
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn where_equals_filtering_the_model(seed in any::<u64>(), which in 0usize..2) {
        let rt = runtime();
        let f = &fixtures(&rt)[which];
        let p = gen(&mut Rng(seed), 3, true);
        let where_text = text(&p);
        let got = rt.block_on(ScanBuilder::new(&f.table).filter_text(where_text.clone()).to_batches())
            .unwrap_or_else(|e| panic!("{where_text}: {e}"));
        let want = expected(f, &p);
        prop_assert_eq!(rows_of(&got), want.clone(), "--where {}", where_text);
        // With a projection that leaves out predicate columns, and a limit.
        let got = rt.block_on(
            ScanBuilder::new(&f.table)
                .filter_text(where_text.clone())
                .projection(vec!["id".into()])
                .to_batches(),
        ).unwrap();
        let n: usize = got.iter().map(|b| b.num_rows()).sum();
        prop_assert_eq!(n, want.len(), "projected --where {}", where_text);
        prop_assert_eq!(got.first().map(|b| b.num_columns()).unwrap_or(1), 1);
        let limited = rt.block_on(
            ScanBuilder::new(&f.table).filter_text(where_text.clone()).limit(5).to_batches(),
        ).unwrap();
        let n: usize = limited.iter().map(|b| b.num_rows()).sum();
        prop_assert_eq!(n, want.len().min(5));
    }
}

#[test]
fn the_model_is_the_full_scan() {
    let rt = runtime();
    for f in fixtures(&rt) {
        let got = rt
            .block_on(ScanBuilder::new(&f.table).to_batches())
            .unwrap();
        let mut want: Vec<String> = f.rows.iter().map(Row::line).collect();
        want.sort();
        assert_eq!(rows_of(&got), want, "{}", f.table.name);
    }
}

#[test]
fn pypaimon_filters_agree() {
    let Some(_) = interop_support::python() else {
        return;
    };
    let rt = runtime();
    for f in fixtures(&rt) {
        let path = f
            .dir
            .path()
            .join("db.db")
            .join(f.table.name.split('.').nth(1).unwrap());
        let mut rng = Rng(99);
        for _ in 0..12 {
            let p = gen(&mut rng, 2, false);
            let arg = json(&p).to_string();
            let theirs = pypaimon_filter_read(&path, &[&arg, "--exact"]);
            let ours = rt
                .block_on(
                    ScanBuilder::new(&f.table)
                        .filter_text(text(&p))
                        .to_batches(),
                )
                .unwrap();
            let schema = f.table.schema.arrow_schema();
            let ours = interop_support::arrow_rows_canonical(&ours, &schema);
            interop_support::assert_same_rows(
                &ours,
                &theirs,
                &format!("{} WHERE {}", f.table.name, text(&p)),
            );
        }
    }
}

/// The rows pypaimon reads from the table at `path` with `pypaimon_filter_read.py` and these
/// arguments (a predicate in JSON or `null`, then options), sorted.
fn pypaimon_filter_read(path: &std::path::Path, args: &[&str]) -> Vec<serde_json::Value> {
    let args = std::iter::once(path.as_os_str()).chain(args.iter().map(std::ffi::OsStr::new));
    let out = interop_support::run_python_script("pypaimon_filter_read.py", args);
    interop_support::sort_rows(
        out.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()),
    )
}

/// A scan of `table` filtered by `filter`, measured.
async fn measured(table: &Table, filter: &str) -> (Vec<RecordBatch>, usize, ScanStats) {
    common::scan_measured(ScanBuilder::new(table).filter_text(filter)).await
}

/// A larger primary-key table: 200,000 keys in 10 commits over 2 buckets.
async fn large() -> (Table, tempfile::TempDir) {
    let columns = "id BIGINT NOT NULL, v INT, name STRING";
    let (table, dir) = common::temp_table("db.big", columns, &["id"], &[("bucket", "2")]).await;
    let arrow = Arc::new(arrow::datatypes::Schema::new(vec![
        arrow::datatypes::Field::new("id", A::Int64, false),
        arrow::datatypes::Field::new("v", A::Int32, true),
        arrow::datatypes::Field::new("name", A::Utf8, true),
    ]));
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    let mut rng = Rng(5);
    let mut ids: Vec<i64> = (0..200_000).collect();
    for i in (1..ids.len()).rev() {
        ids.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for chunk in ids.chunks(20_000) {
        let b = RecordBatch::try_new(
            arrow.clone(),
            vec![
                Arc::new(Int64Array::from(chunk.to_vec())),
                Arc::new(Int32Array::from(
                    chunk.iter().map(|i| (i % 1000) as i32).collect::<Vec<_>>(),
                )),
                Arc::new(StringArray::from(
                    chunk
                        .iter()
                        .map(|i| format!("name-{i:08}-{}", rng.next()))
                        .collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap();
        w.write(&b).await.unwrap();
        w.commit().await.unwrap();
    }
    (table, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_shows_in_the_statistics() {
    let (table, _dir) = large().await;
    let snapshot = table.latest_snapshot_id().await.unwrap().unwrap();
    let s = table.snapshot(snapshot).await.unwrap();
    let files = table.all_live_files(&s).await.unwrap();
    let total: i64 = files.iter().map(|e| e.file.file_size).sum();

    // A 1 % key range: every file spans all keys, so row groups and pages do the work.
    let (_, rows, st) = measured(&table, "id BETWEEN 100000 AND 101999").await;
    assert_eq!(rows, 2000);
    let fraction = st.data_bytes_read as f64 / total as f64;
    eprintln!("1% key range: {st}\nfraction of bytes {fraction:.4}");
    // Files of 10,000 rows with 1,024-row pages: the range touches one or two pages of each.
    assert!(st.pages_read * 4 < st.pages_total, "{st}");
    assert!(
        fraction < 0.25,
        "read {fraction:.3} of the table's bytes ({total} bytes)\n{st}"
    );

    // Without a predicate everything is read.
    let (_, _, fs) =
        common::scan_measured(ScanBuilder::new(&table).projection(vec!["id".into()])).await;
    assert_eq!(fs.pages_read, fs.pages_total);

    // Equality on the whole bucket key: one bucket's files.
    let (_, rows, st) = measured(&table, "id = 4242").await;
    assert_eq!(rows, 1);
    assert_eq!(st.files_total, 20, "{st}");
    assert_eq!(st.files_planned, 10, "one bucket of two\n{st}");

    // A key range outside the data: no file is read.
    let (_, rows, st) = measured(&table, "id > 300000").await;
    assert_eq!(rows, 0);
    assert_eq!(st.files_planned, 0);

    // A value predicate on a primary-key table prunes nothing before the merge.
    let (_, _, st) = measured(&table, "v = 5").await;
    assert_eq!(st.files_planned, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_are_pruned() {
    let f = fixture(true, 2, 2000, 3).await;
    let (got, _, st) = measured(&f.table, "dt = 'a' AND id < 100").await;
    assert_eq!((st.partitions_read, st.partitions_seen), (1, 2), "{st}");
    assert_eq!(
        rows_of(&got),
        expected(&f, &P::And(vec![P::Dt("a"), P::Cmp("id", "<", 100)]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_travel_by_tag_and_time() {
    let f = fixture(true, 1, 500, 21).await;
    let t = &f.table;
    let first = t.latest_snapshot_id().await.unwrap().unwrap();
    let before = rows_of(&ScanBuilder::new(t).to_batches().await.unwrap());
    t.create_tag("v1", None, Some(std::time::Duration::from_secs(3600)))
        .await
        .unwrap();
    assert!(t.create_tag("v1", None, None).await.is_err());
    let time = t.snapshot(first).await.unwrap().time_millis;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mut w = TableWriter::new(t.clone()).await.unwrap();
    let mut rng = Rng(1);
    w.write(&batch(
        &(0..50).map(|i| random_row(&mut rng, i)).collect::<Vec<_>>(),
    ))
    .await
    .unwrap();
    w.commit().await.unwrap();
    let after = rows_of(&ScanBuilder::new(t).to_batches().await.unwrap());
    assert_ne!(before, after);
    let tagged = rows_of(&ScanBuilder::new(t).tag("v1").to_batches().await.unwrap());
    assert_eq!(tagged, before);
    let as_of = rows_of(
        &ScanBuilder::new(t)
            .as_of_millis(time)
            .to_batches()
            .await
            .unwrap(),
    );
    assert_eq!(as_of, before);
    assert!(ScanBuilder::new(t)
        .as_of_millis(time - 1)
        .to_batches()
        .await
        .is_err());
    let tags = t.list_tags().await.unwrap();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].snapshot.id, first);
    assert_eq!(tags[0].time_retained, Some(3600.0));
    t.delete_tag("v1").await.unwrap();
    assert!(ScanBuilder::new(t).tag("v1").to_batches().await.is_err());
    assert!(t.delete_tag("v1").await.is_err());
}

#[test]
fn pypaimon_reads_our_tags() {
    let Some(_) = interop_support::python() else {
        return;
    };
    let rt = runtime();
    let f = rt.block_on(fixture(true, 2, 300, 8));
    let t = &f.table;
    rt.block_on(t.create_tag("release-1", Some(1), None))
        .unwrap();
    let ours = rt
        .block_on(ScanBuilder::new(t).snapshot(1).to_batches())
        .unwrap();
    let ours = interop_support::arrow_rows_canonical(&ours, &t.schema.arrow_schema());
    let path = f.dir.path().join("db.db").join("pk");
    let theirs = pypaimon_filter_read(&path, &["null", "--tag", "release-1"]);
    interop_support::assert_same_rows(&ours, &theirs, "pypaimon reading tag release-1");
}

/// Literals of every primitive type filter exactly, and equality on a composite bucket key
/// (string, non-compact decimal, non-compact timestamp) finds its row in the one bucket the
/// writer routed it to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_primitive_type_filters_and_routes() {
    use arrow::array::{
        BinaryArray, BooleanArray, Float32Array, Float64Array, Int16Array, Int8Array,
        Time32MillisecondArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    };
    let columns = "ks STRING, kd DECIMAL(20, 4), kt TIMESTAMP(6), b BOOLEAN, ti TINYINT, \
         si SMALLINT, i INT, f FLOAT, x DOUBLE, dt DATE, tm TIME(3), \
         ltz TIMESTAMP(3) WITH LOCAL TIME ZONE, bin BYTES, c CHAR(4)";
    let key: &[&str] = &["ks", "kd", "kt"];
    let (table, _dir) = common::temp_table("db.types", columns, key, &[("bucket", "4")]).await;
    let n = 64usize;
    let arrow_schema = table.schema.arrow_schema();
    let cols: Vec<Arc<dyn Array>> = vec![
        Arc::new(StringArray::from(
            (0..n).map(|i| format!("key-{i}")).collect::<Vec<_>>(),
        )),
        Arc::new(
            Decimal128Array::from((0..n).map(|i| i as i128 * 12345).collect::<Vec<_>>())
                .with_precision_and_scale(20, 4)
                .unwrap(),
        ),
        Arc::new(TimestampMicrosecondArray::from(
            (0..n)
                .map(|i| 1_700_000_000_000_000 + i as i64 * 1_000_001)
                .collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            (0..n).map(|i| i % 2 == 0).collect::<Vec<_>>(),
        )),
        Arc::new(Int8Array::from(
            (0..n).map(|i| i as i8 - 32).collect::<Vec<_>>(),
        )),
        Arc::new(Int16Array::from(
            (0..n).map(|i| i as i16 * 100).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(
            (0..n).map(|i| i as i32 * -7).collect::<Vec<_>>(),
        )),
        Arc::new(Float32Array::from(
            (0..n).map(|i| i as f32 * 0.5).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            (0..n).map(|i| i as f64 * 0.25).collect::<Vec<_>>(),
        )),
        Arc::new(Date32Array::from(
            (0..n).map(|i| 19_000 + i as i32).collect::<Vec<_>>(),
        )),
        Arc::new(Time32MillisecondArray::from(
            (0..n).map(|i| i as i32 * 60_000 + 250).collect::<Vec<_>>(),
        )),
        Arc::new(
            TimestampMillisecondArray::from(
                (0..n)
                    .map(|i| 1_600_000_000_000 + i as i64 * 3_600_000)
                    .collect::<Vec<_>>(),
            )
            .with_timezone("UTC"),
        ),
        Arc::new(BinaryArray::from(
            (0..n)
                .map(|i| vec![i as u8, 0xab])
                .collect::<Vec<_>>()
                .iter()
                .map(|v| v.as_slice())
                .collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            (0..n).map(|i| format!("c{:03}", i)).collect::<Vec<_>>(),
        )),
    ];
    let b = RecordBatch::try_new(arrow_schema, cols).unwrap();
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    w.write(&b).await.unwrap();
    w.commit().await.unwrap();
    // Row 9's values, written as literals.
    let cases = [
        (
            "ks = 'key-9' AND kd = 11.1105 AND kt = TIMESTAMP '2023-11-14 22:13:29.000009'",
            1,
        ),
        ("b = FALSE", 32),
        ("ti = -23", 1),
        ("si BETWEEN 800 AND 900", 2),
        ("i = -63", 1),
        ("f = 4.5", 1),
        ("x IN (2.25, 2.5)", 2),
        ("dt = DATE '2022-01-10'", 1),
        ("tm = TIME '00:09:00.250'", 1),
        ("ltz = TIMESTAMP '2020-09-13 21:26:40Z'", 1),
        ("ltz >= '2020-09-14 05:26:40+08:00'", 55),
        ("bin = X'09ab'", 1),
        ("c = 'c009'", 1),
        ("kd > 11.1105 AND kd <= 12.3450", 1),
        ("kt < '2023-11-14 22:13:21'", 1),
    ];
    for (text, want) in cases {
        let (_, rows, st) = measured(&table, text).await;
        assert_eq!(rows, want, "{text}");
        if text.starts_with("ks =") {
            // The whole bucket key is pinned: one bucket's file.
            assert_eq!(st.files_planned, 1, "{st}");
        }
    }
    // Every key found through bucket pruning.
    for i in 0..n {
        let text = format!(
            "ks = 'key-{i}' AND kd = {} AND kt = {}",
            {
                let u = i as i128 * 12345;
                format!("{}.{:04}", u / 10_000, u % 10_000)
            },
            {
                let micros = 1_700_000_000_000_000 + i as i64 * 1_000_001;
                let t = chrono::DateTime::from_timestamp_micros(micros).unwrap();
                format!(
                    "TIMESTAMP '{}'",
                    t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f")
                )
            }
        );
        let got = ScanBuilder::new(&table)
            .filter_text(text.clone())
            .to_batches()
            .await
            .unwrap();
        assert_eq!(got.iter().map(|b| b.num_rows()).sum::<usize>(), 1, "{text}");
    }
}

/// Tables written by Java/C++ Paimon with deletion vectors, levels 0..5 and compaction: every
/// `col op value` predicate over their columns (values taken from the table) returns the full
/// scan's matching rows — pruning folds deletion vectors into the row selection correctly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_vector_fixtures_filter_exactly() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/java-paimon");
    let cases = [
        (
            "cpp_parquet_pk_table_scan_and_read_dv",
            "pk_table_scan_and_read_dv.db/pk_table_scan_and_read_dv",
        ),
        (
            "cpp_parquet_pk_with_bitmap_dv",
            "pk_with_bitmap_dv.db/pk_with_bitmap_dv",
        ),
    ];
    for (name, rel) in cases {
        let root = dir.join(name);
        if !root.exists() {
            eprintln!(
                "*** SKIPPED: fixture {name} not found under {} ***",
                dir.display()
            );
            continue;
        }
        let (io, _) = open_warehouse(root.to_str().unwrap()).unwrap();
        let table = Table::open(io, object_store::path::Path::from(rel), name)
            .await
            .unwrap();
        let full = ScanBuilder::new(&table).to_batches().await.unwrap();
        assert!(
            full.iter().map(|b| b.num_rows()).sum::<usize>() > 0,
            "{name}"
        );
        let mut texts = vec![];
        for f in &table.schema.fields {
            let Some(col) = full[0].column_by_name(&f.name) else {
                continue;
            };
            if f.data_type.is_nested() || f.data_type.is_binary() {
                continue;
            }
            texts.push(format!("\"{}\" IS NULL", f.name));
            for i in 0..col.len().min(4) {
                if col.is_null(i) {
                    continue;
                }
                let v = arrow::util::display::array_value_to_string(col, i).unwrap();
                let lit = if f.data_type.is_string() {
                    format!("'{}'", v.replace('\'', "''"))
                } else {
                    v
                };
                for op in ["=", "<", ">=", "<>"] {
                    texts.push(format!("\"{}\" {op} {lit}", f.name));
                }
            }
        }
        let n = texts.len();
        for i in 0..n {
            texts.push(format!("({}) AND ({})", texts[i], texts[(i * 7 + 3) % n]));
            texts.push(format!(
                "({}) OR NOT ({})",
                texts[i],
                texts[(i * 5 + 1) % n]
            ));
        }
        for text in texts {
            let p = streamhouse_reader::predicate::parse_predicate(&text, &table.schema)
                .unwrap_or_else(|e| panic!("{name}: {text}: {e}"));
            let mut want = vec![];
            for b in &full {
                let mask = p.evaluate(b).unwrap();
                want.push(arrow::compute::filter_record_batch(b, &mask).unwrap());
            }
            let got = ScanBuilder::new(&table)
                .filter_text(text.clone())
                .to_batches()
                .await
                .unwrap_or_else(|e| panic!("{name}: {text}: {e}"));
            let show = |bs: &[RecordBatch]| {
                let mut lines: Vec<String> = arrow::util::pretty::pretty_format_batches(bs)
                    .unwrap()
                    .to_string()
                    .lines()
                    .filter(|l| l.starts_with('|'))
                    .skip(1)
                    .map(str::to_string)
                    .collect();
                lines.sort();
                lines
            };
            assert_eq!(show(&got), show(&want), "{name}: --where {text}");
        }
    }
}
