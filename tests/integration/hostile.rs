//! Hostile input, corpus-driven (the corpus is generated here, seeded; nothing large is
//! committed):
//!
//! 1. `streamhouse write` gets malformed CSV / JSON lines / Parquet, values out of range for
//!    every column type, oversize strings, null primary keys and NOT NULL values, unknown and
//!    missing columns, each bad row at a seeded line among good ones. Every case must exit 1
//!    with one `error:` line naming the input and, for a bad value, the line and the column;
//!    never a panic; the table keeps exactly its one snapshot and its data files.
//! 2. The table's own files — snapshot, schema, manifest list, manifest and data file — are
//!    truncated at many points and have single bytes flipped at seeded places. Reading must
//!    then fail with an error naming a file of the table, or (for a flip that changes nothing
//!    a reader uses) return exactly the right rows; it must never panic.
//!
//! The case counts are printed.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use serde_json::Value;
use streamhouse_reader::ScanBuilder;

use crate::interop_support::{assert_same_rows, count_files};
use crate::procs::{cli, cli_binary, run_with_input, Rng};
use crate::support::{open_table, try_scan_rows};

const T: &str = "db.hostile";
const SCHEMA: &str = "id BIGINT NOT NULL, t TINYINT, s SMALLINT, i INT, b BIGINT, f FLOAT, \
    dec DECIMAL(5, 2), c CHAR(3), vc VARCHAR(4), bin BINARY(2), dt DATE, tm TIME(3), \
    ts TIMESTAMP(3), ltz TIMESTAMP(6) WITH LOCAL TIME ZONE, flag BOOLEAN, arr ARRAY<INT>, \
    nn INT NOT NULL";

/// Bad values per column: (column, JSON literal, CSV field text or None when CSV cannot say it).
fn bad_values() -> Vec<(&'static str, String, Option<String>)> {
    let huge = "x".repeat(1 << 20);
    let mut v: Vec<(&'static str, String, Option<String>)> = vec![];
    for (col, vals) in [
        ("t", &["128", "-129", "1000000", "1.5", "\"abc\""][..]),
        ("s", &["32768", "-32769", "\"1e9\""][..]),
        ("i", &["2147483648", "-2147483649", "\"12x\"", "1e20"][..]),
        (
            "b",
            &["9223372036854775808", "\"99999999999999999999\"", "\"\""][..],
        ),
        ("f", &["\"abc\"", "\"1.2.3\""][..]),
        (
            "dec",
            &["\"1234.5\"", "\"1.234\"", "\"abc\"", "\"NaN\"", "1e10"][..],
        ),
        ("c", &["\"abcd\""][..]),
        ("bin", &["\"!!!\"", "\"AAAA\""][..]),
        (
            "dt",
            &["\"2024-02-30\"", "\"2024-13-01\"", "\"yesterday\""][..],
        ),
        ("tm", &["\"25:00:00\"", "\"12:61:00\"", "\"noon\""][..]),
        (
            "ts",
            &[
                "\"2024-01-01T25:00:00\"",
                "\"not a time\"",
                "\"2024-01-01T00:00:00.1234\"",
            ][..],
        ),
        ("ltz", &["\"2024-01-01T00:00:00+25:00\"", "\"soon\""][..]),
        ("flag", &["\"yes\"", "2"][..]),
        ("arr", &["\"notjson\""][..]),
    ] {
        for j in vals {
            let csv = j.trim_matches('"').to_string();
            // An empty CSV field is NULL, which these nullable columns accept.
            let csv = (!csv.is_empty()).then_some(csv);
            v.push((col, j.to_string(), csv));
        }
    }
    v.push(("vc", format!("\"{huge}\""), Some(huge)));
    v.push((
        "arr",
        "[1, \"x\"]".into(),
        Some("\"[1, \"\"x\"\"]\"".into()),
    ));
    v.push(("arr", "{\"a\": 1}".into(), None));
    v.push(("id", "null".into(), Some(String::new())));
    v.push(("id", "\"x\"".into(), Some("x".into())));
    v.push(("nn", "null".into(), Some(String::new())));
    v
}

fn good_json(id: i64) -> String {
    format!("{{\"id\": {id}, \"nn\": {id}, \"vc\": \"ok\"}}\n")
}

/// Structural cases: (format, input bytes, what the error must mention).
fn structural() -> Vec<(&'static str, Vec<u8>, Vec<String>)> {
    let deep = format!(
        "{{\"id\": 1, \"nn\": 1, \"arr\": {}1{}}}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mut out: Vec<(&'static str, Vec<u8>, Vec<String>)> = vec![
        (
            "json",
            b"{\"id\": 1, \"nn\": 1\n".to_vec(),
            vec!["line 1".into()],
        ),
        (
            "json",
            b"{\"id\": 1, \"nn\": 1}} x\n".to_vec(),
            vec!["line 1".into()],
        ),
        ("json", b"[1, 2]\n".to_vec(), vec!["line 1".into()]),
        ("json", b"42\n".to_vec(), vec!["line 1".into()]),
        (
            "json",
            b"{\"id\": 1, \"nn\": 1, \"vc\": \"\xff\xfe\"}\n".to_vec(),
            vec!["line 1".into()],
        ),
        ("json", deep.into_bytes(), vec!["line 1".into()]),
        (
            "json",
            b"{\"id\": 1, \"nn\": 1, \"nope\": 1}\n".to_vec(),
            vec!["nope".into()],
        ),
        ("json", b"{\"nn\": 1}\n".to_vec(), vec!["column id".into()]),
        (
            "csv",
            b"id,nn\n1,1\n2,\"2\n".to_vec(),
            vec!["line 3".into()],
        ),
        ("csv", b"id,nn\n1,1,1\n".to_vec(), vec!["line 2".into()]),
        (
            "csv",
            b"id,nn,vc\n1,1,\xff\n".to_vec(),
            vec!["line 2".into()],
        ),
        ("csv", b"nn\n1\n".to_vec(), vec!["column id".into()]),
        (
            "csv",
            b"id,nn,colour\n1,1,red\n".to_vec(),
            vec!["colour".into()],
        ),
        ("csv", b"id,id,nn\n1,1,1\n".to_vec(), vec!["id".into()]),
    ];
    // Binary garbage as either text format.
    let mut rng = Rng::new(99);
    for format in ["json", "csv"] {
        for _ in 0..3 {
            let bytes: Vec<u8> = (0..200).map(|_| rng.below(256) as u8).collect();
            out.push((format, bytes, vec![]));
        }
    }
    out
}

fn parquet_bytes(columns: Vec<(&str, ArrayRef)>) -> Vec<u8> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let mut buf = vec![];
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    buf
}

/// Parquet cases: (file bytes, what the error must mention besides the file name).
fn parquet_cases() -> Vec<(Vec<u8>, Vec<&'static str>)> {
    let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
    let nn: ArrayRef = Arc::new(Int32Array::from(vec![1, 2, 3]));
    let good = parquet_bytes(vec![("id", ids.clone()), ("nn", nn.clone())]);
    let mut out = vec![
        (
            parquet_bytes(vec![
                (
                    "id",
                    Arc::new(StringArray::from(vec!["1", "abc", "3"])) as ArrayRef,
                ),
                ("nn", nn.clone()),
            ]),
            vec!["id"],
        ),
        (parquet_bytes(vec![("id", ids.clone())]), vec!["nn"]),
        (
            parquet_bytes(vec![
                (
                    "id",
                    Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])) as ArrayRef,
                ),
                ("nn", nn.clone()),
            ]),
            vec!["id"],
        ),
        (
            parquet_bytes(vec![
                ("id", ids.clone()),
                ("nn", nn),
                (
                    "t",
                    Arc::new(Int64Array::from(vec![1, 1000, 3])) as ArrayRef,
                ),
            ]),
            vec!["t"],
        ),
        (
            b"PAR1 garbage between the magic bytes PAR1".to_vec(),
            vec![],
        ),
        (vec![], vec![]),
    ];
    for cut in [
        4,
        good.len() / 3,
        good.len() / 2,
        good.len() - 9,
        good.len() - 1,
    ] {
        out.push((good[..cut].to_vec(), vec![]));
    }
    let mut footer = good.clone();
    let n = footer.len();
    for b in &mut footer[n - 8..n - 4] {
        *b = !*b;
    }
    out.push((footer, vec![]));
    out
}

struct Case {
    what: String,
    format: &'static str,
    input: Vec<u8>,
    /// Written to this file and passed with --input (else stdin).
    file: Option<PathBuf>,
    needles: Vec<String>,
}

#[test]
fn hostile_input_is_a_clear_error_and_commits_nothing() {
    let Some(bin) = cli_binary() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wh = dir.path().join("wh").to_string_lossy().to_string();
    let table_dir = dir.path().join("wh").join("db.db").join("hostile");
    let ok = |args: &[&str], input: &[u8]| {
        let out = run_with_input(cli(&bin, &wh, args), input.to_vec());
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    ok(
        &["create", T, "--schema", SCHEMA, "--primary-key", "id"],
        b"",
    );
    ok(&["write", T, "--format", "json"], good_json(1).as_bytes());
    let before = ok(&["scan", T, "--output", "json"], b"");
    let files = count_files(&table_dir, ".parquet");

    let mut rng = Rng::new(2024);
    let mut cases = vec![];
    for (col, json, csv) in bad_values() {
        // The bad row goes at a seeded line among good rows.
        let at = 1 + rng.below(5) as i64;
        let mut j = String::new();
        for line in 1..=6 {
            if line == at {
                j.push_str(&format!("{{\"id\": 100, \"nn\": 7, \"{col}\": {json}}}\n"));
            } else {
                j.push_str(&good_json(line + 10));
            }
        }
        let short: String = json.chars().take(40).collect();
        cases.push(Case {
            what: format!("JSON {col} = {short}"),
            format: "json",
            input: j.into_bytes(),
            file: None,
            needles: vec![format!("line {at}"), format!("column {col}")],
        });
        if let Some(csv) = csv {
            let mut c = format!("id,nn,{col}\n");
            if col == "id" || col == "nn" {
                c = "id,nn\n".into();
            }
            for line in 1..=6 {
                let value = |v: &str| match col {
                    "id" => format!("{v},7\n"),
                    "nn" => format!("100,{v}\n"),
                    _ => format!("100,7,{v}\n"),
                };
                if line == at {
                    c.push_str(&value(&csv));
                } else if col == "id" || col == "nn" {
                    c.push_str(&format!("{},{}\n", line + 10, line + 10));
                } else {
                    c.push_str(&format!("{},{},\n", line + 10, line + 10));
                }
            }
            let short: String = csv.chars().take(40).collect();
            cases.push(Case {
                what: format!("CSV {col} = {short}"),
                format: "csv",
                input: c.into_bytes(),
                file: None,
                needles: vec![format!("line {}", at + 1), format!("column {col}")],
            });
        }
    }
    for (format, input, needles) in structural() {
        cases.push(Case {
            what: format!(
                "malformed {format} {:?}",
                String::from_utf8_lossy(&input[..input.len().min(40)])
            ),
            format,
            input,
            file: None,
            needles,
        });
    }
    for (i, (bytes, needles)) in parquet_cases().into_iter().enumerate() {
        let path = dir.path().join(format!("input-{i}.parquet"));
        let mut needles: Vec<String> = needles.iter().map(|s| s.to_string()).collect();
        needles.push(format!("input-{i}.parquet"));
        cases.push(Case {
            what: format!("parquet case {i} ({} bytes)", bytes.len()),
            format: "parquet",
            input: bytes,
            file: Some(path),
            needles,
        });
    }

    let total = cases.len();
    for case in cases {
        let mut args = vec![
            "write".to_string(),
            T.into(),
            "--format".into(),
            case.format.into(),
        ];
        let mut stdin = case.input.clone();
        if let Some(p) = &case.file {
            std::fs::write(p, &case.input).unwrap();
            args.push("--input".into());
            args.push(p.to_string_lossy().to_string());
            stdin.clear();
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run_with_input(cli(&bin, &wh, &args), stdin);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let what = &case.what;
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(stderr.starts_with("error: "), "{what}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("internal error"),
            "{what}: {stderr}"
        );
        if case.file.is_none() {
            assert!(
                stderr.contains("stdin"),
                "{what}: the error names the input: {stderr}"
            );
        }
        for n in &case.needles {
            assert!(
                stderr.contains(n.as_str()),
                "{what}: {stderr:.300} should mention {n:?}"
            );
        }
        assert_eq!(
            count_files(&table_dir, ".parquet"),
            files,
            "{what}: data files left behind"
        );
    }
    let snapshots = ok(&["snapshots", T, "--output", "json"], b"");
    assert_eq!(snapshots.lines().count(), 1, "nothing was committed");
    assert_eq!(ok(&["scan", T, "--output", "json"], b""), before);
    println!("hostile inputs: {total} malformed or out-of-range inputs tried, each a clear error, none committed");
}

/// One seeded damage of a file's bytes.
fn damaged(bytes: &[u8], k: usize, rng: &mut Rng) -> (String, Vec<u8>) {
    let n = bytes.len();
    if k < 8 {
        let cut = n * k / 8;
        return (
            format!("truncated to {cut} of {n} bytes"),
            bytes[..cut].to_vec(),
        );
    }
    let at = rng.below(n as u64) as usize;
    let mut b = bytes.to_vec();
    b[at] ^= 1 << rng.below(8);
    (format!("a bit flipped at byte {at} of {n}"), b)
}

#[tokio::test]
async fn damaged_table_files_are_errors_naming_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().to_str().unwrap().to_string();
    let table = crate::support::create_dt_table(
        &location,
        "db.t",
        "dt STRING, id BIGINT, v STRING",
        &[("bucket", "1")],
    )
    .await;
    let rows: Vec<Value> = (0..30)
        .map(|i| serde_json::json!({"dt": if i % 2 == 0 { "a" } else { "b" }, "id": i, "v": format!("v{i}")}))
        .collect();
    crate::support::write_commit(&table, &crate::support::inserts(rows.clone())).await;
    let expected = try_scan_rows(&table, None, None).await.unwrap();
    assert_eq!(expected.len(), 30);

    let snapshot = table.snapshot(1).await.unwrap();
    let manifests = table
        .read_manifest_list(&snapshot.delta_manifest_list)
        .await
        .unwrap();
    let plan = ScanBuilder::new(&table).plan().await.unwrap();
    let split = &plan.splits[0];
    let targets: Vec<(&str, String)> = vec![
        ("snapshot", table.snapshot_path(1).to_string()),
        ("schema", table.schema_path(0).to_string()),
        (
            "base manifest list",
            table
                .manifest_path(&snapshot.base_manifest_list)
                .to_string(),
        ),
        (
            "delta manifest list",
            table
                .manifest_path(&snapshot.delta_manifest_list)
                .to_string(),
        ),
        (
            "manifest",
            table.manifest_path(&manifests[0].file_name).to_string(),
        ),
        (
            "data file",
            split
                .bucket_dir(&table)
                .join(split.files[0].file_name.as_str())
                .to_string(),
        ),
    ];
    let mut rng = Rng::new(31);
    let (mut errors, mut harmless, mut silent) = (0, 0, vec![]);
    for (kind, rel) in &targets {
        let file = dir.path().join(rel);
        let original = std::fs::read(&file).unwrap();
        for k in 0..24 {
            let (how, bytes) = damaged(&original, k, &mut rng);
            std::fs::write(&file, &bytes).unwrap();
            let what = format!("{kind} {rel}: {how}");
            let loc = location.clone();
            let outcome = tokio::spawn(async move {
                let t = open_table(&loc, "db.t").await?;
                try_scan_rows(&t, None, None).await
            })
            .await;
            match outcome {
                Err(join) => panic!("{what}: the read panicked: {join}"),
                Ok(Err(e)) => {
                    let m = e.to_string();
                    assert!(
                        m.contains("db.db/t/") || m.contains("db.t"),
                        "{what}: the error names no file of the table: {m}"
                    );
                    assert!(!m.contains("panicked"), "{what}: {m}");
                    errors += 1;
                }
                Ok(Ok(got)) if got == expected => harmless += 1,
                Ok(Ok(got)) => silent.push(format!("{what}: {} rows read", got.len())),
            }
        }
        std::fs::write(&file, &original).unwrap();
        assert_same_rows(
            &try_scan_rows(&table, None, None).await.unwrap(),
            &expected,
            kind,
        );
    }
    let total = targets.len() * 24;
    println!(
        "damaged table files: {total} cases ({errors} errors naming a file, {harmless} flips a reader does not use, {} silently different rows{})",
        silent.len(),
        if silent.is_empty() { String::new() } else { format!(": {silent:?}") }
    );
    // Data pages carry no checksums (Paimon writes none), so a flipped bit inside a Parquet
    // page can change a value unnoticed; everything else must be caught.
    for s in &silent {
        assert!(
            s.starts_with("data file"),
            "metadata damage went unnoticed: {s}"
        );
    }
}

/// Every file under `dir`, recursively (links are not followed).
fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => out.extend(files_under(&p)),
            _ => out.push(p),
        }
    }
    out
}

/// Table identifiers with `..`, `/`, NUL, dots, empty parts, very long and non-UTF-8 text are
/// refused (by the parser, by the catalog for an identifier built by hand, by the CLI): no
/// file is ever made outside the warehouse.
#[tokio::test]
async fn untrusted_table_names_cannot_leave_the_warehouse() {
    use streamhouse::{Catalog, Identifier, TableSpec};
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("wh");
    let location = warehouse.to_str().unwrap().to_string();
    let catalog = Catalog::open(&location, Vec::<(String, String)>::new()).unwrap();
    let long = format!("db.{}", "t".repeat(10_000));
    let names = [
        "../x.t",
        "db.../t",
        "db./etc",
        "db.t/../../x",
        "..",
        "db..t",
        "a\0b.t",
        "db.t\0",
        ".db.t",
        "db.",
        ".t",
        "db.t.u",
        "db.%2e%2e",
        "db.a\\b",
        "/abs.t",
        "db. t",
    ];
    for name in names.iter().copied().chain([long.as_str()]) {
        let refused = match Identifier::parse(name) {
            Err(_) => true,
            Ok(id) => {
                let spec = TableSpec::parse("id BIGINT").unwrap();
                catalog.create_table(&id, spec, false).await.is_err()
            }
        };
        assert!(refused, "{:?} was accepted", &name[..name.len().min(40)]);
    }
    // Built by hand, skipping the parser.
    for (database, table) in [
        ("..", "escape"),
        ("db", "../../escape"),
        ("db/x", "t"),
        ("a\0", "t"),
    ] {
        let id = Identifier {
            database: database.into(),
            table: table.into(),
        };
        let spec = TableSpec::parse("id BIGINT").unwrap();
        let e = catalog.create_table(&id, spec, false).await.err();
        assert!(e.is_some(), "{database:?}.{table:?} was accepted");
        assert!(catalog.table(&id).await.is_err());
        assert!(catalog.drop_table(&id).await.is_err());
    }
    // A non-UTF-8 name on the command line.
    if let Some(bin) = cli_binary() {
        use std::os::unix::ffi::OsStrExt;
        let out = std::process::Command::new(&bin)
            .arg("--warehouse")
            .arg(&warehouse)
            .arg("create")
            .arg(std::ffi::OsStr::from_bytes(b"db.t\xff\xfe"))
            .args(["--schema", "id BIGINT"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
    let outside: Vec<_> = files_under(dir.path())
        .into_iter()
        .filter(|p| !p.starts_with(&warehouse))
        .collect();
    assert!(
        outside.is_empty(),
        "files outside the warehouse: {outside:?}"
    );
    assert!(
        files_under(&warehouse).is_empty(),
        "{:?}",
        files_under(&warehouse)
    );
}

/// Partition values holding `..`, `/`, `\`, NUL, `%` escapes and long text are escaped into
/// one directory name each: every file stays inside the table directory, and the rows read
/// back as written.
#[tokio::test]
async fn partition_values_with_path_characters_stay_inside_the_table() {
    use crate::support::{create_table, scan_rows, write_commit};
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("wh");
    let location = warehouse.to_str().unwrap().to_string();
    let table = create_table(
        &location,
        "db.parts",
        "p STRING, id BIGINT",
        &["p"],
        &[],
        &[("bucket", "-1")],
    )
    .await;
    let long = format!("{}{}", "é".repeat(20), "x".repeat(100));
    let values = [
        "../../escape",
        "..",
        ".",
        "a/b",
        "/abs",
        "a\\b",
        "x\0y",
        "%2E%2E%2F",
        "=",
        "bucket-0",
        long.as_str(),
        "",
    ];
    let rows: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, p)| serde_json::json!({"p": p, "id": i}))
        .collect();
    let records: Vec<(&str, Value)> = rows.iter().map(|r| ("+I", r.clone())).collect();
    write_commit(&table, &records).await;
    assert_same_rows(
        &scan_rows(&table, None, None).await,
        &rows,
        "partition values",
    );
    let table_dir = warehouse.join("db.db").join("parts");
    let all = files_under(dir.path());
    assert!(all.len() > values.len(), "{all:?}");
    for f in &all {
        assert!(
            f.starts_with(&table_dir),
            "{} is outside the table",
            f.display()
        );
    }
}

/// A symbolic link inside a local warehouse that leads outside it is refused: a database
/// directory linked elsewhere cannot hold a new table, and a bucket directory linked elsewhere
/// is neither cleaned by `clean-orphans` nor deleted by dropping the table; the files it
/// points at stay.
#[tokio::test]
async fn symlinks_out_of_a_local_warehouse_are_refused() {
    use std::time::Duration;
    use streamhouse::{Catalog, Identifier, TableSpec};
    use streamhouse_format::io::orphans::clean_orphans;
    let dir = tempfile::tempdir().unwrap();
    let warehouse = dir.path().join("wh");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&warehouse).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("data-victim.parquet");
    std::fs::write(&victim, b"not the warehouse's").unwrap();
    std::os::unix::fs::symlink(&outside, warehouse.join("linked.db")).unwrap();
    let location = warehouse.to_str().unwrap().to_string();
    let catalog = Catalog::open(&location, Vec::<(String, String)>::new()).unwrap();
    let id = Identifier::parse("linked.t").unwrap();
    let spec = TableSpec::parse("id BIGINT").unwrap();
    let Err(e) = catalog.create_table(&id, spec, false).await else {
        panic!("a table in a database linked outside the warehouse was created");
    };
    assert!(e.to_string().contains("outside the warehouse"), "{e}");
    assert_eq!(files_under(&outside), vec![victim.clone()]);

    // A real table whose bucket directory is then linked elsewhere.
    let table = crate::support::create_table(
        &location,
        "db.t",
        "id BIGINT",
        &[],
        &[],
        &[("bucket", "-1")],
    )
    .await;
    let rows = [("+I", serde_json::json!({"id": 1}))];
    crate::support::write_commit(&table, &rows).await;
    let table_dir = warehouse.join("db.db").join("t");
    std::os::unix::fs::symlink(&outside, table_dir.join("bucket-9")).unwrap();
    let e = clean_orphans(&table, Duration::ZERO, false).await.err();
    assert!(e.is_some_and(|e| e.to_string().contains("outside the warehouse")));
    assert!(
        victim.exists(),
        "clean-orphans deleted a file outside the warehouse"
    );
    let e = catalog
        .drop_table(&Identifier::parse("db.t").unwrap())
        .await
        .err();
    assert!(e.is_some(), "drop followed the link");
    assert!(
        victim.exists(),
        "dropping the table deleted a file outside the warehouse"
    );
}

/// Credentials never show: not in the error for a URL carrying them, not in a FileIO's or a
/// table's `Debug`, not in a storage error, not in the CLI's errors or `--stats` output.
#[tokio::test]
async fn credentials_never_appear_in_errors_debug_or_stats() {
    use streamhouse_format::io::{open_warehouse, open_warehouse_with};
    const SECRET: &str = "sUp3rS3cr3tKeyDoNotPrint";
    let Err(e) = open_warehouse(&format!("s3://AKIAEXAMPLE:{SECRET}@lake/wh")) else {
        panic!("credentials in the URL were accepted");
    };
    assert!(!format!("{e} {e:?}").contains(SECRET), "{e}");
    let options = [
        ("aws_access_key_id", "AKIAEXAMPLE"),
        ("aws_secret_access_key", SECRET),
        ("aws_endpoint", "http://127.0.0.1:9"),
        ("aws_allow_http", "true"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let (io, root) = open_warehouse_with("s3://lake/wh", &options).unwrap();
    assert!(!format!("{io:?}").contains(SECRET), "{io:?}");
    let bad_key = [("aws_secret_access_key_typo".to_string(), SECRET.to_string())];
    if let Err(e) = open_warehouse_with("s3://lake/wh", &bad_key) {
        assert!(!format!("{e} {e:?}").contains(SECRET), "{e}");
    }
    drop((io, root));
    // The CLI against the S3 server with the secret in its environment: an error, and the
    // --stats of a scan.
    let (Some(bin), Some(_)) = (cli_binary(), crate::interop_support::s3_endpoint()) else {
        return;
    };
    let location = format!("s3://lake/{}", crate::support::unique("creds"));
    let run = |args: &[&str]| {
        let mut c = cli(&bin, &location, args);
        c.env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("RUST_LOG", "debug");
        run_with_input(c, vec![])
    };
    let out = run(&["create", "db.c", "--schema", "id BIGINT"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for args in [
        &["scan", "db.c", "--stats"][..],
        &["scan", "db.missing", "--stats"][..],
        &["snapshots", "db.c"][..],
    ] {
        let out = run(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains(SECRET), "{args:?}: {text}");
    }
}
