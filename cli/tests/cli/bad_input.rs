//! Bad input and bad commands: a clear `error:` naming the input, line and column; nothing committed.

use super::*;

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
    wh.create(t, schema, "--primary-key id");
    wh.write(t, "json", "{\"id\":1,\"qty\":1}\n");
    let before = wh.scan_json(t, &[]);
    let files = wh.data_files(t);
    for (format, input, needles) in BAD_INPUTS {
        let e = wh.fails_stdin(1, &["write", t, "--format", format], input.as_bytes());
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
    let e = wh.fails_stdin(
        1,
        &["write", t, "--format", "csv"],
        b"id,code\n10,ok\n11,\xff\n",
    );
    assert!(e.contains("line 3") && e.contains("UTF-8"), "{e}");
    // A tiny write buffer makes the writer flush files before the bad row arrives.
    wh.create(
        "db.small",
        "id BIGINT NOT NULL, qty INT",
        "--primary-key id --option write-buffer-size=1kb",
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
    let e = wh.fails_stdin(1, &args, many.as_bytes());
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
    wh.ok_stdin(&args, good.as_bytes());
    assert!(
        wh.data_files("db.small") > 1,
        "the buffer should have flushed several files"
    );
    assert_eq!(wh.scan_json(t, &[]), before);
}

#[test]
fn missing_tables_and_usage_errors() {
    let wh = Wh::with_table("db.t", "id INT NOT NULL, v STRING", "--primary-key id");
    wh.write("db.t", "json", "{\"id\":1}\n");
    let txt = wh.file("rows.txt", b"id\n1\n");
    // (exit code, arguments, standard input, what the error says)
    let cases: &[(i32, &[&str], &str, &[&str])] = &[
        (
            1,
            &["write", "db.nope", "--format", "json"],
            "{\"id\":1}\n",
            &["table db.nope does not exist"],
        ),
        (1, &["scan", "db.nope"], "", &["does not exist"]),
        (1, &["snapshots", "db.nope"], "", &["does not exist"]),
        (1, &["schema", "db.nope"], "", &["does not exist"]),
        (1, &["files", "db.nope"], "", &["does not exist"]),
        (
            1,
            &["create", "db.t", "--schema", "id INT"],
            "",
            &["already exists"],
        ),
        (
            1,
            &["create", "db.u", "--schema", "id BIGNUM"],
            "",
            &["BIGNUM"],
        ),
        (
            1,
            &[
                "create",
                "db.u",
                "--schema",
                "id INT",
                "--primary-key",
                "nope",
            ],
            "",
            &["nope"],
        ),
        (2, &["write", "nodot", "--format", "json"], "", &[]),
        (
            2,
            &["create", "db.u", "--schema", "id INT", "--option", "bucket"],
            "",
            &[],
        ),
        (2, &["write", "db.t"], "{}", &["--format"]),
        (2, &["write", "db.t", "--input", &txt], "", &["extension"]),
        (
            1,
            &["write", "db.t", "--input", "/no/such/file.csv"],
            "",
            &["/no/such/file.csv"],
        ),
        (1, &["scan", "db.t", "--columns", "id,nope"], "", &["nope"]),
        (
            1,
            &["scan", "db.t", "--snapshot", "9"],
            "",
            &["snapshot 9", "does not exist"],
        ),
    ];
    for (code, args, stdin, needles) in cases {
        let e = wh.fails_stdin(*code, args, stdin);
        for n in *needles {
            assert!(e.contains(n), "{args:?}: {n:?} not in {e}");
        }
    }
    let out = wh.ok(&["create", "db.t", "--schema", "id INT", "--if-not-exists"]);
    assert!(out.contains("already exists"), "{out}");
    assert!(!wh.table_dir("db.u").join("schema").exists());
}
