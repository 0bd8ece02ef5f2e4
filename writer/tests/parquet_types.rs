//! The Parquet physical types of our data files are Java Paimon's (`ParquetSchemaConverter`,
//! spec/data-files.md): TIMESTAMP(7..9) and TIMESTAMP_LTZ(7..9) as INT96 (Java reads INT64 there
//! as milliseconds), DECIMAL by precision, the key index intact on INT96 key columns.

use std::sync::Arc;

use arrow::array::{
    new_null_array, ArrayRef, Int64Array, RecordBatch, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray,
};
use bytes::Bytes;
use parquet::basic::{LogicalType, TimeUnit, Type as PhysicalType};
use parquet::column::reader::get_typed_column_reader;
use parquet::data_type::Int96Type;
use parquet::file::reader::{FileReader, SerializedFileReader};
use streamhouse_format::int96;
use streamhouse_format::io::Table;
use streamhouse_writer::file_writer::PAGE_ROWS;
use streamhouse_writer::parquet_file::parquet_int96;
use streamhouse_writer::TableWriter;

use crate::support::{reader_with_indexes, Spec};

async fn create(cols: &str, pk: &[&str], opts: &[(&str, &str)]) -> Table {
    Spec::new(cols).key(pk).options(opts).create().await
}

/// Every Parquet file of the table's only bucket (data and changelog files).
async fn parquet_files(table: &Table) -> Vec<(String, Bytes)> {
    let dir = table.bucket_dir("", 0);
    let mut out = vec![];
    for name in table.io.list_names(&dir).await.unwrap() {
        if name.ends_with(".parquet") {
            let bytes = table
                .io
                .read(&dir.clone().join(name.as_str()))
                .await
                .unwrap();
            out.push((name, bytes));
        }
    }
    out.sort();
    out
}

/// 1969-12-31T23:59:59.999999999, the epoch, a value with non-zero nanoseconds, the ends of
/// the nanosecond range (1677-09-21T00:12:43.145224192, 2262-04-11T23:47:16.854775807).
const INSTANTS: [i64; 6] = [
    -1,
    0,
    1_732_603_136_021_000_021,
    -86_400_000_000_001,
    i64::MIN,
    i64::MAX,
];

const TYPES: &str = "id BIGINT NOT NULL, b BOOLEAN, t8 TINYINT, s16 SMALLINT, i INT, \
    big BIGINT, f FLOAT, d DOUBLE, dec1 DECIMAL(1, 0), dec9 DECIMAL(9, 2), \
    dec10 DECIMAL(10, 2), dec18 DECIMAL(18, 4), dec19 DECIMAL(19, 0), dec38 DECIMAL(38, 10), \
    c CHAR(3), v VARCHAR(10), s STRING, bin BINARY(4), vb VARBINARY(8), dt DATE, tm TIME, \
    ts0 TIMESTAMP(0), ts3 TIMESTAMP(3), ts6 TIMESTAMP(6), ts7 TIMESTAMP(7), ts8 TIMESTAMP(8), \
    ts9 TIMESTAMP(9), l3 TIMESTAMP_LTZ(3), l6 TIMESTAMP_LTZ(6), l7 TIMESTAMP_LTZ(7), \
    l9 TIMESTAMP_LTZ(9), arr ARRAY<INT>, m MAP<STRING, INT>, r ROW<x INT, y STRING>";

/// A batch of the table's columns: ids, timestamps from [`INSTANTS`] (a NULL after each),
/// everything else NULL.
fn batch(table: &Table) -> RecordBatch {
    let schema = table.schema.arrow_schema();
    let n = INSTANTS.len() * 2;
    let nanos: Vec<Option<i64>> = INSTANTS.iter().flat_map(|t| [Some(*t), None]).collect();
    // The instants in units of `per` nanoseconds, floored.
    let scaled = |per: i64| -> Vec<Option<i64>> {
        nanos.iter().map(|v| v.map(|v| v.div_euclid(per))).collect()
    };
    let cols: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| -> ArrayRef {
            use arrow::datatypes::{DataType as A, TimeUnit as U};
            match (f.name().as_str(), f.data_type()) {
                ("id", _) => Arc::new(Int64Array::from_iter_values(0..n as i64)),
                (_, A::Timestamp(U::Nanosecond, tz)) => Arc::new(
                    TimestampNanosecondArray::from(nanos.clone()).with_timezone_opt(tz.clone()),
                ),
                (_, A::Timestamp(U::Microsecond, tz)) => Arc::new(
                    TimestampMicrosecondArray::from(scaled(1000)).with_timezone_opt(tz.clone()),
                ),
                (_, A::Timestamp(U::Millisecond, tz)) => Arc::new(
                    TimestampMillisecondArray::from(scaled(1_000_000))
                        .with_timezone_opt(tz.clone()),
                ),
                (_, t) => new_null_array(t, n),
            }
        })
        .collect();
    RecordBatch::try_new(schema, cols).unwrap()
}

/// (physical type, logical type) of each leaf column, by path.
fn leaf_types(bytes: &Bytes) -> Vec<(String, PhysicalType, Option<LogicalType>, i32)> {
    let reader = SerializedFileReader::new(bytes.clone()).unwrap();
    reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| {
            (
                c.path().string(),
                c.physical_type(),
                c.logical_type_ref().cloned(),
                c.type_length(),
            )
        })
        .collect()
}

fn timestamp(utc: bool, unit: TimeUnit) -> Option<LogicalType> {
    Some(LogicalType::timestamp(utc, unit))
}

#[tokio::test]
async fn data_and_changelog_files_use_javas_physical_types() {
    let table = create(
        TYPES,
        &["id"],
        &[("bucket", "1"), ("changelog-producer", "input")],
    )
    .await;
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    w.write(&batch(&table)).await.unwrap();
    w.commit().await.unwrap();
    let files = parquet_files(&table).await;
    assert_eq!(files.len(), 2, "a data file and a changelog file");
    use PhysicalType as P;
    let int = |bits: i8| Some(LogicalType::integer(bits, true));
    let dec = |p: i32, s: i32| Some(LogicalType::decimal(s, p));
    for (name, bytes) in &files {
        let got: Vec<(String, P, Option<LogicalType>)> = leaf_types(bytes)
            .into_iter()
            .map(|(path, p, l, _)| (path, p, l))
            .collect();
        let want: Vec<(&str, P, Option<LogicalType>)> = vec![
            ("_KEY_id", P::INT64, None),
            ("_SEQUENCE_NUMBER", P::INT64, None),
            ("_VALUE_KIND", P::INT32, int(8)),
            ("id", P::INT64, None),
            ("b", P::BOOLEAN, None),
            ("t8", P::INT32, int(8)),
            ("s16", P::INT32, int(16)),
            ("i", P::INT32, None),
            ("big", P::INT64, None),
            ("f", P::FLOAT, None),
            ("d", P::DOUBLE, None),
            ("dec1", P::INT32, dec(1, 0)),
            ("dec9", P::INT32, dec(9, 2)),
            ("dec10", P::INT64, dec(10, 2)),
            ("dec18", P::INT64, dec(18, 4)),
            ("dec19", P::FIXED_LEN_BYTE_ARRAY, dec(19, 0)),
            ("dec38", P::FIXED_LEN_BYTE_ARRAY, dec(38, 10)),
            ("c", P::BYTE_ARRAY, Some(LogicalType::String)),
            ("v", P::BYTE_ARRAY, Some(LogicalType::String)),
            ("s", P::BYTE_ARRAY, Some(LogicalType::String)),
            ("bin", P::BYTE_ARRAY, None),
            ("vb", P::BYTE_ARRAY, None),
            ("dt", P::INT32, Some(LogicalType::Date)),
            (
                "tm",
                P::INT32,
                Some(LogicalType::time(false, TimeUnit::MILLIS)),
            ),
            ("ts0", P::INT64, timestamp(false, TimeUnit::MILLIS)),
            ("ts3", P::INT64, timestamp(false, TimeUnit::MILLIS)),
            ("ts6", P::INT64, timestamp(false, TimeUnit::MICROS)),
            ("ts7", P::INT96, None),
            ("ts8", P::INT96, None),
            ("ts9", P::INT96, None),
            ("l3", P::INT64, timestamp(true, TimeUnit::MILLIS)),
            ("l6", P::INT64, timestamp(true, TimeUnit::MICROS)),
            ("l7", P::INT96, None),
            ("l9", P::INT96, None),
            ("arr.list.element", P::INT32, None),
            ("m.key_value.key", P::BYTE_ARRAY, Some(LogicalType::String)),
            ("m.key_value.value", P::INT32, None),
            ("r.x", P::INT32, None),
            ("r.y", P::BYTE_ARRAY, Some(LogicalType::String)),
        ];
        let want: Vec<(String, P, Option<LogicalType>)> = want
            .into_iter()
            .map(|(n, p, l)| (n.to_string(), p, l))
            .collect();
        assert_eq!(got, want, "{name}");
        // Fixed decimals take Java's minimal width.
        let widths: Vec<i32> = leaf_types(bytes)
            .into_iter()
            .filter(|(_, p, _, _)| *p == P::FIXED_LEN_BYTE_ARRAY)
            .map(|(_, _, _, w)| w)
            .collect();
        assert_eq!(widths, [9, 16], "{name}");

        // The INT96 values are the canonical encoding of the instants, NULLs in place.
        let reader = SerializedFileReader::new(bytes.clone()).unwrap();
        let columns: Vec<String> = leaf_types(bytes).into_iter().map(|c| c.0).collect();
        for col in ["ts7", "ts8", "ts9", "l7", "l9"] {
            let c = columns.iter().position(|n| n == col).unwrap();
            let rg = reader.get_row_group(0).unwrap();
            let mut r = get_typed_column_reader::<Int96Type>(rg.get_column_reader(c).unwrap());
            let (mut values, mut defs) = (vec![], vec![]);
            r.read_records(usize::MAX, Some(&mut defs), None, &mut values)
                .unwrap();
            assert_eq!(
                defs,
                INSTANTS.iter().flat_map(|_| [1, 0]).collect::<Vec<i16>>()
            );
            let want: Vec<_> = INSTANTS.iter().map(|t| parquet_int96(*t)).collect();
            assert_eq!(values, want, "{name} {col}");
            // 1969-12-31T23:59:59.999999999 with a non-negative nanos-of-day (Java's reader
            // rejects a negative one).
            assert_eq!(
                int96::to_le_bytes(*values[0].data().first_chunk().unwrap()),
                [0xff, 0xff, 0x4e, 0x91, 0x94, 0x4e, 0, 0, 0x8b, 0x3d, 0x25, 0],
            );
        }
    }
}

#[tokio::test]
async fn an_int96_key_column_keeps_bloom_filter_and_page_index() {
    let table = create(
        "ts TIMESTAMP(9) NOT NULL, v STRING",
        &["ts"],
        &[("bucket", "1")],
    )
    .await;
    let n = 3000i64;
    let schema = table.schema.arrow_schema();
    // Keys around the epoch, a millisecond and a nanosecond apart.
    let keys: Vec<i64> = (0..n).map(|i| (i - n / 2) * 1_000_001).collect();
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(TimestampNanosecondArray::from(keys.clone())),
            Arc::new(arrow::array::StringArray::from(
                (0..n).map(|i| format!("v{i}")).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap();
    let mut w = TableWriter::new(table.clone()).await.unwrap();
    w.write(&batch).await.unwrap();
    w.commit().await.unwrap();
    let files = parquet_files(&table).await;
    assert_eq!(files.len(), 1);
    let bytes = files[0].1.clone();
    let types = leaf_types(&bytes);
    assert_eq!(
        types
            .iter()
            .map(|t| (t.0.as_str(), t.1))
            .collect::<Vec<_>>(),
        [
            ("_KEY_ts", PhysicalType::INT96),
            ("_SEQUENCE_NUMBER", PhysicalType::INT64),
            ("_VALUE_KIND", PhysicalType::INT32),
            ("ts", PhysicalType::INT96),
            ("v", PhysicalType::BYTE_ARRAY),
        ]
    );
    let reader = reader_with_indexes(bytes);
    let meta = reader.metadata();
    let offset_index = meta.offset_index().expect("an offset index");
    let column_index = meta.column_index().expect("a column index");
    for rg in 0..meta.num_row_groups() {
        let rg_reader = reader.get_row_group(rg).unwrap();
        let rows = meta.row_group(rg).num_rows();
        for (c, t) in types.iter().enumerate() {
            let pages = offset_index[rg][c].page_locations();
            assert!(!pages.is_empty(), "{} has an offset index", t.0);
            assert_eq!(column_index[rg][c].num_pages() as usize, pages.len());
            for (i, p) in pages.iter().enumerate() {
                let end = pages.get(i + 1).map_or(rows, |q| q.first_row_index);
                assert!(
                    end - p.first_row_index <= 2 * PAGE_ROWS as i64,
                    "{} page {i}",
                    t.0
                );
            }
            assert_eq!(
                rg_reader.get_column_bloom_filter(c).is_some(),
                c == 0,
                "bloom filter on {}",
                t.0
            );
        }
        // The key bloom filter holds the INT96 values; the key column has no dictionary.
        let bloom = rg_reader.get_column_bloom_filter(0).unwrap();
        for k in &keys {
            assert!(bloom.check(&parquet_int96(*k)));
        }
        assert!(meta
            .row_group(rg)
            .column(0)
            .dictionary_page_offset()
            .is_none());
    }
}
