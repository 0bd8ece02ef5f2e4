//! The `streamhouse` binary against temporary warehouses: what a user types, what they see.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_streamhouse");

struct Wh {
    dir: tempfile::TempDir,
}

impl Wh {
    fn new() -> Self {
        Wh {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, content).expect("write input file");
        p
    }

    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.arg("--warehouse")
            .arg(self.path().join("wh"))
            .args(args)
            .env_remove("STREAMHOUSE_WAREHOUSE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run streamhouse");
        let mut input = child.stdin.take().expect("stdin");
        let data = stdin.unwrap_or_default().to_vec();
        let feeder = std::thread::spawn(move || {
            let _ = input.write_all(&data);
        });
        let out = child.wait_with_output().expect("wait for streamhouse");
        let _ = feeder.join();
        out
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str], stdin: Option<&[u8]>) -> String {
        let out = self.run(args, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "streamhouse {args:?} failed: {stderr}"
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs a command that must fail with exit code `code`; returns its stderr.
    fn fails(&self, code: i32, args: &[&str], stdin: Option<&[u8]>) -> String {
        let out = self.run(args, stdin);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "streamhouse {args:?}: {stderr}"
        );
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("internal error"),
            "{stderr}"
        );
        stderr
    }

    fn create(&self, table: &str, schema: &str, extra: &[&str]) {
        let mut args = vec!["create", table, "--schema", schema];
        args.extend_from_slice(extra);
        self.ok(&args, None);
    }

    fn write(&self, table: &str, format: &str, input: &str) -> String {
        self.ok(
            &["write", table, "--format", format],
            Some(input.as_bytes()),
        )
    }

    fn scan_json(&self, table: &str, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["scan", table, "--output", "json"];
        args.extend_from_slice(extra);
        json_lines(&self.ok(&args, None))
    }

    fn snapshot_count(&self, table: &str) -> usize {
        self.ok(&["snapshots", table, "--output", "json"], None)
            .lines()
            .count()
    }

    /// Parquet files under the table directory (committed or not).
    fn data_files(&self, table: &str) -> usize {
        let (db, t) = table.split_once('.').expect("db.table");
        count_files(
            &self.path().join("wh").join(format!("{db}.db")).join(t),
            ".parquet",
        )
    }
}

fn count_files(dir: &Path, suffix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                count_files(&p, suffix)
            } else {
                usize::from(p.to_string_lossy().ends_with(suffix))
            }
        })
        .sum()
}

fn json_lines(text: &str) -> Vec<Value> {
    let mut rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect();
    rows.sort_by_key(|r| r.get("id").and_then(Value::as_i64).unwrap_or(i64::MAX));
    rows
}

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
        wh.create(t, ALL_TYPES, &["--primary-key", "id"]);
    }
    let expected = json_lines(ALL_TYPES_ROWS);
    let out = wh.write("db.a", "json", ALL_TYPES_ROWS);
    assert!(
        out.contains("wrote 3 rows") && out.contains("committed snapshot 1"),
        "{out}"
    );
    assert_eq!(wh.scan_json("db.a", &[]), expected);

    let csv = wh.ok(&["scan", "db.a", "--output", "csv"], None);
    assert!(
        csv.starts_with("id,b,t,s,i,f,d,dec,c,v,str,bin,dt,tm,ts,ltz\n"),
        "{csv}"
    );
    let csv_file = wh.file("a.csv", csv.as_bytes());
    wh.ok(
        &["write", "db.b", "--input", csv_file.to_str().unwrap()],
        None,
    );
    assert_eq!(wh.scan_json("db.b", &[]), expected, "through CSV");

    let pq = wh.path().join("a.parquet");
    wh.ok(
        &[
            "scan",
            "db.a",
            "--output",
            "parquet",
            "--out",
            pq.to_str().unwrap(),
        ],
        None,
    );
    wh.ok(&["write", "db.c", "--input", pq.to_str().unwrap()], None);
    assert_eq!(wh.scan_json("db.c", &[]), expected, "through Parquet");
}

#[test]
fn nested_types_round_trip_through_json_and_csv() {
    let wh = Wh::new();
    let schema =
        "id INT NOT NULL, tags ARRAY<STRING>, attrs MAP<STRING, INT>, pt ROW<x INT, y STRING>";
    wh.create("db.n", schema, &["--primary-key", "id"]);
    wh.create("db.m", schema, &["--primary-key", "id"]);
    let rows =
        "{\"id\":1,\"tags\":[\"a\",null],\"attrs\":{\"k\":1},\"pt\":{\"x\":1,\"y\":\"z\"}}\n\
                {\"id\":2,\"tags\":null,\"attrs\":null,\"pt\":null}\n";
    wh.write("db.n", "json", rows);
    assert_eq!(wh.scan_json("db.n", &[]), json_lines(rows));
    let csv = wh.ok(&["scan", "db.n", "--output", "csv"], None);
    wh.write("db.m", "csv", &csv);
    assert_eq!(wh.scan_json("db.m", &[]), json_lines(rows));
}

#[test]
fn hand_written_csv_with_columns_in_any_order() {
    let wh = Wh::new();
    wh.create(
        "shop.items",
        "id BIGINT NOT NULL, name STRING, price DECIMAL(10, 2), ok BOOLEAN",
        &["--primary-key", "id"],
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
    let wh = Wh::new();
    wh.create(
        "shop.orders",
        "id BIGINT NOT NULL, status STRING, qty INT",
        &["--primary-key", "id"],
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
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let path = wh.path().join(name);
    let mut w = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    path
}

#[test]
fn parquet_input_is_cast_to_the_table_types() {
    let wh = Wh::new();
    wh.create(
        "db.p",
        "id BIGINT NOT NULL, price DECIMAL(10, 2), t TINYINT",
        &["--primary-key", "id"],
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
    wh.ok(&["write", "db.p", "--input", good.to_str().unwrap()], None);
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
    let e = wh.fails(
        1,
        &["write", "db.p", "--input", bad.to_str().unwrap()],
        None,
    );
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
    let e = wh.fails(
        1,
        &["write", "db.p", "--input", null_key.to_str().unwrap()],
        None,
    );
    assert!(
        e.contains("row 2, column id") && e.contains("primary key"),
        "{e}"
    );
    assert_eq!(wh.snapshot_count("db.p"), 1);
}

/// (format, input, what the error must say)
const BAD_INPUTS: &[(&str, &str, &[&str])] = &[
    (
        "json",
        "{\"id\":10}\n{\"id\":11,}\n",
        &["line 2", "malformed JSON"],
    ),
    ("json", "[1, 2]\n", &["line 1", "expected a JSON object"]),
    (
        "csv",
        "id,qty\n10,1\nabc,2\n",
        &["line 3", "column id", "\"abc\" is not a valid BIGINT"],
    ),
    (
        "json",
        "{\"id\":10,\"t\":300}\n",
        &["line 1", "column t", "300 is out of range for TINYINT"],
    ),
    (
        "json",
        "{\"id\":10,\"code\":\"abcd\"}\n",
        &["line 1", "column code", "more than CHAR(3)"],
    ),
    (
        "json",
        "{\"id\":10}\n{\"id\":null,\"qty\":1}\n",
        &["line 2", "column id", "NULL", "primary key"],
    ),
    (
        "json",
        "{\"qty\":1}\n",
        &["line 1", "column id", "primary key"],
    ),
    (
        "csv",
        "id,qty\n10,1\n,2\n",
        &["line 3", "column id", "primary key"],
    ),
    ("csv", "qty\n1\n", &["line 1", "column id is missing"]),
    (
        "json",
        "{\"id\":10,\"colour\":\"red\"}\n",
        &["line 1", "unknown column \"colour\""],
    ),
    (
        "csv",
        "id,colour\n10,red\n",
        &["line 1", "unknown column \"colour\""],
    ),
    (
        "json",
        "{\"id\":10,\"rowkind\":\"+X\"}\n",
        &["line 1", "column rowkind", "+X"],
    ),
    ("csv", "id,qty\n10,1,2\n", &["line 2", "3 fields"]),
    ("csv", "id,code\n10,\"abc\n", &["line 2", "never closed"]),
    (
        "json",
        "{\"id\":10,\"price\":\"1.234\"}\n",
        &["column price", "more than 2 digits after the decimal point"],
    ),
    (
        "json",
        "{\"id\":10,\"price\":\"123456789\"}\n",
        &["column price", "does not fit DECIMAL(10, 2)"],
    ),
    (
        "json",
        "{\"id\":10,\"ts\":\"yesterday\"}\n",
        &["column ts", "not a timestamp"],
    ),
    (
        "json",
        "{\"id\":10,\"ts\":\"2024-01-01T00:00:00.1234\"}\n",
        &["column ts", "fraction digits"],
    ),
    (
        "json",
        "{\"id\":10,\"qty\":\"many\"}\n",
        &["column qty", "not a valid INT"],
    ),
    (
        "json",
        "{\"id\":10,\"bin\":\"not base64!\"}\n",
        &["column bin", "base64"],
    ),
    (
        "parquet",
        "not a parquet file",
        &["not a readable Parquet file"],
    ),
];

#[test]
fn bad_input_is_a_clear_error_and_commits_nothing() {
    let wh = Wh::new();
    let t = "db.strict";
    let schema = "id BIGINT NOT NULL, qty INT, t TINYINT, code CHAR(3), price DECIMAL(10, 2), ts TIMESTAMP(3), bin BYTES";
    wh.create(t, schema, &["--primary-key", "id"]);
    wh.write(t, "json", "{\"id\":1,\"qty\":1}\n");
    let before = wh.scan_json(t, &[]);
    let files = wh.data_files(t);
    for (format, input, needles) in BAD_INPUTS {
        let e = wh.fails(1, &["write", t, "--format", format], Some(input.as_bytes()));
        for n in *needles {
            assert!(
                e.contains(n),
                "{format} input {input:?}: {e:?} should mention {n:?}"
            );
        }
        assert!(e.contains("stdin"), "the error names the input: {e}");
        assert_eq!(wh.snapshot_count(t), 1, "{input:?} committed something");
        assert_eq!(wh.data_files(t), files, "{input:?} left data files behind");
    }
    // Invalid UTF-8, and an error only in a later batch, after earlier batches were written.
    let e = wh.fails(
        1,
        &["write", t, "--format", "csv"],
        Some(b"id,code\n10,ok\n11,\xff\n"),
    );
    assert!(e.contains("line 3") && e.contains("UTF-8"), "{e}");
    // A tiny write buffer makes the writer flush files before the bad row arrives.
    wh.create(
        "db.small",
        "id BIGINT NOT NULL, qty INT",
        &["--primary-key", "id", "--option", "write-buffer-size=1kb"],
    );
    let mut many = String::from("id,qty\n");
    for i in 0..2000 {
        many.push_str(&format!("{i},{i}\n"));
    }
    many.push_str("9999,not-a-number\n");
    let args = [
        "write",
        "db.small",
        "--format",
        "csv",
        "--batch-rows",
        "100",
    ];
    let e = wh.fails(1, &args, Some(many.as_bytes()));
    assert!(e.contains("line 2002, column qty"), "{e}");
    assert_eq!(wh.snapshot_count("db.small"), 0);
    assert_eq!(
        wh.data_files("db.small"),
        0,
        "an aborted write must remove its files"
    );
    let good = many
        .rsplit_once("9999")
        .map(|(head, _)| head.to_string())
        .unwrap_or_default();
    wh.ok(&args, Some(good.as_bytes()));
    assert!(
        wh.data_files("db.small") > 1,
        "the buffer should have flushed several files"
    );
    assert_eq!(wh.scan_json(t, &[]), before);
}

#[test]
fn missing_tables_and_usage_errors() {
    let wh = Wh::new();
    let e = wh.fails(
        1,
        &["write", "db.nope", "--format", "json"],
        Some(b"{\"id\":1}\n"),
    );
    assert!(e.contains("table db.nope does not exist"), "{e}");
    for cmd in ["scan", "snapshots", "schema", "files"] {
        let e = wh.fails(1, &[cmd, "db.nope"], None);
        assert!(e.contains("does not exist"), "{cmd}: {e}");
    }
    wh.create(
        "db.t",
        "id INT NOT NULL, v STRING",
        &["--primary-key", "id"],
    );
    let e = wh.fails(1, &["create", "db.t", "--schema", "id INT"], None);
    assert!(e.contains("already exists"), "{e}");
    let out = wh.ok(
        &["create", "db.t", "--schema", "id INT", "--if-not-exists"],
        None,
    );
    assert!(out.contains("already exists"), "{out}");
    let e = wh.fails(1, &["create", "db.u", "--schema", "id BIGNUM"], None);
    assert!(e.contains("BIGNUM"), "{e}");
    let e = wh.fails(
        1,
        &[
            "create",
            "db.u",
            "--schema",
            "id INT",
            "--primary-key",
            "nope",
        ],
        None,
    );
    assert!(e.contains("nope"), "{e}");
    wh.fails(2, &["write", "nodot", "--format", "json"], None);
    wh.fails(
        2,
        &["create", "db.u", "--schema", "id INT", "--option", "bucket"],
        None,
    );
    let e = wh.fails(2, &["write", "db.t"], Some(b"{}"));
    assert!(e.contains("--format"), "{e}");
    let txt = wh.file("rows.txt", b"id\n1\n");
    let e = wh.fails(
        2,
        &["write", "db.t", "--input", txt.to_str().unwrap()],
        None,
    );
    assert!(e.contains("extension"), "{e}");
    let e = wh.fails(1, &["write", "db.t", "--input", "/no/such/file.csv"], None);
    assert!(e.contains("/no/such/file.csv"), "{e}");
    let e = wh.fails(1, &["scan", "db.t", "--columns", "id,nope"], None);
    assert!(e.contains("nope"), "{e}");
    wh.write("db.t", "json", "{\"id\":1}\n");
    let e = wh.fails(1, &["scan", "db.t", "--snapshot", "9"], None);
    assert!(
        e.contains("snapshot 9") && e.contains("does not exist"),
        "{e}"
    );
    assert!(!wh
        .path()
        .join("wh")
        .join("db.db")
        .join("u")
        .join("schema")
        .exists());
}

#[test]
fn every_command_explains_itself() {
    let wh = Wh::new();
    let top = wh.ok(&["--help"], None);
    assert!(
        top.contains("Examples:") && top.contains("--warehouse"),
        "{top}"
    );
    for cmd in [
        "create",
        "write",
        "scan",
        "snapshots",
        "schema",
        "files",
        "tables",
        "demo",
    ] {
        let help = wh.ok(&[cmd, "--help"], None);
        assert!(
            help.contains("Example"),
            "{cmd} --help has no example:\n{help}"
        );
    }
    let write = wh.ok(&["write", "--help"], None);
    for needle in ["rowkind", "base64", "DECIMAL", "TIMESTAMP", "stdin"] {
        assert!(
            write.contains(needle),
            "write --help should explain {needle}"
        );
    }
    assert!(wh.ok(&["create", "--help"], None).contains("bucket=1"));
}

#[test]
fn create_defaults_and_inspection_output() {
    let wh = Wh::new();
    wh.create(
        "db.pk",
        "id BIGINT NOT NULL, v STRING",
        &["--primary-key", "id"],
    );
    wh.create("db.log", "ts TIMESTAMP(3), msg STRING", &[]);
    wh.create(
        "db.wide",
        "dt STRING, id INT, v DOUBLE",
        &[
            "--primary-key",
            "dt,id",
            "--partition-by",
            "dt",
            "--option",
            "bucket=2",
        ],
    );
    let schema = |t: &str| -> Value {
        serde_json::from_str(&wh.ok(&["schema", t, "--output", "json"], None)).unwrap()
    };
    assert_eq!(schema("db.pk")["options"]["bucket"], "1");
    assert_eq!(schema("db.log")["options"]["bucket"], "-1");
    let wide = schema("db.wide");
    assert_eq!(wide["options"]["bucket"], "2");
    assert_eq!(wide["partitionKeys"][0], "dt");
    assert_eq!(wide["fields"][0]["type"], "STRING NOT NULL");
    let tables = wh.ok(&["tables", "--output", "json"], None);
    let names: Vec<String> = tables
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names, vec!["db.log", "db.pk", "db.wide"]);

    wh.write("db.wide", "json", "{\"dt\":\"a\",\"id\":1,\"v\":1}\n{\"dt\":\"b\",\"id\":2,\"v\":2}\n{\"dt\":\"b\",\"id\":3,\"v\":3}\n");
    wh.write("db.wide", "json", "{\"dt\":\"a\",\"id\":1,\"v\":10}\n");
    let snaps = json_lines(&wh.ok(&["snapshots", "db.wide", "--output", "json"], None));
    assert_eq!(snaps.len(), 2);
    assert_eq!(
        (snaps[1]["id"].as_i64(), snaps[1]["kind"].as_str()),
        (Some(2), Some("APPEND"))
    );
    assert_eq!(
        (
            snaps[1]["total_records"].as_i64(),
            snaps[1]["delta_records"].as_i64()
        ),
        (Some(4), Some(1))
    );
    for key in ["time", "commit_user", "schema_id", "changelog_records"] {
        assert!(snaps[0].get(key).is_some(), "snapshots json lacks {key}");
    }
    let files = json_lines(&wh.ok(&["files", "db.wide", "--output", "json"], None));
    assert!(files.len() >= 3, "{files:?}");
    assert!(files.iter().all(|f| f["partition"]
        .as_str()
        .is_some_and(|p| p.starts_with("dt="))
        && f["level"] == 0));
    assert_eq!(
        files
            .iter()
            .map(|f| f["rows"].as_i64().unwrap())
            .sum::<i64>(),
        4
    );
    let old = wh.ok(
        &["files", "db.wide", "--snapshot", "1", "--output", "csv"],
        None,
    );
    assert!(
        old.starts_with("partition,bucket,level,file,rows,size,min_seq,max_seq\n"),
        "{old}"
    );
    let table = wh.ok(&["files", "db.wide"], None);
    assert!(
        table.contains("4 records") && table.contains("in snapshot 2"),
        "{table}"
    );
    let rows = wh.scan_json("db.wide", &[]);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().any(|r| r["v"] == 10.0));
}

#[test]
fn scan_columns_limit_formats_and_empty_tables() {
    let wh = Wh::new();
    wh.create(
        "db.t",
        "id INT NOT NULL, name STRING, price DECIMAL(6, 2)",
        &["--primary-key", "id"],
    );
    assert_eq!(wh.ok(&["scan", "db.t", "--output", "json"], None), "");
    assert!(wh.ok(&["scan", "db.t"], None).contains("0 rows"));
    assert_eq!(
        wh.ok(
            &["scan", "db.t", "--output", "csv", "--columns", "name,id"],
            None
        ),
        "name,id\n"
    );
    let mut rows = String::new();
    for i in 1..=20 {
        rows.push_str(&format!(
            "{{\"id\":{i},\"name\":\"n{i}\",\"price\":{i}.5}}\n"
        ));
    }
    wh.write("db.t", "json", &rows);
    let some = wh.scan_json("db.t", &["--columns", "price,id", "--limit", "5"]);
    assert_eq!(some.len(), 5);
    assert!(some
        .iter()
        .all(|r| r.as_object().unwrap().len() == 2 && r.get("name").is_none()));
    let table = wh.ok(&["scan", "db.t", "--limit", "3"], None);
    assert!(
        table.contains("| id |") && table.contains("3 rows"),
        "{table}"
    );
    let out = wh.path().join("t.csv");
    wh.ok(
        &[
            "scan",
            "db.t",
            "--output",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 21);
}

#[test]
fn append_tables_keep_every_row_and_empty_input_commits_nothing() {
    let wh = Wh::new();
    wh.create("logs.events", "level STRING, msg STRING", &[]);
    let out = wh.write("logs.events", "csv", "level,msg\n");
    assert!(out.contains("nothing committed"), "{out}");
    assert_eq!(wh.snapshot_count("logs.events"), 0);
    wh.write("logs.events", "csv", "level,msg\nINFO,a\nWARN,b\n");
    wh.write("logs.events", "csv", "level,msg\nINFO,a\n");
    assert_eq!(wh.scan_json("logs.events", &[]).len(), 3);
}

#[test]
fn big_inputs_stream_in_batches() {
    let wh = Wh::new();
    wh.create(
        "db.big",
        "id BIGINT NOT NULL, v STRING",
        &["--primary-key", "id"],
    );
    let mut csv = String::from("id,v\n");
    for i in 0..30_000 {
        csv.push_str(&format!("{i},value-{i}\n"));
    }
    let file = wh.file("big.csv", csv.as_bytes());
    let out = wh.ok(
        &[
            "write",
            "db.big",
            "--input",
            file.to_str().unwrap(),
            "--batch-rows",
            "4096",
        ],
        None,
    );
    assert!(out.contains("wrote 30000 rows"), "{out}");
    assert_eq!(
        wh.ok(&["scan", "db.big", "--output", "csv"], None)
            .lines()
            .count(),
        30_001
    );
}

#[test]
fn warehouse_from_the_environment() {
    let wh = Wh::new();
    let dir = wh.path().join("env-wh");
    let out = Command::new(BIN)
        .args(["create", "db.t", "--schema", "id INT"])
        .env("STREAMHOUSE_WAREHOUSE", &dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir
        .join("db.db")
        .join("t")
        .join("schema")
        .join("schema-0")
        .exists());
}

#[test]
fn demo_runs_twice_and_leaves_a_table_to_explore() {
    let wh = Wh::new();
    for _ in 0..2 {
        let out = wh.ok(&["demo"], None);
        for needle in [
            "Step 1",
            "snapshot 1",
            "snapshot 3",
            "3 rows",
            "4 rows",
            "Step 8",
        ] {
            assert!(out.contains(needle), "demo output lacks {needle:?}:\n{out}");
        }
    }
    assert_eq!(wh.snapshot_count("demo.orders"), 3);
    assert_eq!(
        wh.scan_json("demo.orders", &["--columns", "order_id"])
            .len(),
        3
    );
}
