//! Rows written from JSON lines, CSV and Parquet come back unchanged; row kinds update and delete.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;

use super::*;

const ALL_TYPES: &str = "id BIGINT NOT NULL, b BOOLEAN, t TINYINT, s SMALLINT, i INT, f FLOAT, \
    d DOUBLE, dec DECIMAL(20, 4), c CHAR(5), v VARCHAR(10), str STRING, bin BYTES, dt DATE, \
    tm TIME(3), ts TIMESTAMP(6), ltz TIMESTAMP(3) WITH LOCAL TIME ZONE";

/// Rows in the exact form `scan --output json` prints.
const ALL_TYPES_ROWS: &str = r#"{"id":1,"b":true,"t":-128,"s":32767,"i":-5,"f":1.5,"d":0.1,"dec":"1234567890123456.7890","c":"abc","v":"x, \"y\"","str":"multi\nline","bin":"AAEC/w==","dt":"2024-02-29","tm":"13:45:00.250","ts":"2024-01-31T13:45:00.123456","ltz":"2024-01-31T11:45:00.000Z"}
{"id":2,"b":null,"t":null,"s":null,"i":null,"f":null,"d":null,"dec":null,"c":null,"v":null,"str":null,"bin":null,"dt":null,"tm":null,"ts":null,"ltz":null}
{"id":3,"b":false,"t":127,"s":-32768,"i":2147483647,"f":-0.25,"d":"NaN","dec":"-0.0001","c":"","v":"","str":"","bin":"","dt":"1969-12-31","tm":"00:00:00.000","ts":"1970-01-01T00:00:00.000000","ltz":"1970-01-01T00:00:00.000Z"}
"#;

#[test]
fn json_csv_and_parquet_round_trip_every_primitive_type() {
    let wh = Wh::new();
    for t in ["db.a", "db.b", "db.c"] {
        wh.create(t, ALL_TYPES, "--primary-key id");
    }
    let expected = json_lines(ALL_TYPES_ROWS);
    let out = wh.write("db.a", "json", ALL_TYPES_ROWS);
    assert!(
        out.contains("wrote 3 rows") && out.contains("committed snapshot 1"),
        "{out}"
    );
    assert_eq!(wh.scan_json("db.a", &[]), expected);

    let csv = wh.ok(&["scan", "db.a", "--output", "csv"]);
    assert!(
        csv.starts_with("id,b,t,s,i,f,d,dec,c,v,str,bin,dt,tm,ts,ltz\n"),
        "{csv}"
    );
    let csv_file = wh.file("a.csv", csv.as_bytes());
    wh.ok(&["write", "db.b", "--input", &csv_file]);
    assert_eq!(wh.scan_json("db.b", &[]), expected, "through CSV");

    let pq = wh.path().join("a.parquet");
    wh.ok(&[
        "scan",
        "db.a",
        "--output",
        "parquet",
        "--out",
        pq.to_str().unwrap(),
    ]);
    wh.ok(&["write", "db.c", "--input", pq.to_str().unwrap()]);
    assert_eq!(wh.scan_json("db.c", &[]), expected, "through Parquet");
}

#[test]
fn nested_types_round_trip_through_json_and_csv() {
    let wh = Wh::new();
    let schema =
        "id INT NOT NULL, tags ARRAY<STRING>, attrs MAP<STRING, INT>, pt ROW<x INT, y STRING>";
    wh.create("db.n", schema, "--primary-key id");
    wh.create("db.m", schema, "--primary-key id");
    let rows =
        "{\"id\":1,\"tags\":[\"a\",null],\"attrs\":{\"k\":1},\"pt\":{\"x\":1,\"y\":\"z\"}}\n\
                {\"id\":2,\"tags\":null,\"attrs\":null,\"pt\":null}\n";
    wh.write("db.n", "json", rows);
    assert_eq!(wh.scan_json("db.n", &[]), json_lines(rows));
    let csv = wh.ok(&["scan", "db.n", "--output", "csv"]);
    wh.write("db.m", "csv", &csv);
    assert_eq!(wh.scan_json("db.m", &[]), json_lines(rows));
}

#[test]
fn hand_written_csv_with_columns_in_any_order() {
    let wh = Wh::with_table(
        "shop.items",
        "id BIGINT NOT NULL, name STRING, price DECIMAL(10, 2), ok BOOLEAN",
        "--primary-key id",
    );
    let csv = "\u{feff}price, id ,name\n 1.5 ,1,apple\n\n2,2,\"pear, green\"\n,3,\n";
    let out = wh.write("shop.items", "csv", csv);
    assert!(out.contains("wrote 3 rows"), "{out}");
    let expected = json_lines(
        "{\"id\":1,\"name\":\"apple\",\"price\":\"1.50\",\"ok\":null}\n\
         {\"id\":2,\"name\":\"pear, green\",\"price\":\"2.00\",\"ok\":null}\n\
         {\"id\":3,\"name\":null,\"price\":null,\"ok\":null}\n",
    );
    assert_eq!(wh.scan_json("shop.items", &[]), expected);
}

#[test]
fn updates_and_deletes_via_rowkind() {
    let wh = Wh::with_table(
        "shop.orders",
        "id BIGINT NOT NULL, status STRING, qty INT",
        "--primary-key id",
    );
    wh.write(
        "shop.orders",
        "csv",
        "id,status,qty,rowkind\n1,new,1,+I\n2,new,2,\n3,new,3,+I\n4,new,4,+I\n",
    );
    let out = wh.write(
        "shop.orders",
        "json",
        "{\"id\":1,\"status\":\"new\",\"qty\":1,\"rowkind\":\"-U\"}\n\
         {\"id\":1,\"status\":\"paid\",\"qty\":1,\"rowkind\":\"+U\"}\n\
         {\"id\":2,\"rowkind\":\"-D\"}\n\
         {\"id\":3,\"status\":\"upserted\",\"qty\":30}\n",
    );
    assert!(out.contains("1 update-before, 1 update, 1 delete"), "{out}");
    let now = json_lines(
        "{\"id\":1,\"status\":\"paid\",\"qty\":1}\n{\"id\":3,\"status\":\"upserted\",\"qty\":30}\n\
         {\"id\":4,\"status\":\"new\",\"qty\":4}\n",
    );
    assert_eq!(wh.scan_json("shop.orders", &[]), now);
    assert_eq!(wh.scan_json("shop.orders", &["--snapshot", "1"]).len(), 4);
    assert_eq!(wh.snapshot_count("shop.orders"), 2);
    wh.write("shop.orders", "csv", "rowkind,id\n-D,4\n");
    assert_eq!(wh.scan_json("shop.orders", &[]).len(), 2);
}

fn parquet_file(wh: &Wh, name: &str, columns: Vec<(&str, ArrayRef)>) -> PathBuf {
    let batch =
        RecordBatch::try_from_iter_with_nullable(columns.into_iter().map(|(n, a)| (n, a, true)))
            .unwrap();
    let path = wh.path().join(name);
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    path
}

#[test]
fn parquet_input_is_cast_to_the_table_types() {
    let wh = Wh::with_table(
        "db.p",
        "id BIGINT NOT NULL, price DECIMAL(10, 2), t TINYINT",
        "--primary-key id",
    );
    let good = parquet_file(
        &wh,
        "good.parquet",
        vec![
            ("id", Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef),
            (
                "price",
                Arc::new(StringArray::from(vec![Some("1.25"), None, Some("3")])),
            ),
            (
                "rowkind",
                Arc::new(StringArray::from(vec![Some("+I"), None, Some("+I")])),
            ),
        ],
    );
    wh.ok(&["write", "db.p", "--input", good.to_str().unwrap()]);
    let expected = json_lines(
        "{\"id\":1,\"price\":\"1.25\",\"t\":null}\n{\"id\":2,\"price\":null,\"t\":null}\n\
         {\"id\":3,\"price\":\"3.00\",\"t\":null}\n",
    );
    assert_eq!(wh.scan_json("db.p", &[]), expected);
    let bad = parquet_file(
        &wh,
        "bad.parquet",
        vec![
            ("id", Arc::new(Int64Array::from(vec![5, 6])) as ArrayRef),
            ("t", Arc::new(Int64Array::from(vec![1, 300]))),
        ],
    );
    let e = wh.fails(1, &["write", "db.p", "--input", bad.to_str().unwrap()]);
    assert!(
        e.contains("row 2, column t") && e.contains("TINYINT"),
        "{e}"
    );
    let null_key = parquet_file(
        &wh,
        "nullkey.parquet",
        vec![(
            "id",
            Arc::new(Int64Array::from(vec![Some(7), None])) as ArrayRef,
        )],
    );
    let e = wh.fails(1, &["write", "db.p", "--input", null_key.to_str().unwrap()]);
    assert!(
        e.contains("row 2, column id") && e.contains("primary key"),
        "{e}"
    );
    assert_eq!(wh.snapshot_count("db.p"), 1);
}
