//! Help, creation defaults, inspection, scan options, append tables, big inputs, the demo.

use super::*;

#[test]
fn every_command_explains_itself() {
    let wh = Wh::new();
    let top = wh.ok(&["--help"]);
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
        let help = wh.ok(&[cmd, "--help"]);
        assert!(
            help.contains("Example"),
            "{cmd} --help has no example:\n{help}"
        );
    }
    let write = wh.ok(&["write", "--help"]);
    for needle in ["rowkind", "base64", "DECIMAL", "TIMESTAMP", "stdin"] {
        assert!(
            write.contains(needle),
            "write --help should explain {needle}"
        );
    }
    assert!(wh.ok(&["create", "--help"]).contains("bucket=1"));
}

#[test]
fn create_defaults_and_inspection_output() {
    let wh = Wh::with_table("db.pk", "id BIGINT NOT NULL, v STRING", "--primary-key id");
    wh.create("db.log", "ts TIMESTAMP(3), msg STRING", "");
    wh.create(
        "db.wide",
        "dt STRING, id INT, v DOUBLE",
        "--primary-key dt,id --partition-by dt --option bucket=2",
    );
    let schema = |t: &str| -> Value {
        serde_json::from_str(&wh.ok(&["schema", t, "--output", "json"])).unwrap()
    };
    assert_eq!(schema("db.pk")["options"]["bucket"], "1");
    assert_eq!(schema("db.log")["options"]["bucket"], "-1");
    let wide = schema("db.wide");
    assert_eq!(wide["options"]["bucket"], "2");
    assert_eq!(wide["partitionKeys"][0], "dt");
    assert_eq!(wide["fields"][0]["type"], "STRING NOT NULL");
    let tables = wh.ok(&["tables", "--output", "json"]);
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
    let snaps = json_lines(&wh.ok(&["snapshots", "db.wide", "--output", "json"]));
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
    let files = json_lines(&wh.ok(&["files", "db.wide", "--output", "json"]));
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
    let old = wh.ok(&["files", "db.wide", "--snapshot", "1", "--output", "csv"]);
    assert!(
        old.starts_with("partition,bucket,level,file,rows,size,min_seq,max_seq\n"),
        "{old}"
    );
    let table = wh.ok(&["files", "db.wide"]);
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
    let wh = Wh::with_table(
        "db.t",
        "id INT NOT NULL, name STRING, price DECIMAL(6, 2)",
        "--primary-key id",
    );
    assert_eq!(wh.ok(&["scan", "db.t", "--output", "json"]), "");
    assert!(wh.ok(&["scan", "db.t"]).contains("0 rows"));
    assert_eq!(
        wh.ok(&["scan", "db.t", "--output", "csv", "--columns", "name,id"]),
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
    let table = wh.ok(&["scan", "db.t", "--limit", "3"]);
    assert!(
        table.contains("| id |") && table.contains("3 rows"),
        "{table}"
    );
    let out = wh.path().join("t.csv");
    wh.ok(&[
        "scan",
        "db.t",
        "--output",
        "csv",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 21);
}

#[test]
fn append_tables_keep_every_row_and_empty_input_commits_nothing() {
    let wh = Wh::with_table("logs.events", "level STRING, msg STRING", "");
    let out = wh.write("logs.events", "csv", "level,msg\n");
    assert!(out.contains("nothing committed"), "{out}");
    assert_eq!(wh.snapshot_count("logs.events"), 0);
    wh.write("logs.events", "csv", "level,msg\nINFO,a\nWARN,b\n");
    wh.write("logs.events", "csv", "level,msg\nINFO,a\n");
    assert_eq!(wh.scan_json("logs.events", &[]).len(), 3);
}

#[test]
fn big_inputs_stream_in_batches() {
    let wh = Wh::with_table("db.big", "id BIGINT NOT NULL, v STRING", "--primary-key id");
    let mut csv = String::from("id,v\n");
    for i in 0..30_000 {
        csv.push_str(&format!("{i},value-{i}\n"));
    }
    let file = wh.file("big.csv", csv.as_bytes());
    let out = wh.ok(&["write", "db.big", "--input", &file, "--batch-rows", "4096"]);
    assert!(out.contains("wrote 30000 rows"), "{out}");
    assert_eq!(
        wh.ok(&["scan", "db.big", "--output", "csv"])
            .lines()
            .count(),
        30_001
    );
}

#[test]
fn warehouse_from_the_environment() {
    let wh = Wh::new();
    let dir = wh.path().join("env-wh");
    let args = ["create", "db.t", "--schema", "id INT"];
    let mut create = Command::new(BIN);
    create.args(args).env("STREAMHOUSE_WAREHOUSE", &dir);
    succeeded(create.output().expect("run streamhouse"), &args);
    assert!(dir.join("db.db/t/schema/schema-0").exists());
}

#[test]
fn demo_runs_twice_and_leaves_a_table_to_explore() {
    let wh = Wh::new();
    for _ in 0..2 {
        let out = wh.ok(&["demo"]);
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
