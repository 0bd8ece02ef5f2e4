//! TIMESTAMP(7..9) and TIMESTAMP_LTZ(7..9) columns in both encodings our data files have had:
//! Parquet INT96 (what we write now, as Java Paimon does) and INT64 nanoseconds (what we wrote
//! before). A table holding files of both kinds reads the same through the scan, predicates,
//! the tail and `get`: non-zero nanoseconds, 1969-12-31T23:59:59.999999999, the ends of the
//! nanosecond range, NULLs; TIMESTAMP(3)/(6) beside them with years 0001 and 9999.

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, Int64Array, Int8Array, RecordBatch,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
};
use arrow::compute::concat_batches;
use arrow::datatypes::{
    DataType as A, Int32Type, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType,
};
use bytes::Bytes;
use parquet::basic::Type as PhysicalType;
use parquet::file::reader::{FileReader, SerializedFileReader};
use streamhouse_format::datum::Datum;
use streamhouse_format::io::{CommitMessage, Table};
use streamhouse_format::route::KeyRouter;
use streamhouse_reader::incremental::{StartPosition, TailBuilder, TailEvent};
use streamhouse_reader::lookup::{LookupHandle, LookupOptions};
use streamhouse_reader::ScanBuilder;
use streamhouse_writer::file_writer::{physical_batch, FileLayout, FileNamer, RollingFileWriter};
use streamhouse_writer::TableWriter;

const COLUMNS: &str = "k TIMESTAMP(9) NOT NULL, n INT, ts7 TIMESTAMP(7), ts9 TIMESTAMP(9), \
    l9 TIMESTAMP(9) WITH LOCAL TIME ZONE, ts3 TIMESTAMP(3), ts6 TIMESTAMP(6)";

/// 1969-12-31T23:59:59.999999999, the epoch, non-zero nanoseconds, pre-1970 sub-millisecond
/// values, and the ends of the nanosecond range (1677-09-21T00:12:43.145224192,
/// 2262-04-11T23:47:16.854775807).
const SPECIAL: [i64; 8] = [
    -1,
    0,
    1,
    1_732_603_136_021_000_021,
    -86_400_000_000_001,
    -1_500_000_000_123,
    i64::MIN,
    i64::MAX,
];

/// 0001-01-01T00:00:00, 9999-12-31T23:59:59.999(999), 1969-12-31T23:59:59.999(999) in
/// milliseconds and microseconds.
const MILLIS: [i64; 3] = [-62_135_596_800_000, 253_402_300_799_999, -1];
const MICROS: [i64; 3] = [-62_135_596_800_000_000, 253_402_300_799_999_999, -1];

/// One row of the table (k, n, ts7, ts9, l9, ts3, ts6).
#[derive(Debug, Clone, PartialEq)]
struct Row {
    k: i64,
    n: i32,
    ts7: Option<i64>,
    ts9: Option<i64>,
    l9: Option<i64>,
    ts3: Option<i64>,
    ts6: Option<i64>,
}

/// The key of row `i`: the special instants first, then spread over the range.
fn key(i: usize) -> i64 {
    match SPECIAL.get(i) {
        Some(k) => *k,
        None => (i as i64 - 600) * 1_000_003_007_011,
    }
}

fn row(i: usize, version: i32) -> Row {
    let k = key(i);
    let v = key((i * 7 + version as usize) % 1100);
    let null = (i + version as usize) % 5 == 4;
    Row {
        k,
        n: version,
        // TIMESTAMP(7) holds multiples of 100 ns.
        ts7: (!null).then_some(v / 100 * 100),
        ts9: (!null).then_some(v),
        l9: ((i + version as usize) % 5 != 3).then_some(k),
        ts3: (i % 4 != 3).then(|| MILLIS[i % 3]),
        ts6: (i % 4 != 2).then(|| MICROS[(i + 1) % 3]),
    }
}

async fn create() -> Table {
    common::table(
        COLUMNS,
        &[],
        &["k"],
        &[("bucket", "2"), ("write-only", "true")],
    )
    .await
}

fn batch(table: &Table, rows: &[Row]) -> RecordBatch {
    let schema = table.schema.arrow_schema();
    let ns = |f: fn(&Row) -> Option<i64>| {
        TimestampNanosecondArray::from(rows.iter().map(f).collect::<Vec<_>>())
    };
    let cols: Vec<ArrayRef> = vec![
        Arc::new(TimestampNanosecondArray::from(
            rows.iter().map(|r| r.k).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(
            rows.iter().map(|r| r.n).collect::<Vec<_>>(),
        )),
        Arc::new(ns(|r| r.ts7)),
        Arc::new(ns(|r| r.ts9)),
        Arc::new(ns(|r| r.l9).with_timezone("UTC")),
        Arc::new(TimestampMillisecondArray::from(
            rows.iter().map(|r| r.ts3).collect::<Vec<_>>(),
        )),
        Arc::new(TimestampMicrosecondArray::from(
            rows.iter().map(|r| r.ts6).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema, cols).unwrap()
}

fn rows_of(batch: &RecordBatch) -> Vec<Row> {
    let ns = |i: usize| batch.column(i).as_primitive::<TimestampNanosecondType>();
    let opt = |a: &dyn Array, r: usize, v: i64| (!a.is_null(r)).then_some(v);
    let ms = batch.column(5).as_primitive::<TimestampMillisecondType>();
    let us = batch.column(6).as_primitive::<TimestampMicrosecondType>();
    let n = batch.column(1).as_primitive::<Int32Type>();
    (0..batch.num_rows())
        .map(|r| Row {
            k: ns(0).value(r),
            n: n.value(r),
            ts7: opt(ns(2), r, ns(2).value(r)),
            ts9: opt(ns(3), r, ns(3).value(r)),
            l9: opt(ns(4), r, ns(4).value(r)),
            ts3: opt(ms, r, ms.value(r)),
            ts6: opt(us, r, us.value(r)),
        })
        .collect()
}

/// Commits `rows` as level-0 files written the way we wrote before INT96: INT64 nanoseconds
/// (arrow-rs's own Parquet schema).
async fn commit_int64_nanosecond_files(table: &Table, rows: &[Row]) {
    let mut layout = FileLayout::new(&table.schema, &table.options).unwrap();
    assert!(
        layout.parquet_schema.is_some(),
        "the table has INT96 columns"
    );
    layout.parquet_schema = None;
    let router = KeyRouter::new(&table.schema, &table.options).unwrap();
    let namer = FileNamer::new();
    let mut by_bucket: BTreeMap<i32, Vec<Row>> = BTreeMap::new();
    for r in rows {
        let key = vec![Datum::Timestamp {
            millis: r.k.div_euclid(1_000_000),
            nanos: r.k.rem_euclid(1_000_000) as i32,
        }];
        let b = router.bucket(&key, table.options.bucket).unwrap().unwrap();
        by_bucket.entry(b).or_default().push(r.clone());
    }
    let mut messages = vec![];
    for (bucket, mut rows) in by_bucket {
        rows.sort_by_key(|r| r.k);
        let values = batch(table, &rows);
        let n = rows.len();
        let physical = physical_batch(
            &layout,
            &[0],
            values.columns(),
            Arc::new(Int64Array::from_iter_values(0..n as i64)),
            Arc::new(Int8Array::from(vec![0i8; n])),
        )
        .unwrap();
        let mut w = RollingFileWriter::new(&layout, &namer, "data-", 0, 0);
        w.write(&physical, 0).unwrap();
        let mut files = vec![];
        for f in w.finish().unwrap() {
            let path = table.bucket_dir("", bucket).join(f.meta.file_name.as_str());
            table.io.write(&path, f.bytes).await.unwrap();
            files.push(f.meta);
        }
        messages.push(CommitMessage {
            partition: streamhouse_format::binary_row::BinaryRow::empty().serialize(),
            bucket,
            total_buckets: table.options.bucket,
            new_files: files,
            ..Default::default()
        });
    }
    common::commit_messages(table, "int64-writer", &messages).await;
}

/// Physical type of `column` in every data file of the table.
async fn physical_types(table: &Table, column: &str) -> Vec<PhysicalType> {
    let snapshot = table.snapshot_or_latest(None).await.unwrap().unwrap();
    let mut out = vec![];
    for f in table.all_live_files(&snapshot).await.unwrap() {
        let path = table
            .bucket_dir("", f.bucket)
            .join(f.file.file_name.as_str());
        let bytes: Bytes = table.io.read(&path).await.unwrap();
        let reader = SerializedFileReader::new(bytes).unwrap();
        let schema = reader.metadata().file_metadata().schema_descr();
        let c = schema.columns().iter().find(|c| c.name() == column);
        out.push(c.unwrap().physical_type());
    }
    out
}

/// The physical types column `ts9` has across the table's data files.
async fn ts9_encodings(table: &Table) -> Vec<PhysicalType> {
    let mut out = physical_types(table, "ts9").await;
    out.sort_by_key(|t| format!("{t:?}"));
    out.dedup();
    out
}

async fn scan(table: &Table, filter: Option<&str>) -> Vec<Row> {
    let mut b = ScanBuilder::new(table);
    if let Some(f) = filter {
        b = b.filter_text(f);
    }
    let schema = b.output_schema().unwrap();
    let batches = b.to_batches().await.unwrap();
    let mut rows = rows_of(&concat_batches(&schema, &batches).unwrap());
    rows.sort_by_key(|r| r.k);
    rows
}

/// A `--where` text and the rows it keeps.
type Case = (&'static str, fn(&Row) -> bool);

fn datum_key(k: i64) -> Vec<Datum> {
    vec![Datum::Timestamp {
        millis: k.div_euclid(1_000_000),
        nanos: k.rem_euclid(1_000_000) as i32,
    }]
}

#[tokio::test]
async fn int96_and_int64_nanosecond_files_read_the_same_through_scan_filter_and_get() {
    let table = create().await;
    let mut model: BTreeMap<i64, Row> = BTreeMap::new();
    // Commit 1: the old encoding.
    let first: Vec<Row> = (0..700).map(|i| row(i, 1)).collect();
    commit_int64_nanosecond_files(&table, &first).await;
    for r in &first {
        model.insert(r.k, r.clone());
    }
    assert_eq!(ts9_encodings(&table).await, [PhysicalType::INT64]);
    // Commit 2, by the writer (INT96): updates half of the keys, adds new ones.
    let second: Vec<Row> = (350..1100).map(|i| row(i, 2)).collect();
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    w.write(&batch(&table, &second)).await.unwrap();
    w.commit().await.unwrap();
    for r in &second {
        model.insert(r.k, r.clone());
    }
    assert_eq!(
        ts9_encodings(&table).await,
        [PhysicalType::INT64, PhysicalType::INT96]
    );
    let want: Vec<Row> = model.values().cloned().collect();

    // Scan (merging both encodings).
    assert_eq!(scan(&table, None).await, want);

    // Tail: each commit's rows, from the INT64 files and from the INT96 files.
    let mut tail = TailBuilder::new(&table)
        .start(StartPosition::FromSnapshot(1))
        .build()
        .await
        .unwrap();
    let mut tailed: BTreeMap<i64, Vec<Row>> = BTreeMap::new();
    while let Some(event) = tail.next().await.unwrap() {
        if let TailEvent::Changes(b) = event {
            tailed
                .entry(b.snapshot_id)
                .or_default()
                .extend(rows_of(&b.rows));
        }
    }
    for (snapshot, mut written) in [(1, first.clone()), (2, second.clone())] {
        written.sort_by_key(|r| r.k);
        let got = tailed.get_mut(&snapshot).unwrap();
        got.sort_by_key(|r| r.k);
        assert_eq!(*got, written, "tail of snapshot {snapshot}");
    }

    // Predicates on INT96 columns (bounds of INT96 columns are not used; nulls counts are).
    let cases: [Case; 6] = [
        ("l9 >= TIMESTAMP '1970-01-01 00:00:00'", |r| {
            r.l9.is_some_and(|v| v >= 0)
        }),
        ("ts9 > TIMESTAMP '1969-12-31 23:59:59.999999998'", |r| {
            r.ts9.is_some_and(|v| v > -2)
        }),
        ("ts9 <= TIMESTAMP '1969-12-31 23:59:59.999999999'", |r| {
            r.ts9.is_some_and(|v| v <= -1)
        }),
        ("ts9 IS NULL", |r| r.ts9.is_none()),
        (
            "k BETWEEN TIMESTAMP '1677-09-21 00:12:43.145224192' AND TIMESTAMP '1970-01-01 00:00:00.000000001'",
            |r| r.k <= 1,
        ),
        ("ts3 = TIMESTAMP '0001-01-01 00:00:00'", |r| {
            r.ts3 == Some(MILLIS[0])
        }),
    ];
    for (filter, keep) in cases {
        let expected: Vec<Row> = want.iter().filter(|r| keep(r)).cloned().collect();
        assert!(!expected.is_empty(), "{filter} selects rows");
        let got = scan(&table, Some(filter)).await;
        let missing: Vec<&Row> = expected.iter().filter(|r| !got.contains(r)).collect();
        let extra: Vec<&Row> = got.iter().filter(|r| !expected.contains(r)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{filter}: missing {missing:?}, extra {extra:?}"
        );
        assert_eq!(got, expected, "{filter}");
    }

    // get: every key (INT96 and INT64 key columns), a missing one.
    let handle = LookupHandle::open(&table, LookupOptions::default())
        .await
        .unwrap();
    for r in &want {
        let got = handle
            .get(&datum_key(r.k))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("get {}: absent", r.k));
        assert_eq!(rows_of(&got), std::slice::from_ref(r), "get {}", r.k);
    }
    assert!(handle.get(&datum_key(2)).await.unwrap().is_none());
    let keys: Vec<Vec<Datum>> = want.iter().map(|r| datum_key(r.k)).collect();
    let many = handle.get_many(&keys).await.unwrap();
    for (i, r) in want.iter().enumerate() {
        assert_eq!(rows_of(&many.row(i).unwrap()), std::slice::from_ref(r));
    }
}

#[test]
fn nanosecond_columns_are_the_int96_ones() {
    // The Arrow type of TIMESTAMP(7..9) is what the writer turns into INT96.
    for (ty, int96) in [
        ("TIMESTAMP(6)", false),
        ("TIMESTAMP(7)", true),
        ("TIMESTAMP(9)", true),
        ("TIMESTAMP(6) WITH LOCAL TIME ZONE", false),
        ("TIMESTAMP(7) WITH LOCAL TIME ZONE", true),
    ] {
        let t = streamhouse_format::types::parse_type(ty)
            .unwrap()
            .to_arrow();
        assert_eq!(
            matches!(t, A::Timestamp(TimeUnit::Nanosecond, _)),
            int96,
            "{ty}"
        );
    }
}

#[tokio::test]
async fn gets_in_our_int96_key_files_use_page_bounds_and_bloom_filters() {
    let columns = "k TIMESTAMP(9) NOT NULL, v STRING";
    let table = common::table(columns, &[], &["k"], &[("bucket", "1")]).await;
    // 5000 keys 3 ns apart around 1970-01-01 (before and after): one file, ~20 pages.
    let key = |i: i64| (i - 2500) * 3;
    let batch = RecordBatch::try_new(
        table.schema.arrow_schema(),
        vec![
            Arc::new(TimestampNanosecondArray::from_iter_values(
                (0..5000).map(key),
            )),
            Arc::new(arrow::array::StringArray::from_iter_values(
                (0..5000).map(|i| format!("v{i}")),
            )),
        ],
    )
    .unwrap();
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    w.write(&batch).await.unwrap();
    w.commit().await.unwrap();
    assert_eq!(
        physical_types(&table, "_KEY_k").await,
        [PhysicalType::INT96]
    );

    let handle = LookupHandle::open(&table, LookupOptions::default())
        .await
        .unwrap();
    // Ten keys 500 rows apart: each in its own page, so ten units (a whole-row-group unit
    // would be decoded once).
    for i in (0..5000).step_by(500) {
        let got = handle.get(&datum_key(key(i))).await.unwrap().unwrap();
        let v = got.column(1).as_string::<i32>().value(0).to_string();
        assert_eq!(v, format!("v{i}"));
    }
    let c = handle.counters();
    assert_eq!(c.units_decoded, 10, "{c:?}");
    // Absent keys between the stored ones: the bloom filter rules out nearly all.
    let before = handle.counters();
    for i in 0..200 {
        assert!(handle.get(&datum_key(key(i) + 1)).await.unwrap().is_none());
    }
    let c = handle.counters().since(&before);
    assert!(c.bloom_skips >= 180, "{c:?}");

    // A narrow range of the INT96 key reads a page or two (page bounds of our file).
    let range = "k BETWEEN TIMESTAMP '1969-12-31 23:59:59.999999997' \
                 AND TIMESTAMP '1970-01-01 00:00:00.000000003'";
    let (_, rows, st) = common::scan_measured(ScanBuilder::new(&table).filter_text(range)).await;
    assert_eq!(rows, 3);
    assert!(st.pages_read * 4 < st.pages_total, "{st}");
}
